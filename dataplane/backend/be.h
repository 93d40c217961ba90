/**
 * @file
 * Backend pools of one worker (docs/dispatch.md): persistent TCP connections per (node, app)
 * over sluice's own TCP, Cocaine 0.12 channels multiplexed on them, replies decoded as they
 * stream in. EAL-free.
 *
 * A request is a channel (struct sl_be_chan, the caller's storage): sl_be_send() picks a
 * connection of the pool of (node, app), opening one when the pool is short, gives the
 * channel the next id of that connection and queues `enqueue [event]`, one `write` of the
 * packed request and `close`. What the node answers comes back as events (enum
 * sl_be_ev_type) through the callback given to sl_be_create(); write payloads are passed on
 * as they arrive, without waiting for the frame's end. A channel ends with CLOSE, ERROR,
 * LOST or TIMEOUT; after one of those the module has forgotten it.
 *
 * Frames of one connection go out whole and in the order they were queued; a new channel
 * goes to the connection with the fewest bytes waiting, so one large request does not hold
 * the others back when the pool has a second connection.
 */
#ifndef SL_BE_H
#define SL_BE_H

#include <stdbool.h>
#include <stdint.h>

#include "backend-t.h"
#include "native-err-t.h"
#include "native-hpack-t.h"
#include "tcp.h"

#define SL_BE_CHANS_PER_CONN 1024 /* channels in flight on one connection (power of two) */
#define SL_BE_SMALL_FRAME 16384	  /* bytes of a frame other than a write's payload */
#define SL_BE_POOL_MAX 16	  /* connections per (node, app) */

enum sl_be_ev_type {
	SL_BE_EV_CHUNK = 1, /* a `write` begins: len = its payload bytes */
	SL_BE_EV_DATA,	    /* payload bytes of the current write: p, len */
	SL_BE_EV_CHUNK_END, /* the current write's payload is complete */
	SL_BE_EV_CLOSE,	    /* `close`: the reply is complete */
	SL_BE_EV_ERROR,	    /* `error [[cat, code], msg]`: err, msg, len */
	SL_BE_EV_LOST,	    /* the connection failed: errnum, unsent, never_connected */
	SL_BE_EV_TIMEOUT,   /* the deadline passed (the connection is retired) */
};

struct sl_be_ev {
	enum sl_be_ev_type type;
	const struct sl_hdrs *hdrs; /* CHUNK_END, CLOSE, ERROR: the frame's headers, or NULL */
	uint32_t len;
	const uint8_t *p;
	struct sl_err err;
	int errnum;	      /* LOST: -errno */
	bool unsent;	      /* LOST: the node cannot have received the whole request */
	bool never_connected; /* LOST: no connection to the node could be opened */
};

struct sl_be_conn;
struct sl_be_chan;

/**
 * The caller's handler. @return 0 to go on; 1 after a DATA event to pause the connection
 * (no further frames of it are decoded until sl_be_resume()).
 */
typedef int (*sl_be_ev_fn)(void *user, struct sl_be_chan *ch, const struct sl_be_ev *ev);

/** A request in flight: caller storage, zeroed before first use. */
struct sl_be_chan {
	struct sl_be_conn *conn; /* NULL: not attached */
	void *user;
	sl_be_ev_fn ev; /* its handler; NULL: the one given to sl_be_create() */
	uint64_t id;
	uint64_t tx_end;      /* connection stream offset of the end of its request */
	uint64_t deadline_us; /* 0: none */
	uint32_t heap_idx;    /* in the deadline heap, UINT32_MAX when not there */
	uint16_t node, app;
	bool replied; /* a frame came on it */
};

struct sl_be_env_ops {
	/** Open a connection to addr:port (local address and port chosen by the worker). */
	int (*connect)(void *env, struct sl_ip4 addr, uint16_t port,
		       const struct sl_tcp_app_ops *ops, void *app, void *user,
		       struct sl_tcp_conn **out);
};

struct sl_be_conf {
	uint16_t pool_size;	     /* connections per (node, app) [2] */
	uint32_t max_conns;	     /* backend connections of the worker [256] */
	uint32_t max_chans;	     /* channels in flight in the worker [65536] */
	uint32_t connect_timeout_ms; /* [1000] */
	uint32_t backoff_min_ms;     /* first wait after a failed connect [100] */
	uint32_t backoff_max_ms;     /* [5000] */
};

/** What sl_be_send() sends: enqueue [event] with headers, write [pack(request)], close. */
struct sl_be_req {
	const char *event;
	uint32_t event_len;
	/* the packed request without its body: [method, uri, version, headers, then the
	 * body's raw header and bytes are added here */
	const struct sl_tcp_seg *head;
	uint32_t head_len;
	const struct sl_tcp_seg *body; /* copied, not taken */
	uint64_t body_len;
	const struct sl_hdr *hdrs; /* on the enqueue (trace ids, request_timeout) */
	int nhdrs;
	uint64_t deadline_us; /* of the channel (0: none) */
};

struct sl_be;

struct sl_be *sl_be_create(struct sl_tcp_stack *st, const struct sl_be_conf *conf,
			   const struct sl_be_env_ops *ops, void *env, struct sl_be_stats *stats,
			   sl_be_ev_fn ev);
void sl_be_free(struct sl_be *be);

/** The view the worker dispatches by (it stays valid until the next call). */
void sl_be_set_view(struct sl_be *be, const struct sl_cluster *cl);

/**
 * Choose a node for `app`: round robin over the nodes that resolved it, are up and not
 * marked down by this worker, skipping the ones in `tried` (bit per node index).
 * @return the node index, or -EHOSTUNREACH when none is left.
 */
int sl_be_pick(struct sl_be *be, uint16_t app, const uint64_t tried[1]);

/**
 * Send a request on a channel to `node`. ch->user is kept.
 * @return 0 (events follow); -ENOBUFS when no connection or buffer can be had now (the
 *   node is not marked down); -EHOSTUNREACH when the node is in back-off after failures.
 */
int sl_be_send(struct sl_be *be, struct sl_be_chan *ch, uint16_t app, uint16_t node,
	       const struct sl_be_req *req);

/**
 * Open a channel to `node` without sending anything: the caller then queues frames it
 * encodes with ch->id (sl_be_put()). ch->user and ch->ev are kept.
 * @return 0, or as sl_be_send().
 */
int sl_be_open(struct sl_be *be, struct sl_be_chan *ch, uint16_t app, uint16_t node,
	       uint64_t deadline_us);

/**
 * Queue whole frames of an open channel (encoded with ch->id); the chain is taken in every
 * case. @return 0; -ENOTCONN when the channel is not open.
 */
int sl_be_put(struct sl_be *be, struct sl_be_chan *ch, struct sl_tcp_seg *chain, uint32_t len);

/** Set or move the channel's deadline (absolute, worker clock). */
void sl_be_deadline(struct sl_be *be, struct sl_be_chan *ch, uint64_t deadline_us);

/** Forget a channel (the client went away): later frames on it are dropped. */
void sl_be_cancel(struct sl_be *be, struct sl_be_chan *ch);

/** Decode again on a connection paused by this channel's handler. */
void sl_be_resume(struct sl_be *be, struct sl_be_chan *ch);

/** Deadlines, connect timeouts. */
void sl_be_tick(struct sl_be *be, uint64_t now_us);

const struct sl_cluster *sl_be_view(const struct sl_be *be);

struct sl_be_stats *sl_be_stats(struct sl_be *be);

/** Whether this worker has the node marked down itself. */
bool sl_be_node_down(const struct sl_be *be, uint16_t node);

extern const struct sl_tcp_app_ops sl_be_tcp_ops;

#endif /* SL_BE_H */
