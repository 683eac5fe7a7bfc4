/*
 * tracker.c - tracker names, the functional probes and close.
 *
 * Probes test the mechanism, never the kernel version: a feature can be
 * compiled out (soft-dirty here) or backported, and soft-dirty even fails
 * silently (research/dirty-tracking.md, "Test suite").
 */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracker.h"

/* proto/kvm-vm.c; declared here so that this file needs no KVM header. */
extern int kvmvm_probe(char *why, size_t whylen);

#define PROBE_PAGE	4096u
#define PROBE_PAGES	4

static const char *const kind_names[LFBSHM_TRACKER_NKINDS] = {
	[LFBSHM_TRACKER_NONE] = "none",
	[LFBSHM_TRACKER_UFFD] = "uffd",
	[LFBSHM_TRACKER_KVM] = "kvm",
	[LFBSHM_TRACKER_SOFTDIRTY] = "softdirty",
};

static void __attribute__((__format__(__printf__, 3, 4)))
set_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

const char *
lfbshm_tracker_kind_name(enum lfbshm_tracker_kind kind)
{
	if ((unsigned)kind >= LFBSHM_TRACKER_NKINDS)
		return "unknown";
	return kind_names[kind];
}

int
lfbshm_tracker_kind_parse(const char *name)
{
	int k;

	if (name == NULL)
		return -EINVAL;
	for (k = 0; k < LFBSHM_TRACKER_NKINDS; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return k;
	return -EINVAL;
}

/*
 * uffd: the real thing on a small memfd mapping.  lfbshm_tracker_uffd_open
 * creates a user-mode-only userfaultfd with UFFD_FEATURE_WP_ASYNC,
 * registers the mapping and scans once; then one written page must come
 * back, alone.
 */
static int
probe_uffd(char *why, size_t whylen)
{
	struct lfbshm_tracker *t = NULL;
	uint64_t bm[1];
	unsigned char *p = MAP_FAILED;
	size_t len = PROBE_PAGES * PROBE_PAGE;
	bool all;
	int err, fd;

	if ((fd = memfd_create("lfbshm-probe", MFD_CLOEXEC)) == -1) {
		err = -errno;
		set_why(why, whylen, "memfd_create: %s", strerror(errno));
		return err;
	}
	if (ftruncate(fd, (off_t)len) == -1) {
		err = -errno;
		set_why(why, whylen, "ftruncate: %s", strerror(errno));
		goto out;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		set_why(why, whylen, "mmap: %s", strerror(errno));
		goto out;
	}
	memset(p, 0x11, len);
	if ((err = lfbshm_tracker_uffd_open(p, len, &t, why, whylen)) < 0)
		goto out;
	bm[0] = 0;
	if ((err = t->ops->get_dirty(t, bm, &all)) < 0)
		goto scanfail;
	bm[0] = 0;
	if ((err = t->ops->get_dirty(t, bm, &all)) < 0)
		goto scanfail;
	if (all || bm[0] != 0) {
		err = -EIO;
		set_why(why, whylen, "uffd probe: pages reported written "
		    "that were not (%#llx)", (unsigned long long)bm[0]);
		goto out;
	}
	p[2 * PROBE_PAGE + 100] = 0x22;
	if ((err = t->ops->get_dirty(t, bm, &all)) < 0)
		goto scanfail;
	if (all || bm[0] != (1u << 2)) {
		err = -EIO;
		set_why(why, whylen, "uffd probe: wrote page 2, the scan "
		    "reported %#llx%s", (unsigned long long)bm[0],
		    all ? " (all dirty)" : "");
		goto out;
	}
	err = 0;
	goto out;

scanfail:
	set_why(why, whylen, "uffd probe: get_dirty: %s", strerror(-err));
out:
	lfbshm_tracker_close(t);
	if (p != MAP_FAILED)
		munmap(p, len);
	close(fd);
	return err;
}

static int
read_pagemap(int fd, const void *addr, uint64_t *ent, size_t n)
{
	off_t off = (off_t)((uintptr_t)addr / PROBE_PAGE * sizeof(*ent));
	ssize_t r;

	r = pread(fd, ent, n * sizeof(*ent), off);
	if (r == -1)
		return -errno;
	return (size_t)r == n * sizeof(*ent) ? 0 : -EIO;
}

/*
 * softdirty: clear, write page 0 of two, and bit 55 must be up on page 0
 * and down on page 1.  Writing "4" to clear_refs succeeds even where
 * soft-dirty is compiled out, so only this functional test tells.
 */
static int
probe_softdirty(char *why, size_t whylen)
{
	volatile unsigned char *p;
	uint64_t ent[2];
	int err, pm = -1, cr = -1;

	p = mmap(NULL, 2 * PROBE_PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		set_why(why, whylen, "mmap: %s", strerror(errno));
		return err;
	}
	p[0] = 1;
	p[PROBE_PAGE] = 1;
	if ((pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)) == -1 ||
	    (cr = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC)) == -1) {
		err = -errno;
		set_why(why, whylen, "%s: %s", pm == -1 ? "/proc/self/pagemap" :
		    "/proc/self/clear_refs", strerror(errno));
		goto out;
	}
	if (write(cr, "4", 1) != 1) {
		err = -errno;
		set_why(why, whylen, "clear_refs: %s", strerror(errno));
		goto out;
	}
	p[0] = 2;
	if ((err = read_pagemap(pm, (const void *)p, ent, 2)) < 0) {
		set_why(why, whylen, "/proc/self/pagemap: %s", strerror(-err));
		goto out;
	}
	if (((ent[0] >> 55) & 1) == 0) {
		err = -EOPNOTSUPP;
		set_why(why, whylen, "pagemap bit 55 (soft-dirty) stayed clear "
		    "after a write that followed clear_refs 4: this kernel "
		    "does not track soft-dirty (CONFIG_MEM_SOFT_DIRTY is off; "
		    "clear_refs accepts 4 silently)");
		goto out;
	}
	if ((ent[1] >> 55) & 1) {
		err = -EOPNOTSUPP;
		set_why(why, whylen, "pagemap bit 55 (soft-dirty) is not "
		    "cleared by clear_refs 4");
		goto out;
	}
	err = 0;
out:
	if (cr != -1)
		close(cr);
	if (pm != -1)
		close(pm);
	munmap((void *)p, 2 * PROBE_PAGE);
	return err;
}

int
lfbshm_tracker_probe(enum lfbshm_tracker_kind kind, char *why, size_t whylen)
{
	switch (kind) {
	case LFBSHM_TRACKER_NONE:
		return 0;
	case LFBSHM_TRACKER_UFFD:
		return probe_uffd(why, whylen);
	case LFBSHM_TRACKER_KVM:
		return kvmvm_probe(why, whylen);
	case LFBSHM_TRACKER_SOFTDIRTY:
		return probe_softdirty(why, whylen);
	default:
		set_why(why, whylen, "unknown tracker kind %d", (int)kind);
		return -EINVAL;
	}
}

void
lfbshm_tracker_close(struct lfbshm_tracker *t)
{
	if (t != NULL)
		t->ops->close(t);
}
