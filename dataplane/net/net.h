/**
 * @file
 * The EAL-free L2/L3 layer: Ethernet, ARP, IPv4 and ICMP for one interface on one lcore.
 *
 * The data plane calls sl_net_input() for every received frame and acts on the verdict;
 * locally originated IPv4 packets go out through sl_net_output(), which routes them and
 * resolves the next hop (queueing a few packets while ARP is in flight). Packets are opaque
 * handles (`void *pkt`, an mbuf in the data plane) plus a pointer to their frame bytes; the
 * layer asks the caller to allocate, transmit and free them through struct sl_net_ops.
 *
 * Nothing here allocates memory, takes a lock, makes a syscall or reads a clock: time comes
 * in as `now_us` from the caller. One struct sl_net_if belongs to exactly one lcore.
 *
 * Return conventions: verdicts for packet functions, -errno for the others.
 */
#ifndef SL_NET_H
#define SL_NET_H

#include <stdint.h>

#include "net-t.h"

#define SL_ETH_HLEN 14
#define SL_ETHERTYPE_IPV4 0x0800
#define SL_ETHERTYPE_ARP 0x0806
#define SL_ETHERTYPE_IPV6 0x86dd
#define SL_ARP_FRAME_LEN 42 /* Ethernet + ARP for IPv4, unpadded */
#define SL_IP4_HLEN 20
#define SL_IPPROTO_ICMP 1
#define SL_IPPROTO_TCP 6
#define SL_IPPROTO_UDP 17
#define SL_IP4_DEFAULT_TTL 64

/** What the caller does with a frame after sl_net_input() or sl_net_output(). */
enum sl_net_verdict {
	SL_NET_DROP = 0, /* counted in a drop_* counter (or fully handled); caller frees */
	SL_NET_TX,	 /* frame rewritten in place, res->tx_len bytes; caller transmits it */
	SL_NET_L4,	 /* valid IPv4 for us, not handled here: res->l4 describes it */
	SL_NET_QUEUED,	 /* sl_net_output() only: held until ARP resolves; caller lets go */
};

/** Callbacks into the owner of the interface (the lcore loop, or a test). */
struct sl_net_ops {
	/** Allocate a packet with at least `room` bytes of frame; NULL when none is left. */
	void *(*alloc)(void *user, uint8_t **frame, uint16_t room);
	/** Transmit a packet whose frame is `len` bytes; takes ownership. */
	void (*tx)(void *user, void *pkt, uint16_t len);
	/** Free a packet that will not be sent. */
	void (*free)(void *user, void *pkt);
	/** A received ARP taught us ip -> mac (new or changed). May be NULL. Used to share
	 * neighbours with the other lcores, which call sl_net_neigh_update(). */
	void (*neigh_learned)(void *user, struct sl_ip4 ip, const struct sl_mac *mac);
	/** An ICMP echo reply arrived (any identifier). `payload` is the data after the
	 * 8-byte ICMP header. May be NULL. */
	void (*echo_reply)(void *user, struct sl_ip4 from, uint16_t ident, uint16_t seq,
			   const uint8_t *payload, uint16_t payload_len);
};

/** Static description of an interface. */
struct sl_net_if_conf {
	uint16_t port_id;
	uint16_t mtu; /* IP MTU, default 1500 when 0 */
	struct sl_mac mac;
	struct sl_ip4 addr;
	uint8_t prefix_len;
	const struct sl_route_table *routes; /* may be NULL: on-link only */
	struct sl_neigh_params neigh;	     /* zero fields take the defaults */
};

/** What sl_net_input() found, by verdict. */
struct sl_net_result {
	uint16_t tx_len; /* SL_NET_TX: frame length to send */
	struct {	 /* SL_NET_L4 */
		struct sl_ip4 src, dst;
		uint8_t proto;
		uint8_t ttl;
		uint16_t l3_off; /* offset of the IPv4 header in the frame */
		uint16_t l4_off; /* offset of the transport header in the frame */
		uint16_t l4_len; /* transport header + payload, from the IPv4 total length */
	} l4;
};

/** One interface on one lcore. Fields after `stats` change only on the owning lcore. */
struct sl_net_if {
	struct sl_net_if_conf conf;
	const struct sl_net_ops *ops;
	void *user;
	struct sl_net_stats stats;
	struct sl_neigh neigh[SL_NEIGH_TABLE_SIZE];
};

/**
 * Initialise an interface. Copies `conf`, applies defaults.
 * @return 0, or -EINVAL for a missing ops table (or a missing alloc, tx or free in it) or a
 *         prefix length over 32.
 */
int sl_net_if_init(struct sl_net_if *nif, const struct sl_net_if_conf *conf,
		   const struct sl_net_ops *ops, void *user);

/**
 * Process one received frame.
 * @param frame     first byte of the Ethernet header; may be rewritten in place
 * @param pkt_len   total frame length (all segments)
 * @param data_len  contiguous bytes at `frame` (the first segment); headers must be there
 * @param now_us    current time in microseconds (monotonic)
 * @param res       filled as the verdict says
 * @return the verdict. Never fails on malformed input: every drop has its counter.
 */
enum sl_net_verdict sl_net_input(struct sl_net_if *nif, uint8_t *frame, uint32_t pkt_len,
				 uint16_t data_len, uint64_t now_us, struct sl_net_result *res);

/**
 * Send a locally originated IPv4 packet. `frame` holds SL_ETH_HLEN bytes of room followed by
 * a complete IPv4 packet whose header checksum is already set (sl_net_ip4_finish() does it);
 * the Ethernet header is written here.
 * @return SL_NET_TX (send `len` bytes), SL_NET_QUEUED (held until ARP answers; an ARP request
 *         was sent) or SL_NET_DROP (drop_no_route or drop_arp_queue_full counted; caller frees).
 */
enum sl_net_verdict sl_net_output(struct sl_net_if *nif, void *pkt, uint8_t *frame, uint16_t len,
				  struct sl_ip4 dst, uint64_t now_us);

/**
 * Fill in an IPv4 header at `ip` (version, IHL 5, TTL 64, DF, the given protocol, source =
 * interface address) for `ip_len` bytes of header + payload, and its checksum.
 */
void sl_net_ip4_finish(const struct sl_net_if *nif, uint8_t *ip, uint16_t ip_len, uint8_t proto,
		       struct sl_ip4 dst, uint16_t ip_id);

/**
 * Build an ICMP echo request to `dst` at `frame` (room >= 14 + 20 + 8 + payload_len), with
 * the Ethernet header left for sl_net_output(). Counts nothing (`nif` is const): the caller
 * counts stats.tx_icmp_echo when sl_net_output() sends or queues it.
 * @return the frame length, or 0 when the datagram would exceed 65535 bytes.
 */
uint16_t sl_net_build_echo(const struct sl_net_if *nif, uint8_t *frame, struct sl_ip4 dst,
			   uint16_t ident, uint16_t seq, const uint8_t *payload,
			   uint16_t payload_len);

/** Learn ip -> mac from another lcore: update the entry and send what was queued for it. */
void sl_net_neigh_update(struct sl_net_if *nif, struct sl_ip4 ip, const struct sl_mac *mac,
			 uint64_t now_us);

/** Look up a neighbour entry (for tests and `show`); NULL when absent. */
const struct sl_neigh *sl_net_neigh_find(const struct sl_net_if *nif, struct sl_ip4 ip);

/**
 * Periodic work, about every 100 ms: resend ARP requests for INCOMPLETE entries, give up
 * after max_tries (drop_arp_unresolved for each queued packet), refresh or expire STALE ones.
 */
void sl_net_timer(struct sl_net_if *nif, uint64_t now_us);

/**
 * Send a gratuitous ARP (a request for our own address, sender = target = our address).
 * @return 0, or -ENOBUFS when no packet could be allocated.
 */
int sl_net_garp(struct sl_net_if *nif);

/**
 * Route lookup: longest prefix of the on-link subnet and the route table.
 * @return 0 with *next_hop set (dst itself when on link), or -ENETUNREACH.
 */
int sl_net_route(const struct sl_net_if *nif, struct sl_ip4 dst, struct sl_ip4 *next_hop);

/** Internet checksum (RFC 1071) of `len` bytes, folded, added to `sum` (0 to start). */
uint16_t sl_net_csum(const uint8_t *data, uint32_t len, uint32_t sum);

#endif /* SL_NET_H */
