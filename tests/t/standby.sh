# SPDX-License-Identifier: GPL-3.0-or-later
# standby.sh -- database.host may list several members of a replicated
# PostgreSQL: the tools use the primary (libpq's target_session_attrs =
# read-write) wherever it is in the list, and a hot standby alone is
# refused with a message that says what it is.
. "$QVD_TOP/tests/lib/tap.sh"
. "$QVD_TOP/tests/lib/pg.sh"

SB=$QVD_WORK/standby
cleanup() {
	[ -d "$SB/data" ] && as_pg "$(pg_bindir)/pg_ctl" -D "$SB/data" \
		-m immediate stop >/dev/null 2>&1
}
trap cleanup EXIT
qvd-deploy-db >/dev/null
mkdir -p "$SB"
chown postgres: "$SB"
t_ok "a streaming standby of the test cluster" as_pg \
	"$(pg_bindir)/pg_basebackup" -c fast -h "$QVD_PGHOST" -U postgres \
	-D "$SB/data" -R -X stream
t_ok "starts on its own socket" as_pg "$(pg_bindir)/pg_ctl" -D "$SB/data" \
	-l "$SB/log" -w -t 60 -o "-k $SB -c listen_addresses= -c fsync=off \
	-c max_connections=300" \
	start
db=$(sed -n 's/^database.name = //p' "$QVD_CONF")
# (QVD's sessions are serializable, which a standby cannot serve)
on_standby() {
	PGOPTIONS='-c default_transaction_isolation=read\ committed' \
		psql -X -q -At -h "$SB" -U qvd "$db" -c "$1" 2>&1
}
t_is "it is in recovery (a hot standby)" \
	"$(on_standby "SELECT pg_is_in_recovery()")" t

with_host() {	# hosts: a node.conf listing them in database.host
	sed "s|^database.host = .*|database.host = $1|" "$QVD_CONF" \
		>"$QVD_WORK/hosts.conf"
	echo "$QVD_WORK/hosts.conf"
}

conf=$(with_host "$SB")
out=$(qa -c "$conf" user add login=sam password=x 2>&1)
t_is "the standby alone: refused" "$?" 1
t_like "saying it is a standby and what to list" "$out" \
	"^qa: user add: cannot connect to database $db on $SB: .*read-only.* \(a hot standby: database.host must list the primary, or every member so that the primary is found\)$"
t_is "nothing was added" "$(q "SELECT count(*) FROM users")" 0

conf=$(with_host "$SB,$QVD_PGHOST")
t_is "standby listed first, then the primary: qa works" \
	"$(qa -c "$conf" user add login=sam password=x 2>&1)" \
	"User added with id 1"
t_is "on the primary" "$(q "SELECT login FROM users")" sam
streamed() { [ "$(on_standby "SELECT login FROM users")" = sam ]; }
t_ok "and streamed to the standby" wait_for 10 streamed
t_like "qa lists from the primary" "$(qa -c "$conf" user list)" "sam"
t_like "qvd-wat -n finds it too" "$(qvd-wat -n -c "$conf" 2>&1)" \
	"configuration OK"
t_done
