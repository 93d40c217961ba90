/**
 * @file
 * The native front of a worker (issue 12, docs/native-front.md): unmodified Cocaine 0.12
 * clients resolve apps at sluiced's own locator (VIP:locator_port) and open channels on each
 * app's own port (VIP:app_ports + app index). Channels are carried to nodes through the
 * backend pools (be.h) with their ids rewritten, and back. EAL-free.
 */
#ifndef SL_NFRONT_H
#define SL_NFRONT_H

#include <stdbool.h>
#include <stdint.h>

#include "backend-t.h"
#include "be.h"
#include "native-hpack-t.h"
#include "tcp.h"

#define SL_NF_CHANS 256		 /* channel table of a client connection (power of two) */
#define SL_NF_SEGS 2048		 /* buffers one client frame may span */
#define SL_NF_RETRY_BYTES 262144 /* a channel's frames kept for a retry */
#define SL_NF_PAUSE_BYTES 262144 /* replies waiting for a slow client pause its node */

struct sl_nf_conf {
	struct sl_ip4 vip;     /* the listener's address, answered by resolve */
	uint16_t locator_port; /* 10053 */
	uint16_t app_ports;    /* app i is on app_ports + i */
	uint32_t max_conns;    /* client connections of the worker [1024] */
	uint32_t frame_bytes;  /* largest client frame [1 MiB] */
	uint32_t worker;
};

#define SL_NF_STATS(X)                                                                             \
	X(conns)	   /* client connections taken */                                          \
	X(conns_refused)   /* over max_conns */                                                    \
	X(frames_in)	   /* client frames decoded */                                             \
	X(violations)	   /* protocol violations: the client's connection was closed */           \
	X(resolves)	   /* resolve answered with an endpoint */                                 \
	X(resolve_unknown) /* resolve of a name we do not serve */                                 \
	X(locator_other)   /* other locator methods (answered with an error) */                    \
	X(channels)	   /* enqueues carried to a node */                                        \
	X(no_node)	   /* enqueues with no node to go to */                                    \
	X(retries)	   /* channels sent again to another node */                               \
	X(timeouts)	   /* deadlines passed */                                                  \
	X(lost)		   /* node connections lost under a channel */                             \
	X(infos)	   /* app info answered */                                                 \
	X(controls)	   /* app control refused */

struct sl_nf_stats {
#define SL_NF_STATS_FIELD(n) uint64_t n;
	SL_NF_STATS(SL_NF_STATS_FIELD)
#undef SL_NF_STATS_FIELD
	uint64_t active;   /* client connections now */
	uint64_t inflight; /* channels now */
};

extern const char *const sl_nf_stats_names[];
#define SL_NF_STATS_COUNT (sizeof(struct sl_nf_stats) / sizeof(uint64_t))

struct sl_nf_server;

/** One listening port of the front: the locator (app -1) or an app's port. */
struct sl_nf_port {
	struct sl_nf_server *srv;
	int app;
};

/** @return the front, or NULL with errno. */
struct sl_nf_server *sl_nf_create(struct sl_tcp_stack *st, struct sl_be *be,
				  const struct sl_nf_conf *conf);
void sl_nf_free(struct sl_nf_server *srv);

/** The port context to give sl_tcp_listen() with sl_nf_ops: -1 the locator, else an app. */
struct sl_nf_port *sl_nf_port(struct sl_nf_server *srv, int app);

const struct sl_nf_stats *sl_nf_stats(const struct sl_nf_server *srv);

extern const struct sl_tcp_app_ops sl_nf_ops;

#endif /* SL_NFRONT_H */
