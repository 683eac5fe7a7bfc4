#!/bin/sh
# probe-latency: the probe decodes latency markers (common/marker.h) that
# the test writes into x11vnc's framebuffer file.  No timing assertion:
# only that samples arrive and are plausible.
. "$(dirname "$0")/x11vnc-lib.sh"

fb=$work/fb.raw
"$fbtool" create "$fb" 64 48 || fail "fbtool create"
# A marker already there when the probe connects is not a sample.
"$fbtool" marker "$fb" 64 8 16 || fail "fbtool marker"
start_x11vnc "$fb" 64 48
srv=localhost::$port

run_probe 0 --latency 8,16 --duration 0.5 --json "$srv"
lat=$(json_object latency_ms)
case $lat in
'"count":0,'*) ;;
*) fail "a stale marker was sampled: $lat" ;;
esac

# Markers every 50 ms while the probe runs for 4 s.
(
	sleep 0.5
	i=0
	while [ $i -lt 50 ]; do
		"$fbtool" marker "$fb" 64 8 16
		sleep 0.05
		i=$((i + 1))
	done
) &
bg_pid=$!
run_probe 0 --latency 8,16 --duration 4 --json "$srv"
wait "$bg_pid"
bg_pid=
lat=$(json_object latency_ms)
echo "latency: $lat"
count=$(echo "$lat" | sed -n 's/.*"count":\([0-9]*\).*/\1/p')
max=$(echo "$lat" | sed -n 's/.*"max":\([0-9]*\).*/\1/p')
min=$(echo "$lat" | sed -n 's/.*"min":\([0-9]*\).*/\1/p')
[ "${count:-0}" -gt 0 ] || fail "no latency samples: $(cat "$work/out")"
[ "${count:-0}" -le 50 ] || fail "more samples than markers: $count"
# Sane: not negative, below 10 s.
[ -n "$min" ] && [ "$min" -ge 0 ] || fail "min latency $min"
[ -n "$max" ] && [ "$max" -lt 10000 ] || fail "max latency $max ms"

# The text report has the percentiles too.
run_probe 0 --latency 8,16 --duration 0.3 "$srv"
grep -q '^latency: count' "$work/out" || fail "text: $(cat "$work/out")"
exit 0
