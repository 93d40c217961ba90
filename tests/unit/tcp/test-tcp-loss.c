/**
 * @file
 * Loss recovery of the sender: fast retransmit on the third duplicate ACK (not the second),
 * NewReno partial and full ACKs (RFC 6582), SACK recovery with the scoreboard retransmitting
 * only what is missing (RFC 6675), congestion window and ssthresh (RFC 5681), limited
 * transmit (RFC 3042), Karn's rule with fast retransmissions, and the counters.
 *
 * Ten segments of 1460 bytes go out in the initial window (RFC 6928: 14600 bytes); segment k
 * starts at 1 + 1460 k relative to our ISS. The client loses segments 1 and 4.
 */
#include <criterion/criterion.h>

#include "tcp-test.h"

#define MSS 1460u
#define SEG(k) (1 + MSS * (k))

/* Open with <opts> on the SYN; the peer's window: 65535 << 7. */
static struct sl_tcp_conn *
open_conn(struct tenv *e, const uint8_t *opts, unsigned int optlen)
{
	struct sl_tcp_conn *c = t_handshake(e, 5000, opts, optlen);

	cr_assert_eq(c->cwnd, 14600, "RFC 6928 initial window");
	cr_assert_eq(c->ssthresh, 1u << 31, "RFC 5681 3.1: arbitrarily high");
	return c;
}

/* The client ACKs <ack_rel>, optionally with SACK blocks [l, r) relative to our ISS. */
static void
ack_sack(struct tenv *e, uint32_t ack_rel, unsigned int n, const uint32_t *l, const uint32_t *r)
{
	uint8_t opts[40];
	uint32_t al[4], ar[4];
	unsigned int i, len = 0;

	for (i = 0; i < n; i++) {
		al[i] = e->srv_iss + l[i];
		ar[i] = e->srv_iss + r[i];
	}
	if (n != 0) {
		len = t_opt_sack(opts, n, al, ar);
		while (len % 4 != 0)
			opts[len++] = 1;
	}
	t_client(e, TF_ACK, 1, ack_rel, 0, 65535, n != 0 ? opts : NULL, len);
}

static void
send_ten(struct tenv *e)
{
	unsigned int k;

	t_app_send(e, 10 * MSS, NULL);
	for (k = 0; k < 10; k++)
		t_expect(e, k < 9 ? TF_ACK : (TF_ACK | TF_PSH), SEG(k), MSS);
	cr_assert_eq(e->n_cap, 0, "the initial window is ten segments");
}

Test(tcp_loss, fast_retransmit_on_the_third_dupack_not_the_second)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = open_conn(e, t_opts_mss1460_ws7, 8);

	send_ten(e);
	ack_sack(e, SEG(1), 0, NULL, NULL); /* segment 0 arrived */
	cr_assert_eq(c->cwnd, 14600 + MSS, "slow start: + acked");
	ack_sack(e, SEG(1), 0, NULL, NULL); /* 2 */
	ack_sack(e, SEG(1), 0, NULL, NULL); /* 3 */
	cr_assert_eq(e->n_cap, 0, "two duplicate ACKs: nothing yet");
	cr_assert_eq(c->dupacks, 2);
	cr_assert_eq(t_stat(e, "fast_retransmits"), 0);
	ack_sack(e, SEG(1), 0, NULL, NULL); /* 5 */
	t_expect(e, TF_ACK, SEG(1), MSS);
	cr_assert_eq(e->n_cap, 0);
	cr_assert_eq(t_stat(e, "fast_retransmits"), 1);
	cr_assert_eq(t_stat(e, "dup_acks_in"), 3);
	cr_assert_eq(t_stat(e, "retransmits"), 1);
	cr_assert_eq(t_stat(e, "rto_timeouts"), 0);
	/* RFC 5681 eq. (4): ssthresh = FlightSize / 2 = 9 * 1460 / 2; RFC 6582: cwnd = ssthresh
	 * + 3 SMSS */
	cr_assert_eq(c->ssthresh, 9 * MSS / 2);
	cr_assert_eq(c->cwnd, 9 * MSS / 2 + 3 * MSS);
	t_fini(e);
}

Test(tcp_loss, window_change_is_no_dupack)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = open_conn(e, t_opts_mss1460_ws7, 8);

	send_ten(e);
	ack_sack(e, SEG(1), 0, NULL, NULL);
	t_client(e, TF_ACK, 1, SEG(1), 0, 60000, NULL, 0);
	t_client(e, TF_ACK, 1, SEG(1), 0, 60000, NULL, 0);
	t_client(e, TF_ACK, 1, SEG(1), 0, 50000, NULL, 0);
	cr_assert_eq(c->dupacks, 1, "RFC 5681 2 (e): only the unchanged window counts");
	/* data on it: no duplicate either */
	t_client(e, TF_ACK, 1, SEG(1), 10, 50000, NULL, 0);
	cr_assert_eq(c->dupacks, 1);
	cr_assert_eq(t_stat(e, "fast_retransmits"), 0);
	t_drain(e);
	t_fini(e);
}

/*
 * NewReno: segments 1 and 4 lost. Duplicates for 2, 3 (the third one: fast retransmit of
 * 1), 5..9 (inflating cwnd); the retransmission of 1 brings a partial ACK up to 4: it is
 * retransmitted at once and recovery goes on; the ACK of everything ends it.
 */
Test(tcp_loss, newreno_partial_ack_then_full_ack)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = open_conn(e, t_opts_mss1460_ws7, 8);
	uint32_t ssthresh = 9 * MSS / 2, cwnd;
	unsigned int k;

	send_ten(e);
	ack_sack(e, SEG(1), 0, NULL, NULL);
	for (k = 0; k < 3; k++)
		ack_sack(e, SEG(1), 0, NULL, NULL); /* 2, 3, 5 */
	t_expect(e, TF_ACK, SEG(1), MSS);
	for (k = 0; k < 4; k++)
		ack_sack(e, SEG(1), 0, NULL, NULL); /* 6 .. 9 */
	cr_assert_eq(c->cwnd, ssthresh + 7 * MSS, "RFC 6582 3.2 step 4: +SMSS per duplicate");
	cr_assert_eq(e->n_cap, 0, "no new data queued: nothing to send");
	cr_assert(c->flags & 0x0200, "in recovery");
	/* partial ACK: 1, 2, 3 now acknowledged; 4 goes again at once */
	cwnd = c->cwnd;
	ack_sack(e, SEG(4), 0, NULL, NULL);
	t_expect(e, TF_ACK, SEG(4), MSS);
	cr_assert_eq(e->n_cap, 0);
	cr_assert(c->flags & 0x0200, "still in recovery after a partial ACK");
	cr_assert_eq(c->cwnd, cwnd - 3 * MSS + MSS, "deflated by the ACKed, plus one SMSS");
	cr_assert_eq(t_stat(e, "fast_retransmits"), 2);
	/* full ACK (all of `recover`): recovery ends; cwnd = min (ssthresh, FlightSize + SMSS) */
	ack_sack(e, SEG(10), 0, NULL, NULL);
	cr_assert_not(c->flags & 0x0200, "recovery over");
	cr_assert_eq(c->cwnd, 2 * MSS, "FlightSize 0: max (0, SMSS) + SMSS");
	cr_assert_eq(c->ssthresh, ssthresh);
	cr_assert_eq(t_stat(e, "retransmits"), 2);
	cr_assert_eq(t_stat(e, "rto_timeouts"), 0);
	cr_assert_eq(e->n_cap, 0);
	t_fini(e);
}

Test(tcp_loss, newreno_inflation_sends_new_data)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = open_conn(e, t_opts_mss1460_ws7, 8);
	unsigned int k;

	send_ten(e);
	t_app_send(e, 10 * MSS, NULL); /* waits: cwnd is full */
	cr_assert_eq(e->n_cap, 0);
	/* segment 0 lost: the first two duplicates send new data (limited transmit), the
	 * third retransmits 0 */
	ack_sack(e, 1, 0, NULL, NULL);
	t_expect(e, TF_ACK, SEG(10), MSS);
	ack_sack(e, 1, 0, NULL, NULL);
	t_expect(e, TF_ACK, SEG(11), MSS);
	ack_sack(e, 1, 0, NULL, NULL);
	t_expect(e, TF_ACK, SEG(0), MSS);
	cr_assert_eq(c->cwnd, 6 * MSS + 3 * MSS, "ssthresh 12 MSS / 2, + 3");
	/* flight is 12 MSS: new data once the inflated cwnd exceeds it, then one segment per
	 * duplicate */
	for (k = 0; k < 3; k++)
		ack_sack(e, 1, 0, NULL, NULL);
	cr_assert_eq(c->cwnd, 12 * MSS);
	cr_assert_eq(e->n_cap, 0);
	for (k = 0; k < 3; k++) {
		ack_sack(e, 1, 0, NULL, NULL);
		t_expect(e, TF_ACK, SEG(12 + k), MSS);
	}
	cr_assert_eq(e->n_cap, 0);
	t_fini(e);
}

Test(tcp_loss, no_second_fast_retransmit_below_recover)
{
	struct tenv *e = t_new(NULL);
	unsigned int k;

	open_conn(e, t_opts_mss1460_ws7, 8);
	send_ten(e);
	/* a timeout first: recover = everything sent */
	t_advance(e, 200000);
	t_expect(e, TF_ACK, SEG(0), MSS);
	cr_assert_eq(t_stat(e, "rto_timeouts"), 1);
	/* the receiver had 1..9 and gets 0 again: it ACKs all; then old duplicates */
	for (k = 0; k < 5; k++)
		ack_sack(e, 1, 0, NULL, NULL);
	cr_assert_eq(e->n_cap, 0, "RFC 6582 3.2 step 2: not before SND.UNA passes recover");
	cr_assert_eq(t_stat(e, "fast_retransmits"), 0);
	ack_sack(e, SEG(10), 0, NULL, NULL);
	t_fini(e);
}

Test(tcp_loss, limited_transmit)
{
	struct tenv *e = t_new(NULL);

	open_conn(e, t_opts_mss1460_ws7, 8);
	send_ten(e);
	t_app_send(e, 5 * MSS, NULL);
	cr_assert_eq(e->n_cap, 0);
	/* RFC 3042: the first and second duplicate ACK each send one new segment */
	ack_sack(e, 1, 0, NULL, NULL);
	t_expect(e, TF_ACK, SEG(10), MSS);
	ack_sack(e, 1, 0, NULL, NULL);
	t_expect(e, TF_ACK, SEG(11), MSS);
	/* the third: fast retransmit, no more new data (cwnd = ssthresh + 3 < flight) */
	ack_sack(e, 1, 0, NULL, NULL);
	t_expect(e, TF_ACK, SEG(0), MSS);
	cr_assert_eq(e->n_cap, 0);
	t_fini(e);
}

/* Karn's rule without timestamps: the timed segment retransmitted fast gives no sample. */
Test(tcp_loss, karn_fast_retransmission_not_timed)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = open_conn(e, t_opts_mss1460_ws7, 8);
	uint32_t srtt, rto;
	unsigned int k;

	srtt = c->srtt_us;
	rto = c->rto_us;
	send_ten(e);
	cr_assert(c->flags & 0x20, "segment 0 timed");
	for (k = 0; k < 3; k++)
		ack_sack(e, 1, 0, NULL, NULL);
	t_expect(e, TF_ACK, SEG(0), MSS);
	cr_assert_not(c->flags & 0x20, "no longer timed");
	t_advance(e, 100000);
	ack_sack(e, SEG(10), 0, NULL, NULL);
	cr_assert_eq(c->srtt_us, srtt, "no sample from a retransmitted segment");
	cr_assert_eq(c->rto_us, rto);
	t_fini(e);
}

/*
 * SACK (RFC 2018, RFC 6675): the scoreboard from the client's blocks; recovery on the third
 * duplicate; then only the holes that IsLost() go again, each once: segments 1 and 4.
 */
Test(tcp_loss, sack_scoreboard_and_only_holes_retransmitted)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = open_conn(e, t_opts_sack, sizeof(t_opts_sack));
	uint32_t l[4], r[4];

	cr_assert(c->flags & 0x80, "SACK agreed");
	send_ten(e);
	ack_sack(e, SEG(1), 0, NULL, NULL);
	/* 2 arrives: one block, one duplicate */
	l[0] = SEG(2), r[0] = SEG(3);
	ack_sack(e, SEG(1), 1, l, r);
	cr_assert_eq(c->n_sack, 1);
	cr_assert_eq(c->sack[0].start.v, e->srv_iss + SEG(2));
	cr_assert_eq(c->sack[0].end.v, e->srv_iss + SEG(3));
	/* 3: the block grows; 2 * SMSS SACKed above 1 is not yet "lost" */
	r[0] = SEG(4);
	ack_sack(e, SEG(1), 1, l, r);
	cr_assert_eq(c->n_sack, 1);
	cr_assert_eq(c->sack[0].end.v, e->srv_iss + SEG(4));
	cr_assert_eq(e->n_cap, 0);
	cr_assert_eq(c->dupacks, 2);
	/* 5: a second block (most recent first); third duplicate: fast retransmit of 1 */
	l[0] = SEG(5), r[0] = SEG(6), l[1] = SEG(2), r[1] = SEG(4);
	ack_sack(e, SEG(1), 2, l, r);
	cr_assert_eq(c->n_sack, 2);
	cr_assert_eq(c->sack[0].start.v, e->srv_iss + SEG(2), "sorted");
	cr_assert_eq(c->sack[1].start.v, e->srv_iss + SEG(5));
	t_expect(e, TF_ACK, SEG(1), MSS);
	cr_assert_eq(e->n_cap, 0, "pipe (1 rexmit + 4 + 6..9) exceeds cwnd");
	cr_assert_eq(c->ssthresh, 9 * MSS / 2);
	cr_assert_eq(c->cwnd, c->ssthresh, "RFC 6675: cwnd = ssthresh, no inflation");
	/* 6: SACKed; 4 has 2 * SMSS above it: not lost yet */
	l[0] = SEG(5), r[0] = SEG(7);
	ack_sack(e, SEG(1), 2, l, r);
	cr_assert_eq(e->n_cap, 0);
	/* 7: 4 is lost (3 SMSS above); pipe = 1460 (rexmit of 1) + 2920 (8, 9) */
	r[0] = SEG(8);
	ack_sack(e, SEG(1), 2, l, r);
	t_expect(e, TF_ACK, SEG(4), MSS);
	cr_assert_eq(e->n_cap, 0);
	cr_assert_eq(t_stat(e, "sack_retransmits"), 1);
	/* 8, 9: nothing else is missing: nothing goes */
	r[0] = SEG(10);
	ack_sack(e, SEG(1), 2, l, r);
	cr_assert_eq(e->n_cap, 0, "SACKed data is never sent again");
	cr_assert_eq(c->n_sack, 2);
	/* the retransmission of 1 arrives: partial ACK up to 4, still in recovery */
	l[0] = SEG(5), r[0] = SEG(10);
	ack_sack(e, SEG(4), 1, l, r);
	cr_assert_eq(c->n_sack, 1, "the scoreboard follows SND.UNA");
	cr_assert(c->flags & 0x0200);
	cr_assert_eq(e->n_cap, 0, "4 went already (HighRxt)");
	/* 4 arrives: all acknowledged, recovery over */
	ack_sack(e, SEG(10), 0, NULL, NULL);
	cr_assert_not(c->flags & 0x0200);
	cr_assert_eq(c->n_sack, 0);
	cr_assert_eq(t_stat(e, "retransmits"), 2, "only 1 and 4");
	cr_assert_eq(t_stat(e, "fast_retransmits"), 1);
	cr_assert_eq(t_stat(e, "sack_retransmits"), 1);
	cr_assert_eq(t_stat(e, "rto_timeouts"), 0);
	t_fini(e);
}

Test(tcp_loss, sack_blocks_checked)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = open_conn(e, t_opts_sack, sizeof(t_opts_sack));
	uint32_t l[4], r[4];

	send_ten(e);
	/* reversed, beyond SND.NXT, below SND.UNA (D-SACK): not taken */
	l[0] = SEG(3), r[0] = SEG(2);
	l[1] = SEG(9), r[1] = SEG(11);
	l[2] = 0, r[2] = 1;
	ack_sack(e, 1, 3, l, r);
	cr_assert_eq(c->n_sack, 0);
	cr_assert_eq(c->dupacks, 0, "nothing new SACKed: no duplicate");
	/* five ranges: the highest goes */
	l[0] = SEG(1), r[0] = SEG(2);
	l[1] = SEG(3), r[1] = SEG(4);
	l[2] = SEG(5), r[2] = SEG(6);
	l[3] = SEG(7), r[3] = SEG(8);
	ack_sack(e, 1, 4, l, r);
	cr_assert_eq(c->n_sack, 4);
	l[0] = SEG(9), r[0] = SEG(10);
	ack_sack(e, 1, 1, l, r);
	cr_assert_eq(c->n_sack, 4);
	cr_assert_eq(c->sack[3].start.v, e->srv_iss + SEG(7));
	/* a block joining two ranges merges them */
	l[0] = SEG(2), r[0] = SEG(3);
	ack_sack(e, 1, 1, l, r);
	cr_assert_eq(c->n_sack, 3);
	cr_assert_eq(c->sack[0].start.v, e->srv_iss + SEG(1));
	cr_assert_eq(c->sack[0].end.v, e->srv_iss + SEG(4));
	t_drain(e);
	t_fini(e);
}

Test(tcp_loss, timeout_drops_the_scoreboard_and_recovery)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = open_conn(e, t_opts_sack, sizeof(t_opts_sack));
	uint32_t l[1] = {SEG(2)}, r[1] = {SEG(5)};
	unsigned int k;

	send_ten(e);
	for (k = 0; k < 3; k++) {
		r[0] = SEG(3 + k);
		ack_sack(e, SEG(1), 1, l, r);
	}
	t_expect(e, TF_ACK, SEG(1), MSS);
	cr_assert(c->flags & 0x0200);
	t_advance(e, 200000);
	t_expect(e, TF_ACK, SEG(1), MSS);
	cr_assert_not(c->flags & 0x0200, "RFC 6675 5.1: recovery ends");
	cr_assert_eq(c->n_sack, 0, "RFC 2018 8: SACK information dropped");
	cr_assert_eq(c->cwnd, MSS);
	cr_assert_eq(c->ssthresh, 9 * MSS / 2, "held at the first timeout's value");
	cr_assert_eq(t_stat(e, "rto_timeouts"), 1);
	t_fini(e);
}
