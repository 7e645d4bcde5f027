/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lb.c -- the load balancer: which node a VM is started on (chapter 11). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "qvd.h"

/* Uniform in [0, 1). */
static double
lb_random(void)
{
	uint32_t r;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint32_t)random();
	return r / 4294967296.0;
}

/*
 * Score of a candidate by the default plugin: weighted free RAM and CPU
 * shared among the VMs already assigned, plus a random term.
 */
double
lb_score(double ram, double cpu, long long nvms, double w_ram, double w_cpu,
    double w_random)
{
	return (w_ram * ram + w_cpu * cpu) / (double)(nvms + 1) +
	    lb_random() * w_random;
}

/*
 * Pick a running, unblocked backend node.  0 with *host_id, or -1 with
 * err ("there is no host available") when none qualifies.
 */
int
lb_pick_host(struct db *db, long long *host_id, char *err, size_t errsz)
{
	struct pg_result *res;
	const char *plugin = conf_get("l7r.loadbalancer.plugin");
	double w_ram, w_cpu, w_rnd, score, best = -1;
	int i, n, pick = -1;

	res = db_query(db, "SELECT h.id, coalesce(r.usable_ram, 0), "
	    "coalesce(r.usable_cpu, 0), (SELECT count(*) FROM vm_runtimes v "
	    "WHERE v.host_id = h.id) FROM hosts h JOIN host_runtimes r "
	    "ON r.host_id = h.id WHERE h.backend AND NOT r.blocked "
	    "AND r.state = 'running' ORDER BY h.id", 0);
	if (res == NULL) {
		str_fmt(err, errsz, "%s", db_error(db));
		return -1;
	}
	if ((n = db_ntuples(res)) == 0) {
		db_clear(res);
		str_copy(err, "unable to assign the VM to a host: there is no "
		    "host available (running and not blocked)", errsz);
		return -1;
	}
	w_ram = (double)conf_int("l7r.loadbalancer.plugin.default.weight.ram",
	    1);
	w_cpu = (double)conf_int("l7r.loadbalancer.plugin.default.weight.cpu",
	    1);
	w_rnd = (double)conf_int(
	    "l7r.loadbalancer.plugin.default.weight.random", 1);
	if (plugin != NULL && strcmp(plugin, "random") == 0)
		pick = (int)(lb_random() * n);
	else
		for (i = 0; i < n; i++) {
			score = lb_score(strtod(db_val(res, i, 1), NULL),
			    strtod(db_val(res, i, 2), NULL), db_int(res, i, 3),
			    w_ram, w_cpu, w_rnd);
			if (score > best) {
				best = score;
				pick = i;
			}
		}
	*host_id = db_int(res, pick, 0);
	db_clear(res);
	return 0;
}
