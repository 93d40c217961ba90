/**
 * @file
 * The Cocaine nodes of the backend tests, over the TCP stack of the TCP unit tests
 * (tcp-test.h): give sl_be_create() tn_env_ops with a struct tnodes as env, and its `connect`
 * opens real connections on that stack. The test plays the nodes: it answers the SYNs
 * (peer_accept), reads what sluice sends (collect: each peer's rx, acknowledged unless
 * noack), and injects reply bytes cut as it likes (peer_send_mss). Segments for connections
 * the nodes do not know go to other_seg when set (a test that also plays a client), and
 * other_ack lets that side acknowledge inside the same loop.
 *
 * struct bb and the bb_* writers build the bytes a test expects or sends, by hand.
 */
#ifndef SL_TEST_BE_NODES_H
#define SL_TEST_BE_NODES_H

#include <stdbool.h>
#include <stdint.h>

#include "be.h"
#include "tcp-test.h"

#define TN_MAX_PEERS 8
#define TN_PEER_RX (1u << 19)

/* A node's side of one connection that sluice opened. */
struct peer {
	bool used;
	struct sl_tcp_tuple t; /* from the stack's side */
	uint32_t iss;	       /* the stack's */
	uint32_t isn;	       /* ours */
	bool syn, established, fin, rst;
	bool noack; /* do not acknowledge what sluice sends */
	bool fin_acked;
	uint32_t tx;	 /* bytes we sent */
	uint32_t rx_len; /* bytes of sluice's stream received in order */
	uint32_t acked;	 /* of those, acknowledged */
	uint8_t rx[TN_PEER_RX];
};

struct tnodes {
	struct tenv *e;
	struct peer peers[TN_MAX_PEERS];
	uint16_t next_lport; /* local port of the next connection sluice opens */
	unsigned int connects;
	/* a segment for a connection that is not a node's: true when taken */
	bool (*other_seg)(void *ctx, const struct t_cap *c, const struct t_out *o);
	/* acknowledge what other_seg took: true when it sent something */
	bool (*other_ack)(void *ctx);
	void *other_ctx;
};

extern const struct sl_be_env_ops tn_env_ops;

struct peer *peer_of(struct tnodes *n, const struct sl_tcp_tuple *t);
/* A segment from the node: seq and ack from what it sent and received. */
void peer_seg(struct tnodes *n, struct peer *p, uint8_t flags, const uint8_t *data, uint32_t len);
/* Read what sluice sent; the nodes acknowledge new bytes unless told not to. */
void collect(struct tnodes *n);
/* Answer (or refuse) the SYN of a connection sluice opens. */
void peer_accept(struct tnodes *n, struct peer *p);
void peer_refuse(struct tnodes *n, struct peer *p);
/* The node sends bytes in segments of at most `mss` bytes (peer_send: 1400). */
void peer_send_mss(struct tnodes *n, struct peer *p, const void *data, uint32_t len, uint32_t mss);
void peer_send(struct tnodes *n, struct peer *p, const void *data, uint32_t len);
void peer_rst(struct tnodes *n, struct peer *p);
void peer_fin(struct tnodes *n, struct peer *p);
/* The connection opened last. */
struct peer *peer_last(struct tnodes *n);

/* ---- bytes written by hand ---- */

struct bb {
	uint8_t p[1 << 19];
	uint32_t n;
};

/* Payload encodings a node may use. */
enum enc { E_FIXRAW, E_RAW16, E_RAW32, E_STR8, E_BIN8, E_BIN16, E_BIN32, E_NENC };

void bb_put(struct bb *w, const void *d, uint32_t n);
void bb_u8(struct bb *w, uint8_t v);
/* v big-endian in `bytes` bytes */
void bb_be(struct bb *w, uint64_t v, unsigned int bytes);
void bb_raw(struct bb *w, enum enc e, const void *d, uint32_t n);
/* fixraw or raw16 */
void bb_str(struct bb *w, const char *s);
/* `[ch, 0, [payload]` + hdrs (raw bytes of the 4th element, NULL: a 3-element frame) */
void bb_write(struct bb *w, uint8_t ch, enum enc e, const void *d, uint32_t n, const void *hdrs,
	      uint32_t hlen);
void bb_close(struct bb *w, uint8_t ch, const void *hdrs, uint32_t hlen);
/* error [[cat, code], msg], 3 elements */
void bb_error(struct bb *w, uint8_t ch, uint16_t cat, uint8_t code, const char *msg);
/* The node received exactly w's bytes. */
void assert_rx(const struct peer *p, const struct bb *w);

#endif /* SL_TEST_BE_NODES_H */
