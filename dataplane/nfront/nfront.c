/**
 * @file
 * The native front (nfront.h).
 *
 * A client connection decodes whole frames (at most conf.frame_bytes) from the chain TCP
 * delivered, checks them against the protocol graphs (native-chan.h: a violation closes that
 * client's connection, cocaine-protocol.md 1.5) and acts:
 *
 * - locator port: `resolve [name]` answers sluiced's VIP and the app's own port, with the
 *   app protocol; every other locator method is answered with an error;
 * - app port: `enqueue [event]` opens a channel to a node (the backend pools' balancer);
 *   the client's later `write`, `close` and `error` go to the node with the node
 *   connection's channel id; `info` is answered here; `control` is refused.
 *
 * The node's replies come back on the client's channel id as they stream in: a `write` is
 * passed on before its payload is complete. Until the node's first reply a channel keeps
 * its frames (SL_NF_RETRY_BYTES at most) so that it can be sent again to another node, with
 * the rules of the HTTP front (docs/dispatch.md): queue full, app restarted, service not
 * available, or a node connection lost before it acknowledged the channel's last frame.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "native-chan.h"
#include "native-err.h"
#include "native-frame.h"
#include "native-graph.h"
#include "native-hpack.h"
#include "native-mp.h"
#include "nfront.h"
#include "sl_addr.h"
#include "sl_util.h"
#include "tcp-buf.h"

const char *const sl_nf_stats_names[] = {
#define SL_NF_STATS_NAME(n) #n,
	SL_NF_STATS(SL_NF_STATS_NAME)
#undef SL_NF_STATS_NAME
		"active",
	"inflight",
};

/* A client channel carried to a node. */
struct nf_chan {
	struct sl_be_chan ch; /* the node side; ch.user is this */
	struct nf_conn *nc;
	uint64_t cid; /* the client's id */
	uint64_t deadline_us;
	uint64_t t_start_us; /* the enqueue */
	uint64_t tried;
	uint16_t app;
	uint8_t attempts;
	bool replied;	     /* a reply began: no retry */
	bool node_done;	     /* we sent the client our last message */
	bool paused;	     /* paused its node connection (the client reads slowly) */
	bool keep;	     /* q holds every frame sent so far */
	bool mute;	     /* the client's channel took no reply header: drop the rest */
	bool open_write;     /* a node write is open (CHUNK, no END yet) */
	bool waiting;	     /* its open write waits in `part` for the client stream to be free */
	struct sl_obuf part; /* that write so far */
	struct nf_chan *wait_next;
	uint32_t ms;	  /* the deadline */
	struct sl_obuf q; /* frames for a retry: [u32 len][type, args, headers] each */
	struct nf_chan *next_free;
};

/* A client connection. */
struct nf_conn {
	struct sl_tcp_conn *c; /* NULL: free slot */
	struct sl_nf_server *srv;
	int app; /* -1: the locator */
	struct sl_tcp_seg *rx, *rx_tail;
	uint32_t rx_off;
	uint32_t rx_len; /* bytes in rx from rx_off on */
	struct sl_tcp_seg *out, *out_tail;
	uint32_t out_len, out_cap; /* out_cap: room of out_tail */
	bool blocked;
	bool peer_closed;
	bool dead; /* no buffer for an answer: aborted, to be let go */
	/* A node write passes into the client stream as it arrives: while one is open (the
	 * writer's), every other frame waits, whole frames in `held`, open writes in their
	 * channel's `part` (FIFO from wait_head), so frames never interleave. */
	struct nf_chan *writer;
	struct sl_obuf held;
	struct nf_chan *wait_head, *wait_tail;
	struct sl_frame_dec dec;
	struct sl_sess sess;
	struct sl_chan tab[SL_NF_CHANS];
};

struct sl_nf_server {
	struct sl_tcp_stack *st;
	struct sl_be *be;
	struct sl_nf_conf conf;
	struct sl_nf_stats stats;
	struct nf_conn *slab;
	uint32_t *free_idx;
	uint32_t n_free, n_used;
	struct nf_chan *chans; /* max_conns * 16 */
	struct nf_chan *chan_free;
	struct sl_nf_port ports[SL_CL_MAX_APPS + 1];
	struct sl_seg segs[SL_NF_SEGS];
	struct sl_hdrs hdrs;
	char vip[SL_IP4_STRLEN];
};

static inline uint64_t
now_of(const struct sl_nf_server *srv)
{
	return sl_tcp_stack_now(srv->st);
}

static const struct sl_cluster *
view_of(const struct sl_nf_server *srv)
{
	return sl_be_view(srv->be);
}

/* ---- output ---- */

static void
nc_flush(struct nf_conn *nc)
{
	int r;

	if (nc->out == NULL || nc->blocked || nc->c == NULL)
		return;
	r = sl_tcp_send_some(nc->c, &nc->out, &nc->out_len, now_of(nc->srv));
	if (r == -ENOBUFS) { /* what fitted went; the rest waits for `writable` */
		nc->blocked = true;
		return;
	}
	if (r != 0)
		sl_tcp_seg_free_chain(nc->srv->st, nc->out);
	nc->out = nc->out_tail = NULL;
	nc->out_len = nc->out_cap = 0;
}

/* Reset the client's connection from inside a handler: it is let go once the handler
 * returns (nc->dead). */
static void
nc_abort(struct nf_conn *nc)
{
	if (nc->c != NULL) {
		sl_tcp_set_user(nc->c, NULL);
		sl_tcp_abort(nc->c, now_of(nc->srv));
		nc->c = NULL;
	}
	nc->dead = true;
}

/* Queue bytes for the client. */
static void
nc_put(struct nf_conn *nc, const void *p, uint32_t n)
{
	struct sl_obuf ob = {
		.st = nc->srv->st, .head = nc->out, .tail = nc->out_tail, .cap = nc->out_cap};

	if (nc->dead)
		return;
	sl_ob_put(&ob, p, n);
	nc->out = ob.head;
	nc->out_tail = ob.tail;
	nc->out_cap = ob.cap;
	nc->out_len += n;
	if (ob.fail && nc->c != NULL) /* no buffer: the client cannot be answered in order */
		nc_abort(nc);
}

/* Append a chain to what goes out (ownership passes). */
static void
nc_link(struct nf_conn *nc, struct sl_obuf *ob)
{
	struct sl_tcp_seg *h = sl_ob_take(ob);

	if (h == NULL)
		return;
	if (nc->dead) {
		sl_tcp_seg_free_chain(nc->srv->st, h);
		return;
	}
	if (nc->out_tail != NULL)
		nc->out_tail->next = h;
	else
		nc->out = h;
	while (h->next != NULL)
		nc->out_len += h->len, h = h->next;
	nc->out_len += h->len;
	nc->out_tail = h;
	nc->out_cap = h->len; /* full: the next put takes a new buffer */
}

/* A whole frame for the client: now, or after the open write of another channel. */
static void
frame_put(struct nf_conn *nc, const void *p, uint32_t n)
{
	if (nc->writer == NULL) {
		nc_put(nc, p, n);
		return;
	}
	if (nc->held.st == NULL)
		sl_ob_init(&nc->held, nc->srv->st);
	sl_ob_put(&nc->held, p, n);
	if (nc->held.fail)
		nc_abort(nc);
}

static void
nc_put_w(struct nf_conn *nc, const struct sl_mp_w *w)
{
	frame_put(nc, w->p, w->len);
}

static void
wait_unlink(struct nf_conn *nc, struct nf_chan *ch)
{
	struct nf_chan **pp = &nc->wait_head, *prev = NULL;

	while (*pp != NULL && *pp != ch)
		prev = *pp, pp = &(*pp)->wait_next;
	if (*pp == NULL)
		return;
	*pp = ch->wait_next;
	if (nc->wait_tail == ch)
		nc->wait_tail = prev;
	ch->wait_next = NULL;
	ch->waiting = false;
}

/* The writer's write ended: what waited goes out, then the first waiting write becomes the
 * writer (its node, paused while it waited, resumes). */
static void
writer_release(struct nf_conn *nc)
{
	struct nf_chan *ch = nc->wait_head;

	nc->writer = NULL;
	if (nc->held.st != NULL)
		nc_link(nc, &nc->held);
	if (ch == NULL)
		return;
	wait_unlink(nc, ch);
	nc->writer = ch;
	nc_link(nc, &ch->part);
	if (ch->paused) {
		ch->paused = false;
		sl_be_resume(nc->srv->be, &ch->ch);
	}
}

/* Headers as [false, name, value] entries (the encoder every peer takes, 1.4). */
static void
enc_hdrs(struct sl_mp_w *w, const struct sl_hdrs *h)
{
	sl_frame_enc_headers(w, h != NULL ? h->h : NULL, h != NULL ? (int)h->n : 0);
}

/* An error of ours on a client channel: [cid, 1, [[cat, code], msg], []]. */
static void
nc_error(struct nf_conn *nc, uint64_t cid, int64_t cat, int64_t code, const char *msg)
{
	struct sl_err e = {.cat = cat, .code = code};
	struct sl_chan_ev ev;
	uint8_t buf[512];
	struct sl_mp_w w;

	if (sl_sess_send(&nc->sess, cid, 1, &ev) != 0)
		return;
	sl_mp_w_init(&w, buf, sizeof(buf));
	sl_frame_enc_error(&w, cid, 1, &e, msg, (uint32_t)strlen(msg), NULL, 0);
	nc_put_w(nc, &w);
	if (ev.closed)
		sl_sess_forget(&nc->sess, cid);
}

/* ---- channels ---- */

/* The channel ended (reply, error of the node's or ours): latency and class counters. */
static void
chan_report(struct nf_chan *ch, bool ok)
{
	struct sl_nf_server *srv = ch->nc->srv;
	struct sl_be_stats *bs = sl_be_stats(srv->be);
	uint64_t lat = now_of(srv) - ch->t_start_us;
	struct sl_be_counters *c[2] = {
		&bs->apps[ch->app],
		ch->ch.node < SL_CL_MAX_NODES && ch->tried != 0 ? &bs->nodes[ch->ch.node] : NULL};

	for (int i = 0; i < 2; i++) {
		if (c[i] == NULL)
			continue;
		c[i]->lat[sl_lat_bucket(lat)]++;
		if (ok) {
			c[i]->responses++;
			c[i]->status_2xx++;
		} else {
			c[i]->status_5xx++;
		}
	}
}

static void
chan_free(struct sl_nf_server *srv, struct nf_chan *ch)
{
	struct nf_conn *nc = ch->nc;

	if (ch->waiting)
		wait_unlink(nc, ch);
	if (nc->writer == ch) { /* its write cut short: the client's stream cannot go on */
		nc->writer = NULL;
		nc_abort(nc);
	}
	if (ch->part.st != NULL)
		sl_ob_free(&ch->part);
	if (ch->ch.conn != NULL || ch->ch.heap_idx != UINT32_MAX)
		sl_be_cancel(srv->be, &ch->ch);
	if (ch->q.st != NULL)
		sl_ob_free(&ch->q);
	ch->nc = NULL;
	ch->next_free = srv->chan_free;
	srv->chan_free = ch;
	srv->stats.inflight--;
}

/* The node side ended and we told the client: the channel lives on only in the session
 * until the client finishes its direction. */
static void
chan_done(struct nf_chan *ch)
{
	struct nf_conn *nc = ch->nc;
	struct sl_chan *sc = sl_sess_find(&nc->sess, ch->cid);

	if (sc != NULL && sc->user == ch)
		sc->user = NULL;
	chan_free(nc->srv, ch);
}

/* Send one frame tail ([type, args, headers]) on the node channel: 0x94, the node id, it. */
static int
chan_send_tail(struct nf_chan *ch, const struct sl_tcp_seg *tail, uint32_t off, uint32_t len)
{
	struct sl_nf_server *srv = ch->nc->srv;
	struct sl_obuf ob;
	struct sl_mp_w w;
	uint8_t hdr[16];

	sl_ob_init(&ob, srv->st);
	sl_mp_w_init(&w, hdr, sizeof(hdr));
	sl_mp_w_array(&w, 4);
	sl_mp_w_uint(&w, ch->ch.id);
	sl_ob_put(&ob, w.p, w.len);
	sl_ob_put_chain(&ob, tail, off, len);
	if (ob.fail) {
		sl_ob_free(&ob);
		return -ENOMEM;
	}
	return sl_be_put(srv->be, &ch->ch, ob.head, ob.len);
}

/* Copy `len` bytes at chain offset `off` (for the retry store's length prefixes). */
static void
chain_copy(const struct sl_tcp_seg *s, uint32_t off, void *dst, uint32_t len)
{
	uint8_t *d = dst;

	for (; s != NULL && len > 0; s = s->next) {
		uint32_t k;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		k = s->len - off < len ? s->len - off : len;
		memcpy(d, s->data + off, k);
		d += k;
		len -= k;
		off = 0;
	}
}

/* Send every kept frame again, on the channel just opened. */
static int
chan_resend(struct nf_chan *ch)
{
	uint32_t off = 0;

	while (off + 4 <= ch->q.len) {
		uint32_t n = 0;
		int r;

		chain_copy(ch->q.head, off, &n, 4);
		r = chan_send_tail(ch, ch->q.head, off + 4, n);
		if (r != 0)
			return r;
		off += 4 + n;
	}
	return 0;
}

static int nf_be_event(void *user, struct sl_be_chan *bch, const struct sl_be_ev *ev);

/* Open the channel at a node not tried yet and send what the client sent so far.
 * @return 0, or -EHOSTUNREACH when no node is left. */
static int
chan_attempt(struct nf_chan *ch)
{
	struct sl_nf_server *srv = ch->nc->srv;

	for (;;) {
		int node = sl_be_pick(srv->be, ch->app, &ch->tried);

		if (node < 0)
			return -EHOSTUNREACH;
		ch->tried |= 1ull << (node & 63);
		ch->ch.user = ch;
		ch->ch.ev = nf_be_event;
		if (sl_be_open(srv->be, &ch->ch, ch->app, (uint16_t)node, ch->deadline_us) != 0)
			continue;
		sl_be_stats(srv->be)->nodes[node].requests++;
		if (chan_resend(ch) != 0) {
			sl_be_cancel(srv->be, &ch->ch);
			continue;
		}
		return 0;
	}
}

/* Keep a frame tail for a retry, while the store has room. */
static void
chan_keep(struct nf_chan *ch, const struct sl_obuf *tail)
{
	uint32_t n = tail->len;

	if (!ch->keep)
		return;
	if (ch->q.len + 4 + n > SL_NF_RETRY_BYTES || tail->fail) {
		ch->keep = false; /* too much to keep: no retry */
		sl_ob_free(&ch->q);
		return;
	}
	sl_ob_put(&ch->q, &n, 4);
	for (const struct sl_tcp_seg *s = tail->head; s != NULL; s = s->next)
		sl_ob_put(&ch->q, s->data, s->len);
	if (ch->q.fail) {
		ch->keep = false;
		sl_ob_free(&ch->q);
	}
}

/* The tail of a client frame for the node: type, the args as received, the headers. */
static void
frame_tail(struct sl_obuf *ob, uint64_t type, const struct sl_frame *f, const struct sl_hdrs *h)
{
	struct sl_mp_cur a = f->args_obj;
	uint8_t buf[256];
	struct sl_mp_w w;

	sl_mp_w_init(&w, buf, sizeof(buf));
	sl_mp_w_uint(&w, type);
	sl_ob_put(ob, w.p, w.len);
	while (sl_mp_cur_left(&a) > 0) {
		uint32_t k = sl_mp_cur_left(&a) < sizeof(buf) ? sl_mp_cur_left(&a) : sizeof(buf);

		sl_mp_cur_copy(&a, buf, k);
		sl_mp_cur_advance(&a, k);
		sl_ob_put(ob, buf, k);
	}
	{
		uint8_t hb[SL_HDRS_BUF + 1024];

		sl_mp_w_init(&w, hb, sizeof(hb));
		enc_hdrs(&w, h);
		sl_ob_put(ob, w.p, w.len);
	}
}

/* A client frame for an open channel: to the node (and kept for a retry). */
static void
chan_forward(struct nf_chan *ch, uint64_t type, const struct sl_frame *f, const struct sl_hdrs *h)
{
	struct sl_nf_server *srv = ch->nc->srv;
	struct sl_obuf tail;

	sl_ob_init(&tail, srv->st);
	frame_tail(&tail, type, f, h);
	if (tail.fail) {
		sl_ob_free(&tail);
		nc_error(ch->nc, ch->cid, SL_ECAT_SYSTEM, ENOMEM, "sluiced: out of buffers");
		chan_done(ch);
		return;
	}
	chan_keep(ch, &tail);
	if (ch->ch.conn != NULL)
		chan_send_tail(ch, tail.head, 0, tail.len);
	sl_ob_free(&tail);
}

/* ---- replies from the node ---- */

static void
reply_end(struct nf_chan *ch, uint64_t type, const void *frame, uint32_t len)
{
	struct nf_conn *nc = ch->nc;
	struct sl_chan_ev ev;

	if (sl_sess_send(&nc->sess, ch->cid, type, &ev) == 0) {
		frame_put(nc, frame, len);
		if (ev.closed)
			sl_sess_forget(&nc->sess, ch->cid);
	}
	ch->node_done = true;
	chan_done(ch);
	nc_flush(nc);
}

/* A failure before any reply: another node when it is safe, else the error. */
static void
retry_or_fail(struct nf_chan *ch, bool safe, int64_t cat, int64_t code, const char *msg)
{
	struct nf_conn *nc = ch->nc;
	struct sl_nf_server *srv = nc->srv;
	const struct sl_cluster *cl = view_of(srv);

	if (safe && !ch->replied && ch->keep && cl != NULL && ch->app < cl->n_apps &&
	    ch->attempts < cl->apps[ch->app].retries) {
		ch->attempts++;
		srv->stats.retries++;
		sl_be_stats(srv->be)->apps[ch->app].retries++;
		if (chan_attempt(ch) == 0)
			return;
	}
	chan_report(ch, false);
	nc_error(nc, ch->cid, cat, code, msg);
	chan_done(ch);
	nc_flush(nc);
}

static int
reply_event(struct nf_chan *ch, const struct sl_be_ev *ev)
{
	struct nf_conn *nc = ch->nc;
	struct sl_nf_server *srv = nc->srv;
	struct sl_be_counters *ac = &sl_be_stats(srv->be)->apps[ch->app];
	uint8_t buf[SL_HDRS_BUF + 2048];
	struct sl_mp_w w;
	char msg[160];

	sl_mp_w_init(&w, buf, sizeof(buf));
	switch (ev->type) {
	case SL_BE_EV_CHUNK: {
		struct sl_chan_ev cev;

		if (!ch->replied) {
			ch->replied = true;
			ch->keep = false;
			sl_ob_free(&ch->q);
		}
		ch->mute = sl_sess_send(&nc->sess, ch->cid, SL_STREAM_WRITE, &cev) != 0;
		if (ch->mute)
			return 0;
		sl_mp_w_array(&w, 4);
		sl_mp_w_uint(&w, ch->cid);
		sl_mp_w_uint(&w, SL_STREAM_WRITE);
		sl_mp_w_array(&w, 1);
		sl_mp_w_raw_hdr(&w, ev->len);
		ch->open_write = true;
		ac->bytes_out += ev->len;
		if (nc->writer == NULL) {
			nc->writer = ch;
			nc_put(nc, w.p, w.len);
			return 0;
		}
		/* another channel's write is open: this one waits whole in `part` */
		sl_ob_init(&ch->part, srv->st);
		sl_ob_put(&ch->part, w.p, w.len);
		ch->waiting = true;
		if (nc->wait_tail != NULL)
			nc->wait_tail->wait_next = ch;
		else
			nc->wait_head = ch;
		nc->wait_tail = ch;
		return 0;
	}
	case SL_BE_EV_DATA:
		if (ch->mute)
			return 0;
		if (ch->waiting) {
			sl_ob_put(&ch->part, ev->p, ev->len);
			if (ch->part.fail)
				nc_abort(nc);
			if (ch->part.len > SL_NF_PAUSE_BYTES) {
				ch->paused = true;
				return 1;
			}
			return 0;
		}
		nc_put(nc, ev->p, ev->len);
		nc_flush(nc);
		if (nc->c != NULL && nc->blocked && nc->out_len > SL_NF_PAUSE_BYTES) {
			ch->paused = true;
			return 1;
		}
		return 0;
	case SL_BE_EV_CHUNK_END:
		if (ch->mute)
			return 0;
		enc_hdrs(&w, ev->hdrs);
		ch->open_write = false;
		if (ch->waiting) { /* whole now: it joins the frames that wait */
			sl_ob_put(&ch->part, w.p, w.len);
			wait_unlink(nc, ch);
			if (nc->held.st == NULL)
				sl_ob_init(&nc->held, srv->st);
			sl_ob_link(&nc->held, sl_ob_take(&ch->part));
			return 0;
		}
		nc_put(nc, w.p, w.len);
		if (nc->writer == ch)
			writer_release(nc);
		nc_flush(nc);
		return 0;
	case SL_BE_EV_CLOSE:
		chan_report(ch, true);
		sl_frame_enc_begin(&w, ch->cid, SL_STREAM_CLOSE, 0, 0);
		enc_hdrs(&w, ev->hdrs);
		reply_end(ch, SL_STREAM_CLOSE, w.p, w.len);
		return 0;
	case SL_BE_EV_ERROR:
		if (sl_err_is_queue_full(&ev->err))
			ac->queue_full++;
		if (sl_err_is_app_restarted(&ev->err))
			ac->restarted++;
		if (!ch->replied &&
		    (sl_err_is_queue_full(&ev->err) || sl_err_is_app_restarted(&ev->err) ||
		     sl_err_is_unavailable(&ev->err))) {
			snprintf(msg, sizeof(msg), "%.*s", (int)(ev->len < 150 ? ev->len : 150),
				 ev->p != NULL ? (const char *)ev->p : "");
			retry_or_fail(ch, true, ev->err.cat, ev->err.code, msg);
			return 0;
		}
		ac->app_errors++;
		chan_report(ch, false);
		/* the node's error, unchanged: [[cat, code], msg] with its headers */
		sl_frame_enc_begin(&w, ch->cid, SL_STREAM_ERROR, 2, 0);
		sl_err_enc_args(&w, &ev->err, ev->p, ev->len);
		enc_hdrs(&w, ev->hdrs);
		if (w.err != 0) { /* a huge message: cut */
			sl_mp_w_init(&w, buf, sizeof(buf));
			sl_frame_enc_error(&w, ch->cid, SL_STREAM_ERROR, &ev->err, ev->p, 1024,
					   NULL, 0);
		}
		reply_end(ch, SL_STREAM_ERROR, w.p, w.len);
		return 0;
	case SL_BE_EV_LOST:
		ac->lost++;
		srv->stats.lost++;
		if (ch->waiting) { /* its write never reached the client: an error instead */
			wait_unlink(nc, ch);
			sl_ob_free(&ch->part);
			ch->open_write = false;
		}
		if (ch->open_write) { /* the write cannot be completed: neither can the stream */
			ac->truncated++;
			chan_report(ch, false);
			nc_abort(nc);
			return 0;
		}
		retry_or_fail(ch, ev->unsent || ev->never_connected, SL_ECAT_SYSTEM, ECONNRESET,
			      ev->never_connected ? "sluiced: cannot connect to the node"
						  : "sluiced: the node connection was lost");
		return 0;
	case SL_BE_EV_TIMEOUT:
		ac->timeouts++;
		srv->stats.timeouts++;
		chan_report(ch, false);
		if (ch->waiting) {
			wait_unlink(nc, ch);
			sl_ob_free(&ch->part);
			ch->open_write = false;
		}
		if (ch->open_write) {
			ac->truncated++;
			nc_abort(nc);
			return 0;
		}
		snprintf(msg, sizeof(msg), "sluiced: no reply within the deadline (%u ms)", ch->ms);
		nc_error(nc, ch->cid, SL_ECAT_SYSTEM, ETIMEDOUT, msg);
		chan_done(ch);
		nc_flush(nc);
		return 0;
	}
	return 0;
}

static void nc_put_conn(struct nf_conn *nc);

static int
nf_be_event(void *user, struct sl_be_chan *bch, const struct sl_be_ev *ev)
{
	struct nf_chan *ch = user;
	struct nf_conn *nc = ch->nc;
	int r;

	(void)bch;
	r = reply_event(ch, ev);
	if (nc->dead && nc->srv != NULL) /* out of buffers answering: the connection goes */
		nc_put_conn(nc);
	return r;
}

/* ---- client frames ---- */

static bool
arg_raw(const struct sl_frame *f, struct sl_mp_raw *r)
{
	struct sl_mp_cur a = f->args;

	return f->nargs >= 1 && sl_mp_read_raw(&a, r) == 0;
}

/* enqueue [event]: a channel to a node. */
static int
on_enqueue(struct nf_conn *nc, const struct sl_frame *f, const struct sl_hdrs *h)
{
	struct sl_nf_server *srv = nc->srv;
	const struct sl_cluster *cl = view_of(srv);
	const struct sl_hdr *rt = sl_hdrs_find(h, "request_timeout");
	struct sl_chan *sc = sl_sess_find(&nc->sess, f->channel);
	struct sl_mp_raw ev;
	struct nf_chan *ch;
	uint64_t ms;

	if (!arg_raw(f, &ev) || sc == NULL)
		return -EPROTO; /* invalid_argument */
	if (cl == NULL || nc->app < 0 || (uint32_t)nc->app >= cl->n_apps) {
		nc_error(nc, f->channel, SL_ECAT_LOCATOR, SL_ELOCATOR_SERVICE_NOT_AVAILABLE,
			 "sluiced: the application is not configured any more");
		return 0;
	}
	ch = srv->chan_free;
	if (ch == NULL) {
		nc_error(nc, f->channel, SL_ECAT_SYSTEM, EBUSY, "sluiced: too many channels");
		return 0;
	}
	srv->chan_free = ch->next_free;
	memset(ch, 0, sizeof(*ch));
	ch->nc = nc;
	ch->cid = f->channel;
	ch->app = (uint16_t)nc->app;
	ch->keep = true;
	ch->ch.heap_idx = UINT32_MAX;
	sl_ob_init(&ch->q, srv->st);
	srv->stats.inflight++;
	sc->user = ch;
	ms = cl->apps[ch->app].deadline_ms ? cl->apps[ch->app].deadline_ms : 30000;
	if (rt != NULL) {
		uint64_t v;

		if (sl_hdr_u64(rt, &v) == 0 && v > 0 && v < ms)
			ms = v;
	}
	ch->ms = (uint32_t)ms;
	ch->t_start_us = now_of(srv);
	ch->deadline_us = ch->t_start_us + ms * 1000;
	srv->stats.channels++;
	sl_be_stats(srv->be)->apps[ch->app].requests++;
	{
		struct sl_obuf tail;

		sl_ob_init(&tail, srv->st);
		frame_tail(&tail, SL_APP_ENQUEUE, f, h);
		chan_keep(ch, &tail);
		sl_ob_free(&tail);
	}
	if (!ch->keep || chan_attempt(ch) != 0) {
		char msg[160];

		srv->stats.no_node++;
		sl_be_stats(srv->be)->apps[ch->app].unavailable++;
		snprintf(msg, sizeof(msg), "sluiced: no node serves application %s",
			 cl->apps[ch->app].name);
		nc_error(nc, ch->cid, SL_ECAT_LOCATOR, SL_ELOCATOR_SERVICE_NOT_AVAILABLE, msg);
		chan_done(ch);
	}
	return 0;
}

/* info []: a summary over the nodes. */
static void
on_info(struct nf_conn *nc, uint64_t cid)
{
	struct sl_nf_server *srv = nc->srv;
	const struct sl_cluster *cl = view_of(srv);
	const struct sl_cl_app *a = cl != NULL && nc->app >= 0 && (uint32_t)nc->app < cl->n_apps
					    ? &cl->apps[nc->app]
					    : NULL;
	struct sl_chan_ev ev;
	uint32_t up = 0;
	uint8_t buf[256];
	struct sl_mp_w w;

	srv->stats.infos++;
	if (a == NULL) {
		nc_error(nc, cid, SL_ECAT_LOCATOR, SL_ELOCATOR_SERVICE_NOT_AVAILABLE,
			 "sluiced: the application is not configured any more");
		return;
	}
	for (uint32_t i = 0; i < a->n_eps; i++)
		up += a->eps[i].node < cl->n_nodes && cl->nodes[a->eps[i].node].up &&
		      !sl_be_node_down(srv->be, a->eps[i].node);
	if (sl_sess_send(&nc->sess, cid, SL_PRIM_VALUE, &ev) != 0)
		return;
	sl_mp_w_init(&w, buf, sizeof(buf));
	sl_frame_enc_begin(&w, cid, SL_PRIM_VALUE, 1, 0);
	sl_mp_w_map(&w, 4);
	sl_mp_w_cstr(&w, "app");
	sl_mp_w_raw(&w, a->name, a->name_len);
	sl_mp_w_cstr(&w, "proxy");
	sl_mp_w_cstr(&w, "sluiced");
	sl_mp_w_cstr(&w, "nodes");
	sl_mp_w_uint(&w, a->n_eps);
	sl_mp_w_cstr(&w, "nodes_up");
	sl_mp_w_uint(&w, up);
	sl_mp_w_array(&w, 0);
	nc_put_w(nc, &w);
	if (ev.closed)
		sl_sess_forget(&nc->sess, cid);
}

/* resolve [name]: our VIP and the app's own port. */
static void
on_resolve(struct nf_conn *nc, const struct sl_frame *f)
{
	struct sl_nf_server *srv = nc->srv;
	const struct sl_cluster *cl = view_of(srv);
	struct sl_mp_raw name;
	char n[SL_CL_NAME_MAX];
	struct sl_endpoint ep;
	struct sl_chan_ev ev;
	uint8_t buf[2048];
	struct sl_mp_w w;
	int app = -ENOENT;

	if (arg_raw(f, &name) && name.len > 0 && name.len < sizeof(n)) {
		sl_mp_raw_copy(&name, n, sizeof(n));
		app = sl_cluster_app(cl, n, name.len);
	}
	if (app < 0 || (uint32_t)app + srv->conf.app_ports > 65535) {
		char msg[128];

		srv->stats.resolve_unknown++;
		snprintf(msg, sizeof(msg), "service is not available");
		nc_error(nc, f->channel, SL_ECAT_LOCATOR, SL_ELOCATOR_SERVICE_NOT_AVAILABLE, msg);
		return;
	}
	if (sl_sess_send(&nc->sess, f->channel, SL_PRIM_VALUE, &ev) != 0)
		return;
	srv->stats.resolves++;
	memset(&ep, 0, sizeof(ep));
	snprintf(ep.host, sizeof(ep.host), "%s", srv->vip);
	ep.port = (uint16_t)(srv->conf.app_ports + app);
	sl_mp_w_init(&w, buf, sizeof(buf));
	sl_frame_enc_begin(&w, f->channel, SL_PRIM_VALUE, 3, 0);
	sl_resolve_enc_args(&w, &ep, 1, 1, &sl_proto_app);
	sl_mp_w_array(&w, 0);
	nc_put_w(nc, &w);
	if (ev.closed)
		sl_sess_forget(&nc->sess, f->channel);
}

/* One decoded client frame. @return 0, or < 0 for a violation (the connection closes). */
static int
on_frame(struct nf_conn *nc, const struct sl_frame *f, const struct sl_hdrs *h)
{
	struct sl_nf_server *srv = nc->srv;
	struct sl_chan_ev ev;
	struct nf_chan *ch;
	int r;

	srv->stats.frames_in++;
	r = sl_sess_recv(&nc->sess, f->channel, f->type, &ev);
	if (r < 0)
		return r;
	if (nc->app < 0) { /* the locator */
		if (ev.opened && f->type == SL_LOCATOR_RESOLVE) {
			on_resolve(nc, f);
		} else if (ev.opened) {
			srv->stats.locator_other++;
			nc_error(nc, f->channel, SL_ECAT_DISPATCH, SL_EDISPATCH_UNBOUND_DISPATCH,
				 "sluiced's locator answers resolve only");
		}
		if (ev.closed)
			sl_sess_forget(&nc->sess, f->channel);
		return 0;
	}
	if (ev.opened) {
		switch (f->type) {
		case SL_APP_ENQUEUE:
			r = on_enqueue(nc, f, h);
			break;
		case SL_APP_INFO:
			on_info(nc, f->channel);
			break;
		default: /* control */
			srv->stats.controls++;
			nc_error(nc, f->channel, SL_ECAT_DISPATCH, SL_EDISPATCH_UNBOUND_DISPATCH,
				 "sluiced does not pass control on");
			break;
		}
		if (r < 0)
			return r;
	} else if ((ch = ev.user) != NULL) {
		if (f->type == SL_STREAM_WRITE) {
			struct sl_mp_raw chunk;

			if (f->nargs != 1 || !arg_raw(f, &chunk))
				return -EPROTO;
		}
		chan_forward(ch, f->type, f, h);
	}
	if (ev.closed) {
		struct sl_chan *sc = sl_sess_find(&nc->sess, f->channel);

		ch = sc != NULL ? sc->user : NULL;
		if (ch != NULL)
			chan_done(ch);
		sl_sess_forget(&nc->sess, f->channel);
	}
	return 0;
}

/* ---- connections ---- */

static void
rx_drop(struct nf_conn *nc, uint32_t n)
{
	struct sl_nf_server *srv = nc->srv;

	nc->rx_len -= n;
	while (n > 0 && nc->rx != NULL) {
		struct sl_tcp_seg *s = nc->rx;
		uint32_t avail = s->len - nc->rx_off;

		if (n < avail) {
			nc->rx_off += n;
			break;
		}
		n -= avail;
		nc->rx = s->next;
		nc->rx_off = 0;
		s->next = NULL;
		sl_tcp_seg_free_chain(srv->st, s);
	}
	if (nc->rx == NULL)
		nc->rx_tail = NULL;
}

static void
nc_put_conn(struct nf_conn *nc)
{
	struct sl_nf_server *srv = nc->srv;
	uint32_t pos = 0;
	struct sl_chan *sc;

	nc->writer = NULL; /* going: nothing more is written */
	while (nc->wait_head != NULL)
		wait_unlink(nc, nc->wait_head);
	if (nc->held.st != NULL)
		sl_ob_free(&nc->held);
	while ((sc = sl_sess_next(&nc->sess, &pos)) != NULL)
		if (sc->user != NULL) {
			struct nf_chan *ch = sc->user;

			sc->user = NULL;
			chan_free(srv, ch);
		}
	if (nc->rx != NULL)
		sl_tcp_seg_free_chain(srv->st, nc->rx);
	if (nc->out != NULL)
		sl_tcp_seg_free_chain(srv->st, nc->out);
	nc->rx = nc->rx_tail = nc->out = nc->out_tail = NULL;
	nc->c = NULL;
	nc->dead = false;
	nc->srv = NULL; /* free: events of its channels cannot come any more */
	srv->free_idx[srv->n_free++] = (uint32_t)(nc - srv->slab);
	srv->stats.active--;
}

/* A violation: the client's connection ends (its channels with it); nothing else does. */
static void
nc_violation(struct nf_conn *nc)
{
	nc->srv->stats.violations++;
	if (nc->c != NULL) {
		sl_tcp_set_user(nc->c, NULL);
		sl_tcp_abort(nc->c, now_of(nc->srv));
	}
	nc_put_conn(nc);
}

/* Decode and handle every complete frame received. @return false when the connection is
 * gone. */
static bool
nc_process(struct nf_conn *nc)
{
	struct sl_nf_server *srv = nc->srv;

	while (nc->rx != NULL && nc->c != NULL) {
		uint32_t nseg = 0, consumed = 0;
		struct sl_frame f;
		int r;

		for (const struct sl_tcp_seg *s = nc->rx; s != NULL && nseg < SL_NF_SEGS;
		     s = s->next) {
			uint32_t o = s == nc->rx ? nc->rx_off : 0;

			srv->segs[nseg++] = (struct sl_seg){.p = s->data + o, .len = s->len - o};
		}
		r = sl_frame_dec_next(&nc->dec, srv->segs, nseg, 0, &f, &srv->hdrs);
		if (r == -EAGAIN) {
			if (nseg == SL_NF_SEGS || nc->rx_len > srv->conf.frame_bytes) {
				nc_violation(nc); /* a frame larger than we take */
				return false;
			}
			break;
		}
		if (r < 0 || on_frame(nc, &f, &srv->hdrs) < 0) {
			nc_violation(nc);
			return false;
		}
		if (nc->dead) { /* out of buffers answering */
			nc_put_conn(nc);
			return false;
		}
		consumed = (uint32_t)r;
		rx_drop(nc, consumed);
	}
	nc_flush(nc);
	return true;
}

static int
nf_accepted(void *app, struct sl_tcp_conn *c)
{
	struct sl_nf_port *port = app;
	struct sl_nf_server *srv = port->srv;
	struct nf_conn *nc;
	uint32_t i;

	if (srv->n_free > 0)
		i = srv->free_idx[--srv->n_free];
	else if (srv->n_used < srv->conf.max_conns)
		i = srv->n_used++;
	else {
		srv->stats.conns_refused++;
		return -ENOSPC; /* reset */
	}
	nc = &srv->slab[i];
	memset(nc, 0, offsetof(struct nf_conn, dec));
	nc->srv = srv;
	nc->c = c;
	nc->app = port->app;
	sl_frame_dec_init(&nc->dec, NULL);
	nc->dec.lim.max_frame = srv->conf.frame_bytes;
	sl_sess_init(&nc->sess, port->app < 0 ? &sl_proto_locator : &sl_proto_app, NULL, nc->tab,
		     SL_NF_CHANS);
	sl_tcp_set_user(c, nc);
	srv->stats.conns++;
	srv->stats.active++;
	return 0;
}

static void
nf_data(void *app, struct sl_tcp_conn *c, struct sl_tcp_seg *chain, uint32_t len)
{
	struct sl_nf_port *port = app;
	struct nf_conn *nc = sl_tcp_user(c);

	if (nc == NULL) {
		sl_tcp_seg_free_chain(port->srv->st, chain);
		return;
	}
	if (nc->rx_tail != NULL)
		nc->rx_tail->next = chain;
	else
		nc->rx = chain;
	while (chain->next != NULL)
		chain = chain->next;
	nc->rx_tail = chain;
	nc->rx_len += len;
	/* the window goes back at once: a frame larger than the window must be able to arrive
	 * whole (nc_process() bounds what is held by conf.frame_bytes) */
	sl_tcp_consumed(c, len, now_of(nc->srv));
	nc_process(nc);
}

static void
nf_writable(void *app, struct sl_tcp_conn *c)
{
	struct nf_conn *nc = sl_tcp_user(c);
	uint32_t pos = 0;
	struct sl_chan *sc;

	(void)app;
	if (nc == NULL)
		return;
	nc->blocked = false;
	nc_flush(nc);
	if (nc->blocked)
		return;
	/* resume the channels the slow client paused (not the ones waiting for the writer);
	 * a resume may end channels and move the table: start over after each */
	for (bool again = true; again;) {
		again = false;
		pos = 0;
		while ((sc = sl_sess_next(&nc->sess, &pos)) != NULL) {
			struct nf_chan *ch = sc->user;

			if (ch != NULL && ch->paused && !ch->waiting) {
				ch->paused = false;
				sl_be_resume(nc->srv->be, &ch->ch);
				if (sl_tcp_user(c) != nc || nc->blocked)
					return;
				again = true;
				break;
			}
		}
	}
	if (nc->peer_closed && nc->out == NULL && sl_sess_count(&nc->sess) == 0) {
		sl_tcp_set_user(c, NULL);
		sl_tcp_close(c, now_of(nc->srv));
		nc_put_conn(nc);
	}
}

static void
nf_peer_closed(void *app, struct sl_tcp_conn *c)
{
	struct nf_conn *nc = sl_tcp_user(c);

	(void)app;
	if (nc == NULL) {
		sl_tcp_close(c, sl_tcp_stack_now(((struct sl_nf_port *)app)->srv->st));
		return;
	}
	/* a client that is done sending: its channels end with it (Cocaine discards them) */
	sl_tcp_set_user(c, NULL);
	nc_flush(nc);
	sl_tcp_close(c, now_of(nc->srv));
	nc_put_conn(nc);
}

static void
nf_gone(void *app, struct sl_tcp_conn *c)
{
	struct nf_conn *nc = sl_tcp_user(c);

	(void)app;
	if (nc != NULL) {
		nc->c = NULL;
		nc_put_conn(nc);
	}
}

static void
nf_error(void *app, struct sl_tcp_conn *c, int err)
{
	(void)err;
	nf_gone(app, c);
}

const struct sl_tcp_app_ops sl_nf_ops = {
	.accepted = nf_accepted,
	.data = nf_data,
	.writable = nf_writable,
	.peer_closed = nf_peer_closed,
	.reset = nf_gone,
	.error = nf_error,
};

/* ---- set-up ---- */

struct sl_nf_server *
sl_nf_create(struct sl_tcp_stack *st, struct sl_be *be, const struct sl_nf_conf *conf)
{
	struct sl_nf_server *srv = calloc(1, sizeof(*srv));
	uint32_t nchans;

	if (srv == NULL)
		return NULL;
	srv->st = st;
	srv->be = be;
	srv->conf = *conf;
	if (srv->conf.max_conns == 0)
		srv->conf.max_conns = 1024;
	if (srv->conf.frame_bytes == 0)
		srv->conf.frame_bytes = 1u << 20;
	sl_ip4_str(conf->vip, srv->vip);
	nchans = srv->conf.max_conns * 16;
	srv->slab = calloc(srv->conf.max_conns, sizeof(*srv->slab));
	srv->free_idx = calloc(srv->conf.max_conns, sizeof(uint32_t));
	srv->chans = calloc(nchans, sizeof(*srv->chans));
	if (srv->slab == NULL || srv->free_idx == NULL || srv->chans == NULL) {
		sl_nf_free(srv);
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = nchans; i-- > 0;) {
		srv->chans[i].next_free = srv->chan_free;
		srv->chan_free = &srv->chans[i];
	}
	srv->ports[0] = (struct sl_nf_port){.srv = srv, .app = -1};
	for (int a = 0; a < SL_CL_MAX_APPS; a++)
		srv->ports[a + 1] = (struct sl_nf_port){.srv = srv, .app = a};
	return srv;
}

struct sl_nf_port *
sl_nf_port(struct sl_nf_server *srv, int app)
{
	if (app < -1 || app >= SL_CL_MAX_APPS)
		return NULL;
	return &srv->ports[app + 1];
}

const struct sl_nf_stats *
sl_nf_stats(const struct sl_nf_server *srv)
{
	return &srv->stats;
}

void
sl_nf_free(struct sl_nf_server *srv)
{
	if (srv == NULL)
		return;
	if (srv->slab != NULL)
		for (uint32_t i = 0; i < srv->n_used; i++)
			if (srv->slab[i].c != NULL) {
				sl_tcp_set_user(srv->slab[i].c, NULL);
				nc_put_conn(&srv->slab[i]);
			}
	free(srv->slab);
	free(srv->free_idx);
	free(srv->chans);
	free(srv);
}
