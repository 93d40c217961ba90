/*
 * The worker loop and its plumbing. See worker.h for the shape; design.md section 2 for why.
 *
 * Shared nothing: a worker touches only its own struct sl_worker, its own queues and its own
 * inbox. Other lcores reach it through messages (struct sl_msg from a mempool) on that inbox.
 * The only syscalls a worker makes are the back-off sleep when idle and the eventfd write
 * that wakes the control thread after a ping result, which is not on the packet path.
 */
#include "worker.h"
#include "nfront.h"
#include "rss.h"
#include "sl_flow.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "impair.h"
#include "sl_log.h"
#include "tcp.h"

#define DP_LOG(l, ...) SL_LOG(l, "worker", __VA_ARGS__)

#define INBOX_SIZE 1024
#define RDR_SIZE 4096 /* redirected segments waiting for their owner */
#define CTL_INBOX_SIZE 1024
#define MSG_POOL_SIZE 4095
#define TIMER_US 100000 /* neighbour timers every 100 ms */
#define PING_IDENT_TAG 0x5300
#define PING_MAGIC 0x534c5049u /* "SLPI" */
#define PING_PAYLOAD_LEN 16

const char *const sl_lcore_stats_names[] = {
#define SL_LCORE_STATS_NAME(n) #n,
	SL_LCORE_STATS(SL_LCORE_STATS_NAME)
#undef SL_LCORE_STATS_NAME
};

static inline uint64_t
tsc_to_us(const struct sl_dp *dp, uint64_t tsc)
{
	return tsc / (dp->tsc_hz / 1000000);
}

/* ---- TX buffer: flushed when full and on the drain deadline ---- */

/* Hand `n` frames to the driver; what it does not take is freed and counted. */
static unsigned int
tx_burst(struct sl_worker_port *wp, struct rte_mbuf **pkts, uint16_t n)
{
	struct sl_worker *w = wp->w;
	uint64_t t0;
	uint16_t sent;

	if (n == 0)
		return 0;
	t0 = rte_rdtsc();
	sent = rte_eth_tx_burst(wp->port->port_id, wp->queue, pkts, n);
	w->stats.pmd_cycles += rte_rdtsc() - t0;
	w->stats.tx_packets += sent;
	if (SL_UNLIKELY(sent < n)) {
		w->stats.tx_dropped += (uint64_t)(n - sent);
		rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
	}
	return sent;
}

/* @return the number of frames handed to the driver (a flush is work). */
static unsigned int
txb_flush(struct sl_worker_port *wp)
{
	unsigned int sent;

	if (wp->txn == 0)
		return 0;
	if (SL_UNLIKELY(wp->imp_tx != NULL)) {
		struct rte_mbuf *out[2 * SL_TXB_SIZE];
		unsigned int n = sl_impair_push(wp->imp_tx, (void **)wp->txb, wp->txn, (void **)out,
						SL_ARRAY_SIZE(out), wp->w->now_us);

		wp->txn = 0;
		return tx_burst(wp, out, (uint16_t)n);
	}
	sent = tx_burst(wp, wp->txb, wp->txn);
	wp->txn = 0;
	return sent;
}

static inline void
txb_add(struct sl_worker_port *wp, struct rte_mbuf *m)
{
	wp->txb[wp->txn++] = m;
	if (SL_UNLIKELY(wp->txn == SL_TXB_SIZE))
		txb_flush(wp);
}

/* ---- callbacks of the L2/L3 layer ---- */

static void *
op_alloc(void *user, uint8_t **frame, uint16_t room)
{
	struct sl_worker_port *wp = user;
	struct rte_mbuf *m = rte_pktmbuf_alloc(wp->port->pool);

	if (m == NULL || rte_pktmbuf_tailroom(m) < room) {
		rte_pktmbuf_free(m);
		wp->w->stats.no_mbuf++;
		return NULL;
	}
	*frame = rte_pktmbuf_mtod(m, uint8_t *);
	return m;
}

static void
op_tx(void *user, void *pkt, uint16_t len)
{
	struct rte_mbuf *m = pkt;

	/* Frames we send are built in one segment; a received frame answered in place may have
	 * carried padding: cut it to `len`. */
	m->data_len = len;
	m->pkt_len = len;
	txb_add(user, m);
}

static void
op_free(void *user, void *pkt)
{
	(void)user;
	rte_pktmbuf_free(pkt);
}

static struct sl_msg *
msg_get(struct sl_worker *w)
{
	void *obj;

	if (rte_mempool_get(w->dp->msg_pool, &obj) != 0) {
		w->stats.msg_dropped++;
		return NULL;
	}
	return obj;
}

static void
op_neigh_learned(void *user, struct sl_ip4 ip, const struct sl_mac *mac)
{
	struct sl_worker_port *wp = user;
	struct sl_worker *w = wp->w;
	struct sl_dp *dp = w->dp;

	/* With several queues, ARP replies land on one of them only (lab-notes.md): tell the
	 * other workers what we learned so a next hop resolved anywhere serves everyone. */
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		struct sl_msg *msg;

		if (i == w->idx)
			continue;
		msg = msg_get(w);
		if (msg == NULL)
			continue;
		msg->op = SL_MSG_NEIGH;
		msg->from = (uint16_t)w->idx;
		msg->port_idx = (uint16_t)(wp - w->ports);
		msg->neigh.ip = ip;
		msg->neigh.mac = *mac;
		if (rte_ring_mp_enqueue(dp->workers[i]->inbox, msg) != 0) {
			rte_mempool_put(dp->msg_pool, msg);
			w->stats.msg_dropped++;
		}
	}
}

static void
post_ctl(struct sl_worker *w, struct sl_msg *msg)
{
	uint64_t one = 1;

	if (rte_ring_mp_enqueue(w->dp->ctl_inbox, msg) != 0) {
		rte_mempool_put(w->dp->msg_pool, msg);
		w->stats.msg_dropped++;
		return;
	}
	/* Not the packet path: a ping result is rare and the control thread sleeps in epoll. */
	if (write(w->dp->ctl_efd, &one, sizeof(one)) < 0)
		w->stats.msg_dropped++;
}

static void
op_echo_reply(void *user, struct sl_ip4 from, uint16_t ident, uint16_t seq, const uint8_t *payload,
	      uint16_t payload_len)
{
	struct sl_worker_port *wp = user;
	struct sl_worker *w = wp->w;
	struct sl_msg *msg;
	uint64_t sent_tsc;

	if ((ident & 0xff00) != PING_IDENT_TAG || payload_len < PING_PAYLOAD_LEN ||
	    sl_rd_be32(payload) != PING_MAGIC)
		return; /* someone else's ping */
	memcpy(&sent_tsc, payload + 4, sizeof(sent_tsc));
	msg = msg_get(w);
	if (msg == NULL)
		return;
	msg->op = SL_MSG_PING_RESULT;
	msg->from = (uint16_t)w->idx;
	msg->port_idx = (uint16_t)(wp - w->ports);
	msg->ping_result.from = from;
	msg->ping_result.seq = seq;
	msg->ping_result.sender = ident & 0xff;
	msg->ping_result.receiver = (uint16_t)w->idx;
	msg->ping_result.status = 0;
	msg->ping_result.rtt_cycles = rte_rdtsc() - sent_tsc;
	post_ctl(w, msg);
}

static const struct sl_net_ops net_ops = {
	.alloc = op_alloc,
	.tx = op_tx,
	.free = op_free,
	.neigh_learned = op_neigh_learned,
	.echo_reply = op_echo_reply,
};

/* ---- the TCP stack's environment: mbufs, a connection mempool, an rte_hash ---- */

static inline struct sl_tcp_seg *
mbuf_seg(struct rte_mbuf *m)
{
	return rte_mbuf_to_priv(m);
}

static struct sl_worker_port *
port_of_addr(struct sl_worker *w, struct sl_ip4 addr)
{
	for (unsigned int p = 0; p < w->n_ports; p++)
		if (w->ports[p].nif.conf.addr.v == addr.v)
			return &w->ports[p];
	return NULL;
}

static void *
env_pkt_alloc(void *env, uint8_t **frame, uint16_t room)
{
	struct sl_worker *w = env;

	return op_alloc(&w->ports[0], frame, room);
}

static void
env_pkt_xmit(void *env, void *pkt, uint8_t *frame, uint16_t tcp_len, const struct sl_tcp_tuple *t)
{
	struct sl_worker *w = env;
	struct sl_worker_port *wp = port_of_addr(w, t->laddr);
	uint16_t len = (uint16_t)(SL_ETH_HLEN + SL_IP4_HLEN + tcp_len);

	if (SL_UNLIKELY(wp == NULL)) {
		rte_pktmbuf_free(pkt);
		return;
	}
	sl_net_ip4_finish(&wp->nif, frame + SL_ETH_HLEN, (uint16_t)(SL_IP4_HLEN + tcp_len),
			  SL_IPPROTO_TCP, t->raddr, w->ip_id++);
	if (w->tcp->p.tx_csum_offload) {
		struct rte_mbuf *m = pkt;

		/* TCP wrote the pseudo-header sum; the port finishes the checksum. */
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		m->l2_len = SL_ETH_HLEN;
		m->l3_len = SL_IP4_HLEN;
	}
	switch (sl_net_output(&wp->nif, pkt, frame, len, t->raddr, w->now_us)) {
	case SL_NET_TX:
		op_tx(wp, pkt, len);
		break;
	case SL_NET_QUEUED:
		break;
	default:
		rte_pktmbuf_free(pkt);
		break;
	}
}

static struct sl_tcp_seg *
env_seg_alloc(void *env, uint32_t room)
{
	struct sl_worker *w = env;
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->ports[0].port->pool);
	struct sl_tcp_seg *seg;

	if (m == NULL) {
		w->stats.no_mbuf++;
		return NULL;
	}
	seg = mbuf_seg(m);
	seg->next = NULL;
	seg->data = rte_pktmbuf_mtod(m, uint8_t *);
	seg->len = RTE_MIN(room, (uint32_t)rte_pktmbuf_tailroom(m));
	seg->owner = m;
	return seg;
}

static void
env_seg_free(void *env, struct sl_tcp_seg *seg)
{
	(void)env;
	rte_pktmbuf_free(seg->owner);
}

static struct sl_tcp_conn *
env_conn_alloc(void *env)
{
	struct sl_worker *w = env;
	void *obj;

	return rte_mempool_get(w->conn_pool, &obj) == 0 ? obj : NULL;
}

static void
env_conn_free(void *env, struct sl_tcp_conn *c)
{
	struct sl_worker *w = env;

	rte_mempool_put(w->conn_pool, c);
}

static int
env_conn_insert(void *env, struct sl_tcp_conn *c)
{
	struct sl_worker *w = env;
	int ret;

	if (rte_hash_lookup(w->conns, &c->tuple) >= 0)
		return -EEXIST; /* add would replace it */
	ret = rte_hash_add_key_data(w->conns, &c->tuple, c);
	w->table_changes++;
	return ret < 0 ? -ENOSPC : 0;
}

static struct sl_tcp_conn *
env_conn_lookup(void *env, const struct sl_tcp_tuple *t)
{
	struct sl_worker *w = env;
	void *data;

	return rte_hash_lookup_data(w->conns, t, &data) >= 0 ? data : NULL;
}

static void
env_conn_remove(void *env, struct sl_tcp_conn *c)
{
	struct sl_worker *w = env;

	rte_hash_del_key(w->conns, &c->tuple);
	w->table_changes++;
}

static const struct sl_tcp_env_ops tcp_env_ops = {
	.pkt_alloc = env_pkt_alloc,
	.pkt_xmit = env_pkt_xmit,
	.seg_alloc = env_seg_alloc,
	.seg_free = env_seg_free,
	.conn_alloc = env_conn_alloc,
	.conn_free = env_conn_free,
	.conn_insert = env_conn_insert,
	.conn_remove = env_conn_remove,
	.conn_lookup = env_conn_lookup,
};

/*
 * TCP segments of one burst: the 4-tuples are hashed once and looked up in bulk, then the
 * segments go to the stack in arrival order. A segment earlier in the burst may have added
 * or removed a connection (a SYN, a RST): the lookups of later ones are then redone.
 */
struct tcp_burst {
	unsigned int n;
	/* rte_hash looks up at most RTE_HASH_LOOKUP_BULK_MAX (64) keys at once, and reports
	 * hits in a 64-bit mask: a fuller burst is run first. */
	struct sl_tcp_tuple keys[RTE_HASH_LOOKUP_BULK_MAX];
	const void *key_ptrs[RTE_HASH_LOOKUP_BULK_MAX];
	hash_sig_t sigs[RTE_HASH_LOOKUP_BULK_MAX];
	struct sl_tcp_seg *segs[RTE_HASH_LOOKUP_BULK_MAX];
	unsigned int flags[RTE_HASH_LOOKUP_BULK_MAX];
	void *conns[RTE_HASH_LOOKUP_BULK_MAX];
};

static void
tcp_burst_add(struct tcp_burst *b, struct rte_mbuf *m, uint16_t l4_off, uint32_t l4_len,
	      struct sl_ip4 src, struct sl_ip4 dst, int port_checks)
{
	struct sl_tcp_seg *seg = mbuf_seg(m);
	struct sl_tcp_tuple *t = &b->keys[b->n];
	uint8_t *tcp = rte_pktmbuf_mtod_offset(m, uint8_t *, l4_off);

	seg->next = NULL;
	seg->data = tcp;
	seg->len = l4_len;
	seg->owner = m;
	t->laddr = dst;
	t->raddr = src;
	/* Ports only when present: a shorter segment is the stack's to count as malformed. */
	t->rport = l4_len >= 4 ? sl_rd_be16(tcp) : 0;
	t->lport = l4_len >= 4 ? sl_rd_be16(tcp + 2) : 0;
	b->key_ptrs[b->n] = t;
	b->segs[b->n] = seg;
	/* A port that checks TCP checksums says so per packet; anything else TCP verifies. */
	b->flags[b->n] = port_checks && (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
						 RTE_MBUF_F_RX_L4_CKSUM_GOOD
				 ? SL_TCP_IN_CSUM_OK
				 : 0;
	b->n++;
}

static void
tcp_burst_run(struct sl_worker *w, struct tcp_burst *b)
{
	uint64_t hits = 0;
	uint32_t changes = w->table_changes;

	if (b->n == 0)
		return;
	for (unsigned int i = 0; i < b->n; i++)
		b->sigs[i] = rte_hash_hash(w->conns, &b->keys[i]);
	rte_hash_lookup_with_hash_bulk_data(w->conns, b->key_ptrs, b->sigs, b->n, &hits, b->conns);
	for (unsigned int i = 0; i < b->n; i++) {
		struct sl_tcp_conn *c = (hits >> i) & 1 ? b->conns[i] : NULL;

		if (SL_UNLIKELY(w->table_changes != changes)) {
			void *data;

			c = rte_hash_lookup_with_hash_data(w->conns, &b->keys[i], b->sigs[i],
							   &data) >= 0
				    ? data
				    : NULL;
		}
		sl_tcp_input(w->tcp, c, &b->keys[i], b->segs[i], b->flags[i], w->now_us);
	}
	b->n = 0;
}

/* ---- test connect: active opens that send a pattern and verify its echo ---- */

struct sl_tester {
	struct sl_worker *w;
	struct sl_tester *next_free;
	struct sl_tcp_conn *c;
	uint32_t id, bytes, sent, recvd;
	uint64_t t0;
};

static inline uint8_t
test_byte(uint32_t id, uint32_t i)
{
	return (uint8_t)(i * 131u + (i >> 9) + id);
}

/* Tell control how one active open ended. */
static void
tester_report(struct sl_worker *w, uint32_t id, int status, const struct sl_tcp_conn *c,
	      uint32_t bytes, uint64_t t0)
{
	struct sl_msg *msg = msg_get(w);

	if (msg == NULL)
		return;
	memset(msg, 0, sizeof(*msg));
	msg->op = SL_MSG_CONNECT_RESULT;
	msg->from = (uint16_t)w->idx;
	msg->connect_result.id = id;
	msg->connect_result.status = status;
	msg->connect_result.worker = (uint16_t)w->idx;
	msg->connect_result.bytes = status == 0 ? bytes : 0;
	msg->connect_result.cycles = rte_rdtsc() - t0;
	if (c != NULL) {
		msg->connect_result.laddr = c->tuple.laddr;
		msg->connect_result.lport = c->tuple.lport;
	}
	post_ctl(w, msg);
}

/* Report, let go of the connection (close > 0: close, < 0: abort, 0: it is gone), free t. */
static void
tester_finish(struct sl_tester *t, int status, int close)
{
	struct sl_worker *w = t->w;

	tester_report(w, t->id, status, t->c, t->recvd, t->t0);
	if (t->c != NULL) {
		sl_tcp_set_user(t->c, NULL);
		if (close > 0)
			sl_tcp_close(t->c, w->now_us);
		else if (close < 0)
			sl_tcp_abort(t->c, w->now_us);
	}
	t->c = NULL;
	t->next_free = w->tester_free;
	w->tester_free = t;
}

/* Send what the window and the send buffer take, in buffers of the port's mempool. */
static void
tester_fill(struct sl_tester *t)
{
	struct sl_worker *w = t->w;

	while (t->sent < t->bytes) {
		uint32_t space = sl_tcp_send_space(t->c);
		uint32_t want = RTE_MIN(RTE_MIN(space, t->bytes - t->sent), 65536u);
		struct sl_tcp_seg *head = NULL, **tail = &head;
		uint32_t n = 0;

		if (want == 0)
			return;
		while (n < want) {
			struct sl_tcp_seg *seg = sl_tcp_seg_alloc(w->tcp, want - n);
			uint32_t k;

			if (seg == NULL)
				break;
			k = RTE_MIN(seg->len, want - n);
			for (uint32_t i = 0; i < k; i++)
				seg->data[i] = test_byte(t->id, t->sent + n + i);
			seg->len = k;
			seg->next = NULL;
			*tail = seg;
			tail = &seg->next;
			n += k;
		}
		if (head == NULL)
			return; /* no buffer now: `writable` or the echo brings us back */
		if (sl_tcp_send(t->c, head, w->now_us) != 0) {
			sl_tcp_seg_free_chain(w->tcp, head);
			return;
		}
		t->sent += n;
	}
}

static void
tester_connected(void *app, struct sl_tcp_conn *c)
{
	struct sl_tester *t = sl_tcp_user(c);

	(void)app;
	if (t == NULL)
		return;
	if (t->bytes == 0) {
		tester_finish(t, 0, 1);
		return;
	}
	tester_fill(t);
}

static void
tester_data(void *app, struct sl_tcp_conn *c, struct sl_tcp_seg *chain, uint32_t len)
{
	struct sl_worker *w = app;
	struct sl_tester *t = sl_tcp_user(c);
	int bad = 0;

	for (struct sl_tcp_seg *s = chain; t != NULL && s != NULL; s = s->next)
		for (uint32_t i = 0; i < s->len && !bad; i++, t->recvd++)
			bad = t->recvd >= t->bytes || s->data[i] != test_byte(t->id, t->recvd);
	sl_tcp_seg_free_chain(w->tcp, chain);
	sl_tcp_consumed(c, len, w->now_us);
	if (t == NULL)
		return;
	if (bad)
		tester_finish(t, -EBADMSG, -1);
	else if (t->recvd == t->bytes)
		tester_finish(t, 0, 1);
	else
		tester_fill(t);
}

static void
tester_writable(void *app, struct sl_tcp_conn *c)
{
	struct sl_tester *t = sl_tcp_user(c);

	(void)app;
	if (t != NULL)
		tester_fill(t);
}

static void
tester_peer_closed(void *app, struct sl_tcp_conn *c)
{
	struct sl_worker *w = app;
	struct sl_tester *t = sl_tcp_user(c);

	if (t != NULL)
		tester_finish(t, -ECONNRESET, -1); /* closed before the echo was whole */
	else
		sl_tcp_close(c, w->now_us);
}

static void
tester_error(void *app, struct sl_tcp_conn *c, int err)
{
	struct sl_tester *t = sl_tcp_user(c);

	(void)app;
	if (t != NULL) {
		t->c = NULL; /* gone with this callback */
		tester_finish(t, err, 0);
	}
}

static void
tester_reset(void *app, struct sl_tcp_conn *c)
{
	tester_error(app, c, -ECONNRESET);
}

static const struct sl_tcp_app_ops tester_ops = {
	.connected = tester_connected,
	.data = tester_data,
	.writable = tester_writable,
	.peer_closed = tester_peer_closed,
	.reset = tester_reset,
	.error = tester_error,
};

/*
 * A local port for an active open to raddr:rport whose flow this worker owns (software RSS,
 * sl_flow.h) and that no connection of the table uses. @return the port, or 0 when none.
 */
static uint16_t
lport_pick(struct sl_worker *w, struct sl_tcp_tuple *t)
{
	const unsigned int n = w->dp->n_workers;
	const uint32_t span = SL_LPORT_MAX - SL_LPORT_MIN + 1;

	const struct sl_worker_port *wp = port_of_addr(w, t->laddr);
	const int steer = n > 1 && !w->dp->sw_rss && wp != NULL;

	for (uint32_t tries = 0; tries < span; tries++) {
		uint16_t p = w->next_lport;

		w->next_lport = p >= SL_LPORT_MAX ? SL_LPORT_MIN : (uint16_t)(p + 1);
		if (steer) { /* the NIC's hash of the replies must name our queue */
			uint32_t h = sl_rss_hash(sl_rss_key, t->raddr.v, t->laddr.v, t->rport, p);

			if (sl_rss_queue(h, wp->port->reta_size, wp->port->n_queues) != wp->queue)
				continue;
		} else if (n > 1 &&
			   sl_flow_owner(t->laddr.v, t->raddr.v, p, t->rport, n) != w->idx) {
			continue;
		}
		t->lport = p;
		if (rte_hash_lookup(w->conns, t) < 0)
			return p;
	}
	return 0;
}

/* The address of the port that reaches dst: on its subnet, else through its gateway. */
static int
laddr_for(const struct sl_worker *w, struct sl_ip4 dst, struct sl_ip4 *laddr)
{
	for (unsigned int p = 0; p < w->n_ports; p++) {
		const struct sl_net_if_conf *c = &w->ports[p].nif.conf;
		uint32_t mask = c->prefix_len ? ~0u << (32 - c->prefix_len) : 0;

		if ((c->addr.v & mask) == (dst.v & mask)) {
			*laddr = c->addr;
			return 0;
		}
	}
	for (unsigned int p = 0; p < w->n_ports; p++) {
		const struct sl_net_if_conf *c = &w->ports[p].nif.conf;

		if (c->routes != NULL && c->routes->n > 0) {
			*laddr = c->addr;
			return 0;
		}
	}
	return -ENETUNREACH;
}

/* An active open for the backend pools: local address and an owned local port. */
static int
be_connect(void *env, struct sl_ip4 addr, uint16_t port, const struct sl_tcp_app_ops *ops,
	   void *app, void *user, struct sl_tcp_conn **out)
{
	struct sl_worker *w = env;
	struct sl_tcp_tuple tu = {.raddr = addr, .rport = port};
	int ret = laddr_for(w, addr, &tu.laddr);

	if (ret != 0)
		return ret;
	if (lport_pick(w, &tu) == 0)
		return -EADDRNOTAVAIL;
	return sl_tcp_connect(w->tcp, &tu, ops, app, user, out, w->now_us);
}

static const struct sl_be_env_ops be_env_ops = {
	.connect = be_connect,
};

static void
tester_start(struct sl_worker *w, const struct sl_msg *req)
{
	struct sl_tester *t = w->tester_free;
	struct sl_tcp_tuple tu = {.raddr = req->connect.dst, .rport = req->connect.port};
	uint64_t t0 = rte_rdtsc();
	struct sl_tcp_conn *c;
	int ret;

	if (t == NULL) {
		ret = -EBUSY;
		goto err;
	}
	ret = laddr_for(w, tu.raddr, &tu.laddr);
	if (ret != 0)
		goto err;
	if (lport_pick(w, &tu) == 0) {
		ret = -EADDRNOTAVAIL;
		goto err;
	}
	ret = sl_tcp_connect(w->tcp, &tu, &tester_ops, w, t, &c, w->now_us);
	if (ret != 0)
		goto err;
	w->tester_free = t->next_free;
	*t = (struct sl_tester){
		.w = w, .c = c, .id = req->connect.id, .bytes = req->connect.bytes, .t0 = t0};
	return;
err:
	tester_report(w, req->connect.id, ret, NULL, 0, t0);
}

/* ---- messages ---- */

static void
ping_fail(struct sl_worker *w, const struct sl_msg *req, int status)
{
	struct sl_msg *msg = msg_get(w);

	if (msg == NULL)
		return;
	msg->op = SL_MSG_PING_RESULT;
	msg->from = (uint16_t)w->idx;
	msg->port_idx = req->port_idx;
	msg->ping_result.from = req->ping.dst;
	msg->ping_result.seq = req->ping.seq;
	msg->ping_result.sender = (uint16_t)w->idx;
	msg->ping_result.receiver = (uint16_t)w->idx;
	msg->ping_result.status = status;
	msg->ping_result.rtt_cycles = 0;
	post_ctl(w, msg);
}

static void
ping_send(struct sl_worker *w, const struct sl_msg *req, uint64_t now_us)
{
	uint8_t payload[PING_PAYLOAD_LEN] = {0};
	struct sl_worker_port *wp = NULL;
	struct sl_ip4 nh;
	struct rte_mbuf *m;
	uint8_t *frame;
	uint64_t tsc;
	uint16_t len;

	/* The first port with an on-link route, else the first with any route. */
	for (unsigned int p = 0; p < w->n_ports && wp == NULL; p++)
		if (sl_net_route(&w->ports[p].nif, req->ping.dst, &nh) == 0 &&
		    nh.v == req->ping.dst.v)
			wp = &w->ports[p];
	for (unsigned int p = 0; p < w->n_ports && wp == NULL; p++)
		if (sl_net_route(&w->ports[p].nif, req->ping.dst, &nh) == 0)
			wp = &w->ports[p];
	if (wp == NULL) {
		ping_fail(w, req, -ENETUNREACH);
		return;
	}
	m = op_alloc(wp, &frame, SL_ETH_HLEN + SL_IP4_HLEN + 8 + PING_PAYLOAD_LEN);
	if (m == NULL) {
		ping_fail(w, req, -ENOBUFS);
		return;
	}
	tsc = rte_rdtsc();
	sl_wr_be32(payload, PING_MAGIC);
	memcpy(payload + 4, &tsc, sizeof(tsc));
	len = sl_net_build_echo(&wp->nif, frame, req->ping.dst, PING_IDENT_TAG | (w->idx & 0xff),
				req->ping.seq, payload, sizeof(payload));
	switch (sl_net_output(&wp->nif, m, frame, len, req->ping.dst, now_us)) {
	case SL_NET_TX:
		op_tx(wp, m, len);
		wp->nif.stats.tx_icmp_echo++;
		break;
	case SL_NET_QUEUED:
		wp->nif.stats.tx_icmp_echo++;
		break;
	default:
		rte_pktmbuf_free(m);
		ping_fail(w, req, -EHOSTUNREACH);
		break;
	}
}

static unsigned int
inbox_poll(struct sl_worker *w, uint64_t now_us)
{
	void *msgs[16];
	unsigned int n = rte_ring_sc_dequeue_burst(w->inbox, msgs, SL_ARRAY_SIZE(msgs), NULL);

	for (unsigned int i = 0; i < n; i++) {
		struct sl_msg *msg = msgs[i];

		switch (msg->op) {
		case SL_MSG_NEIGH:
			if (msg->port_idx < w->n_ports)
				sl_net_neigh_update(&w->ports[msg->port_idx].nif, msg->neigh.ip,
						    &msg->neigh.mac, now_us);
			break;
		case SL_MSG_PING:
			ping_send(w, msg, now_us);
			break;
		case SL_MSG_CONNECT:
			tester_start(w, msg);
			break;
		case SL_MSG_DRAIN:
			for (unsigned int h = 0; h < w->n_http; h++)
				sl_http_server_drain(w->http[h], msg->drain.on != 0);
			break;
		case SL_MSG_REFUSE: /* stopping: no new connections, idle ones close now */
			sl_tcp_refuse(w->tcp, msg->drain.on != 0);
			if (msg->drain.on)
				for (unsigned int h = 0; h < w->n_http; h++)
					sl_http_server_close_idle(w->http[h]);
			break;
		default:
			break;
		}
	}
	if (n > 0) {
		rte_mempool_put_bulk(w->dp->msg_pool, msgs, n);
		w->stats.msgs += n;
	}
	return n;
}

/* ---- the loop ---- */

static void port_process(struct sl_worker *w, struct sl_worker_port *wp, struct rte_mbuf **pkts,
			 unsigned int n, uint64_t now_us);

static unsigned int
port_rx(struct sl_worker *w, struct sl_worker_port *wp, uint16_t burst, uint64_t now_us)
{
	struct rte_mbuf *pkts[256];
	uint64_t t0 = rte_rdtsc();
	uint16_t n = rte_eth_rx_burst(wp->port->port_id, wp->queue, pkts, burst);

	if (n == 0)
		return 0;
	w->stats.pmd_cycles += rte_rdtsc() - t0;
	w->stats.rx_packets += n;
	if (SL_UNLIKELY(wp->imp_rx != NULL)) {
		struct rte_mbuf *out[512];
		unsigned int k = sl_impair_push(wp->imp_rx, (void **)pkts, n, (void **)out,
						SL_ARRAY_SIZE(out), now_us);

		port_process(w, wp, out, k, now_us);
		return n;
	}
	port_process(w, wp, pkts, n, now_us);
	return n;
}

/* Packets whose impairment delay is over: received ones are processed, sent ones sent. */
static unsigned int
impair_poll(struct sl_worker *w, uint64_t now_us)
{
	struct rte_mbuf *out[256];
	unsigned int work = 0;

	for (unsigned int p = 0; p < w->n_ports; p++) {
		struct sl_worker_port *wp = &w->ports[p];
		unsigned int n;

		if (wp->imp_rx != NULL && sl_impair_pending(wp->imp_rx)) {
			n = sl_impair_poll(wp->imp_rx, (void **)out, SL_ARRAY_SIZE(out), now_us);
			port_process(w, wp, out, n, now_us);
			work += n;
		}
		if (wp->imp_tx != NULL && sl_impair_pending(wp->imp_tx)) {
			n = sl_impair_poll(wp->imp_tx, (void **)out, SL_ARRAY_SIZE(out), now_us);
			work += tx_burst(wp, out, (uint16_t)n);
		}
	}
	return work;
}

static int
impair_pending(const struct sl_worker *w)
{
	for (unsigned int p = 0; p < w->n_ports; p++) {
		const struct sl_worker_port *wp = &w->ports[p];

		if ((wp->imp_rx != NULL && sl_impair_pending(wp->imp_rx)) ||
		    (wp->imp_tx != NULL && sl_impair_pending(wp->imp_tx)))
			return 1;
	}
	return 0;
}

/* Segments for other workers' flows, gathered per owner and handed over in bulk. */
struct rdr_batch {
	uint16_t n[SL_MAX_WORKERS];
	struct rte_mbuf *m[SL_MAX_WORKERS][64];
};

static void
rdr_flush(struct sl_worker *w, struct rdr_batch *rb, unsigned int to)
{
	unsigned int k;

	if (rb->n[to] == 0)
		return;
	k = rte_ring_mp_enqueue_burst(w->dp->workers[to]->rdr, (void **)rb->m[to], rb->n[to], NULL);
	w->stats.redirected += k;
	if (k < rb->n[to]) {
		w->stats.redirect_dropped += rb->n[to] - k;
		rte_pktmbuf_free_bulk(rb->m[to] + k, rb->n[to] - k);
	}
	rb->n[to] = 0;
}

static void
port_process(struct sl_worker *w, struct sl_worker_port *wp, struct rte_mbuf **pkts, unsigned int n,
	     uint64_t now_us)
{
	const unsigned int n_workers = w->dp->sw_rss ? w->dp->n_workers : 1;
	struct sl_net_result res;
	struct tcp_burst tb;
	struct rdr_batch rb;
	uint64_t rdr_mask = 0; /* owners with a batch */

	tb.n = 0;
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		switch (sl_net_input(&wp->nif, rte_pktmbuf_mtod(m, uint8_t *), m->pkt_len,
				     m->data_len, now_us, &res)) {
		case SL_NET_TX:
			op_tx(wp, m, res.tx_len);
			break;
		case SL_NET_L4:
			/* TCP in one segment goes to the stack; the rest has no taker yet. */
			if (res.l4.proto == SL_IPPROTO_TCP && m->nb_segs == 1) {
				if (n_workers > 1 && res.l4.l4_len >= 4) {
					const uint8_t *tcp = rte_pktmbuf_mtod_offset(
						m, const uint8_t *, res.l4.l4_off);
					unsigned int o = sl_flow_owner(res.l4.dst.v, res.l4.src.v,
								       sl_rd_be16(tcp + 2),
								       sl_rd_be16(tcp), n_workers);

					if (o != w->idx) {
						/* the owner finds IPv4 at l2_len (checked here) */
						m->l2_len = res.l4.l3_off;
						m->l3_len =
							(uint64_t)(res.l4.l4_off - res.l4.l3_off);
						if (!(rdr_mask & (1ull << o)))
							rb.n[o] = 0;
						rdr_mask |= 1ull << o;
						rb.m[o][rb.n[o]++] = m;
						if (rb.n[o] == SL_ARRAY_SIZE(rb.m[o]))
							rdr_flush(w, &rb, o);
						break;
					}
				}
				if (SL_UNLIKELY(tb.n == SL_ARRAY_SIZE(tb.segs)))
					tcp_burst_run(w, &tb);
				tcp_burst_add(&tb, m, res.l4.l4_off, res.l4.l4_len, res.l4.src,
					      res.l4.dst, wp->port->rx_l4_csum);
			} else {
				w->stats.no_l4_handler++;
				rte_pktmbuf_free(m);
			}
			break;
		default:
			rte_pktmbuf_free(m);
			break;
		}
	}
	tcp_burst_run(w, &tb);
	while (rdr_mask != 0) {
		unsigned int o = (unsigned int)__builtin_ctzll(rdr_mask);

		rdr_mask &= rdr_mask - 1;
		rdr_flush(w, &rb, o);
	}
}

/* Segments of our flows that other workers received: their IPv4 header was checked there. */
static unsigned int
redirect_poll(struct sl_worker *w)
{
	struct rte_mbuf *ms[64];
	struct tcp_burst tb;
	unsigned int n = rte_ring_sc_dequeue_burst(w->rdr, (void **)ms, SL_ARRAY_SIZE(ms), NULL);

	tb.n = 0;
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = ms[i];
		const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
		const struct sl_ip4 src = {.v = sl_rd_be32(ip + 12)};
		const struct sl_ip4 dst = {.v = sl_rd_be32(ip + 16)};
		const uint32_t l4_len = (uint32_t)sl_rd_be16(ip + 2) - m->l3_len;
		int checks = 0;

		for (unsigned int p = 0; p < w->n_ports; p++)
			if (w->ports[p].port->port_id == m->port)
				checks = w->ports[p].port->rx_l4_csum;
		tcp_burst_add(&tb, m, (uint16_t)(m->l2_len + m->l3_len), l4_len, src, dst, checks);
	}
	tcp_burst_run(w, &tb);
	w->stats.redirect_in += n;
	return n;
}

static void
idle_sleep(struct sl_worker *w, uint32_t us)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)us * 1000};
	uint64_t t0 = rte_rdtsc();

	nanosleep(&ts, NULL);
	w->stats.sleep_cycles += rte_rdtsc() - t0;
	w->stats.sleeps++;
}

static int
worker_main(void *arg)
{
	struct sl_worker *w = arg;
	struct sl_dp *dp = w->dp;
	const uint16_t burst = dp->params.burst;
	uint64_t last_drain = rte_rdtsc(), last_timer = last_drain, idle_since = last_drain;
	uint64_t last_tcp_timer = last_drain;
	const uint32_t sleep_max = dp->params.idle_sleep_us;
	const uint32_t sleep_min = sleep_max >= 8 ? sleep_max / 8 : 1;
	uint32_t sleep_us = sleep_min;
	int pending_tx = 0;

	/* Back-off sleeps must be short: ask for 1 us of timer slack instead of 50 us. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	DP_LOG(INFO, "worker %u on lcore %u: %u ports", w->idx, w->lcore_id, w->n_ports);
	if (w->idx == 0)
		for (unsigned int p = 0; p < w->n_ports; p++)
			sl_net_garp(&w->ports[p].nif);
	sl_worker_shared_start(w); /* RCU QSBR: online */

	while (!__atomic_load_n(&dp->stop, __ATOMIC_RELAXED)) {
		uint64_t t0 = rte_rdtsc(), t1;
		uint64_t now_us = tsc_to_us(dp, t0);
		unsigned int work = 0;

		w->now_us = now_us;
		sl_worker_quiescent(w); /* no view pointer is kept across iterations */
		if (w->be != NULL) /* the pools' view: taken right after the quiescent report */
			sl_be_set_view(w->be, sl_dp_cluster(dp));
		for (unsigned int p = 0; p < w->n_ports; p++)
			work += port_rx(w, &w->ports[p], burst, now_us);
		work += inbox_poll(w, now_us);
		if (w->rdr != NULL)
			work += redirect_poll(w);
		if (SL_UNLIKELY(w->impaired))
			work += impair_poll(w, now_us);
		if (t0 - last_tcp_timer >= dp->tcp_tick_tsc) {
			sl_tcp_timer(w->tcp, now_us);
			if (w->be != NULL)
				sl_be_tick(w->be, now_us);
			for (unsigned int h = 0; h < w->n_http; h++)
				sl_http_server_tick(w->http[h], now_us);
			last_tcp_timer = t0;
		}
		if (t0 - last_timer >= dp->timer_tsc) {
			for (unsigned int p = 0; p < w->n_ports; p++)
				sl_net_timer(&w->ports[p].nif, now_us);
			last_timer = t0;
			w->stats.timer_runs++;
			work++;
		}
		for (unsigned int p = 0; p < w->n_ports; p++)
			pending_tx |= w->ports[p].txn != 0;
		if (pending_tx && t0 - last_drain >= dp->drain_tsc) {
			for (unsigned int p = 0; p < w->n_ports; p++)
				work += txb_flush(&w->ports[p]);
			last_drain = t0;
			pending_tx = 0;
		}

		w->stats.iterations++;
		t1 = rte_rdtsc();
		if (work) {
			w->stats.busy_iterations++;
			w->stats.busy_cycles += t1 - t0;
			idle_since = t1;
			sleep_us = sleep_min;
			continue;
		}
		/*
		 * Idle: spin a little (a burst often follows), then sleep, doubling the sleep up
		 * to idle_sleep_us, so a worker wakes within about that much. Every wake costs
		 * about 25 us of CPU in a VM (timer programming), so the longest sleep sets what
		 * an idle worker costs the machine. Never sleep with frames still buffered.
		 */
		if (t1 - idle_since >= dp->spin_tsc && !pending_tx &&
		    !(w->impaired && impair_pending(w))) {
			idle_sleep(w, sleep_us);
			if (sleep_us < sleep_max)
				sleep_us = sleep_us * 2 < sleep_max ? sleep_us * 2 : sleep_max;
		} else {
			rte_pause();
		}
		w->stats.idle_cycles += rte_rdtsc() - t0;
	}
	sl_worker_shared_stop(w);
	for (unsigned int p = 0; p < w->n_ports; p++)
		txb_flush(&w->ports[p]);
	DP_LOG(INFO, "worker %u stopped", w->idx);
	return 0;
}

/* ---- control side ---- */

static void *
impair_copy(void *user, void *pkt)
{
	struct sl_worker_port *wp = user;

	return rte_pktmbuf_copy(pkt, wp->port->pool, 0, UINT32_MAX);
}

static void
impair_free(void *user, void *pkt)
{
	(void)user;
	rte_pktmbuf_free(pkt);
}

static const struct sl_impair_ops impair_ops = {.copy = impair_copy, .free = impair_free};

/* A stage for one direction of one port, or NULL when that direction is not impaired. */
static int
impair_create(struct sl_worker_port *wp, const struct sl_impair_conf *conf, struct sl_impair **out)
{
	struct sl_impair *im;

	*out = NULL;
	if (!conf->enabled)
		return 0;
	im = rte_zmalloc("sl_impair", sizeof(*im), RTE_CACHE_LINE_SIZE);
	if (im == NULL)
		return -ENOMEM;
	if (sl_impair_init(im, conf, &impair_ops, wp, rte_rand()) != 0) {
		rte_free(im);
		return -EINVAL;
	}
	*out = im;
	wp->w->impaired = 1;
	return 0;
}

static void
impair_destroy(struct sl_impair *im)
{
	if (im == NULL)
		return;
	sl_impair_flush(im);
	rte_free(im);
}

static const struct sl_tcp_app_ops *
service_ops(uint8_t service)
{
	switch (service) {
	case SL_DP_ECHO:
		return &sl_tcp_echo_ops;
	case SL_DP_DISCARD:
		return &sl_tcp_discard_ops;
	case SL_DP_CHARGEN:
		return &sl_tcp_chargen_ops;
	default:
		return NULL;
	}
}

/* The worker's TCP: a connection pool and table sized by limits, the stack, listeners. */
static int
worker_tcp_init(struct sl_worker *w)
{
	const struct sl_dp_params *p = &w->dp->params;
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = p->max_conns < 64 ? 64 : p->max_conns,
		.key_len = sizeof(struct sl_tcp_tuple),
		.hash_func = rte_hash_crc,
		.socket_id = (int)rte_socket_id(),
	};
	struct sl_tcp_params tp;
	int ret;

	uint64_t heap0 = sl_dp_heap_allocated();

	snprintf(name, sizeof(name), "sl_conns_%u", w->idx);
	w->conns = rte_hash_create(&hp);
	/* the table's memory per entry, as the heap saw it */
	w->conn_bytes = (uint32_t)((sl_dp_heap_allocated() - heap0 + hp.entries - 1) / hp.entries);
	snprintf(name, sizeof(name), "sl_cpool_%u", w->idx);
	w->conn_pool = rte_mempool_create(name, p->max_conns, sizeof(struct sl_tcp_conn), 0, 0,
					  NULL, NULL, NULL, NULL, SOCKET_ID_ANY,
					  RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
	w->tcp = rte_zmalloc("sl_tcp", sizeof(*w->tcp), RTE_CACHE_LINE_SIZE);
	if (w->conn_pool != NULL)
		w->conn_bytes += (uint32_t)(w->conn_pool->header_size + w->conn_pool->elt_size +
					    w->conn_pool->trailer_size);
	if (w->conns == NULL || w->conn_pool == NULL || w->tcp == NULL) {
		DP_LOG(ERR, "worker %u: no memory for %u connections", w->idx, p->max_conns);
		return -ENOMEM;
	}
	tp = p->tcp;
	tp.tx_csum_offload = true;
	for (unsigned int i = 0; i < w->n_ports; i++)
		tp.tx_csum_offload &= w->ports[i].port->tx_l4_csum != 0;
	tp.rx_csum_offload = false; /* per packet, from the mbuf's flags */
	ret = sl_tcp_stack_init(w->tcp, &tp, &tcp_env_ops, w, rte_rand(),
				tsc_to_us(w->dp, rte_rdtsc()));
	if (ret != 0) {
		DP_LOG(ERR, "worker %u: tcp parameters: %s", w->idx, strerror(-ret));
		return ret;
	}
	w->testers = rte_zmalloc("sl_testers", sizeof(*w->testers) * SL_TESTERS_MAX, 0);
	if (w->testers == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < SL_TESTERS_MAX; i++) {
		w->testers[i].next_free = w->tester_free;
		w->tester_free = &w->testers[i];
	}
	w->next_lport = (uint16_t)(SL_LPORT_MIN + rte_rand() % (SL_LPORT_MAX - SL_LPORT_MIN + 1));
	if (w->be_stats == NULL)
		w->be_stats = rte_zmalloc("sl_be_stats", sizeof(*w->be_stats), RTE_CACHE_LINE_SIZE);
	if (w->be_stats == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < p->n_listeners; i++) {
		const struct sl_dp_listener *l = &p->listeners[i];
		const struct sl_tcp_app_ops *ops = service_ops(l->service);
		void *app = w->tcp;

		if (l->service == SL_DP_HTTP) {
			struct sl_http_conf hc = p->http;
			struct sl_http_server *srv;

			hc.health = l->health;
			hc.mirror = l->mirror;
			srv = rte_zmalloc("sl_http", sizeof(*srv), RTE_CACHE_LINE_SIZE);
			if (srv == NULL)
				return -ENOMEM;
			ret = sl_http_server_init(srv, w->tcp, &hc, w->idx, rte_rand());
			if (ret != 0) {
				rte_free(srv);
				DP_LOG(ERR, "worker %u: http on port %u: %s", w->idx, l->port,
				       strerror(-ret));
				return ret;
			}
			w->http[w->n_http++] = srv;
			if (w->be == NULL) {
				w->be = sl_be_create(w->tcp, &p->be, &be_env_ops, w, w->be_stats,
						     sl_http_be_event);
				if (w->be == NULL)
					return -ENOMEM;
			}
			sl_http_server_backend(srv, w->be, p->access_log ? sl_worker_alog_cb : NULL,
					       w);
			ops = &sl_http_ops;
			app = srv;
		} else if (l->service == SL_DP_NATIVE) {
			struct sl_nf_conf nc = {.vip = l->addr,
						.locator_port = l->port,
						.app_ports = l->app_ports,
						.max_conns = p->native_conns,
						.worker = w->idx};
			struct sl_nf_server *nf;

			if (w->be == NULL) {
				w->be = sl_be_create(w->tcp, &p->be, &be_env_ops, w, w->be_stats,
						     sl_http_be_event);
				if (w->be == NULL)
					return -ENOMEM;
			}
			if (w->n_nf == SL_ARRAY_SIZE(w->nf))
				return -ENOSPC;
			nf = sl_nf_create(w->tcp, w->be, &nc);
			if (nf == NULL)
				return -ENOMEM;
			w->nf[w->n_nf++] = nf;
			for (unsigned int a = 0; a < l->n_apps; a++) {
				ret = sl_tcp_listen(w->tcp, l->addr, (uint16_t)(l->app_ports + a),
						    l->backlog, &sl_nf_ops, sl_nf_port(nf, (int)a));
				if (ret != 0) {
					DP_LOG(ERR, "worker %u: listen on app port %u: %s", w->idx,
					       l->app_ports + a, strerror(-ret));
					return ret;
				}
			}
			ops = &sl_nf_ops;
			app = sl_nf_port(nf, -1);
		}
		ret = sl_tcp_listen(w->tcp, l->addr, l->port, l->backlog, ops, app);
		if (ret != 0) {
			DP_LOG(ERR, "worker %u: listen on port %u: %s", w->idx, l->port,
			       strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* Let go of every connection (no packets: the ports are about to stop). */
static void
worker_tcp_fini(struct sl_worker *w)
{
	const void *key;
	void *data;
	uint32_t it = 0;

	/* applications first: they give back the buffers they hold */
	for (unsigned int h = 0; h < w->n_http; h++) {
		sl_http_server_fini(w->http[h]);
		rte_free(w->http[h]);
	}
	w->n_http = 0;
	for (unsigned int n = 0; n < w->n_nf; n++)
		sl_nf_free(w->nf[n]);
	w->n_nf = 0;
	sl_be_free(w->be);
	w->be = NULL;
	if (w->conns != NULL && w->tcp != NULL) {
		struct sl_tcp_conn *list[64];
		unsigned int n;

		/* Releasing removes from the table: collect a batch, release, start over. */
		do {
			n = 0;
			it = 0;
			while (n < SL_ARRAY_SIZE(list) &&
			       rte_hash_iterate(w->conns, &key, &data, &it) >= 0)
				list[n++] = data;
			for (unsigned int i = 0; i < n; i++)
				sl_tcp_conn_release(w->tcp, list[i]);
		} while (n > 0);
	}
	rte_hash_free(w->conns);
	rte_free(w->testers);
	w->testers = w->tester_free = NULL;
	rte_free(w->be_stats);
	w->be_stats = NULL;
	rte_mempool_free(w->conn_pool);
	rte_free(w->tcp);
}

struct sl_dp *
sl_dp_create(struct sl_port *ports, const struct sl_dp_port_l3 *l3, unsigned int n_ports,
	     unsigned int n_workers, const struct sl_dp_params *params)
{
	struct sl_dp *dp;
	char name[RTE_RING_NAMESIZE];

	if (n_ports == 0 || n_ports > SL_MAX_PORTS || n_workers == 0 ||
	    n_workers > SL_MAX_WORKERS) {
		errno = EINVAL;
		return NULL;
	}
	dp = rte_zmalloc("sl_dp", sizeof(*dp), RTE_CACHE_LINE_SIZE);
	if (dp == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	dp->ctl_efd = -1;
	dp->n_workers = n_workers;
	dp->n_ports = n_ports;
	dp->ports = ports;
	dp->params = *params;
	for (unsigned int p = 0; p < n_ports; p++)
		dp->sw_rss |= n_workers > 1 && !ports[p].steer;
	dp->tsc_hz = rte_get_tsc_hz();
	dp->drain_tsc = dp->tsc_hz / 1000000 * params->tx_drain_us;
	dp->spin_tsc = dp->tsc_hz / 1000000 * params->idle_spin_us;
	dp->timer_tsc = dp->tsc_hz / 1000000 * TIMER_US;
	dp->tcp_tick_tsc =
		dp->tsc_hz / 1000000 * (params->tcp.tick_us ? params->tcp.tick_us : 1000);
	dp->msg_pool = rte_mempool_create("sl_msg", MSG_POOL_SIZE, sizeof(struct sl_msg), 64, 0,
					  NULL, NULL, NULL, NULL, SOCKET_ID_ANY, 0);
	dp->ctl_inbox = rte_ring_create("sl_ctl_in", CTL_INBOX_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
	dp->ctl_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dp->msg_pool == NULL || dp->ctl_inbox == NULL || dp->ctl_efd < 0)
		goto fail;

	for (unsigned int i = 0; i < n_workers; i++) {
		struct sl_worker *w = rte_zmalloc("sl_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);

		if (w == NULL)
			goto fail;
		dp->workers[i] = w;
		w->idx = i;
		w->dp = dp;
		w->n_ports = (uint16_t)n_ports;
		snprintf(name, sizeof(name), "sl_inbox_%u", i);
		w->inbox = rte_ring_create(name, INBOX_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
		if (w->inbox == NULL)
			goto fail;
		if (dp->sw_rss) {
			snprintf(name, sizeof(name), "sl_rdr_%u", i);
			w->rdr = rte_ring_create(name, RDR_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
			if (w->rdr == NULL)
				goto fail;
		}
		for (unsigned int p = 0; p < n_ports; p++) {
			struct sl_worker_port *wp = &w->ports[p];
			struct sl_net_if_conf nc = {
				.port_id = ports[p].port_id,
				.mtu = ports[p].mtu,
				.mac = ports[p].mac,
				.addr = l3[p].addr,
				.prefix_len = l3[p].prefix_len,
				.routes = l3[p].routes,
				.neigh = params->neigh,
			};

			wp->w = w;
			wp->port = &ports[p];
			wp->queue = (uint16_t)i;
			if (sl_net_if_init(&wp->nif, &nc, &net_ops, wp) != 0 ||
			    impair_create(wp, &l3[p].impair_rx, &wp->imp_rx) != 0 ||
			    impair_create(wp, &l3[p].impair_tx, &wp->imp_tx) != 0)
				goto fail;
		}
		if (worker_tcp_init(w) != 0)
			goto fail;
	}
	if (sl_dp_shared_init(dp) != 0) /* view RCU, dispatch counters, access log rings */
		goto fail;
	return dp;
fail:
	sl_dp_free(dp);
	errno = ENOMEM;
	return NULL;
}

int
sl_dp_launch(struct sl_dp *dp)
{
	unsigned int lcore, i = 0;

	RTE_LCORE_FOREACH_WORKER (lcore) {
		int ret;

		if (i == dp->n_workers)
			break;
		dp->workers[i]->lcore_id = lcore;
		ret = rte_eal_remote_launch(worker_main, dp->workers[i], lcore);
		if (ret != 0)
			return ret;
		i++;
	}
	return i == dp->n_workers ? 0 : -EINVAL;
}

void
sl_dp_stop(struct sl_dp *dp)
{
	__atomic_store_n(&dp->stop, 1, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
}

void
sl_dp_free(struct sl_dp *dp)
{
	if (dp == NULL)
		return;
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		if (dp->workers[i] == NULL)
			continue;
		worker_tcp_fini(dp->workers[i]);
		sl_worker_shared_fini(dp->workers[i]); /* access log ring */
		for (unsigned int p = 0; p < dp->workers[i]->n_ports; p++) {
			impair_destroy(dp->workers[i]->ports[p].imp_rx);
			impair_destroy(dp->workers[i]->ports[p].imp_tx);
		}
		rte_ring_free(dp->workers[i]->inbox);
		if (dp->workers[i]->rdr != NULL) {
			struct rte_mbuf *m;

			while (rte_ring_dequeue(dp->workers[i]->rdr, (void **)&m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(dp->workers[i]->rdr);
		}
		rte_free(dp->workers[i]);
	}
	sl_dp_shared_fini(dp); /* views, RCU */
	rte_ring_free(dp->ctl_inbox);
	rte_mempool_free(dp->msg_pool);
	if (dp->ctl_efd >= 0)
		close(dp->ctl_efd);
	rte_free(dp);
}

int
sl_dp_ping(struct sl_dp *dp, unsigned int w, struct sl_ip4 dst, uint16_t seq)
{
	struct sl_msg *msg;
	void *obj;

	if (w >= dp->n_workers)
		return -EINVAL;
	if (rte_mempool_get(dp->msg_pool, &obj) != 0)
		return -ENOBUFS;
	msg = obj;
	memset(msg, 0, sizeof(*msg));
	msg->op = SL_MSG_PING;
	msg->from = UINT16_MAX;
	msg->ping.dst = dst;
	msg->ping.seq = seq;
	if (rte_ring_mp_enqueue(dp->workers[w]->inbox, msg) != 0) {
		rte_mempool_put(dp->msg_pool, msg);
		return -ENOBUFS;
	}
	return 0;
}

int
sl_dp_test_connect(struct sl_dp *dp, unsigned int w, struct sl_ip4 dst, uint16_t port,
		   uint32_t bytes, uint32_t id)
{
	struct sl_msg *msg;
	void *obj;

	if (w >= dp->n_workers || port == 0)
		return -EINVAL;
	if (rte_mempool_get(dp->msg_pool, &obj) != 0)
		return -ENOBUFS;
	msg = obj;
	memset(msg, 0, sizeof(*msg));
	msg->op = SL_MSG_CONNECT;
	msg->from = UINT16_MAX;
	msg->connect.dst = dst;
	msg->connect.port = port;
	msg->connect.bytes = bytes;
	msg->connect.id = id;
	if (rte_ring_mp_enqueue(dp->workers[w]->inbox, msg) != 0) {
		rte_mempool_put(dp->msg_pool, msg);
		return -ENOBUFS;
	}
	return 0;
}

/* Post `op` with drain.on = `on` to every worker. @return 0 or -ENOBUFS. */
static int
post_all_on(struct sl_dp *dp, uint16_t op, bool on)
{
	int ret = 0;

	for (unsigned int i = 0; i < dp->n_workers; i++) {
		struct sl_msg *msg;
		void *obj;

		if (rte_mempool_get(dp->msg_pool, &obj) != 0) {
			ret = -ENOBUFS;
			continue;
		}
		msg = obj;
		memset(msg, 0, sizeof(*msg));
		msg->op = op;
		msg->from = UINT16_MAX;
		msg->drain.on = on;
		if (rte_ring_mp_enqueue(dp->workers[i]->inbox, msg) != 0) {
			rte_mempool_put(dp->msg_pool, msg);
			ret = -ENOBUFS;
		}
	}
	return ret;
}

int
sl_dp_drain(struct sl_dp *dp, bool on)
{
	return post_all_on(dp, SL_MSG_DRAIN, on);
}

int
sl_dp_refuse(struct sl_dp *dp, bool on)
{
	return post_all_on(dp, SL_MSG_REFUSE, on);
}

unsigned int
sl_dp_ctl_poll(struct sl_dp *dp, struct sl_msg **msgs, unsigned int n)
{
	uint64_t v;

	/* Reset the doorbell first: a post after this read rings it again. */
	if (read(dp->ctl_efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		DP_LOG(WARNING, "eventfd read: %s", strerror(errno));
	return rte_ring_sc_dequeue_burst(dp->ctl_inbox, (void **)msgs, n, NULL);
}

void
sl_dp_msg_free(struct sl_dp *dp, struct sl_msg *msg)
{
	rte_mempool_put(dp->msg_pool, msg);
}

/*
 * Read `n` counters another lcore writes (relaxed loads; each is written by its owner only)
 * into `dst`, replacing or adding to what is there. Every stats reader goes through here.
 */
static void
counters_read(uint64_t *dst, const void *src, size_t n, bool add)
{
	const uint64_t *s = src;

	for (size_t i = 0; i < n; i++) {
		uint64_t v = __atomic_load_n(&s[i], __ATOMIC_RELAXED);

		dst[i] = add ? dst[i] + v : v;
	}
}

void
sl_dp_lcore_stats(const struct sl_dp *dp, unsigned int w, struct sl_lcore_stats *out)
{
	counters_read((uint64_t *)out, &dp->workers[w]->stats, SL_LCORE_STATS_COUNT, false);
}

void
sl_dp_net_stats_add(const struct sl_dp *dp, unsigned int w, unsigned int p,
		    struct sl_net_stats *sum)
{
	counters_read((uint64_t *)sum, &dp->workers[w]->ports[p].nif.stats, SL_NET_STATS_COUNT,
		      true);
}

void
sl_dp_tcp_stats(const struct sl_dp *dp, unsigned int w, struct sl_tcp_stats *out)
{
	counters_read((uint64_t *)out, &dp->workers[w]->tcp->stats, sizeof(*out) / sizeof(uint64_t),
		      false);
}

void
sl_dp_http_stats(const struct sl_dp *dp, unsigned int w, struct sl_http_stats *out)
{
	const struct sl_worker *wk = dp->workers[w];

	memset(out, 0, sizeof(*out));
	for (unsigned int h = 0; h < wk->n_http; h++)
		counters_read((uint64_t *)out, &wk->http[h]->stats, SL_HTTP_STATS_COUNT, true);
}

void
sl_dp_nf_stats(const struct sl_dp *dp, unsigned int w, uint64_t *out, size_t n)
{
	const struct sl_worker *wk = dp->workers[w];

	if (n > SL_NF_STATS_COUNT)
		n = SL_NF_STATS_COUNT;
	for (unsigned int k = 0; k < wk->n_nf; k++)
		counters_read(out, sl_nf_stats(wk->nf[k]), n, true);
}

uint32_t
sl_dp_conn_bytes(const struct sl_dp *dp, unsigned int w)
{
	return dp->workers[w]->conn_bytes;
}

uint64_t
sl_dp_heap_allocated(void)
{
	uint64_t sum = 0;

	for (unsigned int s = 0; s < rte_socket_count(); s++) {
		struct rte_malloc_socket_stats st;

		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(s), &st) == 0)
			sum += st.heap_allocsz_bytes;
	}
	return sum;
}

void
sl_dp_conn_pool(const struct sl_dp *dp, unsigned int w, unsigned int *free_n, unsigned int *total)
{
	*free_n = rte_mempool_avail_count(dp->workers[w]->conn_pool);
	*total = dp->workers[w]->conn_pool->size;
}

void
sl_dp_impair_stats_add(const struct sl_dp *dp, unsigned int w, unsigned int p,
		       struct sl_impair_stats *rx, struct sl_impair_stats *tx)
{
	const struct sl_worker_port *wp = &dp->workers[w]->ports[p];

	if (wp->imp_rx != NULL)
		counters_read((uint64_t *)rx, &wp->imp_rx->stats, SL_IMPAIR_STATS_COUNT, true);
	if (wp->imp_tx != NULL)
		counters_read((uint64_t *)tx, &wp->imp_tx->stats, SL_IMPAIR_STATS_COUNT, true);
}
