# SPDX-License-Identifier: GPL-3.0-or-later
# qa_list.sh -- "qa vm list" over 10,000 VMs, 100 hosts and 1,000 users
# against psql running the same SELECT on the same data.  Target: qa at
# most 2x psql.
. "$QVD_TOP/tests/lib/bench.sh"

qvd-deploy-db >/dev/null
big_farm

sql="SELECT v.id, v.name, u.login, ru.login, v.ip, o.name, v.di_tag,
 (SELECT d.version FROM dis d JOIN di_tags t ON t.di_id = d.id WHERE
 d.osf_id = v.osf_id AND t.tag = v.di_tag LIMIT 1), cd.version, h.name,
 r.vm_state, lh.name, r.user_state, r.blocked, extract(epoch from
 r.vm_expiration_soft)::bigint, extract(epoch from
 r.vm_expiration_hard)::bigint, r.vm_failure FROM vms v JOIN vm_runtimes r
 ON r.vm_id = v.id JOIN users u ON u.id = v.user_id JOIN osfs o ON o.id =
 v.osf_id LEFT JOIN hosts h ON h.id = r.host_id LEFT JOIN users ru ON ru.id
 = r.real_user_id LEFT JOIN dis cd ON cd.id = r.current_di_id LEFT JOIN
 hosts lh ON lh.id = r.l7r_host_id WHERE TRUE ORDER BY v.id"
db=$(sed -n 's/^database.name = //p' "$QVD_CONF")
rows=$(qa vm list -q | wc -l)
qa_ms=$(median_ms 9 qa vm list)
psql_ms=$(median_ms 9 psql -X -h "$QVD_PGHOST" -U qvd "$db" -c "$sql")
json_ms=$(median_ms 9 qa vm list --json)
echo "qa vm list: $rows VMs, median of 9 runs"
echo "  qa vm list          $qa_ms ms"
echo "  qa vm list --json   $json_ms ms"
echo "  psql, same SELECT   $psql_ms ms"
awk -v a="$qa_ms" -v b="$psql_ms" 'BEGIN {
	printf "  ratio qa/psql       %.2f (target <= 2.0: %s)\n", a / b,
	a / b <= 2 ? "met" : "NOT met" }'
