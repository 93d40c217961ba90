/*
 * Requests: an enqueue from a client channel carried to a worker channel (4.2, 5.3).
 *
 * Client -> worker: enqueue [event] becomes invoke [event] with the client's headers, and
 * write/error/close follow as they are; while the request waits in the queue they are kept
 * as encoded records (bounded by limits.request_buffer_bytes). Worker -> client: write,
 * error and close are forwarded as they are. Each direction follows its graph in the
 * protocol library's state machine on both connections, so neither side can send what the
 * other may not receive.
 *
 * Entry points (req_enqueue, req_client_msg, req_client_gone, req_worker_msg,
 * req_worker_gone, req_fail) end with req_maybe_free(); the helpers they share do not free.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "sl_log.h"

#define REQ_LOG(l, ...) SL_LOG(l, "req", __VA_ARGS__)
#define REQ_REC_HEAD 5	  /* record: type (1), length (4) */
#define REQ_FRAME_HEAD 24 /* [ch, type, of a forwarded record */

/* Append a record of `n` bytes; returns where to write them, or NULL past the limit. */
static uint8_t *
req_pend_room(struct req *r, uint8_t type, uint32_t n)
{
	size_t lim = r->app->node->cfg.request_buffer_bytes;
	size_t need = (size_t)r->pend_len + REQ_REC_HEAD + n;
	uint8_t *p;

	if (need > lim + REQ_REC_HEAD + 64)
		return NULL;
	if (need > r->pend_cap) {
		size_t cap = r->pend_cap > 0 ? r->pend_cap : 256;

		while (cap < need)
			cap *= 2;
		p = realloc(r->pend, cap);
		if (p == NULL)
			return NULL;
		r->pend = p;
		r->pend_cap = (uint32_t)cap;
	}
	p = r->pend + r->pend_len;
	p[0] = type;
	return p + REQ_REC_HEAD;
}

/* Close a record begun by req_pend_room() with the bytes actually written. */
static void
req_pend_commit(struct req *r, uint32_t n)
{
	uint8_t *p = r->pend + r->pend_len;

	p[1] = (uint8_t)n;
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)(n >> 16);
	p[4] = (uint8_t)(n >> 24);
	r->pend_len += REQ_REC_HEAD + n;
}

static int
req_pend_invoke(struct req *r, const struct sl_mp_raw *event, const struct sl_hdrs *h)
{
	uint32_t bound = event->len + 16 + (uint32_t)fwd_hdrs_bound(h);
	struct sl_mp_raw ev = *event;
	struct sl_mp_w w;
	uint8_t *p = req_pend_room(r, SL_RPC_INVOKE, bound);
	const uint8_t *piece;
	uint32_t n;

	if (p == NULL)
		return -ENOBUFS;
	sl_mp_w_init(&w, p, bound);
	sl_mp_w_array(&w, 1);
	sl_mp_w_raw_hdr(&w, ev.len);
	if (ev.p != NULL)
		sl_mp_w_bytes(&w, ev.p, ev.len);
	else
		while (sl_mp_raw_piece(&ev, &piece, &n))
			sl_mp_w_bytes(&w, piece, n);
	sl_frame_enc_headers(&w, h->h, (int)h->n);
	if (w.err < 0)
		return w.err;
	req_pend_commit(r, w.len);
	return 0;
}

static int
req_pend_frame(struct req *r, const struct sl_frame *f, const struct sl_hdrs *h)
{
	uint32_t bound = (uint32_t)(fwd_args_bound(f) + fwd_hdrs_bound(h));
	uint8_t *p = req_pend_room(r, (uint8_t)f->type, bound);
	struct sl_mp_w w;

	if (p == NULL)
		return -ENOBUFS;
	sl_mp_w_init(&w, p, bound);
	fwd_args(&w, f);
	sl_frame_enc_headers(&w, h->h, (int)h->n);
	if (w.err < 0)
		return w.err;
	req_pend_commit(r, w.len);
	return 0;
}

void
req_maybe_free(struct req *r)
{
	struct app *a = r->app;

	if (r->client != NULL || r->slave != NULL || (r->flags & REQ_QUEUED))
		return;
	NL_REMOVE(&a->reqs, r, llink);
	a->nreqs--;
	free(r->pend);
	free(r);
}

static void
req_unqueue(struct req *r)
{
	if (!(r->flags & REQ_QUEUED))
		return;
	NL_REMOVE(&r->app->queue, r, qlink);
	r->app->depth--;
	r->flags &= ~REQ_QUEUED;
}

/* The worker channel is gone (both directions finished): the worker's load drops. */
static void
req_worker_chan_closed(struct req *r)
{
	struct slave *s = r->slave;

	r->slave = NULL;
	if (s != NULL)
		slave_channel_done(s);
}

/* Send an error to the client on our behalf (no-op when its direction is finished). */
static void
req_error_client(struct req *r, int64_t cat, int64_t code, const char *msg)
{
	struct sl_chan_ev ev = {.closed = false};

	if (r->client == NULL)
		return;
	if (svc_send_error(r->client, r->cch, cat, code, msg, &ev) == 0)
		r->flags |= REQ_FAILED;
	if (ev.closed)
		r->client = NULL;
}

/* Send an error to the worker (the client went away, the request timed out). */
static void
req_error_worker(struct req *r, int64_t cat, int64_t code, const char *msg)
{
	struct sl_chan_ev ev = {.closed = false};

	if (r->slave == NULL || r->slave->conn == NULL)
		return;
	svc_send_error(r->slave->conn, r->wch, cat, code, msg, &ev);
	if (ev.closed)
		req_worker_chan_closed(r);
}

static void
req__fail(struct req *r, int64_t cat, int64_t code, const char *msg)
{
	if (!(r->flags & REQ_REPLIED) && !(r->flags & REQ_FAILED))
		r->app->st.failed++;
	req_unqueue(r);
	req_error_client(r, cat, code, msg);
	req_error_worker(r, cat, code, msg);
	r->flags |= REQ_FAILED;
}

void
req_fail(struct req *r, int64_t cat, int64_t code, const char *msg)
{
	req__fail(r, cat, code, msg);
	req_maybe_free(r);
}

int
req_assign(struct req *r, struct slave *s)
{
	struct conn *wc = s->conn;
	struct sl_chan_ev ev;
	uint32_t off = 0;
	int rc;

	rc = sl_sess_open(&wc->sess, SL_RPC_INVOKE, r, &ev);
	if (rc < 0)
		return rc;
	r->slave = s;
	r->wch = ev.id;
	s->load++;
	s->accepted++;
	while (off + REQ_REC_HEAD <= r->pend_len) {
		const uint8_t *rec = r->pend + off;
		uint32_t n = (uint32_t)rec[1] | (uint32_t)rec[2] << 8 | (uint32_t)rec[3] << 16 |
			     (uint32_t)rec[4] << 24;
		struct sl_mp_w w;

		/* the invoke was accounted by sl_sess_open(); the rest follow the graph */
		if (off > 0 && sl_sess_send(&wc->sess, r->wch, rec[0], &ev) < 0)
			break;
		rc = conn_out_begin(wc, (size_t)n + REQ_FRAME_HEAD, &w);
		if (rc < 0) {
			conn_fail(wc, rc);
			break;
		}
		sl_mp_w_array(&w, 4);
		sl_mp_w_uint(&w, r->wch);
		sl_mp_w_uint(&w, rec[0]);
		sl_mp_w_bytes(&w, rec + REQ_REC_HEAD, n);
		conn_out_end(wc, &w);
		off += REQ_REC_HEAD + n;
		if (ev.closed) {
			req_worker_chan_closed(r);
			break;
		}
	}
	free(r->pend);
	r->pend = NULL;
	r->pend_len = r->pend_cap = 0;
	return 0;
}

/* Whether the queue may take one more request (5.4 queue-limit, 5.5). */
static bool
req_queue_has_room(const struct app *a)
{
	uint32_t active, idle, load;
	uint64_t cap;

	if (a->prof.queue_limit > 0)
		return a->depth < a->prof.queue_limit;
	/* 0: reject when queue >= pool-limit x concurrency - in flight */
	pool_counts(a, &active, &idle, &load);
	cap = (uint64_t)a->prof.pool_limit * a->prof.concurrency;
	return cap > load && a->depth < cap - load;
}

int
req_enqueue(struct app *a, struct conn *c, uint64_t ch, const struct sl_mp_raw *event,
	    const struct sl_hdrs *h)
{
	struct slave *s = NULL;
	struct sl_chan *chan;
	struct req *r;

	if (a->state != APP_RUNNING) {
		a->st.rejected++;
		svc_send_error(c, ch, SL_ECAT_NODE, SL_ENODE_NOT_RUNNING, "the app is stopping",
			       NULL);
		return 0;
	}
	if (NL_EMPTY(&a->queue))
		s = pool_pick(a);
	if (s == NULL && !req_queue_has_room(a)) {
		/* 4.2: error [[0x52FF, 1], "queue is full"] */
		a->st.rejected++;
		svc_send_error(c, ch, SL_ECAT_OVERSEER, SL_EOVERSEER_QUEUE_IS_FULL, "queue is full",
			       NULL);
		return 0;
	}
	chan = sl_sess_find(&c->sess, ch);
	r = calloc(1, sizeof(*r));
	if (r == NULL || chan == NULL) {
		free(r);
		svc_send_error(c, ch, SL_ECAT_NODE, SL_ENODE_RESOURCE, "out of memory", NULL);
		return 0;
	}
	r->kind = CHAN_REQ;
	r->app = a;
	r->client = c;
	r->cch = ch;
	r->t0_us = a->node->loop.now_us;
	NL_INSERT_TAIL(&a->reqs, r, llink);
	a->nreqs++;
	if (req_pend_invoke(r, event, h) < 0) {
		r->client = NULL;
		req_maybe_free(r);
		svc_send_error(c, ch, SL_ECAT_NODE, SL_ENODE_RESOURCE,
			       "request over limits.request_buffer_bytes", NULL);
		return 0;
	}
	chan->user = r;
	a->st.accepted++;
	if (s != NULL && req_assign(r, s) == 0)
		return 0;
	NL_INSERT_TAIL(&a->queue, r, qlink);
	r->flags |= REQ_QUEUED;
	a->depth++;
	pool_rebalance(a);
	pool_pump(a);
	return 0;
}

void
req_client_msg(struct req *r, const struct sl_frame *f, const struct sl_hdrs *h,
	       const struct sl_chan_ev *ev)
{
	if (ev->rx_done)
		r->flags |= REQ_CLIENT_DONE;
	if (ev->closed)
		r->client = NULL; /* the library forgot the channel */
	if (r->slave != NULL) {
		struct sl_chan_ev wev = {.closed = false};

		if (r->slave->conn != NULL &&
		    svc_forward(r->slave->conn, r->wch, f, h, &wev) == 0 && wev.closed)
			req_worker_chan_closed(r);
	} else if (r->flags & REQ_QUEUED) {
		if (req_pend_frame(r, f, h) < 0)
			req__fail(r, SL_ECAT_NODE, SL_ENODE_RESOURCE,
				  "request body over limits.request_buffer_bytes while queued");
	}
	/* else: failed or its worker died; the rest of the client's stream is dropped */
	req_maybe_free(r);
}

void
req_client_gone(struct req *r)
{
	r->client = NULL;
	req_unqueue(r);
	/* the worker sees the client's stream aborted (1.5: discard with the socket error) */
	req_error_worker(r, SL_ECAT_GENERIC, ECONNRESET, "the client has disconnected");
	req_maybe_free(r);
}

void
req_worker_msg(struct req *r, const struct sl_frame *f, const struct sl_hdrs *h,
	       const struct sl_chan_ev *ev)
{
	if (ev->rx_done && !(r->flags & REQ_REPLIED)) {
		r->flags |= REQ_REPLIED;
		app_account_done(r->app, r, r->app->node->loop.now_us);
	}
	if (r->client != NULL) {
		struct sl_chan_ev cev = {.closed = false};

		/* -EPIPE: we already failed the client's side (timeout): dropped */
		if (svc_forward(r->client, r->cch, f, h, &cev) == 0 && cev.closed)
			r->client = NULL;
	}
	if (ev->closed)
		req_worker_chan_closed(r);
	req_maybe_free(r);
}

void
req_worker_gone(struct req *r, int64_t cat, int64_t code, const char *msg)
{
	r->slave = NULL;
	if (!(r->flags & REQ_REPLIED) && !(r->flags & REQ_FAILED))
		r->app->st.failed++;
	if (!(r->flags & REQ_REPLIED))
		req_error_client(r, cat, code, msg);
	r->flags |= REQ_FAILED;
	req_maybe_free(r);
}

void
req_abandon(struct req *r, const char *msg)
{
	req_unqueue(r);
	if (r->client != NULL) {
		struct sl_chan *ch;

		svc_send_error(r->client, r->cch, SL_ECAT_NODE, SL_ENODE_NOT_RUNNING, msg, NULL);
		ch = sl_sess_find(&r->client->sess, r->cch);
		if (ch != NULL)
			ch->user = NULL;
		r->client = NULL;
	}
	r->slave = NULL;
	req_maybe_free(r);
}
