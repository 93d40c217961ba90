/**
 * @file
 * sluice's per-core TCP: an EAL-free state machine with send and receive queues and timers
 * on a hashed wheel. One struct sl_tcp_stack per lcore; no global state, no locks, no
 * syscalls, no malloc: buffers, connections and the connection table belong to the
 * environment (the data plane, or a test) and are reached through struct sl_tcp_env_ops.
 *
 * Receive path: the environment looks the 4-tuple up in its table and calls sl_tcp_input()
 * with the connection (or NULL) and the segment. In-order payload reaches the application
 * as a chain of struct sl_tcp_seg views into the received buffers, without copies; the
 * application gives the bytes back to the window with sl_tcp_consumed().
 * Send path: sl_tcp_send() queues a chain (ownership passes to TCP); segments of at most
 * MSS bytes are built into buffers from the environment and handed to ops->pkt_xmit.
 * Time comes in as now_us; call sl_tcp_timer() at least every tick_us.
 *
 * Opening: passive (sl_tcp_listen(), with SYN cookies when a backlog is full, RFC 4987 3.6)
 * and active (sl_tcp_connect(), simultaneous open included, RFC 9293 3.5).
 *
 * Loss recovery: RFC 6298 retransmission timeouts, RFC 5681 congestion control with NewReno
 * fast retransmit and recovery (RFC 6582), or RFC 6675 SACK-based recovery when the peer
 * offers SACK (RFC 2018); an out-of-order queue merged into the in-order stream without
 * copies; timestamps (RFC 7323); zero-window probes; RFC 5961 challenge ACKs; keepalive.
 *
 * Return conventions: 0 or -errno; sl_tcp_input() never fails (drops are counted).
 */
#ifndef SL_TCP_H
#define SL_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp-t.h"

#define SL_TCP_L4_OFF 34  /* TCP header offset in an outgoing frame: Ethernet + IPv4 */
#define SL_TCP_HDR_MAX 60 /* largest TCP header */
#define SL_TCP_LISTENERS_MAX 16
#define SL_TCP_BINDS_MAX 16	/* distinct (ops, app) pairs of active opens per stack */
#define SL_TCP_WHEEL_SLOTS 4096 /* power of two */

/** Flags of sl_tcp_input(). */
#define SL_TCP_IN_CSUM_OK 0x1 /* the port verified this segment's checksum */

/* ---- wrap-safe sequence arithmetic (RFC 9293 3.4) ---- */

static inline struct sl_tcp_seq
sl_seq_add(struct sl_tcp_seq a, uint32_t n)
{
	return (struct sl_tcp_seq){a.v + n};
}

/** b - a, as a signed distance. */
static inline int32_t
sl_seq_diff(struct sl_tcp_seq b, struct sl_tcp_seq a)
{
	return (int32_t)(b.v - a.v);
}

static inline int
sl_seq_lt(struct sl_tcp_seq a, struct sl_tcp_seq b)
{
	return sl_seq_diff(a, b) < 0;
}

static inline int
sl_seq_le(struct sl_tcp_seq a, struct sl_tcp_seq b)
{
	return sl_seq_diff(a, b) <= 0;
}

static inline int
sl_seq_gt(struct sl_tcp_seq a, struct sl_tcp_seq b)
{
	return sl_seq_diff(a, b) > 0;
}

static inline int
sl_seq_ge(struct sl_tcp_seq a, struct sl_tcp_seq b)
{
	return sl_seq_diff(a, b) >= 0;
}

/** Callbacks into the environment that owns buffers, connections and the table. */
struct sl_tcp_env_ops {
	/** A buffer for an outgoing segment: *frame points at room >= `room` bytes; TCP
	 * writes its header at *frame + SL_TCP_L4_OFF. NULL when none is left. */
	void *(*pkt_alloc)(void *env, uint8_t **frame, uint16_t room);
	/** Send a segment of `tcp_len` bytes at frame + SL_TCP_L4_OFF, checksum complete (or
	 * the pseudo-header sum with tx_csum_offload); the environment adds IPv4 (tuple
	 * laddr -> raddr) and Ethernet. Takes ownership. */
	void (*pkt_xmit)(void *env, void *pkt, uint8_t *frame, uint16_t tcp_len,
			 const struct sl_tcp_tuple *t);
	/** A buffer for application data: a seg with `len` set to its room (>= `room`). */
	struct sl_tcp_seg *(*seg_alloc)(void *env, uint32_t room);
	/** Free one segment view and its buffer. */
	void (*seg_free)(void *env, struct sl_tcp_seg *seg);
	/** Connection memory; NULL when none is left. */
	struct sl_tcp_conn *(*conn_alloc)(void *env);
	void (*conn_free)(void *env, struct sl_tcp_conn *c);
	/** Enter c (by c->tuple) into the lookup table. @return 0, -ENOSPC, or -EEXIST when
	 * the tuple is there already (sl_tcp_connect() relies on it without conn_lookup). */
	int (*conn_insert)(void *env, struct sl_tcp_conn *c);
	void (*conn_remove)(void *env, struct sl_tcp_conn *c);
	/** Optional: the connection the table holds for `t`, or NULL. sl_tcp_connect() asks
	 * it before taking memory; without it, conn_insert must refuse a duplicate. */
	struct sl_tcp_conn *(*conn_lookup)(void *env, const struct sl_tcp_tuple *t);
};

/**
 * The application behind a listener or an active open. After `reset` or `error`, and after
 * the application called sl_tcp_close() or sl_tcp_abort(), no callback names the connection
 * again. A listener needs `accepted` and `data`, sl_tcp_connect() `connected` and `data`;
 * the others may be NULL. Callbacks may call send,
 * consumed, shutdown, close and abort on their connection (abort frees it only once the
 * stack is done with it). A connection that ends normally while the application still holds
 * it (it shut down but did not close) stays allocated, in CLOSED and out of the table, until
 * sl_tcp_close().
 */
struct sl_tcp_app_ops {
	/** The handshake completed. @return 0 to take the connection (sl_tcp_set_user() may
	 * be called here), -errno to refuse it (it is reset). */
	int (*accepted)(void *app, struct sl_tcp_conn *c);
	/** In-order data: `len` bytes in a chain the application now owns. */
	void (*data)(void *app, struct sl_tcp_conn *c, struct sl_tcp_seg *chain, uint32_t len);
	/** Send space was freed after sl_tcp_send() refused a chain with -ENOBUFS: an ACK
	 * left a quarter of snd_buf free, or the queue empty. Once per refusal. */
	void (*writable)(void *app, struct sl_tcp_conn *c);
	/** The peer sent FIN: no more data will come. */
	void (*peer_closed)(void *app, struct sl_tcp_conn *c);
	/** The peer reset the connection; c is gone when this returns. Also the report of a
	 * peer that vanished when the application has no `error` callback. */
	void (*reset)(void *app, struct sl_tcp_conn *c);
	/** The connection failed: -ETIMEDOUT when the retry limit ran out (the peer vanished:
	 * retransmissions or zero-window probes unanswered; a RST is sent) or keepalive
	 * probes went unanswered; for an active open, -ETIMEDOUT when syn_retries SYN
	 * retransmissions went unanswered and -ECONNREFUSED when the peer answered the SYN
	 * with a RST. c is gone after. Without this callback, `reset` is called. */
	void (*error)(void *app, struct sl_tcp_conn *c, int err);
	/** An active open (sl_tcp_connect()) completed its handshake: c is ESTABLISHED and
	 * may send. Called once, before any `data`. */
	void (*connected)(void *app, struct sl_tcp_conn *c);
};

struct sl_tcp_listener {
	struct sl_ip4 addr; /* 0.0.0.0: any of ours */
	uint16_t port;
	uint32_t backlog; /* connections in SYN_RCVD allowed at once */
	uint32_t pending; /* connections in SYN_RCVD now */
	const struct sl_tcp_app_ops *ops;
	void *app;
	/* keepalive of its connections (RFC 1122 4.2.3.6); ka_idle_us 0: off */
	uint32_t ka_idle_us, ka_intvl_us;
	uint8_t ka_probes;
	uint32_t cookie_time; /* SYN cookie period of the last cookie sent, plus one; 0: none */
};

/** One lcore's TCP. */
struct sl_tcp_stack {
	struct sl_tcp_params p;
	const struct sl_tcp_env_ops *ops;
	void *env;
	uint64_t now_us;
	uint64_t tick;	     /* current wheel tick */
	uint64_t iss_key[2]; /* SipHash key of the initial sequence numbers, RFC 6528 */
	unsigned int n_listeners;
	struct sl_tcp_listener listeners[SL_TCP_LISTENERS_MAX];
	/* the applications of active opens, one per distinct (ops, app): port 0, backlog 0,
	 * keepalive from the parameters; never looked up by segments */
	unsigned int n_binds;
	struct sl_tcp_listener binds[SL_TCP_BINDS_MAX];
	uint64_t cookie_key[2]; /* SipHash key of the SYN cookies */
	uint64_t chal_epoch_us; /* start of the second the challenge ACK budget is for */
	uint32_t chal_left;	/* challenge ACKs left in it (RFC 5961 7) */
	bool refuse;		/* sl_tcp_refuse(): SYNs to listeners get RST,ACK */
	uint64_t rng;		/* xorshift state: the budget's random part */
	struct sl_tcp_stats stats;
	struct sl_tcp_timer *wheel[SL_TCP_WHEEL_SLOTS];
};

/**
 * Initialise a stack. `seed` feeds the initial sequence numbers (RFC 6528).
 * @return 0, or -EINVAL for missing ops or parameters out of range.
 */
int sl_tcp_stack_init(struct sl_tcp_stack *st, const struct sl_tcp_params *p,
		      const struct sl_tcp_env_ops *ops, void *env, uint64_t seed, uint64_t now_us);

/** Release one connection at shutdown: no RST sent, no callbacks, no conn_* counted; it
 * leaves the table (conn_remove), its queues are freed and its memory goes back
 * (conn_free). The environment iterates its table and calls this per connection. */
void sl_tcp_conn_release(struct sl_tcp_stack *st, struct sl_tcp_conn *c);

/**
 * Listen on addr:port (0.0.0.0: any; an exact address wins over it). `backlog` bounds the
 * connections in SYN_RCVD; when it is reached, a SYN is answered with a SYN cookie (no state
 * kept; the connection is made from the returning ACK, RFC 4987 3.6) unless the parameters
 * say no_syncookies, when it is dropped (drop_backlog).
 * @return 0, -EADDRINUSE, -ENOSPC (SL_TCP_LISTENERS_MAX), -EINVAL (port 0, backlog 0, ops
 *         without `accepted` or `data`).
 */
int sl_tcp_listen(struct sl_tcp_stack *st, struct sl_ip4 addr, uint16_t port, uint32_t backlog,
		  const struct sl_tcp_app_ops *ops, void *app);

/**
 * Refuse new connections (`on`), or take them again. While refusing, a SYN to any listener
 * is answered as for a closed port (RFC 9293 3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
 * <CTL=RST,ACK>), counted in syn_refused_draining: no connection, no SYN cookie. A SYN that
 * would reopen a TIME_WAIT connection (RFC 1122 4.2.2.13) ends it and is refused the same
 * way. Connections that exist are untouched, embryonic ones included: a SYN_RCVD
 * connection, or the ACK of a SYN cookie sent before, still completes its handshake (the
 * peer was already told yes). Active opens (sl_tcp_connect()) are not affected. For a
 * graceful drain: existing requests finish, new clients go elsewhere at once.
 */
void sl_tcp_refuse(struct sl_tcp_stack *st, bool on);

static inline bool
sl_tcp_refusing(const struct sl_tcp_stack *st)
{
	return st->refuse;
}

/**
 * Active open (RFC 9293 3.10.1 OPEN, active): send a SYN on the complete tuple `t` (our
 * side: laddr:lport, chosen by the environment, which also steers the flow's packets to this
 * stack) with our options as a SYN-ACK would carry them: MSS, window scale, SACK-permitted
 * and timestamps as the parameters allow. The connection enters the table (conn_insert) in
 * SYN_SENT; `*out` is it, `user` its user pointer (sl_tcp_user()), and its callbacks go to
 * `ops` with `app`. From the SYN-ACK on the options are those both sides offered; then
 * ops->connected, after which sl_tcp_send() works (before it: -ENOTCONN). A SYN without ACK
 * in SYN_SENT is a simultaneous open (SYN_RCVD; our SYN-ACK; `connected` on its ACK).
 * Failures come later through ops->error (or ops->reset): -ECONNREFUSED for a RST that
 * acknowledges our SYN (or any RST at RCV.NXT in a simultaneous open), -ETIMEDOUT after
 * syn_retries retransmissions of the SYN (or SYN-ACK) unanswered (RTO from rto_init_us,
 * doubled each time, no RST); both count connect_failed. sl_tcp_close() or sl_tcp_abort()
 * before `connected` end it without a callback (no RST from SYN_SENT, a RST from SYN_RCVD;
 * conn_aborted, not connect_failed). A SYN that finds no buffer (pkt_alloc) goes with the
 * retransmission timer. Keepalive: as a listener's, from the parameters.
 * @return 0 (active_opens counted); -EINVAL (no `connected` or `data`, a zero address or
 *         port); -EADDRINUSE (the table holds the tuple: conn_lookup found it, or
 *         conn_insert said -EEXIST); -ENOMEM (conn_alloc failed); -ENOSPC (conn_insert said
 *         -ENOSPC, or SL_TCP_BINDS_MAX other (ops, app) pairs exist); another error of
 *         conn_insert as it is. On error nothing is kept and nothing is sent.
 */
int sl_tcp_connect(struct sl_tcp_stack *st, const struct sl_tcp_tuple *t,
		   const struct sl_tcp_app_ops *ops, void *app, void *user,
		   struct sl_tcp_conn **out, uint64_t now_us);

/**
 * Set the keepalive of the listener on addr:port (its connections from now on take it):
 * the first probe after `idle_us` without a segment from the peer, then one every
 * `intvl_us` (0: 75 s); after `probes` (0: 9) unanswered the connection ends with
 * error(-ETIMEDOUT). idle_us 0 turns it off. Listeners start with the stack's parameters.
 * @return 0, or -ENOENT (no such listener).
 */
int sl_tcp_listen_keepalive(struct sl_tcp_stack *st, struct sl_ip4 addr, uint16_t port,
			    uint32_t idle_us, uint32_t intvl_us, uint8_t probes);

/**
 * Turn keepalive on or off for one connection, with its listener's timings (2 hours idle
 * when the listener has keepalive off).
 * @return 0, or -ENOTCONN when the connection is not synchronized.
 */
int sl_tcp_set_keepalive(struct sl_tcp_conn *c, bool on, uint64_t now_us);

/**
 * Process one received segment.
 * @param c      the connection the environment found for `t`, or NULL
 * @param t      the segment's tuple from our side (laddr = its destination)
 * @param seg    seg->data = TCP header, seg->len = TCP header + payload (from the IPv4
 *               total length); ownership passes to TCP
 * @param flags  SL_TCP_IN_*
 */
void sl_tcp_input(struct sl_tcp_stack *st, struct sl_tcp_conn *c, const struct sl_tcp_tuple *t,
		  struct sl_tcp_seg *seg, unsigned int flags, uint64_t now_us);

/**
 * Queue a chain for sending; TCP owns it on success. Segments leave at once as far as the
 * peer's window and the congestion window allow (no Nagle).
 * @return 0; -ENOBUFS when it does not fit the send buffer (chain not taken; `writable`
 *         follows; an empty queue takes a chain of any size); -EPIPE after shutdown or
 *         close; -ENOTCONN when the connection cannot send.
 */
int sl_tcp_send(struct sl_tcp_conn *c, struct sl_tcp_seg *chain, uint64_t now_us);

/** Bytes sl_tcp_send() would take now. */
uint32_t sl_tcp_send_space(const struct sl_tcp_conn *c);

/** The application consumed `n` bytes it was given: they re-open the receive window. */
void sl_tcp_consumed(struct sl_tcp_conn *c, uint32_t n, uint64_t now_us);

/** Send FIN once the queued data is out. @return 0 or -ENOTCONN. */
int sl_tcp_shutdown(struct sl_tcp_conn *c, uint64_t now_us);

/** Shutdown and let go: no further callbacks; TCP finishes the close and frees c. Data
 * arriving afterwards is answered with RST (RFC 9293 3.10.4). A closed connection left in
 * FIN_WAIT_2 is dropped after fin_wait2_us. Closing twice is harmless. */
void sl_tcp_close(struct sl_tcp_conn *c, uint64_t now_us);

/** Reset the connection now (RST sent) and free it; no callbacks. */
void sl_tcp_abort(struct sl_tcp_conn *c, uint64_t now_us);

/** Run timers that are due. */
void sl_tcp_timer(struct sl_tcp_stack *st, uint64_t now_us);

/** Allocate application data buffers / free a chain, through the environment. */
struct sl_tcp_seg *sl_tcp_seg_alloc(struct sl_tcp_stack *st, uint32_t room);
void sl_tcp_seg_free_chain(struct sl_tcp_stack *st, struct sl_tcp_seg *chain);

static inline void
sl_tcp_set_user(struct sl_tcp_conn *c, void *user)
{
	c->user = user;
}

static inline void *
sl_tcp_user(const struct sl_tcp_conn *c)
{
	return c->user;
}

static inline enum sl_tcp_state
sl_tcp_state(const struct sl_tcp_conn *c)
{
	return (enum sl_tcp_state)c->state;
}

/** The stack's current time (the latest now_us it was given): for callbacks, which get none. */
static inline uint64_t
sl_tcp_stack_now(const struct sl_tcp_stack *st)
{
	return st->now_us;
}

/** The test applications of sluiced's config (`protocol`: echo, discard, chargen),
 * RFC 862 / 863 / 864 over TCP. Their app pointer is the stack. */
extern const struct sl_tcp_app_ops sl_tcp_echo_ops;
extern const struct sl_tcp_app_ops sl_tcp_discard_ops;
extern const struct sl_tcp_app_ops sl_tcp_chargen_ops;

#endif /* SL_TCP_H */
