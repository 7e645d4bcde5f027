/* SPDX-License-Identifier: GPL-3.0-or-later */
/* log.c -- leveled logging to a file, syslog and/or stderr. */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "qvd.h"

static struct {
	char		 ident[32];
	enum log_level	 level;
	int		 fd;		/* log.filename, -1 if none */
	int		 use_syslog;
	int		 use_stderr;
} logger = { "qvd", LVL_INFO, -1, 0, 1 };

static const char *level_names[] = {
	"ALL", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"
};

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(level_names); i++)
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	if (strcasecmp(s, "WARNING") == 0) {
		*out = LVL_WARN;
		return 0;
	}
	return -1;
}

int
log_open(const char *ident, enum log_level level, const char *filename,
    int use_syslog, int use_stderr)
{
	log_close();
	str_copy(logger.ident, ident, sizeof(logger.ident));
	logger.level = level;
	logger.use_syslog = use_syslog;
	logger.use_stderr = use_stderr;
	if (use_syslog)
		openlog(logger.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	if (filename != NULL && *filename != '\0' && level != LVL_OFF) {
		logger.fd = open(filename,
		    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (logger.fd == -1)
			return -1;
	}
	return 0;
}

/* Open the log as log.level, the file key (log.filename, or a daemon's
 * own such as wat.log.filename) and log.syslog say. */
int
log_open_from_conf(const char *ident, const char *file_key, int use_stderr)
{
	enum log_level level = LVL_INFO;
	const char *lv = conf_get("log.level");

	if (lv != NULL && log_level_parse(lv, &level) == -1)
		level = LVL_INFO;
	return log_open(ident, level, conf_get(file_key),
	    conf_bool("log.syslog"), use_stderr);
}

void
log_close(void)
{
	if (logger.fd != -1)
		close(logger.fd);
	logger.fd = -1;
	if (logger.use_syslog)
		closelog();
	logger.use_syslog = 0;
}

/* The log file's descriptor (-1 if none), kept open across forks. */
int
log_fd(void)
{
	return logger.fd;
}

int
log_enabled(enum log_level level)
{
	return level >= logger.level && logger.level != LVL_OFF;
}

static int
syslog_priority(enum log_level level)
{
	switch (level) {
	case LVL_DEBUG:
	case LVL_ALL:
		return LOG_DEBUG;
	case LVL_INFO:
		return LOG_INFO;
	case LVL_WARN:
		return LOG_WARNING;
	case LVL_ERROR:
		return LOG_ERR;
	default:
		return LOG_CRIT;
	}
}

/* A failed log write has nowhere left to be reported. */
static void
write_quietly(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w <= 0 && errno != EINTR)
			return;
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		}
	}
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char msg[2048], line[2200], stamp[32];
	struct tm tm;
	time_t now;
	int n, saved = errno;

	if (!log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);	/* truncation is acceptable */
	if (logger.use_syslog)
		syslog(syslog_priority(level), "%s", msg);
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s %s[%d] %s: %s\n", stamp,
	    logger.ident, (int)getpid(), level_names[level], msg);
	if (n < 0)
		goto out;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (logger.fd != -1)
		write_quietly(logger.fd, line, (size_t)n);
	if (logger.use_stderr)
		write_quietly(STDERR_FILENO, line, (size_t)n);
out:
	errno = saved;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}
