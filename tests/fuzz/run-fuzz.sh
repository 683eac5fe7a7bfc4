#!/bin/sh
# run-fuzz.sh TARGET CORPUSDIR [OPTION ...] - run one fuzz target as a test.
#
# A TARGET whose name ends in "-libfuzzer" is a libFuzzer binary: it fuzzes
# for FUZZ_SECONDS (default 20) seconds, starting from CORPUSDIR (read only;
# new inputs go to a scratch directory), and passes when it finds no crash.
# A crashing input is copied to the current directory as
# fuzz-<target>-<crash-...> for reproduction with the replay driver.
# Any other TARGET is a replay driver (tests/fuzz/replay.c): it runs every
# input of CORPUSDIR once.  OPTIONs are more libFuzzer options (the replay
# driver ignores them).
#
# Exit: 0 pass, 1 fail, 77 skip (target not built), 99 hard error.
set -u

if [ $# -lt 2 ]; then
	echo "usage: run-fuzz.sh TARGET CORPUSDIR [OPTION ...]" >&2
	exit 99
fi
target=$1
corpus=$2
shift 2

if [ ! -x "$target" ]; then
	echo "SKIP: $target is not built"
	exit 77
fi
if [ ! -d "$corpus" ]; then
	echo "FAIL: no corpus directory $corpus"
	exit 1
fi

case $target in
*-libfuzzer)
	work=$(mktemp -d "${TMPDIR:-/tmp}/run-fuzz.XXXXXX") || exit 99
	trap 'rm -rf "$work"' EXIT
	mkdir "$work/corpus" || exit 99
	# libFuzzer's default error exit code is 77, which automake reads
	# as "skipped": ask for 1.
	"$target" -max_total_time="${FUZZ_SECONDS:-20}" -timeout=10 \
	    -rss_limit_mb=2048 -error_exitcode=1 -timeout_exitcode=1 \
	    -print_final_stats=1 -artifact_prefix="$work/" "$@" \
	    "$work/corpus" "$corpus"
	rc=$?
	if [ $rc -ne 0 ]; then
		name=$(basename "$target")
		for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* \
		    "$work"/oom-*; do
			[ -f "$a" ] || continue
			cp "$a" "./fuzz-$name-$(basename "$a")" &&
			    echo "artifact: ./fuzz-$name-$(basename "$a")"
		done
		exit 1
	fi
	exit 0
	;;
*)
	exec "$target" "$@" "$corpus"
	;;
esac
