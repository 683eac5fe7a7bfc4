/*
 * xwd.c - a bounded parser for the XWD header of an Xvfb screen file.
 * See xwd.h for the layout and the error convention.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lfbshm.h"
#include "xwd.h"

/* Field indices into the 25 big-endian CARD32s (X11/XWDFile.h order). */
enum {
	F_HEADER_SIZE, F_FILE_VERSION, F_PIXMAP_FORMAT, F_PIXMAP_DEPTH,
	F_PIXMAP_WIDTH, F_PIXMAP_HEIGHT, F_XOFFSET, F_BYTE_ORDER,
	F_BITMAP_UNIT, F_BITMAP_BIT_ORDER, F_BITMAP_PAD, F_BITS_PER_PIXEL,
	F_BYTES_PER_LINE, F_VISUAL_CLASS, F_RED_MASK, F_GREEN_MASK,
	F_BLUE_MASK, F_BITS_PER_RGB, F_COLORMAP_ENTRIES, F_NCOLORS,
	F_WINDOW_WIDTH, F_WINDOW_HEIGHT, F_WINDOW_X, F_WINDOW_Y, F_WINDOW_BW,
	F_NFIELDS
};

_Static_assert(F_NFIELDS * 4 == XWD_HEADER_FIXED, "XWD header size");

#define XWD_FILE_VERSION	7
#define XWD_ZPIXMAP		2
#define XWD_LSBFIRST		0
#define XWD_TRUECOLOR		4

static int
fail(int err, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((__format__(__printf__, 4, 5)));

static int
fail(int err, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* Fields are big-endian whatever the host; read octet by octet so an
   unaligned buffer is fine too. */
static uint32_t
field(const uint8_t *p, int i)
{
	p += (size_t)i * 4;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

int
xwd_parse(const void *buf, size_t buflen, uint64_t file_size,
    struct xwd_info *out, char *why, size_t whylen)
{
	const uint8_t *h = buf;
	uint32_t hsize, width, height, stride, ncolors, format;
	uint32_t r, g, b;
	uint64_t off, size, end;

	if (buf == NULL || buflen < XWD_HEADER_FIXED ||
	    file_size < XWD_HEADER_FIXED)
		return fail(-EINVAL, why, whylen,
		    "XWD header truncated (%zu octets)", buflen);

	if (field(h, F_FILE_VERSION) != XWD_FILE_VERSION)
		return fail(-EINVAL, why, whylen,
		    "XWD file version %u, not %d",
		    field(h, F_FILE_VERSION), XWD_FILE_VERSION);

	hsize = field(h, F_HEADER_SIZE);
	if (hsize < XWD_HEADER_FIXED || hsize > XWD_HEADER_MAX ||
	    hsize > file_size)
		return fail(-EINVAL, why, whylen,
		    "XWD header_size %u out of range", hsize);

	if (field(h, F_PIXMAP_FORMAT) != XWD_ZPIXMAP)
		return fail(-EOPNOTSUPP, why, whylen,
		    "XWD pixmap format %u is not ZPixmap",
		    field(h, F_PIXMAP_FORMAT));

	if (field(h, F_PIXMAP_DEPTH) != 24 || field(h, F_BITS_PER_PIXEL) != 32)
		return fail(-EOPNOTSUPP, why, whylen,
		    "XWD depth %u / %u bpp, need 24 / 32 (run Xvfb with "
		    "-screen 0 WxHx24)", field(h, F_PIXMAP_DEPTH),
		    field(h, F_BITS_PER_PIXEL));

	width = field(h, F_PIXMAP_WIDTH);
	height = field(h, F_PIXMAP_HEIGHT);
	if (width < 1 || width > LFBSHM_MAX_WIDTH ||
	    height < 1 || height > LFBSHM_MAX_HEIGHT)
		return fail(-EINVAL, why, whylen,
		    "XWD size %ux%u out of range", width, height);

	if (field(h, F_XOFFSET) != 0)
		return fail(-EOPNOTSUPP, why, whylen,
		    "XWD xoffset %u, need 0", field(h, F_XOFFSET));

	if (field(h, F_BYTE_ORDER) != XWD_LSBFIRST)
		return fail(-EOPNOTSUPP, why, whylen,
		    "XWD pixels are MSBFirst, need LSBFirst");

	/* Xvfb writes the visual fields when it installs the default
	   colormap; before that they are zero and the file is not ready. */
	if (field(h, F_VISUAL_CLASS) != XWD_TRUECOLOR)
		return fail(-EOPNOTSUPP, why, whylen,
		    "XWD visual class %u, need TrueColor",
		    field(h, F_VISUAL_CLASS));

	r = field(h, F_RED_MASK);
	g = field(h, F_GREEN_MASK);
	b = field(h, F_BLUE_MASK);
	if (r == 0xff0000 && g == 0x00ff00 && b == 0x0000ff)
		format = LFBSHM_FORMAT_XRGB8888;
	else if (r == 0x0000ff && g == 0x00ff00 && b == 0xff0000)
		format = LFBSHM_FORMAT_XBGR8888;
	else
		return fail(-EOPNOTSUPP, why, whylen,
		    "XWD channel masks %06x/%06x/%06x not supported", r, g, b);

	/* A line longer than the pixels plus a page of padding is not
	   something any server pads to; refuse it rather than map it. */
	stride = field(h, F_BYTES_PER_LINE);
	if ((uint64_t)stride < (uint64_t)width * 4 ||
	    (uint64_t)stride > (uint64_t)width * 4 + LFBSHM_PAGE_SIZE)
		return fail(-EINVAL, why, whylen,
		    "XWD bytes_per_line %u does not fit width %u", stride,
		    width);

	ncolors = field(h, F_NCOLORS);
	if (ncolors > XWD_NCOLORS_MAX)
		return fail(-EINVAL, why, whylen,
		    "XWD ncolors %u out of range", ncolors);

	/* The bounds above keep these far from 2^64; check anyway so a
	   change to a bound cannot turn into a wrap. */
	if (__builtin_mul_overflow((uint64_t)ncolors, XWD_COLOR_SIZE, &off) ||
	    __builtin_add_overflow(off, (uint64_t)hsize, &off) ||
	    __builtin_mul_overflow((uint64_t)stride, (uint64_t)height,
	    &size) ||
	    __builtin_add_overflow(off, size, &end))
		return fail(-EINVAL, why, whylen, "XWD layout overflows");

	if (end > file_size)
		return fail(-EINVAL, why, whylen,
		    "XWD pixels end at %llu, past the file's %llu octets",
		    (unsigned long long)end, (unsigned long long)file_size);

	out->width = width;
	out->height = height;
	out->stride = stride;
	out->format = format;
	out->header_size = hsize;
	out->ncolors = ncolors;
	out->pixel_offset = off;
	out->pixel_size = size;
	return 0;
}
