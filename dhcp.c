/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dhcp.c -- dnsmasq as the VMs' DHCP server (manual 5.3.1), when
 * vm.network.use_dhcp: started and supervised by the node, serving only
 * the MAC,IP pairs of this node's VMs from a hosts file rewritten as they
 * come and go.  A VM that goes takes its lease with it. */

#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

#define DNSMASQ_STOP_MS		3000
#define HOSTS_MAX		(4 * 1024 * 1024)

static pid_t dnsmasq;
static char *served;		/* the hosts file as dnsmasq read it last */
static long long restart_at;

/* "MAC,IP\n" for every VM of this node. */
static void
hosts_text(const struct vm *list, struct buf *b)
{
	const struct vm *v;

	for (v = list; v != NULL; v = v->next)
		if (!v->no_db && v->info.ip[0] != '\0' && v->info.mac[0] != '\0')
			buf_printf(b, "%s,%s\n", v->info.mac, v->info.ip);
}

static const char *
leases_path(char *out, size_t outsz)
{
	str_fmt(out, outsz, "%s/dnsmasq.leases", conf_get("path.run"));
	return out;
}

static const char *
pid_path(char *out, size_t outsz)
{
	str_fmt(out, outsz, "%s/dnsmasq.pid", conf_get("path.run"));
	return out;
}

/* The dnsmasq a killed qvd-node left running (its pid file, its cmdline). */
static void
stop_stale(void)
{
	char path[4200], cmd[8192], want[4300];
	pid_t pid;

	pid = proc_pid_file(pid_path(path, sizeof(path)));
	str_fmt(want, sizeof(want), "--pid-file=%s", path);
	if (!proc_alive(pid) || proc_cmdline(pid, cmd, sizeof(cmd)) == -1 ||
	    strstr(cmd, want) == NULL)
		return;
	log_info("DHCP: stopping the dnsmasq (pid %d) a previous qvd-node "
	    "left", (int)pid);
	kill(pid, SIGTERM);
	if (proc_wait_gone(pid, DNSMASQ_STOP_MS) == -1) {
		log_warn("DHCP: the old dnsmasq (pid %d) ignored SIGTERM; "
		    "killing it", (int)pid);
		kill(pid, SIGKILL);
	}
}

/* Is "MAC,IP" of line's MAC in text? */
static int
mac_in(const char *mac, size_t maclen, const char *text)
{
	const char *s;

	for (s = text; s != NULL && *s != '\0'; s = strchr(s, '\n')) {
		if (*s == '\n')
			s++;
		if (strncmp(s, mac, maclen) == 0 && s[maclen] == ',')
			return 1;
	}
	return 0;
}

/* Was any VM of old dropped from new? */
static int
any_removed(const char *old, const char *new)
{
	const char *s, *comma;

	for (s = old; s != NULL && *s != '\0'; s = strchr(s, '\n')) {
		if (*s == '\n' && *++s == '\0')
			break;
		if ((comma = strchr(s, ',')) != NULL &&
		    !mac_in(s, (size_t)(comma - s), new))
			return 1;
	}
	return 0;
}

/* The lease file without the VMs that are gone ("expiry MAC IP ..."). */
static void
prune_leases(const char *hosts)
{
	char path[4200], line[512], mac[32];
	struct buf b = { NULL, 0, 0, HOSTS_MAX };
	FILE *fp;

	if ((fp = fopen(leases_path(path, sizeof(path)), "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "%*s %31s", mac) == 1 &&
		    mac_in(mac, strlen(mac), hosts))
			buf_adds(&b, line);
	fclose(fp);
	if (file_write_atomic(path, b.data ? b.data : "", 0644) == -1)
		log_warn("DHCP: cannot rewrite %s: %s", path, strerror(errno));
	buf_free(&b);
}

static int
spawn(char *err, size_t errsz)
{
	struct ipnet n;
	char range[80], net[16], mask[16], gw[16], router[64], dns[64];
	char hosts[4200], leases[4200], iface[80], hf[4300], lf[4300];
	char pidf[4200], pf[4300];
	const char *dns_server = conf_get("vm.network.dns_server");
	char *argv[20];
	struct proc_spec ps;
	int i = 0;

	if (ipnet_from_conf(&n, err, errsz) == -1)
		return -1;
	ip_format(n.network, net);
	ip_format(n.mask, mask);
	str_fmt(range, sizeof(range), "--dhcp-range=%s,static,%s,12h", net,
	    mask);
	str_fmt(hosts, sizeof(hosts), "%s", conf_get("internal.vm.network."
	    "dhcp-hostsfile"));
	str_fmt(hf, sizeof(hf), "--dhcp-hostsfile=%s", hosts);
	str_fmt(lf, sizeof(lf), "--dhcp-leasefile=%s", leases_path(leases,
	    sizeof(leases)));
	str_fmt(iface, sizeof(iface), "--interface=%s",
	    conf_get("vm.network.bridge"));
	argv[i++] = (char *)conf_get("command.dhcpd");
	argv[i++] = "--keep-in-foreground";
	argv[i++] = "--conf-file=/dev/null";
	argv[i++] = "--port=0";		/* DHCP only, no DNS */
	argv[i++] = "--bind-interfaces";
	argv[i++] = iface;
	argv[i++] = "--except-interface=lo";
	argv[i++] = range;
	argv[i++] = hf;
	argv[i++] = lf;
	str_fmt(pf, sizeof(pf), "--pid-file=%s", pid_path(pidf, sizeof(pidf)));
	argv[i++] = pf;	/* for a restarted node to find it */
	argv[i++] = "--log-facility=-";
	argv[i++] = "--quiet-dhcp";
	if (n.gateway) {
		ip_format(n.gateway, gw);
		str_fmt(router, sizeof(router), "--dhcp-option=option:router,%s",
		    gw);
		argv[i++] = router;
	}
	if (dns_server != NULL && *dns_server != '\0') {
		str_fmt(dns, sizeof(dns), "--dhcp-option=option:dns-server,%s",
		    dns_server);
		argv[i++] = dns;
	}
	argv[i] = NULL;
	memset(&ps, 0, sizeof(ps));
	ps.argv = argv;
	ps.stdin_fd = -1;
	ps.stdout_fd = ps.stderr_fd = log_fd();
	ps.new_session = 1;
	if ((dnsmasq = proc_spawn(&ps, err, errsz)) == -1) {
		dnsmasq = 0;
		return -1;
	}
	log_info("DHCP: dnsmasq started (pid %d) on %s", (int)dnsmasq,
	    conf_get("vm.network.bridge"));
	return 0;
}

static void
stop_dnsmasq(void)
{
	int st;

	if (dnsmasq <= 0)
		return;
	kill(dnsmasq, SIGTERM);
	if (proc_wait(dnsmasq, DNSMASQ_STOP_MS, &st) == -1) {
		kill(dnsmasq, SIGKILL);
		proc_wait(dnsmasq, -1, &st);
	}
	dnsmasq = 0;
}

/* dnsmasq ended by itself: say how, and start it again soon. */
static void
reap(void)
{
	char how[128];
	int st;

	if (dnsmasq <= 0 || waitpid(dnsmasq, &st, WNOHANG) != dnsmasq)
		return;
	proc_status_str(st, how, sizeof(how));
	log_error("DHCP: dnsmasq (pid %d) %s; starting it again", (int)dnsmasq,
	    how);
	dnsmasq = 0;
	restart_at = mono_ms() + conf_int("internal.hkd.agent.dhcpdhandler."
	    "delay", 2) * 1000;
}

/*
 * Each turn of the loop: the hosts file follows the VMs.  A new VM is
 * read with SIGHUP; a VM gone restarts dnsmasq without its lease.  It
 * runs while there are VMs to serve.
 */
void
dhcp_sync(const struct vm *list)
{
	struct buf b = { NULL, 0, 0, HOSTS_MAX };
	const char *path = conf_get("internal.vm.network.dhcp-hostsfile");
	char err[512];
	int changed, removed;

	static int first = 1;

	if (!conf_bool("vm.network.use_dhcp"))
		return;
	if (first) {
		first = 0;
		stop_stale();
	}
	reap();
	hosts_text(list, &b);
	changed = served == NULL || strcmp(served, buf_str(&b)) != 0;
	if (!changed && (dnsmasq > 0 || *served == '\0' ||
	    mono_ms() < restart_at)) {
		buf_free(&b);
		return;
	}
	removed = served != NULL && any_removed(served, buf_str(&b));
	if (changed && file_write_atomic(path, buf_str(&b), 0644) == -1) {
		log_error("DHCP: cannot write %s: %s", path, strerror(errno));
		buf_free(&b);
		return;
	}
	free(served);
	served = xstrdup(buf_str(&b));
	buf_free(&b);
	if (dnsmasq > 0 && !removed) {
		kill(dnsmasq, SIGHUP);
		return;
	}
	if (removed)
		stop_dnsmasq();
	prune_leases(served);
	if (*served == '\0' || mono_ms() < restart_at)
		return;
	if (spawn(err, sizeof(err)) == -1) {
		log_error("DHCP: %s", err);
		restart_at = mono_ms() + conf_int("internal.hkd.agent."
		    "dhcpdhandler.delay", 2) * 1000;
	}
}

void
dhcp_stop(void)
{
	stop_dnsmasq();
	free(served);
	served = NULL;
}
