/**
 * @file
 * Fake ops and helpers shared by the net unit tests.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "net-test.h"

static void *
fake_alloc(void *user, uint8_t **frame, uint16_t room)
{
	struct fake *f = user;
	unsigned int i;

	cr_assert_leq(room, sizeof(f->pool[0].buf));
	if (f->fail_alloc)
		return NULL;
	for (i = 0; i < FAKE_POOL; i++) {
		if (!f->pool[i].live) {
			f->pool[i].live = 1;
			memset(f->pool[i].buf, 0xee, sizeof(f->pool[i].buf));
			*frame = f->pool[i].buf;
			f->n_alloc++;
			return &f->pool[i];
		}
	}
	return NULL;
}

static void
fake_tx(void *user, void *pkt, uint16_t len)
{
	struct fake *f = user;
	struct fake_pkt *p = pkt;

	if (f->n_tx < FAKE_LOG) {
		f->tx[f->n_tx].pkt = p;
		f->tx[f->n_tx].len = len;
		memcpy(f->tx[f->n_tx].bytes, p->buf,
		       len < sizeof(f->tx[0].bytes) ? len : sizeof(f->tx[0].bytes));
	}
	f->n_tx++;
	cr_assert(p->live, "tx of a packet nobody owns");
	p->live = 0;
}

static void
fake_free(void *user, void *pkt)
{
	struct fake *f = user;
	struct fake_pkt *p = pkt;

	if (f->n_free < FAKE_LOG)
		f->freed[f->n_free] = p;
	f->n_free++;
	cr_assert(p->live, "free of a packet nobody owns");
	p->live = 0;
}

static void
fake_learned(void *user, struct sl_ip4 ip, const struct sl_mac *mac)
{
	struct fake *f = user;

	f->n_learned++;
	f->learned_ip = ip;
	f->learned_mac = *mac;
}

static void
fake_echo(void *user, struct sl_ip4 from, uint16_t ident, uint16_t seq, const uint8_t *payload,
	  uint16_t payload_len)
{
	struct fake *f = user;

	f->n_echo++;
	f->echo_from = from;
	f->echo_ident = ident;
	f->echo_seq = seq;
	f->echo_len = payload_len;
	memcpy(f->echo_payload, payload,
	       payload_len < sizeof(f->echo_payload) ? payload_len : sizeof(f->echo_payload));
}

const struct sl_net_ops fake_ops = {
	.alloc = fake_alloc,
	.tx = fake_tx,
	.free = fake_free,
	.neigh_learned = fake_learned,
	.echo_reply = fake_echo,
};

/* default via .1, 10/8 via .11, 10.1/16 via .12, 192.0.2/24 on link */
const struct sl_route_table t_routes = {
	.n = 4,
	.r =
		{
			{.dst = T_IP4(0, 0, 0, 0),
			 .prefix_len = 0,
			 .gateway = T_IP4(198, 18, 0, 1)},
			{.dst = T_IP4(10, 0, 0, 0),
			 .prefix_len = 8,
			 .gateway = T_IP4(198, 18, 0, 11)},
			{.dst = T_IP4(10, 1, 0, 0),
			 .prefix_len = 16,
			 .gateway = T_IP4(198, 18, 0, 12)},
			{.dst = T_IP4(192, 0, 2, 0),
			 .prefix_len = 24,
			 .gateway = T_IP4(0, 0, 0, 0)},
		},
};

void
t_if_init(struct sl_net_if *nif, struct fake *f, const struct sl_route_table *routes)
{
	struct sl_net_if_conf conf = {
		.port_id = 0,
		.mtu = 1500,
		.mac = {{T_OUR_MAC_BYTES}},
		.addr = T_IP4(198, 18, 0, 2),
		.prefix_len = 24,
		.routes = routes,
		.neigh = {.reachable_us = T_REACHABLE_US,
			  .retry_us = T_RETRY_US,
			  .max_tries = T_MAX_TRIES},
	};

	memset(f, 0, sizeof(*f));
	cr_assert_eq(sl_net_if_init(nif, &conf, &fake_ops, f), 0);
}

struct fake_pkt *
fake_get(struct fake *f)
{
	uint8_t *frame;
	struct fake_pkt *p = fake_alloc(f, &frame, 64);

	cr_assert_not_null(p);
	f->n_alloc--; /* count only what the layer allocates */
	memset(p->buf, 0, sizeof(p->buf));
	return p;
}

void
fake_put(struct fake_pkt *p)
{
	cr_assert(p->live);
	p->live = 0;
}

unsigned int
fake_live(const struct fake *f)
{
	unsigned int i, n = 0;

	for (i = 0; i < FAKE_POOL; i++)
		n += f->pool[i].live != 0;
	return n;
}

void
t_stats(const struct sl_net_if *nif, uint64_t out[SL_NET_STATS_COUNT])
{
	memcpy(out, &nif->stats, sizeof(nif->stats));
}

uint64_t
t_stat(const struct sl_net_if *nif, const char *name)
{
	uint64_t s[SL_NET_STATS_COUNT];
	size_t i;

	t_stats(nif, s);
	for (i = 0; i < SL_NET_STATS_COUNT; i++)
		if (strcmp(sl_net_stats_names[i], name) == 0)
			return s[i];
	cr_assert_fail("no counter named %s", name);
	return 0;
}

void
t_expect_one_counter(const struct sl_net_if *nif, const uint64_t before[SL_NET_STATS_COUNT],
		     const char *name, const char *what)
{
	uint64_t after[SL_NET_STATS_COUNT];
	int found = name == NULL;
	size_t i;

	t_stats(nif, after);
	for (i = 0; i < SL_NET_STATS_COUNT; i++) {
		const char *n = sl_net_stats_names[i];
		int is_it = name != NULL && strcmp(n, name) == 0;

		found |= is_it;
		if (is_it)
			cr_expect_eq(after[i] - before[i], 1, "%s: %s rose by %llu, not 1", what, n,
				     (unsigned long long)(after[i] - before[i]));
		else if (strncmp(n, "drop_", 5) == 0)
			cr_expect_eq(after[i], before[i], "%s: %s rose too", what, n);
	}
	cr_assert(found, "%s: no counter named %s", what, name);
}

uint16_t
ref_csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i < len; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}
