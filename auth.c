/* SPDX-License-Identifier: GPL-3.0-or-later */
/* auth.c -- the L7R's authentication plugins (l7r.auth.plugins): default
 * (the users table), ldap (manual 10.1: the directory decides, the users
 * table names the QVD user) and auto (manual 10.2: a user the directory
 * knows and QVD does not is made, with a VM). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"

/* The local users table: our hashes and upstream's legacy ones. */
static int
plugin_default(struct db *db, const char *login, const char *password,
    struct auth_result *r, char *err, size_t errsz)
{
	struct pg_result *res;
	int ok;

	res = db_query(db, "SELECT id, password FROM users WHERE login = $1", 1,
	    login);
	if (res == NULL) {
		str_fmt(err, errsz, "%s", db_error(db));
		return -1;
	}
	ok = db_ntuples(res) == 1 && !db_isnull(res, 0, 1) &&
	    pass_verify(password, db_val(res, 0, 1),
	    conf_get("l7r.auth.plugin.default.salt"));
	if (ok)
		r->user_id = db_int(res, 0, 0);
	db_clear(res);
	return ok;
}

/* ---- ldap ---- */

static const char *const scopes[] = { "base", "one", "sub", NULL };
static const char *const derefs[] = { "never", "search", "find", "always",
	NULL };

static int
index_of(const char *const *list, const char *v)
{
	int i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], v) == 0)
			return i;
	return 0;
}

/* A login as an attribute value of a DN (RFC 4514 escapes). */
static void
dn_escape(const char *in, char *out, size_t outsz)
{
	size_t o = 0;

	for (; *in && o + 4 < outsz; in++) {
		if (strchr(",+\"\\<>;=#", *in) != NULL || (o == 0 &&
		    *in == ' '))
			out[o++] = '\\';
		out[o++] = *in;
	}
	out[o] = '\0';
}

/* pattern with every %u replaced by value */
static void
expand_u(const char *pattern, const char *value, char *out, size_t outsz)
{
	struct buf b = { NULL, 0, 0, 4096 };
	const char *p;

	for (p = pattern; *p; p++)
		if (p[0] == '%' && p[1] == 'u') {
			buf_adds(&b, value);
			p++;
		} else
			buf_add(&b, p, 1);
	str_copy(out, buf_str(&b), outsz);
	buf_free(&b);
}

/* The directory's word: 1 the password is right, 0 it is not (or no such
 * entry), -1 it cannot tell (err says why). */
static int
directory_says(struct ldap *l, const char *login, const char *password)
{
	char dn[1024], esc[512], filter[1024];
	const char *pattern = conf_get("auth.ldap.userbindpattern");
	int rc;

	if (*pattern != '\0') {	/* tried first: no search needed */
		dn_escape(login, esc, sizeof(esc));
		expand_u(pattern, esc, dn, sizeof(dn));
		if ((rc = ldap_bind(l, dn, password)) != 1)
			return rc == 0 ? 1 : -1;
	}
	if ((rc = ldap_bind(l, conf_get("auth.ldap.binddn"),
	    conf_get("auth.ldap.bindpass"))) != 0) {
		if (rc == 1)
			str_copy(l->err, "auth.ldap.binddn/bindpass were refused",
			    sizeof(l->err));
		return -1;
	}
	ldap_escape_value(login, esc, sizeof(esc));
	expand_u(conf_get("auth.ldap.filter"), esc, filter, sizeof(filter));
	rc = ldap_search_dn(l, conf_get("auth.ldap.base"), index_of(scopes,
	    conf_get("auth.ldap.scope")), index_of(derefs,
	    conf_get("auth.ldap.deref")), filter, dn, sizeof(dn));
	if (rc <= 0)
		return rc;
	rc = ldap_bind(l, dn, password);
	return rc == 0 ? 1 : rc == 1 ? 0 : -1;
}

/* LDAP says yes, and the users table has the login (manual 10.1). */
static int
plugin_ldap(struct db *db, const char *login, const char *password,
    struct auth_result *r, char *err, size_t errsz)
{
	struct pg_result *res;
	struct ldap l;
	int rc;

	if (ldap_open(&l, conf_get("auth.ldap.host"),
	    conf_bool("auth.ldap.starttls"), conf_get("auth.ldap.cacert"),
	    (int)conf_int("auth.ldap.timeout", 10) * 1000) == -1) {
		str_fmt(err, errsz, "LDAP: %s", l.err);
		return -1;
	}
	rc = directory_says(&l, login, password);
	if (rc == -1)
		str_fmt(err, errsz, "LDAP %s: %s", l.host, l.err);
	ldap_close(&l);
	if (rc != 1)
		return rc;
	res = db_query(db, "SELECT id FROM users WHERE login = $1", 1, login);
	if (res == NULL) {
		str_fmt(err, errsz, "%s", db_error(db));
		return -1;
	}
	if (db_ntuples(res) == 1)
		r->user_id = db_int(res, 0, 0);	/* else 0: the auto plugin's */
	db_clear(res);
	return 1;
}

/* ---- auto: the user and a VM, made on their first login ---- */

/* A VM for the user: named LOGIN, or LOGIN-2 ... LOGIN-max_vms if taken. */
static int
auto_vm(struct db *db, long long user_id, const char *login, char *err)
{
	struct vm_add_req a;
	char name[160];
	long long first, osf;
	int i, count, max = (int)conf_int("auth.auto.max_vms", 5);

	if (conf_get_int("auth.auto.osf_id", 1, 2147483647, &osf) == -1) {
		str_copy(err, "auth.auto.osf_id is not set", ADMIN_ERRSZ);
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.name = name;
	a.user_id = user_id;
	a.osf_id = osf;
	a.di_tag = conf_get("auth.auto.di_tag");
	a.bulk = 1;
	for (i = 1; i <= max; i++) {
		if (i == 1)
			str_copy(name, login, sizeof(name));
		else
			str_fmt(name, sizeof(name), "%s-%d", login, i);
		if (admin_vm_add(db, &a, &first, &count, err) == 0)
			return 0;
	}
	return -1;
}

/* After a plugin accepted someone QVD lacks: the user, and a VM. */
static int
auto_provision(struct db *db, struct auth_result *r, char *err,
    size_t errsz)
{
	char why[ADMIN_ERRSZ], undo[ADMIN_ERRSZ], pw[65];
	long long id;

	if (r->user_id != 0)
		return 1;
	if (pass_random(pw, 64, "0123456789abcdef") == -1)	/* nobody's */
		return str_copy(err, "auto: no randomness", errsz), -1;
	if (admin_user_add(db, r->login, pw, &id, why) == -1) {
		if (admin_lookup(db, "user", r->login, &id, why) == -1) {
			str_fmt(err, errsz, "auto: %s", why);
			return -1;
		}
		r->user_id = id;	/* made meanwhile by another login */
		return 1;
	}
	if (auto_vm(db, id, r->login, why) == -1) {
		admin_user_del(db, &id, 1, undo);	/* none or both */
		str_fmt(err, errsz, "auto: no VM for '%s': %s", r->login, why);
		return -1;
	}
	log_info("auto: made user '%s' (id %lld) and a VM", r->login, id);
	r->user_id = id;
	return 1;
}

static const struct {
	const char *name;
	int (*fn)(struct db *, const char *, const char *,
	    struct auth_result *, char *, size_t);
} plugins[] = {
	{ "default", plugin_default },
	{ "ldap", plugin_ldap },
};

/*
 * Try the plugins of l7r.auth.plugins in order; the first that accepts
 * wins.  1 accepted (r filled), 0 refused, -1 could not tell (err).
 * A plugin this build does not have refuses, and says so in the log.
 */
int
auth_check(struct db *db, const char *login_in, const char *password,
    struct auth_result *r, char *err, size_t errsz)
{
	char list[256], *name, *save = NULL;
	size_t i;
	int rc, any = 0, provision = 0;

	memset(r, 0, sizeof(*r));
	admin_normalize_login(login_in, r->login, sizeof(r->login));
	if (*r->login == '\0' || password == NULL || *password == '\0' ||
	    strlen(password) > PASS_MAX)
		return 0;
	/* the manual's 10.1 example sets the obsolete l7r.auth.mode */
	str_copy(list, *conf_get("l7r.auth.mode") ? conf_get("l7r.auth.mode") :
	    conf_get("l7r.auth.plugins"), sizeof(list));
	for (name = strtok_r(list, ", ", &save); name != NULL;
	    name = strtok_r(NULL, ", ", &save)) {
		if (strcmp(name, "auto") == 0) {	/* not an authenticator */
			provision = 1;
			continue;
		}
		for (i = 0; i < ARRAY_LEN(plugins); i++)
			if (strcmp(plugins[i].name, name) == 0)
				break;
		if (i == ARRAY_LEN(plugins)) {
			log_error("authentication plugin '%s' is not available "
			    "in this build; it refuses every login", name);
			continue;
		}
		any = 1;
		if ((rc = plugins[i].fn(db, r->login, password, r, err,
		    errsz)) == 0)
			continue;
		if (rc == 1 && (provision || r->user_id == 0) &&
		    strcmp(name, "default") != 0) {
			if (provision)
				return auto_provision(db, r, err, errsz);
			log_info("%s accepted '%s', but QVD has no such user "
			    "(qa user add, or the auto plugin)", name, r->login);
			return 0;
		}
		return rc;
	}
	if (!any)
		str_copy(err, "no usable authentication plugin", errsz);
	return 0;
}
