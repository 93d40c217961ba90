/**
 * @file
 * Cocaine 0.12 errors (cocaine-protocol.md 6.3, 12a.6): encoding `[[category, code], msg]`
 * (the only form the Python client accepts), decoding it leniently (message optional, and
 * the 0.12.0 form `[code, msg]`), mapping the library's errno results to the peers'
 * transport/dispatch codes, and the retry classifications of 6.3 and 12.5.
 */
#ifndef SL_NATIVE_ERR_H
#define SL_NATIVE_ERR_H

#include <stdbool.h>
#include <stdint.h>

#include "native-err-t.h"
#include "native-hpack-t.h"
#include "native-mp-t.h"

/**
 * Write the two args of an error message: `[category, code]`, then the message. The frame is
 * begun by the caller with 2 args (or use sl_frame_enc_error()).
 */
void sl_err_enc_args(struct sl_mp_w *w, const struct sl_err *e, const void *msg, uint32_t len);

/**
 * A whole error frame `[ch, type, [[cat, code], msg], headers]`.
 * @param type  the error message id of the channel's current state (1 in the streaming and
 *              primitive protocols)
 */
void sl_frame_enc_error(struct sl_mp_w *w, uint64_t channel, uint64_t type, const struct sl_err *e,
			const void *msg, uint32_t len, const struct sl_hdr *h, int nhdrs);

/**
 * Decode the args of a received error.
 * @param args   cursor at the first arg (struct sl_frame args)
 * @param nargs  number of args
 * @param e      the code; category SL_ECAT_LEGACY for the 0.12.0 form `[code, msg]`
 * @param msg    the message (empty when absent); may be NULL
 * @return 0, or -EPROTO when the args are not an error.
 */
int sl_err_dec_args(const struct sl_mp_cur *args, uint32_t nargs, struct sl_err *e,
		    struct sl_mp_raw *msg);

/**
 * The Cocaine error that matches a negative errno returned by this library: -EBADMSG,
 * -EMSGSIZE, -E2BIG, -ELOOP => transport parse; -EPROTO => frame_format; -EILSEQ, -ENOBUFS
 * => hpack; -EPIPE => revoked_channel; -ENOENT => slot_not_found; -ENOTCONN =>
 * unbound_dispatch; anything else => dispatch uncaught_error.
 */
struct sl_err sl_err_from_errno(int err);

/** A short name of a category id ("cocaine.rpc.transport", ...), "unknown" if unregistered. */
const char *sl_err_cat_name(int64_t cat);

/** Queue full: (0x52FF or 0xFF, 1) — safe to retry elsewhere (8.4, 12.5). */
static inline bool
sl_err_is_queue_full(const struct sl_err *e)
{
	return (e->cat == SL_ECAT_OVERSEER || e->cat == SL_ECAT_UNKNOWN) &&
	       e->code == SL_EOVERSEER_QUEUE_IS_FULL;
}

/** App restarted: (0x0C or 0xFF, EPIPE 32) — safe to retry before any reply byte. */
static inline bool
sl_err_is_app_restarted(const struct sl_err *e)
{
	return (e->cat == SL_ECAT_GENERIC || e->cat == SL_ECAT_UNKNOWN) && e->code == 32;
}

/** Service not available: (0x0A or 0xFF, 1). */
static inline bool
sl_err_is_unavailable(const struct sl_err *e)
{
	return (e->cat == SL_ECAT_LOCATOR || e->cat == SL_ECAT_UNKNOWN) &&
	       e->code == SL_ELOCATOR_SERVICE_NOT_AVAILABLE;
}

#endif /* SL_NATIVE_ERR_H */
