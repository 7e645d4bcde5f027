/* SPDX-License-Identifier: GPL-3.0-or-later */
/* l7rreq.c -- a connection's child in the layer-7 router: responses,
 * throttled HTTP Basic authentication, /qvd/ping and /qvd/list_of_vm, and
 * the request loop that hands sessions to l7rsession.c. */

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "qvd.h"

#define L7R_MAX_QUERY	8192

/* ---- responses ---- */

/* One write for head and body: one TLS record for a small answer. */
static int
send_head(struct l7r_req *r, int status, const char *extra,
    const char *ctype, const char *body)
{
	char out[2048];
	size_t n = body ? strlen(body) : 0;
	int h;

	if ((h = http_format_head(out, sizeof(out), status, extra, ctype,
	    body ? (long long)n : -1)) < 0)
		return -1;
	if ((size_t)h + n < sizeof(out)) {
		memcpy(out + h, body ? body : "", n);
		return conn_write(r->c, out, (size_t)h + n);
	}
	if (conn_write(r->c, out, (size_t)h) == -1)
		return -1;
	return n ? conn_write(r->c, body, n) : 0;
}

/*
 * A final answer with a text body: the message, or the status' phrase.
 * As upstream's: a success's line ends in CRLF, an error's has none; a
 * 429 says when to come back, and an error of a route that closes on
 * errors (connect_to_vm, stop_vm: upstream's C client waits for the
 * close) says Connection: close.
 */
int
l7r_reply(struct l7r_req *r, int status, const char *fmt, ...)
{
	char body[1024], extra[256] = "", line[64];
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		str_vfmt(body, sizeof(body) - 2, fmt, ap);
		va_end(ap);
	} else
		str_copy(body, http_reason(status), sizeof(body) - 2);
	if (status >= 400)
		log_info("L7R %s: %d %s", r->peer, status, body);
	else
		memcpy(body + strlen(body), "\r\n", 3);
	if (status == 401)
		str_copy(extra, "WWW-Authenticate: Basic realm=\"QVD\"\r\n",
		    sizeof(extra));
	if (status == 429 && r->retry_after > 0) {
		str_fmt(line, sizeof(line), "Retry-After: %lld\r\n",
		    r->retry_after);
		memcpy(extra + strlen(extra), line, strlen(line) + 1);
	}
	if (status >= 400 && r->close_on_error)
		memcpy(extra + strlen(extra), "Connection: close\r\n", 20);
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
	if ((wait = throttle_wait(&l7r_shm()->throttle, r->addr, user)) > 0) {
		wipe(pass, sizeof(pass));
		r->retry_after = wait;
		return l7r_reply(r, 429, "Too many failed logins; try again in "
		    "%lld seconds", wait);
	}
	if (l7r_db(r) == NULL) {
		wipe(pass, sizeof(pass));
		return l7r_reply(r, 503, "The database is not available");
	}
	rc = auth_check(r->db, user, pass, &r->auth, err, sizeof(err));
	if (rc != 0)
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
	throttle_failed(&l7r_shm()->throttle, r->addr, user, pass, "l7r",
	    r->peer);
	wipe(pass, sizeof(pass));
	r->authed = 0;
	return l7r_reply(r, 401, NULL);
}

/* Why the node cannot serve now (into why), or NULL when it can. */
static const char *
node_unavailable(char *why, size_t whysz)
{
	struct l7r_shared *sh = l7r_shm();

	if (sh->blocked)
		return str_copy(why, "Server is blocked", whysz), why;
	if (strcmp(sh->state, "running") != 0)
		return str_fmt(why, whysz, "Server is %s", sh->state), why;
	return NULL;
}

/* The node can serve: 0, or the 503 answered. */
static int
node_available(struct l7r_req *r)
{
	char why[64];

	if (node_unavailable(why, sizeof(why)) != NULL)
		return l7r_reply(r, 503, "%s", why);
	return 0;
}

/*
 * /qvd/ping's whole answer into out, from the node's shared state (the
 * front workers answer it too): its length, -1 if out is too small.
 */
int
l7r_ping_answer(char *out, size_t outsz, int closing, int *status)
{
	char body[64];
	size_t n;
	int h;

	*status = 200;
	if (node_unavailable(body, sizeof(body) - 2) != NULL)
		*status = 503;
	else
		str_copy(body, "I am alive!", sizeof(body) - 2);
	n = strlen(body);
	memcpy(body + n, "\r\n", 3);
	n += 2;
	h = http_format_head(out, outsz, *status, closing ?
	    "Connection: close\r\n" : NULL, "text/plain", (long long)n);
	if (h < 0 || (size_t)h + n > outsz)
		return -1;
	memcpy(out + h, body, n);
	return h + (int)n;
}

/* ---- requests ---- */

static int
ping(struct l7r_req *r)
{
	char out[512];
	int n, status;

	if ((n = l7r_ping_answer(out, sizeof(out), !http_keeps_alive(r->m),
	    &status)) < 0 ||
	    conn_write(r->c, out, (size_t)n) == -1)
		return -1;
	return status;
}

static int
list_of_vm(struct l7r_req *r)
{
	struct pg_result *res;
	struct buf b = { NULL, 0, 0, 4 * 1024 * 1024 };
	char uid[24], row[1024];
	struct json_out o;
	int i;

	res = db_query(r->db, "SELECT v.id, v.name, r.vm_state, r.blocked, "
	    "r.user_end FROM "
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
		if (!db_isnull(res, i, 4)) {	/* ours, beyond upstream */
			json_key(&o, "session_ended_by");
			json_emit_str(&o, db_val(res, i, 4));
		}
		json_end_obj(&o);
		buf_printf(&b, "%s%s", i ? "," : "", row);
	}
	buf_adds(&b, "]\n");	/* as upstream's JSON, one line */
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
	int		 close_on_error;
} routes[] = {
	{ "/qvd/ping", ping, 0, 0 },
	{ "/qvd/list_of_vm", list_of_vm, 1, 0 },
	{ "/qvd/connect_to_vm", l7r_connect_to_vm, 1, 1 },
	{ "/qvd/stop_vm", l7r_stop_vm, 1, 1 },
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
	r->close_on_error = routes[i].close_on_error;
	r->retry_after = 0;
	if (routes[i].auth) {
		l7r_count(LC_HTTP);
		if (node_available(r) != 0 || authenticate(r) != 0)
			return !r->close_on_error;
	}
	status = routes[i].fn(r);
	if (status >= 400 && r->close_on_error)
		return 0;
	return status != 101 && status != -1 && http_keeps_alive(r->m);
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
	l7r_slot_done(r->n, r->slot);
	_exit(status);
}

/*
 * A connection's child, forked by a front worker (l7rfront.c) when a
 * request needs more than the node's shared state: the connection comes
 * with its TLS session and that request buffered.  Serves it and the
 * ones after it, then exits.
 */
void
l7r_serve(struct node *n, struct conn *c, struct l7r_slot *slot,
    const char *peer)
{
	struct l7r_req r;
	struct http_msg m;
	struct sigaction sa;
	int len;

	memset(&r, 0, sizeof(r));
	r.n = n;
	r.slot = slot;
	r.c = c;
	memcpy(r.addr, slot->addr, 16);
	str_copy(r.peer, peer, sizeof(r.peer));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = child_term;
	sigaction(SIGTERM, &sa, NULL);
	c->nowait = 0;
	for (;;) {
		len = conn_read_msg(c, &m, 1);
		if (len <= 0) {
			if (len < 0 && m.error_status)
				l7r_reply(&r, m.error_status, NULL);
			break;
		}
		/* the rest of the request must come in time too */
		conn_set_deadline(c, (int)conf_int("l7r.timeout.request", 10) *
		    1000);
		r.m = &m;
		r.m_len = (size_t)len;
		if (http_content_length(&m) > 0) {
			l7r_reply(&r, 413, "Requests have no body here");
			break;
		}
		if (!serve_request(&r) || child_stop)
			break;
		conn_consume(c, r.m_len);
		conn_set_deadline(c, (int)conf_int("l7r.timeout.idle", 60) *
		    1000);
	}
	child_exit(&r, 0);
}
