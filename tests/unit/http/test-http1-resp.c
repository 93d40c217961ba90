/*
 * dataplane/http/http1_resp.c: the response parser. Every response is parsed whole, byte by
 * byte and split in two at every byte, with the same digest (http-test.c in response mode);
 * every prefix of a valid response asks for more; every rule of docs/http.md's response
 * table is rejected with 502 and an error citing its section.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "http-test.h"

#define KA SL_HTTP1_R_KEEP_ALIVE

/* Response mode for the request method m; eof: the upstream closes after the input. */
static void
mode(enum sl_http1_method m, bool eof)
{
	t_resp = true;
	t_method = m;
	t_eof = eof;
}

struct valid {
	const char *name;
	const char *msg;
	enum sl_http1_method method;
	bool eof;
	uint16_t status;
	const char *reason;
	uint8_t minor, body;
	uint32_t flags;
	uint64_t cl;
	const char *body_text;
	unsigned n_hdrs;
	const char *last_field; /* "name: value" of the last field line, or NULL */
};

static const struct valid valid[] = {
	{"length", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
	 SL_HTTP1_M_GET, false, 200, "OK", 1, SL_HTTP1_B_LENGTH, KA, 5, "hello", 2,
	 "Content-Length: 5"},
	{"empty reason", "HTTP/1.1 204 \r\nDate: x\r\n\r\n", SL_HTTP1_M_GET, false, 204, "", 1,
	 SL_HTTP1_B_NONE, KA, 0, "", 1, "Date: x"},
	{"reason with HTAB and obs-text",
	 "HTTP/1.1 404 Not\tF\xc3\xa4und \r\ncontent-length: 0\r\n\r\n", SL_HTTP1_M_GET, false, 404,
	 "Not\tF\xc3\xa4und ", 1, SL_HTTP1_B_NONE, KA, 0, "", 1, "content-length: 0"},
	{"chunked with extensions and trailers",
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
	 "5;a=b\r\nhello\r\n1 ; q=\"x y\"\r\n!\r\n0\r\nX-Sum: 6\r\nX-More:  z \r\n\r\n",
	 SL_HTTP1_M_GET, false, 200, "OK", 1, SL_HTTP1_B_CHUNKED, KA, 0, "hello!", 4, "X-More: z"},
	{"close-delimited", "HTTP/1.1 200 OK\r\nServer: s\r\n\r\nuntil\r\nthe end", SL_HTTP1_M_GET,
	 true, 200, "OK", 1, SL_HTTP1_B_EOF, 0, 0, "until\r\nthe end", 1, "Server: s"},
	{"close-delimited, empty", "HTTP/1.0 200 OK\r\n\r\n", SL_HTTP1_M_POST, true, 200, "OK", 0,
	 SL_HTTP1_B_EOF, 0, 0, "", 0, NULL},
	{"HTTP/1.0 keep-alive",
	 "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok", SL_HTTP1_M_GET,
	 false, 200, "OK", 0, SL_HTTP1_B_LENGTH, KA | SL_HTTP1_R_CONN_KEEPALIVE, 2, "ok", 2,
	 "Content-Length: 2"},
	{"HTTP/1.0 without keep-alive", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
	 SL_HTTP1_M_GET, false, 200, "OK", 0, SL_HTTP1_B_LENGTH, 0, 2, "ok", 1,
	 "Content-Length: 2"},
	{"Connection: close",
	 "HTTP/1.1 500 Oops\r\nConnection: close, x-a\r\nContent-Length: 1\r\n\r\n!",
	 SL_HTTP1_M_GET, false, 500, "Oops", 1, SL_HTTP1_B_LENGTH,
	 SL_HTTP1_R_CONN_CLOSE | SL_HTTP1_R_CONN_OTHER, 1, "!", 2, "Content-Length: 1"},
	{"HEAD: no body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", SL_HTTP1_M_HEAD, false,
	 200, "OK", 1, SL_HTTP1_B_NONE, KA, 100, "", 1, "Content-Length: 100"},
	{"HEAD: no body, chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	 SL_HTTP1_M_HEAD, false, 200, "OK", 1, SL_HTTP1_B_NONE, KA, 0, "", 1,
	 "Transfer-Encoding: chunked"},
	{"HEAD: no body, close-delimited otherwise", "HTTP/1.0 200 OK\r\n\r\n", SL_HTTP1_M_HEAD,
	 false, 200, "OK", 0, SL_HTTP1_B_NONE, 0, 0, "", 0, NULL},
	{"204 with a Content-Length", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n",
	 SL_HTTP1_M_DELETE, false, 204, "No Content", 1, SL_HTTP1_B_NONE, KA, 7, "", 1,
	 "Content-Length: 7"},
	{"304", "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 9\r\n\r\n",
	 SL_HTTP1_M_GET, false, 304, "Not Modified", 1, SL_HTTP1_B_NONE, KA, 9, "", 2,
	 "Content-Length: 9"},
	{"100 Continue", "HTTP/1.1 100 Continue\r\n\r\n", SL_HTTP1_M_POST, false, 100, "Continue",
	 1, SL_HTTP1_B_NONE, KA, 0, "", 0, NULL},
	{"103 Early Hints", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n",
	 SL_HTTP1_M_GET, false, 103, "Early Hints", 1, SL_HTTP1_B_NONE, KA, 0, "", 1,
	 "Link: </a.css>; rel=preload"},
	{"gzip, chunked",
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
	 SL_HTTP1_M_GET, false, 200, "OK", 1, SL_HTTP1_B_CHUNKED, KA | SL_HTTP1_R_TE_CODED, 0, "ab",
	 1, "Transfer-Encoding: gzip, chunked"},
	{"TE not ending in chunked: close-delimited",
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\nxyz",
	 SL_HTTP1_M_GET, true, 200, "OK", 1, SL_HTTP1_B_EOF, SL_HTTP1_R_TE_CODED, 0, "xyz", 2,
	 "Transfer-Encoding: gzip"},
	{"HTTP/1.2 is 1.1", "HTTP/1.2 201 Created\r\nContent-Length: 0\r\n\r\n", SL_HTTP1_M_PUT,
	 false, 201, "Created", 1, SL_HTTP1_B_NONE, KA, 0, "", 1, "Content-Length: 0"},
	{"identical Content-Length repeated",
	 "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nA", SL_HTTP1_M_GET,
	 false, 200, "OK", 1, SL_HTTP1_B_LENGTH, KA, 1, "A", 2, "Content-Length: 1"},
	{"Host and Expect are plain fields",
	 "HTTP/1.1 200 OK\r\nHost: a b\r\nHost: c\r\nExpect: x\r\nContent-Length: 0\r\n\r\n",
	 SL_HTTP1_M_GET, false, 200, "OK", 1, SL_HTTP1_B_NONE, KA, 0, "", 4, "Content-Length: 0"},
	{"407 to CONNECT",
	 "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
	 SL_HTTP1_M_CONNECT, false, 407, "Proxy Authentication Required", 1, SL_HTTP1_B_NONE, KA, 0,
	 "", 1, "Content-Length: 0"},
	{"reason starting with SP", "HTTP/1.1 200  OK\r\nContent-Length: 0\r\n\r\n", SL_HTTP1_M_GET,
	 false, 200, " OK", 1, SL_HTTP1_B_NONE, KA, 0, "", 1, "Content-Length: 0"},
	{"status 599", "HTTP/1.1 599 x\r\nContent-Length: 0\r\n\r\n", SL_HTTP1_M_GET, false, 599,
	 "x", 1, SL_HTTP1_B_NONE, KA, 0, "", 1, "Content-Length: 0"},
};

Test(http1_resp, valid)
{
	static struct run r;
	size_t k;

	for (k = 0; k < (sizeof(valid) / sizeof(valid[0])); k++) {
		const struct valid *v = &valid[k];
		const uint8_t *m = (const uint8_t *)v->msg;

		mode(v->method, v->eof);
		expect_accept(v->msg, strlen(v->msg), &r);
		cr_assert_eq(r.resp.status, v->status, "%s", v->name);
		cr_assert_str_eq(span_text(&r, m, r.resp.reason), v->reason, "%s", v->name);
		cr_assert_eq(r.resp.minor, v->minor, "%s", v->name);
		cr_assert_eq(r.resp.body, v->body, "%s", v->name);
		cr_assert_eq(r.resp.flags, v->flags, "%s: flags %#x", v->name, r.resp.flags);
		cr_assert_eq(r.resp.content_length, v->cl, "%s", v->name);
		cr_assert_eq(r.body_len, strlen(v->body_text), "%s", v->name);
		cr_assert(memcmp(r.body, v->body_text, r.body_len) == 0, "%s", v->name);
		cr_assert_eq(r.n_hdrs, v->n_hdrs, "%s: %u fields", v->name, r.n_hdrs);
		if (v->last_field != NULL)
			cr_assert_str_eq(field_text(&r, m, r.n_hdrs - 1), v->last_field, "%s",
					 v->name);
		cr_assert_eq(r.req.host, -1);
	}
}

Test(http1_resp, every_prefix_asks_for_more)
{
	static struct run r, w;
	size_t k, pre;

	for (k = 0; k < (sizeof(valid) / sizeof(valid[0])); k++) {
		const struct valid *v = &valid[k];
		const uint8_t *m = (const uint8_t *)v->msg;
		size_t len = strlen(v->msg);

		mode(v->method, false);
		run_whole(m, len, NULL, false, &w);
		expect_prefixes_more(v->name, m, len, &w);
		/* the upstream closing inside the head, or a counted body, is an error */
		mode(v->method, true);
		for (pre = 0; pre < (v->eof ? w.head_at : len); pre++) {
			run_whole(m, pre, NULL, false, &r);
			cr_assert_eq(r.rc, -EBADMSG, "%s: eof at %zu", v->name, pre);
			cr_assert_eq(r.status, 502);
			cr_assert_not_null(strstr(r.error, "(RFC 9112 8)"));
		}
	}
}

Test(http1_resp, interim_then_final)
{
	static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n"
				  "HTTP/1.1 103 Early Hints\r\nLink: </s.js>\r\n\r\n"
				  "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
	static struct run w, o;
	size_t at;

	mode(SL_HTTP1_M_POST, false);
	run_whole((const uint8_t *)msg, sizeof(msg) - 1, NULL, true, &w);
	cr_assert_eq(w.nmsg, 3);
	cr_assert_eq(w.resp.status, 200);
	cr_assert_eq(w.consumed, sizeof(msg) - 1);
	cr_assert_not_null(strstr(w.digest, "HEAD status=100"));
	cr_assert_not_null(strstr(w.digest, "HEAD status=103"));
	cr_assert_not_null(strstr(w.digest, "BODY <abc>"));
	run_bytes((const uint8_t *)msg, sizeof(msg) - 1, NULL, true, &o);
	cr_assert_str_eq(o.digest, w.digest);
	for (at = 0; at <= sizeof(msg) - 1; at++) {
		run_split((const uint8_t *)msg, sizeof(msg) - 1, at, NULL, true, &o);
		cr_assert_str_eq(o.digest, w.digest, "split at %zu", at);
	}
}

Test(http1_resp, pipelined_with_head_and_keep_alive)
{
	static const char msg[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n"
				  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "HTTP/1.1 304 Not Modified\r\n\r\n";
	static struct run w, o;
	size_t at;

	/* responses to HEAD requests: none has a body, so three messages */
	mode(SL_HTTP1_M_HEAD, false);
	run_whole((const uint8_t *)msg, sizeof(msg) - 1, NULL, true, &w);
	cr_assert_eq(w.nmsg, 3);
	cr_assert_eq(w.body_len, 0);
	for (at = 0; at <= sizeof(msg) - 1; at++) {
		run_split((const uint8_t *)msg, sizeof(msg) - 1, at, NULL, true, &o);
		cr_assert_str_eq(o.digest, w.digest, "split at %zu", at);
	}
}

#define RJ(m, rfc) expect_reject((m), sizeof(m) - 1, 502, (rfc))

Test(http1_resp, status_line)
{
	mode(SL_HTTP1_M_GET, false);
	RJ("\r\nHTTP/1.1 200 OK\r\n\r\n", "RFC 9112 4");
	RJ("http/1.1 200 OK\r\n\r\n", "RFC 9112 4");
	RJ("HTTP/1.1 200 OK\n\r\n", "RFC 9112 2.2");
	RJ("HTTP/1.1 200 OK\rX\r\n\r\n", "RFC 9112 2.2");
	RJ("HTTP/1.1 200\r\n\r\n", "RFC 9112 4");
	RJ("HTTP/1.1 200\n\r\n", "RFC 9112 2.2");
	RJ("HTTP/1.1  200 OK\r\n\r\n", "RFC 9112 4");
	RJ("HTTP/1.1\t200 OK\r\n\r\n", "RFC 9112 4");
	RJ("HTTP/1.1 20 OK\r\n\r\n", "RFC 9112 4");
	RJ("HTTP/1.1 2000 OK\r\n\r\n", "RFC 9112 4");
	RJ("HTTP/1.1 2x0 OK\r\n\r\n", "RFC 9112 4");
	RJ("HTTP/1.1 099 Low\r\n\r\n", "RFC 9110 15");
	RJ("HTTP/1.1 600 High\r\n\r\n", "RFC 9110 15");
	RJ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", "RFC 9110 15.2.2");
	RJ("HTTP/1.1 200 O\x01K\r\n\r\n", "RFC 9112 4");
	RJ("HTTP/1.1 200 O\x7fK\r\n\r\n", "RFC 9112 4");
	RJ("HTTP/1.1 200 O\x00K\r\n\r\n", "RFC 9112 4");
	RJ("HTTP/1.10 200 OK\r\n\r\n", "RFC 9112 2.3");
	RJ("HTTP/01.1 200 OK\r\n\r\n", "RFC 9112 2.3");
	RJ("HTTP/1 200 OK\r\n\r\n", "RFC 9112 2.3");
	RJ("HTTP/2.0 200 OK\r\n\r\n", "RFC 9112 2.3");
	RJ("HTTP/0.9 200 OK\r\n\r\n", "RFC 9112 2.3");
	RJ("HTTP/1.1 200 OK\r\n Foo: x\r\n\r\n", "RFC 9112 2.2");
}

Test(http1_resp, fields)
{
	mode(SL_HTTP1_M_GET, false);
	RJ("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", "RFC 9112 5.2");
	RJ("HTTP/1.1 200 OK\r\nA: b\r\n\tc\r\n\r\n", "RFC 9112 5.2");
	RJ("HTTP/1.1 200 OK\r\nA : b\r\n\r\n", "RFC 9112 5.1");
	RJ("HTTP/1.1 200 OK\r\nA\t: b\r\n\r\n", "RFC 9112 5.1");
	RJ("HTTP/1.1 200 OK\r\nA: b\nC: d\r\n\r\n", "RFC 9112 2.2");
	RJ("HTTP/1.1 200 OK\r\nA: b\rC: d\r\n\r\n", "RFC 9112 2.2");
	RJ("HTTP/1.1 200 OK\r\nA: b\x00c\r\n\r\n", "RFC 9110 5.5");
	RJ("HTTP/1.1 200 OK\r\nA: b\x1b c\r\n\r\n", "RFC 9110 5.5");
	RJ("HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n", "RFC 9110 5.5");
	RJ("HTTP/1.1 200 OK\r\nA(b: c\r\n\r\n", "RFC 9110 5.1");
	RJ("HTTP/1.1 200 OK\r\n: c\r\n\r\n", "RFC 9110 5.1");
	RJ("HTTP/1.1 200 OK\r\nAbc\r\n\r\n", "RFC 9112 5");
	RJ("HTTP/1.1 200 OK\r\nConnection: a b\r\n\r\n", "RFC 9110 7.6.1");
	RJ("HTTP/1.1 200 OK\r\n\n", "RFC 9112 2.2");
}

Test(http1_resp, framing)
{
	mode(SL_HTTP1_M_GET, false);
	RJ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
	   "RFC 9112 6.3");
	/* an error even where the status says there is no body */
	RJ("HTTP/1.1 204 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
	   "RFC 9112 6.3");
	RJ("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "RFC 9112 6.1");
	RJ("HTTP/1.1 200 OK\r\nTransfer-Encoding: ,\r\n\r\n", "RFC 9112 6.1");
	RJ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", "RFC 9112 6.1");
	RJ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;a=1\r\n\r\n", "RFC 9112 7.1");
	RJ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip chunked\r\n\r\n", "RFC 9112 6.1");
	RJ("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", "RFC 9110 8.6");
	RJ("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", "RFC 9110 8.6");
	RJ("HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\n", "RFC 9110 8.6");
	RJ("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "RFC 9110 8.6");
	RJ("HTTP/1.1 200 OK\r\nContent-Length: 12345678901234567890\r\n\r\n", "RFC 9110 8.6");
	RJ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "RFC 9112 6.3");
	RJ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nx\r\n", "RFC 9112 7.1");
	RJ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab", "RFC 9112 7.1");
	RJ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1 x\r\n", "RFC 9112 7.1.1");
	mode(SL_HTTP1_M_CONNECT, false);
	RJ("HTTP/1.1 200 Connection established\r\n\r\n", "RFC 9112 6.3");
}

Test(http1_resp, eof)
{
	mode(SL_HTTP1_M_GET, true);
	RJ("", "RFC 9112 8");
	RJ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhell", "RFC 9112 8");
	RJ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "RFC 9112 8");
	RJ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", "RFC 9112 8");
	RJ("HTTP/1.1 200 OK\r\n", "RFC 9112 8");
}

Test(http1_resp, eof_api)
{
	static struct sl_http1_hdr hdrs[8];
	static const char msg[] = "HTTP/1.1 200 OK\r\n\r\nab";
	struct sl_http1_limits lim = {.fields = 8};
	struct sl_http1_parser p;
	struct sl_http1_span sp;
	size_t used;

	cr_assert_eq(sl_http1_resp_init(&p, &lim, hdrs), 0);
	sl_http1_resp_reset(&p, SL_HTTP1_M_GET);
	cr_assert(sl_http1_idle(&p));
	cr_assert_eq(sl_http1_feed(&p, (const uint8_t *)msg, sizeof(msg) - 1, &used, &sp),
		     SL_HTTP1_HEAD);
	cr_assert_eq(p.resp.body, SL_HTTP1_B_EOF);
	cr_assert(!(p.resp.flags & SL_HTTP1_R_KEEP_ALIVE));
	cr_assert(sl_http1_in_body(&p));
	cr_assert_eq(sl_http1_feed(&p, (const uint8_t *)msg + used, 2, &used, &sp), SL_HTTP1_BODY);
	cr_assert_eq(sp.off, 19);
	cr_assert_eq(sp.len, 2);
	cr_assert_eq(sl_http1_feed(&p, NULL, 0, &used, &sp), SL_HTTP1_MORE);
	cr_assert_eq(sl_http1_keep_from(&p), 21);
	cr_assert_eq(sl_http1_resp_eof(&p), SL_HTTP1_DONE);
	cr_assert(!sl_http1_in_body(&p));
	cr_assert_eq(sl_http1_feed(&p, (const uint8_t *)"x", 1, &used, &sp), SL_HTTP1_DONE);
	cr_assert_eq(used, 0);
	/* a request parser stays one: reset keeps the mode and the method */
	sl_http1_reset(&p);
	cr_assert_eq(sl_http1_feed(&p, (const uint8_t *)"GET / HTTP/1.1\r\n", 16, &used, &sp),
		     -EBADMSG);
	cr_assert_eq(p.status, 502);
	cr_assert_eq(sl_http1_resp_eof(&p), -EBADMSG);
	/* init refuses what sl_http1_init() refuses */
	lim.fields = 5000;
	cr_assert_eq(sl_http1_resp_init(&p, &lim, hdrs), -EINVAL);
	cr_assert_eq(sl_http1_resp_init(&p, NULL, NULL), -EINVAL);
}

Test(http1_resp, limits)
{
	struct sl_http1_limits lim = {
		.head_bytes = 64, .fields = 2, .body_bytes = 10, .chunk_line = 8};
	static struct run r;
	char big[128];

	mode(SL_HTTP1_M_GET, false);
	/* head bytes: a long reason-phrase, a long field */
	snprintf(big, sizeof(big), "HTTP/1.1 200 %060d\r\n\r\n", 0);
	expect_reject_lim(big, strlen(big), &lim, 502, "RFC 9110 5.4");
	snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nA: %060d\r\n\r\n", 0);
	expect_reject_lim(big, strlen(big), &lim, 502, "RFC 9110 5.4");
	/* 64 bytes exactly is fine */
	snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nA: %021d\r\n\r\n", 0);
	cr_assert_eq(strlen(big), 64);
	expect_accept_lim(big, strlen(big), &lim, &r);
	/* field count */
	static const char f3[] = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
	expect_reject_lim(f3, sizeof(f3) - 1, &lim, 502, "RFC 9110 5.4");
	static const char t3[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "0\r\nA: 1\r\nB: 2\r\n\r\n";
	expect_reject_lim(t3, sizeof(t3) - 1, &lim, 502, "RFC 9110 5.4");
	/* body: Content-Length at HEAD time, chunked at the crossing size, close-delimited at
	 * the first byte over */
	static const char cl[] = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n";
	expect_reject_lim(cl, sizeof(cl) - 1, &lim, 502, "RFC 9110 15.5.14");
	static const char ch[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "5\r\nhello\r\n6\r\n";
	expect_reject_lim(ch, sizeof(ch) - 1, &lim, 502, "RFC 9110 15.5.14");
	static const char eo[] = "HTTP/1.1 200 OK\r\n\r\n0123456789X";
	expect_reject_lim(eo, sizeof(eo) - 1, &lim, 502, "RFC 9110 15.5.14");
	mode(SL_HTTP1_M_GET, true);
	expect_accept_lim(eo, sizeof(eo) - 2, &lim, &r);
	cr_assert_eq(r.body_len, 10);
	mode(SL_HTTP1_M_GET, false);
	/* chunk line */
	static const char cx[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "1;abcdefgh\r\n";
	expect_reject_lim(cx, sizeof(cx) - 1, &lim, 502, "RFC 9112 7.1.1");
	/* a response's head limit counts the whole status line, not uri_bytes */
	lim.uri_bytes = 1;
	snprintf(big, sizeof(big), "HTTP/1.1 200 %020d\r\nContent-Length: 0\r\n\r\n", 0);
	expect_accept_lim(big, strlen(big), &lim, &r);
}
