/*
 * dataplane/native/mp.c: the scanner, the cursor and the old-spec encoder, with msgpack-c
 * as the oracle. Byte strings are written from the msgpack spec by hand.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <msgpack.h>

#include "helpers.h"
#include "native-mp.h"
#include "native-mpc.h"
#include "sl_util.h"

/* Complete objects of every kind, each with its length. */
static const char *const objects[] = {
	"00",
	"7f",
	"e0",
	"ff",
	"c0",
	"c2",
	"c3",
	"cc ff",
	"cd 01 00",
	"ce 00 01 00 00",
	"cf 00 00 00 01 00 00 00 00",
	"d0 80",
	"d1 80 00",
	"d2 80 00 00 00",
	"d3 80 00 00 00 00 00 00 00",
	"ca 3f 80 00 00",
	"cb 3f f0 00 00 00 00 00 00",
	"a0",
	"a3 \"abc\"",
	"d9 03 \"abc\"",
	"da 00 03 \"abc\"",
	"db 00 00 00 03 \"abc\"",
	"c4 02 01 02",
	"c5 00 01 ff",
	"c6 00 00 00 00",
	"d4 01 aa",
	"d5 01 aa bb",
	"d6 01 aa bb cc dd",
	"d7 01 00 00 00 00 00 00 00 00",
	"d8 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
	"c7 02 05 aa bb",
	"c8 00 01 05 aa",
	"c9 00 00 00 00 05",
	"90",
	"91 01",
	"80",
	"81 01 02",
	"dc 00 01 01",
	"dd 00 00 00 01 c0",
	"de 00 01 01 02",
	"df 00 00 00 01 a1 \"k\" 90",
	"92 91 90 81 a1 \"k\" 92 c0 c3",
	"93 01 00 91 a4 \"ping\"",
	"9f 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e",
};

static void
limits_wide(struct sl_mp_limits *lim)
{
	sl_mp_limits_default(lim);
	lim->max_count = UINT32_MAX;
	lim->max_objects = UINT32_MAX;
}

Test(native_mp, scan_every_kind_and_agree_with_msgpack_c)
{
	struct sl_mp_limits lim;
	uint8_t b[64];
	size_t i;

	sl_mp_limits_default(&lim);
	for (i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		size_t n = gold(b, sizeof(b), objects[i]);
		msgpack_zone z;
		msgpack_object o;
		size_t off = 0;
		uint32_t k;

		cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)n, &lim), (int)n, "%s", objects[i]);
		/* every truncated prefix is "need more" */
		for (k = 0; k < n; k++)
			cr_assert_eq(sl_mp_scan_flat(b, k, &lim), -EAGAIN, "%s[:%u]", objects[i],
				     k);
		/* the oracle consumes the same bytes */
		msgpack_zone_init(&z, 1024);
		cr_assert_eq(msgpack_unpack((const char *)b, n, &off, &z, &o),
			     MSGPACK_UNPACK_SUCCESS, "%s", objects[i]);
		cr_assert_eq(off, n);
		msgpack_zone_destroy(&z);
	}
}

Test(native_mp, scan_trailing_bytes_are_not_consumed)
{
	struct sl_mp_limits lim;
	uint8_t b[16];
	size_t n = gold(b, sizeof(b), "92 01 02 93 ff");

	sl_mp_limits_default(&lim);
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)n, &lim), 3);
}

Test(native_mp, scan_rejects_invalid_bytes)
{
	struct sl_mp_limits lim;
	uint8_t b[16];

	sl_mp_limits_default(&lim);
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)gold(b, sizeof(b), "c1"), &lim), -EBADMSG);
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)gold(b, sizeof(b), "92 01 c1"), &lim), -EBADMSG);
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)gold(b, sizeof(b), "81 c1 00"), &lim), -EBADMSG);
}

Test(native_mp, old_spec_flag_rejects_new_types)
{
	static const char *const newspec[] = {
		"d9 01 \"a\"",
		"c4 01 00",
		"c5 00 00",
		"c6 00 00 00 00",
		"c7 00 01",
		"c8 00 00 01",
		"c9 00 00 00 00 01",
		"d4 01 00",
		"d8 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
		"91 d9 00"};
	struct sl_mp_limits lim;
	uint8_t b[32];
	size_t i;

	sl_mp_limits_default(&lim);
	lim.flags = SL_MP_F_OLD_SPEC;
	for (i = 0; i < sizeof(newspec) / sizeof(newspec[0]); i++) {
		size_t n = gold(b, sizeof(b), newspec[i]);

		cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)n, &lim), -EBADMSG, "%s", newspec[i]);
	}
	/* old-spec raw forms pass */
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)gold(b, sizeof(b), "da 00 01 \"a\""), &lim), 4);
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)gold(b, sizeof(b), "db 00 00 00 01 \"a\""), &lim),
		     6);
}

Test(native_mp, bombs_are_rejected_from_the_header_alone)
{
	struct sl_mp_limits lim;
	uint8_t b[64];
	size_t n;
	int i;

	sl_mp_limits_default(&lim);
	alloc_arm();
	/* 2^32-1 elements in 5 bytes: over max_count at once */
	n = gold(b, sizeof(b), "dd ff ff ff ff");
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)n, &lim), -E2BIG);
	/* 2^20 pairs: within max_count but 2^21 objects exceed max_objects */
	n = gold(b, sizeof(b), "df 00 10 00 00");
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)n, &lim), -E2BIG);
	/* a 4 GiB string: cannot fit in 16 MiB */
	n = gold(b, sizeof(b), "db ff ff ff ff");
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)n, &lim), -EMSGSIZE);
	n = gold(b, sizeof(b), "c6 01 00 00 00");
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)n, &lim), -EMSGSIZE);
	n = gold(b, sizeof(b), "c9 01 00 00 00 01");
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)n, &lim), -EMSGSIZE);
	/* with counts unlimited, the size limit catches a huge array at once */
	limits_wide(&lim);
	n = gold(b, sizeof(b), "dd 7f ff ff ff");
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)n, &lim), -EMSGSIZE);
	/* depth: 32 nested arrays with a scalar inside are fine, a 33rd container is not */
	for (i = 0; i < 32; i++)
		b[i] = 0x91;
	b[32] = 0x00;
	cr_assert_eq(sl_mp_scan_flat(b, 33, &lim), 33);
	b[32] = 0x90;
	cr_assert_eq(sl_mp_scan_flat(b, 33, &lim), -ELOOP);
	for (i = 0; i < 40; i++)
		b[i] = 0x81; /* maps nest through their values... and keys */
	cr_assert_eq(sl_mp_scan_flat(b, 40, &lim), -ELOOP);
	cr_assert_eq(alloc_disarm(), 0);
}

Test(native_mp, declared_sizes_that_cannot_fit_fail_at_once)
{
	struct sl_mp_limits lim;
	uint8_t b[256];
	size_t n;

	sl_mp_limits_default(&lim);
	lim.max_frame = 16;
	/* 15 one-byte elements after a 1-byte header: 16 bytes, may fit: need more */
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)gold(b, sizeof(b), "9f"), &lim), -EAGAIN);
	/* 16 elements after a 3-byte header: at least 19 bytes */
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)gold(b, sizeof(b), "dc 00 10"), &lim), -EMSGSIZE);
	/* a 13-byte string in an array of 2: 1 + 1 + 13 + 1 owed = 16: fine */
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)gold(b, sizeof(b), "92 ad"), &lim), -EAGAIN);
	/* 14 bytes: 17, too big, known from the string's header byte */
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)gold(b, sizeof(b), "92 ae"), &lim), -EMSGSIZE);
	/* the owed elements of outer containers count too */
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)gold(b, sizeof(b), "9f 9f"), &lim), -EMSGSIZE);
	/* exactly at the limit completes */
	n = gold(b, sizeof(b), "9f 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)n, &lim), 16);
}

/* A bigger object for split tests: nested, with strings of every header size. */
static size_t
big_object(uint8_t *b, size_t cap)
{
	char spec[2048];
	size_t k = 0;
	int i;

	k += (size_t)snprintf(spec + k, sizeof(spec) - k,
			      "94 cf 00 00 00 00 00 0f 42 3f d3 00 00 00 00 00 00 00 02 "
			      "93 d9 05 \"hello\" c4 03 01 02 03 da 00 28 ");
	for (i = 0; i < 40; i++)
		k += (size_t)snprintf(spec + k, sizeof(spec) - k, "%02x ", 'a' + i % 26);
	snprintf(spec + k, sizeof(spec) - k,
		 "82 01 92 c3 c2 a1 \"x\" de 00 01 cb 3f f0 00 00 00 00 00 00 c0");
	return gold(b, cap, spec);
}

Test(native_mp, scan_split_at_every_boundary)
{
	struct sl_mp_limits lim;
	uint8_t b[512];
	size_t n = big_object(b, sizeof(b));
	uint32_t i, j;

	sl_mp_limits_default(&lim);
	cr_assert_eq(sl_mp_scan_flat(b, (uint32_t)n, &lim), (int)n);
	for (i = 0; i <= n; i++) {
		struct sl_seg s2[2] = {{b, i}, {b + i, (uint32_t)n - i}};
		struct sl_mp_scan s;

		sl_mp_scan_init(&s);
		cr_assert_eq(sl_mp_scan(&s, &lim, s2, 2, 0), (int)n, "split %u", i);
		/* resume: first only the first buffer, then both */
		sl_mp_scan_init(&s);
		if (i < n)
			cr_assert_eq(sl_mp_scan(&s, &lim, s2, 1, 0), -EAGAIN);
		cr_assert_eq(sl_mp_scan(&s, &lim, s2, 2, 0), (int)n, "resume %u", i);
		for (j = i; j <= n; j++) {
			struct sl_seg s3[3] = {{b, i}, {b + i, j - i}, {b + j, (uint32_t)n - j}};

			sl_mp_scan_init(&s);
			if (j < n)
				cr_assert_eq(sl_mp_scan(&s, &lim, s3, 2, 0), -EAGAIN);
			cr_assert_eq(sl_mp_scan(&s, &lim, s3, 3, 0), (int)n, "split %u %u", i, j);
		}
	}
}

Test(native_mp, scan_resumes_byte_by_byte)
{
	struct sl_mp_limits lim;
	static struct sl_seg segs[512];
	static uint8_t b[512];
	size_t n = big_object(b, sizeof(b));
	struct sl_mp_scan s, g;
	uint32_t i;

	sl_mp_limits_default(&lim);
	sl_mp_scan_init(&s);
	sl_mp_scan_init(&g);
	for (i = 0; i < n; i++) {
		struct sl_seg grow = {b, i + 1};

		/* one new 1-byte segment per call */
		segs[i].p = b + i;
		segs[i].len = 1;
		cr_assert_eq(sl_mp_scan(&s, &lim, segs, i + 1, 0), i + 1 == n ? (int)n : -EAGAIN);
		/* one segment growing in place */
		cr_assert_eq(sl_mp_scan(&g, &lim, &grow, 1, 0), i + 1 == n ? (int)n : -EAGAIN);
	}
}

Test(native_mp, scan_waits_for_a_large_body_then_completes)
{
	struct sl_mp_limits lim;
	static uint8_t b[100005];
	static struct sl_seg segs[101];
	struct sl_mp_scan s;
	uint32_t i;

	sl_mp_limits_default(&lim);
	b[0] = 0xdb;
	sl_wr_be32(b + 1, 100000);
	for (i = 0; i < 101; i++) {
		segs[i].p = b + i * 1000;
		segs[i].len = i == 100 ? 5 : 1000;
	}
	sl_mp_scan_init(&s);
	for (i = 1; i <= 100; i++)
		cr_assert_eq(sl_mp_scan(&s, &lim, segs, i, 0), -EAGAIN);
	cr_assert_eq(sl_mp_scan(&s, &lim, segs, 101, 0), 100005);
}

Test(native_mp, scan_at_an_offset_in_a_chain)
{
	struct sl_mp_limits lim;
	uint8_t b[64];
	size_t n = gold(b, sizeof(b), "01 02 03 92 a2 \"ab\" 90 05");
	struct sl_seg segs[3] = {{b, 2}, {b + 2, 3}, {b + 5, (uint32_t)n - 5}};
	struct sl_mp_scan s;

	sl_mp_limits_default(&lim);
	sl_mp_scan_init(&s);
	cr_assert_eq(sl_mp_scan(&s, &lim, segs, 3, 3), 5);
	cr_assert_eq(s.nmarks, 2);
	cr_assert_eq(s.marks[0], 1);
	cr_assert_eq(s.marks[1], 4);
}

Test(native_mp, cursor_reads_integers_of_every_width)
{
	static const struct {
		const char *spec;
		uint64_t u;
	} uints[] = {
		{"00", 0},
		{"7f", 127},
		{"cc 80", 128},
		{"cd ff ff", 65535},
		{"ce ff ff ff ff", UINT32_MAX},
		{"cf ff ff ff ff ff ff ff ff", UINT64_MAX},
		{"d0 05", 5}, /* signed encodings of non-negative values are positive integers */
		{"d3 00 00 00 00 00 00 00 50", 80},
		{"cf 00 00 00 00 00 00 00 50", 80},
	};
	uint8_t b[16];
	size_t i;

	for (i = 0; i < sizeof(uints) / sizeof(uints[0]); i++) {
		size_t n = gold(b, sizeof(b), uints[i].spec);
		struct sl_seg seg = {b, (uint32_t)n};
		struct sl_mp_cur c;
		uint64_t u;

		cr_assert_eq(sl_mp_cur_init(&c, &seg, 1, 0, (uint32_t)n), 0);
		cr_assert_eq(sl_mp_read_uint(&c, &u), 0, "%s", uints[i].spec);
		cr_assert_eq(u, uints[i].u, "%s", uints[i].spec);
		cr_assert_eq(c.left, 0);
	}
}

Test(native_mp, cursor_signed_and_errors)
{
	uint8_t b[32];
	size_t n = gold(b, sizeof(b),
			"ff d3 80 00 00 00 00 00 00 00 cf 80 00 00 00 00 00 00 00 a1 \"x\"");
	struct sl_seg seg = {b, (uint32_t)n};
	struct sl_mp_cur c, saved;
	struct sl_mp_raw r;
	int64_t i;
	uint64_t u;

	sl_mp_cur_init(&c, &seg, 1, 0, (uint32_t)n);
	cr_assert_eq(sl_mp_read_uint(&c, &u), -ENOMSG); /* -1 is not a uint */
	cr_assert_eq(sl_mp_read_int(&c, &i), 0);
	cr_assert_eq(i, -1);
	cr_assert_eq(sl_mp_read_int(&c, &i), 0);
	cr_assert_eq(i, INT64_MIN);
	saved = c;
	cr_assert_eq(sl_mp_read_int(&c, &i), -ERANGE);
	cr_assert_eq(memcmp(&saved, &c, sizeof(c)), 0, "a failed read leaves the cursor");
	cr_assert_eq(sl_mp_read_uint(&c, &u), 0);
	cr_assert_eq(u, 1ull << 63);
	cr_assert_eq(sl_mp_read_array(&c, &(uint32_t){0}), -ENOMSG);
	cr_assert_eq(sl_mp_read_raw(&c, &r), 0);
	cr_assert(sl_mp_raw_eq(&r, "x", 1));
	cr_assert_eq(sl_mp_read_nil(&c), -EBADMSG); /* nothing left */
	/* a view shorter than the object */
	sl_mp_cur_init(&c, &seg, 1, 1, 5);
	cr_assert_eq(sl_mp_read_int(&c, &i), -EBADMSG);
	cr_assert_eq(sl_mp_cur_init(&c, &seg, 1, 1, (uint32_t)n), -EINVAL);
}

Test(native_mp, raw_views_across_segments)
{
	uint8_t b[64];
	size_t n = gold(b, sizeof(b), "92 ab \"hello world\" c4 02 01 02");
	struct sl_seg segs[4] = {{b, 3}, {b + 3, 0}, {b + 3, 5}, {b + 8, (uint32_t)n - 8}};
	struct sl_mp_cur c;
	struct sl_mp_raw r, it;
	const uint8_t *p;
	char out[16];
	uint32_t k, total = 0, pieces = 0;

	sl_mp_cur_init(&c, segs, 4, 0, (uint32_t)n);
	cr_assert_eq(sl_mp_read_array(&c, &k), 0);
	cr_assert_eq(k, 2);
	cr_assert_eq(sl_mp_read_raw(&c, &r), 0);
	cr_assert_eq(r.len, 11);
	cr_assert_null(r.p, "split string has no contiguous pointer");
	cr_assert(sl_mp_raw_eq(&r, "hello world", 11));
	cr_assert_not(sl_mp_raw_eq(&r, "hello worle", 11));
	cr_assert_eq(sl_mp_raw_copy(&r, out, sizeof(out)), 11);
	cr_assert_eq(memcmp(out, "hello world", 11), 0);
	cr_assert_eq(sl_mp_raw_copy(&r, out, 5), -ENOBUFS);
	it = r;
	while (sl_mp_raw_piece(&it, &p, &k)) {
		cr_assert_eq(memcmp(p, &"hello world"[total], k), 0);
		total += k;
		pieces++;
	}
	cr_assert_eq(total, 11);
	cr_assert_eq(pieces, 3);
	cr_assert_eq(sl_mp_read_raw(&c, &r), 0, "bin is a raw string too");
	cr_assert_eq(r.len, 2);
	cr_assert_not_null(r.p);
	cr_assert_eq(c.left, 0);
}

Test(native_mp, skip_whole_objects)
{
	uint8_t b[64];
	size_t n = gold(b, sizeof(b), "91 82 01 92 c3 c2 a1 \"x\" dc 00 02 90 80 2a");
	struct sl_seg seg = {b, (uint32_t)n};
	struct sl_mp_cur c;
	uint64_t u;

	sl_mp_cur_init(&c, &seg, 1, 0, (uint32_t)n);
	cr_assert_eq(sl_mp_skip(&c), 0);
	cr_assert_eq(sl_mp_read_uint(&c, &u), 0);
	cr_assert_eq(u, 42);
	/* a count that cannot be in the view is malformed, not a long loop */
	n = gold(b, sizeof(b), "dd ff ff ff ff 00");
	seg.len = (uint32_t)n;
	sl_mp_cur_init(&c, &seg, 1, 0, (uint32_t)n);
	cr_assert_eq(sl_mp_skip(&c), -EBADMSG);
}

static void
expect_w(void (*fn)(struct sl_mp_w *, uint64_t), uint64_t v, const char *spec)
{
	uint8_t out[16], want[16];
	struct sl_mp_w w;
	size_t n = gold(want, sizeof(want), spec);

	sl_mp_w_init(&w, out, sizeof(out));
	fn(&w, v);
	cr_assert_eq(w.err, 0);
	cr_assert_eq(w.len, n, "%llu: %s", (unsigned long long)v, hex(out, w.len));
	cr_assert_eq(memcmp(out, want, n), 0, "%llu: got %s want %s", (unsigned long long)v,
		     hex(out, w.len), spec);
}

static void
w_uint(struct sl_mp_w *w, uint64_t v)
{
	sl_mp_w_uint(w, v);
}

static void
w_int(struct sl_mp_w *w, uint64_t v)
{
	sl_mp_w_int(w, (int64_t)v);
}

static void
w_rawhdr(struct sl_mp_w *w, uint64_t v)
{
	sl_mp_w_raw_hdr(w, (uint32_t)v);
}

static void
w_array(struct sl_mp_w *w, uint64_t v)
{
	sl_mp_w_array(w, (uint32_t)v);
}

static void
w_map(struct sl_mp_w *w, uint64_t v)
{
	sl_mp_w_map(w, (uint32_t)v);
}

Test(native_mp, encoder_smallest_forms_old_spec)
{
	expect_w(w_uint, 0, "00");
	expect_w(w_uint, 127, "7f");
	expect_w(w_uint, 128, "cc 80");
	expect_w(w_uint, 255, "cc ff");
	expect_w(w_uint, 256, "cd 01 00");
	expect_w(w_uint, 53000, "cd cf 08"); /* the port of section 2.3's example */
	expect_w(w_uint, 65536, "ce 00 01 00 00");
	expect_w(w_uint, 999999, "ce 00 0f 42 3f");
	expect_w(w_uint, 1ull << 32, "cf 00 00 00 01 00 00 00 00");
	expect_w(w_int, (uint64_t)-1, "ff");
	expect_w(w_int, (uint64_t)-32, "e0");
	expect_w(w_int, (uint64_t)-33, "d0 df");
	expect_w(w_int, (uint64_t)-100, "d0 9c");
	expect_w(w_int, (uint64_t)-128, "d0 80");
	expect_w(w_int, (uint64_t)-129, "d1 ff 7f");
	expect_w(w_int, (uint64_t)-32769, "d2 ff ff 7f ff");
	expect_w(w_int, (uint64_t)INT64_MIN, "d3 80 00 00 00 00 00 00 00");
	expect_w(w_int, 0x52ff, "cd 52 ff");
	/* raw: fixraw, then raw16 0xda (never str8 0xd9), raw32 0xdb */
	expect_w(w_rawhdr, 0, "a0");
	expect_w(w_rawhdr, 31, "bf");
	expect_w(w_rawhdr, 32, "da 00 20");
	expect_w(w_rawhdr, 255, "da 00 ff");
	expect_w(w_rawhdr, 65535, "da ff ff");
	expect_w(w_rawhdr, 65536, "db 00 01 00 00");
	expect_w(w_array, 15, "9f");
	expect_w(w_array, 16, "dc 00 10");
	expect_w(w_array, 65536, "dd 00 01 00 00");
	expect_w(w_map, 15, "8f");
	expect_w(w_map, 16, "de 00 10");
	expect_w(w_map, 65536, "df 00 01 00 00");
}

Test(native_mp, encoder_errors_stick)
{
	uint8_t out[4];
	struct sl_mp_w w;

	uint32_t len;

	sl_mp_w_init(&w, out, sizeof(out));
	sl_mp_w_raw(&w, "abcdef", 6);
	cr_assert_eq(w.err, -ENOBUFS);
	len = w.len;
	sl_mp_w_nil(&w); /* would fit, but the output is already broken */
	cr_assert_eq(w.err, -ENOBUFS);
	cr_assert_eq(w.len, len, "nothing is written after a failure");
}

/* Random trees packed by msgpack-c: the scanner agrees on the length, and our re-encoding
 * decodes (by msgpack-c) to an equal object. */
static void
rand_obj(msgpack_packer *pk, unsigned *seed, int depth)
{
	static const char text[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned k = (unsigned)rand_r(seed) % (depth > 6 ? 7 : 9);
	unsigned n, i;

	switch (k) {
	case 0:
		msgpack_pack_nil(pk);
		break;
	case 1:
		msgpack_pack_true(pk);
		break;
	case 2:
		msgpack_pack_uint64(pk, (uint64_t)rand_r(seed) << (rand_r(seed) % 40));
		break;
	case 3:
		msgpack_pack_int64(pk, -(int64_t)((uint64_t)rand_r(seed) << (rand_r(seed) % 32)));
		break;
	case 4:
		msgpack_pack_double(pk, rand_r(seed) / 7.0);
		break;
	case 5:
	case 6:
		n = (unsigned)rand_r(seed) % 300;
		{
			char s[300];

			for (i = 0; i < n; i++)
				s[i] = text[i % (sizeof(text) - 1)];
			if (k == 5)
				sl_mpc_pack_raw(pk, s, n);
			else
				msgpack_pack_str_with_body(pk, s, n); /* new spec: str8 */
		}
		break;
	case 7:
		n = (unsigned)rand_r(seed) % 20;
		msgpack_pack_array(pk, n);
		for (i = 0; i < n; i++)
			rand_obj(pk, seed, depth + 1);
		break;
	default:
		n = (unsigned)rand_r(seed) % 10;
		msgpack_pack_map(pk, n);
		for (i = 0; i < 2 * n; i++)
			rand_obj(pk, seed, depth + 1);
		break;
	}
}

Test(native_mp, differential_random_trees)
{
	struct sl_mp_limits lim;
	unsigned seed = 7;
	int round;

	sl_mp_limits_default(&lim);
	for (round = 0; round < 300; round++) {
		static uint8_t out[1 << 20];
		msgpack_sbuffer sb;
		msgpack_packer pk;
		msgpack_zone z1, z2;
		msgpack_object a, b;
		struct sl_seg seg;
		struct sl_mp_cur c;
		struct sl_mp_w w;
		size_t off = 0;
		uint32_t cut;

		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		rand_obj(&pk, &seed, 0);
		cr_assert_eq(sl_mp_scan_flat(sb.data, (uint32_t)sb.size, &lim), (int)sb.size);
		cut = (uint32_t)rand_r(&seed) % (uint32_t)sb.size;
		cr_assert_eq(sl_mp_scan_flat(sb.data, cut, &lim), -EAGAIN);
		/* re-encode in the old spec with our encoder */
		seg.p = (const uint8_t *)sb.data;
		seg.len = (uint32_t)sb.size;
		sl_mp_cur_init(&c, &seg, 1, 0, seg.len);
		sl_mp_w_init(&w, out, sizeof(out));
		cr_assert_eq(reencode(&c, &w), 0);
		lim.flags = SL_MP_F_OLD_SPEC;
		cr_assert_eq(sl_mp_scan_flat(out, w.len, &lim), (int)w.len,
			     "our output is old spec");
		lim.flags = 0;
		msgpack_zone_init(&z1, 4096);
		msgpack_zone_init(&z2, 4096);
		cr_assert_eq(msgpack_unpack(sb.data, sb.size, &off, &z1, &a),
			     MSGPACK_UNPACK_SUCCESS);
		off = 0;
		cr_assert_eq(msgpack_unpack((const char *)out, w.len, &off, &z2, &b),
			     MSGPACK_UNPACK_SUCCESS);
		cr_assert(msgpack_object_equal(a, b), "round %d", round);
		msgpack_zone_destroy(&z1);
		msgpack_zone_destroy(&z2);
		msgpack_sbuffer_destroy(&sb);
	}
}
