#!/bin/sh
# probe-auth: VNC authentication against x11vnc -rfbauth.  The right
# password connects; a wrong or missing one exits 3, and
# --expect-auth-failure turns a refusal into success.
. "$(dirname "$0")/x11vnc-lib.sh"

x11vnc -storepasswd s3cret "$work/passwd" >/dev/null 2>&1 ||
	fail "x11vnc -storepasswd"
fb=$work/fb.raw
"$fbtool" create "$fb" 32 16 || fail "fbtool create"
start_x11vnc "$fb" 32 16 -rfbauth "$work/passwd"
srv=localhost::$port
printf 's3cret\n' >"$work/right"
printf 'wrong\n' >"$work/wrong"
unset LFBVNC_PASSWORD

run_probe 0 --password-file "$work/right" --compare "$fb@32x16" "$srv"
# (exported and unset: sh keeps "VAR=x function" assignments unspecified)
export LFBVNC_PASSWORD=s3cret
run_probe 0 --compare "$fb@32x16" "$srv"
unset LFBVNC_PASSWORD
run_probe 3 --password-file "$work/wrong" "$srv"
grep -q 'authentication failed' "$work/err" || fail "no reason given"
run_probe 0 --password-file "$work/wrong" --expect-auth-failure --json "$srv"
[ "$(json_field auth_refused)" = true ] || fail "json: $(cat "$work/out")"
run_probe 3 "$srv"
run_probe 1 --password-file "$work/right" --expect-auth-failure "$srv"
# The file wins over the environment.
export LFBVNC_PASSWORD=s3cret
run_probe 3 --password-file "$work/wrong" "$srv"
unset LFBVNC_PASSWORD
run_probe 0 --password-file "$work/right" "$srv"
exit 0
