#!/bin/sh
# test-browser.sh [password] - the browser viewer works: lfbvncd serves
# Debian's noVNC and lfbvnc-demo's (idle, frozen) screen; headless Chromium
# opens the landing URL lfbvncd reports (its listen address and web port
# in lfbvncctl status), which must lead to noVNC connected to the RFB port;
# noVNC's canvas must be close to the demo's framebuffer with noVNC's
# defaults (JPEG), and equal to it pixel for pixel with JPEG off; a pointer
# move and click, then typed keys, sent through the page must change the
# demo's screen (the pointer where it was aimed), and the canvas must then
# show each new frame.  browser.js does the browser's part with
# playwright-core; here the pictures it saves are checked again with
# imgdiff, against the frames it read, and against wrong frames, which
# must fail; lfbvncd must have counted the input events.
#
# With "password" (test-browser-password.sh): the guest has a password
# file, and every page must show noVNC's credentials prompt, into which
# browser.js types the password (it is never in the URL); first a wrong
# one, which noVNC must report refused, with no frame shown (the negative
# control), and lfbvncd must log the refusal.
#
# Needs chromium, node and novnc (Debian packages), and playwright-core
# from npm (see need_browser in lib.sh).  Skips (77) when one of these is
# missing or cannot be installed.
#
# LFBVNC_TEST_KEEP=1 keeps the pictures: page-user.png is the page as a
# user sees it, shot-*.png noVNC's canvas, frame*.raw the framebuffer.
#
# LFBVNC_TEST_PICTURE=FILE: instead of the test, the README's picture of
# the browser viewer (docs/browser-viewer.png): the demo's "typing"
# workload (LFBVNC_TEST_PICTURE_WORKLOAD) at 1024x768, run for a few
# seconds and frozen, shown 1:1 in a window of its size; FILE is written
# once noVNC's canvas equals the framebuffer (checked again here).  FILE
# must be an absolute path (tests run in the build directory):
#   LFBVNC_TEST_PICTURE=$SRC/docs/browser-viewer.png \
#       make check TESTS=tests/thirdparty/test-browser.sh
. "$(dirname "$0")/lib.sh"

need_browser

if [ -n "${LFBVNC_TEST_PICTURE:-}" ]; then
	start_demo "${LFBVNC_TEST_PICTURE_WORKLOAD:-typing}" 1024x768
	# Long enough for the terminal to fill and the windows to settle.
	sleep 6
	freeze
	start_daemon web
	landing_url
	run_browser MODE=picture URL="$url" VNC_PORT="$vnc_port" \
	    FB="$fb" WIDTH="$width" HEIGHT="$height"
	compare "$work/shot-picture.png" \
	    "$work/frame-picture.raw@${width}x${height}" ||
		fail "shot-picture.png (noVNC's canvas) differs from the frame"
	cp "$work/page-picture.png" "$LFBVNC_TEST_PICTURE" ||
		fail "cannot write $LFBVNC_TEST_PICTURE"
	echo "wrote $LFBVNC_TEST_PICTURE ($(wc -c <"$LFBVNC_TEST_PICTURE") octets)"
	exit 0
fi

password='' wrong=''
case ${1:-} in
password)
	password=br0wser-Pw
	wrong=not-the-pw
	printf '%s\n' "$password" >"$work/vnc.pw"
	chmod 600 "$work/vnc.pw"
	set -- -o "password-file=$work/vnc.pw"
	;;
'') ;;
*) fail "usage: test-browser.sh [password]" ;;
esac

start_demo idle 800x600
freeze
start_daemon web "$@"
landing_url
[ "$url" = "http://127.0.0.1:$web_port/" ] ||
	fail "lfbvncd reports the web viewer at $url, not on port $web_port"
if [ -n "$password" ]; then
	grep -q "demo: VNC on 127.0.0.1 port $vnc_port (password)" \
	    "$work/lfbvncd.log" || fail "lfbvncd does not say the guest has a password"
fi

run_browser URL="$url" VNC_PORT="$vnc_port" FB="$fb" WIDTH="$width" \
    HEIGHT="$height" DEMO_PID="$demo_pid" DEMO_LOG="$demo_log" \
    PASSWORD="$password" WRONG_PASSWORD="$wrong"
if [ -n "$password" ]; then
	n=$(grep -c "password check failed" "$work/lfbvncd.log")
	[ "$n" -eq 1 ] ||
		fail "lfbvncd logged $n failed password checks, want 1 (the wrong one)"
	echo "ok: lfbvncd refused the wrong password, and only it"
fi

# The pictures again, with imgdiff.  noVNC's defaults (Tight with JPEG,
# quality 6) make the user's picture close only: mean and per 16x16 block
# errors bounded, most pixels within 16.  The lossless page's pictures
# must be exact.  Each must not match the frame before or after it, nor
# frame1 with a white 32x32 square painted on the background.
lossy="-t 16 -m 3 -p 98 -b 24"
raw=${width}x${height}
# shellcheck disable=SC2086 # $lossy is options
compare "$work/shot-user.png" "$work/frame1.raw@$raw" $lossy ||
	fail "shot-user.png (noVNC's canvas) is not close to frame1"
for n in 1 2 3; do
	compare "$work/shot-exact$n.png" "$work/frame$n.raw@$raw" ||
		fail "shot-exact$n.png (noVNC's canvas) differs from frame$n"
done
cp "$work/frame1.raw" "$work/bad.raw"
y=0
while [ $y -lt 32 ]; do
	tr '\0' '\377' </dev/zero | dd of="$work/bad.raw" bs=1 \
	    seek=$((((height - 150 + y) * width + 20) * 4)) count=128 \
	    conv=notrunc status=none
	y=$((y + 1))
done
for c in "user bad $lossy" "exact1 bad" "exact1 frame2" "exact2 frame1" \
    "exact2 frame3" "exact3 frame2"; do
	# shellcheck disable=SC2086 # split into words on purpose
	set -- $c
	shot=$1 ref=$2
	shift 2
	compare "$work/shot-$shot.png" "$work/$ref.raw@$raw" -q "$@"
	rc=$?
	[ $rc -eq 1 ] ||
		fail "imgdiff $* shot-$shot.png $ref.raw exited $rc, want 1"
	echo "ok: shot-$shot.png does not match $ref${1:+ ($*)}"
done

n=$(status_field input_events)
[ "${n:-0}" -gt 0 ] || fail "lfbvncd counted no input events"
echo "ok: lfbvncd counted $n input events"
echo "passed in $(since_start) s"
exit 0
