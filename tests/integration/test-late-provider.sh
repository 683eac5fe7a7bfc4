#!/bin/bash
# test-late-provider.sh - a guest whose provider is not up when lfbvncd
# starts (its socket does not exist yet): the worker serves a black
# screen meanwhile and retries with its back-off (200 ms, doubling up to
# 5 s), so the wait costs next to nothing and logs one line per attempt;
# when the provider comes, the worker attaches, and a client that
# connected during the wait gets the guest's frame pixel for pixel, as
# does a new one (converge_check).
#
# How it failed: the first back-off was 0 ms, doubled to 0 ms, so a
# worker whose provider was not up retried in a busy loop: a core at
# 100% and half a million "cannot attach" lines in 12 s.  The bounds
# below (at most 8 attempts and 0.4 s of CPU in 3 s) fail that by far.
. "$(dirname "$0")/lib.sh"
it_init late-provider 40 "$@"
WAIT_S=3

DEMO_SOCK=$WORK/demo.sock	# start_demo will create it, later
start_daemon
wait_until 5 "the VNC port in the status" status_has_port
wpid=$(worker_pid)
[ -n "$wpid" ] || fail "no worker pid in the status"
watcher watch
cpu0=$(awk '{ print $14 + $15 }' "/proc/$wpid/stat")
sleep "$WAIT_S"
cpu=$(($(awk '{ print $14 + $15 }' "/proc/$wpid/stat") - cpu0))
tries=$(count_re "$D_LOG" ': g: cannot attach to ')
log "worker $wpid, provider absent for $WAIT_S s: $tries attempts," \
    "$((cpu * 10)) ms of CPU"
# Attempts at 0, 0.2, 0.6, 1.4, 3.0 s: 5 in 3 s, plus slack for a slow
# start; at least 2 (it does retry).
[ "$tries" -ge 2 ] && [ "$tries" -le 8 ] ||
    fail "$tries attempts to attach in $WAIT_S s (expected 2 to 8)"
[ "$cpu" -le 40 ] ||
    fail "the waiting worker used $((cpu * 10)) ms of CPU in $WAIT_S s"
alive "$W_PID" || fail "the watcher was disconnected during the wait"

start_demo --workload typing
wait_attached
[ "$(worker_pid)" = "$wpid" ] || fail "the worker changed: $(worker_pid), not $wpid"
log "attached $(grep -E -o 'g: attached to .*' "$D_LOG" | head -n 1)"
demo_toggle_freeze
converge_check late-provider "$W_PID" watch
