/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tty.c -- questions asked on the controlling terminal (qa, qvdclient). */

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "qvd.h"

/* Is there a person to ask: standard input a terminal, /dev/tty open? */
int
tty_interactive(void)
{
	return isatty(STDIN_FILENO) && access("/dev/tty", R_OK | W_OK) == 0;
}

/*
 * Ask on /dev/tty and read one line, without echo when secret; the line
 * without its end goes to out.  -1 when there is no terminal or no answer.
 */
int
tty_ask(const char *prompt, int secret, char *out, size_t outsz)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	int rc = 0, restore = 0;

	if (tty == NULL)
		return -1;
	if (secret && tcgetattr(fileno(tty), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
	}
	fprintf(tty, "%s", prompt);
	fflush(tty);
	if (fgets(out, (int)outsz, tty) == NULL)
		rc = -1;
	if (restore) {
		fprintf(tty, "\n");
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	}
	fclose(tty);
	if (rc == -1) {
		out[0] = '\0';
		return -1;
	}
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

/* A yes/no question on the terminal: 1 for yes, 0 for anything else. */
int
tty_yes(const char *prompt)
{
	char line[16];

	return tty_ask(prompt, 0, line, sizeof(line)) == 0 &&
	    (line[0] == 'y' || line[0] == 'Y');
}
