/* SPDX-License-Identifier: GPL-3.0-or-later */
/* proc.c -- child processes: spawn, wait with a timeout, kill, drop root. */

#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

/* /proc/<pid>/<what> into buf (NUL-terminated, bounded); its length or -1. */
static ssize_t
proc_read(pid_t pid, const char *what, char *buf, size_t bufsz)
{
	char path[64];
	ssize_t n;
	int fd;

	str_fmt(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	if (pid <= 0 || bufsz < 2 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, bufsz - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* Its command line, arguments joined by spaces; -1 if it is gone. */
int
proc_cmdline(pid_t pid, char *out, size_t outsz)
{
	ssize_t n, i;

	if ((n = proc_read(pid, "cmdline", out, outsz)) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	return 0;
}

/* Alive and not a zombie: a daemon that is not our child may stay a
 * zombie until this machine's init reaps it. */
int
proc_alive(pid_t pid)
{
	char stat[512], *s;

	if (pid <= 0 || kill(pid, 0) == -1 ||
	    proc_read(pid, "stat", stat, sizeof(stat)) == -1)
		return 0;
	s = strrchr(stat, ')');	/* "pid (comm) S ..." */
	return s != NULL && s[1] == ' ' && s[2] != 'Z' && s[2] != 'X';
}

/* Until pid is gone, up to ms: 0, or -1 if it still runs. */
int
proc_wait_gone(pid_t pid, int ms)
{
	long long deadline = mono_ms() + ms;

	while (proc_alive(pid)) {
		if (mono_ms() > deadline)
			return -1;
		sleep_ms(50);
	}
	return 0;
}

/* The pid a pid file holds, 0 if none (or not a pid). */
pid_t
proc_pid_file(const char *path)
{
	char text[32];
	long long pid;
	const char *why;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	if (num_parse(str_trim(text), 2, 1 << 22, &pid, &why) == -1)
		return 0;
	return (pid_t)pid;
}

/*
 * Join the network namespace of process pid when it is a running `comm`
 * (qvd-node) in another one: what it listens on, and the abstract
 * sockets of its containers, are then ours.  0 when joined or already
 * shared, 1 when no such process runs here, -1 with err.
 */
int
proc_join_netns_of(pid_t pid, const char *comm, char *err, size_t errsz)
{
	char path[64], name[64];
	struct stat mine, theirs;
	int fd;

	if (proc_read(pid, "comm", name, sizeof(name)) == -1)
		return 1;
	name[strcspn(name, "\n")] = '\0';
	if (strcmp(name, comm) != 0)
		return 1;
	str_fmt(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat("/proc/self/ns/net", &mine) == 0 && stat(path, &theirs) == 0 &&
	    mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    setns(fd, CLONE_NEWNET) == -1) {
		str_fmt(err, errsz, "cannot join the network namespace of %s "
		    "(pid %d): %s", comm, (int)pid, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* setgroups, setresgid, setresuid: in that order, each checked. */
int
proc_drop_privileges(const char *user, uid_t uid, gid_t gid, char *err,
    size_t errsz)
{
	if ((user != NULL ? initgroups(user, gid) : setgroups(1, &gid)) == -1 ||
	    setresgid(gid, gid, gid) == -1 || setresuid(uid, uid, uid) == -1) {
		str_fmt(err, errsz, "cannot become uid %d gid %d: %s",
		    (int)uid, (int)gid, strerror(errno));
		return -1;
	}
	if (uid != 0 && setuid(0) == 0) {
		str_copy(err, "privileges could be regained", errsz);
		return -1;
	}
	return 0;
}

/* Look a user up: 0 with uid, gid and home, or -1. */
int
proc_user(const char *name, uid_t *uid, gid_t *gid, char *home, size_t homesz)
{
	struct passwd *pw = getpwnam(name);

	if (pw == NULL)
		return -1;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (home != NULL)
		str_copy(home, pw->pw_dir, homesz);
	return 0;
}

static int
open_null(int flags)
{
	return open("/dev/null", flags | O_CLOEXEC);
}

/* In the child: wire fds, session, user; never returns on success. */
static void
child_setup(const struct proc_spec *s, int errpipe)
{
	int in = s->stdin_fd >= 0 ? s->stdin_fd : open_null(O_RDONLY);
	int out = s->stdout_fd >= 0 ? s->stdout_fd : open_null(O_WRONLY);
	int er = s->stderr_fd >= 0 ? s->stderr_fd : open_null(O_WRONLY);
	char err[128];
	sigset_t none;
	int e;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1 || dup2(er, 2) == -1)
		goto fail;
	if (s->new_session && setsid() == -1)
		goto fail;
	if (s->cwd != NULL && chdir(s->cwd) == -1)
		goto fail;
	if (s->drop && proc_drop_privileges(s->user, s->uid, s->gid, err,
	    sizeof(err)) == -1)
		goto fail;
	if (s->envp != NULL)
		execve(s->argv[0], s->argv, s->envp);
	else
		execvp(s->argv[0], s->argv);
fail:
	e = errno;
	if (write(errpipe, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

/* Start a child; -1 with err if it could not even exec. */
pid_t
proc_spawn(const struct proc_spec *s, char *err, size_t errsz)
{
	int p[2], e = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1) {
		str_fmt(err, errsz, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		str_fmt(err, errsz, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		child_setup(s, p[1]);
	}
	close(p[1]);
	do
		n = read(p[0], &e, sizeof(e));
	while (n == -1 && errno == EINTR);
	close(p[0]);
	if (n == sizeof(e)) {
		waitpid(pid, NULL, 0);
		str_fmt(err, errsz, "cannot run %s: %s", s->argv[0],
		    strerror(e));
		return -1;
	}
	return pid;
}

/*
 * Wait for a child for up to timeout_ms (-1: forever).  0 with its wait
 * status, or -1 when it is still running (or is not our child).
 */
int
proc_wait(pid_t pid, int timeout_ms, int *status)
{
	long long deadline = mono_ms() + timeout_ms;
	struct pollfd pfd;
	int fd, r, st;
	pid_t w;

	if (timeout_ms < 0) {
		while ((w = waitpid(pid, &st, 0)) == -1 && errno == EINTR)
			;
		if (w != pid)
			return -1;
		*status = st;
		return 0;
	}
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	for (;;) {
		w = waitpid(pid, &st, WNOHANG);
		if (w == pid) {
			if (fd >= 0)
				close(fd);
			*status = st;
			return 0;
		}
		if (w == -1 && errno != EINTR)
			break;
		if (mono_ms() >= deadline)
			break;
		if (fd >= 0) {
			pfd.fd = fd;
			pfd.events = POLLIN;
			r = poll(&pfd, 1, (int)(deadline - mono_ms()));
			(void)r;
		} else
			sleep_ms(10);
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

/* TERM the group, and KILL it if it is still there after grace_ms. */
void
proc_kill_group(pid_t pid, int grace_ms)
{
	int st;

	if (pid <= 1)
		return;
	kill(-pid, SIGTERM);
	kill(pid, SIGTERM);
	if (proc_wait(pid, grace_ms, &st) == 0)
		return;
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	proc_wait(pid, 2000, &st);
}

/* A short description of a wait status for logs: "exit 3", "signal 9". */
void
proc_status_str(int status, char *out, size_t outsz)
{
	if (WIFEXITED(status))
		str_fmt(out, outsz, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		str_fmt(out, outsz, "signal %d", WTERMSIG(status));
	else
		str_copy(out, "stopped", outsz);
}

/*
 * Run argv to completion within timeout_ms, output appended to out_fd
 * (-1: /dev/null).  Its exit code, or -1 (err) if it could not run or was
 * killed for taking too long.
 */
int
proc_run(char *const *argv, int timeout_ms, int out_fd, char *err,
    size_t errsz)
{
	struct proc_spec s;
	pid_t pid;
	int st;

	memset(&s, 0, sizeof(s));
	s.argv = argv;
	s.stdin_fd = -1;
	s.stdout_fd = out_fd;
	s.stderr_fd = out_fd;
	s.new_session = 1;
	if ((pid = proc_spawn(&s, err, errsz)) == -1)
		return -1;
	if (proc_wait(pid, timeout_ms, &st) == -1) {
		proc_kill_group(pid, 2000);
		str_fmt(err, errsz, "%s did not finish in %d s and was killed",
		    argv[0], timeout_ms / 1000);
		return -1;
	}
	if (!WIFEXITED(st)) {
		str_fmt(err, errsz, "%s was killed by signal %d", argv[0],
		    WTERMSIG(st));
		return -1;
	}
	if (WEXITSTATUS(st) != 0)
		str_fmt(err, errsz, "%s exited with status %d", argv[0],
		    WEXITSTATUS(st));
	return WEXITSTATUS(st);
}

/*
 * proc_run, with the command's output (the last outsz - 1 bytes of it)
 * in out: what tar or lxc-start said when they failed.
 */
int
proc_run_capture(char *const *argv, int timeout_ms, char *out, size_t outsz)
{
	char path[] = "/tmp/qvd-run.XXXXXX", err[256];
	off_t size;
	ssize_t n;
	int fd, rc;

	out[0] = '\0';
	if ((fd = mkstemp(path)) == -1)
		return proc_run(argv, timeout_ms, -1, out, outsz);
	unlink(path);
	rc = proc_run(argv, timeout_ms, fd, err, sizeof(err));
	size = lseek(fd, 0, SEEK_END);
	if (size > 0) {
		off_t from = size > (off_t)outsz - 1 ? size - (off_t)outsz + 1 :
		    0;

		n = pread(fd, out, outsz - 1, from);
		out[n > 0 ? n : 0] = '\0';
		str_trim(out);
		for (char *c = out; *c; c++)	/* one line, for a log or a row */
			if (*c == '\n' || *c == '\r')
				*c = ';';
	}
	if (rc != 0 && out[0] == '\0')
		str_copy(out, err, outsz);
	close(fd);
	return rc;
}

/*
 * Fork a detached process (its own session, not our child).  It keeps
 * none of our descriptors but 0-2 and the log: no socket, lock or pipe
 * of ours lives on in it.
 */
pid_t
proc_detach(void)
{
	pid_t pid = fork(), gpid;
	int st, keep;

	if (pid == -1)
		return -1;
	if (pid == 0) {
		setsid();
		if ((gpid = fork()) != 0)
			_exit(gpid == -1 ? 1 : 0);
		keep = log_fd();
		if (keep > 3)
			close_range(3, (unsigned)keep - 1, 0);
		close_range(keep >= 3 ? (unsigned)keep + 1 : 3, ~0U, 0);
		return 0;	/* the grandchild goes on */
	}
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	return pid;
}

/*
 * In a forked helper that outlives what forked it: every descriptor but
 * stdio, keep and the log's closed, so that it holds none of its
 * parent's ports or database sessions.
 */
void
proc_close_all_but(int keep)
{
	long max = sysconf(_SC_OPEN_MAX);
	int fd;

	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = 3; fd < max; fd++)
		if (fd != keep && fd != log_fd())
			close(fd);
}
