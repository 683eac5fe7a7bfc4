/*
 * image.h - the probe's image files: a PNG and PPM writer and readers for
 * what it writes, plus raw XRGB8888 dumps such as a provider's framebuffer.
 *
 * In memory an image is row-major 32-bit pixels 0x00RRGGBB in host order,
 * the same values the probe asks the VNC server for, so a screenshot, a
 * reference and the client framebuffer compare as plain integers.
 *
 * Files are untrusted input: every dimension, length and offset read from
 * one is checked before use, and an image is at most IMAGE_MAX_DIM pixels
 * on a side.  Functions returning int return 0 on success, or -1 after
 * logging why (log.h).
 */
#ifndef LFBVNC_IMAGE_H
#define LFBVNC_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define IMAGE_MAX_DIM	16384u
/* 8K UHD is 33 Mpx: allow twice that, and no more, from a file. */
#define IMAGE_MAX_PIXELS	(1u << 26)

struct image {
	uint32_t	 width;
	uint32_t	 height;
	uint32_t	*px;		/* width * height pixels, owned */
};

/*
 * Write w x h pixels starting at px, stride_px pixels per row, as an 8-bit
 * RGB PNG (filter 0 on every row) or a binary PPM (P6).  image_write picks
 * the format from the name: ".ppm" or ".pnm" is PPM, anything else PNG.
 */
int image_write_png(const char *path, const uint32_t *px, uint32_t w,
    uint32_t h, size_t stride_px);
int image_write_ppm(const char *path, const uint32_t *px, uint32_t w,
    uint32_t h, size_t stride_px);
int image_write(const char *path, const uint32_t *px, uint32_t w,
    uint32_t h, size_t stride_px);

/*
 * Decode a PNG (8-bit RGB or RGBA, not interlaced; every filter type) or a
 * PPM (P6, maxval 255) held in memory.  Alpha is dropped.
 */
int image_decode_png(const uint8_t *buf, size_t len, struct image *img);
int image_decode_ppm(const uint8_t *buf, size_t len, struct image *img);

/*
 * Load a reference image.  spec is either a PNG or PPM file (recognised by
 * its first bytes) or FILE@WxH[+STRIDE][:OFFSET]: W x H little-endian
 * XRGB8888 pixels starting OFFSET octets into FILE, STRIDE octets per row
 * (default W * 4).  The X octet is ignored.
 */
int image_load(const char *spec, struct image *img);

/*
 * Parse the raw form above without opening the file: 0 and *path (to free)
 * when spec has it, 1 when it has not (a plain file name), -1 when it has
 * but a number is out of range.
 */
int image_parse_raw_spec(const char *spec, char **path, uint32_t *w,
    uint32_t *h, uint64_t *stride, uint64_t *offset);

void image_free(struct image *img);

#endif /* LFBVNC_IMAGE_H */
