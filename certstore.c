/* SPDX-License-Identifier: GPL-3.0-or-later */
/* certstore.c -- which L7R certificates the client trusts: the system's
 * CAs, the PEM files in ~/.qvd/certs, and certificates the user accepted. */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "qvd.h"

/* Where distributions keep their CA bundle (a static client runs on any). */
static const char *const system_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",	/* Debian, Alpine, Arch */
	"/etc/pki/tls/certs/ca-bundle.crt",	/* Fedora, RHEL */
	"/etc/ssl/ca-bundle.pem",		/* openSUSE */
	"/etc/ssl/cert.pem",			/* others */
};

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Every certificate of one PEM file into the store; how many. */
static int
add_pem_file(X509_STORE *store, const char *path)
{
	FILE *fp = fopen(path, "r");
	X509 *x;
	int n = 0;

	if (fp == NULL)
		return 0;
	while ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(store, x) == 1)
			n++;
		X509_free(x);
	}
	fclose(fp);
	return n;
}

/*
 * Trust anchors for ctx: OpenSSL's default paths, or, where this build's
 * OpenSSL directory does not exist (a static binary on another
 * distribution), the first system bundle found; and every *.pem and *.crt
 * in dir (which may not exist).  The bundle is parsed once: it costs some
 * 30 ms of the client's start.
 */
void
cert_load_trusted(struct ssl_ctx_st *ctx, const char *dir)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	struct dirent *e;
	char path[1024];
	size_t i;
	DIR *d;

	if (access(X509_get_default_cert_file(), R_OK) == 0 ||
	    access(X509_get_default_cert_dir(), X_OK) == 0)
		SSL_CTX_set_default_verify_paths(ctx);
	else
		for (i = 0; i < ARRAY_LEN(system_bundles); i++)
			if (access(system_bundles[i], R_OK) == 0) {
				add_pem_file(store, system_bundles[i]);
				break;
			}
	if (dir != NULL && (d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL)
			if ((has_suffix(e->d_name, ".pem") ||
			    has_suffix(e->d_name, ".crt")) &&
			    str_fmt(path, sizeof(path), "%s/%s", dir,
			    e->d_name) != -1)
				add_pem_file(store, path);
		closedir(d);
	}
	ERR_clear_error();
}

/* The file an accepted certificate is kept in: DIR/FINGERPRINT.pem. */
static int
accepted_path(const char *dir, const char *fp, char *out, size_t outsz)
{
	char hex[EVP_MAX_MD_SIZE * 2 + 1];
	size_t i, o = 0;

	for (i = 0; fp[i] != '\0' && o + 1 < sizeof(hex); i++)
		if (fp[i] != ':')
			hex[o++] = fp[i];
	hex[o] = '\0';
	return str_fmt(out, outsz, "%s/%s.pem", dir, hex);
}

/* Keep the peer's certificate in dir (made if missing), mode 0644. */
static int
store_peer(SSL *ssl, const char *dir, const char *path, char *err,
    size_t errsz)
{
	X509 *x = SSL_get1_peer_certificate(ssl);
	char tmp[1100];
	FILE *fp;
	int ok;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		str_fmt(err, errsz, "cannot make %s: %s", dir, strerror(errno));
		X509_free(x);
		return -1;
	}
	str_fmt(tmp, sizeof(tmp), "%s.tmp", path);
	if (x == NULL || (fp = fopen(tmp, "w")) == NULL) {
		str_fmt(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
		X509_free(x);
		return -1;
	}
	ok = PEM_write_X509(fp, x) == 1;
	ok = fclose(fp) == 0 && ok;
	X509_free(x);
	if (!ok || rename(tmp, path) == -1) {
		str_fmt(err, errsz, "cannot write %s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * Is the server's certificate trusted?  0 when it verified, when the user
 * accepted it before (dir/FINGERPRINT.pem), or when asked now on the
 * terminal (ask) and accepted: then it is stored.  -1 otherwise, with why
 * in err.  The certificate is shown before the question.
 */
int
cert_check(struct ssl_st *ssl, const char *dir, int ask, char *err,
    size_t errsz)
{
	long v = SSL_get_verify_result(ssl);
	char fp[128], path[1024], about[1024];

	if (v == X509_V_OK)
		return 0;
	if (tls_cert_fingerprint(ssl, fp, sizeof(fp)) == -1) {
		str_copy(err, "the server sent no certificate", errsz);
		return -1;
	}
	if (dir != NULL && accepted_path(dir, fp, path, sizeof(path)) != -1 &&
	    access(path, R_OK) == 0)
		return 0;
	str_fmt(err, errsz, "the server's certificate is not trusted (%s)",
	    X509_verify_cert_error_string(v));
	if (!ask || dir == NULL)
		return -1;
	if (tls_cert_describe(ssl, about, sizeof(about)) == -1)
		str_copy(about, "", sizeof(about));
	fprintf(stderr, "qvdclient: %s:\n%s", err, about);
	if (!tty_yes("Accept this certificate and remember it? [y/N] ")) {
		str_copy(err, "the server's certificate was not accepted",
		    errsz);
		return -1;
	}
	if (store_peer(ssl, dir, path, err, errsz) == -1)
		return -1;
	fprintf(stderr, "qvdclient: certificate stored in %s\n", path);
	return 0;
}
