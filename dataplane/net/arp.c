/**
 * @file
 * ARP for IPv4 over Ethernet (RFC 826): answering requests for our address in place, the
 * merge of what received packets teach into the neighbour table, and sending requests and
 * gratuitous ARPs. The neighbour table itself (states, queueing, timers) is in neigh.c.
 */
#include <errno.h>
#include <string.h>

#include "net-priv.h"

static const uint8_t arp_bcast[SL_MAC_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t arp_zero[SL_MAC_LEN];

/* Write an Ethernet/IPv4 ARP body at <arp> (28 bytes). */
static void
arp_write(uint8_t *arp, uint16_t op, const uint8_t *sha, struct sl_ip4 spa, const uint8_t *tha,
	  struct sl_ip4 tpa)
{
	sl_wr_be16(arp + SL_ARP_HRD, SL_ARP_HRD_ETHER);
	sl_wr_be16(arp + SL_ARP_PRO, SL_ETHERTYPE_IPV4);
	arp[SL_ARP_HLN] = SL_MAC_LEN;
	arp[SL_ARP_PLN] = 4;
	sl_wr_be16(arp + SL_ARP_OP, op);
	memcpy(arp + SL_ARP_SHA, sha, SL_MAC_LEN);
	sl_wr_be32(arp + SL_ARP_SPA, spa.v);
	memcpy(arp + SL_ARP_THA, tha, SL_MAC_LEN);
	sl_wr_be32(arp + SL_ARP_TPA, tpa.v);
}

/*
 * arp_learn(<nif>, <n>, <sha>, <now_us>, <reply_for_us>): record <sha> for entry <n> and send
 * what waited for it. A new or changed MAC is counted in neigh_learned and shared with the
 * other lcores through ops->neigh_learned. So is a reply addressed to us even when nothing
 * changed here: replies land on one RX queue only, and the request may have come from
 * another lcore that is waiting for exactly this answer.
 */
static void
arp_learn(struct sl_net_if *nif, struct sl_neigh *n, const uint8_t *sha, uint64_t now_us,
	  int reply_for_us)
{
	int changed = sl_net__neigh_resolve(nif, n, sha, now_us);

	if (changed)
		nif->stats.neigh_learned++;
	if ((changed || reply_for_us) && nif->ops->neigh_learned != NULL)
		nif->ops->neigh_learned(nif->user, n->ip, &n->mac);
}

/*
 * sl_net__arp_input(<nif>, <frame>, <data_len>, <now_us>, <res>): the reception algorithm of
 * RFC 826, then a reply written over the request when it asks for our address. Ethernet
 * padding after the 28 ARP bytes is ignored and not sent back.
 */
enum sl_net_verdict
sl_net__arp_input(struct sl_net_if *nif, uint8_t *frame, uint16_t data_len, uint64_t now_us,
		  struct sl_net_result *res)
{
	struct sl_net_stats *st = &nif->stats;
	uint8_t *arp = frame + SL_ETH_HLEN;
	uint8_t sha[SL_MAC_LEN];
	struct sl_ip4 spa, tpa;
	struct sl_neigh *n;
	int for_us, gratuitous;
	uint16_t op;

	if (SL_UNLIKELY(data_len < SL_ARP_FRAME_LEN))
		return sl_net__drop(&st->drop_truncated);
	/* RFC 826 "Packet Reception": ?Do I have the hardware type in ar$hrd? ?Do I speak the
	 * protocol in ar$pro? With the sizes that go with Ethernet and IPv4. */
	if (sl_rd_be16(arp + SL_ARP_HRD) != SL_ARP_HRD_ETHER ||
	    sl_rd_be16(arp + SL_ARP_PRO) != SL_ETHERTYPE_IPV4 || arp[SL_ARP_HLN] != SL_MAC_LEN ||
	    arp[SL_ARP_PLN] != 4)
		return sl_net__drop(&st->drop_bad_arp);
	/* RFC 826 defines REQUEST and REPLY; RARP (RFC 903) and InARP have ops of their own. */
	op = sl_rd_be16(arp + SL_ARP_OP);
	if (op != SL_ARP_OP_REQUEST && op != SL_ARP_OP_REPLY)
		return sl_net__drop(&st->drop_bad_arp);

	memcpy(sha, arp + SL_ARP_SHA, SL_MAC_LEN);
	spa = sl_net__rd_ip4(arp + SL_ARP_SPA);
	tpa = sl_net__rd_ip4(arp + SL_ARP_TPA);
	/* RFC 5227 section 3: an announcement carries the sender's address as the target too,
	 * as a request or a reply. It is counted with the replies: nobody asked a question. */
	gratuitous = sl_ip4_eq(spa, tpa);
	if (op == SL_ARP_OP_REQUEST && !gratuitous)
		st->rx_arp_request++;
	else
		st->rx_arp_reply++;
	for_us = sl_ip4_eq(tpa, nif->conf.addr);

	/* Probes from 0.0.0.0 (RFC 5227 2.1.1), claims of our own address and group sender
	 * MACs teach nothing. */
	if (sl_net__neigh_learnable(nif, spa, sha)) {
		/* RFC 826: "If the pair <protocol type, sender protocol address> is already in my
		 * translation table, update the sender hardware address field of the entry with
		 * the new information in the packet and set Merge_flag to true." */
		n = sl_net__neigh_lookup(nif, spa);
		/* RFC 826: "?Am I the target protocol address? Yes: If Merge_flag is false, add
		 * the triplet <protocol type, sender protocol address, sender hardware address>
		 * to the translation table." */
		if (n == NULL && for_us)
			n = sl_net__neigh_insert(nif, spa);
		if (n != NULL)
			arp_learn(nif, n, sha, now_us, for_us && op == SL_ARP_OP_REPLY);
	}

	if (!for_us) {
		if (op == SL_ARP_OP_REQUEST && !gratuitous)
			return sl_net__drop(&st->drop_arp_not_for_us);
		/* A reply or an announcement: the merge above was all there was to do. */
		return SL_NET_DROP;
	}
	/* Replies to us, and announcements of our own address (ours looping back, or another
	 * host claiming it), need no answer. */
	if (op != SL_ARP_OP_REQUEST || gratuitous)
		return SL_NET_DROP;
	/* A reply would go to this address: refuse to answer to a group or to nobody. */
	if (sl_net__mac_is_group(sha) || sl_net__mac_is_zero(sha))
		return sl_net__drop(&st->drop_bad_arp);

	/* RFC 826: "Swap hardware and protocol fields, putting the local hardware and protocol
	 * addresses in the sender fields. Set the ar$op field to ares_op$REPLY. Send the packet
	 * to the (new) target hardware address on the same hardware on which the request was
	 * received." */
	arp_write(arp, SL_ARP_OP_REPLY, nif->conf.mac.b, nif->conf.addr, sha, spa);
	sl_net__eth_write(frame, sha, nif->conf.mac.b, SL_ETHERTYPE_ARP);
	res->tx_len = SL_ARP_FRAME_LEN;
	st->tx_arp_reply++;
	return SL_NET_TX;
}

/* Allocate, fill and send one ARP request; see net-priv.h. */
int
sl_net__arp_send_request(struct sl_net_if *nif, const uint8_t *eth_dst, struct sl_ip4 target)
{
	uint8_t *frame = NULL;
	void *pkt;

	pkt = nif->ops->alloc(nif->user, &frame, SL_ARP_FRAME_LEN);
	if (pkt == NULL)
		return -ENOBUFS;
	/* RFC 826: "ar$tha ... is not known": zero, as Linux and RFC 5227 2.1.1 send it. */
	sl_net__eth_write(frame, eth_dst != NULL ? eth_dst : arp_bcast, nif->conf.mac.b,
			  SL_ETHERTYPE_ARP);
	arp_write(frame + SL_ETH_HLEN, SL_ARP_OP_REQUEST, nif->conf.mac.b, nif->conf.addr, arp_zero,
		  target);
	nif->ops->tx(nif->user, pkt, SL_ARP_FRAME_LEN);
	return 0;
}

/*
 * sl_net_garp(<nif>): announce our address so that neighbours and switches update their
 * tables (after start or a failover). RFC 5227 section 3: an ARP Announcement is a broadcast
 * request with sender and target protocol addresses both ours and a zero target MAC.
 */
int
sl_net_garp(struct sl_net_if *nif)
{
	if (sl_net__arp_send_request(nif, NULL, nif->conf.addr) != 0)
		return -ENOBUFS;
	nif->stats.tx_garp++;
	return 0;
}
