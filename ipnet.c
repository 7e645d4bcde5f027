/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ipnet.c -- IPv4 arithmetic of the VM network (vm.network.* keys). */

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"

int
ip_parse(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (s == NULL || inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

void
ip_format(uint32_t ip, char out[16])
{
	struct in_addr a;

	a.s_addr = htonl(ip);
	inet_ntop(AF_INET, &a, out, 16);
}

/* A netmask as a prefix length ("24") or dotted ("255.255.255.0"). */
int
ip_mask_parse(const char *s, uint32_t *mask, int *prefix)
{
	long long n;
	const char *why;
	uint32_t m;
	int bits;

	if (s == NULL)
		return -1;
	if (strchr(s, '.') == NULL) {
		if (num_parse(s, 1, 30, &n, &why) == -1)
			return -1;
		*prefix = (int)n;
		*mask = 0xffffffffu << (32 - n);
		return 0;
	}
	if (ip_parse(s, &m) == -1)
		return -1;
	for (bits = 0; bits < 32 && (m & (0x80000000u >> bits)); bits++)
		;
	if (bits < 1 || bits > 30 || m != (0xffffffffu << (32 - bits)))
		return -1;
	*mask = m;
	*prefix = bits;
	return 0;
}

/*
 * The VM network from vm.network.ip.start and vm.network.netmask:
 * nodes take network+1 .. start-1, VMs start .. broadcast-1.
 */
int
ipnet_from_conf(struct ipnet *n, char *err, size_t errsz)
{
	const char *start = conf_get("vm.network.ip.start");
	const char *mask = conf_get("vm.network.netmask");
	const char *gw = conf_get("vm.network.gateway");

	memset(n, 0, sizeof(*n));
	if (start == NULL || *start == '\0') {
		str_fmt(err, errsz, "vm.network.ip.start is not set "
		    "(qa config set vm.network.ip.start=10.3.15.50)");
		return -1;
	}
	if (mask == NULL || *mask == '\0') {
		str_fmt(err, errsz, "vm.network.netmask is not set "
		    "(qa config set vm.network.netmask=24)");
		return -1;
	}
	if (ip_parse(start, &n->start) == -1) {
		str_fmt(err, errsz, "vm.network.ip.start: '%s' is not an IPv4 "
		    "address", start);
		return -1;
	}
	if (ip_mask_parse(mask, &n->mask, &n->prefix) == -1) {
		str_fmt(err, errsz, "vm.network.netmask: '%s' is not a netmask "
		    "(a prefix length from 1 to 30, or dotted)", mask);
		return -1;
	}
	n->network = n->start & n->mask;
	n->broadcast = n->network | ~n->mask;
	if (n->start <= n->network + 1 || n->start >= n->broadcast) {
		str_fmt(err, errsz, "vm.network.ip.start %s leaves no room for "
		    "the nodes or the VMs in the /%d network", start,
		    n->prefix);
		return -1;
	}
	if (gw != NULL && *gw != '\0') {
		if (ip_parse(gw, &n->gateway) == -1 ||
		    (n->gateway & n->mask) != n->network) {
			str_fmt(err, errsz, "vm.network.gateway: '%s' is not an "
			    "address of the VM network", gw);
			return -1;
		}
	}
	return 0;
}

int
ipnet_contains_vm(const struct ipnet *n, uint32_t ip)
{
	return ip >= n->start && ip < n->broadcast;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Up to want free VM addresses, lowest first, skipping those in used[]
 * (sorted here).  Returns how many were found: fewer when the range is full.
 */
size_t
ipnet_alloc(const struct ipnet *n, uint32_t *used, size_t nused,
    uint32_t *out, size_t want)
{
	uint32_t ip;
	size_t i = 0, got = 0;

	qsort(used, nused, sizeof(*used), cmp_u32);
	for (ip = n->start; ip < n->broadcast && got < want; ip++) {
		while (i < nused && used[i] < ip)
			i++;
		if (i >= nused || used[i] != ip)
			out[got++] = ip;
	}
	return got;
}

/* MAC of a VM: the configured prefix and the last three bytes of its IP. */
int
ipnet_mac(uint32_t ip, char *out, size_t outsz)
{
	const char *prefix = conf_get("vm.network.mac.prefix");

	return str_fmt(out, outsz, "%s:%02x:%02x:%02x",
	    prefix ? prefix : "54:52:00", ip >> 16 & 0xff, ip >> 8 & 0xff,
	    ip & 0xff) < 0 ? -1 : 0;
}
