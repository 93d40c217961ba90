/*
 * bench-http-parse: our HTTP/1.1 request parser against libhttp-parser 2.9 on the same bytes.
 *
 * Requests: "get", a browser-like GET with 12 header fields (about 600 bytes), and "post", a
 * small POST with a 100-byte Content-Length body. Each iteration parses the request from
 * one buffer (as one TCP read) to its end, from a fresh message state:
 *   ours: sl_http1_reset() and sl_http1_feed() until DONE; the result is the head, the
 *         field index (name and value spans) and the body spans;
 *   http_parser: http_parser_init() and one http_parser_execute(), with every callback of
 *         http_parser_settings set; the data callbacks record the same spans into an index
 *         of our shape (a fair peer: it ends with the same information).
 * Each iteration's result is checked once before timing (method, target, 12 fields, body).
 *
 *   bench-http-parse [--iters N] [--mode ours|hp|both] [--req get|post|both]
 * bench_ours_loop() and bench_hp_loop() hold nothing but the measured work, so
 * `valgrind --tool=callgrind --toggle-collect=bench_ours_loop` counts exactly it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <http_parser.h>

#include "http1.h"
#include "sl_util.h"

static const char req_get[] =
	"GET /static/js/app.4f1c2b.js?v=42&lang=en HTTP/1.1\r\n"
	"Host: www.example.org\r\n"
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0\r\n"
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;"
	"q=0.8\r\n"
	"Accept-Language: en-US,en;q=0.5\r\n"
	"Accept-Encoding: gzip, deflate, br\r\n"
	"Referer: https://www.example.org/index.html\r\n"
	"Connection: keep-alive\r\n"
	"Cookie: session=0123456789abcdef0123456789abcdef; theme=dark; _ga=GA1.2.1234567890\r\n"
	"Upgrade-Insecure-Requests: 1\r\n"
	"Sec-Fetch-Dest: script\r\n"
	"Sec-Fetch-Mode: no-cors\r\n"
	"Cache-Control: max-age=0\r\n"
	"\r\n";

static const char req_post[] = "POST /api/v1/items HTTP/1.1\r\n"
			       "Host: api.example.com\r\n"
			       "Content-Type: application/json\r\n"
			       "Content-Length: 100\r\n"
			       "\r\n"
			       "{\"name\":\"widget\",\"qty\":12,\"tags\":[\"a\",\"b\",\"c\"],"
			       "\"note\":\"0123456789012345678901234567890123456789ab\"}\n";

#define MAX_HDRS 100

static volatile uint64_t sink;

/* ---- ours ---- */

static struct sl_http1_hdr our_hdrs[MAX_HDRS];
static struct sl_http1_parser our;

/* One request: 0, or -1 when it did not end in DONE. */
static inline int
ours_one(const uint8_t *buf, size_t len)
{
	struct sl_http1_span sp;
	size_t off = 0, used;
	uint64_t body = 0;
	int rc;

	sl_http1_reset(&our);
	for (;;) {
		rc = sl_http1_feed(&our, buf + off, len - off, &used, &sp);
		off += used;
		if (rc == SL_HTTP1_BODY)
			body += sp.len;
		else if (rc != SL_HTTP1_HEAD)
			break;
	}
	sink += body + our.n_hdrs;
	return rc == SL_HTTP1_DONE ? 0 : -1;
}

static SL_NOINLINE int
bench_ours_loop(const uint8_t *buf, size_t len, uint64_t iters)
{
	uint64_t i;

	for (i = 0; i < iters; i++)
		if (ours_one(buf, len) < 0)
			return -1;
	return 0;
}

/* ---- http_parser ---- */

struct hp_state {
	const char *base;
	struct sl_http1_span method, target;
	struct sl_http1_hdr hdrs[MAX_HDRS];
	unsigned n_hdrs;
	int last; /* 1 field, 2 value */
	uint64_t body;
	int done;
};

static struct hp_state hs;
static http_parser hp;

static int
hp_begin(http_parser *p)
{
	(void)p;
	hs.n_hdrs = 0;
	hs.last = 0;
	hs.body = 0;
	hs.done = 0;
	hs.target.len = 0;
	return 0;
}

static int
hp_url(http_parser *p, const char *at, size_t len)
{
	(void)p;
	if (hs.target.len == 0)
		hs.target.off = (uint32_t)(at - hs.base);
	hs.target.len += (uint32_t)len;
	return 0;
}

static int
hp_status(http_parser *p, const char *at, size_t len)
{
	(void)p;
	(void)at;
	(void)len;
	return 0;
}

static int
hp_field(http_parser *p, const char *at, size_t len)
{
	struct sl_http1_hdr *h;

	(void)p;
	if (hs.last != 1) {
		if (hs.n_hdrs == MAX_HDRS)
			return -1;
		h = &hs.hdrs[hs.n_hdrs++];
		h->name_off = (uint32_t)(at - hs.base);
		h->name_len = 0;
		h->val_off = 0;
		h->val_len = 0;
		hs.last = 1;
	}
	hs.hdrs[hs.n_hdrs - 1].name_len += (uint16_t)len;
	return 0;
}

static int
hp_value(http_parser *p, const char *at, size_t len)
{
	struct sl_http1_hdr *h = &hs.hdrs[hs.n_hdrs - 1];

	(void)p;
	if (hs.last != 2) {
		h->val_off = (uint32_t)(at - hs.base);
		hs.last = 2;
	}
	h->val_len += (uint32_t)len;
	return 0;
}

static int
hp_headers(http_parser *p)
{
	hs.method.len = (uint32_t)p->method; /* the method comes as an enum */
	hs.last = 0;
	return 0;
}

static int
hp_body(http_parser *p, const char *at, size_t len)
{
	(void)p;
	(void)at;
	hs.body += len;
	return 0;
}

static int
hp_complete(http_parser *p)
{
	hs.done = http_should_keep_alive(p) ? 1 : 2;
	return 0;
}

static int
hp_chunk(http_parser *p)
{
	(void)p;
	return 0;
}

static const http_parser_settings hp_settings = {
	.on_message_begin = hp_begin,
	.on_url = hp_url,
	.on_status = hp_status,
	.on_header_field = hp_field,
	.on_header_value = hp_value,
	.on_headers_complete = hp_headers,
	.on_body = hp_body,
	.on_message_complete = hp_complete,
	.on_chunk_header = hp_chunk,
	.on_chunk_complete = hp_chunk,
};

static inline int
hp_one(const uint8_t *buf, size_t len)
{
	size_t n;

	hs.base = (const char *)buf;
	http_parser_init(&hp, HTTP_REQUEST);
	n = http_parser_execute(&hp, &hp_settings, (const char *)buf, len);
	sink += hs.body + hs.n_hdrs;
	return n == len && hs.done != 0 ? 0 : -1;
}

static SL_NOINLINE int
bench_hp_loop(const uint8_t *buf, size_t len, uint64_t iters)
{
	uint64_t i;

	for (i = 0; i < iters; i++)
		if (hp_one(buf, len) < 0)
			return -1;
	return 0;
}

/* ---- driver ---- */

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Both parsers must find the same method, target, fields and body once. */
static int
check(const uint8_t *buf, size_t len, unsigned want_hdrs, uint64_t want_body)
{
	unsigned i;

	if (ours_one(buf, len) < 0 || hp_one(buf, len) < 0)
		return -1;
	if (our.n_hdrs != want_hdrs || hs.n_hdrs != want_hdrs)
		return -1;
	if (our.req.target.off != hs.target.off || our.req.target.len != hs.target.len)
		return -1;
	if (strcmp(sl_http1_method_name((enum sl_http1_method)our.req.method_id),
		   http_method_str((enum http_method)hs.method.len)) != 0)
		return -1;
	for (i = 0; i < want_hdrs; i++) {
		const struct sl_http1_hdr *a = &our.hdrs[i], *b = &hs.hdrs[i];

		if (a->name_off != b->name_off || a->name_len != b->name_len ||
		    a->val_off != b->val_off || a->val_len != b->val_len)
			return -1;
	}
	if (hs.body != want_body)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		const char *buf;
		size_t len;
		unsigned hdrs;
		uint64_t body;
	} reqs[] = {
		{"get", req_get, sizeof(req_get) - 1, 12, 0},
		{"post", req_post, sizeof(req_post) - 1, 3, 100},
	};
	uint64_t iters = 2000000;
	const char *mode = "both", *which = "both";
	double t0, t1, ns_ours = 0, ns_hp = 0;
	unsigned k;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc)
			iters = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
			mode = argv[++i];
		else if (strcmp(argv[i], "--req") == 0 && i + 1 < argc)
			which = argv[++i];
		else {
			fprintf(stderr,
				"usage: %s [--iters N] [--mode ours|hp|both] [--req get|post|both]\n",
				argv[0]);
			return 2;
		}
	}
	if (iters == 0)
		iters = 1;
	if (sl_http1_init(&our, NULL, our_hdrs) != 0)
		return 1;
	for (k = 0; k < SL_ARRAY_SIZE(reqs); k++) {
		const uint8_t *buf = (const uint8_t *)reqs[k].buf;
		size_t len = reqs[k].len;
		int do_ours = strcmp(mode, "hp") != 0, do_hp = strcmp(mode, "ours") != 0;

		if (strcmp(which, "both") != 0 && strcmp(which, reqs[k].name) != 0)
			continue;
		if (check(buf, len, reqs[k].hdrs, reqs[k].body) < 0) {
			fprintf(stderr, "%s: the parsers disagree or fail\n", reqs[k].name);
			return 1;
		}
		if (do_ours) {
			bench_ours_loop(buf, len, iters / 10 + 1); /* warm up */
			t0 = now_ns();
			if (bench_ours_loop(buf, len, iters) < 0)
				return 1;
			t1 = now_ns();
			ns_ours = (t1 - t0) / (double)iters;
		}
		if (do_hp) {
			bench_hp_loop(buf, len, iters / 10 + 1);
			t0 = now_ns();
			if (bench_hp_loop(buf, len, iters) < 0)
				return 1;
			t1 = now_ns();
			ns_hp = (t1 - t0) / (double)iters;
		}
		printf("%s (%zu bytes, %u fields, %" PRIu64 "-byte body):", reqs[k].name, len,
		       reqs[k].hdrs, reqs[k].body);
		if (do_ours)
			printf(" ours %.1f ns/request", ns_ours);
		if (do_hp)
			printf("%s http_parser %.1f ns/request", do_ours ? "," : "", ns_hp);
		if (do_ours && do_hp)
			printf(" (x%.2f)", ns_hp / ns_ours);
		printf(" [%" PRIu64 " iterations]\n", iters);
	}
	return 0;
}
