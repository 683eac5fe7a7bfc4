#!/bin/bash
# The Xen end-to-end test: Debian's Xen 4.17 with a Debian dom0, booted in
# qemu-system-x86_64 with software emulation (TCG, emulated AMD SVM + NPT),
# running lfbvnc's own HVM test guest.  See tests/xen/README.md.
#
#   tests/xen/run-e2e.sh            the test (the suite runs it this way)
#   tests/xen/run-e2e.sh --shell    boot the same system with a root shell
#                                   in dom0 on this terminal (xentest=shell)
#
# Environment: top_builddir (set by `make check'; default: the current
# directory), LFBVNC_XEN_CACHE (build-image.sh),
# LFBVNC_XEN_TIMEOUT (seconds for everything, default 900),
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

mkdir -p "$W"
stamp "building the test guest and dirtyvram-check"
(unset MAKEFLAGS MFLAGS MAKELEVEL
 make -s -C "$build" tests/xen/guest/xentest-guest.img tests/xen/dom0/dirtyvram-check) >"$W/make.log" 2>&1 ||
	{ cat "$W/make.log"; error "could not build the test guest or dirtyvram-check"; }

stamp "dom0 image"
img=$("$here/build-image.sh" 2> >(sed 's/^/  /' >&2) | tail -n 1) && [ -f "$img/stamp" ] ||
	error "build-image.sh failed"
stamp "dom0 image: $img"

cat >"$W/params" <<EOF
XENTEST_MODE=${LFBVNC_XEN_MODE:-1024x768x32}
XENTEST_WORKLOAD=0
XENTEST_HOST_PHASE=1
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

qemu_cmd() {
	# shellcheck disable=SC2054  # the commas are QEMU's
	qemu=(qemu-system-x86_64 \
		-accel tcg,thread=multi,tb-size=512 -machine q35 \
		-cpu EPYC,+svm,+npt,-smap,-monitor -m 3072 -smp 2 \
		-display none -vga none -no-reboot \
		-kernel "$img/xen" -append "$xen_args" \
		-initrd "$img/vmlinuz $dom0_args,$img/initrd.img" \
		-drive "file=$img/rootfs.img,if=virtio,format=raw,snapshot=on,cache=unsafe" \
		-drive "file=$W/payload.img,if=virtio,format=raw,cache=unsafe" \
		-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$vnc_port-10.0.2.15:5900,hostfwd=tcp:127.0.0.1:$web_port-10.0.2.15:5800" \
		-device virtio-net-pci,netdev=n0 \
		-chardev "pipe,id=rpc,path=$W/rpc" -device virtio-serial-pci \
		-device virtserialport,chardev=rpc,name=xentest.rpc)
}

if [ $mode = shell ]; then
	vnc_port=$(free_port) web_port=$(free_port)
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
	while IFS= read -r -t 150 l <&6; do
		l=${l%$'\r'}
		case $l in
		"OUT $rpc_id "*) echo "${l#OUT $rpc_id }" ;;
		"OUT $rpc_id") echo ;;
		"END $rpc_id "*) return "${l#END $rpc_id }" ;;
		esac
	done
	return 124
}
# tcp_banner PORT: the first line a server on 127.0.0.1:PORT sends
tcp_banner() {
	local l=
	exec 7<>"/dev/tcp/127.0.0.1/$1" || return 1
	IFS= read -r -t 20 l <&7
	exec 7<&-
	echo "$l"
}
host_phase() {
	local ok=1 out
	exec 5>"$W/rpc.in" 6<"$W/rpc.out"
	stamp "host: dom0_run xl list"
	out=$(dom0_run xl list) || ok=0
	printf '%s\n' "$out" | sed 's/^/    /'
	grep -q '^xentest ' <<<"$out" || { ok=0; stamp "host: FAIL the guest is not in xl list"; }
	# the forwarded ports reach dom0 (the banner stand-ins for lfbvncd)
	out=$(tcp_banner "$vnc_port")
	[ "$out" = "XENTEST-BANNER 5900" ] || ok=0
	stamp "host: 127.0.0.1:$vnc_port -> dom0:5900 says \"$out\""
	out=$(tcp_banner "$web_port")
	[ "$out" = "XENTEST-BANNER 5800" ] || ok=0
	stamp "host: 127.0.0.1:$web_port -> dom0:5800 says \"$out\""
	# The daemon's checks go here: lfbvnc-probe on 127.0.0.1:$vnc_port,
	# dom0_run lfbvncctl --json status, ...
	if [ $ok = 1 ]; then echo "FINISH PASS" >&5; else echo "FINISH FAIL" >&5; fi
	IFS= read -r -t 30 out <&6
	exec 5>&- 6<&-
	[ $ok = 1 ]
}

qpid=
cleanup() { [ -n "$qpid" ] && kill "$qpid" 2>/dev/null; }
trap cleanup EXIT
for _ in 1 2 3; do
	vnc_port=$(free_port) web_port=$(free_port)
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
		if host_phase; then host_ok=yes; else host_ok=no; fi
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
echo "---- the last 80 lines of $W/console.log"
tail -n 80 "$W/console.log" | tr -d '\r'
stamp "FAIL: dom0 says \"${result:-no result}\", host phase: $host_ok"
exit 1
