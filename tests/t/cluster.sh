# SPDX-License-Identifier: GPL-3.0-or-later
# cluster.sh -- a farm of three nodes with no single point of failure:
# PostgreSQL under Patroni (etcd), HAProxy in front of the L7Rs, one VM
# network and one share for every node (tests/lib/cluster.sh draws the
# map).  A session through one node to a VM on another; a blocked node;
# a node killed, its VM started again elsewhere with the same home; a
# node cut off, which kills its VMs before the others may start them
# (fencing) and never runs them twice when it comes back; the primary
# PostgreSQL killed during a session and during a loop of qa commands.
. "$QVD_TOP/tests/lib/tap.sh"
. "$QVD_TOP/tests/lib/pg.sh"
. "$QVD_TOP/tests/lib/node.sh"
. "$QVD_TOP/tests/lib/cluster.sh"

trap cl_cleanup EXIT
img=$(test_image) || exit 1
t_ok "etcd, Patroni, the schema, three nodes" cl_up 3
t_is "PostgreSQL: pg1 leads" "$(pg_leader)" 1
qa osf add name=desk user_storage_size=64 >/dev/null
t_ok "a DI, copied onto the share" qa di add path="$img" osf=desk
t_ok "the file is on the share" \
	test -s "$CL/nfs/images/$(q "SELECT path FROM dis")"
for i in 1 2 3; do
	t_ok "node$i starts (the share mounted in its namespace)" \
		cl_start_node "$i"
done
cl_haproxy 1 2 3
qa user add login=ann password=secret >/dev/null
qa vm add name=ann-desk user=ann osf=desk >/dev/null

node_id() { q "SELECT id FROM hosts WHERE name = 'node$1'"; }
vm_host() { q "SELECT coalesce(h.name, '') FROM vm_runtimes r LEFT JOIN \
	hosts h ON h.id = r.host_id WHERE r.vm_id = $1"; }
host_state() { q "SELECT state FROM host_runtimes WHERE host_id = \
	$(node_id "$1")"; }
host_state_is() { [ "$(host_state "$1")" = "$2" ]; }
# VM $1's container on node $2 is running
runs_on() {
	in_node "$2" lxc-info -n "qvd-$1" -P "$CL/node$2/run/lxc" -s 2>/dev/null |
		grep -q RUNNING
}
copies() {	# how many nodes run VM $1
	_c=0
	for _n in 1 2 3; do runs_on "$1" "$_n" && _c=$((_c + 1)); done
	echo "$_c"
}

# --- the user's machine, on the LAN: an Xvfb and qvdclient ---
H=$CL/home
mkdir -p "$H"
ip netns exec "$SW" Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp \
	>"$CL/xvfb.log" 2>&1 3>"$CL/.dpy" &
XVFB=$!
wait_for 10 test -s "$CL/.dpy"
DPY=:$(tr -dc 0-9 <"$CL/.dpy")
client_via() {	# ADDRESS: ann's qvdclient through it; pid in CPID
	ip netns exec "$SW" env -i PATH="$PATH" HOME="$H" DISPLAY="$DPY" \
		QVDLOGIN=ann QVDPASSWORD=secret "$QVD_BIN/qvdclient" -h "$1" \
		-n -s 1 >"$CL/client.out" 2>&1 &
	CPID=$!
}
painted() {
	in_sw env DISPLAY="$DPY" xwininfo -root -tree 2>/dev/null |
		grep -q '"QVD": ("NXAgent"'
}
unpainted() { ! painted; }
end_client() {
	kill -TERM "$CPID" 2>/dev/null
	wait "$CPID" 2>/dev/null
	wait_for 20 unpainted
}
user_state_is() { row_is "SELECT user_state FROM vm_runtimes WHERE \
	vm_id = 1" "$1"; }

# --- a session through one node to a VM another node runs ---
t_is "ann's VM starts (qa, the load balancer picks a node)" \
	"$(qa vm start -f id=1)" "Started 1 VMs."
t_ok "it runs" wait_for 60 row_is \
	"SELECT vm_state FROM vm_runtimes WHERE vm_id = 1" running
VMN=$(vm_host 1 | tr -dc 0-9)
L7=$((VMN % 3 + 1))	# another node
client_via "10.9.0.1$L7"
t_ok "ann connects through node$L7 to her VM on node$VMN: painted" \
	wait_for 60 painted
t_like "the client is told which node runs it" "$(cat "$CL/client.out")" \
	"VM 1 is running on node node$VMN"
t_is "the database: VM on node$VMN, session through node$L7, connected" \
	"$(q "SELECT h.name, l.name, r.user_state FROM vm_runtimes r JOIN \
	hosts h ON h.id = r.host_id JOIN hosts l ON l.id = r.l7r_host_id \
	WHERE r.vm_id = 1")" "node$VMN|node$L7|connected"

# --- behind HAProxy, each user's own address (its PROXY header) ---
via() {	# FROM USER:PASS: list_of_vm through HAProxy from that address
	in_sw curl -sk -m 10 -o /dev/null -w '%{http_code}' --interface "$1" \
		-u "$2" https://10.9.0.1:8443/qvd/list_of_vm
}
# (HAProxy deals them round the three L7Rs, and each counts its own)
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
	via 10.9.0.100 "ann:wrong$i" >/dev/null
done
t_is "five wrong passwords for ann from 10.9.0.100 at each node: refused there" \
	"$(via 10.9.0.100 ann:secret)" 429
t_is "but ann from 10.9.0.101 still gets in (the same HAProxy)" \
	"$(via 10.9.0.101 ann:secret)" 200
t_like "the L7Rs logged the user's address, not HAProxy's" \
	"$(cat "$CL"/node[123].log)" "L7R 10.9.0.100: login of 'ann' refused"
t_is "a connection from the balancer's address without a PROXY header: closed" \
	"$(in_sw curl -sk -m 5 -o /dev/null -w '%{http_code}' --interface \
	10.9.0.2 https://10.9.0.11:8443/qvd/ping)" 000

# --- a blocked node: its sessions go on, new ones are refused ---
t_like "node$L7 blocked" "$(qa host block -f name="node$L7")" "1"
t_ok "its L7R's health check says so (HAProxy takes it out)" \
	wait_for 10 sh -c "[ \"\$(ip netns exec $SW curl -sk -o /dev/null \
	-w '%{http_code}' https://10.9.0.1$L7:8443/qvd/ping)\" = 503 ]"
sleep 2
t_ok "the running session goes on (still painted, still connected)" \
	sh -c 'kill -0 '"$CPID"' && '"$(command -v xwininfo)"' -display '"$DPY"' -root -tree >/dev/null'
t_ok "and painted" painted
t_ok "and connected" user_state_is connected
out=$(in_sw env -i PATH="$PATH" HOME="$H" QVDLOGIN=ann QVDPASSWORD=secret \
	"$QVD_BIN/qvdclient" -h "10.9.0.1$L7" -n -l 2>&1)
t_like "a new request through node$L7: the maintenance message" "$out" \
	"Server is blocked"
t_like "node$L7 unblocked" "$(qa host unblock -f name="node$L7")" "1"
t_ok "its health check says so" \
	wait_for 10 sh -c "[ \"\$(ip netns exec $SW curl -sk -o /dev/null \
	-w '%{http_code}' https://10.9.0.1$L7:8443/qvd/ping)\" = 200 ]"
t_like "node$VMN, which runs ann's VM, blocked" \
	"$(qa host block -f name="node$VMN")" "1"
sleep 1
t_ok "the session to it goes on" painted
out=$(in_sw env -i PATH="$PATH" HOME="$H" DISPLAY="$DPY" QVDLOGIN=ann \
	QVDPASSWORD=secret "$QVD_BIN/qvdclient" -h "10.9.0.1$L7" -n -s 1 2>&1)
t_like "a new session to that VM, through node$L7: under maintenance" \
	"$out" "VM 1 is on node node$VMN, which is blocked for maintenance"
t_ok "the first session still goes on" painted
t_like "node$VMN unblocked" "$(qa host unblock -f name="node$VMN")" "1"
sleep 1
end_client

# --- a node killed: lost within 30 s, the VM starts elsewhere, same home ---
in_vm() {	# VM $1's container: the command in its mount namespace
	_p=$(q "SELECT vm_pid FROM vm_runtimes WHERE vm_id = $1")
	shift
	nsenter -t "$_p" -m "$@"
}
t_ok "ann writes a file in her home (on the share)" \
	in_vm 1 sh -c 'echo kept > /home/ann/note.txt'
t0=$(date +%s)
cl_kill_node "$VMN"
t_ok "node$VMN killed (qvd-node and its container)" \
	wait_for 10 sh -c "[ \"\$(ip netns pids $(node_ns "$VMN"))\" = '' ]"
t_ok "the others mark it lost" wait_for 40 host_state_is "$VMN" lost
lost_s=$(($(date +%s) - t0))
t_ok "within 30 s (took $lost_s s; upstream: 600)" test "$lost_s" -le 30
t_is "its VM: stopped, on no node, no session" \
	"$(q "SELECT vm_state, host_id IS NULL, user_state FROM vm_runtimes \
	WHERE vm_id = 1")" "stopped|t|disconnected"
client_via 10.9.0.1
t_ok "ann connects through HAProxy: painted" wait_for 90 painted
NEW=$(vm_host 1 | tr -dc 0-9)
t_ok "her VM runs on a surviving node (node$NEW)" test "$NEW" != "$VMN"
t_is "with the same home" "$(in_vm 1 cat /home/ann/note.txt)" kept
t_like "HAProxy's health check took node$VMN out" \
	"$(cat "$CL/haproxy.log")" "node$VMN is DOWN"
codes=""
for i in 1 2 3 4 5 6; do
	codes="$codes $(in_sw curl -sk -m 10 -o /dev/null -w '%{http_code}' \
		-u ann:secret https://10.9.0.1:8443/qvd/list_of_vm)"
done
t_is "with one L7R down, every request through HAProxy is served" \
	"$codes" " 200 200 200 200 200 200"

# --- node$VMN comes back: it runs nothing the farm moved ---
t_ok "node$VMN starts again" cl_start_node "$VMN"
sleep 3
t_is "one copy of the VM in the farm" "$(copies 1)" 1
t_is "on node$NEW" "$(vm_host 1)" "node$NEW"
t_ok "the session went on" painted

# --- a node cut off: it kills its VMs (lease) before it is lost ---
end_client
t_ok "the VM moves to node$VMN ..." qa vm stop -f id=1
t_ok "(stopped)" wait_for 60 row_is \
	"SELECT vm_state FROM vm_runtimes WHERE vm_id = 1" stopped
q "UPDATE vm_runtimes SET host_id = $(node_id "$VMN"), vm_cmd = 'start' \
	WHERE vm_id = 1" >/dev/null
q "NOTIFY qvd_cmd_for_vm_on_host$(node_id "$VMN")" >/dev/null
t_ok "... and runs there" wait_for 60 row_is \
	"SELECT vm_state FROM vm_runtimes WHERE vm_id = 1" running
t0=$(date +%s)
cl_link "$VMN" down
t_ok "node$VMN cut off: its VM is killed when its lease ends" \
	wait_for 30 sh -c "! $(command -v ip) netns exec $(node_ns "$VMN") \
	lxc-info -n qvd-1 -P $CL/node$VMN/run/lxc -s 2>/dev/null | grep -q RUNNING"
fence_s=$(($(date +%s) - t0))
t_ok "the others mark it lost" wait_for 40 host_state_is "$VMN" lost
lost_s=$(($(date +%s) - t0))
t_ok "only after the VM was dead (killed after $fence_s s, lost after $lost_s s)" \
	test "$fence_s" -lt "$lost_s"
t_like "node$VMN says why" "$(cat "$CL/node$VMN.log")" \
	"no heartbeat for 20 s: its VMs were killed, so that no other node runs them twice \(fenced\)"
client_via 10.9.0.1
t_ok "ann's next connection starts it on another node" wait_for 90 painted
NEW=$(vm_host 1 | tr -dc 0-9)
t_ok "(node$NEW)" test "$NEW" != "$VMN"
cl_link "$VMN" up
t_ok "node$VMN's link mended: it is running again" \
	wait_for 30 host_state_is "$VMN" running
sleep 2
t_is "still one copy of the VM" "$(copies 1)" 1
t_ok "node$VMN's qvd-node lived through it all" kill -0 "$(node_pid "$VMN")"

# --- qvd-node alone killed (its VMs live on, for a restart to adopt):
#     its fence keeper kills them when the lease ends ---
end_client
qa vm stop -f id=1 >/dev/null
wait_for 60 row_is "SELECT vm_state FROM vm_runtimes WHERE vm_id = 1" stopped
q "UPDATE vm_runtimes SET host_id = $(node_id "$VMN"), vm_cmd = 'start' \
	WHERE vm_id = 1" >/dev/null
q "NOTIFY qvd_cmd_for_vm_on_host$(node_id "$VMN")" >/dev/null
wait_for 60 row_is "SELECT vm_state FROM vm_runtimes WHERE vm_id = 1" running
keeper=$(for p in $(ip netns pids "$(node_ns "$VMN")"); do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = qvd-fence ] && echo "$p"; done)
t_ok "node$VMN has a fence keeper of its own" test -n "$keeper"
init=$(q "SELECT vm_pid FROM vm_runtimes WHERE vm_id = 1")
t0=$(date +%s)
kill -9 "$(node_pid "$VMN")"
sleep 1
t_ok "qvd-node killed alone: its VM lives on" kill -0 "$init"
t_ok "until the lease ends" wait_for 30 sh -c "! kill -0 $init 2>/dev/null"
fence_s=$(($(date +%s) - t0))
t_ok "the others mark the node lost" wait_for 40 host_state_is "$VMN" lost
lost_s=$(($(date +%s) - t0))
t_ok "only after that (killed after $fence_s s, lost after $lost_s s)" \
	test "$fence_s" -lt "$lost_s"
t_ok "the keeper, with no qvd-node to wait for, is gone" \
	sh -c "! kill -0 $keeper 2>/dev/null"
t_ok "node$VMN starts again" cl_start_node "$VMN"
client_via 10.9.0.1
t_ok "ann's desktop again, from another node or this one" wait_for 90 painted
t_is "one copy" "$(copies 1)" 1

# --- the primary PostgreSQL killed during a session and a qa loop ---
OLD=$(pg_leader)
STBY=$((3 - OLD))
node_pids="$NODEPID_1 $NODEPID_2 $NODEPID_3"
# qvd-wat on the admin's machine, as a script uses its API
mkdir -p "$CL/watrun"
chown nobody: "$CL/watrun"
{ cat "$ADMIN_CONF"; echo "path.run = $CL/watrun"; echo "wat.port = 3000"; } \
	>"$CL/wat.conf"
ip netns exec "$SW" "$QVD_BIN/qvd-wat" -f -c "$CL/wat.conf" \
	>"$CL/wat.out" 2>&1 &
WAT=$!
wat_new() {	# a user made through the WAT's API
	in_sw curl -s -m 60 -u admin:admin -H 'Content-Type: application/json' \
		--data "{\"login\":\"$1\",\"password\":\"x\"}" \
		http://10.9.0.1:3000/api/user/new
}
t_ok "qvd-wat serves" wait_for 10 sh -c "ip netns exec $SW curl -sf -o /dev/null http://10.9.0.1:3000/login"
ms() { echo $(($(date +%s%N) / 1000000)); }
loop() {	# KIND: 30 users added one after the other, each timed
	_i=0
	while [ $_i -lt 30 ]; do
		_i=$((_i + 1))
		_t=$(ms)
		if [ "$1" = qa ]; then
			qa user add login="qa$_i" password=x >/dev/null \
				2>>"$CL/loop.err" && _r=ok || _r=failed
		else
			wat_new "wat$_i" | grep -q '"message":"User added' &&
				_r=ok || _r=failed
		fi
		echo "$_i $_r $(($(ms) - _t))"
	done >"$CL/loop-$1.out"
}
loop qa &
LOOPQ=$!
loop wat &
LOOPW=$!
sleep 0.5
pg_kill "$OLD"
leader_is() { [ "$(pg_leader)" = "$1" ]; }
t_ok "Patroni promotes the standby (pg$STBY)" wait_for 30 leader_is "$STBY"
wait "$LOOPQ" "$LOOPW"
for k in qa wat; do
	t_is "every $k command of the loop succeeded" \
		"$(grep -c ' ok ' "$CL/loop-$k.out")" 30
	t_is "each done once" \
		"$(q "SELECT count(*) FROM users WHERE login ~ '^$k[0-9]+$'")" 30
	t_ok "some waited for the new primary (the failover hit the loop)" \
		test "$(awk '$3 > 1000' "$CL/loop-$k.out" | wc -l)" -ge 1
done
t_ok "qvd-wat did not exit" kill -0 "$WAT"
t_ok "the session went on" painted
t_ok "and is still connected" user_state_is connected
t_ok "no qvd-node exited" sh -c "kill -0 $node_pids"
t_ok "every node heartbeats on the new primary" wait_for 20 row_is \
	"SELECT count(*) FROM host_runtimes WHERE state = 'running' AND \
	ok_ts > localtimestamp - interval '3 seconds'" 3
t_ok "the old primary rejoins as a standby" cl_patroni_start "$OLD"
qa vm stop -f id=1 >/dev/null
t_ok "a stop reaches the node by NOTIFY on the new primary (re-LISTEN)" \
	wait_for 5 row_is "SELECT vm_state IN ('stopping', 'stopped') FROM \
	vm_runtimes WHERE vm_id = 1" t
t_ok "the client saw the session end" wait_for 20 unpainted
t_done
