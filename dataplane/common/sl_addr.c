#include <stdio.h>

#include "sl_addr.h"

void
sl_ip4_str(struct sl_ip4 a, char out[SL_IP4_STRLEN])
{
	snprintf(out, SL_IP4_STRLEN, "%u.%u.%u.%u", a.v >> 24, (a.v >> 16) & 0xff,
		 (a.v >> 8) & 0xff, a.v & 0xff);
}
