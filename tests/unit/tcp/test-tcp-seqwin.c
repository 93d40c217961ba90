/**
 * @file
 * Sequence numbers across 2^32 on both sides, window scaling (RFC 7323), the window we
 * advertise (never shrinking, RFC 9293 3.8.6.2.2), MSS negotiation, the peer's zero window.
 */
#include <criterion/criterion.h>

#include "tcp-test.h"

static const uint8_t opts_ws_only[4] = {1, 3, 3, 7};
static const uint8_t opts_mss536_ws7[8] = {2, 4, 0x02, 0x18, 1, 3, 3, 7};
static const uint8_t opts_mss9000_ws7[8] = {2, 4, 0x23, 0x28, 1, 3, 3, 7};
static const uint8_t opts_mss10_ws7[8] = {2, 4, 0, 10, 1, 3, 3, 7};
static const uint8_t opts_mss1460_ws15[8] = {2, 4, 0x05, 0xb4, 1, 3, 3, 15};
static const uint8_t opts_mss1460_ws14[8] = {2, 4, 0x05, 0xb4, 1, 3, 3, 14};

/* Send <len> bytes of 'a' from the app on e->t's connection. */
static void
app_send(struct tenv *e, uint32_t len)
{
	struct sl_tcp_seg *s = sl_tcp_seg_alloc(&e->st, len);

	memset(s->data, 'a', len);
	s->len = len;
	cr_assert_eq(sl_tcp_send(t_lookup(e, &e->t), s, e->now), 0);
}

/* Pop segments until none is left; return how many, checking each against <mss>, and the
 * bytes in total. */
static unsigned int
pop_data(struct tenv *e, uint32_t mss, uint32_t *bytes, uint32_t first_seq_rel)
{
	unsigned int n = 0;
	uint32_t seq = e->srv_iss + first_seq_rel;

	*bytes = 0;
	while (e->n_cap != 0) {
		struct t_out o = t_pop_out(e);

		cr_assert_leq(o.len, mss, "segment of %u bytes over MSS %u", o.len, mss);
		cr_assert_eq(o.seq, seq, "segment %u at seq %u, expected %u", n, o.seq, seq);
		seq += o.len;
		*bytes += o.len;
		n++;
	}
	return n;
}

static void
client_ack(struct tenv *e, uint32_t ack_rel, uint16_t wnd)
{
	struct t_seg_spec a = {
		.flags = TF_ACK, .seq = e->cli_isn + 1, .ack = e->srv_iss + ack_rel, .wnd = wnd};

	t_inject(e, &a);
}

Test(tcp_seqwin, client_isn_wraps)
{
	struct tenv *e = t_new(NULL);
	/* clang-format off */
	static const struct t_step v[] = {
		{"200 bytes up to 2^32 - 55, consumed: the window opens past the SYN-ACK's 65535: "
		 "window update",
		 T_IN, {.flags = TF_ACK, .seq = 1, .ack = 1, .len = 200},
		 0, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 201, .wnd = 2048}}},
		{"200 bytes across 2^32",
		 T_IN, {.flags = TF_ACK, .seq = 201, .ack = 1, .len = 200},
		 0, SL_TCP_ESTABLISHED, 0,
		 {{0}}},
		{"delayed ACK: ack wraps", T_ADVANCE, {0}, 40000, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 401, .wnd = 2048}}},
		{"old data from before the wrap: ACK",
		 T_IN, {.flags = TF_ACK, .seq = 101, .ack = 1, .len = 100},
		 0, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 401}}},
		{"FIN after the wrap",
		 T_IN, {.flags = TF_ACK | TF_FIN, .seq = 401, .ack = 1}, 0, SL_TCP_CLOSE_WAIT, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 402}}},
	};
	/* clang-format on */

	t_handshake(e, 0xffffff00u, t_opts_mss1460_ws7, 8);
	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(e->app.rx_len, 400);
	cr_assert_eq(t_lookup(e, &e->t)->rcv_nxt.v, 0xffffff00u + 402);
	t_fini(e);
}

/*
 * Make our next ISS for e->t equal <want>: RFC 6528's ISN = F(tuple, key) + now/4, so one
 * probe connection tells F and the clock is moved to where F + now/4 = want.
 */
static void
steer_iss(struct tenv *e, uint32_t want)
{
	uint32_t f;
	uint64_t now;

	t_handshake(e, 1, t_opts_mss1460_ws7, 8);
	f = e->srv_iss - (uint32_t)(e->now >> 2);
	sl_tcp_abort(t_lookup(e, &e->t), e->now);
	t_drain(e);
	now = (uint64_t)(uint32_t)(want - f) << 2;
	while (now <= e->now)
		now += 1ull << 34;
	e->now = now;
	sl_tcp_timer(&e->st, e->now);
	e->iss_known = false;
}

Test(tcp_seqwin, both_isns_wrap_with_data_both_ways)
{
	struct tenv *e = t_new(NULL);
	uint8_t data[3000];
	struct sl_tcp_seg *s;
	struct sl_tcp_conn *c;
	uint32_t i, off = 0;

	steer_iss(e, 0xfffffc00u);
	c = t_handshake(e, 0xfffffff0u, t_opts_mss1460_ws7, 8);
	cr_assert_eq(e->srv_iss, 0xfffffc00u, "RFC 6528 ISN: F + now/4");
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	s = sl_tcp_seg_alloc(&e->st, sizeof(data));
	memcpy(s->data, data, sizeof(data));
	s->len = sizeof(data);
	cr_assert_eq(sl_tcp_send(c, s, e->now), 0);
	/* 1460 + 1460 + 80 from 2^32 - 1023: the second segment crosses the wrap */
	for (i = 0; i < 3; i++) {
		struct t_out o = t_pop_out(e);

		cr_assert_eq(o.seq, 0xfffffc01u + off);
		cr_assert_eq(o.len, i < 2 ? 1460u : 80u);
		cr_assert_eq(memcmp(o.payload, data + off, o.len), 0);
		cr_assert_eq(o.ack, 0xfffffff1u);
		off += o.len;
	}
	cr_assert_eq(e->n_cap, 0);
	client_ack(e, 1461, 65535);
	cr_assert_eq(c->snd_una.v, 0xfffffc00u + 1461);
	cr_assert_eq(c->sndq_len, 3000 - 1460);
	client_ack(e, 3001, 65535);
	cr_assert_eq(c->snd_una.v, 0xfffffc00u + 3001);
	cr_assert_eq(c->sndq_len, 0);
	cr_assert_eq(e->segs_live, 0, "acknowledged data is freed");
	/* data from the client across its own wrap */
	{
		struct t_seg_spec d = {.flags = TF_ACK,
				       .seq = 0xfffffff1u,
				       .ack = 0xfffffc00u + 3001,
				       .wnd = 65535,
				       .len = 100};

		t_inject(e, &d);
		d.seq += 100;
		t_inject(e, &d);
		cr_assert_eq(e->app.rx_len, 200);
		cr_assert_eq(c->rcv_nxt.v, 0xfffffff1u + 200);
	}
	t_advance(e, 41000); /* the clock is off the tick grid here: up to a tick late */
	{
		struct t_out o = t_pop_out(e);

		cr_assert_eq(o.ack, 0xfffffff1u + 200);
		cr_assert_eq(o.seq, 0xfffffc00u + 3001);
	}
	t_fini(e);
}

Test(tcp_seqwin, scaling_when_both_send_ws)
{
	struct tenv *e = t_new(NULL);
	uint32_t bytes;
	unsigned int n;

	t_handshake(e, 100, t_opts_mss1460_ws7, 8);
	/* peer window 100 << 7 = 12800 bytes */
	client_ack(e, 1, 100);
	app_send(e, 20000);
	n = pop_data(e, 1460, &bytes, 1);
	cr_assert_eq(bytes, 12800);
	cr_assert_eq(n, 9);
	/* acknowledged with a window of 2000 << 7: the rest goes */
	client_ack(e, 12801, 2000);
	n = pop_data(e, 1460, &bytes, 12801);
	cr_assert_eq(bytes, 7200);
	t_fini(e);
}

Test(tcp_seqwin, no_scaling_without_peer_ws)
{
	struct tenv *e = t_new(NULL);
	struct t_seg_spec syn = {
		.flags = TF_SYN, .seq = 100, .wnd = 3000, .opts = t_opts_mss1460, .optlen = 4};
	struct t_seg_spec ack = {.flags = TF_ACK, .seq = 101, .wnd = 3000};
	struct t_seg_spec d = {.flags = TF_ACK, .seq = 101, .wnd = 3000, .len = 10};
	struct t_out o;
	uint32_t bytes;

	e->cli_isn = 100;
	t_inject(e, &syn);
	o = t_pop_out(e);
	cr_assert_eq(o.ws, -1, "no WS option in the SYN-ACK when the SYN had none (RFC 7323 2.2)");
	cr_assert_eq(o.mss, 1460);
	cr_assert_eq(o.wnd, 65535);
	e->srv_iss = o.seq;
	ack.ack = d.ack = o.seq + 1;
	t_inject(e, &ack);
	app_send(e, 5000);
	pop_data(e, 1460, &bytes, 1);
	cr_assert_eq(bytes, 3000, "the peer's window is not scaled");
	t_inject(e, &d);
	t_advance(e, 40000);
	o = t_pop_out(e);
	cr_assert_eq(o.wnd, 65535, "our window unscaled, capped at 65535");
	t_fini(e);
}

Test(tcp_seqwin, peer_shift_over_14_is_14)
{
	struct tenv *e = t_new(NULL);
	uint32_t bytes;

	t_handshake(e, 100, opts_mss1460_ws15, 8);
	cr_assert_eq(t_lookup(e, &e->t)->snd_wscale, 14);
	t_lookup(e, &e->t)->cwnd = 1u << 30; /* the peer's window alone limits */
	client_ack(e, 1, 1);		     /* 1 << 14 = 16384 bytes */
	app_send(e, 20000);
	pop_data(e, 1460, &bytes, 1);
	cr_assert_eq(bytes, 16384);
	t_fini(e);
}

Test(tcp_seqwin, large_windows)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct t_seg_spec d = {.flags = TF_ACK, .len = 100, .wnd = 65535};
	uint32_t bytes;
	unsigned int n;
	struct t_out o;

	p.rcv_buf = 1u << 30;
	p.wscale = 14;
	e = t_new(&p);
	t_handshake(e, 100, opts_mss1460_ws14, 8);
	client_ack(e, 1, 65535); /* 65535 << 14: about 1 GiB */
	cr_assert_eq(t_lookup(e, &e->t)->snd_wnd, 65535u << 14);
	t_lookup(e, &e->t)->cwnd = 1u << 30; /* the peer's window alone limits */
	app_send(e, 250000);
	n = pop_data(e, 1460, &bytes, 1);
	cr_assert_eq(bytes, 250000);
	cr_assert_eq(n, (250000 + 1459) / 1460);
	d.seq = e->cli_isn + 1;
	d.ack = e->srv_iss + 250001;
	t_inject(e, &d);
	t_advance(e, 40000);
	o = t_pop_out(e);
	cr_assert_eq(o.wnd, 65535, "2^30 >> 14 = 65536, capped at 65535");
	t_fini(e);
}

Test(tcp_seqwin, advertised_window_scaled_and_never_shrinking)
{
	struct tenv *e = t_new(NULL);
	struct t_seg_spec d = {.flags = TF_ACK, .wnd = 65535, .len = 100};
	struct t_out o;

	t_handshake(e, 100, t_opts_mss1460_ws7, 8);
	e->app.hold = true;
	d.seq = 101;
	d.ack = e->srv_iss + 1;
	t_inject(e, &d);
	t_advance(e, 40000);
	o = t_pop_out(e);
	/* (262144 - 100) >> 7 = 2047 */
	cr_assert_eq(o.wnd, 2047);
	d.seq += 100;
	t_inject(e, &d);
	t_advance(e, 40000);
	o = t_pop_out(e);
	/* (262144 - 200) >> 7 = 2046 would move the right edge left: 2047 */
	cr_assert_eq(o.wnd, 2047);
	cr_assert_eq(t_lookup(e, &e->t)->rcv_adv.v, 101u + 200 + 2047 * 128);
	t_fini(e);
}

Test(tcp_seqwin, window_update_after_consumed)
{
	struct tenv *e = t_new(NULL);
	struct t_seg_spec d = {.flags = TF_ACK, .wnd = 65535, .len = 1460};
	struct sl_tcp_conn *c;
	struct t_out o;

	c = t_handshake(e, 100, t_opts_mss1460_ws7, 8);
	e->app.hold = true;
	d.seq = 101;
	d.ack = e->srv_iss + 1;
	t_inject(e, &d);
	cr_assert_eq(e->n_cap, 0);
	d.seq += 1460;
	t_inject(e, &d);
	o = t_pop_out(e);
	cr_assert_eq(o.ack, 101u + 2920, "second full-sized segment: ACK at once");
	cr_assert_eq(o.wnd, (262144 - 2920) >> 7);
	/* 1000 bytes back: the window opens by less than 2 MSS, no update */
	sl_tcp_consumed(c, 1000, e->now);
	cr_assert_eq(e->n_cap, 0);
	sl_tcp_consumed(c, 1920, e->now);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_ACK);
	cr_assert_eq(o.wnd, 2048, "window update once it opened by 2 MSS");
	t_fini(e);
}

Test(tcp_seqwin, our_zero_window)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct t_seg_spec syn = {
		.flags = TF_SYN, .seq = 100, .wnd = 65535, .opts = t_opts_mss1460, .optlen = 4};
	struct t_seg_spec d = {.flags = TF_ACK, .seq = 101, .wnd = 65535, .len = 1000};
	struct sl_tcp_conn *c;
	struct t_out o;

	p.rcv_buf = 4096;
	e = t_new(&p);
	e->cli_isn = 100;
	t_inject(e, &syn);
	o = t_pop_out(e);
	cr_assert_eq(o.wnd, 4096);
	e->srv_iss = o.seq;
	d.ack = o.seq + 1;
	e->app.hold = true;
	t_inject(e, &d);
	c = t_lookup(e, &e->t);
	t_advance(e, 40000);
	o = t_pop_out(e);
	cr_assert_eq(o.wnd, 3096);
	d.seq += 1000;
	d.len = 3096;
	t_inject(e, &d);
	o = t_pop_out(e);
	cr_assert_eq(o.ack, 101u + 4096);
	cr_assert_eq(o.wnd, 0, "zero window");
	/* one more byte: unacceptable in a zero window, ACKed with the zero window */
	d.seq += 3096;
	d.len = 1;
	t_inject(e, &d);
	o = t_pop_out(e);
	cr_assert_eq(o.ack, 101u + 4096);
	cr_assert_eq(o.wnd, 0);
	cr_assert_eq(t_stat(e, "drop_out_of_window"), 1);
	/* a pure ACK at RCV.NXT is still acceptable */
	d.len = 0;
	t_inject(e, &d);
	cr_assert_eq(e->n_cap, 0);

	sl_tcp_seg_free_chain(&e->st, e->app.held);
	e->app.held = e->app.held_tail = NULL;
	sl_tcp_consumed(c, 4096, e->now);
	o = t_pop_out(e);
	cr_assert_eq(o.wnd, 4096, "window update");
	t_fini(e);
}

Test(tcp_seqwin, bare_fin_in_our_zero_window)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct t_seg_spec syn = {
		.flags = TF_SYN, .seq = 100, .wnd = 65535, .opts = t_opts_mss1460, .optlen = 4};
	struct t_seg_spec d = {.flags = TF_ACK, .seq = 101, .wnd = 65535, .len = 4096};
	struct t_out o;

	p.rcv_buf = 4096;
	e = t_new(&p);
	e->cli_isn = 100;
	t_inject(e, &syn);
	o = t_pop_out(e);
	d.ack = o.seq + 1;
	e->app.hold = true;
	t_inject(e, &d);
	t_advance(e, 40000);
	o = t_pop_out(e);
	cr_assert_eq(o.wnd, 0);
	/* data+FIN: both dropped; a bare FIN: taken, it needs no buffer */
	d.seq += 4096;
	d.len = 10;
	d.flags = TF_ACK | TF_FIN;
	t_inject(e, &d);
	o = t_pop_out(e);
	cr_assert_eq(o.ack, 101u + 4096);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	d.len = 0;
	t_inject(e, &d);
	o = t_pop_out(e);
	cr_assert_eq(o.ack, 101u + 4096 + 1);
	cr_assert_eq(t_state(e), SL_TCP_CLOSE_WAIT);
	cr_assert_eq(e->app.peer_closed, 1);
	t_fini(e);
}

Test(tcp_seqwin, mss_negotiation)
{
	static const struct {
		const uint8_t *opts;
		unsigned int optlen;
		uint32_t mss;
	} cases[] = {
		{opts_mss536_ws7, 8, 536},
		{opts_ws_only, 4, 536},	     /* no MSS option: RFC 9293 3.7.1 default */
		{opts_mss9000_ws7, 8, 1460}, /* never above ours */
		{opts_mss10_ws7, 8, 48},     /* absurd: floored */
	};
	size_t i;

	for (i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		struct tenv *e = t_new(NULL);
		uint32_t bytes;
		unsigned int n;

		t_handshake(e, 100, cases[i].opts, cases[i].optlen);
		cr_assert_eq(t_lookup(e, &e->t)->mss, cases[i].mss);
		/* RFC 6928: 10 segments, at least 14600 bytes, at most 10 MSS */
		cr_assert_eq(t_lookup(e, &e->t)->cwnd,
			     cases[i].mss * 10 < 14600 ? cases[i].mss * 10 : 14600);
		t_lookup(e, &e->t)->cwnd = 1u << 30; /* the MSS alone shapes the segments */
		client_ack(e, 1, 65535);
		app_send(e, 5000);
		n = pop_data(e, cases[i].mss, &bytes, 1);
		cr_assert_eq(bytes, 5000);
		cr_assert_eq(n, (5000 + cases[i].mss - 1) / cases[i].mss);
		t_fini(e);
	}
}

Test(tcp_seqwin, peer_zero_window_probe)
{
	struct tenv *e = t_new(NULL);
	struct t_out o;
	uint32_t bytes;

	t_handshake(e, 100, t_opts_mss1460_ws7, 8);
	client_ack(e, 1, 0);
	app_send(e, 100);
	cr_assert_eq(e->n_cap, 0, "nothing into a zero window");
	/* RTO after the handshake's sample: 200 ms; RFC 9293 3.8.6.1: the probe is the next
	 * byte */
	t_advance(e, 199000);
	cr_assert_eq(e->n_cap, 0);
	t_advance(e, 1000);
	o = t_pop_out(e);
	cr_assert_eq(o.seq, e->srv_iss + 1);
	cr_assert_eq(o.len, 1);
	cr_assert_eq(o.flags, TF_ACK);
	cr_assert_eq(t_stat(e, "zwp_out"), 1);
	client_ack(e, 1, 0);
	cr_assert_eq(e->n_cap, 0);
	/* backed off: 400 ms; the same byte again */
	t_advance(e, 399000);
	cr_assert_eq(e->n_cap, 0);
	t_advance(e, 1000);
	o = t_pop_out(e);
	cr_assert_eq(o.seq, e->srv_iss + 1);
	cr_assert_eq(o.len, 1);
	cr_assert_eq(t_stat(e, "zwp_out"), 2);
	cr_assert_eq(t_stat(e, "dup_acks_in"), 0, "answers to probes are no duplicate ACKs");
	/* the window opens: the data goes, from the probed byte on */
	client_ack(e, 1, 10);
	pop_data(e, 1460, &bytes, 1);
	cr_assert_eq(bytes, 100);
	/* probes answered by a live peer never kill the connection */
	cr_assert_eq(t_lookup(e, &e->t)->retries, 0);
	cr_assert_eq(t_lookup(e, &e->t)->rto_us, 200000, "the backed off RTO is dropped");
	client_ack(e, 101, 10);
	cr_assert_eq(t_lookup(e, &e->t)->sndq_len, 0);
	t_fini(e);
}

Test(tcp_seqwin, zero_window_forever_answered)
{
	struct tenv *e = t_new(NULL);
	unsigned int probes = 0;

	t_handshake(e, 100, t_opts_mss1460_ws7, 8);
	client_ack(e, 1, 0);
	app_send(e, 100);
	while (probes < 20) {
		t_advance(e, 1000);
		if (e->n_cap != 0) {
			t_drain(e);
			client_ack(e, 1, 0);
			probes++;
		}
	}
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	cr_assert_eq(e->app.error, 0);
	t_fini(e);
}
