#!/bin/bash
# hypervisor-patch/build.sh - Debian 12's Xen 4.17 hypervisor with this
# directory's patch series, built with shadow paging, cached.
#
#   build.sh            build (or reuse) and print the directory holding
#                       xen (the uncompressed multiboot ELF that QEMU's
#                       -kernel loads), xen.gz, xen-syms, config, build.log,
#                       public/ (the patched public headers)
#   build.sh --cached   print that directory if it is built, else exit 1
#   build.sh --key      print the cache key
#
# Steps: `apt-get source xen=VERSION` (VERSION from SOURCE-VERSION) into
# $CACHE/src-VERSION, once; a fresh copy of the unpacked source; every
# *.patch here applied with patch -p1 and no fuzz (a patch that does not
# apply exactly fails the build); the tools part of the series compiled
# (-fsyntax-only: the library is not built); the hypervisor configured
# from Debian's debian/xen-kconfig plus CONFIG_SHADOW_PAGING=y (Debian's
# binary is built without it, and `hap=0` guests need it) and built with
# `make -C xen`.  The result is cached under a key that hashes this
# script, SOURCE-VERSION and the patches.
#
# When apt has no deb-src entries, they are derived from the machine's
# own `deb` entries into a private apt configuration under $CACHE/apt
# (its own source list and package lists; the system's are not touched).
# No archive name is written here: it comes from the machine.
#
# Environment: LFBVNC_XEN_SRC_CACHE (default /var/cache/lfbvnc-xen-src),
# LFBVNC_XEN_JOBS (default: the number of CPUs), LFBVNC_XEN_APT_PRIVATE=1
# (use the derived configuration even when apt has deb-src entries: a
# test of that path).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${LFBVNC_XEN_SRC_CACHE:-/var/cache/lfbvnc-xen-src}
JOBS=${LFBVNC_XEN_JOBS:-$(nproc 2>/dev/null || echo 2)}
VERSION=$(cat "$here/SOURCE-VERSION")
log() { printf 'hypervisor-patch: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# The series, in order (the names sort as they apply).
PATCHES=("$here"/[0-9][0-9][0-9][0-9]-*.patch)
[ -f "${PATCHES[0]}" ] || die "no patches in $here"

key=$(cat "$here/build.sh" "$here/SOURCE-VERSION" "${PATCHES[@]}" |
	sha256sum | cut -c1-16)
OUT=$CACHE/build-$key

case ${1-} in
--key) echo "$key"; exit 0 ;;
--cached) [ -f "$OUT/stamp" ] && { echo "$OUT"; exit 0; }; exit 1 ;;
esac

if [ -f "$OUT/stamp" ]; then
	log "reusing $OUT"
	echo "$OUT"
	exit 0
fi

[ "$(id -u)" -eq 0 ] || die "fetching the source into $CACHE needs root"
missing=
for t in apt-get dpkg-source patch make gcc bison flex python3 flock; do
	command -v $t >/dev/null || missing="$missing $t"
done
[ -z "$missing" ] || die "missing tools:$missing (see dist/debian-build-deps.txt, [xen-test])"

mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
log "waiting for the cache lock" && flock -w 1800 9 || die "cache lock timeout"
if [ -f "$OUT/stamp" ]; then
	log "reusing $OUT (built meanwhile)"; echo "$OUT"; exit 0
fi

# ---------------------------------------------------------------- source

# The machine's deb entries, turned into deb-src entries, in a private
# apt configuration: deb822 files keep their fields (URIs, Suites,
# Components, Signed-By) with Types: deb-src; one-line entries are
# rewritten the same way.
private_apt() {
	local d=$CACHE/apt f
	rm -rf "$d"
	mkdir -p "$d/parts" "$d/lists/partial"
	: > "$d/sources.list"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '
			function flush() {
				if (n && types ~ /(^| )deb( |$)/ && enabled != "no") {
					for (i = 1; i <= n; i++) print buf[i]
					print ""
				}
				n = 0; types = ""; enabled = "yes"
			}
			BEGIN { enabled = "yes" }
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			{
				line = $0; key = tolower($1); sub(/:$/, "", key)
				if (key == "types") { types = $0; sub(/^[^:]*:[ \t]*/, "", types)
					line = "Types: deb-src" }
				else if (key == "enabled") { enabled = tolower($2) }
				buf[++n] = line
			}
			END { flush() }' "$f" > "$d/parts/$(basename "$f")"
	done
	{ cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
		sed -n 's/^[ \t]*deb\([ \t]\)/deb-src\1/p' >> "$d/sources.list"
	APT_OPTS=(-o "Dir::Etc::sourcelist=$d/sources.list"
		-o "Dir::Etc::sourceparts=$d/parts"
		-o "Dir::State::Lists=$d/lists"
		-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
		-o "APT::Sandbox::User=root")
	log "no usable deb-src entry: derived $(grep -c . "$d/sources.list" || true) list line(s) and" \
		"$(ls "$d/parts" | wc -l) deb822 file(s) from the machine's apt sources"
	apt-get "${APT_OPTS[@]}" update >"$CACHE/apt-update.log" 2>&1 ||
		{ tail -n 20 "$CACHE/apt-update.log" >&2; die "apt-get update (private configuration) failed"; }
}

fetch_source() {
	local dst=$CACHE/src-$VERSION tmp=$CACHE/src-$VERSION.tmp
	[ -f "$dst/stamp" ] && return 0
	rm -rf "$tmp" "$dst"
	mkdir -p "$tmp"
	APT_OPTS=(-o "APT::Sandbox::User=root")
	log "apt-get source xen=$VERSION"
	if [ "${LFBVNC_XEN_APT_PRIVATE:-0}" = 1 ] ||
	    ! (cd "$tmp" && apt-get "${APT_OPTS[@]}" source --download-only "xen=$VERSION") \
	    >"$CACHE/apt-source.log" 2>&1; then
		[ -f "$CACHE/apt-source.log" ] &&
			log "apt-get source failed with the machine's configuration" \
			    "($(grep -m1 '^E:' "$CACHE/apt-source.log" || echo ?))"
		rm -rf "$tmp"; mkdir -p "$tmp"
		private_apt
		(cd "$tmp" && apt-get "${APT_OPTS[@]}" source --download-only "xen=$VERSION") \
		    >"$CACHE/apt-source.log" 2>&1 ||
			{ tail -n 20 "$CACHE/apt-source.log" >&2; die "apt-get source xen=$VERSION failed"; }
	fi
	(cd "$tmp" && dpkg-source -x --no-check ./xen_"${VERSION#*:}".dsc src) \
	    >"$CACHE/dpkg-source.log" 2>&1 ||
		{ tail -n 20 "$CACHE/dpkg-source.log" >&2; die "dpkg-source -x failed"; }
	grep -q "^xen ($VERSION)" "$tmp/src/debian/changelog" ||
		die "the unpacked source is not xen $VERSION"
	touch "$tmp/stamp"
	mv "$tmp" "$dst"
}

fetch_source
SRC=$CACHE/src-$VERSION/src

# ----------------------------------------------------------------- build

WORK=$CACHE/work-$key
rm -rf "$WORK" "$OUT.tmp"
mkdir -p "$OUT.tmp"
cp -a "$SRC" "$WORK"
for p in "${PATCHES[@]}"; do
	log "applying $(basename "$p")"
	# No fuzz: the series must apply to this exact source.
	(cd "$WORK" && patch -p1 -F0 -N --dry-run --quiet <"$p") ||
		die "$(basename "$p") does not apply cleanly to xen $VERSION"
	(cd "$WORK" && patch -p1 -F0 -N --quiet --no-backup-if-mismatch <"$p") ||
		die "$(basename "$p") failed to apply"
done

# The library part is not built (dom0 keeps Debian's): check it compiles.
mkdir -p "$WORK/.inc"
ln -s "$WORK/xen/include/public" "$WORK/.inc/xen"
gcc -std=gnu99 -Wall -Werror -fsyntax-only -D__XEN_TOOLS__ -I"$WORK/.inc" \
    -I"$WORK/tools/include" -I"$WORK/tools/libs/devicemodel" \
    "$WORK/tools/libs/devicemodel/core.c" 2>"$OUT.tmp/tools-check.log" ||
	{ cat "$OUT.tmp/tools-check.log" >&2; die "tools/libs/devicemodel/core.c does not compile"; }

t0=$SECONDS
cp "$WORK/debian/xen-kconfig" "$WORK/xen/.config"
echo "CONFIG_SHADOW_PAGING=y" >> "$WORK/xen/.config"
make -C "$WORK/xen" olddefconfig XEN_TARGET_ARCH=x86_64 >"$OUT.tmp/build.log" 2>&1 ||
	{ tail -n 30 "$OUT.tmp/build.log" >&2; die "make olddefconfig failed"; }
grep -qx "CONFIG_SHADOW_PAGING=y" "$WORK/xen/.config" || die "CONFIG_SHADOW_PAGING did not stick"
grep -qx "CONFIG_HVM=y" "$WORK/xen/.config" || die "CONFIG_HVM is off"
log "make -C xen -j$JOBS (a few minutes)"
nice make -C "$WORK/xen" -j"$JOBS" XEN_TARGET_ARCH=x86_64 \
    EXTRA_CFLAGS_XEN_CORE="-ffile-prefix-map=$WORK=." >>"$OUT.tmp/build.log" 2>&1 ||
	{ grep -n -m 20 -e 'error' "$OUT.tmp/build.log" >&2; tail -n 20 "$OUT.tmp/build.log" >&2
	  die "the hypervisor build failed (log: $OUT.tmp/build.log)"; }
cp "$WORK/xen/xen" "$WORK/xen/xen.gz" "$WORK/xen/xen-syms" "$OUT.tmp/"
cp "$WORK/xen/.config" "$OUT.tmp/config"
# The patched public headers, for the daemon's layout check
# (tests/xen/test-xentrap.c, compiled by test-build.sh).
cp -a "$WORK/xen/include/public" "$OUT.tmp/public"
echo "$VERSION" > "$OUT.tmp/source-version"
for p in "${PATCHES[@]}"; do basename "$p"; done > "$OUT.tmp/series"
log "built in $((SECONDS - t0)) s"
touch "$OUT.tmp/stamp"
mv "$OUT.tmp" "$OUT"
rm -rf "$WORK"

for d in "$CACHE"/build-* "$CACHE"/work-*; do
	[ -e "$d" ] || continue
	case $d in "$OUT") ;; *) log "removing stale $d"; rm -rf "$d" ;; esac
done
echo "$OUT"
