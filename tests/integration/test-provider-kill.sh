#!/bin/bash
# test-provider-kill.sh - a provider killed (SIGKILL) while the worker
# scans it as fast as it can: the worker lives on, keeps its clients and
# the last frame, takes the next provider on the same socket, and loses
# nothing of what that one draws; the other guest does not notice.
#
# One daemon scanning at up to 1000 scans a second (max-rate 1000), two
# guests: "busy" (lfbvnc-demo, the fullscreen workload at 240 frames a
# second: every page written all the time; measured alone, the worker
# then makes 226 scans a second, each a GET_DIRTY and a read of every
# page, at 13% of a core: a kill lands inside a scan now and then, not
# every time) and "other" (typing).  A
# probe watches "busy" throughout.  KILLS times: after a random 100..600
# ms of drawing, SIGKILL the demo (no goodbye: its socket hangs up and
# its stale socket file stays), check that the log says "busy: provider
# lost", that the worker's pid is unchanged and the watcher still
# connected; start a new demo on the same socket (another workload, so
# the frame differs from the shadow's) and wait for the worker to attach.
# After the last one the demo freezes: a new probe and the watcher must
# match it pixel for pixel (converge_check), and "other" must too.  The
# time from the new demo's start to the fresh probe's exact frame is
# printed ("converged N ms after the restart").
#
# How it fails: a worker that dies or hangs on a vanished provider (the
# pid check, the attach wait), that stops tracking for good after a
# request failed in flight (the status's tracker is "compare" after the
# kills: checked), or that keeps a stale shadow (the compares fail).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-multi.sh"
it_init provider-kill 60 "$@"
KILLS=${KILLS:-4}

workloads=(fullscreen video scroll drag fullscreen)
multi_demo busy --workload fullscreen --fps 240
multi_demo other --workload typing
multi_daemon busy other -- -o max-rate=1000
wait_until 15 "busy to attach" guest_attached busy
wait_until 15 "other to attach" guest_attached other
use_guest busy
wpid=$(ggf "$(status)" busy pid)
tracker=$(ggf "$(status)" busy tracker)
log "busy: worker $wpid, tracker $tracker"
watcher watch --json

for i in $(seq "$KILLS"); do
	sleep "0.$((RANDOM % 5 + 1))"
	kill -KILL "${M_PID[busy]}"
	wait "${M_PID[busy]}" 2>/dev/null || true
	wait_until 10 "the worker to see the provider gone" \
	    log_has "$D_LOG" ': busy: provider lost' "$i"
	p=$(ggf "$(status)" busy pid)
	[ "$p" = "$wpid" ] || fail "busy: worker $p, not $wpid, after kill $i"
	alive "$W_PID" || fail "the watcher was disconnected at kill $i"
	t0=$(date +%s%N)
	multi_demo busy --workload "${workloads[$i]}" --fps 240
	wait_until 15 "busy to attach again" guest_attached busy $((i + 1))
	log "kill $i: $(grep -E -o 'busy: provider lost: .*' "$D_LOG" | tail -n 1); reattached $((($(date +%s%N) - t0) / 1000000)) ms after the restart"
done
log_has "$D_LOG" 'worker [0-9]+ (killed by signal|exited with)' &&
    fail "a worker died: $(grep -E 'worker [0-9]+ (killed|exited)' "$D_LOG")"
[ "$(ggf "$(status)" busy tracker)" = "$tracker" ] ||
    fail "busy: tracker $(ggf "$(status)" busy tracker) after the kills, was $tracker"

# The last provider's frame, exactly, to a new client and the watcher.
use_guest busy
t1=$(date +%s%N)
demo_toggle_freeze
converge_check busy
log "busy: converged $((($(date +%s%N) - t0) / 1000000)) ms after the restart ($((($(date +%s%N) - t1) / 1000000)) ms after the freeze)"
fb_snapshot "$WORK/last-busy.raw"
guest_quiet busy
probe_stop "$W_PID" watch
same_image "$WORK/watch.png" "$WORK/last-busy.raw@${DW}x${DH}"
[ "$(pfield "$WORK/watch.out" updates)" -gt 0 ] || fail "the watcher got no update"
guest_converge other
log "$KILLS kills: worker $wpid throughout, the watcher and other exact"
