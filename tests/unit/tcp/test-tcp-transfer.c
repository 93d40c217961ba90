/**
 * @file
 * Bulk transfer through two stacks wired back to back in memory: A runs the echo
 * application, B a sender that writes a known byte stream in random-ish chains and checks
 * what comes back. Both stacks only open passively (active open comes with a later issue),
 * so the wire opens both: it sends each a SYN in the other's name and completes both
 * handshakes, then carries segments across, translating sequence numbers between the ISNs
 * each side chose and the ones the other was told (a sequence-translating middlebox: SACK
 * block edges too), with checksums recomputed by the tests' own code. Optionally it drops
 * segments at random and delays some past the ones after them (reordering); the SYNs offer
 * SACK and timestamps or not. The lossy variants show that fast retransmit and SACK, not
 * only the retransmission timer, did the recovery.
 */
#include <criterion/criterion.h>

#include "tcp-test.h"

struct sender {
	struct tenv *e;
	struct sl_tcp_conn *c;
	uint64_t total, sent, rcvd;
	uint64_t rng;
	bool shut, peer_closed, failed;
};

struct wire {
	struct tenv *a, *b;
	uint32_t xa, xb;       /* the ISNs A and B were told */
	uint32_t iss_a, iss_b; /* the ISNs they chose */
	uint32_t ts_a, ts_b;   /* their TSval clocks minus what the other was told (1000) */
	uint64_t rng;
	unsigned int loss_pm;	       /* segments lost, per mille */
	unsigned int reorder_pm;       /* segments delayed past the next round's, per mille */
	struct t_cap *late_a, *late_b; /* delayed, for A and for B */
	unsigned long carried, dropped, reordered;
};

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint8_t
stream_byte(uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13 ^ i);
}

static void
pump(struct sender *s)
{
	uint64_t now = sl_tcp_stack_now(&s->e->st);

	while (s->sent < s->total) {
		uint64_t save = s->rng;
		struct sl_tcp_seg *head = NULL, *tail = NULL;
		unsigned int i, nseg = 1 + (unsigned int)(rnd(&s->rng) % 3);
		uint64_t off = s->sent;
		int r;

		for (i = 0; i < nseg && off < s->total; i++) {
			uint32_t len = 1 + (uint32_t)(rnd(&s->rng) % 3000);
			struct sl_tcp_seg *g;
			uint32_t k;

			if (len > s->total - off)
				len = (uint32_t)(s->total - off);
			g = sl_tcp_seg_alloc(&s->e->st, len);
			for (k = 0; k < len; k++)
				g->data[k] = stream_byte(off + k);
			g->len = len;
			off += len;
			if (tail != NULL)
				tail->next = g;
			else
				head = g;
			tail = g;
		}
		r = sl_tcp_send(s->c, head, now);
		if (r != 0) {
			cr_assert_eq(r, -ENOBUFS);
			sl_tcp_seg_free_chain(&s->e->st, head);
			s->rng = save; /* the same chain next time */
			return;
		}
		s->sent = off;
	}
	if (!s->shut) {
		s->shut = true;
		cr_assert_eq(sl_tcp_shutdown(s->c, now), 0);
	}
}

static int
snd_accepted(void *app, struct sl_tcp_conn *c)
{
	struct sender *s = app;

	s->c = c;
	pump(s);
	return 0;
}

static void
snd_data(void *app, struct sl_tcp_conn *c, struct sl_tcp_seg *chain, uint32_t len)
{
	struct sender *s = app;
	struct sl_tcp_seg *g;

	for (g = chain; g != NULL; g = g->next) {
		uint32_t k;

		for (k = 0; k < g->len; k++) {
			if (g->data[k] != stream_byte(s->rcvd + k)) {
				s->failed = true;
				cr_assert_fail("byte %lu differs", (unsigned long)(s->rcvd + k));
			}
		}
		s->rcvd += g->len;
	}
	sl_tcp_seg_free_chain(&s->e->st, chain);
	sl_tcp_consumed(c, len, sl_tcp_stack_now(&s->e->st));
}

static void
snd_writable(void *app, struct sl_tcp_conn *c)
{
	(void)c;
	pump(app);
}

static void
snd_peer_closed(void *app, struct sl_tcp_conn *c)
{
	struct sender *s = app;

	s->peer_closed = true;
	sl_tcp_close(c, sl_tcp_stack_now(&s->e->st));
	s->c = NULL;
}

static void
snd_reset(void *app, struct sl_tcp_conn *c)
{
	struct sender *s = app;

	(void)c;
	s->failed = true;
}

static void
snd_error(void *app, struct sl_tcp_conn *c, int err)
{
	(void)err;
	snd_reset(app, c);
}

static const struct sl_tcp_app_ops sender_ops = {
	.accepted = snd_accepted,
	.data = snd_data,
	.writable = snd_writable,
	.peer_closed = snd_peer_closed,
	.reset = snd_reset,
	.error = snd_error,
};

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Translate the options of the segment at <h> (header length <hlen>): SACK block edges by
 * <dack>, TSval by <dval>, TSecr by <decr>. */
static void
opts_shift(uint8_t *h, unsigned int hlen, uint32_t dack, uint32_t dval, uint32_t decr)
{
	unsigned int i = 20, k;

	while (i < hlen) {
		if (h[i] == 0)
			break;
		if (h[i] == 1) {
			i++;
			continue;
		}
		if (h[i] == 5)
			for (k = i + 2; k + 4 <= i + h[i + 1]; k += 4)
				put32(h + k, get32(h + k) + dack);
		if (h[i] == 8) {
			put32(h + i + 2, get32(h + i + 2) + dval);
			put32(h + i + 6, get32(h + i + 6) + decr);
		}
		i += h[i + 1];
	}
}

/* Carry one captured segment of <from> to <to>, shifting seq by <dseq> and ack by <dack>;
 * lose it, or delay it into <*late>, at the wire's rates. */
static void
carry(struct wire *w, struct t_cap *cap, struct tenv *to, uint32_t dseq, uint32_t dack,
      struct t_cap **late)
{
	uint32_t from_ts = to == w->b ? w->ts_a : w->ts_b, to_ts = to == w->b ? w->ts_b : w->ts_a;
	struct t_out o;
	struct sl_tcp_seg *seg;
	uint16_t sum;

	cr_assert(t_parse(cap, &o));
	cr_assert(o.csum_ok, "bad checksum on the wire");
	if (w->loss_pm != 0 && rnd(&w->rng) % 1000 < w->loss_pm) {
		w->dropped++;
		free(cap);
		return;
	}
	if (late != NULL && w->reorder_pm != 0 && rnd(&w->rng) % 1000 < w->reorder_pm) {
		cap->next = *late;
		*late = cap;
		w->reordered++;
		return;
	}
	seg = sl_tcp_seg_alloc(&to->st, cap->len);
	memcpy(seg->data, cap->bytes, cap->len);
	seg->len = cap->len;
	put32(seg->data + 4, o.seq + dseq);
	put32(seg->data + 8, o.ack + dack);
	opts_shift(seg->data, o.hlen, dack, 0 - from_ts, to_ts);
	seg->data[16] = seg->data[17] = 0;
	sum = ref_tcp_csum(to->t.raddr, to->t.laddr, seg->data, cap->len);
	seg->data[16] = (uint8_t)(sum >> 8);
	seg->data[17] = (uint8_t)sum;
	sl_tcp_input(&to->st, t_lookup(to, &to->t), &to->t, seg, 0, to->now);
	w->carried++;
	free(cap);
}

/* Carry what both sides sent, then what was delayed in the round before; false when
 * nothing was on the wire. */
static bool
wire_round(struct wire *w)
{
	struct t_cap *cap, *fa, *fb, *la = w->late_a, *lb = w->late_b;
	bool any = la != NULL || lb != NULL;

	/* take both queues first: what the deliveries send goes in the next round */
	fa = w->a->cap_head;
	fb = w->b->cap_head;
	w->a->cap_head = w->a->cap_tail = NULL;
	w->b->cap_head = w->b->cap_tail = NULL;
	w->a->n_cap = w->b->n_cap = 0;
	w->late_a = w->late_b = NULL;
	while ((cap = fa) != NULL) {
		fa = cap->next;
		carry(w, cap, w->b, w->xb - w->iss_a, w->iss_b - w->xa, &w->late_b);
		any = true;
	}
	while ((cap = fb) != NULL) {
		fb = cap->next;
		carry(w, cap, w->a, w->xa - w->iss_b, w->iss_a - w->xb, &w->late_a);
		any = true;
	}
	while ((cap = lb) != NULL) {
		lb = cap->next;
		carry(w, cap, w->b, w->xb - w->iss_a, w->iss_b - w->xa, NULL);
	}
	while ((cap = la) != NULL) {
		la = cap->next;
		carry(w, cap, w->a, w->xa - w->iss_b, w->iss_a - w->xb, NULL);
	}
	return any;
}

static void
tick(struct wire *w, uint64_t us)
{
	w->a->now += us;
	w->b->now += us;
	sl_tcp_timer(&w->a->st, w->a->now);
	sl_tcp_timer(&w->b->st, w->b->now);
}

static uint32_t
open_side(struct tenv *e, uint32_t isn, bool sack_ts, uint32_t *ts)
{
	struct t_seg_spec syn = {
		.flags = TF_SYN, .seq = isn, .wnd = 65535, .opts = t_opts_mss1460_ws7, .optlen = 8};

	if (sack_ts) {
		syn.opts = t_opts_linux;
		syn.optlen = sizeof(t_opts_linux);
	}
	struct t_cap *cap;
	struct t_out o;
	uint32_t iss;

	t_inject(e, &syn);
	cap = t_pop(e);
	cr_assert_not_null(cap);
	cr_assert(t_parse(cap, &o));
	cr_assert_eq(o.flags, TF_SYN | TF_ACK);
	cr_assert_eq(o.ts, sack_ts);
	cr_assert_eq(o.sack_ok, sack_ts);
	*ts = o.tsval - 1000; /* what the other side was told: 1000 (t_opts_linux) */
	iss = o.seq;
	free(cap);
	return iss;
}

static void
finish_side(struct tenv *e, uint32_t isn, uint32_t iss, bool sack_ts)
{
	struct t_seg_spec ack = {.flags = TF_ACK, .seq = isn + 1, .ack = iss + 1, .wnd = 65535};
	uint8_t ts[12];

	if (sack_ts) {
		/* TSval 1000 as on the SYN (the wire translates the clocks); TSecr 0: no
		 * sample */
		t_opt_ts(ts, 1000, 0);
		ack.opts = ts;
		ack.optlen = sizeof(ts);
	}
	t_inject(e, &ack);
}

struct xfer {
	uint64_t total;
	unsigned int loss_pm, reorder_pm;
	uint32_t xa, xb;
	bool sack_ts;	  /* the SYNs offer SACK and timestamps */
	bool fast_only;	  /* recovery must be mostly fast: no more timeouts than fast ones */
	uint32_t rcv_buf; /* 0: the default */
};

static uint64_t
both(struct wire *w, const char *name)
{
	return t_stat(w->a, name) + t_stat(w->b, name);
}

static void
transfer(const struct xfer *x)
{
	struct wire w = {.xa = x->xa,
			 .xb = x->xb,
			 .rng = 0x9e3779b97f4a7c15ull,
			 .loss_pm = x->loss_pm,
			 .reorder_pm = x->reorder_pm};
	struct sender s = {.total = x->total, .rng = 12345};
	struct sl_tcp_params p = t_params();
	unsigned long rounds = 0;
	uint64_t t0;

	if (x->rcv_buf != 0)
		p.rcv_buf = x->rcv_buf;
	w.a = t_new(&p);
	w.b = t_new(&p);
	w.a->st.listeners[0].ops = &sl_tcp_echo_ops;
	w.a->st.listeners[0].app = &w.a->st;
	w.b->st.listeners[0].addr = T_IP4(10, 0, 0, 2);
	w.b->st.listeners[0].port = T_CLI_PORT;
	w.b->st.listeners[0].ops = &sender_ops;
	w.b->st.listeners[0].app = &s;
	w.b->t.laddr = T_IP4(10, 0, 0, 2);
	w.b->t.raddr = T_IP4(10, 0, 0, 1);
	w.b->t.lport = T_CLI_PORT;
	w.b->t.rport = T_SRV_PORT;
	s.e = w.b;
	w.iss_a = open_side(w.a, w.xa, x->sack_ts, &w.ts_a);
	w.iss_b = open_side(w.b, w.xb, x->sack_ts, &w.ts_b);
	finish_side(w.a, w.xa, w.iss_a, x->sack_ts);
	finish_side(w.b, w.xb, w.iss_b, x->sack_ts);
	cr_assert_eq(t_state(w.a), SL_TCP_ESTABLISHED);
	cr_assert_not_null(s.c);
	cr_assert_eq((t_lookup(w.a, &w.a->t)->flags & 0x180) != 0, x->sack_ts,
		     "SACK and timestamps agreed as offered");
	t0 = w.a->now;
	while (rounds++ < 50000000ul) {
		if (wire_round(&w))
			tick(&w, 10);
		else if (t_state(w.a) == T_GONE && t_state(w.b) == T_GONE)
			break;
		else
			tick(&w, 1000);
		cr_assert_not(s.failed, "the sender's connection failed");
	}
	cr_assert_eq(s.rcvd, x->total, "echoed %lu of %lu bytes", (unsigned long)s.rcvd,
		     (unsigned long)x->total);
	cr_assert(s.peer_closed);
	cr_assert_eq(t_stat(w.a, "bytes_in"), x->total);
	cr_assert_eq(t_stat(w.b, "bytes_in"), x->total);
	cr_assert_eq(t_stat(w.a, "conn_closed"), 1);
	cr_assert_eq(t_stat(w.b, "conn_closed"), 1);
	cr_log_info(
		"%lu bytes in %.3f s, %lu segments carried, %lu lost, %lu reordered, %lu rounds; "
		"retransmits %lu: fast %lu, sack %lu, timeouts %lu; dupacks %lu; out of order "
		"%lu queued, %lu dropped (full), %lu not queued",
		(unsigned long)x->total, (double)(w.a->now - t0) / 1e6, w.carried, w.dropped,
		w.reordered, rounds, (unsigned long)both(&w, "retransmits"),
		(unsigned long)both(&w, "fast_retransmits"),
		(unsigned long)both(&w, "sack_retransmits"),
		(unsigned long)both(&w, "rto_timeouts"), (unsigned long)both(&w, "dup_acks_in"),
		(unsigned long)both(&w, "ooo_segs"), (unsigned long)both(&w, "ooo_dropped"),
		(unsigned long)both(&w, "drop_out_of_order"));
	if (x->loss_pm == 0 && x->reorder_pm == 0) {
		cr_assert_eq(both(&w, "retransmits"), 0);
		cr_assert_eq(both(&w, "dup_acks_in"), 0);
		cr_assert_eq(t_stat(w.a, "bytes_out"), x->total);
	}
	if (x->loss_pm != 0) {
		cr_assert_gt(w.dropped, 0);
		cr_assert_gt(both(&w, "retransmits"), 0);
		cr_assert_gt(both(&w, "fast_retransmits"), 0, "fast retransmit did some recovery");
		cr_assert_gt(both(&w, "ooo_segs"), 0);
		if (x->sack_ts)
			cr_assert_gt(both(&w, "sack_retransmits"), 0, "SACK did some recovery");
		if (x->fast_only)
			cr_assert_leq(both(&w, "rto_timeouts"),
				      both(&w, "fast_retransmits") + both(&w, "sack_retransmits"),
				      "more timeouts than fast and SACK retransmissions");
	}
	while (w.late_a != NULL || w.late_b != NULL)
		wire_round(&w);
	t_fini(w.a);
	t_fini(w.b);
}

Test(tcp_transfer, ten_megabytes_through_echo)
{
	const struct xfer x = {.total = 10u << 20, .xa = 0x12345678u, .xb = 0xfff00000u};

	transfer(&x);
}

Test(tcp_transfer, ten_megabytes_with_sack_and_timestamps)
{
	const struct xfer x = {
		.total = 10u << 20, .xa = 0x12345678u, .xb = 0xfff00000u, .sack_ts = true};

	transfer(&x);
}

Test(tcp_transfer, one_megabyte_with_loss)
{
	const struct xfer x = {
		.total = 1u << 20, .loss_pm = 30, .xa = 0xffffff00u, .xb = 77, .fast_only = true};

	transfer(&x);
}

Test(tcp_transfer, loss_1pct_newreno)
{
	const struct xfer x = {
		.total = 2u << 20, .loss_pm = 10, .xa = 1, .xb = 0x80000000u, .fast_only = true};

	transfer(&x);
}

Test(tcp_transfer, loss_5pct_newreno_reordered)
{
	const struct xfer x = {.total = 1u << 20,
			       .loss_pm = 50,
			       .reorder_pm = 20,
			       .xa = 0xfffff000u,
			       .xb = 5,
			       .fast_only = true};

	transfer(&x);
}

Test(tcp_transfer, loss_1pct_sack)
{
	const struct xfer x = {.total = 2u << 20,
			       .loss_pm = 10,
			       .xa = 1,
			       .xb = 0x80000000u,
			       .sack_ts = true,
			       .fast_only = true};

	transfer(&x);
}

Test(tcp_transfer, loss_3pct_sack_reordered)
{
	const struct xfer x = {.total = 2u << 20,
			       .loss_pm = 30,
			       .reorder_pm = 20,
			       .xa = 0xffffff00u,
			       .xb = 77,
			       .sack_ts = true,
			       .fast_only = true};

	transfer(&x);
}

Test(tcp_transfer, loss_5pct_sack_reordered)
{
	const struct xfer x = {.total = 1u << 20,
			       .loss_pm = 50,
			       .reorder_pm = 20,
			       .xa = 0x7ffffff0u,
			       .xb = 0xfffffff0u,
			       .sack_ts = true,
			       .fast_only = true};

	transfer(&x);
}

Test(tcp_transfer, reordering_only_sack)
{
	const struct xfer x = {
		.total = 2u << 20, .reorder_pm = 30, .xa = 3, .xb = 0xfffffff0u, .sack_ts = true};

	transfer(&x);
}
