/*
 * The node service (cocaine-protocol.md 3.2, node v2): start_app [name, profile],
 * pause_app [name], list [], info [name, flags?], control [name] (a stream of worker
 * targets) and enqueue [app, event] (an app enqueue through the node). Errors use the node
 * category 0x51FF: 5 already_started, 6 not_running, 7 uncaught_spool (a manifest or profile
 * that cannot be loaded, with the reason).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "node.h"
#include "sl_log.h"

#define NODESVC_LOG(l, ...) SL_LOG(l, "node", __VA_ARGS__)

bool
node_client_admit(struct node *n)
{
	if (n->nclients < n->cfg.max_connections)
		return true;
	NODESVC_LOG(WARNING, "refusing a connection: limits.connections (%u) reached",
		    n->cfg.max_connections);
	return false;
}

void
node_client_closed(struct node *n, struct conn *c)
{
	chan_user_gone(n, c);
	NL_REMOVE(&n->conns, c, link);
	n->nclients--;
}

/* Read a raw string arg into a NUL-terminated name. @return 0, or -EINVAL. */
static int
arg_name(struct sl_mp_cur *args, char *out, size_t cap)
{
	struct sl_mp_raw r;
	int n;

	if (sl_mp_read_raw(args, &r) < 0)
		return -EINVAL;
	n = sl_mp_raw_copy(&r, out, (uint32_t)cap - 1);
	if (n < 0) {
		/* too long to be a name: it cannot match anything */
		out[0] = '\0';
		return 0;
	}
	out[n] = '\0';
	return 0;
}

static void
not_running(struct conn *c, uint64_t ch, const char *name)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "app '%s' is not running", name);
	svc_send_error(c, ch, SL_ECAT_NODE, SL_ENODE_NOT_RUNNING, msg, NULL);
}

static int
nodesvc_start(struct node *n, struct conn *c, uint64_t ch, struct sl_mp_cur *args, uint32_t nargs)
{
	char name[NCONF_NAME_MAX], profile[NCONF_NAME_MAX], err[NCONF_ERR_MAX];
	int rc;

	if (nargs < 2 || arg_name(args, name, sizeof(name)) < 0 ||
	    arg_name(args, profile, sizeof(profile)) < 0)
		return -EINVAL;
	if (n->stopping) {
		svc_send_error(c, ch, SL_ECAT_NODE, SL_ENODE_RESOURCE, "the node is stopping",
			       NULL);
		return 0;
	}
	if (app_start(n, name, profile, err, sizeof(err), &rc) == NULL) {
		NODESVC_LOG(WARNING, "start_app %s %s: %s", name, profile, err);
		svc_send_error(c, ch, SL_ECAT_NODE,
			       rc == -EEXIST ? SL_ENODE_ALREADY_STARTED : SL_ENODE_UNCAUGHT_SPOOL,
			       err, NULL);
		return 0;
	}
	svc_send_empty(c, ch, SL_PRIM_VALUE, NULL);
	return 0;
}

static int
nodesvc_list(struct node *n, struct conn *c, uint64_t ch)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t count = 0;
	struct app *a;

	for (a = NL_FIRST(&n->apps); a != NULL; a = NL_NEXT(a, link))
		count += a->state == APP_RUNNING;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, count);
	for (a = NL_FIRST(&n->apps); a != NULL; a = NL_NEXT(a, link))
		if (a->state == APP_RUNNING)
			sl_mpc_pack_raw(&pk, a->name, strlen(a->name));
	svc_send(c, ch, SL_PRIM_VALUE, sb.data, sb.size, 1, NULL);
	msgpack_sbuffer_destroy(&sb);
	return 0;
}

static int
nodesvc_info(struct node *n, struct conn *c, uint64_t ch, struct sl_mp_cur *args, uint32_t nargs)
{
	char name[NCONF_NAME_MAX];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t flags = 0;
	struct app *a;

	if (nargs < 1 || arg_name(args, name, sizeof(name)) < 0)
		return -EINVAL;
	if (nargs >= 2 && sl_mp_read_uint(args, &flags) < 0)
		return -EINVAL;
	a = app_find(n, name, (uint32_t)strlen(name));
	if (a == NULL) {
		not_running(c, ch, name);
		return 0;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	app_info_pack(a, &pk, (unsigned int)flags);
	svc_send(c, ch, SL_PRIM_VALUE, sb.data, sb.size, 1, NULL);
	msgpack_sbuffer_destroy(&sb);
	return 0;
}

static int
nodesvc_frame(struct conn *c, const struct sl_frame *f, const struct sl_hdrs *h,
	      const struct sl_chan_ev *ev)
{
	struct node *n = c->owner;
	struct sl_mp_cur args = f->args;
	char name[NCONF_NAME_MAX];
	struct sl_mp_raw event;
	struct app *a;

	if (!ev->opened)
		return chan_user_frame(n, c, f, h, ev);
	switch (ev->slot->id) {
	case SL_NODE_START_APP:
		return nodesvc_start(n, c, ev->id, &args, f->nargs);
	case SL_NODE_PAUSE_APP:
		if (f->nargs < 1 || arg_name(&args, name, sizeof(name)) < 0)
			return -EINVAL;
		a = app_find(n, name, (uint32_t)strlen(name));
		if (a == NULL) {
			not_running(c, ev->id, name);
			return 0;
		}
		app_stop(a, "pause_app");
		svc_send_empty(c, ev->id, SL_PRIM_VALUE, NULL);
		return 0;
	case SL_NODE_LIST:
		return nodesvc_list(n, c, ev->id);
	case SL_NODE_INFO:
		return nodesvc_info(n, c, ev->id, &args, f->nargs);
	case SL_NODE_CONTROL:
	case SL_NODE_ENQUEUE:
		if (f->nargs < 1 || arg_name(&args, name, sizeof(name)) < 0)
			return -EINVAL;
		a = app_find(n, name, (uint32_t)strlen(name));
		if (a == NULL) {
			not_running(c, ev->id, name);
			return 0;
		}
		if (ev->slot->id == SL_NODE_CONTROL)
			return app_open_control(a, c, ev->id);
		if (f->nargs < 2 || sl_mp_read_raw(&args, &event) < 0)
			return -EINVAL;
		return app_open_enqueue(a, c, ev->id, &event, h);
	default:
		return -ENOENT;
	}
}

static void
nodesvc_close(struct conn *c, int err)
{
	(void)err;
	node_client_closed(c->owner, c);
}

static const struct conn_ops nodesvc_ops = {
	.on_frame = nodesvc_frame,
	.on_close = nodesvc_close,
};

void
nodesvc_accept(struct listener *ls, int fd)
{
	struct node *n = ls->owner;
	struct conn *c;

	if (!node_client_admit(n)) {
		close(fd);
		return;
	}
	c = conn_new(&n->loop, fd, &nodesvc_ops, &n->cfg.client_limits, &sl_proto_node, NULL, 0, n,
		     "node service client");
	if (c == NULL) {
		NODESVC_LOG(WARNING, "client connection: %s", strerror(errno));
		return;
	}
	NL_INSERT_TAIL(&n->conns, c, link);
	n->nclients++;
}
