# liblfbshm: the protocol codec, consumer and provider APIs, and trackers.
noinst_LIBRARIES += proto/liblfbshm.a
proto_liblfbshm_a_SOURCES = proto/lfbshm.h proto/tracker.h
EXTRA_DIST += proto/PROTOCOL.md

include proto/lib.mk
include proto/trackers.mk
include proto/kvm.mk
