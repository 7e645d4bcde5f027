# SPDX-License-Identifier: GPL-3.0-or-later
# qa_errors.sh -- bad input gets one line on stderr naming the problem, a
# non-zero exit (2 for usage, 1 for the rest), and changes nothing.
. "$QVD_TOP/tests/lib/tap.sh"

qvd-deploy-db >/dev/null
S="$QVD_WORK/storage"
mkdir -p "$S/staging"
qa config set path.storage.root="$S" vm.network.ip.start=10.3.15.50 \
	vm.network.netmask=24 >/dev/null
qa host add name=node1 address=10.0.0.1 >/dev/null
qa osf add name=desk >/dev/null
qa user add login=ann password=a >/dev/null
qa vm add name=vm1 user=ann osf=desk >/dev/null

snapshot() {
	q "SELECT (SELECT count(*) FROM hosts) || '/' || (SELECT count(*)
	FROM osfs) || '/' || (SELECT count(*) FROM users) || '/' || (SELECT
	count(*) FROM vms) || '/' || (SELECT count(*) FROM dis) || '/' ||
	(SELECT count(*) FROM configs) || '/' || (SELECT count(*) FROM
	vm_properties) || '/' || (SELECT string_agg(vm_state || blocked::text ||
	coalesce(vm_cmd, '-'), ',') FROM vm_runtimes)"
}
before=$(snapshot)

# bad STATUS WANT_REGEX CMD...: exit status, one stderr line, the message
bad() {
	_st=$1 _re=$2
	shift 2
	"$@" >"$QVD_WORK/out" 2>"$QVD_WORK/err"
	_got=$?
	_cmd=$(echo "$*" | sed 's/\(.\{60\}\).\{20,\}/\1.../')
	t_is "$_cmd -> status $_st" "$_got" "$_st"
	t_is "$_cmd: one line on stderr" "$(wc -l <"$QVD_WORK/err")" "1"
	t_like "$_cmd: says why" "$(cat "$QVD_WORK/err")" "$_re"
}

bad 2 "^qa: unknown object 'colour'" qa colour list 
bad 2 "^qa: vm: unknown command 'fly' \(commands: add, block, console" qa vm fly
bad 2 "^qa: osf add: unknown argument 'colour' \(usage: qa osf add name=NAME" \
	qa osf add name=x colour=red
bad 2 "^qa: host add: missing address=" qa host add name=x
bad 2 "^qa: vm add: give either user= or user_id=" qa vm add name=x osf=desk
bad 2 "^qa: vm list: unknown filter key 'colour' \(valid: id, vm_id, name" \
	qa vm list -f colour=red
bad 2 "^qa: vm list: bad filter 'name' \(want key=value\)" qa vm list -f name
bad 2 "^qa: unknown option -x" qa vm list -x
bad 2 "^qa: vm start: --json is for list" qa vm start --json -f id=1
bad 2 "^qa: host add: name= given twice" qa host add name=a name=b address=x
bad 1 "^qa: vm add: no user named 'nobody'" qa vm add name=v user=nobody \
	osf=desk
bad 1 "^qa: vm add: no OSF named 'x'" qa vm add name=v user=ann osf=x
bad 1 "^qa: vm add: no OSF with id 99" qa vm add name=v user=ann osf_id=99
bad 1 "^qa: host add: a host named 'node1' already exists" \
	qa host add name=node1 address=10.0.0.2
bad 1 "^qa: host add: address 10.0.0.1 is already used by host 'node1'" \
	qa host add name=node2 address=10.0.0.1
bad 1 "^qa: host add: 'bad address!' is not an IP address" \
	qa host add name=node2 address='bad address!'
bad 1 "^qa: osf add: an OSF named 'desk' already exists" qa osf add name=desk
bad 1 "^qa: osf add: memory: '0' is too small \(1 to 1048576\)" \
	qa osf add name=x memory=0
bad 1 "^qa: osf add: use_overlay: 'maybe' is not a boolean" \
	qa osf add name=x use_overlay=maybe
bad 1 "^qa: osf add: user_storage_size: '12X' is not a size" \
	qa osf add name=x user_storage_size=12X
bad 1 "^qa: vm add: bulk: '0' is too small" qa vm add name=v user=ann \
	osf=desk bulk=0
bad 1 "^qa: vm add: a VM named 'vm1' already exists" qa vm add name=vm1 \
	user=ann osf=desk
bad 1 "^qa: vm add: VM name must not be empty" qa vm add name= user=ann \
	osf=desk
bad 1 "^qa: user add: login 'a:b' is not allowed: letters, digits and \. _ @ -" \
	qa user add login=a:b password=x
bad 1 "^qa: vm start: the filter matches no VM" qa vm start -f name=none
bad 1 "^qa: vm edit: expire-soft: cannot read time 'yesterday'" \
	qa vm edit expire-soft=yesterday -f id=1
bad 1 "^qa: vm del: no filter given: refusing to delete all VMs without --force" \
	qa vm del
bad 1 "^qa: config set: l7r.port: 'eighty' is not a number" \
	qa config set l7r.port=eighty
bad 1 "^qa: config set: database.host is read from node.conf only" \
	qa config set database.host=elsewhere
bad 1 "^qa: config set: l7r.port: 'x' is not a number" \
	qa config set wat.port=4000 l7r.port=x
t_is "one refused pair: none is stored" \
	"$(q "SELECT count(*) FROM configs WHERE key = 'wat.port'")" 0
bad 1 "^qa: config ssl: key: cannot read" qa config ssl key=/nonexistent \
	cert=/nonexistent
bad 1 "^qa: di add: cannot read .*/nope.img: No such file" \
	qa di add path="$S/staging/nope.img" osf=desk
bad 1 "^qa: di add: .* is not a regular file" qa di add path="$S" osf=desk
bad 1 "^qa: di tag: no DI with id 7" qa di tag di_id=7 tag=x
bad 1 "^qa: vm vnc: the VNC console is not available with LXC" sh -c \
	'qa config set vm.hypervisor=lxc && qa vm vnc -f id=1; st=$?;
	 qa config del vm.hypervisor >/dev/null; exit $st'
# typed configuration values (chapter 5's keys first)
bad 1 "^qa: config set: vm.network.netmask: '33' is not a netmask \(a prefix length from 1 to 30, or dotted as 255\.255\.255\.0\)$" \
	qa config set vm.network.netmask=33
bad 1 "^qa: config set: vm.network.ip.start: 'notanip' is not an IPv4 address$" \
	qa config set vm.network.ip.start=notanip
bad 1 "^qa: config set: vm.network.gateway: '10.3.15' is not an IPv4 address$" \
	qa config set vm.network.gateway=10.3.15
bad 1 "^qa: config set: l7r.address: 'not-an-ip' is not an IP address or \*$" \
	qa config set l7r.address=not-an-ip
bad 1 "^qa: config set: vm.network.mac.prefix: '55:52:00' is not a MAC prefix" \
	qa config set vm.network.mac.prefix=55:52:00
bad 1 "^qa: config set: vm.network.bridge: 'a bridge' is not an interface name" \
	qa config set "vm.network.bridge=a bridge"
bad 1 "^qa: config set: hkd.user.umask: '999' is not a umask \(octal, 0 to 0777\)$" \
	qa config set hkd.user.umask=999
bad 1 "^qa: config set: path.storage.root: 'storage' is not an absolute path$" \
	qa config set path.storage.root=storage
bad 1 "^qa: config set: l7r.auth.plugins: 'default,kerberos' is not a comma list of these: default\|ldap\|auto$" \
	qa config set l7r.auth.plugins=default,kerberos
t_is "the netmask is still the one set" \
	"$(q "SELECT value FROM configs WHERE key = 'vm.network.netmask'")" 24
# addresses and names: one rule per kind (qa(1), NAMES)
bad 1 "^qa: host add: '999.999.1.1' is not an IP address$" \
	qa host add name=node2 address=999.999.1.1
bad 1 "^qa: host add: 'not-an-ip' is not an IP address$" \
	qa host add name=node2 address=not-an-ip
for n in "it's" 'a;b' "two words" "../etc" '"q"'; do
	bad 1 "^qa: osf add: OSF name '.*' is not allowed: letters, digits and \. _ -, starting with a letter or digit, at most 64$" \
		qa osf add name="$n"
	bad 1 "^qa: user add: login '.*' is not allowed: letters, digits and \. _ @ -, starting with a letter or digit, at most 64$" \
		qa user add login="$n" password=x
	bad 1 "^qa: vm add: VM name '.*' is not allowed" \
		qa vm add name="$n" user=ann osf=desk
done
bad 1 "^qa: host add: host name 'a/b' is not allowed" \
	qa host add name=a/b address=10.0.0.9
bad 1 "^qa: osf add: an OSF named 'desk' already exists \(OSF names ignore case\)$" \
	qa osf add name=DESK
bad 1 "^qa: vm add: a VM named 'vm1' already exists$" \
	qa vm add name=VM1 user=ann osf=desk
bad 1 "^qa: host add: a host named 'node1' already exists \(node names ignore case\)$" \
	qa host add name=NODE1 address=10.0.0.9
# what a VM needs to start, and times that have passed
bad 1 "^qa: vm edit: no disk image of OSF 'desk' is tagged 'nosuchtag' \(see qa di list -f osf_id=1\)$" \
	qa vm edit di_tag=nosuchtag -f id=1
bad 1 "^qa: vm add: no disk image of OSF 'desk' is tagged 'nosuchtag'" \
	qa vm add name=vm9 user=ann osf=desk di_tag=nosuchtag
bad 1 "^qa: vm edit: expire-hard 1999-01-01 [0-9:]+ is in the past \(now expires at once; an empty value clears it\)$" \
	qa vm edit expire-hard=1999-01-01 -f id=1
# long values: the echo is cut, the reason stays
long=$(head -c 10000 /dev/zero | tr '\0' x)
bad 1 "^qa: osf add: OSF name 'x{45}\.\.\.' is longer than 64 characters$" \
	qa osf add name="$long"
bad 1 "^qa: vm add: no user named 'x{45}\.\.\.'$" \
	qa vm add name=v user="$long" osf=desk
bad 1 "^qa: config set: vm.network.ip.start: 'x{45}\.\.\.' is not an IPv4 address$" \
	qa config set vm.network.ip.start="$(echo "$long" | head -c 1000)"
bad 2 "^qa: unknown object 'x{45}\.\.\.' \(objects: config, di, host, osf, user, vm\)$" \
	qa "$long" list
bad 2 "^qa: vm list: unknown filter key 'x{45}\.\.\.' \(valid: id, " \
	qa vm list -f "$long=1"
bad 1 "^qa: user add: the password is too long \(10000 bytes; at most 1024\)$" \
	qa user add login=zed password="$long"
t_is "the database is unchanged" "$(snapshot)" "$before"
t_is "no file left in images" "$(ls -A "$S/images" 2>/dev/null)" ""

# a copy interrupted with ^C leaves neither a row nor a file
truncate -s 3G "$S/staging/big.img"
qa di add path="$S/staging/big.img" osf=desk >"$QVD_WORK/out" \
	2>"$QVD_WORK/err" &
pid=$!
sleep 0.3
kill -INT $pid
wait $pid
t_is "interrupted di add: status 1" "$?" "1"
t_like "interrupted di add: says so" "$(cat "$QVD_WORK/err")" \
	"^qa: di add: interrupted; nothing was added$"
t_is "interrupted di add: no row" "$(q "SELECT count(*) FROM dis")" "0"
t_is "interrupted di add: no file" "$(ls -A "$S/images")" ""
rm -f "$S/staging/big.img"

# messages count what changed, and name what did not and why
t_is "a VM with no disk image is not started" "$(qa vm start -f id=1)" \
	"Started 0 VMs. Not started: vm1 (no disk image tagged default)."
t_status "nothing started: status 1" 1 qa vm start -f id=1
t_like "a VM of an OSF with no image yet: added, with a warning" \
	"$(qa vm add name=vm2 user=ann osf=desk 2>&1)" \
	"^qa: vm add: warning: OSF 'desk' has no disk image yet: the VM cannot start until one is added
VM added with id 2$"
qa vm block -f id=1 >/dev/null
t_is "unblock counts the blocked VMs only" "$(qa vm unblock --force)" \
	"Unblocked 1 VMs. Unchanged: vm2 (already unblocked)."
t_is "stop of stopped VMs: nothing to do, said" "$(qa vm stop -f id=1)" \
	"Stopped 0 VMs. Unchanged: vm1 (already stopped)."
t_status "and not an error" 0 qa vm stop -f id=1
bad 1 "^qa: vm edit: address 10.3.15.51 is already used by VM 'vm2'$" \
	qa vm edit ip=10.3.15.51 -f id=1
bad 1 "^qa: vm edit: the name 'VM2' is taken by VM 'vm2'$" \
	qa vm edit name=VM2 -f id=1
t_is "an edit that changes nothing says so" "$(qa vm edit name=vm1 -f id=1)" \
	"Edited 0 VMs. Unchanged: 1 of 1 VMs already had these values."
t_is "config del of a key that is not set" "$(qa config del nosuch.key)" \
	"0 config entries deleted. Not deleted: nosuch.key (not set in the database)."
t_status "is an error" 1 qa config del nosuch.key
qa config set wat.port=4000 >/dev/null
t_is "and of one set and one not" "$(qa config del wat.port nosuch.key)" \
	"1 config entries deleted. Not deleted: nosuch.key (not set in the database)."
if [ ! -e /etc/qvd/node.conf ]; then
	t_like "no -c and no /etc/qvd/node.conf: qa names the missing file" \
		"$(env -u QVD_CONF "$QVD_BIN/qa" host list 2>&1)" \
		"^qa: host list: cannot connect to database qvd on localhost: .* \(/etc/qvd/node.conf does not exist: give -c FILE or set QVD_CONF\)$"
else
	t_skip "no -c and no /etc/qvd/node.conf" "this machine has one"
fi

# mass actions: refused without a terminal, asked on one, --force/-y skip
t_like "answering n on a terminal changes nothing" \
	"$(echo n | script -qec 'qa vm block' /dev/null)" \
	"Are you sure you want to block all VMs\? \[y/N\].*cancelled"
t_is "still unblocked" "$(q "SELECT string_agg(blocked::text, ',') FROM
	vm_runtimes")" "false,false"
t_is "--force skips the question" "$(qa vm block --force)" "Blocked 2 VMs."
t_is "-y too" "$(qa vm unblock -y)" "Unblocked 2 VMs."

# help from the dispatch table
for c in "config get" "di add" "host counters" "osf add" "user passwd" \
	"vm disconnect_user" "vm ssh"; do
	# shellcheck disable=SC2086
	t_like "qa $c --help" "$(qa $c --help)" "^$c: .*
usage: qa $c"
done
t_status "qa with nothing is a usage error" 2 qa
t_status "qa --help succeeds" 0 qa --help
t_is "qa --help lists every command" "$(qa --help | grep -c '^  ')" "50"
t_done
