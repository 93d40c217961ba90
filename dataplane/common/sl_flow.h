/**
 * @file
 * Software RSS: which worker owns a TCP flow, where the port cannot steer flows to queues
 * (tap, af_packet: their kernels move flows between queues under load). Every worker computes
 * the same owner from the 4-tuple as seen from sluice's side, so a worker that receives a
 * segment of a flow it does not own hands it to the owner over a ring, and an active open picks
 * its local port so that the owner is the opening worker. EAL-free.
 */
#ifndef SL_FLOW_H
#define SL_FLOW_H

#include <stdint.h>

/** A 32-bit hash of the flow (local and remote address and port, host byte order): a
 * SplitMix64 finaliser over the packed tuple. */
static inline uint32_t
sl_flow_hash(uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport)
{
	uint64_t x = ((uint64_t)laddr << 32 | raddr) ^
		     (((uint64_t)lport << 16 | rport) * 0x9e3779b97f4a7c15ull);

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (uint32_t)x;
}

/** The owner among `n` workers (n >= 1): the hash scaled to [0, n) (no division). */
static inline unsigned int
sl_flow_owner(uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport, unsigned int n)
{
	return (unsigned int)(((uint64_t)sl_flow_hash(laddr, raddr, lport, rport) * n) >> 32);
}

#endif /* SL_FLOW_H */
