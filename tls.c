/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tls.c -- OpenSSL server and client contexts, keys and certificates. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "qvd.h"

static char last_error[256];

static void
set_error(char *err, size_t errsz, const char *what)
{
	unsigned long e = ERR_get_error();
	char detail[200] = "";

	if (e != 0)
		ERR_error_string_n(e, detail, sizeof(detail));
	ERR_clear_error();
	if (*detail)
		str_fmt(last_error, sizeof(last_error), "%s: %s", what, detail);
	else
		str_copy(last_error, what, sizeof(last_error));
	if (err != NULL)
		str_copy(err, last_error, errsz);
}

const char *
tls_error(void)
{
	return last_error;
}

static X509 *
cert_from_pem(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x;

	if (bio == NULL)
		return NULL;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return x;
}

static EVP_PKEY *
key_from_pem(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k;

	if (bio == NULL)
		return NULL;
	k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return k;
}

/* Certificate, chain and key from PEM text held in memory. */
static int
use_pem(SSL_CTX *ctx, const char *cert_pem, const char *key_pem)
{
	BIO *bio;
	X509 *x, *extra;
	EVP_PKEY *key;
	int ok;

	if ((bio = BIO_new_mem_buf(cert_pem, -1)) == NULL)
		return -1;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	ok = x != NULL && SSL_CTX_use_certificate(ctx, x) == 1;
	X509_free(x);
	while (ok && (extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
		if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
			X509_free(extra);
			ok = 0;
		}
	ERR_clear_error();	/* the end of the chain is not an error */
	BIO_free(bio);
	if (!ok)
		return -1;
	if ((key = key_from_pem(key_pem)) == NULL)
		return -1;
	ok = SSL_CTX_use_PrivateKey(ctx, key) == 1;
	EVP_PKEY_free(key);
	return ok ? 0 : -1;
}

static int
add_ca_pem(SSL_CTX *ctx, const char *ca_pem)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	BIO *bio = BIO_new_mem_buf(ca_pem, -1);
	X509 *x;
	int n = 0;

	if (bio == NULL)
		return -1;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		X509_STORE_add_cert(store, x);
		X509_free(x);
		n++;
	}
	ERR_clear_error();
	BIO_free(bio);
	return n > 0 ? 0 : -1;
}

static SSL_CTX *
new_ctx(const SSL_METHOD *method, const struct tls_files *f, char *err,
    size_t errsz)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (ctx == NULL) {
		set_error(err, errsz, "cannot create TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (f->ciphers != NULL && *f->ciphers != '\0' &&
	    SSL_CTX_set_cipher_list(ctx, f->ciphers) != 1) {
		set_error(err, errsz, "bad cipher list");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int
load_identity(SSL_CTX *ctx, const struct tls_files *f, char *err,
    size_t errsz)
{
	if (f->cert_pem != NULL) {
		if (use_pem(ctx, f->cert_pem, f->key_pem) == -1) {
			set_error(err, errsz, "cannot load certificate or key");
			return -1;
		}
	} else if (f->cert_file != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx, f->cert_file) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, f->key_file ? f->key_file :
		    f->cert_file, SSL_FILETYPE_PEM) != 1) {
			set_error(err, errsz, "cannot load certificate or key");
			return -1;
		}
	} else
		return 0;
	if (SSL_CTX_check_private_key(ctx) != 1) {
		set_error(err, errsz, "the key does not match the certificate");
		return -1;
	}
	return 0;
}

static int
load_cas(SSL_CTX *ctx, const struct tls_files *f, char *err, size_t errsz)
{
	if (f->ca_pem != NULL && add_ca_pem(ctx, f->ca_pem) == -1) {
		set_error(err, errsz, "cannot load CA certificates");
		return -1;
	}
	if ((f->ca_file != NULL || f->ca_dir != NULL) &&
	    SSL_CTX_load_verify_locations(ctx, f->ca_file, f->ca_dir) != 1) {
		set_error(err, errsz, "cannot load CA certificates");
		return -1;
	}
	return 0;
}

SSL_CTX *
tls_server_ctx(const struct tls_files *f, char *err, size_t errsz)
{
	SSL_CTX *ctx = new_ctx(TLS_server_method(), f, err, errsz);
	int mode = SSL_VERIFY_NONE;

	if (ctx == NULL)
		return NULL;
	if (load_identity(ctx, f, err, errsz) == -1 ||
	    load_cas(ctx, f, err, errsz) == -1)
		goto fail;
	if (f->verify_peer) {
		mode = SSL_VERIFY_PEER;
		if (f->require_peer_cert)
			mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	}
	SSL_CTX_set_verify(ctx, mode, NULL);
	/*
	 * Servers fork per connection: a session cache in one process helps
	 * nobody.  Stateless tickets, sealed with this context's key, resume
	 * in any process forked after it; one ticket is enough.
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 1);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_client_ctx(const struct tls_files *f, char *err, size_t errsz)
{
	SSL_CTX *ctx = new_ctx(TLS_client_method(), f, err, errsz);

	if (ctx == NULL)
		return NULL;
	if (f->verify_peer) {
		SSL_CTX_set_default_verify_paths(ctx);
		ERR_clear_error();
	}
	if (load_identity(ctx, f, err, errsz) == -1 ||
	    load_cas(ctx, f, err, errsz) == -1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, f->verify_peer ? SSL_VERIFY_PEER :
	    SSL_VERIFY_NONE, NULL);
	return ctx;
}

int
tls_key_matches_cert(const char *key_pem, const char *cert_pem, char *err,
    size_t errsz)
{
	X509 *x = cert_from_pem(cert_pem);
	EVP_PKEY *k = key_from_pem(key_pem);
	int rc = -1;

	if (x == NULL)
		set_error(err, errsz, "not a PEM certificate");
	else if (k == NULL)
		set_error(err, errsz, "not a PEM private key");
	else if (X509_check_private_key(x, k) != 1)
		set_error(err, errsz, "the key does not match the certificate");
	else
		rc = 0;
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

static char *
pem_of(int (*write)(BIO *, void *), void *obj)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (bio == NULL)
		return NULL;
	if (write(bio, obj) == 1 && (n = BIO_get_mem_data(bio, &data)) > 0)
		out = xstrndup(data, (size_t)n);
	BIO_free(bio);
	return out;
}

static int
write_key(BIO *b, void *k)
{
	return PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
}

static int
write_cert(BIO *b, void *x)
{
	return PEM_write_bio_X509(b, x);
}

/*
 * A key (RSA 3072, or P-256 with ec) and a ten-year self-signed
 * certificate for cn, its subjectAltName san ("IP:10.0.0.1,DNS:node1").
 * Upstream's Perl client calls any key of 1024 bits or less weak, which
 * a P-256 key is by its count: RSA by default.
 */
int
tls_make_self_signed(const char *cn, const char *san, int ec,
    char **key_pem, char **cert_pem, char *err, size_t errsz)
{
	EVP_PKEY *key = ec ? EVP_EC_gen("P-256") : EVP_RSA_gen(3072);
	X509 *x = X509_new();
	X509_NAME *name;
	X509_EXTENSION *ext = NULL;
	X509V3_CTX v3;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int rc = -1;

	*key_pem = *cert_pem = NULL;
	if (key == NULL || x == NULL || RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	    (const unsigned char *)"QVD", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
	    san)) == NULL || X509_add_ext(x, ext, -1) != 1)
		goto out;
	if (X509_sign(x, key, EVP_sha256()) == 0)
		goto out;
	*key_pem = pem_of(write_key, key);
	*cert_pem = pem_of(write_cert, x);
	if (*key_pem != NULL && *cert_pem != NULL)
		rc = 0;
out:
	if (rc == -1) {
		set_error(err, errsz, "cannot make a self-signed certificate");
		free(*key_pem);
		free(*cert_pem);
		*key_pem = *cert_pem = NULL;
	}
	X509_EXTENSION_free(ext);
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

int
tls_cert_fingerprint(SSL *ssl, char *out, size_t outsz)
{
	X509 *x = SSL_get1_peer_certificate(ssl);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n, i;
	size_t o = 0;

	if (x == NULL || X509_digest(x, EVP_sha256(), md, &n) != 1) {
		X509_free(x);
		return -1;
	}
	X509_free(x);
	for (i = 0; i < n; i++) {
		if (o + 4 > outsz)
			return -1;
		snprintf(out + o, outsz - o, "%s%02X", i ? ":" : "", md[i]);
		o += i ? 3 : 2;
	}
	return 0;
}

static void
asn1_time(const ASN1_TIME *t, char *out, size_t outsz)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;

	out[0] = '\0';
	if (bio == NULL)
		return;
	if (ASN1_TIME_print(bio, t) == 1 && (n = BIO_get_mem_data(bio, &data)) > 0
	    && (size_t)n < outsz) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(bio);
}

/* Subject, issuer, validity and SHA-256 fingerprint, one per line. */
int
tls_cert_describe(SSL *ssl, char *out, size_t outsz)
{
	X509 *x = SSL_get1_peer_certificate(ssl);
	char subj[256], iss[256], nb[64], na[64], fp[128];
	int rc;

	if (x == NULL)
		return -1;
	X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
	X509_NAME_oneline(X509_get_issuer_name(x), iss, sizeof(iss));
	asn1_time(X509_get0_notBefore(x), nb, sizeof(nb));
	asn1_time(X509_get0_notAfter(x), na, sizeof(na));
	X509_free(x);
	if (tls_cert_fingerprint(ssl, fp, sizeof(fp)) == -1)
		str_copy(fp, "?", sizeof(fp));
	rc = str_fmt(out, outsz, "  subject:     %s\n  issuer:      %s\n"
	    "  valid from:  %s\n  valid until: %s\n  SHA-256:     %s\n",
	    subj, iss, nb, na, fp);
	return rc < 0 ? -1 : 0;
}
