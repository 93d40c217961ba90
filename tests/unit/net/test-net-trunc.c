/**
 * @file
 * Every truncated prefix of valid frames, placed so that its last byte is the last byte before
 * a PROT_NONE page: any read past the data faults. Also random bytes behind valid Ethernet
 * headers, against the same guard page.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "frames.h"
#include "net-test.h"

static struct fake F;
static struct sl_net_if NIF;

/* The first byte after a readable page; the page after it is PROT_NONE. */
static uint8_t *
guard_end(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *m;

	cr_assert_gt(pg, 0);
	m = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(m, MAP_FAILED);
	cr_assert_eq(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
	return m + pg;
}

static uint64_t
drops(const struct sl_net_if *nif)
{
	uint64_t s[SL_NET_STATS_COUNT], n = 0;
	size_t i;

	t_stats(nif, s);
	for (i = 0; i < SL_NET_STATS_COUNT; i++)
		if (strncmp(sl_net_stats_names[i], "drop_", 5) == 0)
			n += s[i];
	return n;
}

/*
 * Feed every prefix of <frame> against the guard page, both as a short frame (pkt_len =
 * data_len = k) and as the first k bytes of the whole frame (data_len = k < pkt_len).
 */
static void
all_prefixes(const uint8_t *frame, uint16_t len, enum sl_net_verdict whole, const char *what)
{
	uint8_t *end = guard_end();
	struct sl_net_result res;
	uint64_t d0, t0;
	uint16_t k;
	int seg;

	for (seg = 0; seg < 2; seg++) {
		for (k = 0; k < len; k++) {
			uint8_t *f = end - k;

			t_if_init(&NIF, &F, &t_routes);
			memcpy(f, frame, k);
			d0 = drops(&NIF);
			t0 = NIF.stats.drop_truncated;
			cr_expect_eq(sl_net_input(&NIF, f, seg ? len : k, k, 0, &res), SL_NET_DROP,
				     "%s: prefix of %u bytes (%s) not dropped", what, k,
				     seg ? "first segment" : "frame");
			cr_expect_eq(drops(&NIF) - d0, 1, "%s: prefix %u", what, k);
			cr_expect_eq(NIF.stats.drop_truncated - t0, 1, "%s: prefix %u", what, k);
			cr_expect_eq(F.n_tx + F.n_alloc, 0);
		}
	}
	/* The whole frame against the guard page is processed, and answered in bounds. */
	t_if_init(&NIF, &F, &t_routes);
	memcpy(end - len, frame, len);
	cr_expect_eq(sl_net_input(&NIF, end - len, len, len, 0, &res), whole, "%s", what);
	cr_expect_eq(drops(&NIF), 0, "%s", what);
}

Test(truncated, arp_request)
{
	all_prefixes(arp_req_for_us, sizeof(arp_req_for_us), SL_NET_TX, "ARP request");
}

Test(truncated, arp_reply)
{
	uint8_t *end = guard_end();
	struct sl_net_result res;
	uint16_t k;

	/* Replies are handled without answer: prefixes drop, the whole one is learned. */
	for (k = 0; k < sizeof(arp_reply_to_us); k++) {
		t_if_init(&NIF, &F, &t_routes);
		memcpy(end - k, arp_reply_to_us, k);
		cr_expect_eq(sl_net_input(&NIF, end - k, k, k, 0, &res), SL_NET_DROP);
		cr_expect_eq(NIF.stats.drop_truncated, 1, "prefix %u", k);
		cr_expect_null(sl_net_neigh_find(&NIF, T_IP4(198, 18, 0, 1)));
	}
}

Test(truncated, icmp_echo_request)
{
	all_prefixes(icmp_echo_req, sizeof(icmp_echo_req), SL_NET_TX, "ICMP echo request");
}

Test(truncated, icmp_echo_reply)
{
	/* Handled, hence SL_NET_DROP without a drop counter. */
	all_prefixes(icmp_echo_rep_in, sizeof(icmp_echo_rep_in), SL_NET_DROP, "ICMP echo reply");
	cr_expect_eq(F.n_echo, 1);
}

Test(truncated, tcp_ack)
{
	uint8_t *end = guard_end();
	struct sl_net_result res;
	uint16_t k;

	for (k = 0; k < sizeof(tcp_ack); k++) {
		t_if_init(&NIF, &F, &t_routes);
		memcpy(end - k, tcp_ack, k);
		cr_expect_eq(sl_net_input(&NIF, end - k, k, k, 0, &res), SL_NET_DROP, "prefix %u",
			     k);
		cr_expect_eq(NIF.stats.drop_truncated, 1, "prefix %u", k);
	}
	memcpy(end - sizeof(tcp_ack), tcp_ack, sizeof(tcp_ack));
	cr_expect_eq(sl_net_input(&NIF, end - sizeof(tcp_ack), 54, 54, 0, &res), SL_NET_L4);
}

/* xorshift32: reproducible noise. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Random headers and lengths behind our MAC and the IPv4 or ARP ethertype, sometimes with
 * valid version/IHL, checksum and addresses so that the deeper checks are reached. Nothing may
 * fault, and a dropped frame moves at most one drop counter (none when it was handled).
 */
Test(truncated, random_frames)
{
	static const uint8_t head_ip[] = {T_OUR_MAC_BYTES, T_PEER_MAC_BYTES, 0x08, 0x00};
	static const uint8_t head_arp[] = {T_OUR_MAC_BYTES, T_PEER_MAC_BYTES, 0x08, 0x06};
	uint8_t *end = guard_end();
	struct sl_net_result res;
	uint32_t seed = 0x12345678;
	uint8_t buf[256];
	unsigned int it, i;

	t_if_init(&NIF, &F, &t_routes);
	for (it = 0; it < 200000; it++) {
		uint16_t len = (uint16_t)(rnd(&seed) % sizeof(buf));
		uint32_t pkt_len = len + (rnd(&seed) % 4 == 0 ? rnd(&seed) % 64 : 0);
		int arp = rnd(&seed) & 1;
		uint64_t d0 = drops(&NIF);
		enum sl_net_verdict v;

		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd(&seed);
		memcpy(buf, arp ? head_arp : head_ip, len < 14 ? len : 14);
		if (arp && len >= 22 && rnd(&seed) % 2) {
			memcpy(buf + 14, arp_req_for_us + 14, 8);
			buf[21] = (uint8_t)(1 + rnd(&seed) % 2);
			if (len >= 42 && rnd(&seed) % 2)
				memcpy(buf + 38, arp_req_for_us + 38, 4);
		}
		if (!arp && len >= 34 && rnd(&seed) % 2) {
			uint16_t c, tl = (uint16_t)(20 + rnd(&seed) % (len - 20));

			buf[14] = 0x45;
			buf[16] = (uint8_t)(tl >> 8);
			buf[17] = (uint8_t)tl;
			buf[20] = buf[21] = 0;
			buf[22] = 64;
			buf[23] = (uint8_t)(rnd(&seed) % 3 == 0 ? 1 : rnd(&seed) % 3 == 0 ? 6 : 17);
			memcpy(buf + 26, icmp_echo_req + 26, 8);
			buf[24] = buf[25] = 0;
			c = ref_csum(buf + 14, 20);
			buf[24] = (uint8_t)(c >> 8);
			buf[25] = (uint8_t)c;
		}
		memcpy(end - len, buf, len);
		v = sl_net_input(&NIF, end - len, pkt_len, len, 0, &res);
		cr_assert_leq(drops(&NIF) - d0, 1, "iteration %u", it);
		if (v != SL_NET_DROP)
			cr_assert_eq(drops(&NIF), d0, "iteration %u", it);
		if (v == SL_NET_TX)
			cr_assert_leq(res.tx_len, len, "iteration %u", it);
		if (v == SL_NET_L4)
			cr_assert_leq((uint32_t)res.l4.l4_off + res.l4.l4_len, pkt_len);
	}
	cr_expect_eq(fake_live(&F), 0);
	cr_log_info("random frames: %llu dropped, %llu L4, %llu echo replies, %llu ARP replies",
		    (unsigned long long)drops(&NIF), (unsigned long long)NIF.stats.rx_l4,
		    (unsigned long long)NIF.stats.tx_icmp_echo_reply,
		    (unsigned long long)NIF.stats.tx_arp_reply);
}
