/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * valid.c -- what a well-formed value looks like: IP addresses, netmasks,
 * host and interface names, umasks, MAC prefixes, paths, and the names
 * administrators give logins, OSFs, VMs, nodes and disk image tags.
 * Each check only reads its argument; the callers word the message.
 */

#include <arpa/inet.h>

#include <ctype.h>
#include <string.h>

#include "qvd.h"

int
valid_ipv4(const char *s)
{
	uint32_t ip;

	return ip_parse(s, &ip) == 0;
}

int
valid_ip(const char *s)
{
	unsigned char tmp[16];

	return inet_pton(AF_INET, s, tmp) == 1 ||
	    inet_pton(AF_INET6, s, tmp) == 1;
}

/* "a,b,c": IP addresses, at most 64 of them (spaces around commas). */
int
valid_ip_list(const char *s)
{
	char item[64];
	size_t n;
	int count = 0;

	for (;;) {
		s += strspn(s, " ");
		n = strcspn(s, ",");
		if (n == 0 || n >= sizeof(item) || ++count > 64)
			return 0;
		memcpy(item, s, n);
		item[n] = '\0';
		while (n > 0 && item[n - 1] == ' ')
			item[--n] = '\0';
		if (!valid_ip(item))
			return 0;
		if (s[strcspn(s, ",")] == '\0')
			return 1;
		s += strcspn(s, ",") + 1;
	}
}

/* Only digits and dots: meant as an IPv4 address, never a host name. */
static int
looks_numeric(const char *s)
{
	for (; *s; s++)
		if (!isdigit((unsigned char)*s) && *s != '.')
			return 0;
	return 1;
}

/* RFC 1123: dot-separated labels of letters, digits and inner hyphens. */
int
valid_hostname(const char *s)
{
	size_t len = strlen(s), label = 0;
	const char *p;

	if (len == 0 || len > 253 || looks_numeric(s))
		return 0;
	for (p = s; *p; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return 0;
		if (*p == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && p[-1] != '-';
}

int
valid_host(const char *s)
{
	return valid_ip(s) || valid_hostname(s);
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/* A network interface name as Linux takes it (IFNAMSIZ - 1 bytes). */
int
valid_ifname(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= 15 && strspn(s, ALNUM "-_.") == len;
}

/* Octal, at most 0777: 1 to 3 digits, or 4 with a leading 0. */
int
valid_umask(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= 4 && strspn(s, "01234567") == len &&
	    (len < 4 || s[0] == '0');
}

/* Three bytes, "54:52:00"; the first even (a unicast address). */
int
valid_mac_prefix(const char *s)
{
	int i;

	if (strlen(s) != 8)
		return 0;
	for (i = 0; i < 8; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':')
				return 0;
		} else if (hex_digit((unsigned char)s[i]) < 0) {
			return 0;
		}
	}
	return (hex_digit((unsigned char)s[1]) & 1) == 0;
}

/* No control characters; absolute when asked. */
int
valid_path(const char *s, int absolute)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*s == '\0' || (absolute && *s != '/'))
		return 0;
	for (; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* ---- names ---- */

static const struct name_rule {
	const char	*extra;		/* allowed besides letters and digits */
	size_t		 max;
	const char	*doc;
} name_rules[] = {
	[NAME_LOGIN] = { "._@-", 64, "letters, digits and . _ @ -, starting "
	    "with a letter or digit, at most 64" },
	[NAME_OBJECT] = { "._-", 64, "letters, digits and . _ -, starting "
	    "with a letter or digit, at most 64" },
	[NAME_TAG] = { "._+:-", 128, "letters, digits and . _ + : -, "
	    "starting with a letter or digit, at most 128" },
};

/* The rule of a kind of name, in words (for messages and qa(1)). */
const char *
name_rule_doc(enum name_kind kind)
{
	return name_rules[kind].doc;
}

/*
 * Is s a well-formed name of this kind?  what is how the message calls
 * it ("OSF name"); the echoed value is clipped, the rule always shown.
 */
int
valid_name(enum name_kind kind, const char *what, const char *s, char *err,
    size_t errsz)
{
	const struct name_rule *r = &name_rules[kind];
	const char *p;

	if (*s == '\0') {
		str_fmt(err, errsz, "%s must not be empty", what);
		return -1;
	}
	if (strlen(s) > r->max) {
		str_fmt(err, errsz, "%s '%s' is longer than %zu characters",
		    what, str_clip(s), r->max);
		return -1;
	}
	for (p = s; *p; p++)
		if (!isalnum((unsigned char)*p) &&
		    (p == s || strchr(r->extra, *p) == NULL))
			break;
	if (*p != '\0') {
		str_fmt(err, errsz, "%s '%s' is not allowed: %s", what,
		    str_clip(s), r->doc);
		return -1;
	}
	return 0;
}
