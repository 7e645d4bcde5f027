/* SPDX-License-Identifier: GPL-3.0-or-later */
/* watauth.c -- who is asking the WAT: the single administrator of
 * wat.admin.login/password (manual 4.2.1), logged in by a session cookie
 * whose session is a row of wat_sessions (so that every WAT process
 * agrees, and a logout or a new admin password ends it) or by HTTP Basic
 * for scripts; CSRF tokens derived from the session; throttled failed
 * logins; the flash cookie that carries an action's message to the next
 * page. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "qvd.h"

#define FLASH_COOKIE	"qvdmsg"
#define TOKEN_LEN	43	/* base62: over 256 bits */

static const char token_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* The table of sessions, made if an older database lacks it. */
int
wat_auth_init(struct db *db)
{
	struct pg_result *res = db_query(db, "SELECT to_regclass("
	    "'wat_sessions') IS NULL", 0);
	int missing = res != NULL && db_ntuples(res) == 1 &&
	    strcmp(db_val(res, 0, 0), "t") == 0;

	db_clear(res);
	if (res == NULL)
		return -1;
	return missing ? db_exec(db, "CREATE TABLE wat_sessions ("
	    "token_hash char(64) PRIMARY KEY, login varchar(128) NOT NULL, "
	    "password_mark char(64) NOT NULL, expires timestamp NOT NULL)",
	    0) : 0;
}

/* Hex SHA-256 of the parts, one after the other. */
static void
sha256_hex(const char *a, const char *b, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, a, strlen(a));
	EVP_DigestUpdate(ctx, b, strlen(b));
	EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	str_hex(md, n, out, 65);
}

/* What the admin password is now, as a session remembers it (a new
 * password ends the sessions made with the old one). */
static void
password_mark(char out[65])
{
	sha256_hex("wat.admin.password:", conf_get("wat.admin.password"), out);
}

static int
same(const char *a, const char *b)
{
	return strlen(a) == strlen(b) && CRYPTO_memcmp(a, b, strlen(a)) == 0;
}

/* A new session of login: its cookie value (the token) in out, or -1. */
static int
new_session(struct wat_req *r, const char *login, char *out, size_t outsz)
{
	char token[TOKEN_LEN + 1], hash[65], mark[65], secs[24];

	if (outsz <= TOKEN_LEN || pass_random(token, TOKEN_LEN,
	    token_alphabet) == -1)
		return -1;
	sha256_hex("wat-session:", token, hash);
	password_mark(mark);
	str_fmt(secs, sizeof(secs), "%lld", conf_int("wat.session.timeout",
	    3600));
	db_exec(r->db, "DELETE FROM wat_sessions WHERE expires < "
	    "localtimestamp", 0);
	if (db_exec(r->db, "INSERT INTO wat_sessions (token_hash, login, "
	    "password_mark, expires) VALUES ($1, $2, $3, localtimestamp + "
	    "make_interval(secs => $4::int))", 4, hash, login, mark, secs) == -1)
		return -1;
	str_copy(out, token, outsz);
	wipe(token, sizeof(token));
	return 0;
}

/* The admin of a cookie's session, if it is one, not ended or expired. */
static int
check_cookie(struct wat_req *r, const char *value, char *login,
    size_t loginsz)
{
	struct pg_result *res;
	char hash[65], mark[65];
	int rc = -1;

	if (strlen(value) != TOKEN_LEN)
		return -1;
	sha256_hex("wat-session:", value, hash);
	password_mark(mark);
	res = db_query(r->db, "SELECT login FROM wat_sessions WHERE "
	    "token_hash = $1 AND password_mark = $2 AND expires > "
	    "localtimestamp", 2, hash, mark);
	if (res != NULL && db_ntuples(res) == 1)
		rc = str_copy(login, db_val(res, 0, 0), loginsz);
	db_clear(res);
	return rc;
}

static void
end_session(struct wat_req *r)
{
	char hash[65];

	sha256_hex("wat-session:", r->cookie, hash);
	db_exec(r->db, "DELETE FROM wat_sessions WHERE token_hash = $1", 1,
	    hash);
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
		    check_cookie(r, p + n + 1, r->login, sizeof(r->login)) == 0)
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

/* The CSRF token of a session: forms and API calls that change carry it
 * (an HMAC keyed by the session's secret token, so any WAT process can
 * check it). */
void
wat_csrf_token(const struct wat_req *r, char *out, size_t outsz)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	HMAC(EVP_sha256(), r->cookie, (int)strlen(r->cookie),
	    (const unsigned char *)"qvd-wat csrf", 12, md, &n);
	if (str_hex(md, n, out, outsz) == -1)
		abort();	/* a caller's buffer too short: a bug */
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

/*
 * A form whose CSRF token is not this session's: most likely a page
 * opened before the admin logged in again.  Said so, as a page.
 */
int
wat_stale_page(struct wat_req *r)
{
	struct buf b = { NULL, 0, 0, 65536 };

	wat_page_head(&b, "Out of date", r);
	buf_adds(&b, "<h1>This page is out of date</h1><p id=\"error\" "
	    "class=\"err\">It was opened in an earlier session (before you "
	    "logged in again), so nothing was changed. Reload it and try "
	    "again.</p><p><a href=\"");
	wat_html(&b, r->referer[0] ? r->referer : "/");
	buf_adds(&b, "\">Back to the page</a></p>");
	return wat_page_send(r, &b, 403);
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
	if (new_session(r, login, cookie, sizeof(cookie)) == -1)
		return wat_login_page(r, 503, "The session cannot be stored: is "
		    "the database reachable?");
	log_info("WAT %s: %s logged in", r->peer, login);
	str_fmt(hdr, sizeof(hdr), "Set-Cookie: " WAT_COOKIE "=%s; Path=/; "
	    "HttpOnly; SameSite=Strict%s\r\n", cookie, r->tls ? "; Secure" :
	    "");
	return wat_redirect(r, "/", hdr);
}

int
wat_logout(struct wat_req *r)
{
	if (!wat_csrf_ok(r))
		return wat_stale_page(r);
	if (r->cookie[0] != '\0')
		end_session(r);
	log_info("WAT %s: %s logged out", r->peer, r->login);
	return wat_redirect(r, "/login", "Set-Cookie: " WAT_COOKIE "=; "
	    "Path=/; Max-Age=0; HttpOnly; SameSite=Strict\r\n");
}
