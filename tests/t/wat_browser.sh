# SPDX-License-Identifier: GPL-3.0-or-later
# wat_browser.sh -- qvd-wat in a real browser (Debian's chromium, headless,
# driven by tests/browser/wat.mjs): log in, create a user, an OSF, a node,
# disk images from staging, a VM; start it on a real node (LXC), block,
# unblock, stop and delete it; change a password, set default DIs, log
# out.  Screenshots of the dashboard and the VM list are kept in
# $QVD_BIN/artifacts.
. "$QVD_TOP/tests/lib/tap.sh"
. "$QVD_TOP/tests/lib/node.sh"

PORT=13320
ART=$QVD_BIN/artifacts
cleanup() {
	[ -n "${WAT:-}" ] && kill "$WAT" 2>/dev/null
	node_cleanup
}
trap cleanup EXIT

# the farm's settings and the node's namespace, but no node: the browser
# adds it
qvd-deploy-db >/dev/null
img=$(test_image) || exit 1
node_setup
qa host del -f name=node1 >/dev/null
qa config set wat.port=$PORT >/dev/null
cp "$img" "$STORAGE/staging/test-image.tar.gz"
head -c 100000 /dev/urandom >"$STORAGE/staging/spare.tar.gz"
mkdir -p "$STORAGE/images" "$ART"
chmod 755 "$QVD_WORK"
chown -R nobody: "$STORAGE/staging" "$STORAGE/images"

qvd-wat -f -c "$NODE_CONF" >"$QVD_WORK/wat.out" 2>&1 &
WAT=$!
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$PORT/login"

# browse PHASE: the script's TAP lines, counted here
browse() {
	PGHOST=$QVD_PGHOST PGDATABASE=$(sed -n 's/^database.name = //p' \
		"$QVD_CONF") ARTIFACTS=$ART STAGING=$STORAGE/staging \
		node "$QVD_TOP/tests/browser/wat.mjs" \
		"http://127.0.0.1:$PORT" "$1" >"$QVD_WORK/browser$1.tap" 2>&1
	while IFS= read -r line; do
		case $line in
		"ok - "*) _report 0 "${line#ok - }" ;;
		"not ok - "*) _report 1 "${line#not ok - }" ;;
		"#"*) echo "$line" ;;
		*) echo "# $line" ;;
		esac
	done <"$QVD_WORK/browser$1.tap"
}

browse 1
start_node
t_is "the node the browser added is running" \
	"$(q "SELECT state FROM host_runtimes")" running
browse 2
t_ok "the dashboard screenshot is saved" test -s "$ART/wat-dashboard.png"
t_ok "the VM list screenshot is saved" test -s "$ART/wat-vm-list.png"
t_done
