/* SPDX-License-Identifier: GPL-3.0-or-later */
/* t_attime.c -- at(1) time specifications of manual chapter 14. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qvd.h"
#include "tap.h"

static time_t now;

static time_t
at(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm);
}

static void
is_time(const char *spec, time_t want)
{
	char err[256], *copy = tap_copy(spec, strlen(spec) + 1);
	time_t got = 0;
	int rc = attime_parse(copy, now, &got, err, sizeof(err));

	free(copy);
	ok(rc == 0 && got == want, "'%s'", spec);
	if (rc != 0)
		tap_diag("  %s", err);
	else if (got != want)
		tap_diag("  got %lld, want %lld (off by %lld s)", (long long)got,
		    (long long)want, (long long)(got - want));
}

static void
refused(const char *spec)
{
	char err[256];
	time_t got;
	int rc = attime_parse(spec, now, &got, err, sizeof(err));

	ok(rc == -1 && strstr(err, "cannot read time") != NULL,
	    "'%s' refused: %s", spec, rc == -1 ? err : "(accepted)");
}

int
main(void)
{
	char err[256];
	time_t got;
	size_t i, k;
	static const char *fuzz[] = { "12:00 NEXT SAT", "noon Jul 4 2027",
	    "now + 2 hours", "07/04/2027" };

	setenv("TZ", "UTC", 1);
	tzset();
	now = at(2026, 11, 25, 10, 0, 30);	/* a Wednesday */
	is_time("now", now);
	is_time("NOW", now);
	is_time("now + 2 hours", now + 7200);
	is_time("now+3minutes", now + 180);
	is_time("now + 5 seconds", now + 5);
	is_time("now + 30 secs", now + 30);
	is_time("now + 1 day", now + 86400);
	is_time("now + 2 weeks", now + 14 * 86400);
	is_time("now + 1 month", at(2026, 12, 25, 10, 0, 30));
	is_time("noon", at(2026, 11, 25, 12, 0, 0));
	is_time("9:15", at(2026, 11, 26, 9, 15, 0));
	is_time("0915", at(2026, 11, 26, 9, 15, 0));
	is_time("midnight", at(2026, 11, 26, 0, 0, 0));
	is_time("teatime tomorrow", at(2026, 11, 26, 16, 0, 0));
	is_time("10:30 PM", at(2026, 11, 25, 22, 30, 0));
	is_time("2am", at(2026, 11, 26, 2, 0, 0));
	is_time("12am", at(2026, 11, 26, 0, 0, 0));
	is_time("tomorrow", at(2026, 11, 26, 10, 0, 0));
	is_time("today", at(2026, 11, 25, 10, 0, 0));
	is_time("Jul 4 2027", at(2027, 7, 4, 10, 0, 0));
	is_time("noon july 4, 2027", at(2027, 7, 4, 12, 0, 0));
	is_time("12:00 Jul 4", at(2026, 7, 4, 12, 0, 0));
	is_time("070427", at(2027, 7, 4, 10, 0, 0));
	is_time("07042027", at(2027, 7, 4, 10, 0, 0));
	is_time("07/04/2027", at(2027, 7, 4, 10, 0, 0));
	is_time("07/04/27", at(2027, 7, 4, 10, 0, 0));
	is_time("04.07.2027", at(2027, 7, 4, 10, 0, 0));
	is_time("2027-07-04", at(2027, 7, 4, 10, 0, 0));
	is_time("27-07-04", at(2027, 7, 4, 10, 0, 0));
	is_time("NEXT SAT", at(2026, 11, 28, 10, 0, 0));
	is_time("next wednesday", at(2026, 12, 2, 10, 0, 0));
	is_time("12:00 NEXT SAT", at(2026, 11, 28, 12, 0, 0));
	is_time("friday", at(2026, 11, 27, 10, 0, 0));
	is_time("next week", at(2026, 12, 2, 10, 0, 0));
	is_time("tomorrow + 1 hour", at(2026, 11, 26, 11, 0, 0));
	refused("");
	refused("yesterday");
	refused("25:00");
	refused("Feb 30 2027");
	refused("now + 2 lightyears");
	refused("13pm");
	refused("2027-13-01");
	refused("now garbage");
	refused("now + 99999999 days");
	refused("12:00 next");
	for (i = 0; i < ARRAY_LEN(fuzz); i++)
		for (k = 0; k <= strlen(fuzz[i]); k++) {
			char *c = tap_copy(fuzz[i], k + 1);

			c[k] = '\0';
			attime_parse(c, now, &got, err, sizeof(err));
			free(c);
		}
	ok(1, "every prefix of the specs parses or fails cleanly");
	return tap_done();
}
