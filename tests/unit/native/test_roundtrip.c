/*
 * Round trips for every message of the locator, node, app, worker and storage protocols
 * (and logging): each exchange is written in the doc's notation and packed by msgpack-c,
 * decoded by our frame decoder (split in two buffers at every boundary), followed by both
 * sides' channel state machines, re-encoded by our encoder to the same bytes, and its args
 * compared with msgpack-c's reading through the msgpack-c wrapper.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>
#include <msgpack.h>

#include "helpers.h"
#include "native.h"
#include "native-mpc.h"

struct step {
	char from; /* 'a': the side that calls (client, or the worker), 'b': the other */
	const char *frame;
};

struct scenario {
	const char *name;
	const struct sl_gnode *a_serve, *a_call, *b_serve, *b_call;
	uint32_t a_left, b_left; /* channels still open at the end */
	const struct step *steps;
};

#define CLIENT_SERVER(root) NULL, (root), (root), NULL

static const struct step locator_steps[] = {
	{'a', "[1, 0, [\"storage\"], []]"},
	{'b', "[1, 0, [[[\"10.0.0.1\", 53000], [\"::1\", 53000]], 1, {0: [\"read\", {}, P], "
	      "1: [\"write\", {}, P], 2: [\"remove\", {}, P], 3: [\"find\", {}, P]}], []]"},
	{'a', "[2, 0, [\"nope\"], []]"},
	{'b', "[2, 1, [[10, 1], \"service is not available\"], []]"},
	{'a', "[3, 1, [\"uuid-a\"], []]"},
	{'b',
	 "[3, 0, [\"uuid-b\", {\"echo\": [[[\"10.0.0.2\", 40000]], 1, {0: [\"ping\", {}, P]}]}], []]"},
	{'b', "[3, 0, [\"uuid-b\", {\"echo\": [[], 1, {}]}], []]"},
	{'b', "[3, 2, [], []]"},
	{'a', "[4, 2, [[\"group1\", \"group2\"]], []]"},
	{'b', "[4, 0, [], []]"},
	{'a', "[5, 3, [], []]"},
	{'b', "[5, 0, [{\"uuid-b\": [\"10.0.0.2\", 10053]}], []]"},
	{'a', "[6, 4, [\"app@1\", [[\"10.0.0.3\", 20000]], [1, {0: [\"enqueue\", S, S]}]], []]"},
	{'b', "[6, 0, [], []]"},
	{'a', "[6, 0, [], []]"}, /* discard */
	{'a', "[7, 5, [\"router-1\"], []]"},
	{'b', "[7, 0, [{\"app\": [[12345, \"app@1\"], [4000000000, \"app@2\"]]}], []]"},
	{'a', "[7, 0, [], []]"}, /* discard */
	{'b', "[7, 2, [], []]"},
	{'a', "[8, 6, [], []]"},
	{'b', "[8, 0, [\"9f6b3c40-uuid\"], []]"},
	{'a', "[9, 1, [\"x\"], []]"},
	{'b', "[9, 1, [[10, 5], \"gateway missing\"], []]"},
	{0, NULL},
};

static const struct step node_steps[] = {
	{'a', "[1, 0, [\"echo\", \"default\"], []]"},
	{'b', "[1, 0, [], []]"},
	{'a', "[2, 1, [\"echo\"], []]"},
	{'b', "[2, 1, [[0x51ff, 6], \"not running\"], []]"},
	{'a', "[3, 2, [], []]"},
	{'b', "[3, 0, [[\"echo\", \"http\"]], []]"},
	{'a', "[4, 3, [\"echo\", 1], []]"},
	{'b', "[4, 0, [{\"state\": \"running\", \"queue\": {\"capacity\": 100, \"depth\": 0}, "
	      "\"load\": 0}], []]"},
	{'a', "[5, 4, [\"echo\"], []]"},
	{'a', "[5, 0, [4], []]"},
	{'a', "[5, 0, [-1], []]"},
	{'a', "[5, 2, [], []]"},
	{'b', "[5, 0, [], []]"},
	{'a', "[6, 5, [\"echo\", \"ping\"], []]"},
	{'a', "[6, 0, [\"data\"], []]"},
	{'a', "[6, 2, [], []]"},
	{'b', "[6, 0, [\"pong\"], []]"},
	{'b', "[6, 2, [], []]"},
	{0, NULL},
};

static const struct step app_steps[] = {
	{'a',
	 "[1, 0, [\"ping\"], [[false, \"trace_id\", h\"0100000000000000\"], "
	 "[false, \"span_id\", h\"0200000000000000\"], [false, \"parent_id\", h\"0000000000000000\"]]]"},
	{'a', "[1, 0, [\"hello\"], []]"},
	{'a', "[1, 2, [], []]"},
	{'b', "[1, 0, [\"hello\"], []]"},
	{'b', "[1, 2, [], []]"},
	/* 12a.6: write and close after an error */
	{'a', "[2, 0, [\"ping\"], []]"},
	{'b', "[2, 1, [[0x52ff, 1], \"queue is full\"], []]"},
	{'a', "[2, 0, [\"late\"], []]"},
	{'a', "[2, 2, [], []]"},
	{'a', "[3, 1, [], []]"},
	{'b', "[3, 0, [{\"state\": \"running\", \"load\": 0}], []]"},
	{'a', "[4, 2, [], []]"},
	{'a', "[4, 0, [2], []]"},
	{'a', "[4, 2, [], []]"},
	{'b', "[4, 0, [], []]"},
	/* 12a.3: stored headers, then indices */
	{'a', "[5, 0, [\"ping\"], [[true, \"trace_id\", h\"0500000000000000\"]]]"},
	{'a', "[5, 2, [], [83, [true, 83, h\"0600000000000000\"]]]"},
	{'b', "[5, 2, [], []]"},
	/* the client errors its own stream */
	{'a', "[6, 0, [\"x\"], []]"},
	{'a', "[6, 1, [[42, 1], \"oops\"], []]"},
	{'b', "[6, 2, [], []]"},
	{0, NULL},
};

static const struct step worker_steps[] = {
	{'a', "[1, 0, [\"uuid-w\"]]"}, /* handshake, 3 elements (12a.1) */
	{'a', "[1, 0, []]"},	       /* heartbeat */
	{'b', "[1, 0, [], []]"},
	{'b', "[2, 0, [\"ping\"], [80, [true, \"PING\", \"A\"]]]"},
	{'b', "[2, 0, [\"body\"], [[false, 83, \"B\"]]]"},
	{'b', "[2, 2, [], []]"},
	{'a', "[2, 0, [\"pong\"]]"},
	{'a', "[2, 2, []]"},
	{'b', "[3, 0, [\"nope\"], []]"},
	{'a', "[3, 1, [[42, 200], \"there is no handler for event nope\"]]"},
	{'b', "[3, 0, [\"body\"], []]"},
	{'b', "[3, 2, [], []]"},
	{'b', "[4, 0, [\"boom\"], []]"},
	{'b', "[4, 2, [], []]"},
	{'a', "[4, 1, [[42, 100], \"uncaught\"]]"},
	{'b', "[1, 1, [1, \"idle\"], []]"}, /* terminate */
	{'a', "[1, 1, [1, \"idle\"]]"},	    /* echoed (12a.7) */
	{0, NULL},
};

static const struct step storage_steps[] = {
	{'a', "[1, 0, [\"manifests\", \"echo\"], []]"},
	{'b', "[1, 0, [h\"81a5736c617665a5656368"
	      "6f\"], []]"},
	{'a', "[2, 1, [\"manifests\", \"echo\", h\"80\", [\"app\"]], []]"},
	{'b', "[2, 0, [], []]"},
	{'a', "[3, 2, [\"manifests\", \"echo\"], []]"},
	{'b', "[3, 1, [[1, 2], \"No such file or directory\"], []]"},
	{'a', "[4, 3, [\"manifests\", [\"app\", \"active\"]], []]"},
	{'b', "[4, 0, [[\"echo\", \"http\"]], []]"},
	{0, NULL},
};

static const struct step logging_steps[] = {
	{'a', "[1, 0, [2, \"app/echo\", \"hello\", [[\"k\", \"v\"]]], []]"},
	{'a', "[2, 1, [], []]"},
	{'b', "[2, 0, [1], []]"},
	{'a', "[3, 2, [0], []]"},
	{'b', "[3, 0, [], []]"},
	{0, NULL},
};

static const struct scenario scenarios[] = {
	{"locator", CLIENT_SERVER(&sl_proto_locator), 0, 0, locator_steps},
	{"node", CLIENT_SERVER(&sl_proto_node), 0, 0, node_steps},
	{"app", CLIENT_SERVER(&sl_proto_app), 0, 0, app_steps},
	{"worker", &sl_proto_worker_rpc, &sl_proto_worker, &sl_proto_worker, &sl_proto_worker_rpc,
	 1, 1, worker_steps},
	{"storage", CLIENT_SERVER(&sl_proto_storage), 0, 0, storage_steps},
	{"logging", CLIENT_SERVER(&sl_proto_logging), 0, 0, logging_steps},
};

/* Sender side: an open channel follows send, a new one must get the next id. */
static void
sender(struct sl_sess *s, const struct sl_frame *f, const char *what)
{
	struct sl_chan_ev ev;

	if (sl_sess_find(s, f->channel) != NULL) {
		cr_assert_eq(sl_sess_send(s, f->channel, f->type, &ev), 0, "%s: send", what);
	} else {
		cr_assert_eq(sl_sess_open(s, f->type, NULL, &ev), 0, "%s: open", what);
		cr_assert_eq(ev.id, f->channel, "%s: channel ids come from the shared counter",
			     what);
	}
}

static void
run(const struct scenario *sc)
{
	static struct sl_chan ta[64], tb[64];
	static struct sl_frame_dec to_a, to_b; /* decoders of each direction */
	static struct sl_hdrs h;
	static uint8_t bytes[8192], again[8192];
	struct sl_sess a, b;
	const struct step *st;

	sl_sess_init(&a, sc->a_serve, sc->a_call, ta, 64);
	sl_sess_init(&b, sc->b_serve, sc->b_call, tb, 64);
	sl_frame_dec_init(&to_a, NULL);
	sl_frame_dec_init(&to_b, NULL);
	for (st = sc->steps; st->frame != NULL; st++) {
		size_t n = note(bytes, sizeof(bytes), st->frame);
		struct sl_frame_dec *dec = st->from == 'a' ? &to_b : &to_a;
		struct sl_sess *tx = st->from == 'a' ? &a : &b;
		struct sl_sess *rx = st->from == 'a' ? &b : &a;
		uint32_t cut = (uint32_t)((st - sc->steps) * 7 % (n + 1));
		struct sl_seg two[2] = {{bytes, cut}, {bytes + cut, (uint32_t)n - cut}};
		struct sl_seg one = {bytes, (uint32_t)n};
		struct sl_chan_ev ev;
		struct sl_frame f;
		struct sl_mp_cur c;
		struct sl_mp_w w;
		msgpack_zone z;
		msgpack_object whole, args;
		size_t off = 0;
		uint32_t k;

		/* decode, split across two buffers */
		cr_assert_eq(sl_frame_dec_next(dec, two, 2, 0, &f, &h), (int)n, "%s: %s", sc->name,
			     st->frame);
		/* both state machines accept it */
		sender(tx, &f, st->frame);
		cr_assert_eq(sl_sess_recv(rx, f.channel, f.type, &ev), 0, "%s: recv %s", sc->name,
			     st->frame);
		/* our encoder writes the same bytes back */
		sl_mp_cur_init(&c, &one, 1, 0, (uint32_t)n);
		sl_mp_w_init(&w, again, sizeof(again));
		cr_assert_eq(reencode(&c, &w), 0);
		cr_assert_eq(w.len, n, "%s: %s", sc->name, st->frame);
		cr_assert_eq(memcmp(again, bytes, n), 0, "%s: %s re-encoded as %s", sc->name,
			     st->frame, hex(again, w.len));
		/* the args as msgpack-c reads them, through the limited wrapper */
		msgpack_zone_init(&z, 2048);
		cr_assert_eq(msgpack_unpack((const char *)bytes, n, &off, &z, &whole),
			     MSGPACK_UNPACK_SUCCESS);
		cr_assert_eq(sl_mpc_unpack_cur(&f.args_obj, &z, &args), 0);
		cr_assert(msgpack_object_equal(args, whole.via.array.ptr[2]), "%s: args of %s",
			  sc->name, st->frame);
		cr_assert_eq(args.via.array.size, f.nargs);
		msgpack_zone_destroy(&z);
		/* and every split decodes the same with a fresh decoder chain */
		for (k = 0; k <= n; k += 3) {
			struct sl_seg s2[2] = {{bytes, k}, {bytes + k, (uint32_t)n - k}};
			static char d1[16384], d2[16384];

			if (f.nhdrs != 0)
				break; /* the header table already moved on: covered in test_frame
					*/
			cr_assert_eq(frame_digest(&one, 1, 0, d1, sizeof(d1)), (int)n);
			cr_assert_eq(frame_digest(s2, 2, 0, d2, sizeof(d2)), (int)n);
			cr_assert_str_eq(d1, d2);
		}
	}
	cr_assert_eq(sl_sess_count(&a), sc->a_left, "%s: channels left on the calling side",
		     sc->name);
	cr_assert_eq(sl_sess_count(&b), sc->b_left, "%s: channels left on the other side",
		     sc->name);
}

Test(native_roundtrip, locator)
{
	run(&scenarios[0]);
}

Test(native_roundtrip, node)
{
	run(&scenarios[1]);
}

Test(native_roundtrip, app)
{
	run(&scenarios[2]);
}

Test(native_roundtrip, worker)
{
	run(&scenarios[3]);
}

Test(native_roundtrip, storage)
{
	run(&scenarios[4]);
}

Test(native_roundtrip, logging)
{
	run(&scenarios[5]);
}

/* Every message of every graph is exercised by the scenarios above. */
Test(native_roundtrip, every_message_is_covered)
{
	static const struct {
		const struct sl_gnode *root;
		const struct step *steps;
	} map[] = {
		{&sl_proto_locator, locator_steps}, {&sl_proto_node, node_steps},
		{&sl_proto_app, app_steps},	    {&sl_proto_storage, storage_steps},
		{&sl_proto_logging, logging_steps},
	};
	size_t i;
	uint32_t j;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		for (j = 0; j < map[i].root->nslots; j++) {
			const struct step *st;
			char prefix[32];
			int found = 0;

			/* an opener frame "[ch, <id>, " sent by the calling side */
			for (st = map[i].steps; st->frame != NULL; st++) {
				snprintf(prefix, sizeof(prefix), ", %u, ",
					 map[i].root->slots[j].id);
				if (st->from == 'a' && strstr(st->frame, prefix) == st->frame + 2)
					found = 1;
			}
			cr_assert(found, "method %s has no exchange", map[i].root->slots[j].name);
		}
	}
}
