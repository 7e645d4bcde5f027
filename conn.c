/* SPDX-License-Identifier: GPL-3.0-or-later */
/* conn.c -- buffered, deadline-bounded streams over TCP or TLS sockets. */

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "qvd.h"

int
fd_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl);
}

int
fd_cloexec(int fd)
{
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

void
conn_init(struct conn *c, int fd, int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	fd_nonblock(fd, 1);
}

void
conn_set_deadline(struct conn *c, int ms_from_now)
{
	c->deadline = ms_from_now > 0 ? mono_ms() + ms_from_now : 0;
}

/*
 * Wait for the socket; -1 with c->timed_out set when time ran out.  In
 * the non-waiting mode, CONN_AGAIN at once with what to wait for in
 * c->want: the caller polls and calls again.
 */
static int
wait_fd(struct conn *c, short events)
{
	struct pollfd pfd = { c->fd, events, 0 };
	long long left;
	int ms = c->timeout_ms, r;

	if (c->nowait) {
		c->want = events;
		return CONN_AGAIN;
	}
	if (c->deadline) {
		left = c->deadline - mono_ms();
		if (left <= 0)
			goto timeout;
		if (ms < 0 || left < ms)
			ms = (int)left;
	}
	do
		r = poll(&pfd, 1, ms);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		goto timeout;
	if (r == -1) {
		str_fmt(c->err, sizeof(c->err), "poll: %s", strerror(errno));
		return -1;
	}
	return 0;
timeout:
	c->timed_out = 1;
	str_copy(c->err, "timed out", sizeof(c->err));
	return -1;
}

/* One TLS call, retried while OpenSSL wants the socket. */
static int
ssl_io(struct conn *c, int rc)
{
	int e = SSL_get_error(c->ssl, rc);
	unsigned long code;

	switch (e) {
	case SSL_ERROR_WANT_READ:
		return (e = wait_fd(c, POLLIN)) < 0 ? e : 1;
	case SSL_ERROR_WANT_WRITE:
		return (e = wait_fd(c, POLLOUT)) < 0 ? e : 1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			if (errno == 0 || errno == ECONNRESET || errno == EPIPE)
				return 0;	/* peer went away */
			str_fmt(c->err, sizeof(c->err), "%s", strerror(errno));
			return -1;
		}
		/* FALLTHROUGH */
	default:
		code = ERR_get_error();
		ERR_clear_error();
		str_fmt(c->err, sizeof(c->err), "TLS: %s",
		    code ? ERR_reason_error_string(code) : "protocol error");
		if (c->err[5] == '\0' || strcmp(c->err, "TLS: (null)") == 0)
			str_copy(c->err, "TLS: protocol error", sizeof(c->err));
		return -1;
	}
}

static int
raw_read(struct conn *c, void *p, size_t n)
{
	ssize_t r;
	int k;

	/* Nothing decrypted and waiting: poll first, saving a read that
	 * would only say EAGAIN on a kept-alive connection. */
	if (!c->nowait && (c->ssl == NULL || !SSL_has_pending(c->ssl)) &&
	    wait_fd(c, POLLIN) == -1)
		return -1;
	for (;;) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			errno = 0;
			k = SSL_read(c->ssl, p, (int)(n > 0x40000000 ? 0x40000000 : n));
			if (k > 0)
				return k;
			if ((k = ssl_io(c, k)) <= 0)
				return k;
			continue;
		}
		r = read(c->fd, p, n);
		if (r >= 0)
			return (int)r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			if (errno == ECONNRESET)
				return 0;
			str_fmt(c->err, sizeof(c->err), "read: %s",
			    strerror(errno));
			return -1;
		}
		if ((k = wait_fd(c, POLLIN)) < 0)
			return k;
	}
}

/*
 * Write at least one byte: how many, -1 on error, or CONN_AGAIN in the
 * non-waiting mode (then call again with the same bytes: TLS wants that).
 */
int
conn_write_some(struct conn *c, const void *p, size_t n)
{
	ssize_t r;
	int k;

	if (n > 0x40000000)
		n = 0x40000000;
	for (;;) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			errno = 0;
			if ((k = SSL_write(c->ssl, p, (int)n)) > 0)
				return k;
			if ((k = ssl_io(c, k)) <= 0) {
				if (k == 0)
					str_copy(c->err, "connection closed",
					    sizeof(c->err));
				return k == CONN_AGAIN ? k : -1;
			}
			continue;
		}
		if ((r = send(c->fd, p, n, MSG_NOSIGNAL)) > 0)
			return (int)r;
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((k = wait_fd(c, POLLOUT)) < 0)
				return k;
			continue;
		}
		str_fmt(c->err, sizeof(c->err), "write: %s", strerror(errno));
		return -1;
	}
}

int
conn_write(struct conn *c, const void *buf, size_t n)
{
	const char *p = buf;
	int k;

	while (n > 0) {
		if ((k = conn_write_some(c, p, n)) < 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int
conn_printf(struct conn *c, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = str_vfmt(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	return conn_write(c, buf, (size_t)n);
}

/* Read more into the buffer: bytes added, 0 at end of stream, -1 error
 * (CONN_AGAIN: nothing yet, in the non-waiting mode). */
/* The peer has closed the connection (or its sending half). */
int
conn_peer_gone(const struct conn *c)
{
	struct pollfd p;

	p.fd = c->fd;
	p.events = POLLRDHUP;
	p.revents = 0;
	return poll(&p, 1, 0) == 1 &&
	    (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

int
conn_fill(struct conn *c)
{
	int n;

	if (c->rlen >= sizeof(c->rbuf)) {
		str_copy(c->err, "buffer full", sizeof(c->err));
		return -1;
	}
	n = raw_read(c, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen);
	if (n > 0)
		c->rlen += (size_t)n;
	return n;
}

/* Buffered bytes first, then the socket. */
int
conn_read(struct conn *c, void *p, size_t n)
{
	size_t k;

	if (c->rlen > 0) {
		k = n < c->rlen ? n : c->rlen;
		memcpy(p, c->rbuf, k);
		conn_consume(c, k);
		return (int)k;
	}
	return raw_read(c, p, n);
}

void
conn_consume(struct conn *c, size_t n)
{
	if (n >= c->rlen) {
		c->rlen = 0;
		return;
	}
	memmove(c->rbuf, c->rbuf + n, c->rlen - n);
	c->rlen -= n;
}

/*
 * Read one request or response head.  Returns its length (the message
 * points into c->rbuf; consume it when done), 0 at a clean end of stream
 * before any byte, -1 on error with m->error_status set when the peer
 * deserves an answer (400, 408, 414, 431, 505).
 */
int
conn_read_msg(struct conn *c, struct http_msg *m, int is_request)
{
	int rc, n;

	for (;;) {
		rc = is_request ? http_parse_request(c->rbuf, c->rlen, m) :
		    http_parse_response(c->rbuf, c->rlen, m);
		if (rc > 0)
			return rc;
		if (rc == -1)
			return -1;
		if (c->rlen >= sizeof(c->rbuf)) {
			m->error_status = 431;
			return -1;
		}
		n = conn_fill(c);
		if (n == 0) {
			m->error_status = 0;
			if (c->rlen == 0)
				return 0;
			str_copy(c->err, "connection closed mid-message",
			    sizeof(c->err));
			return -1;
		}
		if (n < 0) {
			m->error_status = c->timed_out && c->rlen > 0 ? 408 : 0;
			return -1;
		}
	}
}

/* Exactly want bytes of body into b (bounded by b->max). */
int
conn_read_body(struct conn *c, size_t want, struct buf *b)
{
	char tmp[8192];
	int n;

	while (want > 0) {
		n = conn_read(c, tmp, want < sizeof(tmp) ? want : sizeof(tmp));
		if (n <= 0) {
			if (n == 0)
				str_copy(c->err, "connection closed mid-body",
				    sizeof(c->err));
			return -1;
		}
		if (buf_add(b, tmp, (size_t)n) == -1) {
			str_copy(c->err, "body too large", sizeof(c->err));
			return -1;
		}
		want -= (size_t)n;
	}
	return 0;
}

static int
handshake(struct conn *c, int server)
{
	int rc;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		rc = server ? SSL_accept(c->ssl) : SSL_connect(c->ssl);
		if (rc == 1)
			return 0;
		if ((rc = ssl_io(c, rc)) <= 0) {
			if (rc == CONN_AGAIN)
				return rc;
			if (rc == 0)
				str_copy(c->err, "connection closed during the "
				    "TLS handshake", sizeof(c->err));
			return -1;
		}
	}
}

/* A TLS session on the connection's socket, reading whole buffers ahead
 * (one read per record instead of two). */
static int
new_session(struct conn *c, SSL_CTX *ctx)
{
	if ((c->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		str_copy(c->err, "cannot create TLS session", sizeof(c->err));
		return -1;
	}
	SSL_set_read_ahead(c->ssl, 1);
	return 0;
}

/* The server's handshake: 0, -1, or CONN_AGAIN (call again to go on). */
int
conn_tls_accept(struct conn *c, SSL_CTX *ctx)
{
	if (c->ssl == NULL && new_session(c, ctx) == -1)
		return -1;
	return handshake(c, 1);
}

static int
is_ip_literal(const char *h)
{
	unsigned char tmp[16];

	return inet_pton(AF_INET, h, tmp) == 1 ||
	    inet_pton(AF_INET6, h, tmp) == 1;
}

/* TLS client handshake; verify_host checks the name (or IP) too. */
int
conn_tls_connect(struct conn *c, SSL_CTX *ctx, const char *hostname,
    int verify_host)
{
	X509_VERIFY_PARAM *vp;

	if (new_session(c, ctx) == -1)
		return -1;
	if (hostname != NULL && !is_ip_literal(hostname))
		SSL_set_tlsext_host_name(c->ssl, hostname);
	if (verify_host && hostname != NULL) {
		vp = SSL_get0_param(c->ssl);
		if (is_ip_literal(hostname))
			X509_VERIFY_PARAM_set1_ip_asc(vp, hostname);
		else
			SSL_set1_host(c->ssl, hostname);
	}
	if (handshake(c, 0) == -1) {
		long v = SSL_get_verify_result(c->ssl);

		if (v != X509_V_OK)
			str_fmt(c->err, sizeof(c->err),
			    "certificate verification failed: %s",
			    X509_verify_cert_error_string(v));
		return -1;
	}
	return 0;
}

void
conn_close(struct conn *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}

/* Connect with a timeout; the socket is returned in blocking mode. */
int
tcp_connect(const char *host, const char *port, int timeout_ms, char *err,
    size_t errsz)
{
	struct addrinfo hints, *res, *ai;
	struct pollfd pfd;
	int fd = -1, rc, soerr, one = 1;
	socklen_t sl;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		str_fmt(err, errsz, "cannot resolve %s: %s", host,
		    gai_strerror(rc));
		return -1;
	}
	str_fmt(err, errsz, "cannot connect to %s:%s", host, port);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd == -1)
			continue;
		rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (rc == -1 && errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			do
				rc = poll(&pfd, 1, timeout_ms);
			while (rc == -1 && errno == EINTR);
			sl = sizeof(soerr);
			if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR,
			    &soerr, &sl) == 0 && soerr == 0)
				rc = 0;
			else {
				errno = rc == 0 ? ETIMEDOUT : (rc == 1 ? soerr :
				    errno);
				rc = -1;
			}
		}
		if (rc == 0)
			break;
		str_fmt(err, errsz, "cannot connect to %s:%s: %s", host, port,
		    strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd != -1) {
		fd_nonblock(fd, 0);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return fd;
}

static int
listen_on(const struct addrinfo *ai, int dual_stack, int backlog)
{
	int fd, one = 1, zero = 0, saved;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6 && dual_stack)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
	    listen(fd, backlog) == 0)
		return fd;
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* The peer of an accepted socket: its address as 16 bytes (IPv4 mapped
 * into IPv6) and as text. */
void
tcp_peer(const struct sockaddr_storage *ss, unsigned char addr[16], char *txt,
    size_t txtsz)
{
	memset(addr, 0, 16);
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		memcpy(addr, &s6->sin6_addr, 16);
		inet_ntop(AF_INET6, &s6->sin6_addr, txt, (socklen_t)txtsz);
		if (str_has_prefix(txt, "::ffff:"))
			memmove(txt, txt + 7, strlen(txt + 7) + 1);
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &s4->sin_addr, 4);
		inet_ntop(AF_INET, &s4->sin_addr, txt, (socklen_t)txtsz);
	}
}

/* A socket connected to a Unix address, abstract when `abstract`. */
int
unix_connect(const char *path, int abstract)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (str_copy(sa.sun_path + abstract, path, sizeof(sa.sun_path) -
	    (size_t)abstract) == -1)
		return errno = ENAMETOOLONG, -1;
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    (size_t)abstract + strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, len) == 0)
		return fd;
	close(fd);
	return -1;
}

/* Listen on addr ("*" for every address) and port. */
int
tcp_listen(const char *addr, const char *port, int backlog, char *err,
    size_t errsz)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, rc, pass;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if (addr != NULL && strcmp(addr, "*") == 0)
		addr = NULL;
	if ((rc = getaddrinfo(addr, port, &hints, &res)) != 0) {
		str_fmt(err, errsz, "cannot resolve %s: %s", addr ? addr : "*",
		    gai_strerror(rc));
		return -1;
	}
	/* Prefer a dual-stack IPv6 socket when listening everywhere. */
	for (pass = 0; pass < 2 && fd == -1; pass++)
		for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
			if ((ai->ai_family == AF_INET6) != (pass == 0))
				continue;
			fd = listen_on(ai, addr == NULL, backlog);
			if (fd == -1)
				str_fmt(err, errsz, "cannot listen on %s:%s: %s",
				    addr ? addr : "*", port, strerror(errno));
		}
	freeaddrinfo(res);
	return fd;
}
