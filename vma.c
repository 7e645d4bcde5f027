/* SPDX-License-Identifier: GPL-3.0-or-later */
/* vma.c -- qvd-vma, the agent in every VM: upstream's SimpleRPC on port
 * 3030 driving the user's X session and the admin's hooks. */

#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

#define VMA_MAX_CHILDREN	512
#define VMA_IDLE_MS		5000
#define VMA_MAX_VALUE		4096

struct rpc {
	struct nx_params p;
	char	 result[256];	/* a JSON value */
	char	 error[512];	/* non-empty: the call failed */
};

static void NORETURN
usage(void)
{
	fprintf(stderr, "usage: qvd-vma [-fn] [-c file]\n");
	exit(2);
}

static void
param_set(struct nx_params *p, const char *key, const char *val)
{
	if (nx_param(p, key) != NULL || p->n >= NX_MAX_PARAMS)
		return;
	p->key[p->n] = xstrdup(key);
	p->val[p->n++] = xstrdup(val);
}

static void
params_free(struct nx_params *p)
{
	int i;

	for (i = 0; i < p->n; i++) {
		free(p->key[i]);
		free(p->val[i]);
	}
	p->n = 0;
}

static int
fail(struct rpc *r, const char *fmt, ...) PRINTFLIKE(2, 3);

static int
fail(struct rpc *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	str_vfmt(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	log_warn("%s", r->error);
	return -1;
}

/* Serialises the decisions that change the session's state. */
static int
state_lock(void)
{
	char path[512];
	int fd;

	str_fmt(path, sizeof(path), "%s/vma.lock", conf_get("path.run"));
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return -1;
	flock(fd, LOCK_EX);
	return fd;
}

static int
action_hook(const char *action, const struct nx_params *p, const char *x)
{
	char key[64];
	const char *extra[] = { "qvd.vm.session.state", x, "qvd.hook.on_action",
	    action, NULL };

	str_fmt(key, sizeof(key), "vma.on_action.%s", action);
	return hook_run(key, p, extra, 0);
}

/* qvd.vm.user.name, .groups and .home when the L7R sent none. */
static int
fill_user(struct rpc *r)
{
	const char *user;
	char home[512];

	param_set(&r->p, "qvd.vm.user.name", conf_get("vma.user.default.name"));
	param_set(&r->p, "qvd.vm.user.groups",
	    conf_get("vma.user.default.groups"));
	user = nx_param(&r->p, "qvd.vm.user.name");
	if (!provision_name_ok(user))
		return fail(r, "qvd.vm.user.name: '%s' is not a valid user name",
		    user);
	str_fmt(home, sizeof(home), "%s/%s", conf_get("vma.user.home.path"),
	    user);
	param_set(&r->p, "qvd.vm.user.home", home);
	return 0;
}

static int
rpc_x_start(struct rpc *r)
{
	char opts[1024], err[256];
	long long since;
	const char *x;
	int lock, rc = -1;

	if (fill_user(r) == -1)
		return -1;
	/* a bad value fails the call before anything starts */
	if (nx_agent_options(&r->p, 100, 0, 0, 0, opts, sizeof(opts), err,
	    sizeof(err)) == -1)
		return fail(r, "%s", err);
	lock = state_lock();
	x = xs_x_state(&since);
	if (strcmp(x, "stopped") == 0 || strcmp(x, "suspended") == 0) {
		if (action_hook("pre-connect", &r->p, x) == -1) {
			fail(r, "the pre-connect hook failed; the session was "
			    "not started");
			goto out;
		}
	}
	if (strcmp(x, "stopped") == 0) {
		if (xs_start(&r->p) == -1) {
			fail(r, "cannot start the session monitor");
			goto out;
		}
	} else if (strcmp(x, "suspended") == 0) {
		if (xs_write_options(&r->p, err, sizeof(err)) == -1) {
			fail(r, "%s", err);
			goto out;
		}
		xs_write_side_files(&r->p);
		xs_set_state("initiating");	/* "starting" until it resumes */
		xs_signal(SIGHUP);
		if (action_hook("connect", &r->p, x) == -1) {
			fail(r, "the connect hook failed");
			goto out;
		}
	} else if (strcmp(x, "connected") == 0) {
		xs_suspend();
		fail(r, "Can't connect to X session in state connected, "
		    "suspending it, retry later");
		goto out;
	} else if (strcmp(x, "listening") != 0) {
		fail(r, "Unable to start/resume X session in state %s, try "
		    "again in a few minutes", x);
		goto out;
	}
	str_copy(r->result, "\"starting\"", sizeof(r->result));
	rc = 0;
out:
	if (lock >= 0)
		close(lock);
	return rc;
}

static int
rpc_x_state(struct rpc *r)
{
	long long since;

	str_fmt(r->result, sizeof(r->result), "\"%s\"", xs_x_state(&since));
	return 0;
}

/* The action's hook (which may refuse), then the signal to nxagent. */
static int
hooked_signal(struct rpc *r, const char *action, const char *x, int sig)
{
	if (action_hook(action, &r->p, x) == -1)
		return fail(r, "the %s hook failed", action);
	xs_signal(sig);
	return 0;
}

static int
rpc_x_suspend(struct rpc *r)
{
	long long since;
	const char *x = xs_x_state(&since);

	if (strcmp(x, "listening") != 0 && strcmp(x, "connected") != 0)
		return 0;
	return hooked_signal(r, "suspend", x, SIGHUP);
}

static int
rpc_x_stop(struct rpc *r)
{
	long long since;
	const char *x = xs_x_state(&since);

	if (strcmp(x, "stopped") == 0)
		return 0;
	return hooked_signal(r, "stop", x, SIGTERM);
}

static int
rpc_poweroff(struct rpc *r)
{
	long long since;
	const char *x = xs_x_state(&since);
	char *argv[] = { (char *)conf_get("command.poweroff"), NULL };
	char err[256];

	if (action_hook("poweroff", &r->p, x) == -1)
		return fail(r, "the poweroff hook failed");
	log_info("powering off");
	if (proc_detach() == 0) {
		sleep_ms(200);		/* let the answer go out first */
		xs_signal(SIGTERM);
		if (proc_run(argv, 60000, -1, err, sizeof(err)) != 0)
			log_error("%s", err);
		_exit(0);
	}
	return 0;
}

static int
rpc_expire(struct rpc *r)
{
	long long since;
	const char *soft = nx_param(&r->p, "vm.expiration.soft");
	const char *hard = nx_param(&r->p, "vm.expiration.hard");
	const char *extra[] = { "vm.expiration.soft", soft ? soft : "",
	    "vm.expiration.hard", hard ? hard : "", "qvd.vm.session.state",
	    xs_x_state(&since), "qvd.hook.on_action", "expire", NULL };

	if (hook_run("vma.on_action.expire", NULL, extra, 0) == -1)
		return fail(r, "the expire hook failed");
	return 0;
}

static int
rpc_ping(struct rpc *r)
{
	(void)r;
	return 0;
}

static const struct {
	const char	*name;
	int		(*fn)(struct rpc *);
} methods[] = {
	{ "ping", rpc_ping }, { "x_state", rpc_x_state },
	{ "x_start", rpc_x_start }, { "x_suspend", rpc_x_suspend },
	{ "x_stop", rpc_x_stop }, { "poweroff", rpc_poweroff },
	{ "expire", rpc_expire },
};

/* ---- HTTP ---- */

static void
respond(struct conn *c, int status, const char *ctype, const char *body)
{
	char head[256];
	size_t n = strlen(body);

	if (http_format_head(head, sizeof(head), status, NULL, ctype,
	    (long long)n) < 0)
		return;
	if (conn_write(c, head, strlen(head)) == 0)
		conn_write(c, body, n);
}

static void
respond_rpc(struct conn *c, const struct rpc *r, int ok)
{
	char body[2048], esc[1200];

	if (ok)
		str_fmt(body, sizeof(body), "%s\r\n", *r->result ? r->result :
		    "null");
	else {
		json_escape(r->error, strlen(r->error), esc, sizeof(esc));
		str_fmt(body, sizeof(body), "\"\",\"%s\"\r\n", esc);
	}
	respond(c, 200, "application/json-simplerpc", body);
}

static int
parse_params(const struct http_msg *m, struct nx_params *p)
{
	const char *q, *cur, *end;
	char key[256], *val = xmalloc(VMA_MAX_VALUE);
	size_t qlen;
	int rc;

	q = http_query(m, &qlen);
	cur = q;
	end = q + qlen;
	while ((rc = http_query_next(&cur, end, key, sizeof(key), val,
	    VMA_MAX_VALUE)) == 1) {
		if (p->n >= NX_MAX_PARAMS) {
			rc = -1;
			break;
		}
		p->key[p->n] = xstrdup(key);
		p->val[p->n++] = xstrdup(val);
	}
	free(val);
	return rc;
}

/* One request: 1 to keep the connection, 0 to close it. */
static int
serve_request(struct conn *c, const struct http_msg *m)
{
	struct rpc r;
	char path[256];
	const char *name;
	size_t i;
	long long clen = http_content_length(m);
	int ok;

	if (clen == -2 || clen > 65536) {
		respond(c, clen == -2 ? 400 : 413, "text/plain",
		    "bad or too large body\r\n");
		return 0;
	}
	if (m->method_len != 3 || memcmp(m->method, "GET", 3) != 0) {
		respond(c, 405, "text/plain", "only GET is served\r\n");
		return 0;
	}
	if (http_path(m, path, sizeof(path)) == -1 ||
	    !str_has_prefix(path, "/vma/")) {
		respond(c, 404, "text/plain", "no such method\r\n");
		return 1;
	}
	name = path + 5;
	for (i = 0; i < ARRAY_LEN(methods); i++)
		if (strcmp(methods[i].name, name) == 0)
			break;
	if (i == ARRAY_LEN(methods)) {
		respond(c, 404, "text/plain", "no such method\r\n");
		return 1;
	}
	memset(&r, 0, sizeof(r));
	if (parse_params(m, &r.p) == -1) {
		params_free(&r.p);
		respond(c, 400, "text/plain", "bad or too many parameters\r\n");
		return 0;
	}
	log_debug("call %s", name);
	ok = methods[i].fn(&r) == 0;
	params_free(&r.p);
	respond_rpc(c, &r, ok);
	return !http_header_has_token(m, "Connection", "close") &&
	    m->minor_version == 1;
}

static void NORETURN
serve(int fd)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	struct http_msg m;
	int n;

	conn_init(c, fd, VMA_IDLE_MS);
	for (;;) {
		conn_set_deadline(c, 10000);
		n = conn_read_msg(c, &m, 1);
		if (n <= 0) {
			if (n < 0 && m.error_status) {
				respond(c, m.error_status, "text/plain",
				    http_reason(m.error_status));
			}
			break;
		}
		if (!serve_request(c, &m))
			break;
		conn_consume(c, (size_t)n);
	}
	conn_close(c);
	_exit(0);
}

/* ---- the daemon ---- */

static int children;

static void
reap(void)
{
	int st;

	while (waitpid(-1, &st, WNOHANG) > 0)
		children--;
}

static void
shutdown_session(void)
{
	long long since;

	if (strcmp(xs_x_state(&since), "stopped") != 0) {
		log_info("stopping the X session");
		xs_signal(SIGTERM);
	}
}

static void
run(int lfd)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, 0 };
	struct pollfd pfd[2];
	int sfd = sig_pipe_init(sigs), fd, sig;
	pid_t pid;

	pfd[0].fd = lfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = sfd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			break;
		while ((sig = sig_pipe_next()) != 0) {
			if (sig == SIGCHLD)
				reap();
			else if (sig == SIGTERM || sig == SIGINT) {
				shutdown_session();
				return;
			}
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		if (children >= VMA_MAX_CHILDREN) {
			close(fd);
			continue;
		}
		if ((pid = fork()) == 0) {
			close(lfd);
			sig_pipe_child();
			daemon_forget_pidfile();
			serve(fd);
		}
		if (pid > 0)
			children++;
		close(fd);
	}
}

int
main(int argc, char **argv)
{
	const char *cfile = NULL;
	char port[16], err[256];
	int ch, foreground = 0, check = 0, lfd;

	while ((ch = getopt(argc, argv, "c:fn")) != -1) {
		switch (ch) {
		case 'c':
			cfile = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	cfile = conf_load_checked("qvd-vma", "/etc/qvd/vma.conf", cfile);
	if (check) {
		printf("qvd-vma: %s: configuration OK\n", cfile);
		return 0;
	}
	if (log_open_from_conf("qvd-vma", "log.filename", foreground) == -1)
		fprintf(stderr, "qvd-vma: cannot open the log %s: %s\n",
		    conf_get("log.filename"), strerror(errno));
	mkdir(conf_get("path.run"), 0755);
	umask((mode_t)strtol(conf_get("vma.user.umask"), NULL, 8));
	str_fmt(port, sizeof(port), "%lld",
	    conf_int("internal.vm.port.vma", 3030));
	if ((lfd = tcp_listen("*", port, 128, err, sizeof(err))) == -1) {
		log_fatal("%s", err);
		fprintf(stderr, "qvd-vma: %s\n", err);
		return 1;
	}
	if (!foreground && daemon_detach(err, sizeof(err)) == -1) {
		fprintf(stderr, "qvd-vma: %s\n", err);
		return 1;
	}
	if (daemon_pidfile(conf_get("vma.pid_file"), err, sizeof(err)) == -1) {
		log_fatal("%s", err);
		fprintf(stderr, "qvd-vma: %s\n", err);
		return 1;
	}
	log_info("qvd-vma %s listening on port %s", QVD_VERSION, port);
	run(lfd);
	daemon_pidfile_remove();
	log_info("qvd-vma stopped");
	return 0;
}
