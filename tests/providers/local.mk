# tests/providers: the demo renderer (test-render), lfbvnc-demo end to end
# through the consumer API with each tracker (test-demo, run by the
# test-demo-TRACKER.sh scripts), and the Xvfb provider (xvfb.mk).
check_PROGRAMS += tests/providers/test-render
TESTS += tests/providers/test-render
tests_providers_test_render_SOURCES = tests/providers/test-render.c \
	providers/demo/render.c providers/demo/render.h providers/demo/font.h
tests_providers_test_render_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/providers/demo

check_PROGRAMS += tests/providers/test-demo
tests_providers_test_demo_SOURCES = tests/providers/test-demo.c
tests_providers_test_demo_LDADD = proto/liblfbshm.a common/libcommon.a \
	-lpthread
TESTS += tests/providers/test-demo-kvm.sh tests/providers/test-demo-uffd.sh \
	tests/providers/test-demo-none.sh
EXTRA_DIST += tests/providers/test-demo-kvm.sh \
	tests/providers/test-demo-uffd.sh tests/providers/test-demo-none.sh

include tests/providers/xvfb.mk
