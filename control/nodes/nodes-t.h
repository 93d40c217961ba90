/**
 * @file
 * The cluster snapshot: the control thread's view of the nodes, plain data, rebuilt on every
 * change (docs/nodes.md). The data plane will receive it through RCU with dispatch.
 */
#ifndef SL_NODES_T_H
#define SL_NODES_T_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_addr-t.h"

#define SL_SNAP_MAX_NODES 64
#define SL_SNAP_MAX_APPS 64
#define SL_SNAP_MAX_ENDPOINTS 8
#define SL_SNAP_APP_NAME_MAX 64
#define SL_SNAP_ERR_MAX 96
#define SL_SNAP_QUANTILES 7 /* 50, 75, 90, 95, 98, 99, 99.95 % */

enum sl_node_state {
	SL_NODE_UNKNOWN = 0, /* no check has finished yet */
	SL_NODE_UP,
	SL_NODE_DOWN,
};

enum sl_snap_app_state {
	SL_APP_UNKNOWN = 0, /* not resolved yet */
	SL_APP_PRESENT,	    /* resolved: endpoints below */
	SL_APP_ABSENT,	    /* the locator says [[0x0A, 1]] service not available */
};

struct sl_snap_endpoint {
	struct sl_ip4 addr;
	uint16_t port;
};

/** What an app's `info` reported (cocaine-protocol.md 4.2). */
struct sl_snap_info {
	bool valid;
	uint64_t queue_depth, queue_capacity;
	uint64_t accepted, rejected;
	uint64_t pool_active, pool_capacity;
	double timings_ms[SL_SNAP_QUANTILES]; /* -1: not reported */
};

struct sl_snap_app {
	uint8_t state; /* enum sl_snap_app_state */
	uint32_t n_endpoints;
	struct sl_snap_endpoint endpoints[SL_SNAP_MAX_ENDPOINTS];
	uint64_t version;
	struct sl_snap_info info;
	uint64_t info_at_ms;		  /* when the last info arrived (0: never) */
	uint32_t info_rtt_us;		  /* of the last info exchange */
	char info_error[SL_SNAP_ERR_MAX]; /* the last info failure, "" after a success */
};

struct sl_snap_node {
	uint32_t id; /* index in the config's nodes */
	struct sl_ip4 locator;
	uint16_t locator_port;
	uint8_t state;	   /* enum sl_node_state */
	uint64_t since_ms; /* when the state was entered (monotonic ms) */
	uint32_t failures; /* consecutive failed checks */
	uint32_t rtt_us;   /* of the last successful resolve exchange */
	uint64_t ok_seq;   /* passing checks (resolve rounds) so far */
	char last_error[SL_SNAP_ERR_MAX];
	struct sl_snap_app apps[SL_SNAP_MAX_APPS]; /* indexed like the config's apps */
};

struct sl_cluster_snap {
	uint64_t generation; /* +1 on every change, and on every passing check (ok_seq) */
	uint32_t n_nodes, n_apps;
	char app_names[SL_SNAP_MAX_APPS][SL_SNAP_APP_NAME_MAX];
	struct sl_snap_node nodes[SL_SNAP_MAX_NODES];
};

#endif /* SL_NODES_T_H */
