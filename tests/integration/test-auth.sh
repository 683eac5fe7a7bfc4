#!/bin/bash
# test-auth.sh - the VNC password and the listener's safety rules.
#
#  1. password-file of mode 600: the right password connects (the log
#     says "(password)"); a wrong one is refused (probe
#     --expect-auth-failure exits 0; without it the probe exits 3); no
#     password at all is refused (3).
#  2. the same file with mode 644: the guest refuses to start (log line
#     "is accessible by group or others"), nothing listens on its port
#     (the probe exits 3, connection refused).
#  2b. the same file, mode 600 but owned by nobody (as root): refused
#     likewise ("is owned by uid 65534, not by root or the daemon's
#     user"): whoever owns the file chooses who gets in.
#  3. listen=0.0.0.0 without a password: refused ("refusing to listen on
#     0.0.0.0 without a password"), nothing listens.
#  4. listen=0.0.0.0 with unsafe-no-auth=yes: served, no password asked
#     (connect through 127.0.0.1).
#
# How it fails: any of the refusals not happening (a probe connects where
# it must not: exit 0 instead of 3), or a right password refused.
# Checked against a build whose read_password() skips the mode check
# (case 2 fails: no refusal, the guest serves), one whose read_password()
# skips the owner check (case 2b fails likewise) and one where
# vnc_config_check() ignores the listen address (case 3 fails likewise).
. "$(dirname "$0")/lib.sh"
it_init auth 50 "$@"
unset LFBVNC_PASSWORD

password_files

start_demo --workload idle

log "1. password file, mode 600"
start_daemon -o "password-file=$pw"
wait_attached
log_has "$D_LOG" "VNC on 127.0.0.1 port $PORT \\(password\\)" ||
    fail "the log does not say the guest has a password"
probe right 0 --password-file "$pw" "$(target)"
probe wrong-expected 0 --password-file "$wrong" --expect-auth-failure "$(target)"
probe wrong 3 --password-file "$wrong" "$(target)"
grep -q -i 'auth' "$WORK/wrong.err" || fail "no authentication error: $(cat "$WORK/wrong.err")"
probe nopw 3 --timeout 5 "$(target)"
grep -q 'asks for a password' "$WORK/nopw.err" || fail "no password: $(cat "$WORK/nopw.err")"
stop_daemon

log "2. password file, mode 644"
chmod 644 "$pw"
port=$(free_port)
start_daemon -o "password-file=$pw" -o "port=$port"
wait_until 10 "the refusal in the log" \
    log_has "$D_LOG" "password file $pw is accessible by group or others \\(mode 644\\)"
PORT=$port
probe refused-644 3 --timeout 3 --password-file "$pw" "$(target)"
grep -q 'cannot connect' "$WORK/refused-644.err" ||
    fail "mode 644: not refused at connect: $(cat "$WORK/refused-644.err")"
log "refused: $(grep -o 'password file .*' "$D_LOG" | sed -n 1p)"
stop_daemon
chmod 600 "$pw"

log "2b. password file, mode 600, owned by someone else"
if [ "$(id -u)" = 0 ] && nobody=$(id -u nobody 2>/dev/null); then
	chown nobody "$pw"
	port=$(free_port)
	start_daemon -o "password-file=$pw" -o "port=$port"
	wait_until 10 "the refusal in the log" \
	    log_has "$D_LOG" "password file $pw is owned by uid $nobody, not by root or the daemon's user"
	PORT=$port
	probe refused-owner 3 --timeout 3 --password-file "$pw" "$(target)"
	grep -q 'cannot connect' "$WORK/refused-owner.err" ||
	    fail "owned by nobody: not refused at connect: $(cat "$WORK/refused-owner.err")"
	log "refused: $(grep -o 'password file .* is owned.*' "$D_LOG" | sed -n 1p)"
	stop_daemon
	chown 0 "$pw"
else
	log "not root, or no user nobody: the owner check is not tried"
fi

log "3. listen 0.0.0.0 without a password"
port=$(free_port)
start_daemon -o listen=0.0.0.0 -o "port=$port"
wait_until 10 "the refusal in the log" \
    log_has "$D_LOG" 'refusing to listen on 0\.0\.0\.0 without a password'
PORT=$port
probe refused-any 3 --timeout 3 "$(target)"
grep -q 'cannot connect' "$WORK/refused-any.err" ||
    fail "0.0.0.0: not refused at connect: $(cat "$WORK/refused-any.err")"
log "refused: $(grep -o 'refusing to listen.*' "$D_LOG" | sed -n 1p)"
stop_daemon

log "4. listen 0.0.0.0 with unsafe-no-auth"
start_daemon -o listen=0.0.0.0 -o unsafe-no-auth=yes
wait_attached
[ "$(st listen)" = 0.0.0.0 ] || fail "listening on $(st listen)"
probe any 0 --timeout 10 "$(target)"
stop_daemon
