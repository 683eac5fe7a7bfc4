# Tests.  Each fragment appends to TESTS / check_PROGRAMS.
# The stock Xen VM test first and the trap VM test last: they take a
# machine lock (one TCG VM at a time), so with make -j2 each overlaps the
# rest of the suite in the other slot instead of waiting on the other.
include tests/xen/local.mk
# The package test next: a few minutes, best started early too.
include tests/dist/local.mk
include tests/unit/local.mk
include tests/trackers/local.mk
include tests/fuzz/local.mk
include tests/providers/local.mk
include tests/daemon/local.mk
include tests/thirdparty/local.mk
include tests/integration/local.mk
include tests/docs/local.mk
if !SANITIZERS
TESTS += tests/xen/run-e2e-trap.sh
endif
# Sourced by the tests that run debootstrap (tests/xen, tests/dist).
EXTRA_DIST += tests/apt-mirror.sh
