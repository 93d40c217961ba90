/**
 * @file
 * sluice-node internals: the node (locator, node service, apps), an app instance (its
 * service, queue, worker pool and stats), a worker ("slave") and a request. One process,
 * one thread, one epoll loop: nothing here is locked.
 *
 * Ownership of a request (struct req): the client channel that opened it (req->client, the
 * channel's user pointer), the app queue while it waits (REQ_QUEUED), and the worker
 * channel that carries it (req->slave, that channel's user pointer). It is freed when none
 * of the three holds it (req_maybe_free()).
 *
 * Modules: loop.c (epoll), conn.c (framed connections), listen.c (listeners), nconf.c
 * (config, profiles, manifests), svc.c (replies, forwarding helpers), locator.c, nodesvc.c
 * (node service), app.c (app instances, app service, info), req.c (requests between
 * clients and workers), pool.c (scheduling, growth, shrinking), slave.c (worker
 * processes and protocol v1), main.c.
 */
#ifndef SL_NODE_NODE_H
#define SL_NODE_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include "nlist.h"
#include <sys/types.h>

#include "conn.h"
#include "loop.h"
#include "native-mpc.h"
#include "native.h"
#include "nconf.h"

#define NODE_TICK_MS 100  /* timers (heartbeats, idle, deadlines) are checked this often */
#define NODE_TIMINGS 1024 /* request durations kept for the quantiles of info */
#define NODE_RATE_PERIOD_MS 5000
#define NODE_UUID_LEN 37
#define NODE_EP_MAX 16		/* endpoints of one service (resolve, connect, publish) */
#define NODE_SVC_NAME_MAX 128	/* published and remote service names, NUL included */
#define NODE_GRAPH_MAX 8192	/* bytes of one stored protocol graph (old-spec msgpack) */
#define NODE_RG_MAX 64		/* routing groups */
#define NODE_RG_MEMBERS_MAX 32	/* members of one routing group */
#define NODE_ANNOUNCE_MAX 65536 /* bytes of one multicast announce (Cocaine 0.12's buffer) */

struct app;
struct node;
struct req;
struct slave;

/** A listening socket. */
struct listener {
	struct loop_io io;
	struct loop *loop;
	void (*on_accept)(struct listener *ls, int fd);
	void *owner;
	uint16_t port; /* TCP: the bound port */
};

/* listen.c */
/** Listen on TCP addr:port (port 0: ephemeral; ls->port gets the bound one). @return 0/-errno. */
int listener_tcp(struct loop *l, struct listener *ls, const char *addr, uint16_t port);
/** Listen on a unix socket path (replaced if it exists). @return 0 or -errno. */
int listener_unix(struct loop *l, struct listener *ls, const char *path);
void listener_close(struct listener *ls);

/** What a channel's user pointer points to (first member of each). */
enum chan_kind {
	CHAN_REQ = 1,	  /* struct req */
	CHAN_CONTROL = 2, /* struct ctl_chan */
	CHAN_SYNC = 3,	  /* struct loc_sub: a `connect` stream we serve */
	CHAN_ROUTING = 4, /* struct loc_sub: a `routing` stream we serve */
	CHAN_PUBLISH = 5, /* struct rsvc: a service published on this channel */
};

/**
 * A service as the locator describes it (2.3): endpoints, protocol version and the
 * protocol graph, encoded (old msgpack spec). Published services and the services of remote
 * nodes are kept this way.
 */
struct svc_meta {
	struct sl_endpoint ep[NODE_EP_MAX];
	uint32_t nep;
	uint64_t version;
	uint8_t *graph; /* malloc'd encoded root; NULL for `{}` */
	uint32_t graph_len;
};

/** A published service (locator publish) or a service of a remote node. */
struct rsvc {
	uint8_t kind; /* CHAN_PUBLISH when published (the channel's user pointer) */
	NL_ENTRY(rsvc) link;
	char name[NODE_SVC_NAME_MAX];
	struct svc_meta m;
	struct conn *conn; /* published: the client connection that holds it */
	uint64_t ch;
};
NL_HEAD(rsvc_list, rsvc);

/** A stream the locator serves: `connect` (sync) or `routing`. */
struct loc_sub {
	uint8_t kind; /* CHAN_SYNC or CHAN_ROUTING */
	NL_ENTRY(loc_sub) link;
	struct conn *conn;
	uint64_t ch;
	char id[NCONF_UUID_MAX]; /* the remote node's uuid, or the router id */
};
NL_HEAD(loc_sub_list, loc_sub);

/** A remote node: heard in an announce (or configured), linked with a `connect` stream. */
struct peer {
	NL_ENTRY(peer) link;
	struct loop_grave grave; /* dropped peers are freed after the loop batch */
	struct node *node;
	char uuid[NCONF_UUID_MAX];
	struct sl_endpoint ep[NODE_EP_MAX]; /* its locator's endpoints */
	uint32_t nep;
	uint32_t ep_idx;    /* the one being tried / used */
	bool is_static;	    /* predefine: never expires, re-linked every interval */
	bool synced;	    /* its snapshot arrived */
	bool warned;	    /* over limits.services once */
	uint64_t seen_ms;   /* last announce */
	uint64_t linked_ms; /* link attempt started */
	struct conn *conn;  /* to its locator, channel 1 = our `connect` */
	uint64_t ch;
	struct rsvc_list svcs;
	uint32_t nsvcs;
};
NL_HEAD(peer_list, peer);

/** A point of a ketama ring and the member it maps to. */
struct rg_point {
	uint32_t point;
	uint32_t member; /* index in the group's members */
};

/** A routing group (7.4): a ketama ring over weighted members. */
struct rgroup {
	NL_ENTRY(rgroup) link;
	struct loop_grave grave; /* replaced groups are freed after the loop batch */
	char name[NCONF_NAME_MAX];
	uint32_t nmembers;
	char (*members)[NODE_SVC_NAME_MAX];
	uint32_t *weights;
	uint32_t npoints;
	struct rg_point *points; /* sorted by point, then member name */
};
NL_HEAD(rgroup_list, rgroup);

/** A `control` stream (app control, node control): the target it sets lasts as long. */
struct ctl_chan {
	uint8_t kind; /* CHAN_CONTROL */
	char app[NCONF_NAME_MAX];
	uint32_t gen;
};

#define REQ_QUEUED 0x1	    /* in app->queue */
#define REQ_CLIENT_DONE 0x2 /* the client sent its last message */
#define REQ_REPLIED 0x4	    /* the worker sent its last message (timed) */
#define REQ_FAILED 0x8	    /* failed on our side (error sent, or the worker died) */

/** One enqueue: a client channel bound to a worker channel. */
struct req {
	uint8_t kind; /* CHAN_REQ */
	uint32_t flags;
	NL_ENTRY(req) qlink; /* app->queue */
	NL_ENTRY(req) llink; /* app->reqs, oldest first */
	struct app *app;
	struct conn *client; /* NULL once the client channel is gone */
	uint64_t cch;
	struct slave *slave; /* NULL until assigned, and after the worker channel closed */
	uint64_t wch;
	uint64_t t0_us; /* enqueue */
	/* client -> worker messages while queued: records [type:1][len:4][args + headers] */
	uint8_t *pend;
	uint32_t pend_len, pend_cap;
};

enum slave_state {
	SLAVE_SPAWNED,	   /* process started, no handshake yet */
	SLAVE_ACTIVE,	   /* handshake done: takes requests */
	SLAVE_SEALING,	   /* no new requests; terminated when its channels are done */
	SLAVE_TERMINATING, /* terminate sent (or received): killed at deadline_ms */
	SLAVE_DEAD,	   /* killed or exited; waiting to be reaped */
};

/** A worker process. */
struct slave {
	NL_ENTRY(slave) link;
	struct loop_grave grave;
	struct app *app;
	char uuid[NODE_UUID_LEN];
	pid_t pid; /* 0 once reaped */
	enum slave_state state;
	struct conn *conn;  /* after the handshake */
	uint64_t ctl_ch;    /* the control channel (1) */
	struct loop_io out; /* stdout + stderr pipe */
	char outbuf[1024];
	uint32_t outlen;
	char **crashlog; /* ring of the last crashlog-limit output lines */
	uint32_t crash_head, crash_n;
	uint64_t spawned_ms, active_ms, last_rx_ms, idle_since_ms, sealed_ms, deadline_ms;
	uint32_t load;		     /* open invocation channels */
	uint64_t accepted;	     /* requests assigned */
	bool crashed;		     /* died while it was not asked to */
	int64_t fail_cat, fail_code; /* the error its requests get (0: generic EPIPE) */
	char reason[128];	     /* why it is going away */
};

NL_HEAD(req_list, req);
NL_HEAD(slave_list, slave);
NL_HEAD(conn_list, conn);

enum app_state { APP_RUNNING, APP_STOPPING };

/** Request stats for info (4.2). */
struct app_stats {
	uint64_t accepted, rejected, completed, failed;
	uint64_t spawned, crashed;
	uint32_t timings_ms[NODE_TIMINGS]; /* ring of durations */
	uint32_t timings_n, timings_head;
	uint64_t rate_count; /* completions since the last rate tick */
	uint64_t rate_tick_ms;
	double rate[3]; /* per second, 1/5/15 minutes (EWMA) */
	double depth_avg;
};

/** A running (or draining) app. */
struct app {
	NL_ENTRY(app) link;
	struct loop_grave grave;
	struct node *node;
	char name[NCONF_NAME_MAX];
	uint32_t gen; /* instance number (restart of the same name gets a new one) */
	enum app_state state;
	struct nd_profile prof;
	struct nd_manifest man;
	uint64_t started_ms, stop_deadline_ms;
	struct listener svc;   /* the app service (TCP) */
	struct listener wsock; /* workers connect here */
	char sock_path[NCONF_PATH_MAX + NCONF_NAME_MAX + 32];
	struct conn_limits worker_lim;
	uint32_t worker_channels;
	struct conn_list clients;
	struct conn_list pending; /* worker connections before their handshake */
	struct slave_list slaves;
	struct req_list queue;
	uint32_t depth;
	struct req_list reqs; /* every request alive, oldest first */
	uint32_t nreqs;
	uint32_t manual_target; /* 0: automatic */
	struct ctl_chan *ctl_owner;
	uint64_t backoff_ms, next_spawn_ms, last_crash_ms;
	struct app_stats st;
};

NL_HEAD(app_list, app);

struct node {
	struct loop loop;
	struct loop_io sig; /* signalfd */
	int signals;	    /* SIGTERM/SIGINT received */
	struct nd_config cfg;
	char uuid[NODE_UUID_LEN];
	char locator_arg[NCONF_HOST_MAX + 16]; /* --locator host:port */
	struct listener locator;
	struct listener nodesvc;
	struct app_list apps;
	struct conn_list conns; /* locator and node service clients */
	uint32_t nclients;	/* client connections of every service */
	uint32_t next_gen;
	uint16_t next_port;
	bool stopping;
	uint64_t stop_deadline_ms;
	uint64_t last_tick_ms;
	uint64_t rng; /* xorshift64* state (keyless routing, remote picks) */
	/* storage (storage.c) */
	struct listener storage;
	/* the locator's cluster side (locator.c, cluster.c, routing.c) */
	struct rsvc_list published;
	struct loc_sub_list syncs;   /* connect streams we serve */
	struct loc_sub_list routers; /* routing streams we serve */
	struct rgroup_list groups;
	struct peer_list peers;
	uint32_t npublished, nsyncs, nrouters, ngroups, npeers;
	struct loop_io mcast; /* UDP socket of the announces */
	uint64_t next_announce_ms;
	uint64_t announces_sent, announces_heard, announces_bad;
};

/* svc.c: replies on service channels (4-element frames, empty headers) */
/** Send a whole message whose args are `nargs` encoded objects in args[0..len). */
int svc_send(struct conn *c, uint64_t ch, uint64_t type, const void *args, size_t len,
	     uint32_t nargs, struct sl_chan_ev *ev);
int svc_send_empty(struct conn *c, uint64_t ch, uint64_t type, struct sl_chan_ev *ev);
int svc_send_error(struct conn *c, uint64_t ch, int64_t cat, int64_t code, const char *msg,
		   struct sl_chan_ev *ev);
/** Upper bound of the re-encoded args of f (old spec). */
size_t fwd_args_bound(const struct sl_frame *f);
/** Re-encode f's args array in the old msgpack spec (str8/bin become raw). */
void fwd_args(struct sl_mp_w *w, const struct sl_frame *f);
/** Upper bound of h re-encoded as [false, name, value] entries. */
size_t fwd_hdrs_bound(const struct sl_hdrs *h);
/** Forward f (args and headers) as message `type` on channel ch of c, which accounts it. */
int svc_forward(struct conn *c, uint64_t ch, const struct sl_frame *f, const struct sl_hdrs *h,
		struct sl_chan_ev *ev);
/** Generate a random (v4) UUID string. */
void node_uuid_gen(char out[NODE_UUID_LEN]);

/**
 * Whether len bytes may be a node uuid or a router id (announces, connect, routing): no NUL
 * and no control characters. Ids are kept as C strings (a NUL would make one the prefix of
 * another: duplicate peers, a stream replacing another's) and they are logged.
 */
bool node_id_bytes_ok(const void *p, uint32_t len);
/** A uniformly random 64-bit number (not for security). */
uint64_t node_rand(struct node *n);
/**
 * Copy one msgpack object at the cursor (advanced past it) in the old spec: str8/bin
 * become raw. @return 0, or -EBADMSG (w->err is set too).
 */
int mp_copy_obj(struct sl_mp_w *w, struct sl_mp_cur *c);
/** Free a service description's graph. */
void svc_meta_clear(struct svc_meta *m);
/**
 * Read `[[ip, port]...], version, graph` (three objects at the cursor, advanced past them)
 * into m (its graph malloc'd, re-encoded). @return 0; -EPROTO malformed; -ENOBUFS too
 * many endpoints or too large a graph; -ENOMEM.
 */
int svc_meta_read(struct sl_mp_cur *c, struct svc_meta *m);
/** Read only `[[ip, port]...]` into m. @return as svc_meta_read(). */
int svc_meta_read_eps(struct sl_mp_cur *c, struct svc_meta *m);
/** Read only a graph into m (replacing its graph). @return as svc_meta_read(). */
int svc_meta_read_graph(struct sl_mp_cur *c, struct svc_meta *m);

/* locator.c */
void locator_accept(struct listener *ls, int fd);
/** The service `name` changed locally (an app started or stopped, a publish): tell the
 * connect streams. */
void locator_service_changed(struct node *n, const char *name);
/** A client connection lets go of a locator channel (sync, routing, publish). */
void locator_chan_gone(struct node *n, void *user);
/** At SIGTERM: close the connect and routing streams, unpublish everything. */
void locator_stop(struct node *n);
/** Whether `name` is exported to the cluster (not restricted). */
bool locator_exported(const struct node *n, const char *name);

/* cluster.c: announces, peers and their connect streams */
/** Start the cluster side (the announce socket). @return 0 or -errno. */
int cluster_init(struct node *n);
void cluster_tick(struct node *n, uint64_t now_ms);
/** Stop announcing and drop every peer (SIGTERM, exit). */
void cluster_stop(struct node *n);
/** A remote service by name: a random peer among those that have it. */
const struct svc_meta *cluster_resolve(struct node *n, const char *name, uint32_t len);
/** Pack the cluster reply's map {uuid: [ip, port]}. */
void cluster_pack(struct node *n, msgpack_packer *pk);

/* routing.c: routing groups */
/** Load every active group from storage (start-up). */
void routing_load(struct node *n);
/**
 * Reload the named groups from storage (locator refresh) and push the new rings to the
 * routing streams. @return 0, or -errno with err set (nothing changed then).
 */
int routing_refresh(struct node *n, char **names, uint32_t count, char *err, size_t errlen);
struct rgroup *routing_find(struct node *n, const char *name, uint32_t len);
/** A member of g: by the seed's hash, or at random without one (seed NULL). */
const char *routing_pick(struct node *n, const struct rgroup *g, const void *seed,
			 uint32_t seed_len);
/** Pack {group: [[point, member]...]} of every group. */
void routing_pack(struct node *n, msgpack_packer *pk);
void routing_free(struct node *n);

/* storage.c: the storage service, files backend (10) */
/** Open the storage directory and listen. @return 0 or -errno. */
int storage_init(struct node *n);
void storage_accept(struct listener *ls, int fd);
/** Read an object into a malloc'd buffer. @return 0 or -errno (err set). */
int storage_read(struct node *n, const char *coll, const void *key, uint32_t klen, uint8_t **out,
		 size_t *outlen, char *err, size_t errlen);
/** Keys of collection `coll` with every tag; caller frees each and the array. */
int storage_find(struct node *n, const char *coll, const char *const *tags, uint32_t ntags,
		 char ***keys, uint32_t *nkeys, char *err, size_t errlen);
void storage_free_keys(char **keys, uint32_t nkeys);
/** An object holding a msgpack map, as a JSON object (profiles, manifests). */
int storage_read_json(struct node *n, const char *coll, const char *key, struct json_t **out,
		      char *err, size_t errlen);

/* nodesvc.c */
void nodesvc_accept(struct listener *ls, int fd);
/** Close a client connection of any service and account for it. */
void node_client_closed(struct node *n, struct conn *c);
/** Whether one more client connection may be accepted (limits.connections). */
bool node_client_admit(struct node *n);

/* app.c */
struct app *app_find(struct node *n, const char *name, uint32_t len); /* running only */
/** Start app `name` with profile `profile`. @return the app, or NULL (err set, -errno in *rc). */
struct app *app_start(struct node *n, const char *name, const char *profile, char *err,
		      size_t errlen, int *rc);
/** Stop an app: drain its queue and workers, then free it (pause_app, SIGTERM). */
void app_stop(struct app *a, const char *why);
void app_tick(struct app *a, uint64_t now_ms);
/** Free an app now (its workers killed and forgotten if any remain: node exit). */
void app_destroy(struct app *a);
/** Pack the info object (4.2) of an app. */
int app_info_pack(struct app *a, msgpack_packer *pk, unsigned int flags);
/** The channel handlers shared by the app and node services. */
int app_open_enqueue(struct app *a, struct conn *c, uint64_t ch, const struct sl_mp_raw *event,
		     const struct sl_hdrs *h);
int app_open_control(struct app *a, struct conn *c, uint64_t ch);
/** A message on a channel that is not opening it (requests, control streams). */
int chan_user_frame(struct node *n, struct conn *c, const struct sl_frame *f,
		    const struct sl_hdrs *h, const struct sl_chan_ev *ev);
/** A client connection closes: its requests and control streams let go. */
void chan_user_gone(struct node *n, struct conn *c);
struct app *app_by_gen(struct node *n, const char *name, uint32_t gen);
void app_set_target(struct app *a, int64_t n, struct ctl_chan *owner);
void app_account_done(struct app *a, const struct req *r, uint64_t now_us);

/* req.c */
int req_enqueue(struct app *a, struct conn *c, uint64_t ch, const struct sl_mp_raw *event,
		const struct sl_hdrs *h);
void req_client_msg(struct req *r, const struct sl_frame *f, const struct sl_hdrs *h,
		    const struct sl_chan_ev *ev);
void req_client_gone(struct req *r);
void req_worker_msg(struct req *r, const struct sl_frame *f, const struct sl_hdrs *h,
		    const struct sl_chan_ev *ev);
void req_worker_gone(struct req *r, int64_t cat, int64_t code, const char *msg);
/** Send the request's invoke and buffered messages to s. @return 0 or -errno. */
int req_assign(struct req *r, struct slave *s);
/** Fail a request on the client side (and the worker side if assigned). */
void req_fail(struct req *r, int64_t cat, int64_t code, const char *msg);
void req_maybe_free(struct req *r);
/** Let go of a request of an app being freed: error to its client, then free. */
void req_abandon(struct req *r, const char *msg);

/* pool.c */
struct slave *pool_pick(struct app *a);
void pool_pump(struct app *a);
void pool_rebalance(struct app *a);
void pool_tick(struct app *a, uint64_t now_ms);
/** Counts for info. */
void pool_counts(const struct app *a, uint32_t *active, uint32_t *idle, uint32_t *load);
/** A worker died unexpectedly: back-off before the next spawn (5.5). */
void pool_note_crash(struct app *a, uint64_t now_ms);

/* slave.c */
struct slave *slave_spawn(struct app *a);
void slave_worker_accept(struct listener *ls, int fd);
void slave_terminate(struct slave *s, int code, const char *reason);
/** SIGKILL; its requests fail with [[cat, code], reason]; crash: counts for the back-off. */
void slave_kill(struct slave *s, int64_t cat, int64_t code, const char *reason, bool crash);
void slave_tick(struct slave *s, uint64_t now_ms);
/** A child was reaped. */
void slave_reaped(struct node *n, pid_t pid, int status);
/** A worker channel closed: its load drops. */
void slave_channel_done(struct slave *s);
/** Free after the current loop batch. */
void slave_free(struct slave *s);
const char *slave_state_name(enum slave_state st);

#endif /* SL_NODE_NODE_H */
