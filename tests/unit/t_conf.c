/* SPDX-License-Identifier: GPL-3.0-or-later */
/* t_conf.c -- config syntax, errors, interpolation, layers, typed getters. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"
#include "tap.h"

static int
parse(const char *text, struct conf_errors *errs)
{
	char *copy = tap_copy(text, strlen(text));
	int rc;

	memset(errs, 0, sizeof(*errs));
	rc = conf_parse_buffer("node.conf", copy, strlen(text), CONF_FILE,
	    errs);
	free(copy);
	return rc;
}

static void
test_syntax(void)
{
	struct conf_errors e;

	conf_free();
	ok(parse("# comment\n\nnodename = node1\n  database.host=  /tmp/pg  \n"
	    "custom.key: colon value\n", &e) == 0, "valid file parses");
	is_str(conf_get("nodename"), "node1", "key = value");
	is_str(conf_get("database.host"), "/tmp/pg", "blanks trimmed");
	is_str(conf_get("custom.key"), "colon value", "key: value accepted");
	ok(parse("a.b = \"  quoted # not a comment \"\nc.d = 'single'\n"
	    "e.f = \"esc \\\"q\\\" \\\\\"\ng.h = pass#word\n", &e) == 0,
	    "quoted values parse");
	is_str(conf_get("a.b"), "  quoted # not a comment ", "double quotes");
	is_str(conf_get("c.d"), "single", "single quotes");
	is_str(conf_get("e.f"), "esc \"q\" \\", "escapes in double quotes");
	is_str(conf_get("g.h"), "pass#word", "# inside unquoted value kept");
	ok(parse("client.slave.command \"/path/to/slave\"\n", &e) == 0,
	    "manual's key \"value\" form accepted");
	is_str(conf_get("client.slave.command"), "/path/to/slave",
	    "key \"value\" form value");
}

static void
test_errors(void)
{
	struct conf_errors e;

	conf_free();
	ok(parse("good = 1\nthis is garbage\nx = \"unterminated\n"
	    "y = \"a\" trailing\n= novalue\nlog.level = LOUD\n"
	    "l7r.port = 99999\nvm.overlay.persistent = perhaps\n"
	    "p = ${no.such.key}/x\n", &e) == -1, "bad file fails");
	is_int(e.count, 8, "every error collected");
	is_str(e.msg[0], "node.conf:2: invalid character in key",
	    "garbage line named with its line");
	is_str(e.msg[1], "node.conf:3: unterminated quoted value",
	    "unterminated quote");
	is_str(e.msg[2], "node.conf:4: text after the closing quote",
	    "junk after quote");
	is_str(e.msg[3], "node.conf:5: expected a key", "missing key");
	ok(strstr(e.msg[4], "node.conf:6: log.level: 'LOUD' is not one of")
	    != NULL, "bad log level: %s", e.msg[4]);
	ok(strstr(e.msg[5], "node.conf:7: l7r.port: '99999' is too large")
	    != NULL, "port out of range: %s", e.msg[5]);
	ok(strstr(e.msg[6], "node.conf:8: vm.overlay.persistent: 'perhaps' "
	    "is not a boolean") != NULL, "bad boolean: %s", e.msg[6]);
	is_str(e.msg[7], "node.conf:9: unknown key 'no.such.key' in "
	    "${no.such.key}", "unknown reference");
	ok(parse("lonely\n", &e) == -1 && e.count == 1 &&
	    strcmp(e.msg[0], "node.conf:1: missing '=' after the key") == 0,
	    "a key without value");
	ok(parse("a = ${b}\nb = ${a}\n", &e) == -1 && e.count == 2,
	    "a reference loop is an error");
}

static void
test_interpolation(void)
{
	struct conf_errors e;

	conf_free();
	ok(parse("path.storage.root = /srv/qvd\n", &e) == 0, "root set");
	is_str(conf_get("path.storage.images"), "/srv/qvd/images",
	    "default ${path.storage.root} follows the file");
	is_str(conf_get("path.storage.overlayfs"), "/srv/qvd/overlayfs",
	    "two levels of ${...}");
	ok(parse("x.y = literal $${not} ${path.storage.root}\n", &e) == 0,
	    "$${ escape parses");
	is_str(conf_get("x.y"), "literal ${not} /srv/qvd", "$${ is literal");
}

static void
test_layers(void)
{
	struct conf_errors e;
	long long n = 0;
	int b = 0;

	conf_free();
	is_str(conf_get("l7r.port"), "8443", "built-in default");
	parse("l7r.port = 9443\nnodename = a\nlog.level = DEBUG\n", &e);
	is_str(conf_get("l7r.port"), "9443", "file beats default");
	conf_set(CONF_DB, "l7r.port", "10443");
	conf_set(CONF_DB, "nodename", "evil");
	conf_set(CONF_DB, "log.level", "OFF");
	is_str(conf_get("l7r.port"), "10443", "configs table beats file");
	is_str(conf_get("nodename"), "a", "nodename is file only");
	is_str(conf_get("log.level"), "DEBUG", "log.* is file only");
	conf_clear_layer(CONF_DB);
	is_str(conf_get("l7r.port"), "9443", "clearing the db layer");
	ok(conf_get_int("l7r.port", 1, 65535, &n) == 0 && n == 9443,
	    "conf_get_int in range");
	ok(conf_get_int("l7r.port", 1, 1000, &n) == -1 &&
	    strstr(conf_error(), "too large") != NULL,
	    "conf_get_int out of range: %s", conf_error());
	ok(conf_get_bool("l7r.use_ssl", &b) == 0 && b == 1, "boolean getter");
	conf_set(CONF_DB, "vm.network.bridge", "${nope}");
	memset(&e, 0, sizeof(e));
	ok(conf_check(&e) == -1 && strstr(e.msg[0], "configs table"),
	    "conf_check names the configs table: %s", e.msg[0]);
	is_str(conf_suggest("17r.loadbalancer.plugin.default.weight.cpu"),
	    "l7r.loadbalancer.plugin.default.weight.cpu",
	    "17r suggests l7r (the manual's typo)");
	ok(conf_suggest("colour") == NULL, "nothing close to colour");
}

static void
test_truncated(void)
{
	const char *text = "nodename = n\nx = \"quoted value\"\n"
	    "path.run = ${path.tmp}/run\ny = 'z'\n# end\n";
	struct conf_errors e;
	size_t i;

	for (i = 0; i <= strlen(text); i++) {
		char *c = tap_copy(text, i);

		conf_free();
		memset(&e, 0, sizeof(e));
		conf_parse_buffer("t", c, i, CONF_FILE, &e);
		free(c);
	}
	ok(1, "every prefix of a config parses or fails cleanly");
}

static void
test_defaults_table(void)
{
	size_t i, bad = 0;
	struct conf_errors e;

	conf_free();
	conf_init();
	memset(&e, 0, sizeof(e));
	ok(conf_check(&e) == 0, "every default value has its declared type");
	for (i = 0; i < conf_ndefaults; i++)
		if (conf_defaults[i].type != CT_GROUP &&
		    (conf_defaults[i].doc == NULL ||
		    *conf_defaults[i].doc == '\0'))
			bad++;
	is_int(bad, 0, "every key is documented");
	ok(conf_default_find("vm.network.ip.start") != NULL &&
	    conf_get("vm.network.ip.start") == NULL,
	    "mandatory keys have no default");
	ok(conf_default_find("auth.ldap.racf_allowregex") != NULL &&
	    conf_default_find("vma.on_provisioning.mount_home") != NULL &&
	    conf_default_find("wat.admin.password") != NULL &&
	    conf_default_find("hkd.vm.starting.max") != NULL &&
	    conf_default_find("client.force.link") != NULL,
	    "keys of the manual's chapters are known");
}

/* Each typed key refuses a malformed value with its rule, takes a good one. */
static void
test_typed_values(void)
{
	static const struct { const char *key, *value, *why; } bad[] = {
		{ "vm.network.netmask", "33", "not a netmask" },
		{ "vm.network.netmask", "255.0.255.0", "not a netmask" },
		{ "vm.network.ip.start", "notanip", "not an IPv4 address" },
		{ "vm.network.ip.start", "999.999.1.1", "not an IPv4 address" },
		{ "vm.network.gateway", "10.0.0", "not an IPv4 address" },
		{ "vm.network.mac.prefix", "55:52:00", "not a MAC prefix" },
		{ "vm.network.bridge", "a-bridge-name-too-long", "interface" },
		{ "l7r.address", "not-an-ip", "not an IP address or *" },
		{ "vm.network.domain", "bad domain", "not a host name" },
		{ "client.host.name", "999.1.1.1", "not a host name" },
		{ "hkd.user.umask", "0999", "not a umask" },
		{ "path.storage.root", "relative/dir", "not an absolute path" },
		{ "command.lxc-start", "bin/lxc-start", "not a program" },
		{ "l7r.auth.plugins", "default,nosuch", "default|ldap|auto" },
		{ "l7r.port", "0", "too small" },
	};
	static const struct { const char *key, *value; } good[] = {
		{ "vm.network.netmask", "24" },
		{ "vm.network.netmask", "255.255.255.0" },
		{ "vm.network.ip.start", "10.3.15.50" },
		{ "vm.network.dns_server", "" },
		{ "vm.network.domain", "vms.example.org" },
		{ "l7r.address", "*" },
		{ "l7r.address", "::1" },
		{ "client.host.name", "qvd-1.example.org" },
		{ "hkd.user.umask", "077" },
		{ "command.tar", "tar" },
		{ "log.filename", "" },
		{ "l7r.auth.plugins", "ldap, default" },
	};
	char err[256];
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		err[0] = '\0';
		ok(conf_check_value(bad[i].key, bad[i].value, err,
		    sizeof(err)) == -1 && strstr(err, bad[i].why) != NULL &&
		    strstr(err, bad[i].key) != NULL, "%s=%s refused: %s",
		    bad[i].key, bad[i].value, err);
	}
	for (i = 0; i < ARRAY_LEN(good); i++)
		ok(conf_check_value(good[i].key, good[i].value, err,
		    sizeof(err)) == 0, "%s=%s taken", good[i].key,
		    good[i].value);
}

/* A long value is echoed cut, and the reason still comes. */
static void
test_clipped_echo(void)
{
	char big[10000], err[256];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(conf_check_value("vm.network.ip.start", big, err, sizeof(err)) ==
	    -1 && strstr(err, "...' is not an IPv4 address") != NULL &&
	    strlen(err) < 120, "10 kB value: clipped echo, reason kept: %s",
	    err);
}

int
main(void)
{
	test_syntax();
	test_errors();
	test_interpolation();
	test_layers();
	test_truncated();
	test_defaults_table();
	test_typed_values();
	test_clipped_echo();
	conf_free();
	return tap_done();
}
