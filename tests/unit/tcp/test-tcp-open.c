/**
 * @file
 * Active open (RFC 9293 3.5, 3.10.1 OPEN, 3.10.7.3 SYN-SENT): the SYN and its options, the
 * options agreed from the SYN-ACK, `connected`, refusal and time-out through `error`,
 * simultaneous open, the errors of sl_tcp_connect(), close and abort before the handshake
 * completes; and the memory of a connection: its size, and no buffer held while idle.
 *
 * The stack opens 10.0.0.1:50000 -> 10.0.0.2:80; the peer's ISN is 5000. Inputs carry seq
 * relative to the peer's ISN and ack relative to our ISS, as elsewhere.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "tcp-test.h"

#define PEER_ISN 5000u
#define LPORT 50000
#define RPORT 80

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Options of a SYN or SYN-ACK from the peer, into <o>: MSS <mss> (0: none), NOP NOP
 * SACK-permitted when <sack>, NOP NOP TS(<val>, <ecr>) when <ts>, NOP WS <ws> (-1: none).
 * @return their length.
 */
static unsigned int
peer_opts(uint8_t *o, int mss, bool sack, bool ts, uint32_t val, uint32_t ecr, int ws)
{
	unsigned int k = 0;

	if (mss > 0) {
		o[k++] = 2;
		o[k++] = 4;
		o[k++] = (uint8_t)(mss >> 8);
		o[k++] = (uint8_t)mss;
	}
	if (sack) {
		o[k++] = 1;
		o[k++] = 1;
		o[k++] = 4;
		o[k++] = 2;
	}
	if (ts) {
		t_opt_ts(o + k, val, ecr);
		k += 12;
	}
	if (ws >= 0) {
		o[k++] = 1;
		o[k++] = 3;
		o[k++] = 3;
		o[k++] = (uint8_t)ws;
	}
	return k;
}

static struct tenv *
setup(const struct sl_tcp_params *p)
{
	struct tenv *e = t_new(p);

	e->t.lport = LPORT;
	e->t.rport = RPORT;
	e->cli_isn = PEER_ISN;
	return e;
}

/* sl_tcp_connect() on e->t; @return the SYN (its ISS learnt). */
static struct t_out
open_syn(struct tenv *e, struct sl_tcp_conn **c)
{
	struct t_out o;

	cr_assert_eq(t_connect(e, &e->t, c), 0);
	cr_assert_not_null(*c);
	cr_assert_eq(t_state(e), SL_TCP_SYN_SENT);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_SYN, "a bare SYN: <SEQ=ISS><CTL=SYN>");
	cr_assert_eq(o.ack, 0);
	cr_assert_eq(o.sport, LPORT);
	cr_assert_eq(o.dport, RPORT);
	cr_assert_eq(o.len, 0);
	e->srv_iss = o.seq;
	e->iss_known = true;
	return o;
}

/* The peer's SYN-ACK with options <opts>. */
static void
synack(struct tenv *e, const uint8_t *opts, unsigned int optlen)
{
	t_client(e, TF_SYN | TF_ACK, 0, 1, 0, 65535, opts, optlen);
}

/* Connect and complete the handshake with a SYN-ACK as Linux sends it (MSS 1460, SACK,
 * TS, WS 7). @return the connection; our ACK was checked and popped. */
static struct sl_tcp_conn *
open_full(struct tenv *e, uint32_t *peer_ts)
{
	struct sl_tcp_conn *c;
	struct t_out o = open_syn(e, &c);
	uint8_t opts[40];
	unsigned int n = peer_opts(opts, 1460, true, true, 777, o.tsval, 7);

	synack(e, opts, n);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	o = t_expect(e, TF_ACK, 1, 0);
	cr_assert_eq(o.ack, PEER_ISN + 1);
	*peer_ts = 777;
	return c;
}

Test(tcp_open, syn_offers_all_options)
{
	struct tenv *e = setup(NULL);
	struct sl_tcp_conn *c;
	struct t_out o = open_syn(e, &c);
	/* MSS 1460, SACK-permitted, TS (TSval ours, TSecr 0), NOP, WS 7: Linux's layout */
	static const uint8_t head[8] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10};
	static const uint8_t tail[8] = {0, 0, 0, 0, 1, 3, 3, 7};

	cr_assert_eq(o.hlen, 40);
	cr_assert_eq(memcmp(o.opts, head, 8), 0);
	cr_assert_eq(memcmp(o.opts + 12, tail, 8), 0);
	cr_assert_eq(o.tsval, rd32(o.opts + 8));
	cr_assert_eq(o.wnd, 65535, "the window of a SYN is never scaled");
	cr_assert_eq(sl_tcp_user(c), e);
	cr_assert_eq(t_stat(e, "active_opens"), 1);
	cr_assert_eq(e->st.stats.conns[SL_TCP_SYN_SENT], 1);
	cr_assert_eq(e->app.connected, 0);
	t_fini(e);
}

Test(tcp_open, syn_options_follow_the_parameters)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct sl_tcp_conn *c;
	struct t_out o;
	static const uint8_t no_ts[12] = {2, 4, 0x04, 0x00, 1, 1, 4, 2, 1, 3, 3, 5};
	static const uint8_t bare[8] = {2, 4, 0x04, 0x00, 1, 3, 3, 5};

	p.no_timestamps = true;
	p.mss = 1024;
	p.wscale = 5;
	e = setup(&p);
	o = open_syn(e, &c);
	cr_assert_eq(o.optlen, sizeof(no_ts));
	cr_assert_eq(memcmp(o.opts, no_ts, sizeof(no_ts)), 0);
	t_fini(e);
	p.no_sack = true;
	e = setup(&p);
	o = open_syn(e, &c);
	cr_assert_eq(o.optlen, sizeof(bare));
	cr_assert_eq(memcmp(o.opts, bare, sizeof(bare)), 0);
	t_fini(e);
}

Test(tcp_open, synack_options_agreed)
{
	struct tenv *e = setup(NULL);
	struct sl_tcp_conn *c;
	struct t_out o = open_syn(e, &c);
	uint8_t opts[40];
	unsigned int n = peer_opts(opts, 1200, true, true, 777, o.tsval, 3);
	uint32_t stream = 0;

	synack(e, opts, n);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	cr_assert_eq(e->app.connected, 1);
	cr_assert_eq(e->app.conn, c);
	cr_assert_eq(e->app.accepted, 0, "not an accept");
	/* the third segment of the handshake: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
	o = t_expect(e, TF_ACK, 1, 0);
	cr_assert_eq(o.ack, PEER_ISN + 1);
	cr_assert(o.ts);
	cr_assert_eq(o.tsecr, 777);
	cr_assert_eq(o.wnd, 262144 >> 7, "our scale is in effect");
	cr_assert_eq(c->snd_wscale, 3);
	cr_assert_eq(c->rcv_wscale, 7);
	cr_assert_eq(c->mss, 1200 - 12, "the peer's MSS less the timestamps");
	cr_assert_eq(c->snd_wnd, 65535, "the SYN-ACK's window is not scaled");
	/* data: MSS-sized segments with timestamps */
	t_app_send(e, 3000, &stream);
	o = t_expect(e, TF_ACK, 1, 1188);
	cr_assert(o.ts);
	t_expect(e, TF_ACK, 1189, 1188);
	t_expect(e, TF_ACK | TF_PSH, 2377, 624);
	/* the peer's windows are scaled from now on */
	{
		uint8_t ts[12];

		t_opt_ts(ts, 778, o.tsval);
		t_client(e, TF_ACK, 1, 3001, 0, 100, ts, sizeof(ts));
	}
	cr_assert_eq(c->snd_wnd, 800);
	/* SACK agreed: out-of-order data is ACKed with a SACK block */
	{
		uint8_t ts[12];

		t_opt_ts(ts, 779, o.tsval);
		t_client(e, TF_ACK, 101, 3001, 10, 100, ts, sizeof(ts));
	}
	o = t_expect(e, TF_ACK, 3001, 0);
	cr_assert_eq(o.ack, PEER_ISN + 1);
	cr_assert_eq(o.n_sack, 1);
	cr_assert_eq(t_stat(e, "accepted"), 0);
	t_fini(e);
}

Test(tcp_open, synack_without_options)
{
	struct tenv *e = setup(NULL);
	struct sl_tcp_conn *c;
	struct t_out o;

	open_syn(e, &c);
	synack(e, NULL, 0);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	o = t_expect(e, TF_ACK, 1, 0);
	cr_assert_not(o.ts, "timestamps only when both sent them");
	cr_assert_eq(o.optlen, 0);
	cr_assert_eq(o.wnd, 65535, "no window scale: the field is the window, at most 65535");
	cr_assert_eq(c->snd_wscale, 0);
	cr_assert_eq(c->rcv_wscale, 0);
	cr_assert_eq(c->mss, 536, "RFC 9293 3.7.1: no MSS option, 536");
	/* no SACK: out-of-order data gets a plain duplicate ACK */
	t_client(e, TF_ACK, 101, 1, 10, 65535, NULL, 0);
	o = t_expect(e, TF_ACK, 1, 0);
	cr_assert_eq(o.n_sack, 0);
	t_fini(e);
}

Test(tcp_open, window_scale_only_when_both_sent_it)
{
	struct tenv *e = setup(NULL);
	struct sl_tcp_conn *c;
	struct t_out o = open_syn(e, &c);
	uint8_t opts[40];
	unsigned int n = peer_opts(opts, 1460, false, true, 9, o.tsval, -1);

	synack(e, opts, n);
	o = t_expect(e, TF_ACK, 1, 0);
	cr_assert(o.ts);
	cr_assert_eq(o.wnd, 65535);
	cr_assert_eq(c->rcv_wscale, 0, "RFC 7323 2.3: our shift is dropped too");
	cr_assert_eq(c->snd_wscale, 0);
	t_fini(e);
}

Test(tcp_open, refused_by_rst)
{
	struct tenv *e = setup(NULL);
	struct sl_tcp_conn *c;

	open_syn(e, &c);
	/* RST without ACK, and RST with an ACK that does not acknowledge the SYN: dropped */
	t_client(e, TF_RST, 0, 0, 0, 0, NULL, 0);
	t_client(e, TF_RST | TF_ACK, 0, 0, 0, 0, NULL, 0);
	cr_assert_eq(t_state(e), SL_TCP_SYN_SENT);
	cr_assert_eq(e->app.error, 0);
	cr_assert_eq(e->n_cap, 0, "never a RST for a RST");
	/* RST, ACK of our SYN: refused */
	t_client(e, TF_RST | TF_ACK, 0, 1, 0, 0, NULL, 0);
	cr_assert_eq(t_state(e), T_GONE);
	cr_assert_eq(e->app.error, 1);
	cr_assert_eq(e->app.last_err, -ECONNREFUSED);
	cr_assert_eq(e->app.connected, 0);
	cr_assert_eq(e->n_cap, 0);
	cr_assert_eq(t_stat(e, "connect_failed"), 1);
	cr_assert_eq(t_stat(e, "conn_reset"), 1);
	cr_assert_eq(t_stat(e, "drop_bad_ack") + t_stat(e, "drop_out_of_window"), 2);
	cr_assert_eq(e->conns_live, 0);
	t_fini(e);
}

static void
reset_only(void *app, struct sl_tcp_conn *c)
{
	struct tenv *e = app;

	(void)c;
	e->app.reset++;
}

Test(tcp_open, refused_without_error_callback_is_a_reset)
{
	struct tenv *e = setup(NULL);
	struct sl_tcp_app_ops ops = t_app_ops;
	struct sl_tcp_conn *c;
	struct t_out o;

	ops.error = NULL;
	ops.reset = reset_only;
	cr_assert_eq(sl_tcp_connect(&e->st, &e->t, &ops, e, e, &c, e->now), 0);
	o = t_pop_out(e);
	e->srv_iss = o.seq;
	t_client(e, TF_RST | TF_ACK, 0, 1, 0, 0, NULL, 0);
	cr_assert_eq(e->app.reset, 1);
	cr_assert_eq(t_state(e), T_GONE);
	t_fini(e);
}

Test(tcp_open, unacceptable_ack_gets_rst)
{
	struct tenv *e = setup(NULL);
	struct sl_tcp_conn *c;
	struct t_out o;

	open_syn(e, &c);
	/* SEG.ACK =< ISS or > SND.NXT: <SEQ=SEG.ACK><CTL=RST>, the segment dropped */
	t_client(e, TF_SYN | TF_ACK, 0, 5, 0, 65535, NULL, 0);
	o = t_expect(e, TF_RST, 5, 0);
	t_client(e, TF_SYN | TF_ACK, 0, 0, 0, 65535, NULL, 0);
	o = t_expect(e, TF_RST, 0, 0);
	(void)o;
	cr_assert_eq(t_state(e), SL_TCP_SYN_SENT);
	cr_assert_eq(t_stat(e, "drop_bad_ack"), 2);
	/* an acceptable ACK without SYN: dropped, nothing sent */
	t_client(e, TF_ACK, 0, 1, 0, 65535, NULL, 0);
	cr_assert_eq(t_state(e), SL_TCP_SYN_SENT);
	cr_assert_eq(e->n_cap, 0);
	/* the real SYN-ACK still completes it */
	synack(e, NULL, 0);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	cr_assert_eq(e->app.connected, 1);
	t_fini(e);
}

Test(tcp_open, syn_retransmitted_then_timed_out)
{
	static const uint32_t iv_ms[] = {1000, 2000, 4000, 8000, 16000};
	struct tenv *e = setup(NULL);
	struct sl_tcp_conn *c;
	struct t_out first = open_syn(e, &c), o;
	unsigned int i;

	for (i = 0; i < SL_ARRAY_SIZE(iv_ms); i++) {
		t_advance(e, iv_ms[i] * 1000ull - 1000);
		cr_assert_eq(e->n_cap, 0, "retransmission %u early", i);
		t_advance(e, 1000);
		o = t_pop_out(e);
		cr_assert_eq(o.flags, TF_SYN);
		cr_assert_eq(o.seq, first.seq, "the same ISS");
		cr_assert_eq(o.mss, 1460);
		cr_assert_eq(o.ws, 7);
		cr_assert(o.sack_ok && o.ts);
	}
	t_advance(e, 31999000);
	cr_assert_eq(t_state(e), SL_TCP_SYN_SENT);
	cr_assert_eq(e->app.error, 0);
	t_advance(e, 1000);
	cr_assert_eq(t_state(e), T_GONE, "given up after syn_retries");
	cr_assert_eq(e->n_cap, 0, "no RST: the peer never answered");
	cr_assert_eq(e->app.error, 1);
	cr_assert_eq(e->app.last_err, -ETIMEDOUT);
	cr_assert_eq(t_stat(e, "connect_failed"), 1);
	cr_assert_eq(t_stat(e, "conn_timeout"), 1);
	cr_assert_eq(t_stat(e, "retransmits"), 5);
	t_fini(e);
}

Test(tcp_open, synack_after_retransmission)
{
	struct tenv *e = setup(NULL);
	struct sl_tcp_conn *c;
	struct t_out o;
	uint8_t opts[40];
	unsigned int n;

	open_syn(e, &c);
	t_advance(e, 1000000);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_SYN);
	n = peer_opts(opts, 1460, true, false, 0, 0, 7);
	t_advance(e, 30000);
	synack(e, opts, n);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	t_drain(e);
	cr_assert_eq(c->rto_us, 3000000, "RFC 6298 5.7");
	cr_assert_eq(c->srtt_us, 0, "Karn: no sample from a retransmitted SYN");
	cr_assert_eq(c->cwnd, c->mss, "RFC 5681 3.1: one segment after a lost SYN");
	t_fini(e);
}

Test(tcp_open, handshake_rtt_sample)
{
	struct tenv *e = setup(NULL);
	struct sl_tcp_conn *c;

	open_syn(e, &c);
	t_advance(e, 25000);
	synack(e, NULL, 0);
	t_drain(e);
	cr_assert_eq(c->srtt_us, 25000);
	cr_assert_eq(c->cwnd, 10 * 536u, "RFC 6928 initial window");
	t_fini(e);
}

Test(tcp_open, connected_may_send_at_once)
{
	struct tenv *e = setup(NULL);
	struct sl_tcp_conn *c;
	struct t_out o;

	struct sl_tcp_seg *s;

	e->app.send_on_connected = 100;
	open_syn(e, &c);
	s = sl_tcp_seg_alloc(&e->st, 1);
	cr_assert_eq(sl_tcp_send(c, s, e->now), -ENOTCONN, "no sending before `connected`");
	sl_tcp_seg_free_chain(&e->st, s);
	synack(e, NULL, 0);
	/* the data carries the handshake's ACK: nothing else goes */
	o = t_expect(e, TF_ACK | TF_PSH, 1, 100);
	cr_assert_eq(o.ack, PEER_ISN + 1);
	cr_assert_eq(o.payload[0], 'c');
	cr_assert_eq(e->n_cap, 0);
	t_fini(e);
}

Test(tcp_open, synack_with_data)
{
	struct tenv *e = setup(NULL);
	struct sl_tcp_conn *c;
	struct t_out o;

	open_syn(e, &c);
	t_client(e, TF_SYN | TF_ACK | TF_PSH, 0, 1, 10, 65535, NULL, 0);
	cr_assert_eq(e->app.connected, 1);
	cr_assert_eq(e->app.rx_len, 10, "the SYN-ACK's text is delivered after `connected`");
	o = t_expect(e, TF_ACK, 1, 0);
	cr_assert_eq(o.ack, PEER_ISN + 11, "SYN and 10 bytes acknowledged");
	/* SYN with FIN is malformed here as anywhere (parse) */
	t_fini(e);
	e = setup(NULL);
	open_syn(e, &c);
	t_client(e, TF_SYN | TF_ACK | TF_FIN, 0, 1, 10, 65535, NULL, 0);
	cr_assert_eq(t_state(e), SL_TCP_SYN_SENT);
	cr_assert_eq(t_stat(e, "drop_bad_hdr"), 1);
	t_fini(e);
}

Test(tcp_open, simultaneous_open)
{
	struct tenv *e = setup(NULL);
	struct sl_tcp_conn *c;
	struct t_out o = open_syn(e, &c);
	uint8_t opts[40];
	unsigned int n = peer_opts(opts, 1400, true, true, 555, 0, 2);

	/* RFC 9293 figure 7: SYN crosses SYN */
	t_client(e, TF_SYN, 0, 0, 0, 65535, opts, n);
	cr_assert_eq(t_state(e), SL_TCP_SYN_RCVD);
	o = t_expect(e, TF_SYN | TF_ACK, 0, 0);
	cr_assert_eq(o.ack, PEER_ISN + 1);
	cr_assert_eq(o.mss, 1460);
	cr_assert_eq(o.ws, 7);
	cr_assert(o.sack_ok);
	cr_assert(o.ts);
	cr_assert_eq(o.tsecr, 555);
	cr_assert_eq(e->app.connected, 0);
	cr_assert_eq(e->st.stats.conns[SL_TCP_SYN_RCVD], 1);
	/* the peer's SYN-ACK (<SEQ=its ISN><ACK=our ISS+1>) completes it */
	n = peer_opts(opts, 1400, true, true, 556, o.tsval, 2);
	t_client(e, TF_SYN | TF_ACK, 0, 1, 0, 1000, opts, n);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	cr_assert_eq(e->app.connected, 1);
	cr_assert_eq(e->n_cap, 0, "its SYN was acknowledged by our SYN-ACK");
	cr_assert_eq(c->snd_wnd, 1000, "a SYN-ACK's window is not scaled");
	cr_assert_eq(c->snd_wscale, 2);
	cr_assert_eq(c->mss, 1400 - 12);
	cr_assert_eq(e->st.listeners[0].pending, 0, "the listener's backlog is not involved");
	/* and it works: data both ways */
	{
		uint8_t ts[12];

		t_opt_ts(ts, 557, o.tsval);
		t_client(e, TF_ACK | TF_PSH, 1, 1, 20, 1000, ts, sizeof(ts));
	}
	cr_assert_eq(e->app.rx_len, 20);
	t_fini(e);
}

Test(tcp_open, simultaneous_open_completed_by_ack_or_refused)
{
	struct tenv *e = setup(NULL);
	struct sl_tcp_conn *c;

	open_syn(e, &c);
	t_client(e, TF_SYN, 0, 0, 0, 65535, NULL, 0);
	t_expect(e, TF_SYN | TF_ACK, 0, 0);
	/* its SYN again: our SYN-ACK again */
	t_client(e, TF_SYN, 0, 0, 0, 65535, NULL, 0);
	t_expect(e, TF_SYN | TF_ACK, 0, 0);
	/* a plain ACK of our SYN completes it too */
	t_client(e, TF_ACK, 1, 1, 0, 65535, NULL, 0);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	cr_assert_eq(e->app.connected, 1);
	t_fini(e);

	e = setup(NULL);
	open_syn(e, &c);
	t_client(e, TF_SYN, 0, 0, 0, 65535, NULL, 0);
	t_expect(e, TF_SYN | TF_ACK, 0, 0);
	/* a SYN in the window is not a passive open's "back to LISTEN": challenge ACK */
	t_client(e, TF_SYN, 1, 0, 0, 65535, NULL, 0);
	cr_assert_eq(t_state(e), SL_TCP_SYN_RCVD);
	t_expect(e, TF_ACK, 1, 0);
	/* RST at RCV.NXT: "the connection was refused" */
	t_client(e, TF_RST, 1, 0, 0, 0, NULL, 0);
	cr_assert_eq(t_state(e), T_GONE);
	cr_assert_eq(e->app.error, 1);
	cr_assert_eq(e->app.last_err, -ECONNREFUSED);
	cr_assert_eq(t_stat(e, "connect_failed"), 1);
	t_fini(e);

	/* SYN-ACK lost in a simultaneous open: retransmitted, then -ETIMEDOUT */
	e = setup(NULL);
	open_syn(e, &c);
	t_client(e, TF_SYN, 0, 0, 0, 65535, NULL, 0);
	t_expect(e, TF_SYN | TF_ACK, 0, 0);
	t_advance(e, 64000000);
	cr_assert_eq(t_state(e), T_GONE);
	cr_assert_eq(e->app.last_err, -ETIMEDOUT);
	cr_assert_eq(t_stat(e, "connect_failed"), 1);
	t_fini(e);
}

Test(tcp_open, close_or_abort_before_connected)
{
	struct tenv *e = setup(NULL);
	struct sl_tcp_conn *c;

	open_syn(e, &c);
	cr_assert_eq(sl_tcp_shutdown(c, e->now), -ENOTCONN);
	sl_tcp_close(c, e->now);
	cr_assert_eq(t_state(e), T_GONE);
	cr_assert_eq(e->n_cap, 0, "no RST from SYN-SENT (RFC 9293 3.10.4)");
	cr_assert_eq(e->conns_live, 0);
	cr_assert_eq(t_stat(e, "conn_aborted"), 1);
	cr_assert_eq(t_stat(e, "connect_failed"), 0, "the application's own doing");
	/* the SYN-ACK that comes later meets no connection: RST */
	synack(e, NULL, 0);
	t_expect(e, TF_RST, 1, 0);
	t_advance(e, 100000000);
	cr_assert_eq(e->n_cap, 0, "no timer left");
	cr_assert_eq(e->app.error + e->app.reset + e->app.connected, 0);
	t_fini(e);

	e = setup(NULL);
	open_syn(e, &c);
	sl_tcp_abort(c, e->now);
	cr_assert_eq(t_state(e), T_GONE);
	cr_assert_eq(e->n_cap, 0);
	cr_assert_eq(e->conns_live, 0);
	t_fini(e);
}

Test(tcp_open, connect_errors)
{
	struct tenv *e = setup(NULL);
	struct sl_tcp_app_ops no_connected = t_app_ops;
	struct sl_tcp_tuple t = e->t;
	struct sl_tcp_conn *c = NULL, *c2 = NULL;
	static void *apps[SL_TCP_BINDS_MAX];
	unsigned int i;

	no_connected.connected = NULL;
	cr_assert_eq(sl_tcp_connect(&e->st, &t, &no_connected, e, e, &c, e->now), -EINVAL);
	t.lport = 0;
	cr_assert_eq(t_connect(e, &t, &c), -EINVAL);
	t = e->t;
	t.raddr.v = 0;
	cr_assert_eq(t_connect(e, &t, &c), -EINVAL);
	t = e->t;
	e->fail_conn_alloc = 1;
	cr_assert_eq(t_connect(e, &t, &c), -ENOMEM);
	e->fail_conn_alloc = 0;
	e->fail_insert = 1;
	cr_assert_eq(t_connect(e, &t, &c), -ENOSPC);
	e->fail_insert = 0;
	cr_assert_eq(e->n_cap, 0, "nothing sent");
	cr_assert_eq(e->conns_live, 0, "nothing kept");
	cr_assert_eq(t_stat(e, "active_opens"), 0);
	/* the tuple in use: found by conn_lookup, or refused by conn_insert */
	cr_assert_eq(t_connect(e, &t, &c), 0);
	cr_assert_eq(t_connect(e, &t, &c2), -EADDRINUSE);
	e->no_lookup = true;
	cr_assert_eq(t_connect(e, &t, &c2), -EADDRINUSE);
	cr_assert_eq(e->conns_live, 1);
	e->no_lookup = false;
	/* so is a passive connection's */
	t_drain(e);
	e->t.lport = T_SRV_PORT;
	e->t.rport = T_CLI_PORT;
	t_handshake(e, 100, NULL, 0);
	cr_assert_eq(t_connect(e, &e->t, &c2), -EADDRINUSE);
	/* SL_TCP_BINDS_MAX applications at most */
	t.lport = 1;
	for (i = 1; i < SL_TCP_BINDS_MAX; i++) {
		t.lport++;
		cr_assert_eq(sl_tcp_connect(&e->st, &t, &t_app_ops, &apps[i], e, &c2, e->now), 0);
	}
	t.lport++;
	cr_assert_eq(sl_tcp_connect(&e->st, &t, &t_app_ops, &apps[0], e, &c2, e->now), -ENOSPC);
	cr_assert_eq(sl_tcp_connect(&e->st, &t, &t_app_ops, e, e, &c2, e->now), 0,
		     "an application already bound takes no new slot");
	cr_assert_eq(t_stat(e, "active_opens"), SL_TCP_BINDS_MAX + 1);
	t_drain(e);
	t_fini(e);
}

Test(tcp_open, full_life_and_keepalive_from_the_parameters)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct sl_tcp_conn *c;
	uint32_t ts;
	uint8_t o12[12];
	struct t_out o;

	p.keepalive_idle_us = 10000000;
	e = setup(&p);
	c = open_full(e, &ts);
	t_app_send(e, 10, NULL);
	o = t_expect(e, TF_ACK | TF_PSH, 1, 10);
	t_opt_ts(o12, ts + 1, o.tsval);
	t_client(e, TF_ACK | TF_PSH, 1, 11, 5, 512, o12, sizeof(o12));
	cr_assert_eq(e->app.rx_len, 5);
	/* keepalive: a probe after 10 s idle */
	t_advance(e, 10000000);
	t_drain(e);
	cr_assert_eq(t_stat(e, "keepalives_out"), 1);
	/* active close */
	sl_tcp_close(c, e->now);
	o = t_expect(e, TF_ACK | TF_FIN, 11, 0);
	t_opt_ts(o12, ts + 2, o.tsval);
	t_client(e, TF_ACK | TF_FIN, 6, 12, 0, 512, o12, sizeof(o12));
	cr_assert_eq(t_state(e), SL_TCP_TIME_WAIT);
	t_expect(e, TF_ACK, 12, 0);
	t_advance(e, 2000000);
	cr_assert_eq(t_state(e), T_GONE);
	cr_assert_eq(t_stat(e, "conn_closed"), 1);
	cr_assert_eq(e->conns_live, 0);
	t_fini(e);
}

/* ---- memory per connection ---- */

Test(tcp_mem, connection_size)
{
	cr_log_info("sizeof(struct sl_tcp_conn) = %zu", sizeof(struct sl_tcp_conn));
	cr_assert_leq(sizeof(struct sl_tcp_conn), 384, "the guard");
	cr_assert_leq(sizeof(struct sl_tcp_conn), 320, "what TCP 3/3 made of it (344 before)");
}

/* Nothing held: no send queue, no out-of-order queue, no buffer outstanding. */
static void
assert_idle(struct tenv *e, struct sl_tcp_conn *c)
{
	cr_assert_null(c->sndq_head);
	cr_assert_null(c->ooo_head);
	cr_assert_eq(c->sndq_len, 0);
	cr_assert_eq(e->segs_live, 0, "%ld segments held by an idle connection", e->segs_live);
	cr_assert_eq(e->pkts_live, 0);
}

Test(tcp_mem, idle_connections_hold_no_buffer)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = t_handshake(e, 1000, t_opts_sack, sizeof(t_opts_sack));
	uint32_t stream = 0;

	assert_idle(e, c);
	/* data both ways, out of order too; once acknowledged and consumed nothing stays */
	t_client(e, TF_ACK, 1001, 1, 500, 65535, NULL, 0);
	t_client(e, TF_ACK, 1, 1, 1000, 65535, NULL, 0);
	cr_assert_eq(e->app.rx_len, 1500);
	t_app_send(e, 5000, &stream);
	cr_assert_gt(e->segs_live, 0, "queued until acknowledged");
	t_drain(e);
	t_client(e, TF_ACK, 1501, 5001, 0, 65535, NULL, 0);
	t_advance(e, 100000);
	t_drain(e);
	assert_idle(e, c);
	t_fini(e);

	/* an active open too */
	e = setup(NULL);
	{
		uint32_t ts;
		struct t_out o;
		uint8_t o12[12];

		c = open_full(e, &ts);
		assert_idle(e, c);
		t_app_send(e, 3000, NULL);
		o = t_pop_out(e);
		t_drain(e);
		t_opt_ts(o12, ts + 1, o.tsval);
		t_client(e, TF_ACK | TF_PSH, 1, 3001, 200, 512, o12, sizeof(o12));
		t_advance(e, 100000);
		t_drain(e);
		assert_idle(e, c);
	}
	t_fini(e);
}
