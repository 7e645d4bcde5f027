/* SPDX-License-Identifier: GPL-3.0-or-later */
/* conf.c -- layered configuration: defaults < files < configs table. */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qvd.h"

#define CONF_MAX_FILE	(4 * 1024 * 1024)

struct entry {
	char			*key;
	char			*val[CONF_NLAYERS];	/* NULL: not set there */
	const struct conf_default *def;
	char			*expanded;		/* cache of conf_get */
	unsigned		 expanded_gen;
};

static struct {
	struct entry	**slot;
	size_t		  cap;		/* power of two */
	size_t		  count;
	unsigned	  gen;		/* bumped by every change */
	int		  ready;
	char		  error[512];
} tab;

static uint32_t
hash_key(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static struct entry **
find_slot(const char *key)
{
	size_t i = hash_key(key) & (tab.cap - 1);

	while (tab.slot[i] != NULL && strcmp(tab.slot[i]->key, key) != 0)
		i = (i + 1) & (tab.cap - 1);
	return &tab.slot[i];
}

static void
grow(void)
{
	struct entry **old = tab.slot;
	size_t oldcap = tab.cap, i;

	tab.cap = oldcap ? oldcap * 2 : 1024;
	tab.slot = xcalloc(tab.cap, sizeof(*tab.slot));
	for (i = 0; i < oldcap; i++)
		if (old[i] != NULL)
			*find_slot(old[i]->key) = old[i];
	free(old);
}

static struct entry *
lookup(const char *key)
{
	if (!tab.ready)
		conf_init();
	return *find_slot(key);
}

static struct entry *
lookup_or_add(const char *key)
{
	struct entry **slot, *e;

	if (!tab.ready)
		conf_init();
	if ((tab.count + 1) * 2 > tab.cap)
		grow();
	slot = find_slot(key);
	if (*slot != NULL)
		return *slot;
	e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	*slot = e;
	tab.count++;
	return e;
}

void
conf_init(void)
{
	size_t i;
	struct entry *e;

	if (tab.ready)
		return;
	tab.ready = 1;
	grow();
	for (i = 0; i < conf_ndefaults; i++) {
		if (conf_defaults[i].type == CT_GROUP)
			continue;
		e = lookup_or_add(conf_defaults[i].key);
		e->def = &conf_defaults[i];
		if (conf_defaults[i].value != NULL)
			e->val[CONF_DEFAULT] = xstrdup(conf_defaults[i].value);
	}
}

void
conf_free(void)
{
	size_t i;
	int l;

	for (i = 0; i < tab.cap; i++) {
		struct entry *e = tab.slot[i];

		if (e == NULL)
			continue;
		for (l = 0; l < CONF_NLAYERS; l++)
			free(e->val[l]);
		free(e->expanded);
		free(e->key);
		free(e);
	}
	free(tab.slot);
	memset(&tab, 0, sizeof(tab));
}

/* nodename, database.* and log.* come from the file only (manual 2). */
int
conf_file_only(const char *key)
{
	return strcmp(key, "nodename") == 0 ||
	    str_has_prefix(key, "database.") || str_has_prefix(key, "log.");
}

static const char *
effective(const struct entry *e, enum conf_layer *from)
{
	int l;

	for (l = CONF_NLAYERS - 1; l >= 0; l--) {
		if (l == CONF_DB && conf_file_only(e->key))
			continue;
		if (e->val[l] != NULL) {
			if (from)
				*from = (enum conf_layer)l;
			return e->val[l];
		}
	}
	return NULL;
}

void
conf_set(enum conf_layer layer, const char *key, const char *value)
{
	struct entry *e = lookup_or_add(key);

	free(e->val[layer]);
	e->val[layer] = value ? xstrdup(value) : NULL;
	tab.gen++;
}

void
conf_clear_layer(enum conf_layer layer)
{
	size_t i;

	for (i = 0; i < tab.cap; i++)
		if (tab.slot[i] != NULL) {
			free(tab.slot[i]->val[layer]);
			tab.slot[i]->val[layer] = NULL;
		}
	tab.gen++;
}

const struct conf_default *
conf_default_find(const char *key)
{
	struct entry *e = lookup(key);

	return e ? e->def : NULL;
}

int
conf_is_internal(const char *key)
{
	return str_has_prefix(key, "internal.");
}

/*
 * Keys whose values are secrets, never printed unless asked for: those
 * whose last part names a password or a secret (database.password,
 * auth.ldap.bindpass, wat.admin.password, ...).
 */
int
conf_is_secret(const char *key)
{
	static const char *const words[] = { "password", "passwd", "bindpass",
	    "secret", "pass" };
	const char *last = strrchr(key, '.');
	size_t i;

	last = last ? last + 1 : key;
	for (i = 0; i < ARRAY_LEN(words); i++)
		if (strcmp(last, words[i]) == 0)
			return 1;
	return 0;
}

/* Expand ${key} references; "$${" stands for a literal "${". */
static int
expand(const char *in, struct buf *out, int depth, char *err, size_t errsz)
{
	const char *p = in, *close;
	char key[CONF_MAX_KEY];
	struct entry *e;
	const char *v;
	size_t n;

	if (depth > CONF_MAX_DEPTH) {
		str_fmt(err, errsz, "${...} nested too deeply (a loop?)");
		return -1;
	}
	while (*p) {
		if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
			if (buf_add(out, "${", 2) == -1)
				goto toolong;
			p += 3;
			continue;
		}
		if (p[0] != '$' || p[1] != '{') {
			if (buf_add(out, p++, 1) == -1)
				goto toolong;
			continue;
		}
		if ((close = strchr(p + 2, '}')) == NULL) {
			str_fmt(err, errsz, "unterminated ${");
			return -1;
		}
		n = (size_t)(close - (p + 2));
		if (n == 0 || n >= sizeof(key)) {
			str_fmt(err, errsz, "bad key in ${...}");
			return -1;
		}
		memcpy(key, p + 2, n);
		key[n] = '\0';
		if ((e = lookup(key)) == NULL ||
		    (v = effective(e, NULL)) == NULL) {
			str_fmt(err, errsz, "unknown key '%s' in ${%s}", key, key);
			return -1;
		}
		if (expand(v, out, depth + 1, err, errsz) == -1)
			return -1;
		p = close + 1;
	}
	return 0;
toolong:
	str_fmt(err, errsz, "value longer than %d bytes", CONF_MAX_VALUE);
	return -1;
}

int
conf_expand(const char *in, char *out, size_t outsz)
{
	struct buf b = { NULL, 0, 0, CONF_MAX_VALUE };
	int rc;

	rc = expand(in, &b, 0, tab.error, sizeof(tab.error));
	if (rc == 0 && str_copy(out, buf_str(&b), outsz) == -1) {
		str_fmt(tab.error, sizeof(tab.error), "value too long");
		rc = -1;
	}
	buf_free(&b);
	return rc;
}

const char *
conf_get_raw(const char *key, enum conf_layer *from)
{
	struct entry *e = lookup(key);

	return e ? effective(e, from) : NULL;
}

/*
 * The effective value with ${key} expanded, or NULL when the key has no
 * value anywhere.  The string stays valid until the configuration changes.
 */
const char *
conf_get(const char *key)
{
	struct entry *e = lookup(key);
	struct buf b = { NULL, 0, 0, CONF_MAX_VALUE };
	const char *raw;

	if (e == NULL || (raw = effective(e, NULL)) == NULL)
		return NULL;
	if (strchr(raw, '$') == NULL)
		return raw;
	if (e->expanded != NULL && e->expanded_gen == tab.gen)
		return e->expanded;
	if (expand(raw, &b, 0, tab.error, sizeof(tab.error)) == -1) {
		buf_free(&b);
		return raw;
	}
	free(e->expanded);
	e->expanded = b.data ? b.data : xstrdup("");
	e->expanded_gen = tab.gen;
	return e->expanded;
}

const char *
conf_error(void)
{
	return tab.error;
}

static int
enum_has(const char *choices, const char *v)
{
	const char *p = choices, *bar;
	size_t n = strlen(v);

	for (;;) {
		bar = strchr(p, '|');
		if ((size_t)((bar ? bar : p + strlen(p)) - p) == n &&
		    strncasecmp(p, v, n) == 0)
			return 1;
		if (bar == NULL)
			return 0;
		p = bar + 1;
	}
}

/* Every item of a comma list one of the choices. */
static int
list_has_all(const char *choices, const char *v)
{
	char item[CONF_MAX_KEY], *p;
	const char *comma;
	size_t n;

	for (;;) {
		comma = strchr(v, ',');
		n = comma ? (size_t)(comma - v) : strlen(v);
		if (n >= sizeof(item))
			return 0;
		memcpy(item, v, n);
		item[n] = '\0';
		p = str_trim(item);
		if (*p == '\0' || !enum_has(choices, p))
			return 0;
		if (comma == NULL)
			return 1;
		v = comma + 1;
	}
}

/* The types that are strings of a given form: NULL or what v should be. */
static const char *
typed_wrong(const struct conf_default *d, const char *v)
{
	uint32_t mask;
	int prefix;

	switch (d->type) {
	case CT_PATH:
		return valid_path(v, 1) ? NULL : "not an absolute path";
	case CT_RELPATH:
		return valid_path(v, 0) ? NULL : "not a path";
	case CT_CMD:
		return valid_path(v, 0) && (*v == '/' || strchr(v, '/') ==
		    NULL) ? NULL : "not a program (an absolute path, or a "
		    "name found in PATH)";
	case CT_LIST:
		return list_has_all(d->choices, v) ? NULL : "not a comma list "
		    "of these";
	case CT_IP:
		return valid_ipv4(v) ? NULL : "not an IPv4 address";
	case CT_NETMASK:
		return ip_mask_parse(v, &mask, &prefix) == 0 ? NULL : "not a "
		    "netmask (a prefix length from 1 to 30, or dotted as "
		    "255.255.255.0)";
	case CT_BIND:
		return strcmp(v, "*") == 0 || valid_ip(v) ? NULL : "not an IP "
		    "address or *";
	case CT_IPLIST:
		return valid_ip_list(v) ? NULL : "not a comma list of IP "
		    "addresses";
	case CT_HOST:
		return valid_host(v) ? NULL : "not a host name or IP address";
	case CT_IFNAME:
		return valid_ifname(v) ? NULL : "not an interface name (1 to "
		    "15 letters, digits, . _ -)";
	case CT_UMASK:
		return valid_umask(v) ? NULL : "not a umask (octal, 0 to 0777)";
	case CT_MAC3:
		return valid_mac_prefix(v) ? NULL : "not a MAC prefix (three "
		    "hex bytes as 54:52:00, the first even)";
	default:
		return NULL;
	}
}

static int
check_typed(const struct conf_default *d, const char *v, char *err,
    size_t errsz)
{
	const char *wrong = typed_wrong(d, v);

	if (wrong == NULL)
		return 0;
	if (d->type == CT_LIST)
		str_fmt(err, errsz, "%s: '%s' is %s: %s", d->key, str_clip(v),
		    wrong, d->choices);
	else
		str_fmt(err, errsz, "%s: '%s' is %s", d->key, str_clip(v),
		    wrong);
	return -1;
}

/* Is v acceptable for a key of this type?  err says why not. */
static int
check_value(const struct conf_default *d, const char *v, char *err,
    size_t errsz)
{
	long long n;
	unsigned long long sz;
	int b;
	const char *why;

	if (d == NULL)
		return 0;
	if (*v == '\0' && (d->value == NULL || *d->value == '\0' ||
	    d->empty_ok))
		return 0;	/* an optional key left empty */
	if (d->type != CT_INT && d->type != CT_BOOL && d->type != CT_SIZE &&
	    d->type != CT_ENUM && d->type != CT_STR)
		return check_typed(d, v, err, errsz);
	switch (d->type) {
	case CT_INT:
		if (num_parse(v, d->min, d->max, &n, &why) == -1) {
			str_fmt(err, errsz, "%s: '%s' is %s (%lld..%lld)",
			    d->key, str_clip(v), why, d->min, d->max);
			return -1;
		}
		break;
	case CT_BOOL:
		if (bool_parse(v, &b) == -1) {
			str_fmt(err, errsz, "%s: '%s' is not a boolean "
			    "(1/0, yes/no, true/false)", d->key, str_clip(v));
			return -1;
		}
		break;
	case CT_SIZE:
		if (size_parse(v, &sz) == -1) {
			str_fmt(err, errsz, "%s: '%s' is not a size "
			    "(a number with an optional K, M or G)", d->key,
			    str_clip(v));
			return -1;
		}
		break;
	case CT_ENUM:
		if (!enum_has(d->choices, v)) {
			str_fmt(err, errsz, "%s: '%s' is not one of %s",
			    d->key, str_clip(v), d->choices);
			return -1;
		}
		break;
	default:
		break;
	}
	return 0;
}

/* Would value be acceptable for key?  (Unknown keys take anything.) */
int
conf_check_value(const char *key, const char *value, char *err, size_t errsz)
{
	struct entry *e = lookup(key);
	struct buf b = { NULL, 0, 0, CONF_MAX_VALUE };
	int rc;

	if (expand(value, &b, 0, err, errsz) == -1) {
		buf_free(&b);
		return -1;
	}
	rc = check_value(e ? e->def : NULL, buf_str(&b), err, errsz);
	buf_free(&b);
	return rc;
}

static void
add_error(struct conf_errors *errs, const char *fmt, ...) PRINTFLIKE(2, 3);

static void
add_error(struct conf_errors *errs, const char *fmt, ...)
{
	va_list ap;

	if (errs == NULL || errs->count >= CONF_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	str_vfmt(errs->msg[errs->count], sizeof(errs->msg[0]), fmt, ap);
	va_end(ap);
	errs->count++;
}

static int
key_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
	    c == '@' || c == '+' || c == '/';
}

/* Unquote a "..." or '...' value in place; err on junk or no close. */
static int
unquote(char *v, const char **why)
{
	char q = *v, *r = v + 1, *w = v;

	while (*r && *r != q) {
		if (q == '"' && *r == '\\' && r[1] != '\0') {
			r++;
			switch (*r) {
			case 'n': *w++ = '\n'; break;
			case 't': *w++ = '\t'; break;
			default: *w++ = *r; break;
			}
			r++;
			continue;
		}
		*w++ = *r++;
	}
	if (*r != q) {
		*why = "unterminated quoted value";
		return -1;
	}
	r++;
	while (*r == ' ' || *r == '\t')
		r++;
	if (*r != '\0' && *r != '#') {
		*why = "text after the closing quote";
		return -1;
	}
	*w = '\0';
	return 0;
}

/*
 * Split one line into key and value.  Returns 1 for a setting, 0 for a
 * blank or comment line, -1 with *why set for a malformed line.
 */
static int
parse_line(char *line, char **keyp, char **valp, const char **why)
{
	char *p = line, *key, *v;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#' || *p == '!' || *p == '@')
		return 0;	/* '@os@' lines of upstream's defaults too */
	key = p;
	while (key_char((unsigned char)*p))
		p++;
	if (p == key) {
		*why = "expected a key";
		return -1;
	}
	v = p;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '=' || *p == ':')
		p++;
	else if (*p != '"' && *p != '\'') {
		*v = '\0';
		*why = *p == '\0' ? "missing '=' after the key" :
		    "invalid character in key";
		return -1;
	}
	*v = '\0';
	v = str_trim(p);
	if ((*v == '"' || *v == '\'') && unquote(v, why) == -1)
		return -1;
	if (strlen(key) >= CONF_MAX_KEY) {
		*why = "key too long";
		return -1;
	}
	*keyp = key;
	*valp = v;
	return 1;
}

struct seen {			/* one setting line of a file */
	char	*key;
	char	*value;		/* as written on that line */
	int	 line;
};

/* Type and ${...} checks, run once the whole file is known. */
static void
check_seen(const char *name, struct seen *seen, size_t nseen,
    enum conf_layer layer, struct conf_errors *errs)
{
	char err[256];
	size_t i;
	struct entry *e;
	struct buf b = { NULL, 0, 0, CONF_MAX_VALUE };

	for (i = 0; i < nseen; i++) {
		e = lookup(seen[i].key);
		if (e == NULL || e->val[layer] == NULL)
			continue;
		buf_reset(&b);
		if (expand(seen[i].value, &b, 0, err, sizeof(err)) == -1 ||
		    check_value(e->def, buf_str(&b), err, sizeof(err)) == -1)
			add_error(errs, "%s:%d: %s", name, seen[i].line, err);
	}
	buf_free(&b);
}

static void
apply_setting(const char *key, const char *value, enum conf_layer layer)
{
	conf_set(layer, key, value);
	if (str_has_prefix(key, "log4perl.appender.") &&
	    strstr(value, "Syslog") != NULL)
		conf_set(layer, "log.syslog", "1");
}

int
conf_parse_buffer(const char *name, const char *text, size_t len,
    enum conf_layer layer, struct conf_errors *errs)
{
	char line[CONF_MAX_LINE + 1], *key, *val;
	const char *p = text, *end = text + len, *nl, *why;
	struct seen *seen = NULL;
	size_t nseen = 0, n, i;
	int lineno = 0, before = errs ? errs->count : 0, rc;

	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		if (memchr(p, '\0', n) != NULL) {
			add_error(errs, "%s:%d: NUL byte in line", name, lineno);
		} else if (n > CONF_MAX_LINE) {
			add_error(errs, "%s:%d: line longer than %d bytes",
			    name, lineno, CONF_MAX_LINE);
		} else {
			memcpy(line, p, n);
			line[n] = '\0';
			rc = parse_line(line, &key, &val, &why);
			if (rc == -1)
				add_error(errs, "%s:%d: %s", name, lineno, why);
			else if (rc == 1) {
				apply_setting(key, val, layer);
				seen = xreallocarray(seen, nseen + 1,
				    sizeof(*seen));
				seen[nseen].key = xstrdup(key);
				seen[nseen].value = xstrdup(val);
				seen[nseen++].line = lineno;
			}
		}
		p = nl ? nl + 1 : end;
	}
	check_seen(name, seen, nseen, layer, errs);
	for (i = 0; i < nseen; i++) {
		free(seen[i].key);
		free(seen[i].value);
	}
	free(seen);
	return errs && errs->count > before ? -1 : 0;
}

int
conf_load_file(const char *path, enum conf_layer layer,
    struct conf_errors *errs)
{
	struct stat st;
	char *text;
	ssize_t r;
	size_t got = 0;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		add_error(errs, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONF_MAX_FILE) {
		add_error(errs, "%s: not a regular file of at most %d bytes",
		    path, CONF_MAX_FILE);
		close(fd);
		return -1;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, text + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	rc = conf_parse_buffer(path, text, got, layer, errs);
	free(text);
	return rc;
}

/* Check every effective value, whatever layer it came from. */
int
conf_check(struct conf_errors *errs)
{
	static const char *layer_names[] = {
		"default", "file", "user file", "configs table", "command line"
	};
	char err[256];
	size_t i;
	enum conf_layer from;
	const char *raw;
	struct buf b = { NULL, 0, 0, CONF_MAX_VALUE };
	int before = errs->count;

	for (i = 0; i < tab.cap; i++) {
		struct entry *e = tab.slot[i];

		if (e == NULL || (raw = effective(e, &from)) == NULL)
			continue;
		buf_reset(&b);
		if (expand(raw, &b, 0, err, sizeof(err)) == -1 ||
		    check_value(e->def, buf_str(&b), err, sizeof(err)) == -1) {
			if (strncmp(err, e->key, strlen(e->key)) == 0)
				add_error(errs, "%s (from the %s)", err,
				    layer_names[from]);
			else
				add_error(errs, "%s: %s (from the %s)", e->key,
				    err, layer_names[from]);
		}
	}
	buf_free(&b);
	return errs->count > before ? -1 : 0;
}

int
conf_get_int(const char *key, long long min, long long max, long long *out)
{
	const char *v = conf_get(key), *why;

	if (v == NULL || *v == '\0') {
		str_fmt(tab.error, sizeof(tab.error), "%s is not set", key);
		return -1;
	}
	if (num_parse(v, min, max, out, &why) == -1) {
		str_fmt(tab.error, sizeof(tab.error),
		    "%s: '%s' is %s (%lld..%lld)", key, v, why, min, max);
		return -1;
	}
	return 0;
}

int
conf_get_bool(const char *key, int *out)
{
	const char *v = conf_get(key);

	if (v == NULL)
		v = "";
	if (bool_parse(v, out) == -1) {
		str_fmt(tab.error, sizeof(tab.error),
		    "%s: '%s' is not a boolean", key, v);
		return -1;
	}
	return 0;
}

int
conf_get_size(const char *key, unsigned long long *out)
{
	const char *v = conf_get(key);

	if (v == NULL || size_parse(v, out) == -1) {
		str_fmt(tab.error, sizeof(tab.error),
		    "%s: '%s' is not a size", key, v ? v : "");
		return -1;
	}
	return 0;
}

/* Integer in the key's declared range; a bad value is logged, dflt used. */
long long
conf_int(const char *key, long long dflt)
{
	const struct conf_default *d = conf_default_find(key);
	long long v;

	if (conf_get_int(key, d ? d->min : -(1LL << 62),
	    d ? d->max : (1LL << 62), &v) == -1) {
		if (conf_get(key) != NULL)
			log_warn("%s; using %lld", tab.error, dflt);
		return dflt;
	}
	return v;
}

int
conf_bool(const char *key)
{
	int v;

	if (conf_get_bool(key, &v) == -1) {
		log_warn("%s; using 0", tab.error);
		return 0;
	}
	return v;
}

static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[CONF_MAX_KEY + 1], prev, tmp, best;

	if (la > CONF_MAX_KEY || lb > CONF_MAX_KEY)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/* The known key closest to an unknown one, or NULL when none is close. */
const char *
conf_suggest(const char *key)
{
	const char *best = NULL;
	size_t i, d, bestd = 4;

	for (i = 0; i < conf_ndefaults; i++) {
		if (conf_defaults[i].type == CT_GROUP)
			continue;
		d = edit_distance(key, conf_defaults[i].key);
		if (d < bestd) {
			bestd = d;
			best = conf_defaults[i].key;
		}
	}
	return best;
}

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp((*(struct entry *const *)a)->key,
	    (*(struct entry *const *)b)->key);
}

/* Every key with a value, sorted, with its expanded value. */
void
conf_foreach(void (*fn)(const char *, const char *, enum conf_layer, void *),
    void *arg)
{
	struct entry **list;
	size_t i, n = 0;
	enum conf_layer from = CONF_DEFAULT;

	if (!tab.ready)
		conf_init();
	list = xcalloc(tab.count ? tab.count : 1, sizeof(*list));
	for (i = 0; i < tab.cap; i++)
		if (tab.slot[i] != NULL && effective(tab.slot[i], NULL))
			list[n++] = tab.slot[i];
	qsort(list, n, sizeof(*list), cmp_entry);
	for (i = 0; i < n; i++) {
		effective(list[i], &from);
		fn(list[i]->key, conf_get(list[i]->key), from, arg);
	}
	free(list);
}

int
conf_errors_print(const struct conf_errors *errs, FILE *fp, const char *prog)
{
	int i;

	for (i = 0; i < errs->count; i++) {
		if (prog != NULL && strchr(errs->msg[i], ':') == NULL)
			fprintf(fp, "%s: %s\n", prog, errs->msg[i]);
		else
			fprintf(fp, "%s\n", errs->msg[i]);
	}
	if (errs->count == CONF_MAX_ERRORS)
		fprintf(fp, "%s: too many errors, stopped counting\n",
		    prog ? prog : "qvd");
	return errs->count;
}

/* -c FILE, else $QVD_CONF, else the component's default path. */
const char *
conf_path_for(const char *dflt, const char *cmdline)
{
	const char *env;

	if (cmdline != NULL)
		return cmdline;
	if ((env = getenv("QVD_CONF")) != NULL && *env != '\0')
		return env;
	return dflt;
}

/*
 * Load a configuration file for a program, print every error as
 * "file:line: message" and exit 1 if there is any.  A missing file is
 * only an error when required (given with -c or QVD_CONF).
 */
int
conf_load_or_die(const char *prog, const char *path, int required)
{
	struct conf_errors errs;

	memset(&errs, 0, sizeof(errs));
	conf_init();
	if (!required && access(path, F_OK) == -1 && errno == ENOENT)
		return 0;
	if (conf_load_file(path, CONF_FILE, &errs) == -1) {
		conf_errors_print(&errs, stderr, prog);
		exit(1);
	}
	return 0;
}

/*
 * A daemon's configuration: dflt, or cmdline (-c) or QVD_CONF instead,
 * loaded and checked.  A missing default file is fine; any error stops
 * the program with status 1 after "file:line: message" lines.  The path.
 */
const char *
conf_load_checked(const char *prog, const char *dflt, const char *cmdline)
{
	struct conf_errors errs;
	const char *path = conf_path_for(dflt, cmdline);

	conf_load_or_die(prog, path, strcmp(path, dflt) != 0);
	memset(&errs, 0, sizeof(errs));
	if (conf_check(&errs) == -1) {
		conf_errors_print(&errs, stderr, prog);
		exit(1);
	}
	return path;
}
