/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lists.c -- the object lists that qa prints and the WAT shows: one
 * SELECT and one column table per object, so both always agree. */

#include <string.h>

#include "qvd.h"

static const struct out_col host_cols[] = {
	{ "Id", "id", COL_INT }, { "Name", "name", COL_TEXT },
	{ "Address", "address", COL_TEXT }, { "HKD", "hkd_age", COL_AGE },
	{ "Usable RAM", "usable_ram", COL_REAL },
	{ "Usable CPU", "usable_cpu", COL_REAL },
	{ "VMs assigned", "vms_assigned", COL_INT },
	{ "Blocked", "blocked", COL_BOOL }, { "State", "state", COL_TEXT },
};

static const struct out_col osf_cols[] = {
	{ "Id", "id", COL_INT }, { "Name", "name", COL_TEXT },
	{ "RAM", "memory", COL_INT }, { "Overlay", "use_overlay", COL_YESNO },
	{ "UserHD", "user_storage_size", COL_INT },
};

static const struct out_col di_cols[] = {
	{ "Id", "id", COL_INT }, { "OSF", "osf", COL_TEXT },
	{ "Version", "version", COL_TEXT }, { "Path", "path", COL_TEXT },
	{ "Tags", "tags", COL_LIST },
};

static const struct out_col user_cols[] = {
	{ "Id", "id", COL_INT }, { "Login", "login", COL_TEXT },
	{ "Sessions", "sessions", COL_INT }, { "VMs", "vms", COL_INT },
};

static const struct out_col vm_cols[] = {
	{ "Id", "id", COL_INT }, { "Name", "name", COL_TEXT },
	{ "User", "user", COL_TEXT }, { "RealUser", "real_user", COL_TEXT },
	{ "Ip", "ip", COL_TEXT }, { "OSF", "osf", COL_TEXT },
	{ "DI_Tag", "di_tag", COL_TEXT }, { "DI", "di", COL_TEXT },
	{ "Running DI", "running_di", COL_TEXT }, { "Host", "host", COL_TEXT },
	{ "State", "state", COL_TEXT }, { "L7R", "l7r_host", COL_TEXT },
	{ "UserState", "user_state", COL_TEXT },
	{ "Blocked", "blocked", COL_BOOL },
	{ "Expire soft", "expire_soft", COL_TIME },
	{ "Expire hard", "expire_hard", COL_TIME },
	{ "Failure", "failure", COL_TEXT },
};

#define COLS(c)	(c), (int)ARRAY_LEN(c)

/* from NULL: the object's own FROM clause (filter.c), which -f refers to */
static const struct list_def lists[] = {
	{ "host", "h.id, h.name, h.address, extract(epoch from "
	    "(localtimestamp - r.ok_ts))::bigint, round(r.usable_ram::numeric, "
	    "3), round(r.usable_cpu::numeric, 2), (SELECT count(*) FROM "
	    "vm_runtimes v WHERE v.host_id = h.id), r.blocked, r.state", NULL,
	    COLS(host_cols), "h.id" },
	{ "osf", "o.id, o.name, o.memory, o.use_overlay, o.user_storage_size",
	    NULL, COLS(osf_cols), "o.id" },
	{ "di", "d.id, o.name, d.version, d.path, (SELECT string_agg(t.tag, "
	    "E'\\n' ORDER BY t.tag) FROM di_tags t WHERE t.di_id = d.id)", NULL,
	    COLS(di_cols), "d.id" },
	{ "user", "u.id, u.login, (SELECT count(*) FROM vms v JOIN vm_runtimes "
	    "r ON r.vm_id = v.id WHERE v.user_id = u.id AND r.user_state = "
	    "'connected'), (SELECT count(*) FROM vms v WHERE v.user_id = u.id)",
	    NULL, COLS(user_cols), "u.id" },
	{ "vm", "v.id, v.name, u.login, ru.login, v.ip, o.name, v.di_tag, "
	    "(SELECT d.version FROM dis d JOIN di_tags t ON t.di_id = d.id "
	    "WHERE d.osf_id = v.osf_id AND t.tag = v.di_tag LIMIT 1), "
	    "cd.version, h.name, r.vm_state, lh.name, r.user_state, r.blocked, "
	    "extract(epoch from r.vm_expiration_soft)::bigint, "
	    "extract(epoch from r.vm_expiration_hard)::bigint, r.vm_failure",
	    "vms v JOIN vm_runtimes r ON r.vm_id = v.id JOIN users u ON u.id = "
	    "v.user_id JOIN osfs o ON o.id = v.osf_id LEFT JOIN hosts h ON "
	    "h.id = r.host_id LEFT JOIN users ru ON ru.id = r.real_user_id "
	    "LEFT JOIN dis cd ON cd.id = r.current_di_id LEFT JOIN hosts lh ON "
	    "lh.id = r.l7r_host_id", COLS(vm_cols), "v.id" },
};

/* The list of an object ("vm", "user", ...), or NULL. */
const struct list_def *
list_find(const char *object)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(lists); i++)
		if (strcmp(lists[i].object, object) == 0)
			return &lists[i];
	return NULL;
}

/* Its FROM clause: its own, or the object's. */
const char *
list_from(const struct list_def *l)
{
	const struct qvd_object *o;

	if (l->from != NULL)
		return l->from;
	o = object_find(l->object);
	return o != NULL ? o->from_sql : NULL;
}
