/*
 * The locator (cocaine-protocol.md 2.3, 12a.5): resolve [name, seed?] answers
 * `value [[[host, port]], version, graph]` for the locator itself, the node service and
 * every running app; an unknown name gets error [[0x0A, 1], "service ... is not available"].
 * uuid answers the node's uuid; refresh and cluster answer empty values; connect (the
 * locator-to-locator stream) is closed at once, as a locator with no cluster plugin does;
 * publish and routing are refused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "node.h"
#include "sl_log.h"

#define LOC_LOG(l, ...) SL_LOG(l, "locator", __VA_ARGS__)
/* protocol versions advertised (2.3: locator v3; node v2; app service of node v2) */
#define VERSION_LOCATOR 3
#define VERSION_NODE 2
#define VERSION_APP 1

static int
locator_resolve(struct node *n, struct conn *c, uint64_t ch, const struct sl_frame *f)
{
	uint8_t buf[2048];
	struct sl_mp_cur args = f->args;
	const struct sl_gnode *root;
	struct sl_endpoint ep;
	struct sl_mp_raw name;
	struct sl_mp_w w;
	uint64_t version;
	uint16_t port;
	struct app *a;

	if (f->nargs < 1 || sl_mp_read_raw(&args, &name) < 0)
		return -EINVAL; /* invalid_argument: dropped */
	if (sl_mp_raw_eq(&name, "locator", 7)) {
		root = &sl_proto_locator;
		version = VERSION_LOCATOR;
		port = n->locator.port;
	} else if (sl_mp_raw_eq(&name, "node", 4)) {
		root = &sl_proto_node;
		version = VERSION_NODE;
		port = n->nodesvc.port;
	} else if (name.p != NULL && (a = app_find(n, (const char *)name.p, name.len)) != NULL) {
		root = &sl_proto_app;
		version = VERSION_APP;
		port = a->svc.port;
	} else {
		char msg[128];
		int len = name.len > 64 ? 64 : (int)name.len;

		snprintf(msg, sizeof(msg), "service '%.*s' is not available", len,
			 name.p != NULL ? (const char *)name.p : "?");
		LOC_LOG(DEBUG, "resolve: %s", msg);
		svc_send_error(c, ch, SL_ECAT_LOCATOR, SL_ELOCATOR_SERVICE_NOT_AVAILABLE, msg,
			       NULL);
		return 0;
	}
	memset(&ep, 0, sizeof(ep));
	snprintf(ep.host, sizeof(ep.host), "%s", n->cfg.hostname);
	ep.port = port;
	sl_mp_w_init(&w, buf, sizeof(buf));
	sl_resolve_enc_args(&w, &ep, 1, version, root);
	if (w.err < 0)
		return w.err;
	svc_send(c, ch, SL_PRIM_VALUE, buf, w.len, 3, NULL);
	return 0;
}

static int
locator_frame(struct conn *c, const struct sl_frame *f, const struct sl_hdrs *h,
	      const struct sl_chan_ev *ev)
{
	struct node *n = c->owner;
	uint8_t buf[64];
	struct sl_mp_w w;

	(void)h;
	if (!ev->opened)
		return 0; /* discard after publish/routing: nothing to stop */
	switch (ev->slot->id) {
	case SL_LOCATOR_RESOLVE:
		return locator_resolve(n, c, ev->id, f);
	case SL_LOCATOR_UUID:
		sl_mp_w_init(&w, buf, sizeof(buf));
		sl_mp_w_cstr(&w, n->uuid);
		svc_send(c, ev->id, SL_PRIM_VALUE, buf, w.len, 1, NULL);
		return 0;
	case SL_LOCATOR_REFRESH:
		svc_send_empty(c, ev->id, SL_PRIM_VALUE, NULL);
		return 0;
	case SL_LOCATOR_CLUSTER:
		/* value [{remote uuid: [ip, port]}]: no cluster */
		sl_mp_w_init(&w, buf, sizeof(buf));
		sl_mp_w_map(&w, 0);
		svc_send(c, ev->id, SL_PRIM_VALUE, buf, w.len, 1, NULL);
		return 0;
	case SL_LOCATOR_CONNECT:
		svc_send_empty(c, ev->id, SL_STREAM_CLOSE, NULL);
		return 0;
	default:
		svc_send_error(c, ev->id, SL_ECAT_GENERIC, EOPNOTSUPP,
			       "not supported by sluice-node", NULL);
		return 0;
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
