/*
 * Port bring-up on the main lcore. Every port gets one RX and one TX queue per worker and a
 * mempool sized by configuration. Multi-segment RX is enabled where the driver has it, so a
 * frame larger than one mbuf arrives whole and the L2 layer can count it as oversize instead
 * of the driver cutting or hiding it.
 */
#include "port.h"
#include "rss.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "sl_log.h"
#include "sl_util.h"

#define PORT_LOG(l, ...) SL_LOG(l, "port", __VA_ARGS__)

void
sl_port_vdev_name(const char *vdev, char *name, unsigned int size)
{
	size_t n = strcspn(vdev, ",");

	if (n >= size)
		n = size - 1;
	memcpy(name, vdev, n);
	name[n] = '\0';
}

/* Ports backed by the host kernel or by memory: they cannot be trusted to steer. */
static int
port_is_virtual(const char *driver)
{
	static const char *const virt[] = {"net_tap",  "net_af_packet", "net_memif",
					   "net_ring", "net_null",	"net_af_xdp",
					   "net_pcap", "net_vhost",	"net_virtio_user"};

	for (size_t i = 0; i < SL_ARRAY_SIZE(virt); i++)
		if (strcmp(driver, virt[i]) == 0)
			return 1;
	return 0;
}

/* RETA entry i -> queue i % n_queues: what sl_rss_queue() assumes. */
static int
port_set_reta(struct sl_port *port)
{
	struct rte_eth_rss_reta_entry64 reta[512 / RTE_ETH_RETA_GROUP_SIZE];
	uint16_t n = port->reta_size;

	if (n > 512)
		return -ENOTSUP;
	memset(reta, 0, sizeof(reta));
	for (uint16_t i = 0; i < n; i++) {
		reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
		reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] =
			(uint16_t)(i % port->n_queues);
	}
	return rte_eth_dev_rss_reta_update(port->port_id, reta, n);
}

int
sl_port_start(struct sl_port *port, const struct sl_port_conf *conf)
{
	struct rte_eth_conf eth_conf;
	struct rte_eth_dev_info info;
	struct rte_ether_addr ea;
	char devname[64], poolname[RTE_MEMPOOL_NAMESIZE];
	uint16_t pid, q, rxd = conf->rx_desc, txd = conf->tx_desc;
	int ret, socket;

	memset(port, 0, sizeof(*port));
	snprintf(port->name, sizeof(port->name), "%s", conf->name);
	sl_port_vdev_name(conf->vdev, devname, sizeof(devname));
	ret = rte_eth_dev_get_port_by_name(devname, &pid);
	if (ret != 0) {
		PORT_LOG(ERR, "%s: no ethdev named %s (from vdev \"%s\")", conf->name, devname,
			 conf->vdev);
		return -ENODEV;
	}
	port->port_id = pid;
	port->n_queues = conf->n_queues;
	ret = rte_eth_dev_info_get(pid, &info);
	if (ret != 0)
		return ret;
	snprintf(port->driver, sizeof(port->driver), "%s", info.driver_name);
	if (conf->n_queues > info.max_rx_queues || conf->n_queues > info.max_tx_queues) {
		PORT_LOG(ERR, "%s: %u queues asked, driver %s has %u rx / %u tx", conf->name,
			 conf->n_queues, info.driver_name, info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}

	socket = rte_eth_dev_socket_id(pid);
	if (socket < 0)
		socket = 0;
	snprintf(poolname, sizeof(poolname), "mb_%.20s", conf->name);
	port->pool = rte_pktmbuf_pool_create(poolname, conf->n_mbufs, 256,
					     RTE_ALIGN(conf->priv_size, RTE_MBUF_PRIV_ALIGN),
					     RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (port->pool == NULL) {
		PORT_LOG(ERR, "%s: mempool of %u mbufs: %s", conf->name, conf->n_mbufs,
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}

	memset(&eth_conf, 0, sizeof(eth_conf));
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) {
		eth_conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
		port->scatter = 1;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		eth_conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	/* Checksum offloads where the port has them; the TCP stack then skips its own. */
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) {
		eth_conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
		port->rx_l4_csum = 1;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) {
		eth_conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		port->tx_l4_csum = 1;
	}
	/* RSS where the port can steer flows by our key and table. The kernel-backed virtual
	 * ports move flows between queues under load whatever they advertise (lab-notes.md):
	 * software RSS for them. */
	if (conf->n_queues > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_TCP) &&
	    info.hash_key_size == SL_RSS_KEY_LEN && info.reta_size > 0 &&
	    (info.reta_size & (info.reta_size - 1)) == 0 && !port_is_virtual(info.driver_name)) {
		static uint8_t key[SL_RSS_KEY_LEN];

		memcpy(key, sl_rss_key, sizeof(key));
		eth_conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		eth_conf.rx_adv_conf.rss_conf.rss_key = key;
		eth_conf.rx_adv_conf.rss_conf.rss_key_len = SL_RSS_KEY_LEN;
		eth_conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_NONFRAG_IPV4_TCP;
		port->steer = 1;
		port->reta_size = info.reta_size;
	}
	ret = rte_eth_dev_configure(pid, conf->n_queues, conf->n_queues, &eth_conf);
	if (ret != 0) {
		PORT_LOG(ERR, "%s: configure: %s", conf->name, rte_strerror(-ret));
		goto fail;
	}
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &rxd, &txd);
	if (ret != 0)
		goto fail;
	for (q = 0; q < conf->n_queues; q++) {
		struct rte_eth_rxconf rxc = info.default_rxconf;

		rxc.offloads = eth_conf.rxmode.offloads;
		ret = rte_eth_rx_queue_setup(pid, q, rxd, (unsigned int)socket, &rxc, port->pool);
		if (ret != 0) {
			PORT_LOG(ERR, "%s: rx queue %u: %s", conf->name, q, rte_strerror(-ret));
			goto fail;
		}
		ret = rte_eth_tx_queue_setup(pid, q, txd, (unsigned int)socket, NULL);
		if (ret != 0) {
			PORT_LOG(ERR, "%s: tx queue %u: %s", conf->name, q, rte_strerror(-ret));
			goto fail;
		}
	}
	/* The MTU is ours to enforce in the L2 layer; drivers that cannot change it keep theirs. */
	port->mtu = conf->mtu;
	ret = rte_eth_dev_set_mtu(pid, conf->mtu);
	if (ret != 0 && ret != -ENOTSUP)
		PORT_LOG(WARNING, "%s: set mtu %u: %s (kept)", conf->name, conf->mtu,
			 rte_strerror(-ret));
	if (conf->has_mac) {
		memcpy(ea.addr_bytes, conf->mac.b, 6);
		ret = rte_eth_dev_default_mac_addr_set(pid, &ea);
		if (ret != 0) {
			PORT_LOG(ERR, "%s: set mac: %s", conf->name, rte_strerror(-ret));
			goto fail;
		}
	}
	ret = rte_eth_dev_start(pid);
	if (ret != 0) {
		PORT_LOG(ERR, "%s: start: %s", conf->name, rte_strerror(-ret));
		goto fail;
	}
	if (port->steer && port_set_reta(port) != 0) {
		PORT_LOG(WARNING, "%s: cannot program the RSS table: software RSS", conf->name);
		port->steer = 0;
	}
	rte_eth_macaddr_get(pid, &ea);
	memcpy(port->mac.b, ea.addr_bytes, 6);
	PORT_LOG(INFO, "%s: port %u driver %s mac " RTE_ETHER_ADDR_PRT_FMT " %u queues%s%s%s",
		 port->name, pid, port->driver, RTE_ETHER_ADDR_BYTES(&ea), conf->n_queues,
		 port->scatter ? " scatter" : "", port->rx_l4_csum ? " rx-tcp-csum" : "",
		 port->tx_l4_csum ? " tx-tcp-csum" : "");
	if (conf->n_queues > 1)
		PORT_LOG(INFO, "%s: %s", port->name,
			 port->steer ? "RSS steers flows (Toeplitz, our key and table)"
				     : "software RSS (the port cannot steer flows to queues)");
	return 0;
fail:
	rte_eth_dev_close(pid);
	rte_mempool_free(port->pool);
	port->pool = NULL;
	return ret < 0 ? ret : -EIO;
}

void
sl_port_stop(struct sl_port *port)
{
	if (port->pool == NULL)
		return;
	rte_eth_dev_stop(port->port_id);
	rte_eth_dev_close(port->port_id);
	rte_mempool_free(port->pool);
	port->pool = NULL;
}
