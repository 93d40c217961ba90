/**
 * @file
 * The Cocaine protocol library, EAL-free (docs/protocol.md): include this for everything.
 *
 *  - native-mp.h     allocation-free msgpack scanner, cursor and old-spec encoder
 *  - native-frame.h  0.12 frames over segment chains, with headers
 *  - native-hpack.h  header tables (static 83 entries, 4096-byte dynamic per direction)
 *  - native-err.h    errors [[category, code], message]
 *  - native-graph.h  dispatch graphs, the protocols' graphs, the resolve reply
 *  - native-chan.h   per-connection channel state machine
 *  - native-mpc.h    msgpack-c behind the same limits (include it separately: it pulls msgpack.h)
 */
#ifndef SL_NATIVE_H
#define SL_NATIVE_H

#include "native-chan.h"
#include "native-err.h"
#include "native-frame.h"
#include "native-graph.h"
#include "native-hpack.h"
#include "native-mp.h"

#endif /* SL_NATIVE_H */
