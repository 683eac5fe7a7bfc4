# vnc: what a VNC client sends, through a real libvncserver screen into
# our hooks (daemon/vnc.c), one socketpair client per input.  Seeds: a
# handshake alone, each client message we may get, out-of-range pointers,
# a key flood past the input queue, and mode changes mid-stream.  The
# libFuzzer run closes the target's stderr (the daemon logs every client;
# libFuzzer keeps its own output and the sanitizers' reports).
check_PROGRAMS += tests/fuzz/replay-vnc
tests_fuzz_replay_vnc_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-vnc.c
tests_fuzz_replay_vnc_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon \
	$(EVENT_CFLAGS)
tests_fuzz_replay_vnc_LDADD = daemon/libdaemon.a proto/liblfbshm.a \
	common/libcommon.a $(VNCSERVER_LIBS) $(EVENT_LIBS) -lpthread
TESTS += tests/fuzz/vnc-replay.sh
EXTRA_DIST += tests/fuzz/vnc-replay.sh tests/fuzz/vnc-libfuzzer.sh \
	tests/fuzz/corpus/vnc

if HAVE_LIBFUZZER
FUZZ_VNC_SRCS = $(srcdir)/tests/fuzz/fuzz-vnc.c $(srcdir)/daemon/vnc.c \
	$(srcdir)/common/log.c
tests/fuzz/fuzz-vnc-libfuzzer: $(FUZZ_VNC_SRCS) $(srcdir)/daemon/vnc.h \
    $(srcdir)/daemon/scan.h $(srcdir)/proto/lfbshm.h config.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_BUILD_CPPFLAGS) \
	    -I$(top_srcdir)/daemon $(EVENT_CFLAGS) $(VNCSERVER_CFLAGS) \
	    $(WARN_CFLAGS) $(FUZZ_NO_NONLITERAL) $(FUZZ_BUILD_CFLAGS) \
	    -o $@ $(FUZZ_VNC_SRCS) \
	    $(VNCSERVER_LIBS) $(EVENT_LIBS) -lpthread
FUZZ_BINS += tests/fuzz/fuzz-vnc-libfuzzer
CLEANFILES += tests/fuzz/fuzz-vnc-libfuzzer
FUZZ_TESTS += tests/fuzz/vnc-libfuzzer.sh
endif
