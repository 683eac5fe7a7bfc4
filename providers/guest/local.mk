# providers/guest: the runtime of lfbvnc's KVM guests (guest-abi.h, crt0.S,
# guest-lib.c, guest.ld) and the make machinery to build a guest program
# and embed its flat image into a host program.
#
# Guest code is compiled with $(CC) and guest-only flags ($(GUEST_CC_FLAGS):
# freestanding, no red zone, no SSE, no PIE, no sanitizers), never with
# $(AM_CFLAGS)/$(CFLAGS): sanitizer or PIE code cannot run in the guest.
# Automake has no portable pattern rules, so each guest object gets an
# explicit rule.  Guest objects are named *.guest.o so they never collide
# with host objects of the same source (e.g. render.c is built for both).
#
# Pattern, for a guest made of providers/demo/guest-main.c and
# providers/demo/render.c embedded into lfbvnc-demo as demo_guest_image[]:
#
#   DEMO_GUEST_OBJS = providers/demo/guest-main.guest.o \
#	providers/demo/render.guest.o
#   providers/demo/guest-main.guest.o: $(srcdir)/providers/demo/guest-main.c \
#	$(srcdir)/providers/demo/render.h $(GUEST_HDRS)
#	$(AM_V_CC)$(MKDIR_P) providers/demo && \
#	$(GUEST_COMPILE) -c -o $@ $(srcdir)/providers/demo/guest-main.c
#   providers/demo/render.guest.o: $(srcdir)/providers/demo/render.c \
#	$(srcdir)/providers/demo/render.h $(GUEST_HDRS)
#	$(AM_V_CC)$(MKDIR_P) providers/demo && \
#	$(GUEST_COMPILE) -c -o $@ $(srcdir)/providers/demo/render.c
#   providers/demo/demo-guest.elf: $(GUEST_LINK_DEPS) $(DEMO_GUEST_OBJS)
#	$(AM_V_CCLD)$(GUEST_LINK) -o $@ $(GUEST_RUNTIME) $(DEMO_GUEST_OBJS) \
#	$(GUEST_LD_LIBS)
#   providers/demo/demo-guest.bin: providers/demo/demo-guest.elf
#	$(AM_V_GEN)$(OBJCOPY) -O binary providers/demo/demo-guest.elf $@
#   providers/demo/demo-guest-image.S: providers/demo/demo-guest.bin \
#	$(GUEST_EMBED_DEPS)
#	$(AM_V_GEN)$(GUEST_EMBED) demo_guest_image \
#	providers/demo/demo-guest.bin > $@.tmp && mv $@.tmp $@
#   nodist_providers_demo_lfbvnc_demo_SOURCES = \
#	providers/demo/demo-guest-image.S
#   EXTRA_DIST += providers/demo/guest-main.c
#   CLEANFILES += $(DEMO_GUEST_OBJS) providers/demo/demo-guest.elf \
#	providers/demo/demo-guest.bin providers/demo/demo-guest-image.S
#
# and in the host C code:
#
#   extern const unsigned char demo_guest_image[], demo_guest_image_end[];
#   kvmvm_load(vm, demo_guest_image,
#       (size_t)(demo_guest_image_end - demo_guest_image));
#
# Paths: every rule runs in the top build directory (non-recursive build);
# sources are named through $(srcdir), generated files relative to the
# build directory, so out-of-tree builds and `make distcheck' work.  The
# generated .S names the .bin relative to the top build directory, where
# the assembler runs.  tests/trackers/kvm.mk is a complete example.

GUEST_CPP_FLAGS = -I$(top_srcdir)/providers/guest
GUEST_CC_FLAGS = -std=gnu11 -ffreestanding -fno-pic -fno-pie -nostdlib \
	-mno-red-zone -mgeneral-regs-only -mcmodel=small \
	-fno-stack-protector -fno-stack-clash-protection -fcf-protection=none \
	-fno-sanitize=all -fno-asynchronous-unwind-tables -fno-unwind-tables \
	-fno-omit-frame-pointer -O2 -g0 $(WARN_CFLAGS)
GUEST_COMPILE = $(CC) $(GUEST_CPP_FLAGS) $(GUEST_CC_FLAGS)
GUEST_LDSCRIPT = $(top_srcdir)/providers/guest/guest.ld
GUEST_LD_FLAGS = -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,-z,max-page-size=4096 -Wl,-T,$(GUEST_LDSCRIPT) \
	$(GUEST_NO_RWX_WARNING)
GUEST_LINK = $(CC) $(GUEST_CC_FLAGS) $(GUEST_LD_FLAGS)
GUEST_LD_LIBS = -lgcc
GUEST_RUNTIME = providers/guest/crt0.guest.o providers/guest/guest-lib.guest.o
GUEST_LINK_DEPS = $(GUEST_RUNTIME) $(GUEST_LDSCRIPT)
GUEST_HDRS = $(top_srcdir)/providers/guest/guest-abi.h \
	$(top_srcdir)/providers/guest/guest-lib.h
GUEST_EMBED = $(SHELL) $(top_srcdir)/providers/guest/guest-embed.sh
GUEST_EMBED_DEPS = $(top_srcdir)/providers/guest/guest-embed.sh

providers/guest/crt0.guest.o: $(srcdir)/providers/guest/crt0.S $(GUEST_HDRS)
	$(AM_V_CPPAS)$(MKDIR_P) providers/guest && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/providers/guest/crt0.S
providers/guest/guest-lib.guest.o: $(srcdir)/providers/guest/guest-lib.c \
	$(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) providers/guest && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/providers/guest/guest-lib.c

EXTRA_DIST += providers/guest/guest-abi.h providers/guest/guest-lib.h \
	providers/guest/guest-lib.c providers/guest/crt0.S \
	providers/guest/guest.ld providers/guest/guest-embed.sh
CLEANFILES += $(GUEST_RUNTIME)
