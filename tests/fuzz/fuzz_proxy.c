/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz_proxy.c -- libFuzzer target: the PROXY header a load balancer
 * (or anyone on its address) sends the L7R first. */

#include <stdint.h>
#include <stdlib.h>

#include "qvd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr h;
	char t[64];

	if (proxy_parse(data, size, &h) == 1) {
		if (h.consumed > size)
			abort();
		proxy_addr_text(h.addr, t, sizeof(t));
	}
	return 0;
}
