/**
 * @file
 * Port bring-up: find the ethdev created by a --vdev, give it a mempool and one RX/TX queue
 * pair per worker, start it. Runs on the main lcore at start and stop, never on the hot path.
 */
#ifndef SL_PORT_H
#define SL_PORT_H

#include "port-t.h"

/** Device name of a --vdev string: the part before the first comma ("net_tap0"). */
void sl_port_vdev_name(const char *vdev, char *name, unsigned int size);

/**
 * Configure and start a port.
 * @return 0, or -ENODEV (no such device), -ENOMEM (mempool), or the ethdev's -errno;
 *         the reason is logged.
 */
int sl_port_start(struct sl_port *port, const struct sl_port_conf *conf);

/** Stop and close a started port, free its mempool. */
void sl_port_stop(struct sl_port *port);

#endif /* SL_PORT_H */
