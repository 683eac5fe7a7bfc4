#!/bin/bash
# test-resize.sh - a mode change reaches a connected client, and the
# frame after it converges.
#
# The demo starts at 800x600 drawing the typing workload; a probe stays
# connected throughout.  SIGUSR1 twice: 800x600 -> 640x480 (smaller) ->
# 1920x1080 (larger than at the start), each time waiting until the
# daemon's status shows the new size, with drawing in between.  Then the
# demo freezes and (converge_check) a new probe must match the frozen
# 1920x1080 frame pixel for pixel, and the probe connected all along must
# end with the same frame, its JSON saying width 1920, height 1080 and
# at least 2 resizes.  The same once more after a resize with the demo
# drawing in a single frame between SIGUSR1 and the freeze.
#
# How it fails: a worker that does not follow the provider's mode (the
# status or the client keeps the old size), that keeps the old shadow
# geometry (pixels shifted: the compare fails), or that does not send
# the new size to connected clients (resizes 0, width stays).  Checked
# against a build whose remode() never takes a new mode (fails: the
# status never shows 640x480), and against the vnc_set_framebuffer() this
# test found deadlocking (it took each client's sendMutex, which
# rfbNewFramebuffer takes again: the worker hung; fails the same way).
. "$(dirname "$0")/lib.sh"
it_init resize 50 "$@"

start_demo --workload typing --size 800x600
start_daemon
wait_attached
watcher watch --json

for want in 640x480 1920x1080; do
	demo_next_mode
	[ "${DW}x$DH" = "$want" ] || fail "the demo switched to ${DW}x$DH, not $want"
	wait_until 10 "the daemon to switch to $want" daemon_size "$DW" "$DH"
	log "switched to $want"
	sleep 0.5		# drawing at the new size
done
demo_toggle_freeze
converge_check resize "$W_PID" watch
[ "$(pfield "$WORK/watch.out" width)x$(pfield "$WORK/watch.out" height)" = 1920x1080 ] ||
    fail "the watcher ended at $(pfield "$WORK/watch.out" width)x$(pfield "$WORK/watch.out" height)"
[ "$(pfield "$WORK/watch.out" resizes)" -ge 2 ] ||
    fail "the watcher saw $(pfield "$WORK/watch.out" resizes) resizes"
log "the watcher followed $(pfield "$WORK/watch.out" resizes) resizes"

# Resize and freeze at once: the first frame of the new mode is the last.
demo_toggle_freeze
watcher watch2 --json
demo_next_mode
demo_toggle_freeze
converge_check resize-at-once "$W_PID" watch2
[ "$(pfield "$WORK/watch2.out" width)x$(pfield "$WORK/watch2.out" height)" = "${DW}x$DH" ] ||
    fail "the second watcher ended at $(pfield "$WORK/watch2.out" width)x$(pfield "$WORK/watch2.out" height), not ${DW}x$DH"
log "resized to ${DW}x$DH and frozen at once: converged"
