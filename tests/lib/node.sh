# SPDX-License-Identifier: GPL-3.0-or-later
# tests/lib/node.sh -- a QVD node in a network namespace of its own,
# running real LXC containers from the test image (sourced after tap.sh).

NS=qvdt$$
NODE_CONF=$QVD_WORK/node1.conf
STORAGE=$QVD_WORK/storage

# The test image, built once per build and reused (tests/mkimage).
test_image() {
	img="$QVD_BIN/test-image.tar.gz"
	if [ ! -s "$img" ] || [ "$QVD_BIN/qvd-vma" -nt "$img" ] ||
	    [ "$QVD_TOP/tests/mkimage" -nt "$img" ]; then
		sh "$QVD_TOP/tests/mkimage" "$img" "$QVD_BIN" >&2 || return 1
	fi
	echo "$img"
}

# The same image for KVM (a qcow2) and the kernel and initramfs that boot
# it (tests/kvm-kernel) in $QVD_BIN/kvm-kernel/; prints the image's path.
kvm_test_image() {
	img="$QVD_BIN/test-image.qcow2"
	if [ ! -s "$img" ] || [ "$QVD_BIN/qvd-vma" -nt "$img" ] ||
	    [ "$QVD_TOP/tests/mkimage" -nt "$img" ]; then
		sh "$QVD_TOP/tests/mkimage" "$img" "$QVD_BIN" >&2 || return 1
	fi
	sh "$QVD_TOP/tests/kvm-kernel" "$QVD_BIN/kvm-kernel" >&2 || return 1
	echo "$img"
}

# node.conf for node1, the farm's settings, the namespace.
node_setup() {
	mkdir -p "$STORAGE/staging" "$QVD_WORK/run"
	cp "$QVD_CONF" "$NODE_CONF"
	cat >>"$NODE_CONF" <<EOC
path.run = $QVD_WORK/run
log.filename = $QVD_WORK/node.log
log.level = DEBUG
internal.hkd.lxc.timeout.on_state.stopping.shutdown.waiting_for_lxc = 20
internal.hkd.lxc.timeout.on_state.stopping.stop.waiting_for_lxc = 5
EOC
	qa config set vm.hypervisor=lxc path.storage.root="$STORAGE" \
		vm.network.ip.start=10.3.15.50 vm.network.netmask=24 \
		vm.network.gateway=10.3.15.1 vm.network.bridge=qvdbr >/dev/null
	qa host add name=node1 address=10.3.15.2 >/dev/null
	ip netns add "$NS"
	ip netns exec "$NS" ip link set lo up
}

# "ip netns exec" gives the node the namespace's /sys, which LXC reads,
# in a mount namespace of its own: the node's mounts are seen through it.
in_ns() { ip netns exec "$NS" "$@"; }

# CMD... in the namespace, in the background; its pid in BG ("ip netns
# exec" execs CMD: the pid is CMD's, to stop it by, never its name).
bg_in_ns() {
	ip netns exec "$NS" "$@" &
	BG=$!
}

start_node() {
	ip netns exec "$NS" qvd-node -f -c "$NODE_CONF" \
		>>"$QVD_WORK/node.out" 2>&1 &
	NODE=$!		# ip netns exec execs: this is qvd-node
	wait_for 10 row_is "SELECT state FROM host_runtimes WHERE host_id = 1" \
		running
}

stop_node() {
	kill -TERM "$NODE" 2>/dev/null
	wait_for 60 sh -c "! kill -0 $NODE 2>/dev/null"
	wait "$NODE" 2>/dev/null
}

vm_state() { q "SELECT vm_state FROM vm_runtimes WHERE vm_id = $1"; }
vm_state_is() { [ "$(vm_state "$1")" = "$2" ]; }

# The mounts the node sees.
node_mounts() {
	if kill -0 "${NODE:-0}" 2>/dev/null; then
		nsenter -t "$NODE" -m cat /proc/mounts
	else
		cat /proc/mounts
	fi
}

# A file inside VM $1's container.
in_vm() {
	_p=$(q "SELECT vm_pid FROM vm_runtimes WHERE vm_id = $1")
	shift
	nsenter -t "$_p" -m "$@"
}

# Nothing of VM $1 left: no container, mount, interface or process.
vm_gone() {
	! in_ns lxc-info -n "qvd-$1" -P "$QVD_WORK/run/lxc" -s 2>/dev/null |
		grep -q RUNNING &&
	! node_mounts | grep -q " $STORAGE/rootfs/$1-fs " &&
	! in_ns ip link show "qvd$1" >/dev/null 2>&1 &&
	[ ! -d "$QVD_WORK/run/lxc/qvd-$1" ]
}

# Everything the test started in its namespace is stopped (by pid: other
# people's X servers, clients and farms may run beside it).
node_cleanup() {
	[ -n "${NODE:-}" ] && kill -9 "$NODE" 2>/dev/null
	for c in $(ls "$QVD_WORK/run/lxc" 2>/dev/null); do
		in_ns lxc-stop -k -n "$c" -P "$QVD_WORK/run/lxc" 2>/dev/null
	done
	for p in $(ip netns pids "$NS" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null
	done
	grep " $STORAGE/" /proc/mounts | awk '{ print $2 }' | sort -r |
		while read -r m; do umount -l "$m"; done
	ip netns del "$NS" 2>/dev/null
}

# A farm without image or VMs, its node not started yet: user ann
# (secret) and OSF "desk" (for tests of the L7R's front and the client's).
bare_farm() {
	qvd-deploy-db >/dev/null
	node_setup
	qa user add login=ann password=secret >/dev/null
	qa osf add name=desk >/dev/null
}

# The farm the L7R, client and bench scripts share: the test image as OSF
# "desk", users ann (secret), bob (bobpw) and carl (carlpw, no VM), VMs
# 1 ann-desk, 2 bob-0, 3 bob-1, and node1 running.
desk_farm() {
	_img=$(test_image) || exit 1
	bare_farm
	qa di add path="$_img" osf=desk >/dev/null
	qa user add login=bob password=bobpw >/dev/null
	qa user add login=carl password=carlpw >/dev/null
	qa vm add name=ann-desk user=ann osf=desk >/dev/null
	qa vm add name=bob-0 user=bob osf=desk >/dev/null
	qa vm add name=bob-1 user=bob osf=desk >/dev/null
	start_node
}

# An Xvfb of $1 pixels (1024x768 by default; more Xvfb arguments after)
# inside the namespace (X11's abstract sockets do not cross namespaces),
# on a display number it finds free itself (-displayfd: other people's X
# servers may run beside the tests): ":N" in XDPY, its pid in XVFB.  The
# script stops if it did not start.  Like a kiosk's X server, it resets
# when its last client leaves (no -noreset unless asked for).
start_xvfb() {
	_s=${1:-1024x768}
	[ $# -gt 0 ] && shift
	_f=$QVD_WORK/.displayfd
	: >"$_f"
	bg_in_ns Xvfb -displayfd 3 -screen 0 "${_s}x24" -nolisten tcp "$@" \
		>>"$QVD_WORK/xvfb.log" 2>&1 3>"$_f"
	XVFB=$BG
	wait_for 10 test -s "$_f"
	XDPY=:$(tr -dc 0-9 <"$_f")
	wait_for 10 in_ns env XAUTHORITY="${XAUTHORITY:-}" DISPLAY="$XDPY" \
		xdpyinfo
	kill -0 $XVFB 2>/dev/null || { cat "$QVD_WORK/xvfb.log"; exit 1; }
}

# The size of nxagent's window ("QVD") on display $1, as WxH; "" if none.
agent_window() {
	in_ns env DISPLAY="$1" xwininfo -root -tree 2>/dev/null | sed -n \
	    's/.*"QVD": ("NXAgent" "NXAgent") *\([0-9]*x[0-9]*\)+.*/\1/p' |
	    head -1
}
