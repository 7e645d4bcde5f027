# SPDX-License-Identifier: GPL-3.0-or-later
# vma.sh -- qvd-vma on loopback drives a real nxagent: x_start, a real
# nxproxy painting into Xvfb, suspend, resume, stop; hooks and their argv;
# user provisioning; bad requests.  The VMA runs in a mount namespace with
# /etc overlaid and /home on tmpfs, so the users it creates stay there.
. "$QVD_TOP/tests/lib/tap.sh"
. "$QVD_TOP/tests/lib/vma.sh"

W=$QVD_WORK
PORT=13030
mkdir -p "$W/run" "$W/log" "$W/hooks" "$W/x"

# A hook that records its argv, one argument per line, in $W/hooks/NAME.
for h in pre_connect connect stop suspend poweroff expire connected \
	suspended disconnected add_user after_add_user mount_home; do
	cat >"$W/hooks/$h" <<EOH
#!/bin/sh
for a in "\$@"; do echo "\$a"; done >"$W/hooks/$h.argv"
EOH
	chmod +x "$W/hooks/$h"
done
printf '#!/bin/sh\necho pre-connect says no >&2\nexit 3\n' >"$W/hooks/refuse"
printf '#!/bin/sh\nsleep 60\n' >"$W/hooks/hang"
printf '#!/bin/sh\ntouch %s/powered-off\n' "$W" >"$W/hooks/poweroff-cmd"
chmod +x "$W/hooks/refuse" "$W/hooks/hang" "$W/hooks/poweroff-cmd"

conf() {	# extra lines for vma.conf
	cat >"$W/vma.conf" <<EOC
path.run = $W/run
log.filename = $W/log/qvd.log
log.level = DEBUG
vma.pid_file = $W/run/vma.pid
vma.hooks.log = $W/log/qvd-hooks.log
vma.nxagent.log = $W/log/qvd-nxagent.log
vma.hooks.timeout = 2
internal.vm.port.vma = $PORT
command.xinit =
command.x-session = /usr/bin/xeyes
command.poweroff = $W/hooks/poweroff-cmd
vma.user.shell = /bin/sh
vma.on_action.connect = $W/hooks/connect
vma.on_action.stop = $W/hooks/stop
vma.on_action.poweroff = $W/hooks/poweroff
vma.on_action.expire = $W/hooks/expire
vma.on_state.connected = $W/hooks/connected
vma.on_state.suspended = $W/hooks/suspended
vma.on_state.disconnected = $W/hooks/disconnected
vma.on_provisioning.after_add_user = $W/hooks/after_add_user
$1
EOC
}

inside() { nsenter -t "$VMA" -m "$@"; }

# Only what this test started, by pid: other people's nxagents and X
# servers may run on this machine.
cleanup() {
	stop_vma
	for p in ${PROXY:-} ${XVFB:-}; do
		kill "$p" 2>/dev/null
	done
	[ -s "$W/run/nxagent.pid" ] && kill "$(cat "$W/run/nxagent.pid")" \
		2>/dev/null
}
trap cleanup EXIT

conf "vma.on_action.pre-connect = $W/hooks/pre_connect"
t_ok "qvd-vma -n checks the configuration" qvd-vma -n -c "$W/vma.conf"
start_vma
t_is "ping" "$(call ping)" "null"
t_is "x_state before anything" "$(call x_state)" '"stopped"'
t_is "x_start" "$(call 'x_start?qvd.vm.user.name=alice&qvd.vm.user.groups=audio&qvd.client.geometry=800x600&qvd.client.keyboard=pc105/es&qvd.client.link=lan&qvd.client.os=linux&qvd.client.fullscreen=0&qvd.slave.key=K3Y&custom.color=blue')" \
	'"starting"'
t_ok "reaches listening" wait_for 20 state_is listening
t_ok "nxagent listens on 4100" wait_for 5 sh -c "ss -ltn | grep -q ':4100 '"
t_is "the options file" "$(cat "$W/run/nxagent.conf")" \
	"nx/nx,keyboard=pc105/es,client=linux,link=lan,geometry=800x600,fullscreen=0,resize=1:100"
t_is "nxagent runs as the session user" \
	"$(ps -o uid= -p "$(cat "$W/run/nxagent.pid")" | tr -d ' ')" \
	"$(inside id -u alice)"
t_like "the user was created, with its group" \
	"$(inside getent passwd alice)" "^alice:x:[0-9]+:[0-9]+::/home/alice:/bin/sh$"
t_ok "with its home directory" inside test -d /home/alice
t_like "owned by the user" "$(inside stat -c %U /home/alice)" "^alice$"
t_like "and in the groups asked for" "$(inside id -Gn alice)" "audio"
t_is "the host's /etc is untouched" "$(getent passwd alice)" ""

# the provisioning hook's argv: every parameter, then the hook's own pair
t_like "after_add_user argv: session parameters" \
	"$(tr '\n' ' ' <"$W/hooks/after_add_user.argv")" \
	"qvd.vm.user.name alice .*qvd.client.geometry 800x600 .*custom.color blue .*qvd.vm.user.home /home/alice .*qvd.hook.on_provisioning after_add_user $"
t_like "connect hook argv ends with the state and action" \
	"$(tr '\n' ' ' <"$W/hooks/connect.argv")" \
	"qvd.vm.user.name alice .*qvd.vm.user.groups audio .*qvd.vm.session.state starting qvd.hook.on_action connect $"
t_is "pre-connect ran before, from stopped" \
	"$(tail -4 "$W/hooks/pre_connect.argv" | tr '\n' ' ')" \
	"qvd.vm.session.state stopped qvd.hook.on_action pre-connect "

# the user's screen: Xvfb (on a display number it finds free) and nxproxy
# -S against the agent, as upstream's client runs it: on a display that
# does not reset, as a desktop's (paint.sh has the kiosk's)
: >"$W/displayfd"
Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp -noreset \
	>"$W/xvfb.log" 2>&1 3>"$W/displayfd" &
XVFB=$!
wait_for 5 test -s "$W/displayfd"
DPY=:$(tr -dc 0-9 <"$W/displayfd")
wait_for 5 sh -c "DISPLAY=$DPY xdpyinfo >/dev/null"
proxy() {	# nxproxy -S to the agent: its pid in PROXY
	(cd "$W/x" && HOME="$W/x" DISPLAY=$DPY exec nxproxy -S \
		connect=127.0.0.1,port=4100 >>"$W/proxy.log" 2>&1) &
	PROXY=$!
}
proxy
t_ok "x_state says connected" wait_for 20 state_is connected
painted() {
	DISPLAY=$DPY xwininfo -root -tree | grep -q '"QVD": ("NXAgent"' &&
	DISPLAY=$DPY xwininfo -root -tree | grep -q '150x100'
}
t_ok "the agent's window and the session's xeyes are painted in Xvfb" \
	wait_for 10 painted
t_ok "the connected state hook ran" wait_for 5 test -s "$W/hooks/connected.argv"
t_is "state hooks get only their pair" \
	"$(tr '\n' ' ' <"$W/hooks/connected.argv")" \
	"qvd.hook.on_state connected "
agent=$(cat "$W/run/nxagent.pid")
kill "$PROXY"
t_ok "killing nxproxy gives suspended" wait_for 20 state_is suspended
t_ok "the suspended state hook ran" wait_for 5 test -s "$W/hooks/suspended.argv"
t_is "the first connection's slave key is saved" "$(cat "$W/run/slave.conf")" \
	K3Y
rm "$W/run/printing.conf"
t_is "x_start again resumes" \
	"$(call 'x_start?qvd.vm.user.name=alice&qvd.slave.key=N3W')" '"starting"'
t_is "with this connection's slave key" "$(cat "$W/run/slave.conf")" N3W
t_ok "and its printing settings" test -s "$W/run/printing.conf"
proxy
t_ok "connected again" wait_for 20 state_is connected
t_is "the same nxagent (resumed, not a new session)" \
	"$(cat "$W/run/nxagent.pid")" "$agent"
t_like "the nxagent log says resumed" \
	"$(grep -c 'Session resumed' "$W/log/qvd-nxagent.log")" "^1$"
t_like "x_start while connected suspends and asks to retry" \
	"$(call 'x_start?qvd.vm.user.name=alice')" \
	"^\"\",\"Can't connect to X session in state connected, suspending it, retry later\""
t_ok "it suspends" wait_for 20 state_is suspended
t_is "x_stop" "$(call x_stop)" "null"
t_ok "gives stopped" wait_for 20 state_is stopped
t_ok "no nxagent is left" wait_for 10 sh -c "! kill -0 $agent 2>/dev/null"
t_ok "the disconnected hook ran" wait_for 5 test -s "$W/hooks/disconnected.argv"
t_is "stop hook argv ends with its pair" \
	"$(tail -4 "$W/hooks/stop.argv" | tr '\n' ' ')" \
	"qvd.vm.session.state suspended qvd.hook.on_action stop "
t_like "hook output and runs are logged" "$(cat "$W/log/qvd-hooks.log")" \
	"running vma.on_action.connect hook"

# expire and poweroff
t_is "expire" "$(call 'expire?vm.expiration.soft=2026-12-01%2010:00:00&vm.expiration.hard=2026-12-02%2010:00:00')" "null"
t_is "expire hook gets both times" "$(tr '\n' ' ' <"$W/hooks/expire.argv")" \
	"vm.expiration.soft 2026-12-01 10:00:00 vm.expiration.hard 2026-12-02 10:00:00 qvd.vm.session.state stopped qvd.hook.on_action expire "
t_is "poweroff" "$(call poweroff)" "null"
t_ok "runs its hook" test -s "$W/hooks/poweroff.argv"
t_ok "then the power-off command" wait_for 5 test -e "$W/powered-off"

# bad requests: the agent answers and survives
t_is "unknown method: 404" "$(curl -s -o /dev/null -w '%{http_code}' \
	"http://127.0.0.1:$PORT/vma/format_disk")" "404"
t_is "malformed request: 400" "$(printf 'GARBAGE\r\n\r\n' |
	socat -t 2 - TCP:127.0.0.1:$PORT | head -1 | tr -d '\r')" \
	"HTTP/1.1 400 Bad Request"
t_is "oversized header: 431" "$( (printf 'GET /vma/ping HTTP/1.1\r\nX: '
	head -c 20000 /dev/zero | tr '\0' a; printf '\r\n\r\n') |
	socat -t 2 - TCP:127.0.0.1:$PORT | head -1 | tr -d '\r')" \
	"HTTP/1.1 431 Request Header Fields Too Large"
t_is "endless request line: 414" "$( (printf 'GET /vma/'
	head -c 9000 /dev/zero | tr '\0' a; printf ' HTTP/1.1\r\n\r\n') |
	socat -t 2 - TCP:127.0.0.1:$PORT | head -1 | tr -d '\r')" \
	"HTTP/1.1 414 URI Too Long"
t_is "a body too large: 413" "$(printf 'GET /vma/ping HTTP/1.1\r\nContent-Length: 999999\r\n\r\n' |
	socat -t 2 - TCP:127.0.0.1:$PORT | head -1 | tr -d '\r')" \
	"HTTP/1.1 413 Payload Too Large"
t_like "a bad parameter value fails the call" \
	"$(call 'x_start?qvd.vm.user.name=bob&qvd.client.geometry=800x600;rm')" \
	"^\"\",\"qvd.client.geometry: '800x600;rm' is not allowed"
t_like "a bad user name fails the call" \
	"$(call 'x_start?qvd.vm.user.name=-rf')" "is not a valid user name"
t_is "and starts nothing" "$(call x_state)" '"stopped"'
t_is "still alive" "$(call ping)" "null"

# a failing pre-connect hook aborts x_start; a hanging hook is killed
stop_vma
conf "vma.on_action.pre-connect = $W/hooks/refuse
vma.on_action.suspend = $W/hooks/hang"
start_vma
t_like "a failing pre-connect hook aborts x_start" \
	"$(call 'x_start?qvd.vm.user.name=carol')" \
	"^\"\",\"the pre-connect hook failed; the session was not started\""
sleep 1
t_is "nothing started" "$(call x_state)" '"stopped"'
t_is "no user made" "$(inside getent passwd carol)" ""
t_like "its output is in the hooks log" "$(cat "$W/log/qvd-hooks.log")" \
	"pre-connect says no"
# restarted here, not in $(...): a subshell can neither wait for the old
# VMA to let go of its port nor keep the new one's pid
sed -i '/pre-connect/d' "$W/vma.conf"
stop_vma
start_vma
t_is "x_start without the hook for the next tests" \
	"$(call 'x_start?qvd.vm.user.name=carol')" '"starting"'
wait_for 20 state_is listening
t0=$(date +%s)
t_like "a hanging suspend hook fails the call" "$(call x_suspend)" \
	"the suspend hook failed"
t_ok "after the hook timeout (2 s), not 60" test $(($(date +%s) - t0)) -lt 10
t_like "and the kill is logged" "$(cat "$W/log/qvd-hooks.log")" \
	"did not finish in 2 s and was killed"
t_ok "x_stop" call x_stop
wait_for 20 state_is stopped

# daemonized with its pid file; SIGTERM stops nxagent cleanly
stop_vma
unshare -m --propagation private sh -c "
	mount -t overlay overlay -o lowerdir=/etc,upperdir=$W/etc.up,workdir=$W/etc.work /etc &&
	mount -t tmpfs tmpfs /home && $QVD_BIN/qvd-vma -c $W/vma.conf"
t_ok "daemonized: its pid file appears" wait_for 5 test -s "$W/run/vma.pid"
VMA=$(cat "$W/run/vma.pid")
t_ok "and it answers" wait_for 5 curl -sf "http://127.0.0.1:$PORT/vma/ping"
call 'x_start?qvd.vm.user.name=dave' >/dev/null
t_ok "a session runs" wait_for 20 state_is listening
agent=$(cat "$W/run/nxagent.pid")
kill -TERM "$VMA"
t_ok "SIGTERM: the agent exits" wait_for 10 sh -c "! kill -0 $VMA 2>/dev/null"
t_ok "and nxagent with it" wait_for 10 sh -c "! kill -0 $agent 2>/dev/null"
t_ok "the pid file is removed" test ! -e "$W/run/vma.pid"
t_done
