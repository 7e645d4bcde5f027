/* SPDX-License-Identifier: GPL-3.0-or-later */
/* vmctl.c -- virtual machines as qa and the WAT manage them: add, start,
 * stop, block, disconnect, edit and delete, each one transaction. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"

/* A text[] parameter: {"a","b\"c"}. */
static void
text_array(struct buf *b, char *const *v, int n)
{
	const char *p;
	int i;

	buf_adds(b, "{");
	for (i = 0; i < n; i++) {
		buf_adds(b, i ? ",\"" : "\"");
		for (p = v[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_add(b, "\\", 1);
			buf_add(b, p, 1);
		}
		buf_adds(b, "\"");
	}
	buf_adds(b, "}");
}

/* The id of a user (by login), OSF or host (by name). */
int
admin_lookup(struct db *db, const char *kind, const char *name,
    long long *id, char *err)
{
	struct pg_result *res;
	char login[128];
	const char *sql;

	if (strcmp(kind, "user") == 0) {
		admin_normalize_login(name, login, sizeof(login));
		name = login;
		sql = "SELECT id FROM users WHERE login = $1";
	} else if (strcmp(kind, "OSF") == 0)
		sql = "SELECT id FROM osfs WHERE lower(name) = lower($1) "
		    "ORDER BY name = $1 DESC LIMIT 1";
	else if (strcmp(kind, "host") == 0)
		sql = "SELECT id FROM hosts WHERE lower(name) = lower($1) "
		    "ORDER BY name = $1 DESC LIMIT 1";
	else
		sql = "SELECT id FROM vms WHERE lower(name) = lower($1) "
		    "ORDER BY name = $1 DESC LIMIT 1";
	if ((res = db_query(db, sql, 1, name)) == NULL) {
		str_fmt(err, ADMIN_ERRSZ, "%s", db_error(db));
		return -1;
	}
	if (db_ntuples(res) == 0) {
		db_clear(res);
		str_fmt(err, ADMIN_ERRSZ, "no %s named '%s'", kind,
		    str_clip(name));
		return -1;
	}
	*id = db_int(res, 0, 0);
	db_clear(res);
	return 0;
}

/* Does a row with this id exist?  (kind: user, OSF, VM, DI) */
int
admin_exists(struct db *db, const char *kind, long long id, char *err)
{
	struct pg_result *res;
	char ids[24];
	const char *sql = strcmp(kind, "user") == 0 ?
	    "SELECT 1 FROM users WHERE id = $1::bigint" :
	    strcmp(kind, "OSF") == 0 ? "SELECT 1 FROM osfs WHERE id = $1::bigint" :
	    strcmp(kind, "DI") == 0 ? "SELECT 1 FROM dis WHERE id = $1::bigint" :
	    "SELECT 1 FROM vms WHERE id = $1::bigint";
	int n;

	if ((res = db_query(db, sql, 1, db_fmt_int(ids, id))) == NULL) {
		str_fmt(err, ADMIN_ERRSZ, "%s", db_error(db));
		return -1;
	}
	n = db_ntuples(res);
	db_clear(res);
	if (n == 0) {
		str_fmt(err, ADMIN_ERRSZ, "no %s with id %lld", kind, id);
		return -1;
	}
	return 0;
}

/* ---- add ---- */

struct vm_add {
	const struct vm_add_req	*r;
	struct ipnet	 net;
	long long	 first_id;
	int		 count;
	char		*err;
};

static int
used_ips(struct db *db, uint32_t **used, size_t *n)
{
	struct pg_result *res;
	int i, rows;

	res = db_query(db, "SELECT ip FROM vms WHERE ip IS NOT NULL", 0);
	if (res == NULL)
		return -1;
	rows = db_ntuples(res);
	*used = xcalloc((size_t)rows + 1, sizeof(**used));
	for (*n = 0, i = 0; i < rows; i++)
		if (ip_parse(db_val(res, i, 0), &(*used)[*n]) == 0)
			(*n)++;
	db_clear(res);
	return 0;
}

/* The addresses for the new VMs, as a text[] parameter. */
static int
choose_ips(struct db *db, struct vm_add *a, struct buf *ips)
{
	uint32_t *used, *got, want;
	size_t nused, n, i;
	char s[16], *one;
	int found = 0;

	if (used_ips(db, &used, &nused) == -1)
		return -1;
	if (a->r->ip != NULL) {
		if (ip_parse(a->r->ip, &want) == -1 ||
		    !ipnet_contains_vm(&a->net, want)) {
			str_fmt(a->err, ADMIN_ERRSZ, "%s is not an address of "
			    "the VM range (from vm.network.ip.start)", a->r->ip);
			free(used);
			return 1;
		}
		for (i = 0; i < nused; i++)
			found |= used[i] == want;
		free(used);
		if (found) {
			str_fmt(a->err, ADMIN_ERRSZ, "address %s is already "
			    "used by another VM", a->r->ip);
			return 1;
		}
		one = (char *)a->r->ip;
		text_array(ips, &one, 1);
		return 0;
	}
	got = xcalloc((size_t)a->r->bulk, sizeof(*got));
	n = ipnet_alloc(&a->net, used, nused, got, (size_t)a->r->bulk);
	free(used);
	if (n < (size_t)a->r->bulk) {
		free(got);
		str_copy(a->err, "the VM address range is full (see "
		    "vm.network.ip.start and vm.network.netmask)", ADMIN_ERRSZ);
		return 1;
	}
	buf_adds(ips, "{");
	for (i = 0; i < n; i++) {
		ip_format(got[i], s);
		buf_printf(ips, "%s%s", i ? "," : "", s);
	}
	buf_adds(ips, "}");
	free(got);
	return 0;
}

/*
 * Can a VM of this OSF boot with this tag?  0: yes, or the OSF has no
 * disk image yet and the tag is the default (warn says it: the image
 * often comes later); 1: no disk image of the OSF carries it (err).
 */
static int
tag_bootable(struct db *db, const char *osf_id, const char *tag, char *err,
    char *warn)
{
	struct pg_result *res;
	int rc = 0;

	res = db_query(db, "SELECT o.name, (SELECT count(*) FROM dis d WHERE "
	    "d.osf_id = o.id), EXISTS (SELECT 1 FROM dis d JOIN di_tags t ON "
	    "t.di_id = d.id WHERE d.osf_id = o.id AND t.tag = $2) FROM osfs o "
	    "WHERE o.id = $1::int", 2, osf_id, tag);
	if (res == NULL)
		return -1;
	if (db_ntuples(res) == 0 || strcmp(db_val(res, 0, 2), "t") == 0)
		rc = 0;
	else if (db_int(res, 0, 1) == 0 && strcmp(tag, "default") == 0) {
		if (warn != NULL)
			str_fmt(warn, ADMIN_ERRSZ, "OSF '%s' has no disk image "
			    "yet: the VM cannot start until one is added",
			    db_val(res, 0, 0));
	} else {
		str_fmt(err, ADMIN_ERRSZ, "no disk image of OSF '%s' is tagged "
		    "'%s' (see qa di list -f osf_id=%s)", db_val(res, 0, 0),
		    str_clip(tag), osf_id);
		rc = 1;
	}
	db_clear(res);
	return rc;
}

static int
tx_vm_add(struct db *db, void *arg)
{
	struct vm_add *a = arg;
	struct buf names = { NULL, 0, 0, 0 }, ips = { NULL, 0, 0, 0 };
	struct pg_result *res;
	char **list, uid[24], oid[24];
	int i, rc = -1;

	list = xcalloc((size_t)a->r->bulk, sizeof(*list));
	for (i = 0; i < a->r->bulk; i++)
		list[i] = a->r->bulk > 1 || a->r->force_suffix ?
		    xasprintf("%s-%d", a->r->name, i) : xstrdup(a->r->name);
	text_array(&names, list, a->r->bulk);
	res = db_query(db, "SELECT name FROM vms WHERE lower(name) = "
	    "ANY(SELECT lower(n) FROM unnest($1::text[]) n) ORDER BY name "
	    "LIMIT 1", 1, buf_str(&names));
	if (res == NULL)
		goto out;
	if (db_ntuples(res) > 0) {
		str_fmt(a->err, ADMIN_ERRSZ, "a VM named '%s' already exists",
		    db_val(res, 0, 0));
		db_clear(res);
		rc = 1;
		goto out;
	}
	db_clear(res);
	if ((rc = tag_bootable(db, db_fmt_int(oid, a->r->osf_id),
	    a->r->di_tag, a->err, a->r->warn)) != 0)
		goto out;
	if ((rc = choose_ips(db, a, &ips)) != 0)
		goto out;
	rc = -1;
	res = db_query(db, "INSERT INTO vms (name, user_id, osf_id, di_tag, ip, "
	    "storage) SELECT n, $3, $4, $5, i, '' FROM unnest($1::text[], "
	    "$2::text[]) WITH ORDINALITY AS t(n, i, k) ORDER BY k RETURNING id",
	    5, buf_str(&names), buf_str(&ips), db_fmt_int(uid, a->r->user_id),
	    db_fmt_int(oid, a->r->osf_id), a->r->di_tag);
	if (res == NULL)
		goto out;
	a->count = db_ntuples(res);
	a->first_id = db_int(res, 0, 0);
	for (i = 1; i < a->count; i++)
		if (db_int(res, i, 0) < a->first_id)
			a->first_id = db_int(res, i, 0);
	db_clear(res);
	if (db_exec(db, "INSERT INTO vm_runtimes (vm_id, vm_state, user_state, "
	    "blocked) SELECT id, 'stopped', 'disconnected', false FROM vms "
	    "WHERE name = ANY($1::text[])", 1, buf_str(&names)) == -1 ||
	    db_exec(db, "INSERT INTO vm_counters (vm_id) SELECT id FROM vms "
	    "WHERE name = ANY($1::text[])", 1, buf_str(&names)) == -1)
		goto out;
	rc = 0;
out:
	for (i = 0; i < a->r->bulk; i++)
		free(list[i]);
	free(list);
	buf_free(&names);
	buf_free(&ips);
	return rc;
}

/* Create r->bulk VMs (named name-0.. when more than one). */
int
admin_vm_add(struct db *db, const struct vm_add_req *r, long long *first_id,
    int *count, char *err)
{
	struct vm_add a;

	memset(&a, 0, sizeof(a));
	a.r = r;
	a.err = err;
	if (r->warn != NULL)
		r->warn[0] = '\0';
	if (valid_name(NAME_OBJECT, "VM name", r->name, err, ADMIN_ERRSZ) == -1 ||
	    valid_name(NAME_TAG, "DI tag", r->di_tag, err, ADMIN_ERRSZ) == -1)
		return -1;
	if (r->bulk > 1 && strlen(r->name) > 56) {
		str_copy(err, "a VM name for bulk= is at most 56 characters "
		    "(a suffix -N is added)", ADMIN_ERRSZ);
		return -1;
	}
	if (r->bulk < 1 || r->bulk > 100000) {
		str_copy(err, "bulk must be from 1 to 100000", ADMIN_ERRSZ);
		return -1;
	}
	if (r->ip != NULL && r->bulk > 1) {
		str_copy(err, "ip cannot be given with bulk", ADMIN_ERRSZ);
		return -1;
	}
	if (ipnet_from_conf(&a.net, err, ADMIN_ERRSZ) == -1 ||
	    admin_exists(db, "user", r->user_id, err) == -1 ||
	    admin_exists(db, "OSF", r->osf_id, err) == -1)
		return -1;
	if (admin_tx(db, tx_vm_add, &a, err, "cannot add the VM") == -1)
		return -1;
	*first_id = a.first_id;
	*count = a.count;
	return 0;
}

/* ---- start / stop ---- */

struct vm_op {
	struct buf	 param;		/* the ids asked for, as an int[] */
	struct buf	 willing;	/* those that take it (keep_willing) */
	long long	 count;		/* VMs the operation changed */
	int		 on;
	char		*err;		/* the error, or after success a note */
	int		 asked;		/* ids given */
};

/* One transaction tx over the VMs of ids: how many it changed, or -1. */
static long long
run_vm_op(struct db *db, const long long *ids, int n, int on, char *err,
    int (*tx)(struct db *, void *), const char *what)
{
	struct vm_op op;
	int rc;

	memset(&op, 0, sizeof(op));
	op.on = on;
	op.err = err;
	op.asked = n;
	admin_ids_param(ids, n, &op.param);
	rc = admin_tx(db, tx, &op, err, what);
	buf_free(&op.param);
	buf_free(&op.willing);
	return rc == -1 ? -1 : op.count;
}

static int
notify_hosts(struct db *db, struct pg_result *res, int col, const char *fmt)
{
	char ch[64];
	int i, j, seen;

	for (i = 0; i < db_ntuples(res); i++) {
		if (db_isnull(res, i, col))
			continue;
		for (seen = 0, j = 0; j < i; j++)
			seen |= strcmp(db_val(res, j, col),
			    db_val(res, i, col)) == 0;
		if (seen)
			continue;
		str_fmt(ch, sizeof(ch), fmt, db_int(res, i, col));
		if (db_notify(db, ch) == -1)
			return -1;
	}
	return 0;
}

/*
 * Why each VM of ids would not take an operation: why_sql is the CASE of
 * a query over vms v and vm_runtimes r, NULL for a VM that will.  The
 * ids that will go to op->willing; the others, and the VMs no longer
 * there, are named in op->err as a note ("" when none).  op->param is
 * left as asked, so that a retried transaction asks again.
 */
#define WHY_NOT(expr) "SELECT v.id, v.name, " expr " FROM vms v JOIN " \
	"vm_runtimes r ON r.vm_id = v.id WHERE v.id = ANY($1::int[]) " \
	"ORDER BY v.id"

/* "vm1 (blocked), vm2 (...)", five at most, then "and N more". */
static void
name_why(struct buf *b, int *count, const char *name, const char *why)
{
	if ((*count)++ < 5)
		buf_printf(b, "%s%s (%s)", *count > 1 ? ", " : "", name, why);
}

static int
keep_willing(struct db *db, struct vm_op *op, const char *why_sql,
    const char *verb)
{
	struct pg_result *res;
	struct buf ok = { NULL, 0, 0, 0 }, no = { NULL, 0, 0, 0 },
	    same = { NULL, 0, 0, 0 };
	int i, n, refused = 0, already = 0;

	if ((res = db_query(db, why_sql, 1, buf_str(&op->param))) == NULL)
		return -1;
	n = db_ntuples(res);
	buf_adds(&ok, "{");
	for (i = 0; i < n; i++) {
		if (db_isnull(res, i, 2))
			buf_printf(&ok, "%s%s", ok.len > 1 ? "," : "",
			    db_val(res, i, 0));
		else if (str_has_prefix(db_val(res, i, 2), "already"))
			name_why(&same, &already, db_val(res, i, 1),
			    db_val(res, i, 2));
		else
			name_why(&no, &refused, db_val(res, i, 1),
			    db_val(res, i, 2));
	}
	buf_adds(&ok, "}");
	if (refused > 5)
		buf_printf(&no, " and %d more", refused - 5);
	if (already > 5)
		buf_printf(&same, " and %d more", already - 5);
	if (op->asked > n)
		buf_printf(&no, "%s%d no longer exist", refused ? "; " : "",
		    op->asked - n);
	op->err[0] = '\0';
	if (no.len > 0)
		str_fmt(op->err, ADMIN_ERRSZ, ADMIN_NOTE_REFUSED "%s: %s.",
		    verb, buf_str(&no));
	if (same.len > 0)
		str_fmt(op->err + strlen(op->err), ADMIN_ERRSZ -
		    strlen(op->err), "%sUnchanged: %s.", no.len ? " " : "",
		    buf_str(&same));
	buf_reset(&op->willing);
	buf_adds(&op->willing, buf_str(&ok));
	db_clear(res);
	buf_free(&ok);
	buf_free(&no);
	buf_free(&same);
	return 0;
}

#define HAS_IMAGE "EXISTS (SELECT 1 FROM dis d JOIN di_tags t ON t.di_id = " \
	"d.id WHERE d.osf_id = v.osf_id AND t.tag = v.di_tag)"

static int
tx_vm_start(struct db *db, void *arg)
{
	struct vm_op *op = arg;
	struct pg_result *res;
	long long host;
	char hid[24];
	int i, n;

	if (keep_willing(db, op, WHY_NOT("CASE WHEN r.blocked THEN 'blocked' "
	    "WHEN r.vm_state <> 'stopped' THEN 'already ' || r.vm_state WHEN "
	    "r.vm_cmd = 'start' THEN 'already starting' WHEN r.vm_cmd IS NOT "
	    "NULL THEN 'a ' || r.vm_cmd || ' is pending' WHEN NOT " HAS_IMAGE
	    " THEN 'no disk image tagged ' || v.di_tag END"), "started") == -1)
		return -1;
	res = db_query(db, "SELECT vm_id, host_id FROM vm_runtimes WHERE vm_id "
	    "= ANY($1::int[]) AND vm_state = 'stopped' ORDER BY vm_id", 1,
	    buf_str(&op->willing));
	if (res == NULL)
		return -1;
	n = db_ntuples(res);
	for (i = 0; i < n; i++) {
		if (!db_isnull(res, i, 1))
			continue;
		if (lb_pick_host(db, &host, op->err, ADMIN_ERRSZ) == -1) {
			db_clear(res);
			return 1;
		}
		if (db_exec(db, "UPDATE vm_runtimes SET host_id = $2 WHERE vm_id "
		    "= $1 AND host_id IS NULL AND vm_state = 'stopped'", 2,
		    db_val(res, i, 0), db_fmt_int(hid, host)) == -1) {
			db_clear(res);
			return -1;
		}
	}
	db_clear(res);
	res = db_query(db, "UPDATE vm_runtimes SET vm_cmd = 'start' WHERE vm_id "
	    "= ANY($1::int[]) AND vm_state = 'stopped' AND host_id IS NOT NULL "
	    "AND vm_cmd IS NULL RETURNING host_id", 1, buf_str(&op->willing));
	if (res == NULL)
		return -1;
	op->count = db_ntuples(res);
	i = notify_hosts(db, res, 0, "qvd_cmd_for_vm_on_host%lld");
	db_clear(res);
	return i;
}

/* Ask the nodes to start the stopped VMs of ids (placing them first). */
long long
admin_vm_start(struct db *db, const long long *ids, int n, char *err)
{
	return run_vm_op(db, ids, n, 0, err, tx_vm_start, "cannot start VMs");
}

static int
tx_vm_stop(struct db *db, void *arg)
{
	struct vm_op *op = arg;
	struct pg_result *res;
	long long cancelled;
	int rc;

	if (keep_willing(db, op, WHY_NOT("CASE WHEN r.vm_state = 'stopped' AND "
	    "r.vm_cmd IS DISTINCT FROM 'start' THEN 'already stopped' WHEN "
	    "r.vm_state IN ('stopping', 'zombie') OR r.vm_cmd = 'stop' THEN "
	    "'already stopping' END"), "stopped") == -1)
		return -1;
	res = db_query(db, "UPDATE vm_runtimes SET vm_cmd = 'stop' WHERE vm_id "
	    "= ANY($1::int[]) AND vm_state IN ('starting', 'running', "
	    "'debugging') RETURNING host_id", 1, buf_str(&op->willing));
	if (res == NULL)
		return -1;
	op->count = db_ntuples(res);
	rc = notify_hosts(db, res, 0, "qvd_cmd_for_vm_on_host%lld");
	db_clear(res);
	if (rc == -1)
		return -1;
	/* a start not yet picked up is simply withdrawn */
	cancelled = db_exec_count(db, "UPDATE vm_runtimes SET vm_cmd = NULL "
	    "WHERE vm_id = ANY($1::int[]) AND vm_state = 'stopped' AND vm_cmd "
	    "= 'start'", 1, buf_str(&op->willing));
	if (cancelled < 0)
		return -1;
	op->count += cancelled;
	return 0;
}

long long
admin_vm_stop(struct db *db, const long long *ids, int n, char *err)
{
	return run_vm_op(db, ids, n, 0, err, tx_vm_stop, "cannot stop VMs");
}

static int
tx_vm_block(struct db *db, void *arg)
{
	struct vm_op *op = arg;

	if (keep_willing(db, op, op->on ? WHY_NOT("CASE WHEN r.blocked THEN "
	    "'already blocked' END") : WHY_NOT("CASE WHEN NOT r.blocked THEN "
	    "'already unblocked' END"), op->on ? "blocked" : "unblocked") ==
	    -1)
		return -1;
	op->count = db_exec_count(db, op->on ? "UPDATE vm_runtimes SET blocked "
	    "= true WHERE vm_id = ANY($1::int[])" : "UPDATE vm_runtimes SET "
	    "blocked = false, vm_failure = NULL WHERE vm_id = ANY($1::int[])",
	    1, buf_str(&op->willing));
	return op->count < 0 ? -1 : 0;
}

/* Block (on) or unblock VMs; unblocking forgets the failure reason. */
long long
admin_vm_block(struct db *db, const long long *ids, int n, int on, char *err)
{
	return run_vm_op(db, ids, n, on, err, tx_vm_block, "cannot block VMs");
}

/* The same in the shape qa_mass() and the WAT's actions take. */
long long
admin_vm_block_on(struct db *db, const long long *ids, int n, char *err)
{
	return admin_vm_block(db, ids, n, 1, err);
}

long long
admin_vm_block_off(struct db *db, const long long *ids, int n, char *err)
{
	return admin_vm_block(db, ids, n, 0, err);
}

static int
tx_vm_disconnect(struct db *db, void *arg)
{
	struct vm_op *op = arg;
	struct pg_result *res;
	int rc;

	res = db_query(db, "UPDATE vm_runtimes SET user_cmd = 'abort', "
	    "user_end = 'administrator' WHERE vm_id = ANY($1::int[]) AND user_state IN ('connecting', "
	    "'connected') RETURNING l7r_host_id", 1, buf_str(&op->param));
	if (res == NULL)
		return -1;
	op->count = db_ntuples(res);
	rc = notify_hosts(db, res, 0, "qvd_cmd_for_user_on_host%lld");
	db_clear(res);
	return rc;
}

/* Ask the L7Rs holding these VMs' sessions to end them. */
long long
admin_vm_disconnect(struct db *db, const long long *ids, int n, char *err)
{
	return run_vm_op(db, ids, n, 0, err, tx_vm_disconnect, "cannot disconnect users");
}

static int
tx_vm_del(struct db *db, void *arg)
{
	struct vm_op *op = arg;
	struct pg_result *res;

	res = db_query(db, "SELECT v.name, r.vm_state FROM vms v JOIN "
	    "vm_runtimes r ON r.vm_id = v.id WHERE v.id = ANY($1::int[]) AND "
	    "(r.vm_state <> 'stopped' OR r.user_state <> 'disconnected') "
	    "ORDER BY v.id LIMIT 1", 1, buf_str(&op->param));
	if (res == NULL)
		return -1;
	if (db_ntuples(res) > 0) {
		str_fmt(op->err, ADMIN_ERRSZ, "VM '%s' is %s; stop it before "
		    "deleting it", db_val(res, 0, 0), db_val(res, 0, 1));
		db_clear(res);
		return 1;
	}
	db_clear(res);
	op->count = db_exec_count(db, "DELETE FROM vms WHERE id = "
	    "ANY($1::int[])", 1, buf_str(&op->param));
	return op->count < 0 ? -1 : 0;
}

/* Delete stopped VMs (their runtime, counters and properties go too). */
long long
admin_vm_del(struct db *db, const long long *ids, int n, char *err)
{
	long long count;

	count = run_vm_op(db, ids, n, 0, err, tx_vm_del, "cannot delete VMs");
	if (count > 0)
		str_copy(err, "Their home directories are kept in "
		    "path.storage.homefs (qa vm del homes=delete removes them "
		    "with the VMs).", ADMIN_ERRSZ);
	return count;
}

/* Where an LXC VM's home lives: per VM, or per user (home.per.user). */
void
vm_home_dir(long long vm_id, long long user_id, const char *login, char *out,
    size_t outsz)
{
	if (conf_bool("vm.lxc.home.per.user"))
		str_fmt(out, outsz, "%s/%s", conf_get("path.storage.homefs"),
		    login);
	else
		str_fmt(out, outsz, "%s/%lld-%lld-homefs",
		    conf_get("path.storage.homefs"), vm_id, user_id);
}

/* ---- edit ---- */

struct vm_edit_op {
	const struct vm_edit *e;
	struct buf	 param;
	int		 n;
	long long	 count;		/* VMs changed */
	long long	 found;		/* VMs that exist */
	char		*err;
};

static const char *
epoch_param(int set, long long epoch, char buf[24])
{
	if (!set || epoch == 0)
		return NULL;	/* NULL clears */
	return db_fmt_int(buf, epoch);
}

/* Each VM's editable columns as one text, by id: what an edit changes. */
static struct pg_result *
vm_fingerprints(struct db *db, const char *ids)
{
	return db_query(db, "SELECT v.id, row(v.name, v.di_tag, v.ip, "
	    "v.user_id, v.osf_id, r.vm_expiration_soft, "
	    "r.vm_expiration_hard)::text FROM vms v JOIN vm_runtimes r ON "
	    "r.vm_id = v.id WHERE v.id = ANY($1::int[]) ORDER BY v.id", 1, ids);
}

static long long
count_changed(struct pg_result *before, struct pg_result *after)
{
	int i, n = db_ntuples(before);
	long long changed = 0;

	if (db_ntuples(after) != n)
		return n;
	for (i = 0; i < n; i++)
		if (strcmp(db_val(before, i, 1), db_val(after, i, 1)) != 0)
			changed++;
	return changed;
}

/*
 * What an edit gives the VMs of ids (a name, an address) is no other VM's:
 * sql finds another holder of $1 outside $2.  1 with err naming it.
 */
static int
not_held_by_other(struct db *db, const char *sql, const char *value,
    const char *ids, const char *fmt, char *err)
{
	struct pg_result *res;
	int rc = 0;

	if (value == NULL)
		return 0;
	if ((res = db_query(db, sql, 2, value, ids)) == NULL)
		return -1;
	if (db_ntuples(res) > 0) {
		str_fmt(err, ADMIN_ERRSZ, fmt, str_clip(value),
		    db_val(res, 0, 0));
		rc = 1;
	}
	db_clear(res);
	return rc;
}

/* After a change of tag or OSF, every VM can still find its image. */
static int
edited_tags_bootable(struct db *db, const struct vm_edit *e, const char *ids,
    char *err)
{
	struct pg_result *res;
	char osf[24];
	int i, rc = 0;

	if (e->di_tag == NULL && e->osf_id <= 0)
		return 0;
	res = db_query(db, "SELECT DISTINCT coalesce($2::int, osf_id), "
	    "coalesce($3, di_tag) FROM vms WHERE id = ANY($1::int[])", 3, ids,
	    e->osf_id > 0 ? db_fmt_int(osf, e->osf_id) : NULL, e->di_tag);
	if (res == NULL)
		return -1;
	for (i = 0; i < db_ntuples(res) && rc == 0; i++)
		rc = tag_bootable(db, db_val(res, i, 0), db_val(res, i, 1), err,
		    e->warn);
	db_clear(res);
	return rc;
}

/* The UPDATEs of one edit, checked before. */
static int
apply_vm_edit(struct db *db, const struct vm_edit *e, const char *p)
{
	char a[24], b[24];

	if (e->name != NULL && db_exec(db, "UPDATE vms SET name = $2 WHERE "
	    "id = ANY($1::int[])", 2, p, e->name) == -1)
		return -1;
	if (e->di_tag != NULL && db_exec(db, "UPDATE vms SET di_tag = $2 WHERE "
	    "id = ANY($1::int[])", 2, p, e->di_tag) == -1)
		return -1;
	if (e->ip != NULL && db_exec(db, "UPDATE vms SET ip = $2 WHERE id = "
	    "ANY($1::int[])", 2, p, e->ip) == -1)
		return -1;
	if (e->user_id > 0 && db_exec(db, "UPDATE vms SET user_id = $2 WHERE "
	    "id = ANY($1::int[])", 2, p, db_fmt_int(a, e->user_id)) == -1)
		return -1;
	if (e->osf_id > 0 && db_exec(db, "UPDATE vms SET osf_id = $2 WHERE "
	    "id = ANY($1::int[])", 2, p, db_fmt_int(a, e->osf_id)) == -1)
		return -1;
	if (e->soft_set && db_exec(db, "UPDATE vm_runtimes SET "
	    "vm_expiration_soft = to_timestamp($2::bigint)::timestamp WHERE "
	    "vm_id = ANY($1::int[])", 2, p, epoch_param(1, e->soft, a)) == -1)
		return -1;
	if (e->hard_set && db_exec(db, "UPDATE vm_runtimes SET "
	    "vm_expiration_hard = to_timestamp($2::bigint)::timestamp WHERE "
	    "vm_id = ANY($1::int[])", 2, p, epoch_param(1, e->hard, b)) == -1)
		return -1;
	if ((e->soft_set || e->hard_set) &&
	    db_notify(db, "qvd_expiration_changed") == -1)
		return -1;
	return 0;
}

static int
tx_vm_edit(struct db *db, void *arg)
{
	struct vm_edit_op *op = arg;
	const struct vm_edit *e = op->e;
	const char *p = buf_str(&op->param);
	struct pg_result *before, *after;
	int rc;

	if ((rc = not_held_by_other(db, "SELECT name FROM vms WHERE lower(name) "
	    "= lower($1) AND id <> ALL($2::int[])", e->name, p, "the name "
	    "'%s' is taken by VM '%s'", op->err)) != 0 ||
	    (rc = not_held_by_other(db, "SELECT name FROM vms WHERE ip = $1 AND "
	    "id <> ALL($2::int[])", e->ip, p, "address %s is already used by "
	    "VM '%s'", op->err)) != 0 ||
	    (rc = edited_tags_bootable(db, e, p, op->err)) != 0)
		return rc;
	if ((before = vm_fingerprints(db, p)) == NULL)
		return -1;
	rc = apply_vm_edit(db, e, p);
	if (rc == 0 && (after = vm_fingerprints(db, p)) != NULL) {
		op->count = count_changed(before, after);
		op->found = db_ntuples(before);
		db_clear(after);
	} else if (rc == 0)
		rc = -1;
	db_clear(before);
	return rc;
}

/* An expiration an edit sets must not lie in the past (a minute's grace). */
static int
expiry_past(const char *what, int set, long long when, char *err)
{
	char at[32];
	time_t t = (time_t)when;
	struct tm tm;

	if (!set || when == 0 || when >= (long long)time(NULL) - 60)
		return 0;
	strftime(at, sizeof(at), "%Y-%m-%d %H:%M", localtime_r(&t, &tm));
	str_fmt(err, ADMIN_ERRSZ, "%s %s is in the past (now expires at "
	    "once; an empty value clears it)", what, at);
	return 1;
}

/* Why fewer VMs changed than were asked for. */
static void
unchanged_note(char *warn, int asked, long long found, long long changed)
{
	if (found < asked)
		str_fmt(warn, ADMIN_ERRSZ, ADMIN_NOTE_REFUSED "edited: %lld of "
		    "%d VMs no longer exist; %lld already had these values.",
		    asked - found, asked, found - changed);
	else
		str_fmt(warn, ADMIN_ERRSZ, "Unchanged: %lld of %d VMs already "
		    "had these values.", found - changed, asked);
}

long long
admin_vm_edit(struct db *db, const long long *ids, int n,
    const struct vm_edit *e, char *err)
{
	struct vm_edit_op op = { e, { NULL, 0, 0, 0 }, n, 0, 0, err };
	struct ipnet net;
	uint32_t ip;
	int rc;

	if (e->warn != NULL)
		e->warn[0] = '\0';
	if (expiry_past("expire-soft", e->soft_set, e->soft, err) ||
	    expiry_past("expire-hard", e->hard_set, e->hard, err))
		return -1;
	if (e->name != NULL && (n > 1 ||
	    valid_name(NAME_OBJECT, "VM name", e->name, err, ADMIN_ERRSZ) ==
	    -1)) {
		if (n > 1)
			str_copy(err, "a name can only be given to one VM",
			    ADMIN_ERRSZ);
		return -1;
	}
	if (e->di_tag != NULL &&
	    valid_name(NAME_TAG, "DI tag", e->di_tag, err, ADMIN_ERRSZ) == -1)
		return -1;
	if (e->ip != NULL) {
		if (n > 1) {
			str_copy(err, "an address can only be given to one VM",
			    ADMIN_ERRSZ);
			return -1;
		}
		if (ipnet_from_conf(&net, err, ADMIN_ERRSZ) == -1)
			return -1;
		if (ip_parse(e->ip, &ip) == -1 || !ipnet_contains_vm(&net, ip)) {
			str_fmt(err, ADMIN_ERRSZ, "%s is not an address of the "
			    "VM range", str_clip(e->ip));
			return -1;
		}
	}
	admin_ids_param(ids, n, &op.param);
	rc = admin_tx(db, tx_vm_edit, &op, err, "cannot edit VMs");
	buf_free(&op.param);
	if (rc == 0 && e->warn != NULL && e->warn[0] == '\0' &&
	    op.count < n)
		unchanged_note(e->warn, n, op.found, op.count);
	return rc == -1 ? -1 : op.count;
}
