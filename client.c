/* SPDX-License-Identifier: GPL-3.0-or-later */
/* client.c -- qvdclient (manual chapter 7.8): settings from flags, the
 * environment and client.conf; a VM picked; its NX session tunnelled
 * between the L7R and the local nxproxy. */

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

#define PASSWORD_MAX	256
#define NO_DESKTOP_BYTES 4096	/* less from the VM: it never showed */
#define NO_DESKTOP	(-100)	/* run_session: then; worth a retry */

struct client {
	const char	*prog;
	int		 list_only;	/* -l */
	int		 first_vm;	/* -o */
	long long	 vm_id;		/* -s, 0: none */
	int		 kill_vm;	/* -r */
	const char	*nx_options;	/* -x */
	char		 link[64];	/* client.link or client.force.link */
	char		 proxy_options[1024];	/* nxproxy's NX_DISPLAY */
	char		 login[128];
	char		 password[PASSWORD_MAX];
	char		 home_qvd[1024];	/* ~/.qvd, "" without HOME */
	char		 cert_dir[1100];
	char		 keyboard[64];	/* sent; "" lets the VM choose */
	struct x11_fit	 size;		/* client.geometry */
	struct x11_conn	 x;		/* the user's display */
	pid_t		 holder;	/* the child that holds it */
	struct l7rc	 l7r;
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t shutdown_over;	/* SIGALRM: waited enough */
static int logs_to_stderr;	/* then fail() does not log it again */

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: qvdclient [-?] [-v] [-d] [-h host] [-p port] [-u username] "
	    "[-w pass]\n"
	    "                 [-g wxh] [-f] [-l] [-o] [-n] [-x nxoptions] "
	    "[-c cert -k key]\n"
	    "                 [-r] [-s vmid]\n"
	    "\n"
	    "-? : shows this help\n"
	    "-v : shows version and exits\n"
	    "-d : enables debugging (QVD_DEBUG, to QVD_DEBUG_FILE or stderr)\n"
	    "-h : the host to connect to (QVDHOST, client.host.name)\n"
	    "-p : the port to connect to (QVDPORT, client.host.port; 8443)\n"
	    "-u : the user name (QVDLOGIN, client.user.name)\n"
	    "-w : the password (QVDPASSWORD; asked on a terminal without it)\n"
	    "-g : the geometry WxH, for example -g 1024x768\n"
	    "-f : full screen\n"
	    "-l : lists the user's VMs and exits\n"
	    "-o : connects to the first VM\n"
	    "-n : no certificate checking: any certificate is accepted\n"
	    "-x : NX options for nxproxy, for example "
	    "nx/nx,link=lan,cache=16384:0\n"
	    "-c : client certificate (PEM), with -k\n"
	    "-k : client certificate key (PEM), with -c\n"
	    "-r : stops (kills) the VM first, then connects\n"
	    "-s : connects to the VM with this id\n");
}

static int
fail(int code, const char *fmt, ...) PRINTFLIKE(2, 3);

static int
fail(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	str_vfmt(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "qvdclient: %s\n", msg);
	if (!logs_to_stderr)
		log_error("%s", msg);
	return code;
}

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
on_alarm(int sig)
{
	(void)sig;
	shutdown_over = 1;
}

/* ---- settings ---- */

/* /etc/qvd/client.conf, then ~/.qvd/client.conf; QVD_CONF instead. */
static int
load_files(struct client *cl)
{
	struct conf_errors errs = { 0 };
	const char *only = getenv("QVD_CONF");
	char user[1100];

	if (only != NULL && *only != '\0') {
		if (conf_load_file(only, CONF_FILE, &errs) == -1 &&
		    errs.count == 0)
			return fail(CX_USAGE, "cannot read %s", only);
	} else {
		if (access("/etc/qvd/client.conf", F_OK) == 0)
			conf_load_file("/etc/qvd/client.conf", CONF_FILE, &errs);
		str_fmt(user, sizeof(user), "%s/client.conf", cl->home_qvd);
		if (cl->home_qvd[0] != '\0' && access(user, F_OK) == 0)
			conf_load_file(user, CONF_USER, &errs);
	}
	if (errs.count > 0) {
		conf_errors_print(&errs, stderr, "qvdclient");
		return CX_USAGE;
	}
	return 0;
}

/* QVDHOST, QVDPORT, QVDLOGIN: above the files, below the flags. */
static void
load_environment(void)
{
	static const struct { const char *env, *key; } vars[] = {
		{ "QVDHOST", "client.host.name" },
		{ "QVDPORT", "client.host.port" },
		{ "QVDLOGIN", "client.user.name" },
	};
	const char *v;
	size_t i;

	for (i = 0; i < ARRAY_LEN(vars); i++)
		if ((v = getenv(vars[i].env)) != NULL && *v != '\0')
			conf_set(CONF_CMDLINE, vars[i].key, v);
}

/* Debugging (-d, QVD_DEBUG) to QVD_DEBUG_FILE or stderr; else the log. */
static void
open_log(struct client *cl, int debug)
{
	const char *file = getenv("QVD_DEBUG_FILE");
	enum log_level level = LVL_INFO;
	char path[1100];

	if (debug) {
		logs_to_stderr = !(file && *file);
		log_open("qvdclient", LVL_DEBUG, logs_to_stderr ? NULL : file,
		    0, logs_to_stderr);
		return;
	}
	log_level_parse(conf_get("log.level"), &level);
	str_copy(path, conf_get("client.log.filename"), sizeof(path));
	if (path[0] == '\0' && cl->home_qvd[0] != '\0')
		str_fmt(path, sizeof(path), "%s/qvd-client.log", cl->home_qvd);
	if (path[0] == '\0' || log_open("qvdclient", level, path, 0, 0) == -1)
		log_open("qvdclient", LVL_OFF, NULL, 0, 0);
}

static int
check_settings(void)
{
	struct conf_errors errs = { 0 };

	if (conf_check(&errs) == -1 || errs.count > 0) {
		conf_errors_print(&errs, stderr, "qvdclient");
		return CX_USAGE;
	}
	return 0;
}

/*
 * QVDPASSWORD, once read, is wiped where the kernel shows it
 * (/proc/PID/environ) and removed, so that nxproxy does not inherit it.
 */
static void
forget_env_password(void)
{
	char *v = getenv("QVDPASSWORD");

	if (v == NULL)
		return;
	memset(v, 'x', strlen(v));
	unsetenv("QVDPASSWORD");
}

/* The password: -w, QVDPASSWORD, client.user.password, or asked. */
static int
get_password(struct client *cl, const char *flag)
{
	const char *p = flag;
	char prompt[300];

	if (p == NULL)
		p = getenv("QVDPASSWORD");
	if (p == NULL || *p == '\0')
		p = conf_get("client.user.password");
	if (p != NULL && *p != '\0') {
		if (p != cl->password && str_copy(cl->password, p,
		    sizeof(cl->password)) == -1)
			return fail(CX_USAGE, "the password is too long");
		forget_env_password();
		return 0;
	}
	if (!tty_interactive())
		return fail(CX_USAGE, "no password: use -w, QVDPASSWORD or a "
		    "terminal");
	str_fmt(prompt, sizeof(prompt), "Password for %s: ", cl->login);
	if (tty_ask(prompt, 1, cl->password, sizeof(cl->password)) == -1)
		return fail(CX_USAGE, "no password read");
	return 0;
}

/* Where the server is and who we are, with client.force.* applied. */
static int
set_server(struct client *cl)
{
	const char *host = conf_get("client.host.name");
	const char *forced = conf_get("client.force.host.name");
	char userpass[PASSWORD_MAX + 140];
	long long port;

	if (forced != NULL && *forced != '\0') {
		if (*host != '\0' && strcmp(host, forced) != 0)
			return fail(CX_USAGE, "this client may only connect to "
			    "%s (client.force.host.name)", forced);
		host = forced;
	}
	if (*host == '\0')
		return fail(CX_USAGE, "no host: use -h, QVDHOST or "
		    "client.host.name");
	if (conf_get_int("client.host.port", 1, 65535, &port) == -1)
		return fail(CX_USAGE, "bad port '%s'",
		    conf_get("client.host.port"));
	if (str_copy(cl->l7r.host, host, sizeof(cl->l7r.host)) == -1)
		return fail(CX_USAGE, "the host name is too long");
	str_fmt(cl->l7r.port, sizeof(cl->l7r.port), "%lld", port);
	if (str_copy(cl->login, conf_get("client.user.name"),
	    sizeof(cl->login)) == -1 || cl->login[0] == '\0')
		return fail(CX_USAGE, "no user name: use -u, QVDLOGIN or "
		    "client.user.name");
	if (strchr(cl->login, ':') != NULL)
		return fail(CX_USAGE, "a user name cannot contain ':'");
	cl->l7r.use_tls = conf_bool("client.use_ssl");
	str_fmt(userpass, sizeof(userpass), "%s:%s", cl->login, cl->password);
	base64_encode(userpass, strlen(userpass), cl->l7r.auth,
	    sizeof(cl->l7r.auth), 1);
	wipe(userpass, sizeof(userpass));
	wipe(cl->password, sizeof(cl->password));
	return 0;
}

static void
set_home(struct client *cl)
{
	const char *home = getenv("HOME");

	if (home == NULL || *home == '\0')
		return;
	str_fmt(cl->home_qvd, sizeof(cl->home_qvd), "%s/.qvd", home);
	str_fmt(cl->cert_dir, sizeof(cl->cert_dir), "%s/certs", cl->home_qvd);
	mkdir(cl->home_qvd, 0700);
}

/* Flags into the CONF_CMDLINE layer; 0, -1 to exit with *code. */
static int
parse_flags(struct client *cl, int argc, char **argv, const char **pass,
    int *debug, int *code)
{
	const char *errstr;
	int ch;

	opterr = 0;
	while ((ch = getopt(argc, argv, ":vdh:p:u:w:g:flonx:c:k:rs:")) != -1) {
		switch (ch) {
		case 'v':
			printf("qvdclient %s\n", QVD_VERSION);
			*code = CX_OK;
			return -1;
		case 'd': *debug = 1; break;
		case 'h': conf_set(CONF_CMDLINE, "client.host.name", optarg); break;
		case 'p': conf_set(CONF_CMDLINE, "client.host.port", optarg); break;
		case 'u': conf_set(CONF_CMDLINE, "client.user.name", optarg); break;
		case 'w':	/* kept, and hidden from ps */
			str_copy(cl->password, optarg, sizeof(cl->password));
			memset(optarg, 'x', strlen(optarg));
			*pass = cl->password;
			break;
		case 'g': conf_set(CONF_CMDLINE, "client.geometry", optarg); break;
		case 'f': conf_set(CONF_CMDLINE, "client.fullscreen", "1"); break;
		case 'l': cl->list_only = 1; break;
		case 'o': cl->first_vm = 1; break;
		case 'n': cl->l7r.verify = 0; break;
		case 'x': cl->nx_options = optarg; break;
		case 'c': cl->l7r.cert_file = optarg; break;
		case 'k': cl->l7r.key_file = optarg; break;
		case 'r': cl->kill_vm = 1; break;
		case 's':
			if (num_parse(optarg, 1, 2147483647, &cl->vm_id,
			    &errstr) == -1) {
				*code = fail(CX_USAGE, "-s: VM id '%s' is %s",
				    optarg, errstr);
				return -1;
			}
			break;
		case ':':
			*code = fail(CX_USAGE, "-%c needs a value", optopt);
			return -1;
		default:
			if (optopt != '?') {
				*code = fail(CX_USAGE, "unknown option -%c (-? "
				    "shows the options)", optopt);
				return -1;
			}
			usage(stdout);
			*code = CX_OK;
			return -1;
		}
	}
	if (optind < argc) {
		*code = fail(CX_USAGE, "unexpected argument '%s' (see -?)",
		    argv[optind]);
		return -1;
	}
	if ((cl->l7r.cert_file == NULL) != (cl->l7r.key_file == NULL)) {
		*code = fail(CX_USAGE, "-c and -k go together");
		return -1;
	}
	return 0;
}

/* ---- talking to the L7R ---- */

/* A final answer the server gave instead of what we asked for. */
static int
refused(struct client *cl, int status)
{
	const char *msg = cl->l7r.err;

	switch (status) {
	case 401:
		return fail(CX_AUTH, "login failed for %s at %s: wrong user "
		    "name or password", cl->login, cl->l7r.host);
	case 429:
		return fail(CX_AUTH, "login refused: %s", msg);
	case 403:
		if (strstr(msg, "maintenance") != NULL)
			return fail(CX_VM_BLOCKED, "%s", msg);
		return fail(CX_NO_VM, "%s", msg);
	case 404:
		return fail(CX_NO_VM, "%s", msg);
	case 503:
		if (str_has_prefix(msg, "The requested virtual machine"))
			return fail(CX_VM_FAILED, "%s", msg);
		return fail(CX_SERVER, "the server is not available: %s", msg);
	default:
		return fail(CX_ERROR, "the server answered %d: %s", status, msg);
	}
}

static int
list_vms(struct client *cl, struct l7rc_vm *vms, int *n)
{
	int status;

	if ((*n = l7rc_list(&cl->l7r, vms, L7RC_MAX_VMS, &status)) >= 0)
		return 0;
	if (status == 0)
		return fail(cl->l7r.code, "%s", cl->l7r.err);
	return refused(cl, status);
}

static void
print_vms(FILE *fp, const struct l7rc_vm *vms, int n)
{
	int i;

	fprintf(fp, "%-6s %-24s %-10s %s\n", "Id", "Name", "State", "Blocked");
	for (i = 0; i < n; i++)
		fprintf(fp, "%-6lld %-24s %-10s %d\n", vms[i].id, vms[i].name,
		    vms[i].state, vms[i].blocked);
}

/* The VM to connect to: -s, -o, the only one, or asked. */
static int
pick_vm(struct client *cl, const struct l7rc_vm *vms, int n, int *pick)
{
	const char *errstr;
	char line[32];
	long long id = cl->vm_id;
	int i;

	if (n == 0)
		return fail(CX_NO_VM, "%s has no virtual machines", cl->login);
	if (id == 0 && (cl->first_vm || n == 1))
		id = vms[0].id;
	if (id == 0) {
		if (!tty_interactive())
			return fail(CX_USAGE, "%s has %d virtual machines: "
			    "choose one with -s ID (-l lists them)", cl->login,
			    n);
		print_vms(stderr, vms, n);
		if (tty_ask("Virtual machine id: ", 0, line, sizeof(line)) ==
		    -1 || num_parse(line, 1, 2147483647, &id, &errstr) == -1)
			return fail(CX_USAGE, "no virtual machine chosen");
	}
	for (i = 0; i < n; i++)
		if (vms[i].id == id) {
			*pick = i;
			return 0;
		}
	return fail(CX_NO_VM, "%s has no virtual machine with id %lld",
	    cl->login, id);
}

/* "Kill current VM" (-r): stop_vm with the id, and wait for it. */
static int
stop_vm(struct client *cl, long long id)
{
	struct buf body = { NULL, 0, 0, 65536 };
	char target[64];
	int status, rc;

	fprintf(stderr, "qvdclient: stopping VM %lld\n", id);
	str_fmt(target, sizeof(target), "/qvd/stop_vm?id=%lld", id);
	rc = l7rc_get(&cl->l7r, target, &status, &body);
	str_copy(cl->l7r.err, body.data ? str_trim(body.data) : "",
	    sizeof(cl->l7r.err));
	buf_free(&body);
	if (rc != 0)
		return fail(rc, "%s", cl->l7r.err);
	return status == 200 ? 0 : refused(cl, status);
}

/* A parameter, URL-encoded; -1 (said) when its value is too long. */
static int
add_param(struct buf *b, const char *key, const char *value)
{
	char enc[1024];

	if (http_url_encode(value, enc, sizeof(enc)) == -1 ||
	    buf_printf(b, "&%s=%s", key, enc) == -1) {
		fprintf(stderr, "qvdclient: %s: the value is too long\n", key);
		return -1;
	}
	return 0;
}

/* connect_to_vm's target: the VM and the qvd.client.* parameters. */
static int
connect_target(const struct client *cl, long long id, struct buf *b)
{
	buf_printf(b, "/qvd/connect_to_vm?id=%lld", id);
	return add_param(b, "qvd.client.os", "linux") |
	    add_param(b, "qvd.client.geometry", conf_get("client.geometry")) |
	    add_param(b, "qvd.client.fullscreen",
	    conf_bool("client.fullscreen") ? "1" : "0") |
	    (cl->keyboard[0] ? add_param(b, "qvd.client.keyboard",
	    cl->keyboard) : 0) |
	    add_param(b, "qvd.client.link", cl->link) |
	    add_param(b, "qvd.client.printing.enabled",
	    conf_bool("client.printing.enable") ? "1" : "0") |
	    (*conf_get("client.nxagent.extra_args") ? add_param(b,
	    "qvd.client.nxagent.extra_args",
	    conf_get("client.nxagent.extra_args")) : 0);
}

static void
show_step(const char *step)
{
	fprintf(stderr, "qvdclient: %s\n", step);
	log_info("%s", step);
}

/* ---- the session ---- */

/* nxproxy -S on one end of a socket pair: its pid, or -1. */
static pid_t
start_nxproxy(struct client *cl, const char *options, int fd, char *err,
    size_t errsz)
{
	char *argv[] = { "nxproxy", "-S", NULL };
	char logpath[1200], num[16];
	struct proc_spec ps;
	pid_t pid;
	int logfd = -1;

	if (cl->home_qvd[0] != '\0') {
		str_fmt(logpath, sizeof(logpath), "%s/nxproxy.log",
		    cl->home_qvd);
		logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
	}
	str_fmt(num, sizeof(num), "%d", 0);
	setenv("NX_COMMFD", num, 1);	/* the NX stream on its stdin */
	setenv("NX_DISPLAY", options, 1);
	setenv("NX_CLIENT", "/bin/false", 1);	/* no dialogs */
	memset(&ps, 0, sizeof(ps));
	ps.argv = argv;
	ps.stdin_fd = fd;
	ps.stdout_fd = logfd;
	ps.stderr_fd = logfd;
	ps.new_session = 1;
	pid = proc_spawn(&ps, err, errsz);
	if (logfd != -1)
		close(logfd);
	return pid;
}

/*
 * After the server ended the tunnel: who did, as the L7R tells it
 * (CX_ADMIN, CX_TAKEN), or CX_OK when nobody did.
 */
static int
why_ended(struct client *cl, long long id)
{
	struct l7rc_vm vms[L7RC_MAX_VMS];
	int n, i, status;

	l7rc_close(&cl->l7r);
	n = l7rc_list(&cl->l7r, vms, L7RC_MAX_VMS, &status);
	for (i = 0; i < n; i++) {
		if (vms[i].id != id)
			continue;
		if (strcmp(vms[i].ended_by, "administrator") == 0)
			return fail(CX_ADMIN, "the administrator ended the "
			    "session");
		if (strcmp(vms[i].ended_by, "another client") == 0)
			return fail(CX_TAKEN, "another client took the session "
			    "over");
	}
	return CX_OK;
}

/*
 * The user's disconnect (a signal): nxproxy is told to end first, and its
 * last bytes relayed, so that nxagent sees NX's own shutdown of the link
 * and suspends at once; on a link just cut it takes hundreds of ms
 * longer, which a next connection waits for.  2 s at most.
 */
static void
end_proxy(struct client *cl, int fd, pid_t pid, struct relay_stats *st)
{
	struct relay_stats more;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	shutdown_over = 0;
	kill(pid, SIGTERM);
	alarm(2);
	relay_run(&cl->l7r.c, fd, &shutdown_over, &more);
	alarm(0);
	st->up += more.up;
	st->down += more.down;
}

/* Tunnel <-> nxproxy until either ends; the exit status or NO_DESKTOP. */
static int
run_session(struct client *cl, long long id, const char *options)
{
	struct relay_stats st;
	char err[256];
	int sp[2], status = 0, rc;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		return fail(CX_ERROR, "socketpair: %s", strerror(errno));
	if ((pid = start_nxproxy(cl, options, sp[1], err, sizeof(err))) ==
	    -1) {
		close(sp[0]);
		close(sp[1]);
		return fail(CX_NXPROXY, "%s (is nxproxy installed?)", err);
	}
	close(sp[1]);
	log_info("nxproxy %d started with %s", (int)pid, options);
	relay_run(&cl->l7r.c, sp[0], &stop_requested, &st);
	if (st.end == RELAY_STOPPED)
		end_proxy(cl, sp[0], pid, &st);
	close(sp[0]);
	log_info("session ended: %llu bytes from the server, %llu to it",
	    st.up, st.down);
	if (proc_wait(pid, 2000, &status) == -1)
		proc_kill_group(pid, 2000);
	if (st.end == RELAY_STOPPED) {
		fprintf(stderr, "qvdclient: disconnected\n");
		return CX_OK;
	}
	if (st.end == RELAY_CONN_ENDED && (rc = why_ended(cl, id)) != CX_OK)
		return rc;
	if (st.up < NO_DESKTOP_BYTES)
		return NO_DESKTOP;
	fprintf(stderr, "qvdclient: the session ended\n");
	return CX_OK;
}

/* client.geometry as WxH, each 1 to 16384 pixels. */
static int
parse_geometry(const char *g, struct x11_fit *size)
{
	char w[8];
	const char *x = strchr(g, 'x'), *why;
	long long n;

	if (x == NULL || (size_t)(x - g) >= sizeof(w))
		return -1;
	memcpy(w, g, (size_t)(x - g));
	w[x - g] = '\0';
	if (num_parse(w, 1, 16384, &n, &why) == -1)
		return -1;
	size->width = (int)n;
	if (num_parse(x + 1, 1, 16384, &n, &why) == -1)
		return -1;
	size->height = (int)n;
	return 0;
}

/* The link (client.force.link wins), nxproxy's options, the geometry. */
static int
set_nx(struct client *cl)
{
	const char *forced = conf_get("client.force.link");
	char err[256];

	if (parse_geometry(conf_get("client.geometry"), &cl->size) == -1)
		return fail(CX_USAGE, "bad geometry '%s': use WxH, for example "
		    "1024x768", conf_get("client.geometry"));

	str_copy(cl->link, *forced ? forced : conf_get("client.link"),
	    sizeof(cl->link));
	if (nx_proxy_options(cl->nx_options, cl->link, conf_get(
	    "client.nxproxy.extra_args"), cl->proxy_options,
	    sizeof(cl->proxy_options), err, sizeof(err)) == -1)
		return fail(CX_USAGE, "%s", err);
	return 0;
}

/* Optionally stop, then connect and run: the exit status. */
static int
connect_vm(struct client *cl, const struct l7rc_vm *vm)
{
	struct buf target = { NULL, 0, 0, 16384 };
	int status, attempt;

	if (vm->blocked)
		return fail(CX_VM_BLOCKED, "The requested virtual machine is "
		    "offline for maintenance");
	if (cl->kill_vm && (status = stop_vm(cl, vm->id)) != 0)
		return status;
	if (connect_target(cl, vm->id, &target) != 0) {
		buf_free(&target);
		return CX_USAGE;
	}
	/*
	 * Now and then nxagent gives up opening its display through a new
	 * proxy ("Unable to open display") before anything is shown: one
	 * more attempt, which the VM answers with a fresh X session.
	 */
	for (attempt = 0; attempt < 2; attempt++) {
		fprintf(stderr, "qvdclient: connecting to VM %lld (%s)\n",
		    vm->id, vm->name);
		status = l7rc_connect_vm(&cl->l7r, buf_str(&target));
		if (status != 0)
			break;
		if ((status = run_session(cl, vm->id, cl->proxy_options)) !=
		    NO_DESKTOP) {
			buf_free(&target);
			return status;
		}
		l7rc_close(&cl->l7r);
		log_warn("the desktop did not appear; %s", attempt == 0 ?
		    "connecting once more (the safety net)" : "giving up");
	}
	buf_free(&target);
	if (status == -1)
		return fail(cl->l7r.code, "%s", cl->l7r.err);
	if (status != 0 && status != NO_DESKTOP)
		return refused(cl, status);
	return fail(CX_NXPROXY, "nxproxy failed before the desktop appeared "
	    "(see %s/nxproxy.log); is DISPLAY usable?", cl->home_qvd);
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ---- the user's display ---- */

/* DISPLAY's socket: this machine's, or TCP port 6000 + N. */
static int
display_socket(const struct x11_where *w, char *err, size_t errsz)
{
	char port[8];

	if (w->local)
		return x11_connect_local(w, err, errsz);
	str_fmt(port, sizeof(port), "%d", 6000 + w->number);
	return l7rc_tcp_connect(w->host, port, err, errsz);
}

/* client.keyboard, or with "auto" the display's own layout, if known. */
static void
set_keyboard(struct client *cl)
{
	const char *kb = conf_get("client.keyboard");

	if (strcmp(kb, "auto") != 0) {
		str_copy(cl->keyboard, kb, sizeof(cl->keyboard));
		return;
	}
	if (x11_keyboard(&cl->x, cl->keyboard, sizeof(cl->keyboard)) == -1)
		cl->keyboard[0] = '\0';
	log_info("keyboard: %s", cl->keyboard[0] ? cl->keyboard :
	    "not known (the VM's default)");
}

/*
 * Connect and set up, once more (100 ms later, X11_RESET_TRIES times at
 * most) while the server closes connections unanswered: a bare X server
 * does while it resets, as when the last client just left.
 */
static int
connect_display(struct client *cl, const struct x11_where *w, char *err,
    size_t errsz)
{
	struct x11_cookie ck;
	int fd, rc, tries = 0;

	do {
		if (tries > 0)
			usleep(100 * 1000);
		if ((fd = display_socket(w, err, errsz)) == -1)
			return -1;
		if (x11_auth_lookup(fd, w, &ck) == -1)
			log_warn("the X authority file is malformed; no cookie "
			    "sent");
		rc = x11_setup(fd, w, &ck, &cl->x, err, errsz);
		wipe(&ck, sizeof(ck));
		if (rc != 0)
			close(fd);
	} while (rc == X11_CLOSED && ++tries < X11_RESET_TRIES);
	if (tries > 0 && rc == 0)
		log_info("the X display was resetting; connected after %d "
		    "tries", tries + 1);
	return rc == 0 ? 0 : -1;
}

/*
 * Open the user's display before nxproxy does, and hold it for the
 * session (x11_hold): a bare X server, a kiosk's, must not reset under
 * nxproxy; nxagent must see the geometry asked (x11_hold_resize_redirect).
 */
static int
open_display(struct client *cl)
{
	const char *dpy = getenv("DISPLAY");
	struct x11_where w;
	struct x11_fit fit;
	char err[512];
	int rc;

	if (x11_parse_display(dpy, &w, err, sizeof(err)) == -1)
		return fail(CX_NXPROXY, "%s", err);
	if (connect_display(cl, &w, err, sizeof(err)) == -1)
		return fail(CX_NXPROXY, "cannot open the X display '%s': %s",
		    dpy, err);
	log_info("display %s: %dx%d", dpy, cl->x.width, cl->x.height);
	set_keyboard(cl);
	if ((rc = x11_hold_resize_redirect(&cl->x)) == 1)
		log_info("no window manager holds the display: nxagent gets "
		    "the geometry asked, not 3/4 of the screen");
	fit.width = cl->x.width;	/* full screen */
	fit.height = cl->x.height;
	if (!conf_bool("client.fullscreen")) {
		fit.width = cl->size.width < fit.width ? cl->size.width :
		    fit.width;
		fit.height = cl->size.height < fit.height ? cl->size.height :
		    fit.height;
	}
	if (rc == -1 || (cl->holder = x11_hold(&cl->x, &fit)) == -1)
		return fail(CX_NXPROXY, "the X display '%s' failed: %s", dpy,
		    strerror(errno));
	return 0;
}

static int
run(struct client *cl)
{
	struct l7rc_vm vms[L7RC_MAX_VMS];
	int n, pick = 0, rc;

	if (!cl->list_only && (rc = open_display(cl)) != 0)
		return rc;
	if ((rc = list_vms(cl, vms, &n)) != 0)
		return rc;
	if (cl->list_only) {
		print_vms(stdout, vms, n);
		return CX_OK;
	}
	if ((rc = pick_vm(cl, vms, n, &pick)) != 0)
		return rc;
	return connect_vm(cl, &vms[pick]);
}

int
main(int argc, char **argv)
{
	static struct client cl;
	const char *pass = NULL, *dbg = getenv("QVD_DEBUG");
	int debug = dbg != NULL && *dbg != '\0' && strcmp(dbg, "0") != 0;
	int code = CX_OK;

	cl.l7r.verify = 1;
	cl.l7r.c.fd = -1;
	cl.x.fd = cl.x.hold_pipe = -1;
	log_open("qvdclient", LVL_OFF, NULL, 0, 0);	/* until open_log() */
	set_home(&cl);
	conf_init();
	if ((code = load_files(&cl)) != 0)
		return code;
	load_environment();
	if (argc == 2 && (strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return CX_OK;
	}
	if (parse_flags(&cl, argc, argv, &pass, &debug, &code) == -1)
		return code;
	open_log(&cl, debug);
	if ((code = check_settings()) != 0 ||
	    (code = set_nx(&cl)) != 0 ||
	    (code = get_password(&cl, pass)) != 0 ||
	    (code = set_server(&cl)) != 0)
		return code;
	cl.l7r.cert_dir = cl.cert_dir[0] ? cl.cert_dir : NULL;
	cl.l7r.ask = tty_interactive();
	cl.l7r.progress = show_step;
	catch_signals();
	code = run(&cl);
	x11_release(&cl.x, cl.holder);
	l7rc_free(&cl.l7r);
	log_close();
	return code;
}
