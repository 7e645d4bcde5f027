# SPDX-License-Identifier: GPL-3.0-or-later
# wat_api.sh -- qvd-wat's actions through /api/ as a script uses them (HTTP
# Basic + JSON) and as its forms post them (session + CSRF token + back):
# the database holds what the answers say, bad input changes nothing,
# failed logins are throttled, it runs as wat.as_user, and serves TLS.
. "$QVD_TOP/tests/lib/tap.sh"

PORT=13310
U=http://127.0.0.1:$PORT
J=$QVD_WORK/jar
S=$QVD_WORK/storage
cleanup() {
	for p in ${WAT:-} ${WAT2:-} ${WAT3:-}; do
		kill "$p" 2>/dev/null
	done
}
trap cleanup EXIT
qvd-deploy-db >/dev/null
mkdir -p "$S/staging" "$S/images" "$QVD_WORK/run"
chmod 755 "$QVD_WORK"
chown -R nobody: "$QVD_WORK/run"	# the storage stays root's
qa config set wat.port=$PORT path.storage.root="$S" \
	path.run="$QVD_WORK/run" vm.network.ip.start=10.3.15.50 \
	vm.network.netmask=24 vm.network.gateway=10.3.15.1 >/dev/null

qvd-wat -f -c "$QVD_CONF" >"$QVD_WORK/wat.out" 2>&1 &
WAT=$!
wait_for 10 curl -s -o /dev/null "$U/login"
t_is "started as root, it runs as wat.as_user (nobody)" \
	"$(ps -o user= -p "$WAT")" nobody
keeper=$(ps -o pid=,user= --ppid "$WAT" | awk '$2 == "root" { print $1 }')
t_ok "its keeper stays root, a child of it" test -n "$keeper"
t_fails "and does not hold its port (a long copy would keep it)" sh -c \
	"ss -ltnp | grep ':$PORT ' | grep -q 'pid=$keeper,'"

# api METHOD PATH [JSON]: as a script does, with HTTP Basic.
api() {
	if [ $# -gt 2 ]; then
		curl -s -u admin:admin -H 'Content-Type: application/json' \
			-X "$1" --data "$3" "$U$2"
	else
		curl -s -u admin:admin -X "$1" "$U$2"
	fi
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# --- a script's view: HTTP Basic and JSON bodies ---
t_is "user new" "$(api POST /api/user/new '{"login":"carol","password":"pw1"}')" \
	'{"message":"User added with id 1","id":1}'
t_is "the database has her" "$(q "SELECT login FROM users")" carol
t_like "confirm must match" \
	"$(api POST /api/user/new '{"login":"dave","password":"a","confirm":"b"}')" \
	'"error":"the password and its confirmation differ"'
t_is "and nothing was added" "$(q "SELECT count(*) FROM users")" 1
t_is "a form body with HTTP Basic is refused (CSRF)" \
	"$(code -u admin:admin -d login=eve -d password=x "$U/api/user/new")" 403
t_is "nothing was added" "$(q "SELECT count(*) FROM users")" 1
t_like "a wrong password in Basic: 401" \
	"$(code -u admin:nope -H 'Content-Type: application/json' \
	--data '{"login":"x","password":"y"}' "$U/api/user/new")" 401
t_like "malformed JSON: 400" "$(code -u admin:admin -H \
	'Content-Type: application/json' --data '{"login":' "$U/api/user/new")" 400
long=$(printf '%0300d' 0)
for body in '[1,2]' '{"id":[[1]]}' '{"id":{"a":1}}' "{\"$long\":1}" '{"id":1,}'; do
	t_is "a body of $(echo "$body" | cut -c1-20): 400" "$(code -u admin:admin \
		-H 'Content-Type: application/json' --data "$body" \
		"$U/api/vm/start")" 400
done
t_like "an unknown action: 404" "$(api POST /api/vm/explode '{}')" \
	'"error":"no such action: vm explode"'
t_like "memory must be a number" \
	"$(api POST /api/osf/new '{"name":"desk","memory":"lots"}')" \
	"\"error\":\"memory: 'lots' is not a number"
t_is "no OSF was made" "$(q "SELECT count(*) FROM osfs")" 0
t_is "osf new (memory default 256)" "$(api POST /api/osf/new '{"name":"desk"}')" \
	'{"message":"OSF added with id 1","id":1}'
t_is "as qa osf add does" "$(q "SELECT name, memory FROM osfs")" "desk|256"
t_like "host new" "$(api POST /api/host/new '{"name":"n1","address":"10.0.0.1"}')" \
	'"message":"Host added with id 1"'
# what the node's heartbeat would write (tests/t/node_*.sh run real nodes)
q "UPDATE host_runtimes SET state = 'running', usable_ram = 1000,
	usable_cpu = 2000, ok_ts = localtimestamp" >/dev/null
t_is "a node address that is no IP address is refused" \
	"$(api POST /api/host/new '{"name":"n9","address":"not-an-ip"}')" \
	"{\"error\":\"'not-an-ip' is not an IP address\"}"
t_like "a duplicate is refused with the reason" \
	"$(api POST /api/host/new '{"name":"n1","address":"10.0.0.2"}')" '"error":".*n1'
t_is "vm new: added, with a word on its OSF" \
	"$(api POST /api/vm/new '{"name":"carol-desk","user_id":1,"osf_id":1}')" \
	'{"message":"VM added with id 1 (OSF '"'desk'"' has no disk image yet: the VM cannot start until one is added)","id":1}'
t_is "the VM is in the database" \
	"$(q "SELECT v.name, u.login, v.di_tag FROM vms v JOIN users u ON u.id = v.user_id")" \
	"carol-desk|carol|default"
t_like "/api/vm/1 has its runtime parameters" "$(api GET /api/vm/1)" \
	'"id":"1","name":"carol-desk","user":"carol",.*"next_boot_ip":"10.3.15.50","state":"stopped"'
t_is "vm block" "$(api POST /api/vm/block '{"id":[1]}')" \
	'{"message":"Blocked 1 VMs.","count":1}'
t_is "blocked in the database" "$(q "SELECT blocked FROM vm_runtimes")" t
t_is "vm unblock" "$(api POST /api/vm/unblock '{"id":1}')" \
	'{"message":"Unblocked 1 VMs.","count":1}'
t_is "unblocked" "$(q "SELECT blocked FROM vm_runtimes")" f
t_is "a VM with no disk image to start is not started, and says why" \
	"$(api POST /api/vm/start '{"id":[1]}')" \
	'{"message":"Started 0 VMs. Not started: carol-desk (no disk image tagged default).","count":0}'
t_is "and the node is told nothing" \
	"$(q "SELECT coalesce(vm_cmd, 'none') FROM vm_runtimes")" none
t_like "a tag no disk image has is refused" \
	"$(api POST /api/vm/edit '{"id":1,"di_tag":"head"}')" \
	"\"error\":\"no disk image of OSF 'desk' is tagged 'head'"
t_like "osf delete is refused while a VM uses it" \
	"$(api POST /api/osf/delete '{"id":[1]}')" \
	'"error":"cannot delete OSF desk: virtual machines still use it'
t_is "and the OSF is still there" "$(q "SELECT count(*) FROM osfs")" 1
t_like "nothing selected" "$(api POST /api/vm/stop '{}')" \
	'"error":"nothing is selected"'
t_like "host block" "$(api POST /api/host/block '{"id":[1]}')" '"count":1'
t_is "blocked" "$(q "SELECT blocked FROM host_runtimes")" t
t_like "host unblock" "$(api POST /api/host/unblock '{"id":[1]}')" '"count":1'
t_like "user passwd" "$(api POST /api/user/passwd '{"id":1,"password":"pw2"}')" \
	"Password of user 'carol' changed"

# --- a disk image from staging, copied in the background ---
head -c 3000000 /dev/urandom >"$S/staging/desk.tar.gz"
chown nobody: "$S/staging/desk.tar.gz"
t_is "/api/staging lists the staging directory" "$(api GET /api/staging)" \
	'["desk.tar.gz"]'
t_like "a file outside staging is refused" \
	"$(api POST /api/di/new '{"osf_id":1,"file":"../images/x"}')" \
	'"error":"file: a name in the staging directory"'
out=$(api POST /api/di/new '{"osf_id":1,"file":"desk.tar.gz","delete_after":1}')
t_like "di new starts a copy job" "$out" '"message":"Copying desk.tar.gz","job":"[0-9a-f]{32}"'
job=$(echo "$out" | sed 's/.*"job":"\([0-9a-f]*\)".*/\1/')
wait_for 20 sh -c "curl -s -u admin:admin $U/api/di/job/$job | grep -q '\"state\":\"done\"'"
t_like "the job ends done" "$(api GET "/api/di/job/$job")" \
	'"state":"done","done":1,"total":1,"id":1,"version":"'
t_is "the DI is in the database" "$(q "SELECT osf_id FROM dis")" 1
t_ok "its image is in the images directory" sh -c "ls '$S/images' | grep -q 'desk.tar.gz'"
t_ok "and the staging file was deleted (delete after action)" \
	test ! -e "$S/staging/desk.tar.gz"
t_like "set default" "$(api POST /api/di/default '{"default":[1]}')" \
	'"message":"1 defaults set."'
t_is "tagged default" "$(q "SELECT tag FROM di_tags WHERE tag = 'default'")" default
head -c 1000 /dev/urandom >"$S/staging/spare.img"
job=$(api POST /api/di/new '{"osf_id":1,"file":"spare.img","version":"v2"}' |
	sed 's/.*"job":"\([0-9a-f]*\)".*/\1/')
wait_for 20 sh -c "curl -s -u admin:admin $U/api/di/job/$job | grep -q '\"state\":\"done\"'"
t_ok "without delete_after the staging file stays" test -e "$S/staging/spare.img"
t_is "a second DI, version v2" "$(q "SELECT version FROM dis WHERE id = 2")" v2
t_ok "the copy is the staging file, byte for byte" \
	cmp -s "$S/staging/spare.img" "$S/images/2-spare.img"
t_like "the copies are root's, made by the WAT's keeper" \
	"$(stat -c %U "$S/images/2-spare.img")" root
t_is "di delete" "$(api POST /api/di/delete '{"id":[2]}')" \
	'{"message":"1 DIs deleted.","count":1}'
t_is "gone from the database" "$(q "SELECT count(*) FROM dis")" 1
t_ok "and its file from the images directory" test ! -e "$S/images/2-spare.img"
t_is "now the VM starts" "$(api POST /api/vm/start '{"id":[1]}')" \
	'{"message":"Started 1 VMs.","count":1}'
t_is "the node is told to start it" "$(q "SELECT vm_cmd FROM vm_runtimes")" start
t_is "starting it again changes nothing, and says so" \
	"$(api POST /api/vm/start '{"id":[1]}')" \
	'{"message":"Started 0 VMs. Unchanged: carol-desk (already starting).","count":0}'
t_is "vm edit" "$(api POST /api/vm/edit '{"id":1,"di_tag":"head"}')" \
	'{"message":"Edited 1 VMs.","count":1}'
t_is "edited" "$(q "SELECT di_tag FROM vms")" head
t_is "the same edit again changes nothing, and says so" \
	"$(api POST /api/vm/edit '{"id":1,"di_tag":"head"}')" \
	'{"message":"Edited 0 VMs. Unchanged: 1 of 1 VMs already had these values.","count":0}'

# --- the pages' view: a session cookie, the CSRF token, back ---
curl -s -o /dev/null -c "$J" -d login=admin -d password=admin "$U/login"
page=$(curl -s -b "$J" "$U/vm/")
token=$(echo "$page" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
t_like "the VM list has checkboxes and the manual's buttons" "$page" \
	'id="all".*name="id" value="1".*>Start<.*>Stop<.*>Block<.*>Unblock<.*>Disconnect user<.*>Delete<'
t_is "a form POST without the CSRF token: 403" \
	"$(code -b "$J" -d id=1 -d back=/vm/ "$U/api/vm/stop")" 403
t_is "the VM was not stopped" "$(q "SELECT vm_cmd FROM vm_runtimes")" start
t_like "delete without confirmation asks first" \
	"$(curl -s -b "$J" -d csrf="$token" -d id=1 -d back=/vm/ "$U/api/vm/delete")" \
	'Delete the selected virtual machines\? \(1 selected\).*Yes, Delete'
t_is "and deletes nothing" "$(q "SELECT count(*) FROM vms")" 1
hdrs=$(curl -s -D - -o /dev/null -b "$J" -d csrf="$token" -d id=1 -d back=/vm/ \
	"$U/api/vm/stop" | tr -d '\r')
t_like "with the token: back to the list" "$hdrs" "Location: /vm/"
t_is "the pending start is cancelled in the database" \
	"$(q "SELECT coalesce(vm_cmd, 'none') FROM vm_runtimes")" none
t_like "with the result as a message on the next page" \
	"$(curl -s -b "$J" -b "$(echo "$hdrs" | sed -n 's/^Set-Cookie: \(qvdmsg=[^;]*\).*/\1/p')" "$U/vm/")" \
	'id="flash" class="ok">Stopped 1 VMs.<'
hdrs=$(curl -s -D - -o /dev/null -b "$J" -d csrf="$token" -d back=/osf/ \
	--data-urlencode 'name=<script>alert(1)</script>' "$U/api/osf/new" |
	tr -d '\r')
page=$(curl -s -b "$J" -b "$(echo "$hdrs" | sed -n 's/^Set-Cookie: \(qvdmsg=[^;]*\).*/\1/p')" "$U/osf/")
t_like "a refused <script> name comes back escaped in the message" "$page" \
	"OSF name &#39;&lt;script&gt;alert\\(1\\)&lt;/script&gt;&#39; is not allowed"
t_fails "and never raw" sh -c "echo '$page' | grep -q '<script>alert'"
t_is "and no OSF was added" "$(q "SELECT count(*) FROM osfs")" 1
api POST /api/user/new '{"login":"zed","password":"z"}' >/dev/null
page=$(curl -s -b "$J" "$U/users/?q=CAR")
api POST /api/user/new '{"login":"temp","password":"t"}' >/dev/null
t_is "user delete" "$(api POST /api/user/delete "{\"id\":[$(q "SELECT id FROM users WHERE login = 'temp'")]}")" \
	'{"message":"1 users deleted.","count":1}'
t_is "gone" "$(q "SELECT count(*) FROM users WHERE login = 'temp'")" 0
t_like "search: the matching users" "$page" '<td>carol</td>.*1 shown of 2'
t_fails "and only those" sh -c "echo '$page' | grep -q '<td>zed</td>'"
t_like "pages are not actions: a POST to a page is refused" \
	"$(code -b "$J" -d csrf="$token" "$U/vm/")" 405

# --- sessions are rows of the database: every WAT agrees, logout ends them
printf 'PORT=13312\n' >"$QVD_WORK/default3"
{ cat "$QVD_CONF"; echo "wat.default_file = $QVD_WORK/default3"; } \
	>"$QVD_WORK/wat3.conf"
qvd-wat -f -c "$QVD_WORK/wat3.conf" >"$QVD_WORK/wat3.out" 2>&1 &
WAT3=$!
U3=http://127.0.0.1:13312
wait_for 10 curl -s -o /dev/null "$U3/login"
J2=$QVD_WORK/jar2
curl -s -o /dev/null -c "$J2" -d login=admin -d password=admin "$U/login"
cp "$J2" "$QVD_WORK/saved"
tok=$(awk '$6 == "qvdwat" { print $7 }' "$J2")
hash=$(printf 'wat-session:%s' "$tok" | sha256sum | cut -c1-64)
session_rows() { q "SELECT count(*) FROM wat_sessions WHERE token_hash = '$1'"; }
t_is "a session is a row of wat_sessions, keeping a hash, not its token" \
	"$(session_rows "$hash") $(session_rows "$tok")" "1 0"
t_is "another WAT process takes the session" "$(code -b "$J2" "$U3/vm/")" 200
for v in v3 v4; do
	head -c 1000 /dev/urandom >"$S/staging/$v.img"
	job=$(api POST /api/di/new "{\"osf_id\":1,\"file\":\"$v.img\",\"version\":\"$v\"}" |
		sed 's/.*"job":"\([0-9a-f]*\)".*/\1/')
	wait_for 20 sh -c "curl -s -u admin:admin $U/api/di/job/$job | grep -q '\"state\":\"done\"'"
done
v3=$(q "SELECT id FROM dis WHERE version = 'v3'")
v4=$(q "SELECT id FROM dis WHERE version = 'v4'")
page=$(curl -s -b "$J2" "$U/di/")
token=$(echo "$page" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
t_like "the disk images' page says which DI it shows as default" "$page" \
	'name="default_desk" value="1" checked><input type="hidden" name="was_desk" value="1">'
api POST /api/di/default "{\"default\":[$v4]}" >/dev/null	# another admin
form() {	# JSON FIELDS: the page's Set defaults, with its session and token
	curl -s -b "$J2" -H "X-CSRF-Token: $token" -H \
		'Content-Type: application/json' --data "{$1}" "$U/api/di/default"
}
t_like "a stale page's Set defaults changes nothing, saying why" \
	"$(form "\"default_desk\":$v3,\"was_desk\":1")" \
	"nothing was changed: the default of desk changed since this page was shown \(now DI $v4\)"
t_is "the newer default stays" "$(q "SELECT di_id FROM di_tags WHERE tag =
	'default'")" "$v4"
t_like "a row left as the page showed it is not resubmitted" \
	"$(form "\"default_desk\":1,\"was_desk\":1")" \
	'"message":"No default was changed."'
t_is "and undoes nothing" "$(q "SELECT di_id FROM di_tags WHERE tag =
	'default'")" "$v4"
curl -s -o /dev/null -b "$J2" -d csrf="$token" "$U3/logout"
t_is "logged out (on the other WAT): a saved cookie gets no page" \
	"$(code -b "$QVD_WORK/saved" "$U/vm/")" 303
t_is "no API read" "$(code -b "$QVD_WORK/saved" "$U/api/vm")" 401
t_is "and no change" "$(code -b "$QVD_WORK/saved" -d csrf="$token" -d id=1 \
	-d back=/vm/ "$U/api/vm/block")" 401
t_is "nothing was blocked" "$(q "SELECT blocked FROM vm_runtimes")" f
t_is "the session's row is gone" "$(session_rows "$hash")" 0
curl -s -o /dev/null -c "$J2" -d login=admin -d password=admin "$U/login"
t_like "a form of an earlier session: a page saying to reload it" \
	"$(curl -s -b "$J2" -d csrf="$token" -d id=1 -d back=/vm/ "$U/api/vm/block")" \
	'<h1>This page is out of date</h1>.*nothing was changed. Reload it'
t_is "not blocked either" "$(q "SELECT blocked FROM vm_runtimes")" f
kill "$WAT3"; WAT3=

# --- failed logins are throttled per login and address ---
for i in 1 2 3 4 5; do
	curl -s -o /dev/null -d login=admin -d password=wrong$i "$U/login"
done
t_is "after 5 failures even the right password is refused: 429" \
	"$(code -d login=admin -d password=admin "$U/login")" 429
t_like "saying for how long" \
	"$(curl -s -d login=admin -d password=admin "$U/login")" \
	"Too many failed logins from 127.0.0.1; try again in [0-9]+ seconds"

# --- TLS with the L7R's certificate ---
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 2 \
	-keyout "$QVD_WORK/key.pem" -out "$QVD_WORK/cert.pem" 2>/dev/null
qa config ssl key="$QVD_WORK/key.pem" cert="$QVD_WORK/cert.pem" >/dev/null
kill "$WAT"
qa config set wat.use_ssl=1 wat.port=13311 >/dev/null
t_like "-n says it will serve TLS" "$(qvd-wat -n -c "$QVD_CONF")" \
	"configuration OK \\(port 13311, TLS\\)"
qvd-wat -f -c "$QVD_CONF" >"$QVD_WORK/wat2.out" 2>&1 &
WAT2=$!
wait_for 10 curl -sk -o /dev/null https://127.0.0.1:13311/login
t_like "wat.use_ssl: HTTPS, the session cookie is Secure" \
	"$(curl -sk -D - -o /dev/null -d login=admin -d password=admin \
	https://127.0.0.1:13311/login | tr -d '\r')" \
	"Set-Cookie: qvdwat=.*; HttpOnly; SameSite=Strict; Secure"
t_like "and the certificate is the stored one" \
	"$(curl -s --cacert "$QVD_WORK/cert.pem" -o /dev/null -w '%{http_code}' \
	https://127.0.0.1:13311/login)" 200
q "DELETE FROM ssl_configs" >/dev/null
t_like "without a stored certificate it refuses to start, saying why" \
	"$(qvd-wat -n -c "$QVD_CONF" 2>&1)" \
	"wat.use_ssl is on but no certificate is stored"
t_done
