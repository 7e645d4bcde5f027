/* SPDX-License-Identifier: GPL-3.0-or-later */
/* watpage.c -- the WAT's pages: the frame every page shares (navigation,
 * the last action's message, escaping), the dashboard of manual 4.3, the
 * object lists with their checkboxes and action buttons, the little script
 * that adds select-all and confirmation dialogs, and the GET routes of
 * pages and of /api/.  Object pages and forms are in watform.c. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qvd.h"

/* The object lists, at the manual's URLs.  A column is a lists.c json key,
 * "key=Heading", or "a/b=Heading" for two values shown as "a / b". */
static const char *const user_cols[] = { "id", "login",
	"sessions/vms=State", NULL };
static const char *const vm_cols[] = { "id", "name", "user", "osf=OS flavour",
	"di_tag=DI tag", "state", "host=Node", "user_state=Session", "blocked",
	NULL };
static const char *const host_cols[] = { "id", "name", "address", "state",
	"blocked", "vms_assigned=VMs running", NULL };
static const char *const osf_cols[] = { "id", "name",
	"use_overlay=Overlay", "memory=Memory (MB)",
	"user_storage_size=User space (MB)", NULL };
static const char *const di_cols[] = { "id", "osf=OS flavour", "version",
	"tags", NULL };

static const char *const user_verbs[] = { "delete", NULL };
static const char *const vm_verbs[] = { "start", "stop", "block", "unblock",
	"disconnect", "delete", NULL };
static const char *const host_verbs[] = { "block", "unblock", "delete", NULL };
static const char *const osf_verbs[] = { "delete", NULL };
static const char *const di_verbs[] = { "default", "delete", NULL };

const struct wat_view wat_views[] = {
	{ "/users/", "user", "Users", user_cols, user_verbs, 1 },
	{ "/vm/", "vm", "Virtual machines", vm_cols, vm_verbs, 1 },
	{ "/hosts/", "host", "Nodes", host_cols, host_verbs, 0 },
	{ "/osf/", "osf", "OS flavours", osf_cols, osf_verbs, 0 },
	{ "/di/", "di", "Disk images", di_cols, di_verbs, 0 },
	{ NULL, NULL, NULL, NULL, NULL, 0 }
};

/* Select-all and "are you sure?": the pages work without it. */
static const char wat_js[] =
    "document.addEventListener('change', function (e) {\n"
    "  if (e.target.id !== 'all') return;\n"
    "  document.querySelectorAll('input[name=id]').forEach(function (c) {\n"
    "    c.checked = e.target.checked; });\n"
    "});\n"
    "document.addEventListener('submit', function (e) {\n"
    "  var b = e.submitter, q = b && b.getAttribute('data-confirm');\n"
    "  if (!q) return;\n"
    "  if (!window.confirm(q)) { e.preventDefault(); return; }\n"
    "  var f = e.target.querySelector('input[name=confirmed]');\n"
    "  if (f) f.value = '1';\n"
    "});\n";

/* ---- the frame ---- */

/* HTML text, escaped. */
void
wat_html(struct buf *b, const char *s)
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

/* The hidden fields every form that changes something carries. */
void
wat_form_hidden(struct buf *b, const struct wat_req *r, const char *back)
{
	char token[80];

	wat_csrf_token(r, token, sizeof(token));
	buf_printf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
	    "<input type=\"hidden\" name=\"back\" value=\"", token);
	wat_html(b, back);
	buf_adds(b, "\"><input type=\"hidden\" name=\"confirmed\" value=\"\">");
}

void
wat_page_head(struct buf *b, const char *title, struct wat_req *r)
{
	const struct wat_view *v;
	char token[80];

	buf_adds(b, "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
	    "<title>QVD - ");
	wat_html(b, title);
	buf_adds(b, "</title><script src=\"/wat.js\" defer></script><style>"
	    "body{font-family:sans-serif;margin:1em 2em}table{border-"
	    "collapse:collapse;margin:.5em 0}td,th{padding:.25em .7em;"
	    "border-bottom:1px solid #ccc;text-align:left}nav a{margin-right:"
	    "1em}.logo{font-weight:bold;font-size:1.5em;text-decoration:none;"
	    "color:#c60;margin-right:1em}.err{color:#b00}.ok{color:#070}"
	    "header{display:flex;align-items:center;gap:1em;border-bottom:"
	    "2px solid #c60;padding-bottom:.4em}.who{margin-left:auto}"
	    "</style></head><body><header><a class=\"logo\" href=\"/\" "
	    "id=\"logo\">QVD</a>");
	if (r->login[0] != '\0') {
		buf_adds(b, "<nav>");
		for (v = wat_views; v->page != NULL; v++) {
			buf_printf(b, "<a href=\"%s\">", v->page);
			wat_html(b, v->title);
			buf_adds(b, "</a>");
		}
		wat_csrf_token(r, token, sizeof(token));
		buf_adds(b, "</nav><span class=\"who\">");
		wat_html(b, r->login);
		buf_printf(b, " <form method=\"post\" action=\"/logout\" "
		    "style=\"display:inline\"><input type=\"hidden\" "
		    "name=\"csrf\" value=\"%s\"><button id=\"logout\">Log out"
		    "</button></form></span>", token);
	}
	buf_adds(b, "</header>");
	if (r->flash[0] != '\0') {
		buf_printf(b, "<p id=\"flash\" class=\"%s\">", r->flash_error ?
		    "err" : "ok");
		wat_html(b, r->flash);
		buf_adds(b, "</p>");
	}
}

/* Ends the page, sends it (clearing a shown flash message), frees it. */
int
wat_page_send(struct wat_req *r, struct buf *b, int status)
{
	int rc;

	buf_adds(b, "</body></html>\n");
	rc = wat_reply(r, status, wat_flash_clear(r),
	    "text/html; charset=utf-8", buf_str(b));
	buf_free(b);
	return rc;
}

static int
db_down(struct wat_req *r)
{
	return wat_reply(r, 503, NULL, "text/plain", "The database is not "
	    "available\r\n");
}

/* ---- the dashboard (manual figure 4.2) ---- */

#define CIRCUMFERENCE	3.14159265	/* of the pies' r = 0.5 circles */

struct totals {
	long long users, vms, running, blocked, sessions, hosts, hosts_up,
	    osfs, dis;
};

static int
count_all(struct db *db, struct totals *t)
{
	struct pg_result *res = db_query(db, "SELECT "
	    "(SELECT count(*) FROM users), (SELECT count(*) FROM vms), "
	    "(SELECT count(*) FROM vm_runtimes WHERE vm_state = 'running' AND "
	    "NOT blocked), (SELECT count(*) FROM vm_runtimes WHERE blocked OR "
	    "vm_state = 'failed'), (SELECT count(*) FROM vm_runtimes WHERE "
	    "user_state = 'connected'), (SELECT count(*) FROM hosts), "
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
 * circle per part (radius 0.5, stroke 1 wide: it fills the disc), each
 * dash its share of the circumference. */
static void
pie(struct buf *b, const char *id, const char *title,
    const char *const *names, const long long *values, int n)
{
	static const char *const colors[] = { "#3a3", "#999", "#c33" };
	long long total = 0, start = 0;
	int i;

	for (i = 0; i < n; i++)
		total += values[i];
	buf_printf(b, "<figure id=\"%s\"><svg width=\"140\" height=\"140\" "
	    "viewBox=\"-1 -1 2 2\" role=\"img\"><title>", id);
	wat_html(b, title);
	buf_adds(b, "</title><circle r=\"1\" fill=\"#ddd\"/>");
	for (i = 0; i < n && total > 0; i++) {
		buf_printf(b, "<circle r=\"0.5\" fill=\"none\" stroke=\"%s\" "
		    "stroke-width=\"1\" stroke-dasharray=\"%.4f %.4f\" "
		    "stroke-dashoffset=\"%.4f\" transform=\"rotate(-90)\"/>",
		    colors[i], CIRCUMFERENCE * (double)values[i] / (double)total,
		    CIRCUMFERENCE, -CIRCUMFERENCE * (double)start /
		    (double)total);
		start += values[i];
	}
	buf_adds(b, "</svg><figcaption><b>");
	wat_html(b, title);
	buf_adds(b, "</b>");
	for (i = 0; i < n; i++) {
		buf_printf(b, "<br><span style=\"color:%s\">&#9632;</span> ",
		    colors[i]);
		wat_html(b, names[i]);
		buf_printf(b, ": %lld", values[i]);
	}
	buf_adds(b, "</figcaption></figure>");
}

static int
dashboard(struct wat_req *r)
{
	static const char *const vm_names[] = { "running", "stopped",
	    "failed (blocked)" }, *const host_names[] = { "running",
	    "stopped" };
	struct buf b = { NULL, 0, 0, 1 << 20 };
	struct totals t;
	long long vm_parts[3], host_parts[2];

	if (count_all(r->db, &t) == -1)
		return db_down(r);
	vm_parts[0] = t.running;
	vm_parts[2] = t.blocked;
	vm_parts[1] = t.vms - t.running - t.blocked > 0 ?
	    t.vms - t.running - t.blocked : 0;
	host_parts[0] = t.hosts_up;
	host_parts[1] = t.hosts - t.hosts_up;
	wat_page_head(&b, "Dashboard", r);
	buf_adds(&b, "<h1>Welcome to QVD</h1><div style=\"display:flex;"
	    "gap:3em\">");
	pie(&b, "pie-vms", "Virtual machines", vm_names, vm_parts, 3);
	pie(&b, "pie-nodes", "Nodes", host_names, host_parts, 2);
	buf_printf(&b, "</div><h2>Totals</h2><table id=\"totals\"><tr><th>"
	    "Users</th><td>%lld</td></tr><tr><th>Virtual machines</th><td>"
	    "%lld</td></tr><tr><th>Sessions</th><td>%lld</td></tr><tr><th>"
	    "Nodes</th><td>%lld</td></tr><tr><th>OS flavours</th><td>%lld"
	    "</td></tr><tr><th>Disk images</th><td>%lld</td></tr></table>",
	    t.users, t.vms, t.sessions, t.hosts, t.osfs, t.dis);
	return wat_page_send(r, &b, 200);
}

static int
api_dashboard(struct wat_req *r)
{
	struct totals t;
	char out[1024];
	struct json_out o;

	if (count_all(r->db, &t) == -1)
		return wat_json_error(r, 503, "the database is not available");
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
	return wat_json(r, 200, &o);
}

/* ---- the object lists (lists.c: what qa prints) ---- */

/* The list's rows; "where" may narrow them with $1 = arg. */
struct pg_result *
wat_list_rows(struct wat_req *r, const struct list_def *l,
    const char *where, const char *arg)
{
	char *sql = xasprintf("SELECT %s FROM %s WHERE %s ORDER BY %s",
	    l->select, list_from(l), where ? where : "TRUE", l->order);
	struct pg_result *res = arg ? db_query(r->db, sql, 1, arg) :
	    db_query(r->db, sql, 0);

	free(sql);
	return res;
}

static int
col_index(const struct list_def *l, const char *key, size_t keylen)
{
	int k;

	for (k = 0; k < l->ncols; k++)
		if (strlen(l->cols[k].json_key) == keylen &&
		    strncmp(l->cols[k].json_key, key, keylen) == 0)
			return k;
	return -1;
}

/* One view column: up to two list columns and a heading. */
struct vcol {
	int		 a, b;		/* b < 0: one value */
	const char	*heading;
};

static void
view_col(const struct list_def *l, const char *spec, struct vcol *vc)
{
	const char *eq = strchr(spec, '='), *slash = strchr(spec, '/');
	size_t keylen = eq ? (size_t)(eq - spec) : strlen(spec);

	vc->b = -1;
	if (slash != NULL && (eq == NULL || slash < eq)) {
		vc->a = col_index(l, spec, (size_t)(slash - spec));
		vc->b = col_index(l, slash + 1, keylen - (size_t)(slash - spec)
		    - 1);
	} else
		vc->a = col_index(l, spec, keylen);
	vc->heading = eq ? eq + 1 : vc->a >= 0 ? l->cols[vc->a].header : spec;
}

static const char *
cell(const struct list_def *l, struct pg_result *res, int i, int k,
    char *buf, size_t bufsz)
{
	const struct out_col *c = &l->cols[k];

	if (db_isnull(res, i, k))
		return "";
	if (c->type == COL_BOOL)
		return strcmp(db_val(res, i, k), "t") == 0 ? "yes" : "";
	return out_cell(c, db_val(res, i, k), 0, buf, bufsz);
}

/* A row matches the search when one of its shown cells contains q. */
static int
row_matches(const struct list_def *l, struct pg_result *res, int i,
    const struct vcol *vc, int nvc, const char *q)
{
	char buf[512];
	int k;

	if (*q == '\0')
		return 1;
	for (k = 0; k < nvc; k++)
		if ((vc[k].a >= 0 && strcasestr(cell(l, res, i, vc[k].a, buf,
		    sizeof(buf)), q) != NULL) || (vc[k].b >= 0 &&
		    strcasestr(cell(l, res, i, vc[k].b, buf, sizeof(buf)), q)
		    != NULL))
			return 1;
	return 0;
}

static void
list_cell(struct buf *b, const struct wat_view *v, const struct list_def *l,
    struct pg_result *res, int i, const struct vcol *vc)
{
	char buf[512];

	buf_adds(b, "<td>");
	if (vc->a == 0 && v->linked) {	/* the id: a link to its page */
		buf_printf(b, "<a href=\"%s%s\">", v->page, db_val(res, i, 0));
		wat_html(b, db_val(res, i, 0));
		buf_adds(b, "</a></td>");
		return;
	}
	if (vc->a >= 0)
		wat_html(b, cell(l, res, i, vc->a, buf, sizeof(buf)));
	if (vc->b >= 0) {
		buf_adds(b, " / ");
		wat_html(b, cell(l, res, i, vc->b, buf, sizeof(buf)));
	}
	buf_adds(b, "</td>");
}

/*
 * The disk images' "Default" column: a radio per OSF (manual 4.3.7); the
 * default row also says, hidden, which DI the page showed as default, so
 * that "Set defaults" changes only what the admin changed and sees a
 * change made meanwhile.
 */
static void
default_radio(struct buf *b, const struct list_def *l, struct pg_result *res,
    int i)
{
	int osf = col_index(l, "osf", 3), tags = col_index(l, "tags", 4);
	int is_default = !db_isnull(res, i, tags) &&
	    di_has_tag(db_val(res, i, tags), "default");

	buf_adds(b, "<td><input type=\"radio\" name=\"default_");
	wat_html(b, db_val(res, i, osf));
	buf_printf(b, "\" value=\"%s\"%s>", db_val(res, i, 0),
	    is_default ? " checked" : "");
	if (is_default) {
		buf_adds(b, "<input type=\"hidden\" name=\"was_");
		wat_html(b, db_val(res, i, osf));
		buf_printf(b, "\" value=\"%s\">", db_val(res, i, 0));
	}
	buf_adds(b, "</td>");
}

/* The buttons of the view's actions, for a form with "id" fields. */
void
wat_action_buttons(struct buf *b, const struct wat_view *v)
{
	const struct wat_action *a;
	int i;

	buf_adds(b, "<p class=\"actions\">");
	for (i = 0; v->verbs[i] != NULL; i++) {
		if ((a = wat_action_find(v->object, v->verbs[i])) == NULL)
			continue;
		buf_printf(b, "<button id=\"do-%s\" formaction=\"/api/%s/%s\"",
		    a->verb, a->object, a->verb);
		if (a->confirm != NULL) {
			buf_adds(b, " data-confirm=\"");
			wat_html(b, a->confirm);
			buf_adds(b, "\"");
		}
		buf_adds(b, ">");
		wat_html(b, a->label);
		buf_adds(b, "</button> ");
	}
	buf_adds(b, "</p>");
}

/* The list as a form: a checkbox per row, the actions as buttons.  With
 * where/arg only some rows (a user's VMs); back is where actions return. */
void
wat_list_form(struct wat_req *r, struct buf *b, const struct wat_view *v,
    const char *where, const char *arg, const char *back, const char *q)
{
	const struct list_def *l = list_find(v->object);
	struct pg_result *res = wat_list_rows(r, l, where, arg);
	struct vcol vc[16];
	int nvc, i, k, shown = 0;

	if (res == NULL) {
		buf_adds(b, "<p class=\"err\">The database is not available</p>");
		return;
	}
	for (nvc = 0; v->cols[nvc] != NULL && nvc < 16; nvc++)
		view_col(l, v->cols[nvc], &vc[nvc]);
	buf_printf(b, "<form method=\"post\" action=\"/api/%s/%s\">",
	    v->object, v->verbs[0]);
	wat_form_hidden(b, r, back);
	buf_printf(b, "<table id=\"list\" data-object=\"%s\"><tr><th><input "
	    "type=\"checkbox\" id=\"all\" title=\"Select all\"></th>",
	    v->object);
	for (k = 0; k < nvc; k++) {
		buf_adds(b, "<th>");
		wat_html(b, vc[k].heading);
		buf_adds(b, "</th>");
	}
	buf_adds(b, strcmp(v->object, "di") == 0 ? "<th>Default</th></tr>" :
	    "</tr>");
	for (i = 0; i < db_ntuples(res); i++) {
		if (!row_matches(l, res, i, vc, nvc, q))
			continue;
		shown++;
		buf_printf(b, "<tr id=\"row-%s\"><td><input type=\"checkbox\" "
		    "name=\"id\" value=\"%s\"></td>", db_val(res, i, 0),
		    db_val(res, i, 0));
		for (k = 0; k < nvc; k++)
			list_cell(b, v, l, res, i, &vc[k]);
		if (strcmp(v->object, "di") == 0)
			default_radio(b, l, res, i);
		buf_adds(b, "</tr>");
	}
	buf_printf(b, "</table><p class=\"count\">%d shown of %d</p>", shown,
	    db_ntuples(res));
	db_clear(res);
	wat_action_buttons(b, v);
	buf_adds(b, "</form>");
}

static int
list_page(struct wat_req *r, const struct wat_view *v)
{
	struct buf b = { NULL, 0, 0, 64 << 20 };
	char q[128];

	wat_query(r, "q", q, sizeof(q));
	wat_page_head(&b, v->title, r);
	buf_adds(&b, "<h1>");
	wat_html(&b, v->title);
	buf_adds(&b, "</h1><form method=\"get\" class=\"search\">");
	if (strcmp(v->object, "vm") != 0)	/* VMs are made on user pages */
		buf_printf(&b, "<a href=\"%snew\" id=\"new\">+ New</a> ",
		    v->page);
	buf_adds(&b, "<input name=\"q\" id=\"q\" placeholder=\"Search\" value=\"");
	wat_html(&b, q);
	buf_adds(&b, "\"> <button id=\"search\">Search</button></form>");
	wat_list_form(r, &b, v, NULL, NULL, v->page, q);
	return wat_page_send(r, &b, 200);
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
		return wat_json_error(r, 404, "no such list: %s", object);
	if ((res = wat_list_rows(r, l, NULL, NULL)) == NULL)
		return wat_json_error(r, 503, "the database is not available");
	if ((fp = open_memstream(&text, &len)) == NULL) {
		db_clear(res);
		return -1;
	}
	rc = out_rows(fp, l->cols, l->ncols, res, 1, 0);
	fclose(fp);
	db_clear(res);
	rc = rc == -1 ? wat_json_error(r, 500, "a row is too large") :
	    wat_reply(r, 200, NULL, "application/json", text);
	free(text);
	return rc;
}

/* ---- GET routes ---- */

const struct wat_view *
wat_view_of(const char *object)
{
	const struct wat_view *v;

	for (v = wat_views; v->page != NULL; v++)
		if (strcmp(v->object, object) == 0)
			return v;
	return NULL;
}

int
wat_get(struct wat_req *r)
{
	const struct wat_view *v;
	const char *rest;

	if (strcmp(r->path, "/wat.js") == 0)
		return wat_reply(r, 200, NULL, "text/javascript", wat_js);
	if (strcmp(r->path, "/") == 0)
		return dashboard(r);
	if (str_has_prefix(r->path, "/di/job/"))
		return wat_di_job(r, r->path + 8, 0);
	for (v = wat_views; v->page != NULL; v++) {
		if (!str_has_prefix(r->path, v->page))
			continue;
		rest = r->path + strlen(v->page);
		if (*rest == '\0')
			return list_page(r, v);
		return wat_form_page(r, v, rest);
	}
	return wat_reply(r, 404, NULL, "text/plain", "Not Found\r\n");
}

int
wat_api_get(struct wat_req *r)
{
	const char *what = r->path + 5;

	if (strcmp(what, "dashboard") == 0)
		return api_dashboard(r);
	if (str_has_prefix(what, "di/job/"))
		return wat_di_job(r, what + 7, 1);
	if (strcmp(what, "staging") == 0)
		return wat_api_staging(r);
	if (str_has_prefix(what, "vm/"))
		return wat_api_vm(r, what + 3);
	return api_list(r, what);
}
