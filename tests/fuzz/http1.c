/*
 * libFuzzer target: the HTTP/1.1 request parser (dataplane/http/http1.c); the harness is
 * http1-fuzz.h (whole vs pieces vs byte by byte, pipelined, span and event invariants).
 */
#include "http1-fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return http1_fuzz_one(data, size, false);
}
