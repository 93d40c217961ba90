/**
 * @file
 * Cocaine 0.12 framing (cocaine-protocol.md 1.3): a TCP stream is a concatenation of
 * msgpack arrays `[channel:uint, type:uint, [args...], headers:array?, ignored...]` with no
 * length prefix. 3-element frames (peers before 0.12.2, and workers, 12a.1) and 4-element
 * frames are accepted, further elements ignored; any first channel id is fine (a real client
 * opens with 999999, 12a.4): channel rules belong to native-chan.h.
 *
 * The decoder is incremental over a chain of segments (a frame may span packet buffers) and
 * allocation-free; limits are checked before anything is read further. Frames are encoded as
 * 4 elements with `[false, name, value]` headers (or 3 elements on request).
 */
#ifndef SL_NATIVE_FRAME_H
#define SL_NATIVE_FRAME_H

#include <stdbool.h>
#include <stdint.h>

#include "native-frame-t.h"
#include "native-hpack.h"
#include "native-mp.h"

/**
 * Initialise a decoder.
 * @param d    decoder
 * @param lim  limits, or NULL for the defaults (16 MiB frames, depth 32, ...)
 */
void sl_frame_dec_init(struct sl_frame_dec *d, const struct sl_mp_limits *lim);

/**
 * Decode the next frame starting at chain offset `off`, and its headers.
 *
 * Call again with the same `off` and a longer chain after -EAGAIN (bytes may only be
 * appended). After a frame is returned, the next one starts at off + the return value.
 * Headers are decoded (and the dynamic table updated) for every frame, also when `hdrs` is
 * NULL. f->args and the header strings point into the chain: keep its segments until done.
 *
 * Every error is fatal for the connection (the peers drop it too, section 1.5).
 *
 * @param d     decoder of this connection direction
 * @param seg   chain of segments holding the stream
 * @param nseg  segments in the chain
 * @param off   chain offset of the frame's first byte
 * @param f     the frame, filled on success
 * @param hdrs  the frame's headers in order (may be NULL)
 * @return
 *   > 0: the frame's length in bytes;
 *   -EAGAIN: a valid but incomplete frame, need more bytes;
 *   -EBADMSG: not msgpack (Cocaine transport parse error);
 *   -EMSGSIZE: the frame cannot fit in lim.max_frame (declared sizes included);
 *   -E2BIG: too many elements (lim.max_count, lim.max_objects);
 *   -ELOOP: nested deeper than lim.max_depth;
 *   -EPROTO: msgpack but not a frame (frame_format_error);
 *   -EILSEQ: a bad header entry (hpack_error);
 *   -ENOBUFS: more headers than struct sl_hdrs holds.
 */
int sl_frame_dec_next(struct sl_frame_dec *d, const struct sl_seg *seg, uint32_t nseg, uint32_t off,
		      struct sl_frame *f, struct sl_hdrs *hdrs);

/**
 * Write a frame's head: `[channel, type, [` with room for nargs args and, unless
 * nhdrs == SL_FRAME_NO_HEADERS, a 4th element written by sl_frame_enc_headers() after the
 * args.
 */
static inline void
sl_frame_enc_begin(struct sl_mp_w *w, uint64_t channel, uint64_t type, uint32_t nargs, int nhdrs)
{
	sl_mp_w_array(w, nhdrs == SL_FRAME_NO_HEADERS ? 3 : 4);
	sl_mp_w_uint(w, channel);
	sl_mp_w_uint(w, type);
	sl_mp_w_array(w, nargs);
}

/**
 * Write the header array: each header as `[false, name, value]` (never stored by the
 * receiver, 1.4). Nothing for nhdrs == SL_FRAME_NO_HEADERS.
 */
void sl_frame_enc_headers(struct sl_mp_w *w, const struct sl_hdr *h, int nhdrs);

/** A whole frame with no args: `[ch, type, [], headers]` (close, heartbeat, void value). */
void sl_frame_enc_empty(struct sl_mp_w *w, uint64_t channel, uint64_t type, const struct sl_hdr *h,
			int nhdrs);

/** A whole frame with one raw arg: `[ch, type, [data], headers]` (write, enqueue, invoke). */
void sl_frame_enc_raw1(struct sl_mp_w *w, uint64_t channel, uint64_t type, const void *data,
		       uint32_t len, const struct sl_hdr *h, int nhdrs);

#endif /* SL_NATIVE_FRAME_H */
