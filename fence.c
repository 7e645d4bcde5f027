/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fence.c -- the node's lease on its VMs.  Every heartbeat the database
 * accepted renews it; when it runs out (the node has been cut off from
 * the database for internal.hkd.cluster.node.lease seconds), a timer
 * signal kills every VM of the node at once, whatever the HKD is blocked
 * in.  The other nodes mark a node lost only after the longer
 * internal.hkd.cluster.node.timeout, so a VM they start again elsewhere
 * never runs twice.
 */

#include <sys/time.h>

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "qvd.h"

#define FENCE_MAX	4096	/* VMs one node runs at most */

static volatile sig_atomic_t pids[FENCE_MAX];
static volatile sig_atomic_t fired;
static long long lease_ms;
static long long deadline;	/* mono_ms() the lease ends, 0 = not yet */

static void
on_alarm(int sig)
{
	int i, saved = errno;

	(void)sig;
	for (i = 0; i < FENCE_MAX; i++)
		if (pids[i] > 0)
			kill((pid_t)pids[i], SIGKILL);
	fired = 1;
	errno = saved;
}

static void
arm(long long ms)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	if (ms < 1)
		ms = 1;
	it.it_value.tv_sec = (time_t)(ms / 1000);
	it.it_value.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	/* and again every second while the lease stays lost */
	it.it_interval.tv_sec = 1;
	setitimer(ITIMER_REAL, &it, NULL);
}

/* Fencing after lease_s seconds without a renewal; 0 turns it off. */
void
fence_init(long long lease_s)
{
	struct sigaction sa;

	lease_ms = lease_s * 1000;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
}

/* The database took a heartbeat sent at sent_ms: the lease runs from it. */
void
fence_renew(long long sent_ms)
{
	if (lease_ms == 0)
		return;
	deadline = sent_ms + lease_ms;
	arm(deadline - mono_ms());
}

/* Seconds of lease left, or -1 before the first renewal. */
long long
fence_left_ms(void)
{
	long long left;

	if (deadline == 0)
		return -1;
	left = deadline - mono_ms();
	return left > 0 ? left : 0;
}

/* The lease ran out: 1 once per expiry, for the HKD to say so. */
int
fence_fired(void)
{
	if (!fired)
		return 0;
	fired = 0;
	return 1;
}

static void
block_alarm(sigset_t *old)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	sigprocmask(SIG_BLOCK, &s, old);
}

/* A VM's process (its container's init) to kill when the lease ends. */
void
fence_track(pid_t pid)
{
	sigset_t old;
	int i, kept = 0;

	if (pid <= 0)
		return;
	block_alarm(&old);
	for (i = 0; i < FENCE_MAX && !kept; i++)
		kept = pids[i] == pid;
	for (i = 0; i < FENCE_MAX && !kept; i++)
		if (pids[i] == 0) {
			pids[i] = pid;
			kept = 1;
		}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (!kept)
		log_error("fence: more than %d VMs; pid %d is not fenced",
		    FENCE_MAX, (int)pid);
}

void
fence_untrack(pid_t pid)
{
	sigset_t old;
	int i;

	if (pid <= 0)
		return;
	block_alarm(&old);
	for (i = 0; i < FENCE_MAX; i++)
		if (pids[i] == pid)
			pids[i] = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
}
