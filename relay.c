/* SPDX-License-Identifier: GPL-3.0-or-later */
/* relay.c -- pumps bytes both ways between a (TLS) connection and a plain
 * socket until either side closes: the NX tunnel of the L7R and client. */

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "qvd.h"

#define RELAY_BUF	(64 * 1024)

struct half {
	char	*buf;
	size_t	 len;		/* pending bytes */
	size_t	 off;
	int	 eof;
};

/* h now holds n fresh bytes (n > 0): 1, for progress. */
static int
filled(struct half *h, size_t n)
{
	h->len = n;
	h->off = 0;
	return 1;
}

/* n bytes of h were written: 1, for progress. */
static int
drained(struct half *h, size_t n)
{
	h->off += n;
	if (h->off == h->len)
		h->len = h->off = 0;
	return 1;
}

/* An SSL_read/SSL_write that did nothing: 0 to wait, -1 closed. */
static int
tls_wait(struct conn *c, int n)
{
	switch (SSL_get_error(c->ssl, n)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	default:
		return -1;
	}
}

/* Read a plain socket; 1 progress, 0 nothing now, -1 closed. */
static int
read_fd(int fd, struct half *h)
{
	ssize_t n = read(fd, h->buf, RELAY_BUF);

	if (n > 0)
		return filled(h, (size_t)n);
	return n == -1 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
}

static int
write_fd(int fd, struct half *h)
{
	ssize_t n = send(fd, h->buf + h->off, h->len - h->off, MSG_NOSIGNAL);

	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	return drained(h, (size_t)n);
}

/* The connection side: its read-ahead first, then TLS or plain. */
static int
read_conn(struct conn *c, struct half *h)
{
	int n;

	if (c->rlen > 0) {		/* bytes read ahead with the head */
		n = (int)(c->rlen < RELAY_BUF ? c->rlen : RELAY_BUF);
		memcpy(h->buf, c->rbuf, (size_t)n);
		conn_consume(c, (size_t)n);
		return filled(h, (size_t)n);
	}
	if (c->ssl == NULL)
		return read_fd(c->fd, h);
	ERR_clear_error();
	n = SSL_read(c->ssl, h->buf, RELAY_BUF);
	return n > 0 ? filled(h, (size_t)n) : tls_wait(c, n);
}

static int
write_conn(struct conn *c, struct half *h)
{
	int n;

	if (c->ssl == NULL)
		return write_fd(c->fd, h);
	ERR_clear_error();
	n = SSL_write(c->ssl, h->buf + h->off, (int)(h->len - h->off));
	return n > 0 ? drained(h, (size_t)n) : tls_wait(c, n);
}

/*
 * One direction, connection to fd (from_conn) or back: read when the
 * buffer is empty, write what it holds.  1 progress, 0 none, -1 when the
 * receiving side is gone.
 */
static int
move(struct half *h, struct conn *c, int fd, int from_conn,
    unsigned long long *count)
{
	int r, progress = 0;

	if (h->len == 0 && !h->eof) {
		r = from_conn ? read_conn(c, h) : read_fd(fd, h);
		if (r < 0)
			h->eof = 1;
		else if (r > 0) {
			*count += h->len;
			progress = 1;
		}
	}
	if (h->len > 0) {
		if ((r = from_conn ? write_fd(fd, h) : write_conn(c, h)) < 0)
			return -1;
		progress |= r;
	}
	return progress;
}

/*
 * Relay between c (its read-ahead included) and fd until either closes,
 * or *stop becomes non-zero.  Returns 0; the byte counts and the side
 * that ended it go to stats.
 */
int
relay_run(struct conn *c, int fd, volatile sig_atomic_t *stop,
    struct relay_stats *stats)
{
	struct half up = { NULL, 0, 0, 0 }, down = { NULL, 0, 0, 0 };
	struct pollfd p[2];
	int r, progress;

	up.buf = xmalloc(RELAY_BUF);	/* conn -> fd */
	down.buf = xmalloc(RELAY_BUF);	/* fd -> conn */
	fd_nonblock(c->fd, 1);
	fd_nonblock(fd, 1);
	memset(stats, 0, sizeof(*stats));
	while (stop == NULL || !*stop) {
		/* move what can move without waiting */
		if ((progress = move(&up, c, fd, 1, &stats->up)) < 0) {
			stats->end = RELAY_FD_ENDED;
			break;
		}
		if ((r = move(&down, c, fd, 0, &stats->down)) < 0) {
			stats->end = RELAY_CONN_ENDED;
			break;
		}
		progress |= r;
		if ((up.eof && up.len == 0) || (down.eof && down.len == 0)) {
			stats->end = up.eof ? RELAY_CONN_ENDED : RELAY_FD_ENDED;
			break;
		}
		if (progress || (c->ssl != NULL && SSL_has_pending(c->ssl)))
			continue;
		p[0].fd = c->fd;
		p[0].events = (up.len == 0 ? POLLIN : 0) |
		    (down.len > 0 ? POLLOUT : 0);
		p[1].fd = fd;
		p[1].events = (down.len == 0 ? POLLIN : 0) |
		    (up.len > 0 ? POLLOUT : 0);
		if (c->ssl != NULL && (up.len == 0 || down.len > 0))
			p[0].events |= POLLIN;	/* TLS may read to write */
		if (poll(p, 2, 1000) == -1 && errno != EINTR)
			break;
	}
	/* let the other side see the end */
	shutdown(fd, SHUT_WR);
	free(up.buf);
	free(down.buf);
	return 0;
}
