/* SPDX-License-Identifier: GPL-3.0-or-later */
/* t_relay.c -- the NX tunnel's relay moves 100 MB each way intact, between
 * a TLS connection and a plain socket, both directions at once. */

#include <sys/socket.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "qvd.h"
#include "tap.h"

#define TOTAL	(100ULL * 1024 * 1024)

/* A deterministic stream: seed picks it; digest of what was sent. */
static void
fill(unsigned char *b, size_t n, unsigned long long *x)
{
	size_t i;

	for (i = 0; i < n; i++) {
		*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
		b[i] = (unsigned char)(*x >> 56);
	}
}

/* Send TOTAL bytes of stream seed and read TOTAL; digests of both. */
static int
talk(struct conn *c, int fd, unsigned long long seed, unsigned char sent[32],
    unsigned char got[32])
{
	EVP_MD_CTX *s = EVP_MD_CTX_new(), *g = EVP_MD_CTX_new();
	unsigned char *buf = malloc(65536);
	unsigned long long out = 0, in = 0, x = seed;
	unsigned n;
	pid_t pid;
	int p[2], k;

	/* a reader in a child, writing what it read's digest into a pipe */
	if (pipe(p) == -1)
		return -1;
	EVP_DigestInit_ex(s, EVP_sha256(), NULL);
	EVP_DigestInit_ex(g, EVP_sha256(), NULL);
	if ((pid = fork()) == 0) {
		close(p[0]);
		while (in < TOTAL) {
			k = c ? conn_read(c, buf, 65536) :
			    (int)read(fd, buf, 65536);
			if (k <= 0)
				break;
			EVP_DigestUpdate(g, buf, (size_t)k);
			in += (unsigned long long)k;
		}
		EVP_DigestFinal_ex(g, got, &n);
		if (write(p[1], got, 32) != 32)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	while (out < TOTAL) {
		fill(buf, 65536, &x);
		EVP_DigestUpdate(s, buf, 65536);
		if ((c ? conn_write(c, buf, 65536) :
		    (write(fd, buf, 65536) == 65536 ? 0 : -1)) == -1)
			break;
		out += 65536;
	}
	EVP_DigestFinal_ex(s, sent, &n);
	k = (int)read(p[0], got, 32);
	waitpid(pid, NULL, 0);
	free(buf);
	EVP_MD_CTX_free(s);
	EVP_MD_CTX_free(g);
	return k == 32 && out == TOTAL ? 0 : -1;
}

int
main(void)
{
	struct tls_files f;
	struct ssl_ctx_st *sctx, *cctx;
	struct conn server, client;
	struct relay_stats st;
	unsigned char a_sent[32], a_got[32], b_sent[32], b_got[32];
	int tls[2], plain[2], res[2], st2;
	char err[256], *key, *cert;
	pid_t relay, far;

	signal(SIGPIPE, SIG_IGN);
	tls_make_self_signed("relay", "DNS:relay", 1, &key, &cert, err,
	    sizeof(err));
	memset(&f, 0, sizeof(f));
	f.key_pem = key;
	f.cert_pem = cert;
	sctx = tls_server_ctx(&f, err, sizeof(err));
	memset(&f, 0, sizeof(f));
	cctx = tls_client_ctx(&f, err, sizeof(err));
	socketpair(AF_UNIX, SOCK_STREAM, 0, tls);
	socketpair(AF_UNIX, SOCK_STREAM, 0, plain);
	if (pipe(res) == -1)
		return 1;
	if ((relay = fork()) == 0) {	/* the L7R's side */
		close(tls[0]);
		close(plain[0]);
		conn_init(&server, tls[1], 20000);
		if (conn_tls_accept(&server, sctx) == -1)
			_exit(1);
		relay_run(&server, plain[1], NULL, &st);
		_exit(st.up == TOTAL && st.down == TOTAL ? 0 : 2);
	}
	if ((far = fork()) == 0) {	/* the VM's side: plain TCP */
		close(tls[0]);
		close(tls[1]);
		close(plain[1]);
		close(res[0]);
		if (talk(NULL, plain[0], 2, b_sent, b_got) == -1)
			_exit(1);
		if (write(res[1], b_sent, 32) != 32 ||
		    write(res[1], b_got, 32) != 32)
			_exit(1);
		_exit(0);
	}
	close(tls[1]);
	close(plain[0]);
	close(plain[1]);
	close(res[1]);
	conn_init(&client, tls[0], 20000);
	ok(conn_tls_connect(&client, cctx, "relay", 0) == 0,
	    "TLS to the relay");
	ok(talk(&client, -1, 1, a_sent, a_got) == 0,
	    "100 MB each way through the relay");
	ok(read(res[0], b_sent, 32) == 32 && read(res[0], b_got, 32) == 32,
	    "the plain side finished");
	ok(memcmp(a_sent, b_got, 32) == 0,
	    "what went in over TLS came out of the socket intact (SHA-256)");
	ok(memcmp(b_sent, a_got, 32) == 0,
	    "and the other way round");
	conn_close(&client);
	waitpid(far, &st2, 0);
	waitpid(relay, &st2, 0);
	ok(WIFEXITED(st2) && WEXITSTATUS(st2) == 0,
	    "the relay counted 100 MB each way");
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	free(key);
	free(cert);
	return tap_done();
}
