/* SPDX-License-Identifier: GPL-3.0-or-later */
/* confdoc.c -- writes node.conf(5) from its template and the defaults table. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"

/* mdoc text must not start a line with '.' or contain a bare backslash. */
static void
put_text(const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", stdout);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", stdout);
		else
			putchar(*s);
	}
}

static const char *
type_name(const struct conf_default *d)
{
	switch (d->type) {
	case CT_INT: return "integer";
	case CT_BOOL: return "boolean";
	case CT_SIZE: return "size";
	case CT_PATH: return "absolute path";
	case CT_RELPATH: return "path";
	case CT_CMD: return "program";
	case CT_LIST: return d->choices;
	case CT_IP: return "IPv4 address";
	case CT_NETMASK: return "netmask";
	case CT_BIND: return "IP address or *";
	case CT_IPLIST: return "IP addresses, comma-separated";
	case CT_HOST: return "host name or IP address";
	case CT_IFNAME: return "interface name";
	case CT_UMASK: return "umask";
	case CT_MAC3: return "MAC prefix";
	case CT_ENUM: return d->choices;
	default: return "string";
	}
}

static const char *const *prefixes;	/* NULL: every key */

static int
wanted(const char *key)
{
	int i;

	if (prefixes == NULL)
		return 1;
	for (i = 0; prefixes[i] != NULL; i++)
		if (strncmp(key, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

static void
print_table(void)
{
	size_t i;
	int open = 0;
	const char *group = NULL;

	for (i = 0; i < conf_ndefaults; i++) {
		const struct conf_default *d = &conf_defaults[i];

		if (d->type == CT_GROUP) {
			group = d->key;
			continue;
		}
		if (!wanted(d->key))
			continue;
		if (group != NULL) {
			if (open)
				puts(".El");
			printf(".Ss %s\n.Bl -tag -width Ds\n", group);
			open = 1;
			group = NULL;
		}
		printf(".It Cm %s Pq ", d->key);
		put_text(type_name(d));
		putchar('\n');
		put_text(d->doc);
		putchar('\n');
		if (d->type == CT_INT && d->min != d->max)
			printf("Range %lld to %lld.\n", d->min, d->max);
		if (d->value == NULL)
			puts("No default.");
		else if (*d->value == '\0')
			puts("Default: empty.");
		else {
			fputs("Default:\n.Ql ", stdout);
			put_text(d->value);
			putchar('\n');
		}
	}
	if (open)
		puts(".El");
}

int
main(int argc, char **argv)
{
	char line[1024];
	FILE *fp;

	if (argc < 2 || (fp = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "usage: confdoc template [key-prefix ...]\n");
		return 2;
	}
	if (argc > 2)
		prefixes = (const char *const *)argv + 2;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strcmp(line, "@KEYS@\n") == 0)
			print_table();
		else
			fputs(line, stdout);
	}
	fclose(fp);
	return 0;
}
