/* SPDX-License-Identifier: GPL-3.0-or-later */
/* filter.c -- the administrable objects and "-f key=value" as SQL. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"

/*
 * SQL is assembled only from the constant fragments in these tables;
 * every value the administrator types becomes a $n parameter.
 */

static const struct filter_key host_keys[] = {
	{ "id", "h.id", COL_INT, FK_COL },
	{ "name", "h.name", COL_TEXT, FK_COL },
	{ "address", "h.address", COL_TEXT, FK_COL },
	{ "state", "r.state", COL_TEXT, FK_COL },
	{ "blocked", "r.blocked", COL_BOOL, FK_COL },
	{ "frontend", "h.frontend", COL_BOOL, FK_COL },
	{ "backend", "h.backend", COL_BOOL, FK_COL },
	{ "property", NULL, COL_TEXT, FK_PROP },
	{ NULL, NULL, 0, 0 }
};

static const struct filter_key osf_keys[] = {
	{ "id", "o.id", COL_INT, FK_COL },
	{ "osf_id", "o.id", COL_INT, FK_COL },
	{ "name", "o.name", COL_TEXT, FK_COL },
	{ "memory", "o.memory", COL_INT, FK_COL },
	{ "use_overlay", "o.use_overlay", COL_BOOL, FK_COL },
	{ "user_storage_size", "o.user_storage_size", COL_INT, FK_COL },
	{ "property", NULL, COL_TEXT, FK_PROP },
	{ NULL, NULL, 0, 0 }
};

static const struct filter_key di_keys[] = {
	{ "id", "d.id", COL_INT, FK_COL },
	{ "di_id", "d.id", COL_INT, FK_COL },
	{ "osf", "o.name", COL_TEXT, FK_COL },
	{ "osf_id", "d.osf_id", COL_INT, FK_COL },
	{ "version", "d.version", COL_TEXT, FK_COL },
	{ "path", "d.path", COL_TEXT, FK_COL },
	{ "tag", "d.id", COL_TEXT, FK_TAG },
	{ "property", NULL, COL_TEXT, FK_PROP },
	{ NULL, NULL, 0, 0 }
};

static const struct filter_key user_keys[] = {
	{ "id", "u.id", COL_INT, FK_COL },
	{ "user_id", "u.id", COL_INT, FK_COL },
	{ "login", "u.login", COL_TEXT, FK_COL },
	{ "name", "u.login", COL_TEXT, FK_COL },
	{ "property", NULL, COL_TEXT, FK_PROP },
	{ NULL, NULL, 0, 0 }
};

static const struct filter_key vm_keys[] = {
	{ "id", "v.id", COL_INT, FK_COL },
	{ "vm_id", "v.id", COL_INT, FK_COL },
	{ "name", "v.name", COL_TEXT, FK_COL },
	{ "user", "u.login", COL_TEXT, FK_COL },
	{ "user_id", "v.user_id", COL_INT, FK_COL },
	{ "osf", "o.name", COL_TEXT, FK_COL },
	{ "osf_id", "v.osf_id", COL_INT, FK_COL },
	{ "host", "h.name", COL_TEXT, FK_COL },
	{ "host_id", "r.host_id", COL_INT, FK_COL },
	{ "state", "r.vm_state", COL_TEXT, FK_COL },
	{ "vm_state", "r.vm_state", COL_TEXT, FK_COL },
	{ "user_state", "r.user_state", COL_TEXT, FK_COL },
	{ "ip", "v.ip", COL_TEXT, FK_COL },
	{ "di_tag", "v.di_tag", COL_TEXT, FK_COL },
	{ "blocked", "r.blocked", COL_BOOL, FK_COL },
	{ "vm_pid", "r.vm_pid", COL_INT, FK_COL },
	{ "storage", "v.storage", COL_TEXT, FK_COL },
	{ "property", NULL, COL_TEXT, FK_PROP },
	{ NULL, NULL, 0, 0 }
};

const struct qvd_object qvd_objects[] = {
	{ "host", "host", "hosts", "h.id", "h.name",
	    "hosts h JOIN host_runtimes r ON r.host_id = h.id",
	    "host_properties", "host_id", host_keys },
	{ "osf", "OSF", "OSFs", "o.id", "o.name", "osfs o",
	    "osf_properties", "osf_id", osf_keys },
	{ "di", "DI", "DIs", "d.id", "d.path",
	    "dis d JOIN osfs o ON o.id = d.osf_id",
	    "di_properties", "di_id", di_keys },
	{ "user", "user", "users", "u.id", "u.login", "users u",
	    "user_properties", "user_id", user_keys },
	{ "vm", "VM", "VMs", "v.id", "v.name",
	    "vms v JOIN vm_runtimes r ON r.vm_id = v.id "
	    "JOIN users u ON u.id = v.user_id JOIN osfs o ON o.id = v.osf_id "
	    "LEFT JOIN hosts h ON h.id = r.host_id",
	    "vm_properties", "vm_id", vm_keys },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }
};

const struct qvd_object *
object_find(const char *name)
{
	const struct qvd_object *o;

	for (o = qvd_objects; o->name != NULL; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

void
filter_init(struct filter *f)
{
	memset(f, 0, sizeof(*f));
	f->where.max = 64 * 1024;
	buf_adds(&f->where, "TRUE");
}

void
filter_free(struct filter *f)
{
	int i;

	for (i = 0; i < f->nvalues; i++)
		free(f->values[i]);
	buf_free(&f->where);
	memset(f, 0, sizeof(*f));
}

static int
add_value(struct filter *f, char *v, char *err, size_t errsz)
{
	if (f->nvalues >= DB_MAX_PARAMS - 4) {
		free(v);
		str_copy(err, "too many filter conditions", errsz);
		return -1;
	}
	f->values[f->nvalues++] = v;
	return f->nvalues;
}

/* '*' and '?' become LIKE's '%' and '_'; literal % _ \ are escaped. */
static char *
like_pattern(const char *v)
{
	char *out = xmalloc(strlen(v) * 2 + 1), *o = out;

	for (; *v; v++) {
		if (*v == '%' || *v == '_' || *v == '\\')
			*o++ = '\\';
		*o++ = *v == '*' ? '%' : *v == '?' ? '_' : *v;
	}
	*o = '\0';
	return out;
}

static int
has_wildcard(const char *v)
{
	return strpbrk(v, "*?") != NULL;
}

/* One condition on a plain column. */
static int
add_column(struct filter *f, const struct filter_key *k, const char *v,
    char *err, size_t errsz)
{
	long long n;
	const char *why;
	int b, i;

	if (has_wildcard(v)) {
		if ((i = add_value(f, like_pattern(v), err, errsz)) < 0)
			return -1;
		return buf_printf(&f->where, " AND %s%s LIKE $%d ESCAPE '\\'",
		    k->sql, k->type == COL_TEXT ? "" : "::text", i);
	}
	switch (k->type) {
	case COL_INT:
		if (num_parse(v, -(1LL << 53), 1LL << 53, &n, &why) == -1) {
			str_fmt(err, errsz, "filter %s: '%s' is not a number",
			    k->key, str_clip(v));
			return -1;
		}
		if ((i = add_value(f, xstrdup(v), err, errsz)) < 0)
			return -1;
		return buf_printf(&f->where, " AND %s = $%d::bigint", k->sql, i);
	case COL_BOOL:
		if (bool_parse(v, &b) == -1 || *v == '\0') {
			str_fmt(err, errsz, "filter %s: '%s' is not a boolean",
			    k->key, str_clip(v));
			return -1;
		}
		return buf_printf(&f->where, " AND %s%s", b ? "" : "NOT ",
		    k->sql);
	default:
		if ((i = add_value(f, xstrdup(v), err, errsz)) < 0)
			return -1;
		return buf_printf(&f->where, " AND %s = $%d", k->sql, i);
	}
}

static int
add_exists(struct filter *f, const struct qvd_object *o,
    const struct filter_key *k, const char *prop, const char *v, char *err,
    size_t errsz)
{
	const char *op = has_wildcard(v) ? "LIKE" : "=";
	const char *esc = has_wildcard(v) ? " ESCAPE '\\'" : "";
	int ik = 0, iv;

	if (k->kind == FK_PROP &&
	    (ik = add_value(f, xstrdup(prop), err, errsz)) < 0)
		return -1;
	if ((iv = add_value(f, has_wildcard(v) ? like_pattern(v) : xstrdup(v),
	    err, errsz)) < 0)
		return -1;
	if (k->kind == FK_TAG)
		return buf_printf(&f->where, " AND EXISTS (SELECT 1 FROM "
		    "di_tags t WHERE t.di_id = %s AND t.tag %s $%d%s)", k->sql,
		    op, iv, esc);
	return buf_printf(&f->where, " AND EXISTS (SELECT 1 FROM %s p "
	    "WHERE p.%s = %s AND p.key = $%d AND p.value %s $%d%s)",
	    o->prop_table, o->prop_fk, o->id_sql, ik, op, iv, esc);
}

static int
add_one(struct filter *f, const struct qvd_object *o, const char *key,
    const char *v, char *err, size_t errsz)
{
	const struct filter_key *k;
	const char *prop = NULL;

	if (str_has_prefix(key, "property.") && key[9] != '\0') {
		prop = key + 9;
		key = "property";
	}
	for (k = o->keys; k->key != NULL; k++)
		if (strcmp(k->key, key) == 0)
			break;
	if (k->key == NULL || (k->kind == FK_PROP && prop == NULL)) {
		struct buf names = { NULL, 0, 0, 1024 };

		for (k = o->keys; k->key != NULL; k++)
			buf_printf(&names, "%s%s", names.len ? ", " : "",
			    k->kind == FK_PROP ? "property.KEY" : k->key);
		str_fmt(err, errsz, "unknown filter key '%s' (valid: %s)",
		    str_clip(key), buf_str(&names));
		buf_free(&names);
		return -1;
	}
	f->given = 1;
	if (k->kind == FK_COL)
		return add_column(f, k, v, err, errsz);
	return add_exists(f, o, k, prop, v, err, errsz);
}

/* "k1=v1,k2=v2": every condition must hold. */
int
filter_add(struct filter *f, const struct qvd_object *o, const char *spec,
    char *err, size_t errsz)
{
	char *copy = xstrdup(spec), *p = copy, *comma, *eq;
	int rc = 0;

	for (;;) {
		comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		p = str_trim(p);
		if ((eq = strchr(p, '=')) == NULL || eq == p) {
			str_fmt(err, errsz, "bad filter '%s' (want key=value)",
			    str_clip(p));
			rc = -1;
			break;
		}
		*eq = '\0';
		if (add_one(f, o, str_trim(p), str_trim(eq + 1), err, errsz)
		    < 0) {
			rc = -1;
			break;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	free(copy);
	return rc;
}
