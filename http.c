/* SPDX-License-Identifier: GPL-3.0-or-later */
/* http.c -- incremental, allocation-free HTTP/1.x parsing and writing. */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qvd.h"

#define HTTP_MAX_LEADING_BLANK	1024

/* RFC 9110 tchar */
static int
is_tchar(unsigned char c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Next line of [p, end): its length without CR/LF, or -1 if incomplete. */
static long
line_len(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	long n;

	if (nl == NULL)
		return -1;
	*next = nl + 1;
	n = (long)(nl - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

static int
fail(struct http_msg *m, int status)
{
	m->error_status = status;
	return -1;
}

static int
parse_version(const char *p, size_t n, struct http_msg *m)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' ||
	    !isdigit((unsigned char)p[5]) || !isdigit((unsigned char)p[7]))
		return fail(m, 400);
	if (p[5] != '1')
		return fail(m, 505);
	m->minor_version = p[7] - '0';
	return 0;
}

static int
parse_request_line(const char *p, size_t n, struct http_msg *m)
{
	const char *end = p + n, *sp1, *sp2, *q;

	for (sp1 = p; sp1 < end && is_tchar((unsigned char)*sp1); sp1++)
		;
	if (sp1 == p || sp1 >= end || *sp1 != ' ' ||
	    sp1 - p > HTTP_MAX_METHOD)
		return fail(m, 400);
	sp2 = sp1 + 1;
	for (q = sp2; q < end && *q != ' '; q++)
		if ((unsigned char)*q <= 0x20 || *q == 0x7f)
			return fail(m, 400);
	if (q == sp2 || q >= end)
		return fail(m, 400);
	m->method = p;
	m->method_len = (size_t)(sp1 - p);
	m->target = sp2;
	m->target_len = (size_t)(q - sp2);
	return parse_version(q + 1, (size_t)(end - q - 1), m);
}

static int
parse_status_line(const char *p, size_t n, struct http_msg *m)
{
	const char *end = p + n;

	if (n < 12 || parse_version(p, 8, m) == -1 || p[8] != ' ' ||
	    !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
	    !isdigit((unsigned char)p[11]))
		return fail(m, 400);
	m->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (n > 12 && p[12] != ' ')
		return fail(m, 400);
	m->reason = n > 12 ? p + 13 : end;
	m->reason_len = (size_t)(end - m->reason);
	return 0;
}

static int
parse_header_line(const char *p, size_t n, struct http_msg *m)
{
	const char *end = p + n, *colon, *v;
	struct http_header *h;

	if (*p == ' ' || *p == '\t')
		return fail(m, 400);	/* obsolete line folding */
	for (colon = p; colon < end && is_tchar((unsigned char)*colon);
	    colon++)
		;
	if (colon == p || colon >= end || *colon != ':')
		return fail(m, 400);
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (const char *c = v; c < end; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
			return fail(m, 400);
	if (m->nheaders >= HTTP_MAX_HEADERS)
		return fail(m, 431);
	h = &m->headers[m->nheaders++];
	h->name = p;
	h->name_len = (size_t)(colon - p);
	h->value = v;
	h->value_len = (size_t)(end - v);
	return 0;
}

/*
 * Parse a request or response head in buf.  Returns the bytes consumed
 * by the head, -2 when more bytes are needed, -1 when it is invalid
 * (m->error_status says how to answer: 400, 414, 431 or 505).
 * Bare LF line ends and blank lines before the start line are accepted.
 */
static int
parse_head(const char *buf, size_t len, struct http_msg *m, int request)
{
	const char *p = buf, *end = buf + len, *next, *start;
	long n;

	memset(m, 0, sizeof(*m));
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	if (p - buf > HTTP_MAX_LEADING_BLANK)
		return fail(m, 400);
	start = p;
	if ((n = line_len(p, end, &next)) < 0) {
		if ((size_t)(end - p) > HTTP_MAX_REQUEST_LINE)
			return fail(m, request ? 414 : 400);
		return -2;
	}
	if (n > HTTP_MAX_REQUEST_LINE)
		return fail(m, request ? 414 : 400);
	if (n == 0)
		return fail(m, 400);
	if ((request ? parse_request_line(p, (size_t)n, m) :
	    parse_status_line(p, (size_t)n, m)) == -1)
		return -1;
	p = next;
	start = p;
	for (;;) {
		if ((n = line_len(p, end, &next)) < 0) {
			if ((size_t)(end - start) > HTTP_MAX_HEADER_BYTES)
				return fail(m, 431);
			return -2;
		}
		if ((size_t)(next - start) > HTTP_MAX_HEADER_BYTES)
			return fail(m, 431);
		if (n == 0)
			return (int)(next - buf);
		if (parse_header_line(p, (size_t)n, m) == -1)
			return -1;
		p = next;
	}
}

int
http_parse_request(const char *buf, size_t len, struct http_msg *m)
{
	return parse_head(buf, len, m, 1);
}

int
http_parse_response(const char *buf, size_t len, struct http_msg *m)
{
	return parse_head(buf, len, m, 0);
}

const char *
http_header(const struct http_msg *m, const char *name, size_t *len)
{
	size_t n = strlen(name);
	int i;

	for (i = 0; i < m->nheaders; i++)
		if (m->headers[i].name_len == n &&
		    strncasecmp(m->headers[i].name, name, n) == 0) {
			if (len)
				*len = m->headers[i].value_len;
			return m->headers[i].value;
		}
	return NULL;
}

/* Copy a header's value; -1 if absent or too long. */
int
http_header_copy(const struct http_msg *m, const char *name, char *out,
    size_t outsz)
{
	size_t n;
	const char *v = http_header(m, name, &n);

	if (v == NULL || n >= outsz)
		return -1;
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

/* Does a comma-separated header (Connection, Upgrade) list token? */
int
http_header_has_token(const struct http_msg *m, const char *name,
    const char *token)
{
	size_t tl = strlen(token), n, k;
	const char *v, *p, *e, *comma;
	int i;

	for (i = 0; i < m->nheaders; i++) {
		if (m->headers[i].name_len != strlen(name) ||
		    strncasecmp(m->headers[i].name, name, strlen(name)) != 0)
			continue;
		v = m->headers[i].value;
		n = m->headers[i].value_len;
		for (p = v; p < v + n; p = comma + 1) {
			comma = memchr(p, ',', (size_t)(v + n - p));
			if (comma == NULL)
				comma = v + n;
			while (p < comma && (*p == ' ' || *p == '\t'))
				p++;
			for (e = comma; e > p && (e[-1] == ' ' || e[-1] == '\t');)
				e--;
			k = (size_t)(e - p);
			if (k == tl && strncasecmp(p, token, tl) == 0)
				return 1;
		}
	}
	return 0;
}

/* Does the connection stay open after this message (RFC 9112 9.3)? */
int
http_keeps_alive(const struct http_msg *m)
{
	if (http_header_has_token(m, "Connection", "close"))
		return 0;
	return m->minor_version >= 1 ||
	    http_header_has_token(m, "Connection", "keep-alive");
}

/* Content-Length, -1 when absent, -2 when malformed or too large. */
long long
http_content_length(const struct http_msg *m)
{
	char v[24];
	long long n;
	const char *why;

	if (http_header(m, "Content-Length", NULL) == NULL)
		return -1;
	if (http_header_copy(m, "Content-Length", v, sizeof(v)) == -1 ||
	    num_parse(v, 0, 1LL << 40, &n, &why) == -1)
		return -2;
	return n;
}

/*
 * Decode %XX (and '+' as space when asked).  A '%' not followed by two
 * hex digits is kept as it is.  -1 if out is too small or a NUL results.
 */
int
http_url_decode(const char *in, size_t len, char *out, size_t outsz,
    int plus_is_space)
{
	size_t i, o = 0;
	int hi, lo;
	char c;

	for (i = 0; i < len; i++) {
		c = in[i];
		if (c == '%' && i + 2 < len &&
		    (hi = hex_digit((unsigned char)in[i + 1])) >= 0 &&
		    (lo = hex_digit((unsigned char)in[i + 2])) >= 0) {
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_is_space)
			c = ' ';
		if (c == '\0' || o + 1 >= outsz)
			return -1;
		out[o++] = c;
	}
	if (outsz == 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}

int
http_url_encode(const char *in, char *out, size_t outsz)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	unsigned char c;

	for (; *in; in++) {
		c = (unsigned char)*in;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= outsz)
				return -1;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (outsz == 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}

/* The path of the target, percent-decoded. */
int
http_path(const struct http_msg *m, char *out, size_t outsz)
{
	const char *q = memchr(m->target, '?', m->target_len);
	size_t n = q ? (size_t)(q - m->target) : m->target_len;

	return http_url_decode(m->target, n, out, outsz, 0) < 0 ? -1 : 0;
}

const char *
http_query(const struct http_msg *m, size_t *len)
{
	const char *q = memchr(m->target, '?', m->target_len);

	if (q == NULL) {
		*len = 0;
		return m->target + m->target_len;
	}
	*len = m->target_len - (size_t)(q + 1 - m->target);
	return q + 1;
}

/*
 * Next key=value of a query string.  Returns 1 with key and val decoded,
 * 0 at the end, -1 when a part is too long or decodes to a NUL.
 */
int
http_query_next(const char **cursor, const char *end, char *key,
    size_t keysz, char *val, size_t valsz)
{
	const char *p = *cursor, *amp, *eq;

	while (p < end && *p == '&')
		p++;
	if (p >= end) {
		*cursor = end;
		return 0;
	}
	amp = memchr(p, '&', (size_t)(end - p));
	if (amp == NULL)
		amp = end;
	eq = memchr(p, '=', (size_t)(amp - p));
	*cursor = amp;
	if (http_url_decode(p, (size_t)((eq ? eq : amp) - p), key, keysz, 1)
	    < 0)
		return -1;
	if (eq == NULL) {
		if (valsz == 0)
			return -1;
		val[0] = '\0';
		return 1;
	}
	if (http_url_decode(eq + 1, (size_t)(amp - eq - 1), val, valsz, 1) < 0)
		return -1;
	return 1;
}

/* First value of key: 1 found, 0 absent, -1 malformed. */
int
http_query_get(const char *q, size_t qlen, const char *key, char *val,
    size_t valsz)
{
	const char *cur = q, *end = q + qlen;
	char k[256];
	int rc;

	while ((rc = http_query_next(&cur, end, k, sizeof(k), val, valsz)) == 1)
		if (strcmp(k, key) == 0)
			return 1;
	if (rc == 0 && valsz > 0)
		val[0] = '\0';
	return rc;
}

/* "Basic base64(user:pass)" into user and pass; -1 if anything is off. */
int
http_basic_auth(const char *value, size_t len, char *user, size_t usersz,
    char *pass, size_t passsz)
{
	unsigned char dec[PASS_MAX + 512];
	size_t n, ul;
	const unsigned char *colon;
	int rc = -1;

	if (len < 6 || strncasecmp(value, "Basic ", 6) != 0)
		return -1;
	value += 6;
	len -= 6;
	while (len > 0 && *value == ' ') {
		value++;
		len--;
	}
	if (base64_decode(value, len, dec, sizeof(dec), &n) == -1)
		goto out;
	if ((colon = memchr(dec, ':', n)) == NULL || colon == dec ||
	    memchr(dec, '\0', n) != NULL)
		goto out;
	ul = (size_t)(colon - dec);
	if (ul >= usersz || n - ul - 1 >= passsz)
		goto out;
	memcpy(user, dec, ul);
	user[ul] = '\0';
	memcpy(pass, colon + 1, n - ul - 1);
	pass[n - ul - 1] = '\0';
	rc = 0;
out:
	wipe(dec, sizeof(dec));
	return rc;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 102: return "Processing";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/*
 * A response head.  extra_headers is zero or more "Name: value\r\n"
 * lines; ctype NULL and clen < 0 leave those headers out.
 */
int
http_format_head(char *out, size_t outsz, int status,
    const char *extra_headers, const char *ctype, long long clen)
{
	char ct[160] = "", cl[48] = "";

	if (ctype != NULL &&
	    str_fmt(ct, sizeof(ct), "Content-Type: %s\r\n", ctype) == -1)
		return -1;
	if (clen >= 0 &&
	    str_fmt(cl, sizeof(cl), "Content-Length: %lld\r\n", clen) == -1)
		return -1;
	return str_fmt(out, outsz, "HTTP/1.1 %d %s\r\n%s%s%s\r\n", status,
	    http_reason(status), extra_headers ? extra_headers : "", ct, cl);
}
