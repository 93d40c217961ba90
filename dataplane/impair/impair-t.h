/**
 * @file
 * Types of the port impairment stage: what to do to packets in one direction of one port
 * (random loss, duplication, reordering, delay with bounded jitter that keeps order) and the
 * counters of what was done. Plain data, no DPDK.
 */
#ifndef SL_IMPAIR_T_H
#define SL_IMPAIR_T_H

#include <stdbool.h>
#include <stdint.h>

/** Probabilities are fractions of 2^32 (0: never; UINT32_MAX: always). */
struct sl_impair_conf {
	bool enabled;	    /* anything set; a stage that is off is not called at all */
	uint32_t loss;	    /* drop the packet */
	uint32_t duplicate; /* send it twice */
	uint32_t reorder;   /* hold it back until the next packet has passed */
	uint32_t delay_us;  /* fixed delay */
	uint32_t jitter_us; /* +/- this much, never reordering packets (at most delay_us) */
	uint64_t seed;	    /* 0: seeded by the data plane */
};

#define SL_IMPAIR_STATS(X)                                                                         \
	X(impaired)   /* packets that entered the stage */                                         \
	X(dropped)    /* lost on purpose */                                                        \
	X(duplicated) /* extra copies made */                                                      \
	X(reordered)  /* held back behind the next packet */                                       \
	X(delayed)    /* put on the delay line */                                                  \
	X(overflow)   /* dropped because the delay line was full */

struct sl_impair_stats {
#define SL_IMPAIR_STATS_FIELD(n) uint64_t n;
	SL_IMPAIR_STATS(SL_IMPAIR_STATS_FIELD)
#undef SL_IMPAIR_STATS_FIELD
};

extern const char *const sl_impair_stats_names[];
#define SL_IMPAIR_STATS_COUNT (sizeof(struct sl_impair_stats) / sizeof(uint64_t))

#endif /* SL_IMPAIR_T_H */
