/**
 * @file
 * The receiver's out-of-order queue and the SACK blocks made from it (RFC 2018).
 *
 * Segments that arrive beyond RCV.NXT, inside the window, are kept as they are: a sorted
 * singly linked list of the received buffers (struct sl_tcp_seg, seq set to the sequence
 * number of data[0]), disjoint (a newcomer is trimmed against its neighbours, or replaces
 * those it covers), with a tail pointer for the common case of arrivals in order beyond a
 * hole. It is bounded by ooo_max_bytes of payload and ooo_max_segs segments; beyond that,
 * segments are dropped (ooo_dropped). When the hole fills, sl_tcp__ooo_merge() appends what
 * became contiguous to the in-order segment: one chain, no copies.
 *
 * SACK blocks are the contiguous runs of the queue. RFC 2018 4: "The first SACK block ...
 * MUST specify the contiguous block of data containing the segment which triggered this
 * ACK"; the others SHOULD repeat the most recently reported ones. sack_hint[] keeps the
 * sequence numbers of the latest arrivals, newest first; blocks holding a hint go first in
 * that order, the highest other blocks fill what room is left.
 */
#include "tcp-priv.h"

static struct sl_tcp_seq
seg_seq(const struct sl_tcp_seg *s)
{
	return (struct sl_tcp_seq){s->seq};
}

static struct sl_tcp_seq
seg_end(const struct sl_tcp_seg *s)
{
	return (struct sl_tcp_seq){s->seq + s->len};
}

static int
in_range(struct sl_tcp_seq x, struct sl_tcp_seq l, struct sl_tcp_seq r)
{
	return sl_seq_le(l, x) && sl_seq_lt(x, r);
}

/*
 * Note an arrival at <seq> for the order of the SACK blocks: in front of the hints, unless
 * it continues the previous arrival (<prev> is its neighbour below in the queue and the
 * newest hint lies in it): then it replaces that hint, as it belongs to the same block.
 */
static void
hint_add(struct sl_tcp_conn *c, struct sl_tcp_seq seq, const struct sl_tcp_seg *prev)
{
	if (prev == NULL || seg_end(prev).v != seq.v ||
	    !in_range(c->sack_hint[0], seg_seq(prev), seg_end(prev)))
		memmove(&c->sack_hint[1], &c->sack_hint[0],
			(SL_TCP_SACK_MAX - 1) * sizeof(c->sack_hint[0]));
	c->sack_hint[0] = seq;
}

/*
 * sl_tcp__ooo_insert(<c>, <seg>, <rx>): find the place (after the tail at once when it is
 * beyond everything), trim the front of <seg> against the segment below, take out the
 * segments it covers and trim its end against the one above; check the bounds with what
 * that frees; link it. A segment with nothing new in it is dropped (drop_out_of_order).
 */
struct sl_tcp_seg *
sl_tcp__ooo_insert(struct sl_tcp_conn *c, struct sl_tcp_seg *seg, const struct sl_tcp_rx *rx)
{
	struct sl_tcp_stack *st = c->stack;
	struct sl_tcp_seq seq = rx->seq, end = sl_seq_add(rx->seq, rx->len);
	struct sl_tcp_seg *prev = NULL, *next, *s;
	uint32_t freed_bytes = 0, freed_segs = 0;

	if (c->ooo_tail != NULL && sl_seq_le(seg_end(c->ooo_tail), seq)) {
		prev = c->ooo_tail;
		next = NULL;
	} else {
		for (next = c->ooo_head; next != NULL && sl_seq_le(seg_end(next), seq);
		     next = next->next)
			prev = next;
	}
	/* <next>: the first queued segment ending after <seq>; it may cover our start */
	if (next != NULL && sl_seq_le(seg_seq(next), seq)) {
		if (sl_seq_ge(seg_end(next), end)) {
			hint_add(c, seq, prev);
			st->stats.drop_out_of_order++;
			return seg;
		}
		seq = seg_end(next);
		prev = next;
		next = next->next;
	}
	/* what we cover goes, what overlaps our end cuts it */
	for (s = next; s != NULL && sl_seq_lt(seg_seq(s), end); s = s->next) {
		if (sl_seq_gt(seg_end(s), end)) {
			end = seg_seq(s);
			break;
		}
		freed_bytes += s->len;
		freed_segs++;
	}
	/* trimmed at both ends to nothing: the two queued neighbours had it all */
	if (!sl_seq_lt(seq, end)) {
		hint_add(c, rx->seq, prev);
		st->stats.drop_out_of_order++;
		return seg;
	}
	if (c->ooo_bytes - freed_bytes + (uint32_t)sl_seq_diff(end, seq) > st->p.ooo_max_bytes ||
	    c->ooo_cnt - freed_segs + 1 > st->p.ooo_max_segs) {
		st->stats.ooo_dropped++;
		return seg;
	}
	while (freed_segs-- != 0) {
		s = next;
		next = s->next;
		c->ooo_bytes -= s->len;
		c->ooo_cnt--;
		st->ops->seg_free(st->env, s);
	}
	seg->data += (uint32_t)sl_seq_diff(seq, rx->seq);
	seg->len = (uint32_t)sl_seq_diff(end, seq);
	seg->seq = seq.v;
	seg->next = next;
	if (prev != NULL)
		prev->next = seg;
	else
		c->ooo_head = seg;
	if (next == NULL)
		c->ooo_tail = seg;
	c->ooo_bytes += seg->len;
	c->ooo_cnt++;
	st->stats.ooo_segs++;
	hint_add(c, rx->seq, prev);
	return NULL;
}

/* sl_tcp__ooo_merge(<c>, <tail>, <end>, <len>): see tcp-priv.h. */
struct sl_tcp_seg *
sl_tcp__ooo_merge(struct sl_tcp_conn *c, struct sl_tcp_seg *tail, struct sl_tcp_seq *end,
		  uint32_t *len)
{
	struct sl_tcp_stack *st = c->stack;
	struct sl_tcp_seg *s;

	while ((s = c->ooo_head) != NULL && sl_seq_le(seg_seq(s), *end)) {
		uint32_t cut;

		c->ooo_head = s->next;
		c->ooo_bytes -= s->len;
		c->ooo_cnt--;
		if (sl_seq_le(seg_end(s), *end)) {
			st->ops->seg_free(st->env, s);
			continue;
		}
		cut = (uint32_t)sl_seq_diff(*end, seg_seq(s));
		s->data += cut;
		s->len -= cut;
		s->seq += cut;
		tail->next = s;
		tail = s;
		*len += s->len;
		*end = seg_end(s);
	}
	if (c->ooo_head == NULL)
		c->ooo_tail = NULL;
	tail->next = NULL;
	return tail;
}

/*
 * sl_tcp__sack_blocks(<c>, <out>, <max>): one walk over the queue: each contiguous run is a
 * block; the first block holding each hint is remembered, and the last <max> blocks (the
 * highest). Then the hinted blocks, newest first, and the highest others, without repeats.
 */
unsigned int
sl_tcp__sack_blocks(const struct sl_tcp_conn *c, uint8_t *out, unsigned int max)
{
	struct sl_tcp_sack hinted[SL_TCP_SACK_MAX], top[SL_TCP_SACK_MAX], done[SL_TCP_SACK_MAX];
	unsigned int has_hint = 0, n_top = 0, n = 0, i, k;
	const struct sl_tcp_seg *s = c->ooo_head;

	while (s != NULL) {
		struct sl_tcp_sack b = {seg_seq(s), seg_end(s)};

		for (s = s->next; s != NULL && s->seq == b.end.v; s = s->next)
			b.end = seg_end(s);
		for (i = 0; i < SL_TCP_SACK_MAX; i++) {
			if (!(has_hint & (1u << i)) && in_range(c->sack_hint[i], b.start, b.end)) {
				hinted[i] = b;
				has_hint |= 1u << i;
			}
		}
		top[n_top++ % SL_TCP_SACK_MAX] = b;
	}
	for (i = 0; i < SL_TCP_SACK_MAX + n_top && n < max; i++) {
		struct sl_tcp_sack b;

		if (i < SL_TCP_SACK_MAX) {
			if (!(has_hint & (1u << i)))
				continue;
			b = hinted[i];
		} else {
			k = i - SL_TCP_SACK_MAX; /* the k-th highest */
			if (k >= SL_TCP_SACK_MAX)
				break;
			b = top[(n_top - 1 - k) % SL_TCP_SACK_MAX];
		}
		for (k = 0; k < n && done[k].start.v != b.start.v; k++)
			;
		if (k < n)
			continue;
		done[n] = b;
		sl_wr_be32(out + 8 * n, b.start.v);
		sl_wr_be32(out + 8 * n + 4, b.end.v);
		n++;
	}
	return n;
}
