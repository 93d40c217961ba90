/**
 * @file
 * msgpack-c with sluice's limits, for everything outside the data plane (control,
 * sluice-node, journal, tools).
 *
 * msgpack-c allocates an array of objects for every container as soon as it reads the
 * container's header, so 5 bytes declaring 2^32 elements make it ask for ~100 GB. Every
 * decode here first runs the allocation-free scanner (native-mp.h) over the bytes with the
 * same limits as the data plane; msgpack-c only sees complete, valid objects that passed
 * them, so its allocation is bounded by about 24 bytes x lim.max_objects plus the zone's
 * chunk (strings are not copied: they point into the input).
 *
 * Packing helpers write the old spec only (raw, never str8/bin/ext), like sl_mp_w_*.
 *
 * Return conventions as native-mp.h: > 0 bytes consumed, -EAGAIN need more, -errno.
 */
#ifndef SL_NATIVE_MPC_H
#define SL_NATIVE_MPC_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "native-hpack-t.h"
#include "native-mp-t.h"

/**
 * Decode one object from a flat buffer.
 * @param buf   bytes
 * @param len   bytes available
 * @param lim   limits (NULL: the defaults)
 * @param zone  msgpack-c zone that receives the objects (caller-owned)
 * @param obj   the object; its strings point into buf
 * @return > 0 bytes consumed; -EAGAIN when incomplete; -EBADMSG, -EMSGSIZE, -E2BIG, -ELOOP
 *   as sl_mp_scan(); -ENOMEM when the zone cannot grow.
 */
int sl_mpc_unpack(const void *buf, size_t len, const struct sl_mp_limits *lim, msgpack_zone *zone,
		  msgpack_object *obj);

/**
 * Decode the object that fills a cursor's view (e.g. struct sl_frame args_obj: already
 * validated by the frame decoder). Bytes split across segments are first copied into the
 * zone, so the strings stay valid as long as the zone (or the segments, when contiguous).
 * @return 0; -EBADMSG when the view does not hold exactly one object; -ENOMEM.
 */
int sl_mpc_unpack_cur(const struct sl_mp_cur *c, msgpack_zone *zone, msgpack_object *obj);

/** Pack an old-spec raw string. @return 0, or -EIO when the writer failed. */
int sl_mpc_pack_raw(msgpack_packer *pk, const void *p, size_t n);

/**
 * Pack an object in the old spec: str and bin become raw.
 * @return 0; -EINVAL for ext (no old-spec form); -ELOOP deeper than 64; -EIO writer failure.
 */
int sl_mpc_pack_object(msgpack_packer *pk, const msgpack_object *o);

/** `[channel, type, [` for nargs args, with a 4th element unless nhdrs ==
 * SL_FRAME_NO_HEADERS. @return 0 or -EIO. */
int sl_mpc_pack_frame_begin(msgpack_packer *pk, uint64_t channel, uint64_t type, uint32_t nargs,
			    int nhdrs);

/** The header array as `[false, name, value]` entries. @return 0 or -EIO. */
int sl_mpc_pack_headers(msgpack_packer *pk, const struct sl_hdr *h, int nhdrs);

#endif /* SL_NATIVE_MPC_H */
