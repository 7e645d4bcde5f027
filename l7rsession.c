/* SPDX-License-Identifier: GPL-3.0-or-later */
/* l7rsession.c -- connect_to_vm and stop_vm (reference 2.5, 2.6): take
 * the session, place and start the VM, bring the X session up through
 * its VMA, answer 101 and relay NX bytes until either side closes. */

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

#define POLL_MS		100	/* how often the database is looked at */
#define X_POLL_MS	10	/* how often the VMA's x_state and nxagent's
				   port are tried while a session comes up */
#define X_RETRY_MS	25	/* how often a refused x_start is retried */
#define PARAMS_MAX	(64 * 1024)

struct session {
	struct l7r_req	*r;
	long long	 vm;
	char		 id[24];
	char		 pid[24];
	char		 host[24];
	char		 slave_key[65];
	char		 address[128];
	int		 vma_port;
	int		 x_port;
	char		*query;		/* x_start parameters */
};

static void
unavailable(struct session *s, const char *fmt, ...) PRINTFLIKE(2, 3);

static void
unavailable(struct session *s, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	str_vfmt(why, sizeof(why), fmt, ap);
	va_end(ap);
	l7r_reply(s->r, 503, "The requested virtual machine is not available: "
	    "%s, retry later", why);
}

/* A row of vm_runtimes: the columns asked for, as strings; -1 if none. */
static struct pg_result *
vm_row(struct session *s, const char *sql)
{
	struct pg_result *res = db_query(s->r->db, sql, 1, s->id);

	if (res != NULL && db_ntuples(res) == 1)
		return res;
	db_clear(res);
	return NULL;
}

/* Has a contending client or the administrator asked us to give up? */
static int
aborted(struct session *s)
{
	struct pg_result *res;
	int rc;

	if (conn_peer_gone(s->r->c)) {
		log_info("L7R %s: the client went away; VM %s goes on starting "
		    "without a session", s->r->peer, s->id);
		return 1;
	}
	res = db_query(s->r->db, "SELECT coalesce(user_cmd = 'abort', false) "
	    "OR l7r_pid IS DISTINCT FROM $2::int FROM vm_runtimes WHERE vm_id = "
	    "$1", 2, s->id, s->pid);
	if (res == NULL || db_ntuples(res) != 1) {
		db_clear(res);
		return 1;
	}
	rc = strcmp(db_val(res, 0, 0), "t") == 0;
	db_clear(res);
	return rc;
}

/* 1. The session: ours, or taken from the client holding it. */
static int
take_over(struct session *s)
{
	struct pg_result *res;
	char ts[24], ch[64];
	long long deadline = mono_ms() + conf_int("internal.l7r.timeout."
	    "takeover", 30) * 1000, next_abort = 0;
	int i;

	for (;;) {
		if (db_exec_count(s->r->db, "UPDATE vm_runtimes SET user_state "
		    "= 'connecting', user_state_ts = $4, l7r_pid = $2, "
		    "l7r_host_id = $3, user_cmd = NULL WHERE "
		    "vm_id = $1 AND user_state = 'disconnected'", 4, s->id,
		    s->pid, s->host,
		    db_fmt_int(ts, wall_ms() / 1000)) == 1) {
			l7r_progress(s->r, "Session acquired for VM_ID: %s",
			    s->id);
			return 0;
		}
		if (mono_ms() >= next_abort) {
			l7r_progress(s->r, "Aborting contending session for "
			    "VM_ID: %s", s->id);
			res = db_query(s->r->db, "UPDATE vm_runtimes SET user_cmd "
			    "= 'abort', user_end = 'another client' WHERE vm_id = $1 AND user_state <> "
			    "'disconnected' RETURNING l7r_host_id", 1, s->id);
			for (i = 0; res != NULL && i < db_ntuples(res); i++)
				if (!db_isnull(res, i, 0)) {
					str_fmt(ch, sizeof(ch),
					    "qvd_cmd_for_user_on_host%s",
					    db_val(res, i, 0));
					db_notify(s->r->db, ch);
				}
			db_clear(res);
			next_abort = mono_ms() + 5000;
		}
		if (mono_ms() > deadline) {
			unavailable(s, "Unable to acquire VM, close other "
			    "clients");
			return -1;
		}
		sleep_ms(POLL_MS);
	}
}

/* 2. A node for a VM that has none (the load balancer). */
static int
place(struct session *s)
{
	struct pg_result *res;
	char err[256], h[24];
	long long host;

	res = vm_row(s, "SELECT host_id IS NULL FROM vm_runtimes WHERE vm_id "
	    "= $1");
	if (res == NULL || strcmp(db_val(res, 0, 0), "t") != 0) {
		db_clear(res);
		return 0;
	}
	db_clear(res);
	l7r_progress(s->r, "Assigning VM %s to host", s->id);
	if (lb_pick_host(s->r->db, &host, err, sizeof(err)) == -1) {
		unavailable(s, "%s", err);
		return -1;
	}
	db_exec(s->r->db, "UPDATE vm_runtimes SET host_id = $2 WHERE vm_id = "
	    "$1 AND host_id IS NULL AND vm_state = 'stopped'", 2, s->id,
	    db_fmt_int(h, host));
	if (aborted(s)) {
		unavailable(s, "Aborted by contending session");
		return -1;
	}
	return 0;
}

/* 3. Start it if it is stopped, and wait until it runs. */
static int
start_vm(struct session *s)
{
	struct pg_result *res;
	char ch[64];
	long long deadline = mono_ms() + conf_int("internal.l7r.timeout."
	    "vm_start", 270) * 1000, next_note = 0;
	int sent = 0;

	for (;;) {
		res = vm_row(s, "SELECT vm_state, coalesce(vm_cmd, ''), "
		    "coalesce(host_id::text, ''), coalesce(vm_failure, ''), "
		    "blocked, coalesce(vm_address, ''), coalesce(vm_vma_port, 0), "
		    "coalesce(vm_x_port, 0), coalesce((SELECT name FROM hosts "
		    "WHERE id = host_id), ''), coalesce((SELECT blocked FROM "
		    "host_runtimes WHERE host_id = vm_runtimes.host_id), false) "
		    "FROM vm_runtimes WHERE vm_id = $1");
		if (res == NULL) {
			unavailable(s, "The VM is gone");
			return -1;
		}
		if (strcmp(db_val(res, 0, 9), "t") == 0) {
			/* blocked while we waited (and see above) */
			unavailable(s, "VM %s is on node %s, which is blocked "
			    "for maintenance", s->id, db_val(res, 0, 8));
			db_clear(res);
			return -1;
		}
		if (strcmp(db_val(res, 0, 0), "running") == 0) {
			str_copy(s->address, db_val(res, 0, 5),
			    sizeof(s->address));
			s->vma_port = (int)db_int(res, 0, 6);
			s->x_port = (int)db_int(res, 0, 7);
			l7r_progress(s->r, "VM %s is running on node %s", s->id,
			    db_val(res, 0, 8));
			db_clear(res);
			return 0;
		}
		if (strcmp(db_val(res, 0, 0), "stopped") == 0 && !sent) {
			l7r_progress(s->r, "Starting virtual machine");
			db_exec(s->r->db, "UPDATE vm_runtimes SET vm_cmd = 'start' "
			    "WHERE vm_id = $1 AND vm_state = 'stopped' AND "
			    "host_id IS NOT NULL", 1, s->id);
			str_fmt(ch, sizeof(ch), "qvd_cmd_for_vm_on_host%s",
			    db_val(res, 0, 2));
			db_notify(s->r->db, ch);
			sent = 1;
		} else if (strcmp(db_val(res, 0, 0), "stopped") == 0 &&
		    *db_val(res, 0, 1) == '\0') {
			unavailable(s, "Unable to start VM %s%s%s", s->id,
			    *db_val(res, 0, 3) ? ": " : "", db_val(res, 0, 3));
			db_clear(res);
			return -1;
		}
		db_clear(res);
		if (mono_ms() > deadline) {
			unavailable(s, "VM didn't reach state 'running'. Timeout");
			return -1;
		}
		if (mono_ms() >= next_note) {
			l7r_progress(s->r, "Waiting for VM to reach state "
			    "'running'");
			next_note = mono_ms() + conf_int(
			    "internal.l7r.poll_time.vm", 2) * 1000;
		}
		if (aborted(s)) {
			unavailable(s, "Aborted by contending session");
			return -1;
		}
		sleep_ms(POLL_MS);
	}
}

static void
add_param(struct buf *b, const char *k, const char *v)
{
	char ek[1024], ev[8192];

	if (http_url_encode(k, ek, sizeof(ek)) < 0 ||
	    http_url_encode(v, ev, sizeof(ev)) < 0)
		return;
	buf_printf(b, "%s%s=%s", b->len ? "&" : "", ek, ev);
}

/*
 * What the VMA gets: the client's qvd.client.* and custom.* parameters,
 * the VM's combined properties (OSF, DI, user, VM: the later wins), the
 * user's name and the slave key.
 */
static int
build_params(struct session *s)
{
	struct pg_result *res;
	struct buf b = { NULL, 0, 0, PARAMS_MAX };
	const char *cur = s->r->query, *end = s->r->query + s->r->qlen;
	char k[256], v[4096];
	int i, j, later;

	while (http_query_next(&cur, end, k, sizeof(k), v, sizeof(v)) == 1)
		if (str_has_prefix(k, "qvd.client.") ||
		    str_has_prefix(k, "custom."))
			add_param(&b, k, v);
	res = db_query(s->r->db, "SELECT p.key, p.value FROM (SELECT 1 AS o, "
	    "key, value FROM osf_properties WHERE osf_id = (SELECT osf_id FROM "
	    "vms WHERE id = $1) UNION ALL SELECT 2, key, value FROM "
	    "di_properties WHERE di_id = (SELECT current_di_id FROM vm_runtimes "
	    "WHERE vm_id = $1) UNION ALL SELECT 3, key, value FROM "
	    "user_properties WHERE user_id = (SELECT user_id FROM vms WHERE id "
	    "= $1) UNION ALL SELECT 4, key, value FROM vm_properties WHERE "
	    "vm_id = $1) p ORDER BY p.o", 1, s->id);
	for (i = 0; res != NULL && i < db_ntuples(res); i++) {
		for (later = 0, j = i + 1; j < db_ntuples(res) && !later; j++)
			later = strcmp(db_val(res, i, 0), db_val(res, j, 0)) == 0;
		if (!later && strcmp(db_val(res, i, 0), "qvd.vm.user.name") != 0)
			add_param(&b, db_val(res, i, 0), db_val(res, i, 1));
	}
	db_clear(res);
	add_param(&b, "qvd.vm.user.name", s->r->auth.login);
	add_param(&b, "qvd.slave.key", s->slave_key);
	s->query = b.data;
	return 0;
}

/* 4 and 5. x_start at the VMA, then wait for "listening". */
static int
x_session(struct session *s)
{
	char out[512];
	int timeout = (int)conf_int("internal.l7r.timeout.vma", 4) * 1000;
	long long started_at = 0, xs_timeout = conf_int(
	    "internal.l7r.timeout.x_start", 10) * 1000;
	/*
	 * x_start is refused while the last session is still suspending or
	 * stopping, usually for well under a second: asked again every
	 * X_RETRY_MS for as long as upstream's retries x poll time allow.
	 */
	long long give_up = mono_ms() + conf_int("internal.l7r.retry.x_start",
	    20) * conf_int("internal.l7r.poll_time.x", 1) * 1000;
	int logged = 0;

	l7r_progress(s->r, "Starting X session at VM %s", s->id);
	while (vma_call(s->address, s->vma_port, "x_start", s->query, timeout,
	    out, sizeof(out)) != 0) {
		if (!logged++)
			log_info("L7R: x_start on VM %s: %s", s->id, out);
		if (mono_ms() >= give_up || aborted(s)) {
			unavailable(s, "%s", out);
			return -1;
		}
		sleep_ms(X_RETRY_MS);
	}
	l7r_progress(s->r, "Waiting for X session to come up on VM %s", s->id);
	for (;;) {
		if (vma_call(s->address, s->vma_port, "x_state", NULL, timeout,
		    out, sizeof(out)) == -1)
			str_copy(out, "\"\"", sizeof(out));
		if (strcmp(out, "\"listening\"") == 0)
			return 0;
		if (strcmp(out, "\"starting\"") == 0 || strcmp(out, "\"\"") ==
		    0 || strcmp(out, "\"stopped\"") == 0 ||
		    strcmp(out, "\"suspended\"") == 0 ||
		    strcmp(out, "\"suspending\"") == 0) {
			if (started_at == 0)
				started_at = mono_ms();
			if (mono_ms() - started_at > xs_timeout) {
				unavailable(s, "the X session did not start in "
				    "time");
				return -1;
			}
		} else if (strcmp(out, "\"provisioning\"") != 0) {
			unavailable(s, "the X session is %s", out);
			return -1;
		}
		if (aborted(s)) {
			unavailable(s, "Aborted by contending session");
			return -1;
		}
		sleep_ms(X_POLL_MS);
	}
}

/* 6. The TCP connection to nxagent, and the session marked connected. */
static int
connect_x(struct session *s, int *fd)
{
	char port[16], err[256], ts[24];
	long long deadline = mono_ms() + conf_int("internal.l7r.timeout."
	    "x_start", 10) * 1000;

	l7r_progress(s->r, "Connecting X session for VM_ID: %s", s->id);
	l7r_count(LC_NX);
	str_fmt(port, sizeof(port), "%d", s->x_port);
	/*
	 * A resumed nxagent says "resuming" (listening) a moment before its
	 * port opens again: a refused connection is retried for a while.
	 */
	while ((*fd = tcp_connect(s->address, port, 5000, err,
	    sizeof(err))) == -1) {
		if (mono_ms() > deadline || aborted(s)) {
			unavailable(s, "%s", err);
			return -1;
		}
		sleep_ms(X_POLL_MS);
	}
	l7r_count(LC_NX_OK);
	if (db_exec_count(s->r->db, "UPDATE vm_runtimes SET user_state = "
	    "'connected', user_state_ts = $3 WHERE vm_id = $1 AND l7r_pid = "
	    "$2::int AND user_state = 'connecting' AND user_cmd IS NULL", 3,
	    s->id, s->pid, db_fmt_int(ts, wall_ms() / 1000)) != 1) {
		close(*fd);
		unavailable(s, "Aborted by contending session");
		return -1;
	}
	l7r_progress(s->r, "Connection established");
	return 0;
}

static volatile sig_atomic_t relay_stop;

static void
on_term(int sig)
{
	(void)sig;
	relay_stop = 1;
}

/* GET /qvd/connect_to_vm: the whole sequence, then the tunnel. */
int
l7r_connect_to_vm(struct l7r_req *r)
{
	struct session s;
	struct pg_result *res;
	struct relay_stats st;
	struct sigaction sa;
	char idv[32], k[256], v[256], bad[512] = "";
	const char *cur = r->query, *end = r->query + r->qlen, *why;
	long long t0;
	int fd, rc;

	memset(&s, 0, sizeof(s));
	s.r = r;
	if (!http_header_has_token(r->m, "Connection", "Upgrade") ||
	    !http_header_has_token(r->m, "Upgrade", "QVD/1.0"))
		return l7r_reply(r, 426, NULL);
	if (http_query_get(r->query, r->qlen, "id", idv, sizeof(idv)) != 1 ||
	    *idv == '\0')
		return l7r_reply(r, 422, "parameter id is missing");
	while (http_query_next(&cur, end, k, sizeof(k), v, sizeof(v)) == 1)
		if (strcmp(k, "id") && strcmp(k, "file_name") &&
		    !str_has_prefix(k, "qvd.client.") &&
		    !str_has_prefix(k, "custom.") && strlen(bad) + strlen(k) <
		    sizeof(bad) - 2)
			str_fmt(bad + strlen(bad), sizeof(bad) - strlen(bad),
			    "%s%s", *bad ? " " : "", k);
	if (*bad)
		return l7r_reply(r, 403, "Invalid parameters %s", bad);
	if (num_parse(idv, 1, 2147483647, &s.vm, &why) == -1)
		return l7r_reply(r, 404, "The requested virtual machine does "
		    "not exist");
	db_fmt_int(s.id, s.vm);
	db_fmt_int(s.pid, getpid());
	db_fmt_int(s.host, r->n->host_id);
	res = vm_row(&s, "SELECT v.user_id, r.blocked, coalesce(h.blocked, "
	    "false), coalesce(n.name, '') FROM vms v JOIN vm_runtimes r ON "
	    "r.vm_id = v.id LEFT JOIN host_runtimes h ON h.host_id = r.host_id "
	    "LEFT JOIN hosts n ON n.id = r.host_id WHERE v.id = $1");
	if (res == NULL)
		return l7r_reply(r, 404, "The requested virtual machine does "
		    "not exist");
	rc = db_int(res, 0, 0) != r->auth.user_id ? 1 :
	    strcmp(db_val(res, 0, 1), "t") == 0 ? 2 :
	    strcmp(db_val(res, 0, 2), "t") == 0 ? 3 : 0;
	str_copy(k, db_val(res, 0, 3), sizeof(k));
	db_clear(res);
	if (rc == 1)
		return l7r_reply(r, 403, "You are not allowed to access "
		    "requested virtual machine");
	if (rc == 2)
		return l7r_reply(r, 403, "The requested virtual machine is "
		    "offline for maintenance");
	if (rc == 3)	/* manual 4.3.6.2: its node is under maintenance */
		return l7r_reply(r, 503, "The requested virtual machine is not "
		    "available: VM %s is on node %s, which is blocked for "
		    "maintenance, retry later", s.id, k);
	db_exec(r->db, "UPDATE vm_runtimes SET real_user_id = $2 WHERE vm_id "
	    "= $1", 2, s.id, db_fmt_int(k, r->auth.user_id));
	r->slot->vm_id = s.vm;	/* the node cleans the row when we end */
	pass_random(s.slave_key, 64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
	    "nopqrstuvwxyz0123456789");
	if (take_over(&s) == -1 || place(&s) == -1 || start_vm(&s) == -1 ||
	    build_params(&s) == -1 || x_session(&s) == -1 ||
	    connect_x(&s, &fd) == -1) {
		free(s.query);
		return 503;
	}
	free(s.query);
	log_info("L7R %s: %s connected to VM %s", r->peer, r->auth.login, s.id);
	conn_printf(r->c, "HTTP/1.1 101 Switching Protocols\r\n"
	    "X-QVD-Slave-Key: %s\r\n\r\n", s.slave_key);
	db_close(r->db);
	r->db = NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	conn_consume(r->c, r->m_len);	/* the request; NX bytes may follow */
	r->m_len = 0;
	r->c->deadline = 0;
	t0 = mono_ms();
	relay_run(r->c, fd, &relay_stop, &st);
	close(fd);
	if (mono_ms() - t0 < conf_int("internal.l7r.short_session", 120) * 1000)
		l7r_count(LC_SHORT);
	log_info("L7R %s: session on VM %s ended after %lld s (%llu bytes "
	    "up, %llu down)%s", r->peer, s.id, (mono_ms() - t0) / 1000, st.up,
	    st.down, relay_stop ? ", ended by the node" : "");
	return 101;
}

/* GET /qvd/stop_vm: ask the node to stop the VM and wait until it has. */
int
l7r_stop_vm(struct l7r_req *r)
{
	struct session s;
	struct pg_result *res;
	char idv[32], ch[64], state[16];
	const char *why;
	long long deadline = mono_ms() + conf_int("internal.l7r.timeout."
	    "vm_stop", 270) * 1000, next_note = 0;
	int rc;

	memset(&s, 0, sizeof(s));
	s.r = r;
	if (http_query_get(r->query, r->qlen, "id", idv, sizeof(idv)) != 1 ||
	    *idv == '\0')
		return l7r_reply(r, 422, "parameter id is missing");
	if (num_parse(idv, 1, 2147483647, &s.vm, &why) == -1)
		return l7r_reply(r, 404, "The requested virtual machine does "
		    "not exist");
	db_fmt_int(s.id, s.vm);
	res = vm_row(&s, "SELECT v.user_id, r.vm_state, coalesce(r.host_id::"
	    "text, '') FROM vms v JOIN vm_runtimes r ON r.vm_id = v.id WHERE "
	    "v.id = $1");
	if (res == NULL)
		return l7r_reply(r, 404, "The requested virtual machine does "
		    "not exist");
	if (db_int(res, 0, 0) != r->auth.user_id) {
		db_clear(res);
		return l7r_reply(r, 403, "You are not allowed to access "
		    "requested virtual machine");
	}
	str_copy(state, db_val(res, 0, 1), sizeof(state));
	str_fmt(ch, sizeof(ch), "qvd_cmd_for_vm_on_host%s", db_val(res, 0, 2));
	db_clear(res);
	if (strcmp(state, "stopped") != 0) {
		l7r_progress(r, "Stopping virtual machine");
		rc = (int)db_exec_count(r->db, "UPDATE vm_runtimes SET vm_cmd = "
		    "'stop' WHERE vm_id = $1 AND vm_state IN ('starting', "
		    "'running', 'debugging')", 1, s.id);
		if (rc == 1)
			db_notify(r->db, ch);
		else if (strcmp(state, "stopping") != 0 &&
		    strcmp(state, "zombie") != 0)
			return l7r_reply(r, 503, "The requested virtual machine "
			    "is in an unstoppable state (%s)", state);
	}
	for (;;) {
		res = vm_row(&s, "SELECT vm_state FROM vm_runtimes WHERE vm_id "
		    "= $1");
		if (res == NULL || strcmp(db_val(res, 0, 0), "stopped") == 0) {
			db_clear(res);
			break;
		}
		db_clear(res);
		if (mono_ms() > deadline)
			return l7r_reply(r, 408, "VM didn't reach state "
			    "'stopped'. Timeout");
		if (mono_ms() >= next_note) {
			l7r_progress(r, "Waiting for VM to reach state "
			    "'stopped'");
			next_note = mono_ms() + conf_int(
			    "internal.l7r.poll_time.vm", 2) * 1000;
		}
		sleep_ms(POLL_MS);
	}
	return l7r_reply(r, 200, "Machine stopped");
}
