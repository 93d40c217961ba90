/**
 * @file
 * Segments in: header and checksum checks, options, and RFC 9293 3.10.7 "SEGMENT ARRIVES"
 * for no connection (CLOSED), a listener (LISTEN) and a connection (SYN-RECEIVED and the
 * synchronized states), in the RFC's order of checks: sequence number, RST, SYN, ACK, text,
 * FIN.
 *
 * In-order payload is handed to the application as the received buffer itself, trimmed in
 * place (seg->data and seg->len moved onto the new bytes). Out-of-order segments are ACKed
 * and dropped (TCP 2/3 queues them).
 */
#include "tcp-priv.h"

/*
 * Parse the options of a SYN (RFC 9293 3.2; RFC 7323 2.2). EOL ends the list; NOP is one
 * byte; every other kind has a length byte covering kind and length, which must be >= 2 and
 * stay inside the header, or the segment is malformed. A known option of the wrong length
 * is skipped (as Linux does), unknown ones (timestamps, SACK-permitted, ...) are ignored.
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
		if (o[i] == SL_TCP_OPT_MSS && len == SL_TCP_OPT_MSS_LEN)
			rx->mss = sl_rd_be16(o + i + 2);
		else if (o[i] == SL_TCP_OPT_WS && len == SL_TCP_OPT_WS_LEN)
			/* RFC 7323 2.3: a shift over 14 is used as 14 */
			rx->ws = (int8_t)(o[i + 2] > SL_TCP_WS_MAX ? SL_TCP_WS_MAX : o[i + 2]);
		i += len;
	}
	return 0;
}

/*
 * Check the segment in <seg> and fill <rx>; on success seg->data/len are moved onto the
 * payload. Options are read from SYNs only: nothing else needs them yet. SYN with FIN or
 * RST is malformed. @return 0, or -1 with the drop counted.
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
	if (SL_UNLIKELY(rx->flags & SL_TCP_SYN)) {
		if ((rx->flags & (SL_TCP_FIN | SL_TCP_RST)) ||
		    parse_opts(h + SL_TCP_HLEN, hlen - SL_TCP_HLEN, rx) < 0) {
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
 * A SYN for listener <l>: RFC 9293 3.10.7.2 "third, check for a SYN". Over the backlog, or
 * without connection memory or a table slot, the SYN is dropped unanswered (the peer
 * retries). Otherwise a connection in SYN_RCVD enters the table and the SYN-ACK goes out
 * with our MSS and, if the SYN had one, our window scale. Data on the SYN is not kept: the
 * SYN-ACK acknowledges only the SYN, so the peer sends it again.
 * <iss_floor>: when reopening from TIME_WAIT, the new ISS must be above it (RFC 1122
 * 4.2.2.13 (1)).
 */
static void
listen_syn(struct sl_tcp_stack *st, struct sl_tcp_listener *l, const struct sl_tcp_tuple *t,
	   const struct sl_tcp_rx *rx, const struct sl_tcp_seq *iss_floor)
{
	const struct sl_tcp_params *p = &st->p;
	struct sl_tcp_conn *c;
	uint32_t mss;

	if (l->pending >= l->backlog) {
		st->stats.drop_backlog++;
		return;
	}
	c = st->ops->conn_alloc(st->env);
	if (c == NULL) {
		st->stats.drop_no_conn_mem++;
		return;
	}
	memset(c, 0, sizeof(*c));
	c->tuple = *t;
	c->stack = st;
	c->listener = l;
	c->state = SL_TCP_CLOSED;
	c->rexmit_timer.kind = SL_TCP_TK_REXMIT;
	c->delack_timer.kind = SL_TCP_TK_DELACK;
	c->wait_timer.kind = SL_TCP_TK_WAIT;
	if (st->ops->conn_insert(st->env, c) != 0) {
		st->ops->conn_free(st->env, c);
		st->stats.drop_no_conn_mem++;
		return;
	}
	st->stats.conns[SL_TCP_CLOSED]++;
	sl_tcp__set_state(c, SL_TCP_SYN_RCVD);
	l->pending++;
	/* RFC 9293 3.10.7.2: RCV.NXT <- SEG.SEQ+1, IRS <- SEG.SEQ, ISS selected */
	c->irs = rx->seq;
	c->rcv_nxt = sl_seq_add(rx->seq, 1);
	c->rcv_adv = c->rcv_nxt;
	c->rcv_acked = rx->seq;
	c->iss = sl_tcp__iss(st, t);
	if (iss_floor != NULL && sl_seq_le(c->iss, *iss_floor))
		c->iss = sl_seq_add(*iss_floor, 1u << 17);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	/* RFC 9293 3.7.1: without the option, 536; never above ours */
	mss = rx->mss != 0 ? rx->mss : SL_TCP_MSS_DEFAULT_SND;
	if (mss > p->mss)
		mss = p->mss;
	if (mss < SL_TCP_MSS_FLOOR)
		mss = SL_TCP_MSS_FLOOR;
	c->mss = (uint16_t)mss;
	/* RFC 7323 2.2/2.3: scaling only when both sides send the option */
	if (rx->ws >= 0) {
		c->snd_wscale = (uint8_t)rx->ws;
		c->rcv_wscale = p->wscale;
	}
	c->snd_wnd = rx->wnd; /* RFC 7323 2.2: the window of a SYN is never scaled */
	c->snd_wl1 = rx->seq;
	c->snd_wl2 = c->iss;
	c->rto_us = p->rto_init_us; /* RFC 6298 2.1 */
	sl_tcp__xmit(c, c->iss, 0, SL_TCP_SYN);
}

/*
 * A segment that found no connection: RFC 9293 3.10.7.1 (CLOSED) when no listener has its
 * address, 3.10.7.2 (LISTEN) otherwise. Never a RST for a RST.
 */
static void
input_noconn(struct sl_tcp_stack *st, const struct sl_tcp_tuple *t, const struct sl_tcp_rx *rx,
	     const struct sl_tcp_seq *iss_floor)
{
	struct sl_tcp_listener *l = sl_tcp__listener_find(st, t);
	struct sl_tcp_seq zero = {0};

	if (l != NULL && (rx->flags & (SL_TCP_SYN | SL_TCP_ACK_F | SL_TCP_RST)) == SL_TCP_SYN) {
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
 * SYN_RCVD -> ESTABLISHED on an acceptable ACK (RFC 9293 3.10.7.4 fifth): SND.UNA past our
 * SYN, the window from this segment, the handshake RTT as first sample unless the SYN-ACK
 * was retransmitted (then RFC 6298 5.7: an RTO of at least 3 s), and the application is
 * asked. @return 0, or -1 when c ended (refused or aborted from `accepted`).
 */
static int
establish(struct sl_tcp_conn *c, const struct sl_tcp_rx *rx)
{
	struct sl_tcp_stack *st = c->stack;
	const struct sl_tcp_listener *l = c->listener;

	c->snd_una = rx->ack;
	if (sl_seq_lt(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	c->snd_wnd = (uint32_t)rx->wnd << c->snd_wscale;
	c->snd_wl1 = rx->seq;
	c->snd_wl2 = rx->ack;
	sl_tcp__timer_cancel(&c->rexmit_timer);
	if ((c->flags & SL_TCP_F_TIMING) && sl_seq_ge(rx->ack, c->rtt_seq))
		sl_tcp__rtt_sample(c, (uint32_t)(st->now_us - c->rtt_start_us));
	c->flags &= (uint8_t)~SL_TCP_F_TIMING;
	/* RFC 6298 5.7: "If the timer expires awaiting the ACK of a SYN segment and the TCP
	 * implementation is using an RTO less than 3 seconds, the RTO MUST be re-initialized
	 * to 3 seconds when data transmission begins" */
	if (c->retries != 0 && st->p.rto_init_us < SL_TCP_RTO_SYN_US)
		c->rto_us = sl_tcp__min32(SL_TCP_RTO_SYN_US, st->p.rto_max_us);
	c->retries = 0;
	sl_tcp__set_state(c, SL_TCP_ESTABLISHED);
	c->flags |= SL_TCP_F_ACCEPTED;
	if (l->ops->accepted(l->app, c) != 0) {
		c->flags = (uint8_t)((c->flags & ~SL_TCP_F_ACCEPTED) | SL_TCP_F_APP_CLOSED);
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
 * RFC 9293 3.10.7.4 fifth, for the synchronized states: SND.UNA, the send queue, the RTT
 * sample, the retransmission timer and the send window. @return -1 when the segment is to
 * be dropped (ACK of data never sent, or CLOSING without our FIN acknowledged), 1 when the
 * connection ended (LAST_ACK), else 0.
 */
static int
process_ack(struct sl_tcp_conn *c, const struct sl_tcp_rx *rx)
{
	struct sl_tcp_stack *st = c->stack;
	int fin_acked = 0;

	if (sl_seq_gt(rx->ack, c->snd_max)) {
		/* "If the ACK acks something not yet sent (SEG.ACK > SND.NXT), then send an ACK,
		 * drop the segment, and return." */
		st->stats.drop_bad_ack++;
		c->flags |= SL_TCP_F_ACK_NOW;
		return -1;
	}
	if (sl_seq_ge(rx->ack, c->snd_una)) {
		uint32_t acked = (uint32_t)sl_seq_diff(rx->ack, c->snd_una);

		if (acked != 0) {
			/* "If SND.UNA < SEG.ACK =< SND.NXT, then set SND.UNA <- SEG.ACK. Any
			 * segments on the retransmission queue that are thereby entirely
			 * acknowledged are removed." */
			if (acked > c->sndq_len) {
				fin_acked = (c->flags & SL_TCP_F_SHUT_WR) != 0;
				acked = c->sndq_len;
			}
			sl_tcp__sndq_drop(c, acked);
			c->snd_una = rx->ack;
			if (sl_seq_lt(c->snd_nxt, c->snd_una))
				c->snd_nxt = c->snd_una;
			/* RFC 6298 3 with Karn: only a segment sent once is timed */
			if ((c->flags & SL_TCP_F_TIMING) && sl_seq_ge(rx->ack, c->rtt_seq)) {
				sl_tcp__rtt_sample(c, (uint32_t)(st->now_us - c->rtt_start_us));
				c->flags &= (uint8_t)~SL_TCP_F_TIMING;
			}
			c->retries = 0;
			/* RFC 6298 5.2: all acknowledged: stop; 5.3: new data ACKed: restart */
			if (c->snd_una.v == c->snd_max.v)
				sl_tcp__timer_cancel(&c->rexmit_timer);
			else
				sl_tcp__rexmit_arm(c);
		} else if (c->snd_una.v == c->snd_max.v) {
			c->retries = 0; /* a zero-window probe was answered */
		}
		/* "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated. If
		 * (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK))" */
		if (sl_seq_lt(c->snd_wl1, rx->seq) ||
		    (c->snd_wl1.v == rx->seq.v && sl_seq_le(c->snd_wl2, rx->ack))) {
			c->snd_wnd = (uint32_t)rx->wnd << c->snd_wscale;
			c->snd_wl1 = rx->seq;
			c->snd_wl2 = rx->ack;
		}
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
 * Deliver <seg> (<rx>->len bytes at RCV.NXT) to the application: RFC 9293 3.10.7.4 seventh.
 * Acknowledge at once when two full-sized segments' worth is unacknowledged (3.8.6.3),
 * else the delayed ACK runs (armed by the caller). @return 0, or -1 when c ended.
 */
static int
deliver(struct sl_tcp_conn *c, struct sl_tcp_seg *seg, const struct sl_tcp_rx *rx)
{
	struct sl_tcp_stack *st = c->stack;
	const struct sl_tcp_listener *l = c->listener;

	c->rcv_nxt = sl_seq_add(c->rcv_nxt, rx->len);
	c->rcv_held += rx->len;
	st->stats.bytes_in += rx->len;
	c->unacked_segs++;
	if ((uint32_t)sl_seq_diff(c->rcv_nxt, c->rcv_acked) >= 2u * c->mss)
		c->flags |= SL_TCP_F_ACK_NOW;
	seg->next = NULL;
	l->ops->data(l->app, c, seg, rx->len);
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

/*
 * RFC 9293 3.10.7.4 for <c> in SYN_RCVD or a synchronized state. @return the segment when
 * it was not handed over (the caller frees it).
 */
static struct sl_tcp_seg *
input_conn(struct sl_tcp_conn *c, struct sl_tcp_seg *seg, struct sl_tcp_rx *rx)
{
	struct sl_tcp_stack *st = c->stack;
	struct sl_tcp_stats *s = &st->stats;
	const struct sl_tcp_seq raw_seq = rx->seq;
	const uint32_t raw_len = sl_tcp__seg_len(rx);
	int32_t d = sl_seq_diff(c->rcv_adv, c->rcv_nxt);
	const uint32_t wnd = d > 0 ? (uint32_t)d : 0;
	int r;

	/* A SYN again in SYN-RECEIVED: our SYN-ACK was lost. RFC 9293 would only ACK it (it is
	 * below RCV.NXT); the SYN-ACK itself is what the peer waits for. */
	if (c->state == SL_TCP_SYN_RCVD &&
	    (rx->flags & (SL_TCP_SYN | SL_TCP_ACK_F | SL_TCP_RST)) == SL_TCP_SYN &&
	    rx->seq.v == c->irs.v) {
		c->flags &= (uint8_t)~SL_TCP_F_TIMING;
		sl_tcp__xmit(c, c->iss, 0, SL_TCP_SYN);
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
			 * the peer's FIN again: ACK it and restart the 2 MSL timeout. */
			s->drop_out_of_window++;
			if (!(rx->flags & SL_TCP_RST)) {
				if (c->state == SL_TCP_TIME_WAIT && (rx->flags & SL_TCP_FIN))
					sl_tcp__timer_arm(st, &c->wait_timer, st->p.time_wait_us);
				c->flags |= SL_TCP_F_ACK_NOW;
			}
			return seg;
		}
	}

	/* second: check the RST bit (RFC 5961 3.2: only an exact RCV.NXT resets; a RST
	 * elsewhere in the window gets a challenge ACK) */
	if (rx->flags & SL_TCP_RST) {
		if (raw_seq.v == c->rcv_nxt.v) {
			process_rst(c);
		} else {
			s->drop_out_of_window++;
			c->flags |= SL_TCP_F_ACK_NOW;
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
	if (rx->len != 0) {
		d = sl_seq_diff(sl_seq_add(rx->seq, rx->len), sl_seq_add(c->rcv_nxt, wnd));
		if (d > 0) {
			rx->len -= sl_tcp__min32((uint32_t)d, rx->len);
			seg->len = rx->len;
			rx->flags &= (uint8_t)~SL_TCP_FIN;
		}
	}

	/* fourth: check the SYN bit */
	if (rx->flags & SL_TCP_SYN) {
		if (c->state == SL_TCP_SYN_RCVD) {
			/* "In SYN-RECEIVED state, if the connection was initiated with a passive
			 * OPEN, then return this connection to the LISTEN state and return." */
			sl_tcp__end(c, &s->conn_aborted, SL_TCP_END_SILENT);
			return seg;
		}
		/* RFC 793 3.9: "If the SYN is in the window it is an error, send a reset" and
		 * signal "connection reset" (the challenge ACK of RFC 5961 4 comes later) */
		sl_tcp__send_ctl(st, &c->tuple, (rx->flags & SL_TCP_ACK_F) ? rx->ack : c->snd_max,
				 sl_seq_add(raw_seq, raw_len), SL_TCP_RST | SL_TCP_ACK_F);
		sl_tcp__end(c, &s->conn_aborted, SL_TCP_END_RESET);
		return seg;
	}

	/* fifth: check the ACK field */
	if (!(rx->flags & SL_TCP_ACK_F)) {
		/* "if the ACK bit is off, drop the segment and return" */
		s->drop_bad_hdr++;
		return seg;
	}
	if (c->state == SL_TCP_SYN_RCVD) {
		if (sl_seq_lt(c->snd_una, rx->ack) && sl_seq_le(rx->ack, c->snd_max)) {
			if (establish(c, rx) < 0)
				return seg;
		} else {
			/* "If the segment acknowledgment is not acceptable, form a reset segment
			 * <SEQ=SEG.ACK><CTL=RST> and send it." */
			struct sl_tcp_seq zero = {0};

			s->drop_bad_ack++;
			sl_tcp__send_ctl(st, &c->tuple, rx->ack, zero, SL_TCP_RST);
			return seg;
		}
	}
	r = process_ack(c, rx);
	if (r != 0)
		return seg;

	/* sixth, the URG bit: ignored. seventh: the segment text. Out of order (beyond
	 * RCV.NXT) it is ACKed at once with RCV.NXT and dropped (RFC 9293 3.8.6.3, RFC 5681
	 * 4.2: "an immediate ACK ... when an out-of-order segment arrives"). */
	if ((rx->len != 0 || (rx->flags & SL_TCP_FIN)) && rx->seq.v != c->rcv_nxt.v) {
		s->drop_out_of_order++;
		c->flags |= SL_TCP_F_ACK_NOW;
		return seg;
	}
	if (rx->len != 0) {
		switch (c->state) {
		case SL_TCP_ESTABLISHED:
		case SL_TCP_FIN_WAIT_1:
		case SL_TCP_FIN_WAIT_2:
			if (c->flags & SL_TCP_F_APP_CLOSED) {
				/* RFC 9293 3.10.4, RFC 1122 4.2.2.13: data for a closed connection
				 * is lost: say so with a RST */
				sl_tcp__send_rst(c);
				sl_tcp__end(c, &s->conn_aborted, SL_TCP_END_SILENT);
				return seg;
			}
			if (deliver(c, seg, rx) < 0)
				return NULL;
			seg = NULL;
			break;
		default:
			/* CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: "This should not occur, since
			 * a FIN has been received from the remote side. Ignore the segment
			 * text." */
			s->drop_out_of_window++;
			return seg;
		}
	}

	/* eighth: check the FIN bit */
	if (rx->flags & SL_TCP_FIN) {
		if (process_fin(c) < 0)
			return seg;
	}
	return seg;
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
	if (c == NULL || c->state == SL_TCP_CLOSED) {
		input_noconn(st, t, &rx, iss_floor);
		st->ops->seg_free(st->env, seg);
		return;
	}
	c->flags |= SL_TCP_F_BUSY;
	seg = input_conn(c, seg, &rx);
	if (seg != NULL)
		st->ops->seg_free(st->env, seg);
	if (c->state != SL_TCP_CLOSED) {
		const struct sl_tcp_listener *l = c->listener;

		sl_tcp__output(c);
		if ((c->flags & SL_TCP_F_WANT_WRITABLE) && sl_tcp__attached(c) &&
		    (c->sndq_len == 0 || sl_tcp_send_space(c) >= st->p.snd_buf / 4)) {
			c->flags &= (uint8_t)~SL_TCP_F_WANT_WRITABLE;
			if (l->ops->writable != NULL)
				l->ops->writable(l->app, c);
		}
		sl_tcp__ack_flush(c);
	}
	c->flags &= (uint8_t)~SL_TCP_F_BUSY;
	sl_tcp__reap(c);
}
