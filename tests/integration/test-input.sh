#!/bin/bash
# test-input.sh - keys and pointer moves from a VNC client reach the
# guest, and what the guest draws in answer reaches the clients.
#
# The idle workload (nothing moves by itself), a probe connected
# throughout.  With the screen unchanged since its first frame:
#   1. a probe types a line of text: the demo's framebuffer must change
#      (read through /proc/PID/fd; the terminal draws the characters);
#   2. a probe moves the pointer to X,Y and waits (--wait-pixel) for the
#      arrow's white fill pixel at X+1,Y+2 (providers/demo/render.c,
#      ptr_art), which was not white before; the provider's framebuffer
#      must show it too, and the outline pixel X,Y must be black;
#   3. the demo freezes and converge_check compares a new probe and the
#      probe connected all along with the frozen framebuffer.
# The counters show the input went through the daemon (input_events).
#
# How it fails: input not forwarded (the framebuffer never changes, the
# arrow never appears: timeouts), forwarded to the wrong place (wrong
# pixels), or the guest's answer not scanned (the compare fails).
# Checked against a build whose on_pointer() drops the event (fails at
# step 2) and whose on_key() drops it (fails at step 1).
. "$(dirname "$0")/lib.sh"
it_init input 40 "$@"

start_demo --workload idle
start_daemon
wait_attached
watcher watch
fb_snapshot "$WORK/before.raw"

log "1. typing"
text='lfbvnc says hello 0123456789'
probe type 0 --timeout 10 --type "$text" --send-key Return "$(target)"
wait_until 10 "the demo to draw the typed text" fb_changed "$WORK/before.raw"
fb_snapshot "$WORK/typed.raw"
log "the framebuffer changed in $(cmp -l "$WORK/before.raw" "$WORK/typed.raw" | wc -l) octets"

log "2. pointer"
px=
for xy in 400,300 600,200 200,500 800,400 300,120; do
	x=${xy%,*} y=${xy#*,}
	if [ "$(fb_pixel "$WORK/typed.raw" "$DW" $((x + 1)) $((y + 2)))" != ffffff ]; then
		px=$xy
		break
	fi
done
[ -n "$px" ] || fail "no spot for the pointer that is not white already"
x=${px%,*} y=${px#*,}
probe pointer 0 --timeout 10 --send-pointer "$x,$y" \
    --wait-pixel "$((x + 1)),$((y + 2))=ffffff" --wait-pixel "$x,$y=000000" \
    "$(target)"
demo_toggle_freeze
fb_snapshot "$WORK/after.raw"
[ "$(fb_pixel "$WORK/after.raw" "$DW" $((x + 1)) $((y + 2)))" = ffffff ] ||
    fail "the demo's framebuffer has no arrow at $x,$y"
[ "$(fb_pixel "$WORK/after.raw" "$DW" "$x" "$y")" = 000000 ] ||
    fail "the arrow's outline is not at $x,$y"
log "the arrow is at $x,$y (was $(fb_pixel "$WORK/typed.raw" "$DW" $((x + 1)) $((y + 2))) at $((x + 1)),$((y + 2)))"

log "3. convergence"
converge_check input "$W_PID" watch
S=$(status)
gt "$(gfield "$S" input_events)" "${#text}" ||
    fail "the daemon counted $(gfield "$S" input_events) input events"
log "input events counted: $(gfield "$S" input_events)"
