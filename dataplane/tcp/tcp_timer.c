/**
 * @file
 * The stack's hashed timing wheel (Varghese and Lauck, scheme 6) and what each connection
 * timer does when it fires: retransmission with exponential back-off (RFC 6298 5), SYN-ACK
 * retransmission, zero-window probes (persist), the delayed ACK, TIME_WAIT, FIN_WAIT_2 and
 * keepalive.
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
	SL_TCP_CLR(c, SL_TCP_F_TIMING);
}

/*
 * The retransmission timer of <c> fired (RFC 6298 5.4-5.6). In SYN_SENT and SYN_RCVD: resend
 * the SYN or SYN-ACK up to syn_retries times, backed off, then give up: an embryonic
 * passive connection silently, an active open with error(-ETIMEDOUT) (no RST: the peer
 * never answered, or has no state for our SYN-ACK). Synchronized:
 *
 * - the peer's window is zero and data waits: the timer is the persist timer (RFC 9293
 *   3.8.6.1): probe with one byte at SND.UNA (sent anew or again; the peer keeps it if its
 *   window opened, else answers with its window), backed off like the RTO; an answer
 *   resets the retry count (process_ack), so a peer that answers is probed forever;
 * - something is outstanding: a retransmission timeout: congestion state (tcp_cc.c), back
 *   to snd_una and resend one segment (the ACKs that follow send the rest).
 *
 * After `retries` tries without an answer the peer has vanished: RST, and error(-ETIMEDOUT)
 * (or `reset`) for the application; its queues are freed with it.
 */
static void
rexmit_timeout(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->stack;
	const struct sl_tcp_params *p = &st->p;
	int outstanding = c->snd_una.v != c->snd_max.v;
	int probe = c->snd_wnd == 0 && c->sndq_len != 0;
	uint32_t inflight;

	if (c->state == SL_TCP_SYN_RCVD || c->state == SL_TCP_SYN_SENT) {
		if (c->retries >= p->syn_retries) {
			if (c->flags & SL_TCP_F_ACTIVE) {
				st->stats.connect_failed++;
				sl_tcp__end(c, &st->stats.conn_timeout, SL_TCP_END_TIMEOUT);
			} else {
				sl_tcp__end(c, &st->stats.conn_timeout, SL_TCP_END_SILENT);
			}
			return;
		}
		c->retries++;
		backoff(c);
		st->stats.rto_timeouts++;
		sl_tcp__xmit(c, c->iss, 0, SL_TCP_SYN);
		return;
	}
	if (c->state == SL_TCP_TIME_WAIT || c->state == SL_TCP_FIN_WAIT_2 ||
	    c->state == SL_TCP_CLOSED)
		return;
	if (!outstanding && !probe) {
		/* a send that found no buffer */
		sl_tcp__output(c);
		return;
	}
	if (c->retries >= p->retries) {
		sl_tcp__send_rst(c);
		sl_tcp__end(c, &st->stats.conn_timeout, SL_TCP_END_TIMEOUT);
		return;
	}
	if (probe) {
		c->retries++;
		backoff(c);
		c->flags |= SL_TCP_F_PERSIST;
		st->stats.zwp_out++;
		sl_tcp__xmit(c, c->snd_una, 1, 0);
		SL_TCP_CLR(c, SL_TCP_F_TIMING); /* a probe is not timed */
		if (!sl_tcp__timer_armed(&c->rexmit_timer))
			sl_tcp__rexmit_arm(c);
		return;
	}
	st->stats.rto_timeouts++;
	sl_tcp__cc_timeout(c);
	c->retries++;
	backoff(c);
	c->snd_nxt = c->snd_una;
	inflight = sl_tcp__flight(c);
	if (sl_tcp__fin_sent(c))
		inflight--;
	sl_tcp__send_range(c, c->snd_una, inflight);
}

static void
delack_timeout(struct sl_tcp_conn *c)
{
	if (c->state == SL_TCP_CLOSED || c->state == SL_TCP_LISTEN)
		return;
	if ((c->flags & SL_TCP_F_ACK_NOW) || c->rcv_acked.v != c->rcv_nxt.v)
		sl_tcp__send_ack(c);
}

void
sl_tcp__keepalive_arm(struct sl_tcp_conn *c, uint64_t delay_us)
{
	sl_tcp__timer_arm(c->stack, &c->wait_timer, delay_us);
}

/*
 * Keepalive (RFC 1122 4.2.3.6): after the idle time without a segment from the peer, probe
 * with <SEQ=SND.NXT-1> and no data (an ACK any live peer answers), then every interval;
 * after `probes` unanswered (any ACK answers: process_ack resets the count) the connection
 * ends: RST, error(-ETIMEDOUT). While data is outstanding or waits, the retransmission and
 * persist timers watch the peer; keepalive only looks again later. The idle time is
 * measured from last_rx_tick, so segments in need not re-arm the timer.
 */
static void
keepalive_timeout(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->stack;
	const struct sl_tcp_listener *l = c->listener;
	uint64_t idle = sl_tcp__ka_idle(c), elapsed;

	if (!(c->flags & SL_TCP_F_KEEPALIVE) || c->state == SL_TCP_CLOSED ||
	    c->state == SL_TCP_TIME_WAIT)
		return;
	if (c->snd_una.v != c->snd_max.v || c->sndq_len != 0) {
		sl_tcp__keepalive_arm(c, idle);
		return;
	}
	elapsed = (uint64_t)(uint32_t)((uint32_t)st->tick - c->last_rx_tick) * st->p.tick_us;
	if (elapsed < idle) {
		sl_tcp__keepalive_arm(c, idle - elapsed);
		return;
	}
	if (c->retries >= (l->ka_probes != 0 ? l->ka_probes : SL_TCP_DEF_KA_PROBES)) {
		sl_tcp__send_rst(c);
		sl_tcp__end(c, &st->stats.conn_timeout, SL_TCP_END_TIMEOUT);
		return;
	}
	c->retries++;
	st->stats.keepalives_out++;
	sl_tcp__xmit(c, sl_seq_add(c->snd_una, UINT32_MAX), 0, 0);
	sl_tcp__keepalive_arm(c, l->ka_intvl_us != 0 ? l->ka_intvl_us : SL_TCP_DEF_KA_INTVL_US);
}

/* TIME_WAIT is over (RFC 9293 3.10.8), or a closed connection waited long enough in
 * FIN_WAIT_2 for a FIN that did not come; otherwise the wait timer is keepalive's. */
static void
wait_timeout(struct sl_tcp_conn *c)
{
	if (c->state == SL_TCP_TIME_WAIT ||
	    (c->state == SL_TCP_FIN_WAIT_2 && (c->flags & SL_TCP_F_APP_CLOSED)))
		sl_tcp__end(c, &c->stack->stats.conn_closed, SL_TCP_END_NORMAL);
	else
		keepalive_timeout(c);
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
