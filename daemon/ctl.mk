# Configuration, the control socket and JSON output (part of libdaemon).
daemon_libdaemon_a_SOURCES += \
	daemon/conf.c daemon/conf.h \
	daemon/control.c daemon/control.h \
	daemon/json.c daemon/json.h \
	daemon/paths.h

# lfbvncd.conf(5), installed by directory name: the man*_MANS variables
# belong to other fragments.
confman5dir = $(mandir)/man5
dist_confman5_DATA = docs/lfbvncd.conf.5
