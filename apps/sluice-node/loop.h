/**
 * @file
 * sluice-node's event loop: epoll (level-triggered) over file descriptors, tasks that run
 * after each batch of events (output flushes), deferred frees (an object closed while
 * events for it are still in the batch is freed only after the batch), and a monotonic
 * clock read once per iteration. Single-threaded.
 */
#ifndef SL_NODE_LOOP_H
#define SL_NODE_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include "nlist.h"

struct loop_io;
/** Called with the epoll events of io->fd. */
typedef void (*loop_cb)(struct loop_io *io, uint32_t events);

/** A file descriptor in the loop; embed it in the owner. */
struct loop_io {
	int fd;
	loop_cb cb;
};

/** Work run after the current batch of events (posted at most once until it runs). */
struct loop_task {
	NL_ENTRY(loop_task) link;
	void (*fn)(struct loop_task *t);
	bool queued;
};

/** An object to free after the current batch. */
struct loop_grave {
	struct loop_grave *next;
	void (*free_fn)(struct loop_grave *g);
};

NL_HEAD(loop_task_list, loop_task);

struct loop {
	int epfd;
	uint64_t now_us; /* CLOCK_MONOTONIC, read once per iteration */
	struct loop_task_list tasks;
	struct loop_grave *graves;
	uint64_t iterations;
};

/** @return 0, or -errno when epoll cannot be created. */
int loop_init(struct loop *l);
void loop_fini(struct loop *l);

/** Register io->fd for `events` (EPOLLIN, EPOLLOUT). @return 0 or -errno. */
int loop_add(struct loop *l, struct loop_io *io, uint32_t events);
/** Change the events of a registered fd. @return 0 or -errno. */
int loop_mod(struct loop *l, struct loop_io *io, uint32_t events);
/** Unregister io->fd (it stays open). */
void loop_del(struct loop *l, struct loop_io *io);

/** Run t->fn after the current batch (no-op when already posted). */
void loop_post(struct loop *l, struct loop_task *t);
/** Withdraw a posted task. */
void loop_cancel(struct loop *l, struct loop_task *t);
/** Free g with g->free_fn after the current batch. */
void loop_bury(struct loop *l, struct loop_grave *g);

/**
 * Wait up to timeout_ms for events, dispatch them, run the posted tasks, free the graves.
 * @return number of events dispatched, or -errno (EINTR is 0).
 */
int loop_run_once(struct loop *l, int timeout_ms);

/** Read the monotonic clock into l->now_us and return it. */
uint64_t loop_update_time(struct loop *l);

/** Milliseconds of the loop's clock. */
static inline uint64_t
loop_now_ms(const struct loop *l)
{
	return l->now_us / 1000;
}

#endif /* SL_NODE_LOOP_H */
