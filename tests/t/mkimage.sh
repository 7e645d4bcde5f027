# SPDX-License-Identifier: GPL-3.0-or-later
# mkimage.sh -- qvd-mkimage builds a real desktop from Debian 12 with this
# machine's apt sources (slow the first time: its Debian tree is cached
# in QVD_IMAGE_CACHE, /var/cache/qvd-mkimage, for the same packages and
# sources), qa di add takes it, and a VM started from it through the L7R
# shows its desktop on the user's screen: the window manager, the panel
# and a terminal, seen inside the session and on the user's display, and
# kept as a screenshot (QVD_ARTIFACTS/desktop.png).  Then the same desktop
# for KVM (-t kvm, a qcow2 that boots itself through extlinux) on a KVM
# node: its VMA answers at its DHCP address and its desktop is painted.
. "$QVD_TOP/tests/lib/tap.sh"
. "$QVD_TOP/tests/lib/node.sh"
. "$QVD_TOP/tests/lib/desktop.sh"

H=$QVD_WORK/home
IMG=$QVD_WORK/desktop.tar.gz
CACHE=${QVD_IMAGE_CACHE:-/var/cache/qvd-mkimage}
trap node_cleanup EXIT
mkdir -p "$H/.qvd"

# --- bad input: one line naming it, nothing written ---
# the agent for the Debian image: this build's, but the plain one under
# make test-asan (Debian's tree has no sanitizer runtime, and qvd-mkimage
# refuses an agent whose libraries the image lacks)
VMA=$QVD_BIN/qvd-vma
ldd "$VMA" | grep -q libasan && VMA=$QVD_TOP/build/qvd-vma
mk() { "$QVD_TOP/qvd-mkimage" -V "$VMA" "$@"; }
t_status "no output file: exit 2" 2 mk
t_is "-d of no known desktop" "$(mk -d kde -o "$IMG" 2>&1; echo $?)" \
	"qvd-mkimage: -d kde: use icewm, openbox, lxde, lxqt or xfce
1"
t_is "-p with what is no package name" \
	"$(mk -p 'xterm;rm' -o "$IMG" 2>&1; echo $?)" \
	"qvd-mkimage: -p: 'xterm;rm' is not a Debian package name
1"
t_is "an output that is no .tar.gz" "$(mk -o "$QVD_WORK/x.img" 2>&1; echo $?)" \
	"qvd-mkimage: -o $QVD_WORK/x.img: the image is a .tar.gz
1"
t_is "no qvd-vma" "$(PATH=/usr/bin:/bin "$QVD_TOP/qvd-mkimage" \
	-V /nonexistent -o "$IMG" 2>&1; echo $?)" \
	"qvd-mkimage: no qvd-vma to put in the image: use -V path
1"
t_ok "and nothing was written" test ! -e "$IMG"

# --- the image ---
mk -c "$CACHE" -o "$IMG" 2>"$QVD_WORK/mkimage.log"
t_is "qvd-mkimage builds a desktop image" "$?:$(test -s "$IMG"; echo $?)" 0:0
sed 's/^/# /' "$QVD_WORK/mkimage.log"
t_like "saying so, with its size" "$(tail -1 "$QVD_WORK/mkimage.log")" \
	"^qvd-mkimage: done: [0-9.]+[MG] \(icewm\)"
tar -tzf "$IMG" >"$QVD_WORK/files"
t_ok "it holds the agent, nxagent and the desktop" sh -c "
	grep -qx ./usr/sbin/qvd-vma '$QVD_WORK/files' &&
	grep -qx ./usr/bin/nxagent '$QVD_WORK/files' &&
	grep -qx ./usr/bin/icewm '$QVD_WORK/files' &&
	grep -qx ./usr/bin/xterm '$QVD_WORK/files' &&
	grep -qx ./usr/bin/pcmanfm '$QVD_WORK/files'"
t_like "and a vma.conf whose X session is the desktop" \
	"$(tar -xzOf "$IMG" ./etc/qvd/vma.conf)" \
	"command.x-session = /usr/lib/qvd/x-session"

# --- a VM of it, through the L7R, on a bare X server ---
bare_farm
t_like "qa di add takes it" "$(qa di add path="$IMG" osf=desk)" \
	"^DI added with id 1"
qa vm add name=ann-real user=ann osf=desk >/dev/null
start_node
start_xvfb 1024x768
D=$XDPY
T0=$(ms_now)
client_on "$D" -g 1024x768
PAINTED_MARK=$DESKTOP_MARK	# IceWM's taskbar, along the bottom
t_ok "the desktop's panel is painted on the user's screen" \
	await_desktop "$D" "$CPID"
echo "# time to desktop of a fresh VM of it: ${TTD:-?} ms"
terminal() {	# xterm's 80x24 in its frame, from the session's autostart
	in_ns env DISPLAY="$D" xwininfo -root -tree | grep -q ' 484x316+'
}
t_ok "and a terminal window" wait_for 20 terminal
inside() {	# the session's own display, from the VM's network namespace
	nsenter -t "$(q "SELECT vm_pid FROM vm_runtimes WHERE vm_id = 1")" \
		-n env DISPLAY=:100 "$@"
}
wm=$(inside xprop -root _NET_SUPPORTING_WM_CHECK | sed 's/.* //')
t_like "inside the session: a window manager (IceWM)" \
	"$(inside xprop -id "$wm" _NET_WM_NAME)" '= "IceWM [0-9]'
t_like "its taskbar and the terminal (xterm)" \
	"$(inside xwininfo -root -tree | grep -Eo '\("(icewm" "TaskBar|xterm)"' |
	sort -u | tr '\n' ' ')" '\("icewm" "TaskBar" \("xterm" '
sleep 2		# what the desktop draws after its windows appear
mkdir -p "${QVD_ARTIFACTS:-$QVD_WORK}"
SHOT=${QVD_ARTIFACTS:-$QVD_WORK}/desktop.png
in_ns sh -c "xwd -root -display $D -silent | convert xwd:- '$SHOT'"
t_ok "a screenshot of it is kept: $SHOT" test -s "$SHOT"
t_ok "with a picture on it, not one colour" \
	test "$(convert "$SHOT" -format %k info:)" -gt 16
kill -TERM "$CPID"
wait "$CPID"
t_is "and qvdclient disconnects: exit 0" "$?" 0

# --- the same desktop for KVM: a bootable qcow2 ---
KIMG=$QVD_WORK/desktop.qcow2
t_is "-t kvm wants a .qcow2" "$(mk -t kvm -o "$IMG" 2>&1; echo $?)" \
	"qvd-mkimage: -o $IMG: a KVM image is a .qcow2
1"
mk -t kvm -c "$CACHE" -o "$KIMG" 2>"$QVD_WORK/mkimage-kvm.log"
t_is "qvd-mkimage -t kvm builds it" "$?:$(test -s "$KIMG"; echo $?)" 0:0
sed 's/^/# /' "$QVD_WORK/mkimage-kvm.log"
boot_sector() {	# the image's format, its MBR's text and partition table
	qemu-img info "$KIMG" | grep '^file format'
	qemu-img dd -f qcow2 -O raw bs=512 count=1 if="$KIMG" of="$QVD_WORK/mbr"
	strings "$QVD_WORK/mbr"
	sfdisk -d "$QVD_WORK/mbr" 2>/dev/null
}
t_like "a qcow2 with a partition table and extlinux in its MBR" \
	"$(boot_sector | tr '\n' ' ')" \
	"file format: qcow2.*Missing operating system.*start= *2048,.*bootable"
stop_node
in_ns ip addr add 10.3.15.2/32 dev lo	# the node's own address
qa config set vm.hypervisor=kvm vm.kvm.cpus=2 >/dev/null
qa osf add name=kdesk memory=1024 user_storage_size=256 >/dev/null
t_like "qa di add takes it" "$(qa di add path="$KIMG" osf=kdesk)" \
	"^DI added with id 2"
qa vm add name=ann-kvm user=ann osf=kdesk >/dev/null
kvm_id=$(q "SELECT id FROM vms WHERE name = 'ann-kvm'")
start_node
qa vm start -f name=ann-kvm >/dev/null
t_ok "the VM boots its own kernel (no kvm.kernel property) to running" \
	wait_for 240 vm_state_is "$kvm_id" running
t_is "its VMA answers at the address the node's DHCP gave it" \
	"$(in_ns curl -s -m 5 "http://$(q "SELECT ip FROM vms WHERE id =
	$kvm_id"):3030/vma/ping" | tr -d '\r')" "null"
VM=$kvm_id
T0=$(ms_now)
client_on "$D" -g 1024x768
kvm_painted() { painted "$D" || ! kill -0 "$CPID" 2>/dev/null; }
wait_for 180 kvm_painted
t_ok "its desktop's panel is painted on the user's screen" painted "$D"
echo "# time to desktop of the KVM VM (TCG here), from the client's start: $(($(ms_now) - T0)) ms"
kill -TERM "$CPID"
wait "$CPID"
qa vm stop -f name=ann-kvm >/dev/null
t_ok "and it stops" wait_for 120 vm_state_is "$kvm_id" stopped
t_done
