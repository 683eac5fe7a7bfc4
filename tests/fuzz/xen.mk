# xen: the Xen backend's parsers of xenstore (the guest's mode key and
# memory/videoram) and QEMU-written (query-pci) text.
check_PROGRAMS += tests/fuzz/replay-xen
tests_fuzz_replay_xen_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-xen.c \
	daemon/xenmode.c daemon/qmp.c
tests_fuzz_replay_xen_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon
tests_fuzz_replay_xen_LDADD = common/libcommon.a
TESTS += tests/fuzz/xen-replay.sh
EXTRA_DIST += tests/fuzz/xen-replay.sh tests/fuzz/xen-libfuzzer.sh \
	tests/fuzz/corpus/xen

if HAVE_LIBFUZZER
FUZZ_XEN_SRCS = $(srcdir)/tests/fuzz/fuzz-xen.c $(srcdir)/daemon/xenmode.c \
	$(srcdir)/daemon/qmp.c $(srcdir)/common/json-read.c
tests/fuzz/fuzz-xen-libfuzzer: $(FUZZ_XEN_SRCS) $(srcdir)/daemon/qmp.h \
    $(srcdir)/daemon/xenmode.h config.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_BUILD_CPPFLAGS) \
	    -I$(top_srcdir)/daemon $(WARN_CFLAGS) \
	    $(FUZZ_BUILD_CFLAGS) -o $@ $(FUZZ_XEN_SRCS)
FUZZ_BINS += tests/fuzz/fuzz-xen-libfuzzer
CLEANFILES += tests/fuzz/fuzz-xen-libfuzzer
FUZZ_TESTS += tests/fuzz/xen-libfuzzer.sh
endif
