#!/bin/bash
# test-exposure.sh - what the network can reach of a worker left at its
# defaults, with the web client on.
#
#  1. Nothing but loopback: every TCP socket the worker listens on (ss,
#     by its pid) is bound to 127.0.0.1, both the RFB and the web port.
#  2. The web server hands out regular files under web-dir only: a file
#     there is served (200); "..", its percent-encoded form, a symbolic
#     link leading out of web-dir, one leading into a sibling directory
#     whose name starts with web-dir's (WEB2 beside WEB), a directory and
#     a missing file all get 404, and no file outside is ever in a reply.
#  3. max-clients 1: with one client connected, a second is turned away
#     (the probe exits 3) and the first keeps being served.
#
# The other exposure rules are proven elsewhere: no password on a
# non-loopback address, and the password file's mode and owner, by
# test-auth.sh and tests/daemon/test-vnc-config; the control socket's
# peer check by tests/daemon/test-control; the worker's confinement by
# test-sandbox.sh (see docs/SECURITY.md).
#
# How it fails: a listener on another address, a file outside web-dir
# served, or a second client let in.  Checked against the on_http() that
# compared the resolved path with web-dir as a string prefix: the link
# into the sibling directory was served (200).
. "$(dirname "$0")/lib.sh"
it_init exposure 60 "$@"

command -v curl >/dev/null 2>&1 || skip "curl is missing"
command -v ss >/dev/null 2>&1 || skip "ss (iproute2) is missing"

web=$WORK/web
mkdir -p "$web/sub"
printf 'inside\n' >"$web/page.html"
printf 'SECRET-OUTSIDE\n' >"$WORK/secret.txt"
ln -s "$WORK/secret.txt" "$web/leak.html"
# A sibling whose name starts with web-dir's: inside by a string prefix,
# outside as a path.
mkdir -p "${web}2"
printf 'SECRET-SIBLING\n' >"${web}2/secret.txt"
ln -s "${web}2/secret.txt" "$web/sibling.html"

start_demo --workload idle
# web-port 0 turns the web client off: a free port instead.
wport=$(free_port)
start_daemon -o web=yes -o "web-port=$wport" -o "web-dir=$web" -o max-clients=1
wait_attached
wpid=$(worker_pid)
[ "$(st web_port)" = "$wport" ] || fail "web port $(st web_port), want $wport"

log "1. listeners"
ss -Hltnp >"$WORK/ss.txt" 2>&1 || fail "ss: $(cat "$WORK/ss.txt")"
grep -E "pid=$wpid," "$WORK/ss.txt" | awk '{ print $4 }' >"$WORK/listen.txt"
[ "$(wc -l <"$WORK/listen.txt")" -eq 2 ] ||
    fail "worker $wpid listens on $(tr '\n' ' ' <"$WORK/listen.txt"), want 2 sockets"
grep -q -x "127.0.0.1:$PORT" "$WORK/listen.txt" || fail "no RFB listener on 127.0.0.1:$PORT"
grep -q -x "127.0.0.1:$wport" "$WORK/listen.txt" || fail "no web listener on 127.0.0.1:$wport"
log "worker $wpid listens on $(tr '\n' ' ' <"$WORK/listen.txt")"

log "2. web-dir"
# get PATH: the HTTP status of GET PATH; the body in $WORK/body.
get() {
	curl -s --path-as-is --max-time 5 -o "$WORK/body" -w '%{http_code}' \
	    "http://127.0.0.1:$wport$1" || echo 000
}
[ "$(get /page.html)" = 200 ] || fail "GET /page.html: not served"
grep -q -x inside "$WORK/body" || fail "GET /page.html: wrong body"
for p in /../secret.txt /%2e%2e/secret.txt /sub/../../secret.txt \
    /leak.html /sibling.html /sub /nothing.html; do
	code=$(get "$p")
	[ "$code" = 404 ] || fail "GET $p: status $code, want 404"
	! grep -q SECRET "$WORK/body" || fail "GET $p: served the file outside web-dir"
done

log "3. max-clients 1"
watcher w1
probe second 3 --timeout 5 "$(target)"
log "second client: $(tail -n 1 "$WORK/second.err")"
alive "$W_PID" || fail "the first client was dropped"
[ "$(st clients)" = 1 ] || fail "$(st clients) clients connected, want 1"
probe_stop "$W_PID" w1
stop_daemon
