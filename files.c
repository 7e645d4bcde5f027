/* SPDX-License-Identifier: GPL-3.0-or-later */
/* files.c -- file system helpers: rm -rf within one file system, mkdir -p,
 * is it a directory, the "qvd-<id>" run directories of VMs. */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type == FTW_DP)
		return rmdir(path) == -1 && errno != ENOENT ? -1 : 0;
	return unlink(path) == -1 && errno != ENOENT ? -1 : 0;
}

/* rm -rf that never crosses into another file system (a mounted home). */
int
fs_remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* mkdir -p; the last directory gets mode, its parents 0755. */
int
fs_mkdirs(const char *path, mode_t mode)
{
	char buf[4096], *p;

	if (str_copy(buf, path, sizeof(buf)) == -1)
		return -1;
	for (p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) == -1 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(buf, mode) == -1 && errno != EEXIST ? -1 : 0;
}

int
fs_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* fn(id) for every entry "qvd-<id>" of dir (a hypervisor's run files). */
void
fs_each_vm_dir(const char *dir, void (*fn)(long long))
{
	DIR *d;
	struct dirent *de;
	long long id;
	const char *why;

	if (dir == NULL || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "qvd-", 4) == 0 &&
		    num_parse(de->d_name + 4, 1, 1LL << 31, &id, &why) == 0)
			fn(id);
	closedir(d);
}
