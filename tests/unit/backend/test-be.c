/**
 * @file
 * The backend module (dataplane/backend/be.c) over the TCP stack of the TCP unit tests
 * (tests/unit/tcp/tcp-test.c). sl_be's `connect` opens real connections on that stack; the
 * test plays the Cocaine nodes: it answers the SYNs, reads what sluice sends (compared with
 * bytes written here by hand), acknowledges it or not, and injects reply bytes cut as it
 * likes. Events are written to a text log ("A CHUNK 5", consecutive DATA of a channel
 * merged) compared with text written by hand.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "be-nodes.h"

#define NODE_PORT 10053

struct bt;

/* A request as the test sees it. */
struct tch {
	struct sl_be_chan ch;
	struct bt *b;
	const char *name;
	int terminal; /* terminal events seen */
	int events;
	struct sl_be_ev last;
	int pause_data; /* the next this many DATA events pause the connection */
};

struct bt {
	struct tenv *e;
	struct sl_be *be;
	struct sl_be_stats stats;
	struct sl_cluster *cl;
	struct tnodes n;
	char log[1 << 16];
	size_t log_len;
	struct tch *log_data; /* the channel of the last DATA logged, NULL after another event */
};

/* ---- the event log ---- */

static void
log_str(struct bt *b, const char *s, size_t n)
{
	cr_assert_lt(b->log_len + n, sizeof(b->log), "event log full");
	memcpy(b->log + b->log_len, s, n);
	b->log_len += n;
	b->log[b->log_len] = '\0';
}

static void log_fmt(struct bt *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
log_fmt(struct bt *b, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_str(b, buf, (size_t)n);
}

static void
log_bytes(struct bt *b, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			log_str(b, (const char *)&p[i], 1);
		else
			log_fmt(b, "\\x%02x", p[i]);
	}
}

static void
log_reset(struct bt *b)
{
	b->log_len = 0;
	b->log[0] = '\0';
	b->log_data = NULL;
}

static int
ev_fn(void *user, struct sl_be_chan *ch, const struct sl_be_ev *ev)
{
	struct tch *t = user;
	struct bt *b = t->b;

	cr_assert_eq(&t->ch, ch, "event for another channel than its user's");
	cr_assert_eq(t->terminal, 0, "%s: event %d after its terminal event", t->name, ev->type);
	t->events++;
	t->last = *ev;
	if (ev->type != SL_BE_EV_DATA)
		b->log_data = NULL;
	switch (ev->type) {
	case SL_BE_EV_CHUNK:
		log_fmt(b, "%s CHUNK %u\n", t->name, ev->len);
		break;
	case SL_BE_EV_DATA:
		cr_assert_gt(ev->len, 0, "empty DATA");
		if (b->log_data == t) {
			b->log_len--; /* the line goes on */
		} else {
			log_fmt(b, "%s DATA ", t->name);
			b->log_data = t;
		}
		log_bytes(b, ev->p, ev->len);
		log_str(b, "\n", 1);
		if (t->pause_data > 0) {
			t->pause_data--;
			log_str(b, "(pause)\n", 8);
			b->log_data = NULL;
			return 1;
		}
		break;
	case SL_BE_EV_CHUNK_END:
		log_fmt(b, "%s END\n", t->name);
		break;
	case SL_BE_EV_CLOSE:
		log_fmt(b, "%s CLOSE\n", t->name);
		break;
	case SL_BE_EV_ERROR:
		log_fmt(b, "%s ERROR %lld/%lld ", t->name, (long long)ev->err.cat,
			(long long)ev->err.code);
		log_bytes(b, ev->p, ev->len);
		log_str(b, "\n", 1);
		break;
	case SL_BE_EV_LOST:
		log_fmt(b, "%s LOST %d unsent=%d never=%d\n", t->name, ev->errnum, ev->unsent,
			ev->never_connected);
		break;
	case SL_BE_EV_TIMEOUT:
		log_fmt(b, "%s TIMEOUT\n", t->name);
		break;
	default:
		cr_assert_fail("unknown event %d", ev->type);
	}
	if (ev->type >= SL_BE_EV_CLOSE) {
		t->terminal++;
		cr_assert_null(ch->conn, "%s: still attached at its terminal event", t->name);
	}
	return 0;
}

/* ---- set-up ---- */

static struct bt *
bt_new(const struct sl_be_conf *conf)
{
	struct bt *b = calloc(1, sizeof(*b));
	struct sl_be_conf c = {.pool_size = 1, .backoff_min_ms = 100, .backoff_max_ms = 400};

	cr_assert_not_null(b);
	if (conf != NULL)
		c = *conf;
	b->e = t_new(NULL);
	b->n.e = b->e;
	b->n.next_lport = 50000;
	b->cl = calloc(1, sizeof(*b->cl));
	cr_assert_not_null(b->cl);
	b->cl->generation = 1;
	b->cl->n_nodes = 3;
	b->cl->n_apps = 1;
	for (unsigned int i = 0; i < 3; i++) {
		b->cl->nodes[i].locator = T_IP4(10, 0, 1, 1 + i);
		b->cl->nodes[i].locator_port = 10053;
		b->cl->nodes[i].up = true;
		b->cl->nodes[i].ok_seq = 5;
		b->cl->apps[0].eps[i] = (struct sl_cl_ep){
			.node = (uint16_t)i, .port = NODE_PORT, .addr = T_IP4(10, 0, 1, 1 + i)};
	}
	strcpy(b->cl->apps[0].name, "app");
	b->cl->apps[0].name_len = 3;
	b->cl->apps[0].n_eps = 3;
	b->be = sl_be_create(&b->e->st, &c, &tn_env_ops, &b->n, &b->stats, ev_fn);
	cr_assert_not_null(b->be);
	sl_be_set_view(b->be, b->cl);
	return b;
}

static void
bt_free(struct bt *b)
{
	collect(&b->n);
	sl_be_free(b->be);
	t_fini(b->e); /* every segment, packet and connection back */
	free(b->cl);
	free(b);
}

/* Time passes for TCP and for the module, in 1 ms steps. */
static void
bt_advance(struct bt *b, uint64_t us)
{
	while (us > 0) {
		uint64_t k = us < 1000 ? us : 1000;

		t_advance(b->e, k);
		sl_be_tick(b->be, b->e->now);
		us -= k;
	}
	collect(&b->n);
}

static void
tch_init(struct bt *b, struct tch *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	t->b = b;
	t->name = name;
	t->ch.user = t;
	t->ch.heap_idx = UINT32_MAX;
}

/* The packed request without its body: [POST, /, 1.1, [], ...] (13 bytes). */
static const uint8_t REQ_HEAD[] = {0x95, 0xa4, 'P', 'O', 'S', 'T', 0xa1,
				   '/',	 0xa3, '1', '.', '1', 0x90};

static struct sl_tcp_seg *
chain_of(struct bt *b, const void *data, uint32_t len)
{
	struct sl_tcp_seg *s;

	if (len == 0)
		return NULL;
	s = sl_tcp_seg_alloc(&b->e->st, len);
	cr_assert_not_null(s);
	memcpy(s->data, data, len);
	s->len = len;
	s->next = NULL;
	return s;
}

static int
send_req_h(struct bt *b, struct tch *t, uint16_t node, const char *body, uint64_t deadline_us,
	   const struct sl_hdr *hdrs, int nhdrs)
{
	uint32_t blen = (uint32_t)strlen(body);
	struct sl_tcp_seg *head = chain_of(b, REQ_HEAD, sizeof(REQ_HEAD));
	struct sl_tcp_seg *bd = chain_of(b, body, blen);
	struct sl_be_req req = {.event = "http",
				.event_len = 4,
				.head = head,
				.head_len = sizeof(REQ_HEAD),
				.body = bd,
				.body_len = blen,
				.hdrs = hdrs,
				.nhdrs = nhdrs,
				.deadline_us = deadline_us};
	int r;

	r = sl_be_send(b->be, &t->ch, 0, node, &req);
	sl_tcp_seg_free_chain(&b->e->st, head); /* copied, not taken */
	sl_tcp_seg_free_chain(&b->e->st, bd);
	collect(&b->n);
	return r;
}

static int
send_req(struct bt *b, struct tch *t, uint16_t node, const char *body, uint64_t deadline_us)
{
	return send_req_h(b, t, node, body, deadline_us, NULL, 0);
}

/* What sluice must send for a request with REQ_HEAD and `body` on channel `id`. */
static void
bb_request(struct bb *w, uint8_t id, const char *body)
{
	uint32_t blen = (uint32_t)strlen(body);
	uint32_t payload = sizeof(REQ_HEAD) + (blen < 32 ? 1 : 3) + blen;

	/* enqueue [http] [] */
	bb_u8(w, 0x94), bb_u8(w, id), bb_u8(w, 0x00), bb_u8(w, 0x91);
	bb_put(w, "\xa4http", 5);
	bb_u8(w, 0x90);
	/* write [pack(request)] [] */
	bb_u8(w, 0x94), bb_u8(w, id), bb_u8(w, 0x00), bb_u8(w, 0x91);
	if (payload < 32)
		bb_u8(w, (uint8_t)(0xa0 | payload));
	else
		bb_u8(w, 0xda), bb_be(w, payload, 2);
	bb_put(w, REQ_HEAD, sizeof(REQ_HEAD));
	bb_str(w, body);
	bb_u8(w, 0x90);
	/* close [] [] */
	bb_put(w, "\x94", 1), bb_u8(w, id), bb_put(w, "\x02\x90\x90", 3);
}

/* The reply of the HTTP app: head, body, close; 4-element frames with headers: the first
 * stores a trace_id in the node's table, the later ones refer to it by its index, 83. */
static const uint8_t P_HEAD[] = {0x92, 0xcc, 0xc8, 0x91, 0x92, 0xac, 'c', 'o', 'n',  't',
				 'e',  'n',  't',  '-',	 't',  'y',  'p', 'e', 0xaa, 't',
				 'e',  'x',  't',  '/',	 'p',  'l',  'a', 'i', 'n'};
static const uint8_t H_STORE_TRACE[] = {0x91, 0x93, 0xc3, 0xa8, 't', 'r', 'a', 'c', 'e', '_', 'i',
					'd',  0xa8, 1,	  2,	3,   4,	  5,   6,   7,	 8};
static const uint8_t H_IDX83[] = {0x91, 0x53};
static const char *const P_HEAD_LOG = "\\x92\\xcc\\xc8\\x91\\x92\\xaccontent-type\\xaatext/plain";

static void
bb_reply(struct bb *w, uint8_t id)
{
	bb_write(w, id, E_FIXRAW, P_HEAD, sizeof(P_HEAD), H_STORE_TRACE, sizeof(H_STORE_TRACE));
	bb_write(w, id, E_FIXRAW, "hello world", 11, H_IDX83, sizeof(H_IDX83));
	bb_close(w, id, H_IDX83, sizeof(H_IDX83));
}

static const char *
reply_log(const char *name)
{
	static char buf[512];

	snprintf(buf, sizeof(buf),
		 "%s CHUNK 29\n%s DATA %s\n%s END\n%s CHUNK 11\n%s DATA hello world\n%s END\n"
		 "%s CLOSE\n",
		 name, name, P_HEAD_LOG, name, name, name, name, name);
	return buf;
}

/* A connection to node 0 with one channel open on it. */
static struct peer *
open_one(struct bt *b, struct tch *t, const char *name)
{
	struct peer *p;

	tch_init(b, t, name);
	cr_assert_eq(send_req(b, t, 0, "", 0), 0);
	p = peer_last(&b->n);
	peer_accept(&b->n, p);
	return p;
}

/* ---- tests ---- */

/* Exact bytes of a request: enqueue with a trace_id header, write, close. */
Test(be, request_bytes)
{
	struct bt *b = bt_new(NULL);
	static const uint8_t tid[8] = {0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01};
	struct sl_hdr h = {
		.name = (const uint8_t *)"trace_id", .name_len = 8, .value = tid, .value_len = 8};
	static const uint8_t want[] = {
		/* enqueue: [1, 0, ["http"], [[false, "trace_id", 8 bytes]]] */
		0x94, 0x01, 0x00, 0x91, 0xa4, 'h', 't', 't', 'p', 0x91, 0x93, 0xc2, 0xa8, 't', 'r',
		'a', 'c', 'e', '_', 'i', 'd', 0xa8, 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,
		/* write: [1, 0, [pack([POST, /, 1.1, [], "hello"])], []] */
		0x94, 0x01, 0x00, 0x91, 0xb3, 0x95, 0xa4, 'P', 'O', 'S', 'T', 0xa1, '/', 0xa3, '1',
		'.', '1', 0x90, 0xa5, 'h', 'e', 'l', 'l', 'o', 0x90,
		/* close: [1, 2, [], []] */
		0x94, 0x01, 0x02, 0x90, 0x90};
	struct bb *w = calloc(1, sizeof(*w));
	struct tch a;
	struct peer *p;

	tch_init(b, &a, "A");
	cr_assert_eq(send_req_h(b, &a, 0, "hello", 0, &h, 1), 0);
	cr_assert_eq(b->n.connects, 1);
	p = peer_last(&b->n);
	cr_assert_eq(p->t.raddr.v, T_IP4(10, 0, 1, 1).v, "to node 0's address");
	cr_assert_eq(p->t.rport, NODE_PORT);
	cr_assert_eq(p->rx_len, 0, "nothing before the handshake");
	peer_accept(&b->n, p);
	bb_put(w, want, sizeof(want));
	assert_rx(p, w);
	cr_assert_eq(a.ch.id, 1);
	cr_assert_eq(b->stats.node_state[0].inflight, 1);
	cr_assert_eq(b->stats.node_state[0].conns, 1);
	free(w);
	bt_free(b);
}

/* One reply delivered whole, split at every byte into two segments, and one byte per
 * segment: the same events every time. */
Test(be, reply_split_everywhere)
{
	struct bt *b = bt_new(NULL);
	struct bb *w = calloc(1, sizeof(*w));
	struct tch t;
	struct peer *p = open_one(b, &t, "A");
	uint32_t len, cuts;

	bb_reply(w, 1);
	len = w->n;
	log_reset(b);
	peer_send(&b->n, p, w->p, w->n);
	cr_assert_str_eq(b->log, reply_log("A"), "whole:\n%s", b->log);
	cr_assert_eq(t.terminal, 1);
	cuts = 0;
	for (uint32_t cut = 1; cut < len; cut++) {
		tch_init(b, &t, "A");
		cr_assert_eq(send_req(b, &t, 0, "", 0), 0);
		cr_assert_eq(b->n.connects, 1, "the connection is reused");
		w->n = 0;
		bb_reply(w, (uint8_t)t.ch.id);
		cr_assert_eq(w->n, len);
		log_reset(b);
		peer_send(&b->n, p, w->p, cut);
		peer_send(&b->n, p, w->p + cut, len - cut);
		cr_assert_str_eq(b->log, reply_log("A"), "cut at %u:\n%s", cut, b->log);
		cr_assert_eq(t.terminal, 1);
		cuts++;
	}
	cr_assert_eq(cuts, len - 1);
	tch_init(b, &t, "A");
	cr_assert_eq(send_req(b, &t, 0, "", 0), 0);
	w->n = 0;
	bb_reply(w, (uint8_t)t.ch.id);
	log_reset(b);
	peer_send_mss(&b->n, p, w->p, w->n, 1);
	cr_assert_str_eq(b->log, reply_log("A"), "byte by byte:\n%s", b->log);
	cr_assert_eq(b->stats.protocol_errors, 0);
	cr_assert_eq(b->stats.node_state[0].inflight, 0);
	free(w);
	bt_free(b);
}

/* Header arrays after a write's payload, on error and on close, a 5th element ignored: the
 * entries stored by one frame are what later bare indices refer to (cocaine-protocol 1.4). */
Test(be, headers_dynamic_table)
{
	struct bt *b = bt_new(NULL);
	struct bb *w = calloc(1, sizeof(*w));
	struct tch t[4];
	struct peer *p = open_one(b, &t[0], "A");
	static const uint8_t a_write[] = {0x95, 0x01, 0x00, 0x91, 0xa1, 'x', /* [1, 0, ["x"], */
					  0x91, 0x93, 0xc3, 0xa8, 't',	'r', 'a', 'c',
					  'e',	'_',  'i',  'd',  0xa8, 1,   2,	  3,
					  4,	5,    6,    7,	  8, /* [[true, "trace_id", 8
									bytes]], */
					  0xc0};		     /* nil] (ignored) */
	static const uint8_t b_error[] = {
		0x94, 0x02, 0x01, 0x92, 0x92, 0xcd, 0x52, 0xff, 0x01, 0xad, 'q', 'u',
		'e',  'u',  'e',  ' ',	'i',  's',  ' ',  'f',	'u',  'l',  'l', /* [2, 1, [[0x52ff,
										    1], "queue is
										    full"], */
		0x91, 0x93, 0xc3, 0xa7, 's',  'p',  'a',  'n',	'_',  'i',  'd', 0xa8,
		9,    9,    9,	  9,	9,    9,    9,	  9}; /* [[true, "span_id", 8 bytes]]] */
	static const uint8_t h_83_84[] = {0x92, 0x53, 0x54};
	static const uint8_t h_84[] = {0x91, 0x54};

	tch_init(b, &t[1], "B");
	tch_init(b, &t[2], "C");
	tch_init(b, &t[3], "D");
	for (int i = 1; i < 4; i++)
		cr_assert_eq(send_req(b, &t[i], 0, "", 0), 0);
	cr_assert_eq(b->n.connects, 1);
	bb_put(w, a_write, sizeof(a_write));
	bb_close(w, 1, H_IDX83, sizeof(H_IDX83)); /* 83: trace_id */
	bb_put(w, b_error, sizeof(b_error));
	bb_close(w, 3, h_83_84, sizeof(h_83_84)); /* 83: span_id, 84: trace_id */
	bb_write(w, 4, E_FIXRAW, "y", 1, h_84, sizeof(h_84));
	bb_close(w, 4, h_83_84, sizeof(h_83_84));
	log_reset(b);
	peer_send_mss(&b->n, p, w->p, w->n, 7);
	cr_assert_str_eq(b->log, "A CHUNK 1\nA DATA x\nA END\nA CLOSE\n"
				 "B ERROR 21247/1 queue is full\n"
				 "C CLOSE\n"
				 "D CHUNK 1\nD DATA y\nD END\nD CLOSE\n");
	cr_assert_eq(b->stats.protocol_errors, 0);
	cr_assert(!p->rst && !p->fin, "the connection stays");
	free(w);
	bt_free(b);
}

/* Payloads in every raw encoding, old spec (fixraw, raw16, raw32) and new (str8, bin8/16/32),
 * delivered whole and byte by byte. */
Test(be, payload_encodings)
{
	static const char *const names[E_NENC] = {"fixraw", "raw16", "raw32", "str8",
						  "bin8",   "bin16", "bin32"};
	struct bt *b = bt_new(NULL);
	struct bb *w = calloc(1, sizeof(*w));
	struct tch t;
	struct peer *p = open_one(b, &t, "A");
	char payload[64], want[256];
	bool first = true;

	for (int e = 0; e < E_NENC; e++) {
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			uint32_t n = e == E_FIXRAW ? 20 : 40;

			for (uint32_t i = 0; i < n; i++)
				payload[i] = (char)('a' + (i + (uint32_t)e) % 26);
			payload[n] = '\0';
			if (!first) {
				tch_init(b, &t, "A");
				cr_assert_eq(send_req(b, &t, 0, "", 0), 0);
			}
			first = false;
			w->n = 0;
			bb_write(w, (uint8_t)t.ch.id, (enum enc)e, payload, n, NULL, 0);
			bb_close(w, (uint8_t)t.ch.id, NULL, 0);
			log_reset(b);
			peer_send_mss(&b->n, p, w->p, w->n, bytewise ? 1 : 1400);
			snprintf(want, sizeof(want), "A CHUNK %u\nA DATA %s\nA END\nA CLOSE\n", n,
				 payload);
			cr_assert_str_eq(b->log, want, "%s%s:\n%s", names[e],
					 bytewise ? " byte by byte" : "", b->log);
		}
	}
	/* bytes_out is the HTTP front's: reply body bytes, per node */
	cr_assert_eq(b->stats.nodes[0].bytes_out, 0);
	free(w);
	bt_free(b);
}

/* error [[0x52ff, 1], "queue is full"], and [[0x0c, 32], str8 message]. */
Test(be, error_frame)
{
	struct bt *b = bt_new(NULL);
	struct bb *w = calloc(1, sizeof(*w));
	struct tch t[2];
	struct peer *p = open_one(b, &t[0], "A");

	tch_init(b, &t[1], "B");
	cr_assert_eq(send_req(b, &t[1], 0, "", 0), 0);
	bb_error(w, 1, 0x52ff, 1, "queue is full");
	bb_put(w,
	       "\x93\x02\x01\x92\x92\x0c\x20\xd9\x0d"
	       "app restarted",
	       22);
	log_reset(b);
	peer_send(&b->n, p, w->p, w->n);
	cr_assert_str_eq(b->log, "A ERROR 21247/1 queue is full\nB ERROR 12/32 app restarted\n");
	cr_assert_eq(t[0].last.err.cat, 0x52ff);
	cr_assert_eq(t[0].last.err.code, 1);
	cr_assert_eq(t[0].last.len, 13);
	cr_assert_eq(b->stats.node_state[0].inflight, 0);
	free(w);
	bt_free(b);
}

/* Frames of a cancelled channel (a 70000-byte write among them, larger than any gathering
 * buffer) and of a channel never opened are skipped; the next channel's reply decodes. A
 * channel cancelled in the middle of a payload loses the rest of it. */
Test(be, unknown_channel_skipped)
{
	struct bt *b = bt_new(NULL);
	struct bb *w = calloc(1, sizeof(*w));
	static uint8_t big[70000];
	struct tch t[4];
	struct peer *p = open_one(b, &t[0], "A");
	uint32_t half;

	for (int i = 1; i < 4; i++) {
		tch_init(b, &t[i], (const char *[]){"A", "B", "C", "D"}[i]);
		cr_assert_eq(send_req(b, &t[i], 0, "", 0), 0);
	}
	memset(big, 'z', sizeof(big));
	sl_be_cancel(b->be, &t[0].ch);
	cr_assert_null(t[0].ch.conn);
	bb_write(w, 1, E_RAW32, big, sizeof(big), H_STORE_TRACE, sizeof(H_STORE_TRACE));
	bb_write(w, 1, E_BIN32, big, 20000, NULL, 0);
	bb_close(w, 1, H_IDX83, sizeof(H_IDX83));
	bb_error(w, 77, 0x52ff, 1, "queue is full");
	bb_close(w, 99, NULL, 0);
	bb_reply(w, 2);
	log_reset(b);
	peer_send(&b->n, p, w->p, w->n);
	cr_assert_str_eq(b->log, reply_log("B"));
	cr_assert_eq(t[0].events, 0, "nothing for the cancelled channel");
	/* C: cancelled after its payload began */
	w->n = 0;
	bb_write(w, 3, E_RAW16, big, 5000, NULL, 0);
	half = 2500;
	log_reset(b);
	peer_send(&b->n, p, w->p, half);
	cr_assert_eq(t[2].last.type, SL_BE_EV_DATA, "C's payload began");
	sl_be_cancel(b->be, &t[2].ch);
	log_reset(b);
	w->n -= half;
	memmove(w->p, w->p + half, w->n);
	bb_close(w, 3, NULL, 0);
	bb_reply(w, 4);
	peer_send(&b->n, p, w->p, w->n);
	cr_assert_str_eq(b->log, reply_log("D"));
	cr_assert_eq(b->stats.protocol_errors, 0);
	cr_assert_eq(b->stats.node_state[0].inflight, 0);
	cr_assert(!p->rst);
	free(w);
	bt_free(b);
}

/* Malformed input: every channel of the connection is lost, protocol_errors counts it, the
 * connection is reset. */
static void
bad_input(const char *what, const void *bytes, uint32_t len, const char *prefix)
{
	struct bt *b = bt_new(NULL);
	struct tch t[2];
	struct peer *p = open_one(b, &t[0], "A");
	char want[512];

	tch_init(b, &t[1], "B");
	cr_assert_eq(send_req(b, &t[1], 0, "", 0), 0);
	cr_assert_eq(b->n.connects, 1);
	log_reset(b);
	peer_send(&b->n, p, bytes, len);
	snprintf(want, sizeof(want), "%sA LOST %d unsent=0 never=0\nB LOST %d unsent=0 never=0\n",
		 prefix, -EPROTO, -EPROTO);
	cr_assert_str_eq(b->log, want, "%s:\n%s", what, b->log);
	cr_assert_eq(b->stats.protocol_errors, 1, "%s", what);
	cr_assert(p->rst, "%s: no RST", what);
	cr_assert_null(t_lookup(b->e, &p->t), "%s: the connection is gone", what);
	cr_assert_eq(b->stats.node_state[0].conns, 0, "%s", what);
	cr_assert_eq(b->stats.node_state[0].inflight, 0, "%s", what);
	bt_free(b);
}

Test(be, malformed)
{
	static uint8_t big[20000];
	static const uint8_t not_mp[] = {0xc1};
	static const uint8_t not_array[] = {0xa3, 'a', 'b', 'c'};
	static const uint8_t an_int[] = {0x05};
	static const uint8_t type7[] = {0x94, 0x01, 0x07, 0x90, 0x90};
	static const uint8_t write_int[] = {0x94, 0x01, 0x00, 0x91, 0x05, 0x90};
	static const uint8_t bad_index[] = {0x94, 0x01, 0x02, 0x90, 0x91, 0x53};
	static const uint8_t hdrs_not_array[] = {0x94, 0x01, 0x00, 0x91, 0xa2, 'o', 'k', 0x05};
	static const uint8_t ch_not_uint[] = {0x93, 0xa1, 'x', 0x02, 0x90};
	static const uint8_t short_frame[] = {0x92, 0x01, 0x02};
	static const uint8_t args_not_array[] = {0x93, 0x01, 0x02, 0x05};
	static const uint8_t neg_channel[] = {0x93, 0xff, 0x02, 0x90};
	struct bb *w = calloc(1, sizeof(*w));

	bad_input("not msgpack", not_mp, sizeof(not_mp), "");
	bad_input("not an array", not_array, sizeof(not_array), "");
	bad_input("an int", an_int, sizeof(an_int), "");
	bad_input("type 7", type7, sizeof(type7), "");
	bad_input("write [5]", write_int, sizeof(write_int), "");
	bad_input("index 83 with an empty table", bad_index, sizeof(bad_index), "");
	/* a write ends with its headers: a bad header array means no END */
	bad_input("headers not an array", hdrs_not_array, sizeof(hdrs_not_array),
		  "A CHUNK 2\nA DATA ok\n");
	bad_input("channel not an integer", ch_not_uint, sizeof(ch_not_uint), "");
	bad_input("2 elements", short_frame, sizeof(short_frame), "");
	bad_input("args not an array", args_not_array, sizeof(args_not_array), "");
	bad_input("negative channel", neg_channel, sizeof(neg_channel), "");
	/* an error frame larger than SL_BE_SMALL_FRAME */
	memset(big, 'e', sizeof(big));
	bb_error(w, 1, 0x52ff, 1, "");
	w->n--; /* the empty message's a0 */
	bb_raw(w, E_RAW16, big, sizeof(big));
	cr_assert_gt(w->n, SL_BE_SMALL_FRAME);
	bad_input("a 20000-byte error", w->p, w->n, "");
	free(w);
}

/* Channel ids start at 1 on every connection and only grow, also past ended and cancelled
 * channels. */
Test(be, channel_ids)
{
	struct bt *b = bt_new(NULL);
	struct bb *w = calloc(1, sizeof(*w));
	struct tch t[6];
	struct peer *p = open_one(b, &t[0], "A"), *q;
	uint16_t lport = p->t.lport;

	tch_init(b, &t[1], "B");
	tch_init(b, &t[2], "C");
	cr_assert_eq(send_req(b, &t[1], 0, "b", 0), 0);
	cr_assert_eq(send_req(b, &t[2], 0, "", 0), 0);
	cr_assert_eq(b->n.connects, 1);
	bb_request(w, 1, "");
	bb_request(w, 2, "b");
	bb_request(w, 3, "");
	assert_rx(p, w);
	/* A ends, B is cancelled: D and E take 4 and 5 */
	peer_send(&b->n, p, "\x93\x01\x02\x90", 4);
	sl_be_cancel(b->be, &t[1].ch);
	tch_init(b, &t[3], "D");
	tch_init(b, &t[4], "E");
	cr_assert_eq(send_req(b, &t[3], 0, "", 0), 0);
	cr_assert_eq(send_req(b, &t[4], 0, "a body of more than 31 bytes.....", 0), 0);
	bb_request(w, 4, "");
	bb_request(w, 5, "a body of more than 31 bytes.....");
	assert_rx(p, w);
	cr_assert_eq(t[3].ch.id, 4);
	cr_assert_eq(t[4].ch.id, 5);
	/* the node goes away: a new connection starts at 1 */
	log_reset(b);
	peer_rst(&b->n, p);
	cr_assert_str_eq(b->log, "C LOST -104 unsent=0 never=0\nD LOST -104 unsent=0 never=0\n"
				 "E LOST -104 unsent=0 never=0\n");
	tch_init(b, &t[5], "F");
	cr_assert_eq(send_req(b, &t[5], 0, "", 0), 0);
	cr_assert_eq(b->n.connects, 2);
	q = peer_last(&b->n);
	cr_assert_neq(q->t.lport, lport, "a new connection");
	peer_accept(&b->n, q);
	w->n = 0;
	bb_request(w, 1, "");
	assert_rx(q, w);
	cr_assert_eq(t[5].ch.id, 1);
	free(w);
	bt_free(b);
}

/* Deadlines fire in deadline order; the connection of a timed-out channel takes no new
 * request and closes (FIN, no RST) once its other channels end. */
Test(be, deadlines)
{
	struct bt *b = bt_new(NULL);
	struct tch t[4];
	struct peer *p = open_one(b, &t[0], "A"), *q;
	uint64_t t0 = b->e->now;

	sl_be_deadline(b->be, &t[0].ch, t0 + 200000);
	tch_init(b, &t[1], "B");
	tch_init(b, &t[2], "C");
	cr_assert_eq(send_req(b, &t[1], 0, "", t0 + 100000), 0);
	cr_assert_eq(send_req(b, &t[2], 0, "", 0), 0);
	log_reset(b);
	bt_advance(b, 99000);
	cr_assert_str_eq(b->log, "");
	bt_advance(b, 1000);
	cr_assert_str_eq(b->log, "B TIMEOUT\n");
	/* retired: a new request opens another connection */
	tch_init(b, &t[3], "D");
	cr_assert_eq(send_req(b, &t[3], 0, "", 0), 0);
	cr_assert_eq(b->n.connects, 2, "the retired connection is not used");
	q = peer_last(&b->n);
	cr_assert_neq(q, p);
	peer_accept(&b->n, q);
	cr_assert_eq(t[3].ch.id, 1);
	bt_advance(b, 100000);
	cr_assert_str_eq(b->log, "B TIMEOUT\nA TIMEOUT\n");
	cr_assert(!p->fin, "C still runs on it");
	/* late frames of B and A are dropped, C's close ends the connection */
	peer_send(&b->n, p, "\x93\x02\x02\x90\x93\x01\x00\x91\xa1z\x93\x03\x02\x90", 14);
	cr_assert_str_eq(b->log, "B TIMEOUT\nA TIMEOUT\nC CLOSE\n");
	cr_assert(p->fin && !p->rst, "closed with a FIN");
	peer_send(&b->n, q, "\x93\x01\x02\x90", 4);
	cr_assert_str_eq(b->log, "B TIMEOUT\nA TIMEOUT\nC CLOSE\nD CLOSE\n");
	cr_assert(!q->fin, "the other connection stays");
	cr_assert_eq(b->stats.node_state[0].conns, 1);
	cr_assert_eq(b->stats.node_state[0].inflight, 0);
	bt_free(b);
}

/* Three deadlines due in one tick come out earliest first, moved deadlines included. */
Test(be, deadline_order)
{
	struct bt *b = bt_new(NULL);
	struct tch t[5];
	struct peer *p = open_one(b, &t[0], "A");
	uint64_t t0 = b->e->now;
	static const uint64_t ms[5] = {300, 100, 250, 200, 50};

	sl_be_deadline(b->be, &t[0].ch, t0 + ms[0] * 1000);
	for (int i = 1; i < 5; i++) {
		tch_init(b, &t[i], (const char *[]){"A", "B", "C", "D", "E"}[i]);
		cr_assert_eq(send_req(b, &t[i], 0, "", t0 + ms[i] * 1000), 0);
	}
	sl_be_deadline(b->be, &t[4].ch, t0 + 275000); /* E: 50 -> 275 */
	sl_be_deadline(b->be, &t[3].ch, 0);	      /* D: none */
	log_reset(b);
	sl_be_tick(b->be, t0 + 400000);
	collect(&b->n);
	cr_assert_str_eq(b->log, "B TIMEOUT\nC TIMEOUT\nE TIMEOUT\nA TIMEOUT\n");
	cr_assert(!p->fin, "D is still on the connection");
	peer_send(&b->n, p, "\x93\x04\x02\x90", 4);
	cr_assert_str_eq(b->log, "B TIMEOUT\nC TIMEOUT\nE TIMEOUT\nA TIMEOUT\nD CLOSE\n");
	cr_assert(p->fin && !p->rst);
	bt_free(b);
}

static int
pick(struct bt *b, uint64_t tried)
{
	uint64_t m[1] = {tried};

	return sl_be_pick(b->be, 0, m);
}

/* Round robin over the nodes that are up: a node that is down does not give its turn to the
 * next one (which would take two of every three). */
Test(be, round_robin_skips_down_evenly)
{
	struct bt *b = bt_new(NULL);
	int count[3] = {0, 0, 0};

	b->cl->nodes[0].up = false;
	for (int i = 0; i < 30; i++) {
		int n = pick(b, 0);

		cr_assert(n == 1 || n == 2, "%d", n);
		count[n]++;
	}
	cr_assert_eq(count[1], 15, "%d / %d", count[1], count[2]);
	cr_assert_eq(count[2], 15);
	bt_free(b);
}

/* A refused connect: LOST never_connected, the node is marked down and skipped by pick until
 * its ok_seq grows; no new attempt before the back-off, which doubles. */
Test(be, refused_down_backoff)
{
	struct bt *b = bt_new(NULL);
	struct tch t[3];
	bool seen[3] = {false, false, false};
	struct peer *p;

	for (int i = 0; i < 6; i++) {
		int n = pick(b, 0);

		cr_assert(n >= 0 && n < 3);
		seen[n] = true;
	}
	cr_assert(seen[0] && seen[1] && seen[2], "round robin");
	cr_assert_eq(pick(b, 0x7), -EHOSTUNREACH, "all tried");
	tch_init(b, &t[0], "A");
	cr_assert_eq(send_req(b, &t[0], 0, "", 0), 0);
	log_reset(b);
	peer_refuse(&b->n, peer_last(&b->n));
	cr_assert_str_eq(b->log, "A LOST -111 unsent=1 never=1\n");
	cr_assert(sl_be_node_down(b->be, 0));
	cr_assert_eq(b->stats.node_state[0].conn_failures, 1);
	cr_assert_eq(b->stats.node_state[0].passive_down, 1);
	for (int i = 0; i < 9; i++)
		cr_assert_neq(pick(b, 0), 0, "a node marked down is skipped");
	cr_assert_eq(pick(b, 0x6), -EHOSTUNREACH);
	/* back-off: 100 ms */
	tch_init(b, &t[1], "B");
	cr_assert_eq(send_req(b, &t[1], 0, "", 0), -EHOSTUNREACH);
	bt_advance(b, 99000);
	cr_assert_eq(send_req(b, &t[1], 0, "", 0), -EHOSTUNREACH);
	cr_assert_eq(b->n.connects, 1, "no attempt during the back-off");
	bt_advance(b, 1000);
	cr_assert_eq(send_req(b, &t[1], 0, "", 0), 0);
	cr_assert_eq(b->n.connects, 2);
	peer_refuse(&b->n, peer_last(&b->n));
	cr_assert_str_eq(b->log, "A LOST -111 unsent=1 never=1\nB LOST -111 unsent=1 never=1\n");
	/* then 200 ms */
	tch_init(b, &t[2], "C");
	bt_advance(b, 199000);
	cr_assert_eq(send_req(b, &t[2], 0, "", 0), -EHOSTUNREACH);
	cr_assert_eq(b->n.connects, 2);
	bt_advance(b, 1000);
	cr_assert_eq(send_req(b, &t[2], 0, "", 0), 0);
	cr_assert_eq(b->n.connects, 3);
	p = peer_last(&b->n);
	peer_accept(&b->n, p);
	peer_send(&b->n, p, "\x93\x01\x02\x90", 4);
	cr_assert_str_eq(b->log, "A LOST -111 unsent=1 never=1\nB LOST -111 unsent=1 never=1\n"
				 "C CLOSE\n");
	/* still down for pick until the control thread sees a check pass */
	for (int i = 0; i < 9; i++)
		cr_assert_neq(pick(b, 0), 0);
	cr_assert(sl_be_node_down(b->be, 0));
	b->cl->nodes[0].ok_seq++;
	cr_assert_eq(pick(b, 0x6), 0, "back once ok_seq grew");
	cr_assert(!sl_be_node_down(b->be, 0));
	b->cl->nodes[0].up = false;
	cr_assert_eq(pick(b, 0x6), -EHOSTUNREACH, "not while the checks fail");
	bt_free(b);
}

/* A connect that is never answered fails after connect_timeout_ms. */
Test(be, connect_timeout)
{
	struct sl_be_conf c = {.pool_size = 1, .connect_timeout_ms = 50, .backoff_min_ms = 100};
	struct bt *b = bt_new(&c);
	struct tch t;

	tch_init(b, &t, "A");
	cr_assert_eq(send_req(b, &t, 0, "", 0), 0);
	log_reset(b);
	bt_advance(b, 40000);
	cr_assert_str_eq(b->log, "");
	bt_advance(b, 20000);
	cr_assert_str_eq(b->log, "A LOST -110 unsent=1 never=1\n");
	cr_assert(sl_be_node_down(b->be, 0));
	cr_assert_null(t_lookup(b->e, &peer_last(&b->n)->t), "the attempt is dropped");
	bt_free(b);
}

/* LOST unsent: true while the node's TCP had not acknowledged the channel's last byte. */
static void
unsent_case(bool fin)
{
	struct bt *b = bt_new(NULL);
	struct tch t[3];
	struct peer *p = open_one(b, &t[0], "A");
	char want[256];
	int err = -ECONNRESET;

	p->noack = true;
	tch_init(b, &t[1], "B");
	tch_init(b, &t[2], "C");
	cr_assert_eq(send_req(b, &t[1], 0, "bbbb", 0), 0);
	/* B's request whole, C's but its last byte */
	cr_assert_eq(send_req(b, &t[2], 0, "", 0), 0);
	cr_assert_eq(p->rx_len, t[2].ch.tx_end);
	p->acked = p->rx_len - 1;
	peer_seg(&b->n, p, TF_ACK, NULL, 0);
	collect(&b->n);
	log_reset(b);
	if (fin)
		peer_fin(&b->n, p);
	else
		peer_rst(&b->n, p);
	snprintf(want, sizeof(want),
		 "A LOST %d unsent=0 never=0\nB LOST %d unsent=0 never=0\n"
		 "C LOST %d unsent=1 never=0\n",
		 err, err, err);
	cr_assert_str_eq(b->log, want, "%s:\n%s", fin ? "FIN" : "RST", b->log);
	cr_assert(sl_be_node_down(b->be, 0));
	bt_free(b);
}

Test(be, lost_unsent_rst)
{
	unsent_case(false);
}

Test(be, lost_unsent_fin)
{
	unsent_case(true);
}

/* A handler that returns 1 on DATA holds every later event of the connection until
 * sl_be_resume(). */
Test(be, pause_resume)
{
	struct bt *b = bt_new(NULL);
	struct bb *w = calloc(1, sizeof(*w));
	static char body[3001], want[8192];
	struct tch t[2];
	struct peer *p = open_one(b, &t[0], "A");

	for (int i = 0; i < 3000; i++)
		body[i] = (char)('a' + i % 26);
	tch_init(b, &t[1], "B");
	cr_assert_eq(send_req(b, &t[1], 0, "", 0), 0);
	t[0].pause_data = 1;
	bb_write(w, 1, E_RAW16, body, 3000, NULL, 0); /* 7 bytes of head */
	bb_close(w, 1, NULL, 0);
	bb_close(w, 2, NULL, 0);
	log_reset(b);
	peer_send_mss(&b->n, p, w->p, w->n, 1000);
	snprintf(want, sizeof(want), "A CHUNK 3000\nA DATA %.993s\n(pause)\n", body);
	cr_assert_str_eq(b->log, want);
	bt_advance(b, 10000);
	cr_assert_str_eq(b->log, want, "nothing while paused");
	sl_be_resume(b->be, &t[0].ch);
	snprintf(want, sizeof(want),
		 "A CHUNK 3000\nA DATA %.993s\n(pause)\nA DATA %s\nA END\n"
		 "A CLOSE\nB CLOSE\n",
		 body, body + 993);
	cr_assert_str_eq(b->log, want);
	cr_assert(!p->rst && !p->fin);
	free(w);
	bt_free(b);
}

/* A FIN after replies that wait behind a pause: they are decoded first, then the rest is lost. */
Test(be, pause_then_fin)
{
	struct bt *b = bt_new(NULL);
	struct bb *w = calloc(1, sizeof(*w));
	struct tch t[3];
	struct peer *p = open_one(b, &t[0], "A");

	tch_init(b, &t[1], "B");
	cr_assert_eq(send_req(b, &t[1], 0, "", 0), 0);
	tch_init(b, &t[2], "C");
	cr_assert_eq(send_req(b, &t[2], 0, "", 0), 0);
	t[0].pause_data = 1;
	bb_write(w, 1, E_FIXRAW, "abcd", 4, NULL, 0);
	bb_close(w, 1, NULL, 0);
	bb_close(w, 2, NULL, 0);
	log_reset(b);
	peer_send_mss(&b->n, p, w->p, w->n, 6);
	peer_fin(&b->n, p);
	cr_assert_str_eq(b->log, "A CHUNK 4\nA DATA a\n(pause)\n", "%s", b->log);
	sl_be_resume(b->be, &t[0].ch);
	cr_assert_str_eq(b->log,
			 "A CHUNK 4\nA DATA a\n(pause)\nA DATA bcd\nA END\nA CLOSE\nB CLOSE\n"
			 "C LOST -104 unsent=0 never=0\n",
			 "%s", b->log);
	free(w);
	bt_free(b);
}

/* The channel that paused its connection times out: the connection's other channels go on. */
Test(be, pause_then_timeout)
{
	struct bt *b = bt_new(NULL);
	struct bb *w = calloc(1, sizeof(*w));
	struct tch t[2];
	struct peer *p = open_one(b, &t[0], "A");

	sl_be_deadline(b->be, &t[0].ch, b->e->now + 50000);
	tch_init(b, &t[1], "B");
	cr_assert_eq(send_req(b, &t[1], 0, "", 0), 0);
	t[0].pause_data = 1;
	bb_write(w, 1, E_FIXRAW, "abcd", 4, NULL, 0);
	bb_close(w, 1, NULL, 0);
	bb_close(w, 2, NULL, 0);
	log_reset(b);
	peer_send_mss(&b->n, p, w->p, w->n, 6);
	cr_assert_str_eq(b->log, "A CHUNK 4\nA DATA a\n(pause)\n");
	bt_advance(b, 60000);
	cr_assert_str_eq(b->log, "A CHUNK 4\nA DATA a\n(pause)\nA TIMEOUT\nB CLOSE\n");
	cr_assert(p->fin && !p->rst, "retired and closed once B ended");
	free(w);
	bt_free(b);
}
