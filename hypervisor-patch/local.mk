# hypervisor-patch: a patch series for Debian 12's Xen 4.17 that traps idle
# VRAM in the hypervisor (XEN_DMOP_track_dirty_vram_trap); see README.md.
# test-build.sh fetches the source with apt-get source, applies the series
# and builds the hypervisor (cached outside the tree, keyed by the
# patches).  It is registered before the Xen end-to-end test, which boots
# the hypervisor it built.  Plain build only, like that test: the
# sanitizer build would repeat the same hypervisor build.
if !SANITIZERS
TESTS += hypervisor-patch/test-build.sh
endif
EXTRA_DIST += hypervisor-patch/README.md hypervisor-patch/SOURCE-VERSION \
	hypervisor-patch/build.sh hypervisor-patch/test-build.sh \
	hypervisor-patch/0001-x86-hvm-add-XEN_DMOP_track_dirty_vram_trap-and-trap-.patch \
	hypervisor-patch/0002-x86-shadow-trap-idle-VRAM-after-the-caller-s-count-o.patch \
	hypervisor-patch/0003-tools-libs-devicemodel-add-xendevicemodel_track_dirt.patch
