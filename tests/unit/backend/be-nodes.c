/**
 * @file
 * The Cocaine nodes of the backend tests (tests/unit/backend/test-be.c, and the native front's
 * tests/unit/nfront/test-nfront.c), over the TCP stack of the TCP unit tests (tcp-test.h):
 * sl_be's `connect` (tn_env_ops, env: the struct tnodes) opens real connections on that stack;
 * the test answers the SYNs, reads what sluice sends, acknowledges it or not, and injects
 * reply bytes cut as it likes. Bytes written by hand: struct bb and its writers.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "be-nodes.h"

/* ---- the nodes ---- */

static int
tuple_eq(const struct sl_tcp_tuple *a, const struct sl_tcp_tuple *b)
{
	return a->laddr.v == b->laddr.v && a->raddr.v == b->raddr.v && a->lport == b->lport &&
	       a->rport == b->rport;
}

static int
env_connect(void *env, struct sl_ip4 addr, uint16_t port, const struct sl_tcp_app_ops *ops,
	    void *app, void *user, struct sl_tcp_conn **out)
{
	struct tnodes *n = env;
	struct peer *p = NULL;
	int r;

	for (unsigned int i = 0; i < TN_MAX_PEERS && p == NULL; i++)
		if (!n->peers[i].used)
			p = &n->peers[i];
	cr_assert_not_null(p, "more connections than the test has nodes for");
	memset(p, 0, offsetof(struct peer, rx));
	p->t = (struct sl_tcp_tuple){.laddr = T_IP4(10, 0, 0, 1),
				     .raddr = addr,
				     .lport = n->next_lport++,
				     .rport = port};
	p->isn = 7000000u * (uint32_t)(p - n->peers + 1);
	n->connects++;
	r = sl_tcp_connect(&n->e->st, &p->t, ops, app, user, out, n->e->now);
	if (r == 0)
		p->used = true;
	return r;
}

const struct sl_be_env_ops tn_env_ops = {.connect = env_connect};

struct peer *
peer_of(struct tnodes *n, const struct sl_tcp_tuple *t)
{
	for (unsigned int i = 0; i < TN_MAX_PEERS; i++)
		if (n->peers[i].used && tuple_eq(&n->peers[i].t, t))
			return &n->peers[i];
	return NULL;
}

static uint32_t
peer_ackno(const struct peer *p)
{
	return p->iss + 1 + p->acked + (p->fin_acked ? 1 : 0);
}

void
peer_seg(struct tnodes *n, struct peer *p, uint8_t flags, const uint8_t *data, uint32_t len)
{
	struct t_seg_spec s = {.flags = flags,
			       .seq = p->isn + 1 + p->tx,
			       .ack = peer_ackno(p),
			       .wnd = 65535,
			       .payload = data,
			       .len = len};

	t_inject_t(n->e, &p->t, &s);
	p->tx += len;
}

/* Read what sluice sent; the nodes acknowledge new bytes unless told not to. */
void
collect(struct tnodes *n)
{
	for (;;) {
		struct t_cap *c;
		bool acked = false;

		while ((c = t_pop(n->e)) != NULL) {
			struct peer *p = peer_of(n, &c->t);
			struct t_out o;
			uint32_t rel;

			cr_assert(t_parse(c, &o) && o.csum_ok, "a bad segment from sluice");
			if (p == NULL && n->other_seg != NULL &&
			    n->other_seg(n->other_ctx, c, &o)) {
				free(c);
				continue;
			}
			cr_assert_not_null(p, "a segment for a connection sluice did not open");
			if (o.flags & TF_SYN) {
				cr_assert_eq(o.flags, TF_SYN, "sluice opens with a plain SYN");
				p->syn = true;
				p->iss = o.seq;
				free(c);
				continue;
			}
			if (o.flags & TF_RST)
				p->rst = true;
			rel = o.seq - p->iss - 1;
			if (o.len > 0 && rel == p->rx_len) {
				cr_assert_leq(p->rx_len + o.len, TN_PEER_RX);
				memcpy(p->rx + p->rx_len, o.payload, o.len);
				p->rx_len += o.len;
			}
			if ((o.flags & TF_FIN) && rel + o.len == p->rx_len)
				p->fin = true;
			free(c);
		}
		for (unsigned int i = 0; i < TN_MAX_PEERS; i++) {
			struct peer *p = &n->peers[i];

			if (!p->used || !p->established || p->rst || p->noack)
				continue;
			if (p->acked == p->rx_len && p->fin == p->fin_acked)
				continue;
			p->acked = p->rx_len;
			p->fin_acked = p->fin;
			peer_seg(n, p, TF_ACK, NULL, 0);
			acked = true;
		}
		if (n->other_ack != NULL && n->other_ack(n->other_ctx))
			acked = true;
		if (!acked)
			return;
	}
}

/* Answer the SYN of a connection sluice opens. */
void
peer_accept(struct tnodes *n, struct peer *p)
{
	struct t_seg_spec s = {.flags = TF_SYN | TF_ACK,
			       .seq = p->isn,
			       .ack = p->iss + 1,
			       .wnd = 65535,
			       .opts = t_opts_mss1460,
			       .optlen = 4};

	collect(n);
	cr_assert(p->syn && !p->established, "no SYN to answer");
	t_inject_t(n->e, &p->t, &s);
	p->established = true;
	collect(n);
}

void
peer_refuse(struct tnodes *n, struct peer *p)
{
	struct t_seg_spec s = {.flags = TF_RST | TF_ACK, .seq = 0, .ack = p->iss + 1};

	collect(n);
	cr_assert(p->syn && !p->established, "no SYN to refuse");
	t_inject_t(n->e, &p->t, &s);
	p->used = false;
	collect(n);
}

/* The node sends bytes in segments of at most `mss` bytes. */
void
peer_send_mss(struct tnodes *n, struct peer *p, const void *data, uint32_t len, uint32_t mss)
{
	const uint8_t *d = data;

	while (len > 0) {
		uint32_t k = len < mss ? len : mss;

		peer_seg(n, p, TF_ACK | TF_PSH, d, k);
		d += k;
		len -= k;
		collect(n);
	}
}

void
peer_send(struct tnodes *n, struct peer *p, const void *data, uint32_t len)
{
	peer_send_mss(n, p, data, len, 1400);
}

void
peer_rst(struct tnodes *n, struct peer *p)
{
	peer_seg(n, p, TF_RST, NULL, 0);
	p->used = false;
	collect(n);
}

void
peer_fin(struct tnodes *n, struct peer *p)
{
	peer_seg(n, p, TF_FIN | TF_ACK, NULL, 0);
	p->tx++;
	collect(n);
}

/* The peer of the connection a channel is on (or was last opened). */
struct peer *
peer_last(struct tnodes *n)
{
	struct peer *best = NULL;

	for (unsigned int i = 0; i < TN_MAX_PEERS; i++)
		if (n->peers[i].used && (best == NULL || n->peers[i].t.lport > best->t.lport))
			best = &n->peers[i];
	cr_assert_not_null(best, "no connection open");
	return best;
}
/* ---- bytes written by hand ---- */

void
bb_put(struct bb *w, const void *d, uint32_t n)
{
	cr_assert_leq(w->n + n, sizeof(w->p));
	memcpy(w->p + w->n, d, n);
	w->n += n;
}

void
bb_u8(struct bb *w, uint8_t v)
{
	bb_put(w, &v, 1);
}

void
bb_be(struct bb *w, uint64_t v, unsigned int bytes)
{
	while (bytes-- > 0)
		bb_u8(w, (uint8_t)(v >> (8 * bytes)));
}

void
bb_raw(struct bb *w, enum enc e, const void *d, uint32_t n)
{
	switch (e) {
	case E_FIXRAW:
		cr_assert_lt(n, 32);
		bb_u8(w, (uint8_t)(0xa0 | n));
		break;
	case E_RAW16:
		bb_u8(w, 0xda), bb_be(w, n, 2);
		break;
	case E_RAW32:
		bb_u8(w, 0xdb), bb_be(w, n, 4);
		break;
	case E_STR8:
		bb_u8(w, 0xd9), bb_be(w, n, 1);
		break;
	case E_BIN8:
		bb_u8(w, 0xc4), bb_be(w, n, 1);
		break;
	case E_BIN16:
		bb_u8(w, 0xc5), bb_be(w, n, 2);
		break;
	case E_BIN32:
		bb_u8(w, 0xc6), bb_be(w, n, 4);
		break;
	default:
		cr_assert_fail();
	}
	bb_put(w, d, n);
}

void
bb_str(struct bb *w, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);

	bb_raw(w, n < 32 ? E_FIXRAW : E_RAW16, s, n);
}

/* `[ch, 0, [payload]` + hdrs (raw bytes of the 4th element, NULL: a 3-element frame) */
void
bb_write(struct bb *w, uint8_t ch, enum enc e, const void *d, uint32_t n, const void *hdrs,
	 uint32_t hlen)
{
	bb_u8(w, hdrs != NULL ? 0x94 : 0x93);
	bb_u8(w, ch);
	bb_u8(w, 0x00);
	bb_u8(w, 0x91);
	bb_raw(w, e, d, n);
	if (hdrs != NULL)
		bb_put(w, hdrs, hlen);
}

void
bb_close(struct bb *w, uint8_t ch, const void *hdrs, uint32_t hlen)
{
	bb_u8(w, hdrs != NULL ? 0x94 : 0x93);
	bb_u8(w, ch);
	bb_u8(w, 0x02);
	bb_u8(w, 0x90);
	if (hdrs != NULL)
		bb_put(w, hdrs, hlen);
}

/* error [[cat, code], msg] */
void
bb_error(struct bb *w, uint8_t ch, uint16_t cat, uint8_t code, const char *msg)
{
	bb_u8(w, 0x93);
	bb_u8(w, ch);
	bb_u8(w, 0x01);
	bb_u8(w, 0x92);
	bb_u8(w, 0x92);
	bb_u8(w, 0xcd), bb_be(w, cat, 2);
	bb_u8(w, code);
	bb_str(w, msg);
}

void
assert_rx(const struct peer *p, const struct bb *w)
{
	cr_assert_eq(p->rx_len, w->n, "the node received %u bytes, expected %u", p->rx_len, w->n);
	for (uint32_t i = 0; i < w->n; i++)
		cr_assert_eq(p->rx[i], w->p[i], "byte %u sent is %#x, expected %#x", i, p->rx[i],
			     w->p[i]);
}
