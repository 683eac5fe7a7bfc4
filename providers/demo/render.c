/*
 * render.c - the demo desktop renderer (see render.h).
 *
 * Freestanding: no libc headers, no floating point, no mutable globals.
 * The only library calls are the ones GCC may emit for __builtin_memcpy
 * and long copy loops (memcpy/memset), which every C runtime, including
 * the guest runtime, provides.
 *
 * Model.  The screen is a stack of opaque rectangular layers (the desktop,
 * the terminal, a media player, a file manager, the taskbar, a fullscreen
 * surface).  Each layer paints any row span of itself from the state, so
 * any rectangle of the screen can be redrawn at any time: a workload
 * changes the state, records the rectangles that changed ("damage"), and
 * at the end of the frame exactly those rectangles are redrawn.  That is
 * what a real desktop does, and it is the point of the demo: only the
 * pages behind changed pixels are written, so a write tracker reports only
 * those.  A span is composed in a row buffer first and then copied to the
 * framebuffer once, so a reader never sees a half-painted span (no
 * flicker when windows overlap).
 *
 * The pointer is a sprite with a save-under buffer.  Spans copied to the
 * framebuffer under the sprite update the save-under and keep the sprite
 * on top, so moving the pointer away restores exactly what the screen
 * would show without it.
 *
 * Time is the frame number (60 per second of demo time).  Every workload
 * computes its target state from the frame number and catches up to it,
 * so frames skipped by a slow host do not change what is eventually shown.
 */
#include "render.h"
#include "font.h"

#define MAX_DIM		16384	/* lfbshm's limits */
#define ROWBUF		1024	/* pixels composed at a time */
#define NDAMAGE		16

#define TERM_COLS	80
#define TERM_ROWS	24
#define TERM_LINES	32	/* ring; >= TERM_ROWS + 2 for smooth scroll */
#define TERM_PAD	6

#define TITLE_H		22
#define TASKBAR_H	28
#define CTRL_H		28	/* media player control bar */
#define CLOCK_CHARS	8	/* "HH:MM:SS" */

#define BLINK_FRAMES	30	/* the cursor changes state twice a second */
#define TYPE_FRAMES	12	/* a new line every 200 ms */
#define TYPE_BURST	10	/* a line is typed within its first 10 frames */
#define SCROLL_PX	4	/* smooth scroll speed, pixels per frame */
#define DRAG_PERIOD	600	/* frames for one lap of the drag path */
#define SPARSE_N	4	/* pixels per frame */

#define PTR_W		12
#define PTR_H		19

#define RGB(r, g, b)	(((uint32_t)(r) << 16) | ((uint32_t)(g) << 8) | \
			    (uint32_t)(b))

#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))

enum layer {
	L_DESK = 0,	/* wallpaper, watermark, icons: covers everything */
	L_TERM,
	L_PLAYER,
	L_FILES,
	L_TASKBAR,
	L_FULL,
	NLAYERS
};

struct rect {
	int32_t x, y, w, h;
};

/* A row span being composed: px[i] is pixel (x0 + i, y). */
struct span {
	uint32_t *px;
	int32_t y, x0, x1;
};

struct term {
	int32_t x, y;		/* text area origin on the screen */
	int32_t cols, rows;	/* 0 when the terminal does not fit */
	uint64_t top;		/* absolute line shown first */
	uint64_t cy;		/* absolute line of the cursor */
	int32_t cx;
	int32_t sub;		/* pixels the text is scrolled up past top */
	int32_t in0;		/* first column of the user's input */
	uint8_t cursor;		/* cursor shown (drawn as a block) */
	uint8_t ch[TERM_LINES][TERM_COLS];
	uint8_t at[TERM_LINES][TERM_COLS];
};

struct pointer {
	int32_t x, y;		/* wanted position */
	int32_t dx, dy;		/* where it is drawn */
	uint8_t on;		/* a POINTER event was seen */
	uint8_t drawn;
	uint32_t buttons;
	uint32_t under[PTR_W * PTR_H];
};

#define DSTATE_MAGIC	0x6f6d6564u	/* "demo" */

struct dstate {
	uint32_t magic;
	uint32_t workload;
	uint64_t seed;
	struct demo_mode m;
	int32_t w, h;		/* screen */
	int32_t margin;
	int32_t deskh;		/* rows above the taskbar */
	uint64_t frame;		/* frame being drawn */
	uint64_t base;		/* first frame after demo_start */
	uint8_t based;
	uint8_t icons;
	uint8_t on[NLAYERS];
	struct rect lay[NLAYERS];
	struct rect video;	/* inside the player */
	struct rect clock;	/* inside the taskbar */
	uint64_t clock_sec;	/* time shown */
	uint32_t clock0;	/* seconds of day at frame 0 */
	/* typing */
	uint64_t tk;		/* line being typed */
	int32_t tn;		/* characters of it shown */
	uint8_t tbusy;		/* tk has started */
	/* scroll */
	uint64_t spos;		/* pixels scrolled */
	uint64_t sgen;		/* lines [0, sgen) generated */
	/* drag path */
	int32_t pcx, pcy, pax, pay;
	struct term t;
	struct pointer p;
	int32_t ndmg;
	struct rect dmg[NDAMAGE];
	int32_t nlog;		/* written since the frame began: demo_damage */
	struct rect log[DEMO_DAMAGE_MAX];
	uint32_t pal_t;		/* time of pal */
	uint32_t pal[256];	/* plasma colours for this frame */
	uint32_t row[ROWBUF];
};

_Static_assert(sizeof(struct dstate) <= sizeof(struct demo_state),
    "DEMO_STATE_SIZE too small");

/* 128 + 127.5 sin(2 pi i / 256), rounded. */
static const uint8_t sine8[256] = {
	128, 131, 134, 137, 140, 143, 146, 149, 152, 155, 158, 162, 165, 167, 170, 173,
	176, 179, 182, 185, 188, 190, 193, 196, 198, 201, 203, 206, 208, 211, 213, 215,
	218, 220, 222, 224, 226, 228, 230, 232, 234, 235, 237, 238, 240, 241, 243, 244,
	245, 246, 248, 249, 250, 250, 251, 252, 253, 253, 254, 254, 254, 255, 255, 255,
	255, 255, 255, 255, 254, 254, 254, 253, 253, 252, 251, 250, 250, 249, 248, 246,
	245, 244, 243, 241, 240, 238, 237, 235, 234, 232, 230, 228, 226, 224, 222, 220,
	218, 215, 213, 211, 208, 206, 203, 201, 198, 196, 193, 190, 188, 185, 182, 179,
	176, 173, 170, 167, 165, 162, 158, 155, 152, 149, 146, 143, 140, 137, 134, 131,
	128, 124, 121, 118, 115, 112, 109, 106, 103, 100,  97,  93,  90,  88,  85,  82,
	 79,  76,  73,  70,  67,  65,  62,  59,  57,  54,  52,  49,  47,  44,  42,  40,
	 37,  35,  33,  31,  29,  27,  25,  23,  21,  20,  18,  17,  15,  14,  12,  11,
	 10,   9,   7,   6,   5,   5,   4,   3,   2,   2,   1,   1,   1,   0,   0,   0,
	  0,   0,   0,   0,   1,   1,   1,   2,   2,   3,   4,   5,   5,   6,   7,   9,
	 10,  11,  12,  14,  15,  17,  18,  20,  21,  23,  25,  27,  29,  31,  33,  35,
	 37,  40,  42,  44,  47,  49,  52,  54,  57,  59,  62,  65,  67,  70,  73,  76,
	 79,  82,  85,  88,  90,  93,  97, 100, 103, 106, 109, 112, 115, 118, 121, 124,
};

/* 4x4 ordered dither, to keep the wallpaper gradient free of bands. */
static const uint8_t bayer4[16] = {
	0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5,
};

/* The arrow: 'X' outline, 'o' fill, ' ' transparent. */
static const char ptr_art[PTR_H][PTR_W + 1] = {
	"X           ",
	"XX          ",
	"XoX         ",
	"XooX        ",
	"XoooX       ",
	"XooooX      ",
	"XoooooX     ",
	"XooooooX    ",
	"XoooooooX   ",
	"XooooooooX  ",
	"XoooooooooX ",
	"XooooooXXXXX",
	"XoooXooX    ",
	"XooXXooX    ",
	"XoX  XooX   ",
	"XX   XooX   ",
	"X     XooX  ",
	"      XooX  ",
	"       XX   ",
};

/* Terminal colours by attribute. */
#define A_TEXT		0
#define A_USER		1
#define A_PATH		2
#define A_BRIGHT	3
#define A_YELLOW	4
#define A_DIM		5
#define A_RED		6
#define A_CYAN		7
static const uint32_t term_colour[8] = {
	RGB(0xd3, 0xd7, 0xcf), RGB(0x8a, 0xe2, 0x34), RGB(0x72, 0x9f, 0xcf),
	RGB(0xff, 0xff, 0xff), RGB(0xfc, 0xe9, 0x4f), RGB(0x88, 0x8a, 0x85),
	RGB(0xef, 0x29, 0x29), RGB(0x34, 0xe2, 0xe2),
};
#define TERM_BG		RGB(0x17, 0x1a, 0x21)
#define TERM_CURSOR	RGB(0xd3, 0xd7, 0xcf)

/*
 * Word lists, '|'-separated in one string each: a table of pointers would
 * need load-time relocations, which the guest does not have.
 */
static const char words[] =
    "alpha|buffer|cache|device|event|frame|guest|handle|input|journal|"
    "kernel|layout|memory|native|object|packet|queue|render|socket|timer|"
    "update|vector|window|xfer|yield|zone|pixel|stride|dirty|page|slot|"
    "vcpu|tracker|region|scan|sync|fence|ring|tile|encode";
static const char commands[] =
    "make -j4|git status|ls -l|cat notes.txt|dmesg -w|"
    "grep -rn dirty src/|uptime|df -h|git log --oneline|ps aux";
static const char files[] =
    "notes.txt|todo.md|photo.png|report.pdf|main.c|Makefile|setup.sh|"
    "data.csv|slides.odp|music.ogg";

/* ------------------------------------------------------------ helpers */

static uint64_t
mix64(uint64_t z)
{
	/* splitmix64's finaliser: every input bit affects every output bit */
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
hash3(uint64_t seed, uint64_t a, uint64_t b)
{
	return mix64(seed ^ mix64(a ^ mix64(b + 0x51ed27)));
}

static int32_t
slen(const char *s)
{
	int32_t n = 0;

	while (s[n] != '\0')
		n++;
	return n;
}

static int32_t
list_count(const char *list)
{
	int32_t n = 1;

	for (; *list != '\0'; list++)
		if (*list == '|')
			n++;
	return n;
}

/* Item i of a '|'-separated list; its length in *len. */
static const char *
list_item(const char *list, int32_t i, int32_t *len)
{
	const char *s = list;
	int32_t n;

	while (i > 0 && *s != '\0') {
		if (*s++ == '|')
			i--;
	}
	for (n = 0; s[n] != '\0' && s[n] != '|'; n++)
		continue;
	*len = n;
	return s;
}

static const char *
list_pick(const char *list, uint64_t h, int32_t *len)
{
	return list_item(list, (int32_t)(h % (uint64_t)list_count(list)), len);
}

static int
rect_empty(const struct rect *r)
{
	return r->w <= 0 || r->h <= 0;
}

static struct rect
rect_clip(struct rect a, const struct rect *b)
{
	int32_t x0 = MAX(a.x, b->x), y0 = MAX(a.y, b->y);
	int32_t x1 = MIN(a.x + a.w, b->x + b->w);
	int32_t y1 = MIN(a.y + a.h, b->y + b->h);
	struct rect r = { x0, y0, x1 - x0, y1 - y0 };

	if (r.w < 0)
		r.w = 0;
	if (r.h < 0)
		r.h = 0;
	return r;
}

static int
rect_contains(const struct rect *a, const struct rect *b)
{
	return b->x >= a->x && b->y >= a->y && b->x + b->w <= a->x + a->w &&
	    b->y + b->h <= a->y + a->h;
}

static struct rect
rect_union(const struct rect *a, const struct rect *b)
{
	int32_t x0 = MIN(a->x, b->x), y0 = MIN(a->y, b->y);
	int32_t x1 = MAX(a->x + a->w, b->x + b->w);
	int32_t y1 = MAX(a->y + a->h, b->y + b->h);
	struct rect r = { x0, y0, x1 - x0, y1 - y0 };

	return r;
}

/*
 * Note pixels written (r already clipped to the screen): demo_damage.
 * Past DEMO_DAMAGE_MAX rectangles the last one grows to cover the rest.
 */
static void
log_write(struct dstate *d, struct rect r)
{
	int32_t i;

	if (rect_empty(&r))
		return;
	for (i = 0; i < d->nlog; i++)
		if (rect_contains(&d->log[i], &r))
			return;
	if (d->nlog < DEMO_DAMAGE_MAX)
		d->log[d->nlog++] = r;
	else
		d->log[DEMO_DAMAGE_MAX - 1] =
		    rect_union(&d->log[DEMO_DAMAGE_MAX - 1], &r);
}

static uint8_t *
fb_at(const struct dstate *d, uint8_t *fb, int32_t x, int32_t y)
{
	return fb + (uint64_t)(uint32_t)y * d->m.stride + (uint32_t)x * 4;
}

/* Any stride is allowed, so pixels may be unaligned: copy, not deref. */
static void
fb_put(uint8_t *p, uint32_t v)
{
	__builtin_memcpy(p, &v, 4);
}

static uint32_t
fb_get(const uint8_t *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, 4);
	return v;
}

/* Sine of a in 1/65536 turns, in [-127, 127], linearly interpolated. */
static int32_t
isin(uint32_t a)
{
	uint32_t i = (a >> 8) & 255, f = a & 255;
	int32_t s0 = (int32_t)sine8[i] - 128, s1 = (int32_t)sine8[(i + 1) & 255] - 128;

	return (s0 * (int32_t)(256 - f) + s1 * (int32_t)f) / 256;
}

/* ---------------------------------------------------- span primitives */

static void
sp_fill(const struct span *s, int32_t a, int32_t b, uint32_t c)
{
	int32_t x;

	a = MAX(a, s->x0);
	b = MIN(b, s->x1);
	for (x = a; x < b; x++)
		s->px[x - s->x0] = c;
}

static void
sp_rect(const struct span *s, int32_t x, int32_t y, int32_t w, int32_t h,
    uint32_t c)
{
	if (s->y >= y && s->y < y + h)
		sp_fill(s, x, x + w, c);
}

/* A 1-pixel frame. */
static void
sp_box(const struct span *s, int32_t x, int32_t y, int32_t w, int32_t h,
    uint32_t c)
{
	if (s->y == y || s->y == y + h - 1) {
		sp_rect(s, x, y, w, h, c);
	} else if (s->y > y && s->y < y + h) {
		sp_fill(s, x, x + 1, c);
		sp_fill(s, x + w - 1, x + w, c);
	}
}

/* A rectangle with its corner pixels cut, for buttons. */
static void
sp_rrect(const struct span *s, int32_t x, int32_t y, int32_t w, int32_t h,
    uint32_t c)
{
	if (s->y == y || s->y == y + h - 1)
		sp_rect(s, x + 1, y, w - 2, h, c);
	else
		sp_rect(s, x, y, w, h, c);
}

static void
sp_disc(const struct span *s, int32_t cx, int32_t cy, int32_t r, uint32_t c)
{
	int32_t dy = s->y - cy, dx = 0;

	if (dy < -r || dy > r)
		return;
	while ((dx + 1) * (dx + 1) + dy * dy <= r * r + r)
		dx++;
	sp_fill(s, cx - dx, cx + dx + 1, c);
}

static uint8_t
glyph_row(uint8_t ch, int32_t r)
{
	if (ch < FONT_FIRST)
		ch = ' ';	/* control characters: blank */
	else if (ch > FONT_LAST)
		ch = '?';
	return font8x16[(ch - FONT_FIRST) * FONT_H + r];
}

/*
 * Text at (x, y), scaled by sc; ink pixels are set to c, or when add is
 * non-zero, brightened by add per channel (for the watermark).
 */
static void
sp_text_x(const struct span *s, int32_t x, int32_t y, const char *str,
    int32_t n, uint32_t c, int32_t sc, uint32_t add)
{
	int32_t gy = s->y - y, i, px, a, b, cw = FONT_W * sc;
	uint8_t bits;

	if (gy < 0 || gy >= FONT_H * sc)
		return;
	gy /= sc;
	/* only the characters that overlap the span */
	i = s->x0 > x ? (s->x0 - x) / cw : 0;
	for (; i < n && x + i * cw < s->x1; i++) {
		bits = glyph_row((uint8_t)str[i], gy);
		if (bits == 0)
			continue;
		a = MAX(x + i * cw, s->x0);
		b = MIN(x + (i + 1) * cw, s->x1);
		for (px = a; px < b; px++) {
			if (!(bits & (0x80 >> ((px - x - i * cw) / sc))))
				continue;
			if (add != 0) {
				uint32_t v = s->px[px - s->x0];
				uint32_t r = MIN(((v >> 16) & 255) + add, 255u);
				uint32_t g = MIN(((v >> 8) & 255) + add, 255u);
				uint32_t bl = MIN((v & 255) + add, 255u);
				s->px[px - s->x0] = RGB(r, g, bl);
			} else
				s->px[px - s->x0] = c;
		}
	}
}

static void
sp_text(const struct span *s, int32_t x, int32_t y, const char *str,
    uint32_t c)
{
	sp_text_x(s, x, y, str, slen(str), c, 1, 0);
}

static void
sp_textn(const struct span *s, int32_t x, int32_t y, const char *str,
    int32_t n, uint32_t c)
{
	sp_text_x(s, x, y, str, n, c, 1, 0);
}

/* Text centred in [x, x + w), clipped to its characters that fit. */
static void
sp_text_centre(const struct span *s, int32_t x, int32_t w, int32_t y,
    const char *str, uint32_t c)
{
	int32_t n = MIN(slen(str), w / FONT_W);

	sp_textn(s, x + (w - n * FONT_W) / 2, y, str, n, c);
}

/* Vertical gradient between two colours over h rows, at row r. */
static uint32_t
vgrad(uint32_t c0, uint32_t c1, int32_t r, int32_t h)
{
	int32_t k, ch[3], i;

	if (h <= 1)
		return c0;
	for (i = 0; i < 3; i++) {
		int32_t a = (int32_t)(c0 >> (16 - 8 * i)) & 255;
		int32_t b = (int32_t)(c1 >> (16 - 8 * i)) & 255;

		k = a + (b - a) * r / (h - 1);
		ch[i] = k;
	}
	return RGB(ch[0], ch[1], ch[2]);
}

/* Window frame and title bar; returns nothing, the body is the caller's. */
static void
sp_window(const struct span *s, const struct rect *w, const char *title,
    int focused)
{
	int32_t ry = s->y - w->y;
	uint32_t c0 = focused ? RGB(0x4a, 0x7f, 0xc1) : RGB(0x5c, 0x64, 0x72);
	uint32_t c1 = focused ? RGB(0x2f, 0x5d, 0x96) : RGB(0x45, 0x4c, 0x57);
	int32_t bx;

	sp_box(s, w->x, w->y, w->w, w->h, RGB(0x0b, 0x0e, 0x13));
	if (ry < 1 || ry > TITLE_H)
		return;
	sp_fill(s, w->x + 1, w->x + w->w - 1, vgrad(c0, c1, ry - 1, TITLE_H));
	sp_text_centre(s, w->x + 1, w->w - 2 - 3 * 18 * 2, w->y + 4, title,
	    focused ? RGB(0xff, 0xff, 0xff) : RGB(0xd8, 0xdc, 0xe2));
	/* the usual three buttons at the right */
	bx = w->x + w->w - 14;
	sp_disc(s, bx, w->y + 1 + TITLE_H / 2, 6, RGB(0xe5, 0x53, 0x4b));
	sp_disc(s, bx - 18, w->y + 1 + TITLE_H / 2, 6, RGB(0xf0, 0xb4, 0x29));
	sp_disc(s, bx - 36, w->y + 1 + TITLE_H / 2, 6, RGB(0x5f, 0xb8, 0x5f));
}

/* -------------------------------------------------------------- layers */

static void
paint_desk(const struct dstate *d, const struct span *s)
{
	/* corners of a bilinear gradient: navy, violet, blue-teal, teal */
	static const uint8_t tl[3] = { 0x14, 0x1e, 0x3c };
	static const uint8_t tr[3] = { 0x2e, 0x22, 0x58 };
	static const uint8_t bl[3] = { 0x1b, 0x4f, 0x72 };
	static const uint8_t br[3] = { 0x3a, 0x8f, 0x9e };
	int64_t l[3], r[3], inv;
	int32_t i, x, y = s->y, hh = MAX(d->h - 1, 1), m, ix, iy;
	const uint8_t *dith = &bayer4[(y & 3) * 4];

	/* 8.8 fixed point; one multiply per channel and pixel */
	inv = ((int64_t)1 << 24) / MAX(d->w - 1, 1);
	for (i = 0; i < 3; i++) {
		l[i] = ((int64_t)tl[i] << 8) +
		    (((int64_t)(bl[i] - tl[i]) << 8) * y) / hh;
		r[i] = ((int64_t)tr[i] << 8) +
		    (((int64_t)(br[i] - tr[i]) << 8) * y) / hh;
	}
	for (x = s->x0; x < s->x1; x++) {
		uint32_t c[3];

		for (i = 0; i < 3; i++) {
			int64_t v = l[i] + (((r[i] - l[i]) * x * inv) >> 24);

			v = (v + dith[x & 3] * 16) >> 8;
			c[i] = (uint32_t)MIN(v, 255);
		}
		s->px[x - s->x0] = RGB(c[0], c[1], c[2]);
	}

	/* a watermark, bottom right, drawn by brightening the wallpaper */
	m = d->margin;
	if (d->w >= 640 && d->deskh >= 400) {
		sp_text_x(s, d->w - m - 6 * 8 * 5, d->deskh - m - 80, "lfbvnc",
		    6, 0, 5, 0x1c);
		sp_text_x(s, d->w - m - 19 * 8, d->deskh - m - 20,
		    "lfbshm demo display", 19, 0, 1, 0x30);
	}

	if (!d->icons)
		return;
	/* three desktop icons in a column, with shadowed labels */
	for (i = 0; i < 3; i++) {
		ix = 28;
		iy = 24 + i * 88;
		if (y < iy || y >= iy + 60)
			continue;
		switch (i) {
		case 0:	/* a folder */
			sp_rect(s, ix, iy, 16, 6, RGB(0xd9, 0xa3, 0x31));
			sp_rect(s, ix, iy + 4, 40, 28, RGB(0xf2, 0xc1, 0x4e));
			sp_rect(s, ix, iy + 31, 40, 1, RGB(0xc8, 0x92, 0x2a));
			break;
		case 1:	/* a terminal */
			sp_rect(s, ix, iy, 40, 32, RGB(0xc0, 0xc4, 0xca));
			sp_rect(s, ix + 2, iy + 2, 36, 28, RGB(0x1a, 0x1c, 0x20));
			sp_text(s, ix + 4, iy + 2, ">_", RGB(0x8a, 0xe2, 0x34));
			break;
		default: /* a waste bin */
			sp_rect(s, ix + 4, iy, 32, 4, RGB(0x9a, 0xa5, 0xb1));
			sp_rect(s, ix + 7, iy + 5, 26, 27, RGB(0xbf, 0xc8, 0xd2));
			if (y >= iy + 8 && y < iy + 29) {
				sp_fill(s, ix + 13, ix + 14, RGB(0x8a, 0x96, 0xa3));
				sp_fill(s, ix + 19, ix + 20, RGB(0x8a, 0x96, 0xa3));
				sp_fill(s, ix + 25, ix + 26, RGB(0x8a, 0x96, 0xa3));
			}
			break;
		}
		{
			const char *label = i == 0 ? "Home" :
			    i == 1 ? "Terminal" : "Trash";

			sp_text_centre(s, 9, 80, iy + 38, label, 0);
			sp_text_centre(s, 8, 80, iy + 37, label,
			    RGB(0xff, 0xff, 0xff));
		}
	}
}

static void
paint_term(const struct dstate *d, const struct span *s)
{
	const struct rect *w = &d->lay[L_TERM];
	const struct term *t = &d->t;
	int32_t py, gy, c, c0, c1, a, b, px;
	uint64_t line;
	uint32_t slot, fg, bg;
	uint8_t bits;

	if (s->y <= w->y + TITLE_H || s->y == w->y + w->h - 1) {
		sp_window(s, w, "demo@lfbvnc: ~", 1);
		return;
	}
	sp_fill(s, w->x, w->x + 1, RGB(0x0b, 0x0e, 0x13));
	sp_fill(s, w->x + w->w - 1, w->x + w->w, RGB(0x0b, 0x0e, 0x13));
	sp_fill(s, w->x + 1, w->x + w->w - 1, TERM_BG);

	py = s->y - t->y;
	if (py < 0 || py >= t->rows * FONT_H)
		return;
	py += t->sub;
	line = t->top + (uint64_t)(py / FONT_H);
	gy = py % FONT_H;
	slot = (uint32_t)(line % TERM_LINES);
	c0 = MAX(s->x0 - t->x, 0) / FONT_W;
	c1 = MIN((s->x1 - t->x + FONT_W - 1) / FONT_W, t->cols);
	for (c = c0; c < c1; c++) {
		fg = term_colour[t->at[slot][c] & 7];
		bg = TERM_BG;
		if (t->cursor && line == t->cy && c == t->cx) {
			bg = TERM_CURSOR;
			fg = TERM_BG;
		}
		bits = glyph_row(t->ch[slot][c], gy);
		a = MAX(t->x + c * FONT_W, s->x0);
		b = MIN(t->x + (c + 1) * FONT_W, s->x1);
		for (px = a; px < b; px++)
			s->px[px - s->x0] =
			    (bits & (0x80 >> (px - t->x - c * FONT_W))) ? fg : bg;
	}
}

/*
 * A moving plasma (sums of sines of position and time) with film grain,
 * for [a, b) of the span, in the coordinates of a picture at (ox, oy).
 * The grain keeps it as hard to compress as real video is.  The colours
 * come from d->pal, made once per frame by set_palette.
 */
static void
plasma_row(const struct dstate *d, const struct span *s, int32_t a, int32_t b,
    int32_t ox, int32_t oy, int32_t shift)
{
	uint32_t t = d->pal_t, y = (uint32_t)(s->y - oy), v, g, gy, ry;
	uint32_t px;
	int32_t x;

	ry = sine8[((y >> shift) + 2 * t) & 255];
	gy = y * 0x85ebca77u ^ t * 0xc2b2ae3du;
	for (x = a; x < b; x++) {
		px = (uint32_t)(x - ox);
		v = ry + sine8[((px >> shift) + t) & 255];
		v += sine8[(((px + y) >> (shift + 1)) + 3 * t) & 255];
		v += sine8[(((px - y + 32768) >> (shift + 2)) + 255 - t) & 255];
		g = px * 0x9e3779b1u ^ gy;
		g ^= g >> 15;
		g *= 0x2c1b3c6du;
		/* channels <= 223 + 30: no carry between them */
		s->px[x - s->x0] = d->pal[v >> 2] + (g >> 28) * 0x020202u;
	}
}

static void
set_palette(struct dstate *d)
{
	uint32_t t = (uint32_t)(d->frame + d->seed) & 0xffffff, j, i;

	d->pal_t = t;
	for (j = 0; j < 256; j++) {
		i = (j + t) & 255;
		d->pal[j] = RGB(sine8[i] * 7 / 8, sine8[(i + 85) & 255] * 7 / 8,
		    sine8[(i + 170) & 255] * 7 / 8);
	}
}

/* "HH:MM:SS" for a number of seconds. */
static void
fmt_hms(char *buf, uint64_t sec)
{
	uint32_t h = (uint32_t)((sec / 3600) % 24), m = (uint32_t)(sec / 60 % 60);
	uint32_t s = (uint32_t)(sec % 60);

	buf[0] = (char)('0' + h / 10);
	buf[1] = (char)('0' + h % 10);
	buf[2] = ':';
	buf[3] = (char)('0' + m / 10);
	buf[4] = (char)('0' + m % 10);
	buf[5] = ':';
	buf[6] = (char)('0' + s / 10);
	buf[7] = (char)('0' + s % 10);
	buf[8] = '\0';
}

static void
paint_player(const struct dstate *d, const struct span *s)
{
	const struct rect *w = &d->lay[L_PLAYER], *v = &d->video;
	int32_t cy, r, barw;
	char tc[16];

	if (s->y <= w->y + TITLE_H || s->y == w->y + w->h - 1) {
		sp_window(s, w, "Player - sample.mkv", 0);
		return;
	}
	sp_fill(s, w->x, w->x + 1, RGB(0x0b, 0x0e, 0x13));
	sp_fill(s, w->x + w->w - 1, w->x + w->w, RGB(0x0b, 0x0e, 0x13));
	if (s->y >= v->y && s->y < v->y + v->h) {
		plasma_row(d, s, MAX(s->x0, v->x), MIN(s->x1, v->x + v->w),
		    v->x, v->y, 1);
		/* a time code burnt into the picture, as test videos have */
		fmt_hms(tc, d->frame / 60);
		tc[8] = '.';
		tc[9] = (char)('0' + d->frame % 60 / 10);
		tc[10] = (char)('0' + d->frame % 60 % 10);
		tc[11] = '\0';
		sp_rect(s, v->x + 6, v->y + 6, 11 * 8 + 8, 20, RGB(0, 0, 0));
		sp_text(s, v->x + 10, v->y + 8, tc, RGB(0xff, 0xff, 0xff));
		return;
	}
	/* the control bar: play button, progress, times; it is static */
	sp_fill(s, w->x + 1, w->x + w->w - 1, RGB(0x20, 0x23, 0x28));
	cy = v->y + v->h + CTRL_H / 2;
	r = s->y - (cy - 6);
	if (r >= 0 && r < 12)
		sp_fill(s, w->x + 12, w->x + 12 + (r < 6 ? r : 11 - r) + 1,
		    RGB(0xe8, 0xea, 0xed));
	barw = w->w - 2 - 40 - 13 * 8 - 16;
	if (barw > 0) {
		sp_rect(s, w->x + 32, cy - 2, barw, 4, RGB(0x3a, 0x3f, 0x47));
		sp_rect(s, w->x + 32, cy - 2, barw * 3 / 10, 4,
		    RGB(0x3d, 0x8f, 0xd1));
		sp_text(s, w->x + 40 + barw, cy - 8, "01:23 / 04:56",
		    RGB(0xa0, 0xa6, 0xb0));
	}
}

static void
paint_files(const struct dstate *d, const struct span *s)
{
	const struct rect *w = &d->lay[L_FILES];
	int32_t bx = w->x + 1, by = w->y + 1 + TITLE_H, i, ey, n;
	const char *name;
	uint32_t dark = RGB(0x20, 0x21, 0x24);

	if (s->y <= w->y + TITLE_H || s->y == w->y + w->h - 1) {
		sp_window(s, w, "Files - /home/demo", 0);
		return;
	}
	sp_fill(s, w->x, w->x + 1, RGB(0x0b, 0x0e, 0x13));
	sp_fill(s, w->x + w->w - 1, w->x + w->w, RGB(0x0b, 0x0e, 0x13));
	sp_fill(s, bx, w->x + w->w - 1, RGB(0xff, 0xff, 0xff));
	/* toolbar with back/forward and the path */
	if (s->y < by + 30) {
		sp_fill(s, bx, w->x + w->w - 1, RGB(0xe8, 0xea, 0xed));
		sp_rrect(s, bx + 6, by + 5, 20, 20, RGB(0xd0, 0xd4, 0xd9));
		sp_rrect(s, bx + 30, by + 5, 20, 20, RGB(0xd0, 0xd4, 0xd9));
		sp_text(s, bx + 12, by + 7, "<", dark);
		sp_text(s, bx + 36, by + 7, ">", dark);
		sp_rect(s, bx + 58, by + 5, w->w - 2 - 66, 20,
		    RGB(0xff, 0xff, 0xff));
		sp_text(s, bx + 64, by + 7, "/home/demo", dark);
		if (s->y == by + 29)
			sp_fill(s, bx, w->x + w->w - 1, RGB(0xc8, 0xcc, 0xd2));
		return;
	}
	/* sidebar */
	sp_fill(s, bx, bx + 110, RGB(0xf1, 0xf3, 0xf4));
	sp_fill(s, bx + 110, bx + 111, RGB(0xda, 0xdc, 0xe0));
	for (i = 0; i < 5; i++) {
		ey = by + 38 + i * 22;
		if (i == 0)
			sp_rect(s, bx, ey - 3, 110, 22, RGB(0xd2, 0xe3, 0xfc));
		name = list_item("Home|Desktop|Documents|Downloads|Music", i,
		    &n);
		sp_textn(s, bx + 12, ey, name, n, dark);
	}
	/* the listing */
	for (i = 0; i < 10; i++) {
		ey = by + 38 + i * 22;
		if (s->y < ey - 3 || s->y >= ey + 19)
			continue;
		if (i < 4) {
			sp_rect(s, bx + 122, ey, 8, 4, RGB(0xd9, 0xa3, 0x31));
			sp_rect(s, bx + 122, ey + 3, 18, 12,
			    RGB(0xf2, 0xc1, 0x4e));
			name = list_item("Desktop|Documents|Downloads|Pictures",
			    i, &n);
		} else {
			sp_rect(s, bx + 124, ey, 13, 16, RGB(0xb0, 0xb6, 0xbe));
			sp_rect(s, bx + 125, ey + 1, 11, 14,
			    RGB(0xfa, 0xfa, 0xfa));
			name = list_item(files, i - 4, &n);
		}
		sp_textn(s, bx + 148, ey, name, n, dark);
	}
}

static void
paint_taskbar(const struct dstate *d, const struct span *s)
{
	const struct rect *w = &d->lay[L_TASKBAR];
	int32_t ry = s->y - w->y, x, i, bw;
	char clk[CLOCK_CHARS + 1];

	sp_fill(s, w->x, w->x + w->w, ry == 0 ? RGB(0x3b, 0x43, 0x50) :
	    RGB(0x1e, 0x22, 0x27));
	sp_rrect(s, 4, w->y + 4, 56, w->h - 8, RGB(0x3d, 0x6e, 0xa8));
	sp_text(s, 16, w->y + (w->h - FONT_H) / 2, "Menu",
	    RGB(0xff, 0xff, 0xff));
	/* a button per window, the focused one lit */
	x = 68;
	bw = MIN(140, (d->clock.x - 8 - x) / 3);
	for (i = L_TERM; i <= L_FILES && bw >= 24; i++) {
		const char *label = i == L_TERM ? "Terminal" :
		    i == L_PLAYER ? "Player" : "Files";

		if (!d->on[i])
			continue;
		sp_rrect(s, x, w->y + 4, bw - 4, w->h - 8, i == L_TERM ?
		    RGB(0x44, 0x4d, 0x5a) : RGB(0x2c, 0x32, 0x3a));
		if (i == L_TERM)
			sp_rect(s, x + 2, w->y + w->h - 6, bw - 8, 2,
			    RGB(0x72, 0x9f, 0xcf));
		sp_text_centre(s, x, bw - 4, w->y + (w->h - FONT_H) / 2, label,
		    RGB(0xe0, 0xe4, 0xea));
		x += bw;
	}
	fmt_hms(clk, d->clock_sec);
	sp_text(s, d->clock.x, d->clock.y, clk, RGB(0xe0, 0xe4, 0xea));
}

static void
paint_full(const struct dstate *d, const struct span *s)
{
	const struct term *t = &d->t;
	uint32_t slot = (uint32_t)(t->cy % TERM_LINES);
	int32_t n;

	plasma_row(d, s, s->x0, s->x1, 0, 0, 2);
	/* what the user types, so input is visible over a fullscreen app */
	if (t->cols > 0) {
		n = MIN(t->cx, t->cols);
		sp_rect(s, 16, 16, (n + 2) * FONT_W, FONT_H + 8, RGB(0, 0, 0));
		sp_textn(s, 16 + FONT_W, 20, (const char *)t->ch[slot], n,
		    RGB(0xff, 0xff, 0xff));
	}
}

static void
paint_layer(const struct dstate *d, int l, const struct span *s)
{
	switch (l) {
	case L_DESK:
		paint_desk(d, s);
		break;
	case L_TERM:
		paint_term(d, s);
		break;
	case L_PLAYER:
		paint_player(d, s);
		break;
	case L_FILES:
		paint_files(d, s);
		break;
	case L_TASKBAR:
		paint_taskbar(d, s);
		break;
	case L_FULL:
		paint_full(d, s);
		break;
	}
}

/* ------------------------------------------------------------- pointer */

static int
ptr_opaque(int32_t x, int32_t y)
{
	return ptr_art[y][x] != ' ';
}

static uint32_t
ptr_colour(int32_t x, int32_t y)
{
	return ptr_art[y][x] == 'X' ? RGB(0, 0, 0) : RGB(0xff, 0xff, 0xff);
}

static void
ptr_erase(struct dstate *d, uint8_t *fb)
{
	struct pointer *p = &d->p;
	int32_t x, y;

	if (!p->drawn)
		return;
	log_write(d, rect_clip((struct rect){ p->dx, p->dy, PTR_W, PTR_H },
	    &(struct rect){ 0, 0, d->w, d->h }));
	for (y = 0; y < PTR_H && p->dy + y < d->h; y++)
		for (x = 0; x < PTR_W && p->dx + x < d->w; x++)
			if (ptr_opaque(x, y))
				fb_put(fb_at(d, fb, p->dx + x, p->dy + y),
				    p->under[y * PTR_W + x]);
	p->drawn = 0;
}

static void
ptr_draw(struct dstate *d, uint8_t *fb)
{
	struct pointer *p = &d->p;
	int32_t x, y;
	uint8_t *q;

	p->dx = p->x;
	p->dy = p->y;
	log_write(d, rect_clip((struct rect){ p->dx, p->dy, PTR_W, PTR_H },
	    &(struct rect){ 0, 0, d->w, d->h }));
	for (y = 0; y < PTR_H && p->dy + y < d->h; y++)
		for (x = 0; x < PTR_W && p->dx + x < d->w; x++) {
			if (!ptr_opaque(x, y))
				continue;
			q = fb_at(d, fb, p->dx + x, p->dy + y);
			p->under[y * PTR_W + x] = fb_get(q);
			fb_put(q, ptr_colour(x, y));
		}
	p->drawn = 1;
}

/* Write one pixel of the scene, keeping the pointer on top. */
static void
put_pixel(struct dstate *d, uint8_t *fb, int32_t x, int32_t y, uint32_t c)
{
	struct pointer *p = &d->p;
	int32_t px = x - p->dx, py = y - p->dy;

	if (x < 0 || y < 0 || x >= d->w || y >= d->h)
		return;
	if (p->drawn && px >= 0 && px < PTR_W && py >= 0 && py < PTR_H &&
	    ptr_opaque(px, py)) {
		p->under[py * PTR_W + px] = c;
		return;
	}
	fb_put(fb_at(d, fb, x, y), c);
	log_write(d, (struct rect){ x, y, 1, 1 });
}

/* --------------------------------------------------------------- scene */

static int
covers(const struct rect *r, int32_t y, int32_t x0, int32_t x1)
{
	return y >= r->y && y < r->y + r->h && x0 >= r->x && x1 <= r->x + r->w;
}

/* Redraw a rectangle of the screen from the state. */
static void
redraw(struct dstate *d, uint8_t *fb, struct rect r)
{
	struct rect scr = { 0, 0, d->w, d->h };
	struct pointer *p = &d->p;
	struct span sub;
	int32_t y, x0, x1, l, top, a, b, x;

	r = rect_clip(r, &scr);
	if (rect_empty(&r))
		return;
	log_write(d, r);
	for (y = r.y; y < r.y + r.h; y++) {
		for (x0 = r.x; x0 < r.x + r.w; x0 = x1) {
			x1 = MIN(x0 + ROWBUF, r.x + r.w);
			/* start at the topmost layer that hides the rest */
			for (top = NLAYERS - 1; top > L_DESK; top--)
				if (d->on[top] &&
				    covers(&d->lay[top], y, x0, x1))
					break;
			for (l = top; l < NLAYERS; l++) {
				const struct rect *lr = &d->lay[l];

				if (!d->on[l] || y < lr->y ||
				    y >= lr->y + lr->h)
					continue;
				a = MAX(x0, lr->x);
				b = MIN(x1, lr->x + lr->w);
				if (a >= b)
					continue;
				sub.px = d->row + (a - x0);
				sub.y = y;
				sub.x0 = a;
				sub.x1 = b;
				paint_layer(d, l, &sub);
			}
			/* the pointer stays on top; what is under it is kept */
			if (p->drawn && y >= p->dy && y < p->dy + PTR_H) {
				a = MAX(x0, p->dx);
				b = MIN(x1, p->dx + PTR_W);
				for (x = a; x < b; x++) {
					int32_t px = x - p->dx, py = y - p->dy;

					if (!ptr_opaque(px, py))
						continue;
					p->under[py * PTR_W + px] =
					    d->row[x - x0];
					d->row[x - x0] = ptr_colour(px, py);
				}
			}
			__builtin_memcpy(fb_at(d, fb, x0, y), d->row,
			    (uint32_t)(x1 - x0) * 4);
		}
	}
}

static void
damage(struct dstate *d, struct rect r)
{
	struct rect scr = { 0, 0, d->w, d->h }, u;
	int32_t i;

	r = rect_clip(r, &scr);
	if (rect_empty(&r))
		return;
	for (i = 0; i < d->ndmg; i++) {
		if (rect_contains(&d->dmg[i], &r))
			return;
		if (rect_contains(&r, &d->dmg[i])) {
			d->dmg[i] = r;
			return;
		}
	}
	if (d->ndmg < NDAMAGE) {
		d->dmg[d->ndmg++] = r;
		return;
	}
	/* out of slots: merge everything into one rectangle */
	u = r;
	for (i = 0; i < d->ndmg; i++)
		u = rect_union(&u, &d->dmg[i]);
	d->dmg[0] = u;
	d->ndmg = 1;
}

static void
flush(struct dstate *d, uint8_t *fb)
{
	int32_t i;

	for (i = 0; i < d->ndmg; i++)
		redraw(d, fb, d->dmg[i]);
	d->ndmg = 0;
}

/* ------------------------------------------------------------ terminal */

static int32_t
term_line_y(const struct term *t, uint64_t line)
{
	return t->y + (int32_t)(line - t->top) * FONT_H - t->sub;
}

static void
term_damage_cell(struct dstate *d, uint64_t line, int32_t c)
{
	struct term *t = &d->t;
	struct rect r;

	if (t->cols == 0 || line < t->top || line > t->top + (uint64_t)t->rows ||
	    c < 0 || c >= t->cols)
		return;
	r.x = t->x + c * FONT_W;
	r.y = term_line_y(t, line);
	r.w = FONT_W;
	r.h = FONT_H;
	/* the text area clips; the window border is never touched */
	{
		struct rect area = { t->x, t->y, t->cols * FONT_W,
		    t->rows * FONT_H };

		damage(d, rect_clip(r, &area));
	}
}

static void
term_damage_all(struct dstate *d)
{
	struct term *t = &d->t;
	struct rect r = { t->x, t->y, t->cols * FONT_W, t->rows * FONT_H };

	damage(d, r);
}

static void
term_clear_slot(struct term *t, uint64_t line)
{
	uint32_t slot = (uint32_t)(line % TERM_LINES);
	int32_t c;

	for (c = 0; c < TERM_COLS; c++) {
		t->ch[slot][c] = ' ';
		t->at[slot][c] = A_TEXT;
	}
}

static void
term_newline(struct dstate *d)
{
	struct term *t = &d->t;

	if (t->cols == 0)
		return;
	term_damage_cell(d, t->cy, t->cx);
	t->cx = 0;
	t->in0 = 0;
	t->cy++;
	term_clear_slot(t, t->cy);
	if (t->cy >= t->top + (uint64_t)t->rows) {
		/* scroll by a line, as a terminal does: all text moves */
		t->top = t->cy - (uint64_t)t->rows + 1;
		term_damage_all(d);
	}
	term_damage_cell(d, t->cy, t->cx);
}

static void
term_putc(struct dstate *d, uint8_t ch, uint8_t attr)
{
	struct term *t = &d->t;
	uint32_t slot;

	if (t->cols == 0)
		return;
	if (t->cx >= t->cols)
		term_newline(d);
	slot = (uint32_t)(t->cy % TERM_LINES);
	t->ch[slot][t->cx] = ch;
	t->at[slot][t->cx] = attr;
	term_damage_cell(d, t->cy, t->cx);
	t->cx++;
	term_damage_cell(d, t->cy, t->cx);
}

static void
term_puts(struct dstate *d, const char *s, int32_t n, uint8_t attr)
{
	int32_t i;

	for (i = 0; i < n; i++)
		term_putc(d, (uint8_t)s[i], attr);
}

static void
term_prompt(struct dstate *d)
{
	term_puts(d, "demo@lfbvnc", 11, A_USER);
	term_puts(d, ":", 1, A_BRIGHT);
	term_puts(d, "~", 1, A_PATH);
	term_puts(d, "$ ", 2, A_BRIGHT);
	d->t.in0 = d->t.cx;
}

static void
term_backspace(struct dstate *d)
{
	struct term *t = &d->t;

	if (t->cols == 0 || t->cx <= t->in0)
		return;
	term_damage_cell(d, t->cy, t->cx);
	t->cx--;
	t->ch[t->cy % TERM_LINES][t->cx] = ' ';
	term_damage_cell(d, t->cy, t->cx);
}

static void
term_set_cursor(struct dstate *d, int on)
{
	if (d->t.cursor == on)
		return;
	d->t.cursor = (uint8_t)on;
	term_damage_cell(d, d->t.cy, d->t.cx);
}

/* ------------------------------------------------------ generated text */

struct lbuf {
	uint8_t *ch, *at;
	int32_t n, max;
};

static void
lb_put(struct lbuf *b, const char *s, int32_t n, uint8_t attr)
{
	int32_t i;

	for (i = 0; i < n && b->n < b->max; i++) {
		b->ch[b->n] = (uint8_t)s[i];
		b->at[b->n++] = attr;
	}
}

static void
lb_str(struct lbuf *b, const char *s, uint8_t attr)
{
	lb_put(b, s, slen(s), attr);
}

/* Decimal, zero-padded to at least width digits. */
static void
lb_num(struct lbuf *b, uint64_t v, int32_t width, uint8_t attr)
{
	char tmp[24];
	int32_t n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && n < (int32_t)sizeof(tmp));
	while (n < width && n < (int32_t)sizeof(tmp))
		tmp[sizeof(tmp) - 1 - n++] = '0';
	lb_put(b, tmp + sizeof(tmp) - n, n, attr);
}

static void
lb_word(struct lbuf *b, uint64_t h, uint8_t attr)
{
	int32_t n;
	const char *w = list_pick(words, h, &n);

	lb_put(b, w, n, attr);
}

/*
 * Line k of the generated terminal session, a pure function of (seed, k):
 * every 8th line is a command typed at a prompt, the rest look like build
 * output, kernel messages or prose.  Returns the number of characters the
 * prompt takes (printed at once; the rest is typed).
 */
static int32_t
gen_line(const struct dstate *d, uint64_t k, struct lbuf *b)
{
	uint64_t h = hash3(d->seed, k, 1);
	int32_t i, n, pre = 0;
	const char *s;

	if (k % 8 == 0) {
		lb_str(b, "demo@lfbvnc", A_USER);
		lb_str(b, ":", A_BRIGHT);
		lb_str(b, "~", A_PATH);
		lb_str(b, "$ ", A_BRIGHT);
		pre = b->n;
		s = list_pick(commands, h, &n);
		lb_put(b, s, n, A_TEXT);
		return pre;
	}
	switch (h % 4) {
	case 0:
		lb_str(b, "  CC      ", A_TEXT);
		lb_word(b, h >> 8, A_TEXT);
		lb_str(b, "/", A_TEXT);
		lb_word(b, h >> 16, A_TEXT);
		lb_str(b, "_", A_TEXT);
		lb_word(b, h >> 24, A_TEXT);
		lb_str(b, ".o", A_TEXT);
		break;
	case 1:
		lb_str(b, "[", A_TEXT);
		lb_num(b, (h >> 8) % 100000, 5, A_CYAN);
		lb_str(b, ".", A_CYAN);
		lb_num(b, (h >> 28) % 1000000, 6, A_CYAN);
		lb_str(b, "] ", A_TEXT);
		lb_word(b, h >> 12, A_YELLOW);
		lb_str(b, ": ", A_TEXT);
		for (i = 0; i < 3 + (int32_t)((h >> 44) % 5); i++) {
			lb_word(b, hash3(d->seed, k, 10 + (uint64_t)i), A_TEXT);
			lb_str(b, " ", A_TEXT);
		}
		break;
	case 2:
		lb_str(b, "drwxr-xr-x 2 demo demo ", A_DIM);
		lb_num(b, 4096 + (h >> 8) % 60000, 5, A_DIM);
		lb_str(b, " ", A_DIM);
		lb_word(b, h >> 30, A_PATH);
		break;
	default:
		for (i = 0; i < 4 + (int32_t)((h >> 8) % 9); i++) {
			if (i > 0)
				lb_str(b, " ", A_TEXT);
			lb_word(b, hash3(d->seed, k, 20 + (uint64_t)i), A_TEXT);
		}
		break;
	}
	return pre;
}

/* ----------------------------------------------------------- workloads */

static void
initial_session(struct dstate *d)
{
	uint64_t h;
	int32_t i, n;
	const char *s;

	term_prompt(d);
	term_puts(d, "uname -a", 8, A_TEXT);
	term_newline(d);
	term_puts(d, "Linux lfbvnc 6.8.0-demo #1 SMP x86_64 GNU/Linux", 47,
	    A_TEXT);
	term_newline(d);
	term_prompt(d);
	term_puts(d, "ls", 2, A_TEXT);
	term_newline(d);
	term_puts(d, "Desktop  Documents  Music", 25, A_PATH);
	for (i = 0; i < 3; i++) {
		/* the seed picks the files, so seeds differ on screen */
		h = hash3(d->seed, 1000, (uint64_t)i);
		s = list_pick(files, h, &n);
		term_puts(d, "  ", 2, A_TEXT);
		term_puts(d, s, n, A_TEXT);
	}
	term_newline(d);
	term_prompt(d);
}

static void
typing_start_line(struct dstate *d)
{
	if (d->tk > 0) {
		term_newline(d);
		if (d->tk % 8 == 0)
			term_prompt(d);
	}
	d->tn = 0;
	d->tbusy = 1;
}

/* Show the first n typed characters of line tk. */
static void
typing_show(struct dstate *d, int32_t n)
{
	uint8_t ch[TERM_COLS], at[TERM_COLS];
	struct lbuf b = { ch, at, 0, TERM_COLS - 1 };
	int32_t pre;

	pre = gen_line(d, d->tk, &b);
	/* a command's prompt is already on screen (typing_start_line) */
	if (d->tk % 8 != 0)
		pre = 0;
	n = MIN(n, b.n - pre);
	for (; d->tn < n; d->tn++)
		term_putc(d, ch[pre + d->tn], at[pre + d->tn]);
}

static void
tick_typing(struct dstate *d, uint64_t rel)
{
	uint64_t k = rel / TYPE_FRAMES, f = rel % TYPE_FRAMES;

	if (d->t.cols == 0)
		return;
	if (d->tbusy && k > d->tk + (uint64_t)d->t.rows + 1) {
		/* far behind: what would scroll away is not typed at all */
		d->tk = k - (uint64_t)d->t.rows - 1;
		d->tbusy = 0;
	}
	if (!d->tbusy)
		typing_start_line(d);
	while (d->tk < k) {
		typing_show(d, TERM_COLS);
		d->tk++;
		typing_start_line(d);
	}
	typing_show(d, (int32_t)((f + 1) * TERM_COLS / TYPE_BURST));
}

static void
scroll_fill(struct dstate *d, uint64_t line)
{
	struct term *t = &d->t;
	uint32_t slot = (uint32_t)(line % TERM_LINES);
	struct lbuf b = { t->ch[slot], t->at[slot], 0, t->cols };

	term_clear_slot(t, line);
	gen_line(d, line, &b);
}

static void
tick_scroll(struct dstate *d, uint64_t rel)
{
	struct term *t = &d->t;
	uint64_t pos = rel * SCROLL_PX, need;

	if (t->cols == 0 || pos == d->spos)
		return;
	d->spos = pos;
	t->top = pos / FONT_H;
	t->sub = (int32_t)(pos % FONT_H);
	need = t->top + (uint64_t)t->rows + 1;
	if (d->sgen + TERM_LINES < need)
		d->sgen = need - TERM_LINES;
	for (; d->sgen < need; d->sgen++)
		scroll_fill(d, d->sgen);
	term_damage_all(d);
}

static void
drag_pos(const struct dstate *d, uint64_t frame, int32_t *x, int32_t *y)
{
	uint32_t a = (uint32_t)((frame % DRAG_PERIOD) * 65536 / DRAG_PERIOD);

	/* a figure of eight over the desktop */
	*x = d->pcx + d->pax * isin(a) / 127;
	*y = d->pcy + d->pay * isin(2 * a) / 127;
}

static void
tick_drag(struct dstate *d, uint64_t frame)
{
	struct rect *w = &d->lay[L_FILES];
	int32_t x, y;

	if (!d->on[L_FILES])
		return;
	drag_pos(d, frame, &x, &y);
	if (x == w->x && y == w->y)
		return;
	damage(d, *w);
	w->x = x;
	w->y = y;
	damage(d, *w);
}

static void
tick_sparse(struct dstate *d, uint8_t *fb, uint64_t frame)
{
	uint64_t h;
	int32_t i;

	for (i = 0; i < SPARSE_N; i++) {
		h = hash3(d->seed, frame, 100 + (uint64_t)i);
		put_pixel(d, fb, (int32_t)((h & 0xffffff) % (uint32_t)d->w),
		    (int32_t)(((h >> 24) & 0xffffff) % (uint32_t)d->h),
		    (uint32_t)(h >> 40) & 0xffffff);
	}
}

static void
tick_clock(struct dstate *d)
{
	uint64_t sec = d->clock0 + d->frame / 60;

	if (sec == d->clock_sec)
		return;
	d->clock_sec = sec;
	damage(d, d->clock);
}

/* --------------------------------------------------------------- input */

static void
paint_dot(struct dstate *d, uint8_t *fb, int32_t x, int32_t y, uint32_t c)
{
	int32_t i, j;

	for (j = -1; j <= 1; j++)
		for (i = -1; i <= 1; i++)
			put_pixel(d, fb, x + i, y + j, c);
}

/* A pressed button paints, so clicks and drags are visible. */
static void
paint_stroke(struct dstate *d, uint8_t *fb, int32_t x0, int32_t y0,
    int32_t x1, int32_t y1, uint32_t c)
{
	int32_t dx = x1 > x0 ? x1 - x0 : x0 - x1;
	int32_t dy = y1 > y0 ? y0 - y1 : y1 - y0;
	int32_t sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, e = dx + dy, e2;

	for (;;) {
		paint_dot(d, fb, x0, y0, c);
		if (x0 == x1 && y0 == y1)
			break;
		e2 = 2 * e;
		if (e2 >= dy) {
			e += dy;
			x0 += sx;
		}
		if (e2 <= dx) {
			e += dx;
			y0 += sy;
		}
	}
}

static void
input_pointer(struct dstate *d, uint8_t *fb, const struct demo_input *in)
{
	struct pointer *p = &d->p;
	int32_t x = (int32_t)MIN(in->a, (uint32_t)d->w - 1);
	int32_t y = (int32_t)MIN(in->b, (uint32_t)d->h - 1);
	uint32_t c;

	if (in->c & 1)
		c = RGB(0xff, 0xd2, 0x00);
	else if (in->c & 4)
		c = RGB(0xff, 0x40, 0x40);
	else if (in->c & 2)
		c = RGB(0x40, 0xc0, 0xff);
	else
		c = 0;
	if ((in->c & 7) != 0) {
		if (p->on && (p->buttons & in->c & 7) != 0)
			paint_stroke(d, fb, p->x, p->y, x, y, c);
		else
			paint_dot(d, fb, x, y, c);
	}
	p->x = x;
	p->y = y;
	p->buttons = in->c;
	p->on = 1;
}

static void
input_key(struct dstate *d, const struct demo_input *in)
{
	uint32_t k = in->a;

	if (!in->b || d->workload == DEMO_SCROLL)
		return;
	if (k >= 0x20 && k <= 0x7e)
		term_putc(d, (uint8_t)k, A_BRIGHT);
	else if (k >= 0xa0 && k <= 0xff)
		term_putc(d, '?', A_BRIGHT);	/* Latin-1: no glyph */
	else if (k == 0xff0d || k == 0xff8d) {	/* Return, KP_Enter */
		term_newline(d);
		term_prompt(d);
	} else if (k == 0xff08)			/* BackSpace */
		term_backspace(d);
	else if (k == 0xff09) {			/* Tab */
		do
			term_putc(d, ' ', A_TEXT);
		while (d->t.cx % 8 != 0 && d->t.cx < d->t.cols);
	}
}

/* ----------------------------------------------------------------- API */

static int
mode_ok(const struct demo_mode *m)
{
	return m->format == DEMO_FORMAT_XRGB8888 && m->width >= 1 &&
	    m->height >= 1 && m->width <= MAX_DIM && m->height <= MAX_DIM &&
	    m->stride >= m->width * 4;
}

static int
mode_same(const struct demo_mode *a, const struct demo_mode *b)
{
	return a->width == b->width && a->height == b->height &&
	    a->stride == b->stride && a->format == b->format;
}

static void
layout(struct dstate *d)
{
	struct term *t = &d->t;
	struct rect *r;
	int32_t w = d->w, h = d->h, m, tx, ty, cols, rows, vw, vh;
	int big = d->workload != DEMO_MIX;

	m = d->margin = w >= 1024 && h >= 600 ? 48 : 8;
	d->deskh = MAX(h - TASKBAR_H, 0);
	d->icons = w >= 800 && d->deskh >= 300;

	r = &d->lay[L_DESK];
	*r = (struct rect){ 0, 0, w, h };
	d->on[L_DESK] = 1;

	r = &d->lay[L_TASKBAR];
	*r = (struct rect){ 0, d->deskh, w, h - d->deskh };
	d->on[L_TASKBAR] = r->h > 0;
	d->clock = (struct rect){ w - 8 - CLOCK_CHARS * FONT_W,
	    d->deskh + (TASKBAR_H - FONT_H) / 2, CLOCK_CHARS * FONT_W, FONT_H };

	/* the terminal: 80x24 or what fits */
	tx = d->icons ? 112 : m;
	ty = m;
	cols = MIN((w - tx - m - 2 - 2 * TERM_PAD) / FONT_W, TERM_COLS);
	rows = MIN((d->deskh - ty - m - 2 - TITLE_H - 2 * TERM_PAD) / FONT_H,
	    TERM_ROWS);
	if (cols >= 1 && rows >= 1) {
		t->cols = cols;
		t->rows = rows;
		t->x = tx + 1 + TERM_PAD;
		t->y = ty + 1 + TITLE_H + TERM_PAD;
		d->lay[L_TERM] = (struct rect){ tx, ty,
		    cols * FONT_W + 2 * TERM_PAD + 2,
		    rows * FONT_H + 2 * TERM_PAD + 2 + TITLE_H };
		d->on[L_TERM] = 1;
	}

	/* the media player, bottom right */
	if (d->workload == DEMO_VIDEO || d->workload == DEMO_MIX) {
		vw = MIN(big ? 640 : 320, w - 2 * m - 2);
		vh = MIN(big ? 360 : 180,
		    d->deskh - 2 * m - TITLE_H - CTRL_H - 2);
		if (vw >= 16 && vh >= 16) {
			r = &d->lay[L_PLAYER];
			r->w = vw + 2;
			r->h = vh + TITLE_H + CTRL_H + 2;
			r->x = w - m - r->w;
			r->y = MAX(m, d->deskh - m - r->h);
			d->video = (struct rect){ r->x + 1, r->y + 1 + TITLE_H,
			    vw, vh };
			d->on[L_PLAYER] = 1;
		}
	}

	/* the dragged file manager and its path */
	if (d->workload == DEMO_DRAG) {
		r = &d->lay[L_FILES];
		/* small screens: small enough to have room to move */
		r->w = MIN(440, w * 3 / 5);
		r->h = MIN(320, d->deskh * 3 / 5);
		if (r->w >= 64 && r->h >= 64) {
			d->pcx = (w - r->w) / 2;
			d->pcy = (d->deskh - r->h) / 2;
			d->pax = MAX(d->pcx - m, 0);
			d->pay = MAX(d->pcy - m, 0);
			drag_pos(d, 0, &r->x, &r->y);
			d->on[L_FILES] = 1;
		}
	}

	if (d->workload == DEMO_FULLSCREEN) {
		d->lay[L_FULL] = (struct rect){ 0, 0, w, h };
		d->on[L_FULL] = 1;
	}
}

void
demo_start(struct demo_state *st, uint8_t *fb, const struct demo_mode *m,
    uint32_t workload, uint64_t seed)
{
	struct dstate *d = (struct dstate *)st;
	struct rect all;
	uint64_t i;

	__builtin_memset(d, 0, sizeof(*d));
	if (!mode_ok(m) || workload >= DEMO_NWORKLOADS)
		return;		/* d->magic stays 0: demo_frame does nothing */
	d->magic = DSTATE_MAGIC;
	d->workload = workload;
	d->seed = seed;
	d->m = *m;
	d->w = (int32_t)m->width;
	d->h = (int32_t)m->height;
	d->clock0 = (uint32_t)(mix64(seed) % 86400);
	d->clock_sec = d->clock0;
	layout(d);

	for (i = 0; i < TERM_LINES; i++)
		term_clear_slot(&d->t, i);
	initial_session(d);
	if (workload == DEMO_SCROLL) {
		d->t.cursor = 0;
		d->t.top = 0;
		d->t.cy = 0;
		d->t.cx = 0;
		for (d->sgen = 0; d->sgen <= (uint64_t)d->t.rows; d->sgen++)
			scroll_fill(d, d->sgen);
	} else
		d->t.cursor = 1;

	d->ndmg = 0;
	set_palette(d);
	all = (struct rect){ 0, 0, d->w, d->h };
	redraw(d, fb, all);
}

void
demo_frame(struct demo_state *st, uint8_t *fb, const struct demo_mode *m,
    uint64_t frame, const struct demo_input *in, uint32_t nin)
{
	struct dstate *d = (struct dstate *)st;
	struct pointer *p = &d->p;
	uint64_t rel;
	uint32_t i;

	if (d->magic != DSTATE_MAGIC || !mode_same(m, &d->m))
		return;
	d->nlog = 0;
	if (!d->based) {
		d->base = frame;
		d->based = 1;
	}
	rel = frame >= d->base ? frame - d->base : 0;
	d->frame = frame;
	if (d->on[L_PLAYER] || d->on[L_FULL])
		set_palette(d);

	for (i = 0; i < nin; i++) {
		if (in[i].type == DEMO_INPUT_KEY)
			input_key(d, &in[i]);
		else if (in[i].type == DEMO_INPUT_POINTER)
			input_pointer(d, fb, &in[i]);
		/* wheel: nothing on this desktop scrolls by hand */
	}

	switch (d->workload) {
	case DEMO_BLINK:
		term_set_cursor(d, (frame / BLINK_FRAMES) % 2 == 0);
		break;
	case DEMO_TYPING:
		tick_typing(d, rel);
		break;
	case DEMO_SCROLL:
		tick_scroll(d, rel);
		break;
	case DEMO_DRAG:
		tick_drag(d, frame);
		break;
	case DEMO_VIDEO:
		if (d->on[L_PLAYER])
			damage(d, d->video);
		break;
	case DEMO_FULLSCREEN:
		damage(d, d->lay[L_FULL]);
		break;
	case DEMO_SPARSE:
		tick_sparse(d, fb, frame);
		break;
	case DEMO_MIX:
		tick_typing(d, rel);
		term_set_cursor(d, (frame / BLINK_FRAMES) % 2 == 0);
		tick_clock(d);
		if (d->on[L_PLAYER])
			damage(d, d->video);
		break;
	default:
		break;
	}
	flush(d, fb);

	if (p->on && (!p->drawn || p->dx != p->x || p->dy != p->y)) {
		ptr_erase(d, fb);
		ptr_draw(d, fb);
	}
}

uint32_t
demo_damage(const struct demo_state *st, struct demo_rect *out, uint32_t max)
{
	const struct dstate *d = (const struct dstate *)st;
	uint32_t i, n;

	if (d->magic != DSTATE_MAGIC)
		return 0;
	n = (uint32_t)d->nlog;
	for (i = 0; i < n && i < max; i++) {
		out[i].x = d->log[i].x;
		out[i].y = d->log[i].y;
		out[i].w = d->log[i].w;
		out[i].h = d->log[i].h;
	}
	return n;
}

/* Must stay equal to marker_encode (common/marker.h). */
void
demo_marker_pixels(uint32_t px[DEMO_MARKER_PIXELS], uint64_t t)
{
	uint32_t i;

	for (i = 0; i < DEMO_MARKER_PIXELS; i++)
		px[i] = 0xa5u << 16 | (uint32_t)((t >> (8 * i)) & 0xff) << 8 |
		    (0xa5u ^ i);
}

void
demo_marker(struct demo_state *st, uint8_t *fb, const struct demo_mode *m,
    uint32_t x, uint32_t y, uint64_t t)
{
	struct dstate *d = (struct dstate *)st;
	uint32_t px[DEMO_MARKER_PIXELS], i;

	if (d->magic != DSTATE_MAGIC || !mode_same(m, &d->m) ||
	    x > (uint32_t)d->w || (uint32_t)d->w - x < DEMO_MARKER_PIXELS ||
	    y >= (uint32_t)d->h)
		return;
	demo_marker_pixels(px, t);
	/*
	 * First make the strip invalid (0 is no marker pixel), then write
	 * it: a reader that catches the strip half written (a scan woken by
	 * the very first store, as a write trap does) finds no marker there
	 * instead of one mixing the bytes of two times.  The barrier keeps
	 * the compiler from dropping the first stores.
	 */
	for (i = 0; i < DEMO_MARKER_PIXELS; i++)
		fb_put(fb_at(d, fb, (int32_t)(x + i), (int32_t)y), 0);
	__asm__ volatile("" ::: "memory");
	for (i = 0; i < DEMO_MARKER_PIXELS; i++)
		fb_put(fb_at(d, fb, (int32_t)(x + i), (int32_t)y), px[i]);
	log_write(d, (struct rect){ (int32_t)x, (int32_t)y,
	    DEMO_MARKER_PIXELS, 1 });
}

static int
streq(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

int
demo_workload_parse(const char *name)
{
	uint32_t i;

	for (i = 0; i < DEMO_NWORKLOADS; i++)
		if (streq(name, demo_workload_name(i)))
			return (int)i;
	return -1;
}

const char *
demo_workload_name(uint32_t workload)
{
	/* a switch, not a table of pointers: no relocations in the guest */
	switch (workload) {
	case DEMO_IDLE:
		return "idle";
	case DEMO_BLINK:
		return "blink";
	case DEMO_TYPING:
		return "typing";
	case DEMO_SCROLL:
		return "scroll";
	case DEMO_DRAG:
		return "drag";
	case DEMO_VIDEO:
		return "video";
	case DEMO_FULLSCREEN:
		return "fullscreen";
	case DEMO_SPARSE:
		return "sparse";
	case DEMO_MIX:
		return "mix";
	default:
		return "?";
	}
}
