# SPDX-License-Identifier: GPL-3.0-or-later
# qa_commands.sh -- every qa command against the rig's database, checking
# what the database holds afterwards.
. "$QVD_TOP/tests/lib/tap.sh"

qvd-deploy-db >/dev/null
S="$QVD_WORK/storage"
mkdir -p "$S/staging"
qa config set path.storage.root="$S" vm.network.ip.start=10.3.15.50 \
	vm.network.netmask=24 vm.network.gateway=10.3.15.1 >/dev/null

# --- config ---
t_ok "config set" qa config set l7r.port=9443 custom.thing="a b"
t_is "config rows" "$(q "SELECT key || '=' || value FROM configs WHERE key IN
	('l7r.port', 'custom.thing') ORDER BY key")" "custom.thing=a b
l7r.port=9443"
t_is "config get key" "$(qa config get l7r.port)" "l7r.port=9443"
out=$(qa config get)
t_like "config get lists effective defaults" "$out" \
	"^path.storage.images=$S/images$"
t_like "config get hides internal keys" "$(echo "$out" | grep -c '^internal\.')" "^0$"
t_like "config get --json" "$(qa config get --json l7r.port)" \
	'\{"key":"l7r.port","value":"9443","source":"database"\}'
t_status "config get of an unknown key" 1 qa config get no.such.key
qa config set auth.ldap.bindpass=s3cr3t >/dev/null
t_is "a secret is not printed, even asked for by name" \
	"$(qa config get auth.ldap.bindpass)" "auth.ldap.bindpass=********"
t_is "nor in the listing" \
	"$(qa config get | grep -c 's3cr3t\|^wat.admin.password=admin$')" 0
t_is "where it shows it is set" "$(qa config get | grep -E \
	'^(auth.ldap.bindpass|wat.admin.password)=')" \
	"auth.ldap.bindpass=********
wat.admin.password=********"
t_is "nor as JSON" "$(qa config get --json auth.ldap.bindpass | tr -d ' \n')" \
	'[{"key":"auth.ldap.bindpass","value":"********","source":"database"}]'
t_is "an unset one shows empty" "$(qa config get database.password)" \
	"database.password="
t_is "--secrets shows it" "$(qa config get --secrets auth.ldap.bindpass)" \
	"auth.ldap.bindpass=s3cr3t"
t_is "--secrets is for config get only" \
	"$(qa --secrets user list 2>&1; echo $?)" \
	"qa: user list: --secrets is for config get only
2"
qa config del auth.ldap.bindpass >/dev/null
t_is "config del" "$(qa config del custom.thing)" "1 config entries deleted."
t_status "config set refuses file-only keys" 1 qa config set log.level=DEBUG
t_status "config set refuses bad values" 1 qa config set l7r.port=http
t_is "nothing half-written by refused sets" \
	"$(q "SELECT count(*) FROM configs WHERE key IN ('log.level')")" "0"
t_ok "config set wat.admin.password" qa config set wat.admin.password=myS3cR3t
t_like "wat.admin.password stored hashed" \
	"$(q "SELECT value FROM configs WHERE key = 'wat.admin.password'")" \
	'^\$pbkdf2-sha256\$'
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$QVD_WORK/k.pem" \
	-out "$QVD_WORK/c.pem" -days 2 -subj /CN=node1 >/dev/null 2>&1
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$QVD_WORK/k2.pem" \
	-out "$QVD_WORK/c2.pem" -days 2 -subj /CN=other >/dev/null 2>&1
t_is "config ssl" "$(qa config ssl key="$QVD_WORK/k.pem" \
	cert="$QVD_WORK/c.pem")" "SSL certificate and private key set; CA none \
(client certificates not checked); CRL none."
t_is "ssl_configs rows" "$(q "SELECT string_agg(key, ',' ORDER BY key)
	FROM ssl_configs")" "l7r.ssl.cert,l7r.ssl.key"
t_status "config ssl refuses a key of another certificate" 1 \
	qa config ssl key="$QVD_WORK/k2.pem" cert="$QVD_WORK/c.pem"
t_like "and the stored pair is unchanged" "$(q "SELECT value FROM ssl_configs
	WHERE key = 'l7r.ssl.cert'")" "BEGIN CERTIFICATE"

# --- hosts ---
t_is "host add" "$(qa host add name=node1 address=10.3.15.2)" \
	"Host added with id 1"
t_ok "second host" qa host add name=node2 address=10.3.15.3
t_is "runtime and counters rows" "$(q "SELECT r.state || r.blocked ||
	c.http_requests FROM host_runtimes r JOIN host_counters c USING
	(host_id) WHERE host_id = 1")" "stoppedfalse0"
t_like "host list" "$(qa host list -q -f name=node1)" \
	"^1 node1 10.3.15.2 - - - 0 0 stopped$"
t_is "host block" "$(qa host block -f name=node2)" "Blocked 1 hosts."
t_is "blocked in the db" "$(q "SELECT blocked FROM host_runtimes
	WHERE host_id = 2")" "t"
t_is "host unblock" "$(qa host unblock -f id=2)" "Unblocked 1 hosts."
t_like "host counters --json" "$(qa host counters --json -f id=1)" \
	'"http_requests":0,"auth_attempts":0'
t_is "host propset" "$(qa host propset rack=A1 -f name=node1)" \
	"propset in 1 hosts."
t_is "host propget" "$(qa host propget rack)" "node1	rack=A1"
t_is "host propdel" "$(qa host propdel rack -f id=1)" \
	"1 properties deleted."
t_is "host del" "$(qa host del -f name=node2)" "1 hosts deleted."
t_is "cascaded" "$(q "SELECT count(*) FROM host_runtimes")" "1"

# --- OSFs ---
t_is "osf add" "$(qa osf add name=desk memory=512 user_storage_size=1G)" \
	"OSF added with id 1"
t_ok "osf add defaults" qa osf add name=plain
t_is "osf row" "$(q "SELECT name, memory, use_overlay, user_storage_size
	FROM osfs ORDER BY id" | tr '\n' ' ')" "desk|512|t|1024 plain|256|t| "
t_like "osf list" "$(qa osf list -q -f name=desk)" "^1 desk 512 yes 1024$"
t_ok "osf propset" qa osf propset qvd.vm.desktop=lxde -f id=1
t_is "osf propget" "$(qa osf propget -f id=1)" "desk	qvd.vm.desktop=lxde"

# --- users ---
t_is "user add" "$(qa user add login=Peter password=s3cr3t)" \
	"User added with id 1"
t_is "login lower-cased" "$(q "SELECT login FROM users")" "peter"
t_like "password hashed" "$(q "SELECT password FROM users")" \
	'^\$pbkdf2-sha256\$100000\$'
t_status "duplicate login" 1 qa user add login=peter password=x
echo "n3wpass" >"$QVD_WORK/pw"
before=$(q "SELECT password FROM users")
t_is "user passwd from standard input" \
	"$(qa user passwd user=peter <"$QVD_WORK/pw")" \
	"Password of user 'peter' changed"
after=$(q "SELECT password FROM users")
t_ok "a new hash is stored" test "$before" != "$after"
t_is "user add reads a password" "$(echo pw2 | qa user add login=anna)" \
	"User added with id 2"
t_like "user list --json" "$(qa user list --json)" \
	'\{"id":1,"login":"peter","sessions":0,"vms":0\},'

# --- disk images ---
head -c 300000 /dev/urandom >"$S/staging/image.tar.gz"
t_is "di add" "$(qa di add path="$S/staging/image.tar.gz" osf=desk)" \
	"DI added with id 1 (version $(date +%Y-%m-%d)-000)"
t_ok "copied under its final name" cmp "$S/staging/image.tar.gz" \
	"$S/images/1-image.tar.gz"
t_is "tags of the first DI" "$(q "SELECT string_agg(tag || ':' || fixed,
	' ' ORDER BY tag) FROM di_tags WHERE di_id = 1")" \
	"$(date +%Y-%m-%d)-000:true default:false head:false"
t_ok "second di" qa di add path="$S/staging/image.tar.gz" osf_id=1 \
	version=v2
t_is "head moved, default stayed" "$(q "SELECT string_agg(di_id || tag,
	' ' ORDER BY tag) FROM di_tags WHERE tag IN ('head', 'default')")" \
	"1default 2head"
t_is "di tag" "$(qa di tag di_id=2 tag=default)" "DI tagged"
t_is "default moved" "$(q "SELECT di_id FROM di_tags WHERE tag =
	'default'")" "2"
t_status "fixed version tag refused" 1 qa di tag di_id=1 tag=v2
t_is "di untag" "$(qa di untag di_id=2 tag=default)" "DI untagged"
t_status "untag a missing tag" 1 qa di untag di_id=2 tag=default
t_ok "tag back" qa di tag di_id=2 tag=default
t_like "di list" "$(qa di list -q -f osf=desk | tail -1)" \
	"^2 desk v2 +2-image.tar.gz default, head, v2$"
t_like "di list --json tags" "$(qa di list --json -f tag=head)" \
	'"tags":\["default","head","v2"\]'
t_ok "di propset" qa di propset note=x -f id=2
t_is "di propget" "$(qa di propget)" "2-image.tar.gz	note=x"

# --- VMs ---
t_is "vm add" "$(qa vm add name=vm1 user=peter osf=desk)" "VM added with id 1"
t_is "next free address" "$(q "SELECT ip || ' ' || di_tag || ' ' ||
	storage FROM vms")" "10.3.15.50 default "
t_is "runtime row" "$(q "SELECT vm_state || ' ' || user_state || ' ' ||
	blocked FROM vm_runtimes")" "stopped disconnected false"
t_is "vm add bulk" "$(qa vm add name=pool user_id=2 osf_id=1 bulk=3 \
	di_tag=head)" "3 VMs added with ids from 2"
t_is "bulk names and addresses" "$(q "SELECT string_agg(name || '@' || ip,
	' ' ORDER BY id) FROM vms WHERE id > 1")" \
	"pool-0@10.3.15.51 pool-1@10.3.15.52 pool-2@10.3.15.53"
t_ok "vm add with ip" qa vm add name=fixed user=peter osf=plain \
	ip=10.3.15.200
t_status "ip outside the range" 1 qa vm add name=x user=peter osf=desk \
	ip=10.3.16.9
t_status "ip already used" 1 qa vm add name=x user=peter osf=desk \
	ip=10.3.15.200
t_like "vm list" "$(qa vm list -q -f name=vm1)" \
	"^1 vm1 peter - 10.3.15.50 desk default v2 - - stopped - disconnected 0"
t_like "vm list --json" "$(qa vm list --json -f id=1)" \
	'"state":"stopped","l7r_host":null,"user_state":"disconnected","blocked":false'
t_like "filter by wildcard" "$(qa vm list -q -f 'name=pool-?' | wc -l)" "^3$"
t_like "filters AND together" "$(qa vm list -q -f user=anna,name=pool-1 |
	wc -l)" "^1$"
t_like "filter by property" "$(qa vm propset x=1 -f id=3 >/dev/null;
	qa vm list -q -f property.x=1)" "^3 pool-1"

q "UPDATE host_runtimes SET state = 'running', usable_ram = 1000,
	usable_cpu = 2000, ok_ts = localtimestamp" >/dev/null
t_is "vm start" "$(qa vm start -f id=1)" "Started 1 VMs."
t_is "placed and commanded" "$(q "SELECT host_id || ' ' || vm_cmd FROM
	vm_runtimes WHERE vm_id = 1")" "1 start"
t_is "vm stop withdraws a pending start" "$(qa vm stop -f id=1)" \
	"Stopped 1 VMs."
t_is "command cleared" "$(q "SELECT coalesce(vm_cmd, 'none') FROM
	vm_runtimes WHERE vm_id = 1")" "none"
q "UPDATE vm_runtimes SET vm_state = 'running' WHERE vm_id = 1" >/dev/null
t_is "vm stop of a running VM" "$(qa vm stop -f id=1)" "Stopped 1 VMs."
t_is "stop commanded" "$(q "SELECT vm_cmd FROM vm_runtimes
	WHERE vm_id = 1")" "stop"
t_is "vm block" "$(qa vm block -f user_id=2)" "Blocked 3 VMs."
t_is "vm unblock" "$(qa vm unblock -f name=pool-0)" "Unblocked 1 VMs."
t_is "blocked flags" "$(q "SELECT string_agg(vm_id || blocked::text, ' '
	ORDER BY vm_id) FROM vm_runtimes")" \
	"1false 2false 3true 4true 5false"
q "UPDATE vm_runtimes SET user_state = 'connected', l7r_host_id = 1
	WHERE vm_id = 2" >/dev/null
t_is "vm disconnect_user" "$(qa vm disconnect_user -f id=2)" \
	"Disconnected 1 users."
t_is "abort commanded" "$(q "SELECT user_cmd FROM vm_runtimes
	WHERE vm_id = 2")" "abort"
t_status "disconnect with nobody connected" 1 qa vm disconnect_user -f id=3
t_is "vm edit" "$(qa vm edit di_tag=v2 -f 'name=pool-*')" "Edited 3 VMs."
t_ok "vm edit expirations" qa vm edit expire-soft="now + 1 hour" \
	expire-hard=tomorrow -f id=1
t_is "expirations stored" "$(q "SELECT (vm_expiration_soft >
	localtimestamp) AND (vm_expiration_hard > vm_expiration_soft) FROM
	vm_runtimes WHERE vm_id = 1")" "t"
t_ok "an empty value clears" qa vm edit expire-hard= -f id=1
t_is "hard cleared, soft kept" "$(q "SELECT vm_expiration_hard IS NULL AND
	vm_expiration_soft IS NOT NULL FROM vm_runtimes WHERE vm_id = 1")" "t"
t_status "one name for many VMs" 1 qa vm edit name=x -f 'name=pool-*'
t_like "vm counters" "$(qa vm counters)" "Virtual machines Running Blocked"
t_like "vm counters --json" "$(qa vm counters --json -f id=1)" \
	'\{"id":1,"name":"vm1","run_attempts":0,"run_ok":0\}'
t_status "vm del of a running VM" 1 qa vm del -f id=1
t_is "vm del" "$(qa vm del -f name=fixed)" "1 VMs deleted. Their home \
directories are kept in path.storage.homefs (qa vm del homes=delete removes \
them with the VMs)."
t_is "runtime gone with it" "$(q "SELECT count(*) FROM vm_runtimes
	WHERE vm_id = 5")" "0"

# --- console tools: qa execs the real ssh at the VM's address ---
q "UPDATE vm_runtimes SET vm_address = '127.0.0.1', vm_ssh_port = 1
	WHERE vm_id = 1" >/dev/null
t_like "vm ssh runs ssh at the VM's address and port" \
	"$(qa vm ssh -f id=1 -- -o BatchMode=yes -o ConnectTimeout=2 true 2>&1)" \
	"connect to host 127.0.0.1 port 1: Connection refused"
t_like "vm ssh needs exactly one VM" "$(qa vm ssh -f 'name=pool-*' 2>&1)" \
	"matches several VMs"
t_like "vm vnc without a VNC port says so" "$(qa vm vnc -f id=1 2>&1)" \
	"VM 'vm1' has no VNC console"

# --- things that need others gone first ---
t_status "user del while it owns VMs" 1 qa user del -f login=anna
t_status "osf del while in use" 1 qa osf del -f name=desk
t_status "di del while running" 0 qa di del -f id=1
q "UPDATE vm_runtimes SET current_di_id = 2 WHERE vm_id = 1" >/dev/null
t_status "di del of a running image refused" 1 qa di del -f id=2
t_ok "image file of the deleted DI removed" test ! -e "$S/images/1-image.tar.gz"
t_is "osf del of an unused OSF" "$(qa osf del -f name=plain)" \
	"1 OSFs deleted."
t_done
