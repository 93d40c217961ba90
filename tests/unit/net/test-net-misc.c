/**
 * @file
 * The rest of the API: interface set-up and defaults, counter names, route lookup, the
 * Internet checksum, gratuitous ARP, and building locally originated packets.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "frames.h"
#include "net-test.h"

static struct fake F;
static struct sl_net_if NIF;

Test(init, defaults_and_errors)
{
	struct sl_net_if_conf conf = {
		.mac = {{T_OUR_MAC_BYTES}}, .addr = T_IP4(198, 18, 0, 2), .prefix_len = 24};
	struct sl_net_ops no_tx = fake_ops;

	cr_assert_eq(sl_net_if_init(&NIF, &conf, &fake_ops, &F), 0);
	cr_expect_eq(NIF.conf.mtu, 1500);
	cr_expect_eq(NIF.conf.neigh.reachable_us, 300ull * 1000 * 1000);
	cr_expect_eq(NIF.conf.neigh.retry_us, 1000ull * 1000);
	cr_expect_eq(NIF.conf.neigh.max_tries, 3);
	cr_expect_eq(NIF.ops, &fake_ops);
	cr_expect_eq(NIF.user, &F);
	for (unsigned int i = 0; i < SL_NEIGH_TABLE_SIZE; i++)
		cr_assert_eq(NIF.neigh[i].state, SL_NEIGH_FREE);

	cr_expect_eq(sl_net_if_init(&NIF, &conf, NULL, &F), -EINVAL);
	no_tx.tx = NULL;
	cr_expect_eq(sl_net_if_init(&NIF, &conf, &no_tx, &F), -EINVAL);
	conf.prefix_len = 33;
	cr_expect_eq(sl_net_if_init(&NIF, &conf, &fake_ops, &F), -EINVAL);
	conf.prefix_len = 32;
	cr_expect_eq(sl_net_if_init(&NIF, &conf, &fake_ops, &F), 0);

	conf.mtu = 9000;
	conf.neigh.max_tries = 5;
	cr_assert_eq(sl_net_if_init(&NIF, &conf, &fake_ops, &F), 0);
	cr_expect_eq(NIF.conf.mtu, 9000);
	cr_expect_eq(NIF.conf.neigh.max_tries, 5);
}

Test(init, stats_names)
{
	cr_expect_eq(SL_NET_STATS_COUNT, 37);
	cr_expect_str_eq(sl_net_stats_names[0], "rx_frames");
	cr_expect_str_eq(sl_net_stats_names[1], "rx_bytes");
	cr_expect_str_eq(sl_net_stats_names[SL_NET_STATS_COUNT - 1], "drop_arp_queue_full");
	/* In struct order: the name of a field is found at its index. */
	cr_expect_str_eq(
		sl_net_stats_names[offsetof(struct sl_net_stats, drop_bad_icmp) / sizeof(uint64_t)],
		"drop_bad_icmp");
}

static struct sl_ip4
route(struct sl_ip4 dst)
{
	struct sl_ip4 nh = {0xdeadbeef};

	cr_assert_eq(sl_net_route(&NIF, dst, &nh), 0, "no route to %08x", dst.v);
	return nh;
}

Test(route, lookup)
{
	struct sl_ip4 nh = {0xdeadbeef};

	t_if_init(&NIF, &F, &t_routes);
	/* On link: the destination itself. */
	cr_expect_eq(route(T_IP4(198, 18, 0, 1)).v, T_IP4(198, 18, 0, 1).v);
	cr_expect_eq(route(T_IP4(198, 18, 0, 254)).v, T_IP4(198, 18, 0, 254).v);
	/* Default gateway. */
	cr_expect_eq(route(T_IP4(8, 8, 8, 8)).v, T_IP4(198, 18, 0, 1).v);
	cr_expect_eq(route(T_IP4(198, 18, 1, 1)).v, T_IP4(198, 18, 0, 1).v);
	/* Longest prefix: 10.1/16 beats 10/8 beats the default. */
	cr_expect_eq(route(T_IP4(10, 1, 2, 3)).v, T_IP4(198, 18, 0, 12).v);
	cr_expect_eq(route(T_IP4(10, 2, 0, 1)).v, T_IP4(198, 18, 0, 11).v);
	cr_expect_eq(route(T_IP4(11, 0, 0, 1)).v, T_IP4(198, 18, 0, 1).v);
	/* A gateway of 0.0.0.0 is on link. */
	cr_expect_eq(route(T_IP4(192, 0, 2, 9)).v, T_IP4(192, 0, 2, 9).v);

	/* Without a default route: unreachable. */
	t_if_init(&NIF, &F, NULL);
	cr_expect_eq(sl_net_route(&NIF, T_IP4(8, 8, 8, 8), &nh), -ENETUNREACH);
	cr_expect_eq(nh.v, 0xdeadbeef, "left alone when unreachable");
	cr_expect_eq(route(T_IP4(198, 18, 0, 77)).v, T_IP4(198, 18, 0, 77).v);
}

Test(route, connected_subnet_is_a_prefix_like_any_other)
{
	static struct sl_route_table rt = {
		.n = 3,
		.r =
			{
				/* More specific than our /24: wins. */
				{.dst = T_IP4(198, 18, 0, 128),
				 .prefix_len = 25,
				 .gateway = T_IP4(198, 18, 0, 5)},
				/* Same length as our /24: the connected subnet wins. */
				{.dst = T_IP4(198, 18, 0, 0),
				 .prefix_len = 24,
				 .gateway = T_IP4(198, 18, 0, 6)},
				/* Invalid prefix length: ignored. */
				{.dst = T_IP4(0, 0, 0, 0),
				 .prefix_len = 40,
				 .gateway = T_IP4(198, 18, 0, 7)},
			},
	};
	struct sl_ip4 nh;

	t_if_init(&NIF, &F, &rt);
	cr_expect_eq(route(T_IP4(198, 18, 0, 200)).v, T_IP4(198, 18, 0, 5).v);
	cr_expect_eq(route(T_IP4(198, 18, 0, 100)).v, T_IP4(198, 18, 0, 100).v);
	cr_expect_eq(sl_net_route(&NIF, T_IP4(8, 8, 8, 8), &nh), -ENETUNREACH);
	/* A count beyond the array is clamped, not trusted. */
	rt.n = 1000;
	cr_expect_eq(route(T_IP4(198, 18, 0, 200)).v, T_IP4(198, 18, 0, 5).v);
}

Test(route, host_route_and_prefix_32)
{
	static const struct sl_route_table rt = {
		.n = 1,
		.r = {{.dst = T_IP4(203, 0, 113, 7),
		       .prefix_len = 32,
		       .gateway = T_IP4(198, 18, 0, 9)}},
	};

	t_if_init(&NIF, &F, &rt);
	cr_expect_eq(route(T_IP4(203, 0, 113, 7)).v, T_IP4(198, 18, 0, 9).v);
	NIF.conf.prefix_len = 32;
	cr_expect_eq(route(T_IP4(198, 18, 0, 2)).v, T_IP4(198, 18, 0, 2).v);
}

Test(csum, rfc1071_example)
{
	/* RFC 1071 3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2; the checksum is ~ddf2. */
	static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

	cr_expect_eq(sl_net_csum(b, sizeof(b), 0), 0x220d);
	cr_expect_eq(sl_net_csum(b, 0, 0), 0xffff);
	/* A partial sum carries on: the same split in two. */
	cr_expect_eq(sl_net_csum(b + 4, 4, 0x0001 + 0xf203), 0x220d);
}

Test(csum, against_reference)
{
	static uint8_t buf[1500];
	uint32_t seed = 1;
	size_t len, off, i;

	for (i = 0; i < sizeof(buf); i++) {
		seed = seed * 1103515245 + 12345;
		buf[i] = (uint8_t)(seed >> 16);
	}
	for (len = 0; len < 80; len++)
		for (off = 0; off < 4; off++)
			cr_assert_eq(sl_net_csum(buf + off, (uint32_t)len, 0),
				     ref_csum(buf + off, len), "len %zu off %zu", len, off);
	cr_expect_eq(sl_net_csum(buf, sizeof(buf), 0), ref_csum(buf, sizeof(buf)));
	memset(buf, 0xff, sizeof(buf));
	cr_expect_eq(sl_net_csum(buf, sizeof(buf), 0xffffffffu), ref_csum(buf, sizeof(buf)));
	/* Valid headers check to 0. */
	cr_expect_eq(sl_net_csum(icmp_echo_req + 14, 20, 0), 0);
	cr_expect_eq(sl_net_csum(tcp_ack + 14, 20, 0), 0);
}

Test(garp, bytes)
{
	t_if_init(&NIF, &F, &t_routes);
	cr_assert_eq(sl_net_garp(&NIF), 0);
	cr_assert_eq(F.n_tx, 1);
	cr_expect_eq(F.tx[0].len, 42);
	cr_expect_arr_eq(F.tx[0].bytes, garp_from_us, 42);
	cr_expect_eq(NIF.stats.tx_garp, 1);
	cr_expect_eq(NIF.stats.tx_arp_request, 0);

	F.fail_alloc = 1;
	cr_expect_eq(sl_net_garp(&NIF), -ENOBUFS);
	cr_expect_eq(NIF.stats.tx_garp, 1);
	cr_expect_eq(fake_live(&F), 0);
}

/* Our own announcement coming back (a bridge floods it): not learned, not answered. */
Test(garp, own_announcement_looped_back)
{
	uint8_t buf[42];
	struct sl_net_result res;

	t_if_init(&NIF, &F, &t_routes);
	memcpy(buf, garp_from_us, sizeof(buf));
	cr_expect_eq(sl_net_input(&NIF, buf, 42, 42, 0, &res), SL_NET_DROP);
	cr_expect_eq(NIF.stats.rx_arp_reply, 1);
	cr_expect_null(sl_net_neigh_find(&NIF, T_IP4(198, 18, 0, 2)));
	cr_expect_eq(F.n_learned, 0);
}

Test(build, ip4_finish)
{
	/* A UDP datagram of 29 bytes to 198.18.0.1, id 0x2222: header as RFC 791 3.1 lays it
	 * out, DF set, TTL 64, checksum precomputed. */
	static const uint8_t want[20] = {
		0x45, 0x00, 0x00, 0x1d, 0x22, 0x22, 0x40, 0x00, 0x40, 0x11,
		0x8c, 0x86, 0xc6, 0x12, 0x00, 0x02, 0xc6, 0x12, 0x00, 0x01,
	};
	uint8_t ip[20];

	t_if_init(&NIF, &F, NULL);
	memset(ip, 0xee, sizeof(ip));
	sl_net_ip4_finish(&NIF, ip, 29, SL_IPPROTO_UDP, T_IP4(198, 18, 0, 1), 0x2222);
	cr_expect_arr_eq(ip, want, 20);
	cr_expect_eq(ref_csum(ip, 20), 0);
}

Test(build, echo_request_and_send)
{
	/* Echo request 198.18.0.2 -> 198.18.0.1, ident 0x0102, seq 0x0304, data "xyz". */
	static const uint8_t want[45] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* written by sl_net_output() */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
		0x08, 0x00, 0x45, 0x00, 0x00, 0x1f, /* total length 31 */
		0x03, 0x04, 0x40, 0x00,		    /* id = seq, DF */
		0x40, 0x01, 0xab, 0xb2,		    /* TTL 64, ICMP, checksum */
		0xc6, 0x12, 0x00, 0x02, 0xc6, 0x12,
		0x00, 0x01, 0x08, 0x00, 0x01, 0x80, /* echo request, checksum */
		0x01, 0x02, 0x03, 0x04,		    /* ident, seq */
		'x',  'y',  'z',
	};
	struct fake_pkt *p;
	uint16_t len;

	t_if_init(&NIF, &F, &t_routes);
	sl_net_neigh_update(&NIF, T_IP4(198, 18, 0, 1), &(struct sl_mac){{T_PEER_MAC_BYTES}}, 0);
	p = fake_get(&F);
	len = sl_net_build_echo(&NIF, p->buf, T_IP4(198, 18, 0, 1), 0x0102, 0x0304,
				(const uint8_t *)"xyz", 3);
	cr_assert_eq(len, 45);
	cr_assert_eq(sl_net_output(&NIF, p, p->buf, len, T_IP4(198, 18, 0, 1), 0), SL_NET_TX);
	cr_expect_arr_eq(p->buf, want, sizeof(want));
	fake_put(p);

	/* No data at all, and a NULL data pointer with it. */
	p = fake_get(&F);
	len = sl_net_build_echo(&NIF, p->buf, T_IP4(198, 18, 0, 1), 1, 2, NULL, 0);
	cr_expect_eq(len, 42);
	cr_expect_eq(ref_csum(p->buf + 14, 20), 0);
	cr_expect_eq(ref_csum(p->buf + 34, 8), 0);
	fake_put(p);
	/* A datagram that cannot exist. */
	cr_expect_eq(sl_net_build_echo(&NIF, NULL, T_IP4(198, 18, 0, 1), 1, 2, NULL, 65535 - 41),
		     0);
	cr_expect_eq(fake_live(&F), 0);
}

/* What we build, we answer: our echo request looped to us is a valid request. */
Test(build, echo_roundtrip)
{
	uint8_t buf[64];
	struct sl_net_result res;
	uint16_t len;

	t_if_init(&NIF, &F, NULL);
	len = sl_net_build_echo(&NIF, buf, T_IP4(198, 18, 0, 2), 9, 10, (const uint8_t *)"0123", 4);
	memcpy(buf, (const uint8_t[]){T_OUR_MAC_BYTES, T_PEER_MAC_BYTES, 0x08, 0x00}, 14);
	/* From the peer's address, to ours. */
	buf[14 + 12 + 3] = 1;
	buf[14 + 10] = buf[14 + 11] = 0;
	{
		uint16_t c = ref_csum(buf + 14, 20);

		buf[14 + 10] = (uint8_t)(c >> 8);
		buf[14 + 11] = (uint8_t)c;
	}
	cr_assert_eq(sl_net_input(&NIF, buf, len, len, 0, &res), SL_NET_TX);
	cr_expect_eq(res.tx_len, len);
	cr_expect_eq(buf[34], 0);
	cr_expect_eq(ref_csum(buf + 34, 12), 0);
}

Test(output, truncated_and_bad_next_hop)
{
	static const struct sl_route_table rt = {
		.n = 1,
		.r = {{.dst = T_IP4(0, 0, 0, 0), .prefix_len = 0, .gateway = T_IP4(0, 0, 0, 0)}},
	};
	uint8_t frame[64] = {0};
	int dummy;

	t_if_init(&NIF, &F, &rt);
	cr_expect_eq(sl_net_output(&NIF, &dummy, frame, 33, T_IP4(198, 18, 0, 1), 0), SL_NET_DROP);
	cr_expect_eq(NIF.stats.drop_truncated, 1);
	/* On link by the default route, but no ARP for broadcast or multicast. */
	cr_expect_eq(sl_net_output(&NIF, &dummy, frame, 60, T_IP4(255, 255, 255, 255), 0),
		     SL_NET_DROP);
	cr_expect_eq(sl_net_output(&NIF, &dummy, frame, 60, T_IP4(224, 0, 0, 5), 0), SL_NET_DROP);
	cr_expect_eq(NIF.stats.drop_no_route, 2);
	cr_expect_eq(F.n_tx, 0);
}
