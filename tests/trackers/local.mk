# Tracker tests: writers + scanner + shadow, negative controls, traps.
include tests/trackers/uffd.mk
include tests/trackers/kvm.mk
