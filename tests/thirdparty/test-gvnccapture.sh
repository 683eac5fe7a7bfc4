#!/bin/sh
# test-gvnccapture.sh - a VNC client we did not write takes a correct
# picture: gtk-vnc's gvnccapture (Debian package gvncviewer; no display
# needed, it only uses gdk-pixbuf) connects to lfbvncd serving lfbvnc-demo
# and writes a PNG, which must equal the demo's framebuffer pixel for pixel.
#
# The demo draws the "mix" workload (text, a clock, a small video) and is
# frozen (SIGUSR2) for each capture.  Two frames are captured, one before
# and one after letting the demo run a while: each must match its own
# frame and differ from the other (so the comparison can fail, and the
# second picture shows lfbvncd followed the change).
. "$(dirname "$0")/lib.sh"

command -v gvnccapture >/dev/null 2>&1 ||
	skip "gvnccapture is not installed (apt-get install gvncviewer)"

start_demo mix 800x600
freeze
start_daemon
# gvnccapture takes HOST:DISPLAY only, the port being 5900 + DISPLAY.
[ "$vnc_port" -ge 5900 ] ||
	fail "ephemeral RFB port $vnc_port < 5900: gvnccapture cannot use it"
display=$((vnc_port - 5900))

# capture NAME REF: gvnccapture into $work/NAME.png until it equals REF
# (3 tries a second apart: lfbvncd may not have scanned the last frame).
capture() {
	cp_try=1
	while :; do
		rm -f "$work/$1.png"
		timeout 20 gvnccapture "127.0.0.1:$display" "$work/$1.png" \
		    >"$work/gvnccapture.log" 2>&1 ||
			fail "gvnccapture exited $?: $(cat "$work/gvnccapture.log")"
		[ -s "$work/$1.png" ] || fail "gvnccapture wrote no $1.png"
		if compare "$work/$1.png" "$2"; then
			echo "ok: $1.png equals the framebuffer (try $cp_try," \
			    "$(since_start) s)"
			return 0
		fi
		[ $cp_try -ge 3 ] &&
			fail "gvnccapture's $1.png differs from the framebuffer"
		cp_try=$((cp_try + 1))
		sleep 1
	done
}

snapshot frame1
capture shot1 "$work/frame1.raw@${width}x${height}"

# A later frame: the clock and the video have moved on.
thaw
sleep 1.2
freeze
snapshot frame2
if compare "$work/frame1.raw@${width}x${height}" \
    "$work/frame2.raw@${width}x${height}" >/dev/null; then
	fail "the demo drew the same frame after 1.2 s"
fi
capture shot2 "$work/frame2.raw@${width}x${height}"

# The comparison can fail: each picture against the other frame.
for pair in "shot1 frame2" "shot2 frame1"; do
	# shellcheck disable=SC2086 # split into words on purpose
	set -- $pair
	compare "$work/$1.png" "$work/$2.raw@${width}x${height}" -q
	rc=$?
	[ $rc -eq 1 ] || fail "imgdiff $1.png $2.raw exited $rc, want 1"
	echo "ok: $1.png differs from $2"
done
echo "passed in $(since_start) s"
exit 0
