/* SPDX-License-Identifier: GPL-3.0-or-later */
/* qavm.c -- qa's virtual machine commands. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

int
qa_vm_add(struct qa *qa)
{
	struct vm_add_req r;
	char err[ADMIN_ERRSZ], note[ADMIN_ERRSZ];
	long long bulk, first;
	int rc, count;

	memset(&r, 0, sizeof(r));
	if ((rc = qa_need(qa, "name", &r.name)) != 0 ||
	    (rc = qa_pick(qa, "user_id", "user", "user", &r.user_id)) != 0 ||
	    (rc = qa_pick(qa, "osf_id", "osf", "OSF", &r.osf_id)) != 0 ||
	    (rc = qa_int_arg(qa, "bulk", 1, 100000, 1, &bulk)) != 0)
		return rc;
	r.bulk = (int)bulk;
	r.force_suffix = qa_arg(qa, "bulk") != NULL;
	r.ip = qa_arg(qa, "ip");
	r.di_tag = qa_arg(qa, "di_tag") ? qa_arg(qa, "di_tag") : "default";
	r.warn = note;
	if (admin_vm_add(qa->db, &r, &first, &count, err) == -1)
		return qa_fail(qa, "%s", err);
	if (*note != '\0')
		qa_warn(qa, "%s", note);
	if (count == 1)
		printf("VM added with id %lld\n", first);
	else
		printf("%d VMs added with ids from %lld\n", count, first);
	return 0;
}

int
qa_vm_list(struct qa *qa)
{
	return qa_list_of(qa, "vm");
}

int
qa_vm_start(struct qa *qa)
{
	return qa_mass(qa, "start", admin_vm_start, "Started %lld VMs.");
}

int
qa_vm_stop(struct qa *qa)
{
	return qa_mass(qa, "stop", admin_vm_stop, "Stopped %lld VMs.");
}

int
qa_vm_block(struct qa *qa)
{
	return qa_mass(qa, "block", admin_vm_block_on, "Blocked %lld VMs.");
}

int
qa_vm_unblock(struct qa *qa)
{
	return qa_mass(qa, "unblock", admin_vm_block_off, "Unblocked %lld VMs.");
}

/* The per-VM homes of VMs about to be deleted (the user's own, with
 * vm.lxc.home.per.user, stay with the user). */
static char **
homes_of(struct qa *qa, const long long *ids, int n, int *nhomes)
{
	struct buf param = { NULL, 0, 0, 0 };
	struct pg_result *res;
	char **homes, dir[4200];
	int i;

	*nhomes = 0;
	admin_ids_param(ids, n, &param);
	res = db_query(qa->db, "SELECT id, user_id FROM vms WHERE id = "
	    "ANY($1::int[])", 1, buf_str(&param));
	buf_free(&param);
	if (res == NULL)
		return NULL;
	homes = xcalloc((size_t)db_ntuples(res) + 1, sizeof(*homes));
	for (i = 0; i < db_ntuples(res); i++) {
		vm_home_dir(db_int(res, i, 0), db_int(res, i, 1), "", dir,
		    sizeof(dir));
		homes[(*nhomes)++] = xstrdup(dir);
	}
	db_clear(res);
	return homes;
}

int
qa_vm_del(struct qa *qa)
{
	const char *homes = qa_arg(qa, "homes");
	char err[ADMIN_ERRSZ], **dirs = NULL;
	long long *ids, n;
	int count, ndirs = 0, removed = 0, i, rc;

	if (homes != NULL && strcmp(homes, "delete") != 0 &&
	    strcmp(homes, "keep") != 0)
		return qa_usage(qa, "homes: 'delete' or 'keep'");
	if (homes != NULL && strcmp(homes, "delete") == 0 &&
	    conf_bool("vm.lxc.home.per.user"))
		return qa_fail(qa, "homes=delete: with vm.lxc.home.per.user the "
		    "homes are the users', not the VMs'");
	if ((rc = qa_confirm(qa, "delete")) != 0 ||
	    (rc = qa_ids(qa, &ids, &count)) != 0)
		return rc;
	if (homes != NULL && strcmp(homes, "delete") == 0)
		dirs = homes_of(qa, ids, count, &ndirs);
	err[0] = '\0';
	n = admin_vm_del(qa->db, ids, count, err);
	free(ids);
	for (i = 0; i < ndirs; i++) {
		if (n > 0 && fs_is_dir(dirs[i]) && fs_remove_tree(dirs[i]) == 0)
			removed++;
		else if (n > 0 && fs_is_dir(dirs[i]))
			qa_warn(qa, "cannot remove %s: %s", dirs[i],
			    strerror(errno));
		free(dirs[i]);
	}
	free(dirs);
	if (n > 0 && homes != NULL && strcmp(homes, "delete") == 0)
		str_fmt(err, sizeof(err), "%d home directories removed.",
		    removed);
	return qa_say_count(qa, n, "%lld VMs deleted.", err);
}

int
qa_vm_disconnect(struct qa *qa)
{
	char err[ADMIN_ERRSZ];
	long long *ids, n;
	int count, rc;

	if ((rc = qa_confirm(qa, "disconnect the users of")) != 0 ||
	    (rc = qa_ids(qa, &ids, &count)) != 0)
		return rc;
	n = admin_vm_disconnect(qa->db, ids, count, err);
	free(ids);
	if (n == 0)
		return qa_fail(qa, "no user is connected to the selected VMs");
	return qa_say_count(qa, n, "Disconnected %lld users.", err);
}

int
qa_vm_edit(struct qa *qa)
{
	struct vm_edit e;
	char err[ADMIN_ERRSZ], note[ADMIN_ERRSZ];
	long long *ids, n;
	int count, rc;

	memset(&e, 0, sizeof(e));
	if (qa->nargs == 0)
		return qa_usage(qa, "nothing to change");
	e.name = qa_arg(qa, "name");
	e.di_tag = qa_arg(qa, "di_tag");
	e.ip = qa_arg(qa, "ip");
	if ((qa_arg(qa, "user") || qa_arg(qa, "user_id")) &&
	    (rc = qa_pick(qa, "user_id", "user", "user", &e.user_id)) != 0)
		return rc;
	if ((qa_arg(qa, "osf") || qa_arg(qa, "osf_id")) &&
	    (rc = qa_pick(qa, "osf_id", "osf", "OSF", &e.osf_id)) != 0)
		return rc;
	if ((rc = qa_time_arg(qa, "expire-soft", &e.soft_set, &e.soft)) != 0 ||
	    (rc = qa_time_arg(qa, "expire-hard", &e.hard_set, &e.hard)) != 0 ||
	    (rc = qa_confirm(qa, "edit")) != 0 ||
	    (rc = qa_ids(qa, &ids, &count)) != 0)
		return rc;
	e.warn = note;
	n = admin_vm_edit(qa->db, ids, count, &e, err);
	free(ids);
	if (n >= 0)
		str_copy(err, note, sizeof(err));
	return qa_say_count(qa, n, "Edited %lld VMs.", err);
}

static const struct out_col summary_cols[] = {
	{ "Virtual machines", "vms", COL_INT },
	{ "Running", "running", COL_INT }, { "Blocked", "blocked", COL_INT },
};

static const struct out_col vmc_cols[] = {
	{ "Id", "id", COL_INT }, { "Name", "name", COL_TEXT },
	{ "Run attempts", "run_attempts", COL_INT },
	{ "Run OK", "run_ok", COL_INT },
};

int
qa_vm_counters(struct qa *qa)
{
	int rc;

	if (!qa->json) {
		if ((rc = qa_list(qa, "count(*), count(*) FILTER (WHERE "
		    "r.vm_state = 'running'), count(*) FILTER (WHERE r.blocked)",
		    qa->obj->from_sql, summary_cols, ARRAY_LEN(summary_cols),
		    "1")) != 0)
			return rc;
		putchar('\n');
	}
	return qa_list(qa, "v.id, v.name, c.run_attempts, c.run_ok",
	    "vms v JOIN vm_runtimes r ON r.vm_id = v.id JOIN vm_counters c ON "
	    "c.vm_id = v.id JOIN users u ON u.id = v.user_id JOIN osfs o ON "
	    "o.id = v.osf_id LEFT JOIN hosts h ON h.id = r.host_id", vmc_cols,
	    ARRAY_LEN(vmc_cols), "v.id");
}

/* ---- console, ssh, vnc: exec a tool at the one VM selected ---- */

struct one_vm {
	char	 id[24];
	char	 name[128];
	char	 state[16];
	char	 host[128];
	char	 host_address[128];
	char	 address[128];
	char	 ssh_port[16];
	char	 vnc_port[16];
	char	 serial_port[16];
	long long node_pid;	/* the qvd-node running it */
};

static int
one_running_vm(struct qa *qa, struct one_vm *v)
{
	struct pg_result *res;
	char *sql;
	int n;

	sql = xasprintf("SELECT v.id, v.name, r.vm_state, coalesce(h.name, ''), "
	    "coalesce(h.address, ''), coalesce(r.vm_address, ''), "
	    "coalesce(r.vm_ssh_port, 0), coalesce(r.vm_vnc_port, 0), "
	    "coalesce(r.vm_serial_port, 0), coalesce((SELECT pid FROM "
	    "host_runtimes hr WHERE hr.host_id = r.host_id), 0) FROM %s WHERE "
	    "%s ORDER BY v.id "
	    "LIMIT 2", qa->obj->from_sql, buf_str(&qa->filter.where));
	res = db_queryv(qa->db, sql, qa->filter.nvalues,
	    (const char *const *)qa->filter.values);
	free(sql);
	if (res == NULL)
		return qa_fail(qa, "%s", db_error(qa->db));
	n = db_ntuples(res);
	if (n != 1) {
		db_clear(res);
		return qa_fail(qa, n == 0 ? "the filter matches no VM" :
		    "the filter matches several VMs; choose one (-f id=N)");
	}
	str_copy(v->id, db_val(res, 0, 0), sizeof(v->id));
	str_copy(v->name, db_val(res, 0, 1), sizeof(v->name));
	str_copy(v->state, db_val(res, 0, 2), sizeof(v->state));
	str_copy(v->host, db_val(res, 0, 3), sizeof(v->host));
	str_copy(v->host_address, db_val(res, 0, 4), sizeof(v->host_address));
	str_copy(v->address, db_val(res, 0, 5), sizeof(v->address));
	str_copy(v->ssh_port, db_val(res, 0, 6), sizeof(v->ssh_port));
	str_copy(v->vnc_port, db_val(res, 0, 7), sizeof(v->vnc_port));
	str_copy(v->serial_port, db_val(res, 0, 8), sizeof(v->serial_port));
	v->node_pid = db_int(res, 0, 9);
	db_clear(res);
	if (strcmp(v->state, "running") != 0 && strcmp(v->state, "starting")
	    != 0 && strcmp(v->state, "debugging") != 0)
		return qa_fail(qa, "VM '%s' is not running (it is %s)", v->name,
		    v->state);
	return 0;
}

static int
run(struct qa *qa, char **argv)
{
	fflush(stdout);
	db_close(qa->db);
	qa->db = NULL;
	execvp(argv[0], argv);
	fprintf(stderr, "qa: %s %s: cannot run %s: %s\n", qa->cmd->obj,
	    qa->cmd->cmd, argv[0], strerror(errno));
	exit(QA_ERROR);
}

int
qa_vm_console(struct qa *qa)
{
	struct one_vm v;
	char name[40], *argv[10], err[256];
	const char *node = conf_get("nodename"), *hv = conf_get("vm.hypervisor");
	int rc;

	if ((rc = one_running_vm(qa, &v)) != 0)
		return rc;
	if (hv != NULL && strcmp(hv, "lxc") == 0) {
		if (node != NULL && *v.host && strcmp(node, v.host) != 0)
			return qa_fail(qa, "VM '%s' runs on node '%s'; run this "
			    "command there", v.name, v.host);
		rc = proc_join_netns_of((pid_t)v.node_pid, "qvd-node", err,
		    sizeof(err));
		if (rc == -1)
			return qa_fail(qa, "%s; run qa vm console where node "
			    "'%s' runs", err, v.host);
		if (rc == 1)
			return qa_fail(qa, "VM '%s' runs on node '%s' (%s), not on "
			    "this machine; run qa vm console there", v.name,
			    v.host, v.host_address);
		str_fmt(name, sizeof(name), "qvd-%s", v.id);
		argv[0] = (char *)conf_get("command.lxc-console");
		argv[1] = "-n";
		argv[2] = name;
		argv[3] = "-P";
		argv[4] = (char *)conf_get("path.run.lxc");
		argv[5] = "-t";
		argv[6] = "0";
		argv[7] = NULL;
		return run(qa, argv);
	}
	if (strcmp(v.serial_port, "0") == 0)
		return qa_fail(qa, "VM '%s' has no serial console "
		    "(vm.serial.redirect)", v.name);
	argv[0] = (char *)conf_get("command.telnet");
	argv[1] = v.host_address;
	argv[2] = v.serial_port;
	argv[3] = NULL;
	return run(qa, argv);
}

int
qa_vm_ssh(struct qa *qa)
{
	struct one_vm v;
	char *argv[64];
	const char *opt[2] = { "StrictHostKeyChecking", "UserKnownHostsFile" };
	char optbuf[2][300];
	int rc, n = 0, i;

	if ((rc = one_running_vm(qa, &v)) != 0)
		return rc;
	argv[n++] = (char *)conf_get("command.ssh");
	argv[n++] = v.address;
	argv[n++] = "-p";
	argv[n++] = v.ssh_port;
	for (i = 0; i < 2; i++) {
		char key[64];

		str_fmt(key, sizeof(key), "admin.ssh.opt.%s", opt[i]);
		str_fmt(optbuf[i], sizeof(optbuf[i]), "%s=%s", opt[i],
		    conf_get(key) ? conf_get(key) : "");
		argv[n++] = "-o";
		argv[n++] = optbuf[i];
	}
	for (i = 0; i < qa->nrest && n < 62; i++)
		argv[n++] = qa->rest[i];
	argv[n] = NULL;
	return run(qa, argv);
}

int
qa_vm_vnc(struct qa *qa)
{
	struct one_vm v;
	char target[160], *argv[3];
	const char *hv = conf_get("vm.hypervisor");
	int rc;

	if (hv != NULL && strcmp(hv, "lxc") == 0)
		return qa_fail(qa, "the VNC console is not available with LXC; "
		    "use qa vm console");
	if ((rc = one_running_vm(qa, &v)) != 0)
		return rc;
	if (strcmp(v.vnc_port, "0") == 0)
		return qa_fail(qa, "VM '%s' has no VNC console "
		    "(vm.vnc.redirect)", v.name);
	str_fmt(target, sizeof(target), "%s::%s", *v.host_address ?
	    v.host_address : v.address, v.vnc_port);
	argv[0] = (char *)conf_get("command.vncviewer");
	argv[1] = target;
	argv[2] = NULL;
	return run(qa, argv);
}
