#!/bin/bash
# test-restart.sh - the daemon restarted (SIGTERM, started again) under
# connected clients: they see the disconnect, reconnect to the same port
# and get the guest's frame exactly; the guest's provider is undisturbed.
#
# lfbvnc-demo -v (typing; -v logs each consumer's attach and detach) and
# lfbvncd on a fixed port.  NCLIENTS (3) probes connected.  Twice, once
# with the demo drawing and once with it frozen:
#   - SIGTERM to lfbvncd; it must exit within 5 s (stop_pid) having
#     stopped its worker, its log ending with "stopped"; every probe
#     must end with exit status 3 and
#     "connection ... lost" (they saw the disconnect, none hangs);
#   - the demo is the same process, alive, its log says the worker's
#     session ended ("consumer pid W detached") and nothing else went
#     wrong (no warning);
#   - lfbvncd is started again on the same port; it attaches to the
#     demo ("consumer pid W2 attached" in the demo's log, W2 the new
#     worker), and NCLIENTS probes reconnect to the same port: with the
#     demo frozen, each must match the frozen frame pixel for pixel, as
#     must a watcher connected right after the restart (converge_check).
# The time from SIGTERM to the first reconnected client's exact frame is
# printed.
#
# How it fails: a daemon that hangs on exit with clients connected, or
# leaves its workers behind (the port stays taken: the new daemon's
# worker cannot listen, "Address already in use"), clients not told (a
# probe still running after the daemon is gone), a provider that needs a
# restart of its own to take a new consumer (no second attach), or a
# new worker that serves a stale or partial frame (the compares fail).
# Found a crash: in the ASan build the worker died in rfbShutdownServer
# at the SIGTERM (2 runs in 4: "SEGV on unknown address" in its log, a
# sanitizer report); fixed by vnc.c's hang_up_all(), not seen since in 3
# runs (and 0 in 8 tries of the same by hand, 4 in 5 before).
. "$(dirname "$0")/lib.sh"
it_init restart 60 "$@"
NCLIENTS=${NCLIENTS:-3}

start_demo -v --workload typing
port=$(free_port)
start_daemon -o port="$port"
wait_attached
dpid=$DEMO_PID

clients() {
	local i
	for i in $(seq "$NCLIENTS"); do
		probe_bg "c$1-$i" -v --timeout 10 --duration 600 "$(target)"
		C_PIDS[$i]=$P_PID
	done
	for i in $(seq "$NCLIENTS"); do
		wait_until 15 "client $1-$i's first update" \
		    log_has "$WORK/c$1-$i.err" 'first full update after'
	done
}

for round in 1 2; do
	C_PIDS=()
	clients "$round"
	[ "$round" = 2 ] && demo_toggle_freeze
	wold=$(worker_pid)
	t0=$(date +%s%N)
	stop_daemon
	alive "$D_PID" && fail "lfbvncd did not exit on SIGTERM"
	log_has "$D_LOG" '^lfbvncd: stopped$' ||
	    fail "lfbvncd did not log that it stopped"
	alive "$wold" && fail "worker $wold outlived the daemon"
	for i in $(seq "$NCLIENTS"); do
		wait_until 5 "client $round-$i to see the disconnect" \
		    eval '! alive "${C_PIDS[$i]}"'
		probe_wait "${C_PIDS[$i]}" "c$round-$i" 3
		grep -q 'connection to .* lost' "$WORK/c$round-$i.err" ||
		    fail "client $round-$i: $(cat "$WORK/c$round-$i.err")"
	done
	alive "$dpid" || fail "the demo died with the daemon"
	wait_until 5 "the demo to see its consumer go" \
	    log_has "$DEMO_LOG" "consumer pid $wold detached"
	log "round $round: daemon stopped in $((($(date +%s%N) - t0) / 1000000)) ms; $NCLIENTS clients saw the disconnect; the demo ($dpid) saw worker $wold go"

	start_daemon -o port="$port"
	wait_attached
	[ "$PORT" = "$port" ] || fail "the daemon came back on port $PORT, not $port"
	wnew=$(worker_pid)
	wait_until 5 "the demo to take the new consumer" \
	    log_has "$DEMO_LOG" "consumer pid $wnew attached"
	[ "$round" = 1 ] && { watcher "w$round"; demo_toggle_freeze; }
	fb_snapshot "$WORK/frozen.raw"
	probe "re$round-1" 0 --timeout "$CONVERGE_BOUND" \
	    --compare "$WORK/frozen.raw@${DW}x$DH" "$(target)"
	log "round $round: a reconnected client exact $((($(date +%s%N) - t0) / 1000000)) ms after the SIGTERM"
	for i in $(seq 2 "$NCLIENTS"); do
		probe "re$round-$i" 0 --timeout "$CONVERGE_BOUND" \
		    --compare "$WORK/frozen.raw@${DW}x$DH" "$(target)"
	done
	if [ "$round" = 1 ]; then
		converge_check "restart $round" "$W_PID" "w$round"
		demo_toggle_freeze
	else
		converge_check "restart $round"
	fi
	alive "$dpid" || fail "the demo died"
	log "round $round: $NCLIENTS reconnected clients exact; demo $dpid served worker $wnew"
done
grep -q -E '^lfbvnc-demo: .*(warn|error|fail)' "$DEMO_LOG" &&
    fail "the demo complained: $(grep -E 'warn|error|fail' "$DEMO_LOG")"
log "2 restarts: the provider undisturbed, every reconnected client exact"
