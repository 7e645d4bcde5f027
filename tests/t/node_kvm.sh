# SPDX-License-Identifier: GPL-3.0-or-later
# node_kvm.sh -- qvd-node runs real qemu VMs (TCG here: /dev/kvm hangs
# guests) of the KVM test image in a network namespace: DHCP from the
# node's dnsmasq, a session painted through the L7R, the serial console
# and VNC through qa, the home disk, clean stops, a killed node.
. "$QVD_TOP/tests/lib/tap.sh"
. "$QVD_TOP/tests/lib/node.sh"
H=$QVD_WORK/home
mkdir -p "$H"
. "$QVD_TOP/tests/lib/desktop.sh"

trap node_cleanup EXIT
qvd-deploy-db >/dev/null
img=$(kvm_test_image) || { echo "not ok 1 - the KVM test image builds"; exit 1; }
kdir=$QVD_BIN/kvm-kernel
node_setup
cat >"$QVD_WORK/telnet" <<'EOT'
#!/bin/sh
# qa vm console's telnet for the test: types $QVD_TYPE, shows the answer
(sleep 1; printf '%s\r' "$QVD_TYPE"; sleep "${QVD_WAIT:-3}") |
	socat -t 1 - "TCP:$1:$2"
EOT
cat >"$QVD_WORK/vncviewer" <<'EOT'
#!/bin/sh
# qa vm vnc's viewer for the test: the server's RFB greeting
socat -t 2 -T 3 - "TCP:${1%%::*}:${1##*::}" </dev/null | head -c 12
EOT
chmod 755 "$QVD_WORK/telnet" "$QVD_WORK/vncviewer"
# (keys longer than the configs table's 64 characters go in node.conf)
cat >>"$NODE_CONF" <<EOC
command.telnet = $QVD_WORK/telnet
command.vncviewer = $QVD_WORK/vncviewer
internal.hkd.kvm.timeout.on_state.stopping.shutdown.waiting_for_kvm = 10
internal.hkd.kvm.timeout.on_state.stopping.stop.waiting_for_kvm = 5
EOC
t_ok "the node runs KVM" qa config set vm.hypervisor=kvm vm.kvm.cpus=1 \
	vm.vnc.redirect=1 vm.serial.capture=1 path.serial.captures="$QVD_WORK"
in_ns ip addr add 10.3.15.2/32 dev lo	# the node's own address

# Run CMD in VM $1's serial console (a root shell); its output.
serial() {
	_port=$(q "SELECT vm_serial_port FROM vm_runtimes WHERE vm_id = $1")
	(sleep 0.5; printf 'dmesg -n 1; echo B$((40+2)); %s; echo E$((40+3))\r' "$2"
	 sleep "${3:-3}") | in_ns socat -t 1 - "TCP:10.3.15.2:$_port" |
		tr -d '\r' | sed -n '/^B42$/,/^E43$/p' | sed '1d;$d'
}
qemu_of() { q "SELECT vm_pid FROM vm_runtimes WHERE vm_id = $1"; }
ended() {	# process $1 is gone (this machine's init may be slow to reap)
	! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status"
}
leased() { grep -qi " $1 " "$QVD_WORK/run/dnsmasq.leases" 2>/dev/null; }
kvm_gone() {	# nothing of VM $1 left: qemu, tap, run directory, lease
	! in_ns ip link show "qvd$1" >/dev/null 2>&1 &&
	[ ! -d "$QVD_WORK/run/kvm/qvd-$1" ] &&
	! leased "$(q "SELECT ip FROM vms WHERE id = $1")"
}

t_ok "osf add (384 MB, a home disk)" qa osf add name=kdesk memory=384 \
	user_storage_size=64
t_ok "the kernel to boot it, as OSF properties" qa osf propset \
	kvm.kernel="$kdir/vmlinuz" kvm.initrd="$kdir/initrd.img" -f name=kdesk
t_ok "di add (the qcow2 test image)" qa di add path="$img" osf=kdesk
t_ok "user add" qa user add login=ann password=secret
t_ok "two VMs" qa vm add name=k bulk=2 user=ann osf=kdesk
start_node
t_like "the node probed the acceleration and says which it chose" \
	"$(cat "$QVD_WORK/node.log")" \
	"KVM: (hardware acceleration works|no hardware acceleration \(.*\); VMs run under TCG)"

t_is "qa vm start" "$(qa vm start -f id=1)" "Started 1 VMs."
t_ok "it reaches running" wait_for 120 vm_state_is 1 running
t_is "its VMA answers at the address DHCP gave it" \
	"$(in_ns curl -s -m 5 http://10.3.15.50:3030/vma/ping | tr -d '\r')" "null"
t_ok "the node's dnsmasq leased it that address" leased 10.3.15.50
t_like "qemu runs as qvd/1/k-0 with its tap, disks and consoles" \
	"$(tr '\0' ' ' </proc/"$(qemu_of 1)"/cmdline)" \
	"-name qvd/1/k-0 .*-m 384 -smp 1 .*1-1-overlay.qcow2.*1-data.qcow2.*ifname=qvd1.*virtio-net-pci.*mac=54:52:00:"
t_like "the tap is a port of the bridge" "$(in_ns ip -o link show master qvdbr)" \
	"qvd1"
t_ok "the overlay was made" test -s "$STORAGE/overlays/1-1-overlay.qcow2"
t_like "on the DI" "$(qemu-img info -U "$STORAGE/overlays/1-1-overlay.qcow2")" \
	"backing file: $STORAGE/images/"
t_ok "and the home disk" test -s "$STORAGE/homes/1-data.qcow2"
t_is "serial and VNC ports are recorded" "$(q "SELECT (vm_serial_port > 1024)
	|| ' ' || (vm_vnc_port >= 5900) FROM vm_runtimes WHERE vm_id = 1")" \
	"true true"

# --- a session through the L7R ---
start_xvfb 800x600
T0=$(ms_now)
client_on "$XDPY" -g 640x480
painted_or_gone() { painted "$XDPY" || ! kill -0 "$CPID" 2>/dev/null; }
wait_for 120 painted_or_gone
t_ok "qvdclient paints the VM's desktop through the L7R" painted "$XDPY"
t_fails "without the client's safety-net reconnect" grep -q "safety net" "$QVD_WORK/client.out"
t_is "at the size asked" "$(agent_window "$XDPY")" "640x480"
t_like "the home disk was partitioned, formatted and mounted on /home" \
	"$(serial 1 'grep " /home " /proc/mounts')" "^/dev/vdb1 /home ext4 "
kill -TERM "$CPID" 2>/dev/null
wait "$CPID" 2>/dev/null

# --- the consoles, as an admin reaches them ---
t_like "qa vm console: a shell prompt on the serial console" \
	"$(QVD_TYPE='echo serial-$((6*7))' in_ns qa -c "$NODE_CONF" vm console -f id=1 2>&1)" \
	"serial-42"
t_ok "captured to path.serial.captures" grep -q "serial-42" \
	"$QVD_WORK/qvd-1-serial.log"
t_is "qa vm vnc: the VNC server's greeting" \
	"$(in_ns qa -c "$NODE_CONF" vm vnc -f id=1 2>&1)" "RFB 003.008"

# --- the user disk persists, the root disk does not ---
serial 1 'echo kept >/home/note; echo lost >/etc/note; sync' >/dev/null
t_is "files written in the VM" "$(serial 1 'cat /home/note /etc/note')" \
	"kept
lost"
pid=$(qemu_of 1)
t_is "qa vm stop" "$(qa vm stop -f id=1)" "Stopped 1 VMs."
t_ok "reaches stopped" wait_for 90 vm_state_is 1 stopped
t_like "powered off by its VMA, not killed" "$(cat "$QVD_WORK/node.log")" \
	"vm 1: VMA poweroff done"
t_ok "no qemu left" wait_for 10 ended "$pid"
t_ok "nor tap, run directory or lease" wait_for 10 kvm_gone 1
t_ok "the overlay is removed" test ! -e "$STORAGE/overlays/1-1-overlay.qcow2"
t_ok "the home disk is kept" test -s "$STORAGE/homes/1-data.qcow2"
t_is "its row is released" "$(q "SELECT coalesce(host_id::text, '-') || ' '
	|| coalesce(vm_pid::text, '-') || ' ' || coalesce(vm_serial_port::text,
	'-') || ' ' || blocked FROM vm_runtimes WHERE vm_id = 1")" "- - - false"
qa vm start -f id=1 >/dev/null
t_ok "started again" wait_for 120 vm_state_is 1 running
t_is "the file on the home disk survived" \
	"$(serial 1 'mkdir -p /mnt; mount /dev/vdb1 /mnt && cat /mnt/note; umount /mnt')" \
	"kept"
t_like "the one on the root disk did not" "$(serial 1 'cat /etc/note')" \
	"No such file"

# --- persistent overlays are kept ---
qa config set vm.overlay.persistent=1 >/dev/null
serial 1 'echo kept >/etc/note; sync' >/dev/null
qa vm stop -f id=1 >/dev/null
wait_for 90 vm_state_is 1 stopped
t_ok "with vm.overlay.persistent the overlay is kept" \
	test -s "$STORAGE/overlays/1-1-overlay.qcow2"
qa vm start -f id=1 >/dev/null
wait_for 120 vm_state_is 1 running
t_is "and so is the root disk's file" "$(serial 1 'cat /etc/note')" "kept"
qa config set vm.overlay.persistent=0 >/dev/null

# --- a qemu that dies is noticed at once ---
qa vm start -f id=2 >/dev/null
t_ok "a second VM runs" wait_for 120 vm_state_is 2 running
t_ok "on its own DHCP address" leased 10.3.15.51
kill -9 "$(qemu_of 2)"
t0=$(date +%s)
t_ok "a killed qemu is noticed and cleaned up" wait_for 30 vm_state_is 2 stopped
t_ok "at once, not at a later poll" test $(($(date +%s) - t0)) -le 3
t_like "logged" "$(cat "$QVD_WORK/node.log")" "vm 2: its process \(pid [0-9]+\) ended"
t_ok "nothing of it left" wait_for 10 kvm_gone 2

# --- a guest that ignores power-off: ACPI, then SIGTERM ---
qa vm start -f id=2 >/dev/null
wait_for 120 vm_state_is 2 running
noop='rm /sbin/poweroff; printf "#!/bin/sh\\nexit 0\\n" >/sbin/poweroff'
t_is "the guest's poweroff made to do nothing" \
	"$(serial 2 "$noop; chmod 755 /sbin/poweroff; cat /sbin/poweroff")" \
	"#!/bin/sh
exit 0"
pid=$(qemu_of 2)
qa vm stop -f id=2 >/dev/null
t_ok "a VM that does not power off is stopped all the same" \
	wait_for 60 vm_state_is 2 stopped
steps=$(grep 'vm 2:' "$QVD_WORK/node.log" | grep -v DEBUG | tail -7 | tr '\n' ' ')
t_like "after the VMA's poweroff, ACPI power-off over QMP, then SIGTERM" \
	"$steps" "VMA poweroff done.*did not power off in 10 s.*ACPI power-off sent.*no power-off in 5 s; terminating qemu"
t_ok "and qemu is gone" wait_for 10 ended "$pid"

# --- kill -9 of the node with two VMs running; started again ---
qa vm start -f id=2 >/dev/null
wait_for 120 vm_state_is 2 running
p1=$(qemu_of 1)
p2=$(qemu_of 2)
kill -9 "$NODE"
wait "$NODE" 2>/dev/null
t_ok "both qemus outlive the killed node" kill -0 "$p1" "$p2"
start_node
t_ok "the restarted node adopts the first" wait_for 30 grep -q \
	"vm 1: found running (pid $p1)" "$QVD_WORK/node.out"
t_ok "and the second" grep -q "vm 2: found running (pid $p2)" "$QVD_WORK/node.out"
t_ok "both still running, same qemus" wait_for 30 row_is "SELECT
	string_agg(vm_state || ' ' || vm_pid, ',' ORDER BY vm_id) FROM vm_runtimes
	WHERE vm_id IN (1, 2)" "running $p1,running $p2"
t_is "their VMAs answer" "$(in_ns curl -s -m 5 http://10.3.15.51:3030/vma/ping |
	tr -d '\r')" "null"
t_ok "DHCP serves both again" grep -q "10.3.15.51" \
	"$QVD_WORK/run/dhcp-hostsfile"
dnsmasqs() {	# how many live dnsmasq processes the namespace has
	ip netns pids "$NS" | xargs -r ps -o stat=,comm= -p | grep -v '^Z' |
		grep -c dnsmasq
}
one_dnsmasq() { [ "$(dnsmasqs)" = 1 ]; }
t_ok "from one dnsmasq: the killed node's was stopped" wait_for 10 one_dnsmasq

# --- SIGTERM: an orderly stop ---
stop_node
t_is "its VMs are stopped" "$(q "SELECT string_agg(vm_state, ',') FROM
	vm_runtimes WHERE vm_id IN (1, 2)")" "stopped,stopped"
t_ok "no qemu left" ended "$p1"
t_ok "of either" ended "$p2"
both_gone() { kvm_gone 1 && kvm_gone 2; }
t_ok "nothing of them left" both_gone
t_is "nor dnsmasq" "$(dnsmasqs)" 0
t_done
