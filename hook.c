/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hook.c -- runs the administrator's hooks of manual chapter 15. */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

#define HOOK_MAX_ARGS	(2 * NX_MAX_PARAMS + 16)

static int
open_log(void)
{
	const char *path = conf_get("vma.hooks.log");
	char *dir;
	int fd;

	if (path == NULL || *path == '\0')
		return -1;
	dir = xstrdup(path);
	mkdir(dirname(dir), 0755);
	free(dir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	return fd;
}

static void
log_line(int fd, const char *fmt, const char *a, const char *b)
{
	char stamp[32], line[1024];
	int n;

	if (fd < 0)
		return;
	fmt_utc(stamp, sizeof(stamp), wall_ms() / 1000);
	n = snprintf(line, sizeof(line), "%s ", stamp);
	if (n > 0 && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n, fmt, a, b);
	if (write(fd, line, strlen(line)) < 0)
		return;
}

/* The hook in the foreground: its exit status, or -1. */
static int
run_sync(const char *key, const char *path, char **argv)
{
	char err[256];
	int fd = open_log(), rc;

	log_line(fd, "running %s hook %s\n", key, path);
	rc = proc_run(argv, (int)conf_int("vma.hooks.timeout", 60) * 1000, fd,
	    err, sizeof(err));
	if (rc != 0) {
		log_line(fd, "%s hook failed: %s\n", key, err);
		log_warn("%s hook %s failed: %s", key, path, err);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * Run the hook configured under key (nothing when it is empty), with the
 * flat argv of reference 3.5: every parameter as "key value", then extra.
 * Synchronous hooks return 0 on success and -1 when the action must be
 * aborted; detached ones always return 0.
 */
int
hook_run(const char *key, const struct nx_params *p,
    const char *const *extra, int detached)
{
	const char *path = conf_get(key);
	char *argv[HOOK_MAX_ARGS];
	int n = 0, i;

	if (path == NULL || *path == '\0')
		return 0;
	argv[n++] = (char *)path;
	for (i = 0; p != NULL && i < p->n && n < HOOK_MAX_ARGS - 16; i++) {
		argv[n++] = p->key[i];
		argv[n++] = p->val[i];
	}
	for (i = 0; extra != NULL && extra[i] != NULL && n < HOOK_MAX_ARGS - 1;
	    i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	if (!detached)
		return run_sync(key, path, argv) == 0 ? 0 : -1;
	if (proc_detach() == 0) {
		run_sync(key, path, argv);
		_exit(0);
	}
	return 0;
}
