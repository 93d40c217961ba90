/**
 * @file
 * Shared helpers of the net unit tests: the interface every test uses (02:00:00:00:00:02,
 * 198.18.0.2/24, routes below), fake ops that record what the layer allocates, sends and
 * frees, counter access by name, and a reference checksum written apart from the code under
 * test.
 */
#ifndef SL_NET_TEST_H
#define SL_NET_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"

#define T_IP4(a, b, c, d)                                                                          \
	((struct sl_ip4){(uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |          \
			 (uint32_t)(d)})

#define T_OUR_MAC_BYTES 0x02, 0x00, 0x00, 0x00, 0x00, 0x02
#define T_PEER_MAC_BYTES 0x02, 0x00, 0x00, 0x00, 0x00, 0x01
#define T_REACHABLE_US 10000000u /* 10 s */
#define T_RETRY_US 1000000u	 /* 1 s */
#define T_MAX_TRIES 3

#define FAKE_POOL 64
#define FAKE_LOG 64

struct fake_pkt {
	uint8_t buf[2048];
	int live; /* allocated and not yet sent, freed or put back */
};

struct fake_tx {
	struct fake_pkt *pkt;
	uint16_t len;
	uint8_t bytes[128];
};

/* What the layer did through its ops. Records beyond FAKE_LOG are counted, not kept. */
struct fake {
	struct fake_pkt pool[FAKE_POOL];
	int fail_alloc;
	unsigned int n_alloc, n_tx, n_free, n_learned, n_echo;
	struct fake_tx tx[FAKE_LOG];
	void *freed[FAKE_LOG];
	struct sl_ip4 learned_ip;
	struct sl_mac learned_mac;
	struct sl_ip4 echo_from;
	uint16_t echo_ident, echo_seq, echo_len;
	uint8_t echo_payload[64];
};

extern const struct sl_net_ops fake_ops;
extern const struct sl_route_table t_routes;

/* Initialise <nif> on <f> with the test configuration; <routes> may be NULL. */
void t_if_init(struct sl_net_if *nif, struct fake *f, const struct sl_route_table *routes);
/* A packet the test owns (for sl_net_output), and its release after TX or DROP. */
struct fake_pkt *fake_get(struct fake *f);
void fake_put(struct fake_pkt *p);
/* Packets of the pool still allocated: 0 at the end of every test. */
unsigned int fake_live(const struct fake *f);

/* A counter by name, and all of them as an array in sl_net_stats_names order. */
uint64_t t_stat(const struct sl_net_if *nif, const char *name);
void t_stats(const struct sl_net_if *nif, uint64_t out[SL_NET_STATS_COUNT]);
/* Assert that among drop_* counters only <name> (or none when NULL) rose, by one, from
 * <before>; and <name> too when it is not a drop counter. */
void t_expect_one_counter(const struct sl_net_if *nif, const uint64_t before[SL_NET_STATS_COUNT],
			  const char *name, const char *what);

/* Reference Internet checksum: a plain byte loop, for fixtures and expected outputs. */
uint16_t ref_csum(const uint8_t *p, size_t len);

#endif /* SL_NET_TEST_H */
