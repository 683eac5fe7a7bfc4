noinst_LIBRARIES += common/libcommon.a
common_libcommon_a_SOURCES = common/log.c common/log.h \
	common/json-read.c common/json-read.h common/marker.h
