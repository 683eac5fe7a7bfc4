/*
 * fuzz-xen: the Xen backend's parsers of guest- and QEMU-controlled text.
 * The first octet picks the target: even -> the mode string (guest
 * writable xenstore key), odd -> QEMU's query-pci answer.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qmp.h"
#include "xenmode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct backend_mode m;
	uint64_t a, s;
	char why[160];

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0)
		xenmode_parse((const char *)data + 1, size - 1, 16u << 20, &m,
		    why, sizeof(why));
	else
		qmp_parse_vga_bar((const char *)data + 1, size - 1, &a, &s,
		    why, sizeof(why));
	return 0;
}
