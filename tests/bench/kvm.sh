# SPDX-License-Identifier: GPL-3.0-or-later
# kvm.sh -- qvd-node with real qemu (TCG here: /dev/kvm hangs guests):
# stopped -> running (the VMA answering at its DHCP address) over 5
# starts, beside LXC's from the same tree, and the memory of a qemu per VM.
. "$QVD_TOP/tests/lib/tap.sh" >/dev/null
. "$QVD_TOP/tests/lib/bench.sh"
. "$QVD_TOP/tests/lib/node.sh"

trap node_cleanup EXIT
qvd-deploy-db >/dev/null
img=$(kvm_test_image) || exit 1
limg=$(test_image) || exit 1
kdir=$QVD_BIN/kvm-kernel
node_setup
qa config set vm.hypervisor=kvm vm.kvm.cpus=1 >/dev/null
qa osf add name=kdesk memory=256 user_storage_size=64 >/dev/null
qa osf propset kvm.kernel="$kdir/vmlinuz" kvm.initrd="$kdir/initrd.img" \
	-f name=kdesk >/dev/null
qa di add path="$img" osf=kdesk >/dev/null
qa osf add name=ldesk >/dev/null
qa di add path="$limg" osf=ldesk >/dev/null
qa user add login=ann password=a >/dev/null
qa vm add name=k bulk=3 user=ann osf=kdesk >/dev/null
qa vm add name=l user=ann osf=ldesk >/dev/null
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
five_starts() {	# VM id, file
	: >"$2"
	for i in 1 2 3 4 5; do
		time_start "$1" >>"$2"
		stop_vm "$1"
	done
}

in_ns ip addr add 10.3.15.2/32 dev lo	# the node's own address
start_node
echo "KVM acceleration: $(grep -Eo 'KVM: (hardware|no hardware).*' \
	"$QVD_WORK/node.log" | head -1)"
five_starts 1 "$QVD_WORK/kvm.ms"
echo "KVM stopped -> running: $(stats_ms "$QVD_WORK/kvm.ms")"
qa vm start -f 'name=k-*' >/dev/null
three() { [ "$(q "SELECT count(*) FROM vm_runtimes WHERE vm_state =
	'running' AND vm_id <= 3")" = 3 ]; }
wait_for 180 three
total=0
for id in 1 2 3; do
	total=$((total + $(rss_kb "$(q "SELECT vm_pid FROM vm_runtimes WHERE
		vm_id = $id")")))
done
echo "qemu resident memory per VM (256 MB guest, idle desktop): $((total / 3)) kB (mean of 3)"
qa vm stop -f 'name=k-*' >/dev/null
stop_node

qa config set vm.hypervisor=lxc >/dev/null
start_node
time_start 4 >/dev/null	# the DI gets unpacked once
stop_vm 4
five_starts 4 "$QVD_WORK/lxc.ms"
echo "LXC stopped -> running (same tree, unpacked): $(stats_ms "$QVD_WORK/lxc.ms")"
stop_node
