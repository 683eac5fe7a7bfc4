# tests/xen/guest: the Xen end-to-end test's HVM guest, a bootable disk
# image (a boot sector, a real-mode stage that sets the VBE mode, then
# 32-bit protected-mode C).  Built with $(CC) -m32 and guest-only flags,
# never $(AM_CFLAGS)/$(CFLAGS): sanitizer or PIE code cannot run there.
# No 32-bit libc or libgcc is needed (nothing is linked but these objects).
XENGUEST_CFLAGS = -m32 -march=i686 -std=gnu11 -ffreestanding -fno-pic \
	-fno-pie -nostdlib -fno-builtin -mgeneral-regs-only \
	-fno-stack-protector -fno-stack-clash-protection -fcf-protection=none \
	-fno-sanitize=all -fno-asynchronous-unwind-tables -fno-unwind-tables \
	-O2 -g0 $(WARN_CFLAGS)
XENGUEST_COMPILE = $(CC) -I$(top_srcdir)/tests/xen/guest $(XENGUEST_CFLAGS)
XENGUEST_LDSCRIPT = $(top_srcdir)/tests/xen/guest/guest.ld
XENGUEST_LINK = $(CC) -m32 -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,--no-warn-rwx-segments -Wl,-T,$(XENGUEST_LDSCRIPT)
XENGUEST_OBJS = tests/xen/guest/boot.xg.o tests/xen/guest/guest.xg.o
XENGUEST_HDRS = $(top_srcdir)/tests/xen/guest/pattern.h

tests/xen/guest/boot.xg.o: $(srcdir)/tests/xen/guest/boot.S $(XENGUEST_HDRS)
	$(AM_V_CPPAS)$(MKDIR_P) tests/xen/guest && \
	$(XENGUEST_COMPILE) -c -o $@ $(srcdir)/tests/xen/guest/boot.S
tests/xen/guest/guest.xg.o: $(srcdir)/tests/xen/guest/guest.c $(XENGUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) tests/xen/guest && \
	$(XENGUEST_COMPILE) -c -o $@ $(srcdir)/tests/xen/guest/guest.c
tests/xen/guest/xentest-guest.elf: $(XENGUEST_OBJS) $(XENGUEST_LDSCRIPT)
	$(AM_V_CCLD)$(XENGUEST_LINK) -o $@ $(XENGUEST_OBJS)
# a 1 MiB raw disk: the image, zero-padded
tests/xen/guest/xentest-guest.img: tests/xen/guest/xentest-guest.elf
	$(AM_V_GEN)$(OBJCOPY) -O binary tests/xen/guest/xentest-guest.elf $@.tmp && \
	dd if=/dev/zero of=$@.tmp bs=1024 count=0 seek=1024 2>/dev/null && \
	mv $@.tmp $@

check_SCRIPTS += tests/xen/guest/xentest-guest.img
EXTRA_DIST += tests/xen/guest/boot.S tests/xen/guest/guest.c \
	tests/xen/guest/guest.ld tests/xen/guest/pattern.h
CLEANFILES += $(XENGUEST_OBJS) tests/xen/guest/xentest-guest.elf \
	tests/xen/guest/xentest-guest.img
