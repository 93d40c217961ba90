/**
 * @file
 * The TCP unit tests' environment: see tcp-test.h.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp-test.h"

#define L4_OFF SL_TCP_L4_OFF

const uint8_t t_opts_mss1460_ws7[8] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7};
const uint8_t t_opts_mss1460[4] = {2, 4, 0x05, 0xb4};
const uint8_t t_opts_linux[20] = {2,	4,    0x05, 0xb4, 4, 2, 8, 10, 0, 0,
				  0x03, 0xe8, 0,    0,	  0, 0, 1, 3,  3, 7};
const uint8_t t_opts_sack[12] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7};

/* ---- env ops ---- */

struct t_pkt {
	uint16_t room;
	uint8_t buf[];
};

struct t_segbuf {
	struct sl_tcp_seg seg;
	uint32_t room;
	uint8_t buf[];
};

static void *
env_pkt_alloc(void *env, uint8_t **frame, uint16_t room)
{
	struct tenv *e = env;
	struct t_pkt *p;

	if (e->fail_pkt_alloc)
		return NULL;
	p = malloc(sizeof(*p) + room);
	cr_assert_not_null(p);
	memset(p->buf, 0xee, room);
	p->room = room;
	*frame = p->buf;
	e->pkts_live++;
	e->pkts_total++;
	return p;
}

static void
env_pkt_xmit(void *env, void *pkt, uint8_t *frame, uint16_t tcp_len, const struct sl_tcp_tuple *t)
{
	struct tenv *e = env;
	struct t_pkt *p = pkt;
	struct t_cap *c;

	cr_assert_eq(frame, p->buf, "frame is not the one allocated");
	cr_assert_leq(L4_OFF + tcp_len, p->room, "segment beyond the room asked for");
	c = malloc(sizeof(*c) + tcp_len);
	cr_assert_not_null(c);
	c->next = NULL;
	c->t = *t;
	c->len = tcp_len;
	memcpy(c->bytes, frame + L4_OFF, tcp_len);
	if (e->cap_tail != NULL)
		e->cap_tail->next = c;
	else
		e->cap_head = c;
	e->cap_tail = c;
	e->n_cap++;
	free(p);
	e->pkts_live--;
}

static struct sl_tcp_seg *
env_seg_alloc(void *env, uint32_t room)
{
	struct tenv *e = env;
	struct t_segbuf *b = malloc(sizeof(*b) + room);

	cr_assert_not_null(b);
	b->seg.next = (struct sl_tcp_seg *)(uintptr_t)0xdeadbeef; /* the stack must set it */
	b->seg.data = b->buf;
	b->seg.len = room;
	b->seg.owner = b;
	b->room = room;
	e->segs_live++;
	return &b->seg;
}

static void
env_seg_free(void *env, struct sl_tcp_seg *seg)
{
	struct tenv *e = env;
	struct t_segbuf *b = seg->owner;

	cr_assert_eq(&b->seg, seg, "seg_free of a segment we did not allocate");
	cr_assert(seg->data >= b->buf && seg->data + seg->len <= b->buf + b->room,
		  "segment view outside its buffer");
	e->segs_live--;
	cr_assert_geq(e->segs_live, 0, "segment freed twice");
	free(b);
}

static struct sl_tcp_conn *
env_conn_alloc(void *env)
{
	struct tenv *e = env;
	struct sl_tcp_conn *c;

	if (e->fail_conn_alloc)
		return NULL;
	c = malloc(sizeof(*c));
	cr_assert_not_null(c);
	memset(c, 0xa5, sizeof(*c)); /* the stack initialises what it uses */
	e->conns_live++;
	return c;
}

static void
env_conn_free(void *env, struct sl_tcp_conn *c)
{
	struct tenv *e = env;
	unsigned int i;

	for (i = 0; i < T_TABLE_MAX; i++)
		cr_assert_neq(e->table[i], c, "conn_free of a connection still in the table");
	memset(c, 0x5a, sizeof(*c));
	free(c);
	e->conns_live--;
	cr_assert_geq(e->conns_live, 0, "connection freed twice");
}

static int
tuple_eq(const struct sl_tcp_tuple *a, const struct sl_tcp_tuple *b)
{
	return a->laddr.v == b->laddr.v && a->raddr.v == b->raddr.v && a->lport == b->lport &&
	       a->rport == b->rport;
}

static int
env_conn_insert(void *env, struct sl_tcp_conn *c)
{
	struct tenv *e = env;
	unsigned int i;

	if (e->fail_insert)
		return -ENOSPC;
	for (i = 0; i < T_TABLE_MAX; i++) {
		if (e->table[i] != NULL && tuple_eq(&e->table[i]->tuple, &c->tuple)) {
			cr_assert(e->no_lookup, "tuple inserted twice");
			return -EEXIST;
		}
	}
	for (i = 0; i < T_TABLE_MAX; i++) {
		if (e->table[i] == NULL) {
			e->table[i] = c;
			return 0;
		}
	}
	return -ENOSPC;
}

static void
env_conn_remove(void *env, struct sl_tcp_conn *c)
{
	struct tenv *e = env;
	unsigned int i;

	for (i = 0; i < T_TABLE_MAX; i++) {
		if (e->table[i] == c) {
			e->table[i] = NULL;
			return;
		}
	}
	cr_assert_fail("conn_remove of a connection not in the table");
}

static struct sl_tcp_conn *
env_conn_lookup(void *env, const struct sl_tcp_tuple *t)
{
	struct tenv *e = env;

	return e->no_lookup ? NULL : t_lookup(e, t);
}

const struct sl_tcp_env_ops t_env_ops = {
	.pkt_alloc = env_pkt_alloc,
	.pkt_xmit = env_pkt_xmit,
	.seg_alloc = env_seg_alloc,
	.seg_free = env_seg_free,
	.conn_alloc = env_conn_alloc,
	.conn_free = env_conn_free,
	.conn_insert = env_conn_insert,
	.conn_remove = env_conn_remove,
	.conn_lookup = env_conn_lookup,
};

/* ---- the recording application ---- */

static int
app_accepted(void *app, struct sl_tcp_conn *c)
{
	struct tenv *e = app;

	e->app.accepted++;
	if (e->app.refuse)
		return e->app.refuse;
	e->app.conn = c;
	sl_tcp_set_user(c, e);
	return 0;
}

static void
app_data(void *app, struct sl_tcp_conn *c, struct sl_tcp_seg *chain, uint32_t len)
{
	struct tenv *e = app;
	struct tapp *a = &e->app;
	struct sl_tcp_seg *s, *last = NULL;
	uint32_t n = 0;

	cr_assert_eq(sl_tcp_user(c), e, "data for a connection the app did not accept");
	a->data_calls++;
	a->last_chain = chain;
	for (s = chain; s != NULL; s = s->next) {
		uint32_t k = s->len;

		if (a->rx_len + k > T_RX_MAX)
			k = T_RX_MAX - a->rx_len;
		memcpy(a->rx + a->rx_len, s->data, k);
		a->rx_len += k;
		n += s->len;
		last = s;
	}
	cr_assert_eq(n, len, "data length %u but the chain holds %u", len, n);
	if (a->hold) {
		if (a->held_tail != NULL)
			a->held_tail->next = chain;
		else
			a->held = chain;
		a->held_tail = last;
		a->held_bytes += len;
	} else {
		sl_tcp_seg_free_chain(&e->st, chain);
		sl_tcp_consumed(c, len, e->now);
	}
}

static void
app_writable(void *app, struct sl_tcp_conn *c)
{
	struct tenv *e = app;

	(void)c;
	e->app.writable++;
}

static void
app_peer_closed(void *app, struct sl_tcp_conn *c)
{
	struct tenv *e = app;

	e->app.peer_closed++;
	if (e->app.close_on_peer_closed) {
		sl_tcp_close(c, e->now);
		e->app.conn = NULL;
	}
}

static void
app_reset(void *app, struct sl_tcp_conn *c)
{
	struct tenv *e = app;

	e->app.reset++;
	if (e->app.conn == c)
		e->app.conn = NULL;
}

static void
app_error(void *app, struct sl_tcp_conn *c, int err)
{
	struct tenv *e = app;

	e->app.error++;
	e->app.last_err = err;
	if (e->app.conn == c)
		e->app.conn = NULL;
}

static void
app_connected(void *app, struct sl_tcp_conn *c)
{
	struct tenv *e = app;

	cr_assert_eq(sl_tcp_user(c), e, "connected: the user pointer of sl_tcp_connect()");
	cr_assert_eq(sl_tcp_state(c), SL_TCP_ESTABLISHED);
	e->app.connected++;
	e->app.conn = c;
	if (e->app.send_on_connected != 0) {
		struct sl_tcp_seg *s = sl_tcp_seg_alloc(&e->st, e->app.send_on_connected);

		memset(s->data, 'c', e->app.send_on_connected);
		s->len = e->app.send_on_connected;
		cr_assert_eq(sl_tcp_send(c, s, e->now), 0);
	}
}

int
t_connect(struct tenv *e, const struct sl_tcp_tuple *t, struct sl_tcp_conn **out)
{
	return sl_tcp_connect(&e->st, t, &t_app_ops, e, e, out, e->now);
}

const struct sl_tcp_app_ops t_app_ops = {
	.accepted = app_accepted,
	.data = app_data,
	.writable = app_writable,
	.peer_closed = app_peer_closed,
	.reset = app_reset,
	.error = app_error,
	.connected = app_connected,
};

/* ---- setup and teardown ---- */

struct sl_tcp_params
t_params(void)
{
	struct sl_tcp_params p = {
		.mss = 1460,
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
		.tick_us = 1000,
	};

	return p;
}

void
t_init(struct tenv *e, const struct sl_tcp_params *p)
{
	struct sl_tcp_params q = p != NULL ? *p : t_params();

	memset(e, 0, sizeof(*e));
	e->now = 1000000;
	cr_assert_eq(sl_tcp_stack_init(&e->st, &q, &t_env_ops, e, 42, e->now), 0);
	cr_assert_eq(sl_tcp_listen(&e->st, T_IP4(10, 0, 0, 1), T_SRV_PORT, 16, &t_app_ops, e), 0);
	e->t.laddr = T_IP4(10, 0, 0, 1);
	e->t.raddr = T_IP4(10, 0, 0, 2);
	e->t.lport = T_SRV_PORT;
	e->t.rport = T_CLI_PORT;
}

struct tenv *
t_new(const struct sl_tcp_params *p)
{
	struct tenv *e = malloc(sizeof(*e));

	cr_assert_not_null(e);
	t_init(e, p);
	return e;
}

void
t_drain(struct tenv *e)
{
	struct t_cap *c;

	while ((c = t_pop(e)) != NULL)
		free(c);
}

void
t_fini(struct tenv *e)
{
	unsigned int i;

	sl_tcp_seg_free_chain(&e->st, e->app.held);
	e->app.held = e->app.held_tail = NULL;
	for (i = 0; i < T_TABLE_MAX; i++)
		if (e->table[i] != NULL)
			sl_tcp_conn_release(&e->st, e->table[i]);
	t_drain(e);
	cr_expect_eq(e->pkts_live, 0, "%ld packet buffers leaked", e->pkts_live);
	cr_expect_eq(e->segs_live, 0, "%ld segments leaked", e->segs_live);
	cr_expect_eq(e->conns_live, 0, "%ld connections leaked", e->conns_live);
	for (i = 0; i < SL_TCP_NSTATES; i++)
		cr_expect_eq(e->st.stats.conns[i], 0, "conns[%s] = %lu after release",
			     sl_tcp_state_names[i], (unsigned long)e->st.stats.conns[i]);
	free(e);
}

/* ---- segments ---- */

uint16_t
ref_tcp_csum(struct sl_ip4 src, struct sl_ip4 dst, const uint8_t *seg, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	sum += src.v >> 16;
	sum += src.v & 0xffff;
	sum += dst.v >> 16;
	sum += dst.v & 0xffff;
	sum += 6;
	sum += (uint32_t)len;
	for (i = 0; i < len; i++)
		sum += (i & 1) ? seg[i] : (uint32_t)seg[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
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
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void
t_opt_ts(uint8_t *o, uint32_t val, uint32_t ecr)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	put32(o + 4, val);
	put32(o + 8, ecr);
}

unsigned int
t_opt_sack(uint8_t *o, unsigned int n, const uint32_t *l, const uint32_t *r)
{
	unsigned int i;

	o[0] = 1;
	o[1] = 1;
	o[2] = 5;
	o[3] = (uint8_t)(2 + 8 * n);
	for (i = 0; i < n; i++) {
		put32(o + 4 + 8 * i, l[i]);
		put32(o + 8 + 8 * i, r[i]);
	}
	return 4 + 8 * n;
}

struct sl_tcp_seg *
t_build(struct tenv *e, const struct sl_tcp_tuple *t, const struct t_seg_spec *s)
{
	unsigned int hlen = 20 + s->optlen;
	struct sl_tcp_seg *seg = env_seg_alloc(e, hlen + s->len);
	uint8_t *h = seg->data;
	uint16_t sum;

	cr_assert_eq(s->optlen % 4, 0);
	put16(h, t->rport);
	put16(h + 2, t->lport);
	put32(h + 4, s->seq);
	put32(h + 8, s->ack);
	h[12] = (uint8_t)((hlen / 4) << 4);
	h[13] = s->flags;
	put16(h + 14, s->wnd);
	put16(h + 16, 0);
	put16(h + 18, 0);
	if (s->optlen != 0)
		memcpy(h + 20, s->opts, s->optlen);
	if (s->len != 0) {
		if (s->payload != NULL)
			memcpy(h + hlen, s->payload, s->len);
		else
			memset(h + hlen, 'x', s->len);
	}
	sum = ref_tcp_csum(t->raddr, t->laddr, h, hlen + s->len);
	if (s->bad_csum)
		sum ^= 0x0100;
	put16(h + 16, sum);
	seg->len = hlen + s->len;
	return seg;
}

struct sl_tcp_conn *
t_lookup(struct tenv *e, const struct sl_tcp_tuple *t)
{
	unsigned int i;

	for (i = 0; i < T_TABLE_MAX; i++)
		if (e->table[i] != NULL && tuple_eq(&e->table[i]->tuple, t))
			return e->table[i];
	return NULL;
}

void
t_inject_t(struct tenv *e, const struct sl_tcp_tuple *t, const struct t_seg_spec *s)
{
	struct sl_tcp_seg *seg = t_build(e, t, s);

	sl_tcp_input(&e->st, t_lookup(e, t), t, seg, 0, e->now);
}

void
t_inject(struct tenv *e, const struct t_seg_spec *s)
{
	t_inject_t(e, &e->t, s);
}

void
t_inject_raw(struct tenv *e, const uint8_t *bytes, uint32_t len, unsigned int flags)
{
	struct sl_tcp_seg *seg = env_seg_alloc(e, len);

	memcpy(seg->data, bytes, len);
	seg->len = len;
	sl_tcp_input(&e->st, t_lookup(e, &e->t), &e->t, seg, flags, e->now);
}

int
t_state(struct tenv *e)
{
	struct sl_tcp_conn *c = t_lookup(e, &e->t);

	return c != NULL ? (int)sl_tcp_state(c) : T_GONE;
}

struct t_cap *
t_pop(struct tenv *e)
{
	struct t_cap *c = e->cap_head;

	if (c == NULL)
		return NULL;
	e->cap_head = c->next;
	if (e->cap_head == NULL)
		e->cap_tail = NULL;
	e->n_cap--;
	return c;
}

bool
t_parse(const struct t_cap *cap, struct t_out *o)
{
	const uint8_t *h = cap->bytes;
	unsigned int i;

	memset(o, 0, sizeof(*o));
	if (cap->len < 20)
		return false;
	o->sport = get16(h);
	o->dport = get16(h + 2);
	o->seq = get32(h + 4);
	o->ack = get32(h + 8);
	o->hlen = (h[12] >> 4) * 4u;
	o->flags = h[13];
	o->wnd = get16(h + 14);
	o->mss = -1;
	o->ws = -1;
	if (o->hlen < 20 || o->hlen > cap->len)
		return false;
	for (i = 20; i < o->hlen;) {
		if (h[i] == 0)
			break;
		if (h[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= o->hlen || h[i + 1] < 2)
			return false;
		if (h[i] == 2 && h[i + 1] == 4)
			o->mss = get16(h + i + 2);
		if (h[i] == 3 && h[i + 1] == 3)
			o->ws = h[i + 2];
		if (h[i] == 4 && h[i + 1] == 2)
			o->sack_ok = true;
		if (h[i] == 8 && h[i + 1] == 10) {
			o->ts = true;
			o->tsval = get32(h + i + 2);
			o->tsecr = get32(h + i + 6);
		}
		if (h[i] == 5 && h[i + 1] >= 10 && (h[i + 1] - 2) % 8 == 0) {
			unsigned int k;

			o->n_sack = (h[i + 1] - 2u) / 8;
			if (o->n_sack > 4)
				return false;
			for (k = 0; k < o->n_sack; k++) {
				o->sack_l[k] = get32(h + i + 2 + 8 * k);
				o->sack_r[k] = get32(h + i + 6 + 8 * k);
			}
		}
		i += h[i + 1];
	}
	o->opts = h + 20;
	o->optlen = o->hlen - 20;
	o->len = cap->len - o->hlen;
	o->payload = h + o->hlen;
	o->csum_ok = ref_tcp_csum(cap->t.laddr, cap->t.raddr, h, cap->len) == 0;
	return true;
}

static struct t_cap *last_popped;

struct t_out
t_pop_out(struct tenv *e)
{
	struct t_out o;

	free(last_popped);
	last_popped = t_pop(e);
	cr_assert_not_null(last_popped, "expected a transmitted segment, none");
	cr_assert(t_parse(last_popped, &o), "transmitted segment does not parse");
	cr_assert(o.csum_ok, "transmitted segment has a bad checksum");
	return o;
}

void
t_advance(struct tenv *e, uint64_t us)
{
	uint64_t end = e->now + us;

	while (e->now < end) {
		uint64_t step = end - e->now < 1000 ? end - e->now : 1000;

		e->now += step;
		sl_tcp_timer(&e->st, e->now);
	}
}

uint64_t
t_stat(const struct tenv *e, const char *name)
{
	const uint64_t *v = (const uint64_t *)&e->st.stats;
	size_t i;

	for (i = 0; i < SL_TCP_STATS_COUNT; i++)
		if (strcmp(sl_tcp_stats_names[i], name) == 0)
			return v[i];
	cr_assert_fail("no counter %s", name);
	return 0;
}

void
t_client(struct tenv *e, uint8_t flags, uint32_t seq_rel, uint32_t ack_rel, uint32_t len,
	 uint16_t wnd, const uint8_t *opts, unsigned int optlen)
{
	struct t_seg_spec s = {.flags = flags,
			       .seq = e->cli_isn + seq_rel,
			       .ack = e->srv_iss + ack_rel,
			       .wnd = wnd,
			       .len = len,
			       .opts = opts,
			       .optlen = optlen};

	t_inject(e, &s);
}

uint8_t
t_stream_byte(uint32_t i)
{
	return (uint8_t)(i * 7 + (i >> 8));
}

void
t_app_send(struct tenv *e, uint32_t len, uint32_t *stream)
{
	struct sl_tcp_seg *s = sl_tcp_seg_alloc(&e->st, len);
	uint32_t i;

	for (i = 0; i < len; i++)
		s->data[i] = stream != NULL ? t_stream_byte(*stream + i) : 'a';
	if (stream != NULL)
		*stream += len;
	s->len = len;
	cr_assert_eq(sl_tcp_send(t_lookup(e, &e->t), s, e->now), 0);
}

struct t_out
t_expect(struct tenv *e, uint8_t flags, uint32_t seq_rel, uint32_t len)
{
	struct t_out o = t_pop_out(e);

	cr_assert_eq(o.flags, flags, "flags %#x, expected %#x", o.flags, flags);
	cr_assert_eq(o.seq, e->srv_iss + seq_rel, "seq %u (rel), expected %u", o.seq - e->srv_iss,
		     seq_rel);
	cr_assert_eq(o.len, len, "payload %u, expected %u", o.len, len);
	return o;
}

struct sl_tcp_conn *
t_handshake(struct tenv *e, uint32_t isn, const uint8_t *opts, unsigned int optlen)
{
	struct t_seg_spec syn = {
		.flags = TF_SYN, .seq = isn, .wnd = 65535, .opts = opts, .optlen = optlen};
	struct t_seg_spec ack = {.flags = TF_ACK, .seq = isn + 1, .wnd = 65535};
	struct t_out o;

	e->cli_isn = isn;
	t_inject(e, &syn);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_SYN | TF_ACK);
	cr_assert_eq(o.ack, isn + 1);
	e->srv_iss = o.seq;
	e->iss_known = true;
	ack.ack = o.seq + 1;
	t_inject(e, &ack);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	if (e->st.listeners[0].ops == &t_app_ops)
		cr_assert_eq(e->n_cap, 0, "nothing answers the handshake's ACK");
	return t_lookup(e, &e->t);
}

/* ---- vectors ---- */

static const char *
flag_str(uint8_t f, char *buf)
{
	static const char *const n[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG"};
	unsigned int i;

	buf[0] = 0;
	for (i = 0; i < 6; i++) {
		if (f & (1u << i)) {
			if (buf[0])
				strcat(buf, "|");
			strcat(buf, n[i]);
		}
	}
	if (!buf[0])
		strcpy(buf, "-");
	return buf;
}

static void
check_out(struct tenv *e, const struct t_step *s, unsigned int k, const struct t_out *o)
{
	const struct t_vseg *x = &s->out[k];
	uint32_t seq = x->abs ? (uint32_t)x->seq : e->srv_iss + (uint32_t)x->seq;
	uint32_t ack = x->abs ? (uint32_t)x->ack : e->cli_isn + (uint32_t)x->ack;
	char b1[40], b2[40];

	cr_assert_eq(o->flags, x->flags, "%s: output %u flags %s, expected %s", s->desc, k,
		     flag_str(o->flags, b1), flag_str(x->flags, b2));
	if (x->seq != T_ANY)
		cr_assert_eq(o->seq, seq, "%s: output %u seq %u, expected %u (rel %ld)", s->desc, k,
			     o->seq, seq, (long)(o->seq - e->srv_iss));
	if (x->flags & TF_ACK)
		cr_assert_eq(o->ack, ack, "%s: output %u ack %u, expected %u (rel %ld)", s->desc, k,
			     o->ack, ack, (long)(o->ack - e->cli_isn));
	if (x->wnd != T_ANY && x->wnd != 0)
		cr_assert_eq(o->wnd, x->wnd == T_WND_ZERO ? 0 : x->wnd,
			     "%s: output %u window %u, expected %d", s->desc, k, o->wnd, x->wnd);
	cr_assert_eq(o->len, x->len, "%s: output %u payload %u, expected %u", s->desc, k, o->len,
		     x->len);
	if (x->mss != 0)
		cr_assert_eq(o->mss, x->mss, "%s: output %u MSS option %d, expected %d", s->desc, k,
			     o->mss, x->mss);
	if (x->ws != 0)
		cr_assert_eq(o->ws, x->ws, "%s: output %u WS option %d, expected %d", s->desc, k,
			     o->ws, x->ws);
	cr_assert_eq(o->sport, e->t.lport, "%s: source port", s->desc);
	cr_assert_eq(o->dport, e->t.rport, "%s: destination port", s->desc);
}

void
t_run(struct tenv *e, const struct t_step *steps, size_t n)
{
	static uint8_t payload[65536];
	size_t i;
	unsigned int k;

	for (i = 0; i < n; i++) {
		const struct t_step *s = &steps[i];
		struct sl_tcp_conn *c = t_lookup(e, &e->t);

		switch (s->op) {
		case T_IN: {
			struct t_seg_spec in = {
				.flags = s->in.flags,
				.seq = s->in.abs ? (uint32_t)s->in.seq
						 : e->cli_isn + (uint32_t)s->in.seq,
				.ack = s->in.abs ? (uint32_t)s->in.ack
						 : e->srv_iss + (uint32_t)s->in.ack,
				.wnd = s->in.zero_wnd	? 0
				       : s->in.wnd != 0 ? (uint16_t)s->in.wnd
							: 65535,
				.len = s->in.len,
			};
			if (s->in.opts != NULL) {
				in.opts = s->in.opts;
				in.optlen = s->in.optlen;
			} else if (s->in.flags & TF_SYN) {
				in.opts = t_opts_mss1460_ws7;
				in.optlen = sizeof(t_opts_mss1460_ws7);
			}
			t_inject(e, &in);
			break;
		}
		case T_CLOSE:
			cr_assert_not_null(c, "%s: no connection to close", s->desc);
			sl_tcp_close(c, e->now);
			break;
		case T_SHUTDOWN:
			cr_assert_not_null(c, "%s: no connection to shut down", s->desc);
			cr_assert_eq(sl_tcp_shutdown(c, e->now), 0, "%s", s->desc);
			break;
		case T_ABORT:
			cr_assert_not_null(c, "%s: no connection to abort", s->desc);
			sl_tcp_abort(c, e->now);
			break;
		case T_SEND: {
			struct sl_tcp_seg *seg = sl_tcp_seg_alloc(&e->st, (uint32_t)s->arg);

			memset(payload, 'a', sizeof(payload));
			memcpy(seg->data, payload, s->arg);
			seg->len = (uint32_t)s->arg;
			cr_assert_not_null(c, "%s: no connection to send on", s->desc);
			cr_assert_eq(sl_tcp_send(c, seg, e->now), 0, "%s", s->desc);
			break;
		}
		case T_CONSUME:
			cr_assert_not_null(c, "%s", s->desc);
			sl_tcp_consumed(c, (uint32_t)s->arg, e->now);
			break;
		case T_ADVANCE:
			t_advance(e, s->arg);
			break;
		}
		if (s->state != T_SKIP)
			cr_assert_eq(t_state(e), s->state, "%s: state %s, expected %s", s->desc,
				     t_state(e) >= 0 ? sl_tcp_state_names[t_state(e)] : "(gone)",
				     s->state >= 0 ? sl_tcp_state_names[s->state] : "(gone)");
		for (k = 0; k < s->n_out; k++) {
			struct t_out o = t_pop_out(e);

			if (!e->iss_known && (o.flags & TF_SYN)) {
				e->srv_iss = o.seq;
				e->iss_known = true;
			}
			check_out(e, s, k, &o);
		}
		cr_assert_eq(e->n_cap, 0, "%s: %u more segments sent than the %u expected", s->desc,
			     e->n_cap, s->n_out);
	}
	free(last_popped);
	last_popped = NULL;
}
