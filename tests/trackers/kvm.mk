# kvm tracker tests: a real guest (kvm-guest.c, built with the
# providers/guest runtime, see providers/guest/local.mk) writes into a
# dirty-logged VRAM slot from its vCPU.
check_PROGRAMS += tests/trackers/test-tracker-kvm
TESTS += tests/trackers/test-tracker-kvm
tests_trackers_test_tracker_kvm_SOURCES = tests/trackers/test-tracker-kvm.c \
	tests/trackers/kvm-guest.h
nodist_tests_trackers_test_tracker_kvm_SOURCES = \
	tests/trackers/kvm-guest-image.S
tests_trackers_test_tracker_kvm_LDADD = proto/liblfbshm.a common/libcommon.a

KVM_TEST_GUEST_OBJS = tests/trackers/kvm-guest.guest.o
tests/trackers/kvm-guest.guest.o: $(srcdir)/tests/trackers/kvm-guest.c \
	$(srcdir)/tests/trackers/kvm-guest.h $(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) tests/trackers && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/tests/trackers/kvm-guest.c
tests/trackers/kvm-guest.elf: $(GUEST_LINK_DEPS) $(KVM_TEST_GUEST_OBJS)
	$(AM_V_CCLD)$(GUEST_LINK) -o $@ $(GUEST_RUNTIME) \
	$(KVM_TEST_GUEST_OBJS) $(GUEST_LD_LIBS)
tests/trackers/kvm-guest.bin: tests/trackers/kvm-guest.elf
	$(AM_V_GEN)$(OBJCOPY) -O binary tests/trackers/kvm-guest.elf $@
tests/trackers/kvm-guest-image.S: tests/trackers/kvm-guest.bin \
	$(GUEST_EMBED_DEPS)
	$(AM_V_GEN)$(GUEST_EMBED) kvm_guest_image \
	tests/trackers/kvm-guest.bin > $@.tmp && mv $@.tmp $@

EXTRA_DIST += tests/trackers/kvm-guest.c
CLEANFILES += $(KVM_TEST_GUEST_OBJS) tests/trackers/kvm-guest.elf \
	tests/trackers/kvm-guest.bin tests/trackers/kvm-guest-image.S
