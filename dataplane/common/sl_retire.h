/**
 * @file
 * A FIFO of retired objects waiting for their grace period: (pointer, token) pairs in the order
 * they were retired, so tokens grow from head to tail and reclaiming stops at the first one
 * still in use. EAL-free: the caller passes the grace-period check (rte_rcu_qsbr_check in the
 * data plane, a fake in tests) and the destructor.
 */
#ifndef SL_RETIRE_H
#define SL_RETIRE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#define SL_RETIRE_MAX 64

struct sl_retire {
	unsigned int head, n;
	void *obj[SL_RETIRE_MAX];
	uint64_t token[SL_RETIRE_MAX];
};

/** @return true when the grace period of `token` has ended. */
typedef bool (*sl_retire_done_fn)(void *ctx, uint64_t token);
typedef void (*sl_retire_free_fn)(void *obj);

static inline bool
sl_retire_full(const struct sl_retire *r)
{
	return r->n == SL_RETIRE_MAX;
}

/** Queue `obj` retired under `token`. @return 0, or -ENOSPC when full. */
static inline int
sl_retire_push(struct sl_retire *r, void *obj, uint64_t token)
{
	unsigned int i;

	if (r->n == SL_RETIRE_MAX)
		return -ENOSPC;
	i = (r->head + r->n) % SL_RETIRE_MAX;
	r->obj[i] = obj;
	r->token[i] = token;
	r->n++;
	return 0;
}

/**
 * Free the objects, oldest first, whose grace period has ended; stop at the first that has
 * not (`done` NULL: free all). @return how many were freed.
 */
static inline unsigned int
sl_retire_reclaim(struct sl_retire *r, sl_retire_done_fn done, void *ctx, sl_retire_free_fn fr)
{
	unsigned int freed = 0;

	while (r->n > 0 && (done == NULL || done(ctx, r->token[r->head]))) {
		fr(r->obj[r->head]);
		r->obj[r->head] = NULL;
		r->head = (r->head + 1) % SL_RETIRE_MAX;
		r->n--;
		freed++;
	}
	return freed;
}

#endif /* SL_RETIRE_H */
