/**
 * @file
 * The data plane's msgpack codec: a resumable, allocation-free scanner that validates one
 * top-level object over a chain of segments against limits; a bounded cursor that reads
 * objects and hands out views of raw strings (which may span segments); and an encoder
 * that writes the *old* msgpack spec only (fixraw/raw16/raw32, never str8, bin or ext), the
 * dialect every Cocaine peer (msgpack-c 0.5) understands. Decoding accepts both specs.
 *
 * The encoder functions are static inlines because the hot path encodes a frame header in a
 * handful of calls; everything else lives in mp.c.
 *
 * Return conventions (picohttpparser-like, with errno values):
 *  - scanner: > 0 = length of the complete object; -EAGAIN = valid so far, need more bytes;
 *    -EBADMSG = not msgpack (0xc1; or str8/bin/ext with SL_MP_F_OLD_SPEC);
 *    -EMSGSIZE = a declared length or count cannot fit in max_frame;
 *    -E2BIG = a container declares more than max_count elements, or the object would hold
 *    more than max_objects objects; -ELOOP = more than max_depth nested containers.
 *  - cursor reads: 0 on success; -ENOMSG = the next object has another type (cursor left
 *    unchanged); -EBADMSG = malformed or runs past the view; -ERANGE = value does not fit.
 */
#ifndef SL_NATIVE_MP_H
#define SL_NATIVE_MP_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "native-mp-t.h"

/** Fill *lim with the defaults (SL_MP_DEFAULT_*, no flags). */
void sl_mp_limits_default(struct sl_mp_limits *lim);

/** Total bytes of a chain. */
uint64_t sl_seg_total(const struct sl_seg *seg, uint32_t nseg);

/** Prepare *s to scan a new top-level object. */
void sl_mp_scan_init(struct sl_mp_scan *s);

/**
 * Scan (or resume scanning) one top-level msgpack object starting at chain offset `off`.
 *
 * Limits are checked as soon as a header is readable, before its body arrives. The scanner
 * never allocates and never reads past the chain. Between calls that return -EAGAIN the
 * caller passes the same `off` and the same chain, possibly with bytes appended (the last
 * segment grown or segments added). After any other result call sl_mp_scan_init() before
 * scanning the next object.
 *
 * @param s      scanner state (sl_mp_scan_init() first)
 * @param lim    limits (see struct sl_mp_limits)
 * @param seg    chain of segments
 * @param nseg   number of segments
 * @param off    chain offset of the object's first byte
 * @return
 *   > 0: the object's length in bytes (also in s->pos); s->marks[] hold the offsets of the
 *   root container's first elements.
 *   -EAGAIN: incomplete but valid so far.
 *   -EBADMSG, -EMSGSIZE, -E2BIG, -ELOOP: see the file comment.
 */
int sl_mp_scan(struct sl_mp_scan *s, const struct sl_mp_limits *lim, const struct sl_seg *seg,
	       uint32_t nseg, uint32_t off);

/**
 * Convenience: scan one object in a flat buffer from scratch.
 * @return as sl_mp_scan().
 */
int sl_mp_scan_flat(const void *buf, uint32_t len, const struct sl_mp_limits *lim);

/**
 * Position a cursor at chain offset `off`, bounded to `len` bytes.
 * @return 0, or -EINVAL when off + len runs past the chain.
 */
int sl_mp_cur_init(struct sl_mp_cur *c, const struct sl_seg *seg, uint32_t nseg, uint32_t off,
		   uint32_t len);

/** Bytes left in the view. */
static inline uint32_t
sl_mp_cur_left(const struct sl_mp_cur *c)
{
	return c->left;
}

/**
 * Copy `n` bytes at the cursor to dst without advancing.
 * @return 0, or -EBADMSG when fewer than n bytes are left.
 */
int sl_mp_cur_copy(const struct sl_mp_cur *c, void *dst, uint32_t n);

/**
 * Advance the cursor by n bytes.
 * @return 0, or -EBADMSG when fewer than n bytes are left (cursor unchanged).
 */
int sl_mp_cur_advance(struct sl_mp_cur *c, uint32_t n);

/**
 * Decode one object header from a flat buffer (any spec). For str/bin/ext o->v.len is the
 * length of the body that follows; containers' elements follow.
 * @return the header's length, 0 when more bytes are needed, -EBADMSG when invalid.
 */
int sl_mp_hdr(const uint8_t *b, uint32_t avail, struct sl_mp_obj *o);

/**
 * Decode the header of the next object without advancing.
 * @return 0; -EBADMSG when malformed or truncated within the view.
 */
int sl_mp_peek(const struct sl_mp_cur *c, struct sl_mp_obj *o);

/**
 * Read the next object's header; for str/bin/ext also consume the body and describe it in
 * *body (may be NULL). Containers: only the header is consumed, elements follow.
 * @return 0; -EBADMSG when malformed or truncated within the view.
 */
int sl_mp_read(struct sl_mp_cur *c, struct sl_mp_obj *o, struct sl_mp_raw *body);

/**
 * Skip one whole object (containers with all their elements), without recursion.
 * @return 0; -EBADMSG when malformed or truncated within the view.
 */
int sl_mp_skip(struct sl_mp_cur *c);

/** Read a non-negative integer of any width. @return 0, -ENOMSG, -EBADMSG. */
int sl_mp_read_uint(struct sl_mp_cur *c, uint64_t *v);

/** Read an integer of any width and sign. @return 0, -ENOMSG, -ERANGE (> INT64_MAX), -EBADMSG. */
int sl_mp_read_int(struct sl_mp_cur *c, int64_t *v);

/** Read a boolean. @return 0, -ENOMSG, -EBADMSG. */
int sl_mp_read_bool(struct sl_mp_cur *c, bool *v);

/** Read nil. @return 0, -ENOMSG, -EBADMSG. */
int sl_mp_read_nil(struct sl_mp_cur *c);

/** Read an array header. @return 0, -ENOMSG, -EBADMSG. */
int sl_mp_read_array(struct sl_mp_cur *c, uint32_t *n);

/** Read a map header (n = pairs). @return 0, -ENOMSG, -EBADMSG. */
int sl_mp_read_map(struct sl_mp_cur *c, uint32_t *n);

/** Read a raw string: str (either spec) or bin. @return 0, -ENOMSG, -EBADMSG. */
int sl_mp_read_raw(struct sl_mp_cur *c, struct sl_mp_raw *r);

/**
 * Copy a raw string to dst.
 * @return its length, or -ENOBUFS when cap < length (nothing copied).
 */
int sl_mp_raw_copy(const struct sl_mp_raw *r, void *dst, uint32_t cap);

/** Whether the raw string equals the n bytes at s. */
bool sl_mp_raw_eq(const struct sl_mp_raw *r, const void *s, uint32_t n);

/**
 * Iterate over the contiguous pieces of a raw string (zero copy), consuming *it.
 * @return true with *p, *n set to the next non-empty piece; false at the end.
 */
bool sl_mp_raw_piece(struct sl_mp_raw *it, const uint8_t **p, uint32_t *n);

/* ---- encoder (old spec) ------------------------------------------------------------ */

/** Start writing into buf[0..cap). */
static inline void
sl_mp_w_init(struct sl_mp_w *w, void *buf, uint32_t cap)
{
	w->p = (uint8_t *)buf;
	w->len = 0;
	w->cap = cap;
	w->err = 0;
}

/* Reserve n bytes; NULL (and err = -ENOBUFS) when they do not fit or a write failed. */
static inline uint8_t *
sl_mp__w_room(struct sl_mp_w *w, uint32_t n)
{
	uint8_t *p;

	if (__builtin_expect(w->err != 0 || w->cap - w->len < n, 0)) {
		w->err = -ENOBUFS;
		return NULL;
	}
	p = w->p + w->len;
	w->len += n;
	return p;
}

static inline void
sl_mp__be(uint8_t *p, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* A one-byte tag followed by an n-byte big-endian value. */
static inline void
sl_mp__w_tag(struct sl_mp_w *w, uint8_t tag, uint64_t v, unsigned int n)
{
	uint8_t *p = sl_mp__w_room(w, 1 + n);

	if (p != NULL) {
		p[0] = tag;
		sl_mp__be(p + 1, v, n);
	}
}

static inline void
sl_mp_w_nil(struct sl_mp_w *w)
{
	uint8_t *p = sl_mp__w_room(w, 1);

	if (p != NULL)
		p[0] = 0xc0;
}

static inline void
sl_mp_w_bool(struct sl_mp_w *w, bool v)
{
	uint8_t *p = sl_mp__w_room(w, 1);

	if (p != NULL)
		p[0] = v ? 0xc3 : 0xc2;
}

/** Unsigned integer in its smallest form (positive fixint, 0xcc..0xcf). */
static inline void
sl_mp_w_uint(struct sl_mp_w *w, uint64_t v)
{
	if (v < 0x80)
		sl_mp__w_tag(w, (uint8_t)v, 0, 0);
	else if (v <= UINT8_MAX)
		sl_mp__w_tag(w, 0xcc, v, 1);
	else if (v <= UINT16_MAX)
		sl_mp__w_tag(w, 0xcd, v, 2);
	else if (v <= UINT32_MAX)
		sl_mp__w_tag(w, 0xce, v, 4);
	else
		sl_mp__w_tag(w, 0xcf, v, 8);
}

/** Signed integer in its smallest form (non-negative values as sl_mp_w_uint()). */
static inline void
sl_mp_w_int(struct sl_mp_w *w, int64_t v)
{
	if (v >= 0)
		sl_mp_w_uint(w, (uint64_t)v);
	else if (v >= -32)
		sl_mp__w_tag(w, (uint8_t)(int8_t)v, 0, 0);
	else if (v >= INT8_MIN)
		sl_mp__w_tag(w, 0xd0, (uint64_t)v, 1);
	else if (v >= INT16_MIN)
		sl_mp__w_tag(w, 0xd1, (uint64_t)v, 2);
	else if (v >= INT32_MIN)
		sl_mp__w_tag(w, 0xd2, (uint64_t)v, 4);
	else
		sl_mp__w_tag(w, 0xd3, (uint64_t)v, 8);
}

/** 64-bit float (0xcb). */
static inline void
sl_mp_w_double(struct sl_mp_w *w, double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	sl_mp__w_tag(w, 0xcb, u, 8);
}

/** Array header of n elements. */
static inline void
sl_mp_w_array(struct sl_mp_w *w, uint32_t n)
{
	if (n < 16)
		sl_mp__w_tag(w, (uint8_t)(0x90 | n), 0, 0);
	else if (n <= UINT16_MAX)
		sl_mp__w_tag(w, 0xdc, n, 2);
	else
		sl_mp__w_tag(w, 0xdd, n, 4);
}

/** Map header of n pairs. */
static inline void
sl_mp_w_map(struct sl_mp_w *w, uint32_t n)
{
	if (n < 16)
		sl_mp__w_tag(w, (uint8_t)(0x80 | n), 0, 0);
	else if (n <= UINT16_MAX)
		sl_mp__w_tag(w, 0xde, n, 2);
	else
		sl_mp__w_tag(w, 0xdf, n, 4);
}

/** Old-spec raw header for n bytes (fixraw, raw16 0xda, raw32 0xdb; never str8 0xd9). The
 * n body bytes follow, written by the caller or attached as separate segments (zero copy). */
static inline void
sl_mp_w_raw_hdr(struct sl_mp_w *w, uint32_t n)
{
	if (n < 32)
		sl_mp__w_tag(w, (uint8_t)(0xa0 | n), 0, 0);
	else if (n <= UINT16_MAX)
		sl_mp__w_tag(w, 0xda, n, 2);
	else
		sl_mp__w_tag(w, 0xdb, n, 4);
}

/** Append n bytes verbatim (a raw body, or already encoded msgpack). */
static inline void
sl_mp_w_bytes(struct sl_mp_w *w, const void *b, uint32_t n)
{
	uint8_t *p = sl_mp__w_room(w, n);

	if (p != NULL && n > 0)
		memcpy(p, b, n);
}

/** Old-spec raw string. */
static inline void
sl_mp_w_raw(struct sl_mp_w *w, const void *b, uint32_t n)
{
	sl_mp_w_raw_hdr(w, n);
	sl_mp_w_bytes(w, b, n);
}

/** Old-spec raw string from a NUL-terminated C string. */
static inline void
sl_mp_w_cstr(struct sl_mp_w *w, const char *s)
{
	sl_mp_w_raw(w, s, (uint32_t)strlen(s));
}

#endif /* SL_NATIVE_MP_H */
