/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz_json.c -- libFuzzer target: the JSON parser and accessors. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct json_tok t[256];
	char out[128], esc[512];
	long long v;
	double d;
	int n, i;

	n = json_parse((const char *)data, size, t, 256);
	for (i = 0; i < n; i++) {
		if (t[i].type == JSON_STRING)
			json_str((const char *)data, &t[i], out, sizeof(out), NULL);
		if (t[i].type == JSON_NUMBER) {
			json_int((const char *)data, &t[i], -1000, 1000, &v);
			json_double((const char *)data, &t[i], &d);
		}
		if (t[i].type == JSON_OBJECT)
			json_obj_get((const char *)data, t, n, i, "id");
		if (t[i].type == JSON_ARRAY)
			json_arr_get(t, n, i, t[i].size - 1);
	}
	json_escape((const char *)data, size, esc, sizeof(esc));
	return 0;
}
