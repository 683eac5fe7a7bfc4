# lfbvncd: the daemon.  The scan pipeline and the policy are a library so
# the unit tests and benchmarks link the same code the daemon runs.
noinst_LIBRARIES += daemon/libdaemon.a
daemon_libdaemon_a_SOURCES = \
	daemon/scan.c daemon/scan.h \
	daemon/policy.c daemon/policy.h
