#!/bin/bash
# test-trap.sh - an idle screen costs nothing, and the first write after
# it still reaches the clients.
#
# For each tracker with a write trap (kvm, uffd; those that work here):
# the idle workload, one probe connected all along.  The worker must arm
# the trap ("trapped", traps_armed >= 1); then, over 3.5 seconds of
# status (counted by uptime), scans and dirty_requests
# must not move: zero scans and zero GET_DIRTY while idle.  Then a second
# probe moves the pointer, the demo draws the arrow (one guest write):
# the trap must fire (traps_fired grows, scans resume) and both probes
# must see the arrow's white pixel.  The worker's threads must not wake
# either while trapped (the kernel's count of their context switches).
#
# How it fails: a worker that keeps polling while trapped (scans or
# dirty_requests grow), that never arms the trap (no "trapped" within
# 10 s), or that misses the wake-up (the probes wait for the arrow in
# vain; traps_fired does not grow).  Checked against a build whose policy
# keeps a 250 ms timer in TRAPPED (scans grow: fails) and one whose worker
# ignores BACKEND_EV_WAKE (the arrow never arrives: fails).
. "$(dirname "$0")/lib.sh"
it_init trap 60 "$@"

trackers=()
for t in kvm uffd; do
	if tracker_works "$t"; then
		trackers+=("$t")
	else
		log "tracker $t does not work here: $(tail -n 3 "$WORK/tracker-$t.log")"
	fi
done
[ ${#trackers[@]} -gt 0 ] || skip "no tracker with a write trap (kvm, uffd) works here"

for t in "${trackers[@]}"; do
	log "tracker $t"
	start_demo --tracker "$t" --workload idle
	start_daemon
	wait_attached
	[ "$(st tracker)" = "$t" ] || fail "the daemon reports tracker $(st tracker)"

	# Where the arrow will be: its fill pixel (x+1, y+2) is white
	# (providers/demo/render.c ptr_art), so pick a spot not white yet.
	fb_snapshot "$WORK/before.raw"
	px=
	for xy in 400,300 600,200 200,500 800,400 300,120; do
		x=${xy%,*} y=${xy#*,}
		if [ "$(fb_pixel "$WORK/before.raw" "$DW" $((x + 1)) $((y + 2)))" != ffffff ]; then
			px=$xy
			break
		fi
	done
	[ -n "$px" ] || fail "no spot for the pointer that is not white already"
	x=${px%,*} y=${px#*,}
	white="$((x + 1)),$((y + 2))=ffffff"

	# The probe connected all along: it waits for the arrow.
	probe_bg "watch-$t" -v --timeout 40 --wait-pixel "$white" "$(target)"
	watch_pid=$P_PID
	wait_until 10 "the watcher's first update" \
	    log_has "$WORK/watch-$t.err" 'first full update after'

	wait_until 10 "the trap to be armed" trapped_now
	S0=$S
	wait_uptime "$S0" 1500
	V0=$(worker_vcsw)
	wait_uptime "$S" 2000
	V=$(worker_vcsw)
	for k in scans dirty_requests traps_fired; do
		[ "$(gfield "$S" "$k")" = "$(gfield "$S0" "$k")" ] ||
		    fail "$k moved while trapped: $(gfield "$S0" "$k") -> $(gfield "$S" "$k")"
	done
	[ "$(gfield "$S" state)" = trapped ] || fail "left trapped while idle: $(gfield "$S" state)"
	alive "$watch_pid" || fail "the watcher saw the arrow before the pointer moved"
	# The kernel's count, from 1.5 s after the trap (the last status
	# tick and stall checks are done by then): a timer left running (the
	# stall check, 4 a second) would add 8.
	[ "$V" -le $((V0 + 2)) ] ||
	    fail "the worker's threads woke $((V - V0)) times in 2 s while trapped"
	log "trapped: scans $(gfield "$S" scans), dirty_requests $(gfield "$S" dirty_requests) unchanged over 3.5 s, $((V - V0)) context switches in the last 2 s"

	# One write: the pointer moves, the demo draws it.
	probe "mover-$t" 0 --timeout 10 --send-pointer "$x,$y" \
	    --wait-pixel "$white" "$(target)"
	probe_wait "$watch_pid" "watch-$t" 0
	wait_until 5 "traps_fired and scans to grow" woken "$S0"
	log "woken: traps_fired $(gfield "$S0" traps_fired) -> $(gfield "$S" traps_fired)"

	stop_daemon
	stop_demo
done
