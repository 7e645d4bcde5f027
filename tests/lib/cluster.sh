# SPDX-License-Identifier: GPL-3.0-or-later
# tests/lib/cluster.sh -- a farm of several nodes on this machine, every
# host in a network namespace of its own (sourced after tap.sh and pg.sh):
#
#   switch ($SW)   bridge "farm" 10.9.0.0/24 (the LAN) with 10.9.0.1, where
#                  HAProxy listens (it reaches the nodes from 10.9.0.2,
#                  which the L7Rs trust to send PROXY headers; 10.9.0.100
#                  and .101 are two more users' machines), and bridge
#                  "vmnet" 10.3.15.0/24 (the VM
#                  network, one L2 segment for every node) with 10.3.15.1,
#                  the VMs' gateway.  The admin's qa and the user's client
#                  and Xvfb run here: the outside world.
#   etcd 1..3      10.9.0.21..23, Patroni's store
#   pg 1..2        10.9.0.31..32, PostgreSQL under Patroni (primary + sync
#                  standby, failover in a few seconds)
#   node 1..N      10.9.0.11.. on the LAN; its VM bridge qvdbr (10.3.15.1N)
#                  is one port of vmnet; the "NFS share" $CL/nfs is
#                  bind-mounted into its mount namespace at $CL/nodeN/mnt,
#                  where its images and homes live
#
# Everything is stopped by its namespace (ip netns pids), never by name.
# Background processes are started with "ip netns exec" itself, which
# execs them: $! is theirs (a shell function would fork a subshell).
# Used by the tests (CL and CLP their own) and by "tools/demo cluster";
# it needs QVD_BIN and wait_for/row_is (tests/lib/tap.sh).

CL=${CL:-$QVD_WORK/cluster}
CLP=${CLP:-qc$$}	# the namespaces' prefix
SW=${CLP}s
PGHOSTS=10.9.0.31,10.9.0.32
ADMIN_CONF=$CL/admin.conf
export QVD_CONF="$ADMIN_CONF"

in_sw() { ip netns exec "$SW" "$@"; }
node_ns() { echo "${CLP}n$1"; }
in_node() { _i=$1; shift; ip netns exec "$(node_ns "$_i")" "$@"; }

# The admin's tools, on the LAN, reaching whichever member is primary.
qa() { in_sw "$QVD_BIN/qa" "$@"; }
qdb() {	# psql on the primary as $1
	in_sw psql -X -q -At "host=$PGHOSTS target_session_attrs=read-write \
		connect_timeout=3 user=$1 dbname=${2:-qvd}" -c "$3"
}
q() { qdb qvd qvd "$1"; }

# A host: namespace $1 with address $2 on the LAN.
cl_host() {
	ip netns add "$1"
	ip -n "$1" link set lo up
	ip link add "$1l" type veth peer name eth0 netns "$1"
	ip link set "$1l" netns "$SW"
	ip -n "$SW" link set "$1l" master farm up
	ip -n "$1" addr add "$2/24" dev eth0
	ip -n "$1" link set eth0 up
}

cl_switch() {
	ip netns add "$SW"
	ip -n "$SW" link set lo up
	ip -n "$SW" link add farm type bridge
	for _a in 1 2 100 101; do
		ip -n "$SW" addr add "10.9.0.$_a/24" dev farm
	done
	ip -n "$SW" link set farm up
	ip -n "$SW" link add vmnet type bridge
	ip -n "$SW" addr add 10.3.15.1/24 dev vmnet
	ip -n "$SW" link set vmnet up
}

cl_etcd() {
	_ic=e1=http://10.9.0.21:2380,e2=http://10.9.0.22:2380
	_ic=$_ic,e3=http://10.9.0.23:2380
	for _i in 1 2 3; do
		cl_host "${CLP}e$_i" "10.9.0.2$_i"
		_a=10.9.0.2$_i
		ip netns exec "${CLP}e$_i" etcd --name "e$_i" \
			--data-dir "$CL/etcd$_i" \
			--listen-peer-urls "http://$_a:2380" \
			--initial-advertise-peer-urls "http://$_a:2380" \
			--listen-client-urls "http://$_a:2379" \
			--advertise-client-urls "http://$_a:2379" \
			--initial-cluster "$_ic" --initial-cluster-state new \
			--initial-cluster-token "$CLP" >"$CL/etcd$_i.log" 2>&1 &
	done
	cl_wait 30 in_sw etcdctl --endpoints http://10.9.0.21:2379 \
		endpoint health
}

# Patroni's settings for member $1: failover a second after the primary's
# PostgreSQL dies (master_start_timeout 0), ten seconds after its host
# dies (ttl); commits wait for the standby (synchronous_mode), so that a
# failover loses nothing a client was told is done.
cl_patroni_conf() {
	cat <<EOY
scope: qvd
name: pg$1
restapi:
  listen: 10.9.0.3$1:8008
  connect_address: 10.9.0.3$1:8008
etcd3:
  hosts: 10.9.0.21:2379,10.9.0.22:2379,10.9.0.23:2379
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 3
    master_start_timeout: 0
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        fsync: 'off'
        max_connections: 300
        wal_log_hints: 'on'
  initdb:
    - encoding: UTF8
  pg_hba:
    - local all all trust
    - host all all 10.9.0.0/24 trust
    - host replication all 10.9.0.0/24 trust
postgresql:
  listen: 10.9.0.3$1:5432
  connect_address: 10.9.0.3$1:5432
  data_dir: $CL/pg$1/data
  bin_dir: $(pg_bindir)
  pgpass: $CL/pg$1/pgpass
  authentication:
    superuser: {username: postgres, password: pw}
    replication: {username: replicator, password: pw}
  parameters:
    unix_socket_directories: $CL/pg$1
EOY
}

# (from its own directory: the postgres user may not enter ours)
cl_patroni_start() {	# member
	(cd "$CL/pg$1" && exec ip netns exec "${CLP}p$1" setpriv --reuid \
		postgres --regid postgres --init-groups patroni "$CL/pg$1.yml" \
		>>"$CL/pg$1.log" 2>&1) &
}

# cl_wait SECONDS CMD...: CMD succeeds within SECONDS of wall time (for
# commands slow to fail, which wait_for's count of tries would stretch).
cl_wait() {
	_end=$(($(date +%s) + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.2
	done
}

# The member Patroni says leads: 1 or 2 ("" while there is none).
pg_leader() {
	for _i in 1 2; do
		[ "$(in_sw curl -s -m 2 -o /dev/null -w '%{http_code}' \
		    "http://10.9.0.3$_i:8008/primary")" = 200 ] && echo "$_i"
	done
	return 0
}
pg_synced() {
	in_sw curl -s -m 2 "http://10.9.0.3$1:8008/cluster" 2>/dev/null |
		grep -q '"role": "sync_standby", "state": "\(running\|streaming\)"'
}

cl_postgres() {
	for _i in 1 2; do
		cl_host "${CLP}p$_i" "10.9.0.3$_i"
		mkdir -p "$CL/pg$_i"
		chown postgres: "$CL/pg$_i"
		chmod 700 "$CL/pg$_i"
		cl_patroni_conf "$_i" >"$CL/pg$_i.yml"
		cl_patroni_start "$_i"
		cl_wait 60 qdb postgres postgres "SELECT 1" || return 1
	done
	cl_wait 60 pg_synced 1 || return 1
	qdb postgres postgres "CREATE ROLE qvd LOGIN" >/dev/null &&
	qdb postgres postgres "CREATE DATABASE qvd OWNER qvd" >/dev/null
}

# Kill member $1 as a crash would (its PostgreSQL, or with "host" all of
# its namespace); cl_patroni_start brings it back as a standby.
pg_kill() {
	if [ "${2:-}" = host ]; then
		for _p in $(ip netns pids "${CLP}p$1"); do kill -9 "$_p"; done
	else
		kill -9 "$(head -1 "$CL/pg$1/data/postmaster.pid")"
	fi
}

cl_admin_conf() {
	cat >"$ADMIN_CONF" <<EOC
# the admin's machine: qa reaches the primary of either member
database.host = $PGHOSTS
database.name = qvd
database.user = qvd
log.filename =
log.level = WARN
path.storage.root = $CL/nfs
EOC
}

# Node $1 (1..): its namespace, LAN address, VM bridge and node.conf.
cl_node() {
	_ns=$(node_ns "$1")
	cl_host "$_ns" "10.9.0.1$1"
	ip -n "$_ns" link add qvdbr type bridge
	ip -n "$_ns" addr add "10.3.15.1$1/24" dev qvdbr
	ip -n "$_ns" link set qvdbr up
	ip link add "${_ns}v" type veth peer name vup netns "$_ns"
	ip link set "${_ns}v" netns "$SW"
	ip -n "$SW" link set "${_ns}v" master vmnet up
	ip -n "$_ns" link set vup master qvdbr up
	mkdir -p "$CL/node$1/mnt" "$CL/node$1/run" "$CL/node$1/local/staging"
	cat >"$CL/node$1.conf" <<EOC
nodename = node$1
database.host = $PGHOSTS
database.name = qvd
database.user = qvd
log.filename = $CL/node$1.log
log.level = DEBUG
path.run = $CL/node$1/run
path.storage.root = $CL/node$1/local
path.storage.images = $CL/node$1/mnt/images
path.storage.homefs = $CL/node$1/mnt/homefs
internal.hkd.lxc.timeout.on_state.stopping.shutdown.waiting_for_lxc = 20
internal.hkd.lxc.timeout.on_state.stopping.stop.waiting_for_lxc = 5
EOC
	qa host add name="node$1" address="10.9.0.1$1" >/dev/null
}

# qvd-node $1 with the share mounted in a mount namespace of its own
# (nothing mounted there reaches the machine's); its pid: NODEPID_$1.
cl_start_node() {
	ip netns exec "$(node_ns "$1")" unshare -m --propagation private sh -c \
		'mount --bind "$1" "$2" && exec qvd-node -f -c "$3"' \
		sh "$CL/nfs" "$CL/node$1/mnt" "$CL/node$1.conf" \
		>>"$CL/node$1.out" 2>&1 &
	eval "NODEPID_$1=$!"
	wait_for 20 row_is "SELECT state FROM host_runtimes r JOIN hosts h ON \
		h.id = r.host_id WHERE h.name = 'node$1'" running
}

node_pid() { eval "echo \${NODEPID_$1:-}"; }

# SIGKILL node $1 as a crash would: qvd-node and its containers (all of
# its namespace's processes).
cl_kill_node() {
	for _p in $(ip netns pids "$(node_ns "$1")"); do kill -9 "$_p"; done
}
# Cut (down) or mend (up) node $1's links to the LAN and the VM network.
cl_link() {
	ip -n "$SW" link set "$(node_ns "$1")l" "$2"
	ip -n "$SW" link set "$(node_ns "$1")v" "$2"
}

# The farm: switch, etcd, PostgreSQL, schema, and $1 nodes set up (not
# started), the VM network in the configs table.
cl_up() {
	mkdir -p "$CL/nfs/staging"
	chmod 755 "$CL"
	cl_switch
	cl_etcd || { echo "etcd did not start" >&2; return 1; }
	cl_postgres || { echo "Patroni did not start" >&2; return 1; }
	cl_admin_conf
	in_sw "$QVD_BIN/qvd-deploy-db" >/dev/null || return 1
	qa config set vm.hypervisor=lxc vm.network.ip.start=10.3.15.50 \
		vm.network.netmask=24 vm.network.gateway=10.3.15.1 \
		vm.network.bridge=qvdbr l7r.proxy.trusted=10.9.0.2 \
		>/dev/null || return 1
	_i=1
	while [ "$_i" -le "$1" ]; do
		cl_node "$_i"
		_i=$((_i + 1))
	done
}

# HAProxy in front of the L7Rs, health-checking /qvd/ping over TLS, and
# telling them each client's address in a PROXY header (version 2).
cl_haproxy() {
	{
		cat <<EOC
global
	log stdout format raw local0
defaults
	mode tcp
	log global
	timeout connect 2s
	timeout client 1h
	timeout server 1h
frontend l7r
	bind 10.9.0.1:8443
	default_backend nodes
backend nodes
	balance roundrobin
	source 10.9.0.2
	retries 2
	option redispatch
	option httpchk GET /qvd/ping
	http-check expect string I\ am\ alive!
EOC
		for _i in "$@"; do
			printf '\tserver node%s 10.9.0.1%s:8443 send-proxy-v2 check check-send-proxy check-ssl verify none inter 500ms fall 2 rise 2\n' \
				"$_i" "$_i"
		done
	} >"$CL/haproxy.cfg"
	ip netns exec "$SW" haproxy -W -db -f "$CL/haproxy.cfg" \
		>"$CL/haproxy.log" 2>&1 &
	HAPROXY=$!
}

# User $1 (password $2) asks for VMs $3..$4 through HAProxy, one after
# the other, and goes away once each is placed: the L7R leaves the VM
# starting, without an X session.
cl_place() {
	_i=$3
	while [ "$_i" -le "$4" ]; do
		ip netns exec "$SW" curl -sk -m 5 -o /dev/null -u "$1:$2" \
			-H Connection:Upgrade -H Upgrade:QVD/1.0 \
			"https://10.9.0.1:8443/qvd/connect_to_vm?id=$_i" &
		_c=$!
		wait_for 5 row_is "SELECT host_id IS NOT NULL FROM vm_runtimes \
			WHERE vm_id = $_i" t
		kill "$_c" 2>/dev/null
		wait "$_c" 2>/dev/null
		_i=$((_i + 1))
	done
}

cl_namespaces() {
	ip netns list | awk '{ print $1 }' | grep -E "^${CLP}[senp][0-9]*$"
}

# Everything of the farm stopped: its namespaces' processes (a node's
# containers die with their LXC monitor), its mounts, its namespaces.
cl_cleanup() {
	for _ns in $(cl_namespaces); do
		for _p in $(ip netns pids "$_ns"); do kill -9 "$_p" 2>/dev/null
		done
	done
	sleep 0.5
	grep " $CL/" /proc/mounts | awk '{ print $2 }' | sort -r |
		while read -r _m; do umount -l "$_m"; done
	for _ns in $(cl_namespaces); do ip netns del "$_ns"; done
}
