# tests/dist: the Debian package (debian/), built with dpkg-buildpackage
# from a copy of the tree, linted, installed into a fresh Debian 12 chroot,
# checked and purged.  It skips (77) without root, debhelper, lintian or
# debootstrap, or when it can neither find its cached chroot tarball nor
# reach the archive.  Registered in the plain build only: the package is
# a plain build of its own, which the sanitizer build would only repeat.
if !SANITIZERS
TESTS += tests/dist/test-deb.sh
endif
EXTRA_DIST += tests/dist/test-deb.sh
