/*
 * dataplane/native/frame.c: Cocaine 0.12 frames. Golden bytes come from the examples of
 * cocaine-protocol.md sections 1.3, 1.4, 4.2, 5.3 and the observed forms of section 12a.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "native.h"
#include "native-mpc.h"

/* Frames seen on the wire, one per line of the doc. */
static const char *const golden_frames[] = {
	/* 1.3: [1, 0, ["storage"], []] */
	"94 01 00 91 a7 73 74 6f 72 61 67 65 90",
	/* 4.2: enqueue, write, close on channel 5 (3-element, pre-0.12.2) */
	"93 05 00 91 a4 \"ping\"",
	"93 05 00 91 a5 \"hello\"",
	"93 05 02 90",
	/* 1.4: a plain header [false, "trace_id", 8 bytes] on an enqueue */
	"94 01 00 91 a4 \"ping\" 91 93 c2 a8 \"trace_id\" a8 01 00 00 00 00 00 00 00",
	/* 5.3: the mock runtime's frames */
	"93 01 00 90",
	"94 02 00 91 a4 \"ping\" 92 50 93 c3 a4 \"PING\" a1 \"A\"",
	"94 02 00 91 a4 \"pong\" 91 93 c2 53 a1 \"B\"",
	"93 02 02 90",
	"93 02 01 92 92 d0 9c 64 a8 \"test_err\"",
	"93 01 01 92 02 a9 \"terminate\"",
	/* 12a.4: the logging resolver's first channel, 3 elements */
	"93 ce 00 0f 42 3f 00 91 a7 \"logging\"",
	/* 12a.2: a modern client's str8 and bin */
	"94 01 00 91 d9 07 \"storage\" 90",
	"94 03 00 91 c4 05 \"hello\" 90",
	/* 12a.3: [true, "trace_id", 8 bytes] */
	"94 01 00 91 a4 \"ping\" 91 93 c3 a8 \"trace_id\" a8 11 22 33 44 55 66 77 88",
	/* 1.1: any integer width for channel and type (9-byte form) */
	"94 cf 00 00 00 00 00 00 00 07 d0 00 90 90",
	/* 1.3: further elements are ignored */
	"95 07 02 90 90 c0",
	"96 08 02 90 90 92 01 02 a3 \"xyz\"",
};

#define NGOLD (sizeof(golden_frames) / sizeof(golden_frames[0]))

static char digest_a[65536], digest_b[65536];

Test(native_frame, golden_storage_frame)
{
	uint8_t b[64];
	size_t n = gold(b, sizeof(b), golden_frames[0]);
	struct sl_seg seg = {b, (uint32_t)n};
	static struct sl_hdrs h;
	struct sl_frame_dec d;
	struct sl_frame f;
	struct sl_mp_raw r;

	sl_frame_dec_init(&d, NULL);
	cr_assert_eq(sl_frame_dec_next(&d, &seg, 1, 0, &f, &h), (int)n);
	cr_assert_eq(f.channel, 1);
	cr_assert_eq(f.type, 0);
	cr_assert_eq(f.nelem, 4);
	cr_assert_eq(f.nargs, 1);
	cr_assert_eq(f.nhdrs, 0);
	cr_assert_eq(h.n, 0);
	cr_assert_eq(sl_mp_read_raw(&f.args, &r), 0);
	cr_assert(sl_mp_raw_eq(&r, "storage", 7));
	cr_assert_eq(f.args.left, 0, "the args view ends with the args");
	cr_assert_eq(f.args_obj.left, 9);
}

Test(native_frame, golden_stream_decodes_in_sequence)
{
	static uint8_t b[4096];
	static const struct {
		uint64_t ch, type;
		uint32_t nelem, nargs, nhdrs;
	} want[NGOLD] = {
		{1, 0, 4, 1, 0}, {5, 0, 3, 1, 0}, {5, 0, 3, 1, 0}, {5, 2, 3, 0, 0},
		{1, 0, 4, 1, 1}, {1, 0, 3, 0, 0}, {2, 0, 4, 1, 2}, {2, 0, 4, 1, 1},
		{2, 2, 3, 0, 0}, {2, 1, 3, 2, 0}, {1, 1, 3, 2, 0}, {999999, 0, 3, 1, 0},
		{1, 0, 4, 1, 0}, {3, 0, 4, 1, 0}, {1, 0, 4, 1, 1}, {7, 0, 4, 0, 0},
		{7, 2, 5, 0, 0}, {8, 2, 6, 0, 0},
	};
	static struct sl_hdrs h;
	struct sl_frame_dec d;
	struct sl_frame f;
	size_t n = 0, i;
	uint32_t off = 0;
	struct sl_seg seg;

	for (i = 0; i < NGOLD; i++)
		n += gold(b + n, sizeof(b) - n, golden_frames[i]);
	seg.p = b;
	seg.len = (uint32_t)n;
	sl_frame_dec_init(&d, NULL);
	for (i = 0; i < NGOLD; i++) {
		int rc = sl_frame_dec_next(&d, &seg, 1, off, &f, &h);

		cr_assert_gt(rc, 0, "frame %zu: %d", i, rc);
		cr_assert_eq(f.channel, want[i].ch, "frame %zu", i);
		cr_assert_eq(f.type, want[i].type, "frame %zu", i);
		cr_assert_eq(f.nelem, want[i].nelem, "frame %zu", i);
		cr_assert_eq(f.nargs, want[i].nargs, "frame %zu", i);
		cr_assert_eq(f.nhdrs, want[i].nhdrs, "frame %zu", i);
		off += (uint32_t)rc;
	}
	cr_assert_eq(off, n);
	cr_assert_eq(sl_frame_dec_next(&d, &seg, 1, off, &f, &h), -EAGAIN);
}

/* Every prefix of a valid stream: the complete frames decode, the rest is "need more". */
Test(native_frame, every_truncated_prefix_is_need_more)
{
	static uint8_t b[4096];
	static char ref[NGOLD][4096];
	size_t n = 0, i, ends[NGOLD];
	uint32_t k;

	for (i = 0; i < NGOLD; i++) {
		n += gold(b + n, sizeof(b) - n, golden_frames[i]);
		ends[i] = n;
	}
	{
		struct sl_seg seg = {b, (uint32_t)n};
		static struct sl_frame_dec d;
		uint32_t off = 0;

		sl_frame_dec_init(&d, NULL);
		for (i = 0; i < NGOLD; i++) {
			int rc = frame_digest_dec(&d, &seg, 1, off, ref[i], sizeof(ref[i]));

			cr_assert_gt(rc, 0);
			off += (uint32_t)rc;
		}
	}
	for (k = 0; k <= n; k++) {
		struct sl_seg seg = {b, k};
		static struct sl_frame_dec d;
		uint32_t off = 0;

		sl_frame_dec_init(&d, NULL);
		for (i = 0; i < NGOLD; i++) {
			int rc = frame_digest_dec(&d, &seg, 1, off, digest_a, sizeof(digest_a));

			if (ends[i] > k) {
				cr_assert_eq(rc, -EAGAIN, "prefix %u frame %zu: %d", k, i, rc);
				break;
			}
			cr_assert_gt(rc, 0);
			cr_assert_str_eq(digest_a, ref[i]);
			off += (uint32_t)rc;
		}
	}
}

/* A frame of about 250 bytes with headers in every form and strings of every width. */
static size_t
big_frame(uint8_t *b, size_t cap)
{
	char spec[4096];
	size_t k = 0;
	int i;

	k += (size_t)snprintf(spec + k, sizeof(spec) - k,
			      "95 ce 00 0f 42 3f 00 93 a4 \"ping\" da 00 30 ");
	for (i = 0; i < 48; i++)
		k += (size_t)snprintf(spec + k, sizeof(spec) - k, "%02x ", i);
	k += (size_t)snprintf(spec + k, sizeof(spec) - k,
			      "c4 03 01 02 03 "
			      "96 "
			      "93 c3 a8 \"trace_id\" a8 01 02 03 04 05 06 07 08 "
			      "93 c3 a7 \"span_id\" d9 08 11 12 13 14 15 16 17 18 "
			      "53 54 "
			      "93 c2 53 c4 08 21 22 23 24 25 26 27 28 "
			      "93 c3 a6 \"x-user\" da 00 20 ");
	for (i = 0; i < 32; i++)
		k += (size_t)snprintf(spec + k, sizeof(spec) - k, "%02x ", 'a' + i % 26);
	snprintf(spec + k, sizeof(spec) - k, "92 01 02");
	return gold(b, cap, spec);
}

Test(native_frame, split_across_two_buffers_at_every_boundary)
{
	static uint8_t b[4096];
	size_t i;

	for (i = 0; i <= NGOLD; i++) {
		size_t n =
			i < NGOLD ? gold(b, sizeof(b), golden_frames[i]) : big_frame(b, sizeof(b));
		struct sl_seg one = {b, (uint32_t)n};
		uint32_t k;

		cr_assert_eq(frame_digest(&one, 1, 0, digest_a, sizeof(digest_a)), (int)n,
			     "frame %zu", i);
		for (k = 0; k <= n; k++) {
			struct sl_seg two[2] = {{b, k}, {b + k, (uint32_t)n - k}};

			cr_assert_eq(frame_digest(two, 2, 0, digest_b, sizeof(digest_b)), (int)n);
			cr_assert_str_eq(digest_a, digest_b, "frame %zu split at %u", i, k);
		}
	}
}

Test(native_frame, frames_under_300_bytes_across_three_buffers)
{
	static uint8_t b[4096];
	size_t i;

	for (i = 0; i <= NGOLD; i++) {
		size_t n =
			i < NGOLD ? gold(b, sizeof(b), golden_frames[i]) : big_frame(b, sizeof(b));
		struct sl_seg one = {b, (uint32_t)n};
		uint32_t j, k;

		cr_assert_lt(n, 300);
		cr_assert_eq(frame_digest(&one, 1, 0, digest_a, sizeof(digest_a)), (int)n);
		for (j = 0; j <= n; j++) {
			for (k = j; k <= n; k++) {
				struct sl_seg three[3] = {
					{b, j}, {b + j, k - j}, {b + k, (uint32_t)n - k}};

				cr_assert_eq(frame_digest(three, 3, 0, digest_b, sizeof(digest_b)),
					     (int)n);
				cr_assert_str_eq(digest_a, digest_b, "frame %zu split %u/%u", i, j,
						 k);
			}
		}
	}
}

Test(native_frame, resumes_as_segments_arrive)
{
	static uint8_t b[4096];
	static struct sl_seg segs[4096];
	static struct sl_frame_dec d;
	static struct sl_hdrs h;
	size_t n = big_frame(b, sizeof(b));
	struct sl_frame f;
	uint32_t i;

	memset(&f, 0, sizeof(f));
	sl_frame_dec_init(&d, NULL);
	for (i = 0; i < n; i++) {
		segs[i].p = b + i;
		segs[i].len = 1;
		cr_assert_eq(sl_frame_dec_next(&d, segs, i + 1, 0, &f, &h),
			     i + 1 == n ? (int)n : -EAGAIN, "byte %u", i);
	}
	cr_assert_eq(f.channel, 999999);
	cr_assert_eq(h.n, 6);
	/* the next frame in the same chain starts after this one */
	cr_assert_eq(sl_frame_dec_next(&d, segs, (uint32_t)n, (uint32_t)n, &f, &h), -EAGAIN);
}

Test(native_frame, not_a_frame_is_rejected_early)
{
	static const struct {
		const char *spec;
		int rc;
	} bad[] = {
		{"92", -EPROTO}, /* 2 elements, known from the first byte */
		{"90", -EPROTO},
		{"a3", -EPROTO},       /* a string, before its body arrives */
		{"81 01 02", -EPROTO}, /* a map */
		{"01", -EPROTO},
		{"dc 00 02", -EPROTO},	     /* array16 of 2, known from its header */
		{"94 01 00 a0 90", -EPROTO}, /* args not an array */
		{"94 01 00 90 c0", -EPROTO}, /* headers not an array */
		{"94 01 00 90 80", -EPROTO},
		{"93 a1 \"x\" 00 90", -EPROTO}, /* channel not an integer */
		{"93 ff 00 90", -EPROTO},	/* negative channel */
		{"93 01 d0 ff 90", -EPROTO},	/* negative type */
		{"93 01 c3 90", -EPROTO},
		{"93 01 00 c1", -EBADMSG}, /* not msgpack */
		{"c1", -EPROTO},
	};
	uint8_t b[64];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = gold(b, sizeof(b), bad[i].spec);
		struct sl_seg seg = {b, (uint32_t)n};
		struct sl_frame_dec d;
		struct sl_frame f;

		sl_frame_dec_init(&d, NULL);
		cr_assert_eq(sl_frame_dec_next(&d, &seg, 1, 0, &f, NULL), bad[i].rc, "%s",
			     bad[i].spec);
	}
}

/* Bombs: rejected from a few bytes, before anything is allocated (here or in msgpack-c). */
Test(native_frame, bombs_rejected_without_allocation)
{
	static const struct {
		const char *spec;
		int rc;
	} bombs[] = {
		{"94 01 00 dd ff ff ff ff", -E2BIG},	   /* 4G args */
		{"94 01 00 91 db ff ff ff ff", -EMSGSIZE}, /* a 4 GiB chunk */
		{"94 01 00 91 c6 ff ff ff ff", -EMSGSIZE}, /* a 4 GiB bin */
		{"94 01 00 91 df 00 10 00 00", -E2BIG},	   /* 1M pairs = 2M objects */
		{"dd ff ff ff ff", -E2BIG},		   /* a 4G-element frame */
		{"94 01 00 90 dd 00 ff ff ff", -E2BIG},	   /* 16M headers */
	};
	struct sl_mp_limits lim;
	uint8_t b[128];
	size_t i;
	int k;

	sl_mp_limits_default(&lim);
	for (i = 0; i < sizeof(bombs) / sizeof(bombs[0]); i++) {
		size_t n = gold(b, sizeof(b), bombs[i].spec);
		struct sl_seg seg = {b, (uint32_t)n};
		struct sl_frame_dec d;
		struct sl_frame f;
		msgpack_zone z;
		msgpack_object o;

		sl_frame_dec_init(&d, NULL);
		msgpack_zone_init(&z, 1024);
		alloc_arm();
		cr_assert_eq(sl_frame_dec_next(&d, &seg, 1, 0, &f, NULL), bombs[i].rc, "%s",
			     bombs[i].spec);
		cr_assert_eq(sl_mpc_unpack(b, n, &lim, &z, &o), bombs[i].rc, "%s", bombs[i].spec);
		cr_assert_eq(alloc_disarm(), 0, "%s allocated", bombs[i].spec);
		msgpack_zone_destroy(&z);
	}
	/* deep nesting in the args */
	for (k = 0; k < 64; k++)
		b[k] = k < 3 ? (uint8_t[]){0x94, 0x01, 0x00}[k] : 0x91;
	{
		struct sl_seg seg = {b, 64};
		struct sl_frame_dec d;
		struct sl_frame f;

		sl_frame_dec_init(&d, NULL);
		alloc_arm();
		cr_assert_eq(sl_frame_dec_next(&d, &seg, 1, 0, &f, NULL), -ELOOP);
		cr_assert_eq(alloc_disarm(), 0);
	}
	/* with counts unlimited, a huge args array cannot fit in 16 MiB: at once */
	lim.max_count = UINT32_MAX;
	lim.max_objects = UINT32_MAX;
	{
		size_t n = gold(b, sizeof(b), "94 01 00 dd 01 00 00 00");
		struct sl_seg seg = {b, (uint32_t)n};
		struct sl_frame_dec d;
		struct sl_frame f;

		sl_frame_dec_init(&d, &lim);
		alloc_arm();
		cr_assert_eq(sl_frame_dec_next(&d, &seg, 1, 0, &f, NULL), -EMSGSIZE);
		cr_assert_eq(alloc_disarm(), 0);
	}
}

Test(native_frame, oversize_frame_rejected_at_its_header)
{
	struct sl_mp_limits lim;
	uint8_t b[128];
	size_t n;
	struct sl_seg seg;
	struct sl_frame_dec d;
	struct sl_frame f;

	sl_mp_limits_default(&lim);
	lim.max_frame = 64;
	/* [1, 0, [<60-byte string>]]: 4 + 3 + 60 = 67 > 64, known after 7 bytes */
	n = gold(b, sizeof(b), "93 01 00 91 da 00 3c");
	seg.p = b;
	seg.len = (uint32_t)n;
	sl_frame_dec_init(&d, &lim);
	cr_assert_eq(sl_frame_dec_next(&d, &seg, 1, 0, &f, NULL), -EMSGSIZE);
	/* 56 bytes: 63, fits: need more until complete */
	n = gold(b, sizeof(b), "93 01 00 91 da 00 38");
	memset(b + n, 'x', 56);
	sl_frame_dec_init(&d, &lim);
	seg.len = (uint32_t)n;
	cr_assert_eq(sl_frame_dec_next(&d, &seg, 1, 0, &f, NULL), -EAGAIN);
	seg.len = (uint32_t)n + 56;
	cr_assert_eq(sl_frame_dec_next(&d, &seg, 1, 0, &f, NULL), 63);
}

Test(native_frame, too_many_headers_is_enobufs)
{
	static uint8_t b[4096];
	static struct sl_hdrs h;
	struct sl_frame_dec d;
	struct sl_frame f;
	struct sl_seg seg;
	size_t n;
	int i;

	n = gold(b, sizeof(b), "94 01 00 90 dc 00 41");
	for (i = 0; i < 65; i++)
		b[n++] = 0x50; /* bare index 80 */
	seg.p = b;
	seg.len = (uint32_t)n;
	sl_frame_dec_init(&d, NULL);
	cr_assert_eq(sl_frame_dec_next(&d, &seg, 1, 0, &f, &h), -ENOBUFS);
	/* without an output the table is still kept, and no limit applies */
	sl_frame_dec_init(&d, NULL);
	cr_assert_eq(sl_frame_dec_next(&d, &seg, 1, 0, &f, NULL), (int)n);
}

static void
expect_bytes(const struct sl_mp_w *w, const char *spec)
{
	uint8_t want[256];
	size_t n = gold(want, sizeof(want), spec);

	cr_assert_eq(w->err, 0);
	cr_assert_eq(w->len, n, "got %s want %s", hex(w->p, w->len), spec);
	cr_assert_eq(memcmp(w->p, want, n), 0, "got %s want %s", hex(w->p, w->len), spec);
}

Test(native_frame, encoder_reproduces_the_doc_bytes)
{
	uint8_t out[256];
	struct sl_mp_w w;
	uint8_t one[8];
	struct sl_hdr h;

	/* 4.2 (3-element frames) */
	sl_mp_w_init(&w, out, sizeof(out));
	sl_frame_enc_raw1(&w, 5, SL_APP_ENQUEUE, "ping", 4, NULL, SL_FRAME_NO_HEADERS);
	expect_bytes(&w, "93 05 00 91 a4 \"ping\"");
	sl_mp_w_init(&w, out, sizeof(out));
	sl_frame_enc_raw1(&w, 5, SL_STREAM_WRITE, "hello", 5, NULL, SL_FRAME_NO_HEADERS);
	expect_bytes(&w, "93 05 00 91 a5 \"hello\"");
	sl_mp_w_init(&w, out, sizeof(out));
	sl_frame_enc_empty(&w, 5, SL_STREAM_CLOSE, NULL, SL_FRAME_NO_HEADERS);
	expect_bytes(&w, "93 05 02 90");
	/* 1.3 and 12a.1: 4 elements with an empty header array */
	sl_mp_w_init(&w, out, sizeof(out));
	sl_frame_enc_raw1(&w, 1, SL_LOCATOR_RESOLVE, "storage", 7, NULL, 0);
	expect_bytes(&w, "94 01 00 91 a7 73 74 6f 72 61 67 65 90");
	/* 1.4: the plain header form */
	sl_hdr_le64(one, 1);
	h = sl_hdr_make("trace_id", one, 8);
	sl_mp_w_init(&w, out, sizeof(out));
	sl_frame_enc_raw1(&w, 1, SL_APP_ENQUEUE, "ping", 4, &h, 1);
	expect_bytes(&w,
		     "94 01 00 91 a4 \"ping\" 91 93 c2 a8 \"trace_id\" a8 01 00 00 00 00 00 00 00");
	/* 5.3: heartbeat [1, 0, []] */
	sl_mp_w_init(&w, out, sizeof(out));
	sl_frame_enc_empty(&w, SL_WORKER_CONTROL_CHANNEL, SL_CONTROL_HEARTBEAT, NULL,
			   SL_FRAME_NO_HEADERS);
	expect_bytes(&w, "93 01 00 90");
	/* 12a.4: channel 999999 */
	sl_mp_w_init(&w, out, sizeof(out));
	sl_frame_enc_raw1(&w, 999999, SL_LOCATOR_RESOLVE, "logging", 7, NULL, SL_FRAME_NO_HEADERS);
	expect_bytes(&w, "93 ce 00 0f 42 3f 00 91 a7 \"logging\"");
}

Test(native_frame, encoder_output_decodes_back)
{
	static uint8_t out[1 << 17];
	static uint8_t body[70000];
	static struct sl_hdrs hd;
	struct sl_hdr h[3];
	uint8_t t[3][8];
	struct sl_frame_dec d;
	struct sl_frame f;
	struct sl_mp_raw r;
	struct sl_mp_w w;
	struct sl_seg seg;
	int i;

	for (i = 0; i < 3; i++)
		sl_hdr_le64(t[i], 0x1122334455667700ull + (uint64_t)i);
	h[0] = sl_hdr_make("trace_id", t[0], 8);
	h[1] = sl_hdr_make("span_id", t[1], 8);
	h[2] = sl_hdr_make("parent_id", t[2], 8);
	memset(body, 'z', sizeof(body));
	sl_mp_w_init(&w, out, sizeof(out));
	sl_frame_enc_raw1(&w, 3, SL_STREAM_WRITE, body, sizeof(body), h, 3);
	cr_assert_eq(w.err, 0);
	seg.p = out;
	seg.len = w.len;
	sl_frame_dec_init(&d, NULL);
	cr_assert_eq(sl_frame_dec_next(&d, &seg, 1, 0, &f, &hd), (int)w.len);
	cr_assert_eq(sl_mp_read_raw(&f.args, &r), 0);
	cr_assert_eq(r.len, sizeof(body));
	cr_assert_eq(out[4], 0xdb, "a 70000-byte chunk uses raw32");
	cr_assert_eq(hd.n, 3);
	for (i = 0; i < 3; i++) {
		uint64_t v;

		cr_assert_eq(sl_hdr_u64(&hd.h[i], &v), 0);
		cr_assert_eq(v, 0x1122334455667700ull + (uint64_t)i);
	}
	cr_assert_eq(sl_hpack_count(&d.rx), 0, "[false, ...] is never stored");
}
