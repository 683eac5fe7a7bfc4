# conf: the lfbvncd.conf parser (daemon/conf.c) over hostile files, with
# the conf_guest_format round trip of every guest it accepts.  Seeds: a
# file with every keyword, and files breaking one rule each.
check_PROGRAMS += tests/fuzz/replay-conf
tests_fuzz_replay_conf_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-conf.c
tests_fuzz_replay_conf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon
tests_fuzz_replay_conf_LDADD = daemon/libdaemon.a
TESTS += tests/fuzz/conf-replay.sh
EXTRA_DIST += tests/fuzz/conf-replay.sh tests/fuzz/conf-libfuzzer.sh \
	tests/fuzz/corpus/conf

# json-read: lfbvncctl's JSON reader (common/json-read.c) over hostile
# replies.  Seeds: real replies of each shape, and edge cases.
check_PROGRAMS += tests/fuzz/replay-json-read
tests_fuzz_replay_json_read_SOURCES = tests/fuzz/replay.c \
	tests/fuzz/fuzz-json-read.c common/json-read.c common/json-read.h
tests_fuzz_replay_json_read_CPPFLAGS = $(AM_CPPFLAGS)
TESTS += tests/fuzz/json-read-replay.sh
EXTRA_DIST += tests/fuzz/json-read-replay.sh \
	tests/fuzz/json-read-libfuzzer.sh tests/fuzz/corpus/json-read

if HAVE_LIBFUZZER
FUZZ_CONF_SRCS = $(srcdir)/tests/fuzz/fuzz-conf.c \
	$(srcdir)/daemon/conf.c $(srcdir)/daemon/policy.c
tests/fuzz/fuzz-conf-libfuzzer: $(FUZZ_CONF_SRCS) $(srcdir)/daemon/conf.h \
    $(srcdir)/daemon/policy.h $(srcdir)/daemon/paths.h config.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_BUILD_CPPFLAGS) \
	    -I$(top_srcdir)/daemon $(WARN_CFLAGS) \
	    $(FUZZ_BUILD_CFLAGS) -o $@ $(FUZZ_CONF_SRCS)
FUZZ_JSON_READ_SRCS = $(srcdir)/tests/fuzz/fuzz-json-read.c \
	$(srcdir)/common/json-read.c
tests/fuzz/fuzz-json-read-libfuzzer: $(FUZZ_JSON_READ_SRCS) \
    $(srcdir)/common/json-read.h config.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_BUILD_CPPFLAGS) \
	    $(WARN_CFLAGS) \
	    $(FUZZ_BUILD_CFLAGS) -o $@ $(FUZZ_JSON_READ_SRCS)
FUZZ_BINS += tests/fuzz/fuzz-conf-libfuzzer \
	tests/fuzz/fuzz-json-read-libfuzzer
CLEANFILES += tests/fuzz/fuzz-conf-libfuzzer \
	tests/fuzz/fuzz-json-read-libfuzzer
FUZZ_TESTS += tests/fuzz/conf-libfuzzer.sh tests/fuzz/json-read-libfuzzer.sh
endif
