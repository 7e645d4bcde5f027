/* SPDX-License-Identifier: GPL-3.0-or-later */
/* base64.c -- RFC 4648 base64 encoding and strict decoding. */

#include <string.h>

#include "qvd.h"

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Returns the encoded length, or 0 when out is too small. */
size_t
base64_encode(const void *in, size_t len, char *out, size_t outsz, int pad)
{
	const unsigned char *p = in;
	size_t o = 0, i;
	unsigned v;

	for (i = 0; i + 2 < len; i += 3) {
		if (o + 4 >= outsz)
			return 0;
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		out[o++] = b64chars[v >> 6 & 63];
		out[o++] = b64chars[v & 63];
	}
	if (i < len) {
		if (o + 4 >= outsz)
			return 0;
		v = (unsigned)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		if (i + 1 < len)
			out[o++] = b64chars[v >> 6 & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	if (o >= outsz)
		return 0;
	out[o] = '\0';
	return o;
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Padding is optional; anything else outside the alphabet is an error. */
int
base64_decode(const char *in, size_t len, void *out, size_t outsz,
    size_t *outlen)
{
	unsigned char *o = out;
	size_t n = 0, i, k = 0;
	unsigned v = 0;
	int d;

	while (len > 0 && in[len - 1] == '=')
		len--;
	for (i = 0; i < len; i++) {
		if ((d = b64val((unsigned char)in[i])) < 0)
			return -1;
		v = v << 6 | (unsigned)d;
		if (++k == 4) {
			if (n + 3 > outsz)
				return -1;
			o[n++] = (unsigned char)(v >> 16);
			o[n++] = (unsigned char)(v >> 8);
			o[n++] = (unsigned char)v;
			v = 0;
			k = 0;
		}
	}
	if (k == 1)
		return -1;
	if (k == 2) {
		if (n + 1 > outsz)
			return -1;
		o[n++] = (unsigned char)(v >> 4);
	} else if (k == 3) {
		if (n + 2 > outsz)
			return -1;
		o[n++] = (unsigned char)(v >> 10);
		o[n++] = (unsigned char)(v >> 2);
	}
	*outlen = n;
	return 0;
}
