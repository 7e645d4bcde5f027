# SPDX-License-Identifier: GPL-3.0-or-later
# paint.sh -- every connection paints, at the size asked.  On a bare X
# server that resets when its last client leaves, as a kiosk's does,
# qvdclient connects 20 times to a fresh X session and 20 times to a
# suspended one, and its reconnect-once never fires; upstream's way (its C
# client's request bytes, then nxproxy -S, never a retry) does the same
# on a display that does not reset, as a desktop's.  The window has the
# size asked (a geometry, the default, full screen, a resume from a
# smaller screen) and the session the keyboard layout sent.
. "$QVD_TOP/tests/lib/tap.sh"
. "$QVD_TOP/tests/lib/node.sh"
. "$QVD_TOP/tests/lib/desktop.sh"

H=$QVD_WORK/home
N=${QVD_PAINT_RUNS:-20}
trap node_cleanup EXIT
desk_farm
mkdir -p "$H/.qvd" "$QVD_WORK/x"
start_xvfb 1280x1024
KIOSK=$XDPY	# bare, resets when its last client leaves
start_xvfb 1024x768 -noreset
DESK=$XDPY	# as a desktop's X server, which always has clients
start_xvfb 800x600
SMALL=$XDPY	# bare
LOG=$H/.qvd/qvd-client.log

# --- qvdclient on a bare, resetting X server: N fresh, N resumed ---
fresh=0 resumed=0 i=0
while [ $i -lt "$N" ]; do
	end_x_session
	one_client $KIOSK && fresh=$((fresh + 1))
	one_client $KIOSK && resumed=$((resumed + 1))
	i=$((i + 1))
done
t_is "a kiosk's X server: $N fresh sessions, every one painted" $fresh "$N"
t_is "and $N resumed, every one painted" $resumed "$N"
t_is "qvdclient's reconnect-once never fired" \
	"$(grep -c 'connecting once more' "$LOG")" 0
t_like "it held the display itself" "$(cat "$LOG")" \
	"no window manager holds the display"

# --- upstream's way on a desktop's X server: no retry at all ---
upstream_request
fresh=0 resumed=0 i=0
while [ $i -lt "$N" ]; do
	end_x_session
	one_upstream $DESK && fresh=$((fresh + 1))
	one_upstream $DESK && resumed=$((resumed + 1))
	i=$((i + 1))
done
t_is "upstream's client, a desktop's X server: $N fresh, all painted" \
	$fresh "$N"
t_is "and $N resumed, all painted" $resumed "$N"

# --- the size asked for, on the kiosk's 1280x1024 screen ---
# one fresh session on display $1 with the flags after, left connected
fresh_on() {
	_d=$1
	end_x_session
	client_on "$@"
	wait_for 30 painted "$_d"
}
disconnect() {
	kill -TERM "$CPID" 2>/dev/null
	wait "$CPID" 2>/dev/null
	wait_for 20 user_state_is disconnected
}
fresh_on $KIOSK -g 800x600
t_is "-g 800x600: an 800x600 window" "$(agent_window $KIOSK)" 800x600
disconnect
fresh_on $KIOSK
t_is "the default geometry: 1024x768, not 3/4 of the screen" \
	"$(agent_window $KIOSK)" 1024x768
vm_root() {	# the session's own screen, seen inside the VM
	in_vm 1 env DISPLAY=:100 xdpyinfo 2>/dev/null |
		sed -n 's/.*dimensions: *\([0-9]*x[0-9]*\) pixels.*/\1/p'
}
t_is "and the session's screen is as large" "$(vm_root)" 1024x768
disconnect
fresh_on $KIOSK -f
t_is "-f: the whole screen" "$(agent_window $KIOSK)" 1280x1024
disconnect

# --- a resume from a smaller screen fits it ---
fresh_on $KIOSK -g 1024x768
disconnect
client_on $SMALL -g 1024x768
fits() { [ "$(agent_window $SMALL)" = 800x600 ] && [ "$(vm_root)" = 800x600 ]; }
t_ok "resumed on an 800x600 screen, the desktop is 800x600" wait_for 20 fits
t_like "qvdclient says it resized the window" "$(cat "$LOG")" \
	"resized from [0-9]+x[0-9]+ to 800x600"
disconnect

# --- the keyboard layout sent is the session's ---
layout() { in_vm 1 env DISPLAY=:100 setxkbmap -query 2>/dev/null |
	sed -n 's/^layout: *//p'; }
echo "client.keyboard = pc105/de" >"$H/.qvd/client.conf"
fresh_on $KIOSK
t_is "client.keyboard pc105/de: the session's layout is de" "$(layout)" de
disconnect
rm "$H/.qvd/client.conf"
in_ns env DISPLAY=$DESK setxkbmap -layout fr	# it keeps it: -noreset
fresh_on $DESK
t_is "by default the user's own layout (fr) is the session's" "$(layout)" fr
t_like "as qvdclient logged" "$(cat "$LOG")" "keyboard: pc105/fr"
disconnect
t_done
