# SPDX-License-Identifier: GPL-3.0-or-later
# client.sh -- time to desktop (from the client's start to the VM's
# desktop on the user's screen) and failures, over many connections:
# qvdclient on a bare X server that resets when its last client leaves
# (a kiosk's), fresh X sessions and resumed ones, 100 each; upstream's way
# (its C client's request bytes, then nxproxy -S, never a retry) on a
# display that does not reset, the same.  Targets for the test image:
# no failures, p50 under 300 ms resumed and under 1 s fresh, p95 within
# twice the p50.  Then a stopped VM, link=lan, a real desktop image from
# qvd-mkimage (cold and resumed), and the tunnel's bytes for a minute of X
# work at link=modem and link=lan.
. "$QVD_TOP/tests/lib/tap.sh" >/dev/null
. "$QVD_TOP/tests/lib/bench.sh"
. "$QVD_TOP/tests/lib/node.sh"
. "$QVD_TOP/tests/lib/desktop.sh"

W=$QVD_WORK
H=$W/home
RUNS=${QVD_BENCH_RUNS:-100}
trap node_cleanup EXIT
desk_farm
mkdir -p "$H/.qvd"
start_xvfb 1024x768
KIOSK=$XDPY
start_xvfb 1024x768 -noreset
DESK=$XDPY
upstream_request

# loop NAME KIND DISPLAY [N]: N (RUNS) fresh and N resumed connections
# with one_KIND; the figures of each.
loop() {
	_n=${4:-$RUNS}
	: >"$W/fresh.ms"
	: >"$W/resumed.ms"
	_ff=0 _fr=0 _i=0
	while [ $_i -lt "$_n" ]; do
		end_x_session
		if "one_$2" "$3"; then echo "$TTD" >>"$W/fresh.ms"
		else _ff=$((_ff + 1)); fi
		if "one_$2" "$3"; then echo "$TTD" >>"$W/resumed.ms"
		else _fr=$((_fr + 1)); fi
		_i=$((_i + 1))
	done
	echo "$1, fresh X session: $_ff failures of $_n; $(stats_ms "$W/fresh.ms")"
	echo "$1, resumed session: $_fr failures of $_n; $(stats_ms "$W/resumed.ms")"
}

one_client "$KIOSK" >/dev/null	# warm up: the first start unpacks the image
loop "qvdclient on a kiosk's X server" client "$KIOSK"
echo "  qvdclient's reconnect-once fired $(grep -c 'connecting once more' \
	"$H/.qvd/qvd-client.log") times (target 0)"
loop "upstream's client on a desktop's X server" upstream "$DESK"

: >"$W/stopped.ms"
for i in 1 2 3 4 5 6 7 8 9 10; do
	qa vm stop -f id=1 >/dev/null
	wait_for 60 vm_state_is 1 stopped
	wait_for 60 sh -c "! ip netns exec $NS lxc-info -n qvd-1 \
		-P $QVD_WORK/run/lxc -s 2>/dev/null | grep -q RUNNING"
	one_client "$KIOSK" && echo "$TTD" >>"$W/stopped.ms"
done
echo "qvdclient, stopped VM (started on demand): $(stats_ms "$W/stopped.ms") (target p50 < 1500 ms)"

echo "client.link = lan" >"$H/.qvd/client.conf"
: >"$W/lan.ms"
f=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	if one_client "$KIOSK"; then echo "$TTD" >>"$W/lan.ms"
	else f=$((f + 1)); fi
done
rm "$H/.qvd/client.conf"
echo "qvdclient, resumed, link=lan: $f failures of 10; $(stats_ms "$W/lan.ms")"

# One minute of X work inside the VM: every second, x11perf draws text,
# rectangles, images and copies on the session's display (reached from the
# VM's network namespace), at each link setting.
workload() {
	pid=$(q "SELECT vm_pid FROM vm_runtimes WHERE vm_id = 1")
	end=$(($(ms_now) + 60000))
	while [ "$(ms_now)" -lt $end ]; do
		nsenter -t "$pid" -n env DISPLAY=:100 x11perf -repeat 1 \
			-reps 40 -ftext -rect100 -putimage100 -copywinwin100 \
			>/dev/null 2>&1
		sleep 1
	done
}
for link in modem lan; do
	echo "client.link = $link" >"$H/.qvd/client.conf"
	client_on "$KIOSK"
	wait_for 60 painted "$KIOSK"
	workload
	kill -TERM "$CPID"
	wait "$CPID"
	wait_for 20 user_state_is disconnected
	b=$(sed -n 's/.*session ended: \([0-9]*\) bytes from the server, \([0-9]*\) to it.*/\1 \2/p' \
		"$H/.qvd/qvd-client.log" | tail -1)
	echo "$link: $(echo "$b" | awk '{ printf "%d bytes from the VM, %d to it in one minute of X work (%.1f kB/s down)", $1, $2, $1 / 60 / 1024 }')"
done
rm "$H/.qvd/client.conf"

# A real desktop from qvd-mkimage: painted when its panel is.
if img=$(desktop_image 2>"$W/mkimage.log"); then
	qa osf add name=real >/dev/null
	qa di add path="$img" osf=real >/dev/null
	qa vm add name=ann-real user=ann osf=real >/dev/null
	VM=$(q "SELECT id FROM vms WHERE name = 'ann-real'")
	PAINTED_MARK=$DESKTOP_MARK
	one_client "$KIOSK" >/dev/null	# unpacks the image
	loop "real desktop (qvd-mkimage, IceWM)" client "$KIOSK" 10
else
	echo "real desktop: no image ($(tail -1 "$W/mkimage.log"))"
fi
