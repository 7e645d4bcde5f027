/* SPDX-License-Identifier: GPL-3.0-or-later */
/* watact.c -- what the WAT changes: POST /api/OBJECT/VERB, posted by the
 * pages' forms (which add "back", and get a redirect and a message) and by
 * scripts (which get JSON).  Every action calls the function qa's command
 * calls (admin.c, vmctl.c, di.c).  Disk images are copied in and deleted
 * by the keeper (watkeep.c), whose copy job's progress a page and
 * /api/di/job/ID show. */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

struct wat_result {
	int		 status;	/* HTTP status for scripts */
	char		 msg[ADMIN_ERRSZ];
	long long	 id;		/* a new object's, or 0 */
	long long	 count;		/* objects changed, or -1 */
	char		 job[40];	/* a DI copy job, or "" */
};

static int
failed(struct wat_result *res, int status, const char *msg)
{
	res->status = status;
	str_copy(res->msg, msg, sizeof(res->msg));
	return -1;
}

static int
done(struct wat_result *res, long long id, const char *fmt, long long n)
{
	res->status = 200;
	res->id = id;
	res->count = id > 0 ? -1 : n;	/* a new object, or a count */
	str_fmt(res->msg, sizeof(res->msg), fmt, n);
	return 0;
}

/* A count, and why the rest was not done (note may be ""). */
static int
done_note(struct wat_result *res, const char *fmt, long long n,
    const char *note)
{
	size_t len;

	done(res, 0, fmt, n);
	len = strlen(res->msg);
	if (*note != '\0')
		str_fmt(res->msg + len, sizeof(res->msg) - len, " %s", note);
	return 0;
}

/* A parameter that must be there and not empty. */
static const char *
need(struct wat_req *r, struct wat_result *res, const char *key)
{
	const char *v = wat_param(r, key);
	char msg[128];

	if (v != NULL && *v != '\0')
		return v;
	str_fmt(msg, sizeof(msg), "%s is needed", key);
	failed(res, 400, msg);
	return NULL;
}

/* A numeric parameter, or def when absent or empty; -1 if not a number. */
static int
number(struct wat_req *r, struct wat_result *res, const char *key,
    long long min, long long max, long long def, long long *out)
{
	const char *v = wat_param(r, key), *why;
	char msg[256];

	*out = def;
	if (v == NULL || *v == '\0')
		return 0;
	if (num_parse(v, min, max, out, &why) == 0)
		return 0;
	str_fmt(msg, sizeof(msg), "%s: '%.64s' is %s", key, v, why);
	return failed(res, 400, msg);
}

/* Password and its confirmation, when the form has one. */
static const char *
new_password(struct wat_req *r, struct wat_result *res)
{
	const char *pw = need(r, res, "password"), *c = wat_param(r,
	    "confirm");

	if (pw != NULL && c != NULL && strcmp(pw, c) != 0) {
		failed(res, 400, "the password and its confirmation differ");
		return NULL;
	}
	return pw;
}

/* ---- the selected objects: id=1&id=2, or {"id": [1, 2]} ---- */

static int
mass(struct wat_req *r, struct wat_result *res,
    long long (*fn)(struct db *, const long long *, int, char *),
    const char *fmt)
{
	char err[ADMIN_ERRSZ];
	long long *ids, n;
	int count = wat_param_ids(r, &ids);

	if (count == -1)
		return failed(res, 400, "id: not an id");
	if (count == 0) {
		free(ids);
		return failed(res, 400, "nothing is selected");
	}
	err[0] = '\0';
	n = fn(r->db, ids, count, err);
	free(ids);
	if (n < 0)
		return failed(res, 409, err);
	return done_note(res, fmt, n, err);
}

#define MASS(name, fn, fmt) \
	static int name(struct wat_req *r, struct wat_result *res) \
	{ return mass(r, res, fn, fmt); }

MASS(user_del, admin_user_del, "%lld users deleted.")
MASS(vm_start, admin_vm_start, "Started %lld VMs.")
MASS(vm_stop, admin_vm_stop, "Stopped %lld VMs.")
MASS(vm_block, admin_vm_block_on, "Blocked %lld VMs.")
MASS(vm_unblock, admin_vm_block_off, "Unblocked %lld VMs.")
MASS(vm_disconnect, admin_vm_disconnect, "Disconnected %lld users.")
MASS(vm_del, admin_vm_del, "%lld VMs deleted.")
MASS(host_block, admin_host_block_on, "Blocked %lld hosts.")
MASS(host_unblock, admin_host_block_off, "Unblocked %lld hosts.")
MASS(host_del, admin_host_del, "%lld hosts deleted.")
MASS(osf_del, admin_osf_del, "%lld OSFs deleted.")

/* DIs and their files go by the keeper: the images are root's. */
static int
di_del_act(struct wat_req *r, struct wat_result *res)
{
	const char *words[1025];
	char (*num)[24], err[ADMIN_ERRSZ], *nl;
	long long *ids, n;
	int count = wat_param_ids(r, &ids), i, rc;
	const char *why;

	if (count <= 0 || count > 1024) {
		free(ids);
		return failed(res, 400, count == 0 ? "nothing is selected" :
		    count < 0 ? "id: not an id" : "more than 1024 disk images");
	}
	num = xcalloc((size_t)count, sizeof(*num));
	words[0] = "di_del";
	for (i = 0; i < count; i++)
		words[i + 1] = db_fmt_int(num[i], ids[i]);
	rc = wat_keeper_call(words, count + 1, 60000, err, sizeof(err));
	free(num);
	free(ids);
	if (rc != 1)
		return failed(res, rc == 0 ? 409 : 500, err);
	if ((nl = strchr(err, '\n')) != NULL)
		*nl = '\0';
	if (nl == NULL || num_parse(err, 0, 1LL << 31, &n, &why) == -1)
		return failed(res, 500, "the keeper's answer is malformed");
	return done_note(res, "%lld DIs deleted.", n, nl + 1);
}

/* ---- users ---- */

static int
user_new(struct wat_req *r, struct wat_result *res)
{
	const char *login = need(r, res, "login"), *pw;
	char err[ADMIN_ERRSZ];
	long long id;

	if (login == NULL || (pw = new_password(r, res)) == NULL)
		return -1;
	if (admin_user_add(r->db, login, pw, &id, err) == -1)
		return failed(res, 409, err);
	return done(res, id, "User added with id %lld", id);
}

static int
user_passwd(struct wat_req *r, struct wat_result *res)
{
	struct pg_result *q;
	const char *pw;
	char err[ADMIN_ERRSZ], login[128];
	long long id;

	if (number(r, res, "id", 1, 1LL << 31, 0, &id) == -1 ||
	    (pw = new_password(r, res)) == NULL)
		return -1;
	if (id == 0 && wat_param(r, "login") == NULL)
		return failed(res, 400, "id or login is needed");
	if (id != 0) {
		q = db_query(r->db, "SELECT login FROM users WHERE id = $1", 1,
		    wat_param(r, "id"));
		if (q == NULL || db_ntuples(q) != 1) {
			db_clear(q);
			return failed(res, 404, "no such user");
		}
		str_copy(login, db_val(q, 0, 0), sizeof(login));
		db_clear(q);
	} else
		str_copy(login, wat_param(r, "login"), sizeof(login));
	if (admin_user_passwd(r->db, login, pw, err) == -1)
		return failed(res, 409, err);
	res->status = 200;
	res->count = 1;
	str_fmt(res->msg, sizeof(res->msg), "Password of user '%s' changed",
	    login);
	return 0;
}

/* ---- virtual machines ---- */

static int
vm_new(struct wat_req *r, struct wat_result *res)
{
	struct vm_add_req a;
	char err[ADMIN_ERRSZ], note[ADMIN_ERRSZ];
	long long first;
	int count;

	memset(&a, 0, sizeof(a));
	if ((a.name = need(r, res, "name")) == NULL ||
	    need(r, res, "user_id") == NULL || need(r, res, "osf_id") == NULL ||
	    number(r, res, "user_id", 1, 1LL << 31, 0, &a.user_id) == -1 ||
	    number(r, res, "osf_id", 1, 1LL << 31, 0, &a.osf_id) == -1)
		return -1;
	a.bulk = 1;
	a.ip = wat_param(r, "ip") && *wat_param(r, "ip") ? wat_param(r, "ip") :
	    NULL;
	a.di_tag = wat_param(r, "di_tag") && *wat_param(r, "di_tag") ?
	    wat_param(r, "di_tag") : "default";
	a.warn = note;
	if (admin_vm_add(r->db, &a, &first, &count, err) == -1)
		return failed(res, 409, err);
	done(res, first, "VM added with id %lld", first);
	if (*note != '\0')
		str_fmt(res->msg + strlen(res->msg), sizeof(res->msg) -
		    strlen(res->msg), " (%s)", note);
	return 0;
}

static int
vm_edit(struct wat_req *r, struct wat_result *res)
{
	struct vm_edit e;
	char err[ADMIN_ERRSZ], note[ADMIN_ERRSZ];
	long long *ids, n;
	int count = wat_param_ids(r, &ids);

	memset(&e, 0, sizeof(e));
	e.name = wat_param(r, "name");
	e.di_tag = wat_param(r, "di_tag");
	if (e.name != NULL && *e.name == '\0')
		e.name = NULL;
	if (e.di_tag != NULL && *e.di_tag == '\0')
		e.di_tag = NULL;
	if (count <= 0) {
		free(ids);
		return failed(res, 400, count == 0 ? "nothing is selected" :
		    "id: not an id");
	}
	e.warn = note;
	n = admin_vm_edit(r->db, ids, count, &e, err);
	free(ids);
	if (n < 0)
		return failed(res, 409, err);
	return done_note(res, "Edited %lld VMs.", n, note);
}

/* ---- nodes, OS flavours ---- */

static int
host_new(struct wat_req *r, struct wat_result *res)
{
	const char *name = need(r, res, "name"), *address;
	char err[ADMIN_ERRSZ];
	long long id;

	if (name == NULL || (address = need(r, res, "address")) == NULL)
		return -1;
	if (admin_host_add(r->db, name, address, &id, err) == -1)
		return failed(res, 409, err);
	return done(res, id, "Host added with id %lld", id);
}

static int
osf_new(struct wat_req *r, struct wat_result *res)
{
	const char *name = need(r, res, "name"), *v;
	char err[ADMIN_ERRSZ];
	long long mem, storage, id;
	int overlay = conf_bool("osf.default.overlay");

	if (name == NULL || number(r, res, "memory", 1, 1048576,
	    conf_int("osf.default.memory", 256), &mem) == -1 ||
	    number(r, res, "user_storage_size", 0, 2147483647, -1, &storage)
	    == -1)
		return -1;
	if ((v = wat_param(r, "use_overlay")) != NULL && *v != '\0' &&
	    bool_parse(v, &overlay) == -1)
		return failed(res, 400, "use_overlay: not a boolean (yes/no, "
		    "1/0)");
	if (admin_osf_add(r->db, name, mem, overlay, storage, &id, err) == -1)
		return failed(res, 409, err);
	return done(res, id, "OSF added with id %lld", id);
}

/* ---- disk images ---- */

/* The DI that is now OSF osf's default ("0" if none), into out. */
static int
current_default(struct db *db, const char *osf, char *out, size_t outsz)
{
	struct pg_result *res = db_query(db, "SELECT d.id FROM dis d JOIN "
	    "osfs o ON o.id = d.osf_id JOIN di_tags t ON t.di_id = d.id WHERE "
	    "o.name = $1 AND t.tag = 'default'", 1, osf);

	if (res == NULL)
		return -1;
	str_copy(out, db_ntuples(res) > 0 ? db_val(res, 0, 0) : "0", outsz);
	db_clear(res);
	return 0;
}

/*
 * Whether a default_OSF=DI field of the page changes anything: 1 it
 * does, 0 the page showed that DI as default already (was_OSF), -1 the
 * default changed since the page showed it (said in msg) or the database
 * failed.
 */
static int
default_changed(struct wat_req *r, const char *osf, long long id, char *msg,
    size_t msgsz)
{
	char key[200], now[24];
	const char *was;

	str_fmt(key, sizeof(key), "was_%s", osf);
	if ((was = wat_param(r, key)) == NULL)
		was = "0";
	if (strtoll(was, NULL, 10) == id)
		return 0;
	if (current_default(r->db, osf, now, sizeof(now)) == -1) {
		str_copy(msg, "the database is not available", msgsz);
		return -1;
	}
	if (strcmp(now, was) == 0)
		return 1;
	str_fmt(msg, msgsz, "nothing was changed: the default of %.64s "
	    "changed since this page was shown (now DI %s); reload it and "
	    "choose again", osf, now);
	return -1;
}

/* The DI id of a default field; -1 (failed) when it is none. */
static long long
default_id(struct wat_result *res, const char *v)
{
	const char *why;
	long long id;

	if (num_parse(v, 1, 1LL << 31, &id, &why) == -1)
		return failed(res, 400, "default: not a disk image id");
	return id;
}

/*
 * "Set defaults": the page's default_OSF=DI radios make those DIs their
 * OSF's default, as "qa di tag tag=default" does: only those changed on
 * the page, and none if a default changed since the page showed it
 * (all are checked first).  {"default": [DI, ...]} (the JSON API) sets
 * each.
 */
static int
di_defaults(struct wat_req *r, struct wat_result *res)
{
	struct di_exp none;
	char err[ADMIN_ERRSZ], msg[ADMIN_ERRSZ + 200];
	long long id, nexp, n = 0, asked = 0;
	int i, pass, change;

	memset(&none, 0, sizeof(none));
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < r->nparams; i++) {
			const char *k = r->params[i].key;
			int form = str_has_prefix(k, "default_");

			if (!form && strcmp(k, "default") != 0)
				continue;
			if ((id = default_id(res, r->params[i].val)) == -1)
				return -1;
			asked++;
			change = form ? default_changed(r, k + 8, id, msg,
			    sizeof(msg)) : 1;
			if (change == -1)
				return failed(res, 409, msg);
			if (pass == 0 || change == 0)
				continue;
			if (di_tag(r->db, id, "default", &none, &nexp, err) ==
			    -1) {
				str_fmt(msg, sizeof(msg), "DI %lld: %s", id,
				    err);
				return failed(res, 409, msg);
			}
			n++;
		}
	}
	if (asked == 0)
		return failed(res, 400, "no default is chosen");
	return done(res, 0, n == 0 ? "No default was changed." :
	    "%lld defaults set.", n);
}

static int
di_new(struct wat_req *r, struct wat_result *res)
{
	struct stat st;
	char staged[4200], err[ADMIN_ERRSZ], osf_s[24];
	const char *file, *version, *delete_after, *words[6];
	long long osf;
	int rc;

	if ((file = need(r, res, "file")) == NULL ||
	    need(r, res, "osf_id") == NULL ||
	    number(r, res, "osf_id", 1, 1LL << 31, 0, &osf) == -1)
		return -1;
	if (strchr(file, '/') != NULL || file[0] == '.')
		return failed(res, 400, "file: a name in the staging directory");
	str_fmt(staged, sizeof(staged), "%s/%s",
	    conf_get("path.storage.staging"), file);
	if (stat(staged, &st) == -1 || !S_ISREG(st.st_mode))
		return failed(res, 404, "file: no such image in the staging "
		    "directory");
	if (admin_exists(r->db, "OSF", osf, err) == -1)
		return failed(res, 404, err);
	version = wat_param(r, "version") ? wat_param(r, "version") : "";
	if (*version && valid_name(NAME_TAG, "version", version, err,
	    sizeof(err)) == -1)
		return failed(res, 400, err);
	if (pass_random(res->job, 32, "0123456789abcdef") == -1)
		return failed(res, 500, "no randomness for a job id");
	delete_after = wat_param(r, "delete_after") &&
	    strcmp(wat_param(r, "delete_after"), "1") == 0 ? "1" : "0";
	wat_job_write(res->job, "running", 0, (unsigned long long)st.st_size,
	    "");
	words[0] = "di_add";
	words[1] = file;
	words[2] = db_fmt_int(osf_s, osf);
	words[3] = version;
	words[4] = delete_after;
	words[5] = res->job;
	rc = wat_keeper_call(words, 6, 10000, err, sizeof(err));
	if (rc != 1) {
		wat_job_write(res->job, "failed", 0, 0, err);
		res->job[0] = '\0';
		return failed(res, rc == 0 ? 409 : 500, err);
	}
	res->status = 202;
	str_fmt(res->msg, sizeof(res->msg), "Copying %s", file);
	return 0;
}

static int
job_json(struct wat_req *r, const struct wat_job_state *js)
{
	char out[2048];
	struct json_out o;

	json_out_init(&o, out, sizeof(out));
	json_begin_obj(&o);
	json_key(&o, "state"); json_emit_str(&o, js->state);
	json_key(&o, "done"); json_emit_int(&o, js->done);
	json_key(&o, "total"); json_emit_int(&o, js->total);
	if (strcmp(js->state, "done") == 0) {
		json_key(&o, "id"); json_emit_int(&o, js->id);
		json_key(&o, "version"); json_emit_str(&o, js->version);
	}
	if (js->msg[0] != '\0') {
		json_key(&o, strcmp(js->state, "failed") == 0 ? "error" :
		    "message");
		json_emit_str(&o, js->msg);
	}
	json_end_obj(&o);
	return wat_json(r, 200, &o);
}

/* /di/job/ID: a progress bar that reloads itself until the copy ends. */
int
wat_di_job(struct wat_req *r, const char *id, int json)
{
	struct wat_job_state js;
	struct buf b = { NULL, 0, 0, 65536 };
	char extra[256];
	int running, rc;

	if (wat_job_read(id, &js) == -1)
		return json ? wat_json_error(r, 404, "no such job") :
		    wat_reply(r, 404, NULL, "text/plain", "No such job\r\n");
	if (json)
		return job_json(r, &js);
	running = strcmp(js.state, "running") == 0;
	wat_page_head(&b, "New disk image", r);
	buf_printf(&b, "<h1><a href=\"/di/\">Disk images</a> &raquo; New</h1>"
	    "<p id=\"job\" data-state=\"%s\">", js.state);
	if (running)
		buf_printf(&b, "Copying the image: <progress value=\"%lld\" "
		    "max=\"%lld\"></progress> %lld%% (%lld of %lld MB)",
		    js.done, js.total ? js.total : 1, js.total ? js.done * 100 /
		    js.total : 0, js.done >> 20, js.total >> 20);
	else {
		buf_printf(&b, "<span class=\"%s\">", strcmp(js.state,
		    "done") == 0 ? "ok" : "err");
		wat_html(&b, js.msg);
		buf_adds(&b, "</span> <a href=\"/di/\">Back to the disk "
		    "images</a>");
	}
	buf_adds(&b, "</p></body></html>\n");
	str_fmt(extra, sizeof(extra), "%s%s", running ? "Refresh: 1\r\n" : "",
	    wat_flash_clear(r));
	rc = wat_reply(r, 200, extra, "text/html; charset=utf-8", buf_str(&b));
	buf_free(&b);
	return rc;
}

/* ---- the table, and answering ---- */

static const struct wat_action actions[] = {
	{ "user", "new", "Submit", NULL, user_new },
	{ "user", "delete", "Delete", "Delete the selected users?", user_del },
	{ "user", "passwd", "Change password", NULL, user_passwd },
	{ "vm", "new", "Create", NULL, vm_new },
	{ "vm", "start", "Start", NULL, vm_start },
	{ "vm", "stop", "Stop", NULL, vm_stop },
	{ "vm", "block", "Block", "Block the selected virtual machines?",
	    vm_block },
	{ "vm", "unblock", "Unblock", "Unblock the selected virtual machines?",
	    vm_unblock },
	{ "vm", "disconnect", "Disconnect user", "Disconnect the users of the "
	    "selected virtual machines, without warning them?", vm_disconnect },
	{ "vm", "delete", "Delete", "Delete the selected virtual machines?",
	    vm_del },
	{ "vm", "edit", "Save", NULL, vm_edit },
	{ "host", "new", "Add node", NULL, host_new },
	{ "host", "block", "Block", NULL, host_block },
	{ "host", "unblock", "Unblock", NULL, host_unblock },
	{ "host", "delete", "Delete", "Delete the selected nodes?", host_del },
	{ "osf", "new", "Create", NULL, osf_new },
	{ "osf", "delete", "Delete", "Delete the selected OS flavours?",
	    osf_del },
	{ "di", "new", "Create", NULL, di_new },
	{ "di", "delete", "Delete", "Delete the selected disk images?",
	    di_del_act },
	{ "di", "default", "Set defaults", NULL, di_defaults },
};

const struct wat_action *
wat_action_find(const char *object, const char *verb)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(actions); i++)
		if (strcmp(actions[i].object, object) == 0 &&
		    strcmp(actions[i].verb, verb) == 0)
			return &actions[i];
	return NULL;
}

/* A local path to return to: "/..." but not "//host". */
static const char *
safe_back(const char *back)
{
	if (back == NULL || back[0] != '/' || back[1] == '/' ||
	    back[1] == '\\' || strlen(back) > 200 || strpbrk(back, "\r\n"))
		return "/";
	return back;
}

/* Without JavaScript, a form asks here before a change that needs it. */
static int
confirm_page(struct wat_req *r, const struct wat_action *a,
    const char *back)
{
	struct buf b = { NULL, 0, 0, 8 << 20 };
	int i, n = 0;

	wat_page_head(&b, a->label, r);
	buf_printf(&b, "<h1>%s</h1><form method=\"post\" id=\"confirm\" "
	    "action=\"/api/%s/%s\">", a->label, a->object, a->verb);
	for (i = 0; i < r->nparams; i++) {
		if (strcmp(r->params[i].key, "confirmed") == 0)
			continue;
		n += strcmp(r->params[i].key, "id") == 0;
		buf_adds(&b, "<input type=\"hidden\" name=\"");
		wat_html(&b, r->params[i].key);
		buf_adds(&b, "\" value=\"");
		wat_html(&b, r->params[i].val);
		buf_adds(&b, "\">");
	}
	buf_adds(&b, "<input type=\"hidden\" name=\"confirmed\" value=\"1\"><p>");
	wat_html(&b, a->confirm);
	buf_printf(&b, " (%d selected)</p><p><button id=\"yes\">Yes, %s"
	    "</button> <a href=\"", n, a->label);
	wat_html(&b, back);
	buf_adds(&b, "\">Cancel</a></p></form>");
	return wat_page_send(r, &b, 200);
}

static int
answer_json(struct wat_req *r, const struct wat_result *res, int rc)
{
	char out[2 * ADMIN_ERRSZ];
	struct json_out o;

	if (rc == -1)
		return wat_json_error(r, res->status, "%s", res->msg);
	json_out_init(&o, out, sizeof(out));
	json_begin_obj(&o);
	json_key(&o, "message"); json_emit_str(&o, res->msg);
	if (res->id > 0) {
		json_key(&o, "id");
		json_emit_int(&o, res->id);
	}
	if (res->count >= 0) {
		json_key(&o, "count");
		json_emit_int(&o, res->count);
	}
	if (res->job[0] != '\0') {
		json_key(&o, "job");
		json_emit_str(&o, res->job);
	}
	json_end_obj(&o);
	return wat_json(r, res->status, &o);
}

int
wat_act(struct wat_req *r, const char *object, const char *verb)
{
	const struct wat_action *a = wat_action_find(object, verb);
	const char *back = wat_param(r, "back"), *confirmed;
	struct wat_result res;
	char flash[1024], to[300];
	int rc;

	if (a == NULL)
		return wat_json_error(r, 404, "no such action: %s %s", object,
		    verb);
	confirmed = wat_param(r, "confirmed");
	if (back != NULL && a->confirm != NULL &&
	    (confirmed == NULL || strcmp(confirmed, "1") != 0))
		return confirm_page(r, a, safe_back(back));
	memset(&res, 0, sizeof(res));
	res.count = -1;
	rc = a->act(r, &res);
	log_info("WAT %s: %s %s %s: %s", r->peer, r->login, object, verb,
	    res.msg);
	if (back == NULL)
		return answer_json(r, &res, rc);
	wat_flash_header(flash, sizeof(flash), rc == -1, res.msg);
	if (rc == 0 && res.job[0] != '\0')
		str_fmt(to, sizeof(to), "/di/job/%s", res.job);
	else
		str_copy(to, safe_back(rc == -1 && r->referer[0] ? r->referer :
		    back), sizeof(to));
	return wat_redirect(r, to, flash);
}
