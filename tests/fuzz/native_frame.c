/*
 * libFuzzer target: the Cocaine frame + header decoder (dataplane/native).
 *
 * Input: byte 0 seeds how the stream is cut into segments, byte 1 picks limits and the
 * protocol the channel state machine follows; the rest is the TCP stream. The stream is
 * decoded twice: from one flat buffer, and incrementally from a chain of segments that grows
 * one segment at a time (empty segments included). Both must yield the same frames, headers
 * and final status. Decoded frames are fed to a session and their args to the error, graph
 * and msgpack-c readers for coverage.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "native-mpc.h"
#include "native.h"

#define MAX_FRAMES 256
#define MAX_SEGS 512

struct run {
	uint64_t digest[MAX_FRAMES];
	uint32_t nframes;
	int status; /* the result that ended decoding */
};

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t
digest(const struct sl_frame *f, const struct sl_hdrs *h)
{
	static uint8_t args[1 << 17];
	uint64_t d = 0xcbf29ce484222325ull;
	uint32_t i, len = f->args_obj.left;

	d = fnv(d, &f->channel, sizeof(f->channel));
	d = fnv(d, &f->type, sizeof(f->type));
	d = fnv(d, &f->len, sizeof(f->len));
	d = fnv(d, &f->nelem, sizeof(f->nelem));
	d = fnv(d, &f->nargs, sizeof(f->nargs));
	d = fnv(d, &f->nhdrs, sizeof(f->nhdrs));
	if (len <= sizeof(args) && sl_mp_cur_copy(&f->args_obj, args, len) == 0)
		d = fnv(d, args, len);
	else
		abort(); /* the args view must always be readable */
	for (i = 0; i < h->n; i++) {
		d = fnv(d, h->h[i].name, h->h[i].name_len);
		d = fnv(d, "=", 1);
		d = fnv(d, h->h[i].value, h->h[i].value_len);
	}
	return d;
}

static void
exercise(const struct sl_frame *f, struct sl_sess *s)
{
	static struct sl_gnode nodes[64];
	static struct sl_gslot slots[256];
	static char names[4096];
	struct sl_endpoint ep[8];
	struct sl_graph_arena a;
	const struct sl_gnode *root;
	struct sl_chan_ev ev;
	struct sl_mp_cur c = f->args;
	struct sl_mp_raw msg;
	struct sl_err e;
	msgpack_zone z;
	msgpack_object o;
	uint64_t version;
	uint32_t nep, i;

	(void)sl_sess_recv(s, f->channel, f->type, &ev);
	(void)sl_err_dec_args(&f->args, f->nargs, &e, &msg);
	sl_graph_arena_init(&a, nodes, 64, slots, 256, names, sizeof(names));
	(void)sl_resolve_dec_args(&f->args, f->nargs, ep, 8, &nep, &version, &a, &root);
	for (i = 0; i < f->nargs; i++)
		if (sl_mp_skip(&c) < 0)
			abort(); /* args of a decoded frame are valid msgpack */
	if (c.left != 0)
		abort();
	msgpack_zone_init(&z, 2048);
	if (sl_mpc_unpack_cur(&f->args_obj, &z, &o) < 0 || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size != f->nargs)
		abort(); /* msgpack-c agrees with the frame decoder */
	msgpack_zone_destroy(&z);
}

static void
run_flat(const uint8_t *p, uint32_t n, const struct sl_mp_limits *lim, struct run *r,
	 const struct sl_gnode *root)
{
	static struct sl_frame_dec d;
	static struct sl_hdrs h;
	static struct sl_chan tab[64];
	struct sl_seg seg = {p, n};
	struct sl_sess s;
	uint32_t off = 0;

	sl_frame_dec_init(&d, lim);
	sl_sess_init(&s, root, NULL, tab, 64);
	r->nframes = 0;
	for (;;) {
		struct sl_frame f;
		int rc = sl_frame_dec_next(&d, &seg, 1, off, &f, &h);

		if (rc <= 0 || r->nframes == MAX_FRAMES) {
			r->status = rc;
			return;
		}
		r->digest[r->nframes++] = digest(&f, &h);
		exercise(&f, &s);
		off += (uint32_t)rc;
	}
}

static void
run_split(const uint8_t *p, uint32_t n, const struct sl_mp_limits *lim, struct run *r, uint8_t seed)
{
	static struct sl_frame_dec d;
	static struct sl_hdrs h;
	static struct sl_seg segs[MAX_SEGS];
	uint32_t nseg = 0, have = 0, off = 0, pos = 0;
	uint32_t state = seed * 2654435761u + 1;

	/* cut the stream into segments of 0..(seed % 61 + 1) bytes */
	while (pos < n && nseg < MAX_SEGS - 1) {
		uint32_t len;

		state = state * 1103515245u + 12345u;
		len = (state >> 16) % ((seed % 61u) + 2u);
		if (len > n - pos)
			len = n - pos;
		segs[nseg].p = p + pos;
		segs[nseg].len = len;
		nseg++;
		pos += len;
	}
	if (pos < n) {
		segs[nseg].p = p + pos;
		segs[nseg].len = n - pos;
		nseg++;
	}
	sl_frame_dec_init(&d, lim);
	r->nframes = 0;
	for (;;) {
		struct sl_frame f;
		int rc = sl_frame_dec_next(&d, segs, have, off, &f, &h);

		if (rc == -EAGAIN && have < nseg) {
			have++;
			continue;
		}
		if (rc <= 0 || r->nframes == MAX_FRAMES) {
			r->status = rc;
			return;
		}
		r->digest[r->nframes++] = digest(&f, &h);
		off += (uint32_t)rc;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sl_gnode *const roots[] = {
		&sl_proto_app,	  &sl_proto_locator, &sl_proto_node,	   &sl_proto_storage,
		&sl_proto_worker, &sl_proto_logging, &sl_proto_worker_rpc, &sl_proto_echo,
	};
	static struct run a, b;
	struct sl_mp_limits lim;
	uint8_t seed, sel;
	uint32_t i;

	if (size < 2 || size > (1u << 20))
		return 0;
	seed = data[0];
	sel = data[1];
	data += 2;
	size -= 2;
	sl_mp_limits_default(&lim);
	if (sel & 0x80) {
		/* tight limits reach the limit paths with small inputs */
		lim.max_frame = 64 + (sel & 0x0f) * 16;
		lim.max_depth = (uint16_t)(2 + ((sel >> 4) & 0x07));
		lim.max_count = 8 + (sel & 0x0f);
		lim.max_objects = 16 + (sel & 0x3f);
	}
	run_flat(data, (uint32_t)size, &lim, &a, roots[sel & 7]);
	run_split(data, (uint32_t)size, &lim, &b, seed);
	if (a.nframes != b.nframes || a.status != b.status)
		abort();
	for (i = 0; i < a.nframes; i++)
		if (a.digest[i] != b.digest[i])
			abort();
	return 0;
}
