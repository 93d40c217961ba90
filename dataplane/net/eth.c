/**
 * @file
 * Ethernet (RFC 894) receive path: sl_net_input(), the entry point for every received frame,
 * which filters on length and destination address and hands the frame to ARP or IPv4 by
 * ethertype. Also interface set-up and the names of the counters.
 */
#include <errno.h>
#include <string.h>

#include "net-priv.h"

const char *const sl_net_stats_names[] = {
#define SL_NET_STATS_NAME(name) #name,
	SL_NET_STATS(SL_NET_STATS_NAME)
#undef SL_NET_STATS_NAME
};

_Static_assert(SL_ARRAY_SIZE(sl_net_stats_names) == SL_NET_STATS_COUNT, "one name per counter");

/*
 * sl_net_if_init(<nif>, <conf>, <ops>, <user>): copy <conf> into <nif>, apply the defaults of
 * its zero fields and empty the neighbour table. alloc, tx and free are required in <ops>;
 * neigh_learned and echo_reply may be NULL. Called before the owning lcore runs.
 */
int
sl_net_if_init(struct sl_net_if *nif, const struct sl_net_if_conf *conf,
	       const struct sl_net_ops *ops, void *user)
{
	if (nif == NULL || conf == NULL || ops == NULL)
		return -EINVAL;
	if (ops->alloc == NULL || ops->tx == NULL || ops->free == NULL)
		return -EINVAL;
	if (conf->prefix_len > 32)
		return -EINVAL;

	memset(nif, 0, sizeof(*nif));
	nif->conf = *conf;
	nif->ops = ops;
	nif->user = user;
	if (nif->conf.mtu == 0)
		nif->conf.mtu = SL_NET_DEFAULT_MTU;
	if (nif->conf.neigh.reachable_us == 0)
		nif->conf.neigh.reachable_us = SL_NEIGH_DEFAULT_REACHABLE_US;
	if (nif->conf.neigh.retry_us == 0)
		nif->conf.neigh.retry_us = SL_NEIGH_DEFAULT_RETRY_US;
	if (nif->conf.neigh.max_tries == 0)
		nif->conf.neigh.max_tries = SL_NEIGH_DEFAULT_MAX_TRIES;
	return 0;
}

/*
 * sl_net_input(<nif>, <frame>, <pkt_len>, <data_len>, <now_us>, <res>): classify one frame.
 * Order: the 14-byte header must be in the first segment (drop_truncated), then the length
 * against the MTU (drop_oversize), then the destination address (drop_l2_not_for_us), then the
 * ethertype. Frames are not required to reach the 60-byte Ethernet minimum: a veth does not
 * pad, so a 42-byte ARP or a 54-byte TCP ACK is normal, and padding after the payload is
 * ignored by the layers above. Runs on the owning lcore.
 */
enum sl_net_verdict
sl_net_input(struct sl_net_if *nif, uint8_t *frame, uint32_t pkt_len, uint16_t data_len,
	     uint64_t now_us, struct sl_net_result *res)
{
	struct sl_net_stats *st = &nif->stats;

	st->rx_frames++;
	st->rx_bytes += pkt_len;
	/* The first segment cannot be longer than the frame: trust the smaller of the two. */
	if (data_len > pkt_len)
		data_len = (uint16_t)pkt_len;
	if (SL_UNLIKELY(data_len < SL_ETH_HLEN))
		return sl_net__drop(&st->drop_truncated);
	if (SL_UNLIKELY(pkt_len > (uint32_t)nif->conf.mtu + SL_ETH_HLEN))
		return sl_net__drop(&st->drop_oversize);
	/* Our unicast address or broadcast: no multicast group is joined. */
	if (!sl_net__mac_eq(frame + SL_ETH_DST, nif->conf.mac.b) &&
	    !sl_net__mac_is_bcast(frame + SL_ETH_DST))
		return sl_net__drop(&st->drop_l2_not_for_us);

	switch (sl_rd_be16(frame + SL_ETH_TYPE)) {
	case SL_ETHERTYPE_IPV4:
		return sl_net__ip4_input(nif, frame, pkt_len, data_len, res);
	case SL_ETHERTYPE_ARP:
		return sl_net__arp_input(nif, frame, data_len, now_us, res);
	case SL_ETHERTYPE_IPV6:
		return sl_net__drop(&st->drop_ipv6);
	default:
		/* 802.1Q tags (0x8100), LLDP, 802.3 length fields below 0x0600, ... */
		return sl_net__drop(&st->drop_unknown_ethertype);
	}
}
