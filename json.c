/* SPDX-License-Identifier: GPL-3.0-or-later */
/* json.c -- strict RFC 8259 parser into caller-owned tokens, and emitter. */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"

struct parser {
	const char	*js;
	size_t		 len;
	size_t		 pos;
	struct json_tok	*toks;
	int		 ntoks;
	int		 used;
};

static int parse_value(struct parser *, int parent, int depth);

static void
skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->js[p->pos] == ' ' ||
	    p->js[p->pos] == '\t' || p->js[p->pos] == '\n' ||
	    p->js[p->pos] == '\r'))
		p->pos++;
}

static int
new_tok(struct parser *p, enum json_type type, int parent)
{
	struct json_tok *t;

	if (p->used >= p->ntoks)
		return JSON_ERR_NOMEM;
	t = &p->toks[p->used];
	t->type = type;
	t->start = (int)p->pos;
	t->end = -1;
	t->size = 0;
	t->parent = parent;
	t->next = -1;
	if (parent >= 0)
		p->toks[parent].size++;
	return p->used++;
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), 0 if invalid,
 * -1 if it is cut short by the end of input. */
static int
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0], need, min, cp, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		min = 0x80;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		min = 0x800;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		min = 0x10000;
		cp = c & 0x07;
	} else
		return 0;
	for (i = 1; i <= need; i++) {
		if (i >= n)
			return -1;
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return (int)need + 1;
}

static int
hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* A \uXXXX escape (and its low surrogate) at p->pos, just past "\u". */
static int
parse_u_escape(struct parser *p)
{
	unsigned hi, lo;

	if (p->pos + 4 > p->len)
		return JSON_ERR_PARTIAL;
	if (hex4(p->js + p->pos, &hi) == -1)
		return JSON_ERR_INVALID;
	p->pos += 4;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return JSON_ERR_INVALID;	/* lone low surrogate */
	if (hi < 0xd800 || hi > 0xdbff)
		return 0;
	if (p->pos + 6 > p->len)
		return JSON_ERR_PARTIAL;
	if (p->js[p->pos] != '\\' || p->js[p->pos + 1] != 'u' ||
	    hex4(p->js + p->pos + 2, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
		return JSON_ERR_INVALID;	/* lone high surrogate */
	p->pos += 6;
	return 0;
}

static int
parse_string(struct parser *p, int parent)
{
	int t, n, rc;
	unsigned char c;

	p->pos++;	/* opening quote */
	if ((t = new_tok(p, JSON_STRING, parent)) < 0)
		return t;
	p->toks[t].start = (int)p->pos;
	while (p->pos < p->len) {
		c = (unsigned char)p->js[p->pos];
		if (c == '"') {
			p->toks[t].end = (int)p->pos++;
			p->toks[t].next = p->used;
			return t;
		}
		if (c < 0x20)
			return JSON_ERR_INVALID;
		if (c == '\\') {
			if (++p->pos >= p->len)
				return JSON_ERR_PARTIAL;
			c = (unsigned char)p->js[p->pos++];
			if (c == 'u') {
				if ((rc = parse_u_escape(p)) < 0)
					return rc;
			} else if (strchr("\"\\/bfnrt", c) == NULL || c == 0)
				return JSON_ERR_INVALID;
			continue;
		}
		n = utf8_seq((const unsigned char *)p->js + p->pos,
		    p->len - p->pos);
		if (n == 0)
			return JSON_ERR_INVALID;
		if (n < 0)
			return JSON_ERR_PARTIAL;
		p->pos += (size_t)n;
	}
	return JSON_ERR_PARTIAL;
}

static int
digits(struct parser *p)
{
	size_t start = p->pos;

	while (p->pos < p->len && p->js[p->pos] >= '0' && p->js[p->pos] <= '9')
		p->pos++;
	return p->pos > start;
}

static int
parse_number(struct parser *p, int parent)
{
	int t;

	if ((t = new_tok(p, JSON_NUMBER, parent)) < 0)
		return t;
	if (p->js[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len)
		return JSON_ERR_PARTIAL;
	if (p->js[p->pos] == '0')
		p->pos++;
	else if (!digits(p))
		return JSON_ERR_INVALID;
	if (p->pos < p->len && p->js[p->pos] == '.') {
		p->pos++;
		if (p->pos >= p->len)
			return JSON_ERR_PARTIAL;
		if (!digits(p))
			return JSON_ERR_INVALID;
	}
	if (p->pos < p->len && (p->js[p->pos] == 'e' || p->js[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->js[p->pos] == '+' ||
		    p->js[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len)
			return JSON_ERR_PARTIAL;
		if (!digits(p))
			return JSON_ERR_INVALID;
	}
	if (p->pos < p->len && strchr(" \t\r\n,]}", p->js[p->pos]) == NULL)
		return JSON_ERR_INVALID;
	p->toks[t].end = (int)p->pos;
	p->toks[t].next = p->used;
	return t;
}

static int
parse_literal(struct parser *p, int parent, const char *word,
    enum json_type type)
{
	size_t n = strlen(word), avail = p->len - p->pos;
	int t;

	if (avail < n) {
		if (memcmp(p->js + p->pos, word, avail) == 0)
			return JSON_ERR_PARTIAL;
		return JSON_ERR_INVALID;
	}
	if (memcmp(p->js + p->pos, word, n) != 0)
		return JSON_ERR_INVALID;
	if ((t = new_tok(p, type, parent)) < 0)
		return t;
	p->pos += n;
	p->toks[t].end = (int)p->pos;
	p->toks[t].next = p->used;
	return t;
}

/* Members or elements up to the closing bracket. */
static int
parse_container(struct parser *p, int parent, int depth, int is_obj)
{
	char close = is_obj ? '}' : ']';
	int t, rc, k;

	if (depth >= JSON_MAX_DEPTH)
		return JSON_ERR_DEPTH;
	if ((t = new_tok(p, is_obj ? JSON_OBJECT : JSON_ARRAY, parent)) < 0)
		return t;
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->js[p->pos] == close)
		goto done;
	for (;;) {
		skip_ws(p);
		if (p->pos >= p->len)
			return JSON_ERR_PARTIAL;
		if (is_obj) {
			if (p->js[p->pos] != '"')
				return JSON_ERR_INVALID;
			if ((k = parse_string(p, t)) < 0)
				return k;
			skip_ws(p);
			if (p->pos >= p->len)
				return JSON_ERR_PARTIAL;
			if (p->js[p->pos++] != ':')
				return JSON_ERR_INVALID;
			p->toks[t].size--;	/* a pair counts once */
		}
		if ((rc = parse_value(p, t, depth + 1)) < 0)
			return rc;
		skip_ws(p);
		if (p->pos >= p->len)
			return JSON_ERR_PARTIAL;
		if (p->js[p->pos] == close)
			break;
		if (p->js[p->pos++] != ',')
			return JSON_ERR_INVALID;
	}
done:
	p->pos++;
	p->toks[t].end = (int)p->pos;
	p->toks[t].next = p->used;
	return t;
}

static int
parse_value(struct parser *p, int parent, int depth)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return JSON_ERR_PARTIAL;
	switch (p->js[p->pos]) {
	case '{':
		return parse_container(p, parent, depth, 1);
	case '[':
		return parse_container(p, parent, depth, 0);
	case '"':
		return parse_string(p, parent);
	case 't':
		return parse_literal(p, parent, "true", JSON_TRUE);
	case 'f':
		return parse_literal(p, parent, "false", JSON_FALSE);
	case 'n':
		return parse_literal(p, parent, "null", JSON_NULL);
	default:
		if (p->js[p->pos] == '-' ||
		    (p->js[p->pos] >= '0' && p->js[p->pos] <= '9'))
			return parse_number(p, parent);
		return JSON_ERR_INVALID;
	}
}

/*
 * Parse one complete JSON text.  Returns the number of tokens filled
 * (token 0 is the top value) or a JSON_ERR_* code.
 */
int
json_parse(const char *js, size_t len, struct json_tok *toks, int ntoks)
{
	struct parser p = { js, len, 0, toks, ntoks, 0 };
	int rc;

	if (len > (size_t)0x7fffffff)
		return JSON_ERR_NOMEM;
	if ((rc = parse_value(&p, -1, 0)) < 0)
		return rc;
	skip_ws(&p);
	if (p.pos != len)
		return JSON_ERR_INVALID;
	return p.used;
}

/* Index of the value of key in object obj, or -1. */
int
json_obj_get(const char *js, const struct json_tok *t, int ntoks, int obj,
    const char *key)
{
	int i, n;

	if (obj < 0 || obj >= ntoks || t[obj].type != JSON_OBJECT)
		return -1;
	i = obj + 1;
	for (n = 0; n < t[obj].size && i < ntoks; n++) {
		if (json_tok_eq(js, &t[i], key))
			return i + 1;
		i = t[i + 1].next;
	}
	return -1;
}

int
json_arr_get(const struct json_tok *t, int ntoks, int arr, int n)
{
	int i, k;

	if (arr < 0 || arr >= ntoks || t[arr].type != JSON_ARRAY ||
	    n < 0 || n >= t[arr].size)
		return -1;
	for (i = arr + 1, k = 0; k < n; k++)
		i = t[i].next;
	return i;
}

static size_t
put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static unsigned
unescape_one(const char *s, size_t *i)
{
	unsigned hi, lo;

	switch (s[(*i)++]) {
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'u':
		hex4(s + *i, &hi);
		*i += 4;
		if (hi >= 0xd800 && hi <= 0xdbff) {
			hex4(s + *i + 2, &lo);
			*i += 6;
			return 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
		}
		return hi;
	default:
		return (unsigned char)s[*i - 1];
	}
}

/*
 * Unescape a string token into out (NUL-terminated).  -1 when out is too
 * small or the string holds a NUL character, which C strings cannot.
 */
int
json_str(const char *js, const struct json_tok *t, char *out, size_t outsz,
    size_t *outlen)
{
	const char *s = js + t->start;
	size_t n = (size_t)(t->end - t->start), i = 0, o = 0;
	unsigned cp;
	char tmp[4];
	size_t k;

	if (t->type != JSON_STRING || outsz == 0)
		return -1;
	while (i < n) {
		if (s[i] != '\\') {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = s[i++];
			continue;
		}
		i++;
		cp = unescape_one(s, &i);
		if (cp == 0)
			return -1;
		k = put_utf8(tmp, cp);
		if (o + k >= outsz)
			return -1;
		memcpy(out + o, tmp, k);
		o += k;
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return 0;
}

int
json_tok_eq(const char *js, const struct json_tok *t, const char *s)
{
	char buf[256];
	size_t n = strlen(s);

	if (t->type != JSON_STRING)
		return 0;
	if ((size_t)(t->end - t->start) == n &&
	    memcmp(js + t->start, s, n) == 0)
		return 1;
	if (memchr(js + t->start, '\\', (size_t)(t->end - t->start)) == NULL)
		return 0;
	return json_str(js, t, buf, sizeof(buf), NULL) == 0 &&
	    strcmp(buf, s) == 0;
}

int
json_int(const char *js, const struct json_tok *t, long long min,
    long long max, long long *out)
{
	char buf[32];
	size_t n = (size_t)(t->end - t->start);
	const char *why;

	if (t->type != JSON_NUMBER || n >= sizeof(buf))
		return -1;
	memcpy(buf, js + t->start, n);
	buf[n] = '\0';
	if (strpbrk(buf, ".eE") != NULL)
		return -1;
	return num_parse(buf, min, max, out, &why);
}

int
json_double(const char *js, const struct json_tok *t, double *out)
{
	char buf[64], *end;
	size_t n = (size_t)(t->end - t->start);
	double v;

	if (t->type != JSON_NUMBER || n >= sizeof(buf))
		return -1;
	memcpy(buf, js + t->start, n);
	buf[n] = '\0';
	errno = 0;
	v = strtod(buf, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* ---- emitter ---- */

void
json_out_init(struct json_out *o, char *buf, size_t cap)
{
	memset(o, 0, sizeof(*o));
	o->buf = buf;
	o->cap = cap;
	o->first[0] = 1;
	if (cap > 0)
		buf[0] = '\0';
}

int
json_out_ok(const struct json_out *o)
{
	return !o->overflow && o->depth == 0;
}

static void
put(struct json_out *o, const char *s, size_t n)
{
	if (o->overflow)
		return;
	if (o->cap == 0 || n >= o->cap - o->len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* A complete document ended by a newline (as HTTP bodies end): 0, or -1
 * when it is incomplete or did not fit. */
int
json_out_end_line(struct json_out *o)
{
	if (!json_out_ok(o))
		return -1;
	put(o, "\n", 1);
	return o->overflow ? -1 : 0;
}

/* Comma before every element but the first, none right after a key. */
static void
separate(struct json_out *o)
{
	if (o->after_key) {
		o->after_key = 0;
		return;
	}
	if (!o->first[o->depth])
		put(o, ",", 1);
	o->first[o->depth] = 0;
}

static void
open_level(struct json_out *o, const char *c)
{
	separate(o);
	put(o, c, 1);
	if (o->depth + 1 >= JSON_MAX_DEPTH) {
		o->overflow = 1;
		return;
	}
	o->first[++o->depth] = 1;
}

static void
close_level(struct json_out *o, const char *c)
{
	if (o->depth == 0) {
		o->overflow = 1;
		return;
	}
	o->depth--;
	put(o, c, 1);
}

void json_begin_obj(struct json_out *o) { open_level(o, "{"); }
void json_end_obj(struct json_out *o) { close_level(o, "}"); }
void json_begin_arr(struct json_out *o) { open_level(o, "["); }
void json_end_arr(struct json_out *o) { close_level(o, "]"); }

/*
 * Escape for a JSON string body.  '<', '>' and '&' are escaped too, so the
 * output is also safe inside HTML.  Invalid UTF-8 becomes U+FFFD.
 * Returns the length written or -1 when out is too small.
 */
int
json_escape(const char *in, size_t len, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, o = 0;
	unsigned char c;
	char esc[8];
	const char *rep;
	size_t rl;
	int n;

	while (i < len) {
		c = (unsigned char)in[i];
		rep = esc;
		rl = 2;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			if (c < 0x20 || c == '<' || c == '>' || c == '&') {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				rl = 6;
			} else if (c < 0x80) {
				rep = in + i;
				rl = 1;
			} else {
				n = utf8_seq((const unsigned char *)in + i,
				    len - i);
				if (n <= 0) {
					rep = "\\ufffd";
					rl = 6;
				} else {
					rep = in + i;
					rl = (size_t)n;
					i += (size_t)n - 1;
				}
			}
		}
		if (o + rl >= outsz)
			return -1;
		memcpy(out + o, rep, rl);
		o += rl;
		i++;
	}
	if (o >= outsz)
		return -1;
	out[o] = '\0';
	return (int)o;
}

void
json_emit_strn(struct json_out *o, const char *s, size_t n)
{
	int r;

	separate(o);
	put(o, "\"", 1);
	if (!o->overflow) {
		r = json_escape(s, n, o->buf + o->len, o->cap - o->len);
		if (r < 0)
			o->overflow = 1;
		else
			o->len += (size_t)r;
	}
	put(o, "\"", 1);
}

void
json_emit_str(struct json_out *o, const char *s)
{
	json_emit_strn(o, s, strlen(s));
}

void
json_key(struct json_out *o, const char *k)
{
	json_emit_str(o, k);
	put(o, ":", 1);
	o->after_key = 1;
}

void
json_emit_int(struct json_out *o, long long v)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%lld", v);

	separate(o);
	put(o, b, (size_t)n);
}

void
json_emit_double(struct json_out *o, double v)
{
	char b[64];
	int n;

	separate(o);
	if (!isfinite(v)) {
		put(o, "null", 4);
		return;
	}
	n = snprintf(b, sizeof(b), "%.17g", v);
	put(o, b, (size_t)n);
}

void
json_emit_bool(struct json_out *o, int v)
{
	separate(o);
	put(o, v ? "true" : "false", v ? 4 : 5);
}

void
json_emit_null(struct json_out *o)
{
	separate(o);
	put(o, "null", 4);
}

/* Already-valid JSON text, e.g. a number taken from the database. */
void
json_emit_raw(struct json_out *o, const char *s)
{
	separate(o);
	put(o, s, strlen(s));
}
