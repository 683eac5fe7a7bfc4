# xwd: the XWD header parser of lfbvnc-xvfb (providers/xvfb/xwd.c) over
# hostile screen files.  Seeds: a real Xvfb 64x48 screen file, a real
# 1920x1080 header (behind an 8-octet claimed file size, see fuzz-xwd.c)
# and variants breaking one rule each.
check_PROGRAMS += tests/fuzz/replay-xwd
tests_fuzz_replay_xwd_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-xwd.c \
	providers/xvfb/xwd.c providers/xvfb/xwd.h
tests_fuzz_replay_xwd_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/providers/xvfb
TESTS += tests/fuzz/xwd-replay.sh
EXTRA_DIST += tests/fuzz/xwd-replay.sh tests/fuzz/xwd-libfuzzer.sh \
	tests/fuzz/corpus/xwd

if HAVE_LIBFUZZER
FUZZ_XWD_SRCS = $(srcdir)/tests/fuzz/fuzz-xwd.c \
	$(srcdir)/providers/xvfb/xwd.c
tests/fuzz/fuzz-xwd-libfuzzer: $(FUZZ_XWD_SRCS) \
    $(srcdir)/providers/xvfb/xwd.h $(srcdir)/proto/lfbshm.h config.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_BUILD_CPPFLAGS) \
	    -I$(top_srcdir)/providers/xvfb $(WARN_CFLAGS) \
	    $(FUZZ_BUILD_CFLAGS) -o $@ $(FUZZ_XWD_SRCS)
FUZZ_BINS += tests/fuzz/fuzz-xwd-libfuzzer
CLEANFILES += tests/fuzz/fuzz-xwd-libfuzzer
FUZZ_TESTS += tests/fuzz/xwd-libfuzzer.sh
endif
