/*
 * libFuzzer target: the native front (dataplane/nfront/nfront.c) with the backend module
 * (dataplane/backend/be.c) under it, over a real TCP stack (dataplane/tcp) with the counting
 * environment of fuzz-env.c. One app "echo" on two nodes.
 *
 * Input: byte 0 picks how each node treats sluice's connections (bits 0-1 node 0, 2-3 node
 * 1: accept, refuse, never answer, accept but never acknowledge), bits 4-5 the app's retries,
 * bit 6 a small frame_bytes (512). The rest is a list of operations, each a byte (kind in
 * bits 5-7, argument in bits 0-4) and its data:
 *   0, 2  client bytes into the app-port connection: arg + 1 (kind 2: (arg + 1) * 8) bytes;
 *   1     client bytes into the locator connection: arg + 1 bytes;
 *   3     a node frame (node arg & 1, channel (arg >> 1) + 1, the next byte picks a write,
 *         close or error, queue full or restarted included);
 *   4     node bytes from the input (node arg & 1, (arg >> 1) + 1 bytes);
 *   5     time passes: (arg + 1) * 4 ms;
 *   6     a node's connection: RST (arg bit 1 clear) or FIN (set), node arg & 1;
 *   7     a client: FIN (arg bit 1 clear) or RST (set), arg & 1 the locator one.
 * So the client bytes are cut where the input says, and nodes answer or fail as it says.
 * Invariants: no data on a client connection after sluice reset or finished it; what sluice
 * sends the locator client parses as Cocaine frames (the app client too with
 * CHECK_APP_FRAMES); once every deadline passed no channel is left
 * (nfront and the node pools), once the clients left no connection of theirs; at the end every
 * TCP buffer, packet and connection back in the environment.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "fuzz-env.h"
#include "native-frame.h"
#include "native-hpack.h"
#include "nfront.h"
#include "tcp.h"

#define VIP 0x0a000001u
#define LOC_PORT 10053
#define APP_PORT 20000
#define NODE_PORT 30000
#define MAX_NODE_CONNS 8
#define CLI_OUT (1u << 20)
#define DEADLINE_MS 200
/* The app connection's bytes are checked as whole frames once nfront keeps one open node
 * write per client connection: today the frames of another node can land inside a write
 * being passed on (unit-nfront: writes_of_two_nodes_do_not_interleave, disabled). */
#define CHECK_APP_FRAMES 1

enum { M_ACCEPT = 0, M_REFUSE, M_SILENT, M_NOACK };

/* One end of a connection the fuzzer plays: a client or a node. */
struct ep {
	bool used;
	struct sl_tcp_tuple t; /* from the stack's side */
	int node;	       /* -1: a client */
	uint32_t iss, isn;     /* the stack's, ours */
	uint32_t tx;	       /* bytes we sent */
	uint32_t rx_end;       /* bytes of the stack's stream seen */
	uint32_t acked;
	bool syn, established, gone; /* gone: we reset it or the stack did */
	bool stack_fin, stack_rst, fin_acked, our_fin;
	uint8_t *out; /* a client's: what sluice sent, in order */
};

struct nfz {
	struct fz_env z; /* first: the xmit hook gets it */
	struct sl_be *be;
	struct sl_be_stats stats;
	struct sl_cluster cl;
	struct sl_nf_server *nf;
	struct ep cli[2]; /* the app port's, the locator's */
	struct ep nodes[MAX_NODE_CONNS];
	uint16_t next_lport;
	uint8_t mode[2];
};

static struct ep *
ep_of(struct nfz *f, const struct sl_tcp_tuple *t)
{
	for (unsigned int i = 0; i < 2 + MAX_NODE_CONNS; i++) {
		struct ep *p = i < 2 ? &f->cli[i] : &f->nodes[i - 2];

		if (p->used && p->t.lport == t->lport && p->t.rport == t->rport &&
		    p->t.raddr.v == t->raddr.v && p->t.laddr.v == t->laddr.v)
			return p;
	}
	return NULL;
}

static void
xmit(struct fz_env *z, const struct sl_tcp_tuple *t, const uint8_t *h, uint16_t tcp_len)
{
	struct nfz *f = (struct nfz *)z;
	struct ep *p = ep_of(f, t);
	uint32_t hl = (h[12] >> 4) * 4u, seq = fz_get32(h + 4), len = tcp_len - hl, rel;
	uint8_t fl = h[13];

	if (p == NULL)
		return;
	if (fl & 0x04) {
		p->stack_rst = true;
		p->gone = true;
		return;
	}
	if (fl & 0x02) {
		p->iss = seq;
		p->syn = true;
		return;
	}
	rel = seq - p->iss - 1;
	if (len > 0 && (int32_t)(rel + len - p->rx_end) > 0) {
		uint32_t skip = p->rx_end - rel; /* a retransmission may overlap */

		if ((int32_t)skip < 0)
			return; /* a hole: TCP sends in order, this is ahead of what we saw */
		if (p->node < 0 && (p->stack_fin || p->stack_rst))
			fz_die("data on a client connection sluice had closed");
		if (p->out != NULL && p->rx_end + len - skip <= CLI_OUT)
			memcpy(p->out + p->rx_end, h + hl + skip, len - skip);
		p->rx_end = rel + len;
	}
	if ((fl & 0x01) && rel + len == p->rx_end)
		p->stack_fin = true;
}

/* A segment from our end of p. */
static void
ep_seg(struct nfz *f, struct ep *p, uint8_t flags, const uint8_t *data, uint32_t len)
{
	fz_input(&f->z, &p->t, flags, p->isn + 1 + p->tx + (p->our_fin ? 1 : 0),
		 p->iss + 1 + p->rx_end + (p->stack_fin ? 1 : 0), 65535, data, len, NULL, 0);
	p->tx += len;
	p->acked = p->rx_end;
	p->fin_acked = p->stack_fin;
}

/* ---- the nodes ---- */

static int
f_connect(void *env, struct sl_ip4 addr, uint16_t port, const struct sl_tcp_app_ops *ops, void *app,
	  void *user, struct sl_tcp_conn **out)
{
	struct nfz *f = env;
	struct ep *p = NULL;
	int r;

	for (unsigned int i = 0; i < MAX_NODE_CONNS && p == NULL; i++)
		if (!f->nodes[i].used)
			p = &f->nodes[i];
	if (p == NULL)
		return -ENOBUFS;
	memset(p, 0, sizeof(*p));
	p->t = (struct sl_tcp_tuple){
		.laddr = {VIP}, .raddr = addr, .lport = f->next_lport++, .rport = port};
	p->node = (int)(addr.v & 0xff) - 1;
	p->isn = 0x70000000u + (uint32_t)p->t.lport * 4096u;
	p->used = true; /* before: the SYN goes out inside sl_tcp_connect() */
	r = sl_tcp_connect(&f->z.st, &p->t, ops, app, user, out, f->z.now);
	if (r != 0)
		p->used = false;
	return r;
}

static const struct sl_be_env_ops f_be_ops = {.connect = f_connect};

static const uint8_t mss_opt[] = {2, 4, 0x05, 0xb4};

/* Answer SYNs as the nodes' modes say; acknowledge what came. */
static void
pump(struct nfz *f)
{
	for (int round = 0; round < 4; round++) {
		bool sent = false;

		for (unsigned int i = 0; i < 2 + MAX_NODE_CONNS; i++) {
			struct ep *p = i < 2 ? &f->cli[i] : &f->nodes[i - 2];

			if (!p->used || p->gone)
				continue;
			if (p->node >= 0 && p->syn && !p->established) {
				uint8_t m = f->mode[p->node & 1];

				if (m == M_SILENT)
					continue;
				if (m == M_REFUSE) {
					fz_input(&f->z, &p->t, 0x14, 0, p->iss + 1, 0, NULL, 0,
						 NULL, 0);
					p->gone = true;
					continue;
				}
				fz_input(&f->z, &p->t, 0x12, p->isn, p->iss + 1, 65535, NULL, 0,
					 mss_opt, sizeof(mss_opt));
				p->established = true;
				sent = true;
				continue;
			}
			if (!p->established)
				continue;
			if (p->node >= 0 && f->mode[p->node & 1] == M_NOACK)
				continue;
			if (p->acked != p->rx_end || p->fin_acked != p->stack_fin) {
				ep_seg(f, p, 0x10, NULL, 0);
				sent = true;
			}
		}
		if (!sent)
			return;
	}
}

/* The live connection to node k opened last, or NULL. */
static struct ep *
node_conn(struct nfz *f, unsigned int k)
{
	struct ep *best = NULL;

	for (unsigned int i = 0; i < MAX_NODE_CONNS; i++) {
		struct ep *p = &f->nodes[i];

		if (p->used && !p->gone && p->established && p->node == (int)k &&
		    (best == NULL || p->t.lport > best->t.lport))
			best = p;
	}
	return best;
}

static void
node_frame(struct nfz *f, unsigned int k, uint8_t id, uint8_t sel)
{
	static const uint8_t store[] = {0x91, 0x93, 0xc3, 0xa8, 't', 'r', 'a', 'c', 'e', '_', 'i',
					'd',  0xa8, 1,	  2,	3,   4,	  5,   6,   7,	 8};
	struct ep *p = node_conn(f, k);
	uint8_t b[64];
	uint32_t n = 0;

	if (p == NULL)
		return;
	b[n++] = (sel == 1 || sel == 3) ? 0x94 : 0x93;
	b[n++] = id;
	switch (sel) {
	case 0:
	case 1:
		memcpy(b + n, "\x00\x91\xa2ok", 5);
		n += 5;
		if (sel == 1) {
			memcpy(b + n, store, sizeof(store));
			n += sizeof(store);
		}
		break;
	case 2:
	case 3:
		memcpy(b + n, "\x02\x90", 2);
		n += 2;
		if (sel == 3)
			b[n++] = 0x90 | 1, b[n++] = 0x53; /* index 83: a stored trace_id, or not */
		break;
	case 4: /* queue full */
		memcpy(b + n, "\x01\x92\x92\xcd\x52\xff\x01\xa1q", 9);
		n += 9;
		break;
	case 5: /* an app's error */
		memcpy(b + n, "\x01\x92\x92\x2b\x01\xa1x", 7);
		n += 7;
		break;
	case 6: /* service not available */
		memcpy(b + n, "\x01\x92\x92\x0a\x01\xa1u", 7);
		n += 7;
		break;
	default: /* app restarted */
		memcpy(b + n, "\x01\x92\x92\x0c\x20\xa1r", 7);
		n += 7;
		break;
	}
	ep_seg(f, p, 0x18, b, n);
}

/* ---- the clients ---- */

static void
cli_open(struct nfz *f, struct ep *c, uint16_t port, unsigned int i)
{
	memset(c, 0, sizeof(*c));
	c->used = true;
	c->node = -1;
	c->t = (struct sl_tcp_tuple){
		.laddr = {VIP}, .raddr = {0x0a000200u + i}, .lport = port, .rport = 40000};
	c->isn = 0x10000000u * (i + 1);
	c->out = malloc(CLI_OUT);
	if (c->out == NULL)
		fz_die("malloc");
	fz_input(&f->z, &c->t, 0x02, c->isn, 0, 65535, NULL, 0, mss_opt, sizeof(mss_opt));
	if (!c->syn)
		fz_die("no SYN-ACK");
	c->established = true;
	ep_seg(f, c, 0x10, NULL, 0);
}

/* What sluice sent the client parses as frames (the last one may be cut short). */
static void
cli_check_frames(struct ep *c)
{
	struct sl_frame_dec dec;
	struct sl_hdrs hdrs;
	uint32_t off = 0, end = c->rx_end < CLI_OUT ? c->rx_end : CLI_OUT;

	sl_frame_dec_init(&dec, NULL);
	while (off < end) {
		struct sl_seg seg = {.p = c->out + off, .len = end - off};
		struct sl_frame fr;
		int r = sl_frame_dec_next(&dec, &seg, 1, 0, &fr, &hdrs);

		if (r == -EAGAIN)
			return;
		if (r <= 0)
			fz_die("sluice sent a client bytes that are not a frame");
		off += (uint32_t)r;
	}
}

static void
tick(struct nfz *f, uint64_t us)
{
	while (us > 0) {
		uint64_t k = us < 1000 ? us : 1000;

		f->z.now += k;
		sl_tcp_timer(&f->z.st, f->z.now);
		sl_be_tick(f->be, f->z.now);
		pump(f);
		us -= k;
	}
}

static void
run(const uint8_t *d, size_t n)
{
	struct nfz *f = calloc(1, sizeof(*f));
	struct sl_be_conf bc = {.pool_size = 1, .max_conns = 8, .connect_timeout_ms = 100};
	struct sl_nf_conf nc = {.vip = {VIP},
				.locator_port = LOC_PORT,
				.app_ports = APP_PORT,
				.max_conns = 4,
				.frame_bytes = (d[0] & 0x40) ? 512 : 0};
	size_t i = 1;

	if (f == NULL)
		fz_die("calloc");
	fz_init(&f->z, xmit, 1000000);
	f->mode[0] = d[0] & 3;
	f->mode[1] = (d[0] >> 2) & 3;
	f->next_lport = 50000;
	f->cl.n_nodes = 2;
	f->cl.n_apps = 1;
	memcpy(f->cl.apps[0].name, "echo", 5);
	f->cl.apps[0].name_len = 4;
	f->cl.apps[0].retries = (d[0] >> 4) & 3;
	f->cl.apps[0].deadline_ms = DEADLINE_MS;
	f->cl.apps[0].n_eps = 2;
	for (unsigned int k = 0; k < 2; k++) {
		f->cl.nodes[k].up = true;
		f->cl.nodes[k].ok_seq = 1;
		f->cl.apps[0].eps[k] = (struct sl_cl_ep){
			.node = (uint16_t)k, .port = NODE_PORT, .addr = {0x0a000101u + k}};
	}
	f->be = sl_be_create(&f->z.st, &bc, &f_be_ops, f, &f->stats, NULL);
	if (f->be == NULL)
		fz_die("sl_be_create");
	sl_be_set_view(f->be, &f->cl);
	f->nf = sl_nf_create(&f->z.st, f->be, &nc);
	if (f->nf == NULL)
		fz_die("sl_nf_create");
	if (sl_tcp_listen(&f->z.st, (struct sl_ip4){VIP}, LOC_PORT, 4, &sl_nf_ops,
			  sl_nf_port(f->nf, -1)) != 0 ||
	    sl_tcp_listen(&f->z.st, (struct sl_ip4){VIP}, APP_PORT, 4, &sl_nf_ops,
			  sl_nf_port(f->nf, 0)) != 0)
		fz_die("listen");
	cli_open(f, &f->cli[0], APP_PORT, 0);
	cli_open(f, &f->cli[1], LOC_PORT, 1);
	while (i < n) {
		uint8_t op = d[i++], kind = op >> 5, arg = op & 31;
		uint32_t len;

		switch (kind) {
		case 0:
		case 1:
		case 2: {
			struct ep *c = &f->cli[kind == 1];

			len = kind == 2 ? (arg + 1u) * 8 : arg + 1u;
			if (len > n - i)
				len = (uint32_t)(n - i);
			if (!c->gone && !c->our_fin && len > 0)
				ep_seg(f, c, 0x18, d + i, len);
			i += len;
			break;
		}
		case 3:
			node_frame(f, arg & 1, (uint8_t)((arg >> 1) + 1), i < n ? d[i++] & 7 : 0);
			break;
		case 4: {
			struct ep *p = node_conn(f, arg & 1);

			len = (arg >> 1) + 1u;
			if (len > n - i)
				len = (uint32_t)(n - i);
			if (p != NULL && len > 0)
				ep_seg(f, p, 0x18, d + i, len);
			i += len;
			break;
		}
		case 5:
			tick(f, (arg + 1u) * 4000);
			break;
		case 6: {
			struct ep *p = node_conn(f, arg & 1);

			if (p == NULL)
				break;
			if (arg & 2) {
				if (!p->our_fin) {
					ep_seg(f, p, 0x11, NULL, 0);
					p->our_fin = true;
				}
			} else {
				ep_seg(f, p, 0x04, NULL, 0);
				p->gone = true;
			}
			break;
		}
		default: {
			struct ep *c = &f->cli[arg & 1];

			if (c->gone || c->our_fin)
				break;
			if (arg & 2) {
				ep_seg(f, c, 0x04, NULL, 0);
				c->gone = true;
			} else {
				ep_seg(f, c, 0x11, NULL, 0);
				c->our_fin = true;
			}
			break;
		}
		}
		pump(f);
	}
	/* every deadline (and connect timeout) passes: no channel is left */
	tick(f, (DEADLINE_MS + 200) * 1000);
	if (sl_nf_stats(f->nf)->inflight != 0)
		fz_die("a channel outlived its deadline");
	for (unsigned int k = 0; k < 2; k++)
		if (f->stats.node_state[k].inflight != 0)
			fz_die("a node channel outlived its deadline");
	/* the clients leave: their connections go */
	for (unsigned int k = 0; k < 2; k++) {
		struct ep *c = &f->cli[k];

		if (!c->gone && !c->our_fin) {
			ep_seg(f, c, 0x11, NULL, 0);
			c->our_fin = true;
		}
		pump(f);
		if (k == 1 || CHECK_APP_FRAMES)
			cli_check_frames(c);
	}
	tick(f, 1000);
	if (sl_nf_stats(f->nf)->active != 0)
		fz_die("a client connection outlived its client");
	sl_nf_free(f->nf);
	sl_be_free(f->be);
	fz_fini(&f->z);
	free(f->cli[0].out);
	free(f->cli[1].out);
	free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	run(data, size);
	return 0;
}
