#!/bin/sh
# test-browser.sh - the browser viewer works: lfbvncd serves Debian's noVNC
# and lfbvnc-demo's (idle, frozen) screen; headless Chromium opens the web
# root, which must lead to noVNC connected to the RFB port; noVNC's canvas
# must be close to the demo's framebuffer with noVNC's defaults (JPEG), and
# equal to it pixel for pixel with JPEG off; a pointer move and click, then
# typed keys, sent through the page must change the demo's screen (the
# pointer where it was aimed), and the canvas must then show each new
# frame.  browser.js does the browser's part with playwright-core; here
# the pictures it saves are checked again with imgdiff, against the frames
# it read, and against wrong frames, which must fail; lfbvncd must have
# counted the input events.
#
# Needs chromium, node and novnc (Debian packages), and playwright-core
# from npm: taken from $PLAYWRIGHT_CORE_DIR (a node_modules directory) if
# set, else from tests/thirdparty/node_modules in the build tree, where
# the first run installs it with "npm install" (network needed once; the
# directory is not part of the sources, "make distclean" removes it).
# Skips (77) when one of these is missing or cannot be installed.
#
# LFBVNC_TEST_KEEP=1 keeps the pictures: page-user.png is the page as a
# user sees it, shot-*.png noVNC's canvas, frame*.raw the framebuffer.
. "$(dirname "$0")/lib.sh"

chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] ||
	skip "$chromium is not installed (apt-get install chromium)"
command -v node >/dev/null 2>&1 ||
	skip "node is not installed (apt-get install nodejs)"
[ -f /usr/share/novnc/vnc.html ] ||
	skip "noVNC is not installed (apt-get install novnc)"

# playwright-core: never a browser download, only the library.
pw_spec=${PLAYWRIGHT_CORE_SPEC:-playwright-core@1}
nm_dir=$top_builddir/tests/thirdparty
if [ -n "${PLAYWRIGHT_CORE_DIR:-}" ]; then
	NODE_PATH=$PLAYWRIGHT_CORE_DIR
elif [ -f "$nm_dir/node_modules/playwright-core/package.json" ]; then
	NODE_PATH=$nm_dir/node_modules
else
	[ -z "${LFBVNC_TEST_NO_NPM:-}" ] ||
		skip "playwright-core is not installed, and LFBVNC_TEST_NO_NPM is set"
	command -v npm >/dev/null 2>&1 ||
		skip "playwright-core is not installed and npm is missing (apt-get install npm)"
	echo "installing $pw_spec into $nm_dir/node_modules with npm"
	# Into a directory of our own, then renamed: a run in parallel
	# never sees half an installation.
	tmp=$nm_dir/.npm-$$
	mkdir -p "$tmp" || fail "mkdir $tmp"
	if ! PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 25 npm install \
	    --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund \
	    --fetch-retries=1 --fetch-retry-mintimeout=2000 \
	    --fetch-retry-maxtimeout=5000 --loglevel=error "$pw_spec" \
	    >"$work/npm.log" 2>&1; then
		tail -5 "$work/npm.log"
		rm -rf "$tmp"
		skip "cannot install $pw_spec with npm (no network?)"
	fi
	# (-T: when a parallel run got there first, keep its copy)
	mv -T "$tmp/node_modules" "$nm_dir/node_modules" 2>/dev/null
	rm -rf "$tmp"
	NODE_PATH=$nm_dir/node_modules
	echo "installed in $(since_start) s"
fi
export NODE_PATH
pw_version=$(node -e 'console.log(require("playwright-core/package.json").version)' 2>/dev/null) ||
	skip "playwright-core is not usable from NODE_PATH=$NODE_PATH"
echo "playwright-core $pw_version from $NODE_PATH, $("$chromium" --version 2>/dev/null)"

start_demo idle 800x600
freeze
start_daemon web

# The browser's part: bounded by its own deadline and by timeout(1),
# within what is left of the watchdog's time (an npm install took some).
left=$((limit - 6 - $(elapsed)))
[ $left -ge 15 ] || fail "only $left s left for the browser"
browser_ok=yes
strays=yes
URL=http://127.0.0.1:$web_port/ VNC_PORT=$vnc_port FB=$fb WIDTH=$width \
    HEIGHT=$height DEMO_PID=$demo_pid DEMO_LOG=$work/demo.log OUT=$work \
    CHROMIUM=$chromium DEADLINE_MS=$(((left - 3) * 1000)) \
    timeout "$left" node "$(dirname "$0")/browser.js" \
    >"$work/browser.log" 2>&1 || browser_ok=no
cat "$work/browser.log"
[ $browser_ok = yes ] || fail "browser.js failed"

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
