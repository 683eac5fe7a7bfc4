/*
 * tracker-softdirty.c - soft-dirty: write "4" to /proc/self/clear_refs to
 * clear the bits, read bit 55 of the range's /proc/self/pagemap entries to
 * see which pages were written since.
 *
 * Opened only where the functional probe (lfbshm_tracker_probe) sees the
 * bit come up after a write.  On the development machine it never does:
 * CONFIG_MEM_SOFT_DIRTY is off, clear_refs accepts "4" and bit 55 stays 0
 * (research/dirty-tracking.md section 3), so this tracker is never used
 * there.  Its weaknesses where it does work, and what they mean here:
 *
 *  - Reading and clearing are two steps, not one.  A write to a clean
 *    page that lands between the pagemap read and the clear_refs write
 *    is lost: the read saw the page clean and the clear wipes the bit the
 *    write just set.  The window is the clear's walk over the process
 *    (9-60 us measured).  The cure, stopping the writer around the pair,
 *    is not available: the writer is a thread of this very process, and
 *    SIGSTOP would stop us too.  So this tracker is exact only when the
 *    writer is quiescent during get_dirty (a provider that renders and
 *    answers on one thread); with a concurrent writer it may lose writes.
 *    That is why the provider prefers uffd, whose PAGEMAP_SCAN reads and
 *    write-protects in one walk.
 *  - clear_refs clears the whole process, not a range.  Two soft-dirty
 *    trackers would clear each other's bits, so only one may be open per
 *    process (EBUSY).
 *  - No trap.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracker.h"

#define SD_PAGE		4096u
#define SD_BIT		55	/* pagemap: pte is soft-dirty */

struct sd_tracker {
	struct lfbshm_tracker	 base;		/* first */
	uint64_t		 addr;
	int			 pagemap_fd;
	int			 clear_fd;
	uint64_t		*ent;		/* pagemap entries */
	bool			 need_all;
};

static atomic_int sd_open;

static int
sd_get_dirty(struct lfbshm_tracker *bt, uint64_t *bitmap, bool *all_dirty)
{
	struct sd_tracker *t = (struct sd_tracker *)bt;
	size_t i, len, done;
	ssize_t n;
	off_t off;

	len = t->base.npages * sizeof(*t->ent);
	off = (off_t)(t->addr / SD_PAGE * sizeof(*t->ent));
	for (done = 0; done < len; done += (size_t)n) {
		n = pread(t->pagemap_fd, (char *)t->ent + done, len - done,
		    off + (off_t)done);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n == -1)
			return -errno;
		if (n == 0)
			return -EIO;
	}
	/* The non-atomic step: see the top of this file. */
	if (pwrite(t->clear_fd, "4", 1, 0) != 1)
		return -errno;
	for (i = 0; i < t->base.npages; i++)
		if ((t->ent[i] >> SD_BIT) & 1)
			bitmap[i >> 6] |= UINT64_C(1) << (i & 63);
	*all_dirty = t->need_all;
	t->need_all = false;
	return 0;
}

static int
sd_arm_trap(struct lfbshm_tracker *t, lfbshm_trap_fn *fn, void *arg)
{
	return -EOPNOTSUPP;
}

static int
sd_disarm_trap(struct lfbshm_tracker *t)
{
	return 0;
}

/* Without clears a page faults at most once more: tracking costs nothing. */
static int
sd_stop(struct lfbshm_tracker *bt)
{
	struct sd_tracker *t = (struct sd_tracker *)bt;

	t->need_all = true;
	return 0;
}

static void
sd_close(struct lfbshm_tracker *bt)
{
	struct sd_tracker *t = (struct sd_tracker *)bt;

	if (t->pagemap_fd != -1)
		close(t->pagemap_fd);
	if (t->clear_fd != -1)
		close(t->clear_fd);
	free(t->ent);
	free(t);
	atomic_fetch_sub(&sd_open, 1);
}

static const struct lfbshm_tracker_ops sd_ops = {
	.get_dirty = sd_get_dirty,
	.arm_trap = sd_arm_trap,
	.disarm_trap = sd_disarm_trap,
	.stop = sd_stop,
	.close = sd_close,
};

int
lfbshm_tracker_softdirty_open(void *addr, size_t len,
    struct lfbshm_tracker **out, char *why, size_t whylen)
{
	struct sd_tracker *t;
	uintptr_t a = (uintptr_t)addr;
	int err;

	if (out == NULL)
		return -EINVAL;
	*out = NULL;
	if (len == 0 || a % SD_PAGE != 0 || len % SD_PAGE != 0 ||
	    sysconf(_SC_PAGESIZE) != SD_PAGE) {
		if (why != NULL && whylen > 0)
			snprintf(why, whylen, "softdirty tracker: addr and len "
			    "must be non-zero multiples of %u (and so the host "
			    "page size)", SD_PAGE);
		return -EINVAL;
	}
	if ((err = lfbshm_tracker_probe(LFBSHM_TRACKER_SOFTDIRTY, why,
	    whylen)) < 0)
		return err;
	if (atomic_fetch_add(&sd_open, 1) != 0) {
		atomic_fetch_sub(&sd_open, 1);
		if (why != NULL && whylen > 0)
			snprintf(why, whylen, "softdirty tracker: one per "
			    "process (clear_refs clears them all)");
		return -EBUSY;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		atomic_fetch_sub(&sd_open, 1);
		return -ENOMEM;
	}
	t->base.ops = &sd_ops;
	t->base.kind = LFBSHM_TRACKER_SOFTDIRTY;
	t->base.npages = len / SD_PAGE;
	t->base.has_trap = false;
	t->addr = a;
	t->need_all = true;
	t->clear_fd = -1;
	t->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (t->pagemap_fd == -1)
		goto fail;
	t->clear_fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (t->clear_fd == -1)
		goto fail;
	if ((t->ent = calloc(t->base.npages, sizeof(*t->ent))) == NULL)
		goto fail;
	/* Start clean: the first answer is all_dirty anyway. */
	if (pwrite(t->clear_fd, "4", 1, 0) != 1)
		goto fail;
	*out = &t->base;
	return 0;

fail:
	err = errno != 0 ? -errno : -EIO;
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "softdirty tracker: %s", strerror(-err));
	sd_close(&t->base);
	return err;
}
