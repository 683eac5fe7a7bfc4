# providers/demo: lfbvnc-demo, the embedded default display provider.  The
# renderer (render.c) is built twice: into the host program, and with the
# guest flags of providers/guest/local.mk into the KVM guest (guest-main.c)
# whose flat image is embedded in lfbvnc-demo as demo_guest_image[].
bin_PROGRAMS += providers/demo/lfbvnc-demo
providers_demo_lfbvnc_demo_SOURCES = providers/demo/main.c \
	providers/demo/render.c providers/demo/render.h providers/demo/font.h \
	providers/demo/demo-guest.h
nodist_providers_demo_lfbvnc_demo_SOURCES = \
	providers/demo/demo-guest-image.S
providers_demo_lfbvnc_demo_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/providers/guest
providers_demo_lfbvnc_demo_LDADD = proto/liblfbshm.a common/libcommon.a \
	-lpthread

DEMO_GUEST_OBJS = providers/demo/guest-main.guest.o \
	providers/demo/render.guest.o
providers/demo/guest-main.guest.o: $(srcdir)/providers/demo/guest-main.c \
	$(srcdir)/providers/demo/render.h $(srcdir)/providers/demo/demo-guest.h \
	$(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) providers/demo && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/providers/demo/guest-main.c
providers/demo/render.guest.o: $(srcdir)/providers/demo/render.c \
	$(srcdir)/providers/demo/render.h $(srcdir)/providers/demo/font.h \
	$(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) providers/demo && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/providers/demo/render.c
providers/demo/demo-guest.elf: $(GUEST_LINK_DEPS) $(DEMO_GUEST_OBJS)
	$(AM_V_CCLD)$(GUEST_LINK) -o $@ $(GUEST_RUNTIME) $(DEMO_GUEST_OBJS) \
	$(GUEST_LD_LIBS)
providers/demo/demo-guest.bin: providers/demo/demo-guest.elf
	$(AM_V_GEN)$(OBJCOPY) -O binary providers/demo/demo-guest.elf $@
providers/demo/demo-guest-image.S: providers/demo/demo-guest.bin \
	$(GUEST_EMBED_DEPS)
	$(AM_V_GEN)$(GUEST_EMBED) demo_guest_image \
	providers/demo/demo-guest.bin > $@.tmp && mv $@.tmp $@

EXTRA_DIST += providers/demo/guest-main.c
CLEANFILES += $(DEMO_GUEST_OBJS) providers/demo/demo-guest.elf \
	providers/demo/demo-guest.bin providers/demo/demo-guest-image.S

# Its man page, installed by directory name: the man*_MANS variables
# belong to other fragments.
demoman1dir = $(mandir)/man1
dist_demoman1_DATA = docs/lfbvnc-demo.1
