/* SPDX-License-Identifier: GPL-3.0-or-later */
/* qmp.c -- a client of QEMU's machine protocol (QMP) on a Unix socket:
 * the greeting, capabilities negotiation, then one command at a time,
 * each reply bounded and read against a deadline. */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

#define QMP_LINE_MAX	(64 * 1024)
#define QMP_TOKENS	2048

struct qmp_reader {
	int	 fd;
	char	 buf[QMP_LINE_MAX];
	size_t	 len;
};

static struct qmp_reader reader = { -1, { 0 }, 0 };

/* The next line (one JSON message) into reader.buf, NUL-terminated. */
static int
read_line(long long deadline, char *err, size_t errsz)
{
	struct pollfd pfd = { reader.fd, POLLIN, 0 };
	char *nl;
	ssize_t n;
	int left;

	for (;;) {
		if ((nl = memchr(reader.buf, '\n', reader.len)) != NULL) {
			*nl = '\0';
			return (int)(nl - reader.buf);
		}
		if (reader.len >= sizeof(reader.buf) - 1) {
			str_copy(err, "QMP: a message too long", errsz);
			return -1;
		}
		if ((left = (int)(deadline - mono_ms())) <= 0) {
			str_copy(err, "QMP: no answer in time", errsz);
			return -1;
		}
		if (poll(&pfd, 1, left) <= 0)
			continue;
		n = read(reader.fd, reader.buf + reader.len,
		    sizeof(reader.buf) - 1 - reader.len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			str_copy(err, "QMP: the monitor closed", errsz);
			return -1;
		}
		reader.len += (size_t)n;
	}
}

static int
write_full(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, s, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
drop_line(int linelen)
{
	size_t used = (size_t)linelen + 1;

	memmove(reader.buf, reader.buf + used, reader.len - used);
	reader.len -= used;
}

/*
 * Send one command and wait for its answer, skipping events.  The
 * "return" value's JSON text goes to reply (when not NULL).
 */
static int
exchange(const char *command, long long deadline, char *reply,
    size_t replysz, char *err, size_t errsz)
{
	struct json_tok t[QMP_TOKENS];
	int len, n, v;

	if (write_full(reader.fd, command, strlen(command)) == -1) {
		str_fmt(err, errsz, "QMP: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		if ((len = read_line(deadline, err, errsz)) == -1)
			return -1;
		n = json_parse(reader.buf, (size_t)len, t, QMP_TOKENS);
		if (n > 0 && t[0].type == JSON_OBJECT) {
			if ((v = json_obj_get(reader.buf, t, n, 0, "return")) >=
			    0) {
				if (reply != NULL)
					str_fmt(reply, replysz, "%.*s",
					    t[v].end - t[v].start,
					    reader.buf + t[v].start);
				drop_line(len);
				return 0;
			}
			if ((v = json_obj_get(reader.buf, t, n, 0, "error")) >=
			    0) {
				str_fmt(err, errsz, "QMP: %.*s", t[v].end -
				    t[v].start, reader.buf + t[v].start);
				drop_line(len);
				return -1;
			}
		}
		drop_line(len);	/* the greeting's echo, or an event */
	}
}

/* Connected to the monitor at path and in command mode; -1 with err. */
int
qmp_open(const char *path, int timeout_ms, char *err, size_t errsz)
{
	long long deadline = mono_ms() + timeout_ms;
	int len;

	reader.len = 0;
	if ((reader.fd = unix_connect(path, 0)) == -1) {
		str_fmt(err, errsz, "QMP: cannot connect to %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if ((len = read_line(deadline, err, errsz)) == -1 ||
	    strstr(reader.buf, "\"QMP\"") == NULL) {
		if (len != -1)
			str_copy(err, "QMP: no greeting", errsz);
		qmp_close();
		return -1;
	}
	drop_line(len);
	if (exchange("{\"execute\":\"qmp_capabilities\"}\n", deadline, NULL, 0,
	    err, errsz) == -1) {
		qmp_close();
		return -1;
	}
	return 0;
}

/* One command without arguments (query-vnc, system_powerdown, ...). */
int
qmp_execute(const char *command, int timeout_ms, char *reply, size_t replysz,
    char *err, size_t errsz)
{
	char line[128];

	if (reader.fd < 0) {
		str_copy(err, "QMP: not connected", errsz);
		return -1;
	}
	str_fmt(line, sizeof(line), "{\"execute\":\"%s\"}\n", command);
	return exchange(line, mono_ms() + timeout_ms, reply, replysz, err,
	    errsz);
}

void
qmp_close(void)
{
	if (reader.fd >= 0)
		close(reader.fd);
	reader.fd = -1;
	reader.len = 0;
}
