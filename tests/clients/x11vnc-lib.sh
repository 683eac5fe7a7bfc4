# x11vnc-lib.sh - sourced by the probe-*.sh tests.  It runs x11vnc (a real
# VNC server from Debian) serving a raw XRGB8888 file the test writes with
# fbtool ("x11vnc -rawfb map:FILE@WxHx32"), and gives helpers to run the
# probe and check its exit status.  Every wait is bounded.

: "${top_builddir:=.}"
probe=$top_builddir/clients/lfbvnc-probe
fbtool=$top_builddir/tests/clients/fbtool

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

command -v x11vnc >/dev/null 2>&1 ||
	skip "x11vnc is not installed (apt-get install x11vnc)"
command -v timeout >/dev/null 2>&1 || skip "timeout(1) is missing"
[ -x "$probe" ] || fail "$probe is not built"
[ -x "$fbtool" ] || fail "$fbtool is not built"

work=$(mktemp -d "${TMPDIR:-/tmp}/lfbvnc-probe-test.XXXXXX") ||
	fail "mktemp"
x11vnc_pid=
bg_pid=
# stop_bounded PID: SIGTERM, then SIGKILL if it is still there after 3 s.
# x11vnc was seen to hang for good in its SIGTERM handler (asleep on a
# futex), and an unbounded wait then held "make check" until its timeout.
stop_bounded() {
	kill "$1" 2>/dev/null || return 0
	sb_i=0
	while [ $sb_i -lt 30 ] && kill -0 "$1" 2>/dev/null; do
		sleep 0.1
		sb_i=$((sb_i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
cleanup() {
	for pid in $bg_pid $x11vnc_pid; do
		stop_bounded "$pid"
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# start_x11vnc FILE W H [x11vnc options...]: serve FILE, set $port.
start_x11vnc() {
	sx_file=$1 sx_w=$2 sx_h=$3
	shift 3
	sx_try=0
	while [ $sx_try -lt 5 ]; do
		# Spread parallel tests over ports; -autoport probes upwards.
		sx_base=$((6000 + ($$ * 7 + sx_try * 331) % 3000))
		# Created here: the child opens it only once it runs.
		: >"$work/x11vnc.out"
		x11vnc -rawfb "map:$sx_file@${sx_w}x${sx_h}x32" -localhost \
		    -autoport "$sx_base" -forever -shared -nopw -norc \
		    -wait 5 -defer 5 "$@" \
		    >"$work/x11vnc.out" 2>"$work/x11vnc.err" &
		x11vnc_pid=$!
		sx_i=0
		while [ $sx_i -lt 100 ]; do
			port=$(sed -n 's/^PORT=//p' "$work/x11vnc.out")
			[ -n "$port" ] && return 0
			kill -0 "$x11vnc_pid" 2>/dev/null || break
			sleep 0.1
			sx_i=$((sx_i + 1))
		done
		stop_bounded "$x11vnc_pid"
		x11vnc_pid=
		sx_try=$((sx_try + 1))
	done
	tail -20 "$work/x11vnc.err"
	fail "x11vnc did not start"
}

# run_probe WANT ARGS...: run the probe (bounded by timeout(1) as well as
# its own --timeout), output in $work/out, fail unless it exits WANT.
run_probe() {
	rp_want=$1
	shift
	timeout 60 "$probe" "$@" >"$work/out" 2>"$work/err"
	rp_rc=$?
	if [ "$rp_rc" -ne "$rp_want" ]; then
		echo "lfbvnc-probe $*"
		echo "exited $rp_rc, want $rp_want; stdout:"
		cat "$work/out"
		echo "stderr:"
		cat "$work/err"
		fail "lfbvnc-probe $*"
	fi
	echo "ok: lfbvnc-probe $* -> $rp_rc"
}

# json_field NAME: the value of "NAME": in $work/out (the last one if the
# name repeats; the tests ask only for unique names).
json_field() {
	sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "$work/out"
}

# json_object NAME: the text inside "NAME":{...} (no nested objects).
json_object() {
	sed -n "s/.*\"$1\":{\([^}]*\)}.*/\1/p" "$work/out" | head -1
}
