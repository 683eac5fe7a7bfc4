# lib.sh - shell functions shared by the benchmark scripts (bench-daemon.sh,
# host-scale).  Sourced, not run: set BENCH (the script's name, for
# messages) before sourcing, then call bench_tmp once the options are read.
#
# Globals the functions use or set:
#   TMP     the run's scratch directory (bench_tmp), removed on exit
#   LIVE    pids started and not stopped yet (killed on exit)
#   PORT    the last TCP port handed out (next_port)
#   W, H    the screen size (demo_args)
#   DEMO, LFBVNCD, CTLBIN, X11VNC, SIZE   programs and the demo's size
#   GUESTS, NGUESTS   lfbvncd's -g options and their count (start_lfbvncd)
#   WRITER, WRITER_KIND (start_demo), SRV, CTL (start_lfbvncd)

say() { echo "$BENCH: $*" >&2; }

# bench_tmp: the scratch directory, and the traps that clean up after us.
bench_tmp() {
	TMP=$(mktemp -d "/tmp/$BENCH.XXXXXX")
	LIVE=""
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}
bench_cleanup() {
	for p in $LIVE; do kill "$p" 2>/dev/null; done
	[ -n "$LIVE" ] && sleep 1
	for p in $LIVE; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$TMP"
}

live_add() { LIVE="$LIVE $*"; }
live_del() {
	n=""
	for p in $LIVE; do
		keep=1
		for q in "$@"; do [ "$p" = "$q" ] && keep=0; done
		[ $keep = 1 ] && n="$n $p"
	done
	LIVE=$n
}

# stop PID...: SIGTERM, up to 5 s, then SIGKILL; reaps them.
stop() {
	for p; do kill "$p" 2>/dev/null; done
	i=0
	while [ $i -lt 50 ]; do
		alive=0
		for p; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
		i=$((i + 1))
	done
	for p; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	live_del "$@"
}

now_ns() { date +%s%N; }

PORT=$((26000 + $$ % 1000 * 3))
listening() {
	hex=$(printf '%04X' "$1")
	awk -v h=":$hex" 'substr($2, length($2) - 4) == h && $4 == "0A" \
	    { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
next_port() {
	PORT=$((PORT + 1))
	while listening $PORT; do PORT=$((PORT + 1)); done
}
wait_listen() {	# port
	i=0
	while [ $i -lt 100 ]; do
		listening "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# CPU ns (user + system) and voluntary context switches of every thread
# of the given processes.
# (One cat for all: a fork per process would take long for hundreds.)
task_files() {	# file pid...: /proc/PID/task/*/FILE of each
	f=$1
	shift
	[ $# -gt 0 ] || { echo /dev/null; return; }
	for p; do printf ' /proc/%s/task/*/%s' "$p" "$f"; done
}
cpu_ns() {
	# shellcheck disable=SC2046
	cat $(task_files schedstat "$@") 2>/dev/null |
	    awk '{ s += $1 } END { printf "%.0f\n", s }'
}
vcsw() {
	# shellcheck disable=SC2046
	cat $(task_files status "$@") 2>/dev/null |
	    awk '$1 == "voluntary_ctxt_switches:" { s += $2 }
	    END { printf "%.0f\n", s }'
}
# sum of a numeric field over all guests in `lfbvncctl --json status'
ctl_sum() {	# status-text field
	printf '%s\n' "$1" | grep -o "\"$2\":[0-9]*" |
	    awk -F: '{ s += $2 } END { printf "%.0f\n", s }'
}
json_num() {	# text field (first occurrence, top level fields only)
	printf '%s\n' "$1" | grep -o "\"$2\":-\{0,1\}[0-9.]*" | head -n 1 |
	    cut -d: -f2
}
json_lat() {	# probe-json field: from the latency_ms object
	printf '%s\n' "$1" | grep -o '"latency_ms":{[^}]*}' |
	    grep -o "\"$2\":[0-9.]*" | head -n 1 | cut -d: -f2
}

# demo_args WORKLOAD-KEY -> sets DARGS, MX, MY (the latency marker, MX
# empty for none)
demo_args() {
	MX=960; MY=540
	case $1 in
	1px60) DARGS="--workload idle --marker-rate 60" ;;
	1px10) DARGS="--workload idle --marker-rate 10" ;;
	1px1) DARGS="--workload idle --marker-rate 1" ;;
	blink) DARGS="--workload blink"; MX=239; MY=141 ;;	# the cursor cell
	idle) DARGS="--workload idle"; MX= ;;
	*) DARGS="--workload $1" ;;
	esac
	# the cursor cell is at 239,141 from 1024x600 up (render.c layout)
	if [ -n "$MX" ] && { [ "$1" != blink ] || [ "$W" -lt 1024 ] ||
	    [ "$H" -lt 600 ]; }; then
		MX=$((W / 2))
		MY=$((H / 2))
	fi
	[ -n "$MX" ] && DARGS="$DARGS --marker $MX,$MY"
}

start_demo() {	# tracker socket extra-args...
	tr=$1 sock=$2
	shift 2
	# shellcheck disable=SC2086
	"$DEMO" --socket "$sock" --size "$SIZE" --tracker "$tr" "$@" \
	    >"$sock.log" 2>&1 &
	WRITER=$!
	WRITER_KIND=demo
	live_add $WRITER
	i=0
	while [ $i -lt 100 ] && [ ! -S "$sock" ]; do sleep 0.1; i=$((i + 1)); done
	[ -S "$sock" ]
}

start_lfbvncd() {	# port extra -o options... (guests from GUESTS)
	CTL=$TMP/ctl
	rm -f "$CTL"
	port=$1
	shift
	# shellcheck disable=SC2086
	"$LFBVNCD" -c "$CTL" $GUESTS -o port="$port" -o max-rate=60 \
	    "$@" >"$TMP/lfbvncd.log" 2>&1 &
	M=$!
	live_add $M
	i=0
	while [ $i -lt 150 ]; do
		st=$("$CTLBIN" -s "$CTL" --json status 2>/dev/null)
		up=$(printf '%s\n' "$st" | grep -o '"provider_up":true' | wc -l)
		[ "$up" -ge "$NGUESTS" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	[ "$up" -ge "$NGUESTS" ] || { say "lfbvncd did not come up"; return 1; }
	SRV="$M $(ps -o pid= --ppid "$M" | tr '\n' ' ')"
	return 0
}

# start_x11vnc DEMO-PID PORT LOG: x11vnc -rawfb on the demo's framebuffer
# memfd, its defaults; sets X11PID (wait_listen PORT for it to serve).
start_x11vnc() {
	fd=$(ls -l /proc/$1/fd | awk '/lfbvnc-demo-fb/ { print $9 }')
	[ -n "$fd" ] || { say "no framebuffer fd in the demo"; return 1; }
	"$X11VNC" -rawfb "map:/proc/$1/fd/$fd@${W}x${H}x32" \
	    -localhost -rfbport "$2" -nopw -forever -shared -quiet \
	    >"$3" 2>&1 &
	X11PID=$!
	live_add $X11PID
}

# Resident and proportional set size (KiB) of the given processes, summed:
# "rss pss".
mem_kib() {
	[ $# -gt 0 ] || { echo "0 0"; return; }
	# shellcheck disable=SC2046
	cat $(for p; do printf ' /proc/%s/smaps_rollup' "$p"; done) 2>/dev/null |
	    awk '$1 == "Rss:" { r += $2 } $1 == "Pss:" { p += $2 }
	    END { printf "%.0f %.0f\n", r, p }'
}

# META lines about the machine and its load, for a raw file.
meta_machine() {
	echo "META date $(date -u +%F)"
	echo "META model $(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' \
	    /proc/cpuinfo | head -n 1)"
	echo "META ncpu $(nproc)"
	echo "META kernel $(uname -r)"
	echo "META load_before $(cut -d ' ' -f 1-3 /proc/loadavg)"
}

# awk functions for the reports: put(key, x) collects a value (not "-"),
# median(key) is the median of those of key ("-" if none), f(x, d) prints
# with d decimals.  Use as: awk "$AWK_STATS"'...program...'
AWK_STATS='
function median(key,    n, i, j, t, v) {
	n = cnt[key]
	if (n == 0) return "-"
	for (i = 1; i <= n; i++) v[i] = val[key, i]
	for (i = 2; i <= n; i++) {
		t = v[i]
		for (j = i - 1; j >= 1 && v[j] + 0 > t + 0; j--) v[j + 1] = v[j]
		v[j + 1] = t
	}
	if (n % 2) return v[(n + 1) / 2]
	return (v[n / 2] + v[n / 2 + 1]) / 2
}
function put(key, x) {
	if (x == "-" || x == "") return
	cnt[key]++
	val[key, cnt[key]] = x
}
function f(x, d) { return x == "-" ? "-" : sprintf("%." d "f", x) }
'

# doc_section DOC HEADING SECTION-FILE: replace the section HEADING of DOC
# (from the heading to the next "## " heading) with the file's text, or
# append it; a "### Analysis" subsection of the old section is kept, at
# its end.  DOC is created with the benchmarks' preamble if missing.
doc_section() {
	if [ ! -f "$1" ]; then
		cat >"$1" <<'EOT'
# Benchmarks

Measurements of lfbvnc's moving parts on a real machine.  Each section
says when and on what machine it was run and how to reproduce it; run
them all with `make bench` in a configured build directory (nothing here
runs in `make check`).  The machines are shared and noisy: compare the
numbers within one section, and prefer the ratios to absolute times.
EOT
	fi
	new=$(mktemp)
	awk -v heading="$2" -v sect="$3" '
		function emit(   line) {
			while ((getline line < sect) > 0)
				print line
			close(sect)
			done = 1
		}
		function flush() {
			if (kept != "") printf "%s", kept
			kept = ""
		}
		$0 == heading { emit(); skip = 1; next }
		skip && /^## / { skip = 0; keep = 0; flush() }
		skip && /^### Analysis/ { keep = 1 }
		skip && keep { kept = kept $0 "\n"; next }
		!skip { print }
		END { if (skip) flush(); if (!done) { print ""; emit() } }
	' "$1" >"$new"
	# collapse the blank lines the splice may have doubled
	cat -s "$new" >"$1"
	rm -f "$new"
	say "wrote the section \"$2\" of $1"
}
