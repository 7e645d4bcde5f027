# SPDX-License-Identifier: GPL-3.0-or-later
# manpages.sh -- every manual page is clean mdoc, and node.conf(5) lists
# the defaults table as it is now.
. "$QVD_TOP/tests/lib/tap.sh"

cd "$QVD_TOP" || exit 1
for page in man/*.[158]; do
	t_is "$page: mandoc -Tlint clean" \
		"$(mandoc -Tlint -W warning "$page" 2>&1)" ""
done
"$QVD_BIN/confdoc" man/node.conf.5.in >"$QVD_WORK/node.conf.5"
t_ok "node.conf.5 is up to date with defaults.c" \
	cmp man/node.conf.5 "$QVD_WORK/node.conf.5"
t_done
