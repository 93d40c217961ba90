/**
 * @file
 * Segments out: the header and options, the window we advertise, the checksum, and the
 * send side (segmentation of the send queue to MSS, the FIN after it, ACKs, RSTs).
 *
 * Payload is copied from the send queue into a buffer from ops->pkt_alloc; the queue keeps
 * the bytes until they are acknowledged. Congestion control and SACK recovery decide in
 * tcp_cc.c what may go; this file builds it. snd_max is RFC 9293's SND.NXT (the highest sequence
 * sent); snd_nxt is where the next segment starts, pulled back to snd_una by a retransmission
 * timeout (go-back-N) and moved on again as segments go out or ACKs pass it.
 */
#include "tcp-priv.h"

uint32_t
sl_tcp__phdr_sum(struct sl_ip4 src, struct sl_ip4 dst, uint32_t tcp_len)
{
	return (src.v >> 16) + (src.v & 0xffff) + (dst.v >> 16) + (dst.v & 0xffff) +
	       SL_IPPROTO_TCP + tcp_len;
}

/* Write the 20 fixed bytes of a header from our side of <t>. */
static void
hdr_write(uint8_t *h, const struct sl_tcp_tuple *t, uint32_t seq, uint32_t ack, uint8_t flags,
	  uint16_t wnd, unsigned int hlen)
{
	sl_wr_be16(h + SL_TCP_SPORT, t->lport);
	sl_wr_be16(h + SL_TCP_DPORT, t->rport);
	sl_wr_be32(h + SL_TCP_SEQ, seq);
	sl_wr_be32(h + SL_TCP_ACK, ack);
	h[SL_TCP_OFF] = (uint8_t)((hlen / 4) << 4);
	h[SL_TCP_FLAGS] = flags;
	sl_wr_be16(h + SL_TCP_WIN, wnd);
	sl_wr_be16(h + SL_TCP_CSUM, 0);
	sl_wr_be16(h + SL_TCP_URP, 0);
}

/*
 * Checksum of the <tcp_len> bytes at <h> (RFC 9293 3.1: over the pseudo-header, the header
 * and the data). With tx_csum_offload the port finishes it: write the folded pseudo-header
 * sum, not complemented (what the NIC expects, as DPDK's rte_ipv4_phdr_cksum()).
 */
static void
csum_write(const struct sl_tcp_stack *st, const struct sl_tcp_tuple *t, uint8_t *h,
	   uint32_t tcp_len)
{
	uint32_t ph = sl_tcp__phdr_sum(t->laddr, t->raddr, tcp_len);

	if (st->p.tx_csum_offload) {
		while (ph >> 16)
			ph = (ph & 0xffff) + (ph >> 16);
		sl_wr_be16(h + SL_TCP_CSUM, (uint16_t)ph);
	} else {
		sl_wr_be16(h + SL_TCP_CSUM, sl_net_csum(h, tcp_len, ph));
	}
}

/*
 * sl_tcp__send_ctl(<st>, <t>, <seq>, <ack>, <flags>): a bare segment with window 0 and no
 * connection behind it, such as the RST answers of RFC 9293 3.10.7.1.
 */
void
sl_tcp__send_ctl(struct sl_tcp_stack *st, const struct sl_tcp_tuple *t, struct sl_tcp_seq seq,
		 struct sl_tcp_seq ack, uint8_t flags)
{
	uint8_t *frame;
	void *pkt = st->ops->pkt_alloc(st->env, &frame, SL_TCP_L4_OFF + SL_TCP_HLEN);
	uint8_t *h;

	if (pkt == NULL) {
		st->stats.drop_no_buf++;
		return;
	}
	h = frame + SL_TCP_L4_OFF;
	hdr_write(h, t, seq.v, ack.v, flags, 0, SL_TCP_HLEN);
	csum_write(st, t, h, SL_TCP_HLEN);
	st->ops->pkt_xmit(st->env, pkt, frame, SL_TCP_HLEN, t);
	st->stats.segs_out++;
	if (flags & SL_TCP_RST)
		st->stats.rst_out++;
}

/*
 * The sequence number of a segment that occupies none: SND.NXT (snd_max), unless that is
 * beyond the peer's window (a FIN or a probe byte it has not taken): then the window's
 * right edge, which a receiver with a zero window still accepts (RFC 9293 3.10.7.4: "special
 * allowance should be made to accept valid ACKs ... and RSTs"; as Linux's
 * tcp_acceptable_seq()).
 */
static struct sl_tcp_seq
acceptable_seq(const struct sl_tcp_conn *c)
{
	struct sl_tcp_seq edge = sl_seq_add(c->snd_una, c->snd_wnd);

	return sl_seq_gt(c->snd_max, edge) && c->state != SL_TCP_SYN_RCVD ? edge : c->snd_max;
}

void
sl_tcp__send_rst(struct sl_tcp_conn *c)
{
	struct sl_tcp_seq zero = {0};

	sl_tcp__send_ctl(c->stack, &c->tuple, acceptable_seq(c), zero, SL_TCP_RST);
}

/*
 * sl_tcp__wnd_field(<c>): RCV.WND = rcv_buf - rcv_held, shifted by our scale (RFC 7323 2.3),
 * rounded up where rounding down would move the right edge left: RFC 9293 3.8.6.2.2 ("the
 * receiver ... MUST NOT shrink the window, i.e., move the right window edge to the left").
 * rcv_adv follows the edge announced.
 */
uint16_t
sl_tcp__wnd_field(struct sl_tcp_conn *c)
{
	uint32_t buf = c->stack->p.rcv_buf;
	uint32_t avail = buf - sl_tcp__min32(c->rcv_held, buf);
	int32_t d = sl_seq_diff(c->rcv_adv, c->rcv_nxt);
	uint32_t adv = d > 0 ? (uint32_t)d : 0;
	uint32_t wnd = avail > adv ? avail : adv;
	uint32_t field = wnd >> c->rcv_wscale;
	struct sl_tcp_seq edge;

	if (((uint64_t)field << c->rcv_wscale) < adv)
		field++;
	if (field > 0xffff)
		field = 0xffff;
	edge = sl_seq_add(c->rcv_nxt, field << c->rcv_wscale);
	if (sl_seq_gt(edge, c->rcv_adv))
		c->rcv_adv = edge;
	return (uint16_t)field;
}

/* Copy <len> bytes of the send queue, from <off> bytes after snd_una, to <dst>. */
static void
sndq_copy(const struct sl_tcp_conn *c, uint32_t off, uint8_t *dst, uint32_t len)
{
	const struct sl_tcp_seg *s = c->sndq_head;

	off += c->sndq_off;
	while (s != NULL && off >= s->len) {
		off -= s->len;
		s = s->next;
	}
	while (s != NULL && len != 0) {
		uint32_t n = sl_tcp__min32(s->len - off, len);

		memcpy(dst, s->data + off, n);
		dst += n;
		len -= n;
		off = 0;
		s = s->next;
	}
}

/* After any segment carrying our current ACK: nothing is owed any more. */
static void
ack_sent(struct sl_tcp_conn *c)
{
	c->rcv_acked = c->rcv_nxt;
	SL_TCP_CLR(c, SL_TCP_F_ACK_NOW);
	if (sl_tcp__timer_armed(&c->delack_timer))
		sl_tcp__timer_cancel(&c->delack_timer);
}

/* The length of the SYN options <so> (see tcp-priv.h). */
static unsigned int
syn_opts_len(const struct sl_tcp_synopts *so)
{
	unsigned int n = SL_TCP_OPT_MSS_LEN + (so->ws >= 0 ? 4 : 0);

	if (so->ts)
		n += SL_TCP_OPT_TS_ALIGNED;
	else if (so->sack_ok)
		n += 4;
	return n;
}

/* Write the SYN options <so> at <o>. @return their length. */
static unsigned int
syn_opts_write(const struct sl_tcp_synopts *so, uint8_t *o)
{
	unsigned int k = SL_TCP_OPT_MSS_LEN;

	o[0] = SL_TCP_OPT_MSS;
	o[1] = SL_TCP_OPT_MSS_LEN;
	sl_wr_be16(o + 2, so->mss);
	if (so->ts) {
		if (so->sack_ok) {
			o[k] = SL_TCP_OPT_SACK_OK;
			o[k + 1] = SL_TCP_OPT_SACK_OK_LEN;
		} else {
			o[k] = o[k + 1] = SL_TCP_OPT_NOP;
		}
		o[k + 2] = SL_TCP_OPT_TS;
		o[k + 3] = SL_TCP_OPT_TS_LEN;
		sl_wr_be32(o + k + 4, so->tsval);
		sl_wr_be32(o + k + 8, so->tsecr);
		k += SL_TCP_OPT_TS_ALIGNED;
	} else if (so->sack_ok) {
		o[k] = o[k + 1] = SL_TCP_OPT_NOP;
		o[k + 2] = SL_TCP_OPT_SACK_OK;
		o[k + 3] = SL_TCP_OPT_SACK_OK_LEN;
		k += 4;
	}
	if (so->ws >= 0) {
		o[k] = SL_TCP_OPT_NOP;
		o[k + 1] = SL_TCP_OPT_WS;
		o[k + 2] = SL_TCP_OPT_WS_LEN;
		o[k + 3] = (uint8_t)so->ws;
		k += 4;
	}
	return k;
}

/*
 * The SYN options of <c>: our SYN offers what the parameters allow (F_SACK and F_TS say so
 * in SYN_SENT) and always window scale (RFC 7323 2.2: "MAY be sent in an initial <SYN>");
 * a SYN-ACK what was agreed, window scale when the SYN had it (both shifts are set then,
 * unless both are 0).
 */
static void
syn_opts(const struct sl_tcp_conn *c, struct sl_tcp_synopts *so)
{
	so->mss = c->stack->p.mss;
	if (c->state == SL_TCP_SYN_SENT || (c->snd_wscale | c->rcv_wscale))
		so->ws = (int8_t)c->rcv_wscale;
	else
		so->ws = -1;
	so->sack_ok = (c->flags & SL_TCP_F_SACK) != 0;
	so->ts = (c->flags & SL_TCP_F_TS) != 0;
	so->tsval = so->ts ? sl_tcp__ts_now(c) : 0;
	so->tsecr = c->ts_recent;
}

uint16_t
sl_tcp__syn_wnd(const struct sl_tcp_stack *st, uint32_t rcv_held)
{
	return (uint16_t)sl_tcp__min32(st->p.rcv_buf - sl_tcp__min32(rcv_held, st->p.rcv_buf),
				       0xffff);
}

/*
 * sl_tcp__send_synack(<st>, <t>, <iss>, <ack>, <so>): a SYN-ACK that no connection stands
 * behind (a SYN cookie's): the whole free window, unscaled.
 */
void
sl_tcp__send_synack(struct sl_tcp_stack *st, const struct sl_tcp_tuple *t, struct sl_tcp_seq iss,
		    struct sl_tcp_seq ack, const struct sl_tcp_synopts *so)
{
	unsigned int hlen = SL_TCP_HLEN + syn_opts_len(so);
	uint8_t *frame;
	void *pkt = st->ops->pkt_alloc(st->env, &frame, (uint16_t)(SL_TCP_L4_OFF + hlen));
	uint8_t *h;

	if (pkt == NULL) {
		st->stats.drop_no_buf++;
		return;
	}
	h = frame + SL_TCP_L4_OFF;
	hdr_write(h, t, iss.v, ack.v, SL_TCP_SYN | SL_TCP_ACK_F, sl_tcp__syn_wnd(st, 0), hlen);
	syn_opts_write(so, h + SL_TCP_HLEN);
	csum_write(st, t, h, hlen);
	st->ops->pkt_xmit(st->env, pkt, frame, (uint16_t)hlen, t);
	st->stats.segs_out++;
}

/*
 * sl_tcp__xmit(<c>, <seq>, <len>, <flags>): build and send one segment. SYN segments carry
 * MSS and what was agreed of SACK-permitted, timestamps and window scale (RFC 7323 2.2 and
 * 3.2, RFC 2018 2: a <SYN,ACK> carries them only if the <SYN> did), and an unscaled window;
 * our SYN (SYN_SENT) offers them all and has no ACK (RFC 9293 3.10.1: <SEQ=ISS><CTL=SYN>).
 * Other segments carry the timestamps when agreed (RFC 7323 3.2: "in every non-<RST>
 * segment") and SACK blocks while data is queued out of order (RFC 2018 4); the payload
 * is cut so that options and data stay within the MSS (RFC 6691).
 * Sequence bookkeeping: snd_nxt and snd_max move past what the segment occupies; new data
 * starts an RTT measurement when none runs (RFC 6298 3; with timestamps it is the fallback); a
 * segment below snd_max is a retransmission. The retransmission timer runs while anything
 * occupying sequence space is outstanding (RFC 6298 5.1).
 */
int
sl_tcp__xmit(struct sl_tcp_conn *c, struct sl_tcp_seq seq, uint32_t len, uint8_t flags)
{
	struct sl_tcp_stack *st = c->stack;
	uint8_t sack[8 * SL_TCP_SACK_MAX];
	unsigned int hlen = SL_TCP_HLEN, n_sack = 0;
	struct sl_tcp_synopts so;
	uint32_t seqspace, ack = c->rcv_nxt.v;
	struct sl_tcp_seq end;
	uint8_t *frame, *h;
	uint16_t wnd;
	void *pkt;

	if (flags & SL_TCP_SYN) {
		wnd = sl_tcp__syn_wnd(st, c->rcv_held);
		if (c->state == SL_TCP_SYN_SENT)
			ack = 0; /* RCV.NXT is not known yet (rcv_adv is set from the SYN-ACK) */
		else if (sl_seq_gt(sl_seq_add(c->rcv_nxt, wnd), c->rcv_adv))
			c->rcv_adv = sl_seq_add(c->rcv_nxt, wnd);
		syn_opts(c, &so);
		hlen += syn_opts_len(&so);
	} else {
		wnd = sl_tcp__wnd_field(c);
		if (c->flags & SL_TCP_F_TS)
			hlen += SL_TCP_OPT_TS_ALIGNED;
		if (SL_UNLIKELY(c->ooo_head != NULL) && (c->flags & SL_TCP_F_SACK))
			n_sack = sl_tcp__sack_blocks(
				c, sack, (c->flags & SL_TCP_F_TS) ? 3 : SL_TCP_SACK_MAX);
		if (n_sack != 0) {
			/* c->mss >= 36 leaves room beside 3 blocks (with TS), 4 without */
			uint32_t room = c->mss - 4 - 8 * n_sack;

			if (len > room) {
				len = room;
				flags &= (uint8_t) ~(SL_TCP_FIN | SL_TCP_PSH);
			}
			hlen += 4 + 8 * n_sack;
		}
	}
	seqspace = len + ((flags & SL_TCP_SYN) != 0) + ((flags & SL_TCP_FIN) != 0);
	pkt = st->ops->pkt_alloc(st->env, &frame, (uint16_t)(SL_TCP_L4_OFF + hlen + len));
	if (SL_UNLIKELY(pkt == NULL)) {
		st->stats.drop_no_buf++;
		/* try again from a timer: data and control from the retransmission timer, an
		 * ACK from the delayed-ACK one */
		if (seqspace != 0 && !sl_tcp__timer_armed(&c->rexmit_timer))
			sl_tcp__rexmit_arm(c);
		else if (seqspace == 0 && !sl_tcp__timer_armed(&c->delack_timer))
			sl_tcp__timer_arm(st, &c->delack_timer, st->p.delack_us);
		return -ENOBUFS;
	}
	h = frame + SL_TCP_L4_OFF;
	if (c->state != SL_TCP_SYN_SENT)
		flags |= SL_TCP_ACK_F;
	hdr_write(h, &c->tuple, seq.v, ack, flags, wnd, hlen);
	if (flags & SL_TCP_SYN) {
		syn_opts_write(&so, h + SL_TCP_HLEN);
	} else if (hlen != SL_TCP_HLEN) {
		uint8_t *o = h + SL_TCP_HLEN;

		if (c->flags & SL_TCP_F_TS) {
			sl_wr_be32(o, SL_TCP_TS_WORD);
			sl_wr_be32(o + 4, sl_tcp__ts_now(c));
			sl_wr_be32(o + 8, c->ts_recent);
			o += SL_TCP_OPT_TS_ALIGNED;
		}
		if (n_sack != 0) {
			o[0] = o[1] = SL_TCP_OPT_NOP;
			o[2] = SL_TCP_OPT_SACK;
			o[3] = (uint8_t)(2 + 8 * n_sack);
			memcpy(o + 4, sack, 8 * n_sack);
		}
	}
	if (len != 0)
		sndq_copy(c, (uint32_t)sl_seq_diff(seq, c->snd_una), h + hlen, len);
	csum_write(st, &c->tuple, h, hlen + len);
	st->ops->pkt_xmit(st->env, pkt, frame, (uint16_t)(hlen + len), &c->tuple);
	st->stats.segs_out++;
	st->stats.bytes_out += len;
	ack_sent(c);
	if (seqspace == 0)
		return 0;
	end = sl_seq_add(seq, seqspace);
	if (sl_seq_lt(seq, c->snd_max)) {
		st->stats.retransmits++;
		/* Karn (RFC 6298 3): the timed segment was sent again: no sample from it */
		if (sl_seq_lt(seq, c->rtt_seq))
			SL_TCP_CLR(c, SL_TCP_F_TIMING);
	} else if (!(c->flags & SL_TCP_F_TIMING)) {
		c->flags |= SL_TCP_F_TIMING;
		c->rtt_seq = end;
		c->rtt_start_us = (uint32_t)st->now_us;
	}
	if (sl_seq_gt(end, c->snd_nxt))
		c->snd_nxt = end;
	if (sl_seq_gt(end, c->snd_max))
		c->snd_max = end;
	if (!sl_tcp__timer_armed(&c->rexmit_timer))
		sl_tcp__rexmit_arm(c);
	return (int)len;
}

/*
 * sl_tcp__send_range(<c>, <seq>, <max>): a retransmission from <seq> (at or above snd_una):
 * PSH when it reaches the end of the queue, and the FIN too when that was sent already.
 */
int
sl_tcp__send_range(struct sl_tcp_conn *c, struct sl_tcp_seq seq, uint32_t max)
{
	uint32_t off = (uint32_t)sl_seq_diff(seq, c->snd_una);
	uint32_t avail = off < c->sndq_len ? c->sndq_len - off : 0;
	uint32_t len = sl_tcp__min32(sl_tcp__min32(max, avail), c->mss);
	uint8_t flags = 0;

	if (len == avail) {
		if (len != 0)
			flags |= SL_TCP_PSH;
		if (sl_tcp__fin_sent(c))
			flags |= SL_TCP_FIN;
	}
	if (len == 0 && !(flags & SL_TCP_FIN))
		return 0;
	return sl_tcp__xmit(c, seq, len, flags);
}

void
sl_tcp__send_ack(struct sl_tcp_conn *c)
{
	sl_tcp__xmit(c, acceptable_seq(c), 0, 0);
}

void
sl_tcp__ack_flush(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->stack;

	if (c->state == SL_TCP_CLOSED)
		return;
	if (c->flags & SL_TCP_F_ACK_NOW)
		sl_tcp__send_ack(c);
	else if (c->rcv_acked.v != c->rcv_nxt.v && !sl_tcp__timer_armed(&c->delack_timer))
		sl_tcp__timer_arm(st, &c->delack_timer, st->p.delack_us); /* RFC 9293 3.8.6.3 */
}

/*
 * sl_tcp__send_new(<c>, <room>): RFC 9293 3.8.6.2.1 asks a sender to avoid silly windows;
 * for the congestion window it is done here: a segment shorter than MSS and than the data
 * waiting does not go out just because cwnd has room for only that much. The peer's window
 * is used as it is (a small one is all the peer offers).
 */
int
sl_tcp__send_new(struct sl_tcp_conn *c, int32_t room)
{
	uint32_t off = (uint32_t)sl_seq_diff(c->snd_nxt, c->snd_una), unsent, len;
	int32_t usable;
	uint8_t flags;
	int r;

	if (off >= c->sndq_len) {
		/* the FIN alone once everything before it was sent (it needs no window) */
		if ((c->flags & SL_TCP_F_SHUT_WR) && c->snd_nxt.v == sl_tcp__fin_seq(c).v)
			return sl_tcp__xmit(c, c->snd_nxt, 0, SL_TCP_FIN) < 0 ? -1 : 1;
		return 0;
	}
	unsent = c->sndq_len - off;
	usable = sl_seq_diff(sl_seq_add(c->snd_una, c->snd_wnd), c->snd_nxt);
	if (usable <= 0)
		return 0;
	len = sl_tcp__min32(sl_tcp__min32(unsent, (uint32_t)usable), c->mss);
	if (room < (int32_t)len)
		return 0;
	flags = len == unsent ? SL_TCP_PSH : 0;
	if (len == unsent && (c->flags & SL_TCP_F_SHUT_WR))
		flags |= SL_TCP_FIN;
	r = sl_tcp__xmit(c, c->snd_nxt, len, flags);
	if (r < 0)
		return -1;
	return r + ((flags & SL_TCP_FIN) && (uint32_t)r == len);
}

/*
 * sl_tcp__output(<c>): send the queue from snd_nxt as far as the peer's window and the
 * congestion window allow, in segments of at most MSS, PSH on the last; the FIN rides on the
 * last data segment or goes alone once everything before it was sent. Limited transmit
 * (RFC 3042): the first two duplicate ACKs each let one more segment out beyond cwnd. In
 * SACK recovery RFC 6675 decides (sl_tcp__sack_output()). When data waits for a zero window
 * with nothing outstanding, the retransmission timer runs as the persist timer (RFC 9293
 * 3.8.6.1: the window must be probed).
 */
void
sl_tcp__output(struct sl_tcp_conn *c)
{
	switch (c->state) {
	case SL_TCP_ESTABLISHED:
	case SL_TCP_CLOSE_WAIT:
	case SL_TCP_FIN_WAIT_1:
	case SL_TCP_CLOSING:
	case SL_TCP_LAST_ACK:
		break;
	default:
		return;
	}
	if (SL_UNLIKELY((c->flags & (SL_TCP_F_RECOVERY | SL_TCP_F_SACK)) ==
			(SL_TCP_F_RECOVERY | SL_TCP_F_SACK))) {
		sl_tcp__sack_output(c);
	} else {
		uint32_t cwnd = c->cwnd;

		/* RFC 3042: "previously unsent data", outside recovery */
		if (c->dupacks != 0 && !(c->flags & SL_TCP_F_RECOVERY) &&
		    c->snd_nxt.v == c->snd_max.v)
			cwnd += sl_tcp__min32(c->dupacks, 2) * (uint32_t)c->mss;
		for (;;) {
			int32_t room = sl_seq_diff(sl_seq_add(c->snd_una, cwnd), c->snd_nxt);

			if (sl_tcp__send_new(c, room) <= 0)
				break;
		}
	}
	if (c->snd_una.v == c->snd_max.v && c->sndq_len != 0 &&
	    !sl_tcp__timer_armed(&c->rexmit_timer))
		sl_tcp__rexmit_arm(c);
}
