#!/bin/bash
# test-ctlflood.sh - a flooded control socket: the master refuses what is
# over its limits, never blocks, leaks nothing, answers a normal
# "lfbvncctl status" right after the flood, and the guest's clients do
# not notice.
#
# One guest (typing), a probe watching it throughout.  Then, against the
# control socket (daemon/control.h: CONTROL_MAX_CONN 16 at once, a 5 s
# deadline for a request, CONTROL_LINE_MAX 4096):
#   1. ctl-flood holds 64 idle connections: 16 are taken, the others
#      are refused at once ("too many connections" in the log), or take
#      the slot of one of the holder's own connections once it is older
#      than CONTROL_EVICT_MS; meanwhile lfbvncctl status must be
#      answered within 2 s: it takes the slot of the oldest held
#      connection ("connection closed after ... to admit" in the log;
#      the holder is told "evicted"); the 15 held connections left time
#      out after the 5 s deadline ("no request in time" 15 times), and
#      a probe gets updates from the guest throughout (the worker does
#      not depend on the master's loop).  Once the holder is done, a
#      status must be answered within 2 s.
#   2. ctl-flood mix: FLOOD (3000) connections from 64 threads (most
#      refused), then from 8 (under the limit: nearly every one read and
#      parsed, fewer than 5% refused): valid
#      requests, binary garbage, 64 KiB without a newline, a 5000-octet
#      line, unknown commands, detach of a guest that does not exist,
#      requests ended by shutdown, half words, bare connects.  Every
#      connection that waits for it must get a reply (no reply 0: none is
#      dropped without an answer) within the flood's 60 s.  Right after,
#      a normal status must be answered within 2 s, and a detach of a
#      real guest was never done (the guest is still there).
# Finally the master's descriptors are back to their count before the
# floods (within 10 s: the last replies' deadlines), its VmRSS grew by
# less than RSS_GROWTH_MB (16 MiB; 128 under sanitizers or valgrind), the
# master and worker are the same processes, and the frozen frame reaches
# a new probe and the watcher pixel for pixel (converge_check).
#
# How it fails: a master that blocks on one peer (a read without a
# deadline: the status after the hold times out), that queues instead of
# refusing (descriptors or memory grow), that crashes on a bad request
# (the pid check), or that leaks a connection (the descriptor count).
# Checked against a build whose control_new_conn() skips the
# CONTROL_MAX_CONN check (fails at step 1: with 64 connections held, a
# status is still answered: nothing bounds the connections).
. "$(dirname "$0")/lib.sh"
it_init ctlflood 60 "$@"
FLOODER=$IT_BUILD/tests/integration/ctl-flood
[ -x "$FLOODER" ] || fail "$FLOODER is not built (make check builds it)"
FLOOD=${FLOOD:-3000}
# Measured: the master's VmRSS grew by 0.1 MiB over both floods in the
# plain build, by 33 MiB in the sanitizer build (ASan's quarantine keeps
# what the connections freed, up to 256 MiB), by 27 MiB under valgrind
# (memcheck keeps 20 MB of freed blocks, --freelist-vol).
if grep -q -a -E '__asan_init|__ubsan_handle' "$IT_LFBVNCD" ||
    [ -n "$IT_VALGRIND" ]; then
	: "${RSS_GROWTH_MB:=128}"
else
	: "${RSS_GROWTH_MB:=16}"
fi

start_demo --workload typing
start_daemon
wait_attached
wpid=$(worker_pid)
watcher watch --json
nfd() { ls "/proc/$D_PID/fd" | wc -l; }
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$D_PID/status"; }
fd0=$(nfd)
rss0=$(rss)
log "master $D_PID: $fd0 descriptors, VmRSS $rss0 kB"

# ms COMMAND...: run it, print how long it took in ms (its status kept).
ms() {
	local t0 rc=0
	t0=$(date +%s%N)
	"$@" >"$WORK/ms.out" 2>&1 || rc=$?
	echo $((($(date +%s%N) - t0) / 1000000))
	return $rc
}

# 1. Idle connections hold every slot.
bg hold "$FLOODER" "$D_CTL" hold 64
hold_pid=$BG_PID
wait_until 10 "the holder's connections" log_has "$WORK/hold.log" '^holding '
sleep 0.3	# every held connection is now older than CONTROL_EVICT_MS
t=$(ms timeout 10 "$IT_CTL" -s "$D_CTL" status) ||
    fail "status refused while connections are held: $(cat "$WORK/ms.out")"
[ "$t" -lt 2000 ] || fail "the status during the hold took $t ms"
log "status during the hold: answered in $t ms"
probe during 0 --timeout 10 --updates 5 "$(target)"
wait "$hold_pid" || fail "ctl-flood hold failed: $(cat "$WORK/hold.log")"
log "$(tail -n 1 "$WORK/hold.log")"
held=$(sed -n 's/^hold: 64 connections: timeout \([0-9]*\), refused \([0-9]*\), other \([0-9]*\), no reply 0, still open 0$/\1 \2 \3/p' \
    "$WORK/hold.log")
[ -n "$held" ] || fail "unexpected answers to the held connections"
read -r n_timeout n_refused n_other <<EOF_HELD
$held
EOF_HELD
evicted=$(grep -c 'control: uid [0-9]* pid [0-9]*: connection closed after [0-9]* ms without a request, to admit' "$D_LOG")
# Root has no per-user limit: 16 slots, one of them given up to the
# status; another user has 8 (CONTROL_MAX_PER_UID) and leaves the status
# a free slot.  "other" is the holder's evicted connections.
if [ "$(id -u)" = 0 ]; then
	[ "$n_timeout" = 15 ] && [ "$n_other" = "$evicted" ] &&
	    [ "$evicted" -ge 1 ] &&
	    [ $((n_timeout + n_refused + n_other)) = 64 ] ||
	    fail "unexpected answers to the held connections ($evicted evicted)"
else
	[ "$held" = "8 56 0" ] ||
	    fail "unexpected answers to the held connections"
fi
t=$(ms timeout 10 "$IT_CTL" -s "$D_CTL" status) ||
    fail "no status after the hold: $(cat "$WORK/ms.out")"
[ "$t" -lt 2000 ] || fail "the status after the hold took $t ms"
log "status after the hold: answered in $t ms"
wait_until 5 "the deadlines in the log" \
    log_has "$D_LOG" 'control: uid [0-9]+ pid [0-9]+: no request in time' "$n_timeout"
log_has "$D_LOG" 'control: uid [0-9]+ pid [0-9]+: too many connections' "$n_refused" ||
    fail "the refusals are not in the log"

# 2. Everything at once: 64 threads (most refused), then 8 (under the
# limit: every request is read and parsed, none refused).
for th in 64 8; do
	t0=$(date +%s%N)
	timeout 60 "$FLOODER" "$D_CTL" mix "$FLOOD" "$th" "$RANDOM" \
	    >"$WORK/mix-$th.log" 2>&1 ||
	    fail "ctl-flood mix: $(cat "$WORK/mix-$th.log")"
	log "$th threads: $(cat "$WORK/mix-$th.log") in $((($(date +%s%N) - t0) / 1000000)) ms"
	grep -q -E '^mix: .* no reply 0,' "$WORK/mix-$th.log" ||
	    fail "connections went without a reply"
done
# A peer's slot is freed when the master reads its EOF, so a thread's
# next connection may find a few closed ones still counted: a few
# refusals, not more.
r=$(sed -n 's/^mix: .*(refused \([0-9]*\)).*/\1/p' "$WORK/mix-8.log")
[ -n "$r" ] && [ "$r" -lt $((FLOOD / 20)) ] ||
    fail "$r refusals with 8 connections at a time"
t=$(ms timeout 10 "$IT_CTL" -s "$D_CTL" status) ||
    fail "no status after the flood: $(cat "$WORK/ms.out")"
[ "$t" -lt 2000 ] || fail "the status after the flood took $t ms"
log "status after the flood: answered in $t ms"

alive "$D_PID" || fail "the master died"
[ "$(worker_pid)" = "$wpid" ] || fail "the worker changed"
wait_until 10 "the master's descriptors back to $fd0" eval '[ "$(nfd)" -le "$fd0" ]'
rss1=$(rss)
log "master after the floods: $(nfd) descriptors, VmRSS $rss1 kB (was $rss0)"
[ $((rss1 - rss0)) -lt $((RSS_GROWTH_MB * 1024)) ] ||
    fail "the master's VmRSS grew by $((rss1 - rss0)) kB (bound $RSS_GROWTH_MB MiB)"
demo_toggle_freeze
converge_check ctlflood "$W_PID" watch
log "the guest converged; master $D_PID and worker $wpid throughout"
