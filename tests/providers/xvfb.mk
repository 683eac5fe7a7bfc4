# lfbvnc-xvfb end to end: Xvfb + xterm + xclock, scanned through the
# consumer API, 0 lost pages at SIGSTOP checkpoints (skips without them).
check_PROGRAMS += tests/providers/test-xvfb
TESTS += tests/providers/test-xvfb
tests_providers_test_xvfb_SOURCES = tests/providers/test-xvfb.c
tests_providers_test_xvfb_LDADD = proto/liblfbshm.a common/libcommon.a \
	-lpthread
