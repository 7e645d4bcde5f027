/* SPDX-License-Identifier: GPL-3.0-or-later */
/* di.c -- disk images: copying them in, tags, expirations, deletion. */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qvd.h"

#define COPY_CHUNK	(1024 * 1024)

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static const char *
exp_param(const struct di_exp *x, int hard, char buf[24])
{
	if (hard ? !x->hard_set : !x->soft_set)
		return NULL;
	return db_fmt_int(buf, hard ? x->hard : x->soft);
}

/*
 * Set the expirations on the VMs the query selects; the count.
 * sql selects vm_ids with $1 = osf id, $2 = tag, $3 = di id.
 */
static long long
set_expirations(struct db *db, const struct di_exp *x, const char *sql,
    const char *osf, const char *tag, const char *di)
{
	struct pg_result *res;
	struct buf ids = { NULL, 0, 0, 0 };
	char s[24], h[24];
	long long n;
	int i;

	if (x == NULL || (!x->soft_set && !x->hard_set))
		return 0;
	if ((res = db_query(db, sql, 3, osf, tag, di)) == NULL)
		return -1;
	buf_adds(&ids, "{");
	for (i = 0; i < db_ntuples(res); i++)
		buf_printf(&ids, "%s%s", i ? "," : "", db_val(res, i, 0));
	buf_adds(&ids, "}");
	db_clear(res);
	n = db_exec_count(db, "UPDATE vm_runtimes SET "
	    "vm_expiration_soft = CASE WHEN $2::bigint IS NULL THEN "
	    "vm_expiration_soft ELSE to_timestamp($2::bigint)::timestamp END, "
	    "vm_expiration_hard = CASE WHEN $3::bigint IS NULL THEN "
	    "vm_expiration_hard ELSE to_timestamp($3::bigint)::timestamp END "
	    "WHERE vm_id = ANY($1::int[])", 3, buf_str(&ids),
	    exp_param(x, 0, s), exp_param(x, 1, h));
	buf_free(&ids);
	if (n > 0 && db_notify(db, "qvd_expiration_changed") == -1)
		return -1;
	return n;
}

/* ---- copying an image in ---- */

static int
copy_file(const char *src, const char *dst, di_progress_fn progress,
    void *parg, char *err)
{
	struct stat st;
	char *chunk = NULL;
	unsigned long long done = 0;
	ssize_t r, w, off;
	int in = -1, out = -1, rc = -1;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(in, &st) == -1) {
		str_fmt(err, ADMIN_ERRSZ, "cannot read %s: %s", src,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		str_fmt(err, ADMIN_ERRSZ, "%s is not a regular file", src);
		goto out;
	}
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644))
	    == -1) {
		str_fmt(err, ADMIN_ERRSZ, "cannot create %s: %s", dst,
		    strerror(errno));
		goto out;
	}
	chunk = xmalloc(COPY_CHUNK);
	while (!interrupted && (r = read(in, chunk, COPY_CHUNK)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			str_fmt(err, ADMIN_ERRSZ, "reading %s: %s", src,
			    strerror(errno));
			goto out;
		}
		for (off = 0; off < r; off += w)
			if ((w = write(out, chunk + off, (size_t)(r - off))) < 0) {
				if (errno == EINTR && !interrupted) {
					w = 0;
					continue;
				}
				str_fmt(err, ADMIN_ERRSZ, "writing %s: %s", dst,
				    strerror(errno));
				goto out;
			}
		done += (unsigned long long)r;
		if (progress)
			progress(done, (unsigned long long)st.st_size, parg);
	}
	if (interrupted) {
		str_copy(err, "interrupted; nothing was added", ADMIN_ERRSZ);
		goto out;
	}
	if (fsync(out) == -1) {
		str_fmt(err, ADMIN_ERRSZ, "writing %s: %s", dst, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(chunk);
	if (in != -1)
		close(in);
	if (out != -1 && close(out) == -1 && rc == 0) {
		str_fmt(err, ADMIN_ERRSZ, "writing %s: %s", dst, strerror(errno));
		rc = -1;
	}
	if (rc == -1 && out != -1)
		unlink(dst);
	return rc;
}

struct di_add {
	long long	 osf_id;
	const char	*version;	/* NULL: YYYY-MM-DD-NNN */
	const char	*base;		/* file name without directories */
	const struct di_exp *exp;
	long long	 id;
	long long	 nexp;
	char		 path[4096];
	char		 vbuf[80];
	char		*err;
};

/* The first YYYY-MM-DD-NNN (today) not already a tag of the OSF. */
static int
date_version(struct db *db, struct di_add *a, const char *osf)
{
	struct pg_result *res;
	char day[16], like[24], cand[32];
	time_t now = time(NULL);
	struct tm tm;
	int i, k, taken;

	localtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	str_fmt(like, sizeof(like), "%s-%%", day);
	res = db_query(db, "SELECT t.tag FROM di_tags t JOIN dis d ON d.id = "
	    "t.di_id WHERE d.osf_id = $1 AND t.tag LIKE $2 UNION SELECT version "
	    "FROM dis WHERE osf_id = $1 AND version LIKE $2", 2, osf, like);
	if (res == NULL)
		return -1;
	for (i = 0; i < 1000; i++) {
		str_fmt(cand, sizeof(cand), "%s-%03d", day, i);
		for (taken = 0, k = 0; k < db_ntuples(res) && !taken; k++)
			taken = strcmp(db_val(res, k, 0), cand) == 0;
		if (!taken)
			break;
	}
	db_clear(res);
	if (i == 1000) {
		str_copy(a->err, "a thousand DIs were added today already; give "
		    "a version", ADMIN_ERRSZ);
		return 1;
	}
	str_copy(a->vbuf, cand, sizeof(a->vbuf));
	return 0;
}

static int
tx_di_add(struct db *db, void *arg)
{
	struct di_add *a = arg;
	struct pg_result *res;
	const char *version;
	char osf[24], id[24];
	int rc, has_default;

	db_fmt_int(osf, a->osf_id);
	if (a->version == NULL) {
		if ((rc = date_version(db, a, osf)) != 0)
			return rc;
		version = a->vbuf;
	} else
		version = a->version;
	res = db_query(db, "SELECT (SELECT count(*) FROM dis WHERE osf_id = $1 "
	    "AND version = $2), (SELECT count(*) FROM di_tags t JOIN dis d ON "
	    "d.id = t.di_id WHERE d.osf_id = $1 AND t.tag = $2 AND t.fixed), "
	    "(SELECT count(*) FROM di_tags t JOIN dis d ON d.id = t.di_id WHERE "
	    "d.osf_id = $1 AND t.tag = 'default')", 2, osf, version);
	if (res == NULL)
		return -1;
	if (db_int(res, 0, 0) > 0 || db_int(res, 0, 1) > 0) {
		str_fmt(a->err, ADMIN_ERRSZ, "version '%s' already exists for "
		    "this OSF", version);
		db_clear(res);
		return 1;
	}
	has_default = db_int(res, 0, 2) > 0;
	db_clear(res);
	/* head (and a loose tag equal to the version) move to the new DI */
	if (db_exec(db, "DELETE FROM di_tags t USING dis d WHERE t.di_id = d.id "
	    "AND d.osf_id = $1 AND NOT t.fixed AND t.tag IN ('head', $2)", 2,
	    osf, version) == -1)
		return -1;
	res = db_query(db, "INSERT INTO dis (osf_id, path, version) VALUES "
	    "($1, '', $2) RETURNING id", 2, osf, version);
	if (res == NULL)
		return -1;
	a->id = db_int(res, 0, 0);
	db_clear(res);
	str_fmt(a->path, sizeof(a->path), "%lld-%s", a->id, a->base);
	db_fmt_int(id, a->id);
	if (db_exec(db, "UPDATE dis SET path = $2 WHERE id = $1", 2, id,
	    a->path) == -1 ||
	    db_exec(db, "INSERT INTO di_tags (di_id, tag, fixed) VALUES "
	    "($1, $2, true), ($1, 'head', false)", 2, id, version) == -1)
		return -1;
	if (!has_default && db_exec(db, "INSERT INTO di_tags (di_id, tag, "
	    "fixed) VALUES ($1, 'default', false)", 1, id) == -1)
		return -1;
	str_copy(a->vbuf, version, sizeof(a->vbuf));
	/* running VMs following head get the new image's expirations */
	a->nexp = set_expirations(db, a->exp, "SELECT v.id FROM vms v JOIN "
	    "vm_runtimes r ON r.vm_id = v.id WHERE v.osf_id = $1 AND v.di_tag "
	    "= $2 AND r.vm_state <> 'stopped' AND (r.current_di_id IS NULL OR "
	    "r.current_di_id <> $3)", osf, "head", id);
	return a->nexp < 0 ? -1 : 0;
}

static void
block_signals(int block)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/*
 * Copy an image into path.storage.images under a temporary name, record
 * it and its tags in one transaction, then give the file its final name
 * "<id>-<basename>".  A failed or interrupted copy leaves nothing behind.
 */
int
di_add(struct db *db, const struct di_add_req *r, long long *id,
    char *version, size_t versionsz, long long *nexp, char *err)
{
	struct di_add a;
	struct sigaction sa, old_int, old_term, old_hup;
	char *copy, tmp[4096], final[4096], idbuf[24];
	const char *images = conf_get("path.storage.images");
	int rc = -1;

	memset(&a, 0, sizeof(a));
	a.osf_id = r->osf_id;
	a.version = r->version;
	a.exp = &r->exp;
	a.err = err;
	if (r->version != NULL &&
	    valid_name(NAME_TAG, "version", r->version, err, ADMIN_ERRSZ) == -1)
		return -1;
	if (admin_exists(db, "OSF", r->osf_id, err) == -1)
		return -1;
	copy = xstrdup(r->path);
	a.base = basename(copy);
	if (*a.base == '\0' || strcmp(a.base, "/") == 0 || strlen(a.base) > 200) {
		str_fmt(err, ADMIN_ERRSZ, "bad image path '%s' (a file name of "
		    "at most 200 characters)", str_clip(r->path));
		free(copy);
		return -1;
	}
	if (images == NULL || (mkdir(images, 0755) == -1 && errno != EEXIST) ||
	    str_fmt(tmp, sizeof(tmp), "%s/.tmp-%d-%s", images, (int)getpid(),
	    a.base) < 0) {
		str_fmt(err, ADMIN_ERRSZ, "cannot use the images directory %s: "
		    "%s", images ? images : "(unset)", strerror(errno));
		free(copy);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	interrupted = 0;
	if (copy_file(r->path, tmp, r->progress, r->progress_arg, err) == -1)
		goto out;
	block_signals(1);
	if (interrupted || admin_tx(db, tx_di_add, &a, err,
	    "cannot record the DI") == -1) {
		if (interrupted)
			str_copy(err, "interrupted; nothing was added",
			    ADMIN_ERRSZ);
		unlink(tmp);
		goto unblock;
	}
	str_fmt(final, sizeof(final), "%s/%s", images, a.path);
	if (rename(tmp, final) == -1) {
		str_fmt(err, ADMIN_ERRSZ, "cannot rename the image into place: "
		    "%s", strerror(errno));
		db_exec(db, "DELETE FROM dis WHERE id = $1", 1,
		    db_fmt_int(idbuf, a.id));
		unlink(tmp);
		goto unblock;
	}
	*id = a.id;
	*nexp = a.nexp;
	str_copy(version, a.vbuf, versionsz);
	rc = 0;
unblock:
	block_signals(0);
out:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	free(copy);
	return rc;
}

/* ---- tags ---- */

struct di_tag_op {
	long long	 di_id;
	const char	*tag;
	const struct di_exp *exp;
	long long	 nexp;
	char		*err;
};

static int
di_osf(struct db *db, long long di_id, char osf[24], char *err)
{
	struct pg_result *res;
	char id[24];

	res = db_query(db, "SELECT osf_id FROM dis WHERE id = $1", 1,
	    db_fmt_int(id, di_id));
	if (res == NULL)
		return -1;
	if (db_ntuples(res) == 0) {
		db_clear(res);
		str_fmt(err, ADMIN_ERRSZ, "no DI with id %lld", di_id);
		return 1;
	}
	str_copy(osf, db_val(res, 0, 0), 24);
	db_clear(res);
	return 0;
}

static int
tx_di_tag(struct db *db, void *arg)
{
	struct di_tag_op *t = arg;
	struct pg_result *res;
	char osf[24], id[24];
	int rc;

	if ((rc = di_osf(db, t->di_id, osf, t->err)) != 0)
		return rc;
	db_fmt_int(id, t->di_id);
	res = db_query(db, "SELECT d.id FROM di_tags t JOIN dis d ON d.id = "
	    "t.di_id WHERE d.osf_id = $1 AND t.tag = $2 AND t.fixed", 2, osf,
	    t->tag);
	if (res == NULL)
		return -1;
	if (db_ntuples(res) > 0) {
		str_fmt(t->err, ADMIN_ERRSZ, "there is a DI with the tag '%s' "
		    "fixed (DI %s)", t->tag, db_val(res, 0, 0));
		db_clear(res);
		return 1;
	}
	db_clear(res);
	if (db_exec(db, "DELETE FROM di_tags t USING dis d WHERE t.di_id = d.id "
	    "AND d.osf_id = $1 AND t.tag = $2", 2, osf, t->tag) == -1 ||
	    db_exec(db, "INSERT INTO di_tags (di_id, tag, fixed) VALUES ($1, $2, "
	    "false)", 2, id, t->tag) == -1)
		return -1;
	t->nexp = set_expirations(db, t->exp, "SELECT v.id FROM vms v JOIN "
	    "vm_runtimes r ON r.vm_id = v.id WHERE v.osf_id = $1 AND v.di_tag = "
	    "$2 AND r.vm_state <> 'stopped' AND (r.current_di_id IS NULL OR "
	    "r.current_di_id <> $3::int)", osf, t->tag, id);
	return t->nexp < 0 ? -1 : 0;
}

/* Give the DI a tag (taking it from the other DIs of its OSF). */
int
di_tag(struct db *db, long long di_id, const char *tag,
    const struct di_exp *exp, long long *nexp, char *err)
{
	struct di_tag_op t = { di_id, tag, exp, 0, err };

	if (valid_name(NAME_TAG, "tag", tag, err, ADMIN_ERRSZ) == -1)
		return -1;
	if (admin_tx(db, tx_di_tag, &t, err, "cannot tag the DI") == -1)
		return -1;
	*nexp = t.nexp;
	return 0;
}

static int
tx_di_untag(struct db *db, void *arg)
{
	struct di_tag_op *t = arg;
	struct pg_result *res;
	char osf[24], id[24];
	int rc;

	if ((rc = di_osf(db, t->di_id, osf, t->err)) != 0)
		return rc;
	db_fmt_int(id, t->di_id);
	res = db_query(db, "SELECT fixed FROM di_tags WHERE di_id = $1 AND "
	    "tag = $2", 2, id, t->tag);
	if (res == NULL)
		return -1;
	if (db_ntuples(res) == 0 || strcmp(db_val(res, 0, 0), "t") == 0) {
		if (db_ntuples(res) == 0)
			str_fmt(t->err, ADMIN_ERRSZ, "DI %lld is not tagged "
			    "'%s'", t->di_id, t->tag);
		else
			str_fmt(t->err, ADMIN_ERRSZ, "the tag '%s' of DI %lld is "
			    "fixed", t->tag, t->di_id);
		db_clear(res);
		return 1;
	}
	db_clear(res);
	t->nexp = set_expirations(db, t->exp, "SELECT v.id FROM vms v JOIN "
	    "vm_runtimes r ON r.vm_id = v.id WHERE v.osf_id = $1 AND v.di_tag = "
	    "$2 AND r.vm_state <> 'stopped' AND r.current_di_id = $3::int", osf,
	    t->tag, id);
	if (t->nexp < 0)
		return -1;
	return db_exec(db, "DELETE FROM di_tags WHERE di_id = $1 AND tag = $2",
	    2, id, t->tag);
}

int
di_untag(struct db *db, long long di_id, const char *tag,
    const struct di_exp *exp, long long *nexp, char *err)
{
	struct di_tag_op t = { di_id, tag, exp, 0, err };

	if (admin_tx(db, tx_di_untag, &t, err, "cannot untag the DI") == -1)
		return -1;
	*nexp = t.nexp;
	return 0;
}

/* ---- deletion ---- */

struct di_del {
	struct buf	 param;
	long long	 count;
	struct buf	 paths;		/* files to remove after commit */
	char		*err;
};

static int
tx_di_del(struct db *db, void *arg)
{
	struct di_del *d = arg;
	struct pg_result *res;
	int i;

	res = db_query(db, "SELECT d.id, v.name FROM dis d JOIN vm_runtimes r "
	    "ON r.current_di_id = d.id JOIN vms v ON v.id = r.vm_id WHERE d.id = "
	    "ANY($1::int[]) ORDER BY d.id LIMIT 1", 1, buf_str(&d->param));
	if (res == NULL)
		return -1;
	if (db_ntuples(res) > 0) {
		str_fmt(d->err, ADMIN_ERRSZ, "DI %s is in use by VM '%s'; stop "
		    "it first", db_val(res, 0, 0), db_val(res, 0, 1));
		db_clear(res);
		return 1;
	}
	db_clear(res);
	/* default and head move to the newest remaining DI of the OSF */
	if (db_exec(db, "UPDATE di_tags t SET di_id = (SELECT max(o.id) FROM "
	    "dis o WHERE o.osf_id = d.osf_id AND o.id <> ALL($1::int[])) FROM "
	    "dis d WHERE t.di_id = d.id AND d.id = ANY($1::int[]) AND t.tag IN "
	    "('default', 'head') AND EXISTS (SELECT 1 FROM dis o WHERE o.osf_id "
	    "= d.osf_id AND o.id <> ALL($1::int[]))", 1, buf_str(&d->param))
	    == -1)
		return -1;
	if (db_notify(db, "qvd_di_deleted") == -1)
		return -1;
	res = db_query(db, "DELETE FROM dis WHERE id = ANY($1::int[]) "
	    "RETURNING path", 1, buf_str(&d->param));
	if (res == NULL)
		return -1;
	d->count = db_ntuples(res);
	buf_reset(&d->paths);
	for (i = 0; i < db_ntuples(res); i++)
		buf_add(&d->paths, db_val(res, i, 0),
		    strlen(db_val(res, i, 0)) + 1);
	db_clear(res);
	return 0;
}

/* Delete DIs no VM is running; their image files go too. */
long long
di_del(struct db *db, const long long *ids, int n, char *err)
{
	struct di_del d = { { NULL, 0, 0, 0 }, 0, { NULL, 0, 0, 0 }, err };
	const char *images = conf_get("path.storage.images"), *p;
	char file[4096];
	int rc, kept = 0;

	admin_ids_param(ids, n, &d.param);
	rc = admin_tx(db, tx_di_del, &d, err, "cannot delete DIs");
	for (p = d.paths.data; rc == 0 && p && p < d.paths.data + d.paths.len;
	    p += strlen(p) + 1)
		if (*p && strchr(p, '/') == NULL && images != NULL &&
		    str_fmt(file, sizeof(file), "%s/%s", images, p) > 0 &&
		    unlink(file) == -1 && errno != ENOENT && kept++ == 0)
			str_fmt(err, ADMIN_ERRSZ, "Image file %s not removed: "
			    "%s.", file, strerror(errno));
	if (kept > 1)
		str_fmt(err + strlen(err) - 1, ADMIN_ERRSZ - strlen(err) + 1,
		    " (and %d more).", kept - 1);
	if (rc == 0 && n > d.count && kept == 0)
		str_fmt(err, ADMIN_ERRSZ, "%lld of %d DIs no longer exist.",
		    n - d.count, n);
	buf_free(&d.param);
	buf_free(&d.paths);
	return rc == -1 ? -1 : d.count;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The image files in path.storage.staging, sorted (the caller frees each
 * name and the array); -1 when the directory cannot be read. */
int
di_staging_list(char ***names, char *err)
{
	const char *dir = conf_get("path.storage.staging");
	struct dirent *e;
	struct stat st;
	char path[4096];
	DIR *d;
	int n = 0;

	*names = NULL;
	if ((d = opendir(dir)) == NULL) {
		str_fmt(err, ADMIN_ERRSZ, "cannot read the staging directory "
		    "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL && n < 100000) {
		str_fmt(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_name[0] == '.' || stat(path, &st) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		*names = xreallocarray(*names, (size_t)n + 1, sizeof(**names));
		(*names)[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(*names, (size_t)n, sizeof(**names), by_name);
	return n;
}

/* Whether a newline-separated tag list (lists.c's "tags") holds tag. */
int
di_has_tag(const char *tags, const char *tag)
{
	size_t n = strlen(tag);
	const char *p;

	for (p = tags; p != NULL && *p; p = strchr(p, '\n') ? strchr(p,
	    '\n') + 1 : NULL)
		if (strncmp(p, tag, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}
