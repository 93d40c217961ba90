/**
 * @file
 * Segments in: header and checksum checks, options, and RFC 9293 3.10.7 "SEGMENT ARRIVES"
 * for no connection (CLOSED), a listener (LISTEN; SYN cookies in tcp_conn.c), an active
 * open (SYN-SENT) and a connection (SYN-RECEIVED and the synchronized states), in the RFC's
 * order of checks: sequence number, RST, SYN, ACK, text, FIN.
 *
 * In-order payload is handed to the application as the received buffer itself, trimmed in
 * place (seg->data and seg->len moved onto the new bytes). Out-of-order segments wait in a
 * queue (tcp_ooo.c) and follow in the same chain once the gap is filled; the ACK side of
 * recovery is in tcp_cc.c.
 */
#include "tcp-priv.h"

/*
 * Parse options (RFC 9293 3.2; RFC 7323 2.2, 3.2; RFC 2018 2, 3). EOL ends the list; NOP is
 * one byte; every other kind has a length byte covering kind and length, which must be >= 2
 * and stay inside the header, or the segment is malformed. A known option of the wrong
 * length is skipped (as Linux does), unknown ones are ignored. MSS, window scale and
 * SACK-permitted matter only on a SYN (the caller looks at them there only).
 */
static int
parse_opts(const uint8_t *o, unsigned int n, struct sl_tcp_rx *rx)
{
	unsigned int i = 0, len;

	while (i < n) {
		switch (o[i]) {
		case SL_TCP_OPT_EOL:
			return 0;
		case SL_TCP_OPT_NOP:
			i++;
			continue;
		default:
			break;
		}
		if (i + 1 >= n)
			return -1;
		len = o[i + 1];
		if (len < 2 || i + len > n)
			return -1;
		switch (o[i]) {
		case SL_TCP_OPT_MSS:
			if (len == SL_TCP_OPT_MSS_LEN)
				rx->mss = sl_rd_be16(o + i + 2);
			break;
		case SL_TCP_OPT_WS:
			/* RFC 7323 2.3: a shift over 14 is used as 14 */
			if (len == SL_TCP_OPT_WS_LEN)
				rx->ws = (int8_t)(o[i + 2] > SL_TCP_WS_MAX ? SL_TCP_WS_MAX
									   : o[i + 2]);
			break;
		case SL_TCP_OPT_SACK_OK:
			if (len == SL_TCP_OPT_SACK_OK_LEN)
				rx->opts |= SL_TCP_RX_SACK_OK;
			break;
		case SL_TCP_OPT_SACK:
			/* RFC 2018 3: 2 + 8 n bytes; 40 bytes of options hold at most 4 blocks */
			if ((len - 2) % 8 == 0 && len > 2) {
				rx->sack = o + i + 2;
				rx->n_sack = (uint8_t)((len - 2) / 8);
			}
			break;
		case SL_TCP_OPT_TS:
			if (len == SL_TCP_OPT_TS_LEN) {
				rx->opts |= SL_TCP_RX_TS;
				rx->tsval = sl_rd_be32(o + i + 2);
				rx->tsecr = sl_rd_be32(o + i + 6);
			}
			break;
		default:
			break;
		}
		i += len;
	}
	return 0;
}

/*
 * Check the segment in <seg> and fill <rx>; on success seg->data/len are moved onto the
 * payload (the header stays in the buffer: rx->sack points into it). The usual options of
 * a connection with timestamps (NOP NOP TS, RFC 7323 appendix A) are read without the
 * general parser. SYN with FIN or RST is malformed. @return 0, or -1 with the drop counted.
 */
static int
parse(struct sl_tcp_stack *st, const struct sl_tcp_tuple *t, struct sl_tcp_seg *seg,
      unsigned int flags, struct sl_tcp_rx *rx)
{
	const uint8_t *h = seg->data;
	unsigned int hlen;

	if (SL_UNLIKELY(seg->len < SL_TCP_HLEN || seg->len > 0xffff)) {
		st->stats.drop_bad_hdr++;
		return -1;
	}
	/* RFC 9293 3.1, MUST-2/3: verify the checksum over the pseudo-header and segment */
	if (!(flags & SL_TCP_IN_CSUM_OK) && !st->p.rx_csum_offload &&
	    SL_UNLIKELY(sl_net_csum(h, seg->len, sl_tcp__phdr_sum(t->raddr, t->laddr, seg->len)) !=
			0)) {
		st->stats.drop_bad_csum++;
		return -1;
	}
	hlen = (unsigned int)(h[SL_TCP_OFF] >> 4) * 4;
	if (SL_UNLIKELY(hlen < SL_TCP_HLEN || hlen > seg->len)) {
		st->stats.drop_bad_hdr++;
		return -1;
	}
	rx->seq.v = sl_rd_be32(h + SL_TCP_SEQ);
	rx->ack.v = sl_rd_be32(h + SL_TCP_ACK);
	rx->flags = h[SL_TCP_FLAGS] & 0x3f;
	rx->wnd = sl_rd_be16(h + SL_TCP_WIN);
	rx->ws = -1;
	rx->mss = 0;
	rx->opts = 0;
	rx->n_sack = 0;
	if (SL_UNLIKELY((rx->flags & SL_TCP_SYN) && (rx->flags & (SL_TCP_FIN | SL_TCP_RST)))) {
		st->stats.drop_bad_hdr++;
		return -1;
	}
	if (hlen != SL_TCP_HLEN) {
		if (hlen == SL_TCP_HLEN + SL_TCP_OPT_TS_ALIGNED &&
		    sl_rd_be32(h + SL_TCP_HLEN) == SL_TCP_TS_WORD) {
			rx->opts = SL_TCP_RX_TS;
			rx->tsval = sl_rd_be32(h + SL_TCP_HLEN + 4);
			rx->tsecr = sl_rd_be32(h + SL_TCP_HLEN + 8);
		} else if (parse_opts(h + SL_TCP_HLEN, hlen - SL_TCP_HLEN, rx) < 0) {
			st->stats.drop_bad_hdr++;
			return -1;
		}
	}
	seg->data += hlen;
	seg->len -= hlen;
	rx->len = seg->len;
	return 0;
}

/*
 * The peer's SYN (or SYN-ACK) <rx> synchronizes c's receive side: IRS, RCV.NXT (RFC 9293
 * 3.10.7.2 and 3.10.7.3: "RCV.NXT <- SEG.SEQ+1, IRS <- SEG.SEQ"), and what both sides offered
 * of the options: window scale only when both sent it (RFC 7323 2.2/2.3), SACK when the SYN
 * offered it (RFC 2018 2), timestamps when it had them (RFC 7323 3.2: TS.Recent from it),
 * and the send MSS from its option. We offer all the parameters allow (a passive open
 * answers with what it agreed; an active one offered it all in its SYN), so the same rule
 * serves both.
 */
static void
syn_options(struct sl_tcp_conn *c, const struct sl_tcp_rx *rx)
{
	const struct sl_tcp_params *p = &c->stack->p;

	c->irs = rx->seq;
	c->rcv_nxt = sl_seq_add(rx->seq, 1);
	c->rcv_acked = rx->seq;
	if (rx->ws >= 0) {
		c->snd_wscale = (uint8_t)rx->ws;
		c->rcv_wscale = p->wscale;
	} else {
		c->snd_wscale = c->rcv_wscale = 0;
	}
	SL_TCP_CLR(c, SL_TCP_F_SACK | SL_TCP_F_TS);
	if ((rx->opts & SL_TCP_RX_SACK_OK) && !p->no_sack)
		c->flags |= SL_TCP_F_SACK;
	if ((rx->opts & SL_TCP_RX_TS) && !p->no_timestamps) {
		c->flags |= SL_TCP_F_TS;
		c->ts_recent = rx->tsval;
	}
	c->mss = sl_tcp__eff_mss(c->stack, rx->mss, (c->flags & SL_TCP_F_TS) != 0);
	c->snd_wnd = rx->wnd; /* RFC 7323 2.2: the window of a SYN is never scaled */
	c->max_snd_wnd = rx->wnd;
	c->snd_wl1 = rx->seq;
}

/*
 * A SYN for listener <l>: RFC 9293 3.10.7.2 "third, check for a SYN". Over the backlog the
 * answer is a SYN cookie (tcp_conn.c), or with no_syncookies nothing (the peer
 * retries); without connection memory or a table slot the SYN is dropped unanswered.
 * Otherwise a connection in SYN_RCVD enters the table and the SYN-ACK goes out with our MSS
 * and, if the SYN had one, our window scale. Data on the SYN is not kept: the SYN-ACK
 * acknowledges only the SYN, so the peer sends it again.
 * <iss_floor>: when reopening from TIME_WAIT, the new ISS must be above it (RFC 1122
 * 4.2.2.13 (1)); a cookie would not be, so that SYN is dropped over the backlog.
 */
static void
listen_syn(struct sl_tcp_stack *st, struct sl_tcp_listener *l, const struct sl_tcp_tuple *t,
	   const struct sl_tcp_rx *rx, const struct sl_tcp_seq *iss_floor)
{
	struct sl_tcp_conn *c;
	int err;

	if (l->pending >= l->backlog) {
		if (!st->p.no_syncookies && iss_floor == NULL)
			sl_tcp__cookie_synack(st, l, t, rx);
		else
			st->stats.drop_backlog++;
		return;
	}
	c = sl_tcp__conn_new(st, l, t, &err);
	if (c == NULL) {
		st->stats.drop_no_conn_mem++;
		return;
	}
	sl_tcp__set_state(c, SL_TCP_SYN_RCVD);
	l->pending++;
	syn_options(c, rx);
	c->rcv_adv = c->rcv_nxt;
	/* RFC 9293 3.10.7.2: "ISS should be selected" */
	c->iss = sl_tcp__iss(st, t);
	if (iss_floor != NULL && sl_seq_le(c->iss, *iss_floor))
		c->iss = sl_seq_add(*iss_floor, 1u << 17);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->snd_wl2 = c->iss;
	c->rto_us = st->p.rto_init_us; /* RFC 6298 2.1 */
	sl_tcp__xmit(c, c->iss, 0, SL_TCP_SYN);
}

/*
 * A segment that found no connection: RFC 9293 3.10.7.1 (CLOSED) when no listener has its
 * address, 3.10.7.2 (LISTEN) otherwise; a SYN to a listener of a stack that refuses new
 * connections (sl_tcp_refuse()) as 3.10.7.1. Never a RST for a RST.
 */
static void
input_noconn(struct sl_tcp_stack *st, const struct sl_tcp_tuple *t, const struct sl_tcp_rx *rx,
	     const struct sl_tcp_seq *iss_floor)
{
	struct sl_tcp_listener *l = sl_tcp__listener_find(st, t);
	struct sl_tcp_seq zero = {0};

	if (l != NULL && (rx->flags & (SL_TCP_SYN | SL_TCP_ACK_F | SL_TCP_RST)) == SL_TCP_SYN) {
		if (SL_UNLIKELY(st->refuse)) {
			/* sl_tcp_refuse(): as 3.10.7.1, a closed port */
			st->stats.syn_refused_draining++;
			sl_tcp__send_ctl(st, t, zero, sl_seq_add(rx->seq, sl_tcp__seg_len(rx)),
					 SL_TCP_RST | SL_TCP_ACK_F);
			return;
		}
		listen_syn(st, l, t, rx, iss_floor);
		return;
	}
	st->stats.drop_no_listener++;
	if (rx->flags & SL_TCP_RST)
		/* 3.10.7.1 "An incoming segment containing a RST is discarded"; 3.10.7.2 "An
		 * incoming RST segment could not be valid ... should be ignored" */
		return;
	if (rx->flags & SL_TCP_ACK_F)
		/* 3.10.7.1, 3.10.7.2: <SEQ=SEG.ACK><CTL=RST> */
		sl_tcp__send_ctl(st, t, rx->ack, zero, SL_TCP_RST);
	else if (l == NULL)
		/* 3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
		sl_tcp__send_ctl(st, t, zero, sl_seq_add(rx->seq, sl_tcp__seg_len(rx)),
				 SL_TCP_RST | SL_TCP_ACK_F);
	/* 3.10.7.2 fourth: any other segment to a listener is dropped */
}

/*
 * RFC 9293 3.10.7.4 first: the acceptability test of <rx> against RCV.NXT and RCV.WND
 * (what we advertised, rcv_adv - rcv_nxt):
 *
 *   SEG.LEN  RCV.WND  test
 *   0        0        SEG.SEQ = RCV.NXT
 *   0        >0       RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
 *   >0       0        not acceptable
 *   >0       >0       RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
 *                     or RCV.NXT =< SEG.SEQ+SEG.LEN-1 < RCV.NXT+RCV.WND
 */
static int
seq_acceptable(const struct sl_tcp_conn *c, const struct sl_tcp_rx *rx, uint32_t wnd,
	       uint32_t seg_len)
{
	uint32_t first = rx->seq.v - c->rcv_nxt.v;
	uint32_t last = rx->seq.v + seg_len - 1 - c->rcv_nxt.v;

	if (seg_len == 0)
		return wnd == 0 ? first == 0 : first < wnd;
	if (wnd == 0)
		return 0;
	return first < wnd || last < wnd;
}

static void
enter_time_wait(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->stack;

	sl_tcp__set_state(c, SL_TCP_TIME_WAIT);
	sl_tcp__timer_cancel(&c->rexmit_timer);
	sl_tcp__timer_arm(st, &c->wait_timer, st->p.time_wait_us);
}

/*
 * An RTT sample from an ACK of new data: with timestamps from the echoed TSecr (RFC 7323
 * 4.1: Karn's rule does not matter for it; a delta under a tick of our 1 ms clock counts as
 * 1 ms, as Linux does), else from the segment being timed (RFC 6298 3), which also covers a
 * peer whose timestamps a middlebox strips.
 */
static void
rtt_on_ack(struct sl_tcp_conn *c, const struct sl_tcp_rx *rx)
{
	int timed = (c->flags & SL_TCP_F_TIMING) && sl_seq_ge(rx->ack, c->rtt_seq);

	if ((c->flags & SL_TCP_F_TS) && (rx->opts & SL_TCP_RX_TS) && rx->tsecr != 0) {
		uint32_t ms = sl_tcp__ts_now(c) - rx->tsecr;

		if (ms < SL_TCP_TS_RTT_MAX_MS)
			sl_tcp__rtt_sample(c, sl_tcp__max32(ms, 1) * 1000);
	} else if (timed) {
		sl_tcp__rtt_sample(c, (uint32_t)c->stack->now_us - c->rtt_start_us);
	}
	if (timed)
		SL_TCP_CLR(c, SL_TCP_F_TIMING);
}

/*
 * SYN_RCVD or SYN_SENT -> ESTABLISHED on an acceptable ACK (RFC 9293 3.10.7.4 fifth,
 * 3.10.7.3 fourth): SND.UNA past our SYN, the window from this segment (scaled by <shift>:
 * 0 for a SYN-ACK), the handshake RTT as first sample unless the SYN or SYN-ACK was
 * retransmitted (then RFC 6298 5.7: an RTO of at least 3 s), the congestion state, and the
 * application is told (`connected`) or asked (`accepted`). @return 0, or -1 when c ended
 * (refused, or closed or aborted from the callback).
 */
static int
establish(struct sl_tcp_conn *c, const struct sl_tcp_rx *rx, unsigned int shift)
{
	struct sl_tcp_stack *st = c->stack;
	const struct sl_tcp_listener *l = c->listener;

	c->snd_una = rx->ack;
	if (sl_seq_lt(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	c->snd_wnd = (uint32_t)rx->wnd << shift;
	c->max_snd_wnd = sl_tcp__max32(c->max_snd_wnd, c->snd_wnd);
	c->snd_wl1 = rx->seq;
	c->snd_wl2 = rx->ack;
	sl_tcp__timer_cancel(&c->rexmit_timer);
	rtt_on_ack(c, rx);
	SL_TCP_CLR(c, SL_TCP_F_TIMING);
	/* RFC 6298 5.7: "If the timer expires awaiting the ACK of a SYN segment and the TCP
	 * implementation is using an RTO less than 3 seconds, the RTO MUST be re-initialized
	 * to 3 seconds when data transmission begins" */
	if (c->retries != 0 && st->p.rto_init_us < SL_TCP_RTO_SYN_US)
		c->rto_us = sl_tcp__min32(SL_TCP_RTO_SYN_US, st->p.rto_max_us);
	sl_tcp__conn_start(c);
	c->retries = 0;
	sl_tcp__set_state(c, SL_TCP_ESTABLISHED);
	if (c->flags & SL_TCP_F_ACTIVE) {
		/* the application holds c since sl_tcp_connect() (a close before ended it) */
		if (sl_tcp__attached(c))
			l->ops->connected(l->app, c);
		return c->state == SL_TCP_CLOSED ? -1 : 0;
	}
	c->flags |= SL_TCP_F_ACCEPTED;
	if (l->ops->accepted(l->app, c) != 0) {
		c->flags = (uint16_t)((c->flags & ~SL_TCP_F_ACCEPTED) | SL_TCP_F_APP_CLOSED);
		if (c->state != SL_TCP_CLOSED) {
			sl_tcp__send_rst(c);
			sl_tcp__end(c, &st->stats.conn_aborted, SL_TCP_END_SILENT);
		}
		return -1;
	}
	st->stats.accepted++;
	return c->state == SL_TCP_CLOSED ? -1 : 0;
}

/*
 * RFC 5681 2 "DUPLICATE ACKNOWLEDGMENT": "(a) the receiver of the ACK has outstanding data,
 * (b) the incoming acknowledgment carries no data, (c) the SYN and FIN bits are both off,
 * (d) the acknowledgment number is equal to the greatest acknowledgment received on the
 * given connection (TCP.UNA from [RFC793]) and (e) the advertised window in the incoming
 * acknowledgment equals the advertised window in the last incoming acknowledgment"; and not
 * an answer to a zero-window probe (a zero window). With SACK, RFC 6675 2: an ACK that SACKs
 * octets not SACKed before (<newly_sacked>), whatever else it does; a SACK peer's ACK without
 * blocks is judged as above.
 */
static int
is_dupack(const struct sl_tcp_conn *c, const struct sl_tcp_rx *rx, uint32_t acked,
	  uint32_t newly_sacked)
{
	if ((c->flags & SL_TCP_F_SACK) && rx->n_sack != 0)
		return newly_sacked != 0;
	return acked == 0 && rx->len == 0 && !(rx->flags & (SL_TCP_SYN | SL_TCP_FIN)) &&
	       c->snd_una.v != c->snd_max.v && rx->wnd != 0 &&
	       ((uint32_t)rx->wnd << c->snd_wscale) == c->snd_wnd;
}

/*
 * RFC 9293 3.10.7.4 fifth, for the synchronized states: SND.UNA, the send queue, the RTT
 * sample, the retransmission timer, the SACK scoreboard, duplicate ACKs and congestion
 * control, and the send window. @return -1 when the segment is to be dropped (ACK out of
 * range, or CLOSING without our FIN acknowledged), 1 when the connection ended (LAST_ACK),
 * else 0.
 */
static int
process_ack(struct sl_tcp_conn *c, const struct sl_tcp_rx *rx)
{
	struct sl_tcp_stack *st = c->stack;
	uint32_t acked = 0, newly_sacked = 0;
	int fin_acked = 0, dup;

	/* RFC 5961 5.2: "ACK value is acceptable only if it is in the range of ((SND.UNA -
	 * MAX.SND.WND) =< SEG.ACK =< SND.NXT). All incoming segments whose ACK value doesn't
	 * satisfy the above condition MUST be discarded and an ACK sent back." (RFC 9293:
	 * "If the ACK acks something not yet sent (SEG.ACK > SND.NXT), then send an ACK, drop
	 * the segment, and return.") The ACK is a challenge ACK, within the limit. */
	if (SL_UNLIKELY(sl_seq_gt(rx->ack, c->snd_max) ||
			sl_seq_diff(c->snd_una, rx->ack) > (int32_t)c->max_snd_wnd)) {
		st->stats.drop_bad_ack++;
		sl_tcp__challenge_ack(c);
		return -1;
	}
	if (sl_seq_ge(rx->ack, c->snd_una)) {
		acked = (uint32_t)sl_seq_diff(rx->ack, c->snd_una);
		if (acked != 0) {
			/* "If SND.UNA < SEG.ACK =< SND.NXT, then set SND.UNA <- SEG.ACK. Any
			 * segments on the retransmission queue that are thereby entirely
			 * acknowledged are removed." */
			uint32_t data = acked;

			if (data > c->sndq_len) {
				fin_acked = (c->flags & SL_TCP_F_SHUT_WR) != 0;
				data = c->sndq_len;
			}
			sl_tcp__sndq_drop(c, data);
			c->snd_una = rx->ack;
			if (sl_seq_lt(c->snd_nxt, c->snd_una))
				c->snd_nxt = c->snd_una;
			rtt_on_ack(c, rx);
			c->retries = 0;
			/* RFC 6298 5.2: all acknowledged: stop; 5.3: new data ACKed: restart
			 * (not after the first partial ACK of a NewReno recovery: tcp_cc.c) */
			if (c->snd_una.v == c->snd_max.v)
				sl_tcp__timer_cancel(&c->rexmit_timer);
			else if (!(c->flags & SL_TCP_F_PARTIAL))
				sl_tcp__rexmit_arm(c);
		} else if (c->snd_una.v == c->snd_max.v || rx->wnd == 0) {
			/* a keepalive or a zero-window probe was answered: the peer is there */
			c->retries = 0;
		}
		if (c->flags & SL_TCP_F_SACK)
			newly_sacked = sl_tcp__sack_update(c, rx);
		dup = is_dupack(c, rx, acked, newly_sacked);
		/* RFC 6675 5: a cumulative ACK resets DupAcks, a duplicate one counts */
		if (acked != 0)
			c->dupacks = 0;
		if (dup) {
			st->stats.dup_acks_in++;
			if (c->dupacks != UINT8_MAX)
				c->dupacks++;
		}
		/* "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated. If
		 * (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK))" */
		if (sl_seq_lt(c->snd_wl1, rx->seq) ||
		    (c->snd_wl1.v == rx->seq.v && sl_seq_le(c->snd_wl2, rx->ack))) {
			c->snd_wnd = (uint32_t)rx->wnd << c->snd_wscale;
			c->snd_wl1 = rx->seq;
			c->snd_wl2 = rx->ack;
			if (c->snd_wnd > c->max_snd_wnd)
				c->max_snd_wnd = c->snd_wnd;
			if (SL_UNLIKELY(c->flags & SL_TCP_F_PERSIST) && c->snd_wnd != 0) {
				/* the window opened: what the probes put beyond it was dropped
				 * by the peer; send again from SND.UNA, with a fresh RTO */
				SL_TCP_CLR(c, SL_TCP_F_PERSIST);
				c->snd_nxt = c->snd_una;
				c->retries = 0;
				sl_tcp__rto_reset(c);
				if (c->snd_una.v != c->snd_max.v)
					sl_tcp__rexmit_arm(c);
			}
		}
		if (acked != 0 || dup)
			sl_tcp__cc_ack(c, acked, dup);
	}
	/* else "If the ACK is a duplicate (SEG.ACK < SND.UNA), it can be ignored." */
	switch (c->state) {
	case SL_TCP_FIN_WAIT_1:
		/* "if the FIN segment is now acknowledged, then enter FIN-WAIT-2" */
		if (fin_acked) {
			sl_tcp__set_state(c, SL_TCP_FIN_WAIT_2);
			if (c->flags & SL_TCP_F_APP_CLOSED)
				sl_tcp__timer_arm(st, &c->wait_timer, st->p.fin_wait2_us);
		}
		break;
	case SL_TCP_CLOSING:
		/* "if the ACK acknowledges our FIN, then enter the TIME-WAIT state; otherwise,
		 * ignore the segment" */
		if (!fin_acked)
			return -1;
		enter_time_wait(c);
		break;
	case SL_TCP_LAST_ACK:
		/* "If our FIN is now acknowledged, delete the TCB, enter the CLOSED state" */
		if (fin_acked) {
			sl_tcp__end(c, &st->stats.conn_closed, SL_TCP_END_NORMAL);
			return 1;
		}
		break;
	default:
		break;
	}
	return 0;
}

/* A RST at RCV.NXT (RFC 9293 3.10.7.4 second) ends c as its state says. */
static void
process_rst(struct sl_tcp_conn *c)
{
	struct sl_tcp_stats *s = &c->stack->stats;

	switch (c->state) {
	case SL_TCP_SYN_RCVD:
		if (c->flags & SL_TCP_F_ACTIVE) {
			/* "If this connection was initiated with an active OPEN (i.e., came from
			 * SYN-SENT state), then the connection was refused; signal the user
			 * 'connection refused'." */
			s->connect_failed++;
			sl_tcp__end(c, &s->conn_reset, SL_TCP_END_REFUSED);
			break;
		}
		/* "If this connection was initiated with a passive OPEN (i.e., came from the LISTEN
		 * state), then return this connection to LISTEN state and return. The user need
		 * not be informed." */
		sl_tcp__end(c, &s->conn_reset, SL_TCP_END_SILENT);
		break;
	case SL_TCP_TIME_WAIT:
		/* "enter the CLOSED state, delete the TCB, and return": it had ended normally */
		sl_tcp__end(c, &s->conn_closed, SL_TCP_END_NORMAL);
		break;
	default:
		/* ESTABLISHED, FIN-WAIT-1/2, CLOSE-WAIT: "the user should also receive an
		 * unsolicited general 'connection reset' signal"; CLOSING, LAST-ACK: likewise
		 * when the application still holds c */
		sl_tcp__end(c, &s->conn_reset, SL_TCP_END_RESET);
		break;
	}
}

/*
 * Deliver <seg> (<rx>->len bytes at RCV.NXT) to the application: RFC 9293 3.10.7.4 seventh,
 * with the out-of-order segments it makes contiguous, in one chain. Acknowledge at once
 * when two full-sized segments' worth is unacknowledged (3.8.6.3) or a gap was filled
 * (RFC 5681 4.2), else the delayed ACK runs (armed by the caller). @return 0, or -1 when c
 * ended.
 */
static int
deliver(struct sl_tcp_conn *c, struct sl_tcp_seg *seg, const struct sl_tcp_rx *rx)
{
	struct sl_tcp_stack *st = c->stack;
	const struct sl_tcp_listener *l = c->listener;
	struct sl_tcp_seq end = sl_seq_add(c->rcv_nxt, rx->len);
	uint32_t len = rx->len;

	seg->next = NULL;
	if (SL_UNLIKELY(c->ooo_head != NULL)) {
		/* RFC 5681 4.2: "an immediate ACK SHOULD be generated when a segment arrives
		 * that fills in all or part of a gap in the sequence space" */
		c->flags |= SL_TCP_F_ACK_NOW;
		sl_tcp__ooo_merge(c, seg, &end, &len);
	}
	c->rcv_nxt = end;
	c->rcv_held += len;
	st->stats.bytes_in += len;
	if ((uint32_t)sl_seq_diff(c->rcv_nxt, c->rcv_acked) >= 2u * c->mss)
		c->flags |= SL_TCP_F_ACK_NOW;
	l->ops->data(l->app, c, seg, len);
	return c->state == SL_TCP_CLOSED ? -1 : 0;
}

/*
 * RFC 9293 3.10.7.4 eighth: the FIN at RCV.NXT. The application hears of it after the
 * state change and before our ACK goes out, so that its reply (or its FIN) carries the ACK.
 * @return 0, or -1 when c ended.
 */
static int
process_fin(struct sl_tcp_conn *c)
{
	const struct sl_tcp_listener *l = c->listener;

	c->flags |= SL_TCP_F_ACK_NOW;
	switch (c->state) {
	case SL_TCP_ESTABLISHED:
		/* "Enter the CLOSE-WAIT state" */
		c->rcv_nxt = sl_seq_add(c->rcv_nxt, 1);
		sl_tcp__set_state(c, SL_TCP_CLOSE_WAIT);
		if (sl_tcp__attached(c) && l->ops->peer_closed != NULL)
			l->ops->peer_closed(l->app, c);
		break;
	case SL_TCP_FIN_WAIT_1:
		/* our FIN is not acknowledged (else we would be in FIN-WAIT-2): "enter the
		 * CLOSING state" */
		c->rcv_nxt = sl_seq_add(c->rcv_nxt, 1);
		sl_tcp__set_state(c, SL_TCP_CLOSING);
		if (sl_tcp__attached(c) && l->ops->peer_closed != NULL)
			l->ops->peer_closed(l->app, c);
		break;
	case SL_TCP_FIN_WAIT_2:
		/* "Enter the TIME-WAIT state. Start the time-wait timer" */
		c->rcv_nxt = sl_seq_add(c->rcv_nxt, 1);
		enter_time_wait(c);
		if (sl_tcp__attached(c) && l->ops->peer_closed != NULL)
			l->ops->peer_closed(l->app, c);
		break;
	default:
		/* CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: the peer's FIN is behind RCV.NXT,
		 * so a FIN here is not one the peer could send: ACK and ignore it */
		break;
	}
	return c->state == SL_TCP_CLOSED ? -1 : 0;
}

/* Whether <c>'s state takes segment text (RFC 9293 3.10.7.4 seventh). */
static int
takes_text(const struct sl_tcp_conn *c)
{
	return c->state == SL_TCP_ESTABLISHED || c->state == SL_TCP_FIN_WAIT_1 ||
	       c->state == SL_TCP_FIN_WAIT_2;
}

/* Cut text beyond RCV.NXT + <wnd> off <rx> (and the FIN after it). */
static void
trim_right(const struct sl_tcp_conn *c, struct sl_tcp_seg *seg, struct sl_tcp_rx *rx, uint32_t wnd)
{
	int32_t d;

	if (rx->len == 0)
		return;
	d = sl_seq_diff(sl_seq_add(rx->seq, rx->len), sl_seq_add(c->rcv_nxt, wnd));
	if (d > 0) {
		rx->len -= sl_tcp__min32((uint32_t)d, rx->len);
		seg->len = rx->len;
		rx->flags &= (uint8_t)~SL_TCP_FIN;
	}
}

/*
 * RFC 9293 3.10.7.4 sixth to eighth for <c>, its ACK processed: the URG bit (ignored), the
 * segment text and the FIN. @return the segment when it was not handed over.
 */
static struct sl_tcp_seg *
input_text(struct sl_tcp_conn *c, struct sl_tcp_seg *seg, struct sl_tcp_rx *rx)
{
	struct sl_tcp_stats *s = &c->stack->stats;

	/* sixth, the URG bit: ignored. seventh: the segment text. */
	if (rx->len != 0 && takes_text(c) && (c->flags & SL_TCP_F_APP_CLOSED)) {
		/* RFC 9293 3.10.4, RFC 1122 4.2.2.13: data for a closed connection is lost: say
		 * so with a RST */
		sl_tcp__send_rst(c);
		sl_tcp__end(c, &s->conn_aborted, SL_TCP_END_SILENT);
		return seg;
	}
	if ((rx->len != 0 || (rx->flags & SL_TCP_FIN)) && rx->seq.v != c->rcv_nxt.v) {
		/* Out of order (beyond RCV.NXT): ACKed at once (RFC 9293 3.8.6.3, RFC 5681 4.2:
		 * "an immediate ACK ... when an out-of-order segment arrives"), with SACK
		 * blocks; the text is queued (a FIN with it is not: the peer sends it again) */
		c->flags |= SL_TCP_F_ACK_NOW;
		if (rx->len != 0 && takes_text(c))
			return sl_tcp__ooo_insert(c, seg, rx);
		s->drop_out_of_order++;
		return seg;
	}
	if (rx->len != 0) {
		if (!takes_text(c)) {
			/* CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: "This should not occur, since
			 * a FIN has been received from the remote side. Ignore the segment
			 * text." */
			s->drop_out_of_window++;
			return seg;
		}
		/* data beyond a FIN is nothing the peer could have sent */
		if (SL_UNLIKELY(rx->flags & SL_TCP_FIN) && c->ooo_head != NULL)
			sl_tcp__ooo_free(c);
		if (deliver(c, seg, rx) < 0)
			return NULL;
		seg = NULL;
	}

	/* eighth: check the FIN bit */
	if (rx->flags & SL_TCP_FIN) {
		if (c->ooo_head != NULL)
			sl_tcp__ooo_free(c);
		if (process_fin(c) < 0)
			return seg;
	}
	return seg;
}

/*
 * RFC 9293 3.10.7.3 SYN-SENT, for an active open. A SYN-ACK acknowledging our SYN
 * establishes c (its text and FIN are then processed as in ESTABLISHED); a SYN alone is a
 * simultaneous open (SYN_RCVD, our SYN-ACK); a RST acknowledging our SYN is a refusal.
 * @return the segment when it was not handed over.
 */
static struct sl_tcp_seg *
input_syn_sent(struct sl_tcp_conn *c, struct sl_tcp_seg *seg, struct sl_tcp_rx *rx)
{
	struct sl_tcp_stack *st = c->stack;
	struct sl_tcp_stats *s = &st->stats;
	struct sl_tcp_seq zero = {0};
	int ack_ok = 0;

	/* first: "If the ACK bit is set, If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset
	 * (unless the RST bit is set, if so drop the segment and return) <SEQ=SEG.ACK><CTL=RST>
	 * and discard the segment. Return." */
	if (rx->flags & SL_TCP_ACK_F) {
		if (sl_seq_le(rx->ack, c->iss) || sl_seq_gt(rx->ack, c->snd_max)) {
			s->drop_bad_ack++;
			if (!(rx->flags & SL_TCP_RST))
				sl_tcp__send_ctl(st, &c->tuple, rx->ack, zero, SL_TCP_RST);
			return seg;
		}
		ack_ok = 1;
	}
	/* second: "If the RST bit is set, If the ACK was acceptable, then signal to the user
	 * 'error: connection reset', drop the segment, enter CLOSED state, delete TCB, and
	 * return. Otherwise (no ACK), drop the segment and return." (RFC 5961 3.2 keeps it:
	 * the ACK must acknowledge the SYN) */
	if (rx->flags & SL_TCP_RST) {
		if (ack_ok) {
			s->connect_failed++;
			sl_tcp__end(c, &s->conn_reset, SL_TCP_END_REFUSED);
		} else {
			s->drop_out_of_window++;
		}
		return seg;
	}
	/* fifth: "If neither of the SYN or RST bits is set, then drop the segment and
	 * return." */
	if (!(rx->flags & SL_TCP_SYN)) {
		s->drop_bad_hdr++;
		return seg;
	}
	/* fourth: the SYN. RCV.NXT, IRS, the options; the window we offered in our SYN. */
	syn_options(c, rx);
	c->rcv_adv = sl_seq_add(c->rcv_nxt, sl_tcp__syn_wnd(st, c->rcv_held));
	if (!ack_ok) {
		/* "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment <SEQ=ISS><ACK=RCV.NXT>
		 * <CTL=SYN,ACK> and send it. Set the variables: SND.WND <- SEG.WND SND.WL1 <-
		 * SEG.SEQ SND.WL2 <- SEG.ACK" (no ACK here: ISS). Text is not queued: the SYN-ACK
		 * does not acknowledge it, so the peer sends it again. Our SYN goes again with it
		 * (counted in retransmits). */
		c->snd_wl2 = c->iss;
		sl_tcp__set_state(c, SL_TCP_SYN_RCVD);
		sl_tcp__xmit(c, c->iss, 0, SL_TCP_SYN);
		return seg;
	}
	/* "If SND.UNA > ISS (our SYN has been ACKed), change the connection state to
	 * ESTABLISHED, form an ACK segment <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and send it."
	 * (an answer from `connected` carries it) */
	c->flags |= SL_TCP_F_ACK_NOW;
	if (establish(c, rx, 0) < 0)
		return seg;
	/* "If there are other controls or text in the segment, then continue processing at
	 * the sixth step below where the URG bit is checked" */
	rx->flags &= (uint8_t)~SL_TCP_SYN;
	rx->seq = sl_seq_add(rx->seq, 1);
	trim_right(c, seg, rx, (uint32_t)sl_seq_diff(c->rcv_adv, c->rcv_nxt));
	return input_text(c, seg, rx);
}

/*
 * RFC 9293 3.10.7.4 for <c> in SYN_RCVD or a synchronized state, with RFC 7323 5.3 (PAWS)
 * and 4.3 (TS.Recent) and RFC 5961 (challenge ACKs). <shift>: the scale of the window of
 * the segment that may complete a handshake. @return the segment when it was not handed
 * over (the caller frees it).
 */
static struct sl_tcp_seg *
input_sync(struct sl_tcp_conn *c, struct sl_tcp_seg *seg, struct sl_tcp_rx *rx, unsigned int shift)
{
	struct sl_tcp_stack *st = c->stack;
	struct sl_tcp_stats *s = &st->stats;
	const struct sl_tcp_seq raw_seq = rx->seq;
	const uint32_t raw_len = sl_tcp__seg_len(rx);
	int32_t d = sl_seq_diff(c->rcv_adv, c->rcv_nxt);
	const uint32_t wnd = d > 0 ? (uint32_t)d : 0;
	const int ts = (c->flags & SL_TCP_F_TS) && (rx->opts & SL_TCP_RX_TS);
	int r;

	/* A SYN again in SYN-RECEIVED: our SYN-ACK was lost. RFC 9293 would only ACK it (it is
	 * below RCV.NXT); the SYN-ACK itself is what the peer waits for. */
	if (c->state == SL_TCP_SYN_RCVD &&
	    (rx->flags & (SL_TCP_SYN | SL_TCP_ACK_F | SL_TCP_RST)) == SL_TCP_SYN &&
	    rx->seq.v == c->irs.v) {
		SL_TCP_CLR(c, SL_TCP_F_TIMING);
		if (ts)
			c->ts_recent = rx->tsval;
		sl_tcp__xmit(c, c->iss, 0, SL_TCP_SYN);
		return seg;
	}

	/* RFC 7323 5.3 R1 (PAWS, kept minimal: no 24-day idle rule): "If SEG.TSval < TS.Recent
	 * and the RST bit is off ... the segment is not acceptable", ACKed and dropped */
	if (ts && !(rx->flags & SL_TCP_RST) && (int32_t)(rx->tsval - c->ts_recent) < 0) {
		s->drop_out_of_window++;
		c->flags |= SL_TCP_F_ACK_NOW;
		return seg;
	}

	/* first: check the sequence number */
	if (!seq_acceptable(c, rx, wnd, raw_len)) {
		if (wnd == 0 && rx->seq.v == c->rcv_nxt.v &&
		    !(rx->flags & (SL_TCP_SYN | SL_TCP_RST))) {
			/* "If the RCV.WND is zero, no segments will be acceptable, but special
			 * allowance should be made to accept valid ACKs, URGs, and RSTs": the
			 * text goes (and the FIN after it), the ACK is processed. A bare FIN at
			 * RCV.NXT is taken (as Linux does): it needs no buffer. */
			if (rx->len != 0) {
				s->drop_out_of_window++;
				rx->len = 0;
				seg->len = 0;
				rx->flags &= (uint8_t)~SL_TCP_FIN;
			}
			c->flags |= SL_TCP_F_ACK_NOW;
		} else {
			/* "If an incoming segment is not acceptable, an acknowledgment should be
			 * sent in reply (unless the RST bit is set ...)". In TIME-WAIT this is
			 * the peer's FIN again: ACK it and restart the 2 MSL timeout. A SYN gets
			 * the challenge ACK of RFC 5961 4.2, "irrespective of the sequence
			 * number". */
			s->drop_out_of_window++;
			if (rx->flags & SL_TCP_RST)
				return seg;
			if (c->state == SL_TCP_TIME_WAIT && (rx->flags & SL_TCP_FIN))
				sl_tcp__timer_arm(st, &c->wait_timer, st->p.time_wait_us);
			if ((rx->flags & SL_TCP_SYN) && c->state != SL_TCP_SYN_RCVD)
				sl_tcp__challenge_ack(c);
			else
				c->flags |= SL_TCP_F_ACK_NOW;
			return seg;
		}
	}

	/* RFC 7323 4.3 (2): "If SEG.TSval >= TS.Recent and SEG.SEQ =< Last.ACK.sent then
	 * SEG.TSval is copied to TS.Recent" (Last.ACK.sent: rcv_acked) */
	if (ts && sl_seq_le(raw_seq, c->rcv_acked))
		c->ts_recent = rx->tsval;

	/* second: check the RST bit. RFC 5961 3.2: "If the RST bit is set and the sequence
	 * number exactly matches the next expected sequence number (RCV.NXT), then TCP MUST
	 * reset the connection"; elsewhere in the window "TCP MUST send an ACK (challenge
	 * ACK)" */
	if (rx->flags & SL_TCP_RST) {
		if (raw_seq.v == c->rcv_nxt.v) {
			process_rst(c);
		} else {
			s->drop_out_of_window++;
			sl_tcp__challenge_ack(c);
		}
		return seg;
	}

	/* trim what was received already ("we assume the segment has been trimmed to
	 * contain only what is in the window"): a SYN and bytes before RCV.NXT, bytes beyond
	 * RCV.NXT + RCV.WND (with the FIN after them) */
	d = sl_seq_diff(c->rcv_nxt, rx->seq);
	if (d > 0) {
		if (rx->flags & SL_TCP_SYN) {
			rx->flags &= (uint8_t)~SL_TCP_SYN;
			rx->seq = sl_seq_add(rx->seq, 1);
			d--;
		}
		if (d > 0) {
			uint32_t cut = sl_tcp__min32((uint32_t)d, rx->len);

			seg->data += cut;
			seg->len -= cut;
			rx->len -= cut;
			rx->seq = sl_seq_add(rx->seq, cut);
		}
	}
	trim_right(c, seg, rx, wnd);

	/* fourth: check the SYN bit */
	if (rx->flags & SL_TCP_SYN) {
		if (c->state == SL_TCP_SYN_RCVD && !(c->flags & SL_TCP_F_ACTIVE)) {
			/* "In SYN-RECEIVED state, if the connection was initiated with a passive
			 * OPEN, then return this connection to the LISTEN state and return." */
			sl_tcp__end(c, &s->conn_aborted, SL_TCP_END_SILENT);
			return seg;
		}
		/* (an active open in SYN-RECEIVED: "Otherwise, handle per the directions for
		 * synchronized states below.")
		 * RFC 5961 4.2: "If the SYN bit is set, irrespective of the sequence number,
		 * TCP MUST send an ACK (also referred to as challenge ACK) to the remote peer
		 * ... After sending the acknowledgment, TCP MUST drop the unacceptable segment
		 * and stop processing further." (it replaces RFC 793's RST) */
		s->drop_out_of_window++;
		sl_tcp__challenge_ack(c);
		return seg;
	}

	/* fifth: check the ACK field */
	if (!(rx->flags & SL_TCP_ACK_F)) {
		/* "if the ACK bit is off, drop the segment and return" */
		s->drop_bad_hdr++;
		return seg;
	}
	if (c->state == SL_TCP_SYN_RCVD) {
		/* its ACK is taken whole here: what the application sent from `accepted`
		 * must not see it again as a duplicate */
		if (sl_seq_lt(c->snd_una, rx->ack) && sl_seq_le(rx->ack, c->snd_max)) {
			if (establish(c, rx, shift) < 0)
				return seg;
		} else {
			/* "If the segment acknowledgment is not acceptable, form a reset segment
			 * <SEQ=SEG.ACK><CTL=RST> and send it." */
			struct sl_tcp_seq zero = {0};

			s->drop_bad_ack++;
			sl_tcp__send_ctl(st, &c->tuple, rx->ack, zero, SL_TCP_RST);
			return seg;
		}
	} else {
		r = process_ack(c, rx);
		if (r != 0)
			return seg;
	}

	return input_text(c, seg, rx);
}

/*
 * A segment for <c> (not CLOSED): SYN_SENT has its own rules. In SYN_RCVD after a
 * simultaneous open the peer's SYN-ACK <SEQ=IRS><ACK=ISS+1> completes the handshake: its SYN
 * is at IRS, before RCV.NXT, so RFC 9293's acceptability test would refuse it (RFC 9293
 * figure 7 expects it to pass; Linux lets it through in tcp_validate_incoming()): the SYN is
 * taken off and the rest is the ACK, its window unscaled.
 */
static struct sl_tcp_seg *
input_conn(struct sl_tcp_conn *c, struct sl_tcp_seg *seg, struct sl_tcp_rx *rx)
{
	if (c->state == SL_TCP_SYN_SENT)
		return input_syn_sent(c, seg, rx);
	if (SL_UNLIKELY(c->flags & SL_TCP_F_ACTIVE) && c->state == SL_TCP_SYN_RCVD &&
	    (rx->flags & (SL_TCP_SYN | SL_TCP_ACK_F | SL_TCP_RST)) == (SL_TCP_SYN | SL_TCP_ACK_F) &&
	    rx->seq.v == c->irs.v && sl_seq_lt(c->snd_una, rx->ack) &&
	    sl_seq_le(rx->ack, c->snd_max)) {
		rx->flags &= (uint8_t)~SL_TCP_SYN;
		rx->seq = sl_seq_add(rx->seq, 1);
		return input_sync(c, seg, rx, 0);
	}
	return input_sync(c, seg, rx, c->snd_wscale);
}

/*
 * sl_tcp_input(<st>, <c>, <t>, <seg>, <flags>, <now_us>): see tcp.h. After the segment, the
 * connection sends what its window now allows, owes `writable` when an ACK made room
 * (a quarter of the buffer, or all of it), then sends or schedules its ACK.
 */
void
sl_tcp_input(struct sl_tcp_stack *st, struct sl_tcp_conn *c, const struct sl_tcp_tuple *t,
	     struct sl_tcp_seg *seg, unsigned int flags, uint64_t now_us)
{
	struct sl_tcp_seq floor;
	const struct sl_tcp_seq *iss_floor = NULL;
	struct sl_tcp_rx rx;

	sl_tcp__now(st, now_us);
	st->stats.segs_in++;
	if (parse(st, t, seg, flags, &rx) < 0) {
		st->ops->seg_free(st->env, seg);
		return;
	}
	if (rx.flags & SL_TCP_RST)
		st->stats.rst_in++;
	if (rx.flags & SL_TCP_SYN)
		st->stats.syn_in++;
	/* RFC 1122 4.2.2.13: a SYN may reopen a connection from TIME-WAIT when its sequence is
	 * beyond the old one; the new ISS is then above the old SND.NXT */
	if (c != NULL && c->state == SL_TCP_TIME_WAIT &&
	    (rx.flags & (SL_TCP_SYN | SL_TCP_ACK_F | SL_TCP_RST)) == SL_TCP_SYN &&
	    sl_seq_gt(rx.seq, c->rcv_nxt) && sl_tcp__listener_find(st, t) != NULL) {
		floor = c->snd_max;
		iss_floor = &floor;
		sl_tcp__end(c, &st->stats.conn_closed, SL_TCP_END_NORMAL);
		c = NULL;
	}
	if (c == NULL && (rx.flags & (SL_TCP_SYN | SL_TCP_ACK_F | SL_TCP_RST)) == SL_TCP_ACK_F) {
		/* RFC 4987 3.6: the ACK of a SYN cookie's SYN-ACK makes the connection, which
		 * then takes the ACK as if it had been in SYN_RCVD all along */
		struct sl_tcp_listener *l = sl_tcp__listener_find(st, t);
		int valid = 0;

		if (l != NULL && sl_tcp__cookie_recent(st, l)) {
			c = sl_tcp__cookie_conn(st, l, t, &rx, &valid);
			if (c == NULL && valid) {
				st->ops->seg_free(st->env, seg);
				return;
			}
		}
	}
	if (c == NULL || c->state == SL_TCP_CLOSED) {
		input_noconn(st, t, &rx, iss_floor);
		st->ops->seg_free(st->env, seg);
		return;
	}
	c->flags |= SL_TCP_F_BUSY;
	c->last_rx_tick = (uint32_t)st->tick;
	seg = input_conn(c, seg, &rx);
	if (seg != NULL)
		st->ops->seg_free(st->env, seg);
	if (c->state != SL_TCP_CLOSED) {
		const struct sl_tcp_listener *l = c->listener;

		sl_tcp__output(c);
		if ((c->flags & SL_TCP_F_WANT_WRITABLE) && sl_tcp__attached(c) &&
		    (c->sndq_len == 0 || sl_tcp_send_space(c) >= st->p.snd_buf / 4)) {
			SL_TCP_CLR(c, SL_TCP_F_WANT_WRITABLE);
			if (l->ops->writable != NULL)
				l->ops->writable(l->app, c);
		}
		sl_tcp__ack_flush(c);
	}
	SL_TCP_CLR(c, SL_TCP_F_BUSY);
	sl_tcp__reap(c);
}
