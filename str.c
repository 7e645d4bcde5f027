/* SPDX-License-Identifier: GPL-3.0-or-later */
/* str.c -- bounded string copies, checked number parsing, wildcards. */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qvd.h"

/* Copy src into dst; -1 (with dst truncated but terminated) if it did not fit. */
int
str_copy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size == 0)
		return -1;
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int
str_vfmt(char *dst, size_t size, const char *fmt, va_list ap)
{
	int n;

	n = vsnprintf(dst, size, fmt, ap);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return n;
}

int
str_fmt(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = str_vfmt(dst, size, fmt, ap);
	va_end(ap);
	return n;
}

char *
str_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

int
str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int
str_eq_nocase(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

void
str_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/*
 * A value echoed in a message: at most STR_CLIP_MAX characters, control
 * characters shown as '?', "..." when cut.  The result lives in one of
 * four static buffers, so a message may echo four values (not for
 * threads).
 */
const char *
str_clip(const char *s)
{
	static char ring[4][STR_CLIP_MAX + 4];
	static int next;
	char *out = ring[next++ % 4];
	size_t i;

	for (i = 0; s[i] != '\0' && i < STR_CLIP_MAX; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' :
		    s[i];
	out[i] = '\0';
	if (s[i] != '\0')
		memcpy(out + STR_CLIP_MAX - 3, "...", 4);
	return out;
}

/* Parse a decimal integer in [min, max]; errstr names the problem. */
int
num_parse(const char *s, long long min, long long max, long long *out,
    const char **errstr)
{
	char *end;
	long long v;

	*errstr = NULL;
	if (s == NULL || *s == '\0' || isspace((unsigned char)*s)) {
		*errstr = "not a number";
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0') {
		*errstr = "not a number";
		return -1;
	}
	if (errno == ERANGE) {
		*errstr = v < 0 ? "too small" : "too large";
		return -1;
	}
	if (v < min) {
		*errstr = "too small";
		return -1;
	}
	if (v > max) {
		*errstr = "too large";
		return -1;
	}
	*out = v;
	return 0;
}

/* 1/0, yes/no, true/false, on/off (any case). */
int
bool_parse(const char *s, int *out)
{
	static const char *yes[] = { "1", "yes", "true", "on", "y" };
	static const char *no[] = { "0", "no", "false", "off", "n", "" };
	size_t i;

	for (i = 0; i < ARRAY_LEN(yes); i++)
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
	for (i = 0; i < ARRAY_LEN(no); i++)
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	return -1;
}

/* A byte count with an optional K, M, G or T suffix (powers of 1024). */
int
size_parse(const char *s, unsigned long long *out)
{
	char *end;
	unsigned long long v, mult = 1;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1ULL << 10;
		end++;
		break;
	case 'm': case 'M':
		mult = 1ULL << 20;
		end++;
		break;
	case 'g': case 'G':
		mult = 1ULL << 30;
		end++;
		break;
	case 't': case 'T':
		mult = 1ULL << 40;
		end++;
		break;
	default:
		return -1;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0')
		return -1;
	if (v > ULLONG_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

/* Shell-like match of '*' and '?' (no character classes). */
int
str_wildcard_match(const char *p, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*p == '?' || *p == *s) {
			p++;
			s++;
		} else if (*p == '*') {
			star = p++;
			resume = s;
		} else if (star != NULL) {
			p = star + 1;
			s = ++resume;
		} else
			return 0;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* Overwrite a secret so the compiler cannot drop the stores. */
void
wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

/* The value of one hex digit, or -1. */
int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* n bytes as lowercase hex, NUL-ended; -1 (out empty) when out is short. */
int
str_hex(const void *in, size_t n, char *out, size_t outsz)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = in;
	size_t i;

	if (outsz == 0)
		return -1;
	out[0] = '\0';
	if (n > (outsz - 1) / 2)
		return -1;
	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
	return 0;
}
