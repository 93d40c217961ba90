/**
 * @file
 * Text forms of addresses, for logs, control replies and test dumps (not the hot path).
 */
#ifndef SL_ADDR_H
#define SL_ADDR_H

#include "sl_addr-t.h"

#define SL_IP4_STRLEN 16 /* "255.255.255.255" and its NUL */

/** Write a host-order IPv4 address as a.b.c.d into `out` (SL_IP4_STRLEN bytes). */
void sl_ip4_str(struct sl_ip4 a, char out[SL_IP4_STRLEN]);

#endif /* SL_ADDR_H */
