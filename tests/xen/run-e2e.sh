#!/bin/bash
# The Xen end-to-end test: Debian's Xen 4.17 with a Debian dom0, booted in
# qemu-system-x86_64 with software emulation (TCG, emulated AMD SVM + NPT),
# running lfbvnc's own HVM test guest, served by lfbvncd in dom0 (started
# by its init script), and checked from here through QEMU's port forward
# with lfbvnc-probe.  See tests/xen/README.md.
#
#   tests/xen/run-e2e.sh            the test (the suite runs it this way)
#   tests/xen/run-e2e.sh --shell    boot the same system with a root shell
#                                   in dom0 on this terminal (xentest=shell)
#   tests/xen/run-e2e.sh --patched [--shell]
#                                   the trap run (run-e2e-trap.sh): boot the
#                                   hypervisor of hypervisor-patch/ (built
#                                   by its build.sh, cached) instead of
#                                   Debian's, with a second guest under
#                                   shadow paging, and check the VRAM trap
#                                   on both (host_phase_patched)
#
# Environment: top_builddir (set by `make check'; default: the current
# directory), LFBVNC_XEN_CACHE (build-image.sh),
# LFBVNC_XEN_TIMEOUT (seconds from the VM lock on, default 900),
# LFBVNC_XEN_KEEP=1 (keep the payload image).
#
# Exit: 0 pass, 1 fail, 77 skip (no qemu-system-x86_64, no debootstrap or
# no root to build the dom0 image, built without the Xen libraries),
# 99 error (the image or the payload could not be built).
set -u

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${top_builddir:-.}" && pwd)
W=$build/tests/xen/e2e
timeout_s=${LFBVNC_XEN_TIMEOUT:-900}
deadline=$((SECONDS + timeout_s))
mode="test"
variant=stock
[ "${1-}" = --patched ] && { variant=patched; shift; }
[ "${1-}" = --shell ] && mode=shell

skip() { echo "SKIP: $*"; exit 77; }
error() { echo "ERROR: $*"; exit 99; }
stamp() { printf '[%4ds] %s\n' "$SECONDS" "$*"; }

command -v qemu-system-x86_64 >/dev/null ||
	skip "qemu-system-x86_64 is not installed (Debian: qemu-system-x86; ./quickstart test installs it)"
command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 is not installed (e2fsprogs)"
grep -q '^#define HAVE_XEN 1' "$build/config.h" 2>/dev/null ||
	skip "lfbvnc was configured without the Xen libraries (libxen-dev)"
if ! img=$("$here/build-image.sh" --cached 2>/dev/null); then
	command -v debootstrap >/dev/null ||
		skip "debootstrap is not installed and no dom0 image is cached"
	[ "$(id -u)" -eq 0 ] ||
		skip "building the dom0 image needs root (debootstrap); none is cached"
fi
# The patched hypervisor: from hypervisor-patch/build.sh's cache, built
# now if need be (hypervisor-patch/test-build.sh, which runs first in the
# suite, reports a failed build; here that is a skip).
xen_dir=
if [ $variant = patched ]; then
	xen_dir=$("$here/../../hypervisor-patch/build.sh" 2> >(sed 's/^/  /' >&2) | tail -n 1)
	[ -n "$xen_dir" ] && [ -f "$xen_dir/stamp" ] ||
		skip "no patched hypervisor (hypervisor-patch/build.sh could not build it; see hypervisor-patch/test-build.sh)"
	W=$build/tests/xen/e2e-trap
fi

mkdir -p "$W"
# the guest's layout (XG_BLINK_X=32, ...), for the checks
eval "$(sed -n 's/^#define \(XG_[A-Z_]*\)[[:space:]]\+\([0-9]\+\)\([[:space:]].*\)\?$/\1=\2/p' "$here/guest/pattern.h")"
stamp "building the test guest, dirtyvram-check, xen-frame and lfbvnc-probe"
(unset MAKEFLAGS MFLAGS MAKELEVEL
 make -s -C "$build" tests/xen/guest/xentest-guest.img tests/xen/dom0/dirtyvram-check \
	tests/xen/xen-frame clients/lfbvnc-probe) >"$W/make.log" 2>&1 ||
	{ cat "$W/make.log"; error "could not build the test guest, dirtyvram-check, xen-frame or lfbvnc-probe"; }

stamp "dom0 image"
img=$("$here/build-image.sh" 2> >(sed 's/^/  /' >&2) | tail -n 1) && [ -f "$img/stamp" ] ||
	error "build-image.sh failed"
stamp "dom0 image: $img"

# lfbvncd listens on dom0's 0.0.0.0:5900 for the forward, so it needs a
# password (VNC authentication uses 8 characters)
vnc_password=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n' | cut -c1-8)
(umask 077; echo "$vnc_password" >"$W/vnc.passwd"; echo "not-${vnc_password:0:4}" >"$W/wrong.passwd")
xmode=${LFBVNC_XEN_MODE:-1024x768x32}
XW=${xmode%%x*}
XH=${xmode#*x}; XH=${XH%%x*}
cat >"$W/params" <<EOF
XENTEST_MODE=$xmode
XENTEST_WORKLOAD=0
XENTEST_HOST_PHASE=1
XENTEST_VNC_PASSWORD=$vnc_password
XENTEST_TRAP=$([ $variant = patched ] && echo 1 || echo 0)
EOF
stamp "payload: make install + mkfs"
"$here/install-build.sh" "$build" "$W/payload.img" "$img" "$W/params" 2> >(sed 's/^/  /' >&2) ||
	error "install-build.sh failed"

# ------------------------------------------------------------ QEMU
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		in_use "$p" || { echo "$p"; return; }
	done
}

xen_args="console=com1 com1=115200 dom0_mem=1024M,max:1024M loglvl=all guest_loglvl=all console_timestamps=boot"
dom0_args="root=/dev/vda rw console=hvc0 earlyprintk=xen init=/sbin/xentest-init"
[ $mode = shell ] && dom0_args="$dom0_args xentest=shell"
rm -f "$W/rpc.in" "$W/rpc.out"
mkfifo "$W/rpc.in" "$W/rpc.out"

# No AVX and no XSAVE in the emulated CPU.  With them, this stack (QEMU
# 7.2's TCG, Xen 4.17, a PV dom0) lost vector register contents across
# context switches in dom0: glibc's memcpy then copied 16- or 32-octet
# pieces of another thread's data, seen as short runs of foreign pixels in
# lfbvncd's first frames (7 of 12 with AVX and XSAVE, 4 of 6 with XSAVE
# but no AVX, 0 of 7 without XSAVE).  The VRAM was never wrong; the copies
# were.  Without XSAVE, the dom0 kernel and Xen save the SSE state with
# FXSAVE, and glibc uses SSE2.
qemu_cmd() {
	# shellcheck disable=SC2054  # the commas are QEMU's
	qemu=(qemu-system-x86_64 \
		-accel tcg,thread=multi,tb-size=512 -machine q35 \
		-cpu EPYC,+svm,+npt,-smap,-monitor,-avx,-avx2,-fma,-f16c,-xsave,-xsaveopt,-xsavec,-xgetbv1 -m 3072 -smp 2 \
		-display none -vga none -no-reboot \
		-kernel "${xen_dir:-$img}/xen" -append "$xen_args" \
		-initrd "$img/vmlinuz $dom0_args,$img/initrd.img" \
		-drive "file=$img/rootfs.img,if=virtio,format=raw,snapshot=on,cache=unsafe" \
		-drive "file=$W/payload.img,if=virtio,format=raw,cache=unsafe" \
		-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$vnc_port-10.0.2.15:5900,hostfwd=tcp:127.0.0.1:$web_port-10.0.2.15:5800${vnc_port2:+,hostfwd=tcp:127.0.0.1:$vnc_port2-10.0.2.15:5901}" \
		-device virtio-net-pci,netdev=n0 \
		-chardev "pipe,id=rpc,path=$W/rpc" -device virtio-serial-pci \
		-device virtserialport,chardev=rpc,name=xentest.rpc)
}

vnc_port2=
if [ $mode = shell ]; then
	vnc_port=$(free_port) web_port=$(free_port)
	[ $variant = patched ] && vnc_port2=$(free_port)
	echo "dom0 VNC port 5900 -> 127.0.0.1:$vnc_port, web 5800 -> 127.0.0.1:$web_port; Ctrl-a x quits"
	qemu_cmd
	exec "${qemu[@]}" -nographic
fi

# One line per "XENTEST " console line, with the host's clock.
seen=0
show_new() {
	local n
	n=$(wc -l <"$W/console.log" 2>/dev/null || echo 0)
	[ "$n" -gt "$seen" ] || return 0
	sed -n "$((seen + 1)),${n}p" "$W/console.log" | tr -d '\r' |
		grep -E '^(XENTEST|DIRTYVRAM)' | while IFS= read -r l; do stamp "$l"; done
	seen=$n
}

# ------------------------------------------------------------ host phase
rpc_id=0
# dom0_run CMD...: run a shell command in dom0, print its output; its status
dom0_run() {
	local l
	rpc_id=$((rpc_id + 1))
	echo "RUN $rpc_id $*" >&5
	while IFS= read -r -t 320 l <&6; do
		l=${l%$'\r'}
		case $l in
		"OUT $rpc_id "*) echo "${l#OUT $rpc_id }" ;;
		"OUT $rpc_id") echo ;;
		"END $rpc_id "*) return "${l#END $rpc_id }" ;;
		esac
	done
	return 124
}
# ------------------------------------------------------------ the checks
# Each check prints "XEN-E2E <name>: PASS|FAIL <detail>"; each measured
# figure "XEN-E2E figure <name>: <value>", also kept in e2e/figures.txt.
nfail=0
check() {	# check NAME 1|0 DETAIL...
	local name=$1 ok=$2
	shift 2
	if [ "$ok" = 1 ]; then
		stamp "XEN-E2E $name: PASS $*"
	else
		stamp "XEN-E2E $name: FAIL $*"
		nfail=$((nfail + 1))
	fi
}
figure() {
	stamp "XEN-E2E figure $1: $2"
	echo "$1: $2" >>"$W/figures.txt"
}
t() { "$@" >/dev/null 2>&1 && echo 1 || echo 0; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# jnum KEY TEXT, jstr KEY TEXT: the first number or string KEY in TEXT
jnum() { grep -o "\"$1\":[0-9.]*" <<<"$2" | head -n 1 | cut -d: -f2; }
jstr() { grep -o "\"$1\":\"[^\"]*\"" <<<"$2" | head -n 1 | cut -d'"' -f4; }
# delta KEY ST1 ST2: ST2's number KEY minus ST1's, or "none"
delta() {
	local a b
	a=$(jnum "$1" "$2")
	b=$(jnum "$1" "$3")
	if [ -n "$a" ] && [ -n "$b" ]; then echo $((b - a)); else echo none; fi
}
# rate D DT: D events in DT ms, per second
rate() {
	case $1$2 in *none*) echo "unknown" ; return ;; esac
	awk -v d="$1" -v t="$2" 'BEGIN { printf "%.3f (%d in %.1f s)", (t > 0 ? d * 1000 / t : 0), d, t / 1000 }'
}
# status: the guest's part of `lfbvncctl --json status' in dom0
status() {
	local st
	st=$(dom0_run lfbvncctl --json status) || return 1
	echo "${st#*\"guests\":\[}"
}
# wait_on SECONDS "CMD ARGS" PATTERN...: run CMD until its output has
# every PATTERN or SECONDS pass; print the last output; 0 when it matched
wait_on() {
	local end=$((SECONDS + $1)) cmd=$2 st p ok
	shift 2
	while :; do
		st=$($cmd)
		ok=1
		for p in "$@"; do grep -q -- "$p" <<<"$st" || ok=0; done
		if [ $ok = 1 ] || [ $SECONDS -ge $end ]; then
			echo "$st"
			[ $ok = 1 ]
			return
		fi
		sleep 0.5
	done
}
# wait_status SECONDS PATTERN...: wait until the status has every PATTERN;
# print it
wait_status() { local s=$1; shift; wait_on "$s" status "$@"; }
probe() { "$build/clients/lfbvnc-probe" --password-file "$W/vnc.passwd" "$@" "127.0.0.1::$vnc_port"; }
# probe_bg OUT ARGS...: the same in the background, output to OUT; its pid
# is then $! (not a subshell's: killing it ends the client)
probe_bg() {
	local out=$1
	shift
	"$build/clients/lfbvnc-probe" --password-file "$W/vnc.passwd" "$@" "127.0.0.1::$vnc_port" >"$out" 2>&1 &
}
# frame NAME XEN-FRAME-OPTIONS...: make the expected screen, print FILE@WxH
frame() {
	local f=$W/$1.raw
	shift
	"$build/tests/xen/xen-frame" "$f" "${XW}x${XH}" "$@" && echo "$f@${XW}x${XH}"
}
# guest_workload N: select workload N on the guest's COM1 and wait for the
# guest's answer
guest_workload() {
	dom0_run "l=\$XENTEST_SERIAL_LOG; n=\$(grep -ac 'LFBGUEST workload $1' \$l);" \
		"printf '!$1' >\$XENTEST_TTY; for i in \$(seq 150); do" \
		"[ \$(grep -ac 'LFBGUEST workload $1' \$l) -gt \$n ] && exit 0; sleep 0.2; done; exit 1" >/dev/null
}
# compare NAME REFERENCE TIMEOUT [PROBE-OPTIONS...]: an exact comparison
compare() {
	local name=$1 ref=$2 to=$3 out rc
	shift 3
	out=$(probe --compare "$ref" --timeout "$to" "$@" --json 2>&1)
	rc=$?
	check "$name" "$(t test $rc -eq 0)" "(${ref##*/}${*:+ $*}: exit $rc," \
		"$(grep -o '"differing":[0-9]*' <<<"$out"))"
	[ $rc -eq 0 ] && return
	printf '    %s\n' "$out"
	# where the difference comes from: the guest's VRAM there, and what
	# a new client sees
	local x y
	x=$(grep -o '"diffs":\[{"x":[0-9]*,"y":[0-9]*' <<<"$out" | grep -o '[0-9]*,"y":[0-9]*$')
	y=${x#*:}
	x=${x%%,*}
	if [ -n "$x" ]; then
		stamp "host: the guest's VRAM at $x,$y: $(dom0_run dirtyvram-check peek "${domid:-1}" "$x" "$y" 8 2>&1 | tr '\n' ' ')"
	fi
	out=$(probe --compare "$ref" --timeout 20 "$@" --json --screenshot "$W/$name-fresh.png" 2>&1)
	stamp "host: a new client: exit $?, $(grep -o '"differing":[0-9]*,"diffs":.\{0,300\}' <<<"$out")"
}
# cpu_share ST1 ST2: the worker's CPU time between two statuses
cpu_share() {
	local c dt
	c=$(delta cpu_usec "$1" "$2")
	dt=$(delta uptime_ms "$1" "$2")
	case $c$dt in *none*) echo unknown; return ;; esac
	awk -v c="$c" -v t="$dt" 'BEGIN { printf "%.3f%% (%.1f ms CPU in %.1f s)", (t > 0 ? c / 10 / t : 0), c / 1000, t / 1000 }'
}
# gstatus NAME: guest NAME's part of the status
gstatus() {
	local st
	st=$(dom0_run lfbvncctl --json status) || return 1
	st=${st#*\"name\":\"$1\"}
	echo "${st%%\},\{\"name\":*}"
}
# wait_gstatus SECONDS NAME PATTERN...: wait_status for guest NAME
wait_gstatus() { local s=$1 g=$2; shift 2; wait_on "$s" "gstatus $g" "$@"; }
web_get() {	# the status line and Location of GET / on 127.0.0.1:PORT
	local l
	exec 7<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' >&7
	while IFS= read -r -t 20 l <&7; do
		l=${l%$'\r'}
		case $l in HTTP/*|Location:*) echo "$l" ;; "") break ;; esac
	done
	exec 7<&-
}

# host_phase_end: keep the daemon's log (its tail on failure), tell dom0
# the verdict and wait for its answer; the status is the verdict.
host_phase_end() {
	local out
	dom0_run cat /var/log/lfbvncd.log >"$W/lfbvncd.log"
	if [ $nfail -gt 0 ]; then
		echo "---- the lfbvncd log ($W/lfbvncd.log), last 60 lines"
		tail -n 60 "$W/lfbvncd.log"
	fi
	if [ $nfail = 0 ]; then echo "FINISH PASS" >&5; else echo "FINISH FAIL" >&5; fi
	IFS= read -r -t 30 out <&6
	exec 5>&- 6<&-
	stamp "host: $nfail failed checks; figures in $W/figures.txt, daemon log in $W/lfbvncd.log"
	[ $nfail = 0 ]
}

host_phase_stock() {
	local out st st1 st2 rc rc1 rc2 pid domid luid ptr px py pb pointer=() idle
	local dom0_passwd=/etc/lfbvnc/xentest.passwd
	local d dt iv max lp t0 t1 lats=() first
	exec 5>"$W/rpc.in" 6<"$W/rpc.out"
	: >"$W/figures.txt"
	stamp "host: dom0_run xl list"
	out=$(dom0_run xl list)
	printf '%s\n' "$out" | sed 's/^/    /'
	check guest-running "$(t grep -q '^xentest ' <<<"$out")" "(xl list in dom0)"
	domid=$(dom0_run xl domid xentest | tr -d '\r')

	# 1. lfbvncd (started by its init script) discovered the guest from
	# /etc/xen/xentest.cfg and serves it; no hypercall before a client
	st=$(wait_status 60 '"name":"xentest"' '"provider_up":true')
	check discovered "$(t test "$(jstr name "$st")" = xentest)" \
		"(guest $(jstr name "$st"), domain $domid, backend $(jstr backend "$st"), tracker $(jstr tracker "$st"))"
	check served "$(t test "$(jstr backend "$st")/$(jstr tracker "$st")/$(jnum vnc_port "$st")/$(jnum web_port "$st")/$(jstr listen "$st")/$(jnum width "$st")x$(jnum height "$st")" = \
		"xen/xen-dirty-vram/5900/5800/0.0.0.0/${XW}x${XH}")" \
		"(listen $(jstr listen "$st"), VNC $(jnum vnc_port "$st"), web $(jnum web_port "$st"), mode $(jnum width "$st")x$(jnum height "$st"))"
	check idle-before-client "$(t test "$(jstr state "$st")/$(jnum dirty_requests "$st")/$(jnum scans "$st")" = no-clients/0/0)" \
		"(state $(jstr state "$st"), dirty_requests $(jnum dirty_requests "$st"), scans $(jnum scans "$st"))"

	# 2. least privilege: the worker runs as lfbvnc without capabilities,
	# and its handles refuse another domain (the daemon's self-check)
	pid=$(jnum pid "$st")
	out=$(dom0_run "grep -E '^(Name|Uid|Gid|CapPrm|CapEff|NoNewPrivs):' /proc/$pid/status;" \
		"echo lfbvnc \$(id -u lfbvnc); echo master \$(awk '/^Uid:/ {print \$2}' /proc/\$(cat /run/lfbvnc/lfbvncd.pid)/status)" |
		tr -s ' \t\r' '  ')
	printf '    %s\n' "$out"
	luid=$(sed -n 's/^lfbvnc //p' <<<"$out")
	check worker-unprivileged "$(t test -n "$luid" -a "$luid" != 0 -a \
		"$(grep '^Uid:' <<<"$out")" = "Uid: $luid $luid $luid $luid" -a \
		"$(grep '^CapEff:' <<<"$out")" = "CapEff: 0000000000000000" -a \
		"$(grep '^CapPrm:' <<<"$out")" = "CapPrm: 0000000000000000" -a \
		"$(grep '^NoNewPrivs:' <<<"$out")" = "NoNewPrivs: 1")" \
		"(worker pid $pid: $(grep '^Uid:' <<<"$out"), $(grep '^CapEff:' <<<"$out"); lfbvnc is uid $luid; master uid $(sed -n 's/^master //p' <<<"$out"))"
	out=$(dom0_run "ls -ld /var/run/xen /var/run/xen/qmp-libxl-$domid;" \
		"setpriv --reuid=lfbvnc --regid=lfbvnc --clear-groups sh -c" \
		"'test -w /var/run/xen/qmp-libxl-$domid && echo lfbvnc may connect || echo lfbvnc may not connect'")
	printf '    %s\n' "$out"
	dom0_run cat /var/log/lfbvncd.log >"$W/lfbvncd.log"
	out=$(grep -a "xentest: Xen handles restricted to domain $domid " "$W/lfbvncd.log")
	check handles-restricted "$(t test -n "$out")" "(log: ${out#*: })"
	out=$(grep -a "xentest: running as lfbvnc" "$W/lfbvncd.log")
	check worker-log-running-as "$(t test -n "$out")" "(log: ${out#*: })"

	# 3. the web port answers (noVNC is not installed in this dom0: the
	# redirect to it is enough)
	out=$(web_get "$web_port" | tr '\n' ' ')
	check web-port "$(t grep -q "^HTTP/1.[01] 302 .*Location: /vnc.html?.*port=5900" <<<"$out")" "($out)"

	# 4. pixel-exact frames through the forward: the idle background (and
	# the pointer where the reference check left it)
	ptr=$(dom0_run "grep -a 'LFBGUEST pointer' \$XENTEST_SERIAL_LOG | tail -n 1" | tr -d '\r')
	if read -r _ _ px py pb <<<"$ptr" && [ -n "$pb" ]; then
		pointer=(--pointer "$px,$py,$pb")
	fi
	stamp "host: the guest's pointer: ${ptr:-none}"
	# the first clients: two probes in dom0, over loopback (the same
	# reference, made there by the same xen-frame); the second connects
	# while the first is still there, so it gets the shadow as it is
	out=$(dom0_run "xen-frame /tmp/idle.raw ${XW}x${XH} ${pointer[*]} || exit 9;" \
		"lfbvnc-probe --password-file $dom0_passwd --compare /tmp/idle.raw@${XW}x${XH}" \
		"--timeout 40 --duration 25 --json 127.0.0.1::5900 >/tmp/first.json 2>&1 & p=\$!; sleep 8;" \
		"lfbvnc-probe --password-file $dom0_passwd --compare /tmp/idle.raw@${XW}x${XH}" \
		"--timeout 15 --json 127.0.0.1::5900 >/tmp/second.json 2>&1; r2=\$?; wait \$p; r1=\$?;" \
		"echo first \$r1 \$(cat /tmp/first.json); echo second \$r2 \$(cat /tmp/second.json)")
	rc1=$(sed -n 's/^first \([0-9]*\) .*/\1/p' <<<"$out")
	rc2=$(sed -n 's/^second \([0-9]*\) .*/\1/p' <<<"$out")
	check frame-idle-exact-dom0-first "$(t test "$rc1" = 0)" "(the first client, in dom0 on 127.0.0.1: exit $rc1, $(grep '^first' <<<"$out" | grep -o '"differing":[0-9]*'))"
	check frame-idle-exact-dom0-second "$(t test "$rc2" = 0)" "(a second client while the first is connected: exit $rc2, $(grep '^second' <<<"$out" | grep -o '"differing":[0-9]*'))"
	[ "$rc1$rc2" = 00 ] || printf '    %s\n' "$out"
	wait_status 30 '"clients":0' >/dev/null
	# through QEMU's port forward, from the host
	idle=$(frame idle "${pointer[@]}")
	compare frame-idle-exact "$idle" 60

	# 5. no client: no hypercall at all
	st1=$(wait_status 30 '"clients":0' '"state":"no-clients"')
	sleep 15
	st2=$(status)
	d=$(delta dirty_requests "$st1" "$st2")
	dt=$(delta uptime_ms "$st1" "$st2")
	check no-client-no-hypercalls "$(t test "$d" -eq 0 -a "$(jstr state "$st2")" = no-clients -a "$dt" -ge 10000)" \
		"(dirty_requests +$d, scans +$(delta scans "$st1" "$st2") in $dt ms; state $(jstr state "$st2"))"
	figure "hypercalls/s, idle guest, no client" "$(rate "$d" "$dt")"

	# 6. the back-off: a client, the idle guest; after clean-scans clean
	# scans the state is backoff and the daemon polls once per interval
	probe_bg "$W/backoff-probe.txt" --duration 900 --timeout 60
	lp=$!
	t0=$SECONDS
	st1=$(wait_status 90 '"clients":1' '"state":"backoff"')
	check backoff-reached "$(t test "$(jstr state "$st1")" = backoff)" \
		"(after about $((SECONDS - t0)) s: scans $(jnum scans "$st1"), dirty_requests $(jnum dirty_requests "$st1"), interval $(jnum interval_ms "$st1") ms)"
	sleep 30
	st2=$(status)
	d=$(delta dirty_requests "$st1" "$st2")
	dt=$(delta uptime_ms "$st1" "$st2")
	iv=$(jnum interval_ms "$st2")
	max=none
	[ "$dt" != none ] && max=$((dt / ${iv:-1000} + 2))
	check backoff-rate "$(t test "$(jstr state "$st2")" = backoff -a "$(jnum clients "$st2")" = 1 -a \
		"$d" -ge 1 -a "$d" -le "$max" -a "$dt" -ge 20000)" \
		"(dirty_requests +$d in $dt ms, at most $max allowed at $iv ms; state $(jstr state "$st2"), clients $(jnum clients "$st2"))"
	figure "hypercalls/s, idle guest, 1 client (backoff, interval $iv ms)" "$(rate "$d" "$dt")"
	figure "wake-ups/s, idle guest, 1 client (backoff)" "$(rate "$(delta wakeups "$st1" "$st2")" "$dt")"
	figure "worker CPU, idle guest, 1 client (backoff)" "$(cpu_share "$st1" "$st2")"
	kill "$lp" 2>/dev/null
	wait "$lp" 2>/dev/null

	# 7. change -> client latency while backed off, measured in dom0
	# (xentest_latency in dom0/xentest.sh): from writing "!1" to the
	# guest's COM1 to a probe on 127.0.0.1 seeing the blink block
	out=$(dom0_run xentest_latency 5)
	printf '%s\n' "$out" | sed 's/^/    /'
	lats=($(sed -n 's/^latency [0-9]* rc 0 \([0-9]*\) .*/\1/p' <<<"$out"))
	check latency "$(t test ${#lats[@]} -eq 5)" "(${#lats[@]} of 5 switches seen by the client)"
	if [ ${#lats[@]} -gt 0 ]; then
		figure "workload switch -> client sees it, backed off (dom0, loopback)" \
			"$(printf '%s\n' "${lats[@]}" | sort -n | awk '{ v[NR] = $1; s += $1 } END { printf "min %d, median %d, max %d, mean %d ms over %d", v[1], v[int((NR + 1) / 2)], v[NR], s / NR, NR }')"
	fi
	wait_status 30 '"clients":0' >/dev/null

	# 7b. the same key presses as the trap run's no-lost-update check
	# (xentest_keycycles), picked up here by the backed-off polling: the
	# "before" of that run's key figure
	out=$(dom0_run xentest_keycycles 12 xentest 5900 "$domid" \$XENTEST_TTY \$XENTEST_SERIAL_LOG backoff)
	printf '%s\n' "$out" | sed 's/^/    /'
	lats=($(sed -n 's/^keycycle [0-9]* rc 0 \([0-9]*\) backoff-before yes$/\1/p' <<<"$out"))
	check keys-backoff "$(t test ${#lats[@]} -eq 12)" "(${#lats[@]} of 12 key presses made while backed off reached the client exactly)"
	if [ ${#lats[@]} -gt 0 ]; then
		figure "key (QMP) -> exact key slot at a connected client, from backoff" \
			"$(printf '%s\n' "${lats[@]}" | sort -n | awk '{ v[NR] = $1; s += $1 } END { printf "min %d, median %d, max %d, mean %d ms over %d", v[1], v[int((NR + 1) / 2)], v[NR], s / NR, NR }')"
	fi
	wait_status 30 '"clients":0' >/dev/null

	# 8. exact frames of the moving workloads: blink, both phases; typing,
	# the first text line once full, with everything above it, and
	# everything below the text box
	guest_workload 1 || check workload-blink 0 "(no answer from the guest)"
	compare frame-blink-on-exact "$(frame blink-on --blink on "${pointer[@]}")" 60
	compare frame-blink-off-exact "$(frame blink-off --blink off "${pointer[@]}")" 60
	guest_workload 2 || check workload-typing 0 "(no answer from the guest)"
	compare frame-typing-top-exact "$(frame typing --typing "${pointer[@]}")" 90 \
		--region "0,0,$XW,$((XG_TEXT_Y + XG_CELL_H))"
	compare frame-typing-bottom-exact "$W/typing.raw@${XW}x${XH}" 60 \
		--region "0,$((XG_TEXT_Y + XG_TEXT_ROWS * XG_CELL_H)),$XW,$((XH - XG_TEXT_Y - XG_TEXT_ROWS * XG_CELL_H))"
	# the rate while the guest types (a glyph every 50 ms), one client
	probe_bg "$W/typing-probe.txt" --duration 900 --timeout 60
	lp=$!
	st1=$(wait_status 60 '"clients":1' '"state":"polling"')
	sleep 10
	st2=$(status)
	kill "$lp" 2>/dev/null
	wait "$lp" 2>/dev/null
	figure "hypercalls/s, typing guest, 1 client (state $(jstr state "$st2"))" \
		"$(rate "$(delta dirty_requests "$st1" "$st2")" "$(delta uptime_ms "$st1" "$st2")")"

	# 9. input: keys from the probe reach the guest (its key slots, exact)
	guest_workload 0 || check workload-idle 0 "(no answer from the guest)"
	wait_status 30 '"clients":0' >/dev/null
	t0=$(now_ms)
	out=$(probe --send-key a --send-key Return --compare "$(frame keys --key 0x1e --key 0x1c "${pointer[@]}")" \
		--timeout 60 --json 2>&1)
	rc=$?
	t1=$(now_ms)
	first=$(jnum first_update_ms "$out")
	first=${first%.*}
	first=${first:-0}
	check keys-frame-exact "$(t test $rc -eq 0)" "(a, Return: slots 0 and 1 exact; exit $rc, $(grep -o '"differing":[0-9]*' <<<"$out"))"
	[ $rc -eq 0 ] || printf '    %s\n' "$out"
	out=$(dom0_run "grep -a 'LFBGUEST key' \$XENTEST_SERIAL_LOG | tail -n 2" | tr -d '\r' | tr '\n' ' ')
	check keys-guest "$(t grep -q 'key 0x1e slot 0 .*key 0x1c slot 1' <<<"$out")" "(guest: $out)"
	[ $rc -eq 0 ] && figure "keys a + Return -> both slots seen (probe run minus its first update)" \
		"$((t1 - t0 - first)) ms"

	# 10. the guest's own mode key (written from dom0 here, as a guest
	# agent would): the worker follows it without a restart, and back
	dom0_run "xenstore-write /local/domain/$domid/data/lfbvnc/mode 800x600x32" >/dev/null
	st1=$(wait_status 30 '"width":800,' '"height":600,')
	check mode-key-followed "$(t test $? -eq 0)" "(the status says $(jnum width "$st1")x$(jnum height "$st1"); worker pid $(jnum pid "$st1"))"
	dom0_run "xenstore-write /local/domain/$domid/data/lfbvnc/mode 1024x768x32" >/dev/null
	st1=$(wait_status 30 '"width":1024,' '"height":768,')
	check mode-key-back "$(t test $? -eq 0)" "(the status says $(jnum width "$st1")x$(jnum height "$st1"))"
	out=$(probe --compare "$(frame keys --key 0x1e --key 0x1c "${pointer[@]}")" --timeout 60 --json 2>&1)
	rc=$?
	check mode-key-frame-exact "$(t test $rc -eq 0)" "(after the two mode changes: exit $rc, $(grep -o '"differing":[0-9]*' <<<"$out"))"

	# 11. a wrong password is refused (last: it may delay later clients)
	out=$("$build/clients/lfbvnc-probe" --password-file "$W/wrong.passwd" --expect-auth-failure \
		--timeout 30 "127.0.0.1::$vnc_port" 2>&1)
	rc=$?
	check wrong-password-refused "$(t test $rc -eq 0)" "(probe --expect-auth-failure: exit $rc)"

	# 12. the worker never failed nor restarted
	st=$(status)
	check no-errors "$(t test -z "$(jstr last_error "$st")" -a "$(jnum restarts "$st")" = 0 -a "$(jnum pid "$st")" = "$pid")" \
		"(last_error \"$(jstr last_error "$st")\", restarts $(jnum restarts "$st"), worker pid $(jnum pid "$st"); scans $(jnum scans "$st"), dirty_requests $(jnum dirty_requests "$st"), updates_sent $(jnum updates_sent "$st"), input_events $(jnum input_events "$st"), clients_total $(jnum clients_total "$st"))"

	host_phase_end
}

# The trap run (--patched): hypervisor-patch/'s hypervisor, the HAP guest
# (xentest, port 5900) and the shadow-paging guest (xentest-shadow, hap =
# 0, port 5901).  For each: lfbvncd found the trap; with one idle client
# it is trapped after clean-scans clean scans; then for 20 s it makes no
# hypercall and has no wake-up; a workload switch reaches the client
# (latency, as in the stock run's figure); no update is lost across 12
# trap/wake cycles (xentest_keycycles in dom0/xentest.sh).
host_phase_patched() {
	local out st st1 st2 d dt w lp g gmode port hport tty log domid n lats
	local pids=() gi
	exec 5>"$W/rpc.in" 6<"$W/rpc.out"
	: >"$W/figures.txt"
	out=$(dom0_run xl list)
	printf '%s\n' "$out" | sed 's/^/    /'
	check guests-running "$(t grep -q '^xentest-shadow ' <<<"$out")" "(xl list in dom0: xentest and xentest-shadow)"
	out=$(dom0_run "xl info | grep -E '^(virt_caps|xen_version|xen_extra)'" | tr -s ' \r' ' ' | tr '\n' ';')
	check hypervisor-patched "$(t grep -q 'shadow' <<<"$out")" "($out)"
	dom0_run cat /var/log/lfbvncd.log >"$W/lfbvncd.log"
	for gi in "xentest hap 5900 $vnc_port" "xentest-shadow shadow 5901 $vnc_port2"; do
		read -r g gmode port hport <<<"$gi"
		if [ "$g" = xentest ]; then
			tty=\$XENTEST_TTY log=\$XENTEST_SERIAL_LOG
		else
			tty=\$XENTEST_TTY2 log=\$XENTEST_SERIAL_LOG2
		fi
		domid=$(dom0_run xl domid "$g" | tr -d '\r')
		stamp "host: ---- $g (domain $domid, $gmode paging, port $port)"
		st=$(wait_gstatus 60 "$g" '"provider_up":true')
		pids+=("$(jnum pid "$st")")
		out=$(grep -a "$g: the hypervisor has the VRAM trap" "$W/lfbvncd.log" | tail -n 1)
		check "trap-found-$gmode" "$(t test -n "$out" -a "$(jstr backend "$st")" = xen)" "(log: ${out#*: })"

		# 1. one idle client: armed after clean-scans clean scans
		"$build/clients/lfbvnc-probe" --password-file "$W/vnc.passwd" --duration 900 --timeout 60 \
			"127.0.0.1::$hport" >"$W/trap-probe-$gmode.txt" 2>&1 &
		lp=$!
		st1=$(wait_gstatus 60 "$g" '"clients":1' '"state":"trapped"')
		check "trap-armed-$gmode" "$(t test "$(jstr state "$st1")" = trapped -a "$(jnum traps_armed "$st1")" -ge 1)" \
			"(state $(jstr state "$st1"), traps_armed $(jnum traps_armed "$st1"), scans $(jnum scans "$st1"), dirty_requests $(jnum dirty_requests "$st1"): the first, full scan and clean-scans clean ones)"

		# 2. idle and trapped: no hypercall, no wake-up
		sleep 20
		st2=$(gstatus "$g")
		d=$(delta dirty_requests "$st1" "$st2")
		w=$(delta wakeups "$st1" "$st2")
		dt=$(delta uptime_ms "$st1" "$st2")
		check "trap-idle-zero-$gmode" "$(t test "$d" = 0 -a "$w" = 0 -a "$(jstr state "$st2")" = trapped -a "$dt" -ge 15000)" \
			"(dirty_requests +$d, wakeups +$w, scans +$(delta scans "$st1" "$st2") in $dt ms; state $(jstr state "$st2"))"
		figure "$gmode: hypercalls/s, idle guest, 1 client (trapped)" "$(rate "$d" "$dt")"
		figure "$gmode: wake-ups/s, idle guest, 1 client (trapped)" "$(rate "$w" "$dt")"
		figure "$gmode: worker CPU, idle guest, 1 client (trapped)" "$(cpu_share "$st1" "$st2")"
		kill "$lp" 2>/dev/null
		wait "$lp" 2>/dev/null
		wait_gstatus 30 "$g" '"clients":0' >/dev/null

		# 3. a guest write wakes it: the workload switch, as in the stock
		# run's latency figure, but from the trapped state
		st1=$(gstatus "$g")
		out=$(dom0_run xentest_latency 5 "$g" "$port" "$tty" "$log" trapped)
		printf '%s\n' "$out" | sed 's/^/    /'
		st2=$(gstatus "$g")
		lats=($(sed -n 's/^latency [0-9]* rc 0 \([0-9]*\) before: "state":"trapped"$/\1/p' <<<"$out"))
		check "trap-wake-$gmode" "$(t test ${#lats[@]} -eq 5 -a "$(delta traps_fired "$st1" "$st2")" -ge 5)" \
			"(${#lats[@]} of 5 switches from the trapped state seen by the client; traps_fired +$(delta traps_fired "$st1" "$st2"))"
		if [ ${#lats[@]} -gt 0 ]; then
			figure "$gmode: workload switch -> client sees it, trapped (dom0, loopback)" \
				"$(printf '%s\n' "${lats[@]}" | sort -n | awk '{ v[NR] = $1; s += $1 } END { printf "min %d, median %d, max %d, mean %d ms over %d", v[1], v[int((NR + 1) / 2)], v[NR], s / NR, NR }')"
		fi
		wait_gstatus 30 "$g" '"clients":0' >/dev/null

		# 4. no update lost across trap/wake cycles
		st1=$(gstatus "$g")
		out=$(dom0_run xentest_keycycles 12 "$g" "$port" "$domid" "$tty" "$log")
		printf '%s\n' "$out" | sed 's/^/    /'
		st2=$(gstatus "$g")
		n=$(grep -c '^keycycle [0-9]* rc 0 .* trapped-before yes$' <<<"$out")
		check "no-lost-update-$gmode" "$(t test "$n" -eq 12 -a "$(delta traps_fired "$st1" "$st2")" -ge 12)" \
			"($n of 12 key presses made from the trapped state reached the client exactly; traps_fired +$(delta traps_fired "$st1" "$st2"), traps_armed +$(delta traps_armed "$st1" "$st2"))"
		lats=($(sed -n 's/^keycycle [0-9]* rc 0 \([0-9]*\) trapped-before yes$/\1/p' <<<"$out"))
		if [ ${#lats[@]} -gt 0 ]; then
			figure "$gmode: key (QMP) -> exact key slot at a connected client, from trapped" \
				"$(printf '%s\n' "${lats[@]}" | sort -n | awk '{ v[NR] = $1; s += $1 } END { printf "min %d, median %d, max %d, mean %d ms over %d", v[1], v[int((NR + 1) / 2)], v[NR], s / NR, NR }')"
		fi
		wait_gstatus 30 "$g" '"clients":0' >/dev/null
		st=$(gstatus "$g")
		check "no-errors-$gmode" "$(t test -z "$(jstr last_error "$st")" -a "$(jnum restarts "$st")" = 0 -a "$(jnum pid "$st")" = "${pids[-1]}")" \
			"(last_error \"$(jstr last_error "$st")\", restarts $(jnum restarts "$st"); scans $(jnum scans "$st"), dirty_requests $(jnum dirty_requests "$st"), traps_armed $(jnum traps_armed "$st"), traps_fired $(jnum traps_fired "$st"))"
	done

	host_phase_end
}

# One VM at a time.  make -j2 check starts the stock and the trap run
# together, and two TCG machines of two vCPUs each on a two-core host
# took each other past the time limit (the trap run at 900 s).  The limit
# counts from when this run has the lock.
exec 9>"${TMPDIR:-/tmp}/lfbvnc-xen-e2e.lock"
stamp "waiting for any other Xen test VM on this machine"
flock 9
stamp "this run has the VM lock"
deadline=$((SECONDS + timeout_s))

qpid=
cleanup() { [ -n "$qpid" ] && kill "$qpid" 2>/dev/null; }
trap cleanup EXIT
for _ in 1 2 3; do
	vnc_port=$(free_port) web_port=$(free_port)
	[ $variant = patched ] && vnc_port2=$(free_port)
	: >"$W/console.log"
	remaining=$((deadline - SECONDS))
	[ $remaining -gt 60 ] || { echo "FAIL: no time left to boot"; exit 1; }
	stamp "booting Xen + dom0 in QEMU (TCG); console: $W/console.log; dom0:5900 -> 127.0.0.1:$vnc_port, dom0:5800 -> 127.0.0.1:$web_port"
	qemu_cmd
	timeout --kill-after=10 $remaining "${qemu[@]}" -serial "file:$W/console.log" -monitor none \
		</dev/null >"$W/qemu.log" 2>&1 &
	qpid=$!
	sleep 3
	if ! kill -0 $qpid 2>/dev/null && grep -q 'host forwarding' "$W/qemu.log"; then
		stamp "port clash, retrying"
		continue
	fi
	break
done

host_ok=none
while kill -0 $qpid 2>/dev/null; do
	sleep 2
	show_new
	if [ $host_ok = none ] && grep -q '^XENTEST .* HOST-PHASE BEGIN' "$W/console.log"; then
		if host_phase_$variant; then host_ok=yes; else host_ok=no; fi
		stamp "host phase: $host_ok"
	fi
done
wait $qpid
qrc=$?
qpid=
show_new
[ "${LFBVNC_XEN_KEEP:-0}" = 1 ] || rm -f "$W/payload.img"

result=$(tr -d '\r' <"$W/console.log" | sed -n 's/^XENTEST [0-9.]* RESULT //p' | tail -n 1)
if [ "${result%% *}" = PASS ] && [ $host_ok = yes ]; then
	stamp "PASS (QEMU exit $qrc)"
	exit 0
fi
[ $qrc -eq 124 ] && stamp "QEMU timed out (LFBVNC_XEN_TIMEOUT=$timeout_s s)"
grep -v "TCG doesn.t support requested feature" "$W/qemu.log"
echo "---- the last 150 lines of $W/console.log"
tail -n 150 "$W/console.log" | tr -d '\r'
stamp "FAIL: dom0 says \"${result:-no result}\", host phase: $host_ok"
exit 1
