# SPDX-License-Identifier: GPL-3.0-or-later
# vma.sh -- qvd-vma: time from x_start to "listening" (a real nxagent),
# and its resident memory idle and while serving 100 concurrent x_state.
. "$QVD_TOP/tests/lib/bench.sh"
. "$QVD_TOP/tests/lib/vma.sh"

W=$QVD_WORK
PORT=13031
mkdir -p "$W/run" "$W/log"
cat >"$W/vma.conf" <<EOC
path.run = $W/run
log.filename = $W/log/qvd.log
log.level = WARN
vma.pid_file = $W/run/vma.pid
vma.hooks.log = $W/log/qvd-hooks.log
vma.nxagent.log = $W/log/qvd-nxagent.log
internal.vm.port.vma = $PORT
internal.nxagent.timeout.listening = 60
command.xinit =
command.x-session = /usr/bin/xeyes
vma.user.shell = /bin/sh
EOC
start_vma || { echo "qvd-vma did not start"; exit 1; }
stop_agent() {	# this VMA's nxagent, by its pid file
	[ -s "$W/run/nxagent.pid" ] && kill "$(cat "$W/run/nxagent.pid")" \
		2>/dev/null
}
trap 'stop_vma; stop_agent' EXIT
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
vma_pid=$(cat "$W/run/vma.pid")

: >"$W/start.ms"
for i in 1 2 3 4 5 6 7 8 9 10; do
	t0=$(now_ms)
	call "x_start?qvd.vm.user.name=bench" >/dev/null
	while ! state_is listening; do sleep 0.01; done
	echo $(($(now_ms) - t0)) >>"$W/start.ms"
	call x_stop >/dev/null
	while ! state_is stopped; do sleep 0.05; done
done
echo "x_start to listening (user made on the first run): $(stats_ms "$W/start.ms")"

idle=$(rss_kb "$vma_pid")
echo "resident memory idle: parent $idle kB"
peak=0
i=0
pids=""
while [ $i -lt 100 ]; do	# 100 connections held open after their answer
	(printf 'GET /vma/x_state HTTP/1.1\r\n\r\n'; sleep 6) |
		socat -t 7 - TCP:127.0.0.1:$PORT >/dev/null 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
sleep 3
for s in 1 2 3 4 5; do
	tot=0
	n=0
	pss=0
	for p in $vma_pid $(pgrep -P "$vma_pid"); do
		r=$(rss_kb "$p" 2>/dev/null || echo 0)
		v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
		tot=$((tot + ${r:-0}))
		pss=$((pss + ${v:-0}))
		n=$((n + 1))
	done
	if [ "$tot" -gt "$peak" ]; then
		peak=$tot procs=$n peak_pss=$pss
	fi
	sleep 0.1
done
# shellcheck disable=SC2086
wait $pids
echo "resident memory serving 100 concurrent x_state: $procs processes, RSS sum $peak kB, PSS sum $peak_pss kB (PSS shares the copy-on-write pages fairly)"
