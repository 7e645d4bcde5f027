/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz_dns.c -- libFuzzer target: a DNS server's answer as the static
 * client's resolver reads it (resolve.c), for A and AAAA questions. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[64];
	unsigned short id;
	int rc;

	if (size < 2 || size > 65535)
		return 0;
	id = (unsigned short)(data[0] << 8 | data[1]);	/* as asked */
	rc = resolve_parse_answer(data, (int)size, id, 1, out, sizeof(out));
	if (rc == 1 && memchr(out, '\0', sizeof(out)) == NULL)
		abort();
	rc = resolve_parse_answer(data, (int)size, id, 28, out, sizeof(out));
	if (rc == 1 && memchr(out, '\0', sizeof(out)) == NULL)
		abort();
	return 0;
}
