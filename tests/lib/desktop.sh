# SPDX-License-Identifier: GPL-3.0-or-later
# tests/lib/desktop.sh -- connections to ann's VM $VM (1 unless set) as
# she makes them, with qvdclient or upstream's way, each timed from its
# start to the painted desktop (paint.sh, bench/client.sh, mkimage.sh).
# Sourced after node.sh, on a desk_farm; H is the user's home.

VM=${VM:-1}
ms_now() { echo $(($(date +%s%N) / 1000000)); }

# qvdclient as ann on display $1, flags after, in the background: CPID
client_on() {
	_dpy=$1; shift
	bg_in_ns env -i PATH="$PATH" HOME="$H" DISPLAY="$_dpy" QVDLOGIN=ann \
		QVDPASSWORD=secret "$QVD_BIN/qvdclient" -h 127.0.0.1 -n \
		-s "$VM" "$@" >>"$QVD_WORK/client.out" 2>&1
	CPID=$BG
}

# The desktop on display $1: nxagent's window with the session's xeyes
# (150x100; PAINTED_MARK for another desktop) inside it, as nxagent
# mirrors the session's windows.
painted() {
	in_ns env DISPLAY="$1" xwininfo -root -tree 2>/dev/null \
		>"$QVD_WORK/.tree"
	grep -q '"QVD": ("NXAgent"' "$QVD_WORK/.tree" &&
		grep -q "${PAINTED_MARK:-150x100}" "$QVD_WORK/.tree"
}
unpainted() { ! painted "$1"; }

user_state_is() {
	row_is "SELECT user_state FROM vm_runtimes WHERE vm_id = $VM" "$1"
}

vma() {	# METHOD: the VM's agent, called as the node does
	in_ns curl -s -m 10 \
		"http://$(q "SELECT ip FROM vms WHERE id = $VM"):3030/vma/$1" |
		tr -d '\r\n'
}
x_state_is() { [ "$(vma x_state)" = "\"$1\"" ]; }

# End the VM's X session, so that the next connection starts a fresh one.
end_x_session() {
	vm_state_is "$VM" running || return 0
	vma x_stop >/dev/null
	wait_for 30 x_state_is stopped
}

# Until display $1 shows the desktop (polled as fast as xwininfo goes),
# while process $2 lives, 30 s at most: 0 and TTD, the ms since T0.
await_desktop() {
	while ! painted "$1"; do
		kill -0 "$2" 2>/dev/null && [ $(($(ms_now) - T0)) -lt 30000 ] ||
			return 1
	done
	TTD=$(($(ms_now) - T0))
}

# One connection with qvdclient on display $1 (flags after): 0 and TTD if
# it painted; then it disconnects and the session is suspended.
one_client() {
	_d=$1
	T0=$(ms_now)
	client_on "$@"
	await_desktop "$_d" "$CPID"
	_r=$?
	kill -TERM "$CPID" 2>/dev/null
	wait "$CPID" 2>/dev/null
	wait_for 20 unpainted "$_d"
	wait_for 20 user_state_is disconnected
	return $_r
}

# One connection as upstream's C client makes it, on display $1: its
# request bytes (bare LF, nothing encoded: $QVD_WORK/req), then nxproxy -S
# on the tunnel's local end, and never a retry.  0 and TTD if it painted.
upstream_request() {
	printf 'GET /qvd/connect_to_vm?id=%s&qvd.client.os=linux&qvd.client.geometry=800x600&qvd.client.link=adsl&qvd.client.keyboard=pc105/en&qvd.client.fullscreen=0 HTTP/1.1\nAuthorization: Basic %s\nConnection: Upgrade\nUpgrade: QVD/1.0\n\n' \
		"$VM" "$(printf ann:secret | base64)" >"$QVD_WORK/req"
}
one_upstream() {
	mkdir -p "$QVD_WORK/x"
	T0=$(ms_now)
	: >"$QVD_WORK/t.out"
	bg_in_ns "$QVD_BIN/tests/tunnel" 127.0.0.1 8443 "$QVD_WORK/req" 14051 \
		>"$QVD_WORK/t.out" 2>&1
	_t=$BG
	until grep -q '^listening' "$QVD_WORK/t.out"; do
		kill -0 "$_t" 2>/dev/null || break
		sleep 0.01
	done
	bg_in_ns env HOME="$QVD_WORK/x" DISPLAY="$1" nxproxy -S \
		connect=127.0.0.1,port=14051 >>"$QVD_WORK/proxy.log" 2>&1
	_p=$BG
	await_desktop "$1" "$_p"
	_r=$?
	kill "$_p" 2>/dev/null
	wait "$_p" 2>/dev/null
	wait_for 10 sh -c "! kill -0 $_t 2>/dev/null"
	kill "$_t" 2>/dev/null
	wait "$_t" 2>/dev/null
	wait_for 20 unpainted "$1"
	wait_for 20 user_state_is disconnected
	return $_r
}

# The real desktop image (qvd-mkimage, its Debian tree cached in
# QVD_IMAGE_CACHE): its path, built again when qvd-vma or qvd-mkimage
# changed.  For the bench and the demo; mkimage.sh builds its own.
desktop_image() {
	_img=$QVD_BIN/desktop-image.tar.gz
	if [ ! -s "$_img" ] || [ "$QVD_BIN/qvd-vma" -nt "$_img" ] ||
	    [ "$QVD_TOP/qvd-mkimage" -nt "$_img" ]; then
		sh "$QVD_TOP/qvd-mkimage" -q -V "$QVD_BIN/qvd-vma" \
			-c "${QVD_IMAGE_CACHE:-/var/cache/qvd-mkimage}" \
			-o "$_img" || return 1
	fi
	echo "$_img"
}
DESKTOP_MARK='x26+0+[0-9]*  +0+'	# its taskbar (IceWM), along the bottom
