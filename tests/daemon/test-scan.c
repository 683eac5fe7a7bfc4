/*
 * test-scan: the scanner against a reference.  Random geometries (padded
 * strides, unaligned offsets, 16/24/32-bit pixels, several tile sizes);
 * random writes; an exact dirty-page bitmap computed from the bytes
 * written.  After each scan the shadow must equal the framebuffer, every
 * changed pixel must lie in a returned rectangle, rectangles must be in
 * bounds and disjoint, and the rectangle cap must hold.  A negative
 * control drops one dirty page and must be caught by the same check.
 */
#include "scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

static uint32_t
pixel_fb(const struct scanner *s, const uint8_t *fb, uint32_t x, uint32_t y)
{
	const uint8_t *p = fb + s->g.offset + (uint64_t)y * s->g.stride +
	    (uint64_t)x * s->g.bpp;

	switch (s->g.bpp) {
	case 2: return p[0] | p[1] << 8;
	case 3: return p[0] | p[1] << 8 | (uint32_t)p[2] << 16;
	default: return p[0] | p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
	}
}

static uint32_t
pixel_shadow(const struct scanner *s, uint32_t x, uint32_t y)
{
	const uint8_t *p = s->shadow + (size_t)y * s->shadow_stride +
	    (size_t)x * s->shadow_bpp;

	if (s->shadow_bpp == 2)
		return p[0] | p[1] << 8;
	return p[0] | p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
mark(uint64_t *dirty, uint64_t byte)
{
	uint64_t pg = byte >> SCAN_PAGE_SHIFT;

	dirty[pg / 64] |= 1ull << (pg % 64);
}

/* Write random values to a random rectangle (or pixel); mark pages. */
static void
scribble(const struct scanner *s, uint8_t *fb, uint8_t *changed,
    uint64_t *dirty, int same)
{
	uint32_t w = 1 + rnd(rnd(2) ? 8 : s->g.width),
	    h = 1 + rnd(rnd(2) ? 4 : s->g.height);
	uint32_t x0 = rnd(s->g.width), y0 = rnd(s->g.height), x, y, b;

	if (x0 + w > s->g.width)
		w = s->g.width - x0;
	if (y0 + h > s->g.height)
		h = s->g.height - y0;
	for (y = y0; y < y0 + h; y++) {
		for (x = x0; x < x0 + w; x++) {
			uint64_t o = s->g.offset + (uint64_t)y * s->g.stride +
			    (uint64_t)x * s->g.bpp;
			uint32_t v = same ? pixel_fb(s, fb, x, y) : (uint32_t)rng;

			if (s->g.bpp == 3)
				v &= 0xffffff;
			for (b = 0; b < s->g.bpp; b++)
				fb[o + b] = (uint8_t)(v >> (8 * b));
			mark(dirty, o);
			mark(dirty, o + s->g.bpp - 1);
			if (v != pixel_shadow(s, x, y))
				changed[(size_t)y * s->g.width + x] = 1;
		}
	}
}

/* Returns the number of mismatching pixels between shadow and fb. */
static size_t
compare_all(const struct scanner *s, const uint8_t *fb)
{
	size_t bad = 0;
	uint32_t x, y;

	for (y = 0; y < s->g.height; y++)
		for (x = 0; x < s->g.width; x++)
			if (pixel_fb(s, fb, x, y) != pixel_shadow(s, x, y))
				bad++;
	return bad;
}

static void
check_rects(const struct scanner *s, const struct scan_rect *r, size_t n,
    size_t max, const uint8_t *changed)
{
	uint8_t *cover = calloc((size_t)s->g.width * s->g.height, 1);
	size_t i;
	uint32_t x, y;

	CHECK(n <= max, "%zu rects > cap %zu", n, max);
	for (i = 0; i < n; i++) {
		CHECK(r[i].w > 0 && r[i].h > 0, "empty rect");
		CHECK(r[i].x + r[i].w <= s->g.width &&
		    r[i].y + r[i].h <= s->g.height, "rect out of bounds");
		for (y = r[i].y; y < r[i].y + r[i].h && y < s->g.height; y++)
			for (x = r[i].x; x < r[i].x + r[i].w &&
			    x < s->g.width; x++) {
				CHECK(!cover[(size_t)y * s->g.width + x],
				    "rects overlap at %u,%u", x, y);
				cover[(size_t)y * s->g.width + x] = 1;
			}
	}
	for (y = 0; y < s->g.height; y++)
		for (x = 0; x < s->g.width; x++)
			if (changed[(size_t)y * s->g.width + x] &&
			    !cover[(size_t)y * s->g.width + x]) {
				CHECK(0, "changed pixel %u,%u not covered", x,
				    y);
				goto out;
			}
out:
	free(cover);
}

static void
run_geometry(uint32_t width, uint32_t height, uint32_t bpp, uint32_t pad,
    uint32_t offset, uint32_t tile, int rounds)
{
	struct scanner s;
	struct scan_geom g = { width, height, width * bpp + pad, bpp, offset,
	    0, tile };
	uint64_t *dirty;
	uint8_t *fb, *changed;
	struct scan_rect rects[64];
	size_t npages, n, max;
	int r, k, lost = 0;

	g.map_size = ((offset + (uint64_t)g.stride * height + 4095) & ~4095ull)
	    + 4096;
	CHECK(scan_init(&s, &g) == 0, "scan_init %ux%ux%u", width, height,
	    bpp);
	npages = scan_npages(&g);
	fb = malloc(g.map_size);
	dirty = calloc((npages + 63) / 64 + 1, 8);
	changed = calloc((size_t)width * height, 1);
	for (size_t i = 0; i < g.map_size; i++)
		fb[i] = (uint8_t)rnd(256);

	/* The first scan brings everything in. */
	scan_pages(&s, fb, NULL, 0, true);
	n = scan_take_rects(&s, rects, 64);
	CHECK(compare_all(&s, fb) == 0, "initial full scan");
	CHECK(n >= 1, "initial full scan gave no rectangle");

	for (r = 0; r < rounds; r++) {
		int nw = 1 + (int)rnd(6);

		memset(dirty, 0, ((npages + 63) / 64 + 1) * 8);
		memset(changed, 0, (size_t)width * height);
		for (k = 0; k < nw; k++)
			scribble(&s, fb, changed, dirty, rnd(5) == 0);
		/* Single-byte pokes: a pixel split across a page edge. */
		for (k = rnd(3); k > 0; k--) {
			uint32_t x = rnd(width), y = rnd(height);
			uint64_t o = offset + (uint64_t)g.stride * y +
			    (uint64_t)x * bpp + rnd(bpp);

			fb[o] = (uint8_t)rng;
			mark(dirty, o);
			if (pixel_fb(&s, fb, x, y) != pixel_shadow(&s, x, y))
				changed[(size_t)y * width + x] = 1;
		}
		/* The last byte before a page edge: the page after is clean. */
		if (npages > 1 && rnd(2)) {
			uint64_t o = ((uint64_t)(1 + rnd((uint32_t)npages - 1))
			    << SCAN_PAGE_SHIFT) - 1;

			if (o >= offset && (o - offset) % g.stride <
			    (uint64_t)width * bpp) {
				uint32_t y = (uint32_t)((o - offset) / g.stride);
				uint32_t x = (uint32_t)((o - offset) %
				    g.stride / bpp);

				fb[o] ^= 0x81;
				mark(dirty, o);
				if (y < height && pixel_fb(&s, fb, x, y) !=
				    pixel_shadow(&s, x, y))
					changed[(size_t)y * width + x] = 1;
			}
		}
		/* Bytes outside the pixels (padding) must never matter. */
		if (pad && rnd(2)) {
			uint64_t o = offset + (uint64_t)g.stride * rnd(height) +
			    (uint64_t)width * bpp;
			fb[o] ^= 0xff;
			mark(dirty, o);
		}
		max = 1 + rnd(rnd(2) ? 4 : 64);
		scan_pages(&s, fb, dirty, npages, false);
		n = scan_take_rects(&s, rects, max);
		CHECK(compare_all(&s, fb) == 0,
		    "shadow differs after round %d (%ux%ux%u tile %u)", r,
		    width, height, bpp, tile);
		check_rects(&s, rects, n, max, changed);
	}

	/*
	 * Negative control: a changed page the bitmap does not report is
	 * not seen, and the comparison above catches that.
	 */
	memset(dirty, 0, ((npages + 63) / 64 + 1) * 8);
	memset(changed, 0, (size_t)width * height);
	{
		uint64_t o = offset + (uint64_t)g.stride * (height / 2) +
		    (uint64_t)bpp * (width / 2);
		fb[o] ^= 0x5a;
		scan_pages(&s, fb, dirty, npages, false);
		lost = compare_all(&s, fb) != 0;
		CHECK(lost, "negative control: unreported write went unseen "
		    "by the check");
		/* Reporting the page again repairs it. */
		mark(dirty, o);
		scan_pages(&s, fb, dirty, npages, false);
		CHECK(compare_all(&s, fb) == 0, "repair after negative control");
		scan_take_rects(&s, rects, 64);
	}

	/* An identical rewrite of dirty pages yields no tiles. */
	memset(dirty, 0xff, ((npages + 63) / 64) * 8);
	CHECK(scan_pages(&s, fb, dirty, npages, false) == 0,
	    "identical pages produced tiles");
	CHECK(scan_take_rects(&s, rects, 64) == 0, "identical pages rects");

	scan_fini(&s);
	free(fb);
	free(dirty);
	free(changed);
}

static void
test_bad_geometry(void)
{
	struct scanner s;
	struct scan_geom g = { 640, 480, 2560, 4, 0, 640 * 480 * 4, 0 };

	CHECK(scan_init(&s, &g) == 0, "good geometry refused");
	scan_fini(&s);
	g.map_size--;
	CHECK(scan_init(&s, &g) < 0, "geometry past the mapping accepted");
	g.map_size++;
	g.stride = 2559;
	CHECK(scan_init(&s, &g) < 0, "short stride accepted");
	g.stride = 2560;
	g.bpp = 5;
	CHECK(scan_init(&s, &g) < 0, "bpp 5 accepted");
	g.bpp = 4;
	g.width = 0;
	CHECK(scan_init(&s, &g) < 0, "width 0 accepted");
	g.width = 640;
	g.offset = ~0ull;
	CHECK(scan_init(&s, &g) < 0, "huge offset accepted");
	g.offset = 0;
	g.tile = 24;
	CHECK(scan_init(&s, &g) < 0, "tile 24 accepted");
}

/* A full-width band of rows maps to whole tile rows, merged. */
static void
test_merge_shapes(void)
{
	struct scanner s;
	struct scan_geom g = { 256, 256, 1024, 4, 0, 256 * 1024, 32 };
	struct scan_rect r[16];
	uint8_t *fb = calloc(1, g.map_size);
	size_t n;

	scan_init(&s, &g);
	scan_pages(&s, fb, NULL, 0, true);
	scan_take_rects(&s, r, 16);
	/* Change rows 40..99 over the full width: one rectangle. */
	memset(fb + 40 * 1024, 1, 60 * 1024);
	scan_pages(&s, fb, NULL, 0, true);
	n = scan_take_rects(&s, r, 16);
	CHECK(n == 1 && r[0].x == 0 && r[0].y == 32 && r[0].w == 256 &&
	    r[0].h == 96, "band: n=%zu %u,%u %ux%u", n, r[0].x, r[0].y,
	    r[0].w, r[0].h);
	/* A checkerboard of tiles, capped at 2 rectangles, still covered. */
	for (int ty = 0; ty < 8; ty++)
		for (int tx = (ty & 1); tx < 8; tx += 2)
			fb[(ty * 32 + 5) * 1024 + tx * 32 * 4] ^= 0xff;
	scan_pages(&s, fb, NULL, 0, true);
	n = scan_take_rects(&s, r, 2);
	CHECK(n <= 2 && n >= 1, "checkerboard capped: n=%zu", n);
	CHECK(r[0].y == 0 && (n == 1 ? r[0].h == 256 :
	    r[0].h + r[1].h == 256), "checkerboard bands cover all rows");
	scan_fini(&s);
	free(fb);
}

int
main(void)
{
	static const uint32_t tiles[] = { 16, 32, 64 };
	int i;

	test_bad_geometry();
	test_merge_shapes();
	for (i = 0; i < 12; i++) {
		uint32_t bpp = (uint32_t[]){ 2, 3, 4 }[i % 3];

		run_geometry(17 + rnd(300), 1 + rnd(200), bpp,
		    rnd(2) ? rnd(100) : 0, rnd(2) ? rnd(5000) : 0,
		    tiles[rnd(3)], 60);
	}
	run_geometry(1920, 1080, 4, 0, 0, 32, 10);
	run_geometry(1024, 768, 4, 0, 3232, 32, 10);	/* an XWD file */
	if (failures) {
		fprintf(stderr, "test-scan: %d failures\n", failures);
		return 1;
	}
	printf("test-scan: ok\n");
	return 0;
}
