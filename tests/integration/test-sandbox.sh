#!/bin/bash
# test-sandbox.sh - the worker that serves clients is confined: a seccomp
# filter on every one of its threads, no new privileges, and with `user'
# set no root and no capability; and it still serves.
#
#  1. No `user': the log says "g: sandbox on: N system calls refused";
#     with a client connected (so libvncserver's client thread exists),
#     every thread of the worker (/proc/PID/task/*/status) has
#     "Seccomp: 2" (a filter) and "NoNewPrivs: 1"; the master, which
#     forks workers, has no filter.  The frozen demo's frame reaches a new
#     client and the watching one pixel for pixel (converge_check).  The
#     demo is restarted: the same worker reconnects under the filter
#     (socket, connect, descriptors received, mmap) and serves again.
#  2. user=nobody (as root): "running as nobody", then the same filter;
#     every thread has real, effective, saved and file-system uid and gid
#     of nobody, no supplementary group but nobody's, CapEff, CapPrm and
#     CapAmb 0, Seccomp 2, NoNewPrivs 1, and the frame still converges.
#
# That a filtered call is refused (execve, fork, ptrace, setuid, mount,
# ...) is proven by tests/daemon/test-sandbox, on the same filter code.
# Under valgrind (lib.sh's valgrind mode) it skips: lfbvncd runs there
# with --debug-no-seccomp, its workers deliberately without the filter.
#
# How it fails: a worker that serves without the filter (Seccomp 0, or a
# thread started before the filter without it), that keeps root or a
# capability after the drop, or a filter that breaks serving (no frame,
# no reconnect: the probe or wait_attached fails).
. "$(dirname "$0")/lib.sh"
it_init sandbox 90 "$@"
valgrind_skip "lfbvncd runs with --debug-no-seccomp there, its workers" \
    "deliberately without the filter this test checks"

[ "$(id -u)" = 0 ] || skip "needs root, to run the workers as nobody"
nobody_uid=$(id -u nobody 2>/dev/null) || skip "no user nobody"
nobody_gid=$(id -g nobody)

# pfield_of FILE KEY: the value of "KEY:<tab>..." in a /proc status file.
pfield_of() {
	sed -n "s/^$2:[[:space:]]*//p" "$1"
}

# confined PID: every thread of PID has the filter and no_new_privs.
confined() {
	local t n=0
	for t in /proc/"$1"/task/*/status; do
		[ "$(pfield_of "$t" Seccomp)" = 2 ] ||
		    fail "$t: Seccomp $(pfield_of "$t" Seccomp), want 2"
		[ "$(pfield_of "$t" NoNewPrivs)" = 1 ] ||
		    fail "$t: NoNewPrivs $(pfield_of "$t" NoNewPrivs), want 1"
		n=$((n + 1))
	done
	[ "$n" -ge 2 ] || fail "worker $1 has $n threads; a client thread was expected"
	log "worker $1: $n threads, each with Seccomp 2 and NoNewPrivs 1"
}

# unprivileged PID: every thread of PID is nobody, without capabilities.
unprivileged() {
	local t want_u want_g
	want_u=$(printf '%s\t%s\t%s\t%s' "$nobody_uid" "$nobody_uid" \
	    "$nobody_uid" "$nobody_uid")
	want_g=$(printf '%s\t%s\t%s\t%s' "$nobody_gid" "$nobody_gid" \
	    "$nobody_gid" "$nobody_gid")
	for t in /proc/"$1"/task/*/status; do
		[ "$(pfield_of "$t" Uid)" = "$want_u" ] ||
		    fail "$t: Uid $(pfield_of "$t" Uid), want $nobody_uid x4"
		[ "$(pfield_of "$t" Gid)" = "$want_g" ] ||
		    fail "$t: Gid $(pfield_of "$t" Gid), want $nobody_gid x4"
		[ "$(pfield_of "$t" Groups | tr -d ' ')" = "$nobody_gid" ] ||
		    fail "$t: Groups '$(pfield_of "$t" Groups)', want $nobody_gid"
		for c in CapEff CapPrm CapAmb; do
			[ "$(pfield_of "$t" $c)" = 0000000000000000 ] ||
			    fail "$t: $c $(pfield_of "$t" $c), want none"
		done
	done
	log "worker $1: uid and gid $nobody_uid/$nobody_gid, no capabilities"
}

start_demo --workload blink

log "1. no user"
start_daemon
wait_attached
log_has "$D_LOG" ': g: sandbox on: [0-9]+ system calls refused$' ||
    fail "the worker does not say its sandbox is on"
log "$(grep -o 'g: sandbox on: .*' "$D_LOG" | sed -n 1p)"
wpid=$(worker_pid)
[ -n "$wpid" ] && alive "$wpid" || fail "no worker pid in the status"
[ "$(pfield_of /proc/"$D_PID"/status Seccomp)" = 0 ] ||
    fail "the master has a seccomp filter: it could not start workers"
watcher w1
confined "$wpid"
demo_toggle_freeze
converge_check "no user" "$W_PID" w1

# The provider goes and comes back: the filtered worker reconnects.
stop_demo
start_demo --workload blink
wait_attached 2
[ "$(worker_pid)" = "$wpid" ] ||
    fail "worker $wpid was replaced by $(worker_pid) instead of reconnecting"
watcher w2
confined "$wpid"
demo_toggle_freeze
converge_check "reconnected" "$W_PID" w2
stop_daemon

log "2. user nobody"
start_daemon -o user=nobody
wait_attached
log_has "$D_LOG" ': g: running as nobody$' || fail "the worker did not drop to nobody"
log_has "$D_LOG" ': g: sandbox on: [0-9]+ system calls refused$' ||
    fail "the worker does not say its sandbox is on"
wpid=$(worker_pid)
[ -n "$wpid" ] && alive "$wpid" || fail "no worker pid in the status"
watcher w3
confined "$wpid"
unprivileged "$wpid"
converge_check "user nobody" "$W_PID" w3
stop_daemon
