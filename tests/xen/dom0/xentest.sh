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
#   4. the reference check, dirtyvram-check test: what lfbvncd's Xen
#      backend does, checked from dom0 against the guest's deterministic
#      drawing.  It finishes before lfbvncd starts: Xen keeps one
#      dirty-VRAM range per domain, so the two cannot track at once;
#   5. lfbvncd, the way it is shipped: the unprivileged user "lfbvnc",
#      lfbvncd.conf ("user lfbvnc"), a password file, and the SysV init
#      script with DAEMON_ARGS from /etc/default/lfbvncd (-s: syslog; this
#      dom0 has no syslog daemon, so "dirtyvram-check syslog" writes
#      /dev/log to /var/log/lfbvncd.log).  lfbvncd must discover the guest
#      from /etc/xen/xentest.cfg and serve it on 0.0.0.0:5900 (web 5800);
#   6. the host phase (XENTEST_HOST_PHASE=1 in /xentest/params): print
#      "XENTEST HOST-PHASE BEGIN", then serve commands from the host on the
#      virtio-serial port "xentest.rpc" until the host sends FINISH (see
#      rpc_serve; the host side is run-e2e.sh's dom0_run).  The host checks
#      lfbvncd through the forwarded ports with lfbvnc-probe, and runs
#      lfbvncctl and the like here;
#   7. stop lfbvncd with its init script: no lfbvncd process may be left.
#
# /xentest/params (shell assignments, written by run-e2e.sh):
#   XENTEST_MODE       lfbvnc_mode of the guest, WxHx32 (default 1024x768x32)
#   XENTEST_WORKLOAD   the guest's initial workload (default 0, idle)
#   XENTEST_HOST_PHASE 1: serve the host after the checks
#   XENTEST_READY_TIMEOUT  seconds to wait for the guest (default 600)
#   XENTEST_VNC_PASSWORD   lfbvncd's VNC password for the guest; without one
#                          lfbvncd listens on 127.0.0.1 only (its default)
#   XENTEST_TRAP       1: the hypervisor is hypervisor-patch/'s (the VRAM
#                      trap) with shadow paging: a second guest,
#                      xentest-shadow (hap = 0, port 5901), is served too
export PATH=/xentest/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

XENTEST_MODE=1024x768x32
XENTEST_WORKLOAD=0
XENTEST_HOST_PHASE=0
XENTEST_READY_TIMEOUT=600
XENTEST_HOST_TIMEOUT=600
XENTEST_VNC_PASSWORD=
XENTEST_TRAP=0
[ -r /xentest/params ] && . /xentest/params

LOGDIR=/var/log/xentest
GUEST=xentest
DAEMON_LOG=/var/log/lfbvncd.log
PASSWORD_FILE=/etc/lfbvnc/$GUEST.passwd
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
	if [ -e "$DAEMON_LOG" ]; then
		# repeated lines once, with their count
		say "---- lfbvncd log $DAEMON_LOG ($(wc -l <"$DAEMON_LOG") lines, repeats counted)"
		sed 's/^\[ *[0-9.]*\] [A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]* //' "$DAEMON_LOG" |
			uniq -c | tail -n 80 | sed 's/^/XENTEST | /'
		[ -n "${conf-}" ] && [ -e "$conf" ] && {
			say "---- $conf"
			sed 's/^/XENTEST | /' "$conf"
		}
		say "---- processes, kernel log"
		ps -eo pid,ppid,user,stat,etime,wchan:24,args | grep -E 'lfbvnc|dirtyvram|PID' |
			grep -v grep | sed 's/^/XENTEST | /'
		dmesg | tail -n 15 | sed 's/^/XENTEST | /'
	fi
	exit 1
}

# ------------------------------------------------------------ 1. Xen
say "==== xl info"
info=$(xl info 2>&1) || fail "xl info: $info"
caps=$(echo "$info" | sed -n 's/^virt_caps *: *//p')
say "virt_caps: $caps; $(echo "$info" | grep -E '^xen_version')"
case " $caps " in *" hvm "*) ;; *) fail "no HVM support (virt_caps: $caps)" ;; esac
case " $caps " in *" hap "*) ;; *) fail "no HAP (Debian's Xen has no shadow paging)" ;; esac
if [ "$XENTEST_TRAP" = 1 ]; then
	case " $caps " in *" shadow "*) ;; *) fail "no shadow paging in this hypervisor (virt_caps: $caps)" ;; esac
fi

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
lfbvnc_port = 5900
lfbvnc_web = 1
lfbvnc_web_port = 5800
EOF
if [ -n "$XENTEST_VNC_PASSWORD" ]; then
	# reachable from outside (QEMU forwards to 10.0.2.15): with a password
	mkdir -p /etc/lfbvnc
	(umask 077; printf '%s\n' "$XENTEST_VNC_PASSWORD" >"$PASSWORD_FILE")
	cat >>/etc/xen/$GUEST.cfg <<EOF
lfbvnc_listen = "0.0.0.0"
lfbvnc_passwordfile = "$PASSWORD_FILE"
EOF
fi

# create_guest NAME LOG: xl create /etc/xen/NAME.cfg, its COM1 pty logged
# (appended) to LOG.  Sets cg_domid, cg_tty and cg_catpid.
create_guest() {
	local name=$1 log=$2 out
	out=$(xl create "/etc/xen/$name.cfg" 2>&1) || fail "xl create $name: $out"
	cg_domid=$(xl domid "$name") || fail "no domid for $name"
	cg_tty=$(xenstore-read "/local/domain/$cg_domid/serial/0/tty" 2>/dev/null)
	[ -n "$cg_tty" ] || cg_tty=$(xenstore-read "/local/domain/$cg_domid/console/tty" 2>/dev/null)
	[ -c "$cg_tty" ] || fail "no serial pty for domain $cg_domid"
	stty -F "$cg_tty" raw -echo
	cat "$cg_tty" >>"$log" 2>/dev/null &
	cg_catpid=$!
}

# A guest that is gone before its program printed anything died in its
# firmware (hvmloader, SeaBIOS, the boot sector's load).  Under QEMU's TCG
# that happens now and then, before lfbvncd is started (seen in CI:
# "HVMLoader bug at util.c:894", a BUG_ON in the ACPI allocator reached
# straight from the PCI set-up, i.e. the firmware's own control flow
# corrupted).  Nothing of lfbvnc is involved yet, so such a guest is
# created again, at most FIRMWARE_RETRIES times, each time said in the
# log with what Xen's console said of it.
FIRMWARE_RETRIES=2
# firmware_death DOMID: one line on how DOMID died, from Xen's console
firmware_death() {
	local m
	m=$(xl dmesg 2>/dev/null | grep -E "\\(d$1\\) \\*\\*\\*|domain_crash.*d$1|Domain $1 .*crashed" | head -n 1)
	[ -n "$m" ] || m="last words: $(xl dmesg 2>/dev/null | grep "(d$1)" | tail -n 1)"
	printf '%s\n' "$m" | tr -d '\r'
}

say "==== xl create /etc/xen/$GUEST.cfg (lfbvnc_mode $XENTEST_MODE, workload $XENTEST_WORKLOAD)"
create_guest $GUEST "$LOGDIR/guest-serial.log"
domid=$cg_domid tty=$cg_tty catpid=$cg_catpid
say "guest: domid $domid, COM1 on $tty"

# The shadow-paging guest of the trap run: the same program, hap = 0, its
# own port; created now so that it boots while the first one does.
GUEST2=xentest-shadow
if [ "$XENTEST_TRAP" = 1 ]; then
	cp /var/lib/xentest/guest.img /var/lib/xentest/guest2.img
	sed -e "s/^name = .*/name = \"$GUEST2\"/" -e 's/^hap = 1/hap = 0/' \
	    -e 's/^lfbvnc_port = 5900/lfbvnc_port = 5901/' \
	    -e 's/^lfbvnc_web = 1/lfbvnc_web = 0/' -e '/^lfbvnc_web_port/d' \
	    -e 's|guest.img|guest2.img|' /etc/xen/$GUEST.cfg >/etc/xen/$GUEST2.cfg
	say "==== xl create /etc/xen/$GUEST2.cfg (hap = 0)"
	create_guest $GUEST2 "$LOGDIR/guest2-serial.log"
	domid2=$cg_domid tty2=$cg_tty catpid2=$cg_catpid
	say "guest 2: domid $domid2 (hap = 0), COM1 on $tty2"
fi

# ------------------------------------------------------------ 3. ready?
# wait_ready NAME LOG DOMID-VAR TTY-VAR CATPID-VAR: wait for NAME's
# "LFBGUEST ready" in LOG, creating NAME again if its firmware crashed.
wait_ready() {
	local name=$1 log=$2 d retries=0 next=30
	d=${!3}
	until grep -q 'LFBGUEST ready' "$log"; do
		grep -q 'LFBGUEST FAIL' "$log" &&
			fail "$name failed: $(grep 'LFBGUEST FAIL' "$log")"
		if ! xl list "$name" >/dev/null 2>&1; then
			if ! grep -q LFBGUEST "$log" &&
			    [ $retries -lt $FIRMWARE_RETRIES ]; then
				retries=$((retries + 1))
				say "FIRMWARE-CRASH $name (domid $d) before its program ran: $(firmware_death "$d"); creating it again ($retries of $FIRMWARE_RETRIES)"
				kill "${!5}" 2>/dev/null
				create_guest "$name" "$log"
				d=$cg_domid
				printf -v "$3" %s "$cg_domid"
				printf -v "$4" %s "$cg_tty"
				printf -v "$5" %s "$cg_catpid"
				say "$name: domid $d, COM1 on $cg_tty"
				continue
			fi
			fail "$name is gone"
		fi
		if [ $((SECONDS - t0)) -ge "$XENTEST_READY_TIMEOUT" ]; then
			fail "$name was not ready in $XENTEST_READY_TIMEOUT s"
		fi
		if [ $((SECONDS - t0)) -ge $next ]; then
			# sparingly: xl dmesg slows the guest's firmware down
			say "waiting for $name ($((SECONDS - t0)) s): $(xl dmesg | grep "(d$d)" | tail -n 1)"
			next=$((next + 60))
		fi
		sleep 2
	done
}
t0=$SECONDS
wait_ready $GUEST "$LOGDIR/guest-serial.log" domid tty catpid
say "guest ready after $((SECONDS - t0)) s: $(grep 'LFBGUEST ready' "$LOGDIR/guest-serial.log" | tail -n 1 | tr -d '\r')"
if [ "$XENTEST_TRAP" = 1 ]; then
	wait_ready $GUEST2 "$LOGDIR/guest2-serial.log" domid2 tty2 catpid2
	say "guest 2 ready after $((SECONDS - t0)) s"
fi
bar=$(timeout 120 dirtyvram-check bar $domid) || fail "no VGA BAR from QMP"
say "VGA BAR 0 (QMP): $bar"

# ------------------------------------------------------------ 4. the check
say "==== reference check: dirtyvram-check"
timeout 600 dirtyvram-check test $domid "$tty" "$LOGDIR/guest-serial.log" "$XENTEST_MODE"
check_rc=$?
say "dirtyvram-check rc $check_rc"

# ------------------------------------------------------------ 5. lfbvncd
# The idle workload again, which empties the key slots.  The pointer the
# check moved stays: the host reads where from the guest's serial log.
nwl() { grep -c 'LFBGUEST workload 0' "$LOGDIR/guest-serial.log"; }
n0=$(nwl)
printf '!0' >"$tty"
for _ in $(seq 150); do
	[ "$(nwl)" -gt "$n0" ] && break
	sleep 0.2
done
[ "$(nwl)" -gt "$n0" ] || fail "the guest did not switch back to the idle workload"

say "==== lfbvncd"
# where this build put its files (--prefix, --sysconfdir)
conf=$(lfbvncd -h 2>&1 | sed -n 's/.*configuration (default \(.*\))$/\1/p')
[ -n "$conf" ] || fail "no lfbvncd in dom0 (lfbvncd -h: $(lfbvncd -h 2>&1 | head -n 1))"
initscript=${conf%/lfbvnc/lfbvncd.conf}/init.d/lfbvncd
[ -x "$initscript" ] || fail "no init script $initscript"
# the workers' user, as dist/lfbvnc.sysusers describes it
if ! id lfbvnc >/dev/null 2>&1; then
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --comment "lfbvncd per-guest workers" \
		lfbvnc || fail "cannot create the user lfbvnc"
fi
say "user lfbvnc: $(id lfbvnc)"
mkdir -p "${conf%/*}"
cat >"$conf" <<EOF
# written by tests/xen/dom0/xentest.sh
user lfbvnc
xl-config-dirs "/etc/xen:/etc/xen/auto"
EOF
# no syslog daemon in this dom0: a minimal one for the init script's -s
dirtyvram-check syslog /dev/log "$DAEMON_LOG" &
syslogpid=$!
for _ in $(seq 100); do
	[ -S /dev/log ] && break
	sleep 0.1
done
[ -S /dev/log ] || fail "the syslog receiver did not start"
cat >/etc/default/lfbvncd <<EOF
# written by tests/xen/dom0/xentest.sh: syslog (the default), and verbose
DAEMON_ARGS="-s -v"
EOF
say "init script: $initscript start (configuration $conf, log $DAEMON_LOG)"
out=$("$initscript" start 2>&1) || fail "$initscript start: $out"
say "init script: $out"
# discovered and served: the worker is up with the guest's mode
t0=$SECONDS
until st=$(lfbvncctl --json status 2>/dev/null) &&
	grep -q "\"name\":\"$GUEST\"" <<<"$st" &&
	grep -q '"provider_up":true' <<<"$st" &&
	grep -q "\"width\":$W," <<<"$st"; do
	"$initscript" status >/dev/null || fail "lfbvncd is not running"
	[ $((SECONDS - t0)) -lt 90 ] ||
		fail "lfbvncd did not serve $GUEST in 90 s: $(lfbvncctl status 2>&1 | tr '\n' ' ')"
	if [ $((SECONDS - t0)) -ge "${next:-10}" ]; then
		next=$((SECONDS - t0 + 10))
		say "waiting for lfbvncd ($((SECONDS - t0)) s): $(lfbvncctl status 2>&1 | tr '\n' ' ')"
	fi
	sleep 1
done
say "LFBVNCD serving $GUEST after $((SECONDS - t0)) s"
if [ "$XENTEST_TRAP" = 1 ]; then
	until st=$(lfbvncctl --json status 2>/dev/null) &&
		st=${st#*\"name\":\"$GUEST2\"} &&
		grep -q '"provider_up":true' <<<"$st" &&
		grep -q "\"width\":$W," <<<"$st"; do
		[ $((SECONDS - t0)) -lt 90 ] ||
			fail "lfbvncd did not serve $GUEST2 in 90 s: $(lfbvncctl status 2>&1 | tr '\n' ' ')"
		sleep 1
	done
	say "LFBVNCD serving $GUEST2 after $((SECONDS - t0)) s"
fi
lfbvncctl status 2>&1 | sed 's/^/XENTEST | /'
sed 's/^/XENTEST | /' "$DAEMON_LOG"
# for the host's commands
export XENTEST_TTY=$tty XENTEST_SERIAL_LOG=$LOGDIR/guest-serial.log DAEMON_LOG PASSWORD_FILE
export XENTEST_TTY2=${tty2-} XENTEST_SERIAL_LOG2=$LOGDIR/guest2-serial.log XENTEST_MODE

# xentest_latency N [GUEST PORT TTY SERIAL_LOG STATE] (run by the host): N
# times, with the idle guest and one client (a probe on 127.0.0.1) that
# lfbvncd serves in STATE (backoff; trapped with the patched hypervisor),
# switch the guest to the blink workload and time until the probe sees the
# block's first colour.  Prints "latency I rc RC MS ..." lines.  All in
# dom0: neither the host's RPC channel nor QEMU's port forward is in the
# figure.  Defaults: the first guest, backoff.
xentest_latency() {
	local i n pid rc t0 t1 st g=${2:-xentest} port=${3:-5900}
	local tty=${4:-$XENTEST_TTY} log=${5:-$XENTEST_SERIAL_LOG} want=${6:-backoff}
	for i in $(seq "$1"); do
		n=$(grep -ac 'LFBGUEST workload 0' "$log")
		printf '!0' >"$tty"
		for _ in $(seq 100); do
			[ "$(grep -ac 'LFBGUEST workload 0' "$log")" -gt "$n" ] && break
			sleep 0.1
		done
		lfbvnc-probe --password-file "$PASSWORD_FILE" --timeout 60 \
			--wait-pixel "$((32 + 8)),$((32 + 8))=ffd700" 127.0.0.1::$port >/dev/null 2>&1 &
		pid=$!
		for _ in $(seq 300); do
			st=$(lfbvncctl --json status 2>/dev/null)
			st=${st#*\"name\":\"$g\"}
			st=${st%%\},\{\"name\":*}
			grep -q '"clients":1,' <<<"$st" && grep -q "\"state\":\"$want\"" <<<"$st" && break
			sleep 0.1
		done
		t0=$(date +%s%N)
		printf '!1' >"$tty"
		wait "$pid"
		rc=$?
		t1=$(date +%s%N)
		echo "latency $i rc $rc $(((t1 - t0) / 1000000)) before: $(grep -o '"state":"[a-z-]*"' <<<"$st")"
		sleep 1
	done
	printf '!0' >"$tty"
}
export -f xentest_latency

# xentest_keycycles N GUEST PORT DOMID TTY SERIAL_LOG [STATE] (run by the
# host): no update lost across N trap/wake cycles (STATE trapped, the
# default), or, in the stock run (STATE backoff), the same key presses
# picked up by the backed-off polling, for the same figure.  A watcher client
# stays connected all along, so every later client is served from the
# daemon's shadow, without a scan of its own.  Each cycle: a probe
# connects and waits for the key slots to be exactly what the guest
# should have drawn; once lfbvncd is trapped again, one key press goes to
# the guest through QMP (not through lfbvncd), the guest fills the next
# slot, and only the trap's wake-up can bring that to the probe.  Prints
# "keycycle I rc RC MS trapped-before yes|no" lines, MS from the key to
# the probe's exact frame.
xentest_keycycles() {
	local n=$1 g=$2 port=$3 dom=$4 tty=$5 log=$6 want=${7:-trapped} i k st pid rc t0 t1 was
	local W=${XENTEST_MODE%%x*} H=${XENTEST_MODE#*x} keys=() names=(a s d f g h j k l q w e r t y u)
	local codes=(0x1e 0x1f 0x20 0x21 0x22 0x23 0x24 0x25 0x26 0x10 0x11 0x12 0x13 0x14 0x15 0x16)
	H=${H%%x*}
	k=$(grep -ac 'LFBGUEST workload 0' "$log")
	printf '!0' >"$tty"	# empties the key slots
	for _ in $(seq 100); do
		[ "$(grep -ac 'LFBGUEST workload 0' "$log")" -gt "$k" ] && break
		sleep 0.1
	done
	lfbvnc-probe --password-file "$PASSWORD_FILE" --timeout 60 --duration 600 \
		127.0.0.1::$port >/dev/null 2>&1 &
	local watcher=$!
	for i in $(seq 0 $((n - 1))); do
		keys+=(--key "${codes[i % 16]}")
		xen-frame /tmp/keys.raw "${W}x${H}" "${keys[@]}" || { kill $watcher; return 1; }
		lfbvnc-probe --password-file "$PASSWORD_FILE" --timeout 30 \
			--compare /tmp/keys.raw@${W}x${H} --region "0,320,$W,28" \
			127.0.0.1::$port >/tmp/keycycle.out 2>&1 &
		pid=$!
		was=no
		for _ in $(seq 300); do
			st=$(lfbvncctl --json status 2>/dev/null)
			st=${st#*\"name\":\"$g\"}
			st=${st%%\},\{\"name\":*}
			grep -q '"clients":2,' <<<"$st" && grep -q "\"state\":\"$want\"" <<<"$st" && { was=yes; break; }
			sleep 0.1
		done
		t0=$(date +%s%N)
		dirtyvram-check qmp "$dom" "{\"execute\":\"send-key\",\"arguments\":{\"keys\":[{\"type\":\"qcode\",\"data\":\"${names[i % 16]}\"}]}}" >/dev/null 2>&1
		wait "$pid"
		rc=$?
		t1=$(date +%s%N)
		echo "keycycle $i rc $rc $(((t1 - t0) / 1000000)) $want-before $was"
		[ $i -eq 15 ] && break	# 16 slots
	done
	kill $watcher 2>/dev/null
	wait $watcher 2>/dev/null
	printf '!0' >"$tty"
	return 0
}
export -f xentest_keycycles

# ------------------------------------------------------------ 6. the host
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
			timeout 300 bash -c "$cmd" </dev/null >"$LOGDIR/rpc.out" 2>&1
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
	rpc_serve || host_rc=1
fi

# ------------------------------------------------------------ 7. stop
out=$("$initscript" stop 2>&1)
say "init script: $out"
stop_rc=0
if "$initscript" status >/dev/null; then
	stop_rc=1
	say "lfbvncd still runs after stop"
fi
for _ in $(seq 50); do
	pgrep -x lfbvncd >/dev/null || break
	sleep 0.2
done
if pgrep -x lfbvncd >/dev/null; then
	stop_rc=1
	say "lfbvncd processes left: $(pgrep -a -x lfbvncd | tr '\n' ' ')"
fi
xl destroy $GUEST
[ "$XENTEST_TRAP" = 1 ] && xl destroy $GUEST2
kill $catpid ${catpid2-} $syslogpid 2>/dev/null
[ $check_rc -eq 0 ] || fail "dirtyvram-check failed (rc $check_rc)"
[ $host_rc -eq 0 ] || fail "the host phase failed"
[ $stop_rc -eq 0 ] || fail "lfbvncd did not stop"
say "RESULT PASS"
