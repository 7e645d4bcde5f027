/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fence.c -- the node's lease on its VMs.  Every heartbeat the database
 * accepted renews it; when it runs out (the node has been cut off from
 * the database for internal.hkd.cluster.node.lease seconds), every VM of
 * the node is killed at once.  The other nodes mark a node lost only
 * after the longer internal.hkd.cluster.node.timeout, so a VM they start
 * again elsewhere never runs twice.
 *
 * The killing is done by the fence keeper, a small process of its own
 * that the HKD tells of each renewal and of each VM's pid over a Unix
 * socket (path.run/qvd-fence.sock): it keeps the lease whatever the HKD
 * is blocked in, and when the HKD dies (its VMs live on, for a restarted
 * HKD to adopt), the lease still ends on time unless a new HKD takes the
 * keeper over and renews it.  Messages, one per datagram: "L ms" the
 * lease ends in ms, "T pid" and "U pid" track and untrack a VM, "Q" the
 * node stopped (the keeper ends).
 */

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

#define FENCE_MAX	4096	/* VMs one node runs at most */
#define FENCE_MSG	32

/* ---- the keeper ---- */

struct keeper {
	pid_t		 pids[FENCE_MAX];
	unsigned long long started[FENCE_MAX];	/* that pid's, not a reuse */
	long long	 deadline;	/* mono_ms(); 0 = no lease yet */
	long long	 next_kill;	/* again every second once ended */
};

/* When process pid started (/proc/PID/stat's 22nd field), 0 if gone. */
static unsigned long long
start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	FILE *fp;
	int field;

	str_fmt(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	p = fgets(buf, sizeof(buf), fp);
	fclose(fp);
	/* after the command's closing parenthesis: field 3 onwards */
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return 0;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		t = strtoull(p + 1, NULL, 10);
	return t;
}

static void
keeper_kill(struct keeper *k)
{
	int i, n = 0;

	for (i = 0; i < FENCE_MAX; i++)
		if (k->pids[i] > 0 && start_time(k->pids[i]) == k->started[i] &&
		    kill(k->pids[i], SIGKILL) == 0)
			n++;
	if (n > 0)
		log_error("fence: the lease ended: killed %d VM%s", n,
		    n == 1 ? "" : "s");
	k->next_kill = mono_ms() + 1000;
}

static void
keeper_set(struct keeper *k, pid_t pid, int track)
{
	int i;

	for (i = 0; i < FENCE_MAX; i++)
		if (k->pids[i] == pid)
			k->pids[i] = 0;
	for (i = 0; track && i < FENCE_MAX; i++)
		if (k->pids[i] == 0) {
			k->pids[i] = pid;
			k->started[i] = start_time(pid);
			return;
		}
}

/* One message from the HKD; 1 when it says the node stopped. */
static int
keeper_msg(struct keeper *k, const char *m)
{
	long long v;
	const char *why;

	if (m[0] == 'Q')
		return 1;
	if (m[1] != ' ' || num_parse(m + 2, 0, 1LL << 40, &v, &why) == -1)
		return 0;
	if (m[0] == 'L') {
		k->deadline = mono_ms() + v;
		k->next_kill = 0;
	} else if ((m[0] == 'T' || m[0] == 'U') && v > 1)
		keeper_set(k, (pid_t)v, m[0] == 'T');
	return 0;
}

static int
keeper_timeout(const struct keeper *k)
{
	long long t;

	if (k->deadline == 0)
		return -1;
	t = (k->next_kill ? k->next_kill : k->deadline) - mono_ms();
	return t < 0 ? 0 : t > 60000 ? 60000 : (int)t;
}

static void NORETURN
keeper_loop(int lfd)
{
	struct keeper k;
	struct pollfd p[2];
	char m[FENCE_MSG];
	ssize_t n;
	int hkd = -1;

	memset(&k, 0, sizeof(k));
	prctl(PR_SET_NAME, "qvd-fence", 0, 0, 0);
	signal(SIGTERM, SIG_IGN);	/* it ends when the lease says so */
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	for (;;) {
		p[0].fd = lfd;
		p[0].events = hkd == -1 ? POLLIN : 0;
		p[1].fd = hkd;
		p[1].events = POLLIN;
		if (poll(p, 2, keeper_timeout(&k)) == -1 && errno != EINTR)
			_exit(1);
		if (k.deadline != 0 && mono_ms() >= k.deadline &&
		    mono_ms() >= k.next_kill) {
			keeper_kill(&k);
			if (hkd == -1)
				_exit(0);	/* no HKD to wait for */
		}
		if (hkd == -1 && (p[0].revents & POLLIN))
			hkd = accept(lfd, NULL, NULL);
		else if (hkd != -1 && (p[1].revents & (POLLIN | POLLHUP))) {
			n = recv(hkd, m, sizeof(m) - 1, 0);
			if (n <= 0) {	/* the HKD is gone: the lease runs */
				close(hkd);
				hkd = -1;
				if (k.deadline == 0)
					_exit(0);	/* nothing to guard */
				continue;
			}
			m[n] = '\0';
			if (keeper_msg(&k, m))
				_exit(0);
		}
	}
}

/* ---- the HKD's side ---- */

static int keeper = -1;		/* our connection to the keeper */
static long long lease_ms;
static long long deadline;	/* mono_ms() the lease ends, 0 = not yet */
static pid_t tracked[FENCE_MAX];

static int
sock_path(struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	return str_fmt(sa->sun_path, sizeof(sa->sun_path), "%s/qvd-fence.sock",
	    conf_get("path.run"));
}

static int
connect_keeper(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd != -1 && connect(fd, (const struct sockaddr *)sa,
	    sizeof(*sa)) == 0)
		return fd;
	if (fd != -1)
		close(fd);
	return -1;
}

/* A new keeper, listening at sa (our last one is gone). */
static int
spawn_keeper(const struct sockaddr_un *sa, char *err, size_t errsz)
{
	int lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	pid_t pid;

	unlink(sa->sun_path);
	if (lfd == -1 || bind(lfd, (const struct sockaddr *)sa,
	    sizeof(*sa)) == -1 || listen(lfd, 4) == -1) {
		str_fmt(err, errsz, "fence keeper: %s: %s", sa->sun_path,
		    strerror(errno));
		if (lfd != -1)
			close(lfd);
		return -1;
	}
	if ((pid = fork()) == -1) {
		str_fmt(err, errsz, "fence keeper: fork: %s", strerror(errno));
		close(lfd);
		return -1;
	}
	if (pid == 0) {
		setsid();	/* not in the HKD's process group */
		proc_close_all_but(lfd);
		keeper_loop(lfd);
	}
	close(lfd);
	log_info("fence keeper started (pid %d)", (int)pid);
	return 0;
}

static void
say(char what, long long v)
{
	char m[FENCE_MSG];
	int len = snprintf(m, sizeof(m), "%c %lld", what, v);

	if (keeper == -1 || len < 0)
		return;
	if (send(keeper, m, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) == -1 &&
	    errno != EAGAIN) {
		log_error("fence keeper: %s; starting another", strerror(errno));
		close(keeper);
		keeper = -1;
	}
}

/* Everything the keeper must know, told again (a new keeper). */
static void
tell_all(void)
{
	int i;

	for (i = 0; i < FENCE_MAX; i++)
		if (tracked[i] > 0)
			say('T', tracked[i]);
	if (deadline != 0)
		say('L', fence_left_ms());
}

/*
 * The keeper, taken over from a previous HKD or started; fencing after
 * lease_s seconds without a renewal (0 turns it off).  -1 and err if
 * there can be none.
 */
int
fence_init(long long lease_s, char *err, size_t errsz)
{
	struct sockaddr_un sa;

	lease_ms = lease_s * 1000;
	if (lease_ms == 0)
		return 0;
	if (sock_path(&sa) == -1) {
		str_fmt(err, errsz, "fence keeper: path.run is too long");
		return -1;
	}
	if ((keeper = connect_keeper(&sa)) != -1) {
		log_info("fence keeper of the previous qvd-node taken over");
		return 0;
	}
	if (spawn_keeper(&sa, err, errsz) == -1 ||
	    (keeper = connect_keeper(&sa)) == -1) {
		if (*err == '\0')
			str_fmt(err, errsz, "fence keeper: cannot connect: %s",
			    strerror(errno));
		return -1;
	}
	return 0;
}

/* The keeper is there (started again if it died); 0 when it is. */
static int
ensure_keeper(void)
{
	struct sockaddr_un sa;
	char err[256] = "";

	if (keeper != -1 || lease_ms == 0)
		return 0;
	if (sock_path(&sa) == -1 || spawn_keeper(&sa, err, sizeof(err)) == -1 ||
	    (keeper = connect_keeper(&sa)) == -1) {
		log_error("%s", *err ? err : "fence keeper: cannot connect");
		return -1;
	}
	tell_all();
	return 0;
}

/* The database took a heartbeat sent at sent_ms: the lease runs from it. */
void
fence_renew(long long sent_ms)
{
	if (lease_ms == 0)
		return;
	deadline = sent_ms + lease_ms;
	if (ensure_keeper() == 0)
		say('L', fence_left_ms());
}

/* Milliseconds of lease left (0: it ended), -1 before the first renewal. */
long long
fence_left_ms(void)
{
	long long left;

	if (deadline == 0)
		return -1;
	left = deadline - mono_ms();
	return left > 0 ? left : 0;
}

/* A VM's process (its container's init) to kill when the lease ends. */
void
fence_track(pid_t pid)
{
	int i, free_slot = -1;

	if (pid <= 1)
		return;
	for (i = 0; i < FENCE_MAX; i++) {
		if (tracked[i] == pid)
			return;
		if (tracked[i] == 0 && free_slot == -1)
			free_slot = i;
	}
	if (free_slot == -1) {
		log_error("fence: more than %d VMs; pid %d is not fenced",
		    FENCE_MAX, (int)pid);
		return;
	}
	tracked[free_slot] = pid;
	say('T', pid);
}

void
fence_untrack(pid_t pid)
{
	int i;

	if (pid <= 1)
		return;
	for (i = 0; i < FENCE_MAX; i++)
		if (tracked[i] == pid)
			tracked[i] = 0;
	say('U', pid);
}

/* The node stopped with its VMs: the keeper ends. */
void
fence_end(void)
{
	say('Q', 0);
}
