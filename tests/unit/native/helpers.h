/*
 * Test helpers for the native protocol library: golden bytes written by hand, an
 * independent encoder of the protocol doc's notation (through msgpack-c), frame digests for
 * split/resume comparisons, and a counting allocator.
 */
#ifndef SL_TEST_NATIVE_HELPERS_H
#define SL_TEST_NATIVE_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "native.h"

/*
 * Golden bytes as written in cocaine-protocol.md: hex bytes and "quoted text" separated by
 * spaces, e.g. `93 c2 a8 "trace_id" a8 01 00 00 00 00 00 00 00`. Returns the length; aborts
 * the test on a bad spec or overflow.
 */
size_t gold(uint8_t *out, size_t cap, const char *spec);

/*
 * The doc's notation, packed by msgpack-c in the old spec (an encoder independent of ours):
 * ints, "strings", nil, true, false, [a, b], {k: v}, h"hex" (raw bytes), and the macros P
 * (primitive), S (streaming), T ({}). Returns the length; aborts on a bad spec or overflow.
 */
size_t note(uint8_t *out, size_t cap, const char *spec);

/* Counting allocator (interposes malloc/calloc/realloc/free for the whole process). */
void alloc_arm(void);
unsigned long alloc_disarm(void); /* returns the allocations counted while armed */

/*
 * Decode one frame from a chain with a fresh decoder (whose table holds ("PING", "A") at 83)
 * and describe it as text (channel, type, element counts, args bytes, headers); returns the
 * decoder's result.
 */
int frame_digest(const struct sl_seg *seg, uint32_t nseg, uint32_t off, char *out, size_t cap);

/* Same, with a caller decoder (keeps the header table across frames). */
int frame_digest_dec(struct sl_frame_dec *d, const struct sl_seg *seg, uint32_t nseg, uint32_t off,
		     char *out, size_t cap);

/* Re-encode the object at the cursor with our encoder (str/bin -> raw). 0 or -errno. */
int reencode(struct sl_mp_cur *c, struct sl_mp_w *w);

/* Hex dump for failure messages (static buffer). */
const char *hex(const uint8_t *p, size_t n);

#endif
