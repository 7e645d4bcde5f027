# SPDX-License-Identifier: GPL-3.0-or-later
# tests/lib/bench.sh -- timing helpers for tests/bench/*.sh (sourced).

PATH="$QVD_BIN:$PATH"
export PATH

q() {
	psql -X -q -At -h "$QVD_PGHOST" -U qvd \
		"$(sed -n 's/^database.name = //p' "$QVD_CONF")" -c "$1"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# median_ms RUNS CMD...: the median wall time of CMD in milliseconds.
median_ms() {
	_runs=$1; shift
	_i=0
	: >"$QVD_WORK/.times"
	while [ $_i -lt "$_runs" ]; do
		_t0=$(date +%s%N)
		"$@" >/dev/null 2>&1
		_t1=$(date +%s%N)
		echo $(((_t1 - _t0) / 1000)) >>"$QVD_WORK/.times"
		_i=$((_i + 1))
	done
	sort -n "$QVD_WORK/.times" | awk '{ a[NR] = $1 } END {
		m = a[int((NR + 1) / 2)]; printf "%.1f\n", m / 1000 }'
}

# stats_ms FILE: "p50 X ms, p95 Y ms, max Z ms" of values in ms (one a line)
stats_ms() {
	sort -n "$1" | awk '{ a[NR] = $1 } END {
		if (NR == 0) { print "no samples"; exit }
		p50 = a[int((NR + 1) / 2)]; p95 = a[int(NR * 0.95 + 0.999)]
		printf "p50 %.1f ms, p95 %.1f ms, max %.1f ms (n=%d)\n",
			p50, p95, a[NR], NR }'
}

# big_farm: 10,000 VMs (a third running), 100 running hosts, 1,000 users,
# one OSF and DI, straight into the database.
big_farm() {
	q "INSERT INTO hosts (name, address) SELECT 'node' || i, '10.0.' || (i / 250)
		|| '.' || (i % 250 + 1) FROM generate_series(1, 100) i;
	   INSERT INTO host_runtimes (host_id, state, blocked, usable_ram, usable_cpu,
		ok_ts) SELECT id, 'running', false, 16000, 8000, localtimestamp
		FROM hosts;
	   INSERT INTO host_counters (host_id) SELECT id FROM hosts;
	   INSERT INTO users (login, password) SELECT 'user' || i, 'x'
		FROM generate_series(1, 1000) i;
	   INSERT INTO osfs (name, memory, use_overlay) VALUES ('desk', 512, true);
	   INSERT INTO dis (osf_id, path, version) VALUES (1, '1-desk.tar', 'v1');
	   INSERT INTO di_tags (di_id, tag, fixed) VALUES (1, 'v1', true),
		(1, 'default', false), (1, 'head', false);
	   INSERT INTO vms (name, user_id, osf_id, di_tag, ip, storage)
		SELECT 'vm' || i, i % 1000 + 1, 1, 'default', '10.1.' || (i / 250) ||
		'.' || (i % 250 + 1), '' FROM generate_series(1, 10000) i;
	   INSERT INTO vm_runtimes (vm_id, host_id, vm_state, user_state, blocked,
		current_di_id) SELECT id, CASE WHEN id % 3 = 0 THEN id % 100 + 1 END,
		CASE WHEN id % 3 = 0 THEN 'running' ELSE 'stopped' END,
		'disconnected', false, CASE WHEN id % 3 = 0 THEN 1 END FROM vms;
	   INSERT INTO vm_counters (vm_id) SELECT id FROM vms;
	   ANALYZE" >/dev/null
}

# time_start ID: ms from qa vm start to running (node benches).
time_start() {
	_t0=$(now_ms)
	qa vm start -f id="$1" >/dev/null
	while ! vm_state_is "$1" running; do sleep 0.01; done
	echo $(($(now_ms) - _t0))
}
stop_vm() {	# ID: stopped again (up to 120 s)
	qa vm stop -f id="$1" >/dev/null
	wait_for 120 vm_state_is "$1" stopped
}
