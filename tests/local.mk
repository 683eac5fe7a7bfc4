# Tests.  Each fragment appends to TESTS / check_PROGRAMS.
include tests/unit/local.mk
include tests/trackers/local.mk
include tests/fuzz/local.mk
include tests/providers/local.mk
include tests/daemon/local.mk
include tests/thirdparty/local.mk
include tests/integration/local.mk
include tests/xen/local.mk
