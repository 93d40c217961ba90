/**
 * @file
 * Cocaine 0.12 headers (cocaine-protocol.md sections 1.4 and 12a.3).
 *
 * Receiving: each entry of a frame's header array is a bare table index (full name + value),
 * `[store, name, value]` with a raw name, or `[store, index, value]` with a name-only index;
 * `store` true appends the pair to the receiver's dynamic table. Entries are decoded strictly
 * in order, so an index may refer to an entry stored earlier in the same frame.
 * Sending: sluice always sends `[false, name, value]`, so the peer's table for our direction
 * never changes and needs no state here.
 */
#ifndef SL_NATIVE_HPACK_H
#define SL_NATIVE_HPACK_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "native-hpack-t.h"
#include "native-mp-t.h"

/** Empty the dynamic table. */
void sl_hpack_init(struct sl_hpack *t);

/**
 * Look up a table index (static 1..82, dynamic 83.., newest first).
 * @return 0 with *out pointing into the table (valid until the next insertion);
 *   -ENOENT for index 0 or past the end.
 */
int sl_hpack_get(const struct sl_hpack *t, uint64_t idx, struct sl_hdr *out);

/**
 * Append (name, value) as the newest entry, evicting the oldest ones until it fits; an entry
 * larger than the capacity empties the table and is not stored (as the peers do). `name`
 * may point into the table itself.
 */
void sl_hpack_insert(struct sl_hpack *t, const void *name, uint32_t name_len, const void *value,
		     uint32_t value_len);

/** Accounted size of the dynamic table in bytes. */
static inline uint32_t
sl_hpack_size(const struct sl_hpack *t)
{
	return t->size;
}

/** Entries in the dynamic table. */
static inline uint32_t
sl_hpack_count(const struct sl_hpack *t)
{
	return t->count;
}

/**
 * Decode `n` header entries at the cursor (the elements of a frame's header array),
 * updating the table in order.
 * @param t    the sender's dynamic table for this direction
 * @param c    cursor at the first entry; advanced past the last
 * @param n    number of entries
 * @param out  decoded headers (reset first), or NULL to only update the table
 * @return 0; -EILSEQ for a malformed entry or an invalid index (Cocaine hpack_error);
 *   -ENOBUFS when out cannot hold all headers (SL_HDRS_MAX entries, SL_HDRS_BUF bytes).
 */
int sl_hpack_decode(struct sl_hpack *t, struct sl_mp_cur *c, uint32_t n, struct sl_hdrs *out);

/** Find the first header called `name` (NUL-terminated). @return it, or NULL. */
const struct sl_hdr *sl_hdrs_find(const struct sl_hdrs *h, const char *name);

/**
 * Read an 8-byte little-endian integer value (trace_id, span_id, parent_id,
 * request_timeout: native-endian uint64 on the x86 peers).
 * @return 0, or -EINVAL when the value is not 8 bytes.
 */
int sl_hdr_u64(const struct sl_hdr *h, uint64_t *v);

/** Store v as 8 little-endian bytes (a trace header value). */
static inline void
sl_hdr_le64(uint8_t out[8], uint64_t v)
{
	unsigned int i;

	for (i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

/** A header from a NUL-terminated name and a byte value. */
static inline struct sl_hdr
sl_hdr_make(const char *name, const void *value, uint32_t value_len)
{
	struct sl_hdr h = {
		.name = (const uint8_t *)name,
		.value = (const uint8_t *)value,
		.name_len = (uint32_t)strlen(name),
		.value_len = value_len,
	};

	return h;
}

#endif /* SL_NATIVE_HPACK_H */
