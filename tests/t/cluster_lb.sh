# SPDX-License-Identifier: GPL-3.0-or-later
# cluster_lb.sh -- where the L7Rs of a three-node farm start VMs (manual
# 11.3): spread evenly over equal nodes, following the weights of free
# RAM and CPU each node reports live, never on a blocked node.
. "$QVD_TOP/tests/lib/tap.sh"
. "$QVD_TOP/tests/lib/pg.sh"
. "$QVD_TOP/tests/lib/node.sh"
. "$QVD_TOP/tests/lib/cluster.sh"

trap cl_cleanup EXIT
img=$(test_image) || exit 1
t_ok "a farm of three nodes behind HAProxy" cl_up 3
qa osf add name=desk >/dev/null
qa di add path="$img" osf=desk >/dev/null
for i in 1 2 3; do cl_start_node "$i"; done
cl_haproxy 1 2 3
qa user add login=bob password=bobpw >/dev/null
i=0
while [ $i -lt 96 ]; do
	i=$((i + 1))
	qa vm add name="vm$i" user=bob osf=desk >/dev/null
done
t_is "bob has 96 VMs, all stopped" \
	"$(q "SELECT count(*) FROM vm_runtimes WHERE vm_state = 'stopped'")" 96

connect_range() { cl_place bob bobpw "$1" "$2"; }
on_node() {	# VMs $2..$3 placed on node $1
	q "SELECT count(*) FROM vm_runtimes r JOIN hosts h ON h.id = r.host_id \
		WHERE h.name = 'node$1' AND r.vm_id BETWEEN $2 AND $3"
}
spread() { echo "$(on_node 1 "$1" "$2") $(on_node 2 "$1" "$2") $(on_node 3 "$1" "$2")"; }
within() {	# counts "a b c", expected each, tolerance
	for _c in $1; do
		[ "$_c" -ge $(($2 - $3)) ] && [ "$_c" -le $(($2 + $3)) ] ||
			return 1
	done
}

# --- equal nodes: an even spread ---
connect_range 1 60
s=$(spread 1 60)
t_is "all 60 placed" "$(q "SELECT count(*) FROM vm_runtimes WHERE \
	host_id IS NOT NULL AND vm_id <= 60")" 60
t_ok "spread over the three nodes within 20 % (20 +- 4 each: $s)" \
	within "$s" 20 4
echo "# placement spread of 60 VMs over 3 equal nodes: $s"
t_ok "the L7Rs that placed them were all three (HAProxy round robin)" \
	sh -c "[ \$(grep -l 'went away; VM' $CL/node1.log $CL/node2.log \
	$CL/node3.log | wc -l) = 3 ]"
t_ok "they start (without X sessions: the client went away)" \
	wait_for 180 row_is "SELECT count(*) FROM vm_runtimes WHERE \
	vm_state = 'running' AND vm_id <= 60" 60
wait_for 60 row_is "SELECT count(*) FROM vm_runtimes WHERE vm_id <= 60 AND \
	user_state <> 'disconnected'" 0
t_is "no session is left behind" "$(q "SELECT string_agg(vm_id || ' ' || \
	user_state || ' ' || coalesce(l7r_pid::text, '-'), ', ') FROM \
	vm_runtimes WHERE vm_id <= 60 AND user_state <> 'disconnected'")" ""
t_is "and no X session was started for nobody (VM 1's agent says)" \
	"$(in_node 1 curl -s -m 5 "http://$(q "SELECT ip FROM vms WHERE \
	id = 1"):3030/vma/x_state" | tr -d '\r\n')" '"stopped"'

# --- node2 has little free RAM: with RAM weighed, it gets nothing ---
echo "MemTotal: 4194304 kB
MemFree: 1048576 kB
MemAvailable: 1048576 kB" >"$CL/meminfo-small"
nsenter -t "$(node_pid 2)" -m mount --bind "$CL/meminfo-small" /proc/meminfo
small() { row_is "SELECT usable_ram < 1100 FROM host_runtimes WHERE \
	host_id = (SELECT id FROM hosts WHERE name = 'node2')" t; }
t_ok "node2 reports its free RAM live (1 GB now)" wait_for 10 small
qa config set l7r.loadbalancer.plugin.default.weight.ram=10 \
	l7r.loadbalancer.plugin.default.weight.cpu=1 >/dev/null
connect_range 61 75
s=$(spread 61 75)
# (then the nodes idle again: their idle CPU weighs in the next round)
wait_for 120 row_is "SELECT count(*) FROM vm_runtimes WHERE vm_state = \
	'running'" 75
t_is "RAM weighed: node2 gets none of the next 15 ($s)" \
	"$(on_node 2 61 75)" 0
qa config set l7r.loadbalancer.plugin.default.weight.ram=0 >/dev/null
connect_range 76 90
s=$(spread 76 90)
# (idle CPU is measured by each node over its own last seconds: noisy)
t_ok "RAM weight 0 (CPU only, equal): node2, with the fewest VMs, gets at least its third of the next 15 ($s)" \
	test "$(on_node 2 76 90)" -ge 5

# --- a blocked node gets none ---
qa host block -f name=node1 >/dev/null
t_ok "node1 blocked: HAProxy's health check takes it out" \
	wait_for 10 grep -q "node1 is DOWN" "$CL/haproxy.log"
connect_range 91 96
t_is "node1 blocked: none of the last 6" "$(on_node 1 91 96)" 0
t_is "all 6 placed elsewhere" "$(q "SELECT count(*) FROM vm_runtimes WHERE \
	host_id IS NOT NULL AND vm_id > 90")" 6
t_done
