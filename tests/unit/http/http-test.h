/*
 * Test driver for the HTTP/1.1 request parser: feeds a byte string in given pieces, checks
 * the invariants of every call (spans inside the input, all bytes taken on MORE, keep_from)
 * and records what came out, as fields and as one text digest for split-vs-whole checks.
 */
#ifndef SL_TEST_HTTP_H
#define SL_TEST_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http1.h"

#define T_MAX_HDRS 128
#define T_MAX_BODY 65536
#define T_DIGEST 65536

/* What one run produced (the last message's head and fields, every message's digest). */
struct run {
	int rc;		   /* the last result: an event or -EBADMSG */
	int status;	   /* p->status on error */
	const char *error; /* p->error on error */
	uint32_t err_pos;  /* stream position of the error */
	bool head;	   /* HEAD was returned */
	bool done;	   /* DONE was returned */
	uint32_t head_at;  /* stream position after the head */
	uint32_t done_at;  /* stream position after the message */
	size_t consumed;   /* input bytes taken, all messages */
	unsigned nmsg;	   /* messages completed */
	size_t base;	   /* input offset of the last message's position 0 */
	struct sl_http1_req req;
	struct sl_http1_resp resp;
	bool eof_done; /* response: sl_http1_resp_eof() ended the message */
	struct sl_http1_hdr hdrs[T_MAX_HDRS];
	uint16_t n_hdrs;
	uint8_t body[T_MAX_BODY];
	size_t body_len;
	char digest[T_DIGEST];
};

/* Response mode (test-http1-resp.c): t_resp set, the parser is a response parser for a
 * request of method t_method, reset with sl_http1_resp_reset(); at the end of the input
 * sl_http1_resp_eof() is called when t_eof is set. */
extern bool t_resp, t_eof;
extern enum sl_http1_method t_method;

/* Piece boundaries: feed [0, ends[0]), [ends[0], ends[1]) ... ; ends[n - 1] == len. With
 * `pipeline`, after DONE the parser is reset and the rest parsed as the next message. */
void run_ends(const uint8_t *msg, size_t len, const size_t *ends, size_t n,
	      const struct sl_http1_limits *lim, bool pipeline, struct run *r);
void run_whole(const uint8_t *msg, size_t len, const struct sl_http1_limits *lim, bool pipeline,
	       struct run *r);
void run_bytes(const uint8_t *msg, size_t len, const struct sl_http1_limits *lim, bool pipeline,
	       struct run *r);
void run_split(const uint8_t *msg, size_t len, size_t at, const struct sl_http1_limits *lim,
	       bool pipeline, struct run *r);

/* The text of a span of r's last message in `msg` (static buffer, one of 4 rotating). */
const char *span_text(const struct run *r, const uint8_t *msg, struct sl_http1_span s);

/* Parse msg whole, byte by byte and split at every byte: each must be rejected with
 * `status`, an error naming `rfc`, at the same position with the same message. */
void expect_reject(const char *msg, size_t len, int status, const char *rfc);
void expect_reject_lim(const char *msg, size_t len, const struct sl_http1_limits *lim, int status,
		       const char *rfc);
#define REJECT(m, status, rfc) expect_reject((m), sizeof(m) - 1, (status), (rfc))

/* Parse msg whole, byte by byte and split at every byte: each must complete the message
 * with the same digest; returns the whole run in *r. */
void expect_accept(const char *msg, size_t len, struct run *r);
void expect_accept_lim(const char *msg, size_t len, const struct sl_http1_limits *lim,
		       struct run *r);
#define ACCEPT(m, r) expect_accept((m), sizeof(m) - 1, (r))

/* Every proper prefix of msg (whole, then byte by byte) asks for more: no error, no DONE,
 * HEAD exactly from w->head_at on (w: the run of the whole message). */
void expect_prefixes_more(const char *name, const uint8_t *msg, size_t len, const struct run *w);

/* The text of field `i` of r's message `msg`: "name: value". */
const char *field_text(const struct run *r, const uint8_t *msg, unsigned i);

#endif
