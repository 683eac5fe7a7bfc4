/*
 * trk-common.h - shared parts of the tracker tests: framebuffer backings,
 * random writer threads and the shadow check of
 * research/dirty-tracking.md ("Test suite"): writers write, a scanner
 * copies the pages get_dirty reports into a shadow, and at the end the
 * shadow must equal the framebuffer.  A negative control drops one
 * reported page per scan; the check must then see lost pages.
 */
#ifndef LFBVNC_TRK_COMMON_H
#define LFBVNC_TRK_COMMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tracker.h"

#define TRK_PAGE	4096u
/* 1920x1080x32: 8,294,400 octets, exactly 2025 pages. */
#define TRK_FB_LEN	(1920u * 1080u * 4u)
#define TRK_NPAGES	(TRK_FB_LEN / TRK_PAGE)
#define TRK_NWORDS	((TRK_NPAGES + 63) / 64)

extern int trk_failures;

void	trk_fail(const char *file, int line, const char *fmt, ...)
	    __attribute__((__format__(__printf__, 3, 4)));
#define TRK_CHECK(cond, ...) do {					\
	if (!(cond))							\
		trk_fail(__FILE__, __LINE__, __VA_ARGS__);		\
} while (0)

uint64_t trk_rand(uint64_t *state);
uint64_t trk_now_ns(void);
void	trk_sleep_us(unsigned int us);

enum trk_backing {
	TRK_ANON,	/* private anonymous */
	TRK_MEMFD,	/* memfd, MAP_SHARED */
	TRK_SHM,	/* a file in /dev/shm, MAP_SHARED */
	TRK_FILE,	/* a file in the current directory, MAP_SHARED */
	TRK_NBACKINGS
};

struct trk_fb {
	unsigned char	*p;
	size_t		 len;
	int		 fd;		/* -1 for anonymous */
	enum trk_backing backing;
};

const char *trk_backing_name(enum trk_backing);
/* Map len octets of the backing and write every page once. */
int	trk_fb_make(struct trk_fb *, enum trk_backing, size_t len);
void	trk_fb_free(struct trk_fb *);

/* Writer threads: random runs of 1-4 pages, random data. */
struct trk_writers;
struct trk_writer_arg {
	struct trk_writers *w;
	int		 idx;
};

struct trk_writers {
	unsigned char	*fb;
	size_t		 npages;
	unsigned int	 pause_us;	/* between runs, 0: flat out */
	unsigned int	 idle_us;	/* max extra random idle per run */
	int		 nthreads;
	atomic_bool	 stop;
	atomic_ulong	 runs;
	pthread_t	 th[4];
	uint64_t	 seed[4];
	struct trk_writer_arg arg[4];
};

int	trk_writers_start(struct trk_writers *, unsigned char *fb,
	    size_t npages, int nthreads, unsigned int pause_us,
	    unsigned int idle_us, uint64_t seed);
void	trk_writers_stop(struct trk_writers *);

/* Fill part of a page with random data (changes it with certainty). */
void	trk_scribble(unsigned char *page, uint64_t *rng);

struct trk_shadow {
	unsigned char	*shadow;
	size_t		 npages;
	bool		 skip_one;	/* negative control */
	uint64_t	 bitmap[TRK_NWORDS];
	unsigned long	 scans;
	unsigned long	 reported;
	unsigned long	 all_dirty;
	unsigned long	 skipped;
};

int	trk_shadow_init(struct trk_shadow *, const unsigned char *fb,
	    size_t npages, bool skip_one);
void	trk_shadow_free(struct trk_shadow *);
/* get_dirty and copy what it reports; <0: get_dirty's error. */
int	trk_shadow_scan(struct trk_shadow *, struct lfbshm_tracker *,
	    const unsigned char *fb);
/* Pages where the shadow differs from fb. */
size_t	trk_shadow_lost(const struct trk_shadow *, const unsigned char *fb);

/*
 * The whole shadow test: writers for run_ms while the scanner scans (with
 * scan_pause_us between scans), then the writers stop, the test changes
 * one more page and scans a last time.  Returns the lost pages.
 */
struct trk_shadow_opts {
	int		 nthreads;
	unsigned int	 pause_us;
	unsigned int	 scan_pause_us;
	unsigned int	 run_ms;
	bool		 skip_one;
	uint64_t	 seed;
};
long	trk_shadow_test(struct lfbshm_tracker *, unsigned char *fb,
	    size_t npages, const struct trk_shadow_opts *, const char *label);

/* Bitmap helpers. */
size_t	trk_popcount(const uint64_t *bm, size_t npages);
bool	trk_bit(const uint64_t *bm, size_t page);
void	trk_setbit(uint64_t *bm, size_t page);
/* "3 17 2024" (at most a few dozen, then "..."). */
void	trk_format_bits(const uint64_t *bm, size_t npages, char *buf,
	    size_t len);

#endif /* LFBVNC_TRK_COMMON_H */
