# SPDX-License-Identifier: GPL-3.0-or-later
# qa_manual.sh -- every qa example printed in the manual's chapters 4.3.1,
# 5.3.4, 5.4, 6, 9.4, 10, 11, 14 and 18, as an administrator types it.
. "$QVD_TOP/tests/lib/tap.sh"

qvd-deploy-db >/dev/null
S="$QVD_WORK/storage"
mkdir -p "$S/staging"
qa config set path.storage.root="$S" >/dev/null
run() { t_ok "$*" "$@"; }

# 4.3.1
run qa config set wat.admin.login=administrator
run qa config set wat.admin.password=myS3cR3t
# 5.3.4
run qa config set vm.network.ip.start=10.3.15.50
run qa config set vm.network.netmask=24
run qa config set vm.network.gateway=10.3.15.1
run qa config set vm.network.dns_server=10.3.15.254
run qa config set vm.network.bridge=qvdnet0
t_is "5.3.4 network stored" "$(q "SELECT count(*) FROM configs WHERE key
	LIKE 'vm.network.%'")" "5"
# 5.4 and 6.4.3
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$QVD_WORK/key.pem" \
	-out "$QVD_WORK/cert.pem" -days 2 -subj /CN=qvd >/dev/null 2>&1
run qa config ssl key="$QVD_WORK/key.pem" cert="$QVD_WORK/cert.pem"
t_like "qa config ssl --help (6.4.3)" "$(qa config ssl --help)" \
	"^config ssl: Sets the SSL certificate and private key"
# 6.2
t_like "qa --help lists the commands (6.2)" "$(qa --help)" \
	"  osf add
  osf del
  osf list"
# 6.4.1
run qa config set myproperty="this is a value"
t_like "qa config get (6.4.1)" "$(qa config get)" "^myproperty=this is a value$"
t_is "qa config del myproperty" "$(qa config del myproperty)" \
	"1 config entries deleted."
# 6.4.2
t_is "qa host add name=NewNode address=192.168.0.12" \
	"$(qa host add name=NewNode address=192.168.0.12)" "Host added with id 1"
t_like "qa host list -f name=sha* (6.3)" \
	"$(qa host add name=shamash address=192.168.0.13 >/dev/null
	   qa host list -f 'name=sha*')" "shamash 192.168.0.13"
run qa host del -f "name=NewNode"
t_is "NewNode gone" "$(q "SELECT count(*) FROM hosts WHERE name =
	'NewNode'")" "0"
# 6.4.4
t_is "qa osf add name=myOSF use_overlay=no memory=1024 user_storage_size=2048" \
	"$(qa osf add name=myOSF use_overlay=no memory=1024 \
	user_storage_size=2048)" "OSF added with id 1"
t_like "qa osf list" "$(qa osf list)" "myOSF 1024 no +2048"
# 6.4.5
cp /etc/hostname "$S/staging/qvd-guest.img"
run qa di add path="$S/staging/qvd-guest.img" osf_id=1
t_like "qa di list" "$(qa di list)" "1-qvd-guest.img"
# 6.4.6: a DI with id 42
q "SELECT setval('dis_id_seq', 41)" >/dev/null
run qa di add path="$S/staging/qvd-guest.img" osf=myOSF version=v42
run qa di tag di_id=42 tag=default
t_is "default now on DI 42" "$(q "SELECT di_id FROM di_tags WHERE tag =
	'default'")" "42"
# 6.4.8
t_is "qa user add login=peter password=s3cr3t" \
	"$(qa user add login=peter password=s3cr3t)" "User added with id 1"
run qa user add login=guest3 password=x
run qa user del -f login=guest3
run qa user list
# 6.4.9
t_ok "qa user passwd user=guest" sh -c \
	'qa user add login=guest password=a >/dev/null &&
	 echo newpw | qa user passwd user=guest'
# 6.4.10
t_is "qa vm add name=GuestVM user_id=1 osf_id=1" \
	"$(qa vm add name=GuestVM user_id=1 osf_id=1)" "VM added with id 1"
run qa vm del -f "name=GuestVM"
run qa vm add name=GuestVM user=peter osf=myOSF
# 6.4.7: a VM with id 42
q "SELECT setval('vms_id_seq', 41)" >/dev/null
run qa vm add name=vm42 user=peter osf=myOSF
# a VM may only be given a tag some disk image of its OSF carries
run qa di tag di_id=42 tag=acrobat_bug_fixed
run qa vm edit di_tag=acrobat_bug_fixed -f vm_id=42
t_is "di_tag edited" "$(q "SELECT di_tag FROM vms WHERE id = 42")" \
	"acrobat_bug_fixed"
# 6.4.11 (a running node to place the VM on)
q "UPDATE host_runtimes SET state = 'running', usable_ram = 100,
	usable_cpu = 100" >/dev/null
run qa vm add name=guest1 user=guest osf=myOSF
run qa vm stop -f "user=guest*"
t_is "qa vm start -f id=1 (VM 1 was deleted)" \
	"$(qa vm start -f "id=1" 2>&1)" "qa: vm start: the filter matches no VM"
run qa vm start -f "name=GuestVM"
# 6.4.12
run qa vm block -f "id=42"
run qa vm unblock -f "name=GuestVM"
# 6.4.13: nothing runs, and qa says so
t_like "qa vm console -f id=42" "$(qa vm console -f id=42 2>&1)" \
	"VM 'vm42' is not running"
t_like "qa vm ssh -f name=myVM -- -l qvd" \
	"$(qa vm ssh -f name=vm42 -- -l qvd 2>&1)" "is not running"
t_like "qa vm vnc -f name=myVM" "$(qa vm vnc -f name=vm42 2>&1)" \
	"is not running"
# 6.4.14 (the manual's propset/propget/propdel session)
run qa user add login=rowan password=r
t_is "qa user propset beverage=beer -F login=rowan" \
	"$(qa user propset beverage=beer -F login=rowan)" "propset in 1 users."
t_is "qa user propget" "$(qa user propget)" "rowan	beverage=beer"
t_like "qa user propdel beverage asks on a terminal" \
	"$(echo y | script -qec 'qa user propdel beverage' /dev/null)" \
	"Are you sure you want to delete the prop in all users\? \[y/N\]"
t_is "and deletes when told y" "$(q "SELECT count(*) FROM
	user_properties")" "0"

# 9.4
run qa config set vm.hypervisor=lxc
run qa config set vm.lxc.unionfs.bind.ro=0
run qa config set vm.lxc.unionfs.type=unionfs-fuse
run qa config set command.unionfs-fuse=/usr/bin/unionfs
t_like "qa osf add name=MyOSF: names ignore case, myOSF has it" \
	"$(qa osf add name=MyOSF 2>&1)" \
	"^qa: osf add: an OSF named 'myOSF' already exists \(OSF names ignore case\)"
cp /etc/hostname "$S/staging/my_image.tar.gz"
run qa di add path="$S/staging/my_image.tar.gz" osf=MyOSF
run qa user add login=test password=test
run qa vm add name=TestVM user=test osf=MyOSF
run qa vm start -f name=TestVM
t_like "qa vm list -f name=TestVM" "$(qa vm list -f name=TestVM)" \
	"TestVM test"
t_like "qa vm console -f name=test" "$(qa vm console -f name=test 2>&1)" \
	"the filter matches no VM"

# 10
run qa config set l7r.auth.mode='ldap'
run qa config set auth.ldap.host='ldap://example.com:389'
run qa config set auth.ldap.base='dc=example,dc=com'
run qa config set auth.ldap.scope=sub
run qa config set auth.ldap.filter='(|(uid=%u)(cn=%u))'
run qa config set auth.ldap.base='OU=People,DC=example,DC=com'
run qa config set auth.ldap.scope='sub'
run qa config set auth.ldap.binddn='CN=Administrator,CN=Users,DC=example,DC=com'
run qa config set auth.ldap.bindpass='password'
run qa config set auth.ldap.filter='(sAMAccountName=%u)'
run qa config set l7r.auth.plugins=auto,ldap
run qa config set auth.auto.osf_id=1
run qa config set auth.auto.di_tag="testing"
run qa config set auth.ldap.host=ldaps://myldap.mydomain.com:1636
run qa config set auth.ldap.base=ou=People,dc=example,dc=com
run qa config set auth.ldap.filter='(&(objectClass=inetOrgPerson)(cn=%u))'
t_is "the filter stored as typed" "$(qa config get auth.ldap.filter)" \
	"auth.ldap.filter=(&(objectClass=inetOrgPerson)(cn=%u))"

# 11: the manual misspells l7r as 17r; qa stores it and says so
out=$(qa config set 17r.loadbalancer.plugin.default.weight.cpu=3 2>&1)
t_like "11.3 typo warned with the right key" "$out" \
	"did you mean 'l7r.loadbalancer.plugin.default.weight.cpu'"
run qa config set l7r.loadbalancer.plugin.default.weight.cpu=3
run qa config set l7r.loadbalancer.plugin.default.weight.ram=2
run qa config set l7r.loadbalancer.plugin.default.weight.random=1

# 14: VMs running on the DIs being replaced
q "UPDATE vm_runtimes SET vm_state = 'running', current_di_id = 42 WHERE
	vm_id = 42" >/dev/null
q "UPDATE vms SET di_tag = 'default' WHERE id = 42" >/dev/null
q "SELECT setval('dis_id_seq', 14)" >/dev/null
run qa di add path="$S/staging/qvd-guest.img" osf=myOSF version=v15
t_like "qa di tag di_id=15 tag=default expire-soft=now expire-hard=\"NEXT SAT\"" \
	"$(qa di tag di_id=15 tag=default expire-soft=now \
	expire-hard="NEXT SAT")" \
	"^1 VM have had their expiration dates set \([0-9-]+T[0-9:]+, [0-9-]+T[0-9:]+\)!
DI tagged$"
t_is "expirations on the VM running the old default" "$(q "SELECT
	vm_expiration_soft IS NOT NULL AND vm_expiration_hard IS NOT NULL AND
	extract(dow from vm_expiration_hard) = 6 FROM vm_runtimes WHERE vm_id
	= 42")" "t"
q "UPDATE vms SET di_tag = 'head' WHERE id = 42" >/dev/null
q "UPDATE vm_runtimes SET vm_expiration_soft = NULL, vm_expiration_hard =
	NULL WHERE vm_id = 42" >/dev/null
cp /etc/hostname "$QVD_WORK/ubuntu-13-04.tar.gz"
t_like "qa di add path=./ubuntu-13-04.tar.gz osf_id=5 expire-soft=now expire-hard=tomorrow" \
	"$(cd "$QVD_WORK" && qa di add path=./ubuntu-13-04.tar.gz osf_id=1 \
	expire-soft=now expire-hard=tomorrow)" \
	"^1 VM have had their expiration dates set"
q "UPDATE vm_runtimes SET vm_expiration_soft = NULL, vm_expiration_hard =
	NULL, current_di_id = 15 WHERE vm_id = 42" >/dev/null
t_like "qa di tag di_id=15 tag=head expire-soft=now" \
	"$(qa di tag di_id=15 tag=head expire-soft=now)" \
	"^1 VM have had their expiration dates set \([0-9T:-]+, undef\)!
DI tagged$"

# 18.1
qa host add name=qvd-test3 address=192.168.0.2 >/dev/null
run qa host block -f name='qvd*'
t_like "qa host list -f address='192.168.0.2'" \
	"$(qa host list -f address='192.168.0.2')" "qvd-test3 192.168.0.2 .* 1 +stopped"
run qa host unblock -f name='qvd*'
t_like "qa host counters" "$(qa host counters)" \
	"Id Name +HTTP Requests Auth attempts Auth OK NX attempts NX OK Short sessions"
# 18.2 (user 5 is "test" of 9.4)
t_is "user 5" "$(q "SELECT login FROM users WHERE id = 5")" "test"
run qa vm add name=test user_id=5 osf=myOSF
q "UPDATE vm_runtimes SET user_state = 'connected', l7r_host_id = (SELECT min(id) FROM hosts) WHERE
	vm_id = (SELECT id FROM vms WHERE name = 'test')" >/dev/null
run qa vm block -f user_id=5
run qa vm unblock -f name=test
q "SELECT setval('vms_id_seq', 22)" >/dev/null
run qa vm add name=vm23 user=peter osf=myOSF
q "UPDATE vm_runtimes SET user_state = 'connected', l7r_host_id = (SELECT min(id) FROM hosts) WHERE
	vm_id = 23" >/dev/null
t_is "VM 23" "$(q "SELECT name || ' ' || user_state FROM vms JOIN
	vm_runtimes ON vm_id = id WHERE id = 23")" "vm23 connected"
run qa vm disconnect_user -f id=23
run qa vm start -f name=vm23
run qa vm stop -f osf_id=1
q "UPDATE vm_runtimes SET user_state = 'disconnected' WHERE vm_id IN
	(SELECT id FROM vms WHERE user_id = 5)" >/dev/null
run qa vm del -f user_id=5
t_is "user 5 has no VM left" "$(q "SELECT count(*) FROM vms WHERE user_id =
	5")" "0"
t_done
