# SPDX-License-Identifier: GPL-3.0-or-later
# manpages.sh -- every manual page is clean mdoc, and node.conf(5) lists
# the defaults table as it is now.
. "$QVD_TOP/tests/lib/tap.sh"

cd "$QVD_TOP" || exit 1
for page in man/*.[1578]; do
	t_is "$page: mandoc -Tlint clean" \
		"$(mandoc -Tlint -W warning "$page" 2>&1)" ""
done
t_ok "node.conf.5, vma.conf.5 and client.conf.5 are up to date with defaults.c" \
	make -s -C "$QVD_TOP" check-man O="$QVD_BIN"

# qa(1): SYNOPSIS is qa --help's usage line; every command is documented.
syn=$(mandoc -Tascii man/qa.1 | col -b | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' |
	sed '1d;$d' | tr -s ' \t\n' ' ' | sed 's/^ //;s/ $//')
t_is "qa.1 SYNOPSIS matches qa --help" "usage: $syn" \
	"$("$QVD_BIN/qa" --help | head -1)"
missing=""
for c in $("$QVD_BIN/qa" --help | sed -n 's/^  //p' | tr ' ' '_'); do
	obj=${c%%_*} cmd=${c#*_}
	case $cmd in
	prop*) grep -q "^\.It Cm $cmd" man/qa.1 || missing="$missing $c" ;;
	*) grep -Eq "^\.It Cm $obj $cmd( |\$)|Cm $obj $cmd\$" man/qa.1 ||
		grep -Eq "^\.It .*Cm $obj $cmd\b" man/qa.1 ||
		missing="$missing $c" ;;
	esac
done
t_is "every qa command is in qa.1" "$missing" ""

# qvdclient(1): SYNOPSIS is the usage that -? prints.
syn=$(mandoc -Tascii man/qvdclient.1 | col -b |
	sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | tr -s ' \t\n' ' ' |
	sed 's/^ //;s/ $//')
t_is "qvdclient.1 SYNOPSIS matches qvdclient -?" "usage: $syn" \
	"$("$QVD_BIN/qvdclient" -? | sed '/^$/,$d' | tr -s ' \n' ' ' |
	sed 's/ $//')"
t_done
