/**
 * @file
 * Backend pools and Cocaine channels of one worker (be.h).
 *
 * Replies are decoded as a stream: a `write [raw]` frame is recognised from its first bytes
 * (array, channel, type 0, one-element args, raw header), its payload is handed on as TCP
 * delivered it, and only the elements after the payload (the header array) are gathered.
 * Every other frame is small and is gathered whole (at most SL_BE_SMALL_FRAME bytes) and
 * decoded by the native library. So a reply body of any size passes through a fixed buffer.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "native-err.h"
#include "native-frame.h"
#include "native-hpack.h"
#include "native-mp.h"
#include "tcp-buf.h"

#define CHAN_MASK (SL_BE_CHANS_PER_CONN - 1)
#define PREFIX_PROBE 48	     /* bytes gathered before a frame's kind is decided */
#define TICK_CONNECT_US 5000 /* connect timeouts are checked this often */

enum conn_state {
	BC_FREE = 0,
	BC_CONNECTING,
	BC_READY,
	BC_RETIRING, /* out of its pool: closes when its last channel ends */
};

enum dec_state {
	D_HEAD = 0, /* gathering a frame's first bytes (or all of a small frame) */
	D_PAYLOAD,  /* passing a write's payload on */
	D_TAIL,	    /* gathering the elements after a write's args */
};

struct sl_be_conn {
	struct sl_be *be;
	struct sl_tcp_conn *c;
	uint8_t state; /* enum conn_state */
	uint16_t node, app;
	uint64_t opened_us;
	/* to send: whole frames in order; tx_total counts every byte ever queued */
	struct sl_tcp_seg *txq, *txq_tail;
	uint32_t txq_len;
	bool blocked;
	uint64_t tx_total;
	/* channels */
	uint64_t next_id;
	uint32_t nchans;
	struct sl_be_chan *slots[SL_BE_CHANS_PER_CONN];
	/* received, not yet decoded */
	struct sl_tcp_seg *rx, *rx_tail;
	uint32_t rx_off;
	bool paused;
	bool in_feed;  /* conn_feed() is on the stack */
	bool peer_fin; /* the node sent FIN while received bytes waited (paused) */
	int dead_err;  /* a send failed: the connection fails on the next tick */
	/* decoder */
	uint8_t dstate;	 /* enum dec_state */
	uint32_t d_tail; /* elements after the args still to gather */
	bool d_hdrs;	 /* the next of them is the header array */
	bool d_have;	 /* be->hdrs holds the current write's headers */
	uint64_t d_left; /* payload bytes still to pass on */
	uint64_t d_id;	 /* channel of the current write */
	uint32_t flen;
	struct sl_frame_dec dec;
	uint8_t fbuf[SL_BE_SMALL_FRAME];
};

struct be_pool {
	struct sl_ip4 addr;
	uint16_t port;
	uint16_t n;
	uint32_t backoff_ms;
	uint64_t retry_at_us; /* no new connection before this, after a failure */
	struct sl_be_conn *conns[SL_BE_POOL_MAX];
};

struct sl_be {
	struct sl_tcp_stack *st;
	struct sl_be_conf conf;
	const struct sl_be_env_ops *ops;
	void *env;
	struct sl_be_stats *stats;
	sl_be_ev_fn ev;
	const struct sl_cluster *cl;
	uint64_t last_connect_check;
	struct sl_be_conn *conns; /* conf.max_conns */
	uint32_t *free_conns;	  /* indices into conns */
	uint32_t n_free;
	struct be_pool *pools; /* [node * SL_CL_MAX_APPS + app] */
	struct sl_be_chan **heap;
	uint32_t heap_n;
	uint32_t rr[SL_CL_MAX_APPS];
	uint64_t down_seq[SL_CL_MAX_NODES]; /* ok_seq of the node when marked down */
	struct sl_hdrs hdrs;		    /* scratch of decoded headers */
};

static inline uint64_t
now_of(const struct sl_be *be)
{
	return sl_tcp_stack_now(be->st);
}

/* ---- deadline heap ---- */

static void
heap_set(struct sl_be *be, uint32_t i, struct sl_be_chan *ch)
{
	be->heap[i] = ch;
	ch->heap_idx = i;
}

static void
heap_up(struct sl_be *be, uint32_t i)
{
	struct sl_be_chan *ch = be->heap[i];

	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (be->heap[p]->deadline_us <= ch->deadline_us)
			break;
		heap_set(be, i, be->heap[p]);
		i = p;
	}
	heap_set(be, i, ch);
}

static void
heap_down(struct sl_be *be, uint32_t i)
{
	struct sl_be_chan *ch = be->heap[i];

	for (;;) {
		uint32_t l = 2 * i + 1, m = i;
		uint64_t best = ch->deadline_us;

		if (l < be->heap_n && be->heap[l]->deadline_us < best)
			m = l, best = be->heap[l]->deadline_us;
		if (l + 1 < be->heap_n && be->heap[l + 1]->deadline_us < best)
			m = l + 1;
		if (m == i)
			break;
		heap_set(be, i, be->heap[m]);
		i = m;
	}
	heap_set(be, i, ch);
}

static void
heap_remove(struct sl_be *be, struct sl_be_chan *ch)
{
	uint32_t i = ch->heap_idx;
	struct sl_be_chan *last;

	if (i == UINT32_MAX || i >= be->heap_n || be->heap[i] != ch)
		return;
	ch->heap_idx = UINT32_MAX;
	last = be->heap[--be->heap_n];
	if (last == ch)
		return;
	heap_set(be, i, last);
	heap_up(be, i);
	heap_down(be, last->heap_idx);
}

void
sl_be_deadline(struct sl_be *be, struct sl_be_chan *ch, uint64_t deadline_us)
{
	heap_remove(be, ch);
	ch->deadline_us = deadline_us;
	if (deadline_us == 0 || be->heap_n >= be->conf.max_chans)
		return;
	be->heap[be->heap_n] = ch;
	ch->heap_idx = be->heap_n++;
	heap_up(be, ch->heap_idx);
}

/* ---- connections ---- */

static struct be_pool *
pool_of(struct sl_be *be, uint16_t node, uint16_t app)
{
	return &be->pools[(size_t)node * SL_CL_MAX_APPS + app];
}

static void
pool_drop(struct sl_be *be, struct sl_be_conn *bc)
{
	struct be_pool *p = pool_of(be, bc->node, bc->app);

	for (uint16_t i = 0; i < p->n; i++)
		if (p->conns[i] == bc) {
			p->conns[i] = p->conns[--p->n];
			return;
		}
}

static void
conn_release(struct sl_be *be, struct sl_be_conn *bc)
{
	if (bc->rx != NULL)
		sl_tcp_seg_free_chain(be->st, bc->rx);
	if (bc->txq != NULL)
		sl_tcp_seg_free_chain(be->st, bc->txq);
	bc->rx = bc->rx_tail = bc->txq = bc->txq_tail = NULL;
	if (bc->state != BC_FREE) {
		be->stats->node_state[bc->node].conns--;
		bc->state = BC_FREE;
		be->free_conns[be->n_free++] = (uint32_t)(bc - be->conns);
	}
}

/* Take a channel off its connection (before its last event). */
static void
chan_detach(struct sl_be *be, struct sl_be_chan *ch)
{
	struct sl_be_conn *bc = ch->conn;

	heap_remove(be, ch);
	if (bc == NULL)
		return;
	if (bc->slots[ch->id & CHAN_MASK] == ch) {
		bc->slots[ch->id & CHAN_MASK] = NULL;
		bc->nchans--;
		be->stats->node_state[bc->node].inflight--;
	}
	ch->conn = NULL;
}

static int
emit(struct sl_be *be, struct sl_be_chan *ch, const struct sl_be_ev *ev)
{
	return (ch->ev != NULL ? ch->ev : be->ev)(ch->user, ch, ev);
}

static void
mark_down(struct sl_be *be, uint16_t node)
{
	struct sl_be_node_state *ns = &be->stats->node_state[node];

	if (!ns->down) {
		ns->down = true;
		ns->passive_down++;
	}
	be->down_seq[node] =
		be->cl != NULL && node < be->cl->n_nodes ? be->cl->nodes[node].ok_seq : 0;
}

/* The connection failed (c is gone or is aborted here): every channel on it is lost. */
static void
conn_fail(struct sl_be *be, struct sl_be_conn *bc, int err, bool c_gone)
{
	struct be_pool *p = pool_of(be, bc->node, bc->app);
	bool never = bc->state == BC_CONNECTING;
	uint64_t acked = 0;
	struct sl_tcp_conn *c = bc->c;

	if (c != NULL && !never)
		acked = (uint64_t)(uint32_t)(c->snd_una.v - c->iss.v - 1);
	if (c != NULL) {
		sl_tcp_set_user(c, NULL);
		if (!c_gone)
			sl_tcp_abort(c, now_of(be));
	}
	bc->c = NULL;
	if (bc->state != BC_RETIRING)
		pool_drop(be, bc);
	if (never) {
		be->stats->node_state[bc->node].conn_failures++;
		p->backoff_ms = p->backoff_ms == 0 ? be->conf.backoff_min_ms
						   : (p->backoff_ms * 2 > be->conf.backoff_max_ms
							      ? be->conf.backoff_max_ms
							      : p->backoff_ms * 2);
		p->retry_at_us = now_of(be) + (uint64_t)p->backoff_ms * 1000;
		mark_down(be, bc->node);
	} else if (bc->nchans > 0 || err != -ECONNRESET) {
		mark_down(be, bc->node); /* the node went away under its requests */
	}
	/* acked counts modulo 2^32: fine while a connection carries less than 4 GiB in flight */
	for (uint32_t i = 0; i < SL_BE_CHANS_PER_CONN && bc->nchans > 0; i++) {
		struct sl_be_chan *ch = bc->slots[i];
		struct sl_be_ev ev = {.type = SL_BE_EV_LOST, .errnum = err};

		if (ch == NULL)
			continue;
		ev.never_connected = never;
		ev.unsent = never || (int32_t)((uint32_t)ch->tx_end - (uint32_t)acked) > 0;
		chan_detach(be, ch);
		emit(be, ch, &ev);
	}
	conn_release(be, bc);
}

static void
conn_flush(struct sl_be *be, struct sl_be_conn *bc)
{
	int r;

	if (bc->txq == NULL || bc->blocked || bc->c == NULL || bc->state == BC_CONNECTING)
		return;
	r = sl_tcp_send_some(bc->c, &bc->txq, &bc->txq_len, now_of(be));
	if (r == -ENOBUFS) { /* what fitted went; the rest waits for `writable` */
		bc->blocked = true;
		return;
	}
	if (r != 0) { /* failed from the tick: no event inside a caller's sl_be_send() */
		bc->dead_err = r;
		return;
	}
	bc->txq = bc->txq_tail = NULL;
	bc->txq_len = 0;
}

/* Close a retired connection once it carries nothing. */
static void
conn_maybe_close(struct sl_be *be, struct sl_be_conn *bc)
{
	if (bc->state != BC_RETIRING || bc->nchans > 0)
		return;
	if (bc->c != NULL) {
		sl_tcp_set_user(bc->c, NULL);
		sl_tcp_close(bc->c, now_of(be));
		bc->c = NULL;
	}
	conn_release(be, bc);
}

static void
conn_retire(struct sl_be *be, struct sl_be_conn *bc)
{
	if (bc->state == BC_RETIRING)
		return;
	pool_drop(be, bc);
	bc->state = BC_RETIRING;
}

static struct sl_be_conn *
conn_open(struct sl_be *be, struct be_pool *p, uint16_t node, uint16_t app)
{
	struct sl_be_conn *bc;
	int r;

	if (be->n_free == 0 || p->n >= SL_BE_POOL_MAX)
		return NULL;
	bc = &be->conns[be->free_conns[--be->n_free]];
	memset(bc, 0, offsetof(struct sl_be_conn, dec));
	sl_frame_dec_init(&bc->dec, NULL);
	bc->be = be;
	bc->node = node;
	bc->app = app;
	bc->next_id = 1;
	bc->opened_us = now_of(be);
	bc->state = BC_CONNECTING;
	be->stats->node_state[node].conns++;
	r = be->ops->connect(be->env, p->addr, p->port, &sl_be_tcp_ops, be, bc, &bc->c);
	if (r != 0) {
		bc->c = NULL;
		be->stats->node_state[node].conn_failures++;
		conn_release(be, bc);
		return NULL;
	}
	be->stats->node_state[node].conns_opened++;
	p->conns[p->n++] = bc;
	return bc;
}

/* ---- the reply decoder ---- */

static struct sl_be_chan *
chan_of(struct sl_be_conn *bc, uint64_t id)
{
	struct sl_be_chan *ch = bc->slots[id & CHAN_MASK];

	return ch != NULL && ch->id == id ? ch : NULL;
}

/* A small frame, complete in fbuf[0, len): close, error (or a malformed write). */
static int
small_frame(struct sl_be *be, struct sl_be_conn *bc, uint32_t len)
{
	struct sl_seg seg = {.p = bc->fbuf, .len = len};
	struct sl_frame f;
	struct sl_be_chan *ch;
	struct sl_be_ev ev = {0};
	struct sl_mp_raw msg;
	int r;

	r = sl_frame_dec_next(&bc->dec, &seg, 1, 0, &f, &be->hdrs);
	if (r < 0)
		return r;
	ev.hdrs = &be->hdrs;
	ch = chan_of(bc, f.channel);
	switch (f.type) {
	case 1: /* error [[cat, code], msg] */
		if (sl_err_dec_args(&f.args, f.nargs, &ev.err, &msg) != 0)
			return -EPROTO;
		if (ch == NULL)
			return 0;
		ev.type = SL_BE_EV_ERROR;
		ev.len = msg.len;
		ev.p = msg.p; /* contiguous: the frame is in fbuf */
		break;
	case 2: /* close [] */
		if (ch == NULL)
			return 0;
		ev.type = SL_BE_EV_CLOSE;
		break;
	default: /* a write whose args are not [raw], or an unknown message */
		return -EPROTO;
	}
	ch->replied = true;
	chan_detach(be, ch);
	emit(be, ch, &ev);
	return 0;
}

/*
 * Decide what the bytes in fbuf begin. @return the bytes taken from fbuf (> 0); 0 when more
 * are needed; < 0 on a protocol error.
 */
static int
try_head(struct sl_be *be, struct sl_be_conn *bc)
{
	struct sl_mp_obj o;
	uint32_t pos = 0, n, m;
	uint64_t id, type;
	int h, r;

	h = sl_mp_hdr(bc->fbuf, bc->flen, &o);
	if (h <= 0)
		return h < 0 ? -EBADMSG : 0;
	if (o.type != SL_MP_ARRAY || o.v.n < 3)
		return -EPROTO;
	n = o.v.n;
	pos = (uint32_t)h;
	h = sl_mp_hdr(bc->fbuf + pos, bc->flen - pos, &o);
	if (h <= 0)
		return h < 0 ? -EBADMSG : 0;
	if (o.type != SL_MP_UINT)
		return -EPROTO;
	id = o.v.u;
	pos += (uint32_t)h;
	h = sl_mp_hdr(bc->fbuf + pos, bc->flen - pos, &o);
	if (h <= 0)
		return h < 0 ? -EBADMSG : 0;
	if (o.type != SL_MP_UINT)
		return -EPROTO;
	type = o.v.u;
	pos += (uint32_t)h;
	h = sl_mp_hdr(bc->fbuf + pos, bc->flen - pos, &o);
	if (h <= 0)
		return h < 0 ? -EBADMSG : 0;
	if (o.type != SL_MP_ARRAY)
		return -EPROTO;
	m = o.v.n;
	pos += (uint32_t)h;
	if (type == 0 && m == 1) {
		h = sl_mp_hdr(bc->fbuf + pos, bc->flen - pos, &o);
		if (h < 0)
			return -EBADMSG;
		if (h == 0)
			return 0;
		if (o.type == SL_MP_STR || o.type == SL_MP_BIN) {
			struct sl_be_chan *ch = chan_of(bc, id);

			pos += (uint32_t)h;
			bc->d_id = id;
			bc->d_left = o.v.len;
			bc->d_tail = n - 3;
			bc->d_hdrs = true;
			bc->dstate = D_PAYLOAD;
			if (ch != NULL) {
				struct sl_be_ev ev = {.type = SL_BE_EV_CHUNK, .len = o.v.len};

				ch->replied = true;
				emit(be, ch, &ev);
			}
			return (int)pos;
		}
	}
	/* any other frame: gathered whole */
	r = sl_mp_scan_flat(bc->fbuf, bc->flen, &bc->dec.lim);
	if (r == -EAGAIN)
		return bc->flen == sizeof(bc->fbuf) ? -EMSGSIZE : 0;
	if (r < 0)
		return r;
	h = small_frame(be, bc, (uint32_t)r);
	return h < 0 ? h : r;
}

static void
chunk_end(struct sl_be *be, struct sl_be_conn *bc, const struct sl_hdrs *hdrs)
{
	struct sl_be_chan *ch = chan_of(bc, bc->d_id);

	if (ch != NULL) {
		struct sl_be_ev ev = {.type = SL_BE_EV_CHUNK_END, .hdrs = hdrs};

		emit(be, ch, &ev);
	}
}

/* Gather one element after a write's payload; the write ends after the last one (with its
 * headers). @return bytes taken, 0 for more, < 0. */
static int
try_tail(struct sl_be *be, struct sl_be_conn *bc)
{
	int r = sl_mp_scan_flat(bc->fbuf, bc->flen, &bc->dec.lim);

	if (r == -EAGAIN)
		return bc->flen == sizeof(bc->fbuf) ? -EMSGSIZE : 0;
	if (r < 0)
		return r;
	if (bc->d_hdrs) { /* the header array: it updates the peer's table */
		struct sl_seg seg = {.p = bc->fbuf, .len = (uint32_t)r};
		struct sl_mp_cur cur;
		uint32_t n;

		if (sl_mp_cur_init(&cur, &seg, 1, 0, (uint32_t)r) != 0 ||
		    sl_mp_read_array(&cur, &n) != 0)
			return -EPROTO;
		if (sl_hpack_decode(&bc->dec.rx, &cur, n, &be->hdrs) != 0)
			return -EILSEQ;
		bc->d_hdrs = false;
		bc->d_have = true;
	}
	if (--bc->d_tail == 0)
		chunk_end(be, bc, bc->d_have ? &be->hdrs : NULL);
	return r;
}

/* The current write's payload ended: the write too, unless elements follow. */
static void
payload_end(struct sl_be *be, struct sl_be_conn *bc)
{
	bc->flen = 0;
	bc->d_have = false;
	if (bc->d_tail > 0) {
		bc->dstate = D_TAIL;
		return;
	}
	bc->dstate = D_HEAD;
	chunk_end(be, bc, NULL);
}

/*
 * Decode from p[0, n). @return bytes used (>= 0), or < 0 on a protocol error. Sets
 * bc->paused when a handler asks.
 */
static int
decode(struct sl_be *be, struct sl_be_conn *bc, const uint8_t *p, uint32_t n)
{
	uint32_t k, room;
	int r;

	if (bc->dstate == D_PAYLOAD) {
		struct sl_be_chan *ch = chan_of(bc, bc->d_id);

		k = bc->d_left < n ? (uint32_t)bc->d_left : n;
		if (k > 0 && ch != NULL) {
			struct sl_be_ev ev = {.type = SL_BE_EV_DATA, .p = p, .len = k};

			if (emit(be, ch, &ev) == 1)
				bc->paused = true;
		}
		bc->d_left -= k;
		if (bc->d_left == 0)
			payload_end(be, bc);
		return (int)k;
	}
	room = (uint32_t)sizeof(bc->fbuf) - bc->flen;
	k = n < room ? n : room;
	if (bc->dstate == D_HEAD && bc->flen < PREFIX_PROBE && k > PREFIX_PROBE - bc->flen)
		k = PREFIX_PROBE - bc->flen;
	memcpy(bc->fbuf + bc->flen, p, k);
	bc->flen += k;
	r = bc->dstate == D_HEAD ? try_head(be, bc) : try_tail(be, bc);
	if (r < 0)
		return r;
	if (r == 0)
		return (int)k;
	/* r bytes of fbuf made an item: the rest of what was copied is input again */
	k -= bc->flen - (uint32_t)r;
	bc->flen = 0;
	if (bc->dstate == D_PAYLOAD && bc->d_left == 0)
		payload_end(be, bc);
	else if (bc->dstate == D_TAIL && bc->d_tail == 0)
		bc->dstate = D_HEAD;
	return (int)k;
}

/* Decode what was received until it runs out, a handler pauses, or the connection fails. */
static void
conn_feed(struct sl_be *be, struct sl_be_conn *bc)
{
	uint32_t consumed = 0;

	bc->in_feed = true;
	while (!bc->paused && bc->rx != NULL) {
		struct sl_tcp_seg *s = bc->rx;
		int r;

		if (bc->rx_off == s->len) {
			bc->rx = s->next;
			bc->rx_off = 0;
			s->next = NULL;
			sl_tcp_seg_free_chain(be->st, s);
			if (bc->rx == NULL)
				bc->rx_tail = NULL;
			continue;
		}
		r = decode(be, bc, s->data + bc->rx_off, s->len - bc->rx_off);
		if (r < 0) {
			bc->in_feed = false;
			be->stats->protocol_errors++;
			conn_fail(be, bc, -EPROTO, false);
			return;
		}
		bc->rx_off += (uint32_t)r;
		consumed += (uint32_t)r;
	}
	bc->in_feed = false;
	if (consumed > 0 && bc->c != NULL)
		sl_tcp_consumed(bc->c, consumed, now_of(be));
	if (bc->peer_fin && bc->rx == NULL) { /* all that came before the FIN is decoded */
		struct sl_tcp_conn *c = bc->c;

		conn_fail(be, bc, -ECONNRESET, true);
		if (c != NULL)
			sl_tcp_close(c, now_of(be));
		return;
	}
	conn_maybe_close(be, bc);
}

/* ---- TCP callbacks (app: the sl_be, user: the connection) ---- */

static void
be_connected(void *app, struct sl_tcp_conn *c)
{
	struct sl_be *be = app;
	struct sl_be_conn *bc = sl_tcp_user(c);

	if (bc == NULL)
		return;
	pool_of(be, bc->node, bc->app)->backoff_ms = 0;
	if (bc->state == BC_CONNECTING)
		bc->state = BC_READY;
	conn_flush(be, bc);
}

static void
be_data(void *app, struct sl_tcp_conn *c, struct sl_tcp_seg *chain, uint32_t len)
{
	struct sl_be *be = app;
	struct sl_be_conn *bc = sl_tcp_user(c);

	(void)len;
	if (bc == NULL) {
		sl_tcp_seg_free_chain(be->st, chain);
		return;
	}
	if (bc->rx_tail != NULL)
		bc->rx_tail->next = chain;
	else
		bc->rx = chain;
	while (chain->next != NULL)
		chain = chain->next;
	bc->rx_tail = chain;
	conn_feed(be, bc);
}

static void
be_writable(void *app, struct sl_tcp_conn *c)
{
	struct sl_be_conn *bc = sl_tcp_user(c);

	if (bc == NULL)
		return;
	bc->blocked = false;
	conn_flush(app, bc);
}

static void
be_peer_closed(void *app, struct sl_tcp_conn *c)
{
	struct sl_be *be = app;
	struct sl_be_conn *bc = sl_tcp_user(c);

	if (bc == NULL) {
		sl_tcp_close(c, now_of(be));
		return;
	}
	if (bc->rx != NULL) { /* paused: what came before the FIN is decoded first */
		bc->peer_fin = true;
		return;
	}
	/* the node will send no more. c is still bc->c for conn_fail(): what TCP acknowledged
	 * decides `unsent` */
	conn_fail(be, bc, -ECONNRESET, true);
	sl_tcp_close(c, now_of(be));
}

static void
be_error(void *app, struct sl_tcp_conn *c, int err)
{
	struct sl_be_conn *bc = sl_tcp_user(c);

	if (bc != NULL)
		conn_fail(app, bc, err, true);
}

static void
be_reset(void *app, struct sl_tcp_conn *c)
{
	be_error(app, c, -ECONNRESET);
}

const struct sl_tcp_app_ops sl_be_tcp_ops = {
	.connected = be_connected,
	.data = be_data,
	.writable = be_writable,
	.peer_closed = be_peer_closed,
	.reset = be_reset,
	.error = be_error,
};

/* ---- requests ---- */

static const struct sl_cl_ep *
endpoint(const struct sl_cluster *cl, uint16_t app, uint16_t node)
{
	const struct sl_cl_app *a;

	if (cl == NULL || app >= cl->n_apps)
		return NULL;
	a = &cl->apps[app];
	for (uint16_t i = 0; i < a->n_eps; i++)
		if (a->eps[i].node == node)
			return &a->eps[i];
	return NULL;
}

bool
sl_be_node_down(const struct sl_be *be, uint16_t node)
{
	const struct sl_be_node_state *ns = &be->stats->node_state[node];

	return ns->down;
}

/* A node marked down passively comes back once the control thread saw a check pass. */
static bool
node_usable(struct sl_be *be, uint16_t node)
{
	const struct sl_cl_node *n = &be->cl->nodes[node];
	struct sl_be_node_state *ns = &be->stats->node_state[node];

	if (!n->up)
		return false;
	if (ns->down && n->ok_seq > be->down_seq[node])
		ns->down = false;
	return !ns->down;
}

int
sl_be_pick(struct sl_be *be, uint16_t app, const uint64_t tried[1])
{
	const struct sl_cl_app *a;
	uint32_t start;

	if (be->cl == NULL || app >= be->cl->n_apps)
		return -EHOSTUNREACH;
	a = &be->cl->apps[app];
	if (a->n_eps == 0)
		return -EHOSTUNREACH;
	start = be->rr[app];
	for (uint32_t k = 0; k < a->n_eps; k++) {
		uint32_t i = (start + k) % a->n_eps;
		uint16_t node = a->eps[i].node;

		if (node >= be->cl->n_nodes || (tried[0] >> (node & 63) & 1))
			continue;
		if (node_usable(be, node)) {
			be->rr[app] = i + 1; /* the turn after the one taken: down nodes are
					      * skipped, not passed on to their successor */
			return node;
		}
	}
	return -EHOSTUNREACH;
}

/* A connection of the pool for a new channel: the least loaded, or a new one while the
 * pool is short and every connection carries something. */
static struct sl_be_conn *
pool_conn(struct sl_be *be, uint16_t node, uint16_t app, const struct sl_cl_ep *ep)
{
	struct be_pool *p = pool_of(be, node, app);
	struct sl_be_conn *best = NULL;

	if (p->addr.v != ep->addr.v || p->port != ep->port) { /* the endpoint moved */
		while (p->n > 0) {
			struct sl_be_conn *bc = p->conns[0];

			conn_retire(be, bc);
			conn_maybe_close(be, bc);
		}
		p->addr = ep->addr;
		p->port = ep->port;
		p->backoff_ms = 0;
		p->retry_at_us = 0;
	}
	for (uint16_t i = 0; i < p->n; i++) {
		struct sl_be_conn *bc = p->conns[i];

		if (bc->nchans >= SL_BE_CHANS_PER_CONN / 2)
			continue;
		if (best == NULL || bc->nchans < best->nchans ||
		    (bc->nchans == best->nchans && bc->txq_len < best->txq_len))
			best = bc;
	}
	if ((best == NULL || best->nchans > 0) && p->n < be->conf.pool_size &&
	    now_of(be) >= p->retry_at_us) {
		struct sl_be_conn *bc = conn_open(be, p, node, app);

		if (bc != NULL)
			return bc;
	}
	return best;
}

/* Length of the old-spec raw header for n bytes. */
static uint32_t
raw_hdr_len(uint64_t n)
{
	return n < 32 ? 1 : n <= UINT16_MAX ? 3 : 5;
}

int
sl_be_open(struct sl_be *be, struct sl_be_chan *ch, uint16_t app, uint16_t node,
	   uint64_t deadline_us)
{
	const struct sl_cl_ep *ep = endpoint(be->cl, app, node);
	struct sl_be_conn *bc;
	uint64_t id;

	if (ep == NULL)
		return -EHOSTUNREACH;
	bc = pool_conn(be, node, app, ep);
	if (bc == NULL)
		return now_of(be) < pool_of(be, node, app)->retry_at_us ? -EHOSTUNREACH : -ENOBUFS;
	id = bc->next_id;
	while (bc->slots[id & CHAN_MASK] != NULL) /* ids must only grow: skip busy slots */
		id++;
	bc->next_id = id + 1;
	bc->slots[id & CHAN_MASK] = ch;
	bc->nchans++;
	be->stats->node_state[node].inflight++;
	ch->conn = bc;
	ch->id = id;
	ch->node = node;
	ch->app = app;
	ch->replied = false;
	ch->tx_end = bc->tx_total;
	sl_be_deadline(be, ch, deadline_us);
	return 0;
}

int
sl_be_put(struct sl_be *be, struct sl_be_chan *ch, struct sl_tcp_seg *chain, uint32_t len)
{
	struct sl_be_conn *bc = ch->conn;
	struct sl_tcp_seg *tail = chain;

	if (bc == NULL) {
		sl_tcp_seg_free_chain(be->st, chain);
		return -ENOTCONN;
	}
	if (chain == NULL)
		return 0;
	while (tail->next != NULL)
		tail = tail->next;
	bc->tx_total += len;
	ch->tx_end = bc->tx_total;
	if (bc->txq_tail != NULL)
		bc->txq_tail->next = chain;
	else
		bc->txq = chain;
	bc->txq_tail = tail;
	bc->txq_len += len;
	conn_flush(be, bc);
	return 0;
}

int
sl_be_send(struct sl_be *be, struct sl_be_chan *ch, uint16_t app, uint16_t node,
	   const struct sl_be_req *req)
{
	uint64_t payload = (uint64_t)req->head_len + raw_hdr_len(req->body_len) + req->body_len;
	struct sl_obuf ob;
	struct sl_mp_w w;
	uint8_t tmp[1024];
	uint64_t id;
	int r;

	if (payload > UINT32_MAX - 64)
		return -EMSGSIZE;
	r = sl_be_open(be, ch, app, node, req->deadline_us);
	if (r != 0)
		return r;
	id = ch->id;
	sl_ob_init(&ob, be->st);
	/* enqueue [event] with the headers */
	sl_mp_w_init(&w, tmp, sizeof(tmp));
	sl_frame_enc_begin(&w, id, 0, 1, req->nhdrs);
	sl_mp_w_raw(&w, req->event, req->event_len);
	sl_frame_enc_headers(&w, req->hdrs, req->nhdrs);
	if (w.err != 0) {
		struct sl_be_conn *bc = ch->conn;

		chan_detach(be, ch);
		conn_maybe_close(be, bc);
		return -EMSGSIZE;
	}
	sl_ob_put(&ob, w.p, w.len);
	/* write [pack(request)] */
	sl_mp_w_init(&w, tmp, sizeof(tmp));
	sl_frame_enc_begin(&w, id, 0, 1, 0);
	sl_mp_w_raw_hdr(&w, (uint32_t)payload);
	sl_ob_put(&ob, w.p, w.len);
	sl_ob_put_chain(&ob, req->head, 0, req->head_len);
	sl_mp_w_init(&w, tmp, sizeof(tmp));
	sl_mp_w_raw_hdr(&w, (uint32_t)req->body_len);
	sl_ob_put(&ob, w.p, w.len);
	sl_ob_put_chain(&ob, req->body, 0, (uint32_t)req->body_len);
	/* the write's empty header array, then close [] */
	sl_mp_w_init(&w, tmp, sizeof(tmp));
	sl_mp_w_array(&w, 0);
	sl_frame_enc_empty(&w, id, 2, NULL, 0);
	sl_ob_put(&ob, w.p, w.len);
	if (ob.fail) {
		struct sl_be_conn *bc = ch->conn;

		sl_ob_free(&ob);
		chan_detach(be, ch); /* nothing of it went out: the id is simply skipped */
		conn_maybe_close(be, bc);
		return -ENOMEM;
	}
	be->stats->nodes[node].bytes_in += req->body_len;
	return sl_be_put(be, ch, ob.head, ob.len);
}

void
sl_be_cancel(struct sl_be *be, struct sl_be_chan *ch)
{
	struct sl_be_conn *bc = ch->conn;

	chan_detach(be, ch);
	if (bc == NULL || bc->in_feed)
		return; /* conn_feed() goes on and closes a retired connection itself */
	if (bc->paused && chan_of(bc, bc->d_id) == NULL) {
		bc->paused = false; /* the channel that paused it is gone */
		conn_feed(be, bc);
		return;
	}
	conn_maybe_close(be, bc);
}

void
sl_be_resume(struct sl_be *be, struct sl_be_chan *ch)
{
	struct sl_be_conn *bc = ch->conn;

	if (bc == NULL || !bc->paused)
		return;
	bc->paused = false;
	if (!bc->in_feed)
		conn_feed(be, bc);
}

void
sl_be_set_view(struct sl_be *be, const struct sl_cluster *cl)
{
	be->cl = cl;
}

const struct sl_cluster *
sl_be_view(const struct sl_be *be)
{
	return be->cl;
}

struct sl_be_stats *
sl_be_stats(struct sl_be *be)
{
	return be->stats;
}

void
sl_be_tick(struct sl_be *be, uint64_t now_us)
{
	while (be->heap_n > 0 && be->heap[0]->deadline_us <= now_us) {
		struct sl_be_chan *ch = be->heap[0];
		struct sl_be_conn *bc = ch->conn;
		struct sl_be_ev ev = {.type = SL_BE_EV_TIMEOUT};

		heap_remove(be, ch);
		ch->deadline_us = 0;
		/* Cocaine cannot cancel one channel after its close: the connection is retired
		 * so the node sees it go (and discards the channel) once nothing else uses it */
		if (bc != NULL) {
			chan_detach(be, ch);
			conn_retire(be, bc);
		}
		emit(be, ch, &ev);
		if (bc != NULL && bc->paused && chan_of(bc, bc->d_id) == NULL) {
			bc->paused = false; /* the channel that paused it is gone */
			conn_feed(be, bc);
		} else if (bc != NULL) {
			conn_maybe_close(be, bc);
		}
	}
	if (now_us - be->last_connect_check >= TICK_CONNECT_US) {
		uint64_t limit = (uint64_t)be->conf.connect_timeout_ms * 1000;

		be->last_connect_check = now_us;
		for (uint32_t i = 0; i < be->conf.max_conns; i++) {
			struct sl_be_conn *bc = &be->conns[i];

			if (bc->state == BC_CONNECTING && now_us - bc->opened_us >= limit)
				conn_fail(be, bc, -ETIMEDOUT, false);
			else if (bc->state != BC_FREE && bc->dead_err != 0)
				conn_fail(be, bc, bc->dead_err, false);
		}
	}
}

/* ---- set-up ---- */

struct sl_be *
sl_be_create(struct sl_tcp_stack *st, const struct sl_be_conf *conf,
	     const struct sl_be_env_ops *ops, void *env, struct sl_be_stats *stats, sl_be_ev_fn ev)
{
	struct sl_be *be = calloc(1, sizeof(*be));
	struct sl_be_conf cf = *conf;

	if (be == NULL)
		return NULL;
	if (cf.pool_size == 0)
		cf.pool_size = 2;
	if (cf.pool_size > SL_BE_POOL_MAX)
		cf.pool_size = SL_BE_POOL_MAX;
	if (cf.max_conns == 0)
		cf.max_conns = 256;
	if (cf.max_chans == 0)
		cf.max_chans = 65536;
	if (cf.connect_timeout_ms == 0)
		cf.connect_timeout_ms = 1000;
	if (cf.backoff_min_ms == 0)
		cf.backoff_min_ms = 100;
	if (cf.backoff_max_ms < cf.backoff_min_ms)
		cf.backoff_max_ms = cf.backoff_min_ms < 5000 ? 5000 : cf.backoff_min_ms;
	be->st = st;
	be->conf = cf;
	be->ops = ops;
	be->env = env;
	be->stats = stats;
	be->ev = ev;
	be->conns = calloc(cf.max_conns, sizeof(*be->conns));
	be->free_conns = calloc(cf.max_conns, sizeof(uint32_t));
	be->pools = calloc((size_t)SL_CL_MAX_NODES * SL_CL_MAX_APPS, sizeof(*be->pools));
	be->heap = calloc(cf.max_chans,
			  sizeof(struct sl_be_chan *)); /* NOLINT(bugprone-sizeof-expression) */
	if (be->conns == NULL || be->free_conns == NULL || be->pools == NULL || be->heap == NULL) {
		sl_be_free(be);
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = cf.max_conns; i-- > 0;)
		be->free_conns[be->n_free++] = i;
	return be;
}

void
sl_be_free(struct sl_be *be)
{
	if (be == NULL)
		return;
	if (be->conns != NULL)
		for (uint32_t i = 0; i < be->conf.max_conns; i++) {
			struct sl_be_conn *bc = &be->conns[i];

			if (bc->state == BC_FREE)
				continue;
			if (bc->c != NULL)
				sl_tcp_set_user(bc->c, NULL);
			conn_release(be, bc);
		}
	free(be->conns);
	free(be->free_conns);
	free(be->pools);
	free(be->heap);
	free(be);
}
