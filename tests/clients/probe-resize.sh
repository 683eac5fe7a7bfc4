#!/bin/sh
# probe-resize: x11vnc switches to a bigger framebuffer file while the
# probe waits (x11vnc -remote rawfb:..., through a -connect command file);
# the probe must follow the desktop resize and then match the new file.
. "$(dirname "$0")/x11vnc-lib.sh"

small=$work/small.raw
big=$work/big.raw
"$fbtool" create "$small" 64 48 || fail "fbtool create"
"$fbtool" create "$big" 80 60 || fail "fbtool create"
"$fbtool" fill "$big" 80 70 50 ff00ff 10 10 || fail "fbtool fill"
: >"$work/ctl"
start_x11vnc "$small" 64 48 -connect "$work/ctl"
srv=localhost::$port

(
	sleep 1
	x11vnc -connect "$work/ctl" -remote "rawfb:map:$big@80x60x32" \
	    >/dev/null 2>&1
) &
bg_pid=$!
run_probe 0 --json --compare "$big@80x60" --timeout 20 "$srv"
wait "$bg_pid"
bg_pid=
[ "$(json_field width)" = 80 ] || fail "width: $(cat "$work/out")"
[ "$(json_field height)" = 60 ] || fail "height"
[ "$(json_field resizes)" -ge 1 ] || fail "resizes"
run_probe 0 --screenshot "$work/shot.png" --wait-pixel 79,59=ff00ff "$srv"
"$fbtool" cmp "$work/shot.png" "$big@80x60" || fail "screenshot differs"
exit 0
