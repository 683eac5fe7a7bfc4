/*
 * tracker-uffd.c - the "uffd" tracker: userfaultfd asynchronous
 * write-protect read and cleared with PAGEMAP_SCAN (Linux >= 6.7), and a
 * synchronous write-protect userfaultfd for the trap.
 *
 * Tracking.  The range is registered for write-protect with an async
 * userfaultfd.  The kernel resolves a write fault on a protected page
 * itself: it clears the page's uffd-wp bit and lets the write go on
 * (~1.2 us, once per page per scan).  get_dirty is one PAGEMAP_SCAN that
 * returns the pages whose bit is clear (PAGE_IS_WRITTEN) and sets it again
 * in the same page-table walk (PM_SCAN_WP_MATCHING).  Reading and clearing
 * are therefore one step: a write is in this answer or in the next one,
 * never in neither (research/dirty-tracking.md section 1: 0 lost pages with
 * concurrent writers, in-process and across processes).
 *
 * Trap.  An async userfaultfd never tells anybody about a write, so
 * arm_trap moves the range to a second, synchronous userfaultfd: every
 * write to a protected page then stops the writer and queues an event.  A
 * range can be registered with only one userfaultfd at a time (EBUSY), so
 * the move is: scan (anything written? then answer 1 and keep it pending),
 * unregister async, register sync, UFFDIO_WRITEPROTECT the range.  A
 * handler thread takes the first event, remembers the page, moves the
 * range back to async tracking, wakes the writers (UFFDIO_WAKE: contrary
 * to MISSING faults, UFFDIO_UNREGISTER does not wake write-protect
 * waiters) and calls the callback once.  The wake takes the waiters'
 * queued events off the queue, so no stale event survives a switch.
 *
 * Two kernel facts shape the rest (both measured on this machine):
 *
 *  - UFFDIO_UNREGISTER clears the uffd-wp bit of every page of the range.
 *    After the range returns to the async userfaultfd, the first scan
 *    reports every present page, written or not.  The get_dirty after a
 *    trap period (fired, disarmed, or ended by get_dirty) therefore
 *    answers all_dirty: the consumer compares once.  Nothing can be lost,
 *    and nothing better can be proved: writes made between the unregister
 *    and the next scan look exactly like untouched pages.
 *
 *  - For the same reason a write that lands after arm's scan but before
 *    UFFDIO_WRITEPROTECT has completed (~0.2 ms for 8 MiB) leaves no trace
 *    in any page table: it would be neither "already written" nor trapped,
 *    and the consumer would sleep on a stale screen.  No page-table
 *    mechanism can see it, so arm closes that window by content: it hashes
 *    the framebuffer before the scan and again after the range is
 *    protected (multiply-rotate lanes: every single-word change is
 *    detected, several cancel with probability ~2^-64).  Different hashes
 *    mean a write in the window: arm moves back and answers 1.  A write of
 *    identical data is not seen, and needs not be: nothing changed.  The
 *    window is real: with bursty writers about 1 arm in 20 caught a write
 *    there in the tests.  It costs two reads of the framebuffer per arm
 *    (an arm takes ~2 ms for 8 MiB, ~15 ms for 32 MiB on this VM, against
 *    ~4 us for a clean scan), and arms are rare: the consumer arms after
 *    several clean scans, once per idle period.
 *
 * The callback runs on the handler thread after the trap has already gone
 * back to tracking, outside the tracker's lock.  So it may land after the
 * serving thread has moved on (a get_dirty, even a new arm_trap); it is
 * still called at most once per arm, and a late one only causes one
 * extra, harmless get_dirty.
 *
 * Why a thread and not the provider's poll loop: a thread of the provider
 * (even the serving thread) may itself write to the framebuffer while the
 * trap is armed; it then sleeps in the fault until somebody answers the
 * userfaultfd.  If the answering were done by the provider's dispatch
 * loop, such a write would deadlock it.  The handler thread is started at
 * the first arm, blocks in poll(2) and costs nothing while idle.
 *
 * Kernel writes.  A userfaultfd made with UFFD_USER_MODE_ONLY does not
 * trap writes the kernel makes on the process's behalf (read(2) into the
 * framebuffer): in sync mode those fail with EFAULT (research section 2).
 * The async userfaultfd is always user-mode-only (it makes no difference
 * there: kernel writes are still tracked, and it needs no privilege).  For
 * the trap the in-process tracker first tries a full userfaultfd (allowed
 * with CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1): kernel writes
 * then sleep and fire the trap like any other.  Only when that is refused
 * does it fall back to a user-mode-only one: then a syscall that writes
 * into the armed framebuffer fails with EFAULT until the next get_dirty or
 * disarm.  Framebuffer writers draw with ordinary stores, so the trap is
 * still offered; lfbshm_tracker_uffd_open logs which kind it got.  For the
 * remote tracker the other process chose the flags.
 *
 * stop unregisters the range (the writer then pays nothing); the next
 * get_dirty registers it again and answers all_dirty.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tracker.h"
#include "uffd-compat.h"

#define TRK_PAGE	4096u
#define GUARD_CHUNK	(64u * TRK_PAGE)	/* remote guard read size */
#define NMSG		16

_Static_assert(sizeof(struct pm_scan_arg) == 96, "pm_scan_arg layout");
_Static_assert(sizeof(struct page_region) == 24, "page_region layout");

enum uffd_reg {
	REG_NONE,	/* nothing registered on the range */
	REG_ASYNC,	/* tracking */
	REG_SYNC	/* trap */
};

struct uffd_tracker {
	struct lfbshm_tracker	 base;		/* first */
	uint64_t		 addr;
	uint64_t		 len;
	pid_t			 pid;		/* 0: this process */
	int			 pagemap_fd;
	int			 uffd_async;
	int			 uffd_sync;	/* -1: no trap */
	struct page_region	*vec;		/* scan output */
	size_t			 vec_len;
	size_t			 nwords;
	unsigned char		*bounce;	/* remote guard reads */

	pthread_mutex_t		 lock;		/* all below */
	enum uffd_reg		 reg;
	bool			 armed;
	bool			 need_all;	/* answer all_dirty */
	bool			 pending_any;
	uint64_t		*pending;	/* written, not yet reported */
	lfbshm_trap_fn		*fn;
	void			*fnarg;
	bool			 handler_started;
	bool			 handler_dead;
	int			 wake_fd;	/* eventfd: handler, quit */
	pthread_t		 handler;
};

static int	uffd_get_dirty(struct lfbshm_tracker *, uint64_t *, bool *);
static int	uffd_arm_trap(struct lfbshm_tracker *, lfbshm_trap_fn *,
		    void *);
static int	uffd_disarm_trap(struct lfbshm_tracker *);
static int	uffd_stop(struct lfbshm_tracker *);
static void	uffd_close(struct lfbshm_tracker *);

static const struct lfbshm_tracker_ops uffd_ops = {
	.get_dirty = uffd_get_dirty,
	.arm_trap = uffd_arm_trap,
	.disarm_trap = uffd_disarm_trap,
	.stop = uffd_stop,
	.close = uffd_close,
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

static int
xuserfaultfd(int flags)
{
	int fd;

	fd = (int)syscall(SYS_userfaultfd, flags);
	return fd == -1 ? -errno : fd;
}

/* UFFDIO_API; on success *got holds the features the kernel knows. */
static int
uffd_api(int fd, uint64_t features, uint64_t *got)
{
	struct uffdio_api api;

	memset(&api, 0, sizeof(api));
	api.api = UFFD_API;
	api.features = features;
	if (ioctl(fd, UFFDIO_API, &api) == -1)
		return -errno;
	if (got != NULL)
		*got = api.features;
	return 0;
}

static int
uffd_register(int fd, uint64_t addr, uint64_t len)
{
	struct uffdio_register reg;

	memset(&reg, 0, sizeof(reg));
	reg.range.start = addr;
	reg.range.len = len;
	reg.mode = UFFDIO_REGISTER_MODE_WP;
	return ioctl(fd, UFFDIO_REGISTER, &reg) == -1 ? -errno : 0;
}

static int
uffd_unregister(int fd, uint64_t addr, uint64_t len)
{
	struct uffdio_range range;

	range.start = addr;
	range.len = len;
	return ioctl(fd, UFFDIO_UNREGISTER, &range) == -1 ? -errno : 0;
}

static int
uffd_writeprotect(int fd, uint64_t addr, uint64_t len, bool on)
{
	struct uffdio_writeprotect wp;

	memset(&wp, 0, sizeof(wp));
	wp.range.start = addr;
	wp.range.len = len;
	wp.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0;
	return ioctl(fd, UFFDIO_WRITEPROTECT, &wp) == -1 ? -errno : 0;
}

/*
 * Wake the writers sleeping on the trap.  UFFDIO_UNREGISTER only wakes the
 * waiters of MISSING faults, not those of write-protect faults (measured:
 * without this the first trapped writer sleeps for ever), so every exit
 * from the sync registration ends here.  The wake also takes their events
 * off the queue: none is left for the handler to read later.
 */
static void
sync_wake(struct uffd_tracker *t)
{
	struct uffdio_range range;

	range.start = t->addr;
	range.len = t->len;
	if (ioctl(t->uffd_sync, UFFDIO_WAKE, &range) == -1)
		log_warn("uffd tracker: UFFDIO_WAKE");
}

/*
 * Last resort when the sync registration cannot be dropped: lift the
 * protection and wake whoever sleeps on it, so that no writer hangs.
 */
static void
sync_release(struct uffd_tracker *t)
{
	if (uffd_writeprotect(t->uffd_sync, t->addr, t->len, false) < 0)
		log_warnx("uffd tracker: cannot lift the trap's protection");
	sync_wake(t);
}

/*
 * Move the range's registration to want.  Keeps t->reg exact: the kernel
 * refuses to unregister through a userfaultfd the range is not registered
 * with (EINVAL), so it must know which one holds it.  Called with the lock
 * held.
 */
static int
set_reg(struct uffd_tracker *t, enum uffd_reg want)
{
	int err, fd;

	if (t->reg == want)
		return 0;
	if (t->reg != REG_NONE) {
		fd = t->reg == REG_ASYNC ? t->uffd_async : t->uffd_sync;
		err = uffd_unregister(fd, t->addr, t->len);
		if (err < 0) {
			if (t->reg == REG_SYNC)
				sync_release(t);
			return err;
		}
		if (t->reg == REG_SYNC)
			sync_wake(t);
		t->reg = REG_NONE;
	}
	if (want != REG_NONE) {
		fd = want == REG_ASYNC ? t->uffd_async : t->uffd_sync;
		err = uffd_register(fd, t->addr, t->len);
		if (err < 0)
			return err;
		t->reg = want;
	}
	return 0;
}

static void
set_bits(uint64_t *bm, size_t from, size_t to)
{
	while (from < to && (from & 63) != 0) {
		bm[from >> 6] |= UINT64_C(1) << (from & 63);
		from++;
	}
	while (from + 64 <= to) {
		bm[from >> 6] = ~UINT64_C(0);
		from += 64;
	}
	while (from < to) {
		bm[from >> 6] |= UINT64_C(1) << (from & 63);
		from++;
	}
}

/*
 * Get and clear: OR the written pages into bitmap (when not NULL) and
 * write-protect them again, in one walk.  *count is the number of pages
 * reported.  No allocation: vec was sized at open to npages regions, which
 * is more than a range of npages pages can hold, so one call suffices.
 * PM_SCAN_CHECK_WPASYNC makes a range that lost its async registration
 * fail with EPERM instead of answering "nothing written" (research section
 * 1, gotcha 2).  walk_end is only trusted when the vector came back full
 * (gotcha 1: on 6.18 it is wrong past 512 regions).
 */
static int
scan(struct uffd_tracker *t, uint64_t *bitmap, size_t *count)
{
	struct pm_scan_arg arg;
	uint64_t end, s, e;
	size_t i, total;
	long n;

	end = t->addr + t->len;
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC;
	arg.start = t->addr;
	arg.end = end;
	arg.vec = (uint64_t)(uintptr_t)t->vec;
	arg.vec_len = t->vec_len;
	arg.category_mask = PAGE_IS_WRITTEN;
	arg.return_mask = PAGE_IS_WRITTEN;
	total = 0;
	for (;;) {
		n = ioctl(t->pagemap_fd, PAGEMAP_SCAN, &arg);
		if (n < 0)
			return -errno;
		for (i = 0; i < (size_t)n; i++) {
			s = t->vec[i].start < t->addr ? t->addr :
			    t->vec[i].start;
			e = t->vec[i].end > end ? end : t->vec[i].end;
			if (e <= s)
				continue;
			total += (e - s) / TRK_PAGE;
			if (bitmap != NULL)
				set_bits(bitmap, (s - t->addr) / TRK_PAGE,
				    (e - t->addr) / TRK_PAGE);
		}
		if ((size_t)n < t->vec_len || arg.walk_end >= end ||
		    arg.walk_end <= arg.start)
			break;
		arg.start = arg.walk_end;
	}
	*count = total;
	return 0;
}

/* ---------------------------------------------------------------- guard */

#define GUARD_PRIME	UINT64_C(0x9e3779b97f4a7c15)
#define GUARD_LANES	8

static inline uint64_t
rotl64(uint64_t x, unsigned int r)
{
	return (x << r) | (x >> (64 - r));
}

/*
 * Eight independent chains h = rotl((h ^ w) * odd, 29): each step is a
 * bijection of h and of w, so changing any one word always changes its
 * lane's result.  Eight lanes, one cache line per round, hide the
 * multiply's latency: ~0.7 ms per 8 MiB here, about memory speed.  n is a
 * multiple of 64 (pages are).
 */
static void
guard_mix(uint64_t h[GUARD_LANES], const unsigned char *p, size_t n)
{
	uint64_t w[GUARD_LANES];
	size_t i, k;

	for (i = 0; i + sizeof(w) <= n; i += sizeof(w)) {
		memcpy(w, p + i, sizeof(w));
		for (k = 0; k < GUARD_LANES; k++)
			h[k] = rotl64((h[k] ^ w[k]) * GUARD_PRIME, 29);
	}
}

static int
remote_read(struct uffd_tracker *t, uint64_t off, size_t len)
{
	struct iovec local, remote;
	ssize_t n;
	size_t done;

	for (done = 0; done < len; done += (size_t)n) {
		local.iov_base = t->bounce + done;
		local.iov_len = len - done;
		remote.iov_base = (void *)(uintptr_t)(t->addr + off + done);
		remote.iov_len = len - done;
		n = process_vm_readv(t->pid, &local, 1, &remote, 1, 0);
		if (n == -1)
			return errno == 0 ? -EIO : -errno;
		if (n == 0)
			return -EIO;
	}
	return 0;
}

/* Hash of the framebuffer's contents, for the arm window (see top). */
static int
guard_hash(struct uffd_tracker *t, uint64_t h[GUARD_LANES])
{
	uint64_t off;
	size_t n, k;
	int err;

	for (k = 0; k < GUARD_LANES; k++)
		h[k] = k + 1;
	if (t->pid == 0) {
		guard_mix(h, (const unsigned char *)(uintptr_t)t->addr,
		    t->len);
		return 0;
	}
	for (off = 0; off < t->len; off += n) {
		n = t->len - off > GUARD_CHUNK ? GUARD_CHUNK :
		    (size_t)(t->len - off);
		if ((err = remote_read(t, off, n)) < 0)
			return err;
		guard_mix(h, t->bounce, n);
	}
	return 0;
}

/* -------------------------------------------------------------- handler */

static void *
uffd_handler(void *arg)
{
	struct uffd_tracker *t = arg;
	struct uffd_msg msg[NMSG];
	struct pollfd pfd[2];
	lfbshm_trap_fn *fn;
	void *fnarg;
	uint64_t a;
	size_t i, p;
	ssize_t n;
	bool fired, quit = false;
	int err;

	pfd[0].fd = t->uffd_sync;
	pfd[0].events = POLLIN;
	pfd[1].fd = t->wake_fd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("uffd tracker: poll");
			break;
		}
		if (pfd[1].revents != 0) {
			quit = true;	/* close */
			break;
		}
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			log_warnx("uffd tracker: the trap's userfaultfd "
			    "failed (revents %#x)", (unsigned)pfd[0].revents);
			break;
		}

		/*
		 * Read under the lock: arm, disarm and get_dirty switch the
		 * registration under it too, and the wake that follows an
		 * unregister drops the events of the writers it wakes.  So
		 * every event read here belongs to the current arm.
		 */
		fired = false;
		fn = NULL;
		fnarg = NULL;
		pthread_mutex_lock(&t->lock);
		for (;;) {
			n = read(t->uffd_sync, msg, sizeof(msg));
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				break;	/* EAGAIN: drained */
			for (i = 0; i < (size_t)n / sizeof(msg[0]); i++) {
				if (msg[i].event != UFFD_EVENT_PAGEFAULT)
					continue;
				fired = true;
				a = msg[i].arg.pagefault.address;
				if (a < t->addr || a - t->addr >= t->len)
					continue;
				p = (size_t)((a - t->addr) / TRK_PAGE);
				t->pending[p >> 6] |= UINT64_C(1) << (p & 63);
				t->pending_any = true;
			}
		}
		if (fired && t->armed) {
			/* Unregister, then wake the writers (set_reg). */
			t->armed = false;
			t->need_all = true;
			fn = t->fn;
			fnarg = t->fnarg;
			t->fn = NULL;
			if ((err = set_reg(t, REG_ASYNC)) < 0)
				log_warnx("uffd tracker: back to tracking "
				    "after the trap: %s", strerror(-err));
		}
		pthread_mutex_unlock(&t->lock);
		if (fn != NULL)
			fn(fnarg);
	}

	/*
	 * Nobody answers the trap from now on: free the writers, and wake
	 * the consumer rather than let it wait for a call that never comes.
	 */
	pthread_mutex_lock(&t->lock);
	t->handler_dead = true;
	fn = NULL;
	fnarg = NULL;
	if (t->armed) {
		t->armed = false;
		t->need_all = true;
		fn = t->fn;
		fnarg = t->fnarg;
		t->fn = NULL;
		(void)set_reg(t, REG_ASYNC);
	}
	if (t->reg == REG_SYNC)
		sync_release(t);
	pthread_mutex_unlock(&t->lock);
	if (fn != NULL && !quit)
		fn(fnarg);
	return NULL;
}

static int
start_handler(struct uffd_tracker *t)
{
	sigset_t all, old;
	int err;

	if (t->handler_started)
		return 0;
	if (t->wake_fd == -1) {
		t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (t->wake_fd == -1)
			return -errno;
	}
	/* Signals are for the provider's threads, not for this one. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&t->handler, NULL, uffd_handler, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0)
		return -err;
	t->handler_started = true;
	return 0;
}

/* ------------------------------------------------------------------ ops */

static int
uffd_get_dirty(struct lfbshm_tracker *bt, uint64_t *bitmap, bool *all_dirty)
{
	struct uffd_tracker *t = (struct uffd_tracker *)bt;
	size_t i, n;
	int err;

	pthread_mutex_lock(&t->lock);
	if (t->reg != REG_ASYNC) {
		/* Armed (a get_dirty disarms), stopped, or a failed switch:
		   registering afresh makes every present page look written. */
		t->armed = false;
		t->fn = NULL;
		t->need_all = true;
		if ((err = set_reg(t, REG_ASYNC)) < 0)
			goto out;
	}
	if ((err = scan(t, bitmap, &n)) < 0)
		goto out;
	if (t->pending_any) {
		for (i = 0; i < t->nwords; i++) {
			bitmap[i] |= t->pending[i];
			t->pending[i] = 0;
		}
		t->pending_any = false;
	}
	*all_dirty = t->need_all;
	t->need_all = false;
out:
	pthread_mutex_unlock(&t->lock);
	return err;
}

static int
uffd_arm_trap(struct lfbshm_tracker *bt, lfbshm_trap_fn *fn, void *arg)
{
	struct uffd_tracker *t = (struct uffd_tracker *)bt;
	uint64_t h0[GUARD_LANES], h1[GUARD_LANES];
	size_t n;
	int err, err2;

	if (!t->base.has_trap)
		return -EOPNOTSUPP;
	if (fn == NULL)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	if (t->handler_dead) {
		err = -EIO;
		goto out;
	}
	if (t->armed) {
		t->fn = fn;
		t->fnarg = arg;
		err = 0;
		goto out;
	}
	/* Stopped, or the next answer is all_dirty anyway: cannot tell. */
	if (t->reg != REG_ASYNC || t->need_all || t->pending_any) {
		err = 1;
		goto out;
	}
	if ((err = start_handler(t)) < 0)
		goto out;

	/* The hash first: a write during it is caught by the scan. */
	if ((err = guard_hash(t, h0)) < 0)
		goto out;
	if ((err = scan(t, t->pending, &n)) < 0)
		goto out;
	if (n > 0) {
		/* Fired already; the next get_dirty reports these pages. */
		t->pending_any = true;
		err = 1;
		goto out;
	}
	if ((err = set_reg(t, REG_SYNC)) < 0)
		goto back;
	if ((err = uffd_writeprotect(t->uffd_sync, t->addr, t->len,
	    true)) < 0)
		goto back;
	/* Writers now sleep in the fault until we unlock; reads are free. */
	if ((err = guard_hash(t, h1)) < 0)
		goto back;
	if (memcmp(h0, h1, sizeof(h0)) != 0) {
		/* Written between the scan and the protection. */
		log_debug("uffd tracker: a write landed while arming");
		err = 1;
		goto back;
	}
	t->armed = true;
	t->fn = fn;
	t->fnarg = arg;
	err = 0;
	goto out;

back:
	/* Every page lost its uffd-wp bit on the way: all_dirty next. */
	t->need_all = true;
	if ((err2 = set_reg(t, REG_ASYNC)) < 0)
		log_warnx("uffd tracker: back to tracking after a failed arm: "
		    "%s", strerror(-err2));
out:
	pthread_mutex_unlock(&t->lock);
	return err;
}

static int
uffd_disarm_trap(struct lfbshm_tracker *bt)
{
	struct uffd_tracker *t = (struct uffd_tracker *)bt;
	int err = 0;

	pthread_mutex_lock(&t->lock);
	if (t->armed) {
		t->armed = false;
		t->fn = NULL;
		t->need_all = true;
		err = set_reg(t, REG_ASYNC);
	}
	pthread_mutex_unlock(&t->lock);
	return err;
}

static int
uffd_stop(struct lfbshm_tracker *bt)
{
	struct uffd_tracker *t = (struct uffd_tracker *)bt;
	int err;

	pthread_mutex_lock(&t->lock);
	t->armed = false;
	t->fn = NULL;
	t->need_all = true;
	err = set_reg(t, REG_NONE);
	pthread_mutex_unlock(&t->lock);
	return err;
}

static void
uffd_free(struct uffd_tracker *t)
{
	uint64_t one = 1;

	if (t->handler_started) {
		if (write(t->wake_fd, &one, sizeof(one)) != sizeof(one))
			log_warn("uffd tracker: cannot stop the handler");
		else
			pthread_join(t->handler, NULL);
	}
	/*
	 * Another process's registration is left as we were given it: async
	 * tracking.  Our own range is unregistered by closing the fds.
	 */
	if (t->pid != 0 && t->uffd_async != -1) {
		pthread_mutex_lock(&t->lock);
		(void)set_reg(t, REG_ASYNC);
		pthread_mutex_unlock(&t->lock);
	}
	if (t->uffd_sync != -1)
		close(t->uffd_sync);
	if (t->uffd_async != -1)
		close(t->uffd_async);
	if (t->pagemap_fd != -1)
		close(t->pagemap_fd);
	if (t->wake_fd != -1)
		close(t->wake_fd);
	pthread_mutex_destroy(&t->lock);
	free(t->bounce);
	free(t->pending);
	free(t->vec);
	free(t);
}

static void
uffd_close(struct lfbshm_tracker *bt)
{
	uffd_free((struct uffd_tracker *)bt);
}

/* ----------------------------------------------------------------- open */

static int
uffd_alloc(struct uffd_tracker **out, uint64_t addr, size_t len, pid_t pid,
    char *why, size_t whylen)
{
	struct uffd_tracker *t;
	size_t npages;
	long pagesize;

	*out = NULL;
	if (len == 0 || addr % TRK_PAGE != 0 || len % TRK_PAGE != 0 ||
	    addr + len < addr) {
		set_why(why, whylen, "uffd tracker: addr and len must be "
		    "non-zero multiples of %u", TRK_PAGE);
		return -EINVAL;
	}
	/* PAGEMAP_SCAN answers in host pages; the protocol's are 4 KiB. */
	pagesize = sysconf(_SC_PAGESIZE);
	if (pagesize != TRK_PAGE) {
		set_why(why, whylen, "uffd tracker: host page size %ld is "
		    "not %u", pagesize, TRK_PAGE);
		return -EOPNOTSUPP;
	}
	npages = len / TRK_PAGE;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto nomem;
	t->base.ops = &uffd_ops;
	t->base.kind = LFBSHM_TRACKER_UFFD;
	t->base.npages = npages;
	t->addr = addr;
	t->len = len;
	t->pid = pid;
	t->pagemap_fd = -1;
	t->uffd_async = -1;
	t->uffd_sync = -1;
	t->wake_fd = -1;
	t->nwords = (npages + 63) / 64;
	t->vec_len = npages;
	if ((errno = pthread_mutex_init(&t->lock, NULL)) != 0) {
		free(t);
		goto nomem;
	}
	t->vec = calloc(t->vec_len, sizeof(*t->vec));
	t->pending = calloc(t->nwords, sizeof(*t->pending));
	if (t->vec == NULL || t->pending == NULL) {
		uffd_free(t);
		goto nomem;
	}
	*out = t;
	return 0;

nomem:
	set_why(why, whylen, "uffd tracker: out of memory");
	return -ENOMEM;
}

/*
 * The first scan after registration reports every page; it also proves
 * that PAGEMAP_SCAN exists and that the range is under async write-protect.
 */
static int
first_scan(struct uffd_tracker *t, char *why, size_t whylen)
{
	size_t n;
	int err;

	if ((err = scan(t, NULL, &n)) == 0) {
		t->need_all = true;
		return 0;
	}
	if (err == -ENOTTY || err == -EINVAL)
		set_why(why, whylen, "PAGEMAP_SCAN: %s (needs Linux >= 6.7)",
		    strerror(-err));
	else if (err == -EPERM)
		set_why(why, whylen, "PAGEMAP_SCAN: the range is not under "
		    "async write-protect (EPERM)");
	else
		set_why(why, whylen, "PAGEMAP_SCAN: %s", strerror(-err));
	return err;
}

/*
 * Check that the sync userfaultfd can hold the range (sync write-protect
 * is refused on some memory, e.g. an ext4 file: EINVAL), with the range
 * free of the async one.  Leaves nothing registered.
 */
static int
trap_probe(struct uffd_tracker *t)
{
	enum uffd_reg was;
	int err, err2;

	pthread_mutex_lock(&t->lock);
	was = t->reg;
	err = set_reg(t, REG_SYNC);
	if ((err2 = set_reg(t, was)) < 0 && err == 0)
		err = err2;
	pthread_mutex_unlock(&t->lock);
	return err;
}

int
lfbshm_tracker_uffd_open(void *addr, size_t len, struct lfbshm_tracker **out,
    char *why, size_t whylen)
{
	struct uffd_tracker *t;
	uint64_t got = 0;
	bool user_only = false;
	int err;

	if (out == NULL)
		return -EINVAL;
	*out = NULL;
	if ((err = uffd_alloc(&t, (uint64_t)(uintptr_t)addr, len, 0, why,
	    whylen)) < 0)
		return err;

	t->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (t->pagemap_fd == -1) {
		err = -errno;
		set_why(why, whylen, "/proc/self/pagemap: %s", strerror(errno));
		goto fail;
	}
	/* Unprivileged even with vm.unprivileged_userfaultfd=0. */
	err = xuserfaultfd(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (err < 0) {
		set_why(why, whylen, "userfaultfd: %s", strerror(-err));
		goto fail;
	}
	t->uffd_async = err;
	err = uffd_api(t->uffd_async, UFFD_FEATURE_WP_ASYNC |
	    UFFD_FEATURE_WP_UNPOPULATED, &got);
	if (err < 0 || (got & UFFD_FEATURE_WP_ASYNC) == 0) {
		if (err == 0)
			err = -EOPNOTSUPP;
		set_why(why, whylen, "UFFDIO_API: no async write-protect "
		    "(UFFD_FEATURE_WP_ASYNC needs Linux >= 6.7): %s",
		    strerror(-err));
		goto fail;
	}

	/* The trap's userfaultfd: one that also traps kernel writes if we
	   may, else a user-mode-only one (see the top of this file). */
	err = xuserfaultfd(O_CLOEXEC | O_NONBLOCK);
	if (err == -EPERM) {
		user_only = true;
		err = xuserfaultfd(O_CLOEXEC | O_NONBLOCK |
		    UFFD_USER_MODE_ONLY);
	}
	if (err >= 0) {
		t->uffd_sync = err;
		if ((err = uffd_api(t->uffd_sync,
		    UFFD_FEATURE_WP_UNPOPULATED, NULL)) == 0)
			err = trap_probe(t);
		if (err < 0) {
			log_debug("uffd tracker: no trap on this memory: %s",
			    strerror(-err));
			close(t->uffd_sync);
			t->uffd_sync = -1;
		}
	}
	t->base.has_trap = t->uffd_sync != -1;
	if (t->base.has_trap)
		log_debug("uffd tracker: trap %s", user_only ?
		    "is user-mode only: a syscall writing into the armed "
		    "framebuffer fails with EFAULT" :
		    "also traps kernel writes");

	pthread_mutex_lock(&t->lock);
	err = set_reg(t, REG_ASYNC);
	pthread_mutex_unlock(&t->lock);
	if (err < 0) {
		set_why(why, whylen, "UFFDIO_REGISTER write-protect: %s",
		    strerror(-err));
		goto fail;
	}
	if ((err = first_scan(t, why, whylen)) < 0)
		goto fail;
	*out = &t->base;
	return 0;

fail:
	uffd_free(t);
	return err;
}

int
lfbshm_tracker_uffd_open_remote(pid_t pid, uint64_t addr, size_t len,
    int uffd_async, int uffd_sync, struct lfbshm_tracker **out, char *why,
    size_t whylen)
{
	struct uffd_tracker *t;
	char path[64];
	int err;

	/* The fds are ours from here on, whatever happens. */
	if (out == NULL || pid <= 0 || uffd_async < 0) {
		set_why(why, whylen, "uffd tracker: bad arguments");
		err = -EINVAL;
		goto close_fds;
	}
	*out = NULL;
	if ((err = uffd_alloc(&t, addr, len, pid, why, whylen)) < 0)
		goto close_fds;
	t->uffd_async = uffd_async;
	t->uffd_sync = uffd_sync;
	t->reg = REG_ASYNC;	/* the other process registered it */

	snprintf(path, sizeof(path), "/proc/%ld/pagemap", (long)pid);
	t->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t->pagemap_fd == -1) {
		err = -errno;
		set_why(why, whylen, "%s: %s (needs ptrace-read access)",
		    path, strerror(errno));
		goto fail;
	}
	if ((err = first_scan(t, why, whylen)) < 0)
		goto fail;

	/*
	 * The trap needs the spare uffd (given without its API handshake:
	 * we choose the mode), sync write-protect on this memory, and
	 * reading the other process's memory for arm's guard.
	 */
	if (t->uffd_sync != -1) {
		if ((t->bounce = malloc(GUARD_CHUNK)) == NULL)
			err = -ENOMEM;
		else if ((err = remote_read(t, 0, TRK_PAGE)) < 0)
			log_debug("uffd tracker: cannot read pid %ld's "
			    "framebuffer: %s", (long)pid, strerror(-err));
		else if ((err = uffd_api(t->uffd_sync,
		    UFFD_FEATURE_WP_UNPOPULATED, NULL)) < 0)
			log_debug("uffd tracker: UFFDIO_API on the trap's "
			    "userfaultfd: %s", strerror(-err));
		else if ((err = trap_probe(t)) < 0)
			log_debug("uffd tracker: no sync write-protect on "
			    "this memory: %s", strerror(-err));
		if (err < 0) {
			if (t->reg != REG_ASYNC) {
				set_why(why, whylen, "cannot register pid "
				    "%ld's range again: %s", (long)pid,
				    strerror(-err));
				goto fail;
			}
			close(t->uffd_sync);
			t->uffd_sync = -1;
			free(t->bounce);
			t->bounce = NULL;
		}
		/* The probe registered afresh: protect everything again. */
		if ((err = first_scan(t, why, whylen)) < 0)
			goto fail;
	}
	t->base.has_trap = t->uffd_sync != -1;
	*out = &t->base;
	return 0;

fail:
	uffd_free(t);
	return err;

close_fds:
	if (uffd_async >= 0)
		close(uffd_async);
	if (uffd_sync >= 0)
		close(uffd_sync);
	return err;
}
