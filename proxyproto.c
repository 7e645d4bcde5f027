/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * proxyproto.c -- the PROXY protocol header (versions 1 and 2, as HAProxy
 * sends it with send-proxy / send-proxy-v2) that a load balancer in TCP
 * mode puts before the TLS bytes, to say whose connection it passes on.
 * Bounded, and read only from the addresses l7r.proxy.trusted lists.
 */

#include <arpa/inet.h>

#include <string.h>

#include "qvd.h"

#define V1_MAX		107	/* the longest line version 1 allows */
#define V2_HEAD		16
#define V2_MAX_BODY	512	/* addresses and TLVs: more is refused */

static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static void
v4_addr(unsigned char addr[16], const unsigned char *ip4)
{
	memset(addr, 0, 16);
	addr[10] = addr[11] = 0xff;
	memcpy(addr + 12, ip4, 4);
}

/* "PROXY TCP4 src dst sport dport\r\n", or TCP6, or UNKNOWN ... */
static int
parse_v1(const unsigned char *buf, size_t len, struct proxy_hdr *h)
{
	char line[V1_MAX + 1], *w[6], *t, *save = NULL;
	const unsigned char *crlf = NULL;
	unsigned char ip[16];
	size_t i, n;
	int nw = 0;

	for (i = 0; i + 1 < len && i < V1_MAX; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n') {
			crlf = buf + i;
			break;
		}
	if (crlf == NULL)
		return len >= V1_MAX ? -1 : 0;
	n = (size_t)(crlf - buf);
	memcpy(line, buf, n);
	line[n] = '\0';
	for (t = strtok_r(line, " ", &save); t != NULL && nw < 6;
	    t = strtok_r(NULL, " ", &save))
		w[nw++] = t;
	h->consumed = n + 2;
	h->local = 1;
	if (nw >= 2 && strcmp(w[1], "UNKNOWN") == 0)
		return 1;	/* the balancer's own, e.g. a health check */
	if (nw != 6 || t != NULL)	/* t: a seventh word */
		return -1;
	if (strcmp(w[1], "TCP4") == 0 && inet_pton(AF_INET, w[2], ip) == 1)
		v4_addr(h->addr, ip);
	else if (strcmp(w[1], "TCP6") == 0 &&
	    inet_pton(AF_INET6, w[2], ip) == 1)
		memcpy(h->addr, ip, 16);
	else
		return -1;
	h->local = 0;
	return 1;
}

static int
parse_v2(const unsigned char *buf, size_t len, struct proxy_hdr *h)
{
	size_t body;

	if (len < V2_HEAD)
		return 0;
	body = (size_t)buf[14] << 8 | buf[15];
	if ((buf[12] & 0xf0) != 0x20 || body > V2_MAX_BODY)
		return -1;
	if (len < V2_HEAD + body)
		return 0;
	h->consumed = V2_HEAD + body;
	h->local = 1;
	if ((buf[12] & 0x0f) == 0)
		return 1;	/* LOCAL: the balancer's own connection */
	if ((buf[12] & 0x0f) != 1)
		return -1;
	if (buf[13] == 0x11 && body >= 12)
		v4_addr(h->addr, buf + V2_HEAD);
	else if (buf[13] == 0x21 && body >= 36)
		memcpy(h->addr, buf + V2_HEAD, 16);
	else if (buf[13] == 0x00)
		return 1;	/* UNSPEC: keep the balancer's address */
	else
		return -1;
	h->local = 0;
	return 1;
}

/*
 * The header at the start of buf: 1 when it is all there (h says whose
 * connection it is and how many bytes it took), 0 when more bytes are
 * needed, -1 when it is not a PROXY header or is malformed.
 */
int
proxy_parse(const unsigned char *buf, size_t len, struct proxy_hdr *h)
{
	size_t k = len < sizeof(v2_sig) ? len : sizeof(v2_sig);

	memset(h, 0, sizeof(*h));
	if (len == 0)
		return 0;
	if (memcmp(buf, v2_sig, k) == 0)
		return k < sizeof(v2_sig) ? 0 : parse_v2(buf, len, h);
	k = len < 6 ? len : 6;
	if (memcmp(buf, "PROXY ", k) != 0)
		return -1;
	return k < 6 ? 0 : parse_v1(buf, len, h);
}

/* Is addr one of l7r.proxy.trusted's? */
int
proxy_trusted(const unsigned char addr[16])
{
	const char *s = conf_get("l7r.proxy.trusted");
	unsigned char ip[16], a[16];
	char item[64];
	size_t n;

	while (s != NULL && *s != '\0') {
		s += strspn(s, " ,");
		n = strcspn(s, ", ");
		if (n > 0 && n < sizeof(item)) {
			memcpy(item, s, n);
			item[n] = '\0';
			if (inet_pton(AF_INET, item, ip) == 1)
				v4_addr(a, ip);
			else if (inet_pton(AF_INET6, item, a) != 1)
				memset(a, 0xff, sizeof(a));
			if (memcmp(a, addr, 16) == 0)
				return 1;
		}
		s += n;
	}
	return 0;
}

/* addr as text: dotted for IPv4 (mapped), else IPv6's form. */
void
proxy_addr_text(const unsigned char addr[16], char *txt, size_t txtsz)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };

	if (memcmp(addr, mapped, 12) == 0)
		inet_ntop(AF_INET, addr + 12, txt, (socklen_t)txtsz);
	else
		inet_ntop(AF_INET6, addr, txt, (socklen_t)txtsz);
}

/* The longest header proxy_parse takes: what to peek at. */
size_t
proxy_max_len(void)
{
	return V2_HEAD + V2_MAX_BODY;
}
