/**
 * @file
 * The port impairment stage (EAL-free): packets of one direction of one port on one lcore
 * go in, and come out dropped, duplicated, reordered or late, as struct sl_impair_conf says.
 * Packets are opaque pointers (mbufs in the data plane); copies are made through a callback.
 * Time comes in as now_us. Off by default: the data plane does not call a stage that is off.
 */
#ifndef SL_IMPAIR_H
#define SL_IMPAIR_H

#include <stddef.h>
#include <stdint.h>

#include "impair-t.h"

#define SL_IMPAIR_LINE 8192    /* packets the delay line holds, power of two */
#define SL_IMPAIR_HOLD_US 2000 /* a held-back packet goes anyway after this long */

/** Make a copy of `pkt` (NULL when none can be had); free a packet. */
struct sl_impair_ops {
	void *(*copy)(void *user, void *pkt);
	void (*free)(void *user, void *pkt);
};

struct sl_impair {
	struct sl_impair_conf conf;
	const struct sl_impair_ops *ops;
	void *user;
	uint64_t rng;
	void *held;	     /* a packet held back for reordering */
	uint64_t held_since; /* when it was held */
	uint64_t last_due;   /* release time of the newest packet on the line: keeps order */
	uint32_t head, tail; /* delay line: [head, tail) */
	struct sl_impair_stats stats;
	void *line[SL_IMPAIR_LINE];
	uint64_t due[SL_IMPAIR_LINE];
};

/** @return 0, or -EINVAL (jitter larger than delay, missing ops). */
int sl_impair_init(struct sl_impair *im, const struct sl_impair_conf *conf,
		   const struct sl_impair_ops *ops, void *user, uint64_t seed);

/**
 * Pass `n` packets through the stage. Packets that may go now are written to `out` (at most
 * `max_out`; the rest are dropped and counted as overflow); delayed ones wait on the line.
 * @return the number of packets in `out`.
 */
unsigned int sl_impair_push(struct sl_impair *im, void **pkts, unsigned int n, void **out,
			    unsigned int max_out, uint64_t now_us);

/** Packets whose time has come (and a held packet that waited too long). */
unsigned int sl_impair_poll(struct sl_impair *im, void **out, unsigned int max_out,
			    uint64_t now_us);

/** True while packets wait in the stage (the loop must not sleep long then). */
static inline int
sl_impair_pending(const struct sl_impair *im)
{
	return im->head != im->tail || im->held != NULL;
}

/** Free everything the stage holds. */
void sl_impair_flush(struct sl_impair *im);

/** A probability in percent (0..100) as a fraction of 2^32. */
static inline uint32_t
sl_impair_pct(double pct)
{
	if (pct <= 0)
		return 0;
	if (pct >= 100)
		return UINT32_MAX;
	return (uint32_t)(pct / 100.0 * 4294967296.0);
}

#endif /* SL_IMPAIR_H */
