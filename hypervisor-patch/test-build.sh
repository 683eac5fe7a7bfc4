#!/bin/bash
# hypervisor-patch/test-build.sh - the series applies to the recorded
# Debian source and the hypervisor builds (see build.sh; about 3 minutes
# on 2 cores when not cached).  Exit 77 (skip) when it cannot be tried
# here: not root, no apt, or the build tools are missing.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out() { printf 'HYPERVISOR-PATCH %s\n' "$*"; }
skip() { out "SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (apt-get source into the cache)"
command -v apt-get >/dev/null || skip "no apt-get"
for t in dpkg-source patch make gcc bison flex python3; do
	command -v $t >/dev/null || skip "$t is not installed (dist/debian-build-deps.txt, [xen-test])"
done

t0=$SECONDS
if ! dir=$("$here/build.sh"); then
	out "build: FAIL"
	exit 1
fi
out "source $(cat "$dir/source-version"), series: $(tr '\n' ' ' <"$dir/series")"
out "build: PASS ($((SECONDS - t0)) s, $dir)"

fail=0
check() {
	if "$@" >/dev/null 2>&1; then out "$name: PASS"; else out "$name: FAIL"; fail=1; fi
}
name=multiboot-elf; check sh -c "od -An -tx1 -N4 '$dir/xen' | grep -q '7f 45 4c 46'"
name=shadow-paging; check grep -qx CONFIG_SHADOW_PAGING=y "$dir/config"
# The series is in: its entry points are in the symbol table.
name=symbols
check sh -c "nm '$dir/xen-syms' | grep -q ' paging_vram_trap_prepare$' &&
	nm '$dir/xen-syms' | grep -q ' paging_vram_written$' &&
	nm '$dir/xen-syms' | grep -q ' shadow_track_dirty_vram$'"
# The daemon's own copy of the ABI (daemon/xentrap.h) against the
# patched header: tests/xen/test-xentrap.c's static assertions.
top=$(cd "$here/.." && pwd)
name=daemon-abi
if [ -f "$top/tests/xen/test-xentrap.c" ]; then
	tmp=$(mktemp -d)
	printf '#define HAVE_XEN 1\n' >"$tmp/config.h"
	check sh -c "gcc -std=gnu11 -Wall -Werror -I'$tmp' -I'$top/daemon' \
		-DXENTRAP_PATCHED_DM_OP_H='\"$dir/public/hvm/dm_op.h\"' \
		-o '$tmp/test-xentrap' '$top/tests/xen/test-xentrap.c' && '$tmp/test-xentrap'"
	rm -rf "$tmp"
fi
exit $fail
