# SPDX-License-Identifier: GPL-3.0-or-later
# deploy.sh -- qvd-deploy-db creates, refuses and resets the schema.
. "$QVD_TOP/tests/lib/tap.sh"

t_ok "deploys into an empty database" qvd-deploy-db
tables=$(q "SELECT string_agg(table_name, ' ' ORDER BY table_name)
	FROM information_schema.tables WHERE table_schema = 'public'")
t_is "every table is there" "$tables" "configs di_properties di_tags dis \
host_cmds host_counters host_properties host_runtimes host_states hosts \
osf_properties osfs ssl_configs user_cmds user_extras user_properties \
user_states users versions vm_cmds vm_counters vm_properties vm_runtimes \
vm_states vms wat_sessions"
t_is "vm states seeded" "$(q "SELECT string_agg(name, ',' ORDER BY name)
	FROM vm_states")" "debugging,running,starting,stopped,stopping,zombie"
t_is "host states seeded" "$(q "SELECT string_agg(name, ',' ORDER BY name)
	FROM host_states")" "lost,running,starting,stopped,stopping"
t_is "user states seeded" "$(q "SELECT string_agg(name, ',' ORDER BY name)
	FROM user_states")" "connected,connecting,disconnected"
t_is "commands seeded" "$(q "SELECT (SELECT string_agg(name, ',' ORDER BY
	name) FROM vm_cmds) || ' ' || (SELECT name FROM user_cmds) || ' ' ||
	(SELECT name FROM host_cmds)")" "busy,start,stop abort stop"
t_is "schema version" "$(q "SELECT version FROM versions
	WHERE component = 'schema'")" "3.3.0"
db=$(sed -n 's/^database.name = //p' "$QVD_CONF")
t_is "serializable by default for new sessions" \
	"$(q "SHOW default_transaction_isolation")" "serializable"
t_is "vm_runtimes cascade from vms" "$(q "SELECT confdeltype FROM
	pg_constraint WHERE conname = 'vm_runtimes_fk_vm_id'")" "c"
t_is "vms do not cascade from users" "$(q "SELECT confdeltype FROM
	pg_constraint WHERE conname = 'vms_fk_user_id'")" "a"
t_like "lookup indexes exist" "$(q "SELECT string_agg(indexname, ' ')
	FROM pg_indexes WHERE tablename = 'vm_runtimes'")" \
	"vm_runtimes_idx_host_id.*vm_runtimes_idx_vm_state|vm_runtimes_idx_vm_state.*vm_runtimes_idx_host_id"

q "INSERT INTO configs VALUES ('keep.me', 'yes')" >/dev/null
out=$(qvd-deploy-db 2>&1)
st=$?
t_is "run again it refuses" "$st" "1"
t_like "with a clear message" "$out" \
	"^qvd-deploy-db: the database already contains QVD tables \(.*configs.*\); nothing was changed; use --force"
t_is "and leaves data intact" "$(q "SELECT value FROM configs
	WHERE key = 'keep.me'")" "yes"
t_ok "--force resets" qvd-deploy-db --force
t_is "the data is gone" "$(q "SELECT count(*) FROM configs")" "0"
t_is "the schema is back" "$(q "SELECT count(*) FROM vm_states")" "6"
t_status "bad option is a usage error" 2 qvd-deploy-db --bogus

# An unreachable database is one clear line and status 1.
sed "s|^database.host = .*|database.host = $QVD_WORK/nowhere|" "$QVD_CONF" \
	>"$QVD_WORK/bad.conf"
out=$(qvd-deploy-db -c "$QVD_WORK/bad.conf" 2>&1)
t_is "unreachable database: status 1" "$?" "1"
t_like "unreachable database: says so" "$out" \
	"^qvd-deploy-db: cannot connect to database"
t_done
