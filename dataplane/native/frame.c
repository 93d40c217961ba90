/*
 * Cocaine 0.12 frame decoder and encoder (cocaine-protocol.md 1.3, 1.4, 12a.1-12a.4).
 *
 * Decoding is two passes over the frame's bytes: the resumable scanner validates the whole
 * msgpack object against the limits as bytes arrive (and remembers where the frame's first
 * elements start), then, once the frame is complete, a cursor reads the channel, type, args
 * header and header entries straight from those offsets.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "sl_util.h"

#include "native-frame.h"
#include "native-hpack.h"
#include "native-mp.h"

void
sl_frame_dec_init(struct sl_frame_dec *d, const struct sl_mp_limits *lim)
{
	if (lim != NULL)
		d->lim = *lim;
	else
		sl_mp_limits_default(&d->lim);
	sl_mp_scan_init(&d->scan);
	sl_hpack_init(&d->rx);
}

/*
 * Whether the bytes at chain offset off start a frame: an array of at least 3 elements.
 * Decided from the root header alone, before the scan, so that the answer (and the error
 * code) does not depend on how the bytes are split into segments.
 */
static int
frame_head_ok(const struct sl_seg *seg, uint32_t nseg, uint32_t off)
{
	uint8_t b[5];
	uint32_t i, want, got = 0;

	for (i = 0; i < nseg && off >= seg[i].len; i++)
		off -= seg[i].len;
	if (i == nseg)
		return -EAGAIN;
	b[0] = seg[i].p[off];
	if (b[0] >= 0x93 && b[0] <= 0x9f)
		return 0;
	if (b[0] != 0xdc && b[0] != 0xdd)
		return -EPROTO; /* not an array, or a fixarray of fewer than 3 elements */
	want = b[0] == 0xdc ? 3 : 5;
	for (; i < nseg && got < want; i++, off = 0)
		for (; off < seg[i].len && got < want; off++)
			b[got++] = seg[i].p[off];
	if (got < want)
		return -EAGAIN;
	if ((want == 3 ? sl_rd_be16(b + 1) : sl_rd_be32(b + 1)) < 3)
		return -EPROTO;
	return 0;
}

/*
 * Read the frame the scanner accepted: one cursor walks the root header, channel and type,
 * then jumps over the args (the scanner knows where the elements start) to the headers.
 */
static int
frame_parse(struct sl_frame_dec *d, const struct sl_seg *seg, uint32_t nseg, uint32_t off,
	    uint32_t len, struct sl_frame *f, struct sl_hdrs *hdrs)
{
	const struct sl_mp_scan *s = &d->scan;
	struct sl_mp_cur c;
	uint32_t end;

	if (s->root_kind != SL_MP_ARRAY || s->root_n < 3 || s->nmarks < 3)
		return -EPROTO;
	f->len = len;
	f->nelem = s->root_n;
	f->nhdrs = 0;
	if (hdrs != NULL) {
		hdrs->n = 0;
		hdrs->used = 0;
	}
	/* channel and type: non-negative integers of any width (1.1) */
	if (sl_mp_cur_init(&c, seg, nseg, off, len) < 0 || sl_mp_cur_advance(&c, s->marks[0]) < 0 ||
	    sl_mp_read_uint(&c, &f->channel) < 0 || sl_mp_read_uint(&c, &f->type) < 0)
		return -EPROTO;
	/* args: the cursor is at element 2 now */
	end = s->root_n > 3 ? s->marks[3] : len;
	f->args_obj = c;
	f->args_obj.left = end - s->marks[2];
	f->args = f->args_obj;
	if (sl_mp_read_array(&f->args, &f->nargs) < 0)
		return -EPROTO;
	if (s->root_n < 4)
		return 0;
	/* headers: the 4th element must be an array when present; the rest is ignored */
	if (sl_mp_cur_advance(&c, s->marks[3] - s->marks[2]) < 0)
		return -EPROTO;
	c.left = (s->root_n > 4 ? s->marks[4] : len) - s->marks[3];
	if (sl_mp_read_array(&c, &f->nhdrs) < 0)
		return -EPROTO;
	return sl_hpack_decode(&d->rx, &c, f->nhdrs, hdrs);
}

int
sl_frame_dec_next(struct sl_frame_dec *d, const struct sl_seg *seg, uint32_t nseg, uint32_t off,
		  struct sl_frame *f, struct sl_hdrs *hdrs)
{
	struct sl_mp_scan *s = &d->scan;
	int rc;

	if (s->pos == 0) {
		/* reject what cannot be a frame before waiting for its bytes */
		rc = frame_head_ok(seg, nseg, off);
		if (rc < 0)
			return rc;
	}
	rc = sl_mp_scan(s, &d->lim, seg, nseg, off);
	if (rc == -EAGAIN)
		return rc;
	if (rc > 0) {
		int prc = frame_parse(d, seg, nseg, off, (uint32_t)rc, f, hdrs);

		if (prc < 0)
			rc = prc;
	}
	sl_mp_scan_init(s);
	return rc;
}

void
sl_frame_enc_headers(struct sl_mp_w *w, const struct sl_hdr *h, int nhdrs)
{
	int i;

	if (nhdrs == SL_FRAME_NO_HEADERS)
		return;
	sl_mp_w_array(w, (uint32_t)nhdrs);
	for (i = 0; i < nhdrs; i++) {
		sl_mp_w_array(w, 3);
		sl_mp_w_bool(w, false);
		sl_mp_w_raw(w, h[i].name, h[i].name_len);
		sl_mp_w_raw(w, h[i].value, h[i].value_len);
	}
}

void
sl_frame_enc_empty(struct sl_mp_w *w, uint64_t channel, uint64_t type, const struct sl_hdr *h,
		   int nhdrs)
{
	sl_frame_enc_begin(w, channel, type, 0, nhdrs);
	sl_frame_enc_headers(w, h, nhdrs);
}

void
sl_frame_enc_raw1(struct sl_mp_w *w, uint64_t channel, uint64_t type, const void *data,
		  uint32_t len, const struct sl_hdr *h, int nhdrs)
{
	sl_frame_enc_begin(w, channel, type, 1, nhdrs);
	sl_mp_w_raw(w, data, len);
	sl_frame_enc_headers(w, h, nhdrs);
}
