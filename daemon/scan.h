/*
 * scan.h - turn a dirty-page bitmap into the rectangles that really changed.
 *
 * The pipeline for one scan (see docs/SCAN-POLICY.md):
 *   dirty pages (read and clear, already taken by the caller)
 *   -> runs of consecutive dirty pages -> the pixel spans each run covers
 *   -> compare each span, one tile column at a time, with the shadow
 *   -> copy the segments that differ into the shadow, mark their tiles
 *   -> merge marked tiles into rectangles.
 *
 * The shadow is the only buffer the VNC encoder reads: guest memory is never
 * handed to the encoder, so a guest writing while we encode cannot tear an
 * update, and a write racing with our copy is reported by the next bitmap.
 *
 * Guest memory is read-only to us and hostile: its contents are only ever
 * compared and copied, never interpreted.  The geometry comes from a
 * validated mode (lfbshm's check or the Xen backend's), and scan_init checks
 * it again against the mapping size.
 *
 * Error convention: functions returning int return 0 on success and a
 * negative errno value on failure.
 */
#ifndef LFBVNC_SCAN_H
#define LFBVNC_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCAN_PAGE_SHIFT		12
#define SCAN_PAGE_SIZE		(1u << SCAN_PAGE_SHIFT)
/* Tile edge in pixels; bench/scan-tiles measured 16, 32, 64 and 128. */
#define SCAN_DEFAULT_TILE	32u

struct scan_geom {
	uint32_t width;		/* pixels */
	uint32_t height;	/* pixels */
	uint32_t stride;	/* octets per guest line */
	uint32_t bpp;		/* octets per pixel: 2, 3 or 4 */
	uint64_t offset;	/* octets from the mapping start to (0, 0) */
	uint64_t map_size;	/* octets of guest memory mapped */
	uint32_t tile;		/* tile edge in pixels, 0 = default */
};

struct scan_rect {
	uint32_t x, y, w, h;	/* pixels */
};

struct scan_stats {
	uint64_t scans;
	uint64_t pages;		/* dirty pages looked at */
	uint64_t bytes_compared;
	uint64_t bytes_copied;
	uint64_t tiles;		/* tiles found changed */
};

struct scanner {
	struct scan_geom g;
	uint32_t shadow_bpp;	/* 4 for 24-bit guests (converted), else bpp */
	uint32_t shadow_stride;	/* octets; width * shadow_bpp */
	uint8_t *shadow;	/* height * shadow_stride octets, owned */
	uint32_t tiles_x, tiles_y;
	uint32_t tile_words;	/* 64-bit words per tile row in `tiles' */
	uint64_t *tiles;	/* one bit per tile, row-major, owned */
	uint32_t *run_x0;	/* scratch for rectangle merging, owned */
	uint32_t *run_x1;
	uint32_t *open_y;
	struct scan_stats stats;
};

/* Validate g and allocate the shadow (zeroed) and tile maps. */
int scan_init(struct scanner *s, const struct scan_geom *g);
void scan_fini(struct scanner *s);

/* Number of 4 KiB pages that hold pixels: the bitmap must cover them. */
size_t scan_npages(const struct scan_geom *g);

/*
 * Compare the pages marked in `dirty' (bit p of word p / 64 is page p of
 * the mapping; npages bits) or, when all is true, every page, with the
 * shadow; copy what changed; mark changed tiles.  Returns the number of
 * tiles newly marked (>= 0).  Marks accumulate until scan_take_rects.
 */
int scan_pages(struct scanner *s, const uint8_t *fb, const uint64_t *dirty,
    size_t npages, bool all);

/* Mark every tile changed (a client asked for a full refresh). */
void scan_mark_all(struct scanner *s);

/*
 * Merge the marked tiles into at most max rectangles (max >= 1), clear the
 * marks, and return how many were written.  Rectangles never overlap; when
 * the exact tile set needs more than max, each tile row's changed tiles
 * are widened to one span, and if that is still too many, rows are joined
 * into bands: the result always covers every changed tile.
 */
size_t scan_take_rects(struct scanner *s, struct scan_rect *out, size_t max);

#endif /* LFBVNC_SCAN_H */
