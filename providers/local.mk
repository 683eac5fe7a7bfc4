# Display providers: the demo guest, the Xvfb exporter, and the KVM guest runtime.
include providers/guest/local.mk
include providers/demo/local.mk
include providers/xvfb/local.mk
