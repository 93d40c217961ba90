/**
 * @file
 * ICMP for a host (RFC 792, RFC 1122 3.2.2): echo requests are answered in place, echo
 * replies go to the owner (for ping), the rest is counted and dropped. Also builds echo
 * requests for sl_net_output().
 */
#include <string.h>

#include "net-priv.h"

/*
 * icmp_echo_reply(<nif>, <frame>, <ip_len>, <res>): turn the echo request in <frame> into its
 * reply. Only the Ethernet addresses, the IPv4 addresses, TTL and checksum, and the ICMP type
 * and checksum change; identifier, sequence number and data are returned as they came
 * (RFC 1122 3.2.2.6: "Data received in an ICMP Echo Request MUST be entirely included in the
 * resulting Echo Reply"). Ethernet padding is not sent back.
 */
static enum sl_net_verdict
icmp_echo_reply(struct sl_net_if *nif, uint8_t *frame, uint16_t ip_len, struct sl_net_result *res)
{
	uint8_t *ip = frame + SL_ETH_HLEN;
	uint8_t *icmp = ip + SL_IP4_HLEN;
	uint8_t peer[SL_MAC_LEN];
	uint32_t src;
	uint16_t csum;

	memcpy(peer, frame + SL_ETH_SRC, SL_MAC_LEN);
	sl_net__eth_write(frame, peer, nif->conf.mac.b, SL_ETHERTYPE_IPV4);

	/* RFC 1122 3.2.2.6: "The IP source address in an ICMP Echo Reply MUST be the same as
	 * the specific-destination address ... of the corresponding ICMP Echo Request". */
	src = sl_rd_be32(ip + SL_IP4_SRC);
	memcpy(ip + SL_IP4_SRC, ip + SL_IP4_DST, 4);
	sl_wr_be32(ip + SL_IP4_DST, src);
	ip[SL_IP4_TTL] = SL_IP4_DEFAULT_TTL;
	sl_wr_be16(ip + SL_IP4_CSUM, 0);
	sl_wr_be16(ip + SL_IP4_CSUM, sl_net_csum(ip, SL_IP4_HLEN, 0));

	/* RFC 792 "Echo or Echo Reply Message": type 0, checksum recomputed. Only the type
	 * changed, in the first 16-bit word: an RFC 1624 update is enough. */
	csum = sl_rd_be16(icmp + SL_ICMP_CSUM);
	icmp[SL_ICMP_TYPE] = SL_ICMP_ECHO_REPLY;
	sl_wr_be16(icmp + SL_ICMP_CSUM,
		   sl_net__csum_adjust16(csum, SL_ICMP_ECHO_REQUEST << 8, SL_ICMP_ECHO_REPLY << 8));

	res->tx_len = (uint16_t)(SL_ETH_HLEN + ip_len);
	nif->stats.tx_icmp_echo_reply++;
	return SL_NET_TX;
}

/*
 * sl_net__icmp_input(<nif>, <frame>, <ip_len>, <data_len>, <res>): an ICMP message for our
 * address; the IPv4 header (20 bytes, total length <ip_len> within the frame) was checked.
 * The whole message must be in the first segment: it is checksummed and maybe answered.
 */
enum sl_net_verdict
sl_net__icmp_input(struct sl_net_if *nif, uint8_t *frame, uint16_t ip_len, uint16_t data_len,
		   struct sl_net_result *res)
{
	struct sl_net_stats *st = &nif->stats;
	uint8_t *icmp = frame + SL_ETH_HLEN + SL_IP4_HLEN;
	uint16_t icmp_len = (uint16_t)(ip_len - SL_IP4_HLEN);
	uint8_t type, code;

	if (SL_UNLIKELY(icmp_len < SL_ICMP_HLEN))
		return sl_net__drop(&st->drop_bad_icmp);
	if (SL_UNLIKELY((uint32_t)SL_ETH_HLEN + ip_len > data_len))
		return sl_net__drop(&st->drop_truncated);
	/* RFC 792: "The checksum is the 16-bit ones's complement of the one's complement sum of
	 * the ICMP message starting with the ICMP Type." RFC 1122 3.2.2: discard when bad. */
	if (SL_UNLIKELY(sl_net_csum(icmp, icmp_len, 0) != 0))
		return sl_net__drop(&st->drop_bad_icmp);

	type = icmp[SL_ICMP_TYPE];
	code = icmp[SL_ICMP_CODE];
	if (type == SL_ICMP_ECHO_REQUEST && code == 0) {
		/* RFC 1122 3.2.2.6: "Every host MUST implement an ICMP Echo server function". */
		st->rx_icmp_echo++;
		return icmp_echo_reply(nif, frame, ip_len, res);
	}
	if (type == SL_ICMP_ECHO_REPLY && code == 0) {
		st->rx_icmp_echo_reply++;
		if (nif->ops->echo_reply != NULL)
			nif->ops->echo_reply(
				nif->user, sl_net__rd_ip4(frame + SL_ETH_HLEN + SL_IP4_SRC),
				sl_rd_be16(icmp + SL_ICMP_IDENT), sl_rd_be16(icmp + SL_ICMP_SEQ),
				icmp + SL_ICMP_HLEN, (uint16_t)(icmp_len - SL_ICMP_HLEN));
		/* Handled: nothing to send, the caller frees the frame. */
		return SL_NET_DROP;
	}
	/* Errors (unreachable, time exceeded...) would matter to TCP; not handled yet. */
	return sl_net__drop(&st->drop_icmp_other);
}

/*
 * sl_net_build_echo(<nif>, <frame>, <dst>, <ident>, <seq>, <payload>, <payload_len>): an ICMP
 * echo request (RFC 792) in IPv4 after SL_ETH_HLEN bytes left for sl_net_output(). The IPv4
 * identification is the sequence number. Returns 0 when the datagram would not fit in 64 KiB.
 */
uint16_t
sl_net_build_echo(const struct sl_net_if *nif, uint8_t *frame, struct sl_ip4 dst, uint16_t ident,
		  uint16_t seq, const uint8_t *payload, uint16_t payload_len)
{
	uint8_t *ip = frame + SL_ETH_HLEN;
	uint8_t *icmp = ip + SL_IP4_HLEN;
	uint32_t icmp_len = (uint32_t)SL_ICMP_HLEN + payload_len;

	if (SL_ETH_HLEN + SL_IP4_HLEN + icmp_len > UINT16_MAX)
		return 0;
	icmp[SL_ICMP_TYPE] = SL_ICMP_ECHO_REQUEST;
	icmp[SL_ICMP_CODE] = 0;
	sl_wr_be16(icmp + SL_ICMP_CSUM, 0);
	sl_wr_be16(icmp + SL_ICMP_IDENT, ident);
	sl_wr_be16(icmp + SL_ICMP_SEQ, seq);
	if (payload_len != 0)
		memcpy(icmp + SL_ICMP_HLEN, payload, payload_len);
	sl_wr_be16(icmp + SL_ICMP_CSUM, sl_net_csum(icmp, icmp_len, 0));
	sl_net_ip4_finish(nif, ip, (uint16_t)(SL_IP4_HLEN + icmp_len), SL_IPPROTO_ICMP, dst, seq);
	return (uint16_t)(SL_ETH_HLEN + SL_IP4_HLEN + icmp_len);
}
