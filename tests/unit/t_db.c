/* SPDX-License-Identifier: GPL-3.0-or-later */
/* t_db.c -- libpq wrapper against the rig's PostgreSQL (QVD_TEST_CONF). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"
#include "tap.h"

struct conflict {
	struct db	*other;
	int		 calls;
};

/* First call: read, let another session commit a write, then write. */
static int
bump(struct db *db, void *arg)
{
	struct conflict *c = arg;
	struct pg_result *res;

	c->calls++;
	res = db_query(db, "SELECT v FROM t_db WHERE k = 1", 0);
	if (res == NULL)
		return -1;
	db_clear(res);
	if (c->calls == 1 && db_exec(c->other,
	    "UPDATE t_db SET v = v + 100 WHERE k = 1", 0) == -1)
		return -1;
	return db_exec(db, "UPDATE t_db SET v = v + 1 WHERE k = 1", 0);
}

/* First call: the session is killed under us (as by a failover). */
static int
cut_once(struct db *db, void *arg)
{
	struct conflict *c = arg;
	struct pg_result *res;
	char pid[24];

	if (++c->calls == 1) {
		res = db_query(db, "SELECT pg_backend_pid()", 0);
		str_copy(pid, res ? db_val(res, 0, 0) : "0", sizeof(pid));
		db_clear(res);
		db_exec(c->other, "SELECT pg_terminate_backend($1::int)", 1,
		    pid);
	}
	return db_exec(db, "INSERT INTO t_db VALUES (2, $1)", 1, "7");
}

int
main(void)
{
	const char *conf = getenv("QVD_TEST_CONF");
	struct conf_errors errs;
	struct db *a, *b;
	struct pg_result *res;
	struct conflict c;
	char err[512], chan[64], pid[24];
	const char *evil = "x'); DROP TABLE hosts; --";

	if (conf == NULL) {
		printf("1..0 # SKIP QVD_TEST_CONF not set\n");
		return 0;
	}
	memset(&errs, 0, sizeof(errs));
	if (conf_load_file(conf, CONF_FILE, &errs) == -1) {
		conf_errors_print(&errs, stdout, "t_db");
		return 1;
	}
	log_open("t_db", LVL_ERROR, NULL, 0, 1);
	a = db_open(err, sizeof(err));
	b = db_open(err, sizeof(err));
	ok(a != NULL && b != NULL, "two connections open");
	if (a == NULL || b == NULL) {
		tap_diag("%s", err);
		return tap_done();
	}
	ok(db_schema_present(a) == 1, "schema present");
	res = db_query(a, "SELECT $1::int + 1", 1, "41");
	ok(res != NULL && strcmp(db_val(res, 0, 0), "42") == 0,
	    "parameterised query");
	db_clear(res);
	ok(db_exec(a, "INSERT INTO configs (key, value) VALUES ($1, $2)", 2,
	    evil, evil) == 0, "hostile text inserted as a parameter");
	res = db_query(a, "SELECT count(*) FROM configs WHERE key = $1", 1,
	    evil);
	ok(res != NULL && strcmp(db_val(res, 0, 0), "1") == 0 &&
	    db_schema_present(a) == 1, "stored as data, nothing dropped");
	db_clear(res);
	is_int(db_exec_count(a, "DELETE FROM configs WHERE key = $1", 1, evil),
	    1, "rows affected counted");
	ok(db_query(a, "SELECT nonsense FROM nowhere", 0) == NULL &&
	    strcmp(a->sqlstate, "42P01") == 0, "error carries its SQLSTATE");

	db_exec(a, "DROP TABLE IF EXISTS t_db", 0);
	db_exec(a, "CREATE TABLE t_db (k int PRIMARY KEY, v int)", 0);
	db_exec(a, "INSERT INTO t_db VALUES (1, 0)", 0);
	c.other = b;
	c.calls = 0;
	ok(db_tx(a, bump, &c) == 0, "transaction committed");
	is_int(c.calls, 2, "serialization failure retried once");
	res = db_query(a, "SELECT v FROM t_db WHERE k = 1", 0);
	ok(res && strcmp(db_val(res, 0, 0), "101") == 0,
	    "both writes applied exactly once");
	db_clear(res);
	c.calls = 0;
	ok(db_tx(a, cut_once, &c) == 0, "a transaction whose session died");
	is_int(c.calls, 2, "ran again on a new session");
	res = db_query(a, "SELECT count(*) FROM t_db WHERE k = 2", 0);
	ok(res && strcmp(db_val(res, 0, 0), "1") == 0, "and is done once");
	db_clear(res);
	db_exec(a, "DROP TABLE t_db", 0);

	ok(db_listen(a, "qvd_cmd_for_vm_on_host1") == 0, "LISTEN");
	ok(db_listen(a, "bad; name") == -1, "bad channel name refused");
	ok(db_notify(b, "qvd_cmd_for_vm_on_host1") == 0, "NOTIFY");
	ok(db_wait_notify(a, 2000, chan, sizeof(chan)) == 1 &&
	    strcmp(chan, "qvd_cmd_for_vm_on_host1") == 0, "notification seen");
	ok(db_wait_notify(a, 100, chan, sizeof(chan)) == 0, "then a timeout");

	db_exec(a, "INSERT INTO configs VALUES ('l7r.port', '9999'), "
	    "('nodename', 'evil')", 0);
	conf_set(CONF_FILE, "nodename", "good");
	ok(db_load_config(a) == 0 && strcmp(conf_get("l7r.port"), "9999") == 0,
	    "configs table overlays the file");
	is_str(conf_get("nodename"), "good", "but not for nodename");
	db_exec(a, "DELETE FROM configs", 0);

	res = db_query(a, "SELECT pg_backend_pid()", 0);
	str_copy(pid, res ? db_val(res, 0, 0) : "0", sizeof(pid));
	db_clear(res);
	db_exec(b, "SELECT pg_terminate_backend($1::int)", 1, pid);
	ok(db_query(a, "SELECT 1", 0) == NULL, "killed connection fails");
	ok(db_ensure(a) == 0, "db_ensure reconnects");
	res = db_query(a, "SELECT 1", 0);
	ok(res != NULL, "and queries work again");
	db_clear(res);
	db_close(a);
	db_close(b);
	conf_free();
	return tap_done();
}
