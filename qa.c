/* SPDX-License-Identifier: GPL-3.0-or-later */
/* qa.c -- the administration CLI: command line, dispatch, help, guards. */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

#define USAGE_LINE "usage: qa [-c file] [-f filter] [--force] [-q] [--json] " \
	"[--secrets] object command [key=value ...]"

static void
vmessage(struct qa *qa, const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "qa: ");
	if (qa->cmd != NULL)
		fprintf(stderr, "%s %s: ", qa->cmd->obj, qa->cmd->cmd);
	if (prefix != NULL)
		fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* One line naming the problem; the exit status for an error (1). */
int
qa_fail(struct qa *qa, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(qa, NULL, fmt, ap);
	va_end(ap);
	return QA_ERROR;
}

/* A usage problem: one line and the exit status 2. */
int
qa_usage(struct qa *qa, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(qa, NULL, fmt, ap);
	va_end(ap);
	return QA_USAGE;
}

void
qa_warn(struct qa *qa, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(qa, "warning: ", fmt, ap);
	va_end(ap);
}

const char *
qa_arg(struct qa *qa, const char *key)
{
	int i;

	for (i = 0; i < qa->nargs; i++)
		if (qa->val[i] != NULL && strcmp(qa->key[i], key) == 0)
			return qa->val[i];
	return NULL;
}

/* A mandatory key=value; 0, or the usage status after saying so. */
int
qa_need(struct qa *qa, const char *key, const char **out)
{
	if ((*out = qa_arg(qa, key)) == NULL)
		return qa_usage(qa, "missing %s= (usage: qa %s %s %s)", key,
		    qa->cmd->obj, qa->cmd->cmd, qa->cmd->usage);
	return 0;
}

/* An integer argument in [min, max]; dflt when absent. */
int
qa_int_arg(struct qa *qa, const char *key, long long min, long long max,
    long long dflt, long long *out)
{
	const char *v = qa_arg(qa, key), *why;

	*out = dflt;
	if (v == NULL)
		return 0;
	if (num_parse(v, min, max, out, &why) == -1)
		return qa_fail(qa, "%s: '%s' is %s (%lld to %lld)", key,
		    str_clip(v), why, min, max);
	return 0;
}

/* expire-soft= / expire-hard=: an at(1) time, or empty to clear. */
int
qa_time_arg(struct qa *qa, const char *key, int *set, long long *epoch)
{
	const char *v = qa_arg(qa, key);
	char err[256];
	time_t t;

	*set = 0;
	*epoch = 0;
	if (v == NULL)
		return 0;
	*set = 1;
	if (*v == '\0')
		return 0;
	if (attime_parse(v, time(NULL), &t, err, sizeof(err)) == -1)
		return qa_fail(qa, "%s: %s", key, err);
	*epoch = (long long)t;
	return 0;
}

/*
 * Acting on every object without a filter needs a "y" on a terminal, or
 * --force; without a terminal it is refused.  0 to go on.
 */
int
qa_confirm(struct qa *qa, const char *verb)
{
	const char *what = qa->obj ? qa->obj->plural : "config entries";
	char prompt[160];

	if (qa->filter.given || qa->force)
		return 0;
	if (!tty_interactive())
		return qa_fail(qa, "no filter given: refusing to %s all %s "
		    "without --force", verb, what);
	str_fmt(prompt, sizeof(prompt), "Are you sure you want to %s all %s? "
	    "[y/N] ", verb, what);
	if (!tty_yes(prompt))
		return qa_fail(qa, "cancelled; nothing was changed");
	return 0;
}

/* The ids the filter selects; an error when it selects none. */
int
qa_ids(struct qa *qa, long long **ids, int *n)
{
	struct pg_result *res;
	char *sql;
	int i;

	sql = xasprintf("SELECT %s FROM %s WHERE %s ORDER BY 1",
	    qa->obj->id_sql, qa->obj->from_sql, buf_str(&qa->filter.where));
	res = db_queryv(qa->db, sql, qa->filter.nvalues,
	    (const char *const *)qa->filter.values);
	free(sql);
	if (res == NULL)
		return qa_fail(qa, "%s", db_error(qa->db));
	*n = db_ntuples(res);
	if (*n == 0) {
		db_clear(res);
		return qa_fail(qa, qa->filter.given ? "the filter matches no %s" :
		    "there are no %s", qa->filter.given ? qa->obj->label :
		    qa->obj->plural);
	}
	*ids = xcalloc((size_t)*n, sizeof(**ids));
	for (i = 0; i < *n; i++)
		(*ids)[i] = db_int(res, i, 0);
	db_clear(res);
	return 0;
}

/* "N things done." from an admin_* count, or its error. */
int
qa_say_count(struct qa *qa, long long n, const char *fmt, const char *err)
{
	if (n < 0)
		return qa_fail(qa, "%s", err);
	printf(fmt, n);
	if (err[0] != '\0')
		printf(" %s", err);
	putchar('\n');
	return n == 0 && str_has_prefix(err, ADMIN_NOTE_REFUSED) ? QA_ERROR : 0;
}

/* The usual filter -> confirm -> act -> "N things done." sequence. */
int
qa_mass(struct qa *qa, const char *verb,
    long long (*fn)(struct db *, const long long *, int, char *),
    const char *fmt)
{
	char err[ADMIN_ERRSZ];
	long long *ids, n;
	int count, rc;

	if ((rc = qa_confirm(qa, verb)) != 0 ||
	    (rc = qa_ids(qa, &ids, &count)) != 0)
		return rc;
	err[0] = '\0';
	n = fn(qa->db, ids, count, err);
	free(ids);
	return qa_say_count(qa, n, fmt, err);
}

/* The object's list (lists.c) with the filter applied, printed. */
int
qa_list_of(struct qa *qa, const char *object)
{
	const struct list_def *l = list_find(object);

	return qa_list(qa, l->select, list_from(l), l->cols, l->ncols,
	    l->order);
}

/* A list query over the object with the filter applied, printed. */
int
qa_list(struct qa *qa, const char *select, const char *from,
    const struct out_col *cols, int ncols, const char *order)
{
	struct pg_result *res;
	char *sql;
	int rc;

	sql = xasprintf("SELECT %s FROM %s WHERE %s ORDER BY %s", select, from,
	    buf_str(&qa->filter.where), order);
	res = db_queryv(qa->db, sql, qa->filter.nvalues,
	    (const char *const *)qa->filter.values);
	free(sql);
	if (res == NULL)
		return qa_fail(qa, "%s", db_error(qa->db));
	rc = out_rows(stdout, cols, ncols, res, qa->json, qa->quiet);
	db_clear(res);
	return rc == -1 ? qa_fail(qa, "a row is too large for JSON") : 0;
}

/* Read a password: twice without echo on a terminal, else one line. */
int
qa_read_password(struct qa *qa, const char *prompt, char *out, size_t outsz)
{
	char again[PASS_MAX + 2];
	int differ;

	if (!tty_interactive()) {
		if (fgets(out, (int)outsz, stdin) == NULL)
			return qa_fail(qa, "no password on standard input");
		out[strcspn(out, "\r\n")] = '\0';
		return 0;
	}
	if (tty_ask(prompt, 1, out, outsz) == -1 ||
	    tty_ask("Again: ", 1, again, sizeof(again)) == -1)
		return qa_fail(qa, "no password read");
	differ = strcmp(out, again) != 0;
	wipe(again, sizeof(again));
	if (differ)
		return qa_fail(qa, "the passwords do not match");
	return out[0] == '\0' ? qa_fail(qa, "the password must not be empty") :
	    0;
}

/* ---- help ---- */

static void
print_command_help(const struct qa_cmd *c)
{
	printf("%s %s: %s\nusage: qa %s %s %s\n", c->obj, c->cmd, c->summary,
	    c->obj, c->cmd, c->usage);
	if (c->flags & QA_FILTER)
		printf("       (the objects are chosen with -f key=value,...)\n");
	if (c->help != NULL)
		printf("\n%s\n", c->help);
}

static void
print_all_commands(FILE *fp)
{
	const struct qa_cmd *c;

	fprintf(fp, "%s\navailable subcommands:\n", USAGE_LINE);
	for (c = qa_commands; c->obj != NULL; c++)
		fprintf(fp, "  %s %s\n", c->obj, c->cmd);
	fprintf(fp, "Add --help after a command for its arguments.\n");
}

/* "add, del, list" for one object, on stderr. */
static void
print_commands_of(const char *obj)
{
	const struct qa_cmd *c;
	int n = 0;

	fprintf(stderr, "commands:");
	for (c = qa_commands; c->obj != NULL; c++)
		if (strcmp(c->obj, obj) == 0)
			fprintf(stderr, "%s %s", n++ ? "," : "", c->cmd);
}

/* ---- command line ---- */

static const struct qa_cmd *
find_command(const char *obj, const char *cmd, int *obj_known)
{
	const struct qa_cmd *c;

	*obj_known = 0;
	for (c = qa_commands; c->obj != NULL; c++) {
		if (strcmp(c->obj, obj) != 0)
			continue;
		*obj_known = 1;
		if (cmd != NULL && strcmp(c->cmd, cmd) == 0)
			return c;
	}
	return NULL;
}

static int
check_args(struct qa *qa)
{
	const struct qa_cmd *c = qa->cmd;
	int i, j, known;

	for (i = 0; i < qa->nargs; i++) {
		if (qa->val[i] == NULL) {
			if (!(c->flags & QA_BARE))
				return qa_usage(qa, "expected key=value, got "
				    "'%s'", str_clip(qa->key[i]));
			continue;
		}
		if (c->flags & QA_ANYKEY)
			continue;
		for (known = 0, j = 0; c->args != NULL && c->args[j]; j++)
			known |= strcmp(c->args[j], qa->key[i]) == 0;
		if (!known)
			return qa_usage(qa, "unknown argument '%s' (usage: qa "
			    "%s %s %s)", str_clip(qa->key[i]), c->obj, c->cmd,
			    c->usage);
		for (j = 0; j < i; j++)
			if (qa->val[j] && strcmp(qa->key[j], qa->key[i]) == 0)
				return qa_usage(qa, "%s= given twice",
				    qa->key[i]);
	}
	return 0;
}

static int
add_arg(struct qa *qa, char *a)
{
	char *eq = strchr(a, '=');

	if (qa->nargs >= QA_MAX_ARGS)
		return qa_usage(qa, "too many arguments");
	if (eq != NULL && eq != a) {
		*eq = '\0';
		qa->key[qa->nargs] = a;
		qa->val[qa->nargs++] = eq + 1;
	} else {
		qa->key[qa->nargs] = a;
		qa->val[qa->nargs++] = NULL;
	}
	return 0;
}

/* Options may come anywhere, as upstream's qa allows. */
static int
parse_cmdline(struct qa *qa, int argc, char **argv, const char **cfile,
    char ***filters, int *nfilters, int *help)
{
	const char *words[2] = { NULL, NULL };
	int i, nw = 0;

	*filters = xcalloc((size_t)argc, sizeof(**filters));
	for (i = 1; i < argc; i++) {
		char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			qa->rest = argv + i + 1;
			qa->nrest = argc - i - 1;
			break;
		}
		if (strcmp(a, "-f") == 0 || strcmp(a, "-F") == 0 ||
		    strcmp(a, "--filter") == 0 || strcmp(a, "-c") == 0) {
			if (i + 1 >= argc)
				return qa_usage(qa, "%s needs an argument", a);
			if (a[1] == 'c')
				*cfile = argv[++i];
			else
				(*filters)[(*nfilters)++] = argv[++i];
		} else if (str_has_prefix(a, "--filter="))
			(*filters)[(*nfilters)++] = a + 9;
		else if (strcmp(a, "--force") == 0 || strcmp(a, "-y") == 0)
			qa->force = 1;
		else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
			qa->quiet = 1;
		else if (strcmp(a, "--json") == 0)
			qa->json = 1;
		else if (strcmp(a, "--secrets") == 0)
			qa->secrets = 1;
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			*help = 1;
		else if (a[0] == '-' && a[1] != '\0')
			return qa_usage(qa, "unknown option %s", a);
		else if (nw < 2)
			words[nw++] = a;
		else if (add_arg(qa, a) != 0)
			return QA_USAGE;
	}
	qa->objname = words[0];
	qa->cmdname = words[1];
	return 0;
}

static int
open_db(struct qa *qa)
{
	char err[512];
	int rc;

	if ((qa->db = db_open(err, sizeof(err))) == NULL) {
		if (qa->no_conf_file != NULL)
			return qa_fail(qa, "%s (%s does not exist: give -c "
			    "FILE or set QVD_CONF)", err, qa->no_conf_file);
		return qa_fail(qa, "%s", err);
	}
	/* (each read again once on a new primary if the session died) */
	if ((rc = db_schema_present(qa->db)) == -1 && db_recover(qa->db) == 0)
		rc = db_schema_present(qa->db);
	switch (rc) {
	case -1:
		return qa_fail(qa, "cannot read the database: %s",
		    db_error(qa->db));
	case 0:
		return qa_fail(qa, "the database has no QVD schema "
		    "(run qvd-deploy-db)");
	}
	if (db_load_config(qa->db) == -1 && (db_recover(qa->db) == -1 ||
	    db_load_config(qa->db) == -1))
		return qa_fail(qa, "cannot read the configs table: %s",
		    db_error(qa->db));
	return 0;
}

int
main(int argc, char **argv)
{
	struct qa qa;
	const char *cfile = NULL;
	char **filters = NULL, err[ADMIN_ERRSZ];
	int nfilters = 0, help = 0, obj_known, i, rc;

	memset(&qa, 0, sizeof(qa));
	filter_init(&qa.filter);
	if ((rc = parse_cmdline(&qa, argc, argv, &cfile, &filters, &nfilters,
	    &help)) != 0)
		return rc;
	cfile = conf_path_for("/etc/qvd/node.conf", cfile);
	conf_load_or_die("qa", cfile, strcmp(cfile, "/etc/qvd/node.conf") != 0);
	if (access(cfile, F_OK) == -1)
		qa.no_conf_file = cfile;
	log_open("qa", LVL_ERROR, NULL, 0, 1);
	if (qa.objname == NULL) {
		print_all_commands(help ? stdout : stderr);
		return help ? 0 : QA_USAGE;
	}
	qa.cmd = find_command(qa.objname, qa.cmdname, &obj_known);
	if (qa.cmd == NULL) {
		if (!obj_known)
			fprintf(stderr, "qa: unknown object '%s' (objects: "
			    "config, di, host, osf, user, vm)\n",
			    str_clip(qa.objname));
		else {
			fprintf(stderr, qa.cmdname == NULL ? "qa: %s: a command "
			    "is needed (" : "qa: %s: unknown command '%s' (",
			    qa.objname, qa.cmdname ? str_clip(qa.cmdname) : "");
			print_commands_of(qa.objname);
			fprintf(stderr, ")\n");
		}
		return QA_USAGE;
	}
	if (help) {
		print_command_help(qa.cmd);
		return 0;
	}
	qa.obj = object_find(qa.objname);
	if (nfilters > 0 && !(qa.cmd->flags & QA_FILTER))
		return qa_usage(&qa, "this command takes no filter");
	for (i = 0; i < nfilters; i++)
		if (filter_add(&qa.filter, qa.obj, filters[i], err,
		    sizeof(err)) == -1)
			return qa_usage(&qa, "%s", err);
	free(filters);
	if ((rc = check_args(&qa)) != 0)
		return rc;
	if (qa.secrets && (strcmp(qa.objname, "config") != 0 ||
	    strcmp(qa.cmdname, "get") != 0))
		return qa_usage(&qa, "--secrets is for config get only");
	if (qa.json && !(qa.cmd->flags & QA_JSON))
		return qa_usage(&qa, "--json is for list, get and counters "
		    "commands");
	if ((rc = open_db(&qa)) != 0)
		return rc;
	rc = qa.cmd->fn(&qa);
	filter_free(&qa.filter);
	db_close(qa.db);
	return rc;
}
