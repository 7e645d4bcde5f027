/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * watjob.c -- the WAT's disk image jobs: a file per job in wat.jobs that
 * the copy writes (state, bytes done, the new DI) and the pages read, and
 * the copy itself, run by the keeper (watkeep.c) with the rights the
 * images directory needs.
 */

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

static char jobs_dir[4096];

struct job_file {
	char		 path[4200];
	int		 last_pct;
};

/* The directory of job files, made before qvd-wat gives up root. */
int
wat_jobs_init(uid_t uid, gid_t gid, char *err, size_t errsz)
{
	str_copy(jobs_dir, conf_get("wat.jobs"), sizeof(jobs_dir));
	mkdir(conf_get("path.run"), 0755);	/* its usual parent */
	if (mkdir(jobs_dir, 0700) == -1 && errno != EEXIST) {
		str_fmt(err, errsz, "wat.jobs: cannot make %s: %s", jobs_dir,
		    strerror(errno));
		return -1;
	}
	if (geteuid() == 0 && chown(jobs_dir, uid, gid) == -1) {
		str_fmt(err, errsz, "wat.jobs: %s: %s", jobs_dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* A job id: 32 lower-case hex digits. */
int
wat_job_id_valid(const char *id)
{
	return strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32;
}

static void
job_path(const char *id, char *out, size_t outsz)
{
	str_fmt(out, outsz, "%s/%s", jobs_dir, id);
}

/* The job's file, replaced whole: "state done total id version msg", a
 * line each (a newline in the message becomes a blank). */
static void
write_file(const char *path, const char *state, unsigned long long d,
    unsigned long long total, long long id, const char *version,
    const char *msg)
{
	char tmp[4300], line[ADMIN_ERRSZ + 64], *nl;
	FILE *fp;

	str_copy(line, msg, sizeof(line));
	while ((nl = strchr(line, '\n')) != NULL)
		*nl = ' ';
	str_fmt(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fp = fopen(tmp, "w")) == NULL) {
		log_warn("WAT: cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	fprintf(fp, "%s\n%llu\n%llu\n%lld\n%s\n%s\n", state, d, total, id,
	    version, line);
	if (fclose(fp) == 0)
		rename(tmp, path);
}

void
wat_job_write(const char *id, const char *state, unsigned long long done,
    unsigned long long total, const char *msg)
{
	char path[4200];

	job_path(id, path, sizeof(path));
	write_file(path, state, done, total, 0, "", msg);
}

static void
job_progress(unsigned long long d, unsigned long long total, void *arg)
{
	struct job_file *j = arg;
	int pct = total ? (int)(d * 100 / total) : 100;

	if (pct == j->last_pct)
		return;
	j->last_pct = pct;
	write_file(j->path, "running", d, total, 0, "", "");
}

/*
 * The copy of staged into a new DI, in a process of its own with its own
 * database session; the job's file says how it goes and how it ended.
 */
void NORETURN
wat_job_copy(const char *id, struct di_add_req *a, int delete_after)
{
	char err[ADMIN_ERRSZ], version[80] = "", msg[ADMIN_ERRSZ + 64];
	struct job_file j;
	struct db *db;
	long long di, nexp;

	job_path(id, j.path, sizeof(j.path));
	j.last_pct = -1;
	if ((db = db_open(err, sizeof(err))) == NULL ||
	    db_load_config(db) == -1) {
		write_file(j.path, "failed", 0, 0, 0, "", db ? "the database "
		    "configuration cannot be read" : err);
		_exit(1);
	}
	a->progress = job_progress;
	a->progress_arg = &j;
	if (di_add(db, a, &di, version, sizeof(version), &nexp, err) == -1) {
		log_warn("WAT: adding the disk image %s failed: %s", a->path,
		    err);
		write_file(j.path, "failed", 0, 0, 0, "", err);
		_exit(1);
	}
	str_fmt(msg, sizeof(msg), "DI added with id %lld (version %s)", di,
	    version);
	if (delete_after && unlink(a->path) == -1)
		str_fmt(msg + strlen(msg), sizeof(msg) - strlen(msg), "; %s "
		    "could not be deleted: %s", a->path, strerror(errno));
	log_info("WAT: %s from %s", msg, a->path);
	write_file(j.path, "done", 1, 1, di, version, msg);
	db_close(db);
	_exit(0);
}

static void
read_line(FILE *fp, char *out, size_t outsz)
{
	if (fgets(out, (int)outsz, fp) == NULL)
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

/* A job's file; -1 if there is no such job or the file is not one. */
int
wat_job_read(const char *id, struct wat_job_state *js)
{
	char path[4200], n[3][32];
	const char *why;
	FILE *fp;
	int i;

	if (!wat_job_id_valid(id))
		return -1;
	job_path(id, path, sizeof(path));
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	read_line(fp, js->state, sizeof(js->state));
	for (i = 0; i < 3; i++)
		read_line(fp, n[i], sizeof(n[i]));
	read_line(fp, js->version, sizeof(js->version));
	read_line(fp, js->msg, sizeof(js->msg));
	fclose(fp);
	if (num_parse(n[0], 0, 1LL << 60, &js->done, &why) == -1 ||
	    num_parse(n[1], 0, 1LL << 60, &js->total, &why) == -1 ||
	    num_parse(n[2], 0, 1LL << 40, &js->id, &why) == -1 ||
	    (strcmp(js->state, "running") != 0 && strcmp(js->state, "done") !=
	    0 && strcmp(js->state, "failed") != 0)) {
		log_warn("WAT: job file %s is damaged", path);
		return -1;
	}
	return 0;
}
