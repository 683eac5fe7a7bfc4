# control: the control socket's request parser (daemon/control.c:
# control_parse_request), the first thing a local peer's line meets.
# Seeds: every command, the quoting, and one request per refusal (the
# requests of tests/daemon/test-control.c, without their newline).
check_PROGRAMS += tests/fuzz/replay-control
tests_fuzz_replay_control_SOURCES = tests/fuzz/replay.c \
	tests/fuzz/fuzz-control.c
tests_fuzz_replay_control_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon
tests_fuzz_replay_control_LDADD = daemon/libdaemon.a common/libcommon.a \
	$(EVENT_LIBS)
TESTS += tests/fuzz/control-replay.sh
EXTRA_DIST += tests/fuzz/control-replay.sh \
	tests/fuzz/control-libfuzzer.sh tests/fuzz/corpus/control

if HAVE_LIBFUZZER
# clang, unlike gcc, flags the va_list printf wrappers of common/log.c and
# daemon/vnc.c (gcc takes their format attributes as enough).
FUZZ_NO_NONLITERAL = -Wno-format-nonliteral
FUZZ_CONTROL_SRCS = $(srcdir)/tests/fuzz/fuzz-control.c \
	$(srcdir)/daemon/control.c $(srcdir)/daemon/conf.c \
	$(srcdir)/daemon/policy.c $(srcdir)/daemon/json.c \
	$(srcdir)/common/log.c
tests/fuzz/fuzz-control-libfuzzer: $(FUZZ_CONTROL_SRCS) \
    $(srcdir)/daemon/control.h $(srcdir)/daemon/conf.h \
    $(srcdir)/daemon/json.h $(srcdir)/daemon/policy.h config.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_BUILD_CPPFLAGS) \
	    -I$(top_srcdir)/daemon $(EVENT_CFLAGS) $(WARN_CFLAGS) \
	    $(FUZZ_NO_NONLITERAL) $(FUZZ_BUILD_CFLAGS) -o $@ $(FUZZ_CONTROL_SRCS) $(EVENT_LIBS)
FUZZ_BINS += tests/fuzz/fuzz-control-libfuzzer
CLEANFILES += tests/fuzz/fuzz-control-libfuzzer
FUZZ_TESTS += tests/fuzz/control-libfuzzer.sh
endif
