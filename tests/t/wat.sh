# SPDX-License-Identifier: GPL-3.0-or-later
# wat.sh -- qvd-wat, first slice: login against wat.admin.* (plain default
# or hashed by qa config set), signed session cookies, CSRF on logout, the
# dashboard's totals as HTML and JSON.
. "$QVD_TOP/tests/lib/tap.sh"

PORT=13300
U=http://127.0.0.1:$PORT
J=$QVD_WORK/jar
cleanup() {
	[ -n "${WAT:-}" ] && kill "$WAT" 2>/dev/null
	[ -s "$QVD_WORK/wat.pid" ] && kill "$(cat "$QVD_WORK/wat.pid")" 2>/dev/null
}
trap cleanup EXIT
qvd-deploy-db >/dev/null
qa config set wat.port=$PORT >/dev/null
qa user add login=ann password=x >/dev/null
qa user add login=bob password=x >/dev/null
qa osf add name=desk >/dev/null
qa host add name=n1 address=10.0.0.1 >/dev/null
qa config set vm.network.ip.start=10.3.15.50 vm.network.netmask=24 \
	vm.network.gateway=10.3.15.1 >/dev/null
qa vm add name=ann-desk user=ann osf=desk >/dev/null
# a file name admins choose freely, shown on the pages
S=$QVD_WORK/storage
mkdir -p "$S/staging"
qa config set path.storage.root="$S" >/dev/null
echo image >"$S/staging/R&D <lab>.img"
qa di add path="$S/staging/R&D <lab>.img" osf=desk >/dev/null

t_like "-n checks the configuration" "$(qvd-wat -n -c "$QVD_CONF")" \
	"configuration OK \\(port $PORT\\)"
echo 'PORT="13301"' >"$QVD_WORK/default"
qa config set wat.default_file="$QVD_WORK/default" >/dev/null
t_like "PORT= in /etc/default/qvd-wat overrides wat.port (manual 4.1)" \
	"$(qvd-wat -n -c "$QVD_CONF")" "configuration OK \\(port 13301\\)"
echo 'PORT=http' >"$QVD_WORK/default"
t_like "a bad PORT there is an error naming the file" \
	"$(qvd-wat -n -c "$QVD_CONF" 2>&1)" "default: PORT 'http' is not a number"
qa config del wat.default_file >/dev/null
qvd-wat -f -c "$QVD_CONF" >"$QVD_WORK/wat.out" 2>&1 &
WAT=$!
wait_for 10 curl -s -o /dev/null "$U/login"

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
t_is "without a session, pages send to the login" \
	"$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$U/")" \
	"303 $U/login"
t_is "and the API says 401" "$(code "$U/api/dashboard")" 401
t_is "in JSON" "$(curl -s "$U/api/dashboard")" '{"error":"log in first"}'
t_is "a wrong password: 401" \
	"$(code -d login=admin -d password=nope "$U/login")" 401
t_like "with the reason on the page" \
	"$(curl -s -d login=admin -d password=nope "$U/login")" \
	"Wrong login or password"
hdrs=$(curl -s -D - -o /dev/null -c "$J" -d login=admin -d password=admin \
	"$U/login" | tr -d '\r')
t_like "admin/admin logs in: a session cookie" "$hdrs" \
	"Set-Cookie: qvdwat=.*; Path=/; HttpOnly; SameSite=Strict"
page=$(curl -s -b "$J" "$U/")
t_like "the dashboard has the totals of figure 4.2" "$page" \
	"<th>Users</th><td>2</td>.*<th>Nodes</th><td>1</td>.*<th>OS flavours</th><td>1</td><.*<th>Disk images</th><td>1</td>"
t_like "and pie charts as inline SVG" "$page" "<svg .*Virtual machines"
t_is "the same as JSON" "$(curl -s -b "$J" "$U/api/dashboard")" \
	'{"users":2,"vms":1,"vms_running":0,"vms_blocked":0,"sessions":0,"nodes":1,"nodes_running":0,"osfs":1,"dis":1}'
t_like "the VMs page lists it" "$(curl -s -b "$J" "$U/vm/")" \
	"<td>ann-desk</td><td>ann</td>"
t_like "names are escaped" "$(curl -s -b "$J" "$U/di/new")" \
	"<option>R&amp;D &lt;lab&gt;.img</option>"
t_like "the users page lists them" "$(curl -s -b "$J" "$U/users/")" \
	"<th>Id</th><th>Login</th>.*<td>ann</td>.*<td>bob</td>"
t_like "every section is linked" "$page" \
	'href="/users/".*href="/vm/".*href="/hosts/".*href="/osf/".*href="/di/"'
for o in user vm host osf di; do
	t_is "/api/$o is qa $o list --json" "$(curl -s -b "$J" "$U/api/$o")" \
		"$(qa $o list --json)"
done
good=$(sed -n 's/.*qvdwat\t//p' "$J")
case $good in *0) forged="${good%?}1" ;; *) forged="${good%?}0" ;; esac
t_is "a forged cookie is no session" \
	"$(code -b "qvdwat=$forged" "$U/api/dashboard")" 401
t_is "logout without the CSRF token: 403" "$(code -b "$J" -X POST "$U/logout")" 403
token=$(echo "$page" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p')
t_like "with it: the cookie is cleared" \
	"$(curl -s -D - -o /dev/null -b "$J" -d csrf="$token" "$U/logout" | tr -d '\r')" \
	"Set-Cookie: qvdwat=; Path=/; Max-Age=0"
curl -s -o /dev/null -c "$QVD_WORK/before" -d login=admin -d password=admin \
	"$U/login"
t_is "a session before the password changes" \
	"$(code -b "$QVD_WORK/before" "$U/")" 200
qa config set wat.admin.password=n3wS3cret >/dev/null
t_is "is refused after it" "$(code -b "$QVD_WORK/before" "$U/")" 303
t_like "qa config set stores the admin password hashed" \
	"$(qa config get --secrets wat.admin.password)" 'pbkdf2|\$'
t_is "the old password no longer works" \
	"$(code -d login=admin -d password=admin "$U/login")" 401
t_is "the new one does" \
	"$(code -d login=admin -d password=n3wS3cret "$U/login")" 303

# as a daemon (no -f) it logs to wat.log.filename, opened before giving
# up root
kill "$WAT"; WAT=
wait_for 10 sh -c "! curl -s -o /dev/null $U/login"
sed 's/^wat.log.filename =.*//' "$QVD_CONF" >"$QVD_WORK/daemon.conf"
echo "wat.log.filename = $QVD_WORK/wat.log" >>"$QVD_WORK/daemon.conf"
echo "log.level = INFO" >>"$QVD_WORK/daemon.conf"
echo "wat.pid_file = $QVD_WORK/wat.pid" >>"$QVD_WORK/daemon.conf" # as root
t_ok "qvd-wat detaches" qvd-wat -c "$QVD_WORK/daemon.conf"
wait_for 10 curl -s -o /dev/null "$U/login"
code -d login=admin -d password=wrong "$U/login" >/dev/null
t_ok "and logs to wat.log.filename" wait_for 5 grep -q \
	"qvd-wat.*login of 'admin' refused" "$QVD_WORK/wat.log"
kill "$(cat "$QVD_WORK/wat.pid")"
t_done
