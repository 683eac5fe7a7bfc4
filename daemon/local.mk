# lfbvncd: the daemon.  The scan pipeline, the policy and the process
# plumbing are a library so unit tests and benchmarks link the same code
# the daemon runs.
noinst_LIBRARIES += daemon/libdaemon.a
daemon_libdaemon_a_CPPFLAGS = $(AM_CPPFLAGS) $(EVENT_CFLAGS) $(VNCSERVER_CFLAGS) \
	$(XEN_CFLAGS)
daemon_libdaemon_a_SOURCES = \
	daemon/scan.c daemon/scan.h \
	daemon/fbguard.c daemon/fbguard.h \
	daemon/policy.c daemon/policy.h \
	daemon/vnc.c daemon/vnc.h \
	daemon/backend.h daemon/backend-lfbshm.c \
	daemon/qmp.c daemon/qmp.h \
	daemon/xenmode.c daemon/xenmode.h \
	daemon/status.h \
	daemon/worker.c daemon/worker.h \
	daemon/privdrop.c daemon/privdrop.h \
	daemon/sandbox.c daemon/sandbox.h \
	daemon/master.c daemon/master.h daemon/childargs.h \
	daemon/metrics.c daemon/metrics.h \
	daemon/metricsd.c daemon/metricsd.h

sbin_PROGRAMS += daemon/lfbvncd
daemon_lfbvncd_SOURCES = daemon/lfbvncd.c
daemon_lfbvncd_CPPFLAGS = $(AM_CPPFLAGS) $(EVENT_CFLAGS)
daemon_lfbvncd_LDADD = daemon/libdaemon.a proto/liblfbshm.a \
	common/libcommon.a $(VNCSERVER_LIBS) $(EVENT_LIBS) $(XEN_LIBS) \
	-lpthread

if HAVE_XEN
daemon_libdaemon_a_SOURCES += daemon/backend-xen.c \
	daemon/xendisco.c daemon/xendisco.h
endif

include daemon/ctl.mk

daemonman8dir = $(mandir)/man8
dist_daemonman8_DATA = docs/lfbvncd.8
# The xl keys of Xen guests, lfbvnc-xl(5): installed with or without the
# Xen backend, like lfbvncd(8) that refers to it.
xlman5dir = $(mandir)/man5
dist_xlman5_DATA = docs/lfbvnc-xl.5
