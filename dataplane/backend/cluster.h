/**
 * @file
 * Look-ups in the dispatch view (backend-t.h). EAL-free.
 */
#ifndef SL_CLUSTER_H
#define SL_CLUSTER_H

#include <stdint.h>

#include "backend-t.h"

/** @return the index of the app named by the `len` bytes at `name`, or -ENOENT. */
int sl_cluster_app(const struct sl_cluster *cl, const void *name, uint32_t len);

#endif /* SL_CLUSTER_H */
