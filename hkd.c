/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hkd.c -- qvd-node's house keeping daemon: startup checks, heartbeat,
 * lost nodes, commands by NOTIFY, expirations, and the poll() loop. */

#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

#define TICK_MS		200
#define FENCE_MARGIN_S	5	/* between the lease's end and "lost" */

static struct node node;

struct timer {
	const char	*key;		/* its interval, in seconds */
	long long	 dflt;
	long long	 next;		/* mono_ms() */
};

enum { T_HEARTBEAT, T_CLUSTER, T_VMCMD, T_HOSTCMD, T_EXPIRE, T_L7RKILL,
	T_COUNT };

static struct timer timers[T_COUNT] = {
	{ "internal.hkd.agent.ticker.delay", 5, 0 },
	{ "internal.hkd.agent.cluster_monitor.delay", 10, 0 },
	{ "internal.hkd.agent.vm_command_handler.delay", 61, 0 },
	{ "internal.hkd.agent.command_handler.delay", 60, 0 },
	{ "internal.hkd.agent.expiration_monitor.delay", 3600, 0 },
	{ "internal.hkd.agent.l7rkiller.delay", 61, 0 },
};

static void NORETURN
usage(void)
{
	fprintf(stderr, "usage: qvd-node [-fn] [-c file]\n");
	exit(2);
}


static int
due(int t)
{
	long long now = mono_ms();

	if (now < timers[t].next)
		return 0;
	timers[t].next = now + conf_int(timers[t].key, timers[t].dflt) * 1000;
	return 1;
}

/* Intervals may have changed: everything runs once more now. */
static void
reset_timers(void)
{
	int t;

	for (t = 0; t < T_COUNT; t++)
		timers[t].next = 0;
}

static const char *
id_str(char buf[24])
{
	return db_fmt_int(buf, node.host_id);
}

static int
set_host_state(const char *state)
{
	char h[24], pid[24];

	log_info("node %s: %s", node.name, state);
	l7r_publish(state, node.blocked);
	return db_exec(node.db, "UPDATE host_runtimes SET state = $2, pid = $3, "
	    "ok_ts = localtimestamp WHERE host_id = $1", 3, id_str(h), state,
	    db_fmt_int(pid, getpid()));
}

/* ---- startup checks ---- */

static int
check_fail(const char *fmt, const char *a, const char *b)
{
	char msg[1024];

	str_fmt(msg, sizeof(msg), fmt, a, b);
	fprintf(stderr, "qvd-node: %s\n", msg);
	log_fatal("%s", msg);
	return -1;
}

static int
check_storage(void)
{
	static const char *dirs[] = { "path.storage.images",
	    "path.storage.basefs", "path.storage.overlayfs",
	    "path.storage.rootfs", "path.storage.homefs",
	    "path.storage.staging", NULL };
	const char *root = conf_get("path.storage.root");
	char probe[4200];
	int i, fd;

	if (access(root, W_OK) == -1)
		return check_fail("the storage %s is missing or not writable "
		    "(path.storage.root): %s", root, strerror(errno));
	for (i = 0; dirs[i] != NULL; i++)
		if (mkdir(conf_get(dirs[i]), 0755) == -1 && errno != EEXIST)
			return check_fail("cannot create %s: %s",
			    conf_get(dirs[i]), strerror(errno));
	for (i = 0; dirs[i] != NULL; i++) {
		str_fmt(probe, sizeof(probe), "%s/.qvd-rw-check",
		    conf_get(dirs[i]));
		if ((fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0600)) ==
		    -1)
			return check_fail("%s is not writable: %s",
			    conf_get(dirs[i]), strerror(errno));
		close(fd);
		unlink(probe);
	}
	mkdir(conf_get("path.run"), 0755);
	mkdir(conf_get("path.run.lxc"), 0755);
	return 0;
}

static int
load_host(void)
{
	struct pg_result *res;
	const char *name = conf_get("nodename");

	if (name == NULL || *name == '\0')
		return check_fail("nodename is not set in %s%s", "node.conf",
		    "");
	str_copy(node.name, name, sizeof(node.name));
	res = db_query(node.db, "SELECT h.id, h.address, r.blocked FROM hosts h "
	    "JOIN host_runtimes r ON r.host_id = h.id WHERE h.name = $1", 1,
	    name);
	if (res == NULL)
		return check_fail("%s%s", db_error(node.db), "");
	if (db_ntuples(res) == 0) {
		db_clear(res);
		return check_fail("node '%s' is not registered in the database "
		    "(qa host add name=%s address=...)", name, name);
	}
	node.host_id = db_int(res, 0, 0);
	str_copy(node.address, db_val(res, 0, 1), sizeof(node.address));
	node.blocked = strcmp(db_val(res, 0, 2), "t") == 0;
	db_clear(res);
	return 0;
}

static int
check_schema(void)
{
	struct pg_result *res;
	int ok;

	if ((ok = db_schema_present(node.db)) != 1)
		return check_fail("%s%s", ok == 0 ? "the database has no QVD "
		    "schema (run qvd-deploy-db)" : "cannot read the database: ",
		    ok == 0 ? "" : db_error(node.db));
	res = db_query(node.db, "SELECT version FROM versions WHERE component = "
	    "'schema'", 0);
	ok = res != NULL && db_ntuples(res) == 1 &&
	    strcmp(db_val(res, 0, 0), QVD_SCHEMA_VERSION) == 0;
	if (!ok)
		check_fail("the database schema is not version %s (%s)",
		    QVD_SCHEMA_VERSION, res && db_ntuples(res) ? db_val(res, 0,
		    0) : "none");
	db_clear(res);
	return ok ? 0 : -1;
}

static int
check_hypervisor(void)
{
	const char *hv = conf_get("vm.hypervisor");
	char err[512];

	if (strcmp(hv, "lxc") == 0) {
		node.hv = &hv_lxc;
		return 0;
	}
	if (strcmp(hv, "kvm") == 0) {
		node.hv = &hv_kvm;
		if (kvm_init(node.address, err, sizeof(err)) == -1)
			return check_fail("%s%s", err, "");
		return 0;
	}
	return check_fail("vm.hypervisor = %s is not supported by this node; "
	    "set vm.hypervisor = kvm or lxc%s", hv, "");
}

static int
check_network(struct ipnet *n)
{
	char err[512];

	if (ipnet_from_conf(n, err, sizeof(err)) == -1)
		return check_fail("%s%s", err, "");
	return 0;
}

/*
 * The lease must end well before the others may call this node lost, or
 * a VM could run here and, started again, on another node.
 */
static int
check_cluster_timing(void)
{
	long long lease = conf_int("internal.hkd.cluster.node.lease", 20);
	long long lost = conf_int("internal.hkd.cluster.node.timeout", 25);
	char a[24], b[48];

	if (lease == 0 || lease + FENCE_MARGIN_S <= lost)
		return 0;
	str_fmt(a, sizeof(a), "%lld", lease);
	str_fmt(b, sizeof(b), "%lld s; keep %d s between them", lost,
	    FENCE_MARGIN_S);
	return check_fail("internal.hkd.cluster.node.lease (%s s) must be "
	    "shorter than internal.hkd.cluster.node.timeout (%s)", a, b);
}

/* Everything -n checks; the database is open and its config loaded. */
static int
startup_checks(struct ipnet *net)
{
	char err[512];

	if ((node.db = db_open(err, sizeof(err))) == NULL)
		return check_fail("%s%s", err, "");
	if (check_schema() == -1)
		return -1;
	if (db_load_config(node.db) == -1)
		return check_fail("cannot read the configs table: %s",
		    db_error(node.db), "");
	if (load_host() == -1 || check_hypervisor() == -1 ||
	    check_network(net) == -1 || check_storage() == -1 ||
	    check_cluster_timing() == -1)
		return -1;
	return 0;
}

/* ---- database duties ---- */

static void
listen_all(void)
{
	char ch[64], h[24];

	id_str(h);
	str_fmt(ch, sizeof(ch), "qvd_cmd_for_vm_on_host%s", h);
	db_listen(node.db, ch);
	str_fmt(ch, sizeof(ch), "qvd_cmd_for_host%s", h);
	db_listen(node.db, ch);
	str_fmt(ch, sizeof(ch), "qvd_cmd_for_user_on_host%s", h);
	db_listen(node.db, ch);
	db_listen(node.db, "qvd_config_changed");
	db_listen(node.db, "qvd_expiration_changed");
	db_listen(node.db, "qvd_di_deleted");
}

/* Heartbeat: alive, and what we have free for the load balancer. */
static void
heartbeat(void)
{
	struct pg_result *res;
	char h[24], pid[24], ram[32], cpu[32];
	long long sent = mono_ms();

	str_fmt(ram, sizeof(ram), "%.1f", hostload_free_ram_mb());
	str_fmt(cpu, sizeof(cpu), "%.1f", hostload_idle_cpu());
	res = db_query(node.db, "UPDATE host_runtimes SET ok_ts = localtimestamp, "
	    "pid = $2, usable_ram = $3, usable_cpu = $4, state = CASE WHEN "
	    "state = 'lost' THEN $5 ELSE state END WHERE host_id = $1 RETURNING "
	    "blocked", 5, id_str(h), db_fmt_int(pid, getpid()), ram, cpu,
	    node.stopping ? "stopping" : "running");
	if (res != NULL && db_ntuples(res) == 1) {
		int b = strcmp(db_val(res, 0, 0), "t") == 0;

		if (fence_left_ms() == 0)
			log_warn("node %s: the database is back; the VMs killed "
			    "when the lease ran out are cleaned up", node.name);
		fence_renew(sent);
		node.fence_said = 0;
		if (b != node.blocked) {
			log_info("node %s: %s", node.name, b ? "blocked" :
			    "unblocked");
			node.recheck = !b;	/* pending starts may go now */
		}
		node.blocked = b;
		l7r_publish(node.stopping ? "stopping" : "running", b);
	}
	db_clear(res);
	l7r_flush_counters(&node);
}

/*
 * VMs we run whose rows no longer name us (another node found us lost
 * and released them): stop them without touching their rows.
 */
static void
reconcile(void)
{
	struct pg_result *res;
	struct vm *v, *next;
	char h[24];
	int i, found;

	res = db_query(node.db, "SELECT vm_id FROM vm_runtimes WHERE host_id = "
	    "$1", 1, id_str(h));
	if (res == NULL)
		return;
	for (v = vmh_list(); v != NULL; v = next) {
		next = v->next;
		if (v->no_db)
			continue;
		for (found = 0, i = 0; i < db_ntuples(res) && !found; i++)
			found = db_int(res, i, 0) == v->info.id;
		if (!found) {
			log_warn("vm %lld: the database gave it away; stopping "
			    "it here", v->info.id);
			v->no_db = 1;
			vmh_stop(&node, v->info.id);
		}
	}
	db_clear(res);
}

/* Nodes silent too long are lost; their VMs and sessions are released. */
static void
cluster_monitor(void)
{
	struct pg_result *res;
	struct buf lost = { NULL, 0, 0, 0 };
	char h[24], t[24];
	long long timeout = conf_int("internal.hkd.cluster.node.timeout", 25);
	int i;

	/*
	 * Just (re)connected, maybe to a new primary after a failover: the
	 * others get a whole timeout to reach it too before being judged.
	 */
	if (mono_ms() - node.db->connected_ms < timeout * 1000)
		return;
	res = db_query(node.db, "UPDATE host_runtimes SET state = 'lost' WHERE "
	    "host_id <> $1 AND state IN ('starting', 'running', 'stopping') AND "
	    "(ok_ts IS NULL OR ok_ts < localtimestamp - make_interval(secs => "
	    "$2::int)) RETURNING host_id", 2, id_str(h), db_fmt_int(t,
	    timeout));
	if (res == NULL || db_ntuples(res) == 0) {
		db_clear(res);
		return;
	}
	buf_adds(&lost, "{");
	for (i = 0; i < db_ntuples(res); i++) {
		log_warn("node %s: silent for too long; marked lost and its VMs "
		    "released", db_val(res, i, 0));
		buf_printf(&lost, "%s%s", i ? "," : "", db_val(res, i, 0));
	}
	buf_adds(&lost, "}");
	db_clear(res);
	db_exec(node.db, "UPDATE vm_runtimes SET vm_state = 'stopped', "
	    "vm_state_ts = extract(epoch from now())::int, host_id = NULL, "
	    "vm_cmd = NULL, vm_pid = NULL, vm_address = NULL, vm_vma_port = NULL, "
	    "vm_x_port = NULL, vm_ssh_port = NULL, vm_vnc_port = NULL, "
	    "vm_mon_port = NULL, vm_serial_port = NULL, current_di_id = NULL, "
	    "current_osf_id = NULL, vma_ok_ts = NULL, vm_expiration_soft = NULL, "
	    "vm_expiration_hard = NULL WHERE host_id = ANY($1::int[])", 1,
	    buf_str(&lost));
	db_exec(node.db, "UPDATE vm_runtimes SET user_state = 'disconnected', "
	    "user_state_ts = extract(epoch from now())::int, user_cmd = NULL, "
	    "l7r_host_id = NULL, l7r_pid = NULL WHERE l7r_host_id = "
	    "ANY($1::int[])", 1, buf_str(&lost));
	buf_free(&lost);
}

/* The VMs with a handler here, as an int[] literal for a parameter. */
static void
handled_ids(struct buf *b)
{
	struct vm *v;

	buf_adds(b, "{");
	for (v = vmh_list(); v != NULL; v = v->next)
		buf_printf(b, "%s%lld", b->len > 1 ? "," : "", v->info.id);
	buf_adds(b, "}");
}

/* Start and stop commands addressed to this node. */
static void
vm_commands(void)
{
	struct pg_result *res;
	struct buf busy = { NULL, 0, 0, 0 };
	char h[24], ts[24];
	int i;

	id_str(h);
	res = db_query(node.db, "UPDATE vm_runtimes SET vm_cmd = NULL WHERE "
	    "host_id = $1 AND vm_cmd = 'stop' RETURNING vm_id", 1, h);
	for (i = 0; res != NULL && i < db_ntuples(res); i++)
		vmh_stop(&node, db_int(res, i, 0));
	db_clear(res);
	if (node.stopping || node.blocked)
		return;		/* a blocked node starts nothing new */
	/*
	 * Not a VM whose last run here is still being cleaned up (a stray
	 * container of a VM started again here): its start waits for that.
	 */
	handled_ids(&busy);
	res = db_query(node.db, "UPDATE vm_runtimes SET vm_cmd = NULL, vm_state "
	    "= 'starting', vm_state_ts = $2 WHERE host_id = $1 AND vm_cmd = "
	    "'start' AND vm_state = 'stopped' AND vm_id <> ALL($3::int[]) "
	    "RETURNING vm_id", 3, h, db_fmt_int(ts, wall_ms() / 1000),
	    buf_str(&busy));
	buf_free(&busy);
	for (i = 0; res != NULL && i < db_ntuples(res); i++) {
		log_info("vm %lld: stopped -> starting", db_int(res, i, 0));
		vmh_start(&node, db_int(res, i, 0));
	}
	db_clear(res);
}

static void
host_commands(void)
{
	struct pg_result *res;
	char h[24];

	res = db_query(node.db, "UPDATE host_runtimes SET cmd = NULL WHERE "
	    "host_id = $1 AND cmd = 'stop' RETURNING host_id", 1, id_str(h));
	if (res != NULL && db_ntuples(res) > 0 && !node.stopping) {
		log_info("node %s: stop command received", node.name);
		node.stopping = 1;
	}
	db_clear(res);
}

/*
 * The soft limits already told to each VMA: a limit is told once, not
 * again at every check or configuration change (a new limit is new).
 */
static struct told {
	long long	 vm_id;
	char		 soft[24];
} *told;
static int ntold;

static int
told_before(long long vm_id, const char *soft)
{
	int i;

	for (i = 0; i < ntold; i++)
		if (told[i].vm_id == vm_id)
			return strcmp(told[i].soft, soft) == 0;
	return 0;
}

static void
remember_told(long long vm_id, const char *soft)
{
	int i;

	for (i = 0; i < ntold && told[i].vm_id != vm_id; i++)
		;
	if (i == ntold)
		told = xreallocarray(told, (size_t)++ntold, sizeof(*told));
	told[i].vm_id = vm_id;
	str_copy(told[i].soft, soft, sizeof(told[i].soft));
}

/* The next check comes when the earliest coming limit is reached. */
static void
schedule_expirations(void)
{
	struct pg_result *res;
	char h[24];
	long long ms, at;

	res = db_query(node.db, "SELECT ceil(extract(epoch FROM min(t) - "
	    "localtimestamp) * 1000)::bigint FROM (SELECT vm_expiration_soft "
	    "AS t FROM vm_runtimes WHERE host_id = $1 AND vm_state = 'running' "
	    "UNION ALL SELECT vm_expiration_hard FROM vm_runtimes WHERE "
	    "host_id = $1 AND vm_state = 'running') e WHERE t > localtimestamp",
	    1, id_str(h));
	if (res != NULL && db_ntuples(res) == 1 && !db_isnull(res, 0, 0)) {
		ms = db_int(res, 0, 0);
		at = mono_ms() + (ms < 0 ? 0 : ms) + 50;
		if (at < timers[T_EXPIRE].next)
			timers[T_EXPIRE].next = at;
	}
	db_clear(res);
}

/* Soft limits call the VMA's expire hook; hard limits restart the VM. */
static void
expirations(void)
{
	struct pg_result *res;
	char h[24], q[256], s[64], hd[64];
	long long id;
	int i;

	res = db_query(node.db, "SELECT vm_id, vm_expiration_hard < "
	    "localtimestamp, to_char(vm_expiration_soft, 'YYYY-MM-DD "
	    "HH24:MI:SS'), to_char(vm_expiration_hard, 'YYYY-MM-DD HH24:MI:SS') "
	    "FROM vm_runtimes WHERE host_id = $1 AND vm_state = 'running' AND "
	    "(vm_expiration_soft < localtimestamp OR vm_expiration_hard < "
	    "localtimestamp)", 1, id_str(h));
	for (i = 0; res != NULL && i < db_ntuples(res); i++) {
		if (strcmp(db_val(res, i, 1), "t") == 0) {
			log_info("vm %s: hard expiration reached; restarting it",
			    db_val(res, i, 0));
			vmh_restart(&node, db_int(res, i, 0));
			continue;
		}
		id = db_int(res, i, 0);
		if (told_before(id, db_val(res, i, 2)))
			continue;
		http_url_encode(db_val(res, i, 2), s, sizeof(s));
		http_url_encode(db_val(res, i, 3), hd, sizeof(hd));
		str_fmt(q, sizeof(q), "vm.expiration.soft=%s&vm.expiration.hard="
		    "%s", s, hd);
		log_info("vm %lld: soft expiration reached; telling its VMA",
		    id);
		if (vmh_rpc(id, "expire", q) == 0)
			remember_told(id, db_val(res, i, 2));
	}
	db_clear(res);
	schedule_expirations();
}

/* What this node unpacked of disk images deleted since goes too. */
static void
sweep_images(void)
{
	struct pg_result *res;
	char **keep;
	int i, n;

	node.sweep_images = 0;
	if (node.hv->forget_images == NULL ||
	    (res = db_query(node.db, "SELECT path FROM dis", 0)) == NULL)
		return;
	n = db_ntuples(res);
	keep = xcalloc((size_t)n + 1, sizeof(*keep));
	for (i = 0; i < n; i++)
		keep[i] = (char *)db_val(res, i, 0);
	node.hv->forget_images(keep, (size_t)n);
	free(keep);
	db_clear(res);
}

/* ---- startup: what was left running before we (re)started ---- */

/* A container no row accounts for. */
static void
reap_if_stray(long long id)
{
	if (vmh_find(id) == NULL)
		vmh_reap_stray(&node, id);
}

static void
adopt_or_clean(void)
{
	struct pg_result *res;
	char h[24];
	long long id;
	int i;

	res = db_query(node.db, "SELECT vm_id, vm_state FROM vm_runtimes WHERE "
	    "host_id = $1 AND vm_state <> 'stopped'", 1, id_str(h));
	for (i = 0; res != NULL && i < db_ntuples(res); i++) {
		id = db_int(res, i, 0);
		vmh_adopt(&node, id, db_val(res, i, 1), node.hv->running(id));
	}
	db_clear(res);
	node.hv->each(reap_if_stray);
}

/* ---- fencing: the lease ran out ---- */

static void
kill_container(long long id)
{
	pid_t pid = node.hv->running(id);

	if (pid > 0 && kill(pid, SIGKILL) == 0)
		log_warn("vm %lld: killed (pid %d): the lease ran out",
		    id, (int)pid);
}

/*
 * Cut off from the database for longer than the lease: the fence keeper
 * has killed the VMs we knew of; once a second, anything else of ours
 * that runs (a start that ended meanwhile) is killed too.
 */
static void
fenced(void)
{
	static long long next_sweep;

	if (fence_left_ms() != 0)
		return;
	if (!node.fence_said) {
		node.fence_said = 1;
		log_error("node %s: no heartbeat for %lld s: its VMs were "
		    "killed, so that no other node runs them twice (fenced)",
		    node.name, conf_int("internal.hkd.cluster.node.lease", 20));
	}
	if (mono_ms() < next_sweep)
		return;
	next_sweep = mono_ms() + 1000;
	node.hv->each(kill_container);
}

/* ---- the loop ---- */

static void
notifications(void)
{
	char ch[64];

	while (db_wait_notify(node.db, 0, ch, sizeof(ch)) == 1) {
		log_debug("NOTIFY %s", ch);
		if (strcmp(ch, "qvd_config_changed") == 0) {
			char err[256];

			db_load_config(node.db);
			reset_timers();
			if (l7r_reload(&node, err, sizeof(err)) == -1)
				log_error("L7R: certificate not reloaded: %s",
				    err);
			log_info("configuration reloaded");
		} else if (str_has_prefix(ch, "qvd_cmd_for_vm_on_host"))
			timers[T_VMCMD].next = 0;
		else if (str_has_prefix(ch, "qvd_cmd_for_host"))
			timers[T_HOSTCMD].next = 0;
		else if (str_has_prefix(ch, "qvd_cmd_for_user_on_host"))
			timers[T_L7RKILL].next = 0;
		else if (strcmp(ch, "qvd_expiration_changed") == 0)
			timers[T_EXPIRE].next = 0;
		else if (strcmp(ch, "qvd_di_deleted") == 0)
			node.sweep_images = 1;
	}
}

static void
reload(const char *cfile)
{
	struct conf_errors errs;
	char err[256];

	memset(&errs, 0, sizeof(errs));
	conf_clear_layer(CONF_FILE);
	if (conf_load_file(cfile, CONF_FILE, &errs) == -1) {
		log_error("%s: not reloaded: %s", cfile, errs.msg[0]);
		return;
	}
	db_load_config(node.db);
	reset_timers();
	if (l7r_reload(&node, err, sizeof(err)) == -1)
		log_error("L7R: certificate not reloaded: %s", err);
	log_info("configuration reloaded (SIGHUP)");
}

static int
handle_signals(const char *cfile)
{
	int sig;

	while ((sig = sig_pipe_next()) != 0) {
		if (sig == SIGTERM || sig == SIGINT) {
			if (!node.stopping)
				log_info("node %s: stopping (signal %d)",
				    node.name, sig);
			node.stopping = 1;
		} else if (sig == SIGHUP)
			reload(cfile);
	}
	return 0;
}

static void
loop(const char *cfile)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, 0 };
	struct pollfd *pfd = NULL;
	int was_stopping = 0, nvm, sig_fd = sig_pipe_init(sigs);
	unsigned listened = node.db->generation;	/* main() listened */

	for (;;) {
		pfd = xreallocarray(pfd, (size_t)vmh_count() + 3, sizeof(*pfd));
		pfd[0].fd = sig_fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = node.l7r_fd != -1 ? node.l7r_notify[0] : -1;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		pfd[2].fd = db_socket(node.db);
		pfd[2].events = POLLIN;
		nvm = vmh_pollfds(pfd + 3, vmh_count());
		poll(pfd, 3 + (nfds_t)nvm, job_next_timeout(TICK_MS));
		vmh_pollfds_done(pfd + 3, nvm);
		handle_signals(cfile);
		l7r_reap(&node);
		fenced();
		if (db_ensure(node.db) == -1)
			continue;	/* nothing acts without the database */
		if (node.db->generation != listened) {
			listened = node.db->generation;
			listen_all();	/* a new session, maybe a new primary */
		}
		notifications();
		if (node.stopping && !was_stopping) {
			was_stopping = 1;
			set_host_state("stopping");
			l7r_close(&node);
			vmh_stop_all(&node);
		}
		if (due(T_HEARTBEAT)) {
			heartbeat();
			reconcile();
		}
		if (due(T_CLUSTER))
			cluster_monitor();
		if (due(T_HOSTCMD))
			host_commands();
		/* without a lease, start nothing */
		if ((node.recheck || due(T_VMCMD)) && fence_left_ms() != 0) {
			node.recheck = 0;
			vm_commands();
		}
		if (due(T_EXPIRE))
			expirations();
		if (due(T_L7RKILL))
			l7r_kill_aborted(&node);
		if (node.sweep_images)
			sweep_images();
		job_poll();
		vmh_tick(&node);
		dhcp_sync(vmh_list());
		if (node.stopping && vmh_empty())
			break;
	}
	free(pfd);
	dhcp_stop();
}

/*
 * -B N (for make bench): the database work of N loop iterations, timed,
 * with every duty due each time; nothing is started.
 */
static int
bench_loops(long long n)
{
	long long i, t0, q0;

	t0 = mono_ms();
	q0 = node.db->nqueries;
	node.blocked = 1;	/* pick up stops only: start nothing */
	for (i = 0; i < n; i++) {
		heartbeat();
		reconcile();
		cluster_monitor();
		host_commands();
		vm_commands();
		expirations();
	}
	printf("%lld loops: %.2f ms and %.1f statements per loop\n", n,
	    (double)(mono_ms() - t0) / (double)n,
	    (double)(node.db->nqueries - q0) / (double)n);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *cfile = NULL;
	char err[512];
	struct ipnet net;
	int ch, foreground = 0, check = 0, lock, created;
	long long bench = 0;
	const char *why;

	while ((ch = getopt(argc, argv, "B:c:fn")) != -1) {
		switch (ch) {
		case 'B':
			if (num_parse(optarg, 1, 1000000, &bench, &why) == -1)
				usage();
			break;
		case 'c':
			cfile = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	cfile = conf_load_checked("qvd-node", "/etc/qvd/node.conf", cfile);
	log_open_from_conf("qvd-node", "log.filename", foreground || check);
	if (startup_checks(&net) == -1)
		return 1;
	if (check) {
		printf("qvd-node: %s: configuration OK (node %s, host id %lld)\n",
		    cfile, node.name, node.host_id);
		return 0;
	}
	if (bench)
		return bench_loops(bench);
	if ((lock = open(conf_get("internal.hkd.lock.path"), O_RDWR | O_CREAT |
	    O_CLOEXEC, 0600)) == -1 || flock(lock, LOCK_EX | LOCK_NB) == -1) {
		fprintf(stderr, "qvd-node: another qvd-node runs on this node "
		    "(%s is locked)\n", conf_get("internal.hkd.lock.path"));
		return 1;
	}
	if (net_ensure_bridge(&net, NULL, &created, err, sizeof(err)) == -1) {
		fprintf(stderr, "qvd-node: %s\n", err);
		log_fatal("%s", err);
		return 1;
	}
	log_info("bridge %s %s", conf_get("vm.network.bridge"), created ?
	    "created" : "found (left as it is)");
	if (!foreground) {
		db_close(node.db);	/* no socket shared across the fork */
		if (daemon_detach(err, sizeof(err)) == -1 ||
		    (node.db = db_open(err, sizeof(err))) == NULL) {
			log_fatal("%s", err);
			return 1;
		}
		db_load_config(node.db);
	}
	if (daemon_pidfile(conf_get("hkd.pid_file"), err, sizeof(err)) == -1) {
		fprintf(stderr, "qvd-node: %s\n", err);
		log_fatal("%s", err);
		return 1;
	}
	node.l7r_fd = -1;
	if (l7r_open(&node, err, sizeof(err)) == -1) {
		fprintf(stderr, "qvd-node: L7R: %s\n", err);
		log_fatal("L7R: %s", err);
		return 1;
	}
	set_host_state("starting");
	listen_all();
	if (fence_init(conf_int("internal.hkd.cluster.node.lease", 20), err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "qvd-node: %s\n", err);
		log_fatal("%s", err);
		return 1;
	}
	adopt_or_clean();
	node.sweep_images = 1;
	set_host_state("running");
	heartbeat();
	log_info("qvd-node %s: node %s (id %lld) running, hypervisor %s",
	    QVD_VERSION, node.name, node.host_id, node.hv->name);
	loop(cfile);
	fence_end();	/* every VM is stopped */
	set_host_state("stopped");
	daemon_pidfile_remove();
	db_close(node.db);
	log_info("qvd-node stopped");
	return 0;
}
