#!/bin/bash
# test-valgrind.sh - lfbvncd, master and worker, under valgrind's memcheck
# through one session that goes through most of the daemon's code: no
# invalid access, no use of uninitialised memory, no definite leak.
#
# lib.sh's valgrind mode (LFBVNC_TEST_VALGRIND=1: lfbvncd
# --debug-no-seccomp under memcheck, one log per process, every wait
# scaled).  The demo provider runs natively.  One daemon, a password:
#   1. auth: a wrong password is refused, the right one gets a frame;
#   2. a watcher connects and stays (the JSON at the end must show its
#      resizes);
#   3. input: a probe types a line (the demo's framebuffer changes) and
#      moves the pointer (its arrow appears, --wait-pixel);
#   4. trap and wake, with a tracker that has a write trap (kvm, uffd;
#      else the step is logged as not done): idle, the worker arms the
#      trap; a pointer move wakes it (traps_fired and scans grow);
#   5. resize: two mode changes, the status follows;
#   6. client churn: CHURN probes at once, half of them killed (SIGKILL)
#      before they are done;
#   7. a second guest attached with "lfbvncctl attach" (its own worker),
#      one client, then "lfbvncctl detach" (the worker is stopped);
#   8. provider restart: the demo is stopped and started again, the same
#      worker reattaches; the frozen frame converges (a new probe and the
#      watcher, pixel for pixel);
#   9. SIGTERM: lfbvncd stops its worker and exits, "stopped" in its log.
# lib.sh then reads every valgrind log: each must be complete (a process
# SIGKILLed has no leak check) and say "ERROR SUMMARY: 0 errors", and
# there must be one for the master and one per worker started (3).
#
# make check runs it in the build without sanitizers
# (tests/integration/local.mk);
# make check-valgrind runs every integration test the same way.
#
# How it fails: any memcheck error or definite leak in the master or a
# worker (the report is printed), a process that does not exit on
# SIGTERM, or any step's own check.  Checked against a daemon whose
# vnc.c client_gone() does not free its struct vnc_client (FAIL: "416
# bytes in 13 blocks are definitely lost", from new_client, in the
# worker's log) and one whose client_gone() frees it before its last
# read (built without -Werror, which sees it; FAIL: "Invalid read of
# size 8 ... inside a block of size 32 free'd").
export LFBVNC_TEST_VALGRIND=${LFBVNC_TEST_VALGRIND:-1}
[ "$LFBVNC_TEST_VALGRIND" != 0 ] || LFBVNC_TEST_VALGRIND=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-multi.sh"
# The time limit is scaled like every other (x8 by default): 5 minutes.
it_init valgrind $(((300 + IT_TSCALE - 1) / IT_TSCALE)) "$@"
CHURN=${CHURN:-6}
unset LFBVNC_PASSWORD

password_files

# pick_spot FILE: "X,Y X+1,Y+2=ffffff", a place for the pointer and the
# arrow's fill pixel there (providers/demo/render.c), not white in FILE.
pick_spot() {
	local xy x y
	for xy in 400,300 600,200 200,500 300,120 700,100; do
		x=${xy%,*} y=${xy#*,}
		if [ "$(fb_pixel "$1" "$DW" $((x + 1)) $((y + 2)))" != ffffff ]; then
			echo "$xy $((x + 1)),$((y + 2))=ffffff"
			return 0
		fi
	done
	return 1
}

g2_port() {
	G2_PORT=$(guest_port g2)
}

g2_gone() {
	! status | grep -q '"name":"g2"'
}

tracker=none
for t in kvm uffd; do
	if tracker_works "$t"; then
		tracker=$t
		break
	fi
	log "tracker $t does not work here: $(tail -n 1 "$WORK/tracker-$t.log")"
done

start_demo --tracker "$tracker" --workload idle --size 800x600
start_daemon -o "password-file=$pw"
wait_attached
# The probes that follow take the password from the environment.
export LFBVNC_PASSWORD=s3cret-pw

log "1. auth"
probe wrong 0 --password-file "$wrong" --expect-auth-failure "$(target)"
probe right 0 --timeout 10 "$(target)"

log "2. a watcher"
watcher watch --json

log "3. input"
fb_snapshot "$WORK/before.raw"
probe type 0 --timeout 10 --type 'valgrind 0123' --send-key Return \
    "$(target)"
wait_until 10 "the demo to draw the typed text" fb_changed "$WORK/before.raw"
fb_snapshot "$WORK/typed.raw"
spot=$(pick_spot "$WORK/typed.raw") || fail "no spot for the pointer"
probe pointer 0 --timeout 10 --send-pointer "${spot% *}" \
    --wait-pixel "${spot#* }" "$(target)"

log "4. trap and wake"
if [ "$tracker" = none ]; then
	log "no tracker with a write trap works here: not done"
else
	wait_until 10 "the trap to be armed" trapped_now
	S0=$S
	fb_snapshot "$WORK/trapped.raw"
	spot=$(pick_spot "$WORK/trapped.raw") || fail "no spot for the pointer"
	probe mover 0 --timeout 10 --send-pointer "${spot% *}" \
	    --wait-pixel "${spot#* }" "$(target)"
	wait_until 5 "traps_fired and scans to grow" woken "$S0"
	log "woken: traps_fired $(gfield "$S0" traps_fired) -> $(gfield "$S" traps_fired)"
fi

log "5. resize"
for want in 640x480 1920x1080; do
	demo_next_mode
	[ "${DW}x$DH" = "$want" ] || fail "the demo switched to ${DW}x$DH, not $want"
	wait_until 10 "the daemon to switch to $want" daemon_size "$DW" "$DH"
done

log "6. $CHURN clients at once, half of them killed"
churn=()
for i in $(seq "$CHURN"); do
	probe_bg "churn-$i" --timeout 20 "$(target)"
	churn+=("$P_PID")
done
sleep 0.5
for i in $(seq 1 2 "$CHURN"); do
	kill -KILL "${churn[$((i - 1))]}" 2>/dev/null || true
	wait "${churn[$((i - 1))]}" 2>/dev/null || true
done
for i in $(seq 2 2 "$CHURN"); do
	probe_wait "${churn[$((i - 1))]}" "churn-$i" 0
done
wait_until 10 "the killed clients to be gone" client_count 1

log "7. a second guest, attached and detached on the control socket"
multi_demo g2 --workload blink
timeout "$(it_limit 10)" "$IT_CTL" -s "$D_CTL" attach g2 "${M_SOCK[g2]}" \
    >"$WORK/attach.out" 2>&1 || fail "attach: $(cat "$WORK/attach.out")"
wait_until 15 "g2 to attach" guest_attached g2
wait_until 5 "g2's VNC port" g2_port
gport=$PORT
PORT=$G2_PORT
probe g2 0 --timeout 10 "$(target)"
timeout "$(it_limit 10)" "$IT_CTL" -s "$D_CTL" detach g2 \
    >"$WORK/detach.out" 2>&1 || fail "detach: $(cat "$WORK/detach.out")"
wait_until 10 "g2 to be gone from the status" g2_gone
PORT=$gport

log "8. provider restart, convergence"
wpid=$(worker_pid)
stop_demo
start_demo --tracker "$tracker" --workload typing
wait_attached 2
[ "$(worker_pid)" = "$wpid" ] ||
    fail "worker $wpid was replaced by $(worker_pid) instead of reattaching"
sleep 1
demo_toggle_freeze
converge_check restart "$W_PID" watch
[ "$(pfield "$WORK/watch.out" resizes)" -ge 2 ] ||
    fail "the watcher saw $(pfield "$WORK/watch.out" resizes) resizes"

log "9. SIGTERM"
stop_daemon
log_has "$D_LOG" '^lfbvncd: stopped$' || fail "lfbvncd did not log its stop"
n=$(grep -l -E '== Command: .*lfbvncd' "$WORK"/vg-*.log 2>/dev/null |
    wc -l)
[ "$n" -ge 3 ] || fail "$n valgrind logs of lfbvncd, want the master's and two workers'"
log "$n lfbvncd processes under valgrind (master, workers)"
