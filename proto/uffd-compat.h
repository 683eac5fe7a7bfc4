/*
 * uffd-compat.h - kernel UAPI that Debian 12's linux-libc-dev (6.1) lacks.
 *
 * PAGEMAP_SCAN and the userfaultfd async write-protect mode came with
 * Linux 6.7; the machine runs a newer kernel than its headers describe
 * (research/dirty-tracking.md, "Test machine").  The values below are
 * copied from the kernel's include/uapi/linux/fs.h (PAGEMAP_SCAN, struct
 * page_region, struct pm_scan_arg, PAGE_IS_*, PM_SCAN_*) and
 * include/uapi/linux/userfaultfd.h (UFFD_FEATURE_WP_UNPOPULATED, 6.4;
 * UFFD_FEATURE_WP_ASYNC, 6.7; UFFD_USER_MODE_ONLY, 5.11).  They are part
 * of the kernel ABI and never change.  Each block is guarded so that newer
 * headers win and nothing is defined twice.
 */
#ifndef LFBSHM_UFFD_COMPAT_H
#define LFBSHM_UFFD_COMPAT_H

#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/userfaultfd.h>

#ifndef PAGEMAP_SCAN
/* Categories, for the masks of struct pm_scan_arg and in page_region. */
#define PAGE_IS_WPALLOWED	(1 << 0)
#define PAGE_IS_WRITTEN		(1 << 1)
#define PAGE_IS_FILE		(1 << 2)
#define PAGE_IS_PRESENT		(1 << 3)
#define PAGE_IS_SWAPPED		(1 << 4)
#define PAGE_IS_PFNZERO		(1 << 5)
#define PAGE_IS_HUGE		(1 << 6)
#define PAGE_IS_SOFT_DIRTY	(1 << 7)

/* One run [start, end) of pages that share the same categories. */
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

/* Flags of struct pm_scan_arg. */
#define PM_SCAN_WP_MATCHING	(1 << 0)	/* write-protect matches */
#define PM_SCAN_CHECK_WPASYNC	(1 << 1)	/* EPERM on a range without
						   async write-protect */

struct pm_scan_arg {
	__u64 size;		/* sizeof(struct pm_scan_arg) */
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;		/* out: where the walk stopped */
	__u64 vec;		/* struct page_region[vec_len] */
	__u64 vec_len;
	__u64 max_pages;	/* 0: no limit */
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

/* ioctl on /proc/PID/pagemap; returns the number of regions filled. */
#define PAGEMAP_SCAN	_IOWR('f', 16, struct pm_scan_arg)
#endif /* PAGEMAP_SCAN */

#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD		(1 << 8)	/* 6.14 */
#endif

#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED	(1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC		(1 << 15)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY		1
#endif

#endif /* LFBSHM_UFFD_COMPAT_H */
