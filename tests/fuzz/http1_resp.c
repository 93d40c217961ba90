/*
 * libFuzzer target: the HTTP/1.1 response parser (dataplane/http/http1_resp.c); the harness
 * is http1-fuzz.h (whole vs pieces vs byte by byte, 1xx and pipelined responses, the
 * upstream's close at the end, span and event invariants).
 */
#include "http1-fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return http1_fuzz_one(data, size, true);
}
