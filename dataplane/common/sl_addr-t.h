/**
 * @file
 * Address types shared by the data plane, control and tools. Plain structs only: no DPDK.
 * IPv4 addresses are kept in host byte order inside a distinct type so that they cannot be
 * mixed with other integers; IPv6 has its slot in struct sl_inaddr for later.
 */
#ifndef SL_ADDR_T_H
#define SL_ADDR_T_H

#include <stdint.h>

/** An IPv4 address, host byte order (198.18.0.2 is 0xc6120002). */
struct sl_ip4 {
	uint32_t v;
};

/** An Ethernet MAC address. */
struct sl_mac {
	uint8_t b[6];
};

enum sl_af {
	SL_AF_NONE = 0,
	SL_AF_INET = 4,
	SL_AF_INET6 = 6,
};

/** An IP address of either family (IPv6 is reserved for later). */
struct sl_inaddr {
	enum sl_af af;
	union {
		struct sl_ip4 v4;
		uint8_t v6[16];
	};
};

/** An interface address with its prefix length. */
struct sl_ifaddr {
	struct sl_inaddr addr;
	uint8_t prefix_len;
};

static inline int
sl_ip4_eq(struct sl_ip4 a, struct sl_ip4 b)
{
	return a.v == b.v;
}

/** Netmask of a prefix length 0..32, host byte order. */
static inline uint32_t
sl_ip4_mask(uint8_t prefix_len)
{
	return prefix_len == 0 ? 0 : ~0u << (32 - prefix_len);
}

#endif /* SL_ADDR_T_H */
