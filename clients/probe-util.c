/* probe-util.c - lfbvnc-probe's parsers and helpers; see probe-util.h. */
#include "config.h"

#include "probe-util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

/* Parse a decimal number at *s up to max, advancing *s. */
static int
parse_uint(const char **s, uint32_t max, uint32_t *v)
{
	uint64_t n = 0;
	const char *p = *s;

	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > max)
			return -1;
		p++;
	}
	*s = p;
	*v = (uint32_t)n;
	return 0;
}

int
probe_parse_target(const char *arg, struct probe_target *t)
{
	const char *rest = arg, *hs, *he, *after, *p;
	uint32_t n;
	int uri = 0;

	t->host = NULL;
	t->port = PROBE_DEFAULT_PORT;
	if (strncasecmp(rest, "vnc://", 6) == 0) {
		rest += 6;
		uri = 1;
	}
	if (!uri && rest[0] == '/') {
		/* libvncclient connects to a path that is a socket. */
		if ((t->host = strdup(rest)) == NULL)
			goto nomem;
		t->port = 0;
		return 0;
	}
	if (rest[0] == '[') {
		hs = rest + 1;
		if ((he = strchr(hs, ']')) == NULL)
			goto bad;
		after = he + 1;
	} else {
		hs = rest;
		he = hs + strcspn(hs, uri ? ":/?#" : ":");
		after = he;
	}
	if (*after == ':') {
		p = after + 1;
		if (!uri && *p == ':')
			p++;
		if (parse_uint(&p, 65535, &n) == -1)
			goto bad;
		if (*p != '\0' && !(uri && strchr("/?#", *p) != NULL))
			goto bad;
		if (!uri && after[1] != ':' && n < PROBE_MAX_DISPLAY)
			n += PROBE_DEFAULT_PORT;
		if (n == 0)
			goto bad;
		t->port = (int)n;
	} else if (*after != '\0' && !(uri && strchr("/?#", *after) != NULL))
		goto bad;
	if (he == hs)
		t->host = strdup("localhost");
	else
		t->host = strndup(hs, (size_t)(he - hs));
	if (t->host == NULL)
		goto nomem;
	return 0;
bad:
	log_warnx("bad server address \"%s\" (HOST, HOST:DISPLAY, HOST::PORT,"
	    " [V6ADDR]::PORT, vnc://HOST:PORT or /SOCKET)", arg);
	return -1;
nomem:
	log_warn("strdup");
	return -1;
}

void
probe_target_free(struct probe_target *t)
{
	free(t->host);
	t->host = NULL;
}

int
probe_parse_xy(const char *s, uint32_t *x, uint32_t *y)
{
	const char *p = s;

	if (parse_uint(&p, PROBE_MAX_COORD, x) == -1 || *p++ != ',' ||
	    parse_uint(&p, PROBE_MAX_COORD, y) == -1 || *p != '\0') {
		log_warnx("bad position \"%s\" (X,Y)", s);
		return -1;
	}
	return 0;
}

int
probe_parse_region(const char *s, struct probe_rect *r)
{
	const char *p = s;

	if (parse_uint(&p, PROBE_MAX_COORD, &r->x) == -1 || *p++ != ',' ||
	    parse_uint(&p, PROBE_MAX_COORD, &r->y) == -1 || *p++ != ',' ||
	    parse_uint(&p, PROBE_MAX_COORD, &r->w) == -1 || *p++ != ',' ||
	    parse_uint(&p, PROBE_MAX_COORD, &r->h) == -1 || *p != '\0' ||
	    r->w == 0 || r->h == 0) {
		log_warnx("bad region \"%s\" (X,Y,W,H with W, H > 0)", s);
		return -1;
	}
	return 0;
}

int
probe_parse_pixel(const char *s, uint32_t *x, uint32_t *y, uint32_t *rgb)
{
	const char *p = s;
	uint32_t v = 0;
	int i;

	if (parse_uint(&p, PROBE_MAX_COORD, x) == -1 || *p++ != ',' ||
	    parse_uint(&p, PROBE_MAX_COORD, y) == -1 || *p++ != '=')
		goto bad;
	if (*p == '#')
		p++;
	else if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (i = 0; i < 6; i++, p++) {
		if (*p >= '0' && *p <= '9')
			v = v << 4 | (uint32_t)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			v = v << 4 | (uint32_t)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			v = v << 4 | (uint32_t)(*p - 'A' + 10);
		else
			goto bad;
	}
	if (*p != '\0')
		goto bad;
	*rgb = v;
	return 0;
bad:
	log_warnx("bad pixel \"%s\" (X,Y=RRGGBB)", s);
	return -1;
}

int
probe_parse_pointer(const char *s, uint32_t *x, uint32_t *y,
    uint32_t *buttons)
{
	const char *p = s;

	*buttons = 0;
	if (parse_uint(&p, PROBE_MAX_COORD, x) == -1 || *p++ != ',' ||
	    parse_uint(&p, PROBE_MAX_COORD, y) == -1)
		goto bad;
	if (*p == ',') {
		p++;
		if (parse_uint(&p, 255, buttons) == -1)
			goto bad;
	}
	if (*p != '\0')
		goto bad;
	return 0;
bad:
	log_warnx("bad pointer event \"%s\" (X,Y[,BUTTONS])", s);
	return -1;
}

int
probe_parse_seconds(const char *s, double *sec)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0) ||
	    v > 86400) {
		log_warnx("bad number of seconds \"%s\"", s);
		return -1;
	}
	*sec = v;
	return 0;
}

/* X11 keysym names (X11/keysymdef.h) a test is likely to need. */
static const struct {
	const char	*name;
	uint32_t	 sym;
} keysym_names[] = {
	{ "BackSpace", 0xff08 }, { "Tab", 0xff09 }, { "Linefeed", 0xff0a },
	{ "Return", 0xff0d }, { "Enter", 0xff0d }, { "Pause", 0xff13 },
	{ "Escape", 0xff1b }, { "Esc", 0xff1b }, { "Delete", 0xffff },
	{ "Home", 0xff50 }, { "Left", 0xff51 }, { "Up", 0xff52 },
	{ "Right", 0xff53 }, { "Down", 0xff54 }, { "Page_Up", 0xff55 },
	{ "Prior", 0xff55 }, { "Page_Down", 0xff56 }, { "Next", 0xff56 },
	{ "End", 0xff57 }, { "Insert", 0xff63 }, { "Menu", 0xff67 },
	{ "KP_Enter", 0xff8d },
	{ "F1", 0xffbe }, { "F2", 0xffbf }, { "F3", 0xffc0 },
	{ "F4", 0xffc1 }, { "F5", 0xffc2 }, { "F6", 0xffc3 },
	{ "F7", 0xffc4 }, { "F8", 0xffc5 }, { "F9", 0xffc6 },
	{ "F10", 0xffc7 }, { "F11", 0xffc8 }, { "F12", 0xffc9 },
	{ "Shift_L", 0xffe1 }, { "Shift", 0xffe1 }, { "Shift_R", 0xffe2 },
	{ "Control_L", 0xffe3 }, { "Ctrl", 0xffe3 }, { "Control", 0xffe3 },
	{ "Control_R", 0xffe4 }, { "Caps_Lock", 0xffe5 },
	{ "Meta_L", 0xffe7 }, { "Alt_L", 0xffe9 }, { "Alt", 0xffe9 },
	{ "Alt_R", 0xffea }, { "Super_L", 0xffeb }, { "Super", 0xffeb },
	{ "Super_R", 0xffec }, { "space", 0x0020 }, { "plus", 0x002b },
	{ "minus", 0x002d },
};

int
probe_utf8_next(const char **s, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)*s;
	uint32_t c, min;
	int i, len;

	if (p[0] < 0x80) {
		len = 1;
		c = p[0];
		min = 0;
	} else if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		c = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		c = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		c = p[0] & 0x07;
		min = 0x10000;
	} else
		return -1;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;	/* also stops at the NUL */
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*s += len;
	*cp = c;
	return 0;
}

uint32_t
probe_char_keysym(uint32_t cp)
{
	switch (cp) {
	case '\b':
		return 0xff08;
	case '\t':
		return 0xff09;
	case '\n':
	case '\r':
		return 0xff0d;
	case 0x1b:
		return 0xff1b;
	}
	/* Latin-1 keysyms equal the code point; the rest of Unicode maps
	 * to 0x01000000 + code point (X11 keysymdef.h). */
	if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff))
		return cp;
	if (cp >= 0x100 && cp <= 0x10ffff)
		return 0x01000000u | cp;
	return 0;
}

static int
parse_one_key(const char *s, size_t len, uint32_t *sym)
{
	const char *p = s;
	uint32_t cp;
	size_t i;
	char *end;
	unsigned long v;

	/* One character stands for itself. */
	if (probe_utf8_next(&p, &cp) == 0 && (size_t)(p - s) == len) {
		if ((*sym = probe_char_keysym(cp)) != 0)
			return 0;
		return -1;
	}
	for (i = 0; i < sizeof(keysym_names) / sizeof(keysym_names[0]); i++)
		if (strlen(keysym_names[i].name) == len &&
		    strncasecmp(keysym_names[i].name, s, len) == 0) {
			*sym = keysym_names[i].sym;
			return 0;
		}
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		errno = 0;
		v = strtoul(s, &end, 16);
		if (errno == 0 && (size_t)(end - s) == len && v > 0 &&
		    v <= 0x1fffffff) {
			*sym = (uint32_t)v;
			return 0;
		}
	}
	return -1;
}

int
probe_parse_keys(const char *s, uint32_t *keys, size_t max, size_t *n)
{
	const char *p = s, *plus;
	size_t len;

	*n = 0;
	if (*s == '\0')
		goto bad;
	for (;;) {
		/* A '+' that starts a part is the key itself ("Ctrl++"). */
		plus = strchr(*p == '+' ? p + 1 : p, '+');
		len = plus != NULL ? (size_t)(plus - p) : strlen(p);
		if (len == 0 || *n == max || parse_one_key(p, len,
		    &keys[*n]) == -1)
			goto bad;
		(*n)++;
		if (plus == NULL)
			break;
		p = plus + 1;
	}
	return 0;
bad:
	log_warnx("bad key \"%s\" (a keysym name such as Return or "
	    "Control_L, 0xHEX, or one character; '+' joins a chord of at "
	    "most %zu)", s, max);
	return -1;
}

int
probe_text_keysyms(const char *text, uint32_t **keys, size_t *n)
{
	const char *p = text;
	uint32_t cp, *k;
	size_t i = 0;

	*keys = NULL;
	*n = 0;
	/* At most one keysym per octet. */
	if ((k = calloc(strlen(text) + 1, sizeof(*k))) == NULL) {
		log_warn("keysyms");
		return -1;
	}
	while (*p != '\0') {
		if (probe_utf8_next(&p, &cp) == -1) {
			log_warnx("--type: text is not valid UTF-8");
			goto fail;
		}
		if ((k[i] = probe_char_keysym(cp)) == 0) {
			log_warnx("--type: no keysym for U+%04X", cp);
			goto fail;
		}
		i++;
	}
	*keys = k;
	*n = i;
	return 0;
fail:
	free(k);
	return -1;
}

/* Encodings libvncclient 0.9.14 decodes, by the names its parser takes. */
static const char *const encoding_names[] = {
	"raw", "copyrect", "hextile", "zlib", "zlibhex", "zrle", "zywrle",
	"trle", "tight", "ultra", "corre", "rre",
};

int
probe_parse_encodings(const char *list, char **out)
{
	char *buf, *tok, *save = NULL, *res;
	size_t i, len = 0, nok = 0;

	*out = NULL;
	if ((buf = strdup(list)) == NULL || (res = calloc(1,
	    strlen(list) + 1)) == NULL) {
		free(buf);
		log_warn("encodings");
		return -1;
	}
	for (tok = strtok_r(buf, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		for (i = 0; i < sizeof(encoding_names) /
		    sizeof(encoding_names[0]); i++)
			if (strcasecmp(tok, encoding_names[i]) == 0)
				break;
		if (i == sizeof(encoding_names) / sizeof(encoding_names[0])) {
			log_warnx("unknown encoding \"%s\" (raw, copyrect, "
			    "hextile, zlib, zlibhex, zrle, zywrle, trle, "
			    "tight, ultra, corre, rre)", tok);
			goto fail;
		}
		/* The output never grows: names are copied, separators
		 * collapse to one blank. */
		if (nok++ > 0)
			res[len++] = ' ';
		memcpy(res + len, encoding_names[i], strlen(encoding_names[i]));
		len += strlen(encoding_names[i]);
	}
	if (nok == 0) {
		log_warnx("empty encoding list");
		goto fail;
	}
	free(buf);
	*out = res;
	return 0;
fail:
	free(buf);
	free(res);
	return -1;
}

double
probe_percentile(const double *sorted, size_t n, double p)
{
	double rank = ceil(p / 100.0 * (double)n);
	size_t i;

	i = rank < 1 ? 0 : (size_t)rank - 1;
	if (i >= n)
		i = n - 1;
	return sorted[i];
}
