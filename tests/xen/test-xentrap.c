/*
 * test-xentrap: the pure part of the Xen backend's trap support
 * (daemon/xentrap.h), without a hypervisor: the op's layout and encoding
 * as hypervisor-patch/0001 defines it, what each errno means (the
 * fallback to the old op on an unpatched hypervisor), and when a reply
 * may be trusted to say "trapped".
 *
 * When XENTRAP_PATCHED_DM_OP_H names the patched public header (the
 * hypervisor build leaves the patched headers in its cache, and
 * hypervisor-patch/test-build.sh compiles this test against them), the
 * layout is also checked against the real structure, at compile time.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "xentrap.h"

#ifdef XENTRAP_PATCHED_DM_OP_H
#include <stdint.h>
#include XENTRAP_PATCHED_DM_OP_H
_Static_assert(XEN_DMOP_track_dirty_vram_trap == XENTRAP_DMOP, "op number");
_Static_assert(XEN_DMOP_TDV_trapped == XENTRAP_F_TRAPPED, "flag");
_Static_assert(sizeof(struct xen_dm_op) == sizeof(struct xentrap_op),
    "struct xen_dm_op size");
#define SAME(f) _Static_assert(offsetof(struct xen_dm_op, \
    u.track_dirty_vram_trap.f) == offsetof(struct xentrap_op, f), #f)
SAME(nr);
SAME(clean_scans);
SAME(first_pfn);
SAME(port);
SAME(flags);
#endif

static int failures;
#define CHECK(c) do { if (!(c)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } \
	while (0)

static void
test_layout(void)
{
	struct xentrap_op op;
	unsigned char raw[32];

	/* The ABI, octet by octet (little-endian x86). */
	CHECK(offsetof(struct xentrap_op, op) == 0);
	CHECK(offsetof(struct xentrap_op, pad) == 4);
	CHECK(offsetof(struct xentrap_op, nr) == 8);
	CHECK(offsetof(struct xentrap_op, clean_scans) == 12);
	CHECK(offsetof(struct xentrap_op, first_pfn) == 16);
	CHECK(offsetof(struct xentrap_op, port) == 24);
	CHECK(offsetof(struct xentrap_op, flags) == 28);

	memset(&op, 0xaa, sizeof(op));
	xentrap_encode(&op, 0xf1000, 4096, 8);
	memcpy(raw, &op, sizeof(raw));
	CHECK(raw[0] == 21 && raw[1] == 0 && raw[2] == 0 && raw[3] == 0);
	CHECK(op.pad == 0);
	CHECK(op.nr == 4096 && op.clean_scans == 8);
	CHECK(op.first_pfn == 0xf1000);
	/* Reserved on input: Xen refuses anything else with EINVAL. */
	CHECK(op.port == 0 && op.flags == 0);
}

static void
test_classify(void)
{
	/* An unpatched hypervisor: fall back, quietly. */
	CHECK(xentrap_classify(EOPNOTSUPP) == XENTRAP_UNSUPPORTED);
	CHECK(xentrap_classify(ENOSYS) == XENTRAP_UNSUPPORTED);
	CHECK(xentrap_classify(ENOTTY) == XENTRAP_UNSUPPORTED);
	CHECK(xentrap_classify(ENODATA) == XENTRAP_NODATA);
	CHECK(xentrap_classify(ESRCH) == XENTRAP_GONE);
	/* The old op's errors stay errors (a bad range is not "no trap"). */
	CHECK(xentrap_classify(EINVAL) == XENTRAP_FAILED);
	CHECK(xentrap_classify(EPERM) == XENTRAP_FAILED);
	CHECK(xentrap_classify(EFAULT) == XENTRAP_FAILED);
	CHECK(xentrap_classify(E2BIG) == XENTRAP_FAILED);
}

static void
test_reply(void)
{
	struct xentrap_op op;
	bool trapped;

	/* First reply naming the port: bind it; do not trust "trapped". */
	xentrap_encode(&op, 0xf1000, 4096, 8);
	op.port = 7;
	op.flags = XENTRAP_F_TRAPPED;
	CHECK(xentrap_reply(&op, 0, &trapped) == 7);
	CHECK(!trapped);
	/* Bound before the call: trusted. */
	CHECK(xentrap_reply(&op, 7, &trapped) == 0);
	CHECK(trapped);
	/* Not trapped. */
	op.flags = 0;
	CHECK(xentrap_reply(&op, 7, &trapped) == 0);
	CHECK(!trapped);
	/* A new port (tracking restarted behind us): rebind, not trusted. */
	op.port = 9;
	op.flags = XENTRAP_F_TRAPPED;
	CHECK(xentrap_reply(&op, 7, &trapped) == 9);
	CHECK(!trapped);
	/* No port (clean_scans 0): never trapped. */
	op.port = 0;
	CHECK(xentrap_reply(&op, 0, &trapped) == 0);
	CHECK(!trapped);
}

int
main(void)
{
	test_layout();
	test_classify();
	test_reply();
	if (failures == 0)
		printf("test-xentrap: PASS\n");
	return failures ? 1 : 0;
}
