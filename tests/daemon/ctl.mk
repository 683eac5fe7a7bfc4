# Configuration and control socket tests.
check_PROGRAMS += tests/daemon/test-conf tests/daemon/test-control \
	tests/daemon/test-json
TESTS += tests/daemon/test-conf tests/daemon/test-control \
	tests/daemon/test-json
tests_daemon_test_conf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon
tests_daemon_test_conf_LDADD = daemon/libdaemon.a common/libcommon.a
tests_daemon_test_control_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon \
	$(EVENT_CFLAGS)
tests_daemon_test_control_LDADD = daemon/libdaemon.a common/libcommon.a \
	$(EVENT_LIBS) -lpthread
# JSON written by the daemon, read back by lfbvncctl's reader.
tests_daemon_test_json_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon \
	$(EVENT_CFLAGS)
tests_daemon_test_json_LDADD = daemon/libdaemon.a common/libcommon.a \
	$(EVENT_LIBS)
