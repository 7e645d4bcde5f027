/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz_ldap.c -- libFuzzer target: a directory's answers (BER messages)
 * to the L7R's bind and search, read from a socket as from a server; and
 * the input as an auth.ldap.filter. */

#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The bytes as everything a server says, then its end of the line. */
static int
server_says(const uint8_t *data, size_t size, struct ldap *l)
{
	int sv[2];

	if (size > 60000 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return -1;
	if (size > 0 && write(sv[1], data, size) != (ssize_t)size) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	shutdown(sv[1], SHUT_WR);
	memset(l, 0, sizeof(*l));
	conn_init(&l->c, sv[0], 1000);
	l->open = 1;
	str_copy(l->host, "fuzz", sizeof(l->host));
	return sv[1];
}

static void
filter(const uint8_t *data, size_t size)
{
	struct buf out = { NULL, 0, 0, 1 << 20 };
	char *s, err[256];

	if ((s = malloc(size + 1)) == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)ldap_filter_ber(s, &out, err);
	buf_free(&out);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ldap l;
	char dn[512];
	int peer;

	if ((peer = server_says(data, size, &l)) != -1) {
		if (ldap_bind(&l, "uid=ann,dc=qvd", "secret") == 0)
			(void)ldap_search_dn(&l, "dc=qvd", 2, 0, "(uid=ann)",
			    dn, sizeof(dn));
		conn_close(&l.c);
		close(peer);
	}
	filter(data, size);
	return 0;
}
