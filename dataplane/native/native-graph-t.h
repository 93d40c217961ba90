/**
 * @file
 * Types of Cocaine 0.12 protocol descriptions ("dispatch graphs", cocaine-protocol.md 1.6).
 *
 * On the wire a service's root is `{id: [name, dispatch|nil, upstream|nil]}` and every inner
 * node `{id: [name, node|nil]}`. Here both are a struct sl_gnode holding slots; a slot's
 * `dispatch` is what follows it in the direction it was sent (for a root slot: what the
 * channel opener may send next) and a root slot's `upstream` is what the other side may send.
 * A NULL pointer is the wire's nil: stay in the current node (recursive, e.g. `write`).
 * A node with no slots is the wire's `{}`: that direction is finished.
 */
#ifndef SL_NATIVE_GRAPH_T_H
#define SL_NATIVE_GRAPH_T_H

#include <stdint.h>

struct sl_gslot;

/** One protocol state: the messages that may be sent in it, sorted by id for encoding. */
struct sl_gnode {
	uint32_t nslots;
	const struct sl_gslot *slots;
};

/** One message of a state. */
struct sl_gslot {
	uint32_t id;
	uint32_t name_len;
	const char *name;		 /* NUL-terminated */
	const struct sl_gnode *dispatch; /* next state of this direction; NULL = stay */
	const struct sl_gnode *upstream; /* root slots only: the other direction's first state */
};

/** Caller-provided storage for graphs decoded from the wire (no allocation). */
struct sl_graph_arena {
	struct sl_gnode *nodes;
	struct sl_gslot *slots;
	char *names;
	uint32_t nodes_cap, nodes_used;
	uint32_t slots_cap, slots_used;
	uint32_t names_cap, names_used;
};

/** A service endpoint as a locator returns it: `[host, port]`. */
struct sl_endpoint {
	char host[64]; /* an IP address string (0.12 resolves hostnames to addresses) */
	uint16_t port;
};

#endif /* SL_NATIVE_GRAPH_T_H */
