/* SPDX-License-Identifier: GPL-3.0-or-later */
/* x11.c -- just enough of the X11 protocol for qvdclient, without Xlib:
 * DISPLAY and XAUTHORITY, the connection setup, and three requests on the
 * root window (a redirect held, the keyboard layout, the screen size). */

#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

#define X_CHANGE_WINDOW_ATTRIBUTES	2
#define X_CONFIGURE_WINDOW		12
#define X_GET_GEOMETRY			14
#define X_INTERN_ATOM			16
#define X_GET_PROPERTY			20
#define X_GET_INPUT_FOCUS		43
#define X_CW_EVENT_MASK			0x800
#define X_RESIZE_REDIRECT_MASK		0x40000
#define X_SUBSTRUCTURE_NOTIFY_MASK	0x80000
#define X_CONFIG_X			0x1
#define X_CONFIG_Y			0x2
#define X_CONFIG_WIDTH			0x4
#define X_CONFIG_HEIGHT			0x8
#define X_STRUCTURE_NOTIFY_MASK	0x20000
#define X_DESTROY_NOTIFY		17
#define X_MAP_NOTIFY			19
#define X_REPARENT_NOTIFY		21
#define X_CONFIGURE_NOTIFY		22
#define X_ATOM_STRING			31
#define X_ATOM_WM_CLASS			67
#define X_BAD_ACCESS			10
#define X_GENERIC_EVENT			35
#define X_FAMILY_INTERNET		0
#define X_FAMILY_INTERNET6		6
#define X_FAMILY_LOCAL			256
#define X_FAMILY_WILD			65535
#define X_COOKIE_NAME			"MIT-MAGIC-COOKIE-1"

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put16(unsigned char *p, unsigned v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
}

static void
put32(unsigned char *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

static size_t
pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* ---- DISPLAY ---- */

/*
 * "[proto/][host]:N[.S]" as Xlib reads it: host empty, "unix" or a
 * unix/ or local/ prefix is this machine's socket; "/path:N" a socket
 * at that path; any other host is TCP port 6000+N.
 */
int
x11_parse_display(const char *s, struct x11_where *w, char *err,
    size_t errsz)
{
	char host[sizeof(w->host)], num[16];
	const char *colon, *dot, *slash, *why;
	long long n;
	size_t hl;

	memset(w, 0, sizeof(*w));
	if (s == NULL || *s == '\0')
		return str_copy(err, "DISPLAY is not set", errsz), -1;
	if ((colon = strrchr(s, ':')) == NULL)
		goto bad;
	slash = strchr(s, '/');
	if (slash != NULL && slash < colon && s[0] != '/') {
		if (str_has_prefix(s, "unix/") || str_has_prefix(s, "local/"))
			w->local = 1;
		else if (!str_has_prefix(s, "tcp/") &&
		    !str_has_prefix(s, "inet/") && !str_has_prefix(s, "inet6/"))
			goto bad;
		s = slash + 1;
	}
	hl = (size_t)(colon - s);
	if (hl >= sizeof(host) || (hl > 0 && s[hl - 1] == ':'))
		goto bad;		/* too long, or DECnet "host::N" */
	memcpy(host, s, hl);
	host[hl] = '\0';
	dot = strchr(colon + 1, '.');
	hl = dot ? (size_t)(dot - colon - 1) : strlen(colon + 1);
	if (hl == 0 || hl >= sizeof(num))
		goto bad;
	memcpy(num, colon + 1, hl);
	num[hl] = '\0';
	if (num_parse(num, 0, 65535 - 6000, &n, &why) == -1)
		goto bad;
	w->number = (int)n;
	if (dot != NULL && num_parse(dot + 1, 0, 255, &n, &why) == -1)
		goto bad;
	w->screen = dot ? (int)n : 0;
	if (host[0] == '/') {
		str_copy(w->path, host, sizeof(w->path));
		w->local = 1;
	} else if (host[0] == '\0' || strcmp(host, "unix") == 0)
		w->local = 1;
	else if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		str_copy(w->host, host + 1, sizeof(w->host));
	} else
		str_copy(w->host, host, sizeof(w->host));
	return 0;
bad:
	str_fmt(err, errsz, "DISPLAY '%.100s' is not of the form [host]:N[.S]",
	    s);
	return -1;
}

/* This machine's display: its path, or Linux's abstract socket, then the file. */
int
x11_connect_local(const struct x11_where *w, char *err, size_t errsz)
{
	char path[64];
	int fd;

	if (w->path[0] != '\0')
		fd = unix_connect(w->path, 0);
	else {
		str_fmt(path, sizeof(path), "/tmp/.X11-unix/X%d", w->number);
		if ((fd = unix_connect(path, 1)) == -1)
			fd = unix_connect(path, 0);
	}
	if (fd == -1)
		str_copy(err, strerror(errno), errsz);
	return fd;
}

/* ---- XAUTHORITY ---- */

/* One big-endian counted field of an .Xauthority entry; -1 past the end. */
static int
auth_field(const unsigned char *d, size_t len, size_t *off,
    const unsigned char **f, size_t *flen)
{
	if (len - *off < 2)
		return -1;
	*flen = (size_t)d[*off] << 8 | d[*off + 1];
	*off += 2;
	if (len - *off < *flen)
		return -1;
	*f = d + *off;
	*off += *flen;
	return 0;
}

static int
field_is(const unsigned char *f, size_t flen, const void *want, size_t wlen)
{
	return flen == wlen && memcmp(f, want, wlen) == 0;
}

/*
 * The MIT-MAGIC-COOKIE-1 of display `number` for `family`/`addr` in an
 * .Xauthority file's bytes (as Xlib picks it: the first entry whose
 * family and address match, or a wildcard, and whose number matches or
 * is empty).  1 found, 0 none, -1 the file is malformed.
 */
int
x11_auth_find(const unsigned char *d, size_t len, int family,
    const void *addr, size_t addrlen, int number, struct x11_cookie *out)
{
	const unsigned char *a, *n, *name, *data;
	size_t off = 0, al, nl, namel, datal;
	unsigned fam;
	char num[16];

	str_fmt(num, sizeof(num), "%d", number);
	while (off < len) {
		if (len - off < 2)
			return -1;
		fam = (unsigned)d[off] << 8 | d[off + 1];
		off += 2;
		if (auth_field(d, len, &off, &a, &al) == -1 ||
		    auth_field(d, len, &off, &n, &nl) == -1 ||
		    auth_field(d, len, &off, &name, &namel) == -1 ||
		    auth_field(d, len, &off, &data, &datal) == -1)
			return -1;
		if (fam != X_FAMILY_WILD && (fam != (unsigned)family ||
		    !field_is(a, al, addr, addrlen)))
			continue;
		if (nl != 0 && !field_is(n, nl, num, strlen(num)))
			continue;
		if (!field_is(name, namel, X_COOKIE_NAME, strlen(X_COOKIE_NAME))
		    || datal > sizeof(out->data))
			continue;
		memcpy(out->data, data, datal);
		out->len = datal;
		return 1;
	}
	return 0;
}

/* The file's bytes, at most X11_MAX_AUTH_FILE; NULL when unreadable. */
static unsigned char *
read_small_file(const char *path, size_t *len)
{
	unsigned char *d;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	d = xmalloc(X11_MAX_AUTH_FILE);
	*len = 0;
	while (*len < X11_MAX_AUTH_FILE && (n = read(fd, d + *len,
	    X11_MAX_AUTH_FILE - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	return d;
}

/*
 * The cookie for connection fd to display w: from $XAUTHORITY or
 * ~/.Xauthority, for this host's name on a local or loopback connection,
 * else for the peer's address.  1 found, 0 none (the server may not ask
 * for one), -1 the file is malformed; out->len is 0 unless found.
 */
int
x11_auth_lookup(int fd, const struct x11_where *w, struct x11_cookie *out)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const char *file = getenv("XAUTHORITY"), *home = getenv("HOME");
	char path[1100], host[256];
	const void *addr = host;
	size_t alen, len = 0;
	unsigned char *d;
	int family = X_FAMILY_LOCAL, rc;

	out->len = 0;
	if (file == NULL || *file == '\0') {
		if (home == NULL || str_fmt(path, sizeof(path),
		    "%s/.Xauthority", home) == -1)
			return 0;
		file = path;
	}
	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	alen = strlen(host);
	if (!w->local && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET && ((struct sockaddr_in *)&ss)->
		    sin_addr.s_addr != htonl(INADDR_LOOPBACK)) {
			family = X_FAMILY_INTERNET;
			addr = &((struct sockaddr_in *)&ss)->sin_addr;
			alen = 4;
		} else if (ss.ss_family == AF_INET6 && !IN6_IS_ADDR_LOOPBACK(
		    &((struct sockaddr_in6 *)&ss)->sin6_addr)) {
			family = X_FAMILY_INTERNET6;
			addr = &((struct sockaddr_in6 *)&ss)->sin6_addr;
			alen = 16;
		}
	}
	if ((d = read_small_file(file, &len)) == NULL)
		return 0;
	rc = x11_auth_find(d, len, family, addr, alen, w->number, out);
	freezero(d, X11_MAX_AUTH_FILE);
	return rc;
}

/* ---- the connection ---- */

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t k;

	while (n > 0) {
		k = send(fd, c, n, MSG_NOSIGNAL);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Exactly n bytes within the connection's deadline; -1 otherwise. */
static int
read_all(struct x11_conn *x, void *p, size_t n)
{
	struct pollfd pfd = { x->fd, POLLIN, 0 };
	char *c = p;
	ssize_t k;
	long long left;

	while (n > 0) {
		if ((left = x->deadline - mono_ms()) <= 0)
			return errno = ETIMEDOUT, -1;
		k = poll(&pfd, 1, (int)left);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			return k == 0 ? (errno = ETIMEDOUT, -1) : -1;
		k = read(x->fd, c, n);
		if (k == 0)
			return errno = ECONNRESET, -1;
		if (k == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * The server's answer to the connection setup: the default screen's root
 * window and size.  -1 with err for a refusal or a malformed answer.
 */
int
x11_parse_setup(const unsigned char *d, size_t len, int screen,
    struct x11_conn *x, char *err, size_t errsz)
{
	size_t off, vendor, nformats, ndepths, nvisuals;
	int i, j;

	if (len < 32)
		goto short_reply;
	vendor = get16(d + 16);
	nformats = d[21];
	if (screen >= d[20]) {
		str_fmt(err, errsz, "it has no screen %d", screen);
		return -1;
	}
	off = 32 + pad4(vendor) + 8 * nformats;
	for (i = 0; ; i++) {
		if (off > len || len - off < 40)
			goto short_reply;
		if (i == screen)
			break;
		ndepths = d[off + 39];
		off += 40;
		for (j = 0; j < (int)ndepths; j++) {
			if (len - off < 8)
				goto short_reply;
			nvisuals = get16(d + off + 2);
			off += 8;
			if ((len - off) / 24 < nvisuals)
				goto short_reply;
			off += 24 * nvisuals;
		}
	}
	x->root = get32(d + off);
	x->width = (int)get16(d + off + 20);
	x->height = (int)get16(d + off + 22);
	return 0;
short_reply:
	str_copy(err, "its setup answer is malformed", errsz);
	return -1;
}

/* The setup request: little-endian, protocol 11.0, the cookie if any. */
static size_t
setup_request(const struct x11_cookie *ck, unsigned char *req)
{
	size_t n = 12, namelen = ck->len ? strlen(X_COOKIE_NAME) : 0;

	memset(req, 0, 12 + pad4(strlen(X_COOKIE_NAME)) + pad4(ck->len));
	req[0] = 'l';
	put16(req + 2, 11);
	put16(req + 6, (unsigned)namelen);
	put16(req + 8, (unsigned)ck->len);
	if (ck->len > 0) {
		memcpy(req + n, X_COOKIE_NAME, namelen);
		n += pad4(namelen);
		memcpy(req + n, ck->data, ck->len);
		n += pad4(ck->len);
	}
	return n;
}

/* The refusal's reason, printable, from a failed setup's data. */
static void
refusal(const unsigned char *d, size_t n, char *err, size_t errsz)
{
	char why[256];
	size_t i;

	for (i = 0; i < n && i < sizeof(why) - 1 && d[i] != '\0'; i++)
		why[i] = d[i] >= ' ' && d[i] < 127 ? (char)d[i] : '?';
	while (i > 0 && (why[i - 1] == '\n' || why[i - 1] == ' '))
		i--;
	why[i] = '\0';
	str_fmt(err, errsz, "it refused the connection: %s",
	    i ? why : "no reason given (see XAUTHORITY)");
}

/*
 * Setup on connected fd: 0 and x filled, -1 with err; X11_CLOSED when
 * the server closed it unanswered, as one does while it resets (a bare X
 * server whose last client just left): worth a new connection.
 */
int
x11_setup(int fd, const struct x11_where *w, const struct x11_cookie *ck,
    struct x11_conn *x, char *err, size_t errsz)
{
	unsigned char req[12 + 20 + sizeof(ck->data) + 4], head[8], *d;
	size_t n;
	int rc = -1;

	memset(x, 0, sizeof(*x));
	x->fd = fd;
	x->hold_pipe = -1;
	x->deadline = mono_ms() + X11_TIMEOUT_MS;
	n = setup_request(ck, req);
	if (write_all(fd, req, n) == -1 || read_all(x, head, 8) == -1) {
		str_fmt(err, errsz, "it did not answer: %s", strerror(errno));
		return errno == ECONNRESET || errno == EPIPE ? X11_CLOSED : -1;
	}
	n = (size_t)get16(head + 6) * 4;
	d = xmalloc(n + 1);
	if (read_all(x, d, n) == -1) {
		str_fmt(err, errsz, "it did not answer: %s", strerror(errno));
		goto out;
	}
	if (head[0] == 1)
		rc = x11_parse_setup(d, n, w->screen, x, err, errsz);
	else
		refusal(d, head[0] == 0 ? (head[1] < n ? head[1] : n) : n,
		    err, errsz);
out:
	free(d);
	return rc;
}

/* ---- requests ---- */

static int
request(struct x11_conn *x, const unsigned char *req, size_t n)
{
	x->seq = (x->seq + 1) & 0xffff;
	x->deadline = mono_ms() + X11_TIMEOUT_MS;
	return write_all(x->fd, req, n);
}

/*
 * The next message from the server: its 32 bytes in m and, for a reply,
 * up to moresz of its further bytes in more (the rest skipped).  0, or
 * -1 when the connection failed or a length is out of bounds.
 */
static int
next_message(struct x11_conn *x, unsigned char m[32], unsigned char *more,
    size_t moresz)
{
	unsigned char skip[256];
	size_t extra = 0, keep = 0, k;

	if (read_all(x, m, 32) == -1)
		return -1;
	if (m[0] == 1 || (m[0] & 0x7f) == X_GENERIC_EVENT)
		extra = (size_t)get32(m + 4) * 4;
	if (extra > X11_MAX_REPLY)
		return errno = EPROTO, -1;
	if (m[0] == 1) {
		keep = extra < moresz ? extra : moresz;
		if (read_all(x, more, keep) == -1)
			return -1;
	}
	for (extra -= keep; extra > 0; extra -= k) {
		k = extra < sizeof(skip) ? extra : sizeof(skip);
		if (read_all(x, skip, k) == -1)
			return -1;
	}
	return 0;
}

/*
 * An event that came while a request was answered, kept for the holder
 * (the oldest dropped past X11_MAX_PENDING); answers are not kept.
 */
static void
keep_event(struct x11_conn *x, const unsigned char m[32])
{
	if (m[0] < 2)
		return;
	if (x->npending == X11_MAX_PENDING) {
		memmove(x->pending[0], x->pending[1], 32 * (X11_MAX_PENDING - 1));
		x->npending--;
	}
	memcpy(x->pending[x->npending++], m, 32);
}

/* The next event: a kept one first, then from the server.  0 or -1. */
static int
next_event(struct x11_conn *x, unsigned char m[32])
{
	if (x->npending == 0)
		return next_message(x, m, NULL, 0);
	memcpy(m, x->pending[0], 32);
	memmove(x->pending[0], x->pending[1], 32 * (size_t)--x->npending);
	return 0;
}

static int
is_answer(const unsigned char m[32], unsigned seq)
{
	return (m[0] == 0 || m[0] == 1) && get16(m + 2) == seq;
}

/*
 * The answer to the last request: a reply (1; its head in m, up to
 * moresz further bytes in more), an error (0, *code set) or -1 when the
 * connection failed.  Events are skipped.
 */
static int
answer(struct x11_conn *x, unsigned char m[32], unsigned char *more,
    size_t moresz, int *code)
{
	do {
		if (next_message(x, m, more, moresz) == -1)
			return -1;
		keep_event(x, m);
	} while (!is_answer(m, x->seq));
	*code = m[0] == 0 ? m[1] : 0;
	return m[0];
}

/*
 * The error, if any, of the request numbered `seq` (it has no reply):
 * a round trip after it, whose reply comes after any error of it.
 * 0 with *code (0: none), -1 when the connection failed.
 */
static int
error_of(struct x11_conn *x, unsigned seq, int *code)
{
	unsigned char req[4] = { X_GET_INPUT_FOCUS, 0, 1, 0 }, m[32];

	*code = 0;
	if (request(x, req, sizeof(req)) == -1)
		return -1;
	do {
		if (next_message(x, m, NULL, 0) == -1)
			return -1;
		keep_event(x, m);
		if (m[0] == 0 && get16(m + 2) == seq)
			*code = m[1];
	} while (!is_answer(m, x->seq) || m[0] != 1);
	return 0;
}

/* The atom of an existing name, 0 if none, -1 on failure. */
static long
intern_atom(struct x11_conn *x, const char *name)
{
	unsigned char req[4 + 4 + 64], rep[32];
	size_t n = strlen(name);
	int code = 0, r;

	if (n > 64)
		return -1;
	memset(req, 0, sizeof(req));
	req[0] = X_INTERN_ATOM;
	req[1] = 1;		/* only if it exists */
	put16(req + 2, (unsigned)(2 + pad4(n) / 4));
	put16(req + 4, (unsigned)n);
	memcpy(req + 8, name, n);
	if (request(x, req, 8 + pad4(n)) == -1 ||
	    (r = answer(x, rep, NULL, 0, &code)) == -1)
		return -1;
	return r == 1 ? (long)get32(rep + 8) : -1;
}

/*
 * An 8-bit property of window w (of type type, 0 any): its bytes, up to
 * valuesz, into value; their count, or -1 when it is not there.
 */
static long
get_property(struct x11_conn *x, uint32_t w, uint32_t atom, uint32_t type,
    unsigned char *value, size_t valuesz)
{
	unsigned char req[24], rep[32];
	size_t n;
	int code;

	req[0] = X_GET_PROPERTY;
	req[1] = 0;
	put16(req + 2, 6);
	put32(req + 4, w);
	put32(req + 8, atom);
	put32(req + 12, type);
	put32(req + 16, 0);
	put32(req + 20, (uint32_t)(valuesz / 4));
	if (request(x, req, sizeof(req)) == -1 ||
	    answer(x, rep, value, valuesz, &code) != 1 || rep[1] != 8)
		return -1;
	n = get32(rep + 16);
	return (long)(n < valuesz ? n : valuesz);
}

/* Select events on window w (replacing this client's selection there). */
static int
select_events(struct x11_conn *x, uint32_t w, uint32_t mask)
{
	unsigned char req[16];

	req[0] = X_CHANGE_WINDOW_ATTRIBUTES;
	req[1] = 0;
	put16(req + 2, 4);
	put32(req + 4, w);
	put32(req + 8, X_CW_EVENT_MASK);
	put32(req + 12, mask);
	return request(x, req, sizeof(req));
}

/*
 * The first layout of the XKB rules names (rules, model, layout,
 * variant, options; NUL-separated) as nxagent's "model/layout".
 * -1 when absent or not of letters, digits and _ -.
 */
int
x11_parse_xkb_names(const unsigned char *v, size_t len, char *out,
    size_t outsz)
{
	char tmp[256], *f[3] = { tmp, tmp, tmp };
	size_t i, k = 0, start = 0;

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, v, len);
	tmp[len] = '\0';
	for (i = 0; i <= len && k < 3; i++)
		if (i == len || tmp[i] == '\0') {
			f[k++] = tmp + start;
			start = i + 1;
		}
	if (k < 3)
		return -1;
	f[2][strcspn(f[2], ",")] = '\0';
	if (*f[1] == '\0' || *f[2] == '\0' || str_fmt(out, outsz, "%s/%s",
	    f[1], f[2]) == -1 || !nx_value_ok(out))
		return -1;
	return 0;
}

/* The display's keyboard as "model/layout" (e.g. pc105/de); -1 unknown. */
int
x11_keyboard(struct x11_conn *x, char *out, size_t outsz)
{
	unsigned char value[256];
	long atom = intern_atom(x, "_XKB_RULES_NAMES"), n;

	if (atom <= 0 || (n = get_property(x, x->root, (uint32_t)atom, 0, value,
	    sizeof(value))) == -1)
		return -1;
	return x11_parse_xkb_names(value, (size_t)n, out, outsz);
}

/* Select these events on the root window, beside those selected. */
static int
select_root(struct x11_conn *x, uint32_t mask, int *code)
{
	if (select_events(x, x->root, x->events | mask) == -1 ||
	    error_of(x, x->seq, code) == -1)
		return -1;
	if (*code == 0)
		x->events |= mask;
	return 0;
}

/*
 * Select ResizeRedirect on the root window.  One client at a time may,
 * and window managers select it with SubstructureRedirect: nxagent asks
 * for all three and, refused, knows a window manager is there and
 * honours the geometry asked; on a bare X server it would take 3/4 of
 * the screen.  No event ever comes of it (nobody resizes the root).
 * 1 held, 0 another client holds it, -1 the connection failed.
 */
int
x11_hold_resize_redirect(struct x11_conn *x)
{
	int code;

	if (select_root(x, X_RESIZE_REDIRECT_MASK, &code) == -1)
		return -1;
	return code == X_BAD_ACCESS ? 0 : (code == 0 ? 1 : -1);
}

/* Is window w nxagent's (its WM_CLASS says NXAgent)? */
static int
is_nxagent(struct x11_conn *x, uint32_t w)
{
	unsigned char value[64];
	long n = get_property(x, w, X_ATOM_WM_CLASS, X_ATOM_STRING, value,
	    sizeof(value));

	return n > 0 && memmem(value, (size_t)n, "NXAgent", 7) != NULL;
}

/* Window w's size; -1 when it is gone. */
static int
window_size(struct x11_conn *x, uint32_t w, int *width, int *height)
{
	unsigned char req[8], rep[32];
	int code;

	req[0] = X_GET_GEOMETRY;
	req[1] = 0;
	put16(req + 2, 2);
	put32(req + 4, w);
	if (request(x, req, sizeof(req)) == -1 ||
	    answer(x, rep, NULL, 0, &code) != 1)
		return -1;
	*width = (int)get16(rep + 16);
	*height = (int)get16(rep + 18);
	return 0;
}

/* nxagent's window as the holder follows it (fit_window). */
struct fitting {
	const struct x11_fit *want;
	uint32_t	 agent;		/* 0: none seen */
	int		 corrections;
	long long	 until;		/* mono_ms(): no corrections after */
};

/*
 * Ask for the size wanted, unless the window has it or fills the screen;
 * the whole screen (full screen asked) from its top left corner.
 */
static void
correct(struct x11_conn *x, struct fitting *f, int width, int height)
{
	unsigned char req[28];
	int whole = f->want->width == x->width && f->want->height ==
	    x->height;

	if ((width == f->want->width && height == f->want->height) ||
	    (width == x->width && height == x->height) ||
	    f->corrections >= X11_FIT_MAX || mono_ms() > f->until)
		return;
	req[0] = X_CONFIGURE_WINDOW;
	req[1] = 0;
	put16(req + 2, whole ? 7 : 5);
	put32(req + 4, f->agent);
	put16(req + 8, X_CONFIG_WIDTH | X_CONFIG_HEIGHT |
	    (whole ? X_CONFIG_X | X_CONFIG_Y : 0));
	put16(req + 10, 0);
	if (whole) {
		put32(req + 12, 0);
		put32(req + 16, 0);
	}
	put32(req + 12 + (whole ? 8 : 0), (uint32_t)f->want->width);
	put32(req + 16 + (whole ? 8 : 0), (uint32_t)f->want->height);
	if (request(x, req, whole ? 28 : 20) == 0) {
		f->corrections++;
		log_info("the desktop's window resized from %dx%d to %dx%d",
		    width, height, f->want->width, f->want->height);
	}
}

/*
 * nxagent's window to the size asked: a resumed nxagent sizes its window
 * for the session's first screen (even bigger than this one), and once
 * more a moment after it maps; it follows a resize of its window with
 * its desktop, as when a window manager resizes it.  So, for a few
 * seconds after it maps, each size it takes is corrected (a full-screen
 * one is left).  m: an event selected on the root or on that window.
 */
static void
fit_window(struct x11_conn *x, struct fitting *f, const unsigned char *m)
{
	uint32_t event = get32(m + 4), w = get32(m + 8);
	int width, height;

	switch (m[0] & 0x7f) {
	case X_MAP_NOTIFY:
	case X_REPARENT_NOTIFY:
		if (event != x->root || w == f->agent || !is_nxagent(x, w) ||
		    window_size(x, w, &width, &height) == -1)
			return;
		f->agent = w;
		f->corrections = 0;
		f->until = mono_ms() + X11_FIT_SETTLE_MS;
		select_events(x, w, X_STRUCTURE_NOTIFY_MASK);
		correct(x, f, width, height);
		break;
	case X_CONFIGURE_NOTIFY:
		if (event == f->agent && w == f->agent)
			correct(x, f, (int)get16(m + 20), (int)get16(m + 22));
		break;
	case X_DESTROY_NOTIFY:
		if (w == f->agent)
			f->agent = 0;
		break;
	}
}

/* The holding child: until the X server or the parent goes. */
static void NORETURN
hold(struct x11_conn *x, int lifeline, const struct x11_fit *want)
{
	struct fitting f = { want, 0, 0, 0 };
	struct pollfd p[2];
	unsigned char m[32];

	p[0].fd = x->fd;
	p[1].fd = lifeline;
	p[0].events = p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents != 0)
			break;
		if (p[0].revents == 0)
			continue;
		x->deadline = mono_ms() + X11_TIMEOUT_MS;
		do {	/* and those that came while requests were answered */
			if (next_event(x, m) == -1)
				_exit(0);
			if (want != NULL)
				fit_window(x, &f, m);
		} while (x->npending > 0);
	}
	_exit(0);
}

/*
 * Hold the connection open in a child until the X server closes it or
 * this process ends (the pipe's other end): a bare X server resets when
 * its last client leaves, and nxproxy's first client of it is only a
 * probe.  With fit, the child also sizes nxagent's window (fit_window).  Its pid, or -1; x->fd is closed here either way.
 */
pid_t
x11_hold(struct x11_conn *x, const struct x11_fit *fit)
{
	int pp[2], code = 0;
	pid_t pid;

	if (fit != NULL && (select_root(x, X_SUBSTRUCTURE_NOTIFY_MASK,
	    &code) == -1 || code != 0))
		fit = NULL;
	if (pipe2(pp, O_CLOEXEC) == -1) {
		x11_close(x);
		return -1;
	}
	if ((pid = fork()) == 0) {
		close(pp[1]);
		hold(x, pp[0], fit);
	}
	close(pp[0]);
	x11_close(x);
	if (pid == -1) {
		close(pp[1]);
		return -1;
	}
	x->hold_pipe = pp[1];	/* closed at exit, or by x11_release() */
	return pid;
}

/* End the holding child (its pid from x11_hold). */
void
x11_release(struct x11_conn *x, pid_t holder)
{
	if (x->hold_pipe >= 0) {
		close(x->hold_pipe);
		x->hold_pipe = -1;
	}
	if (holder > 0)
		proc_wait(holder, 1000, &(int){ 0 });
}

void
x11_close(struct x11_conn *x)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
}
