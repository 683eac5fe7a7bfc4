# tests/fuzz: fuzz targets.
#
# A target NAME is an LLVMFuzzerTestOneInput in tests/fuzz/fuzz-NAME.c
# with seeds in tests/fuzz/corpus/NAME/.  It is always built with $(CC)
# against tests/fuzz/replay.c and run once over its corpus; with libFuzzer
# (HAVE_LIBFUZZER, $(FUZZ_CC) is clang) it is also built as
# tests/fuzz/fuzz-NAME-libfuzzer and fuzzed for a bounded time.  Both runs
# go through tests/fuzz/run-fuzz.sh TARGET CORPUSDIR, called from a
# two-line wrapper script per run.  To add a target, copy the consumer
# block below.
EXTRA_DIST += tests/fuzz/run-fuzz.sh
FUZZ_TESTS =
FUZZ_BINS =

FUZZ_BUILD_CFLAGS = -std=gnu11 -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_BUILD_CPPFLAGS = $(DEFS) $(DEFAULT_INCLUDES) $(AM_CPPFLAGS) $(CPPFLAGS)

# consumer: the consumer's validation paths over a hostile control region.
check_PROGRAMS += tests/fuzz/replay-consumer
tests_fuzz_replay_consumer_SOURCES = tests/fuzz/replay.c \
	tests/fuzz/fuzz-consumer.c
tests_fuzz_replay_consumer_LDADD = proto/liblfbshm.a common/libcommon.a
TESTS += tests/fuzz/consumer-replay.sh
EXTRA_DIST += tests/fuzz/consumer-replay.sh \
	tests/fuzz/consumer-libfuzzer.sh tests/fuzz/corpus/consumer

# Regenerates the seeds: tests/fuzz/gen-corpus-consumer DIR
noinst_PROGRAMS += tests/fuzz/gen-corpus-consumer
tests_fuzz_gen_corpus_consumer_SOURCES = tests/fuzz/gen-corpus-consumer.c
tests_fuzz_gen_corpus_consumer_LDADD = proto/liblfbshm.a common/libcommon.a

if HAVE_LIBFUZZER
FUZZ_CONSUMER_SRCS = $(srcdir)/tests/fuzz/fuzz-consumer.c \
	$(srcdir)/proto/wire.c
tests/fuzz/fuzz-consumer-libfuzzer: $(FUZZ_CONSUMER_SRCS) \
    $(srcdir)/proto/wire.h $(srcdir)/proto/lfbshm.h config.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_BUILD_CPPFLAGS) $(WARN_CFLAGS) \
	    $(FUZZ_BUILD_CFLAGS) -o $@ $(FUZZ_CONSUMER_SRCS)
FUZZ_BINS += tests/fuzz/fuzz-consumer-libfuzzer
CLEANFILES += tests/fuzz/fuzz-consumer-libfuzzer
FUZZ_TESTS += tests/fuzz/consumer-libfuzzer.sh
endif

# Other targets, each in its own fragment (after the shared variables).
include tests/fuzz/xwd.mk
include tests/fuzz/conf.mk
include tests/fuzz/xen.mk
include tests/fuzz/control.mk
include tests/fuzz/vnc.mk

# The libFuzzer builds are the same in every build directory (their flags
# are FUZZ_BUILD_CFLAGS, ASan and UBSan included), so the sanitizer build
# would only build and run them a second time: they run in the plain
# build.  The
# replay runs, built with the build's own flags, run in both.
if !SANITIZERS
check_SCRIPTS += $(FUZZ_BINS)
TESTS += $(FUZZ_TESTS)
endif
