# SPDX-License-Identifier: GPL-3.0-or-later
# conf_errors.sh -- a malformed configuration stops every binary with
# "file:LINE: message" and status 1, before it does anything else.
. "$QVD_TOP/tests/lib/tap.sh"

bad="$QVD_WORK/node.conf.bad"
cp "$QVD_CONF" "$bad"
printf 'l7r.port = 8443\nthis line is wrong\nvm.overlay.persistent = maybe\n' \
	>>"$bad"
line=$(($(wc -l <"$QVD_CONF") + 2))

# program and the arguments that make it read $bad
while read -r prog args; do
	[ -x "$QVD_BIN/$prog" ] || continue
	# shellcheck disable=SC2086
	out=$(QVD_CONF="$bad" "$QVD_BIN/$prog" $args 2>&1 </dev/null)
	st=$?
	t_is "$prog: exit status 1" "$st" "1"
	t_like "$prog: names the line" "$out" \
		"node.conf.bad:$line: invalid character in key"
	t_like "$prog: and every other error" "$out" \
		"node.conf.bad:$((line + 1)): vm.overlay.persistent: 'maybe' is not a boolean"
done <<EOL
qvd-deploy-db -c $bad
qa -c $bad host list
qvd-node -c $bad -n
qvd-wat -c $bad -n
qvd-vma -c $bad -n
qvdclient -l
EOL
t_done
