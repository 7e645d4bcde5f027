/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tap.c -- TAP output and small helpers shared by the unit tests. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static int ntests, nfailed;

void
tap_ok(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	ntests++;
	printf("%sok %d - ", ok ? "" : "not ", ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok) {
		nfailed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
}

void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

int
tap_done(void)
{
	printf("1..%d\n", ntests);
	return nfailed ? 1 : 0;
}

/* An exact-size heap copy, so that ASan catches any read past the end. */
char *
tap_copy(const void *p, size_t n)
{
	char *c = malloc(n ? n : 1);

	if (c == NULL)
		abort();
	memcpy(c, p, n);
	return c;
}

char *
tap_read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		fclose(fp);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}
