/**
 * @file
 * The environment of the TCP unit tests: env ops over malloc'd buffers that count what is
 * outstanding (every test ends with t_fini() asserting nothing leaked), a tiny connection
 * table, transmitted segments captured and parsed by code written apart from the code under
 * test, a segment builder with a reference checksum, a recording application, and a runner
 * for segment vectors.
 */
#ifndef SL_TCP_TEST_H
#define SL_TCP_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <errno.h>

#include "sl_util.h"
#include "tcp.h"

#define T_IP4(a, b, c, d)                                                                          \
	((struct sl_ip4){(uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |          \
			 (uint32_t)(d)})
#define T_SRV_PORT 7
#define T_CLI_PORT 40000
#define T_TABLE_MAX 64
#define T_RX_MAX (1u << 16)

/* TCP flags, written again here (the tests do not use tcp-priv.h for expectations). */
#define TF_FIN 0x01
#define TF_SYN 0x02
#define TF_RST 0x04
#define TF_PSH 0x08
#define TF_ACK 0x10

/* A transmitted segment as the test sees it. */
struct t_cap {
	struct t_cap *next;
	struct sl_tcp_tuple t;
	uint16_t len;
	uint8_t bytes[];
};

/* A parsed transmitted segment. */
struct t_out {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	int mss; /* -1: no option */
	int ws;	 /* -1: no option */
	bool sack_ok;
	bool ts;
	uint32_t tsval, tsecr;
	unsigned int n_sack;
	uint32_t sack_l[4], sack_r[4]; /* absolute */
	const uint8_t *opts;	       /* the option bytes, for exact comparisons */
	unsigned int optlen;
	unsigned int hlen;
	uint32_t len;
	const uint8_t *payload;
	bool csum_ok;
};

struct tenv;

/* The recording application of the tests. */
struct tapp {
	unsigned int accepted, data_calls, writable, peer_closed, reset, error, connected;
	uint32_t send_on_connected; /* `connected` sends this many bytes ('c') when nonzero */
	int last_err;
	struct sl_tcp_conn *conn; /* the last connection accepted */
	int refuse;		  /* `accepted` returns this when nonzero */
	bool hold;		  /* keep received chains (else free and consume them) */
	bool close_on_peer_closed;
	struct sl_tcp_seg *held, *held_tail;
	uint32_t held_bytes;
	struct sl_tcp_seg *last_chain; /* what the last `data` got (valid while held) */
	uint8_t rx[T_RX_MAX];	       /* received bytes, up to T_RX_MAX */
	uint32_t rx_len;
};

struct tenv {
	struct sl_tcp_stack st;
	struct tapp app;
	uint64_t now;
	long pkts_live, segs_live, conns_live;
	unsigned long pkts_total;
	int fail_pkt_alloc, fail_conn_alloc, fail_insert;
	/* conn_lookup finds nothing and conn_insert says -EEXIST for a tuple it holds (the
	 * environment without a lookup op); otherwise a duplicate insert fails the test */
	bool no_lookup;
	struct sl_tcp_conn *table[T_TABLE_MAX];
	struct t_cap *cap_head, *cap_tail;
	unsigned int n_cap;
	/* the connection the vectors drive */
	struct sl_tcp_tuple t; /* from the stack's side */
	uint32_t cli_isn, srv_iss;
	bool iss_known; /* srv_iss was learnt from a SYN-ACK */
};

extern const struct sl_tcp_env_ops t_env_ops;
extern const struct sl_tcp_app_ops t_app_ops;

/* Active open of <t> with t_app_ops, the user pointer <e>; @return sl_tcp_connect()'s. */
int t_connect(struct tenv *e, const struct sl_tcp_tuple *t, struct sl_tcp_conn **out);

/* Parameters the tests start from: defaults with small timers made explicit. */
struct sl_tcp_params t_params(void);
/* Initialise <e> with <p> (NULL: t_params()) and listen on 10.0.0.1:7 with t_app_ops. */
void t_init(struct tenv *e, const struct sl_tcp_params *p);
/* Allocate a fresh tenv on the heap (stacks are large) and t_init() it. */
struct tenv *t_new(const struct sl_tcp_params *p);
/* Free what the test app holds, release the connections left in the table, assert that no
 * buffer, segment or connection is outstanding and that conns[] is zero; free <e>. */
void t_fini(struct tenv *e);

/* Reference Internet checksum of a segment from <src> to <dst> (plain byte loop). */
uint16_t ref_tcp_csum(struct sl_ip4 src, struct sl_ip4 dst, const uint8_t *seg, size_t len);

/* A segment from the client to the stack. */
struct t_seg_spec {
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t wnd;
	const uint8_t *opts;
	unsigned int optlen; /* multiple of 4 */
	const uint8_t *payload;
	uint32_t len;
	bool bad_csum;
};
/* Build <s> as bytes in an env segment (seg->data at the TCP header). */
struct sl_tcp_seg *t_build(struct tenv *e, const struct sl_tcp_tuple *t,
			   const struct t_seg_spec *s);
/* Build and feed <s> to the stack, with the connection the table holds for <t>. */
void t_inject_t(struct tenv *e, const struct sl_tcp_tuple *t, const struct t_seg_spec *s);
void t_inject(struct tenv *e, const struct t_seg_spec *s);
/* Feed raw TCP bytes (checksum as given) for e->t. */
void t_inject_raw(struct tenv *e, const uint8_t *bytes, uint32_t len, unsigned int flags);

/* The table's connection for <t>, or NULL. */
struct sl_tcp_conn *t_lookup(struct tenv *e, const struct sl_tcp_tuple *t);
/* State of e->t's connection, or -1 when it is not in the table. */
int t_state(struct tenv *e);

/* Pop the oldest captured segment; false when none. The t_cap is freed by t_out_free(). */
struct t_cap *t_pop(struct tenv *e);
bool t_parse(const struct t_cap *cap, struct t_out *o);
/* Pop and parse, asserting one is there; the bytes stay valid until the next t_pop_out(). */
struct t_out t_pop_out(struct tenv *e);
void t_drain(struct tenv *e);

/* Advance time by <us> in steps of at most <step_us>, running timers. */
void t_advance(struct tenv *e, uint64_t us);

/* Handshake of e->t with client ISN <isn>, <opts> on the SYN; returns the connection. */
struct sl_tcp_conn *t_handshake(struct tenv *e, uint32_t isn, const uint8_t *opts,
				unsigned int optlen);

/* Options helpers. */
extern const uint8_t t_opts_mss1460_ws7[8];
extern const uint8_t t_opts_mss1460[4];
/* MSS 1460, SACK-permitted, timestamps (TSval 1000, TSecr 0), NOP, WS 7: as Linux sends */
extern const uint8_t t_opts_linux[20];
/* MSS 1460, NOP NOP SACK-permitted, NOP WS 7 */
extern const uint8_t t_opts_sack[12];
/* Write NOP NOP TS(<val>, <ecr>) at <o>: 12 bytes. */
void t_opt_ts(uint8_t *o, uint32_t val, uint32_t ecr);
/* Write NOP NOP SACK with <n> blocks (absolute edges) at <o>. @return its length (4 + 8n). */
unsigned int t_opt_sack(uint8_t *o, unsigned int n, const uint32_t *l, const uint32_t *r);

/* A counter by name. */
uint64_t t_stat(const struct tenv *e, const char *name);

/* A segment from the client of e->t: seq relative to its ISN, ack to our ISS. */
void t_client(struct tenv *e, uint8_t flags, uint32_t seq_rel, uint32_t ack_rel, uint32_t len,
	      uint16_t wnd, const uint8_t *opts, unsigned int optlen);
/* <len> bytes from the application on e->t's connection: byte i of the stream is
 * t_stream_byte(i) when <stream> counts the bytes sent so far (NULL: 'a'). */
void t_app_send(struct tenv *e, uint32_t len, uint32_t *stream);
uint8_t t_stream_byte(uint32_t i);
/* Pop one transmitted segment and check its flags, seq (relative to our ISS) and length. */
struct t_out t_expect(struct tenv *e, uint8_t flags, uint32_t seq_rel, uint32_t len);

/* ---- segment vectors ---- */

enum t_op {
	T_IN = 0,   /* inject `in` */
	T_CLOSE,    /* sl_tcp_close() on the app's connection */
	T_SHUTDOWN, /* sl_tcp_shutdown() */
	T_ABORT,    /* sl_tcp_abort() */
	T_SEND,	    /* sl_tcp_send() of `arg` bytes (0x61 'a' ...) */
	T_CONSUME,  /* sl_tcp_consumed(arg) */
	T_ADVANCE,  /* advance time by `arg` us */
};

#define T_ANY (-100000) /* a window or seq we do not check */
#define T_WND_ZERO (-1) /* outputs: window must be 0 (0 itself means "not checked") */
#define T_GONE (-1)	/* the connection left the table */
#define T_SKIP (-2)	/* do not check the state */

/* A segment of a vector. Inputs: seq relative to the client ISN, ack relative to our ISS.
 * Outputs: seq relative to our ISS, ack relative to the client ISN; `abs` takes both as
 * they are. */
struct t_vseg {
	uint8_t flags;
	int64_t seq, ack;
	int32_t wnd; /* outputs: 0 or T_ANY not checked; inputs: 0 means 65535 unless zero_wnd */
	uint32_t len;
	bool abs;
	bool zero_wnd;
	int mss, ws;	     /* outputs: 0 not checked, -1 absent, else the value */
	const uint8_t *opts; /* inputs: options (a SYN without them gets MSS 1460, WS 7) */
	unsigned int optlen;
};

struct t_step {
	const char *desc;
	enum t_op op;
	struct t_vseg in;
	uint64_t arg;
	int state; /* enum sl_tcp_state, T_GONE or T_SKIP */
	unsigned int n_out;
	struct t_vseg out[3];
};

/* Run <n> steps against e->t, asserting state and output after each. */
void t_run(struct tenv *e, const struct t_step *steps, size_t n);

#endif /* SL_TCP_TEST_H */
