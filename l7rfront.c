/* SPDX-License-Identifier: GPL-3.0-or-later */
/* l7rfront.c -- the L7R's front workers: event loops, without root, one
 * per CPU, that accept connections, do their TLS handshakes and answer
 * /qvd/ping from the node's shared state, many connections per wake-up.
 * A request that needs more (a login, a session) gets a child of its own
 * (l7rreq.c), forked with the connection's TLS session. */

#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "qvd.h"

#define ACCEPT_BATCH	4	/* connections taken per wake-up: few, so
				   that the workers share them */

struct front_conn {
	struct conn	 c;		/* non-waiting mode */
	struct l7r_slot	*slot;
	char		 peer[64];
	int		 proxy;		/* a PROXY header is to come first */
	int		 handshaking;
	int		 close_after;	/* once the answer is out */
	char		 out[512];	/* an answer being written */
	int		 outlen;
	int		 outoff;
};

static struct front_conn **conns;
static int nconns, conns_cap;
static volatile sig_atomic_t draining;

static void
on_term(int sig)
{
	(void)sig;
	draining = 1;
}

/* ---- slots: the node's view of every connection ---- */

/* Unauthenticated connections from addr but slot's. */
static long long
unauth_from(const unsigned char addr[16], const struct l7r_slot *slot)
{
	struct l7r_shared *sh = l7r_shm();
	long long n = 0;
	int i;

	for (i = 0; i < L7R_MAX_CHILDREN; i++)
		if (sh->slots[i].pid != 0 && &sh->slots[i] != slot &&
		    !sh->slots[i].authenticated &&
		    memcmp(sh->slots[i].addr, addr, 16) == 0)
			n++;
	return n;
}

/*
 * A free slot for a connection from addr, within l7r.limit.*; or NULL.
 * A trusted balancer's connections are counted by their clients'
 * addresses instead, once its PROXY header has named them.
 */
static struct l7r_slot *
claim_slot(const unsigned char addr[16], int balancer)
{
	struct l7r_shared *sh = l7r_shm();
	struct l7r_slot *free_slot = NULL;
	long long used = 0;
	int i;

	l7r_lock();
	for (i = 0; i < L7R_MAX_CHILDREN; i++) {
		if (sh->slots[i].pid == 0) {
			if (free_slot == NULL)
				free_slot = &sh->slots[i];
			continue;
		}
		used++;
	}
	if (free_slot != NULL && used < conf_int("l7r.limit.connections",
	    4096) && (balancer || unauth_from(addr, NULL) <
	    conf_int("l7r.limit.unauthenticated", 16))) {
		memset(free_slot, 0, sizeof(*free_slot));
		free_slot->pid = getpid();
		free_slot->front = 1;
		memcpy(free_slot->addr, addr, 16);
	} else
		free_slot = NULL;
	l7r_unlock();
	return free_slot;
}

/* The PROXY header named the client: its address, within its limit. */
static int
retarget_slot(struct l7r_slot *slot, const unsigned char addr[16])
{
	int ok;

	l7r_lock();
	ok = unauth_from(addr, slot) < conf_int("l7r.limit.unauthenticated",
	    16);
	if (ok)
		memcpy(slot->addr, addr, 16);
	l7r_unlock();
	return ok ? 0 : -1;
}

static void
release_slot(struct l7r_slot *slot)
{
	l7r_lock();
	memset(slot, 0, sizeof(*slot));
	l7r_unlock();
}

/* ---- connections ---- */

static int
request_ms(void)
{
	return (int)conf_int("l7r.timeout.request", 10) * 1000;
}

static void
take(struct node *n, int fd, const struct sockaddr_storage *ss)
{
	struct front_conn *fc;
	struct l7r_slot *slot;
	unsigned char addr[16];
	char peer[64];
	int one = 1, balancer;

	tcp_peer(ss, addr, peer, sizeof(peer));
	balancer = proxy_trusted(addr);
	if ((slot = claim_slot(addr, balancer)) == NULL) {
		log_warn("L7R: too many connections (from %s); closing one",
		    peer);
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fc = xcalloc(1, sizeof(*fc));
	conn_init(&fc->c, fd, request_ms());
	conn_set_deadline(&fc->c, request_ms());
	fc->c.nowait = 1;
	fc->c.want = POLLIN;
	fc->slot = slot;
	fc->proxy = balancer;
	fc->handshaking = n->l7r_tls != NULL;
	str_copy(fc->peer, peer, sizeof(fc->peer));
	if (nconns == conns_cap) {
		conns_cap = conns_cap ? conns_cap * 2 : 64;
		conns = xreallocarray(conns, (size_t)conns_cap,
		    sizeof(*conns));
	}
	conns[nconns++] = fc;
}

static void
accept_batch(struct node *n)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, k;

	for (k = 0; k < ACCEPT_BATCH; k++) {
		sl = sizeof(ss);
		fd = accept4(n->l7r_fd, (struct sockaddr *)&ss, &sl,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1)
			return;		/* none left, or another worker's */
		take(n, fd, &ss);
	}
}

/* Forget a connection here: closed, or now a child's. */
static void
drop(int i)
{
	free(conns[i]);
	conns[i] = conns[--nconns];
}

static void
close_conn(int i)
{
	conn_close(&conns[i]->c);
	release_slot(conns[i]->slot);
	drop(i);
}

/* A last answer (408 for a request that never completed), then close. */
static void
fail_conn(int i, int status)
{
	char out[256];
	int h;

	h = http_format_head(out, sizeof(out), status, "Connection: close\r\n",
	    NULL, 0);
	if (h > 0 && !conns[i]->handshaking)
		conn_write_some(&conns[i]->c, out, (size_t)h);
	close_conn(i);
}

/*
 * The request needs a child: fork it with the connection (its TLS state
 * and the buffered request come along); here only the memory is freed,
 * the TLS session is not shut down.
 */
static void
hand_off(struct node *n, int i)
{
	struct front_conn *fc = conns[i];
	pid_t pid;
	int k;

	if ((pid = fork()) == -1) {
		log_error("L7R: fork: %s", strerror(errno));
		fail_conn(i, 503);
		return;
	}
	if (pid == 0) {
		close(n->l7r_fd);
		for (k = 0; k < nconns; k++)
			if (k != i)
				close(conns[k]->c.fd);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		l7r_lock();
		fc->slot->pid = getpid();
		fc->slot->front = 0;
		l7r_unlock();
		l7r_serve(n, &fc->c, fc->slot, fc->peer);
	}
	l7r_lock();
	if (fc->slot->front) {
		fc->slot->pid = pid;
		fc->slot->front = 0;
	}
	l7r_unlock();
	SSL_free(fc->c.ssl);
	close(fc->c.fd);
	drop(i);
}

/* A whole request, answered here when it is a bare /qvd/ping: 1, else 0. */
static int
answer_ping(struct front_conn *fc, const struct http_msg *m, size_t len)
{
	char path[32];
	int status;

	if (http_path(m, path, sizeof(path)) == -1 ||
	    strcmp(path, "/qvd/ping") != 0 || http_content_length(m) > 0 ||
	    http_header(m, "Transfer-Encoding", NULL) != NULL)
		return 0;
	fc->close_after = !http_keeps_alive(m);
	fc->outlen = l7r_ping_answer(fc->out, sizeof(fc->out),
	    fc->close_after, &status);
	if (fc->outlen < 0)
		return 0;
	fc->outoff = 0;
	conn_consume(&fc->c, len);
	return 1;
}

/*
 * A trusted balancer's PROXY header, before any TLS byte: peeked at, then
 * read exactly.  1 when it is read, 0 to wait for more, -1 to close.
 */
static int
read_proxy_header(struct front_conn *fc)
{
	unsigned char buf[600];
	struct proxy_hdr h;
	ssize_t got;
	int rc;

	got = recv(fc->c.fd, buf, sizeof(buf) < proxy_max_len() ? sizeof(buf) :
	    proxy_max_len(), MSG_PEEK);
	if (got == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (got <= 0)
		return -1;
	if ((rc = proxy_parse(buf, (size_t)got, &h)) <= 0) {
		if (rc == -1)
			log_warn("L7R %s: no valid PROXY header from a balancer "
			    "in l7r.proxy.trusted; closed", fc->peer);
		return rc;
	}
	if (recv(fc->c.fd, buf, h.consumed, 0) != (ssize_t)h.consumed)
		return -1;
	fc->proxy = 0;
	if (h.local)
		return 1;	/* the balancer's own, a health check */
	proxy_addr_text(h.addr, fc->peer, sizeof(fc->peer));
	if (retarget_slot(fc->slot, h.addr) == -1) {
		log_warn("L7R: too many connections (from %s through a "
		    "balancer); closing one", fc->peer);
		return -1;
	}
	return 1;
}

/* Move one connection on as far as it goes without waiting. */
static void
step(struct node *n, int i)
{
	struct front_conn *fc = conns[i];
	struct http_msg m;
	int rc, had;

	if (fc->proxy && (rc = read_proxy_header(fc)) != 1) {
		if (rc == -1)
			close_conn(i);
		return;
	}
	if (fc->handshaking) {
		if ((rc = conn_tls_accept(&fc->c, n->l7r_tls)) == CONN_AGAIN)
			return;
		if (rc == -1) {
			log_debug("L7R %s: TLS: %s", fc->peer, fc->c.err);
			close_conn(i);
			return;
		}
		fc->handshaking = 0;
	}
	for (;;) {
		while (fc->outoff < fc->outlen) {
			rc = conn_write_some(&fc->c, fc->out + fc->outoff,
			    (size_t)(fc->outlen - fc->outoff));
			if (rc == CONN_AGAIN)
				return;
			if (rc < 0) {
				close_conn(i);
				return;
			}
			fc->outoff += rc;
		}
		if (fc->outlen > 0 && fc->close_after) {
			close_conn(i);
			return;
		}
		if (fc->outlen > 0) {
			fc->outlen = fc->outoff = 0;
			conn_set_deadline(&fc->c, (int)conf_int(
			    "l7r.timeout.idle", 60) * 1000);
		}
		rc = http_parse_request(fc->c.rbuf, fc->c.rlen, &m);
		if (rc > 0 && answer_ping(fc, &m, (size_t)rc))
			continue;
		if (rc != HTTP_PARTIAL || fc->c.rlen >= sizeof(fc->c.rbuf)) {
			hand_off(n, i);	/* the child answers, errors too */
			return;
		}
		had = fc->c.rlen > 0;
		if ((rc = conn_fill(&fc->c)) == CONN_AGAIN)
			return;
		if (rc <= 0) {
			close_conn(i);
			return;
		}
		if (!had)
			conn_set_deadline(&fc->c, request_ms());
	}
}

/* Connections whose time ran out: 408 if a request had begun. */
static void
expire(long long now)
{
	int i;

	for (i = nconns - 1; i >= 0; i--)
		if (conns[i]->c.deadline && now >= conns[i]->c.deadline) {
			log_debug("L7R %s: timed out", conns[i]->peer);
			if (conns[i]->c.rlen > 0)
				fail_conn(i, 408);
			else
				close_conn(i);
		}
}

/* Draining: connections waiting for a next request are closed now. */
static void
close_idle(void)
{
	int i;

	for (i = nconns - 1; i >= 0; i--)
		if (!conns[i]->handshaking && conns[i]->c.rlen == 0 &&
		    conns[i]->outlen == 0)
			close_conn(i);
}

static int
poll_timeout(long long now)
{
	long long t = 1000;
	int i;

	for (i = 0; i < nconns; i++)
		if (conns[i]->c.deadline && conns[i]->c.deadline - now < t)
			t = conns[i]->c.deadline - now;
	return t < 0 ? 0 : (int)t;
}

static void NORETURN
serve(struct node *n)
{
	struct pollfd *pfd = NULL;
	int i, cap = 0, got, polled;

	for (;;) {
		if (draining) {
			close_idle();
			if (nconns == 0)
				_exit(0);
		}
		if (cap < nconns + 1) {
			cap = nconns + 64;
			pfd = xreallocarray(pfd, (size_t)cap, sizeof(*pfd));
		}
		pfd[0].fd = draining ? -1 : n->l7r_fd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		for (i = 0; i < nconns; i++) {
			pfd[1 + i].fd = conns[i]->c.fd;
			pfd[1 + i].events = conns[i]->c.want;
		}
		polled = nconns;
		got = poll(pfd, (nfds_t)(polled + 1), poll_timeout(mono_ms()));
		if (got == -1 && errno != EINTR)
			log_error("L7R: poll: %s", strerror(errno));
		/*
		 * From the end: a connection step() drops is replaced by the
		 * last one, which was already seen, so conns[i] below is
		 * still the one polled as pfd[1 + i].
		 */
		for (i = polled - 1; got > 0 && i >= 0; i--)
			if (pfd[1 + i].revents != 0)
				step(n, i);
		if (got > 0 && (pfd[0].revents & POLLIN))
			accept_batch(n);
		expire(mono_ms());
	}
}

/* A front worker: never returns.  Drops privileges, serves until told to
 * drain (SIGTERM: a new configuration, or the node stopping). */
void
l7r_front(struct node *n)
{
	struct sigaction sa;
	char err[256];
	pid_t node = getppid();

	if (n->l7r_drop && proc_drop_privileges(NULL, n->l7r_uid, n->l7r_gid,
	    err, sizeof(err)) == -1) {
		log_error("L7R: %s", err);
		_exit(1);
	}
	/* never outlive the node, even a killed one (after the drop, which
	 * clears this setting) */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != node)
		_exit(0);
	close(n->l7r_notify[0]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGCHLD, SIG_IGN);	/* the kernel reaps the children */
	serve(n);
}
