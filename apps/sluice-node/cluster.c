/*
 * The cluster side of the locator (cocaine-protocol.md 7.3): how nodes find each other and
 * learn each other's services.
 *
 *  - multicast: every interval (5 s by default) the node sends `[uuid, [[ip, port]...]]`
 *    (its locator's endpoint) over UDP to the configured group and port, and listens there.
 *    A node heard for the first time is linked: a TCP connection to its locator and
 *    `connect [our uuid]` on channel 1; the stream's first write is the peer's snapshot
 *    (`[uuid, {service: [[[ip, port]...], version, graph]}]`), later writes are diffs, an
 *    empty endpoint list removing a service. A node silent for 3 intervals is dropped, and
 *    so is one whose stream closes or fails, or whose uuid on the stream is not the one it
 *    announced; it is linked again when it is heard again.
 *  - predefine: the configured nodes are linked at start and re-linked every interval
 *    while unlinked; they never expire.
 *
 * Everything is non-blocking in the node's loop: the announce socket is read on EPOLLIN, a
 * link is a non-blocking connect whose outcome is the connection's first event, and a link
 * that has not delivered its snapshot within 3 intervals fails (next endpoint, or dropped).
 * Bounded: limits.peers remote nodes, limits.services services per node, endpoints and
 * graphs per service (NODE_EP_MAX, NODE_GRAPH_MAX), announces of 64 KiB.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node.h"
#include "sl_log.h"
#include "sl_util.h"

#define CL_LOG(l, ...) SL_LOG(l, "cluster", __VA_ARGS__)
#define CL_RECV_PER_EVENT 64
#define CL_PEER_CHANNELS 4
#define CL_LINK_TIMEOUT_MIN_MS 1000

static uint8_t announce_buf[NODE_ANNOUNCE_MAX];

static int peer_frame(struct conn *c, const struct sl_frame *f, const struct sl_hdrs *h,
		      const struct sl_chan_ev *ev);
static void peer_close(struct conn *c, int err);

static const struct conn_ops peer_ops = {
	.on_frame = peer_frame,
	.on_close = peer_close,
};

static uint64_t
expiry_ms(const struct node *n)
{
	return 3 * n->cfg.cluster.interval_ms;
}

static uint64_t
link_timeout_ms(const struct node *n)
{
	uint64_t t = 3 * n->cfg.cluster.interval_ms;

	return t < CL_LINK_TIMEOUT_MIN_MS ? CL_LINK_TIMEOUT_MIN_MS : t;
}

/* An IP literal and port into a socket address. @return its length, or 0. */
static socklen_t
ep_sockaddr(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return 0;
		return sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return 0;
		return sizeof(*s4);
	}
}

/*
 * Peers
 */

static struct peer *
peer_find(struct node *n, const char *uuid, uint32_t len)
{
	struct peer *p;

	for (p = NL_FIRST(&n->peers); p != NULL; p = NL_NEXT(p, link))
		if (strlen(p->uuid) == len && memcmp(p->uuid, uuid, len) == 0)
			return p;
	return NULL;
}

static void
peer_clear_services(struct peer *p)
{
	struct rsvc *r = NL_FIRST(&p->svcs), *next;

	NL_INIT(&p->svcs);
	p->nsvcs = 0;
	for (; r != NULL; r = next) {
		next = NL_NEXT(r, link);
		svc_meta_clear(&r->m);
		free(r);
	}
}

static void
peer_free(struct loop_grave *g)
{
	free(SL_CONTAINER_OF(g, struct peer, grave));
}

/* Close the link (if any) without telling ourselves; forget what it taught us. */
static void
peer_unlink(struct peer *p)
{
	struct conn *c = p->conn;

	p->conn = NULL;
	p->synced = false;
	if (c != NULL) {
		c->owner = NULL;
		conn_close(c, 0);
	}
	peer_clear_services(p);
}

static void
peer_drop(struct peer *p, const char *why)
{
	struct node *n = p->node;

	CL_LOG(INFO, "node %s dropped: %s (%u services forgotten)", p->uuid, why, p->nsvcs);
	peer_unlink(p);
	NL_REMOVE(&n->peers, p, link);
	n->npeers--;
	p->grave.free_fn = peer_free;
	loop_bury(&n->loop, &p->grave);
}

/* A link is lost: a predefined node is linked again at the next interval, another dropped
 * (linked again when it is heard again). */
static void
peer_lost(struct peer *p, const char *why)
{
	if (!p->is_static) {
		peer_drop(p, why);
		return;
	}
	CL_LOG(INFO, "node %s: %s (%u services forgotten), re-linking in an interval", p->uuid, why,
	       p->nsvcs);
	peer_unlink(p);
}

static int peer_link(struct peer *p);

/* A link failed before its snapshot: the next endpoint, else give up until heard again. */
static void
peer_link_failed(struct peer *p, const char *why)
{
	struct node *n = p->node;

	CL_LOG(NOTICE, "node %s: link to %s:%u failed: %s", p->uuid, p->ep[p->ep_idx].host,
	       p->ep[p->ep_idx].port, why);
	peer_unlink(p);
	while (++p->ep_idx < p->nep)
		if (peer_link(p) == 0)
			return;
	p->ep_idx = 0;
	if (!p->is_static)
		peer_drop(p, "no endpoint reachable");
	(void)n;
}

/* Connect to p->ep[p->ep_idx] and send `connect [our uuid]`. @return 0 or -errno. */
static int
peer_link(struct peer *p)
{
	struct node *n = p->node;
	const struct sl_endpoint *ep = &p->ep[p->ep_idx];
	struct sockaddr_storage ss;
	struct sl_chan_ev ev;
	char name[128];
	struct sl_mp_w w;
	struct conn *c;
	socklen_t sl;
	int fd, one = 1, rc;

	sl = ep_sockaddr(ep->host, ep->port, &ss);
	if (sl == 0) {
		CL_LOG(NOTICE, "node %s: endpoint \"%s\" is not an IP address, skipped", p->uuid,
		       ep->host);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		rc = -errno;
		CL_LOG(NOTICE, "node %s: connect %s:%u: %s", p->uuid, ep->host, ep->port,
		       strerror(-rc));
		close(fd);
		return rc;
	}
	snprintf(name, sizeof(name), "link to node %.40s", p->uuid);
	c = conn_new(&n->loop, fd, &peer_ops, &n->cfg.client_limits, NULL, &sl_proto_locator,
		     CL_PEER_CHANNELS, p, name);
	if (c == NULL)
		return -errno;
	rc = sl_sess_open(&c->sess, SL_LOCATOR_CONNECT, NULL, &ev);
	if (rc == 0)
		rc = conn_out_begin(c, strlen(n->uuid) + 64, &w);
	if (rc == 0) {
		sl_frame_enc_begin(&w, ev.id, SL_LOCATOR_CONNECT, 1, 0);
		sl_mp_w_cstr(&w, n->uuid);
		sl_frame_enc_headers(&w, NULL, 0);
		rc = conn_out_end(c, &w);
	}
	if (rc < 0) {
		c->owner = NULL;
		conn_close(c, rc);
		return rc;
	}
	p->conn = c;
	p->ch = ev.id;
	p->synced = false;
	p->linked_ms = loop_now_ms(&n->loop);
	CL_LOG(INFO, "node %s: linking to its locator at %s:%u", p->uuid, ep->host, ep->port);
	return 0;
}

/* Link from the first endpoint on; a failure at once tries the next ones. */
static void
peer_link_any(struct peer *p)
{
	for (p->ep_idx = 0; p->ep_idx < p->nep; p->ep_idx++)
		if (peer_link(p) == 0)
			return;
	p->ep_idx = 0;
	if (!p->is_static)
		peer_drop(p, "no endpoint reachable");
}

static struct peer *
peer_new(struct node *n, const char *uuid, uint32_t len, const struct sl_endpoint *ep, uint32_t nep,
	 bool is_static)
{
	struct peer *p;

	if (n->npeers >= n->cfg.max_peers) {
		CL_LOG(DEBUG, "node %.*s ignored: limits.peers (%u) reached", (int)len, uuid,
		       n->cfg.max_peers);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->node = n;
	memcpy(p->uuid, uuid, len);
	p->uuid[len] = '\0';
	memcpy(p->ep, ep, nep * sizeof(*ep));
	p->nep = nep;
	p->is_static = is_static;
	p->seen_ms = loop_now_ms(&n->loop);
	NL_INIT(&p->svcs);
	NL_INSERT_TAIL(&n->peers, p, link);
	n->npeers++;
	return p;
}

static struct rsvc *
peer_svc_find(struct peer *p, const char *name, uint32_t len)
{
	struct rsvc *r;

	for (r = NL_FIRST(&p->svcs); r != NULL; r = NL_NEXT(r, link))
		if (strlen(r->name) == len && memcmp(r->name, name, len) == 0)
			return r;
	return NULL;
}

/* One `name: [eps, version, graph]` of a peer's write. @return 0, or -EPROTO (drop). */
static int
peer_update_one(struct peer *p, struct sl_mp_cur *c)
{
	char name[NODE_SVC_NAME_MAX];
	struct sl_mp_cur at;
	struct sl_mp_raw r;
	struct svc_meta m;
	struct rsvc *s;
	uint32_t k;
	int rc;

	if (sl_mp_read_raw(c, &r) < 0)
		return -EPROTO;
	at = *c;
	if (sl_mp_skip(c) < 0)
		return -EPROTO;
	if (r.len == 0 || r.len >= sizeof(name)) {
		CL_LOG(NOTICE, "node %s: a service name of %u bytes, ignored", p->uuid, r.len);
		return 0;
	}
	sl_mp_raw_copy(&r, name, r.len);
	name[r.len] = '\0';
	if (strlen(name) != r.len) {
		CL_LOG(NOTICE, "node %s: a service name with a NUL byte, ignored", p->uuid);
		return 0;
	}
	if (sl_mp_read_array(&at, &k) < 0 || k != 3)
		return -EPROTO;
	rc = svc_meta_read(&at, &m);
	if (rc == -EPROTO)
		return rc;
	if (rc < 0) {
		CL_LOG(NOTICE, "node %s: service %s ignored: %s", p->uuid, name,
		       rc == -ENOBUFS ? "too many endpoints or too large a graph" : strerror(-rc));
		return 0;
	}
	s = peer_svc_find(p, name, r.len);
	if (m.nep == 0) {
		/* an empty endpoint list: removed */
		svc_meta_clear(&m);
		if (s != NULL) {
			NL_REMOVE(&p->svcs, s, link);
			p->nsvcs--;
			svc_meta_clear(&s->m);
			free(s);
			CL_LOG(DEBUG, "node %s: service %s removed", p->uuid, name);
		}
		return 0;
	}
	if (s == NULL) {
		if (p->nsvcs >= p->node->cfg.max_services) {
			if (!p->warned)
				CL_LOG(WARNING,
				       "node %s: more than limits.services (%u) services, "
				       "the rest ignored",
				       p->uuid, p->node->cfg.max_services);
			p->warned = true;
			svc_meta_clear(&m);
			return 0;
		}
		s = calloc(1, sizeof(*s));
		if (s == NULL) {
			svc_meta_clear(&m);
			return 0;
		}
		memcpy(s->name, name, r.len + 1);
		NL_INSERT_TAIL(&p->svcs, s, link);
		p->nsvcs++;
	} else {
		svc_meta_clear(&s->m);
	}
	s->m = m;
	CL_LOG(DEBUG, "node %s: service %s at %s:%u (%u endpoints), version %llu", p->uuid, name,
	       m.ep[0].host, m.ep[0].port, m.nep, (unsigned long long)m.version);
	return 0;
}

/* `write [uuid, {name: meta}]` on the connect stream. */
static int
peer_update(struct peer *p, const struct sl_frame *f)
{
	struct sl_mp_cur c = f->args;
	struct sl_mp_raw uuid;
	uint32_t n, i;

	if (f->nargs != 2 || sl_mp_read_raw(&c, &uuid) < 0 || sl_mp_read_map(&c, &n) < 0)
		return -EPROTO;
	if (uuid.len != strlen(p->uuid) || !sl_mp_raw_eq(&uuid, p->uuid, uuid.len)) {
		CL_LOG(WARNING, "node %s: its stream says it is another node", p->uuid);
		peer_lost(p, "uuid mismatch on its stream");
		return 0;
	}
	for (i = 0; i < n; i++)
		if (peer_update_one(p, &c) < 0)
			return -EPROTO;
	if (!p->synced) {
		p->synced = true;
		CL_LOG(INFO, "node %s: linked, %u services", p->uuid, p->nsvcs);
	} else {
		CL_LOG(DEBUG, "node %s: %u services updated, %u known", p->uuid, n, p->nsvcs);
	}
	return 0;
}

static int
peer_frame(struct conn *c, const struct sl_frame *f, const struct sl_hdrs *h,
	   const struct sl_chan_ev *ev)
{
	struct peer *p = c->owner;
	struct sl_mp_raw msg;
	struct sl_err e;
	char text[160];

	(void)h;
	if (p == NULL)
		return 0;
	switch (ev->slot->id) {
	case SL_STREAM_WRITE:
		if (peer_update(p, f) < 0) {
			peer_lost(p, "a malformed update on its stream");
			return 0;
		}
		return 0;
	case SL_STREAM_ERROR: {
		char why[256];
		int l = 0;

		e.cat = 0;
		e.code = 0;
		if (sl_err_dec_args(&f->args, f->nargs, &e, &msg) == 0) {
			if (msg.len > sizeof(text) - 1)
				msg.len = sizeof(text) - 1;
			l = sl_mp_raw_copy(&msg, text, sizeof(text) - 1);
		}
		text[l > 0 ? l : 0] = '\0';
		snprintf(why, sizeof(why), "its locator answered [[%#llx, %lld], \"%s\"]",
			 (unsigned long long)e.cat, (long long)e.code, text);
		peer_lost(p, why);
		return 0;
	}
	default:
		/* close: the node has no cluster, or is stopping */
		peer_lost(p, "it closed its stream");
		return 0;
	}
}

static void
peer_close(struct conn *c, int err)
{
	struct peer *p = c->owner;
	char why[128];

	if (p == NULL)
		return;
	p->conn = NULL;
	c->owner = NULL;
	snprintf(why, sizeof(why), "connection %s", err != 0 ? strerror(-err) : "closed");
	if (!p->synced)
		peer_link_failed(p, why);
	else
		peer_lost(p, why);
}

const struct svc_meta *
cluster_resolve(struct node *n, const char *name, uint32_t len)
{
	const struct svc_meta *pick = NULL;
	uint32_t seen = 0;
	struct peer *p;

	/* a random node among those that have it (the adhoc gateway, 7.3): reservoir of 1 */
	for (p = NL_FIRST(&n->peers); p != NULL; p = NL_NEXT(p, link)) {
		struct rsvc *r;

		if (!p->synced)
			continue;
		r = peer_svc_find(p, name, len);
		if (r == NULL)
			continue;
		seen++;
		if (node_rand(n) % seen == 0)
			pick = &r->m;
	}
	return pick;
}

void
cluster_pack(struct node *n, msgpack_packer *pk)
{
	uint32_t count = 0;
	struct peer *p;

	for (p = NL_FIRST(&n->peers); p != NULL; p = NL_NEXT(p, link))
		count += p->conn != NULL;
	msgpack_pack_map(pk, count);
	for (p = NL_FIRST(&n->peers); p != NULL; p = NL_NEXT(p, link)) {
		const struct sl_endpoint *ep = &p->ep[p->ep_idx];

		if (p->conn == NULL)
			continue;
		sl_mpc_pack_raw(pk, p->uuid, strlen(p->uuid));
		msgpack_pack_array(pk, 2);
		sl_mpc_pack_raw(pk, ep->host, strlen(ep->host));
		msgpack_pack_uint16(pk, ep->port);
	}
}

/*
 * Announces
 */

static void
announce_send(struct node *n)
{
	const struct nd_cluster *cl = &n->cfg.cluster;
	struct sockaddr_storage ss;
	uint8_t buf[256];
	struct sl_mp_w w;
	socklen_t sl;
	static int last_err;

	sl_mp_w_init(&w, buf, sizeof(buf));
	sl_mp_w_array(&w, 2);
	sl_mp_w_cstr(&w, n->uuid);
	sl_mp_w_array(&w, 1);
	sl_mp_w_array(&w, 2);
	sl_mp_w_cstr(&w, n->cfg.hostname);
	sl_mp_w_uint(&w, n->locator.port);
	sl = ep_sockaddr(cl->group, cl->port, &ss);
	if (w.err < 0 || sl == 0)
		return;
	if (sendto(n->mcast.fd, buf, w.len, 0, (struct sockaddr *)&ss, sl) < 0) {
		if (errno != last_err)
			CL_LOG(WARNING, "announce to %s:%u: %s", cl->group, cl->port,
			       strerror(errno));
		last_err = errno;
		return;
	}
	if (last_err != 0)
		CL_LOG(NOTICE, "announces to %s:%u work again", cl->group, cl->port);
	last_err = 0;
	CL_LOG(DEBUG, "announced %s:%u to %s:%u", n->cfg.hostname, n->locator.port, cl->group,
	       cl->port);
}

/* [uuid, [[ip, port]...]] */
static void
announce_heard(struct node *n, const uint8_t *buf, uint32_t len, const char *from)
{
	struct sl_mp_limits lim;
	struct sl_seg seg = {.p = buf, .len = len};
	struct sl_mp_raw uuid;
	struct sl_mp_cur c;
	struct svc_meta m;
	struct peer *p;
	uint32_t k;

	sl_mp_limits_default(&lim);
	lim.max_frame = NODE_ANNOUNCE_MAX;
	lim.max_count = 1024;
	lim.max_objects = 4096;
	memset(&m, 0, sizeof(m));
	if (sl_mp_scan_flat(buf, len, &lim) != (int)len ||
	    sl_mp_cur_init(&c, &seg, 1, 0, len) < 0 || sl_mp_read_array(&c, &k) < 0 || k != 2 ||
	    sl_mp_read_raw(&c, &uuid) < 0 || uuid.len == 0 || uuid.len >= NCONF_UUID_MAX ||
	    uuid.p == NULL || !node_id_bytes_ok(uuid.p, uuid.len) ||
	    svc_meta_read_eps(&c, &m) < 0 || m.nep == 0) {
		CL_LOG(DEBUG, "a malformed announce from %s (%u bytes), ignored", from, len);
		return;
	}
	if (uuid.len == strlen(n->uuid) && memcmp(uuid.p, n->uuid, uuid.len) == 0)
		return; /* our own (loopback) */
	p = peer_find(n, (const char *)uuid.p, uuid.len);
	if (p != NULL) {
		p->seen_ms = loop_now_ms(&n->loop);
		if (p->conn == NULL && !p->is_static)
			peer_link_any(p);
		return;
	}
	CL_LOG(INFO, "node %.*s heard from %s (locator %s:%u)", (int)uuid.len, uuid.p, from,
	       m.ep[0].host, m.ep[0].port);
	p = peer_new(n, (const char *)uuid.p, uuid.len, m.ep, m.nep, false);
	if (p != NULL)
		peer_link_any(p);
}

static void
mcast_on_io(struct loop_io *io, uint32_t events)
{
	struct node *n = SL_CONTAINER_OF(io, struct node, mcast);
	int i;

	(void)events;
	for (i = 0; i < CL_RECV_PER_EVENT && io->fd >= 0; i++) {
		struct sockaddr_storage from = {.ss_family = AF_UNSPEC};
		socklen_t fl = sizeof(from);
		char addr[INET6_ADDRSTRLEN + 8] = "?";
		ssize_t got;

		got = recvfrom(io->fd, announce_buf, sizeof(announce_buf), MSG_TRUNC,
			       (struct sockaddr *)&from, &fl);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				CL_LOG(WARNING, "announce socket: %s", strerror(errno));
			return;
		}
		if (from.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, addr,
				  sizeof(addr));
		else if (from.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, addr,
				  sizeof(addr));
		if ((size_t)got > sizeof(announce_buf)) {
			CL_LOG(DEBUG, "an announce of %zd bytes from %s, ignored", got, addr);
			continue;
		}
		announce_heard(n, announce_buf, (uint32_t)got, addr);
	}
}

static int
mcast_fail(int fd, const char *what, const struct nd_cluster *cl)
{
	int rc = -errno;

	CL_LOG(ERR, "multicast group %s:%u: %s: %s%s", cl->group, cl->port, what, strerror(-rc),
	       rc == -ENODEV ? " (no route to the group: add one, or set args.interface)" : "");
	close(fd);
	return rc;
}

static int
mcast_open(struct node *n)
{
	const struct nd_cluster *cl = &n->cfg.cluster;
	struct sockaddr_storage ss;
	unsigned int ifindex = 0;
	struct in_addr ifaddr = {.s_addr = htonl(INADDR_ANY)};
	int fd, one = 1, loop = cl->loopback, hops = (int)cl->hops, rc;
	socklen_t sl;

	sl = ep_sockaddr(cl->group, cl->port, &ss);
	if (sl == 0)
		return -EINVAL;
	if (cl->iface[0] != '\0' && inet_pton(AF_INET, cl->iface, &ifaddr) != 1) {
		ifindex = if_nametoindex(cl->iface);
		if (ifindex == 0) {
			CL_LOG(ERR, "cluster interface %s: %s", cl->iface, strerror(errno));
			return -ENODEV;
		}
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* bound to the group: only announces arrive here, not other datagrams to the port */
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		return mcast_fail(fd, "bind", cl);
	if (ss.ss_family == AF_INET) {
		struct ip_mreqn mr;

		memset(&mr, 0, sizeof(mr));
		mr.imr_multiaddr = ((struct sockaddr_in *)&ss)->sin_addr;
		mr.imr_address = ifaddr;
		mr.imr_ifindex = (int)ifindex;
		if (!IN_MULTICAST(ntohl(mr.imr_multiaddr.s_addr))) {
			errno = EINVAL;
			return mcast_fail(fd, "not a multicast address", cl);
		}
		if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
			return mcast_fail(fd, "join", cl);
		if (cl->iface[0] != '\0' &&
		    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0)
			return mcast_fail(fd, "outgoing interface", cl);
		if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) < 0 ||
		    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &hops, sizeof(hops)) < 0)
			return mcast_fail(fd, "loopback/hops", cl);
	} else {
		struct ipv6_mreq mr6;

		memset(&mr6, 0, sizeof(mr6));
		mr6.ipv6mr_multiaddr = ((struct sockaddr_in6 *)&ss)->sin6_addr;
		mr6.ipv6mr_interface = ifindex;
		if (!IN6_IS_ADDR_MULTICAST(&mr6.ipv6mr_multiaddr)) {
			errno = EINVAL;
			return mcast_fail(fd, "not a multicast address", cl);
		}
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr6, sizeof(mr6)) < 0)
			return mcast_fail(fd, "join", cl);
		if (ifindex != 0 &&
		    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof(ifindex)) < 0)
			return mcast_fail(fd, "outgoing interface", cl);
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop, sizeof(loop)) < 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0)
			return mcast_fail(fd, "loopback/hops", cl);
	}
	n->mcast.fd = fd;
	n->mcast.cb = mcast_on_io;
	rc = loop_add(&n->loop, &n->mcast, EPOLLIN);
	if (rc < 0) {
		close(fd);
		n->mcast.fd = -1;
	}
	return rc;
}

int
cluster_init(struct node *n)
{
	const struct nd_cluster *cl = &n->cfg.cluster;
	uint32_t i;
	int rc;

	n->mcast.fd = -1;
	NL_INIT(&n->peers);
	n->next_announce_ms = loop_now_ms(&n->loop);
	if (cl->type == ND_CLUSTER_NONE)
		return 0;
	if (ep_sockaddr(n->cfg.hostname, 1, &(struct sockaddr_storage){0}) == 0)
		CL_LOG(WARNING,
		       "hostname %s is not an IP address: the other nodes cannot link to "
		       "this one (set hostname)",
		       n->cfg.hostname);
	else if (strncmp(n->cfg.hostname, "127.", 4) == 0 || strcmp(n->cfg.hostname, "::1") == 0)
		CL_LOG(NOTICE,
		       "the locator is announced as %s: only nodes on this host can use it "
		       "(set hostname)",
		       n->cfg.hostname);
	if (cl->type == ND_CLUSTER_MULTICAST) {
		rc = mcast_open(n);
		if (rc < 0)
			return rc;
		CL_LOG(NOTICE,
		       "multicast cluster: group %s:%u, announce every %llu ms%s%s, uuid %s",
		       cl->group, cl->port, (unsigned long long)cl->interval_ms,
		       cl->loopback ? ", loopback" : "", cl->iface[0] ? ", interface " : "",
		       n->uuid);
		if (cl->iface[0] != '\0')
			CL_LOG(NOTICE, "multicast interface %s", cl->iface);
		return 0;
	}
	for (i = 0; i < cl->nnodes; i++) {
		struct sl_endpoint ep;

		if (strcmp(cl->nodes[i].uuid, n->uuid) == 0)
			continue; /* ourselves, in a list shared by every node */
		memset(&ep, 0, sizeof(ep));
		snprintf(ep.host, sizeof(ep.host), "%s", cl->nodes[i].host);
		ep.port = cl->nodes[i].port;
		peer_new(n, cl->nodes[i].uuid, (uint32_t)strlen(cl->nodes[i].uuid), &ep, 1, true);
	}
	CL_LOG(NOTICE, "predefined cluster: %u nodes, linked every %llu ms, uuid %s", n->npeers,
	       (unsigned long long)cl->interval_ms, n->uuid);
	return 0;
}

void
cluster_tick(struct node *n, uint64_t now_ms)
{
	const struct nd_cluster *cl = &n->cfg.cluster;
	struct peer *p, *next;

	if (cl->type == ND_CLUSTER_NONE || n->stopping)
		return;
	if (now_ms >= n->next_announce_ms) {
		n->next_announce_ms = now_ms + cl->interval_ms;
		if (n->mcast.fd >= 0)
			announce_send(n);
		for (p = NL_FIRST(&n->peers); p != NULL; p = next) {
			next = NL_NEXT(p, link);
			if (p->is_static && p->conn == NULL)
				peer_link_any(p);
		}
	}
	for (p = NL_FIRST(&n->peers); p != NULL; p = next) {
		next = NL_NEXT(p, link);
		if (!p->is_static && now_ms - p->seen_ms >= expiry_ms(n)) {
			char why[96];

			snprintf(why, sizeof(why), "silent for %llu ms (3 announce intervals)",
				 (unsigned long long)(now_ms - p->seen_ms));
			peer_drop(p, why);
		} else if (p->conn != NULL && !p->synced &&
			   now_ms - p->linked_ms >= link_timeout_ms(n)) {
			peer_link_failed(p, "no snapshot within 3 intervals");
		}
	}
}

void
cluster_stop(struct node *n)
{
	struct peer *p, *next;

	if (n->mcast.fd >= 0) {
		loop_del(&n->loop, &n->mcast);
		close(n->mcast.fd);
		n->mcast.fd = -1;
	}
	for (p = NL_FIRST(&n->peers); p != NULL; p = next) {
		next = NL_NEXT(p, link);
		peer_drop(p, "this node is stopping");
	}
}
