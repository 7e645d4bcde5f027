/* SPDX-License-Identifier: GPL-3.0-or-later */
/* t_x11.c -- DISPLAY, .Xauthority entries, the setup answer and the XKB
 * names as x11.c reads them; every byte string also tried truncated. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qvd.h"
#include "tap.h"

static void
displays(void)
{
	struct x11_where w;
	char err[256];

	ok(x11_parse_display(":0", &w, err, sizeof(err)) == 0 && w.local &&
	    w.number == 0 && w.screen == 0, ":0 is local display 0");
	ok(x11_parse_display(":12.1", &w, err, sizeof(err)) == 0 &&
	    w.number == 12 && w.screen == 1, ":12.1: display 12, screen 1");
	ok(x11_parse_display("unix:3", &w, err, sizeof(err)) == 0 && w.local &&
	    w.number == 3, "unix:3 is local");
	ok(x11_parse_display("localhost:10.0", &w, err, sizeof(err)) == 0 &&
	    !w.local && strcmp(w.host, "localhost") == 0 && w.number == 10,
	    "localhost:10.0 (ssh -X) is TCP");
	ok(x11_parse_display("tcp/kiosk.lan:1", &w, err, sizeof(err)) == 0 &&
	    !w.local && strcmp(w.host, "kiosk.lan") == 0 && w.number == 1,
	    "tcp/ prefix");
	ok(x11_parse_display("[::1]:2", &w, err, sizeof(err)) == 0 &&
	    strcmp(w.host, "::1") == 0 && w.number == 2, "[IPv6]:2");
	ok(x11_parse_display("unix/:4", &w, err, sizeof(err)) == 0 && w.local,
	    "unix/ prefix is local");
	ok(x11_parse_display("/tmp/launch-x/org.xquartz:0", &w, err,
	    sizeof(err)) == 0 && w.local && strcmp(w.path,
	    "/tmp/launch-x/org.xquartz") == 0, "a socket path");
	ok(x11_parse_display(NULL, &w, err, sizeof(err)) == -1 &&
	    strcmp(err, "DISPLAY is not set") == 0, "unset: said so");
	ok(x11_parse_display("nonsense", &w, err, sizeof(err)) == -1 &&
	    strstr(err, "'nonsense' is not of the form") != NULL,
	    "no colon: named");
	ok(x11_parse_display("host::0", &w, err, sizeof(err)) == -1,
	    "DECnet refused");
	ok(x11_parse_display(":x", &w, err, sizeof(err)) == -1, ":x refused");
	ok(x11_parse_display(":", &w, err, sizeof(err)) == -1, "no number");
	ok(x11_parse_display(":99999", &w, err, sizeof(err)) == -1,
	    "a number past TCP's ports refused");
	ok(x11_parse_display(":0.x", &w, err, sizeof(err)) == -1,
	    "a bad screen refused");
	ok(x11_parse_display("ftp/host:0", &w, err, sizeof(err)) == -1,
	    "an unknown protocol refused");
}

/* One .Xauthority entry: big-endian counted fields. */
static size_t
entry(unsigned char *p, unsigned family, const char *addr, size_t alen,
    const char *num, const char *name, const char *data, size_t dlen)
{
	const char *f[4] = { addr, num, name, data };
	size_t l[4] = { alen, strlen(num), strlen(name), dlen }, n = 2, i;

	p[0] = family >> 8;
	p[1] = family & 0xff;
	for (i = 0; i < 4; i++) {
		p[n] = l[i] >> 8;
		p[n + 1] = l[i] & 0xff;
		memcpy(p + n + 2, f[i], l[i]);
		n += 2 + l[i];
	}
	return n;
}

static void
authority(void)
{
	unsigned char file[512];
	struct x11_cookie ck;
	const char *c1 = "0123456789abcdef", *c2 = "fedcba9876543210";
	unsigned char ip[4] = { 10, 0, 0, 7 };
	size_t n = 0, k;
	int bad = 0;

	n += entry(file + n, 256, "otherhost", 9, "0", "MIT-MAGIC-COOKIE-1",
	    c2, 16);
	n += entry(file + n, 256, "vm", 2, "5", "XDM-AUTHORIZATION-1", c2, 16);
	n += entry(file + n, 256, "vm", 2, "5", "MIT-MAGIC-COOKIE-1", c1, 16);
	n += entry(file + n, 0, (const char *)ip, 4, "", "MIT-MAGIC-COOKIE-1",
	    c2, 16);
	is_int(x11_auth_find(file, n, 256, "vm", 2, 5, &ck), 1,
	    "this host's entry for display 5");
	ok(ck.len == 16 && memcmp(ck.data, c1, 16) == 0,
	    "its MIT cookie, not the XDM one before it");
	is_int(x11_auth_find(file, n, 256, "vm", 2, 6, &ck), 0,
	    "none for display 6");
	is_int(x11_auth_find(file, n, 0, ip, 4, 9, &ck), 1,
	    "an address entry without a number matches any display");
	ok(memcmp(ck.data, c2, 16) == 0, "with its cookie");
	n += entry(file + n, 65535, "", 0, "", "MIT-MAGIC-COOKIE-1", c1, 16);
	is_int(x11_auth_find(file, n, 256, "elsewhere", 9, 1, &ck), 1,
	    "a wildcard entry matches any host");
	for (k = 0; k < n; k++)		/* truncated: never past the end */
		if (x11_auth_find(file, k, 256, "none", 4, 77, &ck) == 1)
			bad++;
	is_int(bad, 0, "truncated files find nothing they do not hold");
	file[0] = 0xff;			/* a length past the end */
	file[2] = 0xff;
	is_int(x11_auth_find(file, n, 256, "vm", 2, 5, &ck), -1,
	    "a field longer than the file: malformed");
}

static void
put16(unsigned char *p, unsigned v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void
put32(unsigned char *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

/* A setup answer's data: vendor, 1 format, 2 screens of 1 depth each. */
static size_t
setup_answer(unsigned char *d)
{
	size_t n = 32;
	int s;

	memset(d, 0, 512);
	put16(d + 16, 5);		/* vendor "X.Org" */
	d[20] = 2;			/* screens */
	d[21] = 1;			/* formats */
	memcpy(d + n, "X.Org", 5);
	n += 8 + 8;			/* vendor padded, one format */
	for (s = 0; s < 2; s++) {
		put32(d + n, 0x100 + (uint32_t)s);	/* root */
		put16(d + n + 20, s ? 800 : 1280);
		put16(d + n + 22, s ? 600 : 1024);
		d[n + 39] = 1;		/* depths */
		n += 40;
		d[n] = 24;
		put16(d + n + 2, 2);	/* visuals */
		n += 8 + 2 * 24;
	}
	return n;
}

static void
setup(void)
{
	unsigned char d[512];
	struct x11_conn x;
	size_t n = setup_answer(d), k;
	char err[256];
	int bad = 0;

	ok(x11_parse_setup(d, n, 0, &x, err, sizeof(err)) == 0 &&
	    x.root == 0x100 && x.width == 1280 && x.height == 1024,
	    "screen 0: its root and size");
	ok(x11_parse_setup(d, n, 1, &x, err, sizeof(err)) == 0 &&
	    x.root == 0x101 && x.width == 800 && x.height == 600,
	    "screen 1, past screen 0's depths and visuals");
	ok(x11_parse_setup(d, n, 2, &x, err, sizeof(err)) == -1 &&
	    strstr(err, "no screen 2") != NULL, "screen 2: there is none");
	for (k = 0; k < n; k++)	/* screen 1's own 40 bytes end at 184 */
		if ((x11_parse_setup(d, k, 1, &x, err, sizeof(err)) == 0) !=
		    (k >= 184))
			bad++;
	is_int(bad, 0, "truncated before what it needs: refused, after: not");
	put16(d + 32 + 16 + 40 + 2, 60000);	/* visuals past the end */
	ok(x11_parse_setup(d, n, 1, &x, err, sizeof(err)) == -1,
	    "a visual count past the end refused");
}

static void
keyboards(void)
{
	static const char names[] = "evdev\0pc105\0de,us\0nodeadkeys\0grp:x";
	char out[64];
	size_t k;
	int bad = 0;

	ok(x11_parse_xkb_names((const unsigned char *)names, sizeof(names) - 1,
	    out, sizeof(out)) == 0, "rules names parsed");
	is_str(out, "pc105/de", "model and the first layout");
	ok(x11_parse_xkb_names((const unsigned char *)"evdev\0\0us\0", 10,
	    out, sizeof(out)) == -1, "no model: unknown");
	ok(x11_parse_xkb_names((const unsigned char *)"e\0pc105\0u;s\0", 12,
	    out, sizeof(out)) == -1, "a layout nxagent could not take: "
	    "unknown");
	for (k = 0; k < 13; k++)
		if (x11_parse_xkb_names((const unsigned char *)names, k, out,
		    sizeof(out)) == 0 && strcmp(out, "pc105/de") != 0)
			bad++;
	is_int(bad, 0, "truncated: nothing wrong made of it");
}

int
main(void)
{
	displays();
	authority();
	setup();
	keyboards();
	return tap_done();
}
