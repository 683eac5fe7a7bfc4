#!/bin/sh
# probe-checks: --compare (right and wrong references, regions, waiting
# for a change) and --wait-pixel against x11vnc.
. "$(dirname "$0")/x11vnc-lib.sh"

fb=$work/fb.raw
"$fbtool" create "$fb" 64 48 || fail "fbtool create"
start_x11vnc "$fb" 64 48
srv=localhost::$port

run_probe 0 --compare "$fb@64x48" "$srv"
run_probe 0 --screenshot "$work/shot.png" "$srv"
run_probe 0 --compare "$work/shot.png" "$srv"
run_probe 0 --compare "$work/shot.png" --region 0,0,64,48 "$srv"

# A reference with one pixel changed: exit 1, and that pixel is named.
cp "$fb" "$work/wrong.raw"
"$fbtool" fill "$work/wrong.raw" 64 5 7 123456 || fail "fbtool fill"
run_probe 1 --compare "$work/wrong.raw@64x48" --timeout 1 --json "$srv"
[ "$(json_field differing)" = 1 ] || fail "differing: $(cat "$work/out")"
[ "$(json_field equal)" = false ] || fail "equal"
grep -q '"x":5,"y":7,"got":"[0-9a-f]*","want":"123456"' "$work/out" ||
	fail "the differing pixel is not listed: $(cat "$work/out")"
run_probe 1 --compare "$work/wrong.raw@64x48" --timeout 1 "$srv"
grep -q '1 pixels differ' "$work/out" || fail "text report: $(cat "$work/out")"
# ... but a region without it is equal.
run_probe 0 --compare "$work/wrong.raw@64x48" --region 10,10,20,20 "$srv"
run_probe 1 --compare "$work/wrong.raw@64x48" --region 0,0,8,8 \
    --timeout 1 "$srv"
# A reference of another size never matches the whole screen.
run_probe 1 --compare "$fb@32x48" --timeout 1 "$srv"

# Waiting: the probe sees a change made after it connected.
cp "$fb" "$work/want.raw"
"$fbtool" fill "$work/want.raw" 64 40 10 00ff00 8 8 || fail "fbtool fill"
(sleep 1; "$fbtool" fill "$fb" 64 40 10 00ff00 8 8) &
bg_pid=$!
run_probe 0 --compare "$work/want.raw@64x48" --timeout 15 "$srv"
wait "$bg_pid"

(sleep 1; "$fbtool" fill "$fb" 64 20 30 ff0000 4 4) &
bg_pid=$!
run_probe 0 --wait-pixel 21,31=ff0000 --wait-pixel 40,10=00ff00 \
    --timeout 15 "$srv"
wait "$bg_pid"
bg_pid=

# A colour that never comes: exit 1 after --timeout.
run_probe 1 --wait-pixel 0,0=abcdef --timeout 1 "$srv"
grep -q 'pixel (0,0) is [0-9a-f]*, want abcdef' "$work/out" ||
	fail "wait-pixel report: $(cat "$work/out")"
run_probe 1 --wait-pixel 100,100=000000 --timeout 1 "$srv"
exit 0
