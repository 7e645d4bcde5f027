/* SPDX-License-Identifier: GPL-3.0-or-later */
/* t_str.c -- number, boolean, size, wildcard and base64 helpers. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"
#include "tap.h"

static void
test_numbers(void)
{
	long long v = 0;
	const char *why;

	ok(num_parse("42", 0, 100, &v, &why) == 0 && v == 42, "42 parses");
	ok(num_parse("-5", -10, 10, &v, &why) == 0 && v == -5, "-5 parses");
	ok(num_parse("101", 0, 100, &v, &why) == -1 &&
	    strcmp(why, "too large") == 0, "101 > 100 is too large");
	ok(num_parse("-1", 0, 100, &v, &why) == -1 &&
	    strcmp(why, "too small") == 0, "-1 < 0 is too small");
	ok(num_parse("12a", 0, 100, &v, &why) == -1, "12a is not a number");
	ok(num_parse("", 0, 100, &v, &why) == -1, "empty is not a number");
	ok(num_parse(" 1", 0, 100, &v, &why) == -1, "leading blank refused");
	ok(num_parse("99999999999999999999", 0, 100, &v, &why) == -1 &&
	    strcmp(why, "too large") == 0, "overflow is too large");
}

static void
test_bools_and_sizes(void)
{
	unsigned long long sz = 0;
	int b = -1;

	ok(bool_parse("yes", &b) == 0 && b == 1, "yes is true");
	ok(bool_parse("TRUE", &b) == 0 && b == 1, "TRUE is true");
	ok(bool_parse("0", &b) == 0 && b == 0, "0 is false");
	ok(bool_parse("no", &b) == 0 && b == 0, "no is false");
	ok(bool_parse("maybe", &b) == -1, "maybe is not a boolean");
	ok(size_parse("2048", &sz) == 0 && sz == 2048, "plain size");
	ok(size_parse("2k", &sz) == 0 && sz == 2048, "2k");
	ok(size_parse("3M", &sz) == 0 && sz == 3ULL << 20, "3M");
	ok(size_parse("1G", &sz) == 0 && sz == 1ULL << 30, "1G");
	ok(size_parse("1GB", &sz) == 0 && sz == 1ULL << 30, "1GB");
	ok(size_parse("1X", &sz) == -1, "1X refused");
	ok(size_parse("k", &sz) == -1, "k alone refused");
	ok(size_parse("99999999999999999999G", &sz) == -1, "overflow refused");
}

static void
test_wildcards(void)
{
	ok(str_wildcard_match("sha*", "shamash"), "sha* matches shamash");
	ok(!str_wildcard_match("sha*", "ashamash"), "sha* not ashamash");
	ok(str_wildcard_match("a?c", "abc"), "a?c matches abc");
	ok(str_wildcard_match("*", ""), "* matches empty");
	ok(str_wildcard_match("*x*y", "axbxy"), "*x*y backtracks");
	ok(!str_wildcard_match("a?c", "ac"), "a?c not ac");
}

static void
test_base64(void)
{
	char out[64];
	unsigned char dec[64];
	size_t n, len, i;
	const char *enc = "aGVsbG8gd29ybGQ=";

	ok(base64_encode("hello world", 11, out, sizeof(out), 1) == 16 &&
	    strcmp(out, enc) == 0, "encode with padding");
	ok(base64_encode("hello world", 11, out, sizeof(out), 0) == 15,
	    "encode without padding");
	ok(base64_encode("hello world", 11, out, 10, 1) == 0,
	    "encode reports a small buffer");
	ok(base64_decode(enc, strlen(enc), dec, sizeof(dec), &n) == 0 &&
	    n == 11 && memcmp(dec, "hello world", 11) == 0, "decode");
	ok(base64_decode("aGVsbG8gd29ybGQ", 15, dec, sizeof(dec), &n) == 0 &&
	    n == 11, "decode without padding");
	ok(base64_decode("a$==", 4, dec, sizeof(dec), &n) == -1,
	    "bad character refused");
	ok(base64_decode(enc, strlen(enc), dec, 5, &n) == -1,
	    "decode reports a small buffer");
	len = strlen(enc);
	for (i = 0; i <= len; i++) {
		char *c = tap_copy(enc, i);

		base64_decode(c, i, dec, sizeof(dec), &n);
		free(c);
	}
	ok(1, "every prefix of a base64 string decodes or fails cleanly");
}

static void
test_copy(void)
{
	char small[4];

	ok(str_copy(small, "abc", sizeof(small)) == 0, "fits");
	ok(str_copy(small, "abcd", sizeof(small)) == -1 &&
	    strcmp(small, "abc") == 0, "truncation reported");
	ok(str_fmt(small, sizeof(small), "%d", 12345) == -1,
	    "str_fmt reports truncation");
}

int
main(void)
{
	test_numbers();
	test_bools_and_sizes();
	test_wildcards();
	test_base64();
	test_copy();
	return tap_done();
}
