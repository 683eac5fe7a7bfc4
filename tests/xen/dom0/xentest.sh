#!/bin/bash
# The in-dom0 driver of the Xen end-to-end test, run by xentest-init from the
# payload disk (mounted at /xentest).  Everything it reports to the host is a
# console line starting "XENTEST " (the host reads the console log); the last
# one is "XENTEST RESULT PASS" or "XENTEST RESULT FAIL <why>".
#
# Steps:
#   1. check Xen (xl info: hvm + hap);
#   2. create the test guest from /etc/xen/xentest.cfg (lfbvnc = 1 and
#      lfbvnc_mode, which the daemon will read), its COM1 on a pty whose
#      output is logged to /var/log/xentest/guest-serial.log;
#   3. wait for the guest's "LFBGUEST ready";
#   4. the dom0-side check.  For now the stand-in, dirtyvram-check test:
#      what lfbvncd's Xen backend will do, checked against the guest's
#      deterministic drawing.  To test the daemon instead: start lfbvncd
#      here (its init script), and make the checks the host's
#      (lfbvnc-probe through the forwarded port, see the host phase);
#   5. the host phase (XENTEST_HOST_PHASE=1 in /xentest/params): print
#      "XENTEST HOST-PHASE BEGIN", then serve commands from the host on the
#      virtio-serial port "xentest.rpc" until the host sends FINISH (see
#      rpc_serve; the host side is run-e2e.sh's dom0_run), so the host can
#      run lfbvncctl (or anything) in dom0 while it tests through the
#      forwarded ports.
#
# /xentest/params (shell assignments, written by run-e2e.sh):
#   XENTEST_MODE       lfbvnc_mode of the guest, WxHx32 (default 1024x768x32)
#   XENTEST_WORKLOAD   the guest's initial workload (default 0, idle)
#   XENTEST_HOST_PHASE 1: serve the host after the checks
#   XENTEST_READY_TIMEOUT  seconds to wait for the guest (default 600)
export PATH=/xentest/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

XENTEST_MODE=1024x768x32
XENTEST_WORKLOAD=0
XENTEST_HOST_PHASE=0
XENTEST_READY_TIMEOUT=600
XENTEST_HOST_TIMEOUT=600
[ -r /xentest/params ] && . /xentest/params

LOGDIR=/var/log/xentest
GUEST=xentest
mkdir -p "$LOGDIR" /var/lib/xentest

say() { echo "XENTEST $(cut -d' ' -f1 /proc/uptime) $*"; }
fail() {
	say "RESULT FAIL $*"
	say "---- xl dmesg (tail)"
	xl dmesg 2>&1 | tail -n 30 | sed 's/^/XENTEST | /'
	say "---- guest serial (tail)"
	tail -n 20 "$LOGDIR/guest-serial.log" 2>/dev/null | sed 's/^/XENTEST | /'
	say "---- qemu-dm log (tail)"
	tail -n 20 /var/log/xen/qemu-dm-$GUEST.log 2>/dev/null | sed 's/^/XENTEST | /'
	exit 1
}

# ------------------------------------------------------------ 1. Xen
say "==== xl info"
info=$(xl info 2>&1) || fail "xl info: $info"
caps=$(echo "$info" | sed -n 's/^virt_caps *: *//p')
say "virt_caps: $caps; $(echo "$info" | grep -E '^xen_version')"
case " $caps " in *" hvm "*) ;; *) fail "no HVM support (virt_caps: $caps)" ;; esac
case " $caps " in *" hap "*) ;; *) fail "no HAP (Debian's Xen has no shadow paging)" ;; esac

# ------------------------------------------------------------ 2. the guest
W=${XENTEST_MODE%%x*}
H=${XENTEST_MODE#*x}; H=${H%%x*}
cp /xentest/guest.img /var/lib/xentest/guest.img
# the boot sector's configuration block (tests/xen/guest/pattern.h)
printf "\\$(printf %03o "$XENTEST_WORKLOAD")" |
	dd of=/var/lib/xentest/guest.img bs=1 seek=$((0x1b4)) conv=notrunc status=none
printf "\\$(printf %03o $((W & 255)))\\$(printf %03o $((W >> 8)))\\$(printf %03o $((H & 255)))\\$(printf %03o $((H >> 8)))" |
	dd of=/var/lib/xentest/guest.img bs=1 seek=$((0x1b6)) conv=notrunc status=none

cat >/etc/xen/$GUEST.cfg <<EOF
# The lfbvnc Xen end-to-end test guest (tests/xen/guest).
name = "$GUEST"
type = "hvm"
memory = 64
vcpus = 1
hap = 1
vga = "stdvga"
videoram = 16
vnc = 0
sdl = 0
serial = "pty"
boot = "c"
on_reboot = "destroy"
on_crash = "destroy"
disk = [ "format=raw,vdev=hda,access=rw,backendtype=qdisk,target=/var/lib/xentest/guest.img" ]
vif = [ ]
# for lfbvncd: serve this guest, whose mode is fixed by the guest itself
lfbvnc = 1
lfbvnc_mode = "$XENTEST_MODE"
EOF

say "==== xl create /etc/xen/$GUEST.cfg (lfbvnc_mode $XENTEST_MODE, workload $XENTEST_WORKLOAD)"
out=$(xl create /etc/xen/$GUEST.cfg 2>&1) || fail "xl create: $out"
domid=$(xl domid $GUEST) || fail "no domid"
tty=$(xenstore-read /local/domain/$domid/serial/0/tty 2>/dev/null)
[ -n "$tty" ] || tty=$(xenstore-read /local/domain/$domid/console/tty 2>/dev/null)
[ -c "$tty" ] || fail "no serial pty for domain $domid"
stty -F "$tty" raw -echo
cat "$tty" >"$LOGDIR/guest-serial.log" 2>/dev/null &
catpid=$!
say "guest: domid $domid, COM1 on $tty"

# ------------------------------------------------------------ 3. ready?
t0=$SECONDS
next=30
until grep -q 'LFBGUEST ready' "$LOGDIR/guest-serial.log"; do
	grep -q 'LFBGUEST FAIL' "$LOGDIR/guest-serial.log" &&
		fail "the guest failed: $(grep 'LFBGUEST FAIL' "$LOGDIR/guest-serial.log")"
	xl list $GUEST >/dev/null 2>&1 || fail "the guest is gone"
	if [ $((SECONDS - t0)) -ge "$XENTEST_READY_TIMEOUT" ]; then
		fail "the guest was not ready in $XENTEST_READY_TIMEOUT s"
	fi
	if [ $((SECONDS - t0)) -ge $next ]; then
		# sparingly: xl dmesg slows the guest's firmware down
		say "waiting for the guest ($((SECONDS - t0)) s): $(xl dmesg | grep "(d$domid)" | tail -n 1)"
		next=$((next + 60))
	fi
	sleep 2
done
say "guest ready after $((SECONDS - t0)) s: $(grep 'LFBGUEST ready' "$LOGDIR/guest-serial.log" | tail -n 1 | tr -d '\r')"
bar=$(timeout 120 dirtyvram-check bar $domid) || fail "no VGA BAR from QMP"
say "VGA BAR 0 (QMP): $bar"

# ------------------------------------------------------------ 4. the check
say "==== stand-in check: dirtyvram-check"
timeout 600 dirtyvram-check test $domid "$tty" "$LOGDIR/guest-serial.log" "$XENTEST_MODE"
check_rc=$?
say "dirtyvram-check rc $check_rc"

# ------------------------------------------------------------ 5. the host
# A line protocol on the virtio-serial port named xentest.rpc:
#   host: "RUN <id> <shell command>"   dom0: "OUT <id> <line>"... "END <id> <rc>"
#   host: "FINISH"                     dom0: "BYE", and the phase ends
rpc_port() {
	local p
	for p in /sys/class/virtio-ports/*; do
		[ "$(cat "$p/name" 2>/dev/null)" = xentest.rpc ] && { echo "/dev/${p##*/}"; return 0; }
	done
	return 1
}
rpc_serve() {
	local dev line id cmd rc
	dev=$(rpc_port) || { say "no virtio port xentest.rpc"; return 1; }
	exec 5<>"$dev"
	say "HOST-PHASE BEGIN rpc=$dev domid=$domid"
	while IFS= read -r -t "$XENTEST_HOST_TIMEOUT" line <&5; do
		line=${line%$'\r'}
		case $line in
		"RUN "*)
			line=${line#RUN }
			id=${line%% *}
			cmd=${line#* }
			say "host runs [$id]: $cmd"
			timeout 120 bash -c "$cmd" </dev/null >"$LOGDIR/rpc.out" 2>&1
			rc=$?
			sed "s/^/OUT $id /" "$LOGDIR/rpc.out" >&5
			echo "END $id $rc" >&5
			;;
		FINISH*)
			echo BYE >&5
			say "HOST-PHASE END (host says:${line#FINISH})"
			exec 5>&-
			return 0
			;;
		esac
	done
	say "HOST-PHASE END (no FINISH from the host in $XENTEST_HOST_TIMEOUT s)"
	exec 5>&-
	return 1
}
host_rc=0
if [ "$XENTEST_HOST_PHASE" = 1 ]; then
	# stands in for lfbvncd's VNC and web ports, so the host can check its
	# port forwarding
	dirtyvram-check banner 5900 "XENTEST-BANNER 5900" &
	b1=$!
	dirtyvram-check banner 5800 "XENTEST-BANNER 5800" &
	b2=$!
	rpc_serve || host_rc=1
	kill $b1 $b2 2>/dev/null
fi

xl destroy $GUEST
kill $catpid 2>/dev/null
[ $check_rc -eq 0 ] || fail "dirtyvram-check failed (rc $check_rc)"
[ $host_rc -eq 0 ] || fail "the host phase failed"
say "RESULT PASS"
