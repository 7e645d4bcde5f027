/* SPDX-License-Identifier: GPL-3.0-or-later */
/* qacmd.c -- qa's command table and its config, host, OSF, DI, user and
 * property commands (the VM commands are in qavm.c). */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

#define PEM_MAX		32768

/* id_key=N or name_key=NAME (exactly one); the id either way. */
int
qa_pick(struct qa *qa, const char *id_key, const char *name_key,
    const char *kind, long long *id)
{
	const char *byid = qa_arg(qa, id_key), *byname = qa_arg(qa, name_key),
	    *why;
	char err[ADMIN_ERRSZ];

	if ((byid == NULL) == (byname == NULL))
		return qa_usage(qa, "give either %s= or %s=", name_key, id_key);
	if (byid != NULL) {
		if (num_parse(byid, 1, 2147483647, id, &why) == -1)
			return qa_fail(qa, "%s: '%s' is not an id", id_key,
			    str_clip(byid));
		if (admin_exists(qa->db, kind, *id, err) == -1)
			return qa_fail(qa, "%s", err);
		return 0;
	}
	if (admin_lookup(qa->db, kind, byname, id, err) == -1)
		return qa_fail(qa, "%s", err);
	return 0;
}

/* Print the expirations message of manual chapter 14. */
static void
say_expirations(long long n, const struct di_exp *x)
{
	char s[32] = "undef", h[32] = "undef";

	if (!x->soft_set && !x->hard_set)
		return;
	if (x->soft_set && x->soft)
		fmt_local(s, sizeof(s), x->soft);
	if (x->hard_set && x->hard)
		fmt_local(h, sizeof(h), x->hard);
	printf("%lld VM have had their expiration dates set (%s, %s)!\n", n,
	    s, h);
}

/* ---- config ---- */

struct get_ctx {
	int	 json;
	int	 first;
	int	 secrets;	/* shown as they are */
};

#define SECRET_SHOWN	"********"

static const char *
layer_name(enum conf_layer l)
{
	return l == CONF_DB ? "database" : l == CONF_DEFAULT ? "default" :
	    "file";
}

static void
emit_config(struct get_ctx *g, const char *key, const char *value,
    enum conf_layer from)
{
	static char row[CONF_MAX_VALUE * 7];
	struct json_out o;

	if (conf_is_secret(key) && !g->secrets && *value != '\0')
		value = SECRET_SHOWN;	/* set, and not shown */
	if (!g->json) {
		printf("%s=%s\n", key, value);
		return;
	}
	json_out_init(&o, row, sizeof(row));
	json_begin_obj(&o);
	json_key(&o, "key");
	json_emit_str(&o, key);
	json_key(&o, "value");
	json_emit_str(&o, value);
	json_key(&o, "source");
	json_emit_str(&o, layer_name(from));
	json_end_obj(&o);
	printf("%s\n  %s", g->first ? "" : ",", row);
	g->first = 0;
}

static void
print_config(const char *key, const char *value, enum conf_layer from,
    void *arg)
{
	if (conf_is_internal(key) || str_has_prefix(key, "log4perl."))
		return;
	emit_config(arg, key, value, from);
}

static int
config_get(struct qa *qa)
{
	struct get_ctx g = { qa->json, 1, qa->secrets };
	enum conf_layer from;
	const char *v;
	int i, rc = 0;

	if (qa->json)
		printf("[");
	if (qa->nargs == 0)
		conf_foreach(print_config, &g);
	for (i = 0; i < qa->nargs; i++) {
		if ((v = conf_get(qa->key[i])) == NULL) {
			rc = qa_fail(qa, "no configuration key '%s'",
			    str_clip(qa->key[i]));
			continue;
		}
		conf_get_raw(qa->key[i], &from);
		emit_config(&g, qa->key[i], v, from);
	}
	if (qa->json)
		printf(g.first ? "]\n" : "\n]\n");
	return rc;
}

static void
config_warn(void *arg, const char *text)
{
	qa_warn(arg, "%s", text);
}

/* All the pairs or, if one is refused, none. */
static int
config_set(struct qa *qa)
{
	char err[ADMIN_ERRSZ];

	if (qa->nargs == 0)
		return qa_usage(qa, "nothing to set");
	if (admin_config_set(qa->db, (const char *const *)qa->key,
	    (const char *const *)qa->val, qa->nargs, config_warn, qa, err) ==
	    -1)
		return qa_fail(qa, "%s", err);
	return 0;
}

static int
config_del(struct qa *qa)
{
	char err[ADMIN_ERRSZ];
	long long n;

	if (qa->nargs == 0 && qa_confirm(qa, "delete") != 0)
		return QA_ERROR;
	n = admin_config_del(qa->db, qa->nargs ? (const char *const *)qa->key :
	    NULL, qa->nargs, err);
	return qa_say_count(qa, n, "%lld config entries deleted.", err);
}

/* A PEM file into memory (at most PEM_MAX bytes). */
static char *
read_pem(struct qa *qa, const char *key, int *rc)
{
	const char *path = qa_arg(qa, key);
	char *text;
	ssize_t n;
	int fd;

	*rc = 0;
	if (path == NULL)
		return NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*rc = qa_fail(qa, "%s: cannot read %s: %s", key, path,
		    strerror(errno));
		return NULL;
	}
	text = xmalloc(PEM_MAX + 1);
	n = read(fd, text, PEM_MAX + 1);
	close(fd);
	if (n <= 0 || n > PEM_MAX || strstr(text, "-----BEGIN") == NULL) {
		*rc = qa_fail(qa, "%s: %s is not a PEM file of at most %d "
		    "bytes", key, path, PEM_MAX);
		free(text);
		return NULL;
	}
	text[n] = '\0';
	return text;
}

static int
config_ssl(struct qa *qa)
{
	char *key, *cert, *ca = NULL, *crl = NULL, err[ADMIN_ERRSZ];
	const char *dummy;
	int rc;

	if ((rc = qa_need(qa, "key", &dummy)) != 0 ||
	    (rc = qa_need(qa, "cert", &dummy)) != 0)
		return rc;
	key = read_pem(qa, "key", &rc);
	if (rc == 0)
		cert = read_pem(qa, "cert", &rc);
	else
		cert = NULL;
	if (rc == 0)
		ca = read_pem(qa, "ca", &rc);
	if (rc == 0)
		crl = read_pem(qa, "crl", &rc);
	if (rc == 0 && admin_config_ssl(qa->db, key, cert, ca, crl, err) == -1)
		rc = qa_fail(qa, "%s", err);
	if (rc == 0)
		printf("SSL certificate and private key set; CA %s; CRL %s.\n",
		    ca ? "set" : "none (client certificates not checked)",
		    crl ? "set" : "none");
	if (key)
		freezero(key, strlen(key));
	free(cert);
	free(ca);
	free(crl);
	return rc;
}

/* ---- nodes ---- */

static int
host_add(struct qa *qa)
{
	const char *name, *address;
	char err[ADMIN_ERRSZ];
	long long id;
	int rc;

	if ((rc = qa_need(qa, "name", &name)) != 0 ||
	    (rc = qa_need(qa, "address", &address)) != 0)
		return rc;
	if (admin_host_add(qa->db, name, address, &id, err) == -1)
		return qa_fail(qa, "%s", err);
	printf("Host added with id %lld\n", id);
	return 0;
}

static int
host_list(struct qa *qa)
{
	return qa_list_of(qa, "host");
}

static const struct out_col counter_cols[] = {
	{ "Id", "id", COL_INT }, { "Name", "name", COL_TEXT },
	{ "HTTP Requests", "http_requests", COL_INT },
	{ "Auth attempts", "auth_attempts", COL_INT },
	{ "Auth OK", "auth_ok", COL_INT },
	{ "NX attempts", "nx_attempts", COL_INT },
	{ "NX OK", "nx_ok", COL_INT },
	{ "Short sessions", "short_sessions", COL_INT },
};

static int
host_counters(struct qa *qa)
{
	return qa_list(qa, "h.id, h.name, c.http_requests, c.auth_attempts, "
	    "c.auth_ok, c.nx_attempts, c.nx_ok, c.short_sessions",
	    "hosts h JOIN host_runtimes r ON r.host_id = h.id JOIN "
	    "host_counters c ON c.host_id = h.id", counter_cols,
	    ARRAY_LEN(counter_cols), "h.id");
}

static int
host_block(struct qa *qa)
{
	return qa_mass(qa, "block", admin_host_block_on, "Blocked %lld hosts.");
}

static int
host_unblock(struct qa *qa)
{
	return qa_mass(qa, "unblock", admin_host_block_off,
	    "Unblocked %lld hosts.");
}

static int
host_del(struct qa *qa)
{
	return qa_mass(qa, "delete", admin_host_del, "%lld hosts deleted.");
}

/* ---- OS flavours ---- */

static int
osf_add(struct qa *qa)
{
	const char *name, *v;
	char err[ADMIN_ERRSZ];
	unsigned long long bytes;
	long long mem, storage = -1, id;
	int rc, overlay = conf_bool("osf.default.overlay");

	if ((rc = qa_need(qa, "name", &name)) != 0 ||
	    (rc = qa_int_arg(qa, "memory", 1, 1048576,
	    conf_int("osf.default.memory", 256), &mem)) != 0)
		return rc;
	if ((v = qa_arg(qa, "use_overlay")) != NULL &&
	    bool_parse(v, &overlay) == -1)
		return qa_fail(qa, "use_overlay: '%s' is not a boolean "
		    "(yes/no, 1/0)", str_clip(v));
	if ((v = qa_arg(qa, "user_storage_size")) != NULL && *v != '\0') {
		/* a plain number is MB; with a suffix it is converted */
		if (size_parse(v, &bytes) == -1)
			return qa_fail(qa, "user_storage_size: '%s' is not a "
			    "size (MB, or with a K, M or G suffix)", str_clip(v));
		if (strpbrk(v, "kKmMgGtT") != NULL)
			bytes = (bytes + (1ULL << 20) - 1) >> 20;
		if (bytes > 2147483647ULL)
			return qa_fail(qa, "user_storage_size: '%s' is too "
			    "large", str_clip(v));
		storage = (long long)bytes;
	}
	if (admin_osf_add(qa->db, name, mem, overlay, storage, &id, err) == -1)
		return qa_fail(qa, "%s", err);
	printf("OSF added with id %lld\n", id);
	return 0;
}

static int
osf_list(struct qa *qa)
{
	return qa_list_of(qa, "osf");
}

static int
osf_del(struct qa *qa)
{
	return qa_mass(qa, "delete", admin_osf_del, "%lld OSFs deleted.");
}

/* ---- disk images ---- */

static void
progress_bar(unsigned long long done, unsigned long long total, void *arg)
{
	int pct = total ? (int)(done * 100 / total) : 100, i;

	(void)arg;
	fputs("\rcopying [", stderr);
	for (i = 0; i < 40; i++)
		fputc(i < pct * 40 / 100 ? '=' : ' ', stderr);
	fprintf(stderr, "] %3d%% %llu/%llu MB", pct, done >> 20, total >> 20);
	if (done >= total)
		fputc('\n', stderr);
}

static int
exp_args(struct qa *qa, struct di_exp *x)
{
	int rc;

	memset(x, 0, sizeof(*x));
	if ((rc = qa_time_arg(qa, "expire-soft", &x->soft_set, &x->soft)) != 0)
		return rc;
	return qa_time_arg(qa, "expire-hard", &x->hard_set, &x->hard);
}

static int
di_add_cmd(struct qa *qa)
{
	struct di_add_req r;
	struct stat st;
	char err[ADMIN_ERRSZ], version[80];
	long long id, nexp;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = qa_need(qa, "path", &r.path)) != 0 ||
	    (rc = qa_pick(qa, "osf_id", "osf", "OSF", &r.osf_id)) != 0 ||
	    (rc = exp_args(qa, &r.exp)) != 0)
		return rc;
	r.version = qa_arg(qa, "version");
	if (isatty(STDERR_FILENO) && stat(r.path, &st) == 0 &&
	    st.st_size > 16 * 1024 * 1024)
		r.progress = progress_bar;
	if (di_add(qa->db, &r, &id, version, sizeof(version), &nexp, err) == -1)
		return qa_fail(qa, "%s", err);
	say_expirations(nexp, &r.exp);
	printf("DI added with id %lld (version %s)\n", id, version);
	return 0;
}

static int
di_list(struct qa *qa)
{
	return qa_list_of(qa, "di");
}

static int
di_tag_cmd(struct qa *qa)
{
	const char *tag, *v, *why;
	struct di_exp x;
	char err[ADMIN_ERRSZ];
	long long di, nexp;
	int rc, untag = strcmp(qa->cmd->cmd, "untag") == 0;

	if ((rc = qa_need(qa, "di_id", &v)) != 0 ||
	    (rc = qa_need(qa, "tag", &tag)) != 0 ||
	    (rc = exp_args(qa, &x)) != 0)
		return rc;
	if (num_parse(v, 1, 2147483647, &di, &why) == -1)
		return qa_fail(qa, "di_id: '%s' is not an id", str_clip(v));
	if ((untag ? di_untag : di_tag)(qa->db, di, tag, &x, &nexp, err) == -1)
		return qa_fail(qa, "%s", err);
	say_expirations(nexp, &x);
	printf(untag ? "DI untagged\n" : "DI tagged\n");
	return 0;
}

static int
di_del_cmd(struct qa *qa)
{
	return qa_mass(qa, "delete", di_del, "%lld DIs deleted.");
}

/* ---- users ---- */

static int
user_add(struct qa *qa)
{
	const char *login, *pw;
	char err[ADMIN_ERRSZ], typed[PASS_MAX + 2];
	long long id;
	int rc;

	if ((rc = qa_need(qa, "login", &login)) != 0)
		return rc;
	if ((pw = qa_arg(qa, "password")) == NULL) {
		if ((rc = qa_read_password(qa, "Password: ", typed,
		    sizeof(typed))) != 0)
			return rc;
		pw = typed;
	}
	rc = admin_user_add(qa->db, login, pw, &id, err);
	wipe(typed, sizeof(typed));
	if (rc == -1)
		return qa_fail(qa, "%s", err);
	printf("User added with id %lld\n", id);
	return 0;
}

static int
user_passwd(struct qa *qa)
{
	const char *login;
	char pw[PASS_MAX + 2], err[ADMIN_ERRSZ];
	int rc;

	if ((rc = qa_need(qa, "user", &login)) != 0)
		return rc;
	if ((rc = qa_read_password(qa, "New password: ", pw, sizeof(pw))) != 0)
		return rc;
	rc = admin_user_passwd(qa->db, login, pw, err);
	wipe(pw, sizeof(pw));
	if (rc == -1)
		return qa_fail(qa, "%s", err);
	printf("Password of user '%s' changed\n", login);
	return 0;
}

static int
user_list(struct qa *qa)
{
	return qa_list_of(qa, "user");
}

static int
user_del(struct qa *qa)
{
	return qa_mass(qa, "delete", admin_user_del, "%lld users deleted.");
}

/* ---- properties ---- */

static int
propset(struct qa *qa)
{
	char err[ADMIN_ERRSZ];
	long long *ids, n = 0;
	int count, rc, i;

	if (qa->nargs == 0)
		return qa_usage(qa, "nothing to set");
	if ((rc = qa_confirm(qa, "set the property on")) != 0)
		return rc;
	if (qa_ids(qa, &ids, &count) != 0)
		return qa_fail(qa, "No properties were set (filter matched 0 "
		    "%s)", qa->obj->plural);
	for (i = 0; i < qa->nargs && n >= 0; i++)
		n = admin_prop_set(qa->db, qa->obj, ids, count, qa->key[i],
		    qa->val[i], err);
	free(ids);
	if (n < 0)
		return qa_fail(qa, "%s", err);
	printf("propset in %d %s.\n", count, qa->obj->plural);
	return 0;
}

static const struct out_col prop_cols[] = {
	{ "Id", "id", COL_INT }, { "Name", "name", COL_TEXT },
	{ "Key", "key", COL_TEXT }, { "Value", "value", COL_TEXT },
};

static int
propget(struct qa *qa)
{
	struct pg_result *res;
	struct buf keys = { NULL, 0, 0, 0 };
	const char *params[DB_MAX_PARAMS];
	char *sql;
	int i, n = qa->filter.nvalues, rc = 0;

	buf_adds(&keys, "{");
	for (i = 0; i < qa->nargs; i++) {
		buf_adds(&keys, i ? ",\"" : "\"");
		for (const char *p = qa->key[i]; *p; p++)
			buf_printf(&keys, *p == '"' || *p == '\\' ? "\\%c" :
			    "%c", *p);
		buf_adds(&keys, "\"");
	}
	buf_adds(&keys, "}");
	for (i = 0; i < n; i++)
		params[i] = qa->filter.values[i];
	params[n] = buf_str(&keys);
	sql = xasprintf("SELECT %s, %s, p.key, p.value FROM %s JOIN %s p ON "
	    "p.%s = %s WHERE %s AND ($%d::text[] = '{}' OR p.key = "
	    "ANY($%d::text[])) ORDER BY 1, 3", qa->obj->id_sql,
	    qa->obj->label_sql, qa->obj->from_sql, qa->obj->prop_table,
	    qa->obj->prop_fk, qa->obj->id_sql, buf_str(&qa->filter.where),
	    n + 1, n + 1);
	res = db_queryv(qa->db, sql, n + 1, params);
	free(sql);
	buf_free(&keys);
	if (res == NULL)
		return qa_fail(qa, "%s", db_error(qa->db));
	if (qa->json)
		rc = out_rows(stdout, prop_cols, ARRAY_LEN(prop_cols), res, 1, 0);
	else
		for (i = 0; i < db_ntuples(res); i++)
			printf("%s\t%s=%s\n", db_val(res, i, 1),
			    db_val(res, i, 2), db_val(res, i, 3));
	db_clear(res);
	return rc == 0 ? 0 : QA_ERROR;
}

static int
propdel(struct qa *qa)
{
	char err[ADMIN_ERRSZ];
	long long *ids, n;
	int count, rc;

	if ((rc = qa_confirm(qa, "delete the prop in")) != 0 ||
	    (rc = qa_ids(qa, &ids, &count)) != 0)
		return rc;
	n = admin_prop_del(qa->db, qa->obj, ids, count, qa->nargs ?
	    (const char *const *)qa->key : NULL, qa->nargs, err);
	free(ids);
	return qa_say_count(qa, n, "%lld properties deleted.", err);
}

/* ---- the table ---- */

static const char *const a_none[] = { NULL };
static const char *const a_vm_del[] = { "homes", NULL };
static const char *const a_host_add[] = { "name", "address", NULL };
static const char *const a_osf_add[] = { "name", "memory", "use_overlay",
	"user_storage_size", NULL };
static const char *const a_di_add[] = { "path", "osf", "osf_id", "version",
	"expire-soft", "expire-hard", NULL };
static const char *const a_di_tag[] = { "di_id", "tag", "expire-soft",
	"expire-hard", NULL };
static const char *const a_user_add[] = { "login", "password", NULL };
static const char *const a_user_passwd[] = { "user", NULL };
static const char *const a_ssl[] = { "key", "cert", "ca", "crl", NULL };
static const char *const a_vm_add[] = { "name", "user", "user_id", "osf",
	"osf_id", "ip", "di_tag", "bulk", NULL };
static const char *const a_vm_edit[] = { "name", "di_tag", "ip", "user",
	"user_id", "osf", "osf_id", "expire-soft", "expire-hard", NULL };

#define F	QA_FILTER
#define PROPS(o, O)							\
	{ o, "propdel", propdel, F | QA_BARE, a_none, "[key ...]",	\
	    "Deletes properties of " O, "Without keys, every property "	\
	    "of the selected objects is deleted." },			\
	{ o, "propget", propget, F | QA_BARE | QA_JSON, a_none,		\
	    "[key ...]", "Shows properties of " O,			\
	    "One line per property: the object's name, a tab, key=value." }, \
	{ o, "propset", propset, F | QA_ANYKEY, a_none,			\
	    "key=value ...", "Sets properties of " O, NULL }

const struct qa_cmd qa_commands[] = {
	{ "config", "del", config_del, QA_BARE, a_none, "[key ...]",
	    "Deletes configuration entries from the database",
	    "Without keys, every entry is deleted (the built-in defaults and "
	    "node.conf apply again)." },
	{ "config", "get", config_get, QA_BARE | QA_JSON, a_none, "[key ...]",
	    "Shows configuration values",
	    "Without keys, every key that is not internal.* is shown with its "
	    "effective value\n(database, else node.conf, else the built-in "
	    "default)." },
	{ "config", "set", config_set, QA_ANYKEY, a_none, "key=value ...",
	    "Stores configuration values in the database",
	    "The nodes are told at once (NOTIFY qvd_config_changed).  A key "
	    "QVD does not know is\nstored with a warning naming the closest "
	    "known key." },
	{ "config", "ssl", config_ssl, 0, a_ssl,
	    "key=FILE cert=FILE [ca=FILE] [crl=FILE]",
	    "Sets the SSL certificate and private key of the L7R",
	    "Example: qa config ssl key=certs/server-key.pem "
	    "cert=certs/server-cert.pem" },
	{ "di", "add", di_add_cmd, 0, a_di_add,
	    "path=FILE (osf=NAME | osf_id=ID) [version=V] [expire-soft=TIME] "
	    "[expire-hard=TIME]", "Adds a disk image to an OSF",
	    "The file is copied into path.storage.images; the DI is tagged "
	    "with its version\n(default YYYY-MM-DD-NNN), 'head', and "
	    "'default' if the OSF has none.  TIME is an\nat(1) time: now, "
	    "now + 2 hours, tomorrow, 12:00 NEXT SAT, ..." },
	{ "di", "del", di_del_cmd, F, a_none, "",
	    "Deletes disk images no VM is running", NULL },
	{ "di", "list", di_list, F | QA_JSON, a_none, "",
	    "Lists disk images", NULL },
	PROPS("di", "disk images"),
	{ "di", "tag", di_tag_cmd, 0, a_di_tag,
	    "di_id=ID tag=TAG [expire-soft=TIME] [expire-hard=TIME]",
	    "Tags a disk image",
	    "The tag is taken from the other DIs of the OSF; running VMs "
	    "using the tag get the\nexpirations given." },
	{ "di", "untag", di_tag_cmd, 0, a_di_tag,
	    "di_id=ID tag=TAG [expire-soft=TIME] [expire-hard=TIME]",
	    "Removes a tag from a disk image", NULL },
	{ "host", "add", host_add, 0, a_host_add, "name=NAME address=ADDRESS",
	    "Registers a node", NULL },
	{ "host", "block", host_block, F, a_none, "",
	    "Blocks nodes: they accept no new sessions", NULL },
	{ "host", "counters", host_counters, F | QA_JSON, a_none, "",
	    "Shows the L7R counters of nodes", NULL },
	{ "host", "del", host_del, F, a_none, "", "Deletes stopped nodes",
	    NULL },
	{ "host", "list", host_list, F | QA_JSON, a_none, "", "Lists nodes",
	    NULL },
	PROPS("host", "nodes"),
	{ "host", "unblock", host_unblock, F, a_none, "", "Unblocks nodes",
	    NULL },
	{ "osf", "add", osf_add, 0, a_osf_add,
	    "name=NAME [memory=MB] [use_overlay=yes|no] "
	    "[user_storage_size=MB]", "Adds an operating system flavour",
	    "memory defaults to osf.default.memory (256); user_storage_size "
	    "is in MB unless it\nhas a K, M or G suffix; without it homes "
	    "are not kept." },
	{ "osf", "del", osf_del, F, a_none, "",
	    "Deletes OSFs no VM or disk image uses", NULL },
	{ "osf", "list", osf_list, F | QA_JSON, a_none, "",
	    "Lists operating system flavours", NULL },
	PROPS("osf", "OSFs"),
	{ "user", "add", user_add, 0, a_user_add,
	    "login=LOGIN [password=PASSWORD]", "Adds a user",
	    "Without password=, it is asked for (twice, without echo) on a "
	    "terminal, or read\nas one line from standard input." },
	{ "user", "del", user_del, F, a_none, "",
	    "Deletes users that own no VM", NULL },
	{ "user", "list", user_list, F | QA_JSON, a_none, "", "Lists users",
	    NULL },
	{ "user", "passwd", user_passwd, 0, a_user_passwd, "user=LOGIN",
	    "Changes a user's password",
	    "The password is asked for twice without echo on a terminal, or "
	    "read as one line\nfrom standard input." },
	PROPS("user", "users"),
	{ "vm", "add", qa_vm_add, 0, a_vm_add,
	    "name=NAME (user=LOGIN | user_id=ID) (osf=NAME | osf_id=ID) "
	    "[ip=ADDRESS] [di_tag=TAG] [bulk=N]", "Adds virtual machines",
	    "The address is the next free one from vm.network.ip.start; "
	    "di_tag defaults to\n'default'; bulk=N adds NAME-0 .. NAME-(N-1)." },
	{ "vm", "block", qa_vm_block, F, a_none, "",
	    "Blocks VMs: no new sessions", NULL },
	{ "vm", "console", qa_vm_console, F, a_none, "",
	    "Opens the console of a running VM", NULL },
	{ "vm", "counters", qa_vm_counters, F | QA_JSON, a_none, "",
	    "Shows how often VMs were started", NULL },
	{ "vm", "del", qa_vm_del, F, a_vm_del, "[homes=delete]",
	    "Deletes stopped VMs (homes=delete: their homes too)", NULL },
	{ "vm", "disconnect_user", qa_vm_disconnect, F, a_none, "",
	    "Ends the sessions of the VMs' users", NULL },
	{ "vm", "edit", qa_vm_edit, F, a_vm_edit,
	    "key=value ... (name, di_tag, ip, user, user_id, osf, osf_id, "
	    "expire-soft, expire-hard)", "Changes VMs",
	    "An empty expire-soft= or expire-hard= clears it.  Changes apply "
	    "at the next start." },
	{ "vm", "list", qa_vm_list, F | QA_JSON, a_none, "",
	    "Lists virtual machines", NULL },
	PROPS("vm", "VMs"),
	{ "vm", "ssh", qa_vm_ssh, F, a_none, "[-- ssh arguments]",
	    "Opens an SSH session to a running VM", NULL },
	{ "vm", "start", qa_vm_start, F, a_none, "",
	    "Starts VMs (placing them on a node first)", NULL },
	{ "vm", "stop", qa_vm_stop, F, a_none, "", "Stops VMs", NULL },
	{ "vm", "unblock", qa_vm_unblock, F, a_none, "", "Unblocks VMs",
	    NULL },
	{ "vm", "vnc", qa_vm_vnc, F, a_none, "",
	    "Opens the VNC console of a running KVM VM", NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL }
};
