/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz_conf.c -- libFuzzer target: the configuration file parser. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_errors errs;

	memset(&errs, 0, sizeof(errs));
	conf_parse_buffer("fuzz", (const char *)data, size, CONF_FILE, &errs);
	conf_get("path.storage.images");
	conf_get("nodename");
	memset(&errs, 0, sizeof(errs));
	conf_check(&errs);
	conf_free();
	return 0;
}
