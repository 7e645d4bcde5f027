/* SPDX-License-Identifier: GPL-3.0-or-later */
/* vmarpc.c -- the caller's side of the VMA's SimpleRPC: one GET, one answer. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

/*
 * Call method on the VMA at addr:port with "k=v&..." query (may be NULL).
 * 0 with the JSON result in out (e.g. "\"listening\"" or "null"); -1 with
 * the VMA's error message, or the transport's, in out.
 */
int
vma_call(const char *addr, int port, const char *method, const char *query,
    int timeout_ms, char *out, size_t outsz)
{
	char portbuf[16], err[256], *body = NULL;
	struct conn *c;
	struct http_msg m;
	struct buf b = { NULL, 0, 0, 64 * 1024 };
	long long clen;
	int fd, n, rc = -1;
	size_t len;

	str_fmt(portbuf, sizeof(portbuf), "%d", port);
	if ((fd = tcp_connect(addr, portbuf, timeout_ms, err, sizeof(err)))
	    == -1) {
		str_copy(out, err, outsz);
		return -1;
	}
	c = xcalloc(1, sizeof(*c));
	conn_init(c, fd, timeout_ms);
	conn_set_deadline(c, timeout_ms);
	if (conn_printf(c, "GET /vma/%s%s%s HTTP/1.1\r\nHost: %s\r\n"
	    "Connection: close\r\n\r\n", method, query ? "?" : "",
	    query ? query : "", addr) == -1 ||
	    (n = conn_read_msg(c, &m, 0)) <= 0) {
		str_fmt(out, outsz, "VMA %s: %s", method, *c->err ? c->err :
		    "no answer");
		goto out;
	}
	if (m.status != 200) {
		str_fmt(out, outsz, "VMA %s: HTTP %d", method, m.status);
		goto out;
	}
	clen = http_content_length(&m);
	conn_consume(c, (size_t)n);
	if (clen < 0 || clen > 64 * 1024 ||
	    conn_read_body(c, (size_t)clen, &b) == -1) {
		str_fmt(out, outsz, "VMA %s: bad answer", method);
		goto out;
	}
	body = b.data ? b.data : (char *)"";
	len = b.len;
	while (len > 0 && (body[len - 1] == '\r' || body[len - 1] == '\n'))
		body[--len] = '\0';
	if (str_has_prefix(body, "\"\",")) {	/* the error form */
		struct json_tok t[2];
		const char *js = body + 3;

		if (json_parse(js, strlen(js), t, 2) != 1 ||
		    json_str(js, &t[0], out, outsz, NULL) == -1)
			str_copy(out, js, outsz);
		goto out;
	}
	str_copy(out, body, outsz);
	rc = 0;
out:
	buf_free(&b);
	conn_close(c);
	free(c);
	return rc;
}
