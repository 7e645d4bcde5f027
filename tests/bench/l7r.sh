# SPDX-License-Identifier: GPL-3.0-or-later
# l7r.sh -- the L7R against peers run in the same call, on this machine:
# /qvd/ping over TLS with keep-alive against nginx serving the same 13
# bytes (target >= 0.7x nginx); new connections (TLS handshake and one
# list_of_vm) against nginx's handshake rate; tunnel throughput against a
# socat TLS relay of the same bytes (target >= 0.8x); memory per session.
. "$QVD_TOP/tests/lib/tap.sh" >/dev/null
. "$QVD_TOP/tests/lib/bench.sh"
. "$QVD_TOP/tests/lib/node.sh"
. "$QVD_TOP/tests/lib/vma.sh"

W=$QVD_WORK
cleanup() {
	[ -s "$W/nginx/nginx.pid" ] && kill "$(cat "$W/nginx/nginx.pid")" 2>/dev/null
	node_cleanup	# socat and the VMA too: they run in the namespace
}
trap cleanup EXIT
bare_farm
start_node
qa config set l7r.limit.unauthenticated=200 >/dev/null
q "SELECT value FROM ssl_configs WHERE key = 'l7r.ssl.key'" >"$W/key.pem"
q "SELECT value FROM ssl_configs WHERE key = 'l7r.ssl.cert'" >"$W/cert.pem"

# nginx, TLS, the same answer
mkdir -p "$W/nginx"
cat >"$W/nginx.conf" <<EOC
worker_processes auto;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $W/nginx;
	proxy_temp_path $W/nginx;
	fastcgi_temp_path $W/nginx;
	uwsgi_temp_path $W/nginx;
	scgi_temp_path $W/nginx;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:9443 ssl;
		ssl_certificate $W/cert.pem;
		ssl_certificate_key $W/key.pem;
		ssl_protocols TLSv1.2 TLSv1.3;
		location = /qvd/ping { return 200 "I am alive!\r\n"; }
	}
}
EOC
in_ns nginx -c "$W/nginx.conf" -g 'daemon off;' &
sleep 1

rate() {	# wrk output -> requests per second
	awk '/^Requests\/sec/ { printf "%d", $2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

ours=$(in_ns wrk -t2 -c50 -d8s https://127.0.0.1:8443/qvd/ping | rate)
theirs=$(in_ns wrk -t2 -c50 -d8s https://127.0.0.1:9443/qvd/ping | rate)
r=$(ratio "$ours" "$theirs")
echo "/qvd/ping over TLS, 50 keep-alive connections: qvd-node $ours/s, nginx $theirs/s: ratio $r (target >= 0.7: $(awk -v r="$r" 'BEGIN { print (r >= 0.7) ? "met" : "NOT met" }'))"

auth="Authorization: Basic $(printf ann:secret | base64)"
ours=$(in_ns wrk -t2 -c8 -d8s -H "Connection: close" -H "$auth" \
	https://127.0.0.1:8443/qvd/list_of_vm | rate)
theirs=$(in_ns wrk -t2 -c8 -d8s -H "Connection: close" \
	https://127.0.0.1:9443/qvd/ping | rate)
echo "new connections (TLS handshake + request): qvd-node list_of_vm $ours/s (includes the PBKDF2 password check), nginx ping $theirs/s"
ours=$(in_ns wrk -t2 -c8 -d8s -H "Connection: close" \
	https://127.0.0.1:8443/qvd/ping | rate)
echo "  qvd-node ping on new connections (handshake in a front worker, no login): $ours/s"

# the tunnel: a VM whose "nxagent" is a byte sink on 127.0.0.1:15000
PORT=13032
mkdir -p "$W/run" "$W/log"
cat >"$W/vma.conf" <<EOC
path.run = $W/vrun
log.filename = $W/log/vma.log
vma.pid_file = $W/vrun/vma.pid
internal.vm.port.vma = $PORT
internal.nxagent.timeout.listening = 600
command.xinit =
command.x-session = /bin/true
vma.user.shell = /bin/sh
EOC
mkdir -p "$W/vrun"
VMA_IN="ip netns exec $NS"
(cd "$W" && start_vma) || echo "the VMA did not start" >&2
qa vm add name=sink user=ann osf=desk >/dev/null
q "UPDATE vm_runtimes SET vm_state = 'running', host_id = 1, vm_address =
	'127.0.0.1', vm_vma_port = $PORT, vm_x_port = 15000 WHERE vm_id = 1" \
	>/dev/null
in_ns socat -u TCP-LISTEN:15000,reuseaddr OPEN:/dev/null &
sleep 0.5
printf 'GET /qvd/connect_to_vm?id=1 HTTP/1.1\nAuthorization: Basic %s\nConnection: Upgrade\nUpgrade: QVD/1.0\n\n' \
	"$(printf ann:secret | base64)" >"$W/req"
in_ns "$QVD_BIN/tests/tunnel" 127.0.0.1 8443 "$W/req" 15001 >"$W/t.out" 2>&1 &
wait_for 30 grep -q '^listening' "$W/t.out"
child=$(q "SELECT l7r_pid FROM vm_runtimes WHERE vm_id = 1")
mem=$(awk '/^Private_(Clean|Dirty)/ { s += $2 } END { print s }' \
	"/proc/$child/smaps_rollup")
MB=1000
t0=$(now_ms)
dd if=/dev/zero bs=1M count=$MB 2>/dev/null | in_ns socat -u - TCP:127.0.0.1:15001
ours_ms=$(($(now_ms) - t0))
wait_for 10 sh -c "grep -q relayed $W/t.out"
in_ns socat -u TCP-LISTEN:15000,reuseaddr OPEN:/dev/null &
in_ns socat OPENSSL-LISTEN:15002,reuseaddr,cert="$W/cert.pem",key="$W/key.pem",verify=0 \
	TCP:127.0.0.1:15000 &
sleep 0.5
t0=$(now_ms)
dd if=/dev/zero bs=1M count=$MB 2>/dev/null |
	in_ns socat -u - OPENSSL:127.0.0.1:15002,verify=0
socat_ms=$(($(now_ms) - t0))
a=$(awk -v m=$MB -v t=$ours_ms 'BEGIN { printf "%d", m * 1000 / t }')
b=$(awk -v m=$MB -v t=$socat_ms 'BEGIN { printf "%d", m * 1000 / t }')
r=$(ratio "$a" "$b")
echo "tunnel throughput, $MB MB client -> VM: qvd-node $a MB/s, socat TLS relay $b MB/s: ratio $r (target >= 0.8: $(awk -v r="$r" 'BEGIN { print (r >= 0.8) ? "met" : "NOT met" }'))"
echo "private memory of an established session's child: $mem kB"
