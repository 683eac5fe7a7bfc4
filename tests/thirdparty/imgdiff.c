/*
 * imgdiff - compares a picture a third-party client produced with the
 * provider's framebuffer, with the probe's image readers (clients/image.h).
 *
 *   imgdiff [-q] [-t MAXDIFF -m MEAN -p PERCENT -b BLOCK] [-d DIFF.png]
 *           IMAGE REF
 *
 * IMAGE and REF are PNG or PPM files or FILE@WxH[+STRIDE][:OFFSET] raw
 * XRGB8888 dumps, such as /proc/PID/fd/N of lfbvnc-demo's memfd.  Without
 * -t/-m/-p every pixel must be equal.  With them (for lossy clients) a
 * pixel is "close" when no channel differs by more than MAXDIFF, and the
 * images match when at least PERCENT of the pixels are close and the mean
 * absolute error per channel is at most MEAN (0-255 units), over the
 * whole picture and (-b) over each 16x16 block: a lossy encoder spreads
 * small errors, a misplaced or missing rectangle concentrates big ones.
 *
 * Prints what differs (counts, the bounding box, the worst block, and the
 * first differing pixels when the images do not match) unless -q; -d writes a picture of the differences (differing pixels red, the
 * rest of REF dimmed).  Exits 0 when the images match, 1 when they differ
 * (a different size included), 2 on a usage or file error.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "log.h"

#define SHOW_FIRST	8
#define BLOCK		16

static void
usage(void)
{
	fprintf(stderr, "usage: imgdiff [-q] [-t MAXDIFF -m MEAN -p PERCENT "
	    "-b BLOCK] [-d DIFF.png] IMAGE REF\n");
	exit(2);
}

static double
num(const char *s, double max)
{
	char *end;
	double v;

	v = strtod(s, &end);
	if (end == s || *end != '\0' || !(v >= 0 && v <= max)) {
		fprintf(stderr, "imgdiff: bad number \"%s\"\n", s);
		exit(2);
	}
	return v;
}

static unsigned
chan_diff(uint32_t a, uint32_t b, int shift)
{
	int x = (int)((a >> shift) & 0xff), y = (int)((b >> shift) & 0xff);

	return (unsigned)(x > y ? x - y : y - x);
}

int
main(int argc, char **argv)
{
	struct image a, b;
	const char *diff_path = NULL;
	double maxdiff = 0, mean = 0, percent = 100, sum = 0, got_mean;
	double close_pct, block = 255, worst_block = 0, bsum;
	uint32_t bx, by, wbx = 0, wby = 0;
	uint64_t ndiff = 0, nclose = 0, n;
	uint32_t x, y, x0 = UINT32_MAX, y0 = UINT32_MAX, x1 = 0, y1 = 0;
	uint32_t *dpx = NULL;
	uint32_t fx[SHOW_FIRST], fy[SHOW_FIRST], fa[SHOW_FIRST], fb[SHOW_FIRST];
	unsigned worst = 0, d, nfirst = 0, i;
	int ch, quiet = 0, match;

	log_init("imgdiff", 0);
	while ((ch = getopt(argc, argv, "b:d:m:p:qt:")) != -1) {
		switch (ch) {
		case 'b':
			block = num(optarg, 255);
			break;
		case 'd':
			diff_path = optarg;
			break;
		case 'm':
			mean = num(optarg, 255);
			break;
		case 'p':
			percent = num(optarg, 100);
			break;
		case 'q':
			quiet = 1;
			break;
		case 't':
			maxdiff = num(optarg, 255);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	if (image_load(argv[optind], &a) == -1)
		return 2;
	if (image_load(argv[optind + 1], &b) == -1) {
		image_free(&a);
		return 2;
	}
	if (a.width != b.width || a.height != b.height) {
		if (!quiet)
			printf("imgdiff: %s is %ux%u, %s is %ux%u\n",
			    argv[optind], a.width, a.height, argv[optind + 1],
			    b.width, b.height);
		image_free(&a);
		image_free(&b);
		return 1;
	}
	n = (uint64_t)a.width * a.height;
	if (diff_path != NULL && (dpx = calloc(n, sizeof(*dpx))) == NULL)
		fatal("calloc");
	for (y = 0; y < a.height; y++) {
		for (x = 0; x < a.width; x++) {
			uint32_t pa = a.px[(size_t)y * a.width + x] & 0xffffff;
			uint32_t pb = b.px[(size_t)y * b.width + x] & 0xffffff;
			unsigned dr = chan_diff(pa, pb, 16);
			unsigned dg = chan_diff(pa, pb, 8);
			unsigned db = chan_diff(pa, pb, 0);

			d = dr > dg ? dr : dg;
			d = d > db ? d : db;
			sum += dr + dg + db;
			if (d <= maxdiff)
				nclose++;
			if (dpx != NULL)
				dpx[(size_t)y * a.width + x] = d != 0 ?
				    0xff0000 : (pb >> 2) & 0x3f3f3f;
			if (d == 0)
				continue;
			ndiff++;
			worst = d > worst ? d : worst;
			x0 = x < x0 ? x : x0;
			y0 = y < y0 ? y : y0;
			x1 = x > x1 ? x : x1;
			y1 = y > y1 ? y : y1;
			if (nfirst < SHOW_FIRST) {
				fx[nfirst] = x;
				fy[nfirst] = y;
				fa[nfirst] = pa;
				fb[nfirst++] = pb;
			}
		}
	}
	/* the worst 16x16 block (smaller at the right and bottom edges) */
	for (by = 0; by < a.height; by += BLOCK) {
		for (bx = 0; bx < a.width; bx += BLOCK) {
			uint32_t xe = bx + BLOCK < a.width ? bx + BLOCK : a.width;
			uint32_t ye = by + BLOCK < a.height ? by + BLOCK :
			    a.height;

			bsum = 0;
			for (y = by; y < ye; y++) {
				for (x = bx; x < xe; x++) {
					uint32_t pa = a.px[(size_t)y * a.width + x];
					uint32_t pb = b.px[(size_t)y * b.width + x];

					bsum += chan_diff(pa, pb, 16) +
					    chan_diff(pa, pb, 8) +
					    chan_diff(pa, pb, 0);
				}
			}
			bsum /= 3.0 * (xe - bx) * (ye - by);
			if (bsum > worst_block) {
				worst_block = bsum;
				wbx = bx;
				wby = by;
			}
		}
	}
	got_mean = sum / (3.0 * (double)n);
	close_pct = 100.0 * (double)nclose / (double)n;
	match = close_pct >= percent && got_mean <= mean &&
	    (ndiff == 0 || worst_block <= block);
	for (i = 0; !quiet && !match && i < nfirst; i++)
		printf("imgdiff: (%u,%u) is %06x, want %06x\n", fx[i], fy[i],
		    fa[i], fb[i]);
	if (!quiet) {
		printf("imgdiff: %ux%u, %llu of %llu pixels differ",
		    a.width, a.height, (unsigned long long)ndiff,
		    (unsigned long long)n);
		if (ndiff != 0)
			printf(" in (%u,%u)-(%u,%u), by up to %u", x0, y0,
			    x1, y1, worst);
		printf("; mean abs error %.3f (max %g), %.3f%% within %g "
		    "(min %g%%), worst block %.3f at (%u,%u) (max %g): %s\n",
		    got_mean, mean, close_pct, maxdiff, percent, worst_block,
		    wbx, wby, block, match ? "match" : "DIFFERENT");
	}
	if (dpx != NULL && image_write(diff_path, dpx, a.width, a.height,
	    a.width) == -1)
		match = 0;
	free(dpx);
	image_free(&a);
	image_free(&b);
	return match ? 0 : 1;
}
