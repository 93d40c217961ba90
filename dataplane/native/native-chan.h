/**
 * @file
 * Cocaine 0.12 channels (cocaine-protocol.md 1.5, 1.6, 12a.4, 12a.6): each channel follows
 * its protocol graph independently in each direction; a direction is finished after a
 * terminal message. The rules enforced, as the peers do:
 *  - a message on an unknown channel id above every id seen opens a channel; its type must
 *    be a method of the served root (else slot_not_found); any first id is fine (999999);
 *  - a message on an unknown id not above the maximum, or on a channel whose peer direction
 *    is finished, is a revoked channel;
 *  - a type not in the current state of its direction is slot_not_found;
 *  - our direction finishing does not revoke the channel: a client may still send its
 *    remaining write/close after it received our error (12a.6);
 *  - a channel is forgotten when both directions are finished.
 * Every error is fatal for the connection (section 1.5); map it with sl_err_from_errno().
 */
#ifndef SL_NATIVE_CHAN_H
#define SL_NATIVE_CHAN_H

#include <stdint.h>

#include "native-chan-t.h"

/**
 * Initialise a session over caller storage.
 * @param s      session
 * @param serve  root the peer opens channels on, or NULL
 * @param call   root we open channels on, or NULL
 * @param tab    channel table storage (cap entries)
 * @param cap    a power of two >= 2; at most cap - 1 channels are open at once
 * @return 0, or -EINVAL when cap is not a power of two >= 2.
 */
int sl_sess_init(struct sl_sess *s, const struct sl_gnode *serve, const struct sl_gnode *call,
		 struct sl_chan *tab, uint32_t cap);

/**
 * Account for a message received from the peer.
 * @return 0 with *ev filled; -EPIPE for a revoked channel; -ENOENT when the type is not
 *   allowed (slot_not_found); -ENOTCONN when the peer opens a channel but may not
 *   (unbound dispatch); -ENOSPC when the table is full.
 */
int sl_sess_recv(struct sl_sess *s, uint64_t channel, uint64_t type, struct sl_chan_ev *ev);

/**
 * Open a channel with method `type` of the `call` root; its id is the next of the shared
 * counter (ev->id).
 * @return 0; -ENOTCONN without a call root; -ENOENT for an unknown method; -ENOSPC when the
 *   table is full; -EOVERFLOW when the ids are exhausted.
 */
int sl_sess_open(struct sl_sess *s, uint64_t type, void *user, struct sl_chan_ev *ev);

/**
 * Account for a message we are about to send on an open channel.
 * @return 0; -EPIPE when the channel is unknown or our direction is finished; -ENOENT when
 *   the type is not allowed now.
 */
int sl_sess_send(struct sl_sess *s, uint64_t channel, uint64_t type, struct sl_chan_ev *ev);

/** The open channel `channel`, or NULL. */
struct sl_chan *sl_sess_find(struct sl_sess *s, uint64_t channel);

/** Forget a channel without a terminal message (connection teardown, local abort). */
void sl_sess_forget(struct sl_sess *s, uint64_t channel);

/** Number of open channels. */
static inline uint32_t
sl_sess_count(const struct sl_sess *s)
{
	return s->count;
}

/**
 * Iterate over the open channels: start with *pos = 0.
 * @return the next channel, or NULL at the end. Do not modify the table while iterating.
 */
struct sl_chan *sl_sess_next(struct sl_sess *s, uint32_t *pos);

#endif /* SL_NATIVE_CHAN_H */
