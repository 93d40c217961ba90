/*
 * Dispatch counters on the control thread: sums over workers and latency quantiles.
 */
#include "ctl-dispatch.h"

#include <errno.h>

const char *const sl_be_counter_names[] = {
#define SL_BE_COUNTER_NAME(n) #n,
	SL_BE_COUNTERS(SL_BE_COUNTER_NAME)
#undef SL_BE_COUNTER_NAME
};

_Static_assert(sizeof(sl_be_counter_names) / sizeof(sl_be_counter_names[0]) == SL_BE_N_COUNTERS,
	       "a name per counter");

static void
add(uint64_t *dst, const uint64_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] += src[i];
}

void
sl_be_stats_add(struct sl_be_stats *sum, const struct sl_be_stats *in)
{
	const size_t per = sizeof(struct sl_be_counters) / sizeof(uint64_t);

	add((uint64_t *)sum->apps, (const uint64_t *)in->apps, SL_CL_MAX_APPS * per);
	add((uint64_t *)sum->nodes, (const uint64_t *)in->nodes, SL_CL_MAX_NODES * per);
	for (unsigned int i = 0; i < SL_CL_MAX_NODES; i++) {
		struct sl_be_node_state *o = &sum->node_state[i];
		const struct sl_be_node_state *s = &in->node_state[i];

		o->conns_opened += s->conns_opened;
		o->conn_failures += s->conn_failures;
		o->passive_down += s->passive_down;
		o->conns += s->conns;
		o->inflight += s->inflight;
		o->down |= s->down;
	}
	sum->inflight += in->inflight;
	sum->alog_dropped += in->alog_dropped;
	sum->protocol_errors += in->protocol_errors;
}

int
sl_lat_quantile(const uint64_t lat[SL_LAT_BUCKETS], double q, uint64_t *le_us)
{
	uint64_t n = 0, rank, cum = 0;

	for (unsigned int b = 0; b < SL_LAT_BUCKETS; b++)
		n += lat[b];
	if (n == 0)
		return -ENODATA;
	if (q <= 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = (uint64_t)(q * (double)n);
	if ((double)rank < q * (double)n)
		rank++; /* ceil */
	if (rank == 0)
		rank = 1;
	for (unsigned int b = 0; b < SL_LAT_BUCKETS; b++) {
		cum += lat[b];
		if (cum >= rank) {
			/* bucket b holds [2^(b-1), 2^b) us, bucket 0 less than 1 us */
			*le_us = b == SL_LAT_BUCKETS - 1 ? UINT64_MAX : (UINT64_C(1) << b) - 1;
			return 0;
		}
	}
	*le_us = UINT64_MAX; /* not reached */
	return 0;
}
