#!/bin/bash
# test-slowclient.sh - a client that stops reading neither stalls the
# others nor makes the worker grow, and is disconnected after max-stall.
#
# The fullscreen workload (every pixel, every frame: the most octets per
# update), lfbvncd with max-stall 6000 (ms).  First a probe alone for 3 s
# (its update count is printed for comparison, not asserted).  Then
# stall-client connects, asks for 64 full raw updates and never reads.
# While it is stuck, a normal probe runs for 4 s and must keep receiving:
# at least one update per second of its run (the source makes 60; a loop
# blocked by the stalled socket would deliver none).  Throughout, the
# worker's VmRSS (its pid from lfbvncctl status) stays below RSS_MAX_MB:
# 200 MiB, or 400 MiB in a sanitizer build (ASan's shadow and quarantine).
# Finally the daemon must disconnect the stalled client: its log line
# "has not read N octets for M ms: disconnecting it" and the client
# count back to 0.
#
# How it fails: per-client data queued in the worker instead of a pending
# region (RSS grows by the frame size per update), client output done on
# the worker's loop (the normal probe stalls: too few updates), or no
# stall limit (no log line, the client count stays 1).  Checked against a
# build without the on_stall_check timer (fails: no disconnect within
# 20 s) and with RSS_MAX_MB=10 (fails: the peak was 13 MiB).
. "$(dirname "$0")/lib.sh"
it_init slowclient 55 "$@"
[ -x "$IT_STALL" ] || fail "$IT_STALL is not built (make check builds it)"

if grep -q -a -E '__asan_init|__ubsan_handle' "$IT_LFBVNCD"; then
	: "${RSS_MAX_MB:=400}"
else
	: "${RSS_MAX_MB:=200}"
fi

start_demo --workload fullscreen
start_daemon -o max-stall=6000
wait_attached
wpid=$(worker_pid)
[ -n "$wpid" ] && [ -d "/proc/$wpid" ] || fail "no worker pid in the status"

# Sample the worker's VmRSS every 0.2 s into $WORK/rss (kB).
(
	while [ -r "/proc/$wpid/status" ]; do
		sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' \
		    "/proc/$wpid/status" 2>/dev/null || true
		sleep 0.2
	done
) >"$WORK/rss" &
IT_PIDS+=("$!")
rss_check() {
	local peak
	peak=$(sort -n "$WORK/rss" | tail -n 1)
	[ -n "$peak" ] || fail "no RSS sample of worker $wpid"
	[ "$peak" -lt $((RSS_MAX_MB * 1024)) ] ||
	    fail "worker RSS peaked at $((peak / 1024)) MiB (bound $RSS_MAX_MB MiB)"
	log "worker RSS peak $((peak / 1024)) MiB (bound $RSS_MAX_MB MiB)"
}

probe alone 0 --json --duration 3 "$(target)"
alone=$(pfield "$WORK/alone.out" updates)
log "alone: $alone updates in 3 s"

bg stall "$IT_STALL" 127.0.0.1 "$PORT" 64
stall_pid=$BG_PID
wait_until 10 "the stalled client's handshake" log_has "$WORK/stall.log" '^stalled'
wait_until 10 "the daemon to count the stalled client" client_count 1
log "$(cat "$WORK/stall.log")"

probe beside 0 --json --duration 4 "$(target)"
beside=$(pfield "$WORK/beside.out" updates)
log "beside the stalled client: $beside updates in 4 s (alone: $alone in 3 s)"
[ "$beside" -ge 4 ] || fail "the probe beside a stalled client got $beside updates in 4 s"
if log_has "$D_LOG" 'has not read .* disconnecting it'; then
	log "note: the stalled client was dropped before the probe ended"
fi
alive "$stall_pid" || fail "stall-client exited: $(cat "$WORK/stall.log")"

wait_until 20 "the stalled client to be disconnected" \
    log_has "$D_LOG" 'client .* has not read [0-9]+ octets for [0-9]+ ms: disconnecting it'
wait_until 5 "the client count to drop to 0" client_count 0
log "$(grep -E -o 'client .* disconnecting it' "$D_LOG" | sed -n 1p)"
rss_check
