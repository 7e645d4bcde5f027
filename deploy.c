/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deploy.c -- qvd-deploy-db: creates (or with --force recreates) the schema. */

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"

static void NORETURN
usage(void)
{
	fprintf(stderr, "usage: qvd-deploy-db [-f] [-c file]\n");
	exit(2);
}

/* A comma list of the QVD tables that already exist, or "" if none. */
static int
existing_tables(struct db *db, struct buf *out)
{
	struct pg_result *res;
	struct buf names = { NULL, 0, 0, 4096 };
	int i;

	buf_adds(&names, "{");
	for (i = 0; qvd_schema_tables[i] != NULL; i++)
		buf_printf(&names, "%s%s", i ? "," : "", qvd_schema_tables[i]);
	buf_adds(&names, "}");
	res = db_query(db, "SELECT c.relname FROM pg_class c "
	    "JOIN pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE n.nspname = current_schema() AND c.relkind = 'r' "
	    "AND c.relname = ANY($1::text[]) ORDER BY c.relname", 1,
	    buf_str(&names));
	buf_free(&names);
	if (res == NULL)
		return -1;
	for (i = 0; i < db_ntuples(res); i++)
		buf_printf(out, "%s%s", i ? ", " : "", db_val(res, i, 0));
	db_clear(res);
	return 0;
}

static int
run_all(struct db *db, const char *const *stmts)
{
	int i;

	for (i = 0; stmts[i] != NULL; i++)
		if (db_exec(db, stmts[i], 0) == -1)
			return -1;
	return 0;
}

static int
deploy(struct db *db, void *arg)
{
	int force = *(int *)arg;

	if (force && run_all(db, qvd_schema_drops) == -1)
		return -1;
	return run_all(db, qvd_schema_stmts);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfile = NULL;
	char err[512];
	struct buf tables = { NULL, 0, 0, 4096 };
	struct db *db;
	int ch, force = 0, ntables;

	while ((ch = getopt_long(argc, argv, "fc:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			force = 1;
			break;
		case 'c':
			cfile = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	cfile = conf_path_for("/etc/qvd/node.conf", cfile);
	conf_load_or_die("qvd-deploy-db", cfile, cfile != NULL &&
	    strcmp(cfile, "/etc/qvd/node.conf") != 0);
	log_open("qvd-deploy-db", LVL_WARN, NULL, 0, 1);
	if ((db = db_open(err, sizeof(err))) == NULL)
		errx(1, "%s", err);
	if (existing_tables(db, &tables) == -1)
		errx(1, "cannot list tables: %s", db_error(db));
	if (tables.len > 0 && !force)
		errx(1, "the database already contains QVD tables (%s); "
		    "nothing was changed; use --force to drop and recreate "
		    "them", buf_str(&tables));
	if (db_tx(db, deploy, &force) == -1)
		errx(1, "cannot deploy the schema: %s", db_error(db));
	for (ntables = 0; qvd_schema_tables[ntables] != NULL; ntables++)
		;
	printf("QVD database %s %s: %d tables, schema %s\n",
	    conf_get("database.name"), force && tables.len > 0 ? "recreated" :
	    "deployed", ntables, QVD_SCHEMA_VERSION);
	buf_free(&tables);
	db_close(db);
	return 0;
}
