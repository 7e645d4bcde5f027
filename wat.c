/* SPDX-License-Identifier: GPL-3.0-or-later */
/* wat.c -- qvd-wat, the web administration tool (manual chapter 4): the
 * daemon, its sessions (signed cookies, CSRF tokens) and its routes.
 * First slice: login, logout, the dashboard and its JSON. */

#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "qvd.h"

#define WAT_TIMEOUT_MS	15000		/* per request */
#define WAT_MAX_BODY	65536		/* form posts */
#define COOKIE		"qvdwat"

static unsigned char session_key[32];	/* made at start: restart = logout */

struct wat_req {			/* what a route may use: copies, since
				   the parsed head dies with the body read */
	struct conn	*c;
	struct db	*db;
	int		 post;
	char		 path[256];
	char		 csrf_header[80];	/* X-CSRF-Token */
	struct buf	 body;		/* the request's */
	char		 login[128];	/* the session's admin, "" if none */
	char		 cookie[256];
};

/* The object lists, at the manual's URLs (lists.c has their columns). */
static const struct {
	const char	*page;		/* the manual's URL */
	const char	*object;
	const char	*title;
} sections[] = {
	{ "/users/", "user", "Users" },
	{ "/vm/", "vm", "Virtual machines" },
	{ "/hosts/", "host", "Nodes" },
	{ "/osf/", "osf", "OS flavours" },
	{ "/di/", "di", "Disk images" },
};

static void
usage(void)
{
	fprintf(stderr, "usage: qvd-wat [-fn] [-c file]\n");
	exit(2);
}

/* ---- sessions: "expiry.login.hmac" cookies, CSRF tokens from them ---- */

static void
hmac_hex(const char *data, char *out, size_t outsz)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	HMAC(EVP_sha256(), session_key, sizeof(session_key),
	    (const unsigned char *)data, strlen(data), md, &n);
	for (i = 0; i < n && 2 * i + 2 < outsz; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
make_cookie(const char *login, char *out, size_t outsz)
{
	char data[200], mac[80];

	str_fmt(data, sizeof(data), "%lld.%s", wall_ms() / 1000 +
	    conf_int("wat.session.timeout", 3600), login);
	hmac_hex(data, mac, sizeof(mac));
	str_fmt(out, outsz, "%s.%s", data, mac);
}

/* The admin a cookie value names, if it is ours and not expired. */
static int
check_cookie(const char *value, char *login, size_t loginsz)
{
	char data[200], mac[80], *dot1;
	const char *dot2, *why;
	long long expiry;

	if ((dot2 = strrchr(value, '.')) == NULL ||
	    (size_t)(dot2 - value) >= sizeof(data))
		return -1;
	memcpy(data, value, (size_t)(dot2 - value));
	data[dot2 - value] = '\0';
	hmac_hex(data, mac, sizeof(mac));
	if (strlen(dot2 + 1) != strlen(mac) ||
	    CRYPTO_memcmp(dot2 + 1, mac, strlen(mac)) != 0 ||
	    (dot1 = strchr(data, '.')) == NULL)
		return -1;
	*dot1 = '\0';
	if (num_parse(data, 0, 1LL << 40, &expiry, &why) == -1 ||
	    expiry < wall_ms() / 1000)
		return -1;
	return str_copy(login, dot1 + 1, loginsz);
}

/* The CSRF token of a session: forms and API calls that change carry it. */
static void
csrf_token(const char *cookie, char *out, size_t outsz)
{
	char data[300];

	str_fmt(data, sizeof(data), "csrf:%s", cookie);
	hmac_hex(data, out, outsz);
}

static void
read_session(struct wat_req *r, const struct http_msg *m)
{
	char all[1024], *p, *end;
	size_t n = strlen(COOKIE);

	r->login[0] = r->cookie[0] = '\0';
	if (http_header_copy(m, "Cookie", all, sizeof(all)) == -1)
		return;
	for (p = all; p != NULL && *p; p = end) {
		if ((end = strchr(p, ';')) != NULL)
			*end++ = '\0';
		while (*p == ' ')
			p++;
		if (strncmp(p, COOKIE "=", n + 1) == 0 &&
		    check_cookie(p + n + 1, r->login, sizeof(r->login)) == 0) {
			str_copy(r->cookie, p + n + 1, sizeof(r->cookie));
			return;
		}
	}
	r->login[0] = '\0';
}

/* ---- responses ---- */

static int
reply(struct wat_req *r, int status, const char *extra, const char *ctype,
    const char *body)
{
	char head[1024], hdrs[700];

	str_fmt(hdrs, sizeof(hdrs), "%sCache-Control: no-store\r\n"
	    "X-Frame-Options: DENY\r\nContent-Security-Policy: default-src "
	    "'self'; style-src 'unsafe-inline'\r\n", extra ? extra : "");
	if (http_format_head(head, sizeof(head), status, hdrs, ctype,
	    (long long)strlen(body)) < 0)
		return -1;
	return conn_write(r->c, head, strlen(head)) == -1 ||
	    conn_write(r->c, body, strlen(body)) == -1 ? -1 : 0;
}

static int
redirect(struct wat_req *r, const char *to, const char *cookie_header)
{
	char extra[600];

	str_fmt(extra, sizeof(extra), "Location: %s\r\n%s", to,
	    cookie_header ? cookie_header : "");
	return reply(r, 303, extra, "text/plain", "");
}

/* HTML text, escaped. */
static void
html(struct buf *b, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '&': buf_adds(b, "&amp;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default: buf_add(b, s, 1);
		}
}

static void
page_head(struct buf *b, const char *title, const struct wat_req *r)
{
	char token[80];
	size_t i;

	buf_adds(b, "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
	    "<title>QVD - ");
	html(b, title);
	buf_adds(b, "</title><style>body{font-family:sans-serif;margin:2em}"
	    "table{border-collapse:collapse}td,th{padding:.3em .8em;"
	    "border-bottom:1px solid #ccc;text-align:left}"
	    ".logo{font-weight:bold;font-size:1.4em;text-decoration:none;"
	    "color:#c60}</style></head><body>"
	    "<p><a class=\"logo\" href=\"/\">QVD</a>");
	if (r->login[0] != '\0') {
		csrf_token(r->cookie, token, sizeof(token));
		buf_adds(b, " &middot; ");
		html(b, r->login);
		buf_printf(b, " <form method=\"post\" action=\"/logout\" "
		    "style=\"display:inline\"><input type=\"hidden\" "
		    "name=\"csrf\" value=\"%s\"><button id=\"logout\">Log out"
		    "</button></form>", token);
	}
	buf_adds(b, "</p>");
	if (r->login[0] == '\0')
		return;
	buf_adds(b, "<nav>");
	for (i = 0; i < ARRAY_LEN(sections); i++) {
		buf_printf(b, "%s<a href=\"%s\">", i ? " | " : "",
		    sections[i].page);
		html(b, sections[i].title);
		buf_adds(b, "</a>");
	}
	buf_adds(b, "</nav>");
}

/* ---- the dashboard (manual figure 4.2) ---- */

struct totals {
	long long users, vms, running, blocked, sessions, hosts, hosts_up,
	    osfs, dis;
};

static int
count_all(struct db *db, struct totals *t)
{
	struct pg_result *res = db_query(db, "SELECT "
	    "(SELECT count(*) FROM users), (SELECT count(*) FROM vms), "
	    "(SELECT count(*) FROM vm_runtimes WHERE vm_state = 'running'), "
	    "(SELECT count(*) FROM vm_runtimes WHERE blocked), "
	    "(SELECT count(*) FROM vm_runtimes WHERE user_state = "
	    "'connected'), (SELECT count(*) FROM hosts), "
	    "(SELECT count(*) FROM host_runtimes WHERE state = 'running'), "
	    "(SELECT count(*) FROM osfs), (SELECT count(*) FROM dis)", 0);

	if (res == NULL || db_ntuples(res) != 1) {
		db_clear(res);
		return -1;
	}
	t->users = db_int(res, 0, 0);
	t->vms = db_int(res, 0, 1);
	t->running = db_int(res, 0, 2);
	t->blocked = db_int(res, 0, 3);
	t->sessions = db_int(res, 0, 4);
	t->hosts = db_int(res, 0, 5);
	t->hosts_up = db_int(res, 0, 6);
	t->osfs = db_int(res, 0, 7);
	t->dis = db_int(res, 0, 8);
	db_clear(res);
	return 0;
}

/* A pie as inline SVG (no external assets, no trigonometry): one dashed
 * circle per part, each dash its share of a 100-long circumference. */
static void
pie(struct buf *b, const char *title, const char *const *names,
    const long long *values, const char *const *colors, int n)
{
	long long total = 0, start = 0;
	int i;

	for (i = 0; i < n; i++)
		total += values[i];
	buf_adds(b, "<figure><svg width=\"120\" height=\"120\" viewBox=\"-1 -1 "
	    "2 2\" role=\"img\"><title>");
	html(b, title);
	buf_adds(b, "</title><circle r=\"1\" fill=\"#ddd\"/>");
	for (i = 0; i < n && total > 0; i++) {
		buf_printf(b, "<circle r=\"0.5\" fill=\"none\" stroke=\"%s\" "
		    "stroke-width=\"1\" pathLength=\"100\" stroke-dasharray="
		    "\"%.2f 100\" stroke-dashoffset=\"%.2f\" transform=\"rotate"
		    "(-90)\"/>", colors[i], 100.0 * (double)values[i] /
		    (double)total, -100.0 * (double)start / (double)total);
		start += values[i];
	}
	buf_adds(b, "</svg><figcaption>");
	html(b, title);
	for (i = 0; i < n; i++) {
		buf_printf(b, "<br><span style=\"color:%s\">&#9632;</span> ",
		    colors[i]);
		html(b, names[i]);
		buf_printf(b, ": %lld", values[i]);
	}
	buf_adds(b, "</figcaption></figure>");
}

static int
dashboard(struct wat_req *r)
{
	static const char *const vm_names[] = { "running", "stopped",
	    "blocked" }, *const host_names[] = { "running", "stopped" },
	    *const colors[] = { "#3a3", "#999", "#c33" };
	struct buf b = { NULL, 0, 0, 1 << 20 };
	struct totals t;
	long long vm_parts[3], host_parts[2];
	int rc;

	if (count_all(r->db, &t) == -1)
		return reply(r, 503, NULL, "text/plain", "The database is not "
		    "available\r\n");
	vm_parts[0] = t.running;
	vm_parts[1] = t.vms - t.running - t.blocked > 0 ?
	    t.vms - t.running - t.blocked : 0;
	vm_parts[2] = t.blocked;
	host_parts[0] = t.hosts_up;
	host_parts[1] = t.hosts - t.hosts_up;
	page_head(&b, "Dashboard", r);
	buf_adds(&b, "<h1>Dashboard</h1><div style=\"display:flex;gap:3em\">");
	pie(&b, "Virtual machines", vm_names, vm_parts, colors, 3);
	pie(&b, "Nodes", host_names, host_parts, colors, 2);
	buf_printf(&b, "</div><table id=\"totals\"><tr><th>Users</th><td>%lld"
	    "</td></tr><tr><th>Virtual machines</th><td>%lld</td></tr><tr>"
	    "<th>Sessions</th><td>%lld</td></tr><tr><th>Nodes</th><td>%lld</td>"
	    "</tr><tr><th>OS flavours</th><td>%lld</td></tr><tr><th>Disk "
	    "images</th><td>%lld</td></tr></table></body></html>\n", t.users,
	    t.vms, t.sessions, t.hosts, t.osfs, t.dis);
	rc = reply(r, 200, NULL, "text/html; charset=utf-8", buf_str(&b));
	buf_free(&b);
	return rc;
}

static int
api_dashboard(struct wat_req *r)
{
	struct totals t;
	char out[1024];
	struct json_out o;

	if (count_all(r->db, &t) == -1)
		return reply(r, 503, NULL, "application/json",
		    "{\"error\":\"the database is not available\"}\n");
	json_out_init(&o, out, sizeof(out));
	json_begin_obj(&o);
	json_key(&o, "users"); json_emit_int(&o, t.users);
	json_key(&o, "vms"); json_emit_int(&o, t.vms);
	json_key(&o, "vms_running"); json_emit_int(&o, t.running);
	json_key(&o, "vms_blocked"); json_emit_int(&o, t.blocked);
	json_key(&o, "sessions"); json_emit_int(&o, t.sessions);
	json_key(&o, "nodes"); json_emit_int(&o, t.hosts);
	json_key(&o, "nodes_running"); json_emit_int(&o, t.hosts_up);
	json_key(&o, "osfs"); json_emit_int(&o, t.osfs);
	json_key(&o, "dis"); json_emit_int(&o, t.dis);
	json_end_obj(&o);
	return reply(r, 200, NULL, "application/json", out);
}

/* ---- the object lists (lists.c, as qa prints them) ---- */

static struct pg_result *
list_rows(struct wat_req *r, const struct list_def *l)
{
	char *sql = xasprintf("SELECT %s FROM %s ORDER BY %s", l->select,
	    list_from(l), l->order);
	struct pg_result *res = db_query(r->db, sql, 0);

	free(sql);
	return res;
}

static int
list_page(struct wat_req *r, const char *object, const char *title)
{
	const struct list_def *l = list_find(object);
	struct buf b = { NULL, 0, 0, 16 << 20 };
	struct pg_result *res = list_rows(r, l);
	int i, k, rc;

	if (res == NULL)
		return reply(r, 503, NULL, "text/plain", "The database is not "
		    "available\r\n");
	page_head(&b, title, r);
	buf_adds(&b, "<h1>");
	html(&b, title);
	buf_printf(&b, "</h1><table id=\"list\" data-object=\"%s\"><tr>",
	    object);
	for (k = 0; k < l->ncols; k++) {
		buf_adds(&b, "<th>");
		html(&b, l->cols[k].header);
		buf_adds(&b, "</th>");
	}
	buf_adds(&b, "</tr>");
	for (i = 0; i < db_ntuples(res); i++) {
		buf_adds(&b, "<tr>");
		for (k = 0; k < l->ncols; k++) {
			buf_adds(&b, "<td>");
			html(&b, db_isnull(res, i, k) ? "" : db_val(res, i, k));
			buf_adds(&b, "</td>");
		}
		buf_adds(&b, "</tr>");
	}
	buf_adds(&b, "</table></body></html>\n");
	db_clear(res);
	rc = reply(r, 200, NULL, "text/html; charset=utf-8", buf_str(&b));
	buf_free(&b);
	return rc;
}

/* /api/OBJECT: what "qa OBJECT list --json" prints, byte for byte. */
static int
api_list(struct wat_req *r, const char *object)
{
	const struct list_def *l = list_find(object);
	struct pg_result *res;
	char *text = NULL;
	size_t len = 0;
	FILE *fp;
	int rc;

	if (l == NULL)
		return reply(r, 404, NULL, "application/json",
		    "{\"error\":\"no such list\"}\n");
	if ((res = list_rows(r, l)) == NULL)
		return reply(r, 503, NULL, "application/json",
		    "{\"error\":\"the database is not available\"}\n");
	if ((fp = open_memstream(&text, &len)) == NULL) {
		db_clear(res);
		return -1;
	}
	rc = out_rows(fp, l->cols, l->ncols, res, 1, 0);
	fclose(fp);
	db_clear(res);
	rc = rc == -1 ? reply(r, 500, NULL, "application/json",
	    "{\"error\":\"a row is too large\"}\n") :
	    reply(r, 200, NULL, "application/json", text);
	free(text);
	return rc;
}

/* ---- login and logout ---- */

static int
login_page(struct wat_req *r, const char *error)
{
	struct buf b = { NULL, 0, 0, 65536 };
	int rc;

	page_head(&b, "Log in", r);
	buf_adds(&b, "<h1>Log in</h1>");
	if (error != NULL) {
		buf_adds(&b, "<p id=\"error\" style=\"color:#c33\">");
		html(&b, error);
		buf_adds(&b, "</p>");
	}
	buf_adds(&b, "<form method=\"post\" action=\"/login\"><p><label>Login "
	    "<input name=\"login\" autofocus></label></p><p><label>Password "
	    "<input name=\"password\" type=\"password\"></label></p><p>"
	    "<button id=\"submit\">Log in</button></p></form></body></html>\n");
	rc = reply(r, error ? 401 : 200, NULL, "text/html; charset=utf-8",
	    buf_str(&b));
	buf_free(&b);
	return rc;
}

/* wat.admin.password: hashed (qa config set), or the plain default. */
static int
admin_ok(const char *login, const char *password)
{
	const char *want = conf_get("wat.admin.password");

	if (strcmp(login, conf_get("wat.admin.login")) != 0)
		return 0;
	if (str_has_prefix(want, "$"))
		return pass_verify(password, want, NULL);
	return strlen(password) == strlen(want) &&
	    CRYPTO_memcmp(password, want, strlen(want)) == 0;
}

static int
form_value(const struct wat_req *r, const char *key, char *out, size_t outsz)
{
	if (r->body.data == NULL)
		return -1;
	return http_query_get(r->body.data, r->body.len, key, out, outsz);
}

static int
do_login(struct wat_req *r)
{
	char login[128], pass[PASS_MAX + 2], cookie[256], hdr[400];
	int ok;

	if (form_value(r, "login", login, sizeof(login)) == -1 ||
	    form_value(r, "password", pass, sizeof(pass)) == -1)
		return login_page(r, "Login and password are needed");
	ok = admin_ok(login, pass);
	wipe(pass, sizeof(pass));
	if (!ok) {
		log_info("WAT: login of '%s' refused", login);
		return login_page(r, "Wrong login or password");
	}
	log_info("WAT: %s logged in", login);
	make_cookie(login, cookie, sizeof(cookie));
	str_fmt(hdr, sizeof(hdr), "Set-Cookie: " COOKIE "=%s; Path=/; "
	    "HttpOnly; SameSite=Strict\r\n", cookie);
	return redirect(r, "/", hdr);
}

/* A POST that changes something carries the session's CSRF token. */
static int
csrf_ok(const struct wat_req *r)
{
	char given[80], want[80];

	if (r->login[0] == '\0')
		return 0;
	if (form_value(r, "csrf", given, sizeof(given)) == -1 &&
	    str_copy(given, r->csrf_header, sizeof(given)) == -1)
		return 0;
	csrf_token(r->cookie, want, sizeof(want));
	return strlen(given) == strlen(want) &&
	    CRYPTO_memcmp(given, want, strlen(want)) == 0;
}

static int
do_logout(struct wat_req *r)
{
	if (!csrf_ok(r))
		return reply(r, 403, NULL, "text/plain", "Missing or wrong CSRF "
		    "token\r\n");
	return redirect(r, "/login", "Set-Cookie: " COOKIE "=; Path=/; "
	    "Max-Age=0; HttpOnly; SameSite=Strict\r\n");
}

/* ---- routing and connections ---- */

static int
route(struct wat_req *r)
{
	size_t i;

	if (strcmp(r->path, "/login") == 0)
		return r->post ? do_login(r) : login_page(r, NULL);
	if (r->login[0] == '\0')
		return str_has_prefix(r->path, "/api/") ? reply(r, 401, NULL,
		    "application/json", "{\"error\":\"log in first\"}\n") :
		    redirect(r, "/login", NULL);
	if (strcmp(r->path, "/logout") == 0 && r->post)
		return do_logout(r);
	if (strcmp(r->path, "/") == 0)
		return dashboard(r);
	if (strcmp(r->path, "/api/dashboard") == 0)
		return api_dashboard(r);
	if (str_has_prefix(r->path, "/api/"))
		return api_list(r, r->path + 5);
	for (i = 0; i < ARRAY_LEN(sections); i++)
		if (strcmp(r->path, sections[i].page) == 0)
			return list_page(r, sections[i].object,
			    sections[i].title);
	return reply(r, 404, NULL, "text/plain", "Not Found\r\n");
}

static void
serve(int fd, struct db *db)
{
	struct conn c;
	struct http_msg m;
	struct wat_req r;
	long long len;
	int n, keep = 1;

	conn_init(&c, fd, WAT_TIMEOUT_MS);
	memset(&r, 0, sizeof(r));
	r.c = &c;
	while (keep && (n = conn_read_msg(&c, &m, 1)) > 0) {
		memset(&r, 0, sizeof(r));
		r.c = &c;
		r.db = db;
		r.body.max = WAT_MAX_BODY;
		r.post = m.method_len == 4 && memcmp(m.method, "POST", 4) == 0;
		read_session(&r, &m);
		http_header_copy(&m, "X-CSRF-Token", r.csrf_header,
		    sizeof(r.csrf_header));
		len = http_content_length(&m);
		if (len == -1)
			len = 0;	/* no body */
		keep = http_keeps_alive(&m);
		if (http_path(&m, r.path, sizeof(r.path)) == -1 || len < 0 ||
		    len > WAT_MAX_BODY) {
			reply(&r, len > WAT_MAX_BODY ? 413 : 400, NULL,
			    "text/plain", "Bad request\r\n");
			break;
		}
		conn_consume(&c, (size_t)n);
		if (len > 0 && conn_read_body(&c, (size_t)len, &r.body) == -1)
			break;
		if (route(&r) == -1)
			keep = 0;
		buf_free(&r.body);
	}
	if (n < 0 && m.error_status != 0)
		reply(&r, m.error_status, NULL, "text/plain", "Bad request\r\n");
	conn_close(&c);
}

static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Accept until SIGTERM; each connection in a child of its own. */
static int
run(int lfd)
{
	struct sigaction sa;
	struct db *db;
	char err[256];
	pid_t pid;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGCHLD, SIG_IGN);	/* the kernel reaps the children */
	signal(SIGPIPE, SIG_IGN);
	while (!stopping) {
		if ((fd = accept(lfd, NULL, NULL)) == -1) {
			if (errno != EINTR)
				log_error("WAT: accept: %s", strerror(errno));
			continue;
		}
		if ((pid = fork()) == 0) {
			close(lfd);
			signal(SIGTERM, SIG_DFL);
			if ((db = db_open(err, sizeof(err))) == NULL) {
				log_error("WAT: %s", err);
				_exit(1);
			}
			db_load_config(db);
			serve(fd, db);
			db_close(db);
			_exit(0);
		}
		if (pid == -1)
			log_error("WAT: fork: %s", strerror(errno));
		close(fd);
	}
	log_info("WAT: stopping");
	return 0;
}

int
main(int argc, char **argv)
{
	const char *cfile = NULL;
	char err[256], port[16];
	struct db *db;
	int ch, foreground = 0, check = 0, lfd;

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
	log_open_from_conf("qvd-wat", foreground || check);
	if ((db = db_open(err, sizeof(err))) == NULL ||
	    db_load_config(db) == -1 || !db_schema_present(db)) {
		fprintf(stderr, "qvd-wat: %s\n", db ? "the database has no QVD "
		    "schema (qvd-deploy-db)" : err);
		return 1;
	}
	db_close(db);
	str_fmt(port, sizeof(port), "%lld", conf_int("wat.port", 3000));
	if (check) {
		printf("qvd-wat: %s: configuration OK (port %s)\n", cfile, port);
		return 0;
	}
	if ((lfd = tcp_listen(strcmp(conf_get("wat.address"), "*") == 0 ?
	    NULL : conf_get("wat.address"), port, 128, err, sizeof(err))) ==
	    -1) {
		fprintf(stderr, "qvd-wat: %s\n", err);
		return 1;
	}
	if (RAND_bytes(session_key, sizeof(session_key)) != 1) {
		fprintf(stderr, "qvd-wat: no randomness for the session key\n");
		return 1;
	}
	if (!foreground && daemon_detach(err, sizeof(err)) == -1) {
		fprintf(stderr, "qvd-wat: %s\n", err);
		return 1;
	}
	log_info("WAT listening on %s:%s", conf_get("wat.address"), port);
	return run(lfd);
}
