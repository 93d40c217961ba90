/**
 * @file
 * The test applications of sluiced's config over TCP: echo (RFC 862), discard (RFC 863) and
 * chargen (RFC 864). Their app pointer is the struct sl_tcp_stack; they keep their per
 * connection state in the user pointer: echo the chain sl_tcp_send() refused, chargen the
 * number of the next line.
 */
#include "tcp-priv.h"

#define CHARGEN_LINE 72		 /* characters of a line, before CR LF */
#define CHARGEN_RING 95		 /* the printable ASCII characters, ' ' to '~' */
#define CHARGEN_LINES_PER_SEG 20 /* lines in one buffer */
#define CHARGEN_LINE_BYTES (CHARGEN_LINE + 2)

static uint32_t
chain_len(const struct sl_tcp_seg *s)
{
	uint32_t n = 0;

	for (; s != NULL; s = s->next)
		n += s->len;
	return n;
}

static int
accept_any(void *app, struct sl_tcp_conn *c)
{
	(void)app;
	sl_tcp_set_user(c, NULL);
	return 0;
}

static void
close_on_peer_closed(void *app, struct sl_tcp_conn *c)
{
	sl_tcp_close(c, sl_tcp_stack_now(app));
}

/* ---- echo, RFC 862: "any data received is sent back" ---- */

/*
 * Send the pending chain of <c> back, the very buffers received (no copy). Its bytes are
 * consumed (re-opening the receive window) only once sl_tcp_send() took them, so a slow
 * reader throttles its own sender. @return 0 when nothing is pending any more, -ENOBUFS
 * when it still is (`writable` follows).
 */
static int
echo_flush(struct sl_tcp_stack *st, struct sl_tcp_conn *c)
{
	struct sl_tcp_seg *pend = sl_tcp_user(c);
	uint64_t now = sl_tcp_stack_now(st);
	uint32_t len;
	int r;

	if (pend == NULL)
		return 0;
	len = chain_len(pend);
	r = sl_tcp_send(c, pend, now);
	if (r == -ENOBUFS)
		return r;
	if (r != 0)
		sl_tcp_seg_free_chain(st, pend);
	sl_tcp_set_user(c, NULL);
	sl_tcp_consumed(c, len, now);
	return 0;
}

static void
echo_data(void *app, struct sl_tcp_conn *c, struct sl_tcp_seg *chain, uint32_t len)
{
	struct sl_tcp_seg *pend = sl_tcp_user(c);

	(void)len;
	if (pend != NULL) {
		while (pend->next != NULL)
			pend = pend->next;
		pend->next = chain;
	} else {
		sl_tcp_set_user(c, chain);
	}
	echo_flush(app, c);
}

static void
echo_writable(void *app, struct sl_tcp_conn *c)
{
	/* the peer's FIN came while data was pending: close once it is out */
	if (echo_flush(app, c) == 0 && sl_tcp_state(c) == SL_TCP_CLOSE_WAIT)
		sl_tcp_close(c, sl_tcp_stack_now(app));
}

static void
echo_peer_closed(void *app, struct sl_tcp_conn *c)
{
	if (echo_flush(app, c) == 0)
		sl_tcp_close(c, sl_tcp_stack_now(app));
}

static void
echo_gone(void *app, struct sl_tcp_conn *c)
{
	sl_tcp_seg_free_chain(app, sl_tcp_user(c));
	sl_tcp_set_user(c, NULL);
}

static void
echo_error(void *app, struct sl_tcp_conn *c, int err)
{
	(void)err;
	echo_gone(app, c);
}

const struct sl_tcp_app_ops sl_tcp_echo_ops = {
	.accepted = accept_any,
	.data = echo_data,
	.writable = echo_writable,
	.peer_closed = echo_peer_closed,
	.reset = echo_gone,
	.error = echo_error,
};

/* ---- discard, RFC 863: "any data received is thrown away" ---- */

static void
discard_data(void *app, struct sl_tcp_conn *c, struct sl_tcp_seg *chain, uint32_t len)
{
	struct sl_tcp_stack *st = app;

	sl_tcp_seg_free_chain(st, chain);
	sl_tcp_consumed(c, len, sl_tcp_stack_now(st));
}

const struct sl_tcp_app_ops sl_tcp_discard_ops = {
	.accepted = accept_any,
	.data = discard_data,
	.peer_closed = close_on_peer_closed,
};

/* ---- chargen, RFC 864: lines of 72 characters, line N starting at character N mod 95 ---- */

/* Write line <n> (RFC 864 "Data Syntax": characters (0+N mod 95) through (71+N mod 95),
 * then carriage return and line feed) at <p>. */
static void
chargen_line(uint8_t *p, unsigned int n)
{
	unsigned int i, k = n % CHARGEN_RING;

	for (i = 0; i < CHARGEN_LINE; i++) {
		p[i] = (uint8_t)(' ' + k);
		if (++k == CHARGEN_RING)
			k = 0;
	}
	p[CHARGEN_LINE] = '\r';
	p[CHARGEN_LINE + 1] = '\n';
}

/* Queue whole lines until sl_tcp_send() refuses (then `writable` follows). */
static void
chargen_fill(struct sl_tcp_stack *st, struct sl_tcp_conn *c)
{
	unsigned int line = (unsigned int)(uintptr_t)sl_tcp_user(c);
	uint64_t now = sl_tcp_stack_now(st);

	for (;;) {
		struct sl_tcp_seg *s =
			sl_tcp_seg_alloc(st, CHARGEN_LINES_PER_SEG * CHARGEN_LINE_BYTES);
		unsigned int i, n;

		if (s == NULL)
			break;
		n = s->len / CHARGEN_LINE_BYTES;
		if (n > CHARGEN_LINES_PER_SEG)
			n = CHARGEN_LINES_PER_SEG;
		for (i = 0; i < n; i++)
			chargen_line(s->data + i * CHARGEN_LINE_BYTES, line + i);
		s->len = n * CHARGEN_LINE_BYTES;
		if (n == 0 || sl_tcp_send(c, s, now) != 0) {
			sl_tcp_seg_free_chain(st, s);
			break;
		}
		line = (line + n) % CHARGEN_RING;
	}
	/* the line number itself is the user pointer: no memory per connection */
	sl_tcp_set_user(c, (void *)(uintptr_t)line); /* NOLINT(performance-no-int-to-ptr) */
}

static int
chargen_accepted(void *app, struct sl_tcp_conn *c)
{
	sl_tcp_set_user(c, NULL);
	chargen_fill(app, c);
	return 0;
}

static void
chargen_writable(void *app, struct sl_tcp_conn *c)
{
	chargen_fill(app, c);
}

const struct sl_tcp_app_ops sl_tcp_chargen_ops = {
	.accepted = chargen_accepted,
	.data = discard_data,
	.writable = chargen_writable,
	.peer_closed = close_on_peer_closed,
};
