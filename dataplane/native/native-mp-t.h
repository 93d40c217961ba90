/**
 * @file
 * Types of the allocation-free msgpack scanner, cursor and encoder (see native-mp.h).
 *
 * Input is a chain of byte segments (struct sl_seg): the data plane's packet buffers, or a
 * single flat buffer in the control plane. Nothing here includes DPDK or msgpack-c headers.
 */
#ifndef SL_NATIVE_MP_T_H
#define SL_NATIVE_MP_T_H

#include <stdbool.h>
#include <stdint.h>

/** One contiguous piece of input. A chain is an array of these; empty segments are allowed. */
struct sl_seg {
	const uint8_t *p;
	uint32_t len;
};

/* Default limits (docs/protocol.md "Limits"). */
#define SL_MP_DEFAULT_MAX_FRAME (16u << 20)  /* bytes of one top-level object (frame) */
#define SL_MP_DEFAULT_MAX_DEPTH 32	     /* open containers; msgpack-c's own stack is 32 */
#define SL_MP_DEFAULT_MAX_COUNT (1u << 20)   /* elements of one array, or pairs of one map */
#define SL_MP_DEFAULT_MAX_OBJECTS (1u << 20) /* objects in one top-level object */
#define SL_MP_DEPTH_MAX 32		     /* hard cap of max_depth (scanner stack size) */
#define SL_MP_SCAN_MARKS 5		     /* offsets kept of the root container's elements */

/** Limits flags. */
#define SL_MP_F_OLD_SPEC 0x1 /* reject str8, bin and ext (what msgpack-c 0.5 understands) */

/**
 * Limits applied while scanning, before anything is allocated anywhere. A declared length or
 * element count that cannot fit in max_frame (counting one byte per element still owed by
 * every open container) is rejected as soon as its header is readable.
 */
struct sl_mp_limits {
	uint32_t max_frame;   /**< bytes of one top-level object, >= 1 */
	uint32_t max_count;   /**< elements of one array / pairs of one map */
	uint32_t max_objects; /**< objects (containers included) in one top-level object */
	uint16_t max_depth;   /**< nested open containers, 1..SL_MP_DEPTH_MAX */
	uint16_t flags;	      /**< SL_MP_F_* */
};

/**
 * Resumable scanner state for one top-level object. Positions are relative to the object's
 * first byte. Between calls returning -EAGAIN the caller may only append bytes to the chain.
 */
struct sl_mp_scan {
	uint32_t pos;	   /* bytes of completely present objects/headers accepted so far */
	uint32_t need;	   /* objects still owed (root included until it is read) */
	uint32_t objects;  /* objects accepted so far */
	uint32_t root_n;   /* root container: elements (map: 2 x pairs) */
	uint8_t root_kind; /* SL_MP_ARRAY/SL_MP_MAP root container, SL_MP_NIL any other; 0: unread
			    */
	uint8_t depth;	   /* open containers */
	uint8_t nmarks;	   /* valid entries of marks[] */
	uint32_t marks[SL_MP_SCAN_MARKS]; /* start offsets of the root container's first elements */
	uint32_t left[SL_MP_DEPTH_MAX];	  /* per open container: elements still owed */
	/* segment cache, validated on resume (see sl_mp_scan()) */
	const uint8_t *c_p;
	uint32_t c_idx;
	uint32_t c_base; /* chain offset of segment c_idx */
	uint32_t c_off;	 /* chain offset of the object start */
};

/** msgpack object kinds as the cursor reports them. */
enum sl_mp_type {
	SL_MP_INVALID = 0,
	SL_MP_NIL,
	SL_MP_BOOL,
	SL_MP_UINT,  /* any integer encoding with a value >= 0 */
	SL_MP_INT,   /* any integer encoding with a value < 0 */
	SL_MP_FLOAT, /* float 32 or 64 */
	SL_MP_STR,   /* fixraw/raw16/raw32 (old spec) or str8/16/32 (new spec) */
	SL_MP_BIN,   /* bin 8/16/32 (new spec only) */
	SL_MP_ARRAY,
	SL_MP_MAP,
	SL_MP_EXT, /* fixext / ext 8/16/32 (new spec only) */
};

/**
 * A read position inside a chain, bounded by `left` bytes. Cheap to copy: a copy is an
 * independent position (used for views of args and of raw strings).
 */
struct sl_mp_cur {
	const struct sl_seg *seg; /* current segment */
	const struct sl_seg *end; /* one past the last segment */
	uint32_t off;		  /* offset in *seg */
	uint32_t left;		  /* bytes left in the view */
};

/** A raw string (str or bin) or ext body inside a chain. */
struct sl_mp_raw {
	const uint8_t *p;    /* the bytes when contiguous, else NULL (use at) */
	uint32_t len;	     /* length in bytes */
	struct sl_mp_cur at; /* the first byte, bounded to len */
};

/** One decoded msgpack header (sl_mp_peek(), sl_mp_read()). */
struct sl_mp_obj {
	enum sl_mp_type type;
	uint8_t hdr;	 /* header bytes (for scalars: the whole encoding) */
	int8_t ext_type; /* SL_MP_EXT */
	union {
		bool b;
		uint64_t u; /* SL_MP_UINT */
		int64_t i;  /* SL_MP_INT */
		double f;
		uint32_t n;   /* SL_MP_ARRAY elements, SL_MP_MAP pairs */
		uint32_t len; /* SL_MP_STR, SL_MP_BIN, SL_MP_EXT body bytes */
	} v;
};

/**
 * Encoder output: one contiguous buffer. The first failure (no room) sticks in `err`
 * (-ENOBUFS) and makes every later write a no-op, so a sequence of writes is checked once.
 */
struct sl_mp_w {
	uint8_t *p;
	uint32_t len;
	uint32_t cap;
	int err;
};

#endif /* SL_NATIVE_MP_T_H */
