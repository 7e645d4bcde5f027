# SPDX-License-Identifier: GPL-3.0-or-later
# wat.sh -- qvd-wat with 10,000 VMs in the database: latency of the
# dashboard, the VM list page and /api/vm (p50, p95 over 30 requests each,
# as curl sees them, a new connection each), and resident memory of the
# listening process and of a connection's child serving the VM list.
. "$QVD_TOP/tests/lib/bench.sh"

PORT=13390
U=http://127.0.0.1:$PORT
qvd-deploy-db >/dev/null
big_farm
qa config set wat.port=$PORT >/dev/null
printf "log.level = DEBUG\n" >>"$QVD_CONF"
qvd-wat -f -c "$QVD_CONF" >"$QVD_WORK/wat.out" 2>&1 &
WAT=$!
trap 'kill $WAT 2>/dev/null' EXIT
i=0
until curl -s -o /dev/null "$U/login" || [ $i -gt 50 ]; do
	sleep 0.1; i=$((i + 1))
done
J=$QVD_WORK/jar
curl -s -o /dev/null -c "$J" -d login=admin -d password=admin "$U/login"

# latency PATH: p50/p95 of 30 requests (after 3 to warm up)
latency() {
	: >"$QVD_WORK/lat"
	for i in 1 2 3; do curl -s -o /dev/null -b "$J" "$U$1"; done
	for i in $(seq 30); do
		curl -s -o /dev/null -b "$J" -w '%{time_total}\n' "$U$1" |
			awk '{ printf "%.3f\n", $1 * 1000 }' >>"$QVD_WORK/lat"
	done
	stats_ms "$QVD_WORK/lat"
}

size=$(curl -s -b "$J" "$U/vm/" | wc -c)
echo "qvd-wat, $(q "SELECT count(*) FROM vms") VMs in the database"
echo "  dashboard  /        $(latency /)"
echo "  VM list    /vm/     $(latency /vm/) ($((size / 1024)) kB of HTML)"
echo "  JSON       /api/vm  $(latency /api/vm)"
echo "  listening process   $(awk '/VmRSS/ { print $2, $3 }' /proc/$WAT/status) resident"
# each connection's child logs its peak resident memory as it ends
echo "  child serving /vm/  $(sed -n 's/.*GET \/vm\/.*//; s/.*peak resident \([0-9]*\) kB.*/\1/p' \
	"$QVD_WORK/wat.out" | sort -n | tail -1) kB peak resident (largest)"
echo "  login page /login   $(latency /login) (a connection's fixed cost)"
