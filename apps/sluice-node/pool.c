/*
 * The worker pool of an app (cocaine-protocol.md 5.5, node v2 rules):
 *  - a request goes to the least-loaded active worker whose load is under `concurrency`,
 *    else to the queue (req.c);
 *  - target = clamp(queue / grow-threshold, 1, pool-limit), or the `control` target; workers
 *    are spawned up to it; with a manual target below the active count the least-loaded
 *    workers are sealed (no new requests, terminated once their channels are done);
 *  - a worker idle for idle-timeout is terminated while more than the floor (1, or the
 *    manual target) remain (0.11's shrink rule; node v2 parses idle-timeout but never
 *    shrinks, 5.4);
 *  - after a worker dies unexpectedly, spawning pauses 1 s, doubling up to 32 s while
 *    failures repeat within 32 s.
 */
#include <errno.h>
#include <string.h>

#include "node.h"
#include "sl_log.h"

#define POOL_LOG(l, ...) SL_LOG(l, "pool", __VA_ARGS__)
#define POOL_BACKOFF_MIN_MS 1000
#define POOL_BACKOFF_MAX_MS 32000

struct slave *
pool_pick(struct app *a)
{
	struct slave *s, *best = NULL;

	for (s = NL_FIRST(&a->slaves); s != NULL; s = NL_NEXT(s, link)) {
		if (s->state != SLAVE_ACTIVE || s->conn == NULL || s->conn->failing ||
		    s->load >= a->prof.concurrency)
			continue;
		if (best == NULL || s->load < best->load)
			best = s;
	}
	return best;
}

void
pool_pump(struct app *a)
{
	while (!NL_EMPTY(&a->queue)) {
		struct slave *s = pool_pick(a);
		struct req *r;

		if (s == NULL)
			return;
		r = NL_FIRST(&a->queue);
		NL_REMOVE(&a->queue, r, qlink);
		a->depth--;
		r->flags &= ~REQ_QUEUED;
		if (req_assign(r, s) < 0)
			req_fail(r, SL_ECAT_NODE, SL_ENODE_RESOURCE,
				 "cannot open a worker channel");
	}
}

void
pool_counts(const struct app *a, uint32_t *active, uint32_t *idle, uint32_t *load)
{
	const struct slave *s;
	uint32_t n = 0;

	*active = *load = 0;
	for (s = NL_FIRST(&a->slaves); s != NULL; s = NL_NEXT(s, link)) {
		n++;
		if (s->state == SLAVE_ACTIVE || s->state == SLAVE_SEALING)
			(*active)++;
		*load += s->load;
	}
	*idle = n - *active;
}

static uint32_t
pool_target(const struct app *a)
{
	uint32_t t;

	if (a->manual_target > 0)
		return a->manual_target < a->prof.pool_limit ? a->manual_target
							     : a->prof.pool_limit;
	t = a->depth / a->prof.grow_threshold;
	if (t < 1)
		t = 1;
	return t < a->prof.pool_limit ? t : a->prof.pool_limit;
}

void
pool_note_crash(struct app *a, uint64_t now_ms)
{
	if (a->backoff_ms == 0 || now_ms - a->last_crash_ms > POOL_BACKOFF_MAX_MS)
		a->backoff_ms = POOL_BACKOFF_MIN_MS;
	else if (a->backoff_ms < POOL_BACKOFF_MAX_MS)
		a->backoff_ms *= 2;
	a->last_crash_ms = now_ms;
	a->next_spawn_ms = now_ms + a->backoff_ms;
	a->st.crashed++;
	POOL_LOG(NOTICE, "app %s: a worker failed; next spawn in %llu ms", a->name,
		 (unsigned long long)a->backoff_ms);
}

/* Seal the least-loaded active worker. */
static void
pool_seal_one(struct app *a, uint64_t now_ms)
{
	struct slave *s, *best = NULL;

	for (s = NL_FIRST(&a->slaves); s != NULL; s = NL_NEXT(s, link))
		if (s->state == SLAVE_ACTIVE && (best == NULL || s->load < best->load))
			best = s;
	if (best == NULL)
		return;
	best->state = SLAVE_SEALING;
	best->sealed_ms = now_ms;
	POOL_LOG(INFO, "app %s: worker %.8s sealed (target %u)", a->name, best->uuid,
		 a->manual_target);
	if (best->load == 0)
		slave_terminate(best, SL_ESLAVE_SEALING, "the worker is sealed");
}

void
pool_rebalance(struct app *a)
{
	uint64_t now = loop_now_ms(&a->node->loop);
	uint32_t alive = 0, active = 0, target;
	struct slave *s;

	if (a->state != APP_RUNNING || a->node->stopping)
		return;
	for (s = NL_FIRST(&a->slaves); s != NULL; s = NL_NEXT(s, link)) {
		if (s->state == SLAVE_SPAWNED || s->state == SLAVE_ACTIVE)
			alive++;
		if (s->state == SLAVE_ACTIVE)
			active++;
	}
	target = pool_target(a);
	while (alive < target && now >= a->next_spawn_ms) {
		if (slave_spawn(a) == NULL) {
			POOL_LOG(ERR, "app %s: cannot spawn a worker: %s", a->name,
				 strerror(errno));
			pool_note_crash(a, now);
			break;
		}
		alive++;
	}
	while (a->manual_target > 0 && active > target) {
		pool_seal_one(a, now);
		active--;
	}
}

void
pool_tick(struct app *a, uint64_t now_ms)
{
	uint32_t floor = a->manual_target > 0 ? a->manual_target : 1;
	uint32_t active = 0;
	struct slave *s, *next;

	for (s = NL_FIRST(&a->slaves); s != NULL; s = NL_NEXT(s, link))
		if (s->state == SLAVE_ACTIVE)
			active++;
	for (s = NL_FIRST(&a->slaves); s != NULL; s = next) {
		next = NL_NEXT(s, link);
		if (s->state == SLAVE_ACTIVE && s->load == 0 && a->depth == 0 && active > floor &&
		    now_ms - s->idle_since_ms >= a->prof.idle_ms) {
			slave_terminate(s, SL_ESLAVE_IDLE, "the worker is idle");
			active--;
		} else if (s->state == SLAVE_SEALING &&
			   (s->load == 0 || now_ms - s->sealed_ms >= a->prof.seal_ms)) {
			slave_terminate(s, SL_ESLAVE_SEALING, "the worker is sealed");
		}
	}
	pool_rebalance(a);
	pool_pump(a);
}
