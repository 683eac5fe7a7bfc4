/*
 * marker.h - latency marker pixels.
 *
 * A provider that wants change-to-client latency measured writes the time
 * of a change into a strip of MARKER_PIXELS 32-bit pixels (XRGB8888) at a
 * known position, in the same store sequence as the change itself.  A VNC
 * client decodes the strip from its framebuffer when an update arrives and
 * subtracts: both run on one host and read CLOCK_MONOTONIC.
 *
 * Pixel i (0..7) is 0x00RRGGBB with R = MARKER_MAGIC, G = bits 8i..8i+7
 * of the timestamp (ns), B = MARKER_MAGIC ^ i; any other value means "no
 * marker here".  Lossless encodings only (Raw, ZRLE, Hextile, Zlib).
 */
#ifndef LFBVNC_MARKER_H
#define LFBVNC_MARKER_H

#include <stdint.h>
#include <time.h>

#define MARKER_PIXELS	8
#define MARKER_MAGIC	0xa5u

static inline uint64_t
marker_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Write the marker for time t at px (MARKER_PIXELS consecutive pixels). */
static inline void
marker_encode(uint32_t *px, uint64_t t)
{
	uint32_t i;

	for (i = 0; i < MARKER_PIXELS; i++)
		px[i] = MARKER_MAGIC << 16 | (uint32_t)((t >> (8 * i)) & 0xff)
		    << 8 | (MARKER_MAGIC ^ i);
}

/* 0 and the time in *t when px holds a valid marker, else -1. */
static inline int
marker_decode(const uint32_t *px, uint64_t *t)
{
	uint64_t v = 0;
	uint32_t i;

	for (i = 0; i < MARKER_PIXELS; i++) {
		if ((px[i] >> 16 & 0xff) != MARKER_MAGIC ||
		    (px[i] & 0xff) != (MARKER_MAGIC ^ i) ||
		    (px[i] >> 24) != 0)
			return -1;
		v |= (uint64_t)(px[i] >> 8 & 0xff) << (8 * i);
	}
	*t = v;
	return 0;
}

#endif /* LFBVNC_MARKER_H */
