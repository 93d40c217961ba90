/**
 * @file
 * The Internet checksum (RFC 1071), over bytes read in network order so that the result is
 * written back with sl_wr_be16() on any host.
 */
#include "net-priv.h"

/*
 * sl_net_csum(<data>, <len>, <sum>): RFC 1071 4.1: add 16-bit big-endian words (a last odd
 * byte padded with zero), fold the carries back in and complement. <sum> is a partial sum to
 * start from, such as a transport pseudo-header. Over a message that holds its own correct
 * checksum the result is 0. Words are added four bytes at a time into 64 bits: one's
 * complement addition commutes with the folding done at the end (RFC 1071 2(B)).
 */
uint16_t
sl_net_csum(const uint8_t *data, uint32_t len, uint32_t sum)
{
	uint64_t acc = sum;

	for (; len >= 4; len -= 4, data += 4)
		acc += sl_rd_be32(data);
	if (len >= 2) {
		acc += sl_rd_be16(data);
		data += 2;
		len -= 2;
	}
	if (len != 0)
		acc += (uint32_t)data[0] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}
