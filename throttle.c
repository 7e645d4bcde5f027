/* SPDX-License-Identifier: GPL-3.0-or-later */
/* throttle.c -- failed logins counted per (client address, login) and per
 * address, in memory a daemon shares with the children it forks per
 * connection: the L7R's and the WAT's login throttling
 * (PREFIX.auth.throttle.* settings).  One user's typos lock out that
 * user at that address, not the office behind the same NAT; only many
 * failures of many logins lock out the address.  The same wrong password
 * again (a client that retries on its own) counts once: guessing takes
 * new ones. */

#include <sys/mman.h>

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "qvd.h"

/* An empty table (in memory shared with children): 0, or -1. */
int
throttle_init(struct throttle *t)
{
	memset(t, 0, sizeof(*t));
	return RAND_bytes(t->salt, sizeof(t->salt)) == 1 ? 0 : -1;
}

/* A table in anonymous shared memory, made before the children fork. */
struct throttle *
throttle_new(void)
{
	struct throttle *t = mmap(NULL, sizeof(struct throttle),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (t == MAP_FAILED)
		return NULL;
	if (throttle_init(t) == -1) {
		munmap(t, sizeof(*t));
		return NULL;
	}
	return t;
}

/* What tells one tried password from another, salted, never the text. */
static void
tried(const struct throttle *t, const char *login, const char *password,
    unsigned char out[THROTTLE_DIGEST])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, t->salt, sizeof(t->salt));
	EVP_DigestUpdate(ctx, login, strlen(login) + 1);
	EVP_DigestUpdate(ctx, password, strlen(password));
	EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	memcpy(out, md, THROTTLE_DIGEST);
	wipe(md, sizeof(md));
}

/* Was this password tried already (then it counts no more)?  Keeps it. */
static int
tried_before(struct throttle_entry *e, const unsigned char d[THROTTLE_DIGEST])
{
	int i;

	for (i = 0; i < THROTTLE_REMEMBER; i++)
		if (memcmp(e->tried[i], d, THROTTLE_DIGEST) == 0)
			return 1;
	memcpy(e->tried[e->next_tried], d, THROTTLE_DIGEST);
	e->next_tried = (e->next_tried + 1) % THROTTLE_REMEMBER;
	return 0;
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

/*
 * The entry of (addr, login); login "" is the address's own.  With
 * create, the oldest entry is reused for it.
 */
static struct throttle_entry *
entry(struct throttle *t, const unsigned char addr[16], const char *login,
    int create)
{
	struct throttle_entry *e, *oldest = NULL;
	char key[THROTTLE_LOGIN];
	int i;

	memset(key, 0, sizeof(key));
	str_copy(key, login, sizeof(key));	/* a longer one: its start */
	for (i = 0; i < THROTTLE_SLOTS; i++) {
		e = &t->entries[i];
		if (e->used && memcmp(e->addr, addr, 16) == 0 &&
		    memcmp(e->login, key, sizeof(key)) == 0)
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
	memcpy(oldest->login, key, sizeof(key));
	oldest->window_start = wall_ms() / 1000;
	return oldest;
}

static long long
left(struct throttle *t, const unsigned char addr[16], const char *login,
    long long now)
{
	struct throttle_entry *e = entry(t, addr, login, 0);

	return e != NULL && e->blocked_until > now ? e->blocked_until - now : 0;
}

/*
 * Seconds logins of login from addr must still wait: that login's own
 * block there, or the address's.  0 when they may try.
 */
long long
throttle_wait(struct throttle *t, const unsigned char addr[16],
    const char *login)
{
	long long now = wall_ms() / 1000, a, b;

	lock(t);
	a = left(t, addr, login, now);
	b = left(t, addr, "", now);
	unlock(t);
	return a > b ? a : b;
}

static long long
setting(const char *prefix, const char *name)
{
	char key[80];

	str_fmt(key, sizeof(key), "%s.auth.throttle.%s", prefix, name);
	return conf_int(key, 0);
}

/* One more failure of e within .window seconds: 1 when it reaches max. */
static int
count(struct throttle_entry *e, long long now, long long window,
    long long max, long long block)
{
	if (now - e->window_start > window) {
		e->window_start = now;
		e->failures = 0;
	}
	if (++e->failures < max || e->blocked_until > now)
		return 0;
	e->blocked_until = now + block;
	return 1;
}

/*
 * A failed login of login from addr with password: past .failures
 * passwords within .window seconds that login is refused there for
 * .block seconds; past .address.failures of any logins, every login from
 * addr is.  A password that login already tried there counts no more.
 */
void
throttle_failed(struct throttle *t, const unsigned char addr[16],
    const char *login, const char *password, const char *prefix,
    const char *peer)
{
	long long now = wall_ms() / 1000, block = setting(prefix, "block"),
	    window = setting(prefix, "window");
	unsigned char d[THROTTLE_DIGEST];
	struct throttle_entry *e;
	int user_blocked = 0, address_blocked = 0;

	tried(t, login, password, d);
	lock(t);
	e = entry(t, addr, login, 1);
	if (now - e->window_start > window)
		memset(e->tried, 0, sizeof(e->tried));
	if (!tried_before(e, d)) {
		user_blocked = count(e, now, window, setting(prefix,
		    "failures"), block);
		address_blocked = count(entry(t, addr, "", 1), now, window,
		    setting(prefix, "address.failures"), block);
	}
	unlock(t);
	wipe(d, sizeof(d));
	if (user_blocked)
		log_warn("%s: failed logins of '%.64s' from %s; refusing them "
		    "for %lld s", prefix, login, peer, block);
	if (address_blocked)
		log_warn("%s: failed logins of many users from %s; refusing "
		    "every login from it for %lld s", prefix, peer, block);
}
