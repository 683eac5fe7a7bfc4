/*
 * shim.h - what the Xvfb preload shim (shim.c, lfbvnc-xvfb-shim.so) tells
 * lfbvnc-xvfb.
 *
 * Only the process that owns a mapping can create a userfaultfd for it, so
 * the write-protect registration has to happen inside Xvfb.  lfbvnc-xvfb
 * starts Xvfb with LD_PRELOAD=lfbvnc-xvfb-shim.so and two variables in the
 * environment:
 *
 *   LFBVNC_XVFB_SHIM_SOCKET  a SOCK_SEQPACKET unix socket lfbvnc-xvfb
 *                            listens on;
 *   LFBVNC_XVFB_FBDIR        the -fbdir directory (canonical path): only
 *                            Xvfb_screenN files in it are tracked.
 *
 * When Xvfb maps DIR/Xvfb_screenN shared and writable, the shim registers
 * the mapping with an async write-protect userfaultfd, creates a second,
 * unregistered userfaultfd for the trap, connects to the socket and sends
 * one struct xvfb_shim_msg with the descriptors as SCM_RIGHTS, in this
 * order: [0] the registered (async) uffd, [1] the spare (sync) uffd.  Xvfb
 * keeps its own copies open (closing the last one would unregister).
 * On failure it sends the message with status != 0, a reason and no
 * descriptors, and Xvfb runs on untracked.
 *
 * Both ends are built from this tree, so the layout is native-endian and
 * only guarded by magic and version.
 */
#ifndef LFBVNC_XVFB_SHIM_H
#define LFBVNC_XVFB_SHIM_H

#include <stdint.h>

#define XVFB_SHIM_ENV_SOCKET	"LFBVNC_XVFB_SHIM_SOCKET"
#define XVFB_SHIM_ENV_FBDIR	"LFBVNC_XVFB_FBDIR"
#define XVFB_SHIM_ENV_PATH	"LFBVNC_XVFB_SHIM"	/* override: the .so */
#define XVFB_SHIM_NAME		"lfbvnc-xvfb-shim.so"
#define XVFB_SHIM_FILE_PREFIX	"Xvfb_screen"

#define XVFB_SHIM_MAGIC		0x4d494853u	/* "SHIM" in memory order */
#define XVFB_SHIM_VERSION	1
#define XVFB_SHIM_MAX_FDS	2
#define XVFB_SHIM_REASON_LEN	128

struct xvfb_shim_msg {
	uint32_t magic;		/* XVFB_SHIM_MAGIC */
	uint32_t version;	/* XVFB_SHIM_VERSION */
	int32_t pid;		/* Xvfb's pid (whose pagemap to scan) */
	uint32_t screen;	/* N of Xvfb_screenN */
	uint64_t addr;		/* start of the mapping, page aligned */
	uint64_t len;		/* registered length: the mapped length
				   rounded up to the page size */
	uint64_t map_len;	/* the length Xvfb passed to mmap */
	int32_t status;		/* 0, or the errno that left it untracked */
	uint32_t nfds;		/* descriptors attached: 0, 1 or 2 */
	char reason[XVFB_SHIM_REASON_LEN];	/* NUL-terminated, status != 0 */
};

_Static_assert(sizeof(struct xvfb_shim_msg) == 48 + XVFB_SHIM_REASON_LEN,
    "shim message layout");

#endif /* LFBVNC_XVFB_SHIM_H */
