/*
 * xen-frame - the Xen test guest's expected screen, for lfbvnc-probe's
 * exact comparisons (--compare FILE@WxH) on the host.
 *
 *   xen-frame OUT WxH [--blink on|off] [--typing] [--key CODE]...
 *             [--pointer X,Y[,B]]
 *
 * OUT gets W x H little-endian XRGB8888 pixels, computed with the guest's
 * own tests/xen/guest/pattern.h (so both sides draw the same thing):
 *   (nothing)        the idle workload's background;
 *   --blink on|off   the blink workload with its block in that phase;
 *   --typing         the typing workload with every text cell drawn (the
 *                    first text row is this from its 64th cell until the
 *                    box is cleared again, 25.6 s later);
 *   --key CODE       the next key slot filled for set-1 scan code CODE
 *                    (0x1e for 'a', 0x11c for keypad Enter), in order;
 *   --pointer X,Y,B  the 8x8 pointer at X,Y, white, or red when B & 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"

static uint32_t *fb;
static uint32_t W, H;

static void
fill(uint32_t x0, uint32_t y0, uint32_t w, uint32_t h, uint32_t c)
{
	uint32_t x, y;

	for (y = y0; y < y0 + h && y < H; y++)
		for (x = x0; x < x0 + w && x < W; x++)
			fb[y * W + x] = c;
}

static int
usage(void)
{
	fprintf(stderr, "usage: xen-frame OUT WxH [--blink on|off] [--typing] "
	    "[--key CODE]... [--pointer X,Y[,B]]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	uint32_t x, y, i, gx, gy, nkeys = 0;
	int px = -1, py = -1, pb = 0;
	unsigned char *out;
	FILE *f;
	int a;

	if (argc < 3 || sscanf(argv[2], "%ux%u", &W, &H) != 2 || W < 640 ||
	    H < 480 || W > 8192 || H > 8192)
		return usage();
	fb = calloc((size_t)W * H, sizeof(*fb));
	out = malloc((size_t)W * H * 4);
	if (fb == NULL || out == NULL)
		return 1;
	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++)
			fb[y * W + x] = xg_bg(x, y);
	for (a = 3; a < argc; a++) {
		if (!strcmp(argv[a], "--blink") && a + 1 < argc) {
			a++;
			fill(XG_BLINK_X, XG_BLINK_Y, XG_BLINK_W, XG_BLINK_H,
			    !strcmp(argv[a], "on") ? XG_BLINK_ON : XG_BLINK_OFF);
		} else if (!strcmp(argv[a], "--typing")) {
			for (i = 0; i < XG_TEXT_COLS * XG_TEXT_ROWS; i++) {
				uint32_t x0 = XG_TEXT_X + (i % XG_TEXT_COLS) *
				    XG_CELL_W;
				uint32_t y0 = XG_TEXT_Y + (i / XG_TEXT_COLS) *
				    XG_CELL_H;

				for (gy = 0; gy < XG_CELL_H; gy++)
					for (gx = 0; gx < XG_CELL_W; gx++)
						fb[(y0 + gy) * W + x0 + gx] =
						    xg_glyph_bit(i, gx, gy) ?
						    XG_TEXT_FG : XG_TEXT_BG;
			}
		} else if (!strcmp(argv[a], "--key") && a + 1 < argc) {
			uint32_t code = (uint32_t)strtoul(argv[++a], NULL, 0);
			uint32_t slot = nkeys++ % XG_KEY_SLOTS;

			fill(XG_KEY_X + slot * XG_KEY_W + 2, XG_KEY_Y,
			    XG_KEY_W - 4, XG_KEY_H, xg_key_colour(code));
		} else if (!strcmp(argv[a], "--pointer") && a + 1 < argc) {
			if (sscanf(argv[++a], "%d,%d,%d", &px, &py, &pb) < 2)
				return usage();
		} else
			return usage();
	}
	if (px >= 0 && py >= 0)
		fill((uint32_t)px, (uint32_t)py, XG_CUR_SIZE, XG_CUR_SIZE,
		    (pb & 1) ? XG_CUR_PRESSED : XG_CUR_COLOUR);
	for (i = 0; i < W * H; i++) {
		out[i * 4] = (unsigned char)fb[i];
		out[i * 4 + 1] = (unsigned char)(fb[i] >> 8);
		out[i * 4 + 2] = (unsigned char)(fb[i] >> 16);
		out[i * 4 + 3] = 0;
	}
	if ((f = fopen(argv[1], "wb")) == NULL ||
	    fwrite(out, 4, (size_t)W * H, f) != (size_t)W * H ||
	    fclose(f) != 0) {
		perror(argv[1]);
		return 1;
	}
	free(fb);
	free(out);
	return 0;
}
