/**
 * @file
 * Cocaine 0.12 error codes: `error [[category, code], message]` with the category ids that
 * the peers' registrar puts on the wire (cocaine-protocol.md 6.3).
 */
#ifndef SL_NATIVE_ERR_T_H
#define SL_NATIVE_ERR_T_H

#include <stdint.h>

/** Category ids (6.3). */
enum sl_ecat {
	SL_ECAT_LEGACY = 0,    /* not on the wire: a 0.12.0 `[code, message]` error */
	SL_ECAT_SYSTEM = 0x01, /* std system_category (errno) */
	SL_ECAT_ASIO_SYSTEM = 0x02,
	SL_ECAT_ASIO_NETDB = 0x03,
	SL_ECAT_ASIO_ADDRINFO = 0x04,
	SL_ECAT_ASIO_MISC = 0x05,
	SL_ECAT_TRANSPORT = 0x06,  /* cocaine.rpc.transport, enum sl_err_transport */
	SL_ECAT_DISPATCH = 0x07,   /* cocaine.rpc.dispatch, enum sl_err_dispatch */
	SL_ECAT_REPOSITORY = 0x08, /* cocaine.plugins */
	SL_ECAT_SECURITY = 0x09,
	SL_ECAT_LOCATOR = 0x0a, /* enum sl_err_locator */
	SL_ECAT_UNICORN = 0x0b,
	SL_ECAT_GENERIC = 0x0c,	    /* std generic_category (errno), e.g. EPIPE on app restart */
	SL_ECAT_PROTOCOL = 0x0d,    /* cocaine.rpc.protocol (2017) */
	SL_ECAT_WORKER = 0x2a,	    /* worker / framework, enum sl_err_worker */
	SL_ECAT_WORKER_USER = 0x2b, /* application-defined */
	SL_ECAT_UNKNOWN = 0xff,	    /* a category the sender had not registered */
	SL_ECAT_NODE = 0x51ff,	    /* enum sl_err_node */
	SL_ECAT_OVERSEER = 0x52ff,  /* enum sl_err_overseer */
	SL_ECAT_SLAVE = 0x53ff,	    /* enum sl_err_slave */
	SL_ECAT_VICODYN = 0x54ff,
};

enum sl_err_transport {
	SL_ETRANSPORT_FRAME_FORMAT = 1,
	SL_ETRANSPORT_HPACK = 2,
	SL_ETRANSPORT_INSUFFICIENT_BYTES = 3,
	SL_ETRANSPORT_PARSE = 4,
};

enum sl_err_dispatch {
	SL_EDISPATCH_DUPLICATE_SLOT = 1,
	SL_EDISPATCH_INVALID_ARGUMENT = 2,
	SL_EDISPATCH_NOT_CONNECTED = 3,
	SL_EDISPATCH_REVOKED_CHANNEL = 4,
	SL_EDISPATCH_SLOT_NOT_FOUND = 5,
	SL_EDISPATCH_UNBOUND_DISPATCH = 6,
	SL_EDISPATCH_UNCAUGHT_ERROR = 7,
};

enum sl_err_locator {
	SL_ELOCATOR_SERVICE_NOT_AVAILABLE = 1,
	SL_ELOCATOR_ROUTING_STORAGE = 2,
	SL_ELOCATOR_MISSING_VERSION = 3,
	SL_ELOCATOR_GATEWAY_DUPLICATE = 4,
	SL_ELOCATOR_GATEWAY_MISSING = 5,
};

enum sl_err_node {
	SL_ENODE_DEADLINE = 1,
	SL_ENODE_RESOURCE = 2,
	SL_ENODE_TIMEOUT = 3,
	SL_ENODE_INVALID_ASSIGNMENT = 4,
	SL_ENODE_ALREADY_STARTED = 5,
	SL_ENODE_NOT_RUNNING = 6,
	SL_ENODE_UNCAUGHT_SPOOL = 7,
	SL_ENODE_UNCAUGHT_PUBLISH = 8,
};

enum sl_err_overseer {
	SL_EOVERSEER_QUEUE_IS_FULL = 1,
	SL_EOVERSEER_POOL_IS_FULL = 2,
};

enum sl_err_slave {
	SL_ESLAVE_SPAWN_TIMEOUT = 1,
	SL_ESLAVE_HEARTBEAT_TIMEOUT = 8,
	SL_ESLAVE_COMMITTED_SUICIDE = 12,
	SL_ESLAVE_IDLE = 13,
	SL_ESLAVE_SEALING = 14,
};

enum sl_err_worker {
	SL_EWORKER_EVENT_NOT_FOUND = 1, /* native framework */
	SL_EWORKER_UNCAUGHT = 100,	/* Python: uncaught exception */
	SL_EWORKER_NO_HANDLER = 200,	/* Python: no handler for event */
	SL_EWORKER_INVOKE_FAILED = 212, /* Python: invocation failed */
};

/** An error code as carried by `error [[category, code], message]`. */
struct sl_err {
	int64_t cat; /* enum sl_ecat; any value is accepted on receive */
	int64_t code;
};

#endif /* SL_NATIVE_ERR_T_H */
