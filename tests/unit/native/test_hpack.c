/*
 * dataplane/native/hpack.c: the header tables (cocaine-protocol.md 1.4, 5.3, 12a.3).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "native.h"

static struct sl_hdrs H;

static void
hdr_is(const struct sl_hdr *h, const char *name, const void *value, uint32_t vlen)
{
	cr_assert_eq(h->name_len, strlen(name), "name length of %s", name);
	cr_assert_eq(memcmp(h->name, name, h->name_len), 0, "name %s", name);
	cr_assert_eq(h->value_len, vlen, "value length of %s", name);
	cr_assert_eq(memcmp(h->value, value, vlen), 0, "value of %s", name);
}

/* Decode one golden frame with decoder d; returns the frame. */
static struct sl_frame
dec(struct sl_frame_dec *d, const char *spec, int want)
{
	static uint8_t b[4096];
	size_t n = gold(b, sizeof(b), spec);
	struct sl_seg seg = {b, (uint32_t)n};
	struct sl_frame f;
	int rc = sl_frame_dec_next(d, &seg, 1, 0, &f, &H);

	cr_assert_eq(rc, want < 0 ? want : (int)n, "%s: %d", spec, rc);
	return f;
}

Test(native_hpack, static_table)
{
	static const uint8_t zero[8];
	struct sl_hpack t;
	struct sl_hdr h;

	sl_hpack_init(&t);
	cr_assert_eq(sl_hpack_get(&t, 0, &h), -ENOENT);
	cr_assert_eq(sl_hpack_get(&t, 1, &h), 0);
	hdr_is(&h, ":authority", "", 0);
	cr_assert_eq(sl_hpack_get(&t, 2, &h), 0);
	hdr_is(&h, ":method", "GET", 3);
	cr_assert_eq(sl_hpack_get(&t, 8, &h), 0);
	hdr_is(&h, ":status", "200", 3);
	cr_assert_eq(sl_hpack_get(&t, 16, &h), 0);
	hdr_is(&h, "accept-encoding", "gzip, deflate", 13);
	cr_assert_eq(sl_hpack_get(&t, 23, &h), 0);
	hdr_is(&h, "authorization", "", 0);
	cr_assert_eq(sl_hpack_get(&t, 61, &h), 0);
	hdr_is(&h, "www-authenticate", "", 0);
	cr_assert_eq(sl_hpack_get(&t, 62, &h), 0);
	hdr_is(&h, "", "", 0);
	cr_assert_eq(sl_hpack_get(&t, 79, &h), 0);
	hdr_is(&h, "", "", 0);
	cr_assert_eq(sl_hpack_get(&t, SL_HPACK_TRACE_ID, &h), 0);
	hdr_is(&h, "trace_id", zero, 8);
	cr_assert_eq(sl_hpack_get(&t, SL_HPACK_SPAN_ID, &h), 0);
	hdr_is(&h, "span_id", zero, 8);
	cr_assert_eq(sl_hpack_get(&t, SL_HPACK_PARENT_ID, &h), 0);
	hdr_is(&h, "parent_id", zero, 8);
	cr_assert_eq(sl_hpack_get(&t, 83, &h), -ENOENT, "no dynamic entries yet");
}

Test(native_hpack, plain_header_is_not_stored)
{
	static struct sl_frame_dec d;
	static const uint8_t one[8] = {1};
	uint64_t v;

	sl_frame_dec_init(&d, NULL);
	/* 1.4's byte example, in a frame */
	dec(&d, "94 01 00 91 a4 \"ping\" 91 93 c2 a8 \"trace_id\" a8 01 00 00 00 00 00 00 00", 1);
	cr_assert_eq(H.n, 1);
	hdr_is(&H.h[0], "trace_id", one, 8);
	cr_assert_eq(sl_hdr_u64(&H.h[0], &v), 0);
	cr_assert_eq(v, 1, "trace values are little-endian");
	cr_assert_eq(sl_hpack_count(&d.rx), 0);
	cr_assert_not_null(sl_hdrs_find(&H, "trace_id"));
	cr_assert_null(sl_hdrs_find(&H, "span_id"));
}

Test(native_hpack, mock_runtime_frames)
{
	static struct sl_frame_dec d;
	static const uint8_t zero[8];
	struct sl_hdr h;

	sl_frame_dec_init(&d, NULL);
	/* 5.3: [2,0,["ping"],[80,[true,"PING","A"]]] */
	dec(&d, "94 02 00 91 a4 \"ping\" 92 50 93 c3 a4 \"PING\" a1 \"A\"", 1);
	cr_assert_eq(H.n, 2);
	hdr_is(&H.h[0], "trace_id", zero, 8);
	hdr_is(&H.h[1], "PING", "A", 1);
	cr_assert_eq(sl_hpack_count(&d.rx), 1);
	cr_assert_eq(sl_hpack_size(&d.rx), 4 + 1 + 32);
	cr_assert_eq(sl_hpack_get(&d.rx, 83, &h), 0);
	hdr_is(&h, "PING", "A", 1);
	/* [2,0,["pong"],[[false,83,"B"]]]: 83 is the first dynamic entry, name only */
	dec(&d, "94 02 00 91 a4 \"pong\" 91 93 c2 53 a1 \"B\"", 1);
	cr_assert_eq(H.n, 1);
	hdr_is(&H.h[0], "PING", "B", 1);
	cr_assert_eq(sl_hpack_count(&d.rx), 1);
	/* and a bare 83 is the full pair */
	dec(&d, "94 02 00 90 91 53", 1);
	hdr_is(&H.h[0], "PING", "A", 1);
}

/* 12a.3: what the Python client sends on one connection. */
Test(native_hpack, python_client_sequence)
{
	static struct sl_frame_dec d;
	static const uint8_t t1[8] = {1, 0, 0, 0, 0, 0, 0, 0}, s1[8] = {2}, p1[8] = {3};
	static const uint8_t t2[8] = {4};
	struct sl_hdr h;

	sl_frame_dec_init(&d, NULL);
	/* first request: names as strings, stored */
	dec(&d,
	    "94 01 00 91 a4 \"ping\" 93 "
	    "93 c3 a8 \"trace_id\" a8 01 00 00 00 00 00 00 00 "
	    "93 c3 a7 \"span_id\" a8 02 00 00 00 00 00 00 00 "
	    "93 c3 a9 \"parent_id\" a8 03 00 00 00 00 00 00 00",
	    1);
	cr_assert_eq(H.n, 3);
	hdr_is(&H.h[0], "trace_id", t1, 8);
	hdr_is(&H.h[2], "parent_id", p1, 8);
	/* newest first: 83 parent, 84 span, 85 trace */
	cr_assert_eq(sl_hpack_get(&d.rx, 83, &h), 0);
	hdr_is(&h, "parent_id", p1, 8);
	cr_assert_eq(sl_hpack_get(&d.rx, 85, &h), 0);
	hdr_is(&h, "trace_id", t1, 8);
	/* a repeat: bare 84 then 85 for full matches, [true, 83, v] for a name match */
	dec(&d, "94 01 02 90 93 54 55 93 c3 53 a8 04 00 00 00 00 00 00 00", 1);
	cr_assert_eq(H.n, 3);
	hdr_is(&H.h[0], "span_id", s1, 8);
	hdr_is(&H.h[1], "trace_id", t1, 8);
	hdr_is(&H.h[2], "parent_id", t2, 8);
	cr_assert_eq(sl_hpack_count(&d.rx), 4);
	cr_assert_eq(sl_hpack_get(&d.rx, 83, &h), 0);
	hdr_is(&h, "parent_id", t2, 8);
	cr_assert_eq(sl_hpack_get(&d.rx, 86, &h), 0);
	hdr_is(&h, "trace_id", t1, 8);
}

Test(native_hpack, entries_stored_earlier_in_the_same_frame_are_visible)
{
	static struct sl_frame_dec d;

	sl_frame_dec_init(&d, NULL);
	dec(&d, "94 01 00 91 a4 \"ping\" 91 93 c3 a1 \"a\" a1 \"0\"", 1);
	/* [true,"b","1"] becomes 83 and pushes a to 84; then 83 / 84 / [true,84,"2"] */
	dec(&d, "94 01 02 90 94 93 c3 a1 \"b\" a1 \"1\" 53 54 93 c3 54 a1 \"2\"", 1);
	cr_assert_eq(H.n, 4);
	hdr_is(&H.h[0], "b", "1", 1);
	hdr_is(&H.h[1], "b", "1", 1);
	hdr_is(&H.h[2], "a", "0", 1);
	hdr_is(&H.h[3], "a", "2", 1);
	cr_assert_eq(sl_hpack_count(&d.rx), 3);
}

Test(native_hpack, eviction_keeps_the_newest)
{
	struct sl_hpack t;
	struct sl_hdr h;
	uint8_t v[8];
	uint64_t i, x;

	sl_hpack_init(&t);
	for (i = 0; i < 1000; i++) {
		sl_hdr_le64(v, i);
		sl_hpack_insert(&t, "trace_id", 8, v, 8);
		cr_assert_leq(sl_hpack_size(&t), SL_HPACK_CAPACITY);
	}
	/* 48 bytes each: 85 fit in 4096 */
	cr_assert_eq(sl_hpack_count(&t), 85);
	cr_assert_eq(sl_hpack_size(&t), 85 * 48);
	for (i = 0; i < 85; i++) {
		cr_assert_eq(sl_hpack_get(&t, 83 + i, &h), 0);
		cr_assert_eq(sl_hdr_u64(&h, &x), 0);
		cr_assert_eq(x, 999 - i);
	}
	cr_assert_eq(sl_hpack_get(&t, 83 + 85, &h), -ENOENT);
}

Test(native_hpack, eviction_through_traced_requests)
{
	static struct sl_frame_dec d;
	static uint8_t b[256];
	uint32_t i;

	sl_frame_dec_init(&d, NULL);
	for (i = 0; i < 500; i++) {
		char spec[256];
		size_t n;
		struct sl_seg seg;
		struct sl_frame f;
		uint64_t v;

		snprintf(
			spec, sizeof(spec),
			"94 %02x 00 91 a4 \"ping\" 91 93 c3 a8 \"trace_id\" a8 %02x %02x 00 00 00 00 00 00",
			(i % 100) + 1, i & 0xff, i >> 8);
		n = gold(b, sizeof(b), spec);
		seg.p = b;
		seg.len = (uint32_t)n;
		cr_assert_eq(sl_frame_dec_next(&d, &seg, 1, 0, &f, &H), (int)n);
		cr_assert_eq(sl_hdr_u64(&H.h[0], &v), 0);
		cr_assert_eq(v, i);
	}
	cr_assert_eq(sl_hpack_count(&d.rx), 85);
	/* a bare 83 is the latest trace, 167 the oldest kept */
	dec(&d, "94 01 02 90 92 53 cc a7", 1);
	{
		uint64_t a, z;

		sl_hdr_u64(&H.h[0], &a);
		sl_hdr_u64(&H.h[1], &z);
		cr_assert_eq(a, 499);
		cr_assert_eq(z, 499 - 84);
	}
	dec(&d, "94 01 02 90 91 cc a8", -EILSEQ);
}

Test(native_hpack, exact_fit_and_oversize)
{
	static uint8_t big[5000];
	struct sl_hpack t;
	struct sl_hdr h;

	memset(big, 'v', sizeof(big));
	sl_hpack_init(&t);
	sl_hpack_insert(&t, "a", 1, "b", 1);
	/* 2000 + 2064 + 32 = 4096: fits exactly, alone */
	sl_hpack_insert(&t, big, 2000, big, 2064);
	cr_assert_eq(sl_hpack_count(&t), 1);
	cr_assert_eq(sl_hpack_size(&t), 4096);
	cr_assert_eq(sl_hpack_get(&t, 83, &h), 0);
	cr_assert_eq(h.name_len, 2000);
	cr_assert_eq(h.value_len, 2064);
	/* 4097: the table is emptied and the entry not stored */
	sl_hpack_insert(&t, big, 2000, big, 2065);
	cr_assert_eq(sl_hpack_count(&t), 0);
	cr_assert_eq(sl_hpack_size(&t), 0);
	sl_hpack_insert(&t, "a", 1, "b", 1);
	cr_assert_eq(sl_hpack_get(&t, 83, &h), 0);
	hdr_is(&h, "a", "b", 1);
}

/* A name-only index whose entry is evicted by the very insertion that uses its name. */
Test(native_hpack, name_from_an_entry_evicted_by_its_own_insertion)
{
	static struct sl_frame_dec d;
	static uint8_t b[8192];
	size_t n;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		struct sl_seg seg;
		struct sl_frame f;
		struct sl_hdr h;

		sl_frame_dec_init(&d, NULL);
		/* ["big", 4040 bytes]: 4075 bytes, alone in the table */
		n = gold(b, sizeof(b), "94 01 00 90 91 93 c3 a3 \"big\" da 0f c8");
		memset(b + n, 'q', 4040);
		n += 4040;
		seg.p = b;
		seg.len = (uint32_t)n;
		cr_assert_eq(sl_frame_dec_next(&d, &seg, 1, 0, &f, &H), (int)n);
		cr_assert_eq(sl_hpack_count(&d.rx), 1);
		/* [true, 83, "v"]: 36 more bytes evict "big" while its name is in use */
		n = gold(b, sizeof(b), "94 01 02 90 91 93 c3 53 a1 \"v\"");
		seg.len = (uint32_t)n;
		cr_assert_eq(sl_frame_dec_next(&d, &seg, 1, 0, &f, pass ? NULL : &H), (int)n);
		if (!pass)
			hdr_is(&H.h[0], "big", "v", 1);
		cr_assert_eq(sl_hpack_count(&d.rx), 1);
		cr_assert_eq(sl_hpack_get(&d.rx, 83, &h), 0);
		hdr_is(&h, "big", "v", 1);
	}
}

Test(native_hpack, malformed_entries_are_hpack_errors)
{
	static const char *const bad[] = {
		"00",			      /* index 0 */
		"53",			      /* 83 with an empty dynamic table */
		"cc c8",		      /* 200 */
		"ff",			      /* negative */
		"c0",			      /* nil */
		"a1 \"x\"",		      /* a bare string */
		"92 c3 a1 \"a\"",	      /* 2 elements */
		"94 c3 a1 \"a\" a1 \"b\" c0", /* 4 elements */
		"93 01 a1 \"a\" a1 \"b\"",    /* store not a bool */
		"93 c3 c0 a1 \"b\"",	      /* name nil */
		"93 c3 a1 \"a\" 05",	      /* value not raw */
		"93 c3 00 a1 \"b\"",	      /* name index 0 */
		"93 c2 54 a1 \"b\"",	      /* name index past the table */
		"93 c3 ff a1 \"b\"",	      /* negative name index */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		static struct sl_frame_dec d;
		char spec[256];

		snprintf(spec, sizeof(spec), "94 01 00 90 91 %s", bad[i]);
		sl_frame_dec_init(&d, NULL);
		dec(&d, spec, -EILSEQ);
	}
}

Test(native_hpack, index_in_any_integer_width)
{
	static struct sl_frame_dec d;
	static const uint8_t zero[8];

	sl_frame_dec_init(&d, NULL);
	/* 1.1: the 2015 code sent indices as 0xcf + 8 bytes */
	dec(&d,
	    "94 01 00 90 92 cf 00 00 00 00 00 00 00 50 93 c3 cf 00 00 00 00 00 00 00 51 a1 \"s\"",
	    1);
	cr_assert_eq(H.n, 2);
	hdr_is(&H.h[0], "trace_id", zero, 8);
	hdr_is(&H.h[1], "span_id", "s", 1);
}

Test(native_hpack, split_strings_are_copied)
{
	static struct sl_frame_dec d;
	static uint8_t b[256];
	size_t n = gold(
		b, sizeof(b),
		"94 01 00 90 92 93 c3 a6 \"x-user\" a5 \"alice\" 93 c2 a4 \"host\" a3 \"a.b\"");
	uint32_t k;

	for (k = 0; k <= n; k++) {
		struct sl_seg two[2] = {{b, k}, {b + k, (uint32_t)n - k}};
		struct sl_frame f;
		struct sl_hdr h;

		sl_frame_dec_init(&d, NULL);
		cr_assert_eq(sl_frame_dec_next(&d, two, 2, 0, &f, &H), (int)n);
		cr_assert_eq(H.n, 2);
		hdr_is(&H.h[0], "x-user", "alice", 5);
		hdr_is(&H.h[1], "host", "a.b", 3);
		cr_assert_eq(sl_hpack_get(&d.rx, 83, &h), 0);
		hdr_is(&h, "x-user", "alice", 5);
	}
}

Test(native_hpack, u64_values)
{
	struct sl_hdr h = sl_hdr_make("x", "12345678", 8);
	uint8_t b[8];
	uint64_t v;

	cr_assert_eq(sl_hdr_u64(&h, &v), 0);
	cr_assert_eq(v, 0x3837363534333231ull);
	sl_hdr_le64(b, 0x0102030405060708ull);
	cr_assert_eq(b[0], 8);
	cr_assert_eq(b[7], 1);
	h.value_len = 7;
	cr_assert_eq(sl_hdr_u64(&h, &v), -EINVAL);
}
