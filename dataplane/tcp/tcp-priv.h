/**
 * @file
 * Internals of the TCP core shared by its .c files, not part of the API: the wire layout of
 * the TCP header and its options, connection flags, defaults, the parsed form of a received
 * segment, and the `sl_tcp__` functions (internal but non-static) through which tcp_in.c,
 * tcp_out.c, tcp_timer.c and tcp_conn.c call each other. Everything here runs on the lcore
 * that owns the stack.
 */
#ifndef SL_TCP_PRIV_H
#define SL_TCP_PRIV_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net.h"
#include "sl_util.h"
#include "tcp.h"

/*
 * TCP header (RFC 9293 3.1): offsets from the TCP header.
 *
 *   0       2       4               8               12  13  14      16      18      20
 *   +-------+-------+---------------+---------------+---+---+-------+-------+-------+-----
 *   | sport | dport |   sequence    |  acknowledge  |off|flg| window| csum  |  urg  | options
 *   +-------+-------+---------------+---------------+---+---+-------+-------+-------+-----
 *   off: data offset in 32-bit words in the high nibble.
 */
#define SL_TCP_SPORT 0
#define SL_TCP_DPORT 2
#define SL_TCP_SEQ 4
#define SL_TCP_ACK 8
#define SL_TCP_OFF 12
#define SL_TCP_FLAGS 13
#define SL_TCP_WIN 14
#define SL_TCP_CSUM 16
#define SL_TCP_URP 18
#define SL_TCP_HLEN 20

#define SL_TCP_FIN 0x01
#define SL_TCP_SYN 0x02
#define SL_TCP_RST 0x04
#define SL_TCP_PSH 0x08
#define SL_TCP_ACK_F 0x10
#define SL_TCP_URG 0x20

/* Options (RFC 9293 3.2, RFC 7323 2.2). */
#define SL_TCP_OPT_EOL 0
#define SL_TCP_OPT_NOP 1
#define SL_TCP_OPT_MSS 2
#define SL_TCP_OPT_WS 3
#define SL_TCP_OPT_MSS_LEN 4
#define SL_TCP_OPT_WS_LEN 3
#define SL_TCP_WS_MAX 14	   /* RFC 7323 2.3 */
#define SL_TCP_MSS_DEFAULT_SND 536 /* RFC 9293 3.7.1: no MSS option received */
#define SL_TCP_MSS_FLOOR 48	   /* smallest peer MSS honoured (as Linux TCP_MIN_SND_MSS) */
#define SL_TCP_RTO_SYN_US 3000000u /* RFC 6298 5.7 */
#define SL_TCP_WIN_MAX (1u << 30)  /* RFC 7323 2.3 */

/* Defaults of struct sl_tcp_params fields left at 0. */
#define SL_TCP_DEF_MSS 1460
#define SL_TCP_DEF_WSCALE 7
#define SL_TCP_DEF_RCV_BUF 262144
#define SL_TCP_DEF_SND_BUF 262144
#define SL_TCP_DEF_RTO_INIT_US 1000000
#define SL_TCP_DEF_RTO_MIN_US 200000
#define SL_TCP_DEF_RTO_MAX_US 60000000
#define SL_TCP_DEF_SYN_RETRIES 5
#define SL_TCP_DEF_RETRIES 8
#define SL_TCP_DEF_DELACK_US 40000
#define SL_TCP_DEF_TIME_WAIT_US 2000000
#define SL_TCP_DEF_FIN_WAIT2_US 60000000
#define SL_TCP_DEF_TICK_US 1000
#define SL_TCP_MSS_MIN 64 /* range of params.mss */
#define SL_TCP_MSS_MAX 9000

/* struct sl_tcp_conn flags. */
#define SL_TCP_F_SHUT_WR 0x01	    /* FIN follows the queued data (shutdown or close) */
#define SL_TCP_F_APP_CLOSED 0x02    /* the application let go: no more callbacks */
#define SL_TCP_F_WANT_WRITABLE 0x04 /* sl_tcp_send() refused a chain: `writable` owed */
#define SL_TCP_F_ACK_NOW 0x08	    /* an ACK must go out before input or timer returns */
#define SL_TCP_F_BUSY 0x10	    /* inside sl_tcp_input() for c: freeing is deferred */
#define SL_TCP_F_TIMING 0x20	    /* rtt_seq is being timed (RFC 6298 3, Karn) */
#define SL_TCP_F_ACCEPTED 0x40	    /* `accepted` took it: callbacks name c until close */

/* struct sl_tcp_timer kinds: which member of struct sl_tcp_conn a timer is. */
enum sl_tcp_timer_kind {
	SL_TCP_TK_REXMIT = 1, /* retransmission, SYN-ACK retransmission, window probe */
	SL_TCP_TK_DELACK,     /* delayed ACK, RFC 9293 3.8.6.3 */
	SL_TCP_TK_WAIT,	      /* TIME_WAIT, FIN_WAIT_2 of a closed connection */
};

/** A received segment, parsed (RFC 9293 3.3.1 "current segment variables"). */
struct sl_tcp_rx {
	struct sl_tcp_seq seq; /* SEG.SEQ */
	struct sl_tcp_seq ack; /* SEG.ACK */
	uint32_t len;	       /* payload bytes (seg->data, seg->len point at them) */
	uint16_t wnd;	       /* SEG.WND as received, unscaled */
	uint8_t flags;	       /* SL_TCP_FIN ... SL_TCP_URG */
	int8_t ws;	       /* window scale option, -1 when absent */
	uint16_t mss;	       /* MSS option, 0 when absent */
};

/** SEG.LEN (RFC 9293 3.4): payload plus one for SYN and one for FIN. */
static inline uint32_t
sl_tcp__seg_len(const struct sl_tcp_rx *rx)
{
	return rx->len + ((rx->flags & SL_TCP_SYN) != 0) + ((rx->flags & SL_TCP_FIN) != 0);
}

/** Whether the application is attached: callbacks may name c. */
static inline int
sl_tcp__attached(const struct sl_tcp_conn *c)
{
	return (c->flags & (SL_TCP_F_ACCEPTED | SL_TCP_F_APP_CLOSED)) == SL_TCP_F_ACCEPTED;
}

/** The sequence number of our FIN: just after the queued data (valid with SHUT_WR). */
static inline struct sl_tcp_seq
sl_tcp__fin_seq(const struct sl_tcp_conn *c)
{
	return sl_seq_add(c->snd_una, c->sndq_len);
}

/** Whether our FIN was sent (it occupies fin_seq, so snd_max is beyond it). */
static inline int
sl_tcp__fin_sent(const struct sl_tcp_conn *c)
{
	return (c->flags & SL_TCP_F_SHUT_WR) && sl_seq_gt(c->snd_max, sl_tcp__fin_seq(c));
}

static inline uint32_t
sl_tcp__min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static inline uint64_t
sl_tcp__now(struct sl_tcp_stack *st, uint64_t now_us)
{
	if (now_us > st->now_us)
		st->now_us = now_us;
	return st->now_us;
}

/* tcp_conn.c */
void sl_tcp__set_state(struct sl_tcp_conn *c, enum sl_tcp_state s);
struct sl_tcp_listener *sl_tcp__listener_find(struct sl_tcp_stack *st,
					      const struct sl_tcp_tuple *t);
struct sl_tcp_seq sl_tcp__iss(const struct sl_tcp_stack *st, const struct sl_tcp_tuple *t);
/** End c with `counter` (NULL: none) and enter CLOSED: out of the table, no timers, no
 * send queue. If the application is attached and `cb` is set (SL_TCP_END_*), it is told
 * and let go; a normal close of an attached connection keeps it (a zombie) until
 * sl_tcp_close(). c is freed here unless it is busy or a zombie. */
enum sl_tcp_end {
	SL_TCP_END_SILENT = 0, /* no callback (the application closed or never had c) */
	SL_TCP_END_NORMAL,     /* normal close: zombie until sl_tcp_close() if attached */
	SL_TCP_END_RESET,      /* `reset` callback */
	SL_TCP_END_TIMEOUT,    /* `error(-ETIMEDOUT)` callback */
};
void sl_tcp__end(struct sl_tcp_conn *c, uint64_t *counter, enum sl_tcp_end how);
/** Free c if it is CLOSED and neither busy nor a zombie. @return 1 when freed. */
int sl_tcp__reap(struct sl_tcp_conn *c);
/** Free the acknowledged head of the send queue: `n` bytes. */
void sl_tcp__sndq_drop(struct sl_tcp_conn *c, uint32_t n);
/** Apply an RTT sample (RFC 6298 2.2, 2.3). */
void sl_tcp__rtt_sample(struct sl_tcp_conn *c, uint32_t rtt_us);

/* tcp_out.c */
/** Send a segment of c: `len` bytes of the send queue from `seq`, `flags` (ACK is added
 * once synchronized; SYN adds our options). @return 0 or -ENOBUFS (drop_no_buf). */
int sl_tcp__xmit(struct sl_tcp_conn *c, struct sl_tcp_seq seq, uint32_t len, uint8_t flags);
/** Send what the window allows of the queue, then the FIN; arm the timers that follow. */
void sl_tcp__output(struct sl_tcp_conn *c);
/** Send a bare ACK now <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
void sl_tcp__send_ack(struct sl_tcp_conn *c);
/** Send the ACK that ACK_NOW asks for, or arm the delayed ACK when one is owed. */
void sl_tcp__ack_flush(struct sl_tcp_conn *c);
/** Send a control segment with no connection (RST forms of RFC 9293 3.10.7.1). */
void sl_tcp__send_ctl(struct sl_tcp_stack *st, const struct sl_tcp_tuple *t, struct sl_tcp_seq seq,
		      struct sl_tcp_seq ack, uint8_t flags);
/** Send <SEQ=SND.NXT><CTL=RST> for c (rst_out counted). */
void sl_tcp__send_rst(struct sl_tcp_conn *c);
/** The window field we advertise now (scaled; never shrinking the right edge). */
uint16_t sl_tcp__wnd_field(struct sl_tcp_conn *c);
/** Pseudo-header sum (RFC 9293 3.1) of a segment from `src` to `dst`, not folded. */
uint32_t sl_tcp__phdr_sum(struct sl_ip4 src, struct sl_ip4 dst, uint32_t tcp_len);

/* tcp_timer.c */
void sl_tcp__timer_arm(struct sl_tcp_stack *st, struct sl_tcp_timer *tm, uint64_t delay_us);
void sl_tcp__timer_cancel(struct sl_tcp_timer *tm);
static inline int
sl_tcp__timer_armed(const struct sl_tcp_timer *tm)
{
	return tm->pprev != NULL;
}
/** (Re)start the retransmission timer with the current RTO. */
void sl_tcp__rexmit_arm(struct sl_tcp_conn *c);

#endif /* SL_TCP_PRIV_H */
