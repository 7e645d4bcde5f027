# SPDX-License-Identifier: GPL-3.0-or-later
# ldap.sh -- the L7R's ldap plugin (manual 10.1) against a real slapd in
# the node's namespace: the directory decides the password, the users
# table names the QVD user; search with filter and scope, a service bind,
# userbindpattern, filter injection, ldaps:// and StartTLS with a verified
# certificate, the manual's obsolete l7r.auth.mode, the auto plugin
# (manual 10.2) making users and VMs, and a directory that is down.
. "$QVD_TOP/tests/lib/tap.sh"
. "$QVD_TOP/tests/lib/node.sh"

L=$QVD_WORK/ldap
cleanup() {
	[ -s "$L/slapd.pid" ] && kill "$(cat "$L/slapd.pid")" 2>/dev/null
	node_cleanup
}
trap cleanup EXIT

# --- a directory: dc=qvd,dc=test with lana and mallory under ou=People ---
mkdir -p "$L/db"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 2 \
	-addext "subjectAltName=IP:127.0.0.1" -keyout "$L/key.pem" \
	-out "$L/cert.pem" 2>/dev/null
cat >"$L/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile $L/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCertificateFile $L/cert.pem
TLSCertificateKeyFile $L/key.pem
database mdb
suffix "dc=qvd,dc=test"
rootdn "cn=admin,dc=qvd,dc=test"
rootpw adminpw
directory $L/db
access to attrs=userPassword by anonymous auth by * none
access to * by * read
EOF
person() {	# uid password
	printf 'dn: uid=%s,ou=People,dc=qvd,dc=test\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\nuserPassword: %s\n\n' \
		"$1" "$1" "$1" "$1" "$2"
}
{
	printf 'dn: dc=qvd,dc=test\nobjectClass: dcObject\nobjectClass: organization\ndc: qvd\no: QVD\n\n'
	printf 'dn: ou=People,dc=qvd,dc=test\nobjectClass: organizationalUnit\nou: People\n\n'
	person lana ldappw
	person mallory ldappw
	person zed zedpw
} >"$L/data.ldif"
slapadd -f "$L/slapd.conf" -l "$L/data.ldif" >/dev/null 2>&1

# --- the node, and QVD's users: lana (another password here), no mallory ---
qvd-deploy-db >/dev/null
node_setup
in_ns slapd -f "$L/slapd.conf" \
	-h "ldap://127.0.0.1:13389/ ldaps://127.0.0.1:13636/"
wait_for 10 in_ns ldapsearch -x -H ldap://127.0.0.1:13389 -b dc=qvd,dc=test
qa user add login=lana password=qvdpw >/dev/null
qa config set l7r.auth.plugins=ldap auth.ldap.host=ldap://127.0.0.1:13389 \
	auth.ldap.base=ou=People,dc=qvd,dc=test auth.ldap.scope=one \
	l7r.auth.throttle.failures=1000 >/dev/null
start_node
URL=https://127.0.0.1:8443/qvd/list_of_vm
code() { in_ns curl -sk -m 20 -o /dev/null -w '%{http_code}' -u "$1" $URL; }
# set KEY=VALUE...: change the configuration; the L7R reads it at once
set_conf() { qa config set "$@" >/dev/null && sleep 0.5; }

t_is "the directory's password logs lana in" "$(code lana:ldappw)" 200
t_is "the users table's password does not (the directory decides)" \
	"$(code lana:qvdpw)" 401
t_is "a wrong password: 401" "$(code lana:nope)" 401
t_is "in the directory but not a QVD user: 401" "$(code mallory:ldappw)" 401
t_like "and the log says why" "$(cat "$QVD_WORK/node.log")" \
	"ldap accepted 'mallory', but QVD has no such user"
qa user add login='*' password=x >/dev/null 2>&1
t_is "a login of '*' is a value, not a wildcard in the filter" \
	"$(code '*:ldappw')" 401
t_is "no such entry: 401" "$(code nobody:ldappw)" 401

set_conf auth.ldap.base=dc=qvd,dc=test auth.ldap.scope=sub \
	"auth.ldap.filter=(&(objectClass=inetOrgPerson)(|(uid=%u)(cn=%u)))"
t_is "scope sub and a filter with & and |" "$(code lana:ldappw)" 200
set_conf auth.ldap.scope=base
t_is "scope base finds no one below the base" "$(code lana:ldappw)" 401
set_conf auth.ldap.scope=sub auth.ldap.binddn=cn=admin,dc=qvd,dc=test \
	auth.ldap.bindpass=adminpw
t_is "a service bind (binddn) before the search" "$(code lana:ldappw)" 200
set_conf auth.ldap.bindpass=wrong
t_is "a wrong bindpass: the L7R cannot tell, 503" "$(code lana:ldappw)" 503
t_like "and logs why" "$(tail -5 "$QVD_WORK/node.log")" \
	"auth.ldap.binddn/bindpass were refused"
set_conf "auth.ldap.userbindpattern=uid=%u,ou=People,dc=qvd,dc=test"
t_is "userbindpattern is tried first (no search)" "$(code lana:ldappw)" 200
qa config del auth.ldap.binddn auth.ldap.bindpass \
	auth.ldap.userbindpattern >/dev/null

# --- TLS: ldaps:// and StartTLS, the server's certificate verified ---
set_conf auth.ldap.host=ldaps://127.0.0.1:13636 auth.ldap.cacert="$L/cert.pem"
t_is "ldaps:// with the CA" "$(code lana:ldappw)" 200
set_conf auth.ldap.host=ldap://127.0.0.1:13389 auth.ldap.starttls=1
t_is "StartTLS with the CA" "$(code lana:ldappw)" 200
t_is "and still refuses a wrong password" "$(code lana:nope)" 401
set_conf auth.ldap.cacert=/etc/ssl/certs/ca-certificates.crt
t_is "an unverifiable certificate: 503" "$(code lana:ldappw)" 503
t_like "logged" "$(tail -3 "$QVD_WORK/node.log")" "StartTLS with 127.0.0.1 failed"
qa config del auth.ldap.starttls auth.ldap.cacert >/dev/null

# --- the manual's 10.1 example sets l7r.auth.mode ---
qa config del l7r.auth.plugins >/dev/null
set_conf l7r.auth.mode=ldap
t_is "l7r.auth.mode=ldap (manual 10.1) selects the plugin" \
	"$(code lana:ldappw)" 200
t_is "so the users table's password is ignored" "$(code lana:qvdpw)" 401

# --- auto (manual 10.2): made on the first login, with a VM ---
qa config del l7r.auth.mode >/dev/null
qa osf add name=desk >/dev/null
set_conf l7r.auth.plugins=auto,ldap
t_is "auto without auth.auto.osf_id: 503" "$(code mallory:ldappw)" 503
t_is "and no half-made user is left" \
	"$(q "SELECT count(*) FROM users WHERE login = 'mallory'")" 0
set_conf auth.auto.osf_id="$(q "SELECT id FROM osfs WHERE name = 'desk'")"
t_is "auto: mallory's first login is accepted" "$(code mallory:ldappw)" 200
t_is "she is a QVD user now, with a VM of the OSF" \
	"$(q "SELECT u.login, v.name, o.name, v.di_tag FROM users u JOIN vms v
	ON v.user_id = u.id JOIN osfs o ON o.id = v.osf_id WHERE u.login =
	'mallory'")" "mallory|mallory|desk|default"
t_like "which list_of_vm shows her" "$(in_ns curl -sk -u mallory:ldappw $URL)" \
	'"name":"mallory","state":"stopped"'
code mallory:ldappw >/dev/null
t_is "a second login makes nothing more" \
	"$(q "SELECT count(*) FROM vms v JOIN users u ON u.id = v.user_id
	WHERE u.login = 'mallory'")" 1
t_is "the directory still decides: a wrong password" "$(code mallory:x)" 401
qa vm add name=zed user=lana osf=desk >/dev/null
t_is "a taken VM name gets a suffix" "$(code zed:zedpw)$(q "SELECT v.name
	FROM vms v JOIN users u ON u.id = v.user_id WHERE u.login = 'zed'")" \
	200zed-2

kill "$(cat "$L/slapd.pid")"
sleep 0.5
t_is "the directory down: 503, not a refusal" "$(code lana:ldappw)" 503
t_done
