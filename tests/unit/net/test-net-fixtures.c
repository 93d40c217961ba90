/**
 * @file
 * Table-driven packet fixtures for sl_net_input(): {description, input frame (a reference
 * frame from frames.h plus byte patches), expected verdict, the counter that must rise,
 * expected output}. Every drop counter of the receive path has at least one fixture; each
 * fixture also checks that no other drop counter moved.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "frames.h"
#include "net-test.h"

struct patch {
	uint16_t off;
	uint8_t val;
	uint8_t set;
};

#define P(o, v)                                                                                    \
	{                                                                                          \
		.off = (o), .val = (v), .set = 1                                                   \
	}
#define MAX_PATCH 8

struct fixture {
	const char *desc;
	const uint8_t *in;
	uint16_t in_len;
	struct patch patch[MAX_PATCH];
	uint16_t frame_len; /* bytes handed over, 0 = in_len; zero padding past in_len */
	uint32_t pkt_len;   /* 0 = frame_len */
	uint16_t data_len;  /* 0 = frame_len */
	int fix_ip_csum;    /* recompute the IPv4 header checksum after patching */
	int fix_icmp_csum;  /* recompute the ICMP checksum after patching */
	enum sl_net_verdict verdict;
	const char *counter;
	const uint8_t *out;
	uint16_t out_len;
};

#define IN(f) .in = (f), .in_len = sizeof(f)
#define OUT(f) .out = (f), .out_len = sizeof(f)
#define SRC(a, b, c, d) P(26, a), P(27, b), P(28, c), P(29, d)

static const struct fixture fixtures[] = {
	/* Ethernet */
	{"runt: 13 bytes", IN(icmp_echo_req), .frame_len = 13, .verdict = SL_NET_DROP,
	 .counter = "drop_truncated"},
	{"header not in the first segment", IN(icmp_echo_req), .pkt_len = 50, .data_len = 13,
	 .verdict = SL_NET_DROP, .counter = "drop_truncated"},
	{"1515 bytes: MTU 1500 + 14 + 1", IN(icmp_echo_req), .pkt_len = 1515,
	 .verdict = SL_NET_DROP, .counter = "drop_oversize"},
	{"oversize is checked before the destination MAC", IN(icmp_echo_req), .patch = {P(0, 0x04)},
	 .pkt_len = 9000, .verdict = SL_NET_DROP, .counter = "drop_oversize"},
	{"unicast to another MAC", IN(icmp_echo_req), .patch = {P(5, 0x09)}, .verdict = SL_NET_DROP,
	 .counter = "drop_l2_not_for_us"},
	{"IPv4 multicast MAC 01:00:5e:00:00:01", IN(icmp_echo_req),
	 .patch = {P(0, 0x01), P(1, 0x00), P(2, 0x5e), P(3, 0x00), P(4, 0x00), P(5, 0x01)},
	 .verdict = SL_NET_DROP, .counter = "drop_l2_not_for_us"},
	{"almost broadcast ff:ff:ff:ff:ff:fe", IN(arp_req_for_us), .patch = {P(5, 0xfe)},
	 .verdict = SL_NET_DROP, .counter = "drop_l2_not_for_us"},
	{"IPv6", IN(ipv6_frame), .verdict = SL_NET_DROP, .counter = "drop_ipv6"},
	{"802.1Q tag 0x8100", IN(icmp_echo_req), .patch = {P(12, 0x81), P(13, 0x00)},
	 .verdict = SL_NET_DROP, .counter = "drop_unknown_ethertype"},
	{"LLDP 0x88cc", IN(icmp_echo_req), .patch = {P(12, 0x88), P(13, 0xcc)},
	 .verdict = SL_NET_DROP, .counter = "drop_unknown_ethertype"},
	{"802.3 length field 0x0024", IN(icmp_echo_req), .patch = {P(12, 0x00), P(13, 0x24)},
	 .verdict = SL_NET_DROP, .counter = "drop_unknown_ethertype"},

	/* ARP */
	{"ARP request for us, 42 bytes unpadded", IN(arp_req_for_us), .verdict = SL_NET_TX,
	 .counter = "tx_arp_reply", OUT(arp_reply_from_us)},
	{"ARP request for us, padded to 60 bytes", IN(arp_req_for_us), .frame_len = 60,
	 .verdict = SL_NET_TX, .counter = "tx_arp_reply", OUT(arp_reply_from_us)},
	{"ARP request for us, unicast poll", IN(arp_req_for_us),
	 .patch = {P(0, 0x02), P(1, 0), P(2, 0), P(3, 0), P(4, 0), P(5, 0x02)},
	 .verdict = SL_NET_TX, .counter = "tx_arp_reply", OUT(arp_reply_from_us)},
	{"ARP request for 198.18.0.3", IN(arp_req_for_us), .patch = {P(41, 0x03)},
	 .verdict = SL_NET_DROP, .counter = "drop_arp_not_for_us"},
	{"ARP 41 bytes", IN(arp_req_for_us), .frame_len = 41, .verdict = SL_NET_DROP,
	 .counter = "drop_truncated"},
	{"ARP claiming 42 contiguous bytes of a 41-byte frame", IN(arp_req_for_us), .pkt_len = 41,
	 .verdict = SL_NET_DROP, .counter = "drop_truncated"},
	{"ARP 42 bytes, 41 in the first segment", IN(arp_req_for_us), .data_len = 41,
	 .verdict = SL_NET_DROP, .counter = "drop_truncated"},
	{"ARP hardware type 6 (IEEE 802)", IN(arp_req_for_us), .patch = {P(15, 6)},
	 .verdict = SL_NET_DROP, .counter = "drop_bad_arp"},
	{"ARP protocol type IPv6", IN(arp_req_for_us), .patch = {P(16, 0x86), P(17, 0xdd)},
	 .verdict = SL_NET_DROP, .counter = "drop_bad_arp"},
	{"ARP hardware length 8", IN(arp_req_for_us), .patch = {P(18, 8)}, .verdict = SL_NET_DROP,
	 .counter = "drop_bad_arp"},
	{"ARP protocol length 16", IN(arp_req_for_us), .patch = {P(19, 16)}, .verdict = SL_NET_DROP,
	 .counter = "drop_bad_arp"},
	{"ARP op 0", IN(arp_req_for_us), .patch = {P(21, 0)}, .verdict = SL_NET_DROP,
	 .counter = "drop_bad_arp"},
	{"ARP op 3 (RARP request)", IN(arp_req_for_us), .patch = {P(21, 3)}, .verdict = SL_NET_DROP,
	 .counter = "drop_bad_arp"},
	{"ARP op 0x0101", IN(arp_req_for_us), .patch = {P(20, 1)}, .verdict = SL_NET_DROP,
	 .counter = "drop_bad_arp"},
	{"ARP request for us from a group MAC", IN(arp_req_for_us), .patch = {P(22, 0x01)},
	 .verdict = SL_NET_DROP, .counter = "drop_bad_arp"},
	{"ARP reply to us", IN(arp_reply_to_us), .verdict = SL_NET_DROP, .counter = "rx_arp_reply"},
	{"ARP reply to us, padded to 60 bytes", IN(arp_reply_to_us), .frame_len = 60,
	 .verdict = SL_NET_DROP, .counter = "rx_arp_reply"},
	{"gratuitous ARP request from the peer", IN(arp_req_for_us), .patch = {P(41, 0x01)},
	 .verdict = SL_NET_DROP, .counter = "rx_arp_reply"},
	{"ARP probe for our address from 0.0.0.0", IN(arp_req_for_us),
	 .patch = {P(28, 0), P(29, 0), P(30, 0), P(31, 0)}, .verdict = SL_NET_TX,
	 .counter = "tx_arp_reply", OUT(arp_reply_to_probe)},

	/* IPv4 */
	{"TCP ACK, 54 bytes unpadded", IN(tcp_ack), .verdict = SL_NET_L4, .counter = "rx_l4"},
	{"TCP ACK with 6 bytes of padding", IN(tcp_ack), .frame_len = 60, .verdict = SL_NET_L4,
	 .counter = "rx_l4"},
	{"UDP, padded to 60 bytes", IN(udp_1byte), .frame_len = 60, .verdict = SL_NET_L4,
	 .counter = "rx_l4"},
	{"IPv4 header cut: 33 bytes", IN(icmp_echo_req), .frame_len = 33, .verdict = SL_NET_DROP,
	 .counter = "drop_truncated"},
	{"IPv4 header in a second segment", IN(icmp_echo_req), .data_len = 30,
	 .verdict = SL_NET_DROP, .counter = "drop_truncated"},
	{"IP version 6 in an IPv4 frame", IN(icmp_echo_req), .patch = {P(14, 0x65)},
	 .fix_ip_csum = 1, .verdict = SL_NET_DROP, .counter = "drop_bad_ip_version"},
	{"IP version 0", IN(icmp_echo_req), .patch = {P(14, 0x05)}, .verdict = SL_NET_DROP,
	 .counter = "drop_bad_ip_version"},
	{"IHL 4", IN(icmp_echo_req), .patch = {P(14, 0x44)}, .fix_ip_csum = 1,
	 .verdict = SL_NET_DROP, .counter = "drop_bad_ihl"},
	{"IHL 0", IN(icmp_echo_req), .patch = {P(14, 0x40)}, .verdict = SL_NET_DROP,
	 .counter = "drop_bad_ihl"},
	{"IHL 6: options", IN(icmp_echo_req), .patch = {P(14, 0x46)}, .verdict = SL_NET_DROP,
	 .counter = "drop_ip_options"},
	{"IHL 15, frame ends after 20 bytes of header", IN(icmp_echo_req), .patch = {P(14, 0x4f)},
	 .frame_len = 34, .verdict = SL_NET_DROP, .counter = "drop_truncated"},
	{"IHL 15, 60 bytes of header present", IN(icmp_echo_req), .patch = {P(14, 0x4f)},
	 .frame_len = 74, .verdict = SL_NET_DROP, .counter = "drop_ip_options"},
	{"bad header checksum", IN(icmp_echo_req), .patch = {P(25, 0xe5)}, .verdict = SL_NET_DROP,
	 .counter = "drop_bad_ip_csum"},
	{"zero header checksum", IN(icmp_echo_req), .patch = {P(24, 0), P(25, 0)},
	 .verdict = SL_NET_DROP, .counter = "drop_bad_ip_csum"},
	{"total length 19", IN(icmp_echo_req), .patch = {P(16, 0), P(17, 19)}, .fix_ip_csum = 1,
	 .verdict = SL_NET_DROP, .counter = "drop_bad_ip_len"},
	{"total length 0", IN(icmp_echo_req), .patch = {P(16, 0), P(17, 0)}, .fix_ip_csum = 1,
	 .verdict = SL_NET_DROP, .counter = "drop_bad_ip_len"},
	{"total length 37, frame holds 36", IN(icmp_echo_req), .patch = {P(17, 37)},
	 .fix_ip_csum = 1, .verdict = SL_NET_DROP, .counter = "drop_truncated"},
	{"total length 65535", IN(icmp_echo_req), .patch = {P(16, 0xff), P(17, 0xff)},
	 .fix_ip_csum = 1, .verdict = SL_NET_DROP, .counter = "drop_truncated"},
	{"source 0.0.0.0", IN(icmp_echo_req), .patch = {SRC(0, 0, 0, 0)}, .fix_ip_csum = 1,
	 .verdict = SL_NET_DROP, .counter = "drop_bad_ip_src"},
	{"source 127.0.0.1", IN(icmp_echo_req), .patch = {SRC(127, 0, 0, 1)}, .fix_ip_csum = 1,
	 .verdict = SL_NET_DROP, .counter = "drop_bad_ip_src"},
	{"source 224.0.0.1", IN(icmp_echo_req), .patch = {SRC(224, 0, 0, 1)}, .fix_ip_csum = 1,
	 .verdict = SL_NET_DROP, .counter = "drop_bad_ip_src"},
	{"source 239.255.255.250", IN(icmp_echo_req), .patch = {SRC(239, 255, 255, 250)},
	 .fix_ip_csum = 1, .verdict = SL_NET_DROP, .counter = "drop_bad_ip_src"},
	{"source 255.255.255.255", IN(icmp_echo_req), .patch = {SRC(255, 255, 255, 255)},
	 .fix_ip_csum = 1, .verdict = SL_NET_DROP, .counter = "drop_bad_ip_src"},
	{"source 198.18.0.255, our subnet broadcast", IN(icmp_echo_req),
	 .patch = {SRC(198, 18, 0, 255)}, .fix_ip_csum = 1, .verdict = SL_NET_DROP,
	 .counter = "drop_bad_ip_src"},
	{"source 198.18.1.255 (not our subnet's broadcast)", IN(tcp_ack),
	 .patch = {SRC(198, 18, 1, 255)}, .fix_ip_csum = 1, .verdict = SL_NET_L4,
	 .counter = "rx_l4"},
	{"MF set", IN(icmp_echo_req), .patch = {P(20, 0x20)}, .fix_ip_csum = 1,
	 .verdict = SL_NET_DROP, .counter = "drop_ip_fragment"},
	{"fragment offset 185", IN(icmp_echo_req), .patch = {P(20, 0x00), P(21, 0xb9)},
	 .fix_ip_csum = 1, .verdict = SL_NET_DROP, .counter = "drop_ip_fragment"},
	{"DF with an offset", IN(icmp_echo_req), .patch = {P(20, 0x40), P(21, 0x01)},
	 .fix_ip_csum = 1, .verdict = SL_NET_DROP, .counter = "drop_ip_fragment"},
	{"TTL 0", IN(icmp_echo_req), .patch = {P(22, 0)}, .fix_ip_csum = 1, .verdict = SL_NET_DROP,
	 .counter = "drop_ttl"},
	{"TTL 1 is fine", IN(tcp_ack), .patch = {P(22, 1)}, .fix_ip_csum = 1, .verdict = SL_NET_L4,
	 .counter = "rx_l4"},
	{"to 198.18.0.3", IN(icmp_echo_req), .patch = {P(33, 3)}, .fix_ip_csum = 1,
	 .verdict = SL_NET_DROP, .counter = "drop_ip_not_for_us"},
	{"to the subnet broadcast 198.18.0.255", IN(icmp_echo_req), .patch = {P(33, 0xff)},
	 .fix_ip_csum = 1, .verdict = SL_NET_DROP, .counter = "drop_ip_not_for_us"},
	{"protocol 47 (GRE)", IN(tcp_ack), .patch = {P(23, 47)}, .fix_ip_csum = 1,
	 .verdict = SL_NET_DROP, .counter = "drop_unknown_proto"},
	{"protocol 132 (SCTP)", IN(tcp_ack), .patch = {P(23, 132)}, .fix_ip_csum = 1,
	 .verdict = SL_NET_DROP, .counter = "drop_unknown_proto"},

	/* ICMP */
	{"echo request", IN(icmp_echo_req), .verdict = SL_NET_TX, .counter = "tx_icmp_echo_reply",
	 OUT(icmp_echo_rep_out)},
	{"echo request without data, TTL 128, padded to 60", IN(icmp_echo0_req), .frame_len = 60,
	 .verdict = SL_NET_TX, .counter = "tx_icmp_echo_reply", OUT(icmp_echo0_rep_out)},
	{"ICMP of 4 bytes", IN(icmp_echo0_req), .patch = {P(17, 24)}, .fix_ip_csum = 1,
	 .verdict = SL_NET_DROP, .counter = "drop_bad_icmp"},
	{"ICMP of 0 bytes", IN(icmp_echo0_req), .patch = {P(17, 20)}, .fix_ip_csum = 1,
	 .verdict = SL_NET_DROP, .counter = "drop_bad_icmp"},
	{"bad ICMP checksum", IN(icmp_echo_req), .patch = {P(37, 0x36)}, .verdict = SL_NET_DROP,
	 .counter = "drop_bad_icmp"},
	{"ICMP checksum over the padding only matches", IN(icmp_echo_req), .patch = {P(49, 'i')},
	 .verdict = SL_NET_DROP, .counter = "drop_bad_icmp"},
	{"echo request not in the first segment", IN(icmp_echo_req), .data_len = 49,
	 .verdict = SL_NET_DROP, .counter = "drop_truncated"},
	{"echo request with code 1", IN(icmp_echo_req), .patch = {P(35, 1)}, .fix_icmp_csum = 1,
	 .verdict = SL_NET_DROP, .counter = "drop_icmp_other"},
	{"destination unreachable", IN(icmp_echo_req), .patch = {P(34, 3), P(35, 3)},
	 .fix_icmp_csum = 1, .verdict = SL_NET_DROP, .counter = "drop_icmp_other"},
	{"timestamp request", IN(icmp_echo_req), .patch = {P(34, 13)}, .fix_icmp_csum = 1,
	 .verdict = SL_NET_DROP, .counter = "drop_icmp_other"},
	{"echo reply", IN(icmp_echo_rep_in), .verdict = SL_NET_DROP,
	 .counter = "rx_icmp_echo_reply"},
};

#define N_FIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

static struct fake F;
static struct sl_net_if NIF;

/* Build the input of <fx> into <buf>; return its frame length. */
static uint16_t
fixture_frame(const struct fixture *fx, uint8_t *buf, size_t room)
{
	uint16_t len = fx->frame_len != 0 ? fx->frame_len : fx->in_len;
	unsigned int i;
	uint16_t c;

	cr_assert_leq(len, room);
	memset(buf, 0, room);
	memcpy(buf, fx->in, len < fx->in_len ? len : fx->in_len);
	for (i = 0; i < MAX_PATCH && fx->patch[i].set; i++)
		buf[fx->patch[i].off] = fx->patch[i].val;
	if (fx->fix_ip_csum) {
		buf[F_IP + 10] = buf[F_IP + 11] = 0;
		c = ref_csum(buf + F_IP, 20);
		buf[F_IP + 10] = (uint8_t)(c >> 8);
		buf[F_IP + 11] = (uint8_t)c;
	}
	if (fx->fix_icmp_csum) {
		size_t icmp_len = (size_t)(buf[F_IP + 2] << 8 | buf[F_IP + 3]) - 20;

		buf[F_ICMP + 2] = buf[F_ICMP + 3] = 0;
		c = ref_csum(buf + F_ICMP, icmp_len);
		buf[F_ICMP + 2] = (uint8_t)(c >> 8);
		buf[F_ICMP + 3] = (uint8_t)c;
	}
	return len;
}

ParameterizedTestParameters(fixtures, rx)
{
	static int idx[N_FIXTURES];
	size_t i;

	for (i = 0; i < N_FIXTURES; i++)
		idx[i] = (int)i;
	return cr_make_param_array(int, idx, N_FIXTURES);
}

ParameterizedTest(int *i, fixtures, rx)
{
	const struct fixture *fx = &fixtures[*i];
	uint64_t before[SL_NET_STATS_COUNT];
	struct sl_net_result res;
	uint8_t buf[128];
	uint16_t len, data_len;
	uint32_t pkt_len;
	enum sl_net_verdict v;

	cr_log_info("fixture %d: %s", *i, fx->desc);
	t_if_init(&NIF, &F, &t_routes);
	len = fixture_frame(fx, buf, sizeof(buf));
	pkt_len = fx->pkt_len != 0 ? fx->pkt_len : len;
	data_len = fx->data_len != 0 ? fx->data_len : len;
	memset(&res, 0x5a, sizeof(res));
	t_stats(&NIF, before);

	v = sl_net_input(&NIF, buf, pkt_len, data_len, 1000, &res);

	cr_expect_eq(v, fx->verdict, "%s: verdict %d, expected %d", fx->desc, v, fx->verdict);
	t_expect_one_counter(&NIF, before, fx->counter, fx->desc);
	cr_expect_eq(t_stat(&NIF, "rx_frames"), 1, "%s", fx->desc);
	cr_expect_eq(t_stat(&NIF, "rx_bytes"), pkt_len, "%s", fx->desc);
	if (fx->verdict == SL_NET_TX) {
		cr_expect_eq(res.tx_len, fx->out_len, "%s: tx_len %u, expected %u", fx->desc,
			     res.tx_len, fx->out_len);
		cr_expect_arr_eq(buf, fx->out, fx->out_len, "%s: output bytes", fx->desc);
	}
	/* Receiving never allocates, sends or frees by itself. */
	cr_expect_eq(F.n_alloc + F.n_tx + F.n_free, 0, "%s", fx->desc);
	cr_expect_eq(fake_live(&F), 0);
}

/* The reference frames hold what their comments say (checksums included). */
Test(frames, self_consistent)
{
	cr_expect_eq(ref_csum(icmp_echo_req + F_IP, 20), 0);
	cr_expect_eq(ref_csum(icmp_echo_req + F_ICMP, 16), 0);
	cr_expect_eq(ref_csum(icmp_echo_rep_out + F_IP, 20), 0);
	cr_expect_eq(ref_csum(icmp_echo_rep_out + F_ICMP, 16), 0);
	cr_expect_eq(ref_csum(icmp_echo0_req + F_IP, 20), 0);
	cr_expect_eq(ref_csum(icmp_echo0_req + F_ICMP, 8), 0);
	cr_expect_eq(ref_csum(icmp_echo0_rep_out + F_IP, 20), 0);
	cr_expect_eq(ref_csum(icmp_echo0_rep_out + F_ICMP, 8), 0);
	cr_expect_eq(ref_csum(icmp_echo_rep_in + F_IP, 20), 0);
	cr_expect_eq(ref_csum(icmp_echo_rep_in + F_ICMP, 12), 0);
	cr_expect_eq(ref_csum(tcp_ack + F_IP, 20), 0);
	cr_expect_eq(ref_csum(udp_1byte + F_IP, 20), 0);
}

Test(fixtures, l4_result)
{
	struct sl_net_result res;
	uint8_t buf[60] = {0};

	t_if_init(&NIF, &F, NULL);
	memcpy(buf, udp_1byte, sizeof(udp_1byte));
	cr_assert_eq(sl_net_input(&NIF, buf, sizeof(buf), sizeof(buf), 0, &res), SL_NET_L4);
	cr_expect_eq(res.l4.src.v, T_IP4(198, 18, 0, 1).v);
	cr_expect_eq(res.l4.dst.v, T_IP4(198, 18, 0, 2).v);
	cr_expect_eq(res.l4.proto, SL_IPPROTO_UDP);
	cr_expect_eq(res.l4.ttl, 64);
	cr_expect_eq(res.l4.l3_off, 14);
	cr_expect_eq(res.l4.l4_off, 34);
	cr_expect_eq(res.l4.l4_len, 9, "from the total length, not the padded frame");

	memcpy(buf, tcp_ack, sizeof(tcp_ack));
	cr_assert_eq(sl_net_input(&NIF, buf, 54, 54, 0, &res), SL_NET_L4);
	cr_expect_eq(res.l4.proto, SL_IPPROTO_TCP);
	cr_expect_eq(res.l4.l4_len, 20);
	/* Multi-segment: the headers are in the first segment, the rest is the caller's. */
	cr_assert_eq(sl_net_input(&NIF, buf, 54, 34, 0, &res), SL_NET_L4);
	cr_expect_eq(res.l4.l4_len, 20);
}

/* A frame of exactly MTU + 14 bytes is accepted: a 1500-byte echo request is answered. */
Test(fixtures, mtu_sized_echo)
{
	static uint8_t buf[1514];
	struct sl_net_result res;
	uint16_t c;
	size_t i;

	t_if_init(&NIF, &F, NULL);
	memcpy(buf, icmp_echo_req, 42);
	for (i = 42; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	buf[F_IP + 2] = 1500 >> 8;
	buf[F_IP + 3] = 1500 & 0xff;
	buf[F_IP + 10] = buf[F_IP + 11] = 0;
	c = ref_csum(buf + F_IP, 20);
	buf[F_IP + 10] = (uint8_t)(c >> 8);
	buf[F_IP + 11] = (uint8_t)c;
	buf[F_ICMP + 2] = buf[F_ICMP + 3] = 0;
	c = ref_csum(buf + F_ICMP, 1480);
	buf[F_ICMP + 2] = (uint8_t)(c >> 8);
	buf[F_ICMP + 3] = (uint8_t)c;

	cr_assert_eq(sl_net_input(&NIF, buf, sizeof(buf), sizeof(buf), 0, &res), SL_NET_TX);
	cr_expect_eq(res.tx_len, 1514);
	cr_expect_eq(ref_csum(buf + F_IP, 20), 0);
	cr_expect_eq(ref_csum(buf + F_ICMP, 1480), 0);
	cr_expect_eq(buf[F_ICMP], 0);
	for (i = 42; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], (uint8_t)i, "data changed at %zu", i);

	cr_assert_eq(sl_net_input(&NIF, buf, 1515, sizeof(buf), 0, &res), SL_NET_DROP);
	cr_expect_eq(NIF.stats.drop_oversize, 1);
}

Test(fixtures, echo_reply_callback)
{
	uint8_t buf[sizeof(icmp_echo_rep_in)];
	struct sl_net_result res;

	t_if_init(&NIF, &F, NULL);
	memcpy(buf, icmp_echo_rep_in, sizeof(buf));
	cr_assert_eq(sl_net_input(&NIF, buf, sizeof(buf), sizeof(buf), 0, &res), SL_NET_DROP);
	cr_expect_eq(F.n_echo, 1);
	cr_expect_eq(F.echo_from.v, T_IP4(198, 18, 0, 1).v);
	cr_expect_eq(F.echo_ident, 0x4242);
	cr_expect_eq(F.echo_seq, 7);
	cr_expect_eq(F.echo_len, 4);
	cr_expect_arr_eq(F.echo_payload, "ping", 4);
	cr_expect_eq(NIF.stats.rx_icmp_echo_reply, 1);
}

/* echo_reply and neigh_learned may be NULL. */
Test(fixtures, echo_reply_without_callback)
{
	struct sl_net_ops partial = fake_ops;
	uint8_t buf[sizeof(icmp_echo_rep_in)];
	struct sl_net_result res;
	struct sl_net_if_conf conf;

	t_if_init(&NIF, &F, NULL);
	conf = NIF.conf;
	partial.echo_reply = NULL;
	partial.neigh_learned = NULL;
	cr_assert_eq(sl_net_if_init(&NIF, &conf, &partial, &F), 0);
	memcpy(buf, icmp_echo_rep_in, sizeof(buf));
	cr_assert_eq(sl_net_input(&NIF, buf, sizeof(buf), sizeof(buf), 0, &res), SL_NET_DROP);
	cr_expect_eq(NIF.stats.rx_icmp_echo_reply, 1);
	memcpy(buf, arp_reply_to_us, sizeof(arp_reply_to_us));
	cr_assert_eq(sl_net_input(&NIF, buf, 42, 42, 0, &res), SL_NET_DROP);
	cr_expect_eq(NIF.stats.neigh_learned, 1);
}

/* An echo request to us keeps the IPv4 TOS, identification and flags. */
Test(fixtures, echo_keeps_header_fields)
{
	uint8_t buf[sizeof(icmp_echo_req)];
	struct sl_net_result res;
	uint16_t c;

	t_if_init(&NIF, &F, NULL);
	memcpy(buf, icmp_echo_req, sizeof(buf));
	buf[F_IP + 1] = 0xb8; /* DSCP EF */
	buf[F_IP + 8] = 3;    /* TTL 3 */
	buf[F_IP + 10] = buf[F_IP + 11] = 0;
	c = ref_csum(buf + F_IP, 20);
	buf[F_IP + 10] = (uint8_t)(c >> 8);
	buf[F_IP + 11] = (uint8_t)c;
	cr_assert_eq(sl_net_input(&NIF, buf, sizeof(buf), sizeof(buf), 0, &res), SL_NET_TX);
	cr_expect_eq(buf[F_IP + 1], 0xb8);
	cr_expect_eq(buf[F_IP + 8], 64);
	cr_expect_eq(buf[F_IP + 4], 0xab);
	cr_expect_eq(buf[F_IP + 5], 0xcd);
	cr_expect_eq(buf[F_IP + 6], 0x40);
	cr_expect_eq(ref_csum(buf + F_IP, 20), 0);
	cr_expect_arr_eq(buf + F_ICMP, icmp_echo_rep_out + F_ICMP, 16);
}
