/*
 * fuzz-xwd.c - fuzz the XWD header parser (providers/xvfb/xwd.c).
 *
 * The input is parsed twice: as a whole file (file size = input size), and
 * as an 8-octet little-endian claimed file size followed by the header, so
 * that small inputs also reach the layout checks against large files.
 * Whatever the parser accepts must describe pixels inside the file.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lfbshm.h"
#include "xwd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const void *buf, size_t len, uint64_t file_size)
{
	struct xwd_info xi;
	char why[128];

	memset(&xi, 0xa5, sizeof(xi));
	if (xwd_parse(buf, len, file_size, &xi, why, sizeof(why)) != 0) {
		/* The reason must be a terminated string. */
		if (memchr(why, '\0', sizeof(why)) == NULL)
			abort();
		return;
	}
	if (xi.width == 0 || xi.width > LFBSHM_MAX_WIDTH ||
	    xi.height == 0 || xi.height > LFBSHM_MAX_HEIGHT ||
	    (uint64_t)xi.stride < (uint64_t)xi.width * 4 ||
	    lfbshm_format_bpp(xi.format) != 4 ||
	    xi.header_size < XWD_HEADER_FIXED ||
	    xi.pixel_size != (uint64_t)xi.stride * xi.height ||
	    xi.pixel_offset != xi.header_size +
	    (uint64_t)xi.ncolors * XWD_COLOR_SIZE ||
	    xi.pixel_offset > file_size ||
	    xi.pixel_size > file_size - xi.pixel_offset)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t claimed = 0;
	size_t i;

	/* Both libFuzzer and the replay driver pass an exactly sized heap
	   buffer, so ASan catches any read past the end. */
	check(data, size, size);

	if (size >= 8) {
		for (i = 0; i < 8; i++)
			claimed |= (uint64_t)data[i] << (8 * i);
		check(data + 8, size - 8, claimed);
	}
	return 0;
}
