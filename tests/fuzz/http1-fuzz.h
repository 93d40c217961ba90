/*
 * The split-vs-whole harness of the http1 (requests) and http1-resp (responses) libFuzzer
 * targets: http1_fuzz_one() with the parser's mode. Included by http1.c and http1_resp.c.
 *
 * Input: byte 0 picks the limits (small ones reach 414, 431, 413 and the chunk line limit),
 * bytes 1-4 seed how the stream is cut into pieces (for responses, byte 1 also picks the
 * request method: GET, HEAD, POST or CONNECT); the rest is the byte stream of one
 * connection. It is parsed whole, in pseudo-random pieces (empty ones included) and, when
 * short, one byte at a time; after each DONE the parser is reset and the next message parsed
 * (pipelining, a 1xx then its final response). A response stream ends with
 * sl_http1_resp_eof(). Every run must give the same digest (events, head, fields, de-chunked
 * body, error status, string and position), every span must lie inside the bytes fed so far
 * and every BODY span inside the input of its call, MORE must take all bytes, and keep_from
 * must never move backwards or pass the current position.
 */
#ifndef SL_FUZZ_HTTP1_H
#define SL_FUZZ_HTTP1_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http1.h"

#define MAX_FIELDS 64

struct digest {
	uint64_t h;
	unsigned msgs;
	int last;
};

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void
check_span(uint32_t off, uint32_t len, uint32_t fed)
{
	if ((uint64_t)off + len > fed)
		abort();
}

/* Fold a completed head (or the fields at DONE) into the digest, checking its spans. */
static uint64_t
fold_head(uint64_t h, const struct sl_http1_parser *p, const uint8_t *msg, uint32_t fed)
{
	const struct sl_http1_req *r = &p->req;
	const struct sl_http1_resp *q = &p->resp;
	uint16_t i;

	if (p->mode != 0) {
		check_span(q->reason.off, q->reason.len, fed);
		if (q->status < 100 || q->status > 599 || q->status == 101 || q->minor > 1 ||
		    q->body > SL_HTTP1_B_EOF || r->host != -1 || q->head_len > fed ||
		    memchr(msg + q->reason.off, '\r', q->reason.len) != NULL ||
		    ((q->flags & SL_HTTP1_R_KEEP_ALIVE) && q->body == SL_HTTP1_B_EOF))
			abort();
		h = fnv(h, msg + q->reason.off, q->reason.len);
		h = fnv(h, &q->status, sizeof(q->status));
		h = fnv(h, &q->minor, 1);
		h = fnv(h, &q->body, 1);
		h = fnv(h, &q->flags, sizeof(q->flags));
		h = fnv(h, &q->content_length, sizeof(q->content_length));
		h = fnv(h, &q->head_len, sizeof(q->head_len));
		goto fields;
	}
	check_span(r->method.off, r->method.len, fed);
	check_span(r->target.off, r->target.len, fed);
	if (r->method.len == 0 || r->target.len == 0 || r->minor > 1 || r->body > 2 || r->form > 3)
		abort();
	if (r->host >= (int)p->n_hdrs || r->host < -1)
		abort();
	h = fnv(h, msg + r->method.off, r->method.len);
	h = fnv(h, msg + r->target.off, r->target.len);
	h = fnv(h, &r->method_id, 1);
	h = fnv(h, &r->form, 1);
	h = fnv(h, &r->minor, 1);
	h = fnv(h, &r->body, 1);
	h = fnv(h, &r->flags, sizeof(r->flags));
	h = fnv(h, &r->content_length, sizeof(r->content_length));
	h = fnv(h, &r->host, sizeof(r->host));
	h = fnv(h, &r->head_len, sizeof(r->head_len));
fields:
	for (i = 0; i < p->n_hdrs; i++) {
		const struct sl_http1_hdr *f = &p->hdrs[i];

		check_span(f->name_off, f->name_len, fed);
		check_span(f->val_off, f->val_len, fed);
		if (f->name_len == 0 || f->id >= SL_HTTP1_H_COUNT)
			abort();
		/* no surrounding whitespace, no CR/LF/NUL inside */
		if (f->val_len > 0 && (msg[f->val_off] == ' ' || msg[f->val_off] == '\t' ||
				       msg[f->val_off + f->val_len - 1] == ' ' ||
				       msg[f->val_off + f->val_len - 1] == '\t'))
			abort();
		if (memchr(msg + f->val_off, '\r', f->val_len) != NULL ||
		    memchr(msg + f->val_off, '\n', f->val_len) != NULL ||
		    memchr(msg + f->val_off, 0, f->val_len) != NULL)
			abort();
		h = fnv(h, msg + f->name_off, f->name_len);
		h = fnv(h, msg + f->val_off, f->val_len);
		h = fnv(h, &f->id, 1);
		h = fnv(h, &f->flags, 1);
	}
	return h;
}

/* Parse data[0, len) cut at ends[0..n): the digest of everything that came out. */
static struct digest
run(const uint8_t *data, size_t len, const size_t *ends, size_t n,
    const struct sl_http1_limits *lim, bool resp, enum sl_http1_method m)
{
	static struct sl_http1_hdr hdrs[MAX_FIELDS];
	struct sl_http1_parser p;
	struct digest d = {0xcbf29ce484222325ull, 0, 0};
	size_t off = 0, base = 0, e;
	uint32_t keep = 0;
	int rc = SL_HTTP1_MORE;

	if ((resp ? sl_http1_resp_init(&p, lim, hdrs) : sl_http1_init(&p, lim, hdrs)) != 0 ||
	    n == 0 || ends[n - 1] != len)
		abort();
	if (resp)
		sl_http1_resp_reset(&p, m);
	for (e = 0; e < n; e++) {
		for (;;) {
			struct sl_http1_span sp = {0, 0};
			uint32_t pos0 = (uint32_t)(off - base);
			size_t used = 0;

			rc = sl_http1_feed(&p, data + off, ends[e] - off, &used, &sp);
			if (used > ends[e] - off)
				abort();
			if (rc < 0) {
				if (rc != -EBADMSG || p.error == NULL || p.status < 400 ||
				    p.status > 505 || (resp && p.status != 502) ||
				    strstr(p.error, "(RFC ") == NULL)
					abort();
				d.h = fnv(d.h, &p.status, sizeof(p.status));
				d.h = fnv(d.h, p.error, strlen(p.error));
				d.h = fnv(d.h, &p.pos, sizeof(p.pos));
				d.last = rc;
				/* sticky */
				if (sl_http1_feed(&p, data + off, ends[e] - off, &used, &sp) !=
					    -EBADMSG ||
				    used != 0)
					abort();
				return d;
			}
			if (sl_http1_keep_from(&p) < keep || sl_http1_keep_from(&p) > p.pos)
				abort();
			keep = sl_http1_keep_from(&p);
			off += used;
			if (p.pos != off - base)
				abort();
			if (rc == SL_HTTP1_MORE) {
				if (off != ends[e])
					abort();
				break;
			}
			if (rc != SL_HTTP1_BODY)
				d.h = fnv(d.h, &rc, sizeof(rc));
			if (rc == SL_HTTP1_HEAD) {
				if (!sl_http1_in_body(&p))
					abort();
				d.h = fold_head(d.h, &p, data + base, p.pos);
			} else if (rc == SL_HTTP1_BODY) {
				if (sp.len == 0 || sp.off < pos0 || sp.off + sp.len > pos0 + used)
					abort();
				/* body bytes as a stream: pieces may cut them anywhere */
				d.h = fnv(d.h, data + base + sp.off, sp.len);
			} else {
				if (rc != SL_HTTP1_DONE || sl_http1_in_body(&p))
					abort();
				d.h = fold_head(d.h, &p, data + base, p.pos);
				d.msgs++;
				if (resp)
					sl_http1_resp_reset(&p, m);
				else
					sl_http1_reset(&p);
				if (!sl_http1_idle(&p))
					abort();
				base = off;
				keep = 0;
			}
		}
	}
	if (resp) {
		/* the upstream closes: that ends a close-delimited body, else it is an error */
		bool eof_body = sl_http1_in_body(&p) && p.resp.body == SL_HTTP1_B_EOF;

		rc = sl_http1_resp_eof(&p);
		if (rc == SL_HTTP1_DONE) {
			if (!eof_body || sl_http1_in_body(&p) || sl_http1_keep_from(&p) != p.pos)
				abort();
			d.h = fold_head(d.h, &p, data + base, p.pos);
			d.msgs++;
		} else if (rc != -EBADMSG || eof_body || p.status != 502 ||
			   strstr(p.error, "(RFC 9112 8)") == NULL ||
			   sl_http1_resp_eof(&p) != -EBADMSG) {
			abort();
		}
		d.h = fnv(d.h, &rc, sizeof(rc));
	}
	d.last = rc;
	d.h = fnv(d.h, &p.pos, sizeof(p.pos));
	return d;
}

static int
http1_fuzz_one(const uint8_t *data, size_t size, bool resp)
{
	static size_t ends[8192];
	struct sl_http1_limits lim = {.fields = MAX_FIELDS};
	struct digest whole, cut;
	static const enum sl_http1_method methods[] = {SL_HTTP1_M_GET, SL_HTTP1_M_HEAD,
						       SL_HTTP1_M_POST, SL_HTTP1_M_CONNECT};
	enum sl_http1_method m;
	uint32_t seed;
	size_t len, n, i;
	uint8_t l;

	if (size < 5)
		return 0;
	l = data[0];
	seed = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
	       (uint32_t)data[4] << 24;
	data += 5;
	len = size - 5;
	if (l & 0x80) {
		/* small limits */
		lim.head_bytes = 24u + (l & 0x1f) * 8u;
		lim.uri_bytes = 1u + (l & 0x07) * 5u;
		lim.fields = (uint16_t)(1 + ((l >> 3) & 0x07));
		lim.body_bytes = 1u + (l & 0x0f) * 7u;
		lim.chunk_line = 1u + ((l >> 2) & 0x0f) * 3u;
	}
	m = methods[(seed >> 6) & 3];
	whole = run(data, len, &len, 1, &lim, resp, m);

	/* pseudo-random pieces of 0..31 bytes (xorshift32) */
	n = 0;
	i = 0;
	while (i < len && n < sizeof(ends) / sizeof(ends[0]) - 1) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		i += seed & 0x1f;
		if (i > len)
			i = len;
		ends[n++] = i;
	}
	ends[n++] = len;
	cut = run(data, len, ends, n, &lim, resp, m);
	if (cut.h != whole.h || cut.msgs != whole.msgs || cut.last != whole.last)
		abort();
	if (len > 0 && len <= 1024) {
		for (i = 0; i < len; i++)
			ends[i] = i + 1;
		cut = run(data, len, ends, len, &lim, resp, m);
		if (cut.h != whole.h || cut.msgs != whole.msgs || cut.last != whole.last)
			abort();
	}
	return 0;
}

#endif /* SL_FUZZ_HTTP1_H */
