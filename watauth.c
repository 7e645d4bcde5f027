/* SPDX-License-Identifier: GPL-3.0-or-later */
/* watauth.c -- who is asking the WAT: the single administrator of
 * wat.admin.login/password (manual 4.2.1), logged in by a signed session
 * cookie ("expiry.login.hmac") or HTTP Basic for scripts; CSRF tokens
 * derived from the session; throttled failed logins; the flash cookie that
 * carries an action's message to the next page. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "qvd.h"

#define FLASH_COOKIE	"qvdmsg"

static unsigned char session_key[32];	/* made at start: restart = logout */

void
wat_auth_init(void)
{
	if (RAND_bytes(session_key, sizeof(session_key)) != 1) {
		fprintf(stderr, "qvd-wat: no randomness for the session key\n");
		exit(1);
	}
}

static void
hmac_hex(const char *data, char *out, size_t outsz)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	HMAC(EVP_sha256(), session_key, sizeof(session_key),
	    (const unsigned char *)data, strlen(data), md, &n);
	if (str_hex(md, n, out, outsz) == -1)
		abort();	/* a caller's buffer too short: a bug */
}

static int
same(const char *a, const char *b)
{
	return strlen(a) == strlen(b) && CRYPTO_memcmp(a, b, strlen(a)) == 0;
}

static void
make_cookie(const char *login, char *out, size_t outsz)
{
	char data[200], mac[80];

	str_fmt(data, sizeof(data), "%lld.%s", wall_ms() / 1000 +
	    conf_int("wat.session.timeout", 3600), login);
	hmac_hex(data, mac, sizeof(mac));
	str_fmt(out, outsz, "%s.%s", data, mac);
}

/* The admin a cookie value names, if it is ours and not expired. */
static int
check_cookie(const char *value, char *login, size_t loginsz)
{
	char data[200], mac[80], *dot1;
	const char *dot2, *why;
	long long expiry;

	if ((dot2 = strrchr(value, '.')) == NULL ||
	    (size_t)(dot2 - value) >= sizeof(data))
		return -1;
	memcpy(data, value, (size_t)(dot2 - value));
	data[dot2 - value] = '\0';
	hmac_hex(data, mac, sizeof(mac));
	if (!same(dot2 + 1, mac) || (dot1 = strchr(data, '.')) == NULL)
		return -1;
	*dot1 = '\0';
	if (num_parse(data, 0, 1LL << 40, &expiry, &why) == -1 ||
	    expiry < wall_ms() / 1000)
		return -1;
	return str_copy(login, dot1 + 1, loginsz);
}

/* wat.admin.password: hashed (qa config set), or the plain default. */
static int
admin_ok(const char *login, const char *password)
{
	const char *want = conf_get("wat.admin.password");

	if (strcmp(login, conf_get("wat.admin.login")) != 0)
		return 0;
	if (str_has_prefix(want, "$"))
		return pass_verify(password, want, NULL);
	return same(password, want);
}

/* One login attempt, throttled per address: 1 good, 0 wrong, or the
 * seconds still to wait (as a negative number). */
static long long
try_login(struct wat_req *r, const char *login, const char *password)
{
	long long wait = throttle_wait(r->throttle, r->addr, login);

	if (wait > 0)
		return -wait;
	if (admin_ok(login, password))
		return 1;
	log_info("WAT %s: login of '%s' refused", r->peer, login);
	throttle_failed(r->throttle, r->addr, login, password, "wat",
	    r->peer);
	return 0;
}

static void
read_flash(struct wat_req *r, const char *value)
{
	char text[sizeof(r->flash) + 4];

	if (http_url_decode(value, strlen(value), text, sizeof(text), 0) < 0 ||
	    (text[0] != 'o' && text[0] != 'e') || text[1] != ':')
		return;
	r->flash_error = text[0] == 'e';
	str_copy(r->flash, text + 2, sizeof(r->flash));
}

/* HTTP Basic, for scripts using /api/ (no cookie, no CSRF token). */
static void
basic_auth(struct wat_req *r)
{
	char user[128], pass[PASS_MAX + 2];

	if (r->authorization[0] == '\0' || http_basic_auth(r->authorization,
	    strlen(r->authorization), user, sizeof(user), pass, sizeof(pass))
	    == -1)
		return;
	if (try_login(r, user, pass) == 1) {
		str_copy(r->login, user, sizeof(r->login));
		r->basic = 1;
	}
	wipe(pass, sizeof(pass));
}

/* Fills r->login from the session cookie or HTTP Basic, and r->flash. */
void
wat_session(struct wat_req *r)
{
	char all[sizeof(r->cookies)], *p, *end;
	size_t n = strlen(WAT_COOKIE);

	str_copy(all, r->cookies, sizeof(all));
	for (p = all; p != NULL && *p; p = end) {
		if ((end = strchr(p, ';')) != NULL)
			*end++ = '\0';
		while (*p == ' ')
			p++;
		if (strncmp(p, WAT_COOKIE "=", n + 1) == 0 &&
		    r->cookie[0] == '\0' &&
		    check_cookie(p + n + 1, r->login, sizeof(r->login)) == 0)
			str_copy(r->cookie, p + n + 1, sizeof(r->cookie));
		else if (str_has_prefix(p, FLASH_COOKIE "="))
			read_flash(r, p + strlen(FLASH_COOKIE) + 1);
	}
	if (r->cookie[0] == '\0') {
		r->login[0] = '\0';
		basic_auth(r);
	}
}

/* A Set-Cookie header carrying an action's message to the next page. */
void
wat_flash_header(char *out, size_t outsz, int error, const char *msg)
{
	char text[300], enc[900];

	str_fmt(text, sizeof(text), "%c:%s", error ? 'e' : 'o', msg);
	if (http_url_encode(text, enc, sizeof(enc)) < 0)
		str_copy(enc, error ? "e%3Afailed" : "o%3Adone", sizeof(enc));
	str_fmt(out, outsz, "Set-Cookie: " FLASH_COOKIE "=%s; Path=/; "
	    "Max-Age=60; HttpOnly; SameSite=Strict\r\n", enc);
}

/* The header that clears the flash cookie once a page has shown it. */
const char *
wat_flash_clear(const struct wat_req *r)
{
	return r->flash[0] == '\0' ? "" : "Set-Cookie: " FLASH_COOKIE "=; "
	    "Path=/; Max-Age=0; HttpOnly; SameSite=Strict\r\n";
}

/* The CSRF token of a session: forms and API calls that change carry it. */
void
wat_csrf_token(const struct wat_req *r, char *out, size_t outsz)
{
	char data[300];

	str_fmt(data, sizeof(data), "csrf:%s", r->cookie);
	hmac_hex(data, out, outsz);
}

/* A change is allowed: by a session with its token, or by HTTP Basic with
 * a JSON body (which no other site's form can send). */
int
wat_csrf_ok(const struct wat_req *r)
{
	const char *given;
	char want[80];

	if (r->login[0] == '\0')
		return 0;
	if (r->basic)
		return str_has_prefix(r->ctype, "application/json");
	if ((given = wat_param(r, "csrf")) == NULL)
		given = r->csrf_header;
	wat_csrf_token(r, want, sizeof(want));
	return same(given, want);
}

int
wat_login_page(struct wat_req *r, int status, const char *error)
{
	struct buf b = { NULL, 0, 0, 65536 };

	wat_page_head(&b, "Log in", r);
	buf_adds(&b, "<h1>Log in</h1>");
	if (error != NULL) {
		buf_adds(&b, "<p id=\"error\" class=\"err\">");
		wat_html(&b, error);
		buf_adds(&b, "</p>");
	}
	buf_adds(&b, "<form method=\"post\" action=\"/login\"><p><label>Login "
	    "<input name=\"login\" id=\"login\" autofocus></label></p><p>"
	    "<label>Password <input name=\"password\" id=\"password\" "
	    "type=\"password\"></label></p><p><button id=\"submit\">Log in"
	    "</button></p></form>");
	return wat_page_send(r, &b, status);
}

int
wat_login(struct wat_req *r)
{
	const char *login = wat_param(r, "login"), *pass = wat_param(r,
	    "password");
	char cookie[256], hdr[512], msg[128];
	long long ok;

	if (login == NULL || pass == NULL)
		return wat_login_page(r, 400, "Login and password are needed");
	if ((ok = try_login(r, login, pass)) < 0) {
		str_fmt(msg, sizeof(msg), "Too many failed logins from %s; try "
		    "again in %lld seconds", r->peer, -ok);
		return wat_login_page(r, 429, msg);
	}
	if (ok == 0)
		return wat_login_page(r, 401, "Wrong login or password");
	log_info("WAT %s: %s logged in", r->peer, login);
	make_cookie(login, cookie, sizeof(cookie));
	str_fmt(hdr, sizeof(hdr), "Set-Cookie: " WAT_COOKIE "=%s; Path=/; "
	    "HttpOnly; SameSite=Strict%s\r\n", cookie, r->tls ? "; Secure" :
	    "");
	return wat_redirect(r, "/", hdr);
}

int
wat_logout(struct wat_req *r)
{
	if (!wat_csrf_ok(r))
		return wat_reply(r, 403, NULL, "text/plain", "Missing or wrong "
		    "CSRF token\r\n");
	log_info("WAT %s: %s logged out", r->peer, r->login);
	return wat_redirect(r, "/login", "Set-Cookie: " WAT_COOKIE "=; "
	    "Path=/; Max-Age=0; HttpOnly; SameSite=Strict\r\n");
}
