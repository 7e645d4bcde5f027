/* SPDX-License-Identifier: GPL-3.0-or-later */
/* t_http.c -- request/response heads, limits, queries, Basic auth. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"
#include "tap.h"

/* What upstream's C client sends: LF line ends, raw '/', no Host. */
static const char upstream_req[] =
    "GET /qvd/connect_to_vm?id=7&qvd.client.os=linux&qvd.client.geometry="
    "1024x768&qvd.client.link=adsl&qvd.client.keyboard=pc105/en&"
    "qvd.client.fullscreen=0 HTTP/1.1\n"
    "Authorization: Basic cXZkOnF2ZA==\n"
    "Connection: Upgrade\n"
    "Upgrade: QVD/1.0\n\n";

static int
parse_req(const char *s, size_t n, struct http_msg *m)
{
	char *c = tap_copy(s, n);
	int rc = http_parse_request(c, n, m);

	free(c);
	return rc;
}

static void
test_upstream_request(void)
{
	struct http_msg m;
	char val[64], user[64], pass[64], path[64];
	const char *q, *v;
	size_t qlen, vlen, i;
	int rc, bad = 0;

	rc = parse_req(upstream_req, sizeof(upstream_req) - 1, &m);
	is_int(rc, (long long)sizeof(upstream_req) - 1,
	    "upstream client's request parses whole");
	/* parse again in place so the pointers stay valid */
	http_parse_request(upstream_req, sizeof(upstream_req) - 1, &m);
	ok(m.method_len == 3 && memcmp(m.method, "GET", 3) == 0, "method");
	ok(http_path(&m, path, sizeof(path)) == 0 &&
	    strcmp(path, "/qvd/connect_to_vm") == 0, "path");
	q = http_query(&m, &qlen);
	ok(http_query_get(q, qlen, "id", val, sizeof(val)) == 1 &&
	    strcmp(val, "7") == 0, "id from query");
	ok(http_query_get(q, qlen, "qvd.client.keyboard", val, sizeof(val))
	    == 1 && strcmp(val, "pc105/en") == 0, "unencoded '/' accepted");
	ok(http_query_get(q, qlen, "nope", val, sizeof(val)) == 0, "absent");
	ok(http_header_has_token(&m, "connection", "upgrade"),
	    "Connection: Upgrade, any case");
	ok(http_header_has_token(&m, "Upgrade", "QVD/1.0"), "Upgrade header");
	v = http_header(&m, "AUTHORIZATION", &vlen);
	ok(v != NULL && http_basic_auth(v, vlen, user, sizeof(user), pass,
	    sizeof(pass)) == 0 && strcmp(user, "qvd") == 0 &&
	    strcmp(pass, "qvd") == 0, "Basic auth decoded");
	for (i = 0; i < sizeof(upstream_req) - 1; i++)
		if (parse_req(upstream_req, i, &m) != -2)
			bad++;
	is_int(bad, 0, "every truncation of it asks for more bytes");
}

static void
test_limits(void)
{
	struct http_msg m;
	char *big;
	size_t n;
	int i;

	ok(parse_req("\r\n\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 31, &m) > 0,
	    "blank lines before the request skipped");
	ok(parse_req("GET / HTTP/2.0\r\n\r\n", 18, &m) == -1 &&
	    m.error_status == 505, "HTTP/2.0 gets 505");
	ok(parse_req("GET / HTTP/1.0\r\n\r\n", 18, &m) > 0 &&
	    m.minor_version == 0, "HTTP/1.0 accepted");
	ok(parse_req("GET /a b HTTP/1.1\r\n\r\n", 21, &m) == -1 &&
	    m.error_status == 400, "space in target gets 400");
	ok(parse_req("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", 33, &m) == -1
	    && m.error_status == 400, "bad header name gets 400");
	ok(parse_req("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 27, &m) == -1 &&
	    m.error_status == 400, "obsolete folding gets 400");
	n = HTTP_MAX_REQUEST_LINE + 100;
	big = malloc(n);
	memset(big, 'a', n);
	memcpy(big, "GET /", 5);
	ok(parse_req(big, n, &m) == -1 && m.error_status == 414,
	    "endless request line gets 414");
	free(big);
	n = HTTP_MAX_HEADER_BYTES + 200;
	big = malloc(n);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	memset(big + 19, 'a', n - 19);
	ok(parse_req(big, n, &m) == -1 && m.error_status == 431,
	    "endless header gets 431");
	free(big);
	big = malloc(16 * (HTTP_MAX_HEADERS + 2) + 64);
	n = (size_t)sprintf(big, "GET / HTTP/1.1\r\n");
	for (i = 0; i < HTTP_MAX_HEADERS + 1; i++)
		n += (size_t)snprintf(big + n, 20, "H%d: v\r\n", i);
	n += (size_t)snprintf(big + n, 3, "\r\n");
	ok(parse_req(big, n, &m) == -1 && m.error_status == 431,
	    "too many headers gets 431");
	free(big);
}

static void
test_response(void)
{
	const char *r = "HTTP/1.1 102 Processing\r\nX-QVD-VM-Info: Starting "
	    "virtual machine\r\n\r\nHTTP/1.1 101 Switching Protocols\n"
	    "X-QVD-Slave-Key: abc\n\nNXDATA";
	struct http_msg m;
	char v[64];
	int n, k;

	n = http_parse_response(r, strlen(r), &m);
	ok(n > 0 && m.status == 102, "102 parsed");
	ok(http_header_copy(&m, "x-qvd-vm-info", v, sizeof(v)) == 0 &&
	    strcmp(v, "Starting virtual machine") == 0, "progress header");
	k = http_parse_response(r + n, strlen(r) - (size_t)n, &m);
	ok(k > 0 && m.status == 101 && strcmp(r + n + k, "NXDATA") == 0,
	    "101 parsed and the tunnel bytes left alone");
	ok(http_parse_response("HTTP/1.1 200\r\n\r\n", 16, &m) > 0 &&
	    m.status == 200 && m.reason_len == 0, "status without reason");
	ok(http_parse_response("HTTP/1.1 2x0 OK\r\n\r\n", 19, &m) == -1,
	    "bad status refused");
}

static void
test_coding(void)
{
	char out[64], head[128], user[16], pass[16];
	const char *cur, *q = "a=1&&b=x+y%20z&c&d=%zz&e=%2F";
	char k[16], v[16];
	int n = 0;

	ok(http_url_encode("pc105/es x&y", out, sizeof(out)) > 0 &&
	    strcmp(out, "pc105%2Fes%20x%26y") == 0, "url encode");
	ok(http_url_decode("a%00b", 5, out, sizeof(out), 0) == -1,
	    "%%00 refused");
	cur = q;
	while (http_query_next(&cur, q + strlen(q), k, sizeof(k), v,
	    sizeof(v)) == 1) {
		n++;
		if (strcmp(k, "b") == 0)
			is_str(v, "x y z", "+ and %%20 decode to spaces");
		if (strcmp(k, "d") == 0)
			is_str(v, "%zz", "bad %%-escape kept literally");
		if (strcmp(k, "c") == 0)
			is_str(v, "", "key without value");
	}
	is_int(n, 5, "five pairs, empty segments skipped");
	ok(http_basic_auth("Basic Om5vdXNlcg==", 18, user, sizeof(user), pass,
	    sizeof(pass)) == -1, "empty login refused");
	ok(http_basic_auth("Bearer abc", 10, user, sizeof(user), pass,
	    sizeof(pass)) == -1, "other scheme refused");
	ok(http_basic_auth("basic YTpi", 10, user, sizeof(user), pass,
	    sizeof(pass)) == 0 && strcmp(user, "a") == 0 &&
	    strcmp(pass, "b") == 0, "scheme is case-insensitive");
	ok(http_basic_auth("Basic !!!", 9, user, sizeof(user), pass,
	    sizeof(pass)) == -1, "bad base64 refused");
	ok(http_format_head(head, sizeof(head), 200, NULL, "text/plain", 13)
	    > 0 && strcmp(head, "HTTP/1.1 200 OK\r\nContent-Type: text/plain"
	    "\r\nContent-Length: 13\r\n\r\n") == 0, "head formats");
	ok(http_format_head(out, 10, 200, NULL, "text/plain", 13) == -1,
	    "head overflow reported");
}

int
main(void)
{
	test_upstream_request();
	test_limits();
	test_response();
	test_coding();
	return tap_done();
}
