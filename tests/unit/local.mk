# tests/unit: one small program per module of liblfbshm's protocol layer.
#   test-wire     every validation rule, one negative test each
#   test-layout   black box: octets built from PROTOCOL.md, not lfbshm.h
#   test-session  provider + consumer in one process, hostile peers
UNIT_LDADD = proto/liblfbshm.a common/libcommon.a -lpthread

check_PROGRAMS += tests/unit/test-wire tests/unit/test-layout \
	tests/unit/test-session
TESTS += tests/unit/test-wire tests/unit/test-layout tests/unit/test-session

tests_unit_test_wire_SOURCES = tests/unit/test-wire.c
tests_unit_test_wire_LDADD = $(UNIT_LDADD)
tests_unit_test_layout_SOURCES = tests/unit/test-layout.c
tests_unit_test_layout_LDADD = $(UNIT_LDADD)
tests_unit_test_session_SOURCES = tests/unit/test-session.c
tests_unit_test_session_LDADD = $(UNIT_LDADD)
