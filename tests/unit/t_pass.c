/* SPDX-License-Identifier: GPL-3.0-or-later */
/* t_pass.c -- password hashes: ours, upstream's legacy, random strings. */

#include <stdio.h>
#include <string.h>

#include "qvd.h"
#include "tap.h"

int
main(void)
{
	char h[PASS_HASH_MAX], h2[PASS_HASH_MAX], tok[64], r[65];

	ok(pass_legacy("foo", "qvd1234", tok, sizeof(tok)) == 0 &&
	    strcmp(tok, "idM2Xp/pmWWFBoD8dKC4wjFOoCu0ud1o2O4OmIIsKug") == 0,
	    "legacy token matches upstream's example");
	ok(pass_verify("foo", tok, "qvd1234"), "legacy hash verifies");
	ok(!pass_verify("bar", tok, "qvd1234"), "legacy wrong password");
	ok(!pass_verify("foo", tok, "other"), "legacy wrong salt");
	ok(pass_hash("s3cr3t", h, sizeof(h)) == 0 &&
	    strncmp(h, "$pbkdf2-sha256$", 15) == 0, "pbkdf2 hash: %s", h);
	ok(pass_verify("s3cr3t", h, "qvd1234"), "pbkdf2 verifies");
	ok(!pass_verify("s3cr3T", h, "qvd1234"), "pbkdf2 wrong password");
	ok(pass_hash("s3cr3t", h2, sizeof(h2)) == 0 && strcmp(h, h2) != 0,
	    "salted: two hashes of one password differ");
	h[strlen(h) - 2] ^= 1;
	ok(!pass_verify("s3cr3t", h, "qvd1234"), "tampered hash fails");
	ok(!pass_verify("", tok, "qvd1234"), "empty password refused");
	ok(!pass_verify("x", NULL, "qvd1234"), "no stored hash refused");
	ok(!pass_verify("x", "$pbkdf2-sha256$0$$", NULL), "garbage refused");
	ok(pass_hash("x", h, 20) == -1, "small buffer reported");
	ok(pass_random(r, 64, "ab") == 0 && strlen(r) == 64 &&
	    strspn(r, "ab") == 64, "random string from alphabet");
	return tap_done();
}
