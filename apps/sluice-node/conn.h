/**
 * @file
 * A framed Cocaine 0.12 connection (TCP client of a service, or a worker's unix socket):
 * a read buffer fed to the protocol library's frame decoder and channel state machine, and
 * a write buffer flushed once per loop iteration (so frames produced while handling a batch
 * of input leave in one write).
 *
 * Bounded memory: the read buffer grows only as far as one frame needs (the decoder rejects
 * frames over the configured frame size as soon as their headers are read); the write
 * buffer is capped (a peer that does not read is disconnected); the channel table has a
 * fixed capacity (a peer that opens more channels at once is disconnected, as the library
 * answers -ENOSPC).
 */
#ifndef SL_NODE_CONN_H
#define SL_NODE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nlist.h"

#include "loop.h"
#include "native.h"

struct conn;

/** What the owner of a connection does with it. */
struct conn_ops {
	/**
	 * A frame that passed the channel state machine (ev says what it did to its channel).
	 * f->args, h and the raw strings in them are valid only during the call.
	 * @return 0, or -errno to close the connection.
	 */
	int (*on_frame)(struct conn *c, const struct sl_frame *f, const struct sl_hdrs *h,
			const struct sl_chan_ev *ev);
	/** The connection is closing (err: why, 0 for a clean EOF); the session is still valid. */
	void (*on_close)(struct conn *c, int err);
};

/** Limits shared by every connection of a kind. */
struct conn_limits {
	uint32_t frame_bytes;	   /* max frame (decoder) */
	uint32_t channels;	   /* channel table capacity (a power of two) */
	size_t write_buffer_bytes; /* pending output before the peer is dropped */
};

struct conn {
	struct loop_io io;
	struct loop_task flush;
	struct loop_grave grave;
	struct loop *loop;
	const struct conn_ops *ops;
	const struct conn_limits *lim;
	void *owner;	     /* app, slave, node: the ops' business */
	uint32_t tag;	     /* the owner's use */
	uint64_t born_ms;    /* loop time of creation */
	NL_ENTRY(conn) link; /* in the owner's list */
	uint8_t *rbuf;
	uint32_t rlen, rcap, roff; /* bytes [roff, rlen) not yet decoded */
	uint8_t *wbuf;
	size_t wlen, woff, wcap; /* bytes [woff, wlen) not yet written */
	bool closed;
	bool failing;  /* conn_fail(): closed by the flush task after this batch */
	bool want_out; /* EPOLLOUT registered */
	int fail_err;
	struct sl_sess sess;
	struct sl_chan *tab;
	struct sl_frame_dec dec;
	char name[128]; /* for logs: "app echo client" */
};

/**
 * Make a connection over an accepted or connected non-blocking fd and register it.
 * @param serve, call  roots for the session (native-chan.h)
 * @param channels     channel table capacity (power of two), 0 for lim->channels
 * @return the connection, or NULL with errno set (the fd is closed then).
 */
struct conn *conn_new(struct loop *l, int fd, const struct conn_ops *ops,
		      const struct conn_limits *lim, const struct sl_gnode *serve,
		      const struct sl_gnode *call, uint32_t channels, void *owner,
		      const char *name);

/**
 * Close: unregister, call ops->on_close (once), close the fd; freed after the loop batch.
 * Safe to call repeatedly and from within the connection's own callbacks.
 */
void conn_close(struct conn *c, int err);

/**
 * Close later: after the current batch of events (from the flush task). Output and input
 * stop now. For failures found while handling another object (a reply that overflows the
 * write buffer), so that no handler sees objects freed under it.
 */
void conn_fail(struct conn *c, int err);

/**
 * Reserve n bytes at the end of the write buffer for an encoder.
 * @return 0 with *w over the free space; -ENOBUFS when the cap would be exceeded (the caller
 *   fails the connection); -EPIPE when it is closed or failing.
 */
int conn_out_begin(struct conn *c, size_t n, struct sl_mp_w *w);

/** Commit what the encoder wrote and schedule the flush. @return 0 or w->err. */
int conn_out_end(struct conn *c, const struct sl_mp_w *w);

/** Pending output bytes. */
static inline size_t
conn_out_pending(const struct conn *c)
{
	return c->wlen - c->woff;
}

/** Scratch headers shared by every connection's decoder (single-threaded). */
extern struct sl_hdrs conn_scratch_hdrs;

/** Smallest power of two >= n (n >= 2). */
uint32_t conn_pow2(uint32_t n);

#endif /* SL_NODE_CONN_H */
