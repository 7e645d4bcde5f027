/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz_x11.c -- libFuzzer target: what an X server or a user's files give
 * qvdclient: DISPLAY, .Xauthority, the setup answer, the XKB names. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct x11_where w;
	struct x11_cookie ck;
	struct x11_conn x;
	char s[300], err[256], kb[64];

	if (size > 0 && size < sizeof(s)) {
		memcpy(s, data, size);
		s[size] = '\0';
		x11_parse_display(s, &w, err, sizeof(err));
	}
	x11_auth_find(data, size, 256, "vm", 2, 0, &ck);
	x11_parse_setup(data, size, size > 0 ? data[0] % 4 : 0, &x, err,
	    sizeof(err));
	x11_parse_xkb_names(data, size, kb, sizeof(kb));
	return 0;
}
