/* SPDX-License-Identifier: GPL-3.0-or-later */
/* l7r.c -- the layer-7 router, the HTTPS front door of the farm: the
 * node's side of it.  The node listens, keeps front workers running
 * (l7rfront.c) and the region they share with the connections' children
 * (l7rreq.c, l7rsession.c), cleans up after ended sessions, adds up the
 * counters and loads the certificate. */

#include <sys/mman.h>
#include <sys/wait.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "qvd.h"

#define SWEEP_MS	2000	/* how often crashed children are looked for */

struct worker {
	pid_t		 pid;
	int		 retiring;	/* told to drain: not replaced */
	long long	 started;	/* mono_ms() */
};

static struct l7r_shared *shared;
static struct worker workers[2 * L7R_MAX_WORKERS];
static int closing;
static long long next_start, next_sweep;

/* ---- the shared region ---- */

struct l7r_shared *
l7r_shm(void)
{
	return shared;
}

void
l7r_count(enum l7r_counter c)
{
	__atomic_fetch_add(&shared->counters[c], 1, __ATOMIC_RELAXED);
}

void
l7r_lock(void)
{
	while (__atomic_test_and_set(&shared->lock, __ATOMIC_ACQUIRE))
		sleep_ms(0);
}

void
l7r_unlock(void)
{
	__atomic_clear(&shared->lock, __ATOMIC_RELEASE);
}

/* A connection's child is done with its slot: the node cleans up. */
void
l7r_slot_done(struct node *n, struct l7r_slot *slot)
{
	char one = 1;
	ssize_t w;

	__atomic_store_n(&slot->ended, 1, __ATOMIC_RELEASE);
	w = write(n->l7r_notify[1], &one, 1);	/* a full pipe wakes it too */
	(void)w;
}

/* ---- front workers ---- */

static int
workers_wanted(void)
{
	long long w = conf_int("l7r.workers", 0);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (w <= 0)
		w = cpus > 0 ? cpus : 1;
	return (int)(w > L7R_MAX_WORKERS ? L7R_MAX_WORKERS : w);
}

static void
start_worker(struct node *n, struct worker *w)
{
	pid_t pid = fork();

	if (pid == -1) {
		log_error("L7R: cannot start a front worker: %s",
		    strerror(errno));
		return;
	}
	if (pid == 0) {
		sig_pipe_child();
		daemon_forget_pidfile();
		l7r_front(n);
	}
	w->pid = pid;
	w->retiring = 0;
	w->started = mono_ms();
}

/* As many serving workers as l7r.workers asks (not while closing). */
static void
ensure_workers(struct node *n)
{
	int i, serving = 0, want = workers_wanted();

	if (closing || n->l7r_fd == -1 || mono_ms() < next_start)
		return;
	for (i = 0; i < (int)ARRAY_LEN(workers); i++)
		serving += workers[i].pid > 0 && !workers[i].retiring;
	for (i = 0; i < (int)ARRAY_LEN(workers) && serving < want; i++)
		if (workers[i].pid == 0) {
			start_worker(n, &workers[i]);
			serving++;
		}
}

/* Connections a dead worker held: their slots are free again. */
static void
release_front_slots(pid_t pid)
{
	int i;

	l7r_lock();
	for (i = 0; i < L7R_MAX_CHILDREN; i++)
		if (shared->slots[i].front && shared->slots[i].pid == pid)
			memset(&shared->slots[i], 0, sizeof(shared->slots[i]));
	l7r_unlock();
}

static void
reap_workers(void)
{
	struct worker *w;
	size_t i;
	int st;

	for (i = 0; i < ARRAY_LEN(workers); i++) {
		w = &workers[i];
		if (w->pid <= 0 || waitpid(w->pid, &st, WNOHANG) != w->pid)
			continue;
		if (!w->retiring && !closing) {
			log_error("L7R: front worker %d ended (status %d); "
			    "starting another", (int)w->pid, st);
			if (mono_ms() - w->started < 2000)
				next_start = mono_ms() + 2000;
		}
		release_front_slots(w->pid);
		memset(w, 0, sizeof(*w));
	}
}

/* New workers for a new configuration; the old ones finish their
 * requests and go. */
static void
retire_workers(struct node *n)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(workers); i++)
		if (workers[i].pid > 0 && !workers[i].retiring) {
			workers[i].retiring = 1;
			kill(workers[i].pid, SIGTERM);
		}
	ensure_workers(n);
}

/* ---- connections' children ---- */

/* A session's child ended: its VM has no user any more. */
static void
session_ended(struct node *n, pid_t pid)
{
	char h[24], p[24], ts[24];

	/* user_end says who ended it when that was not its user */
	db_exec(n->db, "UPDATE vm_runtimes SET user_end = CASE WHEN user_cmd "
	    "= 'abort' THEN user_end END, user_cmd = NULL, l7r_host_id = NULL, "
	    "l7r_pid = NULL, user_state = 'disconnected', user_state_ts = $3 "
	    "WHERE l7r_host_id = $1 AND l7r_pid = $2", 3, db_fmt_int(h,
	    n->host_id), db_fmt_int(p, pid), db_fmt_int(ts, wall_ms() / 1000));
}


/* Sessions whose child said it ended, or (every SWEEP_MS) died. */
static void
reap_children(struct node *n)
{
	struct l7r_slot *s;
	int i, sweep = mono_ms() >= next_sweep;
	pid_t pid;

	if (sweep)
		next_sweep = mono_ms() + SWEEP_MS;
	for (i = 0; i < L7R_MAX_CHILDREN; i++) {
		s = &shared->slots[i];
		if ((pid = s->pid) <= 0 || s->front)
			continue;
		if (!__atomic_load_n(&s->ended, __ATOMIC_ACQUIRE) &&
		    !(sweep && kill(pid, 0) == -1 && errno == ESRCH))
			continue;
		if (s->vm_id)
			session_ended(n, pid);
		l7r_lock();
		if (s->pid == pid)
			memset(s, 0, sizeof(*s));
		l7r_unlock();
	}
}

/* Everything that ended: workers (replaced) and sessions (cleaned up). */
void
l7r_reap(struct node *n)
{
	char drain[256];

	if (shared == NULL)
		return;
	while (read(n->l7r_notify[0], drain, sizeof(drain)) > 0)
		;
	reap_workers();
	reap_children(n);
	ensure_workers(n);
}

/* What /qvd/ping reports: the node's state and whether it is blocked. */
void
l7r_publish(const char *state, int blocked)
{
	if (shared == NULL)
		return;
	str_copy(shared->state, state, sizeof(shared->state));
	shared->blocked = blocked;
}

/* Add the children's counts to host_counters (on every heartbeat). */
void
l7r_flush_counters(struct node *n)
{
	unsigned long long c[LC_N];
	char v[LC_N][24], h[24];
	int i, any = 0;

	if (shared == NULL)
		return;
	for (i = 0; i < LC_N; i++) {
		c[i] = __atomic_exchange_n(&shared->counters[i], 0,
		    __ATOMIC_RELAXED);
		any |= c[i] != 0;
		db_fmt_int(v[i], (long long)c[i]);
	}
	if (!any)
		return;
	if (db_exec(n->db, "UPDATE host_counters SET http_requests = "
	    "http_requests + $2, auth_attempts = auth_attempts + $3, auth_ok = "
	    "auth_ok + $4, nx_attempts = nx_attempts + $5, nx_ok = nx_ok + $6, "
	    "short_sessions = short_sessions + $7 WHERE host_id = $1", 7,
	    db_fmt_int(h, n->host_id), v[LC_HTTP], v[LC_AUTH], v[LC_AUTH_OK],
	    v[LC_NX], v[LC_NX_OK], v[LC_SHORT]) == -1)
		for (i = 0; i < LC_N; i++)	/* keep them for the next try */
			__atomic_fetch_add(&shared->counters[i], c[i],
			    __ATOMIC_RELAXED);
}

/* Sessions an administrator or a contending client asked to end. */
void
l7r_kill_aborted(struct node *n)
{
	struct pg_result *res;
	char h[24];
	long long pid;
	int i, k, ours;

	res = db_query(n->db, "SELECT vm_id, l7r_pid FROM vm_runtimes WHERE "
	    "l7r_host_id = $1 AND user_cmd = 'abort'", 1, db_fmt_int(h,
	    n->host_id));
	for (i = 0; res != NULL && i < db_ntuples(res); i++) {
		pid = db_int(res, i, 1);
		for (ours = 0, k = 0; k < L7R_MAX_CHILDREN && !ours; k++)
			ours = pid > 0 && shared->slots[k].pid == (pid_t)pid &&
			    !shared->slots[k].front;
		if (ours) {
			log_info("L7R: ending the session on VM %s (pid %lld)",
			    db_val(res, i, 0), pid);
			kill((pid_t)pid, SIGTERM);
		} else
			session_ended(n, (pid_t)pid);
	}
	db_clear(res);
}

/* "IP:a" for an address, "DNS:a" for a name, after a comma when not first. */
static void
san_add(struct buf *b, const char *a)
{
	struct in6_addr ip6;
	struct in_addr ip4;

	if (*a == '\0' || strpbrk(a, ", ") != NULL)
		return;
	buf_printf(b, "%s%s:%s", b->len ? "," : "", inet_pton(AF_INET, a,
	    &ip4) == 1 || inet_pton(AF_INET6, a, &ip6) == 1 ? "IP" : "DNS",
	    a);
}

/*
 * The subjectAltName of the farm's self-signed certificate: every node's
 * address (IP SANs, as clients that check the host by its address want)
 * and name, and this machine's host name.
 */
static void
farm_names(struct node *n, struct buf *san)
{
	struct pg_result *res;
	char host[256];
	int i;

	san_add(san, n->address);
	res = db_query(n->db, "SELECT address, name FROM hosts ORDER BY id",
	    0);
	for (i = 0; res != NULL && i < db_ntuples(res); i++) {
		if (strcmp(db_val(res, i, 0), n->address) != 0)
			san_add(san, db_val(res, i, 0));
		san_add(san, db_val(res, i, 1));
	}
	db_clear(res);
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		san_add(san, host);
	}
}

/* The certificate from ssl_configs, or a self-signed one made once. */
static int
load_certificate(struct node *n, char **key, char **cert, char **ca)
{
	struct buf san = { NULL, 0, 0, 16384 };
	char err[256], *k = NULL, *c = NULL;
	int ec = strcmp(conf_get("l7r.ssl.key_type"), "ec") == 0, rc;

	if (admin_ssl_load(n->db, key, cert, ca) == 0)
		return 0;
	farm_names(n, &san);
	rc = tls_make_self_signed(n->address, buf_str(&san), ec, &k, &c, err,
	    sizeof(err));
	if (rc == -1) {
		log_error("L7R: %s", err);
		buf_free(&san);
		return -1;
	}
	db_exec(n->db, "INSERT INTO ssl_configs (key, value) VALUES "
	    "('l7r.ssl.key', $1), ('l7r.ssl.cert', $2) ON CONFLICT (key) DO "
	    "NOTHING", 2, k, c);
	log_warn("L7R: no certificate was configured (qa config ssl); made a "
	    "self-signed one (%s) for %s and stored it", ec ? "EC P-256" :
	    "RSA 3072", buf_str(&san));
	buf_free(&san);
	freezero(k, strlen(k));
	free(c);
	return admin_ssl_load(n->db, key, cert, ca);
}

/* The TLS context from the certificate store. */
static int
load_tls(struct node *n, char *err, size_t errsz)
{
	struct tls_files f;
	struct ssl_ctx_st *ctx;
	char *key = NULL, *cert = NULL, *ca = NULL;

	if (!conf_bool("l7r.use_ssl")) {
		if (n->l7r_tls != NULL)
			SSL_CTX_free(n->l7r_tls);
		n->l7r_tls = NULL;
		return 0;
	}
	if (load_certificate(n, &key, &cert, &ca) == -1) {
		str_copy(err, "no certificate for the L7R", errsz);
		return -1;
	}
	memset(&f, 0, sizeof(f));
	f.key_pem = key;
	f.cert_pem = cert;
	f.ca_pem = ca;
	f.ciphers = conf_get("l7r.ssl.options.SSL_cipher_list");
	f.verify_peer = f.require_peer_cert =
	    conf_bool("l7r.client.cert.require");
	ctx = tls_server_ctx(&f, err, errsz);
	freezero(key, strlen(key));
	free(cert);
	free(ca);
	if (ctx == NULL)
		return -1;
	if (n->l7r_tls != NULL)
		SSL_CTX_free(n->l7r_tls);
	n->l7r_tls = ctx;
	return 0;
}

/* l7r.as_user to ids, once: the children only switch to them. */
static int
resolve_user(struct node *n, char *err, size_t errsz)
{
	const char *user = conf_get("l7r.as_user");

	n->l7r_drop = 0;
	if (user == NULL || *user == '\0' || !strcmp(user, "root") ||
	    geteuid() != 0)
		return 0;
	if (proc_user(user, &n->l7r_uid, &n->l7r_gid, NULL, 0) == -1) {
		str_fmt(err, errsz, "l7r.as_user: no such user: %s", user);
		return -1;
	}
	n->l7r_drop = 1;
	return 0;
}

/*
 * A new configuration (or certificate): new front workers take over with
 * it; connections' children keep the one they started with.
 */
int
l7r_reload(struct node *n, char *err, size_t errsz)
{
	if (load_tls(n, err, errsz) == -1)
		return -1;
	retire_workers(n);
	return 0;
}

/* The listener, its TLS context and the front workers; -1 with err. */
int
l7r_open(struct node *n, char *err, size_t errsz)
{
	char port[16];

	if (shared == NULL) {
		shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (shared == MAP_FAILED) {
			shared = NULL;
			str_fmt(err, errsz, "mmap: %s", strerror(errno));
			return -1;
		}
		memset(shared, 0, sizeof(*shared));
		str_copy(shared->state, "starting", sizeof(shared->state));
		if (throttle_init(&shared->throttle) == -1) {
			str_copy(err, "no random bytes for the throttle", errsz);
			return -1;
		}
		if (pipe2(n->l7r_notify, O_CLOEXEC | O_NONBLOCK) == -1) {
			str_fmt(err, errsz, "pipe: %s", strerror(errno));
			return -1;
		}
	}
	if (load_tls(n, err, errsz) == -1 || resolve_user(n, err, errsz) == -1)
		return -1;
	str_fmt(port, sizeof(port), "%lld", conf_int("l7r.port", 8443));
	n->l7r_fd = tcp_listen(conf_get("l7r.address"), port, 1024, err, errsz);
	if (n->l7r_fd == -1)
		return -1;
	fd_nonblock(n->l7r_fd, 1);
	log_info("L7R listening on %s:%s (%s, %d front workers)",
	    conf_get("l7r.address"), port, n->l7r_tls ? "TLS" : "plain HTTP",
	    workers_wanted());
	ensure_workers(n);
	return n->l7r_fd;
}

static void
signal_all(int sig)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(workers); i++)
		if (workers[i].pid > 0)
			kill(workers[i].pid, sig);
	for (i = 0; i < L7R_MAX_CHILDREN; i++)
		if (shared->slots[i].pid > 0 && !shared->slots[i].front)
			kill(shared->slots[i].pid, sig);
}

static int
anyone_left(void)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(workers); i++)
		if (workers[i].pid > 0)
			return 1;
	for (i = 0; i < L7R_MAX_CHILDREN; i++)
		if (shared->slots[i].pid > 0)
			return 1;
	return 0;
}

/* Stop listening; end every session (their VMs keep running). */
void
l7r_close(struct node *n)
{
	long long deadline;
	int killed = 0;

	closing = 1;
	if (n->l7r_fd != -1)
		close(n->l7r_fd);
	n->l7r_fd = -1;
	if (shared == NULL)
		return;
	signal_all(SIGTERM);
	deadline = mono_ms() + conf_int("internal.hkd.l7r.timeout.on_state."
	    "killing", 10) * 1000;
	for (;;) {
		next_sweep = 0;
		l7r_reap(n);
		if (!anyone_left())
			break;
		if (mono_ms() >= deadline) {
			if (killed)
				break;
			signal_all(SIGKILL);
			killed = 1;
			deadline = mono_ms() + 2000;
		}
		sleep_ms(50);
	}
}
