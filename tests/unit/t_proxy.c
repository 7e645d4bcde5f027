/* SPDX-License-Identifier: GPL-3.0-or-later */
/* t_proxy.c -- the PROXY header of a load balancer, versions 1 and 2. */

#include <stdio.h>
#include <string.h>

#include "qvd.h"
#include "tap.h"

static int
parse(const void *b, size_t n, struct proxy_hdr *h)
{
	return proxy_parse(b, n, h);
}

static const char *
text(const struct proxy_hdr *h)
{
	static char t[64];

	proxy_addr_text(h->addr, t, sizeof(t));
	return t;
}

int
main(void)
{
	static const unsigned char v2[] = {
	    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54,
	    0x0a, 0x21, 0x11, 0x00, 0x0c, 10, 9, 0, 100, 10, 9, 0, 11,
	    0x9c, 0x40, 0x20, 0xfb, 0x16, 0x03 };	/* then TLS */
	static const unsigned char v2local[] = {
	    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54,
	    0x0a, 0x20, 0x00, 0x00, 0x00 };
	static const char v1[] = "PROXY TCP4 10.9.0.101 10.9.0.11 40000 8443"
	    "\r\n\x16\x03";
	unsigned char big[16 + 600], addr[16];
	struct proxy_hdr h;
	size_t i;

	ok(parse(v2, sizeof(v2), &h) == 1 && !h.local && h.consumed == 28,
	    "v2 TCP4: complete, 28 bytes, the TLS bytes left");
	is_str(text(&h), "10.9.0.100", "v2: the client's address");
	for (i = 0; i < 28; i++)
		if (parse(v2, i, &h) != 0)
			break;
	is_int((long long)i, 28, "v2: every prefix asks for more");
	ok(parse(v2local, sizeof(v2local), &h) == 1 && h.local &&
	    h.consumed == 16, "v2 LOCAL (a health check): the balancer's own");
	ok(parse(v1, strlen(v1), &h) == 1 && !h.local &&
	    h.consumed == strlen(v1) - 2, "v1 TCP4 line");
	is_str(text(&h), "10.9.0.101", "v1: the client's address");
	ok(parse("PROXY TCP4 10.9.0.1", 19, &h) == 0, "v1 cut short: more");
	ok(parse("PROXY UNKNOWN\r\n", 15, &h) == 1 && h.local,
	    "v1 UNKNOWN: the balancer's own");
	ok(parse("PROXY TCP6 ::1 ::2 1 2\r\n", 24, &h) == 1 &&
	    strcmp(text(&h), "::1") == 0, "v1 TCP6");
	ok(parse("PROXY TCP4 10.9.0.300 10.9.0.1 1 2\r\n", 36, &h) == -1,
	    "v1 with a bad address: refused");
	ok(parse("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", 34, &h) == -1,
	    "v1 with a word too many: refused");
	ok(parse("\x16\x03\x01\x02\x00", 5, &h) == -1,
	    "a TLS hello without a header: refused");
	ok(parse("GET / HTTP/1.1\r\n", 16, &h) == -1, "plain HTTP: refused");
	memset(big, 'x', sizeof(big));
	memcpy(big, "PROXY ", 6);
	ok(parse(big, 200, &h) == -1, "v1 line over 107 bytes: refused");
	memcpy(big, v2, 16);
	big[14] = 0x02;		/* 600 bytes of body */
	big[15] = 0x58;
	ok(parse(big, sizeof(big), &h) == -1, "v2 body over 512: refused");
	conf_set(CONF_DB, "l7r.proxy.trusted", "10.9.0.1, 10.9.0.2");
	parse(v2, sizeof(v2), &h);
	memcpy(addr, h.addr, 16);
	ok(!proxy_trusted(addr), "a client's address is not trusted");
	addr[15] = 2;
	addr[14] = 0;
	ok(proxy_trusted(addr), "a listed balancer is");
	ok(valid_ip_list("10.9.0.1, ::1,10.0.0.2") &&
	    !valid_ip_list("10.9.0.1,,10.0.0.2") && !valid_ip_list("x"),
	    "l7r.proxy.trusted's type: a comma list of addresses");
	conf_free();
	return tap_done();
}
