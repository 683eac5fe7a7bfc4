#!/bin/bash
# test-noclients.sh - nobody watching costs nothing, however busy the
# guest.
#
# The mix workload (the busiest: typing, blinking, a clock and a video,
# every frame), the daemon attached, no VNC client: over the worker's
# first 3 s of uptime (counted by its status, not by sleeping) it must
# have made zero scans and zero dirty-bitmap requests, be in state
# "no-clients", and no timer may have woken it (see few_wakeups).  A
# probe connects for 2 s: scans and dirty_requests must grow and it must
# get updates.  It leaves: from the status published when the client
# count dropped to 0, two more seconds of uptime must not add a scan or a
# dirty request, nor any timer wake-up of the worker (no timer runs
# without clients: docs/SCAN-POLICY.md).  Wake-ups are counted twice: by
# the worker ("wakeups") and by the kernel (the voluntary context switches
# of all its threads), which also sees timers the worker does not count,
# like the 1 s status tick and the VNC stall check that ran for ever
# before (6 a second).
#
# How it fails: a worker that scans (or asks the provider for its bitmap)
# without clients, or that keeps a scan timer running after the last
# client left.  Checked against a build whose policy_clients() stays
# POLLING when the count drops to 0 (the last check fails: its timer
# keeps waking the worker, over 150 times in 2 s), and one whose
# policy_delay_ms() gives NO_CLIENTS the polling interval (the first
# check fails: 186 wakeups in 3 s).
. "$(dirname "$0")/lib.sh"
it_init noclients 40 "$@"

# few_wakeups A B: between status A and B the worker woke at most twice.
# A timer would wake it at least every max-interval (250 ms: 8 times in
# 2 s).  Up to two are fair: a provider answers a request by storing the
# reply and then kicking the consumer's eventfd; a consumer that saw the
# reply before the kick returns at once, and the kick wakes the worker's
# loop once later, for nothing (TRACK_OFF at attach; DISARM and TRACK_OFF
# when the last client leaves).
few_wakeups() {
	local a b
	a=$(gfield "$1" wakeups) b=$(gfield "$2" wakeups)
	[ "$b" -le $((a + 2)) ] ||
	    fail "the worker keeps waking up without clients: wakeups $a -> $b"
}

# few_switches A B: the kernel's count of the worker's sleeps (all its
# threads) grew by at most 3 between A and B: a status tick or a stall
# check left running would add 2 to 4 a second.
few_switches() {
	[ "$2" -le $(($1 + 3)) ] ||
	    fail "the worker's threads woke $(($2 - $1)) times without clients"
}

start_demo --workload mix
start_daemon
wait_attached
S0=$(status)
V0=$(worker_vcsw)
wait_uptime "$S0" 3000
V=$(worker_vcsw)
for k in scans dirty_requests full_compares clients; do
	[ "$(gfield "$S" "$k")" = 0 ] ||
	    fail "$k is $(gfield "$S" "$k") after $(gfield "$S" uptime_ms) ms without clients"
done
[ "$(gfield "$S" state)" = no-clients ] || fail "state $(gfield "$S" state) without clients"
few_wakeups "$S0" "$S"
few_switches "$V0" "$V"
log "no clients for $(gfield "$S" uptime_ms) ms: 0 scans, 0 dirty requests, $((V - V0)) context switches"

probe client 0 --json --duration 2 "$(target)"
[ "$(pfield "$WORK/client.out" updates)" -gt 0 ] ||
    fail "the client got no updates from a busy guest"
wait_until 5 "the worker to see the client leave" gone_and_scanned
S1=$S
log "after the client: scans $(gfield "$S1" scans), dirty_requests $(gfield "$S1" dirty_requests)"
wait_uptime "$S1" 2000
for k in scans dirty_requests full_compares; do
	[ "$(gfield "$S" "$k")" = "$(gfield "$S1" "$k")" ] ||
	    fail "$k grew after the last client left: $(gfield "$S1" "$k") -> $(gfield "$S" "$k")"
done
few_wakeups "$S1" "$S"
[ "$(gfield "$S" state)" = no-clients ] || fail "state $(gfield "$S" state) after the client left"
# The kernel's count from then on: the last client's threads, the status
# tick and the stall check of its last update are done after those 2 s.
S2=$S
V1=$(worker_vcsw)
wait_uptime "$S2" 2000
V=$(worker_vcsw)
few_switches "$V1" "$V"
log "the client left: scans, dirty requests and wakeups unchanged for 2 s; then $((V - V1)) context switches in 2 s"
