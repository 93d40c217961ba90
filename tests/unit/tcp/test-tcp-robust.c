/**
 * @file
 * Robustness: RFC 5961 (challenge ACKs for a RST in the window not at RCV.NXT and for a SYN,
 * ACKs out of range dropped with an ACK, the per-stack rate limit), zero-window probing that
 * never gives up on a peer that answers and gives up on one that does not, a receiver that
 * stops reading, keepalive (probes, answers, timeout, per listener and per connection), and
 * a peer that vanishes mid-transfer: detected after the retry limit, reported, and every
 * buffer returned.
 */
#include <criterion/criterion.h>

#include "tcp-test.h"

static struct sl_tcp_conn *
open_conn(struct tenv *e)
{
	return t_handshake(e, 1000, t_opts_mss1460_ws7, 8);
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

/* ---- RFC 5961 ---- */

Test(tcp_robust, rst_exact_resets_in_window_challenged)
{
	struct tenv *e = t_new(NULL);
	/* clang-format off */
	static const struct t_step v[] = {
		{"RST in the window, not at RCV.NXT: challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT>",
		 T_IN, {.flags = TF_RST, .seq = 1 + 1000}, 0, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 1, .wnd = 2048}}},
		{"RST+ACK in the window: the same",
		 T_IN, {.flags = TF_RST | TF_ACK, .seq = 1 + 5, .ack = 1}, 0, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 1, .wnd = 2048}}},
		{"RST beyond the window: dropped silently",
		 T_IN, {.flags = TF_RST, .seq = 1 + 300000}, 0, SL_TCP_ESTABLISHED, 0, {{0}}},
		{"RST exactly at RCV.NXT: reset",
		 T_IN, {.flags = TF_RST, .seq = 1}, 0, T_GONE, 0, {{0}}},
	};
	/* clang-format on */

	open_conn(e);
	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(t_stat(e, "challenge_acks"), 2);
	cr_assert_eq(t_stat(e, "drop_out_of_window"), 3);
	cr_assert_eq(e->app.reset, 1);
	cr_assert_eq(t_stat(e, "conn_reset"), 1);
	t_fini(e);
}

Test(tcp_robust, syn_in_established_challenged)
{
	struct tenv *e = t_new(NULL);
	/* clang-format off */
	static const struct t_step v[] = {
		{"SYN in the window: challenge ACK",
		 T_IN, {.flags = TF_SYN, .seq = 1 + 77}, 0, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 1}}},
		{"SYN far outside it: challenge ACK too (RFC 5961 4.2: irrespective of SEQ)",
		 T_IN, {.flags = TF_SYN, .seq = 1 + 3000000}, 0, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 1}}},
	};
	/* clang-format on */

	open_conn(e);
	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(t_stat(e, "challenge_acks"), 2);
	cr_assert_eq(t_stat(e, "conn_aborted") + t_stat(e, "conn_reset"), 0);
	cr_assert_eq(e->app.reset, 0);
	t_fini(e);
}

Test(tcp_robust, ack_beyond_snd_nxt_acked_and_dropped)
{
	struct tenv *e = t_new(NULL);
	/* clang-format off */
	static const struct t_step v[] = {
		{"data with an ACK of data never sent: ACK, the data not taken",
		 T_IN, {.flags = TF_ACK, .seq = 1, .ack = 50, .len = 10}, 0, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 1}}},
	};
	/* clang-format on */

	open_conn(e);
	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(e->app.rx_len, 0);
	cr_assert_eq(t_stat(e, "drop_bad_ack"), 1);
	cr_assert_eq(t_stat(e, "challenge_acks"), 1);
	t_fini(e);
}

Test(tcp_robust, ack_older_than_max_snd_wnd_dropped)
{
	struct tenv *e = t_new(NULL);
	struct t_seg_spec syn = {
		.flags = TF_SYN, .seq = 1000, .wnd = 3000, .opts = t_opts_mss1460, .optlen = 4};
	struct sl_tcp_conn *c;
	struct t_out o;
	unsigned int i;

	e->cli_isn = 1000;
	t_inject(e, &syn);
	o = t_pop_out(e);
	e->srv_iss = o.seq;
	t_client(e, TF_ACK, 1, 1, 0, 3000, NULL, 0);
	c = t_lookup(e, &e->t);
	cr_assert_eq(c->max_snd_wnd, 3000);
	for (i = 0; i < 3; i++) {
		t_app_send(e, 3000, NULL);
		t_drain(e);
		t_client(e, TF_ACK, 1, 1 + 3000 * (i + 1), 0, 3000, NULL, 0);
	}
	cr_assert_eq(c->snd_una.v, e->srv_iss + 9001);
	/* SND.UNA - MAX.SND.WND = 6001: 5000 is too old: challenge ACK, data not taken */
	t_client(e, TF_ACK, 1, 5000, 10, 3000, NULL, 0);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_ACK);
	cr_assert_eq(o.ack, e->cli_isn + 1);
	cr_assert_eq(e->app.rx_len, 0);
	cr_assert_eq(t_stat(e, "drop_bad_ack"), 1);
	/* 7000 is old but within: ignored as an ACK, the data taken */
	t_client(e, TF_ACK, 1, 7000, 10, 3000, NULL, 0);
	cr_assert_eq(e->app.rx_len, 10);
	cr_assert_eq(c->snd_una.v, e->srv_iss + 9001);
	t_drain(e);
	t_fini(e);
}

Test(tcp_robust, challenge_ack_rate_limit)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	unsigned int i;
	uint64_t n;

	p.challenge_ack_limit = 10;
	e = t_new(&p);
	open_conn(e);
	for (i = 0; i < 100; i++)
		t_client(e, TF_RST, 1 + 10 + i, 0, 0, 0, NULL, 0);
	n = t_stat(e, "challenge_acks");
	cr_assert(n >= 5 && n < 15, "%lu challenge ACKs in a second with a limit of 10",
		  (unsigned long)n);
	cr_assert_eq(e->n_cap, n, "the rest dropped silently");
	cr_assert_eq(t_stat(e, "drop_out_of_window"), 100);
	t_drain(e);
	/* a new second, a new budget */
	t_advance(e, 1000000);
	t_client(e, TF_SYN, 1 + 10, 0, 0, 0, NULL, 0);
	cr_assert_eq(e->n_cap, 1);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	t_drain(e);
	t_fini(e);
	/* no limit */
	p.challenge_ack_limit = UINT32_MAX;
	e = t_new(&p);
	open_conn(e);
	for (i = 0; i < 3000; i++)
		t_client(e, TF_RST, 1 + 10, 0, 0, 0, NULL, 0);
	cr_assert_eq(t_stat(e, "challenge_acks"), 3000);
	t_drain(e);
	t_fini(e);
	/* the default: 1000 a second, between 500 and 1500 */
	e = t_new(NULL);
	open_conn(e);
	for (i = 0; i < 3000; i++)
		t_client(e, TF_RST, 1 + 10, 0, 0, 0, NULL, 0);
	n = t_stat(e, "challenge_acks");
	cr_assert(n >= 500 && n < 1500, "%lu", (unsigned long)n);
	t_drain(e);
	t_fini(e);
}

/* ---- zero windows ---- */

Test(tcp_robust, persist_never_gives_up_while_answered)
{
	static const uint32_t iv[] = {200, 400, 800, 1600, 2000, 2000, 2000};
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct sl_tcp_conn *c;
	unsigned int i;
	struct t_out o;

	p.retries = 3;
	p.rto_max_us = 2000000;
	e = t_new(&p);
	c = open_conn(e);
	t_client(e, TF_ACK, 1, 1, 0, 0, NULL, 0);
	t_app_send(e, 5000, NULL);
	cr_assert_eq(e->n_cap, 0);
	for (i = 0; i < 20; i++) {
		/* RFC 9293 3.8.6.1: one byte, backed off like the RTO up to rto_max */
		o = expect_after(e,
				 iv[i < SL_ARRAY_SIZE(iv) ? i : SL_ARRAY_SIZE(iv) - 1] * 1000ull);
		cr_assert_eq(o.seq, e->srv_iss + 1);
		cr_assert_eq(o.len, 1);
		t_client(e, TF_ACK, 1, 1, 0, 0, NULL, 0);
		cr_assert_eq(c->retries, 0, "an answer: the peer is there");
	}
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED, "20 probes > 3 retries: still there");
	cr_assert_eq(t_stat(e, "zwp_out"), 20);
	cr_assert_eq(e->app.error, 0);
	/* the peer took the probe byte and opened: the rest goes, from byte 2 */
	t_client(e, TF_ACK, 1, 2, 0, 100, NULL, 0);
	for (i = 0; i < 4; i++)
		t_expect(e, i < 3 ? TF_ACK : TF_ACK | TF_PSH, 2 + 1460 * i, i < 3 ? 1460 : 619);
	t_client(e, TF_ACK, 1, 5001, 0, 100, NULL, 0);
	cr_assert_eq(c->sndq_len, 0);
	cr_assert_eq(c->rto_us, 200000, "the back-off is over");
	t_fini(e);
}

Test(tcp_robust, persist_gives_up_on_a_silent_peer)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct t_out o;

	p.retries = 3;
	e = t_new(&p);
	open_conn(e);
	t_client(e, TF_ACK, 1, 1, 0, 0, NULL, 0);
	t_app_send(e, 100, NULL);
	expect_after(e, 200000);
	expect_after(e, 400000);
	expect_after(e, 800000);
	o = expect_after(e, 1600000);
	cr_assert_eq(o.flags, TF_RST);
	cr_assert_eq(t_state(e), T_GONE);
	cr_assert_eq(e->app.error, 1);
	cr_assert_eq(e->app.last_err, -ETIMEDOUT);
	cr_assert_eq(t_stat(e, "conn_timeout"), 1);
	cr_assert_eq(t_stat(e, "zwp_out"), 3);
	t_fini(e);
}

Test(tcp_robust, window_opened_after_data_was_dropped)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = open_conn(e);
	unsigned int i;

	/* 4 segments out; the peer takes 1 and closes its window: 2..4 were dropped */
	t_app_send(e, 4 * 1460, NULL);
	t_drain(e);
	t_client(e, TF_ACK, 1, 1461, 0, 0, NULL, 0);
	cr_assert_eq(e->n_cap, 0);
	/* the timer probes the window with the first byte outstanding, no timeout */
	t_advance(e, 200000);
	t_expect(e, TF_ACK, 1461, 1);
	cr_assert_eq(t_stat(e, "zwp_out"), 1);
	cr_assert_eq(t_stat(e, "rto_timeouts"), 0);
	cr_assert_eq(c->cwnd, 14600 + 1460, "a closed window is no congestion");
	/* the window opens: everything after SND.UNA goes again */
	t_client(e, TF_ACK, 1, 1461, 0, 100, NULL, 0);
	for (i = 0; i < 3; i++)
		t_expect(e, i < 2 ? TF_ACK : TF_ACK | TF_PSH, 1461 + 1460 * i, 1460);
	cr_assert_eq(e->n_cap, 0);
	t_client(e, TF_ACK, 1, 5841, 0, 100, NULL, 0);
	cr_assert_eq(c->sndq_len, 0);
	t_fini(e);
}

Test(tcp_robust, receiver_that_stops_reading)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct sl_tcp_conn *c;
	struct t_seg_spec syn = {
		.flags = TF_SYN, .seq = 1000, .wnd = 65535, .opts = t_opts_sack, .optlen = 12};
	struct t_out o;
	unsigned int i;

	p.rcv_buf = 8192;
	e = t_new(&p);
	e->cli_isn = 1000;
	t_inject(e, &syn);
	o = t_pop_out(e);
	e->srv_iss = o.seq;
	t_client(e, TF_ACK, 1, 1, 0, 65535, NULL, 0);
	c = t_lookup(e, &e->t);
	e->app.hold = true; /* sluice's application does not consume */
	for (i = 0; i < 20; i++)
		t_client(e, TF_ACK, 1 + 1000 * i, 1, 1000, 65535, NULL, 0);
	/* what we advertised, no more: rcv_buf, plus what rounding the scaled window up (so
	 * that its right edge never moves left) added, under 2^wscale per ACK */
	cr_assert_eq(c->rcv_adv.v, c->rcv_nxt.v, "a zero window");
	cr_assert_eq(e->app.held_bytes, c->rcv_nxt.v - e->cli_isn - 1);
	cr_assert(e->app.held_bytes >= 8192 && e->app.held_bytes < 8192 + 10 * 128, "%u",
		  e->app.held_bytes);
	cr_assert_eq(c->rcv_held, e->app.held_bytes);
	cr_assert_eq(c->ooo_cnt, 0, "nothing queued beyond a closed window");
	cr_assert_leq(e->segs_live, 9, "buffers held: the window's worth");
	t_drain(e);
	/* the peer probes: each probe gets the zero window back, nothing more */
	for (i = 0; i < 5; i++) {
		t_client(e, TF_ACK, 1 + e->app.held_bytes, 1, 1, 65535, NULL, 0);
		o = t_pop_out(e);
		cr_assert_eq(o.ack, e->cli_isn + 1 + e->app.held_bytes);
		cr_assert_eq(o.wnd, 0);
	}
	cr_assert_eq(e->n_cap, 0);
	t_advance(e, 10000000);
	cr_assert_eq(e->n_cap, 0, "no timer busy with a closed window");
	/* the application reads: a window update */
	sl_tcp_seg_free_chain(&e->st, e->app.held);
	e->app.held = e->app.held_tail = NULL;
	sl_tcp_consumed(c, c->rcv_held, e->now);
	o = t_pop_out(e);
	cr_assert_eq(o.wnd, 8192 >> 7);
	t_fini(e);
}

/* ---- keepalive ---- */

static struct sl_tcp_params
ka_params(void)
{
	struct sl_tcp_params p = t_params();

	p.keepalive_idle_us = 10000000;
	p.keepalive_intvl_us = 1000000;
	p.keepalive_probes = 3;
	return p;
}

Test(tcp_robust, keepalive_probes_answered_and_unanswered)
{
	struct sl_tcp_params p = ka_params();
	struct tenv *e = t_new(&p);
	struct t_out o;

	open_conn(e);
	/* RFC 1122 4.2.3.6: <SEQ=SND.NXT-1>, no data */
	o = expect_after(e, 10000000);
	cr_assert_eq(o.flags, TF_ACK);
	cr_assert_eq(o.seq, e->srv_iss);
	cr_assert_eq(o.len, 0);
	cr_assert_eq(o.ack, e->cli_isn + 1);
	t_client(e, TF_ACK, 1, 1, 0, 65535, NULL, 0);
	/* answered: the next one after the idle time again */
	o = expect_after(e, 10000000);
	cr_assert_eq(o.seq, e->srv_iss);
	/* traffic resets the idle time */
	t_client(e, TF_ACK, 1, 1, 0, 65535, NULL, 0);
	t_advance(e, 5000000);
	t_client(e, TF_ACK, 1, 1, 10, 65535, NULL, 0);
	t_advance(e, 40000);
	t_drain(e);
	o = expect_after(e, 10000000 - 40000);
	cr_assert_eq(t_stat(e, "keepalives_out"), 3);
	/* unanswered: every interval, then the end */
	expect_after(e, 1000000);
	expect_after(e, 1000000);
	o = expect_after(e, 1000000);
	cr_assert_eq(o.flags, TF_RST);
	cr_assert_eq(o.seq, e->srv_iss + 1);
	cr_assert_eq(t_state(e), T_GONE);
	cr_assert_eq(e->app.error, 1);
	cr_assert_eq(e->app.last_err, -ETIMEDOUT);
	cr_assert_eq(t_stat(e, "conn_timeout"), 1);
	cr_assert_eq(t_stat(e, "keepalives_out"), 5);
	t_fini(e);
}

Test(tcp_robust, keepalive_off_by_default)
{
	struct tenv *e = t_new(NULL);

	open_conn(e);
	t_advance(e, 3ull * 3600 * 1000000);
	cr_assert_eq(e->n_cap, 0);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	t_fini(e);
}

Test(tcp_robust, keepalive_per_connection_and_per_listener)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = open_conn(e);
	struct t_out o;

	cr_assert_eq(sl_tcp_set_keepalive(c, true, e->now), 0);
	o = expect_after(e, 7200ull * 1000000);
	cr_assert_eq(o.seq, e->srv_iss, "two hours without a listener setting");
	t_client(e, TF_ACK, 1, 1, 0, 65535, NULL, 0);
	cr_assert_eq(sl_tcp_set_keepalive(c, false, e->now), 0);
	t_advance(e, 3ull * 3600 * 1000000);
	cr_assert_eq(e->n_cap, 0);
	sl_tcp_abort(c, e->now);
	t_drain(e);
	/* the listener's setting, for connections from now on */
	cr_assert_eq(sl_tcp_listen_keepalive(&e->st, T_IP4(10, 0, 0, 1), T_SRV_PORT, 5000000, 0, 2),
		     0);
	cr_assert_eq(sl_tcp_listen_keepalive(&e->st, T_IP4(10, 0, 0, 1), 99, 1, 1, 1), -ENOENT);
	e->iss_known = false;
	e->t.rport++;
	c = t_handshake(e, 7000, t_opts_mss1460_ws7, 8);
	expect_after(e, 5000000);
	expect_after(e, 75000000); /* the default interval */
	o = expect_after(e, 75000000);
	cr_assert_eq(o.flags, TF_RST);
	cr_assert_eq(t_stat(e, "keepalives_out"), 3);
	(void)c;
	t_fini(e);
}

Test(tcp_robust, keepalive_quiet_while_data_is_outstanding)
{
	struct sl_tcp_params p = ka_params();
	struct tenv *e;

	p.rto_max_us = 2000000;
	p.retries = 15;
	e = t_new(&p);
	open_conn(e);
	t_app_send(e, 100, NULL);
	t_advance(e, 15000000);
	cr_assert_eq(t_stat(e, "keepalives_out"), 0, "retransmissions watch the peer");
	cr_assert_gt(t_stat(e, "retransmits"), 5);
	t_drain(e);
	t_fini(e);
}

/* ---- a peer that vanishes ---- */

static void
vanish(const struct sl_tcp_app_ops *ops, bool want_error)
{
	struct tenv *e = t_new(NULL);
	const uint64_t total =
		(200 + 400 + 800 + 1600 + 3200 + 6400 + 12800 + 25600 + 51200) * 1000ull;
	struct t_out o;

	e->st.listeners[0].ops = ops;
	open_conn(e);
	/* some data in, some out of order (held by TCP), data in flight both ways */
	t_client(e, TF_ACK, 1, 1, 500, 65535, NULL, 0);
	t_client(e, TF_ACK, 2001, 1, 500, 65535, NULL, 0);
	t_app_send(e, 20000, NULL);
	t_drain(e);
	cr_assert_gt(e->segs_live, 1);
	t_advance(e, total - 2000);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	cr_assert_eq(t_stat(e, "rto_timeouts"), 8);
	t_drain(e);
	t_advance(e, 2000);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_RST);
	cr_assert_eq(t_state(e), T_GONE, "gone %.1f s after the peer went silent",
		     (double)total / 1e6);
	cr_assert_eq(e->app.error, want_error ? 1u : 0u);
	cr_assert_eq(e->app.reset, want_error ? 0u : 1u);
	if (want_error)
		cr_assert_eq(e->app.last_err, -ETIMEDOUT);
	cr_assert_eq(t_stat(e, "conn_timeout"), 1);
	cr_assert_eq(e->segs_live, 0, "send queue and out-of-order queue returned");
	cr_assert_eq(e->conns_live, 0);
	t_fini(e);
}

Test(tcp_robust, vanishing_peer_reported_as_error)
{
	vanish(&t_app_ops, true);
}

Test(tcp_robust, vanishing_peer_reported_as_reset_without_error_callback)
{
	static struct sl_tcp_app_ops ops;

	ops = t_app_ops;
	ops.error = NULL;
	vanish(&ops, false);
}
