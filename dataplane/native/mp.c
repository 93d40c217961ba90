/*
 * The allocation-free msgpack scanner and cursor over segment chains.
 *
 * The scanner walks one top-level object header by header, keeping a stack of element
 * counts still owed by the open containers, and accepts an object only when all of its bytes
 * are present; the state it keeps is enough to resume after -EAGAIN without reading the
 * accepted bytes again. Limits are enforced from the headers alone: `need` counts the objects
 * still owed (each at least one byte), so pos + need is a lower bound of the final size that
 * only grows, and a declared length or count that breaks it is rejected at once.
 *
 * The cursor reads objects inside a bounded view of a chain. Headers are at most 9 bytes
 * (uint64, float64) and are copied to the stack only when they straddle segments.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sl_util.h"

#include "native-mp.h"

#define MP_HDR_MAX 9

void
sl_mp_limits_default(struct sl_mp_limits *lim)
{
	lim->max_frame = SL_MP_DEFAULT_MAX_FRAME;
	lim->max_count = SL_MP_DEFAULT_MAX_COUNT;
	lim->max_objects = SL_MP_DEFAULT_MAX_OBJECTS;
	lim->max_depth = SL_MP_DEFAULT_MAX_DEPTH;
	lim->flags = 0;
}

uint64_t
sl_seg_total(const struct sl_seg *seg, uint32_t nseg)
{
	uint64_t t = 0;
	uint32_t i;

	for (i = 0; i < nseg; i++)
		t += seg[i].len;
	return t;
}

static inline uint64_t
rd_be64(const uint8_t *p)
{
	return (uint64_t)sl_rd_be32(p) << 32 | sl_rd_be32(p + 4);
}

/*
 * Decode the header at b (avail bytes readable). Fills *o; for str/bin/ext o->v.len is the
 * body length, which follows the header.
 * Returns the header length, 0 when more bytes are needed, -EBADMSG when invalid.
 *
 *   00-7f fixint   80-8f fixmap   90-9f fixarray   a0-bf fixraw/fixstr   c0 nil  c1 never
 *   c2/c3 bool     c4-c6 bin      c7-c9 ext        ca/cb float           cc-cf uint
 *   d0-d3 int      d4-d8 fixext   d9 str8  da/db raw16/32  dc/dd array   de/df map  e0-ff -fixint
 */
static int
mp_hdr(const uint8_t *b, uint32_t avail, uint16_t flags, struct sl_mp_obj *o)
{
	uint8_t t;
	uint32_t h;

	if (avail == 0)
		return 0;
	t = b[0];
	o->ext_type = 0;
	if (t <= 0x7f) {
		o->type = SL_MP_UINT;
		o->v.u = t;
		o->hdr = 1;
		return 1;
	}
	if (t >= 0xe0) {
		o->type = SL_MP_INT;
		o->v.i = (int64_t)t - 256; /* negative fixint: -32..-1 */
		o->hdr = 1;
		return 1;
	}
	if (t <= 0x8f) {
		o->type = SL_MP_MAP;
		o->v.n = t & 0x0f;
		o->hdr = 1;
		return 1;
	}
	if (t <= 0x9f) {
		o->type = SL_MP_ARRAY;
		o->v.n = t & 0x0f;
		o->hdr = 1;
		return 1;
	}
	if (t <= 0xbf) {
		o->type = SL_MP_STR;
		o->v.len = t & 0x1f;
		o->hdr = 1;
		return 1;
	}
	/* 0xc0..0xdf: header length from the tag */
	switch (t) {
	case 0xc0:
	case 0xc2:
	case 0xc3:
		h = 1;
		break;
	case 0xc4: /* bin8 */
	case 0xd9: /* str8 */
	case 0xcc:
	case 0xd0:
		h = 2;
		break;
	case 0xc5:
	case 0xda:
	case 0xcd:
	case 0xd1:
	case 0xdc:
	case 0xde:
		h = 3;
		break;
	case 0xc7: /* ext8: len, type */
		h = 3;
		break;
	case 0xc8: /* ext16 */
		h = 4;
		break;
	case 0xc6:
	case 0xdb:
	case 0xca:
	case 0xce:
	case 0xd2:
	case 0xdd:
	case 0xdf:
		h = 5;
		break;
	case 0xc9: /* ext32 */
		h = 6;
		break;
	case 0xcb:
	case 0xcf:
	case 0xd3:
		h = 9;
		break;
	case 0xd4: /* fixext 1..16: type byte, then the body */
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8:
		h = 2;
		break;
	default: /* 0xc1 */
		return -EBADMSG;
	}
	if ((flags & SL_MP_F_OLD_SPEC) &&
	    (t == 0xd9 || (t >= 0xc4 && t <= 0xc9) || (t >= 0xd4 && t <= 0xd8)))
		return -EBADMSG;
	if (avail < h)
		return 0;
	o->hdr = (uint8_t)h;
	switch (t) {
	case 0xc0:
		o->type = SL_MP_NIL;
		break;
	case 0xc2:
	case 0xc3:
		o->type = SL_MP_BOOL;
		o->v.b = t == 0xc3;
		break;
	case 0xc4:
		o->type = SL_MP_BIN;
		o->v.len = b[1];
		break;
	case 0xc5:
		o->type = SL_MP_BIN;
		o->v.len = sl_rd_be16(b + 1);
		break;
	case 0xc6:
		o->type = SL_MP_BIN;
		o->v.len = sl_rd_be32(b + 1);
		break;
	case 0xc7:
		o->type = SL_MP_EXT;
		o->v.len = b[1];
		o->ext_type = (int8_t)b[2];
		break;
	case 0xc8:
		o->type = SL_MP_EXT;
		o->v.len = sl_rd_be16(b + 1);
		o->ext_type = (int8_t)b[3];
		break;
	case 0xc9:
		o->type = SL_MP_EXT;
		o->v.len = sl_rd_be32(b + 1);
		o->ext_type = (int8_t)b[5];
		break;
	case 0xca: {
		uint32_t u = sl_rd_be32(b + 1);
		float f;

		memcpy(&f, &u, sizeof(f));
		o->type = SL_MP_FLOAT;
		o->v.f = f;
		break;
	}
	case 0xcb: {
		uint64_t u = rd_be64(b + 1);

		o->type = SL_MP_FLOAT;
		memcpy(&o->v.f, &u, sizeof(u));
		break;
	}
	case 0xcc:
		o->type = SL_MP_UINT;
		o->v.u = b[1];
		break;
	case 0xcd:
		o->type = SL_MP_UINT;
		o->v.u = sl_rd_be16(b + 1);
		break;
	case 0xce:
		o->type = SL_MP_UINT;
		o->v.u = sl_rd_be32(b + 1);
		break;
	case 0xcf:
		o->type = SL_MP_UINT;
		o->v.u = rd_be64(b + 1);
		break;
	case 0xd0:
		o->v.i = b[1] < 0x80 ? (int64_t)b[1] : (int64_t)b[1] - 256;
		goto sint;
	case 0xd1:
		o->v.i = (int16_t)sl_rd_be16(b + 1);
		goto sint;
	case 0xd2:
		o->v.i = (int32_t)sl_rd_be32(b + 1);
		goto sint;
	case 0xd3:
		o->v.i = (int64_t)rd_be64(b + 1);
	sint:
		/* a signed encoding of a non-negative value is a positive integer, as in msgpack-c
		 */
		o->type = o->v.i < 0 ? SL_MP_INT : SL_MP_UINT;
		break;
	case 0xd4:
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8:
		o->type = SL_MP_EXT;
		o->v.len = 1u << (t - 0xd4);
		o->ext_type = (int8_t)b[1];
		break;
	case 0xd9:
		o->type = SL_MP_STR;
		o->v.len = b[1];
		break;
	case 0xda:
		o->type = SL_MP_STR;
		o->v.len = sl_rd_be16(b + 1);
		break;
	case 0xdb:
		o->type = SL_MP_STR;
		o->v.len = sl_rd_be32(b + 1);
		break;
	case 0xdc:
		o->type = SL_MP_ARRAY;
		o->v.n = sl_rd_be16(b + 1);
		break;
	case 0xdd:
		o->type = SL_MP_ARRAY;
		o->v.n = sl_rd_be32(b + 1);
		break;
	case 0xde:
		o->type = SL_MP_MAP;
		o->v.n = sl_rd_be16(b + 1);
		break;
	case 0xdf:
		o->type = SL_MP_MAP;
		o->v.n = sl_rd_be32(b + 1);
		break;
	}
	return (int)h;
}

/* ---- chain reader ------------------------------------------------------------------ */

/* A position in a chain without a bound (the scanner's view). */
struct rd {
	const struct sl_seg *seg;
	const struct sl_seg *end;
	uint32_t off;
};

/* Skip exhausted and empty segments; false at the end of the chain. */
static inline bool
rd_norm(struct rd *r)
{
	while (r->seg < r->end && r->off >= r->seg->len) {
		r->seg++;
		r->off = 0;
	}
	return r->seg < r->end;
}

/*
 * Pointer to up to `want` (<= MP_HDR_MAX) bytes at r, contiguous in the segment or gathered
 * into tmp; *got = how many (fewer at the end of the chain or when bounded by `limit`).
 */
static inline const uint8_t *
rd_peek(const struct rd *r0, uint8_t *tmp, uint32_t want, uint64_t limit, uint32_t *got)
{
	struct rd r = *r0;
	uint32_t n = 0;

	if (want > limit)
		want = (uint32_t)limit;
	if (!rd_norm(&r)) {
		*got = 0;
		return tmp;
	}
	if (r.seg->len - r.off >= want) {
		*got = want;
		return r.seg->p + r.off;
	}
	while (n < want && rd_norm(&r)) {
		uint32_t k = r.seg->len - r.off;

		if (k > want - n)
			k = want - n;
		memcpy(tmp + n, r.seg->p + r.off, k);
		n += k;
		r.off += k;
	}
	*got = n;
	return tmp;
}

/* Advance by n bytes; false (r unchanged) when the chain ends first. */
static inline bool
rd_skip(struct rd *r, uint64_t n)
{
	struct rd t = *r;

	while (n > 0) {
		uint32_t k;

		if (!rd_norm(&t))
			return false;
		k = t.seg->len - t.off;
		if (k > n)
			k = (uint32_t)n;
		t.off += k;
		n -= k;
	}
	*r = t;
	return true;
}

/* ---- scanner ----------------------------------------------------------------------- */

/*
 * Size classes of a first byte, for the scanner (which needs sizes, never values):
 *   SC  scalar, the whole object is the header       FS  fixraw: length in the tag
 *   L1/L2/L4  str, bin or ext: a 1/2/4-byte length after the tag (ext: then a type byte)
 *   FE  fixext: type byte, then 1..16 bytes          FA/FM  fixarray / fixmap
 *   A2/A4, M2/M4  array / map with a 2/4-byte count  XX  never used (0xc1)
 */
enum { XX = 0, SC, FS, L1, L2, L4, FE, FA, FM, A2, A4, M2, M4 };

/* clang-format off */
static const uint8_t mp_kind[256] = {
	[0x00 ... 0x7f] = SC, [0x80 ... 0x8f] = FM, [0x90 ... 0x9f] = FA, [0xa0 ... 0xbf] = FS,
	[0xc0] = SC, [0xc1] = XX, [0xc2 ... 0xc3] = SC, [0xc4] = L1, [0xc5] = L2, [0xc6] = L4,
	[0xc7] = L1, [0xc8] = L2, [0xc9] = L4, [0xca ... 0xd3] = SC, [0xd4 ... 0xd8] = FE,
	[0xd9] = L1, [0xda] = L2, [0xdb] = L4, [0xdc] = A2, [0xdd] = A4, [0xde] = M2, [0xdf] = M4,
	[0xe0 ... 0xff] = SC,
};

/* header bytes (for SC: the whole object) */
static const uint8_t mp_hlen[256] = {
	[0x00 ... 0xbf] = 1, [0xc0] = 1, [0xc1] = 0, [0xc2 ... 0xc3] = 1,
	[0xc4] = 2, [0xc5] = 3, [0xc6] = 5, [0xc7] = 3, [0xc8] = 4, [0xc9] = 6,
	[0xca] = 5, [0xcb] = 9, [0xcc] = 2, [0xcd] = 3, [0xce] = 5, [0xcf] = 9,
	[0xd0] = 2, [0xd1] = 3, [0xd2] = 5, [0xd3] = 9, [0xd4 ... 0xd8] = 2,
	[0xd9] = 2, [0xda] = 3, [0xdb] = 5, [0xdc] = 3, [0xdd] = 5, [0xde] = 3, [0xdf] = 5,
	[0xe0 ... 0xff] = 1,
};
/* clang-format on */

/* new-spec types, rejected with SL_MP_F_OLD_SPEC: bin, ext, fixext, str8 */
static inline bool
mp_newspec(uint8_t t)
{
	return (t >= 0xc4 && t <= 0xc9) || (t >= 0xd4 && t <= 0xd9);
}

/*
 * Sizes of the object whose header is at b (avail bytes readable): header length (> 0),
 * 0 when more bytes are needed, -EBADMSG when invalid. *body = str/bin/ext bytes after the
 * header; *items = elements owed by a container (map: 2 per pair), *n = its count.
 */
static inline int
mp_size(const uint8_t *b, uint32_t avail, uint16_t flags, uint64_t *body, uint64_t *items,
	uint32_t *n, uint8_t *kind)
{
	uint8_t t = b[0];
	uint32_t h = mp_hlen[t];

	*kind = mp_kind[t];
	if (__builtin_expect(h == 0, 0))
		return -EBADMSG;
	if ((flags & SL_MP_F_OLD_SPEC) && mp_newspec(t))
		return -EBADMSG;
	if (avail < h)
		return 0;
	*body = 0;
	*items = 0;
	*n = 0;
	switch (*kind) {
	case SC:
		break;
	case FS:
		*body = t & 0x1f;
		break;
	case L1:
		*body = b[1];
		break;
	case L2:
		*body = sl_rd_be16(b + 1);
		break;
	case L4:
		*body = sl_rd_be32(b + 1);
		break;
	case FE:
		*body = 1u << (t - 0xd4);
		break;
	case FA:
		*n = t & 0x0f;
		*items = *n;
		break;
	case FM:
		*n = t & 0x0f;
		*items = 2 * (uint64_t)*n;
		break;
	case A2:
		*n = sl_rd_be16(b + 1);
		*items = *n;
		break;
	case A4:
		*n = sl_rd_be32(b + 1);
		*items = *n;
		break;
	case M2:
		*n = sl_rd_be16(b + 1);
		*items = 2 * (uint64_t)*n;
		break;
	default: /* M4 */
		*n = sl_rd_be32(b + 1);
		*items = 2 * (uint64_t)*n;
		break;
	}
	return (int)h;
}

void
sl_mp_scan_init(struct sl_mp_scan *s)
{
	/* left[] and marks[] are written before they are read (depth, nmarks) */
	s->pos = 0;
	s->need = 1;
	s->objects = 0;
	s->root_n = 0;
	s->root_kind = 0;
	s->depth = 0;
	s->nmarks = 0;
	s->c_p = NULL;
}

/* Position r at chain offset off + s->pos, using the segment cache when it is still valid. */
static bool
scan_locate(struct sl_mp_scan *s, const struct sl_seg *seg, uint32_t nseg, uint32_t off,
	    struct rd *r)
{
	uint64_t target = (uint64_t)off + s->pos;
	uint64_t base = 0;
	uint32_t i = 0;

	if (s->c_p != NULL && s->c_off == off && s->c_idx < nseg && seg[s->c_idx].p == s->c_p &&
	    s->c_base <= target) {
		i = s->c_idx;
		base = s->c_base;
	}
	while (i < nseg && base + seg[i].len <= target) {
		base += seg[i].len;
		i++;
	}
	r->seg = seg + i;
	r->end = seg + nseg;
	r->off = (uint32_t)(target - base);
	if (i == nseg)
		return false;
	s->c_p = seg[i].p;
	s->c_idx = i;
	s->c_base = (uint32_t)base;
	s->c_off = off;
	return true;
}

/* One object (or the innermost container) completed: pop finished containers. */
static inline bool
scan_complete(struct sl_mp_scan *s)
{
	while (s->depth > 0) {
		if (--s->left[s->depth - 1] > 0)
			return false;
		s->depth--;
	}
	return true;
}

int
sl_mp_scan(struct sl_mp_scan *s, const struct sl_mp_limits *lim, const struct sl_seg *seg,
	   uint32_t nseg, uint32_t off)
{
	uint16_t max_depth = lim->max_depth;
	uint16_t flags = lim->flags;
	uint8_t tmp[MP_HDR_MAX];
	uint32_t pos, need, objects;
	struct rd r;
	int rc;

	if (max_depth > SL_MP_DEPTH_MAX)
		max_depth = SL_MP_DEPTH_MAX;
	if (!scan_locate(s, seg, nseg, off, &r))
		return -EAGAIN;
	/* the hot counters live in registers; written back on every exit */
	pos = s->pos;
	need = s->need;
	objects = s->objects;
	for (;;) {
		const uint8_t *b;
		uint64_t body, items, owed;
		uint32_t got, avail, n;
		uint8_t kind;
		int h;

		if (!rd_norm(&r))
			goto wait;
		/* fast path: the header lies in the current segment */
		avail = r.seg->len - r.off;
		if (avail >= MP_HDR_MAX) {
			b = r.seg->p + r.off;
			got = MP_HDR_MAX;
		} else {
			b = rd_peek(&r, tmp, MP_HDR_MAX, UINT64_MAX, &got);
		}
		h = mp_size(b, got, flags, &body, &items, &n, &kind);
		if (h <= 0) {
			if (h == 0)
				goto wait;
			rc = h;
			goto out;
		}
		owed = need - 1;
		if (s->depth == 1) {
			uint32_t idx = s->root_n - s->left[0];

			if (idx < SL_MP_SCAN_MARKS) {
				s->marks[idx] = pos;
				if (s->nmarks < idx + 1)
					s->nmarks = (uint8_t)(idx + 1);
			}
		}
		if (kind >= FA) {
			/* a container: limits from its header alone */
			if (s->depth >= max_depth) {
				rc = -ELOOP;
				goto out;
			}
			if (n > lim->max_count ||
			    (uint64_t)objects + 1 + items + owed > lim->max_objects) {
				rc = -E2BIG;
				goto out;
			}
			if ((uint64_t)pos + (uint32_t)h + items + owed > lim->max_frame) {
				rc = -EMSGSIZE;
				goto out;
			}
			/* present: mp_size() saw all h bytes */
			if ((uint32_t)h <= avail)
				r.off += (uint32_t)h;
			else
				rd_skip(&r, (uint32_t)h);
			if (pos == 0) {
				s->root_kind = kind == FA || kind == A2 || kind == A4 ? SL_MP_ARRAY
										      : SL_MP_MAP;
				s->root_n = (uint32_t)items;
			}
			pos += (uint32_t)h;
			objects++;
			need = (uint32_t)(owed + items);
			if (items > 0) {
				s->left[s->depth++] = (uint32_t)items;
				continue;
			}
		} else {
			uint64_t total = (uint64_t)(uint32_t)h + body;

			if ((uint64_t)pos + total + owed > lim->max_frame) {
				rc = -EMSGSIZE;
				goto out;
			}
			if (total <= avail)
				r.off += (uint32_t)total;
			else if (!rd_skip(&r, total))
				goto wait; /* body not all here yet */
			if (pos == 0)
				s->root_kind = SL_MP_NIL; /* any non-container */
			pos += (uint32_t)total;
			objects++;
			need = (uint32_t)owed;
		}
		if (scan_complete(s)) {
			rc = (int)pos;
			goto out;
		}
	}
wait:
	/* remember where the current object's header is */
	if (rd_norm(&r)) {
		s->c_p = r.seg->p;
		s->c_idx = (uint32_t)(r.seg - seg);
		s->c_base = off + pos - r.off;
		s->c_off = off;
	}
	rc = -EAGAIN;
out:
	s->pos = pos;
	s->need = need;
	s->objects = objects;
	return rc;
}

int
sl_mp_scan_flat(const void *buf, uint32_t len, const struct sl_mp_limits *lim)
{
	struct sl_seg seg = {.p = (const uint8_t *)buf, .len = len};
	struct sl_mp_scan s;

	sl_mp_scan_init(&s);
	return sl_mp_scan(&s, lim, &seg, 1, 0);
}

/* ---- cursor ------------------------------------------------------------------------ */

int
sl_mp_cur_init(struct sl_mp_cur *c, const struct sl_seg *seg, uint32_t nseg, uint32_t off,
	       uint32_t len)
{
	struct rd r = {.seg = seg, .end = seg + nseg, .off = 0};
	struct rd t;

	if (!rd_skip(&r, off))
		return -EINVAL;
	t = r;
	if (!rd_skip(&t, len))
		return -EINVAL;
	c->seg = r.seg;
	c->end = r.end;
	c->off = r.off;
	c->left = len;
	return 0;
}

static inline struct rd
cur_rd(const struct sl_mp_cur *c)
{
	struct rd r = {.seg = c->seg, .end = c->end, .off = c->off};

	return r;
}

int
sl_mp_cur_copy(const struct sl_mp_cur *c, void *dst, uint32_t n)
{
	struct rd r = cur_rd(c);
	uint8_t *d = dst;

	if (n > c->left)
		return -EBADMSG;
	while (n > 0) {
		uint32_t k;

		if (!rd_norm(&r))
			return -EBADMSG;
		k = r.seg->len - r.off;
		if (k > n)
			k = n;
		memcpy(d, r.seg->p + r.off, k);
		d += k;
		r.off += k;
		n -= k;
	}
	return 0;
}

int
sl_mp_cur_advance(struct sl_mp_cur *c, uint32_t n)
{
	struct rd r;

	if (n > c->left)
		return -EBADMSG;
	if (c->seg < c->end && c->seg->len - c->off >= n) {
		c->off += n;
		c->left -= n;
		return 0;
	}
	r = cur_rd(c);
	if (!rd_skip(&r, n))
		return -EBADMSG;
	c->seg = r.seg;
	c->off = r.off;
	c->left -= n;
	return 0;
}

/* The header at the cursor: its length, or -EBADMSG. Contiguous bytes are read in place. */
static inline int
cur_hdr(const struct sl_mp_cur *c, struct sl_mp_obj *o)
{
	const struct sl_seg *s = c->seg;
	uint8_t tmp[MP_HDR_MAX];
	const uint8_t *b;
	struct rd r;
	uint32_t got;
	int h;

	if (s < c->end && c->off < s->len) {
		uint32_t k = s->len - c->off;

		if (k > c->left)
			k = c->left;
		h = mp_hdr(s->p + c->off, k, 0, o);
		if (h > 0)
			return h;
		if (h < 0 || k == c->left)
			return -EBADMSG;
	}
	/* the header straddles segments */
	r = cur_rd(c);
	b = rd_peek(&r, tmp, MP_HDR_MAX, c->left, &got);
	h = mp_hdr(b, got, 0, o);
	return h > 0 ? h : -EBADMSG;
}

int
sl_mp_peek(const struct sl_mp_cur *c, struct sl_mp_obj *o)
{
	int h = cur_hdr(c, o);

	return h < 0 ? h : 0;
}

/* Describe the n body bytes at *c (after its header) and advance past them. */
static int
cur_take(struct sl_mp_cur *c, uint32_t n, struct sl_mp_raw *body)
{
	struct sl_mp_cur at = *c;
	int rc;

	rc = sl_mp_cur_advance(c, n);
	if (rc < 0)
		return rc;
	if (body != NULL) {
		struct rd r = cur_rd(&at);

		at.left = n;
		body->len = n;
		body->p = NULL;
		if (n == 0) {
			body->p = (const uint8_t *)"";
		} else if (rd_norm(&r) && r.seg->len - r.off >= n) {
			body->p = r.seg->p + r.off;
			at.seg = r.seg;
			at.off = r.off;
		}
		body->at = at;
	}
	return 0;
}

/* Consume the object whose header (h bytes, decoded in *o) is at the cursor. */
static inline int
cur_consume(struct sl_mp_cur *c, const struct sl_mp_obj *o, int h, struct sl_mp_raw *body)
{
	struct sl_mp_cur t;
	uint64_t total;
	int rc;

	if (o->type != SL_MP_STR && o->type != SL_MP_BIN && o->type != SL_MP_EXT)
		return sl_mp_cur_advance(c, (uint32_t)h);
	total = (uint64_t)(uint32_t)h + o->v.len;
	if (total > c->left)
		return -EBADMSG;
	if (c->seg < c->end && c->seg->len - c->off >= total) {
		/* contiguous: the common case */
		if (body != NULL) {
			body->len = o->v.len;
			body->p = c->seg->p + c->off + (uint32_t)h;
			body->at.seg = c->seg;
			body->at.end = c->end;
			body->at.off = c->off + (uint32_t)h;
			body->at.left = o->v.len;
		}
		c->off += (uint32_t)total;
		c->left -= (uint32_t)total;
		return 0;
	}
	t = *c;
	rc = sl_mp_cur_advance(&t, (uint32_t)h);
	if (rc == 0)
		rc = cur_take(&t, o->v.len, body);
	if (rc < 0)
		return rc;
	*c = t;
	return 0;
}

int
sl_mp_read(struct sl_mp_cur *c, struct sl_mp_obj *o, struct sl_mp_raw *body)
{
	int h = cur_hdr(c, o);

	if (h < 0)
		return h;
	return cur_consume(c, o, h, body);
}

int
sl_mp_skip(struct sl_mp_cur *c)
{
	struct sl_mp_cur t = *c;
	uint64_t owed = 1;

	while (owed > 0) {
		struct sl_mp_obj o;
		int rc;

		rc = sl_mp_read(&t, &o, NULL);
		if (rc < 0)
			return rc;
		owed--;
		if (o.type == SL_MP_ARRAY)
			owed += o.v.n;
		else if (o.type == SL_MP_MAP)
			owed += 2 * (uint64_t)o.v.n;
		if (owed > t.left)
			return -EBADMSG; /* each owed object needs a byte */
	}
	*c = t;
	return 0;
}

/* Read the next object if it is of type `want`. */
static inline int
cur_expect(struct sl_mp_cur *c, enum sl_mp_type want, struct sl_mp_obj *o, struct sl_mp_raw *r)
{
	int h = cur_hdr(c, o);

	if (h < 0)
		return h;
	if (o->type != want)
		return -ENOMSG;
	return cur_consume(c, o, h, r);
}

int
sl_mp_read_uint(struct sl_mp_cur *c, uint64_t *v)
{
	struct sl_mp_obj o;
	int rc = cur_expect(c, SL_MP_UINT, &o, NULL);

	if (rc == 0)
		*v = o.v.u;
	return rc;
}

int
sl_mp_read_int(struct sl_mp_cur *c, int64_t *v)
{
	struct sl_mp_obj o;
	int h = cur_hdr(c, &o);

	if (h < 0)
		return h;
	if (o.type == SL_MP_UINT) {
		if (o.v.u > INT64_MAX)
			return -ERANGE;
		*v = (int64_t)o.v.u;
	} else if (o.type == SL_MP_INT) {
		*v = o.v.i;
	} else {
		return -ENOMSG;
	}
	return sl_mp_cur_advance(c, (uint32_t)h);
}

int
sl_mp_read_bool(struct sl_mp_cur *c, bool *v)
{
	struct sl_mp_obj o;
	int rc = cur_expect(c, SL_MP_BOOL, &o, NULL);

	if (rc == 0)
		*v = o.v.b;
	return rc;
}

int
sl_mp_read_nil(struct sl_mp_cur *c)
{
	struct sl_mp_obj o;

	return cur_expect(c, SL_MP_NIL, &o, NULL);
}

int
sl_mp_read_array(struct sl_mp_cur *c, uint32_t *n)
{
	struct sl_mp_obj o;
	int rc = cur_expect(c, SL_MP_ARRAY, &o, NULL);

	if (rc == 0)
		*n = o.v.n;
	return rc;
}

int
sl_mp_read_map(struct sl_mp_cur *c, uint32_t *n)
{
	struct sl_mp_obj o;
	int rc = cur_expect(c, SL_MP_MAP, &o, NULL);

	if (rc == 0)
		*n = o.v.n;
	return rc;
}

int
sl_mp_read_raw(struct sl_mp_cur *c, struct sl_mp_raw *r)
{
	struct sl_mp_obj o;
	int h = cur_hdr(c, &o);

	if (h < 0)
		return h;
	if (o.type != SL_MP_STR && o.type != SL_MP_BIN)
		return -ENOMSG;
	return cur_consume(c, &o, h, r);
}

int
sl_mp_raw_copy(const struct sl_mp_raw *r, void *dst, uint32_t cap)
{
	if (r->len > cap)
		return -ENOBUFS;
	if (r->len > INT32_MAX)
		return -ERANGE;
	if (r->p != NULL)
		memcpy(dst, r->p, r->len);
	else if (sl_mp_cur_copy(&r->at, dst, r->len) < 0)
		return -EBADMSG;
	return (int)r->len;
}

bool
sl_mp_raw_piece(struct sl_mp_raw *it, const uint8_t **p, uint32_t *n)
{
	struct rd r = cur_rd(&it->at);
	uint32_t k;

	if (it->len == 0 || !rd_norm(&r))
		return false;
	k = r.seg->len - r.off;
	if (k > it->len)
		k = it->len;
	*p = r.seg->p + r.off;
	*n = k;
	r.off += k;
	it->at.seg = r.seg;
	it->at.off = r.off;
	it->at.left -= k;
	it->len -= k;
	it->p = NULL;
	return true;
}

bool
sl_mp_raw_eq(const struct sl_mp_raw *r, const void *s, uint32_t n)
{
	struct sl_mp_raw it = *r;
	const uint8_t *q = s;
	const uint8_t *p;
	uint32_t k;

	if (r->len != n)
		return false;
	if (r->p != NULL)
		return n == 0 || memcmp(r->p, s, n) == 0;
	while (sl_mp_raw_piece(&it, &p, &k)) {
		if (memcmp(p, q, k) != 0)
			return false;
		q += k;
	}
	return true;
}

int
sl_mp_hdr(const uint8_t *b, uint32_t avail, struct sl_mp_obj *o)
{
	return mp_hdr(b, avail, 0, o);
}
