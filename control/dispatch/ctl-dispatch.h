/**
 * @file
 * The control thread's side of dispatch, EAL-free: access log lines from the workers' records,
 * and the presentation of their counters (sums, latency quantiles from the histograms).
 */
#ifndef SL_CTL_DISPATCH_H
#define SL_CTL_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "backend-t.h"

/** Longest line sl_alog_format() writes (every field at its longest, escaped). */
#define SL_ALOG_LINE_MAX 2048

/**
 * One access log line (logfmt, ending in '\n') for `r`:
 *   2026-11-23T18:00:00.123456Z client=198.18.0.1:40000 method=GET uri="/echo/http?x=1"
 *   app=echo event=http node=198.18.0.11:10053 status=200 in=0 out=12 latency_us=1234
 *   retries=0 reqid=abc worker=0
 * The time is r->mono_us + utc_offset_us (mod 2^64) in UTC. app and node are names from the
 * view `cl` (NULL: none), "-" for SL_CL_NONE, "#N" when the view has no such index. Empty
 * values are "-"; values with a space, '"', '=', '\\', a control byte or a byte >= 0x80 are
 * quoted, with \" \\ and \xNN escapes.
 * @return the length written (without the NUL), or -ENOSPC when `len` is too small.
 */
int sl_alog_format(char *buf, size_t len, const struct sl_access_rec *r, uint64_t utc_offset_us,
		   const struct sl_cluster *cl);

/** Add every counter of `in` into `sum` (node_state: gauges add, `down` is or'ed). */
void sl_be_stats_add(struct sl_be_stats *sum, const struct sl_be_stats *in);

/** Names of the SL_BE_COUNTERS fields, in order (SL_BE_N_COUNTERS of them). */
extern const char *const sl_be_counter_names[];
#define SL_BE_N_COUNTERS ((sizeof(struct sl_be_counters) / sizeof(uint64_t)) - SL_LAT_BUCKETS)

/**
 * The q-quantile (0 < q <= 1) of a latency histogram (backend-t.h buckets), as the upper bound
 * of the bucket it falls in: the smallest bucket whose cumulative count reaches ceil(q * n).
 * @return 0 and *le_us (latency <= *le_us microseconds; UINT64_MAX for the last bucket,
 *   which has no bound: above 2^24 us), or -ENODATA when the histogram is empty.
 */
int sl_lat_quantile(const uint64_t lat[SL_LAT_BUCKETS], double q, uint64_t *le_us);

#endif /* SL_CTL_DISPATCH_H */
