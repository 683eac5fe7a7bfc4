#!/bin/bash
# Build, or reuse from the cache, the dom0 image of the Xen end-to-end test.
#
#   tests/xen/build-image.sh [--tree-only | --cached]
#
# Prints the image directory on the last line of stdout; it holds
#   xen          the hypervisor, uncompressed (QEMU's multiboot loader
#                cannot load the .gz)
#   vmlinuz      the dom0 kernel      initrd.img   its initramfs
#   rootfs.img   ext4 image of the dom0 root file system
#
# Two cache levels under $LFBVNC_XEN_CACHE (default /var/cache/lfbvnc-xen-test):
#   tree-KEY/   the debootstrap tree; KEY hashes SCRIPT_VERSION, the suite and
#               the package list, so changing either rebuilds it (~3 min)
#   image-KEY/  the boot files and rootfs.img; KEY hashes the tree key, this
#               script and dom0/xentest-init (~15 s to rebuild)
# Entries with other keys are deleted.  The cache never holds lfbvnc's own
# build: install-build.sh puts that on a separate, per-run disk.
#
# The archive: $LFBVNC_XEN_MIRROR if set, else the first URI that this
# machine's apt configuration uses for the suite, else debootstrap's default.
# Needs root (debootstrap, chroot) unless both cache levels are current.
set -euo pipefail

SCRIPT_VERSION=1
SUITE=bookworm
# dom0: Xen 4.17 and its toolstack, the device model, a kernel, and the
# run-time libraries of lfbvncd/lfbvncctl (host binaries run unchanged:
# the host is Debian 12 too).
PACKAGES="
xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils
qemu-system-xen linux-image-amd64 initramfs-tools udev kmod iproute2 procps
libvncserver1 libvncclient1 libevent-2.1-7 zlib1g
libxenmisc4.17 libxencall1 libxendevicemodel1 libxenevtchn1
libxenforeignmemory1 libxengnttab1 libxenstore4 libxentoolcore1
libxentoollog1 libxenhypfs1
"

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${LFBVNC_XEN_CACHE:-/var/cache/lfbvnc-xen-test}
log() { printf 'build-image: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

tree_key=$(printf '%s\n' "$SCRIPT_VERSION" "$SUITE" $PACKAGES | sha256sum | cut -c1-16)
image_key=$( { echo "$tree_key"; cat "$here/build-image.sh" "$here/dom0/xentest-init"; } |
	sha256sum | cut -c1-16)
TREE=$CACHE/tree-$tree_key
IMG=$CACHE/image-$image_key

tree_only=no
case ${1-} in
--tree-only) tree_only=yes ;;
--cached)	# is the current image in the cache?
	[ -f "$IMG/stamp" ] && { echo "$IMG"; exit 0; }
	exit 1 ;;
esac

if [ -f "$IMG/stamp" ] && [ "$tree_only" = no ]; then
	log "reusing $IMG"
	echo "$IMG"
	exit 0
fi

[ "$(id -u)" -eq 0 ] || die "building the dom0 image needs root (debootstrap, chroot, file ownership)"
mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
log "waiting for the cache lock" && flock -w 1800 9 || die "cache lock timeout"
if [ -f "$IMG/stamp" ] && [ "$tree_only" = no ]; then
	log "reusing $IMG (built meanwhile)"; echo "$IMG"; exit 0
fi

. "$here/../apt-mirror.sh"

build_tree() {
	local mirror tmp pkgs
	mirror=${LFBVNC_XEN_MIRROR:-$(apt_mirror "$SUITE" 2>/dev/null | head -n 1 || true)}
	command -v debootstrap >/dev/null || die "debootstrap is not installed"
	tmp=$TREE.tmp
	rm -rf "$tmp"
	pkgs=$(echo $PACKAGES | tr ' ' ,)
	log "debootstrap $SUITE into $tmp (mirror: ${mirror:-debootstrap default})"
	local t0=$SECONDS
	debootstrap --variant=minbase --include="$pkgs" "$SUITE" "$tmp" ${mirror:+"$mirror"} \
		>"$CACHE/debootstrap.log" 2>&1 ||
		{ tail -n 30 "$CACHE/debootstrap.log" "$tmp/debootstrap/debootstrap.log" >&2 2>/dev/null
		  die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
	log "debootstrap took $((SECONDS - t0)) s"
	ls "$tmp"/boot/vmlinuz-* >/dev/null 2>&1 || die "no kernel in the tree"
	if ! ls "$tmp"/boot/initrd.img-* >/dev/null 2>&1; then
		log "creating the initramfs"
		mount -t proc proc "$tmp/proc"
		chroot "$tmp" update-initramfs -c -k all >&2 || { umount "$tmp/proc"; die "update-initramfs failed"; }
		umount "$tmp/proc"
	fi
	ls "$tmp"/boot/xen-4.17-amd64.gz >/dev/null || die "no hypervisor in the tree"
	echo dom0 > "$tmp/etc/hostname"
	printf '127.0.0.1 localhost dom0\n' > "$tmp/etc/hosts"
	# no passwords: the only way in is xentest=shell on the console
	sed -i 's/^root:[^:]*:/root::/' "$tmp/etc/shadow"
	rm -f "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages
	printf '%s\n' "$SCRIPT_VERSION" "$SUITE" $PACKAGES > "$tmp/etc/lfbvnc-xentest-tree"
	mv "$tmp" "$TREE"
}

if [ ! -f "$TREE/etc/lfbvnc-xentest-tree" ]; then
	rm -rf "$TREE"
	build_tree
else
	log "reusing $TREE"
fi
[ "$tree_only" = yes ] && { echo "$TREE"; exit 0; }

# the image
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 (e2fsprogs) is not installed"
t0=$SECONDS
rm -rf "$IMG" "$IMG.tmp"
mkdir -p "$IMG.tmp"
install -m 0755 "$here/dom0/xentest-init" "$TREE/sbin/xentest-init"
zcat "$TREE/boot/xen-4.17-amd64.gz" > "$IMG.tmp/xen"
cp "$(ls "$TREE"/boot/vmlinuz-* | sort -V | tail -n 1)" "$IMG.tmp/vmlinuz"
cp "$(ls "$TREE"/boot/initrd.img-* | sort -V | tail -n 1)" "$IMG.tmp/initrd.img"
truncate -s 3G "$IMG.tmp/rootfs.img"
mkfs.ext4 -q -F -L xentest-root -d "$TREE" "$IMG.tmp/rootfs.img" 3G >&2 || die "mkfs.ext4 failed"
echo "$TREE" > "$IMG.tmp/tree"
touch "$IMG.tmp/stamp"
mv "$IMG.tmp" "$IMG"
log "image built in $((SECONDS - t0)) s"

# drop stale cache entries
for d in "$CACHE"/tree-* "$CACHE"/image-*; do
	[ -e "$d" ] || continue
	case $d in "$TREE"|"$IMG") ;; *) log "removing stale $d"; rm -rf "$d" ;; esac
done
echo "$IMG"
