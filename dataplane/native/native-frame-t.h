/**
 * @file
 * Types of the Cocaine 0.12 frame decoder (see native-frame.h).
 */
#ifndef SL_NATIVE_FRAME_T_H
#define SL_NATIVE_FRAME_T_H

#include <stdint.h>

#include "native-hpack-t.h"
#include "native-mp-t.h"

/** Pass as the header count to the frame encoders for a 3-element frame (no headers). */
#define SL_FRAME_NO_HEADERS (-1)

/** One decoded frame `[channel, type, [args...], headers?, ignored...]`. */
struct sl_frame {
	uint64_t channel;
	uint64_t type;
	uint32_t len;	/* bytes of the frame on the wire */
	uint32_t nelem; /* elements of the frame array, >= 3 */
	uint32_t nargs; /* elements of the args array */
	uint32_t nhdrs; /* entries of the header array (0 without one) */
	/** The args: positioned at the first one, bounded to the args array's content. */
	struct sl_mp_cur args;
	/** The whole args array, its header included (to hand to msgpack-c, or to forward). */
	struct sl_mp_cur args_obj;
};

/**
 * Decoder of one connection direction: limits, the resumable scanner, and the dynamic header
 * table that the peer's header entries update.
 */
struct sl_frame_dec {
	struct sl_mp_limits lim;
	struct sl_mp_scan scan;
	struct sl_hpack rx;
};

#endif /* SL_NATIVE_FRAME_T_H */
