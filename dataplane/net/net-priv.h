/**
 * @file
 * Internals of the net layer shared by its .c files, not part of the API: wire offsets of the
 * Ethernet, ARP, IPv4 and ICMP headers, small inline helpers, and the `sl_net__` functions
 * (internal but non-static) through which eth.c, arp.c, ipv4.c, icmp.c and neigh.c call each
 * other. Everything here runs on the lcore that owns the interface.
 */
#ifndef SL_NET_PRIV_H
#define SL_NET_PRIV_H

#include <stdint.h>
#include <string.h>

#include "net.h"
#include "sl_util.h"

/* Defaults of struct sl_net_if_conf fields left at 0. */
#define SL_NET_DEFAULT_MTU 1500
#define SL_NEIGH_DEFAULT_REACHABLE_US (300ull * 1000 * 1000)
#define SL_NEIGH_DEFAULT_RETRY_US (1000ull * 1000)
#define SL_NEIGH_DEFAULT_MAX_TRIES 3

#define SL_MAC_LEN 6

/* Ethernet II header (RFC 894): offsets from the start of the frame. */
#define SL_ETH_DST 0
#define SL_ETH_SRC 6
#define SL_ETH_TYPE 12

/*
 * ARP for Ethernet and IPv4 (RFC 826 "Packet format"): offsets from the ARP header.
 *
 *   0      2      4   5   6      8            14     18           24     28
 *   +------+------+---+---+------+------------+------+------------+------+
 *   | hrd  | pro  |hln|pln|  op  |    sha     | spa  |    tha     | tpa  |
 *   +------+------+---+---+------+------------+------+------------+------+
 */
#define SL_ARP_HRD 0
#define SL_ARP_PRO 2
#define SL_ARP_HLN 4
#define SL_ARP_PLN 5
#define SL_ARP_OP 6
#define SL_ARP_SHA 8
#define SL_ARP_SPA 14
#define SL_ARP_THA 18
#define SL_ARP_TPA 24
#define SL_ARP_HRD_ETHER 1
#define SL_ARP_OP_REQUEST 1
#define SL_ARP_OP_REPLY 2

/*
 * IPv4 header (RFC 791 3.1): offsets from the IPv4 header.
 *
 *   0       1       2               4               6               8       9       10
 *   +---+---+-------+---------------+---------------+---------------+-------+-------+------+
 *   |ver|ihl|  tos  | total length  | identification|flags|frag off |  ttl  | proto | csum |
 *   +---+---+-------+---------------+---------------+---------------+-------+-------+------+
 *   12: source address, 16: destination address, 20: options (IHL > 5) or payload
 */
#define SL_IP4_VER_IHL 0
#define SL_IP4_TOS 1
#define SL_IP4_TOTAL_LEN 2
#define SL_IP4_ID 4
#define SL_IP4_FRAG 6
#define SL_IP4_TTL 8
#define SL_IP4_PROTO 9
#define SL_IP4_CSUM 10
#define SL_IP4_SRC 12
#define SL_IP4_DST 16
#define SL_IP4_FLAG_DF 0x4000
#define SL_IP4_FLAG_MF 0x2000
#define SL_IP4_FRAG_OFF_MASK 0x1fff

/* ICMP header (RFC 792): offsets from the ICMP header; ident and seq are those of echo. */
#define SL_ICMP_HLEN 8
#define SL_ICMP_TYPE 0
#define SL_ICMP_CODE 1
#define SL_ICMP_CSUM 2
#define SL_ICMP_IDENT 4
#define SL_ICMP_SEQ 6
#define SL_ICMP_ECHO_REPLY 0
#define SL_ICMP_ECHO_REQUEST 8

/** Count a drop in `counter` and return the verdict that goes with it. */
static inline enum sl_net_verdict
sl_net__drop(uint64_t *counter)
{
	(*counter)++;
	return SL_NET_DROP;
}

static inline int
sl_net__mac_eq(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, SL_MAC_LEN) == 0;
}

/** Group (multicast or broadcast) address: the I/G bit, first bit on the wire. */
static inline int
sl_net__mac_is_group(const uint8_t *m)
{
	return m[0] & 1;
}

static inline int
sl_net__mac_is_zero(const uint8_t *m)
{
	return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}

static inline int
sl_net__mac_is_bcast(const uint8_t *m)
{
	return (m[0] & m[1] & m[2] & m[3] & m[4] & m[5]) == 0xff;
}

static inline struct sl_ip4
sl_net__rd_ip4(const uint8_t *p)
{
	struct sl_ip4 a = {sl_rd_be32(p)};

	return a;
}

/** Write an Ethernet II header at `frame`. */
static inline void
sl_net__eth_write(uint8_t *frame, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(frame + SL_ETH_DST, dst, SL_MAC_LEN);
	memcpy(frame + SL_ETH_SRC, src, SL_MAC_LEN);
	sl_wr_be16(frame + SL_ETH_TYPE, type);
}

/**
 * Update a checksum for one 16-bit word changed from `old_word` to `new_word`: RFC 1624
 * equation 3, HC' = ~(~HC + ~m + m'), which never yields the -0 of equation 2.
 */
static inline uint16_t
sl_net__csum_adjust16(uint16_t csum, uint16_t old_word, uint16_t new_word)
{
	uint32_t s = (uint32_t)(uint16_t)~csum + (uint16_t)~old_word + new_word;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* eth.c hands frames to these by ethertype; each counts its own drops. */
enum sl_net_verdict sl_net__arp_input(struct sl_net_if *nif, uint8_t *frame, uint16_t data_len,
				      uint64_t now_us, struct sl_net_result *res);
enum sl_net_verdict sl_net__ip4_input(struct sl_net_if *nif, uint8_t *frame, uint32_t pkt_len,
				      uint16_t data_len, struct sl_net_result *res);
/* ipv4.c hands ICMP to this with the IPv4 total length (header of 20 bytes checked). */
enum sl_net_verdict sl_net__icmp_input(struct sl_net_if *nif, uint8_t *frame, uint16_t ip_len,
				       uint16_t data_len, struct sl_net_result *res);

/**
 * Allocate and send an ARP request for `target` from our addresses (target MAC zero), to
 * `eth_dst` or broadcast when NULL. Counts nothing.
 * @return 0, or -ENOBUFS when ops->alloc had nothing.
 */
int sl_net__arp_send_request(struct sl_net_if *nif, const uint8_t *eth_dst, struct sl_ip4 target);

/** Whether ip -> mac may enter the neighbour table (not zero, not ours, unicast MAC). */
int sl_net__neigh_learnable(const struct sl_net_if *nif, struct sl_ip4 ip, const uint8_t *mac);

/** The entry for `ip`, or NULL. */
struct sl_neigh *sl_net__neigh_lookup(struct sl_net_if *nif, struct sl_ip4 ip);

/**
 * Take a slot for `ip` (absent from the table): a free one in its probe window, else evict
 * the stalest resolved entry there. The slot comes back zeroed but for `ip`, state FREE.
 * @return the slot, or NULL when every slot of the window is INCOMPLETE.
 */
struct sl_neigh *sl_net__neigh_insert(struct sl_net_if *nif, struct sl_ip4 ip);

/**
 * Mark `n` REACHABLE with `mac` as of `now_us` and send its queued packets.
 * @return 1 when the entry is new or its MAC changed, else 0.
 */
int sl_net__neigh_resolve(struct sl_net_if *nif, struct sl_neigh *n, const uint8_t *mac,
			  uint64_t now_us);

#endif /* SL_NET_PRIV_H */
