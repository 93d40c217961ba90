/**
 * @file
 * Bulk transfer through two stacks wired back to back in memory: A runs the echo
 * application, B a sender that writes a known byte stream in random-ish chains and checks
 * what comes back. Both stacks only open passively (active open comes with a later issue),
 * so the wire opens both: it sends each a SYN in the other's name and completes both
 * handshakes, then carries segments across, translating sequence numbers between the ISNs
 * each side chose and the ones the other was told (a sequence-translating middlebox), with
 * checksums recomputed by the tests' own code. Optionally it drops segments at random.
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
	uint64_t rng;
	unsigned int loss_pct;
	unsigned long carried, dropped;
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

/* Carry one captured segment of <from> to <to>, shifting seq by <dseq> and ack by <dack>. */
static void
carry(struct wire *w, struct t_cap *cap, struct tenv *to, uint32_t dseq, uint32_t dack)
{
	struct t_out o;
	struct sl_tcp_seg *seg;
	uint16_t sum;

	cr_assert(t_parse(cap, &o));
	cr_assert(o.csum_ok, "bad checksum on the wire");
	if (w->loss_pct != 0 && rnd(&w->rng) % 100 < w->loss_pct) {
		w->dropped++;
		free(cap);
		return;
	}
	seg = sl_tcp_seg_alloc(&to->st, cap->len);
	memcpy(seg->data, cap->bytes, cap->len);
	seg->len = cap->len;
	put32(seg->data + 4, o.seq + dseq);
	put32(seg->data + 8, o.ack + dack);
	seg->data[16] = seg->data[17] = 0;
	sum = ref_tcp_csum(to->t.raddr, to->t.laddr, seg->data, cap->len);
	seg->data[16] = (uint8_t)(sum >> 8);
	seg->data[17] = (uint8_t)sum;
	sl_tcp_input(&to->st, t_lookup(to, &to->t), &to->t, seg, 0, to->now);
	w->carried++;
	free(cap);
}

/* Carry what both sides sent; false when nothing was on the wire. */
static bool
wire_round(struct wire *w)
{
	struct t_cap *cap, *fa, *fb;
	bool any = false;

	/* take both queues first: what the deliveries send goes in the next round */
	fa = w->a->cap_head;
	fb = w->b->cap_head;
	w->a->cap_head = w->a->cap_tail = NULL;
	w->b->cap_head = w->b->cap_tail = NULL;
	w->a->n_cap = w->b->n_cap = 0;
	while ((cap = fa) != NULL) {
		fa = cap->next;
		carry(w, cap, w->b, w->xb - w->iss_a, w->iss_b - w->xa);
		any = true;
	}
	while ((cap = fb) != NULL) {
		fb = cap->next;
		carry(w, cap, w->a, w->xa - w->iss_b, w->iss_a - w->xb);
		any = true;
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
open_side(struct tenv *e, uint32_t isn)
{
	struct t_seg_spec syn = {
		.flags = TF_SYN, .seq = isn, .wnd = 65535, .opts = t_opts_mss1460_ws7, .optlen = 8};
	struct t_cap *cap;
	struct t_out o;
	uint32_t iss;

	t_inject(e, &syn);
	cap = t_pop(e);
	cr_assert_not_null(cap);
	cr_assert(t_parse(cap, &o));
	cr_assert_eq(o.flags, TF_SYN | TF_ACK);
	iss = o.seq;
	free(cap);
	return iss;
}

static void
finish_side(struct tenv *e, uint32_t isn, uint32_t iss)
{
	struct t_seg_spec ack = {.flags = TF_ACK, .seq = isn + 1, .ack = iss + 1, .wnd = 65535};

	t_inject(e, &ack);
}

static void
transfer(uint64_t total, unsigned int loss_pct, uint32_t xa, uint32_t xb)
{
	struct wire w = {.xa = xa, .xb = xb, .rng = 0x9e3779b97f4a7c15ull, .loss_pct = loss_pct};
	struct sender s = {.total = total, .rng = 12345};
	unsigned long rounds = 0;

	w.a = t_new(NULL);
	w.b = t_new(NULL);
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
	w.iss_a = open_side(w.a, w.xa);
	w.iss_b = open_side(w.b, w.xb);
	finish_side(w.a, w.xa, w.iss_a);
	finish_side(w.b, w.xb, w.iss_b);
	cr_assert_eq(t_state(w.a), SL_TCP_ESTABLISHED);
	cr_assert_not_null(s.c);
	while (rounds++ < 50000000ul) {
		if (wire_round(&w))
			tick(&w, 10);
		else if (t_state(w.a) == T_GONE && t_state(w.b) == T_GONE)
			break;
		else
			tick(&w, 1000);
		cr_assert_not(s.failed, "the sender's connection failed");
	}
	cr_assert_eq(s.rcvd, total, "echoed %lu of %lu bytes", (unsigned long)s.rcvd,
		     (unsigned long)total);
	cr_assert(s.peer_closed);
	cr_assert_eq(t_stat(w.a, "bytes_in"), total);
	cr_assert_eq(t_stat(w.b, "bytes_in"), total);
	cr_assert_eq(t_stat(w.a, "conn_closed"), 1);
	cr_assert_eq(t_stat(w.b, "conn_closed"), 1);
	if (loss_pct == 0) {
		cr_assert_eq(t_stat(w.a, "retransmits") + t_stat(w.b, "retransmits"), 0);
		cr_assert_eq(t_stat(w.a, "bytes_out"), total);
	} else {
		cr_assert_gt(w.dropped, 0);
		cr_assert_gt(t_stat(w.a, "retransmits") + t_stat(w.b, "retransmits"), 0);
	}
	cr_log_info("%lu bytes, %lu segments carried, %lu dropped, %lu rounds",
		    (unsigned long)total, w.carried, w.dropped, rounds);
	t_fini(w.a);
	t_fini(w.b);
}

Test(tcp_transfer, ten_megabytes_through_echo)
{
	transfer(10u << 20, 0, 0x12345678u, 0xfff00000u);
}

Test(tcp_transfer, one_megabyte_with_loss)
{
	transfer(1u << 20, 3, 0xffffff00u, 77);
}
