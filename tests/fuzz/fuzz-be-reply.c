/*
 * libFuzzer target: a Cocaine node's reply stream to the backend module
 * (dataplane/backend/be.c), over a real TCP stack (dataplane/tcp) with a counting
 * environment.
 *
 * Input: byte 0 picks how many channels are open on the connection (bits 0-1: 1-4, ids
 * 1..4), how the connection ends (bits 2-3 mod 3: nothing more, the node's FIN, the node's
 * RST) and whether the node acknowledges the requests (bit 7: not), bytes 1-2 seed how the
 * stream is cut into segments, byte 3 seeds the chaos of the third run; the rest is what the
 * node sends. Three runs, each on a fresh stack and sl_be:
 *   1. the stream in segments of 1400 bytes;
 *   2. the stream cut at pseudo-random points (1-byte segments included);
 *   3. cut as in 2, with handlers that pause on DATA (resumed a segment later), channels
 *      cancelled, deadlines passing and the connection ending in between.
 * Runs 1 and 2 must give the same digest of events (DATA of a channel merged). Every run:
 * events only for open channels, at most one terminal event per channel and none after it,
 * DATA within the CHUNK's length, CHUNK_END after exactly that many bytes (unless cut short),
 * a terminal event for every channel once the connection ended, and at the end every TCP
 * buffer, packet and connection back in the environment.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "fuzz-env.h"
#include "tcp.h"

#define NCH 4

struct fch {
	struct sl_be_chan ch;
	struct fenv *e;
	int idx;
	bool open; /* sent and not ended (nor cancelled) */
	bool cancelled;
	int terminal;
	bool in_chunk;
	uint32_t chunk_len, chunk_got;
};

struct fenv {
	struct fz_env z; /* first: be_xmit gets it */
	struct sl_be *be;
	struct sl_be_stats stats;
	struct sl_cluster cl;
	struct sl_tcp_tuple t; /* the node's connection, from the stack's side */
	bool have_t;
	uint32_t iss, isn; /* the stack's, the node's */
	uint32_t rx_end;   /* bytes of the stack's stream seen */
	uint32_t tx;	   /* bytes the node sent */
	bool stack_rst;
	struct fch ch[NCH];
	uint64_t digest;
	int last_data; /* channel index of the last DATA digested, -1 */
	uint32_t rng;
	bool chaos;
	int paused_by; /* channel index whose handler paused, -1 */
};

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint32_t
rnd(struct fenv *e)
{
	e->rng ^= e->rng << 13;
	e->rng ^= e->rng >> 17;
	e->rng ^= e->rng << 5;
	return e->rng;
}

/* ---- the environment ---- */

/* What the stack sends on the node's connection: its ISS, its RST, how far its stream got. */
static void
be_xmit(struct fz_env *z, const struct sl_tcp_tuple *t, const uint8_t *h, uint16_t tcp_len)
{
	struct fenv *e = (struct fenv *)z;
	uint32_t hl = (h[12] >> 4) * 4u, seq = fz_get32(h + 4), end;

	if (e->have_t && t->lport == e->t.lport && t->raddr.v == e->t.raddr.v) {
		if (h[13] & 0x02)
			e->iss = seq;
		else if (h[13] & 0x04)
			e->stack_rst = true;
		end = seq - e->iss - 1 + (tcp_len - hl);
		if (!(h[13] & 0x06) && (int32_t)(end - e->rx_end) > 0 && end < (1u << 30))
			e->rx_end = end;
	}
}

static int
f_connect(void *env, struct sl_ip4 addr, uint16_t port, const struct sl_tcp_app_ops *ops, void *app,
	  void *user, struct sl_tcp_conn **out)
{
	struct fenv *e = env;

	if (e->have_t)
		fz_die("a second connection for one node and app");
	e->t = (struct sl_tcp_tuple){
		.laddr = {0x0a000001}, .raddr = addr, .lport = 50000, .rport = port};
	e->have_t = true;
	return sl_tcp_connect(&e->z.st, &e->t, ops, app, user, out, e->z.now);
}

static const struct sl_be_env_ops f_be_ops = {.connect = f_connect};

/* A segment from the node: the stack's tuple, seq/ack from what was sent and seen. */
static void
node_seg(struct fenv *e, uint8_t flags, uint32_t seq, const uint8_t *data, uint32_t len,
	 const uint8_t *opts, uint32_t optlen)
{
	fz_input(&e->z, &e->t, flags, seq, e->iss + 1 + e->rx_end, 0xffff, data, len, opts, optlen);
}

static void
node_data(struct fenv *e, uint8_t flags, const uint8_t *data, uint32_t len)
{
	node_seg(e, flags, e->isn + 1 + e->tx, data, len, NULL, 0);
	e->tx += len;
}

/* ---- the handler ---- */

static void
dig(struct fenv *e, int idx, int type, uint64_t a, uint64_t b)
{
	uint64_t v[4] = {(uint64_t)idx, (uint64_t)type, a, b};

	e->digest = fnv(e->digest, v, sizeof(v));
	e->last_data = -1;
}

static int
ev_fn(void *user, struct sl_be_chan *ch, const struct sl_be_ev *ev)
{
	struct fch *c = user;
	struct fenv *e = c->e;

	if (&c->ch != ch || !c->open || c->terminal != 0)
		fz_die("an event for a channel that is not open");
	switch (ev->type) {
	case SL_BE_EV_CHUNK:
		if (c->in_chunk)
			fz_die("CHUNK inside a chunk");
		c->in_chunk = true;
		c->chunk_len = ev->len;
		c->chunk_got = 0;
		dig(e, c->idx, ev->type, ev->len, 0);
		return 0;
	case SL_BE_EV_DATA:
		if (!c->in_chunk || ev->len == 0 || ev->len > c->chunk_len - c->chunk_got ||
		    ev->p == NULL)
			fz_die("DATA outside its chunk");
		c->chunk_got += ev->len;
		if (e->last_data != c->idx) {
			dig(e, c->idx, ev->type, 0, 0);
			e->last_data = c->idx;
		}
		e->digest = fnv(e->digest, ev->p, ev->len);
		if (e->chaos && e->paused_by < 0 && (rnd(e) & 3) == 0) {
			e->paused_by = c->idx;
			return 1;
		}
		return 0;
	case SL_BE_EV_CHUNK_END:
		if (!c->in_chunk || c->chunk_got != c->chunk_len)
			fz_die("CHUNK_END before its bytes");
		c->in_chunk = false;
		dig(e, c->idx, ev->type, 0, 0);
		return 0;
	case SL_BE_EV_CLOSE:
	case SL_BE_EV_ERROR:
		if (c->in_chunk)
			fz_die("a frame inside a chunk");
		/* fall through */
	case SL_BE_EV_LOST:
	case SL_BE_EV_TIMEOUT:
		if (ch->conn != NULL)
			fz_die("attached at its terminal event");
		c->terminal++;
		c->open = false;
		dig(e, c->idx, ev->type, (uint64_t)ev->err.cat ^ (uint64_t)ev->errnum,
		    (uint64_t)ev->err.code ^ ev->len ^ ((uint64_t)ev->unsent << 40));
		if (ev->type == SL_BE_EV_ERROR)
			e->digest = fnv(e->digest, ev->p, ev->len);
		return 0;
	}
	fz_die("an unknown event");
	return 0;
}

/* ---- one run ---- */

static const uint8_t head[] = {0x95, 0xa3, 'G', 'E', 'T', 0xa1, '/', 0xa3, '1', '.', '1', 0x90};
static const uint8_t mss_opt[] = {2, 4, 0x05, 0xb4};

static void
tick(struct fenv *e, uint64_t us)
{
	e->z.now += us;
	sl_tcp_timer(&e->z.st, e->z.now);
	sl_be_tick(e->be, e->z.now);
}

static uint64_t
run(const uint8_t *d, size_t n, int mode)
{
	struct fenv *e = calloc(1, sizeof(*e));
	struct sl_be_conf conf = {.pool_size = 1, .max_conns = 2, .max_chans = 16};
	uint8_t flags = d[0];
	int nch = (flags & 3) + 1;
	int end = (flags >> 2) % 3; /* 0: nothing, 1: FIN, 2: RST */
	const uint8_t *s = d + 4;
	size_t len = n - 4, off = 0;
	uint64_t digest;

	if (e == NULL)
		fz_die("calloc");
	e->isn = 0x12345678;
	e->digest = 0xcbf29ce484222325ull;
	e->last_data = -1;
	e->paused_by = -1;
	e->chaos = mode == 2;
	e->rng = ((uint32_t)d[1] << 8 | d[2]) * 2654435761u | 1;
	fz_init(&e->z, be_xmit, 1000000);
	e->cl.n_nodes = 1;
	e->cl.n_apps = 1;
	e->cl.nodes[0].up = true;
	e->cl.apps[0].n_eps = 1;
	e->cl.apps[0].eps[0] = (struct sl_cl_ep){.node = 0, .port = 10053, .addr = {0x0a000101}};
	e->be = sl_be_create(&e->z.st, &conf, &f_be_ops, e, &e->stats, ev_fn);
	if (e->be == NULL)
		fz_die("sl_be_create");
	sl_be_set_view(e->be, &e->cl);
	for (int i = 0; i < nch; i++) {
		struct fch *c = &e->ch[i];
		struct sl_tcp_seg *h = fz_seg_alloc(&e->z, sizeof(head));
		struct sl_be_req req = {.event = "http",
					.event_len = 4,
					.head = h,
					.head_len = sizeof(head),
					.deadline_us =
						e->chaos && (rnd(e) & 1) ? e->z.now + 50000 : 0};

		memcpy(h->data, head, sizeof(head));
		c->e = e;
		c->idx = i;
		c->ch.user = c;
		c->ch.heap_idx = UINT32_MAX;
		if (sl_be_send(e->be, &c->ch, 0, 0, &req) != 0)
			fz_die("sl_be_send");
		fz_seg_free(&e->z, h);
		if (c->ch.id != (uint64_t)i + 1)
			fz_die("channel ids are not 1, 2, ...");
		c->open = true;
	}
	if (!e->have_t)
		fz_die("no connection opened");
	/* the handshake; the node acknowledges the requests (or not, bit 7) */
	node_seg(e, 0x12, e->isn, NULL, 0, mss_opt, sizeof(mss_opt));
	if (!(flags & 0x80))
		node_data(e, 0x10, NULL, 0);
	while (off < len) {
		uint32_t k;

		if (mode == 0) {
			k = 1400;
		} else {
			uint32_t r = rnd(e);

			k = (r & 0x300) != 0 ? 1 + (r & 7) : 1 + (r >> 10) % 1400;
		}
		if (k > len - off)
			k = (uint32_t)(len - off);
		node_data(e, 0x18, s + off, k);
		off += k;
		if (e->chaos) {
			uint32_t r = rnd(e);

			if (e->paused_by >= 0 && (r & 1)) {
				int i = e->paused_by;

				e->paused_by = -1;
				sl_be_resume(e->be, &e->ch[i].ch);
			}
			if ((r & 0x30) == 0x30) {
				struct fch *c = &e->ch[(r >> 8) % (uint32_t)nch];

				if (c->open) {
					c->open = false;
					c->cancelled = true;
					if (e->paused_by == c->idx)
						e->paused_by = -1;
					sl_be_cancel(e->be, &c->ch);
				}
			}
			if ((r & 0x700) == 0x700)
				tick(e, 20000);
		}
	}
	if (e->chaos && e->paused_by >= 0) {
		int i = e->paused_by;

		e->paused_by = -1;
		sl_be_resume(e->be, &e->ch[i].ch);
	}
	if (end == 1)
		node_seg(e, 0x11, e->isn + 1 + e->tx, NULL, 0, NULL, 0);
	else if (end == 2)
		node_seg(e, 0x04, e->isn + 1 + e->tx, NULL, 0, NULL, 0);
	/* replies held behind a pause are decoded before a FIN ends the connection: the
	 * client reads (resume) until nothing is paused any more */
	for (int k = 0; k < 64 && e->paused_by >= 0; k++) {
		int i = e->paused_by;

		e->paused_by = -1;
		sl_be_resume(e->be, &e->ch[i].ch);
	}
	if (e->chaos)
		tick(e, 100000);
	for (int i = 0; i < nch; i++) {
		struct fch *c = &e->ch[i];

		if (c->terminal > 1)
			fz_die("two terminal events");
		if ((end != 0 || e->stack_rst) && !c->cancelled && c->terminal != 1)
			fz_die("a channel outlived its connection");
		if (e->stack_rst && !c->cancelled && c->terminal != 1)
			fz_die("a channel outlived the connection's reset");
	}
	digest = e->digest;
	sl_be_free(e->be);
	fz_fini(&e->z);
	free(e);
	return digest;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t a, b;

	if (size < 4)
		return 0;
	a = run(data, size, 0);
	b = run(data, size, 1);
	if (a != b)
		fz_die("events differ between whole and cut deliveries");
	(void)run(data, size, 2);
	return 0;
}
