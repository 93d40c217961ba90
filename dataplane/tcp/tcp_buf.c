/**
 * @file
 * Output chains (tcp-buf.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tcp-buf.h"

void
sl_ob_put(struct sl_obuf *ob, const void *data, uint32_t n)
{
	const uint8_t *s = data;

	while (n > 0 && !ob->fail) {
		uint32_t k;

		if (ob->tail == NULL || ob->tail->len == ob->cap) {
			struct sl_tcp_seg *seg = sl_tcp_seg_alloc(ob->st, SL_OBUF_ROOM);

			if (seg == NULL) {
				ob->fail = true;
				return;
			}
			ob->cap = seg->len;
			seg->len = 0;
			seg->next = NULL;
			if (ob->tail != NULL)
				ob->tail->next = seg;
			else
				ob->head = seg;
			ob->tail = seg;
		}
		k = ob->cap - ob->tail->len;
		if (k > n)
			k = n;
		memcpy(ob->tail->data + ob->tail->len, s, k);
		ob->tail->len += k;
		ob->len += k;
		s += k;
		n -= k;
	}
}

void
sl_ob_str(struct sl_obuf *ob, const char *s)
{
	sl_ob_put(ob, s, (uint32_t)strlen(s));
}

void
sl_ob_fmt(struct sl_obuf *ob, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		sl_ob_put(ob, buf, (uint32_t)n < sizeof(buf) ? (uint32_t)n : sizeof(buf) - 1);
}

void
sl_ob_put_chain(struct sl_obuf *ob, const struct sl_tcp_seg *s, uint32_t off, uint32_t len)
{
	for (; s != NULL && len > 0; s = s->next) {
		uint32_t k;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		k = s->len - off < len ? s->len - off : len;
		sl_ob_put(ob, s->data + off, k);
		off = 0;
		len -= k;
	}
}

void
sl_ob_link(struct sl_obuf *ob, struct sl_tcp_seg *chain)
{
	if (chain == NULL)
		return;
	if (ob->fail) {
		sl_tcp_seg_free_chain(ob->st, chain);
		return;
	}
	if (ob->tail != NULL)
		ob->tail->next = chain;
	else
		ob->head = chain;
	for (;;) {
		ob->len += chain->len;
		if (chain->next == NULL)
			break;
		chain = chain->next;
	}
	ob->tail = chain;
	ob->cap = chain->len; /* full: the next append takes a new buffer */
}

void
sl_ob_free(struct sl_obuf *ob)
{
	if (ob->head != NULL)
		sl_tcp_seg_free_chain(ob->st, ob->head);
	ob->head = ob->tail = NULL;
	ob->len = 0;
}

int
sl_tcp_send_some(struct sl_tcp_conn *c, struct sl_tcp_seg **head, uint32_t *len, uint64_t now_us)
{
	struct sl_tcp_seg *s = *head, *last = NULL;
	uint32_t space, take = 0;
	int r;

	if (s == NULL)
		return 0;
	r = sl_tcp_send(c, s, now_us); /* whole: it fits, or the queue is empty */
	if (r == 0) {
		*head = NULL;
		*len = 0;
	}
	if (r != -ENOBUFS)
		return r;
	/* refused (writable will follow): the buffers that fit go now, not after a drain */
	space = sl_tcp_send_space(c);
	while (s != NULL && take + s->len <= space) {
		take += s->len;
		last = s;
		s = s->next;
	}
	if (last == NULL)
		return -ENOBUFS;
	last->next = NULL;
	r = sl_tcp_send(c, *head, now_us);
	if (r != 0) {
		last->next = s;
		return r;
	}
	*head = s;
	*len -= take;
	return -ENOBUFS;
}
