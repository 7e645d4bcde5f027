/* SPDX-License-Identifier: GPL-3.0-or-later */
/* provision.c -- the session user's account and home inside the VM. */

#include <sys/mount.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

#define CMD_TIMEOUT_MS	60000

/* A user or group name useradd accepts and that cannot be an option. */
int
provision_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || s[0] == '-' || s[0] == '.')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' &&
		    *s != '.')
			return 0;
	return 1;
}

static int
groups_ok(const char *s)
{
	char *copy = xstrdup(s), *tok, *save = NULL;
	int ok = 1;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",",
	    &save))
		ok &= provision_name_ok(tok);
	free(copy);
	return ok;
}

static int
run_cmd(char *const *argv, char *err, size_t errsz)
{
	return proc_run(argv, CMD_TIMEOUT_MS, STDERR_FILENO, err, errsz) == 0 ?
	    0 : -1;
}

static int
provisioning_hook(const char *which, const struct nx_params *p)
{
	char key[64];
	const char *extra[] = { "qvd.hook.on_provisioning", which, NULL };

	str_fmt(key, sizeof(key), "vma.on_provisioning.%s", which);
	return hook_run(key, p, extra, 0);
}

/* The first partition of vma.user.home.drive on /home (KVM images). */
static int
mount_home(const char *home_path, char *err, size_t errsz)
{
	const char *drive = conf_get("vma.user.home.drive");
	const char *fs = conf_get("vma.user.home.fs");
	char part[256], mkfs[64];
	struct stat hs, rs, ds;

	if (drive == NULL || *drive == '\0' || stat(drive, &ds) == -1 ||
	    !S_ISBLK(ds.st_mode))
		return 0;	/* no home disk: homes live in the image */
	if (stat(home_path, &hs) == -1 || stat("/", &rs) == -1 ||
	    hs.st_dev != rs.st_dev)
		return 0;	/* already mounted */
	str_fmt(part, sizeof(part), "%s1", drive);
	if (access(part, F_OK) == -1) {
		char *sfdisk[] = { "sh", "-c", "echo , | sfdisk \"$0\"",
		    (char *)drive, NULL };

		str_fmt(mkfs, sizeof(mkfs), "mkfs.%s", fs);
		if (run_cmd(sfdisk, err, errsz) == -1)
			return -1;
		{
			char *mk[] = { mkfs, part, NULL };

			if (run_cmd(mk, err, errsz) == -1)
				return -1;
		}
	}
	if (mount(part, home_path, fs, 0, NULL) == -1) {
		str_fmt(err, errsz, "cannot mount %s on %s: %s", part,
		    home_path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
add_user(const char *user, const char *home, const struct nx_params *p,
    char *err, size_t errsz)
{
	const char *group = nx_param(p, "qvd.vm.user.group");
	const char *groups = nx_param(p, "qvd.vm.user.groups");
	const char *uid = nx_param(p, "qvd.vm.user.uid");
	const char *gid = nx_param(p, "qvd.vm.user.gid");
	char *argv[20];
	int n = 0, made_group = 0;

	if (group == NULL || *group == '\0')
		group = user;
	if (!provision_name_ok(group) || (groups && *groups &&
	    !groups_ok(groups)) || (uid && strspn(uid, "0123456789") !=
	    strlen(uid)) || (gid && strspn(gid, "0123456789") != strlen(gid))) {
		str_copy(err, "bad group, groups, uid or gid for the user",
		    errsz);
		return -1;
	}
	if (getgrnam(group) == NULL) {
		argv[n++] = (char *)conf_get("command.groupadd");
		if (gid && *gid) {
			argv[n++] = "-g";
			argv[n++] = (char *)gid;
		}
		argv[n++] = (char *)group;
		argv[n] = NULL;
		if (run_cmd(argv, err, errsz) == -1)
			return -1;
		made_group = 1;
	}
	n = 0;
	argv[n++] = (char *)conf_get("command.useradd");
	argv[n++] = "-m";
	argv[n++] = "-d";
	argv[n++] = (char *)home;
	argv[n++] = "-g";
	argv[n++] = (char *)group;
	argv[n++] = "-s";
	argv[n++] = (char *)conf_get("vma.user.shell");
	if (groups && *groups) {
		argv[n++] = "-G";
		argv[n++] = (char *)groups;
	}
	if (uid && *uid) {
		argv[n++] = "-u";
		argv[n++] = (char *)uid;
	}
	argv[n++] = (char *)user;
	argv[n] = NULL;
	if (run_cmd(argv, err, errsz) == 0)
		return 0;
	/* undo a half-made account */
	{
		char e2[128];
		char *del[] = { (char *)conf_get("command.userdel"), "-rf",
		    (char *)user, NULL };
		char *gdel[] = { (char *)conf_get("command.groupdel"),
		    (char *)group, NULL };

		run_cmd(del, e2, sizeof(e2));
		if (made_group)
			run_cmd(gdel, e2, sizeof(e2));
	}
	return -1;
}

/* A user known to the image whose home is gone (a fresh /home) gets one. */
static int
make_home(const struct passwd *pw, const char *home, char *err, size_t errsz)
{
	struct stat st;

	if (stat(home, &st) == 0)
		return 0;
	if (mkdir(home, 0750) == -1 || chown(home, pw->pw_uid, pw->pw_gid)
	    == -1) {
		str_fmt(err, errsz, "cannot create %s: %s", home,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Make sure the session user exists and has a home: mount_home, add_user
 * (a configured hook replaces each built-in step), then after_add_user.
 */
int
provision_user(const struct nx_params *p, char *err, size_t errsz)
{
	const char *user = nx_param(p, "qvd.vm.user.name");
	const char *home = nx_param(p, "qvd.vm.user.home");
	const char *home_path = conf_get("vma.user.home.path");
	struct passwd *pw;
	struct stat st;

	if (user == NULL || home == NULL || !provision_name_ok(user)) {
		str_copy(err, "no valid user name", errsz);
		return -1;
	}
	if (home[0] != '/' || strstr(home, "..") != NULL) {
		str_fmt(err, errsz, "bad home directory '%s'", home);
		return -1;
	}
	if (stat(home, &st) == -1) {
		if (*conf_get("vma.on_provisioning.mount_home") != '\0') {
			if (provisioning_hook("mount_home", p) == -1) {
				str_copy(err, "the mount_home hook failed", errsz);
				return -1;
			}
		} else if (mount_home(home_path, err, errsz) == -1)
			return -1;
	}
	if ((pw = getpwnam(user)) != NULL)
		return make_home(pw, home, err, errsz);
	if (*conf_get("vma.on_provisioning.add_user") != '\0') {
		if (provisioning_hook("add_user", p) == -1) {
			str_copy(err, "the add_user hook failed", errsz);
			return -1;
		}
	} else if (add_user(user, home, p, err, errsz) == -1)
		return -1;
	if (provisioning_hook("after_add_user", p) == -1) {
		str_copy(err, "the after_add_user hook failed", errsz);
		return -1;
	}
	if (getpwnam(user) == NULL) {
		str_fmt(err, errsz, "user %s still does not exist", user);
		return -1;
	}
	return 0;
}
