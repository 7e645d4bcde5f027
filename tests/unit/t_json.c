/* SPDX-License-Identifier: GPL-3.0-or-later */
/* t_json.c -- parser against accept/reject cases, accessors, emitter. */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"
#include "tap.h"

#define NTOK 1024

static int
parse_copy(const char *p, size_t n, struct json_tok *t)
{
	char *c = tap_copy(p, n);
	int rc = json_parse(c, n, t, NTOK);

	free(c);
	return rc;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file of tests/json: y_ must parse, n_ must not. */
static void
test_suite(const char *dir)
{
	struct json_tok t[NTOK];
	char path[512], *names[1024], *text;
	struct dirent *de;
	size_t n, len, i, k, nfail = 0, ny = 0, nn = 0;
	DIR *d = opendir(dir);
	int rc;

	if (d == NULL) {
		ok(0, "cannot open %s", dir);
		return;
	}
	n = 0;
	while ((de = readdir(d)) != NULL && n < 1024)
		if (de->d_name[0] == 'y' || de->d_name[0] == 'n')
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(*names), cmpstr);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if ((text = tap_read_file(path, &len)) == NULL)
			continue;
		rc = parse_copy(text, len, t);
		if ((names[i][0] == 'y') != (rc >= 0)) {
			tap_diag("  %s: rc %d", names[i], rc);
			nfail++;
		}
		names[i][0] == 'y' ? ny++ : nn++;
		for (k = 0; k < len; k++)	/* every truncation */
			parse_copy(text, k, t);
		free(text);
		free(names[i]);
	}
	ok(ny >= 80 && nn >= 150, "%zu accept and %zu reject cases read",
	    ny, nn);
	is_int(nfail, 0, "every case accepted or rejected as it should be, "
	    "and every truncation handled");
}

static void
test_access(void)
{
	const char *js = "{\"id\": 42, \"name\": \"caf\\u00e9 \\ud834\\udd1e\","
	    " \"list\": [1, [2, 3], {\"x\": null}], \"big\": 1e400,"
	    " \"neg\": -7, \"flag\": true}";
	struct json_tok t[64];
	char out[64];
	long long v;
	double dv;
	int n, i;

	n = json_parse(js, strlen(js), t, 64);
	ok(n > 0, "object parses (%d tokens)", n);
	is_int(t[0].size, 6, "six members");
	i = json_obj_get(js, t, n, 0, "id");
	ok(i > 0 && json_int(js, &t[i], 0, 100, &v) == 0 && v == 42, "id=42");
	ok(json_int(js, &t[i], 0, 10, &v) == -1, "range checked");
	i = json_obj_get(js, t, n, 0, "name");
	ok(i > 0 && json_str(js, &t[i], out, sizeof(out), NULL) == 0 &&
	    strcmp(out, "caf\xc3\xa9 \xf0\x9d\x84\x9e") == 0,
	    "escapes and surrogate pair decoded to UTF-8");
	ok(json_str(js, &t[i], out, 5, NULL) == -1, "small buffer refused");
	i = json_obj_get(js, t, n, 0, "list");
	ok(i > 0 && t[i].type == JSON_ARRAY && t[i].size == 3, "list of 3");
	ok(json_arr_get(t, n, i, 2) > 0 &&
	    t[json_arr_get(t, n, i, 2)].type == JSON_OBJECT,
	    "third element found past a nested array");
	i = json_obj_get(js, t, n, 0, "flag");
	ok(i > 0 && t[i].type == JSON_TRUE, "member after containers found");
	i = json_obj_get(js, t, n, 0, "big");
	ok(i > 0 && json_double(js, &t[i], &dv) == -1, "1e400 out of range");
	ok(json_obj_get(js, t, n, 0, "missing") == -1, "missing key");
	ok(json_parse(js, strlen(js), t, 5) == JSON_ERR_NOMEM,
	    "too few tokens reported");
	ok(json_parse("\"a\\u0000b\"", 10, t, 4) == 1 &&
	    json_str("\"a\\u0000b\"", &t[0], out, sizeof(out), NULL) == -1,
	    "NUL inside a string cannot become a C string");
}

static void
test_emitter(void)
{
	char buf[256], tiny[8];
	struct json_out o;
	struct json_tok t[32];

	json_out_init(&o, buf, sizeof(buf));
	json_begin_arr(&o);
	json_begin_obj(&o);
	json_key(&o, "id");
	json_emit_int(&o, 7);
	json_key(&o, "name");
	json_emit_str(&o, "a\"b\\c\n<script>\x01");
	json_key(&o, "blocked");
	json_emit_bool(&o, 0);
	json_key(&o, "x");
	json_emit_null(&o);
	json_end_obj(&o);
	json_emit_str(&o, "bad\xff utf8");
	json_end_arr(&o);
	ok(json_out_ok(&o), "emitter completes");
	is_str(buf, "[{\"id\":7,\"name\":\"a\\\"b\\\\c\\n\\u003cscript\\u003e"
	    "\\u0001\",\"blocked\":false,\"x\":null},\"bad\\ufffd utf8\"]",
	    "escaped output");
	ok(json_parse(buf, strlen(buf), t, 32) > 0, "output parses back");
	json_out_init(&o, tiny, sizeof(tiny));
	json_begin_obj(&o);
	json_key(&o, "long key");
	json_emit_int(&o, 1);
	json_end_obj(&o);
	ok(!json_out_ok(&o) && o.overflow, "overflow reported, not truncated");
	json_out_init(&o, buf, sizeof(buf));
	json_begin_obj(&o);
	ok(!json_out_ok(&o), "unclosed object is not ok");
	ok(json_out_end_line(&o) == -1, "no newline after an unclosed object");
	json_end_obj(&o);
	ok(json_out_end_line(&o) == 0, "a complete document ends its line");
	is_str(buf, "{}\n", "with one newline");
	json_out_init(&o, tiny, 3);
	json_begin_obj(&o);
	json_end_obj(&o);
	ok(json_out_end_line(&o) == -1, "a newline that does not fit: -1");
}

int
main(int argc, char **argv)
{
	test_suite(argc > 1 ? argv[1] : "tests/json");
	test_access();
	test_emitter();
	return tap_done();
}
