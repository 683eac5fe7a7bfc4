# lib.sh - sourced by the tests/integration/test-*.sh scripts.
#
# Runs the real programs of the build tree together: the demo provider
# (lfbvnc-demo), the daemon (lfbvncd, one worker per guest), lfbvncctl and
# lfbvnc-probe.  Every process a test starts is recorded and stopped by the
# EXIT trap, whatever happens; every wait is bounded; a failure prints the
# daemon's log, the demo's log and "lfbvncctl status".  Each test runs in
# its own temporary directory and VNC ports are chosen by the kernel
# (port=0, read back from "lfbvncctl status"), so tests run in parallel.
#
# Any sanitizer report (AddressSanitizer, LeakSanitizer, UBSan "runtime
# error:") in any log fails the test, also when everything else passed;
# so does a leak check that could not run ("LeakSanitizer has encountered
# a fatal error", e.g. a worker's seccomp filter refusing its tracer).
#
# Valgrind mode, LFBVNC_TEST_VALGRIND=1 (make check-valgrind,
# test-valgrind.sh): lfbvncd, master and workers, runs under memcheck, its
# workers without their seccomp filter (valgrind does not know that system
# call: --debug-no-seccomp, docs/SECURITY.md); LFBVNC_TEST_VALGRIND=all
# puts the demo providers under it too (their uffd tracker does not work
# there: valgrind does not know userfaultfd either).  Each process writes
# $WORK/vg-PID.log; at the end every one must say "ERROR SUMMARY: 0
# errors" (a definite leak counts as an error) or the test fails with the
# report, and so does a log without a summary (a process SIGKILLed, whose
# leaks went unchecked) unless the test expects it of that program
# (IT_VG_KILLED_OK, a regular expression on its path).  Every time limit
# and wait of this file, and the --timeout of probes, is multiplied by
# IT_TSCALE (LFBVNC_TEST_VALGRIND_SCALE, 8); a test whose point is a
# time bound or a load calls valgrind_skip.
#
# Usage, at the top of a test:
#	. "$(dirname "$0")/lib.sh"
#	it_init NAME SECONDS "$@"	# SECONDS: the whole test's time limit
#
# Exit status: 0 pass, 1 fail, 77 skip (with the reason on stdout).

set -euo pipefail

: "${top_builddir:=.}"
: "${top_srcdir:=.}"
IT_BUILD=$(cd "$top_builddir" && pwd)
IT_DEMO=$IT_BUILD/providers/demo/lfbvnc-demo
IT_LFBVNCD=$IT_BUILD/daemon/lfbvncd
IT_CTL=$IT_BUILD/clients/lfbvncctl
IT_PROBE=$IT_BUILD/clients/lfbvnc-probe
IT_FBTOOL=$IT_BUILD/tests/clients/fbtool
IT_STALL=$IT_BUILD/tests/integration/stall-client

# How lfbvncd and the demo are started (valgrind mode puts them under it).
IT_VALGRIND=${LFBVNC_TEST_VALGRIND:-}
[ "$IT_VALGRIND" = 0 ] && IT_VALGRIND=
IT_TSCALE=1
[ -z "$IT_VALGRIND" ] || IT_TSCALE=${LFBVNC_TEST_VALGRIND_SCALE:-8}
IT_VG_KILLED_OK=${IT_VG_KILLED_OK:-}
IT_RUN_LFBVNCD=("$IT_LFBVNCD")
IT_RUN_DEMO=("$IT_DEMO")

WORK=
IT_NAME=
IT_PIDS=()		# every background process we started
IT_FAILED=0
IT_NDEMO=0
IT_NDAEMON=0

# The current demo and daemon (start_demo / start_daemon set them).
DEMO_PID='' DEMO_SOCK='' DEMO_LOG='' DW='' DH=''
D_PID='' D_CTL='' D_LOG='' PORT=''

log() { printf '%s: %s\n' "$IT_NAME" "$*"; }

skip() {
	echo "SKIP: $*"
	exit 77
}

# fail MESSAGE: print diagnostics and exit 1 (the EXIT trap cleans up).
fail() {
	echo "FAIL: $*"
	IT_FAILED=1
	diagnostics
	exit 1
}

diagnostics() {
	local f
	echo "---- diagnostics (work directory $WORK) ----"
	if [ -n "$D_CTL" ] && [ -S "$D_CTL" ]; then
		echo "---- lfbvncctl status"
		timeout 5 "$IT_CTL" -s "$D_CTL" status 2>&1 || true
		timeout 5 "$IT_CTL" -s "$D_CTL" --json status 2>&1 || true
	fi
	for f in "$WORK"/lfbvncd-*.log; do
		[ -f "$f" ] || continue
		echo "---- tail of $f"
		tail -n 40 "$f"
	done
	for f in "$WORK"/demo-*.log; do
		[ -f "$f" ] || continue
		echo "---- tail of $f"
		tail -n 15 "$f"
	done
	echo "----"
}

# Sanitizer reports in any log of this test.
sanitizer_reports() {
	grep -l -E 'ERROR: (AddressSanitizer|LeakSanitizer)|Sanitizer has encountered a fatal error|runtime error:' \
	    "$WORK"/*.log "$WORK"/*.err 2>/dev/null || true
}

# ours PID: PID is a child of this shell.  A process we started may have
# ended and been reaped long ago, and its pid reused by another process
# (pids wrap at 32768, and the load tests start thousands): a signal
# sent to it would hit another test's process (a worker of
# test-load-guests got a SIGTERM from outside while tests ran beside it).
ours() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }		# past the command name, which may hold ") "
	set -- $st
	[ "${2:-}" = "$$" ]
}

# Stop one process we started: TERM, up to 5 s, then KILL.
stop_pid() {
	local pid=$1 i
	if ! kill -0 "$pid" 2>/dev/null || ! ours "$pid"; then
		wait "$pid" 2>/dev/null || true
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq $((50 * IT_TSCALE))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null && ours "$pid"; then
		echo "$IT_NAME: pid $pid ignored SIGTERM for $(it_limit 5) s: killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

it_cleanup() {
	local rc=$? i bad
	set +e
	trap - EXIT INT TERM HUP
	# The newest first: probes, then daemons, then demos.
	for ((i = ${#IT_PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${IT_PIDS[$i]}"
	done
	[ -z "$IT_VALGRIND" ] || valgrind_check "$rc" || rc=1
	bad=$(sanitizer_reports)
	if [ -n "$bad" ]; then
		echo "FAIL: sanitizer report in: $bad"
		for f in $bad; do
			grep -n -A 30 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|Sanitizer has encountered a fatal error|runtime error:' \
			    "$f" | head -n 60
		done
		rc=1
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ "$IT_FAILED" -eq 0 ]; then
		IT_FAILED=1
		diagnostics
	fi
	if [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] || [ -z "${IT_KEEP:-}" ]; then
		rm -rf "$WORK"
	else
		echo "$IT_NAME: keeping $WORK (IT_KEEP is set)"
	fi
	exit "$rc"
}

# it_init NAME SECONDS ARGS...: the work directory, the traps, the time
# limit (the script re-runs itself, with ARGS, under timeout(1); on expiry
# the TERM trap cleans up).
it_init() {
	IT_NAME=$1
	local limit=$2
	shift 2
	command -v timeout >/dev/null 2>&1 || skip "timeout(1) is missing"
	limit=$(it_limit "$limit")
	if [ -z "${IT_UNDER_TIMEOUT:-}" ]; then
		export IT_UNDER_TIMEOUT=1
		exec timeout -k 10 "$limit" bash "$0" "$@"
	fi
	local p
	for p in "$IT_DEMO" "$IT_LFBVNCD" "$IT_CTL" "$IT_PROBE"; do
		[ -x "$p" ] || { echo "FAIL: $p is not built"; exit 1; }
	done
	if [ -n "$IT_VALGRIND" ] && sanitized; then
		skip "valgrind mode needs a build without sanitizers"
	fi
	if [ -n "$IT_VALGRIND" ] && ! command -v valgrind >/dev/null 2>&1; then
		skip "valgrind is not installed (LFBVNC_TEST_VALGRIND is set)"
	fi
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/lfbvnc-it-$IT_NAME.XXXXXX")
	trap it_cleanup EXIT
	IT_LIMIT=$limit
	trap 'echo "FAIL: $IT_NAME: signal (the time limit is ${IT_LIMIT}s)"; exit 1' \
	    INT TERM HUP
	# ASan: report leaks too, and keep going to write the whole report.
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
	log "work directory $WORK"
	[ -z "$IT_VALGRIND" ] || valgrind_init
}

# it_limit SECONDS: a time limit or wait of SECONDS, scaled for valgrind.
it_limit() {
	echo $(($1 * IT_TSCALE))
}

# password_files: $pw holds the guest's VNC password, $wrong another
# one; both mode 600, as lfbvncd requires of a password file.
password_files() {
	pw=$WORK/vnc.pw
	wrong=$WORK/wrong.pw
	printf 's3cret-pw\n' >"$pw"
	printf 'not-the-pw\n' >"$wrong"
	chmod 600 "$pw" "$wrong"
}

# sanitized: the daemon is a sanitizer build (load sizes scale down).
sanitized() {
	grep -q -a -E '__asan_init|__ubsan_handle' "$IT_LFBVNCD"
}

# ------------------------------------------------------------- valgrind

# valgrind_init: lfbvncd (and with "all" the demo) under memcheck.
valgrind_init() {
	local vg
	vg=(valgrind --tool=memcheck --trace-children=yes
	    --child-silent-after-fork=yes --fair-sched=try
	    --leak-check=full --show-leak-kinds=definite
	    --errors-for-leak-kinds=definite --error-exitcode=86
	    --num-callers=30 --log-file="$WORK/vg-%p.log"
	    --suppressions="$top_srcdir/tests/integration/valgrind.supp")
	IT_RUN_LFBVNCD=("${vg[@]}" "$IT_LFBVNCD" --debug-no-seccomp)
	[ "$IT_VALGRIND" = all ] && IT_RUN_DEMO=("${vg[@]}" "$IT_DEMO")
	log "valgrind mode: lfbvncd${IT_RUN_DEMO[1]:+ and lfbvnc-demo}" \
	    "under memcheck, time limits x$IT_TSCALE"
}

# valgrind_skip REASON: skip a test whose point valgrind defeats.
valgrind_skip() {
	[ -z "$IT_VALGRIND" ] || skip "under valgrind: $*"
}

# valgrind_check RC: every valgrind log of this test is complete and says
# "ERROR SUMMARY: 0 errors", and a test that passed (RC 0) has at least
# one; prints each offending report.  Called once every process we
# started is gone (it_cleanup).
valgrind_check() {
	local rc=$1 f cmd n=0 bad=0 errs
	for f in "$WORK"/vg-*.log; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		cmd=$(sed -n 's/^==[0-9]*== Command: //p' "$f" | sed -n 1p)
		errs=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9]*\) error.*/\1/p' \
		    "$f" | tail -n 1)
		if [ -z "$errs" ]; then
			if [ -n "$IT_VG_KILLED_OK" ] &&
			    [[ ${cmd%% *} =~ $IT_VG_KILLED_OK ]]; then
				continue
			fi
			echo "FAIL: valgrind: $f has no summary (killed?" \
			    "its leaks went unchecked): $cmd"
			tail -n 20 "$f"
			bad=1
		elif [ "$errs" -ne 0 ]; then
			echo "FAIL: valgrind: $errs error(s) in $f: $cmd"
			sed -n '/^==[0-9]*== Memcheck,/,$p' "$f" | head -n 400
			bad=1
		fi
	done
	[ "$n" -eq 0 ] ||
	    log "memcheck: $n log(s) checked, $( ((bad)) && echo errors || echo clean)"
	if [ "$n" -eq 0 ] && [ "$rc" -eq 0 ]; then
		echo "FAIL: valgrind: no log in $WORK"
		return 1
	fi
	return $((bad))
}

# bg NAME COMMAND...: start COMMAND in the background, its output in
# $WORK/NAME.log; sets BG_PID.
bg() {
	local name=$1
	shift
	"$@" >"$WORK/$name.log" 2>&1 &
	BG_PID=$!
	IT_PIDS+=("$BG_PID")
}

# wait_until SECONDS WHAT COMMAND...: poll COMMAND every 0.1 s until it
# succeeds; fail after SECONDS.
wait_until() {
	local limit=$(($1 * IT_TSCALE)) what=$2 end
	shift 2
	end=$(($(date +%s%N) / 1000000 + limit * 1000))
	until "$@"; do
		if [ "$(($(date +%s%N) / 1000000))" -ge "$end" ]; then
			fail "timed out after ${limit}s waiting for: $what"
		fi
		sleep 0.1
	done
}

# count_re FILE REGEX: lines of FILE matching REGEX (0 if none).
count_re() {
	local n
	n=$(grep -c -E -- "$2" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}

# log_has FILE REGEX [N]: at least N (1) lines of FILE match.
log_has() {
	[ "$(count_re "$1" "$2")" -ge "${3:-1}" ]
}

# alive PID
alive() { kill -0 "$1" 2>/dev/null; }

# ------------------------------------------------------------------ demo

# try_demo ARGS...: start lfbvnc-demo on $WORK/demo.sock (one demo at a
# time: a new one takes the place of the last, and the daemon reconnects);
# 0 when it serves, 1 when it exits first (its log says why).  Sets
# DEMO_PID DEMO_SOCK DEMO_LOG DW DH.
try_demo() {
	IT_NDEMO=$((IT_NDEMO + 1))
	DEMO_SOCK=$WORK/demo.sock
	DEMO_LOG=$WORK/demo-$IT_NDEMO.log
	bg "demo-$IT_NDEMO" "${IT_RUN_DEMO[@]}" --socket "$DEMO_SOCK" "$@"
	DEMO_PID=$BG_PID
	local i
	for i in $(seq $((100 * IT_TSCALE))); do
		if log_has "$DEMO_LOG" '^lfbvnc-demo: serving ' &&
		    [ -S "$DEMO_SOCK" ]; then
			wait_until 5 "the demo's first mode" \
			    log_has "$DEMO_LOG" ': mode [0-9]+x[0-9]+$'
			demo_mode
			return 0
		fi
		alive "$DEMO_PID" || return 1
		sleep 0.1
	done
	return 1
}

# start_demo ARGS...: like try_demo, failing the test if it does not serve.
start_demo() {
	try_demo "$@" || fail "lfbvnc-demo $* did not start: $(tail -n 5 "$DEMO_LOG")"
}

# stop_demo: stop the current demo (SIGTERM; it removes its socket).
stop_demo() {
	stop_pid "$DEMO_PID"
}

# tracker_works KIND: does lfbvnc-demo --tracker KIND start here?  The
# reason when not is in $WORK/tracker-KIND.log.
tracker_works() {
	local kind=$1 pid i rc=1 sock=$WORK/probe-$1.sock
	"${IT_RUN_DEMO[@]}" --socket "$sock" --tracker "$kind" --workload idle \
	    >"$WORK/tracker-$kind.log" 2>&1 &
	pid=$!
	IT_PIDS+=("$pid")
	for i in $(seq $((100 * IT_TSCALE))); do
		if log_has "$WORK/tracker-$kind.log" "^lfbvnc-demo: serving .*tracker $kind\$"; then
			rc=0
			break
		fi
		alive "$pid" || break
		sleep 0.1
	done
	stop_pid "$pid"
	return $rc
}

# demo_mode: DW, DH from the demo's last "mode WxH" line (logged once the
# mode is drawn and published to the consumer).
demo_mode() {
	local m
	m=$(grep -E ': mode [0-9]+x[0-9]+$' "$DEMO_LOG" | tail -n 1 |
	    sed -E 's/.*: mode ([0-9]+)x([0-9]+)$/\1 \2/')
	DW=${m% *}
	DH=${m#* }
}

# demo_fb: the path of the demo's framebuffer memfd, /proc/PID/fd/N.
demo_fb() {
	local f
	for f in /proc/"$DEMO_PID"/fd/*; do
		case $(readlink "$f" 2>/dev/null) in
		/memfd:lfbvnc-demo-fb*)
			echo "$f"
			return 0
			;;
		esac
	done
	fail "no lfbvnc-demo-fb memfd among /proc/$DEMO_PID/fd"
}

# demo_toggle_freeze: SIGUSR2 (freeze, or thaw).
demo_toggle_freeze() {
	local n
	n=$(count_re "$DEMO_LOG" ': (paused|resumed)$')
	kill -USR2 "$DEMO_PID"
	wait_until 5 "the demo to log paused/resumed" \
	    log_has "$DEMO_LOG" ': (paused|resumed)$' $((n + 1))
}

# demo_next_mode: SIGUSR1, and wait until the new mode is drawn and
# published (the demo must not be frozen: it changes mode between frames).
demo_next_mode() {
	local n
	n=$(count_re "$DEMO_LOG" ': mode [0-9]+x[0-9]+$')
	kill -USR1 "$DEMO_PID"
	wait_until 10 "the demo's next mode" \
	    log_has "$DEMO_LOG" ': mode [0-9]+x[0-9]+$' $((n + 1))
	demo_mode
}

# fb_snapshot FILE: the frozen demo's visible framebuffer (DW x DH, stride
# DW * 4, offset 0: providers/demo/main.c) as raw XRGB8888.  The freeze
# takes effect at the next frame boundary, so read until two reads 50 ms
# apart agree (bounded); the result is then the frame the demo stopped on.
fb_snapshot() {
	local out=$1 fb size i
	fb=$(demo_fb)
	size=$((DW * DH * 4))
	for i in $(seq 40); do
		head -c "$size" "$fb" >"$out.a"
		sleep 0.05
		head -c "$size" "$fb" >"$out"
		if cmp -s "$out.a" "$out"; then
			rm -f "$out.a"
			[ "$(stat -c %s "$out")" -eq "$size" ] ||
			    fail "short framebuffer read from $fb"
			return 0
		fi
	done
	fail "the demo's framebuffer keeps changing although it is frozen"
}

# fb_changed FILE: the demo's visible framebuffer differs from FILE.
fb_changed() {
	! head -c $((DW * DH * 4)) "$(demo_fb)" | cmp -s - "$1"
}

# fb_pixel FILE W X Y: RRGGBB of pixel X,Y of a raw XRGB8888 file.
fb_pixel() {
	local b
	b=$(od -An -tx1 -v -j $(((($4 * $2) + $3) * 4)) -N 4 "$1" | tr -d ' \n')
	echo "${b:4:2}${b:2:2}${b:0:2}"
}

# ---------------------------------------------------------------- daemon

# start_daemon [lfbvncd options...]: serve the current demo's socket as
# guest "g" on a kernel-chosen port (add -o port=N to override), log with
# -v into $WORK/lfbvncd-N.log.  Sets D_PID D_CTL D_LOG.  Does not wait for
# the guest: see wait_attached.
start_daemon() {
	IT_NDAEMON=$((IT_NDAEMON + 1))
	D_CTL=$WORK/ctl-$IT_NDAEMON.sock
	D_LOG=$WORK/lfbvncd-$IT_NDAEMON.log
	bg "lfbvncd-$IT_NDAEMON" "${IT_RUN_LFBVNCD[@]}" -v -c "$D_CTL" \
	    -g "g=$DEMO_SOCK" -o port=0 "$@"
	D_PID=$BG_PID
	wait_until 10 "lfbvncd's control socket" daemon_ctl_up
}

daemon_ctl_up() {
	alive "$D_PID" || fail "lfbvncd exited: $(tail -n 5 "$D_LOG")"
	[ -S "$D_CTL" ]
}

stop_daemon() {
	stop_pid "$D_PID"
}

# wait_attached [N]: the daemon's log says the guest attached N times (1),
# and the status shows the VNC port; sets PORT.
wait_attached() {
	wait_until 15 "the guest to attach" \
	    log_has "$D_LOG" ': g: attached to ' "${1:-1}"
	wait_until 5 "the VNC port in the status" status_has_port
}

status_has_port() {
	PORT=$(st vnc_port)
	[ -n "$PORT" ] && [ "$PORT" -gt 0 ]
}

# status: lfbvncctl --json status (one line).
status() {
	timeout "$(it_limit 10)" "$IT_CTL" -s "$D_CTL" --json status \
	    2>>"$WORK/lfbvncctl.err" ||
	    true
}

# gfield JSON KEY: the value of KEY in the first guest of a status line
# (strings without their quotes).  The guest objects hold no nested ones.
gfield() {
	printf '%s\n' "$1" | sed -e 's/^.*"guests":\[{//' |
	    grep -o -E "\"$2\":(\"[^\"]*\"|[^,}]*)" | sed -n 1p |
	    sed -E 's/^"[^"]*"://; s/^"//; s/"$//' || true
}

# st KEY: one field of a fresh status.
st() {
	gfield "$(status)" "$1"
}

# state_is STATE...: the guest's state is one of these.
state_is() {
	local s x
	s=$(st state)
	for x in "$@"; do
		[ "$s" = "$x" ] && return 0
	done
	return 1
}

# next_publish JSON: wait for a status read later than the one in JSON
# (the master reads uptime live; the worker publishes its counters at
# every event it handles, and once more a second after its last scan, for
# the octets and updates its clients' threads sent since); sets S.
next_publish() {
	local up0 up
	up0=$(gfield "$1" uptime_ms)
	for _ in $(seq $((50 * IT_TSCALE))); do
		S=$(status)
		up=$(gfield "$S" uptime_ms)
		[ -n "$up" ] && [ -n "$up0" ] && [ "$up" -gt "$up0" ] && return 0
		sleep 0.1
	done
	fail "the worker published no status for $(it_limit 5) s"
}

# wait_uptime JSON MS: wait for a status published at least MS after the
# one in JSON; sets S.
wait_uptime() {
	local up0
	up0=$(gfield "$1" uptime_ms)
	S=$1
	while [ "$(gfield "$S" uptime_ms)" -lt $((up0 + $2)) ]; do
		next_publish "$S"
	done
}

# wait_quiet: no update was sent to any client over 1.5 s, long enough to
# include the worker's last publication after its last scan: what was
# sent has arrived.
wait_quiet() {
	local a i
	S=$(status)
	for i in $(seq 15); do
		a=$(gfield "$S" updates_sent)
		wait_uptime "$S" 1500
		[ "$a" = "$(gfield "$S" updates_sent)" ] && return 0
	done
	fail "updates kept being sent although the screen is frozen"
}

# worker_vcsw: the voluntary context switches of all the first worker's
# threads, as the kernel counts them: every sleep that ended, whatever woke
# it (a timer the worker forgot to count in its own "wakeups" too).
worker_vcsw() {
	local pid
	pid=$(st pid)
	[ -n "$pid" ] && [ "$pid" -gt 0 ] || fail "no worker pid in the status"
	cat /proc/"$pid"/task/*/status 2>/dev/null |
	    awk '/^voluntary_ctxt_switches/ { s += $2 } END { print s + 0 }'
}

# gt A B: A > B, both numbers (false when either is missing).
gt() {
	[ -n "$1" ] && [ -n "$2" ] && [ "$1" -gt "$2" ]
}

# trapped_now: a fresh status (in S) says trapped, with a trap armed.
trapped_now() {
	S=$(status)
	[ "$(gfield "$S" state)" = trapped ] &&
	    gt "$(gfield "$S" traps_armed)" 0
}

# woken JSON: a fresh status (in S) shows more traps fired and more scans
# than JSON.
woken() {
	S=$(status)
	gt "$(gfield "$S" traps_fired)" "$(gfield "$1" traps_fired)" &&
	    gt "$(gfield "$S" scans)" "$(gfield "$1" scans)"
}

# gone_and_scanned: a fresh status (in S) shows no client, and scans and
# dirty requests made while there was one.
gone_and_scanned() {
	S=$(status)
	[ "$(gfield "$S" clients)" = 0 ] && gt "$(gfield "$S" scans)" 0 &&
	    { [ "$(gfield "$S" tracker)" = compare ] ||
	    gt "$(gfield "$S" dirty_requests)" 0; }
}

# daemon_size W H: a fresh status shows the guest at W x H.
daemon_size() {
	S=$(status)
	[ "$(gfield "$S" width)" = "$1" ] && [ "$(gfield "$S" height)" = "$2" ]
}

# client_count N: a fresh status says N clients are connected.
client_count() {
	[ "$(st clients)" = "$1" ]
}

# worker_pid: the guest's worker process.
worker_pid() {
	st pid
}

# ---------------------------------------------------------------- probe

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port: a port nothing listens on, below the ephemeral range (where
# the kernel picks port=0 listeners of parallel tests).
free_port() {
	local p i
	for i in $(seq 100); do
		p=$((20000 + RANDOM % 12000))
		port_open "$p" || { echo "$p"; return 0; }
	done
	fail "no free port found"
}

target() { echo "127.0.0.1::$PORT"; }

# probe_args ARGS...: ARGS with the number after --timeout scaled for
# valgrind, into PROBE_ARGS.
probe_args() {
	PROBE_ARGS=()
	while [ $# -gt 0 ]; do
		if [ "$1" = --timeout ] && [ $# -ge 2 ] &&
		    [[ $2 =~ ^[0-9]+$ ]]; then
			PROBE_ARGS+=(--timeout "$(it_limit "$2")")
			shift 2
			continue
		fi
		PROBE_ARGS+=("$1")
		shift
	done
}

# probe NAME WANT ARGS...: run lfbvnc-probe in the foreground (bounded by
# its --timeout and by timeout(1)); its stdout in $WORK/NAME.out, stderr
# in $WORK/NAME.err; fail unless it exits WANT.
probe() {
	local name=$1 want=$2 rc=0
	shift 2
	probe_args "$@"
	timeout "$(it_limit 60)" "$IT_PROBE" "${PROBE_ARGS[@]}" \
	    >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "lfbvnc-probe $*: exit $rc, want $want"
		echo "stdout:"
		cat "$WORK/$name.out"
		echo "stderr:"
		cat "$WORK/$name.err"
		fail "probe $name"
	fi
}

# probe_bg NAME ARGS...: lfbvnc-probe in the background; sets P_PID.
probe_bg() {
	local name=$1
	shift
	probe_args "$@"
	"$IT_PROBE" "${PROBE_ARGS[@]}" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	P_PID=$!
	IT_PIDS+=("$P_PID")
}

# watcher NAME [ARGS...]: a long-lived probe (the "client connected all
# along"), stopped with probe_stop; its framebuffer at the end is in
# $WORK/NAME.png.  Returns once it has its first full frame; sets W_PID.
watcher() {
	local name=$1
	shift
	probe_bg "$name" -v --timeout 10 --duration 600 \
	    --screenshot "$WORK/$name.png" "$@" "$(target)"
	W_PID=$P_PID
	wait_until 15 "probe $name's first full update" watcher_ready "$name"
}

watcher_ready() {
	alive "$W_PID" || { cat "$WORK/$1.out" "$WORK/$1.err"; fail "probe $1 exited"; }
	log_has "$WORK/$1.err" 'first full update after'
}

# probe_wait PID NAME WANT: wait for a background probe; fail unless WANT.
probe_wait() {
	local rc=0
	wait "$1" || rc=$?
	if [ "$rc" -ne "$3" ]; then
		echo "background lfbvnc-probe $2: exit $rc, want $3"
		cat "$WORK/$2.out" "$WORK/$2.err"
		fail "probe $2"
	fi
}

# probe_stop PID NAME: SIGINT a background probe (it writes its
# screenshot and JSON and exits 0 if its checks hold).
probe_stop() {
	kill -INT "$1" 2>/dev/null || true
	probe_wait "$1" "$2" 0
}

# pfield FILE KEY: a top-level number or string of the probe's --json.
pfield() {
	grep -o -E "\"$2\":(\"[^\"]*\"|[^,}]*)" "$1" | sed -n 1p |
	    sed -E 's/^"[^"]*"://; s/^"//; s/"$//' || true
}

# same_image A B: fbtool cmp (PNG/PPM or FILE@WxH raw), fail if they differ.
same_image() {
	[ -x "$IT_FBTOOL" ] || fail "$IT_FBTOOL is not built (make check builds it)"
	"$IT_FBTOOL" cmp "$1" "$2" >"$WORK/fbtool.err" 2>&1 ||
	    fail "$1 differs from $2: $(cat "$WORK/fbtool.err")"
}

# converge_check WHAT [LONG_PID LONG_NAME]: the demo is frozen; the frame
# it stopped on must reach (1) a new client within the 5 s bound (compare,
# waited for by the probe) and (2) the long-lived client LONG_PID, which
# was connected all along and has its --screenshot written when stopped
# (once no update has been sent for a status period: wait_quiet).
CONVERGE_BOUND=5
converge_check() {
	local what=$1 n
	n=$((IT_NDEMO * 1000 + RANDOM))
	SNAP=$WORK/snap-$n.raw
	fb_snapshot "$SNAP"
	probe "fresh-$n" 0 --timeout "$CONVERGE_BOUND" \
	    --compare "$SNAP@${DW}x${DH}" "$(target)"
	if [ $# -ge 3 ]; then
		wait_quiet
		probe_stop "$2" "$3"
		same_image "$WORK/$3.png" "$SNAP@${DW}x${DH}"
	fi
	# The demo really stayed frozen (else the references are moot).
	head -c $((DW * DH * 4)) "$(demo_fb)" | cmp -s - "$SNAP" ||
	    fail "$what: the demo drew while frozen"
	rm -f "$SNAP"
}
