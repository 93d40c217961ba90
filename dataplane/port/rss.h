/**
 * @file
 * Receive-side scaling as a NIC computes it (Toeplitz over the IPv4/TCP 4-tuple, RETA), so
 * that an active open can pick its local port for the reply to land on the opening worker's
 * queue (design.md section 2). Header-only over rte_thash.h's rte_softrss(): no EAL needed.
 */
#ifndef SL_RSS_H
#define SL_RSS_H

#include <stdint.h>

#include <rte_thash.h>

#define SL_RSS_KEY_LEN 40

/** The key sluice programs into ports that steer: the common default key (Microsoft's RSS
 * verification suite), so hashes can be checked against published values. */
static const uint8_t sl_rss_key[SL_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/** The NIC's hash of a received IPv4/TCP segment from src:sport to dst:dport (host order). */
static inline uint32_t
sl_rss_hash(const uint8_t *key, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	uint32_t tuple[3] = {src, dst, (uint32_t)sport << 16 | dport};

	return rte_softrss(tuple, 3, key);
}

/** The queue a hash lands on, with a RETA of `reta_size` entries (a power of two) whose
 * entry i is queue i % n_queues (how sl_port_start programs it). */
static inline uint16_t
sl_rss_queue(uint32_t hash, uint16_t reta_size, uint16_t n_queues)
{
	return (uint16_t)((hash & (uint32_t)(reta_size - 1)) % n_queues);
}

#endif /* SL_RSS_H */
