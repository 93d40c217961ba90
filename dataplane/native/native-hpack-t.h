/**
 * @file
 * Types of the Cocaine 0.12 header tables (HPACK-like, cocaine-protocol.md section 1.4).
 */
#ifndef SL_NATIVE_HPACK_T_H
#define SL_NATIVE_HPACK_T_H

#include <stdint.h>

#define SL_HPACK_CAPACITY 4096	   /* dynamic table bytes, per connection and direction */
#define SL_HPACK_ENTRY_OVERHEAD 32 /* accounted per entry on top of name + value */
#define SL_HPACK_STATIC_SIZE 83	   /* indices 0 (invalid) .. 82 */
#define SL_HPACK_DYNAMIC_FIRST 83  /* index of the newest dynamic entry */
#define SL_HPACK_MAX_ENTRIES (SL_HPACK_CAPACITY / SL_HPACK_ENTRY_OVERHEAD)
#define SL_HPACK_TRACE_ID 80
#define SL_HPACK_SPAN_ID 81
#define SL_HPACK_PARENT_ID 82

/* Decoded headers of one frame (struct sl_hdrs) */
#define SL_HDRS_MAX 64	  /* header entries per frame */
#define SL_HDRS_BUF 16384 /* bytes of names and values copied out of tables or split segments */

/** One header: name and value are byte strings (values of trace ids are 8 binary bytes). */
struct sl_hdr {
	const uint8_t *name;
	const uint8_t *value;
	uint32_t name_len;
	uint32_t value_len;
};

/**
 * The headers of one decoded frame, in wire order. Names and values point into the static
 * table, into the frame's segments (when contiguous there), or into buf (copies of dynamic
 * table entries and of strings split across segments): valid as long as the frame's segments.
 */
struct sl_hdrs {
	uint32_t n;
	uint32_t used; /* bytes of buf in use */
	struct sl_hdr h[SL_HDRS_MAX];
	uint8_t buf[SL_HDRS_BUF];
};

struct sl_hpack_ent {
	uint16_t off; /* of the name in buf; the value follows it */
	uint16_t nlen;
	uint16_t vlen;
};

/**
 * One direction's dynamic table: entries newest first from index 83, 4096 bytes accounted as
 * len(name) + len(value) + 32 each, evicted oldest first. Live bytes sit contiguous in
 * buf[lo, hi) oldest first and are compacted to the front when the end is reached.
 */
struct sl_hpack {
	uint32_t size;	/* accounted bytes */
	uint16_t head;	/* ring slot of the oldest entry */
	uint16_t count; /* entries */
	uint16_t lo;
	uint16_t hi;
	struct sl_hpack_ent ent[SL_HPACK_MAX_ENTRIES];
	uint8_t buf[SL_HPACK_CAPACITY];
};

#endif /* SL_NATIVE_HPACK_T_H */
