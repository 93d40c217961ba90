/**
 * @file
 * The HTTP/1.1 front of a worker (server.h): connection handling over sluice's TCP.
 *
 * A connection keeps what TCP delivered as a chain (`rx`), feeds it to the parser from a
 * cursor, and gives bytes back to the receive window (sl_tcp_consumed) only once the parser
 * no longer needs them (sl_http1_keep_from) and the answer they belong to is queued. So a
 * client that does not read its answers, or pipelines faster than we answer, is throttled by
 * its own window, and a connection holds at most one request head plus what is in flight.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "tcp-buf.h"
#include "sl_addr.h"
#include "sl_util.h"



static inline uint32_t
min_u32(uint64_t a, uint64_t b)
{
	return (uint32_t)(a < b ? a : b);
}

const char *const sl_http_stats_names[] = {
#define SL_HTTP_STATS_NAME(n) #n,
	SL_HTTP_STATS(SL_HTTP_STATS_NAME)
#undef SL_HTTP_STATS_NAME
		"active",
		"inflight",
};

enum conn_timer {
	T_NONE = 0,
	T_HEAD,
	T_BODY,
	T_IDLE,
	T_LINGER,
};

/* What answers the current request. */
enum route {
	R_NONE = 0, /* nothing decided: between requests */
	R_DONE,	    /* a final answer is queued; the rest of the request is read and dropped */
	R_MIRROR,   /* /-/mirror: answered at the end of the request */
};

struct sl_http_conn {
	struct sl_tcp_conn *c; /* NULL: free slot */
	struct sl_http_server *srv;
	struct sl_http_conn *t_next, *t_prev;
	uint64_t deadline_us;
	uint8_t timer;	  /* enum conn_timer */
	uint8_t route;	  /* enum route */
	bool lingering;	  /* FIN sent after a final answer; input is dropped */
	bool close_after; /* end the connection once the current answer is queued */
	bool peer_closed;
	bool chunked_out; /* the mirror answers with chunked framing */
	bool have_head;	  /* the current request's head was parsed */
	bool inflight;	  /* counted in stats.inflight */
	/* received bytes: rx_abs is the stream offset of rx->data[rx_off] */
	struct sl_tcp_seg *rx, *rx_tail;
	uint32_t rx_off;
	uint64_t rx_abs;
	/* the parser's cursor: the next byte to feed is cur->data[cur_off], at stream fed_abs */
	struct sl_tcp_seg *cur;
	uint32_t cur_off;
	uint64_t fed_abs;
	uint64_t msg_base; /* stream offset of the current message's position 0 */
	/* answers not yet given to TCP: gathered over one pass (pipelined answers leave in
	 * full segments), or refused by TCP for now (`blocked`, until `writable`) */
	struct sl_tcp_seg *out, *out_tail;
	uint32_t out_len;
	bool blocked;
	bool fin_pending; /* FIN once `out` is given to TCP */
	/* /-/mirror: the dump built at HEAD, the body copied up to SL_HTTP_MIRROR_BODY */
	struct sl_tcp_seg *m_dump, *m_dump_tail;
	uint32_t m_dump_len;
	struct sl_tcp_seg *m_body, *m_body_tail;
	uint32_t m_body_cap; /* room of m_body_tail */
	uint64_t m_body_len;
	uint32_t m_crc;
	uint8_t reqid_len;
	char reqid[SL_HTTP_REQID_MAX];
	struct sl_http1_parser p;
};

/* ---- output chains ---- */

/* ---- received bytes ---- */

/* Copy `len` bytes at message position `off` out of the received chain into `dst`. */
static void
rx_copy(const struct sl_http_conn *hc, uint32_t off, uint32_t len, uint8_t *dst)
{
	uint64_t skip = hc->msg_base + off - hc->rx_abs;
	const struct sl_tcp_seg *s = hc->rx;
	uint32_t o = hc->rx_off;

	while (s != NULL && skip >= s->len - o) {
		skip -= s->len - o;
		s = s->next;
		o = 0;
	}
	o += (uint32_t)skip;
	while (len > 0 && s != NULL) {
		uint32_t k = min_u32(len, s->len - o);

		memcpy(dst, s->data + o, k);
		dst += k;
		len -= k;
		s = s->next;
		o = 0;
	}
}

/* Append a span of the message to an answer, straight from the received buffers. */
static void
ob_span(struct sl_obuf *ob, const struct sl_http_conn *hc, uint32_t off, uint32_t len)
{
	uint8_t tmp[256];

	while (len > 0) {
		uint32_t k = min_u32(len, sizeof(tmp));

		rx_copy(hc, off, k, tmp);
		sl_ob_put(ob, tmp, k);
		off += k;
		len -= k;
	}
}

/* Give back the received bytes before stream offset `abs` (never beyond the cursor). */
static void
rx_release(struct sl_http_conn *hc, uint64_t abs)
{
	struct sl_tcp_stack *st = hc->srv->st;
	uint64_t n = abs > hc->rx_abs ? abs - hc->rx_abs : 0;
	uint64_t done = n;

	while (n > 0 && hc->rx != NULL) {
		struct sl_tcp_seg *s = hc->rx;
		uint32_t avail = s->len - hc->rx_off;

		if (n < avail) {
			hc->rx_off += (uint32_t)n;
			n = 0;
			break;
		}
		if (s == hc->cur) /* fully fed: the cursor moves on with it */
			hc->cur = s->next, hc->cur_off = 0;
		n -= avail;
		hc->rx = s->next;
		hc->rx_off = 0;
		s->next = NULL;
		sl_tcp_seg_free_chain(st, s);
	}
	if (hc->rx == NULL)
		hc->rx_tail = NULL;
	done -= n;
	hc->rx_abs += done;
	if (done > 0)
		sl_tcp_consumed(hc->c, (uint32_t)done, sl_tcp_stack_now(st));
}

static void
rx_free_all(struct sl_http_conn *hc)
{
	if (hc->rx != NULL)
		sl_tcp_seg_free_chain(hc->srv->st, hc->rx);
	hc->rx = hc->rx_tail = hc->cur = NULL;
}

/* ---- timers: one FIFO per kind of timeout ---- */

static struct sl_http_tlist *
tlist(struct sl_http_server *srv, enum conn_timer k)
{
	switch (k) {
	case T_HEAD:
		return &srv->t_head;
	case T_BODY:
		return &srv->t_body;
	case T_IDLE:
		return &srv->t_idle;
	case T_LINGER:
		return &srv->t_linger;
	default:
		return NULL;
	}
}

static void
t_disarm(struct sl_http_conn *hc)
{
	struct sl_http_tlist *l = tlist(hc->srv, (enum conn_timer)hc->timer);

	if (l == NULL)
		return;
	if (hc->t_prev != NULL)
		hc->t_prev->t_next = hc->t_next;
	else
		l->head = hc->t_next;
	if (hc->t_next != NULL)
		hc->t_next->t_prev = hc->t_prev;
	else
		l->tail = hc->t_prev;
	hc->t_next = hc->t_prev = NULL;
	hc->timer = T_NONE;
}

static void
t_arm(struct sl_http_conn *hc, enum conn_timer k, uint32_t ms)
{
	struct sl_http_tlist *l = tlist(hc->srv, k);

	t_disarm(hc);
	hc->timer = (uint8_t)k;
	hc->deadline_us = sl_tcp_stack_now(hc->srv->st) + (uint64_t)ms * 1000;
	hc->t_prev = l->tail;
	hc->t_next = NULL;
	if (l->tail != NULL)
		l->tail->t_next = hc;
	else
		l->head = hc;
	l->tail = hc;
}

/* ---- connection slots ---- */

static struct sl_http_conn *
conn_get(struct sl_http_server *srv)
{
	uint32_t i;
	struct sl_http_conn *hc;

	if (srv->n_free > 0)
		i = srv->free_idx[--srv->n_free];
	else if (srv->n_used < srv->conf.max_conns)
		i = srv->n_used++;
	else
		return NULL;
	hc = &srv->slab[i];
	memset(hc, 0, offsetof(struct sl_http_conn, p));
	hc->srv = srv;
	sl_http1_init(&hc->p, &srv->conf.lim, srv->hdrs + (size_t)i * srv->conf.lim.fields);
	srv->stats.active++;
	return hc;
}

static void
conn_put(struct sl_http_conn *hc)
{
	struct sl_http_server *srv = hc->srv;
	struct sl_tcp_stack *st = srv->st;

	t_disarm(hc);
	rx_free_all(hc);
	if (hc->inflight)
		srv->stats.inflight--;
	if (hc->out != NULL)
		sl_tcp_seg_free_chain(st, hc->out);
	hc->out_tail = NULL;
	if (hc->m_dump != NULL)
		sl_tcp_seg_free_chain(st, hc->m_dump);
	if (hc->m_body != NULL)
		sl_tcp_seg_free_chain(st, hc->m_body);
	hc->out = hc->m_dump = hc->m_body = NULL;
	/* not a word to hc->c: a close or abort just before may have freed it */
	hc->c = NULL;
	srv->free_idx[srv->n_free++] = (uint32_t)(hc - srv->slab);
	srv->stats.active--;
}

/* ---- answers ---- */

#define OUT_BATCH 16384 /* answers gathered before they go to TCP */

/* Give the gathered answers to TCP; on -ENOBUFS they wait for `writable`. */
static void
conn_flush(struct sl_http_conn *hc)
{
	struct sl_tcp_stack *st = hc->srv->st;
	int r;

	if (hc->out != NULL && !hc->blocked) {
		r = sl_tcp_send(hc->c, hc->out, sl_tcp_stack_now(st));
		if (r == -ENOBUFS) {
			hc->blocked = true;
			return;
		}
		if (r != 0)
			sl_tcp_seg_free_chain(st, hc->out);
		hc->out = hc->out_tail = NULL;
		hc->out_len = 0;
	}
	if (hc->out == NULL && hc->fin_pending) {
		hc->fin_pending = false;
		sl_tcp_shutdown(hc->c, sl_tcp_stack_now(st));
	}
}

/* Add an answer to what goes out. @return false when the connection is gone (no buffer
 * for the answer: it is reset). */
static bool
conn_send(struct sl_http_conn *hc, struct sl_obuf *ob)
{
	struct sl_tcp_stack *st = hc->srv->st;

	if (ob->fail) {
		sl_ob_free(ob);
		hc->srv->stats.out_of_buffers++;
		sl_tcp_abort(hc->c, sl_tcp_stack_now(st));
		conn_put(hc);
		return false;
	}
	if (ob->head == NULL)
		return true;
	if (hc->out_tail != NULL)
		hc->out_tail->next = ob->head;
	else
		hc->out = ob->head;
	hc->out_tail = ob->tail;
	while (hc->out_tail->next != NULL) /* a chain with buffers linked in (mirror) */
		hc->out_tail = hc->out_tail->next;
	hc->out_len += ob->len;
	ob->head = ob->tail = NULL;
	if (hc->out_len >= OUT_BATCH)
		conn_flush(hc);
	return true;
}

/* A new request id: 32 hex digits of a per-process key, the worker and a sequence number. */
static void
reqid_new(struct sl_http_server *srv, char *out)
{
	uint64_t x = ++srv->reqid_seq * 0x9e3779b97f4a7c15ull ^ srv->reqid_key;
	char buf[40];

	snprintf(buf, sizeof(buf), "%016llx%04x%012llx", (unsigned long long)x,
		 srv->worker & 0xffff, (unsigned long long)(srv->reqid_seq & 0xffffffffffffull));
	memcpy(out, buf, 32);
}

static void
count_status(struct sl_http_server *srv, int status)
{
	srv->stats.responses++;
	if (status >= 200 && status < 300)
		srv->stats.status_2xx++;
	else if (status >= 400 && status < 500)
		srv->stats.status_4xx++;
	else if (status >= 500)
		srv->stats.status_5xx++;
}

/* The status line and the fields every answer carries. `len` < 0: chunked. */
static void
put_head(struct sl_http_conn *hc, struct sl_obuf *ob, int status, int64_t len, const char *ctype)
{
	sl_ob_fmt(ob, "HTTP/1.1 %d %s\r\n", status, sl_http1_reason(status));
	if (ctype != NULL)
		sl_ob_fmt(ob, "Content-Type: %s\r\n", ctype);
	if (len >= 0)
		sl_ob_fmt(ob, "Content-Length: %lld\r\n", (long long)len);
	else
		sl_ob_str(ob, "Transfer-Encoding: chunked\r\n");
	if (hc->reqid_len == 0) { /* an answer before the head was read: an id all the same */
		reqid_new(hc->srv, hc->reqid);
		hc->reqid_len = 32;
	}
	sl_ob_str(ob, "X-Request-Id: ");
	sl_ob_put(ob, hc->reqid, hc->reqid_len);
	sl_ob_str(ob, "\r\n");
	if (hc->close_after)
		sl_ob_str(ob, "Connection: close\r\n");
	else if (hc->p.req.minor == 0)
		sl_ob_str(ob, "Connection: keep-alive\r\n");
	sl_ob_str(ob, "\r\n");
}

/* A short text answer. HEAD gets the fields only. */
static bool
answer_text(struct sl_http_conn *hc, int status, const char *text, const char *detail)
{
	struct sl_http_server *srv = hc->srv;
	bool head = hc->have_head && hc->p.req.method_id == SL_HTTP1_M_HEAD;
	char body[320];
	struct sl_obuf ob;
	int n;

	n = snprintf(body, sizeof(body), "%d %s%s%s\n", status, text, detail ? ": " : "",
		     detail ? detail : "");
	if (n < 0 || (size_t)n >= sizeof(body))
		n = (int)strlen(body);
	sl_ob_init(&ob, srv->st);
	put_head(hc, &ob, status, n, "text/plain");
	if (!head)
		sl_ob_put(&ob, body, (uint32_t)n);
	count_status(srv, status);
	hc->route = R_DONE;
	return conn_send(hc, &ob);
}

/* FIN after what is queued, then read and drop until the peer closes (RFC 9112 9.6). The
 * linger time runs from the FIN: answers still waiting for send space are bounded by the
 * idle time, as for a peer that does not read (`writable` starts the linger). */
static void
begin_linger(struct sl_http_conn *hc)
{
	if (hc->inflight) { /* its answer is queued: nothing more to wait for */
		hc->srv->stats.inflight--;
		hc->inflight = false;
	}
	hc->lingering = true;
	hc->fin_pending = true;
	conn_flush(hc);
	if (hc->fin_pending)
		t_arm(hc, T_IDLE, hc->srv->conf.keepalive_ms);
	else
		t_arm(hc, T_LINGER, SL_HTTP_LINGER_MS);
}

/* An error ends the connection: its answer (when none was given yet), then the close. */
static void
fail_request(struct sl_http_conn *hc, int status, const char *why)
{
	struct sl_http_server *srv = hc->srv;

	switch (status) {
	case 400:
		srv->stats.bad_request++;
		break;
	case 413:
		srv->stats.too_large++;
		break;
	case 414:
		srv->stats.uri_too_long++;
		break;
	case 417:
		srv->stats.expect_failed++;
		break;
	case 431:
		srv->stats.fields_too_large++;
		break;
	case 501:
		srv->stats.not_implemented++;
		break;
	case 505:
		srv->stats.bad_version++;
		break;
	default:
		break;
	}
	hc->close_after = true;
	if (hc->route != R_DONE) {
		if (!answer_text(hc, status, sl_http1_reason(status), why))
			return;
	}
	rx_release(hc, hc->fed_abs);
	begin_linger(hc);
}

/* ---- request ids, forwarded fields ---- */

static void
reqid_make(struct sl_http_conn *hc)
{
	struct sl_http_server *srv = hc->srv;
	const struct sl_http1_parser *p = &hc->p;

	for (int i = 0; i < p->n_hdrs; i++) {
		const struct sl_http1_hdr *h = &p->hdrs[i];

		if (h->id == SL_HTTP1_H_X_REQUEST_ID && h->val_len > 0 &&
		    h->val_len <= SL_HTTP_REQID_MAX) {
			rx_copy(hc, h->val_off, h->val_len, (uint8_t *)hc->reqid);
			hc->reqid_len = (uint8_t)h->val_len;
			return;
		}
	}
	reqid_new(srv, hc->reqid);
	hc->reqid_len = 32;
}

static int
lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

/* Whether the `n` message bytes at `a` and at `b` are equal, ASCII case aside. */
static bool
span_eq_ci(const struct sl_http_conn *hc, uint32_t a, uint32_t b, uint32_t n)
{
	uint8_t x[64], y[64];

	while (n > 0) {
		uint32_t k = min_u32(n, sizeof(x));

		rx_copy(hc, a, k, x);
		rx_copy(hc, b, k, y);
		for (uint32_t i = 0; i < k; i++)
			if (lower(x[i]) != lower(y[i]))
				return false;
		a += k;
		b += k;
		n -= k;
	}
	return true;
}

/* Whether the list element [tok, end) (end 0: none) is the name of field `f`. */
static bool
elem_is(const struct sl_http_conn *hc, uint32_t tok, uint32_t end, const struct sl_http1_hdr *f)
{
	return end != 0 && end - tok == f->name_len &&
	       span_eq_ci(hc, tok, f->name_off, f->name_len);
}

/* Whether field `f` is listed in a Connection field (RFC 9110 7.6.1: then hop-by-hop). The
 * values are read in pieces: lists of any length, names of any length. */
static bool
named_in_connection(const struct sl_http_conn *hc, const struct sl_http1_hdr *f)
{
	const struct sl_http1_parser *p = &hc->p;
	uint8_t v[512];

	for (int i = 0; i < p->n_hdrs; i++) {
		const struct sl_http1_hdr *h = &p->hdrs[i];
		uint32_t tok = 0, end = 0; /* the element so far, OWS excluded (end 0: none) */
		uint32_t k;

		if (h->id != SL_HTTP1_H_CONNECTION || (h->flags & SL_HTTP1_HF_TRAILER))
			continue;
		for (uint32_t off = 0; off < h->val_len; off += k) {
			k = min_u32(h->val_len - off, sizeof(v));
			rx_copy(hc, h->val_off + off, k, v);
			for (uint32_t j = 0; j < k; j++) {
				if (v[j] == ',') {
					if (elem_is(hc, tok, end, f))
						return true;
					end = 0;
				} else if (v[j] != ' ' && v[j] != '\t') {
					if (end == 0)
						tok = h->val_off + off + j;
					end = h->val_off + off + j + 1;
				}
			}
		}
		if (elem_is(hc, tok, end, f))
			return true;
	}
	return false;
}

/* Whether field i goes to a backend: hop-by-hop fields (RFC 9110 7.6.1) and the ones we
 * rewrite (X-Forwarded-For, X-Request-Id) do not. */
static bool
fwd_keep(const struct sl_http_conn *hc, int i)
{
	const struct sl_http1_hdr *h = &hc->p.hdrs[i];

	if (h->flags & SL_HTTP1_HF_TRAILER)
		return false;
	switch (h->id) {
	case SL_HTTP1_H_CONNECTION:
	case SL_HTTP1_H_KEEP_ALIVE:
	case SL_HTTP1_H_PROXY_CONNECTION:
	case SL_HTTP1_H_TE:
	case SL_HTTP1_H_TRANSFER_ENCODING:
	case SL_HTTP1_H_UPGRADE:
	case SL_HTTP1_H_TRAILER:
	case SL_HTTP1_H_X_FORWARDED_FOR:
	case SL_HTTP1_H_X_REQUEST_ID:
		return false;
	default:
		break;
	}
	return !((hc->p.req.flags & SL_HTTP1_R_CONN_OTHER) && named_in_connection(hc, h));
}

/* The authority of an absolute-form target "scheme://authority[/?...]": [*a, *b) in it. */
static void
target_authority(const struct sl_http_conn *hc, uint32_t *a, uint32_t *b)
{
	const struct sl_http1_req *r = &hc->p.req;
	uint32_t i = 0, n = r->target.len;
	uint8_t c[3] = {0};

	/* the scheme is short and validated by the parser: find "://" byte by byte */
	for (; i + 3 <= n; i++) {
		rx_copy(hc, r->target.off + i, 3, c);
		if (c[0] == ':' && c[1] == '/' && c[2] == '/')
			break;
	}
	*a = *b = i + 3 <= n ? i + 3 : n;
	while (*b < n) {
		rx_copy(hc, r->target.off + *b, 1, c);
		if (c[0] == '/' || c[0] == '?')
			break;
		(*b)++;
	}
}

/* The fields a backend would get, as "<prefix>Name: value\n" lines. */
static void
dump_forward(struct sl_http_conn *hc, struct sl_obuf *ob)
{
	const struct sl_http1_parser *p = &hc->p;
	bool absolute = p->req.form == SL_HTTP1_F_ABSOLUTE;
	char ip[SL_IP4_STRLEN];

	/* RFC 9112 3.2.2: with an absolute-form target, the Host a proxy forwards is the
	 * target's authority, whatever Host said */
	if (absolute) {
		uint32_t a, b;

		target_authority(hc, &a, &b);
		sl_ob_str(ob, "forward: Host: ");
		ob_span(ob, hc, p->req.target.off + a, b - a);
		sl_ob_str(ob, "\n");
	}
	for (int i = 0; i < p->n_hdrs; i++) {
		const struct sl_http1_hdr *h = &p->hdrs[i];

		if (!fwd_keep(hc, i) || (absolute && h->id == SL_HTTP1_H_HOST))
			continue;
		sl_ob_str(ob, "forward: ");
		ob_span(ob, hc, h->name_off, h->name_len);
		sl_ob_str(ob, ": ");
		ob_span(ob, hc, h->val_off, h->val_len);
		sl_ob_str(ob, "\n");
	}
	/* X-Forwarded-For: the values received, in order, then the client */
	sl_ob_str(ob, "forward: X-Forwarded-For: ");
	for (int i = 0; i < p->n_hdrs; i++) {
		const struct sl_http1_hdr *h = &p->hdrs[i];

		if (h->id != SL_HTTP1_H_X_FORWARDED_FOR || (h->flags & SL_HTTP1_HF_TRAILER) ||
		    h->val_len == 0)
			continue;
		ob_span(ob, hc, h->val_off, h->val_len);
		sl_ob_str(ob, ", ");
	}
	sl_ip4_str(hc->c->tuple.raddr, ip);
	sl_ob_str(ob, ip);
	sl_ob_str(ob, "\nforward: X-Request-Id: ");
	sl_ob_put(ob, hc->reqid, hc->reqid_len);
	sl_ob_str(ob, "\n");
}

/* ---- endpoints ---- */

/* Whether the path of the target (origin or absolute form, query excluded) is `path`. */
static bool
path_is(const struct sl_http_conn *hc, const char *path)
{
	const struct sl_http1_req *r = &hc->p.req;
	uint8_t t[64] = {0};
	uint32_t n = min_u32(r->target.len, sizeof(t));
	uint32_t a = 0, b;
	size_t plen = strlen(path);

	rx_copy(hc, r->target.off, n, t);
	if (r->form == SL_HTTP1_F_ABSOLUTE) { /* scheme://authority/path */
		while (a + 2 < n && !(t[a] == ':' && t[a + 1] == '/' && t[a + 2] == '/'))
			a++;
		a += 3;
		while (a < n && t[a] != '/' && t[a] != '?')
			a++;
	} else if (r->form != SL_HTTP1_F_ORIGIN) {
		return false;
	}
	b = a;
	while (b < n && t[b] != '?')
		b++;
	if (b == n && n < r->target.len) /* longer than anything we compare with */
		return false;
	return b - a == plen && memcmp(t + a, path, plen) == 0;
}

static void
mirror_begin(struct sl_http_conn *hc)
{
	const struct sl_http1_parser *p = &hc->p;
	struct sl_obuf ob;

	sl_ob_init(&ob, hc->srv->st);
	sl_ob_str(&ob, "method: ");
	ob_span(&ob, hc, p->req.method.off, p->req.method.len);
	sl_ob_str(&ob, "\ntarget: ");
	ob_span(&ob, hc, p->req.target.off, p->req.target.len);
	sl_ob_fmt(&ob, "\nversion: HTTP/1.%u\n", p->req.minor);
	for (int i = 0; i < p->n_hdrs; i++) {
		const struct sl_http1_hdr *h = &p->hdrs[i];

		sl_ob_str(&ob, "header: ");
		ob_span(&ob, hc, h->name_off, h->name_len);
		sl_ob_str(&ob, ": ");
		ob_span(&ob, hc, h->val_off, h->val_len);
		sl_ob_str(&ob, "\n");
	}
	dump_forward(hc, &ob);
	hc->m_dump = ob.head;
	hc->m_dump_tail = ob.tail;
	hc->m_dump_len = ob.len;
	if (ob.fail) {
		sl_ob_free(&ob);
		hc->m_dump = NULL;
		hc->m_dump_len = UINT32_MAX; /* reported at the end */
	}
	hc->m_body = hc->m_body_tail = NULL; /* the last one went out with its answer */
	hc->m_body_cap = 0;
	hc->m_body_len = 0;
	hc->m_crc = 0;
	hc->chunked_out = p->req.body == SL_HTTP1_B_CHUNKED;
	hc->route = R_MIRROR;
	hc->srv->stats.mirror++;
}

static void
mirror_body(struct sl_http_conn *hc, const uint8_t *b, uint32_t n)
{
	hc->m_crc = sl_http_crc32(hc->m_crc, b, n);
	if (hc->m_body_len + n <= SL_HTTP_MIRROR_BODY) {
		struct sl_obuf ob = {.st = hc->srv->st,
				  .head = hc->m_body,
				  .tail = hc->m_body_tail,
				  .cap = hc->m_body_cap};

		sl_ob_put(&ob, b, n);
		hc->m_body = ob.head;
		hc->m_body_tail = ob.tail;
		hc->m_body_cap = ob.cap;
		if (ob.fail)
			hc->m_dump_len = UINT32_MAX;
	} else if (hc->m_body != NULL) { /* too long to echo: only length and checksum */
		sl_tcp_seg_free_chain(hc->srv->st, hc->m_body);
		hc->m_body = hc->m_body_tail = NULL;
	}
	hc->m_body_len += n;
}

/* The request ended: the dump, the trailers, the body's length and checksum, the body. */
static bool
mirror_end(struct sl_http_conn *hc)
{
	struct sl_http_server *srv = hc->srv;
	const struct sl_http1_parser *p = &hc->p;
	bool head = p->req.method_id == SL_HTTP1_M_HEAD;
	bool echo = hc->m_body_len <= SL_HTTP_MIRROR_BODY;
	struct sl_obuf tail, out;
	struct sl_tcp_seg *parts[3];
	uint64_t total;

	if (hc->m_dump_len == UINT32_MAX) {
		srv->stats.out_of_buffers++;
		hc->route = R_NONE;
		fail_request(hc, 503, "out of buffers");
		return false;
	}
	sl_ob_init(&tail, srv->st);
	for (int i = 0; i < p->n_hdrs; i++) {
		const struct sl_http1_hdr *h = &p->hdrs[i];

		if (!(h->flags & SL_HTTP1_HF_TRAILER))
			continue;
		sl_ob_str(&tail, "trailer: ");
		ob_span(&tail, hc, h->name_off, h->name_len);
		sl_ob_str(&tail, ": ");
		ob_span(&tail, hc, h->val_off, h->val_len);
		sl_ob_str(&tail, "\n");
	}
	sl_ob_fmt(&tail, "body-length: %llu\nbody-crc32: %08x\n\n", (unsigned long long)hc->m_body_len,
	       hc->m_crc);
	total = (uint64_t)hc->m_dump_len + tail.len + (echo ? hc->m_body_len : 0);

	sl_ob_init(&out, srv->st);
	put_head(hc, &out, 200, hc->chunked_out ? -1 : (int64_t)total, "text/plain");
	if (tail.fail || out.fail) {
		sl_ob_free(&tail);
		out.fail = true;
		return conn_send(hc, &out);
	}
	count_status(srv, 200);
	hc->route = R_DONE;
	if (head) {
		sl_ob_free(&tail);
		if (hc->m_dump != NULL)
			sl_tcp_seg_free_chain(srv->st, hc->m_dump);
		if (hc->m_body != NULL)
			sl_tcp_seg_free_chain(srv->st, hc->m_body);
		hc->m_dump = hc->m_body = NULL;
		return conn_send(hc, &out);
	}
	parts[0] = hc->m_dump;
	parts[1] = tail.head;
	parts[2] = echo ? hc->m_body : NULL;
	if (!echo && hc->m_body != NULL)
		sl_tcp_seg_free_chain(srv->st, hc->m_body);
	hc->m_dump = hc->m_body = hc->m_body_tail = NULL;
	hc->m_body_cap = 0;
	tail.head = NULL;
	for (int k = 0; k < 3; k++) {
		struct sl_tcp_seg *s = parts[k];

		while (s != NULL) {
			struct sl_tcp_seg *next = s->next;

			s->next = NULL;
			if (hc->chunked_out && s->len > 0) {
				sl_ob_fmt(&out, "%x\r\n", s->len);
				sl_ob_put(&out, s->data, s->len);
				sl_ob_str(&out, "\r\n");
				sl_tcp_seg_free_chain(srv->st, s);
			} else if (out.tail != NULL && s->len > 0) {
				out.tail->next = s; /* the buffer itself: no copy */
				out.tail = s;
				out.cap = s->len;
				out.len += s->len;
			} else {
				sl_tcp_seg_free_chain(srv->st, s);
			}
			s = next;
		}
	}
	if (hc->chunked_out)
		sl_ob_str(&out, "0\r\n\r\n");
	return conn_send(hc, &out);
}

/* The head is complete: choose what answers it. @return false when the connection is gone. */
static bool
on_head(struct sl_http_conn *hc)
{
	struct sl_http_server *srv = hc->srv;
	const struct sl_http1_req *r = &hc->p.req;
	bool has_body = r->body != SL_HTTP1_B_NONE;
	bool mirror = srv->conf.mirror && path_is(hc, "/-/mirror");

	srv->stats.requests++;
	srv->stats.inflight++;
	hc->inflight = true;
	hc->have_head = true;
	reqid_make(hc);
	if (!(r->flags & SL_HTTP1_R_KEEP_ALIVE) || srv->draining)
		hc->close_after = true;
	/* A client waiting for 100-continue sends no body after a final answer: only the
	 * mirror reads it (after its 100), every other answer closes. */
	if (!mirror && has_body && (r->flags & SL_HTTP1_R_EXPECT_CONTINUE))
		hc->close_after = true;
	if (srv->conf.health && path_is(hc, "/-/health")) {
		srv->stats.health++;
		if (r->method_id != SL_HTTP1_M_GET && r->method_id != SL_HTTP1_M_HEAD)
			return answer_text(hc, 405, "Method Not Allowed", "/-/health takes GET");
		if (srv->draining)
			return answer_text(hc, 503, "Service Unavailable", "draining");
		return answer_text(hc, 200, "OK", NULL);
	}
	if (mirror) {
		mirror_begin(hc);
		if (has_body && (r->flags & SL_HTTP1_R_EXPECT_CONTINUE) && r->minor == 1) {
			struct sl_obuf ob;

			sl_ob_init(&ob, srv->st);
			sl_ob_str(&ob, "HTTP/1.1 100 Continue\r\n\r\n");
			srv->stats.continues++;
			return conn_send(hc, &ob);
		}
		return true;
	}
	srv->stats.no_route++;
	return answer_text(hc, 503, "Service Unavailable", "no route for this request");
}

/* ---- the connection's story ---- */

/* After a request ended: the next one, or the close. @return false when gone. */
static bool
request_done(struct sl_http_conn *hc)
{
	if (hc->route == R_MIRROR && !mirror_end(hc))
		return false;
	hc->route = R_NONE;
	if (hc->inflight) {
		hc->srv->stats.inflight--;
		hc->inflight = false;
	}
	if (hc->close_after) {
		rx_release(hc, hc->fed_abs);
		begin_linger(hc);
		return true;
	}
	hc->msg_base = hc->fed_abs;
	hc->reqid_len = 0;
	hc->have_head = false;
	sl_http1_reset(&hc->p);
	return true;
}

/* The timer that fits where the connection is. */
static void
rearm(struct sl_http_conn *hc, bool body_progress, bool req_done)
{
	const struct sl_http_conf *cf = &hc->srv->conf;

	if (hc->lingering)
		return;
	if (hc->blocked) { /* waiting for the peer to read: bounded by the idle time */
		if (hc->timer != T_IDLE)
			t_arm(hc, T_IDLE, cf->keepalive_ms);
	} else if (sl_http1_in_body(&hc->p)) {
		if (hc->timer != T_BODY || body_progress)
			t_arm(hc, T_BODY, cf->body_timeout_ms);
	} else if (!sl_http1_idle(&hc->p)) {
		if (hc->timer != T_HEAD)
			t_arm(hc, T_HEAD, cf->header_timeout_ms);
	} else if (hc->timer != T_IDLE || req_done) { /* idle from the last request's end */
		t_arm(hc, T_IDLE, cf->keepalive_ms);
	}
}

/* Feed what was received to the parser and act on it, until input runs out or an answer
 * waits for send space. @return false when the connection is gone. */
static bool
process(struct sl_http_conn *hc)
{
	struct sl_http_server *srv = hc->srv;
	bool progress = false, req_done = false;

	if (hc->lingering) {
		rx_release(hc, hc->rx_abs + UINT32_MAX);
		hc->fed_abs = hc->rx_abs;
		return true;
	}
	while (!hc->blocked && !hc->lingering) {
		struct sl_http1_span body;
		const uint8_t *in;
		size_t used = 0;
		uint32_t avail;
		int ev;

		while (hc->cur != NULL && hc->cur_off == hc->cur->len)
			hc->cur = hc->cur->next, hc->cur_off = 0;
		/* a body that is complete ends on the next call, input or not */
		if (hc->cur == NULL && !sl_http1_in_body(&hc->p))
			break;
		in = hc->cur ? hc->cur->data + hc->cur_off : NULL;
		avail = hc->cur ? hc->cur->len - hc->cur_off : 0;
		ev = sl_http1_feed(&hc->p, in, avail, &used, &body);
		hc->cur_off += (uint32_t)used;
		hc->fed_abs += used;
		switch (ev) {
		case SL_HTTP1_MORE:
			if (hc->cur == NULL)
				goto out;
			break;
		case SL_HTTP1_HEAD:
			if (!on_head(hc))
				return false;
			if (hc->route == R_DONE && hc->close_after) {
				/* answered and closing: the rest is not read */
				rx_release(hc, hc->fed_abs);
				begin_linger(hc);
				return true;
			}
			break;
		case SL_HTTP1_BODY:
			progress = true;
			srv->stats.body_bytes += body.len;
			if (hc->route == R_MIRROR)
				mirror_body(hc,
					    in + (body.off - (hc->fed_abs - used - hc->msg_base)),
					    body.len);
			break;
		case SL_HTTP1_DONE:
			req_done = true;
			if (!request_done(hc))
				return false;
			break;
		default:
			fail_request(hc, hc->p.status, hc->p.error);
			return hc->c != NULL;
		}
		if (!hc->lingering)
			rx_release(hc, hc->msg_base + sl_http1_keep_from(&hc->p));
	}
out:
	conn_flush(hc);
	rearm(hc, progress, req_done);
	return true;
}

/* Nothing more will come: end the connection once what can be answered is answered. */
static void
maybe_finish(struct sl_http_conn *hc)
{
	struct sl_tcp_stack *st = hc->srv->st;

	if (!hc->peer_closed || hc->out != NULL)
		return; /* answers still to go: `writable` comes back here */
	sl_tcp_close(hc->c, sl_tcp_stack_now(st));
	conn_put(hc);
}

static int
http_accepted(void *app, struct sl_tcp_conn *c)
{
	struct sl_http_server *srv = app;
	struct sl_http_conn *hc = conn_get(srv);

	if (hc == NULL) {
		/* over the limit: a 503 from a buffer of its own, then the close */
		struct sl_obuf ob;

		srv->stats.conns_refused++;
		sl_ob_init(&ob, srv->st);
		char id[33] = "";

		reqid_new(srv, id);
		sl_ob_fmt(&ob,
		       "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
		       "Content-Length: 34\r\nX-Request-Id: %s\r\nConnection: close\r\n\r\n"
		       "503 Service Unavailable: too busy\n",
		       id);
		if (ob.fail || sl_tcp_send(c, ob.head, sl_tcp_stack_now(srv->st)) != 0) {
			sl_ob_free(&ob);
			return -ENOMEM;
		}
		sl_tcp_set_user(c, NULL);
		sl_tcp_close(c, sl_tcp_stack_now(srv->st));
		return 0;
	}
	hc->c = c;
	sl_tcp_set_user(c, hc);
	srv->stats.conns++;
	t_arm(hc, T_IDLE, srv->conf.keepalive_ms);
	return 0;
}

static void
http_data(void *app, struct sl_tcp_conn *c, struct sl_tcp_seg *chain, uint32_t len)
{
	struct sl_http_conn *hc = sl_tcp_user(c);

	(void)len;
	if (hc == NULL) { /* a refused connection: closed already */
		sl_tcp_seg_free_chain(((struct sl_http_server *)app)->st, chain);
		return;
	}
	if (hc->rx_tail != NULL)
		hc->rx_tail->next = chain;
	else
		hc->rx = chain;
	if (hc->cur == NULL)
		hc->cur = chain, hc->cur_off = 0;
	while (chain->next != NULL)
		chain = chain->next;
	hc->rx_tail = chain;
	if (process(hc))
		maybe_finish(hc);
}

static void
http_writable(void *app, struct sl_tcp_conn *c)
{
	struct sl_http_conn *hc = sl_tcp_user(c);

	(void)app;
	if (hc == NULL || !hc->blocked)
		return;
	hc->blocked = false;
	if (hc->timer == T_IDLE) /* the peer reads: a slow reader is not a dead one */
		t_arm(hc, T_IDLE, hc->srv->conf.keepalive_ms);
	conn_flush(hc);
	if (hc->lingering && !hc->fin_pending && hc->timer != T_LINGER)
		t_arm(hc, T_LINGER, SL_HTTP_LINGER_MS); /* the FIN is out */
	if (!hc->blocked && process(hc))
		maybe_finish(hc);
}

static void
http_peer_closed(void *app, struct sl_tcp_conn *c)
{
	struct sl_http_conn *hc = sl_tcp_user(c);

	if (hc == NULL) {
		sl_tcp_close(c, sl_tcp_stack_now(((struct sl_http_server *)app)->st));
		return;
	}
	hc->peer_closed = true;
	if (!hc->lingering && hc->out == NULL && !sl_http1_idle(&hc->p)) {
		/* a request cut short: nothing can complete it */
		sl_tcp_close(c, sl_tcp_stack_now(hc->srv->st));
		conn_put(hc);
		return;
	}
	maybe_finish(hc);
}

static void
http_gone(void *app, struct sl_tcp_conn *c)
{
	struct sl_http_conn *hc = sl_tcp_user(c);

	(void)app;
	if (hc != NULL) {
		hc->c = NULL;
		conn_put(hc);
	}
}

static void
http_error(void *app, struct sl_tcp_conn *c, int err)
{
	(void)err;
	http_gone(app, c);
}

const struct sl_tcp_app_ops sl_http_ops = {
	.accepted = http_accepted,
	.data = http_data,
	.writable = http_writable,
	.peer_closed = http_peer_closed,
	.reset = http_gone,
	.error = http_error,
};

/* ---- timeouts ---- */

static void
expire(struct sl_http_conn *hc)
{
	struct sl_http_server *srv = hc->srv;
	struct sl_tcp_stack *st = srv->st;
	enum conn_timer k = (enum conn_timer)hc->timer;

	t_disarm(hc);
	switch (k) {
	case T_HEAD:
		srv->stats.timeout_head++;
		hc->close_after = true;
		if (answer_text(hc, 408, "Request Timeout", "header timeout")) {
			rx_release(hc, hc->fed_abs);
			begin_linger(hc);
		}
		break;
	case T_BODY:
		srv->stats.timeout_body++;
		hc->close_after = true;
		if (hc->route != R_DONE && !answer_text(hc, 408, "Request Timeout", "body timeout"))
			break;
		rx_release(hc, hc->fed_abs);
		begin_linger(hc);
		break;
	case T_IDLE:
		srv->stats.idle_closed++;
		if (hc->blocked) { /* the peer stopped reading */
			sl_tcp_abort(hc->c, sl_tcp_stack_now(st));
		} else {
			sl_tcp_close(hc->c, sl_tcp_stack_now(st));
		}
		conn_put(hc);
		break;
	case T_LINGER:
		srv->stats.linger_expired++;
		sl_tcp_close(hc->c, sl_tcp_stack_now(st));
		conn_put(hc);
		break;
	default:
		break;
	}
}

void
sl_http_server_tick(struct sl_http_server *srv, uint64_t now_us)
{
	struct sl_http_tlist *lists[] = {&srv->t_head, &srv->t_body, &srv->t_idle, &srv->t_linger};

	for (size_t i = 0; i < SL_ARRAY_SIZE(lists); i++) {
		struct sl_http_conn *hc;

		while ((hc = lists[i]->head) != NULL && hc->deadline_us <= now_us)
			expire(hc);
	}
}

void
sl_http_server_drain(struct sl_http_server *srv, bool on)
{
	srv->draining = on;
}

/* ---- set-up ---- */

int
sl_http_server_init(struct sl_http_server *srv, struct sl_tcp_stack *st,
		    const struct sl_http_conf *conf, uint32_t worker, uint64_t seed)
{
	struct sl_http1_parser probe;
	struct sl_http1_hdr one;
	struct sl_http_conf cf = *conf;
	int r;

	memset(srv, 0, sizeof(*srv));
	if (cf.lim.fields == 0)
		cf.lim.fields = 100;
	r = sl_http1_init(&probe, &cf.lim, &one);
	if (r != 0)
		return r;
	cf.lim = probe.lim; /* the defaults filled in */
	if (cf.header_timeout_ms == 0)
		cf.header_timeout_ms = 10000;
	if (cf.body_timeout_ms == 0)
		cf.body_timeout_ms = 10000;
	if (cf.keepalive_ms == 0)
		cf.keepalive_ms = 60000;
	if (cf.max_conns == 0)
		cf.max_conns = 65536;
	srv->st = st;
	srv->conf = cf;
	srv->worker = worker;
	srv->reqid_key = seed * 0xbf58476d1ce4e5b9ull + 0x94d049bb133111ebull;
	srv->slab = calloc(cf.max_conns, sizeof(*srv->slab));
	srv->hdrs = calloc((size_t)cf.max_conns * cf.lim.fields, sizeof(*srv->hdrs));
	srv->free_idx = calloc(cf.max_conns, sizeof(*srv->free_idx));
	if (srv->slab == NULL || srv->hdrs == NULL || srv->free_idx == NULL) {
		sl_http_server_fini(srv);
		return -ENOMEM;
	}
	return 0;
}

void
sl_http_server_fini(struct sl_http_server *srv)
{
	if (srv->slab != NULL) {
		for (uint32_t i = 0; i < srv->n_used; i++)
			if (srv->slab[i].srv != NULL && srv->slab[i].c != NULL) {
				sl_tcp_set_user(srv->slab[i].c, NULL);
				conn_put(&srv->slab[i]);
			}
	}
	free(srv->slab);
	free(srv->hdrs);
	free(srv->free_idx);
	srv->slab = NULL;
	srv->hdrs = NULL;
	srv->free_idx = NULL;
}

/* ---- CRC-32 (IEEE), the reflected table of zlib (polynomial 0xedb88320) ---- */

static const uint32_t crc_table[256] = {
	0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu, 0xe963a535u,
	0x9e6495a3u, 0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u, 0x09b64c2bu, 0x7eb17cbdu,
	0xe7b82d07u, 0x90bf1d91u, 0x1db71064u, 0x6ab020f2u, 0xf3b97148u, 0x84be41deu, 0x1adad47du,
	0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u, 0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu,
	0x14015c4fu, 0x63066cd9u, 0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u,
	0xa2677172u, 0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu, 0x35b5a8fau, 0x42b2986cu,
	0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u, 0x26d930acu,
	0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u, 0xcfba9599u, 0xb8bda50fu,
	0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u, 0x2f6f7c87u, 0x58684c11u, 0xc1611dabu,
	0xb6662d3du, 0x76dc4190u, 0x01db7106u, 0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu,
	0x9fbfe4a5u, 0xe8b8d433u, 0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu,
	0x086d3d2du, 0x91646c97u, 0xe6635c01u, 0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
	0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u, 0x8bbeb8eau,
	0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u, 0x4db26158u, 0x3ab551ceu,
	0xa3bc0074u, 0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u, 0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au,
	0x346ed9fcu, 0xad678846u, 0xda60b8d0u, 0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u,
	0x5005713cu, 0x270241aau, 0xbe0b1010u, 0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u,
	0xce61e49fu, 0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u,
	0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au, 0xead54739u,
	0x9dd277afu, 0x04db2615u, 0x73dc1683u, 0xe3630b12u, 0x94643b84u, 0x0d6d6a3eu, 0x7a6a5aa8u,
	0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u, 0xf00f9344u, 0x8708a3d2u, 0x1e01f268u,
	0x6906c2feu, 0xf762575du, 0x806567cbu, 0x196c3671u, 0x6e6b06e7u, 0xfed41b76u, 0x89d32be0u,
	0x10da7a5au, 0x67dd4accu, 0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u, 0xd6d6a3e8u,
	0xa1d1937eu, 0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
	0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u, 0x316e8eefu,
	0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u, 0xcc0c7795u, 0xbb0b4703u,
	0x220216b9u, 0x5505262fu, 0xc5ba3bbeu, 0xb2bd0b28u, 0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u,
	0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du, 0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au,
	0x9c0906a9u, 0xeb0e363fu, 0x72076785u, 0x05005713u, 0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu,
	0x0cb61b38u, 0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u,
	0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u, 0x88085ae6u,
	0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u, 0x616bffd3u, 0x166ccf45u,
	0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u, 0xa7672661u, 0xd06016f7u, 0x4969474du,
	0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu, 0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u,
	0x47b2cf7fu, 0x30b5ffe9u, 0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u,
	0xcdd70693u, 0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
	0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du,
};

uint32_t
sl_http_crc32(uint32_t crc, const uint8_t *p, uint32_t len)
{
	if (p == NULL)
		return crc;
	crc = ~crc;
	while (len-- > 0)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
