# SPDX-License-Identifier: GPL-3.0-or-later
# client_dns.sh -- the static clients (x86_64, and aarch64 under qemu)
# find the L7R by name without glibc's NSS (resolve.c): /etc/hosts, DNS
# from a real dnsmasq through /etc/resolv.conf, its search domain, and
# clear errors for a name nobody knows or no nameserver at all.  The
# namespace's /etc/hosts and /etc/resolv.conf are /etc/netns/NAME/'s.
. "$QVD_TOP/tests/lib/tap.sh"
. "$QVD_TOP/tests/lib/node.sh"

ETC=/etc/netns/$NS
cleanup() {
	[ -s "$QVD_WORK/dnsmasq.pid" ] && kill "$(cat "$QVD_WORK/dnsmasq.pid")"
	rm -rf "$ETC"
	node_cleanup
}
trap cleanup EXIT
bare_farm
qa vm add name=ann-desk user=ann osf=desk >/dev/null
start_node
in_ns dnsmasq --no-resolv --no-hosts --listen-address=127.0.0.1 \
	--bind-interfaces --port=53 --user=root \
	--pid-file="$QVD_WORK/dnsmasq.pid" \
	--address=/dns-l7r.qvd.test/127.0.0.1 2>"$QVD_WORK/dnsmasq.err"
mkdir -p "$ETC"
printf '127.0.0.1 localhost\n127.0.0.1 hosts-l7r.qvd.test hosts-l7r\n' \
	>"$ETC/hosts"
printf 'search qvd.test\nnameserver 127.0.0.1\n' >"$ETC/resolv.conf"

list() {	# build host: what -l prints, and the exit status, on one line
	_o=$(in_ns env -i HOME="$QVD_WORK" QVDLOGIN=ann QVDPASSWORD=secret \
		"$QVD_BIN/$1" -h "$2" -n -l 2>&1)
	echo "$_o (exit $?)" | tr '\n' ' '
}
t_like "x86_64 static: a name from /etc/hosts" \
	"$(list qvdclient-static hosts-l7r.qvd.test)" "1 +ann-desk +stopped"
t_like "x86_64 static: a name from DNS (dnsmasq)" \
	"$(list qvdclient-static dns-l7r.qvd.test)" "1 +ann-desk +stopped"
t_like "x86_64 static: resolv.conf's search domain" \
	"$(list qvdclient-static dns-l7r)" "1 +ann-desk +stopped"
t_like "a name nobody knows: says so, exit 3 (unreachable)" \
	"$(list qvdclient-static nope.qvd.test)" \
	"cannot resolve 'nope.qvd.test': no such host \\(exit 3\\)"
if [ -x "$QVD_BIN/qvdclient-aarch64" ]; then
	t_like "aarch64 static under qemu: a name from DNS" \
		"$(in_ns env -i HOME="$QVD_WORK" QVDLOGIN=ann \
		QVDPASSWORD=secret qemu-aarch64-static \
		"$QVD_BIN/qvdclient-aarch64" -h dns-l7r.qvd.test -n -l 2>&1)" \
		"1 +ann-desk +stopped"
else
	t_ok "the aarch64 client was built (make static-client)" false
fi
printf 'nameserver 127.0.0.2\n' >"$ETC/resolv.conf"
t_like "no nameserver answers: says so, exit 3" \
	"$(list qvdclient-static dns-l7r.qvd.test)" \
	"cannot resolve 'dns-l7r.qvd.test': no nameserver of /etc/resolv.conf answered \\(exit 3\\)"
t_like "an address needs no resolving" \
	"$(list qvdclient-static 127.0.0.1)" "1 +ann-desk +stopped"
t_done
