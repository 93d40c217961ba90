/*
 * Header tables and the header-list decoder (cocaine-protocol.md 1.4, 12a.3).
 *
 * Index space: 0 invalid; 1..61 the RFC 7541 static table; 62..79 empty placeholders (the
 * peers answer them with an empty name and value); 80..82 trace_id, span_id, parent_id with
 * 8 zero bytes; 83.. the dynamic table, newest first (the Python framework's deque order,
 * which the section 12a observations confirm: a repeat is sent as 84, then 85 as more
 * entries are stored).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sl_util.h"

#include "native-hpack.h"
#include "native-mp.h"

struct static_ent {
	const char *name;
	const char *value;
	uint8_t vlen;
};

/* clang-format off */
#define SE(n, v) {n, v, sizeof(v) - 1}
#define PLACEHOLDER SE("", "")
#define ZERO8 "\0\0\0\0\0\0\0\0"

static const struct static_ent static_table[SL_HPACK_STATIC_SIZE] = {
	PLACEHOLDER, /* 0: invalid */
	SE(":authority", ""),
	SE(":method", "GET"),
	SE(":method", "POST"),
	SE(":path", "/"),
	SE(":path", "/index.html"),
	SE(":scheme", "http"),
	SE(":scheme", "https"),
	SE(":status", "200"),
	SE(":status", "204"),
	SE(":status", "206"),
	SE(":status", "304"),
	SE(":status", "400"),
	SE(":status", "404"),
	SE(":status", "500"),
	SE("accept-charset", ""),
	SE("accept-encoding", "gzip, deflate"),
	SE("accept-language", ""),
	SE("accept-ranges", ""),
	SE("accept", ""),
	SE("access-control-allow-origin", ""),
	SE("age", ""),
	SE("allow", ""),
	SE("authorization", ""),
	SE("cache-control", ""),
	SE("content-disposition", ""),
	SE("content-encoding", ""),
	SE("content-language", ""),
	SE("content-length", ""),
	SE("content-location", ""),
	SE("content-range", ""),
	SE("content-type", ""),
	SE("cookie", ""),
	SE("date", ""),
	SE("etag", ""),
	SE("expect", ""),
	SE("expires", ""),
	SE("from", ""),
	SE("host", ""),
	SE("if-match", ""),
	SE("if-modified-since", ""),
	SE("if-none-match", ""),
	SE("if-range", ""),
	SE("if-unmodified-since", ""),
	SE("last-modified", ""),
	SE("link", ""),
	SE("location", ""),
	SE("max-forwards", ""),
	SE("proxy-authenticate", ""),
	SE("proxy-authorization", ""),
	SE("range", ""),
	SE("referer", ""),
	SE("refresh", ""),
	SE("retry-after", ""),
	SE("server", ""),
	SE("set-cookie", ""),
	SE("strict-transport-security", ""),
	SE("transfer-encoding", ""),
	SE("user-agent", ""),
	SE("vary", ""),
	SE("via", ""),
	SE("www-authenticate", ""), /* 61 */
	PLACEHOLDER, PLACEHOLDER, PLACEHOLDER, PLACEHOLDER, PLACEHOLDER, PLACEHOLDER, /* 62.. */
	PLACEHOLDER, PLACEHOLDER, PLACEHOLDER, PLACEHOLDER, PLACEHOLDER, PLACEHOLDER,
	PLACEHOLDER, PLACEHOLDER, PLACEHOLDER, PLACEHOLDER, PLACEHOLDER, PLACEHOLDER, /* ..79 */
	SE("trace_id", ZERO8),
	SE("span_id", ZERO8),
	SE("parent_id", ZERO8),
};
/* clang-format on */

void
sl_hpack_init(struct sl_hpack *t)
{
	t->size = 0;
	t->head = 0;
	t->count = 0;
	t->lo = 0;
	t->hi = 0;
}

int
sl_hpack_get(const struct sl_hpack *t, uint64_t idx, struct sl_hdr *out)
{
	const struct sl_hpack_ent *e;
	uint64_t k;

	if (idx == 0)
		return -ENOENT;
	if (idx < SL_HPACK_STATIC_SIZE) {
		const struct static_ent *s = &static_table[idx];

		out->name = (const uint8_t *)s->name;
		out->name_len = (uint32_t)strlen(s->name);
		out->value = (const uint8_t *)s->value;
		out->value_len = s->vlen;
		return 0;
	}
	k = idx - SL_HPACK_DYNAMIC_FIRST;
	if (k >= t->count)
		return -ENOENT;
	e = &t->ent[(t->head + t->count - 1 - k) % SL_HPACK_MAX_ENTRIES];
	out->name = t->buf + e->off;
	out->name_len = e->nlen;
	out->value = t->buf + e->off + e->nlen;
	out->value_len = e->vlen;
	return 0;
}

static void
hp_evict(struct sl_hpack *t)
{
	const struct sl_hpack_ent *e = &t->ent[t->head];

	t->size -= (uint32_t)e->nlen + e->vlen + SL_HPACK_ENTRY_OVERHEAD;
	t->head = (uint16_t)((t->head + 1) % SL_HPACK_MAX_ENTRIES);
	t->count--;
	if (t->count == 0) {
		t->lo = 0;
		t->hi = 0;
	} else {
		t->lo = t->ent[t->head].off;
	}
}

/* Move the live bytes to the front of buf. */
static void
hp_compact(struct sl_hpack *t)
{
	uint16_t i;

	if (t->lo == 0)
		return;
	memmove(t->buf, t->buf + t->lo, (size_t)(t->hi - t->lo));
	for (i = 0; i < t->count; i++)
		t->ent[(t->head + i) % SL_HPACK_MAX_ENTRIES].off -= t->lo;
	t->hi -= t->lo;
	t->lo = 0;
}

/*
 * Make room for a new newest entry of nlen + vlen bytes and return where they go, or NULL
 * when it is larger than the table (which is then emptied). Bytes outside [lo, hi) may be
 * overwritten: a source inside the table must be copied out first.
 */
static uint8_t *
hp_reserve(struct sl_hpack *t, uint32_t nlen, uint32_t vlen)
{
	uint64_t size = (uint64_t)nlen + vlen + SL_HPACK_ENTRY_OVERHEAD;
	struct sl_hpack_ent *e;
	uint8_t *dst;

	if (size > SL_HPACK_CAPACITY) {
		sl_hpack_init(t);
		return NULL;
	}
	while (t->size + size > SL_HPACK_CAPACITY)
		hp_evict(t);
	/* live + new bytes <= 4096 - 32 * entries, so compaction always makes room */
	if ((uint32_t)t->hi + nlen + vlen > SL_HPACK_CAPACITY)
		hp_compact(t);
	e = &t->ent[(t->head + t->count) % SL_HPACK_MAX_ENTRIES];
	e->off = t->hi;
	e->nlen = (uint16_t)nlen;
	e->vlen = (uint16_t)vlen;
	dst = t->buf + t->hi;
	t->hi = (uint16_t)(t->hi + nlen + vlen);
	t->count++;
	t->size += (uint32_t)size;
	return dst;
}

static inline bool
in_table(const struct sl_hpack *t, const void *p)
{
	const uint8_t *b = p;

	return b >= t->buf && b < t->buf + sizeof(t->buf);
}

void
sl_hpack_insert(struct sl_hpack *t, const void *name, uint32_t name_len, const void *value,
		uint32_t value_len)
{
	uint8_t tmp[SL_HPACK_CAPACITY];
	uint8_t *dst;

	if ((uint64_t)name_len + value_len + SL_HPACK_ENTRY_OVERHEAD <= SL_HPACK_CAPACITY) {
		if (name_len > 0 && in_table(t, name)) {
			memcpy(tmp, name, name_len);
			name = tmp;
		}
		if (value_len > 0 && in_table(t, value)) {
			memcpy(tmp + name_len, value, value_len);
			value = tmp + name_len;
		}
	}
	dst = hp_reserve(t, name_len, value_len);
	if (dst == NULL)
		return;
	if (name_len > 0)
		memcpy(dst, name, name_len);
	if (value_len > 0)
		memcpy(dst + name_len, value, value_len);
}

/* ---- decoder ----------------------------------------------------------------------- */

/* Where a decoded string comes from. */
struct hsrc {
	const uint8_t *p;	     /* contiguous bytes, or NULL */
	const struct sl_mp_raw *raw; /* else: a raw view split across segments */
	uint32_t len;
};

/* Copy n bytes of src into out->buf; NULL when it is full. */
static const uint8_t *
hdrs_copy(struct sl_hdrs *out, const struct hsrc *src)
{
	uint8_t *d;

	if (src->len > sizeof(out->buf) - out->used)
		return NULL;
	d = out->buf + out->used;
	if (src->p != NULL)
		memcpy(d, src->p, src->len);
	else if (sl_mp_raw_copy(src->raw, d, src->len) < 0)
		return NULL;
	out->used += src->len;
	return d;
}

/*
 * Make src stable for the rest of the frame: strings from the dynamic table (which later
 * entries may evict) and strings split across segments are copied into out->buf.
 */
static int
hdrs_place(struct sl_hdrs *out, const struct sl_hpack *t, struct hsrc *src)
{
	const uint8_t *p;

	if (src->p != NULL && !in_table(t, src->p))
		return 0;
	if (src->len == 0) {
		src->p = (const uint8_t *)"";
		return 0;
	}
	p = hdrs_copy(out, src);
	if (p == NULL)
		return -ENOBUFS;
	src->p = p;
	src->raw = NULL;
	return 0;
}

static inline void
raw_src(struct hsrc *s, const struct sl_mp_raw *r)
{
	s->p = r->p;
	s->raw = r;
	s->len = r->len;
}

/* Insert (name, value) from sources that may be split views. */
static void
hp_insert_src(struct sl_hpack *t, const struct hsrc *name, const struct hsrc *value)
{
	uint8_t tmp[SL_HPACK_CAPACITY];
	const uint8_t *np = name->p;
	uint8_t *dst;

	if ((uint64_t)name->len + value->len + SL_HPACK_ENTRY_OVERHEAD <= SL_HPACK_CAPACITY &&
	    np != NULL && name->len > 0 && in_table(t, np)) {
		memcpy(tmp, np, name->len);
		np = tmp;
	}
	dst = hp_reserve(t, name->len, value->len);
	if (dst == NULL)
		return;
	if (np != NULL)
		memcpy(dst, np, name->len);
	else
		sl_mp_raw_copy(name->raw, dst, name->len);
	if (value->p != NULL)
		memcpy(dst + name->len, value->p, value->len);
	else
		sl_mp_raw_copy(value->raw, dst + name->len, value->len);
}

/*
 * The common entry `[bool, fixraw name, raw value]` lying in one segment, read in place:
 * true with the cursor advanced past it, false to take the general path.
 */
static inline bool
hdr_fast(struct sl_mp_cur *c, struct hsrc *name, struct hsrc *value, bool *store)
{
	const struct sl_seg *sg = c->seg;
	const uint8_t *p;
	uint32_t k, i, vh, vlen;

	if (sg >= c->end || c->off >= sg->len)
		return false;
	p = sg->p + c->off;
	k = sg->len - c->off;
	if (k > c->left)
		k = c->left;
	if (k < 5 || p[0] != 0x93 || (p[1] & 0xfe) != 0xc2 || (p[2] & 0xe0) != 0xa0)
		return false;
	i = 3 + (p[2] & 0x1fu);
	if (i + 3 > k)
		return false;
	if ((p[i] & 0xe0) == 0xa0) {
		vh = 1;
		vlen = p[i] & 0x1fu;
	} else if (p[i] == 0xd9 || p[i] == 0xc4) {
		vh = 2;
		vlen = p[i + 1];
	} else if (p[i] == 0xda || p[i] == 0xc5) {
		vh = 3;
		vlen = sl_rd_be16(p + i + 1);
	} else {
		return false;
	}
	if ((uint64_t)i + vh + vlen > k)
		return false;
	*store = p[1] == 0xc3;
	*name = (struct hsrc){.p = p + 3, .len = p[2] & 0x1fu};
	*value = (struct hsrc){.p = p + i + vh, .len = vlen};
	c->off += i + vh + vlen;
	c->left -= i + vh + vlen;
	return true;
}

static int
hdr_entry(struct sl_hpack *t, struct sl_mp_cur *c, struct sl_hdrs *out)
{
	struct sl_mp_raw nraw, vraw;
	struct hsrc name, value;
	struct sl_mp_obj o;
	struct sl_hdr h;
	uint32_t n;
	bool store;
	int rc;

	if (hdr_fast(c, &name, &value, &store))
		goto got;
	if (sl_mp_peek(c, &o) < 0)
		return -EILSEQ;
	if (o.type == SL_MP_UINT) {
		/* a bare index: the full (name, value) pair */
		if (sl_mp_cur_advance(c, o.hdr) < 0 || sl_hpack_get(t, o.v.u, &h) < 0)
			return -EILSEQ;
		name = (struct hsrc){.p = h.name, .len = h.name_len};
		value = (struct hsrc){.p = h.value, .len = h.value_len};
		store = false;
	} else {
		/* [store:bool, name:raw|index, value:raw] */
		if (sl_mp_read_array(c, &n) < 0 || n != 3 || sl_mp_read_bool(c, &store) < 0)
			return -EILSEQ;
		if (sl_mp_peek(c, &o) < 0)
			return -EILSEQ;
		if (o.type == SL_MP_UINT) {
			if (sl_mp_cur_advance(c, o.hdr) < 0 || sl_hpack_get(t, o.v.u, &h) < 0)
				return -EILSEQ;
			name = (struct hsrc){.p = h.name, .len = h.name_len};
		} else if (sl_mp_read_raw(c, &nraw) == 0) {
			raw_src(&name, &nraw);
		} else {
			return -EILSEQ;
		}
		if (sl_mp_read_raw(c, &vraw) < 0)
			return -EILSEQ;
		raw_src(&value, &vraw);
	}
got:
	if (out != NULL) {
		if (out->n == SL_HDRS_MAX)
			return -ENOBUFS;
		rc = hdrs_place(out, t, &name);
		if (rc == 0)
			rc = hdrs_place(out, t, &value);
		if (rc < 0)
			return rc;
		out->h[out->n].name = name.p;
		out->h[out->n].name_len = name.len;
		out->h[out->n].value = value.p;
		out->h[out->n].value_len = value.len;
		out->n++;
	}
	if (store)
		hp_insert_src(t, &name, &value);
	return 0;
}

int
sl_hpack_decode(struct sl_hpack *t, struct sl_mp_cur *c, uint32_t n, struct sl_hdrs *out)
{
	uint32_t i;
	int rc;

	if (out != NULL) {
		out->n = 0;
		out->used = 0;
	}
	for (i = 0; i < n; i++) {
		rc = hdr_entry(t, c, out);
		if (rc < 0)
			return rc;
	}
	return 0;
}

const struct sl_hdr *
sl_hdrs_find(const struct sl_hdrs *h, const char *name)
{
	size_t len = strlen(name);
	uint32_t i;

	for (i = 0; i < h->n; i++)
		if (h->h[i].name_len == len && memcmp(h->h[i].name, name, len) == 0)
			return &h->h[i];
	return NULL;
}

int
sl_hdr_u64(const struct sl_hdr *h, uint64_t *v)
{
	uint64_t x = 0;
	int i;

	if (h->value_len != 8)
		return -EINVAL;
	for (i = 7; i >= 0; i--)
		x = x << 8 | h->value[i];
	*v = x;
	return 0;
}
