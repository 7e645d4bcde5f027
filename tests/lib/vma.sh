# SPDX-License-Identifier: GPL-3.0-or-later
# tests/lib/vma.sh -- a qvd-vma on loopback in its own mount namespace:
# /etc overlaid and /home on tmpfs, so the users it makes stay there.
# Needs W (a work directory), PORT and $W/vma.conf; VMA_IN, if set, is a
# command prefix to run it with ("ip netns exec NS").

start_vma() {
	mkdir -p "$W/etc.up" "$W/etc.work"
	${VMA_IN:-} unshare -m --propagation private sh -c "
		mount -t overlay overlay -o lowerdir=/etc,upperdir=$W/etc.up,workdir=$W/etc.work /etc &&
		mount -t tmpfs tmpfs /home &&
		exec $QVD_BIN/qvd-vma -f -c $W/vma.conf" >>"$W/vma.out" 2>&1 &
	VMA=$!
	_t=50
	while [ $_t -gt 0 ]; do
		${VMA_IN:-} curl -sf "http://127.0.0.1:$PORT/vma/ping" >/dev/null && return 0
		sleep 0.1
		_t=$((_t - 1))
	done
	return 1
}

stop_vma() {
	kill "$VMA" 2>/dev/null
	wait "$VMA" 2>/dev/null
}

call() { curl -s -m 10 "http://127.0.0.1:$PORT/vma/$1" | tr -d '\r'; }
state_is() { [ "$(call x_state)" = "\"$1\"" ]; }
