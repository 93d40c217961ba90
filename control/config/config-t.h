/**
 * @file
 * The validated configuration of sluiced. Filled by sl_config_parse() from one JSON file;
 * every field is checked before anything starts. Plain data: no DPDK, no jansson.
 * The JSON shape is documented in docs/configuration.md, with config/example.json.
 */
#ifndef SL_CONFIG_T_H
#define SL_CONFIG_T_H

#include <stdbool.h>
#include <stdint.h>

#include "net-t.h"
#include "sl_addr-t.h"
#include "impair-t.h"
#include "tcp-t.h"

#define SL_CFG_MAX_PORTS 8
#define SL_CFG_MAX_WORKERS 64
#define SL_CFG_MAX_EAL_ARGS 64
#define SL_CFG_NAME_MAX 32
#define SL_CFG_VDEV_MAX 256
#define SL_CFG_PATH_MAX 108 /* sizeof(sun_path) */
#define SL_CFG_MAX_LISTENERS 16
#define SL_CFG_MAX_NODES 64
#define SL_CFG_MAX_APPS 64
#define SL_CFG_APP_NAME_MAX 64 /* 1..63 characters of [A-Za-z0-9_.@-] */
#define SL_CFG_MAX_ROUTES 32   /* = SL_CL_MAX_ROUTES (backend-t.h) */
#define SL_CFG_HOST_MAX 128    /* a route's host: 0..127 bytes */
#define SL_CFG_PREFIX_MAX 128  /* a route's path prefix: 1..127 bytes */
#define SL_CFG_ALOG_PATH_MAX 256

/** What a listener serves. */
enum sl_cfg_protocol {
	SL_PROTO_ECHO = 1, /* RFC 862 over TCP: a test listener */
	SL_PROTO_DISCARD,  /* RFC 863 */
	SL_PROTO_CHARGEN,  /* RFC 864 */
	SL_PROTO_HTTP,	   /* HTTP/1.1 front (docs/http.md) */
	SL_PROTO_NATIVE,   /* Cocaine 0.12 locator + app ports (docs/native-front.md) */
};

/* listeners[i]: {"address": "a.b.c.d:port", "protocol": "echo", "backlog": 1024,
 *                "health": false, "mirror": false} */
struct sl_cfg_listener {
	struct sl_ip4 addr; /* an address of one of the ports */
	uint16_t port;	    /* 1..65535; address:port unique */
	uint8_t protocol;   /* enum sl_cfg_protocol */
	uint32_t backlog;   /* 1..65535, default 1024: handshakes in progress at once */
	bool health;	    /* http only: serve /-/health */
	bool mirror;	    /* http only: serve /-/mirror (for tests) */
	uint16_t app_ports; /* native only (required): app i of `apps` is on app_ports + i */
};

struct sl_cfg_port {
	char name[SL_CFG_NAME_MAX]; /* ports[i].name: [A-Za-z0-9_-]{1,31}, unique */
	char vdev[SL_CFG_VDEV_MAX]; /* ports[i].vdev: DPDK vdev string, "net_<driver><n>[,k=v...]"
				     */
	struct sl_ip4 addr;	    /* ports[i].address: "a.b.c.d/len" */
	uint8_t prefix_len;
	bool has_gateway; /* ports[i].gateway: inside the port's subnet, not the address itself */
	struct sl_ip4 gateway;
	uint16_t mtu; /* ports[i].mtu: 576..9000, default 1500 */
	bool has_mac; /* ports[i].mac: optional "aa:bb:cc:dd:ee:ff", unicast */
	struct sl_mac mac;
	/* ports[i].routes: [{"dst": "a.b.c.d/len", "via": "a.b.c.d"}], plus 0.0.0.0/0 via the
	 * gateway when one is set; every "via" is on the port's subnet. */
	struct sl_route_table routes;
	/* ports[i].impair.rx / .tx: {"loss_pct": 0..100, "duplicate_pct": 0..100,
	 * "reorder_pct": 0..100, "delay_ms": 0..10000, "jitter_ms": 0..delay_ms, "seed": int};
	 * off unless given. For tests: it drops, copies, reorders and delays real traffic. */
	struct sl_impair_conf impair_rx, impair_tx;
};

/* nodes[i]: {"locator": "a.b.c.d:port"}; unique */
struct sl_cfg_node {
	struct sl_ip4 addr;
	uint16_t port;
};

/* apps.<name>: {"deadline_ms": 1..600000 (30000), "retries": 0..10 (2)} */
struct sl_cfg_app {
	char name[SL_CFG_APP_NAME_MAX];
	uint32_t deadline_ms;
	uint32_t retries;
};

/* routes[i]: {"host": "name" (optional, "": any), "prefix": "/path", "app": "<an app of apps>",
 *             "event": "<1..63 of [A-Za-z0-9_.@-]>"}; first match wins (docs/configuration.md) */
struct sl_cfg_route {
	char host[SL_CFG_HOST_MAX];	/* lower case, no port; "" matches any host */
	char prefix[SL_CFG_PREFIX_MAX]; /* starts with '/' */
	char app_name[SL_CFG_APP_NAME_MAX];
	uint16_t app; /* index in apps (resolved once the whole file is read) */
	char event[SL_CFG_APP_NAME_MAX];
};

struct sl_config {
	/* eal */
	int eal_argc;			     /* eal.args: array of strings, copied as given */
	char *eal_argv[SL_CFG_MAX_EAL_ARGS]; /* owned, freed by sl_config_free() */
	char lcores[128];		     /* eal.lcores: optional --lcores mapping */
	char file_prefix[64];		     /* eal.file_prefix: default "sluiced" */

	unsigned int workers; /* workers: 1..SL_CFG_MAX_WORKERS, default 1 */

	unsigned int n_ports; /* ports: 1..SL_CFG_MAX_PORTS */
	struct sl_cfg_port ports[SL_CFG_MAX_PORTS];

	unsigned int n_listeners; /* listeners: 0..SL_CFG_MAX_LISTENERS */
	struct sl_cfg_listener listeners[SL_CFG_MAX_LISTENERS];

	/* tcp: mss (536..9000, default mtu - 40 of the first port... 1460), wscale (0..14, 7),
	 * rcv_buf / snd_buf (4096..67108864, 262144), rto_init_ms (1..60000, 1000),
	 * rto_min_ms (1..60000, 200), rto_max_ms (100..600000, 60000), syn_retries (1..20, 5),
	 * retries (1..30, 8), delack_ms (1..500, 40), time_wait_ms (0..240000, 2000),
	 * fin_wait2_ms (1000..600000, 60000) */
	struct sl_tcp_params tcp;

	struct {
		uint32_t connections_per_worker; /* limits.connections_per_worker: 16..4194304,
						  * default 65536 */
		/* HTTP (docs/http.md): header_bytes (256..1048576, 16384), header_fields
		 * (1..4096, 100), uri_bytes (16..1048576, 8192), body_bytes (1..2^40,
		 * 16777216), chunk_line_bytes (16..65536, 4096), header_timeout_ms and
		 * body_timeout_ms (1000..3600000, 10000), keepalive_ms (1000..3600000, 60000),
		 * http_connections_per_worker (16..4194304, connections_per_worker) */
		uint32_t header_bytes, header_fields, uri_bytes, chunk_line_bytes;
		uint64_t body_bytes;
		uint32_t header_timeout_ms, body_timeout_ms, keepalive_ms;
		uint32_t http_connections;
		uint32_t drain_timeout_ms; /* limits.drain_timeout_ms: 100..600000, 30000; the
					    * longest graceful drain after SIGTERM */
	} limits;

	struct {
		char socket[SL_CFG_PATH_MAX]; /* control.socket: absolute path, default
					       * /run/sluice/sluiced.sock */
	} control;

	struct {
		uint32_t mbufs_per_port; /* dataplane.mbufs_per_port: 1024..1048576, default 8191 */
		uint16_t rx_desc;	 /* dataplane.rx_desc: 64..4096, default 1024 */
		uint16_t tx_desc;	 /* dataplane.tx_desc: 64..4096, default 1024 */
		uint16_t burst;		 /* dataplane.burst: 1..256, default 32 */
		uint32_t tx_drain_us;	 /* dataplane.tx_drain_us: 1..10000, default 100 */
		uint32_t idle_spin_us;	 /* dataplane.idle_spin_us: 0..100000, default 200 */
		uint32_t idle_sleep_us;	 /* dataplane.idle_sleep_us: 1..1000, default 100 */
	} dataplane;

	struct sl_neigh_params neigh; /* neighbour.reachable_ms (1000..86400000, default 300000),
				       * neighbour.retry_ms (10..60000, default 1000),
				       * neighbour.max_tries (1..20, default 3) */

	unsigned int n_nodes; /* nodes: 0..SL_CFG_MAX_NODES */
	struct sl_cfg_node nodes[SL_CFG_MAX_NODES];

	unsigned int n_apps; /* apps: 0..SL_CFG_MAX_APPS, in file order */
	struct sl_cfg_app apps[SL_CFG_MAX_APPS];

	/* discovery (docs/nodes.md): resolve_interval_ms (100..3600000, 5000), info_interval_ms
	 * (100..3600000, 1000), timeout_ms (10..60000, 1000), down_after (1..100, 2) */
	struct {
		uint32_t resolve_interval_ms, info_interval_ms, timeout_ms, down_after;
	} discovery;

	unsigned int n_routes; /* routes: 0..SL_CFG_MAX_ROUTES, in file order */
	struct sl_cfg_route routes[SL_CFG_MAX_ROUTES];

	struct {
		bool node_header; /* dispatch.node_header: X-Sluice-Node, default false */
		char access_log[SL_CFG_ALOG_PATH_MAX]; /* dispatch.access_log: absolute path of
							* the access log, default "": none */
		uint32_t pool_size;	     /* dispatch.pool_size: connections per (node, app)
					      * per worker, 1..16, default 2 */
		uint32_t connect_timeout_ms; /* dispatch.connect_timeout_ms: 10..60000, 1000 */
		uint32_t backoff_max_ms;     /* dispatch.backoff_max_ms: 100..600000, 5000 */
		uint32_t native_connections; /* dispatch.native_connections_per_worker:
					      * 1..65536, 1024 */
	} dispatch;

	struct {
		int level;   /* log.level: "err"|"warning"|"notice"|"info"|"debug", default info */
		bool syslog; /* log.syslog: default false */
	} log;
};

#endif /* SL_CONFIG_T_H */
