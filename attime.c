/* SPDX-License-Identifier: GPL-3.0-or-later */
/* attime.c -- at(1) time specifications ("now + 2 hours", "noon tomorrow"). */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "qvd.h"

#define AT_MAX_TOKENS	32

enum tok_type { T_END, T_NUM, T_WORD, T_SYM };

struct tok {
	enum tok_type	 type;
	long		 num;
	int		 ndigits;
	char		 word[16];
	char		 sym;
};

struct at_parser {
	struct tok	 t[AT_MAX_TOKENS];
	int		 n, pos;
	const char	*spec;
	char		*err;
	size_t		 errsz;
};

static const char *months[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
	"nov", "dec"
};
static const char *weekdays[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat"
};

static int
fail(struct at_parser *p, const char *why)
{
	str_fmt(p->err, p->errsz, "cannot read time '%s': %s", p->spec, why);
	return -1;
}

static int
tokenize(struct at_parser *p, const char *s)
{
	struct tok *t;
	size_t k;

	for (p->n = 0; *s; ) {
		if (isspace((unsigned char)*s)) {
			s++;
			continue;
		}
		if (p->n >= AT_MAX_TOKENS - 1)
			return fail(p, "too long");
		t = &p->t[p->n++];
		memset(t, 0, sizeof(*t));
		if (isdigit((unsigned char)*s)) {
			t->type = T_NUM;
			while (isdigit((unsigned char)*s)) {
				if (++t->ndigits > 8)
					return fail(p, "number too long");
				t->num = t->num * 10 + (*s++ - '0');
			}
		} else if (isalpha((unsigned char)*s)) {
			t->type = T_WORD;
			for (k = 0; isalpha((unsigned char)*s); s++)
				if (k + 1 < sizeof(t->word))
					t->word[k++] =
					    (char)tolower((unsigned char)*s);
				else
					return fail(p, "word too long");
			t->word[k] = '\0';
		} else if (strchr(":/.-+,", *s) != NULL) {
			t->type = T_SYM;
			t->sym = *s++;
		} else
			return fail(p, "unexpected character");
	}
	p->t[p->n].type = T_END;
	return 0;
}

static struct tok *
peek(struct at_parser *p, int ahead)
{
	int i = p->pos + ahead;

	return &p->t[i < p->n ? i : p->n];
}

static int
is_word(struct tok *t, const char *w)
{
	return t->type == T_WORD && strcmp(t->word, w) == 0;
}

static int
is_sym(struct tok *t, char c)
{
	return t->type == T_SYM && t->sym == c;
}

/* Index of a month or weekday name (3+ letter prefix), or -1. */
static int
name_index(const char *w, const char **names, int n, const char *const *full)
{
	int i;
	size_t len = strlen(w);

	if (len < 3)
		return -1;
	for (i = 0; i < n; i++)
		if (strncmp(w, names[i], 3) == 0 &&
		    strncmp(w, full[i], len) == 0)
			return i;
	return -1;
}

static int
month_of(const char *w)
{
	static const char *const full[] = {
		"january", "february", "march", "april", "may", "june", "july",
		"august", "september", "october", "november", "december"
	};

	return name_index(w, months, 12, full);
}

static int
weekday_of(const char *w)
{
	static const char *const full[] = {
		"sunday", "monday", "tuesday", "wednesday", "thursday",
		"friday", "saturday"
	};

	return name_index(w, weekdays, 7, full);
}

static int
ampm(struct at_parser *p, int *hour)
{
	struct tok *t = peek(p, 0);
	int pm;

	if (!is_word(t, "am") && !is_word(t, "pm"))
		return 0;
	pm = is_word(t, "pm");
	if (*hour < 1 || *hour > 12)
		return fail(p, "hour out of range for AM/PM");
	*hour = *hour % 12 + (pm ? 12 : 0);
	p->pos++;
	return 0;
}

/* HH:MM, HHMM, HH am|pm, midnight, noon, teatime.  1 if one was read. */
static int
parse_time(struct at_parser *p, int *hour, int *min)
{
	struct tok *t = peek(p, 0), *t1 = peek(p, 1);

	if (is_word(t, "midnight") || is_word(t, "noon") ||
	    is_word(t, "teatime")) {
		*hour = is_word(t, "midnight") ? 0 : is_word(t, "noon") ? 12 :
		    16;
		*min = 0;
		p->pos++;
		return 1;
	}
	if (t->type != T_NUM)
		return 0;
	if (is_sym(t1, ':') && peek(p, 2)->type == T_NUM &&
	    peek(p, 2)->ndigits == 2 && t->ndigits <= 2) {
		*hour = (int)t->num;
		*min = (int)peek(p, 2)->num;
		p->pos += 3;
	} else if (t->ndigits == 4 && !is_sym(t1, '/') && !is_sym(t1, '.') &&
	    !is_sym(t1, '-')) {
		*hour = (int)(t->num / 100);
		*min = (int)(t->num % 100);
		p->pos++;
	} else if (t->ndigits <= 2 && (is_word(t1, "am") || is_word(t1, "pm"))) {
		*hour = (int)t->num;
		*min = 0;
		p->pos++;
	} else
		return 0;
	if (ampm(p, hour) == -1)
		return -1;
	if (*hour > 23 || *min > 59)
		return fail(p, "time of day out of range");
	return 1;
}

static int
full_year(long y, int ndigits)
{
	if (ndigits <= 2)
		return (int)(y < 70 ? 2000 + y : 1900 + y);
	return (int)y;
}

/* A calendar date.  1 when one was read into y, m (0-11), d. */
static int
parse_date(struct at_parser *p, const struct tm *now, int *y, int *m, int *d)
{
	struct tok *t = peek(p, 0), *t1 = peek(p, 1), *t2 = peek(p, 2),
	    *t3 = peek(p, 3), *t4 = peek(p, 4);
	int k;

	*y = now->tm_year + 1900;
	if (t->type == T_WORD && (k = month_of(t->word)) >= 0 &&
	    t1->type == T_NUM && t1->ndigits <= 2) {
		*m = k;
		*d = (int)t1->num;
		p->pos += 2;
		if (is_sym(peek(p, 0), ','))
			p->pos++;
		if (peek(p, 0)->type == T_NUM && (peek(p, 0)->ndigits == 4 ||
		    peek(p, 0)->ndigits == 2)) {
			*y = full_year(peek(p, 0)->num, peek(p, 0)->ndigits);
			p->pos++;
		}
		return 1;
	}
	if (t->type != T_NUM)
		return 0;
	if (t->ndigits == 6 || t->ndigits == 8) {		/* MMDD[CC]YY */
		long v = t->num, div = t->ndigits == 6 ? 100 : 10000;

		*y = full_year(v % div, t->ndigits - 4);
		*d = (int)(v / div % 100);
		*m = (int)(v / div / 100) - 1;
		p->pos++;
		return 1;
	}
	if (t2->type != T_NUM || t4->type != T_NUM || t3->type != T_SYM ||
	    t1->type != T_SYM || t1->sym != t3->sym)
		return 0;
	switch (t1->sym) {
	case '/':						/* MM/DD/[CC]YY */
		*m = (int)t->num - 1;
		*d = (int)t2->num;
		*y = full_year(t4->num, t4->ndigits);
		break;
	case '.':						/* DD.MM.[CC]YY */
		*d = (int)t->num;
		*m = (int)t2->num - 1;
		*y = full_year(t4->num, t4->ndigits);
		break;
	case '-':						/* [CC]YY-MM-DD */
		*y = full_year(t->num, t->ndigits);
		*m = (int)t2->num - 1;
		*d = (int)t4->num;
		break;
	default:
		return 0;
	}
	p->pos += 5;
	return 1;
}

/* Seconds in one unit ("minutes", "hours", ...), 0 for months/years. */
static int
unit_of(const char *w, long *secs, int *months_n)
{
	static const struct { const char *name; long secs; int months; } u[] = {
		{ "second", 1, 0 }, { "sec", 1, 0 },
		{ "minute", 60, 0 }, { "min", 60, 0 }, { "hour", 3600, 0 },
		{ "day", 86400, 0 }, { "week", 604800, 0 },
		{ "month", 0, 1 }, { "year", 0, 12 },
	};
	size_t i, n;

	for (i = 0; i < ARRAY_LEN(u); i++) {
		n = strlen(u[i].name);
		if (strncmp(w, u[i].name, n) == 0 && (w[n] == '\0' ||
		    strcmp(w + n, "s") == 0 || (strcmp(u[i].name, "min") == 0 &&
		    strcmp(w + n, "utes") == 0))) {
			*secs = u[i].secs;
			*months_n = u[i].months;
			return 0;
		}
	}
	return -1;
}

static int
add_units(struct tm *tm, long count, long secs, int months_n)
{
	if (count > 100000)
		return -1;
	if (months_n)
		tm->tm_mon += (int)(count * months_n);
	else
		tm->tm_sec += (int)(count * secs);
	return 0;
}

/* "+ N unit", "next unit", "next weekday". */
static int
parse_increments(struct at_parser *p, struct tm *tm)
{
	struct tok *t;
	long secs, count;
	int mons, wd, diff;

	while ((t = peek(p, 0))->type != T_END) {
		if (is_sym(t, '+') && peek(p, 1)->type == T_NUM &&
		    peek(p, 2)->type == T_WORD) {
			count = peek(p, 1)->num;
			if (unit_of(peek(p, 2)->word, &secs, &mons) == -1)
				return fail(p, "unknown time unit");
			if (add_units(tm, count, secs, mons) == -1)
				return fail(p, "increment too large");
			p->pos += 3;
		} else if (is_word(t, "next") && peek(p, 1)->type == T_WORD) {
			if ((wd = weekday_of(peek(p, 1)->word)) >= 0) {
				diff = (wd - tm->tm_wday + 7) % 7;
				tm->tm_mday += diff ? diff : 7;
			} else if (unit_of(peek(p, 1)->word, &secs, &mons) == 0)
				add_units(tm, 1, secs, mons);
			else
				return fail(p, "'next' needs a unit or a weekday");
			p->pos += 2;
		} else
			return fail(p, "unexpected words at the end");
		tm->tm_isdst = -1;
		if (mktime(tm) == (time_t)-1)
			return fail(p, "time out of range");
	}
	return 0;
}

static int
valid_date(int y, int m, int d)
{
	struct tm tm;

	if (m < 0 || m > 11 || d < 1 || d > 31 || y < 1970 || y > 9999)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	tm.tm_isdst = -1;
	return mktime(&tm) != (time_t)-1 && tm.tm_mday == d && tm.tm_mon == m;
}

/*
 * Parse an at(1) time specification relative to now (local time).
 * Returns 0 with *out in epoch seconds, or -1 with err set.
 */
int
attime_parse(const char *spec, time_t now, time_t *out, char *err,
    size_t errsz)
{
	struct at_parser p;
	struct tm base, tm;
	int hour = 0, min = 0, y, m, d, have_time, have_date = 0, wd;
	struct tok *t;

	memset(&p, 0, sizeof(p));
	p.spec = spec;
	p.err = err;
	p.errsz = errsz;
	if (tokenize(&p, spec) == -1)
		return -1;
	if (p.n == 0)
		return fail(&p, "empty");
	localtime_r(&now, &base);
	base.tm_sec = 0;
	tm = base;
	if (is_word(peek(&p, 0), "now")) {
		p.pos++;
		tm.tm_sec = (int)(now % 60);
	} else {
		if ((have_time = parse_time(&p, &hour, &min)) == -1)
			return -1;
		t = peek(&p, 0);
		if (is_word(t, "today") || is_word(t, "tomorrow")) {
			have_date = is_word(t, "tomorrow") ? 2 : 1;
			p.pos++;
		} else if (t->type == T_WORD && (wd = weekday_of(t->word)) >= 0) {
			tm.tm_mday += (wd - base.tm_wday + 7) % 7;
			have_date = 1;
			p.pos++;
		} else if ((have_date = parse_date(&p, &base, &y, &m, &d)) == 1) {
			if (!valid_date(y, m, d))
				return fail(&p, "no such date");
			tm.tm_year = y - 1900;
			tm.tm_mon = m;
			tm.tm_mday = d;
		}
		if (!have_time && !have_date && !is_word(peek(&p, 0), "next"))
			return fail(&p, "expected a time, a date or 'now'");
		if (have_date == 2)
			tm.tm_mday++;
		if (have_time) {
			tm.tm_hour = hour;
			tm.tm_min = min;
		}
		tm.tm_isdst = -1;
		if (mktime(&tm) == (time_t)-1)
			return fail(&p, "time out of range");
		/* A bare time already past means tomorrow (as at does). */
		if (have_time && !have_date && mktime(&tm) <= now) {
			tm.tm_mday++;
			tm.tm_isdst = -1;
		}
	}
	if (parse_increments(&p, &tm) == -1)
		return -1;
	tm.tm_isdst = -1;
	if ((*out = mktime(&tm)) == (time_t)-1)
		return fail(&p, "time out of range");
	return 0;
}
