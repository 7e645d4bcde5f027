/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ldap.c -- our own minimal LDAPv3 client (RFC 4511) for the L7R's ldap
 * plugin: simple bind, a search for entries' DNs, over ldap:// (with
 * StartTLS if asked) or ldaps://; the BER encoding and RFC 4515 filters by
 * hand, every length bounded. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "qvd.h"

#define LDAP_MAX_MSG	(1 << 20)	/* a response we accept */
#define FILTER_DEPTH	16

/* BER tags of the protocol operations we use */
#define OP_BIND		0x60
#define OP_BIND_RESP	0x61
#define OP_UNBIND	0x42
#define OP_SEARCH	0x63
#define OP_ENTRY	0x64
#define OP_DONE		0x65
#define OP_REFERENCE	0x73
#define OP_EXTENDED	0x77
#define OP_EXT_RESP	0x78

#define STARTTLS_OID	"1.3.6.1.4.1.1466.20037"

/* ---- BER encoding: each element is written into a buf ---- */

static void
ber_len(struct buf *b, size_t n)
{
	unsigned char l[5];
	int i, k = 0;

	if (n < 128) {
		l[0] = (unsigned char)n;
		buf_add(b, l, 1);
		return;
	}
	for (i = 3; i > 0 && ((n >> (8 * i)) & 0xff) == 0; i--)
		;
	for (; i >= 0; i--)
		l[1 + k++] = (unsigned char)(n >> (8 * i));
	l[0] = (unsigned char)(0x80 | k);
	buf_add(b, l, (size_t)k + 1);
}

/* tag, length, and the bytes */
static void
ber_put(struct buf *b, unsigned char tag, const void *v, size_t n)
{
	buf_add(b, &tag, 1);
	ber_len(b, n);
	if (n > 0)
		buf_add(b, v, n);
}

static void
ber_str(struct buf *b, unsigned char tag, const char *s)
{
	ber_put(b, tag, s, strlen(s));
}

/* A non-negative INTEGER or ENUMERATED, in its fewest bytes. */
static void
ber_int(struct buf *b, unsigned char tag, long v)
{
	unsigned char out[5];
	int i, n = 0;

	for (i = 3; i > 0 && ((v >> (8 * i)) & 0xff) == 0; i--)
		;
	for (; i >= 0; i--)
		out[n++] = (unsigned char)(v >> (8 * i));
	if (out[0] & 0x80) {		/* keep it positive */
		memmove(out + 1, out, (size_t)n);
		out[0] = 0;
		n++;
	}
	ber_put(b, tag, out, (size_t)n);
}

/* Wraps what inner holds as one constructed element, and frees inner. */
static void
ber_wrap(struct buf *b, unsigned char tag, struct buf *inner)
{
	ber_put(b, tag, inner->data, inner->len);
	buf_free(inner);
}

/* ---- RFC 4515 filters, string to BER ---- */

struct fparse {
	const char	*p;
	int		 depth;
	char		*err;
};

/* A value up to one of stop, with \XX escapes decoded. */
static int
filter_value(struct fparse *f, struct buf *out, const char *stop)
{
	int hi, lo;
	char c;

	while (*f->p && strchr(stop, *f->p) == NULL) {
		if (*f->p == '(') {
			str_copy(f->err, "a '(' inside a value", ADMIN_ERRSZ);
			return -1;
		}
		if (*f->p != '\\') {
			buf_add(out, f->p++, 1);
			continue;
		}
		if ((hi = hex_digit(f->p[1])) == -1 ||
		    (lo = hex_digit(f->p[2])) == -1) {
			str_copy(f->err, "a bad \\XX escape", ADMIN_ERRSZ);
			return -1;
		}
		c = (char)(hi << 4 | lo);
		buf_add(out, &c, 1);
		f->p += 3;
	}
	return 0;
}

static int filter_one(struct fparse *, struct buf *);

/* attr=*, attr=a*b*c, attr=v, attr>=v, attr<=v, attr~=v */
static int
filter_item(struct fparse *f, struct buf *out)
{
	struct buf attr = { NULL, 0, 0, 4096 }, val = { NULL, 0, 0, 4096 },
	    in = { NULL, 0, 0, 8192 }, subs = { NULL, 0, 0, 8192 };
	unsigned char tag = 0xa3;
	int first = 1, rc = -1;

	while (*f->p && strchr("=<>~()", *f->p) == NULL)
		buf_add(&attr, f->p++, 1);
	if (attr.len == 0)
		goto bad;
	if ((f->p[0] == '>' || f->p[0] == '<' || f->p[0] == '~') &&
	    f->p[1] == '=') {
		tag = f->p[0] == '>' ? 0xa5 : f->p[0] == '<' ? 0xa6 : 0xa8;
		f->p++;
	}
	if (*f->p++ != '=')
		goto bad;
	if (tag == 0xa3 && f->p[0] == '*' && f->p[1] == ')') {
		f->p++;
		ber_put(out, 0x87, attr.data, attr.len);	/* present */
		rc = 0;
		goto out;
	}
	if (tag != 0xa3 || strchr(f->p, '*') == NULL ||
	    strchr(f->p, '*') > strchr(f->p, ')')) {
		if (filter_value(f, &val, ")") == -1)
			goto out;
		ber_put(&in, 0x04, attr.data, attr.len);
		ber_put(&in, 0x04, val.data ? val.data : "", val.len);
		ber_wrap(out, tag, &in);
		rc = 0;
		goto out;
	}
	for (;;) {		/* substrings: initial*any*...*final */
		buf_reset(&val);
		if (filter_value(f, &val, "*)") == -1)
			goto out;
		if (val.len > 0)
			ber_put(&subs, first ? 0x80 : *f->p == ')' ? 0x82 :
			    0x81, val.data, val.len);
		first = 0;
		if (*f->p != '*')
			break;
		f->p++;
	}
	ber_put(&in, 0x04, attr.data, attr.len);
	ber_wrap(&in, 0x30, &subs);
	ber_wrap(out, 0xa4, &in);
	rc = 0;
	goto out;
bad:
	str_copy(f->err, "an item is not attribute=value", ADMIN_ERRSZ);
out:
	buf_free(&attr);
	buf_free(&val);
	buf_free(&in);
	buf_free(&subs);
	return rc;
}

/* "(" ( "&" list | "|" list | "!" filter | item ) ")" */
static int
filter_one(struct fparse *f, struct buf *out)
{
	struct buf in = { NULL, 0, 0, 65536 };
	char op;

	if (*f->p != '(' || ++f->depth > FILTER_DEPTH) {
		str_copy(f->err, f->depth > FILTER_DEPTH ? "nested too deep" :
		    "a filter must start with '('", ADMIN_ERRSZ);
		return -1;
	}
	f->p++;
	op = *f->p;
	if (op == '&' || op == '|' || op == '!') {
		f->p++;
		do {
			if (filter_one(f, &in) == -1) {
				buf_free(&in);
				return -1;
			}
		} while (op != '!' && *f->p == '(');
		ber_wrap(out, op == '&' ? 0xa0 : op == '|' ? 0xa1 : 0xa2, &in);
	} else if (filter_item(f, out) == -1)
		return -1;
	if (*f->p++ != ')') {
		str_copy(f->err, "a missing ')'", ADMIN_ERRSZ);
		return -1;
	}
	f->depth--;
	return 0;
}

/* The filter in BER; -1 with err naming what is wrong. */
int
ldap_filter_ber(const char *filter, struct buf *out, char *err)
{
	struct fparse f = { filter, 0, err };

	if (filter_one(&f, out) == -1)
		return -1;
	if (*f.p != '\0') {
		str_copy(err, "text after the filter's last ')'", ADMIN_ERRSZ);
		return -1;
	}
	return 0;
}

/* A login as a filter value: * ( ) \ and NUL escaped (RFC 4515). */
void
ldap_escape_value(const char *in, char *out, size_t outsz)
{
	size_t o = 0;

	for (; *in && o + 4 < outsz; in++) {
		if (strchr("*()\\", *in) != NULL) {
			out[o++] = '\\';
			str_hex(in, 1, out + o, 3);
			o += 2;
		} else
			out[o++] = *in;
	}
	out[o] = '\0';
}

/* ---- BER decoding ---- */

struct ber {			/* a view of bytes being read */
	const unsigned char	*p;
	size_t			 n;
};

/* The next element: its tag and contents; -1 when malformed. */
static int
ber_next(struct ber *b, unsigned char *tag, struct ber *val)
{
	size_t len = 0, k, i;

	if (b->n < 2)
		return -1;
	*tag = b->p[0];
	if (b->p[1] < 0x80) {
		len = b->p[1];
		k = 2;
	} else {
		k = b->p[1] & 0x7f;
		if (k == 0 || k > 4 || b->n < 2 + k)
			return -1;
		for (i = 0; i < k; i++)
			len = len << 8 | b->p[2 + i];
		k += 2;
	}
	if (len > b->n - k)
		return -1;
	val->p = b->p + k;
	val->n = len;
	b->p += k + len;
	b->n -= k + len;
	return 0;
}

static long
ber_get_int(const struct ber *v)
{
	long x = 0;
	size_t i;

	for (i = 0; i < v->n && i < 4; i++)
		x = x << 8 | v->p[i];
	return x;
}

/* ---- the connection ---- */

static int
fail(struct ldap *l, const char *fmt, const char *arg)
{
	str_fmt(l->err, sizeof(l->err), fmt, arg);
	return -1;
}

static int
read_full(struct ldap *l, unsigned char *p, size_t n)
{
	int k;

	while (n > 0) {
		if ((k = conn_read(&l->c, p, n)) <= 0)
			return fail(l, "the LDAP server %s closed the connection",
			    l->host);
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* One LDAPMessage: its id and protocol operation (msg holds them). */
static int
read_msg(struct ldap *l, struct buf *msg, long *id, unsigned char *op,
    struct ber *body)
{
	unsigned char head[6], *tmp;
	size_t len = 0, k, i;
	struct ber all, seq, v;
	unsigned char tag;

	if (read_full(l, head, 2) == -1)
		return -1;
	if (head[0] != 0x30)
		return fail(l, "%s sent something that is not LDAP", l->host);
	if (head[1] < 0x80)
		len = head[1];
	else {
		k = head[1] & 0x7f;
		if (k == 0 || k > 4 || read_full(l, head + 2, k) == -1)
			return fail(l, "%s sent a bad length", l->host);
		for (i = 0; i < k; i++)
			len = len << 8 | head[2 + i];
	}
	if (len > LDAP_MAX_MSG)
		return fail(l, "%s sent a message too large", l->host);
	buf_reset(msg);
	msg->max = LDAP_MAX_MSG + 16;
	tmp = xmalloc(len + 1);
	if (read_full(l, tmp, len) == -1) {
		free(tmp);
		return -1;
	}
	buf_add(msg, tmp, len);
	free(tmp);
	all.p = (const unsigned char *)msg->data;
	all.n = msg->len;
	seq = all;
	if (ber_next(&seq, &tag, &v) == -1 || tag != 0x02 ||
	    ber_next(&seq, op, body) == -1)
		return fail(l, "%s sent a malformed message", l->host);
	*id = ber_get_int(&v);
	return 0;
}

/* Sends protocolOp (which op holds) as message ++msgid. */
static int
send_op(struct ldap *l, struct buf *op)
{
	struct buf m = { NULL, 0, 0, 1 << 20 }, out = { NULL, 0, 0, 1 << 20 };
	int rc;

	ber_int(&m, 0x02, ++l->msgid);
	buf_add(&m, op->data, op->len);
	buf_free(op);
	ber_wrap(&out, 0x30, &m);
	rc = conn_write(&l->c, out.data, out.len);
	buf_free(&out);
	if (rc == -1)
		return fail(l, "cannot write to the LDAP server %s", l->host);
	return 0;
}

/* An LDAPResult's code; its diagnostic message into l->err. */
static int
result_code(struct ldap *l, struct ber body)
{
	struct ber code, dn, msg;
	unsigned char tag;
	char text[200];
	size_t n;

	if (ber_next(&body, &tag, &code) == -1 || tag != 0x0a ||
	    ber_next(&body, &tag, &dn) == -1 ||
	    ber_next(&body, &tag, &msg) == -1)
		return fail(l, "%s sent a malformed result", l->host);
	n = msg.n < sizeof(text) - 1 ? msg.n : sizeof(text) - 1;
	memcpy(text, msg.p, n);
	text[n] = '\0';
	str_copy(l->err, text, sizeof(l->err));
	return (int)ber_get_int(&code);
}

/* Waits for the answer to our last request. */
static int
await(struct ldap *l, struct buf *msg, unsigned char want,
    struct ber *body)
{
	unsigned char op;
	long id;

	do {
		if (read_msg(l, msg, &id, &op, body) == -1)
			return -1;
	} while (id != l->msgid && id != 0);
	if (op != want)
		return fail(l, "%s answered with something unexpected",
		    l->host);
	return 0;
}

static int
start_tls(struct ldap *l, struct ssl_ctx_st *ctx)
{
	struct buf op = { NULL, 0, 0, 256 }, in = { NULL, 0, 0, 256 },
	    msg = { NULL, 0, 0, 0 };
	struct ber body;
	int rc;

	ber_str(&in, 0x80, STARTTLS_OID);
	ber_wrap(&op, OP_EXTENDED, &in);
	if (send_op(l, &op) == -1 || await(l, &msg, OP_EXT_RESP, &body) == -1)
		rc = -1;
	else if ((rc = result_code(l, body)) != 0)
		rc = fail(l, "%s refused StartTLS", l->host);
	buf_free(&msg);
	if (rc == 0 && conn_tls_connect(&l->c, ctx, l->host, 1) == -1)
		rc = -1;
	return rc;
}

/*
 * Connect to a host, host:port or ldap[s]://host[:port] URI, with TLS
 * verified against cacert (or the system's CAs) for ldaps:// or StartTLS.
 */
int
ldap_open(struct ldap *l, const char *where, int starttls,
    const char *cacert, int timeout_ms)
{
	char port[8] = "389", err[256], *colon;
	struct tls_files f;
	int tls = 0, fd;

	memset(l, 0, sizeof(*l));
	if (str_has_prefix(where, "ldaps://")) {
		tls = 1;
		str_copy(port, "636", sizeof(port));
		where += 8;
	} else if (str_has_prefix(where, "ldap://"))
		where += 7;
	str_copy(l->host, where, sizeof(l->host));
	l->host[strcspn(l->host, "/")] = '\0';
	if ((colon = strrchr(l->host, ':')) != NULL &&
	    strchr(l->host, ']') < colon) {
		str_copy(port, colon + 1, sizeof(port));
		*colon = '\0';
	}
	if (l->host[0] == '\0')
		return fail(l, "%s", "auth.ldap.host is empty");
	if ((fd = tcp_connect(l->host, port, timeout_ms, err, sizeof(err))) ==
	    -1)
		return fail(l, "%s", err);
	conn_init(&l->c, fd, timeout_ms);
	l->open = 1;
	if (!tls && !starttls)
		return 0;
	memset(&f, 0, sizeof(f));
	f.ca_file = *cacert ? cacert : NULL;
	f.verify_peer = 1;
	if ((l->tls = tls_client_ctx(&f, err, sizeof(err))) == NULL) {
		conn_close(&l->c);
		l->open = 0;
		return fail(l, "%s", err);
	}
	if (tls ? conn_tls_connect(&l->c, l->tls, l->host, 1) :
	    start_tls(l, l->tls)) {
		if (tls || l->c.err[0] != '\0')
			str_fmt(l->err, sizeof(l->err), "%s with %s failed: %s",
			    tls ? "TLS" : "StartTLS", l->host, l->c.err);
		ldap_close(l);
		return -1;
	}
	return 0;
}

/* Simple bind: 0 bound, 1 refused (wrong DN or password), -1 error. */
int
ldap_bind(struct ldap *l, const char *dn, const char *password)
{
	struct buf op = { NULL, 0, 0, 8192 }, in = { NULL, 0, 0, 8192 },
	    msg = { NULL, 0, 0, 0 };
	struct ber body;
	int rc;

	ber_int(&in, 0x02, 3);
	ber_str(&in, 0x04, dn);
	ber_str(&in, 0x80, password);
	ber_wrap(&op, OP_BIND, &in);
	if (send_op(l, &op) == -1 ||
	    await(l, &msg, OP_BIND_RESP, &body) == -1) {
		buf_free(&msg);
		return -1;
	}
	rc = result_code(l, body);
	buf_free(&msg);
	return rc == 0 ? 0 : rc == 49 ? 1 : -1;	/* 49: invalidCredentials */
}

/*
 * Search base with scope (0 base, 1 one, 2 sub) and deref (0-3) for the
 * filter; the first entry's DN into dn.  1 found, 0 none, -1 error.
 */
int
ldap_search_dn(struct ldap *l, const char *base, int scope, int deref,
    const char *filter, char *dn, size_t dnsz)
{
	struct buf op = { NULL, 0, 0, 65536 }, in = { NULL, 0, 0, 65536 },
	    attrs = { NULL, 0, 0, 64 }, msg = { NULL, 0, 0, 0 };
	char err[ADMIN_ERRSZ];
	unsigned char tag;
	struct ber body, name;
	int found = 0, rc;

	ber_str(&in, 0x04, base);
	ber_int(&in, 0x0a, scope);
	ber_int(&in, 0x0a, deref);
	ber_int(&in, 0x02, 2);		/* sizeLimit: one is enough */
	ber_int(&in, 0x02, l->c.timeout_ms / 1000);
	buf_add(&in, "\x01\x01\x00", 3);	/* typesOnly FALSE */
	if (ldap_filter_ber(filter, &in, err) == -1) {
		buf_free(&in);
		return fail(l, "auth.ldap.filter: %s", err);
	}
	ber_str(&attrs, 0x04, "1.1");	/* no attributes, DNs only */
	ber_wrap(&in, 0x30, &attrs);
	ber_wrap(&op, OP_SEARCH, &in);
	if (send_op(l, &op) == -1)
		return -1;
	for (;;) {
		long id;

		if (read_msg(l, &msg, &id, &tag, &body) == -1) {
			buf_free(&msg);
			return -1;
		}
		if (id != l->msgid || tag == OP_REFERENCE)
			continue;
		if (tag == OP_DONE)
			break;
		if (tag != OP_ENTRY || ber_next(&body, &tag, &name) == -1) {
			buf_free(&msg);
			return fail(l, "%s sent a malformed entry", l->host);
		}
		if (!found && name.n < dnsz) {
			memcpy(dn, name.p, name.n);
			dn[name.n] = '\0';
			found = 1;
		}
	}
	rc = result_code(l, body);
	buf_free(&msg);
	if (rc != 0 && rc != 4 && rc != 32)	/* sizeLimit, noSuchObject */
		return fail(l, "the LDAP search failed: %s", l->err);
	return found;
}

void
ldap_close(struct ldap *l)
{
	struct buf op = { NULL, 0, 0, 16 };

	char keep[sizeof(l->err)];

	if (l->open) {		/* UnbindRequest, keeping the last error */
		str_copy(keep, l->err, sizeof(keep));
		buf_add(&op, "\x42\x00", 2);
		send_op(l, &op);
		str_copy(l->err, keep, sizeof(l->err));
		conn_close(&l->c);
		l->open = 0;
	}
	if (l->tls != NULL)
		SSL_CTX_free(l->tls);
	l->tls = NULL;
}
