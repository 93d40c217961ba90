/**
 * @file
 * RFC 9293's state diagram as a passive opener takes it, driven by segment vectors:
 * {description, input segment, expected state, expected output segments}. Inputs carry seq
 * relative to the client's ISN and ack relative to our ISS; outputs the other way round.
 * The client's ISN is 1000; with our defaults the window field after the handshake is
 * 262144 >> 7 = 2048, and 65535 in the SYN-ACK (RFC 7323 2.2: never scaled).
 */
#include <criterion/criterion.h>

#include "tcp-test.h"

#define ISN 1000u
#define W 2048 /* our window field once scaling is in effect */

/* clang-format off */
#define SYN_IN                                                                                     \
	{"SYN", T_IN, {.flags = TF_SYN, .seq = 0}, 0, SL_TCP_SYN_RCVD, 1,                          \
	 {{.flags = TF_SYN | TF_ACK, .seq = 0, .ack = 1, .wnd = 65535, .mss = 1460, .ws = 7}}}
#define ACK_IN                                                                                     \
	{"ACK of the SYN-ACK", T_IN, {.flags = TF_ACK, .seq = 1, .ack = 1}, 0, SL_TCP_ESTABLISHED, \
	 0, {{0}}}
/* clang-format on */

static struct tenv *
setup(void)
{
	struct tenv *e = t_new(NULL);

	e->cli_isn = ISN;
	return e;
}

Test(tcp_states, handshake)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		ACK_IN,
	};
	/* clang-format on */

	t_run(e, v, 2);
	cr_assert_eq(e->app.accepted, 1);
	cr_assert_eq(t_stat(e, "accepted"), 1);
	cr_assert_eq(t_stat(e, "syn_in"), 1);
	cr_assert_eq(e->st.stats.conns[SL_TCP_ESTABLISHED], 1);
	cr_assert_eq(e->st.stats.conns_peak[SL_TCP_SYN_RCVD], 1);
	cr_assert_eq(e->st.stats.conns[SL_TCP_SYN_RCVD], 0);
	cr_assert_eq(e->st.listeners[0].pending, 0);
	t_fini(e);
}

Test(tcp_states, handshake_ack_carries_data_and_fin)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		{"ACK + 5 bytes + FIN: established, data, close-wait",
		 T_IN, {.flags = TF_ACK | TF_FIN | TF_PSH, .seq = 1, .ack = 1, .len = 5},
		 0, SL_TCP_CLOSE_WAIT, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 7, .wnd = W}}},
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(e->app.accepted, 1);
	cr_assert_eq(e->app.rx_len, 5);
	cr_assert_eq(e->app.peer_closed, 1);
	t_fini(e);
}

Test(tcp_states, syn_rcvd_rst_returns_to_listen)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		{"RST at RCV.NXT: back to LISTEN, silently",
		 T_IN, {.flags = TF_RST, .seq = 1}, 0, T_GONE, 0,
		 {{0}}},
		{"the listener still answers",
		 T_IN, {.flags = TF_SYN, .seq = 5000}, 0, SL_TCP_SYN_RCVD, 1,
		 {{.flags = TF_SYN | TF_ACK, .seq = 0, .ack = 5001, .wnd = 65535}}},
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(e->app.accepted, 0);
	cr_assert_eq(e->app.reset, 0);
	cr_assert_eq(t_stat(e, "rst_in"), 1);
	cr_assert_eq(t_stat(e, "conn_reset"), 1);
	cr_assert_eq(e->st.listeners[0].pending, 1);
	t_fini(e);
}

Test(tcp_states, syn_rcvd_bad_ack_gets_rst)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		{"ACK of something else: <SEQ=SEG.ACK><CTL=RST>",
		 T_IN, {.flags = TF_ACK, .seq = 1, .ack = 77}, 0, SL_TCP_SYN_RCVD, 1,
		 {{.flags = TF_RST, .seq = 77}}},
		ACK_IN,
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(t_stat(e, "drop_bad_ack"), 1);
	t_fini(e);
}

Test(tcp_states, syn_rcvd_duplicate_syn_resends_syn_ack)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		{"the same SYN again: the SYN-ACK was lost",
		 T_IN, {.flags = TF_SYN, .seq = 0}, 0, SL_TCP_SYN_RCVD, 1,
		 {{.flags = TF_SYN | TF_ACK, .seq = 0, .ack = 1, .wnd = 65535, .mss = 1460,
		   .ws = 7}}},
		{"another SYN in the window: back to LISTEN",
		 T_IN, {.flags = TF_SYN, .seq = 10}, 0, T_GONE, 0,
		 {{0}}},
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(t_stat(e, "retransmits"), 1);
	cr_assert_eq(t_stat(e, "conn_aborted"), 1);
	t_fini(e);
}

Test(tcp_states, passive_close)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		ACK_IN,
		{"FIN: CLOSE_WAIT, ACK now",
		 T_IN, {.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1}, 0, SL_TCP_CLOSE_WAIT, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 2, .wnd = W}}},
		{"close: FIN, LAST_ACK", T_CLOSE, {0}, 0, SL_TCP_LAST_ACK, 1,
		 {{.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 2, .wnd = W}}},
		{"ACK of our FIN: CLOSED",
		 T_IN, {.flags = TF_ACK, .seq = 2, .ack = 2}, 0, T_GONE, 0,
		 {{0}}},
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(e->app.peer_closed, 1);
	cr_assert_eq(t_stat(e, "conn_closed"), 1);
	cr_assert_eq(e->st.stats.conns_peak[SL_TCP_LAST_ACK], 1);
	t_fini(e);
}

Test(tcp_states, passive_close_data_after_close_wait_is_ignored)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		ACK_IN,
		{"FIN",
		 T_IN, {.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1}, 0, SL_TCP_CLOSE_WAIT, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 2, .wnd = W}}},
		{"data beyond the FIN: ignored",
		 T_IN, {.flags = TF_ACK, .seq = 2, .ack = 1, .len = 3}, 0, SL_TCP_CLOSE_WAIT, 0,
		 {{0}}},
		{"the FIN again: old, ACKed",
		 T_IN, {.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1}, 0, SL_TCP_CLOSE_WAIT, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 2, .wnd = W}}},
		{"shutdown: LAST_ACK", T_SHUTDOWN, {0}, 0, SL_TCP_LAST_ACK, 1,
		 {{.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 2}}},
		{"ACK", T_IN, {.flags = TF_ACK, .seq = 2, .ack = 2}, 0, T_GONE, 0,
		 {{0}}},
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(e->app.rx_len, 0);
	/* shut down but never closed: the application still holds it (a zombie) */
	cr_assert_eq(e->conns_live, 1);
	cr_assert_eq(e->st.stats.conns[SL_TCP_CLOSED], 1);
	cr_assert_eq(sl_tcp_state(e->app.conn), SL_TCP_CLOSED);
	sl_tcp_close(e->app.conn, e->now);
	cr_assert_eq(e->conns_live, 0);
	t_fini(e);
}

Test(tcp_states, active_close_fin_wait_2_time_wait)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		ACK_IN,
		{"close: FIN_WAIT_1", T_CLOSE, {0}, 0, SL_TCP_FIN_WAIT_1, 1,
		 {{.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1, .wnd = W}}},
		{"ACK of the FIN: FIN_WAIT_2",
		 T_IN, {.flags = TF_ACK, .seq = 1, .ack = 2}, 0, SL_TCP_FIN_WAIT_2, 0,
		 {{0}}},
		{"peer FIN: TIME_WAIT",
		 T_IN, {.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 2}, 0, SL_TCP_TIME_WAIT, 1,
		 {{.flags = TF_ACK, .seq = 2, .ack = 2, .wnd = W}}},
		{"peer FIN again (our ACK was lost): ACK",
		 T_IN, {.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 2}, 0, SL_TCP_TIME_WAIT, 1,
		 {{.flags = TF_ACK, .seq = 2, .ack = 2, .wnd = W}}},
		{"1.999 s later: still TIME_WAIT", T_ADVANCE, {0}, 1999000, SL_TCP_TIME_WAIT, 0,
		 {{0}}},
		{"2 s after the last FIN: CLOSED", T_ADVANCE, {0}, 1000, T_GONE, 0,
		 {{0}}},
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(t_stat(e, "conn_closed"), 1);
	cr_assert_eq(e->st.stats.conns_peak[SL_TCP_TIME_WAIT], 1);
	t_fini(e);
}

Test(tcp_states, fin_wait_1_closing_time_wait)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		ACK_IN,
		{"close", T_CLOSE, {0}, 0, SL_TCP_FIN_WAIT_1, 1,
		 {{.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1}}},
		{"simultaneous close: their FIN, our FIN not acked: CLOSING",
		 T_IN, {.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1}, 0, SL_TCP_CLOSING, 1,
		 {{.flags = TF_ACK, .seq = 2, .ack = 2, .wnd = W}}},
		{"ACK of our FIN: TIME_WAIT",
		 T_IN, {.flags = TF_ACK, .seq = 2, .ack = 2}, 0, SL_TCP_TIME_WAIT, 0,
		 {{0}}},
		{"2 s: CLOSED", T_ADVANCE, {0}, 2000000, T_GONE, 0,
		 {{0}}},
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	t_fini(e);
}

Test(tcp_states, fin_wait_1_fin_ack_to_time_wait)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		ACK_IN,
		{"close", T_CLOSE, {0}, 0, SL_TCP_FIN_WAIT_1, 1,
		 {{.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1}}},
		{"FIN+ACK of our FIN: TIME_WAIT at once",
		 T_IN, {.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 2}, 0, SL_TCP_TIME_WAIT, 1,
		 {{.flags = TF_ACK, .seq = 2, .ack = 2, .wnd = W}}},
		{"2 s: CLOSED", T_ADVANCE, {0}, 2000000, T_GONE, 0,
		 {{0}}},
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	t_fini(e);
}

Test(tcp_states, fin_wait_2_timeout_after_close)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		ACK_IN,
		{"close", T_CLOSE, {0}, 0, SL_TCP_FIN_WAIT_1, 1,
		 {{.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1}}},
		{"ACK: FIN_WAIT_2",
		 T_IN, {.flags = TF_ACK, .seq = 1, .ack = 2}, 0, SL_TCP_FIN_WAIT_2, 0,
		 {{0}}},
		{"59.999 s", T_ADVANCE, {0}, 59999000, SL_TCP_FIN_WAIT_2, 0,
		 {{0}}},
		{"60 s: given up", T_ADVANCE, {0}, 1000, T_GONE, 0,
		 {{0}}},
		{"data afterwards: RST (no connection)",
		 T_IN, {.flags = TF_ACK, .seq = 1, .ack = 2, .len = 1}, 0, T_GONE, 1,
		 {{.flags = TF_RST, .seq = 2}}},
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	t_fini(e);
}

Test(tcp_states, half_close_keeps_receiving)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		ACK_IN,
		{"shutdown: FIN_WAIT_1", T_SHUTDOWN, {0}, 0, SL_TCP_FIN_WAIT_1, 1,
		 {{.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1}}},
		{"ACK: FIN_WAIT_2",
		 T_IN, {.flags = TF_ACK, .seq = 1, .ack = 2}, 0, SL_TCP_FIN_WAIT_2, 0,
		 {{0}}},
		{"data in FIN_WAIT_2 is delivered",
		 T_IN, {.flags = TF_ACK | TF_PSH, .seq = 1, .ack = 2, .len = 10},
		 0, SL_TCP_FIN_WAIT_2, 0,
		 {{0}}},
		{"no FIN_WAIT_2 timeout while the app holds it",
		 T_ADVANCE, {0}, 61000000, SL_TCP_FIN_WAIT_2, 1,
		 {{.flags = TF_ACK, .seq = 2, .ack = 11}}},
		{"FIN: TIME_WAIT",
		 T_IN, {.flags = TF_FIN | TF_ACK, .seq = 11, .ack = 2}, 0, SL_TCP_TIME_WAIT, 1,
		 {{.flags = TF_ACK, .seq = 2, .ack = 12}}},
		{"close in TIME_WAIT", T_CLOSE, {0}, 0, SL_TCP_TIME_WAIT, 0,
		 {{0}}},
		{"2 s", T_ADVANCE, {0}, 2000000, T_GONE, 0,
		 {{0}}},
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(e->app.rx_len, 10);
	cr_assert_eq(e->app.peer_closed, 1);
	t_fini(e);
}

Test(tcp_states, data_after_close_gets_rst)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		ACK_IN,
		{"close", T_CLOSE, {0}, 0, SL_TCP_FIN_WAIT_1, 1,
		 {{.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1}}},
		{"data for the closed connection: RST (RFC 9293 3.10.4)",
		 T_IN, {.flags = TF_ACK, .seq = 1, .ack = 2, .len = 4}, 0, T_GONE, 1,
		 {{.flags = TF_RST, .seq = 2}}},
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(t_stat(e, "conn_aborted"), 1);
	cr_assert_eq(t_stat(e, "rst_out"), 1);
	t_fini(e);
}

Test(tcp_states, abort_sends_rst)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		ACK_IN,
		{"abort", T_ABORT, {0}, 0, T_GONE, 1,
		 {{.flags = TF_RST, .seq = 1}}},
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(t_stat(e, "conn_aborted"), 1);
	cr_assert_eq(e->app.reset, 0, "no callback after abort");
	t_fini(e);
}

Test(tcp_states, refused_by_the_app)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		{"ACK; the app refuses: RST",
		 T_IN, {.flags = TF_ACK, .seq = 1, .ack = 1}, 0, T_GONE, 1,
		 {{.flags = TF_RST, .seq = 1}}},
	};
	/* clang-format on */

	e->app.refuse = -ECONNREFUSED;
	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(e->app.accepted, 1);
	cr_assert_eq(t_stat(e, "accepted"), 0);
	cr_assert_eq(t_stat(e, "conn_aborted"), 1);
	t_fini(e);
}

/* ---- RST in every synchronized state ---- */

struct rst_case {
	const char *name;
	const struct t_step *prefix;
	size_t n_prefix;
	int64_t rcv_nxt; /* relative */
	int state;
	bool reset_cb;
	const char *counter;
};

/* clang-format off */
static const struct t_step to_established[] = {
	SYN_IN,
	ACK_IN,
};
static const struct t_step to_fin_wait_1[] = {
	SYN_IN,
	ACK_IN,
	{"shutdown", T_SHUTDOWN, {0}, 0, SL_TCP_FIN_WAIT_1, 1,
	 {{.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1}}},
};
static const struct t_step to_fin_wait_2[] = {
	SYN_IN,
	ACK_IN,
	{"shutdown", T_SHUTDOWN, {0}, 0, SL_TCP_FIN_WAIT_1, 1,
	 {{.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1}}},
	{"ACK", T_IN, {.flags = TF_ACK, .seq = 1, .ack = 2}, 0, SL_TCP_FIN_WAIT_2, 0,
	 {{0}}},
};
static const struct t_step to_close_wait[] = {
	SYN_IN,
	ACK_IN,
	{"FIN", T_IN, {.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1}, 0, SL_TCP_CLOSE_WAIT, 1,
	 {{.flags = TF_ACK, .seq = 1, .ack = 2}}},
};
static const struct t_step to_closing[] = {
	SYN_IN,
	ACK_IN,
	{"shutdown", T_SHUTDOWN, {0}, 0, SL_TCP_FIN_WAIT_1, 1,
	 {{.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1}}},
	{"FIN", T_IN, {.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1}, 0, SL_TCP_CLOSING, 1,
	 {{.flags = TF_ACK, .seq = 2, .ack = 2}}},
};
static const struct t_step to_last_ack[] = {
	SYN_IN,
	ACK_IN,
	{"FIN", T_IN, {.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1}, 0, SL_TCP_CLOSE_WAIT, 1,
	 {{.flags = TF_ACK, .seq = 1, .ack = 2}}},
	{"shutdown", T_SHUTDOWN, {0}, 0, SL_TCP_LAST_ACK, 1,
	 {{.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 2}}},
};
static const struct t_step to_time_wait[] = {
	SYN_IN,
	ACK_IN,
	{"shutdown", T_SHUTDOWN, {0}, 0, SL_TCP_FIN_WAIT_1, 1,
	 {{.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1}}},
	{"FIN+ACK", T_IN, {.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 2}, 0, SL_TCP_TIME_WAIT, 1,
	 {{.flags = TF_ACK, .seq = 2, .ack = 2}}},
};
/* clang-format on */

static const struct rst_case rst_cases[] = {
	{"ESTABLISHED", to_established, SL_ARRAY_SIZE(to_established), 1, SL_TCP_ESTABLISHED, true,
	 "conn_reset"},
	{"FIN_WAIT_1", to_fin_wait_1, SL_ARRAY_SIZE(to_fin_wait_1), 1, SL_TCP_FIN_WAIT_1, true,
	 "conn_reset"},
	{"FIN_WAIT_2", to_fin_wait_2, SL_ARRAY_SIZE(to_fin_wait_2), 1, SL_TCP_FIN_WAIT_2, true,
	 "conn_reset"},
	{"CLOSE_WAIT", to_close_wait, SL_ARRAY_SIZE(to_close_wait), 2, SL_TCP_CLOSE_WAIT, true,
	 "conn_reset"},
	{"CLOSING", to_closing, SL_ARRAY_SIZE(to_closing), 2, SL_TCP_CLOSING, true, "conn_reset"},
	{"LAST_ACK", to_last_ack, SL_ARRAY_SIZE(to_last_ack), 2, SL_TCP_LAST_ACK, true,
	 "conn_reset"},
	{"TIME_WAIT", to_time_wait, SL_ARRAY_SIZE(to_time_wait), 2, SL_TCP_TIME_WAIT, false,
	 "conn_closed"},
};

Test(tcp_states, rst_in_every_synchronized_state)
{
	size_t i;

	for (i = 0; i < SL_ARRAY_SIZE(rst_cases); i++) {
		const struct rst_case *rc = &rst_cases[i];
		struct tenv *e = setup();
		/* clang-format off */
		struct t_step v[] = {
			{"RST out of the window: ignored",
			 T_IN, {.flags = TF_RST, .seq = rc->rcv_nxt + 300000}, 0, rc->state, 0,
			 {{0}}},
			{"RST in the window, not at RCV.NXT: challenge ACK",
			 T_IN, {.flags = TF_RST, .seq = rc->rcv_nxt + 10}, 0, rc->state, 1,
			 {{.flags = TF_ACK, .seq = T_ANY, .ack = rc->rcv_nxt, .wnd = T_ANY}}},
			{"RST at RCV.NXT: closed",
			 T_IN, {.flags = TF_RST, .seq = rc->rcv_nxt}, 0, T_GONE, 0,
			 {{0}}},
		};
		/* clang-format on */

		cr_log_info("RST in %s", rc->name);
		t_run(e, rc->prefix, rc->n_prefix);
		cr_assert_eq(t_state(e), rc->state);
		/* the challenge ACK's seq is SND.NXT: 1, or 2 after our FIN */
		v[1].out[0].seq =
			(rc->state == SL_TCP_ESTABLISHED || rc->state == SL_TCP_CLOSE_WAIT) ? 1 : 2;
		t_run(e, v, SL_ARRAY_SIZE(v));
		cr_assert_eq(e->app.reset, rc->reset_cb ? 1u : 0u, "%s: reset callbacks", rc->name);
		cr_assert_eq(t_stat(e, rc->counter), 1, "%s: %s", rc->name, rc->counter);
		cr_assert_eq(t_stat(e, "rst_in"), 3);
		cr_assert_eq(t_stat(e, "drop_out_of_window"), 2);
		cr_assert_eq(e->st.stats.conns[rc->state], 0);
		if (!rc->reset_cb) {
			/* TIME_WAIT had ended normally: the app, which only shut down, closes */
			cr_assert_eq(e->conns_live, 1);
			sl_tcp_close(e->app.conn, e->now);
		}
		t_fini(e);
	}
}

Test(tcp_states, syn_in_window_gets_challenge_ack)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		ACK_IN,
		{"SYN in the window: challenge ACK (RFC 5961 4.2), not a RST",
		 T_IN, {.flags = TF_SYN, .seq = 100}, 0, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 1, .wnd = W}}},
		{"SYN at RCV.NXT: the same",
		 T_IN, {.flags = TF_SYN, .seq = 1}, 0, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 1, .wnd = W}}},
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(e->app.reset, 0);
	cr_assert_eq(t_stat(e, "challenge_acks"), 2);
	cr_assert_eq(t_stat(e, "drop_out_of_window"), 2);
	cr_assert_eq(t_stat(e, "conn_aborted"), 0);
	t_fini(e);
}

Test(tcp_states, syn_ack_in_window_gets_challenge_ack)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		ACK_IN,
		{"SYN+ACK in the window: challenge ACK",
		 T_IN, {.flags = TF_SYN | TF_ACK, .seq = 50, .ack = 1}, 0, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 1, .wnd = W}}},
		{"the real peer's next segment still goes",
		 T_IN, {.flags = TF_ACK, .seq = 1, .ack = 1, .len = 10}, 0, SL_TCP_ESTABLISHED, 0,
		 {{0}}},
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(e->app.rx_len, 10);
	t_drain(e);
	t_fini(e);
}

Test(tcp_states, syn_out_of_window_gets_ack)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		ACK_IN,
		{"old SYN (retransmitted handshake): unacceptable, ACK",
		 T_IN, {.flags = TF_SYN, .seq = 0}, 0, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 1, .wnd = W}}},
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(t_stat(e, "drop_out_of_window"), 1);
	t_fini(e);
}

Test(tcp_states, unacceptable_segments_get_ack)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		{"SYN_RCVD: data far beyond the window: ACK",
		 T_IN, {.flags = TF_ACK, .seq = 1 + 70000, .ack = 1, .len = 10},
		 0, SL_TCP_SYN_RCVD, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 1, .wnd = T_ANY}}},
		ACK_IN,
		{"old duplicate data: ACK",
		 T_IN, {.flags = TF_ACK, .seq = -100, .ack = 1, .len = 50},
		 0, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 1, .wnd = W}}},
		{"beyond the window: ACK",
		 T_IN, {.flags = TF_ACK, .seq = 1 + 262144, .ack = 1, .len = 1},
		 0, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 1, .wnd = W}}},
		{"pure ACK with an old seq: ACK",
		 T_IN, {.flags = TF_ACK, .seq = -5, .ack = 1}, 0, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 1, .wnd = W}}},
		{"ACK of data never sent: ACK, dropped",
		 T_IN, {.flags = TF_ACK, .seq = 1, .ack = 500}, 0, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 1, .wnd = W}}},
		{"no ACK bit: dropped",
		 T_IN, {.flags = TF_PSH, .seq = 1, .len = 3}, 0, SL_TCP_ESTABLISHED, 0,
		 {{0}}},
		{"out of order: ACK at once, queued",
		 T_IN, {.flags = TF_ACK, .seq = 101, .ack = 1, .len = 20}, 0, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 1, .wnd = W}}},
		{"partly old: trimmed, the new part delivered; it fills part of the gap: ACK now",
		 T_IN, {.flags = TF_ACK, .seq = -9, .ack = 1, .len = 20}, 0, SL_TCP_ESTABLISHED, 1,
		 {{.flags = TF_ACK, .seq = 1, .ack = 11, .wnd = T_ANY}}},
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(t_stat(e, "drop_out_of_window"), 4);
	cr_assert_eq(t_stat(e, "drop_bad_ack"), 1);
	cr_assert_eq(t_stat(e, "drop_bad_hdr"), 1);
	cr_assert_eq(t_stat(e, "drop_out_of_order"), 0);
	cr_assert_eq(t_stat(e, "ooo_segs"), 1);
	cr_assert_eq(t_stat(e, "challenge_acks"), 1, "the ACK of data never sent");
	cr_assert_eq(e->app.rx_len, 10, "the 10 new bytes of the partly old segment");
	cr_assert_eq(t_stat(e, "bytes_in"), 10);
	t_fini(e);
}

/* ---- no connection, no listener (RFC 9293 3.10.7.1, 3.10.7.2) ---- */

Test(tcp_states, no_listener_rst_forms)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		{"ACK to a closed port: <SEQ=SEG.ACK><CTL=RST>",
		 T_IN, {.flags = TF_ACK, .seq = 1000, .ack = 5000, .abs = true}, 0, T_GONE, 1,
		 {{.flags = TF_RST, .seq = 5000, .abs = true}}},
		{"SYN to a closed port: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>",
		 T_IN, {.flags = TF_SYN, .seq = 1000, .abs = true}, 0, T_GONE, 1,
		 {{.flags = TF_RST | TF_ACK, .seq = 0, .ack = 1001, .abs = true}}},
		{"data+FIN without ACK: SEG.LEN counts the FIN",
		 T_IN, {.flags = TF_FIN, .seq = 0xfffffffa, .len = 10, .abs = true}, 0, T_GONE, 1,
		 {{.flags = TF_RST | TF_ACK, .seq = 0, .ack = 5, .abs = true}}},
		{"RST: never answered",
		 T_IN, {.flags = TF_RST, .seq = 1, .abs = true}, 0, T_GONE, 0,
		 {{0}}},
		{"RST+ACK: never answered",
		 T_IN, {.flags = TF_RST | TF_ACK, .seq = 1, .ack = 9, .abs = true}, 0, T_GONE, 0,
		 {{0}}},
	};
	/* clang-format on */

	e->t.lport = 9; /* nobody listens */
	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(t_stat(e, "drop_no_listener"), 5);
	cr_assert_eq(t_stat(e, "rst_out"), 3);
	t_fini(e);
}

Test(tcp_states, listener_without_connection)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		{"ACK to a listener: <SEQ=SEG.ACK><CTL=RST>",
		 T_IN, {.flags = TF_ACK, .seq = 1000, .ack = 5000, .abs = true}, 0, T_GONE, 1,
		 {{.flags = TF_RST, .seq = 5000, .abs = true}}},
		{"SYN+ACK to a listener: RST as for an ACK",
		 T_IN, {.flags = TF_SYN | TF_ACK, .seq = 1000, .ack = 77, .abs = true},
		 0, T_GONE, 1,
		 {{.flags = TF_RST, .seq = 77, .abs = true}}},
		{"RST to a listener: ignored",
		 T_IN, {.flags = TF_RST, .seq = 1, .abs = true}, 0, T_GONE, 0,
		 {{0}}},
		{"data without ACK to a listener: dropped",
		 T_IN, {.flags = TF_PSH, .seq = 1, .len = 5, .abs = true}, 0, T_GONE, 0,
		 {{0}}},
	};
	/* clang-format on */

	t_run(e, v, SL_ARRAY_SIZE(v));
	cr_assert_eq(t_stat(e, "drop_no_listener"), 4);
	t_fini(e);
}

Test(tcp_states, time_wait_reopened_by_a_new_syn)
{
	struct tenv *e = setup();
	/* clang-format off */
	static const struct t_step v[] = {
		SYN_IN,
		ACK_IN,
		{"close", T_CLOSE, {0}, 0, SL_TCP_FIN_WAIT_1, 1,
		 {{.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 1}}},
		{"FIN+ACK",
		 T_IN, {.flags = TF_FIN | TF_ACK, .seq = 1, .ack = 2}, 0, SL_TCP_TIME_WAIT, 1,
		 {{.flags = TF_ACK, .seq = 2, .ack = 2}}},
		{"an old SYN (below RCV.NXT): just ACKed",
		 T_IN, {.flags = TF_SYN, .seq = 0}, 0, SL_TCP_TIME_WAIT, 1,
		 {{.flags = TF_ACK, .seq = 2, .ack = 2}}},
		{"a new SYN beyond RCV.NXT: a new connection",
		 T_IN, {.flags = TF_SYN, .seq = 100000}, 0, SL_TCP_SYN_RCVD, 1,
		 {{.flags = TF_SYN | TF_ACK, .seq = T_ANY, .ack = 100001}}},
	};
	/* clang-format on */
	struct sl_tcp_conn *c;

	t_run(e, v, SL_ARRAY_SIZE(v));
	c = t_lookup(e, &e->t);
	cr_assert_not_null(c);
	/* RFC 1122 4.2.2.13 (1): the new ISS above the old SND.NXT (our ISS + 2) */
	cr_assert(sl_seq_gt(c->iss, (struct sl_tcp_seq){e->srv_iss + 2}));
	cr_assert_eq(t_stat(e, "conn_closed"), 1);
	cr_assert_eq(e->st.stats.conns[SL_TCP_TIME_WAIT], 0);
	t_fini(e);
}
