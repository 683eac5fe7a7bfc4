# lfbvncctl: the control socket client (daemon/control.h).  It needs no
# library: plain sockets and its own bounded JSON reader.
bin_PROGRAMS += clients/lfbvncctl
clients_lfbvncctl_SOURCES = clients/lfbvncctl.c \
	clients/json-read.c clients/json-read.h
clients_lfbvncctl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon

# Its man page, installed by directory name: the man*_MANS variables
# belong to other fragments.
ctlman8dir = $(mandir)/man8
dist_ctlman8_DATA = docs/lfbvncctl.8
