# tests/integration: the daemon, the demo provider, lfbvncctl and
# lfbvnc-probe run together (bash scripts sharing lib.sh).  Each script's
# header says what property it proves and how it was seen to fail.
# They exit 77 only when this machine lacks something (a write tracker).
# fbtool (tests/clients) compares screenshots; stall-client is a VNC
# client that never reads.
check_PROGRAMS += tests/integration/stall-client
tests_integration_stall_client_SOURCES = tests/integration/stall-client.c

# The longest first, so that make -j2 check overlaps them.
integration_tests = \
	tests/integration/test-soak.sh \
	tests/integration/test-converge-kvm.sh \
	tests/integration/test-converge-uffd.sh \
	tests/integration/test-converge-none.sh \
	tests/integration/test-trap.sh \
	tests/integration/test-noclients.sh \
	tests/integration/test-slowclient.sh \
	tests/integration/test-auth.sh \
	tests/integration/test-sandbox.sh \
	tests/integration/test-metrics.sh \
	tests/integration/test-exposure.sh \
	tests/integration/test-resize.sh \
	tests/integration/test-input.sh \
	tests/integration/test-late-provider.sh \
	tests/integration/test-ordering.sh
TESTS += $(integration_tests)
EXTRA_DIST += $(integration_tests) tests/integration/lib.sh \
	tests/integration/test-converge.sh

# Fault injection and load (docs/RELIABILITY.md).  shrink-provider is an
# lfbshm provider whose framebuffer file it truncates on request;
# lib-multi.sh adds several demos and guests to lib.sh.
check_PROGRAMS += tests/integration/shrink-provider
tests_integration_shrink_provider_SOURCES = \
	tests/integration/shrink-provider.c
tests_integration_shrink_provider_LDADD = proto/liblfbshm.a \
	common/libcommon.a -lpthread
check_PROGRAMS += tests/integration/ctl-flood
tests_integration_ctl_flood_SOURCES = tests/integration/ctl-flood.c
tests_integration_ctl_flood_LDADD = -lpthread
fault_tests = \
	tests/integration/test-load-guests.sh \
	tests/integration/test-load-clients.sh \
	tests/integration/test-load-tight.sh \
	tests/integration/test-ctlflood.sh \
	tests/integration/test-moderace.sh \
	tests/integration/test-provider-kill.sh \
	tests/integration/test-restart.sh \
	tests/integration/test-sigbus.sh
TESTS += $(fault_tests)
EXTRA_DIST += $(fault_tests) tests/integration/lib-multi.sh

# make soak: test-soak for 10 minutes (SOAK_SECONDS to change it), by
# hand, not in make check; its result is in docs/RELIABILITY.md.
SOAK_SECONDS ?= 600
soak: $(check_PROGRAMS) $(bin_PROGRAMS) $(sbin_PROGRAMS)
	SOAK_SECONDS=$(SOAK_SECONDS) $(MAKE) $(AM_MAKEFLAGS) check \
	    TESTS=tests/integration/test-soak.sh
	@sed -n '/soak: /p' tests/integration/test-soak.sh.log | tail -n 5
.PHONY: soak

# Valgrind (lib.sh's valgrind mode: lfbvncd under memcheck, its workers
# with --debug-no-seccomp).  test-valgrind.sh, one session through most
# of the daemon's code (15 s here), runs in make check in the build
# without sanitizers (ASan and memcheck cannot share a process); make
# check-valgrind runs every integration test that way, by hand (7
# minutes; the results are in docs/RELIABILITY.md).
if !SANITIZERS
TESTS += tests/integration/test-valgrind.sh
endif
EXTRA_DIST += tests/integration/test-valgrind.sh \
	tests/integration/valgrind.supp
check-valgrind: $(check_PROGRAMS) $(bin_PROGRAMS) $(sbin_PROGRAMS)
	LFBVNC_TEST_VALGRIND=1 $(MAKE) $(AM_MAKEFLAGS) check \
	    TESTS="$(integration_tests) $(fault_tests)"
.PHONY: check-valgrind
