# trackers: sources appended to proto_liblfbshm_a_SOURCES
proto_liblfbshm_a_SOURCES += \
	proto/tracker.c \
	proto/tracker-uffd.c \
	proto/tracker-softdirty.c \
	proto/tracker-none.c \
	proto/uffd-compat.h
