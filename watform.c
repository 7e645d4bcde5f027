/* SPDX-License-Identifier: GPL-3.0-or-later */
/* watform.c -- the WAT's object pages and forms: a user's page (change
 * password, new virtual machine, the user's VMs), a VM's runtime
 * parameters (manual figure 4.9) with its edit form and how to reach its
 * console, the "New" forms of users, nodes, OS flavours and disk images,
 * and the JSON of a VM and of the staging directory. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"

static int
not_found(struct wat_req *r, const char *what)
{
	struct buf b = { NULL, 0, 0, 65536 };

	wat_page_head(&b, "Not found", r);
	buf_adds(&b, "<h1>Not found</h1><p class=\"err\">");
	wat_html(&b, what);
	buf_adds(&b, "</p>");
	return wat_page_send(r, &b, 404);
}

/* <h1>Section » name</h1> with the section linked. */
static void
heading(struct buf *b, const struct wat_view *v, const char *name)
{
	buf_printf(b, "<h1><a href=\"%s\">", v->page);
	wat_html(b, v->title);
	buf_adds(b, "</a> &raquo; ");
	wat_html(b, name);
	buf_adds(b, "</h1>");
}

static void
form_begin(struct buf *b, const struct wat_req *r, const char *id,
    const char *action, const char *back)
{
	buf_printf(b, "<form method=\"post\" id=\"%s\" action=\"%s\">", id,
	    action);
	wat_form_hidden(b, r, back);
}

static void
field(struct buf *b, const char *label, const char *name, const char *type,
    const char *value)
{
	buf_adds(b, "<p><label>");
	wat_html(b, label);
	buf_printf(b, " <input name=\"%s\" type=\"%s\" value=\"", name, type);
	wat_html(b, value);
	buf_adds(b, "\"></label></p>");
}

static void
form_end(struct buf *b, const char *button)
{
	buf_adds(b, "<p><button type=\"submit\">");
	wat_html(b, button);
	buf_adds(b, "</button></p></form>");
}

/* <select name=NAME> over "SELECT id, label FROM ..." */
static int
select_of(struct wat_req *r, struct buf *b, const char *label,
    const char *name, const char *sql)
{
	struct pg_result *res = db_query(r->db, sql, 0);
	int i, n;

	if (res == NULL)
		return -1;
	buf_adds(b, "<p><label>");
	wat_html(b, label);
	buf_printf(b, " <select name=\"%s\">", name);
	for (i = 0; i < db_ntuples(res); i++) {
		buf_printf(b, "<option value=\"%s\">", db_val(res, i, 0));
		wat_html(b, db_val(res, i, 1));
		buf_adds(b, "</option>");
	}
	buf_adds(b, "</select></label></p>");
	n = db_ntuples(res);
	db_clear(res);
	return n;
}

/* ---- a user's page (manual figure 4.6) ---- */

static int
user_page(struct wat_req *r, const struct wat_view *v, const char *id)
{
	struct buf b = { NULL, 0, 0, 64 << 20 };
	struct pg_result *res;
	char back[64];
	int nosf;

	res = db_query(r->db, "SELECT id, login FROM users WHERE id = $1", 1,
	    id);
	if (res == NULL || db_ntuples(res) != 1) {
		db_clear(res);
		return not_found(r, "No such user");
	}
	str_fmt(back, sizeof(back), "/users/%s", id);
	wat_page_head(&b, db_val(res, 0, 1), r);
	heading(&b, v, db_val(res, 0, 1));
	buf_printf(&b, "<table id=\"user\"><tr><th>Identifier</th><td>%s</td>"
	    "</tr><tr><th>Name</th><td>", db_val(res, 0, 0));
	wat_html(&b, db_val(res, 0, 1));
	buf_adds(&b, "</td></tr></table><h2>Change password</h2>");
	db_clear(res);
	form_begin(&b, r, "passwd", "/api/user/passwd", back);
	buf_printf(&b, "<input type=\"hidden\" name=\"id\" value=\"%s\">", id);
	field(&b, "New password", "password", "password", "");
	field(&b, "Confirm password", "confirm", "password", "");
	form_end(&b, "Change password");
	buf_adds(&b, "<h2>New virtual machine</h2>");
	form_begin(&b, r, "newvm", "/api/vm/new", "/vm/");
	buf_printf(&b, "<input type=\"hidden\" name=\"user_id\" value=\"%s\">",
	    id);
	field(&b, "Name", "name", "text", "");
	nosf = select_of(r, &b, "OS flavour", "osf_id", "SELECT id, name FROM "
	    "osfs ORDER BY name");
	field(&b, "DI tag", "di_tag", "text", "default");
	form_end(&b, "Create");
	if (nosf == 0)
		buf_adds(&b, "<p class=\"err\">There is no OS flavour yet: add "
		    "one under <a href=\"/osf/\">OS flavours</a>.</p>");
	buf_adds(&b, "<h2>Assigned virtual machines</h2>");
	wat_list_form(r, &b, wat_view_of("vm"), "v.user_id = $1", id, back,
	    "");
	return wat_page_send(r, &b, 200);
}

/* ---- a VM's runtime parameters (manual figure 4.9) ---- */

static const struct {
	const char	*label;
	const char	*key;		/* in /api/vm/ID */
} vm_fields[] = {
	{ "Identifier", "id" }, { "Name", "name" }, { "User", "user" },
	{ "OS flavour", "osf" }, { "DI tag", "di_tag" },
	{ "Current IP address", "ip" }, { "Next boot IP address",
	"next_boot_ip" }, { "State", "state" }, { "Node", "node" },
	{ "SSH port", "ssh_port" }, { "VNC port", "vnc_port" },
	{ "Serial port", "serial_port" }, { "Blocked", "blocked" },
	{ "Failure", "failure" }, { "User state", "user_state" },
	{ "Node address", "node_address" },
};

static struct pg_result *
vm_row(struct wat_req *r, const char *id)
{
	return db_query(r->db, "SELECT v.id, v.name, u.login, o.name, "
	    "v.di_tag, CASE WHEN rt.vm_state <> 'stopped' THEN rt.vm_address "
	    "END, v.ip, rt.vm_state, h.name, rt.vm_ssh_port, rt.vm_vnc_port, "
	    "rt.vm_serial_port, CASE WHEN rt.blocked THEN 'yes' ELSE '' END, "
	    "rt.vm_failure, rt.user_state, h.address FROM vms v JOIN "
	    "vm_runtimes rt ON rt.vm_id = v.id JOIN users u ON u.id = "
	    "v.user_id JOIN osfs o ON o.id = v.osf_id LEFT JOIN hosts h ON "
	    "h.id = rt.host_id WHERE v.id = $1", 1, id);
}

static const char *
val(struct pg_result *res, int k)
{
	return db_isnull(res, 0, k) ? "" : db_val(res, 0, k);
}

/* How to reach the console: the manual's Java telnet applet is gone. */
static void
console_help(struct buf *b, struct pg_result *res)
{
	const char *hv = conf_get("vm.hypervisor");

	buf_adds(b, "<h2>Terminal console</h2><p>The Java telnet applet of "
	    "the manual is obsolete (browsers no longer run Java). Reach the "
	    "console from a shell instead:</p><pre id=\"console\">");
	buf_printf(b, "qa vm console -f id=%s", val(res, 0));
	if (strcmp(hv, "lxc") == 0) {
		buf_adds(b, "    # on the node running it");
		if (*val(res, 8)) {
			buf_adds(b, " (");
			wat_html(b, val(res, 8));
			buf_adds(b, ")");
		}
	} else if (*val(res, 11) && *val(res, 15)) {
		buf_adds(b, "\ntelnet ");
		wat_html(b, val(res, 15));
		buf_printf(b, " %s", val(res, 11));
	}
	buf_adds(b, "</pre>");
	if (strcmp(val(res, 7), "stopped") == 0)
		buf_adds(b, "<p>The VM is stopped: start it first.</p>");
}

static int
vm_page(struct wat_req *r, const struct wat_view *v, const char *id)
{
	struct buf b = { NULL, 0, 0, 1 << 20 };
	struct pg_result *res = vm_row(r, id);
	char back[64];
	size_t k;

	if (res == NULL || db_ntuples(res) != 1) {
		db_clear(res);
		return not_found(r, "No such virtual machine");
	}
	str_fmt(back, sizeof(back), "/vm/%s", id);
	wat_page_head(&b, val(res, 1), r);
	heading(&b, v, val(res, 1));
	buf_adds(&b, "<table id=\"vm\">");
	for (k = 0; k < ARRAY_LEN(vm_fields) - 1; k++) {
		buf_printf(&b, "<tr id=\"vm-%s\"><th>", vm_fields[k].key);
		wat_html(&b, vm_fields[k].label);
		buf_adds(&b, "</th><td>");
		wat_html(&b, val(res, (int)k));
		buf_adds(&b, "</td></tr>");
	}
	buf_adds(&b, "</table>");
	form_begin(&b, r, "vmactions", "/api/vm/start", back);
	buf_printf(&b, "<input type=\"hidden\" name=\"id\" value=\"%s\">", id);
	wat_action_buttons(&b, v);
	buf_adds(&b, "</form><h2>Edit</h2>");
	form_begin(&b, r, "vmedit", "/api/vm/edit", back);
	buf_printf(&b, "<input type=\"hidden\" name=\"id\" value=\"%s\">", id);
	field(&b, "Name", "name", "text", val(res, 1));
	field(&b, "DI tag", "di_tag", "text", val(res, 4));
	form_end(&b, "Save");
	console_help(&b, res);
	db_clear(res);
	return wat_page_send(r, &b, 200);
}

int
wat_api_vm(struct wat_req *r, const char *id)
{
	struct pg_result *res;
	struct json_out o;
	char out[16384];
	size_t k;

	if (strspn(id, "0123456789") != strlen(id) || *id == '\0' ||
	    strlen(id) > 15)
		return wat_json_error(r, 404, "no such VM: %s", id);
	if ((res = vm_row(r, id)) == NULL)
		return wat_json_error(r, 503, "the database is not available");
	if (db_ntuples(res) != 1) {
		db_clear(res);
		return wat_json_error(r, 404, "no such VM: %s", id);
	}
	json_out_init(&o, out, sizeof(out));
	json_begin_obj(&o);
	for (k = 0; k < ARRAY_LEN(vm_fields); k++) {
		json_key(&o, vm_fields[k].key);
		if (db_isnull(res, 0, (int)k))
			json_emit_null(&o);
		else if (strcmp(vm_fields[k].key, "blocked") == 0)
			json_emit_bool(&o, *val(res, (int)k) != '\0');
		else
			json_emit_str(&o, val(res, (int)k));
	}
	json_end_obj(&o);
	db_clear(res);
	return wat_json(r, 200, &o);
}

/* ---- "New" forms (manual 4.3.4, 4.3.6, 4.3.7, 4.3.8) ---- */

static void
new_user(struct wat_req *r, struct buf *b)
{
	form_begin(b, r, "new", "/api/user/new", "/users/");
	field(b, "Login", "login", "text", "");
	field(b, "Password", "password", "password", "");
	field(b, "Confirm password", "confirm", "password", "");
	form_end(b, "Submit");
}

static void
new_host(struct wat_req *r, struct buf *b)
{
	form_begin(b, r, "new", "/api/host/new", "/hosts/");
	field(b, "Name", "name", "text", "");
	field(b, "IP address", "address", "text", "");
	form_end(b, "Add node");
}

static void
new_osf(struct wat_req *r, struct buf *b)
{
	char mem[24];

	str_fmt(mem, sizeof(mem), "%lld", conf_int("osf.default.memory", 256));
	form_begin(b, r, "new", "/api/osf/new", "/osf/");
	buf_adds(b, "<p>The name is mandatory.</p>");
	field(b, "Name", "name", "text", "");
	field(b, "Memory (MB)", "memory", "number", mem);
	field(b, "User space (MB, empty: none)", "user_storage_size",
	    "number", "");
	buf_printf(b, "<p><label>Overlay <select name=\"use_overlay\"><option "
	    "value=\"1\"%s>yes</option><option value=\"0\"%s>no</option>"
	    "</select></label></p>", conf_bool("osf.default.overlay") ?
	    " selected" : "", conf_bool("osf.default.overlay") ? "" :
	    " selected");
	form_end(b, "Create");
}

static void
new_di(struct wat_req *r, struct buf *b)
{
	char err[ADMIN_ERRSZ], **files;
	int n, i;

	form_begin(b, r, "new", "/api/di/new", "/di/");
	buf_adds(b, "<p>OS flavour and image file are mandatory.</p>");
	select_of(r, b, "OS flavour", "osf_id", "SELECT id, name FROM osfs "
	    "ORDER BY name");
	if ((n = di_staging_list(&files, err)) <= 0) {
		buf_adds(b, "<p class=\"err\">");
		wat_html(b, n == 0 ? "There is no image file in the staging "
		    "directory: copy one into " : err);
		if (n == 0)
			wat_html(b, conf_get("path.storage.staging"));
		buf_adds(b, "</p></form>");
		return;
	}
	buf_adds(b, "<p><label>Image file <select name=\"file\">");
	for (i = 0; i < n; i++) {
		buf_adds(b, "<option>");
		wat_html(b, files[i]);
		buf_adds(b, "</option>");
		free(files[i]);
	}
	free(files);
	buf_adds(b, "</select></label></p>");
	field(b, "Version (empty: today's date and a number)", "version",
	    "text", "");
	buf_adds(b, "<p><label><input type=\"checkbox\" name=\"delete_after\" "
	    "value=\"1\"> Delete after action</label></p>");
	form_end(b, "Create");
}

static int
new_page(struct wat_req *r, const struct wat_view *v)
{
	static const struct {
		const char *object;
		void (*form)(struct wat_req *, struct buf *);
	} forms[] = {
		{ "user", new_user }, { "host", new_host }, { "osf", new_osf },
		{ "di", new_di },
	};
	struct buf b = { NULL, 0, 0, 1 << 20 };
	size_t i;

	for (i = 0; i < ARRAY_LEN(forms); i++)
		if (strcmp(forms[i].object, v->object) == 0)
			break;
	if (i == ARRAY_LEN(forms))
		return not_found(r, "Virtual machines are made on their "
		    "user's page");
	wat_page_head(&b, "New", r);
	heading(&b, v, "New");
	forms[i].form(r, &b);
	return wat_page_send(r, &b, 200);
}

/* PAGE/new or PAGE/ID */
int
wat_form_page(struct wat_req *r, const struct wat_view *v, const char *rest)
{
	if (strcmp(rest, "new") == 0)
		return new_page(r, v);
	if (*rest != '\0' && strlen(rest) < 16 &&
	    strspn(rest, "0123456789") == strlen(rest)) {
		if (strcmp(v->object, "user") == 0)
			return user_page(r, v, rest);
		if (strcmp(v->object, "vm") == 0)
			return vm_page(r, v, rest);
	}
	return not_found(r, "No such page");
}

/* /api/staging: the image files a new disk image can be made from. */
int
wat_api_staging(struct wat_req *r)
{
	char err[ADMIN_ERRSZ], **files;
	struct buf b = { NULL, 0, 0, 16 << 20 };
	char *esc;
	size_t escsz;
	int n, i, rc;

	if ((n = di_staging_list(&files, err)) == -1)
		return wat_json_error(r, 500, "%s", err);
	buf_adds(&b, "[");
	for (i = 0; i < n; i++) {
		escsz = 6 * strlen(files[i]) + 1;
		esc = xmalloc(escsz);
		if (json_escape(files[i], strlen(files[i]), esc, escsz) >= 0)
			buf_printf(&b, "%s\"%s\"", i ? "," : "", esc);
		free(esc);
		free(files[i]);
	}
	free(files);
	buf_adds(&b, "]\n");
	rc = wat_reply(r, 200, NULL, "application/json", buf_str(&b));
	buf_free(&b);
	return rc;
}
