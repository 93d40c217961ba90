/*
 * dataplane/native/chan.c: the channel state machine (cocaine-protocol.md 1.5, 1.6, 5.3,
 * 12a.4, 12a.6, 12a.7).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "native.h"

static struct sl_chan tab[64];

Test(native_chan, init_checks_capacity)
{
	struct sl_sess s;

	cr_assert_eq(sl_sess_init(&s, &sl_proto_app, NULL, tab, 0), -EINVAL);
	cr_assert_eq(sl_sess_init(&s, &sl_proto_app, NULL, tab, 1), -EINVAL);
	cr_assert_eq(sl_sess_init(&s, &sl_proto_app, NULL, tab, 48), -EINVAL);
	cr_assert_eq(sl_sess_init(&s, &sl_proto_app, NULL, tab, 64), 0);
}

/* A server (app service): enqueue, write, close from the client; write, close back. */
Test(native_chan, app_enqueue_exchange)
{
	struct sl_sess s;
	struct sl_chan_ev ev;

	sl_sess_init(&s, &sl_proto_app, NULL, tab, 64);
	cr_assert_eq(sl_sess_recv(&s, 1, SL_APP_ENQUEUE, &ev), 0);
	cr_assert(ev.opened);
	cr_assert_str_eq(ev.slot->name, "enqueue");
	cr_assert_not(ev.rx_done);
	cr_assert_eq(sl_sess_recv(&s, 1, SL_STREAM_WRITE, &ev), 0);
	cr_assert_str_eq(ev.slot->name, "write");
	cr_assert_eq(sl_sess_recv(&s, 1, SL_STREAM_WRITE, &ev), 0, "write is recursive");
	cr_assert_eq(sl_sess_send(&s, 1, SL_STREAM_WRITE, &ev), 0);
	cr_assert_eq(sl_sess_recv(&s, 1, SL_STREAM_CLOSE, &ev), 0);
	cr_assert(ev.rx_done);
	cr_assert_not(ev.closed);
	cr_assert_eq(sl_sess_count(&s), 1);
	/* the client finished: anything more on channel 1 is a revoked channel */
	cr_assert_eq(sl_sess_recv(&s, 1, SL_STREAM_WRITE, &ev), -EPIPE);
	cr_assert_eq(sl_sess_send(&s, 1, SL_STREAM_CLOSE, &ev), 0);
	cr_assert(ev.closed);
	cr_assert_eq(sl_sess_count(&s), 0);
	cr_assert_eq(sl_sess_recv(&s, 1, SL_APP_ENQUEUE, &ev), -EPIPE, "ids are never reused");
	cr_assert_eq(sl_sess_send(&s, 1, SL_STREAM_CLOSE, &ev), -EPIPE);
}

/* 12a.6: after our error, the client's remaining write/close are not violations. */
Test(native_chan, write_and_close_after_error)
{
	struct sl_sess s;
	struct sl_chan_ev ev;

	sl_sess_init(&s, &sl_proto_app, NULL, tab, 64);
	cr_assert_eq(sl_sess_recv(&s, 3, SL_APP_ENQUEUE, &ev), 0);
	cr_assert_eq(sl_sess_send(&s, 3, SL_STREAM_ERROR, &ev), 0);
	cr_assert(ev.tx_done);
	cr_assert_not(ev.closed);
	cr_assert_eq(sl_sess_send(&s, 3, SL_STREAM_WRITE, &ev), -EPIPE, "nothing after our error");
	cr_assert_eq(sl_sess_recv(&s, 3, SL_STREAM_WRITE, &ev), 0);
	cr_assert_eq(sl_sess_recv(&s, 3, SL_STREAM_WRITE, &ev), 0);
	cr_assert_eq(sl_sess_recv(&s, 3, SL_STREAM_CLOSE, &ev), 0);
	cr_assert(ev.closed);
	cr_assert_eq(sl_sess_count(&s), 0);
}

Test(native_chan, ids_any_first_then_increasing)
{
	struct sl_sess s;
	struct sl_chan_ev ev;

	sl_sess_init(&s, &sl_proto_locator, NULL, tab, 64);
	/* 12a.4: the logging resolver opens with 999999 */
	cr_assert_eq(sl_sess_recv(&s, 999999, SL_LOCATOR_RESOLVE, &ev), 0);
	cr_assert(ev.opened);
	cr_assert(ev.rx_done, "resolve has nothing after it");
	cr_assert_eq(sl_sess_recv(&s, 5, SL_LOCATOR_RESOLVE, &ev), -EPIPE, "below the maximum");
	cr_assert_eq(sl_sess_recv(&s, 999999, SL_LOCATOR_RESOLVE, &ev), -EPIPE);
	cr_assert_eq(sl_sess_send(&s, 999999, SL_PRIM_VALUE, &ev), 0);
	cr_assert(ev.closed);
	cr_assert_eq(sl_sess_recv(&s, 1000001, SL_LOCATOR_CLUSTER, &ev), 0, "gaps are fine");
	cr_assert_eq(sl_sess_recv(&s, 1000000, SL_LOCATOR_CLUSTER, &ev), -EPIPE);
}

Test(native_chan, unknown_slots)
{
	struct sl_sess s;
	struct sl_chan_ev ev;

	sl_sess_init(&s, &sl_proto_app, NULL, tab, 64);
	cr_assert_eq(sl_sess_recv(&s, 1, 7, &ev), -ENOENT, "not a method of the root");
	cr_assert_eq(sl_sess_recv(&s, 1, SL_APP_INFO, &ev), 0);
	cr_assert(ev.rx_done);
	cr_assert_eq(sl_sess_recv(&s, 2, SL_APP_ENQUEUE, &ev), 0);
	cr_assert_eq(sl_sess_recv(&s, 2, 3, &ev), -ENOENT, "not in the streaming protocol");
	cr_assert_eq(sl_sess_send(&s, 2, 3, &ev), -ENOENT);
	cr_assert_eq(sl_sess_send(&s, 1, SL_STREAM_CLOSE, &ev), -ENOENT,
		     "info answers with value/error, id 2 is not in it");
	cr_assert_eq(sl_sess_send(&s, 1, SL_PRIM_ERROR, &ev), 0);
	cr_assert(ev.closed);
	/* a client session: the peer may not open channels */
	sl_sess_init(&s, NULL, &sl_proto_app, tab, 64);
	cr_assert_eq(sl_sess_recv(&s, 1, 0, &ev), -ENOTCONN);
	cr_assert_eq(sl_sess_open(&s, 9, NULL, &ev), -ENOENT);
	/* a server does not open channels */
	sl_sess_init(&s, &sl_proto_app, NULL, tab, 64);
	cr_assert_eq(sl_sess_open(&s, 0, NULL, &ev), -ENOTCONN);
}

Test(native_chan, client_side_follows_upstream)
{
	struct sl_sess s;
	struct sl_chan_ev ev;
	int user;

	sl_sess_init(&s, NULL, &sl_proto_app, tab, 64);
	cr_assert_eq(sl_sess_open(&s, SL_APP_ENQUEUE, &user, &ev), 0);
	cr_assert_eq(ev.id, 1);
	cr_assert_eq(sl_sess_open(&s, SL_APP_INFO, NULL, &ev), 0);
	cr_assert_eq(ev.id, 2);
	cr_assert(ev.tx_done);
	cr_assert_eq(sl_sess_send(&s, 1, SL_STREAM_WRITE, &ev), 0);
	cr_assert_eq(ev.user, &user);
	cr_assert_eq(sl_sess_send(&s, 1, SL_STREAM_CLOSE, &ev), 0);
	cr_assert_eq(sl_sess_recv(&s, 1, SL_STREAM_WRITE, &ev), 0);
	cr_assert_eq(sl_sess_recv(&s, 2, SL_PRIM_VALUE, &ev), 0);
	cr_assert(ev.closed);
	cr_assert_eq(sl_sess_recv(&s, 1, SL_STREAM_CLOSE, &ev), 0);
	cr_assert(ev.closed);
	cr_assert_eq(ev.user, &user);
	cr_assert_eq(sl_sess_count(&s), 0);
	cr_assert_eq(sl_sess_recv(&s, 3, SL_PRIM_VALUE, &ev), -ENOTCONN);
}

/* 5.3: the runtime side of a v1 worker connection. */
Test(native_chan, worker_protocol_v1)
{
	struct sl_sess rt, wk;
	static struct sl_chan tab2[16];
	struct sl_chan_ev ev;
	int i;

	sl_sess_init(&rt, &sl_proto_worker, &sl_proto_worker_rpc, tab, 64);
	sl_sess_init(&wk, &sl_proto_worker_rpc, &sl_proto_worker, tab2, 16);
	/* handshake opens channel 1 */
	cr_assert_eq(sl_sess_open(&wk, SL_WORKER_HANDSHAKE, NULL, &ev), 0);
	cr_assert_eq(ev.id, SL_WORKER_CONTROL_CHANNEL);
	cr_assert_eq(sl_sess_recv(&rt, 1, SL_WORKER_HANDSHAKE, &ev), 0);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(sl_sess_send(&wk, 1, SL_CONTROL_HEARTBEAT, &ev), 0);
		cr_assert_eq(sl_sess_recv(&rt, 1, SL_CONTROL_HEARTBEAT, &ev), 0);
		cr_assert_eq(sl_sess_send(&rt, 1, SL_CONTROL_HEARTBEAT, &ev), 0);
		cr_assert_eq(sl_sess_recv(&wk, 1, SL_CONTROL_HEARTBEAT, &ev), 0);
	}
	/* invocations on 2, 3: ids from the shared counter */
	cr_assert_eq(sl_sess_open(&rt, SL_RPC_INVOKE, NULL, &ev), 0);
	cr_assert_eq(ev.id, 2);
	cr_assert_eq(sl_sess_recv(&wk, 2, SL_RPC_INVOKE, &ev), 0);
	cr_assert_eq(sl_sess_open(&rt, SL_RPC_INVOKE, NULL, &ev), 0);
	cr_assert_eq(ev.id, 3);
	cr_assert_eq(sl_sess_recv(&wk, 3, SL_RPC_INVOKE, &ev), 0);
	/* 12a.7: the worker errors before reading the body; the runtime still writes it */
	cr_assert_eq(sl_sess_send(&wk, 3, SL_STREAM_ERROR, &ev), 0);
	cr_assert_eq(sl_sess_recv(&rt, 3, SL_STREAM_ERROR, &ev), 0);
	cr_assert(ev.rx_done);
	cr_assert_eq(sl_sess_send(&rt, 3, SL_STREAM_WRITE, &ev), 0);
	cr_assert_eq(sl_sess_recv(&wk, 3, SL_STREAM_WRITE, &ev), 0);
	cr_assert_eq(sl_sess_send(&rt, 3, SL_STREAM_CLOSE, &ev), 0);
	cr_assert(ev.closed);
	cr_assert_eq(sl_sess_recv(&wk, 3, SL_STREAM_CLOSE, &ev), 0);
	cr_assert(ev.closed);
	/* terminate both ways keeps the control channel in the control protocol */
	cr_assert_eq(sl_sess_send(&rt, 1, SL_CONTROL_TERMINATE, &ev), 0);
	cr_assert_eq(sl_sess_recv(&wk, 1, SL_CONTROL_TERMINATE, &ev), 0);
	cr_assert_eq(sl_sess_send(&wk, 1, SL_CONTROL_TERMINATE, &ev), 0);
	cr_assert_eq(sl_sess_recv(&rt, 1, SL_CONTROL_TERMINATE, &ev), 0);
	cr_assert_not(ev.closed);
	/* channel 2: the worker answers write + close, the runtime closes its side */
	cr_assert_eq(sl_sess_recv(&rt, 2, SL_STREAM_WRITE, &ev), 0);
	cr_assert_eq(sl_sess_recv(&rt, 2, SL_STREAM_CLOSE, &ev), 0);
	cr_assert_eq(sl_sess_send(&rt, 2, SL_STREAM_CLOSE, &ev), 0);
	cr_assert(ev.closed);
	cr_assert_eq(sl_sess_recv(&rt, 2, SL_STREAM_WRITE, &ev), -EPIPE);
	cr_assert_eq(sl_sess_count(&rt), 1, "only the control channel is left");
}

Test(native_chan, logging_emit_has_no_channel_left)
{
	struct sl_sess s;
	struct sl_chan_ev ev;

	sl_sess_init(&s, &sl_proto_logging, NULL, tab, 64);
	cr_assert_eq(sl_sess_recv(&s, 1, SL_LOGGING_EMIT, &ev), 0);
	cr_assert(ev.closed);
	cr_assert_eq(sl_sess_count(&s), 0);
	cr_assert_eq(sl_sess_recv(&s, 1, SL_LOGGING_EMIT, &ev), -EPIPE);
}

Test(native_chan, locator_publish_and_routing)
{
	struct sl_sess s;
	struct sl_chan_ev ev;

	sl_sess_init(&s, &sl_proto_locator, NULL, tab, 64);
	cr_assert_eq(sl_sess_recv(&s, 1, SL_LOCATOR_PUBLISH, &ev), 0);
	cr_assert_eq(sl_sess_send(&s, 1, SL_PRIM_VALUE, &ev), 0);
	cr_assert_not(ev.closed, "the client may still discard");
	cr_assert_eq(sl_sess_recv(&s, 1, SL_LOCATOR_DISCARD, &ev), 0);
	cr_assert(ev.closed);
	cr_assert_eq(sl_sess_recv(&s, 2, SL_LOCATOR_ROUTING, &ev), 0);
	cr_assert_eq(sl_sess_send(&s, 2, SL_STREAM_WRITE, &ev), 0);
	cr_assert_eq(sl_sess_send(&s, 2, SL_STREAM_WRITE, &ev), 0);
	cr_assert_eq(sl_sess_recv(&s, 2, SL_LOCATOR_DISCARD, &ev), 0);
	cr_assert_eq(sl_sess_recv(&s, 2, SL_LOCATOR_DISCARD, &ev), -EPIPE);
	cr_assert_eq(sl_sess_send(&s, 2, SL_STREAM_CLOSE, &ev), 0);
	cr_assert(ev.closed);
}

Test(native_chan, table_churn_and_full)
{
	static struct sl_chan small[8];
	struct sl_sess s;
	struct sl_chan_ev ev;
	uint32_t pos = 0, seen = 0;
	uint64_t id;

	sl_sess_init(&s, &sl_proto_app, NULL, small, 8);
	for (id = 1; id <= 7; id++)
		cr_assert_eq(sl_sess_recv(&s, id * 8, SL_APP_ENQUEUE, &ev), 0);
	cr_assert_eq(sl_sess_recv(&s, 100, SL_APP_ENQUEUE, &ev), -ENOSPC);
	while (sl_sess_next(&s, &pos) != NULL)
		seen++;
	cr_assert_eq(seen, 7);
	/* close them in a scrambled order; every other stays findable */
	for (id = 1; id <= 7; id++) {
		uint64_t ch = ((id * 3) % 7 + 1) * 8;
		uint64_t k;

		cr_assert_eq(sl_sess_recv(&s, ch, SL_STREAM_CLOSE, &ev), 0);
		cr_assert_eq(sl_sess_send(&s, ch, SL_STREAM_CLOSE, &ev), 0);
		cr_assert(ev.closed);
		cr_assert_null(sl_sess_find(&s, ch));
		for (k = 1; k <= 7; k++) {
			uint64_t other = k * 8;
			int done = 0;
			uint64_t j;

			for (j = 1; j <= id; j++)
				done |= other == ((j * 3) % 7 + 1) * 8;
			cr_assert_eq(sl_sess_find(&s, other) == NULL, done);
		}
	}
	cr_assert_eq(sl_sess_count(&s), 0);
	/* a long run of opens and closes through a small table */
	for (id = 200; id < 20000; id++) {
		cr_assert_eq(sl_sess_recv(&s, id, SL_APP_ENQUEUE, &ev), 0);
		if (id % 3 == 0) {
			sl_sess_recv(&s, id - 2, SL_STREAM_CLOSE, &ev);
			sl_sess_send(&s, id - 2, SL_STREAM_CLOSE, &ev);
			sl_sess_forget(&s, id - 1);
			sl_sess_send(&s, id, SL_STREAM_ERROR, &ev);
			sl_sess_recv(&s, id, SL_STREAM_CLOSE, &ev);
		}
		cr_assert_leq(sl_sess_count(&s), 7);
	}
}
