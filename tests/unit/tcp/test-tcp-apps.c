/**
 * @file
 * The test applications: echo (RFC 862), discard (RFC 863), chargen (RFC 864).
 */
#include <criterion/criterion.h>

#include "tcp-test.h"

static struct tenv *
app_env(const struct sl_tcp_params *p, const struct sl_tcp_app_ops *ops)
{
	struct tenv *e = t_new(p);

	e->st.listeners[0].ops = ops;
	e->st.listeners[0].app = &e->st;
	return e;
}

static void
client_seg(struct tenv *e, uint8_t flags, uint32_t seq_rel, uint32_t ack_rel, uint16_t wnd,
	   const uint8_t *payload, uint32_t len)
{
	struct t_seg_spec s = {.flags = flags,
			       .seq = e->cli_isn + seq_rel,
			       .ack = e->srv_iss + ack_rel,
			       .wnd = wnd,
			       .payload = payload,
			       .len = len};

	t_inject(e, &s);
}

/* Collect the payload of every segment sent into <buf> at its relative sequence; return
 * the highest relative sequence seen (data and FIN) and whether a FIN came. */
static uint32_t
collect(struct tenv *e, uint8_t *buf, uint32_t size, bool *fin)
{
	uint32_t top = 0;

	while (e->n_cap != 0) {
		struct t_out o = t_pop_out(e);
		uint32_t rel = o.seq - e->srv_iss - 1;

		cr_assert_leq(rel + o.len, size);
		memcpy(buf + rel, o.payload, o.len);
		if (rel + o.len > top)
			top = rel + o.len;
		if (o.flags & TF_FIN)
			*fin = true;
	}
	return top;
}

Test(tcp_apps, echo_zero_copy)
{
	struct tenv *e = app_env(NULL, &sl_tcp_echo_ops);
	static const uint8_t hello[] = "hello, echo";
	struct sl_tcp_conn *c;
	struct t_out o;

	c = t_handshake(e, 77, t_opts_mss1460_ws7, 8);
	client_seg(e, TF_ACK | TF_PSH, 1, 1, 65535, hello, sizeof(hello));
	o = t_pop_out(e);
	cr_assert_eq(o.len, sizeof(hello));
	cr_assert_eq(memcmp(o.payload, hello, sizeof(hello)), 0);
	cr_assert_eq(o.ack, e->cli_isn + 1 + sizeof(hello), "the reply carries the ACK");
	cr_assert_eq(e->n_cap, 0);
	cr_assert_eq(e->segs_live, 1, "the received buffer is the send queue until ACKed");
	cr_assert_eq(c->rcv_held, 0, "consumed once sl_tcp_send took it");
	client_seg(e, TF_ACK, 1 + sizeof(hello), 1 + sizeof(hello), 65535, NULL, 0);
	cr_assert_eq(e->segs_live, 0);
	/* FIN: echo closes */
	client_seg(e, TF_ACK | TF_FIN, 1 + sizeof(hello), 1 + sizeof(hello), 65535, NULL, 0);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_ACK | TF_FIN, "our FIN carries the ACK of theirs");
	cr_assert_eq(t_state(e), SL_TCP_LAST_ACK);
	client_seg(e, TF_ACK, 2 + sizeof(hello), 2 + sizeof(hello), 65535, NULL, 0);
	cr_assert_eq(t_state(e), T_GONE);
	t_fini(e);
}

static void
echo_backpressure(bool fin_while_pending)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	static uint8_t data[4500], back[4500];
	struct sl_tcp_conn *c;
	bool fin = false;
	uint32_t i, top;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 1);
	p.snd_buf = 3000;
	e = app_env(&p, &sl_tcp_echo_ops);
	c = t_handshake(e, 77, t_opts_mss1460_ws7, 8);
	/* the client's window is closed: echo's replies wait in its send queue */
	client_seg(e, TF_ACK, 1, 1, 0, data, 2000);
	cr_assert_eq(c->sndq_len, 2000);
	client_seg(e, TF_ACK, 2001, 1, 0, data + 2000, 2000);
	cr_assert_not_null(sl_tcp_user(c), "refused: pending on the connection");
	cr_assert_eq(c->rcv_held, 2000, "not consumed while pending");
	client_seg(e, TF_ACK, 4001, 1, 0, data + 4000, 500);
	cr_assert_eq(c->rcv_held, 2500);
	if (fin_while_pending)
		client_seg(e, TF_ACK | TF_FIN, 4501, 1, 0, NULL, 0);
	t_drain(e); /* ACKs so far */
	/* the window opens: the first 2000 go */
	client_seg(e, TF_ACK, fin_while_pending ? 4502 : 4501, 1, 65535, NULL, 0);
	top = collect(e, back, sizeof(back), &fin);
	cr_assert_eq(top, 2000);
	cr_assert_eq(fin, false);
	/* acknowledged: the queue is empty, writable, the pending 2500 go */
	client_seg(e, TF_ACK, fin_while_pending ? 4502 : 4501, 2001, 65535, NULL, 0);
	top = collect(e, back, sizeof(back), &fin);
	cr_assert_eq(top, 4500);
	cr_assert_eq(memcmp(back, data, 4500), 0, "echoed in order, unchanged");
	cr_assert_null(sl_tcp_user(c));
	cr_assert_eq(c->rcv_held, 0);
	if (fin_while_pending) {
		cr_assert(fin, "FIN after the pending data");
		cr_assert_eq(t_state(e), SL_TCP_LAST_ACK);
		client_seg(e, TF_ACK, 4502, 4502, 65535, NULL, 0);
		cr_assert_eq(t_state(e), T_GONE);
	} else {
		cr_assert_not(fin);
		client_seg(e, TF_ACK, 4501, 4501, 65535, NULL, 0);
		cr_assert_eq(e->segs_live, 0);
	}
	t_fini(e);
}

Test(tcp_apps, echo_pending_on_enobufs)
{
	echo_backpressure(false);
}

Test(tcp_apps, echo_fin_while_pending)
{
	echo_backpressure(true);
}

Test(tcp_apps, echo_reset_frees_pending)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct sl_tcp_conn *c;

	p.snd_buf = 1000;
	e = app_env(&p, &sl_tcp_echo_ops);
	c = t_handshake(e, 77, t_opts_mss1460_ws7, 8);
	client_seg(e, TF_ACK, 1, 1, 0, NULL, 1000);
	client_seg(e, TF_ACK, 1001, 1, 0, NULL, 1000);
	cr_assert_not_null(sl_tcp_user(c));
	client_seg(e, TF_RST, 2001, 0, 0, NULL, 0);
	cr_assert_eq(t_state(e), T_GONE);
	t_drain(e);
	t_fini(e); /* asserts the pending chain was freed */
}

Test(tcp_apps, discard)
{
	struct tenv *e = app_env(NULL, &sl_tcp_discard_ops);
	struct sl_tcp_conn *c;
	struct t_out o;

	c = t_handshake(e, 77, t_opts_mss1460_ws7, 8);
	client_seg(e, TF_ACK, 1, 1, 65535, NULL, 1460);
	client_seg(e, TF_ACK, 1461, 1, 65535, NULL, 1460);
	cr_assert_eq(e->segs_live, 0, "freed at once");
	cr_assert_eq(c->rcv_held, 0, "and consumed");
	/* the first segment's consumption opened the window beyond the SYN-ACK's 65535: a
	 * window update; the second is one full-sized segment since: delayed ACK */
	o = t_pop_out(e);
	cr_assert_eq(o.ack, e->cli_isn + 1461);
	cr_assert_eq(e->n_cap, 0);
	t_advance(e, 40000);
	o = t_pop_out(e);
	cr_assert_eq(o.len, 0, "nothing sent back");
	cr_assert_eq(o.ack, e->cli_isn + 2921);
	cr_assert_eq(o.wnd, 2048, "the window stays open");
	cr_assert_eq(e->n_cap, 0);
	client_seg(e, TF_ACK | TF_FIN, 2921, 1, 65535, NULL, 0);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_ACK | TF_FIN);
	cr_assert_eq(t_state(e), SL_TCP_LAST_ACK);
	client_seg(e, TF_ACK, 2922, 2, 65535, NULL, 0);
	cr_assert_eq(t_state(e), T_GONE);
	t_fini(e);
}

/* RFC 864: line N holds characters (N mod 95) to (N + 71 mod 95) of ' '..'~', then CR LF. */
static void
check_chargen(const uint8_t *b, uint32_t len)
{
	uint32_t n, k;

	cr_assert_eq(len % 74, 0);
	for (n = 0; n < len / 74; n++) {
		const uint8_t *l = b + n * 74;

		for (k = 0; k < 72; k++)
			cr_assert_eq(l[k], 0x20 + (n + k) % 95, "line %u char %u", n, k);
		cr_assert_eq(l[72], '\r');
		cr_assert_eq(l[73], '\n');
	}
}

Test(tcp_apps, chargen)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	static uint8_t b[200000];
	struct sl_tcp_conn *c;
	bool fin = false;
	uint32_t top = 0, acked;

	p.snd_buf = 7400;
	e = app_env(&p, &sl_tcp_chargen_ops);
	c = t_handshake(e, 77, t_opts_mss1460_ws7, 8);
	/* filled at once: 5 buffers of 20 lines, the 6th refused */
	cr_assert_eq(c->sndq_len, 7400);
	top = collect(e, b, sizeof(b), &fin);
	cr_assert_eq(top, 7400);
	cr_assert_eq(memcmp(b, " !\"#$%&'()*+,-./0123456789", 26), 0);
	cr_assert_eq(memcmp(b + 74, "!\"#$%&'()*", 10), 0);
	/* each ACK of everything: writable, refilled; 95 lines and more wrap the ring */
	while (top < 150 * 74) {
		acked = top;
		client_seg(e, TF_ACK, 1, acked + 1, 65535, NULL, 0);
		top = collect(e, b, sizeof(b), &fin);
		cr_assert_gt(top, acked, "refilled after writable");
	}
	check_chargen(b, top);
	cr_assert_eq(memcmp(b + 95 * 74, " !\"#", 4), 0, "line 95 is line 0 again");
	/* what the client sends is discarded */
	client_seg(e, TF_ACK, 1, top + 1, 65535, NULL, 100);
	cr_assert_eq(e->segs_live, (long)(c->sndq_len / 1480), "the client's bytes freed");
	/* FIN: close; our FIN after what is queued */
	client_seg(e, TF_ACK | TF_FIN, 101, top + 1, 65535, NULL, 0);
	top = collect(e, b, sizeof(b), &fin);
	cr_assert(fin);
	check_chargen(b, top);
	cr_assert_eq(t_state(e), SL_TCP_LAST_ACK);
	client_seg(e, TF_ACK, 102, top + 2, 65535, NULL, 0);
	cr_assert_eq(t_state(e), T_GONE);
	t_fini(e);
}
