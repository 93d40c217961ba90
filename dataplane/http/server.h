/**
 * @file
 * The HTTP/1.1 front of one worker: a TCP application (struct sl_tcp_app_ops) that parses
 * requests with http1.h and answers them, EAL-free. One struct sl_http_server per worker and
 * listener; connections come from a slab reserved at init (no allocation afterwards).
 *
 * Per connection: keep-alive and pipelining (one request at a time, answered in order; the
 * next request is parsed only once the answer is queued), Expect: 100-continue, HEAD,
 * HTTP/1.0 with and without keep-alive, Connection: close, chunked request bodies and
 * chunked responses, and the limits: header timeout (first byte of a request to the end of
 * its head: 408), body timeout (no body byte for that long: 408), keep-alive idle timeout
 * (the connection is closed), connections per worker (503). An answer that ends the
 * connection is followed by a graceful close: FIN after the answer, input read and
 * discarded until the peer closes or SL_HTTP_LINGER_MS pass (RFC 9112 9.6).
 *
 * Built-in endpoints (each enabled by config): /-/health (200 while serving, 503 while
 * draining) and /-/mirror (a dump of the request as parsed and as it would be forwarded).
 * Every other request gets 503 until dispatch exists.
 */
#ifndef SL_HTTP_SERVER_H
#define SL_HTTP_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "be.h"
#include "http1.h"
#include "tcp.h"

#define SL_HTTP_LINGER_MS 2000	  /* reading after our FIN before letting go */
#define SL_HTTP_MIRROR_BODY 65536 /* /-/mirror echoes bodies up to this size */
#define SL_HTTP_REQID_MAX 128	  /* a longer X-Request-Id is replaced */

/** Configuration of one HTTP listener; zero fields take the defaults in brackets. */
struct sl_http_conf {
	struct sl_http1_limits lim;
	uint32_t header_timeout_ms; /* [10000] */
	uint32_t body_timeout_ms;   /* [10000] */
	uint32_t keepalive_ms;	    /* [60000] */
	uint32_t max_conns;	    /* HTTP connections of this worker [65536] */
	bool health;		    /* serve /-/health */
	bool mirror;		    /* serve /-/mirror */
};

/* Counters; the X-macro gives names and the struct (the style of SL_TCP_STATS). */
#define SL_HTTP_STATS(X)                                                                           \
	X(conns)	 /* connections taken */                                                   \
	X(conns_refused) /* over max_conns: 503 and close */                                       \
	X(requests)	 /* request heads parsed */                                                \
	X(responses)	 /* final responses queued */                                              \
	X(continues)	 /* 100 Continue sent */                                                   \
	X(status_2xx)                                                                              \
	X(status_4xx)                                                                              \
	X(status_5xx)                                                                              \
	X(bad_request)	    /* 400 */                                                              \
	X(timeout_head)	    /* 408: header timeout */                                              \
	X(timeout_body)	    /* 408: body timeout */                                                \
	X(too_large)	    /* 413 */                                                              \
	X(uri_too_long)	    /* 414 */                                                              \
	X(expect_failed)    /* 417 */                                                              \
	X(fields_too_large) /* 431 */                                                              \
	X(not_implemented)  /* 501 */                                                              \
	X(bad_version)	    /* 505 */                                                              \
	X(no_route)	    /* 503: nothing serves the request yet */                              \
	X(idle_closed)	    /* keep-alive idle timeout */                                          \
	X(linger_expired)   /* the peer did not close within SL_HTTP_LINGER_MS */                  \
	X(body_bytes)	    /* de-chunked request body bytes */                                    \
	X(health)                                                                                  \
	X(mirror)                                                                                  \
	X(out_of_buffers) /* no buffer for an answer: the connection was reset */                  \
	X(dispatched)	  /* requests sent to nodes */                                             \
	X(not_found)	  /* 404: no app and event in the request */                               \
	X(client_gone)	  /* the client left while its request was at a node */

struct sl_http_stats {
#define SL_HTTP_STATS_FIELD(n) uint64_t n;
	SL_HTTP_STATS(SL_HTTP_STATS_FIELD)
#undef SL_HTTP_STATS_FIELD
	uint64_t active;   /* connections now */
	uint64_t inflight; /* requests now: from the head to the end of the answer (or the
			    * connection's end); what a drain waits for */
};

extern const char *const sl_http_stats_names[];
#define SL_HTTP_STATS_COUNT (sizeof(struct sl_http_stats) / sizeof(uint64_t))

struct sl_http_conn;

/** A FIFO of connections waiting on one kind of timeout: the timeout is the same for all of
 * them, so arming appends and the list stays sorted by deadline. */
struct sl_http_tlist {
	struct sl_http_conn *head, *tail;
};

struct sl_http_server {
	struct sl_tcp_stack *st;
	struct sl_http_conf conf;
	struct sl_http_stats stats;
	bool draining;	 /* /-/health answers 503, keep-alive connections close after a reply */
	uint32_t worker; /* in generated request ids */
	uint64_t reqid_key, reqid_seq;
	struct sl_http_conn *slab; /* max_conns of them */
	struct sl_http1_hdr *hdrs; /* max_conns * lim.fields */
	uint32_t *free_idx;	   /* stack of free slab indices */
	uint32_t n_free, n_used;   /* free stack depth; slab entries ever handed out */
	struct sl_http_tlist t_head, t_body, t_idle, t_linger;
	/* dispatch (docs/dispatch.md): the worker's backend pools, and where finished requests
	 * are reported for the access log */
	struct sl_be *be;
	void (*alog)(void *ctx, const struct sl_access_rec *r);
	void *alog_ctx;
};

/** The application ops of an HTTP listener; its app pointer is the struct sl_http_server. */
extern const struct sl_tcp_app_ops sl_http_ops;

/**
 * Set up a server on stack `st`. Reserves the connection slab (calloc: pages are touched
 * only as connections use them).
 * @return 0, -EINVAL (limits out of range), -ENOMEM.
 */
int sl_http_server_init(struct sl_http_server *srv, struct sl_tcp_stack *st,
			const struct sl_http_conf *conf, uint32_t worker, uint64_t seed);

/** Let go of the connections still held (their buffers freed, their user pointer cleared),
 * then free the slab. Call it before the stack's connections are released
 * (sl_tcp_conn_release), as the worker does. */
void sl_http_server_fini(struct sl_http_server *srv);

/** Run the timeouts due at now_us (call every few milliseconds). */
void sl_http_server_tick(struct sl_http_server *srv, uint64_t now_us);

/** Start or stop draining. */
void sl_http_server_drain(struct sl_http_server *srv, bool on);

/** Stopping (SIGTERM): idle keep-alive connections close now, the others after their
 * current answer. */
void sl_http_server_close_idle(struct sl_http_server *srv);

/** Dispatch requests through `be` (NULL: every request the endpoints do not take is 503). */
void sl_http_server_backend(struct sl_http_server *srv, struct sl_be *be,
			    void (*alog)(void *ctx, const struct sl_access_rec *r), void *ctx);

/** The handler to give sl_be_create(): replies of the channels of every HTTP server. */
int sl_http_be_event(void *user, struct sl_be_chan *ch, const struct sl_be_ev *ev);

/** CRC-32 (IEEE 802.3, as zlib's crc32()) of `len` bytes, continuing from `crc` (0 first). */
uint32_t sl_http_crc32(uint32_t crc, const uint8_t *p, uint32_t len);

#endif /* SL_HTTP_SERVER_H */
