/* SPDX-License-Identifier: GPL-3.0-or-later */
/* throttle.c -- failed logins counted per client address, in memory that
 * a daemon shares with the children it forks per connection: the L7R's
 * and the WAT's login throttling (PREFIX.auth.throttle.* settings). */

#include <sys/mman.h>

#include <stdio.h>
#include <string.h>

#include "qvd.h"

/* A table in anonymous shared memory, made before the children fork. */
struct throttle *
throttle_new(void)
{
	void *p = mmap(NULL, sizeof(struct throttle), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void
lock(struct throttle *t)
{
	while (__atomic_test_and_set(&t->lock, __ATOMIC_ACQUIRE))
		sleep_ms(0);
}

static void
unlock(struct throttle *t)
{
	__atomic_clear(&t->lock, __ATOMIC_RELEASE);
}

/* The address's entry; with create, the oldest one is reused for it. */
static struct throttle_entry *
entry(struct throttle *t, const unsigned char addr[16], int create)
{
	struct throttle_entry *e, *oldest = NULL;
	int i;

	for (i = 0; i < THROTTLE_SLOTS; i++) {
		e = &t->entries[i];
		if (e->used && memcmp(e->addr, addr, 16) == 0)
			return e;
		if (oldest == NULL || !e->used || (oldest->used &&
		    e->window_start < oldest->window_start))
			oldest = e;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	oldest->used = 1;
	memcpy(oldest->addr, addr, 16);
	oldest->window_start = wall_ms() / 1000;
	return oldest;
}

/* Seconds this address must still wait after too many failed logins. */
long long
throttle_wait(struct throttle *t, const unsigned char addr[16])
{
	struct throttle_entry *e;
	long long left = 0, now = wall_ms() / 1000;

	lock(t);
	if ((e = entry(t, addr, 0)) != NULL && e->blocked_until > now)
		left = e->blocked_until - now;
	unlock(t);
	return left;
}

static long long
setting(const char *prefix, const char *name)
{
	char key[64];

	str_fmt(key, sizeof(key), "%s.auth.throttle.%s", prefix, name);
	return conf_int(key, 0);
}

/* One more failed login from addr; past PREFIX.auth.throttle.failures
 * within .window seconds, its logins are refused for .block seconds. */
void
throttle_failed(struct throttle *t, const unsigned char addr[16],
    const char *prefix, const char *peer)
{
	struct throttle_entry *e;
	long long now = wall_ms() / 1000, block = setting(prefix, "block");

	lock(t);
	e = entry(t, addr, 1);
	if (now - e->window_start > setting(prefix, "window")) {
		e->window_start = now;
		e->failures = 0;
	}
	if (++e->failures >= setting(prefix, "failures") &&
	    e->blocked_until <= now) {
		e->blocked_until = now + block;
		log_warn("%s: %d failed logins from %s; refusing its logins "
		    "for %lld s", prefix, e->failures, peer, block);
	}
	unlock(t);
}
