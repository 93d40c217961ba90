/*
 * dataplane/http/http1.c: limits (414, 431 bytes and count, 413 for Content-Length and
 * chunked, the chunk line), init, and the calls around feeding: keep_from, idle, in_body,
 * DONE after HEAD, sticky errors, reset, reason phrases and method names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "http-test.h"

/* A request with a target of `n` bytes ("/" then 'a's) into buf; returns its length. */
static size_t
with_target(char *buf, size_t cap, size_t n)
{
	size_t l = 0;

	l += (size_t)snprintf(buf, cap, "GET /");
	memset(buf + l, 'a', n - 1);
	l += n - 1;
	l += (size_t)snprintf(buf + l, cap - l, " HTTP/1.1\r\nHost: h\r\n\r\n");
	return l;
}

Test(http1_limits, uri_414)
{
	struct sl_http1_limits lim = {.uri_bytes = 16};
	static struct run r;

	expect_accept_lim("GET /234567890123456 HTTP/1.1\r\nHost: h\r\n\r\n",
			  strlen("GET /234567890123456 HTTP/1.1\r\nHost: h\r\n\r\n"), &lim, &r);
	cr_assert_eq(r.req.target.len, 16);
	expect_reject_lim("GET /2345678901234567 HTTP/1.1\r\nHost: h\r\n\r\n",
			  strlen("GET /2345678901234567 HTTP/1.1\r\nHost: h\r\n\r\n"), &lim, 414,
			  "RFC 9112 3");
	/* every form */
	expect_accept_lim("GET http://h.ex/2345 HTTP/1.1\r\nHost: h\r\n\r\n",
			  strlen("GET http://h.ex/2345 HTTP/1.1\r\nHost: h\r\n\r\n"), &lim, &r);
	expect_reject_lim("GET http://h.ex/23456 HTTP/1.1\r\nHost: h\r\n\r\n",
			  strlen("GET http://h.ex/23456 HTTP/1.1\r\nHost: h\r\n\r\n"), &lim, 414,
			  "RFC 9112 3");
	expect_reject_lim("GET abcdefghijklmnopq://h HTTP/1.1\r\nHost: h\r\n\r\n",
			  strlen("GET abcdefghijklmnopq://h HTTP/1.1\r\nHost: h\r\n\r\n"), &lim,
			  414, "RFC 9112 3");
	expect_accept_lim("CONNECT abcdefghijkl:443 HTTP/1.1\r\nHost: h\r\n\r\n",
			  strlen("CONNECT abcdefghijkl:443 HTTP/1.1\r\nHost: h\r\n\r\n"), &lim, &r);
	expect_reject_lim("CONNECT abcdefghijklm:443 HTTP/1.1\r\nHost: h\r\n\r\n",
			  strlen("CONNECT abcdefghijklm:443 HTTP/1.1\r\nHost: h\r\n\r\n"), &lim,
			  414, "RFC 9112 3");
}

Test(http1_limits, uri_414_default)
{
	static char buf[9000];
	static struct run r;
	size_t l;

	l = with_target(buf, sizeof(buf), 8192);
	run_whole((const uint8_t *)buf, l, NULL, false, &r);
	cr_assert(r.done);
	cr_assert_eq(r.req.target.len, 8192);
	l = with_target(buf, sizeof(buf), 8193);
	run_whole((const uint8_t *)buf, l, NULL, false, &r);
	cr_assert_eq(r.status, 414);
	cr_assert_eq(r.err_pos, 4 + 8192, "at the first byte over: %u", r.err_pos);
	run_bytes((const uint8_t *)buf, l, NULL, false, &r);
	cr_assert_eq(r.status, 414);
	cr_assert_str_eq(sl_http1_reason(414), "URI Too Long");
}

Test(http1_limits, head_bytes_431)
{
	/* "GET / HTTP/1.1\r\n" 16 + "Host: h\r\n" 9 + "X: 0123456789\r\n" 15 = 40, + "\r\n" */
	struct sl_http1_limits lim = {.head_bytes = 42};
	static struct run r;

	expect_accept_lim("GET / HTTP/1.1\r\nHost: h\r\nX: 0123456789\r\n\r\n", 42, &lim, &r);
	expect_reject_lim("GET / HTTP/1.1\r\nHost: h\r\nX: 01234567890\r\n\r\n", 43, &lim, 431,
			  "RFC 9110 5.4");
	/* leading empty lines count */
	expect_reject_lim("\r\nGET / HTTP/1.1\r\nHost: h\r\nX: 0123456789\r\n\r\n", 44, &lim, 431,
			  "RFC 9110 5.4");
	/* an endless stream of empty lines, or of anything, ends */
	expect_reject_lim("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
			  "\r\n\r\n\r\n\r\n\r\n\r\n",
			  44, &lim, 431, "RFC 9110 5.4");
	expect_reject_lim("GET / HTTP/1.1\r\nX: 012345678901234567890123456789", 48, &lim, 431,
			  "RFC 9110 5.4");
	expect_reject_lim("GET /0123456789012345678901234567890123456789", 45, &lim, 431,
			  "RFC 9110 5.4");
	expect_reject_lim("GET / HTTP/1.1\r\nX-0123456789012345678901234567", 46, &lim, 431,
			  "RFC 9110 5.4");
	expect_reject_lim("GET / HTTP/1.1\r\nX:                              ", 48, &lim, 431,
			  "RFC 9110 5.4");
	cr_assert_str_eq(sl_http1_reason(431), "Request Header Fields Too Large");
}

Test(http1_limits, head_bytes_default)
{
	static char buf[20000];
	static struct run r;
	size_t l = 0;

	l += (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: h\r\nX: ");
	memset(buf + l, 'v', 16384 - l - 4);
	l = 16384 - 4;
	memcpy(buf + l, "\r\n\r\n", 4);
	l += 4;
	run_whole((const uint8_t *)buf, l, NULL, false, &r);
	cr_assert(r.done, "16384 bytes: %s", r.error ? r.error : "");
	memmove(buf + 1, buf, l);
	buf[0] = 'G';
	memcpy(buf, "GET /1", 6);
	run_whole((const uint8_t *)buf, l + 1, NULL, false, &r);
	cr_assert_eq(r.status, 431);
	cr_assert_eq(r.err_pos, 16384);
}

Test(http1_limits, fields_count_431)
{
	struct sl_http1_limits lim = {.fields = 4};
	static struct run r;

	ACCEPT("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", &r);
	expect_accept_lim("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
			  strlen("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), &lim,
			  &r);
	cr_assert_eq(r.n_hdrs, 4);
	expect_reject_lim(
		"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
		strlen("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"), &lim,
		431, "RFC 9110 5.4");
	/* trailers count toward it */
	expect_accept_lim("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "0\r\nA: 1\r\nB: 2\r\n\r\n",
			  strlen("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "0\r\nA: 1\r\nB: 2\r\n\r\n"),
			  &lim, &r);
	expect_reject_lim("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
			  strlen("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"),
			  &lim, 431, "RFC 9110 5.4");
}

Test(http1_limits, fields_count_default)
{
	static char buf[4096];
	static struct run r;
	size_t l;
	int i;

	l = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: h\r\n");
	for (i = 1; i < 100; i++)
		l += (size_t)snprintf(buf + l, sizeof(buf) - l, "F%d: %d\r\n", i, i);
	l += (size_t)snprintf(buf + l, sizeof(buf) - l, "\r\n");
	run_whole((const uint8_t *)buf, l, NULL, false, &r);
	cr_assert(r.done);
	cr_assert_eq(r.n_hdrs, 100);
	l -= 2;
	l += (size_t)snprintf(buf + l, sizeof(buf) - l, "F100: x\r\n\r\n");
	run_whole((const uint8_t *)buf, l, NULL, false, &r);
	cr_assert_eq(r.status, 431);
}

Test(http1_limits, trailer_bytes_431)
{
	/* the trailer section has a budget of its own: "A: " 3 + 53 + CRLF CRLF 4 = 60 */
	struct sl_http1_limits lim = {.head_bytes = 60};
	static struct run r;
	static const char ok[] =
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
		"0\r\nA: 01234567890123456789012345678901234567890123456789012\r\n\r\n";
	static const char big[] =
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
		"0\r\nA: 012345678901234567890123456789012345678901234567890123\r\n\r\n";

	expect_accept_lim(ok, sizeof(ok) - 1, &lim, &r);
	expect_reject_lim(big, sizeof(big) - 1, &lim, 431, "RFC 9110 5.4");
	run_whole((const uint8_t *)big, sizeof(big) - 1, &lim, false, &r);
	cr_assert_not_null(strstr(r.error, "trailer"));
}

Test(http1_limits, content_length_413_at_head)
{
	struct sl_http1_limits lim = {.body_bytes = 10};
	struct sl_http1_hdr hd[8];
	struct sl_http1_parser p;
	struct sl_http1_span sp;
	static struct run r;
	static const char big[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n";
	size_t used;

	expect_accept_lim("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789",
			  strlen("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n"
				 "0123456789"),
			  &lim, &r);
	expect_reject_lim(big, sizeof(big) - 1, &lim, 413, "RFC 9110 15.5.14");
	/* the call that would have returned HEAD fails; the head before it asked for more */
	cr_assert_eq(sl_http1_init(&p, &lim, hd), 0);
	cr_assert_eq(sl_http1_feed(&p, (const uint8_t *)big, sizeof(big) - 2, &used, &sp),
		     SL_HTTP1_MORE);
	cr_assert_eq(sl_http1_feed(&p, (const uint8_t *)big + sizeof(big) - 2, 1, &used, &sp),
		     -EBADMSG);
	cr_assert_eq(p.status, 413);
	cr_assert_str_eq(sl_http1_reason(413), "Content Too Large");
}

Test(http1_limits, chunked_413)
{
	struct sl_http1_limits lim = {.body_bytes = 10};
	static struct run r;
	static const char ok[] = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "4\r\n0123\r\n6\r\n456789\r\n0\r\n\r\n";
	static const char big[] = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "4\r\n0123\r\n7\r\n4567890\r\n0\r\n\r\n";

	expect_accept_lim(ok, sizeof(ok) - 1, &lim, &r);
	cr_assert_eq(r.body_len, 10);
	expect_reject_lim(big, sizeof(big) - 1, &lim, 413, "RFC 9110 15.5.14");
	/* failed at the size, before any of the chunk's data */
	run_whole((const uint8_t *)big, sizeof(big) - 1, &lim, false, &r);
	cr_assert_eq(r.body_len, 4);
	cr_assert_eq(r.err_pos, sizeof(big) - 1 - strlen("\r\n4567890\r\n0\r\n\r\n"));
}

Test(http1_limits, chunk_line)
{
	struct sl_http1_limits lim = {.chunk_line = 16};
	static struct run r;
	static const char ok[] = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "1;abc=\"01234567\"\r\nx\r\n0000000000000000\r\n\r\n";
	static const char big[] = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "1;abc=\"012345678\"\r\nx\r\n0\r\n\r\n";
	static const char big0[] =
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
		"1\r\nx\r\n00000000000000000\r\n\r\n";

	expect_accept_lim(ok, sizeof(ok) - 1, &lim, &r);
	expect_reject_lim(big, sizeof(big) - 1, &lim, 400, "RFC 9112 7.1.1");
	expect_reject_lim(big0, sizeof(big0) - 1, &lim, 400, "RFC 9112 7.1.1");
}

Test(http1_limits, chunk_line_default)
{
	static char buf[8192];
	static struct run r;
	size_t l, h;

	h = (size_t)snprintf(
		buf, sizeof(buf),
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;e=");
	l = h;
	memset(buf + l, 'e', 4096 - 4);
	l += 4096 - 4;
	l += (size_t)snprintf(buf + l, sizeof(buf) - l, "\r\nx\r\n0\r\n\r\n");
	run_whole((const uint8_t *)buf, l, NULL, false, &r);
	cr_assert(r.done, "%s", r.error ? r.error : "");
	memmove(buf + h + 1, buf + h, l - h);
	buf[h] = 'e';
	run_whole((const uint8_t *)buf, l + 1, NULL, false, &r);
	cr_assert_eq(r.status, 400);
	cr_assert_not_null(strstr(r.error, "RFC 9112 7.1.1"));
}

Test(http1_limits, field_name_over_64k)
{
	struct sl_http1_limits lim = {.head_bytes = 1u << 20};
	static struct sl_http1_hdr hd[100];
	static struct sl_http1_parser p;
	static uint8_t buf[70000];
	struct sl_http1_span sp;
	size_t l, used;

	l = (size_t)snprintf((char *)buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: h\r\n");
	memset(buf + l, 'n', 65536);
	l += 65536;
	memcpy(buf + l, ": v\r\n\r\n", 7);
	l += 7;
	cr_assert_eq(sl_http1_init(&p, &lim, hd), 0);
	cr_assert_eq(sl_http1_feed(&p, buf, l, &used, &sp), -EBADMSG);
	cr_assert_eq(p.status, 431);
	/* 65535 are fine */
	l = (size_t)snprintf((char *)buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: h\r\n");
	memset(buf + l, 'n', 65535);
	l += 65535;
	memcpy(buf + l, ": v\r\n\r\n", 7);
	l += 7;
	sl_http1_reset(&p);
	cr_assert_eq(sl_http1_feed(&p, buf, l, &used, &sp), SL_HTTP1_HEAD);
	cr_assert_eq(p.hdrs[1].name_len, 65535);
}

Test(http1_limits, init)
{
	struct sl_http1_limits lim = {0};
	struct sl_http1_hdr hd[4];
	struct sl_http1_parser p;

	cr_assert_eq(sl_http1_init(&p, NULL, NULL), -EINVAL);
	cr_assert_eq(sl_http1_init(&p, NULL, hd), 0);
	cr_assert_eq(p.lim.head_bytes, 16384);
	cr_assert_eq(p.lim.uri_bytes, 8192);
	cr_assert_eq(p.lim.fields, 100);
	cr_assert_eq(p.lim.body_bytes, 16777216);
	cr_assert_eq(p.lim.chunk_line, 4096);
	cr_assert_eq(sl_http1_init(&p, &lim, hd), 0);
	cr_assert_eq(p.lim.head_bytes, 16384);
	cr_assert_eq(p.req.host, -1);
	cr_assert(sl_http1_idle(&p));
	cr_assert(!sl_http1_in_body(&p));
	lim.head_bytes = (1u << 20) + 1;
	cr_assert_eq(sl_http1_init(&p, &lim, hd), -EINVAL);
	lim.head_bytes = 1u << 20;
	cr_assert_eq(sl_http1_init(&p, &lim, hd), 0);
	lim.uri_bytes = (1u << 20) + 1;
	cr_assert_eq(sl_http1_init(&p, &lim, hd), -EINVAL);
	lim.uri_bytes = 0;
	lim.fields = 4097;
	cr_assert_eq(sl_http1_init(&p, &lim, hd), -EINVAL);
	lim.fields = 4096;
	cr_assert_eq(sl_http1_init(&p, &lim, hd), 0);
}

/* ---- feeding ---- */

static int
feed_str(struct sl_http1_parser *p, const char *s, size_t *used, struct sl_http1_span *sp)
{
	return sl_http1_feed(p, (const uint8_t *)s, strlen(s), used, sp);
}

Test(http1_feed, done_after_head_without_body)
{
	struct sl_http1_hdr hd[8];
	struct sl_http1_parser p;
	struct sl_http1_span sp;
	size_t used;

	cr_assert_eq(sl_http1_init(&p, NULL, hd), 0);
	cr_assert_eq(feed_str(&p, "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET", &used, &sp),
		     SL_HTTP1_HEAD);
	cr_assert_eq(used, 27);
	cr_assert_eq(p.req.body, SL_HTTP1_B_NONE);
	cr_assert(sl_http1_in_body(&p));
	/* the next call, whatever it is given, is DONE and takes nothing */
	cr_assert_eq(sl_http1_feed(&p, NULL, 0, &used, &sp), SL_HTTP1_DONE);
	cr_assert_eq(used, 0);
	cr_assert(!sl_http1_in_body(&p));
	cr_assert(!sl_http1_idle(&p));
	cr_assert_eq(sl_http1_keep_from(&p), 27);
	cr_assert_eq(feed_str(&p, "GET", &used, &sp), SL_HTTP1_DONE);
	cr_assert_eq(used, 0);
	sl_http1_reset(&p);
	cr_assert(sl_http1_idle(&p));
	cr_assert_eq(feed_str(&p, "GET", &used, &sp), SL_HTTP1_MORE);
	cr_assert_eq(used, 3);
	cr_assert(!sl_http1_idle(&p));
}

Test(http1_feed, done_after_length_body)
{
	struct sl_http1_hdr hd[8];
	struct sl_http1_parser p;
	struct sl_http1_span sp;
	size_t used;

	cr_assert_eq(sl_http1_init(&p, NULL, hd), 0);
	cr_assert_eq(feed_str(&p, "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab", &used,
			      &sp),
		     SL_HTTP1_HEAD);
	cr_assert_eq(used, 46);
	cr_assert_eq(feed_str(&p, "ab", &used, &sp), SL_HTTP1_BODY);
	cr_assert_eq(sp.off, 46);
	cr_assert_eq(sp.len, 2);
	cr_assert_eq(used, 2);
	cr_assert_eq(sl_http1_keep_from(&p), 48);
	cr_assert_eq(sl_http1_feed(&p, NULL, 0, &used, &sp), SL_HTTP1_MORE);
	cr_assert_eq(feed_str(&p, "cdeXYZ", &used, &sp), SL_HTTP1_BODY);
	cr_assert_eq(sp.off, 48);
	cr_assert_eq(sp.len, 3);
	cr_assert_eq(used, 3);
	cr_assert(sl_http1_in_body(&p));
	cr_assert_eq(feed_str(&p, "XYZ", &used, &sp), SL_HTTP1_DONE);
	cr_assert_eq(used, 0);
	cr_assert_eq(sl_http1_keep_from(&p), 51);
}

Test(http1_feed, chunk_split_gives_spans_inside_each_input)
{
	struct sl_http1_hdr hd[8];
	struct sl_http1_parser p;
	struct sl_http1_span sp;
	size_t used;

	cr_assert_eq(sl_http1_init(&p, NULL, hd), 0);
	cr_assert_eq(feed_str(&p,
			      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
			      &used, &sp),
		     SL_HTTP1_HEAD);
	cr_assert_eq(used, 56);
	cr_assert_eq(feed_str(&p, "a\r\n0123", &used, &sp), SL_HTTP1_BODY);
	cr_assert_eq(sp.off, 59);
	cr_assert_eq(sp.len, 4);
	cr_assert_eq(used, 7);
	cr_assert_eq(sl_http1_keep_from(&p), 63);
	cr_assert_eq(feed_str(&p, "456789\r\n3;x=y\r\nabc\r\n", &used, &sp), SL_HTTP1_BODY);
	cr_assert_eq(sp.off, 63);
	cr_assert_eq(sp.len, 6);
	cr_assert_eq(used, 6);
	cr_assert_eq(feed_str(&p, "\r\n3;x=y\r\nabc\r\n", &used, &sp), SL_HTTP1_BODY);
	cr_assert_eq(sp.off, 78);
	cr_assert_eq(sp.len, 3);
	cr_assert_eq(used, 12);
	cr_assert_eq(feed_str(&p, "\r\n0\r\nT: 1\r\n", &used, &sp), SL_HTTP1_MORE);
	/* in the trailer section: its start is kept */
	cr_assert_eq(sl_http1_keep_from(&p), 86);
	cr_assert(sl_http1_in_body(&p));
	cr_assert_eq(feed_str(&p, "\r\n", &used, &sp), SL_HTTP1_DONE);
	cr_assert_eq(used, 2);
	cr_assert_eq(sl_http1_keep_from(&p), 94);
	cr_assert_eq(p.n_hdrs, 3);
	cr_assert_eq(p.hdrs[2].name_off, 86);
	cr_assert_eq(p.hdrs[2].flags, SL_HTTP1_HF_TRAILER);
	cr_assert(!sl_http1_in_body(&p));
}

Test(http1_feed, keep_from_during_the_head)
{
	struct sl_http1_hdr hd[8];
	struct sl_http1_parser p;
	struct sl_http1_span sp;
	size_t used;

	cr_assert_eq(sl_http1_init(&p, NULL, hd), 0);
	cr_assert_eq(feed_str(&p, "\r\n\r", &used, &sp), SL_HTTP1_MORE);
	cr_assert(sl_http1_idle(&p));
	cr_assert_eq(sl_http1_keep_from(&p), 3);
	cr_assert_eq(feed_str(&p, "\nGE", &used, &sp), SL_HTTP1_MORE);
	cr_assert(!sl_http1_idle(&p));
	cr_assert_eq(sl_http1_keep_from(&p), 4);
	cr_assert_eq(feed_str(&p, "T / HTTP/1.1\r\nHost: h\r\n", &used, &sp), SL_HTTP1_MORE);
	cr_assert_eq(sl_http1_keep_from(&p), 4);
	cr_assert_eq(feed_str(&p, "\r\n", &used, &sp), SL_HTTP1_HEAD);
	cr_assert_eq(p.req.method.off, 4);
	cr_assert_eq(p.req.head_len, 27);
	cr_assert_eq(sl_http1_keep_from(&p), 31);
}

Test(http1_feed, errors_are_sticky_reset_clears)
{
	struct sl_http1_hdr hd[8];
	struct sl_http1_parser p;
	struct sl_http1_span sp;
	size_t used;

	cr_assert_eq(sl_http1_init(&p, NULL, hd), 0);
	cr_assert_eq(feed_str(&p, "GET / HTTP/1.1\r\nHost : h\r\n\r\n", &used, &sp), -EBADMSG);
	cr_assert_eq(p.status, 400);
	cr_assert_str_eq(p.error, "whitespace between field name and colon (RFC 9112 5.1)");
	cr_assert_eq(used, 20);
	cr_assert_eq(feed_str(&p, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", &used, &sp), -EBADMSG);
	cr_assert_eq(used, 0);
	cr_assert_eq(p.status, 400);
	cr_assert(!sl_http1_idle(&p));
	cr_assert(!sl_http1_in_body(&p));
	sl_http1_reset(&p);
	cr_assert_eq(p.status, 0);
	cr_assert_null(p.error);
	cr_assert_eq(feed_str(&p, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", &used, &sp), SL_HTTP1_HEAD);
}

Test(http1_feed, reset_in_the_middle)
{
	struct sl_http1_hdr hd[8];
	struct sl_http1_parser p;
	struct sl_http1_span sp;
	size_t used;

	cr_assert_eq(sl_http1_init(&p, NULL, hd), 0);
	cr_assert_eq(feed_str(&p, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\nabc",
			      &used, &sp),
		     SL_HTTP1_HEAD);
	cr_assert_eq(feed_str(&p, "abc", &used, &sp), SL_HTTP1_BODY);
	sl_http1_reset(&p);
	cr_assert(sl_http1_idle(&p));
	cr_assert_eq(p.n_hdrs, 0);
	cr_assert_eq(p.req.content_length, 0);
	cr_assert_eq(feed_str(&p, "GET /x HTTP/1.0\r\n\r\n", &used, &sp), SL_HTTP1_HEAD);
	cr_assert_eq(p.req.target.off, 4);
	cr_assert_eq(p.n_hdrs, 0);
}

Test(http1_feed, reason_phrases)
{
	static const struct {
		int status;
		const char *reason;
	} r[] = {
		{100, "Continue"},
		{200, "OK"},
		{204, "No Content"},
		{400, "Bad Request"},
		{404, "Not Found"},
		{405, "Method Not Allowed"},
		{408, "Request Timeout"},
		{411, "Length Required"},
		{413, "Content Too Large"},
		{414, "URI Too Long"},
		{417, "Expectation Failed"},
		{431, "Request Header Fields Too Large"},
		{500, "Internal Server Error"},
		{501, "Not Implemented"},
		{502, "Bad Gateway"},
		{503, "Service Unavailable"},
		{504, "Gateway Timeout"},
		{505, "HTTP Version Not Supported"},
		{0, ""},
		{299, ""},
		{-1, ""},
	};
	unsigned i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		cr_assert_str_eq(sl_http1_reason(r[i].status), r[i].reason, "%d", r[i].status);
}

Test(http1_feed, method_names)
{
	cr_assert_null(sl_http1_method_name(SL_HTTP1_M_OTHER));
	cr_assert_str_eq(sl_http1_method_name(SL_HTTP1_M_GET), "GET");
	cr_assert_str_eq(sl_http1_method_name(SL_HTTP1_M_HEAD), "HEAD");
	cr_assert_str_eq(sl_http1_method_name(SL_HTTP1_M_POST), "POST");
	cr_assert_str_eq(sl_http1_method_name(SL_HTTP1_M_PUT), "PUT");
	cr_assert_str_eq(sl_http1_method_name(SL_HTTP1_M_DELETE), "DELETE");
	cr_assert_str_eq(sl_http1_method_name(SL_HTTP1_M_CONNECT), "CONNECT");
	cr_assert_str_eq(sl_http1_method_name(SL_HTTP1_M_OPTIONS), "OPTIONS");
	cr_assert_str_eq(sl_http1_method_name(SL_HTTP1_M_TRACE), "TRACE");
	cr_assert_str_eq(sl_http1_method_name(SL_HTTP1_M_PATCH), "PATCH");
	cr_assert_null(sl_http1_method_name((enum sl_http1_method)99));
}

Test(http1_feed, method_ids_from_every_name)
{
	static const char *const names[] = {"GET",     "HEAD",	  "POST",  "PUT",  "DELETE",
					    "CONNECT", "OPTIONS", "TRACE", "PATCH"};
	static struct run r;
	char msg[128];
	unsigned k;

	for (k = 0; k < 9; k++) {
		int n = snprintf(msg, sizeof(msg), "%s %s HTTP/1.1\r\nHost: h:1\r\n\r\n", names[k],
				 strcmp(names[k], "CONNECT") == 0 ? "h:1" : "/");

		run_whole((const uint8_t *)msg, (size_t)n, NULL, false, &r);
		cr_assert(r.done, "%s: %s", names[k], r.error ? r.error : "");
		cr_assert_str_eq(sl_http1_method_name((enum sl_http1_method)r.req.method_id),
				 names[k]);
	}
}

Test(http1_limits, positions_past_4gib_413)
{
	struct sl_http1_limits lim = {.body_bytes = 8ull << 30};
	static const char head[] =
		"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5000000000\r\n\r\n";
	static uint8_t chunk[1 << 20];
	struct sl_http1_hdr hd[8];
	struct sl_http1_parser p;
	struct sl_http1_span sp;
	uint64_t seen = 0;
	size_t used;
	int rc;

	cr_assert_eq(sl_http1_init(&p, &lim, hd), 0);
	cr_assert_eq(feed_str(&p, head, &used, &sp), SL_HTTP1_HEAD);
	cr_assert_eq(p.req.content_length, 5000000000ull);
	for (;;) {
		rc = sl_http1_feed(&p, chunk, sizeof(chunk), &used, &sp);
		if (rc != SL_HTTP1_BODY)
			break;
		cr_assert_eq(sp.off, (uint64_t)(sizeof(head) - 1) + seen);
		seen += sp.len;
	}
	/* the body spans stop at the last 32-bit position: 413, never a wrapped offset */
	cr_assert_eq(rc, -EBADMSG);
	cr_assert_eq(p.status, 413);
	cr_assert_eq(seen + sizeof(head) - 1, UINT32_MAX);
}
