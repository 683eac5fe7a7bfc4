# providers/xvfb: lfbvnc-xvfb exports an Xvfb screen (-fbdir) over lfbshm,
# with write tracking from lfbvnc-xvfb-shim.so preloaded into Xvfb.
#
# Input injection needs XTEST: configure defines HAVE_XTST and sets
# XTST_CFLAGS/XTST_LIBS (pkg-config x11 xtst); without them the program is
# built without input.

bin_PROGRAMS += providers/xvfb/lfbvnc-xvfb
providers_xvfb_lfbvnc_xvfb_SOURCES = \
	providers/xvfb/main.c \
	providers/xvfb/shim.h \
	providers/xvfb/xwd.c \
	providers/xvfb/xwd.h
providers_xvfb_lfbvnc_xvfb_CPPFLAGS = $(AM_CPPFLAGS) \
	-DPKGLIBDIR='"$(pkglibdir)"' $(XTST_CFLAGS)
providers_xvfb_lfbvnc_xvfb_LDADD = proto/liblfbshm.a common/libcommon.a \
	$(XTST_LIBS) -lpthread
# Building the program builds the shim it needs next to it.
EXTRA_providers_xvfb_lfbvnc_xvfb_DEPENDENCIES = $(XVFB_SHIM)

# The preload shim: a plain shared object, so an explicit rule (no
# libtool).  Never built with $(AM_CFLAGS): sanitizer runtimes cannot be
# preloaded into an uninstrumented Xvfb.  It links only libc (and libdl
# for dlsym on older glibc).  Installed into $(pkglibdir), where
# lfbvnc-xvfb looks for it when it is not next to the binary.
XVFB_SHIM = providers/xvfb/lfbvnc-xvfb-shim.so
XVFB_SHIM_SRC = $(srcdir)/providers/xvfb/shim.c
XVFB_SHIM_DEPS = $(XVFB_SHIM_SRC) $(srcdir)/providers/xvfb/shim.h \
	$(top_srcdir)/proto/uffd-compat.h
xvfbshimdir = $(pkglibdir)
xvfbshim_DATA = $(XVFB_SHIM)

$(XVFB_SHIM): $(XVFB_SHIM_DEPS)
	$(AM_V_CCLD)$(MKDIR_P) providers/xvfb && \
	$(CC) -shared -fPIC -std=gnu11 $(WARN_CFLAGS) \
	-I$(top_srcdir)/proto -I$(top_srcdir)/providers/xvfb \
	$(CPPFLAGS) $(CFLAGS) -Wl,-z,defs -o $@ $(XVFB_SHIM_SRC) \
	$(LDFLAGS) -ldl

EXTRA_DIST += providers/xvfb/shim.c
CLEANFILES += $(XVFB_SHIM)

# Its man page, installed by directory name: the man*_MANS variables
# belong to other fragments.
xvfbman1dir = $(mandir)/man1
dist_xvfbman1_DATA = docs/lfbvnc-xvfb.1
