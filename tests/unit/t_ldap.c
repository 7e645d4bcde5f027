/* SPDX-License-Identifier: GPL-3.0-or-later */
/* t_ldap.c -- RFC 4515 filters as BER, and values escaped for them. */

#include <stdio.h>
#include <string.h>

#include "qvd.h"
#include "tap.h"

/* The filter's BER as hex, or "error: ..." */
static const char *
ber_of(const char *filter)
{
	static char out[1024];
	struct buf b = { NULL, 0, 0, 4096 };
	char err[ADMIN_ERRSZ];
	size_t i;

	if (ldap_filter_ber(filter, &b, err) == -1) {
		str_fmt(out, sizeof(out), "error: %s", err);
		buf_free(&b);
		return out;
	}
	for (i = 0; i < b.len && 2 * i + 2 < sizeof(out); i++)
		snprintf(out + 2 * i, 3, "%02x", (unsigned char)b.data[i]);
	out[2 * i] = '\0';
	buf_free(&b);
	return out;
}

int
main(void)
{
	char deep[200], esc[64];
	int i;

	is_str(ber_of("(uid=lana)"), "a30b040375696404046c616e61",
	    "equality");
	is_str(ber_of("(objectClass=*)"), "870b6f626a656374436c617373",
	    "presence");
	is_str(ber_of("(&(a=b)(!(c=d)))"),
	    "a012a306040161040162a208a306040163040164", "and, not");
	is_str(ber_of("(|(uid=x)(cn=x))"),
	    "a113a308040375696404017" "8a3070402636e040178", "or");
	is_str(ber_of("(cn=ab*cd*ef)"),
	    "a4120402636e300c800261628102636482026566", "substrings");
	is_str(ber_of("(cn=*x)"), "a4090402636e3003820178", "final only");
	is_str(ber_of("(a>=5)"), "a506040161040135", "greater or equal");
	is_str(ber_of("(a~=x)"), "a806040161040178", "approximate");
	is_str(ber_of("(cn=a\\2ab)"), "a3090402636e0403612a62",
	    "an escaped * is a value");
	ok(strncmp(ber_of("uid=x"), "error:", 6) == 0, "no parentheses");
	ok(strncmp(ber_of("(uid=x"), "error:", 6) == 0, "unclosed");
	ok(strncmp(ber_of("(uid=x))"), "error:", 6) == 0, "text after");
	ok(strncmp(ber_of("(=x)"), "error:", 6) == 0, "no attribute");
	ok(strncmp(ber_of("(a=b\\zz)"), "error:", 6) == 0, "bad escape");
	ok(strncmp(ber_of("(a=(b)"), "error:", 6) == 0, "( in a value");
	for (i = 0; i < 40; i++)
		memcpy(deep + 2 * i, "(&", 2);
	strcpy(deep + 80, "(a=b)");
	for (i = 0; i < 40; i++)
		deep[85 + i] = ')';
	deep[125] = '\0';
	ok(strstr(ber_of(deep), "too deep") != NULL, "nesting is bounded");
	ldap_escape_value("a*(b)\\", esc, sizeof(esc));
	is_str(esc, "a\\2a\\28b\\29\\5c", "a login escaped for a filter");
	return tap_done();
}
