/* SPDX-License-Identifier: GPL-3.0-or-later */
/* nx.c -- NX option strings, link presets and nxagent's state lines. */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qvd.h"

/* Values that go into an NX option string: [A-Za-z0-9_/+-] only. */
int
nx_value_ok(const char *v)
{
	if (*v == '\0' || strlen(v) > 64)
		return 0;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && *v != '_' && *v != '/' &&
		    *v != '+' && *v != '-')
			return 0;
	return 1;
}

/* Raw extra options: name=value pairs separated by commas. */
static int
extra_ok(const char *v)
{
	if (strlen(v) > 256)
		return 0;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && strchr("_/+-=.,", *v) == NULL)
			return 0;
	return 1;
}

/* The value of key among the call's parameters, or NULL. */
const char *
nx_param(const struct nx_params *p, const char *key)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->key[i], key) == 0)
			return p->val[i];
	return NULL;
}

/*
 * The nxagent options line "nx/nx,k=v,...:D" from the client's
 * qvd.client.* parameters, falling back to vma.default.client.*.
 * -1 with err naming a value outside [A-Za-z0-9_/+-].
 */
int
nx_agent_options(const struct nx_params *p, int display, int audio,
    int slave, int printing, char *out, size_t outsz, char *err,
    size_t errsz)
{
	static const struct { const char *opt, *param, *dflt; } map[] = {
		{ "keyboard", "qvd.client.keyboard",
		    "vma.default.client.keyboard" },
		{ "client", "qvd.client.os", "vma.default.client.os" },
		{ "link", "qvd.client.link", "vma.default.client.link" },
		{ "geometry", "qvd.client.geometry",
		    "vma.default.client.geometry" },
		{ "fullscreen", "qvd.client.fullscreen",
		    "vma.default.client.fullscreen" },
	};
	struct buf b = { NULL, 0, 0, 1024 };
	const char *v, *os, *extra;
	size_t i;
	int rc = -1;

	buf_adds(&b, "nx/nx");
	for (i = 0; i < ARRAY_LEN(map); i++) {
		v = nx_param(p, map[i].param);
		if (v == NULL || *v == '\0')
			v = conf_get(map[i].dflt);
		if (v == NULL || *v == '\0')
			continue;
		if (!nx_value_ok(v)) {
			str_fmt(err, errsz, "%s: '%s' is not allowed (only "
			    "letters, digits and _ / + -)", map[i].param, v);
			goto out;
		}
		buf_printf(&b, ",%s=%s", map[i].opt, v);
	}
	/* a resumed session fits the new screen (nxagent keeps the first
	 * one's size otherwise) */
	buf_adds(&b, ",resize=1");
	if (audio)
		buf_adds(&b, ",media=1");
	if (slave)
		buf_adds(&b, ",slave=1");
	extra = nx_param(p, "qvd.client.nxagent.extra_args");
	if (extra != NULL && *extra != '\0') {
		if (!extra_ok(extra)) {
			str_fmt(err, errsz, "qvd.client.nxagent.extra_args: "
			    "'%s' is not allowed", extra);
			goto out;
		}
		buf_printf(&b, ",%s", extra);
	}
	if (printing) {
		os = nx_param(p, "qvd.client.os");
		buf_printf(&b, ",%s=%d", os && strcmp(os, "windows") == 0 ?
		    "smb" : "cups", display + 2000);
	}
	buf_printf(&b, ":%d", display);
	if (str_copy(out, buf_str(&b), outsz) == -1) {
		str_copy(err, "NX options too long", errsz);
		goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

/*
 * nxagent's own state from one line of its output ("Session: Starting
 * session at ...", "Session: Session suspended at ..."), lower-cased.
 * 0 when the line carries no state.
 */
int
nx_parse_state_line(const char *line, char *state, size_t statesz)
{
	const char *w, *tail;
	size_t n;

	if (!str_has_prefix(line, "Session: "))
		return 0;
	w = line + 9;
	if (str_has_prefix(w, "Session ")) {
		w += 8;			/* "Session <Word> at ..." */
		tail = " at";
	} else
		tail = " session at";	/* "<Word> session at ..." */
	n = strcspn(w, " ");
	if (n == 0 || n >= statesz || strncmp(w + n, tail, strlen(tail)) != 0)
		return 0;
	memcpy(state, w, n);
	state[n] = '\0';
	str_lower(state);
	return 1;
}

/* The VMA's x_state for an NX state (upstream's table, reference 3.3). */
const char *
nx_x_state(const char *nx)
{
	static const struct { const char *nx, *x; } map[] = {
		{ "initiating", "starting" }, { "provisioning", "provisioning" },
		{ "starting", "listening" }, { "resuming", "listening" },
		{ "started", "connected" }, { "resumed", "connected" },
		{ "suspending", "suspending" }, { "suspended", "suspended" },
		{ "terminating", "stopping" }, { "aborting", "stopping" },
		{ "aborted", "stopped" }, { "terminated", "stopped" },
		{ "stopped", "stopped" },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(map); i++)
		if (strcmp(nx, map[i].nx) == 0)
			return map[i].x;
	return "stopped";
}

/*
 * nxproxy's link option for client.link: the named presets, or a
 * bandwidth such as 56k, 1m, 100m (mapped to the nearest preset).
 */
int
nx_link(const char *link, char *out, size_t outsz)
{
	static const char *presets[] = {
		"modem", "isdn", "adsl", "wan", "lan", "local"
	};
	static const struct { unsigned long long bps; const char *name; }
	    bands[] = {
		{ 64000ULL, "modem" }, { 128000ULL, "isdn" },
		{ 2000000ULL, "adsl" }, { 20000000ULL, "wan" },
		{ 200000000ULL, "lan" },
	};
	unsigned long long bytes;
	size_t i;
	char num[32];

	for (i = 0; i < ARRAY_LEN(presets); i++)
		if (strcasecmp(link, presets[i]) == 0)
			return str_copy(out, presets[i], outsz);
	if (str_copy(num, link, sizeof(num)) == -1 || size_parse(num, &bytes)
	    == -1)
		return -1;
	bytes = strpbrk(link, "kKmMgG") ? bytes / 1024 * 1000 : bytes;
	for (i = 0; i < ARRAY_LEN(bands); i++)
		if (bytes <= bands[i].bps)
			return str_copy(out, bands[i].name, outsz);
	return str_copy(out, "local", outsz);
}

/*
 * The local nxproxy's options (its NX_DISPLAY): the -x string as given,
 * else the link from client.link plus client.nxproxy.extra_args.  (The
 * link that counts is nxagent's, from qvd.client.link; nxproxy -S notes
 * its own and ignores it, but needs some option after "nx/nx,".)
 */
int
nx_proxy_options(const char *given, const char *link, const char *extra,
    char *out, size_t outsz, char *err, size_t errsz)
{
	char preset[16];

	if (given != NULL && *given != '\0')
		return str_copy(out, given, outsz) == -1 ?
		    (str_copy(err, "the NX options are too long", errsz), -1) :
		    0;
	if (nx_link(link, preset, sizeof(preset)) == -1) {
		str_fmt(err, errsz, "bad link '%s': use modem, isdn, adsl, wan, "
		    "lan, local or a bandwidth such as 2m", link);
		return -1;
	}
	if (extra != NULL && *extra != '\0' && !extra_ok(extra)) {
		str_fmt(err, errsz, "bad client.nxproxy.extra_args '%s'", extra);
		return -1;
	}
	if (str_fmt(out, outsz, "nx/nx,link=%s%s%s:0", preset, extra && *extra ?
	    "," : "", extra ? extra : "") == -1) {
		str_copy(err, "the NX options are too long", errsz);
		return -1;
	}
	return 0;
}
