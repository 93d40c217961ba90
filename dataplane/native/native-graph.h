/**
 * @file
 * Cocaine 0.12 dispatch graphs (cocaine-protocol.md 1.6) and the protocols sluice speaks:
 * static descriptions of the locator, node, app, storage, logging, echo and worker services
 * (sections 2-5, 10) with their message ids, graph encoding (what `resolve` returns) and
 * decoding into caller-provided storage, and the resolve reply itself.
 */
#ifndef SL_NATIVE_GRAPH_H
#define SL_NATIVE_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "native-graph-t.h"
#include "native-mp-t.h"

/* Message ids. The same number means different messages in different states (1.3). */
enum sl_prim_msg { SL_PRIM_VALUE = 0, SL_PRIM_ERROR = 1 };
enum sl_stream_msg { SL_STREAM_WRITE = 0, SL_STREAM_ERROR = 1, SL_STREAM_CLOSE = 2 };
enum sl_locator_msg {
	SL_LOCATOR_RESOLVE = 0,
	SL_LOCATOR_CONNECT = 1,
	SL_LOCATOR_REFRESH = 2,
	SL_LOCATOR_CLUSTER = 3,
	SL_LOCATOR_PUBLISH = 4,
	SL_LOCATOR_ROUTING = 5,
	SL_LOCATOR_UUID = 6,
};
#define SL_LOCATOR_DISCARD 0 /* client -> locator after publish / routing */
enum sl_node_msg {
	SL_NODE_START_APP = 0,
	SL_NODE_PAUSE_APP = 1,
	SL_NODE_LIST = 2,
	SL_NODE_INFO = 3,
	SL_NODE_CONTROL = 4,
	SL_NODE_ENQUEUE = 5,
};
enum sl_app_msg { SL_APP_ENQUEUE = 0, SL_APP_INFO = 1, SL_APP_CONTROL = 2 };
enum sl_storage_msg {
	SL_STORAGE_READ = 0,
	SL_STORAGE_WRITE = 1,
	SL_STORAGE_REMOVE = 2,
	SL_STORAGE_FIND = 3,
};
enum sl_logging_msg { SL_LOGGING_EMIT = 0, SL_LOGGING_VERBOSITY = 1, SL_LOGGING_SET_VERBOSITY = 2 };
enum sl_echo_msg { SL_ECHO_PING = 0 };
/* Worker protocol v1 (5.3): the worker opens channel 1 with handshake, which then carries
 * heartbeat/terminate both ways; the runtime opens invocation channels with invoke. */
enum sl_worker_msg { SL_WORKER_HANDSHAKE = 0 };
enum sl_control_msg { SL_CONTROL_HEARTBEAT = 0, SL_CONTROL_TERMINATE = 1 };
enum sl_rpc_msg { SL_RPC_INVOKE = 0 };
#define SL_WORKER_CONTROL_CHANNEL 1

/** `{}`: nothing more may be sent in that direction. */
extern const struct sl_gnode sl_graph_terminal;
/** `{0: ["value", {}], 1: ["error", {}]}`, the default reply of a method. */
extern const struct sl_gnode sl_proto_primitive;
/** `{0: ["write", nil], 1: ["error", {}], 2: ["close", {}]}`. */
extern const struct sl_gnode sl_proto_streaming;
/* Service roots. */
extern const struct sl_gnode sl_proto_locator;	      /* 2.3, v3 + uuid */
extern const struct sl_gnode sl_proto_node;	      /* 3.2, node v2 */
extern const struct sl_gnode sl_proto_app;	      /* 4.2 */
extern const struct sl_gnode sl_proto_storage;	      /* 10 */
extern const struct sl_gnode sl_proto_logging;	      /* 10, v2 */
extern const struct sl_gnode sl_proto_echo;	      /* 11, cocaine-plugins echo */
extern const struct sl_gnode sl_proto_worker;	      /* 5.3: worker -> runtime (handshake) */
extern const struct sl_gnode sl_proto_worker_control; /* 5.3: heartbeat, terminate */
extern const struct sl_gnode sl_proto_worker_rpc;     /* 5.3: runtime -> worker (invoke) */

/** Whether a state is `{}` (finished). NULL (stay) is not terminal. */
static inline bool
sl_graph_is_terminal(const struct sl_gnode *n)
{
	return n != NULL && n->nslots == 0;
}

/** The slot with message id `id`, or NULL. */
const struct sl_gslot *sl_graph_find(const struct sl_gnode *n, uint64_t id);

/** The slot called `name` (len bytes), or NULL. */
const struct sl_gslot *sl_graph_find_name(const struct sl_gnode *n, const void *name, uint32_t len);

/** Whether two graphs describe the same protocol (ids, names, transitions). */
bool sl_graph_equal(const struct sl_gnode *a, const struct sl_gnode *b, bool root);

/** Write a service root: `{id: [name, dispatch|nil, upstream|nil]}` (ids in slot order). */
void sl_graph_enc_root(struct sl_mp_w *w, const struct sl_gnode *root);

/** Prepare an arena over caller storage. */
void sl_graph_arena_init(struct sl_graph_arena *a, struct sl_gnode *nodes, uint32_t nodes_cap,
			 struct sl_gslot *slots, uint32_t slots_cap, char *names,
			 uint32_t names_cap);

/**
 * Decode a service root at the cursor into the arena (slots sorted by id).
 * @return 0; -EPROTO when it is not a graph (wrong shapes, negative or duplicate ids);
 *   -ENOBUFS when the arena is too small; -ELOOP when nested deeper than 16 states.
 */
int sl_graph_dec_root(struct sl_mp_cur *c, struct sl_graph_arena *a, const struct sl_gnode **root);

/**
 * Write the three args of a resolve reply (`value`, 2.3 and 12a.5):
 * `[[host, port]...], version, graph`.
 */
void sl_resolve_enc_args(struct sl_mp_w *w, const struct sl_endpoint *ep, uint32_t nep,
			 uint64_t version, const struct sl_gnode *root);

/**
 * Decode the args of a resolve reply.
 * @param args     cursor at the first arg
 * @param nargs    number of args (must be 3)
 * @param ep       endpoints out
 * @param ep_cap   capacity of ep
 * @param nep      endpoints decoded
 * @param version  protocol version out
 * @param a        arena for the graph
 * @param root     the graph's root out
 * @return 0; -EPROTO when malformed (a host over 63 bytes included); -ENOBUFS when ep or
 *   the arena is too small; -ELOOP as sl_graph_dec_root().
 */
int sl_resolve_dec_args(const struct sl_mp_cur *args, uint32_t nargs, struct sl_endpoint *ep,
			uint32_t ep_cap, uint32_t *nep, uint64_t *version, struct sl_graph_arena *a,
			const struct sl_gnode **root);

#endif /* SL_NATIVE_GRAPH_H */
