/**
 * @file
 * Types of the per-connection channel state machine (see native-chan.h).
 */
#ifndef SL_NATIVE_CHAN_T_H
#define SL_NATIVE_CHAN_T_H

#include <stdbool.h>
#include <stdint.h>

#include "native-graph-t.h"

#define SL_CHAN_RX_DONE 0x1 /* the peer has sent its last message (the channel is revoked) */
#define SL_CHAN_TX_DONE 0x2 /* we have sent our last message */
#define SL_CHAN_LOCAL 0x4   /* we opened it */
#define SL_CHAN_USED 0x8    /* table slot in use */

/** One open channel: the state of each direction in its protocol graph. */
struct sl_chan {
	uint64_t id;
	const struct sl_gnode *rx; /* what the peer may send now */
	const struct sl_gnode *tx; /* what we may send now */
	void *user;		   /* the owner's context for this channel */
	uint32_t flags;		   /* SL_CHAN_* */
};

/**
 * The channels of one connection. `serve` is the root of the protocol the peer opens channels
 * on (our service; NULL when the peer may not open any), `call` the root of the protocol we
 * open channels on (the peer's service; NULL when we do not). Channel ids come from one
 * counter shared by both sides (1.5): a new channel's id must exceed every id seen so far.
 * The table is caller storage: open addressing over a power-of-two array.
 */
struct sl_sess {
	const struct sl_gnode *serve;
	const struct sl_gnode *call;
	uint64_t max_id;
	struct sl_chan *tab;
	uint32_t cap;
	uint32_t count;
	uint8_t shift; /* 64 - log2(cap) */
};

/** What a message did to its channel (sl_sess_recv(), sl_sess_send(), sl_sess_open()). */
struct sl_chan_ev {
	uint64_t id;
	const struct sl_gslot *slot; /* the message in the state it was sent in */
	void *user;		     /* the channel's user pointer */
	bool opened;		     /* this message opened the channel */
	bool rx_done;		     /* the peer's direction is finished */
	bool tx_done;		     /* our direction is finished */
	bool closed;		     /* both are: the channel is forgotten (free `user`) */
};

#endif /* SL_NATIVE_CHAN_T_H */
