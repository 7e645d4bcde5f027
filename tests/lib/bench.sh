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
