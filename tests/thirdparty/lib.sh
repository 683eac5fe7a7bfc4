# lib.sh - sourced by the tests/thirdparty tests.  Starts lfbvnc-demo and
# lfbvncd serving it, finds the demo's framebuffer memfd for the
# comparisons, and cleans up.  Every wait is bounded, and a watchdog stops
# the test after $LFBVNC_TEST_LIMIT seconds (default 58) whatever it is
# doing.
#
# Set LFBVNC_TEST_KEEP=1 to keep the work directory (pictures, logs).

: "${top_builddir:=.}"
: "${top_srcdir:=.}"
demo_bin=$top_builddir/providers/demo/lfbvnc-demo
daemon_bin=$top_builddir/daemon/lfbvncd
ctl_bin=$top_builddir/clients/lfbvncctl
imgdiff=$top_builddir/tests/thirdparty/imgdiff

skip() { echo "SKIP: $*"; exit 77; }
fail() {
	echo "FAIL: $*"
	diagnostics
	exit 1
}

command -v timeout >/dev/null 2>&1 || skip "timeout(1) is missing"
for b in "$demo_bin" "$daemon_bin" "$ctl_bin" "$imgdiff"; do
	[ -x "$b" ] || { echo "FAIL: $b is not built"; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/lfbvnc-3p.XXXXXX") || {
	echo "FAIL: mktemp"; exit 1; }
demo_pid=
daemon_pid=
fb=
strays=
watchdog_pid=
cleanup() {
	for pid in $daemon_pid $demo_pid $watchdog_pid; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# With $strays set, anything else still using the work directory (a
	# browser whose driver was killed), found by its command line.
	for p in ${strays:+/proc/[0-9]*}; do
		case $(tr '\0' ' ' 2>/dev/null <"$p/cmdline") in
		*"$work/"*) kill "${p#/proc/}" 2>/dev/null ;;
		esac
	done
	if [ -n "${LFBVNC_TEST_KEEP:-}" ]; then
		echo "kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT
trap 'echo "FAIL: terminated"; diagnostics; exit 1' TERM
# Output to a closed pipe (| head): clean up all the same.
trap 'trap "" PIPE; exit 1' PIPE

# The watchdog: TERM to this shell (whose trap cleans up) after $limit s.
# It kills its own sleep when it is killed, so nothing outlives the test.
limit=${LFBVNC_TEST_LIMIT:-58}
main_pid=$$
(
	s=
	trap 'kill $s 2>/dev/null; exit 0' TERM
	sleep "$limit" &
	s=$!
	wait $s && {
		echo "FAIL: still running after $limit s (watchdog)"
		kill -TERM "$main_pid"
	}
) &
watchdog_pid=$!

# What the logs say, for a failure.
diagnostics() {
	for f in "$work"/*.log; do
		[ -s "$f" ] || continue
		echo "--- $(basename "$f") (last 25 lines)"
		tail -25 "$f"
	done
	if [ -S "$work/ctl" ]; then
		echo "--- lfbvncctl status"
		timeout 5 "$ctl_bin" -s "$work/ctl" status 2>&1
	fi
}

# since_start: seconds since the test began (for the log); elapsed: the
# same, whole seconds.
t0=$(date +%s.%N)
t0s=$(date +%s)
elapsed() { echo $(($(date +%s) - t0s)); }
since_start() {
	awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds; 1 after
# SECONDS.
wait_for() {
	wf_n=$(($1 * 10))
	shift
	while [ "$wf_n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		wf_n=$((wf_n - 1))
	done
	return 1
}

# start_demo WORKLOAD WxH: lfbvnc-demo on $work/demo.sock; sets $demo_pid,
# $fb (its framebuffer memfd as a /proc path), $width and $height.
start_demo() {
	width=${2%x*}
	height=${2#*x}
	: >"$work/demo.log"
	"$demo_bin" --socket "$work/demo.sock" --workload "$1" --seed 7 \
	    --size "$2" --tracker auto >"$work/demo.log" 2>&1 &
	demo_pid=$!
	wait_for 10 grep -q "^lfbvnc-demo: mode $2" "$work/demo.log" ||
		fail "lfbvnc-demo did not start"
	fb=
	for f in /proc/"$demo_pid"/fd/*; do
		case $(readlink "$f") in
		/memfd:lfbvnc-demo-fb*) fb=$f; break ;;
		esac
	done
	[ -n "$fb" ] || fail "no lfbvnc-demo-fb memfd in /proc/$demo_pid/fd"
	echo "demo: pid $demo_pid, $(sed -n 's/^lfbvnc-demo: tracker //p' \
	    "$work/demo.log" | head -1), framebuffer $fb"
}

# freeze / thaw: SIGUSR2 toggles the demo's drawing.  After the log says
# so, a frame already being drawn may still finish: wait a little.
npaused=0
freeze() {
	kill -USR2 "$demo_pid"
	npaused=$((npaused + 1))
	wait_for 5 sh -c "[ \$(grep -c '^lfbvnc-demo: paused' \
	    '$work/demo.log') -ge $npaused ]" || fail "the demo did not pause"
	sleep 0.3
}
thaw() {
	kill -USR2 "$demo_pid"
	sleep 0.1
}

# snapshot NAME: copy the visible frame into $work/NAME.raw (a file the
# test keeps when it passes the frame to imgdiff after a change).
snapshot() {
	dd if="$fb" of="$work/$1.raw" bs=$((width * 4)) count="$height" \
	    status=none || fail "cannot read $fb"
}

# status_field NAME: a number from lfbvncctl --json status (one guest).
status_field() {
	timeout 5 "$ctl_bin" -s "$work/ctl" --json status 2>/dev/null |
	    sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

# start_daemon [web]: lfbvncd serving the demo as guest "demo", RFB on an
# ephemeral port ($vnc_port); with "web", noVNC on $web_port too (a port
# picked here: retried when it is taken).
start_daemon() {
	sd_web=${1:-}
	sd_try=0
	while [ $sd_try -lt 5 ]; do
		set -- -o port=0
		if [ "$sd_web" = web ]; then
			web_port=$((20000 + ($$ * 7 + sd_try * 331) % 20000))
			set -- "$@" -o web=yes -o web-port="$web_port"
		fi
		"$daemon_bin" -c "$work/ctl" -g demo="$work/demo.sock" "$@" \
		    >"$work/lfbvncd.log" 2>&1 &
		daemon_pid=$!
		sd_i=0
		while [ $sd_i -lt 100 ]; do
			vnc_port=$(status_field vnc_port)
			[ -n "$vnc_port" ] && [ "$vnc_port" -gt 0 ] &&
			    grep -q "attached to" "$work/lfbvncd.log" &&
			    break
			grep -q "cannot serve the web viewer" \
			    "$work/lfbvncd.log" && break
			kill -0 "$daemon_pid" 2>/dev/null || break
			sleep 0.1
			sd_i=$((sd_i + 1))
		done
		if [ -n "$vnc_port" ] && [ "$vnc_port" -gt 0 ]; then
			echo "lfbvncd: pid $daemon_pid, RFB port $vnc_port${sd_web:+, web port $web_port}"
			return 0
		fi
		grep -q "cannot serve the web viewer" "$work/lfbvncd.log" ||
			fail "lfbvncd did not start"
		kill "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
		daemon_pid=
		sd_try=$((sd_try + 1))
	done
	fail "lfbvncd: no free web port after $sd_try tries"
}

# compare IMAGE REF [imgdiff options]: imgdiff, with a diff picture kept
# in $work on failure.  Returns imgdiff's status.
compare() {
	cm_a=$1 cm_b=$2
	shift 2
	"$imgdiff" -d "$work/diff.png" "$@" "$cm_a" "$cm_b"
}
