/* SPDX-License-Identifier: GPL-3.0-or-later */
/* db.c -- libpq: connect, parameterised queries, retried transactions. */

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "qvd.h"

#define DB_DEADLOCK		"40P01"
#define DB_SERIALIZATION	"40001"

/* libpq's hints come on further lines: one line, tabs dropped. */
static void
one_line(char *s)
{
	char *nl;

	while ((nl = strchr(s, '\n')) != NULL) {
		*nl = ' ';
		while (nl[1] == '\t')
			memmove(nl + 1, nl + 2, strlen(nl + 2) + 1);
	}
}

/* The server's notices (a FATAL as it goes down, too) go to the log,
 * not onto a tool's terminal. */
static void
notice_to_log(void *arg, const char *msg)
{
	char line[512];

	(void)arg;
	str_copy(line, msg, sizeof(line));
	str_trim(line);
	one_line(line);
	log_info("database: %s", line);
}

static int
connect_once(struct db *db)
{
	const char *keys[14], *vals[14];
	char timeout[16], idle[16], intvl[16], cnt[16], user[24];
	int n = 0;

	str_fmt(timeout, sizeof(timeout), "%lld",
	    conf_int("internal.database.client.connect.timeout", 20));
	str_fmt(idle, sizeof(idle), "%lld",
	    conf_int("internal.database.client.socket.keepidle", 20));
	str_fmt(intvl, sizeof(intvl), "%lld",
	    conf_int("internal.database.client.socket.keepintvl", 5));
	str_fmt(cnt, sizeof(cnt), "%lld",
	    conf_int("internal.database.client.socket.keepcnt", 3));
	/* unacknowledged data: a link cut fails a query in this time */
	str_fmt(user, sizeof(user), "%lld", conf_int("internal.database."
	    "client.socket.user_timeout", 10) * 1000);
	keys[n] = "host"; vals[n++] = conf_get("database.host");
	keys[n] = "port"; vals[n++] = conf_get("database.port");
	keys[n] = "dbname"; vals[n++] = conf_get("database.name");
	keys[n] = "user"; vals[n++] = conf_get("database.user");
	keys[n] = "password"; vals[n++] = conf_get("database.password");
	keys[n] = "connect_timeout"; vals[n++] = timeout;
	keys[n] = "keepalives_idle"; vals[n++] = idle;
	keys[n] = "keepalives_interval"; vals[n++] = intvl;
	keys[n] = "keepalives_count"; vals[n++] = cnt;
	keys[n] = "tcp_user_timeout"; vals[n++] = user;
	keys[n] = "application_name"; vals[n++] = "qvd";
	/* of the hosts database.host lists, the primary: never a standby */
	keys[n] = "target_session_attrs"; vals[n++] = "read-write";
	keys[n] = NULL; vals[n] = NULL;
	db->pg = PQconnectdbParams(keys, vals, 0);
	if (db->pg == NULL || PQstatus(db->pg) != CONNECTION_OK) {
		str_fmt(db->err, sizeof(db->err),
		    "cannot connect to database %s on %s: %s",
		    conf_get("database.name"), conf_get("database.host"),
		    db->pg ? PQerrorMessage(db->pg) : "out of memory");
		str_trim(db->err);
		one_line(db->err);
		if (db->pg != NULL && strstr(db->err, "read-only") != NULL)
			str_fmt(db->err + strlen(db->err), sizeof(db->err) -
			    strlen(db->err), " (a hot standby: database.host "
			    "must list the primary, or every member so that the "
			    "primary is found)");
		if (db->pg)
			PQfinish(db->pg);
		db->pg = NULL;
		return -1;
	}
	PQsetNoticeProcessor(db->pg, notice_to_log, NULL);
	db->connected_ms = mono_ms();
	db->generation++;
	/* Timestamps are stored in UTC (upstream does the same). */
	if (db_exec(db, "SET TIME ZONE 'UTC'", 0) == -1) {
		str_fmt(db->err + strlen(db->err), sizeof(db->err) -
		    strlen(db->err), " (the session closed as it began)");
		PQfinish(db->pg);
		db->pg = NULL;
		return -1;
	}
	return 0;
}

/* database.host lists several members: a failover may be under way. */
static int
several_hosts(void)
{
	return strchr(conf_get("database.host"), ',') != NULL;
}

/* What a connection attempt meets while the members fail over: only a
 * standby, or a session that died as it began. */
static int
failing_over(const char *err)
{
	return strstr(err, "read-only") != NULL ||
	    strstr(err, "closed the connection") != NULL ||
	    strstr(err, "terminating connection") != NULL;
}

/* Seconds a tool waits for a primary while the members fail over. */
static long long
failover_wait_ms(void)
{
	return conf_int("internal.database.client.failover.wait", 30) * 1000;
}

/*
 * Connect to the primary.  When database.host lists several members and
 * only a hot standby answers, a failover is under way: wait for its end
 * (internal.database.client.failover.wait) before failing.
 */
struct db *
db_open(char *err, size_t errsz)
{
	struct db *db = xcalloc(1, sizeof(*db));
	long long deadline = mono_ms() + failover_wait_ms();
	int rc;

	while ((rc = connect_once(db)) == -1 && several_hosts() &&
	    failing_over(db->err) && mono_ms() < deadline)
		sleep_ms(250);
	if (rc == -1) {
		str_copy(err, db->err, errsz);
		free(db);
		return NULL;
	}
	return db;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (db->pg)
		PQfinish(db->pg);
	free(db);
}

/*
 * Reconnect if the connection was lost; 0 when usable.  It never sleeps:
 * after a failed attempt the next one waits for its back-off to pass
 * (-1 until then), so that a loop around it keeps doing its other work.
 */
int
db_ensure(struct db *db)
{
	long long maxdelay = conf_int(
	    "internal.database.pool.connection.delay", 10) * 1000;

	if (db->pg != NULL && PQstatus(db->pg) == CONNECTION_OK)
		return 0;
	if (mono_ms() < db->retry_at)
		return -1;
	if (db->pg != NULL) {
		PQfinish(db->pg);
		db->pg = NULL;
	}
	if (connect_once(db) == 0) {
		db->backoff_ms = 0;
		db->retry_at = 0;
		log_info("database connection restored (%s)",
		    PQhost(db->pg) ? PQhost(db->pg) : "?");
		return 0;
	}
	db->backoff_ms = db->backoff_ms ? db->backoff_ms * 2 : 250;
	if (db->backoff_ms > maxdelay)
		db->backoff_ms = (int)maxdelay;
	db->retry_at = mono_ms() + db->backoff_ms;
	log_warn("%s; retrying in %d ms", db->err, db->backoff_ms);
	return -1;
}

/* db_ensure until it works or ms have passed; 0 when connected. */
static int
reconnect_within(struct db *db, long long ms)
{
	long long deadline = mono_ms() + ms;

	while (db_ensure(db) == -1) {
		if (mono_ms() >= deadline)
			return -1;
		sleep_ms(100);
	}
	return 0;
}

const char *
db_error(const struct db *db)
{
	return db->err;
}

static void
record_error(struct db *db, PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) :
	    NULL;
	const char *msg = res ? PQresultErrorField(res,
	    PG_DIAG_MESSAGE_PRIMARY) : NULL;

	str_copy(db->sqlstate, state ? state : "", sizeof(db->sqlstate));
	if (msg == NULL)
		msg = PQerrorMessage(db->pg);
	str_copy(db->err, msg, sizeof(db->err));
	str_trim(db->err);
}

/*
 * A query with text parameters; NULL on failure (db_error says why).
 * A statement of its own (outside BEGIN ... COMMIT) that lost a
 * serialization conflict did nothing: it is simply sent again.
 */
struct pg_result *
db_queryv(struct db *db, const char *sql, int nparams,
    const char *const *params)
{
	PGresult *res;
	ExecStatusType st;
	int alone, tries = 0;

	db->sqlstate[0] = '\0';
	if (db->pg == NULL) {
		str_copy(db->err, "not connected to the database",
		    sizeof(db->err));
		return NULL;
	}
	alone = PQtransactionStatus(db->pg) == PQTRANS_IDLE;
	for (;;) {
		db->nqueries++;
		res = PQexecParams(db->pg, sql, nparams, NULL, params, NULL,
		    NULL, 0);
		st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
			return res;
		record_error(db, res);
		PQclear(res);
		if (!alone || !db_retryable(db) || ++tries >= 10)
			break;
		log_debug("statement conflict (%s); sent again", db->sqlstate);
		sleep_ms(2 + (int)(random() % (10 * tries)));
	}
	if (PQstatus(db->pg) != CONNECTION_OK)
		log_warn("lost the database connection: %s", db->err);
	else
		log_debug("query failed (%s): %s", db->sqlstate, db->err);
	return NULL;
}

struct pg_result *
db_query(struct db *db, const char *sql, int nparams, ...)
{
	const char *params[DB_MAX_PARAMS];
	va_list ap;
	int i;

	if (nparams > DB_MAX_PARAMS) {
		str_copy(db->err, "too many parameters", sizeof(db->err));
		return NULL;
	}
	va_start(ap, nparams);
	for (i = 0; i < nparams; i++)
		params[i] = va_arg(ap, const char *);
	va_end(ap);
	return db_queryv(db, sql, nparams, params);
}

int
db_exec(struct db *db, const char *sql, int nparams, ...)
{
	const char *params[DB_MAX_PARAMS];
	struct pg_result *res;
	va_list ap;
	int i;

	if (nparams > DB_MAX_PARAMS)
		return -1;
	va_start(ap, nparams);
	for (i = 0; i < nparams; i++)
		params[i] = va_arg(ap, const char *);
	va_end(ap);
	if ((res = db_queryv(db, sql, nparams, params)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* Rows affected by an INSERT/UPDATE/DELETE, or -1. */
long long
db_exec_count(struct db *db, const char *sql, int nparams, ...)
{
	const char *params[DB_MAX_PARAMS];
	struct pg_result *res;
	va_list ap;
	long long n;
	int i;

	if (nparams > DB_MAX_PARAMS)
		return -1;
	va_start(ap, nparams);
	for (i = 0; i < nparams; i++)
		params[i] = va_arg(ap, const char *);
	va_end(ap);
	if ((res = db_queryv(db, sql, nparams, params)) == NULL)
		return -1;
	n = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return n;
}

int
db_begin(struct db *db)
{
	return db_exec(db, "BEGIN ISOLATION LEVEL SERIALIZABLE", 0);
}

int
db_commit(struct db *db)
{
	return db_exec(db, "COMMIT", 0);
}

void
db_rollback(struct db *db)
{
	char saved[sizeof(db->err)], state[sizeof(db->sqlstate)];

	memcpy(saved, db->err, sizeof(saved));
	memcpy(state, db->sqlstate, sizeof(state));
	db_exec(db, "ROLLBACK", 0);
	memcpy(db->err, saved, sizeof(saved));
	memcpy(db->sqlstate, state, sizeof(state));
}

int
db_retryable(const struct db *db)
{
	return strcmp(db->sqlstate, DB_SERIALIZATION) == 0 ||
	    strcmp(db->sqlstate, DB_DEADLOCK) == 0;
}

static int
connection_lost(const struct db *db)
{
	return db->pg == NULL || PQstatus(db->pg) != CONNECTION_OK;
}

/*
 * A read failed: if it was because the session died (the primary failed
 * over), reconnect to the new one.  0 when the read may be tried again.
 */
int
db_recover(struct db *db)
{
	if (!connection_lost(db))
		return -1;	/* a real error: trying again changes nothing */
	return reconnect_within(db, failover_wait_ms());
}

/*
 * After the connection died around a COMMIT: did the transaction txid
 * commit?  Asked of whichever member is primary now (its standby had
 * every commit, synchronous_mode).  1 yes, 0 no or unknown.
 */
static int
committed_after_all(struct db *db, const char *txid)
{
	struct pg_result *res;
	int yes;

	if (reconnect_within(db, failover_wait_ms()) == -1)
		return 0;
	res = db_query(db, "SELECT txid_status($1::bigint)", 1, txid);
	yes = res != NULL && strcmp(db_val(res, 0, 0), "committed") == 0;
	db_clear(res);
	log_info("database: the connection was lost at COMMIT; the "
	    "transaction %s %s", txid, yes ? "had committed" :
	    "had not committed: it runs again");
	return yes;
}

/*
 * Run fn inside a serializable transaction, retrying it from the start
 * when PostgreSQL reports a serialization failure or a deadlock, or when
 * the connection is lost (a failover): then it reconnects to the new
 * primary and, if the COMMIT was on its way, asks whether it committed,
 * so that nothing is done twice or lost.  fn returns 0 to commit, 1 to
 * refuse (roll back; db_tx returns 1), -1 on a database error (roll back,
 * retried if it was a conflict); it must not act outside the database.
 */
int
db_tx(struct db *db, int (*fn)(struct db *, void *), void *arg)
{
	long long tries = conf_int("internal.database.tx.retries", 10), i;
	struct pg_result *res;
	char txid[24];
	int rc;

	for (i = 0; i < tries; i++) {
		if (connection_lost(db) &&
		    reconnect_within(db, failover_wait_ms()) == -1)
			return -1;
		txid[0] = '\0';
		rc = -1;
		if (db_begin(db) == 0 && (rc = fn(db, arg)) == 0 &&
		    (res = db_query(db, "SELECT txid_current()", 0)) != NULL) {
			str_copy(txid, db_val(res, 0, 0), sizeof(txid));
			db_clear(res);
			if (db_commit(db) == 0)
				return 0;
		}
		if (connection_lost(db)) {
			if (txid[0] != '\0' && committed_after_all(db, txid))
				return 0;
			continue;
		}
		db_rollback(db);
		if (rc == 1)
			return 1;
		if (!db_retryable(db))
			return -1;
		log_debug("transaction conflict (%s); retry %lld", db->sqlstate,
		    i + 1);
		sleep_ms(5 + (int)(random() % (20 * (i + 1))));
	}
	return -1;
}

static int
channel_ok(const char *ch)
{
	size_t n = 0;

	for (; ch[n]; n++)
		if (!((ch[n] >= 'a' && ch[n] <= 'z') ||
		    (ch[n] >= '0' && ch[n] <= '9') || ch[n] == '_'))
			return 0;
	return n > 0 && n < 64;
}

/*
 * LISTEN takes no parameters, so the channel name is checked against
 * [a-z0-9_] and quoted by libpq before it is sent.
 */
int
db_listen(struct db *db, const char *channel)
{
	char *ident, sql[128];
	int rc;

	if (!channel_ok(channel) || db->pg == NULL) {
		str_fmt(db->err, sizeof(db->err), "bad channel name");
		return -1;
	}
	ident = PQescapeIdentifier(db->pg, channel, strlen(channel));
	if (ident == NULL)
		return -1;
	rc = str_fmt(sql, sizeof(sql), "LISTEN %s", ident);
	PQfreemem(ident);
	if (rc == -1)
		return -1;
	return db_exec(db, sql, 0);
}

int
db_notify(struct db *db, const char *channel)
{
	return db_exec(db, "SELECT pg_notify($1, '')", 1, channel);
}

int
db_socket(struct db *db)
{
	return db->pg ? PQsocket(db->pg) : -1;
}

/*
 * Wait up to timeout_ms for a notification.  1 with the channel name,
 * 0 on timeout, -1 when the connection failed.
 */
int
db_wait_notify(struct db *db, int timeout_ms, char *chan, size_t chansz)
{
	PGnotify *n;
	struct pollfd pfd;
	long long deadline = mono_ms() + timeout_ms, left;

	for (;;) {
		if (db->pg == NULL || PQconsumeInput(db->pg) == 0)
			return -1;
		if ((n = PQnotifies(db->pg)) != NULL) {
			str_copy(chan, n->relname, chansz);
			PQfreemem(n);
			return 1;
		}
		left = deadline - mono_ms();
		if (left <= 0)
			return 0;
		pfd.fd = PQsocket(db->pg);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR)
			return -1;
	}
}

/* Overlay the configs table on the configuration (CONF_DB layer). */
int
db_load_config(struct db *db)
{
	struct pg_result *res;
	int i;

	res = db_query(db, "SELECT key, value FROM configs", 0);
	if (res == NULL)
		return -1;
	conf_clear_layer(CONF_DB);
	for (i = 0; i < db_ntuples(res); i++)
		conf_set(CONF_DB, db_val(res, i, 0), db_val(res, i, 1));
	db_clear(res);
	return 0;
}

/* 1 when QVD's schema is deployed (the versions row is there). */
int
db_schema_present(struct db *db)
{
	struct pg_result *res;
	int present;

	res = db_query(db, "SELECT to_regclass('versions') IS NOT NULL AND "
	    "to_regclass('vm_runtimes') IS NOT NULL", 0);
	if (res == NULL)
		return -1;
	present = strcmp(db_val(res, 0, 0), "t") == 0;
	db_clear(res);
	return present;
}

void
db_clear(struct pg_result *res)
{
	PQclear(res);
}

int
db_ntuples(const struct pg_result *res)
{
	return PQntuples(res);
}

const char *
db_val(const struct pg_result *res, int row, int col)
{
	return PQgetvalue(res, row, col);
}

int
db_isnull(const struct pg_result *res, int row, int col)
{
	return PQgetisnull(res, row, col);
}

long long
db_int(const struct pg_result *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return 0;
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

const char *
db_fmt_int(char buf[24], long long v)
{
	snprintf(buf, 24, "%lld", v);
	return buf;
}
