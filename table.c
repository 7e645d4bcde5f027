/* SPDX-License-Identifier: GPL-3.0-or-later */
/* table.c -- query results as aligned text tables or as JSON arrays. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qvd.h"

#define CELL_MAX	4096

static int
right_aligned(enum col_type t)
{
	return t == COL_INT || t == COL_REAL || t == COL_AGE;
}

/* The text a cell shows in a table. */
/* A cell as text, the way qa shows it ("-" for NULL). */
const char *
out_cell(const struct out_col *c, const char *v, int isnull, char *buf,
    size_t bufsz)
{
	long long n;
	const char *why;

	if (isnull)
		return "-";
	switch (c->type) {
	case COL_BOOL:
		return strcmp(v, "t") == 0 ? "1" : "0";
	case COL_YESNO:
		return strcmp(v, "t") == 0 ? "yes" : "no";
	case COL_TIME:
		if (num_parse(v, 0, 1LL << 40, &n, &why) == -1 ||
		    fmt_local(buf, bufsz, n) == -1)
			return v;
		return buf;
	case COL_AGE:
		if (num_parse(v, -(1LL << 40), 1LL << 40, &n, &why) == -1)
			return v;
		if (n < 0)
			n = 0;
		str_fmt(buf, bufsz, "%02lld:%02lld:%02lld", n / 3600,
		    n / 60 % 60, n % 60);
		return buf;
	case COL_LIST:
		for (n = 0; *v && (size_t)n + 3 < bufsz; v++) {
			if (*v == '\n') {
				buf[n++] = ',';
				buf[n++] = ' ';
			} else
				buf[n++] = *v;
		}
		buf[n] = '\0';
		return buf;
	default:
		return v;
	}
}

static void
print_padded(FILE *fp, const char *s, int width, int right, int last)
{
	int n = (int)strlen(s);

	if (right && n < width)
		fprintf(fp, "%*s", width - n, "");
	fputs(s, fp);
	if (!right && !last && n < width)
		fprintf(fp, "%*s", width - n, "");
}

static void
print_table(FILE *fp, const struct out_col *cols, int ncols,
    struct pg_result *res, int quiet)
{
	int rows = db_ntuples(res), i, j, *w;
	char buf[CELL_MAX];
	const char *s;

	w = xcalloc((size_t)ncols, sizeof(*w));
	for (j = 0; j < ncols; j++)
		w[j] = quiet ? 0 : (int)strlen(cols[j].header);
	for (i = 0; i < rows; i++)
		for (j = 0; j < ncols; j++) {
			s = out_cell(&cols[j], db_val(res, i, j),
			    db_isnull(res, i, j), buf, sizeof(buf));
			if ((int)strlen(s) > w[j])
				w[j] = (int)strlen(s);
		}
	if (!quiet) {
		for (j = 0; j < ncols; j++) {
			print_padded(fp, cols[j].header, w[j], 0, j == ncols - 1);
			if (j < ncols - 1)
				fputc(' ', fp);
		}
		fputc('\n', fp);
		for (j = 0; j < ncols; j++) {
			for (i = 0; i < w[j]; i++)
				fputc('-', fp);
			if (j < ncols - 1)
				fputc('+', fp);
		}
		fputc('\n', fp);
	}
	for (i = 0; i < rows; i++) {
		for (j = 0; j < ncols; j++) {
			s = out_cell(&cols[j], db_val(res, i, j),
			    db_isnull(res, i, j), buf, sizeof(buf));
			print_padded(fp, s, w[j], right_aligned(cols[j].type),
			    j == ncols - 1);
			if (j < ncols - 1)
				fputc(' ', fp);
		}
		fputc('\n', fp);
	}
	free(w);
}

static void
emit_cell(struct json_out *o, const struct out_col *c, const char *v,
    int isnull)
{
	long long n;
	const char *why, *p, *nl;
	char buf[40];
	time_t t;
	struct tm tm;

	if (isnull) {
		json_emit_null(o);
		return;
	}
	switch (c->type) {
	case COL_INT:
	case COL_REAL:
	case COL_AGE:
		json_emit_raw(o, v);
		break;
	case COL_BOOL:
	case COL_YESNO:
		json_emit_bool(o, strcmp(v, "t") == 0);
		break;
	case COL_TIME:
		if (num_parse(v, 0, 1LL << 40, &n, &why) == 0) {
			t = (time_t)n;
			gmtime_r(&t, &tm);
			strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
			json_emit_str(o, buf);
		} else
			json_emit_null(o);
		break;
	case COL_LIST:
		json_begin_arr(o);
		for (p = v; *p; p = nl ? nl + 1 : p + strlen(p)) {
			nl = strchr(p, '\n');
			json_emit_strn(o, p, nl ? (size_t)(nl - p) : strlen(p));
		}
		json_end_arr(o);
		break;
	default:
		json_emit_str(o, v);
	}
}

static int
print_json(FILE *fp, const struct out_col *cols, int ncols,
    struct pg_result *res)
{
	struct json_out o;
	char *row = xmalloc(256 * 1024);
	int i, j, rows = db_ntuples(res), rc = 0;

	fputs("[", fp);
	for (i = 0; i < rows; i++) {
		json_out_init(&o, row, 256 * 1024);
		json_begin_obj(&o);
		for (j = 0; j < ncols; j++) {
			json_key(&o, cols[j].json_key);
			emit_cell(&o, &cols[j], db_val(res, i, j),
			    db_isnull(res, i, j));
		}
		json_end_obj(&o);
		if (!json_out_ok(&o)) {
			rc = -1;
			break;
		}
		fprintf(fp, "%s\n  %s", i ? "," : "", row);
	}
	fputs(rows ? "\n]\n" : "]\n", fp);
	free(row);
	return rc;
}

/* Every row of res, its columns described by cols (in the same order). */
int
out_rows(FILE *fp, const struct out_col *cols, int ncols,
    struct pg_result *res, int json, int quiet)
{
	if (json)
		return print_json(fp, cols, ncols, res);
	print_table(fp, cols, ncols, res, quiet);
	return 0;
}
