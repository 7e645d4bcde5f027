# SPDX-License-Identifier: GPL-3.0-or-later
# cluster.sh -- a three-node farm under Patroni and HAProxy
# (tests/lib/cluster.sh): the time from killing a node to its VMs being
# startable elsewhere (target < 30 s; upstream 600 s), the time from
# killing the primary PostgreSQL (its server, then its whole host) to the
# first successful "qa vm list" and the first new session, and the spread
# of 60 VMs placed through the L7Rs.
. "$QVD_TOP/tests/lib/tap.sh" >/dev/null
. "$QVD_TOP/tests/lib/bench.sh"
. "$QVD_TOP/tests/lib/pg.sh"
. "$QVD_TOP/tests/lib/node.sh"
. "$QVD_TOP/tests/lib/cluster.sh"

trap cl_cleanup EXIT
img=$(test_image) || exit 1
cl_up 3 >/dev/null || { echo "   the farm did not come up"; exit 1; }
qa osf add name=desk >/dev/null
qa di add path="$img" osf=desk >/dev/null
for i in 1 2 3; do cl_start_node "$i" || exit 1; done
cl_haproxy 1 2 3
qa user add login=bob password=bobpw >/dev/null
qa vm add name=vm bulk=66 user=bob osf=desk >/dev/null

running() { row_is "SELECT count(*) FROM vm_runtimes WHERE vm_id BETWEEN $1 \
	AND $2 AND vm_state = 'running'" $(($2 - $1 + 1)); }
released() { row_is "SELECT count(*) FROM vm_runtimes WHERE vm_id BETWEEN $1 \
	AND $2 AND vm_state = 'stopped' AND host_id IS NULL" $(($2 - $1 + 1)); }

# --- node loss: 3 runs, 2 VMs on the node each time ---
: >"$QVD_WORK/lost.ms"
: >"$QVD_WORK/again.ms"
for run in 1 2 3; do
	victim=$(((run % 3) + 1))
	for i in 1 2 3; do
		[ "$i" = "$victim" ] || qa host block -f name="node$i" >/dev/null
	done
	a=$((run * 2 - 1)); b=$((run * 2))
	qa vm start -f id="$a" >/dev/null
	qa vm start -f id="$b" >/dev/null
	wait_for 60 running "$a" "$b"
	for i in 1 2 3; do qa host unblock -f name="node$i" >/dev/null; done
	sleep 3		# a heartbeat or two after the start
	t0=$(now_ms)
	cl_kill_node "$victim"
	wait_for 60 released "$a" "$b"
	echo $(($(now_ms) - t0)) >>"$QVD_WORK/lost.ms"
	qa vm start -f id="$a" >/dev/null
	qa vm start -f id="$b" >/dev/null
	wait_for 60 running "$a" "$b"
	echo $(($(now_ms) - t0)) >>"$QVD_WORK/again.ms"
	cl_start_node "$victim" >/dev/null
done
echo "   node killed (qvd-node and its containers) -> its VMs startable elsewhere: $(stats_ms "$QVD_WORK/lost.ms") (upstream: 600 s)"
echo "   node killed -> its VMs running again on another node: $(stats_ms "$QVD_WORK/again.ms")"

# --- the primary PostgreSQL killed: first qa vm list, first new session ---
qa vm start -f id=66 >/dev/null
wait_for 60 running 66 66
ip=$(q "SELECT ip FROM vms WHERE id = 66")
new_session() {	# connect_to_vm through HAProxy: when its 101 came, in S101
	in_sw curl -sk -m 3 -D - -o /dev/null -u bob:bobpw \
		-H Connection:Upgrade -H Upgrade:QVD/1.0 \
		"https://10.9.0.1:8443/qvd/connect_to_vm?id=66" 2>/dev/null |
		while read -r l; do
			case $l in "HTTP/1.1 101"*) now_ms >"$QVD_WORK/101" ;; esac
		done
	[ -s "$QVD_WORK/101" ] && S101=$(cat "$QVD_WORK/101") &&
		rm -f "$QVD_WORK/101"
}
new_session	# the X session exists from now on
failover() {	# how: "server" or "host"
	old=$(pg_leader)
	t0=$(now_ms)
	pg_kill "$old" ${1#server}
	until qa vm list -f id=66 >/dev/null 2>&1; do sleep 0.05; done
	t_qa=$(($(now_ms) - t0))
	until new_session; do sleep 0.05; done
	t_s=$((S101 - t0))
	echo "   primary PostgreSQL's $1 killed -> first qa vm list $t_qa ms, first new session $t_s ms"
	cl_patroni_start "$old"
	cl_wait 60 pg_synced "$(pg_leader)"
}
failover server
failover host
failover server

# --- placement: 60 VMs through the L7Rs, one after the other ---
for id in $(q "SELECT vm_id FROM vm_runtimes WHERE vm_state <> 'stopped'"); do
	qa vm stop -f id="$id" >/dev/null
done
wait_for 120 row_is "SELECT count(*) FROM vm_runtimes WHERE vm_state <> \
	'stopped'" 0
cl_place bob bobpw 1 60
spread=$(q "SELECT string_agg(n::text, ' ' ORDER BY name) FROM (SELECT \
	h.name, count(r.vm_id) n FROM hosts h LEFT JOIN vm_runtimes r ON \
	r.host_id = h.id AND r.vm_id <= 60 GROUP BY h.name) s")
echo "   60 VMs placed through HAProxy and the L7Rs: $spread per node (even: 20)"
