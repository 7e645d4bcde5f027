/* SPDX-License-Identifier: GPL-3.0-or-later */
/* auth.c -- the L7R's authentication plugins (l7r.auth.plugins). */

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

static const struct {
	const char *name;
	int (*fn)(struct db *, const char *, const char *,
	    struct auth_result *, char *, size_t);
} plugins[] = {
	{ "default", plugin_default },
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
	int rc, any = 0;

	memset(r, 0, sizeof(*r));
	admin_normalize_login(login_in, r->login, sizeof(r->login));
	if (*r->login == '\0' || password == NULL || *password == '\0' ||
	    strlen(password) > PASS_MAX)
		return 0;
	str_copy(list, conf_get("l7r.auth.plugins"), sizeof(list));
	for (name = strtok_r(list, ", ", &save); name != NULL;
	    name = strtok_r(NULL, ", ", &save)) {
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
		    errsz)) != 0)
			return rc;
	}
	if (!any)
		str_copy(err, "no usable authentication plugin", errsz);
	return 0;
}
