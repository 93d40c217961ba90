/*
 * dataplane/http/http1.c: valid requests. Each is parsed whole, byte by byte and split in
 * two at every byte; the results must be identical, every truncated prefix must ask for
 * more (no error, no HEAD before the head, no DONE before the end), and the result must be
 * the expected values written here by hand.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "http-test.h"

#define H(n, v)                                                                                    \
	{                                                                                          \
		n, v, SL_HTTP1_H_OTHER, 0                                                          \
	}
#define HID(n, v, id)                                                                              \
	{                                                                                          \
		n, v, id, 0                                                                        \
	}
#define T(n, v)                                                                                    \
	{                                                                                          \
		n, v, SL_HTTP1_H_OTHER, SL_HTTP1_HF_TRAILER                                        \
	}
#define MAXH 24

struct exp_hdr {
	const char *name, *value;
	uint8_t id, flags;
};

struct valid {
	const char *name;
	const char *msg;
	const char *method;
	uint8_t method_id;
	const char *target;
	uint8_t form, minor, body;
	uint32_t flags;
	uint64_t cl;
	int host;
	const char *body_text; /* the de-chunked body */
	struct exp_hdr hdrs[MAXH];
};

#define KA SL_HTTP1_R_KEEP_ALIVE

static const struct valid valid[] = {
	{
		.name = "simple GET",
		.msg = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
		.method = "GET",
		.method_id = SL_HTTP1_M_GET,
		.target = "/",
		.minor = 1,
		.flags = KA,
		.host = 0,
		.hdrs = {HID("Host", "example.com", SL_HTTP1_H_HOST)},
	},
	{
		.name = "browser GET, 12 fields",
		.msg = "GET /static/app.js?v=42&lang=en HTTP/1.1\r\n"
		       "Host: www.example.org\r\n"
		       "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 "
		       "Firefox/115.0\r\n"
		       "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
		       "Accept-Language: en-US,en;q=0.5\r\n"
		       "Accept-Encoding: gzip, deflate, br\r\n"
		       "Referer: https://www.example.org/index.html\r\n"
		       "Connection: keep-alive\r\n"
		       "Cookie: session=0123456789abcdef; theme=dark\r\n"
		       "Upgrade-Insecure-Requests: 1\r\n"
		       "Sec-Fetch-Dest: script\r\n"
		       "Cache-Control: max-age=0\r\n"
		       "X-Request-Id: 7f3a9c2e-1b4d-4e8f-9a6b-0c5d2e7f8a91\r\n"
		       "\r\n",
		.method = "GET",
		.method_id = SL_HTTP1_M_GET,
		.target = "/static/app.js?v=42&lang=en",
		.minor = 1,
		.flags = KA | SL_HTTP1_R_CONN_KEEPALIVE,
		.host = 0,
		.hdrs = {HID("Host", "www.example.org", SL_HTTP1_H_HOST),
			 H("User-Agent",
			   "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"),
			 H("Accept",
			   "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
			 H("Accept-Language", "en-US,en;q=0.5"),
			 H("Accept-Encoding", "gzip, deflate, br"),
			 H("Referer", "https://www.example.org/index.html"),
			 HID("Connection", "keep-alive", SL_HTTP1_H_CONNECTION),
			 H("Cookie", "session=0123456789abcdef; theme=dark"),
			 H("Upgrade-Insecure-Requests", "1"), H("Sec-Fetch-Dest", "script"),
			 H("Cache-Control", "max-age=0"),
			 HID("X-Request-Id", "7f3a9c2e-1b4d-4e8f-9a6b-0c5d2e7f8a91",
			     SL_HTTP1_H_X_REQUEST_ID)},
	},
	{
		.name = "POST with Content-Length",
		.msg = "POST /api/v1/items HTTP/1.1\r\nHost: api.example.com:8443\r\n"
		       "Content-Type: application/json\r\nContent-Length: 27\r\n\r\n"
		       "{\"name\":\"widget\",\"qty\":12}\n",
		.method = "POST",
		.method_id = SL_HTTP1_M_POST,
		.target = "/api/v1/items",
		.minor = 1,
		.body = SL_HTTP1_B_LENGTH,
		.flags = KA,
		.cl = 27,
		.host = 0,
		.body_text = "{\"name\":\"widget\",\"qty\":12}\n",
		.hdrs = {HID("Host", "api.example.com:8443", SL_HTTP1_H_HOST),
			 H("Content-Type", "application/json"),
			 HID("Content-Length", "27", SL_HTTP1_H_CONTENT_LENGTH)},
	},
	{
		.name = "chunked with extensions and trailers",
		.msg = "PUT /upload HTTP/1.1\r\nHost: up.example\r\nTransfer-Encoding: chunked\r\n"
		       "Trailer: X-Checksum\r\n\r\n"
		       "5;name=value\r\nhello\r\n"
		       "7 ; a = \"q;\\\"x\" ;b\r\n, world\r\n"
		       "1;e1;e2=t\r\n!\r\n"
		       "0;last\r\n"
		       "X-Checksum: abc123\r\nX-Note:  done \r\n\r\n",
		.method = "PUT",
		.method_id = SL_HTTP1_M_PUT,
		.target = "/upload",
		.minor = 1,
		.body = SL_HTTP1_B_CHUNKED,
		.flags = KA,
		.host = 0,
		.body_text = "hello, world!",
		.hdrs = {HID("Host", "up.example", SL_HTTP1_H_HOST),
			 HID("Transfer-Encoding", "chunked", SL_HTTP1_H_TRANSFER_ENCODING),
			 HID("Trailer", "X-Checksum", SL_HTTP1_H_TRAILER),
			 T("X-Checksum", "abc123"), T("X-Note", "done")},
	},
	{
		.name = "HTTP/1.0 without Host",
		.msg = "GET /index.html HTTP/1.0\r\nUser-Agent: curl/7.88\r\n\r\n",
		.method = "GET",
		.method_id = SL_HTTP1_M_GET,
		.target = "/index.html",
		.minor = 0,
		.flags = 0,
		.host = -1,
		.hdrs = {H("User-Agent", "curl/7.88")},
	},
	{
		.name = "HTTP/1.0 keep-alive",
		.msg = "HEAD /x HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: a\r\n\r\n",
		.method = "HEAD",
		.method_id = SL_HTTP1_M_HEAD,
		.target = "/x",
		.minor = 0,
		.flags = KA | SL_HTTP1_R_CONN_KEEPALIVE,
		.host = 1,
		.hdrs = {HID("Connection", "Keep-Alive", SL_HTTP1_H_CONNECTION),
			 HID("Host", "a", SL_HTTP1_H_HOST)},
	},
	{
		.name = "absolute-form",
		.msg = "GET http://example.com:8080/a/b?c=d HTTP/1.1\r\nHost: example.com:8080\r\n"
		       "Proxy-Connection: keep-alive\r\n\r\n",
		.method = "GET",
		.method_id = SL_HTTP1_M_GET,
		.target = "http://example.com:8080/a/b?c=d",
		.form = SL_HTTP1_F_ABSOLUTE,
		.minor = 1,
		.flags = KA,
		.host = 0,
		.hdrs = {HID("Host", "example.com:8080", SL_HTTP1_H_HOST),
			 HID("Proxy-Connection", "keep-alive", SL_HTTP1_H_PROXY_CONNECTION)},
	},
	{
		.name = "OPTIONS *",
		.msg = "OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n",
		.method = "OPTIONS",
		.method_id = SL_HTTP1_M_OPTIONS,
		.target = "*",
		.form = SL_HTTP1_F_ASTERISK,
		.minor = 1,
		.flags = KA,
		.host = 0,
		.hdrs = {HID("Host", "example.com", SL_HTTP1_H_HOST)},
	},
	{
		.name = "CONNECT host:443",
		.msg = "CONNECT server.example.com:443 HTTP/1.1\r\nHost: server.example.com:443\r\n"
		       "\r\n",
		.method = "CONNECT",
		.method_id = SL_HTTP1_M_CONNECT,
		.target = "server.example.com:443",
		.form = SL_HTTP1_F_AUTHORITY,
		.minor = 1,
		.flags = KA,
		.host = 0,
		.hdrs = {HID("Host", "server.example.com:443", SL_HTTP1_H_HOST)},
	},
	{
		.name = "many small chunks",
		.msg = "POST /s HTTP/1.1\r\nhost: h\r\ntransfer-encoding: CHUNKED\r\n\r\n"
		       "1\r\na\r\n2\r\nbc\r\n1\r\nd\r\n3\r\nefg\r\n1\r\nh\r\n1\r\ni\r\n2\r\njk\r\n"
		       "1\r\nl\r\n1\r\nm\r\n4\r\nnopq\r\n1\r\nr\r\n1\r\ns\r\n1\r\nt\r\n1\r\nu\r\n"
		       "2\r\nvw\r\n1\r\nx\r\n1\r\ny\r\n1\r\nz\r\n0\r\n\r\n",
		.method = "POST",
		.method_id = SL_HTTP1_M_POST,
		.target = "/s",
		.minor = 1,
		.body = SL_HTTP1_B_CHUNKED,
		.flags = KA,
		.host = 0,
		.body_text = "abcdefghijklmnopqrstuvwxyz",
		.hdrs = {HID("host", "h", SL_HTTP1_H_HOST),
			 HID("transfer-encoding", "CHUNKED", SL_HTTP1_H_TRANSFER_ENCODING)},
	},
	{
		.name = "empty lines before the request line",
		.msg = "\r\n\r\n\r\nDELETE /item/7 HTTP/1.1\r\nHost: h.example\r\n\r\n",
		.method = "DELETE",
		.method_id = SL_HTTP1_M_DELETE,
		.target = "/item/7",
		.minor = 1,
		.flags = KA,
		.host = 0,
		.hdrs = {HID("Host", "h.example", SL_HTTP1_H_HOST)},
	},
	{
		.name = "odd legal spacing in values",
		.msg = "GET /sp HTTP/1.1\r\nHost:h\r\nX-A:   a  b \t\r\nX-B:\t\tv\t\r\nX-E:\r\n"
		       "X-F: \t \r\nX-G:x\r\nX-H: \"q  q\" , , z\r\n\r\n",
		.method = "GET",
		.method_id = SL_HTTP1_M_GET,
		.target = "/sp",
		.minor = 1,
		.flags = KA,
		.host = 0,
		.hdrs = {HID("Host", "h", SL_HTTP1_H_HOST), H("X-A", "a  b"), H("X-B", "v"),
			 H("X-E", ""), H("X-F", ""), H("X-G", "x"), H("X-H", "\"q  q\" , , z")},
	},
	{
		.name = "obs-text in a value",
		.msg = "GET /o HTTP/1.1\r\nHost: o\r\nX-Name: caf\xc3\xa9 \xff\x80 end\r\n"
		       "X-Tab: a\tb\r\n\r\n",
		.method = "GET",
		.method_id = SL_HTTP1_M_GET,
		.target = "/o",
		.minor = 1,
		.flags = KA,
		.host = 0,
		.hdrs = {HID("Host", "o", SL_HTTP1_H_HOST), H("X-Name", "caf\xc3\xa9 \xff\x80 end"),
			 H("X-Tab", "a\tb")},
	},
	{
		.name = "HTTP/1.2 is taken as 1.1",
		.msg = "GET /v HTTP/1.2\r\nHost: v\r\n\r\n",
		.method = "GET",
		.method_id = SL_HTTP1_M_GET,
		.target = "/v",
		.minor = 1,
		.flags = KA,
		.host = 0,
		.hdrs = {HID("Host", "v", SL_HTTP1_H_HOST)},
	},
	{
		.name = "hex sizes, leading zeros, quoted extension",
		.msg = "POST /h HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
		       "000A;q=\"a b\\\\c\"\r\n0123456789\r\n"
		       "b\r\nABCDEFGHIJK\r\n0000\r\n\r\n",
		.method = "POST",
		.method_id = SL_HTTP1_M_POST,
		.target = "/h",
		.minor = 1,
		.body = SL_HTTP1_B_CHUNKED,
		.flags = KA,
		.host = 0,
		.body_text = "0123456789ABCDEFGHIJK",
		.hdrs = {HID("Host", "h", SL_HTTP1_H_HOST),
			 HID("Transfer-Encoding", "chunked", SL_HTTP1_H_TRANSFER_ENCODING)},
	},
	{
		.name = "Expect: 100-continue, identical Content-Length twice",
		.msg = "PUT /e HTTP/1.1\r\nHost: e\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n"
		       "content-length: 4\r\n\r\nbody",
		.method = "PUT",
		.method_id = SL_HTTP1_M_PUT,
		.target = "/e",
		.minor = 1,
		.body = SL_HTTP1_B_LENGTH,
		.flags = KA | SL_HTTP1_R_EXPECT_CONTINUE,
		.cl = 4,
		.host = 0,
		.body_text = "body",
		.hdrs = {HID("Host", "e", SL_HTTP1_H_HOST),
			 HID("Expect", "100-Continue", SL_HTTP1_H_EXPECT),
			 HID("Content-Length", "4", SL_HTTP1_H_CONTENT_LENGTH),
			 HID("content-length", "4", SL_HTTP1_H_CONTENT_LENGTH)},
	},
	{
		.name = "Transfer-Encoding list over two lines with empty elements",
		.msg = "POST /l HTTP/1.1\r\nHost: l\r\nTransfer-Encoding: ,\r\n"
		       "Transfer-Encoding: , chunked ,\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		.method = "POST",
		.method_id = SL_HTTP1_M_POST,
		.target = "/l",
		.minor = 1,
		.body = SL_HTTP1_B_CHUNKED,
		.flags = KA,
		.host = 0,
		.body_text = "abc",
		.hdrs = {HID("Host", "l", SL_HTTP1_H_HOST),
			 HID("Transfer-Encoding", ",", SL_HTTP1_H_TRANSFER_ENCODING),
			 HID("Transfer-Encoding", ", chunked ,", SL_HTTP1_H_TRANSFER_ENCODING)},
	},
	{
		.name = "Connection: close, Upgrade; TE and Keep-Alive fields",
		.msg = "GET /ws HTTP/1.1\r\nHost: ws.example\r\nConnection: Upgrade, close, "
		       "X-Foo\r\nUpgrade: websocket\r\nTE: trailers\r\nKeep-Alive: timeout=5\r\n\r\n",
		.method = "GET",
		.method_id = SL_HTTP1_M_GET,
		.target = "/ws",
		.minor = 1,
		.flags = SL_HTTP1_R_CONN_UPGRADE | SL_HTTP1_R_CONN_CLOSE | SL_HTTP1_R_CONN_OTHER,
		.host = 0,
		.hdrs = {HID("Host", "ws.example", SL_HTTP1_H_HOST),
			 HID("Connection", "Upgrade, close, X-Foo", SL_HTTP1_H_CONNECTION),
			 HID("Upgrade", "websocket", SL_HTTP1_H_UPGRADE),
			 HID("TE", "trailers", SL_HTTP1_H_TE),
			 HID("Keep-Alive", "timeout=5", SL_HTTP1_H_KEEP_ALIVE)},
	},
	{
		.name = "PATCH, IPv6 Host, percent-encoded target",
		.msg = "PATCH /a%20b/c?x=%2F HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n"
		       "X-Forwarded-For: 192.0.2.1\r\nX-Cocaine-Service: echo\r\n"
		       "X-Cocaine-Event: ping\r\nX-Request-Timeout: 500\r\nContent-Length: 0\r\n\r\n",
		.method = "PATCH",
		.method_id = SL_HTTP1_M_PATCH,
		.target = "/a%20b/c?x=%2F",
		.minor = 1,
		.body = SL_HTTP1_B_NONE,
		.flags = KA,
		.host = 0,
		.hdrs = {HID("Host", "[2001:db8::1]:8080", SL_HTTP1_H_HOST),
			 HID("X-Forwarded-For", "192.0.2.1", SL_HTTP1_H_X_FORWARDED_FOR),
			 HID("X-Cocaine-Service", "echo", SL_HTTP1_H_X_COCAINE_SERVICE),
			 HID("X-Cocaine-Event", "ping", SL_HTTP1_H_X_COCAINE_EVENT),
			 HID("X-Request-Timeout", "500", SL_HTTP1_H_X_REQUEST_TIMEOUT),
			 HID("Content-Length", "0", SL_HTTP1_H_CONTENT_LENGTH)},
	},
	{
		.name = "extension method, empty Host, names close to known ones",
		.msg = "PROPFIND /dav/ HTTP/1.1\r\nHost:\r\nHosts: x\r\nTE-x: y\r\nContent-Lengt: 3\r\n"
		       "X-Request-I: 1\r\nTransfer-Encodings: gzip\r\nT: 1\r\n\r\n",
		.method = "PROPFIND",
		.method_id = SL_HTTP1_M_OTHER,
		.target = "/dav/",
		.minor = 1,
		.flags = KA,
		.host = 0,
		.hdrs = {HID("Host", "", SL_HTTP1_H_HOST), H("Hosts", "x"), H("TE-x", "y"),
			 H("Content-Lengt", "3"), H("X-Request-I", "1"),
			 H("Transfer-Encodings", "gzip"), H("T", "1")},
	},
	{
		.name = "TRACE, Content-Length with OWS, long value",
		.msg = "TRACE /t HTTP/1.1\r\nHost: t\r\nContent-Length:  00012 \r\n"
		       "X-Long: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		       "0123456789abcdef0123456789abcdef\r\n\r\nhello world!",
		.method = "TRACE",
		.method_id = SL_HTTP1_M_TRACE,
		.target = "/t",
		.minor = 1,
		.body = SL_HTTP1_B_LENGTH,
		.flags = KA,
		.cl = 12,
		.host = 0,
		.body_text = "hello world!",
		.hdrs = {HID("Host", "t", SL_HTTP1_H_HOST),
			 HID("Content-Length", "00012", SL_HTTP1_H_CONTENT_LENGTH),
			 H("X-Long",
			   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
			   "0123456789abcdef0123456789abcdef")},
	},
};

#define NVALID (sizeof(valid) / sizeof(valid[0]))

static void
check_expected(const struct valid *v, const struct run *r)
{
	const uint8_t *m = (const uint8_t *)v->msg;
	unsigned i, n = 0;

	cr_assert(r->done, "%s: not done (%d %s)", v->name, r->status, r->error ? r->error : "");
	cr_assert_str_eq(span_text(r, m, r->req.method), v->method, "%s", v->name);
	cr_assert_eq(r->req.method_id, v->method_id, "%s", v->name);
	cr_assert_str_eq(span_text(r, m, r->req.target), v->target, "%s", v->name);
	cr_assert_eq(r->req.form, v->form, "%s", v->name);
	cr_assert_eq(r->req.minor, v->minor, "%s", v->name);
	cr_assert_eq(r->req.body, v->body, "%s", v->name);
	cr_assert_eq(r->req.flags, v->flags, "%s: flags %#x want %#x", v->name, r->req.flags,
		     v->flags);
	cr_assert_eq(r->req.content_length, v->cl, "%s", v->name);
	cr_assert_eq(r->req.host, v->host, "%s", v->name);
	while (n < MAXH && v->hdrs[n].name != NULL)
		n++;
	cr_assert_eq(r->n_hdrs, n, "%s: %u fields, want %u", v->name, r->n_hdrs, n);
	for (i = 0; i < n; i++) {
		char want[8192];

		snprintf(want, sizeof(want), "%s: %s", v->hdrs[i].name, v->hdrs[i].value);
		cr_assert_str_eq(field_text(r, m, i), want, "%s: field %u", v->name, i);
		cr_assert_eq(r->hdrs[i].id, v->hdrs[i].id, "%s: field %u id %u want %u", v->name, i,
			     r->hdrs[i].id, v->hdrs[i].id);
		cr_assert_eq(r->hdrs[i].flags, v->hdrs[i].flags, "%s: field %u flags", v->name, i);
	}
	if (v->body_text == NULL) {
		cr_assert_eq(r->body_len, 0, "%s", v->name);
	} else {
		cr_assert_eq(r->body_len, strlen(v->body_text), "%s", v->name);
		cr_assert(memcmp(r->body, v->body_text, r->body_len) == 0, "%s: body", v->name);
	}
}

Test(http1_valid, expected_values_whole)
{
	static struct run r;
	unsigned k;

	for (k = 0; k < NVALID; k++) {
		size_t len = strlen(valid[k].msg);

		run_whole((const uint8_t *)valid[k].msg, len, NULL, false, &r);
		cr_assert_eq(r.consumed, len, "%s", valid[k].name);
		check_expected(&valid[k], &r);
	}
}

Test(http1_valid, split_anywhere_and_bytewise_same)
{
	static struct run r;
	unsigned k;

	for (k = 0; k < NVALID; k++) {
		expect_accept(valid[k].msg, strlen(valid[k].msg), &r);
		check_expected(&valid[k], &r);
	}
}

Test(http1_valid, three_piece_splits_same)
{
	static struct run w, o;
	unsigned k;

	for (k = 0; k < NVALID; k++) {
		const uint8_t *m = (const uint8_t *)valid[k].msg;
		size_t len = strlen(valid[k].msg), a, b;

		run_whole(m, len, NULL, false, &w);
		for (a = 0; a <= len; a += 3)
			for (b = a; b <= len; b += 5) {
				size_t ends[3] = {a, b, len};

				run_ends(m, len, ends, 3, NULL, false, &o);
				cr_assert_str_eq(o.digest, w.digest, "%s: cut at %zu, %zu",
						 valid[k].name, a, b);
			}
	}
}

Test(http1_valid, every_prefix_asks_for_more)
{
	static struct run w;
	unsigned k;

	for (k = 0; k < NVALID; k++) {
		const uint8_t *m = (const uint8_t *)valid[k].msg;
		size_t len = strlen(valid[k].msg);

		run_whole(m, len, NULL, false, &w);
		cr_assert(w.done);
		expect_prefixes_more(valid[k].name, m, len, &w);
	}
}

Test(http1_valid, pipelined_all_in_one_buffer)
{
	static uint8_t buf[16384];
	static struct run w, o;
	size_t len = 0, at;
	unsigned k;

	for (k = 0; k < NVALID; k++) {
		size_t l = strlen(valid[k].msg);

		cr_assert(len + l <= sizeof(buf));
		memcpy(buf + len, valid[k].msg, l);
		len += l;
	}
	run_whole(buf, len, NULL, true, &w);
	cr_assert_eq(w.nmsg, NVALID, "%u messages", w.nmsg);
	cr_assert_eq(w.consumed, len);
	run_bytes(buf, len, NULL, true, &o);
	cr_assert_str_eq(o.digest, w.digest);
	for (at = 0; at <= len; at += 7) {
		run_split(buf, len, at, NULL, true, &o);
		cr_assert_str_eq(o.digest, w.digest, "split at %zu", at);
	}
}

Test(http1_valid, pipelined_two_requests)
{
	static const char two[] = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz"
				  "GET /b HTTP/1.1\r\nHost: b\r\n\r\n";
	const uint8_t *m = (const uint8_t *)two;
	struct sl_http1_hdr hd[16];
	struct sl_http1_parser p;
	struct sl_http1_span sp;
	size_t used, off = 0, len = sizeof(two) - 1;

	cr_assert_eq(sl_http1_init(&p, NULL, hd), 0);
	cr_assert_eq(sl_http1_feed(&p, m, len, &used, &sp), SL_HTTP1_HEAD);
	off += used;
	cr_assert_eq(sl_http1_feed(&p, m + off, len - off, &used, &sp), SL_HTTP1_BODY);
	cr_assert_eq(sp.len, 3);
	cr_assert(memcmp(m + sp.off, "xyz", 3) == 0);
	off += used;
	cr_assert_eq(sl_http1_feed(&p, m + off, len - off, &used, &sp), SL_HTTP1_DONE);
	cr_assert_eq(used, 0);
	cr_assert_eq(off, strlen("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz"));
	sl_http1_reset(&p);
	cr_assert_eq(sl_http1_feed(&p, m + off, len - off, &used, &sp), SL_HTTP1_HEAD);
	cr_assert_eq(p.req.method_id, SL_HTTP1_M_GET);
	cr_assert(memcmp(m + off + p.req.target.off, "/b", 2) == 0);
	cr_assert_eq(p.req.target.len, 2);
	off += used;
	cr_assert_eq(off, len);
	cr_assert_eq(sl_http1_feed(&p, NULL, 0, &used, &sp), SL_HTTP1_DONE);
	cr_assert(!sl_http1_in_body(&p));
}
