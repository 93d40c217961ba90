/*
 * The event loop (see loop.h). Level-triggered epoll: a callback that leaves bytes unread
 * is called again on the next iteration, so no handler has to drain its fd.
 */
#include "loop.h"

#include <errno.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define LOOP_BATCH 128

int
loop_init(struct loop *l)
{
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	NL_INIT(&l->tasks);
	l->graves = NULL;
	l->iterations = 0;
	loop_update_time(l);
	return 0;
}

static void
loop_free_graves(struct loop *l)
{
	while (l->graves != NULL) {
		struct loop_grave *g = l->graves;

		l->graves = g->next;
		g->free_fn(g);
	}
}

void
loop_fini(struct loop *l)
{
	loop_free_graves(l);
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int
loop_add(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev) < 0 ? -errno : 0;
}

int
loop_mod(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0 ? -errno : 0;
}

void
loop_del(struct loop *l, struct loop_io *io)
{
	if (io->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

void
loop_post(struct loop *l, struct loop_task *t)
{
	if (t->queued)
		return;
	t->queued = true;
	NL_INSERT_TAIL(&l->tasks, t, link);
}

void
loop_cancel(struct loop *l, struct loop_task *t)
{
	if (!t->queued)
		return;
	t->queued = false;
	NL_REMOVE(&l->tasks, t, link);
}

void
loop_bury(struct loop *l, struct loop_grave *g)
{
	g->next = l->graves;
	l->graves = g;
}

uint64_t
loop_update_time(struct loop *l)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	l->now_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	return l->now_us;
}

int
loop_run_once(struct loop *l, int timeout_ms)
{
	struct epoll_event evs[LOOP_BATCH];
	int n, i;

	/* tasks posted outside a batch (start-up, timers) run before we sleep */
	if (!NL_EMPTY(&l->tasks))
		timeout_ms = 0;
	n = epoll_wait(l->epfd, evs, LOOP_BATCH, timeout_ms);
	if (n < 0)
		n = errno == EINTR ? 0 : -errno;
	loop_update_time(l);
	l->iterations++;
	for (i = 0; i < n; i++) {
		struct loop_io *io = evs[i].data.ptr;

		/* a callback earlier in the batch may have closed this fd (freed later) */
		if (io->fd >= 0)
			io->cb(io, evs[i].events);
	}
	while (!NL_EMPTY(&l->tasks)) {
		struct loop_task *t = NL_FIRST(&l->tasks);

		NL_REMOVE(&l->tasks, t, link);
		t->queued = false;
		t->fn(t);
	}
	loop_free_graves(l);
	return n;
}
