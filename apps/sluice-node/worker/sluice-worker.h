/**
 * @file
 * libsluiceworker: the worker side of Cocaine worker protocol v1 (cocaine-protocol.md 5.3,
 * 12a.1, 12a.7), for workers written in C that run under sluice-node or any 0.12 node v2.
 *
 * The runtime starts a worker as `worker --app NAME --endpoint SOCKET --locator HOST:PORT
 * --uuid UUID --protocol 1`. slw_new() reads those; slw_run() connects to SOCKET, sends
 * handshake [uuid] on channel 1 and then, single-threaded on one poll loop: heartbeats every
 * SLUICE_WORKER_HEARTBEAT_MS (default 5000) and exits when the runtime has been silent for
 * SLUICE_WORKER_DISOWN_MS (default 30000); answers terminate by echoing it and returning;
 * dispatches invoke [event] on channels 2, 3, ... to the handler registered for the event
 * (unknown events get [[42, 1], "there is no handler for event ..."]), then the request's
 * write/close/error to the same handler. Frames are written with 3 elements (no headers),
 * as real workers do; the node's 4-element frames and headers are decoded.
 *
 * A request lives until both sides have finished (the handler's slw_close()/slw_error()
 * and the runtime's close/error); then on_free is called and it is gone. Output is buffered
 * and written once per loop iteration.
 *
 * Return conventions: 0 or -errno; constructors return NULL with errno set.
 */
#ifndef SLUICE_WORKER_H
#define SLUICE_WORKER_H

#include <stddef.h>
#include <stdint.h>

struct slw;
struct slw_req;
struct slw_timer;

/** What a worker does for one event. Every callback may be NULL. */
struct slw_handler {
	/** A new request (invoke). */
	void (*on_invoke)(struct slw_req *r);
	/** A chunk of the request body (write). */
	void (*on_chunk)(struct slw_req *r, const void *data, size_t len);
	/** The body is complete (close). */
	void (*on_close)(struct slw_req *r);
	/** The runtime aborted the request (error; e.g. the client disconnected). */
	void (*on_error)(struct slw_req *r, int64_t cat, int64_t code, const char *msg);
	/** The request is being freed: cancel its timers, free its data. */
	void (*on_free)(struct slw_req *r);
};

/**
 * Parse the runtime's arguments (--app, --endpoint, --locator, --uuid, --protocol).
 * @return the worker, or NULL with errno = EINVAL (missing --endpoint/--uuid, or a protocol
 *   other than 1) or ENOMEM.
 */
struct slw *slw_new(int argc, char **argv);
void slw_free(struct slw *w);

/** Register the handler of `event` (arg is given back by slw_req_arg()). @return 0/-errno. */
int slw_on(struct slw *w, const char *event, const struct slw_handler *h, void *arg);

/**
 * Connect and serve until terminated or disowned.
 * @return 0 after a terminate from the runtime; -errno when the connection failed or was
 *   lost, or the runtime fell silent (-ETIMEDOUT).
 */
int slw_run(struct slw *w);

/* Accessors */
const char *slw_app(const struct slw *w);
const char *slw_uuid(const struct slw *w);
const char *slw_locator(const struct slw *w); /* "host:port" (first of a list) */

struct slw *slw_req_worker(const struct slw_req *r);
const char *slw_req_event(const struct slw_req *r);
void *slw_req_arg(const struct slw_req *r);
void *slw_req_data(const struct slw_req *r);
void slw_req_set_data(struct slw_req *r, void *data);

/** Send a chunk. @return 0; -EPIPE after slw_close()/slw_error(); -ENOBUFS past 64 MiB. */
int slw_write(struct slw_req *r, const void *data, size_t len);
/** Finish the reply. @return 0 or -EPIPE. */
int slw_close(struct slw_req *r);
/** Finish the reply with an error [[cat, code], msg]. @return 0 or -EPIPE. */
int slw_error(struct slw_req *r, int64_t cat, int64_t code, const char *msg);

/** Call fn(arg) once, ms milliseconds from now. @return the timer, or NULL (ENOMEM). */
struct slw_timer *slw_timer_add(struct slw *w, uint64_t ms, void (*fn)(void *arg), void *arg);
/** Cancel a timer that has not fired. */
void slw_timer_cancel(struct slw *w, struct slw_timer *t);

#endif /* SLUICE_WORKER_H */
