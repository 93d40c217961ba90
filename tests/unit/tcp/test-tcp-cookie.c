/**
 * @file
 * SYN cookies (RFC 4987 3.6): sent only when the listen backlog is full, nothing kept; the
 * returning ACK makes the connection with the MSS (rounded down to the table 536, 1300, 1440,
 * 1460), and with timestamps the window scale and SACK-permitted from the low bits of our
 * TSval; without timestamps neither. Invalid, forged and expired cookies are refused (RST,
 * as for any ACK to a listener); no_syncookies drops the SYN instead.
 *
 * The listener of t_init() has backlog 16: fill() puts 16 connections in SYN_RCVD (ports
 * 1000..1015); the SYN of e->t then gets a cookie.
 */
#include <criterion/criterion.h>

#include "tcp-test.h"

#define ISN 1000u

/* MSS 1400, NOP NOP SACK-permitted, NOP WS 7: no timestamps */
static const uint8_t opts_no_ts[12] = {2, 4, 0x05, 0x78, 1, 1, 4, 2, 1, 3, 3, 7};

/* Fill the backlog of the listener. */
static void
fill(struct tenv *e)
{
	struct sl_tcp_tuple t = e->t;
	struct t_seg_spec syn = {.flags = TF_SYN, .seq = 1, .wnd = 65535};
	unsigned int i;

	for (i = 0; i < 16; i++) {
		t.rport = (uint16_t)(1000 + i);
		t_inject_t(e, &t, &syn);
	}
	cr_assert_eq(e->st.listeners[0].pending, 16);
	cr_assert_eq(e->n_cap, 16);
	t_drain(e);
}

/* A SYN for <t> with <opts> and ISN <isn>; @return the SYN-ACK, which must be there. */
static struct t_out
syn_t(struct tenv *e, const struct sl_tcp_tuple *t, uint32_t isn, const uint8_t *opts,
      unsigned int optlen)
{
	struct t_seg_spec syn = {
		.flags = TF_SYN, .seq = isn, .wnd = 65535, .opts = opts, .optlen = optlen};
	struct t_out o;

	t_inject_t(e, t, &syn);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_SYN | TF_ACK);
	cr_assert_eq(o.ack, isn + 1);
	return o;
}

/* The ACK of the SYN-ACK <o> for <t>: timestamps echoing it when <ts>, <len> bytes and
 * <flags> besides ACK. */
static void
ack_t(struct tenv *e, const struct sl_tcp_tuple *t, uint32_t isn, const struct t_out *o, bool ts,
      uint32_t len, uint8_t flags)
{
	uint8_t ts12[12];
	struct t_seg_spec ack = {.flags = (uint8_t)(TF_ACK | flags),
				 .seq = isn + 1,
				 .ack = o->seq + 1,
				 .wnd = 1000,
				 .len = len};

	if (ts) {
		t_opt_ts(ts12, 2000, o->tsval);
		ack.opts = ts12;
		ack.optlen = sizeof(ts12);
	}
	t_inject_t(e, t, &ack);
}

Test(tcp_cookie, none_without_backlog_pressure)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_tuple t = e->t;
	struct t_seg_spec ack = {.flags = TF_ACK, .seq = 5, .ack = 77, .wnd = 65535};
	unsigned int i;

	for (i = 0; i < 15; i++) {
		t.rport = (uint16_t)(2000 + i);
		syn_t(e, &t, ISN, t_opts_linux, sizeof(t_opts_linux));
		cr_assert_not_null(t_lookup(e, &t), "a connection in SYN_RCVD, not a cookie");
	}
	cr_assert_eq(t_stat(e, "syncookies_sent"), 0);
	/* a stray ACK: RST as ever, no cookie checked (none was sent) */
	t_inject(e, &ack);
	cr_assert_eq(t_pop_out(e).flags, TF_RST);
	cr_assert_eq(t_stat(e, "syncookies_failed"), 0);
	cr_assert_eq(t_stat(e, "drop_no_listener"), 1);
	t_fini(e);
}

Test(tcp_cookie, with_timestamps)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c;
	struct t_out o;
	long conns;

	fill(e);
	conns = e->conns_live;
	o = syn_t(e, &e->t, ISN, t_opts_linux, sizeof(t_opts_linux));
	e->cli_isn = ISN;
	e->srv_iss = o.seq;
	/* the SYN-ACK: what the SYN offered, and no state */
	cr_assert_eq(o.mss, 1460);
	cr_assert_eq(o.ws, 7);
	cr_assert(o.sack_ok);
	cr_assert(o.ts);
	cr_assert_eq(o.tsecr, 1000);
	cr_assert_eq(o.tsval & 0x3f, 7 | 0x10, "the peer's WS and SACK in the TSval's low bits");
	cr_assert_eq(o.wnd, 65535);
	cr_assert_eq(e->conns_live, conns, "no state kept");
	cr_assert_null(t_lookup(e, &e->t));
	cr_assert_eq(t_stat(e, "syncookies_sent"), 1);
	cr_assert_eq(t_stat(e, "drop_backlog"), 0);
	cr_assert_eq(e->st.listeners[0].pending, 16);
	/* the ACK makes the connection */
	ack_t(e, &e->t, ISN, &o, true, 0, 0);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	cr_assert_eq(e->n_cap, 0, "nothing answers the ACK");
	cr_assert_eq(e->app.accepted, 1);
	cr_assert_eq(t_stat(e, "syncookies_ok"), 1);
	cr_assert_eq(t_stat(e, "accepted"), 1);
	cr_assert_eq(e->st.listeners[0].pending, 16);
	cr_assert_eq(e->st.stats.conns[SL_TCP_SYN_RCVD], 16);
	c = t_lookup(e, &e->t);
	cr_assert_eq(c->mss, 1448);
	cr_assert_eq(c->snd_wscale, 7);
	cr_assert_eq(c->rcv_wscale, 7);
	cr_assert_eq(c->snd_wnd, 1000u << 7);
	cr_assert_eq(c->srtt_us, 0, "no RTT sample from the rounded TSval");
	/* it works: data with timestamps, SACK for out-of-order data */
	t_app_send(e, 10, NULL);
	o = t_expect(e, TF_ACK | TF_PSH, 1, 10);
	cr_assert(o.ts);
	cr_assert_eq(o.tsecr, 2000);
	cr_assert_eq(o.wnd, 262144 >> 7);
	{
		uint8_t ts12[12];

		t_opt_ts(ts12, 2001, o.tsval);
		t_client(e, TF_ACK, 101, 11, 10, 1000, ts12, sizeof(ts12));
	}
	o = t_expect(e, TF_ACK, 11, 0);
	cr_assert_eq(o.n_sack, 1);
	t_fini(e);
}

Test(tcp_cookie, without_timestamps_no_window_scale_no_sack)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c;
	struct t_out o;

	fill(e);
	o = syn_t(e, &e->t, ISN, opts_no_ts, sizeof(opts_no_ts));
	e->cli_isn = ISN;
	e->srv_iss = o.seq;
	cr_assert_eq(o.optlen, 4, "MSS alone");
	cr_assert_eq(o.mss, 1460);
	cr_assert_eq(o.ws, -1);
	cr_assert_not(o.sack_ok);
	cr_assert_not(o.ts);
	ack_t(e, &e->t, ISN, &o, false, 0, 0);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	c = t_lookup(e, &e->t);
	cr_assert_eq(c->mss, 1300, "1400 rounded down to the table");
	cr_assert_eq(c->snd_wscale, 0);
	cr_assert_eq(c->rcv_wscale, 0);
	cr_assert_eq(c->snd_wnd, 1000);
	t_client(e, TF_ACK, 101, 1, 10, 1000, NULL, 0);
	o = t_expect(e, TF_ACK, 1, 0);
	cr_assert_eq(o.n_sack, 0);
	cr_assert_eq(o.wnd, 65535);
	t_fini(e);
}

Test(tcp_cookie, mss_table)
{
	static const int peer[] = {0, 500, 536, 1299, 1300, 1439, 1440, 1459, 1460, 8960};
	static const int want[] = {536, 536, 536, 536, 1300, 1300, 1440, 1440, 1460, 1460};
	struct tenv *e = t_new(NULL);
	struct sl_tcp_tuple t = e->t;
	unsigned int i;

	fill(e);
	for (i = 0; i < SL_ARRAY_SIZE(peer); i++) {
		uint8_t mss[4] = {2, 4, (uint8_t)(peer[i] >> 8), (uint8_t)peer[i]};
		struct t_out o;

		t.rport = (uint16_t)(3000 + i);
		o = syn_t(e, &t, ISN + i, mss, peer[i] != 0 ? 4 : 0);
		ack_t(e, &t, ISN + i, &o, false, 0, 0);
		cr_assert_not_null(t_lookup(e, &t), "peer MSS %d", peer[i]);
		cr_assert_eq(t_lookup(e, &t)->mss, want[i], "peer MSS %d: %u", peer[i],
			     t_lookup(e, &t)->mss);
	}
	cr_assert_eq(t_stat(e, "syncookies_ok"), SL_ARRAY_SIZE(peer));
	t_fini(e);
}

Test(tcp_cookie, window_scale_and_sack_encodings)
{
	/* TS without WS and SACK; TS with WS 14 and SACK */
	static const uint8_t ts_only[16] = {2, 4, 0x05, 0xb4, 1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0};
	/* clang-format off */
	static const uint8_t ts_ws14[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 9,
					    0, 0, 0, 0, 1, 3, 3, 14};
	/* clang-format on */
	struct tenv *e = t_new(NULL);
	struct sl_tcp_tuple t = e->t;
	struct sl_tcp_conn *c;
	struct t_out o;
	uint32_t clk;

	fill(e);
	o = syn_t(e, &t, ISN, ts_only, sizeof(ts_only));
	cr_assert(o.ts);
	cr_assert_eq(o.ws, -1);
	cr_assert_not(o.sack_ok);
	cr_assert_eq(o.tsval & 0x3f, 0x0f, "WS 15: none");
	/* our TSval is our clock (ms + ISS) with the low bits replaced, never ahead of it */
	clk = (uint32_t)(e->now / 1000) + o.seq;
	cr_assert_leq((int32_t)(o.tsval - clk), 0);
	cr_assert_gt((int32_t)(o.tsval - clk), -64);
	ack_t(e, &t, ISN, &o, true, 0, 0);
	c = t_lookup(e, &t);
	cr_assert_not_null(c);
	cr_assert_eq(c->snd_wscale, 0);
	cr_assert_eq(c->rcv_wscale, 0);
	cr_assert_eq(c->mss, 1448);
	t.rport++;
	o = syn_t(e, &t, ISN, ts_ws14, sizeof(ts_ws14));
	cr_assert_eq(o.ws, 7);
	cr_assert(o.sack_ok);
	cr_assert_eq(o.tsval & 0x3f, 14 | 0x10);
	ack_t(e, &t, ISN, &o, true, 0, 0);
	c = t_lookup(e, &t);
	cr_assert_not_null(c);
	cr_assert_eq(c->snd_wscale, 14);
	cr_assert_eq(c->rcv_wscale, 7);
	t_fini(e);
}

Test(tcp_cookie, ack_with_data_and_fin)
{
	struct tenv *e = t_new(NULL);
	struct t_out o;

	fill(e);
	o = syn_t(e, &e->t, ISN, t_opts_linux, sizeof(t_opts_linux));
	e->cli_isn = ISN;
	e->srv_iss = o.seq;
	ack_t(e, &e->t, ISN, &o, true, 100, TF_PSH | TF_FIN);
	cr_assert_eq(e->app.accepted, 1);
	cr_assert_eq(e->app.rx_len, 100, "the ACK's payload is delivered");
	cr_assert_eq(e->app.peer_closed, 1);
	cr_assert_eq(t_state(e), SL_TCP_CLOSE_WAIT);
	o = t_expect(e, TF_ACK, 1, 0);
	cr_assert_eq(o.ack, ISN + 102);
	t_fini(e);
}

Test(tcp_cookie, invalid_cookies_refused)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_tuple t = e->t;
	struct t_out o, bad;
	uint32_t x = 12345;
	unsigned int i;

	fill(e);
	o = syn_t(e, &t, ISN, t_opts_linux, sizeof(t_opts_linux));
	/* one off */
	bad = o;
	bad.seq = o.seq + 1;
	ack_t(e, &t, ISN, &bad, true, 0, 0);
	cr_assert_eq(t_pop_out(e).flags, TF_RST, "RST <SEQ=SEG.ACK>, as for any stray ACK");
	/* another ISN (SEG.SEQ - 1) */
	ack_t(e, &t, ISN + 1, &o, true, 0, 0);
	cr_assert_eq(t_pop_out(e).flags, TF_RST);
	/* another tuple */
	t.rport++;
	ack_t(e, &t, ISN, &o, true, 0, 0);
	cr_assert_eq(t_pop_out(e).flags, TF_RST);
	t = e->t;
	/* timestamps agreed, but the ACK has none */
	ack_t(e, &t, ISN, &o, false, 0, 0);
	cr_assert_eq(t_pop_out(e).flags, TF_RST);
	/* guesses */
	for (i = 0; i < 2000; i++) {
		x = x * 1103515245u + 12345u;
		bad.seq = x;
		ack_t(e, &t, ISN, &bad, true, 0, 0);
		t_drain(e);
	}
	cr_assert_eq(t_stat(e, "syncookies_failed"), 2004);
	cr_assert_eq(t_stat(e, "syncookies_ok"), 0);
	cr_assert_eq(t_stat(e, "drop_no_listener"), 2004);
	cr_assert_null(t_lookup(e, &t));
	cr_assert_eq(e->app.accepted, 0);
	/* the real one still works */
	ack_t(e, &t, ISN, &o, true, 0, 0);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	cr_assert_eq(t_stat(e, "syncookies_ok"), 1);
	t_fini(e);
}

Test(tcp_cookie, keyed_per_stack)
{
	struct tenv *e = t_new(NULL), *f = t_new(NULL);
	struct t_out o1, o2;

	cr_assert_eq(sl_tcp_stack_init(&f->st, NULL, &t_env_ops, f, 43, f->now), 0);
	cr_assert_eq(sl_tcp_listen(&f->st, T_IP4(10, 0, 0, 1), T_SRV_PORT, 16, &t_app_ops, f), 0);
	fill(e);
	fill(f);
	o1 = syn_t(e, &e->t, ISN, opts_no_ts, sizeof(opts_no_ts));
	o2 = syn_t(f, &f->t, ISN, opts_no_ts, sizeof(opts_no_ts));
	cr_assert_neq(o1.seq, o2.seq, "another secret, another cookie");
	ack_t(f, &f->t, ISN, &o1, false, 0, 0);
	cr_assert_eq(t_stat(f, "syncookies_failed"), 1);
	t_drain(f);
	t_fini(e);
	t_fini(f);
}

Test(tcp_cookie, valid_for_one_period_more)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct sl_tcp_tuple ta, tb, tc;
	struct t_out oa, ob, oc;

	/* keep the backlog's connections for minutes: SYN-ACKs every 60 s */
	p.rto_init_us = p.rto_max_us = 60000000;
	e = t_new(&p);
	ta = tb = tc = e->t;
	tb.rport = 50001;
	tc.rport = 50002;
	fill(e);
	/* at 1 s, period 0 */
	oa = syn_t(e, &ta, ISN, opts_no_ts, sizeof(opts_no_ts));
	ob = syn_t(e, &tb, ISN, opts_no_ts, sizeof(opts_no_ts));
	/* at 127 s, period 1: A still valid; C made */
	t_advance(e, 126000000);
	t_drain(e);
	cr_assert_eq(e->st.listeners[0].pending, 16);
	ack_t(e, &ta, ISN, &oa, false, 0, 0);
	cr_assert_not_null(t_lookup(e, &ta));
	oc = syn_t(e, &tc, ISN, opts_no_ts, sizeof(opts_no_ts));
	/* at 129 s, period 2: B (period 0) expired, C valid */
	t_advance(e, 2000000);
	t_drain(e);
	ack_t(e, &tb, ISN, &ob, false, 0, 0);
	cr_assert_null(t_lookup(e, &tb));
	cr_assert_eq(t_pop_out(e).flags, TF_RST);
	ack_t(e, &tc, ISN, &oc, false, 0, 0);
	cr_assert_not_null(t_lookup(e, &tc));
	cr_assert_eq(t_stat(e, "syncookies_ok"), 2);
	cr_assert_eq(t_stat(e, "syncookies_failed"), 1);
	/* no cookie sent for two periods: ACKs are not even checked */
	t_advance(e, 128000000);
	t_drain(e);
	ack_t(e, &tb, ISN, &ob, false, 0, 0);
	cr_assert_eq(t_stat(e, "syncookies_failed"), 1);
	t_drain(e);
	t_fini(e);
}

Test(tcp_cookie, disabled_by_parameter)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;

	p.no_syncookies = true;
	e = t_new(&p);
	fill(e);
	{
		struct t_seg_spec syn = {.flags = TF_SYN, .seq = ISN, .wnd = 65535};

		t_inject(e, &syn);
	}
	cr_assert_eq(e->n_cap, 0);
	cr_assert_eq(t_stat(e, "drop_backlog"), 1);
	cr_assert_eq(t_stat(e, "syncookies_sent"), 0);
	t_fini(e);
}

Test(tcp_cookie, refused_or_no_memory)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_tuple t = e->t;
	struct t_out o;

	fill(e);
	/* no connection memory for a valid cookie: dropped unanswered (the peer retries) */
	o = syn_t(e, &t, ISN, opts_no_ts, sizeof(opts_no_ts));
	e->fail_conn_alloc = 1;
	ack_t(e, &t, ISN, &o, false, 0, 0);
	e->fail_conn_alloc = 0;
	cr_assert_eq(e->n_cap, 0);
	cr_assert_eq(t_stat(e, "syncookies_ok"), 1);
	cr_assert_eq(t_stat(e, "drop_no_conn_mem"), 1);
	/* the application refuses it: RST */
	e->app.refuse = -ECONNREFUSED;
	ack_t(e, &t, ISN, &o, false, 0, 0);
	cr_assert_null(t_lookup(e, &t));
	cr_assert_eq(t_pop_out(e).flags, TF_RST);
	cr_assert_eq(t_stat(e, "conn_aborted"), 1);
	cr_assert_eq(e->st.listeners[0].pending, 16);
	t_fini(e);
}
