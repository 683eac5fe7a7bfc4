# uffd/softdirty/none tracker tests
TRK_TEST_LDADD = proto/liblfbshm.a common/libcommon.a -lpthread
TRK_TEST_COMMON = tests/trackers/trk-common.c tests/trackers/trk-common.h

check_PROGRAMS += \
	tests/trackers/test-tracker-uffd \
	tests/trackers/test-tracker-softdirty \
	tests/trackers/test-tracker-none
TESTS += \
	tests/trackers/test-tracker-uffd \
	tests/trackers/test-tracker-softdirty \
	tests/trackers/test-tracker-none

tests_trackers_test_tracker_uffd_SOURCES = \
	tests/trackers/test-tracker-uffd.c $(TRK_TEST_COMMON)
tests_trackers_test_tracker_uffd_LDADD = $(TRK_TEST_LDADD)
tests_trackers_test_tracker_softdirty_SOURCES = \
	tests/trackers/test-tracker-softdirty.c $(TRK_TEST_COMMON)
tests_trackers_test_tracker_softdirty_LDADD = $(TRK_TEST_LDADD)
tests_trackers_test_tracker_none_SOURCES = \
	tests/trackers/test-tracker-none.c $(TRK_TEST_COMMON)
tests_trackers_test_tracker_none_LDADD = $(TRK_TEST_LDADD)
