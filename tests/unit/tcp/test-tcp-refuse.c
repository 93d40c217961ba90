/**
 * @file
 * sl_tcp_refuse(): while on, a SYN to a listener is answered as for a closed port (RFC 9293
 * 3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>) and counted in syn_refused_draining;
 * no connection and no SYN cookie is made. Connections that exist carry on, and a handshake
 * already answered completes. Off again, SYNs are taken as before.
 */
#include <criterion/criterion.h>

#include "tcp-test.h"

#define ISN 1000u

/* A SYN from port <rport> with ISN <isn>. */
static void
syn_from(struct tenv *e, uint16_t rport, uint32_t isn)
{
	struct sl_tcp_tuple t = e->t;
	struct t_seg_spec syn = {.flags = TF_SYN,
				 .seq = isn,
				 .wnd = 65535,
				 .opts = t_opts_linux,
				 .optlen = sizeof(t_opts_linux)};

	t.rport = rport;
	t_inject_t(e, &t, &syn);
}

/* Pop the refusal of a SYN with ISN <isn> from port <rport>. */
static void
expect_refused(struct tenv *e, uint16_t rport, uint32_t isn)
{
	struct t_out o = t_pop_out(e);

	cr_assert_eq(o.flags, TF_RST | TF_ACK, "flags %#x: RST,ACK as for a closed port", o.flags);
	cr_assert_eq(o.seq, 0);
	cr_assert_eq(o.ack, isn + 1);
	cr_assert_eq(o.sport, e->t.lport);
	cr_assert_eq(o.dport, rport);
	cr_assert_eq(o.len, 0);
	cr_assert(o.csum_ok);
}

Test(tcp_refuse, syn_gets_rst_existing_connection_carries_on)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_tuple t = e->t;
	long conns;

	t_handshake(e, ISN, t_opts_mss1460_ws7, sizeof(t_opts_mss1460_ws7));
	cr_assert(!sl_tcp_refusing(&e->st));
	sl_tcp_refuse(&e->st, true);
	cr_assert(sl_tcp_refusing(&e->st));
	conns = e->conns_live;

	syn_from(e, 5000, 777);
	expect_refused(e, 5000, 777);
	cr_assert_eq(e->n_cap, 0);
	t.rport = 5000;
	cr_assert_null(t_lookup(e, &t), "no connection for a refused SYN");
	cr_assert_eq(e->conns_live, conns);
	cr_assert_eq(e->st.listeners[0].pending, 0);
	cr_assert_eq(t_stat(e, "syn_refused_draining"), 1);
	cr_assert_eq(t_stat(e, "rst_out"), 1);
	cr_assert_eq(t_stat(e, "drop_no_listener"), 0);
	cr_assert_eq(t_stat(e, "syncookies_sent"), 0);
	cr_assert_eq(e->app.accepted, 1);

	/* the connection made before: data both ways, then its close, as ever */
	t_client(e, TF_ACK | TF_PSH, 1, 1, 100, 65535, NULL, 0);
	cr_assert_eq(e->app.rx_len, 100);
	t_drain(e); /* its ACK, now or delayed */
	t_app_send(e, 300, NULL);
	t_expect(e, TF_ACK | TF_PSH, 1, 300);
	t_drain(e);
	t_client(e, TF_ACK | TF_FIN, 101, 301, 0, 65535, NULL, 0);
	cr_assert_eq(e->app.peer_closed, 1);
	cr_assert_eq(t_state(e), SL_TCP_CLOSE_WAIT);
	t_drain(e);

	/* a SYN with data: SEG.LEN counts it */
	{
		struct t_seg_spec syn = {.flags = TF_SYN, .seq = 9000, .wnd = 65535, .len = 20};
		struct t_out o;

		t.rport = 5001;
		t_inject_t(e, &t, &syn);
		o = t_pop_out(e);
		cr_assert_eq(o.flags, TF_RST | TF_ACK);
		cr_assert_eq(o.ack, 9000 + 1 + 20);
	}
	cr_assert_eq(t_stat(e, "syn_refused_draining"), 2);

	/* off: taken again */
	sl_tcp_refuse(&e->st, false);
	syn_from(e, 5002, 333);
	cr_assert_eq(t_pop_out(e).flags, TF_SYN | TF_ACK);
	t.rport = 5002;
	cr_assert_not_null(t_lookup(e, &t));
	cr_assert_eq(t_stat(e, "syn_refused_draining"), 2);
	t_drain(e);
	t_fini(e);
}

Test(tcp_refuse, other_segments_as_before)
{
	struct tenv *e = t_new(NULL);
	struct t_seg_spec ack = {.flags = TF_ACK, .seq = 5, .ack = 77, .wnd = 65535};
	struct t_seg_spec rst = {.flags = TF_RST, .seq = 5, .wnd = 65535};
	struct t_seg_spec synack = {.flags = TF_SYN | TF_ACK, .seq = 5, .ack = 77, .wnd = 65535};
	struct t_out o;

	sl_tcp_refuse(&e->st, true);
	t_inject(e, &ack);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_RST, "a stray ACK: <SEQ=SEG.ACK><CTL=RST>");
	cr_assert_eq(o.seq, 77);
	t_inject(e, &rst);
	cr_assert_eq(e->n_cap, 0, "never a RST for a RST");
	t_inject(e, &synack);
	cr_assert_eq(t_pop_out(e).flags, TF_RST);
	cr_assert_eq(t_stat(e, "syn_refused_draining"), 0, "only SYNs are counted");
	cr_assert_eq(t_stat(e, "drop_no_listener"), 3);
	/* a port nobody listens on: as ever (drop_no_listener, not a refusal) */
	e->t.lport = 9;
	syn_from(e, T_CLI_PORT, 44);
	expect_refused(e, T_CLI_PORT, 44);
	cr_assert_eq(t_stat(e, "syn_refused_draining"), 0);
	cr_assert_eq(t_stat(e, "drop_no_listener"), 4);
	t_fini(e);
}

Test(tcp_refuse, no_syn_cookie_when_the_backlog_is_full)
{
	struct tenv *e = t_new(NULL);
	unsigned int i;

	for (i = 0; i < 16; i++)
		syn_from(e, (uint16_t)(1000 + i), 1);
	cr_assert_eq(e->st.listeners[0].pending, 16);
	t_drain(e);
	syn_from(e, 2000, ISN);
	cr_assert_eq(t_pop_out(e).flags, TF_SYN | TF_ACK, "a cookie before");
	cr_assert_eq(t_stat(e, "syncookies_sent"), 1);

	sl_tcp_refuse(&e->st, true);
	syn_from(e, 2001, ISN);
	expect_refused(e, 2001, ISN);
	cr_assert_eq(t_stat(e, "syncookies_sent"), 1, "no cookie while refusing");
	cr_assert_eq(t_stat(e, "drop_backlog"), 0);
	cr_assert_eq(t_stat(e, "syn_refused_draining"), 1);
	t_fini(e);
}

Test(tcp_refuse, answered_handshakes_complete)
{
	struct tenv *e = t_new(NULL);
	struct t_seg_spec syn = {.flags = TF_SYN, .seq = ISN, .wnd = 65535};
	struct t_seg_spec ack = {.flags = TF_ACK, .seq = ISN + 1, .wnd = 65535};
	struct t_out o;

	e->cli_isn = ISN;
	t_inject(e, &syn);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_SYN | TF_ACK);
	cr_assert_eq(t_state(e), SL_TCP_SYN_RCVD);

	sl_tcp_refuse(&e->st, true);
	/* the SYN again (its SYN-ACK lost): the SYN-ACK again, not a refusal */
	t_inject(e, &syn);
	cr_assert_eq(t_pop_out(e).flags, TF_SYN | TF_ACK);
	ack.ack = o.seq + 1;
	t_inject(e, &ack);
	cr_assert_eq(t_state(e), SL_TCP_ESTABLISHED);
	cr_assert_eq(e->app.accepted, 1);
	cr_assert_eq(t_stat(e, "syn_refused_draining"), 0);
	t_drain(e);
	t_fini(e);
}

Test(tcp_refuse, time_wait_not_reopened)
{
	struct tenv *e = t_new(NULL);
	struct sl_tcp_conn *c = t_handshake(e, ISN, NULL, 0);
	struct t_seg_spec syn = {.flags = TF_SYN, .seq = ISN + 100000, .wnd = 65535};
	struct t_out o;

	sl_tcp_close(c, e->now);
	t_expect(e, TF_FIN | TF_ACK, 1, 0);
	t_client(e, TF_FIN | TF_ACK, 1, 2, 0, 65535, NULL, 0);
	t_expect(e, TF_ACK, 2, 0);
	cr_assert_eq(t_state(e), SL_TCP_TIME_WAIT);

	sl_tcp_refuse(&e->st, true);
	t_inject(e, &syn);
	o = t_pop_out(e);
	cr_assert_eq(o.flags, TF_RST | TF_ACK, "a new SYN on a TIME_WAIT tuple is refused too");
	cr_assert_eq(o.seq, 0);
	cr_assert_eq(o.ack, ISN + 100001);
	cr_assert_eq(t_state(e), T_GONE);
	cr_assert_eq(t_stat(e, "conn_closed"), 1);
	cr_assert_eq(t_stat(e, "syn_refused_draining"), 1);
	t_fini(e);
}
