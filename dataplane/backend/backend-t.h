/**
 * @file
 * Types shared by the dispatch path and the control thread (issue 11, docs/dispatch.md):
 *
 * - struct sl_cluster: the immutable view of apps, nodes and routes the workers dispatch by.
 *   The control thread builds it from its node checks and the config, publishes it by pointer
 *   swap and frees the previous one after an RCU QSBR grace period (every worker reports a
 *   quiescent state once per loop iteration).
 * - struct sl_be_stats: per-worker counters and latency histograms per app and per node, read
 *   and summed by the control thread (`sluicectl show apps|nodes`).
 * - struct sl_access_rec: one access log line, passed from a worker to the control thread over
 *   a ring and written there.
 *
 * Plain data only: no DPDK, no control headers.
 */
#ifndef SL_BACKEND_T_H
#define SL_BACKEND_T_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_addr-t.h"

#define SL_CL_MAX_NODES 64
#define SL_CL_MAX_APPS 64
#define SL_CL_MAX_ROUTES 32
#define SL_CL_NAME_MAX 64  /* app and event names: 1..63 bytes */
#define SL_CL_HOST_MAX 128 /* a route's host */
#define SL_CL_PREFIX_MAX 128
#define SL_CL_NODE_NAME_MAX 24 /* "a.b.c.d:port" */
#define SL_CL_NONE 0xffff      /* no app / no node */

/** One node as the control thread sees it. */
struct sl_cl_node {
	struct sl_ip4 locator;
	uint16_t locator_port;
	bool up;	 /* the last active checks passed */
	uint64_t ok_seq; /* +1 on every passing check: a worker that marked the node down
			  * passively takes it back once this has grown */
	char name[SL_CL_NODE_NAME_MAX]; /* "a.b.c.d:port" of its locator, NUL-terminated */
};

/** Where one node serves one app. */
struct sl_cl_ep {
	uint16_t node; /* index in sl_cluster.nodes */
	uint16_t port;
	struct sl_ip4 addr;
};

struct sl_cl_app {
	char name[SL_CL_NAME_MAX]; /* NUL-terminated */
	uint8_t name_len;
	uint8_t retries;      /* safe retries on another node (config apps.NAME.retries) */
	uint32_t deadline_ms; /* config apps.NAME.deadline_ms (30000) */
	uint16_t n_eps;
	struct sl_cl_ep eps[SL_CL_MAX_NODES]; /* nodes that resolved the app (up or not) */
};

/** A configured route: requests whose Host and path prefix match go to app/event. */
struct sl_cl_route {
	char host[SL_CL_HOST_MAX];     /* "" matches any; compared case-insensitively, port aside */
	char prefix[SL_CL_PREFIX_MAX]; /* path prefix, starts with '/' */
	uint16_t app;		       /* index in sl_cluster.apps */
	char event[SL_CL_NAME_MAX];
	uint8_t host_len, prefix_len, event_len;
};

struct sl_cluster {
	uint64_t generation;
	bool node_header; /* add X-Sluice-Node (the serving node) to answers */
	uint32_t n_nodes, n_apps, n_routes;
	struct sl_cl_node nodes[SL_CL_MAX_NODES];    /* indexed like the config's nodes */
	struct sl_cl_app apps[SL_CL_MAX_APPS];	     /* indexed like the config's apps */
	struct sl_cl_route routes[SL_CL_MAX_ROUTES]; /* in config order: first match wins */
};

/* ---- counters ---- */

/* Latency histogram: bucket i counts latencies in [2^(i-1), 2^i) us; bucket 0 is < 1 us,
 * the last one everything above. 2^24 us is 16.8 s. */
#define SL_LAT_BUCKETS 26

#define SL_BE_COUNTERS(X)                                                                          \
	X(requests)   /* requests dispatched (first attempts) */                                   \
	X(responses)  /* answers that came from a node */                                          \
	X(status_2xx) /* of those and of our own answers: by class */                              \
	X(status_3xx)                                                                              \
	X(status_4xx)                                                                              \
	X(status_5xx)                                                                              \
	X(app_errors)  /* error from the node before any reply: 500 */                             \
	X(lost)	       /* connection lost before any reply byte: 502 */                            \
	X(unavailable) /* no node or no connection: 503 */                                         \
	X(timeouts)    /* deadline passed: 504 */                                                  \
	X(truncated)   /* failure after reply bytes went to the client: the answer is cut */       \
	X(retries)     /* attempts on another node */                                              \
	X(queue_full)  /* (0x52FF or 0xFF, 1) received */                                          \
	X(restarted)   /* (0x0C or 0xFF, 32) received */                                           \
	X(bytes_in)    /* request bodies sent on */                                                \
	X(bytes_out)   /* response bodies received */

struct sl_be_counters {
#define SL_BE_COUNTER_FIELD(n) uint64_t n;
	SL_BE_COUNTERS(SL_BE_COUNTER_FIELD)
#undef SL_BE_COUNTER_FIELD
	uint64_t lat[SL_LAT_BUCKETS]; /* first byte of the request head to the end of the answer */
};

/** Per-node extras, beside the counters. */
struct sl_be_node_state {
	uint64_t conns_opened, conn_failures;
	uint64_t passive_down; /* times this worker marked the node down itself */
	uint32_t conns;	       /* backend connections open now */
	uint32_t inflight;     /* channels open now */
	bool down;	       /* marked down passively by this worker, now */
};

/** One worker's dispatch counters; written by that worker only. */
struct sl_be_stats {
	struct sl_be_counters apps[SL_CL_MAX_APPS];
	struct sl_be_counters nodes[SL_CL_MAX_NODES];
	struct sl_be_node_state node_state[SL_CL_MAX_NODES];
	uint64_t inflight;	  /* requests between head and the end of the answer, now */
	uint64_t alog_dropped;	  /* access log records lost to a full ring */
	uint64_t protocol_errors; /* a node broke the framing: its connection was dropped */
};

/** Bucket of a latency in microseconds. */
static inline unsigned int
sl_lat_bucket(uint64_t us)
{
	unsigned int b = 0;

	while (us != 0 && b < SL_LAT_BUCKETS - 1) {
		us >>= 1;
		b++;
	}
	return b;
}

/* ---- access log ---- */

#define SL_ALOG_REQID_MAX 64 /* longer request ids are cut in the log */
#define SL_ALOG_URI_MAX 96   /* the request target, cut */

/** One finished request, as a worker reports it (the control thread formats the line). */
struct sl_access_rec {
	uint64_t mono_us; /* worker clock at the end (the control thread maps it to UTC) */
	uint32_t latency_us;
	struct sl_ip4 client;
	uint16_t client_port;
	uint16_t app;  /* SL_CL_NONE: none resolved */
	uint16_t node; /* SL_CL_NONE: none served */
	uint16_t status;
	uint8_t retries;
	uint8_t worker;
	uint8_t event_len, reqid_len, uri_len, method_len;
	uint64_t bytes_in, bytes_out; /* request and response body bytes */
	char method[12];
	char event[SL_CL_NAME_MAX];
	char reqid[SL_ALOG_REQID_MAX];
	char uri[SL_ALOG_URI_MAX];
};

#endif /* SL_BACKEND_T_H */
