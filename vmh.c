/* SPDX-License-Identifier: GPL-3.0-or-later */
/* vmh.c -- one state machine per VM on this node (manual 1.2.2):
 * starting -> running -> stopping -> (zombie) -> stopped, each step a
 * job, each change of vm_state one guarded UPDATE. */

#include <sys/syscall.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

static const char *phase_names[] = {
	"queued", "setup", "waiting_for_vma", "running", "shutdown", "stop",
	"kill", "cleanup", "done"
};

/* What vm_runtimes.vm_state shows in each phase. */
static const char *phase_db_state[] = {
	"starting", "starting", "starting", "running", "stopping", "stopping",
	"zombie", NULL, "stopped"
};

static struct vm *vms;

static void step(struct node *, struct vm *);

struct vm *
vmh_find(long long id)
{
	struct vm *v;

	for (v = vms; v != NULL; v = v->next)
		if (v->info.id == id)
			return v;
	return NULL;
}

struct vm *
vmh_list(void)
{
	return vms;
}

int
vmh_count(void)
{
	struct vm *v;
	int n = 0;

	for (v = vms; v != NULL; v = v->next)
		n++;
	return n;
}

static int
starting_count(void)
{
	struct vm *v;
	int n = 0;

	for (v = vms; v != NULL; v = v->next)
		n += v->phase == VMP_SETUP || v->phase == VMP_WAIT_VMA;
	return n;
}

static long long
secs(const char *key, long long dflt)
{
	return conf_int(key, dflt);
}

/*
 * internal.hkd.<hv>.timeout.on_state.<what>, upstream's per-hypervisor
 * keys; a what ending in "waiting_for_" ends with the hypervisor too.
 */
static long long
hv_secs(const struct vm *v, const char *what, long long dflt)
{
	char key[200];
	size_t n = strlen(what);

	str_fmt(key, sizeof(key), "internal.hkd.%s.timeout.on_state.%s%s",
	    v->hv->name, what, n > 0 && what[n - 1] == '_' ? v->hv->name : "");
	return conf_int(key, dflt);
}

/* A guarded change of vm_state; 0 rows means the VM is not ours now. */
static int
db_state(struct node *n, struct vm *v, const char *to)
{
	char id[24], host[24], ts[24];
	long long rows;

	if (v->no_db || strcmp(v->db_state, to) == 0)
		return 0;
	rows = db_exec_count(n->db, "UPDATE vm_runtimes SET vm_state = $4, "
	    "vm_state_ts = $5 WHERE vm_id = $1 AND host_id = $2 AND vm_state "
	    "= $3", 5, db_fmt_int(id, v->info.id), db_fmt_int(host, n->host_id),
	    v->db_state, to, db_fmt_int(ts, wall_ms() / 1000));
	if (rows == 1) {
		log_info("vm %lld: %s -> %s", v->info.id, v->db_state, to);
		str_copy(v->db_state, to, sizeof(v->db_state));
		return 0;
	}
	if (rows == 0) {
		log_warn("vm %lld: no longer ours in the database; stopping it "
		    "without touching its row", v->info.id);
		v->no_db = 1;
	}
	return -1;
}

static void
enter(struct node *n, struct vm *v, enum vm_phase p)
{
	log_debug("vm %lld: phase %s -> %s", v->info.id, phase_names[v->phase],
	    phase_names[p]);
	v->phase = p;
	v->since = mono_ms();
	if (phase_db_state[p] != NULL && p != VMP_DONE)
		db_state(n, v, phase_db_state[p]);
	step(n, v);
}

/* ---- jobs (these functions run in forked workers) ---- */

static int
job_hv_start(void *arg, char *out, size_t outsz)
{
	struct vm *v = arg;

	return v->hv->start(&v->info, out, outsz);
}

static int
job_wait_vma(void *arg, char *out, size_t outsz)
{
	struct vm *v = arg;
	long long deadline = mono_ms() + v->wait_ms;
	int port = (int)conf_int("internal.vm.port.vma", 3030), tries = 0;

	for (;;) {
		tries++;
		if (vma_call(v->info.ip, port, "ping", NULL, 1000, out, outsz)
		    == 0)
			return 0;
		if (v->pid > 0 && !v->hv->alive(&v->info, v->pid)) {
			str_copy(out, "the VM stopped before its VMA "
			    "answered", outsz);
			return -1;
		}
		if (mono_ms() > deadline) {
			char why[JOB_OUT_MAX];

			str_fmt(why, sizeof(why), "the VMA at %s:%d did not "
			    "answer in %lld s (%d tries; last: %s)", v->info.ip,
			    port, v->wait_ms / 1000, tries, out);
			str_copy(out, why, outsz);
			return -1;
		}
		sleep_ms(tries < 50 ? 20 : 250);
	}
}

static int
job_rpc(void *arg, char *out, size_t outsz)
{
	struct vm *v = arg;

	return vma_call(v->info.ip, (int)conf_int("internal.vm.port.vma", 3030),
	    v->rpc_method, *v->rpc_query ? v->rpc_query : NULL,
	    (int)secs("internal.hkd.agent.rpc.timeout", 3) * 1000, out, outsz);
}

static int
job_hv_stop(void *arg, char *out, size_t outsz)
{
	struct vm *v = arg;

	return v->hv->stop(&v->info, (int)hv_secs(v, "stopping.stop."
	    "waiting_for_", 120), out, outsz);
}

static int
job_hv_kill(void *arg, char *out, size_t outsz)
{
	struct vm *v = arg;

	return v->hv->kill(&v->info, out, outsz);
}

static int
job_hv_cleanup(void *arg, char *out, size_t outsz)
{
	struct vm *v = arg;

	return v->hv->cleanup(&v->info, v->failure[0] != '\0', out, outsz);
}

/* ---- what happens when a job ends (back in the loop) ---- */

static struct node *the_node;

static void
fail_start(struct node *n, struct vm *v, const char *why)
{
	if (v->failure[0] == '\0')
		str_copy(v->failure, why, sizeof(v->failure));
	log_error("vm %lld: cannot start: %s", v->info.id, why);
	enter(n, v, VMP_KILL);
}

/* Its pid, watched (a pidfd: its end wakes the loop at once). */
static void
watch_pid(struct vm *v, pid_t pid)
{
	v->pid = pid;
	if (v->pidfd >= 0)
		close(v->pidfd);
	v->pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	fence_track(pid);
}

/* "PID [SERIAL_PORT [VNC_PORT]]" from the hypervisor's start. */
static int
parse_started(const char *out, long long *pid, long long *serial,
    long long *vnc)
{
	char buf[128], *f[3], *tok, *save = NULL;
	const char *why;
	int n = 0;

	*serial = *vnc = 0;
	str_copy(buf, out, sizeof(buf));
	for (tok = strtok_r(buf, " ", &save); tok != NULL && n < 3;
	    tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (n < 1 || num_parse(f[0], 2, 1 << 22, pid, &why) == -1)
		return -1;
	if ((n > 1 && num_parse(f[1], 0, 65535, serial, &why) == -1) ||
	    (n > 2 && num_parse(f[2], 0, 65535, vnc, &why) == -1))
		return -1;
	return 0;
}

static void
started(struct job *j, int ok, const char *out)
{
	struct vm *v = j->ctx;
	struct node *n = the_node;
	char id[24], pid[24], serial[24], vnc[24];
	long long p, sp, vp;

	if (!ok || parse_started(out, &p, &sp, &vp) == -1) {
		fail_start(n, v, ok ? "no pid from the hypervisor" : out);
		return;
	}
	watch_pid(v, (pid_t)p);
	db_exec(n->db, "UPDATE vm_runtimes SET vm_pid = $2, vm_serial_port = "
	    "$3, vm_vnc_port = $4 WHERE vm_id = $1", 4, db_fmt_int(id,
	    v->info.id), db_fmt_int(pid, p), sp ? db_fmt_int(serial, sp) : NULL,
	    vp ? db_fmt_int(vnc, vp) : NULL);
	if (v->stop_asked) {
		enter(n, v, VMP_STOP);
		return;
	}
	enter(n, v, VMP_WAIT_VMA);
}

static void
vma_up(struct job *j, int ok, const char *out)
{
	struct vm *v = j->ctx;
	struct node *n = the_node;
	char id[24];

	if (!ok) {
		if (v->adopted) {	/* a survivor that is not healthy */
			log_warn("vm %lld: found running but its VMA does not "
			    "answer (%s); stopping it", v->info.id, out);
			enter(n, v, VMP_KILL);
			return;
		}
		fail_start(n, v, out);
		return;
	}
	v->last_ok = mono_ms();
	v->next_ping = v->last_ok + secs(
	    "internal.hkd.vmhandler.vma_monitor.delay.after.ok", 120) * 1000;
	if (!v->adopted)
		db_exec(n->db, "UPDATE vm_counters SET run_ok = run_ok + 1 "
		    "WHERE vm_id = $1", 1, db_fmt_int(id, v->info.id));
	if (v->stop_asked)
		enter(n, v, VMP_SHUTDOWN);
	else
		enter(n, v, VMP_RUNNING);
}

static void
pinged(struct job *j, int ok, const char *out)
{
	struct vm *v = j->ctx;
	struct node *n = the_node;
	long long now = mono_ms();

	if (ok) {
		v->failures = 0;
		v->last_ok = now;
		v->next_ping = now + secs(
		    "internal.hkd.vmhandler.vma_monitor.delay.after.ok", 120) *
		    1000;
		return;
	}
	v->failures++;
	v->next_ping = now + secs(
	    "internal.hkd.vmhandler.vma_monitor.delay.after.error", 10) * 1000;
	log_warn("vm %lld: VMA ping failed (%d): %s", v->info.id, v->failures,
	    out);
	if (v->failures >= secs("internal.hkd.vmhandler.vma.failed.max_count."
	    "on.running", 10) && now - v->last_ok > secs("internal.hkd."
	    "vmhandler.vma.failed.max_time.on.running", 320) * 1000) {
		log_error("vm %lld: the VMA is dead; stopping the VM",
		    v->info.id);
		enter(n, v, VMP_STOP);
	}
}

static void
rpc_done(struct job *j, int ok, const char *out)
{
	struct vm *v = j->ctx;

	if (!ok)
		log_warn("vm %lld: VMA %s failed: %s", v->info.id,
		    v->rpc_method, out);
	else
		log_info("vm %lld: VMA %s done", v->info.id, v->rpc_method);
	if (v->phase == VMP_SHUTDOWN && !ok)
		enter(the_node, v, VMP_STOP);
}

static void
stopped(struct job *j, int ok, const char *out)
{
	struct vm *v = j->ctx;

	if (!ok)
		log_warn("vm %lld: stop: %s", v->info.id, out);
	enter(the_node, v, ok ? VMP_CLEANUP : VMP_KILL);
}

static void
killed(struct job *j, int ok, const char *out)
{
	struct vm *v = j->ctx;

	if (!ok)
		log_warn("vm %lld: kill: %s", v->info.id, out);
	enter(the_node, v, VMP_CLEANUP);
}

static void
cleaned(struct job *j, int ok, const char *out)
{
	struct vm *v = j->ctx;

	if (!ok) {
		log_error("vm %lld: cleanup failed (%s); retrying", v->info.id,
		    out);
		v->retry_at = mono_ms() + hv_secs(v, "zombie.reap.delaying", 60)
		    * 1000;
		return;
	}
	enter(the_node, v, VMP_DONE);
}

/* The last write: stopped, released, and blocked with the reason if the
 * start failed.  A hard expiration asks for a start again. */
static void
release(struct node *n, struct vm *v)
{
	char id[24], host[24], ts[24];
	long long rows;

	if (v->no_db)
		return;
	rows = db_exec_count(n->db, "UPDATE vm_runtimes SET vm_state = "
	    "'stopped', vm_state_ts = $3, host_id = CASE WHEN $5 THEN host_id "
	    "END, vm_cmd = CASE WHEN $5 THEN 'start' WHEN vm_cmd = 'start' "
	    "THEN 'start' END, vm_pid = NULL, vm_address = NULL, vm_vma_port = "
	    "NULL, vm_x_port = NULL, vm_ssh_port = NULL, vm_vnc_port = NULL, "
	    "vm_mon_port = NULL, vm_serial_port = NULL, current_di_id = NULL, "
	    "current_osf_id = NULL, vma_ok_ts = NULL, vm_expiration_soft = "
	    "NULL, vm_expiration_hard = NULL, blocked = blocked OR $4::text IS "
	    "NOT NULL, vm_failure = coalesce($4, vm_failure) WHERE vm_id = $1 "
	    "AND host_id = $2", 5, db_fmt_int(id, v->info.id),
	    db_fmt_int(host, n->host_id), db_fmt_int(ts, wall_ms() / 1000),
	    v->failure[0] ? v->failure : NULL, v->restart ? "t" : "f");
	if (rows == 1)
		log_info("vm %lld: %s -> stopped%s%s", v->info.id, v->db_state,
		    v->failure[0] ? ", blocked: " : "", v->failure);
	if (v->restart) {
		log_info("vm %lld: starting it again (hard expiration)",
		    v->info.id);
		n->recheck = 1;
	}
}

static void
forget(struct vm *v)
{
	struct vm **pp;

	fence_untrack(v->pid);
	if (v->pidfd >= 0)
		close(v->pidfd);
	for (pp = &vms; *pp != NULL; pp = &(*pp)->next)
		if (*pp == v) {
			*pp = v->next;
			break;
		}
	free(v);
}

/* What to do now in the current phase. */
static void
step(struct node *n, struct vm *v)
{
	int t;

	if (job_active(&v->job))
		return;
	switch (v->phase) {
	case VMP_QUEUED:
		if (n->stopping || v->stop_asked) {
			enter(n, v, VMP_CLEANUP);
			return;
		}
		if (starting_count() >= conf_int("hkd.vm.starting.max", 6))
			return;
		v->phase = VMP_SETUP;
		v->since = mono_ms();
		if (job_start(&v->job, "start", 10 * 60 * 1000, job_hv_start, v,
		    started, v) == -1)
			fail_start(n, v, "cannot fork a worker");
		break;
	case VMP_WAIT_VMA:
		v->wait_ms = secs("internal.hkd.vmhandler.vma.failed.max_time."
		    "on.starting", 180) * 1000;
		if (v->adopted)
			v->wait_ms = 10000;
		if (job_start(&v->job, "wait for the VMA", (int)v->wait_ms +
		    10000, job_wait_vma, v, vma_up, v) == -1)
			fail_start(n, v, "cannot fork a worker");
		break;
	case VMP_RUNNING:
		if (!v->hv->alive(&v->info, v->pid)) {
			log_warn("vm %lld: the VM stopped by itself",
			    v->info.id);
			enter(n, v, VMP_CLEANUP);
		} else if (v->stop_asked || n->stopping)
			enter(n, v, VMP_SHUTDOWN);
		else if (v->pend_method[0] != '\0') {
			str_copy(v->rpc_method, v->pend_method,
			    sizeof(v->rpc_method));
			str_copy(v->rpc_query, v->pend_query,
			    sizeof(v->rpc_query));
			v->pend_method[0] = '\0';
			job_start(&v->job, v->rpc_method, 15000, job_rpc, v,
			    rpc_done, v);
		} else if (mono_ms() >= v->next_ping) {
			str_copy(v->rpc_method, "ping", sizeof(v->rpc_method));
			v->rpc_query[0] = '\0';
			job_start(&v->job, "ping", 15000, job_rpc, v, pinged, v);
		}
		break;
	case VMP_SHUTDOWN:
		if (!v->hv->alive(&v->info, v->pid)) {
			enter(n, v, VMP_CLEANUP);
			return;
		}
		if (!v->poweroff_sent) {
			v->poweroff_sent = 1;
			str_copy(v->rpc_method, "poweroff", sizeof(v->rpc_method));
			v->rpc_query[0] = '\0';
			job_start(&v->job, "poweroff", 15000, job_rpc, v,
			    rpc_done, v);
			return;
		}
		t = (int)hv_secs(v, "stopping.shutdown.waiting_for_", 180);
		if (mono_ms() - v->since > t * 1000LL) {
			log_warn("vm %lld: did not power off in %d s", v->info.id,
			    t);
			enter(n, v, VMP_STOP);
		}
		break;
	case VMP_STOP:
		job_start(&v->job, "stop", 10 * 60 * 1000, job_hv_stop, v,
		    stopped, v);
		break;
	case VMP_KILL:
		job_start(&v->job, "kill", 5 * 60 * 1000, job_hv_kill, v, killed,
		    v);
		break;
	case VMP_CLEANUP:
		if (mono_ms() < v->retry_at)
			return;
		job_start(&v->job, "cleanup", 5 * 60 * 1000, job_hv_cleanup, v,
		    cleaned, v);
		break;
	case VMP_DONE:
		release(n, v);
		forget(v);
		n->recheck = 1;	/* a start may have waited for this */
		break;
	default:
		break;
	}
}

/* Every handler takes its next step; the loop calls this often. */
void
vmh_tick(struct node *n)
{
	struct vm *v, *next;

	the_node = n;
	for (v = vms; v != NULL; v = next) {
		next = v->next;
		step(n, v);
	}
}

static struct vm *
new_vm(struct node *n, long long id)
{
	struct vm *v = xcalloc(1, sizeof(*v));

	v->info.id = id;
	v->hv = n->hv;
	v->pidfd = -1;
	v->next = vms;
	vms = v;
	return v;
}

/* KVM's direct boot: the DI's property, else the OSF's, else none. */
#define BOOT_PROP(k) "coalesce((SELECT value FROM di_properties WHERE di_id = " \
	"d.id AND key = '" k "'), (SELECT value FROM osf_properties WHERE " \
	"osf_id = v.osf_id AND key = '" k "'), '')"
#define BOOT_PROPS BOOT_PROP("kvm.kernel") ", " BOOT_PROP("kvm.initrd") ", " \
	BOOT_PROP("kvm.append")

/*
 * What the hypervisor needs, from the database.  current: the DI it runs
 * (for an adopted VM), else the DI its tag selects now.
 */
static int
load_info(struct node *n, struct vm *v, int current, char *err, size_t errsz)
{
	struct pg_result *res;
	char id[24];
	uint32_t ip;

	res = db_query(n->db, current ?
	    "SELECT v.name, v.user_id, u.login, v.osf_id, v.ip, o.memory, "
	    "coalesce(o.user_storage_size, 0), o.use_overlay, d.id, d.path, "
	    "v.di_tag, " BOOT_PROPS " FROM vms v JOIN users u ON u.id = "
	    "v.user_id JOIN osfs o ON o.id = v.osf_id JOIN vm_runtimes r ON "
	    "r.vm_id = v.id LEFT JOIN dis d ON d.id = r.current_di_id WHERE v.id "
	    "= $1" :
	    "SELECT v.name, v.user_id, u.login, v.osf_id, v.ip, o.memory, "
	    "coalesce(o.user_storage_size, 0), o.use_overlay, d.id, d.path, "
	    "v.di_tag, " BOOT_PROPS " FROM vms v JOIN users u ON u.id = "
	    "v.user_id JOIN osfs o ON o.id = v.osf_id LEFT JOIN LATERAL (SELECT d.id, d.path FROM dis "
	    "d JOIN di_tags t ON t.di_id = d.id WHERE d.osf_id = v.osf_id AND "
	    "t.tag = v.di_tag ORDER BY d.id DESC LIMIT 1) d ON true WHERE v.id "
	    "= $1", 1, db_fmt_int(id, v->info.id));
	if (res == NULL) {
		str_fmt(err, errsz, "%s", db_error(n->db));
		return -1;
	}
	if (db_ntuples(res) == 0) {
		db_clear(res);
		str_copy(err, "the VM is not in the database", errsz);
		return -1;
	}
	str_copy(v->info.name, db_val(res, 0, 0), sizeof(v->info.name));
	v->info.user_id = db_int(res, 0, 1);
	str_copy(v->info.login, db_val(res, 0, 2), sizeof(v->info.login));
	v->info.osf_id = db_int(res, 0, 3);
	str_copy(v->info.ip, db_val(res, 0, 4), sizeof(v->info.ip));
	v->info.memory = db_int(res, 0, 5);
	v->info.storage_mb = db_int(res, 0, 6);
	v->info.use_overlay = strcmp(db_val(res, 0, 7), "t") == 0;
	v->info.di_id = db_int(res, 0, 8);
	str_copy(v->info.di_path, db_val(res, 0, 9), sizeof(v->info.di_path));
	str_copy(v->info.kernel, db_val(res, 0, 11), sizeof(v->info.kernel));
	str_copy(v->info.initrd, db_val(res, 0, 12), sizeof(v->info.initrd));
	str_copy(v->info.append, db_val(res, 0, 13), sizeof(v->info.append));
	if (db_isnull(res, 0, 8))
		str_fmt(err, errsz, "no disk image of its OSF is tagged '%s'",
		    db_val(res, 0, 10));
	db_clear(res);
	if (v->info.di_id == 0)
		return -1;
	if (ip_parse(v->info.ip, &ip) == -1) {
		str_copy(err, "the VM has no IP address", errsz);
		return -1;
	}
	ipnet_mac(ip, v->info.mac, sizeof(v->info.mac));
	net_vm_iface(v->info.id, v->info.iface, sizeof(v->info.iface));
	return 0;
}

/* A start command was taken (vm_state is 'starting'): queue it. */
void
vmh_start(struct node *n, long long id)
{
	struct vm *v;
	char err[512], vid[24], host[24], vma[24], x[24], ssh[24], di[24];

	the_node = n;
	if ((v = vmh_find(id)) != NULL)
		return;
	v = new_vm(n, id);
	str_copy(v->db_state, "starting", sizeof(v->db_state));
	v->phase = VMP_QUEUED;
	v->since = mono_ms();
	if (load_info(n, v, 0, err, sizeof(err)) == -1) {
		str_copy(v->failure, err, sizeof(v->failure));
		log_error("vm %lld: cannot start: %s", id, err);
		enter(n, v, VMP_DONE);
		return;
	}
	db_exec(n->db, "UPDATE vm_runtimes SET vm_address = v.ip, vm_vma_port "
	    "= $3, vm_x_port = $4, vm_ssh_port = $5, current_osf_id = v.osf_id, "
	    "current_di_id = $6, vm_failure = NULL, vm_expiration_soft = NULL, "
	    "vm_expiration_hard = NULL FROM vms v WHERE v.id = vm_id AND vm_id "
	    "= $1 AND host_id = $2", 6, db_fmt_int(vid, id), db_fmt_int(host,
	    n->host_id), db_fmt_int(vma, conf_int("internal.vm.port.vma",
	    3030)), db_fmt_int(x, 4000 + conf_int("internal.nxagent.display",
	    100)), db_fmt_int(ssh, conf_int("internal.vm.port.ssh", 22)),
	    db_fmt_int(di, v->info.di_id));
	db_exec(n->db, "UPDATE vm_counters SET run_attempts = run_attempts + 1 "
	    "WHERE vm_id = $1", 1, vid);
	log_info("vm %lld (%s): starting from DI %lld (%s)", id, v->info.name,
	    v->info.di_id, v->info.di_path);
	step(n, v);
}

/* A VM found at startup: adopt it if healthy, clean it otherwise. */
void
vmh_adopt(struct node *n, long long id, const char *db_state_now, pid_t pid)
{
	struct vm *v;
	char err[512];

	the_node = n;
	v = new_vm(n, id);
	str_copy(v->db_state, db_state_now, sizeof(v->db_state));
	v->adopted = 1;
	if (load_info(n, v, 1, err, sizeof(err)) == -1) {
		/* enough to clean up: the names follow the id */
		net_vm_iface(id, v->info.iface, sizeof(v->info.iface));
		log_warn("vm %lld: %s; cleaning it up", id, err);
	}
	watch_pid(v, pid);
	v->since = mono_ms();
	if (pid > 0 && v->info.di_id != 0) {
		log_info("vm %lld: found running (pid %d); checking its VMA", id,
		    (int)pid);
		v->phase = VMP_WAIT_VMA;
	} else {
		log_info("vm %lld: not running; cleaning up what is left", id);
		v->phase = pid > 0 ? VMP_KILL : VMP_CLEANUP;
	}
	step(n, v);
}

/* A container no row says is ours: kill and clean it, rows untouched. */
void
vmh_reap_stray(struct node *n, long long id)
{
	struct vm *v;

	the_node = n;
	if (vmh_find(id) != NULL)
		return;
	v = new_vm(n, id);
	v->no_db = 1;
	net_vm_iface(id, v->info.iface, sizeof(v->info.iface));
	log_warn("vm %lld: running here but not ours; stopping it", id);
	v->phase = VMP_KILL;
	step(n, v);
}

void
vmh_stop(struct node *n, long long id)
{
	struct vm *v = vmh_find(id);

	the_node = n;
	if (v == NULL)
		return;
	log_info("vm %lld: stop requested", id);
	v->stop_asked = 1;
	if (v->phase == VMP_WAIT_VMA && !v->adopted) {
		job_cancel(&v->job);
		enter(n, v, VMP_STOP);
	} else
		step(n, v);
}

/* Ask the VMA something (expire) on the next free moment; -1: not up. */
int
vmh_rpc(long long id, const char *method, const char *query)
{
	struct vm *v = vmh_find(id);

	if (v == NULL || v->phase != VMP_RUNNING)
		return -1;
	str_copy(v->pend_method, method, sizeof(v->pend_method));
	str_copy(v->pend_query, query ? query : "", sizeof(v->pend_query));
	return 0;
}

/* Stop the VM and start it again (hard expiration). */
void
vmh_restart(struct node *n, long long id)
{
	struct vm *v = vmh_find(id);

	if (v == NULL || v->restart)
		return;
	v->restart = 1;
	vmh_stop(n, id);
}

void
vmh_stop_all(struct node *n)
{
	struct vm *v;

	for (v = vms; v != NULL; v = v->next)
		if (!v->stop_asked)
			vmh_stop(n, v->info.id);
}

/* The pidfds of the VMs' processes, for the loop's poll(); how many. */
int
vmh_pollfds(struct pollfd *pfd, int max)
{
	struct vm *v;
	int n = 0;

	for (v = vms; v != NULL && n < max; v = v->next)
		if (v->pidfd >= 0) {
			pfd[n].fd = v->pidfd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			n++;
		}
	return n;
}

/* After poll(): a VM whose process ended is looked at now. */
void
vmh_pollfds_done(const struct pollfd *pfd, int n)
{
	struct vm *v;
	int i;

	for (i = 0; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		for (v = vms; v != NULL; v = v->next)
			if (v->pidfd == pfd[i].fd) {
				log_info("vm %lld: its process (pid %d) ended",
				    v->info.id, (int)v->pid);
				close(v->pidfd);
				v->pidfd = -1;
			}
	}
}

int
vmh_empty(void)
{
	return vms == NULL;
}
