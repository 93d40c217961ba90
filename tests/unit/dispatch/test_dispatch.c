/*
 * Unit tests of control/dispatch: access log lines (time, '-' fields, quoting and escapes,
 * cut values, small buffers), latency quantiles from histogram buckets, counter sums; and the
 * retire FIFO that frees old views once their grace period ends.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-dispatch.h"
#include "sl_retire.h"

/* 2026-11-23T18:00:00Z */
#define T0_US (UINT64_C(1795456800) * 1000000)

static struct sl_cluster cl;

static void
view(void)
{
	memset(&cl, 0, sizeof(cl));
	cl.n_apps = 1;
	strcpy(cl.apps[0].name, "echo");
	cl.apps[0].name_len = 4;
	cl.n_nodes = 2;
	strcpy(cl.nodes[0].name, "198.18.0.11:10053");
	strcpy(cl.nodes[1].name, "198.18.0.12:10053");
}

static void
rec(struct sl_access_rec *r, const char *method, const char *uri, const char *event,
    const char *reqid)
{
	memset(r, 0, sizeof(*r));
	r->client.v = 0xc6120001;
	r->client_port = 40000;
	r->method_len = (uint8_t)strlen(method);
	memcpy(r->method, method, r->method_len);
	r->uri_len = (uint8_t)strlen(uri);
	memcpy(r->uri, uri, r->uri_len);
	r->event_len = (uint8_t)strlen(event);
	memcpy(r->event, event, r->event_len);
	r->reqid_len = (uint8_t)strlen(reqid);
	memcpy(r->reqid, reqid, r->reqid_len);
}

Test(alog, the_documented_line)
{
	struct sl_access_rec r;
	char buf[SL_ALOG_LINE_MAX];
	const char *want = "2026-11-23T18:00:00.123456Z client=198.18.0.1:40000 method=GET "
			   "uri=\"/echo/http?x=1\" app=echo event=http node=198.18.0.11:10053 "
			   "status=200 in=0 out=12 latency_us=1234 retries=0 reqid=abc worker=0\n";
	int n;

	view();
	rec(&r, "GET", "/echo/http?x=1", "http", "abc");
	r.app = 0;
	r.node = 0;
	r.status = 200;
	r.bytes_out = 12;
	r.latency_us = 1234;
	/* the worker's clock is 5 s; the offset brings it to T0 + 0.123456 s */
	r.mono_us = 5000000;
	n = sl_alog_format(buf, sizeof(buf), &r, T0_US + 123456 - 5000000, &cl);
	cr_assert_eq(n, (int)strlen(want), "%d: %s", n, buf);
	cr_expect_str_eq(buf, want);
}

Test(alog, dashes_for_none_and_empty)
{
	struct sl_access_rec r;
	char buf[SL_ALOG_LINE_MAX];

	view();
	rec(&r, "POST", "/nothing", "", "");
	r.app = SL_CL_NONE;
	r.node = SL_CL_NONE;
	r.status = 503;
	r.bytes_in = 7;
	r.retries = 2;
	r.worker = 3;
	r.mono_us = 59999999;
	cr_assert_gt(sl_alog_format(buf, sizeof(buf), &r, T0_US, &cl), 0);
	cr_expect_str_eq(buf, "2026-11-23T18:00:59.999999Z client=198.18.0.1:40000 method=POST "
			      "uri=/nothing app=- event=- node=- status=503 in=7 out=0 "
			      "latency_us=0 retries=2 reqid=- worker=3\n");
	/* indices the view does not have; no view at all */
	r.app = 5;
	r.node = 1;
	cr_assert_gt(sl_alog_format(buf, sizeof(buf), &r, T0_US, &cl), 0);
	cr_expect(strstr(buf, " app=#5 event=- node=198.18.0.12:10053 ") != NULL, "%s", buf);
	r.app = 0;
	cr_assert_gt(sl_alog_format(buf, sizeof(buf), &r, T0_US, NULL), 0);
	cr_expect(strstr(buf, " app=#0 event=- node=#1 ") != NULL, "%s", buf);
}

Test(alog, quoting_and_escapes)
{
	struct sl_access_rec r;
	char buf[SL_ALOG_LINE_MAX];

	view();
	rec(&r, "GET", "/a b\"c\\d\x01\x7f\xc3\xa9=", "ev", "id with space");
	r.app = 0;
	r.node = SL_CL_NONE;
	cr_assert_gt(sl_alog_format(buf, sizeof(buf), &r, T0_US, &cl), 0);
	cr_expect(strstr(buf, " uri=\"/a b\\\"c\\\\d\\x01\\x7f\\xc3\\xa9=\" ") != NULL, "%s", buf);
	cr_expect(strstr(buf, " reqid=\"id with space\" ") != NULL, "%s", buf);
	cr_expect(strstr(buf, " event=ev ") != NULL, "%s", buf);
	/* one line whatever the bytes */
	cr_expect_eq(strchr(buf, '\n'), buf + strlen(buf) - 1);
}

Test(alog, lengths_are_clamped_and_small_buffers_refused)
{
	struct sl_access_rec r;
	char buf[SL_ALOG_LINE_MAX];
	int n;

	view();
	rec(&r, "GET", "/", "e", "x");
	memset(r.uri, 'u', sizeof(r.uri));
	r.uri_len = 255; /* more than the array: cut at SL_ALOG_URI_MAX */
	memset(r.reqid, 'q', sizeof(r.reqid));
	r.reqid_len = SL_ALOG_REQID_MAX;
	r.app = SL_CL_NONE;
	r.node = SL_CL_NONE;
	n = sl_alog_format(buf, sizeof(buf), &r, T0_US, &cl);
	cr_assert_gt(n, 0);
	cr_expect(strstr(buf, " uri=uuuu") != NULL);
	cr_expect_eq(strspn(strstr(buf, " uri=") + 5, "u"), SL_ALOG_URI_MAX);
	cr_expect_eq(strspn(strstr(buf, " reqid=") + 7, "q"), SL_ALOG_REQID_MAX);
	/* the exact size fits (with its NUL); one less does not */
	cr_expect_eq(sl_alog_format(buf, (size_t)n + 1, &r, T0_US, &cl), n);
	cr_expect_eq(sl_alog_format(buf, (size_t)n, &r, T0_US, &cl), -ENOSPC);
	cr_expect_eq(sl_alog_format(buf, 10, &r, T0_US, &cl), -ENOSPC);
	cr_expect_eq(sl_alog_format(buf, 0, &r, T0_US, &cl), -ENOSPC);
}

Test(alog, worst_case_fits_the_line_max)
{
	struct sl_access_rec r;
	char buf[SL_ALOG_LINE_MAX];

	memset(&r, 0x01, sizeof(r)); /* every byte a control byte: escaped 4 to 1 */
	r.method_len = sizeof(r.method);
	r.uri_len = sizeof(r.uri);
	r.event_len = sizeof(r.event);
	r.reqid_len = sizeof(r.reqid);
	r.app = SL_CL_NONE;
	r.node = SL_CL_NONE;
	r.bytes_in = UINT64_MAX;
	r.bytes_out = UINT64_MAX;
	r.mono_us = 0;
	cr_expect_gt(sl_alog_format(buf, sizeof(buf), &r, T0_US, NULL), 0);
}

Test(quantile, buckets_and_bounds)
{
	uint64_t lat[SL_LAT_BUCKETS] = {0}, le = 0;

	cr_expect_eq(sl_lat_quantile(lat, 0.5, &le), -ENODATA);
	/* 100 samples: 50 of 0 us, 40 in [512, 1024), 9 in [2048, 4096), 1 above 2^24 */
	lat[sl_lat_bucket(0)] = 50;
	lat[sl_lat_bucket(700)] = 40;
	lat[sl_lat_bucket(3000)] = 9;
	lat[sl_lat_bucket(UINT64_C(1) << 30)] = 1;
	cr_assert_eq(sl_lat_bucket(700), 10);
	cr_assert_eq(sl_lat_bucket(3000), 12);
	cr_assert_eq(sl_lat_bucket(UINT64_C(1) << 30), SL_LAT_BUCKETS - 1);
	cr_assert_eq(sl_lat_quantile(lat, 0.5, &le), 0);
	cr_expect_eq(le, 0, "the 50th sample is 0 us");
	cr_assert_eq(sl_lat_quantile(lat, 0.51, &le), 0);
	cr_expect_eq(le, 1023);
	cr_assert_eq(sl_lat_quantile(lat, 0.90, &le), 0);
	cr_expect_eq(le, 1023, "the 90th sample is in [512, 1024)");
	cr_assert_eq(sl_lat_quantile(lat, 0.91, &le), 0);
	cr_expect_eq(le, 4095);
	cr_assert_eq(sl_lat_quantile(lat, 0.99, &le), 0);
	cr_expect_eq(le, 4095);
	cr_assert_eq(sl_lat_quantile(lat, 1.0, &le), 0);
	cr_expect_eq(le, UINT64_MAX, "the last bucket has no bound");
	/* one sample: every quantile is its bucket */
	memset(lat, 0, sizeof(lat));
	lat[sl_lat_bucket(1)] = 1;
	cr_assert_eq(sl_lat_quantile(lat, 0.01, &le), 0);
	cr_expect_eq(le, 1);
	cr_assert_eq(sl_lat_quantile(lat, 0.99, &le), 0);
	cr_expect_eq(le, 1);
	/* a bucket's bound holds every latency counted in it */
	for (uint64_t us = 0; us < 100000; us += 7) {
		memset(lat, 0, sizeof(lat));
		lat[sl_lat_bucket(us)] = 1;
		cr_assert_eq(sl_lat_quantile(lat, 0.5, &le), 0);
		cr_assert_leq(us, le, "%llu > %llu", (unsigned long long)us,
			      (unsigned long long)le);
		cr_assert_lt(le, 2 * us + 1, "bound within a factor of 2");
	}
}

Test(bestats, sums)
{
	static struct sl_be_stats a, b;

	a.apps[1].requests = 3;
	a.apps[1].lat[4] = 2;
	a.nodes[0].bytes_out = 10;
	a.node_state[0].conns = 2;
	a.node_state[0].down = false;
	a.alog_dropped = 1;
	b.apps[1].requests = 4;
	b.apps[1].lat[4] = 1;
	b.nodes[0].bytes_out = 5;
	b.node_state[0].conns = 1;
	b.node_state[0].conn_failures = 6;
	b.node_state[0].down = true;
	b.protocol_errors = 2;
	b.inflight = 9;
	sl_be_stats_add(&a, &b);
	cr_expect_eq(a.apps[1].requests, 7);
	cr_expect_eq(a.apps[1].lat[4], 3);
	cr_expect_eq(a.nodes[0].bytes_out, 15);
	cr_expect_eq(a.node_state[0].conns, 3);
	cr_expect_eq(a.node_state[0].conn_failures, 6);
	cr_expect(a.node_state[0].down);
	cr_expect_eq(a.alog_dropped, 1);
	cr_expect_eq(a.protocol_errors, 2);
	cr_expect_eq(a.inflight, 9);
	cr_expect_str_eq(sl_be_counter_names[0], "requests");
	cr_expect_str_eq(sl_be_counter_names[SL_BE_N_COUNTERS - 1], "bytes_out");
}

/* ---- retire FIFO ---- */

static uint64_t acked; /* the fake grace period: tokens <= acked are over */
static int freed[256], n_freed;

static bool
fake_done(void *ctx, uint64_t token)
{
	(void)ctx;
	return token <= acked;
}

static void
fake_free(void *p)
{
	freed[n_freed++] = *(int *)p;
}

Test(retire, in_order_and_only_when_over)
{
	static struct sl_retire r;
	static int objs[SL_RETIRE_MAX + 1];

	for (int i = 0; i < SL_RETIRE_MAX + 1; i++)
		objs[i] = i;
	acked = 0;
	n_freed = 0;
	cr_expect_eq(sl_retire_reclaim(&r, fake_done, NULL, fake_free), 0, "empty");
	cr_expect_eq(sl_retire_push(&r, &objs[0], 1), 0);
	cr_expect_eq(sl_retire_push(&r, &objs[1], 2), 0);
	cr_expect_eq(sl_retire_push(&r, &objs[2], 3), 0);
	cr_expect_eq(sl_retire_reclaim(&r, fake_done, NULL, fake_free), 0, "no grace period over");
	acked = 2;
	cr_expect_eq(sl_retire_reclaim(&r, fake_done, NULL, fake_free), 2);
	cr_expect_eq(n_freed, 2);
	cr_expect_eq(freed[0], 0);
	cr_expect_eq(freed[1], 1);
	cr_expect_eq(r.n, 1);
	/* fill it up, wrapping around: tokens 4..66 */
	for (int i = 0; i < SL_RETIRE_MAX - 1; i++)
		cr_expect_eq(
			sl_retire_push(&r, &objs[(3 + i) % (SL_RETIRE_MAX + 1)], 4 + (uint64_t)i),
			0);
	cr_expect_eq(sl_retire_push(&r, &objs[0], 100), -ENOSPC);
	cr_expect(sl_retire_full(&r));
	acked = 10;
	cr_expect_eq(sl_retire_reclaim(&r, fake_done, NULL, fake_free), 8, "tokens 3..10");
	cr_expect_eq(freed[2], 2);
	cr_expect_not(sl_retire_full(&r));
	/* NULL check: everything (at exit, workers stopped) */
	cr_expect_eq(sl_retire_reclaim(&r, NULL, NULL, fake_free), SL_RETIRE_MAX - 8);
	cr_expect_eq(r.n, 0);
	cr_expect_eq(n_freed, 2 + SL_RETIRE_MAX);
}
