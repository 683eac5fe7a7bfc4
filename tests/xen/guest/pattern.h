/*
 * What the Xen test guest draws, shared by the guest (tests/xen/guest/
 * guest.c, 32-bit freestanding) and the checker that reads its VRAM from
 * dom0 (tests/xen/dom0/dirtyvram-check.c), so both sides compute the same
 * pixels.  Pixels are 32-bit 0x00RRGGBB words.  Every region fits a 640x480
 * screen, so the layout holds for any mode the guest may be told to set.
 */
#ifndef XENTEST_PATTERN_H
#define XENTEST_PATTERN_H

/* Workloads, selected by "!<digit>" on the guest's COM1 or by the byte at
 * XG_CFG_WORKLOAD_OFF in the disk image (boot sector). */
#define XG_WL_IDLE	0	/* the background, drawn once */
#define XG_WL_BLINK	1	/* one block toggles every XG_BLINK_MS */
#define XG_WL_TYPING	2	/* a glyph cell every XG_TYPE_MS in the text box */
#define XG_WL_FULL	3	/* the whole screen, every XG_FULL_MS */
#define XG_WL_COUNT	4

/* The configuration block in the boot sector (byte offsets in the image). */
#define XG_CFG_OFF		0x1b0	/* "XGCF" */
#define XG_CFG_WORKLOAD_OFF	0x1b4	/* u8: initial workload */
#define XG_CFG_WIDTH_OFF	0x1b6	/* u16 LE, default 1024 */
#define XG_CFG_HEIGHT_OFF	0x1b8	/* u16 LE, default 768 */

/* Timer: the PIT runs at XG_HZ; the workloads are paced in ticks. */
#define XG_HZ		100
#define XG_BLINK_MS	500
#define XG_TYPE_MS	50
#define XG_FULL_MS	100

/* Blinking block. */
#define XG_BLINK_X	32
#define XG_BLINK_Y	32
#define XG_BLINK_W	64
#define XG_BLINK_H	64
#define XG_BLINK_ON	0x00ffd700u
#define XG_BLINK_OFF	0x000030c0u

/* Text box of the typing workload: XG_TEXT_COLS x XG_TEXT_ROWS cells. */
#define XG_TEXT_X	32
#define XG_TEXT_Y	128
#define XG_CELL_W	8
#define XG_CELL_H	16
#define XG_TEXT_COLS	64
#define XG_TEXT_ROWS	8
#define XG_TEXT_FG	0x00e0e0e0u
#define XG_TEXT_BG	0x00202020u

/* Key blocks: the n-th key press fills slot n % XG_KEY_SLOTS. */
#define XG_KEY_X	32
#define XG_KEY_Y	320
#define XG_KEY_W	32	/* slot pitch; the block is XG_KEY_W - 4 wide */
#define XG_KEY_H	28
#define XG_KEY_SLOTS	16

/* Pointer: a solid square, hidden until the first PS/2 mouse packet; it
 * starts at the screen centre and moves by the packets' deltas. */
#define XG_CUR_SIZE		8
#define XG_CUR_COLOUR		0x00ffffffu
#define XG_CUR_PRESSED		0x00ff2020u	/* while the left button is down */

#ifndef __ASSEMBLER__
#include <stdint.h>

static inline uint32_t xg_bg(uint32_t x, uint32_t y)
{
	if ((x & 63) == 0 || (y & 63) == 0)
		return 0x00404040u;
	return ((x >> 2) & 0xff) << 16 | ((y >> 2) & 0xff) << 8 |
		(((x ^ y) >> 1) & 0x7f);
}

/* Frame f of the full-redraw workload. */
static inline uint32_t xg_full(uint32_t x, uint32_t y, uint32_t f)
{
	return xg_bg(x + f * 8, y + f * 4) ^ ((f & 1) ? 0x00800080u : 0);
}

/* The colour of the block drawn for a key: code is the set-1 scan code of
 * the make (press) byte, plus 0x100 after an 0xe0 prefix. */
static inline uint32_t xg_key_colour(uint32_t code)
{
	uint32_t h = code * 2654435761u;
	return ((h >> 8) & 0xff) << 16 | ((h >> 16) & 0xff) << 8 |
		((h >> 24) | 0x40);
}

/* Glyph of text cell i (row-major in the text box): an 8x16 bit pattern,
 * blank in the outer rows and the last column like a real font. */
static inline int xg_glyph_bit(uint32_t i, uint32_t gx, uint32_t gy)
{
	uint32_t h;

	if (gx >= XG_CELL_W - 1 || gy < 2 || gy >= XG_CELL_H - 2)
		return 0;
	h = (i + 1) * 2246822519u;
	h ^= h >> 13;
	h *= 3266489917u;
	return (h >> ((gy * 7 + gx) & 31)) & 1;
}

#endif /* __ASSEMBLER__ */
#endif
