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

#include "cluster.h"
#include "http1-int.h"
#include "native-err.h"
#include "native-hpack.h"
#include "native-mp.h"
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
	R_DISPATCH, /* a node: the body is gathered, then sent at the end of the request */
};

/* Where the reply of a dispatched request is. */
enum reply_state {
	RS_NONE = 0,
	RS_WAIT,  /* nothing came from the node yet: a retry is still possible */
	RS_FIRST, /* gathering the first chunk [code, headers] */
	RS_BODY,  /* the head went to the client; body chunks follow */
};

#define FIRST_CHUNK_MAX 65536	 /* bytes of a reply's [code, headers] */
#define PAUSE_BYTES (256 * 1024) /* a reply waiting for a slow client pauses its node */

static void dispatch_release(struct sl_http_conn *hc);
static void dispatch_report(struct sl_http_conn *hc, int status);

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
	/* dispatch: the request packed for the node, kept for retries until a reply comes */
	struct sl_be_chan ch;
	struct sl_obuf q_head, q_body, r_first;
	uint64_t tried;	     /* nodes tried (bit per node index) */
	uint64_t t_start_us; /* the head was parsed */
	uint64_t d_deadline_us;
	uint32_t d_ms;	  /* the deadline: the app's, or X-Request-Timeout when lower */
	uint64_t r_left;  /* reply body bytes still owed by a Content-Length */
	uint64_t r_bytes; /* reply body bytes received */
	uint16_t app, node, status;
	uint8_t attempts, rstate, event_len, uri_slash;
	bool waiting;	 /* the request is at a node: later requests wait */
	bool in_process; /* process() is on the stack */
	bool be_paused;	 /* this channel paused its backend connection */
	bool r_len, r_chunked, r_nobody, r_eof_empty;
	uint32_t uri_off, uri_len; /* what the app gets as its URI (message offsets) */
	char event[SL_CL_NAME_MAX];
	uint8_t l_method_len, l_uri_len; /* for the access log (the head is gone by then) */
	uint16_t l_cport;
	struct sl_ip4 l_client;
	char l_method[12];
	char l_uri[SL_ALOG_URI_MAX];
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
	hc->ch.heap_idx = UINT32_MAX;
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
	if (hc->waiting) { /* logged as 499, as nginx does */
		srv->stats.client_gone++;
		dispatch_report(hc, 499);
	}
	dispatch_release(hc);
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
		r = sl_tcp_send_some(hc->c, &hc->out, &hc->out_len, sl_tcp_stack_now(st));
		if (r == -ENOBUFS) { /* what fitted went; the rest waits for `writable` */
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
	sl_ob_fmt(&tail, "body-length: %llu\nbody-crc32: %08x\n\n",
		  (unsigned long long)hc->m_body_len, hc->m_crc);
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

/* ---- dispatch to nodes (docs/dispatch.md) ---- */

static const struct sl_cluster *
view_of(const struct sl_http_server *srv)
{
	return srv->be != NULL ? sl_be_view(srv->be) : NULL;
}

static bool
name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '@' || c == '-';
}

/* The first field with this id (trailers aside), or NULL. */
static const struct sl_http1_hdr *
field(const struct sl_http_conn *hc, int id)
{
	for (int i = 0; i < hc->p.n_hdrs; i++)
		if (hc->p.hdrs[i].id == id && !(hc->p.hdrs[i].flags & SL_HTTP1_HF_TRAILER))
			return &hc->p.hdrs[i];
	return NULL;
}

/* The path and query of the target, as message offsets (len 0: none). */
static void
target_path(const struct sl_http_conn *hc, uint32_t *off, uint32_t *len)
{
	const struct sl_http1_req *r = &hc->p.req;

	*off = r->target.off;
	*len = 0;
	if (r->form == SL_HTTP1_F_ORIGIN) {
		*len = r->target.len;
	} else if (r->form == SL_HTTP1_F_ABSOLUTE) {
		uint32_t a, b;

		target_authority(hc, &a, &b);
		*off = r->target.off + b;
		*len = r->target.len - b;
	}
}

/* An app of the view by a span of the message. @return its index, or -ENOENT. */
static int
app_of_span(const struct sl_http_conn *hc, uint32_t off, uint32_t len)
{
	char name[SL_CL_NAME_MAX];

	if (len == 0 || len >= sizeof(name))
		return -ENOENT;
	rx_copy(hc, off, len, (uint8_t *)name);
	return sl_cluster_app(view_of(hc->srv), name, len);
}

static bool
set_event(struct sl_http_conn *hc, const uint8_t *ev, uint32_t len)
{
	if (len == 0 || len >= sizeof(hc->event))
		return false;
	memcpy(hc->event, ev, len);
	hc->event_len = (uint8_t)len;
	return true;
}

/* Whether configured route r takes the request. */
static bool
route_matches(const struct sl_http_conn *hc, const struct sl_cl_route *r, uint32_t poff,
	      uint32_t plen)
{
	uint8_t buf[SL_CL_PREFIX_MAX];

	if (r->prefix_len > plen)
		return false;
	rx_copy(hc, poff, r->prefix_len, buf);
	if (memcmp(buf, r->prefix, r->prefix_len) != 0)
		return false;
	if (r->host_len > 0) {
		const struct sl_http1_hdr *h =
			hc->p.req.host >= 0 ? &hc->p.hdrs[hc->p.req.host] : NULL;
		uint8_t host[SL_CL_HOST_MAX];
		uint32_t n;

		if (h == NULL || h->val_len == 0)
			return false;
		n = min_u32(h->val_len, sizeof(host));
		rx_copy(hc, h->val_off, n, host);
		if (n > r->host_len && host[r->host_len] == ':')
			n = r->host_len; /* the port aside */
		if (n != r->host_len)
			return false;
		for (uint32_t i = 0; i < n; i++)
			if (lower(host[i]) != lower((uint8_t)r->host[i]))
				return false;
	}
	return true;
}

/*
 * Which app and event the request is for: X-Cocaine-Service and X-Cocaine-Event (the URI
 * goes unchanged), else the first configured route that matches (unchanged too), else
 * /<app>/<event><rest> (the app gets <rest>, "/" first when needed).
 * @return 0; 404 when the request names no app and event; 503 for an app nobody knows.
 */
static int
route_request(struct sl_http_conn *hc, const char **why)
{
	const struct sl_cluster *cl = view_of(hc->srv);
	const struct sl_http1_hdr *svc = field(hc, SL_HTTP1_H_X_COCAINE_SERVICE);
	const struct sl_http1_hdr *evh = field(hc, SL_HTTP1_H_X_COCAINE_EVENT);
	uint32_t poff, plen;
	uint8_t t[2 * SL_CL_NAME_MAX + 4];
	uint32_t n, a, e;
	int app;

	target_path(hc, &poff, &plen);
	hc->uri_off = poff; /* the path and query (an absolute-form target's included) */
	hc->uri_len = plen;
	hc->uri_slash = 1;
	if (plen > 0) {
		uint8_t c0 = '/';

		rx_copy(hc, poff, 1, &c0);
		hc->uri_slash = c0 != '/';
	}
	if (svc != NULL && evh != NULL && svc->val_len > 0 && evh->val_len > 0) {
		uint8_t ev[SL_CL_NAME_MAX];

		app = app_of_span(hc, svc->val_off, svc->val_len);
		if (app < 0) {
			*why = "no such application (X-Cocaine-Service)";
			return 503;
		}
		if (evh->val_len >= sizeof(ev)) {
			*why = "X-Cocaine-Event is longer than 63 bytes";
			return 404;
		}
		rx_copy(hc, evh->val_off, evh->val_len, ev);
		set_event(hc, ev, evh->val_len);
		hc->app = (uint16_t)app;
		return 0;
	}
	for (uint32_t i = 0; cl != NULL && i < cl->n_routes; i++) {
		const struct sl_cl_route *r = &cl->routes[i];

		if (r->app < cl->n_apps && route_matches(hc, r, poff, plen)) {
			set_event(hc, (const uint8_t *)r->event, r->event_len);
			hc->app = r->app;
			return 0;
		}
	}
	/* /<app>/<event><rest> */
	n = min_u32(plen, sizeof(t));
	rx_copy(hc, poff, n, t);
	*why = "invalid url: expected /<app>/<event>";
	if (n < 4 || t[0] != '/')
		return 404;
	for (a = 1; a < n && t[a] != '/' && t[a] != '?'; a++)
		if (!name_char(t[a]))
			return 404;
	if (a == 1 || a >= n || t[a] != '/' || a - 1 >= SL_CL_NAME_MAX)
		return 404;
	for (e = a + 1; e < n && t[e] != '/' && t[e] != '?'; e++)
		;
	if (e == a + 1 || e - a - 1 >= SL_CL_NAME_MAX)
		return 404;
	app = sl_cluster_app(cl, t + 1, a - 1);
	if (app < 0) {
		*why = "no such application";
		return 503;
	}
	set_event(hc, t + a + 1, e - a - 1);
	hc->app = (uint16_t)app;
	hc->uri_off = poff + e;
	hc->uri_len = plen - e;
	hc->uri_slash = e >= plen || t[e] == '?'; /* "/app/ev?x" -> "/?x", "/app/ev" -> "/" */
	return 0;
}

/* A msgpack header: an array of n elements, or an old-spec raw of n bytes. */
static void
ob_mp_hdr(struct sl_obuf *ob, bool array, uint32_t n)
{
	uint8_t b[8];
	struct sl_mp_w w;

	sl_mp_w_init(&w, b, sizeof(b));
	if (array)
		sl_mp_w_array(&w, n);
	else
		sl_mp_w_raw_hdr(&w, n);
	sl_ob_put(ob, w.p, w.len);
}

static void
ob_mp_hdr_raw(struct sl_obuf *ob, uint32_t n)
{
	ob_mp_hdr(ob, false, n);
}

static void
ob_mp_array(struct sl_obuf *ob, uint32_t n)
{
	ob_mp_hdr(ob, true, n);
}

static void
ob_mp_span(struct sl_obuf *ob, const struct sl_http_conn *hc, uint32_t off, uint32_t len)
{
	ob_mp_hdr_raw(ob, len);
	ob_span(ob, hc, off, len);
}

static void
ob_mp_str(struct sl_obuf *ob, const char *s, uint32_t len)
{
	ob_mp_hdr_raw(ob, len);
	sl_ob_put(ob, s, len);
}

/* [method, uri, version, [[name, value]...], and the body the backend adds: the request
 * as the Cocaine proxies pack it (cocaine-protocol.md 8.2), with the forwarded fields. */
static void
pack_head(struct sl_http_conn *hc)
{
	const struct sl_http1_parser *p = &hc->p;
	bool absolute = p->req.form == SL_HTTP1_F_ABSOLUTE;
	struct sl_obuf *ob = &hc->q_head;
	char ip[SL_IP4_STRLEN];
	uint32_t nh = 2, xff = 0;

	sl_ip4_str(hc->c->tuple.raddr, ip);
	for (int i = 0; i < p->n_hdrs; i++) {
		const struct sl_http1_hdr *h = &p->hdrs[i];

		if (fwd_keep(hc, i) && !(absolute && h->id == SL_HTTP1_H_HOST))
			nh++;
		if (h->id == SL_HTTP1_H_X_FORWARDED_FOR && !(h->flags & SL_HTTP1_HF_TRAILER) &&
		    h->val_len > 0)
			xff += h->val_len + 2;
	}
	nh += absolute;
	sl_ob_init(ob, hc->srv->st);
	ob_mp_array(ob, 5);
	ob_mp_span(ob, hc, p->req.method.off, p->req.method.len);
	ob_mp_hdr_raw(ob, hc->uri_len + hc->uri_slash);
	if (hc->uri_slash)
		sl_ob_put(ob, "/", 1);
	ob_span(ob, hc, hc->uri_off, hc->uri_len);
	ob_mp_str(ob, p->req.minor ? "1.1" : "1.0", 3);
	ob_mp_array(ob, nh);
	if (absolute) {
		uint32_t a, b;

		target_authority(hc, &a, &b);
		ob_mp_array(ob, 2);
		ob_mp_str(ob, "Host", 4);
		ob_mp_span(ob, hc, p->req.target.off + a, b - a);
	}
	for (int i = 0; i < p->n_hdrs; i++) {
		const struct sl_http1_hdr *h = &p->hdrs[i];

		if (!fwd_keep(hc, i) || (absolute && h->id == SL_HTTP1_H_HOST))
			continue;
		ob_mp_array(ob, 2);
		ob_mp_span(ob, hc, h->name_off, h->name_len);
		ob_mp_span(ob, hc, h->val_off, h->val_len);
	}
	ob_mp_array(ob, 2);
	ob_mp_str(ob, "X-Forwarded-For", 15);
	ob_mp_hdr_raw(ob, xff + (uint32_t)strlen(ip));
	for (int i = 0; i < p->n_hdrs; i++) {
		const struct sl_http1_hdr *h = &p->hdrs[i];

		if (h->id != SL_HTTP1_H_X_FORWARDED_FOR || (h->flags & SL_HTTP1_HF_TRAILER) ||
		    h->val_len == 0)
			continue;
		ob_span(ob, hc, h->val_off, h->val_len);
		sl_ob_put(ob, ", ", 2);
	}
	sl_ob_str(ob, ip);
	ob_mp_array(ob, 2);
	ob_mp_str(ob, "X-Request-Id", 12);
	ob_mp_str(ob, hc->reqid, hc->reqid_len);
}

/* X-Request-Timeout: milliseconds, 1..(the app's deadline). @return 0, or -EINVAL. */
static int
request_timeout(const struct sl_http_conn *hc, uint32_t *ms)
{
	const struct sl_http1_hdr *h = field(hc, SL_HTTP1_H_X_REQUEST_TIMEOUT);
	uint8_t v[16];
	uint64_t x = 0;

	if (h == NULL)
		return 0;
	if (h->val_len == 0 || h->val_len > 10)
		return -EINVAL;
	rx_copy(hc, h->val_off, h->val_len, v);
	for (uint32_t i = 0; i < h->val_len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		x = x * 10 + (v[i] - '0');
	}
	if (x == 0)
		return -EINVAL;
	if (x < *ms)
		*ms = (uint32_t)x;
	return 0;
}

/* The trace id a request id maps to: its first 16 hex digits, else a hash of it. */
static uint64_t
trace_of(const struct sl_http_conn *hc)
{
	uint64_t x = 0, h = 0xcbf29ce484222325ull;
	uint32_t i;

	for (i = 0; i < hc->reqid_len && i < 16; i++) {
		int c = lower((uint8_t)hc->reqid[i]);

		if (c >= '0' && c <= '9')
			x = x << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			x = x << 4 | (uint64_t)(c - 'a' + 10);
		else
			break;
	}
	if (i == 16 || (i == hc->reqid_len && i > 0))
		return x;
	for (i = 0; i < hc->reqid_len; i++)
		h = (h ^ (uint8_t)hc->reqid[i]) * 0x100000001b3ull;
	return h;
}

static struct sl_be_counters *
app_ctr(struct sl_http_conn *hc)
{
	return &sl_be_stats(hc->srv->be)->apps[hc->app];
}

static void
count_class(struct sl_be_counters *c, int status)
{
	if (status < 300)
		c->status_2xx++;
	else if (status < 400)
		c->status_3xx++;
	else if (status < 500)
		c->status_4xx++;
	else
		c->status_5xx++;
}

static void
dispatch_release(struct sl_http_conn *hc)
{
	if (hc->srv->be != NULL && (hc->ch.conn != NULL || hc->ch.heap_idx != UINT32_MAX))
		sl_be_cancel(hc->srv->be, &hc->ch);
	if (hc->q_head.st != NULL)
		sl_ob_free(&hc->q_head);
	if (hc->q_body.st != NULL)
		sl_ob_free(&hc->q_body);
	if (hc->r_first.st != NULL)
		sl_ob_free(&hc->r_first);
	hc->waiting = false;
	hc->be_paused = false;
	hc->rstate = RS_NONE;
}

/* The access log record and the counters of a finished dispatch. */
static void
dispatch_report(struct sl_http_conn *hc, int status)
{
	struct sl_http_server *srv = hc->srv;
	struct sl_be_stats *bs = sl_be_stats(srv->be);
	uint64_t now = sl_tcp_stack_now(srv->st);
	uint64_t lat = now - hc->t_start_us;
	struct sl_access_rec r = {0};

	if (hc->app != SL_CL_NONE) {
		count_class(&bs->apps[hc->app], status);
		bs->apps[hc->app].lat[sl_lat_bucket(lat)]++;
		bs->apps[hc->app].bytes_out += hc->r_bytes;
	}
	if (hc->node != SL_CL_NONE) {
		count_class(&bs->nodes[hc->node], status);
		bs->nodes[hc->node].lat[sl_lat_bucket(lat)]++;
	}
	if (srv->alog == NULL)
		return;
	r.mono_us = now;
	r.latency_us = lat > UINT32_MAX ? UINT32_MAX : (uint32_t)lat;
	r.client = hc->l_client;
	r.client_port = hc->l_cport;
	r.app = hc->app;
	r.node = hc->node;
	r.status = (uint16_t)status;
	r.retries = hc->attempts;
	r.worker = (uint8_t)srv->worker;
	r.bytes_in = hc->q_body.len;
	r.bytes_out = hc->r_bytes;
	r.event_len = hc->event_len;
	memcpy(r.event, hc->event, hc->event_len);
	r.reqid_len = (uint8_t)min_u32(hc->reqid_len, sizeof(r.reqid));
	memcpy(r.reqid, hc->reqid, r.reqid_len);
	r.method_len = hc->l_method_len;
	memcpy(r.method, hc->l_method, sizeof(r.method));
	r.uri_len = hc->l_uri_len;
	memcpy(r.uri, hc->l_uri, sizeof(r.uri));
	srv->alog(srv->alog_ctx, &r);
}

static void request_next(struct sl_http_conn *hc);
static bool process(struct sl_http_conn *hc);
static void maybe_finish(struct sl_http_conn *hc);

/* The dispatch is over (answered, or cut): on to the next request unless process() is
 * running already (it goes on by itself). */
static void
dispatch_end(struct sl_http_conn *hc, int status)
{
	dispatch_report(hc, status);
	dispatch_release(hc);
	request_next(hc);
	if (hc->in_process || hc->c == NULL) /* synchronous: process() goes on by itself */
		return;
	if (process(hc))
		maybe_finish(hc);
}

/* An answer of ours instead of the node's. */
static void
dispatch_fail(struct sl_http_conn *hc, int status, const char *why)
{
	struct sl_be_counters *c = app_ctr(hc);

	switch (status) {
	case 500:
		c->app_errors++;
		break;
	case 502:
		c->lost++;
		if (hc->node != SL_CL_NONE)
			sl_be_stats(hc->srv->be)->nodes[hc->node].lost++;
		break;
	case 503:
		c->unavailable++;
		break;
	case 504:
		c->timeouts++;
		if (hc->node != SL_CL_NONE)
			sl_be_stats(hc->srv->be)->nodes[hc->node].timeouts++;
		break;
	default:
		break;
	}
	hc->rstate = RS_NONE;
	if (!answer_text(hc, status, sl_http1_reason(status), why))
		return; /* the connection is gone (conn_put released everything) */
	conn_flush(hc);
	dispatch_end(hc, status);
}

/* The reply was cut after some of it went to the client: end the connection so that the
 * client sees an incomplete message (no last chunk, or fewer bytes than announced). */
static void
dispatch_truncate(struct sl_http_conn *hc)
{
	app_ctr(hc)->truncated++;
	if (hc->node != SL_CL_NONE)
		sl_be_stats(hc->srv->be)->nodes[hc->node].truncated++;
	hc->close_after = true;
	hc->route = R_DONE;
	dispatch_end(hc, hc->status);
}

/* Send the request to a node not tried yet. @return false when none took it (answered). */
static void
dispatch_attempt(struct sl_http_conn *hc, int fail_status, const char *fail_why)
{
	struct sl_http_server *srv = hc->srv;
	const struct sl_cluster *cl = view_of(srv);
	uint8_t trace[8], span[8], parent[8], tmo[8];
	uint64_t now = sl_tcp_stack_now(srv->st);
	uint64_t left_ms = hc->d_deadline_us > now ? (hc->d_deadline_us - now + 999) / 1000 : 1;
	struct sl_hdr hdrs[4];
	struct sl_be_req req = {
		.event = hc->event,
		.event_len = hc->event_len,
		.head = hc->q_head.head,
		.head_len = hc->q_head.len,
		.body = hc->q_body.head,
		.body_len = hc->q_body.len,
		.hdrs = hdrs,
		.nhdrs = 4,
		.deadline_us = hc->d_deadline_us,
	};

	sl_hdr_le64(trace, trace_of(hc));
	sl_hdr_le64(span, trace_of(hc));
	sl_hdr_le64(parent, 0);
	sl_hdr_le64(tmo, left_ms);
	hdrs[0] = sl_hdr_make("trace_id", trace, 8);
	hdrs[1] = sl_hdr_make("span_id", span, 8);
	hdrs[2] = sl_hdr_make("parent_id", parent, 8);
	hdrs[3] = sl_hdr_make("request_timeout", tmo, 8);
	for (;;) {
		int node = sl_be_pick(srv->be, hc->app, &hc->tried);
		int r;

		if (node < 0) {
			char why[160];

			if (fail_why == NULL)
				snprintf(why, sizeof(why), "no node serves application %s",
					 cl->apps[hc->app].name);
			dispatch_fail(hc, fail_status, fail_why != NULL ? fail_why : why);
			return;
		}
		hc->tried |= 1ull << (node & 63);
		r = sl_be_send(srv->be, &hc->ch, hc->app, (uint16_t)node, &req);
		if (r == 0) {
			hc->node = (uint16_t)node;
			sl_be_stats(srv->be)->nodes[node].requests++;
			return;
		}
		if (r == -EMSGSIZE) {
			dispatch_fail(hc, 413, "request too large to pack");
			return;
		}
		if (r == -ENOMEM) {
			hc->srv->stats.out_of_buffers++;
			dispatch_fail(hc, 503, "out of buffers for the request");
			return;
		}
		fail_status = 503;
		fail_why = "no connection to any node of the application";
	}
}

/* The request is complete: pick a node and send it. */
static void
dispatch_start(struct sl_http_conn *hc)
{
	struct sl_http_server *srv = hc->srv;
	uint32_t ms = hc->d_ms;

	srv->stats.dispatched++;
	app_ctr(hc)->requests++;
	app_ctr(hc)->bytes_in += hc->q_body.len;
	hc->d_deadline_us = sl_tcp_stack_now(srv->st) + (uint64_t)ms * 1000;
	hc->waiting = true;
	hc->rstate = RS_WAIT;
	hc->tried = 0;
	hc->attempts = 0;
	hc->node = SL_CL_NONE;
	hc->r_bytes = 0;
	hc->ch.user = hc;
	hc->ch.heap_idx = UINT32_MAX;
	dispatch_attempt(hc, 503, NULL);
}

/* A failure before anything of the reply reached the client: retry when it is safe and
 * allowed, else answer with `status`. */
static void
dispatch_retry_or_fail(struct sl_http_conn *hc, bool safe, int status, const char *why)
{
	const struct sl_cluster *cl = view_of(hc->srv);

	if (safe && hc->rstate == RS_WAIT && hc->attempts < cl->apps[hc->app].retries) {
		hc->attempts++;
		app_ctr(hc)->retries++;
		if (hc->node != SL_CL_NONE)
			sl_be_stats(hc->srv->be)->nodes[hc->node].retries++;
		dispatch_attempt(hc, status, why);
		return;
	}
	dispatch_fail(hc, status, why);
}

/* A reply field's name is a token and its value field-vchars (RFC 9110 5.1, 5.5): the
 * request parser's classes. */
static bool
is_token(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!IS_TCHAR(p[i]))
			return false;
	return n > 0;
}

static bool
is_value(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!IS_VAL(p[i]))
			return false;
	return true;
}

static bool
name_is(const uint8_t *p, uint32_t n, const char *s)
{
	size_t k = strlen(s);

	if (n != k)
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (lower(p[i]) != s[i])
			return false;
	return true;
}

/* Reply fields that are ours to set, or hop-by-hop (RFC 9110 7.6.1). */
static bool
reply_field_dropped(const uint8_t *p, uint32_t n)
{
	static const char *const drop[] = {
		"connection",	     "keep-alive",   "proxy-connection", "te", "trailer", "upgrade",
		"transfer-encoding", "x-request-id", "x-sluice-node",
	};

	for (size_t i = 0; i < SL_ARRAY_SIZE(drop); i++)
		if (name_is(p, n, drop[i]))
			return true;
	return false;
}

/* The first chunk [code, [[name, value]...]] is in r_first: the client's answer head.
 * @return 0; < 0 with *why when the chunk is not a valid reply head. */
static int
reply_head(struct sl_http_conn *hc, const char **why)
{
	struct sl_http_server *srv = hc->srv;
	const struct sl_cluster *cl = view_of(srv);
	struct sl_seg segs[FIRST_CHUNK_MAX / 512 + 2];
	uint32_t nseg = 0, n, nh;
	struct sl_mp_cur cur;
	struct sl_obuf ob;
	uint64_t code, clen = 0;
	bool have_len = false;
	uint8_t name[256], val[8192];

	for (const struct sl_tcp_seg *s = hc->r_first.head; s != NULL; s = s->next) {
		if (nseg == SL_ARRAY_SIZE(segs))
			return *why = "reply head in too many pieces", -EMSGSIZE;
		segs[nseg++] = (struct sl_seg){.p = s->data, .len = s->len};
	}
	*why = "the first reply chunk is not [code, [[name, value]...]]";
	if (sl_mp_cur_init(&cur, segs, nseg, 0, hc->r_first.len) != 0 ||
	    sl_mp_read_array(&cur, &n) != 0 || n < 2 || sl_mp_read_uint(&cur, &code) != 0 ||
	    sl_mp_read_array(&cur, &nh) != 0)
		return -EBADMSG;
	if (code < 200 || code > 599) {
		*why = "the reply's status code is not 200..599";
		return -EBADMSG;
	}
	hc->status = (uint16_t)code;
	hc->r_nobody = hc->p.req.method_id == SL_HTTP1_M_HEAD || code == 204 || code == 304;
	hc->r_eof_empty = false;
	sl_ob_init(&ob, srv->st);
	sl_ob_fmt(&ob, "HTTP/1.1 %u %s\r\n", (unsigned int)code, sl_http1_reason((int)code));
	for (uint32_t i = 0; i < nh; i++) {
		struct sl_mp_raw rn, rv;
		uint32_t k;

		if (sl_mp_read_array(&cur, &k) != 0 || k != 2 || sl_mp_read_raw(&cur, &rn) != 0 ||
		    sl_mp_read_raw(&cur, &rv) != 0 || rn.len > sizeof(name) ||
		    rv.len > sizeof(val)) {
			sl_ob_free(&ob);
			return -EBADMSG;
		}
		sl_mp_raw_copy(&rn, name, sizeof(name));
		sl_mp_raw_copy(&rv, val, sizeof(val));
		if (!is_token(name, rn.len) || !is_value(val, rv.len)) {
			sl_ob_free(&ob);
			*why = "a reply field is not a valid HTTP field";
			return -EBADMSG;
		}
		if (name_is(name, rn.len, "content-length")) {
			uint64_t x = 0;

			if (rv.len == 0 || rv.len > 15)
				goto bad_len;
			for (uint32_t j = 0; j < rv.len; j++) {
				if (val[j] < '0' || val[j] > '9')
					goto bad_len;
				x = x * 10 + (val[j] - '0');
			}
			if (have_len && x != clen)
				goto bad_len;
			if (have_len)
				continue;
			have_len = true;
			clen = x;
			continue;
		}
		if (name_is(name, rn.len, "x-cocaine-http-proto-version")) {
			hc->r_eof_empty = rv.len == 3 && memcmp(val, "1.1", 3) == 0;
			continue;
		}
		if (reply_field_dropped(name, rn.len))
			continue;
		sl_ob_put(&ob, name, rn.len);
		sl_ob_put(&ob, ": ", 2);
		sl_ob_put(&ob, val, rv.len);
		sl_ob_put(&ob, "\r\n", 2);
	}
	hc->r_len = have_len;
	hc->r_left = clen;
	hc->r_chunked = false;
	if (have_len) {
		if (code != 204 && code != 304)
			sl_ob_fmt(&ob, "Content-Length: %llu\r\n", (unsigned long long)clen);
		if (code == 204 || code == 304 || hc->p.req.method_id == SL_HTTP1_M_HEAD)
			hc->r_left = 0;
	} else if (!hc->r_nobody) {
		if (hc->p.req.minor == 1) {
			sl_ob_str(&ob, "Transfer-Encoding: chunked\r\n");
			hc->r_chunked = true;
		} else {
			hc->close_after = true; /* the end of the body is the close */
		}
	}
	sl_ob_str(&ob, "X-Request-Id: ");
	sl_ob_put(&ob, hc->reqid, hc->reqid_len);
	sl_ob_str(&ob, "\r\n");
	if (cl != NULL && cl->node_header && hc->node < cl->n_nodes)
		sl_ob_fmt(&ob, "X-Sluice-Node: %s\r\n", cl->nodes[hc->node].name);
	if (hc->close_after)
		sl_ob_str(&ob, "Connection: close\r\n");
	else if (hc->p.req.minor == 0)
		sl_ob_str(&ob, "Connection: keep-alive\r\n");
	sl_ob_str(&ob, "\r\n");
	count_status(srv, (int)code);
	hc->route = R_DONE;
	if (!conn_send(hc, &ob))
		return -ECONNRESET;
	return 0;
bad_len:
	sl_ob_free(&ob);
	*why = "the reply's Content-Length is invalid";
	return -EBADMSG;
}

/* Body bytes of the reply to the client. @return false when the connection is gone. */
static bool
reply_put(struct sl_http_conn *hc, const void *p, uint32_t n)
{
	struct sl_obuf ob;

	if (n == 0)
		return true;
	sl_ob_init(&ob, hc->srv->st);
	sl_ob_put(&ob, p, n);
	return conn_send(hc, &ob);
}

/* The node closed the channel after a complete reply. */
static void
reply_end(struct sl_http_conn *hc)
{
	if (hc->r_len && hc->r_left > 0) {
		dispatch_truncate(hc); /* fewer bytes than announced */
		return;
	}
	if (hc->r_chunked && !reply_put(hc, "0\r\n\r\n", 5))
		return;
	sl_be_stats(hc->srv->be)->apps[hc->app].responses++;
	if (hc->node != SL_CL_NONE)
		sl_be_stats(hc->srv->be)->nodes[hc->node].responses++;
	conn_flush(hc);
	dispatch_end(hc, hc->status);
}

static void
reply_error(struct sl_http_conn *hc, const struct sl_be_ev *ev)
{
	struct sl_be_stats *bs = sl_be_stats(hc->srv->be);
	char why[200];
	int n = (int)min_u32(ev->len, 120);

	if (sl_err_is_queue_full(&ev->err)) {
		bs->apps[hc->app].queue_full++;
		bs->nodes[hc->node].queue_full++;
	} else if (sl_err_is_app_restarted(&ev->err)) {
		bs->apps[hc->app].restarted++;
		bs->nodes[hc->node].restarted++;
	}
	if (hc->rstate == RS_BODY) {
		dispatch_truncate(hc);
		return;
	}
	snprintf(why, sizeof(why), "application %s error [%lld, %lld]: %.*s",
		 view_of(hc->srv)->apps[hc->app].name, (long long)ev->err.cat,
		 (long long)ev->err.code, n, ev->p != NULL ? (const char *)ev->p : "");
	if (sl_err_is_unavailable(&ev->err)) {
		dispatch_retry_or_fail(hc, true, 503, why);
		return;
	}
	dispatch_retry_or_fail(
		hc, sl_err_is_queue_full(&ev->err) || sl_err_is_app_restarted(&ev->err), 500, why);
}

int
sl_http_be_event(void *user, struct sl_be_chan *ch, const struct sl_be_ev *ev)
{
	struct sl_http_conn *hc = user;
	const char *why = NULL;

	(void)ch;
	if (hc == NULL || !hc->waiting)
		return 0;
	switch (ev->type) {
	case SL_BE_EV_CHUNK:
		if (hc->rstate == RS_WAIT) {
			if (ev->len > FIRST_CHUNK_MAX) {
				sl_be_cancel(hc->srv->be, &hc->ch);
				dispatch_fail(hc, 502, "the reply head is larger than 64 KiB");
				return 0;
			}
			hc->rstate = RS_FIRST;
			sl_ob_init(&hc->r_first, hc->srv->st);
			/* the request is the node's now: no retry, its copy can go */
			sl_ob_free(&hc->q_head);
			{
				uint32_t blen = hc->q_body.len; /* kept for the log */

				sl_ob_free(&hc->q_body);
				hc->q_body.len = blen;
			}
			return 0;
		}
		if (hc->rstate == RS_BODY) {
			if (ev->len == 0 && hc->r_eof_empty) { /* an empty chunk ends the body */
				sl_be_cancel(hc->srv->be, &hc->ch);
				reply_end(hc);
				return 0;
			}
			if (hc->r_chunked && ev->len > 0 && !hc->r_nobody) {
				char hx[16];
				int k = snprintf(hx, sizeof(hx), "%x\r\n", ev->len);

				reply_put(hc, hx, (uint32_t)k);
			}
		}
		return 0;
	case SL_BE_EV_DATA:
		if (hc->rstate == RS_FIRST) {
			sl_ob_put(&hc->r_first, ev->p, ev->len);
			return 0;
		}
		hc->r_bytes += ev->len;
		sl_be_stats(hc->srv->be)->nodes[hc->node].bytes_out += ev->len;
		if (!hc->r_nobody) {
			uint32_t k = ev->len;

			if (hc->r_len)
				k = (uint32_t)(hc->r_left < k ? hc->r_left : k), hc->r_left -= k;
			if (!reply_put(hc, ev->p, k))
				return 0;
			conn_flush(hc);
		}
		if (hc->c != NULL && hc->blocked && hc->out_len > PAUSE_BYTES) {
			hc->be_paused = true;
			return 1;
		}
		return 0;
	case SL_BE_EV_CHUNK_END:
		if (hc->rstate == RS_FIRST) {
			if (hc->r_first.fail) {
				sl_be_cancel(hc->srv->be, &hc->ch);
				dispatch_fail(hc, 502, "out of buffers for the reply head");
				return 0;
			}
			if (reply_head(hc, &why) != 0) {
				if (hc->c == NULL)
					return 0;
				sl_be_cancel(hc->srv->be, &hc->ch);
				dispatch_fail(hc, 502, why);
				return 0;
			}
			sl_ob_free(&hc->r_first);
			hc->rstate = RS_BODY;
			conn_flush(hc);
		} else if (hc->rstate == RS_BODY && hc->r_chunked && !hc->r_nobody) {
			reply_put(hc, "\r\n", 2);
		}
		return 0;
	case SL_BE_EV_CLOSE:
		if (hc->rstate == RS_BODY)
			reply_end(hc);
		else
			dispatch_fail(hc, 502,
				      "the application closed the channel without a reply");
		return 0;
	case SL_BE_EV_ERROR:
		reply_error(hc, ev);
		return 0;
	case SL_BE_EV_LOST:
		if (hc->rstate == RS_BODY) {
			dispatch_truncate(hc);
			return 0;
		}
		if (ev->never_connected)
			dispatch_retry_or_fail(hc, true, 503, "cannot connect to the node");
		else
			dispatch_retry_or_fail(hc, ev->unsent, 502,
					       "the node was lost before it replied");
		return 0;
	case SL_BE_EV_TIMEOUT: {
		char msg[96];

		if (hc->rstate == RS_BODY) {
			dispatch_truncate(hc);
			return 0;
		}
		snprintf(msg, sizeof(msg), "no reply within the deadline (%u ms)", hc->d_ms);
		dispatch_fail(hc, 504, msg);
		return 0;
	}
	}
	return 0;
}

void
sl_http_server_backend(struct sl_http_server *srv, struct sl_be *be,
		       void (*alog)(void *ctx, const struct sl_access_rec *r), void *ctx)
{
	srv->be = be;
	srv->alog = alog;
	srv->alog_ctx = ctx;
}

/* The head is complete: choose what answers it. @return false when the connection is gone. */
static bool
on_head(struct sl_http_conn *hc)
{
	struct sl_http_server *srv = hc->srv;
	const struct sl_http1_req *r = &hc->p.req;
	bool has_body = r->body != SL_HTTP1_B_NONE;
	bool mirror = srv->conf.mirror && path_is(hc, "/-/mirror");
	bool health = srv->conf.health && path_is(hc, "/-/health");
	bool reads_body = mirror; /* the answer needs the body: 100-continue applies */
	const char *why = NULL;
	int st = 0;

	srv->stats.requests++;
	srv->stats.inflight++;
	hc->inflight = true;
	hc->have_head = true;
	hc->t_start_us = sl_tcp_stack_now(srv->st);
	reqid_make(hc);
	if (!(r->flags & SL_HTTP1_R_KEEP_ALIVE) || srv->draining)
		hc->close_after = true;
	if (!mirror && !health) {
		/* what the access log needs of the head (its bytes are released later) */
		hc->app = hc->node = SL_CL_NONE;
		hc->event_len = 0;
		hc->attempts = 0;
		hc->r_bytes = 0;
		hc->l_client = hc->c->tuple.raddr;
		hc->l_cport = hc->c->tuple.rport;
		hc->l_method_len = (uint8_t)min_u32(r->method.len, sizeof(hc->l_method));
		rx_copy(hc, r->method.off, hc->l_method_len, (uint8_t *)hc->l_method);
		hc->l_uri_len = (uint8_t)min_u32(r->target.len, sizeof(hc->l_uri));
		rx_copy(hc, r->target.off, hc->l_uri_len, (uint8_t *)hc->l_uri);
		if (srv->be == NULL || view_of(srv) == NULL) {
			st = 503;
			why = "no route for this request";
		} else {
			st = route_request(hc, &why);
		}
		reads_body = st == 0;
	}
	/* A client waiting for 100-continue sends no body after a final answer: only the
	 * answers that read it (after their 100) keep the connection, every other closes. */
	if (!reads_body && has_body && (r->flags & SL_HTTP1_R_EXPECT_CONTINUE))
		hc->close_after = true;
	if (health) {
		srv->stats.health++;
		if (r->method_id != SL_HTTP1_M_GET && r->method_id != SL_HTTP1_M_HEAD)
			return answer_text(hc, 405, "Method Not Allowed", "/-/health takes GET");
		if (srv->draining)
			return answer_text(hc, 503, "Service Unavailable", "draining");
		return answer_text(hc, 200, "OK", NULL);
	}
	if (mirror) {
		mirror_begin(hc);
	} else if (st != 0) {
		if (st == 404)
			srv->stats.not_found++;
		else
			srv->stats.no_route++;
		if (srv->be != NULL) { /* logged: the request was for an app, or meant to be */
			if (hc->app != SL_CL_NONE && st == 503)
				app_ctr(hc)->unavailable++;
			hc->q_body.len = 0;
			dispatch_report(hc, st);
		}
		return answer_text(hc, st, sl_http1_reason(st), why);
	} else {
		const struct sl_cluster *cl = view_of(srv);

		hc->d_ms = cl->apps[hc->app].deadline_ms ? cl->apps[hc->app].deadline_ms : 30000;
		if (request_timeout(hc, &hc->d_ms) != 0) {
			hc->close_after = true;
			srv->stats.bad_request++;
			return answer_text(hc, 400, "Bad Request",
					   "X-Request-Timeout takes 1 or more milliseconds");
		}
		hc->route = R_DISPATCH;
		pack_head(hc);
		sl_ob_init(&hc->q_body, srv->st);
		if (hc->q_head.fail) {
			srv->stats.out_of_buffers++;
			sl_ob_free(&hc->q_head);
			hc->route = R_NONE;
			return answer_text(hc, 503, "Service Unavailable", "out of buffers");
		}
	}
	if (has_body && (r->flags & SL_HTTP1_R_EXPECT_CONTINUE) && r->minor == 1) {
		struct sl_obuf ob;

		sl_ob_init(&ob, srv->st);
		sl_ob_str(&ob, "HTTP/1.1 100 Continue\r\n\r\n");
		srv->stats.continues++;
		return conn_send(hc, &ob);
	}
	return true;
}

/* ---- the connection's story ---- */

/* After a request ended: the next one, or the close. @return false when gone. */
static bool
request_done(struct sl_http_conn *hc)
{
	if (hc->route == R_MIRROR && !mirror_end(hc))
		return false;
	if (hc->route == R_DISPATCH) {
		if (hc->q_body.fail) {
			uint32_t blen = hc->q_body.len;

			hc->node = SL_CL_NONE;
			hc->waiting = true;
			hc->srv->stats.out_of_buffers++;
			sl_ob_free(&hc->q_body);
			hc->q_body.len = blen;
			dispatch_fail(hc, 503, "out of buffers for the request body");
		} else {
			dispatch_start(hc); /* the rest waits for the reply (dispatch_end) */
		}
		return hc->c != NULL;
	}
	request_next(hc);
	return true;
}

/* The current request is over and answered: the next one, or the close. */
static void
request_next(struct sl_http_conn *hc)
{
	hc->route = R_NONE;
	if (hc->inflight) {
		hc->srv->stats.inflight--;
		hc->inflight = false;
	}
	if (hc->close_after) {
		rx_release(hc, hc->fed_abs);
		begin_linger(hc);
		return;
	}
	hc->msg_base = hc->fed_abs;
	hc->reqid_len = 0;
	hc->have_head = false;
	sl_http1_reset(&hc->p);
}

/* The timer that fits where the connection is. */
static void
rearm(struct sl_http_conn *hc, bool body_progress, bool req_done)
{
	const struct sl_http_conf *cf = &hc->srv->conf;

	if (hc->lingering)
		return;
	if (hc->waiting && !hc->blocked) { /* the deadline bounds it */
		t_disarm(hc);
		return;
	}
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
	hc->in_process = true;
	while (!hc->blocked && !hc->lingering && !hc->waiting) {
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
				hc->in_process = false;
				return true;
			}
			break;
		case SL_HTTP1_BODY: {
			const uint8_t *b = in + (body.off - (hc->fed_abs - used - hc->msg_base));

			progress = true;
			srv->stats.body_bytes += body.len;
			if (hc->route == R_MIRROR)
				mirror_body(hc, b, body.len);
			else if (hc->route == R_DISPATCH)
				sl_ob_put(&hc->q_body, b, body.len);
			break;
		}
		case SL_HTTP1_DONE:
			req_done = true;
			if (!request_done(hc))
				return false;
			break;
		default:
			if (hc->route == R_DISPATCH) {
				dispatch_release(hc);
				hc->route = R_NONE;
			}
			hc->in_process = false;
			fail_request(hc, hc->p.status, hc->p.error);
			return hc->c != NULL;
		}
		if (!hc->lingering)
			rx_release(hc, hc->msg_base + sl_http1_keep_from(&hc->p));
	}
out:
	hc->in_process = false;
	conn_flush(hc);
	rearm(hc, progress, req_done);
	return true;
}

/* Nothing more will come: end the connection once what can be answered is answered. */
static void
maybe_finish(struct sl_http_conn *hc)
{
	struct sl_tcp_stack *st = hc->srv->st;

	if (!hc->peer_closed || hc->out != NULL || hc->waiting)
		return; /* answers still to go: `writable` or the reply comes back here */
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
	if (hc->be_paused && !hc->blocked) {
		hc->be_paused = false;
		sl_be_resume(hc->srv->be, &hc->ch);
		if (hc->c == NULL || sl_tcp_user(c) != hc)
			return;
	}
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
	if (!hc->lingering && hc->out == NULL && !sl_http1_idle(&hc->p) && !hc->waiting) {
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

void
sl_http_server_close_idle(struct sl_http_server *srv)
{
	/* idle keep-alive connections close now; the others after their current answer */
	for (uint32_t i = 0; i < srv->n_used; i++) {
		struct sl_http_conn *hc = &srv->slab[i];

		if (hc->c == NULL || hc->lingering)
			continue;
		hc->close_after = true;
		if (hc->timer == T_IDLE && !hc->waiting && !hc->blocked && hc->out == NULL &&
		    sl_http1_idle(&hc->p) && hc->rx == NULL) {
			srv->stats.idle_closed++;
			sl_tcp_close(hc->c, sl_tcp_stack_now(srv->st));
			conn_put(hc);
		}
	}
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
