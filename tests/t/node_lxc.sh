# SPDX-License-Identifier: GPL-3.0-or-later
# node_lxc.sh -- qvd-node runs real LXC containers of the test image in a
# network namespace: start and stop from qa, a corrupt DI, a node killed
# with -9 and started again, homes that persist, expirations, the console.
. "$QVD_TOP/tests/lib/tap.sh"
. "$QVD_TOP/tests/lib/node.sh"

trap node_cleanup EXIT
qvd-deploy-db >/dev/null
img=$(test_image) || { echo "not ok 1 - the test image builds"; exit 1; }
node_setup
both() { [ "$(vm_state 1) $(vm_state 2)" = "$1 $1" ]; }
vma() { in_ns curl -s -m 3 "http://$1:3030/vma/$2" | tr -d '\r'; }
root_of() { echo "$STORAGE/rootfs/$1-fs"; }

t_like "qvd-node -n says what is wrong: no such node" \
	"$(sed 's/^nodename = .*/nodename = nosuch/' "$NODE_CONF" \
	>"$QVD_WORK/bad.conf"; in_ns qvd-node -n -c "$QVD_WORK/bad.conf" 2>&1)" \
	"node 'nosuch' is not registered in the database \(qa host add name=nosuch"
t_like "qvd-node -n: a missing storage" \
	"$(qa config set path.storage.root=/nonexistent >/dev/null
	in_ns qvd-node -n -c "$NODE_CONF" 2>&1
	qa config set path.storage.root="$STORAGE" >/dev/null)" \
	"the storage /nonexistent is missing or not writable"
t_like "qvd-node -n: a lease that would let a VM run twice" \
	"$(qa config set internal.hkd.cluster.node.lease=22 >/dev/null
	in_ns qvd-node -n -c "$NODE_CONF" 2>&1; echo "status $?"
	qa config del internal.hkd.cluster.node.lease >/dev/null)" \
	"internal.hkd.cluster.node.lease \(22 s\) must be shorter than internal.hkd.cluster.node.timeout \(25 s; keep 5 s between them\)
status 1"
t_ok "qvd-node -n accepts the node" in_ns qvd-node -n -c "$NODE_CONF"

# --- from qa alone: two VMs up and down ---
t_ok "osf add (with user storage)" qa osf add name=desk user_storage_size=64
t_ok "di add (the test image)" qa di add path="$img" osf=desk
t_ok "user add" qa user add login=ann password=a
t_ok "two VMs" qa vm add name=vm bulk=2 user=ann osf=desk
start_node
t_like "the bridge was made with the gateway address" \
	"$(in_ns ip -4 addr show qvdbr)" "inet 10.3.15.1/24"
t_like "a second qvd-node is refused" \
	"$(in_ns qvd-node -f -c "$NODE_CONF" 2>&1)" "another qvd-node runs"
t0=$(date +%s)
t_is "qa vm start" "$(qa vm start -f 'name=vm-*')" "Started 2 VMs."
t_ok "both reach running" wait_for 60 both running
t_ok "at once (NOTIFY), not a 61 s poll later" \
	test $(($(date +%s) - t0)) -lt 30
t_like "vm.network.use_dhcp: the node's dnsmasq serves their addresses too" \
	"$(cat "$QVD_WORK/run/dhcp-hostsfile")" \
	"^54:52:00:03:0f:32,10.3.15.50$"
t_is "starting them again changes nothing, and says so" \
	"$(qa vm start -f 'name=vm-*')" \
	"Started 0 VMs. Unchanged: vm-0 (already running), vm-1 (already running)."
t_like "qa vm list shows them running on node1" "$(qa vm list -q)" \
	"^1 vm-0 .* node1 +running .*
2 vm-1 .* node1 +running "
t_is "the VMA answers at the first VM's address" "$(vma 10.3.15.50 ping)" \
	"null"
t_is "and at the second's" "$(vma 10.3.15.51 x_state)" '"stopped"'
t_is "runtime rows: address, ports, DI" "$(q "SELECT vm_address || ' ' ||
	vm_vma_port || ' ' || vm_x_port || ' ' || current_di_id || ' ' ||
	(vm_pid > 0)::text FROM vm_runtimes WHERE vm_id = 1")" \
	"10.3.15.50 3030 4100 1 true"
t_is "counters" "$(q "SELECT run_attempts || '/' || run_ok FROM vm_counters
	WHERE vm_id = 1")" "1/1"
t_like "the overlay root is mounted" "$(node_mounts)" " $(root_of 1) overlay "
t_ok "the home is bind-mounted into the container" \
	test -d "$STORAGE/homefs/1-1-homefs"
t_like "logged as vm N: old -> new" "$(cat "$QVD_WORK/node.log")" \
	"vm 1: starting -> running"

# a file in the home survives; one elsewhere does not (no persistence)
pid=$(q "SELECT vm_pid FROM vm_runtimes WHERE vm_id = 1")
nsenter -t "$pid" -m -u -i -n -p sh -c \
	'echo kept >/home/note; echo lost >/etc/note'
t_is "qa vm stop" "$(qa vm stop -f id=1)" "Stopped 1 VMs."
t_ok "reaches stopped" wait_for 60 vm_state_is 1 stopped
t_ok "nothing of it is left: container, mount, interface, config" \
	wait_for 10 vm_gone 1
t_ok "nor a process" sh -c "! kill -0 $pid 2>/dev/null"
t_is "its row is released" "$(q "SELECT coalesce(host_id::text, '-') || ' '
	|| coalesce(vm_address, '-') || ' ' || coalesce(vm_pid::text, '-') ||
	' ' || blocked FROM vm_runtimes WHERE vm_id = 1")" "- - - false"
t_ok "the other VM still runs" vm_state_is 2 running
qa vm start -f id=1 >/dev/null
t_ok "started again" wait_for 60 vm_state_is 1 running
pid=$(q "SELECT vm_pid FROM vm_runtimes WHERE vm_id = 1")
t_is "the home file survived" "$(nsenter -t "$pid" -m cat /home/note)" "kept"
t_is "it lives in the VM's homefs" "$(cat "$STORAGE/homefs/1-1-homefs/note")" \
	"kept"
t_ok "the file outside /home did not" nsenter -t "$pid" -m test ! -e \
	/etc/note

# --- the console (lxc-console), run where the container lives ---
out=$( (sleep 1; printf 'echo console-$((6*7))\r'; sleep 1; printf '\001q') |
	in_ns script -qec "qa -c $NODE_CONF vm console -f id=1" /dev/null 2>&1)
t_like "qa vm console reaches the VM's console" "$out" "console-42"
out=$( (sleep 1; printf 'echo outside-$((6*7))\r'; sleep 1; printf '\001q') |
	script -qec "qa -c $NODE_CONF vm console -f id=1" /dev/null 2>&1)
t_like "and from outside the node's network namespace (qa joins it)" "$out" \
	"outside-42"

# --- a corrupt DI: stopped, blocked, with the reason ---
head -c 100000 /dev/urandom >"$STORAGE/staging/broken.tar.gz"
qa osf add name=broken >/dev/null
qa di add path="$STORAGE/staging/broken.tar.gz" osf=broken >/dev/null
qa vm add name=bad user=ann osf=broken >/dev/null
qa vm start -f name=bad >/dev/null
t_ok "a VM of a corrupt DI ends blocked" wait_for 60 row_is \
	"SELECT vm_state || blocked FROM vm_runtimes WHERE vm_id = 3" stoppedtrue
t_like "with a readable reason in qa vm list" \
	"$(qa vm list -q -f name=bad)" \
	"cannot unpack the disk image .*broken.tar.gz: .*(gzip|tar)"
t_ok "its overlay is kept for debugging as deleteme-" \
	test -d "$STORAGE/overlayfs/deleteme-2-3-overlayfs" -o \
	! -d "$STORAGE/overlayfs/2-3-overlayfs"
t_ok "nothing else of it is left" vm_gone 3
t_ok "the node kept serving the others" both running

# --- expirations: acted on at their time (the hourly check is not waited
# for), each soft limit told once ---
qa vm edit expire-soft=now -f id=2 >/dev/null
t_ok "a soft expiration calls the VMA's expire hook at once" wait_for 10 \
	in_vm 2 grep -q "vm.expiration.soft" /var/log/qvd/hook-calls.log
t_like "with both times" "$(in_vm 2 head -1 /var/log/qvd/hook-calls.log)" \
	"vm.expiration.soft [0-9-]+ [0-9:]+ vm.expiration.hard  qvd.vm.session.state stopped qvd.hook.on_action expire"
qa config set internal.hkd.agent.expiration_monitor.delay=1 >/dev/null
sleep 4		# checks every second, and a configuration change
t_is "told once, not again at each check or configuration change" \
	"$(in_vm 2 grep -c 'on_action expire' /var/log/qvd/hook-calls.log)" 1
qa config set internal.hkd.agent.expiration_monitor.delay=3600 >/dev/null
old=$(q "SELECT vm_pid FROM vm_runtimes WHERE vm_id = 2")
t0=$(date +%s)
qa vm edit expire-hard="now + 5 seconds" -f id=2 >/dev/null
t_ok "a hard expiration 5 s ahead restarts the VM at its time" \
	wait_for 40 row_is "SELECT vm_state || (vm_pid <> $old)::text FROM
	vm_runtimes WHERE vm_id = 2" runningtrue
t_ok "not before it" test $(($(date +%s) - t0)) -ge 5
t_is "and the restart cleared the limits" "$(q "SELECT (vm_expiration_soft
	IS NULL AND vm_expiration_hard IS NULL)::text FROM vm_runtimes WHERE
	vm_id = 2")" "true"

# --- a deleted DI leaves nothing behind in basefs ---
qa osf add name=spare user_storage_size=64 >/dev/null
qa di add path="$img" osf=spare >/dev/null
qa vm add name=once user=ann osf=spare >/dev/null
once=$(q "SELECT id FROM vms WHERE name = 'once'")
spare=$(q "SELECT d.path FROM dis d JOIN osfs o ON o.id = d.osf_id WHERE
	o.name = 'spare'")
qa vm start -f name=once >/dev/null
wait_for 60 vm_state_is "$once" running
t_ok "its DI is unpacked in basefs" test -d "$STORAGE/basefs/$spare"
qa vm stop -f name=once >/dev/null
wait_for 60 vm_state_is "$once" stopped
t_ok "the VM has a home" test -d "$STORAGE/homefs/$once-1-homefs"
t_is "vm del homes=delete: the VM and its home go" \
	"$(qa vm del -f name=once homes=delete)" \
	"1 VMs deleted. 1 home directories removed."
t_ok "no home is left of it" test ! -e "$STORAGE/homefs/$once-1-homefs"
t_like "di del" "$(qa di del -f osf_id="$(q "SELECT id FROM osfs WHERE
	name = 'spare'")")" "^1 DIs deleted\.$"
t_ok "the node removes the unpacked tree" wait_for 10 \
	test ! -e "$STORAGE/basefs/$spare"
t_ok "and its lock file" test ! -e "$STORAGE/basefs/$spare.lock"
t_ok "and the image file is gone" test ! -e "$STORAGE/images/$spare"
t_ok "the DIs still in use keep theirs" test -d "$STORAGE/basefs/$(q "SELECT
	path FROM dis WHERE id = 1")"

# --- a blocked node starts nothing new ---
qa vm stop -f id=2 >/dev/null
wait_for 60 vm_state_is 2 stopped
qa host block -f name=node1 >/dev/null
t_like "qa vm start cannot place a VM on a blocked node" \
	"$(qa vm start -f id=2 2>&1)" "there is no host available"
sleep 6		# a heartbeat: the node sees it is blocked
q "UPDATE vm_runtimes SET host_id = 1, vm_cmd = 'start' WHERE vm_id = 2;
   SELECT pg_notify('qvd_cmd_for_vm_on_host1', '')" >/dev/null
sleep 3
t_is "a blocked node leaves a start for it pending" "$(q "SELECT vm_state ||
	' ' || vm_cmd FROM vm_runtimes WHERE vm_id = 2")" "stopped start"
qa host unblock -f name=node1 >/dev/null
t_ok "unblocked, it starts it" wait_for 60 vm_state_is 2 running

# --- kill -9 the node while VMs run; start it again ---
pid1=$(q "SELECT vm_pid FROM vm_runtimes WHERE vm_id = 1")
kill -9 "$NODE"
wait "$NODE" 2>/dev/null
t_ok "the container outlives a killed node" kill -0 "$pid1"
start_node
t_ok "the restarted node adopts it" wait_for 30 grep -q \
	"vm 1: found running (pid $pid1)" "$QVD_WORK/node.out"
t_is "same container, still running" "$(q "SELECT vm_state || ' ' ||
	vm_pid FROM vm_runtimes WHERE vm_id = 1")" "running $pid1"
t_is "the VMA answers" "$(vma 10.3.15.50 ping)" "null"
# a VM the database says is stopped but whose container runs is cleaned
q "UPDATE vm_runtimes SET vm_state = 'stopped', host_id = NULL WHERE
	vm_id = 2" >/dev/null
pid2=$(q "SELECT vm_pid FROM vm_runtimes WHERE vm_id = 2")
kill -9 "$NODE"
wait "$NODE" 2>/dev/null
start_node
t_ok "a container the database does not account for is stopped" \
	wait_for 30 vm_gone 2
t_ok "its home is untouched" test -d "$STORAGE/homefs/2-1-homefs"

# --- another node silent too long is lost; its VMs are released ---
qa host add name=node2 address=10.3.15.3 >/dev/null
qa vm add name=elsewhere user=ann osf=desk >/dev/null
q "UPDATE host_runtimes SET state = 'running', ok_ts = localtimestamp -
	interval '5 minutes' WHERE host_id = 2;
   UPDATE vm_runtimes SET vm_state = 'running', host_id = 2, vm_address =
	'10.3.15.99' WHERE vm_id = (SELECT id FROM vms WHERE
	name = 'elsewhere')" >/dev/null
t_ok "node2 is marked lost" wait_for 45 row_is \
	"SELECT state FROM host_runtimes WHERE host_id = 2" lost
t_is "and its VM released" "$(q "SELECT vm_state || ' ' ||
	coalesce(host_id::text, '-') FROM vm_runtimes WHERE vm_id = (SELECT id
	FROM vms WHERE name = 'elsewhere')")" \
	"stopped -"

# --- pid file, SIGHUP ---
t_is "the pid file holds the node's pid" \
	"$(cat "$QVD_WORK/run/qvd-hkd.pid")" "$NODE"
kill -HUP "$NODE"
t_ok "SIGHUP reloads the configuration" wait_for 5 grep -q \
	"configuration reloaded (SIGHUP)" "$QVD_WORK/node.out"

# --- SIGTERM: an orderly stop of everything ---
stop_node
t_ok "SIGTERM stops the node" sh -c "! kill -0 $NODE 2>/dev/null"
t_is "its VMs are stopped" "$(q "SELECT string_agg(vm_state, ',') FROM
	vm_runtimes WHERE vm_id IN (1, 2)")" "stopped,stopped"
both_gone() { vm_gone 1 && vm_gone 2; }
t_ok "nothing of them left" both_gone
t_is "the node says stopped" "$(q "SELECT state FROM host_runtimes WHERE
	host_id = 1")" "stopped"
t_done
