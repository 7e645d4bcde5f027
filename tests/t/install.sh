# SPDX-License-Identifier: GPL-3.0-or-later
# install.sh -- make install honours PREFIX and DESTDIR.
. "$QVD_TOP/tests/lib/tap.sh"

d="$QVD_WORK/root"
t_ok "make install" make -s -C "$QVD_TOP" install O="$QVD_BIN" \
	DESTDIR="$d" PREFIX=/usr
for f in usr/bin/qa usr/bin/qvd-admin usr/sbin/qvd-deploy-db usr/share/man/man1/qa.1 \
	usr/share/man/man5/node.conf.5 usr/share/man/man8/qvd-deploy-db.8 \
	usr/share/qvd/schema.sql etc/qvd/node.conf usr/sbin/qvd-node \
	usr/sbin/qvd-vma usr/share/man/man8/qvd-node.8 \
	usr/share/man/man8/qvd-vma.8 usr/share/man/man5/vma.conf.5 \
	usr/lib/systemd/system/qvd-node.service usr/bin/qvdclient \
	usr/share/man/man1/qvdclient.1 usr/share/man/man5/client.conf.5 \
	etc/qvd/client.conf usr/sbin/qvd-wat usr/share/man/man8/qvd-wat.8 \
	usr/lib/systemd/system/qvd-wat.service usr/sbin/qvd-mkimage \
	usr/share/man/man8/qvd-mkimage.8; do
	t_ok "installs /$f" test -s "$d/$f"
done
echo "nodename = mine" >"$d/etc/qvd/node.conf"
make -s -C "$QVD_TOP" install O="$QVD_BIN" DESTDIR="$d" PREFIX=/usr \
	>/dev/null 2>&1
t_like "the unit runs the installed binary" \
	"$(cat "$d/usr/lib/systemd/system/qvd-node.service")" \
	"ExecStart=/usr/sbin/qvd-node -f"
t_is "qvd-admin is qa (manual 12.5)" "$(readlink "$d/usr/bin/qvd-admin")" qa
t_like "qvd-admin runs as qa" "$("$d/usr/bin/qvd-admin" --help 2>&1)" \
	"config"
t_is "an existing node.conf is kept" "$(cat "$d/etc/qvd/node.conf")" \
	"nodename = mine"
t_done
