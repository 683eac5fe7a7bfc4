# lfbvncctl: the control socket client (daemon/control.h): plain sockets
# and the bounded JSON reader of common/.
bin_PROGRAMS += clients/lfbvncctl
clients_lfbvncctl_SOURCES = clients/lfbvncctl.c
clients_lfbvncctl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon
clients_lfbvncctl_LDADD = common/libcommon.a

# Its man page, installed by directory name: the man*_MANS variables
# belong to other fragments.
ctlman1dir = $(mandir)/man1
dist_ctlman1_DATA = docs/lfbvncctl.1
