/**
 * @file
 * The sender's congestion control and loss recovery: slow start and congestion avoidance
 * (RFC 5681 3.1, with RFC 3465's byte counting and RFC 6928's initial window), limited
 * transmit (RFC 3042, in tcp_out.c), fast retransmit on three duplicate ACKs, and then one of
 * two recoveries:
 *
 * - NewReno (RFC 6582) without SACK: cwnd inflated by the duplicate ACKs, each partial ACK
 *   retransmits the next hole, a full ACK (all of `recover`) ends it;
 * - RFC 6675 with SACK: a scoreboard of at most SL_TCP_SACK_MAX ranges the peer reported,
 *   pipe instead of inflation, and NextSeg retransmitting only what is missing.
 *
 * The scoreboard is kept compact: sorted, disjoint, non-adjacent ranges inside
 * (SND.UNA, SND.MAX]; a fifth range drops the highest one, which only makes pipe larger
 * (data SACKed but not remembered counts as in flight): conservative, never a wrong
 * retransmission decision below it. After a timeout it is dropped (RFC 2018 8: the
 * receiver may renege).
 */
#include "tcp-priv.h"

static struct sl_tcp_seq
rd_seq(const uint8_t *p)
{
	return (struct sl_tcp_seq){sl_rd_be32(p)};
}

static uint32_t
range_len(const struct sl_tcp_sack *r)
{
	return (uint32_t)sl_seq_diff(r->end, r->start);
}

/* Drop the parts of the scoreboard that SND.UNA passed. */
static void
sack_trim(struct sl_tcp_conn *c)
{
	unsigned int i, k = 0;

	for (i = 0; i < c->n_sack; i++) {
		struct sl_tcp_sack r = c->sack[i];

		if (sl_seq_le(r.end, c->snd_una))
			continue;
		if (sl_seq_lt(r.start, c->snd_una))
			r.start = c->snd_una;
		c->sack[k++] = r;
	}
	c->n_sack = (uint8_t)k;
}

/* Add [l, r) to the scoreboard, merged with what it overlaps or touches. */
static void
sack_add(struct sl_tcp_conn *c, struct sl_tcp_seq l, struct sl_tcp_seq r)
{
	struct sl_tcp_sack out[SL_TCP_SACK_MAX + 1];
	unsigned int i, k = 0;
	int placed = 0;

	for (i = 0; i < c->n_sack; i++) {
		struct sl_tcp_sack s = c->sack[i];

		if (sl_seq_lt(s.end, l)) {
			out[k++] = s;
		} else if (sl_seq_gt(s.start, r)) {
			if (!placed) {
				out[k].start = l;
				out[k++].end = r;
				placed = 1;
			}
			out[k++] = s;
		} else {
			if (sl_seq_lt(s.start, l))
				l = s.start;
			if (sl_seq_gt(s.end, r))
				r = s.end;
		}
	}
	if (!placed) {
		out[k].start = l;
		out[k++].end = r;
	}
	if (k > SL_TCP_SACK_MAX)
		k = SL_TCP_SACK_MAX; /* the highest range goes: see the file comment */
	memcpy(c->sack, out, k * sizeof(out[0]));
	c->n_sack = (uint8_t)k;
}

static uint32_t
sacked_bytes(const struct sl_tcp_conn *c)
{
	uint32_t n = 0;
	unsigned int i;

	for (i = 0; i < c->n_sack; i++)
		n += range_len(&c->sack[i]);
	return n;
}

/*
 * sl_tcp__sack_update(<c>, <rx>): RFC 6675 4 Update(). Blocks that are empty, reversed,
 * below SND.UNA (D-SACK, RFC 2883: ignored) or beyond what we sent are not taken.
 */
uint32_t
sl_tcp__sack_update(struct sl_tcp_conn *c, const struct sl_tcp_rx *rx)
{
	uint32_t before;
	unsigned int i;

	sack_trim(c);
	before = sacked_bytes(c);
	for (i = 0; i < rx->n_sack; i++) {
		struct sl_tcp_seq l = rd_seq(rx->sack + 8 * i), r = rd_seq(rx->sack + 8 * i + 4);

		if (!sl_seq_lt(l, r) || sl_seq_le(r, c->snd_una) || sl_seq_gt(r, c->snd_max))
			continue;
		if (sl_seq_lt(l, c->snd_una))
			l = c->snd_una;
		sack_add(c, l, r);
	}
	return sacked_bytes(c) - before;
}

/*
 * RFC 6675 4 IsLost() for a sequence number that has <n> ranges and <bytes> SACKed above it:
 * "DupThresh discontiguous SACKed sequences have arrived above 'SeqNum' or more than
 * (DupThresh - 1) * SMSS bytes with sequence numbers greater than 'SeqNum' have been SACKed".
 */
static int
lost(const struct sl_tcp_conn *c, unsigned int n, uint32_t bytes)
{
	return n >= SL_TCP_DUPTHRESH || bytes > (SL_TCP_DUPTHRESH - 1) * (uint32_t)c->mss;
}

/*
 * The holes of the scoreboard: hole i (0 <= i <= n_sack) is [lo, hi) with lo the end of
 * range i - 1 (SND.UNA for i = 0) and hi the start of range i (SND.MAX for i = n_sack);
 * above[i] / nabove[i]: bytes and ranges SACKed above it.
 */
struct holes {
	struct sl_tcp_seq lo[SL_TCP_SACK_MAX + 1], hi[SL_TCP_SACK_MAX + 1];
	uint32_t above[SL_TCP_SACK_MAX + 1];
	unsigned int n; /* holes: n_sack + 1 */
};

static void
holes_of(const struct sl_tcp_conn *c, struct holes *h)
{
	unsigned int i, n = c->n_sack;
	uint32_t above = 0;

	h->n = n + 1;
	for (i = 0; i <= n; i++) {
		h->lo[i] = i == 0 ? c->snd_una : c->sack[i - 1].end;
		h->hi[i] = i == n ? c->snd_max : c->sack[i].start;
	}
	for (i = n + 1; i-- > 0;) {
		h->above[i] = above;
		if (i > 0)
			above += range_len(&c->sack[i - 1]);
	}
}

/*
 * RFC 6675 4 SetPipe(), over holes rather than octets: every octet of a hole has the same
 * ranges above it, so a hole is lost or not as a whole. Octets in a hole below HighRxt were
 * retransmitted and count again.
 */
static uint32_t
set_pipe(const struct sl_tcp_conn *c, const struct holes *h)
{
	uint32_t pipe = 0;
	unsigned int i;

	for (i = 0; i < h->n; i++) {
		struct sl_tcp_seq lo = h->lo[i], hi = h->hi[i];

		if (!sl_seq_lt(lo, hi))
			continue;
		if (!lost(c, h->n - 1 - i, h->above[i]))
			pipe += (uint32_t)sl_seq_diff(hi, lo);
		if (sl_seq_gt(c->high_rxt, lo))
			pipe += (uint32_t)sl_seq_diff(sl_seq_lt(c->high_rxt, hi) ? c->high_rxt : hi,
						      lo);
	}
	return pipe;
}

/* Enter recovery (RFC 6582 3.2 step 2, RFC 6675 5 steps (4.1)-(4.3)) and retransmit the
 * first unacknowledged segment: the fast retransmit. */
static void
recovery_enter(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->stack;
	uint32_t smss = c->mss;
	int sent;

	/* RFC 5681 eq. (4): ssthresh = max (FlightSize / 2, 2*SMSS) */
	c->ssthresh = sl_tcp__max32(sl_tcp__flight(c) / 2, 2 * smss);
	c->recover = c->snd_max;
	c->high_rxt = c->snd_una;
	SL_TCP_CLR(c, SL_TCP_F_PARTIAL);
	c->flags |= SL_TCP_F_RECOVERY;
	st->stats.fast_retransmits++;
	sent = sl_tcp__send_range(c, c->snd_una, smss);
	if (sent > 0)
		c->high_rxt = sl_seq_add(c->snd_una, (uint32_t)sent);
	/* RFC 6582 3.2 step 2: "set cwnd to ssthresh + 3*SMSS" (inflation by the three
	 * duplicates); RFC 6675 5 (4.2): cwnd = ssthresh, pipe does the rest */
	c->cwnd = (c->flags & SL_TCP_F_SACK) ? c->ssthresh : c->ssthresh + 3 * smss;
}

/* A full ACK: RFC 6582 3.2 step 3 (1): cwnd = min (ssthresh, max (FlightSize, SMSS) + SMSS),
 * which avoids a burst; the same for RFC 6675 recovery. */
static void
recovery_exit(struct sl_tcp_conn *c)
{
	uint32_t smss = c->mss;

	SL_TCP_CLR(c, SL_TCP_F_RECOVERY | SL_TCP_F_PARTIAL);
	c->dupacks = 0;
	c->cwnd = sl_tcp__min32(c->ssthresh, sl_tcp__max32(sl_tcp__flight(c), smss) + smss);
}

/*
 * sl_tcp__cc_ack(<c>, <acked>, <dup>): called after SND.UNA and the scoreboard moved and
 * DupAcks was counted (RFC 5681 3.2, RFC 6675 5). The retransmission timer is process_ack's
 * (RFC 6298 5.3), except that a NewReno recovery restarts it only for its first partial
 * ACK (RFC 6582 3.2 step 5 and 4, the Impatient variant: SL_TCP_F_PARTIAL).
 */
void
sl_tcp__cc_ack(struct sl_tcp_conn *c, uint32_t acked, int dup)
{
	struct sl_tcp_stack *st = c->stack;
	uint32_t smss = c->mss;

	if (c->flags & SL_TCP_F_RECOVERY) {
		if (acked != 0 && sl_seq_ge(c->snd_una, c->recover)) {
			recovery_exit(c);
			return;
		}
		if (c->flags & SL_TCP_F_SACK) {
			/* RFC 6675 5 (C): what to send is NextSeg's choice, in sl_tcp__output() */
			if (sl_seq_lt(c->high_rxt, c->snd_una))
				c->high_rxt = c->snd_una;
			return;
		}
		if (acked != 0) {
			/* RFC 6582 3.2 step 5, partial ACK: "retransmit the first unacknowledged
			 * segment ... deflate the congestion window by the amount of new data
			 * acknowledged ... If the partial ACK acknowledges at least one SMSS of
			 * new data, then add back SMSS bytes" */
			st->stats.fast_retransmits++;
			sl_tcp__send_range(c, c->snd_una, smss);
			c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
			if (acked >= smss)
				c->cwnd += smss;
			if (c->cwnd < smss)
				c->cwnd = smss;
			c->flags |= SL_TCP_F_PARTIAL;
		} else if (dup) {
			/* RFC 6582 3.2 step 4 (RFC 5681 3.2 step 4): each further duplicate ACK
			 * inflates cwnd by SMSS: one segment left the network */
			c->cwnd += smss;
		}
		return;
	}
	if (acked != 0) {
		if (c->cwnd < c->ssthresh)
			/* RFC 5681 3.1 slow start, counting bytes with RFC 3465 2.2's L = 2*SMSS
			 * (an ACK of a delayed-ACK pair grows cwnd by both segments) */
			c->cwnd += sl_tcp__min32(acked, 2 * smss);
		else
			/* RFC 5681 3.1 eq. (3): cwnd += SMSS*SMSS/cwnd */
			c->cwnd += sl_tcp__max32(1, (uint32_t)((uint64_t)smss * smss / c->cwnd));
		if (c->cwnd > SL_TCP_CWND_MAX)
			c->cwnd = SL_TCP_CWND_MAX;
	}
	/* RFC 5681 3.2 step 2 / RFC 6675 5: the third duplicate ACK, or with SACK a first
	 * unacknowledged octet that IsLost(); RFC 6582 3.2 step 2 (and RFC 6675 5.1): not
	 * before SND.UNA reached `recover` of an earlier recovery or timeout */
	if (dup && sl_seq_ge(c->snd_una, c->recover) &&
	    (c->dupacks >= SL_TCP_DUPTHRESH ||
	     ((c->flags & SL_TCP_F_SACK) && c->n_sack != 0 && lost(c, c->n_sack, sacked_bytes(c)))))
		recovery_enter(c);
}

/*
 * sl_tcp__cc_timeout(<c>): before the retry counter moves. RFC 5681 3.1: "when a TCP
 * sender detects segment loss using the retransmission timer and the given segment has
 * already been retransmitted by way of the retransmission timer at least once, the value
 * of ssthresh is held constant"; cwnd is the loss window, one SMSS.
 */
void
sl_tcp__cc_timeout(struct sl_tcp_conn *c)
{
	uint32_t smss = c->mss;

	if (c->retries == 0)
		c->ssthresh = sl_tcp__max32(sl_tcp__flight(c) / 2, 2 * smss);
	c->cwnd = smss;
	c->recover = c->snd_max;
	c->high_rxt = c->snd_una;
	c->dupacks = 0;
	c->n_sack = 0;
	SL_TCP_CLR(c, SL_TCP_F_RECOVERY | SL_TCP_F_PARTIAL);
}

/*
 * RFC 6675 4 NextSeg() rules (1) and (3) over the holes above HighRxt: (1) <want_lost>: the
 * first octet that IsLost(); (3) else the first not SACKed below the highest SACKed octet.
 * Rule (2), new data, is the caller's, between the two. @return 1 with <*seq> and <*max>
 * (the bytes of the hole from there), 0 when there is none.
 */
static int
next_hole(const struct sl_tcp_conn *c, const struct holes *h, int want_lost, struct sl_tcp_seq *seq,
	  uint32_t *max)
{
	struct sl_tcp_seq from = sl_seq_gt(c->high_rxt, c->snd_una) ? c->high_rxt : c->snd_una;
	unsigned int i;

	/* the hole above the highest range has nothing SACKed above it: never (1) nor (3) */
	for (i = 0; i + 1 < h->n; i++) {
		struct sl_tcp_seq lo = sl_seq_gt(from, h->lo[i]) ? from : h->lo[i];

		if (!sl_seq_lt(lo, h->hi[i]))
			continue;
		if (want_lost && !lost(c, h->n - 1 - i, h->above[i]))
			continue;
		*seq = lo;
		*max = (uint32_t)sl_seq_diff(h->hi[i], lo);
		return 1;
	}
	return 0;
}

/*
 * sl_tcp__sack_output(<c>): RFC 6675 5 (C): "If cwnd - pipe >= 1 SMSS, the sender SHOULD
 * transmit one or more segments": (C.1) NextSeg, (C.2) HighRxt follows a retransmission,
 * (C.4) pipe grows by what was sent, (C.5) while cwnd - pipe >= 1 SMSS.
 */
void
sl_tcp__sack_output(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->stack;
	uint32_t smss = c->mss, pipe, max;
	struct sl_tcp_seq seq;
	struct holes h;
	int sent;

	holes_of(c, &h);
	pipe = set_pipe(c, &h);
	while (c->cwnd >= pipe && c->cwnd - pipe >= smss) {
		if (!next_hole(c, &h, 1, &seq, &max)) {
			/* (2): new data, as the peer's window allows */
			sent = sl_tcp__send_new(c, INT32_MAX);
			if (sent < 0)
				return;
			if (sent > 0) {
				pipe += (uint32_t)sent;
				continue;
			}
			if (!next_hole(c, &h, 0, &seq, &max))
				return;
		}
		sent = sl_tcp__send_range(c, seq, sl_tcp__min32(max, smss));
		if (sent <= 0)
			return;
		st->stats.sack_retransmits++;
		c->high_rxt = sl_seq_add(seq, (uint32_t)sent);
		pipe += (uint32_t)sent;
	}
}
