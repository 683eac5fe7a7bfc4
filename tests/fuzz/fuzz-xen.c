/*
 * fuzz-xen: the Xen backend's parsers of guest- and QEMU-controlled text.
 * The first octet picks the target: odd -> QEMU's query-pci answer;
 * 2 modulo 4 -> the xenstore VRAM size (memory/videoram), and when it is
 * accepted the mode "1024x768x32" against it; 0 modulo 4 -> the mode
 * string (the guest-writable xenstore key data/lfbvnc/mode, and the xl
 * key lfbvnc_mode).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qmp.h"
#include "xenmode.h"

/* The backend's bound (XEN_MAX_VRAM in daemon/backend-xen.c). */
#define VRAM_MAX	(1ull << 30)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct backend_mode m;
	uint64_t a, s, vram;
	char why[160];

	if (size < 1)
		return 0;
	if ((data[0] & 3) == 0)
		xenmode_parse((const char *)data + 1, size - 1, 16u << 20, &m,
		    why, sizeof(why));
	else if ((data[0] & 3) == 2) {
		if (xenmode_parse_videoram((const char *)data + 1, size - 1,
		    VRAM_MAX, &vram) == 0) {
			/* What read_videoram hands the mapping code. */
			if (vram == 0 || vram > VRAM_MAX || vram % 4096 != 0)
				abort();
			if (xenmode_parse("1024x768x32", 11, vram, &m, why,
			    sizeof(why)) == 0 &&
			    (uint64_t)m.stride * (m.height - 1) +
			    (uint64_t)m.width * m.bpp > vram)
				abort();
		}
	} else
		qmp_parse_vga_bar((const char *)data + 1, size - 1, &a, &s,
		    why, sizeof(why));
	return 0;
}
