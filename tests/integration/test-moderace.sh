#!/bin/bash
# test-moderace.sh - mode changes racing the scan: the geometry changes
# between the worker's dirty bitmap and its pixel read, again and again,
# and every frozen frame still reaches the clients exactly.
#
# test-resize.sh proves that a mode change is followed, one change at a
# time with settling in between.  Here the changes come as fast as the
# demo takes them: lfbvnc-demo draws the fullscreen workload (every
# page, every frame) at 240 frames a second with --mode-cycle 1 (a new
# mode every second) plus bursts of SIGUSR1 (two or three within a few
# milliseconds: the drawing side takes the last one at its next frame,
# so modes are skipped), and the daemon scans as fast as it can
# (max-rate 1000: about 226 scans a second with this workload, each a
# GET_DIRTY and a read of every page), so a mode change lands between a
# GET_DIRTY and its pixel read, or during the read, now and then (the
# test cannot see when it does: it makes the race frequent and checks
# every frozen frame).  ROUNDS times: draw for a random 50..800 ms,
# sometimes a burst, then freeze right away (often within a frame of a
# change); once the daemon's status shows the demo's mode, a new probe
# must match the frozen frame pixel for pixel
# (converge_check), then thaw.  A probe connected all along must end with
# the last frozen frame and have followed resizes; the daemon's log must
# end with "race: mode WxH, ..." for the demo's last mode, with no
# second "race: attached to" (the provider was never lost).  A second
# guest, "other" (typing), converges at the end.
#
# Found a lost update: a run ended with a client showing a black frame
# (783392 pixels differ), the worker trapped on it.  remode() compared
# modes with memcmp() over a struct with uninitialised padding, so it
# rebuilt a (zeroed) shadow for the mode it already had (its log said
# "race: mode 1024x768" twice in a row), and the scan after it trusted a
# bitmap whose ALL_DIRTY an earlier scan had taken.  Fixed in worker.c
# (no padding to compare; a new shadow makes the next scan compare every
# page); two identical "race: mode" lines in a row now fail the test.
#
# How it fails: a worker that reads pixels with a stale geometry and
# keeps them (a shifted or partial frame in the shadow: the compare
# fails), that keeps the old shadow when a mode comes back (A -> B -> A
# within one scan: the frame of the second A is compared with a shadow
# of the first), that misses a change (the size wait times out), or
# crashes (the attach count or the worker pid changes).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-multi.sh"
it_init moderace 60 "$@"
ROUNDS=${ROUNDS:-10}

multi_demo race --workload fullscreen --fps 240 --mode-cycle 1
multi_demo other --workload typing
multi_daemon race other -- -o max-rate=1000
wait_until 15 "race to attach" guest_attached race
wait_until 15 "other to attach" guest_attached other
use_guest race
wpid=$(ggf "$(status)" race pid)
watcher watch --json

race_size() {
	S=$(status)
	[ "$(ggf "$S" race width)x$(ggf "$S" race height)" = "${DW}x$DH" ]
}

for i in $(seq "$ROUNDS"); do
	sleep "0.$(printf '%02d' $((RANDOM % 75 + 5)))"
	if [ $((RANDOM % 2)) -eq 0 ]; then
		kill -USR1 "${M_PID[race]}"
		kill -USR1 "${M_PID[race]}"
		[ $((RANDOM % 2)) -eq 0 ] && kill -USR1 "${M_PID[race]}"
	fi
	t0=$(date +%s%N)
	demo_toggle_freeze
	sleep 0.2	# the frame in progress ends, its mode is logged
	demo_mode
	wait_until 10 "the daemon to follow to ${DW}x$DH" race_size
	converge_check "race round $i"
	[ "$(ggf "$(status)" race pid)" = "$wpid" ] ||
	    fail "race: the worker changed"
	log "round $i: ${DW}x$DH exact $((($(date +%s%N) - t0) / 1000000)) ms after the freeze, after $(count_re "${M_LOG[race]}" ': mode [0-9]+x[0-9]+$') modes"
	demo_toggle_freeze
done
sleep 0.3
demo_toggle_freeze
sleep 0.2
demo_mode
wait_until 10 "the daemon to follow to ${DW}x$DH" race_size
fb_snapshot "$WORK/last.raw"
converge_check "race, last"
guest_quiet race
probe_stop "$W_PID" watch
same_image "$WORK/watch.png" "$WORK/last.raw@${DW}x${DH}"
r=$(pfield "$WORK/watch.out" resizes)
[ "$r" -ge 2 ] || fail "the watcher followed $r resizes"
guest_attached race 2 && fail "race: the worker reattached (the provider was lost)"
dup=$(grep -E -o ': race: mode [0-9]+x[0-9]+, [0-9]+ octets per line.*' \
    "$D_LOG" | uniq -d | sed -n 1p)
[ -z "$dup" ] ||
    fail "the worker rebuilt its shadow for the mode it had:$dup"
last=$(grep -E -o ': race: mode [0-9]+x[0-9]+' "$D_LOG" | tail -n 1 |
    sed 's/.* //')
[ "$last" = "${DW}x$DH" ] ||
    fail "the daemon's last mode is $last, the demo's ${DW}x$DH"
log "the daemon's log: $(count_re "$D_LOG" ': race: mode [0-9]+x[0-9]+,') modes taken, the last \"race: mode ${DW}x$DH\""
guest_converge other
log "$(count_re "${M_LOG[race]}" ': mode [0-9]+x[0-9]+$') modes, $ROUNDS freezes exact, the watcher followed $r resizes; other exact"
