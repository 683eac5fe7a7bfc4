#!/bin/bash
# test-soak.sh - a random run of everything at once: zero mismatches.
#
# One demo (the mix workload, the best tracker available), one daemon
# with its default policy, for SOAK_SECONDS (30; longer by hand:
# SOAK_SECONDS=600 make check TESTS=tests/integration/test-soak.sh).
# A random sequence (SOAK_SEED, printed, replays it) of:
#   - mode changes (SIGUSR1), waiting until the daemon has followed;
#   - freezes (SIGUSR2) with a pixel-exact check: a new probe must match
#     the frozen framebuffer within 5 s (converge_check);
#   - trap/wake cycles: frozen long enough that the worker arms its trap
#     (state "trapped"), checked, thawed: the trap must fire (traps_fired
#     and scans grow, the state leaves "trapped");
#   - clients coming and going: short probes in the background, and the
#     long-lived watcher replaced now and then (checked pixel-exact when
#     it leaves), so the client count also drops to 0 and back;
#   - drawing for a while.
# Every freeze is a check; any differing pixel, any check timing out, a
# probe failing or a sanitizer report fails the test.
#
# How it fails: any of the properties of test-converge, test-resize and
# test-trap breaking under a mix of events, e.g. the mode-change deadlock
# of vnc_set_framebuffer (found by this suite: the worker hung at the
# first SIGUSR1 with a client connected; the wait for the daemon's new
# size timed out), or a daemon whose wake-up is lost when a client leaves
# while trapped.  Checked against that deadlocking build (fails at the
# first mode change) and one whose scan_pages() skips the last page of
# every dirty run (fails at a freeze check with differing pixels).
. "$(dirname "$0")/lib.sh"
: "${SOAK_SECONDS:=30}"
: "${SOAK_SEED:=$RANDOM}"
it_init soak $((SOAK_SECONDS + 28)) "$@"
RANDOM=$SOAK_SEED
log "SOAK_SECONDS=$SOAK_SECONDS SOAK_SEED=$SOAK_SEED"

start_demo --workload mix --seed "$SOAK_SEED"
start_daemon
wait_attached
tracker=$(st tracker)
log "tracker $tracker"

frozen=0
nwatch=0
watching=0
nextra=0
extras=()	# short probes not yet waited for: "PID NAME"
checks=0 modes=0 traps=0 clients=0 watchers=0

new_watcher() {
	nwatch=$((nwatch + 1))
	watcher "watch-$nwatch"
	watching=1
	watchers=$((watchers + 1))
}
# reap_extras: wait for the short probes that have ended (all of them,
# ended or not, with REAP_ALL=1).  Waiting as they end, not at the end of
# the run: bash forgets the status of a child long gone once enough others
# have come and gone (a 10-minute run starts about a thousand), and a late
# "wait PID" then fails with 127 for a probe that had passed.
reap_extras() {
	local e pid name rest=()
	for e in "${extras[@]}"; do
		pid=${e%% *} name=${e#* }
		if [ "${REAP_ALL:-0}" != 1 ] && ! ended "$pid"; then
			rest+=("$e")
			continue
		fi
		probe_wait "$pid" "$name" 0
	done
	extras=("${rest[@]}")
}
# ended PID: the process has exited (gone, or a zombie not yet reaped).
ended() {
	local st
	st=$(cut -d ' ' -f 3 /proc/"$1"/stat 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ]
}
freeze() { [ $frozen -eq 1 ] || { demo_toggle_freeze; frozen=1; }; }
thaw() { [ $frozen -eq 0 ] || { demo_toggle_freeze; frozen=0; }; }
# check [watcher]: a pixel-exact check of the frozen frame; with
# "watcher", the watcher is checked too and leaves.
check() {
	freeze
	if [ "${1:-}" = watcher ] && [ $watching -eq 1 ]; then
		converge_check "soak check $checks" "$W_PID" "watch-$nwatch"
		watching=0
	else
		converge_check "soak check $checks"
	fi
	checks=$((checks + 1))
}

new_watcher
end=$((SECONDS + SOAK_SECONDS))
while [ $SECONDS -lt $end ]; do
	reap_extras
	r=$((RANDOM % 10))
	case $r in
	0 | 1)
		thaw
		demo_next_mode
		wait_until 10 "the daemon to switch to ${DW}x$DH" daemon_size "$DW" "$DH"
		modes=$((modes + 1))
		log "mode ${DW}x$DH"
		;;
	2 | 3 | 4)
		check
		thaw
		;;
	5)
		[ "$tracker" != compare ] || continue
		[ $watching -eq 1 ] || new_watcher
		freeze
		wait_until 15 "the trap to be armed while frozen" trapped_now
		S0=$S
		check
		thaw
		wait_until 10 "the trap to fire after the thaw" woken "$S0"
		wait_until 10 "the worker to leave trapped" \
		    eval '! state_is trapped'
		traps=$((traps + 1))
		log "trap/wake cycle $traps (traps_fired $(gfield "$S" traps_fired))"
		;;
	6 | 7)
		nextra=$((nextra + 1))
		probe_bg "extra-$nextra" --timeout 10 \
		    --duration "$((RANDOM % 2)).$((1 + RANDOM % 9))" "$(target)"
		extras+=("$P_PID extra-$nextra")
		clients=$((clients + 1))
		;;
	8)
		if [ $watching -eq 1 ]; then
			check watcher
			thaw
		else
			thaw
			new_watcher
		fi
		;;
	9)
		thaw
		sleep "0.$((2 + RANDOM % 7))"
		;;
	esac
done
check watcher
REAP_ALL=1 reap_extras
log "$checks pixel-exact checks, $modes mode changes, $traps trap/wake cycles, $clients short clients, $watchers watchers: no mismatch"
