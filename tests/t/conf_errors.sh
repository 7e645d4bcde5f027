# SPDX-License-Identifier: GPL-3.0-or-later
# conf_errors.sh -- a malformed configuration stops every binary with
# "file:LINE: message" and its documented status (1; qvdclient's is 2),
# before it does anything else.
. "$QVD_TOP/tests/lib/tap.sh"

bad="$QVD_WORK/node.conf.bad"
cp "$QVD_CONF" "$bad"
printf 'l7r.port = 8443\nthis line is wrong\nvm.overlay.persistent = maybe\n' \
	>>"$bad"
line=$(($(wc -l <"$QVD_CONF") + 2))

# program, its status for a bad configuration, the arguments that make it
# read $bad
while read -r prog want args; do
	[ -x "$QVD_BIN/$prog" ] || continue
	# shellcheck disable=SC2086
	out=$(QVD_CONF="$bad" "$QVD_BIN/$prog" $args 2>&1 </dev/null)
	st=$?
	t_is "$prog: exit status $want" "$st" "$want"
	t_like "$prog: names the line" "$out" \
		"node.conf.bad:$line: invalid character in key"
	t_like "$prog: and every other error" "$out" \
		"node.conf.bad:$((line + 1)): vm.overlay.persistent: 'maybe' is not a boolean"
done <<EOL
qvd-deploy-db 1 -c $bad
qa 1 -c $bad host list
qvd-node 1 -c $bad -n
qvd-wat 1 -c $bad -n
qvd-vma 1 -c $bad -n
qvdclient 2 -l
EOL
# a key given twice: each line is checked for what it says
printf 'log.level = INFO\nlog.level = LOUD\n' >"$QVD_WORK/twice.conf"
cat "$QVD_CONF" "$QVD_WORK/twice.conf" >"$bad"
line=$(($(wc -l <"$QVD_CONF") + 2))
t_like "a bad value is reported on its own line" \
	"$(QVD_CONF="$bad" "$QVD_BIN/qa" host list 2>&1)" \
	"node.conf.bad:$line: log.level: 'LOUD' is not one of ALL\|DEBUG"
t_done
