/*
 * What the workers and the control thread share for dispatch (issue 11, backend-t.h):
 *
 * - the view (struct sl_cluster): the control thread swaps dp->cluster (release store) and
 *   retires the old view under an RCU QSBR token; every worker reports a quiescent state once
 *   per loop iteration, so an old view is freed within about one iteration of every worker
 *   after the swap (sl_dp_cluster_reclaim, on the control loop's timer);
 * - the access log: one single-producer/single-consumer ring of struct sl_access_rec per
 *   worker, drained by the control thread, which formats and writes the lines;
 * - the dispatch counters (struct sl_be_stats), one block per worker (made by worker_tcp_init
 *   for the backend pools), read with relaxed loads.
 *
 * Worker side: no syscall, lock or allocation (an enqueue, a token load and store).
 */
#include "worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "sl_retire.h"

_Static_assert(sizeof(struct sl_access_rec) % 4 == 0, "ring elements are multiples of 4 bytes");
_Static_assert(sizeof(struct sl_be_counters) % sizeof(uint64_t) == 0, "counters only");

/* ---- control side ---- */

int
sl_dp_shared_init(struct sl_dp *dp)
{
	size_t qsz = rte_rcu_qsbr_get_memsize(dp->n_workers);
	char name[RTE_RING_NAMESIZE];

	dp->qsbr = rte_zmalloc("sl_qsbr", qsz, RTE_CACHE_LINE_SIZE);
	dp->retired = calloc(1, sizeof(*dp->retired));
	if (dp->qsbr == NULL || dp->retired == NULL ||
	    rte_rcu_qsbr_init(dp->qsbr, dp->n_workers) != 0)
		return -ENOMEM;
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		struct sl_worker *w = dp->workers[i];

		/* worker_tcp_init() makes them for the backend pools; freed by worker_tcp_fini() */
		if (w->be_stats == NULL)
			w->be_stats = rte_zmalloc("sl_be_stats", sizeof(*w->be_stats),
						  RTE_CACHE_LINE_SIZE);
		if (w->be_stats == NULL)
			return -ENOMEM;
		if (!dp->params.access_log)
			continue;
		snprintf(name, sizeof(name), "sl_alog_%u", i);
		w->alog =
			rte_ring_create_elem(name, sizeof(struct sl_access_rec), SL_ALOG_RING_SIZE,
					     SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->alog == NULL)
			return -ENOMEM;
	}
	return 0;
}

static void
view_free(void *p)
{
	free(p);
}

void
sl_worker_shared_fini(struct sl_worker *w)
{
	/* records of connections closed by worker_tcp_fini() are lost with the ring */
	rte_ring_free(w->alog);
	w->alog = NULL;
}

void
sl_dp_shared_fini(struct sl_dp *dp)
{
	if (dp->retired != NULL)
		sl_retire_reclaim(dp->retired, NULL, NULL, view_free); /* workers stopped */
	free(dp->retired);
	dp->retired = NULL;
	free(dp->cluster);
	dp->cluster = NULL;
	rte_free(dp->qsbr);
	dp->qsbr = NULL;
}

static bool
grace_over(void *ctx, uint64_t token)
{
	return rte_rcu_qsbr_check(ctx, token, false) == 1;
}

void
sl_dp_cluster_reclaim(struct sl_dp *dp)
{
	if (dp->retired != NULL)
		sl_retire_reclaim(dp->retired, grace_over, dp->qsbr, view_free);
}

int
sl_dp_cluster_publish(struct sl_dp *dp, struct sl_cluster *cl)
{
	struct sl_cluster *old;

	if (dp == NULL || cl == NULL || dp->retired == NULL) {
		free(cl);
		return -EINVAL;
	}
	old = dp->cluster; /* only the control thread writes it */
	__atomic_store_n(&dp->cluster, cl, __ATOMIC_RELEASE);
	if (old == NULL)
		return 0;
	sl_dp_cluster_reclaim(dp);
	if (sl_retire_full(dp->retired)) {
		/* publishing faster than workers loop: wait for the oldest (one iteration) */
		rte_rcu_qsbr_check(dp->qsbr, dp->retired->token[dp->retired->head], true);
		sl_dp_cluster_reclaim(dp);
	}
	/* the token is taken after the swap: a worker that acknowledges it has seen `cl` */
	return sl_retire_push(dp->retired, old, rte_rcu_qsbr_start(dp->qsbr));
}

uint64_t
sl_dp_cluster_gen(const struct sl_dp *dp, unsigned int w)
{
	return __atomic_load_n(&dp->workers[w]->cluster_gen, __ATOMIC_RELAXED);
}

unsigned int
sl_dp_alog_poll(struct sl_dp *dp, struct sl_access_rec *out, unsigned int n)
{
	unsigned int got = 0;

	for (unsigned int i = 0; i < dp->n_workers && got < n; i++) {
		struct sl_worker *w = dp->workers[i];

		if (w->alog != NULL)
			got += rte_ring_sc_dequeue_burst_elem(w->alog, out + got, sizeof(*out),
							      n - got, NULL);
	}
	return got;
}

static void
add_counters(uint64_t *dst, const uint64_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void
sl_dp_be_stats(const struct sl_dp *dp, unsigned int w, struct sl_be_stats *out)
{
	const struct sl_be_stats *s = dp->workers[w]->be_stats;

	const size_t per = sizeof(struct sl_be_counters) / sizeof(uint64_t);

	add_counters((uint64_t *)out->apps, (const uint64_t *)s->apps, SL_CL_MAX_APPS * per);
	add_counters((uint64_t *)out->nodes, (const uint64_t *)s->nodes, SL_CL_MAX_NODES * per);
	for (unsigned int i = 0; i < SL_CL_MAX_NODES; i++) {
		const struct sl_be_node_state *ns = &s->node_state[i];
		struct sl_be_node_state *o = &out->node_state[i];

		o->conns_opened += __atomic_load_n(&ns->conns_opened, __ATOMIC_RELAXED);
		o->conn_failures += __atomic_load_n(&ns->conn_failures, __ATOMIC_RELAXED);
		o->passive_down += __atomic_load_n(&ns->passive_down, __ATOMIC_RELAXED);
		o->conns += __atomic_load_n(&ns->conns, __ATOMIC_RELAXED);
		o->inflight += __atomic_load_n(&ns->inflight, __ATOMIC_RELAXED);
		o->down |= __atomic_load_n(&ns->down, __ATOMIC_RELAXED);
	}
	out->inflight += __atomic_load_n(&s->inflight, __ATOMIC_RELAXED);
	out->alog_dropped += __atomic_load_n(&s->alog_dropped, __ATOMIC_RELAXED);
	out->protocol_errors += __atomic_load_n(&s->protocol_errors, __ATOMIC_RELAXED);
}

uint64_t
sl_dp_clock_us(const struct sl_dp *dp)
{
	return rte_rdtsc() / (dp->tsc_hz / 1000000); /* as tsc_to_us() in worker.c */
}

/* ---- worker side ---- */

void
sl_worker_shared_start(struct sl_worker *w)
{
	rte_rcu_qsbr_thread_register(w->dp->qsbr, w->idx);
	rte_rcu_qsbr_thread_online(w->dp->qsbr, w->idx);
	sl_worker_quiescent(w);
}

void
sl_worker_quiescent(struct sl_worker *w)
{
	const struct sl_cluster *cl;

	rte_rcu_qsbr_quiescent(w->dp->qsbr, w->idx);
	cl = sl_dp_cluster(w->dp);
	if (cl != NULL && cl->generation != w->cluster_gen)
		__atomic_store_n(&w->cluster_gen, cl->generation, __ATOMIC_RELAXED);
}

void
sl_worker_shared_stop(struct sl_worker *w)
{
	rte_rcu_qsbr_thread_offline(w->dp->qsbr, w->idx);
	rte_rcu_qsbr_thread_unregister(w->dp->qsbr, w->idx);
}

void
sl_worker_alog(struct sl_worker *w, const struct sl_access_rec *r)
{
	/* the ring API takes a non-const pointer; it only reads the record */
	union {
		const struct sl_access_rec *c;
		void *p;
	} u = {.c = r};

	if (w->alog == NULL)
		return;
	if (SL_UNLIKELY(rte_ring_sp_enqueue_elem(w->alog, u.p, sizeof(*r)) != 0))
		w->be_stats->alog_dropped++;
}

void
sl_worker_alog_cb(void *w, const struct sl_access_rec *r)
{
	sl_worker_alog(w, r);
}
