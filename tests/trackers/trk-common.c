/* trk-common.c - see trk-common.h. */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "trk-common.h"

int trk_failures;

void
trk_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	trk_failures++;
}

/* xorshift64*: cheap, and good enough to make writes differ. */
uint64_t
trk_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(0x2545f4914f6cdd1d);
}

uint64_t
trk_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
trk_sleep_us(unsigned int us)
{
	struct timespec ts;

	ts.tv_sec = us / 1000000u;
	ts.tv_nsec = (long)(us % 1000000u) * 1000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

const char *
trk_backing_name(enum trk_backing b)
{
	switch (b) {
	case TRK_ANON:
		return "anonymous";
	case TRK_MEMFD:
		return "memfd";
	case TRK_SHM:
		return "/dev/shm file";
	case TRK_FILE:
		return "file in the build directory";
	default:
		return "?";
	}
}

int
trk_fb_make(struct trk_fb *fb, enum trk_backing b, size_t len)
{
	char path[64];
	int err;

	memset(fb, 0, sizeof(*fb));
	fb->fd = -1;
	fb->len = len;
	fb->backing = b;
	switch (b) {
	case TRK_ANON:
		fb->p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case TRK_MEMFD:
		fb->fd = memfd_create("trk-fb", MFD_CLOEXEC);
		break;
	case TRK_SHM:
	case TRK_FILE:
		snprintf(path, sizeof(path), "%slfbvnc-trk-%ld.tmp",
		    b == TRK_SHM ? "/dev/shm/" : "./", (long)getpid());
		fb->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
		if (fb->fd != -1)
			unlink(path);
		break;
	default:
		return -EINVAL;
	}
	if (b != TRK_ANON) {
		if (fb->fd == -1)
			return -errno;
		if (ftruncate(fb->fd, (off_t)len) == -1) {
			err = -errno;
			close(fb->fd);
			return err;
		}
		fb->p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fb->fd, 0);
	}
	if (fb->p == MAP_FAILED) {
		err = -errno;
		if (fb->fd != -1)
			close(fb->fd);
		fb->p = NULL;
		return err;
	}
	memset(fb->p, 0x5a, len);
	return 0;
}

void
trk_fb_free(struct trk_fb *fb)
{
	if (fb->p != NULL)
		munmap(fb->p, fb->len);
	if (fb->fd != -1)
		close(fb->fd);
	fb->p = NULL;
	fb->fd = -1;
}

void
trk_scribble(unsigned char *page, uint64_t *rng)
{
	uint64_t w;
	size_t off, n, i;

	off = (size_t)(trk_rand(rng) % (TRK_PAGE / 8));
	n = 1 + (size_t)(trk_rand(rng) % 64);
	if (off + n > TRK_PAGE / 8)
		n = TRK_PAGE / 8 - off;
	for (i = 0; i < n; i++) {
		w = trk_rand(rng);
		memcpy(page + (off + i) * 8, &w, 8);
	}
}

static void *
writer(void *arg)
{
	struct trk_writer_arg *wa = arg;
	struct trk_writers *w = wa->w;
	uint64_t rng = w->seed[wa->idx];
	size_t page, run, i;

	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		page = (size_t)(trk_rand(&rng) % w->npages);
		run = 1 + (size_t)(trk_rand(&rng) % 4);
		for (i = 0; i < run && page + i < w->npages; i++)
			trk_scribble(w->fb + (page + i) * TRK_PAGE, &rng);
		atomic_fetch_add_explicit(&w->runs, 1, memory_order_relaxed);
		if (w->pause_us != 0 || w->idle_us != 0)
			trk_sleep_us(w->pause_us + (w->idle_us == 0 ? 0 :
			    (unsigned int)(trk_rand(&rng) % w->idle_us)));
	}
	return NULL;
}

int
trk_writers_start(struct trk_writers *w, unsigned char *fb, size_t npages,
    int nthreads, unsigned int pause_us, unsigned int idle_us, uint64_t seed)
{
	int i, err;

	memset(w, 0, sizeof(*w));
	w->fb = fb;
	w->npages = npages;
	w->pause_us = pause_us;
	w->idle_us = idle_us;
	atomic_init(&w->stop, false);
	atomic_init(&w->runs, 0);
	if (nthreads > 4)
		nthreads = 4;
	for (i = 0; i < nthreads; i++) {
		w->seed[i] = seed * 7919 + (uint64_t)i * 104729 + 1;
		w->arg[i].w = w;
		w->arg[i].idx = i;
		err = pthread_create(&w->th[i], NULL, writer, &w->arg[i]);
		if (err != 0) {
			trk_writers_stop(w);
			return -err;
		}
		w->nthreads = i + 1;
	}
	return 0;
}

void
trk_writers_stop(struct trk_writers *w)
{
	int i;

	atomic_store(&w->stop, true);
	for (i = 0; i < w->nthreads; i++)
		pthread_join(w->th[i], NULL);
	w->nthreads = 0;
}

size_t
trk_popcount(const uint64_t *bm, size_t npages)
{
	size_t i, n = 0;

	for (i = 0; i < npages; i++)
		n += trk_bit(bm, i);
	return n;
}

bool
trk_bit(const uint64_t *bm, size_t page)
{
	return (bm[page >> 6] >> (page & 63)) & 1;
}

void
trk_setbit(uint64_t *bm, size_t page)
{
	bm[page >> 6] |= UINT64_C(1) << (page & 63);
}

void
trk_format_bits(const uint64_t *bm, size_t npages, char *buf, size_t len)
{
	size_t i, off = 0, shown = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < npages && off + 16 < len; i++) {
		if (!trk_bit(bm, i))
			continue;
		if (++shown > 24) {
			snprintf(buf + off, len - off, " ...");
			return;
		}
		n = snprintf(buf + off, len - off, "%s%zu", off ? " " : "", i);
		if (n < 0)
			return;
		off += (size_t)n;
	}
}

int
trk_shadow_init(struct trk_shadow *s, const unsigned char *fb, size_t npages,
    bool skip_one)
{
	memset(s, 0, sizeof(*s));
	if (npages > TRK_NWORDS * 64)
		return -EINVAL;
	if ((s->shadow = malloc(npages * TRK_PAGE)) == NULL)
		return -ENOMEM;
	memcpy(s->shadow, fb, npages * TRK_PAGE);
	s->npages = npages;
	s->skip_one = skip_one;
	return 0;
}

void
trk_shadow_free(struct trk_shadow *s)
{
	free(s->shadow);
	s->shadow = NULL;
}

int
trk_shadow_scan(struct trk_shadow *s, struct lfbshm_tracker *t,
    const unsigned char *fb)
{
	bool all = false, skip = s->skip_one;
	size_t i;
	int err;

	memset(s->bitmap, 0, sizeof(s->bitmap));
	if ((err = t->ops->get_dirty(t, s->bitmap, &all)) < 0)
		return err;
	s->scans++;
	if (all)
		s->all_dirty++;
	for (i = 0; i < s->npages; i++) {
		if (!all && !trk_bit(s->bitmap, i))
			continue;
		s->reported++;
		if (skip) {
			skip = false;
			s->skipped++;
			continue;
		}
		memcpy(s->shadow + i * TRK_PAGE, fb + i * TRK_PAGE, TRK_PAGE);
	}
	return 0;
}

size_t
trk_shadow_lost(const struct trk_shadow *s, const unsigned char *fb)
{
	size_t i, lost = 0;

	for (i = 0; i < s->npages; i++)
		if (memcmp(s->shadow + i * TRK_PAGE, fb + i * TRK_PAGE,
		    TRK_PAGE) != 0)
			lost++;
	return lost;
}

long
trk_shadow_test(struct lfbshm_tracker *t, unsigned char *fb, size_t npages,
    const struct trk_shadow_opts *o, const char *label)
{
	struct trk_shadow s;
	struct trk_writers w;
	uint64_t end, rng = o->seed | 1;
	size_t lost;
	int err;

	if ((err = trk_shadow_init(&s, fb, npages, o->skip_one)) < 0)
		return err;
	if ((err = trk_shadow_scan(&s, t, fb)) < 0)
		goto out;
	if ((err = trk_writers_start(&w, fb, npages, o->nthreads, o->pause_us,
	    0, o->seed)) < 0)
		goto out;
	end = trk_now_ns() + (uint64_t)o->run_ms * 1000000u;
	while (trk_now_ns() < end) {
		if ((err = trk_shadow_scan(&s, t, fb)) < 0)
			break;
		if (o->scan_pause_us != 0)
			trk_sleep_us(o->scan_pause_us);
	}
	trk_writers_stop(&w);
	if (err < 0)
		goto out;
	/* Quiesced: scan, then one last known write, and the final scan. */
	if ((err = trk_shadow_scan(&s, t, fb)) < 0)
		goto out;
	trk_scribble(fb + (size_t)(trk_rand(&rng) % npages) * TRK_PAGE, &rng);
	if ((err = trk_shadow_scan(&s, t, fb)) < 0)
		goto out;
	lost = trk_shadow_lost(&s, fb);
	printf("  %s: %lu writer runs, %lu scans, %lu pages reported "
	    "(%.1f/scan), %lu all-dirty, %lu skipped, lost pages %zu\n",
	    label, (unsigned long)atomic_load(&w.runs), s.scans, s.reported,
	    s.scans ? (double)s.reported / (double)s.scans : 0.0,
	    s.all_dirty, s.skipped, lost);
	err = (int)lost;
out:
	trk_shadow_free(&s);
	return err;
}
