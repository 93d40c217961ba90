/*
 * Test driver for the HTTP/1.1 request parser (see http-test.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "http-test.h"

static struct sl_http1_hdr hdr_store[4096];

bool t_resp, t_eof;
enum sl_http1_method t_method;

/* Append printf-style text to the digest. */
static void dg(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
dg(struct run *r, const char *fmt, ...)
{
	size_t l = strlen(r->digest);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->digest + l, sizeof(r->digest) - l, fmt, ap);
	va_end(ap);
}

/* Printable bytes: escape the others. */
static void
dg_bytes(struct run *r, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			dg(r, "%c", p[i]);
		else
			dg(r, "\\x%02x", p[i]);
	}
}

const char *
span_text(const struct run *r, const uint8_t *msg, struct sl_http1_span s)
{
	static char buf[4][8192];
	static unsigned k;
	char *o = buf[k++ % 4];
	size_t n = s.len < 8191 ? s.len : 8191;

	memcpy(o, msg + r->base + s.off, n);
	o[n] = '\0';
	return o;
}

const char *
field_text(const struct run *r, const uint8_t *msg, unsigned i)
{
	static char buf[4][8192];
	static unsigned k;
	char *o = buf[k++ % 4];
	const struct sl_http1_hdr *h = &r->hdrs[i];

	snprintf(o, 8192, "%.*s: %.*s", (int)h->name_len, (const char *)msg + r->base + h->name_off,
		 (int)h->val_len, (const char *)msg + r->base + h->val_off);
	return o;
}

/* The head and fields of the message just completed (or headed) into the digest. */
static void
dg_head(struct run *r, const struct sl_http1_parser *p, const uint8_t *msg)
{
	const struct sl_http1_req *q = &p->req;
	const struct sl_http1_resp *s = &p->resp;
	unsigned i;

	if (t_resp) {
		dg(r, "HEAD status=%u reason=", s->status);
		dg_bytes(r, msg + r->base + s->reason.off, s->reason.len);
		dg(r, " minor=%u body=%u flags=%#x cl=%llu head_len=%u\n", s->minor, s->body,
		   s->flags, (unsigned long long)s->content_length, s->head_len);
		goto fields;
	}
	dg(r, "HEAD m=%u(", q->method_id);
	dg_bytes(r, msg + r->base + q->method.off, q->method.len);
	dg(r, ") t=");
	dg_bytes(r, msg + r->base + q->target.off, q->target.len);
	dg(r, " form=%u minor=%u body=%u flags=%#x cl=%llu host=%d head_len=%u\n", q->form,
	   q->minor, q->body, q->flags, (unsigned long long)q->content_length, q->host,
	   q->head_len);
fields:
	for (i = 0; i < p->n_hdrs; i++) {
		const struct sl_http1_hdr *h = &p->hdrs[i];

		dg(r, "  [%u id=%u f=%u] ", i, h->id, h->flags);
		dg_bytes(r, msg + r->base + h->name_off, h->name_len);
		dg(r, ": <");
		dg_bytes(r, msg + r->base + h->val_off, h->val_len);
		dg(r, ">\n");
	}
}

/* The message ended (DONE): its body and trailer fields into the digest. */
static void
dg_done(struct run *r, const struct sl_http1_parser *pp, const uint8_t *msg, size_t body_start,
	bool in_body_dg)
{
	cr_assert(r->head, "DONE before HEAD");
	cr_assert(!sl_http1_in_body(pp));
	r->done = true;
	r->done_at = pp->pos;
	r->nmsg++;
	if (in_body_dg || r->body_len > body_start) {
		dg(r, "BODY <");
		dg_bytes(r, r->body + body_start, r->body_len - body_start);
		dg(r, ">\n");
	}
	/* the trailer fields */
	r->n_hdrs = pp->n_hdrs;
	memcpy(r->hdrs, pp->hdrs, sizeof(r->hdrs[0]) * pp->n_hdrs);
	for (unsigned i = 0; i < pp->n_hdrs; i++) {
		const struct sl_http1_hdr *h = &pp->hdrs[i];

		if (!(h->flags & SL_HTTP1_HF_TRAILER))
			continue;
		dg(r, "  TRAILER [%u id=%u] ", i, h->id);
		dg_bytes(r, msg + r->base + h->name_off, h->name_len);
		dg(r, ": <");
		dg_bytes(r, msg + r->base + h->val_off, h->val_len);
		dg(r, ">\n");
	}
	dg(r, "DONE at %u\n", pp->pos);
}

void
run_ends(const uint8_t *msg, size_t len, const size_t *ends, size_t n,
	 const struct sl_http1_limits *lim, bool pipeline, struct run *r)
{
	static struct sl_http1_parser p;
	size_t off = 0, e = 0, body_start = 0;
	uint32_t keep_head = UINT32_MAX;
	bool in_body_dg = false;

	memset(r, 0, sizeof(*r));
	if (t_resp) {
		cr_assert_eq(sl_http1_resp_init(&p, lim, hdr_store), 0);
		sl_http1_resp_reset(&p, t_method);
	} else {
		cr_assert_eq(sl_http1_init(&p, lim, hdr_store), 0);
	}
	cr_assert(sl_http1_idle(&p));
	for (e = 0; e < n; e++) {
		size_t end = ends[e];

		cr_assert(end >= off && end <= len);
		for (;;) {
			struct sl_http1_span sp = {0, 0};
			size_t used = 12345678;
			uint32_t pos0 = (uint32_t)(off - r->base);
			int rc = sl_http1_feed(&p, msg + off, end - off, &used, &sp);

			r->rc = rc;
			if (rc < 0) {
				cr_assert_eq(rc, -EBADMSG);
				cr_assert_neq(p.status, 0);
				cr_assert_not_null(p.error);
				r->status = p.status;
				r->error = p.error;
				r->err_pos = p.pos;
				cr_assert(used <= end - off);
				dg(r, "ERROR %d %s at %u\n", p.status, p.error, p.pos);
				/* sticky */
				used = 99;
				cr_assert_eq(sl_http1_feed(&p, msg + off, end - off, &used, &sp),
					     -EBADMSG);
				cr_assert_eq(used, 0);
				cr_assert_eq(sl_http1_feed(&p, NULL, 0, &used, &sp), -EBADMSG);
				cr_assert(!sl_http1_in_body(&p));
				r->consumed = off + used;
				return;
			}
			cr_assert(used <= end - off, "used %zu of %zu", used, end - off);
			cr_assert(sl_http1_keep_from(&p) <= p.pos);
			off += used;
			if (rc == SL_HTTP1_MORE) {
				cr_assert_eq(off, end, "MORE must take every byte");
				if (!r->head && !sl_http1_idle(&p) && keep_head == UINT32_MAX)
					keep_head = sl_http1_keep_from(&p);
				if (!r->head && !sl_http1_idle(&p))
					cr_assert_eq(sl_http1_keep_from(&p), keep_head,
						     "keep_from is the request line start");
				if (r->head && !sl_http1_in_body(&p))
					cr_assert_fail("MORE after the body ended");
				break;
			}
			if (rc == SL_HTTP1_HEAD) {
				cr_assert(!r->head, "two HEADs");
				r->head = true;
				r->head_at = p.pos;
				cr_assert(sl_http1_in_body(&p));
				cr_assert(!sl_http1_idle(&p));
				if (t_resp) {
					cr_assert(keep_head == UINT32_MAX || keep_head == 0);
					cr_assert_eq(p.resp.head_len, p.pos);
				} else {
					if (keep_head != UINT32_MAX)
						cr_assert(keep_head <= p.req.method.off);
					cr_assert_eq(p.req.head_len, p.pos - p.req.method.off);
				}
				cr_assert_eq(sl_http1_keep_from(&p), p.pos);
				r->req = p.req;
				r->resp = p.resp;
				dg_head(r, &p, msg);
				body_start = r->body_len;
				in_body_dg = false;
				continue;
			}
			if (rc == SL_HTTP1_BODY) {
				cr_assert(r->head && !r->done);
				cr_assert(sp.len > 0);
				cr_assert(sp.off >= pos0 && sp.off + sp.len <= pos0 + used,
					  "body span [%u,+%u) outside the input [%u,+%zu)", sp.off,
					  sp.len, pos0, used);
				cr_assert(r->body_len + sp.len <= sizeof(r->body));
				memcpy(r->body + r->body_len, msg + r->base + sp.off, sp.len);
				r->body_len += sp.len;
				in_body_dg = true;
				continue;
			}
			cr_assert_eq(rc, SL_HTTP1_DONE);
			dg_done(r, &p, msg, body_start, in_body_dg);
			/* DONE again until reset */
			used = 7;
			cr_assert_eq(sl_http1_feed(&p, msg + off, end - off, &used, &sp),
				     SL_HTTP1_DONE);
			cr_assert_eq(used, 0);
			cr_assert_eq(sl_http1_keep_from(&p), p.pos);
			if (!pipeline || off == len) {
				r->consumed = off;
				return;
			}
			if (t_resp)
				sl_http1_resp_reset(&p, t_method);
			else
				sl_http1_reset(&p);
			cr_assert(sl_http1_idle(&p));
			r->base = off;
			r->head = false;
			r->done = false;
			keep_head = UINT32_MAX;
		}
	}
	if (t_resp && t_eof) {
		int rc = sl_http1_resp_eof(&p);

		r->rc = rc;
		dg(r, "EOF %d\n", rc);
		if (rc == SL_HTTP1_DONE) {
			struct sl_http1_span sp;
			size_t used = 7;

			cr_assert_eq(sl_http1_feed(&p, NULL, 0, &used, &sp), SL_HTTP1_DONE);
			cr_assert_eq(used, 0);
			cr_assert_eq(sl_http1_resp_eof(&p), SL_HTTP1_DONE);
			r->eof_done = true;
			dg_done(r, &p, msg, body_start, in_body_dg);
			r->consumed = off;
			return;
		}
		cr_assert_eq(rc, -EBADMSG);
		cr_assert_eq(p.status, 502);
		cr_assert_not_null(p.error);
		cr_assert_eq(sl_http1_resp_eof(&p), -EBADMSG);
		r->status = p.status;
		r->error = p.error;
		r->err_pos = p.pos;
		dg(r, "ERROR %d %s at %u\n", p.status, p.error, p.pos);
	}
	r->consumed = off;
	r->n_hdrs = p.n_hdrs;
	memcpy(r->hdrs, p.hdrs, sizeof(r->hdrs[0]) * p.n_hdrs);
	dg(r, "END rc=%d head=%d\n", r->rc, r->head);
}

void
run_whole(const uint8_t *msg, size_t len, const struct sl_http1_limits *lim, bool pipeline,
	  struct run *r)
{
	run_ends(msg, len, &len, 1, lim, pipeline, r);
}

void
run_bytes(const uint8_t *msg, size_t len, const struct sl_http1_limits *lim, bool pipeline,
	  struct run *r)
{
	size_t *ends = malloc((len + 1) * sizeof(*ends));
	size_t i;

	cr_assert_not_null(ends);
	for (i = 0; i < len; i++)
		ends[i] = i + 1;
	run_ends(msg, len, ends, len, lim, pipeline, r);
	free(ends);
}

void
run_split(const uint8_t *msg, size_t len, size_t at, const struct sl_http1_limits *lim,
	  bool pipeline, struct run *r)
{
	size_t ends[2] = {at, len};

	run_ends(msg, len, ends, 2, lim, pipeline, r);
}

void
expect_reject(const char *msg, size_t len, int status, const char *rfc)
{
	expect_reject_lim(msg, len, NULL, status, rfc);
}

void
expect_reject_lim(const char *msg, size_t len, const struct sl_http1_limits *lim, int status,
		  const char *rfc)
{
	static struct run w, o;
	const uint8_t *m = (const uint8_t *)msg;
	size_t at;

	run_whole(m, len, lim, false, &w);
	cr_assert_eq(w.rc, -EBADMSG, "not rejected: %s", msg);
	cr_assert_eq(w.status, status, "status %d (%s), want %d: %s", w.status, w.error, status,
		     msg);
	cr_assert_not_null(strstr(w.error, rfc), "error \"%s\" does not cite %s", w.error, rfc);
	cr_assert_not_null(strstr(w.error, "(RFC "), "error \"%s\" cites no section", w.error);
	run_bytes(m, len, lim, false, &o);
	cr_assert_str_eq(o.digest, w.digest, "byte by byte differs for %s", msg);
	for (at = 0; at <= len; at++) {
		run_split(m, len, at, lim, false, &o);
		cr_assert_str_eq(o.digest, w.digest, "split at %zu differs for %s", at, msg);
	}
}

void
expect_accept(const char *msg, size_t len, struct run *r)
{
	expect_accept_lim(msg, len, NULL, r);
}

void
expect_accept_lim(const char *msg, size_t len, const struct sl_http1_limits *lim, struct run *r)
{
	static struct run o;
	const uint8_t *m = (const uint8_t *)msg;
	size_t at;

	run_whole(m, len, lim, false, r);
	cr_assert(r->done, "not complete (%d %s): %s", r->status, r->error ? r->error : "", msg);
	cr_assert_eq(r->consumed, len, "took %zu of %zu", r->consumed, len);
	run_bytes(m, len, lim, false, &o);
	cr_assert_str_eq(o.digest, r->digest, "byte by byte differs");
	for (at = 0; at <= len; at++) {
		run_split(m, len, at, lim, false, &o);
		cr_assert_str_eq(o.digest, r->digest, "split at %zu differs", at);
	}
}

void
expect_prefixes_more(const char *name, const uint8_t *m, size_t len, const struct run *w)
{
	static struct run r;
	size_t pre;

	for (pre = 0; pre < len; pre++) {
		/* whole prefix, then the same prefix byte by byte */
		run_whole(m, pre, NULL, false, &r);
		cr_assert_eq(r.rc, SL_HTTP1_MORE, "%s: prefix %zu gave %d (%s)", name, pre, r.rc,
			     r.error ? r.error : "");
		cr_assert(!r.done, "%s: DONE at prefix %zu", name, pre);
		cr_assert_eq(r.head, pre >= w->head_at, "%s: HEAD at prefix %zu", name, pre);
		cr_assert_eq(r.consumed, pre);
		run_bytes(m, pre, NULL, false, &r);
		cr_assert_eq(r.rc, SL_HTTP1_MORE, "%s: bytewise prefix %zu", name, pre);
		cr_assert(!r.done);
	}
}
