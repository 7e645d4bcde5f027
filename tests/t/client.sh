# SPDX-License-Identifier: GPL-3.0-or-later
# client.sh -- qvdclient end to end: qa sets a farm up, the client starts
# the stopped VM and its desktop is painted into the user's Xvfb; resume,
# the administrator's disconnect, maintenance, the errors and exit codes,
# settings layering, certificates, and the static aarch64 build.
. "$QVD_TOP/tests/lib/tap.sh"
. "$QVD_TOP/tests/lib/node.sh"

H=$QVD_WORK/home
trap node_cleanup EXIT
desk_farm
mkdir -p "$H"
start_xvfb
DPY=$XDPY

# the user's machine: its own HOME and DISPLAY, nothing inherited
CENV=
client() {
	# shellcheck disable=SC2086
	in_ns env -i PATH="$PATH" HOME="$H" DISPLAY=$DPY $CENV \
		"$QVD_BIN/qvdclient" -h 127.0.0.1 "$@"
}
ann() { CENV="QVDLOGIN=ann QVDPASSWORD=secret" client "$@"; }
# ann's qvdclient in the background: its pid in CPID, its output in $1
ann_bg() {
	_o=$1; shift
	bg_in_ns env -i PATH="$PATH" HOME="$H" DISPLAY=$DPY QVDLOGIN=ann \
		QVDPASSWORD=secret "$QVD_BIN/qvdclient" -h 127.0.0.1 "$@" \
		>"$_o" 2>&1
	CPID=$BG
}
painted() {
	in_ns env DISPLAY=$DPY xwininfo -root -tree | grep -q '"QVD": ("NXAgent"'
}
unpainted() { ! painted; }
agent() {	# VM 1's nxagent, not another's: the container's and its own pid
	echo "$(q "SELECT vm_pid FROM vm_runtimes WHERE vm_id = 1")/$(in_vm 1 \
		cat /run/qvd/nxagent.pid)"
}
stop_client() { kill -TERM "$1"; }

# --- arguments ---
t_like "-v prints the version" "$("$QVD_BIN/qvdclient" -v)" '^qvdclient 3\.5'
t_like "-? prints the options" "$("$QVD_BIN/qvdclient" -?)" '-r : stops'
t_status "an unknown option: exit 2" 2 "$QVD_BIN/qvdclient" -z
t_is "with one line naming it" "$("$QVD_BIN/qvdclient" -z 2>&1)" \
	"qvdclient: unknown option -z (-? shows the options)"
t_is "no host: exit 2, saying so" \
	"$(env -i HOME="$H" "$QVD_BIN/qvdclient" -u a -w b -l 2>&1; echo $?)" \
	"qvdclient: no host: use -h, QVDHOST or client.host.name
2"
t_is "no password and no terminal: exit 2" \
	"$(client -u ann -l </dev/null 2>&1; echo $?)" \
	"qvdclient: no password: use -w, QVDPASSWORD or a terminal
2"
t_status "unreachable host: exit 3" 3 client -p 1 -u ann -w secret -l

# --- the certificate: verified unless -n; accepted on a terminal ---
t_status "an unknown certificate, no terminal: exit 4" 4 \
	ann -l </dev/null
t_like "saying why" "$(ann -l </dev/null 2>&1)" \
	"certificate is not trusted \\(self[- ]signed certificate\\)"
t_status "-n skips the check" 0 ann -n -l
out=$(echo y | script -qec "ip netns exec $NS env -i PATH=$PATH HOME=$H \
	QVDLOGIN=ann QVDPASSWORD=secret $QVD_BIN/qvdclient -h 127.0.0.1 -l" \
	/dev/null)
t_like "on a terminal it is shown with its fingerprint" "$out" \
	"SHA-256: +([0-9A-F]{2}:){31}[0-9A-F]{2}"
t_like "and, accepted, stored" "$out" "certificate stored in $H/.qvd/certs/"
t_status "then trusted without asking" 0 ann -l </dev/null

# --- login, listing ---
t_status "a wrong password: exit 5" 5 client -u ann -w nope -l
t_is "with the 401 message" "$(client -u ann -w nope -l 2>&1)" \
	"qvdclient: login failed for ann at 127.0.0.1: wrong user name or password"
t_is "-l lists the VMs as a table" "$(client -u bob -w bobpw -l)" \
"Id     Name                     State      Blocked
2      bob-0                    stopped    0
3      bob-1                    stopped    0"
t_status "no VMs: exit 6" 6 client -u carl -w carlpw
t_status "several VMs, none chosen, no terminal: exit 2" 2 \
	client -u bob -w bobpw </dev/null
t_status "-s with a VM that is not theirs: exit 6" 6 \
	client -u bob -w bobpw -s 1

# --- settings: flag > environment > ~/.qvd/client.conf > /etc ---
mkdir -p "$H/.qvd"
printf 'client.host.name = nowhere.invalid\nclient.user.name = bob\n' \
	>"$H/.qvd/client.conf"
t_like "client.conf supplies the user" "$(in_ns env -i PATH="$PATH" \
	HOME="$H" QVDPASSWORD=bobpw QVDHOST=127.0.0.1 "$QVD_BIN/qvdclient" -l)" \
	"bob-1"
t_like "the environment beats the file" "$(in_ns env -i PATH="$PATH" \
	HOME="$H" QVDPASSWORD=secret QVDHOST=127.0.0.1 QVDLOGIN=ann \
	"$QVD_BIN/qvdclient" -l)" "ann-desk"
t_like "a flag beats the environment" "$(in_ns env -i PATH="$PATH" \
	HOME="$H" QVDPASSWORD=secret QVDHOST=nowhere.invalid QVDLOGIN=bob \
	"$QVD_BIN/qvdclient" -h 127.0.0.1 -u ann -l)" "ann-desk"
printf 'client.link = warp\n' >"$H/.qvd/client.conf"
t_is "a bad link in client.conf: exit 2, naming it" "$(ann -o 2>&1; echo $?)" \
	"qvdclient: bad link 'warp': use modem, isdn, adsl, wan, lan, local or a bandwidth such as 2m
2"
printf 'client.geometry = 800x600\nbogus line\n' >"$H/.qvd/client.conf"
out=$(ann -l 2>&1)
t_is "a broken client.conf: exit 2" "$?" 2
t_like "naming file and line" "$out" "/\\.qvd/client\\.conf:2: "
rm "$H/.qvd/client.conf"

# --- from a stopped VM to a desktop on the user's screen ---
t_is "the VM is stopped" "$(vm_state 1)" stopped
ann_bg "$QVD_WORK/c1.out" -o -g 800x600
C1=$CPID
t_ok "qvdclient paints the VM's desktop into the user's Xvfb" \
	wait_for 90 painted
t_like "showing each step" "$(cat "$QVD_WORK/c1.out")" \
	"Starting virtual machine.*
.*Connection established"
t_is "the VM runs, the session is connected" \
	"$(q "SELECT vm_state || ' ' || user_state FROM vm_runtimes WHERE vm_id = 1")" \
	"running connected"
t_like "the client's geometry and link reached nxagent's options" \
	"$(in_vm 1 cat /var/run/qvd/nxagent.conf)" \
	"link=adsl,.*geometry=800x600|geometry=800x600.*link=adsl"
no_secret() {	# qvdclient and its children (nxproxy, the display's holder)
	_kids=$(pgrep -P "$C1")
	for p in $C1 $_kids; do
		cat /proc/$p/cmdline /proc/$p/environ
	done | tr '\0' '\n' | grep -q secret && return 1
	for p in $_kids; do
		grep -q '^nxproxy' /proc/$p/cmdline && return 0
	done
	return 1
}
t_ok "the password is in no process's argv or environment" no_secret
first_agent=$(agent)

# --- disconnect, reconnect: the same session resumes ---
stop_client "$C1"
wait "$C1"
t_is "SIGTERM disconnects: exit 0" "$?" 0
t_ok "the desktop is gone from the screen" wait_for 10 unpainted
t_ok "the session is suspended, not ended" wait_for 20 row_is \
	"SELECT user_state FROM vm_runtimes WHERE vm_id = 1" disconnected
ann_bg "$QVD_WORK/c2.out" -o
C2=$CPID
t_ok "reconnecting paints it again" wait_for 60 painted
t_is "with the same nxagent: resumed, not restarted" "$(agent)" "$first_agent"

# --- another client takes the session over ---
ann_bg "$QVD_WORK/c3.out" -o
C3=$CPID
wait_for 60 sh -c "! kill -0 $C2 2>/dev/null"
wait "$C2"
t_is "the first client is told another took over: exit 12" "$?" 12
t_like "saying so" "$(cat "$QVD_WORK/c2.out")" \
	"another client took the session over"
t_ok "the second is connected" wait_for 60 row_is \
	"SELECT user_state FROM vm_runtimes WHERE vm_id = 1" connected

# --- the administrator ends it ---
wait_for 30 painted
qa vm disconnect_user -f id=1 >/dev/null
wait_for 10 sh -c "! kill -0 $C3 2>/dev/null"
wait "$C3"
t_is "qa vm disconnect_user ends the client: exit 11" "$?" 11
t_like "with its message" "$(cat "$QVD_WORK/c3.out")" \
	"qvdclient: the administrator ended the session"

# --- maintenance, a blocked node, a VM that cannot start ---
wait_for 10 row_is "SELECT user_state FROM vm_runtimes WHERE vm_id = 1" \
	disconnected
qa vm block -f id=1 >/dev/null
t_is "a blocked VM: the maintenance message, exit 7" "$(ann -o 2>&1; echo $?)" \
"qvdclient: The requested virtual machine is offline for maintenance
7"
qa vm unblock -f id=1 >/dev/null
qa host block -f name=node1 >/dev/null
blocked() { [ "$(in_ns curl -sk -o /dev/null -w '%{http_code}' \
	https://127.0.0.1:8443/qvd/ping)" = 503 ]; }
wait_for 10 blocked
t_is "a blocked node: exit 8 with the reason" "$(ann -n -l 2>&1; echo $?)" \
"qvdclient: the server is not available: Server is blocked
8"
qa host unblock -f name=node1 >/dev/null
wait_for 10 sh -c "[ \"\$(ip netns exec $NS curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1:8443/qvd/ping)\" = 200 ]"
qa osf add name=empty >/dev/null
qa vm add name=broken user=carl osf=empty >/dev/null
t_is "a VM that cannot start: exit 9 with the reason" \
	"$(client -u carl -w carlpw 2>/dev/null; echo $?)" 9
t_like "naming the failure" "$(client -u carl -w carlpw 2>&1)" \
	"virtual machine (is not available|is offline)"

# --- nxproxy missing ---
mkdir -p "$QVD_WORK/nopath"
ln -sf "$(command -v env)" "$QVD_WORK/nopath/env"
out=$(in_ns env -i PATH="$QVD_WORK/nopath" HOME="$H" DISPLAY=$DPY \
	QVDLOGIN=ann QVDPASSWORD=secret "$QVD_BIN/qvdclient" -h 127.0.0.1 -o \
	2>&1)
t_is "nxproxy missing: exit 10" "$?" 10
t_is "saying so" "$(echo "$out" | tail -1)" \
	"qvdclient: cannot run nxproxy: No such file or directory (is nxproxy installed?)"

# --- the user's display, opened before the server is asked anything ---
wait_for 20 row_is "SELECT user_state FROM vm_runtimes WHERE vm_id = 1" \
	disconnected
on_display() {	# DISPLAY, then flags: qvdclient's message and exit status
	_d=$1; shift
	in_ns env -i PATH="$PATH" HOME="$H" ${_d:+DISPLAY=$_d} QVDLOGIN=ann \
		QVDPASSWORD=secret "$QVD_BIN/qvdclient" -h 127.0.0.1 "$@" \
		2>&1 </dev/null
	echo $?
}
t_is "no X server at DISPLAY: exit 10, saying so" "$(on_display :99 -o)" \
	"qvdclient: cannot open the X display ':99': No such file or directory
10"
t_is "no DISPLAY at all" "$(on_display "" -o)" "qvdclient: DISPLAY is not set
10"
t_is "a DISPLAY that is not one" "$(on_display nonsense -o)" \
	"qvdclient: DISPLAY 'nonsense' is not of the form [host]:N[.S]
10"
t_like "listing needs no display" "$(on_display "" -l)" "ann-desk"
t_is "and nothing was started" "$(vm_state 1) $(q "SELECT user_state FROM
	vm_runtimes WHERE vm_id = 1")" "running disconnected"

# An X server that wants a cookie: qvdclient finds it through XAUTHORITY,
# as Xlib does (the entry xauth writes for this host's name).  nxproxy
# forwards nxagent's own connection without it (as upstream's does): the
# server must also let the user's local processes in, as display
# managers do (xhost +si:localuser:USER).
XA=$QVD_WORK/xauthority
cookie=$(openssl rand -hex 16)
in_ns xauth -f "$XA" add :0 MIT-MAGIC-COOKIE-1 "$cookie" # the server's
XAUTHORITY=$XA start_xvfb 1024x768 -auth "$XA" -noreset	# a desktop's
AD=$XDPY
in_ns xauth -f "$XA" add "$AD" MIT-MAGIC-COOKIE-1 "$cookie"	# the user's
t_like "without the cookie it is refused: exit 10" "$(on_display $AD -o)" \
	"^qvdclient: cannot open the X display '$AD': it refused the connection: [A-Za-z].+
10$"
cookie_client() {
	bg_in_ns env -i PATH="$PATH" HOME="$H" DISPLAY=$AD XAUTHORITY="$XA" \
		QVDLOGIN=ann QVDPASSWORD=secret "$QVD_BIN/qvdclient" \
		-h 127.0.0.1 -o >"$QVD_WORK/c5.out" 2>&1
	C5=$BG
}
cookie_client
wait "$C5"
t_like "with XAUTHORITY it opens the display, nxproxy alone cannot" \
	"$?:$(grep -c "display $AD: 1024x768" "$H/.qvd/qvd-client.log")" \
	'^(9|10):1$'	# nxproxy failed, or the VM when asked again at once
in_ns env XAUTHORITY="$XA" DISPLAY=$AD xhost +si:localuser:root >/dev/null
wait_for 20 row_is "SELECT user_state FROM vm_runtimes WHERE vm_id = 1" \
	disconnected
cookie_client
cookie_painted() {
	in_ns env XAUTHORITY="$XA" DISPLAY=$AD xwininfo -root -tree |
		grep -q '"QVD": ("NXAgent"'
}
t_ok "with local users let in too, it paints there" wait_for 30 \
	cookie_painted
stop_client "$C5"
wait "$C5"
t_is "and disconnects: exit 0" "$?" 0

# --- -r: the VM is stopped first, then connected to afresh ---
wait_for 20 row_is "SELECT user_state FROM vm_runtimes WHERE vm_id = 1" \
	disconnected
before=$(agent)
ann_bg "$QVD_WORK/c4.out" -o -r
C4=$CPID
t_ok "-r stops the VM and connects to a fresh one" wait_for 120 painted
t_like "saying it stopped it" "$(cat "$QVD_WORK/c4.out")" "stopping VM 1"
t_ok "a new nxagent" test "$(agent)" != "$before"
stop_client "$C4"
wait "$C4"

# --- the static client for the Raspberry Pi, under qemu ---
if [ -x "$QVD_BIN/qvdclient-aarch64" ]; then
	t_like "the aarch64 build is a static ARM executable" \
		"$(file -L "$QVD_BIN/qvdclient-aarch64")" \
		"ARM aarch64.*statically linked"
	t_like "-v under qemu-aarch64-static" \
		"$(qemu-aarch64-static "$QVD_BIN/qvdclient-aarch64" -v)" \
		'^qvdclient 3\.5'
	t_like "-l against the live L7R" "$(in_ns env -i HOME="$H" \
		qemu-aarch64-static "$QVD_BIN/qvdclient-aarch64" -h 127.0.0.1 \
		-u bob -w bobpw -l)" "3 +bob-1 +stopped"
else
	t_ok "the aarch64 client was built (make static-client)" false
fi
t_like "the x86_64 build is static" "$(file -L "$QVD_BIN/qvdclient-static")" \
	"statically linked"
t_done
