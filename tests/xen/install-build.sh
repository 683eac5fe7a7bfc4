#!/bin/bash
# Make the per-run payload disk of the Xen end-to-end test.
#
#   tests/xen/install-build.sh BUILD_DIR OUT_IMG IMAGE_DIR [PARAMS_FILE]
#
# BUILD_DIR   a configured and built lfbvnc build tree (host binaries: the
#             host is Debian 12 like the dom0, so they run there unchanged)
# OUT_IMG     the ext4 image to write; dom0 mounts it at /xentest
# IMAGE_DIR   build-image.sh's image directory (its "tree" file names the
#             dom0 root tree, to see which libraries the dom0 lacks)
# PARAMS_FILE copied to /xentest/params (shell assignments for xentest.sh)
#
# Layout of the payload:
#   root/          `make install DESTDIR=root' of BUILD_DIR, plus any shared
#                  library the installed programs need that the dom0 lacks
#                  (e.g. the sanitizer runtimes); xentest-init copies it
#                  over dom0's /
#   xentest.sh     the in-dom0 driver
#   bin/dirtyvram-check
#   bin/xen-frame  the guest's expected screens (for a probe run in dom0)
#   guest.img      the test guest's disk
#   params
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: $0 BUILD_DIR OUT_IMG IMAGE_DIR [PARAMS_FILE]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
out=$2
tree=$(cat "$3/tree")
params=${4-}
log() { printf 'install-build: %s\n' "$*" >&2; }

stage=$(mktemp -d "${TMPDIR:-/tmp}/lfbvnc-xen-payload.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/root" "$stage/bin"

log "make install DESTDIR=<payload>/root (from $build)"
(unset MAKEFLAGS MFLAGS MAKELEVEL; make -s -C "$build" install DESTDIR="$stage/root") >"$stage/install.log" 2>&1 ||
	{ tail -n 30 "$stage/install.log" >&2; log "make install failed"; exit 1; }
rm -f "$stage/install.log"

install -m 0755 "$here/dom0/xentest.sh" "$stage/xentest.sh"
install -m 0755 "$build/tests/xen/dom0/dirtyvram-check" "$stage/bin/dirtyvram-check"
install -m 0755 "$build/tests/xen/xen-frame" "$stage/bin/xen-frame"
install -m 0644 "$build/tests/xen/guest/xentest-guest.img" "$stage/guest.img"
if [ -n "$params" ]; then install -m 0644 "$params" "$stage/params"; else : >"$stage/params"; fi

# libraries the dom0 lacks (paths taken after resolving symlinks, so a
# merged-/usr dom0 gets /usr/lib/..., never a /lib directory)
while IFS= read -r f; do
	ldd "$f" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) (.*/\1/p'
done < <(find "$stage/root" "$stage/bin" -type f -perm -u+x -exec sh -c \
	'head -c 4 "$1" | grep -q ELF' _ {} \; -print) | sort -u |
while IFS= read -r lib; do
	real=$(readlink -f "$lib")
	if [ ! -e "$tree$lib" ] && [ ! -e "$tree$real" ]; then
		mkdir -p "$stage/root$(dirname "$real")"
		cp -L "$lib" "$stage/root$real"
		[ "$(basename "$lib")" = "$(basename "$real")" ] ||
			ln -sf "$(basename "$real")" "$stage/root$(dirname "$real")/$(basename "$lib")"
		log "adding $real (not in the dom0)"
	fi
done

size=$(( $(du -sm "$stage" | cut -f1) * 2 + 32 ))
rm -f "$out"
truncate -s "${size}M" "$out"
mkfs.ext4 -q -F -L xentest-payload -d "$stage" "$out" "${size}M"
log "payload: $out (${size} MiB)"
