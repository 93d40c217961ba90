/**
 * @file
 * The receiver's out-of-order queue: segments queued as they came and handed to the
 * application, once the gap fills, in one chain of the very buffers given to sl_tcp_input()
 * (trimmed, not copied); overlaps; its bounds (ooo_max_bytes, ooo_max_segs) and what is
 * counted; FIN out of order; memory returned when the connection ends. And the SACK blocks
 * made from it (RFC 2018 4): exact option bytes, most recent first, at most 4 (3 beside
 * timestamps).
 */
#include <criterion/criterion.h>

#include "tcp-test.h"

/* SYN options: MSS 1460, SACK-permitted, WS 7 (no timestamps). */
static struct sl_tcp_conn *
open_sack(struct tenv *e)
{
	struct sl_tcp_conn *c = t_handshake(e, 1000, t_opts_sack, sizeof(t_opts_sack));

	e->app.hold = true;
	return c;
}

/* Client data: <len> bytes at <seq_rel>, byte i of the stream being t_stream_byte(i - 1). */
static struct sl_tcp_seg *
data_at(struct tenv *e, uint32_t seq_rel, uint32_t len, unsigned int flags)
{
	static uint8_t p[4096];
	struct t_seg_spec d = {.flags = (uint8_t)(TF_ACK | flags),
			       .seq = e->cli_isn + seq_rel,
			       .ack = e->srv_iss + 1,
			       .wnd = 65535,
			       .payload = p,
			       .len = len};
	struct sl_tcp_seg *seg;
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = t_stream_byte(seq_rel - 1 + i);
	seg = t_build(e, &e->t, &d);
	sl_tcp_input(&e->st, t_lookup(e, &e->t), &e->t, seg, 0, e->now);
	return seg;
}

/* Pop our ACK and check it: ack <ack_rel> and SACK blocks [l, r) (relative), in order. */
static void
expect_ack(struct tenv *e, uint32_t ack_rel, unsigned int n, const uint32_t *l, const uint32_t *r)
{
	struct t_out o = t_pop_out(e);
	unsigned int i;

	cr_assert_eq(o.flags, TF_ACK);
	cr_assert_eq(o.ack, e->cli_isn + ack_rel, "ack %u, expected %u", o.ack - e->cli_isn,
		     ack_rel);
	cr_assert_eq(o.n_sack, n, "%u SACK blocks, expected %u", o.n_sack, n);
	for (i = 0; i < n; i++) {
		cr_assert_eq(o.sack_l[i], e->cli_isn + l[i], "block %u left %u, expected %u", i,
			     o.sack_l[i] - e->cli_isn, l[i]);
		cr_assert_eq(o.sack_r[i], e->cli_isn + r[i], "block %u right %u, expected %u", i,
			     o.sack_r[i] - e->cli_isn, r[i]);
	}
	if (n == 0)
		cr_assert_eq(o.hlen, 20, "no options");
}

static void
check_rx(struct tenv *e)
{
	uint32_t i;

	for (i = 0; i < e->app.rx_len; i++)
		cr_assert_eq(e->app.rx[i], t_stream_byte(i), "received byte %u", i);
}

Test(tcp_ooo, fill_and_merge_zero_copy_with_sack_blocks)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = open_sack(e);
	struct sl_tcp_seg *a, *b, *cc, *d, *f, *g;
	struct t_out o;
	uint32_t l[4], r[4];

	cr_assert(c->flags & 0x80, "SACK agreed");
	b = data_at(e, 101, 100, 0);
	/* exact option bytes: NOP NOP SACK(10) left right */
	o = t_pop_out(e);
	cr_assert_eq(o.ack, e->cli_isn + 1);
	cr_assert_eq(o.hlen, 32);
	{
		uint8_t want[12] = {1, 1, 5, 10};

		want[4] = (uint8_t)((e->cli_isn + 101) >> 24);
		want[5] = (uint8_t)((e->cli_isn + 101) >> 16);
		want[6] = (uint8_t)((e->cli_isn + 101) >> 8);
		want[7] = (uint8_t)(e->cli_isn + 101);
		want[8] = (uint8_t)((e->cli_isn + 201) >> 24);
		want[9] = (uint8_t)((e->cli_isn + 201) >> 16);
		want[10] = (uint8_t)((e->cli_isn + 201) >> 8);
		want[11] = (uint8_t)(e->cli_isn + 201);
		cr_assert_eq(memcmp(o.opts, want, 12), 0, "SACK option bytes");
	}
	cr_assert_eq(e->app.data_calls, 0);
	cr_assert_eq(c->ooo_bytes, 100);
	cc = data_at(e, 301, 100, 0);
	l[0] = 301, r[0] = 401, l[1] = 101, r[1] = 201;
	expect_ack(e, 1, 2, l, r); /* the most recent first */
	d = data_at(e, 201, 100, 0);
	l[0] = 101, r[0] = 401;
	expect_ack(e, 1, 1, l, r); /* one block now */
	f = data_at(e, 501, 100, 0);
	l[0] = 501, r[0] = 601, l[1] = 101, r[1] = 401;
	expect_ack(e, 1, 2, l, r);
	cr_assert_eq(c->ooo_cnt, 4);
	cr_assert_eq(c->ooo_bytes, 400);
	cr_assert_eq(t_stat(e, "ooo_segs"), 4);
	cr_assert_eq(e->app.data_calls, 0);
	/* the gap fills: one chain, the buffers themselves, in order */
	a = data_at(e, 1, 100, 0);
	cr_assert_eq(e->app.data_calls, 1);
	cr_assert_eq(e->app.last_chain, a);
	cr_assert_eq(a->next, b);
	cr_assert_eq(b->next, d);
	cr_assert_eq(d->next, cc);
	cr_assert_null(cc->next);
	cr_assert_eq(e->app.held_bytes, 400);
	l[0] = 501, r[0] = 601;
	expect_ack(e, 401, 1, l, r); /* a gap was filled: at once (RFC 5681 4.2) */
	g = data_at(e, 401, 100, 0);
	cr_assert_eq(e->app.last_chain, g);
	cr_assert_eq(g->next, f);
	cr_assert_null(f->next);
	expect_ack(e, 601, 0, NULL, NULL);
	cr_assert_eq(c->ooo_cnt, 0);
	cr_assert_eq(c->ooo_bytes, 0);
	cr_assert_null(c->ooo_head);
	cr_assert_eq(e->app.rx_len, 600);
	check_rx(e);
	cr_assert_eq(t_stat(e, "bytes_in"), 600);
	cr_assert_eq(t_stat(e, "drop_out_of_order"), 0);
	cr_assert_eq(c->rcv_held, 600);
	t_fini(e);
}

Test(tcp_ooo, overlaps_trimmed_and_covered_replaced)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = open_sack(e);
	struct sl_tcp_seg *x, *y, *z, *w, *a;
	uint8_t *ybuf;
	long live;

	x = data_at(e, 101, 100, 0);
	ybuf = NULL;
	y = data_at(e, 151, 100, 0); /* [151, 251): its first 50 bytes are queued already */
	cr_assert_eq(c->ooo_bytes, 150);
	ybuf = y->data;
	z = data_at(e, 301, 100, 0);
	cr_assert_eq(c->ooo_cnt, 3);
	/* a duplicate inside x: nothing new */
	data_at(e, 121, 60, 0);
	cr_assert_eq(t_stat(e, "drop_out_of_order"), 1);
	cr_assert_eq(c->ooo_cnt, 3);
	/* across x and y, which touch: nothing new either (found by the fuzzer) */
	data_at(e, 181, 40, 0);
	cr_assert_eq(t_stat(e, "drop_out_of_order"), 2);
	cr_assert_eq(c->ooo_cnt, 3);
	cr_assert_eq(c->ooo_bytes, 250);
	/* [51, 331) covers x and y (they go) and runs into z (it is cut at 301) */
	live = e->segs_live;
	w = data_at(e, 51, 280, 0);
	cr_assert_eq(e->segs_live, live + 1 - 2, "x and y freed, w kept");
	cr_assert_eq(c->ooo_cnt, 2);
	cr_assert_eq(c->ooo_bytes, 250 + 100);
	cr_assert_eq(c->ooo_head, w);
	cr_assert_eq(w->next, z);
	cr_assert_eq(w->len, 250);
	(void)x;
	(void)ybuf;
	t_drain(e);
	a = data_at(e, 1, 60, 0); /* overlaps w by 10: w is trimmed in place */
	cr_assert_eq(e->app.last_chain, a);
	cr_assert_eq(a->next, w);
	cr_assert_eq(w->len, 240);
	cr_assert_eq(w->next, z);
	cr_assert_eq(e->app.rx_len, 400);
	check_rx(e);
	t_drain(e);
	t_fini(e);
}

Test(tcp_ooo, bounded_by_bytes)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct sl_tcp_conn *c;
	unsigned int i;

	p.ooo_max_bytes = 3000;
	e = t_new(&p);
	c = open_sack(e);
	for (i = 0; i < 4; i++)
		data_at(e, 2001 + 1000 * i, 1000, 0);
	cr_assert_eq(c->ooo_bytes, 3000);
	cr_assert_eq(c->ooo_cnt, 3);
	cr_assert_eq(t_stat(e, "ooo_segs"), 3);
	cr_assert_eq(t_stat(e, "ooo_dropped"), 1, "the fourth: beyond ooo_max_bytes");
	cr_assert_eq(e->n_cap, 4, "each ACKed at once");
	t_drain(e);
	/* a segment that replaces what it covers fits */
	data_at(e, 2001, 2000, 0);
	cr_assert_eq(t_stat(e, "ooo_dropped"), 1);
	cr_assert_eq(c->ooo_bytes, 3000);
	data_at(e, 1, 2000, 0);
	cr_assert_eq(e->app.rx_len, 5000);
	data_at(e, 5001, 1000, 0);
	cr_assert_eq(e->app.rx_len, 6000);
	check_rx(e);
	cr_assert_eq(c->ooo_cnt, 0);
	t_drain(e);
	t_fini(e);
}

Test(tcp_ooo, bounded_by_segments)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct sl_tcp_conn *c;
	unsigned int i;

	p.ooo_max_segs = 2;
	e = t_new(&p);
	c = open_sack(e);
	for (i = 0; i < 3; i++)
		data_at(e, 101 + 200 * i, 10, 0);
	cr_assert_eq(c->ooo_cnt, 2);
	cr_assert_eq(t_stat(e, "ooo_dropped"), 1);
	t_drain(e);
	t_fini(e);
}

Test(tcp_ooo, default_bounds)
{
	struct tenv *e = t_new(NULL);

	cr_assert_eq(e->st.p.ooo_max_bytes, 262144, "rcv_buf");
	cr_assert_eq(e->st.p.ooo_max_segs, 512, "a segment per 512 bytes");
	t_fini(e);
}

Test(tcp_ooo, sack_blocks_most_recent_first_at_most_four)
{
	struct tenv *e = t_new(NULL);
	uint32_t l[4], r[4];
	unsigned int i;

	open_sack(e);
	for (i = 0; i < 5; i++) {
		data_at(e, 101 + 200 * i, 100, 0);
		t_drain(e);
	}
	data_at(e, 1101, 100, 0);
	for (i = 0; i < 4; i++) {
		l[i] = 1101 - 200 * i;
		r[i] = l[i] + 100;
	}
	expect_ack(e, 1, 4, l, r);
	/* 201 joins [101, 201) and [301, 401): that block first, then the recent ones */
	data_at(e, 201, 100, 0);
	l[0] = 101, r[0] = 401;
	l[1] = 1101, r[1] = 1201;
	l[2] = 901, r[2] = 1001;
	l[3] = 701, r[3] = 801;
	expect_ack(e, 1, 4, l, r);
	/* contiguous arrivals stay one block and one hint */
	data_at(e, 1201, 100, 0);
	data_at(e, 1301, 100, 0);
	t_drain(e);
	data_at(e, 1401, 100, 0);
	l[0] = 1101, r[0] = 1501;
	l[1] = 101, r[1] = 401;
	l[2] = 901, r[2] = 1001;
	l[3] = 701, r[3] = 801;
	expect_ack(e, 1, 4, l, r);
	t_fini(e);
}

Test(tcp_ooo, three_blocks_beside_timestamps)
{
	struct tenv *e = t_new(NULL);
	struct t_out o;
	unsigned int i;

	t_handshake(e, 1000, t_opts_linux, sizeof(t_opts_linux));
	e->app.hold = true;
	for (i = 0; i < 4; i++) {
		uint8_t ts[12];
		struct t_seg_spec d = {.flags = TF_ACK,
				       .seq = e->cli_isn + 101 + 200 * i,
				       .ack = e->srv_iss + 1,
				       .wnd = 65535,
				       .opts = ts,
				       .optlen = 12,
				       .len = 100};

		t_opt_ts(ts, 1000, 0);
		t_inject(e, &d);
		o = t_pop_out(e);
	}
	/* NOP NOP TS(10) NOP NOP SACK(2 + 3 * 8): 40 bytes of options */
	cr_assert_eq(o.hlen, 60);
	cr_assert(o.ts);
	cr_assert_eq(o.n_sack, 3);
	cr_assert_eq(o.opts[0], 1);
	cr_assert_eq(o.opts[1], 1);
	cr_assert_eq(o.opts[2], 8);
	cr_assert_eq(o.opts[3], 10);
	cr_assert_eq(o.opts[12], 1);
	cr_assert_eq(o.opts[13], 1);
	cr_assert_eq(o.opts[14], 5);
	cr_assert_eq(o.opts[15], 26);
	cr_assert_eq(o.sack_l[0], e->cli_isn + 701);
	cr_assert_eq(o.sack_l[1], e->cli_isn + 501);
	cr_assert_eq(o.sack_l[2], e->cli_isn + 301);
	t_fini(e);
}

Test(tcp_ooo, no_sack_without_sack_permitted)
{
	struct tenv *e = t_new(NULL);

	t_handshake(e, 1000, t_opts_mss1460_ws7, 8);
	e->app.hold = true;
	data_at(e, 101, 100, 0);
	expect_ack(e, 1, 0, NULL, NULL);
	cr_assert_eq(t_stat(e, "ooo_segs"), 1, "queued all the same");
	data_at(e, 1, 100, 0);
	cr_assert_eq(e->app.rx_len, 200);
	t_drain(e);
	t_fini(e);
}

Test(tcp_ooo, fin_out_of_order)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = open_sack(e);

	/* data + FIN beyond a gap: the data waits, the FIN does not (the peer sends it again) */
	data_at(e, 101, 100, TF_FIN);
	cr_assert_eq(c->ooo_bytes, 100);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	/* a bare FIN beyond the gap cannot be queued */
	data_at(e, 201, 0, TF_FIN);
	cr_assert_eq(t_stat(e, "drop_out_of_order"), 1);
	data_at(e, 1, 100, 0);
	cr_assert_eq(e->app.rx_len, 200);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	data_at(e, 201, 0, TF_FIN);
	cr_assert_eq(t_state(e), SL_TCP_CLOSE_WAIT);
	cr_assert_eq(e->app.peer_closed, 1);
	check_rx(e);
	t_drain(e);
	t_fini(e);
}

Test(tcp_ooo, fin_in_order_drops_what_is_beyond)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = open_sack(e);
	long live;

	data_at(e, 301, 100, 0);
	live = e->segs_live;
	/* a FIN at 201 says nothing lies beyond it: the queue goes */
	data_at(e, 1, 200, TF_FIN);
	cr_assert_eq(t_state(e), SL_TCP_CLOSE_WAIT);
	cr_assert_eq(c->ooo_cnt, 0);
	cr_assert_eq(e->segs_live, live, "the queued segment freed, the in-order one held");
	cr_assert_eq(e->app.rx_len, 200);
	t_drain(e);
	t_fini(e);
}

Test(tcp_ooo, memory_returned_on_reset_and_abort)
{
	struct tenv *e = t_new(NULL);

	open_sack(e);
	data_at(e, 101, 100, 0);
	data_at(e, 301, 100, 0);
	t_client(e, TF_RST, 1, 0, 0, 0, NULL, 0);
	cr_assert_eq(e->app.reset, 1);
	cr_assert_eq(e->segs_live, 0, "the out-of-order queue freed");
	t_drain(e);
	t_fini(e);
	e = t_new(NULL);
	open_sack(e);
	data_at(e, 101, 100, 0);
	sl_tcp_abort(t_lookup(e, &e->t), e->now);
	cr_assert_eq(e->segs_live, 0);
	t_drain(e);
	t_fini(e);
	/* and at shutdown */
	e = t_new(NULL);
	open_sack(e);
	data_at(e, 101, 100, 0);
	t_drain(e);
	t_fini(e);
}

Test(tcp_ooo, data_after_close_out_of_order_gets_rst)
{
	struct tenv *e = t_new(NULL);
	struct t_out o;

	open_sack(e);
	sl_tcp_close(t_lookup(e, &e->t), e->now);
	t_drain(e);
	data_at(e, 101, 100, 0);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_RST);
	cr_assert_eq(t_state(e), T_GONE);
	cr_assert_eq(t_stat(e, "ooo_segs"), 0);
	t_fini(e);
}

Test(tcp_ooo, out_of_order_beyond_the_window_is_trimmed)
{
	struct sl_tcp_params p = t_params();
	struct tenv *e;
	struct sl_tcp_conn *c;
	struct t_seg_spec syn = {
		.flags = TF_SYN, .seq = 1000, .wnd = 65535, .opts = t_opts_sack, .optlen = 12};
	struct t_out o;

	p.rcv_buf = 4096;
	e = t_new(&p);
	e->cli_isn = 1000;
	t_inject(e, &syn);
	o = t_pop_out(e);
	e->srv_iss = o.seq;
	t_client(e, TF_ACK, 1, 1, 0, 65535, NULL, 0);
	c = t_lookup(e, &e->t);
	e->app.hold = true;
	/* the window is 4096: [3001, 5001) keeps [3001, 4097) */
	data_at(e, 3001, 2000, 0);
	cr_assert_eq(c->ooo_bytes, 1096);
	t_drain(e);
	t_fini(e);
}
