/* SPDX-License-Identifier: GPL-3.0-or-later */
/* net.c -- the node's side of the VM network: the bridge, VM interfaces. */

#include <net/if.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

#define IP_TIMEOUT_MS	10000

static int
ip_cmd(char *err, size_t errsz, const char *a1, const char *a2,
    const char *a3, const char *a4, const char *a5, const char *a6,
    const char *a7)
{
	char *argv[9] = { (char *)conf_get("command.ip"), (char *)a1,
	    (char *)a2, (char *)a3, (char *)a4, (char *)a5, (char *)a6,
	    (char *)a7, NULL };

	return proc_run(argv, IP_TIMEOUT_MS, -1, err, errsz) == 0 ? 0 : -1;
}

int
net_link_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

/*
 * The VM bridge: created with the gateway address (or the node's own
 * address on the VM network) when it does not exist, left alone when it
 * does.  *created says which.
 */
int
net_ensure_bridge(const struct ipnet *n, const char *address, int *created,
    char *err, size_t errsz)
{
	const char *bridge = conf_get("vm.network.bridge");
	char cidr[40], ip[16];

	*created = 0;
	if (net_link_exists(bridge))
		return 0;
	if (address == NULL) {
		if (n->gateway == 0) {
			str_fmt(err, errsz, "bridge %s does not exist and "
			    "vm.network.gateway is not set to give it an "
			    "address", bridge);
			return -1;
		}
		ip_format(n->gateway, ip);
		address = ip;
	}
	str_fmt(cidr, sizeof(cidr), "%s/%d", address, n->prefix);
	if (ip_cmd(err, errsz, "link", "add", "name", bridge, "type", "bridge",
	    NULL) == -1 ||
	    ip_cmd(err, errsz, "addr", "add", cidr, "dev", bridge, NULL, NULL)
	    == -1 ||
	    ip_cmd(err, errsz, "link", "set", bridge, "up", NULL, NULL, NULL)
	    == -1)
		return -1;
	*created = 1;
	return 0;
}

/* "qvd<id>": the host side of a VM's interface. */
void
net_vm_iface(long long vm_id, char *out, size_t outsz)
{
	str_fmt(out, outsz, "%s%lld",
	    conf_get("internal.vm.network.device.prefix"), vm_id);
}

int
net_link_del(const char *name, char *err, size_t errsz)
{
	if (!net_link_exists(name))
		return 0;
	return ip_cmd(err, errsz, "link", "del", name, NULL, NULL, NULL, NULL);
}

/* A tap device for a KVM VM, a port of the bridge, up. */
int
net_tap_add(const char *name, const char *bridge, char *err, size_t errsz)
{
	if (ip_cmd(err, errsz, "tuntap", "add", "dev", name, "mode", "tap",
	    NULL) == -1)
		return -1;
	if (ip_cmd(err, errsz, "link", "set", name, "master", bridge, "up",
	    NULL) == -1) {
		net_link_del(name, err + strlen(err), errsz - strlen(err));
		return -1;
	}
	return 0;
}
