# Daemon unit tests.
check_PROGRAMS += tests/daemon/test-scan tests/daemon/test-policy
TESTS += tests/daemon/test-scan tests/daemon/test-policy
tests_daemon_test_scan_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon
tests_daemon_test_scan_LDADD = daemon/libdaemon.a
tests_daemon_test_policy_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon
tests_daemon_test_policy_LDADD = daemon/libdaemon.a
include tests/daemon/ctl.mk

# The Xen backend's parsers and QMP exchanges (no hypervisor needed).
check_PROGRAMS += tests/daemon/test-xen-parse
TESTS += tests/daemon/test-xen-parse
tests_daemon_test_xen_parse_SOURCES = tests/daemon/test-xen-parse.c \
	daemon/xenmode.c daemon/qmp.c
tests_daemon_test_xen_parse_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon
tests_daemon_test_xen_parse_LDADD = common/libcommon.a -lpthread

# The Prometheus text of the metrics endpoint (daemon/metrics.c).
check_PROGRAMS += tests/daemon/test-metrics
TESTS += tests/daemon/test-metrics
tests_daemon_test_metrics_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon \
	$(EVENT_CFLAGS)
tests_daemon_test_metrics_LDADD = daemon/libdaemon.a common/libcommon.a \
	$(EVENT_LIBS)

# The worker's seccomp filter: refused calls are refused, threads and
# sockets still work.
check_PROGRAMS += tests/daemon/test-sandbox
TESTS += tests/daemon/test-sandbox
tests_daemon_test_sandbox_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon
tests_daemon_test_sandbox_LDADD = daemon/libdaemon.a -lpthread

# Scans of a mapping that shrinks under them (daemon/fbguard.h).
check_PROGRAMS += tests/daemon/test-fbguard
TESTS += tests/daemon/test-fbguard
tests_daemon_test_fbguard_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon
tests_daemon_test_fbguard_LDADD = daemon/libdaemon.a common/libcommon.a

# Which listen addresses and password files let a guest be served.
check_PROGRAMS += tests/daemon/test-vnc-config
TESTS += tests/daemon/test-vnc-config
tests_daemon_test_vnc_config_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon \
	$(EVENT_CFLAGS) $(VNCSERVER_CFLAGS)
tests_daemon_test_vnc_config_LDADD = daemon/libdaemon.a proto/liblfbshm.a \
	common/libcommon.a $(VNCSERVER_LIBS) $(EVENT_LIBS) -lpthread

if HAVE_XEN
# Which xl files ask for lfbvnc, which are refused, how keys map.
check_PROGRAMS += tests/daemon/test-xl
TESTS += tests/daemon/test-xl
tests_daemon_test_xl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon \
	$(XEN_CFLAGS)
tests_daemon_test_xl_LDADD = daemon/libdaemon.a common/libcommon.a \
	$(XEN_LIBS) $(EVENT_LIBS)
endif
