/**
 * @file
 * IPv4 receive checks for a host (RFC 791, RFC 1122 3.2.1) and the header of locally
 * originated datagrams. No options, no fragments: what passes is handed to ICMP here or to
 * the transport layer through SL_NET_L4.
 */
#include "net-priv.h"

/*
 * Whether <src> may be the source of a datagram we accept (RFC 1122 3.2.1.3: "A host MUST
 * silently discard an incoming datagram containing an IP source address that is invalid by
 * the rules of this section").
 */
static int
ip4_src_ok(const struct sl_net_if *nif, struct sl_ip4 src)
{
	uint32_t mask = sl_ip4_mask(nif->conf.prefix_len);
	uint32_t a = src.v;

	/* (a), (b): {0, 0} and {0, <Host-number>}, "this network" */
	if ((a >> 24) == 0)
		return 0;
	/* (g): {127, <any>}, loopback */
	if ((a >> 24) == 127)
		return 0;
	/* Class D (RFC 1112): a multicast group never sends. */
	if ((a >> 28) == 0xe)
		return 0;
	/* (c): {-1, -1}, limited broadcast */
	if (a == 0xffffffffu)
		return 0;
	/* (d): {<Network-number>, -1}, our subnet's broadcast. /31 and /32 have none (RFC 3021). */
	if (nif->conf.prefix_len <= 30 && a == ((nif->conf.addr.v & mask) | ~mask))
		return 0;
	return 1;
}

/*
 * sl_net__ip4_input(<nif>, <frame>, <pkt_len>, <data_len>, <res>): check an IPv4 datagram
 * received in <frame> and dispatch it by protocol.
 *
 * Order of the checks, each counting its own drop: first whether the header can be trusted
 * at all (present, version, IHL, no options, checksum, total length against the header and
 * the frame), then what it says (source, fragment, TTL, destination), then the protocol.
 * Padding after the total length (short frames padded to 60 bytes) is ignored.
 */
enum sl_net_verdict
sl_net__ip4_input(struct sl_net_if *nif, uint8_t *frame, uint32_t pkt_len, uint16_t data_len,
		  struct sl_net_result *res)
{
	struct sl_net_stats *st = &nif->stats;
	uint8_t *ip = frame + SL_ETH_HLEN;
	unsigned int hlen;
	uint16_t total_len, frag;
	struct sl_ip4 src, dst;

	if (SL_UNLIKELY(data_len < SL_ETH_HLEN + SL_IP4_HLEN))
		return sl_net__drop(&st->drop_truncated);
	/* RFC 1122 3.2.1.1: "A datagram whose version number is not 4 MUST be silently
	 * discarded." */
	if (SL_UNLIKELY((ip[SL_IP4_VER_IHL] >> 4) != 4))
		return sl_net__drop(&st->drop_bad_ip_version);
	/* RFC 791 3.1: "the minimum value for a correct header is 5". */
	hlen = (ip[SL_IP4_VER_IHL] & 0x0f) * 4u;
	if (SL_UNLIKELY(hlen < SL_IP4_HLEN))
		return sl_net__drop(&st->drop_bad_ihl);
	if (SL_UNLIKELY(hlen > SL_IP4_HLEN)) {
		if (SL_ETH_HLEN + hlen > data_len)
			return sl_net__drop(&st->drop_truncated);
		/* RFC 1122 3.2.1.8 asks hosts to accept options; none is useful to a load
		 * balancer's address and legitimate peers do not send them. */
		return sl_net__drop(&st->drop_ip_options);
	}
	/* RFC 1122 3.2.1.2: "A host MUST verify the IP header checksum on every received
	 * datagram and silently discard every datagram that has a bad checksum." */
	if (SL_UNLIKELY(sl_net_csum(ip, SL_IP4_HLEN, 0) != 0))
		return sl_net__drop(&st->drop_bad_ip_csum);
	/* RFC 791 3.1: total length counts the header and the data. */
	total_len = sl_rd_be16(ip + SL_IP4_TOTAL_LEN);
	if (SL_UNLIKELY(total_len < hlen))
		return sl_net__drop(&st->drop_bad_ip_len);
	if (SL_UNLIKELY(total_len > pkt_len - SL_ETH_HLEN))
		return sl_net__drop(&st->drop_truncated);

	src = sl_net__rd_ip4(ip + SL_IP4_SRC);
	dst = sl_net__rd_ip4(ip + SL_IP4_DST);
	if (SL_UNLIKELY(!ip4_src_ok(nif, src)))
		return sl_net__drop(&st->drop_bad_ip_src);
	/* RFC 791 3.2 / RFC 1122 3.3.2: we do not reassemble. DF alone is not a fragment. */
	frag = sl_rd_be16(ip + SL_IP4_FRAG);
	if (SL_UNLIKELY(frag & (SL_IP4_FLAG_MF | SL_IP4_FRAG_OFF_MASK)))
		return sl_net__drop(&st->drop_ip_fragment);
	/* RFC 791 3.1: "If this field contains the value zero, then the datagram must be
	 * destroyed"; no host may send it (RFC 1122 3.2.1.7). */
	if (SL_UNLIKELY(ip[SL_IP4_TTL] == 0))
		return sl_net__drop(&st->drop_ttl);
	/* RFC 1122 3.2.1.3: a datagram is for the host when sent to one of its addresses, a
	 * broadcast address or a group it joined; we answer no broadcast and join no group. */
	if (!sl_ip4_eq(dst, nif->conf.addr))
		return sl_net__drop(&st->drop_ip_not_for_us);

	switch (ip[SL_IP4_PROTO]) {
	case SL_IPPROTO_ICMP:
		return sl_net__icmp_input(nif, frame, total_len, data_len, res);
	case SL_IPPROTO_TCP:
	case SL_IPPROTO_UDP:
		res->l4.src = src;
		res->l4.dst = dst;
		res->l4.proto = ip[SL_IP4_PROTO];
		res->l4.ttl = ip[SL_IP4_TTL];
		res->l4.l3_off = SL_ETH_HLEN;
		res->l4.l4_off = SL_ETH_HLEN + SL_IP4_HLEN;
		res->l4.l4_len = (uint16_t)(total_len - SL_IP4_HLEN);
		st->rx_l4++;
		return SL_NET_L4;
	default:
		/* RFC 1122 3.2.2.1 would have us send Protocol Unreachable; we stay silent. */
		return sl_net__drop(&st->drop_unknown_proto);
	}
}

/*
 * sl_net_ip4_finish(<nif>, <ip>, <ip_len>, <proto>, <dst>, <ip_id>): a 20-byte header for a
 * locally originated datagram. DF is set (no fragmentation on our side, RFC 1191 path MTU
 * discovery); with DF the identification need not be unique (RFC 6864 4.1).
 */
void
sl_net_ip4_finish(const struct sl_net_if *nif, uint8_t *ip, uint16_t ip_len, uint8_t proto,
		  struct sl_ip4 dst, uint16_t ip_id)
{
	ip[SL_IP4_VER_IHL] = 0x45;
	ip[SL_IP4_TOS] = 0;
	sl_wr_be16(ip + SL_IP4_TOTAL_LEN, ip_len);
	sl_wr_be16(ip + SL_IP4_ID, ip_id);
	sl_wr_be16(ip + SL_IP4_FRAG, SL_IP4_FLAG_DF);
	ip[SL_IP4_TTL] = SL_IP4_DEFAULT_TTL;
	ip[SL_IP4_PROTO] = proto;
	sl_wr_be16(ip + SL_IP4_CSUM, 0);
	sl_wr_be32(ip + SL_IP4_SRC, nif->conf.addr.v);
	sl_wr_be32(ip + SL_IP4_DST, dst.v);
	sl_wr_be16(ip + SL_IP4_CSUM, sl_net_csum(ip, SL_IP4_HLEN, 0));
}
