/* SPDX-License-Identifier: GPL-3.0-or-later */
/* kvm.c -- the KVM hypervisor: qcow2 DIs with a qcow2 overlay per VM, a
 * qcow2 home disk, qemu with a tap on the VM bridge, its serial console
 * on a telnet port, VNC, and a QMP monitor for power-off and the ports.
 * Acceleration is probed once: KVM when it really runs a guest, else TCG. */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qvd.h"

#define IMG_TIMEOUT_MS		120000
#define QEMU_START_TIMEOUT_MS	60000
#define QMP_TIMEOUT_MS		5000
#define PROBE_TIMEOUT_MS	2000
#define TERM_WAIT_MS		10000
#define KILL_WAIT_MS		10000
#define QEMU_MAX_ARGS		64

static char accel[8] = "tcg";
static char listen_address[64] = "127.0.0.1";

struct kvm_paths {
	char	 image[4096];	/* the DI */
	char	 overlay[4096];	/* overlays/<di>-<vm>-overlay.qcow2 */
	char	 deleteme[4096];
	char	 home[4096];	/* homes/<vm>-data.qcow2 */
	char	 dir[4096];	/* path.run.kvm/qvd-<vm> */
	char	 pidfile[4200];
	char	 qmp[4200];
	char	 serial_log[4096];
};

static void
kvm_paths(const struct vm_info *v, struct kvm_paths *p)
{
	const char *overlays = conf_get("path.storage.overlays");

	memset(p, 0, sizeof(*p));
	str_fmt(p->image, sizeof(p->image), "%s/%s",
	    conf_get("path.storage.images"), v->di_path);
	str_fmt(p->overlay, sizeof(p->overlay), "%s/%lld-%lld-overlay.qcow2",
	    overlays, v->di_id, v->id);
	str_fmt(p->deleteme, sizeof(p->deleteme),
	    "%s/deleteme-%lld-%lld-overlay.qcow2", overlays, v->di_id, v->id);
	str_fmt(p->home, sizeof(p->home), "%s/%lld-data.qcow2",
	    conf_get("path.storage.homes"), v->id);
	str_fmt(p->dir, sizeof(p->dir), "%s/qvd-%lld", conf_get("path.run.kvm"),
	    v->id);
	str_fmt(p->pidfile, sizeof(p->pidfile), "%s/qemu.pid", p->dir);
	str_fmt(p->qmp, sizeof(p->qmp), "%s/qmp.sock", p->dir);
	str_fmt(p->serial_log, sizeof(p->serial_log), "%s/qvd-%lld-serial.log",
	    conf_get("path.serial.captures"), v->id);
}

/* ---- processes ---- */

/* Is pid the qemu of VM id?  Its -name says "qvd/<id>/". */
static int
is_our_qemu(pid_t pid, long long id)
{
	char cmd[8192], want[48];

	str_fmt(want, sizeof(want), " qvd/%lld/", id);
	return proc_cmdline(pid, cmd, sizeof(cmd)) == 0 &&
	    strstr(cmd, want) != NULL;
}

/* The running qemu of VM id from its pid file, 0 if none. */
static pid_t
kvm_running(long long vm_id)
{
	char path[4200];
	pid_t pid;

	str_fmt(path, sizeof(path), "%s/qvd-%lld/qemu.pid",
	    conf_get("path.run.kvm"), vm_id);
	pid = proc_pid_file(path);
	return proc_alive(pid) && is_our_qemu(pid, vm_id) ? pid : 0;
}

/* sig to qemu, and until it is gone (ms); -1 saying so if it is not. */
static int
signal_qemu(pid_t pid, int sig, int ms, char *out, size_t outsz)
{
	kill(pid, sig);
	if (proc_wait_gone(pid, ms) == 0)
		return 0;
	str_fmt(out, outsz, "qemu (pid %d) did not end on %s", (int)pid,
	    sig == SIGKILL ? "SIGKILL" : "SIGTERM");
	return -1;
}

/* ---- acceleration ---- */

/*
 * A boot sector that writes 0x10 to the isa-debug-exit port: qemu exits
 * with status 0x21 once the guest really ran.  A KVM that hangs guests
 * never gets there.
 */
static int
probe_kvm(char *why, size_t whysz)
{
	static const unsigned char code[] = {
		0xb0, 0x10,		/* mov al, 0x10 */
		0xe6, 0xf4,		/* out 0xf4, al */
		0xfa, 0xf4, 0xeb, 0xfd	/* cli; hlt; jmp $-1 */
	};
	unsigned char sector[512];
	char img[4200], drive[4300];
	char *argv[] = { (char *)conf_get("command.kvm"), "-accel", "kvm",
	    "-nodefaults", "-no-user-config", "-display", "none", "-m", "16",
	    "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-drive",
	    drive, NULL };
	struct proc_spec ps;
	pid_t pid;
	int fd, st;
	long long t0 = mono_ms();

	if (access("/dev/kvm", R_OK | W_OK) == -1) {
		str_fmt(why, whysz, "/dev/kvm: %s", strerror(errno));
		return 0;
	}
	memset(sector, 0, sizeof(sector));
	memcpy(sector, code, sizeof(code));
	sector[510] = 0x55;
	sector[511] = 0xaa;
	str_fmt(img, sizeof(img), "%s/kvm-probe.img", conf_get("path.run.kvm"));
	fs_mkdirs(conf_get("path.run.kvm"), 0755);
	if ((fd = open(img, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
	    -1 || write(fd, sector, sizeof(sector)) != (ssize_t)sizeof(sector)) {
		str_fmt(why, whysz, "cannot write %s: %s", img, strerror(errno));
		if (fd != -1)
			close(fd);
		return 0;
	}
	close(fd);
	str_fmt(drive, sizeof(drive), "file=%s,format=raw,if=ide", img);
	memset(&ps, 0, sizeof(ps));
	ps.argv = argv;
	ps.stdin_fd = ps.stdout_fd = ps.stderr_fd = -1;
	ps.new_session = 1;
	if ((pid = proc_spawn(&ps, why, whysz)) == -1)
		return 0;
	if (proc_wait(pid, PROBE_TIMEOUT_MS, &st) == -1) {
		kill(pid, SIGKILL);
		proc_wait(pid, -1, &st);
		unlink(img);
		str_fmt(why, whysz, "a test guest did not run under KVM in %d "
		    "ms", PROBE_TIMEOUT_MS);
		return 0;
	}
	unlink(img);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0x21) {
		proc_status_str(st, why, whysz);
		return 0;
	}
	str_fmt(why, whysz, "a test guest ran in %lld ms", mono_ms() - t0);
	return 1;
}

/*
 * The consoles (a root shell, VNC) listen on the node's address; when it
 * is not one of this machine's (behind NAT), on loopback only, never on
 * every address.
 */
static void
choose_listen_address(const char *node_address)
{
	char err[256];
	int fd;

	str_copy(listen_address, "127.0.0.1", sizeof(listen_address));
	if (node_address == NULL || *node_address == '\0')
		return;
	if ((fd = tcp_listen(node_address, "0", 1, err, sizeof(err))) == -1) {
		log_warn("KVM: the node's address %s is not this machine's (%s); "
		    "serial and VNC consoles listen on 127.0.0.1 only",
		    node_address, err);
		return;
	}
	close(fd);
	str_copy(listen_address, node_address, sizeof(listen_address));
}

/* Once, at startup: the acceleration, and where consoles listen. */
int
kvm_init(const char *node_address, char *err, size_t errsz)
{
	const char *want = conf_get("vm.kvm.accel");
	char why[256];

	choose_listen_address(node_address);
	if (fs_mkdirs(conf_get("path.run.kvm"), 0755) == -1) {
		str_fmt(err, errsz, "cannot create %s: %s",
		    conf_get("path.run.kvm"), strerror(errno));
		return -1;
	}
	if (strcmp(want, "auto") != 0) {
		str_copy(accel, want, sizeof(accel));
		log_info("KVM: acceleration %s (vm.kvm.accel)", accel);
		return 0;
	}
	if (probe_kvm(why, sizeof(why))) {
		str_copy(accel, "kvm", sizeof(accel));
		log_info("KVM: hardware acceleration works (%s)", why);
	} else {
		str_copy(accel, "tcg", sizeof(accel));
		log_warn("KVM: no hardware acceleration (%s); VMs run under "
		    "TCG, emulated and slower", why);
	}
	return 0;
}

/* ---- disks ---- */

static int
img_create(char *const *argv, const char *what, char *out, size_t outsz)
{
	char msg[512];

	if (proc_run_capture(argv, IMG_TIMEOUT_MS, msg, sizeof(msg)) == 0)
		return 0;
	str_fmt(out, outsz, "cannot create %s: %s", what, msg);
	return -1;
}

/* The root disk: a fresh overlay (kept when persistent), or the DI. */
static int
root_disk(const struct vm_info *v, const struct kvm_paths *p, char *out,
    size_t outsz)
{
	char *argv[] = { (char *)conf_get("command.kvm-img"), "create", "-q",
	    "-f", "qcow2", "-b", (char *)p->image, "-F", "qcow2",
	    (char *)p->overlay, NULL };

	if (access(p->image, R_OK) == -1) {
		str_fmt(out, outsz, "disk image %s: %s", p->image,
		    strerror(errno));
		return -1;
	}
	if (!v->use_overlay)
		return 0;
	if (!conf_bool("vm.overlay.persistent"))
		unlink(p->overlay);
	if (access(p->overlay, F_OK) == 0)
		return 0;
	if (fs_mkdirs(conf_get("path.storage.overlays"), 0755) == -1) {
		str_fmt(out, outsz, "cannot create %s: %s",
		    conf_get("path.storage.overlays"), strerror(errno));
		return -1;
	}
	return img_create(argv, p->overlay, out, outsz);
}

/* The home disk, made once at the OSF's size (the VMA formats it). */
static int
home_disk(const struct vm_info *v, const struct kvm_paths *p, char *out,
    size_t outsz)
{
	char tmp[4200], size[32];
	char *argv[] = { (char *)conf_get("command.kvm-img"), "create", "-q",
	    "-f", "qcow2", tmp, size, NULL };

	if (v->storage_mb <= 0 || access(p->home, F_OK) == 0)
		return 0;
	if (fs_mkdirs(conf_get("path.storage.homes"), 0755) == -1) {
		str_fmt(out, outsz, "cannot create %s: %s",
		    conf_get("path.storage.homes"), strerror(errno));
		return -1;
	}
	str_fmt(tmp, sizeof(tmp), "%s.new-%d", p->home, (int)getpid());
	str_fmt(size, sizeof(size), "%lldM", v->storage_mb);
	if (img_create(argv, p->home, out, outsz) == -1) {
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, p->home) == -1) {
		str_fmt(out, outsz, "cannot rename %s: %s", tmp,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---- the command line ---- */

struct args {
	char	*v[QEMU_MAX_ARGS + 1];
	int	 n;
};

static void PRINTFLIKE(2, 3)
arg(struct args *a, const char *fmt, ...)
{
	va_list ap;
	char s[8600];

	va_start(ap, fmt);
	str_vfmt(s, sizeof(s), fmt, ap);
	va_end(ap);
	if (a->n < QEMU_MAX_ARGS)
		a->v[a->n++] = xstrdup(s);
	a->v[a->n] = NULL;
}

static void
args_free(struct args *a)
{
	int i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
}

/* A value inside qemu's -opt a=b,c=d syntax: commas doubled. */
static const char *
opt_escape(const char *s, char *out, size_t outsz)
{
	size_t o = 0;

	for (; *s != '\0' && o + 2 < outsz; s++) {
		out[o++] = *s;
		if (*s == ',')
			out[o++] = ',';
	}
	out[o] = '\0';
	return out;
}

/* -kernel, -initrd: a DI or OSF property, relative to the images. */
static void
image_file(struct args *a, const char *opt, const char *file)
{
	if (*file == '\0')
		return;
	arg(a, "%s", opt);
	if (file[0] == '/')
		arg(a, "%s", file);
	else
		arg(a, "%s/%s", conf_get("path.storage.images"), file);
}

static void
disks(struct args *a, const struct vm_info *v, const struct kvm_paths *p)
{
	const char *bus = conf_bool("vm.kvm.virtio") ? "virtio" : "ide";
	char e[8400];

	arg(a, "-drive");
	arg(a, "file=%s,format=qcow2,if=%s,index=0,cache=writeback%s",
	    opt_escape(v->use_overlay ? p->overlay : p->image, e, sizeof(e)),
	    bus, v->use_overlay ? "" : ",readonly=on");
	if (v->storage_mb > 0) {
		arg(a, "-drive");
		arg(a, "file=%s,format=qcow2,if=%s,index=%lld,cache=writeback",
		    opt_escape(p->home, e, sizeof(e)), bus,
		    conf_int("vm.kvm.home.drive.index", 1));
	}
}

static void
network(struct args *a, const struct vm_info *v)
{
	arg(a, "-netdev");
	arg(a, "tap,id=net0,ifname=%s,script=no,downscript=no", v->iface);
	arg(a, "-device");
	arg(a, "%s,netdev=net0,mac=%s", conf_bool("vm.kvm.virtio") ?
	    "virtio-net-pci" : "e1000", v->mac);
}

static void
consoles(struct args *a, const struct kvm_paths *p)
{
	const char *opts = conf_get("vm.vnc.opts");
	char e[8400];

	if (conf_bool("vm.serial.redirect")) {
		arg(a, "-chardev");
		if (conf_bool("vm.serial.capture"))
			arg(a, "socket,id=serial0,host=%s,port=0,telnet=on,"
			    "server=on,wait=off,logfile=%s,logappend=on",
			    listen_address, opt_escape(p->serial_log, e,
			    sizeof(e)));
		else
			arg(a, "socket,id=serial0,host=%s,port=0,telnet=on,"
			    "server=on,wait=off", listen_address);
		arg(a, "-serial");
		arg(a, "chardev:serial0");
	} else if (conf_bool("vm.serial.capture")) {
		arg(a, "-serial");
		arg(a, "file:%s", p->serial_log);
	}
	if (conf_bool("vm.vnc.redirect")) {
		arg(a, "-vga");
		arg(a, "std");
		arg(a, "-vnc");
		arg(a, "%s:0,to=1000%s%s", listen_address,
		    opts && *opts ? "," : "", opts ? opts : "");
	}
	arg(a, "-qmp");
	arg(a, "unix:%s,server=on,wait=off", opt_escape(p->qmp, e, sizeof(e)));
}

static void
command_line(struct args *a, const struct vm_info *v,
    const struct kvm_paths *p)
{
	char e[200];

	arg(a, "%s", conf_get("command.kvm"));
	arg(a, "-name");
	str_fmt(e, sizeof(e), "qvd/%lld/%s", v->id, v->name);
	arg(a, "%s", e);
	arg(a, "-accel");
	arg(a, "%s", accel);
	arg(a, "-nodefaults");
	arg(a, "-no-user-config");
	arg(a, "-display");
	arg(a, "none");
	arg(a, "-m");
	arg(a, "%lld", v->memory > 0 ? v->memory : 256);
	arg(a, "-smp");
	arg(a, "%lld", conf_int("vm.kvm.cpus", 2));
	disks(a, v, p);
	network(a, v);
	consoles(a, p);
	image_file(a, "-kernel", v->kernel);
	image_file(a, "-initrd", v->initrd);
	if (*v->kernel != '\0' && *v->append != '\0') {
		arg(a, "-append");
		arg(a, "%s", v->append);
	} else if (*v->kernel != '\0') {	/* read-only without an overlay */
		arg(a, "-append");
		arg(a, "root=/dev/%s %s console=ttyS0", conf_bool(
		    "vm.kvm.virtio") ? "vda" : "sda", v->use_overlay ? "rw" :
		    "ro");
	}
	if (conf_bool("vm.hypervisor.capture")) {
		arg(a, "-D");
		arg(a, "%s/qvd-%lld-qemu.log", conf_get("path.hypervisor."
		    "captures"), v->id);
		arg(a, "-d");
		arg(a, "guest_errors");
	}
	arg(a, "-pidfile");
	arg(a, "%s", p->pidfile);
	arg(a, "-daemonize");
}

/* ---- what the running qemu says over QMP ---- */

/* The port in "...telnet:10.0.0.1:41234,server=on" (or "[::1]:..."). */
static long long
port_after(const char *s, const char *marker)
{
	const char *m = strstr(s, marker);
	long long port = 0;

	if (m == NULL)
		return 0;
	m += strlen(marker);
	if (*m == '[' && (m = strchr(m, ']')) == NULL)
		return 0;
	if ((m = strchr(m, ':')) == NULL)
		return 0;
	for (m++; *m >= '0' && *m <= '9' && port <= 65535; m++)
		port = port * 10 + (*m - '0');
	return port > 65535 ? 0 : port;
}

/* The serial console's and VNC's ports, each 0 when there is none. */
static int
query_ports(const struct kvm_paths *p, long long *serial, long long *vnc,
    char *out, size_t outsz)
{
	char reply[8192], *s;

	*serial = *vnc = 0;	/* only the serial console is on telnet */
	if (qmp_open(p->qmp, QMP_TIMEOUT_MS, out, outsz) == -1)
		return -1;
	if (qmp_execute("query-chardev", QMP_TIMEOUT_MS, reply, sizeof(reply),
	    out, outsz) == -1)
		goto fail;
	*serial = port_after(reply, "telnet:");
	if (conf_bool("vm.vnc.redirect")) {
		if (qmp_execute("query-vnc", QMP_TIMEOUT_MS, reply,
		    sizeof(reply), out, outsz) == -1)
			goto fail;
		if ((s = strstr(reply, "\"service\": \"")) != NULL)
			*vnc = atoll(s + 12);
	}
	qmp_close();
	return 0;
fail:
	qmp_close();
	return -1;
}

/* ---- the table's functions (start, stop, kill, cleanup run in jobs) ---- */

static int
kvm_start(const struct vm_info *v, char *out, size_t outsz)
{
	struct kvm_paths p;
	struct args a = { { NULL }, 0 };
	char err[512];
	long long serial, vnc;
	pid_t pid;
	int rc;

	kvm_paths(v, &p);
	if (strlen(p.qmp) >= 100) {
		str_fmt(out, outsz, "the monitor socket path %s is too long "
		    "(path.run.kvm)", p.qmp);
		return -1;
	}
	fs_remove_tree(p.dir);
	if (fs_mkdirs(p.dir, 0700) == -1) {
		str_fmt(out, outsz, "cannot create %s: %s", p.dir,
		    strerror(errno));
		return -1;
	}
	if (root_disk(v, &p, out, outsz) == -1 ||
	    home_disk(v, &p, out, outsz) == -1)
		return -1;
	net_link_del(v->iface, err, sizeof(err));	/* a crash's leftover */
	if (net_tap_add(v->iface, conf_get("vm.network.bridge"), err,
	    sizeof(err)) == -1) {
		str_fmt(out, outsz, "cannot make the tap %s: %s", v->iface, err);
		return -1;
	}
	command_line(&a, v, &p);
	rc = proc_run_capture(a.v, QEMU_START_TIMEOUT_MS, err, sizeof(err));
	args_free(&a);
	if (rc != 0 || (pid = kvm_running(v->id)) == 0) {
		str_fmt(out, outsz, "qemu failed: %s", *err ? str_trim(err) :
		    "it did not stay up");
		return -1;
	}
	if (query_ports(&p, &serial, &vnc, err, sizeof(err)) == -1) {
		kill(pid, SIGKILL);
		str_fmt(out, outsz, "qemu started but its monitor: %s", err);
		return -1;
	}
	str_fmt(out, outsz, "%d %lld %lld", (int)pid, serial, vnc);
	return 0;
}

/* ACPI power-off over QMP, up to timeout_s; then TERM. */
static int
kvm_stop(const struct vm_info *v, int timeout_s, char *out, size_t outsz)
{
	struct kvm_paths p;
	pid_t pid;

	kvm_paths(v, &p);
	if ((pid = kvm_running(v->id)) == 0)
		return 0;
	if (qmp_open(p.qmp, QMP_TIMEOUT_MS, out, outsz) == 0) {
		if (qmp_execute("system_powerdown", QMP_TIMEOUT_MS, NULL, 0,
		    out, outsz) == 0)
			log_info("vm %lld: ACPI power-off sent", v->id);
		qmp_close();
		if (proc_wait_gone(pid, timeout_s * 1000) == 0)
			return 0;
		log_warn("vm %lld: no power-off in %d s; terminating qemu",
		    v->id, timeout_s);
	}
	return signal_qemu(pid, SIGTERM, TERM_WAIT_MS, out, outsz);
}

static int
kvm_kill(const struct vm_info *v, char *out, size_t outsz)
{
	pid_t pid;

	if ((pid = kvm_running(v->id)) == 0)
		return 0;
	return signal_qemu(pid, SIGKILL, KILL_WAIT_MS, out, outsz);
}

/* Nothing left but the home disk (and a persistent overlay). */
static int
kvm_cleanup(const struct vm_info *v, int failed, char *out, size_t outsz)
{
	struct kvm_paths p;
	char err[256];

	kvm_paths(v, &p);
	if (kvm_running(v->id) != 0 && kvm_kill(v, out, outsz) == -1)
		return -1;
	if (net_link_del(v->iface, err, sizeof(err)) == -1) {
		str_fmt(out, outsz, "cannot remove the tap %s: %s", v->iface,
		    err);
		return -1;
	}
	if (v->di_id != 0 && access(p.overlay, F_OK) == 0) {
		if (failed) {
			unlink(p.deleteme);
			if (rename(p.overlay, p.deleteme) == -1)
				unlink(p.overlay);
		} else if (!conf_bool("vm.overlay.persistent"))
			unlink(p.overlay);
	}
	fs_remove_tree(p.dir);
	return 0;
}

static int
kvm_alive(const struct vm_info *v, pid_t pid)
{
	(void)v;
	return proc_alive(pid);
}

/* fn(vm id) for every VM directory of ours in path.run.kvm. */
static void
kvm_each(void (*fn)(long long))
{
	fs_each_vm_dir(conf_get("path.run.kvm"), fn);
}

const struct hypervisor hv_kvm = {
	"kvm", kvm_start, kvm_stop, kvm_kill, kvm_cleanup, kvm_alive,
	kvm_running, NULL, kvm_each
};
