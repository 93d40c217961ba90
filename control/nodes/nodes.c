/*
 * Discovery (docs/nodes.md): for every configured node and app, `resolve [app]` at the node's
 * locator on a fresh TCP connection every discovery.resolve_interval_ms (sooner after a
 * failure), and `info` on a connection to the first resolved endpoint every
 * discovery.info_interval_ms. Every socket is non-blocking and registered in one epoll fd that
 * the control loop nests in its own; every exchange ends within discovery.timeout_ms; replies
 * over SL_NODES_REPLY_MAX fail. A node is up after a resolve round succeeded and down after
 * discovery.down_after consecutive failed rounds.
 */
#include "nodes.h"
#include "sl_addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "native-mp.h"
#include "native-mpc.h"
#include "sl_log.h"
#include "sl_util.h"

#define NODES_LOG(l, ...) SL_LOG(l, "nodes", __VA_ARGS__)

#define NODES_REQ_MAX 256
#define NODES_CHANNEL 1
#define NODES_APP_INFO 1 /* method id of info in the app graph */

static const char *const nodes_quantile_keys[SL_SNAP_QUANTILES] = {
	"50.00%", "75.00%", "90.00%", "95.00%", "98.00%", "99.00%", "99.95%"};

enum xchg_kind { XCHG_RESOLVE, XCHG_INFO };
enum xchg_state { XS_IDLE, XS_CONNECTING, XS_SENDING, XS_READING };

/* One request/reply on its own TCP connection. */
struct xchg {
	struct sl_nodes *owner;
	unsigned int node, app; /* app: index in the config's apps, or n_apps for the probe */
	uint8_t kind, state;
	bool eof; /* the peer closed after sending */
	int fd;
	uint64_t start_ms, deadline_ms, sent_us;
	uint8_t req[NODES_REQ_MAX];
	uint32_t req_len, req_off;
	uint8_t *buf;
	size_t len, cap;
};

struct node_rt {
	struct xchg resolve;	  /* the resolve round: apps in turn, then done */
	uint64_t next_resolve_ms; /* when the next round starts (0 while one runs) */
	bool round_failed;	  /* a resolve of this round failed */
	struct xchg info[SL_SNAP_MAX_APPS];
	uint64_t next_info_ms[SL_SNAP_MAX_APPS];
};

struct sl_nodes {
	struct sl_config cfg_d; /* discovery, nodes and apps (the rest unused) */
	int efd;
	struct sl_cluster_snap snap;
	struct node_rt rt[SL_SNAP_MAX_NODES];
};

static uint64_t
nodes_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
nodes_changed(struct sl_nodes *n)
{
	n->snap.generation++;
}

/*
 * Reply parsing
 */

static void
set_err(char *err, size_t errlen, const char *a)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "malformed reply: %s", a);
}

static bool
mp_uint(const msgpack_object *o, uint64_t *v)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		*v = o->via.u64;
		return true;
	}
	return false;
}

static bool
mp_raw(const msgpack_object *o, const char **p, uint32_t *n)
{
	if (o->type == MSGPACK_OBJECT_STR) {
		*p = o->via.str.ptr;
		*n = o->via.str.size;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_BIN) {
		*p = o->via.bin.ptr;
		*n = o->via.bin.size;
		return true;
	}
	return false;
}

static const msgpack_object *
mp_get(const msgpack_object *map, const char *key)
{
	size_t kl = strlen(key);

	if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const char *p;
		uint32_t n;

		if (mp_raw(&map->via.map.ptr[i].key, &p, &n) && n == kl && memcmp(p, key, n) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

static uint64_t
mp_get_uint(const msgpack_object *map, const char *key)
{
	const msgpack_object *o = mp_get(map, key);
	uint64_t v = 0;

	if (o != NULL && !mp_uint(o, &v) && o->type == MSGPACK_OBJECT_FLOAT64 && o->via.f64 >= 0)
		v = (uint64_t)o->via.f64;
	return v;
}

/*
 * One reply frame: [channel, type, args, ...]. Returns the args through *args and the reply
 * kind; error replies are decoded here.
 */
static int
parse_frame(const void *buf, size_t len, msgpack_zone *zone, const msgpack_object **args,
	    msgpack_object *root, char *err, size_t errlen)
{
	const msgpack_object *a;
	uint64_t ch, type, cat, code;
	int rc;

	if (len == 0)
		return -EAGAIN;
	rc = sl_mpc_unpack(buf, len, NULL, zone, root);
	if (rc == -EAGAIN)
		return len > SL_NODES_REPLY_MAX ? -EMSGSIZE : -EAGAIN;
	if (rc < 0) {
		set_err(err, errlen, strerror(-rc));
		return rc == -ENOMEM ? -ENOMEM : -EBADMSG;
	}
	if ((size_t)rc > SL_NODES_REPLY_MAX)
		return -EMSGSIZE;
	if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size < 3 ||
	    !mp_uint(&root->via.array.ptr[0], &ch) || !mp_uint(&root->via.array.ptr[1], &type) ||
	    root->via.array.ptr[2].type != MSGPACK_OBJECT_ARRAY) {
		set_err(err, errlen, "not a frame [channel, type, [args]]");
		return -EBADMSG;
	}
	a = &root->via.array.ptr[2];
	*args = a;
	if (type == 0)
		return SL_REPLY_VALUE;
	if (type != 1) {
		set_err(err, errlen, "unexpected message type");
		return -EBADMSG;
	}
	/* error [[category, code], message?] */
	if (a->via.array.size < 1 || a->via.array.ptr[0].type != MSGPACK_OBJECT_ARRAY ||
	    a->via.array.ptr[0].via.array.size != 2 ||
	    !mp_uint(&a->via.array.ptr[0].via.array.ptr[0], &cat) ||
	    !mp_uint(&a->via.array.ptr[0].via.array.ptr[1], &code)) {
		set_err(err, errlen, "bad error [[category, code], message]");
		return -EBADMSG;
	}
	if (err != NULL && errlen > 0) {
		const char *p = "";
		uint32_t n = 0;

		if (a->via.array.size >= 2)
			mp_raw(&a->via.array.ptr[1], &p, &n);
		snprintf(err, errlen, "error [%llu, %llu]: %.*s", (unsigned long long)cat,
			 (unsigned long long)code, (int)(n > 64 ? 64 : n), p);
	}
	if ((cat == 0x0A || cat == 0xFF) && code == 1)
		return SL_REPLY_NOT_FOUND;
	return SL_REPLY_ERROR;
}

int
sl_nodes_parse_resolve(const void *buf, size_t len, struct sl_snap_app *out, char *err,
		       size_t errlen)
{
	msgpack_zone zone;
	msgpack_object root;
	const msgpack_object *args = NULL, *eps;
	int rc;

	if (!msgpack_zone_init(&zone, 4096))
		return -ENOMEM;
	rc = parse_frame(buf, len, &zone, &args, &root, err, errlen);
	if (rc != SL_REPLY_VALUE)
		goto out;
	rc = -EBADMSG;
	if (args->via.array.size != 3 || args->via.array.ptr[0].type != MSGPACK_OBJECT_ARRAY ||
	    !mp_uint(&args->via.array.ptr[1], &out->version) ||
	    args->via.array.ptr[2].type != MSGPACK_OBJECT_MAP) {
		set_err(err, errlen, "resolve value is not [[[host, port]...], version, graph]");
		goto out;
	}
	eps = &args->via.array.ptr[0];
	if (eps->via.array.size == 0) {
		set_err(err, errlen, "no endpoints");
		goto out;
	}
	out->n_endpoints = 0;
	for (uint32_t i = 0; i < eps->via.array.size; i++) {
		const msgpack_object *e = &eps->via.array.ptr[i];
		char host[64];
		const char *p;
		uint32_t n;
		uint64_t port;
		struct in_addr ia;

		if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 2 ||
		    !mp_raw(&e->via.array.ptr[0], &p, &n) ||
		    !mp_uint(&e->via.array.ptr[1], &port) || port == 0 || port > 65535 || n == 0 ||
		    n >= sizeof(host)) {
			set_err(err, errlen, "bad endpoint [host, port]");
			goto out;
		}
		memcpy(host, p, n);
		host[n] = '\0';
		if (inet_pton(AF_INET, host, &ia) != 1)
			continue; /* IPv6 and names: not usable yet */
		if (out->n_endpoints < SL_SNAP_MAX_ENDPOINTS) {
			out->endpoints[out->n_endpoints].addr.v = ntohl(ia.s_addr);
			out->endpoints[out->n_endpoints].port = (uint16_t)port;
			out->n_endpoints++;
		}
	}
	if (out->n_endpoints == 0) {
		set_err(err, errlen, "no IPv4 endpoint");
		goto out;
	}
	out->state = SL_APP_PRESENT;
	rc = SL_REPLY_VALUE;
out:
	msgpack_zone_destroy(&zone);
	return rc;
}

int
sl_nodes_parse_info(const void *buf, size_t len, struct sl_snap_info *out, char *err, size_t errlen)
{
	msgpack_zone zone;
	msgpack_object root;
	const msgpack_object *args = NULL, *m, *q, *r, *p, *t;
	int rc;

	if (!msgpack_zone_init(&zone, 4096))
		return -ENOMEM;
	rc = parse_frame(buf, len, &zone, &args, &root, err, errlen);
	if (rc != SL_REPLY_VALUE)
		goto out;
	if (args->via.array.size != 1 || args->via.array.ptr[0].type != MSGPACK_OBJECT_MAP) {
		set_err(err, errlen, "info value is not [{...}]");
		rc = -EBADMSG;
		goto out;
	}
	m = &args->via.array.ptr[0];
	memset(out, 0, sizeof(*out));
	q = mp_get(m, "queue");
	r = mp_get(m, "requests");
	p = mp_get(m, "pool");
	t = mp_get(m, "timings");
	out->queue_depth = mp_get_uint(q, "depth");
	out->queue_capacity = mp_get_uint(q, "capacity");
	out->accepted = mp_get_uint(r, "accepted");
	out->rejected = mp_get_uint(r, "rejected");
	out->pool_active = mp_get_uint(p, "active");
	out->pool_capacity = mp_get_uint(p, "capacity");
	for (int i = 0; i < SL_SNAP_QUANTILES; i++) {
		const msgpack_object *v = mp_get(t, nodes_quantile_keys[i]);

		out->timings_ms[i] = -1;
		if (v == NULL)
			continue;
		if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			out->timings_ms[i] = (double)v->via.u64;
		else if (v->type == MSGPACK_OBJECT_FLOAT64 || v->type == MSGPACK_OBJECT_FLOAT32)
			out->timings_ms[i] = v->via.f64;
	}
	out->valid = true;
	rc = SL_REPLY_VALUE;
out:
	msgpack_zone_destroy(&zone);
	return rc;
}

/*
 * Exchanges
 */

static void
xchg_close(struct xchg *x)
{
	if (x->fd >= 0) {
		epoll_ctl(x->owner->efd, EPOLL_CTL_DEL, x->fd, NULL);
		close(x->fd);
	}
	x->fd = -1;
	x->state = XS_IDLE;
	x->len = 0;
}

/* "[1, method, [args...], []]" with one raw arg or none. */
static void
xchg_request(struct xchg *x, uint64_t method, const char *arg)
{
	struct sl_mp_w w;

	sl_mp_w_init(&w, x->req, sizeof(x->req));
	sl_mp_w_array(&w, 4);
	sl_mp_w_uint(&w, NODES_CHANNEL);
	sl_mp_w_uint(&w, method);
	sl_mp_w_array(&w, arg != NULL ? 1 : 0);
	if (arg != NULL)
		sl_mp_w_cstr(&w, arg);
	sl_mp_w_array(&w, 0);
	x->req_len = w.len;
	x->req_off = 0;
}

static void xchg_done(struct xchg *x, int rc, const char *why, uint64_t now_ms);

static int
xchg_start(struct xchg *x, struct sl_ip4 ip, uint16_t port, uint64_t now_ms)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip.v)};
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = x};
	int rc;

	x->start_ms = now_ms;
	x->deadline_ms = now_ms + x->owner->cfg_d.discovery.timeout_ms;
	x->len = 0;
	x->eof = false;
	x->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (x->fd < 0)
		return -errno;
	rc = connect(x->fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc < 0 && errno != EINPROGRESS) {
		rc = -errno;
		close(x->fd);
		x->fd = -1;
		return rc;
	}
	if (epoll_ctl(x->owner->efd, EPOLL_CTL_ADD, x->fd, &ev) < 0) {
		rc = -errno;
		close(x->fd);
		x->fd = -1;
		return rc;
	}
	x->state = XS_CONNECTING;
	return 0;
}

/* "connect: connection refused" from an errno, lower case as the rest of our messages. */
static void
errno_text(char *out, size_t n, const char *what, int e)
{
	snprintf(out, n, "%s: %s", what, strerror(e));
	for (char *p = out + strlen(what) + 2; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
}

static void
xchg_event(struct xchg *x, uint32_t events, uint64_t now_ms)
{
	char why[SL_SNAP_ERR_MAX];

	if (x->state == XS_CONNECTING) {
		int e = 0;
		socklen_t l = sizeof(e);

		if (getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
			e = errno;
		if (e == 0 && (events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLOUT))
			e = ECONNRESET;
		if (e != 0) {
			errno_text(why, sizeof(why), "connect", e);
			xchg_done(x, -e, why, now_ms);
			return;
		}
		x->state = XS_SENDING;
		x->sent_us = nodes_now_us();
	}
	if (x->state == XS_SENDING) {
		ssize_t w = send(x->fd, x->req + x->req_off, x->req_len - x->req_off, MSG_NOSIGNAL);

		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			errno_text(why, sizeof(why), "send", errno);
			xchg_done(x, -EIO, why, now_ms);
			return;
		}
		if (w > 0)
			x->req_off += (uint32_t)w;
		if (x->req_off == x->req_len) {
			struct epoll_event ev = {.events = EPOLLIN, .data.ptr = x};

			x->state = XS_READING;
			epoll_ctl(x->owner->efd, EPOLL_CTL_MOD, x->fd, &ev);
		}
		return;
	}
	if (x->state == XS_READING) {
		for (;;) {
			ssize_t r;

			if (x->len == x->cap) {
				size_t nc = x->cap == 0 ? 4096 : x->cap * 2;
				uint8_t *nb;

				if (x->cap > SL_NODES_REPLY_MAX) {
					xchg_done(x, -EMSGSIZE, "reply larger than 1 MiB", now_ms);
					return;
				}
				nb = realloc(x->buf, nc);
				if (nb == NULL) {
					xchg_done(x, -ENOMEM, "out of memory", now_ms);
					return;
				}
				x->buf = nb;
				x->cap = nc;
			}
			r = recv(x->fd, x->buf + x->len, x->cap - x->len, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && errno == EAGAIN)
				break;
			if (r < 0) {
				errno_text(why, sizeof(why), "recv", errno);
				xchg_done(x, -EIO, why, now_ms);
				return;
			}
			if (r == 0) {
				x->eof = true;
				break;
			}
			x->len += (size_t)r;
		}
		xchg_done(x, 0, NULL, now_ms); /* rc 0: try to parse */
	}
}

/*
 * Results
 */

static const char *
state_name(uint8_t s)
{
	return s == SL_NODE_UP ? "up" : s == SL_NODE_DOWN ? "down" : "unknown";
}

static void
node_set_state(struct sl_nodes *n, unsigned int i, uint8_t st, uint64_t now_ms)
{
	struct sl_snap_node *sn = &n->snap.nodes[i];
	char a[16];

	if (sn->state == st)
		return;
	sl_ip4_str(sn->locator, a);
	if (st == SL_NODE_UP)
		NODES_LOG(NOTICE, "node %u (%s:%u) %s -> up", i, a, sn->locator_port,
			  state_name(sn->state));
	else
		NODES_LOG(WARNING, "node %u (%s:%u) %s -> down after %u failures: %s", i, a,
			  sn->locator_port, state_name(sn->state), sn->failures, sn->last_error);
	sn->state = st;
	sn->since_ms = now_ms;
	nodes_changed(n);
}

static void resolve_next(struct sl_nodes *n, unsigned int i, uint64_t now_ms);

/* The end of a resolve round for node i. */
static void
round_end(struct sl_nodes *n, unsigned int i, uint64_t now_ms)
{
	struct node_rt *rt = &n->rt[i];
	struct sl_snap_node *sn = &n->snap.nodes[i];
	uint32_t ri = n->cfg_d.discovery.resolve_interval_ms;
	uint32_t to = n->cfg_d.discovery.timeout_ms;

	if (rt->round_failed) {
		sn->failures++;
		nodes_changed(n);
		/* a node never seen up is down at its first failure */
		if (sn->failures >= n->cfg_d.discovery.down_after || sn->state == SL_NODE_UNKNOWN)
			node_set_state(n, i, SL_NODE_DOWN, now_ms);
		/* again soon: a failure is re-checked at once, paced by the timeout */
		rt->next_resolve_ms = now_ms + (to < ri ? to : ri);
	} else {
		/* every passing check is news: a worker that marked the node down on its own
		 * takes it back when it sees ok_seq grow (backend-t.h) */
		sn->ok_seq++;
		nodes_changed(n);
		sn->failures = 0;
		sn->last_error[0] = '\0';
		node_set_state(n, i, SL_NODE_UP, now_ms);
		rt->next_resolve_ms = now_ms + ri;
	}
}

static void
resolve_result(struct xchg *x, int rc, const char *why, uint64_t now_ms)
{
	struct sl_nodes *n = x->owner;
	struct sl_snap_node *sn = &n->snap.nodes[x->node];
	struct node_rt *rt = &n->rt[x->node];
	char err[SL_SNAP_ERR_MAX] = "";
	bool probe = x->app >= n->snap.n_apps;
	struct sl_snap_app tmp = {0};

	if (rc == 0) {
		rc = sl_nodes_parse_resolve(x->buf, x->len, &tmp, err, sizeof(err));
		if (rc == -EAGAIN && !x->eof)
			return;
		if (rc == -EAGAIN)
			snprintf(err, sizeof(err),
				 "connection closed before the reply"); /* more to come */
		if (rc == -EMSGSIZE)
			snprintf(err, sizeof(err), "reply larger than 1 MiB");
		why = err;
	}
	xchg_close(x);
	if (rc == SL_REPLY_VALUE || rc == SL_REPLY_NOT_FOUND) {
		sn->rtt_us = (uint32_t)(nodes_now_us() - x->sent_us);
		if (!probe) {
			struct sl_snap_app *a = &sn->apps[x->app];

			if (rc == SL_REPLY_VALUE) {
				if (a->state != SL_APP_PRESENT || a->version != tmp.version ||
				    a->n_endpoints != tmp.n_endpoints ||
				    memcmp(a->endpoints, tmp.endpoints,
					   sizeof(tmp.endpoints[0]) * tmp.n_endpoints) != 0) {
					a->state = SL_APP_PRESENT;
					a->version = tmp.version;
					a->n_endpoints = tmp.n_endpoints;
					memcpy(a->endpoints, tmp.endpoints, sizeof(a->endpoints));
					nodes_changed(n);
					if (rt->next_info_ms[x->app] == 0 &&
					    rt->info[x->app].fd < 0)
						rt->next_info_ms[x->app] = now_ms;
				}
			} else if (a->state != SL_APP_ABSENT) {
				NODES_LOG(INFO, "node %u: app %s absent", x->node,
					  n->snap.app_names[x->app]);
				a->state = SL_APP_ABSENT;
				a->n_endpoints = 0;
				a->info.valid = false;
				nodes_changed(n);
			}
		}
	} else {
		snprintf(sn->last_error, sizeof(sn->last_error), "%s",
			 why != NULL && why[0] != '\0' ? why : "failed");
		rt->round_failed = true;
		nodes_changed(n);
		round_end(n, x->node, now_ms);
		return;
	}
	x->app++;
	resolve_next(n, x->node, now_ms);
}

static bool
info_same(const struct sl_snap_info *a, const struct sl_snap_info *b)
{
	if (a->valid != b->valid || a->queue_depth != b->queue_depth ||
	    a->queue_capacity != b->queue_capacity || a->accepted != b->accepted ||
	    a->rejected != b->rejected || a->pool_active != b->pool_active ||
	    a->pool_capacity != b->pool_capacity)
		return false;
	for (int i = 0; i < SL_SNAP_QUANTILES; i++)
		if (a->timings_ms[i] < b->timings_ms[i] || a->timings_ms[i] > b->timings_ms[i])
			return false;
	return true;
}

static void
info_result(struct xchg *x, int rc, const char *why, uint64_t now_ms)
{
	struct sl_nodes *n = x->owner;
	struct sl_snap_app *a = &n->snap.nodes[x->node].apps[x->app];
	struct node_rt *rt = &n->rt[x->node];
	char err[SL_SNAP_ERR_MAX] = "";
	struct sl_snap_info tmp = {0};

	if (rc == 0) {
		rc = sl_nodes_parse_info(x->buf, x->len, &tmp, err, sizeof(err));
		if (rc == -EAGAIN && !x->eof)
			return;
		if (rc == -EAGAIN)
			snprintf(err, sizeof(err), "connection closed before the reply");
		if (rc == -EMSGSIZE)
			snprintf(err, sizeof(err), "reply larger than 1 MiB");
		why = err;
	}
	xchg_close(x);
	rt->next_info_ms[x->app] = now_ms + n->cfg_d.discovery.info_interval_ms;
	if (rc == SL_REPLY_VALUE) {
		/* the figures, not the rtt or the age, make a new generation */
		if (!info_same(&a->info, &tmp) || a->info_error[0] != '\0')
			nodes_changed(n);
		a->info = tmp;
		a->info_at_ms = now_ms;
		a->info_rtt_us = (uint32_t)(nodes_now_us() - x->sent_us);
		a->info_error[0] = '\0';
	} else {
		snprintf(a->info_error, sizeof(a->info_error), "%s",
			 why != NULL && why[0] != '\0' ? why : "failed");
		/* the endpoint may have moved or the node gone: re-resolve now */
		if (rt->resolve.fd < 0 && rt->next_resolve_ms > now_ms)
			rt->next_resolve_ms = now_ms;
		nodes_changed(n);
	}
}

static void
xchg_done(struct xchg *x, int rc, const char *why, uint64_t now_ms)
{
	if (x->kind == XCHG_RESOLVE)
		resolve_result(x, rc, why, now_ms);
	else
		info_result(x, rc, why, now_ms);
}

/* Start the resolve of app rt->resolve.app, or end the round. */
static void
resolve_next(struct sl_nodes *n, unsigned int i, uint64_t now_ms)
{
	struct xchg *x = &n->rt[i].resolve;
	const struct sl_snap_node *sn = &n->snap.nodes[i];
	char why[SL_SNAP_ERR_MAX];
	int rc;

	/* with no apps, the round resolves "locator" (a not-found reply still shows health) */
	if (x->app > n->snap.n_apps || (x->app == n->snap.n_apps && n->snap.n_apps > 0)) {
		round_end(n, i, now_ms);
		return;
	}
	xchg_request(x, 0, x->app < n->snap.n_apps ? n->snap.app_names[x->app] : "locator");
	rc = xchg_start(x, sn->locator, sn->locator_port, now_ms);
	if (rc < 0) {
		errno_text(why, sizeof(why), "connect", -rc);
		xchg_done(x, rc, why, now_ms);
	}
}

static void
info_start(struct sl_nodes *n, unsigned int i, unsigned int k, uint64_t now_ms)
{
	struct xchg *x = &n->rt[i].info[k];
	const struct sl_snap_app *a = &n->snap.nodes[i].apps[k];
	char why[SL_SNAP_ERR_MAX];
	int rc;

	xchg_request(x, NODES_APP_INFO, NULL);
	rc = xchg_start(x, a->endpoints[0].addr, a->endpoints[0].port, now_ms);
	if (rc < 0) {
		errno_text(why, sizeof(why), "connect", -rc);
		xchg_done(x, rc, why, now_ms);
	}
}

/*
 * Interface
 */

struct sl_nodes *
sl_nodes_create(const struct sl_config *cfg, uint64_t now_ms)
{
	struct sl_nodes *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->cfg_d.discovery.resolve_interval_ms = cfg->discovery.resolve_interval_ms;
	n->cfg_d.discovery.info_interval_ms = cfg->discovery.info_interval_ms;
	n->cfg_d.discovery.timeout_ms = cfg->discovery.timeout_ms;
	n->cfg_d.discovery.down_after = cfg->discovery.down_after;
	n->efd = epoll_create1(EPOLL_CLOEXEC);
	if (n->efd < 0) {
		free(n);
		return NULL;
	}
	n->snap.n_nodes = cfg->n_nodes < SL_SNAP_MAX_NODES ? cfg->n_nodes : SL_SNAP_MAX_NODES;
	n->snap.n_apps = cfg->n_apps < SL_SNAP_MAX_APPS ? cfg->n_apps : SL_SNAP_MAX_APPS;
	for (unsigned int k = 0; k < n->snap.n_apps; k++)
		snprintf(n->snap.app_names[k], SL_SNAP_APP_NAME_MAX, "%s", cfg->apps[k].name);
	for (unsigned int i = 0; i < n->snap.n_nodes; i++) {
		struct sl_snap_node *sn = &n->snap.nodes[i];
		struct node_rt *rt = &n->rt[i];

		sn->id = i;
		sn->locator = cfg->nodes[i].addr;
		sn->locator_port = cfg->nodes[i].port;
		sn->since_ms = now_ms;
		rt->resolve = (struct xchg){.owner = n, .node = i, .kind = XCHG_RESOLVE, .fd = -1};
		rt->next_resolve_ms = now_ms;
		for (unsigned int k = 0; k < SL_SNAP_MAX_APPS; k++)
			rt->info[k] = (struct xchg){
				.owner = n, .node = i, .app = k, .kind = XCHG_INFO, .fd = -1};
	}
	n->snap.generation = 1;
	return n;
}

void
sl_nodes_free(struct sl_nodes *n)
{
	if (n == NULL)
		return;
	for (unsigned int i = 0; i < n->snap.n_nodes; i++) {
		xchg_close(&n->rt[i].resolve);
		free(n->rt[i].resolve.buf);
		for (unsigned int k = 0; k < SL_SNAP_MAX_APPS; k++) {
			xchg_close(&n->rt[i].info[k]);
			free(n->rt[i].info[k].buf);
		}
	}
	close(n->efd);
	free(n);
}

int
sl_nodes_fd(const struct sl_nodes *n)
{
	return n->efd;
}

const struct sl_cluster_snap *
sl_nodes_snapshot(const struct sl_nodes *n)
{
	return &n->snap;
}

static void
timeout_check(struct xchg *x, uint64_t now_ms)
{
	char why[SL_SNAP_ERR_MAX];

	if (x->fd < 0 || now_ms < x->deadline_ms)
		return;
	snprintf(why, sizeof(why), "%s timed out after %llu ms",
		 x->state == XS_CONNECTING ? "connect" : "reply",
		 (unsigned long long)x->owner->cfg_d.discovery.timeout_ms);
	xchg_done(x, -ETIMEDOUT, why, now_ms);
}

void
sl_nodes_run(struct sl_nodes *n, uint64_t now_ms)
{
	struct epoll_event ev[64];
	int k;

	while ((k = epoll_wait(n->efd, ev, SL_ARRAY_SIZE(ev), 0)) > 0) {
		for (int j = 0; j < k; j++) {
			struct xchg *x = ev[j].data.ptr;

			if (x->fd >= 0)
				xchg_event(x, ev[j].events, now_ms);
		}
		if (k < (int)SL_ARRAY_SIZE(ev))
			break;
	}
	for (unsigned int i = 0; i < n->snap.n_nodes; i++) {
		struct node_rt *rt = &n->rt[i];

		timeout_check(&rt->resolve, now_ms);
		if (rt->resolve.fd < 0 && rt->next_resolve_ms != 0 &&
		    now_ms >= rt->next_resolve_ms) {
			rt->next_resolve_ms = 0;
			rt->round_failed = false;
			rt->resolve.app = 0;
			resolve_next(n, i, now_ms);
		}
		for (unsigned int a = 0; a < n->snap.n_apps; a++) {
			const struct sl_snap_app *sa = &n->snap.nodes[i].apps[a];

			timeout_check(&rt->info[a], now_ms);
			if (rt->info[a].fd < 0 && rt->next_info_ms[a] != 0 &&
			    now_ms >= rt->next_info_ms[a]) {
				rt->next_info_ms[a] = 0;
				if (sa->state == SL_APP_PRESENT && sa->n_endpoints > 0)
					info_start(n, i, a, now_ms);
			}
		}
	}
}

static void
min_due(uint64_t *best, uint64_t t)
{
	if (t != 0 && (*best == 0 || t < *best))
		*best = t;
}

int
sl_nodes_timeout_ms(const struct sl_nodes *n, uint64_t now_ms)
{
	uint64_t best = 0;

	for (unsigned int i = 0; i < n->snap.n_nodes; i++) {
		const struct node_rt *rt = &n->rt[i];

		if (rt->resolve.fd >= 0)
			min_due(&best, rt->resolve.deadline_ms);
		else
			min_due(&best, rt->next_resolve_ms);
		for (unsigned int a = 0; a < n->snap.n_apps; a++) {
			if (rt->info[a].fd >= 0)
				min_due(&best, rt->info[a].deadline_ms);
			else
				min_due(&best, rt->next_info_ms[a]);
		}
	}
	if (best == 0)
		return -1;
	if (best <= now_ms)
		return 0;
	return best - now_ms > INT32_MAX ? INT32_MAX : (int)(best - now_ms);
}

/*
 * The dispatch view
 */

_Static_assert(SL_CL_MAX_NODES >= SL_SNAP_MAX_NODES && SL_CL_MAX_APPS >= SL_SNAP_MAX_APPS &&
		       SL_CL_MAX_ROUTES == SL_CFG_MAX_ROUTES,
	       "the view holds what the snapshot and the config hold");
_Static_assert(SL_CL_HOST_MAX == SL_CFG_HOST_MAX && SL_CL_PREFIX_MAX == SL_CFG_PREFIX_MAX &&
		       SL_CL_NAME_MAX == SL_CFG_APP_NAME_MAX,
	       "route fields fit");

void
sl_nodes_view_from(const struct sl_cluster_snap *s, const struct sl_config *cfg,
		   struct sl_cluster *out)
{
	memset(out, 0, sizeof(*out));
	out->generation = s->generation;
	out->node_header = cfg->dispatch.node_header;
	out->n_nodes = s->n_nodes;
	for (unsigned int i = 0; i < s->n_nodes; i++) {
		const struct sl_snap_node *sn = &s->nodes[i];
		struct sl_cl_node *cn = &out->nodes[i];
		char a[SL_IP4_STRLEN];

		cn->locator = sn->locator;
		cn->locator_port = sn->locator_port;
		cn->up = sn->state == SL_NODE_UP;
		cn->ok_seq = sn->ok_seq;
		sl_ip4_str(sn->locator, a);
		snprintf(cn->name, sizeof(cn->name), "%s:%u", a, sn->locator_port);
	}
	out->n_apps = s->n_apps < cfg->n_apps ? s->n_apps : cfg->n_apps;
	for (unsigned int k = 0; k < out->n_apps; k++) {
		const struct sl_cfg_app *ca = &cfg->apps[k];
		struct sl_cl_app *ap = &out->apps[k];
		size_t len = strlen(ca->name);

		memcpy(ap->name, ca->name, len + 1);
		ap->name_len = (uint8_t)len;
		ap->deadline_ms = ca->deadline_ms;
		ap->retries = (uint8_t)ca->retries;
		/* every node that resolved the app, up or not: the worker looks at the node */
		for (unsigned int i = 0; i < s->n_nodes; i++) {
			const struct sl_snap_app *sa = &s->nodes[i].apps[k];
			struct sl_cl_ep *ep;

			if (sa->state != SL_APP_PRESENT || sa->n_endpoints == 0)
				continue;
			ep = &ap->eps[ap->n_eps++];
			ep->node = (uint16_t)i;
			ep->addr = sa->endpoints[0].addr;
			ep->port = sa->endpoints[0].port;
		}
	}
	out->n_routes = cfg->n_routes;
	for (unsigned int r = 0; r < cfg->n_routes; r++) {
		const struct sl_cfg_route *cr = &cfg->routes[r];
		struct sl_cl_route *ro = &out->routes[r];

		memcpy(ro->host, cr->host, sizeof(ro->host));
		memcpy(ro->prefix, cr->prefix, sizeof(ro->prefix));
		memcpy(ro->event, cr->event, sizeof(ro->event));
		ro->host_len = (uint8_t)strlen(cr->host);
		ro->prefix_len = (uint8_t)strlen(cr->prefix);
		ro->event_len = (uint8_t)strlen(cr->event);
		ro->app = cr->app;
	}
}

void
sl_nodes_view(const struct sl_nodes *n, const struct sl_config *cfg, struct sl_cluster *out)
{
	sl_nodes_view_from(&n->snap, cfg, out);
}
