/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lxc.c -- the LXC hypervisor: DI tarballs unpacked into basefs, an
 * overlayfs root per VM, a generated config, the real lxc-start/stop. */

#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

#define UNTAR_TIMEOUT_MS	(30 * 60 * 1000)
#define LXC_CMD_TIMEOUT_MS	60000

struct lxc_paths {
	char	 image[4096];	/* the DI tarball */
	char	 base[4096];	/* basefs/<di path> */
	char	 lower[4200];	/* base, or base/rootfs for extended images */
	char	 upper[4096];	/* overlayfs/<di>-<vm>-overlayfs */
	char	 work[4096];
	char	 deleteme[4096];
	char	 root[4096];	/* rootfs/<vm>-fs */
	char	 home[4096];	/* homefs/<vm>-<user>-homefs */
	char	 dir[4096];	/* path.run.lxc/qvd-<vm> */
	char	 name[32];	/* qvd-<vm> */
};

static void
lxc_paths(const struct vm_info *v, struct lxc_paths *p)
{
	const char *overlays = conf_get("path.storage.overlayfs");

	memset(p, 0, sizeof(*p));
	str_fmt(p->image, sizeof(p->image), "%s/%s",
	    conf_get("path.storage.images"), v->di_path);
	str_fmt(p->base, sizeof(p->base), "%s/%s",
	    conf_get("path.storage.basefs"), v->di_path);
	str_fmt(p->upper, sizeof(p->upper), "%s/%lld-%lld-overlayfs", overlays,
	    v->di_id, v->id);
	str_fmt(p->work, sizeof(p->work), "%s/%lld-%lld-overlayfs-work",
	    overlays, v->di_id, v->id);
	str_fmt(p->deleteme, sizeof(p->deleteme),
	    "%s/deleteme-%lld-%lld-overlayfs", overlays, v->di_id, v->id);
	str_fmt(p->root, sizeof(p->root), "%s/%lld-fs",
	    conf_get("path.storage.rootfs"), v->id);
	vm_home_dir(v->id, v->user_id, v->login, p->home, sizeof(p->home));
	str_fmt(p->name, sizeof(p->name), "qvd-%lld", v->id);
	str_fmt(p->dir, sizeof(p->dir), "%s/%s", conf_get("path.run.lxc"),
	    p->name);
}

/*
 * Unpack the DI once into basefs.  Concurrent starts of the same DI wait
 * on a lock for the one that unpacks; a half-unpacked tree never shows.
 */
static int
unpack(const struct lxc_paths *p, char *out, size_t outsz)
{
	char lockpath[4200], tmp[4200], init[4300];
	char *argv[] = { (char *)conf_get("command.tar"), "-x",
	    "--numeric-owner", "-f", (char *)p->image, "-C", tmp, NULL };
	int lock, rc = -1;

	str_fmt(lockpath, sizeof(lockpath), "%s.lock", p->base);
	if ((lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    flock(lock, LOCK_EX) == -1) {
		str_fmt(out, outsz, "cannot lock %s: %s", lockpath,
		    strerror(errno));
		goto out;
	}
	if (!fs_is_dir(p->base)) {
		if (access(p->image, R_OK) == -1) {
			str_fmt(out, outsz, "disk image %s: %s", p->image,
			    strerror(errno));
			goto out;
		}
		str_fmt(tmp, sizeof(tmp), "%s.unpacking-%d", p->base,
		    (int)getpid());
		fs_remove_tree(tmp);
		if (fs_mkdirs(tmp, 0755) == -1) {
			str_fmt(out, outsz, "cannot create %s: %s", tmp,
			    strerror(errno));
			goto out;
		}
		log_info("unpacking %s", p->image);
		if (proc_run_capture(argv, UNTAR_TIMEOUT_MS, out, outsz) != 0) {
			char why[512];

			str_fmt(why, sizeof(why), "cannot unpack the disk "
			    "image %s: %s", p->image, out);
			str_copy(out, why, outsz);
			fs_remove_tree(tmp);
			goto out;
		}
		if (rename(tmp, p->base) == -1) {
			str_fmt(out, outsz, "cannot rename %s: %s", tmp,
			    strerror(errno));
			fs_remove_tree(tmp);
			goto out;
		}
	}
	str_fmt(init, sizeof(init), "%s/rootfs/sbin", p->base);
	if (!fs_is_dir(init)) {
		str_fmt(init, sizeof(init), "%s/sbin", p->base);
		if (!fs_is_dir(init)) {
			str_fmt(out, outsz, "disk image %s holds no root file "
			    "system (no sbin/ nor rootfs/sbin/)", p->image);
			goto out;
		}
	}
	rc = 0;
out:
	if (lock != -1)
		close(lock);
	return rc;
}

static void
lower_dir(struct lxc_paths *p)
{
	char extended[4200];

	str_fmt(extended, sizeof(extended), "%s/rootfs/sbin", p->base);
	str_fmt(p->lower, sizeof(p->lower), fs_is_dir(extended) ? "%s/rootfs" :
	    "%s", p->base);
}

static int
mount_root(const struct lxc_paths *p, char *out, size_t outsz)
{
	char opts[13000];

	if (!conf_bool("vm.overlay.persistent"))
		fs_remove_tree(p->upper);
	fs_remove_tree(p->work);
	if (fs_mkdirs(p->upper, 0755) == -1 || fs_mkdirs(p->work, 0755) == -1 ||
	    fs_mkdirs(p->root, 0755) == -1) {
		str_fmt(out, outsz, "cannot create the overlay directories: %s",
		    strerror(errno));
		return -1;
	}
	umount2(p->root, MNT_DETACH);	/* a leftover of a crash */
	str_fmt(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
	    p->lower, p->upper, p->work);
	if (mount("overlay", p->root, "overlay", 0, opts) == -1) {
		str_fmt(out, outsz, "cannot mount the overlay on %s: %s",
		    p->root, strerror(errno));
		return -1;
	}
	return 0;
}

static int
write_config(const struct vm_info *v, const struct lxc_paths *p,
    char *out, size_t outsz)
{
	struct ipnet n;
	struct buf b = { NULL, 0, 0, 64 * 1024 };
	char path[4200], gw[16], err[256];
	const char *extra = conf_get("internal.vm.lxc.conf.extra");
	int rc;

	if (ipnet_from_conf(&n, err, sizeof(err)) == -1) {
		str_copy(out, err, outsz);
		return -1;
	}
	buf_printf(&b, "# generated by qvd-node for VM %lld (%s)\n", v->id,
	    v->name);
	buf_printf(&b, "lxc.uts.name = %s\n", p->name);
	buf_printf(&b, "lxc.rootfs.path = dir:%s\n", p->root);
	buf_printf(&b, "lxc.init.cmd = /sbin/init\n");
	buf_printf(&b, "lxc.autodev = 1\nlxc.tty.max = 1\nlxc.pty.max = 16\n");
	buf_printf(&b, "lxc.console.logfile = %s/console.log\n", p->dir);
	buf_printf(&b, "lxc.mount.auto = proc:mixed sys:ro cgroup:mixed\n");
	buf_printf(&b, "lxc.apparmor.profile = unconfined\n");
	buf_printf(&b, "lxc.net.0.type = veth\nlxc.net.0.flags = up\n");
	buf_printf(&b, "lxc.net.0.link = %s\n", conf_get("vm.network.bridge"));
	buf_printf(&b, "lxc.net.0.veth.pair = %s\n", v->iface);
	buf_printf(&b, "lxc.net.0.name = eth0\n");
	buf_printf(&b, "lxc.net.0.hwaddr = %s\n", v->mac);
	buf_printf(&b, "lxc.net.0.ipv4.address = %s/%d\n", v->ip, n.prefix);
	if (n.gateway) {
		ip_format(n.gateway, gw);
		buf_printf(&b, "lxc.net.0.ipv4.gateway = %s\n", gw);
	}
	if (conf_bool("vm.lxc.cgroup.limits")) {
		if (v->memory > 0)
			buf_printf(&b, "lxc.cgroup.memory.limit_in_bytes = "
			    "%lldM\n", v->memory);
		buf_printf(&b, "lxc.cgroup.cpu.shares = 1024\n");
	}
	if (v->storage_mb > 0)
		buf_printf(&b, "lxc.mount.entry = %s home none bind,create=dir "
		    "0 0\n", p->home);
	if (extra != NULL && *extra != '\0')
		buf_printf(&b, "%s\n", extra);
	str_fmt(path, sizeof(path), "%s/config", p->dir);
	rc = fs_mkdirs(p->dir, 0700) == -1 || file_write_atomic(path, buf_str(&b),
	    0600) == -1 ? -1 : 0;
	if (rc == -1)
		str_fmt(out, outsz, "cannot write %s: %s", path, strerror(errno));
	buf_free(&b);
	return rc;
}

/* Append the first ERROR of lxc.log to out; -1 if there is none. */
static int
lxc_log_tail(const struct lxc_paths *p, char *out, size_t outsz)
{
	char path[4200], buf[600];
	const char *errline = NULL, *s;
	FILE *fp;

	str_fmt(path, sizeof(path), "%s/lxc.log", p->dir);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (errline == NULL && fgets(buf, sizeof(buf), fp) != NULL)
		if (strstr(buf, "ERROR") != NULL)
			errline = xstrdup(buf);	/* the first is the cause */
	fclose(fp);
	if (errline != NULL) {
		s = strstr(errline, " - ");
		str_fmt(out + strlen(out), outsz - strlen(out), ": %s",
		    s ? s + 3 : errline);
		str_trim(out);
		free((char *)errline);
		return 0;
	}
	return -1;
}

/* The container's init pid from lxc-info, 0 if it is not running. */
static pid_t
lxc_running(long long vm_id)
{
	char name[32], out[256], dir[4200], *p;
	char *argv[] = { (char *)conf_get("command.lxc-info"), "-n", name,
	    "-P", (char *)conf_get("path.run.lxc"), "-s", "-p", NULL };
	long long pid;
	const char *why;

	str_fmt(name, sizeof(name), "qvd-%lld", vm_id);
	str_fmt(dir, sizeof(dir), "%s/%s", conf_get("path.run.lxc"), name);
	if (!fs_is_dir(dir))
		return 0;
	/* "State:   RUNNING\nPID:   1234\n" */
	if (proc_run_capture(argv, LXC_CMD_TIMEOUT_MS, out, sizeof(out)) != 0 ||
	    strstr(out, "RUNNING") == NULL || (p = strstr(out, "PID:")) == NULL)
		return 0;
	p += 4;
	p[strcspn(p, "\n")] = '\0';
	if (num_parse(str_trim(p), 2, 1 << 22, &pid, &why) == -1)
		return 0;
	return (pid_t)pid;
}

/* In a job: storage, config, lxc-start.  out gets the init pid. */
static int
lxc_start(const struct vm_info *v, char *out, size_t outsz)
{
	struct lxc_paths p;
	char logpath[4200];
	pid_t pid;
	char *argv[] = { (char *)conf_get("command.lxc-start"), "-n", NULL,
	    "-P", (char *)conf_get("path.run.lxc"), "-d", "-o", logpath, "-l",
	    "INFO", NULL };

	lxc_paths(v, &p);
	argv[2] = p.name;
	if (unpack(&p, out, outsz) == -1)
		return -1;
	lower_dir(&p);
	if (mount_root(&p, out, outsz) == -1)
		return -1;
	if (v->storage_mb > 0 && fs_mkdirs(p.home, 0755) == -1) {
		str_fmt(out, outsz, "cannot create the home %s: %s", p.home,
		    strerror(errno));
		return -1;
	}
	if (write_config(v, &p, out, outsz) == -1)
		return -1;
	str_fmt(logpath, sizeof(logpath), "%s/lxc.log", p.dir);
	unlink(logpath);
	if (proc_run_capture(argv, LXC_CMD_TIMEOUT_MS, out, outsz) != 0 ||
	    (pid = lxc_running(v->id)) == 0) {
		char why[600];

		str_fmt(why, sizeof(why), "lxc-start failed");
		if (lxc_log_tail(&p, why, sizeof(why)) == -1 && *out)
			str_fmt(why + strlen(why), sizeof(why) - strlen(why),
			    ": %s", out);
		str_copy(out, why, outsz);
		return -1;
	}
	str_fmt(out, outsz, "%d", (int)pid);
	return 0;
}

/* In a job: ask the container to stop (its halt signal), wait, kill. */
static int
lxc_stop(const struct vm_info *v, int timeout_s, char *out, size_t outsz)
{
	char name[32], t[16];
	char *argv[] = { (char *)conf_get("command.lxc-stop"), "-n", name,
	    "-P", (char *)conf_get("path.run.lxc"), "-t", t, NULL };

	str_fmt(name, sizeof(name), "qvd-%lld", v->id);
	str_fmt(t, sizeof(t), "%d", timeout_s);
	if (lxc_running(v->id) == 0)
		return 0;
	return proc_run_capture(argv, (timeout_s + 30) * 1000, out, outsz) ==
	    0 ? 0 : -1;
}

static int
lxc_kill(const struct vm_info *v, char *out, size_t outsz)
{
	char name[32];
	char *argv[] = { (char *)conf_get("command.lxc-stop"), "-n", name,
	    "-P", (char *)conf_get("path.run.lxc"), "-k", NULL };
	pid_t pid;

	str_fmt(name, sizeof(name), "qvd-%lld", v->id);
	if ((pid = lxc_running(v->id)) == 0)
		return 0;
	if (proc_run_capture(argv, LXC_CMD_TIMEOUT_MS, out, outsz) != 0) {
		kill(pid, SIGKILL);
		sleep_ms(200);
	}
	return lxc_running(v->id) == 0 ? 0 : -1;
}

/*
 * In a job: nothing of the VM left but its home.  A failed start keeps
 * its overlay as deleteme-... for debugging (manual 17.3).
 */
static int
lxc_cleanup(const struct vm_info *v, int failed, char *out, size_t outsz)
{
	struct lxc_paths p;
	char err[256];
	int rc = 0;

	lxc_paths(v, &p);
	if (lxc_running(v->id) != 0 && lxc_kill(v, out, outsz) == -1)
		return -1;
	net_link_del(v->iface, err, sizeof(err));
	if (umount2(p.root, 0) == -1 && errno != EINVAL && errno != ENOENT &&
	    umount2(p.root, MNT_DETACH) == -1) {
		str_fmt(out, outsz, "cannot unmount %s: %s", p.root,
		    strerror(errno));
		rc = -1;
	}
	rmdir(p.root);
	fs_remove_tree(p.work);
	if (failed && fs_is_dir(p.upper)) {
		fs_remove_tree(p.deleteme);
		if (rename(p.upper, p.deleteme) == -1)
			fs_remove_tree(p.upper);
	} else if (!conf_bool("vm.overlay.persistent"))
		fs_remove_tree(p.upper);
	if (!conf_bool("internal.hkd.lxc.does.not.cleanup"))
		fs_remove_tree(p.dir);
	return rc;
}

static int
lxc_alive(const struct vm_info *v, pid_t pid)
{
	(void)v;
	return pid > 0 && kill(pid, 0) == 0;
}

/* The DI a basefs entry is of: x.tgz for x.tgz, x.tgz.lock, x.tgz.unpacking-N */
static void
basefs_owner(const char *entry, char *di, size_t disz)
{
	char *cut;

	str_copy(di, entry, disz);
	if ((cut = strstr(di, ".unpacking-")) != NULL)
		*cut = '\0';
	else if (strlen(di) > 5 && strcmp(di + strlen(di) - 5, ".lock") == 0)
		di[strlen(di) - 5] = '\0';
}

static int
kept(const char *di, char *const *keep, size_t nkeep)
{
	size_t i;

	for (i = 0; i < nkeep; i++)
		if (strcmp(keep[i], di) == 0)
			return 1;
	return 0;
}

/*
 * Remove the unpacked trees and lock files of DIs that no longer exist.
 * One whose lock is held (being unpacked or cleaned elsewhere) is left
 * for the next sweep.
 */
static void
lxc_forget_images(char *const *keep, size_t nkeep)
{
	const char *basefs = conf_get("path.storage.basefs");
	char di[1024], path[4096], lockpath[4200];
	struct dirent *e;
	DIR *d;
	int lock;

	if (basefs == NULL || (d = opendir(basefs)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		basefs_owner(e->d_name, di, sizeof(di));
		if (kept(di, keep, nkeep) ||
		    str_fmt(path, sizeof(path), "%s/%s", basefs,
		    e->d_name) < 0 ||
		    str_fmt(lockpath, sizeof(lockpath), "%s/%s.lock", basefs,
		    di) < 0)
			continue;
		lock = open(lockpath, O_RDWR | O_CLOEXEC);
		if (lock != -1 && flock(lock, LOCK_EX | LOCK_NB) == -1) {
			close(lock);
			continue;	/* in use: the next sweep */
		}
		log_info("disk image %s is gone: removing %s", di, path);
		if (fs_remove_tree(path) == -1)
			log_warn("cannot remove %s: %s", path, strerror(errno));
		if (lock != -1)
			close(lock);
	}
	closedir(d);
}

/* fn(vm id) for every container of ours in path.run.lxc. */
static void
lxc_each(void (*fn)(long long))
{
	fs_each_vm_dir(conf_get("path.run.lxc"), fn);
}

const struct hypervisor hv_lxc = {
	"lxc", lxc_start, lxc_stop, lxc_kill, lxc_cleanup, lxc_alive,
	lxc_running, lxc_forget_images, lxc_each
};
