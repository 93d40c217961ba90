/**
 * @file
 * The neighbour table of one interface on one lcore and the output path that uses it.
 *
 * Open addressing on a hash of the IPv4 address with bounded probing: an address lives in one
 * of the SL_NEIGH_PROBE slots after its hash, and a lookup looks at all of them (freeing an
 * entry therefore needs no tombstone). When the window is full, the stalest resolved entry
 * is evicted; entries still resolving hold queued packets and are never evicted.
 *
 * States (RFC 826 for the mapping, RFC 1122 2.3.2.1 for its validation):
 *
 *   FREE --output--> INCOMPLETE --ARP / neigh_update--> REACHABLE --reachable_us--> STALE
 *                    | max_tries requests unanswered:           ^                      |
 *                    v queued packets dropped, freed            +-- ARP / update ------+
 *                   FREE                               used: request; max_tries unanswered:
 *                                                      freed (neigh_expired)
 */
#include <string.h>

#include "net-priv.h"

#define SL_NEIGH_PROBE 8 /* slots looked at per address */

_Static_assert((SL_NEIGH_TABLE_SIZE & (SL_NEIGH_TABLE_SIZE - 1)) == 0,
	       "SL_NEIGH_TABLE_SIZE must be a power of two");
_Static_assert(SL_NEIGH_PROBE <= SL_NEIGH_TABLE_SIZE, "probe window larger than the table");
_Static_assert(SL_NEIGH_PENDING_MAX <= UINT8_MAX, "n_pending is a uint8_t");

static unsigned int
neigh_hash(struct sl_ip4 ip)
{
	/* Multiplicative hashing: bits 16..31 of the product depend on all the low bits of the
	 * address, which are the ones that differ between neighbours of one subnet. */
	return (ip.v * 0x9e3779b1u) >> 16;
}

static int
neigh_slot(const struct sl_net_if *nif, struct sl_ip4 ip)
{
	unsigned int h = neigh_hash(ip);
	unsigned int i, s;

	for (i = 0; i < SL_NEIGH_PROBE; i++) {
		s = (h + i) & (SL_NEIGH_TABLE_SIZE - 1);
		if (nif->neigh[s].state != SL_NEIGH_FREE && sl_ip4_eq(nif->neigh[s].ip, ip))
			return (int)s;
	}
	return -1;
}

struct sl_neigh *
sl_net__neigh_lookup(struct sl_net_if *nif, struct sl_ip4 ip)
{
	int s = neigh_slot(nif, ip);

	return s < 0 ? NULL : &nif->neigh[s];
}

const struct sl_neigh *
sl_net_neigh_find(const struct sl_net_if *nif, struct sl_ip4 ip)
{
	int s = neigh_slot(nif, ip);

	return s < 0 ? NULL : &nif->neigh[s];
}

int
sl_net__neigh_learnable(const struct sl_net_if *nif, struct sl_ip4 ip, const uint8_t *mac)
{
	return ip.v != 0 && !sl_ip4_eq(ip, nif->conf.addr) && !sl_net__mac_is_group(mac) &&
	       !sl_net__mac_is_zero(mac);
}

/* Whether <a> is a better victim than <b>: STALE before REACHABLE, then the older. */
static int
neigh_evict_before(const struct sl_neigh *a, const struct sl_neigh *b)
{
	if (a->state != b->state)
		return a->state == SL_NEIGH_STALE;
	return a->updated_us < b->updated_us;
}

struct sl_neigh *
sl_net__neigh_insert(struct sl_net_if *nif, struct sl_ip4 ip)
{
	struct sl_neigh *slot = NULL;
	struct sl_neigh *n;
	unsigned int h = neigh_hash(ip);
	unsigned int i;

	for (i = 0; i < SL_NEIGH_PROBE; i++) {
		n = &nif->neigh[(h + i) & (SL_NEIGH_TABLE_SIZE - 1)];
		/* n is &nif->neigh[i], never NULL; the analyzer thinks otherwise. */
		/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
		if (n->state == SL_NEIGH_FREE) {
			slot = n;
			break;
		}
		/* INCOMPLETE entries own queued packets: never evicted. */
		if (n->state == SL_NEIGH_INCOMPLETE)
			continue;
		if (slot == NULL || neigh_evict_before(n, slot))
			slot = n;
	}
	if (slot == NULL)
		return NULL;
	memset(slot, 0, sizeof(*slot));
	slot->ip = ip;
	return slot;
}

/*
 * neigh_flush(<nif>, <n>): send the packets queued on resolved entry <n> with its MAC. The
 * queue is emptied before ops->tx runs, so a callback that sends again finds a sane entry.
 */
static void
neigh_flush(struct sl_net_if *nif, struct sl_neigh *n)
{
	void *pkt[SL_NEIGH_PENDING_MAX];
	uint8_t *frame[SL_NEIGH_PENDING_MAX];
	uint16_t len[SL_NEIGH_PENDING_MAX];
	unsigned int i, cnt = n->n_pending;

	for (i = 0; i < cnt; i++) {
		pkt[i] = n->pending[i];
		frame[i] = n->pending_frame[i];
		len[i] = n->pending_len[i];
		sl_net__eth_write(frame[i], n->mac.b, nif->conf.mac.b, SL_ETHERTYPE_IPV4);
		n->pending[i] = NULL;
		n->pending_frame[i] = NULL;
		n->pending_len[i] = 0;
	}
	n->n_pending = 0;
	for (i = 0; i < cnt; i++) {
		nif->stats.tx_ip++;
		nif->ops->tx(nif->user, pkt[i], len[i]);
	}
}

int
sl_net__neigh_resolve(struct sl_net_if *nif, struct sl_neigh *n, const uint8_t *mac,
		      uint64_t now_us)
{
	int changed = n->state == SL_NEIGH_FREE || n->state == SL_NEIGH_INCOMPLETE ||
		      !sl_net__mac_eq(n->mac.b, mac);

	memcpy(n->mac.b, mac, SL_MAC_LEN);
	n->state = SL_NEIGH_REACHABLE;
	n->tries = 0;
	n->updated_us = now_us;
	n->next_try_us = 0;
	neigh_flush(nif, n);
	return changed;
}

/*
 * sl_net_neigh_update(<nif>, <ip>, <mac>, <now_us>): what another lcore learned from ARP,
 * delivered on this interface's lcore. Creates or confirms the entry and sends what was
 * queued. Never calls ops->neigh_learned: that would echo the update back and forth.
 */
void
sl_net_neigh_update(struct sl_net_if *nif, struct sl_ip4 ip, const struct sl_mac *mac,
		    uint64_t now_us)
{
	struct sl_neigh *n;

	if (!sl_net__neigh_learnable(nif, ip, mac->b))
		return;
	n = sl_net__neigh_lookup(nif, ip);
	if (n == NULL)
		n = sl_net__neigh_insert(nif, ip);
	if (n != NULL)
		sl_net__neigh_resolve(nif, n, mac->b, now_us);
}

/* Send the next request for <n>, to <eth_dst> or broadcast, and schedule the one after. */
static void
neigh_solicit(struct sl_net_if *nif, struct sl_neigh *n, const uint8_t *eth_dst, uint64_t now_us)
{
	/* A failed allocation still uses up a try: the table must not wait forever. */
	if (sl_net__arp_send_request(nif, eth_dst, n->ip) == 0)
		nif->stats.tx_arp_request++;
	if (n->tries < UINT8_MAX)
		n->tries++;
	n->next_try_us = now_us + nif->conf.neigh.retry_us;
}

/* A REACHABLE entry not confirmed for reachable_us becomes STALE (RFC 1122 2.3.2.1). */
static void
neigh_age(const struct sl_net_if *nif, struct sl_neigh *n, uint64_t now_us)
{
	if (n->state == SL_NEIGH_REACHABLE && now_us >= n->updated_us &&
	    now_us - n->updated_us >= nif->conf.neigh.reachable_us) {
		n->state = SL_NEIGH_STALE;
		n->tries = 0;
		n->next_try_us = 0;
	}
}

static void
neigh_enqueue(struct sl_neigh *n, void *pkt, uint8_t *frame, uint16_t len)
{
	n->pending[n->n_pending] = pkt;
	n->pending_frame[n->n_pending] = frame;
	n->pending_len[n->n_pending] = len;
	n->n_pending++;
}

/* A next hop we can ARP for: not zero, broadcast or multicast (RFC 1122 3.3.6). */
static int
neigh_next_hop_ok(struct sl_ip4 nh)
{
	return nh.v != 0 && nh.v != 0xffffffffu && (nh.v >> 28) != 0xe;
}

/*
 * sl_net_output(<nif>, <pkt>, <frame>, <len>, <dst>, <now_us>): route, then resolve the next
 * hop. A known MAC (REACHABLE or STALE) sends at once; an unknown one queues the packet and
 * sends a broadcast request; a STALE one used for the first time since it aged also sends a
 * unicast request to the old MAC (RFC 1122 2.3.2.1 "unicast poll"), further requests being
 * the timer's. Runs on the owning lcore.
 */
enum sl_net_verdict
sl_net_output(struct sl_net_if *nif, void *pkt, uint8_t *frame, uint16_t len, struct sl_ip4 dst,
	      uint64_t now_us)
{
	struct sl_net_stats *st = &nif->stats;
	struct sl_ip4 next_hop;
	struct sl_neigh *n;

	if (SL_UNLIKELY(len < SL_ETH_HLEN + SL_IP4_HLEN))
		return sl_net__drop(&st->drop_truncated);
	if (sl_net_route(nif, dst, &next_hop) != 0 || !neigh_next_hop_ok(next_hop))
		return sl_net__drop(&st->drop_no_route);

	n = sl_net__neigh_lookup(nif, next_hop);
	if (n == NULL) {
		n = sl_net__neigh_insert(nif, next_hop);
		/* Every slot of the window is resolving: as good as a full queue. */
		if (n == NULL)
			return sl_net__drop(&st->drop_arp_queue_full);
		n->state = SL_NEIGH_INCOMPLETE;
		neigh_enqueue(n, pkt, frame, len);
		neigh_solicit(nif, n, NULL, now_us);
		return SL_NET_QUEUED;
	}
	if (n->state == SL_NEIGH_INCOMPLETE) {
		if (n->n_pending >= SL_NEIGH_PENDING_MAX)
			return sl_net__drop(&st->drop_arp_queue_full);
		neigh_enqueue(n, pkt, frame, len);
		return SL_NET_QUEUED;
	}

	neigh_age(nif, n, now_us);
	if (n->state == SL_NEIGH_STALE && n->tries == 0)
		neigh_solicit(nif, n, n->mac.b, now_us);
	sl_net__eth_write(frame, n->mac.b, nif->conf.mac.b, SL_ETHERTYPE_IPV4);
	st->tx_ip++;
	return SL_NET_TX;
}

/* Give up on INCOMPLETE entry <n>: free what it queued, then the entry. */
static void
neigh_give_up(struct sl_net_if *nif, struct sl_neigh *n)
{
	void *pkt[SL_NEIGH_PENDING_MAX];
	unsigned int i, cnt = n->n_pending;

	for (i = 0; i < cnt; i++)
		pkt[i] = n->pending[i];
	memset(n, 0, sizeof(*n));
	for (i = 0; i < cnt; i++) {
		nif->stats.drop_arp_unresolved++;
		nif->ops->free(nif->user, pkt[i]);
	}
}

/*
 * sl_net_timer(<nif>, <now_us>): walk the table. INCOMPLETE entries get a broadcast request
 * every retry_us and are given up after max_tries. REACHABLE entries age to STALE. STALE
 * entries being refreshed (they were used) get a broadcast request every retry_us, in case
 * the neighbour changed its MAC, and are freed when max_tries requests went unanswered,
 * that is max_tries * retry_us after the first. STALE entries nobody uses stay until evicted.
 */
void
sl_net_timer(struct sl_net_if *nif, uint64_t now_us)
{
	uint8_t max_tries = nif->conf.neigh.max_tries;
	struct sl_neigh *n;
	unsigned int i;

	for (i = 0; i < SL_NEIGH_TABLE_SIZE; i++) {
		n = &nif->neigh[i];
		switch (n->state) {
		case SL_NEIGH_INCOMPLETE:
			if (now_us < n->next_try_us)
				break;
			if (n->tries >= max_tries)
				neigh_give_up(nif, n);
			else
				neigh_solicit(nif, n, NULL, now_us);
			break;
		case SL_NEIGH_REACHABLE:
			neigh_age(nif, n, now_us);
			break;
		case SL_NEIGH_STALE:
			if (n->tries == 0 || now_us < n->next_try_us)
				break;
			if (n->tries >= max_tries) {
				memset(n, 0, sizeof(*n));
				nif->stats.neigh_expired++;
			} else {
				neigh_solicit(nif, n, NULL, now_us);
			}
			break;
		default:
			break;
		}
	}
}
