# tests/xen: the end-to-end test on real Xen 4.17, booted in QEMU (TCG).
# run-e2e.sh builds (or takes from its cache outside the tree) a Debian
# dom0 image, installs this build into a per-run payload disk, boots it, and
# runs the test guest (tests/xen/guest) and the dom0-side check
# (tests/xen/dom0).  It skips (77) without qemu-system-x86_64, without the
# Xen libraries, or when it can neither build nor find the dom0 image.
# See tests/xen/README.md.
include tests/xen/guest/local.mk

# The guest's expected screens for lfbvnc-probe --compare, made on the host
# (and, in the payload, in dom0) from the guest's own pattern.h.
check_PROGRAMS += tests/xen/xen-frame
tests_xen_xen_frame_SOURCES = tests/xen/xen-frame.c
tests_xen_xen_frame_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/xen/guest

if HAVE_XEN
# The stand-in for lfbvncd's Xen backend, run in dom0.  It is a dom0
# program: no sanitizer flags (the per-target flags replace AM_CFLAGS and
# AM_LDFLAGS).
check_PROGRAMS += tests/xen/dom0/dirtyvram-check
tests_xen_dom0_dirtyvram_check_SOURCES = tests/xen/dom0/dirtyvram-check.c
tests_xen_dom0_dirtyvram_check_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/tests/xen/guest
tests_xen_dom0_dirtyvram_check_CFLAGS = -std=gnu11 $(WARN_CFLAGS) $(XEN_CFLAGS)
tests_xen_dom0_dirtyvram_check_LDFLAGS =
tests_xen_dom0_dirtyvram_check_LDADD = $(XEN_LIBS)
endif

# The pure part of the backend's trap support (daemon/xentrap.h): the
# op's layout, the fallback on an unpatched hypervisor.  No Xen needed.
check_PROGRAMS += tests/xen/test-xentrap
TESTS += tests/xen/test-xentrap
tests_xen_test_xentrap_SOURCES = tests/xen/test-xentrap.c daemon/xentrap.h
tests_xen_test_xentrap_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon

# Registered in the plain build only: it boots a whole Xen under TCG
# (1-5 minutes) to check the integration with real Xen, which the
# sanitizer build would repeat at several times the cost; memory safety is
# what the sanitizer build checks, with every other test.
if !SANITIZERS
TESTS += tests/xen/run-e2e.sh
endif
EXTRA_DIST += tests/xen/run-e2e.sh tests/xen/run-e2e-trap.sh tests/xen/build-image.sh \
	tests/xen/install-build.sh tests/xen/README.md \
	tests/xen/dom0/xentest-init tests/xen/dom0/xentest.sh \
	tests/xen/dom0/dirtyvram-check.c
CLEANFILES += tests/xen/e2e/console.log tests/xen/e2e/qemu.log \
	tests/xen/e2e/make.log tests/xen/e2e/params tests/xen/e2e/payload.img \
	tests/xen/e2e/rpc.in tests/xen/e2e/rpc.out tests/xen/e2e/*.raw \
	tests/xen/e2e/*.txt tests/xen/e2e/*.png tests/xen/e2e/lfbvncd.log \
	tests/xen/e2e/vnc.passwd tests/xen/e2e/wrong.passwd \
	tests/xen/e2e-trap/console.log tests/xen/e2e-trap/qemu.log \
	tests/xen/e2e-trap/make.log tests/xen/e2e-trap/params \
	tests/xen/e2e-trap/payload.img tests/xen/e2e-trap/rpc.in \
	tests/xen/e2e-trap/rpc.out tests/xen/e2e-trap/*.txt \
	tests/xen/e2e-trap/lfbvncd.log tests/xen/e2e-trap/vnc.passwd \
	tests/xen/e2e-trap/wrong.passwd
