/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz_http.c -- libFuzzer target: request/response heads, queries, auth. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_msg m;
	char k[64], v[256], u[64], p[64], path[256];
	const char *q, *cur, *h;
	size_t qlen, hl;

	if (http_parse_request((const char *)data, size, &m) > 0) {
		http_path(&m, path, sizeof(path));
		q = http_query(&m, &qlen);
		cur = q;
		while (http_query_next(&cur, q + qlen, k, sizeof(k), v,
		    sizeof(v)) == 1)
			;
		if ((h = http_header(&m, "Authorization", &hl)) != NULL)
			http_basic_auth(h, hl, u, sizeof(u), p, sizeof(p));
		http_header_has_token(&m, "Connection", "upgrade");
		http_content_length(&m);
	}
	http_parse_response((const char *)data, size, &m);
	return 0;
}
