/**
 * @file
 * Types of the EAL-free L2/L3 layer (Ethernet, ARP, IPv4, ICMP): per-interface state,
 * neighbour and route tables, and the named drop/packet counters. Plain structs only, so
 * control, tools and tests can read them without DPDK.
 */
#ifndef SL_NET_T_H
#define SL_NET_T_H

#include <stdint.h>

#include "sl_addr-t.h"

/*
 * Per-interface, per-lcore counters. One X-macro list gives the struct fields and the names
 * used by `sluicectl show stats` so they cannot drift. Every dropped frame increments exactly
 * one drop_* counter.
 */
#define SL_NET_STATS(X)                                                                            \
	X(rx_frames) /* frames given to sl_net_input() */                                          \
	X(rx_bytes)                                                                                \
	X(rx_arp_request) /* ARP requests accepted (for us or not) */                              \
	X(rx_arp_reply)	  /* ARP replies and gratuitous ARPs accepted */                           \
	X(tx_arp_reply)                                                                            \
	X(tx_arp_request)                                                                          \
	X(tx_garp)	 /* gratuitous ARPs sent */                                                \
	X(neigh_learned) /* neighbour entries created or changed by ARP we received */             \
	X(neigh_expired)                                                                           \
	X(rx_icmp_echo)                                                                            \
	X(tx_icmp_echo_reply)                                                                      \
	X(tx_icmp_echo)	      /* echo requests sent by sluiced itself (ping) */                    \
	X(rx_icmp_echo_reply) /* replies to our own echo requests */                               \
	X(rx_l4)	      /* valid IPv4 for us handed to the transport layer */                \
	X(tx_ip)	      /* locally originated IPv4 packets sent */                           \
	X(drop_truncated)     /* shorter than the headers or lengths it claims */                  \
	X(drop_oversize)      /* longer than the interface MTU + Ethernet header */                \
	X(drop_l2_not_for_us) /* destination MAC neither ours nor broadcast */                     \
	X(drop_unknown_ethertype)                                                                  \
	X(drop_ipv6)	       /* IPv6 is not supported yet */                                     \
	X(drop_bad_arp)	       /* wrong hardware/protocol type or sizes, unknown op */             \
	X(drop_arp_not_for_us) /* ARP request for another address */                               \
	X(drop_bad_ip_version)                                                                     \
	X(drop_bad_ihl)	   /* IHL < 5 */                                                           \
	X(drop_ip_options) /* IHL > 5: options are not supported */                                \
	X(drop_bad_ip_len) /* total length < header length */                                      \
	X(drop_bad_ip_csum)                                                                        \
	X(drop_bad_ip_src)     /* source is multicast, broadcast, loopback or zero */              \
	X(drop_ip_fragment)    /* MF set or non-zero offset: no reassembly */                      \
	X(drop_ttl)	       /* TTL 0 on arrival */                                              \
	X(drop_ip_not_for_us)  /* destination is not our address */                                \
	X(drop_unknown_proto)  /* IPv4 protocol we do not handle */                                \
	X(drop_bad_icmp)       /* ICMP shorter than 8 bytes or bad checksum */                     \
	X(drop_icmp_other)     /* ICMP types we do not answer */                                   \
	X(drop_no_route)       /* no route for a locally originated packet */                      \
	X(drop_arp_unresolved) /* queued for a next hop that never answered */                     \
	X(drop_arp_queue_full) /* more packets than the pending queue holds */

struct sl_net_stats {
#define SL_NET_STATS_FIELD(name) uint64_t name;
	SL_NET_STATS(SL_NET_STATS_FIELD)
#undef SL_NET_STATS_FIELD
};

/** Names of the counters, in struct order; SL_NET_STATS_COUNT entries. */
extern const char *const sl_net_stats_names[];
#define SL_NET_STATS_COUNT (sizeof(struct sl_net_stats) / sizeof(uint64_t))

/** A route: destination prefix -> gateway (0.0.0.0 = on link). */
struct sl_route {
	struct sl_ip4 dst;
	uint8_t prefix_len;
	struct sl_ip4 gateway;
};

#define SL_ROUTES_MAX 32

/** Immutable after start; shared read-only by all lcores of an interface. */
struct sl_route_table {
	unsigned int n;
	struct sl_route r[SL_ROUTES_MAX];
};

/** Neighbour states (RFC 826 plus the usual expiry). */
enum sl_neigh_state {
	SL_NEIGH_FREE = 0,
	SL_NEIGH_INCOMPLETE, /* request sent, packets may be queued */
	SL_NEIGH_REACHABLE,  /* MAC known and fresh */
	SL_NEIGH_STALE,	     /* MAC known but older than the reachable time: used, and refreshed */
};

#define SL_NEIGH_PENDING_MAX 4	/* packets queued per unresolved next hop */
#define SL_NEIGH_TABLE_SIZE 256 /* entries per interface per lcore, power of two */

struct sl_neigh {
	struct sl_ip4 ip;
	struct sl_mac mac;
	uint8_t state; /* enum sl_neigh_state */
	uint8_t tries; /* requests sent since the last answer */
	uint8_t n_pending;
	uint64_t updated_us;  /* last time the MAC was confirmed */
	uint64_t next_try_us; /* next request while INCOMPLETE or STALE */
	void *pending[SL_NEIGH_PENDING_MAX];
	uint8_t *pending_frame[SL_NEIGH_PENDING_MAX]; /* Ethernet header written on resolution */
	uint16_t pending_len[SL_NEIGH_PENDING_MAX];
};

/** Timing knobs of the neighbour table, microseconds. */
struct sl_neigh_params {
	uint64_t reachable_us; /* default 300 s: after that an entry is STALE and re-requested */
	uint64_t retry_us;     /* default 1 s between requests */
	uint8_t max_tries;     /* default 3: then pending packets are dropped, entry freed */
};

#endif /* SL_NET_T_H */
