/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz_nx.c -- libFuzzer target: what nxagent prints (its state lines)
 * and the NX option strings a client sends (link, extra options). */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, state[32], out[4096], err[512];

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (nx_parse_state_line(s, state, sizeof(state)) == 1) {
		if (strlen(state) >= sizeof(state))
			abort();
		(void)nx_x_state(state);
	}
	(void)nx_value_ok(s);
	(void)nx_link(s, out, sizeof(out));
	(void)nx_proxy_options(s, "adsl", NULL, out, sizeof(out), err,
	    sizeof(err));
	(void)nx_proxy_options(NULL, s, s, out, sizeof(out), err, sizeof(err));
	(void)nx_proxy_options(NULL, "lan", s, out, sizeof(out), err,
	    sizeof(err));
	free(s);
	return 0;
}
