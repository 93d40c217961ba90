/**
 * @file
 * Types of sluice's per-core TCP (EAL-free): sequence numbers, the 4-tuple, payload views,
 * parameters, counters, and the connection and stack structs (visible so the data plane can
 * size mempools and tests can inspect state; only the files of dataplane/tcp write them).
 */
#ifndef SL_TCP_T_H
#define SL_TCP_T_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_addr-t.h"

/** A TCP sequence number: compare only with the wrap-safe helpers of tcp.h. */
struct sl_tcp_seq {
	uint32_t v;
};

/** A connection's key: local (our) and remote address and port, host byte order. */
struct sl_tcp_tuple {
	struct sl_ip4 laddr;
	struct sl_ip4 raddr;
	uint16_t lport;
	uint16_t rport;
};

/**
 * A view of bytes in a buffer the environment owns (an mbuf in the data plane, whose
 * private area holds this struct). Chains carry payload between TCP and the application
 * without copies. Freed one by one through the environment (sl_tcp_seg_free_chain()).
 */
struct sl_tcp_seg {
	struct sl_tcp_seg *next;
	uint8_t *data;
	uint32_t len;
	uint32_t seq; /* TCP's own: the sequence number of data[0] while it holds the segment
		       * out of order (it fills the padding: the struct keeps its size) */
	void *owner;
};

/** RFC 9293 section 3.3.2 states. */
enum sl_tcp_state {
	SL_TCP_CLOSED = 0,
	SL_TCP_LISTEN,
	SL_TCP_SYN_SENT,
	SL_TCP_SYN_RCVD,
	SL_TCP_ESTABLISHED,
	SL_TCP_FIN_WAIT_1,
	SL_TCP_FIN_WAIT_2,
	SL_TCP_CLOSING,
	SL_TCP_TIME_WAIT,
	SL_TCP_CLOSE_WAIT,
	SL_TCP_LAST_ACK,
	SL_TCP_NSTATES,
};

extern const char *const sl_tcp_state_names[SL_TCP_NSTATES];

/** Tunables; zero fields take the defaults in brackets (booleans default to false). */
struct sl_tcp_params {
	uint16_t mss;		  /* MSS we announce and never exceed [1460] */
	uint8_t wscale;		  /* our window scale shift, 0..14 [7] */
	uint32_t rcv_buf;	  /* receive window per connection, bytes [262144] */
	uint32_t snd_buf;	  /* send queue limit per connection, bytes [262144] */
	uint32_t rto_init_us;	  /* RFC 6298 2.1 [1000000] */
	uint32_t rto_min_us;	  /* [200000] */
	uint32_t rto_max_us;	  /* [60000000] */
	uint8_t syn_retries;	  /* SYN and SYN-ACK retransmissions before giving up [5] */
	uint8_t retries;	  /* data/FIN retransmissions before reporting an error [8] */
	uint32_t delack_us;	  /* delayed ACK timer, RFC 9293 3.8.6.3 [40000] */
	uint32_t time_wait_us;	  /* TIME_WAIT length (short: a load balancer's choice) [2000000] */
	uint32_t fin_wait2_us;	  /* FIN_WAIT_2 of a closed connection [60000000] */
	uint32_t tick_us;	  /* timer wheel granularity [1000] */
	bool rx_csum_offload;	  /* checksums of received segments were verified by the port */
	bool tx_csum_offload;	  /* the port completes checksums: write the pseudo-header sum */
	bool no_sack;		  /* do not negotiate SACK (RFC 2018) [SACK on] */
	bool no_timestamps;	  /* do not negotiate timestamps (RFC 7323) [timestamps on] */
	uint8_t keepalive_probes; /* unanswered keepalive probes before the end [9] */
	uint32_t ooo_max_bytes;	  /* out-of-order payload queued per connection [rcv_buf] */
	uint32_t ooo_max_segs;	  /* out-of-order segments queued per connection
				   * [ooo_max_bytes / 512, within 16..4096] */
	uint32_t challenge_ack_limit; /* challenge ACKs per second per stack, RFC 5961 7: the
				       * budget of each second is drawn in [limit/2, 3 limit/2)
				       * (CVE-2016-5696); UINT32_MAX: no limit [1000] */
	uint32_t keepalive_idle_us;   /* idle time before the first keepalive probe of the
				       * listeners; 0: keepalive off [0] */
	uint32_t keepalive_intvl_us;  /* between unanswered probes [75000000] */
	bool no_syncookies;	      /* never answer with a SYN cookie (RFC 4987 3.6) when a
				       * listen backlog is full: drop the SYN [cookies on] */
};

/*
 * Counters of one stack (one lcore). Every segment dropped increments one drop_* counter
 * (or ooo_dropped; or syn_refused_draining for a SYN refused by sl_tcp_refuse()).
 * Every connection allocated ends in exactly one of conn_closed, conn_reset, conn_timeout
 * and conn_aborted (embryonic ones too), except those released by sl_tcp_conn_release().
 */
#define SL_TCP_STATS(X)                                                                            \
	X(segs_in)                                                                                 \
	X(segs_out)                                                                                \
	X(bytes_in)  /* payload bytes accepted in order */                                         \
	X(bytes_out) /* payload bytes sent, retransmissions included */                            \
	X(retransmits)                                                                             \
	X(rst_in)                                                                                  \
	X(rst_out)                                                                                 \
	X(syn_in)	/* segments with SYN, any state */                                         \
	X(accepted)	/* handshakes completed and taken by the application */                    \
	X(conn_closed)	/* connections that ended normally */                                      \
	X(conn_reset)	/* ended by a RST from the peer */                                         \
	X(conn_timeout) /* ended by the retry limit (SYN-ACK ones too) */                          \
	X(conn_aborted) /* we reset: abort, data after close, refused, SYN */                      \
	X(drop_bad_csum)                                                                           \
	X(drop_bad_hdr)	      /* data offset out of range, options malformed, bad flags */         \
	X(drop_no_listener)   /* segment for no connection: RST unless it was one */               \
	X(drop_backlog)	      /* SYN while the listen backlog is full */                           \
	X(drop_no_conn_mem)   /* SYN while no connection could be allocated */                     \
	X(drop_out_of_window) /* unacceptable segments (RFC 9293 3.10.7.4), ACKed and dropped */   \
	X(drop_out_of_order)  /* beyond rcv_nxt, not queued: duplicate, bare FIN, no text taken */ \
	X(drop_bad_ack)	      /* ACK out of range: beyond SND.NXT, before SND.UNA - MAX.SND.WND */ \
	X(drop_no_buf)	      /* an outgoing segment could not be allocated */                     \
	X(fast_retransmits)   /* on three duplicate ACKs, and NewReno's on partial ACKs */         \
	X(sack_retransmits)   /* chosen from the SACK scoreboard (RFC 6675 NextSeg) */             \
	X(rto_timeouts)	      /* retransmission timeouts that resent something (SYN-ACK too) */    \
	X(ooo_segs)	      /* segments queued out of order */                                   \
	X(ooo_dropped)	      /* out-of-order segments dropped: the queue was full */              \
	X(dup_acks_in)	      /* duplicate ACKs (RFC 5681 2, RFC 6675 2) */                        \
	X(zwp_out)	      /* zero-window probes sent (RFC 9293 3.8.6.1) */                     \
	X(challenge_acks)     /* challenge ACKs sent (RFC 5961 3, 4, 5), within the limit */       \
	X(keepalives_out)     /* keepalive probes sent (RFC 1122 4.2.3.6) */                       \
	X(active_opens)	      /* sl_tcp_connect() calls that sent a SYN */                         \
	X(connect_failed)     /* active opens that ended before `connected`, not by the app */     \
	X(syncookies_sent)    /* SYN-ACKs with a cookie, no state kept (backlog full) */           \
	X(syncookies_ok)      /* ACKs whose cookie was valid: a connection was made from it */     \
	X(syncookies_failed)  /* ACKs to a listener that sent cookies, with no valid cookie */     \
	X(syn_refused_draining) /* SYNs to a listener answered RST,ACK: sl_tcp_refuse() on */

struct sl_tcp_stats {
#define SL_TCP_STATS_FIELD(n) uint64_t n;
	SL_TCP_STATS(SL_TCP_STATS_FIELD)
#undef SL_TCP_STATS_FIELD
	uint64_t conns[SL_TCP_NSTATES];	     /* current connections by state */
	uint64_t conns_peak[SL_TCP_NSTATES]; /* highest value of conns[] seen */
};

extern const char *const sl_tcp_stats_names[];
#define SL_TCP_STATS_COUNT                                                                         \
	((sizeof(struct sl_tcp_stats) - 2 * SL_TCP_NSTATES * sizeof(uint64_t)) / sizeof(uint64_t))

/** An intrusive timer on the stack's hashed wheel (24 bytes: kind shares expires' word). */
struct sl_tcp_timer {
	struct sl_tcp_timer *next, **pprev; /* slot list; pprev == NULL: not armed */
	uint64_t expires : 56;		    /* in ticks (2^56 ticks: 2283 years of 1 us) */
	uint64_t kind : 8;		    /* which timer of its connection (tcp-priv.h) */
};

struct sl_tcp_listener;
struct sl_tcp_stack;

/** A range of sequence space the peer reported with SACK (RFC 2018): [start, end). */
struct sl_tcp_sack {
	struct sl_tcp_seq start, end;
};

#define SL_TCP_SACK_MAX 4 /* scoreboard ranges kept, SACK blocks sent without timestamps */

/**
 * One connection. Allocated by the environment (a mempool in the data plane), owned by the
 * stack of the lcore that owns the flow. Fields are the stack's; read them only through
 * the accessors of tcp.h. Ordered for size: 312 bytes on 64-bit targets, no hole but 4 bytes
 * before the pointers (see the size asserted in tcp_conn.c). Buffers are not part of it: the
 * queues hold segments only while data is in flight or out of order.
 */
struct sl_tcp_conn {
	struct sl_tcp_tuple tuple;
	uint8_t state; /* enum sl_tcp_state */
	uint8_t snd_wscale, rcv_wscale;
	uint8_t retries;  /* retransmissions, probes or keepalives without an answer */
	uint16_t flags;	  /* SL_TCP_F_* of tcp-priv.h */
	uint16_t mss;	  /* effective send MSS: payload of a segment with our usual options */
	uint8_t dupacks;  /* duplicate ACKs in a row (RFC 5681 3.2) */
	uint8_t n_sack;	  /* ranges in sack[] */
	uint16_t ooo_cnt; /* segments in the out-of-order queue */
	/* send sequence space, RFC 9293 3.3.1 */
	struct sl_tcp_seq iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
	uint32_t snd_wnd, max_snd_wnd; /* MAX.SND.WND: RFC 5961 5.2 */
	/* congestion control (RFC 5681) and loss recovery (RFC 6582, RFC 6675) */
	uint32_t cwnd, ssthresh;
	struct sl_tcp_seq recover;  /* "recover" of RFC 6582, RecoveryPoint of RFC 6675 */
	struct sl_tcp_seq high_rxt; /* HighRxt of RFC 6675 */
	struct sl_tcp_sack sack[SL_TCP_SACK_MAX]; /* the scoreboard: sorted, disjoint */
	/* receive sequence space */
	struct sl_tcp_seq irs, rcv_nxt, rcv_adv;      /* rcv_adv: right edge we advertised */
	struct sl_tcp_seq rcv_acked;		      /* rcv_nxt as of our last ACK (3.8.6.3) */
	uint32_t rcv_held;			      /* bytes delivered and not yet consumed */
	uint32_t ooo_bytes;			      /* payload in the out-of-order queue */
	struct sl_tcp_seq sack_hint[SL_TCP_SACK_MAX]; /* recent out-of-order arrivals, newest
						       * first: the order of our SACK blocks */
	uint32_t ts_recent;			      /* TS.Recent, RFC 7323 4.3 */
	uint32_t last_rx_tick;			      /* wheel tick of the last segment in */
	/* RTT and RTO, RFC 6298 */
	uint32_t srtt_us, rttvar_us, rto_us;
	struct sl_tcp_seq rtt_seq; /* segment being timed (Karn: never a retransmission) */
	uint32_t rtt_start_us;	   /* when it was sent: the low 32 bits of now_us (71 min) */
	uint32_t sndq_off;	   /* bytes of sndq_head already acknowledged */
	uint32_t sndq_len;	   /* bytes queued (unacknowledged + unsent) */
	/* send queue: bytes from snd_una on, as the application gave them */
	struct sl_tcp_seg *sndq_head, *sndq_tail;
	/* out-of-order queue: received segments beyond rcv_nxt, sorted, disjoint */
	struct sl_tcp_seg *ooo_head, *ooo_tail;
	struct sl_tcp_timer rexmit_timer, delack_timer, wait_timer;
	struct sl_tcp_stack *stack;
	/* the listener it came from, or for an active open the stack's binding of its
	 * application (a struct sl_tcp_listener with port 0): callbacks go to ->ops, ->app */
	struct sl_tcp_listener *listener;
	void *user; /* the application's */
};

#endif /* SL_TCP_T_H */
