/* SPDX-License-Identifier: GPL-3.0-or-later */
/* clock.c -- monotonic and wall-clock time helpers. */

#include <errno.h>
#include <time.h>

#include "qvd.h"

long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* "YYYY-MM-DD HH:MM:SS" in UTC, the way timestamps are stored. */
int
fmt_utc(char *out, size_t outsz, long long epoch)
{
	time_t t = (time_t)epoch;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return -1;
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SS" in local time, the way qa shows them. */
int
fmt_local(char *out, size_t outsz, long long epoch)
{
	time_t t = (time_t)epoch;
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return -1;
	return 0;
}
