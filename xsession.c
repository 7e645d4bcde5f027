/* SPDX-License-Identifier: GPL-3.0-or-later */
/* xsession.c -- the user's X session in the VM: the monitor that runs
 * nxagent as the user, follows its output and keeps the state files. */

#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

#define LINE_MAX_NX	2048
#define ENV_MAX		64
#define STOP_GRACE_S	5	/* an ended session's monitor cleans up */

static char state_path[512], pid_path[512], suspend_path[512];

#define SUSPEND_ASKED_MS	3000	/* a suspend asked once in this time */

static void
paths(void)
{
	const char *run = conf_get("path.run");

	str_fmt(state_path, sizeof(state_path), "%s/nxagent.state", run);
	str_fmt(pid_path, sizeof(pid_path), "%s/nxagent.pid", run);
	str_fmt(suspend_path, sizeof(suspend_path), "%s/nxagent.suspend",
	    run);
}

static int
read_small(const char *path, char *out, size_t outsz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd == -1)
		return -1;
	n = read(fd, out, outsz - 1);
	close(fd);
	if (n < 0)
		return -1;
	out[n] = '\0';
	return 0;
}

int
xs_set_state(const char *nx_state)
{
	char text[64];

	paths();
	str_fmt(text, sizeof(text), "%s:%lld\n", nx_state, wall_ms() / 1000);
	return file_write_atomic(state_path, text, 0644);
}

/* nxagent's pid from its pid file, 0 if none. */
pid_t
xs_agent_pid(void)
{
	char buf[32];
	long long v;
	const char *why;

	paths();
	if (read_small(pid_path, buf, sizeof(buf)) == -1)
		return 0;
	buf[strcspn(buf, "\n")] = '\0';
	if (num_parse(buf, 2, 1 << 22, &v, &why) == -1)
		return 0;
	return (pid_t)v;
}

static void
forget_session(void)
{
	paths();
	unlink(state_path);
	unlink(pid_path);
}

/*
 * The session's x_state (reference 3.3): from the state file, with a dead
 * nxagent noticed and reported as stopped.  since = seconds in it.
 */
const char *
xs_x_state(long long *since)
{
	char buf[64], *colon;
	const char *x;
	long long ts = 0;
	const char *why;
	pid_t pid;

	paths();
	*since = 0;
	if (read_small(state_path, buf, sizeof(buf)) == -1)
		return "stopped";
	buf[strcspn(buf, "\n")] = '\0';
	if ((colon = strchr(buf, ':')) != NULL) {
		*colon = '\0';
		if (num_parse(colon + 1, 0, 1LL << 40, &ts, &why) == 0)
			*since = wall_ms() / 1000 - ts;
	}
	x = nx_x_state(buf);
	if (strcmp(x, "stopped") == 0) {
		/*
		 * nxagent said it aborted or terminated, but lingers for its
		 * cleanup, holding display :100: a new one started now fails
		 * with "Unable to open display".  Stopped once it is gone.
		 */
		pid = xs_agent_pid();
		if ((pid != 0 && kill(pid, 0) == 0) || *since < STOP_GRACE_S)
			return "stopping";
		forget_session();
		return "stopped";
	}
	if (strcmp(x, "listening") == 0 || strcmp(x, "connected") == 0 ||
	    strcmp(x, "suspending") == 0 || strcmp(x, "suspended") == 0 ||
	    strcmp(x, "stopping") == 0) {
		pid = xs_agent_pid();
		if (pid == 0 || kill(pid, 0) == -1) {
			forget_session();
			return "stopped";
		}
	}
	return x;
}

int
xs_signal(int sig)
{
	pid_t pid = xs_agent_pid();

	if (pid == 0)
		return -1;
	return kill(pid, sig);
}

/*
 * A connected session to suspend, for a new connection: SIGHUP once, not
 * again within SUSPEND_ASKED_MS (the L7R asks every few ms while nxagent
 * suspends, and a second SIGHUP then could be taken for a resume).  The
 * time it was asked is a file's: each call is its own process.
 */
void
xs_suspend(void)
{
	struct stat st;
	char now[32];

	paths();
	if (stat(suspend_path, &st) == 0 && wall_ms() - ((long long)
	    st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000) <
	    SUSPEND_ASKED_MS)
		return;
	str_fmt(now, sizeof(now), "%lld\n", wall_ms());
	file_write_atomic(suspend_path, now, 0644);
	xs_signal(SIGHUP);
}

/* ---- the monitor ---- */

struct session {
	const struct nx_params *p;
	char	 user[64];
	char	 home[512];
	uid_t	 uid;
	gid_t	 gid;
	int	 display;
	pid_t	 agent;		/* nxagent, or xinit */
	pid_t	 client;	/* the X session when there is no xinit */
	int	 out;		/* nxagent's output */
	int	 log;		/* vma.nxagent.log */
	char	 nx[32];	/* nxagent's last state */
	int	 resumed;	/* listening after a resume */
	long long since;	/* mono_ms() of the last state change */
	char	*env[ENV_MAX];
	int	 nenv;
};

static void
env_add(struct session *s, const char *k, const char *v)
{
	int i;

	if (v == NULL || s->nenv >= ENV_MAX - 1)
		return;
	for (i = 0; i < s->nenv; i++)
		if (strncmp(s->env[i], k, strlen(k)) == 0 &&
		    s->env[i][strlen(k)] == '=') {
			free(s->env[i]);
			s->env[i] = xasprintf("%s=%s", k, v);
			return;
		}
	s->env[s->nenv++] = xasprintf("%s=%s", k, v);
	s->env[s->nenv] = NULL;
}

/* KEY=VALUE lines of /etc/environment and friends (quotes removed). */
static void
env_file(struct session *s, const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[1024], *eq, *k, *v;
	size_t n;

	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		k = str_trim(line);
		if (*k == '#' || (eq = strchr(k, '=')) == NULL)
			continue;
		*eq = '\0';
		v = eq + 1;
		n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
			v[n - 1] = '\0';
			v++;
		}
		if (strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789_") == strlen(k) && *k)
			env_add(s, k, v);
	}
	fclose(fp);
}

static void
build_env(struct session *s)
{
	char disp[16], pulse[32], path[600];
	struct passwd *pw = getpwnam(s->user);

	env_add(s, "PATH", "/usr/local/bin:/usr/bin:/bin");
	env_add(s, "LANG", conf_get("vma.default.lang"));
	env_file(s, "/etc/default/locale");
	env_file(s, "/etc/locale.conf");
	env_file(s, "/etc/environment");
	str_fmt(path, sizeof(path), "%s/.qvd_environment", s->home);
	env_file(s, path);
	env_add(s, "HOME", s->home);
	env_add(s, "USER", s->user);
	env_add(s, "LOGNAME", s->user);
	env_add(s, "SHELL", pw ? pw->pw_shell : "/bin/sh");
	str_fmt(path, sizeof(path), "/var/mail/%s", s->user);
	env_add(s, "MAIL", path);
	str_fmt(disp, sizeof(disp), ":%d", s->display);
	env_add(s, "DISPLAY", disp);
	env_add(s, "NX_CLIENT", conf_get("command.nxdiag"));
	if (conf_bool("vma.slave.enable"))
		env_add(s, "QVD_SLAVE_CMD", conf_get("vma.slave.command"));
	if (conf_bool("vma.audio.enable")) {
		str_fmt(pulse, sizeof(pulse), "tcp:localhost:%d",
		    s->display + 7000);
		env_add(s, "PULSE_SERVER", pulse);
	}
}

static int
spawn_as_user(struct session *s, char **argv, int out, pid_t *pid, char *err,
    size_t errsz)
{
	struct proc_spec spec;

	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.envp = s->env;
	spec.stdin_fd = -1;
	spec.stdout_fd = out;
	spec.stderr_fd = out;
	spec.new_session = 1;
	spec.cwd = s->home;
	spec.drop = 1;
	spec.user = s->user;
	spec.uid = s->uid;
	spec.gid = s->gid;
	*pid = proc_spawn(&spec, err, errsz);
	return *pid == -1 ? -1 : 0;
}

/* Split a "command.*.args.extra" value into argv words. */
static int
add_words(char **argv, int n, int max, const char *words)
{
	static char buf[1024];
	char *w, *save = NULL;

	if (words == NULL || *words == '\0')
		return n;
	str_copy(buf, words, sizeof(buf));
	for (w = strtok_r(buf, " \t", &save); w && n < max - 1;
	    w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	return n;
}

static int
launch(struct session *s, const char *options_path, char *err, size_t errsz)
{
	const char *xinit = conf_get("command.xinit");
	char *argv[48], dpy[16], nxdisplay[600];
	int n = 0, p[2];

	if (pipe2(p, O_CLOEXEC) == -1) {
		str_fmt(err, errsz, "pipe: %s", strerror(errno));
		return -1;
	}
	str_fmt(dpy, sizeof(dpy), ":%d", s->display);
	str_fmt(nxdisplay, sizeof(nxdisplay), "nx/nx,options=%s:%d",
	    options_path, s->display);
	if (xinit != NULL && *xinit != '\0') {
		argv[n++] = (char *)xinit;
		argv[n++] = (char *)conf_get("command.x-session");
		n = add_words(argv, n, 20, conf_get(
		    "command.x-session.args.extra"));
		argv[n++] = "--";
	}
	argv[n++] = (char *)conf_get("command.nxagent");
	argv[n++] = dpy;
	argv[n++] = "-ac";
	argv[n++] = "-nolisten";
	argv[n++] = "tcp";
	argv[n++] = "-name";
	argv[n++] = "QVD";
	argv[n++] = "-display";
	argv[n++] = nxdisplay;
	n = add_words(argv, n, 46, conf_get("command.nxagent.args.extra"));
	argv[n] = NULL;
	if (spawn_as_user(s, argv, p[1], &s->agent, err, errsz) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	s->out = p[0];
	fd_nonblock(s->out, 1);
	return 0;
}

/* Without xinit the X session starts once nxagent has its display. */
static void
start_client(struct session *s)
{
	char *argv[24], err[256];
	int n = 0;

	if (s->client > 0 || (conf_get("command.xinit") != NULL &&
	    *conf_get("command.xinit") != '\0'))
		return;
	argv[n++] = (char *)conf_get("command.x-session");
	n = add_words(argv, n, 22, conf_get("command.x-session.args.extra"));
	argv[n] = NULL;
	if (spawn_as_user(s, argv, s->log, &s->client, err, sizeof(err)) == -1)
		log_error("cannot start the X session: %s", err);
}

static void
state_hook(const char *x)
{
	char key[64];
	const char *extra[] = { "qvd.hook.on_state", x, NULL };

	str_fmt(key, sizeof(key), "vma.on_state.%s", x);
	hook_run(key, NULL, extra, 1);
}

static void
enter(struct session *s, const char *nx)
{
	const char *before = nx_x_state(s->nx), *after = nx_x_state(nx);

	log_info("session of %s: %s -> %s", s->user, s->nx, nx);
	if (strcmp(nx, "resuming") == 0)
		s->resumed = 1;
	else if (strcmp(nx, "starting") == 0)
		s->resumed = 0;
	str_copy(s->nx, nx, sizeof(s->nx));
	s->since = mono_ms();
	xs_set_state(nx);
	if (strcmp(before, after) != 0 && (strcmp(after, "connected") == 0 ||
	    strcmp(after, "suspended") == 0))
		state_hook(after);
	if (strcmp(nx, "starting") == 0)
		start_client(s);
}

static void
handle_line(struct session *s, const char *line)
{
	char nx[32], pidfile[32];
	const char *p;
	long long pid;
	const char *why;

	if (s->log >= 0) {	/* the log is best effort */
		struct iovec iov[2] = { { (char *)line, strlen(line) },
		    { "\n", 1 } };

		if (writev(s->log, iov, 2) < 0)
			s->log = -1;
	}
	if ((p = strstr(line, "Agent running with pid '")) != NULL) {
		str_copy(pidfile, p + 24, sizeof(pidfile));
		pidfile[strcspn(pidfile, "'")] = '\0';
		if (num_parse(pidfile, 2, 1 << 22, &pid, &why) == 0) {
			str_fmt(pidfile, sizeof(pidfile), "%lld\n", pid);
			file_write_atomic(pid_path, pidfile, 0644);
		}
	}
	if (nx_parse_state_line(line, nx, sizeof(nx)) &&
	    strcmp(nx, s->nx) != 0)
		enter(s, nx);
}

/* Read what nxagent printed; -1 at the end of its output. */
static int
read_output(struct session *s, char *acc, size_t *len)
{
	char *nl;
	ssize_t n;

	for (;;) {
		n = read(s->out, acc + *len, LINE_MAX_NX - 1 - *len);
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		*len += (size_t)n;
		acc[*len] = '\0';
		while ((nl = strchr(acc, '\n')) != NULL) {
			*nl = '\0';
			handle_line(s, acc);
			*len -= (size_t)(nl + 1 - acc);
			memmove(acc, nl + 1, *len + 1);
		}
		if (*len >= LINE_MAX_NX - 1) {	/* an endless line */
			handle_line(s, acc);
			*len = 0;
		}
	}
}

/* upstream's timeouts: a state held too long ends the session */
static void
check_timeouts(struct session *s)
{
	long long held = (mono_ms() - s->since) / 1000;
	const char *x = nx_x_state(s->nx);

	if (strcmp(x, "starting") == 0 &&
	    held > conf_int("internal.nxagent.timeout.initiating", 20)) {
		log_warn("nxagent did not start in time; stopping it");
		kill(-s->agent, SIGTERM);
		s->since = mono_ms();
	} else if (strcmp(x, "listening") == 0 && !s->resumed &&
	    held > conf_int("internal.nxagent.timeout.listening", 10)) {
		log_warn("no client connected in time; stopping the session");
		kill(s->agent, SIGTERM);
		s->since = mono_ms();
	} else if (strcmp(x, "suspending") == 0 &&
	    held > conf_int("internal.nxagent.timeout.suspending", 20)) {
		kill(s->agent, SIGTERM);
		s->since = mono_ms();
	} else if (strcmp(x, "stopping") == 0 &&
	    held > conf_int("internal.nxagent.timeout.stopping", 20)) {
		kill(-s->agent, SIGKILL);
		kill(s->agent, SIGKILL);
		s->since = mono_ms();
	}
}

static void
watch(struct session *s)
{
	char acc[LINE_MAX_NX];
	size_t len = 0;
	struct pollfd pfd;
	int st, open_out = 1;
	pid_t w;

	for (;;) {
		pfd.fd = s->out;
		pfd.events = POLLIN;
		if (open_out && poll(&pfd, 1, 500) > 0 &&
		    read_output(s, acc, &len) == -1) {
			open_out = 0;
			close(s->out);
		}
		if (!open_out)
			sleep_ms(100);
		if (s->client > 0 && waitpid(s->client, &st, WNOHANG) ==
		    s->client) {
			log_info("the X session of %s ended; stopping nxagent",
			    s->user);
			s->client = 0;
			kill(s->agent, SIGTERM);
		}
		w = waitpid(s->agent, &st, WNOHANG);
		if (w == s->agent || (w == -1 && errno == ECHILD))
			break;
		check_timeouts(s);
	}
	if (open_out) {
		read_output(s, acc, &len);
		close(s->out);
	}
}

/* The slave key and the printing settings of this connection (resumed
 * ones too: the client's slave channel checks the key of its 101). */
void
xs_write_side_files(const struct nx_params *p)
{
	const char *key = nx_param(p, "qvd.slave.key");
	const char *os = nx_param(p, "qvd.client.os");
	char path[600], text[256];

	if (key != NULL) {
		str_fmt(path, sizeof(path), "%s",
		    conf_get("internal.vma.slave.config"));
		file_write_atomic(path, key, 0600);
	}
	str_fmt(text, sizeof(text), "qvd.printing.enabled=%d\nqvd.client.os="
	    "%s\nqvd.printing.port=%lld\n", conf_bool("vma.printing.enable"),
	    os != NULL ? os : "linux",
	    conf_int("internal.nxagent.display", 100) + 2000);
	file_write_atomic(conf_get("internal.vma.printing.config"), text, 0644);
}

/* The options file nxagent reads (owned by root, readable by the user). */
int
xs_write_options(const struct nx_params *p, char *err, size_t errsz)
{
	char opts[1024];
	int display = (int)conf_int("internal.nxagent.display", 100);

	if (nx_agent_options(p, display, conf_bool("vma.audio.enable"),
	    conf_bool("vma.slave.enable"), conf_bool("vma.printing.enable") &&
	    nx_param(p, "qvd.client.printing.enabled") != NULL &&
	    strcmp(nx_param(p, "qvd.client.printing.enabled"), "1") == 0,
	    opts, sizeof(opts), err, errsz) == -1)
		return -1;
	if (file_write_atomic(conf_get("internal.vma.nxagent.config"), opts,
	    0644) == -1) {
		str_fmt(err, errsz, "cannot write %s: %s",
		    conf_get("internal.vma.nxagent.config"), strerror(errno));
		return -1;
	}
	return 0;
}

static int
open_nx_log(void)
{
	const char *path = conf_get("vma.nxagent.log");

	if (path == NULL || *path == '\0')
		return -1;
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

/*
 * The monitor: runs detached for the life of the session.  Provisions
 * the user, runs the connect hook, starts nxagent and follows it.
 */
static void NORETURN
monitor(const struct nx_params *p)
{
	struct session s;
	char err[512];
	const char *extra[] = { "qvd.vm.session.state", "starting",
	    "qvd.hook.on_action", "connect", NULL };
	int i;

	memset(&s, 0, sizeof(s));
	s.p = p;
	s.log = open_nx_log();
	s.display = (int)conf_int("internal.nxagent.display", 100);
	str_copy(s.user, nx_param(p, "qvd.vm.user.name"), sizeof(s.user));
	str_copy(s.nx, "initiating", sizeof(s.nx));
	xs_set_state("provisioning");
	if (provision_user(p, err, sizeof(err)) == -1) {
		log_error("cannot provision %s: %s", s.user, err);
		goto stopped;
	}
	if (proc_user(s.user, &s.uid, &s.gid, s.home, sizeof(s.home)) == -1)
		goto stopped;
	xs_set_state("initiating");
	s.since = mono_ms();
	if (hook_run("vma.on_action.connect", p, extra, 0) == -1) {
		log_error("the connect hook failed; the session does not start");
		goto stopped;
	}
	build_env(&s);
	if (xs_write_options(p, err, sizeof(err)) == -1 ||
	    launch(&s, conf_get("internal.vma.nxagent.config"), err,
	    sizeof(err)) == -1) {
		log_error("cannot start nxagent: %s", err);
		goto stopped;
	}
	log_info("nxagent started for %s (pid %d)", s.user, (int)s.agent);
	watch(&s);
	if (s.client > 0)
		proc_kill_group(s.client, 2000);
	kill(-s.agent, SIGTERM);
	log_info("the session of %s ended", s.user);
stopped:
	forget_session();
	state_hook("disconnected");
	for (i = 0; i < s.nenv; i++)
		free(s.env[i]);
	_exit(0);
}

/* A new session from stopped: state "initiating" and a detached monitor. */
int
xs_start(const struct nx_params *p)
{
	pid_t pid;

	xs_write_side_files(p);
	xs_set_state("initiating");
	pid = proc_detach();
	if (pid == -1) {
		forget_session();
		return -1;
	}
	if (pid == 0)
		monitor(p);
	return 0;
}
