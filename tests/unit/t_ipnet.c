/* SPDX-License-Identifier: GPL-3.0-or-later */
/* t_ipnet.c -- the VM network from vm.network.* keys. */

#include <stdio.h>
#include <string.h>

#include "qvd.h"
#include "tap.h"

int
main(void)
{
	struct ipnet n;
	char err[256], s[16], mac[32];
	uint32_t used[4], got[4];

	ok(ipnet_from_conf(&n, err, sizeof(err)) == -1 &&
	    strstr(err, "vm.network.ip.start is not set") != NULL,
	    "unset start named: %s", err);
	conf_set(CONF_DB, "vm.network.ip.start", "10.3.15.50");
	conf_set(CONF_DB, "vm.network.netmask", "24");
	conf_set(CONF_DB, "vm.network.gateway", "10.3.15.1");
	ok(ipnet_from_conf(&n, err, sizeof(err)) == 0, "/24 network");
	ip_format(n.network, s);
	is_str(s, "10.3.15.0", "network address");
	ip_format(n.broadcast, s);
	is_str(s, "10.3.15.255", "broadcast");
	ip_parse("10.3.15.50", &used[0]);
	ip_parse("10.3.15.52", &used[1]);
	ok(ipnet_alloc(&n, used, 2, got, 2) == 2, "two free addresses");
	ip_format(got[0], s);
	is_str(s, "10.3.15.51", "first free skips a used one");
	ip_format(got[1], s);
	is_str(s, "10.3.15.53", "and the next");
	conf_set(CONF_DB, "vm.network.netmask", "255.255.255.252");
	ok(ipnet_from_conf(&n, err, sizeof(err)) == -1, "/30 leaves no room");
	conf_set(CONF_DB, "vm.network.netmask", "255.255.0.255");
	ok(ipnet_from_conf(&n, err, sizeof(err)) == -1 &&
	    strstr(err, "not a netmask") != NULL, "non-contiguous mask refused");
	conf_set(CONF_DB, "vm.network.netmask", "255.255.255.0");
	conf_set(CONF_DB, "vm.network.gateway", "10.9.9.1");
	ok(ipnet_from_conf(&n, err, sizeof(err)) == -1 &&
	    strstr(err, "gateway") != NULL, "gateway off the network refused");
	conf_set(CONF_DB, "vm.network.gateway", "10.3.15.1");
	conf_set(CONF_DB, "vm.network.ip.start", "10.3.15.254");
	ok(ipnet_from_conf(&n, err, sizeof(err)) == 0 &&
	    ipnet_alloc(&n, used, 0, got, 2) == 1, "a full range says so");
	ip_parse("10.3.15.254", &used[0]);
	ok(ipnet_mac(used[0], mac, sizeof(mac)) == 0 &&
	    strcmp(mac, "54:52:00:03:0f:fe") == 0, "MAC from the IP: %s", mac);
	ok(lb_score(100, 100, 0, 1, 1, 0) > lb_score(100, 100, 3, 1, 1, 0),
	    "load balancer prefers the emptier node");
	conf_free();
	return tap_done();
}
