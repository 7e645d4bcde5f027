/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tunnel.c -- a test client that speaks to the L7R as upstream's C client
 * does: raw TLS, a hand-written request with bare LF line ends, the 102
 * steps printed, and after 101 the slave key and a local port bridged to
 * the tunnel.  A final error is printed with its Content-Length, its body
 * as sent, and whether the server closed the connection after it (within
 * 3 s), as upstream's client waits for that close.
 * usage: tunnel HOST PORT REQUEST-FILE [LISTEN-PORT] */

#include <sys/socket.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "qvd.h"

int
main(int argc, char **argv)
{
	struct tls_files f;
	struct ssl_ctx_st *ctx;
	struct conn c;
	struct http_msg m;
	struct relay_stats st;
	char err[256], req[8192], info[512];
	FILE *fp;
	size_t n;
	int fd, lfd, n2, cfd;

	if (argc < 4 || (fp = fopen(argv[3], "r")) == NULL) {
		fprintf(stderr, "usage: tunnel host port request-file "
		    "[listen-port]\n");
		return 2;
	}
	n = fread(req, 1, sizeof(req) - 1, fp);
	fclose(fp);
	memset(&f, 0, sizeof(f));
	if ((ctx = tls_client_ctx(&f, err, sizeof(err))) == NULL ||
	    (fd = tcp_connect(argv[1], argv[2], 5000, err, sizeof(err))) == -1) {
		fprintf(stderr, "tunnel: %s\n", err);
		return 1;
	}
	conn_init(&c, fd, 600000);
	if (conn_tls_connect(&c, ctx, argv[1], 0) == -1 ||
	    conn_write(&c, req, n) == -1) {
		fprintf(stderr, "tunnel: %s\n", c.err);
		return 1;
	}
	for (;;) {
		if ((n2 = conn_read_msg(&c, &m, 0)) <= 0) {
			fprintf(stderr, "tunnel: no answer: %s\n", c.err);
			return 1;
		}
		printf("%d", m.status);
		if (http_header_copy(&m, "X-QVD-VM-Info", info, sizeof(info))
		    == 0)
			printf(" %s", info);
		printf("\n");
		fflush(stdout);
		conn_consume(&c, (size_t)n2);
		if (m.status != 102)
			break;
	}
	if (m.status != 101) {
		struct buf body = { NULL, 0, 0, 65536 };
		long long len = http_content_length(&m);

		if (len > 0 && conn_read_body(&c, (size_t)len, &body) == -1)
			printf("short body\n");
		printf("Content-Length: %lld\n%s\n", len, buf_str(&body));
		if (http_header_copy(&m, "Retry-After", info, sizeof(info)) ==
		    0)
			printf("Retry-After: %s\n", info);
		conn_set_deadline(&c, 3000);
		printf("%s\n", conn_fill(&c) == 0 ? "closed" : "still open");
		buf_free(&body);
		return 1;
	}
	if (http_header_copy(&m, "X-QVD-Slave-Key", info, sizeof(info)) == 0)
		printf("slave key %s\n", info);
	fflush(stdout);
	if (argc < 5)
		return 0;
	if ((lfd = tcp_listen("127.0.0.1", argv[4], 1, err, sizeof(err))) ==
	    -1) {
		fprintf(stderr, "tunnel: %s\n", err);
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	if ((cfd = accept(lfd, NULL, NULL)) == -1)
		return 1;
	close(lfd);
	relay_run(&c, cfd, NULL, &st);
	printf("relayed %llu bytes up, %llu down\n", st.down, st.up);
	return 0;
}
