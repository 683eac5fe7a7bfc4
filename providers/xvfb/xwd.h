/*
 * xwd.h - parse the XWD header of an X server's -fbdir screen file.
 *
 * Xvfb -fbdir DIR keeps each screen in DIR/Xvfb_screenN, an X Window Dump
 * that it maps MAP_SHARED and draws into:
 *
 *   0             header_size        + ncolors * 12      + stride * height
 *   +-------------+------------------+-------------------+
 *   | 25 x CARD32 | window name, NUL | XWDColor[ncolors] | pixels ...
 *   | big-endian  | (any length)     | 12 octets each    |
 *   +-------------+------------------+-------------------+
 *
 * header_size depends on the window name ("Xvfb <hostname>:<display>.<n>")
 * and ncolors on the visual, so the pixel offset is always computed, never
 * assumed.  The file is treated as hostile: every field is bounded and
 * every sum and product is overflow-checked before it is used.
 *
 * Only what lfbshm can carry without conversion is accepted: ZPixmap,
 * depth 24 in 32 bits per pixel, TrueColor with 8-bit channel masks,
 * LSBFirst pixels (the protocol is little-endian only).
 *
 * Error convention: functions returning int return 0 on success and a
 * negative errno value on failure: -EINVAL for a malformed or inconsistent
 * header, -EOPNOTSUPP for a well-formed dump in a layout lfbshm cannot
 * export.  A one-line reason for people goes into why when it is given.
 */
#ifndef LFBVNC_XWD_H
#define LFBVNC_XWD_H

#include <stddef.h>
#include <stdint.h>

#define XWD_HEADER_FIXED	100	/* 25 CARD32 fields */
#define XWD_HEADER_MAX		4096	/* fixed part + window name: far
					   more than any server writes */
#define XWD_NCOLORS_MAX		65536	/* a 16-bit colormap at most */
#define XWD_COLOR_SIZE		12	/* sizeof XWDColor in the file */

struct xwd_info {
	uint32_t width;		/* pixels */
	uint32_t height;	/* pixels */
	uint32_t stride;	/* octets from one line to the next */
	uint32_t format;	/* LFBSHM_FORMAT_* */
	uint32_t header_size;	/* octets of header + window name */
	uint32_t ncolors;	/* XWDColor entries after the header */
	uint64_t pixel_offset;	/* file offset of pixel (0, 0) */
	uint64_t pixel_size;	/* stride * height */
};

/*
 * Parse the header in buf (the first buflen octets of a file of
 * file_size octets; buflen >= XWD_HEADER_FIXED is enough, the colormap and
 * the name are not read).  On success *out describes a pixel array that
 * lies entirely within file_size.
 */
int xwd_parse(const void *buf, size_t buflen, uint64_t file_size,
    struct xwd_info *out, char *why, size_t whylen);

#endif /* LFBVNC_XWD_H */
