#!/bin/sh
# run-trackers.sh PROGRAM DOC [OPTIONS...] - run bench-trackers (PROGRAM)
# with OPTIONS and write what it printed, with the date, the machine and
# the command, into the "## Trackers (lfbshm issue)" section of DOC
# (docs/BENCHMARKS.md), replacing that section and leaving the others
# alone.  DOC is created with a short introduction if it does not exist.
# Nothing here is a test: the numbers are whatever this machine gave.
set -eu
BENCH=run-trackers
. "$(dirname "$0")/lib.sh"

if [ $# -lt 2 ]; then
	echo "usage: $0 bench-trackers BENCHMARKS.md [options...]" >&2
	exit 2
fi
prog=$1
doc=$2
shift 2
heading='## Trackers (lfbshm issue)'

out=$(mktemp)
sect=$(mktemp)
trap 'rm -f "$out" "$sect"' EXIT INT TERM

date=$(date -u +%F)
model=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo |
    head -n 1)
ncpu=$(nproc)
kernel=$(uname -r)
load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)

echo "run-trackers: $prog $*" >&2
if ! "$prog" "$@" >"$out"; then
	cat "$out"
	echo "run-trackers: $prog failed; $doc left alone" >&2
	exit 1
fi
cat "$out"
load_after=$(cut -d ' ' -f 1-3 /proc/loadavg)

{
	echo "$heading"
	echo
	echo "Run on $date (UTC) on ${model:-an unknown CPU}, $ncpu CPUs," \
	    "Linux $kernel; load average $load_before before the run," \
	    "$load_after after it."
	echo
	echo "Command: \`make bench-trackers\` (part of \`make bench\`) in" \
	    "the build directory, which runs" \
	    "\`bench/run-trackers.sh ./bench/bench-trackers" \
	    "docs/BENCHMARKS.md${*:+ $*}\`, i.e." \
	    "\`./bench/bench-trackers${*:+ $*}\`, and writes this section."
	echo "Source: \`bench/bench-trackers.c\` (how each method is" \
	    "measured is described at its top), guest \`bench/bench-guest.c\`."
	echo "Every cell is measured once per round, all methods interleaved" \
	    "round by round in one process, so compare within a run: the" \
	    "ratios matter, the absolute values move with the machine's load."
	echo
	echo "How to read it: \"cold\" means the caches and TLBs were" \
	    "flushed (by reading a large buffer) before the write and before" \
	    "the get-and-clear, which is the usual state of a daemon that" \
	    "polls at 60 Hz among other work; \"hot\" repeats the call at" \
	    "once on a clean frame.  A uffd get-and-clear after writes" \
	    "write-protects the written pages again and flushes their TLB" \
	    "entries, which needs an IPI when the writer thread last ran" \
	    "on the other CPU; a kvm get-and-clear here runs while the" \
	    "vCPU is idle in the VMM."
	echo
	grep -v '^RESULT ' "$out"
	echo
	echo '<details><summary>Machine-readable lines</summary>'
	echo
	echo '```'
	grep '^RESULT ' "$out" || true
	echo '```'
	echo
	echo '</details>'
	echo
} >"$sect"

doc_section "$doc" "$heading" "$sect"
