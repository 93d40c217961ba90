/**
 * @file
 * Backlog, checksums (verification and generation, offloads), malformed headers and
 * options, zero-copy delivery, segmentation of the send queue, the application calls and
 * their errors, parameters, listeners, counters, release at shutdown, and callbacks that
 * close or abort from inside.
 */
#include <criterion/criterion.h>

#include "tcp-buf.h"
#include "tcp-test.h"

static void
client_seg(struct tenv *e, uint8_t flags, uint32_t seq_rel, uint32_t ack_rel, uint32_t len)
{
	struct t_seg_spec s = {.flags = flags,
			       .seq = e->cli_isn + seq_rel,
			       .ack = e->srv_iss + ack_rel,
			       .wnd = 65535,
			       .len = len};

	t_inject(e, &s);
}

static struct sl_tcp_seg *
mkseg(struct tenv *e, uint32_t len, uint8_t fill)
{
	struct sl_tcp_seg *s = sl_tcp_seg_alloc(&e->st, len);

	memset(s->data, fill, len);
	s->len = len;
	return s;
}

Test(tcp_misc, backlog_limit)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct sl_tcp_tuple t;
	struct t_seg_spec syn = {
		.flags = TF_SYN, .seq = 1, .wnd = 65535, .opts = t_opts_mss1460_ws7, .optlen = 8};
	struct t_seg_spec ack = {.flags = TF_ACK, .seq = 2, .wnd = 65535};
	struct t_out o;
	unsigned int i;
	uint32_t iss0 = 0;

	/* over the backlog the SYN is dropped (cookies: test-tcp-cookie.c) */
	p.no_syncookies = true;
	e = t_new(&p);
	t = e->t;
	for (i = 0; i < 16; i++) {
		t.rport = (uint16_t)(1000 + i);
		t_inject_t(e, &t, &syn);
		o = t_pop_out(e);
		cr_assert_eq(o.flags, TF_SYN | TF_ACK);
		if (i == 0)
			iss0 = o.seq;
	}
	cr_assert_eq(e->st.listeners[0].pending, 16);
	cr_assert_eq(e->st.stats.conns[SL_TCP_SYN_RCVD], 16);
	t.rport = 2000;
	t_inject_t(e, &t, &syn);
	cr_assert_eq(e->n_cap, 0, "over the backlog: no answer");
	cr_assert_eq(t_stat(e, "drop_backlog"), 1);
	cr_assert_null(t_lookup(e, &t));
	/* one handshake completes: room for another */
	t.rport = 1000;
	ack.ack = iss0 + 1;
	t_inject_t(e, &t, &ack);
	cr_assert_eq(sl_tcp_state(t_lookup(e, &t)), SL_TCP_ESTABLISHED);
	cr_assert_eq(e->st.listeners[0].pending, 15);
	t.rport = 2000;
	t_inject_t(e, &t, &syn);
	cr_assert_eq(e->n_cap, 1);
	cr_assert_eq(e->st.stats.conns_peak[SL_TCP_SYN_RCVD], 16);
	t_fini(e);
}

Test(tcp_misc, no_conn_memory_or_table_slot)
{
	struct tenv *e = t_new(NULL);
	struct t_seg_spec syn = {.flags = TF_SYN, .seq = 1, .wnd = 65535};

	e->fail_conn_alloc = 1;
	t_inject(e, &syn);
	cr_assert_eq(e->n_cap, 0);
	cr_assert_eq(t_stat(e, "drop_no_conn_mem"), 1);
	e->fail_conn_alloc = 0;
	e->fail_insert = 1;
	t_inject(e, &syn);
	cr_assert_eq(e->n_cap, 0);
	cr_assert_eq(t_stat(e, "drop_no_conn_mem"), 2);
	cr_assert_eq(e->conns_live, 0);
	cr_assert_eq(e->st.listeners[0].pending, 0);
	t_fini(e);
}

Test(tcp_misc, checksum_verified)
{
	struct tenv *e = t_new(NULL);
	struct t_seg_spec syn = {.flags = TF_SYN, .seq = 1, .wnd = 65535, .bad_csum = true};
	struct sl_tcp_seg *seg;

	t_inject(e, &syn);
	cr_assert_eq(e->n_cap, 0);
	cr_assert_eq(t_stat(e, "drop_bad_csum"), 1);
	cr_assert_eq(t_state(e), T_GONE);
	/* the port verified it: not checked again */
	seg = t_build(e, &e->t, &syn);
	sl_tcp_input(&e->st, NULL, &e->t, seg, SL_TCP_IN_CSUM_OK, e->now);
	cr_assert_eq(t_state(e), SL_TCP_SYN_RCVD);
	cr_assert_eq(t_stat(e, "drop_bad_csum"), 1);
	t_fini(e);
}

Test(tcp_misc, rx_csum_offload_param)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct t_seg_spec syn = {.flags = TF_SYN, .seq = 1, .wnd = 65535, .bad_csum = true};

	p.rx_csum_offload = true;
	e = t_new(&p);
	t_inject(e, &syn);
	cr_assert_eq(t_state(e), SL_TCP_SYN_RCVD);
	t_fini(e);
}

Test(tcp_misc, checksum_generated_and_offloaded)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct t_seg_spec syn = {.flags = TF_SYN, .seq = 1, .wnd = 65535};
	struct t_cap *cap;
	uint32_t ph;

	/* full checksum: t_pop_out() verifies every one with the reference */
	e = t_new(NULL);
	t_handshake(e, 1, t_opts_mss1460_ws7, 8);
	t_fini(e);
	/* offload: the pseudo-header sum, folded, not complemented */
	p.tx_csum_offload = true;
	e = t_new(&p);
	t_inject(e, &syn);
	cap = t_pop(e);
	cr_assert_not_null(cap);
	ph = (10u << 8) + 1 + (10u << 8) + 2 + 6 + cap->len;
	while (ph >> 16)
		ph = (ph & 0xffff) + (ph >> 16);
	cr_assert_eq(cap->len, 24, "MSS only: the SYN had no WS");
	cr_assert_eq((uint32_t)(cap->bytes[16] << 8 | cap->bytes[17]), ph);
	free(cap);
	t_fini(e);
}

Test(tcp_misc, malformed_headers)
{
	struct tenv *e = t_new(NULL);
	uint8_t h[64];
	static const struct {
		const char *what;
		uint8_t off;
		uint8_t flags;
		uint32_t len;
		uint8_t opts[12];
	} cases[] = {
		{"shorter than 20 bytes", 0x50, TF_SYN, 19, {0}},
		{"data offset 4", 0x40, TF_SYN, 20, {0}},
		{"data offset beyond the segment", 0x80, TF_SYN, 24, {0}},
		{"SYN+FIN", 0x50, TF_SYN | TF_FIN, 20, {0}},
		{"SYN+RST", 0x50, TF_SYN | TF_RST, 20, {0}},
		{"option length 0", 0x60, TF_SYN, 24, {2, 0, 0, 0}},
		{"option length 1", 0x60, TF_SYN, 24, {8, 1, 0, 0}},
		{"option past the header", 0x60, TF_SYN, 24, {1, 1, 2, 4}},
		{"option kind without length", 0x60, TF_SYN, 24, {1, 1, 1, 3}},
	};
	size_t i;

	for (i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		uint32_t olen = ((cases[i].off >> 4) - 5) * 4u;
		uint16_t sum;

		memset(h, 0, sizeof(h));
		h[0] = T_CLI_PORT >> 8;
		h[1] = T_CLI_PORT & 0xff;
		h[3] = T_SRV_PORT;
		h[7] = 1;
		h[12] = cases[i].off;
		h[13] = cases[i].flags;
		h[14] = 0xff;
		h[15] = 0xff;
		if (olen <= 12 && 20 + olen <= cases[i].len)
			memcpy(h + 20, cases[i].opts, olen);
		sum = ref_tcp_csum(e->t.raddr, e->t.laddr, h, cases[i].len);
		h[16] = (uint8_t)(sum >> 8);
		h[17] = (uint8_t)sum;
		t_inject_raw(e, h, cases[i].len, 0);
		cr_assert_eq(t_stat(e, "drop_bad_hdr"), i + 1, "%s: not counted", cases[i].what);
		cr_assert_eq(e->n_cap, 0, "%s: answered", cases[i].what);
		cr_assert_eq(t_state(e), T_GONE, "%s: accepted", cases[i].what);
	}
	cr_assert_eq(t_stat(e, "segs_in"), SL_ARRAY_SIZE(cases));
	t_fini(e);
}

static int
syn_with_opts(const uint8_t *opts, unsigned int optlen, struct t_out *o)
{
	struct tenv *e = t_new(NULL);
	struct t_seg_spec syn = {
		.flags = TF_SYN, .seq = 1, .wnd = 65535, .opts = opts, .optlen = optlen};
	struct sl_tcp_conn *c;
	int mss = -1;

	t_inject(e, &syn);
	c = t_lookup(e, &e->t);
	if (c != NULL) {
		mss = c->mss;
		*o = t_pop_out(e);
	}
	t_fini(e);
	return mss;
}

Test(tcp_misc, options_parsed_robustly)
{
	/* timestamps (8, 10), SACK-permitted (4, 2): both agreed (the timestamps' 12 bytes
	 * come off the MSS); an unknown kind: ignored */
	static const uint8_t o1[20] = {2, 4, 0x02, 0x00, 4, 2, 8,  10, 1, 2,
				       3, 4, 5,	   6,	 7, 8, 99, 4,  0, 0};
	/* EOL ends the list: the MSS after it is not read */
	static const uint8_t o2[8] = {1, 0, 2, 4, 0x02, 0x00, 0, 0};
	/* a NOP, a WS, an MSS of the wrong length (skipped), the MSS, EOL */
	static const uint8_t o3[12] = {1, 3, 3, 5, 2, 3, 9, 2, 4, 0x01, 0x00, 0};
	/* WS before MSS, padded with EOL */
	static const uint8_t o4[12] = {3, 3, 2, 2, 4, 0x03, 0x00, 0, 0, 0, 0, 0};
	struct t_out o;

	cr_assert_eq(syn_with_opts(o1, sizeof(o1), &o), 512 - 12);
	cr_assert_eq(o.ws, -1);
	cr_assert(o.sack_ok);
	cr_assert(o.ts);
	cr_assert_eq(o.tsecr, 0x01020304);
	cr_assert_eq(syn_with_opts(o2, sizeof(o2), &o), 536);
	cr_assert_eq(syn_with_opts(o3, sizeof(o3), &o), 256, "the valid MSS after the bad one");
	cr_assert_eq(o.ws, 7, "WS option answered");
	cr_assert_eq(syn_with_opts(o4, sizeof(o4), &o), 768);
	cr_assert_eq(o.ws, 7);
}

Test(tcp_misc, zero_copy_delivery)
{
	struct tenv *e = t_new(NULL);
	uint8_t payload[300];
	struct t_seg_spec d = {
		.flags = TF_ACK | TF_PSH, .wnd = 65535, .payload = payload, .len = sizeof(payload)};
	struct sl_tcp_seg *seg;
	uint8_t *buf;
	unsigned int i;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	t_handshake(e, 1, t_opts_mss1460_ws7, 8);
	e->app.hold = true;
	d.seq = 2;
	d.ack = e->srv_iss + 1;
	seg = t_build(e, &e->t, &d);
	buf = seg->data;
	sl_tcp_input(&e->st, t_lookup(e, &e->t), &e->t, seg, 0, e->now);
	cr_assert_eq(e->app.last_chain, seg, "the very buffer given to sl_tcp_input");
	cr_assert_eq(seg->data, buf + 20, "data points at the payload");
	cr_assert_eq(seg->len, sizeof(payload));
	cr_assert_null(seg->next);
	cr_assert_eq(memcmp(seg->data, payload, sizeof(payload)), 0);
	/* partly old: trimmed in place */
	d.seq = 2 + 200;
	seg = t_build(e, &e->t, &d);
	buf = seg->data;
	sl_tcp_input(&e->st, t_lookup(e, &e->t), &e->t, seg, 0, e->now);
	cr_assert_eq(e->app.last_chain, seg);
	cr_assert_eq(seg->data, buf + 20 + 100);
	cr_assert_eq(seg->len, 200);
	cr_assert_eq(seg->data[0], 100);
	cr_assert_eq(e->app.held_bytes, 500);
	cr_assert_eq(t_lookup(e, &e->t)->rcv_held, 500);
	t_fini(e);
}

Test(tcp_misc, send_segmented_to_mss_and_kept_until_acked)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c;
	struct sl_tcp_seg *a, *b, *d;
	uint8_t all[4500];
	uint32_t off = 0;
	unsigned int i;

	c = t_handshake(e, 1, t_opts_mss1460_ws7, 8);
	a = mkseg(e, 1000, 'A');
	b = mkseg(e, 3000, 'B');
	d = mkseg(e, 500, 'C');
	for (i = 0; i < 3000; i++)
		b->data[i] = (uint8_t)(i % 251);
	memcpy(all, a->data, 1000);
	memcpy(all + 1000, b->data, 3000);
	memcpy(all + 4000, d->data, 500);
	a->next = b;
	b->next = d;
	cr_assert_eq(sl_tcp_send(c, a, e->now), 0);
	for (i = 0; i < 4; i++) {
		struct t_out o = t_pop_out(e);

		cr_assert_eq(o.len, i < 3 ? 1460u : 120u);
		cr_assert_eq(o.seq, e->srv_iss + 1 + off);
		cr_assert_eq(o.flags, i < 3 ? TF_ACK : (TF_ACK | TF_PSH));
		cr_assert_eq(memcmp(o.payload, all + off, o.len), 0, "segment %u payload", i);
		off += o.len;
	}
	cr_assert_eq(t_stat(e, "bytes_out"), 4500);
	cr_assert_eq(e->segs_live, 3, "queued until acknowledged");
	client_seg(e, TF_ACK, 1, 1461, 0);
	cr_assert_eq(e->segs_live, 2, "the first buffer (1000 bytes) is acknowledged");
	cr_assert_eq(c->sndq_off, 460);
	client_seg(e, TF_ACK, 1, 4001, 0);
	cr_assert_eq(e->segs_live, 1);
	client_seg(e, TF_ACK, 1, 4501, 0);
	cr_assert_eq(e->segs_live, 0);
	cr_assert_eq(c->sndq_len, 0);
	t_fini(e);
}

Test(tcp_misc, send_errors_and_writable)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct sl_tcp_conn *c;
	struct sl_tcp_seg *s;

	p.snd_buf = 4000;
	e = t_new(&p);
	c = t_handshake(e, 1, t_opts_mss1460_ws7, 8);
	cr_assert_eq(sl_tcp_send_space(c), 4000);
	cr_assert_eq(sl_tcp_send(c, mkseg(e, 3000, 'x'), e->now), 0);
	cr_assert_eq(sl_tcp_send_space(c), 1000);
	t_drain(e);
	s = mkseg(e, 1500, 'y');
	cr_assert_eq(sl_tcp_send(c, s, e->now), -ENOBUFS);
	cr_assert_eq(e->segs_live, 2, "a refused chain stays the caller's");
	/* 1460 acknowledged: 2460 free, a quarter of the buffer: writable */
	client_seg(e, TF_ACK, 1, 1461, 0);
	cr_assert_eq(e->app.writable, 1);
	cr_assert_eq(sl_tcp_send(c, s, e->now), 0);
	t_drain(e);
	/* an empty queue takes any chain */
	client_seg(e, TF_ACK, 1, 4501, 0);
	cr_assert_eq(sl_tcp_send(c, mkseg(e, 9000, 'z'), e->now), 0);
	/* an empty chain is freed */
	cr_assert_eq(sl_tcp_send(c, mkseg(e, 0, 'z'), e->now), 0);
	cr_assert_eq(sl_tcp_send(c, NULL, e->now), 0);
	cr_assert_eq(sl_tcp_shutdown(c, e->now), 0);
	cr_assert_eq(sl_tcp_shutdown(c, e->now), 0, "shutdown twice is fine");
	s = mkseg(e, 10, 'q');
	cr_assert_eq(sl_tcp_send(c, s, e->now), -EPIPE);
	cr_assert_eq(sl_tcp_send_space(c), 0);
	sl_tcp_seg_free_chain(&e->st, s);
	t_drain(e);
	t_fini(e);
}

/* sl_tcp_send_some: a chain too long for the space left gives TCP the buffers that fit now
 * (not after the whole queue drained); the rest stays the caller's until `writable`. */
Test(tcp_misc, send_some)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct sl_tcp_conn *c;
	struct sl_tcp_seg *head, *s2, *s3;
	uint32_t len = 3000;

	p.snd_buf = 4000;
	e = t_new(&p);
	c = t_handshake(e, 1, t_opts_mss1460_ws7, 8);
	cr_assert_eq(sl_tcp_send(c, mkseg(e, 2500, 'x'), e->now), 0);
	t_drain(e);
	head = mkseg(e, 1000, 'a');
	s2 = head->next = mkseg(e, 1000, 'b');
	s3 = s2->next = mkseg(e, 1000, 'c');
	cr_assert_eq(sl_tcp_send_some(c, &head, &len, e->now), -ENOBUFS);
	cr_assert_eq(head, s2, "the first buffer fitted the 1500 bytes left and went");
	cr_assert_eq(len, 2000);
	cr_assert_eq(sl_tcp_send_space(c), 500);
	client_seg(e, TF_ACK, 1, 2501, 0); /* 2500 acknowledged: writable */
	cr_assert_eq(e->app.writable, 1);
	cr_assert_eq(sl_tcp_send_some(c, &head, &len, e->now), 0);
	cr_assert_null(head);
	cr_assert_eq(len, 0);
	(void)s3;
	t_drain(e);
	t_fini(e);
}

Test(tcp_misc, send_not_connected)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c;
	struct sl_tcp_seg *s;

	c = t_handshake(e, 1, t_opts_mss1460_ws7, 8);
	e->app.close_on_peer_closed = false;
	sl_tcp_shutdown(c, e->now);
	client_seg(e, TF_ACK | TF_FIN, 1, 2, 0);
	cr_assert_eq(sl_tcp_state(c), SL_TCP_TIME_WAIT);
	cr_assert_eq(sl_tcp_shutdown(c, e->now), 0);
	/* after TIME_WAIT the app, still holding c, gets -ENOTCONN / -EPIPE and closes */
	t_advance(e, 2000000);
	cr_assert_eq(sl_tcp_state(c), SL_TCP_CLOSED);
	s = mkseg(e, 10, 'q');
	cr_assert_lt(sl_tcp_send(c, s, e->now), 0);
	sl_tcp_seg_free_chain(&e->st, s);
	sl_tcp_consumed(c, 0, e->now);
	sl_tcp_close(c, e->now);
	t_drain(e);
	t_fini(e);
}

Test(tcp_misc, params_checked)
{
	struct sl_tcp_stack *st = malloc(sizeof(*st));
	struct sl_tcp_params p;
	struct sl_tcp_env_ops bad = t_env_ops;

	cr_assert_eq(sl_tcp_stack_init(st, NULL, &t_env_ops, NULL, 1, 0), 0);
	cr_assert_eq(st->p.mss, 1460);
	cr_assert_eq(st->p.wscale, 7);
	cr_assert_eq(st->p.rcv_buf, 262144);
	cr_assert_eq(st->p.syn_retries, 5);
	cr_assert_eq(st->p.tick_us, 1000);
	p = t_params();
	p.mss = 20;
	cr_assert_eq(sl_tcp_stack_init(st, &p, &t_env_ops, NULL, 1, 0), -EINVAL);
	p = t_params();
	p.wscale = 15;
	cr_assert_eq(sl_tcp_stack_init(st, &p, &t_env_ops, NULL, 1, 0), -EINVAL);
	p = t_params();
	p.rto_min_us = 2000000;
	cr_assert_eq(sl_tcp_stack_init(st, &p, &t_env_ops, NULL, 1, 0), -EINVAL);
	p = t_params();
	p.rcv_buf = (1u << 30) + 1;
	cr_assert_eq(sl_tcp_stack_init(st, &p, &t_env_ops, NULL, 1, 0), -EINVAL);
	bad.conn_insert = NULL;
	cr_assert_eq(sl_tcp_stack_init(st, NULL, &bad, NULL, 1, 0), -EINVAL);
	cr_assert_eq(sl_tcp_stack_init(st, NULL, NULL, NULL, 1, 0), -EINVAL);
	free(st);
}

Test(tcp_misc, listeners)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_app_ops no_data = t_app_ops;
	struct t_seg_spec syn = {.flags = TF_SYN, .seq = 1, .wnd = 65535};
	struct sl_tcp_tuple t = e->t;
	unsigned int i;

	cr_assert_eq(sl_tcp_listen(&e->st, T_IP4(10, 0, 0, 1), T_SRV_PORT, 4, &t_app_ops, e),
		     -EADDRINUSE);
	cr_assert_eq(sl_tcp_listen(&e->st, T_IP4(10, 0, 0, 1), 0, 4, &t_app_ops, e), -EINVAL);
	cr_assert_eq(sl_tcp_listen(&e->st, T_IP4(10, 0, 0, 1), 80, 0, &t_app_ops, e), -EINVAL);
	no_data.data = NULL;
	cr_assert_eq(sl_tcp_listen(&e->st, T_IP4(10, 0, 0, 1), 80, 4, &no_data, e), -EINVAL);
	/* a wildcard listener takes any of our addresses; the exact one wins */
	cr_assert_eq(sl_tcp_listen(&e->st, T_IP4(0, 0, 0, 0), 80, 1, &t_app_ops, e), 0);
	cr_assert_eq(sl_tcp_listen(&e->st, T_IP4(0, 0, 0, 0), T_SRV_PORT, 1, &t_app_ops, e), 0);
	t.lport = 80;
	t.laddr = T_IP4(192, 168, 1, 1);
	t_inject_t(e, &t, &syn);
	cr_assert_not_null(t_lookup(e, &t));
	cr_assert_eq(t_lookup(e, &t)->listener, &e->st.listeners[1]);
	t = e->t;
	t_inject_t(e, &t, &syn);
	cr_assert_eq(t_lookup(e, &t)->listener, &e->st.listeners[0]);
	for (i = 3; i < SL_TCP_LISTENERS_MAX; i++)
		cr_assert_eq(sl_tcp_listen(&e->st, T_IP4(0, 0, 0, 0), (uint16_t)(100 + i), 1,
					   &t_app_ops, e),
			     0);
	cr_assert_eq(sl_tcp_listen(&e->st, T_IP4(0, 0, 0, 0), 99, 1, &t_app_ops, e), -ENOSPC);
	t_drain(e);
	t_fini(e);
}

Test(tcp_misc, counters_exact)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_tuple t = e->t;
	struct t_seg_spec syn = {.flags = TF_SYN, .seq = 1, .wnd = 65535};
	struct t_seg_spec ack = {.flags = TF_ACK, .seq = 2, .wnd = 65535};
	struct t_seg_spec fin = {.flags = TF_ACK | TF_FIN, .seq = 2, .wnd = 65535};
	struct sl_tcp_conn *c[3];
	unsigned int i;

	for (i = 0; i < 3; i++) {
		struct t_out o;

		t.rport = (uint16_t)(3000 + i);
		t_inject_t(e, &t, &syn);
		o = t_pop_out(e);
		ack.ack = fin.ack = o.seq + 1;
		if (i < 2)
			t_inject_t(e, &t, &ack);
		if (i == 1)
			t_inject_t(e, &t, &fin);
		c[i] = t_lookup(e, &t);
	}
	t_drain(e);
	cr_assert_eq(e->st.stats.conns[SL_TCP_ESTABLISHED], 1);
	cr_assert_eq(e->st.stats.conns[SL_TCP_CLOSE_WAIT], 1);
	cr_assert_eq(e->st.stats.conns[SL_TCP_SYN_RCVD], 1);
	cr_assert_eq(e->st.stats.conns_peak[SL_TCP_SYN_RCVD], 1);
	cr_assert_eq(e->st.stats.conns_peak[SL_TCP_ESTABLISHED], 2);
	cr_assert_eq(t_stat(e, "segs_in"), 6);
	cr_assert_eq(t_stat(e, "segs_out"), 4);
	cr_assert_eq(t_stat(e, "syn_in"), 3);
	cr_assert_eq(t_stat(e, "accepted"), 2);
	sl_tcp_close(c[0], e->now);
	cr_assert_eq(e->st.stats.conns[SL_TCP_ESTABLISHED], 0);
	cr_assert_eq(e->st.stats.conns[SL_TCP_FIN_WAIT_1], 1);
	sl_tcp_close(c[1], e->now);
	cr_assert_eq(e->st.stats.conns[SL_TCP_LAST_ACK], 1);
	cr_assert_eq(e->st.stats.conns[SL_TCP_CLOSE_WAIT], 0);
	sl_tcp_abort(c[2], e->now);
	cr_assert_eq(e->st.stats.conns[SL_TCP_SYN_RCVD], 0);
	cr_assert_eq(e->st.listeners[0].pending, 0);
	cr_assert_eq(t_stat(e, "conn_aborted"), 1);
	cr_assert_eq(t_stat(e, "rst_out"), 1);
	cr_assert_eq(SL_TCP_STATS_COUNT, 37);
	cr_assert_str_eq(sl_tcp_stats_names[21], "drop_no_buf");
	/* the counters of TCP 3/3 come after the older ones: their indices stay */
	cr_assert_str_eq(sl_tcp_stats_names[30], "keepalives_out");
	cr_assert_str_eq(sl_tcp_stats_names[31], "active_opens");
	cr_assert_str_eq(sl_tcp_stats_names[32], "connect_failed");
	cr_assert_str_eq(sl_tcp_stats_names[33], "syncookies_sent");
	cr_assert_str_eq(sl_tcp_stats_names[34], "syncookies_ok");
	cr_assert_str_eq(sl_tcp_stats_names[35], "syncookies_failed");
	cr_assert_str_eq(sl_tcp_stats_names[SL_TCP_STATS_COUNT - 1], "syn_refused_draining");
	cr_assert_str_eq(sl_tcp_state_names[SL_TCP_TIME_WAIT], "TIME_WAIT");
	t_drain(e);
	t_fini(e); /* releases the two left: conns[] back to zero */
}

Test(tcp_misc, release_at_shutdown)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = t_handshake(e, 1, t_opts_mss1460_ws7, 8);

	cr_assert_eq(sl_tcp_send(c, mkseg(e, 100, 'r'), e->now), 0);
	t_drain(e);
	sl_tcp_conn_release(&e->st, c);
	cr_assert_eq(e->n_cap, 0, "no RST");
	cr_assert_eq(e->app.reset + e->app.error, 0, "no callbacks");
	cr_assert_eq(e->segs_live, 0);
	cr_assert_eq(e->conns_live, 0);
	cr_assert_null(t_lookup(e, &e->t));
	t_advance(e, 5000000);
	cr_assert_eq(e->n_cap, 0, "no timer left behind");
	t_fini(e);
}

/* ---- callbacks that end the connection from inside ---- */

static int abort_in_data;

static void
data_then_abort(void *app, struct sl_tcp_conn *c, struct sl_tcp_seg *chain, uint32_t len)
{
	struct tenv *e = app;

	(void)len;
	sl_tcp_seg_free_chain(&e->st, chain);
	if (abort_in_data)
		sl_tcp_abort(c, e->now);
	else
		sl_tcp_close(c, e->now);
}

Test(tcp_misc, abort_from_inside_data)
{
	static struct sl_tcp_app_ops ops;
	struct tenv *e = t_new(NULL);
	struct t_out o;

	ops = t_app_ops;
	ops.data = data_then_abort;
	e->st.listeners[0].ops = &ops;
	abort_in_data = 1;
	t_handshake(e, 1, t_opts_mss1460_ws7, 8);
	client_seg(e, TF_ACK | TF_FIN, 1, 1, 10);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_RST);
	cr_assert_eq(e->n_cap, 0, "nothing after the RST");
	cr_assert_eq(t_state(e), T_GONE);
	cr_assert_eq(e->conns_live, 0);
	cr_assert_eq(e->app.peer_closed, 0);
	t_fini(e);
}

Test(tcp_misc, close_from_inside_data_with_fin)
{
	static struct sl_tcp_app_ops ops;
	struct tenv *e = t_new(NULL);
	struct t_out o;

	ops = t_app_ops;
	ops.data = data_then_abort;
	e->st.listeners[0].ops = &ops;
	abort_in_data = 0;
	t_handshake(e, 1, t_opts_mss1460_ws7, 8);
	client_seg(e, TF_ACK | TF_FIN, 1, 1, 10);
	/* our FIN (acknowledging the data), then the ACK of their FIN: CLOSING */
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_ACK | TF_FIN);
	cr_assert_eq(o.ack, e->cli_isn + 11);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_ACK);
	cr_assert_eq(o.ack, e->cli_isn + 12);
	cr_assert_eq(t_state(e), SL_TCP_CLOSING);
	client_seg(e, TF_ACK, 12, 2, 0);
	cr_assert_eq(t_state(e), SL_TCP_TIME_WAIT);
	t_fini(e);
}

Test(tcp_misc, trimmed_to_the_window_on_the_right)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct t_seg_spec syn = {
		.flags = TF_SYN, .seq = 100, .wnd = 65535, .opts = t_opts_mss1460, .optlen = 4};
	struct t_seg_spec d = {.flags = TF_ACK | TF_FIN, .seq = 101, .wnd = 65535, .len = 5000};
	struct t_out o;

	p.rcv_buf = 4096;
	p.mss = 9000;
	e = t_new(&p);
	e->cli_isn = 100;
	t_inject(e, &syn);
	o = t_pop_out(e);
	e->srv_iss = o.seq;
	d.ack = o.seq + 1;
	e->app.hold = true;
	/* 5000 bytes and a FIN into a 4096-byte window: 4096 delivered, the FIN dropped */
	t_inject(e, &d);
	cr_assert_eq(e->app.held_bytes, 4096);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	cr_assert_eq(e->app.peer_closed, 0);
	o = t_pop_out(e);
	cr_assert_eq(o.ack, 101u + 4096);
	cr_assert_eq(o.wnd, 0);
	t_fini(e);
}

Test(tcp_misc, old_syn_with_data_trimmed)
{
	struct tenv *e = t_new(NULL);
	struct t_seg_spec d = {.flags = TF_SYN | TF_ACK, .seq = 1, .wnd = 65535, .len = 30};

	t_handshake(e, 1, t_opts_mss1460_ws7, 8);
	/* the SYN again with 30 bytes, 20 of them received since: SYN and 20 bytes trimmed */
	client_seg(e, TF_ACK, 1, 1, 20);
	d.ack = e->srv_iss + 1;
	t_inject(e, &d);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	cr_assert_eq(e->app.rx_len, 30);
	cr_assert_eq(t_lookup(e, &e->t)->rcv_nxt.v, 2u + 30);
	t_drain(e);
	t_fini(e);
}

Test(tcp_misc, close_in_fin_wait_2_starts_its_timer)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = t_handshake(e, 1, t_opts_mss1460_ws7, 8);

	cr_assert_eq(sl_tcp_shutdown(c, e->now), 0);
	client_seg(e, TF_ACK, 1, 2, 0);
	cr_assert_eq(sl_tcp_state(c), SL_TCP_FIN_WAIT_2);
	t_advance(e, 70000000);
	cr_assert_eq(t_state(e), SL_TCP_FIN_WAIT_2, "no timeout while the app reads");
	sl_tcp_close(c, e->now);
	sl_tcp_close(c, e->now); /* twice: ignored */
	t_advance(e, 60000000);
	cr_assert_eq(t_state(e), T_GONE);
	cr_assert_eq(t_stat(e, "conn_closed"), 1);
	t_drain(e);
	t_fini(e);
}

Test(tcp_misc, echo_timeout_frees_pending)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct sl_tcp_conn *c;

	p.snd_buf = 1000;
	p.retries = 2;
	e = t_new(&p);
	e->st.listeners[0].ops = &sl_tcp_echo_ops;
	e->st.listeners[0].app = &e->st;
	c = t_handshake(e, 1, t_opts_mss1460_ws7, 8);
	client_seg(e, TF_ACK, 1, 1, 1000);
	client_seg(e, TF_ACK, 1001, 1, 1000);
	cr_assert_not_null(sl_tcp_user(c), "the second 1000 pending");
	/* the echoed bytes are never acknowledged: error after 2 retransmissions */
	t_advance(e, 10000000);
	cr_assert_eq(t_state(e), T_GONE);
	cr_assert_eq(t_stat(e, "conn_timeout"), 1);
	t_drain(e);
	t_fini(e);
}
