/*
 * test-png: the probe's image files.  PNG and PPM round trips through the
 * writers and readers, PNGs built here with every filter type and colour
 * type the reader takes, raw XRGB8888 references, and damaged files the
 * readers must refuse.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "image.h"
#include "log.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static char tmpdir[] = "/tmp/test-png.XXXXXX";

static uint32_t
pattern(uint32_t x, uint32_t y, uint32_t seed)
{
	uint32_t v = (x + 1) * 2654435761u ^ (y + 7) * 40503u ^ seed;

	return (v ^ v >> 13) & 0x00ffffffu;
}

static int
same(const struct image *img, const uint32_t *px, uint32_t w, uint32_t h,
    size_t stride)
{
	uint32_t x, y;

	if (img->width != w || img->height != h)
		return 0;
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			if ((img->px[(size_t)y * w + x] & 0xffffff) !=
			    (px[(size_t)y * stride + x] & 0xffffff))
				return 0;
	return 1;
}

static void
test_round_trip(void)
{
	static const uint32_t sizes[][2] = {
		{ 1, 1 }, { 3, 2 }, { 17, 5 }, { 300, 7 }, { 64, 48 },
		{ 1, 300 }, { 1000, 300 },
	};
	char png[64], ppm[64];
	struct image img;
	uint32_t *px, w, h, x, y, stride;
	size_t i;

	snprintf(png, sizeof(png), "%s/a.png", tmpdir);
	snprintf(ppm, sizeof(ppm), "%s/a.ppm", tmpdir);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		w = sizes[i][0];
		h = sizes[i][1];
		stride = w + 3;	/* rows with padding, like a framebuffer */
		px = calloc((size_t)stride * h, sizeof(*px));
		for (y = 0; y < h; y++)
			for (x = 0; x < stride; x++)
				/* high octet set: the writer must drop it */
				px[(size_t)y * stride + x] = 0xff000000u |
				    pattern(x, y, (uint32_t)i);

		CHECK(image_write(png, px, w, h, stride) == 0, "write png");
		CHECK(image_load(png, &img) == 0, "load png %ux%u", w, h);
		CHECK(same(&img, px, w, h, stride), "png %ux%u differs", w, h);
		image_free(&img);

		CHECK(image_write(ppm, px, w, h, stride) == 0, "write ppm");
		CHECK(image_load(ppm, &img) == 0, "load ppm %ux%u", w, h);
		CHECK(same(&img, px, w, h, stride), "ppm %ux%u differs", w, h);
		image_free(&img);
		free(px);
	}
	/* A flat image compresses: the deflate stream spans IDAT chunks
	 * only when large, so also try one of several IDATs. */
	w = 2000;
	h = 700;
	px = calloc((size_t)w * h, sizeof(*px));
	for (i = 0; i < (size_t)w * h; i++)
		px[i] = pattern((uint32_t)i, 0, 99);
	CHECK(image_write_png(png, px, w, h, w) == 0, "write big png");
	CHECK(image_load(png, &img) == 0 && same(&img, px, w, h, w),
	    "big png round trip");
	image_free(&img);
	free(px);
}

/* ------------------------------------------------ hand-made PNG files */

struct buf {
	uint8_t	*p;
	size_t	 n;
};

static void
buf_add(struct buf *b, const void *d, size_t n)
{
	b->p = realloc(b->p, b->n + n);
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void
be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void
chunk(struct buf *b, const char *type, const uint8_t *d, uint32_t n)
{
	uint8_t hdr[8], crc[4];
	uLong c;

	be32(hdr, n);
	memcpy(hdr + 4, type, 4);
	c = crc32(0L, hdr + 4, 4);
	if (n > 0)	/* crc32(c, NULL, 0) is 0, not c */
		c = crc32(c, d, n);
	be32(crc, (uint32_t)c);
	buf_add(b, hdr, 8);
	if (n > 0)
		buf_add(b, d, n);
	buf_add(b, crc, 4);
}

static uint8_t
paeth(uint8_t a, uint8_t b, uint8_t c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/*
 * A PNG of w x h 8-bit samples of colour type ctype (bpp octets per
 * pixel) from samples[], row y filtered with filter (y % 5) unless
 * filter >= 0.
 */
static struct buf
make_png(uint32_t w, uint32_t h, uint8_t ctype, unsigned bpp,
    const uint8_t *samples, int filter)
{
	struct buf b = { NULL, 0 };
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', 13, 10, 26, 10 };
	uint8_t ihdr[13], *raw, *z, a, up, c, ft;
	const uint8_t *row, *prev;
	size_t rowlen = (size_t)w * bpp, i;
	uLongf zlen;
	uint32_t y;

	raw = malloc((rowlen + 1) * h);
	for (y = 0; y < h; y++) {
		row = samples + y * rowlen;
		prev = y > 0 ? row - rowlen : NULL;
		ft = filter >= 0 ? (uint8_t)filter : (uint8_t)(y % 5);
		raw[y * (rowlen + 1)] = ft;
		for (i = 0; i < rowlen; i++) {
			a = i >= bpp ? row[i - bpp] : 0;
			up = prev != NULL ? prev[i] : 0;
			c = i >= bpp && prev != NULL ? prev[i - bpp] : 0;
			switch (ft) {
			case 1: c = row[i] - a; break;
			case 2: c = row[i] - up; break;
			case 3: c = row[i] - (uint8_t)((a + up) / 2); break;
			case 4: c = row[i] - paeth(a, up, c); break;
			default: c = row[i]; break;
			}
			raw[y * (rowlen + 1) + 1 + i] = c;
		}
	}
	zlen = compressBound((uLong)((rowlen + 1) * h));
	z = malloc(zlen);
	compress(z, &zlen, raw, (uLong)((rowlen + 1) * h));

	buf_add(&b, sig, 8);
	be32(ihdr, w);
	be32(ihdr + 4, h);
	ihdr[8] = 8;
	ihdr[9] = ctype;
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	chunk(&b, "IHDR", ihdr, 13);
	chunk(&b, "tEXt", (const uint8_t *)"Comment\0hi", 10);
	/* Split the stream over two IDATs, as encoders may. */
	chunk(&b, "IDAT", z, (uint32_t)(zlen / 2));
	chunk(&b, "IDAT", z + zlen / 2, (uint32_t)(zlen - zlen / 2));
	chunk(&b, "IEND", NULL, 0);
	free(z);
	free(raw);
	return b;
}

static void
test_filters_and_types(void)
{
	static const struct {
		uint8_t		ctype;
		unsigned	bpp;
	} types[] = { { 0, 1 }, { 2, 3 }, { 4, 2 }, { 6, 4 } };
	struct image img;
	struct buf b;
	uint8_t *s, *p;
	uint32_t w = 23, h = 11, x, y, want;
	size_t t, i;
	int f, ok;

	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++)
		for (f = -1; f < 5; f++) {
			s = malloc((size_t)w * h * types[t].bpp);
			for (i = 0; i < (size_t)w * h * types[t].bpp; i++)
				s[i] = (uint8_t)(pattern((uint32_t)i, 3,
				    (uint32_t)f) >> 3);
			b = make_png(w, h, types[t].ctype, types[t].bpp, s, f);
			ok = image_decode_png(b.p, b.n, &img) == 0;
			CHECK(ok, "decode ctype %u filter %d", types[t].ctype,
			    f);
			for (y = 0; ok && y < h; y++)
				for (x = 0; x < w; x++) {
					p = s + ((size_t)y * w + x) *
					    types[t].bpp;
					want = types[t].bpp <= 2 ?
					    p[0] * 0x010101u :
					    (uint32_t)p[0] << 16 |
					    (uint32_t)p[1] << 8 | p[2];
					if (img.px[y * w + x] != want) {
						CHECK(0, "ctype %u filter %d "
						    "pixel %u,%u",
						    types[t].ctype, f, x, y);
						ok = 0;
						break;
					}
				}
			image_free(&img);
			free(b.p);
			free(s);
		}
}

static void
test_bad_png(void)
{
	struct image img;
	struct buf b;
	uint8_t s[4 * 3 * 3], *copy, ihdr[13];
	size_t i, cut;

	memset(s, 0x5a, sizeof(s));
	b = make_png(4, 3, 2, 3, s, 0);
	CHECK(image_decode_png(b.p, b.n, &img) == 0, "good file decodes");
	image_free(&img);

	/* Every truncation is refused, without reading past the end. */
	for (cut = 0; cut < b.n; cut++) {
		copy = malloc(cut > 0 ? cut : 1);
		memcpy(copy, b.p, cut);
		CHECK(image_decode_png(copy, cut, &img) == -1,
		    "truncated at %zu accepted", cut);
		free(copy);
	}
	/* Every single flipped bit is caught (CRC, signature, lengths). */
	for (i = 0; i < b.n * 8; i += 7) {
		b.p[i / 8] ^= 1u << (i % 8);
		if (image_decode_png(b.p, b.n, &img) == 0) {
			/* a flip inside a CRC-protected ancillary chunk's
			 * data is still caught; nothing may pass */
			CHECK(0, "bit %zu flip accepted", i);
			image_free(&img);
		}
		b.p[i / 8] ^= 1u << (i % 8);
	}
	free(b.p);

	/* Bad filter type. */
	b = make_png(4, 3, 2, 3, s, 5);
	CHECK(image_decode_png(b.p, b.n, &img) == -1, "filter 5 accepted");
	free(b.p);

	/* Too large, 16-bit, palette, interlaced. */
	b = make_png(4, 3, 2, 3, s, 0);
	memcpy(ihdr, b.p + 16, 13);
	be32(b.p + 16, 20000);
	be32(b.p + 29, (uint32_t)crc32(0L, b.p + 12, 17));
	CHECK(image_decode_png(b.p, b.n, &img) == -1, "20000 wide accepted");
	memcpy(b.p + 16, ihdr, 13);
	b.p[24] = 16;
	be32(b.p + 29, (uint32_t)crc32(0L, b.p + 12, 17));
	CHECK(image_decode_png(b.p, b.n, &img) == -1, "16-bit accepted");
	b.p[24] = 8;
	b.p[25] = 3;
	be32(b.p + 29, (uint32_t)crc32(0L, b.p + 12, 17));
	CHECK(image_decode_png(b.p, b.n, &img) == -1, "palette accepted");
	b.p[25] = 2;
	b.p[28] = 1;
	be32(b.p + 29, (uint32_t)crc32(0L, b.p + 12, 17));
	CHECK(image_decode_png(b.p, b.n, &img) == -1, "interlace accepted");
	free(b.p);

	/* More pixel data than the header says: 4x3 data, 4x2 header. */
	b = make_png(4, 3, 2, 3, s, 0);
	be32(b.p + 20, 2);
	be32(b.p + 29, (uint32_t)crc32(0L, b.p + 12, 17));
	CHECK(image_decode_png(b.p, b.n, &img) == -1, "extra data accepted");
	/* Less: 4x3 data, 4x4 header. */
	be32(b.p + 20, 4);
	be32(b.p + 29, (uint32_t)crc32(0L, b.p + 12, 17));
	CHECK(image_decode_png(b.p, b.n, &img) == -1, "short data accepted");
	free(b.p);
}

static void
test_ppm(void)
{
	static const char good[] = "P6 # comment\n2 1\n255\n\x01\x02\x03\xff\xfe\xfd";
	struct image img;

	CHECK(image_decode_ppm((const uint8_t *)good, sizeof(good) - 1,
	    &img) == 0 && img.width == 2 && img.height == 1 &&
	    img.px[0] == 0x010203 && img.px[1] == 0xfffefd, "ppm decode");
	image_free(&img);
	CHECK(image_decode_ppm((const uint8_t *)good, sizeof(good) - 2,
	    &img) == -1, "truncated ppm accepted");
	CHECK(image_decode_ppm((const uint8_t *)"P6\n2 1\n65535\n", 13,
	    &img) == -1, "16-bit ppm accepted");
	CHECK(image_decode_ppm((const uint8_t *)"P6\n99999 1\n255\n", 15,
	    &img) == -1, "huge ppm accepted");
	CHECK(image_decode_ppm((const uint8_t *)"P3\n1 1\n255\n1 2 3\n", 17,
	    &img) == -1, "P3 accepted");
	CHECK(image_decode_ppm((const uint8_t *)"P6\n1", 4, &img) == -1,
	    "header only accepted");
}

static void
test_raw(void)
{
	char path[64], spec[128], *p = NULL;
	uint8_t data[4 * 8 * 3 + 16];
	struct image img;
	uint64_t stride, off;
	uint32_t w, h;
	FILE *f;
	size_t i;

	CHECK(image_parse_raw_spec("fb@2x3", &p, &w, &h, &stride, &off) == 0 &&
	    strcmp(p, "fb") == 0 && w == 2 && h == 3 && stride == 8 &&
	    off == 0, "plain raw spec");
	free(p);
	CHECK(image_parse_raw_spec("a@b@4x5+32:0x10", &p, &w, &h, &stride,
	    &off) == 0 && strcmp(p, "a@b") == 0 && w == 4 && h == 5 &&
	    stride == 32 && off == 16, "raw spec with stride and offset");
	free(p);
	CHECK(image_parse_raw_spec("x.png", &p, &w, &h, &stride, &off) == 1,
	    "plain name");
	CHECK(image_parse_raw_spec("me@host.png", &p, &w, &h, &stride,
	    &off) == 1, "@ in a name");
	CHECK(image_parse_raw_spec("fb@0x3", &p, &w, &h, &stride, &off) ==
	    -1, "zero width");
	CHECK(image_parse_raw_spec("fb@4x3+8", &p, &w, &h, &stride, &off) ==
	    -1, "stride below the width");
	CHECK(image_parse_raw_spec("fb@99999x3", &p, &w, &h, &stride, &off) ==
	    -1, "huge width");

	/* 3 rows of 5 pixels at stride 32, offset 16: bytes B G R X. */
	snprintf(path, sizeof(path), "%s/fb.raw", tmpdir);
	memset(data, 0xee, sizeof(data));
	for (i = 0; i < 3 * 5; i++) {
		uint8_t *q = data + 16 + (i / 5) * 32 + (i % 5) * 4;

		q[0] = (uint8_t)i;		/* B */
		q[1] = (uint8_t)(i * 2);	/* G */
		q[2] = (uint8_t)(i * 3);	/* R */
		q[3] = 0x77;			/* X, ignored */
	}
	f = fopen(path, "wb");
	fwrite(data, 1, 16 + 2 * 32 + 5 * 4, f);
	fclose(f);
	snprintf(spec, sizeof(spec), "%s@5x3+32:16", path);
	CHECK(image_load(spec, &img) == 0, "raw load");
	for (i = 0; img.px != NULL && i < 15; i++)
		CHECK(img.px[i] == ((uint32_t)(i * 3) << 16 |
		    (uint32_t)(i * 2) << 8 | (uint32_t)i), "raw pixel %zu", i);
	image_free(&img);
	snprintf(spec, sizeof(spec), "%s@5x4+32:16", path);
	CHECK(image_load(spec, &img) == -1, "raw past the end accepted");
	snprintf(spec, sizeof(spec), "%s", path);
	CHECK(image_load(spec, &img) == -1, "raw without geometry accepted");
	unlink(path);
}

static void
test_write_errors(void)
{
	uint32_t px[4] = { 0 };

	CHECK(image_write("/nonexistent/dir/x.png", px, 2, 2, 2) == -1,
	    "png to a missing directory");
	CHECK(image_write("/nonexistent/dir/x.ppm", px, 2, 2, 2) == -1,
	    "ppm to a missing directory");
	/* Not /dev/full: as root, a writer that unlinks on failure would
	 * remove the device node. */
	CHECK(image_write_png(tmpdir, px, 2, 2, 2) == -1,
	    "png to a directory");
	CHECK(image_write_png("x.png", px, 0, 2, 2) == -1, "zero width");
}

int
main(void)
{
	char path[64];

	log_init("test-png", 0);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_round_trip();
	test_filters_and_types();
	test_bad_png();
	test_ppm();
	test_raw();
	test_write_errors();
	snprintf(path, sizeof(path), "%s/a.png", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/a.ppm", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	if (failures > 0) {
		fprintf(stderr, "%d failures\n", failures);
		return 1;
	}
	return 0;
}
