/*
 * bench-trackers.c - the write trackers (proto/tracker.h) against the
 * full-frame memcmp they replace, measured side by side in one process,
 * interleaved round by round.
 *
 * Framebuffers: 1920x1080x4 (2025 pages) and 3840x2160x4 (8100 pages).
 * Each round, for each size and each dirty level (0, 1, 10, 100% of the
 * pages, a fresh seeded random set per round), every method runs once on
 * the same pages with the same data, in an order rotated by the round:
 *
 *   uffd       memfd mapping, lfbshm_tracker_uffd_open; a host writer
 *              thread writes one qword into each chosen page (timed in
 *              the writer), then get_dirty (timed), then memcmp + copy of
 *              the reported pages into a shadow (timed: what the daemon's
 *              scanner does next, per page instead of per span).
 *   kvm        memfd mapping as a dirty-logged KVM memory slot; the guest
 *              (bench-guest.c) writes the pages from its vCPU and times
 *              the stores with its TSC; then get_dirty and the copy as for
 *              uffd.  The same writes into a second slot without dirty
 *              logging give the guest's cost with tracking off.  The
 *              vCPU is idle (parked in the VMM) while the log is fetched.
 *   softdirty  as uffd, only where its functional probe passes.
 *   memcmp     no tracker (2007 qemu-dm): the writer thread writes the
 *              pages into an untracked memfd mapping (timed: the writer's
 *              cost with tracking off); then the whole frame is compared
 *              with its shadow page by page and the differing pages are
 *              copied (timed).
 *   memcmp1    one memcmp() of the whole, clean frame (0% only).
 *
 * Before each write and each get-and-clear a buffer twice the size of the
 * last-level cache is read, so every method starts with cold caches and
 * TLBs, as a daemon polling at 60 Hz among other work does (the page
 * tables a scan walks are then cold too: research/dirty-tracking.md
 * measured 4-7 us hot, clean, against 21-26 us cold at 1-10% dirty for
 * uffd).  On a clean frame
 * each method then runs a second time at once: the hot figures.
 *
 * Timings are CLOCK_MONOTONIC (the guest's writes: its TSC, calibrated
 * against CLOCK_MONOTONIC).  Each cell gets the median and p10/p90 over
 * the rounds, and the ratios memcmp / get-and-clear are taken round by
 * round (paired) before their median: on a noisy machine the ratios are
 * what matter.  Output: Markdown tables for people and RESULT lines for
 * programs.  Every reported bitmap is checked against the pages written
 * and every shadow against its framebuffer at the end; a lost page makes
 * the program fail.
 */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "kvm-vm.h"
#include "tracker.h"
#include "guest-abi.h"
#include "bench-guest.h"

extern const unsigned char bench_guest_image[], bench_guest_image_end[];

#define PAGE		4096
#define NSIZES		2
#define NLEVELS		4
#define VRAM_SLOT	1
#define PLAIN_SLOT	2
#define RAM_SIZE	(4u << 20)
#define CMD_TIMEOUT_MS	30000
#define TARGET_RATIO	20.0
#define DEF_ROUNDS	41
#define DEF_WARMUP	3
#define MIN_ROUNDS	25

enum meth {
	M_UFFD,
	M_KVM,
	M_SOFTDIRTY,
	M_MEMCMP,
	M_MEMCMP1,
	NMETH
};

static const char *const meth_name[NMETH] = {
	"uffd", "kvm", "softdirty", "memcmp", "memcmp1"
};

enum op {
	OP_GET_CLEAR,	/* get_dirty; memcmp: compare + copy whole frame */
	OP_GET_CLEAR_HOT, /* clean frame: the same again at once */
	OP_COPY,	/* memcmp + copy of the reported pages */
	OP_WRITE,	/* first write after a clear, per page */
	OP_WRITE_OFF,	/* kvm: the same writes, untracked slot, per page */
	OP_WRITE_HOST,	/* kvm: host time around the write command, per page */
	NOPS
};

static const char *const op_name[NOPS] = {
	"get_clear", "get_clear_hot", "copy_reported", "write_first_per_page",
	"write_untracked_per_page", "write_first_per_page_host"
};

struct fbsize {
	const char	*name;
	uint32_t	 width, height;
	size_t		 len, npages, nwords;
};

static struct fbsize sizes[NSIZES] = {
	{ "1080p", 1920, 1080, 0, 0, 0 },
	{ "2160p", 3840, 2160, 0, 0, 0 },
};

static const unsigned int levels[NLEVELS] = { 0, 1, 10, 100 };

/* A framebuffer in this process: memfd mapping, shadow, tracker. */
struct hostfb {
	int			 fd;
	uint8_t			*fb;
	uint8_t			*shadow;
	struct lfbshm_tracker	*tr;
};

/* A VM whose VRAM slot is the framebuffer, plus an untracked slot. */
struct kvmfb {
	struct kvmvm		*vm;
	pthread_t		 th;
	bool			 running;
	int			 fd, plain_fd;
	uint8_t			*fb, *plain, *shadow;
	struct lfbshm_tracker	*tr;
	double			 tsc_per_us;
};

struct sizectx {
	struct fbsize		*sz;
	struct hostfb		 uffd, soft, plain;
	struct kvmfb		 kvm;
	uint64_t		*bm;	/* tracker answer */
	uint64_t		*want;	/* pages written this cell */
	uint32_t		*list;	/* the same, ascending */
	uint32_t		*perm;	/* for drawing pages */
};

struct cell {
	double	*v;
	size_t	 n;
};

struct check {
	uint64_t	 missing;	/* written, not reported */
	uint64_t	 extra;		/* reported, not written */
};

static struct sizectx ctx[NSIZES];
static struct cell cells[NMETH][NOPS][NSIZES][NLEVELS];
static struct check checks[NMETH];
static bool avail[NMETH];
static bool wanted[NMETH];
static char why_na[NMETH][256];
static unsigned int nrounds = DEF_ROUNDS, nwarm = DEF_WARMUP;
static uint64_t rng;
static uint8_t *evict_buf;
static size_t evict_len;

/* The host writer thread. */
enum { W_IDLE, W_JOB, W_DONE, W_QUIT };
static struct {
	pthread_t	 th;
	bool		 started;
	pthread_mutex_t	 m;
	pthread_cond_t	 cv;
	int		 state;
	uint8_t		*fb;
	const uint32_t	*list;
	size_t		 n;
	uint64_t	 value;
	double		 us;
} wr = {
	.m = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER,
};

static void die(const char *, ...)
    __attribute__((__format__(__printf__, 1, 2), __noreturn__));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "bench-trackers: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void *
xmalloc_pages(size_t len)
{
	void *p;
	int rc;

	if ((rc = posix_memalign(&p, PAGE, len)) != 0)
		die("posix_memalign %zu: %s", len, strerror(rc));
	return p;
}

static void
record(enum meth m, enum op o, int s, int l, double v)
{
	struct cell *c = &cells[m][o][s][l];

	if (c->v == NULL && (c->v = calloc(nrounds, sizeof(double))) == NULL)
		die("out of memory");
	if (c->n < nrounds)
		c->v[c->n++] = v;
}

/*
 * Push the framebuffers, shadows and page tables out of the caches and
 * TLBs: read a buffer twice the size of the last-level cache.  Every
 * method starts from there, as a daemon polling at 60 Hz among other
 * work does.
 */
static void
evict(void)
{
	const volatile uint64_t *q = (const volatile uint64_t *)(void *)
	    evict_buf;
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < evict_len / 8; i += 64 / 8)
		sum += q[i];
	__asm__ volatile("" :: "r" (sum));
}

/* Size of the largest CPU cache from sysfs; 0 if unknown. */
static size_t
llc_size(void)
{
	char path[96], buf[32], *end;
	unsigned long v, best = 0;
	FILE *f;
	int i;

	for (i = 0; i < 8; i++) {
		snprintf(path, sizeof(path),
		    "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
		if ((f = fopen(path, "r")) == NULL)
			break;
		if (fgets(buf, sizeof(buf), f) != NULL) {
			v = strtoul(buf, &end, 10);
			if (*end == 'K')
				v <<= 10;
			else if (*end == 'M')
				v <<= 20;
			if (v > best)
				best = v;
		}
		fclose(f);
	}
	return best;
}

/* ------------------------------------------------------------ writer */

static void *
writer_main(void *arg)
{
	volatile uint64_t *q;
	double t0, t1;
	size_t i;
	uint32_t p;

	(void)arg;
	pthread_mutex_lock(&wr.m);
	for (;;) {
		while (wr.state != W_JOB && wr.state != W_QUIT)
			pthread_cond_wait(&wr.cv, &wr.m);
		if (wr.state == W_QUIT)
			break;
		pthread_mutex_unlock(&wr.m);
		t0 = now_us();
		for (i = 0; i < wr.n; i++) {
			p = wr.list[i];
			q = (volatile uint64_t *)(void *)(wr.fb +
			    (size_t)p * PAGE + (p % 512) * 8);
			*q = wr.value ^ p;
		}
		t1 = now_us();
		pthread_mutex_lock(&wr.m);
		wr.us = t1 - t0;
		wr.state = W_DONE;
		pthread_cond_broadcast(&wr.cv);
	}
	pthread_mutex_unlock(&wr.m);
	return NULL;
}

/* The writer thread writes the pages; returns the µs it took. */
static double
host_write(uint8_t *fb, const uint32_t *list, size_t n, uint64_t value)
{
	double us;

	pthread_mutex_lock(&wr.m);
	wr.fb = fb;
	wr.list = list;
	wr.n = n;
	wr.value = value;
	wr.state = W_JOB;
	pthread_cond_broadcast(&wr.cv);
	while (wr.state != W_DONE)
		pthread_cond_wait(&wr.cv, &wr.m);
	us = wr.us;
	wr.state = W_IDLE;
	pthread_mutex_unlock(&wr.m);
	return us;
}

/* --------------------------------------------------------------- kvm */

static void *
vcpu_main(void *arg)
{
	struct kvmfb *k = arg;

	return (void *)(intptr_t)kvmvm_run(k->vm, NULL, NULL);
}

static int32_t
guest_cmd(struct kvmfb *k, uint32_t cmd, const uint64_t *args,
    unsigned int nargs, const void *data, size_t datalen)
{
	char buf[256];
	int64_t seq;
	int32_t status;
	int rc;

	if ((seq = kvmvm_cmd_post(k->vm, cmd, args, nargs, data,
	    datalen)) < 0)
		die("kvm: post command %u: %s", cmd, strerror((int)-seq));
	if ((rc = kvmvm_cmd_wait(k->vm, seq, CMD_TIMEOUT_MS, &status)) != 0)
		die("kvm: command %u: %s [%s]", cmd, strerror(-rc),
		    kvmvm_why(k->vm, buf, sizeof(buf)));
	return status;
}

/*
 * Guest TSC at a host time: the middle of the command's round trip, from
 * the quickest of a few tries (a slow one says the thread was preempted).
 */
static void
guest_tsc(struct kvmfb *k, uint64_t *tsc, double *t)
{
	double t0, t1, best = INFINITY;
	int i;

	for (i = 0; i < 7; i++) {
		t0 = now_us();
		if (guest_cmd(k, BG_CMD_TSC, NULL, 0, NULL, 0) != 0)
			die("kvm: BG_CMD_TSC failed");
		t1 = now_us();
		if (t1 - t0 < best) {
			best = t1 - t0;
			*tsc = kvmvm_mailbox(k->vm)->ret[0];
			*t = (t0 + t1) / 2;
		}
	}
}

static void
calibrate_tsc(struct kvmfb *k)
{
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	uint64_t g0, g1;
	double h0, h1;

	guest_tsc(k, &g0, &h0);
	nanosleep(&ts, NULL);
	guest_tsc(k, &g1, &h1);
	if (g1 <= g0 || h1 <= h0)
		die("kvm: guest TSC does not advance");
	k->tsc_per_us = (double)(g1 - g0) / (h1 - h0);
}

/*
 * The guest writes the pages of c->want into the region at offset off;
 * returns the guest's µs for the stores, and the host's µs around the
 * command in *host_us.
 */
static double
guest_write(struct sizectx *c, size_t off, uint64_t value, size_t expect,
    double *host_us)
{
	struct kvmfb *k = &c->kvm;
	struct guest_mailbox *mb = kvmvm_mailbox(k->vm);
	uint64_t args[3] = { off, c->sz->npages, value };
	double t0, t1;
	int32_t st;

	t0 = now_us();
	st = guest_cmd(k, BG_CMD_WRITE, args, 3, c->want,
	    c->sz->nwords * sizeof(uint64_t));
	t1 = now_us();
	if (st != 0 || mb->ret[1] != expect)
		die("kvm: BG_CMD_WRITE: status %d, %" PRIu64 " pages of %zu",
		    (int)st, mb->ret[1], expect);
	if (host_us != NULL)
		*host_us = t1 - t0;
	return (double)mb->ret[0] / k->tsc_per_us;
}

static int
memfd_map(const char *name, size_t len, int *fd, uint8_t **p)
{
	int err;

	if ((*fd = memfd_create(name, MFD_CLOEXEC)) == -1)
		return -errno;
	if (ftruncate(*fd, (off_t)len) == -1) {
		err = -errno;
		close(*fd);
		*fd = -1;
		return err;
	}
	*p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (*p == MAP_FAILED) {
		err = -errno;
		*p = NULL;
		close(*fd);
		*fd = -1;
		return err;
	}
	return 0;
}

static void
fill_all(struct sizectx *c)
{
	size_t i;

	for (i = 0; i < c->sz->nwords; i++)
		c->want[i] = ~0ULL;
	if (c->sz->npages % 64 != 0)
		c->want[c->sz->nwords - 1] = (1ULL << (c->sz->npages % 64)) - 1;
}

static int
kvm_setup(struct sizectx *c, char *why, size_t whylen)
{
	struct kvmfb *k = &c->kvm;
	struct guest_mailbox *mb;
	size_t len = c->sz->len;
	bool all;
	int rc;

	k->fd = k->plain_fd = -1;
	if (2 * len > GUEST_VRAM_MAX) {
		snprintf(why, whylen, "2 x %zu octets exceed the VRAM window",
		    len);
		return -E2BIG;
	}
	if ((rc = memfd_map("bench-kvm-vram", len, &k->fd, &k->fb)) != 0 ||
	    (rc = memfd_map("bench-kvm-plain", len, &k->plain_fd,
	    &k->plain)) != 0) {
		snprintf(why, whylen, "memfd: %s", strerror(-rc));
		return rc;
	}
	memset(k->fb, 0x5a, len);
	memset(k->plain, 0x5a, len);
	k->shadow = xmalloc_pages(len);
	if ((rc = kvmvm_create(&k->vm, RAM_SIZE, why, whylen)) != 0)
		return rc;
	if ((rc = kvmvm_add_slot(k->vm, VRAM_SLOT, GUEST_VRAM_GPA, k->fb, len,
	    0)) != 0 || (rc = kvmvm_add_slot(k->vm, PLAIN_SLOT,
	    GUEST_VRAM_GPA + len, k->plain, len, 0)) != 0) {
		kvmvm_why(k->vm, why, whylen);
		return rc;
	}
	mb = kvmvm_mailbox(k->vm);
	mb->vram_gpa = GUEST_VRAM_GPA;
	mb->vram_size = 2 * len;
	mb->width = c->sz->width;
	mb->height = c->sz->height;
	mb->stride = c->sz->width * 4;
	if ((rc = kvmvm_load(k->vm, bench_guest_image,
	    (size_t)(bench_guest_image_end - bench_guest_image))) != 0) {
		kvmvm_why(k->vm, why, whylen);
		return rc;
	}
	if ((rc = lfbshm_tracker_kvm_open(k->vm, VRAM_SLOT, GUEST_VRAM_GPA,
	    k->fb, len, &k->tr, why, whylen)) != 0)
		return rc;
	if ((rc = pthread_create(&k->th, NULL, vcpu_main, k)) != 0) {
		snprintf(why, whylen, "pthread_create: %s", strerror(rc));
		return -rc;
	}
	k->running = true;
	calibrate_tsc(k);
	/* Touch every page of both slots once from the guest. */
	fill_all(c);
	(void)guest_write(c, 0, 0x1111, c->sz->npages, NULL);
	(void)guest_write(c, len, 0x1111, c->sz->npages, NULL);
	if ((rc = k->tr->ops->get_dirty(k->tr, c->bm, &all)) != 0) {
		snprintf(why, whylen, "get_dirty: %s", strerror(-rc));
		return rc;
	}
	memcpy(k->shadow, k->fb, len);
	return 0;
}

static void
kvm_teardown(struct kvmfb *k, size_t len)
{
	uint64_t arg = 0;
	void *ret;

	if (k->running) {
		if (guest_cmd(k, BG_CMD_EXIT, &arg, 1, NULL, 0) != 0)
			log_warnx("kvm: guest exit status");
		pthread_join(k->th, &ret);
		if ((intptr_t)ret != KVMVM_GUEST_EXIT)
			log_warnx("kvm: kvmvm_run returned %ld",
			    (long)(intptr_t)ret);
		k->running = false;
	}
	lfbshm_tracker_close(k->tr);
	k->tr = NULL;
	if (k->vm != NULL)
		kvmvm_destroy(k->vm);
	k->vm = NULL;
	if (k->fb != NULL)
		munmap(k->fb, len);
	if (k->plain != NULL)
		munmap(k->plain, len);
	k->fb = k->plain = NULL;
	if (k->fd != -1)
		close(k->fd);
	if (k->plain_fd != -1)
		close(k->plain_fd);
	k->fd = k->plain_fd = -1;
	free(k->shadow);
	k->shadow = NULL;
}

/* -------------------------------------------------------- host fbs */

static int
hostfb_setup(struct sizectx *c, struct hostfb *h, enum meth m, char *why,
    size_t whylen)
{
	size_t len = c->sz->len;
	bool all;
	int rc;

	h->fd = -1;
	if ((rc = memfd_map(meth_name[m], len, &h->fd, &h->fb)) != 0) {
		snprintf(why, whylen, "memfd: %s", strerror(-rc));
		return rc;
	}
	memset(h->fb, 0x5a, len);
	h->shadow = xmalloc_pages(len);
	switch (m) {
	case M_UFFD:
		rc = lfbshm_tracker_uffd_open(h->fb, len, &h->tr, why, whylen);
		break;
	case M_SOFTDIRTY:
		rc = lfbshm_tracker_softdirty_open(h->fb, len, &h->tr, why,
		    whylen);
		break;
	default:
		rc = 0;
		break;
	}
	if (rc != 0)
		return rc;
	if (h->tr != NULL && (rc = h->tr->ops->get_dirty(h->tr, c->bm,
	    &all)) != 0) {
		snprintf(why, whylen, "get_dirty: %s", strerror(-rc));
		return rc;
	}
	memcpy(h->shadow, h->fb, len);
	return 0;
}

static void
hostfb_teardown(struct hostfb *h, size_t len)
{
	lfbshm_tracker_close(h->tr);
	h->tr = NULL;
	if (h->fb != NULL)
		munmap(h->fb, len);
	h->fb = NULL;
	if (h->fd != -1)
		close(h->fd);
	h->fd = -1;
	free(h->shadow);
	h->shadow = NULL;
}

/* ------------------------------------------------------------ rounds */

/* k distinct random pages into c->want and c->list (ascending). */
static void
pick_pages(struct sizectx *c, size_t k)
{
	size_t n = c->sz->npages, i, j, p;
	uint32_t t;

	memset(c->want, 0, c->sz->nwords * sizeof(uint64_t));
	for (i = 0; i < k; i++) {
		j = i + (size_t)(splitmix(&rng) % (n - i));
		t = c->perm[i];
		c->perm[i] = c->perm[j];
		c->perm[j] = t;
		p = c->perm[i];
		c->want[p / 64] |= 1ULL << (p % 64);
	}
	for (i = 0, p = 0; p < n; p++)
		if (c->want[p / 64] & (1ULL << (p % 64)))
			c->list[i++] = (uint32_t)p;
}

static void
check_bitmap(enum meth m, const struct sizectx *c)
{
	size_t i;

	for (i = 0; i < c->sz->nwords; i++) {
		checks[m].missing += (uint64_t)__builtin_popcountll(c->want[i] &
		    ~c->bm[i]);
		checks[m].extra += (uint64_t)__builtin_popcountll(c->bm[i] &
		    ~c->want[i]);
	}
}

/* The daemon's next step: compare each reported page, copy if changed. */
static size_t
copy_reported(const uint8_t *fb, uint8_t *shadow, const uint64_t *bm,
    size_t nwords)
{
	size_t i, p, n = 0;
	uint64_t w;

	for (i = 0; i < nwords; i++) {
		for (w = bm[i]; w != 0; w &= w - 1) {
			p = i * 64 + (size_t)__builtin_ctzll(w);
			if (memcmp(shadow + p * PAGE, fb + p * PAGE,
			    PAGE) != 0) {
				memcpy(shadow + p * PAGE, fb + p * PAGE, PAGE);
				n++;
			}
		}
	}
	return n;
}

/* No tracker: compare the whole frame page by page, copy what differs. */
static size_t
compare_copy(const uint8_t *fb, uint8_t *shadow, size_t npages)
{
	size_t p, n = 0;

	for (p = 0; p < npages; p++) {
		if (memcmp(shadow + p * PAGE, fb + p * PAGE, PAGE) != 0) {
			memcpy(shadow + p * PAGE, fb + p * PAGE, PAGE);
			n++;
		}
	}
	return n;
}

static void
get_clear(enum meth m, enum op o, struct lfbshm_tracker *tr,
    struct sizectx *c, int s, int l, bool rec)
{
	double t0, t1;
	bool all;
	int rc;

	memset(c->bm, 0, c->sz->nwords * sizeof(uint64_t));
	t0 = now_us();
	rc = tr->ops->get_dirty(tr, c->bm, &all);
	t1 = now_us();
	if (rc != 0)
		die("%s: get_dirty: %s", meth_name[m], strerror(-rc));
	if (all)
		die("%s: get_dirty answered all_dirty", meth_name[m]);
	if (rec)
		record(m, o, s, l, t1 - t0);
	check_bitmap(m, c);
}

static void
copy_timed(enum meth m, const uint8_t *fb, uint8_t *shadow,
    struct sizectx *c, int s, int l, bool rec)
{
	double t0, t1;

	t0 = now_us();
	(void)copy_reported(fb, shadow, c->bm, c->sz->nwords);
	t1 = now_us();
	if (rec)
		record(m, OP_COPY, s, l, t1 - t0);
}

static void
run_host_tracker(enum meth m, struct sizectx *c, int s, int l, size_t k,
    uint64_t value, bool rec)
{
	struct hostfb *h = m == M_UFFD ? &c->uffd : &c->soft;
	double us;

	if (k > 0) {
		evict();
		us = host_write(h->fb, c->list, k, value);
		if (rec)
			record(m, OP_WRITE, s, l, us / (double)k);
	}
	evict();
	get_clear(m, OP_GET_CLEAR, h->tr, c, s, l, rec);
	copy_timed(m, h->fb, h->shadow, c, s, l, rec);
	if (k == 0)
		get_clear(m, OP_GET_CLEAR_HOT, h->tr, c, s, l, rec);
}

static void
run_kvm(struct sizectx *c, int s, int l, size_t k, uint64_t value, bool rec)
{
	struct kvmfb *kf = &c->kvm;
	double us, host;

	if (k > 0) {
		evict();
		us = guest_write(c, 0, value, k, &host);
		if (rec) {
			record(M_KVM, OP_WRITE, s, l, us / (double)k);
			record(M_KVM, OP_WRITE_HOST, s, l, host / (double)k);
		}
	}
	evict();
	get_clear(M_KVM, OP_GET_CLEAR, kf->tr, c, s, l, rec);
	copy_timed(M_KVM, kf->fb, kf->shadow, c, s, l, rec);
	if (k == 0)
		get_clear(M_KVM, OP_GET_CLEAR_HOT, kf->tr, c, s, l, rec);
	if (k > 0) {
		evict();
		us = guest_write(c, c->sz->len, value, k, NULL);
		if (rec)
			record(M_KVM, OP_WRITE_OFF, s, l, us / (double)k);
	}
}

static void
run_memcmp(struct sizectx *c, int s, int l, size_t k, uint64_t value,
    bool rec)
{
	struct hostfb *h = &c->plain;
	double t0, t1, us;
	size_t n;

	if (k > 0) {
		evict();
		us = host_write(h->fb, c->list, k, value);
		if (rec)
			record(M_MEMCMP, OP_WRITE, s, l, us / (double)k);
	}
	evict();
	t0 = now_us();
	n = compare_copy(h->fb, h->shadow, c->sz->npages);
	t1 = now_us();
	if (rec)
		record(M_MEMCMP, OP_GET_CLEAR, s, l, t1 - t0);
	if (n < k)
		checks[M_MEMCMP].missing += k - n;
	else
		checks[M_MEMCMP].extra += n - k;
	if (k > 0)
		return;
	t0 = now_us();
	n = compare_copy(h->fb, h->shadow, c->sz->npages);
	t1 = now_us();
	if (rec)
		record(M_MEMCMP, OP_GET_CLEAR_HOT, s, l, t1 - t0);
	checks[M_MEMCMP].extra += n;
}

/* One memcmp() of the whole frame: clean frames only (it stops at the
   first difference otherwise). */
static void
run_memcmp1(struct sizectx *c, int s, int l, size_t k, bool rec)
{
	struct hostfb *h = &c->plain;
	double t0, t1;
	int r;

	if (k > 0)
		return;
	evict();
	t0 = now_us();
	r = memcmp(h->fb, h->shadow, c->sz->len);
	t1 = now_us();
	if (r != 0)
		checks[M_MEMCMP1].extra++;
	if (rec)
		record(M_MEMCMP1, OP_GET_CLEAR, s, l, t1 - t0);
	t0 = now_us();
	r = memcmp(h->fb, h->shadow, c->sz->len);
	t1 = now_us();
	if (r != 0)
		checks[M_MEMCMP1].extra++;
	if (rec)
		record(M_MEMCMP1, OP_GET_CLEAR_HOT, s, l, t1 - t0);
}

static void
run_round(unsigned int r)
{
	enum meth order[NMETH];
	unsigned int nm = 0, j, s, l;
	size_t k;
	uint64_t value;
	bool rec = r >= nwarm;
	int m;

	for (m = 0; m < NMETH; m++)
		if (avail[m])
			order[nm++] = (enum meth)m;
	for (s = 0; s < NSIZES; s++) {
		for (l = 0; l < NLEVELS; l++) {
			struct sizectx *c = &ctx[s];

			k = (c->sz->npages * levels[l] + 50) / 100;
			pick_pages(c, k);
			value = splitmix(&rng);
			for (j = 0; j < nm; j++) {
				switch (order[(j + r) % nm]) {
				case M_UFFD:
				case M_SOFTDIRTY:
					run_host_tracker(order[(j + r) % nm],
					    c, s, l, k, value, rec);
					break;
				case M_KVM:
					run_kvm(c, s, l, k, value, rec);
					break;
				case M_MEMCMP:
					run_memcmp(c, s, l, k, value, rec);
					break;
				case M_MEMCMP1:
					run_memcmp1(c, s, l, k, rec);
					break;
				default:
					break;
				}
			}
		}
	}
}

/* ------------------------------------------------------------ output */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct stats {
	double	 med, p10, p90;
	size_t	 n;
};

static double
quantile(const double *v, size_t n, double q)
{
	double pos = q * (double)(n - 1), f;
	size_t i = (size_t)pos;

	if (i + 1 >= n)
		return v[n - 1];
	f = pos - (double)i;
	return v[i] + (v[i + 1] - v[i]) * f;
}

/* Statistics of n values (sorted in place); false when n == 0. */
static bool
stats_of(double *v, size_t n, struct stats *st)
{
	if (n == 0)
		return false;
	qsort(v, n, sizeof(double), cmp_double);
	st->med = quantile(v, n, 0.5);
	st->p10 = quantile(v, n, 0.1);
	st->p90 = quantile(v, n, 0.9);
	st->n = n;
	return true;
}

static bool
cell_stats(enum meth m, enum op o, int s, int l, struct stats *st)
{
	const struct cell *c = &cells[m][o][s][l];
	double *tmp;
	bool ok;

	if (c->n == 0)
		return false;
	if ((tmp = malloc(c->n * sizeof(double))) == NULL)
		die("out of memory");
	memcpy(tmp, c->v, c->n * sizeof(double));
	ok = stats_of(tmp, c->n, st);
	free(tmp);
	return ok;
}

/* Paired ratio num[i] / den[i] over the rounds. */
static bool
ratio_stats(enum meth mn, enum meth md, enum op o, int s, int l,
    struct stats *st)
{
	const struct cell *a = &cells[mn][o][s][l];
	const struct cell *b = &cells[md][o][s][l];
	double *tmp;
	size_t i, n = a->n < b->n ? a->n : b->n;
	bool ok;

	if (n == 0)
		return false;
	if ((tmp = malloc(n * sizeof(double))) == NULL)
		die("out of memory");
	for (i = 0; i < n; i++)
		tmp[i] = b->v[i] > 0 ? a->v[i] / b->v[i] : INFINITY;
	ok = stats_of(tmp, n, st);
	free(tmp);
	return ok;
}

static const char *
fmt(char *buf, size_t len, double v)
{
	if (v < 1)
		snprintf(buf, len, "%.3f", v);
	else if (v < 10)
		snprintf(buf, len, "%.2f", v);
	else if (v < 100)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

/* "median (p10-p90)" or "—". */
static const char *
fmt_cell(char *buf, size_t len, enum meth m, enum op o, int s, int l)
{
	char a[32], b[32], c[32];
	struct stats st;

	if (!cell_stats(m, o, s, l, &st)) {
		snprintf(buf, len, "—");
		return buf;
	}
	snprintf(buf, len, "%s (%s–%s)", fmt(a, sizeof(a), st.med),
	    fmt(b, sizeof(b), st.p10), fmt(c, sizeof(c), st.p90));
	return buf;
}

static const char *
fmt_ratio(char *buf, size_t len, enum meth mn, enum meth md, enum op o,
    int s, int l)
{
	char a[32], b[32], c[32];
	struct stats st;

	if (!ratio_stats(mn, md, o, s, l, &st)) {
		snprintf(buf, len, "—");
		return buf;
	}
	snprintf(buf, len, "%s (%s–%s)", fmt(a, sizeof(a), st.med),
	    fmt(b, sizeof(b), st.p10), fmt(c, sizeof(c), st.p90));
	return buf;
}

static void
print_tables(void)
{
	static const enum meth trk[] = { M_UFFD, M_KVM, M_SOFTDIRTY };
	char b[NMETH][96];
	unsigned int i;
	int s, l, m;

	printf("Medians over %u rounds (after %u warm-up rounds), "
	    "(p10–p90) in brackets.  Host writes: a writer thread of the "
	    "same process; kvm writes: the guest, whose vCPU is idle in the "
	    "VMM while the host fetches the log.\n\n", nrounds, nwarm);

	printf("Get-and-clear of the whole framebuffer, µs, caches and TLBs "
	    "cold (a %zu MiB buffer is read before each method; memcmp: "
	    "compare the whole frame with the shadow page by page and copy "
	    "the differing pages; memcmp1: one memcmp() of the clean "
	    "frame):\n\n", evict_len >> 20);
	printf("| size | dirty | pages |");
	for (m = 0; m < NMETH; m++)
		if (avail[m])
			printf(" %s |", meth_name[m]);
	printf("\n|---|---|---|");
	for (m = 0; m < NMETH; m++)
		if (avail[m])
			printf("---|");
	printf("\n");
	for (s = 0; s < NSIZES; s++)
		for (l = 0; l < NLEVELS; l++) {
			printf("| %s | %u%% | %zu |", sizes[s].name, levels[l],
			    (sizes[s].npages * levels[l] + 50) / 100);
			for (m = 0; m < NMETH; m++)
				if (avail[m])
					printf(" %s |", fmt_cell(b[m],
					    sizeof(b[m]), m, OP_GET_CLEAR, s,
					    l));
			printf("\n");
		}

	printf("\nRatio memcmp / get-and-clear, paired round by round "
	    "(target for kvm and uffd on a clean or 1%%-dirty 1080p frame: "
	    ">= %.0f):\n\n", TARGET_RATIO);
	printf("| size | dirty |");
	for (i = 0; i < sizeof(trk) / sizeof(trk[0]); i++)
		if (avail[trk[i]] && avail[M_MEMCMP])
			printf(" memcmp / %s |", meth_name[trk[i]]);
	for (i = 0; i < sizeof(trk) / sizeof(trk[0]); i++)
		if (avail[trk[i]] && avail[M_MEMCMP1])
			printf(" memcmp1 / %s |", meth_name[trk[i]]);
	printf("\n|---|---|");
	for (i = 0; i < sizeof(trk) / sizeof(trk[0]); i++)
		if (avail[trk[i]] && avail[M_MEMCMP])
			printf("---|");
	for (i = 0; i < sizeof(trk) / sizeof(trk[0]); i++)
		if (avail[trk[i]] && avail[M_MEMCMP1])
			printf("---|");
	printf("\n");
	for (s = 0; s < NSIZES; s++)
		for (l = 0; l < NLEVELS; l++) {
			printf("| %s | %u%% |", sizes[s].name, levels[l]);
			for (i = 0; i < sizeof(trk) / sizeof(trk[0]); i++)
				if (avail[trk[i]] && avail[M_MEMCMP])
					printf(" %s |", fmt_ratio(b[0],
					    sizeof(b[0]), M_MEMCMP, trk[i],
					    OP_GET_CLEAR, s, l));
			for (i = 0; i < sizeof(trk) / sizeof(trk[0]); i++)
				if (avail[trk[i]] && avail[M_MEMCMP1])
					printf(" %s |", fmt_ratio(b[0],
					    sizeof(b[0]), M_MEMCMP1, trk[i],
					    OP_GET_CLEAR, s, l));
			printf("\n");
		}

	printf("\nClean frame, hot: the same call repeated at once (nothing "
	    "written in between, caches and page tables warm), µs, and the "
	    "ratio memcmp / get-and-clear in that state:\n\n| size |");
	for (m = 0; m < NMETH; m++)
		if (avail[m])
			printf(" %s |", meth_name[m]);
	for (i = 0; i < sizeof(trk) / sizeof(trk[0]); i++)
		if (avail[trk[i]] && avail[M_MEMCMP])
			printf(" memcmp / %s |", meth_name[trk[i]]);
	printf("\n|---|");
	for (m = 0; m < NMETH; m++)
		if (avail[m])
			printf("---|");
	for (i = 0; i < sizeof(trk) / sizeof(trk[0]); i++)
		if (avail[trk[i]] && avail[M_MEMCMP])
			printf("---|");
	printf("\n");
	for (s = 0; s < NSIZES; s++) {
		printf("| %s |", sizes[s].name);
		for (m = 0; m < NMETH; m++)
			if (avail[m])
				printf(" %s |", fmt_cell(b[m], sizeof(b[m]), m,
				    OP_GET_CLEAR_HOT, s, 0));
		for (i = 0; i < sizeof(trk) / sizeof(trk[0]); i++)
			if (avail[trk[i]] && avail[M_MEMCMP])
				printf(" %s |", fmt_ratio(b[0], sizeof(b[0]),
				    M_MEMCMP, trk[i], OP_GET_CLEAR_HOT, s, 0));
		printf("\n");
	}

	printf("\nAfter get-and-clear: memcmp + copy of the reported pages "
	    "into the shadow, µs:\n\n| size | dirty |");
	for (i = 0; i < sizeof(trk) / sizeof(trk[0]); i++)
		if (avail[trk[i]])
			printf(" %s |", meth_name[trk[i]]);
	printf("\n|---|---|");
	for (i = 0; i < sizeof(trk) / sizeof(trk[0]); i++)
		if (avail[trk[i]])
			printf("---|");
	printf("\n");
	for (s = 0; s < NSIZES; s++)
		for (l = 0; l < NLEVELS; l++) {
			printf("| %s | %u%% |", sizes[s].name, levels[l]);
			for (i = 0; i < sizeof(trk) / sizeof(trk[0]); i++)
				if (avail[trk[i]])
					printf(" %s |", fmt_cell(b[0],
					    sizeof(b[0]), trk[i], OP_COPY, s,
					    l));
			printf("\n");
		}

	printf("\nThe writer: one qword stored into each chosen page, the "
	    "first write to the page after a clear, µs per page.  Host: a "
	    "writer thread, timed in the thread (untracked: the same writes "
	    "into the memcmp method's plain memfd mapping).  Guest: timed "
	    "with the guest's TSC (untracked: a second memory slot without "
	    "dirty logging; host: CLOCK_MONOTONIC around the guest command, "
	    "including its doorbell exits).\n\n");
	printf("| size | dirty |");
	if (avail[M_UFFD])
		printf(" uffd, host |");
	if (avail[M_SOFTDIRTY])
		printf(" softdirty, host |");
	if (avail[M_MEMCMP])
		printf(" untracked, host |");
	if (avail[M_KVM])
		printf(" kvm, guest | untracked, guest | kvm, host around "
		    "the command |");
	printf("\n|---|---|");
	for (m = 0; m < (avail[M_UFFD] + avail[M_SOFTDIRTY] +
	    avail[M_MEMCMP] + 3 * avail[M_KVM]); m++)
		printf("---|");
	printf("\n");
	for (s = 0; s < NSIZES; s++)
		for (l = 1; l < NLEVELS; l++) {
			printf("| %s | %u%% |", sizes[s].name, levels[l]);
			if (avail[M_UFFD])
				printf(" %s |", fmt_cell(b[0], sizeof(b[0]),
				    M_UFFD, OP_WRITE, s, l));
			if (avail[M_SOFTDIRTY])
				printf(" %s |", fmt_cell(b[0], sizeof(b[0]),
				    M_SOFTDIRTY, OP_WRITE, s, l));
			if (avail[M_MEMCMP])
				printf(" %s |", fmt_cell(b[0], sizeof(b[0]),
				    M_MEMCMP, OP_WRITE, s, l));
			if (avail[M_KVM])
				printf(" %s | %s | %s |", fmt_cell(b[0],
				    sizeof(b[0]), M_KVM, OP_WRITE, s, l),
				    fmt_cell(b[1], sizeof(b[1]), M_KVM,
				    OP_WRITE_OFF, s, l), fmt_cell(b[2],
				    sizeof(b[2]), M_KVM, OP_WRITE_HOST, s, l));
			printf("\n");
		}
}

/* One target verdict; returns 1 when missed. */
static int
target_line(enum meth m, int l, enum op o, const char *state)
{
	struct stats a, b, g, *best;
	char x[32], y[32], z[32];
	const char *base;
	bool ha, hb;

	ha = ratio_stats(M_MEMCMP, m, o, 0, l, &a);
	hb = ratio_stats(M_MEMCMP1, m, o, 0, l, &b);
	if ((!ha && !hb) || !cell_stats(m, o, 0, l, &g))
		return 0;
	best = ha ? &a : &b;
	base = ha ? "memcmp" : "memcmp1";
	if (ha && hb && b.med < a.med) {
		best = &b;
		base = "memcmp1";
	}
	printf("- %s, 1080p, %u%% dirty, %s: get-and-clear %s µs; %s / "
	    "get-and-clear = %s (p10 %s): %s\n", meth_name[m], levels[l],
	    state, fmt(x, sizeof(x), g.med), base,
	    fmt(y, sizeof(y), best->med), fmt(z, sizeof(z), best->p10),
	    best->med >= TARGET_RATIO ? "**met**" : "**missed**");
	printf("RESULT target tracker=%s size=1080p dirty=%u%% state=%s "
	    "baseline=%s ratio_median=%.2f ratio_p10=%.2f ratio_p90=%.2f "
	    "target=%.0f met=%s\n", meth_name[m], levels[l], state, base,
	    best->med, best->p10, best->p90, TARGET_RATIO,
	    best->med >= TARGET_RATIO ? "yes" : "no");
	return best->med < TARGET_RATIO;
}

/*
 * The target, for kvm and uffd: get-and-clear of a clean or 1%-dirty
 * 1080p frame costs at most 1/20 of one full-frame memcmp.  The ratio is
 * the paired median against the cheaper of the two memcmp methods, in
 * the same cache state.
 */
static int
print_targets(void)
{
	static const enum meth trk[] = { M_UFFD, M_KVM };
	unsigned int i;
	int missed = 0;

	printf("\nTarget: get-and-clear <= 1/%.0f of a full-frame memcmp "
	    "(1080p, clean and 1%% dirty; paired median ratio against the "
	    "cheaper memcmp method in the same cache state):\n\n",
	    TARGET_RATIO);
	for (i = 0; i < sizeof(trk) / sizeof(trk[0]); i++) {
		if (!avail[trk[i]]) {
			printf("- %s: not measured (%s)\n",
			    meth_name[trk[i]], why_na[trk[i]]);
			continue;
		}
		missed += target_line(trk[i], 0, OP_GET_CLEAR, "cold");
		missed += target_line(trk[i], 0, OP_GET_CLEAR_HOT, "hot");
		missed += target_line(trk[i], 1, OP_GET_CLEAR, "cold");
	}
	return missed;
}

static void
print_ratio(enum meth mn, enum meth md, enum op o, int s, int l)
{
	struct stats st;

	if (ratio_stats(mn, md, o, s, l, &st))
		printf("RESULT ratio=%s/%s tracker=%s size=%s dirty=%u%% "
		    "median=%.2f p10=%.2f p90=%.2f n=%zu\n", meth_name[mn],
		    op_name[o], meth_name[md], sizes[s].name, levels[l],
		    st.med, st.p10, st.p90, st.n);
}

static void
print_results(void)
{
	static const enum meth trk[] = { M_UFFD, M_KVM, M_SOFTDIRTY };
	struct stats st;
	unsigned int i;
	int m, o, s, l;

	printf("\n");
	for (m = 0; m < NMETH; m++)
		for (o = 0; o < NOPS; o++)
			for (s = 0; s < NSIZES; s++)
				for (l = 0; l < NLEVELS; l++)
					if (cell_stats(m, o, s, l, &st))
						printf("RESULT tracker=%s "
						    "size=%s dirty=%u%% op=%s "
						    "median_us=%.3f p10=%.3f "
						    "p90=%.3f n=%zu\n",
						    meth_name[m],
						    sizes[s].name, levels[l],
						    op_name[o], st.med,
						    st.p10, st.p90, st.n);
	for (i = 0; i < sizeof(trk) / sizeof(trk[0]); i++)
		for (m = M_MEMCMP; m <= M_MEMCMP1; m++)
			for (o = OP_GET_CLEAR; o <= OP_GET_CLEAR_HOT; o++)
				for (s = 0; s < NSIZES; s++)
					for (l = 0; l < NLEVELS; l++)
						print_ratio(m, trk[i], o, s,
						    l);
	for (m = 0; m < NMETH; m++)
		if (!avail[m])
			printf("RESULT tracker=%s available=no reason=\"%s\"\n",
			    meth_name[m], why_na[m]);
}

/* -------------------------------------------------------------- main */

static void
usage(void)
{
	fprintf(stderr, "usage: bench-trackers [-e evict-MiB] [-r rounds] "
	    "[-w warmup] [-s seed] [-m uffd,kvm,softdirty,memcmp,memcmp1]\n");
	exit(2);
}

static void
parse_methods(char *list)
{
	char *tok, *save = NULL;
	int m;

	memset(wanted, 0, sizeof(wanted));
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		for (m = 0; m < NMETH; m++)
			if (strcmp(tok, meth_name[m]) == 0)
				break;
		if (m == NMETH)
			usage();
		wanted[m] = true;
	}
}

static unsigned long
parse_ul(const char *s, unsigned long min, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

/* Set up method m for every size; on failure record why. */
static void
setup_method(enum meth m)
{
	char why[256];
	int s, rc = 0;

	why[0] = '\0';
	if (m == M_UFFD || m == M_KVM || m == M_SOFTDIRTY) {
		enum lfbshm_tracker_kind kind = m == M_UFFD ?
		    LFBSHM_TRACKER_UFFD : m == M_KVM ? LFBSHM_TRACKER_KVM :
		    LFBSHM_TRACKER_SOFTDIRTY;

		if ((rc = lfbshm_tracker_probe(kind, why, sizeof(why))) != 0)
			goto fail;
	}
	for (s = 0; s < NSIZES; s++) {
		struct sizectx *c = &ctx[s];

		switch (m) {
		case M_UFFD:
			rc = hostfb_setup(c, &c->uffd, m, why, sizeof(why));
			break;
		case M_SOFTDIRTY:
			rc = hostfb_setup(c, &c->soft, m, why, sizeof(why));
			break;
		case M_KVM:
			rc = kvm_setup(c, why, sizeof(why));
			break;
		case M_MEMCMP:
			if (c->plain.fb == NULL)
				rc = hostfb_setup(c, &c->plain, m, why,
				    sizeof(why));
			break;
		case M_MEMCMP1:
			/* Shares memcmp's plain framebuffer. */
			if (!avail[M_MEMCMP]) {
				snprintf(why, sizeof(why), "needs memcmp");
				rc = -EINVAL;
			}
			break;
		default:
			break;
		}
		if (rc != 0)
			goto fail;
	}
	avail[m] = true;
	return;
 fail:
	if (why[0] == '\0')
		snprintf(why, sizeof(why), "%s", strerror(-rc));
	snprintf(why_na[m], sizeof(why_na[m]), "%s", why);
	printf("- %s: not available: %s\n", meth_name[m], why_na[m]);
}

static void
ctx_init(struct sizectx *c, struct fbsize *sz)
{
	size_t p;

	sz->len = (size_t)sz->width * sz->height * 4;
	sz->npages = (sz->len + PAGE - 1) / PAGE;
	sz->len = sz->npages * PAGE;
	sz->nwords = (sz->npages + 63) / 64;
	memset(c, 0, sizeof(*c));
	c->sz = sz;
	c->uffd.fd = c->soft.fd = c->plain.fd = -1;
	c->kvm.fd = c->kvm.plain_fd = -1;
	c->bm = calloc(sz->nwords, sizeof(uint64_t));
	c->want = calloc(sz->nwords, sizeof(uint64_t));
	c->list = calloc(sz->npages, sizeof(uint32_t));
	c->perm = calloc(sz->npages, sizeof(uint32_t));
	if (c->bm == NULL || c->want == NULL || c->list == NULL ||
	    c->perm == NULL)
		die("out of memory");
	for (p = 0; p < sz->npages; p++)
		c->perm[p] = (uint32_t)p;
}

static void
ctx_fini(struct sizectx *c)
{
	size_t len = c->sz->len;

	kvm_teardown(&c->kvm, len);
	hostfb_teardown(&c->uffd, len);
	hostfb_teardown(&c->soft, len);
	hostfb_teardown(&c->plain, len);
	free(c->bm);
	free(c->want);
	free(c->list);
	free(c->perm);
}

/* No lost update: every shadow equals its framebuffer after the run. */
static int
final_check(void)
{
	int s, bad = 0;

	for (s = 0; s < NSIZES; s++) {
		struct sizectx *c = &ctx[s];
		size_t len = c->sz->len;

		if (avail[M_UFFD] && memcmp(c->uffd.fb, c->uffd.shadow,
		    len) != 0)
			bad++, printf("- %s uffd: shadow differs\n",
			    c->sz->name);
		if (avail[M_SOFTDIRTY] && memcmp(c->soft.fb, c->soft.shadow,
		    len) != 0)
			bad++, printf("- %s softdirty: shadow differs\n",
			    c->sz->name);
		if (avail[M_KVM] && memcmp(c->kvm.fb, c->kvm.shadow,
		    len) != 0)
			bad++, printf("- %s kvm: shadow differs\n",
			    c->sz->name);
		if (avail[M_MEMCMP] && memcmp(c->plain.fb, c->plain.shadow,
		    len) != 0)
			bad++, printf("- %s memcmp: shadow differs\n",
			    c->sz->name);
	}
	return bad;
}

int
main(int argc, char *argv[])
{
	uint64_t seed = 1;
	unsigned int r;
	double t0;
	int ch, m, s, rc, lost = 0, missed;

	setvbuf(stdout, NULL, _IOLBF, 0);
	log_init("bench-trackers", 0);
	for (m = 0; m < NMETH; m++)
		wanted[m] = true;
	evict_len = 2 * llc_size();
	if (evict_len < (16u << 20))
		evict_len = 64u << 20;
	if (evict_len > (256u << 20))
		evict_len = 256u << 20;
	while ((ch = getopt(argc, argv, "e:r:w:s:m:")) != -1) {
		switch (ch) {
		case 'e':
			evict_len = (size_t)parse_ul(optarg, 1, 4096) << 20;
			break;
		case 'r':
			nrounds = (unsigned int)parse_ul(optarg, 1, 100000);
			break;
		case 'w':
			nwarm = (unsigned int)parse_ul(optarg, 0, 100000);
			break;
		case 's':
			seed = parse_ul(optarg, 0, ULONG_MAX);
			break;
		case 'm':
			parse_methods(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (nrounds < MIN_ROUNDS)
		fprintf(stderr, "bench-trackers: warning: %u rounds; use at "
		    "least %d for results\n", nrounds, MIN_ROUNDS);
	rng = seed;
	evict_buf = xmalloc_pages(evict_len);
	memset(evict_buf, 0xe5, evict_len);

	for (s = 0; s < NSIZES; s++)
		ctx_init(&ctx[s], &sizes[s]);
	if ((rc = pthread_create(&wr.th, NULL, writer_main, NULL)) != 0)
		die("pthread_create: %s", strerror(rc));
	wr.started = true;

	for (m = 0; m < NMETH; m++) {
		if (wanted[m])
			setup_method((enum meth)m);
		else
			snprintf(why_na[m], sizeof(why_na[m]), "not selected");
	}
	for (s = 0; s < NSIZES; s++)
		if (avail[M_KVM])
			printf("- kvm %s: guest TSC %.1f MHz\n", sizes[s].name,
			    ctx[s].kvm.tsc_per_us);

	t0 = now_us();
	for (r = 0; r < nwarm + nrounds; r++) {
		run_round(r);
		if ((r + 1) % 10 == 0 || r + 1 == nwarm + nrounds)
			fprintf(stderr, "bench-trackers: round %u/%u, %.1f s\n",
			    r + 1, nwarm + nrounds, (now_us() - t0) / 1e6);
	}
	printf("- %u rounds in %.1f s, seed %" PRIu64 "\n\n",
	    nwarm + nrounds, (now_us() - t0) / 1e6, seed);

	print_tables();
	missed = print_targets();
	printf("\nChecks (every answer against the pages written; every "
	    "shadow against its framebuffer at the end):\n\n");
	for (m = 0; m < NMETH; m++) {
		if (!avail[m])
			continue;
		if (m == M_MEMCMP1) {
			printf("- %s: %" PRIu64 " clean frames compared "
			    "unequal\n", meth_name[m], checks[m].extra);
			lost += checks[m].extra != 0;
			continue;
		}
		printf("- %s: %" PRIu64 " written pages not reported, %"
		    PRIu64 " reported pages not written\n", meth_name[m],
		    checks[m].missing, checks[m].extra);
		lost += checks[m].missing != 0;
	}
	lost += final_check();
	print_results();
	printf("RESULT targets_missed=%d lost=%d\n", missed, lost);

	pthread_mutex_lock(&wr.m);
	wr.state = W_QUIT;
	pthread_cond_broadcast(&wr.cv);
	pthread_mutex_unlock(&wr.m);
	pthread_join(wr.th, NULL);
	for (s = 0; s < NSIZES; s++)
		ctx_fini(&ctx[s]);
	for (m = 0; m < NMETH; m++)
		for (r = 0; r < NOPS; r++)
			for (s = 0; s < NSIZES; s++)
				for (ch = 0; ch < NLEVELS; ch++)
					free(cells[m][r][s][ch].v);
	free(evict_buf);
	return lost != 0 ? 1 : 0;
}
