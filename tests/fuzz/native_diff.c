/*
 * libFuzzer target: the allocation-free scanner and cursor against msgpack-c.
 *
 * For any input: the scanner's verdict (complete length, need more, malformed, too deep)
 * must be msgpack-c's; split into three segments the scanner must say the same; a complete
 * object must read the same through our cursor as through msgpack-c, and our old-spec
 * re-encoding must be old spec and decode (by msgpack-c) to an equal object. Inputs that
 * exceed the size/count limits are not given to msgpack-c: it would allocate for the
 * declared counts, which is exactly what the limits prevent.
 *
 * One known msgpack-c 4.0 bug is tolerated: it computes an ext32's remaining bytes as
 * len + 1 in 32 bits, so `c9 ff ff ff ff` (2^32-1 bytes) wraps to 0 and it reports a parse
 * error where the object is merely incomplete. sl_mpc_unpack() never hands it such input:
 * the scanner refuses the declared size first.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "native-mpc.h"
#include "native.h"

#define DEPTH_MAX 40

static uint8_t out[1 << 18];

/* Compare our cursor's reading with msgpack-c's object. */
static void
same(struct sl_mp_cur *c, const msgpack_object *o, int depth)
{
	struct sl_mp_obj h;
	struct sl_mp_raw r;
	uint32_t i;

	if (depth > DEPTH_MAX || sl_mp_read(c, &h, &r) < 0)
		abort();
	switch (h.type) {
	case SL_MP_NIL:
		if (o->type != MSGPACK_OBJECT_NIL)
			abort();
		break;
	case SL_MP_BOOL:
		if (o->type != MSGPACK_OBJECT_BOOLEAN || o->via.boolean != h.v.b)
			abort();
		break;
	case SL_MP_UINT:
		if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 != h.v.u)
			abort();
		break;
	case SL_MP_INT:
		if (o->type != MSGPACK_OBJECT_NEGATIVE_INTEGER || o->via.i64 != h.v.i)
			abort();
		break;
	case SL_MP_FLOAT:
		if ((o->type != MSGPACK_OBJECT_FLOAT32 && o->type != MSGPACK_OBJECT_FLOAT64) ||
		    memcmp(&o->via.f64, &h.v.f, sizeof(double)) != 0)
			abort();
		break;
	case SL_MP_STR:
	case SL_MP_BIN:
		if (o->type != (h.type == SL_MP_STR ? MSGPACK_OBJECT_STR : MSGPACK_OBJECT_BIN) ||
		    o->via.str.size != r.len || !sl_mp_raw_eq(&r, o->via.str.ptr, r.len))
			abort();
		break;
	case SL_MP_EXT:
		if (o->type != MSGPACK_OBJECT_EXT || o->via.ext.type != h.ext_type ||
		    o->via.ext.size != r.len || !sl_mp_raw_eq(&r, o->via.ext.ptr, r.len))
			abort();
		break;
	case SL_MP_ARRAY:
		if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != h.v.n)
			abort();
		for (i = 0; i < h.v.n; i++)
			same(c, &o->via.array.ptr[i], depth + 1);
		break;
	case SL_MP_MAP:
		if (o->type != MSGPACK_OBJECT_MAP || o->via.map.size != h.v.n)
			abort();
		for (i = 0; i < h.v.n; i++) {
			same(c, &o->via.map.ptr[i].key, depth + 1);
			same(c, &o->via.map.ptr[i].val, depth + 1);
		}
		break;
	default:
		abort();
	}
}

/* Old-spec re-encoding with our encoder; false when the object holds an ext. */
static bool
reencode(struct sl_mp_cur *c, struct sl_mp_w *w)
{
	struct sl_mp_obj h;
	struct sl_mp_raw r;
	uint32_t i;

	if (sl_mp_read(c, &h, &r) < 0)
		abort();
	switch (h.type) {
	case SL_MP_NIL:
		sl_mp_w_nil(w);
		return true;
	case SL_MP_BOOL:
		sl_mp_w_bool(w, h.v.b);
		return true;
	case SL_MP_UINT:
		sl_mp_w_uint(w, h.v.u);
		return true;
	case SL_MP_INT:
		sl_mp_w_int(w, h.v.i);
		return true;
	case SL_MP_FLOAT:
		sl_mp_w_double(w, h.v.f);
		return true;
	case SL_MP_STR:
	case SL_MP_BIN: {
		const uint8_t *p;
		uint32_t n;

		sl_mp_w_raw_hdr(w, r.len);
		while (sl_mp_raw_piece(&r, &p, &n))
			sl_mp_w_bytes(w, p, n);
		return true;
	}
	case SL_MP_ARRAY:
		sl_mp_w_array(w, h.v.n);
		for (i = 0; i < h.v.n; i++)
			if (!reencode(c, w))
				return false;
		return true;
	case SL_MP_MAP:
		sl_mp_w_map(w, h.v.n);
		for (i = 0; i < 2 * h.v.n; i++)
			if (!reencode(c, w))
				return false;
		return true;
	default:
		return false;
	}
}

/* Equal up to the spec: str == bin (both raw), float32 == float64 by value. */
static bool
loose_eq(const msgpack_object *a, const msgpack_object *b)
{
	uint32_t i;
	int ta = a->type == MSGPACK_OBJECT_BIN ? MSGPACK_OBJECT_STR : a->type;
	int tb = b->type == MSGPACK_OBJECT_BIN ? MSGPACK_OBJECT_STR : b->type;

	if (ta == MSGPACK_OBJECT_FLOAT32)
		ta = MSGPACK_OBJECT_FLOAT64;
	if (tb == MSGPACK_OBJECT_FLOAT32)
		tb = MSGPACK_OBJECT_FLOAT64;
	if (ta != tb)
		return false;
	switch (ta) {
	case MSGPACK_OBJECT_FLOAT64:
		return memcmp(&a->via.f64, &b->via.f64, sizeof(double)) == 0;
	case MSGPACK_OBJECT_STR:
		return a->via.str.size == b->via.str.size &&
		       (a->via.str.size == 0 ||
			memcmp(a->via.str.ptr, b->via.str.ptr, a->via.str.size) == 0);
	case MSGPACK_OBJECT_ARRAY:
		if (a->via.array.size != b->via.array.size)
			return false;
		for (i = 0; i < a->via.array.size; i++)
			if (!loose_eq(&a->via.array.ptr[i], &b->via.array.ptr[i]))
				return false;
		return true;
	case MSGPACK_OBJECT_MAP:
		if (a->via.map.size != b->via.map.size)
			return false;
		for (i = 0; i < a->via.map.size; i++)
			if (!loose_eq(&a->via.map.ptr[i].key, &b->via.map.ptr[i].key) ||
			    !loose_eq(&a->via.map.ptr[i].val, &b->via.map.ptr[i].val))
				return false;
		return true;
	default:
		return msgpack_object_equal(*a, *b);
	}
}

/* msgpack-c's ext32 overflow (see above): the object the scanner waits on at pos. */
static bool
ext32_wrap(const uint8_t *data, size_t size, uint32_t pos)
{
	static const uint8_t wrap[5] = {0xc9, 0xff, 0xff, 0xff, 0xff};

	return size - pos == sizeof(wrap) && memcmp(data + pos, wrap, sizeof(wrap)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_mp_limits lim;
	struct sl_mp_scan sf;
	msgpack_unpack_return theirs;
	msgpack_zone z;
	msgpack_object o;
	size_t off = 0;
	uint32_t n = (uint32_t)size;
	int ours;

	if (size > (1u << 16))
		return 0;
	sl_mp_limits_default(&lim);
	lim.max_frame = 1u << 16; /* bounds what msgpack-c may allocate below */
	lim.max_count = 1u << 16;
	lim.max_objects = 1u << 16;
	{
		struct sl_seg one = {data, n};

		sl_mp_scan_init(&sf);
		ours = sl_mp_scan(&sf, &lim, &one, 1, 0);
	}
	{
		/* the same through three segments */
		struct sl_seg s3[3] = {{data, n / 3},
				       {data + n / 3, n / 3},
				       {data + 2 * (n / 3), n - 2 * (n / 3)}};
		struct sl_mp_scan st;

		sl_mp_scan_init(&st);
		if (sl_mp_scan(&st, &lim, s3, 3, 0) != ours)
			abort();
	}
	if (ours == -EMSGSIZE || ours == -E2BIG)
		return 0;
	msgpack_zone_init(&z, 2048);
	theirs = msgpack_unpack((const char *)data, size, &off, &z, &o);
	switch (ours) {
	case -EAGAIN:
		if (theirs != MSGPACK_UNPACK_CONTINUE &&
		    !(theirs == MSGPACK_UNPACK_PARSE_ERROR && ext32_wrap(data, size, sf.pos)))
			abort();
		break;
	case -EBADMSG:
		if (theirs != MSGPACK_UNPACK_PARSE_ERROR)
			abort();
		break;
	case -ELOOP: /* msgpack-c's stack holds 32 containers, as our default depth */
		if (theirs != MSGPACK_UNPACK_NOMEM_ERROR)
			abort();
		break;
	default: {
		struct sl_seg seg = {data, (uint32_t)ours};
		struct sl_mp_cur c;
		struct sl_mp_w w;
		msgpack_zone z2;
		msgpack_object o2;
		size_t off2 = 0;

		if (ours <= 0 ||
		    (theirs != MSGPACK_UNPACK_SUCCESS && theirs != MSGPACK_UNPACK_EXTRA_BYTES) ||
		    off != (size_t)ours)
			abort();
		sl_mp_cur_init(&c, &seg, 1, 0, (uint32_t)ours);
		same(&c, &o, 0);
		if (c.left != 0)
			abort();
		/* the wrapper gives msgpack-c the same bytes */
		msgpack_zone_init(&z2, 2048);
		if (sl_mpc_unpack(data, size, &lim, &z2, &o2) != ours || !loose_eq(&o, &o2))
			abort();
		msgpack_zone_destroy(&z2);
		/* our old-spec re-encoding */
		sl_mp_cur_init(&c, &seg, 1, 0, (uint32_t)ours);
		sl_mp_w_init(&w, out, sizeof(out));
		if (reencode(&c, &w) && w.err == 0) {
			lim.flags = SL_MP_F_OLD_SPEC;
			lim.max_frame = sizeof(out);
			if (sl_mp_scan_flat(out, w.len, &lim) != (int)w.len)
				abort();
			msgpack_zone_init(&z2, 2048);
			if (msgpack_unpack((const char *)out, w.len, &off2, &z2, &o2) !=
				    MSGPACK_UNPACK_SUCCESS ||
			    !loose_eq(&o, &o2))
				abort();
			msgpack_zone_destroy(&z2);
		}
		break;
	}
	}
	msgpack_zone_destroy(&z);
	return 0;
}
