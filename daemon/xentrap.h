/*
 * xentrap.h - XEN_DMOP_track_dirty_vram_trap, issued by lfbvncd itself.
 *
 * The op comes from hypervisor-patch/ (see its README.md for the ABI).
 * Distributions' libxendevicemodel does not have a wrapper for it (the
 * series carries one, for those who ship it), so the Xen backend builds
 * the op here and hands it to privcmd's DM_OP ioctl.  This header is the
 * pure part: the layout, encoding, decoding and what an errno means, so
 * that the unit test (tests/xen/test-xentrap.c) needs no Xen.
 */
#ifndef LFBVNC_XENTRAP_H
#define LFBVNC_XENTRAP_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define XENTRAP_DMOP		21	/* XEN_DMOP_track_dirty_vram_trap */
#define XENTRAP_F_TRAPPED	(1u << 0) /* XEN_DMOP_TDV_trapped */

/*
 * struct xen_dm_op with u.track_dirty_vram_trap: the op number and its
 * pad, then the 24 octets of xen_dm_op_track_dirty_vram_trap.  Xen
 * reads (and, on success, writes back) exactly these 32 octets.
 */
struct xentrap_op {
	uint32_t op;
	uint32_t pad;		/* must be zero */
	uint32_t nr;		/* IN: pages; 0 stops tracking */
	uint32_t clean_scans;	/* IN: clean calls before the trap */
	uint64_t first_pfn;	/* IN */
	uint32_t port;		/* IN: 0; OUT: event channel, in the guest */
	uint32_t flags;		/* IN: 0; OUT: XENTRAP_F_* */
};
_Static_assert(sizeof(struct xentrap_op) == 32, "xen_dm_op layout");
_Static_assert(offsetof(struct xentrap_op, first_pfn) == 16,
    "xen_dm_op_track_dirty_vram_trap layout");

/* What a failed call means to the backend. */
enum xentrap_err {
	XENTRAP_UNSUPPORTED,	/* no such op: track the old way */
	XENTRAP_NODATA,		/* shadow paging's first answer */
	XENTRAP_GONE,		/* the domain is dying */
	XENTRAP_FAILED,		/* anything else: as the old op's error */
};

static inline void
xentrap_encode(struct xentrap_op *op, uint64_t first_pfn, uint32_t nr,
    uint32_t clean_scans)
{
	memset(op, 0, sizeof(*op));
	op->op = XENTRAP_DMOP;
	op->nr = nr;
	op->clean_scans = clean_scans;
	op->first_pfn = first_pfn;
}

/*
 * EOPNOTSUPP is what dm_op answers for an op number it does not know.
 * ENOSYS (no dm_op at all) and ENOTTY (a privcmd without the DM_OP ioctl)
 * mean the same to us: the old library path still works, or fails on
 * its own terms.
 */
static inline enum xentrap_err
xentrap_classify(int err)
{
	switch (err) {
	case EOPNOTSUPP:
	case ENOSYS:
	case ENOTTY:
		return XENTRAP_UNSUPPORTED;
	case ENODATA:
		return XENTRAP_NODATA;
	case ESRCH:
		return XENTRAP_GONE;
	default:
		return XENTRAP_FAILED;
	}
}

/*
 * A successful reply.  *trapped only if Xen says so and the port it
 * signals was already bound before this call (bound_port): a trap armed
 * before we listened could have fired into the void, so it is not
 * trusted until a later reply confirms it.  Returns the port to bind, or
 * 0 when the binding is right (or there is no port).
 */
static inline uint32_t
xentrap_reply(const struct xentrap_op *op, uint32_t bound_port,
    bool *trapped)
{
	*trapped = (op->flags & XENTRAP_F_TRAPPED) != 0 && op->port != 0 &&
	    op->port == bound_port;
	return op->port != bound_port ? op->port : 0;
}

#endif /* LFBVNC_XENTRAP_H */
