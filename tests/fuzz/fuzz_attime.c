/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz_attime.c -- libFuzzer target: at(1) time specifications. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char spec[256], err[256];
	time_t out;

	if (size >= sizeof(spec))
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	attime_parse(spec, 1764064830, &out, err, sizeof(err));
	return 0;
}
