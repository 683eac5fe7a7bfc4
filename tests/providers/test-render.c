/*
 * test-render.c - the demo renderer: determinism, bounded updates, no
 * writes outside the framebuffer, pointer save-under, typed input.
 *
 * Writes are observed, not inferred: before each frame the framebuffer is
 * made read-only and a SIGSEGV handler records each page written first
 * and makes it writable again (a write tracker of our own, so the test
 * needs no kernel feature).  Guard pages sit on both sides, the buffer
 * ends exactly at the trailing guard, and the stride padding and the
 * slack before the first pixel hold a canary.
 *
 * Usage: test-render                run the tests
 *        test-render --dump DIR [WxH]  write DIR/<workload>.ppm after 150
 *                                      frames with some input, to look at
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "render.h"
#include "font.h"

#define PAGE		4096u
#define CANARY		0xa5

static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		failures++;						\
	}								\
} while (0)

struct fbuf {
	uint8_t *map;		/* guard | slack + fb | guard */
	size_t maplen;
	uint8_t *area;		/* first page after the leading guard */
	size_t arealen;		/* pages holding the framebuffer */
	uint8_t *fb;		/* pixel (0, 0); ends at the trailing guard */
	size_t size;		/* stride * height */
	struct demo_mode m;
	uint8_t *shadow;	/* copy before the frame */
};

/* The write tracker: state for the SIGSEGV handler. */
static volatile sig_atomic_t trk_on;
static uint8_t *trk_base;
static size_t trk_npages;
static uint8_t *trk_written;	/* one byte per page */
static volatile sig_atomic_t trk_wild;

static void
segv(int sig, siginfo_t *si, void *uc)
{
	uint8_t *a = si->si_addr;
	size_t pg;

	(void)sig;
	(void)uc;
	if (trk_on && a >= trk_base && a < trk_base + trk_npages * PAGE) {
		pg = (size_t)(a - trk_base) / PAGE;
		trk_written[pg] = 1;
		if (mprotect(trk_base + pg * PAGE, PAGE,
		    PROT_READ | PROT_WRITE) == 0)
			return;
	}
	/* a guard page or a real crash: say so and stop */
	trk_wild = 1;
	static const char msg[] = "FAIL: write outside the framebuffer\n";
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

static int
fb_new(struct fbuf *b, uint32_t w, uint32_t h, uint32_t stride)
{
	size_t slack;

	memset(b, 0, sizeof(*b));
	b->m.width = w;
	b->m.height = h;
	b->m.stride = stride;
	b->m.format = DEMO_FORMAT_XRGB8888;
	b->size = (size_t)stride * h;
	b->arealen = (b->size + PAGE - 1) / PAGE * PAGE;
	b->maplen = b->arealen + 2 * PAGE;
	b->map = mmap(NULL, b->maplen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (b->map == MAP_FAILED)
		return -1;
	b->area = b->map + PAGE;
	if (mprotect(b->area, b->arealen, PROT_READ | PROT_WRITE) != 0)
		return -1;
	slack = b->arealen - b->size;
	b->fb = b->area + slack;
	memset(b->area, CANARY, b->arealen);
	b->shadow = malloc(b->size);
	return b->shadow == NULL ? -1 : 0;
}

static void
fb_free(struct fbuf *b)
{
	if (b->map != NULL && b->map != MAP_FAILED)
		munmap(b->map, b->maplen);
	free(b->shadow);
	memset(b, 0, sizeof(*b));
}

/* The canary before the first pixel and in every row's padding. */
static int
canary_ok(const struct fbuf *b)
{
	size_t i, y;

	for (i = 0; b->area + i < b->fb; i++)
		if (b->area[i] != CANARY)
			return 0;
	for (y = 0; y < b->m.height; y++)
		for (i = (size_t)b->m.width * 4; i < b->m.stride; i++)
			if (b->fb[y * b->m.stride + i] != CANARY)
				return 0;
	return 1;
}

static uint32_t
px(const struct fbuf *b, uint32_t x, uint32_t y)
{
	uint32_t v;

	memcpy(&v, b->fb + (size_t)y * b->m.stride + x * 4, 4);
	return v & 0xffffff;
}

static uint32_t
spx(const struct fbuf *b, uint32_t x, uint32_t y)
{
	uint32_t v;

	memcpy(&v, b->shadow + (size_t)y * b->m.stride + x * 4, 4);
	return v & 0xffffff;
}

/* What one frame did. */
struct delta {
	uint32_t x0, y0, x1, y1;	/* bounding box of changed pixels */
	size_t changed;			/* pixels */
	size_t wpages, cpages;		/* pages written, pages changed */
	int changed_not_written;	/* harness sanity */
};

static void
track_begin(struct fbuf *b)
{
	trk_base = b->area;
	trk_npages = b->arealen / PAGE;
	memset(trk_written, 0, trk_npages);
	memcpy(b->shadow, b->fb, b->size);
	if (mprotect(b->area, b->arealen, PROT_READ) != 0) {
		perror("mprotect");
		exit(99);
	}
	trk_on = 1;
}

static void
track_end(struct fbuf *b, struct delta *d)
{
	uint32_t x, y;
	size_t pg, last = (size_t)-1;
	uint8_t *cp;

	trk_on = 0;
	if (mprotect(b->area, b->arealen, PROT_READ | PROT_WRITE) != 0) {
		perror("mprotect");
		exit(99);
	}
	memset(d, 0, sizeof(*d));
	d->x0 = d->y0 = UINT32_MAX;
	cp = calloc(trk_npages, 1);
	if (cp == NULL)
		exit(99);
	for (y = 0; y < b->m.height; y++) {
		const uint8_t *r = b->fb + (size_t)y * b->m.stride;

		if (memcmp(r, b->shadow + (size_t)y * b->m.stride,
		    (size_t)b->m.width * 4) == 0)
			continue;
		for (x = 0; x < b->m.width; x++) {
			if (px(b, x, y) == spx(b, x, y))
				continue;
			d->changed++;
			if (x < d->x0)
				d->x0 = x;
			if (x >= d->x1)
				d->x1 = x + 1;
			if (y < d->y0)
				d->y0 = y;
			if (y >= d->y1)
				d->y1 = y + 1;
			pg = (size_t)(r + x * 4 - b->area) / PAGE;
			cp[pg] = 1;
			/* the last octet of the pixel may be on the next page */
			cp[(size_t)(r + x * 4 + 3 - b->area) / PAGE] = 1;
			last = pg;
		}
	}
	(void)last;
	for (pg = 0; pg < trk_npages; pg++) {
		d->wpages += trk_written[pg];
		d->cpages += cp[pg];
		if (cp[pg] && !trk_written[pg])
			d->changed_not_written = 1;
	}
	free(cp);
	if (d->changed == 0)
		d->x0 = d->y0 = 0;
}

/* Pages spanned by a rectangle of the framebuffer, as a page mask. */
static void
rect_pages(const struct fbuf *b, uint32_t x0, uint32_t y0, uint32_t x1,
    uint32_t y1, uint8_t *mask)
{
	uint32_t y;
	size_t a, z;

	for (y = y0; y < y1; y++) {
		const uint8_t *r = b->fb + (size_t)y * b->m.stride;

		a = (size_t)(r + x0 * 4 - b->area) / PAGE;
		z = (size_t)(r + x1 * 4 - 1 - b->area) / PAGE;
		for (; a <= z; a++)
			mask[a] = 1;
	}
}

/* Pages written this frame that are not in mask. */
static size_t
written_outside(const uint8_t *mask)
{
	size_t pg, n = 0;

	for (pg = 0; pg < trk_npages; pg++)
		if (trk_written[pg] && !mask[pg])
			n++;
	return n;
}

static struct demo_state *
state_new(void)
{
	struct demo_state *st = malloc(sizeof(*st));

	if (st == NULL)
		exit(99);
	/* garbage on purpose: demo_start must not depend on it */
	memset(st, 0x5a, sizeof(*st));
	return st;
}

static int
alloc_tracker(size_t npages)
{
	free(trk_written);
	trk_written = calloc(npages, 1);
	return trk_written == NULL ? -1 : 0;
}

/* ---------------------------------------------------------------- tests */

#define TEST_FRAMES	130

/*
 * Each workload for TEST_FRAMES frames at one mode: guards hold, changed
 * pixels were written, and the writes stay within what the workload is
 * expected to change.
 */
static void
test_workload(uint32_t wl, uint32_t w, uint32_t h, uint32_t stride)
{
	const char *name = demo_workload_name(wl);
	struct demo_state *st = state_new();
	struct fbuf b;
	struct delta dl;
	uint32_t ux0 = UINT32_MAX, uy0 = UINT32_MAX, ux1 = 0, uy1 = 0;
	uint64_t f;
	uint8_t *mask, *wunion;
	size_t pg, maxw = 0, outside;
	int frames_changed = 0;

	if (fb_new(&b, w, h, stride) != 0 || alloc_tracker(b.arealen / PAGE))
		exit(99);
	mask = calloc(b.arealen / PAGE, 1);
	wunion = calloc(b.arealen / PAGE, 1);
	if (mask == NULL || wunion == NULL)
		exit(99);

	track_begin(&b);
	demo_start(st, b.fb, &b.m, wl, 7);
	track_end(&b, &dl);
	CHECK(canary_ok(&b), "%s %ux%u/%u: start wrote into padding", name,
	    w, h, stride);
	CHECK(dl.wpages == b.arealen / PAGE,
	    "%s %ux%u/%u: start wrote %zu of %zu pages", name, w, h, stride,
	    dl.wpages, b.arealen / PAGE);

	/* a first frame jumps to its frame number's state (the drag path) */
	demo_frame(st, b.fb, &b.m, 959, NULL, 0);
	for (f = 960; f < 960 + TEST_FRAMES; f++) {
		track_begin(&b);
		demo_frame(st, b.fb, &b.m, f, NULL, 0);
		track_end(&b, &dl);
		CHECK(canary_ok(&b), "%s %ux%u/%u frame %ju: wrote into padding",
		    name, w, h, stride, (uintmax_t)f);
		CHECK(!dl.changed_not_written, "%s: harness: change not seen",
		    name);
		if (dl.changed > 0) {
			frames_changed++;
			ux0 = dl.x0 < ux0 ? dl.x0 : ux0;
			uy0 = dl.y0 < uy0 ? dl.y0 : uy0;
			ux1 = dl.x1 > ux1 ? dl.x1 : ux1;
			uy1 = dl.y1 > uy1 ? dl.y1 : uy1;
		}
		for (pg = 0; pg < trk_npages; pg++)
			wunion[pg] |= trk_written[pg];
		if (dl.wpages > maxw)
			maxw = dl.wpages;

		switch (wl) {
		case DEMO_IDLE:
			CHECK(dl.wpages == 0, "idle frame %ju wrote %zu pages",
			    (uintmax_t)f, dl.wpages);
			break;
		case DEMO_BLINK:
			if (f % 30 != 0) {
				CHECK(dl.wpages == 0, "blink frame %ju wrote "
				    "%zu pages between toggles",
				    (uintmax_t)f, dl.wpages);
				break;
			}
			/* exactly the cursor cell changes, nothing else */
			CHECK(dl.changed == 8 * 16 && dl.x1 - dl.x0 == 8 &&
			    dl.y1 - dl.y0 == 16, "blink frame %ju changed %zu "
			    "pixels in %ux%u", (uintmax_t)f, dl.changed,
			    dl.x1 - dl.x0, dl.y1 - dl.y0);
			memset(mask, 0, trk_npages);
			rect_pages(&b, dl.x0, dl.y0, dl.x1, dl.y1, mask);
			CHECK(written_outside(mask) == 0, "blink frame %ju "
			    "wrote outside the cursor cell", (uintmax_t)f);
			break;
		case DEMO_VIDEO:
			CHECK(dl.changed > 0 && dl.x1 - dl.x0 <= 640 &&
			    dl.y1 - dl.y0 <= 360, "video frame %ju changed "
			    "%ux%u", (uintmax_t)f, dl.x1 - dl.x0,
			    dl.y1 - dl.y0);
			break;
		case DEMO_SPARSE:
			CHECK(dl.changed <= 4 && dl.wpages <= 4,
			    "sparse frame %ju changed %zu pixels, wrote %zu "
			    "pages", (uintmax_t)f, dl.changed, dl.wpages);
			break;
		case DEMO_FULLSCREEN:
			CHECK(dl.changed > (size_t)w * h / 2, "fullscreen frame "
			    "%ju changed only %zu pixels", (uintmax_t)f,
			    dl.changed);
			break;
		case DEMO_DRAG:
			/* the window (<= 440x320) and where it was */
			CHECK(dl.x1 - dl.x0 <= 440 + 16 &&
			    dl.y1 - dl.y0 <= 320 + 16, "drag frame %ju changed "
			    "%ux%u", (uintmax_t)f, dl.x1 - dl.x0,
			    dl.y1 - dl.y0);
			memset(mask, 0, trk_npages);
			if (dl.changed > 0)
				rect_pages(&b, dl.x0, dl.y0, dl.x1, dl.y1, mask);
			CHECK(written_outside(mask) == 0, "drag frame %ju wrote "
			    "pages where nothing changed", (uintmax_t)f);
			break;
		case DEMO_TYPING:
		case DEMO_SCROLL:
		case DEMO_MIX:
			/* redraws are what changes, give or take a cell */
			CHECK(dl.wpages <= dl.cpages + 40, "%s frame %ju wrote "
			    "%zu pages for %zu changed", name, (uintmax_t)f,
			    dl.wpages, dl.cpages);
			break;
		}
	}

	/* over the whole run: every workload but idle moved, within bounds */
	CHECK(wl == DEMO_IDLE ? frames_changed == 0 : frames_changed > 0,
	    "%s: %d frames changed", name, frames_changed);
	memset(mask, 0, trk_npages);
	if (ux1 > 0)
		rect_pages(&b, ux0, uy0, ux1, uy1, mask);
	outside = 0;
	for (pg = 0; pg < trk_npages; pg++)
		if (wunion[pg] && !mask[pg])
			outside++;
	switch (wl) {
	case DEMO_BLINK:
		CHECK(ux1 - ux0 == 8 && uy1 - uy0 == 16, "blink: %ux%u changed",
		    ux1 - ux0, uy1 - uy0);
		break;
	case DEMO_VIDEO:
		/* one 640x360 rectangle, repainted every frame */
		CHECK(frames_changed == TEST_FRAMES, "video: %d frames",
		    frames_changed);
		CHECK(ux1 - ux0 <= 640 && uy1 - uy0 <= 360 &&
		    ux1 - ux0 >= 600 && uy1 - uy0 >= 320,
		    "video: %ux%u changed", ux1 - ux0, uy1 - uy0);
		CHECK(outside == 0, "video: %zu pages written outside", outside);
		break;
	case DEMO_TYPING:
	case DEMO_SCROLL:
		/* the terminal's text area, 80x24 cells */
		CHECK(ux1 - ux0 <= 80 * 8 && uy1 - uy0 <= 24 * 16,
		    "%s: %ux%u changed", name, ux1 - ux0, uy1 - uy0);
		CHECK(outside == 0, "%s: %zu pages written outside", name,
		    outside);
		break;
	case DEMO_MIX:
		/* typing, the clock and a 320x180 video: not the whole screen */
		CHECK((size_t)(ux1 - ux0) * (uy1 - uy0) < (size_t)w * h,
		    "mix: changed everything");
		break;
	}

	free(mask);
	free(wunion);
	fb_free(&b);
	free(st);
}

/* Odd sizes and strides: the guards and canaries hold, mode changes too. */
static void
test_sizes(void)
{
	static const uint32_t sz[][3] = {
		{ 1, 1, 4 }, { 7, 5, 31 }, { 100, 60, 401 }, { 320, 200, 1280 },
		{ 321, 201, 1287 }, { 640, 480, 2560 }, { 800, 600, 3203 },
		{ 1920, 1080, 7680 }, { 3840, 2160, 15360 },
	};
	struct demo_state *st = state_new();
	struct delta dl;
	struct fbuf b;
	size_t i;
	uint32_t wl;
	uint64_t f;

	for (i = 0; i < sizeof(sz) / sizeof(sz[0]); i++) {
		if (fb_new(&b, sz[i][0], sz[i][1], sz[i][2]) != 0 ||
		    alloc_tracker(b.arealen / PAGE) != 0)
			exit(99);
		for (wl = 0; wl < DEMO_NWORKLOADS; wl++) {
			struct demo_input in[3] = {
				{ DEMO_INPUT_POINTER, sz[i][0] - 1,
				    sz[i][1] - 1, 1 },
				{ DEMO_INPUT_KEY, 'x', 1, 0 },
				{ DEMO_INPUT_POINTER, 0, 0, 1 },
			};

			track_begin(&b);
			demo_start(st, b.fb, &b.m, wl, i);
			/* a few frames, far apart on the large modes */
			for (f = 0; f < 6; f++)
				demo_frame(st, b.fb, &b.m, f * 37, in,
				    f == 2 ? 3 : 0);
			track_end(&b, &dl);
			CHECK(canary_ok(&b), "%s %ux%u/%u wrote into padding",
			    demo_workload_name(wl), sz[i][0], sz[i][1],
			    sz[i][2]);
		}
		fb_free(&b);
	}

	/* a mode change in the same state: a smaller mode in a new buffer */
	if (fb_new(&b, 1024, 768, 4096) != 0)
		exit(99);
	demo_start(st, b.fb, &b.m, DEMO_MIX, 3);
	for (f = 0; f < 10; f++)
		demo_frame(st, b.fb, &b.m, f, NULL, 0);
	fb_free(&b);
	if (fb_new(&b, 640, 400, 2564) != 0 ||
	    alloc_tracker(b.arealen / PAGE) != 0)
		exit(99);
	track_begin(&b);
	demo_start(st, b.fb, &b.m, DEMO_MIX, 3);
	for (f = 10; f < 20; f++)
		demo_frame(st, b.fb, &b.m, f, NULL, 0);
	track_end(&b, &dl);
	CHECK(canary_ok(&b), "mode change wrote into padding");
	/* a frame for another mode than the started one does nothing */
	{
		struct demo_mode other = b.m;

		other.width = 1024;
		track_begin(&b);
		demo_frame(st, b.fb, &other, 21, NULL, 0);
		track_end(&b, &dl);
		CHECK(dl.wpages == 0, "frame with a wrong mode wrote");
	}
	/* an invalid mode draws nothing */
	{
		struct demo_mode bad = b.m;

		bad.stride = bad.width * 4 - 1;
		track_begin(&b);
		demo_start(st, b.fb, &bad, DEMO_IDLE, 1);
		demo_frame(st, b.fb, &bad, 0, NULL, 0);
		track_end(&b, &dl);
		CHECK(dl.wpages == 0, "invalid mode wrote");
	}
	fb_free(&b);
	free(st);
}

/* Run a workload to frame `last' with input in[] at frame `at'. */
static void
run(struct demo_state *st, struct fbuf *b, uint32_t wl, uint64_t seed,
    uint64_t last, const struct demo_input *in, uint32_t nin, uint64_t at)
{
	uint64_t f;

	demo_start(st, b->fb, &b->m, wl, seed);
	for (f = 0; f <= last; f++)
		demo_frame(st, b->fb, &b->m, f, f == at ? in : NULL,
		    f == at ? nin : 0);
}

static void
test_determinism(void)
{
	struct demo_state *s1 = state_new(), *s2 = state_new();
	struct demo_input in[2] = {
		{ DEMO_INPUT_POINTER, 300, 200, 0 },
		{ DEMO_INPUT_KEY, 'a', 1, 0 },
	};
	struct fbuf a, b;
	uint32_t wl;

	if (fb_new(&a, 800, 600, 3200) != 0 || fb_new(&b, 800, 600, 3200) != 0)
		exit(99);
	for (wl = 0; wl < DEMO_NWORKLOADS; wl++) {
		run(s1, &a, wl, 42, 90, in, 2, 45);
		run(s2, &b, wl, 42, 90, in, 2, 45);
		CHECK(memcmp(a.fb, b.fb, a.size) == 0,
		    "%s: same seed, different pixels", demo_workload_name(wl));
		run(s2, &b, wl, 43, 90, in, 2, 45);
		CHECK(memcmp(a.fb, b.fb, a.size) != 0,
		    "%s: different seed, same pixels", demo_workload_name(wl));
	}
	fb_free(&a);
	fb_free(&b);
	free(s1);
	free(s2);
}

/*
 * The pointer travels over the screen (and whatever moves under it) and
 * leaves for the bottom-right corner: the screen then equals a run without
 * a pointer everywhere but that one pixel.
 */
static void
test_pointer(void)
{
	struct demo_state *s1 = state_new(), *s2 = state_new();
	struct fbuf a, b;
	struct demo_input in;
	uint32_t wl, x, y, bad;
	uint64_t f;

	if (fb_new(&a, 1024, 768, 4096 + 12) != 0 ||
	    fb_new(&b, 1024, 768, 4096 + 12) != 0)
		exit(99);
	for (wl = 0; wl < DEMO_NWORKLOADS; wl++) {
		demo_start(s1, a.fb, &a.m, wl, 5);
		demo_start(s2, b.fb, &b.m, wl, 5);
		for (f = 0; f < 120; f++) {
			in.type = DEMO_INPUT_POINTER;
			in.a = (uint32_t)(f * 1031 / 120) % 1024;
			in.b = (uint32_t)(f * 5 + 100) % 768;
			in.c = 0;
			if (f == 119) {
				in.a = 1023;
				in.b = 767;
			}
			demo_frame(s1, a.fb, &a.m, f, NULL, 0);
			demo_frame(s2, b.fb, &b.m, f, &in, 1);
			if (f == 10) {
				/* drawn: black tip, white inside */
				CHECK(px(&b, in.a, in.b) == 0 &&
				    px(&b, in.a + 1, in.b + 2) == 0xffffff,
				    "%s: no pointer at %u,%u",
				    demo_workload_name(wl), in.a, in.b);
			}
		}
		bad = 0;
		for (y = 0; y < 768; y++)
			for (x = 0; x < 1024; x++)
				if (px(&a, x, y) != px(&b, x, y) &&
				    !(x == 1023 && y == 767))
					bad++;
		CHECK(bad == 0, "%s: %u pixels differ after the pointer left",
		    demo_workload_name(wl), bad);
		CHECK(px(&b, 1023, 767) == 0, "%s: pointer not in the corner",
		    demo_workload_name(wl));
	}
	/* a held button paints next to the pointer */
	demo_start(s2, b.fb, &b.m, DEMO_IDLE, 5);
	in = (struct demo_input){ DEMO_INPUT_POINTER, 500, 300, 1 };
	demo_frame(s2, b.fb, &b.m, 0, &in, 1);
	CHECK(px(&b, 499, 301) == 0xffd200, "left button did not paint");
	fb_free(&a);
	fb_free(&b);
	free(s1);
	free(s2);
}

/* Does the text s appear at (x, y) in colour c (ink pixels only)? */
static int
text_at(const struct fbuf *b, uint32_t x, uint32_t y, const char *s,
    uint32_t c)
{
	uint32_t i, r, k;
	uint8_t bits;

	for (i = 0; s[i] != '\0'; i++)
		for (r = 0; r < FONT_H; r++) {
			bits = font8x16[(s[i] - FONT_FIRST) * FONT_H + r];
			for (k = 0; k < 8; k++)
				if (((bits >> (7 - k)) & 1) !=
				    (px(b, x + i * 8 + k, y + r) == c))
					return 0;
		}
	return 1;
}

/* Keys typed into the terminal appear there; BackSpace removes them. */
static void
test_typing_input(void)
{
	struct demo_state *s1 = state_new(), *s2 = state_new();
	struct demo_input in[8];
	struct fbuf a, b;
	struct delta dl;
	uint32_t i, x, y, x0 = UINT32_MAX, y0 = UINT32_MAX, x1 = 0, y1 = 0;
	const char *word = "hello";

	if (fb_new(&a, 1024, 768, 4096) != 0 || fb_new(&b, 1024, 768, 4096) != 0 ||
	    alloc_tracker(b.arealen / PAGE) != 0)
		exit(99);
	for (i = 0; i < 5; i++)
		in[i] = (struct demo_input){ DEMO_INPUT_KEY,
		    (uint32_t)word[i], 1, 0 };
	in[5] = (struct demo_input){ DEMO_INPUT_KEY, 'q', 0, 0 }; /* up */
	run(s1, &a, DEMO_IDLE, 9, 10, NULL, 0, 0);
	run(s2, &b, DEMO_IDLE, 9, 10, in, 6, 5);
	for (y = 0; y < 768; y++)
		for (x = 0; x < 1024; x++)
			if (px(&a, x, y) != px(&b, x, y)) {
				x0 = x < x0 ? x : x0;
				y0 = y < y0 ? y : y0;
				x1 = x + 1 > x1 ? x + 1 : x1;
				y1 = y + 1 > y1 ? y + 1 : y1;
			}
	/* five cells of text and the cursor moved on by five cells */
	CHECK(x1 - x0 == 6 * 8 && y1 - y0 == 16, "typing: %ux%u changed",
	    x1 - x0, y1 - y0);
	if (x1 - x0 == 6 * 8 && y1 - y0 == 16)
		CHECK(text_at(&b, x0, y0, "hello", 0xffffff),
		    "typing: \"hello\" not drawn where it changed");

	/* two BackSpaces: two cells change, "hel" stays */
	in[0] = (struct demo_input){ DEMO_INPUT_KEY, 0xff08, 1, 0 };
	in[1] = in[0];
	track_begin(&b);
	demo_frame(s2, b.fb, &b.m, 11, in, 2);
	track_end(&b, &dl);
	CHECK(dl.changed > 0 && dl.x1 - dl.x0 == 3 * 8 && dl.x0 == x0 + 3 * 8,
	    "backspace changed %u..%u", dl.x0, dl.x1);
	CHECK(text_at(&b, x0, y0, "hel", 0xffffff), "backspace ate too much");

	/* Return: a new prompt on the next line */
	in[0] = (struct demo_input){ DEMO_INPUT_KEY, 0xff0d, 1, 0 };
	demo_frame(s2, b.fb, &b.m, 12, in, 1);
	CHECK(text_at(&b, x0 - 15 * 8, y0 + 16, "demo", 0x8ae234),
	    "no prompt after Return");
	fb_free(&a);
	fb_free(&b);
	free(s1);
	free(s2);
}

static void
test_names(void)
{
	uint32_t wl;

	for (wl = 0; wl < DEMO_NWORKLOADS; wl++)
		CHECK(demo_workload_parse(demo_workload_name(wl)) == (int)wl,
		    "workload %u name", wl);
	CHECK(demo_workload_parse("nonsense") == -1, "parse nonsense");
	CHECK(demo_workload_parse("") == -1, "parse empty");
}

/* --------------------------------------------------------------- dumping */

static int
dump_ppm(const struct fbuf *b, const char *path)
{
	FILE *fp = fopen(path, "wb");
	uint32_t x, y, v;

	if (fp == NULL)
		return -1;
	fprintf(fp, "P6\n%u %u\n255\n", b->m.width, b->m.height);
	for (y = 0; y < b->m.height; y++)
		for (x = 0; x < b->m.width; x++) {
			v = px(b, x, y);
			fputc((int)(v >> 16) & 255, fp);
			fputc((int)(v >> 8) & 255, fp);
			fputc((int)v & 255, fp);
		}
	return fclose(fp);
}

static int
dump(const char *dir, uint32_t w, uint32_t h)
{
	struct demo_state *st = state_new();
	struct demo_input in[8];
	struct fbuf b;
	char path[4096];
	uint32_t wl, n, i;
	uint64_t f;
	const char *typed = "ls -la";

	if (fb_new(&b, w, h, w * 4) != 0)
		return 1;
	for (wl = 0; wl < DEMO_NWORKLOADS; wl++) {
		demo_start(st, b.fb, &b.m, wl, 1);
		for (f = 0; f < 150; f++) {
			n = 0;
			if (f == 100)
				in[n++] = (struct demo_input){ DEMO_INPUT_POINTER,
				    w * 3 / 5, h * 9 / 20, 0 };
			if (f >= 110 && f < 110 + strlen(typed))
				in[n++] = (struct demo_input){ DEMO_INPUT_KEY,
				    (uint32_t)typed[f - 110], 1, 0 };
			demo_frame(st, b.fb, &b.m, f, in, n);
		}
		snprintf(path, sizeof(path), "%s/%s.ppm", dir,
		    demo_workload_name(wl));
		if (dump_ppm(&b, path) != 0) {
			perror(path);
			return 1;
		}
		printf("%s\n", path);
		(void)i;
	}
	fb_free(&b);
	free(st);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct sigaction sa;
	uint32_t wl, w = 1280, h = 800;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && strcmp(argv[1], "--dump") == 0) {
		if (argc >= 4 && sscanf(argv[3], "%ux%u", &w, &h) != 2)
			return 2;
		return dump(argv[2], w, h);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL) != 0) {
		perror("sigaction");
		return 99;
	}

	test_names();
	for (wl = 0; wl < DEMO_NWORKLOADS; wl++) {
		test_workload(wl, 1280, 800, 5120);
		test_workload(wl, 1024, 768, 4099);	/* unaligned pixels */
	}
	test_sizes();
	test_determinism();
	test_pointer();
	test_typing_input();

	free(trk_written);
	if (failures > 0) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("test-render: all checks passed\n");
	return 0;
}
