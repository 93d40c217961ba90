/**
 * @file
 * Types shared between the worker loops and the control thread: loop counters and the
 * messages carried on rings. Plain data, no DPDK inlines.
 */
#ifndef SL_LCORE_T_H
#define SL_LCORE_T_H

#include <stdint.h>

#include "sl_addr-t.h"

/*
 * Loop counters of one worker, written only by that worker and summed by the control thread.
 * An iteration is busy when it received, sent or processed at least one packet, ring message
 * or timer; busy_cycles are the TSC cycles of busy iterations. idle_cycles are the cycles of
 * the other iterations, back-off sleeps included (sleep_cycles is the part spent asleep).
 * pmd_cycles are the cycles inside rx/tx burst calls that moved packets.
 */
#define SL_LCORE_STATS(X)                                                                          \
	X(iterations)                                                                              \
	X(busy_iterations)                                                                         \
	X(busy_cycles)                                                                             \
	X(idle_cycles)                                                                             \
	X(sleep_cycles)                                                                            \
	X(sleeps)                                                                                  \
	X(pmd_cycles)                                                                              \
	X(rx_packets)                                                                              \
	X(tx_packets)                                                                              \
	X(tx_dropped)	 /* the driver did not take them: freed */                                 \
	X(no_mbuf)	 /* an allocation for a packet we build failed */                          \
	X(no_l4_handler) /* valid transport segments with nothing to take them yet */              \
	X(msgs)		 /* ring messages processed */                                             \
	X(msg_dropped)	 /* messages we could not post (pool or ring full) */                      \
	X(timer_runs)                                                                              \
	X(redirected)	    /* TCP segments handed to the flow's owner (software RSS) */           \
	X(redirect_in)	    /* TCP segments received from other workers for flows we own */        \
	X(redirect_dropped) /* the owner's ring was full: freed */

struct sl_lcore_stats {
#define SL_LCORE_STATS_FIELD(n) uint64_t n;
	SL_LCORE_STATS(SL_LCORE_STATS_FIELD)
#undef SL_LCORE_STATS_FIELD
};

extern const char *const sl_lcore_stats_names[];
#define SL_LCORE_STATS_COUNT (sizeof(struct sl_lcore_stats) / sizeof(uint64_t))

/** Message operations on the rings between lcores. */
enum sl_msg_op {
	SL_MSG_NEIGH = 1,      /* worker -> workers: a neighbour learned from ARP */
	SL_MSG_PING,	       /* control -> worker: send one ICMP echo request */
	SL_MSG_PING_RESULT,    /* worker -> control: an echo reply, or why none was sent */
	SL_MSG_DRAIN,	       /* control -> worker: start (drain.on) or stop draining */
	SL_MSG_CONNECT,	       /* control -> worker: `test connect`, one active open */
	SL_MSG_CONNECT_RESULT, /* worker -> control: how it ended */
	SL_MSG_REFUSE,	       /* control -> worker: refuse new TCP connections (drain.on) or not */
};

/** One message; allocated from a mempool, never malloc. */
struct sl_msg {
	uint16_t op;	   /* enum sl_msg_op */
	uint16_t port_idx; /* index of the port in the data plane's port array */
	uint16_t from;	   /* worker index of the sender (control: UINT16_MAX) */
	union {
		struct {
			struct sl_ip4 ip;
			struct sl_mac mac;
		} neigh;
		struct {
			struct sl_ip4 dst;
			uint16_t seq;
		} ping;
		struct {
			struct sl_ip4 from;
			uint16_t seq;
			uint16_t sender;   /* worker that sent the request */
			uint16_t receiver; /* worker whose queue got the reply */
			int status;	   /* 0: reply; -errno: not sent */
			uint64_t rtt_cycles;
		} ping_result;
		struct {
			uint8_t on;
		} drain;
		struct {
			struct sl_ip4 dst;
			uint16_t port;
			uint32_t bytes; /* sent, and expected back (an echo server) */
			uint32_t id;
		} connect;
		struct {
			uint32_t id;
			int status; /* 0: all bytes came back intact; -errno */
			struct sl_ip4 laddr;
			uint16_t lport;
			uint16_t worker;
			uint32_t bytes;	 /* verified */
			uint64_t cycles; /* from the message to the end */
		} connect_result;
	};
};

#endif /* SL_LCORE_T_H */
