/**
 * @file
 * Look-ups in the dispatch view (cluster.h).
 */
#include <errno.h>
#include <string.h>

#include "cluster.h"

int
sl_cluster_app(const struct sl_cluster *cl, const void *name, uint32_t len)
{
	if (cl == NULL || len == 0 || len >= SL_CL_NAME_MAX)
		return -ENOENT;
	for (uint32_t i = 0; i < cl->n_apps; i++)
		if (cl->apps[i].name_len == len && memcmp(cl->apps[i].name, name, len) == 0)
			return (int)i;
	return -ENOENT;
}
