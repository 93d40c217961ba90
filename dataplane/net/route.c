/**
 * @file
 * Route lookup for locally originated packets: longest prefix match over the interface's own
 * subnet and the static route table. Both are read-only after start, so every lcore may look
 * up at once.
 */
#include <errno.h>

#include "net-priv.h"

/*
 * sl_net_route(<nif>, <dst>, <next_hop>): longest match (RFC 1812 5.2.4.3) where the connected
 * subnet counts as a route of the interface's prefix length whose next hop is the destination
 * itself; it wins ties with the table. A route with gateway 0.0.0.0 is on link too. Routes
 * with a prefix length over 32 are ignored.
 */
int
sl_net_route(const struct sl_net_if *nif, struct sl_ip4 dst, struct sl_ip4 *next_hop)
{
	const struct sl_route_table *rt = nif->conf.routes;
	uint32_t mask = sl_ip4_mask(nif->conf.prefix_len);
	struct sl_ip4 best = dst;
	int best_len = -1;
	unsigned int i, n;

	if (((dst.v ^ nif->conf.addr.v) & mask) == 0)
		best_len = nif->conf.prefix_len;
	n = rt == NULL ? 0 : rt->n;
	if (n > SL_ROUTES_MAX)
		n = SL_ROUTES_MAX;
	for (i = 0; i < n; i++) {
		const struct sl_route *r = &rt->r[i];

		if (r->prefix_len > 32 || (int)r->prefix_len <= best_len)
			continue;
		if (((dst.v ^ r->dst.v) & sl_ip4_mask(r->prefix_len)) != 0)
			continue;
		best_len = r->prefix_len;
		best = r->gateway.v == 0 ? dst : r->gateway;
	}
	if (best_len < 0)
		return -ENETUNREACH;
	*next_hop = best;
	return 0;
}
