/*
 * dataplane/native/err.c: errors [[category, code], message] (cocaine-protocol.md 6.3, 12a.6).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "native.h"

static int
dec_err(const char *spec, struct sl_err *e, struct sl_mp_raw *msg)
{
	static uint8_t b[256];
	static struct sl_seg seg;
	struct sl_frame_dec d;
	struct sl_frame f;
	size_t n = gold(b, sizeof(b), spec);

	seg.p = b;
	seg.len = (uint32_t)n;
	sl_frame_dec_init(&d, NULL);
	cr_assert_eq(sl_frame_dec_next(&d, &seg, 1, 0, &f, NULL), (int)n, "%s", spec);
	return sl_err_dec_args(&f.args, f.nargs, e, msg);
}

Test(native_err, golden_worker_error)
{
	struct sl_err e;
	struct sl_mp_raw m;

	/* 5.3: [n,1,[[-100,100],"test_err"]] */
	cr_assert_eq(dec_err("93 02 01 92 92 d0 9c 64 a8 \"test_err\"", &e, &m), 0);
	cr_assert_eq(e.cat, -100);
	cr_assert_eq(e.code, 100);
	cr_assert(sl_mp_raw_eq(&m, "test_err", 8));
}

Test(native_err, encode_matches_the_doc)
{
	static const struct sl_err e = {-100, 100};
	static const struct sl_err q = {SL_ECAT_OVERSEER, SL_EOVERSEER_QUEUE_IS_FULL};
	uint8_t out[128], want[128];
	struct sl_mp_w w;
	size_t n;

	sl_mp_w_init(&w, out, sizeof(out));
	sl_frame_enc_error(&w, 2, SL_STREAM_ERROR, &e, "test_err", 8, NULL, SL_FRAME_NO_HEADERS);
	n = gold(want, sizeof(want), "93 02 01 92 92 d0 9c 64 a8 \"test_err\"");
	cr_assert_eq(w.len, n, "%s", hex(out, w.len));
	cr_assert_eq(memcmp(out, want, n), 0, "%s", hex(out, w.len));
	/* 4.2: queue full [[0x52FF, 1], "queue is full"] on a 4-element frame */
	sl_mp_w_init(&w, out, sizeof(out));
	sl_frame_enc_error(&w, 7, SL_STREAM_ERROR, &q, "queue is full", 13, NULL, 0);
	n = gold(want, sizeof(want), "94 07 01 92 92 cd 52 ff 01 ad \"queue is full\" 90");
	cr_assert_eq(w.len, n, "%s", hex(out, w.len));
	cr_assert_eq(memcmp(out, want, n), 0, "%s", hex(out, w.len));
}

Test(native_err, lenient_decoding)
{
	struct sl_err e;
	struct sl_mp_raw m;

	/* message absent */
	cr_assert_eq(dec_err("93 01 01 91 92 06 01", &e, &m), 0);
	cr_assert_eq(e.cat, SL_ECAT_TRANSPORT);
	cr_assert_eq(e.code, SL_ETRANSPORT_FRAME_FORMAT);
	cr_assert_eq(m.len, 0);
	/* the 0.12.0 form [code, message] */
	cr_assert_eq(dec_err("93 01 01 92 05 a3 \"old\"", &e, &m), 0);
	cr_assert_eq(e.cat, SL_ECAT_LEGACY);
	cr_assert_eq(e.code, 5);
	cr_assert(sl_mp_raw_eq(&m, "old", 3));
	/* a str8 message from a modern peer */
	cr_assert_eq(dec_err("93 01 01 92 92 0a 01 d9 02 \"na\"", &e, &m), 0);
	cr_assert(sl_err_is_unavailable(&e));
	/* not errors */
	cr_assert_eq(dec_err("93 01 01 90", &e, &m), -EPROTO);
	cr_assert_eq(dec_err("93 01 01 91 a1 \"x\"", &e, &m), -EPROTO);
	cr_assert_eq(dec_err("93 01 01 91 93 01 02 03", &e, &m), -EPROTO);
	cr_assert_eq(dec_err("93 01 01 92 92 01 02 03", &e, &m), -EPROTO);
	cr_assert_eq(dec_err("93 01 01 91 92 01 c0", &e, &m), -EPROTO);
}

Test(native_err, classification_as_the_proxies_do)
{
	static const struct {
		struct sl_err e;
		int queue, restarted, unavailable;
	} cases[] = {
		{{0x52ff, 1}, 1, 0, 0}, {{0xff, 1}, 1, 0, 1}, {{0x0c, 32}, 0, 1, 0},
		{{0xff, 32}, 0, 1, 0},	{{0x0a, 1}, 0, 0, 1}, {{0x52ff, 2}, 0, 0, 0},
		{{0x01, 32}, 0, 0, 0},	{{42, 200}, 0, 0, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(sl_err_is_queue_full(&cases[i].e), cases[i].queue, "case %zu", i);
		cr_assert_eq(sl_err_is_app_restarted(&cases[i].e), cases[i].restarted, "case %zu",
			     i);
		cr_assert_eq(sl_err_is_unavailable(&cases[i].e), cases[i].unavailable, "case %zu",
			     i);
	}
}

Test(native_err, errno_mapping_and_names)
{
	static const struct {
		int err;
		int64_t cat, code;
	} map[] = {
		{-EBADMSG, 6, 4}, {-EMSGSIZE, 6, 4}, {-E2BIG, 6, 4},   {-ELOOP, 6, 4},
		{-EPROTO, 6, 1},  {-EILSEQ, 6, 2},   {-ENOBUFS, 6, 2}, {-EPIPE, 7, 4},
		{-ENOENT, 7, 5},  {-ENOTCONN, 7, 6}, {-ENOSPC, 7, 7},
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		struct sl_err e = sl_err_from_errno(map[i].err);

		cr_assert_eq(e.cat, map[i].cat, "errno %d", map[i].err);
		cr_assert_eq(e.code, map[i].code, "errno %d", map[i].err);
	}
	cr_assert_str_eq(sl_err_cat_name(SL_ECAT_OVERSEER), "node.overseer");
	cr_assert_str_eq(sl_err_cat_name(0x1234), "unknown");
}
