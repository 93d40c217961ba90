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

/*
 * Options (RFC 9293 3.2, RFC 7323 2.2 and 3.2, RFC 2018 2 and 3). What we send:
 *
 *   SYN, SYN-ACK  MSS(4) [SACK-permitted(2) | NOP NOP] TS(10) [NOP WS(3)]   with timestamps
 *                 MSS(4) [NOP NOP SACK-permitted(2)] [NOP WS(3)]            without
 *   (our SYN offers all the parameters allow, WS always, as Linux's; a SYN-ACK what the SYN
 *   offered too; a SYN cookie's without timestamps only MSS)
 *   others   [NOP NOP TS(10)] [NOP NOP SACK(2 + 8 n)]                  n <= 3 with TS, <= 4
 *
 *   TS:   kind 8, length 10, TSval (4), TSecr (4)
 *   SACK: kind 5, length 2 + 8 n, n times: left edge (4), right edge (4)
 */
#define SL_TCP_OPT_EOL 0
#define SL_TCP_OPT_NOP 1
#define SL_TCP_OPT_MSS 2
#define SL_TCP_OPT_WS 3
#define SL_TCP_OPT_SACK_OK 4
#define SL_TCP_OPT_SACK 5
#define SL_TCP_OPT_TS 8
#define SL_TCP_OPT_MSS_LEN 4
#define SL_TCP_OPT_WS_LEN 3
#define SL_TCP_OPT_SACK_OK_LEN 2
#define SL_TCP_OPT_TS_LEN 10
#define SL_TCP_OPT_TS_ALIGNED 12     /* NOP NOP TS */
#define SL_TCP_TS_WORD 0x0101080au   /* NOP NOP kind length: the usual first word */
#define SL_TCP_OPT_SPACE 40	     /* option bytes in a header at most */
#define SL_TCP_WS_MAX 14	     /* RFC 7323 2.3 */
#define SL_TCP_MSS_DEFAULT_SND 536   /* RFC 9293 3.7.1: no MSS option received */
#define SL_TCP_MSS_FLOOR 48	     /* smallest peer MSS honoured (as Linux TCP_MIN_SND_MSS) */
#define SL_TCP_RTO_SYN_US 3000000u   /* RFC 6298 5.7 */
#define SL_TCP_WIN_MAX (1u << 30)    /* RFC 7323 2.3 */
#define SL_TCP_DUPTHRESH 3	     /* RFC 5681 3.2, RFC 6675 2 */
#define SL_TCP_IW_BYTES 14600	     /* RFC 6928 2: min(10 MSS, max(2 MSS, 14600)) */
#define SL_TCP_CWND_MAX (1u << 31)   /* keeps cwnd arithmetic in range */
#define SL_TCP_TS_RTT_MAX_MS 600000u /* a TSecr further back than this is not a sample */

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
#define SL_TCP_DEF_CHALLENGE_ACK_LIMIT 1000
#define SL_TCP_DEF_KA_IDLE_US 7200000000ull /* for sl_tcp_set_keepalive() only */
#define SL_TCP_DEF_KA_INTVL_US 75000000
#define SL_TCP_DEF_KA_PROBES 9
#define SL_TCP_OOO_SEGS_PER_BYTES 512 /* default ooo_max_segs: one per 512 bytes */
#define SL_TCP_OOO_SEGS_MIN 16
#define SL_TCP_OOO_SEGS_DEF_MAX 4096
#define SL_TCP_MSS_MIN 64 /* range of params.mss */
#define SL_TCP_MSS_MAX 9000

/* struct sl_tcp_conn flags. */
#define SL_TCP_F_SHUT_WR 0x0001	      /* FIN follows the queued data (shutdown or close) */
#define SL_TCP_F_APP_CLOSED 0x0002    /* the application let go: no more callbacks */
#define SL_TCP_F_WANT_WRITABLE 0x0004 /* sl_tcp_send() refused a chain: `writable` owed */
#define SL_TCP_F_ACK_NOW 0x0008	      /* an ACK must go out before input or timer returns */
#define SL_TCP_F_BUSY 0x0010	      /* inside sl_tcp_input() for c: freeing is deferred */
#define SL_TCP_F_TIMING 0x0020	      /* rtt_seq is being timed (RFC 6298 3, Karn) */
#define SL_TCP_F_ACCEPTED 0x0040      /* `accepted` took it: callbacks name c until close */
#define SL_TCP_F_SACK 0x0080	      /* SACK agreed (RFC 2018 2) */
#define SL_TCP_F_TS 0x0100	      /* timestamps agreed (RFC 7323 3.2) */
#define SL_TCP_F_RECOVERY 0x0200      /* in fast recovery (RFC 6582 / RFC 6675) */
#define SL_TCP_F_PERSIST 0x0400	      /* a zero-window probe is out (RFC 9293 3.8.6.1) */
#define SL_TCP_F_KEEPALIVE 0x0800     /* keepalive on (RFC 1122 4.2.3.6) */
#define SL_TCP_F_PARTIAL 0x1000	      /* a partial ACK came in this recovery (RFC 6582) */
#define SL_TCP_F_ACTIVE 0x2000	      /* opened by sl_tcp_connect(): `connected`, not `accepted` */

/* Clear flags <f> of <c>. */
#define SL_TCP_CLR(c, f) ((c)->flags &= (uint16_t) ~(f))

/* struct sl_tcp_timer kinds: which member of struct sl_tcp_conn a timer is. */
enum sl_tcp_timer_kind {
	SL_TCP_TK_REXMIT = 1, /* retransmission, SYN-ACK retransmission, window probe */
	SL_TCP_TK_DELACK,     /* delayed ACK, RFC 9293 3.8.6.3 */
	SL_TCP_TK_WAIT,	      /* TIME_WAIT, FIN_WAIT_2 of a closed connection, keepalive */
};

/* struct sl_tcp_rx opts. */
#define SL_TCP_RX_TS 0x01      /* a timestamps option: tsval, tsecr */
#define SL_TCP_RX_SACK_OK 0x02 /* SACK-permitted (SYN) */

/** A received segment, parsed (RFC 9293 3.3.1 "current segment variables"). */
struct sl_tcp_rx {
	struct sl_tcp_seq seq; /* SEG.SEQ */
	struct sl_tcp_seq ack; /* SEG.ACK */
	uint32_t len;	       /* payload bytes (seg->data, seg->len point at them) */
	uint16_t wnd;	       /* SEG.WND as received, unscaled */
	uint8_t flags;	       /* SL_TCP_FIN ... SL_TCP_URG */
	int8_t ws;	       /* window scale option, -1 when absent */
	uint16_t mss;	       /* MSS option, 0 when absent */
	uint8_t opts;	       /* SL_TCP_RX_* */
	uint8_t n_sack;	       /* SACK blocks at `sack` (in the segment's header) */
	uint32_t tsval, tsecr;
	const uint8_t *sack;
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

static inline uint32_t
sl_tcp__max32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/** Our timestamp clock (RFC 7323 5.4): milliseconds, offset per connection by its ISS. */
static inline uint32_t
sl_tcp__ts_now(const struct sl_tcp_conn *c)
{
	return (uint32_t)(c->stack->now_us / 1000) + c->iss.v;
}

/** FlightSize of RFC 5681: bytes sent and not acknowledged. */
static inline uint32_t
sl_tcp__flight(const struct sl_tcp_conn *c)
{
	return (uint32_t)sl_seq_diff(c->snd_max, c->snd_una);
}

/** Keepalive idle time of <c>: its listener's, or 2 hours when that has keepalive off. */
static inline uint64_t
sl_tcp__ka_idle(const struct sl_tcp_conn *c)
{
	return c->listener->ka_idle_us != 0 ? c->listener->ka_idle_us : SL_TCP_DEF_KA_IDLE_US;
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
	SL_TCP_END_REFUSED,    /* `error(-ECONNREFUSED)` callback (an active open) */
};
void sl_tcp__end(struct sl_tcp_conn *c, uint64_t *counter, enum sl_tcp_end how);
/** Free c if it is CLOSED and neither busy nor a zombie. @return 1 when freed. */
int sl_tcp__reap(struct sl_tcp_conn *c);
/** Free the acknowledged head of the send queue: `n` bytes. */
void sl_tcp__sndq_drop(struct sl_tcp_conn *c, uint32_t n);
/** Free the out-of-order queue. */
void sl_tcp__ooo_free(struct sl_tcp_conn *c);
/** Apply an RTT sample (RFC 6298 2.2, 2.3). */
void sl_tcp__rtt_sample(struct sl_tcp_conn *c, uint32_t rtt_us);
/** RTO from SRTT and RTTVAR (RFC 6298 2.3-2.5), or rto_init without a sample: the backed
 * off value is dropped. */
void sl_tcp__rto_reset(struct sl_tcp_conn *c);
/** Send a challenge ACK (RFC 5961 3.2, 4.2, 5.2) unless this second's budget is spent. */
void sl_tcp__challenge_ack(struct sl_tcp_conn *c);
/** The connection is synchronized: congestion state (RFC 5681 3.1, RFC 6928) and keepalive. */
void sl_tcp__conn_start(struct sl_tcp_conn *c);
/** A new connection for <t> with callbacks through <l>, in CLOSED (counted), in the table.
 * @return it, or NULL with *err = -ENOMEM (conn_alloc) or conn_insert's error. */
struct sl_tcp_conn *sl_tcp__conn_new(struct sl_tcp_stack *st, struct sl_tcp_listener *l,
				     const struct sl_tcp_tuple *t, int *err);
/** The MSS to send with: the peer's <mss> option (0: absent, RFC 9293 3.7.1: 536), never
 * above ours nor below SL_TCP_MSS_FLOOR, less the timestamps option when <ts>. */
uint16_t sl_tcp__eff_mss(const struct sl_tcp_stack *st, uint16_t mss, int ts);

/* The options of a SYN or SYN-ACK (layouts above). */
struct sl_tcp_synopts {
	uint16_t mss;
	int8_t ws; /* our shift, -1: no option */
	uint8_t sack_ok, ts;
	uint32_t tsval, tsecr;
};

/* tcp_out.c */
/** Send a SYN-ACK with no connection behind it (a SYN cookie's): <iss>, <ack>, our window
 * unscaled, options <so>. */
void sl_tcp__send_synack(struct sl_tcp_stack *st, const struct sl_tcp_tuple *t,
			 struct sl_tcp_seq iss, struct sl_tcp_seq ack,
			 const struct sl_tcp_synopts *so);
/** The window field of a SYN or SYN-ACK: what is free of rcv_buf, at most 65535 (RFC 7323
 * 2.2: never scaled). */
uint16_t sl_tcp__syn_wnd(const struct sl_tcp_stack *st, uint32_t rcv_held);
/** Send a segment of c: `len` bytes of the send queue from `seq`, `flags` (ACK is added
 * once synchronized; SYN adds our options). Data that would not fit beside the SACK blocks
 * is cut (FIN and PSH then stay off). @return the payload bytes sent, or -ENOBUFS
 * (drop_no_buf). */
int sl_tcp__xmit(struct sl_tcp_conn *c, struct sl_tcp_seq seq, uint32_t len, uint8_t flags);
/** Send up to `max` bytes of the queue from `seq` (a retransmission), with PSH and FIN as
 * they belong there; a range holding only the FIN sends the FIN. @return as xmit. */
int sl_tcp__send_range(struct sl_tcp_conn *c, struct sl_tcp_seq seq, uint32_t max);
/** Send one new segment from snd_nxt as the peer's window allows and `room` covers (a
 * shorter one than that would be is not sent: sender SWS avoidance for cwnd), or the FIN
 * once all data went. @return the sequence space sent, 0 when nothing could go, -1 on no
 * buffer. */
int sl_tcp__send_new(struct sl_tcp_conn *c, int32_t room);
/** Send what the windows allow of the queue, then the FIN; arm the timers that follow. In
 * SACK recovery, RFC 6675 5 (NextSeg while cwnd - pipe >= SMSS). */
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
/** (Re)start the keepalive (on the wait timer) after `delay_us`. */
void sl_tcp__keepalive_arm(struct sl_tcp_conn *c, uint64_t delay_us);

/* tcp_ooo.c: the receiver's out-of-order queue and the SACK blocks it makes */
/** RFC 2018 3/4: the SACK blocks of our next segment, at most `max`, written as edges into
 * `out` (big-endian). @return the number of blocks. */
unsigned int sl_tcp__sack_blocks(const struct sl_tcp_conn *c, uint8_t *out, unsigned int max);
/** Queue an out-of-order segment (RFC 9293 3.10.7.4 seventh, RFC 5681 4.2); `seg`'s payload
 * is at rx->seq, inside the window. @return NULL when queued, else `seg` (counted). */
struct sl_tcp_seg *sl_tcp__ooo_insert(struct sl_tcp_conn *c, struct sl_tcp_seg *seg,
				      const struct sl_tcp_rx *rx);
/** Append to `tail` the queued segments that now follow `end` (trimmed, covered ones
 * freed). @return the new tail; *end and *len move on. */
struct sl_tcp_seg *sl_tcp__ooo_merge(struct sl_tcp_conn *c, struct sl_tcp_seg *tail,
				     struct sl_tcp_seq *end, uint32_t *len);

/* tcp_conn.c: SYN cookies (RFC 4987 3.6) */
/** The listen backlog of <l> is full: answer the SYN <rx> with a cookie SYN-ACK. */
void sl_tcp__cookie_synack(struct sl_tcp_stack *st, struct sl_tcp_listener *l,
			   const struct sl_tcp_tuple *t, const struct sl_tcp_rx *rx);
/** Whether an ACK to <l> should be checked for a cookie: cookies are on and <l> sent one
 * in the current or previous period. */
int sl_tcp__cookie_recent(const struct sl_tcp_stack *st, const struct sl_tcp_listener *l);
/** Check the ACK <rx> (no SYN, no RST) for a cookie of <t>. Valid: a connection in SYN_RCVD
 * as if its SYN-ACK had been sent (the decoded MSS, window scale, SACK and timestamps), its
 * ACK still to be processed; rx->tsecr is zeroed (no RTT sample from the coarse cookie
 * TSval). @return it; NULL with *valid 0 (syncookies_failed) or 1 (valid but no memory:
 * drop_no_conn_mem, the ACK is dropped unanswered). */
struct sl_tcp_conn *sl_tcp__cookie_conn(struct sl_tcp_stack *st, struct sl_tcp_listener *l,
					const struct sl_tcp_tuple *t, struct sl_tcp_rx *rx,
					int *valid);

/* tcp_cc.c: the sender's congestion control, SACK scoreboard and loss recovery */
/** Take the peer's SACK blocks into the scoreboard (RFC 6675 4 Update()); drop what
 * snd_una passed. @return the bytes newly SACKed. */
uint32_t sl_tcp__sack_update(struct sl_tcp_conn *c, const struct sl_tcp_rx *rx);
/** Loss recovery on an ACK (RFC 5681 3.2, RFC 6582 3.2, RFC 6675 5): `acked` bytes newly
 * acknowledged, `dup` whether it is a duplicate ACK. */
void sl_tcp__cc_ack(struct sl_tcp_conn *c, uint32_t acked, int dup);
/** A retransmission timeout: RFC 5681 3.1 (ssthresh, loss window), RFC 6582 3.2 and
 * RFC 6675 5.1 (recovery ends, recover <- HighData), RFC 2018 8 (SACK information dropped). */
void sl_tcp__cc_timeout(struct sl_tcp_conn *c);
/** SACK recovery's sending: RFC 6675 5 steps (C)-(E). */
void sl_tcp__sack_output(struct sl_tcp_conn *c);

#endif /* SL_TCP_PRIV_H */
