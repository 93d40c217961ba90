/**
 * @file
 * sluice-node's configuration (docs/sluice-node.md): the node's JSON file, app manifests
 * (<apps>/<name>/manifest.json) and profiles (<profiles>/<name>.json) with the keys and
 * defaults of cocaine-protocol.md 5.4. Every error names the file and the JSON path
 * ("profiles/fast.json: pool-limit: must be an integer in 1..1024").
 */
#ifndef SL_NODE_NCONF_H
#define SL_NODE_NCONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

#define NCONF_NAME_MAX 64  /* app and profile names, NUL included */
#define NCONF_HOST_MAX 64  /* addresses */
#define NCONF_PATH_MAX 512 /* directories, files */
#define NCONF_ERR_MAX 768  /* error messages */
#define NCONF_UUID_MAX 64  /* node uuids (ours and the peers') */
#define NCONF_RESTRICT_MAX 64
#define NCONF_STATIC_PEERS_MAX 256

/** A profile (5.4). Times in milliseconds. */
struct nd_profile {
	char name[NCONF_NAME_MAX];
	uint32_t pool_limit;
	uint32_t queue_limit; /* 0: reject when queue >= pool-limit x concurrency - in flight */
	uint32_t concurrency;
	uint32_t grow_threshold;
	uint32_t crashlog_limit;
	uint32_t publish_on, unpublish_under; /* accepted, not used */
	uint64_t heartbeat_ms;
	uint64_t startup_ms;   /* spawn -> handshake */
	uint64_t idle_ms;      /* an idle worker above the target is terminated */
	uint64_t terminate_ms; /* terminate -> SIGKILL; also the drain bound */
	uint64_t seal_ms;      /* a sealed worker's channels get this long */
	uint64_t request_ms;   /* enqueue -> end of the worker's reply */
	bool log_output;       /* worker output at info (else debug) */
};

/** A manifest: the worker executable and its environment. */
struct nd_manifest {
	char dir[NCONF_PATH_MAX + NCONF_NAME_MAX]; /* the app's directory (the worker's cwd) */
	char slave[NCONF_PATH_MAX];		   /* absolute path of the executable */
	char **env;				   /* "KEY=VALUE" */
	uint32_t nenv;
};

struct nd_runlist_ent {
	char app[NCONF_NAME_MAX];
	char profile[NCONF_NAME_MAX];
};

/** How the locator finds the other nodes (locator.cluster, cocaine-protocol.md 7.3). */
enum nd_cluster_type {
	ND_CLUSTER_NONE = 0,  /* no cluster: connect closes at once, no announces */
	ND_CLUSTER_MULTICAST, /* UDP announces [uuid, [[ip, port]...]] to a group */
	ND_CLUSTER_PREDEFINE, /* a fixed list of {uuid: "host:port"} */
};

struct nd_static_peer {
	char uuid[NCONF_UUID_MAX];
	char host[NCONF_HOST_MAX];
	uint16_t port;
};

struct nd_cluster {
	enum nd_cluster_type type;
	char group[NCONF_HOST_MAX];   /* multicast group address */
	uint16_t port;		      /* UDP port of the announces */
	uint64_t interval_ms;	      /* announce (predefine: link) interval */
	char iface[NCONF_HOST_MAX];   /* outgoing interface: an IPv4 address or an interface name */
	bool loopback;		      /* IP_MULTICAST_LOOP */
	uint32_t hops;		      /* multicast TTL / hop limit */
	struct nd_static_peer *nodes; /* predefine */
	uint32_t nnodes;
};

struct nd_config {
	char file[NCONF_PATH_MAX];
	char address[NCONF_HOST_MAX];  /* listen address of every service */
	char hostname[NCONF_HOST_MAX]; /* advertised in resolve replies */
	uint16_t locator_port;
	uint16_t node_port;	       /* 0: ephemeral */
	uint16_t port_min, port_max;   /* app services; 0/0: ephemeral */
	char apps_dir[NCONF_PATH_MAX]; /* manifests */
	char profiles_dir[NCONF_PATH_MAX];
	char runtime_dir[NCONF_PATH_MAX]; /* worker sockets */
	char uuid[40];			  /* empty: random */
	struct nd_runlist_ent *runlist;
	uint32_t nrunlist;
	struct conn_limits client_limits; /* client connections */
	size_t request_buffer_bytes;	  /* client body buffered while queued, per request */
	uint32_t max_connections;	  /* client connections of all services */
	int log_level;			  /* enum sl_log_level */
	struct nd_cluster cluster;	  /* locator.cluster */
	char **restricted;		  /* locator.restrict: never exported to the cluster */
	uint32_t nrestricted;
	uint32_t max_peers;		   /* limits.peers: remote nodes, connect streams */
	uint32_t max_services;		   /* limits.services: per peer, and published */
	char storage_path[NCONF_PATH_MAX]; /* storage.path; empty: no storage service */
	uint16_t storage_port;		   /* storage.port, 0: ephemeral */
	uint32_t storage_value_bytes;	   /* limits.storage_value_bytes */
};

/**
 * Load and validate the node configuration, and the manifest and profile of every runlist
 * entry.
 * @return 0; -EINVAL (err says where and why), -ENOENT/-EACCES/... for the file itself.
 */
int nconf_load(struct nd_config *cfg, const char *file, char *err, size_t errlen);
void nconf_free(struct nd_config *cfg);

/** Whether `name` may be an app or profile name (no path separators, 1..63 bytes). */
bool nconf_name_ok(const char *name);

/** Load profile `name` from the profiles directory. @return 0 or -errno (err set). */
int nconf_profile_load(const struct nd_config *cfg, const char *name, struct nd_profile *p,
		       char *err, size_t errlen);

struct json_t;

/**
 * A profile from a JSON document held elsewhere (the storage collection "profiles");
 * `label` names it in errors. @return 0 or -errno (err set).
 */
int nconf_profile_load_json(const struct nd_config *cfg, const char *name, const char *label,
			    struct json_t *j, struct nd_profile *p, char *err, size_t errlen);

/**
 * A manifest from a JSON document (the storage collection "manifests"): its worker runs in
 * <apps>/<app> when that directory exists, else in the runtime directory; a relative
 * `slave` is looked up there, then next to sluice-node, then in PATH.
 */
int nconf_manifest_load_json(const struct nd_config *cfg, const char *app, const char *label,
			     struct json_t *j, struct nd_manifest *m, char *err, size_t errlen);

/** Load the manifest of app `app`. @return 0 or -errno (err set). */
int nconf_manifest_load(const struct nd_config *cfg, const char *app, struct nd_manifest *m,
			char *err, size_t errlen);
void nconf_manifest_free(struct nd_manifest *m);

#endif /* SL_NODE_NCONF_H */
