/**
 * @file
 * Timestamps (RFC 7323): negotiated only when the SYN offers them (exact SYN-ACK option
 * bytes, with and without SACK and window scale), on every segment after (NOP NOP TS),
 * TSecr echoing TS.Recent with its update rule (4.3), RTT samples from TSecr (4.1, also for
 * retransmitted segments), minimal PAWS (5.3), and the MSS reduced by the option (RFC 6691).
 */
#include <criterion/criterion.h>

#include "tcp-test.h"

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* SYN with <opts>; @return the SYN-ACK (its bytes valid until the next pop). */
static struct t_out
syn(struct tenv *e, const uint8_t *opts, unsigned int optlen)
{
	struct t_seg_spec s = {
		.flags = TF_SYN, .seq = 1000, .wnd = 65535, .opts = opts, .optlen = optlen};
	struct t_out o;

	e->cli_isn = 1000;
	t_inject(e, &s);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_SYN | TF_ACK);
	e->srv_iss = o.seq;
	e->iss_known = true;
	return o;
}

/* A client segment with timestamps <val>, <ecr>. */
static void
seg_ts(struct tenv *e, uint8_t flags, uint32_t seq_rel, uint32_t ack_rel, uint32_t len,
       uint32_t val, uint32_t ecr)
{
	uint8_t ts[12];

	t_opt_ts(ts, val, ecr);
	t_client(e, flags, seq_rel, ack_rel, len, 65535, ts, sizeof(ts));
}

/* Handshake with t_opts_linux (TSval 1000) and the ACK echoing the SYN-ACK's TSval. */
static struct sl_tcp_conn *
open_ts(struct tenv *e, uint32_t *our_ts)
{
	struct t_out o = syn(e, t_opts_linux, sizeof(t_opts_linux));

	*our_ts = o.tsval;
	seg_ts(e, TF_ACK, 1, 1, 0, 1001, o.tsval);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	return t_lookup(e, &e->t);
}

Test(tcp_ts, negotiated_exact_syn_ack_options)
{
	struct tenv *e = t_new(NULL);
	struct t_out o = syn(e, t_opts_linux, sizeof(t_opts_linux));
	static const uint8_t head[8] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10};
	static const uint8_t tail[8] = {0, 0, 0x03, 0xe8, 1, 3, 3, 7};

	/* MSS, SACK-permitted, TS (TSval ours, TSecr 1000), NOP, WS */
	cr_assert_eq(o.hlen, 40);
	cr_assert_eq(memcmp(o.opts, head, 8), 0);
	cr_assert_eq(memcmp(o.opts + 12, tail, 8), 0);
	cr_assert_eq(o.tsval, rd32(o.opts + 8));
	cr_assert(o.sack_ok);
	cr_assert_eq(o.tsecr, 1000);
	cr_assert_eq(o.ws, 7);
	t_fini(e);
}

Test(tcp_ts, syn_ack_layouts)
{
	struct sl_tcp_params p = t_params();
	/* TS without SACK-permitted and without WS in the SYN */
	static const uint8_t ts_only[12] = {2, 4, 0x05, 0xb4, 1, 1, 8, 10, 0, 0, 0, 9};
	static const uint8_t ts_only_opts[12] = {2, 4, 0x05, 0xb4, 1, 1, 8, 10, 0, 0, 0, 0};
	static const uint8_t sack_ws[12] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7};
	static const uint8_t mss_ws[8] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7};
	struct tenv *e;
	struct t_out o;
	uint8_t syn_ts[16];

	memcpy(syn_ts, ts_only_opts, 12);
	syn_ts[12] = 0, syn_ts[13] = 0, syn_ts[14] = 0, syn_ts[15] = 0;
	/* SYN: MSS, NOP NOP TS(val 9, ecr 0) */
	e = t_new(NULL);
	memcpy(syn_ts + 8, (const uint8_t[]){0, 0, 0, 9}, 4);
	o = syn(e, syn_ts, 16);
	cr_assert_eq(o.hlen, 36, "MSS, NOP NOP TS: 16 bytes");
	cr_assert_eq(memcmp(o.opts, ts_only, 8), 0);
	cr_assert_eq(o.tsecr, 9);
	cr_assert_eq(o.ws, -1);
	cr_assert_not(o.sack_ok);
	t_fini(e);
	/* no_timestamps: SACK-permitted and WS only */
	p.no_timestamps = true;
	e = t_new(&p);
	o = syn(e, t_opts_linux, sizeof(t_opts_linux));
	cr_assert_eq(o.hlen, 32);
	cr_assert_eq(memcmp(o.opts, sack_ws, 12), 0);
	cr_assert_eq(t_lookup(e, &e->t)->mss, 1460);
	t_fini(e);
	/* no_sack: TS and WS */
	p = t_params();
	p.no_sack = true;
	e = t_new(&p);
	o = syn(e, t_opts_linux, sizeof(t_opts_linux));
	cr_assert_eq(o.hlen, 40);
	cr_assert_eq(memcmp(o.opts, ts_only, 8), 0);
	cr_assert_eq(memcmp(o.opts + 16, mss_ws + 4, 4), 0);
	cr_assert_not(o.sack_ok);
	cr_assert(o.ts);
	t_fini(e);
	/* both off */
	p.no_timestamps = true;
	e = t_new(&p);
	o = syn(e, t_opts_linux, sizeof(t_opts_linux));
	cr_assert_eq(o.hlen, 28);
	cr_assert_eq(memcmp(o.opts, mss_ws, 8), 0);
	t_fini(e);
}

Test(tcp_ts, every_segment_carries_them_and_the_mss_shrinks)
{
	struct tenv *e = t_new(NULL);
	uint32_t ts0, i;
	struct sl_tcp_conn *c = open_ts(e, &ts0);
	struct t_out o;

	cr_assert_eq(c->mss, 1460 - 12, "RFC 6691: the option comes off the payload");
	t_app_send(e, 3000, NULL);
	for (i = 0; i < 3; i++) {
		o = t_expect(e, i < 2 ? TF_ACK : TF_ACK | TF_PSH, 1 + 1448 * i, i < 2 ? 1448 : 104);
		cr_assert_eq(o.hlen, 32);
		cr_assert_eq(rd32(o.opts), 0x0101080a, "NOP NOP TS");
		cr_assert_eq(o.tsval, ts0, "no time went by");
		cr_assert_eq(o.tsecr, 1001, "TS.Recent: the handshake ACK's TSval");
	}
	t_advance(e, 5000);
	seg_ts(e, TF_ACK, 1, 3001, 0, 1002, ts0);
	t_app_send(e, 10, NULL);
	o = t_expect(e, TF_ACK | TF_PSH, 3001, 10);
	cr_assert_eq(o.tsval, ts0 + 5, "a 1 ms clock");
	cr_assert_eq(o.tsecr, 1002);
	/* a segment without the option is taken all the same (as Linux does) */
	t_client(e, TF_ACK, 1, 3011, 0, 65535, NULL, 0);
	cr_assert_eq(c->snd_una.v, e->srv_iss + 3011);
	t_fini(e);
}

Test(tcp_ts, rtt_from_tsecr_also_for_retransmissions)
{
	struct tenv *e = t_new(NULL);
	uint32_t ts0;
	struct sl_tcp_conn *c = open_ts(e, &ts0);
	struct t_out o;

	/* the handshake: TSecr = our TSval, 0 ms: counted as 1 ms */
	cr_assert_eq(c->srtt_us, 1000);
	cr_assert_eq(c->rttvar_us, 500);
	t_app_send(e, 100, NULL);
	o = t_pop_out(e);
	t_advance(e, 50000);
	seg_ts(e, TF_ACK, 1, 101, 0, 1001, o.tsval);
	cr_assert_eq(c->srtt_us, (7 * 1000 + 50000) / 8);
	cr_assert_eq(c->rttvar_us, (3 * 500 + 49000) / 4);
	/* a retransmission: its own TSval is echoed, so it is a valid sample (no Karn) */
	t_app_send(e, 100, NULL);
	t_drain(e);
	t_advance(e, 200000);
	o = t_expect(e, TF_ACK | TF_PSH, 101, 100);
	cr_assert_eq(c->rto_us, 400000, "backed off");
	cr_assert_eq(o.tsval, ts0 + 250);
	t_advance(e, 30000);
	seg_ts(e, TF_ACK, 1, 201, 0, 1001, o.tsval);
	cr_assert_eq(c->srtt_us, (7 * 7125 + 30000) / 8);
	cr_assert_eq(c->rto_us, 200000, "a sample ends the back-off");
	t_fini(e);
}

Test(tcp_ts, ts_recent_update_rule)
{
	struct tenv *e = t_new(NULL);
	uint32_t ts0;
	struct sl_tcp_conn *c = open_ts(e, &ts0);
	struct t_out o;

	e->app.hold = true; /* no window update moves Last.ACK.sent */
	/* SEG.SEQ <= Last.ACK.sent: taken */
	seg_ts(e, TF_ACK, 1, 1, 100, 3000, ts0);
	cr_assert_eq(c->ts_recent, 3000);
	/* the ACK of it is delayed; the next segment is beyond Last.ACK.sent: TS.Recent stays,
	 * so our ACK echoes the earlier one (RFC 7323 4.3: the delay counts in the RTT) */
	seg_ts(e, TF_ACK, 101, 1, 100, 3005, ts0);
	cr_assert_eq(c->ts_recent, 3000);
	cr_assert_eq(e->n_cap, 0);
	t_advance(e, 40000);
	o = t_pop_out(e); /* the delayed ACK */
	cr_assert_eq(o.ack, e->cli_isn + 201);
	cr_assert_eq(o.tsecr, 3000);
	/* now at Last.ACK.sent: taken */
	seg_ts(e, TF_ACK, 201, 1, 100, 3010, ts0);
	cr_assert_eq(c->ts_recent, 3010);
	t_advance(e, 40000);
	t_drain(e);
	t_fini(e);
}

Test(tcp_ts, paws_drops_old_timestamps)
{
	struct tenv *e = t_new(NULL);
	uint32_t ts0;
	struct t_out o;

	open_ts(e, &ts0);
	seg_ts(e, TF_ACK, 1, 1, 100, 5000, ts0);
	cr_assert_eq(e->app.rx_len, 100);
	/* an old duplicate that wrapped into the window: TSval older than TS.Recent */
	seg_ts(e, TF_ACK, 101, 1, 100, 4999, ts0);
	cr_assert_eq(e->app.rx_len, 100, "not taken");
	cr_assert_eq(t_stat(e, "drop_out_of_window"), 1);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_ACK, "ACKed (RFC 7323 5.3 R1)");
	cr_assert_eq(o.ack, e->cli_isn + 101);
	cr_assert_eq(o.tsecr, 5000);
	/* across the 2^31 half: a newer value wrapped around is fine */
	seg_ts(e, TF_ACK, 101, 1, 100, 5000 + 0x7fffffffu, ts0);
	cr_assert_eq(e->app.rx_len, 200);
	/* a RST is not subject to PAWS */
	seg_ts(e, TF_RST, 201, 0, 0, 1, 0);
	cr_assert_eq(e->app.reset, 1);
	t_drain(e);
	t_fini(e);
}

Test(tcp_ts, none_without_the_option_on_the_syn)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = t_handshake(e, 1000, t_opts_sack, sizeof(t_opts_sack));
	struct t_out o;

	cr_assert_not(c->flags & 0x100);
	cr_assert_eq(c->mss, 1460);
	/* a TS option on a later segment does not turn them on */
	seg_ts(e, TF_ACK, 1, 1, 10, 77, 0);
	t_app_send(e, 10, NULL);
	o = t_pop_out(e);
	cr_assert_not(o.ts);
	cr_assert_eq(o.hlen, 20);
	t_fini(e);
}
