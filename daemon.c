/* SPDX-License-Identifier: GPL-3.0-or-later */
/* daemon.c -- what every daemon needs: detaching, a locked pid file, and
 * signals delivered through a self-pipe to the poll() loop. */

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

static int sigpipe_w = -1, sigpipe_r = -1;
static int pidfile_fd = -1;
static char pidfile_path[512];

/* Fork into the background: new session, cwd /, std fds on /dev/null. */
int
daemon_detach(char *err, size_t errsz)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) == -1) {
		str_fmt(err, errsz, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		_exit(0);
	setsid();
	if ((pid = fork()) == -1)
		_exit(1);
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

static void
mkdir_parent(const char *path)
{
	char *copy = xstrdup(path), *dir = dirname(copy);

	mkdir(dir, 0755);
	free(copy);
}

/*
 * Write our pid to path and keep it locked: a second instance finds the
 * lock taken and is refused.  Call after daemon_detach.
 */
int
daemon_pidfile(const char *path, char *err, size_t errsz)
{
	char buf[32];
	int fd, n;

	mkdir_parent(path);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		str_fmt(err, errsz, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = (int)read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		str_fmt(err, errsz, "already running (pid %s, %s)", buf, path);
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) == -1 || write(fd, buf, (size_t)n) != n) {
		str_fmt(err, errsz, "cannot write %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	pidfile_fd = fd;
	str_copy(pidfile_path, path, sizeof(pidfile_path));
	return 0;
}

void
daemon_pidfile_remove(void)
{
	if (pidfile_fd == -1)
		return;
	unlink(pidfile_path);
	close(pidfile_fd);
	pidfile_fd = -1;
}

/* A child must not keep the lock of its parent's pid file. */
void
daemon_forget_pidfile(void)
{
	if (pidfile_fd != -1)
		close(pidfile_fd);
	pidfile_fd = -1;
}

/* Write a small file atomically (a temporary file, then rename). */
int
file_write_atomic(const char *path, const char *text, mode_t mode)
{
	char tmp[600];
	int fd;
	size_t n = strlen(text);

	str_fmt(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode))
	    == -1)
		return -1;
	if (write(fd, text, n) != (ssize_t)n || fsync(fd) == -1) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void
on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	(void)!write(sigpipe_w, &c, 1);	/* a full pipe already wakes us */
	errno = saved;
}

/* Deliver the given signals (0-terminated) as bytes on the returned fd. */
int
sig_pipe_init(const int *sigs)
{
	struct sigaction sa;
	int p[2], i;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	sigpipe_r = p[0];
	sigpipe_w = p[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; sigs[i] != 0; i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return sigpipe_r;
}

/* The next pending signal, or 0. */
int
sig_pipe_next(void)
{
	unsigned char c;

	if (read(sigpipe_r, &c, 1) == 1)
		return c;
	return 0;
}

/* In a child: back to default dispositions, the pipe closed. */
void
sig_pipe_child(void)
{
	if (sigpipe_r != -1)
		close(sigpipe_r);
	if (sigpipe_w != -1)
		close(sigpipe_w);
	sigpipe_r = sigpipe_w = -1;
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
}
