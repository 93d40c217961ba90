/*
 * The counting TCP environment of the fuzz targets over the TCP core (fuzz-env.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-env.h"

struct segbuf {
	struct sl_tcp_seg seg;
	uint32_t room;
	uint8_t buf[];
};

void
fz_die(const char *what)
{
	fprintf(stderr, "fuzz: %s\n", what);
	abort();
}

uint32_t
fz_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void *
f_pkt_alloc(void *env, uint8_t **frame, uint16_t room)
{
	struct fz_env *z = env;
	uint8_t *p = malloc(room);

	if (p == NULL)
		fz_die("malloc");
	*frame = p;
	z->pkts++;
	return p;
}

static void
f_pkt_xmit(void *env, void *pkt, uint8_t *frame, uint16_t tcp_len, const struct sl_tcp_tuple *t)
{
	struct fz_env *z = env;
	const uint8_t *h = frame + SL_TCP_L4_OFF;
	uint32_t hl;

	if (pkt != frame || tcp_len < 20)
		fz_die("a bad transmitted segment");
	hl = (h[12] >> 4) * 4u;
	if (hl < 20 || hl > tcp_len)
		fz_die("a bad data offset");
	if (z->xmit != NULL)
		z->xmit(z, t, h, tcp_len);
	free(pkt);
	z->pkts--;
}

struct sl_tcp_seg *
fz_seg_alloc(struct fz_env *z, uint32_t room)
{
	struct segbuf *b = malloc(sizeof(*b) + room);

	if (b == NULL)
		fz_die("malloc");
	b->seg.next = NULL;
	b->seg.data = b->buf;
	b->seg.len = room;
	b->seg.owner = b;
	b->room = room;
	z->segs++;
	return &b->seg;
}

static struct sl_tcp_seg *
f_seg_alloc(void *env, uint32_t room)
{
	return fz_seg_alloc(env, room);
}

void
fz_seg_free(struct fz_env *z, struct sl_tcp_seg *seg)
{
	struct segbuf *b = seg->owner;

	if (&b->seg != seg || seg->data < b->buf || seg->data + seg->len > b->buf + b->room)
		fz_die("seg_free of a bad segment view");
	free(b);
	z->segs--;
	if (z->segs < 0)
		fz_die("a segment freed twice");
}

static void
f_seg_free(void *env, struct sl_tcp_seg *seg)
{
	fz_seg_free(env, seg);
}

static struct sl_tcp_conn *
f_conn_alloc(void *env)
{
	struct fz_env *z = env;
	struct sl_tcp_conn *c;

	if (z->n_conns == FZ_MAX_CONNS)
		return NULL;
	c = malloc(sizeof(*c));
	if (c == NULL)
		fz_die("malloc");
	memset(c, 0xa5, sizeof(*c));
	z->conns[z->n_conns++] = c;
	return c;
}

static void
f_conn_free(void *env, struct sl_tcp_conn *c)
{
	struct fz_env *z = env;

	for (unsigned int i = 0; i < FZ_TABLE; i++)
		if (z->table[i] == c)
			fz_die("conn_free of a connection in the table");
	for (unsigned int i = 0; i < z->n_conns; i++) {
		if (z->conns[i] == c) {
			z->conns[i] = z->conns[--z->n_conns];
			free(c);
			return;
		}
	}
	fz_die("conn_free of an unknown connection");
}

static int
tuple_eq(const struct sl_tcp_tuple *a, const struct sl_tcp_tuple *b)
{
	return a->laddr.v == b->laddr.v && a->raddr.v == b->raddr.v && a->lport == b->lport &&
	       a->rport == b->rport;
}

struct sl_tcp_conn *
fz_lookup(struct fz_env *z, const struct sl_tcp_tuple *t)
{
	for (unsigned int i = 0; i < FZ_TABLE; i++)
		if (z->table[i] != NULL && tuple_eq(&z->table[i]->tuple, t))
			return z->table[i];
	return NULL;
}

static int
f_conn_insert(void *env, struct sl_tcp_conn *c)
{
	struct fz_env *z = env;

	if (fz_lookup(z, &c->tuple) != NULL)
		fz_die("tuple inserted twice");
	for (unsigned int i = 0; i < FZ_TABLE; i++) {
		if (z->table[i] == NULL) {
			z->table[i] = c;
			return 0;
		}
	}
	return -ENOSPC;
}

static void
f_conn_remove(void *env, struct sl_tcp_conn *c)
{
	struct fz_env *z = env;

	for (unsigned int i = 0; i < FZ_TABLE; i++) {
		if (z->table[i] == c) {
			z->table[i] = NULL;
			return;
		}
	}
	fz_die("conn_remove of a connection not in the table");
}

const struct sl_tcp_env_ops fz_ops = {
	.pkt_alloc = f_pkt_alloc,
	.pkt_xmit = f_pkt_xmit,
	.seg_alloc = f_seg_alloc,
	.seg_free = f_seg_free,
	.conn_alloc = f_conn_alloc,
	.conn_free = f_conn_free,
	.conn_insert = f_conn_insert,
	.conn_remove = f_conn_remove,
};

void
fz_init(struct fz_env *z, fz_xmit_fn xmit, uint64_t now)
{
	struct sl_tcp_params p = {.mss = 1460,
				  .wscale = 7,
				  .rcv_buf = 262144,
				  .snd_buf = 262144,
				  .rto_init_us = 1000000,
				  .rto_min_us = 200000,
				  .rto_max_us = 60000000,
				  .syn_retries = 5,
				  .retries = 8,
				  .delack_us = 40000,
				  .time_wait_us = 2000000,
				  .fin_wait2_us = 60000000,
				  .tick_us = 1000};

	z->now = now;
	z->xmit = xmit;
	if (sl_tcp_stack_init(&z->st, &p, &fz_ops, z, 1, now) != 0)
		fz_die("stack init");
}

void
fz_input(struct fz_env *z, const struct sl_tcp_tuple *t, uint8_t flags, uint32_t seq, uint32_t ack,
	 uint16_t wnd, const uint8_t *data, uint32_t len, const uint8_t *opts, uint32_t optlen)
{
	uint32_t hl = 20 + optlen;
	struct sl_tcp_seg *s = fz_seg_alloc(z, hl + len);
	uint8_t *h = s->data;

	memset(h, 0, 20);
	h[0] = (uint8_t)(t->rport >> 8), h[1] = (uint8_t)t->rport;
	h[2] = (uint8_t)(t->lport >> 8), h[3] = (uint8_t)t->lport;
	for (int i = 0; i < 4; i++) {
		h[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		h[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	h[12] = (uint8_t)((hl / 4) << 4);
	h[13] = flags;
	h[14] = (uint8_t)(wnd >> 8), h[15] = (uint8_t)wnd;
	if (optlen > 0)
		memcpy(h + 20, opts, optlen);
	if (len > 0)
		memcpy(h + hl, data, len);
	s->len = hl + len;
	sl_tcp_input(&z->st, fz_lookup(z, t), t, s, SL_TCP_IN_CSUM_OK, z->now);
}

void
fz_fini(struct fz_env *z)
{
	for (unsigned int i = 0; i < FZ_TABLE; i++)
		if (z->table[i] != NULL)
			sl_tcp_conn_release(&z->st, z->table[i]);
	if (z->segs != 0)
		fz_die("TCP segments leaked");
	if (z->pkts != 0)
		fz_die("packet buffers leaked");
	if (z->n_conns != 0)
		fz_die("connections leaked");
}
