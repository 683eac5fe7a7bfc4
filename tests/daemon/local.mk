# Daemon unit tests.
check_PROGRAMS += tests/daemon/test-scan tests/daemon/test-policy
TESTS += tests/daemon/test-scan tests/daemon/test-policy
tests_daemon_test_scan_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon
tests_daemon_test_scan_LDADD = daemon/libdaemon.a
tests_daemon_test_policy_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon
tests_daemon_test_policy_LDADD = daemon/libdaemon.a
include tests/daemon/ctl.mk
