/*
 * App instances: the app service (4.2: enqueue, info, control) on its own TCP port, the unix
 * socket its workers connect to, start and stop (drain), the info report and the request
 * statistics behind it.
 *
 * Stopping (pause_app, SIGTERM) drains: the service stops accepting connections and new
 * enqueues get [[0x51FF, 6], "the app is stopping"]; queued and running requests go on;
 * idle workers are terminated once the queue is empty; at the termination timeout whatever
 * is left fails and every worker is killed. The app is freed when its last worker is reaped.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node.h"
#include "sl_log.h"
#include "sl_util.h"

#define APP_LOG(l, ...) SL_LOG(l, "app", __VA_ARGS__)
#define APP_DEPTH_EWMA 0.9 /* weight of the past in queue.depth_average per tick */

/* exp(-5 s / 1, 5, 15 min): the load-average decay for a 5 s rate period */
static const double rate_decay[3] = {0.920044414629323, 0.983471453821617, 0.994459848803828};

static int app_conn_frame(struct conn *c, const struct sl_frame *f, const struct sl_hdrs *h,
			  const struct sl_chan_ev *ev);
static void app_conn_close(struct conn *c, int err);

static const struct conn_ops app_conn_ops = {
	.on_frame = app_conn_frame,
	.on_close = app_conn_close,
};

struct app *
app_find(struct node *n, const char *name, uint32_t len)
{
	struct app *a;

	for (a = NL_FIRST(&n->apps); a != NULL; a = NL_NEXT(a, link))
		if (a->state == APP_RUNNING && strlen(a->name) == len &&
		    memcmp(a->name, name, len) == 0)
			return a;
	return NULL;
}

struct app *
app_by_gen(struct node *n, const char *name, uint32_t gen)
{
	struct app *a;

	for (a = NL_FIRST(&n->apps); a != NULL; a = NL_NEXT(a, link))
		if (a->gen == gen && strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

/*
 * Control streams (4.2 control, 3.2 node control): `write [n]` keeps n workers (<= 0:
 * automatic). The target lasts while the stream that set it is open.
 */

void
app_set_target(struct app *a, int64_t n, struct ctl_chan *owner)
{
	uint32_t t = n <= 0 ? 0 : (n > a->prof.pool_limit ? a->prof.pool_limit : (uint32_t)n);

	if (n <= 0 && a->ctl_owner != owner)
		return; /* another control stream set the current target */
	a->ctl_owner = n > 0 ? owner : NULL;
	if (t == a->manual_target)
		return;
	if (t == 0)
		APP_LOG(INFO, "app %s: worker target automatic (was %u)", a->name,
			a->manual_target);
	else
		APP_LOG(INFO, "app %s: worker target %u", a->name, t);
	a->manual_target = t;
	pool_rebalance(a);
	pool_pump(a);
}

int
app_open_control(struct app *a, struct conn *c, uint64_t ch)
{
	struct sl_chan *chan = sl_sess_find(&c->sess, ch);
	struct ctl_chan *ctl;

	if (chan == NULL)
		return -ENOENT;
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL)
		return -ENOMEM;
	ctl->kind = CHAN_CONTROL;
	snprintf(ctl->app, sizeof(ctl->app), "%s", a->name);
	ctl->gen = a->gen;
	chan->user = ctl;
	return 0;
}

static void
ctl_release(struct node *n, struct ctl_chan *ctl)
{
	struct app *a = app_by_gen(n, ctl->app, ctl->gen);

	if (a != NULL && a->ctl_owner == ctl)
		app_set_target(a, 0, ctl);
	free(ctl);
}

static int
ctl_frame(struct node *n, struct conn *c, struct ctl_chan *ctl, const struct sl_frame *f,
	  const struct sl_chan_ev *ev)
{
	struct sl_chan_ev rev = {.closed = false};
	struct app *a;

	if (ev->slot->id == SL_STREAM_WRITE) {
		struct sl_mp_cur args = f->args;
		int64_t target;

		if (f->nargs < 1 || sl_mp_read_int(&args, &target) < 0)
			return -EINVAL; /* invalid_argument: the peers drop the connection */
		a = app_by_gen(n, ctl->app, ctl->gen);
		if (a != NULL)
			app_set_target(a, target, ctl);
		return 0;
	}
	/* close or error: the client is done; the reply is a void value */
	svc_send_empty(c, ev->id, SL_PRIM_VALUE, &rev);
	if (rev.closed)
		ctl_release(n, ctl);
	return 0;
}

int
chan_user_frame(struct node *n, struct conn *c, const struct sl_frame *f, const struct sl_hdrs *h,
		const struct sl_chan_ev *ev)
{
	const uint8_t *kind = ev->user;

	if (kind == NULL)
		return 0; /* a refused enqueue: the rest of its stream is dropped */
	if (*kind == CHAN_REQ) {
		req_client_msg(ev->user, f, h, ev);
		return 0;
	}
	return ctl_frame(n, c, ev->user, f, ev);
}

void
chan_user_gone(struct node *n, struct conn *c)
{
	struct sl_chan *ch;
	uint32_t pos = 0;

	while ((ch = sl_sess_next(&c->sess, &pos)) != NULL) {
		uint8_t *kind = ch->user;

		ch->user = NULL;
		if (kind == NULL)
			continue;
		if (*kind == CHAN_REQ)
			req_client_gone((struct req *)(void *)kind);
		else if (*kind == CHAN_CONTROL)
			ctl_release(n, (struct ctl_chan *)(void *)kind);
		else
			locator_chan_gone(n, kind);
	}
}

int
app_open_enqueue(struct app *a, struct conn *c, uint64_t ch, const struct sl_mp_raw *event,
		 const struct sl_hdrs *h)
{
	return req_enqueue(a, c, ch, event, h);
}

/*
 * Statistics and info (4.2)
 */

void
app_account_done(struct app *a, const struct req *r, uint64_t now_us)
{
	struct app_stats *st = &a->st;
	uint64_t ms = (now_us - r->t0_us + 500) / 1000;
	uint32_t slot;

	st->completed++;
	st->rate_count++;
	if (st->timings_n < NODE_TIMINGS) {
		slot = (st->timings_head + st->timings_n) % NODE_TIMINGS;
		st->timings_n++;
	} else {
		slot = st->timings_head;
		st->timings_head = (st->timings_head + 1) % NODE_TIMINGS;
	}
	st->timings_ms[slot] = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

static void
app_stats_tick(struct app *a, uint64_t now_ms)
{
	struct app_stats *st = &a->st;
	int i;

	st->depth_avg = st->depth_avg * APP_DEPTH_EWMA + (double)a->depth * (1.0 - APP_DEPTH_EWMA);
	if (now_ms - st->rate_tick_ms < NODE_RATE_PERIOD_MS)
		return;
	for (i = 0; i < 3; i++)
		st->rate[i] = st->rate[i] * rate_decay[i] + (double)st->rate_count * 1000.0 /
								    NODE_RATE_PERIOD_MS *
								    (1.0 - rate_decay[i]);
	st->rate_count = 0;
	st->rate_tick_ms = now_ms;
}

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

static void
pk_str(msgpack_packer *pk, const char *s)
{
	sl_mpc_pack_raw(pk, s, strlen(s));
}

static void
pk_kv_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
	pk_str(pk, k);
	msgpack_pack_uint64(pk, v);
}

/* "timings": {"50.00%": ms, ...} over the last NODE_TIMINGS requests (2016 keys) */
static void
app_pack_timings(const struct app *a, msgpack_packer *pk)
{
	static const double q[] = {50, 75, 90, 95, 98, 99, 99.95};
	uint32_t sorted[NODE_TIMINGS], n = a->st.timings_n, i;

	if (n == 0) {
		msgpack_pack_map(pk, 0);
		return;
	}
	for (i = 0; i < n; i++)
		sorted[i] = a->st.timings_ms[(a->st.timings_head + i) % NODE_TIMINGS];
	qsort(sorted, n, sizeof(sorted[0]), cmp_u32);
	msgpack_pack_map(pk, SL_ARRAY_SIZE(q));
	for (i = 0; i < SL_ARRAY_SIZE(q); i++) {
		char key[16];
		uint32_t idx = (uint32_t)(q[i] / 100.0 * (double)(n - 1) + 0.5);

		snprintf(key, sizeof(key), "%.2f%%", q[i]);
		pk_str(pk, key);
		msgpack_pack_uint32(pk, sorted[idx < n ? idx : n - 1]);
	}
}

static void
app_pack_profile(const struct app *a, msgpack_packer *pk, bool expand)
{
	const struct nd_profile *p = &a->prof;

	msgpack_pack_map(pk, expand ? 13 : 1);
	pk_str(pk, "name");
	pk_str(pk, p->name);
	if (!expand)
		return;
	pk_kv_u64(pk, "pool-limit", p->pool_limit);
	pk_kv_u64(pk, "queue-limit", p->queue_limit);
	pk_kv_u64(pk, "concurrency", p->concurrency);
	pk_kv_u64(pk, "grow-threshold", p->grow_threshold);
	pk_kv_u64(pk, "crashlog-limit", p->crashlog_limit);
	pk_str(pk, "heartbeat-timeout");
	msgpack_pack_double(pk, (double)p->heartbeat_ms / 1000.0);
	pk_str(pk, "startup-timeout");
	msgpack_pack_double(pk, (double)p->startup_ms / 1000.0);
	pk_str(pk, "idle-timeout");
	msgpack_pack_double(pk, (double)p->idle_ms / 1000.0);
	pk_str(pk, "termination-timeout");
	msgpack_pack_double(pk, (double)p->terminate_ms / 1000.0);
	pk_str(pk, "seal-timeout");
	msgpack_pack_double(pk, (double)p->seal_ms / 1000.0);
	pk_str(pk, "request-timeout");
	msgpack_pack_double(pk, (double)p->request_ms / 1000.0);
	pk_str(pk, "log-output");
	if (p->log_output)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

static void
app_pack_manifest(const struct app *a, msgpack_packer *pk)
{
	uint32_t i;

	msgpack_pack_map(pk, 2);
	pk_str(pk, "slave");
	pk_str(pk, a->man.slave);
	pk_str(pk, "environment");
	msgpack_pack_map(pk, a->man.nenv);
	for (i = 0; i < a->man.nenv; i++) {
		const char *kv = a->man.env[i], *eq = strchr(kv, '=');

		sl_mpc_pack_raw(pk, kv, (size_t)(eq - kv));
		pk_str(pk, eq + 1);
	}
}

/* pool.slaves: {uuid: {...}} */
static void
app_pack_slaves(const struct app *a, msgpack_packer *pk, uint64_t now_ms, uint64_t now_us)
{
	const struct slave *s;
	uint32_t n = 0;

	for (s = NL_FIRST(&a->slaves); s != NULL; s = NL_NEXT(s, link))
		n++;
	msgpack_pack_map(pk, n);
	for (s = NL_FIRST(&a->slaves); s != NULL; s = NL_NEXT(s, link)) {
		uint32_t tx = 0, rx = 0, pos = 0;
		uint64_t oldest = 0;
		struct sl_chan *ch;

		if (s->conn != NULL) {
			while ((ch = sl_sess_next(&s->conn->sess, &pos)) != NULL) {
				const struct req *r = ch->user;

				if (ch->id == s->ctl_ch || r == NULL)
					continue;
				tx += !(ch->flags & SL_CHAN_TX_DONE);
				rx += !(ch->flags & SL_CHAN_RX_DONE);
				if (now_us - r->t0_us > oldest)
					oldest = now_us - r->t0_us;
			}
		}
		pk_str(pk, s->uuid);
		msgpack_pack_map(pk, 9);
		pk_kv_u64(pk, "accepted", s->accepted);
		pk_kv_u64(pk, "load:tx", tx);
		pk_kv_u64(pk, "load:rx", rx);
		pk_kv_u64(pk, "load:total", s->load);
		pk_str(pk, "state");
		pk_str(pk, slave_state_name(s->state));
		pk_kv_u64(pk, "uptime", (now_ms - s->spawned_ms) / 1000);
		pk_kv_u64(pk, "oldest_channel_age", oldest / 1000);
		pk_kv_u64(pk, "pid", (uint64_t)s->pid);
		pk_str(pk, "profile");
		pk_str(pk, a->prof.name);
	}
}

int
app_info_pack(struct app *a, msgpack_packer *pk, unsigned int flags)
{
	uint64_t now_ms = loop_now_ms(&a->node->loop), now_us = a->node->loop.now_us;
	const struct app_stats *st = &a->st;
	uint32_t active, idle, load, n = 1;
	uint64_t uptime = (now_ms - a->started_ms) / 1000;

	if (flags & 1)
		n += 9;
	if (flags & 2)
		n++;
	if (!(flags & 1) && (flags & 4))
		n++;
	msgpack_pack_map(pk, n);
	pk_str(pk, "state");
	pk_str(pk, a->state == APP_RUNNING ? "running" : "stopping");
	if (flags & 2) {
		pk_str(pk, "manifest");
		app_pack_manifest(a, pk);
	}
	if (!(flags & 1)) {
		if (flags & 4) {
			pk_str(pk, "profile");
			app_pack_profile(a, pk, true);
		}
		return 0;
	}
	pool_counts(a, &active, &idle, &load);
	pk_kv_u64(pk, "uptime", uptime);
	pk_str(pk, "profile");
	app_pack_profile(a, pk, (flags & 4) != 0);
	pk_str(pk, "requests");
	msgpack_pack_map(pk, 4);
	pk_kv_u64(pk, "accepted", st->accepted);
	pk_kv_u64(pk, "rejected", st->rejected);
	pk_kv_u64(pk, "completed", st->completed);
	pk_kv_u64(pk, "failed", st->failed);
	pk_str(pk, "queue");
	msgpack_pack_map(pk, 4);
	pk_kv_u64(pk, "capacity",
		  a->prof.queue_limit > 0 ? a->prof.queue_limit
					  : (uint64_t)a->prof.pool_limit * a->prof.concurrency);
	pk_kv_u64(pk, "depth", a->depth);
	pk_kv_u64(pk, "oldest_event_age",
		  NL_EMPTY(&a->queue) ? 0 : (now_us - NL_FIRST(&a->queue)->t0_us) / 1000);
	pk_str(pk, "depth_average");
	msgpack_pack_double(pk, st->depth_avg);
	pk_str(pk, "timings");
	app_pack_timings(a, pk);
	pk_str(pk, "rate");
	msgpack_pack_array(pk, 3);
	msgpack_pack_double(pk, st->rate[0]);
	msgpack_pack_double(pk, st->rate[1]);
	msgpack_pack_double(pk, st->rate[2]);
	pk_str(pk, "rate_mean");
	msgpack_pack_double(pk, uptime > 0 ? (double)st->completed / (double)uptime : 0.0);
	pk_kv_u64(pk, "load", load);
	pk_str(pk, "pool");
	msgpack_pack_map(pk, 7);
	pk_kv_u64(pk, "active", active);
	pk_kv_u64(pk, "idle", idle);
	pk_kv_u64(pk, "capacity", a->prof.pool_limit);
	pk_kv_u64(pk, "target", a->manual_target);
	pk_kv_u64(pk, "total:spawned", st->spawned);
	pk_kv_u64(pk, "total:crashed", st->crashed);
	pk_str(pk, "slaves");
	app_pack_slaves(a, pk, now_ms, now_us);
	return 0;
}

/* Reply `value [info]` on a channel. */
static int
app_send_info(struct app *a, struct conn *c, uint64_t ch, unsigned int flags)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	app_info_pack(a, &pk, flags);
	rc = svc_send(c, ch, SL_PRIM_VALUE, sb.data, sb.size, 1, NULL);
	msgpack_sbuffer_destroy(&sb);
	return rc == -ENOBUFS || rc == -ENOMEM ? rc : 0;
}

/*
 * The app service
 */

static int
app_conn_frame(struct conn *c, const struct sl_frame *f, const struct sl_hdrs *h,
	       const struct sl_chan_ev *ev)
{
	struct app *a = c->owner;
	struct sl_mp_cur args = f->args;
	struct sl_mp_raw event;

	if (!ev->opened)
		return chan_user_frame(a->node, c, f, h, ev);
	switch (ev->slot->id) {
	case SL_APP_ENQUEUE:
		/* enqueue [event, tag?] (the tag is deprecated in node v2 and ignored) */
		if (f->nargs < 1 || sl_mp_read_raw(&args, &event) < 0)
			return -EINVAL;
		return app_open_enqueue(a, c, ev->id, &event, h);
	case SL_APP_INFO:
		return app_send_info(a, c, ev->id, 1);
	case SL_APP_CONTROL:
		return app_open_control(a, c, ev->id);
	default:
		return -ENOENT;
	}
}

static void
app_conn_close(struct conn *c, int err)
{
	struct app *a = c->owner;

	(void)err;
	chan_user_gone(a->node, c);
	NL_REMOVE(&a->clients, c, link);
	a->node->nclients--;
}

static void
app_accept(struct listener *ls, int fd)
{
	struct app *a = ls->owner;
	char name[128];
	struct conn *c;

	if (!node_client_admit(a->node)) {
		close(fd);
		return;
	}
	snprintf(name, sizeof(name), "app %s client", a->name);
	c = conn_new(&a->node->loop, fd, &app_conn_ops, &a->node->cfg.client_limits, &sl_proto_app,
		     NULL, 0, a, name);
	if (c == NULL) {
		APP_LOG(WARNING, "app %s: client connection: %s", a->name, strerror(errno));
		return;
	}
	NL_INSERT_TAIL(&a->clients, c, link);
	a->node->nclients++;
}

/* The app service port: ephemeral, or the next free one of the configured range. */
static int
app_listen(struct app *a)
{
	struct node *n = a->node;
	const struct nd_config *cfg = &n->cfg;
	uint32_t tries, span;
	int rc = -EADDRINUSE;

	a->svc.owner = a;
	a->svc.on_accept = app_accept;
	if (cfg->port_min == 0)
		return listener_tcp(&n->loop, &a->svc, cfg->address, 0);
	span = (uint32_t)cfg->port_max - cfg->port_min + 1;
	for (tries = 0; tries < span; tries++) {
		uint16_t port = n->next_port;

		if (port < cfg->port_min || port > cfg->port_max)
			port = cfg->port_min;
		n->next_port = port == cfg->port_max ? cfg->port_min : (uint16_t)(port + 1);
		rc = listener_tcp(&n->loop, &a->svc, cfg->address, port);
		if (rc != -EADDRINUSE)
			return rc;
	}
	return rc;
}

static void
app_grave_free(struct loop_grave *g)
{
	struct app *a = SL_CONTAINER_OF(g, struct app, grave);

	nconf_manifest_free(&a->man);
	free(a);
}

/* Free an app whose workers are gone: close its sockets and whatever still points at it. */
void
app_destroy(struct app *a)
{
	struct node *n = a->node;
	struct slave *s;
	struct conn *c;
	struct req *r;

	APP_LOG(INFO, "app %s: stopped", a->name);
	a->state = APP_STOPPING;
	listener_close(&a->svc);
	listener_close(&a->wsock);
	unlink(a->sock_path);
	while ((s = NL_FIRST(&a->slaves)) != NULL) {
		/* only at a forced exit: the process is killed and forgotten */
		slave_kill(s, SL_ECAT_NODE, SL_ENODE_NOT_RUNNING, "the node is exiting", false);
		NL_REMOVE(&a->slaves, s, link);
		slave_free(s);
	}
	while ((c = NL_FIRST(&a->pending)) != NULL)
		conn_close(c, 0);
	while ((c = NL_FIRST(&a->clients)) != NULL)
		conn_close(c, 0);
	/* node service channels (node.enqueue) may still hold requests of this app */
	while ((r = NL_FIRST(&a->reqs)) != NULL)
		req_abandon(r, "the app has stopped");
	NL_REMOVE(&n->apps, a, link);
	a->grave.free_fn = app_grave_free;
	loop_bury(&n->loop, &a->grave);
}

/*
 * Profiles and manifests: the files (paths.profiles, paths.apps), else the storage
 * collections "profiles" and "manifests" (as Cocaine keeps them), msgpack maps.
 */
static int
app_load_profile(struct node *n, const char *name, struct nd_profile *p, char *err, size_t errlen)
{
	char ferr[NCONF_ERR_MAX], label[NCONF_NAME_MAX + 32];
	json_t *j;
	int rc = nconf_profile_load(&n->cfg, name, p, ferr, sizeof(ferr));

	if (rc != -ENOENT || n->storage.io.fd < 0) {
		snprintf(err, errlen, "%s", ferr);
		return rc;
	}
	rc = storage_read_json(n, "profiles", name, &j, err, errlen);
	if (rc == -ENOENT) {
		snprintf(err, errlen, "%s; no profile '%s' in storage either", ferr, name);
		return rc;
	}
	if (rc < 0)
		return rc;
	snprintf(label, sizeof(label), "storage profiles/%s", name);
	rc = nconf_profile_load_json(&n->cfg, name, label, j, p, err, errlen);
	json_decref(j);
	if (rc == 0)
		APP_LOG(INFO, "profile %s: from storage", name);
	return rc;
}

static int
app_load_manifest(struct node *n, const char *name, struct nd_manifest *m, char *err, size_t errlen)
{
	char ferr[NCONF_ERR_MAX], label[NCONF_NAME_MAX + 32];
	json_t *j;
	int rc = nconf_manifest_load(&n->cfg, name, m, ferr, sizeof(ferr));

	if (rc != -ENOENT || n->storage.io.fd < 0) {
		snprintf(err, errlen, "%s", ferr);
		return rc;
	}
	rc = storage_read_json(n, "manifests", name, &j, err, errlen);
	if (rc == -ENOENT) {
		snprintf(err, errlen, "%s; no manifest '%s' in storage either", ferr, name);
		return rc;
	}
	if (rc < 0)
		return rc;
	snprintf(label, sizeof(label), "storage manifests/%s", name);
	rc = nconf_manifest_load_json(&n->cfg, name, label, j, m, err, errlen);
	json_decref(j);
	if (rc == 0)
		APP_LOG(INFO, "app %s: manifest from storage (worker %s)", name, m->slave);
	return rc;
}

struct app *
app_start(struct node *n, const char *name, const char *profile, char *err, size_t errlen, int *rc)
{
	struct app *a;

	if (!nconf_name_ok(name) || !nconf_name_ok(profile)) {
		snprintf(err, errlen, "invalid app or profile name");
		*rc = -EINVAL;
		return NULL;
	}
	if (app_find(n, name, (uint32_t)strlen(name)) != NULL) {
		snprintf(err, errlen, "app %s is already running", name);
		*rc = -EEXIST;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		snprintf(err, errlen, "out of memory");
		*rc = -ENOMEM;
		return NULL;
	}
	a->svc.io.fd = -1;
	a->wsock.io.fd = -1;
	*rc = app_load_profile(n, profile, &a->prof, err, errlen);
	if (*rc == 0)
		*rc = app_load_manifest(n, name, &a->man, err, errlen);
	if (*rc < 0) {
		free(a);
		return NULL;
	}
	a->node = n;
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->gen = ++n->next_gen;
	a->state = APP_RUNNING;
	a->started_ms = loop_now_ms(&n->loop);
	a->st.rate_tick_ms = a->started_ms;
	NL_INIT(&a->clients);
	NL_INIT(&a->pending);
	NL_INIT(&a->slaves);
	NL_INIT(&a->queue);
	NL_INIT(&a->reqs);
	/* a worker holds at most `concurrency` requests, each channel open until both ends
	 * are done, plus the control channel: twice that leaves room for stragglers */
	a->worker_channels = conn_pow2(2 * a->prof.concurrency + 4);
	a->worker_lim = n->cfg.client_limits;
	a->worker_lim.channels = a->worker_channels;
	snprintf(a->sock_path, sizeof(a->sock_path), "%s/%s.%d.%u", n->cfg.runtime_dir, name,
		 (int)getpid(), a->gen);
	a->wsock.owner = a;
	a->wsock.on_accept = slave_worker_accept;
	*rc = listener_unix(&n->loop, &a->wsock, a->sock_path);
	if (*rc < 0) {
		snprintf(err, errlen, "worker socket %s: %s", a->sock_path, strerror(-*rc));
		goto fail;
	}
	*rc = app_listen(a);
	if (*rc < 0) {
		snprintf(err, errlen, "app service on %s: %s", n->cfg.address, strerror(-*rc));
		goto fail;
	}
	NL_INSERT_TAIL(&n->apps, a, link);
	APP_LOG(INFO, "app %s: started with profile %s on %s:%u (workers: %s)", name, profile,
		n->cfg.address, a->svc.port, a->sock_path);
	pool_rebalance(a);
	locator_service_changed(n, a->name);
	return a;
fail:
	listener_close(&a->svc);
	listener_close(&a->wsock);
	unlink(a->sock_path);
	nconf_manifest_free(&a->man);
	free(a);
	return NULL;
}

void
app_stop(struct app *a, const char *why)
{
	if (a->state == APP_STOPPING)
		return;
	APP_LOG(INFO, "app %s: stopping (%s): %u queued, %u requests, draining for up to %llu ms",
		a->name, why, a->depth, a->nreqs, (unsigned long long)a->prof.terminate_ms);
	a->state = APP_STOPPING;
	a->stop_deadline_ms = loop_now_ms(&a->node->loop) + a->prof.terminate_ms;
	listener_close(&a->svc);
	locator_service_changed(a->node, a->name);
	/* the next tick drains (never freed under the caller) */
}

/* Drain progress of a stopping app; frees it when its last worker is gone. */
static void
app_stop_tick(struct app *a, uint64_t now_ms)
{
	struct slave *s, *next;
	struct req *r, *rn;

	if (now_ms >= a->stop_deadline_ms || NL_EMPTY(&a->slaves)) {
		/* out of time (or of workers): fail what is left */
		for (r = NL_FIRST(&a->reqs); r != NULL; r = rn) {
			rn = NL_NEXT(r, llink);
			if ((r->flags & REQ_QUEUED) || now_ms >= a->stop_deadline_ms)
				req_fail(r, SL_ECAT_NODE, SL_ENODE_NOT_RUNNING,
					 "the app has stopped");
		}
	}
	for (s = NL_FIRST(&a->slaves); s != NULL; s = next) {
		next = NL_NEXT(s, link);
		if (now_ms >= a->stop_deadline_ms)
			slave_kill(s, SL_ECAT_NODE, SL_ENODE_NOT_RUNNING, "the app stop timed out",
				   false);
		else if (a->depth == 0 && s->load == 0)
			slave_terminate(s, SL_ESLAVE_SEALING, "the app is stopping");
	}
	if (NL_EMPTY(&a->slaves) && a->depth == 0)
		app_destroy(a);
}

/* Requests over request-timeout fail on both sides (the oldest are at the head). */
static void
app_timeouts(struct app *a, uint64_t now_us)
{
	uint64_t lim = a->prof.request_ms * 1000;
	struct req *r, *next;

	for (r = NL_FIRST(&a->reqs); r != NULL && now_us - r->t0_us >= lim; r = next) {
		next = NL_NEXT(r, llink);
		if (!(r->flags & (REQ_FAILED | REQ_REPLIED)))
			req_fail(r, SL_ECAT_NODE, SL_ENODE_TIMEOUT, "request timeout");
	}
}

void
app_tick(struct app *a, uint64_t now_ms)
{
	struct slave *s, *next;
	struct conn *c, *cn;

	app_stats_tick(a, now_ms);
	app_timeouts(a, a->node->loop.now_us);
	/* a connection on the worker socket that never says handshake */
	for (c = NL_FIRST(&a->pending); c != NULL; c = cn) {
		cn = NL_NEXT(c, link);
		if (now_ms - c->born_ms >= a->prof.startup_ms)
			conn_close(c, -ETIMEDOUT);
	}
	for (s = NL_FIRST(&a->slaves); s != NULL; s = next) {
		next = NL_NEXT(s, link);
		slave_tick(s, now_ms);
	}
	if (a->state == APP_STOPPING)
		app_stop_tick(a, now_ms);
	else
		pool_tick(a, now_ms);
}
