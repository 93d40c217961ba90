/*
 * Dispatch graph encoding/decoding and the resolve reply (cocaine-protocol.md 1.6, 2.3,
 * 12a.5). Decoding builds nodes in a caller arena; recursion is bounded by GRAPH_DEPTH_MAX.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sl_util.h"

#include "native-graph.h"
#include "native-mp.h"

#define GRAPH_DEPTH_MAX 16

const struct sl_gslot *
sl_graph_find(const struct sl_gnode *n, uint64_t id)
{
	uint32_t i;

	if (n == NULL)
		return NULL;
	for (i = 0; i < n->nslots; i++)
		if (n->slots[i].id == id)
			return &n->slots[i];
	return NULL;
}

const struct sl_gslot *
sl_graph_find_name(const struct sl_gnode *n, const void *name, uint32_t len)
{
	uint32_t i;

	if (n == NULL)
		return NULL;
	for (i = 0; i < n->nslots; i++)
		if (n->slots[i].name_len == len && memcmp(n->slots[i].name, name, len) == 0)
			return &n->slots[i];
	return NULL;
}

static bool
graph_equal(const struct sl_gnode *a, const struct sl_gnode *b, bool root, int depth)
{
	uint32_t i;

	if (a == NULL || b == NULL)
		return a == b;
	if (a->nslots != b->nslots || depth > GRAPH_DEPTH_MAX)
		return false;
	for (i = 0; i < a->nslots; i++) {
		const struct sl_gslot *x = &a->slots[i];
		const struct sl_gslot *y = sl_graph_find(b, x->id);

		if (y == NULL || x->name_len != y->name_len ||
		    memcmp(x->name, y->name, x->name_len) != 0 ||
		    !graph_equal(x->dispatch, y->dispatch, false, depth + 1))
			return false;
		if (root && !graph_equal(x->upstream, y->upstream, false, depth + 1))
			return false;
	}
	return true;
}

bool
sl_graph_equal(const struct sl_gnode *a, const struct sl_gnode *b, bool root)
{
	return graph_equal(a, b, root, 0);
}

static void
enc_node(struct sl_mp_w *w, const struct sl_gnode *n, bool root)
{
	uint32_t i;

	sl_mp_w_map(w, n->nslots);
	for (i = 0; i < n->nslots; i++) {
		const struct sl_gslot *s = &n->slots[i];

		sl_mp_w_uint(w, s->id);
		sl_mp_w_array(w, root ? 3 : 2);
		sl_mp_w_raw(w, s->name, s->name_len);
		if (s->dispatch == NULL)
			sl_mp_w_nil(w);
		else
			enc_node(w, s->dispatch, false);
		if (!root)
			continue;
		if (s->upstream == NULL)
			sl_mp_w_nil(w);
		else
			enc_node(w, s->upstream, false);
	}
}

void
sl_graph_enc_root(struct sl_mp_w *w, const struct sl_gnode *root)
{
	enc_node(w, root, true);
}

void
sl_graph_arena_init(struct sl_graph_arena *a, struct sl_gnode *nodes, uint32_t nodes_cap,
		    struct sl_gslot *slots, uint32_t slots_cap, char *names, uint32_t names_cap)
{
	a->nodes = nodes;
	a->nodes_cap = nodes_cap;
	a->nodes_used = 0;
	a->slots = slots;
	a->slots_cap = slots_cap;
	a->slots_used = 0;
	a->names = names;
	a->names_cap = names_cap;
	a->names_used = 0;
}

/* nil => NULL (stay), a map => a decoded inner node */
static int dec_node(struct sl_mp_cur *c, struct sl_graph_arena *a, bool root, int depth,
		    const struct sl_gnode **out);

static int
dec_next(struct sl_mp_cur *c, struct sl_graph_arena *a, int depth, const struct sl_gnode **out)
{
	if (sl_mp_read_nil(c) == 0) {
		*out = NULL;
		return 0;
	}
	return dec_node(c, a, false, depth, out);
}

static int
dec_node(struct sl_mp_cur *c, struct sl_graph_arena *a, bool root, int depth,
	 const struct sl_gnode **out)
{
	struct sl_gslot *slots;
	struct sl_gnode *node;
	uint32_t n, i, j;
	int rc;

	if (depth > GRAPH_DEPTH_MAX)
		return -ELOOP;
	if (sl_mp_read_map(c, &n) < 0)
		return -EPROTO;
	if (n == 0 && !root) {
		*out = &sl_graph_terminal; /* every {} is the same state: no arena needed */
		return 0;
	}
	if (a->nodes_used == a->nodes_cap || n > a->slots_cap - a->slots_used)
		return -ENOBUFS;
	node = &a->nodes[a->nodes_used++];
	slots = &a->slots[a->slots_used];
	a->slots_used += n;
	for (i = 0; i < n; i++) {
		struct sl_gslot *s = &slots[i];
		struct sl_mp_raw name;
		uint64_t id;
		uint32_t m;

		if (sl_mp_read_uint(c, &id) < 0 || id > UINT32_MAX)
			return -EPROTO;
		for (j = 0; j < i; j++)
			if (slots[j].id == id)
				return -EPROTO;
		if (sl_mp_read_array(c, &m) < 0 || m != (root ? 3u : 2u))
			return -EPROTO;
		if (sl_mp_read_raw(c, &name) < 0)
			return -EPROTO;
		if (name.len >= a->names_cap - a->names_used)
			return -ENOBUFS;
		s->id = (uint32_t)id;
		s->name = a->names + a->names_used;
		s->name_len = name.len;
		sl_mp_raw_copy(&name, a->names + a->names_used, name.len);
		a->names[a->names_used + name.len] = '\0';
		a->names_used += name.len + 1;
		s->upstream = NULL;
		rc = dec_next(c, a, depth + 1, &s->dispatch);
		if (rc == 0 && root)
			rc = dec_next(c, a, depth + 1, &s->upstream);
		if (rc < 0)
			return rc;
	}
	/* sorted by id, as the peers' std::map encodes them */
	for (i = 1; i < n; i++) {
		struct sl_gslot t = slots[i];

		for (j = i; j > 0 && slots[j - 1].id > t.id; j--)
			slots[j] = slots[j - 1];
		slots[j] = t;
	}
	node->nslots = n;
	node->slots = slots;
	*out = node;
	return 0;
}

int
sl_graph_dec_root(struct sl_mp_cur *c, struct sl_graph_arena *a, const struct sl_gnode **root)
{
	return dec_node(c, a, true, 0, root);
}

void
sl_resolve_enc_args(struct sl_mp_w *w, const struct sl_endpoint *ep, uint32_t nep, uint64_t version,
		    const struct sl_gnode *root)
{
	uint32_t i;

	sl_mp_w_array(w, nep);
	for (i = 0; i < nep; i++) {
		sl_mp_w_array(w, 2);
		sl_mp_w_cstr(w, ep[i].host);
		sl_mp_w_uint(w, ep[i].port);
	}
	sl_mp_w_uint(w, version);
	sl_graph_enc_root(w, root);
}

int
sl_resolve_dec_args(const struct sl_mp_cur *args, uint32_t nargs, struct sl_endpoint *ep,
		    uint32_t ep_cap, uint32_t *nep, uint64_t *version, struct sl_graph_arena *a,
		    const struct sl_gnode **root)
{
	struct sl_mp_cur c = *args;
	uint32_t n, i, m;

	if (nargs != 3 || sl_mp_read_array(&c, &n) < 0)
		return -EPROTO;
	if (n > ep_cap)
		return -ENOBUFS;
	for (i = 0; i < n; i++) {
		struct sl_mp_raw host;
		uint64_t port;

		if (sl_mp_read_array(&c, &m) < 0 || m != 2 || sl_mp_read_raw(&c, &host) < 0 ||
		    host.len >= sizeof(ep[i].host) || sl_mp_read_uint(&c, &port) < 0 ||
		    port > UINT16_MAX)
			return -EPROTO;
		sl_mp_raw_copy(&host, ep[i].host, host.len);
		ep[i].host[host.len] = '\0';
		ep[i].port = (uint16_t)port;
	}
	*nep = n;
	if (sl_mp_read_uint(&c, version) < 0)
		return -EPROTO;
	return sl_graph_dec_root(&c, a, root);
}
