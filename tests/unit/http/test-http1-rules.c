/*
 * dataplane/http/http1.c: one test per rule of RFC 9112 / RFC 9110 the parser enforces.
 * Every rejection is checked whole, byte by byte and split at every byte: same status,
 * same error string (naming the RFC section), same position.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "http-test.h"

#define HOST "Host: h\r\n"

/* ---- request line (RFC 9112 3) ---- */

Test(http1_rules, request_line_single_sp)
{
	REJECT("GET  / HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3");
	REJECT("GET /  HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3");
	REJECT("GET / HTTP/1.1 \r\n" HOST "\r\n", 400, "RFC 9112 2.3");
	REJECT("GET\t/ HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9110 9.1");
	REJECT("GET /\tHTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2");
	REJECT(" GET / HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3");
	REJECT("GET\r\n\r\n", 400, "RFC 9110 9.1");
	REJECT("GET /\r\n\r\n", 400, "RFC 9112 3.2");
}

Test(http1_rules, method_is_token)
{
	REJECT("G(T / HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9110 9.1");
	REJECT("GE\"T / HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9110 9.1");
	REJECT("G\x80T / HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9110 9.1");
	REJECT("{GET} / HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3");
}

Test(http1_rules, method_too_long_400)
{
	/* 32 bytes pass, 33 do not */
	static struct run r;

	ACCEPT("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345 / HTTP/1.1\r\n" HOST "\r\n", &r);
	cr_assert_eq(r.req.method.len, 32);
	cr_assert_eq(r.req.method_id, SL_HTTP1_M_OTHER);
	REJECT("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456 / HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3");
}

Test(http1_rules, methods_are_case_sensitive)
{
	static struct run r;

	ACCEPT("get / HTTP/1.1\r\n" HOST "\r\n", &r);
	cr_assert_eq(r.req.method_id, SL_HTTP1_M_OTHER);
	ACCEPT("GETS / HTTP/1.1\r\n" HOST "\r\n", &r);
	cr_assert_eq(r.req.method_id, SL_HTTP1_M_OTHER);
	ACCEPT("OPTIONSX / HTTP/1.1\r\n" HOST "\r\n", &r);
	cr_assert_eq(r.req.method_id, SL_HTTP1_M_OTHER);
}

Test(http1_rules, target_visible_ascii_no_fragment)
{
	REJECT("GET /a#b HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2");
	REJECT("GET /a\x7f HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2");
	REJECT("GET /a\xc3\xa9 HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2");
	REJECT("GET /a\x01 HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2");
	REJECT("GET /a\0b HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2");
	REJECT("GET http://h/#f HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2");
}

Test(http1_rules, target_forms)
{
	static struct run r;

	/* origin-form only with '/', absolute-form needs "scheme://authority" */
	REJECT("GET a/b HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2");
	REJECT("GET ?x HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2");
	REJECT("GET urn:isbn:1 HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2");
	REJECT("GET http:/x HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2");
	REJECT("GET 1http://h/ HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2");
	REJECT("GET http:///p HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9110 4.2.1");
	REJECT("GET http:// HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9110 4.2.1");
	/* authority-form only with CONNECT, CONNECT only with it */
	REJECT("GET h.example:443 HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2");
	REJECT("CONNECT / HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2.3");
	REJECT("CONNECT http://h:443/ HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2.3");
	REJECT("CONNECT h.example HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2.3");
	REJECT("CONNECT h.example: HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2.3");
	REJECT("CONNECT :443 HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2.3");
	REJECT("CONNECT h:44a HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2.3");
	REJECT("CONNECT * HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2.3");
	ACCEPT("CONNECT [2001:db8::7]:8443 HTTP/1.1\r\nHost: [2001:db8::7]:8443\r\n\r\n", &r);
	cr_assert_eq(r.req.form, SL_HTTP1_F_AUTHORITY);
	/* CONNECT has no content (RFC 9110 9.3.6) */
	ACCEPT("CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\nContent-Length: 0\r\n\r\n", &r);
	cr_assert_eq(r.req.body, SL_HTTP1_B_NONE);
	REJECT("CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\nContent-Length: 1\r\n\r\nx", 400,
	       "RFC 9110 9.3.6");
	REJECT("CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	       400, "RFC 9110 9.3.6");
	/* asterisk-form only with OPTIONS, and only "*" */
	REJECT("GET * HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2.4");
	REJECT("OPTIONS */x HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2.4");
	REJECT("OPTIONS ** HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3.2.4");
	/* absolute-form for any method */
	ACCEPT("POST https://h.example/x HTTP/1.1\r\nHost: h.example\r\n\r\n", &r);
	cr_assert_eq(r.req.form, SL_HTTP1_F_ABSOLUTE);
	ACCEPT("OPTIONS coap+tcp.x-y://h HTTP/1.1\r\n" HOST "\r\n", &r);
	cr_assert_eq(r.req.form, SL_HTTP1_F_ABSOLUTE);
	ACCEPT("OPTIONS /x HTTP/1.1\r\n" HOST "\r\n", &r);
	cr_assert_eq(r.req.form, SL_HTTP1_F_ORIGIN);
}

Test(http1_rules, version)
{
	static struct run r;

	ACCEPT("GET / HTTP/1.0\r\n\r\n", &r);
	cr_assert_eq(r.req.minor, 0);
	ACCEPT("GET / HTTP/1.9\r\n" HOST "\r\n", &r);
	cr_assert_eq(r.req.minor, 1);
	/* well-formed but not 1.x: 505 */
	REJECT("GET / HTTP/0.9\r\n" HOST "\r\n", 505, "RFC 9112 2.3");
	REJECT("GET / HTTP/2.0\r\n" HOST "\r\n", 505, "RFC 9112 2.3");
	REJECT("GET / HTTP/3.0\r\n" HOST "\r\n", 505, "RFC 9110 15.6.6");
	REJECT("GET / HTTP/9.9\r\n" HOST "\r\n", 505, "RFC 9112 2.3");
	/* malformed: 400 */
	REJECT("GET / http/1.1\r\n" HOST "\r\n", 400, "RFC 9112 2.3");
	REJECT("GET / Http/1.1\r\n" HOST "\r\n", 400, "RFC 9112 2.3");
	REJECT("GET / HTTP/1.10\r\n" HOST "\r\n", 400, "RFC 9112 2.3");
	REJECT("GET / HTTP/01.1\r\n" HOST "\r\n", 400, "RFC 9112 2.3");
	REJECT("GET / HTTP/1\r\n" HOST "\r\n", 400, "RFC 9112 2.3");
	REJECT("GET / HTTP/1.\r\n" HOST "\r\n", 400, "RFC 9112 2.3");
	REJECT("GET / HTTP/\r\n" HOST "\r\n", 400, "RFC 9112 2.3");
	REJECT("GET / HTTP1.1\r\n" HOST "\r\n", 400, "RFC 9112 2.3");
	REJECT("GET / HTTP/1,1\r\n" HOST "\r\n", 400, "RFC 9112 2.3");
	REJECT("GET / HTTP/a.1\r\n" HOST "\r\n", 400, "RFC 9112 2.3");
	REJECT("GET / \r\n" HOST "\r\n", 400, "RFC 9112 2.3");
}

/* ---- line ends, NUL (RFC 9112 2.2) ---- */

Test(http1_rules, bare_lf)
{
	REJECT("GET / HTTP/1.1\n" HOST "\r\n", 400, "RFC 9112 2.2");
	REJECT("GET / HTTP/1.1\r\nHost: h\n\r\n", 400, "RFC 9112 2.2");
	REJECT("GET / HTTP/1.1\r\n" HOST "\n", 400, "RFC 9112 2.2");
	REJECT("\nGET / HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 2.2");
	REJECT("GET /a\nb HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 2.2");
	REJECT("GET / HTTP/1.1\r\nX\n: y\r\n" HOST "\r\n", 400, "RFC 9112 2.2");
	REJECT("GET / HTTP/1.1\r\nX: a\nb\r\n" HOST "\r\n", 400, "RFC 9112 2.2");
	REJECT("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n",
	       400, "RFC 9112 2.2");
	REJECT("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n1\r\nx\n0\r\n\r\n",
	       400, "RFC 9112 2.2");
}

Test(http1_rules, bare_cr)
{
	REJECT("GET / HTTP/1.1\rX" HOST "\r\n", 400, "RFC 9112 2.2");
	REJECT("GET / HTTP/1.1\r\nHost: h\rX\r\n\r\n", 400, "RFC 9112 2.2");
	REJECT("GET / HTTP/1.1\r\n" HOST "\rX", 400, "RFC 9112 2.2");
	REJECT("\rGET / HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 2.2");
	REJECT("\r\rGET / HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 2.2");
	REJECT("GET / HTTP/1.1\r\nX: a\rb\r\n" HOST "\r\n", 400, "RFC 9112 2.2");
	REJECT("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n1\rx\r\n0\r\n\r\n",
	       400, "RFC 9112 2.2");
}

Test(http1_rules, nul_anywhere_in_head)
{
	REJECT("\0GET / HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3");
	REJECT("GE\0T / HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9110 9.1");
	REJECT("GET / HTTP/1.1\0\r\n" HOST "\r\n", 400, "RFC 9112 2.3");
	REJECT("GET / HTTP/1.1\r\nX\0: a\r\n" HOST "\r\n", 400, "RFC 9110 5.1");
	REJECT("GET / HTTP/1.1\r\nX: a\0b\r\n" HOST "\r\n", 400, "RFC 9110 5.5");
	REJECT("GET / HTTP/1.1\r\nX:\0\r\n" HOST "\r\n", 400, "RFC 9110 5.5");
	REJECT("GET / HTTP/1.1\r\nHost: h\0\r\n\r\n", 400, "RFC 9110 5.5");
	REJECT("GET / HTTP/1.1\r\n" HOST "\0\r\n", 400, "RFC 9110 5.1");
}

Test(http1_rules, empty_lines_before_request_line)
{
	static struct run r;

	ACCEPT("\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n" HOST "\r\n", &r);
	cr_assert_eq(r.req.method.off, 8);
	cr_assert_eq(r.req.head_len, strlen("GET / HTTP/1.1\r\n" HOST "\r\n"));
	/* but not whitespace, and not an endless stream: they count toward head_bytes */
	REJECT(" \r\nGET / HTTP/1.1\r\n" HOST "\r\n", 400, "RFC 9112 3");
}

/* ---- field lines (RFC 9112 5, RFC 9110 5) ---- */

Test(http1_rules, whitespace_before_first_field)
{
	REJECT("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400, "RFC 9112 2.2");
	REJECT("GET / HTTP/1.1\r\n\tHost: h\r\n\r\n", 400, "RFC 9112 2.2");
	REJECT("GET / HTTP/1.1\r\n \r\n" HOST "\r\n", 400, "RFC 9112 2.2");
}

Test(http1_rules, obs_fold)
{
	REJECT("GET / HTTP/1.1\r\n" HOST "X: a\r\n b\r\n\r\n", 400, "RFC 9112 5.2");
	REJECT("GET / HTTP/1.1\r\n" HOST "X: a\r\n\tb\r\n\r\n", 400, "RFC 9112 5.2");
	REJECT("GET / HTTP/1.1\r\n" HOST " \r\n\r\n", 400, "RFC 9112 5.2");
}

Test(http1_rules, field_name_is_token)
{
	REJECT("GET / HTTP/1.1\r\n" HOST ": v\r\n\r\n", 400, "RFC 9110 5.1");
	REJECT("GET / HTTP/1.1\r\n" HOST "X(y): v\r\n\r\n", 400, "RFC 9110 5.1");
	REJECT("GET / HTTP/1.1\r\n" HOST "X/y: v\r\n\r\n", 400, "RFC 9110 5.1");
	REJECT("GET / HTTP/1.1\r\n" HOST "X@y: v\r\n\r\n", 400, "RFC 9110 5.1");
	REJECT("GET / HTTP/1.1\r\n" HOST "\xc3\xa9: v\r\n\r\n", 400, "RFC 9110 5.1");
	REJECT("GET / HTTP/1.1\r\n" HOST "Xy\r\n\r\n", 400, "RFC 9112 5");
	REJECT("GET / HTTP/1.1\r\n" HOST "\"X\": v\r\n\r\n", 400, "RFC 9110 5.1");
}

Test(http1_rules, whitespace_before_colon)
{
	REJECT("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400, "RFC 9112 5.1");
	REJECT("GET / HTTP/1.1\r\n" HOST "X\t: v\r\n\r\n", 400, "RFC 9112 5.1");
	REJECT("GET / HTTP/1.1\r\n" HOST "Content-Length : 0\r\n\r\n", 400, "RFC 9112 5.1");
	REJECT("GET / HTTP/1.1\r\n" HOST "X y: v\r\n\r\n", 400, "RFC 9112 5.1");
}

Test(http1_rules, field_value_bytes)
{
	static const char pre[] = "GET / HTTP/1.1\r\n" HOST "X: a";
	static const char post[] = "b\r\n\r\n";
	static struct run r;
	uint8_t msg[128];
	size_t n = sizeof(pre) - 1 + 1 + sizeof(post) - 1;
	int c;

	/* every CTL but HTAB, and DEL, is refused; everything else is taken */
	for (c = 0; c < 256; c++) {
		memcpy(msg, pre, sizeof(pre) - 1);
		msg[sizeof(pre) - 1] = (uint8_t)c;
		memcpy(msg + sizeof(pre), post, sizeof(post) - 1);
		run_whole(msg, n, NULL, false, &r);
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			cr_assert_eq(r.rc, -EBADMSG, "byte %#x taken", c);
			cr_assert_eq(r.status, 400);
			cr_assert_not_null(strstr(r.error, c == '\n' || c == '\r' ? "RFC 9112 2.2"
										  : "RFC 9110 5.5"),
					   "byte %#x: %s", c, r.error);
		} else {
			cr_assert(r.done, "byte %#x refused: %s", c, r.error ? r.error : "");
			cr_assert_eq(r.hdrs[1].val_len, 3);
		}
	}
	REJECT("GET / HTTP/1.1\r\n" HOST "X: a\x7f\r\n\r\n", 400, "RFC 9110 5.5");
	REJECT("GET / HTTP/1.1\r\n" HOST "X: \x1b[0m\r\n\r\n", 400, "RFC 9110 5.5");
	REJECT("GET / HTTP/1.1\r\n" HOST "X: 0123456789abcdef\x01\r\n\r\n", 400, "RFC 9110 5.5");
}

Test(http1_rules, field_value_ows_trimmed)
{
	static struct run r;

	ACCEPT("GET / HTTP/1.1\r\n" HOST "X: \t a \t b \t \r\nY:\t\r\nZ:z\r\n\r\n", &r);
	cr_assert_str_eq(field_text(&r,
				    (const uint8_t *)"GET / HTTP/1.1\r\n" HOST
						     "X: \t a \t b \t \r\nY:\t\r\nZ:z\r\n\r\n",
				    1),
			 "X: a \t b");
	cr_assert_eq(r.hdrs[2].val_len, 0);
	cr_assert_eq(r.hdrs[3].val_len, 1);
}

Test(http1_rules, field_names_recognised_case_insensitively)
{
	static const struct {
		const char *name;
		uint8_t id;
	} names[] = {
		{"hOsT", SL_HTTP1_H_HOST},
		{"CONTENT-LENGTH", SL_HTTP1_H_CONTENT_LENGTH},
		{"Transfer-encoding", SL_HTTP1_H_TRANSFER_ENCODING},
		{"connectioN", SL_HTTP1_H_CONNECTION},
		{"EXPECT", SL_HTTP1_H_EXPECT},
		{"keep-ALIVE", SL_HTTP1_H_KEEP_ALIVE},
		{"Proxy-Connection", SL_HTTP1_H_PROXY_CONNECTION},
		{"tE", SL_HTTP1_H_TE},
		{"UPGRADE", SL_HTTP1_H_UPGRADE},
		{"TRAILER", SL_HTTP1_H_TRAILER},
		{"x-forwarded-FOR", SL_HTTP1_H_X_FORWARDED_FOR},
		{"X-REQUEST-ID", SL_HTTP1_H_X_REQUEST_ID},
		{"x-Request-Timeout", SL_HTTP1_H_X_REQUEST_TIMEOUT},
		{"X-Cocaine-Service", SL_HTTP1_H_X_COCAINE_SERVICE},
		{"x-cocaine-event", SL_HTTP1_H_X_COCAINE_EVENT},
		{"X-Cocaine-Events", SL_HTTP1_H_OTHER},
		{"X-Cocaine-", SL_HTTP1_H_OTHER},
		{"X-Request-", SL_HTTP1_H_OTHER},
		{"Tra", SL_HTTP1_H_OTHER},
		{"Trailers", SL_HTTP1_H_OTHER},
		{"Content-Type", SL_HTTP1_H_OTHER},
		{"Cookie", SL_HTTP1_H_OTHER},
		{"Hos", SL_HTTP1_H_OTHER},
		{"Expected", SL_HTTP1_H_OTHER},
		{"X", SL_HTTP1_H_OTHER},
		{"Upgrade-Insecure-Requests", SL_HTTP1_H_OTHER},
	};
	static struct run r;
	char msg[256];
	unsigned k;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		/* values that every recognised field accepts */
		const char *val = names[k].id == SL_HTTP1_H_CONTENT_LENGTH	? "0"
				  : names[k].id == SL_HTTP1_H_TRANSFER_ENCODING ? "chunked"
				  : names[k].id == SL_HTTP1_H_EXPECT		? "100-continue"
										: "h";
		const char *body = names[k].id == SL_HTTP1_H_TRANSFER_ENCODING ? "0\r\n\r\n" : "";
		int n = snprintf(msg, sizeof(msg), "GET / HTTP/1.1\r\n%s%s: %s\r\n\r\n%s",
				 names[k].id == SL_HTTP1_H_HOST ? "" : HOST, names[k].name, val,
				 body);

		expect_accept(msg, (size_t)n, &r);
		cr_assert_eq(r.hdrs[r.n_hdrs - 1].id, names[k].id, "%s: id %u", names[k].name,
			     r.hdrs[r.n_hdrs - 1].id);
	}
}

/* ---- Host (RFC 9112 3.2, RFC 9110 7.2) ---- */

Test(http1_rules, host_required_once_in_http11)
{
	static struct run r;

	REJECT("GET / HTTP/1.1\r\n\r\n", 400, "RFC 9112 3.2");
	REJECT("GET / HTTP/1.1\r\nX: y\r\n\r\n", 400, "RFC 9112 3.2");
	REJECT("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, "RFC 9112 3.2");
	REJECT("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400, "RFC 9112 3.2");
	ACCEPT("GET / HTTP/1.0\r\n\r\n", &r);
	cr_assert_eq(r.req.host, -1);
}

Test(http1_rules, host_value)
{
	static struct run r;

	ACCEPT("GET / HTTP/1.1\r\nHost: 192.0.2.7:80\r\n\r\n", &r);
	ACCEPT("GET / HTTP/1.1\r\nHost: xn--bcher-kva.example\r\n\r\n", &r);
	ACCEPT("GET / HTTP/1.1\r\nHost: a%2Eb_c~d!$&'()*+,;=\r\n\r\n", &r);
	ACCEPT("GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n", &r);
	ACCEPT("GET / HTTP/1.1\r\nHost: [v7.fe80::a+en1]:1\r\n\r\n", &r);
	ACCEPT("GET / HTTP/1.1\r\nHost: h:\r\n\r\n", &r); /* port = *DIGIT */
	ACCEPT("GET / HTTP/1.1\r\nHost:  h:80  \r\n\r\n", &r);
	REJECT("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "RFC 9112 3.2");
	REJECT("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "RFC 9112 3.2");
	REJECT("GET / HTTP/1.1\r\nHost: u@h\r\n\r\n", 400, "RFC 3986 3.2.2");
	REJECT("GET / HTTP/1.1\r\nHost: h:8x\r\n\r\n", 400, "RFC 9112 3.2");
	REJECT("GET / HTTP/1.1\r\nHost: h:80:80\r\n\r\n", 400, "RFC 9112 3.2");
	REJECT("GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400, "RFC 9112 3.2");
	REJECT("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400, "RFC 9112 3.2");
	REJECT("GET / HTTP/1.1\r\nHost: []\r\n\r\n", 400, "RFC 9112 3.2");
	REJECT("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 400, "RFC 9112 3.2");
	REJECT("GET / HTTP/1.1\r\nHost: a%2\r\n\r\n", 400, "RFC 9112 3.2");
	REJECT("GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", 400, "RFC 9112 3.2");
	REJECT("GET / HTTP/1.1\r\nHost: h\xc3\xa9\r\n\r\n", 400, "RFC 9112 3.2");
	REJECT("GET / HTTP/1.1\r\nHost: \"h\"\r\n\r\n", 400, "RFC 9112 3.2");
}

Test(http1_rules, empty_host_only_for_origin_form)
{
	static struct run r;

	ACCEPT("GET /x HTTP/1.1\r\nHost:\r\n\r\n", &r);
	cr_assert_eq(r.req.host, 0);
	cr_assert_eq(r.hdrs[0].val_len, 0);
	ACCEPT("GET /x HTTP/1.1\r\nHost: \t \r\n\r\n", &r);
	REJECT("GET http://h/ HTTP/1.1\r\nHost:\r\n\r\n", 400, "RFC 9110 7.2");
	REJECT("OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n", 400, "RFC 9110 7.2");
	REJECT("CONNECT h:1 HTTP/1.1\r\nHost:\r\n\r\n", 400, "RFC 9110 7.2");
}

/* ---- Content-Length (RFC 9110 8.6, RFC 9112 6.3) ---- */

Test(http1_rules, content_length_syntax)
{
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length: +5\r\n\r\nhello", 400, "RFC 9110 8.6");
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length: -5\r\n\r\nhello", 400, "RFC 9110 8.6");
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length: 0x5\r\n\r\nhello", 400, "RFC 9110 8.6");
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length: 5a\r\n\r\nhello", 400, "RFC 9110 8.6");
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length: 1 2\r\n\r\nhello", 400, "RFC 9110 8.6");
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length: 5, 5\r\n\r\nhello", 400, "RFC 9110 8.6");
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length: 5,5\r\n\r\nhello", 400, "RFC 9110 8.6");
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length:\r\n\r\n", 400, "RFC 9110 8.6");
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length: \r\n\r\n", 400, "RFC 9110 8.6");
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length: 5.0\r\n\r\nhello", 400, "RFC 9110 8.6");
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length: \xd9\xa5\r\n\r\nhello", 400,
	       "RFC 9110 8.6");
}

Test(http1_rules, content_length_overflow)
{
	static struct run r;
	struct sl_http1_limits lim = {.body_bytes = UINT64_MAX};

	/* 19 digits is the most: 20 are refused even when they would fit */
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length: 18446744073709551615\r\n\r\n", 400,
	       "RFC 9110 8.6");
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length: 99999999999999999999999\r\n\r\n", 400,
	       "RFC 9110 8.6");
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length: 00000000000000000001\r\n\r\n", 400,
	       "RFC 9110 8.6");
	/* 19 digits pass the syntax (and then hit the body limit) */
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length: 9999999999999999999\r\n\r\n", 413,
	       "RFC 9110 15.5.14");
	run_whole(
		(const uint8_t *)"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "
				 "9999999999999999999\r\n\r\n",
		strlen("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9999999999999999999\r\n\r\n"),
		&lim, false, &r);
	cr_assert(r.head);
	cr_assert_eq(r.req.content_length, 9999999999999999999ull);
}

Test(http1_rules, content_length_repeats)
{
	static struct run r;

	ACCEPT("POST / HTTP/1.1\r\n" HOST "Content-Length: 3\r\nContent-Length: 003\r\n\r\nabc",
	       &r);
	cr_assert_eq(r.req.content_length, 3);
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400,
	       "RFC 9112 6.3");
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length: 0\r\nContent-Length: 1\r\n\r\na", 400,
	       "RFC 9112 6.3");
}

Test(http1_rules, content_length_zero_is_no_body)
{
	static struct run r;

	ACCEPT("POST / HTTP/1.1\r\n" HOST "Content-Length: 0\r\n\r\n", &r);
	cr_assert_eq(r.req.body, SL_HTTP1_B_NONE);
	cr_assert_eq(r.body_len, 0);
}

/* ---- Transfer-Encoding (RFC 9112 6.1, 6.3, 7) ---- */

#define TE(v) "POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: " v "\r\n\r\n0\r\n\r\n"

Test(http1_rules, te_with_content_length)
{
	REJECT("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
	       "0\r\n\r\n",
	       400, "RFC 9112 6.1");
	REJECT("POST / HTTP/1.1\r\n" HOST "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "0\r\n\r\n",
	       400, "RFC 9112 6.1");
}

Test(http1_rules, te_in_http10)
{
	REJECT("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
	       "RFC 9112 6.1");
}

Test(http1_rules, te_final_coding_chunked)
{
	static struct run r;

	ACCEPT(TE("chunked"), &r);
	cr_assert_eq(r.req.body, SL_HTTP1_B_CHUNKED);
	ACCEPT(TE("Chunked"), &r);
	ACCEPT(TE(" ,chunked, "), &r);
	REJECT(TE("gzip"), 400, "RFC 9112 6.3");
	REJECT(TE("chunked, gzip"), 400, "RFC 9112 6.3");
	REJECT(TE("identity"), 400, "RFC 9112 6.3");
	REJECT(TE("chunkedx"), 400, "RFC 9112 6.3");
	REJECT(TE("chunke"), 400, "RFC 9112 6.3");
	REJECT("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip"
	       "\r\n\r\n0\r\n\r\n",
	       400, "RFC 9112 6.3");
}

Test(http1_rules, te_empty)
{
	REJECT(TE(""), 400, "RFC 9112 6.1");
	REJECT(TE(" , ,"), 400, "RFC 9112 6.1");
}

Test(http1_rules, te_chunked_twice)
{
	REJECT(TE("chunked, chunked"), 400, "RFC 9112 6.1");
	REJECT("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\nTransfer-Encoding: "
	       "chunked\r\n\r\n0\r\n\r\n",
	       400, "RFC 9112 6.1");
}

Test(http1_rules, te_chunked_with_parameters)
{
	REJECT(TE("chunked;a=b"), 400, "RFC 9112 7.1");
	REJECT(TE("chunked ; a=b"), 400, "RFC 9112 7.1");
	REJECT(TE("gzip, CHUNKED;q=1"), 400, "RFC 9112 7.1");
}

Test(http1_rules, te_other_codings_501)
{
	REJECT(TE("gzip, chunked"), 501, "RFC 9112 6.1");
	REJECT(TE("deflate, chunked"), 501, "RFC 9112 6.1");
	REJECT(TE("compress,chunked"), 501, "RFC 9112 6.1");
	REJECT(TE("identity, chunked"), 501, "RFC 9112 6.1");
	REJECT(TE("x-unknown ,chunked"), 501, "RFC 9112 6.1");
	REJECT(TE("gzip;level=\"9, chunked\" ; b=c, chunked"), 501, "RFC 9112 6.1");
	REJECT("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked"
	       "\r\n\r\n0\r\n\r\n",
	       501, "RFC 9112 6.1");
	/* a quoted comma does not split the list: the final coding is gzip */
	REJECT(TE("gzip;a=\"x, chunked\""), 400, "RFC 9112 6.3");
}

Test(http1_rules, te_malformed_list)
{
	REJECT(TE("gzip chunked"), 400, "RFC 9112 6.1");
	REJECT(TE("chunked/1"), 400, "RFC 9112 6.1");
	REJECT(TE("gzip;"), 400, "RFC 9112 6.1");
	REJECT(TE("gzip;a, chunked"), 400, "RFC 9112 6.1");
	REJECT(TE("gzip;a=\"x, chunked"), 400, "RFC 9112 6.1");
	REJECT(TE("gzip;a=, chunked"), 400, "RFC 9112 6.1");
	REJECT(TE("\"chunked\""), 400, "RFC 9112 6.1");
}

/* ---- Connection, Expect (RFC 9112 9.3, 9.6; RFC 9110 7.6.1, 10.1.1) ---- */

Test(http1_rules, connection_options)
{
	static struct run r;

	ACCEPT("GET / HTTP/1.1\r\n" HOST "Connection: CLOSE\r\n\r\n", &r);
	cr_assert_eq(r.req.flags, SL_HTTP1_R_CONN_CLOSE);
	ACCEPT("GET / HTTP/1.1\r\n" HOST "Connection: keep-alive, close\r\n\r\n", &r);
	cr_assert_eq(r.req.flags, SL_HTTP1_R_CONN_CLOSE | SL_HTTP1_R_CONN_KEEPALIVE);
	ACCEPT("GET / HTTP/1.1\r\n" HOST "Connection: te\r\nConnection: ,Upgrade\r\n\r\n", &r);
	cr_assert_eq(r.req.flags,
		     SL_HTTP1_R_KEEP_ALIVE | SL_HTTP1_R_CONN_OTHER | SL_HTTP1_R_CONN_UPGRADE);
	ACCEPT("GET / HTTP/1.1\r\n" HOST "Connection: closed, keep-alive2\r\n\r\n", &r);
	cr_assert_eq(r.req.flags, SL_HTTP1_R_KEEP_ALIVE | SL_HTTP1_R_CONN_OTHER);
	ACCEPT("GET / HTTP/1.1\r\n" HOST "Connection:\r\n\r\n", &r);
	cr_assert_eq(r.req.flags, SL_HTTP1_R_KEEP_ALIVE);
	ACCEPT("GET / HTTP/1.0\r\nConnection: close, keep-alive\r\n\r\n", &r);
	cr_assert_eq(r.req.flags, SL_HTTP1_R_CONN_CLOSE | SL_HTTP1_R_CONN_KEEPALIVE);
	ACCEPT("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r);
	cr_assert_eq(r.req.flags, SL_HTTP1_R_KEEP_ALIVE | SL_HTTP1_R_CONN_KEEPALIVE);
	ACCEPT("GET / HTTP/1.0\r\n\r\n", &r);
	cr_assert_eq(r.req.flags, 0);
	REJECT("GET / HTTP/1.1\r\n" HOST "Connection: close;x=1\r\n\r\n", 400, "RFC 9110 7.6.1");
	REJECT("GET / HTTP/1.1\r\n" HOST "Connection: a b\r\n\r\n", 400, "RFC 9110 7.6.1");
	REJECT("GET / HTTP/1.1\r\n" HOST "Connection: \"close\"\r\n\r\n", 400, "RFC 9110 7.6.1");
}

Test(http1_rules, expect)
{
	static struct run r;

	ACCEPT("PUT / HTTP/1.1\r\n" HOST "Expect: 100-CONTINUE\r\nContent-Length: 1\r\n\r\nx", &r);
	cr_assert(r.req.flags & SL_HTTP1_R_EXPECT_CONTINUE);
	/* RFC 9110 10.1.1: ignored in HTTP/1.0 */
	ACCEPT("PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx", &r);
	cr_assert(!(r.req.flags & SL_HTTP1_R_EXPECT_CONTINUE));
	REJECT("PUT / HTTP/1.1\r\n" HOST "Expect: 100-continu\r\n\r\n", 417, "RFC 9110 10.1.1");
	REJECT("PUT / HTTP/1.1\r\n" HOST "Expect: 100-continuee\r\n\r\n", 417, "RFC 9110 10.1.1");
	REJECT("PUT / HTTP/1.1\r\n" HOST "Expect: 200-ok\r\n\r\n", 417, "RFC 9110 10.1.1");
	REJECT("PUT / HTTP/1.1\r\n" HOST "Expect: 100-continue, foo\r\n\r\n", 417,
	       "RFC 9110 10.1.1");
	REJECT("PUT / HTTP/1.1\r\n" HOST "Expect: 100-continue;a=b\r\n\r\n", 417,
	       "RFC 9110 10.1.1");
	REJECT("PUT / HTTP/1.1\r\n" HOST "Expect: \"x\"\r\n\r\n", 417, "RFC 9110 10.1.1");
	cr_assert_str_eq(sl_http1_reason(417), "Expectation Failed");
}

/* ---- chunked body (RFC 9112 7.1) ---- */

#define CH(body) "POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n" body

Test(http1_rules, chunk_size_syntax)
{
	REJECT(CH("0x5\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1");
	REJECT(CH("+5\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1");
	REJECT(CH("-5\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1");
	REJECT(CH(" 5\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1");
	REJECT(CH("\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1");
	REJECT(CH("g\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1");
	REJECT(CH("5g\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1");
}

Test(http1_rules, chunk_size_overflow)
{
	static struct run r;

	REJECT(CH("10000000000000000\r\n"), 400, "RFC 9112 7.1");
	REJECT(CH("fffffffffffffffff\r\n"), 400, "RFC 9112 7.1");
	/* 16 digits fit 64 bits: over the body limit then */
	REJECT(CH("ffffffffffffffff\r\n"), 413, "RFC 9110 15.5.14");
	/* leading zeros are not significant */
	ACCEPT(CH("00000000000000000000001\r\nx\r\n00000000000000000000\r\n\r\n"), &r);
	cr_assert_eq(r.body_len, 1);
}

Test(http1_rules, chunk_whitespace_after_size)
{
	static struct run r;

	ACCEPT(CH("5 ;a\r\nhello\r\n0\t\t;b=\"\"\r\n\r\n"), &r);
	cr_assert_eq(r.body_len, 5);
	REJECT(CH("5 \r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1.1");
	REJECT(CH("5\t\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1.1");
	REJECT(CH("5 5\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1");
	REJECT(CH("0 \r\n\r\n"), 400, "RFC 9112 7.1.1");
}

Test(http1_rules, chunk_extensions)
{
	static struct run r;

	ACCEPT(CH("5;a\r\nhello\r\n0\r\n\r\n"), &r);
	ACCEPT(CH("5;a=b;c=\"d e\";f\r\nhello\r\n0\r\n\r\n"), &r);
	ACCEPT(CH("5 ; a = b ; c\r\nhello\r\n0\r\n\r\n"), &r);
	ACCEPT(CH("5;a=\"\\\"\\\\;\xff\"\r\nhello\r\n0;z\r\n\r\n"), &r);
	cr_assert_eq(r.body_len, 5);
	REJECT(CH("5;\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1.1");
	REJECT(CH("5;=b\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1.1");
	REJECT(CH("5;a=\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1.1");
	REJECT(CH("5;a=\"b\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1.1");
	REJECT(CH("5;a=b c\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1.1");
	REJECT(CH("5;a b\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1.1");
	REJECT(CH("5;a=\"b\"c\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1.1");
	REJECT(CH("5;a@b\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1.1");
	REJECT(CH("5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1.1");
	REJECT(CH("5;a=\"\\\x7f\"\r\nhello\r\n0\r\n\r\n"), 400, "RFC 9112 7.1.1");
}

Test(http1_rules, chunk_data_crlf)
{
	REJECT(CH("5\r\nhelloX\r\n0\r\n\r\n"), 400, "RFC 9112 7.1");
	REJECT(CH("5\r\nhello\rX0\r\n\r\n"), 400, "RFC 9112 7.1");
	REJECT(CH("5\r\nhello\n0\r\n\r\n"), 400, "RFC 9112 2.2");
	REJECT(CH("5\r\nhel\r\n0\r\n\r\n"), 400, "RFC 9112 7.1");
}

Test(http1_rules, trailer_section)
{
	static struct run r;

	ACCEPT(CH("1\r\na\r\n0\r\nA: 1\r\nB:\t2 \r\n\r\n"), &r);
	cr_assert_eq(r.n_hdrs, 4);
	cr_assert_eq(r.hdrs[2].flags, SL_HTTP1_HF_TRAILER);
	cr_assert_eq(r.hdrs[3].flags, SL_HTTP1_HF_TRAILER);
	/* fields in trailers change nothing of the framing (RFC 9110 6.5.1) */
	ACCEPT(CH("0\r\nContent-Length: 5\r\nHost: x\r\nHost: y\r\nExpect: no\r\n"
		  "Transfer-Encoding: gzip\r\n\r\n"),
	       &r);
	cr_assert_eq(r.req.content_length, 0);
	cr_assert_eq(r.hdrs[2].id, SL_HTTP1_H_CONTENT_LENGTH);
	cr_assert_eq(r.hdrs[2].flags, SL_HTTP1_HF_TRAILER);
	cr_assert_eq(r.req.host, 0);
	/* the same field rules */
	REJECT(CH("0\r\n A: 1\r\n\r\n"), 400, "RFC 9112 2.2");
	REJECT(CH("0\r\nA: 1\r\n b\r\n\r\n"), 400, "RFC 9112 5.2");
	REJECT(CH("0\r\nA : 1\r\n\r\n"), 400, "RFC 9112 5.1");
	REJECT(CH("0\r\nA: \x01\r\n\r\n"), 400, "RFC 9110 5.5");
	REJECT(CH("0\r\nA: 1\n\r\n"), 400, "RFC 9112 2.2");
	REJECT(CH("0\r\nA: 1\r\n\n"), 400, "RFC 9112 2.2");
	REJECT(CH("0\r\n\rX"), 400, "RFC 9112 2.2");
	REJECT(CH("0\r\n(: 1\r\n\r\n"), 400, "RFC 9110 5.1");
}

Test(http1_rules, pipelined_after_each_body_kind)
{
	static const char msgs[] =
		"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
		"POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab"
		"POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"2\r\ncd\r\n0\r\nT: t\r\n\r\n"
		"\r\nGET /4 HTTP/1.0\r\n\r\n";
	static struct run w, o;
	size_t len = sizeof(msgs) - 1, at;

	run_whole((const uint8_t *)msgs, len, NULL, true, &w);
	cr_assert_eq(w.nmsg, 4);
	cr_assert_eq(w.consumed, len);
	cr_assert_eq(w.body_len, 4);
	cr_assert(memcmp(w.body, "abcd", 4) == 0);
	run_bytes((const uint8_t *)msgs, len, NULL, true, &o);
	cr_assert_str_eq(o.digest, w.digest);
	for (at = 0; at <= len; at++) {
		run_split((const uint8_t *)msgs, len, at, NULL, true, &o);
		cr_assert_str_eq(o.digest, w.digest, "split at %zu", at);
	}
}

/* Every byte value inside long runs (the 16-byte scans of names, targets and values): a
 * field name, a request-target and a field value of 41 bytes each with byte c at offset 20. */
#define RUN_A "Abcdefghijklmnopqrst"
#define RUN_B "uvwxyz0123456789ABCD"
#define PAD "\r\nX-Padding: 0123456789012345678901234567890123456789\r\n\r\n"

/* pre RUN_A c RUN_B post into msg; returns the length */
static size_t
long_run(char *msg, size_t cap, const char *pre, int c, const char *post)
{
	size_t n = (size_t)snprintf(msg, cap, "%s" RUN_A "_" RUN_B "%s", pre, post);

	msg[strlen(pre) + strlen(RUN_A)] = (char)c;
	return n;
}

Test(http1_rules, every_byte_in_long_runs)
{
	static const char tchars[] = "!#$%&'*+-.^_`|~";
	static struct run r;
	char msg[512];
	size_t n;
	int c;

	for (c = 0; c < 256; c++) {
		bool tchar = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			     (c >= 'A' && c <= 'Z') || (c != 0 && strchr(tchars, c) != NULL);
		bool uri = c > 0x20 && c < 0x7f && c != '#';
		bool val = (c >= 0x20 && c != 0x7f) || c == '\t';

		n = long_run(msg, sizeof(msg), "GET / HTTP/1.1\r\nHost: h\r\n", c, ": v" PAD);
		run_whole((const uint8_t *)msg, n, NULL, false, &r);
		if (c == ':') { /* ends the name early: the rest is the value */
			cr_assert(r.done);
			cr_assert_eq(r.hdrs[1].name_len, 20);
		} else {
			cr_assert_eq(r.done, tchar, "name byte %#x: %s", c,
				     r.error ? r.error : "taken");
		}
		if (tchar)
			cr_assert_eq(r.hdrs[1].name_len, 41);
		n = long_run(msg, sizeof(msg), "GET /", c, " HTTP/1.1\r\nHost: h" PAD);
		run_whole((const uint8_t *)msg, n, NULL, false, &r);
		if (c == ' ') /* ends the target early: then the version is wrong */
			cr_assert_eq(r.status, 400);
		else
			cr_assert_eq(r.done, uri, "target byte %#x: %s", c,
				     r.error ? r.error : "taken");
		if (uri)
			cr_assert_eq(r.req.target.len, 42);
		n = long_run(msg, sizeof(msg), "GET / HTTP/1.1\r\nHost: h\r\nX-V: ", c, PAD);
		run_whole((const uint8_t *)msg, n, NULL, false, &r);
		cr_assert_eq(r.done, val, "value byte %#x: %s", c, r.error ? r.error : "taken");
		if (val)
			cr_assert_eq(r.hdrs[1].val_len, 41);
	}
}
