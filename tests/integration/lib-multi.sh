# lib-multi.sh - several providers and guests in one daemon, for the
# fault and load tests; sourced after lib.sh.
#
# lib.sh's helpers work on one current demo (DEMO_PID DEMO_SOCK DEMO_LOG
# DW DH) and one current guest's port (PORT); its status helpers read the
# first guest of the status.  Here every demo has a name, which is also
# its guest's name, and use_guest NAME makes it the current one, so that
# fb_snapshot, demo_toggle_freeze, converge_check WHAT (without a
# watcher: wait_quiet reads the first guest) and target work on it.
#
#	multi_demo NAME ARGS...		lfbvnc-demo on $WORK/NAME.sock
#	multi_daemon NAME... [-- OPTS]	one lfbvncd serving those guests
#	ggf JSON NAME KEY		a field of guest NAME in a status
#	guest_port NAME			its VNC port, once the status has one
#	use_guest NAME			make NAME the current demo and guest
#	guest_attached NAME [N]		the log says NAME attached N times
#	guest_quiet NAME		NAME sent no update for 1.6 s
#	guest_converge NAME [WATCHER_PID WATCHER_NAME]
#					freeze, pixel-exact check, thaw
#	worker_rss_kb PID		VmRSS of a process in kB

declare -A M_PID=() M_SOCK=() M_LOG=() M_N=()

# multi_demo NAME ARGS...: lfbvnc-demo on $WORK/NAME.sock (a new one takes
# the place of the last of that name), its log in $WORK/demo-NAME-N.log
# (lib.sh's diagnostics show demo-*.log).
multi_demo() {
	local name=$1
	shift
	M_N[$name]=$((${M_N[$name]:-0} + 1))
	M_SOCK[$name]=$WORK/$name.sock
	M_LOG[$name]=$WORK/demo-$name-${M_N[$name]}.log
	bg "demo-$name-${M_N[$name]}" "${IT_RUN_DEMO[@]}" \
	    --socket "${M_SOCK[$name]}" "$@"
	M_PID[$name]=$BG_PID
	wait_until 10 "demo $name to serve" multi_demo_up "$name"
}

multi_demo_up() {
	alive "${M_PID[$1]}" ||
	    fail "demo $1 exited: $(tail -n 5 "${M_LOG[$1]}")"
	[ -S "${M_SOCK[$1]}" ] &&
	    log_has "${M_LOG[$1]}" ': mode [0-9]+x[0-9]+$'
}

# multi_daemon NAME... [-- OPTS...]: lfbvncd -v serving guest NAME at
# ${M_SOCK[NAME]} for each NAME, kernel-chosen ports (OPTS may override);
# sets D_PID D_CTL D_LOG like start_daemon.
multi_daemon() {
	local args=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args+=(-g "$1=${M_SOCK[$1]}")
		shift
	done
	[ $# -gt 0 ] && shift
	IT_NDAEMON=$((IT_NDAEMON + 1))
	D_CTL=$WORK/ctl-$IT_NDAEMON.sock
	D_LOG=$WORK/lfbvncd-$IT_NDAEMON.log
	bg "lfbvncd-$IT_NDAEMON" "${IT_RUN_LFBVNCD[@]}" -v -c "$D_CTL" \
	    "${args[@]}" -o port=0 "$@"
	D_PID=$BG_PID
	wait_until 10 "lfbvncd's control socket" daemon_ctl_up
}

# ggf JSON NAME KEY: the value of KEY in guest NAME of a status line
# (strings without their quotes; guest objects hold no nested ones).
ggf() {
	printf '%s\n' "$1" | sed -e 's/^.*"guests":\[{//' -e 's/},{/}\n{/g' |
	    grep -F "\"name\":\"$2\"" |
	    grep -o -E "\"$3\":(\"[^\"]*\"|[^,}]*)" | sed -n 1p |
	    sed -E 's/^"[^"]*"://; s/^"//; s/"$//' || true
}

# guest_port NAME: its VNC port, once the status shows one.
guest_port() {
	local p
	p=$(ggf "$(status)" "$1" vnc_port)
	[ -n "$p" ] && [ "$p" -gt 0 ] && echo "$p"
}

# use_guest NAME: the demo NAME and its guest become the current ones.
use_guest() {
	DEMO_PID=${M_PID[$1]}
	DEMO_SOCK=${M_SOCK[$1]}
	DEMO_LOG=${M_LOG[$1]}
	demo_mode
	PORT=$(guest_port "$1") || fail "no VNC port for guest $1"
}

# guest_attached NAME [N]: the daemon's log says NAME attached N (1) times.
guest_attached() {
	log_has "$D_LOG" ": $1: attached to " "${2:-1}"
}

# guest_quiet NAME: guest NAME sent no update over 1.6 s (the worker
# publishes its clients' counters a second after its last scan), bounded.
guest_quiet() {
	local a b i
	for i in $(seq 15); do
		a=$(ggf "$(status)" "$1" updates_sent)
		sleep 1.6
		b=$(ggf "$(status)" "$1" updates_sent)
		[ -n "$a" ] && [ "$a" = "$b" ] && return 0
	done
	fail "guest $1 kept sending updates although its demo is frozen"
}

# guest_converge NAME [WATCHER_PID WATCHER_NAME]: freeze demo NAME, a new
# probe must match its frame pixel for pixel within CONVERGE_BOUND, and
# so must the watcher's screenshot once the guest is quiet; thaw.
guest_converge() {
	use_guest "$1"
	demo_toggle_freeze
	converge_check "$1"
	if [ $# -ge 3 ]; then
		fb_snapshot "$WORK/last-$1.raw"
		guest_quiet "$1"
		probe_stop "$2" "$3"
		same_image "$WORK/$3.png" "$WORK/last-$1.raw@${DW}x${DH}"
	fi
	demo_toggle_freeze
}

# worker_rss_kb PID: VmRSS in kB (empty when the process is gone).
worker_rss_kb() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" \
	    2>/dev/null || true
}
