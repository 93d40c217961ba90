/*
 * Helpers shared by the services: replies on a channel (4-element frames with an empty
 * header array, what 0.12.2+ clients send and expect, 12a.1), errors in the
 * `[[category, code], message]` form (12a.6), and forwarding a frame's args and headers
 * from one connection to another in the old msgpack spec (1.1: str8/bin received from a
 * modern client become raw before they reach a worker that may be msgpack-c 0.5).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <stdio.h>

#include "node.h"
#include "sl_log.h"

#define SVC_FRAME_HEAD 32 /* array + channel + type + args array header + empty headers */

int
svc_send(struct conn *c, uint64_t ch, uint64_t type, const void *args, size_t len, uint32_t nargs,
	 struct sl_chan_ev *ev)
{
	struct sl_chan_ev lev;
	struct sl_mp_w w;
	int rc;

	rc = sl_sess_send(&c->sess, ch, type, ev != NULL ? ev : &lev);
	if (rc < 0)
		return rc;
	rc = conn_out_begin(c, len + SVC_FRAME_HEAD, &w);
	if (rc < 0) {
		conn_fail(c, rc);
		return rc;
	}
	sl_frame_enc_begin(&w, ch, type, nargs, 0);
	sl_mp_w_bytes(&w, args, (uint32_t)len);
	sl_frame_enc_headers(&w, NULL, 0);
	return conn_out_end(c, &w);
}

int
svc_send_empty(struct conn *c, uint64_t ch, uint64_t type, struct sl_chan_ev *ev)
{
	return svc_send(c, ch, type, NULL, 0, 0, ev);
}

int
svc_send_error(struct conn *c, uint64_t ch, int64_t cat, int64_t code, const char *msg,
	       struct sl_chan_ev *ev)
{
	uint8_t buf[512];
	struct sl_err e = {.cat = cat, .code = code};
	struct sl_mp_w w;
	size_t n = strlen(msg);

	if (n > sizeof(buf) - 32)
		n = sizeof(buf) - 32;
	sl_mp_w_init(&w, buf, sizeof(buf));
	sl_err_enc_args(&w, &e, msg, (uint32_t)n);
	/* the error message id is 1 in both the primitive and the streaming protocols */
	return svc_send(c, ch, SL_STREAM_ERROR, buf, w.len, 2, ev);
}

size_t
fwd_args_bound(const struct sl_frame *f)
{
	/* a string grows by at most one header byte and takes at least two: x 1.5 */
	return (size_t)f->args_obj.left * 3 / 2 + 16;
}

size_t
fwd_hdrs_bound(const struct sl_hdrs *h)
{
	size_t n = 5;
	uint32_t i;

	for (i = 0; i < h->n; i++)
		n += 2 + 5 + h->h[i].name_len + 5 + h->h[i].value_len;
	return n;
}

static void
fwd_raw_body(struct sl_mp_w *w, struct sl_mp_raw *r)
{
	const uint8_t *p;
	uint32_t n;

	if (r->p != NULL) {
		sl_mp_w_bytes(w, r->p, r->len);
		return;
	}
	while (sl_mp_raw_piece(r, &p, &n))
		sl_mp_w_bytes(w, p, n);
}

void
fwd_args(struct sl_mp_w *w, const struct sl_frame *f)
{
	struct sl_mp_cur c = f->args_obj;
	uint64_t owed = 1;

	while (owed > 0) {
		struct sl_mp_cur before = c;
		uint8_t hdr[16];
		struct sl_mp_obj o;
		struct sl_mp_raw r;
		uint32_t n;

		if (sl_mp_read(&c, &o, &r) < 0) {
			w->err = -EBADMSG;
			return;
		}
		owed--;
		switch (o.type) {
		case SL_MP_STR:
		case SL_MP_BIN:
			sl_mp_w_raw_hdr(w, r.len);
			fwd_raw_body(w, &r);
			break;
		case SL_MP_ARRAY:
			sl_mp_w_array(w, o.v.n);
			owed += o.v.n;
			break;
		case SL_MP_MAP:
			sl_mp_w_map(w, o.v.n);
			owed += 2ull * o.v.n;
			break;
		case SL_MP_EXT:
			/* no old-spec form: passed as is (header, then body) */
			n = o.hdr;
			if (n > sizeof(hdr) || sl_mp_cur_copy(&before, hdr, n) < 0) {
				w->err = -EBADMSG;
				return;
			}
			sl_mp_w_bytes(w, hdr, n);
			fwd_raw_body(w, &r);
			break;
		default:
			/* scalars: o.hdr is their whole encoding */
			n = o.hdr;
			if (n > sizeof(hdr) || sl_mp_cur_copy(&before, hdr, n) < 0) {
				w->err = -EBADMSG;
				return;
			}
			sl_mp_w_bytes(w, hdr, n);
			break;
		}
	}
}

int
svc_forward(struct conn *c, uint64_t ch, const struct sl_frame *f, const struct sl_hdrs *h,
	    struct sl_chan_ev *ev)
{
	struct sl_mp_w w;
	int rc;

	rc = sl_sess_send(&c->sess, ch, f->type, ev);
	if (rc < 0)
		return rc;
	rc = conn_out_begin(c, SVC_FRAME_HEAD + fwd_args_bound(f) + fwd_hdrs_bound(h), &w);
	if (rc < 0) {
		conn_fail(c, rc);
		return rc;
	}
	sl_mp_w_array(&w, 4);
	sl_mp_w_uint(&w, ch);
	sl_mp_w_uint(&w, f->type);
	fwd_args(&w, f);
	sl_frame_enc_headers(&w, h->h, (int)h->n);
	rc = conn_out_end(c, &w);
	if (rc < 0)
		conn_fail(c, rc);
	return rc;
}

void
node_uuid_gen(char out[NODE_UUID_LEN])
{
	uint8_t b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* variant 1 */
	snprintf(out, NODE_UUID_LEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}
