# SPDX-License-Identifier: GPL-3.0-or-later
# l7r.sh -- the layer-7 router of qvd-node: ping, Basic auth, list_of_vm,
# the errors, upstream's own client request driving a real NX session to
# a VM started on demand, takeover, throttling, disconnect and blocking.
. "$QVD_TOP/tests/lib/tap.sh"
. "$QVD_TOP/tests/lib/node.sh"

trap node_cleanup EXIT
desk_farm
URL=https://127.0.0.1:8443
get() { in_ns curl -sk -m 20 "$@"; }
code() { in_ns curl -sk -m 20 -o /dev/null -w '%{http_code}' "$@"; }

# --- the certificate: none configured, so one was made and stored ---
t_like "a self-signed certificate was made and logged" \
	"$(cat "$QVD_WORK/node.log")" \
	"made a self-signed one \(RSA 3072\) for IP:10.3.15.2,DNS:node1"
t_is "and stored for every node" "$(q "SELECT count(*) FROM ssl_configs")" 2
q "SELECT value FROM ssl_configs WHERE key = 'l7r.ssl.cert'" >"$QVD_WORK/cert.pem"
t_like "its key is RSA 3072 (upstream's Perl client calls 256-bit EC weak)" \
	"$(openssl x509 -in "$QVD_WORK/cert.pem" -noout -text)" \
	"Public-Key: \(3072 bit\)"
t_like "the node's address is an IP SAN (openssl x509 -checkip)" \
	"$(openssl x509 -in "$QVD_WORK/cert.pem" -noout -checkip 10.3.15.2)" \
	"IP 10.3.15.2 does match"
t_like "its name a DNS SAN" \
	"$(openssl x509 -in "$QVD_WORK/cert.pem" -noout -checkhost node1)" \
	"Hostname node1 does match"
t_is "a client that checks the host by its address trusts it" \
	"$(in_ns ip addr add 10.3.15.2/32 dev lo 2>&1; in_ns curl -s \
	--cacert "$QVD_WORK/cert.pem" https://10.3.15.2:8443/qvd/ping |
	tr -d '\r')" "I am alive!"
t_like "the L7R serves TLS 1.2+ only" \
	"$(in_ns openssl s_client -connect 127.0.0.1:8443 -tls1_1 </dev/null 2>&1)" \
	"alert|error|no protocols"

# --- ping, auth, list_of_vm ---
t_is "ping" "$(get $URL/qvd/ping | tr -d '\r')" "I am alive!"
t_like "no credentials: 401 with the realm" \
	"$(get -i $URL/qvd/list_of_vm | tr -d '\r')" \
	"^HTTP/1.1 401 Unauthorized
WWW-Authenticate: Basic realm=\"QVD\""
t_is "a wrong password: 401" "$(code -u ann:nope $URL/qvd/list_of_vm)" 401
t_is "list_of_vm, no VM" "$(get -u carl:carlpw $URL/qvd/list_of_vm |
	tr -d '\r')" "[]"
t_is "list_of_vm, one VM" "$(get -u ann:secret $URL/qvd/list_of_vm |
	tr -d '\r')" '[{"id":1,"name":"ann-desk","state":"stopped","blocked":0}]'
t_is "list_of_vm, two VMs" "$(get -u bob:bobpw $URL/qvd/list_of_vm |
	tr -d '\r')" '[{"id":2,"name":"bob-0","state":"stopped","blocked":0},{"id":3,"name":"bob-1","state":"stopped","blocked":0}]'
t_is "unknown path: 404" "$(code $URL/qvd/format)" 404
UP="-H Connection:Upgrade -H Upgrade:QVD/1.0"
t_is "connect_to_vm without upgrade headers: 426" \
	"$(code -u ann:secret "$URL/qvd/connect_to_vm?id=1")" 426
t_is "without id: 422" "$(code -u ann:secret $UP $URL/qvd/connect_to_vm)" 422
t_is "someone else's VM: 403" \
	"$(code -u ann:secret $UP "$URL/qvd/connect_to_vm?id=2")" 403
t_is "no such VM: 404" \
	"$(code -u ann:secret $UP "$URL/qvd/connect_to_vm?id=99")" 404
t_like "unknown parameters: 403 naming them" \
	"$(get -u ann:secret $UP "$URL/qvd/connect_to_vm?id=1&evil=1" |
	tr -d '\r')" "^Invalid parameters evil$"
qa vm block -f id=1 >/dev/null
t_like "a blocked VM: 403, the maintenance message" \
	"$(get -i -u ann:secret $UP "$URL/qvd/connect_to_vm?id=1" | tr -d '\r')" \
	"^HTTP/1.1 403 Forbidden.*
The requested virtual machine is offline for maintenance"
qa vm unblock -f id=1 >/dev/null

# --- upstream's C client, byte for byte: bare LF, nothing encoded ---
auth=$(printf ann:secret | base64)
printf 'GET /qvd/connect_to_vm?id=1&qvd.client.os=linux&qvd.client.geometry=800x600&qvd.client.link=adsl&qvd.client.keyboard=pc105/en&qvd.client.fullscreen=0 HTTP/1.1\nAuthorization: Basic %s\nConnection: Upgrade\nUpgrade: QVD/1.0\n\n' \
	"$auth" >"$QVD_WORK/req"
bg_in_ns "$QVD_BIN/tests/tunnel" 127.0.0.1 8443 "$QVD_WORK/req" 14041 \
	>"$QVD_WORK/t1.out" 2>&1
T1=$BG
t_ok "the 101 comes (the VM was stopped and is started on demand)" \
	wait_for 60 grep -q '^listening' "$QVD_WORK/t1.out"
# (a start that takes over internal.l7r.poll_time.vm says "Waiting" again)
t_is "the 102 steps, then 101" "$(uniq "$QVD_WORK/t1.out" | head -10)" \
"102 Session acquired for VM_ID: 1
102 Assigning VM 1 to host
102 Starting virtual machine
102 Waiting for VM to reach state 'running'
102 VM 1 is running on node node1
102 Starting X session at VM 1
102 Waiting for X session to come up on VM 1
102 Connecting X session for VM_ID: 1
102 Connection established
101"
# upstream's client on a desktop, whose X server always has clients (on a
# bare one that resets when its last client leaves, nxproxy's own probe
# of it can be that last client: qvdclient holds the display, upstream's
# client does not; qvdclient(1))
mkdir -p "$QVD_WORK/x"
start_xvfb 1024x768 -noreset
DPY=$XDPY
proxy() {	# PORT: nxproxy -S to the tunnel's local end; its pid in BG
	bg_in_ns env HOME="$QVD_WORK/x" DISPLAY=$DPY nxproxy -S \
		connect=127.0.0.1,port="$1" >>"$QVD_WORK/proxy.log" 2>&1
}
painted() {
	in_ns env DISPLAY=$DPY xwininfo -root -tree | grep -q '"QVD": ("NXAgent"'
}
proxy 14041
t_ok "nxproxy through the tunnel paints the desktop into Xvfb" \
	wait_for 20 painted
t_is "the session is connected" "$(q "SELECT user_state || ' ' ||
	real_user_id || ' ' || l7r_host_id FROM vm_runtimes WHERE vm_id = 1")" \
	"connected 1 1"
child=$(q "SELECT l7r_pid FROM vm_runtimes WHERE vm_id = 1")
t_is "the connection's child runs as nobody" \
	"$(ps -o user= -p "$child" | tr -d ' ')" "nobody"

# --- a second client for the same VM takes the session over ---
bg_in_ns "$QVD_BIN/tests/tunnel" 127.0.0.1 8443 "$QVD_WORK/req" 14042 \
	>"$QVD_WORK/t2.out" 2>&1
T2=$BG
# on failure: what the client, the node and the VMA said
takeover_diag() {
	cat "$QVD_WORK/t2.out"
	grep -E "L7R|vm 1" "$QVD_WORK/node.log" | tail -25
	find "$STORAGE" -name qvd.log -path '*var/log/qvd*' -exec tail -15 {} \;
}
second_listening() {
	wait_for 60 grep -q '^listening' "$QVD_WORK/t2.out" ||
		{ takeover_diag; return 1; }
}
t_ok "the second client gets the session" second_listening
t_like "after aborting the first" "$(cat "$QVD_WORK/t2.out")" \
	"102 Aborting contending session for VM_ID: 1"
t_ok "the first client was disconnected" wait_for 10 sh -c \
	"! kill -0 $T1 2>/dev/null"
proxy 14042
t_ok "the second client's session is connected" wait_for 30 row_is \
	"SELECT user_state FROM vm_runtimes WHERE vm_id = 1" connected
t_is "the VM holds the slave key of this (resumed) session's 101" \
	"slave key $(in_vm 1 cat /run/qvd/slave.conf)" \
	"$(grep '^slave key ' "$QVD_WORK/t2.out")"

# --- blocking: new sessions refused, the established one stays ---
qa host block -f name=node1 >/dev/null
blocked_ping() { [ "$(code $URL/qvd/ping)" = 503 ]; }
t_ok "a blocked node fails the health check" wait_for 10 blocked_ping
t_like "with the reason" "$(get $URL/qvd/ping)" "Server is blocked"
t_is "and refuses new sessions" \
	"$(code -u bob:bobpw $UP "$URL/qvd/connect_to_vm?id=2")" 503
t_ok "while the established session stays up" kill -0 "$T2"
qa host unblock -f name=node1 >/dev/null
wait_for 10 sh -c "[ \"\$(ip netns exec $NS curl -sk -o /dev/null -w '%{http_code}' $URL/qvd/ping)\" = 200 ]"

# --- qa vm disconnect_user ends the session within a second ---
t0=$(date +%s%N)
qa vm disconnect_user -f id=1 >/dev/null
gone() { ! kill -0 "$T2" 2>/dev/null; }
wait_for 5 gone
t_ok "qa vm disconnect_user ends the session" gone
t_ok "within a second" test $((($(date +%s%N) - t0) / 1000000)) -lt 1000
t_ok "the session is recorded as disconnected" wait_for 5 row_is \
	"SELECT user_state || coalesce(l7r_pid::text, '-') FROM vm_runtimes
	WHERE vm_id = 1" disconnected-

# --- stop_vm ---
t_like "stop_vm answers Machine stopped" \
	"$(get -u ann:secret "$URL/qvd/stop_vm?id=1" | tr -d '\r')" \
	"Machine stopped"
t_is "and the VM is stopped" "$(q "SELECT vm_state FROM vm_runtimes WHERE
	vm_id = 1")" "stopped"
t_is "stop_vm of a stopped VM: at once" \
	"$(get -u ann:secret "$URL/qvd/stop_vm?id=1" | tr -d '\r')" \
	"Machine stopped"
t_is "stop_vm without id: 422" "$(code -u ann:secret "$URL/qvd/stop_vm")" 422

# --- throttling: by user and address; a much higher ceiling per address ---
for i in 1 2 3 4 5 6; do	# upstream's Perl client retries a typo 5 times
	code -u ann:typo $URL/qvd/list_of_vm >/dev/null
done
t_is "the same wrong password again counts once" \
	"$(code -u ann:secret $URL/qvd/list_of_vm)" 200
for i in 1 2 3 4; do
	code -u ann:wrong$i $URL/qvd/list_of_vm >/dev/null
done
t_is "five wrong passwords: that user is refused from that address" \
	"$(code -u ann:secret $URL/qvd/list_of_vm)" 429
t_like "with Retry-After" "$(get -i -u ann:secret $URL/qvd/list_of_vm |
	tr -d '\r')" "^HTTP/1.1 429 .*
Retry-After: (29[0-9]|300)
"
t_like "and a body saying when, as text" \
	"$(get -u ann:secret $URL/qvd/list_of_vm)" \
	"^Too many failed logins; try again in [0-9]+ seconds$"
t_is "another user from the same address (the office) still gets in" \
	"$(code -u bob:bobpw $URL/qvd/list_of_vm)" 200
t_is "the same user from another address too" \
	"$(code --interface 127.0.0.2 -u ann:secret $URL/qvd/list_of_vm)" 200
qa config set l7r.auth.throttle.address.failures=8 >/dev/null
sleep 1
for i in 1 2 3 4 5 6 7 8; do
	code --interface 127.0.0.3 -u "nobody$i:x" $URL/qvd/list_of_vm >/dev/null
done
t_is "only failures of many users lock out their address" \
	"$(code --interface 127.0.0.3 -u bob:bobpw $URL/qvd/list_of_vm)" 429
qa config del l7r.auth.throttle.address.failures >/dev/null

# --- errors as upstream sends them, and the close after one ---
wire() {	# QUERY: upstream's request bytes for connect_to_vm as bob
	printf 'GET /qvd/connect_to_vm?%s HTTP/1.1\nAuthorization: Basic %s\nConnection: Upgrade\nUpgrade: QVD/1.0\n\n' \
		"$1" "$(printf bob:bobpw | base64)" >"$QVD_WORK/req.err"
	in_ns "$QVD_BIN/tests/tunnel" 127.0.0.1 8443 "$QVD_WORK/req.err"
}
t_is "an error to connect_to_vm: its exact body, then the close" \
	"$(wire 'id=2&evil=1')" "403
Content-Length: 23
Invalid parameters evil
closed"
t_is "no such VM: the same" "$(wire 'id=99' | sed -n '1p;$p')" "404
closed"
printf 'GET /qvd/stop_vm?id=99 HTTP/1.1\nAuthorization: Basic %s\n\n' \
	"$(printf bob:bobpw | base64)" >"$QVD_WORK/req.stop"
t_is "stop_vm's errors close too" \
	"$(in_ns "$QVD_BIN/tests/tunnel" 127.0.0.1 8443 "$QVD_WORK/req.stop" |
	sed -n '1p;$p')" "404
closed"
t_is "list_of_vm: one line of JSON, ending in LF, no CR" \
	"$(get -u bob:bobpw $URL/qvd/list_of_vm | tail -c 2 | od -An -tx1 |
	tr -d ' ')" 5d0a
t_is "the node's log has no stray CR" \
	"$(tr -cd '\r' <"$QVD_WORK/node.log" | wc -c)" 0

# --- limits: slow and oversized requests ---
qa config set l7r.timeout.request=2 >/dev/null
sleep 1
mkfifo "$QVD_WORK/slow.in"
(printf 'GET /qvd/ping HTTP/1.1\r\n'; sleep 9) >"$QVD_WORK/slow.in" &
writer=$!
t0=$(date +%s)
in_ns timeout 10 openssl s_client -quiet -connect 127.0.0.1:8443 \
	<"$QVD_WORK/slow.in" >"$QVD_WORK/slow.out" 2>&1
t_ok "a client too slow to finish its request is dropped" \
	test $(($(date +%s) - t0)) -lt 7
kill $writer 2>/dev/null
t_like "with a 408" "$(cat "$QVD_WORK/slow.out")" "408 Request Timeout"
qa config del l7r.timeout.request >/dev/null
t_is "too many headers: 431" "$(in_ns curl -sk -o /dev/null -w '%{http_code}' \
	$(i=0; while [ $i -lt 70 ]; do printf -- '-H X%d:y ' $i; i=$((i + 1)); done) \
	$URL/qvd/ping)" 431

# --- the counters of manual chapter 18 ---
counted() { [ "$(q "SELECT (nx_ok >= 2 AND auth_ok >= 3 AND http_requests >
	auth_attempts - 1 AND auth_attempts > auth_ok)::text FROM
	host_counters WHERE host_id = 1")" = true ]; }
t_ok "host counters count requests, logins and NX sessions" \
	wait_for 10 counted
t_like "qa host counters shows them" "$(qa host counters -q)" \
	"^1 node1 +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$"
t_done
