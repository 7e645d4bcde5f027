/* SPDX-License-Identifier: GPL-3.0-or-later */
/* wat.c -- qvd-wat, the web administration tool (manual chapter 4): the
 * daemon (TLS, privileges, a child per connection), each request's
 * parameters (form or JSON body), responses and routing.  Sessions are in
 * watauth.c, pages in watpage.c, actions in watact.c. */

#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "qvd.h"

#define WAT_TIMEOUT_MS	15000		/* per request */
#define WAT_MAX_PARAMS	100000
#define PARAM_MAX	65536		/* one decoded value */

static void
usage(void)
{
	fprintf(stderr, "usage: qvd-wat [-fn] [-c file]\n");
	exit(2);
}

/* ---- responses ---- */

int
wat_reply(struct wat_req *r, int status, const char *extra, const char *ctype,
    const char *body)
{
	char head[2048], hdrs[1400];

	str_fmt(hdrs, sizeof(hdrs), "%sCache-Control: no-store\r\n"
	    "X-Frame-Options: DENY\r\nX-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: same-origin\r\nContent-Security-Policy: "
	    "default-src 'self'; style-src 'unsafe-inline'; img-src 'self' "
	    "data:\r\n%s", extra ? extra : "", r->tls ?
	    "Strict-Transport-Security: max-age=31536000\r\n" : "");
	if (http_format_head(head, sizeof(head), status, hdrs, ctype,
	    (long long)strlen(body)) < 0)
		return -1;
	return conn_write(r->c, head, strlen(head)) == -1 ||
	    conn_write(r->c, body, strlen(body)) == -1 ? -1 : 0;
}

int
wat_redirect(struct wat_req *r, const char *to, const char *extra)
{
	char hdrs[1200];

	str_fmt(hdrs, sizeof(hdrs), "Location: %s\r\n%s", to,
	    extra ? extra : "");
	return wat_reply(r, 303, hdrs, "text/plain", "");
}

/* {"error":"..."} with a status. */
int
wat_json_error(struct wat_req *r, int status, const char *fmt, ...)
{
	char msg[ADMIN_ERRSZ], out[2 * ADMIN_ERRSZ];
	struct json_out o;
	va_list ap;

	va_start(ap, fmt);
	str_vfmt(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_out_init(&o, out, sizeof(out));
	json_begin_obj(&o);
	json_key(&o, "error");
	json_emit_str(&o, msg);
	json_end_obj(&o);
	return wat_json(r, status, &o);
}

/* The JSON document in o, with its newline, as the answer. */
int
wat_json(struct wat_req *r, int status, struct json_out *o)
{
	if (json_out_end_line(o) == -1)
		return wat_reply(r, 500, NULL, "application/json",
		    "{\"error\":\"the answer is too large\"}\n");
	return wat_reply(r, status, NULL, "application/json", o->buf);
}

/* ---- parameters: a form's fields or a JSON object's members ---- */

static void
add_param(struct wat_req *r, const char *key, const char *val)
{
	r->params = xreallocarray(r->params, (size_t)r->nparams + 1,
	    sizeof(*r->params));
	r->params[r->nparams].key = xstrdup(key);
	r->params[r->nparams].val = xstrdup(val);
	r->nparams++;
}

static int
parse_form(struct wat_req *r)
{
	const char *cur = r->body.data, *end = r->body.data + r->body.len;
	char key[256], *val = xmalloc(PARAM_MAX);
	int rc;

	while ((rc = http_query_next(&cur, end, key, sizeof(key), val,
	    PARAM_MAX)) == 1 && r->nparams < WAT_MAX_PARAMS)
		add_param(r, key, val);
	free(val);
	return rc == -1 ? -1 : 0;
}

/* One JSON value as text: strings decoded, numbers and booleans as
 * written (true/false as 1/0); objects are refused. */
static int
json_text(const char *js, const struct json_tok *t, char *out, size_t outsz)
{
	size_t n = (size_t)(t->end - t->start);

	switch (t->type) {
	case JSON_STRING:
		return json_str(js, t, out, outsz, NULL);
	case JSON_NUMBER:
		if (n >= outsz)
			return -1;
		memcpy(out, js + t->start, n);
		out[n] = '\0';
		return 0;
	case JSON_TRUE:
	case JSON_FALSE:
		return str_copy(out, t->type == JSON_TRUE ? "1" : "0", outsz);
	case JSON_NULL:
		return str_copy(out, "", outsz);
	default:
		return -1;
	}
}

/* {"key": value, "ids": [1, 2]}: an array gives its key once per item. */
static int
parse_json(struct wat_req *r)
{
	int ntok, i, k, cnt = 0, max = r->body.len / 2 + 1 < JSON_MAX_TOKENS ?
	    (int)(r->body.len / 2 + 1) : JSON_MAX_TOKENS;
	struct json_tok *t = xmalloc((size_t)max * sizeof(*t));
	char key[256], *val = xmalloc(PARAM_MAX);
	int rc = -1;

	ntok = json_parse(r->body.data, r->body.len, t, max);
	if (ntok < 1 || t[0].type != JSON_OBJECT)
		goto out;
	for (i = 1; i < ntok; i = t[i + 1].next) {
		if (json_str(r->body.data, &t[i], key, sizeof(key), NULL) == -1)
			goto out;
		if (t[i + 1].type != JSON_ARRAY) {
			if (json_text(r->body.data, &t[i + 1], val, PARAM_MAX)
			    == -1)
				goto out;
			add_param(r, key, val);
			continue;
		}
		for (k = i + 2; k < t[i + 1].next; k = t[k].next, cnt++)
			if (cnt >= WAT_MAX_PARAMS || json_text(r->body.data,
			    &t[k], val, PARAM_MAX) == -1)
				goto out;
			else
				add_param(r, key, val);
	}
	rc = 0;
out:
	free(t);
	free(val);
	return rc;
}

static int
read_params(struct wat_req *r)
{
	if (r->body.len == 0)
		return 0;
	if (str_has_prefix(r->ctype, "application/json"))
		return parse_json(r);
	return parse_form(r);
}

static void
free_params(struct wat_req *r)
{
	int i;

	for (i = 0; i < r->nparams; i++) {
		free(r->params[i].key);
		free(r->params[i].val);
	}
	free(r->params);
	r->params = NULL;
	r->nparams = 0;
}

/* The first value of a body parameter, or NULL. */
const char *
wat_param(const struct wat_req *r, const char *key)
{
	int i;

	for (i = 0; i < r->nparams; i++)
		if (strcmp(r->params[i].key, key) == 0)
			return r->params[i].val;
	return NULL;
}

/* Every "id" parameter as numbers (the caller frees *ids); -1 when one is
 * not an id. */
int
wat_param_ids(const struct wat_req *r, long long **ids)
{
	const char *why;
	int i, n = 0;

	*ids = xmalloc((size_t)(r->nparams + 1) * sizeof(**ids));
	for (i = 0; i < r->nparams; i++) {
		if (strcmp(r->params[i].key, "id") != 0)
			continue;
		if (num_parse(r->params[i].val, 1, (1LL << 53), &(*ids)[n],
		    &why) == -1) {
			free(*ids);
			*ids = NULL;
			return -1;
		}
		n++;
	}
	return n;
}

/* A query-string parameter, decoded; "" when absent. */
const char *
wat_query(const struct wat_req *r, const char *key, char *out, size_t outsz)
{
	if (http_query_get(r->query, strlen(r->query), key, out, outsz) != 1)
		out[0] = '\0';
	return out;
}

/* ---- routing ---- */

/* /api/OBJECT/VERB (POST), /api/di/job/ID, /api/OBJECT... (GET) */
static int
route_api(struct wat_req *r)
{
	char object[32], verb[64];
	const char *p = r->path + 5, *slash = strchr(p, '/');

	if (!r->post)
		return wat_api_get(r);
	if (slash == NULL || (size_t)(slash - p) >= sizeof(object) ||
	    strlen(slash + 1) >= sizeof(verb))
		return wat_json_error(r, 404, "no such action: %s", r->path);
	memcpy(object, p, (size_t)(slash - p));
	object[slash - p] = '\0';
	str_copy(verb, slash + 1, sizeof(verb));
	if (!wat_csrf_ok(r)) {
		if (r->basic)
			return wat_json_error(r, 403, "with HTTP Basic "
			    "authentication, changes need a JSON body "
			    "(Content-Type: application/json)");
		if (!str_has_prefix(r->ctype, "application/json"))
			return wat_stale_page(r);	/* a form */
		return wat_json_error(r, 403, "missing or wrong CSRF token");
	}
	return wat_act(r, object, verb);
}

static int
route(struct wat_req *r)
{
	if (strcmp(r->path, "/login") == 0)
		return r->post ? wat_login(r) : wat_login_page(r, 200, NULL);
	if (strcmp(r->path, "/wat.js") == 0)
		return wat_get(r);
	if (r->login[0] == '\0')
		return str_has_prefix(r->path, "/api/") ? wat_json_error(r, 401,
		    "log in first") : wat_redirect(r, "/login", NULL);
	if (strcmp(r->path, "/logout") == 0 && r->post)
		return wat_logout(r);
	if (str_has_prefix(r->path, "/api/"))
		return route_api(r);
	if (r->post)
		return wat_reply(r, 405, "Allow: GET\r\n", "text/plain",
		    "Method Not Allowed: forms post to /api/\r\n");
	return wat_get(r);
}

/* ---- connections ---- */

/* The path (and query) of the Referer: where a failed form returns. */
static void
referer_path(const struct http_msg *m, char *out, size_t outsz)
{
	char ref[512];
	const char *p;

	out[0] = '\0';
	if (http_header_copy(m, "Referer", ref, sizeof(ref)) == -1 ||
	    (p = strstr(ref, "://")) == NULL ||
	    (p = strchr(p + 3, '/')) == NULL)
		return;
	str_copy(out, p, outsz);
}

static int
read_request(struct wat_req *r, struct http_msg *m, int n)
{
	const char *q;
	size_t qlen;
	long long len = http_content_length(m);

	r->post = m->method_len == 4 && memcmp(m->method, "POST", 4) == 0;
	r->body.max = WAT_MAX_BODY;
	http_header_copy(m, "X-CSRF-Token", r->csrf_header,
	    sizeof(r->csrf_header));
	http_header_copy(m, "Content-Type", r->ctype, sizeof(r->ctype));
	http_header_copy(m, "Authorization", r->authorization,
	    sizeof(r->authorization));
	http_header_copy(m, "Cookie", r->cookies, sizeof(r->cookies));
	referer_path(m, r->referer, sizeof(r->referer));
	if ((q = http_query(m, &qlen)) != NULL && qlen < sizeof(r->query)) {
		memcpy(r->query, q, qlen);
		r->query[qlen] = '\0';
	}
	if (len == -1)
		len = 0;	/* no body */
	if (http_path(m, r->path, sizeof(r->path)) == -1 || len < 0 ||
	    len > WAT_MAX_BODY) {
		wat_reply(r, len > WAT_MAX_BODY ? 413 : 400, NULL, "text/plain",
		    len > WAT_MAX_BODY ? "Request body too large\r\n" :
		    "Bad request\r\n");
		return -1;
	}
	conn_consume(r->c, (size_t)n);
	if (len > 0 && conn_read_body(r->c, (size_t)len, &r->body) == -1)
		return -1;
	if (read_params(r) == -1) {
		wat_reply(r, 400, NULL, "text/plain", str_has_prefix(r->ctype,
		    "application/json") ? "The body is not a JSON object of "
		    "strings, numbers or arrays of them\r\n" : "The form "
		    "data is malformed\r\n");
		return -1;
	}
	return 0;
}

static void
serve(struct conn *c, struct db *db, struct throttle *t,
    const unsigned char addr[16], const char *peer)
{
	struct http_msg m;
	struct wat_req r;
	int n, keep = 1;

	memset(&m, 0, sizeof(m));
	memset(&r, 0, sizeof(r));
	r.c = c;
	while (keep && (n = conn_read_msg(c, &m, 1)) > 0) {
		memset(&r, 0, sizeof(r));
		r.c = c;
		r.db = db;
		r.throttle = t;
		r.tls = c->ssl != NULL;
		memcpy(r.addr, addr, 16);
		str_copy(r.peer, peer, sizeof(r.peer));
		keep = http_keeps_alive(&m);
		if (read_request(&r, &m, n) == -1)
			keep = 0;
		else {
			wat_session(&r);
			if (route(&r) == -1)
				keep = 0;
		}
		buf_free(&r.body);
		free_params(&r);
	}
	if (n < 0 && m.error_status != 0)
		wat_reply(&r, m.error_status, NULL, "text/plain",
		    "Bad request\r\n");
}

static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* A connection's child: TLS if configured, its own database session. */
static void NORETURN
child(int fd, struct sockaddr_storage *ss, struct ssl_ctx_st *tls,
    struct throttle *t)
{
	struct conn c;
	struct db *db;
	struct rusage ru;
	unsigned char addr[16];
	char err[256], peer[64];

	signal(SIGTERM, SIG_DFL);
	tcp_peer(ss, addr, peer, sizeof(peer));
	conn_init(&c, fd, WAT_TIMEOUT_MS);
	if (tls != NULL && conn_tls_accept(&c, tls) == -1) {
		log_info("WAT %s: TLS: %s", peer, c.err);
		_exit(1);
	}
	if ((db = db_open(err, sizeof(err))) == NULL) {
		log_error("WAT: %s", err);
		_exit(1);
	}
	if (db_load_config(db) == -1 && db_recover(db) == 0)
		db_load_config(db);	/* on the new primary */
	serve(&c, db, t, addr, peer);
	conn_close(&c);
	db_close(db);
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		log_debug("WAT %s: connection closed; peak resident %ld kB",
		    peer, ru.ru_maxrss);
	_exit(0);
}

/* Accept until SIGTERM; each connection in a child of its own. */
static int
run(int lfd, struct ssl_ctx_st *tls, struct throttle *t)
{
	struct sockaddr_storage ss;
	struct sigaction sa;
	socklen_t sl;
	pid_t pid;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGCHLD, SIG_IGN);	/* the kernel reaps the children */
	signal(SIGPIPE, SIG_IGN);
	while (!stopping) {
		sl = sizeof(ss);
		if ((fd = accept(lfd, (struct sockaddr *)&ss, &sl)) == -1) {
			if (errno != EINTR)
				log_error("WAT: accept: %s", strerror(errno));
			continue;
		}
		if ((pid = fork()) == 0) {
			close(lfd);
			daemon_forget_pidfile();
			child(fd, &ss, tls, t);
		}
		if (pid == -1)
			log_error("WAT: fork: %s", strerror(errno));
		close(fd);
	}
	log_info("WAT: stopping");
	return 0;
}

/* With wat.use_ssl, the L7R's certificate (qa config ssl). */
static int
load_tls(struct db *db, struct ssl_ctx_st **ctx, char *err, size_t errsz)
{
	struct tls_files f;
	char *key, *cert, *ca;

	*ctx = NULL;
	if (!conf_bool("wat.use_ssl"))
		return 0;
	if (admin_ssl_load(db, &key, &cert, &ca) == -1) {
		str_copy(err, "wat.use_ssl is on but no certificate is stored "
		    "(qa config ssl key=... cert=...)", errsz);
		return -1;
	}
	memset(&f, 0, sizeof(f));
	f.key_pem = key;
	f.cert_pem = cert;
	f.ciphers = conf_get("l7r.ssl.options.SSL_cipher_list");
	*ctx = tls_server_ctx(&f, err, errsz);
	freezero(key, strlen(key));
	free(cert);
	free(ca);
	return *ctx == NULL ? -1 : 0;
}

/* Started as root: give up root for wat.as_user once the port, the
 * certificate and the jobs directory are ready. */
static int
drop_root(char *err, size_t errsz)
{
	const char *user = conf_get("wat.as_user");
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (geteuid() == 0 && *user != '\0' && strcmp(user, "root") != 0 &&
	    proc_user(user, &uid, &gid, NULL, 0) == -1) {
		str_fmt(err, errsz, "wat.as_user: no user '%s'", user);
		return -1;
	}
	if (wat_jobs_init(uid, gid, err, errsz) == -1 ||
	    wat_keeper_start(err, errsz) == -1)
		return -1;
	if (geteuid() != 0 || uid == 0)
		return 0;
	return proc_drop_privileges(user, uid, gid, err, errsz);
}

/* The port: PORT=N in /etc/default/qvd-wat (manual 4.1), or wat.port. */
static int
wat_port(char *port, size_t portsz, char *err, size_t errsz)
{
	const char *file = conf_get("wat.default_file"), *why;
	char line[256], *v;
	long long n;
	FILE *fp;

	str_fmt(port, portsz, "%lld", conf_int("wat.port", 3000));
	if (*file == '\0' || (fp = fopen(file, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (!str_has_prefix(line, "PORT="))
			continue;
		v = str_trim(line + 5);
		if (*v == '"' || *v == '\'') {
			v[strlen(v) - 1] = '\0';
			v++;
		}
		if (num_parse(v, 1, 65535, &n, &why) == -1) {
			str_fmt(err, errsz, "%s: PORT '%s' is %s", file, v, why);
			fclose(fp);
			return -1;
		}
		str_fmt(port, portsz, "%lld", n);
	}
	fclose(fp);
	return 0;
}

static int
fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "qvd-wat: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 1;
}

int
main(int argc, char **argv)
{
	const char *cfile = NULL;
	char err[512], port[16];
	struct ssl_ctx_st *tls;
	struct throttle *t;
	struct db *db;
	int ch, foreground = 0, check = 0, lfd, rc;

	while ((ch = getopt(argc, argv, "c:fn")) != -1) {
		switch (ch) {
		case 'c': cfile = optarg; break;
		case 'f': foreground = 1; break;
		case 'n': check = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	cfile = conf_load_checked("qvd-wat", "/etc/qvd/node.conf", cfile);
	log_open_from_conf("qvd-wat", "wat.log.filename", foreground ||
	    check);
	if ((db = db_open(err, sizeof(err))) == NULL)
		return fail("%s", err);
	if ((rc = db_schema_present(db)) != 1)
		return fail("%s", rc == 0 ? "the database has no QVD schema "
		    "(qvd-deploy-db)" : db_error(db));
	if (db_load_config(db) == -1)
		return fail("cannot read the configs table: %s", db_error(db));
	if (load_tls(db, &tls, err, sizeof(err)) == -1)
		return fail("%s", err);
	if (!check && wat_auth_init(db) == -1)
		return fail("%s", "cannot make the table of sessions "
		    "(wat_sessions)");
	db_close(db);
	if (wat_port(port, sizeof(port), err, sizeof(err)) == -1)
		return fail("%s", err);
	if (check) {
		printf("qvd-wat: %s: configuration OK (port %s%s)\n", cfile,
		    port, tls ? ", TLS" : "");
		SSL_CTX_free(tls);
		return 0;
	}
	if ((lfd = tcp_listen(strcmp(conf_get("wat.address"), "*") == 0 ?
	    NULL : conf_get("wat.address"), port, 128, err, sizeof(err))) ==
	    -1)
		return fail("%s", err);
	if ((t = throttle_new()) == NULL)
		return fail("%s", "no shared memory for login throttling");
	if (!foreground && (daemon_detach(err, sizeof(err)) == -1 ||
	    daemon_pidfile(conf_get("wat.pid_file"), err, sizeof(err)) == -1))
		return fail("%s", err);	/* the pid file while still root */
	if (drop_root(err, sizeof(err)) == -1)
		return fail("%s", err);
	log_info("WAT listening on %s:%s%s", conf_get("wat.address"), port,
	    tls ? " (TLS)" : "");
	return run(lfd, tls, t);
}
