#!/bin/sh
# probe-basic: lfbvnc-probe against x11vnc serving a raw framebuffer file.
# The screenshot must equal the file's pixels exactly, in every lossless
# encoding; input events, JSON, usage and connection errors.
. "$(dirname "$0")/x11vnc-lib.sh"

fb=$work/fb.raw
"$fbtool" create "$fb" 64 48 || fail "fbtool create"
start_x11vnc "$fb" 64 48
srv=localhost::$port

# Screenshot: PNG checked with the probe's reader, PPM byte for byte
# against the file (a check that does not use our image readers).
run_probe 0 --screenshot "$work/shot.png" "$srv"
"$fbtool" cmp "$work/shot.png" "$fb@64x48" || fail "PNG screenshot differs"
run_probe 0 --screenshot "$work/shot.ppm" --format rgb32 "vnc://localhost:$port"
"$fbtool" ppm "$fb" 64 48 >"$work/want.ppm" || fail "fbtool ppm"
cmp "$work/shot.ppm" "$work/want.ppm" || fail "PPM screenshot differs"

for enc in raw zrle hextile zlib zlibhex tight trle copyrect,raw; do
	run_probe 0 --encoding "$enc" --compare "$fb@64x48" "$srv"
done

# JSON, and a run with input events (x11vnc -rawfb drops them).
run_probe 0 --json --duration 0.3 "$srv"
[ "$(json_field width)" = 64 ] || fail "json width: $(cat "$work/out")"
[ "$(json_field height)" = 48 ] || fail "json height"
[ "$(json_field connected)" = true ] || fail "json connected"
[ "$(json_field exit)" = 0 ] || fail "json exit"
case $(json_field bytes_first_update) in
[1-9]*) ;;
*) fail "json bytes_first_update: $(cat "$work/out")" ;;
esac
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import json, sys; json.load(sys.stdin)' <"$work/out" ||
		fail "--json output is not JSON"
fi
run_probe 0 --send-key Return --send-key Control_L+c --type "hi there" \
    --send-pointer 3,4,1 --send-pointer 3,4 --duration 0.2 "$srv"

# Updates are counted while the file changes.
(
	i=0
	while [ $i -lt 40 ]; do
		"$fbtool" fill "$fb" 64 0 $((i % 48)) $(printf '%02x0000' $((i * 6))) 64 1
		sleep 0.05
		i=$((i + 1))
	done
) &
bg_pid=$!
run_probe 0 --json --updates 3 --timeout 20 "$srv"
wait "$bg_pid"
bg_pid=
n=$(json_field updates)
[ "${n:-0}" -ge 3 ] || fail "updates $n < 3"
[ "$(json_field rects)" -ge 3 ] || fail "rects"

# No password on this server: an expected refusal does not happen.
run_probe 1 --expect-auth-failure "$srv"

# Usage errors exit 2, connection failures 3.
run_probe 2
run_probe 2 --encoding jpeg "$srv"
run_probe 2 --latency 1,1 "$srv"
run_probe 2 --compare "$work/nonexistent.png" "$srv"
run_probe 2 --region 1,1,2,2 "$srv"
run_probe 2 --format bgr16 "$srv"
run_probe 2 "host:notaport"
run_probe 3 --timeout 2 localhost::1
exit 0
