# clients: lfbvnc-probe, lfbvncctl
#
# lfbvnc-probe is a headless libvncclient client for tests and benchmarks.
# Its parts that need no server (image files, argument parsers) are a
# library so the unit tests link the code the probe runs.
noinst_LIBRARIES += clients/libprobe.a
clients_libprobe_a_SOURCES = \
	clients/image.c clients/image.h \
	clients/probe-util.c clients/probe-util.h \
	clients/tcpstat.c clients/tcpstat.h
clients_libprobe_a_CPPFLAGS = $(AM_CPPFLAGS) $(ZLIB_CFLAGS)

bin_PROGRAMS += clients/lfbvnc-probe
clients_lfbvnc_probe_SOURCES = clients/lfbvnc-probe.c
clients_lfbvnc_probe_CPPFLAGS = $(AM_CPPFLAGS) $(VNCCLIENT_CFLAGS) \
	$(ZLIB_CFLAGS)
clients_lfbvnc_probe_LDADD = clients/libprobe.a common/libcommon.a \
	$(VNCCLIENT_LIBS) $(ZLIB_LIBS) -lm
# The top Makefile.am does not initialise dist_man1_MANS; when another
# fragment needs it, initialise it there and make this line "+=".
dist_man1_MANS = clients/lfbvnc-probe.1

# Tests.  test-png and test-probe-util need nothing; the probe-*.sh tests
# run the probe against x11vnc serving a raw framebuffer file (x11vnc
# -rawfb) and skip (77) without x11vnc.  fbtool writes that file.
check_PROGRAMS += tests/clients/test-png tests/clients/test-probe-util \
	tests/clients/fbtool
tests_clients_test_png_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/clients
tests_clients_test_png_LDADD = clients/libprobe.a common/libcommon.a \
	$(ZLIB_LIBS)
tests_clients_test_probe_util_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/clients
tests_clients_test_probe_util_LDADD = clients/libprobe.a \
	common/libcommon.a -lm
tests_clients_fbtool_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/clients
tests_clients_fbtool_LDADD = clients/libprobe.a common/libcommon.a \
	$(ZLIB_LIBS)

probe_x11vnc_tests = \
	tests/clients/probe-basic.sh \
	tests/clients/probe-checks.sh \
	tests/clients/probe-latency.sh \
	tests/clients/probe-auth.sh \
	tests/clients/probe-resize.sh
check_SCRIPTS += $(probe_x11vnc_tests)
EXTRA_DIST += $(probe_x11vnc_tests) tests/clients/x11vnc-lib.sh
TESTS += tests/clients/test-png tests/clients/test-probe-util \
	$(probe_x11vnc_tests)
include clients/ctl.mk
