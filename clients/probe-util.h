/*
 * probe-util.h - the parts of lfbvnc-probe that need no connection:
 * command-line value parsers, keysyms and percentiles.  They are a
 * separate unit so tests/clients/test-probe-util can check them.
 *
 * Parsers return 0 on success or -1 after logging what is wrong (log.h).
 */
#ifndef LFBVNC_PROBE_UTIL_H
#define LFBVNC_PROBE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define PROBE_DEFAULT_PORT	5900
/* "HOST:N" with N below this is display N (port 5900 + N), as vncviewer. */
#define PROBE_MAX_DISPLAY	100
/* Coordinates on the wire are 16 bits. */
#define PROBE_MAX_COORD		65535u

struct probe_target {
	char	*host;		/* owned; a path when port is 0 */
	int	 port;		/* 0: host is a UNIX socket path */
};

struct probe_rect {
	uint32_t x, y, w, h;
};

/*
 * HOST, HOST:DISPLAY, HOST::PORT, [V6ADDR]:DISPLAY, [V6ADDR]::PORT,
 * vnc://HOST[:PORT][/...] (a URI port is always a port), or /PATH for a
 * UNIX socket.  An empty HOST is localhost.
 */
int probe_parse_target(const char *arg, struct probe_target *t);
void probe_target_free(struct probe_target *t);

/* "X,Y" and "X,Y,W,H" (W, H > 0); values at most PROBE_MAX_COORD. */
int probe_parse_xy(const char *s, uint32_t *x, uint32_t *y);
int probe_parse_region(const char *s, struct probe_rect *r);
/* "X,Y=RRGGBB" (also #RRGGBB or 0xRRGGBB): *rgb is 0x00RRGGBB. */
int probe_parse_pixel(const char *s, uint32_t *x, uint32_t *y,
    uint32_t *rgb);
/* "X,Y[,BUTTONS]": BUTTONS is the RFB button mask (1 left, 2 middle, 4
 * right, 8/16 wheel up/down), default 0. */
int probe_parse_pointer(const char *s, uint32_t *x, uint32_t *y,
    uint32_t *buttons);
/* Seconds as a decimal number, > 0 and at most a day. */
int probe_parse_seconds(const char *s, double *sec);

/*
 * One key or chord: NAME, 0xHEX keysym, or one (UTF-8) character, joined
 * by '+' for a chord ("Control_L+c": every key but the last is held).
 * Up to max keysyms go to keys[]; *n is how many.
 */
int probe_parse_keys(const char *s, uint32_t *keys, size_t max, size_t *n);
/* The keysym for a Unicode code point typed as text; 0 if none. */
uint32_t probe_char_keysym(uint32_t cp);
/* Text to keysyms, one per character: *keys is allocated (free it). */
int probe_text_keysyms(const char *text, uint32_t **keys, size_t *n);
/* Decode one UTF-8 sequence at *s (advanced); -1 if malformed. */
int probe_utf8_next(const char **s, uint32_t *cp);

/*
 * Validate an encoding list ("raw", "zrle,hextile", "tight raw") and
 * return it space-separated for libvncclient in *out (free it).
 */
int probe_parse_encodings(const char *list, char **out);

/* Nearest-rank percentile p (0..100] of n >= 1 ascending values. */
double probe_percentile(const double *sorted, size_t n, double p);

#endif /* LFBVNC_PROBE_UTIL_H */
