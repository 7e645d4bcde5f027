/* SPDX-License-Identifier: GPL-3.0-or-later */
/* t_qmp.c -- the QMP client against a scripted monitor on a Unix socket:
 * greeting and capabilities, events skipped, errors, a monitor that
 * greets wrongly, hangs up, or sends a line beyond the bound. */

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"
#include "tap.h"

#define GREETING "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n"

static void
say(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) == -1)
		_exit(1);
}

/* One command line from the client (ignored but for its arrival). */
static void
hear(int fd)
{
	char c;

	while (read(fd, &c, 1) == 1 && c != '\n')
		;
}

/* The monitor: one scripted conversation per connection. */
static void
monitor(int lfd)
{
	char *big;
	int fd;

	fd = accept(lfd, NULL, NULL);		/* 1: a good monitor */
	say(fd, GREETING);
	hear(fd);
	say(fd, "{\"return\": {}}\r\n");
	hear(fd);
	say(fd, "{\"timestamp\": {}, \"event\": \"POWERDOWN\"}\r\n"
	    "{\"return\": {\"service\": \"5901\"}}\r\n");
	hear(fd);
	say(fd, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"nope\"}}"
	    "\r\n");
	close(fd);
	fd = accept(lfd, NULL, NULL);		/* 2: no greeting */
	say(fd, "HTTP/1.0 400 what\r\n");
	close(fd);
	fd = accept(lfd, NULL, NULL);		/* 3: hangs up at once */
	close(fd);
	fd = accept(lfd, NULL, NULL);		/* 4: a line beyond the bound */
	big = malloc(70000);
	memset(big, 'x', 70000);
	if (write(fd, big, 70000) == -1)
		_exit(1);
	free(big);
	sleep(2);
	_exit(0);
}

int
main(void)
{
	struct sockaddr_un sa;
	char dir[] = "/tmp/t_qmp.XXXXXX", path[128], reply[256], err[256];
	pid_t pid;
	int lfd, st;

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL)
		return 1;
	str_fmt(path, sizeof(path), "%s/qmp.sock", dir);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	str_copy(sa.sun_path, path, sizeof(sa.sun_path));
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(lfd, 4) == -1)
		return 1;
	if ((pid = fork()) == 0)
		monitor(lfd);
	close(lfd);

	is_int(qmp_open(path, 2000, err, sizeof(err)), 0,
	    "greeting and capabilities");
	is_int(qmp_execute("query-vnc", 2000, reply, sizeof(reply), err,
	    sizeof(err)), 0, "a command");
	is_str(reply, "{\"service\": \"5901\"}",
	    "its return value, the event before it skipped");
	is_int(qmp_execute("system_powerdown", 2000, NULL, 0, err,
	    sizeof(err)), -1, "an error answer fails");
	ok(strstr(err, "nope") != NULL, "with the monitor's words: %s", err);
	qmp_close();
	is_int(qmp_execute("query-vnc", 100, reply, sizeof(reply), err,
	    sizeof(err)), -1, "closed: no command goes");

	is_int(qmp_open(path, 2000, err, sizeof(err)), -1, "no greeting");
	is_str(err, "QMP: no greeting", "says so");
	is_int(qmp_open(path, 2000, err, sizeof(err)), -1, "a hang-up");
	is_str(err, "QMP: the monitor closed", "says so");
	is_int(qmp_open(path, 2000, err, sizeof(err)), -1, "an endless line");
	is_str(err, "QMP: a message too long", "is cut at the bound");
	is_int(qmp_open("/nonexistent/qmp.sock", 500, err, sizeof(err)), -1,
	    "no monitor");
	ok(strstr(err, "cannot connect to /nonexistent/qmp.sock") != NULL,
	    "names the socket: %s", err);

	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
