/*
 * fbtool - writes the raw framebuffer file x11vnc -rawfb serves in the
 * probe tests, and compares images with the probe's readers.
 *
 *   fbtool create FILE W H [gradient|RRGGBB]  new file, X octets 0xff
 *   fbtool fill FILE W X Y RRGGBB [RW RH]      paint a rectangle
 *   fbtool marker FILE W X Y                   latency marker, time now
 *   fbtool ppm FILE W H                        the file as PPM on stdout
 *   fbtool cmp IMAGE IMAGE                     exit 0 if equal, else 1
 *
 * Pixels are XRGB8888 little-endian, the layout of x11vnc's
 * "map:FILE@WxHx32".  Writes go through pwrite into the file x11vnc has
 * mapped, so it sees them on its next poll.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "log.h"
#include "marker.h"

static uint32_t
num(const char *s, uint32_t max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max)
		fatalx("bad number \"%s\"", s);
	return (uint32_t)v;
}

static uint32_t
colour(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 16);
	if (errno != 0 || strlen(s) != 6 || *end != '\0')
		fatalx("bad colour \"%s\" (RRGGBB)", s);
	return (uint32_t)v;
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* The test pattern: every pixel differs from its neighbours. */
static uint32_t
gradient(uint32_t x, uint32_t y)
{
	return 0xff000000u | ((x * 4) & 0xff) << 16 | ((y * 5) & 0xff) << 8 |
	    ((x ^ y) & 0xff);
}

static void
write_row(int fd, uint32_t w, uint32_t x, uint32_t y, const uint32_t *px,
    uint32_t n)
{
	uint8_t buf[4 * 256];
	uint32_t i, chunk;
	off_t off = ((off_t)y * w + x) * 4;

	while (n > 0) {
		chunk = n < 256 ? n : 256;
		for (i = 0; i < chunk; i++)
			put_le32(buf + 4 * i, px[i]);
		if (pwrite(fd, buf, 4 * chunk, off) != (ssize_t)(4 * chunk))
			fatal("pwrite");
		px += chunk;
		n -= chunk;
		off += 4 * chunk;
	}
}

/* Refuse writes past the end: x11vnc maps the file at its first size. */
static void
check_fits(int fd, uint32_t w, uint32_t x, uint32_t y, uint32_t rw,
    uint32_t rh)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		fatal("fstat");
	if (rh == 0 || (((off_t)y + rh - 1) * w + x + rw) * 4 > st.st_size)
		fatalx("rectangle past the end of the file");
}

static int
cmd_create(int argc, char **argv)
{
	uint32_t w, h, x, y, *row, solid = 0;
	int fd, grad = 1;

	if (argc < 3)
		fatalx("create FILE W H [gradient|RRGGBB]");
	w = num(argv[1], IMAGE_MAX_DIM);
	h = num(argv[2], IMAGE_MAX_DIM);
	if (argc > 3 && strcmp(argv[3], "gradient") != 0) {
		grad = 0;
		solid = 0xff000000u | colour(argv[3]);
	}
	if ((fd = open(argv[0], O_RDWR | O_CREAT | O_TRUNC, 0644)) == -1)
		fatal("%s", argv[0]);
	if ((row = calloc(w, sizeof(*row))) == NULL)
		fatal("row");
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++)
			row[x] = grad ? gradient(x, y) : solid;
		write_row(fd, w, 0, y, row, w);
	}
	free(row);
	close(fd);
	return 0;
}

static int
cmd_fill(int argc, char **argv)
{
	uint32_t w, x, y, c, rw = 1, rh = 1, i, *row;
	int fd;

	if (argc != 5 && argc != 7)
		fatalx("fill FILE W X Y RRGGBB [RW RH]");
	w = num(argv[1], IMAGE_MAX_DIM);
	x = num(argv[2], IMAGE_MAX_DIM);
	y = num(argv[3], IMAGE_MAX_DIM);
	c = colour(argv[4]);
	if (argc == 7) {
		rw = num(argv[5], IMAGE_MAX_DIM);
		rh = num(argv[6], IMAGE_MAX_DIM);
	}
	if (x + rw > w)
		fatalx("rectangle past the right edge");
	if ((fd = open(argv[0], O_RDWR)) == -1)
		fatal("%s", argv[0]);
	check_fits(fd, w, x, y, rw, rh);
	if ((row = calloc(rw, sizeof(*row))) == NULL)
		fatal("row");
	for (i = 0; i < rw; i++)
		row[i] = c;
	for (i = 0; i < rh; i++)
		write_row(fd, w, x, y + i, row, rw);
	free(row);
	close(fd);
	return 0;
}

static int
cmd_marker(int argc, char **argv)
{
	uint32_t w, x, y, px[MARKER_PIXELS];
	int fd;

	if (argc != 4)
		fatalx("marker FILE W X Y");
	w = num(argv[1], IMAGE_MAX_DIM);
	x = num(argv[2], IMAGE_MAX_DIM);
	y = num(argv[3], IMAGE_MAX_DIM);
	if (x + MARKER_PIXELS > w)
		fatalx("marker past the right edge");
	if ((fd = open(argv[0], O_RDWR)) == -1)
		fatal("%s", argv[0]);
	check_fits(fd, w, x, y, MARKER_PIXELS, 1);
	marker_encode(px, marker_now_ns());
	write_row(fd, w, x, y, px, MARKER_PIXELS);
	close(fd);
	return 0;
}

static int
cmd_ppm(int argc, char **argv)
{
	struct image img;
	char spec[4096];
	uint32_t i;

	if (argc != 3)
		fatalx("ppm FILE W H");
	snprintf(spec, sizeof(spec), "%s@%sx%s", argv[0], argv[1], argv[2]);
	if (image_load(spec, &img) == -1)
		return 1;
	printf("P6\n%u %u\n255\n", img.width, img.height);
	for (i = 0; i < img.width * img.height; i++) {
		putchar(img.px[i] >> 16 & 0xff);
		putchar(img.px[i] >> 8 & 0xff);
		putchar(img.px[i] & 0xff);
	}
	image_free(&img);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
cmd_cmp(int argc, char **argv)
{
	struct image a, b;
	size_t i, n = 0;
	int rc = 1;

	if (argc != 2)
		fatalx("cmp IMAGE IMAGE");
	if (image_load(argv[0], &a) == -1)
		return 2;
	if (image_load(argv[1], &b) == -1) {
		image_free(&a);
		return 2;
	}
	if (a.width != b.width || a.height != b.height)
		fprintf(stderr, "fbtool: sizes differ: %ux%u, %ux%u\n",
		    a.width, a.height, b.width, b.height);
	else {
		for (i = 0; i < (size_t)a.width * a.height; i++)
			n += (a.px[i] & 0xffffff) != (b.px[i] & 0xffffff);
		if (n > 0)
			fprintf(stderr, "fbtool: %zu pixels differ\n", n);
		else
			rc = 0;
	}
	image_free(&a);
	image_free(&b);
	return rc;
}

int
main(int argc, char **argv)
{
	log_init("fbtool", 0);
	if (argc < 2)
		fatalx("usage: fbtool create|fill|marker|ppm|cmp ...");
	if (strcmp(argv[1], "create") == 0)
		return cmd_create(argc - 2, argv + 2);
	if (strcmp(argv[1], "fill") == 0)
		return cmd_fill(argc - 2, argv + 2);
	if (strcmp(argv[1], "marker") == 0)
		return cmd_marker(argc - 2, argv + 2);
	if (strcmp(argv[1], "ppm") == 0)
		return cmd_ppm(argc - 2, argv + 2);
	if (strcmp(argv[1], "cmp") == 0)
		return cmd_cmp(argc - 2, argv + 2);
	fatalx("unknown command %s", argv[1]);
}
