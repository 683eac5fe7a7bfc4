/* scan.c - dirty pages to changed rectangles; see scan.h. */
#include "scan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_MAX_DIM	16384u

size_t
scan_npages(const struct scan_geom *g)
{
	uint64_t end;

	end = g->offset + (uint64_t)g->stride * (g->height - 1) +
	    (uint64_t)g->width * g->bpp;
	return (size_t)((end + SCAN_PAGE_SIZE - 1) >> SCAN_PAGE_SHIFT);
}

int
scan_init(struct scanner *s, const struct scan_geom *g)
{
	uint64_t end;
	uint32_t tile;

	memset(s, 0, sizeof(*s));
	tile = g->tile != 0 ? g->tile : SCAN_DEFAULT_TILE;
	if (g->width == 0 || g->height == 0 || g->width > SCAN_MAX_DIM ||
	    g->height > SCAN_MAX_DIM)
		return -EINVAL;
	if (g->bpp != 2 && g->bpp != 3 && g->bpp != 4)
		return -EINVAL;
	if (tile < 8 || tile > 256 || (tile & (tile - 1)) != 0)
		return -EINVAL;
	if ((uint64_t)g->stride < (uint64_t)g->width * g->bpp)
		return -EINVAL;
	/* All terms are below 2^46: no overflow in 64 bits. */
	if (g->offset > g->map_size)
		return -EINVAL;
	end = g->offset + (uint64_t)g->stride * (g->height - 1) +
	    (uint64_t)g->width * g->bpp;
	if (end > g->map_size)
		return -EINVAL;

	s->g = *g;
	s->g.tile = tile;
	/* RFB has no 24-bit pixel: such guests are widened to 32 bits. */
	s->shadow_bpp = g->bpp == 3 ? 4 : g->bpp;
	s->shadow_stride = g->width * s->shadow_bpp;
	s->tiles_x = (g->width + tile - 1) / tile;
	s->tiles_y = (g->height + tile - 1) / tile;
	s->tile_words = (s->tiles_x + 63) / 64;

	s->shadow = calloc(g->height, s->shadow_stride);
	s->tiles = calloc((size_t)s->tile_words * s->tiles_y, sizeof(uint64_t));
	s->run_x0 = calloc(s->tiles_x + 1, sizeof(uint32_t));
	s->run_x1 = calloc(s->tiles_x + 1, sizeof(uint32_t));
	s->open_y = calloc(3 * (s->tiles_x + 1), sizeof(uint32_t));
	if (s->shadow == NULL || s->tiles == NULL || s->run_x0 == NULL ||
	    s->run_x1 == NULL ||
	    s->open_y == NULL) {
		scan_fini(s);
		return -ENOMEM;
	}
	return 0;
}

void
scan_fini(struct scanner *s)
{
	free(s->shadow);
	free(s->tiles);
	free(s->run_x0);
	free(s->run_x1);
	free(s->open_y);
	memset(s, 0, sizeof(*s));
}

static inline int
tile_test_and_set(struct scanner *s, uint32_t tx, uint32_t ty)
{
	uint64_t *w = &s->tiles[(size_t)ty * s->tile_words + tx / 64];
	uint64_t bit = 1ull << (tx % 64);

	if (*w & bit)
		return 1;
	*w |= bit;
	return 0;
}

static inline int
tile_is_set(const struct scanner *s, uint32_t tx, uint32_t ty)
{
	return (s->tiles[(size_t)ty * s->tile_words + tx / 64] >> (tx % 64)) &
	    1;
}

/* 24-bit packed B, G, R to 32-bit 0x00RRGGBB; returns 1 if any differed. */
static int
copy_span_24(uint8_t *dst, const uint8_t *src, uint32_t npix)
{
	uint32_t i, v;
	int changed = 0;

	for (i = 0; i < npix; i++) {
		v = src[3 * i] | (uint32_t)src[3 * i + 1] << 8 |
		    (uint32_t)src[3 * i + 2] << 16;
		if (((uint32_t *)(void *)dst)[i] != v) {
			((uint32_t *)(void *)dst)[i] = v;
			changed = 1;
		}
	}
	return changed;
}

/*
 * Offset of the first octet where a and b differ, or n when they are equal.
 * memcmp does the work in blocks (it is vectorised; a byte loop is not), and
 * only the block that differs is searched word by word.
 */
static size_t
first_difference(const uint8_t *a, const uint8_t *b, size_t n)
{
	enum { BLOCK = 256 };
	size_t off = 0, len;
	uint64_t wa, wb;

	for (; off < n; off += len) {
		len = n - off < BLOCK ? n - off : BLOCK;
		if (memcmp(a + off, b + off, len) != 0)
			break;
	}
	if (off >= n)
		return n;
	for (; off + 8 <= n; off += 8) {
		memcpy(&wa, a + off, 8);
		memcpy(&wb, b + off, 8);
		if (wa != wb)
			break;
	}
	while (off < n && a[off] == b[off])
		off++;
	return off;
}

/*
 * Pixels [x0, x1) of line y may have changed.  The span is searched for its
 * first difference once: writers often rewrite identical pixels (Xvfb writes
 * 2.4 times what it changes), and an equal span then costs one pass.  The
 * tiles before the first difference are equal and are not read again; the
 * tile holding it is copied without a second compare.
 */
static int
scan_span(struct scanner *s, const uint8_t *fb, uint32_t y, uint32_t x0,
    uint32_t x1)
{
	const uint32_t tile = s->g.tile, bpp = s->g.bpp, sbpp = s->shadow_bpp;
	const uint8_t *src = fb + s->g.offset + (uint64_t)y * s->g.stride;
	uint8_t *dst = s->shadow + (size_t)y * s->shadow_stride;
	uint32_t ty = y / tile, tx, sx, ex, xd = x0;
	int marked = 0, changed;

	s->stats.bytes_compared += (uint64_t)(x1 - x0) * bpp;
	if (bpp == sbpp) {
		size_t d = first_difference(dst + (size_t)x0 * bpp,
		    src + (size_t)x0 * bpp, (size_t)(x1 - x0) * bpp);

		if (d == (size_t)(x1 - x0) * bpp)
			return 0;
		xd = x0 + (uint32_t)(d / bpp);
	}

	for (tx = xd / tile; tx * tile < x1; tx++) {
		sx = tx * tile > x0 ? tx * tile : x0;
		ex = (tx + 1) * tile < x1 ? (tx + 1) * tile : x1;
		if (bpp != sbpp) {
			changed = copy_span_24(dst + (size_t)sx * sbpp,
			    src + (size_t)sx * bpp, ex - sx);
		} else if (tx == xd / tile) {
			/* Holds the first difference: changed for sure. */
			memcpy(dst + (size_t)sx * bpp, src + (size_t)sx * bpp,
			    (size_t)(ex - sx) * bpp);
			changed = 1;
		} else if (tile_is_set(s, tx, ty)) {
			/* Already going out: keep the shadow current. */
			memcpy(dst + (size_t)sx * bpp, src + (size_t)sx * bpp,
			    (size_t)(ex - sx) * bpp);
			changed = 0;
		} else {
			changed = memcmp(dst + (size_t)sx * bpp,
			    src + (size_t)sx * bpp, (size_t)(ex - sx) * bpp);
			if (changed)
				memcpy(dst + (size_t)sx * bpp,
				    src + (size_t)sx * bpp,
				    (size_t)(ex - sx) * bpp);
		}
		if (changed) {
			s->stats.bytes_copied += (uint64_t)(ex - sx) * bpp;
			if (!tile_test_and_set(s, tx, ty))
				marked++;
		}
	}
	return marked;
}

/* Octets [a, b) of the mapping were written: scan the pixels they hold. */
static int
scan_range(struct scanner *s, const uint8_t *fb, uint64_t a, uint64_t b)
{
	const uint64_t off = s->g.offset, stride = s->g.stride;
	const uint64_t rowbytes = (uint64_t)s->g.width * s->g.bpp;
	uint64_t y, ylast, rs, lo, hi;
	int marked = 0;

	if (b <= off)
		return 0;
	y = a <= off ? 0 : (a - off) / stride;
	ylast = (b - 1 - off) / stride;
	if (ylast >= s->g.height)
		ylast = s->g.height - 1;
	for (; y <= ylast; y++) {
		rs = off + y * stride;
		lo = a > rs ? a : rs;
		hi = b < rs + rowbytes ? b : rs + rowbytes;
		if (lo >= hi)
			continue;
		/* A pixel straddling the range edge is scanned whole. */
		marked += scan_span(s, fb, (uint32_t)y,
		    (uint32_t)((lo - rs) / s->g.bpp),
		    (uint32_t)((hi - rs + s->g.bpp - 1) / s->g.bpp));
	}
	return marked;
}

int
scan_pages(struct scanner *s, const uint8_t *fb, const uint64_t *dirty,
    size_t npages, bool all)
{
	size_t need = scan_npages(&s->g), p, first, w;
	uint64_t bits;
	int marked = 0;

	s->stats.scans++;
	if (all) {
		s->stats.pages += need;
		return scan_range(s, fb, 0, (uint64_t)need << SCAN_PAGE_SHIFT);
	}
	if (npages > need)
		npages = need;	/* bits past the pixels cannot matter */

	/* Walk runs of consecutive dirty pages: one range per run. */
	p = 0;
	while (p < npages) {
		w = p / 64;
		bits = dirty[w] >> (p % 64);
		if (bits == 0) {
			/* Skip the rest of this word, then whole clean words. */
			p = (w + 1) * 64;
			while (p < npages && dirty[p / 64] == 0)
				p += 64;
			continue;
		}
		p += (size_t)__builtin_ctzll(bits);
		if (p >= npages)
			break;
		first = p;
		while (p < npages && (dirty[p / 64] >> (p % 64)) & 1)
			p++;
		s->stats.pages += p - first;
		marked += scan_range(s, fb, (uint64_t)first << SCAN_PAGE_SHIFT,
		    (uint64_t)p << SCAN_PAGE_SHIFT);
	}
	return marked;
}

void
scan_mark_all(struct scanner *s)
{
	uint32_t ty, tx;

	for (ty = 0; ty < s->tiles_y; ty++)
		for (tx = 0; tx < s->tiles_x; tx++)
			tile_test_and_set(s, tx, ty);
}

enum merge_mode { MERGE_EXACT, MERGE_ROW_SPAN, MERGE_BANDS };

/*
 * Runs of changed tiles in row ty, as [x0, x1) pairs into run_x0/run_x1.
 * In MERGE_ROW_SPAN mode a row yields at most one run, first to last.
 */
static uint32_t
row_runs(const struct scanner *s, uint32_t ty, enum merge_mode mode,
    uint32_t *x0v, uint32_t *x1v)
{
	uint32_t tx = 0, start, n = 0;

	while (tx < s->tiles_x) {
		if (!tile_is_set(s, tx, ty)) {
			tx++;
			continue;
		}
		start = tx;
		while (tx < s->tiles_x && tile_is_set(s, tx, ty))
			tx++;
		if (mode == MERGE_ROW_SPAN && n > 0) {
			x1v[0] = tx;
		} else {
			x0v[n] = start;
			x1v[n] = tx;
			n++;
		}
	}
	return n;
}

static void
emit(struct scan_rect *out, size_t max, size_t *n, const struct scanner *s,
    uint32_t tx0, uint32_t tx1, uint32_t ty0, uint32_t ty1)
{
	const uint32_t t = s->g.tile;
	uint32_t x = tx0 * t, y = ty0 * t, x1 = tx1 * t, y1 = ty1 * t;

	if (x1 > s->g.width)
		x1 = s->g.width;
	if (y1 > s->g.height)
		y1 = s->g.height;
	if (*n < max)
		out[*n] = (struct scan_rect){ x, y, x1 - x, y1 - y };
	(*n)++;
}

/*
 * Rows whose runs have the same x extents as the open rectangles above
 * them extend those rectangles downwards; others close them.  Returns the
 * number of rectangles needed (writes at most max).
 */
static size_t
merge(struct scanner *s, enum merge_mode mode, struct scan_rect *out,
    size_t max)
{
	uint32_t *ox0 = s->open_y, *ox1 = ox0 + s->tiles_x + 1,
	    *oy0 = ox1 + s->tiles_x + 1;
	uint32_t *rx0 = s->run_x0, *rx1 = s->run_x1;
	uint32_t nopen = 0, nrun, ty, i, j, nkeep;
	size_t n = 0;

	for (ty = 0; ty < s->tiles_y; ty++) {
		nrun = row_runs(s, ty, mode, rx0, rx1);
		/* Both lists are sorted by x0: close what does not continue. */
		nkeep = 0;
		for (i = 0, j = 0; i < nopen; i++) {
			while (j < nrun && rx0[j] < ox0[i])
				j++;
			if (j < nrun && rx0[j] == ox0[i] && rx1[j] == ox1[i]) {
				ox0[nkeep] = ox0[i];
				ox1[nkeep] = ox1[i];
				oy0[nkeep] = oy0[i];
				nkeep++;
				rx1[j] |= 0x80000000u;	/* continued */
			} else {
				emit(out, max, &n, s, ox0[i], ox1[i], oy0[i],
				    ty);
			}
		}
		nopen = nkeep;
		/* New runs open rectangles; keep the list sorted. */
		for (j = 0; j < nrun; j++) {
			if (rx1[j] & 0x80000000u)
				continue;
			for (i = nopen; i > 0 && ox0[i - 1] > rx0[j]; i--) {
				ox0[i] = ox0[i - 1];
				ox1[i] = ox1[i - 1];
				oy0[i] = oy0[i - 1];
			}
			ox0[i] = rx0[j];
			ox1[i] = rx1[j];
			oy0[i] = ty;
			nopen++;
		}
	}
	for (i = 0; i < nopen; i++)
		emit(out, max, &n, s, ox0[i], ox1[i], oy0[i], s->tiles_y);
	return n;
}

/* Last resort: at most max horizontal bands covering every changed row. */
static size_t
merge_bands(struct scanner *s, struct scan_rect *out, size_t max)
{
	uint32_t ty, nrows = 0, per, k, y0 = 0, have = 0, x0 = 0, x1 = 0;
	uint32_t rx0[1], rx1[1];
	size_t n = 0;

	for (ty = 0; ty < s->tiles_y; ty++)
		if (row_runs(s, ty, MERGE_ROW_SPAN, rx0, rx1))
			nrows++;
	per = (uint32_t)((nrows + max - 1) / max);
	k = 0;
	for (ty = 0; ty < s->tiles_y; ty++) {
		if (!row_runs(s, ty, MERGE_ROW_SPAN, rx0, rx1))
			continue;
		if (!have) {
			have = 1;
			y0 = ty;
			x0 = rx0[0];
			x1 = rx1[0];
			k = 0;
		}
		x0 = rx0[0] < x0 ? rx0[0] : x0;
		x1 = rx1[0] > x1 ? rx1[0] : x1;
		if (++k == per) {
			emit(out, max, &n, s, x0, x1, y0, ty + 1);
			have = 0;
		}
	}
	if (have)
		emit(out, max, &n, s, x0, x1, y0, ty);
	return n < max ? n : max;
}

size_t
scan_take_rects(struct scanner *s, struct scan_rect *out, size_t max)
{
	size_t n;

	if (max == 0)
		return 0;
	n = merge(s, MERGE_EXACT, out, max);
	if (n > max)
		n = merge(s, MERGE_ROW_SPAN, out, max);
	if (n > max)
		n = merge_bands(s, out, max);
	memset(s->tiles, 0,
	    (size_t)s->tile_words * s->tiles_y * sizeof(uint64_t));
	return n;
}
