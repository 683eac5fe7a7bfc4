/*
 * xenmode.h - the display mode of a Xen guest, which Xen does not know.
 *
 * It comes from the xl configuration (lfbvnc_mode = "WxHxBPP[@stride]")
 * and, when a guest agent publishes one, from the guest-writable xenstore
 * key /local/domain/<domid>/data/lfbvnc/mode in the same syntax.  Both
 * are untrusted text: parsed strictly, bounded, and checked against the
 * VRAM so a bad value is a clear error, never an out-of-range read.
 */
#ifndef LFBVNC_XENMODE_H
#define LFBVNC_XENMODE_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

#define XENMODE_MAX_LEN	40
/* The guest's key, relative to /local/domain/<domid>. */
#define XENMODE_KEY	"data/lfbvnc/mode"

/*
 * "1024x768x32", "1280x800x16@2560": width, height (1..16384), bits per
 * pixel (16 -> RGB565, 24 -> RGB888 packed, 32 -> XRGB8888) and an
 * optional stride in octets (>= width * bpp / 8).  The frame must fit in
 * vram_size octets.  0, or -EINVAL with a reason.
 */
int xenmode_parse(const char *s, size_t len, uint64_t vram_size,
    struct backend_mode *m, char *why, size_t whylen);

/*
 * The VRAM size from xenstore (memory/videoram, in KiB): decimal digits
 * only (trailing blanks and NULs as above), not 0, a whole number of
 * 4 KiB pages, and *size (in octets) at most max.  0, or -EINVAL.
 */
int xenmode_parse_videoram(const char *s, size_t len, uint64_t max,
    uint64_t *size);

#endif /* LFBVNC_XENMODE_H */
