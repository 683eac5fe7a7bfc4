#!/bin/sh
# bench-daemon.sh - lfbvncd against full compare, an oracle and x11vnc.
#
# One run, one machine, every demo workload at 1920x1080 (default), back
# to back per workload and repetition:
#   kvm     lfbvncd, lfbvnc-demo with the kvm tracker (the guest draws)
#   uffd    lfbvncd, lfbvnc-demo with the uffd tracker
#   kvm3    kvm with -o clean-scans=3: the trap armed after 3 clean scans
#           (about 80 ms) instead of 8 (about 800 ms)
#   kvm10   kvm with -o max-rate=10: lfbvncd at the full-compare
#           fallback's rate, to compare the two methods frame for frame
#   kvm30   kvm with -o max-rate=30: about the rate x11vnc delivers
#   cmp     lfbvncd -o force-compare=yes: the whole framebuffer compared,
#           at the fallback rate (100 ms, growing to 1000 ms when still)
#   cmp16   the same at the tracked rate (-o fallback-interval=16)
#   oracle  bench/oracle-server: the renderer in process, exact damage
#   x11vnc  x11vnc -rawfb map:/proc/PID/fd/N (its defaults) on the demo
# cmp, cmp16 and x11vnc read a demo with --tracker none (a host thread
# draws, nothing tracks).  Only the server side is measured (the demo, or
# the oracle's render thread, is the "guest": its CPU is shown apart).
#
# Each run: start, 1 s, a first probe connects for 4 s (so the server is
# past its no-client state when the measured one comes), after 2 s the
# measured lfbvnc-probe (raw, --latency at the marker) connects for
# --seconds; the first probe leaves; from 3 s to --seconds - 1 s after the
# measured probe started, the server's CPU time (sum over its processes'
# threads of /proc/PID/task/TID/schedstat, i.e. user + system), voluntary
# context switches ("vcsw", its wake-ups) and, for lfbvncd, lfbvncctl's
# scans, wakeups (worker event-loop wake-ups) are sampled.  Updates,
# rectangles, octets and latency come from the measured probe.
#
# Then the idle cost (no marker): 0 and 1 client, after back-off; and
# lfbvncd with 16 and 64 idle guests (kvm, --fps 1), 0 clients and one
# probe per guest.
#
# Usage: bench-daemon.sh [--build DIR] [--doc FILE] [--reps N]
#        [--seconds S] [--idle-seconds S] [--size WxH]
#        [--workloads "LIST"] [--configs "LIST"] [--multi "16 64"]
#        [--no-idle] [--raw FILE] [--from FILE]
# --raw keeps the measurements (one line per run, and META lines saying
# when, where and how); --from FILE runs nothing and writes the report of
# such a file again (e.g. after the report's format changed).
# --doc rewrites the section "## lfbvncd versus full compare, an oracle and
# x11vnc (daemon issue)" of FILE (docs/BENCHMARKS.md), keeping any
# "### Analysis" subsection of it; without --doc the section goes to
# stdout only.  Nothing here is a test: numbers are what the machine gave.
set -u
BENCH=bench-daemon
. "$(dirname "$0")/lib.sh"

BUILD=.
DOC=
REPS=3
SECS=10
ISECS=15
SIZE=1920x1080
WORKLOADS="1px60 1px10 1px1 blink typing scroll drag video fullscreen sparse mix"
CONFIGS="kvm uffd kvm3 cmp cmp16 oracle x11vnc"
IDLE_CONFIGS="kvm uffd cmp oracle x11vnc"
MULTI="16 64"
IDLE=yes
RAW=
FROM=
ARGS="$*"

while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift 2 ;;
	--doc) DOC=$2; shift 2 ;;
	--reps) REPS=$2; shift 2 ;;
	--seconds) SECS=$2; shift 2 ;;
	--idle-seconds) ISECS=$2; shift 2 ;;
	--size) SIZE=$2; shift 2 ;;
	--workloads) WORKLOADS=$2; shift 2 ;;
	--configs) CONFIGS=$2; IDLE_CONFIGS=$2; shift 2 ;;
	--multi) MULTI=$2; shift 2 ;;
	--no-idle) IDLE=no; MULTI=; shift ;;
	--raw) RAW=$2; shift 2 ;;
	--from) FROM=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-daemon: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
done
[ "$SECS" -ge 6 ] || { echo "bench-daemon: --seconds must be >= 6" >&2; exit 2; }

if [ -n "$FROM" ]; then
	[ -r "$FROM" ] || { echo "bench-daemon: cannot read $FROM" >&2; exit 1; }
	# the run's own settings, so the tables have its rows and columns
	meta_early() { sed -n "s/^META $1 //p" "$FROM" | head -n 1; }
	CONFIGS=$(meta_early configs)
	WORKLOADS=$(meta_early workloads)
	IDLE_CONFIGS=$(meta_early idle_configs)
	MULTI=$(meta_early multi)
	X11VNC=x11vnc
else
DEMO=$BUILD/providers/demo/lfbvnc-demo
LFBVNCD=$BUILD/daemon/lfbvncd
CTLBIN=$BUILD/clients/lfbvncctl
PROBE=$BUILD/clients/lfbvnc-probe
ORACLE=$BUILD/bench/oracle-server
X11VNC=$(command -v x11vnc || true)
for b in "$DEMO" "$LFBVNCD" "$CTLBIN" "$PROBE" "$ORACLE"; do
	[ -x "$b" ] || { echo "bench-daemon: $b not built" >&2; exit 1; }
done
if [ -z "$X11VNC" ]; then
	echo "bench-daemon: no x11vnc: its rows are skipped" >&2
	CONFIGS=$(echo "$CONFIGS" | sed 's/x11vnc//')
	IDLE_CONFIGS=$(echo "$IDLE_CONFIGS" | sed 's/x11vnc//')
fi
fi
W=${SIZE%x*}
H=${SIZE#*x}

bench_tmp
OUT=$TMP/runs.txt
: >"$OUT"

# The oracle's render thread: "ns vcsw".
render_thread() {
	for t in /proc/$1/task/*; do
		if [ "$(cat "$t/comm" 2>/dev/null)" = oracle-render ]; then
			echo "$(cut -d ' ' -f 1 "$t/schedstat")" \
			    "$(awk '$1 == "voluntary_ctxt_switches:" \
			    { print $2 }' "$t/status")"
			return
		fi
	done
	echo "0 0"
}
# Globals set by setup_*: SRV (pids measured), WRITER (pid), WRITER_KIND
# (demo: whole process; oracle: its render thread), CTL (lfbvncd's control
# socket, or empty), VPORT.
SRV= WRITER= WRITER_KIND= CTL= VPORT=

# setup CONFIG WORKLOAD-KEY: everything up, VPORT serving.
setup() {
	cfg=$1
	demo_args "$2"
	next_port
	VPORT=$PORT
	CTL=
	sock=$TMP/demo.sock
	rm -f "$sock"
	GUESTS="-g g=$sock"
	NGUESTS=1
	case $cfg in
	kvm|uffd)
		# shellcheck disable=SC2086
		start_demo "$cfg" "$sock" $DARGS || return 1
		start_lfbvncd "$VPORT" || return 1 ;;
	kvm3)
		# shellcheck disable=SC2086
		start_demo kvm "$sock" $DARGS || return 1
		start_lfbvncd "$VPORT" -o clean-scans=3 || return 1 ;;
	kvm10|kvm30)
		# shellcheck disable=SC2086
		start_demo kvm "$sock" $DARGS || return 1
		start_lfbvncd "$VPORT" -o max-rate="${cfg#kvm}" || return 1 ;;
	cmp|cmp16)
		# shellcheck disable=SC2086
		start_demo none "$sock" $DARGS || return 1
		if [ $cfg = cmp ]; then
			start_lfbvncd "$VPORT" -o force-compare=yes || return 1
		else
			start_lfbvncd "$VPORT" -o force-compare=yes \
			    -o fallback-interval=16 || return 1
		fi ;;
	oracle)
		# shellcheck disable=SC2086
		"$ORACLE" --size "$SIZE" --port "$VPORT" $DARGS \
		    >"$TMP/oracle.log" 2>&1 &
		WRITER=$!
		WRITER_KIND=oracle
		SRV=$WRITER
		live_add $WRITER
		wait_listen "$VPORT" || return 1 ;;
	x11vnc)
		# shellcheck disable=SC2086
		start_demo none "$sock" $DARGS || return 1
		start_x11vnc "$WRITER" "$VPORT" "$TMP/x11vnc.log" || return 1
		SRV=$X11PID
		wait_listen "$VPORT" || return 1 ;;
	*)
		say "unknown configuration $cfg"; return 1 ;;
	esac
	return 0
}

teardown() {
	# the server first, so it never sees its provider vanish mid-run
	[ -n "$SRV" ] && stop $(echo "$SRV" | awk '{ print $1 }')
	[ -n "$WRITER" ] && [ "$WRITER_KIND" = demo ] && stop $WRITER
	stop $LIVE 2>/dev/null
	SRV= WRITER= CTL=
}

# snapshot -> "t cpu vcsw writer scans wakeups"
snapshot() {
	t=$(now_ns)
	c=$(cpu_ns $SRV)
	v=$(vcsw $SRV)
	if [ "$WRITER_KIND" = oracle ]; then
		set -- $(render_thread "$WRITER")
		wr=$1
		c=$((c - $1))
		v=$((v - $2))
	else
		wr=$(cpu_ns $WRITER)
	fi
	if [ -n "$CTL" ]; then
		st=$("$CTLBIN" -s "$CTL" --json status 2>/dev/null)
		sc=$(ctl_sum "$st" scans)
		wk=$(ctl_sum "$st" wakeups)
	else
		sc=- wk=-
	fi
	echo "$t $c $v $wr $sc $wk"
}

# rates A B -> "cpu% writer% scans/s wakeups/s vcsw/s"
rates() {
	echo "$1 $2" | awk '{
		dt = ($7 - $1) / 1e9
		printf "%.3f %.3f", ($8 - $2) / 1e7 / dt, ($10 - $4) / 1e7 / dt
		if ($5 == "-") printf " - -"
		else printf " %.2f %.2f", ($11 - $5) / dt, ($12 - $6) / dt
		printf " %.1f\n", ($9 - $3) / dt
	}'
}

run_workload() {	# config workload rep
	say "$1 $2 (repetition $3)"
	if ! setup "$1" "$2"; then
		say "$1 $2: setup failed, skipped"
		teardown
		return
	fi
	sleep 1
	"$PROBE" --duration 4 --timeout 10 "127.0.0.1::$VPORT" \
	    >/dev/null 2>&1 &
	hp=$!
	sleep 2
	lat=
	[ -n "$MX" ] && lat="--latency $MX,$MY"
	# shellcheck disable=SC2086
	"$PROBE" --duration "$SECS" --timeout 15 --json $lat \
	    "127.0.0.1::$VPORT" >"$TMP/probe.json" 2>"$TMP/probe.err" &
	mp=$!
	sleep 3
	wait $hp
	a=$(snapshot)
	sleep $((SECS - 4))
	b=$(snapshot)
	wait $mp
	teardown
	j=$(cat "$TMP/probe.json")
	upd=$(json_num "$j" updates)
	dur=$(json_num "$j" duration_s)
	rects=$(json_num "$j" rects)
	bytes=$(json_num "$j" bytes)
	p50=$(json_lat "$j" p50)
	p99=$(json_lat "$j" p99)
	nlat=$(json_lat "$j" count)
	r=$(rates "$a" "$b")
	echo "RUN $1 $2 $3 $r ${upd:--} ${dur:--} ${rects:--} ${bytes:--}" \
	    "${p50:--} ${p99:--} ${nlat:--}" | tee -a "$OUT" >&2
}

run_idle() {	# config nclients rep
	say "idle: $1, $2 client(s) (repetition $3)"
	if ! setup "$1" idle; then
		say "$1 idle: setup failed, skipped"
		teardown
		return
	fi
	pp=
	if [ "$2" -gt 0 ]; then
		"$PROBE" --duration $((ISECS + 30)) --timeout 10 \
		    "127.0.0.1::$VPORT" >/dev/null 2>&1 &
		pp=$!
		live_add $pp
	fi
	sleep 8		# past the back-off (trap, or the slowest poll)
	a=$(snapshot)
	sleep "$ISECS"
	b=$(snapshot)
	[ -n "$pp" ] && stop $pp
	teardown
	echo "IDLE $1 $2 $3 $(rates "$a" "$b")" | tee -a "$OUT" >&2
}

run_multi() {	# nguests rep
	n=$1
	say "$n idle guests (repetition $2)"
	GUESTS=
	NGUESTS=$n
	demos=
	i=0
	while [ $i -lt "$n" ]; do
		s=$TMP/m$i.sock
		rm -f "$s"
		"$DEMO" --socket "$s" --size "$SIZE" --tracker kvm \
		    --workload idle --fps 1 >"$s.log" 2>&1 &
		demos="$demos $!"
		live_add $!
		GUESTS="$GUESTS -g m$i=$s"
		i=$((i + 1))
	done
	for s in $(echo "$GUESTS" | tr ' ' '\n' | grep '=' | cut -d= -f2); do
		k=0
		while [ $k -lt 100 ] && [ ! -S "$s" ]; do sleep 0.1; k=$((k + 1)); done
	done
	if ! start_lfbvncd 0; then
		stop $LIVE
		return
	fi
	WRITER=$demos WRITER_KIND=demo
	sleep 5
	a=$(snapshot)
	sleep "$ISECS"
	b=$(snapshot)
	echo "MULTI $n 0 $2 $(rates "$a" "$b")" | tee -a "$OUT" >&2
	st=$("$CTLBIN" -s "$CTL" --json status 2>/dev/null)
	probes=
	for p in $(printf '%s\n' "$st" | grep -o '"vnc_port":[0-9]*' |
	    cut -d: -f2); do
		"$PROBE" --duration $((ISECS + 60)) --timeout 30 \
		    "127.0.0.1::$p" >/dev/null 2>&1 &
		probes="$probes $!"
		live_add $!
	done
	sleep 12	# every first update, then the back-off
	a=$(snapshot)
	sleep "$ISECS"
	b=$(snapshot)
	echo "MULTI $n 1 $2 $(rates "$a" "$b")" | tee -a "$OUT" >&2
	# shellcheck disable=SC2086
	stop $probes
	stop $(echo "$SRV" | awk '{ print $1 }')
	# shellcheck disable=SC2086
	stop $demos
	SRV= CTL= WRITER=
	GUESTS= NGUESTS=1
}

if [ -z "$FROM" ]; then
{
	meta_machine
	echo "META x11vnc $([ -n "$X11VNC" ] && "$X11VNC" -version 2>/dev/null |
	    head -n 1)"
	echo "META args $ARGS"
	echo "META reps $REPS"
	echo "META seconds $SECS"
	echo "META idle_seconds $ISECS"
	echo "META size $SIZE"
	echo "META configs $CONFIGS"
	echo "META workloads $WORKLOADS"
	echo "META idle_configs $([ "$IDLE" = yes ] && echo "$IDLE_CONFIGS")"
	echo "META multi $MULTI"
} >>"$OUT"
say "output in $OUT; about $(( (REPS * $(echo $WORKLOADS | wc -w) * \
    $(echo $CONFIGS | wc -w) * (SECS + 5)) / 60 )) minutes for the workloads"

rep=1
while [ $rep -le "$REPS" ]; do
	for wl in $WORKLOADS; do
		for cfg in $CONFIGS; do
			run_workload "$cfg" "$wl" "$rep"
		done
	done
	if [ "$IDLE" = yes ]; then
		for cfg in $IDLE_CONFIGS; do
			run_idle "$cfg" 0 "$rep"
			run_idle "$cfg" 1 "$rep"
		done
	fi
	for n in $MULTI; do
		run_multi "$n" "$rep"
	done
	rep=$((rep + 1))
done
echo "META load_after $(cut -d ' ' -f 1-3 /proc/loadavg)" >>"$OUT"
[ -n "$RAW" ] && cp "$OUT" "$RAW"
else
	cp "$FROM" "$OUT"
fi
meta() { sed -n "s/^META $1 //p" "$OUT" | head -n 1; }

# ------------------------------------------------------------ report

heading='## lfbvncd versus full compare, an oracle and x11vnc (daemon issue)'
sect=$TMP/section.md
{
echo "$heading"
echo
x11ver=$(meta x11vnc)
echo "Run on $(meta date) (UTC) on $(meta model), $(meta ncpu) CPUs," \
    "Linux $(meta kernel); load average $(meta load_before) before the" \
    "run, $(meta load_after) after it${x11ver:+; $x11ver}.  Other jobs" \
    "shared the machine during the run: compare within a repetition."
echo
echo "Command: \`bench/bench-daemon.sh $(meta args)\` in the build" \
    "directory (\`make bench-daemon\`, part of \`make bench\`, runs it" \
    "with \`--build . --doc docs/BENCHMARKS.md\`); source" \
    "\`bench/bench-daemon.sh\` and \`bench/oracle-server.c\`." \
    "Screen $(meta size), 60 frames/s, $(meta reps) repetitions of every" \
    "cell, each with one connected \`lfbvnc-probe\` (Raw encoding) for" \
    "$(meta seconds) s; idle windows $(meta idle_seconds) s.  Every" \
    "number is the median over the repetitions (latency: the median of" \
    "each run's p50 and p99)."
echo
cat <<'EOT'
Servers: **kvm**, **uffd**: lfbvncd (`-o max-rate=60`) on lfbvnc-demo with
that tracker and the daemon's scan policy and back-off (defaults: 16 ms,
the trap armed after 8 clean scans, i.e. 128 ms after the last change, a
scan 2 ms after the trap fires; docs/SCAN-POLICY.md); **kvm3**: kvm with
`-o clean-scans=3` (the trap armed after 48 ms); **kvm10**: kvm with
`-o max-rate=10` (scans at most every 100 ms: the cmp fallback's rate,
so the two methods deliver about as many frames); **kvm30**: kvm with
`-o max-rate=30` (about the rate x11vnc delivers); **cmp**: lfbvncd
`-o force-compare=yes` (the whole framebuffer compared, qemu-dm's 2007
method, at the fallback rate: 100 ms, growing to 1000 ms while nothing
changes); **cmp16**: the same at the tracked rate (`-o
fallback-interval=16`); **oracle**: `bench/oracle-server`, the demo
renderer in process, marking exactly the rectangles it drew (the lower
bound on server work); **x11vnc**: `x11vnc -rawfb
map:/proc/PID/fd/N@WxHx32` with its defaults (`-wait 20 -defer 20`, naps)
on the demo's memfd.  cmp, cmp16 and x11vnc read a demo with `--tracker
none`.

Measured: **server CPU** = user + system time of the server's threads
(lfbvncd: master and worker processes; oracle: all threads but its render
thread; x11vnc: its process), from `/proc/PID/task/*/schedstat`, in % of
one core, over the window 3 s to `seconds - 1` s after the probe
connected.  **Writer CPU** (the demo, or the oracle's render thread) is
not the server's and is shown apart; it differs by tracker (the kvm
demo's guest draws in a vCPU, dirty logging on).  **scans/s** and
**loop wake-ups/s** are lfbvncctl's `scans` and `wakeups` (scan timer,
trap, provider and client events of the worker loop); **vcsw/s** are the
server's voluntary context switches (every time one of its threads
blocked: the one wake-up count all four servers have).  Updates, octets and
rectangles per update and **latency** come from the probe: latency is
change -> client, the time in the marker pixels (`common/marker.h`),
written by the renderer after each frame's other writes, minus the time
the probe has applied the update holding it; a marker overwritten before
a server sent it is never seen ("samples" counts those seen), and a strip
read while it is being written is blank (the renderer zeroes it first), so
a torn strip is no sample: latency is to the complete change.  Markers:
**1px60**, **1px10**, **1px1** = the idle desktop plus a marker-only
change (8 pixels of one row) 60, 10 or 1 times a second
(`--marker-rate`); **blink** = the marker inside the blinking 8x16
cursor cell (one 32x32 tile), written when it toggles (2 Hz);
**fullscreen** and the others: at the screen's centre, after every frame
that drew anything.  A first probe is connected for the server's first
seconds so the measured one joins a running server: what a server does
when its first client connects is not in these numbers.
EOT
echo
awk -v configs="$CONFIGS" -v workloads="$WORKLOADS" \
    -v idlecfg="$IDLE_CONFIGS" -v multi="$MULTI" "$AWK_STATS"'
$1 == "RUN" {
	k = $2 SUBSEP $3
	put(k SUBSEP "cpu", $5); put(k SUBSEP "wr", $6)
	put(k SUBSEP "scans", $7); put(k SUBSEP "wake", $8)
	put(k SUBSEP "vcsw", $9)
	if ($10 != "-" && $11 > 0) {
		put(k SUBSEP "ups", $10 / $11)
		if ($10 > 0) put(k SUBSEP "msu", $5 * 10 / ($10 / $11))
	}
	rcpu[$2, $3, $4] = $5
	if ($10 != "-" && $10 > 0) {
		put(k SUBSEP "oct", $13 / $10)
		put(k SUBSEP "rpu", $12 / $10)
	}
	put(k SUBSEP "p50", $14); put(k SUBSEP "p99", $15)
	put(k SUBSEP "nlat", $16)
}
$1 == "IDLE" || $1 == "MULTI" {
	k = $1 SUBSEP $2 SUBSEP $3
	put(k SUBSEP "cpu", $5); put(k SUBSEP "wr", $6)
	put(k SUBSEP "scans", $7); put(k SUBSEP "wake", $8)
	put(k SUBSEP "vcsw", $9)
}
END {
	nc = split(configs, C, " ")
	nw = split(workloads, WL, " ")
	print "### Server CPU, % of one core"
	print ""
	line = "| workload |"; sep = "|---|"
	for (c = 1; c <= nc; c++) { line = line " " C[c] " |"; sep = sep "---:|" }
	print line; print sep
	for (w = 1; w <= nw; w++) {
		line = "| " WL[w] " |"
		for (c = 1; c <= nc; c++)
			line = line " " f(median(C[c] SUBSEP WL[w] SUBSEP "cpu"), 2) " |"
		print line
	}
	print ""
	print "### Server CPU relative to kvm in the same repetition"
	print ""
	print "The machine was shared: absolute numbers drift between" \
	    " repetitions, so each server is compared with kvm run minutes" \
	    " apart at most, then the median of the per-repetition ratios" \
	    " is taken (> 1: kvm used less CPU; the number of repetitions" \
	    " in which kvm used less in brackets)."
	print ""
	line = "| workload |"; sep = "|---|"
	for (c = 1; c <= nc; c++) {
		if (C[c] == "kvm") continue
		line = line " " C[c] " |"; sep = sep "---:|"
	}
	print line; print sep
	for (w = 1; w <= nw; w++) {
		line = "| " WL[w] " |"
		for (c = 1; c <= nc; c++) {
			if (C[c] == "kvm") continue
			rk = "ratio" SUBSEP C[c] SUBSEP WL[w]
			wins = 0; tot = 0
			for (r = 1; r <= 100; r++) {
				if (!((C[c], WL[w], r) in rcpu) ||
				    !(("kvm", WL[w], r) in rcpu) ||
				    rcpu["kvm", WL[w], r] <= 0) continue
				put(rk, rcpu[C[c], WL[w], r] / rcpu["kvm", WL[w], r])
				tot++
				if (rcpu[C[c], WL[w], r] > rcpu["kvm", WL[w], r]) wins++
			}
			line = line " " f(median(rk), 2) (tot ? " (" wins "/" tot ")" : "") " |"
		}
		print line
	}
	print ""
	print "### Change -> client latency, ms: p50 / p99"
	print ""
	line = "| case |"; sep = "|---|"
	for (c = 1; c <= nc; c++) { line = line " " C[c] " |"; sep = sep "---:|" }
	print line; print sep
	for (w = 1; w <= nw; w++) {
		line = "| " WL[w] " |"
		for (c = 1; c <= nc; c++) {
			k = C[c] SUBSEP WL[w]
			line = line " " f(median(k SUBSEP "p50"), 1) " / " \
			    f(median(k SUBSEP "p99"), 1) " |"
		}
		print line
	}
	print ""
	print "### Every cell (medians)"
	print ""
	print "| workload | server | CPU % | CPU ms/update | scans/s | loop wake-ups/s | vcsw/s | updates/s | octets/update | rects/update | latency p50 ms | p99 ms | samples | writer CPU % |"
	print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for (w = 1; w <= nw; w++)
		for (c = 1; c <= nc; c++) {
			k = C[c] SUBSEP WL[w]
			if (cnt[k SUBSEP "cpu"] == 0) continue
			print "| " WL[w] " | " C[c] " | " \
			    f(median(k SUBSEP "cpu"), 2) " | " \
			    f(median(k SUBSEP "msu"), 3) " | " \
			    f(median(k SUBSEP "scans"), 1) " | " \
			    f(median(k SUBSEP "wake"), 1) " | " \
			    f(median(k SUBSEP "vcsw"), 1) " | " \
			    f(median(k SUBSEP "ups"), 1) " | " \
			    f(median(k SUBSEP "oct"), 0) " | " \
			    f(median(k SUBSEP "rpu"), 2) " | " \
			    f(median(k SUBSEP "p50"), 2) " | " \
			    f(median(k SUBSEP "p99"), 2) " | " \
			    f(median(k SUBSEP "nlat"), 0) " | " \
			    f(median(k SUBSEP "wr"), 2) " |"
		}
	ni = split(idlecfg, I, " ")
	if (ni > 0 && cnt["IDLE" SUBSEP I[1] SUBSEP 0 SUBSEP "cpu"] > 0) {
		print ""
		print "### Idle desktop, no marker: 0 and 1 client, after back-off"
		print ""
		print "| server | clients | CPU % | scans/s | loop wake-ups/s | vcsw/s | writer CPU % |"
		print "|---|---:|---:|---:|---:|---:|---:|"
		for (c = 1; c <= ni; c++)
			for (n = 0; n <= 1; n++) {
				k = "IDLE" SUBSEP I[c] SUBSEP n
				if (cnt[k SUBSEP "cpu"] == 0) continue
				print "| " I[c] " | " n " | " \
				    f(median(k SUBSEP "cpu"), 3) " | " \
				    f(median(k SUBSEP "scans"), 2) " | " \
				    f(median(k SUBSEP "wake"), 2) " | " \
				    f(median(k SUBSEP "vcsw"), 1) " | " \
				    f(median(k SUBSEP "wr"), 2) " |"
			}
	}
	nm = split(multi, MU, " ")
	if (nm > 0) {
		print ""
		print "### Many idle guests (kvm, idle, --fps 1): lfbvncd in total"
		print ""
		print "| guests | clients per guest | CPU % | scans/s | loop wake-ups/s | vcsw/s |"
		print "|---:|---:|---:|---:|---:|---:|"
		for (m = 1; m <= nm; m++)
			for (n = 0; n <= 1; n++) {
				k = "MULTI" SUBSEP MU[m] SUBSEP n
				if (cnt[k SUBSEP "cpu"] == 0) continue
				print "| " MU[m] " | " n " | " \
				    f(median(k SUBSEP "cpu"), 3) " | " \
				    f(median(k SUBSEP "scans"), 2) " | " \
				    f(median(k SUBSEP "wake"), 2) " | " \
				    f(median(k SUBSEP "vcsw"), 1) " |"
			}
	}
}' "$OUT"
echo
echo '<details><summary>Every run as measured</summary>'
echo
echo 'RUN config workload rep cpu% writer% scans/s loop-wakeups/s vcsw/s'
echo '    updates duration_s rects bytes lat_p50 lat_p99 lat_samples;'
echo 'IDLE config clients rep and MULTI guests clients rep: cpu% writer%'
echo 'scans/s loop-wakeups/s vcsw/s (MULTI: writer = all the demos).'
echo
echo '```'
cat "$OUT"
echo '```'
echo
echo '</details>'
echo
} >"$sect"
cat "$sect"

[ -n "$DOC" ] || exit 0
doc_section "$DOC" "$heading" "$sect"
