/**
 * @file
 * The stack, its listeners and the life of a connection: initial sequence numbers and SYN
 * cookies, state accounting, the active open, the end of a connection, and the
 * application's calls (send, consumed, shutdown, close, abort).
 *
 * A connection ends once (sl_tcp__end()): it enters CLOSED, leaves the environment's table,
 * drops its timers, send queue and out-of-order queue, and is counted in exactly one of
 * conn_closed, conn_reset, conn_timeout, conn_aborted (sl_tcp_conn_release() at shutdown counts
 * nothing). Its memory goes back to the environment at once, or when sl_tcp_input() for it returns
 * (busy), or, when it closed normally while the application still holds it, at sl_tcp_close().
 */
#include "tcp-priv.h"

const char *const sl_tcp_state_names[SL_TCP_NSTATES] = {
	[SL_TCP_CLOSED] = "CLOSED",	      [SL_TCP_LISTEN] = "LISTEN",
	[SL_TCP_SYN_SENT] = "SYN_SENT",	      [SL_TCP_SYN_RCVD] = "SYN_RCVD",
	[SL_TCP_ESTABLISHED] = "ESTABLISHED", [SL_TCP_FIN_WAIT_1] = "FIN_WAIT_1",
	[SL_TCP_FIN_WAIT_2] = "FIN_WAIT_2",   [SL_TCP_CLOSING] = "CLOSING",
	[SL_TCP_TIME_WAIT] = "TIME_WAIT",     [SL_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[SL_TCP_LAST_ACK] = "LAST_ACK",
};

const char *const sl_tcp_stats_names[] = {
#define SL_TCP_STATS_NAME(n) #n,
	SL_TCP_STATS(SL_TCP_STATS_NAME)
#undef SL_TCP_STATS_NAME
};

_Static_assert(sizeof(sl_tcp_stats_names) / sizeof(sl_tcp_stats_names[0]) == SL_TCP_STATS_COUNT,
	       "one name per counter");
_Static_assert(sizeof(void *) != 8 || sizeof(struct sl_tcp_seg) == 32,
	       "the seq of struct sl_tcp_seg fills padding: the mbuf private area keeps its size");
_Static_assert(sizeof(void *) != 8 || sizeof(struct sl_tcp_timer) == 24,
	       "a timer's kind shares the word of its expiry");
_Static_assert(sizeof(void *) != 8 || sizeof(struct sl_tcp_conn) <= 320,
	       "an idle connection stays small: 312 bytes (the data plane's cap is 512)");

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t
rotl64(uint64_t x, unsigned int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3)                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = rotl64(v1, 13);                                                               \
		v1 ^= v0;                                                                          \
		v0 = rotl64(v0, 32);                                                               \
		v2 += v3;                                                                          \
		v3 = rotl64(v3, 16);                                                               \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = rotl64(v3, 21);                                                               \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = rotl64(v1, 17);                                                               \
		v1 ^= v2;                                                                          \
		v2 = rotl64(v2, 32);                                                               \
	} while (0)

/* SipHash-2-4 of the <n> 64-bit words at <m> (the callers put a length or a domain in the
 * top byte of one of them). */
static uint64_t
siphash24(const uint64_t k[2], const uint64_t *m, unsigned int n)
{
	uint64_t v0 = k[0] ^ 0x736f6d6570736575ull, v1 = k[1] ^ 0x646f72616e646f6dull;
	uint64_t v2 = k[0] ^ 0x6c7967656e657261ull, v3 = k[1] ^ 0x7465646279746573ull;
	unsigned int i;

	for (i = 0; i < n; i++) {
		v3 ^= m[i];
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m[i];
	}
	v2 ^= 0xff;
	for (i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/*
 * sl_tcp__iss(<st>, <t>): RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), M a timer ticking every 4 microseconds, F a keyed hash (SipHash-2-4) that
 * cannot be computed from outside.
 */
struct sl_tcp_seq
sl_tcp__iss(const struct sl_tcp_stack *st, const struct sl_tcp_tuple *t)
{
	const uint64_t m[2] = {(uint64_t)t->laddr.v << 32 | t->raddr.v,
			       12ull << 56 | (uint64_t)t->lport << 16 | t->rport};
	struct sl_tcp_seq s = {(uint32_t)siphash24(st->iss_key, m, 2) +
			       (uint32_t)(st->now_us >> 2)};

	return s;
}

/* ---- SYN cookies ----
 *
 * SYN cookies (RFC 4987 3.6), as Linux makes them (net/ipv4/syncookies.c): when a listen
 * backlog is full, the SYN is answered with a SYN-ACK whose ISS encodes what the connection
 * needs, and nothing is kept; the returning ACK (SEG.ACK - 1 the cookie, SEG.SEQ - 1 the
 * peer's ISN) is checked and the connection made from it.
 *
 * The cookie, for the 4-tuple T, the peer's ISN S and the 64-second period P:
 *
 *   cookie = H1(T) + S + (P << 24) + ((H2(T, P, S) + (data << 21)) mod 2^24)
 *
 * H1 and H2 are SipHash-2-4 with the stack's cookie key (the ISN's function, RFC 6528,
 * another key), apart by a domain byte. The top 8 bits give the period back; the cookie is
 * valid in the period it was made and the next (64 to 128 s), and only if the low 24 bits
 * less H2 are data << 21: 21 bits must be zero (a guess passes one time in 2^21, and an ACK
 * or ISN off by a little never; Linux adds the data in the low bits and S outside the hash,
 * so there an ISN off by one can pass with the MSS index one off).
 *
 *   data = MSS index (2 bits: 536, 1300, 1440, 1460, the largest not above the peer's MSS;
 *          536 also for a peer that announced less, as Linux)
 *        | timestamps were agreed (bit 2)
 *
 * With timestamps the peer echoes our TSval in every segment's TSecr, so its low 6 bits
 * carry the rest (Linux's cookie_init_timestamp()): the peer's window scale (4 bits, 15:
 * none) and SACK-permitted (bit 4); the TSval is our clock with those bits replaced, never
 * ahead of it. Without timestamps there is no room for them: the cookie SYN-ACK offers only
 * MSS (no window scale, no SACK), so both sides go without, as with Linux.
 *
 * What is lost against a SYN_RCVD connection: the MSS is rounded down to the table, data on
 * the SYN is not acknowledged (the peer sends it again, as without cookies), the SYN-ACK is
 * not retransmitted (a lost one leaves the peer retrying its SYN), the handshake gives no
 * RTT sample, and an ACK lost on the way leaves the peer's first data segment to make the
 * connection (it works: only its SEQ and ACK fields are used, and they are the same).
 */

#define COOKIE_PERIOD_US 64000000ull /* 64 s: Linux's tcp_cookie_time() counts minutes */
#define COOKIE_BITS 24
#define COOKIE_MASK ((1u << COOKIE_BITS) - 1)
#define COOKIE_AGE_MAX 2     /* periods a cookie stays valid: its own and the next */
#define COOKIE_DATA_SHIFT 21 /* data in the top 3 of the 24 hashed bits */
#define COOKIE_DATA_TS 0x4
#define TSOPT_BITS 6 /* TSval bits carrying options */
#define TSOPT_MASK ((1u << TSOPT_BITS) - 1)
#define TSOPT_WS_MASK 0xf
#define TSOPT_WS_NONE 0xf
#define TSOPT_SACK 0x10

/* MSS values a cookie can carry (Linux's msstab for IPv4). */
static const uint16_t cookie_mss[] = {536, 1300, 1440, 1460};

_Static_assert(SL_ARRAY_SIZE(cookie_mss) == COOKIE_DATA_TS, "two bits of MSS index");

static uint32_t
cookie_period(const struct sl_tcp_stack *st)
{
	return (uint32_t)(st->now_us / COOKIE_PERIOD_US);
}

/* H1(<t>) (<which> 1) and H2(<t>, <count>, <sseq>) (<which> 2). */
static uint32_t
cookie_hash(const struct sl_tcp_stack *st, const struct sl_tcp_tuple *t, uint32_t count,
	    uint32_t sseq, unsigned int which)
{
	const uint64_t m[3] = {(uint64_t)t->laddr.v << 32 | t->raddr.v,
			       (uint64_t)which << 56 | (uint64_t)(count & COOKIE_MASK) << 32 |
				       (uint64_t)t->lport << 16 | t->rport,
			       sseq};

	return (uint32_t)siphash24(st->cookie_key, m, which == 1 ? 2 : 3);
}

static uint32_t
cookie_make(const struct sl_tcp_stack *st, const struct sl_tcp_tuple *t, uint32_t sseq,
	    uint32_t count, uint32_t data)
{
	return cookie_hash(st, t, 0, 0, 1) + sseq + (count << COOKIE_BITS) +
	       ((cookie_hash(st, t, count, sseq, 2) + (data << COOKIE_DATA_SHIFT)) & COOKIE_MASK);
}

/* The data of <cookie> for <t> and the peer's ISN <sseq> in period <count>, or -1. */
static int
cookie_check(const struct sl_tcp_stack *st, const struct sl_tcp_tuple *t, uint32_t sseq,
	     uint32_t cookie, uint32_t count)
{
	uint32_t diff, v;

	cookie -= cookie_hash(st, t, 0, 0, 1) + sseq;
	diff = (count - (cookie >> COOKIE_BITS)) & (UINT32_MAX >> COOKIE_BITS);
	if (diff >= COOKIE_AGE_MAX)
		return -1;
	v = (cookie - cookie_hash(st, t, count - diff, sseq, 2)) & COOKIE_MASK;
	if (v & ((1u << COOKIE_DATA_SHIFT) - 1))
		return -1;
	return (int)(v >> COOKIE_DATA_SHIFT);
}

int
sl_tcp__cookie_recent(const struct sl_tcp_stack *st, const struct sl_tcp_listener *l)
{
	return !st->p.no_syncookies && l->cookie_time != 0 &&
	       cookie_period(st) - (l->cookie_time - 1) < COOKIE_AGE_MAX;
}

/*
 * sl_tcp__cookie_synack(<st>, <l>, <t>, <rx>): the SYN-ACK of a cookie: our MSS, and with
 * timestamps (the SYN had them) what the SYN offered of SACK and window scale, the options
 * in the TSval's low bits; without, MSS alone.
 */
void
sl_tcp__cookie_synack(struct sl_tcp_stack *st, struct sl_tcp_listener *l,
		      const struct sl_tcp_tuple *t, const struct sl_tcp_rx *rx)
{
	const struct sl_tcp_params *p = &st->p;
	uint32_t peer_mss = rx->mss != 0 ? rx->mss : SL_TCP_MSS_DEFAULT_SND;
	uint32_t count = cookie_period(st), data = SL_ARRAY_SIZE(cookie_mss) - 1;
	struct sl_tcp_synopts so = {.mss = p->mss, .ws = -1};
	struct sl_tcp_seq iss;

	while (data != 0 && cookie_mss[data] > peer_mss)
		data--;
	if ((rx->opts & SL_TCP_RX_TS) && !p->no_timestamps)
		data |= COOKIE_DATA_TS;
	iss.v = cookie_make(st, t, rx->seq.v, count, data);
	if (data & COOKIE_DATA_TS) {
		uint32_t clk = (uint32_t)(st->now_us / 1000) + iss.v; /* sl_tcp__ts_now() */
		uint32_t opts = rx->ws >= 0 ? (uint32_t)rx->ws : TSOPT_WS_NONE;

		so.sack_ok = (rx->opts & SL_TCP_RX_SACK_OK) && !p->no_sack;
		if (so.sack_ok)
			opts |= TSOPT_SACK;
		if (rx->ws >= 0)
			so.ws = (int8_t)p->wscale;
		so.ts = 1;
		so.tsval = (clk & ~TSOPT_MASK) | opts;
		if ((int32_t)(so.tsval - clk) > 0)
			so.tsval -= TSOPT_MASK + 1;
		so.tsecr = rx->tsval;
	}
	sl_tcp__send_synack(st, t, iss, sl_seq_add(rx->seq, 1), &so);
	l->cookie_time = count + 1;
	st->stats.syncookies_sent++;
}

/*
 * sl_tcp__cookie_conn(<st>, <l>, <t>, <rx>, <valid>): see tcp-priv.h. The timestamps bit of
 * the cookie must match the ACK (a peer that agreed to timestamps sends them on every
 * segment, RFC 7323 3.2): without it a scaled window could be read unscaled.
 */
struct sl_tcp_conn *
sl_tcp__cookie_conn(struct sl_tcp_stack *st, struct sl_tcp_listener *l,
		    const struct sl_tcp_tuple *t, struct sl_tcp_rx *rx, int *valid)
{
	const struct sl_tcp_params *p = &st->p;
	struct sl_tcp_seq iss = sl_seq_add(rx->ack, UINT32_MAX);
	int data = cookie_check(st, t, rx->seq.v - 1, iss.v, cookie_period(st));
	int ts = (rx->opts & SL_TCP_RX_TS) && !p->no_timestamps;
	uint32_t opts = TSOPT_WS_NONE, ws;
	struct sl_tcp_conn *c;
	int err;

	*valid = 0;
	if (data >= 0 && ts != ((data & COOKIE_DATA_TS) != 0))
		data = -1;
	if (data >= 0 && ts)
		opts = rx->tsecr & TSOPT_MASK;
	ws = opts & TSOPT_WS_MASK;
	if (data < 0 || (ws != TSOPT_WS_NONE && ws > SL_TCP_WS_MAX)) {
		st->stats.syncookies_failed++;
		return NULL;
	}
	*valid = 1;
	st->stats.syncookies_ok++;
	c = sl_tcp__conn_new(st, l, t, &err);
	if (c == NULL) {
		st->stats.drop_no_conn_mem++;
		return NULL;
	}
	/* as listen_syn() would have made it, its SYN-ACK sent and the peer's SYN ACKed */
	sl_tcp__set_state(c, SL_TCP_SYN_RCVD);
	l->pending++;
	c->irs = sl_seq_add(rx->seq, UINT32_MAX);
	c->rcv_nxt = c->rcv_acked = rx->seq;
	c->rcv_adv = sl_seq_add(c->rcv_nxt, sl_tcp__syn_wnd(st, 0));
	c->iss = c->snd_una = iss;
	c->snd_nxt = c->snd_max = rx->ack;
	c->snd_wl1 = c->irs;
	c->snd_wl2 = iss;
	if (ts) {
		c->flags |= SL_TCP_F_TS;
		c->ts_recent = rx->tsval;
		if (opts & TSOPT_SACK)
			c->flags |= SL_TCP_F_SACK;
		if (ws != TSOPT_WS_NONE) {
			c->snd_wscale = (uint8_t)ws;
			c->rcv_wscale = p->wscale;
		}
	}
	c->mss = sl_tcp__eff_mss(st, cookie_mss[data & (COOKIE_DATA_TS - 1)], ts);
	c->rto_us = p->rto_init_us;
	rx->tsecr = 0; /* our TSval was rounded down by up to 63 ms: no RTT sample from it */
	return c;
}

static void
params_defaults(struct sl_tcp_params *p)
{
#define DEF(f, v)                                                                                  \
	do {                                                                                       \
		if (p->f == 0)                                                                     \
			p->f = (v);                                                                \
	} while (0)
	DEF(mss, SL_TCP_DEF_MSS);
	DEF(wscale, SL_TCP_DEF_WSCALE);
	DEF(rcv_buf, SL_TCP_DEF_RCV_BUF);
	DEF(snd_buf, SL_TCP_DEF_SND_BUF);
	DEF(rto_init_us, SL_TCP_DEF_RTO_INIT_US);
	DEF(rto_min_us, SL_TCP_DEF_RTO_MIN_US);
	DEF(rto_max_us, SL_TCP_DEF_RTO_MAX_US);
	DEF(syn_retries, SL_TCP_DEF_SYN_RETRIES);
	DEF(retries, SL_TCP_DEF_RETRIES);
	DEF(delack_us, SL_TCP_DEF_DELACK_US);
	DEF(time_wait_us, SL_TCP_DEF_TIME_WAIT_US);
	DEF(fin_wait2_us, SL_TCP_DEF_FIN_WAIT2_US);
	DEF(tick_us, SL_TCP_DEF_TICK_US);
	DEF(ooo_max_bytes, p->rcv_buf);
	DEF(ooo_max_segs, sl_tcp__min32(sl_tcp__max32(p->ooo_max_bytes / SL_TCP_OOO_SEGS_PER_BYTES,
						      SL_TCP_OOO_SEGS_MIN),
					SL_TCP_OOO_SEGS_DEF_MAX));
	DEF(challenge_ack_limit, SL_TCP_DEF_CHALLENGE_ACK_LIMIT);
	DEF(keepalive_intvl_us, SL_TCP_DEF_KA_INTVL_US);
	DEF(keepalive_probes, SL_TCP_DEF_KA_PROBES);
#undef DEF
}

static uint64_t
xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A new second of challenge ACKs: limit/2 + random(limit) of them (RFC 5961 7 with the
 * randomized budget that closed CVE-2016-5696's side channel in Linux). */
static void
challenge_budget(struct sl_tcp_stack *st)
{
	uint32_t limit = st->p.challenge_ack_limit;

	st->chal_epoch_us = st->now_us;
	st->chal_left = (limit + 1) / 2 + (uint32_t)(xorshift64(&st->rng) % limit);
}

/*
 * sl_tcp_stack_init(<st>, <p>, <ops>, <env>, <seed>, <now_us>): zero <st>, take the
 * parameters with their defaults (<p> may be NULL: all defaults), derive the ISN key from
 * <seed>. Called before the owning lcore runs.
 */
int
sl_tcp_stack_init(struct sl_tcp_stack *st, const struct sl_tcp_params *p,
		  const struct sl_tcp_env_ops *ops, void *env, uint64_t seed, uint64_t now_us)
{
	struct sl_tcp_params q;

	if (st == NULL || ops == NULL || ops->pkt_alloc == NULL || ops->pkt_xmit == NULL ||
	    ops->seg_alloc == NULL || ops->seg_free == NULL || ops->conn_alloc == NULL ||
	    ops->conn_free == NULL || ops->conn_insert == NULL || ops->conn_remove == NULL)
		return -EINVAL;
	if (p != NULL)
		q = *p;
	else
		memset(&q, 0, sizeof(q));
	params_defaults(&q);
	if (q.mss < SL_TCP_MSS_MIN || q.mss > SL_TCP_MSS_MAX || q.wscale > SL_TCP_WS_MAX ||
	    q.rcv_buf > SL_TCP_WIN_MAX || q.snd_buf > SL_TCP_WIN_MAX ||
	    q.rto_min_us > q.rto_init_us || q.rto_init_us > q.rto_max_us ||
	    q.ooo_max_segs > UINT16_MAX)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->p = q;
	st->ops = ops;
	st->env = env;
	st->now_us = now_us;
	st->tick = now_us / q.tick_us;
	st->iss_key[0] = splitmix64(&seed);
	st->iss_key[1] = splitmix64(&seed);
	st->rng = splitmix64(&seed) | 1;
	st->cookie_key[0] = splitmix64(&seed);
	st->cookie_key[1] = splitmix64(&seed);
	challenge_budget(st);
	return 0;
}

/*
 * sl_tcp__challenge_ack(<c>): RFC 5961 7: "An implementation SHOULD include an ACK
 * throttling mechanism to be conservative": at most this second's budget per stack, the
 * rest dropped silently.
 */
void
sl_tcp__challenge_ack(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->stack;

	if (st->p.challenge_ack_limit != UINT32_MAX) {
		if (st->now_us - st->chal_epoch_us >= 1000000)
			challenge_budget(st);
		if (st->chal_left == 0)
			return;
		st->chal_left--;
	}
	st->stats.challenge_acks++;
	c->flags |= SL_TCP_F_ACK_NOW;
}

/*
 * sl_tcp_listen(<st>, <addr>, <port>, <backlog>, <ops>, <app>): add a listener. <ops> must
 * have `accepted` and `data`; the other callbacks may be NULL. <backlog> > 0.
 */
int
sl_tcp_listen(struct sl_tcp_stack *st, struct sl_ip4 addr, uint16_t port, uint32_t backlog,
	      const struct sl_tcp_app_ops *ops, void *app)
{
	struct sl_tcp_listener *l;
	unsigned int i;

	if (port == 0 || backlog == 0 || ops == NULL || ops->accepted == NULL || ops->data == NULL)
		return -EINVAL;
	for (i = 0; i < st->n_listeners; i++)
		if (st->listeners[i].port == port && sl_ip4_eq(st->listeners[i].addr, addr))
			return -EADDRINUSE;
	if (st->n_listeners == SL_TCP_LISTENERS_MAX)
		return -ENOSPC;
	l = &st->listeners[st->n_listeners++];
	l->addr = addr;
	l->port = port;
	l->backlog = backlog;
	l->pending = 0;
	l->ops = ops;
	l->app = app;
	l->ka_idle_us = st->p.keepalive_idle_us;
	l->ka_intvl_us = st->p.keepalive_intvl_us;
	l->ka_probes = st->p.keepalive_probes;
	l->cookie_time = 0;
	return 0;
}

/* sl_tcp_refuse(<st>, <on>): see tcp.h; input_noconn() (tcp_in.c) does the refusing. */
void
sl_tcp_refuse(struct sl_tcp_stack *st, bool on)
{
	st->refuse = on;
}

int
sl_tcp_listen_keepalive(struct sl_tcp_stack *st, struct sl_ip4 addr, uint16_t port,
			uint32_t idle_us, uint32_t intvl_us, uint8_t probes)
{
	unsigned int i;

	for (i = 0; i < st->n_listeners; i++) {
		struct sl_tcp_listener *l = &st->listeners[i];

		if (l->port == port && sl_ip4_eq(l->addr, addr)) {
			l->ka_idle_us = idle_us;
			l->ka_intvl_us = intvl_us != 0 ? intvl_us : SL_TCP_DEF_KA_INTVL_US;
			l->ka_probes = probes != 0 ? probes : SL_TCP_DEF_KA_PROBES;
			return 0;
		}
	}
	return -ENOENT;
}

/* The listener for <t>'s local side: an exact address match first, then 0.0.0.0. */
struct sl_tcp_listener *
sl_tcp__listener_find(struct sl_tcp_stack *st, const struct sl_tcp_tuple *t)
{
	struct sl_tcp_listener *any = NULL;
	unsigned int i;

	for (i = 0; i < st->n_listeners; i++) {
		struct sl_tcp_listener *l = &st->listeners[i];

		if (l->port != t->lport)
			continue;
		if (sl_ip4_eq(l->addr, t->laddr))
			return l;
		if (l->addr.v == 0)
			any = l;
	}
	return any;
}

/*
 * sl_tcp__set_state(<c>, <s>): move <c> between the conns[] counters; a connection leaving
 * SYN_RCVD leaves its listener's backlog.
 */
void
sl_tcp__set_state(struct sl_tcp_conn *c, enum sl_tcp_state s)
{
	struct sl_tcp_stats *stats = &c->stack->stats;

	stats->conns[c->state]--;
	if (c->state == SL_TCP_SYN_RCVD && !(c->flags & SL_TCP_F_ACTIVE))
		c->listener->pending--;
	c->state = (uint8_t)s;
	if (++stats->conns[s] > stats->conns_peak[s])
		stats->conns_peak[s] = stats->conns[s];
}

/* Cut <c> loose from everything but its memory and the conns[CLOSED] count. */
static void
conn_detach(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->stack;

	sl_tcp__set_state(c, SL_TCP_CLOSED);
	st->ops->conn_remove(st->env, c);
	sl_tcp__timer_cancel(&c->rexmit_timer);
	sl_tcp__timer_cancel(&c->delack_timer);
	sl_tcp__timer_cancel(&c->wait_timer);
	sl_tcp_seg_free_chain(st, c->sndq_head);
	c->sndq_head = c->sndq_tail = NULL;
	c->sndq_len = c->sndq_off = 0;
	sl_tcp__ooo_free(c);
	SL_TCP_CLR(c, SL_TCP_F_WANT_WRITABLE);
}

int
sl_tcp__reap(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->stack;

	if (c->state != SL_TCP_CLOSED || (c->flags & SL_TCP_F_BUSY) || sl_tcp__attached(c))
		return 0;
	st->stats.conns[SL_TCP_CLOSED]--;
	st->ops->conn_free(st->env, c);
	return 1;
}

/*
 * sl_tcp__end(<c>, <counter>, <how>): see tcp-priv.h. The application is let go (APP_CLOSED)
 * before its callback runs, so that a close or abort from inside it is a no-op.
 */
void
sl_tcp__end(struct sl_tcp_conn *c, uint64_t *counter, enum sl_tcp_end how)
{
	const struct sl_tcp_app_ops *ops = c->listener->ops;
	void *app = c->listener->app;

	if (c->state == SL_TCP_CLOSED)
		return;
	if (counter != NULL)
		(*counter)++;
	conn_detach(c);
	if (sl_tcp__attached(c) && ops != NULL) {
		switch (how) {
		case SL_TCP_END_RESET:
			c->flags |= SL_TCP_F_APP_CLOSED;
			if (ops->reset != NULL)
				ops->reset(app, c);
			break;
		case SL_TCP_END_TIMEOUT:
		case SL_TCP_END_REFUSED:
			/* the peer vanished (or refused an active open): error(-ETIMEDOUT or
			 * -ECONNREFUSED); an application without `error` hears it as a reset */
			c->flags |= SL_TCP_F_APP_CLOSED;
			if (ops->error != NULL)
				ops->error(app, c,
					   how == SL_TCP_END_TIMEOUT ? -ETIMEDOUT : -ECONNREFUSED);
			else if (ops->reset != NULL)
				ops->reset(app, c);
			break;
		default:
			/* a zombie: the application still holds c and frees it by closing */
			break;
		}
	}
	sl_tcp__reap(c);
}

/*
 * sl_tcp_conn_release(<st>, <c>): at shutdown, without a word to the peer or the
 * application: out of the table (conn_remove), timers and queue dropped, memory freed.
 * Counts no conn_* end.
 */
void
sl_tcp_conn_release(struct sl_tcp_stack *st, struct sl_tcp_conn *c)
{
	if (c->state != SL_TCP_CLOSED)
		conn_detach(c);
	st->stats.conns[SL_TCP_CLOSED]--;
	st->ops->conn_free(st->env, c);
}

void
sl_tcp__ooo_free(struct sl_tcp_conn *c)
{
	sl_tcp_seg_free_chain(c->stack, c->ooo_head);
	c->ooo_head = c->ooo_tail = NULL;
	c->ooo_bytes = 0;
	c->ooo_cnt = 0;
}

void
sl_tcp__sndq_drop(struct sl_tcp_conn *c, uint32_t n)
{
	struct sl_tcp_stack *st = c->stack;
	struct sl_tcp_seg *s;

	c->sndq_len -= n;
	n += c->sndq_off;
	while ((s = c->sndq_head) != NULL && s->len <= n) {
		n -= s->len;
		c->sndq_head = s->next;
		st->ops->seg_free(st->env, s);
	}
	if (c->sndq_head == NULL)
		c->sndq_tail = NULL;
	c->sndq_off = n;
}

/* RFC 6298 2.3: RTO <- SRTT + max (G, K*RTTVAR), K = 4, G the wheel tick; 2.4/2.5: clamped
 * to [rto_min, rto_max]. Without a sample yet, 2.1: the initial RTO. */
void
sl_tcp__rto_reset(struct sl_tcp_conn *c)
{
	const struct sl_tcp_params *p = &c->stack->p;
	uint32_t k, rto;

	if (c->srtt_us == 0) {
		c->rto_us = p->rto_init_us;
		return;
	}
	k = c->rttvar_us > UINT32_MAX / 4 ? UINT32_MAX : 4 * c->rttvar_us;
	if (k < p->tick_us)
		k = p->tick_us;
	rto = c->srtt_us > UINT32_MAX - k ? UINT32_MAX : c->srtt_us + k;
	if (rto < p->rto_min_us)
		rto = p->rto_min_us;
	if (rto > p->rto_max_us)
		rto = p->rto_max_us;
	c->rto_us = rto;
}

/*
 * sl_tcp__rtt_sample(<c>, <r>): RFC 6298 2.2 (first measurement) and 2.3 (later ones), with
 * alpha = 1/8, beta = 1/4.
 */
void
sl_tcp__rtt_sample(struct sl_tcp_conn *c, uint32_t r)
{
	if (r == 0)
		r = 1;
	if (c->srtt_us == 0) {
		c->srtt_us = r;
		c->rttvar_us = r / 2;
	} else {
		uint32_t delta = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;

		c->rttvar_us = (uint32_t)(((uint64_t)c->rttvar_us * 3 + delta) / 4);
		c->srtt_us = (uint32_t)(((uint64_t)c->srtt_us * 7 + r) / 8);
	}
	sl_tcp__rto_reset(c);
}

/*
 * sl_tcp__conn_start(<c>): RFC 5681 3.1: "The initial value of ssthresh SHOULD be set
 * arbitrarily high"; IW of RFC 6928 2, min (10*MSS, max (2*MSS, 14600)), or one segment
 * when the SYN-ACK had to be retransmitted (RFC 5681 3.1: "the initial window used by a
 * sender after a correctly transmitted SYN MUST be one segment"). recover starts at SND.UNA
 * so that the first fast retransmit may happen (RFC 6582 3.2 step 1). Keepalive as the
 * listener says.
 */
void
sl_tcp__conn_start(struct sl_tcp_conn *c)
{
	uint32_t smss = c->mss;

	c->cwnd = c->retries != 0
			  ? smss
			  : sl_tcp__min32(10 * smss, sl_tcp__max32(2 * smss, SL_TCP_IW_BYTES));
	c->ssthresh = SL_TCP_CWND_MAX;
	c->recover = c->snd_una;
	c->high_rxt = c->snd_una;
	c->last_rx_tick = (uint32_t)c->stack->tick;
	if (c->listener->ka_idle_us != 0) {
		c->flags |= SL_TCP_F_KEEPALIVE;
		sl_tcp__keepalive_arm(c, c->listener->ka_idle_us);
	}
}

/*
 * sl_tcp__eff_mss(<st>, <mss>, <ts>): RFC 9293 3.7.1: without the option, 536; never above
 * ours. RFC 7323 3.2 / RFC 6691: with timestamps every segment carries 12 bytes of them,
 * which come off its payload.
 */
uint16_t
sl_tcp__eff_mss(const struct sl_tcp_stack *st, uint16_t mss, int ts)
{
	uint32_t m = mss != 0 ? mss : SL_TCP_MSS_DEFAULT_SND;

	if (m > st->p.mss)
		m = st->p.mss;
	if (m < SL_TCP_MSS_FLOOR)
		m = SL_TCP_MSS_FLOOR;
	if (ts)
		m -= SL_TCP_OPT_TS_ALIGNED;
	return (uint16_t)m;
}

struct sl_tcp_conn *
sl_tcp__conn_new(struct sl_tcp_stack *st, struct sl_tcp_listener *l, const struct sl_tcp_tuple *t,
		 int *err)
{
	struct sl_tcp_conn *c = st->ops->conn_alloc(st->env);
	int r;

	if (c == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->tuple = *t;
	c->stack = st;
	c->listener = l;
	c->state = SL_TCP_CLOSED;
	c->rexmit_timer.kind = SL_TCP_TK_REXMIT;
	c->delack_timer.kind = SL_TCP_TK_DELACK;
	c->wait_timer.kind = SL_TCP_TK_WAIT;
	r = st->ops->conn_insert(st->env, c);
	if (r != 0) {
		st->ops->conn_free(st->env, c);
		*err = r;
		return NULL;
	}
	st->stats.conns[SL_TCP_CLOSED]++;
	return c;
}

/* The binding of (<ops>, <app>) for active opens: found, or made. NULL when all are taken. */
static struct sl_tcp_listener *
bind_get(struct sl_tcp_stack *st, const struct sl_tcp_app_ops *ops, void *app)
{
	struct sl_tcp_listener *b;
	unsigned int i;

	for (i = 0; i < st->n_binds; i++)
		if (st->binds[i].ops == ops && st->binds[i].app == app)
			return &st->binds[i];
	if (st->n_binds == SL_TCP_BINDS_MAX)
		return NULL;
	b = &st->binds[st->n_binds++];
	memset(b, 0, sizeof(*b));
	b->ops = ops;
	b->app = app;
	b->ka_idle_us = st->p.keepalive_idle_us;
	b->ka_intvl_us = st->p.keepalive_intvl_us;
	b->ka_probes = st->p.keepalive_probes;
	return b;
}

/*
 * sl_tcp_connect(<st>, <t>, <ops>, <app>, <user>, <out>, <now_us>): RFC 9293 3.10.1 OPEN
 * (active): "Create a new transmission control block (TCB) ... An initial send sequence
 * number (ISS) is selected. A SYN segment of the form <SEQ=ISS><CTL=SYN> is sent. Set SND.UNA
 * to ISS, SND.NXT to ISS+1, enter SYN-SENT state, and return." The SYN offers everything
 * (F_SACK, F_TS mean "offered" until the SYN-ACK says what is agreed); the application is
 * attached from here on (it holds the pointer), so failures reach it.
 */
int
sl_tcp_connect(struct sl_tcp_stack *st, const struct sl_tcp_tuple *t,
	       const struct sl_tcp_app_ops *ops, void *app, void *user, struct sl_tcp_conn **out,
	       uint64_t now_us)
{
	const struct sl_tcp_params *p = &st->p;
	struct sl_tcp_listener *b;
	struct sl_tcp_conn *c;
	int err = 0;

	if (t == NULL || ops == NULL || ops->connected == NULL || ops->data == NULL ||
	    t->laddr.v == 0 || t->raddr.v == 0 || t->lport == 0 || t->rport == 0)
		return -EINVAL;
	sl_tcp__now(st, now_us);
	if (st->ops->conn_lookup != NULL && st->ops->conn_lookup(st->env, t) != NULL)
		return -EADDRINUSE;
	b = bind_get(st, ops, app);
	if (b == NULL)
		return -ENOSPC;
	c = sl_tcp__conn_new(st, b, t, &err);
	if (c == NULL)
		return err == -EEXIST ? -EADDRINUSE : err;
	c->flags = SL_TCP_F_ACTIVE | SL_TCP_F_ACCEPTED;
	if (!p->no_sack)
		c->flags |= SL_TCP_F_SACK;
	if (!p->no_timestamps)
		c->flags |= SL_TCP_F_TS;
	c->user = user;
	c->rcv_wscale = p->wscale;
	c->iss = sl_tcp__iss(st, t);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->mss = sl_tcp__eff_mss(st, 0, 0);
	c->rto_us = p->rto_init_us; /* RFC 6298 2.1 */
	sl_tcp__set_state(c, SL_TCP_SYN_SENT);
	st->stats.active_opens++;
	*out = c;
	/* no buffer for the SYN: the retransmission timer (armed by xmit) sends it */
	sl_tcp__xmit(c, c->iss, 0, SL_TCP_SYN);
	return 0;
}

int
sl_tcp_set_keepalive(struct sl_tcp_conn *c, bool on, uint64_t now_us)
{
	sl_tcp__now(c->stack, now_us);
	switch (c->state) {
	case SL_TCP_ESTABLISHED:
	case SL_TCP_CLOSE_WAIT:
	case SL_TCP_FIN_WAIT_1:
	case SL_TCP_FIN_WAIT_2:
	case SL_TCP_CLOSING:
	case SL_TCP_LAST_ACK:
		break;
	default:
		return -ENOTCONN;
	}
	/* the wait timer of FIN_WAIT_2 after close is the close's, not keepalive's */
	if (c->state == SL_TCP_FIN_WAIT_2 && (c->flags & SL_TCP_F_APP_CLOSED))
		return 0;
	if (on) {
		c->flags |= SL_TCP_F_KEEPALIVE;
		sl_tcp__keepalive_arm(c, sl_tcp__ka_idle(c));
	} else {
		SL_TCP_CLR(c, SL_TCP_F_KEEPALIVE);
		sl_tcp__timer_cancel(&c->wait_timer);
	}
	return 0;
}

/* ---- the application's calls ---- */

static int
can_send(const struct sl_tcp_conn *c)
{
	return c->state == SL_TCP_ESTABLISHED || c->state == SL_TCP_CLOSE_WAIT;
}

uint32_t
sl_tcp_send_space(const struct sl_tcp_conn *c)
{
	uint32_t buf = c->stack->p.snd_buf;

	if (!can_send(c) || (c->flags & (SL_TCP_F_SHUT_WR | SL_TCP_F_APP_CLOSED)))
		return 0;
	return buf > c->sndq_len ? buf - c->sndq_len : 0;
}

/*
 * sl_tcp_send(<c>, <chain>, <now_us>): queue <chain> whole. A chain longer than the space
 * left is refused, except into an empty queue (so that `writable` always leads somewhere).
 * Segments go out at once when the window allows (no Nagle: a load balancer's replies are
 * latency-bound).
 */
int
sl_tcp_send(struct sl_tcp_conn *c, struct sl_tcp_seg *chain, uint64_t now_us)
{
	struct sl_tcp_stack *st = c->stack;
	struct sl_tcp_seg *s, *tail = NULL;
	uint64_t len = 0;

	sl_tcp__now(st, now_us);
	if (c->flags & (SL_TCP_F_SHUT_WR | SL_TCP_F_APP_CLOSED))
		return -EPIPE;
	if (!can_send(c))
		return -ENOTCONN;
	if (chain == NULL)
		return 0;
	for (s = chain; s != NULL; s = s->next) {
		len += s->len;
		tail = s;
	}
	if (len == 0) {
		sl_tcp_seg_free_chain(st, chain);
		return 0;
	}
	if ((c->sndq_len != 0 && len > sl_tcp_send_space(c)) || len > SL_TCP_WIN_MAX) {
		c->flags |= SL_TCP_F_WANT_WRITABLE;
		return -ENOBUFS;
	}
	if (c->sndq_tail != NULL)
		c->sndq_tail->next = chain;
	else
		c->sndq_head = chain;
	c->sndq_tail = tail;
	c->sndq_len += (uint32_t)len;
	sl_tcp__output(c);
	return 0;
}

/*
 * sl_tcp_consumed(<c>, <n>, <now_us>): give <n> bytes back to the receive window. RFC 9293
 * 3.8.6.2.2 (receiver SWS avoidance): announce the larger window at once only when it
 * opens by at least min(2 * MSS, rcv_buf / 2); smaller openings ride on the next ACK.
 */
void
sl_tcp_consumed(struct sl_tcp_conn *c, uint32_t n, uint64_t now_us)
{
	struct sl_tcp_stack *st = c->stack;
	uint32_t avail, adv, thresh;

	sl_tcp__now(st, now_us);
	c->rcv_held -= sl_tcp__min32(n, c->rcv_held);
	if (c->state != SL_TCP_ESTABLISHED && c->state != SL_TCP_FIN_WAIT_1 &&
	    c->state != SL_TCP_FIN_WAIT_2)
		return;
	avail = st->p.rcv_buf - sl_tcp__min32(c->rcv_held, st->p.rcv_buf);
	adv = (uint32_t)sl_seq_diff(c->rcv_adv, c->rcv_nxt);
	thresh = sl_tcp__min32(2u * c->mss, st->p.rcv_buf / 2);
	if (avail > adv && avail - adv >= thresh) {
		c->flags |= SL_TCP_F_ACK_NOW;
		if (!(c->flags & SL_TCP_F_BUSY))
			sl_tcp__ack_flush(c);
	}
}

/* RFC 9293 3.10.4 CLOSE in ESTABLISHED / CLOSE-WAIT: FIN after the queued data. */
int
sl_tcp_shutdown(struct sl_tcp_conn *c, uint64_t now_us)
{
	sl_tcp__now(c->stack, now_us);
	if (c->flags & SL_TCP_F_SHUT_WR)
		return 0;
	if (c->state == SL_TCP_ESTABLISHED)
		sl_tcp__set_state(c, SL_TCP_FIN_WAIT_1);
	else if (c->state == SL_TCP_CLOSE_WAIT)
		sl_tcp__set_state(c, SL_TCP_LAST_ACK);
	else
		return -ENOTCONN;
	c->flags |= SL_TCP_F_SHUT_WR;
	SL_TCP_CLR(c, SL_TCP_F_WANT_WRITABLE);
	sl_tcp__output(c);
	return 0;
}

void
sl_tcp_close(struct sl_tcp_conn *c, uint64_t now_us)
{
	struct sl_tcp_stack *st = c->stack;

	sl_tcp__now(st, now_us);
	if (c->flags & SL_TCP_F_APP_CLOSED)
		return;
	c->flags |= SL_TCP_F_APP_CLOSED;
	SL_TCP_CLR(c, SL_TCP_F_WANT_WRITABLE);
	switch (c->state) {
	case SL_TCP_CLOSED: /* a zombie: its close had ended before */
		sl_tcp__reap(c);
		break;
	case SL_TCP_ESTABLISHED:
	case SL_TCP_CLOSE_WAIT:
		sl_tcp_shutdown(c, now_us);
		break;
	case SL_TCP_FIN_WAIT_2:
		/* nobody reads any more: do not wait forever for the peer's FIN */
		sl_tcp__timer_arm(st, &c->wait_timer, st->p.fin_wait2_us);
		break;
	case SL_TCP_SYN_SENT:
		/* RFC 9293 3.10.4 CLOSE in SYN-SENT: "Delete the TCB" (ABORT's rule) */
	case SL_TCP_SYN_RCVD:
		sl_tcp_abort(c, now_us);
		break;
	default:
		break;
	}
}

/*
 * sl_tcp_abort(<c>, <now_us>): RFC 9293 3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST> from SYN-RECEIVED,
 * ESTABLISHED, FIN-WAIT-1/2 and CLOSE-WAIT; SYN-SENT, CLOSING, LAST-ACK and TIME-WAIT just
 * delete the TCB.
 */
void
sl_tcp_abort(struct sl_tcp_conn *c, uint64_t now_us)
{
	struct sl_tcp_stack *st = c->stack;

	sl_tcp__now(st, now_us);
	if (c->state == SL_TCP_CLOSED) {
		if (!(c->flags & SL_TCP_F_APP_CLOSED)) {
			c->flags |= SL_TCP_F_APP_CLOSED;
			sl_tcp__reap(c);
		}
		return;
	}
	c->flags |= SL_TCP_F_APP_CLOSED;
	if (c->state != SL_TCP_SYN_SENT && c->state != SL_TCP_CLOSING &&
	    c->state != SL_TCP_LAST_ACK && c->state != SL_TCP_TIME_WAIT)
		sl_tcp__send_rst(c);
	sl_tcp__end(c, &st->stats.conn_aborted, SL_TCP_END_SILENT);
}

struct sl_tcp_seg *
sl_tcp_seg_alloc(struct sl_tcp_stack *st, uint32_t room)
{
	struct sl_tcp_seg *s = st->ops->seg_alloc(st->env, room);

	if (s != NULL)
		s->next = NULL;
	return s;
}

void
sl_tcp_seg_free_chain(struct sl_tcp_stack *st, struct sl_tcp_seg *chain)
{
	while (chain != NULL) {
		struct sl_tcp_seg *next = chain->next;

		st->ops->seg_free(st->env, chain);
		chain = next;
	}
}
