/* xenmode.c - parse and check a guest's declared display mode. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lfbshm.h"
#include "xenmode.h"

/* Decimal digits only, no sign, no leading blanks; at most 9 digits. */
static int
number(const char **p, const char *end, uint32_t *out)
{
	uint32_t v = 0;
	int n = 0;

	while (*p < end && **p >= '0' && **p <= '9') {
		if (++n > 9)
			return -1;
		v = v * 10 + (uint32_t)(**p - '0');
		(*p)++;
	}
	if (n == 0)
		return -1;
	*out = v;
	return 0;
}

/* Trailing blanks and NULs (xenstore values may carry them). */
static size_t
trim(const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == '\0' || s[len - 1] == '\n' ||
	    s[len - 1] == ' '))
		len--;
	return len;
}

int
xenmode_parse_videoram(const char *s, size_t len, uint64_t max,
    uint64_t *size)
{
	uint64_t kib = 0;
	size_t i;

	/*
	 * Not strtoull: it takes blanks and a sign ("-4" is a huge size),
	 * and kib * 1024 could wrap to a small number that passes the
	 * bound.
	 */
	len = trim(s, len);
	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		kib = kib * 10 + (uint64_t)(s[i] - '0');
		if (kib > max / 1024)
			return -EINVAL;
	}
	if (kib == 0 || kib % 4 != 0)
		return -EINVAL;
	*size = kib * 1024;
	return 0;
}

int
xenmode_parse(const char *s, size_t len, uint64_t vram_size,
    struct backend_mode *m, char *why, size_t whylen)
{
	const char *p = s, *end;
	uint32_t w, h, bits, stride, bpp;
	uint64_t need;

	len = trim(s, len);
	end = s + len;
	if (len == 0 || len > XENMODE_MAX_LEN) {
		snprintf(why, whylen, "mode must be WxHxBPP[@stride], at most "
		    "%d characters", XENMODE_MAX_LEN);
		return -EINVAL;
	}
	if (number(&p, end, &w) < 0 || p == end || *p++ != 'x' ||
	    number(&p, end, &h) < 0 || p == end || *p++ != 'x' ||
	    number(&p, end, &bits) < 0)
		goto syntax;
	bpp = bits / 8;
	stride = 0;
	if (p < end) {
		if (*p++ != '@' || number(&p, end, &stride) < 0 || p != end)
			goto syntax;
	}
	if (w == 0 || h == 0 || w > LFBSHM_MAX_WIDTH || h > LFBSHM_MAX_HEIGHT) {
		snprintf(why, whylen, "mode %ux%u: width and height must be "
		    "1..%u", w, h, LFBSHM_MAX_WIDTH);
		return -EINVAL;
	}
	switch (bits) {
	case 16:
		m->format = LFBSHM_FORMAT_RGB565;
		break;
	case 24:
		m->format = LFBSHM_FORMAT_RGB888;
		break;
	case 32:
		m->format = LFBSHM_FORMAT_XRGB8888;
		break;
	default:
		snprintf(why, whylen, "mode: %u bits per pixel; 16, 24 or 32 "
		    "are supported", bits);
		return -EINVAL;
	}
	if (stride == 0)
		stride = w * bpp;
	if ((uint64_t)stride < (uint64_t)w * bpp) {
		snprintf(why, whylen, "mode: stride %u is shorter than a line "
		    "(%u octets)", stride, w * bpp);
		return -EINVAL;
	}
	need = (uint64_t)stride * (h - 1) + (uint64_t)w * bpp;
	if (need > vram_size) {
		snprintf(why, whylen, "mode %ux%ux%u needs %llu octets; the "
		    "VRAM has %llu", w, h, bits, (unsigned long long)need,
		    (unsigned long long)vram_size);
		return -EINVAL;
	}
	m->width = w;
	m->height = h;
	m->bpp = bpp;
	m->stride = stride;
	m->offset = 0;
	return 0;
syntax:
	snprintf(why, whylen, "mode must look like 1024x768x32 or "
	    "1024x768x32@4096");
	return -EINVAL;
}
