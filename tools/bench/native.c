/*
 * bench-native: the cost of one Cocaine 0.12 exchange in the native protocol library.
 *
 * The exchange is what a client sends on one channel: enqueue ["ping"], write [<64-byte
 * chunk>], close [], each frame with the three tracing headers as [false, name, 8 bytes]
 * (what the C++ core sends on every message from 0.12.2, section 1.3).
 *   decode: the three frames from one buffer (as one TCP read) through the frame decoder
 *           with its header table, the channel state machine (server side), and a read of
 *           the event name, the chunk and the trace_id value.
 *   encode: the client side: open + send in the channel state machine and the three frames
 *           encoded with their headers.
 * Each iteration is one exchange on a fresh channel id of the same connection.
 *
 *   bench-native [--iters N] [--mode decode|encode|both]
 * bench_decode_loop() and bench_encode_loop() hold nothing but the measured work, so
 * `valgrind --tool=callgrind --toggle-collect=bench_decode_loop` counts exactly it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "native.h"
#include "sl_util.h"

static uint8_t chunk[64];
static uint8_t trace[3][8];
static struct sl_hdr hdrs[3];
static uint8_t wire[1024];
static uint32_t wire_len;
static volatile uint64_t sink;

static void
setup(void)
{
	int i;

	memset(chunk, 'c', sizeof(chunk));
	for (i = 0; i < 3; i++)
		sl_hdr_le64(trace[i], 0x0123456789abcdefull + (uint64_t)i);
	hdrs[0] = sl_hdr_make("trace_id", trace[0], 8);
	hdrs[1] = sl_hdr_make("span_id", trace[1], 8);
	hdrs[2] = sl_hdr_make("parent_id", trace[2], 8);
}

/* One client exchange on a new channel; returns the bytes written, or -errno. */
static inline int
encode_exchange(struct sl_sess *s, uint8_t *out, uint32_t cap)
{
	struct sl_chan_ev ev;
	struct sl_mp_w w;
	uint64_t ch;

	if (sl_sess_open(s, SL_APP_ENQUEUE, NULL, &ev) < 0)
		return -EPROTO;
	ch = ev.id;
	sl_mp_w_init(&w, out, cap);
	sl_frame_enc_raw1(&w, ch, SL_APP_ENQUEUE, "ping", 4, hdrs, 3);
	if (sl_sess_send(s, ch, SL_STREAM_WRITE, &ev) < 0)
		return -EPROTO;
	sl_frame_enc_raw1(&w, ch, SL_STREAM_WRITE, chunk, sizeof(chunk), hdrs, 3);
	if (sl_sess_send(s, ch, SL_STREAM_CLOSE, &ev) < 0)
		return -EPROTO;
	sl_frame_enc_empty(&w, ch, SL_STREAM_CLOSE, hdrs, 3);
	/* the server's close, so the channel is forgotten and the table stays small */
	sl_sess_recv(s, ch, SL_STREAM_CLOSE, &ev);
	return w.err < 0 ? w.err : (int)w.len;
}

/* The server's side of one exchange: 3 frames, state machine, args and a header. */
static inline int
decode_exchange(struct sl_frame_dec *d, struct sl_sess *s, const struct sl_seg *seg,
		struct sl_hdrs *h)
{
	uint32_t off = 0;
	int i;

	for (i = 0; i < 3; i++) {
		struct sl_chan_ev ev;
		struct sl_mp_raw r;
		struct sl_frame f;
		uint64_t v;
		int rc;

		rc = sl_frame_dec_next(d, seg, 1, off, &f, h);
		if (rc <= 0)
			return rc < 0 ? rc : -EPROTO;
		off += (uint32_t)rc;
		if (sl_sess_recv(s, f.channel, f.type, &ev) < 0)
			return -EPROTO;
		if (f.nargs == 1 && sl_mp_read_raw(&f.args, &r) == 0)
			sink += r.len + r.p[0];
		if (h->n > 0 && sl_hdr_u64(&h->h[0], &v) == 0)
			sink += v;
		if (ev.rx_done)
			sl_sess_send(s, f.channel, SL_STREAM_CLOSE, &ev);
	}
	return (int)off;
}

static SL_NOINLINE int
bench_decode_loop(struct sl_frame_dec *d, struct sl_sess *s, const struct sl_seg *seg,
		  struct sl_hdrs *h, uint64_t iters)
{
	uint64_t i;

	for (i = 0; i < iters; i++) {
		if (decode_exchange(d, s, seg, h) < 0)
			return -1;
		s->max_id = 0; /* the same channel id again: it was closed */
	}
	return 0;
}

static SL_NOINLINE int
bench_encode_loop(struct sl_sess *s, uint8_t *out, uint32_t cap, uint64_t iters)
{
	uint64_t i;

	for (i = 0; i < iters; i++) {
		int n = encode_exchange(s, out, cap);

		if (n < 0)
			return -1;
		sink += out[n - 1];
	}
	return 0;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	static struct sl_chan tab_c[64], tab_s[64];
	static struct sl_frame_dec d;
	static struct sl_hdrs h;
	static uint8_t out[1024];
	struct sl_sess cs, ss;
	struct sl_seg seg;
	uint64_t iters = 1000000;
	const char *mode = "both";
	double t0, t1;
	int i, n;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc)
			iters = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
			mode = argv[++i];
		else {
			fprintf(stderr, "usage: %s [--iters N] [--mode decode|encode|both]\n",
				argv[0]);
			return 2;
		}
	}
	if (iters == 0)
		iters = 1;
	setup();
	sl_sess_init(&cs, NULL, &sl_proto_app, tab_c, 64);
	n = encode_exchange(&cs, wire, sizeof(wire));
	if (n < 0) {
		fprintf(stderr, "encode failed: %d\n", n);
		return 1;
	}
	wire_len = (uint32_t)n;
	seg.p = wire;
	seg.len = wire_len;
	printf("exchange: enqueue + write(64 B) + close, 3 headers each, %u bytes on the wire\n",
	       wire_len);

	if (strcmp(mode, "decode") == 0 || strcmp(mode, "both") == 0) {
		sl_frame_dec_init(&d, NULL);
		sl_sess_init(&ss, &sl_proto_app, NULL, tab_s, 64);
		t0 = now_ns();
		if (bench_decode_loop(&d, &ss, &seg, &h, iters) < 0) {
			fprintf(stderr, "decode failed\n");
			return 1;
		}
		t1 = now_ns();
		printf("decode: %.1f ns/exchange (%" PRIu64 " iterations)\n",
		       (t1 - t0) / (double)iters, iters);
	}
	if (strcmp(mode, "encode") == 0 || strcmp(mode, "both") == 0) {
		sl_sess_init(&cs, NULL, &sl_proto_app, tab_c, 64);
		t0 = now_ns();
		if (bench_encode_loop(&cs, out, sizeof(out), iters) < 0) {
			fprintf(stderr, "encode failed\n");
			return 1;
		}
		t1 = now_ns();
		printf("encode: %.1f ns/exchange (%" PRIu64 " iterations)\n",
		       (t1 - t0) / (double)iters, iters);
	}
	return 0;
}
