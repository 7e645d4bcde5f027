/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pass.c -- salted, iterated password hashes and upstream's legacy form. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "qvd.h"

#define PBKDF2_TAG	"$pbkdf2-sha256$"
#define SALT_LEN	16
#define HASH_LEN	32
#define ITER_MAX	10000000

/* "$pbkdf2-sha256$<iterations>$<salt>$<hash>", base64 without padding. */
int
pass_hash(const char *password, char *out, size_t outsz)
{
	unsigned char salt[SALT_LEN], hash[HASH_LEN];
	char s64[32], h64[64];
	int rc = -1;

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return -1;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt,
	    sizeof(salt), PASS_ITERATIONS, EVP_sha256(), sizeof(hash),
	    hash) != 1)
		goto out;
	if (base64_encode(salt, sizeof(salt), s64, sizeof(s64), 0) == 0 ||
	    base64_encode(hash, sizeof(hash), h64, sizeof(h64), 0) == 0)
		goto out;
	if (str_fmt(out, outsz, PBKDF2_TAG "%d$%s$%s", PASS_ITERATIONS, s64,
	    h64) == -1)
		goto out;
	rc = 0;
out:
	wipe(hash, sizeof(hash));
	return rc;
}

/* Upstream's token: base64(sha256(salt . password)) without padding. */
int
pass_legacy(const char *password, const char *salt, char *out, size_t outsz)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned n = 0;
	int ok;

	if (ctx == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, salt, strlen(salt)) == 1 &&
	    EVP_DigestUpdate(ctx, password, strlen(password)) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &n) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok || base64_encode(md, n, out, outsz, 0) == 0)
		return -1;
	return 0;
}

static int
verify_pbkdf2(const char *password, const char *stored)
{
	unsigned char salt[64], want[HASH_LEN], got[HASH_LEN];
	char iterbuf[16];
	const char *p = stored + strlen(PBKDF2_TAG), *d1, *d2, *why;
	size_t saltlen, wantlen;
	long long iter;
	int ok = 0;

	if ((d1 = strchr(p, '$')) == NULL || (d2 = strchr(d1 + 1, '$')) == NULL
	    || (size_t)(d1 - p) >= sizeof(iterbuf))
		return 0;
	memcpy(iterbuf, p, (size_t)(d1 - p));
	iterbuf[d1 - p] = '\0';
	if (num_parse(iterbuf, 1, ITER_MAX, &iter, &why) == -1 ||
	    base64_decode(d1 + 1, (size_t)(d2 - d1 - 1), salt, sizeof(salt),
	    &saltlen) == -1 ||
	    base64_decode(d2 + 1, strlen(d2 + 1), want, sizeof(want),
	    &wantlen) == -1 || wantlen != HASH_LEN)
		return 0;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt,
	    (int)saltlen, (int)iter, EVP_sha256(), HASH_LEN, got) == 1)
		ok = CRYPTO_memcmp(got, want, HASH_LEN) == 0;
	wipe(got, sizeof(got));
	return ok;
}

/* 1 when password matches the stored hash (either form), else 0. */
int
pass_verify(const char *password, const char *stored, const char *legacy_salt)
{
	char token[64];
	int ok;

	if (password == NULL || *password == '\0' || stored == NULL ||
	    *stored == '\0' || strlen(password) > PASS_MAX)
		return 0;
	if (str_has_prefix(stored, PBKDF2_TAG))
		return verify_pbkdf2(password, stored);
	if (legacy_salt == NULL ||
	    pass_legacy(password, legacy_salt, token, sizeof(token)) == -1)
		return 0;
	ok = strlen(stored) == strlen(token) &&
	    CRYPTO_memcmp(stored, token, strlen(token)) == 0;
	wipe(token, sizeof(token));
	return ok;
}

/* len random characters of alphabet (without modulo bias), NUL-ended. */
int
pass_random(char *out, size_t len, const char *alphabet)
{
	size_t n = strlen(alphabet), i = 0;
	unsigned char b[64];
	size_t k, limit = 256 - 256 % n;

	if (n == 0 || n > 256)
		return -1;
	while (i < len) {
		if (RAND_bytes(b, sizeof(b)) != 1)
			return -1;
		for (k = 0; k < sizeof(b) && i < len; k++)
			if (b[k] < limit)
				out[i++] = alphabet[b[k] % n];
	}
	out[len] = '\0';
	return 0;
}
