/**
 * @file
 * ARP resolution and the neighbour table, driven through the public API with fake ops:
 * queueing and flushing, retries and give-up, STALE refresh and expiry, updates from other
 * lcores, the RFC 826 merge rule, and a full table.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "frames.h"
#include "net-test.h"

static struct fake F;
static struct sl_net_if NIF;

static const uint8_t peer_mac[6] = {T_PEER_MAC_BYTES};
static const uint8_t our_mac[6] = {T_OUR_MAC_BYTES};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

#define PEER T_IP4(198, 18, 0, 1)
#define S (1000000ull) /* one second in microseconds */

/* A locally originated packet to <dst>: 14 bytes of room then an IPv4 header (content is
 * irrelevant here; byte 14 marks which packet it is). */
static struct fake_pkt *
out_pkt(uint8_t mark)
{
	struct fake_pkt *p = fake_get(&F);

	memset(p->buf, 0xaa, 14);
	p->buf[14] = 0x45;
	p->buf[15] = mark;
	return p;
}

static enum sl_net_verdict
output(struct fake_pkt *p, struct sl_ip4 dst, uint64_t now)
{
	return sl_net_output(&NIF, p, p->buf, 60, dst, now);
}

static void
input(const uint8_t *frame, uint16_t len, uint64_t now, enum sl_net_verdict expect)
{
	uint8_t buf[64];
	struct sl_net_result res;

	memcpy(buf, frame, len);
	cr_assert_eq(sl_net_input(&NIF, buf, len, len, now, &res), expect);
}

/* Check that tx record <i> is an IPv4 packet to <mac> carrying mark <mark>. */
static void
expect_ip_tx(unsigned int i, const uint8_t *mac, uint8_t mark)
{
	cr_assert_lt(i, F.n_tx);
	cr_expect_arr_eq(F.tx[i].bytes, mac, 6, "tx %u: Ethernet dst", i);
	cr_expect_arr_eq(F.tx[i].bytes + 6, our_mac, 6, "tx %u: Ethernet src", i);
	cr_expect_eq(F.tx[i].bytes[12], 0x08);
	cr_expect_eq(F.tx[i].bytes[13], 0x00);
	cr_expect_eq(F.tx[i].bytes[15], mark, "tx %u: packet %u sent", i, F.tx[i].bytes[15]);
	cr_expect_eq(F.tx[i].len, 60);
}

/* Check that tx record <i> is our ARP request for <ip> sent to <eth_dst>. */
static void
expect_arp_request(unsigned int i, const uint8_t *eth_dst, struct sl_ip4 ip)
{
	uint8_t want[42];

	cr_assert_lt(i, F.n_tx);
	memcpy(want, arp_req_from_us, sizeof(want));
	memcpy(want, eth_dst, 6);
	want[38] = (uint8_t)(ip.v >> 24);
	want[39] = (uint8_t)(ip.v >> 16);
	want[40] = (uint8_t)(ip.v >> 8);
	want[41] = (uint8_t)ip.v;
	cr_expect_eq(F.tx[i].len, 42, "tx %u", i);
	cr_expect_arr_eq(F.tx[i].bytes, want, 42, "tx %u: ARP request bytes", i);
}

static void
done(void)
{
	cr_expect_eq(fake_live(&F), 0, "packets leaked");
}

Test(neigh, unknown_next_hop_queues_and_requests)
{
	struct fake_pkt *p;
	const struct sl_neigh *n;

	t_if_init(&NIF, &F, &t_routes);
	p = out_pkt(1);
	cr_assert_eq(output(p, PEER, 0), SL_NET_QUEUED);
	cr_assert_eq(F.n_tx, 1);
	/* Exactly the bytes of RFC 826's request, broadcast. */
	cr_expect_arr_eq(F.tx[0].bytes, arp_req_from_us, 42);
	cr_expect_eq(F.tx[0].len, 42);
	cr_expect_eq(NIF.stats.tx_arp_request, 1);
	n = sl_net_neigh_find(&NIF, PEER);
	cr_assert_not_null(n);
	cr_expect_eq(n->state, SL_NEIGH_INCOMPLETE);
	cr_expect_eq(n->n_pending, 1);

	/* The reply flushes the queue with the learned MAC. */
	input(arp_reply_to_us, 42, 5000, SL_NET_DROP);
	cr_assert_eq(F.n_tx, 2);
	expect_ip_tx(1, peer_mac, 1);
	cr_expect_eq(F.tx[1].pkt, p);
	cr_expect_eq(n->state, SL_NEIGH_REACHABLE);
	cr_expect_eq(n->n_pending, 0);
	cr_expect_arr_eq(n->mac.b, peer_mac, 6);
	cr_expect_eq(n->updated_us, 5000);
	cr_expect_eq(NIF.stats.neigh_learned, 1);
	cr_expect_eq(NIF.stats.rx_arp_reply, 1);
	cr_expect_eq(NIF.stats.tx_ip, 1);
	cr_expect_eq(F.n_learned, 1);
	cr_expect_eq(F.learned_ip.v, PEER.v);
	cr_expect_arr_eq(F.learned_mac.b, peer_mac, 6);

	/* Known now: sent at once with the Ethernet header written. */
	p = out_pkt(2);
	cr_assert_eq(output(p, PEER, 6000), SL_NET_TX);
	cr_expect_arr_eq(p->buf, peer_mac, 6);
	cr_expect_arr_eq(p->buf + 6, our_mac, 6);
	cr_expect_eq(p->buf[12], 0x08);
	cr_expect_eq(p->buf[13], 0x00);
	cr_expect_eq(NIF.stats.tx_ip, 2);
	cr_expect_eq(F.n_tx, 2);
	fake_put(p);
	done();
}

Test(neigh, via_gateway_resolves_the_gateway)
{
	struct fake_pkt *p;

	t_if_init(&NIF, &F, &t_routes);
	p = out_pkt(1);
	cr_assert_eq(output(p, T_IP4(10, 1, 2, 3), 0), SL_NET_QUEUED);
	expect_arp_request(0, bcast, T_IP4(198, 18, 0, 12));
	cr_expect_not_null(sl_net_neigh_find(&NIF, T_IP4(198, 18, 0, 12)));
	cr_expect_null(sl_net_neigh_find(&NIF, T_IP4(10, 1, 2, 3)));
	sl_net_timer(&NIF, 100 * S);
	sl_net_timer(&NIF, 200 * S);
	sl_net_timer(&NIF, 300 * S);
	cr_expect_eq(F.n_free, 1);
	done();
}

Test(neigh, no_route)
{
	struct fake_pkt *p;

	t_if_init(&NIF, &F, NULL);
	p = out_pkt(1);
	cr_assert_eq(output(p, T_IP4(10, 0, 0, 1), 0), SL_NET_DROP);
	cr_expect_eq(NIF.stats.drop_no_route, 1);
	cr_expect_eq(F.n_tx, 0);
	fake_put(p);
	done();
}

Test(neigh, queue_overflow)
{
	struct fake_pkt *p[SL_NEIGH_PENDING_MAX + 1];
	unsigned int i;

	t_if_init(&NIF, &F, &t_routes);
	for (i = 0; i < SL_NEIGH_PENDING_MAX; i++) {
		p[i] = out_pkt((uint8_t)(10 + i));
		cr_assert_eq(output(p[i], PEER, i), SL_NET_QUEUED);
	}
	p[i] = out_pkt(99);
	cr_assert_eq(output(p[i], PEER, i), SL_NET_DROP);
	cr_expect_eq(NIF.stats.drop_arp_queue_full, 1);
	cr_expect_eq(NIF.stats.tx_arp_request, 1, "one request, not one per packet");
	fake_put(p[i]);

	input(arp_reply_to_us, 42, 10, SL_NET_DROP);
	cr_assert_eq(F.n_tx, 1 + SL_NEIGH_PENDING_MAX);
	for (i = 0; i < SL_NEIGH_PENDING_MAX; i++)
		expect_ip_tx(1 + i, peer_mac, (uint8_t)(10 + i));
	cr_expect_eq(NIF.stats.tx_ip, SL_NEIGH_PENDING_MAX);
	done();
}

Test(neigh, retries_then_gives_up)
{
	struct fake_pkt *p[3];
	unsigned int i;

	t_if_init(&NIF, &F, &t_routes);
	for (i = 0; i < 3; i++) {
		p[i] = out_pkt((uint8_t)i);
		cr_assert_eq(output(p[i], PEER, 0), SL_NET_QUEUED);
	}
	cr_expect_eq(F.n_tx, 1);
	sl_net_timer(&NIF, S / 2);
	cr_expect_eq(F.n_tx, 1, "no retry before retry_us");
	sl_net_timer(&NIF, S);
	cr_expect_eq(F.n_tx, 2);
	expect_arp_request(1, bcast, PEER);
	sl_net_timer(&NIF, S + S / 2);
	cr_expect_eq(F.n_tx, 2);
	sl_net_timer(&NIF, 2 * S);
	cr_expect_eq(F.n_tx, 3);
	expect_arp_request(2, bcast, PEER);
	cr_expect_eq(NIF.stats.tx_arp_request, T_MAX_TRIES);
	cr_expect_eq(F.n_free, 0);
	cr_expect_not_null(sl_net_neigh_find(&NIF, PEER));

	/* max_tries requests unanswered: every queued packet freed and counted. */
	sl_net_timer(&NIF, 3 * S);
	cr_expect_eq(F.n_tx, 3, "no fourth request");
	cr_expect_eq(F.n_free, 3);
	for (i = 0; i < 3; i++)
		cr_expect_eq(F.freed[i], p[i]);
	cr_expect_eq(NIF.stats.drop_arp_unresolved, 3);
	cr_expect_null(sl_net_neigh_find(&NIF, PEER));
	cr_expect_eq(NIF.stats.neigh_expired, 0);

	/* A later packet starts over. */
	p[0] = out_pkt(7);
	cr_assert_eq(output(p[0], PEER, 10 * S), SL_NET_QUEUED);
	cr_expect_eq(F.n_tx, 4);
	sl_net_timer(&NIF, 100 * S);
	sl_net_timer(&NIF, 200 * S);
	sl_net_timer(&NIF, 300 * S);
	cr_expect_eq(F.n_free, 4);
	done();
}

Test(neigh, request_without_buffers_still_counts_a_try)
{
	struct fake_pkt *p;

	t_if_init(&NIF, &F, &t_routes);
	p = out_pkt(1);
	F.fail_alloc = 1;
	cr_assert_eq(output(p, PEER, 0), SL_NET_QUEUED);
	cr_expect_eq(F.n_tx, 0);
	cr_expect_eq(NIF.stats.tx_arp_request, 0);
	F.fail_alloc = 0;
	sl_net_timer(&NIF, S);
	cr_expect_eq(F.n_tx, 1);
	sl_net_timer(&NIF, 2 * S);
	sl_net_timer(&NIF, 3 * S);
	cr_expect_eq(F.n_free, 1);
	cr_expect_eq(NIF.stats.tx_arp_request, 2);
	done();
}

Test(neigh, stale_refresh_and_expiry)
{
	const uint64_t t0 = 1000;
	const uint64_t t1 = t0 + 3 * T_REACHABLE_US;
	struct fake_pkt *p;
	const struct sl_neigh *n;

	t_if_init(&NIF, &F, &t_routes);
	sl_net_neigh_update(&NIF, PEER, &(struct sl_mac){{T_PEER_MAC_BYTES}}, t0);
	n = sl_net_neigh_find(&NIF, PEER);
	cr_assert_not_null(n);
	cr_expect_eq(n->state, SL_NEIGH_REACHABLE);

	sl_net_timer(&NIF, t0 + T_REACHABLE_US - 1);
	cr_expect_eq(n->state, SL_NEIGH_REACHABLE);
	sl_net_timer(&NIF, t0 + T_REACHABLE_US);
	cr_expect_eq(n->state, SL_NEIGH_STALE);
	/* Unused STALE entries send nothing and stay. */
	sl_net_timer(&NIF, t0 + 2 * T_REACHABLE_US);
	cr_expect_eq(F.n_tx, 0);
	cr_expect_eq(n->state, SL_NEIGH_STALE);

	/* Used: sent with the old MAC, and a unicast request to that MAC goes out. */
	p = out_pkt(1);
	cr_assert_eq(output(p, PEER, t1), SL_NET_TX);
	cr_expect_arr_eq(p->buf, peer_mac, 6);
	fake_put(p);
	cr_assert_eq(F.n_tx, 1);
	expect_arp_request(0, peer_mac, PEER);
	/* Rate-limited: used again at once, no new request. */
	p = out_pkt(2);
	cr_assert_eq(output(p, PEER, t1 + 10), SL_NET_TX);
	fake_put(p);
	cr_expect_eq(F.n_tx, 1);
	sl_net_timer(&NIF, t1 + T_RETRY_US - 1);
	cr_expect_eq(F.n_tx, 1);
	sl_net_timer(&NIF, t1 + T_RETRY_US);
	cr_expect_eq(F.n_tx, 2);
	expect_arp_request(1, bcast, PEER);
	sl_net_timer(&NIF, t1 + 2 * T_RETRY_US);
	cr_expect_eq(F.n_tx, 3);
	cr_expect_eq(NIF.stats.tx_arp_request, T_MAX_TRIES);
	cr_expect_eq(n->state, SL_NEIGH_STALE);
	/* Still usable until the deadline. */
	p = out_pkt(3);
	cr_assert_eq(output(p, PEER, t1 + 2 * T_RETRY_US + 1), SL_NET_TX);
	fake_put(p);
	cr_expect_eq(F.n_tx, 3);

	/* max_tries * retry_us after the first request: expired. */
	sl_net_timer(&NIF, t1 + T_MAX_TRIES * T_RETRY_US);
	cr_expect_null(sl_net_neigh_find(&NIF, PEER));
	cr_expect_eq(NIF.stats.neigh_expired, 1);
	cr_expect_eq(F.n_tx, 3);
	done();
}

Test(neigh, stale_confirmed_by_reply)
{
	struct fake_pkt *p;
	const struct sl_neigh *n;

	t_if_init(&NIF, &F, &t_routes);
	input(arp_req_for_us, 42, 0, SL_NET_TX); /* learns the peer as it asks */
	n = sl_net_neigh_find(&NIF, PEER);
	cr_assert_not_null(n);
	cr_expect_eq(NIF.stats.neigh_learned, 1);
	cr_expect_eq(F.n_learned, 1);

	/* Aged on use, without the timer. */
	p = out_pkt(1);
	cr_assert_eq(output(p, PEER, T_REACHABLE_US), SL_NET_TX);
	fake_put(p);
	cr_expect_eq(n->state, SL_NEIGH_STALE);
	cr_expect_eq(F.n_tx, 1);
	expect_arp_request(0, peer_mac, PEER);

	/* The answer: REACHABLE again, same MAC so not counted as learned, but shared with the
	 * other lcores (the request may have been theirs). */
	input(arp_reply_to_us, 42, T_REACHABLE_US + 100, SL_NET_DROP);
	cr_expect_eq(n->state, SL_NEIGH_REACHABLE);
	cr_expect_eq(n->tries, 0);
	cr_expect_eq(n->updated_us, T_REACHABLE_US + 100);
	cr_expect_eq(NIF.stats.neigh_learned, 1);
	cr_expect_eq(F.n_learned, 2);
	sl_net_timer(&NIF, T_REACHABLE_US + 10 * T_RETRY_US);
	cr_expect_eq(NIF.stats.neigh_expired, 0);
	cr_expect_eq(F.n_tx, 1);
	done();
}

Test(neigh, update_from_another_lcore_flushes)
{
	struct fake_pkt *p[2];
	const struct sl_neigh *n;
	struct sl_mac mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x0b}};

	t_if_init(&NIF, &F, &t_routes);
	p[0] = out_pkt(1);
	p[1] = out_pkt(2);
	cr_assert_eq(output(p[0], T_IP4(10, 9, 9, 9), 0), SL_NET_QUEUED);
	cr_assert_eq(output(p[1], T_IP4(10, 9, 9, 8), 0), SL_NET_QUEUED);
	cr_assert_eq(F.n_tx, 1);

	sl_net_neigh_update(&NIF, T_IP4(198, 18, 0, 11), &mac, 50);
	cr_assert_eq(F.n_tx, 3);
	expect_ip_tx(1, mac.b, 1);
	expect_ip_tx(2, mac.b, 2);
	n = sl_net_neigh_find(&NIF, T_IP4(198, 18, 0, 11));
	cr_assert_not_null(n);
	cr_expect_eq(n->state, SL_NEIGH_REACHABLE);
	/* No echo back to the other lcores, and not counted as learned by ARP here. */
	cr_expect_eq(F.n_learned, 0);
	cr_expect_eq(NIF.stats.neigh_learned, 0);
	cr_expect_eq(NIF.stats.tx_ip, 2);

	/* An update for an unknown address creates the entry; a changed MAC replaces it. */
	sl_net_neigh_update(&NIF, T_IP4(198, 18, 0, 50), &mac, 60);
	cr_expect_not_null(sl_net_neigh_find(&NIF, T_IP4(198, 18, 0, 50)));
	mac.b[5] = 0x0c;
	sl_net_neigh_update(&NIF, T_IP4(198, 18, 0, 11), &mac, 70);
	cr_expect_eq(n->mac.b[5], 0x0c);
	cr_expect_eq(F.n_learned, 0);
	/* Nonsense is ignored. */
	sl_net_neigh_update(&NIF, T_IP4(0, 0, 0, 0), &mac, 70);
	sl_net_neigh_update(&NIF, T_IP4(198, 18, 0, 2), &mac, 70);
	sl_net_neigh_update(&NIF, T_IP4(198, 18, 0, 60),
			    &(struct sl_mac){{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}, 70);
	cr_expect_null(sl_net_neigh_find(&NIF, T_IP4(0, 0, 0, 0)));
	cr_expect_null(sl_net_neigh_find(&NIF, T_IP4(198, 18, 0, 2)));
	cr_expect_null(sl_net_neigh_find(&NIF, T_IP4(198, 18, 0, 60)));
	done();
}

/* RFC 826: requests for us teach the sender; others only update what is known. */
Test(neigh, arp_merge_rule)
{
	uint8_t f[42];
	const struct sl_neigh *n;

	t_if_init(&NIF, &F, &t_routes);
	/* Request for another address from an unknown host: nothing learned. */
	memcpy(f, arp_req_for_us, 42);
	f[41] = 3;
	input(f, 42, 0, SL_NET_DROP);
	cr_expect_null(sl_net_neigh_find(&NIF, PEER));
	cr_expect_eq(NIF.stats.drop_arp_not_for_us, 1);
	cr_expect_eq(NIF.stats.rx_arp_request, 1);
	/* Gratuitous ARP from an unknown host: nothing learned either. */
	memcpy(f, arp_req_for_us, 42);
	f[41] = 1;
	input(f, 42, 0, SL_NET_DROP);
	cr_expect_null(sl_net_neigh_find(&NIF, PEER));
	cr_expect_eq(F.n_learned, 0);

	/* Request for us: learned, answered. */
	input(arp_req_for_us, 42, 0, SL_NET_TX);
	n = sl_net_neigh_find(&NIF, PEER);
	cr_assert_not_null(n);
	cr_expect_arr_eq(n->mac.b, peer_mac, 6);
	cr_expect_eq(F.n_learned, 1);

	/* The peer moves to another MAC and announces it: updated, shared, counted. */
	memcpy(f, arp_req_for_us, 42);
	f[11] = f[27] = 0x77;
	f[41] = 1;
	input(f, 42, 10, SL_NET_DROP);
	cr_expect_eq(n->mac.b[5], 0x77);
	cr_expect_eq(NIF.stats.neigh_learned, 2);
	cr_expect_eq(F.n_learned, 2);
	cr_expect_eq(F.learned_mac.b[5], 0x77);
	/* The same announcement again changes nothing and is not shared. */
	input(f, 42, 20, SL_NET_DROP);
	cr_expect_eq(NIF.stats.neigh_learned, 2);
	cr_expect_eq(F.n_learned, 2);
	cr_expect_eq(n->updated_us, 20);
	/* A request for someone else from a known host updates it too (merge). */
	memcpy(f, arp_req_for_us, 42);
	f[41] = 3;
	input(f, 42, 30, SL_NET_DROP);
	cr_expect_eq(n->mac.b[5], 0x01);
	cr_expect_eq(NIF.stats.drop_arp_not_for_us, 2);
	cr_expect_eq(F.n_learned, 3);
	done();
}

Test(neigh, arp_never_learns_nonsense)
{
	uint8_t f[42];

	t_if_init(&NIF, &F, &t_routes);
	/* Probe from 0.0.0.0: answered, not learned. */
	memcpy(f, arp_req_for_us, 42);
	memset(f + 28, 0, 4);
	input(f, 42, 0, SL_NET_TX);
	cr_expect_null(sl_net_neigh_find(&NIF, T_IP4(0, 0, 0, 0)));
	/* Someone claiming our address: not learned, not answered. */
	memcpy(f, arp_req_for_us, 42);
	f[31] = 2;
	input(f, 42, 0, SL_NET_DROP);
	cr_expect_null(sl_net_neigh_find(&NIF, T_IP4(198, 18, 0, 2)));
	/* Group sender MAC in a reply to us: not learned. */
	memcpy(f, arp_reply_to_us, 42);
	f[22] = 0x01;
	input(f, 42, 0, SL_NET_DROP);
	cr_expect_null(sl_net_neigh_find(&NIF, PEER));
	cr_expect_eq(F.n_learned, 0);
	cr_expect_eq(NIF.stats.neigh_learned, 0);
	done();
}

/* An ARP request that resolves a pending entry flushes it (RFC 826 merge). */
Test(neigh, request_from_pending_neighbour_flushes)
{
	struct fake_pkt *p;

	t_if_init(&NIF, &F, &t_routes);
	p = out_pkt(5);
	cr_assert_eq(output(p, PEER, 0), SL_NET_QUEUED);
	input(arp_req_for_us, 42, 1, SL_NET_TX);
	cr_assert_eq(F.n_tx, 2);
	expect_ip_tx(1, peer_mac, 5);
	cr_expect_eq(F.n_learned, 1);
	done();
}

Test(neigh, full_table_evicts_resolved_entries)
{
	struct sl_mac mac = {{0x02, 0, 0, 0, 0, 0}};
	unsigned int i, found = 0;

	t_if_init(&NIF, &F, &t_routes);
	NIF.conf.prefix_len = 16;
	for (i = 0; i < 4 * SL_NEIGH_TABLE_SIZE; i++) {
		struct sl_ip4 ip = T_IP4(198, 18, 1 + i / 250, 1 + i % 250);

		mac.b[4] = (uint8_t)(i >> 8);
		mac.b[5] = (uint8_t)i;
		sl_net_neigh_update(&NIF, ip, &mac, i);
		/* The newest always finds room. */
		cr_assert_not_null(sl_net_neigh_find(&NIF, ip), "entry %u", i);
	}
	for (i = 0; i < SL_NEIGH_TABLE_SIZE; i++)
		found += NIF.neigh[i].state != SL_NEIGH_FREE;
	cr_expect_gt(found, SL_NEIGH_TABLE_SIZE * 9 / 10, "table only %u full", found);
	/* The oldest entry of a window goes first: the most recent ones are all there. */
	for (i = 4 * SL_NEIGH_TABLE_SIZE - 32; i < 4 * SL_NEIGH_TABLE_SIZE; i++)
		cr_expect_not_null(
			sl_net_neigh_find(&NIF, T_IP4(198, 18, 1 + i / 250, 1 + i % 250)),
			"entry %u evicted", i);
	done();
}

/* Home slot of <ip>: where it lands in an empty table (found, not computed). */
static long
home_slot(struct sl_ip4 ip)
{
	struct sl_mac mac = {{T_PEER_MAC_BYTES}};
	const struct sl_neigh *n;

	memset(NIF.neigh, 0, sizeof(NIF.neigh));
	sl_net_neigh_update(&NIF, ip, &mac, 0);
	n = sl_net_neigh_find(&NIF, ip);
	cr_assert_not_null(n);
	return n - NIF.neigh;
}

Test(neigh, eviction_takes_the_oldest_of_the_window)
{
	struct sl_ip4 ip[9];
	struct sl_mac mac = {{T_PEER_MAC_BYTES}};
	unsigned int n = 0, i;
	long home = -1;
	uint32_t cand;

	t_if_init(&NIF, &F, &t_routes);
	NIF.conf.prefix_len = 8;
	/* Nine addresses with one home slot: one more than a probe window holds. */
	for (cand = 1; n < 9 && cand < 1000000; cand++) {
		struct sl_ip4 a = {T_IP4(198, 0, 0, 0).v + cand};

		if (home < 0)
			home = home_slot(a);
		if (home_slot(a) == home)
			ip[n++] = a;
	}
	cr_assert_eq(n, 9);
	memset(NIF.neigh, 0, sizeof(NIF.neigh));
	for (i = 0; i < 8; i++)
		sl_net_neigh_update(&NIF, ip[i], &mac, 10 * (i + 1));
	/* The first one is confirmed again: the oldest is now the second. */
	sl_net_neigh_update(&NIF, ip[0], &mac, 100);
	sl_net_neigh_update(&NIF, ip[8], &mac, 110);
	cr_expect_not_null(sl_net_neigh_find(&NIF, ip[8]));
	cr_expect_not_null(sl_net_neigh_find(&NIF, ip[0]));
	cr_expect_null(sl_net_neigh_find(&NIF, ip[1]));
	for (i = 2; i < 8; i++)
		cr_expect_not_null(sl_net_neigh_find(&NIF, ip[i]));
	done();
}

Test(neigh, full_table_of_pending_refuses)
{
	static uint8_t frame[64];
	static struct sl_ip4 refused_ip[2 * SL_NEIGH_TABLE_SIZE];
	struct sl_mac mac = {{T_PEER_MAC_BYTES}};
	unsigned int i, queued = 0, refused = 0, pending = 0;

	t_if_init(&NIF, &F, &t_routes);
	NIF.conf.prefix_len = 16;
	for (i = 0; i < 2 * SL_NEIGH_TABLE_SIZE; i++) {
		struct sl_ip4 ip = T_IP4(198, 18, 1 + i / 250, 1 + i % 250);
		enum sl_net_verdict v;

		/* Opaque handles: these packets are never sent, and not freed before the end. */
		v = sl_net_output(&NIF, (void *)(uintptr_t)(0x1000 + i), frame, 60, ip, 0);
		cr_assert(v == SL_NET_QUEUED || v == SL_NET_DROP);
		if (v == SL_NET_QUEUED)
			queued++;
		else
			refused_ip[refused++] = ip;
	}
	for (i = 0; i < SL_NEIGH_TABLE_SIZE; i++)
		pending += NIF.neigh[i].state == SL_NEIGH_INCOMPLETE;
	cr_expect_eq(pending, queued);
	cr_expect_gt(queued, SL_NEIGH_TABLE_SIZE * 9 / 10, "only %u queued", queued);
	cr_expect_eq(NIF.stats.drop_arp_queue_full, refused);
	cr_expect_eq(NIF.stats.tx_arp_request, queued);
	/* Where output found no room, a learned neighbour finds none either: pending entries
	 * are never evicted. */
	cr_assert_gt(refused, 0);
	for (i = 0; i < refused; i++) {
		sl_net_neigh_update(&NIF, refused_ip[i], &mac, 1);
		cr_expect_null(sl_net_neigh_find(&NIF, refused_ip[i]));
	}
	for (i = 0; i < SL_NEIGH_TABLE_SIZE; i++)
		pending -= NIF.neigh[i].state == SL_NEIGH_INCOMPLETE;
	cr_expect_eq(pending, 0);
	done();
}
