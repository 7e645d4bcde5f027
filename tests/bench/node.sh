# SPDX-License-Identifier: GPL-3.0-or-later
# node.sh -- qvd-node with real LXC: stopped -> running time with the DI
# already unpacked and for a first start, the node's resident memory, and
# the database time of one loop with 10,000 VMs and 100 hosts.
# Target: warm start p50 under 0.5 s.
. "$QVD_TOP/tests/lib/tap.sh" >/dev/null
. "$QVD_TOP/tests/lib/bench.sh"
. "$QVD_TOP/tests/lib/node.sh"

trap node_cleanup EXIT
qvd-deploy-db >/dev/null
img=$(test_image)
node_setup
qa osf add name=desk >/dev/null
qa di add path="$img" osf=desk >/dev/null
qa user add login=ann password=a >/dev/null
qa vm add name=vm bulk=10 user=ann osf=desk >/dev/null
start_node
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }


time_start 1 >/dev/null	# the DI gets unpacked once
stop_vm 1
: >"$QVD_WORK/warm.ms"
: >"$QVD_WORK/cold.ms"
for i in 1 2 3 4 5 6 7 8 9 10; do
	time_start 1 >>"$QVD_WORK/warm.ms"
	stop_vm 1
done
for i in 1 2 3 4 5 6 7 8 9 10; do
	rm -rf "$STORAGE/basefs/1-test-image.tar.gz"
	time_start 1 >>"$QVD_WORK/cold.ms"
	stop_vm 1
done
echo "stopped -> running, DI already unpacked: $(stats_ms "$QVD_WORK/warm.ms")"
p50=$(sort -n "$QVD_WORK/warm.ms" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
echo "  target p50 < 500 ms: $([ "$p50" -lt 500 ] && echo met || echo NOT met)"
echo "stopped -> running, first start (unpacking $(du -h "$img" | cut -f1) DI): $(stats_ms "$QVD_WORK/cold.ms")"

echo "qvd-node resident memory idle: $(rss_kb "$NODE") kB"
qa vm start -f 'name=vm-*' >/dev/null
ten() { [ "$(q "SELECT count(*) FROM vm_runtimes WHERE vm_state =
	'running'")" = 10 ]; }
wait_for 120 ten
echo "qvd-node resident memory with 10 running VMs: $(rss_kb "$NODE") kB"
stop_node

# the loop's database time with 10,000 VMs on 100 hosts (ours is host 1)
q "INSERT INTO hosts (name, address) SELECT 'n' || i, '10.9.' || (i / 250)
	|| '.' || (i % 250 + 1) FROM generate_series(2, 100) i;
   INSERT INTO host_runtimes (host_id, state, blocked, ok_ts, usable_ram,
	usable_cpu) SELECT id, 'running', false, localtimestamp, 1000, 1000
	FROM hosts WHERE id > 1;
   INSERT INTO host_counters (host_id) SELECT id FROM hosts WHERE id > 1;
   INSERT INTO vms (name, user_id, osf_id, di_tag, ip, storage) SELECT
	'b' || i, 1, 1, 'default', '10.1.' || (i / 250) || '.' || (i % 250),
	'' FROM generate_series(11, 10000) i;
   INSERT INTO vm_runtimes (vm_id, host_id, vm_state, user_state, blocked)
	SELECT id, id % 100 + 1, 'running', 'disconnected', false FROM vms
	WHERE id > 10;
   INSERT INTO vm_counters (vm_id) SELECT id FROM vms WHERE id > 10;
   ANALYZE" >/dev/null
echo "one loop's database work, $(q "SELECT count(*) FROM vms") VMs on $(q \
	"SELECT count(*) FROM hosts") hosts ($(q "SELECT count(*) FROM
	vm_runtimes WHERE host_id = 1") on this node):"
echo "  $(in_ns qvd-node -B 200 -c "$NODE_CONF" 2>/dev/null)"
