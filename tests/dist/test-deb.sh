#!/bin/bash
# The Debian package (debian/): build it with dpkg-buildpackage from a copy
# of the source tree, lint it, install it into a fresh Debian 12 chroot
# and check what it installed, then purge it.
#
# What it proves: the .deb builds from the tree as it is; lintian reports
# no error or warning; "apt-get install ./lfbvnc_*.deb" resolves every
# dependency from the archive (each program then runs in the chroot, with
# no library missing); the package installs the programs, the unit, the
# SysV script, the conffile and the man pages (each renders without a
# groff warning), creates the system user lfbvnc with a nologin shell,
# does not start the daemon in the chroot, and the daemon starts with the
# default configuration and answers lfbvncctl; "apt-get purge" leaves none
# of its files.  Negative controls: after the purge the same file checks
# must all fail, the man page check must reject a page with an unknown
# macro, and the unit checks must reject a unit that does not exist and
# one with an unknown key.
#
# The chroot: a minbase debootstrap of bookworm plus systemd, kept as a
# tarball in $LFBVNC_DEB_CACHE (default /var/cache/lfbvnc-deb-chroot; made
# once, with the network) and extracted fresh for every run.  The .debs
# apt fetches for the dependencies are kept there too, so a warm run needs
# no network.
# The archive: the first URI this machine's apt configuration uses for
# the suite (tests/apt-mirror.sh), else debootstrap's default.
#
# Exit: 0 pass, 1 fail, 77 skip (not root; dpkg-buildpackage, debhelper,
# lintian or debootstrap missing; no network when the cached tarball is
# missing or its package lists are out of date).
unset LFBVNC_TEST_VALGRIND	# it runs the packaged programs, not the build's
export PATH=$PATH:/usr/sbin:/sbin	# debootstrap, chroot
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../apt-mirror.sh"

SUITE=bookworm
# Bump to remake the cached tarball.
TARBALL_VERSION=3
# Besides minbase: systemd, as on a dom0, to read and check the unit with
# (systemd 252 on the host has no "systemctl --root= cat").
INCLUDE=systemd
CACHE=${LFBVNC_DEB_CACHE:-/var/cache/lfbvnc-deb-chroot}
ROOT=			# the chroot of this run
MOUNTS=()		# what is mounted in it, the last first when unmounting

stamp() { printf '%s: [%4ds] %s\n' "$IT_NAME" "$SECONDS" "$*"; }

# ------------------------------------------------------------- clean-up

# Processes whose root is the chroot: only this run can have started them.
chroot_pids() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && echo "${p#/proc/}"
	done
	return 0
}

# Runs before it_cleanup: nothing may still run in the chroot or be
# mounted in it when it is removed (rm -rf would follow a bind mount of
# /dev into the host's /dev).
deb_cleanup() {
	local rc=$? i p left
	set +e
	[ -n "$ROOT" ] || return $rc
	for ((i = ${#IT_PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${IT_PIDS[$i]}"
	done
	for p in $(chroot_pids); do kill -KILL "$p" 2>/dev/null; done
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${MOUNTS[$i]}" 2>/dev/null || umount -l "${MOUNTS[$i]}" ||
		    echo "$IT_NAME: cannot unmount ${MOUNTS[$i]}"
	done
	left=$(awk -v r="$ROOT/" 'index($2 "/", r) == 1 { print $2 }' /proc/mounts)
	if [ -n "$left" ]; then
		echo "FAIL: still mounted, $ROOT left in place: $left"
		return 1
	fi
	rm -rf --one-file-system "$ROOT"
	return $rc
}

# --------------------------------------------------------------- checks

skip_unless_tools() {
	local t
	[ "$(id -u)" -eq 0 ] || skip "needs root (chroot, mounts)"
	for t in dpkg-buildpackage dh lintian debootstrap chroot man; do
		command -v "$t" >/dev/null ||
		    skip "$t is not installed (dpkg-dev, debhelper, lintian, debootstrap: ./quickstart deps test)"
	done
}

# The source files to copy, NUL-separated, relative to $top_srcdir: in a
# git checkout those git knows or would add (not ignored), that exist;
# otherwise (an unpacked tarball, make distcheck) every file but those of
# build directories.
git_or_dist() {
	if git -C "$top_srcdir" rev-parse --show-toplevel >/dev/null 2>&1; then
		git -C "$top_srcdir" ls-files -z --cached --others --exclude-standard |
		    (cd "$top_srcdir" && while IFS= read -r -d '' f; do
			[ -e "$f" ] && printf '%s\0' "$f"
		    done)
	else
		(cd "$top_srcdir" && find . -type d \( -path ./_build -o \
		    -path './build*' -o -path ./autom4te.cache -o -path ./debian/build \
		    -o -path ./debian/lfbvnc \) -prune -o \( -type f -o -type l \) -print0)
	fi
}

# lint_start DEB: run lintian in the background, beside the chroot's
# set-up; lint_check prints its report and fails on an E: or W: line.
lint_start() {
	lintian --pedantic --display-info "$1" >"$WORK/lintian.txt" 2>&1 &
	LINT_PID=$!
	IT_PIDS+=("$LINT_PID")
}

lint_check() {
	local bad rc=0
	wait "$LINT_PID" || rc=$?
	sed 's/^/  lintian: /' "$WORK/lintian.txt"
	bad=$(grep -E '^[EW]: ' "$WORK/lintian.txt" || true)
	[ -z "$bad" ] || fail "lintian errors or warnings:
$bad"
	# Exit 1 with no E: line: lintian itself failed (a crash, a bad file).
	[ "$rc" -eq 0 ] || fail "lintian exited with $rc (above)"
	stamp "lintian: no error or warning"
}

# man_renders FILE: man-db formats FILE without a groff warning.
man_renders() {
	local err
	err=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null) &&
	    [ -z "$err" ] || { printf '%s\n' "$err"; return 1; }
}

# The installed files the package must have, relative to the chroot.
PROGRAMS="usr/sbin/lfbvncd usr/bin/lfbvncctl usr/bin/lfbvnc-probe
usr/bin/lfbvnc-demo usr/bin/lfbvnc-xvfb"
FILES="$PROGRAMS lib/systemd/system/lfbvncd.service etc/init.d/lfbvncd
etc/lfbvnc/lfbvncd.conf usr/lib/sysusers.d/lfbvnc.conf
usr/share/man/man8/lfbvncd.8.gz usr/share/man/man5/lfbvncd.conf.5.gz
usr/share/man/man1/lfbvnc-probe.1.gz"

# missing_files: the FILES not in the chroot, one per line, and
# lfbvncctl's page when it is in neither section 1 nor 8.
missing_files() {
	local f
	for f in $FILES; do
		[ -e "$ROOT/$f" ] || echo "$f"
	done
	ls "$ROOT"/usr/share/man/man[18]/lfbvncctl.[18].gz >/dev/null 2>&1 ||
	    echo "usr/share/man/man[18]/lfbvncctl.[18].gz"
	return 0
}

# unit_text UNIT: the unit as systemd would read it, with its drop-ins.
unit_text() {
	in_root systemd-analyze cat-config "systemd/system/$1" 2>&1
}

in_root() {
	chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    LC_ALL=C DEBIAN_FRONTEND=noninteractive "$@"
}

# ---------------------------------------------------------------- steps

# build_package: copy the tree, build the .deb into $WORK; sets DEB.
build_package() {
	local src=$WORK/src/lfbvnc
	mkdir -p "$src"
	git_or_dist | (cd "$top_srcdir" && tar --null -T - --mode=u+w -cf -) |
	    tar -C "$src" -xf - || fail "cannot copy the source tree"
	stamp "source copied ($(find "$src" -type f | wc -l) files); dpkg-buildpackage"
	(cd "$src" && DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=2" \
	    dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1 ||
	    { tail -n 40 "$WORK/build.log"; fail "dpkg-buildpackage failed (log above)"; }
	DEB=$(ls "$WORK"/src/lfbvnc_*.deb 2>/dev/null | head -n 1)
	[ -f "$DEB" ] || fail "dpkg-buildpackage made no lfbvnc_*.deb"
	local want
	want=$(sed -n 's/^AC_INIT(\[lfbvnc\], \[\([^]]*\)\].*/\1/p' "$src/configure.ac")
	[ "$(dpkg-deb -f "$DEB" Version)" = "$want" ] ||
	    fail "package version $(dpkg-deb -f "$DEB" Version), configure.ac says $want (debian/changelog is stale)"
	stamp "built $(basename "$DEB")"
}

# cached_tarball: set TARBALL to the tarball of a minbase $SUITE, making
# it first when it is not cached (under a lock: parallel runs make it once).
cached_tarball() {
	local key tar mirror tmp d
	key=$(printf '%s\n' "$TARBALL_VERSION" "$SUITE" minbase "$INCLUDE" | sha256sum | cut -c1-16)
	tar=$CACHE/$SUITE-minbase-$key.tar
	mkdir -p "$CACHE/archives"
	exec 8>"$CACHE/lock"
	flock -w 900 8 || fail "timed out waiting for the lock on $CACHE"
	if [ ! -f "$tar" ]; then
		mirror=$(apt_mirror "$SUITE" | head -n 1)
		# No network: a skip, not a failure (the check is the package,
		# not this machine's connectivity).
		if [ -n "$mirror" ] && command -v wget >/dev/null &&
		    ! wget -q -T 20 -t 1 -O /dev/null "$mirror/dists/$SUITE/Release"; then
			skip "no tarball cached and $mirror is unreachable"
		fi
		tmp=$CACHE/tree.tmp
		rm -rf --one-file-system "$tmp"
		stamp "debootstrap $SUITE (minbase) into $tmp (mirror: ${mirror:-debootstrap default})"
		debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$tmp" ${mirror:+"$mirror"} \
		    >"$CACHE/debootstrap.log" 2>&1 || {
			tail -n 20 "$CACHE/debootstrap.log"
			rm -rf --one-file-system "$tmp"
			skip "debootstrap failed (no network to the archive?), log: $CACHE/debootstrap.log"
		}
		# This machine's apt sources: the package was built against its
		# libraries, which may come from the suite's updates or security
		# archive (libxen's shlibs want the very version).  Then the
		# package lists, so that "apt-get install" needs no update.
		if [ -n "$(apt_mirror "$SUITE")" ]; then
			rm -f "$tmp/etc/apt/sources.list"
			cp -p /etc/apt/sources.list "$tmp/etc/apt/" 2>/dev/null || true
			cp -p /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
			    "$tmp/etc/apt/sources.list.d/" 2>/dev/null || true
		fi
		# No translations, no source package cache: 75 MB less to
		# extract for every run.
		printf '%s\n' 'Acquire::Languages "none";' 'Dir::Cache::srcpkgcache "";' \
		    >"$tmp/etc/apt/apt.conf.d/90lfbvnc-test"
		chroot "$tmp" apt-get -q update >>"$CACHE/debootstrap.log" 2>&1 ||
		    { rm -rf --one-file-system "$tmp"; fail "apt-get update in the new tree failed"; }
		rm -f "$tmp"/var/cache/apt/archives/*.deb
		tar -C "$tmp" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar" ||
		    fail "cannot write $tar"
		rm -rf --one-file-system "$tmp"
		for d in "$CACHE"/*.tar; do
			[ "$d" = "$tar" ] || rm -f "$d"
		done
		rm -f "$CACHE"/archives/*.deb	# fetched for the old lists
		stamp "cached $tar"
	fi
	exec 8>&-
	TARBALL=$tar
}

# make_root: a fresh chroot from the tarball, with /proc and /dev.
make_root() {
	cached_tarball
	ROOT=$(mktemp -d "${TMPDIR:-/tmp}/lfbvnc-deb-root.XXXXXX")
	ROOT=$(cd "$ROOT" && pwd -P)	# as /proc/PID/root shows it
	# On a tmpfs when memory allows: extracting there takes half a second
	# instead of several, and unmounting it is the clean-up.
	if [ "$(awk '$1 == "MemAvailable:" { print int($2 / 1024) }' /proc/meminfo)" -ge 2048 ]; then
		mount -t tmpfs -o size=1g,mode=0755 lfbvnc-deb "$ROOT" && MOUNTS+=("$ROOT") ||
		    fail "cannot mount a tmpfs on $ROOT"
	fi
	tar -C "$ROOT" -xf "$TARBALL" || fail "cannot extract $TARBALL"
	mount -t proc proc "$ROOT/proc" && MOUNTS+=("$ROOT/proc") ||
	    fail "cannot mount /proc in the chroot"
	mount --bind /dev "$ROOT/dev" && MOUNTS+=("$ROOT/dev") ||
	    fail "cannot bind /dev into the chroot"
	cp -p "$CACHE"/archives/*.deb "$ROOT/var/cache/apt/archives/" 2>/dev/null || true
	stamp "chroot $ROOT ready"
}

install_package() {
	cp "$DEB" "$ROOT/tmp/"
	# Recommends (novnc) are left out: they would pull in python3, and
	# the package must work without them (web is off by default).
	if ! in_root apt-get install -y -q --no-install-recommends \
	    "/tmp/$(basename "$DEB")" >"$WORK/install.log" 2>&1; then
		# The lists in the tarball may name versions the archive has
		# since replaced.
		stamp "install failed; apt-get update and again"
		in_root apt-get -q update >>"$WORK/install.log" 2>&1 ||
		    { tail -n 30 "$WORK/install.log"
		      skip "the chroot's package lists are stale and apt-get update failed (no network?)"; }
		in_root apt-get install -y -q --no-install-recommends \
		    "/tmp/$(basename "$DEB")" >>"$WORK/install.log" 2>&1 ||
		    { tail -n 30 "$WORK/install.log"; fail "apt-get install failed"; }
	fi
	cp -n "$ROOT"/var/cache/apt/archives/*.deb "$CACHE/archives/" 2>/dev/null || true
	stamp "installed"
}

check_installed() {
	local f p missing shell name sect
	missing=$(missing_files)
	[ -z "$missing" ] || fail "not installed: $missing"

	p=$(chroot_pids)
	[ -z "$p" ] || fail "installing started processes in the chroot: $(ps -o pid=,args= -p "${p//$'\n'/,}")"

	for f in $(in_root dpkg -L lfbvnc | grep '^/usr/share/man/.*\.gz$'); do
		man_renders "$ROOT$f" || fail "man -l $f warns (above)"
	done
	printf '.TH X 1\n.SH NAME\nx \\- y\n.NOSUCHMACRO\n' >"$WORK/bad.1"
	! man_renders "$WORK/bad.1" >/dev/null ||
	    fail "negative control: the man page check accepts an unknown macro"

	shell=$(in_root getent passwd lfbvnc | cut -d: -f7) ||
	    fail "no user lfbvnc in the chroot"
	[ "$shell" = /usr/sbin/nologin ] || fail "lfbvnc's shell is \"$shell\""
	in_root getent group lfbvnc >/dev/null || fail "no group lfbvnc"
	[ ! -e "$ROOT/nonexistent" ] || fail "the user's home /nonexistent was created"

	# systemd 252 has "systemctl cat" neither with --root= nor in a chroot
	# (it wants a running manager); "systemd-analyze cat-config" prints
	# the same (the unit and its drop-ins) offline.
	unit_text lfbvncd.service >"$WORK/unit.txt"
	grep -q '^ExecStart=/usr/sbin/lfbvncd ' "$WORK/unit.txt" ||
	    { cat "$WORK/unit.txt"; fail "the unit as systemd reads it (above) starts no /usr/sbin/lfbvncd"; }
	! unit_text lfbvnc-nosuch.service | grep -q '^ExecStart=' ||
	    fail "negative control: a unit that does not exist has an ExecStart"
	# --man=no: the chroot has no man-db; the pages are checked below.
	p=$(in_root systemd-analyze verify --man=no lfbvncd.service 2>&1) || true
	[ -z "$p" ] || fail "systemd-analyze verify lfbvncd.service: $p"
	printf '[Service]\nExecStart=/bin/true\nNoSuchKey=1\n' \
	    >"$ROOT/etc/systemd/system/lfbvnc-bad.service"
	p=$(in_root systemd-analyze verify --man=no lfbvnc-bad.service 2>&1) || true
	[ -n "$p" ] ||
	    fail "negative control: systemd-analyze verify accepts an unknown key"
	rm "$ROOT/etc/systemd/system/lfbvnc-bad.service"
	for p in $(sed -n 's/^Documentation=//p' "$WORK/unit.txt"); do
		case $p in
		man:*\(*\))
			name=${p#man:}
			name=${name%%(*}
			sect=${p#*(}
			sect=${sect%)}
			[ -f "$ROOT/usr/share/man/man$sect/$name.$sect.gz" ] ||
			    fail "the unit's Documentation=$p is not in the package"
			;;
		esac
	done
	p=$(in_root systemctl is-enabled lfbvncd.service 2>&1) || true
	[ "$p" = enabled ] || fail "systemctl is-enabled lfbvncd.service: $p"
	[ -L "$ROOT/etc/systemd/system/multi-user.target.wants/lfbvncd.service" ] ||
	    fail "lfbvncd.service is not enabled"
	ls "$ROOT"/etc/rc2.d/S*lfbvncd >/dev/null 2>&1 ||
	    fail "the SysV script is not enabled (no /etc/rc2.d/S*lfbvncd)"

	# The programs and lfbvnc-xvfb's preload shim.
	for f in $PROGRAMS $(in_root dpkg -L lfbvnc | grep '\.so$'); do
		f=${f#/}
		p=$(in_root ldd "/$f" 2>&1) || fail "ldd /$f: $p"
		! grep -q 'not found' <<<"$p" || fail "/$f: libraries missing: $p"
	done
	in_root lfbvncd -h >/dev/null || fail "lfbvncd -h"
	in_root lfbvncctl -h >/dev/null || fail "lfbvncctl -h"
	in_root lfbvnc-probe --help >/dev/null || fail "lfbvnc-probe --help"
	p=$(in_root lfbvncd -n 2>&1) && grep -q 'configuration OK: 0 guests' <<<"$p" ||
	    fail "lfbvncd -n with the default configuration: $p"
	stamp "files, user, unit, programs checked"
}

# The daemon starts with the default configuration and no guest: run it
# in the chroot as the unit does (in the foreground, /run/lfbvnc made as
# RuntimeDirectory= makes it) and ask it for its status.
check_daemon() {
	mkdir -p "$ROOT/run/lfbvnc"
	bg lfbvncd-chroot chroot "$ROOT" /usr/sbin/lfbvncd
	D_PID=$BG_PID
	wait_until 10 "lfbvncd's control socket in the chroot" chroot_daemon_up
	in_root lfbvncctl status >"$WORK/status.txt" 2>&1 ||
	    fail "lfbvncctl status: $(cat "$WORK/status.txt")"
	stop_pid "$D_PID"
	! alive "$D_PID" || fail "lfbvncd did not stop"
	stamp "lfbvncd ran with the default configuration"
}

chroot_daemon_up() {
	alive "$D_PID" || fail "lfbvncd exited: $(tail -n 5 "$WORK/lfbvncd-chroot.log")"
	[ -S "$ROOT/run/lfbvnc/control.sock" ]
}

check_purge() {
	local left
	in_root apt-get purge -y -q lfbvnc >"$WORK/purge.log" 2>&1 ||
	    { tail -n 20 "$WORK/purge.log"; fail "apt-get purge failed"; }
	in_root dpkg-query -W -f '${db:Status-Status}' lfbvnc 2>/dev/null |
	    grep -qv not-installed && fail "dpkg still knows lfbvnc after the purge"
	# Negative control of the file checks: now every one must fail.
	left=$(printf '%s\n' $FILES "usr/share/man/man[18]/lfbvncctl.[18].gz" |
	    grep -vxF -f <(missing_files) || true)
	[ -z "$left" ] || fail "left after the purge: $left"
	[ ! -e "$ROOT/etc/lfbvnc" ] || fail "/etc/lfbvnc left after the purge"
	! ls "$ROOT"/etc/rc?.d/*lfbvncd >/dev/null 2>&1 || fail "rc?.d links left after the purge"
	[ ! -e "$ROOT/etc/systemd/system/multi-user.target.wants/lfbvncd.service" ] ||
	    fail "the unit's enablement link left after the purge"
	stamp "purged"
}

# ----------------------------------------------------------------- main

skip_unless_tools
it_init deb 1800 "$@"
trap 'deb_cleanup; it_cleanup' EXIT
build_package
lint_start "$DEB"
make_root
install_package
lint_check
check_installed
check_daemon
check_purge
stamp "pass"
