/**
 * @file
 * Output chains for applications of sluice's TCP: bytes appended in order into buffers from
 * sl_tcp_seg_alloc(), ready for sl_tcp_send(). The first allocation failure sticks in `fail`
 * and makes every later append a no-op, so a sequence of appends is checked once.
 */
#ifndef SL_TCP_BUF_H
#define SL_TCP_BUF_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp.h"

#define SL_OBUF_ROOM 2048 /* what is asked of seg_alloc per buffer (it may give less) */

struct sl_obuf {
	struct sl_tcp_stack *st;
	struct sl_tcp_seg *head, *tail;
	uint32_t cap; /* room of tail */
	uint32_t len; /* bytes in the chain */
	bool fail;
};

static inline void
sl_ob_init(struct sl_obuf *ob, struct sl_tcp_stack *st)
{
	*ob = (struct sl_obuf){.st = st};
}

void sl_ob_put(struct sl_obuf *ob, const void *data, uint32_t n);

void sl_ob_str(struct sl_obuf *ob, const char *s);

void sl_ob_fmt(struct sl_obuf *ob, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Copy `len` bytes of a chain, from byte `off` on (the chain stays the caller's). */
void sl_ob_put_chain(struct sl_obuf *ob, const struct sl_tcp_seg *chain, uint32_t off,
		     uint32_t len);

/** Append a chain (ownership passes; no copy). */
void sl_ob_link(struct sl_obuf *ob, struct sl_tcp_seg *chain);

/** Free what was built. */
void sl_ob_free(struct sl_obuf *ob);

/** Take the chain out (the buffer is empty after). */
static inline struct sl_tcp_seg *
sl_ob_take(struct sl_obuf *ob)
{
	struct sl_tcp_seg *h = ob->head;

	ob->head = ob->tail = NULL;
	ob->len = ob->cap = 0;
	return h;
}

/**
 * Give TCP what it takes now of a chain waiting to be sent: all of it when it fits (or the
 * send queue is empty), else the whole buffers that fit the space left. What is not taken
 * stays in *head (the tail is unchanged).
 * @return 0 when all was taken; -ENOBUFS when some waits (`writable` follows); another
 *   error of sl_tcp_send() (nothing taken).
 */
int sl_tcp_send_some(struct sl_tcp_conn *c, struct sl_tcp_seg **head, uint32_t *len,
		     uint64_t now_us);

#endif /* SL_TCP_BUF_H */
