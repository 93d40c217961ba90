/**
 * @file
 * The control thread's view of the cluster (docs/nodes.md): resolves each configured app at
 * each node's locator and polls the apps' `info` over non-blocking kernel sockets; EAL-free.
 */
#ifndef SL_NODES_H
#define SL_NODES_H

#include <stddef.h>
#include <stdint.h>

#include "backend-t.h"
#include "config-t.h"
#include "nodes-t.h"

struct sl_nodes;

/** Largest reply accepted from a locator or an app; larger ones fail the exchange. */
#define SL_NODES_REPLY_MAX (1024 * 1024)

/** @return the discovery state for `cfg` (copied), or NULL (errno). Starts checks at once. */
struct sl_nodes *sl_nodes_create(const struct sl_config *cfg, uint64_t now_ms);
void sl_nodes_free(struct sl_nodes *n);

/** An epoll fd that is readable when sl_nodes_run() has work: add it to the control loop's. */
int sl_nodes_fd(const struct sl_nodes *n);

/** Handle socket events and due timers. Never blocks. */
void sl_nodes_run(struct sl_nodes *n, uint64_t now_ms);

/** @return ms until the next timer (0: now), or -1 when there is none. */
int sl_nodes_timeout_ms(const struct sl_nodes *n, uint64_t now_ms);

/** The current picture; valid until the next sl_nodes_run(). */
const struct sl_cluster_snap *sl_nodes_snapshot(const struct sl_nodes *n);

/**
 * The dispatch view (backend-t.h) of the current picture and the config, for the workers:
 * nodes in config order (locator, up = state up, ok_seq, "a.b.c.d:port"); apps in config
 * order with, for every node where the app is present (up or not: workers skip nodes that
 * are down), its first IPv4 endpoint; the config's routes and dispatch.node_header;
 * generation = the snapshot's. Overwrites all of *out.
 */
void sl_nodes_view(const struct sl_nodes *n, const struct sl_config *cfg, struct sl_cluster *out);

/** The same from a snapshot (for tests). */
void sl_nodes_view_from(const struct sl_cluster_snap *s, const struct sl_config *cfg,
			struct sl_cluster *out);

/** Outcome of parsing one reply frame. */
enum sl_nodes_reply {
	SL_REPLY_VALUE = 0, /* value: parsed into the output */
	SL_REPLY_NOT_FOUND, /* error [[0x0A or 0xFF, 1], ...]: service not available */
	SL_REPLY_ERROR,	    /* any other error reply: err holds the text */
};

/**
 * Parse a resolve reply `[channel, 0, [[[host, port]...], version, graph]]` (or an error) from
 * the bytes received so far.
 * @return >= 0 an enum sl_nodes_reply (and *used the bytes of the frame); -EAGAIN when more
 *   bytes are needed; -EMSGSIZE when len exceeds SL_NODES_REPLY_MAX without a frame;
 *   -EBADMSG when malformed (err says why).
 */
int sl_nodes_parse_resolve(const void *buf, size_t len, struct sl_snap_app *out, char *err,
			   size_t errlen);

/** The same for an `info` reply `[channel, 0, [{...}]]`. */
int sl_nodes_parse_info(const void *buf, size_t len, struct sl_snap_info *out, char *err,
			size_t errlen);

#endif /* SL_NODES_H */
