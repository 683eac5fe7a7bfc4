#!/bin/sh
# test-gateway.sh - lfbvncd behind one websockify gateway routing by token
# (docs/GATEWAY.md): two lfbvnc-demo guests (the idle desktop and the
# typing terminal, both 800x600, frozen) served by one lfbvncd on two RFB
# ports; Debian's websockify on one port, with noVNC (--web) and a token
# file naming each guest's port (--token-plugin TokenFile).  Headless
# Chromium opens noVNC from the gateway with path "websockify?token=T"
# for each token in turn (browser.js, MODE=gateway): with JPEG off, the
# canvas must equal its own guest's framebuffer pixel for pixel, and not
# the other's; here imgdiff checks the same pictures again, each against
# both frames.  A token missing from the file must not connect (noVNC
# shows the failure, websockify logs the unknown token), and lfbvncd must
# have served each guest one client through the gateway.
#
# Needs what test-browser.sh needs, and websockify (python3-websockify).
# Skips (77) without them.  LFBVNC_TEST_KEEP=1 keeps the pictures.
. "$(dirname "$0")/lib.sh"

command -v websockify >/dev/null 2>&1 ||
	skip "websockify is not installed (apt-get install python3-websockify)"
need_browser

# Two pictures: the typing terminal needs a moment to show text.
start_demo idle 800x600 desk
freeze
fb_desk=$fb
start_demo typing 800x600 term
sleep 1
freeze
fb_term=$fb
start_daemon desk term
port_desk=$(status_field vnc_port desk)
port_term=$(status_field vnc_port term)

# Token names need not be guest names: the token file is the only map.
cat >"$work/tokens" <<EOF
# token: host:port (websockify's TokenFile)
vm-desk: 127.0.0.1:$port_desk
vm-term: 127.0.0.1:$port_term
EOF

# websockify on a port picked here, retried when it is taken.
try=0
gw_port=
while [ $try -lt 5 ]; do
	port=$((20000 + ($$ * 11 + try * 347 + 5000) % 20000))
	PYTHONUNBUFFERED=1 websockify --web /usr/share/novnc \
	    --token-plugin TokenFile --token-source "$work/tokens" \
	    "127.0.0.1:$port" >"$work/websockify.log" 2>&1 &
	gw_pid=$!
	other_pids="$other_pids $gw_pid"
	# It says so once it listens.
	wait_for 10 sh -c "grep -q 'proxying from 127.0.0.1:$port' \
	    '$work/websockify.log' || ! kill -0 $gw_pid 2>/dev/null"
	if kill -0 "$gw_pid" 2>/dev/null &&
	    grep -q "proxying from 127.0.0.1:$port" "$work/websockify.log"; then
		gw_port=$port
		break
	fi
	grep -q "in use" "$work/websockify.log" ||
		fail "websockify did not start"
	wait "$gw_pid" 2>/dev/null
	try=$((try + 1))
done
[ -n "$gw_port" ] || fail "websockify: no free port after $try tries"
echo "websockify: pid $gw_pid, port $gw_port; vm-desk -> $port_desk," \
    "vm-term -> $port_term"

run_browser MODE=gateway URL="http://127.0.0.1:$gw_port/" WIDTH="$width" \
    HEIGHT="$height" GUESTS="vm-desk=$fb_desk vm-term=$fb_term" \
    UNKNOWN_TOKEN=vm-none

raw=${width}x${height}
for t in desk term; do
	compare "$work/shot-vm-$t.png" "$work/frame-vm-$t.raw@$raw" ||
		fail "shot-vm-$t.png (noVNC's canvas) differs from $t's frame"
done
for c in "desk term" "term desk"; do
	# shellcheck disable=SC2086 # split into words on purpose
	set -- $c
	compare "$work/shot-vm-$1.png" "$work/frame-vm-$2.raw@$raw" -q
	rc=$?
	[ $rc -eq 1 ] ||
		fail "imgdiff shot-vm-$1.png frame-vm-$2.raw exited $rc, want 1"
	echo "ok: shot-vm-$1.png does not match $2's frame"
done
grep -q "Token 'vm-none' not found" "$work/websockify.log" ||
	fail "websockify did not refuse the unknown token"
echo "ok: websockify refused the unknown token"
for g in desk term; do
	n=$(status_field clients_total $g)
	[ "${n:-0}" -eq 1 ] ||
		fail "lfbvncd served $g ${n:-no} clients, want 1 (the gateway's)"
done
echo "ok: lfbvncd served each guest one client"
echo "passed in $(since_start) s"
exit 0
