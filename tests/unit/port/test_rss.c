/**
 * @file
 * rss.h: the NIC's Toeplitz hash as sluice predicts it, against the published values of
 * Microsoft's RSS verification suite (IPv4 with TCP ports), and the queue mapping that picks
 * local ports for active opens. No EAL: rte_softrss() is a header function.
 */
#include <criterion/criterion.h>

#include "rss.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

Test(rss, microsoft_verification_vectors)
{
	static const struct {
		uint32_t src, dst;
		uint16_t sport, dport;
		uint32_t hash;
	} v[] = {
		{IP4(66, 9, 149, 187), IP4(161, 142, 100, 80), 2794, 1766, 0x51ccc178},
		{IP4(199, 92, 111, 2), IP4(65, 69, 140, 83), 14230, 4739, 0xc626b0ea},
		{IP4(24, 19, 198, 95), IP4(12, 22, 207, 184), 12898, 38024, 0x5c2b394a},
		{IP4(38, 27, 205, 30), IP4(209, 142, 163, 6), 48228, 2217, 0xafc7327f},
		{IP4(153, 39, 163, 191), IP4(202, 188, 127, 2), 44251, 1303, 0x10e828a2},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		cr_expect_eq(sl_rss_hash(sl_rss_key, v[i].src, v[i].dst, v[i].sport, v[i].dport),
			     v[i].hash, "vector %zu", i);
}

Test(rss, local_port_for_each_queue)
{
	/* as lport_pick() does: the reply (remote -> us) must hash to the opening queue */
	const uint32_t laddr = IP4(198, 18, 0, 2), raddr = IP4(198, 18, 0, 1);
	const uint16_t rport = 7;

	for (uint16_t queues = 2; queues <= 4; queues++) {
		for (uint16_t q = 0; q < queues; q++) {
			unsigned int tries = 0;
			uint16_t p = 32768;

			while (sl_rss_queue(sl_rss_hash(sl_rss_key, raddr, laddr, rport, p), 128,
					    queues) != q) {
				p++;
				tries++;
				cr_assert_lt(tries, 200, "no port for queue %u of %u", q, queues);
			}
			cr_expect_eq(sl_rss_queue(sl_rss_hash(sl_rss_key, raddr, laddr, rport, p),
						  128, queues),
				     q);
		}
	}
}

Test(rss, reta_mapping)
{
	/* entry i of a 128-entry table is queue i % n */
	cr_expect_eq(sl_rss_queue(0x12345680u, 128, 2), 0);
	cr_expect_eq(sl_rss_queue(0x12345681u, 128, 2), 1);
	cr_expect_eq(sl_rss_queue(0xffffffffu, 128, 3), 127 % 3);
	cr_expect_eq(sl_rss_queue(0x00000080u, 128, 3), 0);
}
