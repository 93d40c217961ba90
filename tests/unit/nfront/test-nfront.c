/**
 * @file
 * The native front (dataplane/nfront/nfront.c) over the TCP stack of the TCP unit tests
 * (tests/unit/tcp/tcp-test.c), with the backend pools (dataplane/backend/be.c) under it. The
 * test plays both ends: Cocaine clients that connect to the locator port and to the app port
 * of "echo" (their frames injected as client segments, sluice's answers read back), and the
 * two nodes that serve "echo" (tests/unit/backend/be-nodes.c: they answer the SYNs of be.c,
 * read the frames carried to them and inject replies). Bytes are compared with bytes written
 * here by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "be-nodes.h"
#include "native-frame.h"
#include "native-mp.h"
#include "nfront.h"

#define VIP T_IP4(10, 0, 0, 1)
#define LOC_PORT 10053
#define APP_PORT 20000
#define NODE_PORT 30000
#define MAX_CLI 8
#define CLI_RX (1u << 20)

/* A client connection to sluice. */
struct cli {
	bool used;
	struct sl_tcp_tuple t; /* from the stack's side */
	uint32_t isn;	       /* ours */
	uint32_t iss;	       /* sluice's */
	bool established, fin, rst, fin_acked;
	uint32_t tx;	 /* bytes we sent */
	uint32_t una;	 /* of those, acknowledged by sluice */
	uint32_t wnd;	 /* sluice's window (no scaling: our SYN has no option for it) */
	uint32_t rx_len; /* sluice's bytes received in order */
	uint32_t acked;	 /* of those, acknowledged */
	uint32_t rd;	 /* of those, checked by the test */
	uint16_t rwnd;	 /* the window we advertise (0: the client does not read) */
	uint8_t rx[CLI_RX];
};

struct nt {
	struct tenv *e;
	struct tnodes n;
	uint32_t nrd[TN_MAX_PEERS]; /* node bytes checked by the test */
	struct sl_be *be;
	struct sl_be_stats stats;
	struct sl_cluster *cl;
	struct sl_nf_server *nf;
	struct cli cli[MAX_CLI];
};

/* ---- the clients ---- */

static struct cli *
cli_of(struct nt *t, const struct sl_tcp_tuple *tu)
{
	for (unsigned int i = 0; i < MAX_CLI; i++) {
		struct cli *c = &t->cli[i];

		if (c->used && c->t.lport == tu->lport && c->t.rport == tu->rport &&
		    c->t.raddr.v == tu->raddr.v)
			return c;
	}
	return NULL;
}

static bool
cli_seg(void *ctx, const struct t_cap *cap, const struct t_out *o)
{
	struct cli *c = cli_of(ctx, &cap->t);
	uint32_t rel, una;

	if (c == NULL)
		return false;
	if (o->flags & TF_RST) {
		c->rst = true;
		return true;
	}
	if (o->flags & TF_SYN) {
		cr_assert_eq(o->flags, TF_SYN | TF_ACK, "a SYN-ACK");
		c->iss = o->seq;
		c->established = true;
		c->wnd = o->wnd;
		return true;
	}
	una = o->ack - c->isn - 1;
	if ((int32_t)(una - c->una) >= 0) {
		c->una = una;
		c->wnd = o->wnd;
	}
	rel = o->seq - c->iss - 1;
	if (o->len > 0 && rel == c->rx_len) {
		cr_assert_leq(c->rx_len + o->len, CLI_RX, "the client's buffer is full");
		memcpy(c->rx + c->rx_len, o->payload, o->len);
		c->rx_len += o->len;
	}
	if ((o->flags & TF_FIN) && rel + o->len == c->rx_len)
		c->fin = true;
	return true;
}

static void
cli_out(struct nt *t, struct cli *c, uint8_t flags, const uint8_t *data, uint32_t len)
{
	struct t_seg_spec s = {.flags = flags,
			       .seq = c->isn + 1 + c->tx,
			       .ack = c->iss + 1 + c->rx_len + (c->fin ? 1 : 0),
			       .wnd = c->rwnd,
			       .payload = data,
			       .len = len};

	t_inject_t(t->e, &c->t, &s);
	c->tx += len;
	c->acked = c->rx_len;
	c->fin_acked = c->fin;
}

static bool
cli_ack(void *ctx)
{
	struct nt *t = ctx;
	bool sent = false;

	for (unsigned int i = 0; i < MAX_CLI; i++) {
		struct cli *c = &t->cli[i];

		if (!c->used || !c->established || c->rst)
			continue;
		if (c->acked == c->rx_len && c->fin == c->fin_acked)
			continue;
		cli_out(t, c, TF_ACK, NULL, 0);
		sent = true;
	}
	return sent;
}

/* A client connects to VIP:port and the handshake completes. */
static struct cli *
cli_open(struct nt *t, uint16_t port)
{
	struct cli *c = NULL;
	unsigned int i;

	for (i = 0; i < MAX_CLI && c == NULL; i++)
		if (!t->cli[i].used)
			c = &t->cli[i];
	cr_assert_not_null(c, "more clients than the test has room for");
	memset(c, 0, offsetof(struct cli, rx));
	c->used = true;
	c->rwnd = 65535;
	c->t = (struct sl_tcp_tuple){.laddr = VIP,
				     .raddr = T_IP4(10, 0, 2, i),
				     .lport = port,
				     .rport = (uint16_t)(40000 + i)};
	c->isn = 1000000u * i;
	{
		struct t_seg_spec s = {.flags = TF_SYN,
				       .seq = c->isn,
				       .wnd = 65535,
				       .opts = t_opts_mss1460,
				       .optlen = 4};

		t_inject_t(t->e, &c->t, &s);
	}
	collect(&t->n);
	cr_assert(c->established, "no SYN-ACK");
	cli_out(t, c, TF_ACK, NULL, 0);
	collect(&t->n);
	return c;
}

/* The client sends bytes in segments of at most `mss`, within sluice's window; time passes
 * when the window is shut. @return the bytes sent (less than len when it stays shut). */
static uint32_t
cli_send_mss(struct nt *t, struct cli *c, const void *data, uint32_t len, uint32_t mss)
{
	const uint8_t *d = data;
	uint32_t sent = 0;
	int waits = 0;

	while (sent < len && !c->rst) {
		uint32_t room = c->una + c->wnd - c->tx;
		uint32_t k = len - sent < mss ? len - sent : mss;

		if (room == 0 || (int32_t)room < 0) {
			uint64_t left = 300000; /* a zero window for 300 ms: stalled */

			if (++waits > 3)
				break;
			while (left > 0 && c->una + c->wnd - c->tx == 0) {
				t_advance(t->e, 1000);
				sl_be_tick(t->be, t->e->now);
				collect(&t->n);
				left -= 1000;
			}
			continue;
		}
		waits = 0;
		if (k > room)
			k = room;
		cli_out(t, c, TF_ACK | TF_PSH, d + sent, k);
		sent += k;
		collect(&t->n);
	}
	return sent;
}

static void
cli_send(struct nt *t, struct cli *c, const void *data, uint32_t len)
{
	cr_assert_eq(cli_send_mss(t, c, data, len, 1400), len, "the client could not send");
}

static void
cli_send_bb(struct nt *t, struct cli *c, const struct bb *w)
{
	cli_send(t, c, w->p, w->n);
}

static const char *
hex(const uint8_t *p, uint32_t n)
{
	static char buf[4][4096];
	static int k;
	char *s = buf[k++ & 3];
	size_t o = 0;

	for (uint32_t i = 0; i < n && o + 8 < sizeof(buf[0]); i++)
		o += (size_t)snprintf(s + o, sizeof(buf[0]) - o, "%02x ", p[i]);
	s[o] = '\0';
	return s;
}

static void
expect_bytes(const char *who, const uint8_t *got, uint32_t n, const struct bb *w)
{
	cr_assert(n == w->n && memcmp(got, w->p, n) == 0, "%s received\n  %s\nexpected\n  %s", who,
		  hex(got, n), hex(w->p, w->n));
}

/* Exactly w's bytes came to the client since the last check. */
static void
cli_expect(struct nt *t, struct cli *c, const struct bb *w)
{
	collect(&t->n);
	expect_bytes("the client", c->rx + c->rd, c->rx_len - c->rd, w);
	c->rd = c->rx_len;
}

static void
cli_expect_nothing(struct nt *t, struct cli *c)
{
	struct bb *w = calloc(1, sizeof(*w));

	cli_expect(t, c, w);
	free(w);
}

/* ---- the nodes ---- */

/* The connection to node `idx` (0 or 1), accepted when it is still opening. */
static struct peer *
node(struct nt *t, unsigned int idx)
{
	struct peer *best = NULL;

	collect(&t->n);
	for (unsigned int i = 0; i < TN_MAX_PEERS; i++) {
		struct peer *p = &t->n.peers[i];

		if (p->used && p->t.raddr.v == T_IP4(10, 0, 1, 1 + idx).v &&
		    (best == NULL || p->t.lport > best->t.lport))
			best = p;
	}
	cr_assert_not_null(best, "no connection to node %u", idx);
	if (!best->established)
		peer_accept(&t->n, best);
	return best;
}

static bool
node_open(struct nt *t, unsigned int idx)
{
	for (unsigned int i = 0; i < TN_MAX_PEERS; i++)
		if (t->n.peers[i].used && t->n.peers[i].t.raddr.v == T_IP4(10, 0, 1, 1 + idx).v)
			return true;
	return false;
}

/* Exactly w's bytes came to the node since the last check. */
static void
node_expect(struct nt *t, struct peer *p, const struct bb *w)
{
	uint32_t *rd = &t->nrd[p - t->n.peers];

	collect(&t->n);
	expect_bytes("the node", p->rx + *rd, p->rx_len - *rd, w);
	*rd = p->rx_len;
}

static void
node_send_bb(struct nt *t, struct peer *p, const struct bb *w)
{
	peer_send(&t->n, p, w->p, w->n);
}

/* ---- set-up ---- */

static struct nt *
nt_new(uint8_t retries, uint32_t frame_bytes)
{
	struct nt *t = calloc(1, sizeof(*t));
	struct sl_be_conf bc = {.pool_size = 1, .backoff_min_ms = 100, .backoff_max_ms = 400};
	struct sl_nf_conf nc = {.vip = VIP,
				.locator_port = LOC_PORT,
				.app_ports = APP_PORT,
				.max_conns = 16,
				.frame_bytes = frame_bytes};
	struct sl_cl_app *a;

	cr_assert_not_null(t);
	t->e = t_new(NULL);
	t->n.e = t->e;
	t->n.next_lport = 50000;
	t->n.other_seg = cli_seg;
	t->n.other_ack = cli_ack;
	t->n.other_ctx = t;
	t->cl = calloc(1, sizeof(*t->cl));
	cr_assert_not_null(t->cl);
	t->cl->generation = 1;
	t->cl->n_nodes = 2;
	t->cl->n_apps = 1;
	a = &t->cl->apps[0];
	strcpy(a->name, "echo");
	a->name_len = 4;
	a->retries = retries;
	a->deadline_ms = 30000;
	a->n_eps = 2;
	for (unsigned int i = 0; i < 2; i++) {
		t->cl->nodes[i].locator = T_IP4(10, 0, 1, 1 + i);
		t->cl->nodes[i].locator_port = 10053;
		t->cl->nodes[i].up = true;
		t->cl->nodes[i].ok_seq = 1;
		snprintf(t->cl->nodes[i].name, sizeof(t->cl->nodes[i].name), "10.0.1.%u:10053",
			 1 + i);
		a->eps[i] = (struct sl_cl_ep){
			.node = (uint16_t)i, .port = NODE_PORT, .addr = T_IP4(10, 0, 1, 1 + i)};
	}
	t->be = sl_be_create(&t->e->st, &bc, &tn_env_ops, &t->n, &t->stats, NULL);
	cr_assert_not_null(t->be);
	sl_be_set_view(t->be, t->cl);
	t->nf = sl_nf_create(&t->e->st, t->be, &nc);
	cr_assert_not_null(t->nf);
	cr_assert_eq(sl_tcp_listen(&t->e->st, VIP, LOC_PORT, 16, &sl_nf_ops, sl_nf_port(t->nf, -1)),
		     0);
	cr_assert_eq(sl_tcp_listen(&t->e->st, VIP, APP_PORT, 16, &sl_nf_ops, sl_nf_port(t->nf, 0)),
		     0);
	return t;
}

static void
nt_free(struct nt *t)
{
	collect(&t->n);
	sl_nf_free(t->nf);
	sl_be_free(t->be);
	t_fini(t->e); /* every segment, packet and connection back */
	free(t->cl);
	free(t);
}

/* Time passes for TCP and the backend module, in 1 ms steps. */
static void
nt_advance(struct nt *t, uint64_t us)
{
	while (us > 0) {
		uint64_t k = us < 1000 ? us : 1000;

		t_advance(t->e, k);
		sl_be_tick(t->be, t->e->now);
		us -= k;
		collect(&t->n);
	}
}

static const struct sl_nf_stats *
st(struct nt *t)
{
	return sl_nf_stats(t->nf);
}

/* ---- frames written by hand ---- */

static struct bb *
bb_new(void)
{
	struct bb *w = calloc(1, sizeof(*w));

	cr_assert_not_null(w);
	return w;
}

/* [ch, type, [raw], hdrs]: one raw argument, the header array as bytes (NULL: 3 elements) */
static void
f_raw1(struct bb *w, uint8_t ch, uint8_t type, const char *arg, const char *hdrs, uint32_t hlen)
{
	bb_u8(w, hdrs != NULL ? 0x94 : 0x93);
	bb_u8(w, ch);
	bb_u8(w, type);
	bb_u8(w, 0x91);
	bb_str(w, arg);
	if (hdrs != NULL)
		bb_put(w, hdrs, hlen);
}

/* [ch, type, [], hdrs] */
static void
f_empty(struct bb *w, uint8_t ch, uint8_t type, const char *hdrs, uint32_t hlen)
{
	bb_u8(w, hdrs != NULL ? 0x94 : 0x93);
	bb_u8(w, ch);
	bb_u8(w, type);
	bb_u8(w, 0x90);
	if (hdrs != NULL)
		bb_put(w, hdrs, hlen);
}

/* An error as sluice sends it: [ch, 1, [[cat, code], msg], []] (cat and code < 128) */
static void
f_error(struct bb *w, uint8_t ch, uint8_t cat, uint8_t code, const char *msg)
{
	bb_put(w, "\x94", 1);
	bb_u8(w, ch);
	bb_put(w, "\x01\x92\x92", 3);
	bb_u8(w, cat);
	bb_u8(w, code);
	bb_str(w, msg);
	bb_u8(w, 0x90);
}

#define E0 "\x90", 1 /* an empty header array */

/* A trace_id header: stored in the table ([true, ...]) and as sluice passes it ([false, ...]) */
static const char H_TRACE_STORE[] = "\x91\x93\xc3\xa8trace_id\xa8\x01\x02\x03\x04\x05\x06\x07\x08";
static const char H_TRACE_PLAIN[] = "\x91\x93\xc2\xa8trace_id\xa8\x01\x02\x03\x04\x05\x06\x07\x08";
static const char H_IDX83[] = "\x91\x53"; /* the newest entry of the sender's table */
#define HS(h) h, (uint32_t)(sizeof(h) - 1)

/* ---- tests ---- */

/* The resolve answer, exact bytes: the VIP, the app's port, version 1, the graph of 4.2. */
Test(nfront, resolve)
{
	struct nt *t = nt_new(0, 0);
	struct cli *c = cli_open(t, LOC_PORT);
	struct bb *w = bb_new();
	static const char S[] = "\x83\x00\x92\xa5write\xc0\x01\x92\xa5"
				"error\x80\x02\x92\xa5"
				"close\x80";
	static const char P[] = "\x82\x00\x92\xa5value\x80\x01\x92\xa5"
				"error\x80";

	f_raw1(w, 1, 0, "echo", E0);
	cli_send_bb(t, c, w);
	w->n = 0;
	bb_put(w,
	       "\x94\x01\x00\x93\x91\x92\xa8"
	       "10.0.0.1\xcd\x4e\x20\x01\x83",
	       20);
	bb_put(w,
	       "\x00\x93\xa7"
	       "enqueue",
	       10);
	bb_put(w, S, sizeof(S) - 1);
	bb_put(w, S, sizeof(S) - 1);
	bb_put(w, "\x01\x93\xa4info\x80", 8);
	bb_put(w, P, sizeof(P) - 1);
	bb_put(w,
	       "\x02\x93\xa7"
	       "control",
	       10);
	bb_put(w, S, sizeof(S) - 1);
	bb_put(w, P, sizeof(P) - 1);
	bb_u8(w, 0x90);
	cli_expect(t, c, w);
	/* an unknown name */
	w->n = 0;
	f_raw1(w, 2, 0, "nope", NULL, 0);
	cli_send_bb(t, c, w);
	w->n = 0;
	f_error(w, 2, 0x0a, 1, "service is not available");
	cli_expect(t, c, w);
	/* cluster []: an error, the connection stays */
	w->n = 0;
	f_empty(w, 3, 3, E0);
	cli_send_bb(t, c, w);
	w->n = 0;
	f_error(w, 3, 0x07, 6, "sluiced's locator answers resolve only");
	cli_expect(t, c, w);
	w->n = 0;
	f_raw1(w, 4, 0, "echo", E0);
	cli_send_bb(t, c, w);
	collect(&t->n);
	cr_assert_gt(c->rx_len - c->rd, 20, "resolve answered after the error");
	cr_assert_eq(memcmp(c->rx + c->rd, "\x94\x04\x00\x93", 4), 0);
	cr_assert(!c->rst && !c->fin);
	cr_assert_eq(st(t)->resolves, 2);
	cr_assert_eq(st(t)->resolve_unknown, 1);
	cr_assert_eq(st(t)->locator_other, 1);
	cr_assert_eq(st(t)->violations, 0);
	cr_assert_eq(t->n.connects, 0, "the locator opens nothing to the nodes");
	free(w);
	nt_free(t);
}

/* enqueue + write + close go to the node on the node connection's own id (1) with the
 * client's headers; the node's write and close come back on the client's id (7) with the
 * node's headers. */
Test(nfront, channel_forward)
{
	struct nt *t = nt_new(0, 0);
	struct cli *c = cli_open(t, APP_PORT);
	struct bb *w = bb_new();
	struct peer *p;

	f_raw1(w, 7, 0, "ping", HS(H_TRACE_STORE));
	f_raw1(w, 7, 0, "abc", HS(H_IDX83));
	f_empty(w, 7, 2, E0);
	cli_send_bb(t, c, w);
	cr_assert_eq(t->n.connects, 1);
	p = node(t, 0);
	w->n = 0;
	f_raw1(w, 1, 0, "ping", HS(H_TRACE_PLAIN));
	f_raw1(w, 1, 0, "abc", HS(H_TRACE_PLAIN));
	f_empty(w, 1, 2, E0);
	node_expect(t, p, w);
	cli_expect_nothing(t, c);
	/* the node answers: headers stored in its table, then referred to */
	w->n = 0;
	f_raw1(w, 1, 0, "hello", HS(H_TRACE_STORE));
	f_empty(w, 1, 2, HS(H_IDX83));
	node_send_bb(t, p, w);
	w->n = 0;
	f_raw1(w, 7, 0, "hello", HS(H_TRACE_PLAIN));
	f_empty(w, 7, 2, HS(H_TRACE_PLAIN));
	cli_expect(t, c, w);
	cr_assert_eq(st(t)->channels, 1);
	cr_assert_eq(st(t)->inflight, 0);
	cr_assert_eq(t->stats.apps[0].requests, 1);
	cr_assert_eq(t->stats.apps[0].responses, 1);
	/* a second channel goes to the other node, its id there is 1 too */
	w->n = 0;
	f_raw1(w, 9, 0, "ping", NULL, 0);
	cli_send_bb(t, c, w);
	p = node(t, 1);
	w->n = 0;
	f_raw1(w, 1, 0, "ping", E0);
	node_expect(t, p, w);
	cr_assert(!c->rst && !c->fin);
	free(w);
	nt_free(t);
}

/* Two clients with interleaved channels: ids rewritten independently per node connection,
 * replies to the right client and channel. */
Test(nfront, two_clients_interleaved)
{
	struct nt *t = nt_new(0, 0);
	struct cli *a = cli_open(t, APP_PORT), *b = cli_open(t, APP_PORT);
	struct bb *w = bb_new();
	struct peer *n0, *n1;

	/* round robin: a1 -> node 0 (1), b5 -> node 1 (1), a2 -> node 0 (2), b6 -> node 1 (2) */
	f_raw1(w, 1, 0, "a1", E0);
	cli_send_bb(t, a, w);
	w->n = 0;
	f_raw1(w, 5, 0, "b5", E0);
	cli_send_bb(t, b, w);
	w->n = 0;
	f_raw1(w, 2, 0, "a2", E0);
	f_raw1(w, 2, 0, "x2", E0);
	cli_send_bb(t, a, w);
	w->n = 0;
	f_raw1(w, 6, 0, "b6", E0);
	f_raw1(w, 5, 0, "y5", E0);
	f_empty(w, 5, 2, E0);
	cli_send_bb(t, b, w);
	n0 = node(t, 0);
	n1 = node(t, 1);
	w->n = 0;
	f_raw1(w, 1, 0, "a1", E0);
	f_raw1(w, 2, 0, "a2", E0);
	f_raw1(w, 2, 0, "x2", E0);
	node_expect(t, n0, w);
	w->n = 0;
	f_raw1(w, 1, 0, "b5", E0);
	f_raw1(w, 2, 0, "b6", E0);
	f_raw1(w, 1, 0, "y5", E0);
	f_empty(w, 1, 2, E0);
	node_expect(t, n1, w);
	/* replies, interleaved on both nodes */
	w->n = 0;
	f_raw1(w, 2, 0, "r-a2", NULL, 0);
	f_raw1(w, 1, 0, "r-a1", NULL, 0);
	node_send_bb(t, n0, w);
	w->n = 0;
	f_raw1(w, 2, 0, "r-b6", NULL, 0);
	f_raw1(w, 1, 0, "r-b5", NULL, 0);
	f_empty(w, 1, 2, NULL, 0);
	node_send_bb(t, n1, w);
	w->n = 0;
	f_empty(w, 2, 2, NULL, 0);
	node_send_bb(t, n0, w);
	w->n = 0;
	f_raw1(w, 2, 0, "r-a2", E0);
	f_raw1(w, 1, 0, "r-a1", E0);
	f_empty(w, 2, 2, E0);
	cli_expect(t, a, w);
	w->n = 0;
	f_raw1(w, 6, 0, "r-b6", E0);
	f_raw1(w, 5, 0, "r-b5", E0);
	f_empty(w, 5, 2, E0);
	cli_expect(t, b, w);
	cr_assert_eq(st(t)->inflight, 2, "a1 and b6 still open");
	/* the last two end */
	w->n = 0;
	f_empty(w, 1, 2, NULL, 0);
	node_send_bb(t, n0, w);
	w->n = 0;
	f_empty(w, 2, 2, NULL, 0);
	node_send_bb(t, n1, w);
	w->n = 0;
	f_empty(w, 1, 2, E0);
	cli_expect(t, a, w);
	w->n = 0;
	f_empty(w, 6, 2, E0);
	cli_expect(t, b, w);
	cr_assert_eq(st(t)->inflight, 0);
	cr_assert_eq(st(t)->channels, 4);
	free(w);
	nt_free(t);
}

/* A node's error goes back unchanged. */
Test(nfront, node_error)
{
	struct nt *t = nt_new(1, 0);
	struct cli *c = cli_open(t, APP_PORT);
	struct bb *w = bb_new();
	struct peer *p;

	f_raw1(w, 3, 0, "ping", E0);
	cli_send_bb(t, c, w);
	p = node(t, 0);
	w->n = 0;
	bb_error(w, 1, 43, 1, "x");
	node_send_bb(t, p, w);
	w->n = 0;
	f_error(w, 3, 43, 1, "x");
	cli_expect(t, c, w);
	cr_assert_eq(st(t)->retries, 0, "an app error is not retried");
	cr_assert(!node_open(t, 1));
	cr_assert_eq(t->stats.apps[0].app_errors, 1);
	cr_assert_eq(st(t)->inflight, 0);
	free(w);
	nt_free(t);
}

/* Queue full before any reply: the channel is sent again, whole, to the other node; the
 * client sees only that node's reply. */
Test(nfront, queue_full_retry)
{
	struct nt *t = nt_new(1, 0);
	struct cli *c = cli_open(t, APP_PORT);
	struct bb *w = bb_new();
	struct peer *n0, *n1;

	f_raw1(w, 4, 0, "ping", HS(H_TRACE_STORE));
	f_raw1(w, 4, 0, "abc", E0);
	f_empty(w, 4, 2, E0);
	cli_send_bb(t, c, w);
	n0 = node(t, 0);
	cr_assert(!node_open(t, 1));
	w->n = 0;
	f_raw1(w, 1, 0, "ping", HS(H_TRACE_PLAIN));
	f_raw1(w, 1, 0, "abc", E0);
	f_empty(w, 1, 2, E0);
	node_expect(t, n0, w);
	w->n = 0;
	bb_error(w, 1, 0x52ff, 1, "queue is full");
	node_send_bb(t, n0, w);
	cli_expect_nothing(t, c);
	n1 = node(t, 1);
	w->n = 0;
	f_raw1(w, 1, 0, "ping", HS(H_TRACE_PLAIN));
	f_raw1(w, 1, 0, "abc", E0);
	f_empty(w, 1, 2, E0);
	node_expect(t, n1, w);
	w->n = 0;
	f_raw1(w, 1, 0, "pong", NULL, 0);
	f_empty(w, 1, 2, NULL, 0);
	node_send_bb(t, n1, w);
	w->n = 0;
	f_raw1(w, 4, 0, "pong", E0);
	f_empty(w, 4, 2, E0);
	cli_expect(t, c, w);
	cr_assert_eq(st(t)->retries, 1);
	cr_assert_eq(t->stats.apps[0].queue_full, 1);
	cr_assert_eq(st(t)->inflight, 0);
	free(w);
	nt_free(t);
}

/* A client's request_timeout (8 bytes LE, ms) lowers the app's deadline. */
Test(nfront, request_timeout)
{
	struct nt *t = nt_new(0, 0);
	struct cli *c = cli_open(t, APP_PORT);
	struct bb *w = bb_new();
	static const char H_RT[] = "\x91\x93\xc2\xafrequest_timeout\xa8\x32\0\0\0\0\0\0\0";
	struct peer *p;

	f_raw1(w, 1, 0, "slow", HS(H_RT));
	cli_send_bb(t, c, w);
	p = node(t, 0);
	w->n = 0;
	f_raw1(w, 1, 0, "slow", HS(H_RT)); /* passed on too */
	node_expect(t, p, w);
	nt_advance(t, 49000);
	cli_expect_nothing(t, c);
	nt_advance(t, 2000);
	w->n = 0;
	f_error(w, 1, 0x01, 110, "sluiced: no reply within the deadline (50 ms)");
	cli_expect(t, c, w);
	cr_assert_eq(st(t)->timeouts, 1);
	cr_assert_eq(st(t)->inflight, 0);
	/* a late reply of the node is dropped */
	w->n = 0;
	f_raw1(w, 1, 0, "late", NULL, 0);
	f_empty(w, 1, 2, NULL, 0);
	node_send_bb(t, p, w);
	cli_expect_nothing(t, c);
	cr_assert(!c->rst);
	free(w);
	nt_free(t);
}

/* A node connection reset under two channels of a client: exactly those two get ECONNRESET;
 * the channel on the other node completes. */
Test(nfront, node_reset)
{
	struct nt *t = nt_new(1, 0);
	struct cli *c = cli_open(t, APP_PORT);
	struct bb *w = bb_new();
	struct peer *n0, *n1;

	f_raw1(w, 1, 0, "a", E0);
	f_raw1(w, 2, 0, "b", E0);
	f_raw1(w, 3, 0, "c", E0);
	cli_send_bb(t, c, w);
	n0 = node(t, 0);
	n1 = node(t, 1);
	w->n = 0;
	f_raw1(w, 1, 0, "a", E0);
	f_raw1(w, 2, 0, "c", E0);
	node_expect(t, n0, w);
	peer_rst(&t->n, n0);
	w->n = 0;
	f_error(w, 1, 0x01, 104, "sluiced: the node connection was lost");
	f_error(w, 3, 0x01, 104, "sluiced: the node connection was lost");
	cli_expect(t, c, w);
	cr_assert_eq(st(t)->lost, 2);
	cr_assert_eq(st(t)->retries, 0, "acknowledged by the node: not retried");
	w->n = 0;
	f_raw1(w, 1, 0, "B", NULL, 0);
	f_empty(w, 1, 2, NULL, 0);
	node_send_bb(t, n1, w);
	w->n = 0;
	f_raw1(w, 2, 0, "B", E0);
	f_empty(w, 2, 2, E0);
	cli_expect(t, c, w);
	cr_assert_eq(st(t)->inflight, 0);
	cr_assert(!c->rst && !c->fin);
	free(w);
	nt_free(t);
}

/* Violations reset only the offending client and cancel its channels; another client's
 * channel completes. */
Test(nfront, violations)
{
	struct nt *t = nt_new(0, 4096);
	struct bb *w = bb_new();
	struct cli *good = cli_open(t, APP_PORT), *bad;
	static uint8_t big[5000];
	struct peer *n0, *n1;
	struct {
		const char *what;
		const void *p;
		uint32_t n;
	} cases[] = {
		{"garbage", "\xc1\xc1\xc1", 3},
		{"unknown method", "\x93\x09\x63\x90", 4},
		{"write after close", "\x94\x01\x02\x90\x90\x94\x01\x00\x91\xa1z\x90", 12},
		{"too large", NULL, 0},
	};

	/* good: one channel on node 0, left open */
	f_raw1(w, 1, 0, "good", E0);
	cli_send_bb(t, good, w);
	n0 = node(t, 0);
	memset(big, 'b', sizeof(big));
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t inflight = st(t)->inflight;

		bad = cli_open(t, APP_PORT);
		w->n = 0;
		f_raw1(w, 1, 0, "bad", E0);
		cli_send_bb(t, bad, w);
		cr_assert_eq(st(t)->inflight, inflight + 1, "%s", cases[i].what);
		w->n = 0;
		if (cases[i].p != NULL) {
			bb_put(w, cases[i].p, cases[i].n);
		} else {
			bb_put(w, "\x94\x01\x00\x91", 4);
			bb_raw(w, E_RAW16, big, sizeof(big));
			bb_u8(w, 0x90);
		}
		cli_send_mss(t, bad, w->p, w->n, 1400);
		collect(&t->n);
		cr_assert(bad->rst, "%s: the client is reset", cases[i].what);
		cr_assert_eq(st(t)->violations, i + 1, "%s", cases[i].what);
		cr_assert_eq(st(t)->inflight, inflight, "%s: its channel is cancelled",
			     cases[i].what);
		cr_assert_eq(st(t)->active, 1, "%s: only the good client is left", cases[i].what);
		cr_assert(!good->rst, "%s", cases[i].what);
	}
	/* bad channels went to node 1, 0, 1, 0: their replies are dropped */
	n1 = node(t, 1);
	w->n = 0;
	f_raw1(w, 1, 0, "late", NULL, 0);
	f_empty(w, 1, 2, NULL, 0);
	f_empty(w, 2, 2, NULL, 0);
	node_send_bb(t, n1, w);
	w->n = 0;
	f_empty(w, 2, 2, NULL, 0);
	f_raw1(w, 1, 0, "ok", NULL, 0);
	f_empty(w, 1, 2, NULL, 0);
	node_send_bb(t, n0, w);
	w->n = 0;
	f_raw1(w, 1, 0, "ok", E0);
	f_empty(w, 1, 2, E0);
	cli_expect(t, good, w);
	cr_assert_eq(st(t)->inflight, 0);
	cr_assert_eq(t->stats.node_state[0].inflight, 0, "node channels cancelled");
	cr_assert_eq(t->stats.node_state[1].inflight, 0, "node channels cancelled");
	cr_assert(!n0->rst && !n1->rst, "the node connections stay");
	free(w);
	nt_free(t);
}

/* info is answered by sluice, control is refused. */
Test(nfront, info_control)
{
	struct nt *t = nt_new(0, 0);
	struct cli *c = cli_open(t, APP_PORT);
	struct bb *w = bb_new();

	f_empty(w, 1, 1, E0);
	cli_send_bb(t, c, w);
	w->n = 0;
	bb_put(w,
	       "\x94\x01\x00\x91\x84\xa3"
	       "app\xa4"
	       "echo\xa5proxy\xa7sluiced\xa5nodes\x02\xa8nodes_up\x02\x90",
	       46);
	cli_expect(t, c, w);
	w->n = 0;
	f_empty(w, 2, 2, E0);
	cli_send_bb(t, c, w);
	w->n = 0;
	f_error(w, 2, 0x07, 6, "sluiced does not pass control on");
	cli_expect(t, c, w);
	cr_assert_eq(st(t)->infos, 1);
	cr_assert_eq(st(t)->controls, 1);
	cr_assert_eq(t->n.connects, 0);
	cr_assert(!c->rst);
	free(w);
	nt_free(t);
}

/* A client frame larger than TCP's receive buffer (262144 here) but within frame_bytes
 * (1 MiB) is taken whole and carried to the node: the window must not stay shut while the
 * front waits for the rest of the frame. */
Test(nfront, frame_over_rcv_buf)
{
	struct nt *t = nt_new(0, 0);
	struct cli *c = cli_open(t, APP_PORT);
	struct bb *w = bb_new(), *want = bb_new();
	static uint8_t big[300000];
	struct peer *p;

	for (uint32_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + (i >> 8));
	f_raw1(w, 1, 0, "big", E0);
	cli_send_bb(t, c, w);
	p = node(t, 0);
	w->n = 0;
	bb_put(w, "\x94\x01\x00\x91", 4);
	bb_raw(w, E_RAW32, big, sizeof(big));
	bb_u8(w, 0x90);
	{
		uint32_t sent = cli_send_mss(t, c, w->p, w->n, 1400);

		cr_assert_eq(sent, w->n, "the window stayed shut after %u of %u bytes", sent, w->n);
	}
	f_raw1(want, 1, 0, "big", E0);
	bb_put(want, w->p, w->n);
	node_expect(t, p, want);
	cr_assert_eq(st(t)->violations, 0);
	cr_assert(!c->rst);
	free(w);
	free(want);
	nt_free(t);
}

/* The frames sluice sent the client since the last check, decoded: "ch type arg" lines
 * (arg: a write's payload, an error's code), the channels given in `chans` only, in order;
 * every byte must belong to a whole frame. */
static const char *
cli_frames(struct nt *t, struct cli *c, uint64_t only)
{
	static char out[4096];
	struct sl_frame_dec dec;
	struct sl_hdrs *h = calloc(1, sizeof(*h));
	size_t o = 0;

	collect(&t->n);
	cr_assert_not_null(h);
	sl_frame_dec_init(&dec, NULL);
	out[0] = '\0';
	while (c->rd < c->rx_len) {
		struct sl_seg seg = {.p = c->rx + c->rd, .len = c->rx_len - c->rd};
		struct sl_frame f;
		struct sl_mp_raw r;
		char arg[64] = "";
		int n = sl_frame_dec_next(&dec, &seg, 1, 0, &f, h);

		cr_assert_gt(n, 0, "the client's bytes are not whole frames (%d) at %u: %s", n,
			     c->rd,
			     hex(c->rx + c->rd, c->rx_len - c->rd < 64 ? c->rx_len - c->rd : 64));
		c->rd += (uint32_t)n;
		if (f.type == 0 && f.nargs == 1 && sl_mp_read_raw(&f.args, &r) == 0)
			sl_mp_raw_copy(&r, arg, sizeof(arg) - 1);
		if (only == 0 || f.channel == only)
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%lu %lu %s\n",
					      (unsigned long)f.channel, (unsigned long)f.type, arg);
	}
	free(h);
	return out;
}

/* Two channels of one client on two nodes: a node's write is passed on before its payload is
 * complete, so the other node's frames must not land inside it (they wait for its end). */
Test(nfront, writes_of_two_nodes_do_not_interleave)
{
	struct nt *t = nt_new(0, 0);
	struct cli *c = cli_open(t, APP_PORT);
	struct bb *w = bb_new();
	struct peer *n0, *n1;
	const char *got;

	f_raw1(w, 1, 0, "a", E0);
	f_empty(w, 1, 2, E0);
	f_raw1(w, 2, 0, "b", E0);
	f_empty(w, 2, 2, E0);
	cli_send_bb(t, c, w);
	n0 = node(t, 0);
	n1 = node(t, 1);
	peer_send(&t->n, n0,
		  "\x93\x01\x00\x91\xa6"
		  "abc",
		  8); /* half of "abcdef" */
	peer_send(&t->n, n1, "\x93\x01\x00\x91\xa2xy\x93\x01\x02\x90", 11);
	peer_send(&t->n, n0, "def\x93\x01\x02\x90", 7);
	got = cli_frames(t, c, 0);
	cr_assert(strstr(got, "1 0 abcdef\n") != NULL, "%s", got);
	cr_assert(strstr(got, "2 0 xy\n") != NULL, "%s", got);
	cr_assert(strstr(got, "1 2 \n") != NULL && strstr(got, "2 2 \n") != NULL, "%s", got);
	cr_assert_eq(st(t)->inflight, 0);
	free(w);
	nt_free(t);
}

/* A channel fails (its node's connection lost, or its deadline) in the middle of a node write
 * that is being passed on: that write cannot be completed, so neither can the client's
 * stream: the client is reset (nothing lands inside the write), its channels are let go,
 * truncated counts it; another client's channel completes. */
static void
mid_write_case(bool timeout)
{
	struct nt *t = nt_new(0, 0);
	struct cli *a = cli_open(t, APP_PORT), *b = cli_open(t, APP_PORT);
	struct bb *w = bb_new();
	static const char H_RT[] = "\x91\x93\xc2\xafrequest_timeout\xa8\x32\0\0\0\0\0\0\0";
	struct peer *n0, *n1;

	f_raw1(w, 1, 0, "a", HS(H_RT));
	f_empty(w, 1, 2, E0);
	cli_send_bb(t, a, w);
	w->n = 0;
	f_raw1(w, 1, 0, "b", E0);
	cli_send_bb(t, b, w);
	n0 = node(t, 0);
	n1 = node(t, 1);
	peer_send(&t->n, n0,
		  "\x93\x01\x00\x91\xa6"
		  "abc",
		  8); /* half of "abcdef" */
	w->n = 0;
	bb_put(w,
	       "\x94\x01\x00\x91\xa6"
	       "abc",
	       8);
	cli_expect(t, a, w); /* passed on as it came: the frame is open */
	if (timeout)
		nt_advance(t, 51000);
	else
		peer_rst(&t->n, n0);
	collect(&t->n);
	cr_assert(a->rst, "the client is reset");
	cli_expect_nothing(t, a);
	cr_assert_eq(t->stats.apps[0].truncated, 1);
	cr_assert_eq(st(t)->active, 1);
	cr_assert_eq(st(t)->inflight, 1, "b's channel only");
	w->n = 0;
	f_raw1(w, 1, 0, "B", NULL, 0);
	f_empty(w, 1, 2, NULL, 0);
	node_send_bb(t, n1, w);
	w->n = 0;
	f_raw1(w, 1, 0, "B", E0);
	f_empty(w, 1, 2, E0);
	cli_expect(t, b, w);
	cr_assert_eq(st(t)->inflight, 0);
	cr_assert(!b->rst);
	free(w);
	nt_free(t);
}

Test(nfront, node_lost_mid_write)
{
	mid_write_case(false);
}

Test(nfront, timeout_mid_write)
{
	mid_write_case(true);
}
