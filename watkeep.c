/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * watkeep.c -- the WAT's keeper: one process forked before qvd-wat gives
 * up root, that does the two things the WAT's user may not: copy a disk
 * image into path.storage.images, and delete disk images with their
 * files.  Any WAT process asks it over a SOCK_SEQPACKET socket; each
 * request (NUL-separated words) carries the socket its answer goes to,
 * so concurrent requests never get each other's answers.  The keeper
 * ends when the last WAT process has closed its end.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

#define KEEP_MSG_MAX	16384	/* di_del with 1024 ids of 10 digits */
#define KEEP_WORDS_MAX	1100	/* di_del and up to 1024 ids */

static int keeper_fd = -1;	/* the WAT's end */

/* ---- the wire: words and a descriptor ---- */

static int
send_request(int fd, const char *msg, size_t len, int reply_fd)
{
	struct msghdr mh;
	struct iovec iov = { (void *)msg, len };
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct cmsghdr *c;

	memset(&mh, 0, sizeof(mh));
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &reply_fd, sizeof(int));
	return sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* A request and its answer socket; 0 at the end, -1 on an error of the
 * socket, -2 for a malformed request (dropped). */
static ssize_t
recv_request(int fd, char *msg, size_t msgsz, int *reply_fd)
{
	struct msghdr mh;
	struct iovec iov = { msg, msgsz - 1 };
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct cmsghdr *c;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	*reply_fd = -1;
	if ((n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC)) <= 0)
		return n;
	c = CMSG_FIRSTHDR(&mh);
	if (c != NULL && c->cmsg_level == SOL_SOCKET &&
	    c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(reply_fd, CMSG_DATA(c), sizeof(int));
	if (*reply_fd == -1 || (mh.msg_flags & MSG_TRUNC)) {
		if (*reply_fd != -1)
			close(*reply_fd);
		return -2;
	}
	msg[n] = '\0';
	return n;
}

static void
answer(int fd, int ok, const char *text)
{
	char buf[ADMIN_ERRSZ + 64];
	int n;

	n = str_fmt(buf, sizeof(buf), "%c%s", ok ? '0' : '1', text);
	if (n < 0)
		n = (int)strlen(buf);
	(void)send(fd, buf, (size_t)n, MSG_NOSIGNAL);
}

/* ---- what the keeper does ---- */

/* The images directory exists and takes a new file. */
static int
images_writable(char *err)
{
	const char *dir = conf_get("path.storage.images");
	char probe[4200];
	int fd;

	if (dir == NULL || *dir == '\0') {
		str_copy(err, "path.storage.images is not set", ADMIN_ERRSZ);
		return -1;
	}
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		str_fmt(err, ADMIN_ERRSZ, "cannot create the images directory "
		    "%s: %s", dir, strerror(errno));
		return -1;
	}
	str_fmt(probe, sizeof(probe), "%s/.wat-rw-check-%d", dir, (int)getpid());
	if ((fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600))
	    == -1) {
		str_fmt(err, ADMIN_ERRSZ, "qvd-wat cannot write the images "
		    "directory %s: %s (start qvd-wat as root: its keeper "
		    "copies the images)", dir, strerror(errno));
		return -1;
	}
	close(fd);
	unlink(probe);
	return 0;
}

/* di_add FILE OSF_ID VERSION DELETE_AFTER JOB: answered, then copied. */
static void
keep_di_add(int reply, char **w, int n)
{
	char staged[4200], err[ADMIN_ERRSZ];
	struct di_add_req a;
	struct stat st;
	long long osf;
	const char *why;

	if (n != 6 || strchr(w[1], '/') != NULL || w[1][0] == '.' ||
	    w[1][0] == '\0' || num_parse(w[2], 1, 1LL << 31, &osf, &why) ==
	    -1 || !wat_job_id_valid(w[5])) {
		answer(reply, 0, "the keeper got a malformed di_add");
		return;
	}
	str_fmt(staged, sizeof(staged), "%s/%s",
	    conf_get("path.storage.staging"), w[1]);
	if (stat(staged, &st) == -1 || !S_ISREG(st.st_mode)) {
		answer(reply, 0, "file: no such image in the staging directory");
		return;
	}
	if (images_writable(err) == -1) {
		answer(reply, 0, err);
		return;
	}
	answer(reply, 1, "");
	close(reply);
	memset(&a, 0, sizeof(a));
	a.path = staged;
	a.osf_id = osf;
	a.version = *w[3] ? w[3] : NULL;
	setsid();
	wat_job_copy(w[5], &a, strcmp(w[4], "1") == 0);
}

/* di_del ID...: the count, a newline, and what was not done. */
static void
keep_di_del(int reply, char **w, int n)
{
	char err[ADMIN_ERRSZ], out[ADMIN_ERRSZ + 32];
	long long *ids, count;
	struct db *db;
	const char *why;
	int i;

	ids = xcalloc((size_t)n, sizeof(*ids));
	for (i = 1; i < n; i++)
		if (num_parse(w[i], 1, 1LL << 31, &ids[i - 1], &why) == -1) {
			answer(reply, 0, "the keeper got a malformed di_del");
			free(ids);
			return;
		}
	if ((db = db_open(err, sizeof(err))) == NULL ||
	    db_load_config(db) == -1) {
		answer(reply, 0, db ? "the database configuration cannot be "
		    "read" : err);
		free(ids);
		return;
	}
	err[0] = '\0';
	count = di_del(db, ids, n - 1, err);
	if (count < 0)
		answer(reply, 0, err);
	else {
		str_fmt(out, sizeof(out), "%lld\n%s", count, err);
		answer(reply, 1, out);
	}
	db_close(db);
	free(ids);
}

static void
handle(char *msg, size_t len, int reply)
{
	char *w[KEEP_WORDS_MAX];
	size_t off = 0;
	int n = 0;

	while (off < len && n < KEEP_WORDS_MAX) {
		w[n++] = msg + off;
		off += strlen(msg + off) + 1;
	}
	if (n > 0 && strcmp(w[0], "di_add") == 0)
		keep_di_add(reply, w, n);
	else if (n > 1 && strcmp(w[0], "di_del") == 0)
		keep_di_del(reply, w, n);
	else
		answer(reply, 0, "the keeper does not know this request");
}

static void NORETURN
keeper_loop(int fd)
{
	char msg[KEEP_MSG_MAX];
	ssize_t n;
	int reply;
	pid_t pid;

	signal(SIGCHLD, SIG_IGN);	/* workers reap themselves */
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		n = recv_request(fd, msg, sizeof(msg), &reply);
		if (n == 0)
			_exit(0);	/* the WAT is gone */
		if (n == -2 || (n == -1 && errno == EINTR))
			continue;
		if (n < 0)
			_exit(1);
		if ((pid = fork()) == 0) {
			close(fd);
			handle(msg, (size_t)n, reply);
			_exit(0);
		}
		if (pid == -1)
			answer(reply, 0, "the keeper cannot fork");
		close(reply);
	}
}

/* ---- the WAT's side ---- */

/* Fork the keeper with the rights qvd-wat has now (root, usually). */
int
wat_keeper_start(char *err, size_t errsz)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		str_fmt(err, errsz, "keeper: socketpair: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		str_fmt(err, errsz, "keeper: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		/* nothing of the WAT's: not its port (a long copy would hold
		 * it after qvd-wat stops), nor its database session */
		proc_close_all_but(sv[1]);
		keeper_loop(sv[1]);
	}
	close(sv[1]);
	keeper_fd = sv[0];
	return 0;
}

/*
 * Ask the keeper: words[0] the request, the rest its arguments.  1 and
 * answer for a done request, 0 and answer (the reason) for a refused
 * one, -1 and answer when the keeper cannot be reached.
 */
int
wat_keeper_call(const char *const *words, int nwords, int timeout_ms,
    char *answer_out, size_t answersz)
{
	char msg[KEEP_MSG_MAX], got[ADMIN_ERRSZ + 64];
	struct pollfd pfd;
	size_t len = 0, wl;
	ssize_t n;
	int sv[2], i, rc = -1;

	for (i = 0; i < nwords; i++) {
		wl = strlen(words[i]) + 1;
		if (len + wl > sizeof(msg)) {
			str_copy(answer_out, "the request is too long",
			    answersz);
			return -1;
		}
		memcpy(msg + len, words[i], wl);
		len += wl;
	}
	str_copy(answer_out, "the WAT's keeper does not answer", answersz);
	if (keeper_fd == -1 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	if (send_request(keeper_fd, msg, len, sv[1]) == 0) {
		pfd.fd = sv[0];
		pfd.events = POLLIN;
		close(sv[1]);
		sv[1] = -1;
		if (poll(&pfd, 1, timeout_ms) == 1 &&
		    (n = recv(sv[0], got, sizeof(got) - 1, 0)) > 0) {
			got[n] = '\0';
			str_copy(answer_out, got + 1, answersz);
			rc = got[0] == '0' ? 1 : 0;
		}
	}
	close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	return rc;
}
