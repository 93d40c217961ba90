/**
 * @file
 * MD5 (RFC 1321) for the routing groups' ketama rings (cocaine-protocol.md 7.4).
 */
#ifndef SL_NODE_MD5_H
#define SL_NODE_MD5_H

#include <stddef.h>
#include <stdint.h>

struct md5_ctx {
	uint32_t h[4];
	uint64_t len; /* bytes hashed */
	uint8_t buf[64];
};

void md5_init(struct md5_ctx *m);
void md5_update(struct md5_ctx *m, const void *data, size_t n);
/** The 16-byte digest (the context is spent). */
void md5_final(struct md5_ctx *m, uint8_t out[16]);

#endif /* SL_NODE_MD5_H */
