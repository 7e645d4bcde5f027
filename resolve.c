/* SPDX-License-Identifier: GPL-3.0-or-later */
/* resolve.c -- host names to addresses without glibc's NSS, for the
 * statically linked client (a static glibc binary would load the host's
 * NSS modules at run time, which on another system may not match):
 * /etc/hosts, then the nameservers of /etc/resolv.conf over UDP, A then
 * AAAA, with its search domains.  Every read of a DNS answer is bounded. */

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "qvd.h"

#define HOSTS_FILE	"/etc/hosts"
#define RESOLV_FILE	"/etc/resolv.conf"
#define MAX_SERVERS	3
#define MAX_SEARCH	6
#define DNS_TIMEOUT_MS	2000
#define DNS_TRIES	2
#define T_A		1
#define T_AAAA		28

struct resolv {
	char	 servers[MAX_SERVERS][64];
	int	 nservers;
	char	 search[MAX_SEARCH][256];
	int	 nsearch;
};

/* ---- /etc/hosts ---- */

static int
from_hosts(const char *name, char *out, size_t outsz)
{
	char line[1024], *tok, *addr, *save;
	FILE *fp = fopen(HOSTS_FILE, "r");
	int found = 0;

	if (fp == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "#\n")] = '\0';
		if ((addr = strtok_r(line, " \t", &save)) == NULL)
			continue;
		while ((tok = strtok_r(NULL, " \t", &save)) != NULL)
			if (strcasecmp(tok, name) == 0) {
				found = str_copy(out, addr, outsz) == 0;
				break;
			}
	}
	fclose(fp);
	return found;
}

/* ---- /etc/resolv.conf ---- */

static void
read_resolv(struct resolv *rv)
{
	char line[1024], *key, *v, *save;
	FILE *fp = fopen(RESOLV_FILE, "r");

	memset(rv, 0, sizeof(*rv));
	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "#;\n")] = '\0';
		if ((key = strtok_r(line, " \t", &save)) == NULL)
			continue;
		if (strcmp(key, "nameserver") == 0 && rv->nservers <
		    MAX_SERVERS && (v = strtok_r(NULL, " \t", &save)) != NULL)
			str_copy(rv->servers[rv->nservers++], v, 64);
		else if (strcmp(key, "search") == 0 || strcmp(key, "domain") ==
		    0) {
			rv->nsearch = 0;
			while (rv->nsearch < MAX_SEARCH &&
			    (v = strtok_r(NULL, " \t", &save)) != NULL)
				str_copy(rv->search[rv->nsearch++], v, 256);
		}
	}
	if (fp != NULL)
		fclose(fp);
	if (rv->nservers == 0)		/* what resolv.conf(5) says */
		str_copy(rv->servers[rv->nservers++], "127.0.0.1", 64);
}

/* ---- DNS messages (RFC 1035) ---- */

/* The query for name and type into q; its length, or -1. */
static int
make_query(const char *name, int type, unsigned short id, unsigned char *q,
    size_t qsz)
{
	const char *label = name, *dot;
	size_t n = 12, len;

	if (strlen(name) > 253 || qsz < 12 + 255 + 4)
		return -1;
	memset(q, 0, 12);
	q[0] = (unsigned char)(id >> 8);
	q[1] = (unsigned char)id;
	q[2] = 0x01;			/* recursion desired */
	q[5] = 1;			/* one question */
	while (*label) {
		dot = strchr(label, '.');
		len = dot ? (size_t)(dot - label) : strlen(label);
		if (len == 0 || len > 63)
			return -1;
		q[n++] = (unsigned char)len;
		memcpy(q + n, label, len);
		n += len;
		label += len + (dot ? 1 : 0);
	}
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = (unsigned char)type;
	q[n++] = 0;
	q[n++] = 1;			/* class IN */
	return (int)n;
}

/* Past a (possibly compressed) name at off; -1 when malformed. */
static int
skip_name(const unsigned char *m, int len, int off)
{
	while (off < len) {
		if (m[off] == 0)
			return off + 1;
		if ((m[off] & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : -1;
		if (m[off] & 0xc0)
			return -1;
		off += 1 + m[off];
	}
	return -1;
}

/* The first A or AAAA record of the answer: 1 found, 0 none (or the name
 * does not exist), -1 malformed.  Not static: fuzzed. */
int
resolve_parse_answer(const unsigned char *m, int len, unsigned short id,
    int type, char *out, size_t outsz)
{
	int off, i, an, rtype, rdlen;

	if (len < 12 || ((m[0] << 8) | m[1]) != id || !(m[2] & 0x80))
		return -1;
	if ((m[3] & 0x0f) != 0)		/* NXDOMAIN, SERVFAIL, ... */
		return 0;
	an = (m[6] << 8) | m[7];
	if ((off = skip_name(m, len, 12)) == -1 || (off += 4) > len)
		return -1;
	for (i = 0; i < an && i < 64; i++) {
		if ((off = skip_name(m, len, off)) == -1 || off + 10 > len)
			return -1;
		rtype = (m[off] << 8) | m[off + 1];
		rdlen = (m[off + 8] << 8) | m[off + 9];
		off += 10;
		if (off + rdlen > len)
			return -1;
		if (rtype == type && ((type == T_A && rdlen == 4) ||
		    (type == T_AAAA && rdlen == 16)))
			return inet_ntop(type == T_A ? AF_INET : AF_INET6,
			    m + off, out, (socklen_t)outsz) != NULL;
		off += rdlen;
	}
	return 0;
}

/* One question to one server: 1 answered with an address, 0 no such
 * record, -1 no (usable) answer. */
static int
ask(const char *server, const char *name, int type, char *out, size_t outsz)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	unsigned char q[512], a[1500];
	unsigned short id;
	struct pollfd pfd;
	socklen_t sl;
	int fd, n, qlen, rc = -1, try;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, server, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(53);
		sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, server, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(53);
		sl = sizeof(*s6);
	} else
		return -1;
	if (RAND_bytes((unsigned char *)&id, sizeof(id)) != 1 ||
	    (qlen = make_query(name, type, id, q, sizeof(q))) == -1 ||
	    (fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, sl) == -1) {
		close(fd);
		return -1;
	}
	for (try = 0; try < DNS_TRIES && rc == -1; try++) {
		if (send(fd, q, (size_t)qlen, 0) != qlen)
			break;
		pfd.fd = fd;
		pfd.events = POLLIN;
		while (rc == -1 && poll(&pfd, 1, DNS_TIMEOUT_MS) == 1) {
			if ((n = (int)recv(fd, a, sizeof(a), 0)) <= 0)
				break;
			rc = resolve_parse_answer(a, n, id, type, out, outsz);
		}
	}
	close(fd);
	return rc;
}

/* The name through every server, A first: 1, 0 not found, -1 no server
 * answered. */
static int
from_dns(const struct resolv *rv, const char *name, char *out, size_t outsz)
{
	static const int types[] = { T_A, T_AAAA };
	int i, t, rc, any = 0;

	for (t = 0; t < 2; t++)
		for (i = 0; i < rv->nservers; i++) {
			rc = ask(rv->servers[i], name, types[t], out, outsz);
			if (rc == 1)
				return 1;
			if (rc == 0) {
				any = 1;
				break;	/* that server knows: no such record */
			}
		}
	return any ? 0 : -1;
}

/*
 * name (an address, a name in /etc/hosts, or one DNS knows, trying
 * resolv.conf's search domains for a name without a dot) as an address.
 */
int
resolve_host(const char *name, char *out, size_t outsz, char *err,
    size_t errsz)
{
	struct resolv rv;
	unsigned char bin[16];
	char full[512];
	int i, rc = 0, answered = 0;

	if (inet_pton(AF_INET, name, bin) == 1 ||
	    inet_pton(AF_INET6, name, bin) == 1)
		return str_copy(out, name, outsz);
	if (from_hosts(name, out, outsz))
		return 0;
	read_resolv(&rv);
	for (i = 0; strchr(name, '.') == NULL && i < rv.nsearch; i++) {
		str_fmt(full, sizeof(full), "%s.%s", name, rv.search[i]);
		if ((rc = from_dns(&rv, full, out, outsz)) == 1)
			return 0;
		answered |= rc == 0;
	}
	if ((rc = from_dns(&rv, name, out, outsz)) == 1)
		return 0;
	answered |= rc == 0;
	if (answered)
		str_fmt(err, errsz, "cannot resolve '%s': no such host", name);
	else
		str_fmt(err, errsz, "cannot resolve '%s': no nameserver of %s "
		    "answered", name, RESOLV_FILE);
	return -1;
}
