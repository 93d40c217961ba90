/*
 * Cocaine 0.12 error encoding and decoding (cocaine-protocol.md 6.3, 12a.6).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "native-err.h"
#include "native-frame.h"
#include "native-mp.h"

void
sl_err_enc_args(struct sl_mp_w *w, const struct sl_err *e, const void *msg, uint32_t len)
{
	sl_mp_w_array(w, 2);
	sl_mp_w_int(w, e->cat);
	sl_mp_w_int(w, e->code);
	sl_mp_w_raw(w, msg, len);
}

void
sl_frame_enc_error(struct sl_mp_w *w, uint64_t channel, uint64_t type, const struct sl_err *e,
		   const void *msg, uint32_t len, const struct sl_hdr *h, int nhdrs)
{
	sl_frame_enc_begin(w, channel, type, 2, nhdrs);
	sl_err_enc_args(w, e, msg, len);
	sl_frame_enc_headers(w, h, nhdrs);
}

int
sl_err_dec_args(const struct sl_mp_cur *args, uint32_t nargs, struct sl_err *e,
		struct sl_mp_raw *msg)
{
	struct sl_mp_cur c = *args;
	struct sl_mp_raw m;
	uint32_t n;

	if (nargs < 1)
		return -EPROTO;
	if (sl_mp_read_array(&c, &n) == 0) {
		/* [[category, code], message?] (0.12.1+) */
		if (n != 2 || sl_mp_read_int(&c, &e->cat) < 0 || sl_mp_read_int(&c, &e->code) < 0)
			return -EPROTO;
	} else if (sl_mp_read_int(&c, &e->code) == 0) {
		/* [code, message] (0.12.0) */
		e->cat = SL_ECAT_LEGACY;
	} else {
		return -EPROTO;
	}
	if (nargs >= 2) {
		if (sl_mp_read_raw(&c, &m) < 0)
			return -EPROTO;
	} else {
		m.p = (const uint8_t *)"";
		m.len = 0;
		m.at = c;
		m.at.left = 0;
	}
	if (msg != NULL)
		*msg = m;
	return 0;
}

struct sl_err
sl_err_from_errno(int err)
{
	struct sl_err e = {.cat = SL_ECAT_DISPATCH, .code = SL_EDISPATCH_UNCAUGHT_ERROR};

	switch (err) {
	case -EBADMSG:
	case -EMSGSIZE:
	case -E2BIG:
	case -ELOOP:
		e.cat = SL_ECAT_TRANSPORT;
		e.code = SL_ETRANSPORT_PARSE;
		break;
	case -EPROTO:
		e.cat = SL_ECAT_TRANSPORT;
		e.code = SL_ETRANSPORT_FRAME_FORMAT;
		break;
	case -EILSEQ:
	case -ENOBUFS:
		e.cat = SL_ECAT_TRANSPORT;
		e.code = SL_ETRANSPORT_HPACK;
		break;
	case -EPIPE:
		e.code = SL_EDISPATCH_REVOKED_CHANNEL;
		break;
	case -ENOENT:
		e.code = SL_EDISPATCH_SLOT_NOT_FOUND;
		break;
	case -ENOTCONN:
		e.code = SL_EDISPATCH_UNBOUND_DISPATCH;
		break;
	default:
		break;
	}
	return e;
}

const char *
sl_err_cat_name(int64_t cat)
{
	switch (cat) {
	case SL_ECAT_LEGACY:
		return "legacy";
	case SL_ECAT_SYSTEM:
		return "system";
	case SL_ECAT_ASIO_SYSTEM:
		return "asio.system";
	case SL_ECAT_ASIO_NETDB:
		return "asio.netdb";
	case SL_ECAT_ASIO_ADDRINFO:
		return "asio.addrinfo";
	case SL_ECAT_ASIO_MISC:
		return "asio.misc";
	case SL_ECAT_TRANSPORT:
		return "cocaine.rpc.transport";
	case SL_ECAT_DISPATCH:
		return "cocaine.rpc.dispatch";
	case SL_ECAT_REPOSITORY:
		return "cocaine.plugins";
	case SL_ECAT_SECURITY:
		return "cocaine.security";
	case SL_ECAT_LOCATOR:
		return "cocaine.service.locator";
	case SL_ECAT_UNICORN:
		return "cocaine.unicorn";
	case SL_ECAT_GENERIC:
		return "generic";
	case SL_ECAT_PROTOCOL:
		return "cocaine.rpc.protocol";
	case SL_ECAT_WORKER:
		return "worker";
	case SL_ECAT_WORKER_USER:
		return "worker.user";
	case SL_ECAT_NODE:
		return "node";
	case SL_ECAT_OVERSEER:
		return "node.overseer";
	case SL_ECAT_SLAVE:
		return "node.slave";
	case SL_ECAT_VICODYN:
		return "vicodyn";
	default:
		return "unknown";
	}
}
