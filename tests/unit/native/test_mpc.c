/*
 * dataplane/native/mpc.c: msgpack-c behind the scanner's limits, and old-spec packing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <msgpack.h>

#include "helpers.h"
#include "native.h"
#include "native-mpc.h"

Test(native_mpc, the_counting_allocator_counts)
{
	void *(*volatile m)(size_t) = malloc;
	msgpack_zone *z;
	void *p;

	alloc_arm();
	p = m(16);
	cr_assert_eq(alloc_disarm(), 1);
	free(p);
	/* and sees msgpack-c's allocations (a shared library) */
	alloc_arm();
	z = msgpack_zone_new(1024);
	cr_assert_geq(alloc_disarm(), 1);
	msgpack_zone_free(z);
}

Test(native_mpc, unpack_golden_announce)
{
	/* 7.3: a 0.12 multicast announce [uuid, [[ip, port]]] */
	uint8_t b[64];
	size_t n = gold(b, sizeof(b), "92 a6 \"uuid-1\" 91 92 a8 \"10.0.0.1\" cd 27 45 c0");
	msgpack_zone z;
	msgpack_object o;

	msgpack_zone_init(&z, 1024);
	cr_assert_eq(sl_mpc_unpack(b, n, NULL, &z, &o), (int)n - 1);
	cr_assert_eq(o.type, MSGPACK_OBJECT_ARRAY);
	cr_assert_eq(o.via.array.size, 2);
	cr_assert_eq(o.via.array.ptr[1].via.array.ptr[0].via.array.ptr[1].via.u64, 10053);
	cr_assert_eq(sl_mpc_unpack(b, n - 3, NULL, &z, &o), -EAGAIN);
	msgpack_zone_destroy(&z);
}

/* The bombs msgpack-c would try to allocate for never reach it. */
Test(native_mpc, bombs_never_reach_msgpack_c)
{
	static const struct {
		const char *spec;
		int rc;
	} bombs[] = {
		{"dd ff ff ff ff", -E2BIG},
		{"df ff ff ff ff", -E2BIG},
		{"91 dd 00 20 00 00", -E2BIG},
		{"db ff ff ff ff", -EMSGSIZE},
		{"c6 7f ff ff ff", -EMSGSIZE},
		{"c1", -EBADMSG},
		{"dc 00 03 dd ff ff ff ff", -E2BIG},
		/* msgpack-c 4.0 wraps this ext32's length + 1 to 0: it never sees it */
		{"c9 ff ff ff ff 05", -EMSGSIZE},
	};
	struct sl_mp_limits lim;
	uint8_t b[64];
	size_t i;

	sl_mp_limits_default(&lim);
	for (i = 0; i < sizeof(bombs) / sizeof(bombs[0]); i++) {
		size_t n = gold(b, sizeof(b), bombs[i].spec);
		msgpack_zone z;
		msgpack_object o;

		msgpack_zone_init(&z, 1024);
		alloc_arm();
		cr_assert_eq(sl_mpc_unpack(b, n, &lim, &z, &o), bombs[i].rc, "%s", bombs[i].spec);
		cr_assert_eq(alloc_disarm(), 0, "%s", bombs[i].spec);
		msgpack_zone_destroy(&z);
	}
	/* deep nesting: 40 arrays, msgpack-c's own stack is 32 */
	memset(b, 0x91, 40);
	b[40] = 0;
	{
		msgpack_zone z;
		msgpack_object o;

		msgpack_zone_init(&z, 1024);
		alloc_arm();
		cr_assert_eq(sl_mpc_unpack(b, 41, &lim, &z, &o), -ELOOP);
		cr_assert_eq(alloc_disarm(), 0);
		msgpack_zone_destroy(&z);
	}
}

/* A large but legal array: msgpack-c allocates what is there, within max_objects. */
Test(native_mpc, bounded_allocation_for_legal_input)
{
	static uint8_t b[1 << 16];
	struct sl_mp_limits lim;
	msgpack_zone z;
	msgpack_object o;
	size_t n = 0;
	int i;

	sl_mp_limits_default(&lim);
	lim.max_objects = 1000;
	b[n++] = 0xdc;
	b[n++] = 0x03;
	b[n++] = 0xe7; /* 999 elements */
	for (i = 0; i < 999; i++)
		b[n++] = 0x01;
	msgpack_zone_init(&z, 1024);
	cr_assert_eq(sl_mpc_unpack(b, n, &lim, &z, &o), (int)n);
	cr_assert_eq(o.via.array.size, 999);
	b[2] = 0xe8; /* 1000 elements + the array = 1001 objects */
	b[n++] = 0x01;
	cr_assert_eq(sl_mpc_unpack(b, n, &lim, &z, &o), -E2BIG);
	msgpack_zone_destroy(&z);
}

Test(native_mpc, unpack_cur_split_copies_into_the_zone)
{
	uint8_t b[64];
	size_t n = gold(b, sizeof(b), "94 01 00 92 a5 \"hello\" 2a 90");
	struct sl_seg two[2] = {{b, 6}, {b + 6, (uint32_t)n - 6}};
	struct sl_frame_dec d;
	struct sl_frame f;
	msgpack_zone z;
	msgpack_object o;

	sl_frame_dec_init(&d, NULL);
	cr_assert_eq(sl_frame_dec_next(&d, two, 2, 0, &f, NULL), (int)n);
	msgpack_zone_init(&z, 1024);
	cr_assert_eq(sl_mpc_unpack_cur(&f.args_obj, &z, &o), 0);
	cr_assert_eq(o.via.array.size, 2);
	cr_assert_eq(o.via.array.ptr[0].via.str.size, 5);
	cr_assert_eq(memcmp(o.via.array.ptr[0].via.str.ptr, "hello", 5), 0);
	cr_assert((const uint8_t *)o.via.array.ptr[0].via.str.ptr < b ||
			  (const uint8_t *)o.via.array.ptr[0].via.str.ptr >= b + n,
		  "split bytes were copied");
	cr_assert_eq(o.via.array.ptr[1].via.u64, 42);
	msgpack_zone_destroy(&z);
}

Test(native_mpc, pack_object_in_the_old_spec)
{
	/* a modern peer's str8 / bin8 / str16 come back as raw */
	uint8_t b[512], want[512];
	size_t n = gold(b, sizeof(b),
			"93 d9 03 \"abc\" c4 02 01 02 d9 20 "
			"\"0123456789abcdef0123456789abcdef\"");
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_zone z;
	msgpack_object o;
	size_t m;

	msgpack_zone_init(&z, 1024);
	cr_assert_eq(sl_mpc_unpack(b, n, NULL, &z, &o), (int)n);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	cr_assert_eq(sl_mpc_pack_object(&pk, &o), 0);
	m = gold(want, sizeof(want),
		 "93 a3 \"abc\" a2 01 02 da 00 20 "
		 "\"0123456789abcdef0123456789abcdef\"");
	cr_assert_eq(sb.size, m, "%s", hex((const uint8_t *)sb.data, sb.size));
	cr_assert_eq(memcmp(sb.data, want, m), 0);
	msgpack_sbuffer_clear(&sb);
	/* ext has no old-spec form */
	n = gold(b, sizeof(b), "d4 01 00");
	cr_assert_eq(sl_mpc_unpack(b, n, NULL, &z, &o), 3);
	cr_assert_eq(sl_mpc_pack_object(&pk, &o), -EINVAL);
	msgpack_sbuffer_destroy(&sb);
	msgpack_zone_destroy(&z);
}

Test(native_mpc, pack_frame_matches_our_encoder)
{
	static const uint8_t one[8] = {1};
	struct sl_hdr h = sl_hdr_make("trace_id", one, 8);
	uint8_t want[128];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t n;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	cr_assert_eq(sl_mpc_pack_frame_begin(&pk, 1, 0, 1, 1), 0);
	cr_assert_eq(sl_mpc_pack_raw(&pk, "ping", 4), 0);
	cr_assert_eq(sl_mpc_pack_headers(&pk, &h, 1), 0);
	n = gold(want, sizeof(want),
		 "94 01 00 91 a4 \"ping\" 91 93 c2 a8 \"trace_id\" a8 01 00 00 00 00 00 00 00");
	cr_assert_eq(sb.size, n);
	cr_assert_eq(memcmp(sb.data, want, n), 0);
	msgpack_sbuffer_clear(&sb);
	cr_assert_eq(sl_mpc_pack_frame_begin(&pk, 5, 2, 0, SL_FRAME_NO_HEADERS), 0);
	cr_assert_eq(sl_mpc_pack_headers(&pk, NULL, SL_FRAME_NO_HEADERS), 0);
	n = gold(want, sizeof(want), "93 05 02 90");
	cr_assert_eq(sb.size, n);
	cr_assert_eq(memcmp(sb.data, want, n), 0);
	msgpack_sbuffer_destroy(&sb);
}

/* Differential: a corpus of tricky inputs, scanner vs msgpack-c on every prefix. */
Test(native_mpc, scanner_agrees_with_msgpack_c_on_prefixes)
{
	static const char *const corpus[] = {
		("95 01 02 93 c0 c2 c3 82 a1 \"a\" cb 40 09 21 fb 54 44 2d 18 d9 01 \"b\" ca 40 49 0f db "
		 "c7 03 07 01 02 03 de 00 01 d4 05 aa d5 05 aa bb"),
		"9f 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e",
		"dc 00 02 c8 00 02 05 aa bb c9 00 00 00 01 06 cc",
		"92 c1 00",
		"81 c1 00",
		"93 01 91 c1",
		"a5 \"ab\" c1",
	};
	struct sl_mp_limits lim;
	size_t i;

	sl_mp_limits_default(&lim);
	for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		uint8_t b[256];
		size_t n = gold(b, sizeof(b), corpus[i]);
		size_t k;

		for (k = 0; k <= n; k++) {
			int ours = sl_mp_scan_flat(b, (uint32_t)k, &lim);
			msgpack_zone z;
			msgpack_object o;
			size_t off = 0;
			msgpack_unpack_return theirs;

			msgpack_zone_init(&z, 1024);
			theirs = msgpack_unpack((const char *)b, k, &off, &z, &o);
			if (ours > 0)
				cr_assert((theirs == MSGPACK_UNPACK_SUCCESS ||
					   theirs == MSGPACK_UNPACK_EXTRA_BYTES) &&
						  off == (size_t)ours,
					  "%s[:%zu]", corpus[i], k);
			else if (ours == -EAGAIN)
				cr_assert_eq(theirs, MSGPACK_UNPACK_CONTINUE, "%s[:%zu]", corpus[i],
					     k);
			else
				cr_assert_eq(theirs, MSGPACK_UNPACK_PARSE_ERROR, "%s[:%zu] (%d)",
					     corpus[i], k, ours);
			msgpack_zone_destroy(&z);
		}
	}
}
