/**
 * @file
 * The counting TCP environment of the libFuzzer targets over the TCP core (fuzz-be-reply.c,
 * fuzz-nfront.c): packet buffers, segments and connections from malloc, counted, so that a
 * run can check at the end that everything came back; a small connection table; segments
 * built from the remote side. Misuse aborts (fz_die).
 */
#ifndef SL_FUZZ_ENV_H
#define SL_FUZZ_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp.h"

#define FZ_TABLE 16
#define FZ_MAX_CONNS 16

struct fz_env;

/* What the stack transmits, as TCP bytes (header first), before the packet is freed. */
typedef void (*fz_xmit_fn)(struct fz_env *z, const struct sl_tcp_tuple *t, const uint8_t *tcp,
			   uint16_t len);

struct fz_env {
	struct sl_tcp_stack st;
	uint64_t now;
	long pkts, segs;
	struct sl_tcp_conn *table[FZ_TABLE];
	struct sl_tcp_conn *conns[FZ_MAX_CONNS];
	unsigned int n_conns;
	fz_xmit_fn xmit;
};

extern const struct sl_tcp_env_ops fz_ops;

void fz_die(const char *what) __attribute__((noreturn));

/* Initialise the stack with the parameters of the TCP unit tests (rcv_buf 262144...). */
void fz_init(struct fz_env *z, fz_xmit_fn xmit, uint64_t now);
struct sl_tcp_seg *fz_seg_alloc(struct fz_env *z, uint32_t room);
void fz_seg_free(struct fz_env *z, struct sl_tcp_seg *seg);
struct sl_tcp_conn *fz_lookup(struct fz_env *z, const struct sl_tcp_tuple *t);
/* A segment from the remote end of t (the stack's side of the tuple): its seq, ack and
 * window, options and payload. */
void fz_input(struct fz_env *z, const struct sl_tcp_tuple *t, uint8_t flags, uint32_t seq,
	      uint32_t ack, uint16_t wnd, const uint8_t *data, uint32_t len, const uint8_t *opts,
	      uint32_t optlen);
/* Release the connections left in the table and die when a buffer, packet or connection was
 * not given back. */
void fz_fini(struct fz_env *z);
/* 32-bit big-endian */
uint32_t fz_get32(const uint8_t *p);

#endif /* SL_FUZZ_ENV_H */
