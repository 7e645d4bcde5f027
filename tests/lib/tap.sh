# SPDX-License-Identifier: GPL-3.0-or-later
# tests/lib/tap.sh -- TAP helpers for the integration tests (sourced).
# The runner sets QVD_TOP, QVD_BIN, QVD_WORK, QVD_PGHOST and QVD_CONF.

: "${QVD_BIN:?run me through tests/run}"
PATH="$QVD_BIN:$PATH"
export PATH
_n=0
_out="$QVD_WORK/.out"

_report() {	# status desc
	_n=$((_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		[ -s "$_out" ] && sed "s/^/#   /" "$_out" | head -80
	fi
	: >"$_out"
}

# t_ok DESC CMD...: CMD succeeds.
t_ok() {
	_d=$1; shift
	"$@" >"$_out" 2>&1
	_report $? "$_d"
}

# t_fails DESC CMD...: CMD exits non-zero.
t_fails() {
	_d=$1; shift
	if "$@" >"$_out" 2>&1; then _report 1 "$_d"; else _report 0 "$_d"; fi
}

# t_is DESC GOT WANT
t_is() {
	if [ "$2" = "$3" ]; then
		_report 0 "$1"
	else
		printf "got:  %s\nwant: %s\n" "$2" "$3" >"$_out"
		_report 1 "$1"
	fi
}

# t_like DESC GOT REGEX (extended)
t_like() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		_report 0 "$1"
	else
		printf "got:  %s\nwant: /%s/\n" "$2" "$3" >"$_out"
		_report 1 "$1"
	fi
}

# t_status DESC WANT CMD...: CMD exits with status WANT.
t_status() {
	_d=$1; _w=$2; shift 2
	"$@" >"$_out" 2>&1
	_s=$?
	if [ "$_s" = "$_w" ]; then
		: >"$_out"
		_report 0 "$_d"
	else
		echo "exit status $_s, want $_w" >>"$_out"
		_report 1 "$_d"
	fi
}

t_skip() {	# desc reason
	_n=$((_n + 1))
	echo "ok $_n - $1 # SKIP $2"
}

t_done() {
	echo "1..$_n"
}

# q SQL: one query against the test's database, unaligned rows.
q() {
	psql -X -q -At -h "$QVD_PGHOST" -U qvd \
		"$(sed -n 's/^database.name = //p' "$QVD_CONF")" -c "$1"
}

# row_is SQL WANT: the query's answer is WANT.
row_is() { [ "$(q "$1")" = "$2" ]; }

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	_t=$(($1 * 10)); shift
	while [ "$_t" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_t=$((_t - 1))
	done
	return 1
}
