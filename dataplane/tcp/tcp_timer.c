/**
 * @file
 * The stack's hashed timing wheel (Varghese and Lauck, scheme 6) and what each connection
 * timer does when it fires: retransmission with exponential back-off (RFC 6298 5), SYN-ACK
 * retransmission, zero-window probes, the delayed ACK, TIME_WAIT and FIN_WAIT_2.
 *
 * Slots hold unsorted lists; a timer due in more than SL_TCP_WHEEL_SLOTS ticks stays in its
 * slot for further rounds. Arming and cancelling are O(1); a tick visits one slot.
 */
#include "tcp-priv.h"

#define WHEEL_MASK (SL_TCP_WHEEL_SLOTS - 1)

_Static_assert((SL_TCP_WHEEL_SLOTS & WHEEL_MASK) == 0, "wheel size is a power of two");

static void
slot_insert(struct sl_tcp_timer **slot, struct sl_tcp_timer *tm)
{
	tm->next = *slot;
	if (tm->next != NULL)
		tm->next->pprev = &tm->next;
	*slot = tm;
	tm->pprev = slot;
}

void
sl_tcp__timer_cancel(struct sl_tcp_timer *tm)
{
	if (tm->pprev == NULL)
		return;
	*tm->pprev = tm->next;
	if (tm->next != NULL)
		tm->next->pprev = tm->pprev;
	tm->next = NULL;
	tm->pprev = NULL;
}

/*
 * sl_tcp__timer_arm(<st>, <tm>, <delay_us>): (re)arm <tm> to fire at the first tick at or
 * after now + <delay_us>: never early, late by less than a tick plus the caller's polling
 * interval. Never in a tick already processed (st->tick is the next one to process).
 */
void
sl_tcp__timer_arm(struct sl_tcp_stack *st, struct sl_tcp_timer *tm, uint64_t delay_us)
{
	uint64_t t = st->p.tick_us;
	uint64_t exp = (st->now_us + delay_us + t - 1) / t;

	if (exp < st->tick)
		exp = st->tick;
	sl_tcp__timer_cancel(tm);
	tm->expires = exp;
	slot_insert(&st->wheel[exp & WHEEL_MASK], tm);
}

void
sl_tcp__rexmit_arm(struct sl_tcp_conn *c)
{
	sl_tcp__timer_arm(c->stack, &c->rexmit_timer, c->rto_us);
}

/* RFC 6298 5.5: "The host MUST set RTO <- RTO * 2 ("back off the timer")", up to rto_max. */
static void
backoff(struct sl_tcp_conn *c)
{
	uint32_t max = c->stack->p.rto_max_us;

	c->rto_us = c->rto_us > max / 2 ? max : c->rto_us * 2;
	/* Karn: no RTT sample from a segment that was retransmitted */
	c->flags &= (uint8_t)~SL_TCP_F_TIMING;
}

/*
 * The retransmission timer of <c> fired (RFC 6298 5.4-5.6). In SYN_RCVD: resend the SYN-ACK
 * up to syn_retries times, then drop the embryonic connection silently. Synchronized: when
 * anything is outstanding, go back to snd_una and resend one segment (the ACKs that follow
 * send the rest); with a zero window and nothing outstanding, probe it with <SEQ=SND.UNA-1>,
 * which any live peer answers with its window. After `retries` tries without progress the
 * connection fails: RST, error(-ETIMEDOUT).
 */
static void
rexmit_timeout(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->stack;
	const struct sl_tcp_params *p = &st->p;
	int outstanding = c->snd_una.v != c->snd_max.v;
	uint32_t inflight, len;
	uint8_t flags;

	if (c->state == SL_TCP_SYN_RCVD) {
		if (c->retries >= p->syn_retries) {
			sl_tcp__end(c, &st->stats.conn_timeout, SL_TCP_END_SILENT);
			return;
		}
		c->retries++;
		backoff(c);
		sl_tcp__xmit(c, c->iss, 0, SL_TCP_SYN);
		return;
	}
	if (c->state == SL_TCP_TIME_WAIT || c->state == SL_TCP_FIN_WAIT_2 ||
	    c->state == SL_TCP_CLOSED)
		return;
	if (outstanding || (c->snd_wnd == 0 && c->sndq_len != 0)) {
		if (c->retries >= p->retries) {
			sl_tcp__send_rst(c);
			sl_tcp__end(c, &st->stats.conn_timeout, SL_TCP_END_TIMEOUT);
			return;
		}
		c->retries++;
		backoff(c);
	}
	if (outstanding) {
		c->snd_nxt = c->snd_una;
		inflight = (uint32_t)sl_seq_diff(c->snd_max, c->snd_una);
		if (sl_tcp__fin_sent(c))
			inflight--;
		len = sl_tcp__min32(inflight, c->mss);
		flags = len == c->sndq_len && len != 0 ? SL_TCP_PSH : 0;
		if (sl_tcp__fin_sent(c) && len == c->sndq_len)
			flags |= SL_TCP_FIN;
		sl_tcp__xmit(c, c->snd_una, len, flags);
	} else if (c->snd_wnd == 0 && c->sndq_len != 0) {
		/* RFC 9293 3.8.6.1: probe the zero window */
		sl_tcp__xmit(c, sl_seq_add(c->snd_una, UINT32_MAX), 0, 0);
		sl_tcp__rexmit_arm(c);
	} else {
		/* a send that found no buffer */
		sl_tcp__output(c);
	}
}

static void
delack_timeout(struct sl_tcp_conn *c)
{
	if (c->state == SL_TCP_CLOSED || c->state == SL_TCP_LISTEN)
		return;
	if ((c->flags & SL_TCP_F_ACK_NOW) || c->rcv_acked.v != c->rcv_nxt.v)
		sl_tcp__send_ack(c);
}

/* TIME_WAIT is over (RFC 9293 3.10.8), or a closed connection waited long enough in
 * FIN_WAIT_2 for a FIN that did not come. */
static void
wait_timeout(struct sl_tcp_conn *c)
{
	if (c->state == SL_TCP_TIME_WAIT || c->state == SL_TCP_FIN_WAIT_2)
		sl_tcp__end(c, &c->stack->stats.conn_closed, SL_TCP_END_NORMAL);
}

static void
fire(struct sl_tcp_timer *tm)
{
	switch (tm->kind) {
	case SL_TCP_TK_REXMIT:
		rexmit_timeout(SL_CONTAINER_OF(tm, struct sl_tcp_conn, rexmit_timer));
		break;
	case SL_TCP_TK_DELACK:
		delack_timeout(SL_CONTAINER_OF(tm, struct sl_tcp_conn, delack_timer));
		break;
	case SL_TCP_TK_WAIT:
		wait_timeout(SL_CONTAINER_OF(tm, struct sl_tcp_conn, wait_timer));
		break;
	default:
		break;
	}
}

/*
 * Run the timers of slot <idx> due by tick <limit>. The slot's list moves to a local head
 * first: what fires may arm timers (never into a processed tick) or cancel any timer,
 * including those still on the local list.
 */
static void
run_slot(struct sl_tcp_stack *st, unsigned int idx, uint64_t limit)
{
	struct sl_tcp_timer *list = st->wheel[idx], *tm;

	if (list == NULL)
		return;
	st->wheel[idx] = NULL;
	list->pprev = &list;
	while ((tm = list) != NULL) {
		list = tm->next;
		if (list != NULL)
			list->pprev = &list;
		tm->next = NULL;
		tm->pprev = NULL;
		if (tm->expires > limit)
			slot_insert(&st->wheel[idx], tm);
		else
			fire(tm);
	}
}

/*
 * sl_tcp_timer(<st>, <now_us>): process every tick up to now. A gap longer than the wheel
 * is one pass over all slots.
 */
void
sl_tcp_timer(struct sl_tcp_stack *st, uint64_t now_us)
{
	uint64_t target = sl_tcp__now(st, now_us) / st->p.tick_us;
	unsigned int i;

	if (target < st->tick)
		return;
	if (target - st->tick >= SL_TCP_WHEEL_SLOTS) {
		st->tick = target + 1;
		for (i = 0; i < SL_TCP_WHEEL_SLOTS; i++)
			run_slot(st, i, target);
		return;
	}
	while (st->tick <= target) {
		uint64_t k = st->tick++;

		run_slot(st, (unsigned int)(k & WHEEL_MASK), k);
	}
}
