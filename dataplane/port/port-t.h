/**
 * @file
 * Types of the port layer: how a port is asked for and what it became. Plain data.
 */
#ifndef SL_PORT_T_H
#define SL_PORT_T_H

#include <stdint.h>

#include "sl_addr-t.h"

#define SL_PORT_NAME_MAX 32

/** What the application asks of a port. */
struct sl_port_conf {
	char name[SL_PORT_NAME_MAX]; /* operator's name, e.g. "lab0" */
	const char *vdev;	     /* the --vdev string the port was created from */
	uint16_t n_queues;	     /* one RX and one TX queue per worker */
	uint16_t rx_desc, tx_desc;
	uint32_t n_mbufs;
	uint16_t priv_size; /* bytes of private area per mbuf (the data plane's seg view) */
	uint16_t mtu;
	int has_mac;
	struct sl_mac mac;
};

/** A started port. */
struct sl_port {
	char name[SL_PORT_NAME_MAX];
	char driver[32];
	uint16_t port_id;
	uint16_t n_queues;
	uint16_t mtu;
	int scatter;	/* multi-segment RX enabled (frames over one mbuf arrive whole) */
	int rx_l4_csum; /* the port checks TCP checksums on receive (RX_OFFLOAD_TCP_CKSUM) */
	int tx_l4_csum; /* the port completes TCP checksums on send (TX_OFFLOAD_TCP_CKSUM) */
	int steer;	/* RSS over IPv4/TCP with sl_rss_key and our RETA: the NIC puts a flow
			 * on a queue we can predict (rss.h); 0: software RSS (tap, af_packet) */
	uint16_t reta_size;
	struct sl_mac mac;
	struct rte_mempool *pool;
};

#endif /* SL_PORT_T_H */
