/*
 * The locator (cocaine-protocol.md 2.3, 7.3, 7.4, 12a.5), with the method ids and reply
 * shapes of the locator graph (locator v3 + uuid):
 *
 *  - resolve [name, seed?]: the name goes through the routing groups first (a ketama ring;
 *    by the seed's hash when one is given, else a random point), then local services (the
 *    locator, the node service, storage, every running app), then services published here,
 *    then services of remote nodes (a random node among those that have it). Unknown:
 *    error [[0x0A, 1], "service ... is not available"].
 *  - connect [uuid]: the locator-to-locator stream: `write [our uuid, {service: [[[ip,
 *    port]...], version, graph]}]` with every exported service first, then one write per
 *    change; an empty endpoint list means removed. Closed at once without a cluster.
 *  - refresh [[group...]]: reload routing groups from storage; value [] or
 *    error [[0x0A, 2], ...].
 *  - cluster []: value [{uuid: [ip, port]}] of the remote nodes we are linked to.
 *  - publish [name, [[ip, port]...], [version, graph]?]: value []; the service is exported
 *    (and resolvable here) until the client sends discard or disconnects.
 *  - routing [router id]: stream `write [{group: [[point, member]...]}]`, the whole map
 *    again on every change; discard stops it.
 *  - uuid []: value [uuid].
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node.h"
#include "sl_log.h"

#define LOC_LOG(l, ...) SL_LOG(l, "locator", __VA_ARGS__)
/* protocol versions advertised (2.3: locator v3; node v2; app service of node v2) */
#define VERSION_LOCATOR 3
#define VERSION_NODE 2
#define VERSION_APP 1
#define VERSION_STORAGE 1
#define LOC_REFRESH_MAX NODE_RG_MAX

/* A service to describe: a local one (its graph is static) or a stored one. */
struct svc_view {
	struct sl_endpoint local;
	const struct sl_endpoint *ep;
	uint32_t nep;
	uint64_t version;
	const struct sl_gnode *root;
	const uint8_t *graph;
	uint32_t graph_len;
};

/* endpoints + version + graph of one service, at most */
static uint8_t view_buf[NODE_EP_MAX * 80 + NODE_GRAPH_MAX + 64];

static void
view_local(struct node *n, struct svc_view *v, uint16_t port, uint64_t version,
	   const struct sl_gnode *root)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->local.host, sizeof(v->local.host), "%s", n->cfg.hostname);
	v->local.port = port;
	v->ep = &v->local;
	v->nep = 1;
	v->version = version;
	v->root = root;
}

static void
view_meta(struct svc_view *v, const struct svc_meta *m)
{
	memset(v, 0, sizeof(*v));
	v->ep = m->ep;
	v->nep = m->nep;
	v->version = m->version;
	v->graph = m->graph;
	v->graph_len = m->graph_len;
}

static struct rsvc *
published_find(struct node *n, const char *name, uint32_t len)
{
	struct rsvc *r;

	for (r = NL_FIRST(&n->published); r != NULL; r = NL_NEXT(r, link))
		if (strlen(r->name) == len && memcmp(r->name, name, len) == 0)
			return r;
	return NULL;
}

/* The services of this node: ours, then the published ones. */
static bool
lookup_here(struct node *n, const char *name, uint32_t len, struct svc_view *v)
{
	struct rsvc *r;
	struct app *a;

	if (len == 7 && memcmp(name, "locator", 7) == 0) {
		view_local(n, v, n->locator.port, VERSION_LOCATOR, &sl_proto_locator);
	} else if (len == 4 && memcmp(name, "node", 4) == 0) {
		view_local(n, v, n->nodesvc.port, VERSION_NODE, &sl_proto_node);
	} else if (len == 7 && memcmp(name, "storage", 7) == 0 && n->storage.io.fd >= 0) {
		view_local(n, v, n->storage.port, VERSION_STORAGE, &sl_proto_storage);
	} else if ((a = app_find(n, name, len)) != NULL) {
		view_local(n, v, a->svc.port, VERSION_APP, &sl_proto_app);
	} else if ((r = published_find(n, name, len)) != NULL) {
		view_meta(v, &r->m);
	} else {
		return false;
	}
	return true;
}

/* Write `[[ip, port]...], version, graph` (three objects). */
static void
view_enc(struct sl_mp_w *w, const struct svc_view *v)
{
	uint32_t i;

	sl_mp_w_array(w, v->nep);
	for (i = 0; i < v->nep; i++) {
		sl_mp_w_array(w, 2);
		sl_mp_w_cstr(w, v->ep[i].host);
		sl_mp_w_uint(w, v->ep[i].port);
	}
	sl_mp_w_uint(w, v->version);
	if (v->root != NULL)
		sl_graph_enc_root(w, v->root);
	else if (v->graph != NULL)
		sl_mp_w_bytes(w, v->graph, v->graph_len);
	else
		sl_mp_w_map(w, 0);
}

/* Pack `[eps, version, graph]` (a removed service: `[[], 0, {}]`) with msgpack-c. */
static void
pack_view(msgpack_sbuffer *sb, msgpack_packer *pk, const struct svc_view *v)
{
	struct sl_mp_w w;

	msgpack_pack_array(pk, 3);
	if (v == NULL) {
		msgpack_pack_array(pk, 0);
		msgpack_pack_uint64(pk, 0);
		msgpack_pack_map(pk, 0);
		return;
	}
	sl_mp_w_init(&w, view_buf, sizeof(view_buf));
	view_enc(&w, v);
	msgpack_sbuffer_write(sb, (const char *)view_buf, w.len);
}

static void
not_available(struct conn *c, uint64_t ch, const char *name, uint32_t len, const char *group)
{
	char msg[256];
	int l = len > 100 ? 100 : (int)len;

	if (group != NULL)
		snprintf(msg, sizeof(msg), "service '%.*s' (routing group '%s') is not available",
			 l, name, group);
	else
		snprintf(msg, sizeof(msg), "service '%.*s' is not available", l, name);
	LOC_LOG(DEBUG, "resolve: %s", msg);
	svc_send_error(c, ch, SL_ECAT_LOCATOR, SL_ELOCATOR_SERVICE_NOT_AVAILABLE, msg, NULL);
}

static int
locator_resolve(struct node *n, struct conn *c, uint64_t ch, const struct sl_frame *f)
{
	struct sl_mp_cur args = f->args;
	struct sl_mp_raw name, seed = {.p = NULL, .len = 0};
	char nbuf[NODE_SVC_NAME_MAX], sbuf[256];
	const char *target, *group = NULL;
	const struct svc_meta *m;
	const struct rgroup *g;
	struct svc_view v;
	struct sl_mp_w w;
	uint32_t tlen;
	bool have_seed = false;

	if (f->nargs < 1 || sl_mp_read_raw(&args, &name) < 0)
		return -EINVAL; /* invalid_argument: dropped */
	if (f->nargs >= 2 && sl_mp_read_nil(&args) != 0) {
		if (sl_mp_read_raw(&args, &seed) < 0)
			return -EINVAL;
		have_seed = seed.len > 0;
	}
	if (name.len >= sizeof(nbuf)) {
		not_available(c, ch, "(too long)", 10, NULL);
		return 0;
	}
	sl_mp_raw_copy(&name, nbuf, name.len);
	nbuf[name.len] = '\0';
	target = nbuf;
	tlen = name.len;
	g = routing_find(n, nbuf, name.len);
	if (g != NULL) {
		char *sp = sbuf;

		if (have_seed && seed.len > sizeof(sbuf)) {
			sp = malloc(seed.len);
			if (sp == NULL)
				return -ENOMEM;
		}
		if (have_seed)
			sl_mp_raw_copy(&seed, sp, seed.len);
		group = g->name;
		target = routing_pick(n, g, have_seed ? sp : NULL, have_seed ? seed.len : 0);
		tlen = (uint32_t)strlen(target);
		if (sp != sbuf)
			free(sp);
		LOC_LOG(DEBUG, "resolve %s: routing group -> %s", g->name, target);
	}
	if (!lookup_here(n, target, tlen, &v)) {
		m = cluster_resolve(n, target, tlen);
		if (m == NULL) {
			not_available(c, ch, target, tlen, group);
			return 0;
		}
		view_meta(&v, m);
	}
	sl_mp_w_init(&w, view_buf, sizeof(view_buf));
	view_enc(&w, &v);
	if (w.err < 0)
		return w.err;
	svc_send(c, ch, SL_PRIM_VALUE, view_buf, w.len, 3, NULL);
	return 0;
}

bool
locator_exported(const struct node *n, const char *name)
{
	uint32_t i;

	if (strcmp(name, "locator") == 0)
		return false;
	for (i = 0; i < n->cfg.nrestricted; i++)
		if (strcmp(n->cfg.restricted[i], name) == 0)
			return false;
	return true;
}

/*
 * connect streams
 */

/* The args `uuid, {name: meta}` of every exported service, or of one (name != NULL). */
static void
sync_pack(struct node *n, msgpack_sbuffer *sb, const char *name)
{
	static const char *const fixed[] = {"node", "storage"};
	msgpack_packer pk;
	struct svc_view v;
	uint32_t count = 0, i, pass;
	struct rsvc *r;
	struct app *a;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	/* the two args of the write (svc_send writes the args array's header) */
	sl_mpc_pack_raw(&pk, n->uuid, strlen(n->uuid));
	if (name != NULL) {
		msgpack_pack_map(&pk, 1);
		sl_mpc_pack_raw(&pk, name, strlen(name));
		pack_view(sb, &pk, lookup_here(n, name, (uint32_t)strlen(name), &v) ? &v : NULL);
		return;
	}
	/* two passes: count, then pack */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1)
			msgpack_pack_map(&pk, count);
		for (i = 0; i < 2; i++) {
			if (!locator_exported(n, fixed[i]) ||
			    !lookup_here(n, fixed[i], (uint32_t)strlen(fixed[i]), &v))
				continue;
			if (pass == 0) {
				count++;
				continue;
			}
			sl_mpc_pack_raw(&pk, fixed[i], strlen(fixed[i]));
			pack_view(sb, &pk, &v);
		}
		for (a = NL_FIRST(&n->apps); a != NULL; a = NL_NEXT(a, link)) {
			if (a->state != APP_RUNNING || !locator_exported(n, a->name))
				continue;
			if (pass == 0) {
				count++;
				continue;
			}
			sl_mpc_pack_raw(&pk, a->name, strlen(a->name));
			view_local(n, &v, a->svc.port, VERSION_APP, &sl_proto_app);
			pack_view(sb, &pk, &v);
		}
		for (r = NL_FIRST(&n->published); r != NULL; r = NL_NEXT(r, link)) {
			if (!locator_exported(n, r->name) ||
			    app_find(n, r->name, (uint32_t)strlen(r->name)) != NULL)
				continue;
			if (pass == 0) {
				count++;
				continue;
			}
			sl_mpc_pack_raw(&pk, r->name, strlen(r->name));
			view_meta(&v, &r->m);
			pack_view(sb, &pk, &v);
		}
	}
}

/* Stop serving a stream: clear the channel's user pointer, then close our direction. */
static void
sub_end(struct node *n, struct loc_sub *s, bool send_close)
{
	struct sl_chan *chan = sl_sess_find(&s->conn->sess, s->ch);

	if (chan != NULL && chan->user == s)
		chan->user = NULL;
	if (s->kind == CHAN_SYNC) {
		NL_REMOVE(&n->syncs, s, link);
		n->nsyncs--;
	} else {
		NL_REMOVE(&n->routers, s, link);
		n->nrouters--;
	}
	if (send_close && chan != NULL)
		svc_send_empty(s->conn, s->ch, SL_STREAM_CLOSE, NULL);
	free(s);
}

void
locator_service_changed(struct node *n, const char *name)
{
	struct loc_sub *s, *next;
	msgpack_sbuffer sb;

	if (NL_EMPTY(&n->syncs) || !locator_exported(n, name))
		return;
	msgpack_sbuffer_init(&sb);
	sync_pack(n, &sb, name);
	for (s = NL_FIRST(&n->syncs); s != NULL; s = next) {
		next = NL_NEXT(s, link);
		if (svc_send(s->conn, s->ch, SL_STREAM_WRITE, sb.data, sb.size, 2, NULL) < 0) {
			LOC_LOG(NOTICE, "connect stream of %s: cannot send an update, dropped",
				s->id);
			sub_end(n, s, false);
		}
	}
	LOC_LOG(DEBUG, "service %s changed: %u connect streams told", name, n->nsyncs);
	msgpack_sbuffer_destroy(&sb);
}

static struct loc_sub *
sub_new(struct node *n, struct conn *c, uint64_t ch, uint8_t kind, const struct sl_mp_raw *id)
{
	struct sl_chan *chan = sl_sess_find(&c->sess, ch);
	struct loc_sub_list *list = kind == CHAN_SYNC ? &n->syncs : &n->routers;
	struct loc_sub *s, *old;

	if (chan == NULL)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->kind = kind;
	s->conn = c;
	s->ch = ch;
	sl_mp_raw_copy(id, s->id, id->len);
	s->id[id->len] = '\0';
	/* a second stream under the same id replaces the first (as Cocaine does) */
	for (old = NL_FIRST(list); old != NULL; old = NL_NEXT(old, link)) {
		if (strcmp(old->id, s->id) == 0) {
			LOC_LOG(INFO, "%s stream of '%s' replaced by a new one",
				kind == CHAN_SYNC ? "connect" : "routing", s->id);
			sub_end(n, old, true);
			break;
		}
	}
	chan->user = s;
	NL_INSERT_TAIL(list, s, link);
	if (kind == CHAN_SYNC)
		n->nsyncs++;
	else
		n->nrouters++;
	return s;
}

static int
locator_connect(struct node *n, struct conn *c, uint64_t ch, const struct sl_frame *f)
{
	struct sl_mp_cur args = f->args;
	char id[NCONF_UUID_MAX];
	struct sl_mp_raw uuid;
	msgpack_sbuffer sb;
	struct loc_sub *s;

	if (f->nargs < 1 || sl_mp_read_raw(&args, &uuid) < 0)
		return -EINVAL;
	if (n->cfg.cluster.type == ND_CLUSTER_NONE || n->stopping) {
		/* no cluster means no streams (as a locator without a cluster plugin) */
		svc_send_empty(c, ch, SL_STREAM_CLOSE, NULL);
		return 0;
	}
	if (uuid.len == 0 || uuid.len >= NCONF_UUID_MAX ||
	    sl_mp_raw_copy(&uuid, id, sizeof(id)) < 0 || !node_id_bytes_ok(id, uuid.len)) {
		svc_send_error(c, ch, SL_ECAT_GENERIC, EINVAL,
			       "connect: the node uuid must have 1..63 bytes, no NUL or control "
			       "character",
			       NULL);
		return 0;
	}
	if (n->nsyncs >= n->cfg.max_peers) {
		LOC_LOG(WARNING, "refusing a connect stream: limits.peers (%u) reached",
			n->cfg.max_peers);
		svc_send_error(c, ch, SL_ECAT_GENERIC, EUSERS,
			       "too many connect streams (limits.peers)", NULL);
		return 0;
	}
	s = sub_new(n, c, ch, CHAN_SYNC, &uuid);
	if (s == NULL)
		return -ENOMEM;
	LOC_LOG(INFO, "connect stream of node %s attached (%s)", s->id, c->name);
	msgpack_sbuffer_init(&sb);
	sync_pack(n, &sb, NULL);
	svc_send(c, ch, SL_STREAM_WRITE, sb.data, sb.size, 2, NULL);
	msgpack_sbuffer_destroy(&sb);
	return 0;
}

/*
 * routing streams
 */

static int
routing_send(struct node *n, struct loc_sub *s)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	routing_pack(n, &pk);
	rc = svc_send(s->conn, s->ch, SL_STREAM_WRITE, sb.data, sb.size, 1, NULL);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static void
routing_push_all(struct node *n)
{
	struct loc_sub *s, *next;

	for (s = NL_FIRST(&n->routers); s != NULL; s = next) {
		next = NL_NEXT(s, link);
		if (routing_send(n, s) < 0) {
			LOC_LOG(NOTICE, "routing stream '%s': cannot send an update, dropped",
				s->id);
			sub_end(n, s, false);
		}
	}
}

static int
locator_routing(struct node *n, struct conn *c, uint64_t ch, const struct sl_frame *f)
{
	struct sl_mp_cur args = f->args;
	char buf[NCONF_UUID_MAX];
	struct sl_mp_raw id;
	struct loc_sub *s;

	if (f->nargs < 1 || sl_mp_read_raw(&args, &id) < 0)
		return -EINVAL;
	if (id.len >= NCONF_UUID_MAX || sl_mp_raw_copy(&id, buf, sizeof(buf)) < 0 ||
	    !node_id_bytes_ok(buf, id.len)) {
		svc_send_error(c, ch, SL_ECAT_GENERIC, EINVAL,
			       "routing: the router id must have at most 63 bytes, no NUL or "
			       "control character",
			       NULL);
		return 0;
	}
	if (n->nrouters >= n->cfg.max_peers) {
		svc_send_error(c, ch, SL_ECAT_GENERIC, EUSERS,
			       "too many routing streams (limits.peers)", NULL);
		return 0;
	}
	s = sub_new(n, c, ch, CHAN_ROUTING, &id);
	if (s == NULL)
		return -ENOMEM;
	LOC_LOG(INFO, "routing stream '%s' attached (%s)", s->id, c->name);
	routing_send(n, s);
	return 0;
}

static int
locator_refresh(struct node *n, struct conn *c, uint64_t ch, const struct sl_frame *f)
{
	struct sl_mp_cur args = f->args;
	char *names[LOC_REFRESH_MAX];
	char err[NCONF_ERR_MAX];
	uint32_t count = 0, i;
	struct sl_mp_raw r;
	int rc = 0;

	if (f->nargs < 1)
		return -EINVAL;
	/* [[group, ...]] (0.12), or a single group name (0.11) */
	if (sl_mp_read_array(&args, &count) == 0) {
		if (count > LOC_REFRESH_MAX) {
			svc_send_error(c, ch, SL_ECAT_LOCATOR, SL_ELOCATOR_ROUTING_STORAGE,
				       "refresh: too many groups at once", NULL);
			return 0;
		}
	} else {
		count = 1;
	}
	for (i = 0; i < count; i++) {
		if (sl_mp_read_raw(&args, &r) < 0) {
			rc = -EINVAL;
			count = i;
			break;
		}
		names[i] = malloc(r.len + 1);
		if (names[i] == NULL) {
			rc = -ENOMEM;
			count = i;
			break;
		}
		sl_mp_raw_copy(&r, names[i], r.len);
		names[i][r.len] = '\0';
	}
	if (rc == 0) {
		rc = routing_refresh(n, names, count, err, sizeof(err));
		if (rc < 0) {
			LOC_LOG(WARNING, "refresh: %s", err);
			svc_send_error(c, ch, SL_ECAT_LOCATOR, SL_ELOCATOR_ROUTING_STORAGE, err,
				       NULL);
		} else {
			svc_send_empty(c, ch, SL_PRIM_VALUE, NULL);
			routing_push_all(n);
		}
		rc = 0;
	}
	for (i = 0; i < count; i++)
		free(names[i]);
	return rc;
}

/*
 * publish
 */

static void
unpublish(struct node *n, struct rsvc *r, const char *why)
{
	char name[NODE_SVC_NAME_MAX];

	LOC_LOG(INFO, "service %s unpublished (%s)", r->name, why);
	memcpy(name, r->name, sizeof(name));
	NL_REMOVE(&n->published, r, link);
	n->npublished--;
	svc_meta_clear(&r->m);
	free(r);
	locator_service_changed(n, name);
}

static int
locator_publish(struct node *n, struct conn *c, uint64_t ch, const struct sl_frame *f)
{
	struct sl_mp_cur args = f->args;
	struct sl_chan *chan = sl_sess_find(&c->sess, ch);
	int64_t cat = SL_ECAT_GENERIC, code = EINVAL;
	char msg[256], name[NODE_SVC_NAME_MAX];
	struct sl_mp_raw nm;
	struct svc_view v;
	struct rsvc *r;
	uint32_t k;
	int rc;

	if (chan == NULL || f->nargs < 2 || sl_mp_read_raw(&args, &nm) < 0)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->kind = CHAN_PUBLISH;
	r->conn = c;
	r->ch = ch;
	rc = svc_meta_read_eps(&args, &r->m);
	if (rc == 0 && f->nargs >= 3) {
		/* [version, graph] */
		if (sl_mp_read_array(&args, &k) < 0 || k != 2 ||
		    sl_mp_read_uint(&args, &r->m.version) < 0)
			rc = -EPROTO;
		else
			rc = svc_meta_read_graph(&args, &r->m);
	}
	if (rc == -EPROTO) {
		svc_meta_clear(&r->m);
		free(r);
		return -EINVAL; /* invalid_argument: dropped, as the peers do */
	}
	if (nm.len == 0 || nm.len >= sizeof(name) || nm.p == NULL ||
	    memchr(nm.p, '\0', nm.len) != NULL) {
		snprintf(msg, sizeof(msg),
			 "publish: the name must have 1..%d bytes, none of them NUL",
			 NODE_SVC_NAME_MAX - 1);
		goto refuse;
	}
	memcpy(name, nm.p, nm.len);
	name[nm.len] = '\0';
	if (rc == -ENOBUFS) {
		snprintf(msg, sizeof(msg),
			 "publish %s: more than %d endpoints or a graph over %d bytes", name,
			 NODE_EP_MAX, NODE_GRAPH_MAX);
		code = ENOBUFS;
	} else if (rc < 0) {
		snprintf(msg, sizeof(msg), "publish %s: %s", name, strerror(-rc));
		code = -rc;
	} else if (r->m.nep == 0) {
		snprintf(msg, sizeof(msg), "publish %s: at least one endpoint is needed", name);
	} else if (n->stopping) {
		snprintf(msg, sizeof(msg), "publish %s: the node is stopping", name);
		code = ESHUTDOWN;
	} else if (r->m.graph_len > 1 && r->m.version == 0) {
		snprintf(msg, sizeof(msg), "publish %s: a protocol graph needs a version > 0",
			 name);
		cat = SL_ECAT_LOCATOR;
		code = SL_ELOCATOR_MISSING_VERSION;
	} else if (lookup_here(n, name, nm.len, &v)) {
		snprintf(msg, sizeof(msg), "publish %s: a service of that name exists", name);
		code = EEXIST;
	} else if (n->npublished >= n->cfg.max_services) {
		snprintf(msg, sizeof(msg),
			 "publish %s: too many published services (limits.services)", name);
		code = ENOSPC;
	} else {
		goto accept;
	}
refuse:
	svc_meta_clear(&r->m);
	free(r);
	LOC_LOG(NOTICE, "%s", msg);
	svc_send_error(c, ch, cat, code, msg, NULL);
	return 0;
accept:
	memcpy(r->name, name, sizeof(r->name));
	chan->user = r;
	NL_INSERT_TAIL(&n->published, r, link);
	n->npublished++;
	LOC_LOG(INFO, "service %s published with %u endpoints (%s:%u first), version %llu (%s)",
		r->name, r->m.nep, r->m.ep[0].host, r->m.ep[0].port,
		(unsigned long long)r->m.version, c->name);
	svc_send_empty(c, ch, SL_PRIM_VALUE, NULL);
	locator_service_changed(n, r->name);
	return 0;
}

void
locator_chan_gone(struct node *n, void *user)
{
	uint8_t kind = *(uint8_t *)user;

	if (kind == CHAN_PUBLISH) {
		unpublish(n, user, "its client disconnected");
	} else if (kind == CHAN_SYNC || kind == CHAN_ROUTING) {
		struct loc_sub *s = user;

		LOC_LOG(INFO, "%s stream of '%s' detached (disconnected)",
			kind == CHAN_SYNC ? "connect" : "routing", s->id);
		sub_end(n, s, false);
	}
}

void
locator_stop(struct node *n)
{
	struct loc_sub *s;

	while ((s = NL_FIRST(&n->syncs)) != NULL)
		sub_end(n, s, true);
	while ((s = NL_FIRST(&n->routers)) != NULL)
		sub_end(n, s, true);
}

/* A message on a channel already open: discard after publish or routing. */
static int
locator_chan_msg(struct node *n, const struct sl_chan_ev *ev)
{
	uint8_t *kind = ev->user;

	if (kind == NULL)
		return 0;
	if (*kind == CHAN_PUBLISH) {
		struct sl_chan *chan;
		struct rsvc *r = ev->user;

		chan = sl_sess_find(&r->conn->sess, r->ch);
		if (chan != NULL)
			chan->user = NULL;
		unpublish(n, r, "discard");
	} else if (*kind == CHAN_ROUTING) {
		struct loc_sub *s = ev->user;

		LOC_LOG(INFO, "routing stream '%s' detached (discard)", s->id);
		sub_end(n, s, true);
	}
	return 0;
}

static int
locator_frame(struct conn *c, const struct sl_frame *f, const struct sl_hdrs *h,
	      const struct sl_chan_ev *ev)
{
	struct node *n = c->owner;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint8_t buf[64];
	struct sl_mp_w w;

	(void)h;
	if (!ev->opened)
		return locator_chan_msg(n, ev);
	switch (ev->slot->id) {
	case SL_LOCATOR_RESOLVE:
		return locator_resolve(n, c, ev->id, f);
	case SL_LOCATOR_UUID:
		sl_mp_w_init(&w, buf, sizeof(buf));
		sl_mp_w_cstr(&w, n->uuid);
		svc_send(c, ev->id, SL_PRIM_VALUE, buf, w.len, 1, NULL);
		return 0;
	case SL_LOCATOR_REFRESH:
		return locator_refresh(n, c, ev->id, f);
	case SL_LOCATOR_CLUSTER:
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		cluster_pack(n, &pk);
		svc_send(c, ev->id, SL_PRIM_VALUE, sb.data, sb.size, 1, NULL);
		msgpack_sbuffer_destroy(&sb);
		return 0;
	case SL_LOCATOR_CONNECT:
		return locator_connect(n, c, ev->id, f);
	case SL_LOCATOR_PUBLISH:
		return locator_publish(n, c, ev->id, f);
	case SL_LOCATOR_ROUTING:
		return locator_routing(n, c, ev->id, f);
	default:
		return -ENOENT;
	}
}

static void
locator_close(struct conn *c, int err)
{
	struct node *n = c->owner;

	(void)err;
	node_client_closed(n, c);
}

static const struct conn_ops locator_ops = {
	.on_frame = locator_frame,
	.on_close = locator_close,
};

void
locator_accept(struct listener *ls, int fd)
{
	struct node *n = ls->owner;
	struct conn *c;

	if (!node_client_admit(n)) {
		close(fd);
		return;
	}
	c = conn_new(&n->loop, fd, &locator_ops, &n->cfg.client_limits, &sl_proto_locator, NULL, 64,
		     n, "locator client");
	if (c == NULL) {
		LOC_LOG(WARNING, "client connection: %s", strerror(errno));
		return;
	}
	NL_INSERT_TAIL(&n->conns, c, link);
	n->nclients++;
}
