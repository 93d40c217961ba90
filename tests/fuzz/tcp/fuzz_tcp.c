/**
 * @file
 * libFuzzer target for the TCP core: arbitrary segments to a listening stack and to
 * established connections, with timers advanced and the applications acting in between.
 *
 * Input: 5 bytes of parameters, then operations, each an opcode byte and its arguments:
 *   0 raw      tuple, flags, len16, bytes            (header and all as given)
 *   1 segment  tuple, flags, seq mode+delta, ack mode+delta, wnd16, optlen, opts, len16,
 *              mode (seq/ack relative to the connection of the tuple when there is one, so
 *              that most segments land in or near the window; checksum right unless told;
 *              mode 0x08: a timestamps option near TS.Recent (2 bytes), 0x10: SACK blocks
 *              near SND.UNA (count, then 2 bytes each) instead of the raw options)
 *   2 time     how far, from a table (0 to an hour), timers run on the way
 *   3 app      tuple, action: close, abort, shutdown, send n, consume n, failing allocs,
 *              keepalive on/off
 * Every input starts from a fresh stack with echo (7), discard (9) and chargen (19)
 * listening and one connection on each already established: echo's offered SACK and
 * timestamps, discard's SACK, chargen's neither (or all three, by a parameter bit). At the end the
 * environment releases the table, closes what applications still hold, and everything must be back:
 * no connection, segment or packet outstanding, conns[] all zero. Transmitted segments are
 * checked (parse, checksum) and freed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp-priv.h"

#define MAX_CONNS 256
#define TABLE 64

struct segbuf {
	struct sl_tcp_seg seg;
	uint32_t room;
	uint8_t buf[];
};

struct fenv {
	struct sl_tcp_stack st;
	uint64_t now;
	long pkts, segs;
	struct sl_tcp_conn *table[TABLE];
	struct sl_tcp_conn *conns[MAX_CONNS]; /* every connection allocated and not freed */
	unsigned int n_conns;
	uint32_t last_iss; /* of the last SYN-ACK sent */
	bool fail_alloc;
	bool tx_offload;
};

static struct fenv *E;

static void
die(const char *what)
{
	fprintf(stderr, "fuzz-tcp: %s\n", what);
	abort();
}

static void *
f_pkt_alloc(void *env, uint8_t **frame, uint16_t room)
{
	struct fenv *e = env;
	uint8_t *p;

	if (e->fail_alloc)
		return NULL;
	p = malloc((size_t)room + 2);
	if (p == NULL)
		die("malloc");
	p[0] = (uint8_t)(room >> 8);
	p[1] = (uint8_t)room;
	*frame = p + 2;
	e->pkts++;
	return p;
}

static uint16_t
ref_csum(struct sl_ip4 src, struct sl_ip4 dst, const uint8_t *s, size_t len)
{
	uint32_t sum = (src.v >> 16) + (src.v & 0xffff) + (dst.v >> 16) + (dst.v & 0xffff) + 6 +
		       (uint32_t)len;
	size_t i;

	for (i = 0; i < len; i++)
		sum += (i & 1) ? s[i] : (uint32_t)s[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
f_pkt_xmit(void *env, void *pkt, uint8_t *frame, uint16_t tcp_len, const struct sl_tcp_tuple *t)
{
	struct fenv *e = env;
	uint8_t *p = pkt;
	const uint8_t *h = frame + SL_TCP_L4_OFF;
	unsigned int room = (unsigned int)p[0] << 8 | p[1];

	if (frame != p + 2 || SL_TCP_L4_OFF + tcp_len > room || tcp_len < 20)
		die("transmitted segment outside its buffer");
	if ((h[12] >> 4) * 4u > tcp_len || (h[12] >> 4) < 5)
		die("transmitted segment with a bad data offset");
	if (!e->tx_offload && ref_csum(t->laddr, t->raddr, h, tcp_len) != 0)
		die("transmitted segment with a bad checksum");
	if ((h[13] & 0x06) == 0x06)
		die("SYN+RST sent");
	if (h[13] & 0x02)
		e->last_iss =
			(uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
	free(p);
	e->pkts--;
}

static struct sl_tcp_seg *
f_seg_alloc(void *env, uint32_t room)
{
	struct fenv *e = env;
	struct segbuf *b = malloc(sizeof(*b) + room);

	if (b == NULL)
		die("malloc");
	b->seg.next = NULL;
	b->seg.data = b->buf;
	b->seg.len = room;
	b->seg.owner = b;
	b->room = room;
	e->segs++;
	return &b->seg;
}

static void
f_seg_free(void *env, struct sl_tcp_seg *seg)
{
	struct fenv *e = env;
	struct segbuf *b = seg->owner;

	if (&b->seg != seg || seg->data < b->buf || seg->data + seg->len > b->buf + b->room)
		die("seg_free of a bad segment view");
	free(b);
	e->segs--;
}

static struct sl_tcp_conn *
f_conn_alloc(void *env)
{
	struct fenv *e = env;
	struct sl_tcp_conn *c;

	if (e->fail_alloc || e->n_conns == MAX_CONNS)
		return NULL;
	c = malloc(sizeof(*c));
	if (c == NULL)
		die("malloc");
	memset(c, 0xa5, sizeof(*c));
	e->conns[e->n_conns++] = c;
	return c;
}

static void
f_conn_free(void *env, struct sl_tcp_conn *c)
{
	struct fenv *e = env;
	unsigned int i;

	for (i = 0; i < TABLE; i++)
		if (e->table[i] == c)
			die("conn_free of a connection in the table");
	for (i = 0; i < e->n_conns; i++) {
		if (e->conns[i] == c) {
			e->conns[i] = e->conns[--e->n_conns];
			free(c);
			return;
		}
	}
	die("conn_free of an unknown connection");
}

static int
tuple_eq(const struct sl_tcp_tuple *a, const struct sl_tcp_tuple *b)
{
	return a->laddr.v == b->laddr.v && a->raddr.v == b->raddr.v && a->lport == b->lport &&
	       a->rport == b->rport;
}

static struct sl_tcp_conn *
lookup(struct fenv *e, const struct sl_tcp_tuple *t)
{
	unsigned int i;

	for (i = 0; i < TABLE; i++)
		if (e->table[i] != NULL && tuple_eq(&e->table[i]->tuple, t))
			return e->table[i];
	return NULL;
}

static int
f_conn_insert(void *env, struct sl_tcp_conn *c)
{
	struct fenv *e = env;
	unsigned int i;

	if (lookup(e, &c->tuple) != NULL)
		die("tuple inserted twice");
	for (i = 0; i < TABLE; i++) {
		if (e->table[i] == NULL) {
			e->table[i] = c;
			return 0;
		}
	}
	return -ENOSPC;
}

static void
f_conn_remove(void *env, struct sl_tcp_conn *c)
{
	struct fenv *e = env;
	unsigned int i;

	for (i = 0; i < TABLE; i++) {
		if (e->table[i] == c) {
			e->table[i] = NULL;
			return;
		}
	}
	die("conn_remove of a connection not in the table");
}

static const struct sl_tcp_env_ops f_ops = {
	.pkt_alloc = f_pkt_alloc,
	.pkt_xmit = f_pkt_xmit,
	.seg_alloc = f_seg_alloc,
	.seg_free = f_seg_free,
	.conn_alloc = f_conn_alloc,
	.conn_free = f_conn_free,
	.conn_insert = f_conn_insert,
	.conn_remove = f_conn_remove,
};

/* ---- input ---- */

struct cursor {
	const uint8_t *p;
	size_t n;
};

static uint8_t
u8(struct cursor *c)
{
	if (c->n == 0)
		return 0;
	c->n--;
	return *c->p++;
}

static uint16_t
u16(struct cursor *c)
{
	uint16_t v = (uint16_t)(u8(c) << 8);

	return (uint16_t)(v | u8(c));
}

static uint32_t
u32(struct cursor *c)
{
	uint32_t v = (uint32_t)u16(c) << 16;

	return v | u16(c);
}

static const uint16_t lports[4] = {7, 9, 19, 5555};

/* Tuple selector: listener port (2 bits), client port (3 bits), address variant. */
static struct sl_tcp_tuple
tuple_of(uint8_t sel)
{
	struct sl_tcp_tuple t = {
		.laddr = {0x0a000001},
		.raddr = {0x0a000002 + ((sel >> 5) & 1)},
		.lport = lports[sel & 3],
		.rport = (uint16_t)(40000 + ((sel >> 2) & 7)),
	};

	if (sel & 0x80)
		t.laddr.v = 0x0a000009; /* not an address the listeners have */
	return t;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void
deliver(struct fenv *e, const struct sl_tcp_tuple *t, struct sl_tcp_seg *seg, bool fix_csum,
	unsigned int flags)
{
	if (fix_csum && seg->len >= 20) {
		uint16_t sum;

		put16(seg->data + 16, 0);
		sum = ref_csum(t->raddr, t->laddr, seg->data, seg->len);
		put16(seg->data + 16, sum);
	}
	sl_tcp_input(&e->st, lookup(e, t), t, seg, flags, e->now);
}

static void
op_raw(struct fenv *e, struct cursor *in)
{
	struct sl_tcp_tuple t = tuple_of(u8(in));
	uint8_t mode = u8(in);
	uint32_t len = u16(in) % 1600;
	struct sl_tcp_seg *seg = f_seg_alloc(e, len);
	uint32_t i;

	for (i = 0; i < len; i++)
		seg->data[i] = u8(in);
	seg->len = len;
	deliver(e, &t, seg, mode & 1, (mode & 2) ? SL_TCP_IN_CSUM_OK : 0);
}

static uint32_t
rel(struct cursor *in, uint32_t base)
{
	uint8_t m = u8(in);
	int32_t d = (int8_t)u8(in);

	switch (m & 3) {
	case 0:
		return base + (uint32_t)d;
	case 1:
		return base + (uint32_t)(d * 1460);
	case 2:
		return base + (uint32_t)(d * 65536);
	default:
		return u32(in);
	}
}

/* Timestamps option at <o>: TSval near TS.Recent of <c>, TSecr near our clock. */
static unsigned int
opt_ts(struct cursor *in, const struct sl_tcp_conn *c, uint8_t *o)
{
	int8_t dv = (int8_t)u8(in), de = (int8_t)u8(in);
	uint32_t recent = c != NULL ? c->ts_recent : 0;
	uint32_t now = c != NULL ? sl_tcp__ts_now(c) : 0;

	o[0] = o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	put32(o + 4, recent + (uint32_t)(int32_t)dv);
	put32(o + 8, now + (uint32_t)(int32_t)de * 7);
	return 12;
}

/* SACK blocks at <o>, edges near SND.UNA of <c> in steps of 100 bytes. */
static unsigned int
opt_sack(struct cursor *in, const struct sl_tcp_conn *c, uint8_t *o, unsigned int room)
{
	unsigned int n = u8(in) % 5, i;
	uint32_t base = c != NULL ? c->snd_una.v : 0;

	if (n == 0 || 4 + 8 * n > room)
		return 0;
	o[0] = o[1] = 1;
	o[2] = 5;
	o[3] = (uint8_t)(2 + 8 * n);
	for (i = 0; i < n; i++) {
		uint32_t l = base + 100u * (uint32_t)(int32_t)(int8_t)u8(in);

		put32(o + 4 + 8 * i, l);
		put32(o + 8 + 8 * i, l + 100u * (u8(in) % 8));
	}
	return 4 + 8 * n;
}

static void
op_seg(struct fenv *e, struct cursor *in)
{
	struct sl_tcp_tuple t = tuple_of(u8(in));
	struct sl_tcp_conn *c = lookup(e, &t);
	uint8_t flags = u8(in);
	uint32_t seq = rel(in, c != NULL ? c->rcv_nxt.v : 1000);
	uint32_t ack = rel(in, c != NULL ? c->snd_una.v : e->last_iss + 1);
	uint16_t wnd = u16(in);
	uint8_t optlen = (uint8_t)(u8(in) % 41);
	uint32_t len = u16(in) % 3000, hlen, i;
	uint8_t mode = u8(in), opts[40];
	struct sl_tcp_seg *seg;
	uint8_t *h;

	if (mode & 0x18) {
		optlen = 0;
		if (mode & 0x08)
			optlen = (uint8_t)opt_ts(in, c, opts);
		if (mode & 0x10)
			optlen = (uint8_t)(optlen + opt_sack(in, c, opts + optlen, 40u - optlen));
	} else {
		for (i = 0; i < optlen; i++)
			opts[i] = u8(in);
	}
	hlen = 20 + ((optlen + 3u) & ~3u);
	seg = f_seg_alloc(e, hlen + len);
	h = seg->data;
	memset(h, 0, hlen);
	put16(h, t.rport);
	put16(h + 2, t.lport);
	put32(h + 4, seq);
	put32(h + 8, ack);
	h[12] = (uint8_t)((hlen / 4) << 4);
	h[13] = flags;
	put16(h + 14, wnd);
	memcpy(h + 20, opts, optlen);
	for (i = 0; i < len; i++)
		h[hlen + i] = (mode & 4) ? u8(in) : (uint8_t)i;
	seg->len = hlen + len;
	deliver(e, &t, seg, !(mode & 1), (mode & 2) ? SL_TCP_IN_CSUM_OK : 0);
}

static const uint64_t advances[16] = {
	0,	 1,	  100,	   1000,     5000,     40000,	  100000,    200000,
	1000000, 2000000, 5000000, 30000000, 60000000, 120000000, 600000000, 3600000000ull,
};

static void
advance(struct fenv *e, uint64_t us, uint64_t step)
{
	uint64_t end = e->now + us;

	while (e->now < end) {
		uint64_t s = end - e->now < step ? end - e->now : step;

		e->now += s;
		sl_tcp_timer(&e->st, e->now);
	}
}

static void
op_time(struct fenv *e, struct cursor *in)
{
	uint8_t b = u8(in);

	/* tick by tick up to 200 ms, then in 50 steps (timers fire late), or in one leap */
	uint64_t us = advances[b & 15];

	advance(e, us, (b & 0x10) ? us : us <= 200000 ? 1000 : us / 50);
}

/* The conns an application holds: accepted, not told they are gone, not closed. */
static bool
held(const struct sl_tcp_conn *c)
{
	const struct sl_tcp_listener *l = c->listener;

	/* the test apps close on peer_closed; until then they hold c (ACCEPTED, not closed) */
	return l != NULL &&
	       (c->flags & (SL_TCP_F_ACCEPTED | SL_TCP_F_APP_CLOSED)) == SL_TCP_F_ACCEPTED;
}

static void
op_app(struct fenv *e, struct cursor *in)
{
	struct sl_tcp_tuple t = tuple_of(u8(in));
	uint8_t a = u8(in);
	uint16_t n = u16(in) % 5000;
	struct sl_tcp_conn *c = lookup(e, &t);
	struct sl_tcp_seg *s;

	if (c == NULL || !held(c))
		return;
	switch (a % 7) {
	case 0:
		/* echo keeps a refused chain in its user pointer: hand it back first */
		if (c->listener->ops == &sl_tcp_echo_ops) {
			sl_tcp_seg_free_chain(&e->st, sl_tcp_user(c));
			sl_tcp_set_user(c, NULL);
		}
		sl_tcp_close(c, e->now);
		break;
	case 1:
		if (c->listener->ops == &sl_tcp_echo_ops) {
			sl_tcp_seg_free_chain(&e->st, sl_tcp_user(c));
			sl_tcp_set_user(c, NULL);
		}
		sl_tcp_abort(c, e->now);
		break;
	case 2:
		sl_tcp_shutdown(c, e->now);
		break;
	case 3:
		s = sl_tcp_seg_alloc(&e->st, n);
		memset(s->data, 'f', n);
		s->len = n;
		if (sl_tcp_send(c, s, e->now) != 0)
			sl_tcp_seg_free_chain(&e->st, s);
		break;
	case 4:
		sl_tcp_consumed(c, n, e->now);
		break;
	case 5:
		e->fail_alloc = !e->fail_alloc;
		break;
	default:
		sl_tcp_set_keepalive(c, n & 1, e->now);
		break;
	}
}

/* The out-of-order queue: sorted, disjoint, beyond RCV.NXT, counted right; the scoreboard:
 * sorted, disjoint, inside (SND.UNA, SND.MAX]; the congestion window at least one SMSS. */
static void
check_conn(const struct sl_tcp_conn *c)
{
	const struct sl_tcp_seg *s;
	uint32_t bytes = 0, n = 0, prev_end = c->rcv_nxt.v;
	unsigned int i;

	for (s = c->ooo_head; s != NULL; s = s->next) {
		if (s->len == 0 || (int32_t)(s->seq - prev_end) < (n == 0 ? 1 : 0))
			die("out-of-order queue unsorted, overlapping or not beyond RCV.NXT");
		prev_end = s->seq + s->len;
		bytes += s->len;
		n++;
		if (s->next == NULL && s != c->ooo_tail)
			die("out-of-order tail pointer wrong");
	}
	if (bytes != c->ooo_bytes || n != c->ooo_cnt || (n == 0) != (c->ooo_tail == NULL))
		die("out-of-order counts wrong");
	if (bytes > c->stack->p.ooo_max_bytes || n > c->stack->p.ooo_max_segs)
		die("out-of-order queue beyond its bounds");
	if (c->n_sack > SL_TCP_SACK_MAX)
		die("scoreboard too long");
	for (i = 0; i < c->n_sack; i++) {
		const struct sl_tcp_sack *r = &c->sack[i];

		if (!sl_seq_lt(r->start, r->end) || !sl_seq_le(c->snd_una, r->start) ||
		    sl_seq_gt(r->end, c->snd_max) ||
		    (i > 0 && !sl_seq_lt(c->sack[i - 1].end, r->start)))
			die("scoreboard range out of order or out of range");
	}
	if (c->state >= SL_TCP_ESTABLISHED && c->state != SL_TCP_TIME_WAIT && c->cwnd < c->mss)
		die("cwnd below one segment");
	if (sl_seq_gt(c->snd_nxt, c->snd_max) || sl_seq_lt(c->snd_nxt, c->snd_una))
		die("snd_nxt out of [snd_una, snd_max]");
}

/* Invariants after every operation. */
static void
check(struct fenv *e)
{
	uint64_t sum = 0;
	unsigned int i, syn_rcvd[SL_TCP_LISTENERS_MAX] = {0};

	for (i = 0; i < SL_TCP_NSTATES; i++)
		sum += e->st.stats.conns[i];
	if (sum != e->n_conns)
		die("conns[] does not add up to the connections allocated");
	for (i = 0; i < e->n_conns; i++) {
		const struct sl_tcp_conn *c = e->conns[i];

		if (c->state == SL_TCP_SYN_RCVD)
			syn_rcvd[c->listener - e->st.listeners]++;
		if (c->state != SL_TCP_CLOSED && lookup(e, &c->tuple) != c)
			die("a live connection is not in the table");
		if (c->state == SL_TCP_CLOSED && !held(c))
			die("a closed connection nobody holds was not freed");
		if (c->state != SL_TCP_CLOSED && c->state != SL_TCP_SYN_RCVD)
			check_conn(c);
		if (c->state == SL_TCP_CLOSED && (c->ooo_head != NULL || c->sndq_head != NULL))
			die("a closed connection keeps buffers");
	}
	for (i = 0; i < e->st.n_listeners; i++)
		if (e->st.listeners[i].pending != syn_rcvd[i])
			die("listener backlog count is off");
}

/* Establish a connection from tuple selector <sel>: its SYN offers MSS and WS, plus SACK
 * (<sack>) and timestamps (<ts>). */
static void
handshake(struct fenv *e, uint8_t sel, uint32_t isn, bool sack, bool ts)
{
	struct sl_tcp_tuple t = tuple_of(sel);
	static const uint8_t opts[20] = {2, 4, 0x05, 0xb4, 1, 3,  3, 7, 1, 1,
					 4, 2, 1,    1,	   8, 10, 0, 0, 0, 1};
	unsigned int olen = 8 + (sack ? 4 : 0) + (ts ? 12 : 0);
	struct sl_tcp_seg *seg = f_seg_alloc(e, 20 + olen);
	uint8_t *h = seg->data;

	memset(h, 0, 20 + olen);
	put16(h, t.rport);
	put16(h + 2, t.lport);
	put32(h + 4, isn);
	h[12] = (uint8_t)((20 + olen) / 4 << 4);
	h[13] = 0x02;
	put16(h + 14, 65535);
	memcpy(h + 20, opts, 8);
	if (sack)
		memcpy(h + 28, opts + 8, 4);
	if (ts)
		memcpy(h + 28 + (sack ? 4 : 0), opts + 12, 8); /* TSval 1, TSecr 0 */
	seg->len = 20 + olen;
	deliver(e, &t, seg, true, 0);
	seg = f_seg_alloc(e, 32);
	h = seg->data;
	memset(h, 0, 32);
	put16(h, t.rport);
	put16(h + 2, t.lport);
	put32(h + 4, isn + 1);
	put32(h + 8, e->last_iss + 1);
	h[12] = (ts ? 8 : 5) << 4;
	h[13] = 0x10;
	put16(h + 14, 512);
	if (ts) {
		h[20] = h[21] = 1;
		h[22] = 8;
		h[23] = 10;
		put32(h + 24, 2);
	}
	seg->len = ts ? 32 : 20;
	deliver(e, &t, seg, true, 0);
}

static void
teardown(struct fenv *e)
{
	unsigned int i;

	e->fail_alloc = false;
	/* the environment's shutdown: the table's connections are released; what an
	 * application kept (echo's refused chain) is its to free */
	for (i = 0; i < TABLE; i++) {
		struct sl_tcp_conn *c = e->table[i];

		if (c == NULL)
			continue;
		if (held(c) && c->listener->ops == &sl_tcp_echo_ops)
			sl_tcp_seg_free_chain(&e->st, sl_tcp_user(c));
		sl_tcp_conn_release(&e->st, c);
	}
	/* connections that closed while their application held them: it closes now */
	while (e->n_conns != 0) {
		struct sl_tcp_conn *c = e->conns[0];

		if (c->state != SL_TCP_CLOSED || !held(c))
			die("a connection leaked");
		if (c->listener->ops == &sl_tcp_echo_ops)
			sl_tcp_seg_free_chain(&e->st, sl_tcp_user(c));
		sl_tcp_close(c, e->now);
	}
	for (i = 0; i < SL_TCP_NSTATES; i++)
		if (e->st.stats.conns[i] != 0)
			die("conns[] not zero at the end");
	if (e->segs != 0)
		die("segments leaked");
	if (e->pkts != 0)
		die("packet buffers leaked");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t msss[4] = {536, 1460, 64, 9000};
	static const uint32_t bufs[4] = {4096, 65536, 262144, 1u << 20};
	struct cursor in = {data, size};
	struct sl_tcp_params p;
	uint8_t b0 = u8(&in), b1 = u8(&in), b2 = u8(&in), b3 = u8(&in), b4 = u8(&in);
	unsigned int ops = 0;

	if (E == NULL) {
		E = malloc(sizeof(*E));
		if (E == NULL)
			die("malloc");
	}
	memset(E, 0, sizeof(*E));
	memset(&p, 0, sizeof(p));
	p.mss = msss[b0 & 3];
	p.wscale = (uint8_t)((b0 >> 2) % 15);
	p.rcv_buf = bufs[(b0 >> 6) & 3];
	p.snd_buf = bufs[b1 & 3] / 2;
	p.rx_csum_offload = (b1 >> 2) & 1;
	p.tx_csum_offload = (b1 >> 3) & 1;
	p.syn_retries = (uint8_t)(1 + ((b1 >> 4) & 3));
	p.retries = (uint8_t)(1 + ((b1 >> 6) & 3));
	p.rto_min_us = 1000 * (1 + (b2 & 7));
	p.rto_init_us = p.rto_min_us * (1 + ((b2 >> 3) & 3));
	p.rto_max_us = p.rto_init_us * (1 + ((b2 >> 5) & 7));
	p.delack_us = 1000 * (1 + (b3 & 31));
	p.time_wait_us = 10000 * (1 + ((b3 >> 5) & 7));
	p.fin_wait2_us = 2 * p.time_wait_us;
	p.tick_us = 1000;
	p.no_sack = (b4 & 1) != 0;
	p.no_timestamps = (b4 & 2) != 0;
	if (b4 & 4) {
		p.ooo_max_bytes = 3000;
		p.ooo_max_segs = (b4 & 8) ? 2 : 0;
	}
	p.challenge_ack_limit = (b4 & 0x10) ? 3 : 0;
	if (b4 & 0x20) {
		p.keepalive_idle_us = 100000u * (1 + ((b4 >> 6) & 3));
		p.keepalive_intvl_us = 50000;
		p.keepalive_probes = (uint8_t)(1 + (b3 & 3));
	}
	E->tx_offload = p.tx_csum_offload;
	E->now = 1000000;
	if (sl_tcp_stack_init(&E->st, &p, &f_ops, E, 7, E->now) != 0)
		die("init");
	if (sl_tcp_listen(&E->st, (struct sl_ip4){0x0a000001}, 7, 4, &sl_tcp_echo_ops, &E->st) ||
	    sl_tcp_listen(&E->st, (struct sl_ip4){0}, 9, 4, &sl_tcp_discard_ops, &E->st) ||
	    sl_tcp_listen(&E->st, (struct sl_ip4){0x0a000001}, 19, 2, &sl_tcp_chargen_ops, &E->st))
		die("listen");
	/* echo, client 40000, ISN about to wrap; discard; chargen */
	handshake(E, 0x00, 0xfffffff0u, true, true);
	handshake(E, 0x01, 12345, true, false);
	handshake(E, 0x02, 777, (b4 & 0x40) != 0, (b4 & 0x40) != 0);
	check(E);
	while (in.n != 0 && ops++ < 400) {
		switch (u8(&in) & 3) {
		case 0:
			op_raw(E, &in);
			break;
		case 1:
			op_seg(E, &in);
			break;
		case 2:
			op_time(E, &in);
			break;
		default:
			op_app(E, &in);
			break;
		}
		check(E);
	}
	/* let every timer run out: connections end or stay held by their application */
	E->fail_alloc = false;
	advance(E, 3600000000ull, 3600000000ull);
	check(E);
	teardown(E);
	return 0;
}
