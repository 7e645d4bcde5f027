/* SPDX-License-Identifier: GPL-3.0-or-later */
/* l7r.c -- the layer-7 router: the HTTPS front door of the farm.  The node
 * accepts; each connection is a forked child, without root, that does
 * TLS, HTTP, authentication and (l7rsession.c) the NX tunnel. */

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "qvd.h"

#define L7R_MAX_QUERY	8192

static struct l7r_shared *shared;

/* ---- shared state: counters, throttling, slots ---- */

void
l7r_count(enum l7r_counter c)
{
	__atomic_fetch_add(&shared->counters[c], 1, __ATOMIC_RELAXED);
}

static void
lock(void)
{
	while (__atomic_test_and_set(&shared->lock, __ATOMIC_ACQUIRE))
		sleep_ms(0);
}

static void
unlock(void)
{
	__atomic_clear(&shared->lock, __ATOMIC_RELEASE);
}

static struct l7r_throttle *
throttle_slot(const unsigned char addr[16], int create)
{
	struct l7r_throttle *t, *oldest = NULL;
	long long now = wall_ms() / 1000;
	int i;

	for (i = 0; i < L7R_THROTTLE_SLOTS; i++) {
		t = &shared->throttle[i];
		if (t->used && memcmp(t->addr, addr, 16) == 0)
			return t;
		if (oldest == NULL || !t->used || (oldest->used &&
		    t->window_start < oldest->window_start))
			oldest = t;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	oldest->used = 1;
	memcpy(oldest->addr, addr, 16);
	oldest->window_start = now;
	return oldest;
}

/* Seconds this address must still wait after too many failed logins. */
static long long
throttled(const unsigned char addr[16])
{
	struct l7r_throttle *t;
	long long left = 0, now = wall_ms() / 1000;

	lock();
	if ((t = throttle_slot(addr, 0)) != NULL && t->blocked_until > now)
		left = t->blocked_until - now;
	unlock();
	return left;
}

static void
login_failed(const unsigned char addr[16], const char *peer)
{
	struct l7r_throttle *t;
	long long now = wall_ms() / 1000;
	long long window = conf_int("l7r.auth.throttle.window", 60);

	lock();
	t = throttle_slot(addr, 1);
	if (now - t->window_start > window) {
		t->window_start = now;
		t->failures = 0;
	}
	if (++t->failures >= conf_int("l7r.auth.throttle.failures", 5) &&
	    t->blocked_until <= now) {
		t->blocked_until = now + conf_int("l7r.auth.throttle.block", 300);
		log_warn("L7R: %d failed logins from %s; refusing its logins "
		    "for %lld s", t->failures, peer,
		    conf_int("l7r.auth.throttle.block", 300));
	}
	unlock();
}

/* ---- responses ---- */

static int
send_head(struct l7r_req *r, int status, const char *extra,
    const char *ctype, const char *body)
{
	char head[1024];
	size_t n = body ? strlen(body) : 0;

	if (http_format_head(head, sizeof(head), status, extra, ctype,
	    body ? (long long)n : -1) < 0)
		return -1;
	if (conn_write(r->c, head, strlen(head)) == -1)
		return -1;
	return body && n ? conn_write(r->c, body, n) : 0;
}

/* A final answer with a text body (the message, or the status' phrase). */
int
l7r_reply(struct l7r_req *r, int status, const char *fmt, ...)
{
	char body[1024], extra[128] = "";
	va_list ap;
	size_t n;

	if (fmt != NULL) {
		va_start(ap, fmt);
		str_vfmt(body, sizeof(body) - 2, fmt, ap);
		va_end(ap);
	} else
		str_copy(body, http_reason(status), sizeof(body) - 2);
	n = strlen(body);
	memcpy(body + n, "\r\n", 3);
	if (status == 401)
		str_copy(extra, "WWW-Authenticate: Basic realm=\"QVD\"\r\n",
		    sizeof(extra));
	if (status >= 400)
		log_info("L7R %s: %d %s", r->peer, status, body);
	send_head(r, status, *extra ? extra : NULL, "text/plain", body);
	return status;
}

/* 102 Processing with X-QVD-VM-Info: each step of a session's setup. */
int
l7r_progress(struct l7r_req *r, const char *fmt, ...)
{
	char info[512], head[700];
	va_list ap;

	va_start(ap, fmt);
	str_vfmt(info, sizeof(info), fmt, ap);
	va_end(ap);
	log_debug("L7R %s: %s", r->peer, info);
	str_fmt(head, sizeof(head), "HTTP/1.1 102 Processing\r\n"
	    "X-QVD-VM-Info: %s\r\n\r\n", info);
	return conn_write(r->c, head, strlen(head));
}

/* The child's own database connection, opened on first use. */
struct db *
l7r_db(struct l7r_req *r)
{
	char err[512];

	if (r->db == NULL && (r->db = db_open(err, sizeof(err))) == NULL)
		log_error("L7R: %s", err);
	return r->db;
}

/* ---- authentication ---- */

static void
auth_digest(const char *login, const char *password, unsigned char out[32])
{
	unsigned int n = 32;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, login, strlen(login) + 1);
	EVP_DigestUpdate(ctx, password, strlen(password));
	EVP_DigestFinal_ex(ctx, out, &n);
	EVP_MD_CTX_free(ctx);
}

/*
 * HTTP Basic authentication through the plugins; a success is kept for
 * the connection.  0 when authenticated, else the status answered.
 */
static int
authenticate(struct l7r_req *r)
{
	char user[256], pass[PASS_MAX + 2], err[256];
	unsigned char digest[32];
	const char *v;
	size_t vlen;
	long long wait;
	int rc;

	if ((v = http_header(r->m, "Authorization", &vlen)) == NULL ||
	    http_basic_auth(v, vlen, user, sizeof(user), pass, sizeof(pass))
	    == -1)
		return l7r_reply(r, 401, NULL);
	auth_digest(user, pass, digest);
	if (r->authed && memcmp(digest, r->auth_key, 32) == 0) {
		wipe(pass, sizeof(pass));
		return 0;
	}
	l7r_count(LC_AUTH);
	if ((wait = throttled(r->addr)) > 0) {
		wipe(pass, sizeof(pass));
		return l7r_reply(r, 429, "Too many failed logins from %s; try "
		    "again in %lld seconds", r->peer, wait);
	}
	if (l7r_db(r) == NULL) {
		wipe(pass, sizeof(pass));
		return l7r_reply(r, 503, "The database is not available");
	}
	rc = auth_check(r->db, user, pass, &r->auth, err, sizeof(err));
	wipe(pass, sizeof(pass));
	if (rc == 1) {
		l7r_count(LC_AUTH_OK);
		r->authed = 1;
		memcpy(r->auth_key, digest, 32);
		r->slot->authenticated = 1;
		log_info("L7R %s: %s authenticated", r->peer, r->auth.login);
		return 0;
	}
	if (rc == -1) {
		log_error("L7R: authentication failed: %s", err);
		return l7r_reply(r, 503, "Authentication is not available");
	}
	log_info("L7R %s: login of '%s' refused", r->peer, user);
	login_failed(r->addr, r->peer);
	r->authed = 0;
	return l7r_reply(r, 401, NULL);
}

/* The node can serve: 0, or the 503 answered. */
static int
node_available(struct l7r_req *r)
{
	if (shared->blocked)
		return l7r_reply(r, 503, "Server is blocked");
	if (strcmp(shared->state, "running") != 0)
		return l7r_reply(r, 503, "Server is %s", shared->state);
	return 0;
}

/* ---- requests ---- */

static int
ping(struct l7r_req *r)
{
	static const char alive[] = "I am alive!\r\n";

	if (node_available(r) != 0)
		return 503;
	send_head(r, 200, NULL, "text/plain", alive);
	return 200;
}

static int
list_of_vm(struct l7r_req *r)
{
	struct pg_result *res;
	struct buf b = { NULL, 0, 0, 4 * 1024 * 1024 };
	char uid[24], row[1024];
	struct json_out o;
	int i;

	res = db_query(r->db, "SELECT v.id, v.name, r.vm_state, r.blocked FROM "
	    "vms v JOIN vm_runtimes r ON r.vm_id = v.id WHERE v.user_id = $1 "
	    "ORDER BY v.id", 1, db_fmt_int(uid, r->auth.user_id));
	if (res == NULL)
		return l7r_reply(r, 503, "The database is not available");
	buf_adds(&b, "[");
	for (i = 0; i < db_ntuples(res); i++) {
		json_out_init(&o, row, sizeof(row));
		json_begin_obj(&o);
		json_key(&o, "id");
		json_emit_raw(&o, db_val(res, i, 0));
		json_key(&o, "name");
		json_emit_str(&o, db_val(res, i, 1));
		json_key(&o, "state");
		json_emit_str(&o, db_val(res, i, 2));
		json_key(&o, "blocked");
		json_emit_int(&o, strcmp(db_val(res, i, 3), "t") == 0);
		json_end_obj(&o);
		buf_printf(&b, "%s%s", i ? "," : "", row);
	}
	buf_adds(&b, "]\r\n");
	db_clear(res);
	send_head(r, 200, NULL, "application/json", buf_str(&b));
	buf_free(&b);
	return 200;
}

typedef int (*handler_fn)(struct l7r_req *);

static const struct {
	const char	*path;
	handler_fn	 fn;
	int		 auth;
} routes[] = {
	{ "/qvd/ping", ping, 0 },
	{ "/qvd/list_of_vm", list_of_vm, 1 },
	{ "/qvd/connect_to_vm", l7r_connect_to_vm, 1 },
	{ "/qvd/stop_vm", l7r_stop_vm, 1 },
};

/* One request; 1 to go on with the connection, 0 to close it. */
static int
serve_request(struct l7r_req *r)
{
	size_t i;
	int status;

	if (http_path(r->m, r->path, sizeof(r->path)) == -1) {
		l7r_reply(r, 400, NULL);
		return 0;
	}
	r->query = http_query(r->m, &r->qlen);
	if (r->qlen > L7R_MAX_QUERY) {
		l7r_reply(r, 414, NULL);
		return 0;
	}
	for (i = 0; i < ARRAY_LEN(routes); i++)
		if (strcmp(routes[i].path, r->path) == 0)
			break;
	if (i == ARRAY_LEN(routes)) {
		l7r_reply(r, 404, NULL);
		return 1;
	}
	if (routes[i].auth) {
		l7r_count(LC_HTTP);
		if (node_available(r) != 0 || authenticate(r) != 0)
			return 1;
	}
	status = routes[i].fn(r);
	return status != 101 && status != -1;
}

static volatile sig_atomic_t child_stop;

static void
child_term(int sig)
{
	(void)sig;
	child_stop = 1;
}

static void NORETURN
child_exit(struct l7r_req *r, int status)
{
	if (r->db != NULL)
		db_close(r->db);
	conn_close(r->c);
	_exit(status);
}

/* Everything a connection's child does, without root. */
static void NORETURN
child(struct node *n, int fd, struct l7r_slot *slot, const char *peer)
{
	struct l7r_req r;
	struct http_msg m;
	struct sigaction sa;
	const char *as_user = conf_get("l7r.as_user");
	char err[256];
	struct passwd *pw;
	int len, first = 1;

	memset(&r, 0, sizeof(r));
	r.n = n;
	r.slot = slot;
	memcpy(r.addr, slot->addr, 16);
	str_copy(r.peer, peer, sizeof(r.peer));
	r.c = xcalloc(1, sizeof(*r.c));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = child_term;
	sigaction(SIGTERM, &sa, NULL);
	if (as_user != NULL && *as_user != '\0' && strcmp(as_user, "root") &&
	    ((pw = getpwnam(as_user)) == NULL || proc_drop_privileges(
	    as_user, pw->pw_uid, pw->pw_gid, err, sizeof(err)) == -1)) {
		log_error("L7R: cannot become %s: %s", as_user, pw ? err :
		    "no such user");
		_exit(1);
	}
	conn_init(r.c, fd, (int)conf_int("l7r.timeout.request", 10) * 1000);
	conn_set_deadline(r.c, (int)conf_int("l7r.timeout.request", 10) * 1000);
	if (n->l7r_tls != NULL && conn_tls_accept(r.c, n->l7r_tls) == -1) {
		log_debug("L7R %s: TLS: %s", peer, r.c->err);
		child_exit(&r, 0);
	}
	for (;;) {
		if (!first)
			conn_set_deadline(r.c, (int)conf_int("l7r.timeout.idle",
			    60) * 1000);
		len = conn_read_msg(r.c, &m, 1);
		if (len <= 0) {
			if (len < 0 && m.error_status)
				l7r_reply(&r, m.error_status, NULL);
			break;
		}
		/* the rest of the request must come in time too */
		conn_set_deadline(r.c, (int)conf_int("l7r.timeout.request", 10) *
		    1000);
		first = 0;
		r.m = &m;
		r.m_len = (size_t)len;
		if (http_content_length(&m) > 0) {
			l7r_reply(&r, 413, "Requests have no body here");
			break;
		}
		if (!serve_request(&r) || child_stop)
			break;
		conn_consume(r.c, r.m_len);
	}
	child_exit(&r, 0);
}

/* ---- the parent: listener, children, counters ---- */

static void
peer_of(const struct sockaddr_storage *ss, unsigned char addr[16], char *txt,
    size_t txtsz)
{
	memset(addr, 0, 16);
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		memcpy(addr, &s6->sin6_addr, 16);
		inet_ntop(AF_INET6, &s6->sin6_addr, txt, (socklen_t)txtsz);
		if (str_has_prefix(txt, "::ffff:"))
			memmove(txt, txt + 7, strlen(txt + 7) + 1);
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &s4->sin_addr, 4);
		inet_ntop(AF_INET, &s4->sin_addr, txt, (socklen_t)txtsz);
	}
}

static int
unauthenticated_from(const unsigned char addr[16])
{
	int i, n = 0;

	for (i = 0; i < L7R_MAX_CHILDREN; i++)
		n += shared->slots[i].pid > 0 && !shared->slots[i].authenticated
		    && memcmp(shared->slots[i].addr, addr, 16) == 0;
	return n;
}

static void
accept_one(struct node *n, int fd, const struct sockaddr_storage *ss)
{
	unsigned char addr[16];
	char peer[64];
	int i, one = 1;
	pid_t pid;

	peer_of(ss, addr, peer, sizeof(peer));
	for (i = 0; i < L7R_MAX_CHILDREN && shared->slots[i].pid != 0; i++)
		;
	if (i == L7R_MAX_CHILDREN || i >= conf_int("l7r.limit.connections",
	    4096) || unauthenticated_from(addr) >=
	    conf_int("l7r.limit.unauthenticated", 16)) {
		log_warn("L7R: too many connections (from %s); closing one",
		    peer);
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memcpy(shared->slots[i].addr, addr, 16);
	shared->slots[i].authenticated = 0;
	if ((pid = fork()) == -1) {
		close(fd);
		return;
	}
	if (pid == 0) {
		close(n->l7r_fd);
		sig_pipe_child();
		daemon_forget_pidfile();
		shared->slots[i].pid = getpid();
		child(n, fd, &shared->slots[i], peer);
	}
	shared->slots[i].pid = pid;
	close(fd);
}

/* Take every pending connection. */
void
l7r_accept(struct node *n)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	for (;;) {
		sl = sizeof(ss);
		fd = accept4(n->l7r_fd, (struct sockaddr *)&ss, &sl,
		    SOCK_CLOEXEC);
		if (fd == -1)
			return;
		accept_one(n, fd, &ss);
	}
}

/* A session's child ended: its VM has no user any more. */
static void
session_ended(struct node *n, pid_t pid)
{
	char h[24], p[24], ts[24];

	db_exec(n->db, "UPDATE vm_runtimes SET user_cmd = NULL, l7r_host_id = "
	    "NULL, l7r_pid = NULL, user_state = 'disconnected', user_state_ts = "
	    "$3 WHERE l7r_host_id = $1 AND l7r_pid = $2", 3, db_fmt_int(h,
	    n->host_id), db_fmt_int(p, pid), db_fmt_int(ts, wall_ms() / 1000));
}

/* Reap finished children (by pid: the node's jobs are reaped elsewhere). */
void
l7r_reap(struct node *n)
{
	int i, st;

	if (shared == NULL)
		return;
	for (i = 0; i < L7R_MAX_CHILDREN; i++)
		if (shared->slots[i].pid > 0 &&
		    waitpid(shared->slots[i].pid, &st, WNOHANG) ==
		    shared->slots[i].pid) {
			if (shared->slots[i].vm_id)
				session_ended(n, shared->slots[i].pid);
			memset(&shared->slots[i], 0, sizeof(shared->slots[i]));
		}
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
			ours = pid > 0 && shared->slots[k].pid == (pid_t)pid;
		if (ours) {
			log_info("L7R: ending the session on VM %s (pid %lld)",
			    db_val(res, i, 0), pid);
			kill((pid_t)pid, SIGTERM);
		} else
			session_ended(n, (pid_t)pid);
	}
	db_clear(res);
}

/* The certificate from ssl_configs, or a self-signed one made once. */
static int
load_certificate(struct node *n, char **key, char **cert, char **ca)
{
	struct pg_result *res;
	char err[256], *k = NULL, *c = NULL;
	int i;

	*key = *cert = *ca = NULL;
	res = db_query(n->db, "SELECT key, value FROM ssl_configs", 0);
	for (i = 0; res != NULL && i < db_ntuples(res); i++) {
		if (strcmp(db_val(res, i, 0), "l7r.ssl.key") == 0)
			*key = xstrdup(db_val(res, i, 1));
		else if (strcmp(db_val(res, i, 0), "l7r.ssl.cert") == 0)
			*cert = xstrdup(db_val(res, i, 1));
		else if (strcmp(db_val(res, i, 0), "l7r.ssl.ca") == 0)
			*ca = xstrdup(db_val(res, i, 1));
	}
	db_clear(res);
	if (*key != NULL && *cert != NULL)
		return 0;
	if (tls_make_self_signed(n->address, &k, &c, err, sizeof(err)) == -1) {
		log_error("L7R: %s", err);
		return -1;
	}
	db_exec(n->db, "INSERT INTO ssl_configs (key, value) VALUES "
	    "('l7r.ssl.key', $1), ('l7r.ssl.cert', $2) ON CONFLICT (key) DO "
	    "NOTHING", 2, k, c);
	log_warn("L7R: no certificate was configured (qa config ssl); made a "
	    "self-signed one for %s and stored it", n->address);
	freezero(k, strlen(k));
	free(c);
	free(*key);
	free(*cert);
	free(*ca);
	return load_certificate(n, key, cert, ca);
}

/* The TLS context from the certificate store (again after a change). */
int
l7r_load_tls(struct node *n, char *err, size_t errsz)
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

/* The listener and its TLS context; -1 with err. */
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
	}
	if (l7r_load_tls(n, err, errsz) == -1)
		return -1;
	str_fmt(port, sizeof(port), "%lld", conf_int("l7r.port", 8443));
	n->l7r_fd = tcp_listen(conf_get("l7r.address"), port, 1024, err, errsz);
	if (n->l7r_fd == -1)
		return -1;
	fd_nonblock(n->l7r_fd, 1);
	log_info("L7R listening on %s:%s (%s)", conf_get("l7r.address"), port,
	    n->l7r_tls ? "TLS" : "plain HTTP");
	return n->l7r_fd;
}

/* Stop listening; end every session (their VMs keep running). */
void
l7r_close(struct node *n)
{
	int i, left;
	long long deadline;

	if (n->l7r_fd != -1)
		close(n->l7r_fd);
	n->l7r_fd = -1;
	if (shared == NULL)
		return;
	for (i = 0; i < L7R_MAX_CHILDREN; i++)
		if (shared->slots[i].pid > 0)
			kill(shared->slots[i].pid, SIGTERM);
	deadline = mono_ms() + conf_int("internal.hkd.l7r.timeout.on_state."
	    "killing", 10) * 1000;
	do {
		l7r_reap(n);
		for (left = 0, i = 0; i < L7R_MAX_CHILDREN; i++)
			left += shared->slots[i].pid > 0;
		if (left)
			sleep_ms(50);
	} while (left && mono_ms() < deadline);
	for (i = 0; i < L7R_MAX_CHILDREN; i++)
		if (shared->slots[i].pid > 0)
			kill(shared->slots[i].pid, SIGKILL);
	l7r_reap(n);
}
