/*
 * dataplane/native/graph.c, proto.c: dispatch graphs and the resolve reply
 * (cocaine-protocol.md 1.6, 2.3, 3.2, 4.2, 5.3, 10, 12a.5). The expected graphs are written
 * in the doc's notation and packed by msgpack-c (helpers.c note()), not by our encoder.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "native.h"

/* The doc's graphs (1.6 for locator/app/storage; 3.2, 5.3, 10 for the others). */
static const struct {
	const char *name;
	const struct sl_gnode *root;
	const char *notation;
} protocols[] = {
	{"locator", &sl_proto_locator,
	 "{0: [\"resolve\", {}, P], 1: [\"connect\", {}, S], 2: [\"refresh\", {}, P], "
	 "3: [\"cluster\", {}, P], 4: [\"publish\", {0: [\"discard\", {}]}, P], "
	 "5: [\"routing\", {0: [\"discard\", {}]}, S], 6: [\"uuid\", {}, P]}"},
	{"app", &sl_proto_app,
	 "{0: [\"enqueue\", S, S], 1: [\"info\", {}, P], 2: [\"control\", S, P]}"},
	{"storage", &sl_proto_storage,
	 "{0: [\"read\", {}, P], 1: [\"write\", {}, P], 2: [\"remove\", {}, P], 3: [\"find\", {}, P]}"},
	{"node", &sl_proto_node,
	 "{0: [\"start_app\", {}, P], 1: [\"pause_app\", {}, P], 2: [\"list\", {}, P], "
	 "3: [\"info\", {}, P], 4: [\"control\", S, P], 5: [\"enqueue\", S, S]}"},
	{"logging", &sl_proto_logging,
	 "{0: [\"emit\", {}, {}], 1: [\"verbosity\", {}, P], 2: [\"set_verbosity\", {}, P]}"},
	{"echo", &sl_proto_echo, "{0: [\"ping\", {}, P]}"},
	{"worker", &sl_proto_worker,
	 "{0: [\"handshake\", {0: [\"heartbeat\", nil], 1: [\"terminate\", nil]}, "
	 "{0: [\"heartbeat\", nil], 1: [\"terminate\", nil]}]}"},
	{"worker rpc", &sl_proto_worker_rpc, "{0: [\"invoke\", S, S]}"},
};

static uint8_t buf_a[8192], buf_b[8192];

Test(native_graph, static_graphs_match_the_doc)
{
	size_t i;

	for (i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++) {
		size_t n = note(buf_a, sizeof(buf_a), protocols[i].notation);
		struct sl_mp_w w;

		sl_mp_w_init(&w, buf_b, sizeof(buf_b));
		sl_graph_enc_root(&w, protocols[i].root);
		cr_assert_eq(w.err, 0);
		cr_assert_eq(w.len, n, "%s: got %s", protocols[i].name, hex(buf_b, w.len));
		cr_assert_eq(memcmp(buf_a, buf_b, n), 0, "%s: got %s", protocols[i].name,
			     hex(buf_b, w.len));
	}
}

Test(native_graph, decode_round_trip)
{
	static struct sl_gnode nodes[64];
	static struct sl_gslot slots[256];
	static char names[2048];
	size_t i;

	for (i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++) {
		size_t n = note(buf_a, sizeof(buf_a), protocols[i].notation);
		struct sl_seg seg = {buf_a, (uint32_t)n};
		struct sl_graph_arena a;
		const struct sl_gnode *root;
		struct sl_mp_cur c;
		struct sl_mp_w w;

		sl_graph_arena_init(&a, nodes, 64, slots, 256, names, sizeof(names));
		sl_mp_cur_init(&c, &seg, 1, 0, (uint32_t)n);
		cr_assert_eq(sl_graph_dec_root(&c, &a, &root), 0, "%s", protocols[i].name);
		cr_assert_eq(c.left, 0);
		cr_assert(sl_graph_equal(root, protocols[i].root, true), "%s", protocols[i].name);
		sl_mp_w_init(&w, buf_b, sizeof(buf_b));
		sl_graph_enc_root(&w, root);
		cr_assert_eq(w.len, n);
		cr_assert_eq(memcmp(buf_a, buf_b, n), 0, "%s re-encodes", protocols[i].name);
	}
	cr_assert_not(sl_graph_equal(&sl_proto_app, &sl_proto_node, true));
	cr_assert_not(sl_graph_equal(&sl_proto_streaming, &sl_proto_primitive, false));
}

/* 2.3's byte example: the reply to resolve("storage") on channel 1, as a 1-method graph. */
Test(native_graph, golden_resolve_reply)
{
	static const struct sl_gslot read_slot[] = {
		{.id = 0,
		 .name_len = 4,
		 .name = "read",
		 .dispatch = &sl_graph_terminal,
		 .upstream = &sl_proto_primitive},
	};
	static const struct sl_gnode storage_read = {1, read_slot};
	static const char *const spec =
		"93 01 00 93 91 92 a8 \"10.0.0.1\" cd cf 08 01 81 00 93 a4 \"read\" 80 82 00 92 a5 "
		"\"value\" 80 01 92 a5 \"error\" 80";
	static struct sl_gnode nodes[8];
	static struct sl_gslot slots[16];
	static char names[256];
	struct sl_endpoint ep[4], one = {"10.0.0.1", 53000};
	size_t n = gold(buf_a, sizeof(buf_a), spec);
	struct sl_seg seg = {buf_a, (uint32_t)n};
	struct sl_graph_arena a;
	const struct sl_gnode *root;
	struct sl_frame_dec d;
	struct sl_frame f;
	struct sl_mp_w w;
	uint64_t version;
	uint32_t nep;

	sl_frame_dec_init(&d, NULL);
	cr_assert_eq(sl_frame_dec_next(&d, &seg, 1, 0, &f, NULL), (int)n);
	cr_assert_eq(f.channel, 1);
	cr_assert_eq(f.type, SL_PRIM_VALUE);
	sl_graph_arena_init(&a, nodes, 8, slots, 16, names, sizeof(names));
	cr_assert_eq(sl_resolve_dec_args(&f.args, f.nargs, ep, 4, &nep, &version, &a, &root), 0);
	cr_assert_eq(nep, 1);
	cr_assert_str_eq(ep[0].host, "10.0.0.1");
	cr_assert_eq(ep[0].port, 53000);
	cr_assert_eq(version, 1);
	cr_assert(sl_graph_equal(root, &storage_read, true));
	cr_assert_not_null(sl_graph_find_name(root, "read", 4));
	/* and our encoder produces exactly these bytes */
	sl_mp_w_init(&w, buf_b, sizeof(buf_b));
	sl_frame_enc_begin(&w, 1, SL_PRIM_VALUE, 3, SL_FRAME_NO_HEADERS);
	sl_resolve_enc_args(&w, &one, 1, 1, &storage_read);
	cr_assert_eq(w.len, n, "%s", hex(buf_b, w.len));
	cr_assert_eq(memcmp(buf_a, buf_b, n), 0, "%s", hex(buf_b, w.len));
}

Test(native_graph, resolve_reply_errors)
{
	static struct sl_gnode nodes[8];
	static struct sl_gslot slots[16];
	static char names[256];
	struct sl_endpoint ep[1];
	struct sl_graph_arena a;
	const struct sl_gnode *root;
	uint64_t version;
	uint32_t nep;
	static const struct {
		const char *note;
		uint32_t nargs;
		int rc;
	} cases[] = {
		{"[[[\"10.0.0.1\", 1]], 1, {}]", 3, 0},
		{"[[[\"10.0.0.1\", 1], [\"10.0.0.2\", 2]], 1, {}]", 3, -ENOBUFS},
		{"[[[\"10.0.0.1\", 70000]], 1, {}]", 3, -EPROTO},
		{"[[[\"10.0.0.1\"]], 1, {}]", 3, -EPROTO},
		{"[[], -1, {}]", 3, -EPROTO},
		{"[[], 1]", 2, -EPROTO},
		{"[[[\"0123456789012345678901234567890123456789012345678901234567890123\", 1]], 1, {}]",
		 3, -EPROTO},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = note(buf_a, sizeof(buf_a), cases[i].note);
		struct sl_seg seg = {buf_a, (uint32_t)n};
		struct sl_mp_cur c;
		uint32_t k;

		sl_mp_cur_init(&c, &seg, 1, 0, (uint32_t)n);
		sl_mp_read_array(&c, &k);
		sl_graph_arena_init(&a, nodes, 8, slots, 16, names, sizeof(names));
		cr_assert_eq(
			sl_resolve_dec_args(&c, cases[i].nargs, ep, 1, &nep, &version, &a, &root),
			cases[i].rc, "%s", cases[i].note);
	}
}

Test(native_graph, malformed_graphs)
{
	static const struct {
		const char *note;
		int rc;
	} cases[] = {
		{"{0: [\"a\", {}, P], 0: [\"b\", {}, P]}", -EPROTO}, /* duplicate id */
		{"{-1: [\"a\", {}, P]}", -EPROTO},
		{"{0: [\"a\", {}]}", -EPROTO}, /* root tuples have 3 elements */
		{"{0: [\"a\", {0: [\"b\", {}, {}]}, P]}", -EPROTO}, /* inner ones 2 */
		{"{0: [1, {}, P]}", -EPROTO},
		{"{0: [\"a\", 1, P]}", -EPROTO},
		{"[\"a\"]", -EPROTO},
		{"{\"x\": [\"a\", {}, P]}", -EPROTO},
		{"{0: [\"a\", {0: [\"b\", {0: [\"c\", {0: [\"d\", {0: [\"e\", {0: [\"f\", {0: [\"g\", "
		 "{0: [\"h\", {0: [\"i\", {0: [\"j\", {0: [\"k\", {0: [\"l\", {0: [\"m\", {0: [\"n\", "
		 "{0: [\"o\", {0: [\"p\", {0: [\"q\", {}]}]}]}]}]}]}]}]}]}]}]}]}]}]}]}]}, P]}",
		 -ELOOP},
	};
	static struct sl_gnode nodes[64];
	static struct sl_gslot slots[64];
	static char names[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = note(buf_a, sizeof(buf_a), cases[i].note);
		struct sl_seg seg = {buf_a, (uint32_t)n};
		struct sl_graph_arena a;
		const struct sl_gnode *root;
		struct sl_mp_cur c;

		sl_graph_arena_init(&a, nodes, 64, slots, 64, names, sizeof(names));
		sl_mp_cur_init(&c, &seg, 1, 0, (uint32_t)n);
		cr_assert_eq(sl_graph_dec_root(&c, &a, &root), cases[i].rc, "%s", cases[i].note);
	}
}

Test(native_graph, arena_too_small_and_sorting)
{
	static struct sl_gnode nodes[4];
	static struct sl_gslot slots[8];
	static char names[64];
	size_t n = note(buf_a, sizeof(buf_a),
			"{2: [\"c\", {}, P], 0: [\"a\", {}, P], 1: [\"b\", S, P]}");
	struct sl_seg seg = {buf_a, (uint32_t)n};
	struct sl_graph_arena a;
	const struct sl_gnode *root;
	struct sl_mp_cur c;

	/* 1 root + 5 P/S nodes: 4 is too few */
	sl_graph_arena_init(&a, nodes, 4, slots, 8, names, sizeof(names));
	sl_mp_cur_init(&c, &seg, 1, 0, (uint32_t)n);
	cr_assert_eq(sl_graph_dec_root(&c, &a, &root), -ENOBUFS);
	{
		static struct sl_gnode more[8];
		static struct sl_gslot sl[32];

		sl_graph_arena_init(&a, more, 8, sl, 32, names, sizeof(names));
		sl_mp_cur_init(&c, &seg, 1, 0, (uint32_t)n);
		cr_assert_eq(sl_graph_dec_root(&c, &a, &root), 0);
		cr_assert_eq(root->slots[0].id, 0);
		cr_assert_eq(root->slots[1].id, 1);
		cr_assert_eq(root->slots[2].id, 2);
		cr_assert_str_eq(sl_graph_find(root, 1)->name, "b");
		cr_assert(sl_graph_equal(sl_graph_find(root, 1)->dispatch, &sl_proto_streaming,
					 false));
		cr_assert_null(sl_graph_find(root, 3));
	}
}
