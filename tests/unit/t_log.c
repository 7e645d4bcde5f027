/* SPDX-License-Identifier: GPL-3.0-or-later */
/* t_log.c -- log levels and the log file. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"
#include "tap.h"

int
main(void)
{
	char path[] = "/tmp/t_log.XXXXXX", *text;
	enum log_level lv;
	size_t len;
	int fd;

	ok(log_level_parse("debug", &lv) == 0 && lv == LVL_DEBUG, "debug");
	ok(log_level_parse("OFF", &lv) == 0 && lv == LVL_OFF, "OFF");
	ok(log_level_parse("loud", &lv) == -1, "unknown level refused");
	if ((fd = mkstemp(path)) == -1)
		return 1;
	close(fd);
	ok(log_open("t_log", LVL_WARN, path, 0, 0) == 0, "log file opened");
	log_info("not written");
	log_warn("written %d", 42);
	log_error("also written");
	log_close();
	text = tap_read_file(path, &len);
	ok(text != NULL && strstr(text, "not written") == NULL,
	    "below the level is dropped");
	ok(text != NULL && strstr(text, "t_log[") != NULL &&
	    strstr(text, "WARN: written 42\n") != NULL, "warning written");
	ok(text != NULL && strstr(text, "ERROR: also written") != NULL,
	    "error written");
	free(text);
	ok(log_open("t_log", LVL_OFF, path, 0, 0) == 0, "OFF opens nothing");
	log_fatal("silent");
	log_close();
	text = tap_read_file(path, &len);
	ok(text != NULL && strstr(text, "silent") == NULL, "OFF is silent");
	free(text);
	unlink(path);
	ok(log_open("t_log", LVL_INFO, "/nonexistent/dir/x.log", 0, 0) == -1,
	    "unwritable log file reported");
	return tap_done();
}
