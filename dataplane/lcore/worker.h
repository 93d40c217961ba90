/**
 * @file
 * The data plane: worker lcores, each owning one RX/TX queue pair per port, its L2/L3 state,
 * its counters and an inbox ring; and the handful of calls the control thread makes into it
 * (start, stop, post a message, read counters).
 *
 * The worker loop is the short story of design.md section 2:
 *   rx burst -> classify (sl_net_input) -> act -> tx buffer -> drain on a TSC deadline,
 * plus inbox messages and timers, with busy/idle cycle accounting and a polite idle back-off
 * (spin for idle_spin_us, then sleep idle_sleep_us at a time, so a worker wakes within about
 * 100 us and an idle appliance leaves the CPUs to others).
 */
#ifndef SL_WORKER_H
#define SL_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "backend-t.h"
#include "impair-t.h"
#include "server.h"
#include "lcore-t.h"
#include "net.h"
#include "port-t.h"
#include "sl_util.h"
#include "tcp-t.h"

struct rte_hash;
struct sl_http_server;
struct sl_nf_server;
struct sl_tester;
struct sl_impair;
struct rte_ring;
struct rte_mempool;
struct rte_rcu_qsbr;
struct sl_retire;

#define SL_MAX_PORTS 8
#define SL_MAX_WORKERS 64
#define SL_TXB_SIZE 64
#define SL_TESTERS_MAX 1024 /* `test connect` connections in flight per worker */
#define SL_LPORT_MIN 32768  /* local ports of active opens: [SL_LPORT_MIN, SL_LPORT_MAX] */
#define SL_LPORT_MAX 60999

/** One port as seen by one worker. */
struct sl_worker_port {
	struct sl_worker *w;
	struct sl_port *port;
	uint16_t queue;
	uint16_t txn;
	struct rte_mbuf *txb[SL_TXB_SIZE];
	struct sl_impair *imp_rx, *imp_tx; /* NULL unless configured: free when off */
	struct sl_net_if nif;
};

/** A worker lcore's state, cache aligned; all of it belongs to the worker alone. */
struct sl_worker {
	struct sl_lcore_stats stats; /* written by this worker only, read by control */
	unsigned int idx;
	unsigned int lcore_id;
	struct sl_dp *dp;
	struct rte_ring *inbox; /* multi-producer, this worker consumes */
	struct rte_ring *rdr;	/* TCP segments of our flows received by other workers */
	uint16_t n_ports;
	uint16_t ip_id;
	uint16_t next_lport;	/* where the search for a local port goes on */
	int impaired;		/* some port has an impairment stage */
	uint32_t table_changes; /* connection table inserts and removals, for burst lookups */
	uint32_t conn_bytes;	/* memory of one connection: pool element + table entry */
	unsigned int n_http;
	unsigned int n_nf;
	uint64_t now_us;	/* time of the current loop iteration */
	struct rte_hash *conns; /* 4-tuple -> struct sl_tcp_conn */
	struct rte_mempool *conn_pool;
	struct sl_tcp_stack *tcp;
	struct sl_tester *testers; /* `test connect` connections (SL_TESTERS_MAX) */
	struct sl_tester *tester_free;
	struct sl_http_server *http[16]; /* one per HTTP listener */
	struct sl_be_stats *be_stats;	 /* dispatch counters (backend-t.h), this worker's */
	struct sl_be *be;		 /* backend pools (dataplane/backend/be.h) */
	struct sl_nf_server *nf[4];	 /* one per native listener */
	/* shared with the control thread (shared.c) */
	struct rte_ring *alog; /* access log records to control, SP/SC; NULL: no access log */
	uint64_t cluster_gen;  /* generation of the view at the last quiescent report */
	struct sl_worker_port ports[SL_MAX_PORTS];
} SL_CACHE_ALIGNED;

/** Test services on sluiced's TCP (config listeners). */
enum sl_dp_service {
	SL_DP_ECHO = 1,
	SL_DP_DISCARD,
	SL_DP_CHARGEN,
	SL_DP_HTTP,   /* the HTTP/1.1 front (dataplane/http) */
	SL_DP_NATIVE, /* the Cocaine locator and app ports (dataplane/nfront) */
};

struct sl_dp_listener {
	struct sl_ip4 addr;
	uint16_t port;
	uint8_t service;     /* enum sl_dp_service */
	bool health, mirror; /* SL_DP_HTTP: built-in endpoints */
	uint32_t backlog;
	uint16_t app_ports, n_apps; /* SL_DP_NATIVE: app i on app_ports + i */
};

#define SL_DP_LISTENERS_MAX 16

/** Tunables of the loop, from configuration. */
struct sl_dp_params {
	uint16_t burst;
	uint32_t tx_drain_us;
	uint32_t idle_spin_us;
	uint32_t idle_sleep_us;
	struct sl_neigh_params neigh;
	struct sl_tcp_params tcp;
	uint32_t max_conns;	  /* per worker */
	bool access_log;	  /* make the per-worker access log rings (sl_worker_alog) */
	struct sl_http_conf http; /* limits of the HTTP listeners (endpoints: per listener) */
	struct sl_be_conf be;	  /* backend pools (zero fields: defaults) */
	uint32_t native_conns;	  /* native front client connections per worker [1024] */
	unsigned int n_listeners;
	struct sl_dp_listener listeners[SL_DP_LISTENERS_MAX];
};

/** Per-port L3 identity and test impairments, from configuration. */
struct sl_dp_port_l3 {
	struct sl_ip4 addr;
	uint8_t prefix_len;
	const struct sl_route_table *routes;
	struct sl_impair_conf impair_rx, impair_tx;
};

/** The whole data plane. Immutable after sl_dp_create() except `stop`. */
struct sl_dp {
	unsigned int n_workers;
	unsigned int n_ports;
	struct sl_port *ports;
	struct sl_dp_params params;
	uint64_t tsc_hz;
	uint64_t drain_tsc, spin_tsc, timer_tsc, tcp_tick_tsc;
	struct rte_mempool *msg_pool;
	struct rte_ring *ctl_inbox; /* workers -> control */
	int ctl_efd;		    /* eventfd: rung after posting to ctl_inbox */
	int stop;		    /* atomic: set by control to end the loops */
	int sw_rss; /* several workers and a port that cannot steer: owners by sl_flow_owner */
	/* the dispatch view (backend-t.h): swapped by the control thread, read by the workers
	 * (__atomic_load_n acquire), the old one freed after an RCU QSBR grace period */
	struct sl_cluster *cluster;
	struct rte_rcu_qsbr *qsbr; /* the workers report quiescent states: thread id = idx */
	struct sl_retire *retired; /* old views waiting for their grace period (control only) */
	struct sl_worker *workers[SL_MAX_WORKERS];
};

/**
 * Build the data plane for started ports: workers, rings, message pool.
 * @return the data plane, or NULL with errno set (ENOMEM, EINVAL).
 */
struct sl_dp *sl_dp_create(struct sl_port *ports, const struct sl_dp_port_l3 *l3,
			   unsigned int n_ports, unsigned int n_workers,
			   const struct sl_dp_params *params);

/** Launch one worker per worker lcore, in lcore order. @return 0 or -errno. */
int sl_dp_launch(struct sl_dp *dp);

/** Ask the workers to stop and wait for them; their TX buffers are flushed. */
void sl_dp_stop(struct sl_dp *dp);

void sl_dp_free(struct sl_dp *dp);

/** Ask worker `w` to send an echo request. @return 0, -EINVAL, -ENOBUFS. */
int sl_dp_ping(struct sl_dp *dp, unsigned int w, struct sl_ip4 dst, uint16_t seq);

/** Take up to `n` messages posted to control; the caller returns them with sl_dp_msg_free. */
unsigned int sl_dp_ctl_poll(struct sl_dp *dp, struct sl_msg **msgs, unsigned int n);
void sl_dp_msg_free(struct sl_dp *dp, struct sl_msg *msg);

/** Copy a worker's loop counters (relaxed reads of another lcore's counters). */
void sl_dp_lcore_stats(const struct sl_dp *dp, unsigned int w, struct sl_lcore_stats *out);

/** Add worker `w`'s impairment counters of port `p` (rx, tx) into the sums. */
void sl_dp_impair_stats_add(const struct sl_dp *dp, unsigned int w, unsigned int p,
			    struct sl_impair_stats *rx, struct sl_impair_stats *tx);

/** Copy worker `w`'s TCP counters. */
void sl_dp_tcp_stats(const struct sl_dp *dp, unsigned int w, struct sl_tcp_stats *out);

/** `test connect`: ask worker `w` to open a connection to dst:port, send `bytes` of a
 * pattern and verify they come back; the result comes as SL_MSG_CONNECT_RESULT with `id`.
 * @return 0, -EINVAL, -ENOBUFS. */
int sl_dp_test_connect(struct sl_dp *dp, unsigned int w, struct sl_ip4 dst, uint16_t port,
		       uint32_t bytes, uint32_t id);

/** Copy worker `w`'s HTTP counters, summed over its HTTP listeners. */
void sl_dp_http_stats(const struct sl_dp *dp, unsigned int w, struct sl_http_stats *out);
/** Add worker w's native front counters (struct sl_nf_stats, nfront.h) into out. */
void sl_dp_nf_stats(const struct sl_dp *dp, unsigned int w, uint64_t *out, size_t n);

/** Ask every worker to start or stop draining (HTTP: /-/health 503, keep-alive ends).
 * @return 0, or -ENOBUFS when some worker could not be told. */
int sl_dp_drain(struct sl_dp *dp, bool on);

/** Ask every worker's TCP to refuse new connections or take them again (sl_tcp_refuse():
 * SYNs to listeners get RST,ACK, counted in syn_refused_draining; existing connections
 * carry on). Idempotent: posting again after -ENOBUFS is safe.
 * @return 0, or -ENOBUFS when some worker could not be told. */
int sl_dp_refuse(struct sl_dp *dp, bool on);

/** Bytes one connection of worker `w` takes: its pool element (header and trailer
 * included) and its share of the connection table (measured as the rte_malloc heap grew
 * when the table was made, divided by its entries). Idle connections hold no buffer. */
uint32_t sl_dp_conn_bytes(const struct sl_dp *dp, unsigned int w);

/** Bytes allocated on the rte_malloc heaps (all sockets). */
uint64_t sl_dp_heap_allocated(void);

/** Free and total connection slots of worker `w`. */
void sl_dp_conn_pool(const struct sl_dp *dp, unsigned int w, unsigned int *free_n,
		     unsigned int *total);

/** Add worker `w`'s L2/L3 counters for port `p` into `sum`. */
void sl_dp_net_stats_add(const struct sl_dp *dp, unsigned int w, unsigned int p,
			 struct sl_net_stats *sum);

/* ---- shared between the workers and the control thread (shared.c) ---- */

/** Access log ring size per worker (records). */
#define SL_ALOG_RING_SIZE 4096

/** The dispatch view now: workers read it once per request and never keep it past the loop
 * iteration (they report a quiescent state at its start). NULL before the first publish. */
static inline const struct sl_cluster *
sl_dp_cluster(const struct sl_dp *dp)
{
	return __atomic_load_n(&dp->cluster, __ATOMIC_ACQUIRE);
}

/**
 * Control: make `cl` (malloc'ed; the data plane owns it from now on, whatever the result) the
 * view the workers see; the previous one is freed once every worker has passed a quiescent
 * state (sl_dp_cluster_reclaim). Never blocks unless SL_RETIRE_MAX views wait already, then
 * it waits for the oldest grace period (a worker loop iteration). @return 0, -EINVAL.
 */
int sl_dp_cluster_publish(struct sl_dp *dp, struct sl_cluster *cl);

/** Control: free the old views whose grace period has ended (non-blocking). */
void sl_dp_cluster_reclaim(struct sl_dp *dp);

/** Control: the generation of the view worker `w` saw at its last quiescent report. */
uint64_t sl_dp_cluster_gen(const struct sl_dp *dp, unsigned int w);

/** Worker: hand a finished request's record to the control thread (an enqueue; a full ring
 * counts be_stats->alog_dropped). Nothing happens when the access log is off. */
void sl_worker_alog(struct sl_worker *w, const struct sl_access_rec *r);

/** The same as a callback for sl_http_server_backend(): ctx is the worker. */
void sl_worker_alog_cb(void *w, const struct sl_access_rec *r);

/** Worker: is the access log on (is a record worth building)? */
static inline bool
sl_worker_alog_on(const struct sl_worker *w)
{
	return w->alog != NULL;
}

/** Control: take up to `n` access log records, from every worker in turn. */
unsigned int sl_dp_alog_poll(struct sl_dp *dp, struct sl_access_rec *out, unsigned int n);

/** Control: add worker `w`'s dispatch counters into `out` (relaxed loads; node_state: the
 * gauges and counters add up, `down` is or'ed). */
void sl_dp_be_stats(const struct sl_dp *dp, unsigned int w, struct sl_be_stats *out);

/** The workers' clock (struct sl_worker.now_us) read now, for mapping records to UTC. */
uint64_t sl_dp_clock_us(const struct sl_dp *dp);

/* worker.c's calls into shared.c */
int sl_dp_shared_init(struct sl_dp *dp);	  /* in sl_dp_create: QSBR, rings */
void sl_worker_shared_fini(struct sl_worker *w);  /* in sl_dp_free, after worker_tcp_fini */
void sl_dp_shared_fini(struct sl_dp *dp);	  /* in sl_dp_free, last: views, QSBR */
void sl_worker_shared_start(struct sl_worker *w); /* loop start: register, online */
void sl_worker_quiescent(struct sl_worker *w);	  /* once per loop iteration */
void sl_worker_shared_stop(struct sl_worker *w);  /* loop end: offline, unregister */

#endif /* SL_WORKER_H */
