/**
 * @file
 * Timers: delayed ACK (RFC 9293 3.8.6.3), retransmission with exponential back-off to
 * rto_max and the retry limit (RFC 6298 5), Karn's rule, SYN-ACK retransmission and give-up,
 * FIN retransmission, go-back-N after a timeout, the wheel over long gaps.
 *
 * The handshake of t_handshake() takes no simulated time, so its RTT sample is ~0 and the
 * RTO right after it is rto_min (200 ms).
 */
#include <criterion/criterion.h>

#include "tcp-test.h"

static void
app_send(struct tenv *e, uint32_t len)
{
	struct sl_tcp_seg *s = sl_tcp_seg_alloc(&e->st, len);

	memset(s->data, 'b', len);
	s->len = len;
	cr_assert_eq(sl_tcp_send(t_lookup(e, &e->t), s, e->now), 0);
}

static void
client_seg(struct tenv *e, uint8_t flags, uint32_t seq_rel, uint32_t ack_rel, uint32_t len)
{
	struct t_seg_spec s = {.flags = flags,
			       .seq = e->cli_isn + seq_rel,
			       .ack = e->srv_iss + ack_rel,
			       .wnd = 65535,
			       .len = len};

	t_inject(e, &s);
}

/* Open the window to its full scaled size first, so that consuming data triggers no
 * window update (the SYN-ACK could announce only 65535). */
static struct sl_tcp_conn *
open_conn(struct tenv *e)
{
	struct sl_tcp_conn *c = t_handshake(e, 5000, t_opts_mss1460_ws7, 8);

	c->rcv_adv = sl_seq_add(c->rcv_nxt, 262144);
	return c;
}

/* Assert nothing goes out for <quiet_us>, then one segment within the next ms. */
static struct t_out
expect_after(struct tenv *e, uint64_t quiet_us)
{
	t_advance(e, quiet_us - 1000);
	cr_assert_eq(e->n_cap, 0, "a segment before %lu us", (unsigned long)quiet_us);
	t_advance(e, 1000);
	cr_assert_eq(e->n_cap, 1, "no segment at %lu us", (unsigned long)quiet_us);
	return t_pop_out(e);
}

Test(tcp_timers, delayed_ack)
{
	struct tenv *e = t_new(NULL);
	struct t_out o;

	open_conn(e);
	client_seg(e, TF_ACK, 1, 1, 100);
	o = expect_after(e, 40000);
	cr_assert_eq(o.flags, TF_ACK);
	cr_assert_eq(o.ack, e->cli_isn + 101);
	/* nothing more owed */
	t_advance(e, 100000);
	cr_assert_eq(e->n_cap, 0);
	t_fini(e);
}

Test(tcp_timers, ack_every_second_full_segment)
{
	struct tenv *e = t_new(NULL);
	struct t_out o;

	open_conn(e);
	client_seg(e, TF_ACK, 1, 1, 1460);
	cr_assert_eq(e->n_cap, 0);
	client_seg(e, TF_ACK, 1461, 1, 1460);
	o = t_pop_out(e);
	cr_assert_eq(o.ack, e->cli_isn + 2921, "ACK at once after two full-sized segments");
	client_seg(e, TF_ACK, 2921, 1, 1460);
	cr_assert_eq(e->n_cap, 0);
	o = expect_after(e, 40000);
	cr_assert_eq(o.ack, e->cli_isn + 4381);
	/* smaller segments: ACK once two MSS worth is unacknowledged */
	client_seg(e, TF_ACK, 4381, 1, 1000);
	client_seg(e, TF_ACK, 5381, 1, 1000);
	cr_assert_eq(e->n_cap, 0);
	client_seg(e, TF_ACK, 6381, 1, 1000);
	o = t_pop_out(e);
	cr_assert_eq(o.ack, e->cli_isn + 7381);
	t_fini(e);
}

Test(tcp_timers, reply_carries_the_ack)
{
	struct tenv *e = t_new(NULL);
	struct t_out o;

	open_conn(e);
	client_seg(e, TF_ACK, 1, 1, 10);
	app_send(e, 5);
	o = t_pop_out(e);
	cr_assert_eq(o.ack, e->cli_isn + 11);
	cr_assert_eq(o.len, 5);
	t_advance(e, 100000);
	cr_assert_eq(e->n_cap, 0, "no delayed ACK after the reply took it");
	client_seg(e, TF_ACK, 11, 6, 0);
	t_fini(e);
}

static void
backoff_run(uint32_t rto_max_us, const uint32_t *intervals_ms, unsigned int n)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct t_out o;
	unsigned int i;

	p.rto_max_us = rto_max_us;
	p.retries = 8;
	e = t_new(&p);
	open_conn(e);
	app_send(e, 100);
	o = t_pop_out(e);
	cr_assert_eq(o.len, 100);
	for (i = 0; i < n; i++) {
		o = expect_after(e, intervals_ms[i] * 1000ull);
		cr_assert_eq(o.seq, e->srv_iss + 1, "retransmission %u", i + 1);
		cr_assert_eq(o.len, 100);
		cr_assert_eq(o.flags, TF_ACK | TF_PSH);
	}
	cr_assert_eq(t_stat(e, "retransmits"), 8);
	cr_assert_eq(t_stat(e, "rto_timeouts"), 8);
	cr_assert_eq(t_stat(e, "fast_retransmits"), 0);
	/* the ninth expiry: RST and error(-ETIMEDOUT) */
	o = expect_after(e, intervals_ms[n] * 1000ull);
	cr_assert_eq(o.flags, TF_RST);
	cr_assert_eq(o.seq, e->srv_iss + 101);
	cr_assert_eq(t_state(e), T_GONE);
	cr_assert_eq(e->app.error, 1);
	cr_assert_eq(e->app.last_err, -ETIMEDOUT);
	cr_assert_eq(t_stat(e, "conn_timeout"), 1);
	t_fini(e);
}

Test(tcp_timers, backoff_doubles_to_rto_max_then_error)
{
	static const uint32_t iv[] = {200, 400, 800, 1600, 2000, 2000, 2000, 2000, 2000};

	backoff_run(2000000, iv, 8);
}

Test(tcp_timers, backoff_default_rto_max)
{
	static const uint32_t iv[] = {200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200};

	backoff_run(60000000, iv, 8);
}

Test(tcp_timers, rtt_sample_and_karn)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c;

	c = open_conn(e);
	/* handshake sample ~0: SRTT 1 us, RTTVAR 0, RTO clamped to rto_min */
	cr_assert_eq(c->srtt_us, 1);
	cr_assert_eq(c->rto_us, 200000);
	app_send(e, 100);
	t_drain(e);
	t_advance(e, 50000);
	client_seg(e, TF_ACK, 1, 101, 0);
	/* RFC 6298 2.3 with R = 50 ms: RTTVAR = 3/4 0 + 1/4 |1 - 50000|, SRTT = 7/8 1 + R/8 */
	cr_assert_eq(c->rttvar_us, (50000 - 1) / 4);
	cr_assert_eq(c->srtt_us, (7 + 50000) / 8);
	cr_assert_eq(c->rto_us, 200000, "SRTT + 4 RTTVAR = 56 ms, under rto_min");
	app_send(e, 100);
	t_drain(e);
	t_advance(e, 150000);
	client_seg(e, TF_ACK, 1, 201, 0);
	/* R = 150 ms: RTTVAR = 3/4 12499 + 1/4 |6250 - 150000|, SRTT = 7/8 6250 + 150000/8 */
	cr_assert_eq(c->rttvar_us, (3 * 12499 + (150000 - 6250)) / 4);
	cr_assert_eq(c->srtt_us, (7 * 6250 + 150000) / 8);
	cr_assert_eq(c->rto_us, c->srtt_us + 4 * c->rttvar_us);
	{
		uint32_t srtt = c->srtt_us, rto = c->rto_us;

		/* a retransmitted segment is not timed (Karn) and the backed-off RTO stays */
		app_send(e, 100);
		t_drain(e);
		t_advance(e, rto + 1000);
		cr_assert_eq(e->n_cap, 1);
		t_drain(e);
		client_seg(e, TF_ACK, 1, 301, 0);
		cr_assert_eq(c->srtt_us, srtt);
		cr_assert_eq(c->rto_us, 2 * rto);
		/* the next segment sent once gives a sample again */
		app_send(e, 100);
		t_drain(e);
		t_advance(e, 100000);
		client_seg(e, TF_ACK, 1, 401, 0);
		cr_assert_neq(c->srtt_us, srtt);
	}
	t_fini(e);
}

Test(tcp_timers, syn_ack_retransmitted_then_given_up)
{
	static const uint32_t iv[] = {1000, 2000, 4000, 8000, 16000};
	struct tenv *e = t_new(NULL);
	struct t_seg_spec syn = {
		.flags = TF_SYN, .seq = 7, .wnd = 65535, .opts = t_opts_mss1460_ws7, .optlen = 8};
	struct t_out o;
	uint32_t iss;
	unsigned int i;

	t_inject(e, &syn);
	o = t_pop_out(e);
	iss = o.seq;
	for (i = 0; i < SL_ARRAY_SIZE(iv); i++) {
		o = expect_after(e, iv[i] * 1000ull);
		cr_assert_eq(o.flags, TF_SYN | TF_ACK);
		cr_assert_eq(o.seq, iss);
		cr_assert_eq(o.ack, 8);
		cr_assert_eq(o.mss, 1460);
		cr_assert_eq(o.ws, 7);
	}
	t_advance(e, 31999000);
	cr_assert_eq(t_state(e), SL_TCP_SYN_RCVD);
	t_advance(e, 1000);
	cr_assert_eq(t_state(e), T_GONE, "dropped after syn_retries");
	cr_assert_eq(e->n_cap, 0, "silently");
	cr_assert_eq(e->app.accepted, 0);
	cr_assert_eq(e->st.listeners[0].pending, 0);
	cr_assert_eq(t_stat(e, "conn_timeout"), 1);
	cr_assert_eq(t_stat(e, "retransmits"), 5);
	t_fini(e);
}

Test(tcp_timers, syn_ack_retransmitted_rto_3s)
{
	struct tenv *e = t_new(NULL);
	struct t_seg_spec syn = {
		.flags = TF_SYN, .seq = 7, .wnd = 65535, .opts = t_opts_mss1460_ws7, .optlen = 8};
	struct t_seg_spec ack = {.flags = TF_ACK, .seq = 8, .wnd = 65535};
	struct t_out o;

	t_inject(e, &syn);
	o = t_pop_out(e);
	t_advance(e, 1000000);
	t_drain(e);
	ack.ack = o.seq + 1;
	t_inject(e, &ack);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	cr_assert_eq(t_lookup(e, &e->t)->rto_us, 3000000, "RFC 6298 5.7");
	t_fini(e);
	/* backed off beyond 3 s (two retransmissions: 4 s): re-initialized to 3 s too */
	e = t_new(NULL);
	t_inject(e, &syn);
	o = t_pop_out(e);
	t_advance(e, 3000000);
	cr_assert_eq(e->n_cap, 2);
	t_drain(e);
	ack.ack = o.seq + 1;
	t_inject(e, &ack);
	cr_assert_eq(t_lookup(e, &e->t)->rto_us, 3000000);
	t_fini(e);
}

Test(tcp_timers, fin_retransmitted)
{
	struct tenv *e = t_new(NULL);
	struct t_out o;

	open_conn(e);
	sl_tcp_close(t_lookup(e, &e->t), e->now);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_FIN | TF_ACK);
	o = expect_after(e, 200000);
	cr_assert_eq(o.flags, TF_FIN | TF_ACK);
	cr_assert_eq(o.seq, e->srv_iss + 1);
	o = expect_after(e, 400000);
	cr_assert_eq(o.flags, TF_FIN | TF_ACK);
	client_seg(e, TF_ACK, 1, 2, 0);
	cr_assert_eq(t_state(e), SL_TCP_FIN_WAIT_2);
	t_fini(e);
}

Test(tcp_timers, data_and_fin_retransmitted_together)
{
	struct tenv *e = t_new(NULL);
	struct t_out o;

	open_conn(e);
	app_send(e, 100);
	sl_tcp_close(t_lookup(e, &e->t), e->now);
	o = t_pop_out(e);
	cr_assert_eq(o.len, 100);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_FIN | TF_ACK);
	cr_assert_eq(o.seq, e->srv_iss + 101);
	o = expect_after(e, 200000);
	cr_assert_eq(o.flags, TF_FIN | TF_ACK | TF_PSH);
	cr_assert_eq(o.seq, e->srv_iss + 1);
	cr_assert_eq(o.len, 100);
	/* only the data acknowledged: the FIN goes again alone */
	client_seg(e, TF_ACK, 1, 101, 0);
	cr_assert_eq(t_state(e), SL_TCP_FIN_WAIT_1);
	o = expect_after(e, 400000);
	cr_assert_eq(o.flags, TF_FIN | TF_ACK);
	cr_assert_eq(o.seq, e->srv_iss + 101);
	cr_assert_eq(o.len, 0);
	client_seg(e, TF_ACK | TF_FIN, 1, 102, 0);
	cr_assert_eq(t_state(e), SL_TCP_TIME_WAIT);
	t_drain(e);
	t_fini(e);
}

Test(tcp_timers, go_back_n_after_timeout)
{
	struct tenv *e = t_new(NULL);
	struct t_out o;
	unsigned int i;

	open_conn(e);
	app_send(e, 5000);
	cr_assert_eq(e->n_cap, 4);
	t_drain(e);
	o = expect_after(e, 200000);
	cr_assert_eq(o.seq, e->srv_iss + 1);
	cr_assert_eq(o.len, 1460, "one segment on the timeout");
	cr_assert_eq(t_lookup(e, &e->t)->cwnd, 1460, "RFC 5681 3.1: the loss window");
	cr_assert_eq(t_lookup(e, &e->t)->ssthresh, 2920, "max (FlightSize / 2, 2*SMSS)");
	client_seg(e, TF_ACK, 1, 1461, 0);
	/* the ACK sends more again: slow start, cwnd 2 segments */
	for (i = 0; i < 2; i++) {
		o = t_pop_out(e);
		cr_assert_eq(o.seq, e->srv_iss + 1461 + 1460 * i);
	}
	cr_assert_eq(e->n_cap, 0);
	client_seg(e, TF_ACK, 1, 2921, 0);
	o = t_pop_out(e);
	cr_assert_eq(o.seq, e->srv_iss + 4381);
	cr_assert_eq(o.len, 620);
	cr_assert_eq(t_stat(e, "retransmits"), 4);
	cr_assert_eq(t_stat(e, "rto_timeouts"), 1);
	/* an ACK of everything, including what the receiver had from the first flight */
	client_seg(e, TF_ACK, 1, 5001, 0);
	cr_assert_eq(t_lookup(e, &e->t)->sndq_len, 0);
	t_advance(e, 10000000);
	cr_assert_eq(e->n_cap, 0);
	t_fini(e);
}

Test(tcp_timers, ack_past_snd_nxt_after_go_back)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c;

	c = open_conn(e);
	app_send(e, 5000);
	t_drain(e);
	t_advance(e, 200000);
	t_drain(e);
	/* snd_nxt went back to snd_una + 1460; the receiver had it all */
	client_seg(e, TF_ACK, 1, 5001, 0);
	cr_assert_eq(c->snd_una.v, e->srv_iss + 5001);
	cr_assert_eq(c->snd_nxt.v, e->srv_iss + 5001);
	cr_assert_eq(e->n_cap, 0);
	t_fini(e);
}

Test(tcp_timers, time_wait_after_a_long_gap)
{
	struct tenv *e = t_new(NULL);

	open_conn(e);
	sl_tcp_close(t_lookup(e, &e->t), e->now);
	client_seg(e, TF_ACK | TF_FIN, 1, 2, 0);
	cr_assert_eq(t_state(e), SL_TCP_TIME_WAIT);
	t_drain(e);
	/* one call an hour later: one pass over the wheel */
	e->now += 3600ull * 1000000;
	sl_tcp_timer(&e->st, e->now);
	cr_assert_eq(t_state(e), T_GONE);
	t_fini(e);
}

Test(tcp_timers, timers_over_several_wheel_turns)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;

	/* 4096 slots of 1 ms: a 10 s TIME_WAIT goes round the wheel twice */
	p.time_wait_us = 10000000;
	e = t_new(&p);
	open_conn(e);
	sl_tcp_close(t_lookup(e, &e->t), e->now);
	client_seg(e, TF_ACK | TF_FIN, 1, 2, 0);
	t_drain(e);
	t_advance(e, 9999000);
	cr_assert_eq(t_state(e), SL_TCP_TIME_WAIT);
	t_advance(e, 1000);
	cr_assert_eq(t_state(e), T_GONE);
	t_fini(e);
}

Test(tcp_timers, pkt_alloc_failure_retried)
{
	struct tenv *e = t_new(NULL);
	struct t_out o;

	open_conn(e);
	e->fail_pkt_alloc = 1;
	app_send(e, 100);
	cr_assert_eq(e->n_cap, 0);
	cr_assert_eq(t_stat(e, "drop_no_buf"), 1);
	e->fail_pkt_alloc = 0;
	o = expect_after(e, 200000);
	cr_assert_eq(o.len, 100);
	cr_assert_eq(o.seq, e->srv_iss + 1);
	/* and an ACK that found no buffer goes with the delayed-ACK timer */
	e->fail_pkt_alloc = 1;
	client_seg(e, TF_ACK | TF_FIN, 1, 101, 0);
	cr_assert_eq(t_state(e), SL_TCP_CLOSE_WAIT);
	e->fail_pkt_alloc = 0;
	o = expect_after(e, 40000);
	cr_assert_eq(o.ack, e->cli_isn + 2);
	t_fini(e);
}
