/*
 * msgpack-c behind sluice's limits (see native-mpc.h for why the scanner runs first).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <msgpack.h>

#include "native-frame-t.h"
#include "native-mp.h"
#include "native-mpc.h"

#define PACK_DEPTH_MAX 64

/* msgpack-c on bytes the scanner accepted as exactly one object of len bytes. */
static int
mpc_run(const char *p, size_t len, msgpack_zone *zone, msgpack_object *obj)
{
	msgpack_unpack_return ret;
	size_t off = 0;

	ret = msgpack_unpack(p, len, &off, zone, obj);
	if (ret == MSGPACK_UNPACK_NOMEM_ERROR)
		return -ENOMEM;
	if (ret != MSGPACK_UNPACK_SUCCESS || off != len)
		return -EBADMSG; /* the scanner and msgpack-c disagree: never seen in fuzzing */
	return 0;
}

int
sl_mpc_unpack(const void *buf, size_t len, const struct sl_mp_limits *lim, msgpack_zone *zone,
	      msgpack_object *obj)
{
	struct sl_mp_limits def;
	uint32_t n = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	int rc, err;

	if (lim == NULL) {
		sl_mp_limits_default(&def);
		lim = &def;
	}
	rc = sl_mp_scan_flat(buf, n, lim);
	if (rc <= 0)
		return rc;
	/* the limits held: msgpack-c may now allocate for what is actually there */
	err = mpc_run(buf, (size_t)rc, zone, obj);
	return err < 0 ? err : rc;
}

int
sl_mpc_unpack_cur(const struct sl_mp_cur *c, msgpack_zone *zone, msgpack_object *obj)
{
	uint32_t len = c->left;
	struct sl_mp_cur t = *c;
	const char *p;

	if (len == 0)
		return -EBADMSG;
	/* contiguous: unpack in place */
	while (t.seg < t.end && t.off >= t.seg->len) {
		t.seg++;
		t.off = 0;
	}
	if (t.seg < t.end && t.seg->len - t.off >= len) {
		p = (const char *)t.seg->p + t.off;
	} else {
		char *copy = msgpack_zone_malloc(zone, len);

		if (copy == NULL)
			return -ENOMEM;
		if (sl_mp_cur_copy(c, copy, len) < 0)
			return -EBADMSG;
		p = copy;
	}
	return mpc_run(p, len, zone, obj);
}

static inline int
pk(int rc)
{
	return rc == 0 ? 0 : -EIO;
}

int
sl_mpc_pack_raw(msgpack_packer *pk_, const void *p, size_t n)
{
	if (msgpack_pack_v4raw(pk_, n) != 0)
		return -EIO;
	return pk(msgpack_pack_v4raw_body(pk_, p, n));
}

static int
pack_obj(msgpack_packer *p, const msgpack_object *o, int depth)
{
	uint32_t i;
	int rc;

	if (depth > PACK_DEPTH_MAX)
		return -ELOOP;
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return pk(msgpack_pack_nil(p));
	case MSGPACK_OBJECT_BOOLEAN:
		return pk(o->via.boolean ? msgpack_pack_true(p) : msgpack_pack_false(p));
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return pk(msgpack_pack_uint64(p, o->via.u64));
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return pk(msgpack_pack_int64(p, o->via.i64));
	case MSGPACK_OBJECT_FLOAT32:
		return pk(msgpack_pack_float(p, (float)o->via.f64));
	case MSGPACK_OBJECT_FLOAT64:
		return pk(msgpack_pack_double(p, o->via.f64));
	case MSGPACK_OBJECT_STR:
		return sl_mpc_pack_raw(p, o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_BIN:
		return sl_mpc_pack_raw(p, o->via.bin.ptr, o->via.bin.size);
	case MSGPACK_OBJECT_ARRAY:
		if (msgpack_pack_array(p, o->via.array.size) != 0)
			return -EIO;
		for (i = 0; i < o->via.array.size; i++) {
			rc = pack_obj(p, &o->via.array.ptr[i], depth + 1);
			if (rc < 0)
				return rc;
		}
		return 0;
	case MSGPACK_OBJECT_MAP:
		if (msgpack_pack_map(p, o->via.map.size) != 0)
			return -EIO;
		for (i = 0; i < o->via.map.size; i++) {
			rc = pack_obj(p, &o->via.map.ptr[i].key, depth + 1);
			if (rc == 0)
				rc = pack_obj(p, &o->via.map.ptr[i].val, depth + 1);
			if (rc < 0)
				return rc;
		}
		return 0;
	default: /* ext: no old-spec form */
		return -EINVAL;
	}
}

int
sl_mpc_pack_object(msgpack_packer *p, const msgpack_object *o)
{
	return pack_obj(p, o, 0);
}

int
sl_mpc_pack_frame_begin(msgpack_packer *p, uint64_t channel, uint64_t type, uint32_t nargs,
			int nhdrs)
{
	if (msgpack_pack_array(p, nhdrs == SL_FRAME_NO_HEADERS ? 3 : 4) != 0 ||
	    msgpack_pack_uint64(p, channel) != 0 || msgpack_pack_uint64(p, type) != 0)
		return -EIO;
	return pk(msgpack_pack_array(p, nargs));
}

int
sl_mpc_pack_headers(msgpack_packer *p, const struct sl_hdr *h, int nhdrs)
{
	int i, rc;

	if (nhdrs == SL_FRAME_NO_HEADERS)
		return 0;
	if (msgpack_pack_array(p, (size_t)nhdrs) != 0)
		return -EIO;
	for (i = 0; i < nhdrs; i++) {
		if (msgpack_pack_array(p, 3) != 0 || msgpack_pack_false(p) != 0)
			return -EIO;
		rc = sl_mpc_pack_raw(p, h[i].name, h[i].name_len);
		if (rc == 0)
			rc = sl_mpc_pack_raw(p, h[i].value, h[i].value_len);
		if (rc < 0)
			return rc;
	}
	return 0;
}
