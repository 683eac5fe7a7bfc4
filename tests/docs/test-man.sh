#!/bin/sh
# test-man: the man pages render without a single groff warning, and each
# page names every key, option and command that the code it documents
# accepts.  The names are taken from the sources, not listed here, so a
# key added to the code without its page fails this test:
#
#   lfbvncd.conf(5)   the keyword table of daemon/conf.c
#   lfbvncd(8)        the getopt string and long options of daemon/lfbvncd.c
#   lfbvncctl(1)      the options and the command table of clients/lfbvncctl.c
#   lfbvnc-probe(1)   the options of clients/lfbvnc-probe.c
#   lfbvnc-xl(5)      the xl keys daemon/xendisco.c reads
#
# A name counts as documented when an item of a list (.It) shows it with
# the macro its kind uses: Ic for keys, Fl for options, Cm for commands.
# Negative controls run the same checks on copies of pages with one name
# deleted, and with one list left open: each must fail.  Needs groff (man
# too, when installed); reads only the source tree.

: "${top_srcdir:=.}"
src=$top_srcdir

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

command -v groff >/dev/null 2>&1 ||
	skip "groff is not installed (apt-get install groff-base)"
# Without the mdoc macros every page would "render" as unknown macros.
printf '.Dd x\n.Dt T 1\n.Os\n.Sh NAME\n.Nm t\n.Nd t\n' |
	groff -mandoc -Tutf8 -z >/dev/null 2>&1 ||
	skip "groff cannot load the mandoc macros"

work=$(mktemp -d "${TMPDIR:-/tmp}/lfbvnc-test-man.XXXXXX") || fail "mktemp"
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM

pages="docs/lfbvncd.8 docs/lfbvncd.conf.5 docs/lfbvncctl.1
	docs/lfbvnc-xl.5 clients/lfbvnc-probe.1"

# render PAGE: groff, and man when installed, say nothing on stderr.
render() {
	LC_ALL=C.UTF-8 groff -mandoc -Tutf8 -ww -z "$1" 2>"$work/err" ||
		{ echo "$1: groff failed"; cat "$work/err"; return 1; }
	if [ -s "$work/err" ]; then
		echo "$1: groff warns:"
		cat "$work/err"
		return 1
	fi
	command -v man >/dev/null 2>&1 || return 0
	LC_ALL=C.UTF-8 MANWIDTH=80 MANPAGER=cat PAGER=cat \
	    man --warnings -l "$1" >/dev/null 2>"$work/err" ||
		{ echo "$1: man failed"; cat "$work/err"; return 1; }
	if [ -s "$work/err" ]; then
		echo "$1: man warns:"
		cat "$work/err"
		return 1
	fi
}

# documented PAGE MACRO NAME...: every NAME is shown by MACRO on an .It
# line of PAGE; prints the missing ones and fails when there are any.
documented() {
	dc_page=$1 dc_macro=$2 dc_missing=
	shift 2
	for dc_name in "$@"; do
		grep -Eq "^\\.It( | .* )$dc_macro $dc_name( |\$)" "$dc_page" ||
			dc_missing="$dc_missing [$dc_macro $dc_name]"
	done
	[ -z "$dc_missing" ] && return 0
	echo "$dc_page: not documented (no .It line showing it):$dc_missing"
	return 1
}

# table FILE START: the first string of each "{ "name", ..." row of the
# C initialiser that begins on the line matching START, up to its "};".
table() {
	# The pattern goes through the environment: awk -v would eat its
	# backslashes.
	TABLE_START=$2 awk '
		BEGIN { start = ENVIRON["TABLE_START"] }
		$0 ~ start { on = 1; next }
		on && /^[ \t]*};/ { exit }
		on && match($0, /^[ \t]*\{[ \t]*"[^"]*"/) {
			s = substr($0, RSTART, RLENGTH)
			sub(/^[^"]*"/, "", s); sub(/"$/, "", s)
			print s
		}' "$1"
}

# letters FILE: the option letters of FILE's getopt or getopt_long call.
letters() {
	sed -n 's/.*getopt[a-z_]*(argc, argv, "\([^"]*\)".*/\1/p' "$1" |
		tr -d ':+' | sed 's/./& /g'
}

# nonempty WHAT EXPECTED LIST...: an extraction found something, and at
# least the name it must find: a broken extractor must not pass vacuously.
nonempty() {
	ne_what=$1 ne_expected=$2
	shift 2
	case " $* " in
	*" $ne_expected "*) ;;
	*) fail "$ne_what: extracted '$*', without '$ne_expected'" ;;
	esac
}

conf_keys=$(table "$src/daemon/conf.c" 'keyword keywords\[\] = \{')
nonempty "daemon/conf.c keywords" port $conf_keys

d_short=$(letters "$src/daemon/lfbvncd.c")
d_long=$(table "$src/daemon/lfbvncd.c" 'struct option')
nonempty "lfbvncd getopt" f $d_short

ctl_short=$(letters "$src/clients/lfbvncctl.c")
ctl_long=$(table "$src/clients/lfbvncctl.c" 'struct option')
ctl_cmds=$(table "$src/clients/lfbvncctl.c" '^} commands\[\] = \{')
nonempty "lfbvncctl getopt" s $ctl_short
nonempty "lfbvncctl long options" json $ctl_long
nonempty "lfbvncctl commands" attach $ctl_cmds

p_short=$(letters "$src/clients/lfbvnc-probe.c")
p_long=$(table "$src/clients/lfbvnc-probe.c" 'struct option longopts')
nonempty "lfbvnc-probe getopt" v $p_short
nonempty "lfbvnc-probe long options" compare $p_long

# The keys xendisco_parse_xl reads by name, and its xl_keys table.
xl_keys="$(grep -o 'xlu_cfg_get_[a-z]*(cfg, "[^"]*"' \
    "$src/daemon/xendisco.c" | sed 's/.*"\(.*\)"/\1/')
$(table "$src/daemon/xendisco.c" '} xl_keys\[\] = \{')"
nonempty "daemon/xendisco.c keys" lfbvnc $xl_keys
nonempty "daemon/xendisco.c xl_keys" lfbvnc_port $xl_keys

# dashed NAME...: "-NAME" for each, the way Fl writes a long option.
dashed() {
	for dd_name in "$@"; do
		printf -- '-%s ' "$dd_name"
	done
}

# check_all DIR: every check on the pages of the tree DIR; prints each
# problem, fails when there is any.
check_all() {
	ca_dir=$1 ca_rc=0
	for ca_page in $pages; do
		render "$ca_dir/$ca_page" || ca_rc=1
	done
	documented "$ca_dir/docs/lfbvncd.conf.5" Ic $conf_keys || ca_rc=1
	documented "$ca_dir/docs/lfbvncd.8" Fl $d_short \
	    $(dashed $d_long) || ca_rc=1
	documented "$ca_dir/docs/lfbvncctl.1" Fl $ctl_short \
	    $(dashed $ctl_long) || ca_rc=1
	documented "$ca_dir/docs/lfbvncctl.1" Cm $ctl_cmds || ca_rc=1
	documented "$ca_dir/clients/lfbvnc-probe.1" Fl $p_short \
	    $(dashed $p_long) || ca_rc=1
	documented "$ca_dir/docs/lfbvnc-xl.5" Ic $xl_keys || ca_rc=1
	return $ca_rc
}

check_all "$src" || fail "the man pages do not match the code"

# Negative controls: the same checks on altered copies of pages.
# expect_failure WHAT MESSAGE CHECK...: CHECK fails, saying MESSAGE.
expect_failure() {
	ef_what=$1 ef_message=$2
	shift 2
	if "$@" >"$work/out" 2>&1; then
		fail "negative control: $ef_what was not noticed"
	fi
	grep -qF -- "$ef_message" "$work/out" ||
		fail "negative control: $ef_what: no '$ef_message' in:" \
		    "$(cat "$work/out")"
}

# A configuration key deleted from lfbvncd.conf(5).
key=$(echo $conf_keys | cut -d' ' -f1)
sed "/^\\.It Ic $key\\( \\|\$\\)/d" "$src/docs/lfbvncd.conf.5" \
    >"$work/conf.5" || fail "sed"
expect_failure "a deleted lfbvncd.conf key" "[Ic $key]" \
    documented "$work/conf.5" Ic $conf_keys

# A long option deleted from lfbvnc-probe(1).
sed '/^\.It Fl -json$/d' "$src/clients/lfbvnc-probe.1" >"$work/probe.1" ||
	fail "sed"
expect_failure "a deleted lfbvnc-probe option" "[Fl -json]" \
    documented "$work/probe.1" Fl $p_short $(dashed $p_long)

# An xl key deleted from lfbvnc-xl(5).
sed '/^\.It Ic lfbvnc_port /d' "$src/docs/lfbvnc-xl.5" >"$work/xl.5" ||
	fail "sed"
expect_failure "a deleted xl key" "[Ic lfbvnc_port]" \
    documented "$work/xl.5" Ic $xl_keys

# A list left open at the end of lfbvncctl(1): groff warns.
{ cat "$src/docs/lfbvncctl.1"; printf '.Bl -tag -width Ds\n.It Cm x\ny\n'; } \
    >"$work/ctl.1" || fail "cat"
expect_failure "an unclosed list" "ctl.1: groff warns" render "$work/ctl.1"

echo "test-man: ok ($(echo $pages | wc -w) pages," \
    "$(echo $conf_keys $xl_keys | wc -w) keys," \
    "$(echo $d_short $d_long $ctl_short $ctl_long $p_short $p_long |
	wc -w) options, $(echo $ctl_cmds | wc -w) commands)"
