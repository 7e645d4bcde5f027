/* SPDX-License-Identifier: GPL-3.0-or-later */
/* l7rclient.c -- the client's side of the L7R protocol: one kept-alive
 * HTTPS connection, list_of_vm, connect_to_vm with its 102 steps, stop_vm. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "qvd.h"

#define L7RC_TIMEOUT_MS		30000	/* per read or write */
#define L7RC_MAX_BODY		(1024 * 1024)

static int
fail(struct l7rc *l, int code, const char *fmt, ...) PRINTFLIKE(3, 4);

static int
fail(struct l7rc *l, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	str_vfmt(l->err, sizeof(l->err), fmt, ap);
	va_end(ap);
	return code;
}

void
l7rc_close(struct l7rc *l)
{
	if (l->open)
		conn_close(&l->c);
	l->open = 0;
}

void
l7rc_free(struct l7rc *l)
{
	l7rc_close(l);
	if (l->ctx != NULL)
		SSL_CTX_free(l->ctx);
	l->ctx = NULL;
	wipe(l->auth, sizeof(l->auth));
}

/* The TLS context, made once: verification is ours (cert_check). */
static int
make_ctx(struct l7rc *l)
{
	struct tls_files f;
	char err[256];

	if (l->ctx != NULL)
		return 0;
	memset(&f, 0, sizeof(f));
	f.cert_file = l->cert_file;
	f.key_file = l->key_file;
	if ((l->ctx = tls_client_ctx(&f, err, sizeof(err))) == NULL)
		return fail(l, CX_TLS, "%s", err);
	cert_load_trusted(l->ctx, l->cert_dir);
	return 0;
}

/*
 * TCP to host:port with this build's resolver: getaddrinfo, or in the
 * static builds resolve.c (a static glibc cannot load NSS modules).
 */
int
l7rc_tcp_connect(const char *host, const char *port, char *err, size_t errsz)
{
	const char *to = host;
	char addr[64];

#ifdef QVD_OWN_RESOLVER
	if (resolve_host(host, addr, sizeof(addr), err, errsz) == -1)
		return -1;
	to = addr;
#else
	(void)addr;
#endif
	return tcp_connect(to, port, L7RC_TIMEOUT_MS, err, errsz);
}

/* Connect, shake hands and decide on the certificate: 0 or a CX_ code. */
int
l7rc_open(struct l7rc *l)
{
	char err[256];
	int fd;

	if (l->open)
		return 0;
	if (l->use_tls && make_ctx(l) != 0)
		return CX_TLS;
	if ((fd = l7rc_tcp_connect(l->host, l->port, err, sizeof(err))) == -1)
		return fail(l, CX_UNREACHABLE, "%s", err);
	conn_init(&l->c, fd, L7RC_TIMEOUT_MS);
	l->open = 1;
	if (!l->use_tls)
		return 0;
	if (conn_tls_connect(&l->c, l->ctx, l->host, 1) == -1) {
		fail(l, CX_TLS, "TLS with %s:%s failed: %s", l->host, l->port,
		    l->c.err);
		l7rc_close(l);
		return CX_TLS;
	}
	if (l->verify && cert_check(l->c.ssl, l->cert_dir, l->ask, err,
	    sizeof(err)) == -1) {
		fail(l, CX_TLS, "%s:%s: %s", l->host, l->port, err);
		l7rc_close(l);
		return CX_TLS;
	}
	return 0;
}

static int
send_request(struct l7rc *l, const char *target, int upgrade)
{
	return conn_printf(&l->c, "GET %s HTTP/1.1\r\nHost: %s:%s\r\n"
	    "Authorization: Basic %s\r\nUser-Agent: qvdclient/" QVD_VERSION
	    "\r\n%s\r\n", target, l->host, l->port, l->auth, upgrade ?
	    "Connection: Upgrade\r\nUpgrade: QVD/1.0\r\n" : "");
}

/*
 * Read one response: its status; a 102's X-QVD-VM-Info into info, a
 * final answer's body into body.  A connection the server will close is
 * closed.  0, or a CX_ code.
 */
static int
read_response(struct l7rc *l, int *status, struct buf *body, char *info,
    size_t infosz)
{
	struct http_msg m;
	long long len;
	int n, keep;

	if ((n = conn_read_msg(&l->c, &m, 0)) <= 0) {
		fail(l, CX_ERROR, "%s:%s closed the connection%s%s", l->host,
		    l->port, n < 0 ? ": " : "", n < 0 ? l->c.err : "");
		l7rc_close(l);
		return CX_ERROR;
	}
	*status = m.status;
	if (info != NULL && http_header_copy(&m, "X-QVD-VM-Info", info,
	    infosz) == -1)
		info[0] = '\0';
	len = m.status == 101 || m.status == 102 ? 0 :
	    http_content_length(&m);
	keep = http_keeps_alive(&m);
	conn_consume(&l->c, (size_t)n);
	if (len < 0 || len > L7RC_MAX_BODY)
		return fail(l, CX_ERROR, "%s:%s: an answer without a usable "
		    "length", l->host, l->port);
	if (len > 0 && conn_read_body(&l->c, (size_t)len, body) == -1) {
		fail(l, CX_ERROR, "%s:%s: %s", l->host, l->port, l->c.err);
		l7rc_close(l);
		return CX_ERROR;
	}
	if (!keep && m.status != 101 && m.status != 102)
		l7rc_close(l);
	return 0;
}

/* The final answer, each 102 before it shown through l->progress. */
static int
read_final(struct l7rc *l, int *status, struct buf *body)
{
	char info[512];
	int rc;

	for (;;) {
		if ((rc = read_response(l, status, body, info, sizeof(info)))
		    != 0 || *status != 102)
			return rc;
		if (l->progress != NULL && info[0] != '\0')
			l->progress(info);
	}
}

/*
 * GET target; the final status and body.  A kept-alive connection the
 * server closed meanwhile is opened again once.  0 or a CX_ code.
 */
int
l7rc_get(struct l7rc *l, const char *target, int *status, struct buf *body)
{
	int attempt, rc, fresh;

	for (attempt = 0; attempt < 2; attempt++) {
		fresh = !l->open;
		if ((rc = l7rc_open(l)) != 0)
			return rc;
		buf_reset(body);
		if (send_request(l, target, 0) == 0 &&
		    (rc = read_final(l, status, body)) == 0)
			return 0;
		l7rc_close(l);
		if (fresh)
			break;
	}
	return fail(l, CX_ERROR, "%s:%s: no answer to %s", l->host, l->port,
	    target);
}

/* Parse list_of_vm's JSON array into vms (up to max): how many, or -1. */
static int
parse_vms(const char *js, size_t len, struct l7rc_vm *vms, int max)
{
	struct json_tok toks[4096];
	int n, i, v, k, count = 0;
	long long num;

	if ((n = json_parse(js, len, toks, (int)ARRAY_LEN(toks))) <= 0 ||
	    toks[0].type != JSON_ARRAY)
		return -1;
	for (i = 0; i < toks[0].size && count < max; i++) {
		struct l7rc_vm *vm = &vms[count];

		memset(vm, 0, sizeof(*vm));
		if ((v = json_arr_get(toks, n, 0, i)) < 0 ||
		    toks[v].type != JSON_OBJECT ||
		    (k = json_obj_get(js, toks, n, v, "id")) < 0 ||
		    json_int(js, &toks[k], 1, 2147483647, &vm->id) == -1)
			return -1;
		if ((k = json_obj_get(js, toks, n, v, "name")) >= 0)
			json_str(js, &toks[k], vm->name, sizeof(vm->name), NULL);
		if ((k = json_obj_get(js, toks, n, v, "state")) >= 0)
			json_str(js, &toks[k], vm->state, sizeof(vm->state),
			    NULL);
		if ((k = json_obj_get(js, toks, n, v, "blocked")) >= 0 &&
		    json_int(js, &toks[k], 0, 1, &num) == 0)
			vm->blocked = (int)num;
		if ((k = json_obj_get(js, toks, n, v, "session_ended_by")) >= 0)
			json_str(js, &toks[k], vm->ended_by,
			    sizeof(vm->ended_by), NULL);
		count++;
	}
	return count;
}

/* The user's VMs: their count, or -1 (the status, 0 when unanswered). */
int
l7rc_list(struct l7rc *l, struct l7rc_vm *vms, int max, int *status)
{
	struct buf body = { NULL, 0, 0, L7RC_MAX_BODY };
	int n = -1;

	*status = 0;
	if ((l->code = l7rc_get(l, "/qvd/list_of_vm", status, &body)) != 0)
		*status = 0;
	else {
		if (*status != 200)
			fail(l, CX_ERROR, "%s", body.data ? str_trim(body.data) :
			    "");
		else if ((n = parse_vms(body.data ? body.data : "", body.len,
		    vms, max)) == -1)
			fail(l, CX_ERROR, "%s:%s: list_of_vm is not the "
			    "expected JSON", l->host, l->port);
	}
	buf_free(&body);
	return n;
}

/*
 * connect_to_vm: each 102 step goes to l->progress; on 101 the connection
 * is the tunnel (0 returned).  Otherwise the final status, with the
 * server's message in l->err; -1 when there was no answer.
 */
int
l7rc_connect_vm(struct l7rc *l, const char *target)
{
	struct buf body = { NULL, 0, 0, L7RC_MAX_BODY };
	int status;

	if ((l->code = l7rc_open(l)) != 0)
		return -1;
	if (send_request(l, target, 1) == -1) {
		l->code = fail(l, CX_ERROR, "%s:%s: %s", l->host, l->port,
		    l->c.err);
		return -1;
	}
	if ((l->code = read_final(l, &status, &body)) != 0) {
		buf_free(&body);
		return -1;
	}
	if (status != 101)
		str_copy(l->err, body.data ? str_trim(body.data) : "",
		    sizeof(l->err));
	buf_free(&body);
	return status == 101 ? 0 : status;
}
