#!/bin/bash
# test-converge.sh [TRACKER...] - convergence: whatever the guest draws,
# once it stops drawing every client shows exactly its last frame.
#
# For every workload of lfbvnc-demo and every write tracker asked for
# (kvm uffd none by default; the test-converge-TRACKER.sh wrappers ask for
# one each so that make -j2 runs them side by side): one lfbvncd, and per
# workload a new demo on the same socket (the daemon reconnects).  A probe
# connects and watches while the demo draws for a second, then the demo
# freezes (SIGUSR2) and
#   - a new probe must see the frozen frame, pixel for pixel, within
#     CONVERGE_BOUND (5) seconds (--compare against a copy of the demo's
#     framebuffer read through /proc/PID/fd);
#   - the probe that watched all along must hold the same frame once the
#     daemon has stopped sending (its screenshot, fbtool cmp).
#
# How it fails: a lost write (the scanner missing dirty pages, reading
# pixels before clearing the bitmap, a rectangle merged away, a mode
# change not followed) leaves a pixel of the shadow or of the watcher's
# framebuffer different from the guest's, and the compare reports the
# first differing pixels.  Checked against a build whose scan_pages()
# skips the last page of every dirty run (kvm: fails at the first
# workload with pixel diffs) and one whose scan_range() skips the last
# line of every range (none, where every scan is a whole-frame compare:
# fails likewise).
. "$(dirname "$0")/lib.sh"

trackers=("$@")
[ ${#trackers[@]} -gt 0 ] || trackers=(kvm uffd none)
workloads=(idle blink typing scroll drag video fullscreen sparse mix)
it_init "converge-$(IFS=-; echo "${trackers[*]}")" $((85 * ${#trackers[@]})) "$@"

ran=0
for t in "${trackers[@]}"; do
	if ! tracker_works "$t"; then
		log "tracker $t does not work here: $(tail -n 3 "$WORK/tracker-$t.log")"
		continue
	fi
	n=0
	for w in "${workloads[@]}"; do
		seed=$RANDOM
		log "$t/$w (seed $seed)"
		[ $n -eq 0 ] || stop_demo
		start_demo --tracker "$t" --workload "$w" --seed "$seed"
		n=$((n + 1))
		if [ $n -eq 1 ]; then
			start_daemon
		fi
		wait_attached $n
		# A provider without a tracker is compared whole ("compare").
		want=$t
		[ "$t" != none ] || want=compare
		[ "$(st tracker)" = "$want" ] ||
		    fail "$t/$w: the daemon reports tracker $(st tracker)"
		watcher "watch-$t-$w"
		sleep 1		# the demo draws, the daemon follows
		demo_toggle_freeze
		converge_check "$t/$w" "$W_PID" "watch-$t-$w"
		ran=$((ran + 1))
	done
	stop_demo
	stop_daemon
done
[ $ran -gt 0 ] || skip "none of the trackers ${trackers[*]} works here"
log "$ran workload/tracker pairs converged"
