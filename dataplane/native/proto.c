/*
 * The protocols sluice speaks, as static dispatch graphs (cocaine-protocol.md 1.6, 2.3, 3.2,
 * 4.2, 5.3, 10). Slots are sorted by id. A root slot's `dispatch` is what its sender may send
 * next, its `upstream` what the receiver answers; NULL = nil (stay), sl_graph_terminal = {}.
 *
 * Node ids follow section 3.2 (start_app 0, pause_app 1, list 2, info 3, control 4, enqueue 5),
 * which is what sluice-node advertises in its resolve reply; clients look methods up by name.
 */
#include <stddef.h>

#include "sl_util.h"

#include "native-graph.h"

/* clang-format off */
#define SLOT(i, n, d, u) {.id = (i), .name_len = sizeof(n) - 1, .name = (n), .dispatch = (d), .upstream = (u)}
#define NODE(s) {.nslots = SL_ARRAY_SIZE(s), .slots = (s)}
#define T (&sl_graph_terminal)
#define P (&sl_proto_primitive)
#define S (&sl_proto_streaming)
/* clang-format on */

const struct sl_gnode sl_graph_terminal = {.nslots = 0, .slots = NULL};

static const struct sl_gslot primitive_slots[] = {
	SLOT(SL_PRIM_VALUE, "value", T, NULL),
	SLOT(SL_PRIM_ERROR, "error", T, NULL),
};
const struct sl_gnode sl_proto_primitive = NODE(primitive_slots);

static const struct sl_gslot streaming_slots[] = {
	SLOT(SL_STREAM_WRITE, "write", NULL, NULL),
	SLOT(SL_STREAM_ERROR, "error", T, NULL),
	SLOT(SL_STREAM_CLOSE, "close", T, NULL),
};
const struct sl_gnode sl_proto_streaming = NODE(streaming_slots);

/* publish and routing: the client may later send `discard` (then nothing) */
static const struct sl_gslot discard_slots[] = {
	SLOT(SL_LOCATOR_DISCARD, "discard", T, NULL),
};
static const struct sl_gnode discard = NODE(discard_slots);

static const struct sl_gslot locator_slots[] = {
	SLOT(SL_LOCATOR_RESOLVE, "resolve", T, P),
	SLOT(SL_LOCATOR_CONNECT, "connect", T, S),
	SLOT(SL_LOCATOR_REFRESH, "refresh", T, P),
	SLOT(SL_LOCATOR_CLUSTER, "cluster", T, P),
	SLOT(SL_LOCATOR_PUBLISH, "publish", &discard, P),
	SLOT(SL_LOCATOR_ROUTING, "routing", &discard, S),
	SLOT(SL_LOCATOR_UUID, "uuid", T, P),
};
const struct sl_gnode sl_proto_locator = NODE(locator_slots);

static const struct sl_gslot node_slots[] = {
	SLOT(SL_NODE_START_APP, "start_app", T, P), SLOT(SL_NODE_PAUSE_APP, "pause_app", T, P),
	SLOT(SL_NODE_LIST, "list", T, P),	    SLOT(SL_NODE_INFO, "info", T, P),
	SLOT(SL_NODE_CONTROL, "control", S, P),	    SLOT(SL_NODE_ENQUEUE, "enqueue", S, S),
};
const struct sl_gnode sl_proto_node = NODE(node_slots);

static const struct sl_gslot app_slots[] = {
	SLOT(SL_APP_ENQUEUE, "enqueue", S, S),
	SLOT(SL_APP_INFO, "info", T, P),
	SLOT(SL_APP_CONTROL, "control", S, P),
};
const struct sl_gnode sl_proto_app = NODE(app_slots);

static const struct sl_gslot storage_slots[] = {
	SLOT(SL_STORAGE_READ, "read", T, P),
	SLOT(SL_STORAGE_WRITE, "write", T, P),
	SLOT(SL_STORAGE_REMOVE, "remove", T, P),
	SLOT(SL_STORAGE_FIND, "find", T, P),
};
const struct sl_gnode sl_proto_storage = NODE(storage_slots);

/* emit has no reply at all (10, logging v2) */
static const struct sl_gslot logging_slots[] = {
	SLOT(SL_LOGGING_EMIT, "emit", T, T),
	SLOT(SL_LOGGING_VERBOSITY, "verbosity", T, P),
	SLOT(SL_LOGGING_SET_VERBOSITY, "set_verbosity", T, P),
};
const struct sl_gnode sl_proto_logging = NODE(logging_slots);

static const struct sl_gslot echo_slots[] = {
	SLOT(SL_ECHO_PING, "ping", T, P),
};
const struct sl_gnode sl_proto_echo = NODE(echo_slots);

/* heartbeat and terminate keep the control channel in the control protocol both ways */
static const struct sl_gslot control_slots[] = {
	SLOT(SL_CONTROL_HEARTBEAT, "heartbeat", NULL, NULL),
	SLOT(SL_CONTROL_TERMINATE, "terminate", NULL, NULL),
};
const struct sl_gnode sl_proto_worker_control = NODE(control_slots);

static const struct sl_gslot worker_slots[] = {
	SLOT(SL_WORKER_HANDSHAKE, "handshake", &sl_proto_worker_control, &sl_proto_worker_control),
};
const struct sl_gnode sl_proto_worker = NODE(worker_slots);

static const struct sl_gslot rpc_slots[] = {
	SLOT(SL_RPC_INVOKE, "invoke", S, S),
};
const struct sl_gnode sl_proto_worker_rpc = NODE(rpc_slots);
