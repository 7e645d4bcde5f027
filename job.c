/* SPDX-License-Identifier: GPL-3.0-or-later */
/* job.c -- slow work (unpacking, lxc-start, VMA calls) in forked workers
 * that report back to the node's poll() loop through a pipe. */

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

static struct job *jobs[JOB_MAX];

/*
 * Run fn(arg) in a child within timeout_ms.  What it writes into its
 * output buffer comes back to done() with its result.  The child never
 * touches the parent's database connection: it ends with _exit().
 */
int
job_start(struct job *j, const char *what, int timeout_ms,
    int (*fn)(void *, char *, size_t), void *arg,
    void (*done)(struct job *, int ok, const char *out), void *ctx)
{
	char out[JOB_OUT_MAX];
	int p[2], rc, slot;
	pid_t pid;

	for (slot = 0; slot < JOB_MAX && jobs[slot] != NULL; slot++)
		;
	if (slot == JOB_MAX || pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		setpgid(0, 0);
		sig_pipe_child();
		daemon_forget_pidfile();
		out[0] = '\0';
		rc = fn(arg, out, sizeof(out));
		if (write(p[1], out, strlen(out)) < 0)
			_exit(3);
		_exit(rc == 0 ? 0 : 1);
	}
	close(p[1]);
	setpgid(pid, pid);
	fd_nonblock(p[0], 1);
	memset(j, 0, sizeof(*j));
	j->pid = pid;
	j->fd = p[0];
	j->deadline = mono_ms() + timeout_ms;
	j->done = done;
	j->ctx = ctx;
	str_copy(j->what, what, sizeof(j->what));
	jobs[slot] = j;
	return 0;
}

int
job_active(const struct job *j)
{
	return j->pid > 0;
}

static void
finish(int slot, int ok)
{
	struct job *j = jobs[slot];
	ssize_t n;

	while (j->outlen < sizeof(j->out) - 1 && (n = read(j->fd,
	    j->out + j->outlen, sizeof(j->out) - 1 - j->outlen)) > 0)
		j->outlen += (size_t)n;
	j->out[j->outlen] = '\0';
	close(j->fd);
	j->fd = -1;
	j->pid = 0;
	jobs[slot] = NULL;
	if (!ok && j->outlen == 0)
		str_fmt(j->out, sizeof(j->out), "%s failed", j->what);
	j->done(j, ok, j->out);
}

/* Reap finished jobs and kill the ones past their deadline. */
void
job_poll(void)
{
	long long now = mono_ms();
	int slot, st;
	pid_t w;

	for (slot = 0; slot < JOB_MAX; slot++) {
		struct job *j = jobs[slot];

		if (j == NULL)
			continue;
		w = waitpid(j->pid, &st, WNOHANG);
		if (w == j->pid) {
			finish(slot, WIFEXITED(st) && WEXITSTATUS(st) == 0);
			continue;
		}
		if (now > j->deadline) {
			kill(-j->pid, SIGKILL);
			waitpid(j->pid, &st, 0);
			j->outlen = 0;
			str_fmt(j->out, sizeof(j->out), "%s took too long and "
			    "was killed", j->what);
			j->outlen = strlen(j->out);
			close(j->fd);
			j->fd = -1;
			j->pid = 0;
			jobs[slot] = NULL;
			j->done(j, 0, j->out);
		}
	}
}

/* Kill a job without calling done(). */
void
job_cancel(struct job *j)
{
	int slot, st;

	for (slot = 0; slot < JOB_MAX; slot++)
		if (jobs[slot] == j) {
			kill(-j->pid, SIGKILL);
			waitpid(j->pid, &st, 0);
			close(j->fd);
			jobs[slot] = NULL;
		}
	j->pid = 0;
	j->fd = -1;
}

/* Milliseconds until the nearest job deadline (for poll), or max. */
int
job_next_timeout(int max)
{
	long long now = mono_ms(), left;
	int slot, t = max;

	for (slot = 0; slot < JOB_MAX; slot++)
		if (jobs[slot] != NULL) {
			left = jobs[slot]->deadline - now;
			if (left < t)
				t = left < 0 ? 0 : (int)left;
		}
	return t;
}

int
job_count(void)
{
	int slot, n = 0;

	for (slot = 0; slot < JOB_MAX; slot++)
		n += jobs[slot] != NULL;
	return n;
}
