/**
 * @file
 * The HTTP/1.1 front (dataplane/http/server.c) over the TCP stack of the unit tests
 * (tests/unit/tcp/tcp-test.c): requests go in as client segments, answers are read back from
 * the transmitted segments and compared with text written here by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "server.h"
#include "tcp-test.h"

struct hs {
	struct tenv *e;
	struct sl_http_server srv;
	uint32_t cli_seq;	/* next client sequence number, relative to its ISN */
	uint32_t srv_next;	/* server bytes received so far (relative seq of the next one) */
	bool fin;		/* the server sent FIN */
	bool rst;		/* the server sent RST */
	unsigned int data_segs; /* segments with payload the server sent */
	uint16_t wnd;		/* the client's advertised window (0: it stopped reading) */
	char out[1 << 20];	/* everything the server sent, in order */
	uint32_t out_len;
};

static struct hs *
hs_new_tcp(const struct sl_http_conf *conf, const struct sl_tcp_params *tp)
{
	struct hs *h = calloc(1, sizeof(*h));
	struct sl_http_conf c = {.health = true, .mirror = true};

	cr_assert_not_null(h);
	if (conf != NULL)
		c = *conf;
	h->wnd = 65535;
	h->e = t_new(tp);
	cr_assert_eq(sl_http_server_init(&h->srv, &h->e->st, &c, 3, 7), 0);
	h->e->st.listeners[0].ops = &sl_http_ops;
	h->e->st.listeners[0].app = &h->srv;
	return h;
}

static struct hs *
hs_new(const struct sl_http_conf *conf)
{
	return hs_new_tcp(conf, NULL);
}

/* Read what the server sent; ACK it so that its send queue empties. */
static void
hs_collect(struct hs *h)
{
	struct tenv *e = h->e;
	bool got = false;

	while (e->n_cap != 0) {
		struct t_out o = t_pop_out(e);
		uint32_t rel = o.seq - e->srv_iss - 1;

		if (o.flags & TF_RST) {
			h->rst = true;
			continue;
		}
		if (o.len > 0)
			h->data_segs++;
		if (o.len > 0 && rel == h->srv_next) {
			cr_assert_lt(h->out_len + o.len, sizeof(h->out));
			memcpy(h->out + h->out_len, o.payload, o.len);
			h->out_len += o.len;
			h->srv_next += o.len;
			got = true;
		}
		if ((o.flags & TF_FIN) && rel + o.len == h->srv_next && !h->fin) {
			h->fin = true;
			h->srv_next++;
			got = true;
		}
	}
	h->out[h->out_len] = '\0';
	if (got && !h->rst) {
		struct t_seg_spec s = {.flags = TF_ACK,
				       .seq = e->cli_isn + h->cli_seq,
				       .ack = e->srv_iss + 1 + h->srv_next,
				       .wnd = h->wnd};

		t_inject(e, &s);
		hs_collect(h);
	}
}

static void
hs_connect(struct hs *h)
{
	cr_assert_not_null(t_handshake(h->e, 1000, t_opts_mss1460, 4));
	h->cli_seq = 1;
	hs_collect(h);
}

/* Client bytes in segments of at most `mss` bytes. */
static void
hs_send_mss(struct hs *h, const void *data, uint32_t len, uint32_t mss)
{
	const uint8_t *p = data;

	while (len > 0) {
		uint32_t k = len < mss ? len : mss;
		struct t_seg_spec s = {.flags = TF_ACK | TF_PSH,
				       .seq = h->e->cli_isn + h->cli_seq,
				       .ack = h->e->srv_iss + 1 + h->srv_next,
				       .wnd = h->wnd,
				       .payload = p,
				       .len = k};

		t_inject(h->e, &s);
		h->cli_seq += k;
		p += k;
		len -= k;
		hs_collect(h);
	}
}

static void
hs_send(struct hs *h, const char *s)
{
	hs_send_mss(h, s, (uint32_t)strlen(s), 1400);
}

static void
hs_fin(struct hs *h)
{
	struct t_seg_spec s = {.flags = TF_ACK | TF_FIN,
			       .seq = h->e->cli_isn + h->cli_seq,
			       .ack = h->e->srv_iss + 1 + h->srv_next,
			       .wnd = h->wnd};

	t_inject(h->e, &s);
	h->cli_seq++;
	hs_collect(h);
}

/* Time passes for TCP and for the server. */
static void
hs_advance(struct hs *h, uint64_t us)
{
	while (us > 0) {
		uint64_t k = us < 10000 ? us : 10000;

		t_advance(h->e, k);
		sl_http_server_tick(&h->srv, h->e->now);
		us -= k;
	}
	hs_collect(h);
}

static void
hs_free(struct hs *h)
{
	sl_http_server_fini(&h->srv);
	t_fini(h->e);
	free(h);
}

/* The answer text with the 32-hex generated X-Request-Id replaced by "ID". */
static const char *
hs_text(struct hs *h)
{
	static char buf[1 << 20];
	const char *s = h->out;
	char *d = buf;

	while (*s != '\0') {
		if (strncmp(s, "X-Request-Id: ", 14) == 0 &&
		    strspn(s + 14, "0123456789abcdef") == 32) {
			d += sprintf(d, "X-Request-Id: ID");
			s += 14 + 32;
			continue;
		}
		*d++ = *s++;
	}
	*d = '\0';
	return buf;
}

static uint64_t
hstat(struct hs *h, const char *name)
{
	for (size_t i = 0; i < SL_HTTP_STATS_COUNT; i++)
		if (strcmp(sl_http_stats_names[i], name) == 0)
			return ((const uint64_t *)&h->srv.stats)[i];
	cr_assert_fail("no counter %s", name);
	return 0;
}

Test(http_server, health_keepalive)
{
	struct hs *h = hs_new(NULL);

	hs_connect(h);
	hs_send(h, "GET /-/health HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_str_eq(hs_text(h), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				     "Content-Length: 7\r\nX-Request-Id: ID\r\n\r\n200 OK\n");
	cr_assert(!h->fin, "keep-alive: the connection stays open");
	h->out_len = 0;
	hs_send(h, "HEAD /-/health?x=1 HTTP/1.1\r\nHost: a\r\nX-Request-Id: abc\r\n\r\n");
	cr_assert_str_eq(h->out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				 "Content-Length: 7\r\nX-Request-Id: abc\r\n\r\n");
	cr_assert_eq(hstat(h, "requests"), 2);
	cr_assert_eq(hstat(h, "status_2xx"), 2);
	cr_assert_eq(hstat(h, "active"), 1);
	hs_free(h);
}

Test(http_server, no_route_503)
{
	struct hs *h = hs_new(NULL);

	hs_connect(h);
	hs_send(h, "GET /app/event HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_str_eq(hs_text(h),
			 "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
			 "Content-Length: 51\r\nX-Request-Id: ID\r\n\r\n"
			 "503 Service Unavailable: no route for this request\n");
	cr_assert_eq(hstat(h, "no_route"), 1);
	hs_free(h);
}

Test(http_server, endpoints_off)
{
	struct sl_http_conf c = {0};
	struct hs *h = hs_new(&c);

	hs_connect(h);
	hs_send(h,
		"GET /-/health HTTP/1.1\r\nHost: a\r\n\r\nGET /-/mirror HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_not_null(strstr(h->out, "503 Service Unavailable: no route"));
	cr_assert_eq(hstat(h, "no_route"), 2);
	cr_assert_eq(hstat(h, "health"), 0);
	hs_free(h);
}

Test(http_server, pipelined_in_order)
{
	struct hs *h = hs_new(NULL);
	const char *a, *b, *c;

	hs_connect(h);
	hs_send(h, "GET /-/health HTTP/1.1\r\nHost: a\r\nX-Request-Id: one\r\n\r\n"
		   "GET /x HTTP/1.1\r\nHost: a\r\nX-Request-Id: two\r\n\r\n"
		   "POST /-/mirror HTTP/1.1\r\nHost: a\r\nX-Request-Id: three\r\n"
		   "Content-Length: 3\r\n\r\nabc");
	a = strstr(h->out, "X-Request-Id: one");
	b = strstr(h->out, "X-Request-Id: two");
	c = strstr(h->out, "X-Request-Id: three");
	cr_assert(a != NULL && b != NULL && c != NULL && a < b && b < c, "%s", h->out);
	cr_assert_eq(hstat(h, "requests"), 3);
	hs_free(h);
}

Test(http_server, pipelined_answers_share_segments)
{
	struct hs *h = hs_new(NULL);
	char req[1024] = "";

	hs_connect(h);
	for (int i = 0; i < 10; i++)
		strcat(req, "GET /-/health HTTP/1.1\r\nHost: a\r\nX-Request-Id: r\r\n\r\n");
	hs_send(h, req);
	cr_assert_eq(hstat(h, "requests"), 10);
	cr_assert_eq(h->out_len, 10 * 88, "%s", h->out);
	cr_assert_eq(h->data_segs, 1, "10 answers of one pass leave in one segment, not %u",
		     h->data_segs);
	hs_free(h);
}

Test(http_server, byte_at_a_time)
{
	static const char req[] = "POST /-/mirror?q HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
				  "chunked\r\n\r\n3\r\nabc\r\n0\r\nT: v\r\n\r\n";
	struct hs *h = hs_new(NULL);
	static char whole[1 << 20];

	hs_connect(h);
	hs_send(h, req);
	memcpy(whole, hs_text(h), sizeof(whole));
	hs_free(h);

	h = hs_new(NULL);
	hs_connect(h);
	hs_send_mss(h, req, (uint32_t)strlen(req), 1);
	cr_assert_str_eq(hs_text(h), whole);
	hs_free(h);
}

Test(http_server, mirror_length_body)
{
	struct hs *h = hs_new(NULL);
	/* "hello" crc32 = 3610a686 */
	static const char dump[] = "method: POST\ntarget: /-/mirror\nversion: HTTP/1.1\n"
				   "header: Host: ex\nheader: Content-Length: 5\n"
				   "header: X-Request-Id: r1\n"
				   "forward: Host: ex\nforward: Content-Length: 5\n"
				   "forward: X-Forwarded-For: 10.0.0.2\nforward: X-Request-Id: r1\n"
				   "body-length: 5\nbody-crc32: 3610a686\n\nhello";
	char expect[1024];

	hs_connect(h);
	hs_send(h, "POST /-/mirror HTTP/1.1\r\nHost: ex\r\nContent-Length: 5\r\n"
		   "X-Request-Id: r1\r\n\r\nhello");
	snprintf(expect, sizeof(expect),
		 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
		 "X-Request-Id: r1\r\n\r\n%s",
		 strlen(dump), dump);
	cr_assert_str_eq(h->out, expect);
	cr_assert_eq(hstat(h, "body_bytes"), 5);
	hs_free(h);
}

Test(http_server, mirror_chunked_trailers_hop_by_hop)
{
	struct hs *h = hs_new(NULL);
	static const char expect[] =
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
		"X-Request-Id: r2\r\n\r\n";

	hs_connect(h);
	hs_send(h, "PUT /-/mirror HTTP/1.1\r\nHost: ex\r\nConnection: keep-alive, X-Drop\r\n"
		   "X-Drop: 1\r\nKeep-Alive: timeout=5\r\nX-Forwarded-For: 1.2.3.4\r\n"
		   "Transfer-Encoding: chunked\r\nX-Request-Id: r2\r\nUpgrade: foo\r\n"
		   "X-Forwarded-For: 5.6.7.8\r\nX-Keep: yes\r\n\r\n"
		   "2;ext=1\r\nhe\r\n3\r\nllo\r\n0\r\nX-Sum: 5\r\n\r\n");
	cr_assert(strncmp(h->out, expect, strlen(expect)) == 0, "%s", h->out);
	/* the chunked body of the answer, de-chunked by hand */
	{
		char *p = h->out + strlen(expect);
		char body[2048];
		size_t n = 0;

		for (;;) {
			unsigned long k = strtoul(p, &p, 16);

			cr_assert(strncmp(p, "\r\n", 2) == 0);
			p += 2;
			if (k == 0)
				break;
			memcpy(body + n, p, k);
			n += k;
			p += k + 2;
		}
		body[n] = '\0';
		cr_assert_str_eq(p, "\r\n");
		cr_assert_str_eq(body,
				 "method: PUT\ntarget: /-/mirror\nversion: HTTP/1.1\n"
				 "header: Host: ex\nheader: Connection: keep-alive, X-Drop\n"
				 "header: X-Drop: 1\nheader: Keep-Alive: timeout=5\n"
				 "header: X-Forwarded-For: 1.2.3.4\n"
				 "header: Transfer-Encoding: chunked\nheader: X-Request-Id: r2\n"
				 "header: Upgrade: foo\nheader: X-Forwarded-For: 5.6.7.8\n"
				 "header: X-Keep: yes\n"
				 "forward: Host: ex\nforward: X-Keep: yes\n"
				 "forward: X-Forwarded-For: 1.2.3.4, 5.6.7.8, 10.0.0.2\n"
				 "forward: X-Request-Id: r2\ntrailer: X-Sum: 5\n"
				 "body-length: 5\nbody-crc32: 3610a686\n\nhello");
	}
	hs_free(h);
}

Test(http_server, mirror_head_and_large_body)
{
	struct hs *h = hs_new(NULL);
	static char big[70000 + 200];
	uint32_t crc;
	char line[64];
	int n;

	hs_connect(h);
	hs_send(h, "HEAD /-/mirror HTTP/1.1\r\nHost: a\r\nX-Request-Id: r\r\n\r\n");
	cr_assert(strstr(h->out, "\r\n\r\n") != NULL);
	cr_assert_eq(strlen(strstr(h->out, "\r\n\r\n")), 4, "HEAD: no body: %s", h->out);
	h->out_len = 0;
	n = snprintf(big, sizeof(big),
		     "POST /-/mirror HTTP/1.1\r\nHost: a\r\n"
		     "Content-Length: 70000\r\n\r\n");
	memset(big + n, 'z', 70000);
	crc = sl_http_crc32(0, (const uint8_t *)big + n, 70000);
	hs_send_mss(h, big, (uint32_t)n + 70000, 1400);
	snprintf(line, sizeof(line), "body-length: 70000\nbody-crc32: %08x\n\n", crc);
	cr_assert_not_null(strstr(h->out, line), "%s", h->out);
	cr_assert_eq(strlen(strstr(h->out, line)), strlen(line),
		     "a body over 64 KiB is not echoed");
	hs_free(h);
}

Test(http_server, mirror_twice_on_one_connection)
{
	struct hs *h = hs_new(NULL);
	const char *second;

	hs_connect(h);
	hs_send(h, "POST /-/mirror HTTP/1.1\r\nHost: a\r\nX-Request-Id: r1\r\n"
		   "Content-Length: 10\r\n\r\nfirst-body");
	hs_send(h, "POST /-/mirror HTTP/1.1\r\nHost: a\r\nX-Request-Id: r2\r\n"
		   "Content-Length: 11\r\n\r\nsecond-body");
	second = strstr(h->out, "X-Request-Id: r2\r\n");
	cr_assert_not_null(second, "%s", h->out);
	/* zlib.crc32(b"second-body") = 0xdcfd00b3 */
	cr_assert_not_null(strstr(second, "forward: X-Request-Id: r2\nbody-length: 11\n"
					  "body-crc32: dcfd00b3\n\nsecond-body"),
			   "the second body is echoed after its dump: %s", second);
	cr_assert(h->out[h->out_len - 1] == 'y');
	hs_free(h);
}

Test(http_server, request_id_on_early_errors)
{
	struct hs *h = hs_new(NULL);

	hs_connect(h);
	hs_send(h, "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n");
	cr_assert(strncmp(h->out, "HTTP/1.1 400 ", 13) == 0, "%s", h->out);
	cr_assert_not_null(strstr(hs_text(h), "\r\nX-Request-Id: ID\r\n"),
			   "an error before the head still carries an id: %s", h->out);
	hs_free(h);
}

Test(http_server, absolute_form_forwards_target_authority)
{
	struct hs *h = hs_new(NULL);

	hs_connect(h);
	hs_send(h, "GET http://backend.example:8080/-/mirror?q HTTP/1.1\r\nHost: other\r\n"
		   "X-Request-Id: a1\r\n\r\n");
	cr_assert_not_null(strstr(h->out, "header: Host: other\nheader: X-Request-Id: a1\n"
					  "forward: Host: backend.example:8080\n"
					  "forward: X-Forwarded-For: 10.0.0.2\n"),
			   "RFC 9112 3.2.2: the target's authority replaces Host: %s", h->out);
	hs_free(h);
}

Test(http_server, crc32_reference)
{
	/* zlib.crc32(b"123456789") = 0xcbf43926 (the check value of CRC-32/ISO-HDLC) */
	cr_assert_eq(sl_http_crc32(0, (const uint8_t *)"123456789", 9), 0xcbf43926u);
	cr_assert_eq(sl_http_crc32(sl_http_crc32(0, (const uint8_t *)"1234", 4),
				   (const uint8_t *)"56789", 5),
		     0xcbf43926u);
}

Test(http_server, error_closes)
{
	struct hs *h = hs_new(NULL);

	hs_connect(h);
	hs_send(h, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: "
		   "chunked\r\n\r\n");
	cr_assert(strncmp(h->out, "HTTP/1.1 400 Bad Request\r\n", 26) == 0, "%s", h->out);
	cr_assert_not_null(strstr(h->out, "Connection: close\r\n"));
	cr_assert(h->fin, "FIN after the error");
	cr_assert_eq(hstat(h, "bad_request"), 1);
	/* lingering: more input is read and dropped, the peer's FIN ends it */
	hs_send(h, "GET / HTTP/1.1\r\n\r\n");
	cr_assert(!h->rst);
	hs_fin(h);
	cr_assert_eq(hstat(h, "active"), 0);
	hs_free(h);
}

Test(http_server, linger_expires)
{
	struct hs *h = hs_new(NULL);

	hs_connect(h);
	hs_send(h, "GET / HTTP/9.9\r\nHost: a\r\n\r\n");
	cr_assert(strncmp(h->out, "HTTP/1.1 505 ", 13) == 0, "%s", h->out);
	cr_assert(h->fin);
	hs_advance(h, (SL_HTTP_LINGER_MS + 100) * 1000ull);
	cr_assert_eq(hstat(h, "linger_expired"), 1);
	cr_assert_eq(hstat(h, "active"), 0);
	hs_free(h);
}

Test(http_server, header_timeout_408)
{
	struct sl_http_conf c = {.header_timeout_ms = 1000, .health = true};
	struct hs *h = hs_new(&c);

	hs_connect(h);
	hs_send(h, "GET /-/health HTTP/1.1\r\nHo");
	hs_advance(h, 500000);
	hs_send(h, "st: a\r\n");
	hs_advance(h, 400000);
	cr_assert_eq(h->out_len, 0, "not yet: %s", h->out);
	hs_advance(h, 200000); /* 1.1 s after the first byte, though bytes kept coming */
	cr_assert(strncmp(h->out, "HTTP/1.1 408 Request Timeout\r\n", 30) == 0, "%s", h->out);
	cr_assert(h->fin);
	cr_assert_eq(hstat(h, "timeout_head"), 1);
	hs_free(h);
}

Test(http_server, body_timeout_408)
{
	struct sl_http_conf c = {.body_timeout_ms = 1000, .mirror = true};
	struct hs *h = hs_new(&c);

	hs_connect(h);
	hs_send(h, "POST /-/mirror HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12");
	hs_advance(h, 800000);
	hs_send(h, "34"); /* progress re-arms */
	hs_advance(h, 800000);
	cr_assert_eq(h->out_len, 0, "%s", h->out);
	hs_advance(h, 300000);
	cr_assert(strncmp(h->out, "HTTP/1.1 408 Request Timeout\r\n", 30) == 0, "%s", h->out);
	cr_assert_not_null(strstr(h->out, "body timeout"));
	cr_assert_eq(hstat(h, "timeout_body"), 1);
	hs_free(h);
}

Test(http_server, keepalive_idle_close)
{
	struct sl_http_conf c = {.keepalive_ms = 2000, .health = true};
	struct hs *h = hs_new(&c);

	hs_connect(h);
	hs_send(h, "GET /-/health HTTP/1.1\r\nHost: a\r\n\r\n");
	hs_advance(h, 1900000);
	cr_assert(!h->fin);
	hs_advance(h, 200000);
	cr_assert(h->fin, "closed after the idle time");
	cr_assert_eq(hstat(h, "idle_closed"), 1);
	hs_fin(h);
	hs_free(h);
}

Test(http_server, http10)
{
	struct hs *h = hs_new(NULL);

	hs_connect(h);
	hs_send(h, "GET /-/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	cr_assert_not_null(strstr(h->out, "\r\nConnection: keep-alive\r\n"), "%s", h->out);
	cr_assert(!h->fin);
	h->out_len = 0;
	hs_send(h, "GET /-/health HTTP/1.0\r\n\r\n");
	cr_assert_not_null(strstr(h->out, "\r\nConnection: close\r\n"), "%s", h->out);
	cr_assert(h->fin, "HTTP/1.0 without keep-alive closes");
	hs_free(h);
}

Test(http_server, connection_close_11)
{
	struct hs *h = hs_new(NULL);

	hs_connect(h);
	hs_send(h, "GET /-/health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
		   "GET /-/health HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_not_null(strstr(h->out, "\r\nConnection: close\r\n"));
	cr_assert_null(strstr(strstr(h->out, "200 OK\n") + 7, "HTTP/1.1"),
		       "nothing after a close: %s", h->out);
	cr_assert(h->fin);
	cr_assert_eq(hstat(h, "requests"), 1);
	hs_free(h);
}

Test(http_server, expect_continue)
{
	struct hs *h = hs_new(NULL);

	hs_connect(h);
	hs_send(h, "POST /-/mirror HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
		   "Content-Length: 2\r\n\r\n");
	cr_assert_str_eq(h->out, "HTTP/1.1 100 Continue\r\n\r\n");
	hs_send(h, "ok");
	cr_assert(strncmp(h->out + 25, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", h->out);
	cr_assert_eq(hstat(h, "continues"), 1);
	h->out_len = 0;
	/* not the mirror: a final answer without 100, and the close */
	hs_send(h, "POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
		   "Content-Length: 2\r\n\r\n");
	cr_assert(strncmp(h->out, "HTTP/1.1 503 ", 13) == 0, "%s", h->out);
	cr_assert(h->fin);
	hs_free(h);
}

Test(http_server, drain)
{
	struct hs *h = hs_new(NULL);

	hs_connect(h);
	hs_send(h, "GET /-/health HTTP/1.1\r\n"); /* a request begun: not idle */
	sl_http_server_drain(&h->srv, true);
	cr_assert(!h->fin);
	hs_send(h, "Host: a\r\n\r\n");
	cr_assert(strncmp(h->out, "HTTP/1.1 503 Service Unavailable\r\n", 34) == 0, "%s", h->out);
	cr_assert_not_null(strstr(h->out, "draining"));
	cr_assert_not_null(strstr(h->out, "Connection: close"));
	cr_assert(h->fin);
	hs_free(h);
}

Test(http_server, drain_closes_idle)
{
	struct hs *h = hs_new(NULL);

	hs_connect(h);
	hs_send(h, "GET /-/health HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert(strncmp(h->out, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", h->out);
	cr_assert(!h->fin);
	sl_http_server_drain(&h->srv, true); /* draining alone keeps it (health probes) */
	hs_collect(h);
	cr_assert(!h->fin);
	sl_http_server_close_idle(&h->srv); /* stopping: an idle connection is closed at once */
	hs_collect(h);
	cr_assert(h->fin);
	cr_assert_eq(hstat(h, "idle_closed"), 1);
	hs_free(h);
}

Test(http_server, max_conns_503)
{
	struct sl_http_conf c = {.max_conns = 1, .health = true};
	struct hs *h = hs_new(&c);
	struct tenv *e = h->e;
	struct sl_tcp_tuple t2 = e->t;
	struct t_seg_spec syn = {.flags = TF_SYN, .seq = 5000, .wnd = 65535};
	struct t_out o;
	bool got503 = false;

	hs_connect(h);
	t2.rport = T_CLI_PORT + 1;
	t_inject_t(e, &t2, &syn);
	o = t_pop_out(e); /* SYN-ACK */
	{
		struct t_seg_spec ack = {
			.flags = TF_ACK, .seq = 5001, .ack = o.seq + 1, .wnd = 65535};

		t_inject_t(e, &t2, &ack);
	}
	while (e->n_cap != 0) {
		o = t_pop_out(e);
		if (o.len > 0 && memmem(o.payload, o.len, "503 Service Unavailable: too busy", 33))
			got503 = true;
	}
	cr_assert(got503);
	cr_assert_eq(hstat(h, "conns_refused"), 1);
	cr_assert_eq(hstat(h, "conns"), 1);
	hs_free(h);
}

Test(http_server, peer_half_close_answered)
{
	struct hs *h = hs_new(NULL);

	hs_connect(h);
	hs_send(h, "GET /-/health HTTP/1.1\r\nHost: a\r\n\r\n");
	hs_fin(h);
	cr_assert_not_null(strstr(h->out, "200 OK"));
	cr_assert(h->fin, "our FIN follows the peer's");
	cr_assert_eq(hstat(h, "active"), 0);
	hs_free(h);
}

Test(http_server, reset_frees)
{
	struct hs *h = hs_new(NULL);
	struct t_seg_spec rst;

	hs_connect(h);
	hs_send(h, "POST /-/mirror HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\npartial");
	rst = (struct t_seg_spec){.flags = TF_RST, .seq = h->e->cli_isn + h->cli_seq, .wnd = 0};
	t_inject(h->e, &rst);
	cr_assert_eq(hstat(h, "active"), 0);
	hs_free(h); /* t_fini asserts no buffer leaked */
}

/* A small send buffer and a client that stopped reading (window 0): answers pile up. */
static struct hs *
hs_new_small_sndbuf(const struct sl_http_conf *conf)
{
	struct sl_tcp_params tp = t_params();

	tp.snd_buf = 4096;
	return hs_new_tcp(conf, &tp);
}

/* A 5000-byte body for /-/mirror: its answer does not fit the 4096-byte send buffer. */
static void
hs_send_big_mirror(struct hs *h, const char *reqid)
{
	static char req[6000];
	int n = snprintf(req, sizeof(req),
			 "POST /-/mirror HTTP/1.1\r\nHost: a\r\nX-Request-Id: %s\r\n"
			 "Content-Length: 5000\r\n\r\n",
			 reqid);

	memset(req + n, 'b', 5000);
	hs_send_mss(h, req, (uint32_t)n + 5000, 1400);
}

Test(http_server, blocked_idle_expire_resets)
{
	struct sl_http_conf c = {.keepalive_ms = 1000, .health = true, .mirror = true};
	struct hs *h = hs_new_small_sndbuf(&c);

	hs_connect(h);
	h->wnd = 0;
	hs_send(h, "GET /-/health HTTP/1.1\r\nHost: a\r\n\r\n");
	hs_send_big_mirror(h, "r2");
	cr_assert_eq(hstat(h, "active"), 1);
	hs_advance(h, 1100000); /* the peer never read: RST (and no use of the freed conn) */
	cr_assert(h->rst, "a peer that stopped reading is reset");
	cr_assert_eq(hstat(h, "idle_closed"), 1);
	cr_assert_eq(hstat(h, "active"), 0);
	hs_free(h);
}

Test(http_server, keepalive_idle_counts_from_last_request)
{
	struct sl_http_conf c = {.keepalive_ms = 2000, .health = true};
	struct hs *h = hs_new(&c);

	hs_connect(h);
	hs_send(h, "GET /-/health HTTP/1.1\r\nHost: a\r\n\r\n");
	hs_advance(h, 1500000);
	hs_send(h, "GET /-/health HTTP/1.1\r\nHost: a\r\n\r\n"); /* whole in one segment */
	hs_advance(h, 1000000);
	cr_assert(!h->fin, "idle for 1 s of 2: still open");
	cr_assert_eq(hstat(h, "idle_closed"), 0);
	hs_advance(h, 1100000);
	cr_assert(h->fin, "closed 2 s after the last answer");
	cr_assert_eq(hstat(h, "idle_closed"), 1);
	hs_fin(h);
	cr_assert_eq(hstat(h, "active"), 0);
	hs_free(h);
}

Test(http_server, expect_continue_health_closes)
{
	struct hs *h = hs_new(NULL);

	hs_connect(h);
	/* a final answer instead of 100: the client may never send its body, so the bytes
	 * after the head cannot be read as the next request: close */
	hs_send(h, "POST /-/health HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
		   "Content-Length: 27\r\n\r\n");
	cr_assert(strncmp(h->out, "HTTP/1.1 405 ", 13) == 0, "%s", h->out);
	cr_assert_not_null(strstr(h->out, "\r\nConnection: close\r\n"), "%s", h->out);
	cr_assert(h->fin);
	hs_send(h, "GET /-/health HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_eq(hstat(h, "requests"), 1);
	hs_fin(h);
	cr_assert_eq(hstat(h, "active"), 0);
	hs_free(h);
}

Test(http_server, connection_option_list_of_any_length)
{
	struct hs *h = hs_new(NULL);
	static char req[4096], longname[80];

	/* "X-LLL...": 70 bytes */
	memset(longname, 'L', 70);
	longname[0] = 'X', longname[1] = '-', longname[70] = '\0';
	strcpy(req, "GET /-/mirror HTTP/1.1\r\nHost: a\r\nConnection: ");
	for (int i = 0; i < 253; i++) /* 506 bytes of options */
		strcat(req, "p,");
	/* "X-Keepzzz" straddles byte 512 of the value: its first 6 bytes are "X-Keep" */
	strcat(req, "X-Keepzzz, X-Secret, ");
	strcat(req, longname);
	strcat(req, "\r\nX-Keep: yes\r\nX-Secret: 1\r\n");
	strcat(req, longname);
	strcat(req, ": 2\r\n\r\n");
	hs_connect(h);
	hs_send(h, req);
	cr_assert(strncmp(h->out, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", h->out);
	cr_assert_not_null(strstr(h->out, "\nforward: Host: a\nforward: X-Keep: yes\n"
					  "forward: X-Forwarded-For: "),
			   "X-Keep is not named in Connection; X-Secret and the long name are: %s",
			   h->out);
	hs_free(h);
}

/* The client's window opens again: an ACK of what it has, with h->wnd. */
static void
hs_window(struct hs *h, uint16_t wnd)
{
	struct t_seg_spec s = {.flags = TF_ACK,
			       .seq = h->e->cli_isn + h->cli_seq,
			       .ack = h->e->srv_iss + 1 + h->srv_next,
			       .wnd = wnd};

	h->wnd = wnd;
	t_inject(h->e, &s);
	hs_collect(h);
}

Test(http_server, linger_waits_for_blocked_answers)
{
	struct hs *h = hs_new_small_sndbuf(NULL);
	static char req[6000];
	int n;

	hs_connect(h);
	h->wnd = 0; /* the client reads nothing for a while */
	hs_send(h, "GET /-/health HTTP/1.1\r\nHost: a\r\nX-Request-Id: r1\r\n\r\n");
	n = snprintf(req, sizeof(req),
		     "POST /-/mirror HTTP/1.1\r\nHost: a\r\nX-Request-Id: r2\r\n"
		     "Connection: close\r\nContent-Length: 5000\r\n\r\n");
	memset(req + n, 'b', 5000);
	hs_send_mss(h, req, (uint32_t)n + 5000, 1400);
	hs_advance(h, (SL_HTTP_LINGER_MS + 500) * 1000ull);
	cr_assert_eq(hstat(h, "active"), 1, "the answers are not out: no linger yet");
	hs_window(h, 65535);
	hs_advance(h, 10000);
	cr_assert_not_null(strstr(h->out, "X-Request-Id: r1\r\n"), "%s", h->out);
	cr_assert_not_null(strstr(h->out, "X-Request-Id: r2\r\n"), "%s", h->out);
	cr_assert(h->out_len > 5000 && h->out[h->out_len - 1] == 'b', "%s", h->out);
	cr_assert(h->fin, "FIN after the last answer");
	cr_assert(!h->rst);
	hs_advance(h, (SL_HTTP_LINGER_MS + 100) * 1000ull); /* now the linger runs */
	cr_assert_eq(hstat(h, "linger_expired"), 1);
	cr_assert_eq(hstat(h, "active"), 0);
	hs_free(h);
}
