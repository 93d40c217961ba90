/*
 * Per-connection channel state machine (cocaine-protocol.md 1.5, 1.6, 12a.6).
 *
 * The table is open addressing with linear probing; deletion shifts the following cluster
 * back (no tombstones), so lookups stay short under churn.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sl_util.h"

#include "native-chan.h"
#include "native-graph.h"

int
sl_sess_init(struct sl_sess *s, const struct sl_gnode *serve, const struct sl_gnode *call,
	     struct sl_chan *tab, uint32_t cap)
{
	uint8_t bits = 0;

	if (cap < 2 || (cap & (cap - 1)) != 0)
		return -EINVAL;
	while ((1u << bits) < cap)
		bits++;
	s->serve = serve;
	s->call = call;
	s->max_id = 0;
	s->tab = tab;
	s->cap = cap;
	s->count = 0;
	s->shift = (uint8_t)(64 - bits);
	memset(tab, 0, sizeof(*tab) * cap);
	return 0;
}

static inline uint32_t
home(const struct sl_sess *s, uint64_t id)
{
	return (uint32_t)((id * 0x9e3779b97f4a7c15ull) >> s->shift);
}

struct sl_chan *
sl_sess_find(struct sl_sess *s, uint64_t channel)
{
	uint32_t mask = s->cap - 1;
	uint32_t i = home(s, channel);

	for (;;) {
		struct sl_chan *c = &s->tab[i];

		if (!(c->flags & SL_CHAN_USED))
			return NULL;
		if (c->id == channel)
			return c;
		i = (i + 1) & mask;
	}
}

static struct sl_chan *
tab_insert(struct sl_sess *s, uint64_t channel)
{
	uint32_t mask = s->cap - 1;
	uint32_t i = home(s, channel);

	if (s->count + 1 >= s->cap)
		return NULL;
	while (s->tab[i].flags & SL_CHAN_USED)
		i = (i + 1) & mask;
	s->count++;
	s->tab[i].id = channel;
	s->tab[i].flags = SL_CHAN_USED;
	return &s->tab[i];
}

/* Remove c, moving back later entries of its cluster whose home allows it. */
static void
tab_remove(struct sl_sess *s, struct sl_chan *c)
{
	uint32_t mask = s->cap - 1;
	uint32_t hole = (uint32_t)(c - s->tab);
	uint32_t i = hole;

	for (;;) {
		uint32_t h;

		i = (i + 1) & mask;
		if (!(s->tab[i].flags & SL_CHAN_USED))
			break;
		h = home(s, s->tab[i].id);
		/* move i into the hole unless its home lies cyclically in (hole, i] */
		if (((i - h) & mask) >= ((i - hole) & mask)) {
			s->tab[hole] = s->tab[i];
			hole = i;
		}
	}
	memset(&s->tab[hole], 0, sizeof(s->tab[hole]));
	s->count--;
}

void
sl_sess_forget(struct sl_sess *s, uint64_t channel)
{
	struct sl_chan *c = sl_sess_find(s, channel);

	if (c != NULL)
		tab_remove(s, c);
}

struct sl_chan *
sl_sess_next(struct sl_sess *s, uint32_t *pos)
{
	while (*pos < s->cap) {
		struct sl_chan *c = &s->tab[(*pos)++];

		if (c->flags & SL_CHAN_USED)
			return c;
	}
	return NULL;
}

/* Follow `type` from *state: NULL transitions stay. */
static inline int
step(const struct sl_gnode **state, uint64_t type, const struct sl_gslot **slot)
{
	const struct sl_gslot *g = sl_graph_find(*state, type);

	if (g == NULL)
		return -ENOENT;
	if (g->dispatch != NULL)
		*state = g->dispatch;
	*slot = g;
	return 0;
}

static void
ev_fill(struct sl_chan_ev *ev, uint64_t id, const struct sl_gslot *slot, void *user, uint32_t flags,
	bool opened)
{
	ev->id = id;
	ev->slot = slot;
	ev->user = user;
	ev->opened = opened;
	ev->rx_done = (flags & SL_CHAN_RX_DONE) != 0;
	ev->tx_done = (flags & SL_CHAN_TX_DONE) != 0;
	ev->closed = ev->rx_done && ev->tx_done;
}

/*
 * A channel opened by `slot` of a root: the opener's direction continues with the slot's
 * dispatch, the other with its upstream; nil stays at the root.
 */
static int
chan_open(struct sl_sess *s, const struct sl_gnode *root, const struct sl_gslot *slot, uint64_t id,
	  bool local, void *user, struct sl_chan_ev *ev)
{
	const struct sl_gnode *opener = slot->dispatch != NULL ? slot->dispatch : root;
	const struct sl_gnode *other = slot->upstream != NULL ? slot->upstream : root;
	uint32_t flags = local ? SL_CHAN_LOCAL : 0;
	const struct sl_gnode *rx = local ? other : opener;
	const struct sl_gnode *tx = local ? opener : other;
	struct sl_chan *c;

	if (sl_graph_is_terminal(rx))
		flags |= SL_CHAN_RX_DONE;
	if (sl_graph_is_terminal(tx))
		flags |= SL_CHAN_TX_DONE;
	if ((flags & (SL_CHAN_RX_DONE | SL_CHAN_TX_DONE)) != (SL_CHAN_RX_DONE | SL_CHAN_TX_DONE)) {
		c = tab_insert(s, id);
		if (c == NULL)
			return -ENOSPC;
		c->rx = rx;
		c->tx = tx;
		c->user = user;
		c->flags |= flags;
	}
	s->max_id = id;
	ev_fill(ev, id, slot, user, flags, true);
	return 0;
}

int
sl_sess_recv(struct sl_sess *s, uint64_t channel, uint64_t type, struct sl_chan_ev *ev)
{
	const struct sl_gslot *slot;
	struct sl_chan *c;
	int rc;

	c = sl_sess_find(s, channel);
	if (c == NULL) {
		if (channel <= s->max_id)
			return -EPIPE; /* 1.5: revoked_channel */
		if (s->serve == NULL)
			return -ENOTCONN;
		slot = sl_graph_find(s->serve, type);
		if (slot == NULL)
			return -ENOENT;
		return chan_open(s, s->serve, slot, channel, false, NULL, ev);
	}
	if (c->flags & SL_CHAN_RX_DONE)
		return -EPIPE; /* the peer already sent its last message: revoked */
	rc = step(&c->rx, type, &slot);
	if (rc < 0)
		return rc;
	if (sl_graph_is_terminal(c->rx))
		c->flags |= SL_CHAN_RX_DONE;
	ev_fill(ev, channel, slot, c->user, c->flags, false);
	if (ev->closed)
		tab_remove(s, c);
	return 0;
}

int
sl_sess_open(struct sl_sess *s, uint64_t type, void *user, struct sl_chan_ev *ev)
{
	const struct sl_gslot *slot;

	if (s->call == NULL)
		return -ENOTCONN;
	slot = sl_graph_find(s->call, type);
	if (slot == NULL)
		return -ENOENT;
	if (s->max_id == UINT64_MAX)
		return -EOVERFLOW;
	return chan_open(s, s->call, slot, s->max_id + 1, true, user, ev);
}

int
sl_sess_send(struct sl_sess *s, uint64_t channel, uint64_t type, struct sl_chan_ev *ev)
{
	const struct sl_gslot *slot;
	struct sl_chan *c;
	int rc;

	c = sl_sess_find(s, channel);
	if (c == NULL || (c->flags & SL_CHAN_TX_DONE))
		return -EPIPE;
	rc = step(&c->tx, type, &slot);
	if (rc < 0)
		return rc;
	if (sl_graph_is_terminal(c->tx))
		c->flags |= SL_CHAN_TX_DONE;
	ev_fill(ev, channel, slot, c->user, c->flags, false);
	if (ev->closed)
		tab_remove(s, c);
	return 0;
}
