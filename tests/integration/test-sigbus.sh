#!/bin/bash
# test-sigbus.sh - a provider that truncates its framebuffer file under
# the worker's mapping costs that guest its provider, not its worker,
# its clients or the other guests; nothing is lost once it is back.
#
# One daemon, two guests: "s", served by shrink-provider (a framebuffer
# in a plain file, not sealed against shrinking, no tracker: every scan
# compares every page; 1000x700 RGB888, so the scan converts pixel by
# pixel and the middle page boundary falls inside a line), and "other",
# a normal lfbvnc-demo (typing).  A probe watches "s" throughout and a
# fresh one matches the frame (FILE.xrgb) pixel for pixel.  Then:
#   1. shrink-provider changes the 16 pixels just before the file's
#      middle page boundary and truncates the file there (SIGUSR1).  The
#      next scan copies part of that change into the shadow and faults:
#      the log must say "s: the framebuffer shrank under us (SIGBUS at
#      offset N): dropping the provider" with N in the first lost page;
#      the worker's pid (lfbvncctl status) must be the same, its watcher
#      still connected, and while "s" has no provider, "other" must
#      converge pixel for pixel (frozen, a new probe, --compare).
#      Reattaching is refused meanwhile (the file is too short: the
#      consumer's own check) and retried with back-off.
#   2. shrink-provider restores the file with the same frame, the change
#      included (SIGHUP): the worker reattaches, and a new probe and the
#      watcher connected all along must match it exactly.  The watcher
#      gets the change only if the worker sent the tile the fault cut
#      short: after the reattach the shadow already equals the file there.
#   3. Again, restored with a new pattern (SIGUSR2): exact again.
#   4. Again, and the provider is replaced by a fresh one on the same
#      socket, XRGB8888 at 1024x768 (the fault then comes from the
#      compare, memcmp): exact again, "other" too.
# The same worker throughout: four faults caught (the handler stays
# installed and SIGBUS unblocked after each jump).
#
# How it fails: without the guard the first truncation kills the worker
# (the master logs "worker N killed by signal 7" and starts another one:
# the pid check fails; the watcher is disconnected); a guard that leaves
# SIGBUS blocked kills the worker at the second fault; a worker that does
# not send its whole shadow after a fault loses the pixels of the cut
# tile (step 2's watcher compare); a worker that keeps a stale shadow
# fails the compares.  Checked against a build whose backend never sets
# fb_can_shrink (no guard: failed at step 1, "worker N killed by signal
# 7"), one whose fbguard_scan uses sigsetjmp(..., 0) (failed at the
# second fault, the worker replaced), and one whose fb_shrank() does not
# mark and send the shadow (failed at step 2: the watcher's screenshot
# differs).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-multi.sh"
it_init sigbus 60 "$@"
SHRINK=$IT_BUILD/tests/integration/shrink-provider
[ -x "$SHRINK" ] || fail "$SHRINK is not built (make check builds it)"
SW=1000 SH=700
FB=$WORK/fb.raw
REF=$FB.xrgb

multi_demo other --workload typing

# start_shrink N FORMAT: shrink-provider on $WORK/s.sock with file $FB.
start_shrink() {
	bg "shrink-$1" "$SHRINK" "$WORK/s.sock" "$FB" "${SW}x$SH" "$2"
	S_PID=$BG_PID
	S_LOG=$WORK/shrink-$1.log
	wait_until 10 "shrink-provider to serve" log_has "$S_LOG" '^serving '
}
start_shrink 1 rgb888
M_SOCK[s]=$WORK/s.sock
multi_daemon s other
wait_until 15 "guest s to attach" guest_attached s
wait_until 15 "guest other to attach" guest_attached other
wait_until 5 "guest s's port" guest_port s >/dev/null
PORT=$(guest_port s)
SPORT=$PORT
wpid=$(ggf "$(status)" s pid)
[ -n "$wpid" ] && alive "$wpid" || fail "no worker pid for s"

# same_worker: s is still served by the worker it started with.
same_worker() {
	local p
	p=$(ggf "$(status)" s pid)
	[ "$p" = "$wpid" ] || fail "guest s: worker $p, not $wpid"
	alive "$wpid" || fail "worker $wpid is gone"
	if log_has "$D_LOG" 'worker [0-9]+ (killed by signal|exited with)'; then
		fail "a worker died: $(grep -E 'worker [0-9]+ (killed|exited)' "$D_LOG")"
	fi
}

watcher watch
probe before 0 --timeout "$CONVERGE_BOUND" --compare "$REF@${SW}x$SH" \
    "$(target)"
log "guest s served exactly by worker $wpid"

re='s: the framebuffer shrank under us \(SIGBUS at offset [0-9]+\): dropping the provider'
caught_or_crashed() {
	log_has "$D_LOG" "$re" "$1" ||
	    log_has "$D_LOG" 'worker [0-9]+ (killed by signal|exited with)'
}

# fault N: truncate (the Nth time), wait for the Nth caught fault, check
# its offset and that nothing died.
fault() {
	local n=$1 cut off
	kill -USR1 "$S_PID"
	wait_until 5 "truncation $n" log_has "$S_LOG" '^truncated to '
	cut=$(sed -n 's/^truncated to \([0-9]*\) octets$/\1/p' "$S_LOG" |
	    tail -n 1)
	wait_until 10 "the daemon to catch SIGBUS $n" caught_or_crashed "$n"
	same_worker
	off=$(grep -E -o "$re" "$D_LOG" | sed -n "${n}p" |
	    sed -E 's/.*SIGBUS at offset ([0-9]+).*/\1/')
	[ "$off" -ge "$cut" ] && [ "$off" -lt $((cut + 4096)) ] ||
	    fail "fault $n at offset $off, not in the first page past $cut"
	sleep 1		# let a crash, if any, be reaped and logged
	same_worker
	alive "$W_PID" || fail "the watcher of s was disconnected"
	[ "$(ggf "$(status)" s provider_up)" = false ] ||
	    fail "guest s still has a provider"
	log "fault $n: $(grep -E -o "$re" "$D_LOG" | sed -n "${n}p")"
}

# exact WHAT T0 ATTACHES: after the attach count reaches ATTACHES, a new
# client and the watcher must hold the provider's frame.
exact() {
	wait_until 15 "guest s to reattach ($1)" guest_attached s "$3"
	probe "fresh-$3" 0 --timeout "$CONVERGE_BOUND" \
	    --compare "$REF@${SW}x$SH" "$(target)"
	log "$1: a new client exact $((($(date +%s%N) - $2) / 1000000)) ms later (the reattach back-off included)"
	guest_quiet s
	probe_stop "$W_PID" "$WNAME"
	same_image "$WORK/$WNAME.png" "$REF@${SW}x$SH"
	same_worker
	log "$1: the client connected all along exact too"
}

# 1. Truncated, with a change just before the cut.
WNAME=watch
fault 1
guest_converge other
log "guest other converged while s had no provider"
PORT=$SPORT

# 2. The same frame back.
t0=$(date +%s%N)
kill -HUP "$S_PID"
wait_until 5 "the restore" log_has "$S_LOG" '^restored$'
exact "restored as it was" "$t0" 2

# 3. Again; back with a new pattern.
WNAME=watch2
watcher "$WNAME"
fault 2
t0=$(date +%s%N)
kill -USR2 "$S_PID"
wait_until 5 "the restore" log_has "$S_LOG" '^restored, pattern 1$'
exact "restored with a new pattern" "$t0" 3

# 4. Again; a fresh provider, XRGB8888 at another size.
WNAME=watch3
watcher "$WNAME"
fault 3
stop_pid "$S_PID"
SW=1024 SH=768
t0=$(date +%s%N)
start_shrink 2 xrgb8888
exact "a fresh provider" "$t0" 4
watcher watch4
fault 4
probe_stop "$W_PID" watch4
PORT=$SPORT
guest_converge other
log "4 faults caught by worker $wpid; converged after each; other too"
