/* SPDX-License-Identifier: GPL-3.0-or-later */
/* admin.c -- configuration, nodes, OSFs, users and properties, as qa and
 * the WAT change them: each operation one retried transaction. */

#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"

#define UNIQUE_VIOLATION	"23505"

/* "{1,2,3}": an id list as one int[] parameter. */
void
admin_ids_param(const long long *ids, int n, struct buf *b)
{
	int i;

	buf_reset(b);
	b->max = 0;
	buf_adds(b, "{");
	for (i = 0; i < n; i++)
		buf_printf(b, "%s%lld", i ? "," : "", ids[i]);
	buf_adds(b, "}");
}

/* Names for an error message: up to five, then "...". */
static void
list_names(struct pg_result *res, int col, char *out, size_t outsz)
{
	struct buf b = { NULL, 0, 0, 0 };
	int i, n = db_ntuples(res);

	for (i = 0; i < n && i < 5; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", db_val(res, i, col));
	if (n > 5)
		buf_printf(&b, " and %d more", n - 5);
	str_copy(out, buf_str(&b), outsz);
	buf_free(&b);
}

static int
db_fail(struct db *db, char *err, const char *what)
{
	str_fmt(err, ADMIN_ERRSZ, "%s: %s", what, db_error(db));
	return -1;
}

/* A name typed by an administrator: printable, no blanks at the ends. */
int
admin_valid_name(const char *what, const char *s, size_t max, char *err)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*s == '\0') {
		str_fmt(err, ADMIN_ERRSZ, "%s must not be empty", what);
		return -1;
	}
	if (strlen(s) > max) {
		str_fmt(err, ADMIN_ERRSZ, "%s '%s' is longer than %zu characters",
		    what, str_clip(s), max);
		return -1;
	}
	for (; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			str_fmt(err, ADMIN_ERRSZ, "%s contains a control "
			    "character", what);
			return -1;
		}
	if (isspace((unsigned char)s[0]) ||
	    isspace((unsigned char)s[strlen(s) - 1])) {
		str_fmt(err, ADMIN_ERRSZ, "%s '%s' starts or ends with a blank",
		    what, str_clip(s));
		return -1;
	}
	return 0;
}

/* A password to store: not empty, at most PASS_MAX bytes, hashed. */
static int
hash_new_password(const char *what, const char *password,
    char hash[PASS_HASH_MAX], char *err)
{
	if (password == NULL || *password == '\0') {
		str_fmt(err, ADMIN_ERRSZ, "%s must not be empty", what);
		return -1;
	}
	if (strlen(password) > PASS_MAX) {
		str_fmt(err, ADMIN_ERRSZ, "%s is too long (%zu bytes; at most "
		    "%d)", what, strlen(password), PASS_MAX);
		return -1;
	}
	if (pass_hash(password, hash, PASS_HASH_MAX) == -1) {
		str_fmt(err, ADMIN_ERRSZ, "cannot hash %s", what);
		return -1;
	}
	return 0;
}

/* ---- configuration ---- */

struct config_set {
	const char *const *keys;
	char		**values;	/* as stored (the admin password hashed) */
	int		 n;
};

static int
tx_config_set(struct db *db, void *arg)
{
	struct config_set *c = arg;
	int i;

	for (i = 0; i < c->n; i++)
		if (db_exec(db, "INSERT INTO configs (key, value) VALUES ($1, "
		    "$2) ON CONFLICT (key) DO UPDATE SET value = "
		    "EXCLUDED.value", 2, c->keys[i], c->values[i]) == -1)
			return -1;
	return db_notify(db, "qvd_config_changed");
}

/*
 * Whether key=value may be stored; *stored is the value to store (the
 * admin password hashed), which the caller frees.  Keys read from
 * node.conf only, and the certificate keys, are refused; an unknown key
 * is allowed but *warn says so (and names the closest known key).
 */
static int
config_check(const char *key, const char *value, char **stored, char *warn,
    char *err)
{
	char hash[PASS_HASH_MAX], why[256];
	const char *near;

	*warn = '\0';
	if (admin_valid_name("key", key, 64, err) == -1)
		return -1;
	if (conf_file_only(key)) {
		str_fmt(err, ADMIN_ERRSZ, "%s is read from node.conf only; in "
		    "the database it would have no effect", key);
		return -1;
	}
	if (str_has_prefix(key, "l7r.ssl.") && !str_has_prefix(key,
	    "l7r.ssl.options.")) {
		str_fmt(err, ADMIN_ERRSZ, "%s is set with 'qa config ssl'", key);
		return -1;
	}
	if (strlen(value) > 4096) {
		str_fmt(err, ADMIN_ERRSZ, "the value of %s is longer than 4096 "
		    "characters", key);
		return -1;
	}
	if (conf_default_find(key) == NULL) {
		near = conf_suggest(key);
		if (near != NULL)
			str_fmt(warn, ADMIN_ERRSZ, "'%s' is not a known QVD key; "
			    "did you mean '%s'? (stored anyway)", key, near);
		else
			str_fmt(warn, ADMIN_ERRSZ, "'%s' is not a known QVD key "
			    "(stored as a custom setting)", key);
	} else if (conf_check_value(key, value, why, sizeof(why)) == -1) {
		str_copy(err, why, ADMIN_ERRSZ);
		return -1;
	}
	if (strcmp(key, "wat.admin.password") != 0) {
		*stored = xstrdup(value);
		return 0;
	}
	if (hash_new_password("wat.admin.password", value, hash, err) == -1)
		return -1;
	*stored = xstrdup(hash);
	return 0;
}

/*
 * Store every keys[i]=values[i] in the configs table, all or none, and
 * tell the nodes.  warn(arg, text) hears about unknown keys.
 */
int
admin_config_set(struct db *db, const char *const *keys,
    const char *const *values, int n, void (*warn)(void *, const char *),
    void *arg, char *err)
{
	struct config_set c = { keys, xcalloc((size_t)n, sizeof(char *)), n };
	char note[ADMIN_ERRSZ];
	int i, rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		rc = config_check(keys[i], values[i], &c.values[i], note, err);
		if (rc == 0 && *note != '\0' && warn != NULL)
			warn(arg, note);
	}
	if (rc == 0 && db_tx(db, tx_config_set, &c) == -1)
		rc = db_fail(db, err, "cannot set the configuration");
	for (i = 0; i < n; i++)
		free(c.values[i]);
	free(c.values);
	return rc;
}

struct config_del {
	const char *const *keys;
	int	 nkeys;
	long long count;
	struct buf missing;	/* keys that were not set */
};

static int
tx_config_del(struct db *db, void *arg)
{
	struct config_del *c = arg;
	int i;
	long long n;

	c->count = 0;
	buf_reset(&c->missing);
	if (c->keys == NULL) {
		if ((c->count = db_exec_count(db, "DELETE FROM configs", 0))
		    == -1)
			return -1;
	} else
		for (i = 0; i < c->nkeys; i++) {
			n = db_exec_count(db, "DELETE FROM configs WHERE key = $1",
			    1, c->keys[i]);
			if (n == -1)
				return -1;
			if (n == 0)
				buf_printf(&c->missing, "%s%s", c->missing.len ?
				    ", " : "", str_clip(c->keys[i]));
			c->count += n;
		}
	return db_notify(db, "qvd_config_changed");
}

/* Delete the given keys (all of them when keys is NULL); the count. */
long long
admin_config_del(struct db *db, const char *const *keys, int nkeys, char *err)
{
	struct config_del c = { keys, nkeys, 0, { NULL, 0, 0, 4096 } };

	if (db_tx(db, tx_config_del, &c) == -1) {
		buf_free(&c.missing);
		return db_fail(db, err, "cannot delete configuration");
	}
	err[0] = '\0';
	if (c.missing.len > 0)
		str_fmt(err, ADMIN_ERRSZ, ADMIN_NOTE_REFUSED "deleted: %s (not "
		    "set in the database).", buf_str(&c.missing));
	buf_free(&c.missing);
	return c.count;
}

struct config_ssl {
	const char *key, *cert, *ca, *crl;
};

static int
put_ssl(struct db *db, const char *key, const char *pem)
{
	if (pem == NULL)
		return db_exec(db, "DELETE FROM ssl_configs WHERE key = $1", 1,
		    key);
	return db_exec(db, "INSERT INTO ssl_configs (key, value) VALUES "
	    "($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
	    2, key, pem);
}

static int
tx_config_ssl(struct db *db, void *arg)
{
	struct config_ssl *s = arg;

	if (put_ssl(db, "l7r.ssl.key", s->key) == -1 ||
	    put_ssl(db, "l7r.ssl.cert", s->cert) == -1 ||
	    put_ssl(db, "l7r.ssl.ca", s->ca) == -1 ||
	    put_ssl(db, "l7r.ssl.crl", s->crl) == -1)
		return -1;
	return db_notify(db, "qvd_config_changed");
}

/* The L7R certificate: the key must match it; ca and crl are optional. */
int
admin_config_ssl(struct db *db, const char *key_pem, const char *cert_pem,
    const char *ca_pem, const char *crl_pem, char *err)
{
	struct config_ssl s = { key_pem, cert_pem, ca_pem, crl_pem };
	char why[256];

	if (tls_key_matches_cert(key_pem, cert_pem, why, sizeof(why)) == -1) {
		str_copy(err, why, ADMIN_ERRSZ);
		return -1;
	}
	if (strlen(cert_pem) > 32768 || (ca_pem && strlen(ca_pem) > 32768) ||
	    (crl_pem && strlen(crl_pem) > 32768)) {
		str_copy(err, "a PEM file is larger than 32768 bytes",
		    ADMIN_ERRSZ);
		return -1;
	}
	if (db_tx(db, tx_config_ssl, &s) == -1)
		return db_fail(db, err, "cannot store the certificate");
	return 0;
}

/* The stored certificate (key and cert both, or -1); ca may be NULL.
 * The caller frees the three. */
int
admin_ssl_load(struct db *db, char **key, char **cert, char **ca)
{
	struct pg_result *res;
	const char *k;
	int i;

	*key = *cert = *ca = NULL;
	res = db_query(db, "SELECT key, value FROM ssl_configs", 0);
	for (i = 0; res != NULL && i < db_ntuples(res); i++) {
		k = db_val(res, i, 0);
		if (strcmp(k, "l7r.ssl.key") == 0)
			*key = xstrdup(db_val(res, i, 1));
		else if (strcmp(k, "l7r.ssl.cert") == 0)
			*cert = xstrdup(db_val(res, i, 1));
		else if (strcmp(k, "l7r.ssl.ca") == 0)
			*ca = xstrdup(db_val(res, i, 1));
	}
	db_clear(res);
	if (*key != NULL && *cert != NULL)
		return 0;
	free(*key);
	free(*cert);
	free(*ca);
	*key = *cert = *ca = NULL;
	return -1;
}

/* ---- nodes ---- */

struct host_add {
	const char	*name;
	const char	*address;
	long long	 id;
	char		*err;
};

static int
tx_host_add(struct db *db, void *arg)
{
	struct host_add *h = arg;
	struct pg_result *res;
	char id[24];

	res = db_query(db, "SELECT name FROM hosts WHERE lower(name) = "
	    "lower($1) OR address = $2", 2, h->name, h->address);
	if (res == NULL)
		return -1;
	if (db_ntuples(res) > 0) {
		if (str_eq_nocase(db_val(res, 0, 0), h->name))
			str_fmt(h->err, ADMIN_ERRSZ, "a host named '%s' already "
			    "exists%s", db_val(res, 0, 0), strcmp(db_val(res, 0,
			    0), h->name) ? " (node names ignore case)" :
			    "");
		else
			str_fmt(h->err, ADMIN_ERRSZ, "address %s is already used "
			    "by host '%s'", h->address, db_val(res, 0, 0));
		db_clear(res);
		return 1;
	}
	db_clear(res);
	res = db_query(db, "INSERT INTO hosts (name, address, frontend, "
	    "backend) VALUES ($1, $2, true, true) RETURNING id", 2, h->name,
	    h->address);
	if (res == NULL)
		return -1;
	h->id = db_int(res, 0, 0);
	db_clear(res);
	db_fmt_int(id, h->id);
	if (db_exec(db, "INSERT INTO host_runtimes (host_id, state, blocked) "
	    "VALUES ($1, 'stopped', false)", 1, id) == -1 ||
	    db_exec(db, "INSERT INTO host_counters (host_id) VALUES ($1)", 1,
	    id) == -1)
		return -1;
	return 0;
}

/*
 * Run fn in a transaction where fn may also fail for a reason of its own:
 * fn returns 1 after writing err, and the transaction is rolled back.
 */
int
admin_tx(struct db *db, int (*fn)(struct db *, void *), void *arg,
    char *err, const char *what)
{
	int rc;

	err[0] = '\0';
	if ((rc = db_tx(db, fn, arg)) == 0)
		return 0;
	if (rc == 1)
		return -1;	/* refused: fn said why in err */
	if (strcmp(db->sqlstate, UNIQUE_VIOLATION) == 0)
		str_fmt(err, ADMIN_ERRSZ, "%s: a name is already taken (%s)",
		    what, db_error(db));
	else
		db_fail(db, err, what);
	return -1;
}

int
admin_host_add(struct db *db, const char *name, const char *address,
    long long *id, char *err)
{
	struct host_add h = { name, address, 0, err };

	if (valid_name(NAME_OBJECT, "host name", name, err, ADMIN_ERRSZ) == -1)
		return -1;
	if (!valid_ip(address)) {
		str_fmt(err, ADMIN_ERRSZ, "'%s' is not an IP address",
		    str_clip(address));
		return -1;
	}
	if (admin_tx(db, tx_host_add, &h, err, "cannot add the host") == -1)
		return -1;
	*id = h.id;
	return 0;
}

struct id_list {
	const long long	*ids;
	int		 n;
	struct buf	 param;
	long long	 count;
	char		*err;
	int		 on;
};

/* Run tx over the ids in one transaction: how many rows it did, or -1. */
static long long
on_ids(struct db *db, const long long *ids, int n, int on, char *err,
    int (*tx)(struct db *, void *), const char *what)
{
	struct id_list l = { ids, n, { NULL, 0, 0, 0 }, 0, err, on };
	int rc;

	admin_ids_param(ids, n, &l.param);
	rc = admin_tx(db, tx, &l, err, what);
	buf_free(&l.param);
	return rc == -1 ? -1 : l.count;
}

static int
tx_host_del(struct db *db, void *arg)
{
	struct id_list *l = arg;
	struct pg_result *res;
	char names[256];

	res = db_query(db, "SELECT h.name FROM hosts h JOIN host_runtimes r ON "
	    "r.host_id = h.id WHERE h.id = ANY($1::int[]) AND (r.state IN "
	    "('starting', 'running', 'stopping') OR EXISTS (SELECT 1 FROM "
	    "vm_runtimes v WHERE v.host_id = h.id OR v.l7r_host_id = h.id)) "
	    "ORDER BY h.id", 1, buf_str(&l->param));
	if (res == NULL)
		return -1;
	if (db_ntuples(res) > 0) {
		list_names(res, 0, names, sizeof(names));
		str_fmt(l->err, ADMIN_ERRSZ, "cannot delete %s: still running "
		    "or holding VMs or sessions; stop them first", names);
		db_clear(res);
		return 1;
	}
	db_clear(res);
	l->count = db_exec_count(db, "DELETE FROM hosts WHERE id = ANY($1::int[])",
	    1, buf_str(&l->param));
	return l->count < 0 ? -1 : 0;
}

long long
admin_host_del(struct db *db, const long long *ids, int n, char *err)
{
	return on_ids(db, ids, n, 0, err, tx_host_del, "cannot delete hosts");
}

static int
tx_host_block(struct db *db, void *arg)
{
	struct id_list *l = arg;
	char ch[64];
	int i;

	l->count = db_exec_count(db, "UPDATE host_runtimes SET blocked = $2 "
	    "WHERE host_id = ANY($1::int[])", 2, buf_str(&l->param),
	    l->on ? "true" : "false");
	if (l->count < 0)
		return -1;
	for (i = 0; i < l->n; i++) {
		str_fmt(ch, sizeof(ch), "qvd_cmd_for_host%lld", l->ids[i]);
		if (db_notify(db, ch) == -1)
			return -1;
	}
	return 0;
}

long long
admin_host_block(struct db *db, const long long *ids, int n, int on,
    char *err)
{
	return on_ids(db, ids, n, on, err, tx_host_block, "cannot block hosts");
}

/* The same in the shape qa_mass() and the WAT's actions take. */
long long
admin_host_block_on(struct db *db, const long long *ids, int n, char *err)
{
	return admin_host_block(db, ids, n, 1, err);
}

long long
admin_host_block_off(struct db *db, const long long *ids, int n, char *err)
{
	return admin_host_block(db, ids, n, 0, err);
}

/* ---- OS flavours ---- */

struct osf_add {
	const char	*name;
	long long	 memory;
	int		 overlay;
	long long	 storage;	/* MB, -1 for none */
	long long	 id;
	char		*err;
};

static int
tx_osf_add(struct db *db, void *arg)
{
	struct osf_add *o = arg;
	struct pg_result *res;
	char mem[24], st[24];

	res = db_query(db, "SELECT name FROM osfs WHERE lower(name) = "
	    "lower($1)", 1, o->name);
	if (res == NULL)
		return -1;
	if (db_ntuples(res) > 0) {
		str_fmt(o->err, ADMIN_ERRSZ, "an OSF named '%s' already exists%s",
		    db_val(res, 0, 0), strcmp(db_val(res, 0, 0), o->name) ?
		    " (OSF names ignore case)" : "");
		db_clear(res);
		return 1;
	}
	db_clear(res);
	res = db_query(db, "INSERT INTO osfs (name, memory, use_overlay, "
	    "user_storage_size) VALUES ($1, $2, $3, $4) RETURNING id", 4,
	    o->name, db_fmt_int(mem, o->memory), o->overlay ? "t" : "f",
	    o->storage > 0 ? db_fmt_int(st, o->storage) : NULL);
	if (res == NULL)
		return -1;
	o->id = db_int(res, 0, 0);
	db_clear(res);
	return 0;
}

int
admin_osf_add(struct db *db, const char *name, long long memory,
    int use_overlay, long long storage_mb, long long *id, char *err)
{
	struct osf_add o = { name, memory, use_overlay, storage_mb, 0, err };

	if (valid_name(NAME_OBJECT, "OSF name", name, err, ADMIN_ERRSZ) == -1)
		return -1;
	if (memory < 1 || memory > 1048576) {
		str_fmt(err, ADMIN_ERRSZ, "memory %lld MB is out of range "
		    "(1 to 1048576)", memory);
		return -1;
	}
	if (storage_mb > 2147483647) {
		str_copy(err, "user_storage_size is too large", ADMIN_ERRSZ);
		return -1;
	}
	if (admin_tx(db, tx_osf_add, &o, err, "cannot add the OSF") == -1)
		return -1;
	*id = o.id;
	return 0;
}

static int
tx_osf_del(struct db *db, void *arg)
{
	struct id_list *l = arg;
	struct pg_result *res;
	char names[256];

	res = db_query(db, "SELECT o.name, (SELECT count(*) FROM vms v WHERE "
	    "v.osf_id = o.id), (SELECT count(*) FROM dis d WHERE d.osf_id = "
	    "o.id) FROM osfs o WHERE o.id = ANY($1::int[]) AND (EXISTS "
	    "(SELECT 1 FROM vms v WHERE v.osf_id = o.id) OR EXISTS (SELECT 1 "
	    "FROM dis d WHERE d.osf_id = o.id)) ORDER BY o.id", 1,
	    buf_str(&l->param));
	if (res == NULL)
		return -1;
	if (db_ntuples(res) > 0) {
		list_names(res, 0, names, sizeof(names));
		str_fmt(l->err, ADMIN_ERRSZ, "cannot delete OSF %s: %s still "
		    "use it; delete those first", names, db_int(res, 0, 1) ?
		    "virtual machines" : "disk images");
		db_clear(res);
		return 1;
	}
	db_clear(res);
	l->count = db_exec_count(db, "DELETE FROM osfs WHERE id = "
	    "ANY($1::int[])", 1, buf_str(&l->param));
	return l->count < 0 ? -1 : 0;
}

long long
admin_osf_del(struct db *db, const long long *ids, int n, char *err)
{
	return on_ids(db, ids, n, 0, err, tx_osf_del, "cannot delete OSFs");
}

/* ---- users ---- */

/* Trimmed, and lower-cased unless logins are case-sensitive. */
void
admin_normalize_login(const char *in, char *out, size_t outsz)
{
	char *t, *copy = xstrdup(in);

	t = str_trim(copy);
	if (!conf_bool("model.user.login.case-sensitive"))
		str_lower(t);
	str_copy(out, t, outsz);
	free(copy);
}

static int
valid_login(const char *login, char *err)
{
	/* the rule leaves out ':', where HTTP Basic authentication splits */
	return valid_name(NAME_LOGIN, "login", login, err, ADMIN_ERRSZ);
}

struct user_add {
	const char	*login;
	const char	*hash;
	long long	 id;
	char		*err;
};

static int
tx_user_add(struct db *db, void *arg)
{
	struct user_add *u = arg;
	struct pg_result *res;

	res = db_query(db, "SELECT 1 FROM users WHERE login = $1", 1, u->login);
	if (res == NULL)
		return -1;
	if (db_ntuples(res) > 0) {
		db_clear(res);
		str_fmt(u->err, ADMIN_ERRSZ, "a user with login '%s' already "
		    "exists", u->login);
		return 1;
	}
	db_clear(res);
	res = db_query(db, "INSERT INTO users (login, password) VALUES ($1, $2) "
	    "RETURNING id", 2, u->login, u->hash);
	if (res == NULL)
		return -1;
	u->id = db_int(res, 0, 0);
	db_clear(res);
	return 0;
}

int
admin_user_add(struct db *db, const char *login_in, const char *password,
    long long *id, char *err)
{
	char login[128], hash[PASS_HASH_MAX];
	struct user_add u = { login, hash, 0, err };
	int rc;

	admin_normalize_login(login_in, login, sizeof(login));
	if (valid_login(login, err) == -1)
		return -1;
	if (hash_new_password("the password", password, hash, err) == -1)
		return -1;
	rc = admin_tx(db, tx_user_add, &u, err, "cannot add the user");
	wipe(hash, sizeof(hash));
	if (rc == 0)
		*id = u.id;
	return rc;
}

static int
tx_user_del(struct db *db, void *arg)
{
	struct id_list *l = arg;
	struct pg_result *res;
	char names[256];

	res = db_query(db, "SELECT u.login, v.name FROM users u JOIN vms v ON "
	    "v.user_id = u.id WHERE u.id = ANY($1::int[]) ORDER BY u.id, v.id",
	    1, buf_str(&l->param));
	if (res == NULL)
		return -1;
	if (db_ntuples(res) > 0) {
		list_names(res, 1, names, sizeof(names));
		str_fmt(l->err, ADMIN_ERRSZ, "cannot delete user '%s': it still "
		    "has virtual machines (%s); delete them first",
		    db_val(res, 0, 0), names);
		db_clear(res);
		return 1;
	}
	db_clear(res);
	if (db_exec(db, "UPDATE vm_runtimes SET real_user_id = NULL WHERE "
	    "real_user_id = ANY($1::int[])", 1, buf_str(&l->param)) == -1)
		return -1;
	l->count = db_exec_count(db, "DELETE FROM users WHERE id = "
	    "ANY($1::int[])", 1, buf_str(&l->param));
	return l->count < 0 ? -1 : 0;
}

long long
admin_user_del(struct db *db, const long long *ids, int n, char *err)
{
	return on_ids(db, ids, n, 0, err, tx_user_del, "cannot delete users");
}

int
admin_user_passwd(struct db *db, const char *login_in, const char *password,
    char *err)
{
	char login[128], hash[PASS_HASH_MAX];
	long long n;

	admin_normalize_login(login_in, login, sizeof(login));
	if (hash_new_password("the password", password, hash, err) == -1)
		return -1;
	n = db_exec_count(db, "UPDATE users SET password = $2 WHERE login = $1",
	    2, login, hash);
	wipe(hash, sizeof(hash));
	if (n < 0)
		return db_fail(db, err, "cannot change the password");
	if (n == 0) {
		str_fmt(err, ADMIN_ERRSZ, "no user with login '%s'",
		    str_clip(login));
		return -1;
	}
	return 0;
}

/* ---- properties ---- */

struct prop_op {
	const struct qvd_object *o;
	struct buf	 param;
	const char	*key;
	const char	*value;
	const char *const *keys;
	int		 nkeys;
	long long	 count;
};

static int
tx_prop_set(struct db *db, void *arg)
{
	struct prop_op *p = arg;
	char *sql;

	sql = xasprintf("INSERT INTO %s (%s, key, value) SELECT id, $2, $3 "
	    "FROM unnest($1::int[]) AS id ON CONFLICT (%s, key) DO UPDATE "
	    "SET value = EXCLUDED.value", p->o->prop_table, p->o->prop_fk,
	    p->o->prop_fk);
	p->count = db_exec_count(db, sql, 3, buf_str(&p->param), p->key,
	    p->value);
	free(sql);
	return p->count < 0 ? -1 : 0;
}

/* Set key=value on every object of ids; the number of objects. */
long long
admin_prop_set(struct db *db, const struct qvd_object *o,
    const long long *ids, int n, const char *key, const char *value,
    char *err)
{
	struct prop_op p;
	int rc;

	memset(&p, 0, sizeof(p));
	if (admin_valid_name("property key", key, 1024, err) == -1)
		return -1;
	if (strlen(value) > 32768) {
		str_copy(err, "property value longer than 32768 characters",
		    ADMIN_ERRSZ);
		return -1;
	}
	p.o = o;
	p.key = key;
	p.value = value;
	admin_ids_param(ids, n, &p.param);
	rc = admin_tx(db, tx_prop_set, &p, err, "cannot set the property");
	buf_free(&p.param);
	return rc == -1 ? -1 : p.count;
}

static int
tx_prop_del(struct db *db, void *arg)
{
	struct prop_op *p = arg;
	char *sql;
	long long n;
	int i;

	p->count = 0;
	if (p->keys == NULL) {
		sql = xasprintf("DELETE FROM %s WHERE %s = ANY($1::int[])",
		    p->o->prop_table, p->o->prop_fk);
		p->count = db_exec_count(db, sql, 1, buf_str(&p->param));
		free(sql);
		return p->count < 0 ? -1 : 0;
	}
	sql = xasprintf("DELETE FROM %s WHERE %s = ANY($1::int[]) AND "
	    "key = $2", p->o->prop_table, p->o->prop_fk);
	for (i = 0; i < p->nkeys; i++) {
		if ((n = db_exec_count(db, sql, 2, buf_str(&p->param),
		    p->keys[i])) < 0) {
			free(sql);
			return -1;
		}
		p->count += n;
	}
	free(sql);
	return 0;
}

/* Delete properties (all of them when keys is NULL); the count. */
long long
admin_prop_del(struct db *db, const struct qvd_object *o,
    const long long *ids, int n, const char *const *keys, int nkeys,
    char *err)
{
	struct prop_op p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.o = o;
	p.keys = keys;
	p.nkeys = nkeys;
	admin_ids_param(ids, n, &p.param);
	rc = admin_tx(db, tx_prop_del, &p, err, "cannot delete properties");
	buf_free(&p.param);
	return rc == -1 ? -1 : p.count;
}
