/* SPDX-License-Identifier: GPL-3.0-or-later */
/* t_tls.c -- TLS contexts both ends, verification, conn over TLS. */

#include <sys/socket.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include "qvd.h"
#include "tap.h"

static char *key_pem, *cert_pem;

/* Child: accept TLS on fd, answer one HTTP request, exit. */
static void
serve(int fd, SSL_CTX *sctx)
{
	struct conn c;
	struct http_msg m;
	int n;

	conn_init(&c, fd, 5000);
	if (conn_tls_accept(&c, sctx) == -1)
		_exit(1);
	if ((n = conn_read_msg(&c, &m, 1)) <= 0)
		_exit(2);
	conn_consume(&c, (size_t)n);
	conn_printf(&c, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"
	    "I am alive!");
	conn_close(&c);
	_exit(0);
}

/* Handshake against a forked server; 0 when it works. */
static int
try_client(SSL_CTX *cctx, const char *host, int verify_host, char *body,
    size_t bodysz, char *err, size_t errsz)
{
	struct tls_files sf = { 0 };
	SSL_CTX *sctx;
	struct conn c;
	struct http_msg m;
	int sv[2], rc = -1, n, st;
	pid_t pid;

	sf.cert_pem = cert_pem;
	sf.key_pem = key_pem;
	if ((sctx = tls_server_ctx(&sf, err, errsz)) == NULL)
		return -1;
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		serve(sv[1], sctx);
	}
	close(sv[1]);
	SSL_CTX_free(sctx);
	conn_init(&c, sv[0], 5000);
	if (conn_tls_connect(&c, cctx, host, verify_host) == -1) {
		str_copy(err, c.err, errsz);
		goto out;
	}
	conn_printf(&c, "GET /qvd/ping HTTP/1.1\r\n\r\n");
	if ((n = conn_read_msg(&c, &m, 0)) <= 0 || m.status != 200)
		goto out;
	conn_consume(&c, (size_t)n);
	n = conn_read(&c, body, bodysz - 1);
	body[n > 0 ? n : 0] = '\0';
	rc = 0;
out:
	conn_close(&c);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	return rc;
}

/* The certificate's key is of this type and size. */
static int
key_is(const char *pem, int type, int bits)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	EVP_PKEY *k = x ? X509_get0_pubkey(x) : NULL;
	int rc = k && EVP_PKEY_get_base_id(k) == type &&
	    EVP_PKEY_get_bits(k) == bits;

	X509_free(x);
	BIO_free(b);
	return rc;
}

/* What clients check: an RSA 3072 key, the address as an IP SAN. */
static void
certificate_names(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

	ok(key_is(pem, EVP_PKEY_RSA, 3072), "an RSA 3072 key by default");
	ok(x && X509_check_ip_asc(x, "10.3.15.2", 0) == 1,
	    "the address is an IP SAN");
	ok(x && X509_check_ip_asc(x, "10.3.15.3", 0) == 0,
	    "another address is not");
	ok(x && X509_check_host(x, "node1.example", 0, 0, NULL) == 1,
	    "the name a DNS SAN");
	X509_free(x);
	BIO_free(b);
}

int
main(void)
{
	struct tls_files cf = { 0 };
	SSL_CTX *cctx;
	char err[256], body[64], *key2, *cert2;

	signal(SIGPIPE, SIG_IGN);
	ok(tls_make_self_signed("10.3.15.2", "IP:10.3.15.2,DNS:node1.example",
	    0, &key_pem, &cert_pem, err, sizeof(err)) == 0,
	    "self-signed pair made");
	ok(tls_key_matches_cert(key_pem, cert_pem, err, sizeof(err)) == 0,
	    "key matches its certificate");
	certificate_names(cert_pem);
	tls_make_self_signed("other", "DNS:other", 1, &key2, &cert2, err,
	    sizeof(err));
	ok(key_is(cert2, EVP_PKEY_EC, 256), "with ec: a P-256 key");
	ok(tls_key_matches_cert(key2, cert_pem, err, sizeof(err)) == -1 &&
	    strstr(err, "does not match") != NULL, "mismatch detected: %s", err);
	ok(tls_key_matches_cert("junk", cert_pem, err, sizeof(err)) == -1,
	    "junk key refused");

	cf.verify_peer = 1;
	cf.ca_pem = cert_pem;
	cctx = tls_client_ctx(&cf, err, sizeof(err));
	ok(cctx != NULL, "client context trusting the certificate");
	ok(try_client(cctx, "node1.example", 1, body, sizeof(body), err,
	    sizeof(err)) == 0 && strcmp(body, "I am alive!") == 0,
	    "verified TLS round trip");
	ok(try_client(cctx, "wrong.example", 1, body, sizeof(body), err,
	    sizeof(err)) == -1 && strstr(err, "verification failed") != NULL,
	    "wrong host name refused: %s", err);
	SSL_CTX_free(cctx);

	cf.ca_pem = cert2;
	cctx = tls_client_ctx(&cf, err, sizeof(err));
	ok(try_client(cctx, "node1.example", 1, body, sizeof(body), err,
	    sizeof(err)) == -1, "untrusted certificate refused: %s", err);
	SSL_CTX_free(cctx);

	memset(&cf, 0, sizeof(cf));
	cctx = tls_client_ctx(&cf, err, sizeof(err));
	ok(try_client(cctx, "anything", 0, body, sizeof(body), err,
	    sizeof(err)) == 0, "no verification when not asked (-n)");
	SSL_CTX_set_min_proto_version(cctx, TLS1_VERSION);
	SSL_CTX_set_max_proto_version(cctx, TLS1_1_VERSION);
	ok(try_client(cctx, "anything", 0, body, sizeof(body), err,
	    sizeof(err)) == -1, "TLS 1.1 refused by the server");
	SSL_CTX_free(cctx);
	free(key_pem);
	free(cert_pem);
	free(key2);
	free(cert2);
	return tap_done();
}
