/* image.c - PNG/PPM writers and PNG/PPM/raw readers; see image.h. */
#include "config.h"

#include "image.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <zlib.h>

#include "log.h"

/* Reference files bigger than this are refused rather than read. */
#define IMAGE_MAX_FILE	((size_t)1 << 30)
/* Output is flushed into IDAT chunks of at most this size. */
#define PNG_IDAT_MAX	65536u

static const uint8_t png_sig[8] = {
	0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
};

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int
check_dims(const char *what, uint64_t w, uint64_t h)
{
	if (w == 0 || h == 0 || w > IMAGE_MAX_DIM || h > IMAGE_MAX_DIM ||
	    w * h > IMAGE_MAX_PIXELS) {
		log_warnx("%s: bad size %" PRIu64 "x%" PRIu64
		    " (at most %u on a side, %u pixels)", what, w, h,
		    IMAGE_MAX_DIM, IMAGE_MAX_PIXELS);
		return -1;
	}
	return 0;
}

static int
image_alloc(struct image *img, uint32_t w, uint32_t h)
{
	img->width = w;
	img->height = h;
	img->px = calloc((size_t)w * h, sizeof(uint32_t));
	if (img->px == NULL) {
		log_warn("image %ux%u", w, h);
		return -1;
	}
	return 0;
}

void
image_free(struct image *img)
{
	free(img->px);
	img->px = NULL;
	img->width = img->height = 0;
}

/* ------------------------------------------------------------ writers */

/*
 * Open path for writing.  *created says whether we made it: only then
 * may a failed write unlink it, because the name may be a device or a
 * file someone else owns (/dev/stdout, a FIFO).
 */
static FILE *
open_output(const char *path, int *created)
{
	FILE *f;
	int fd;

	*created = 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd != -1)
		*created = 1;
	else if (errno == EEXIST)
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd == -1) {
		log_warn("%s", path);
		return NULL;
	}
	if ((f = fdopen(fd, "wb")) == NULL) {
		log_warn("%s", path);
		close(fd);
		if (*created)
			unlink(path);
	}
	return f;
}

static int
png_chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
	uint8_t hdr[8], crc[4];
	uLong c;

	put_be32(hdr, len);
	memcpy(hdr + 4, type, 4);
	c = crc32(0L, hdr + 4, 4);
	if (len > 0)
		c = crc32(c, data, len);
	put_be32(crc, (uint32_t)c);
	if (fwrite(hdr, 1, 8, f) != 8 ||
	    (len > 0 && fwrite(data, 1, len, f) != len) ||
	    fwrite(crc, 1, 4, f) != 4)
		return -1;
	return 0;
}

/* Write the IDAT chunks from zs's output buffer once it is full or done. */
static int
png_flush_idat(FILE *f, z_stream *zs, uint8_t *out, int final)
{
	uint32_t n = PNG_IDAT_MAX - zs->avail_out;

	if (n == 0 || (!final && zs->avail_out != 0))
		return 0;
	if (png_chunk(f, "IDAT", out, n) == -1)
		return -1;
	zs->next_out = out;
	zs->avail_out = PNG_IDAT_MAX;
	return 0;
}

int
image_write_png(const char *path, const uint32_t *px, uint32_t w,
    uint32_t h, size_t stride_px)
{
	z_stream zs;
	FILE *f = NULL;
	uint8_t ihdr[13], *row = NULL, *out = NULL;
	const uint32_t *src;
	uint32_t x, y;
	int zinit = 0, created = 0, ret, rc = -1;

	if (check_dims(path, w, h) == -1)
		return -1;
	memset(&zs, 0, sizeof(zs));
	row = malloc((size_t)w * 3 + 1);
	out = malloc(PNG_IDAT_MAX);
	if (row == NULL || out == NULL) {
		log_warn("png buffers");
		goto out;
	}
	if ((f = open_output(path, &created)) == NULL)
		goto out;
	if (deflateInit(&zs, Z_DEFAULT_COMPRESSION) != Z_OK) {
		log_warnx("%s: deflateInit failed", path);
		goto fail;
	}
	zinit = 1;

	put_be32(ihdr, w);
	put_be32(ihdr + 4, h);
	ihdr[8] = 8;		/* bits per sample */
	ihdr[9] = 2;		/* truecolour RGB */
	ihdr[10] = 0;		/* deflate */
	ihdr[11] = 0;		/* adaptive filtering (we always pick 0) */
	ihdr[12] = 0;		/* not interlaced */
	if (fwrite(png_sig, 1, sizeof(png_sig), f) != sizeof(png_sig) ||
	    png_chunk(f, "IHDR", ihdr, sizeof(ihdr)) == -1)
		goto write_error;

	zs.next_out = out;
	zs.avail_out = PNG_IDAT_MAX;
	for (y = 0; y < h; y++) {
		src = px + (size_t)y * stride_px;
		row[0] = 0;	/* filter: none; we favour speed over size */
		for (x = 0; x < w; x++) {
			row[1 + 3 * x] = src[x] >> 16;
			row[2 + 3 * x] = src[x] >> 8;
			row[3 + 3 * x] = src[x];
		}
		zs.next_in = row;
		zs.avail_in = w * 3 + 1;
		while (zs.avail_in > 0) {
			if (deflate(&zs, Z_NO_FLUSH) == Z_STREAM_ERROR) {
				log_warnx("%s: deflate failed", path);
				goto fail;
			}
			if (png_flush_idat(f, &zs, out, 0) == -1)
				goto write_error;
		}
	}
	do {
		ret = deflate(&zs, Z_FINISH);
		if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
			log_warnx("%s: deflate failed", path);
			goto fail;
		}
		if (png_flush_idat(f, &zs, out, ret == Z_STREAM_END) == -1)
			goto write_error;
	} while (ret != Z_STREAM_END);
	if (png_chunk(f, "IEND", NULL, 0) == -1)
		goto write_error;
	ret = fclose(f);
	f = NULL;
	if (ret != 0)
		goto write_error;
	rc = 0;
	goto out;

write_error:
	log_warn("%s: write", path);
fail:
	if (f != NULL)
		fclose(f);
	f = NULL;
	if (created)
		unlink(path);
out:
	if (zinit)
		deflateEnd(&zs);
	free(out);
	free(row);
	return rc;
}

int
image_write_ppm(const char *path, const uint32_t *px, uint32_t w,
    uint32_t h, size_t stride_px)
{
	FILE *f;
	uint8_t *row;
	const uint32_t *src;
	uint32_t x, y;
	int created, rc = -1;

	if (check_dims(path, w, h) == -1)
		return -1;
	if ((row = malloc((size_t)w * 3)) == NULL) {
		log_warn("ppm row");
		return -1;
	}
	if ((f = open_output(path, &created)) == NULL) {
		free(row);
		return -1;
	}
	if (fprintf(f, "P6\n%u %u\n255\n", w, h) < 0)
		goto fail;
	for (y = 0; y < h; y++) {
		src = px + (size_t)y * stride_px;
		for (x = 0; x < w; x++) {
			row[3 * x] = src[x] >> 16;
			row[3 * x + 1] = src[x] >> 8;
			row[3 * x + 2] = src[x];
		}
		if (fwrite(row, 3, w, f) != w)
			goto fail;
	}
	if (fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	rc = 0;
fail:
	if (rc == -1) {
		log_warn("%s: write", path);
		if (f != NULL)
			fclose(f);
		if (created)
			unlink(path);
	}
	free(row);
	return rc;
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

int
image_write(const char *path, const uint32_t *px, uint32_t w, uint32_t h,
    size_t stride_px)
{
	if (has_suffix(path, ".ppm") || has_suffix(path, ".pnm"))
		return image_write_ppm(path, px, w, h, stride_px);
	return image_write_png(path, px, w, h, stride_px);
}

/* ------------------------------------------------------------ readers */

static uint8_t
paeth(uint8_t a, uint8_t b, uint8_t c)
{
	int p = (int)a + b - c;
	int pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	if (pa <= pb && pa <= pc)
		return a;
	return pb <= pc ? b : c;
}

/* Undo the PNG row filters in place: raw holds h rows of 1 + rowlen. */
static int
png_unfilter(uint8_t *raw, uint32_t h, size_t rowlen, unsigned bpp)
{
	uint8_t *row, *prev = NULL, a, b, c;
	size_t i;
	uint32_t y;

	for (y = 0; y < h; y++) {
		row = raw + (size_t)y * (rowlen + 1);
		for (i = 0; i < rowlen; i++) {
			a = i >= bpp ? row[1 + i - bpp] : 0;
			b = prev != NULL ? prev[1 + i] : 0;
			c = i >= bpp && prev != NULL ? prev[1 + i - bpp] : 0;
			switch (row[0]) {
			case 0:
				break;
			case 1:
				row[1 + i] += a;
				break;
			case 2:
				row[1 + i] += b;
				break;
			case 3:
				row[1 + i] += (uint8_t)(((unsigned)a + b) / 2);
				break;
			case 4:
				row[1 + i] += paeth(a, b, c);
				break;
			default:
				log_warnx("png: bad filter type %u in row %u",
				    row[0], y);
				return -1;
			}
		}
		prev = row;
	}
	return 0;
}

int
image_decode_png(const uint8_t *buf, size_t len, struct image *img)
{
	z_stream zs;
	const uint8_t *chunk, *data;
	uint8_t *raw = NULL, *p;
	uint32_t clen, w = 0, h = 0, x, y;
	size_t off, rowlen = 0, rawlen = 0;
	unsigned bpp = 0, ctype;
	int zinit = 0, zdone = 0, ihdr = 0, iend = 0, ret, rc = -1;

	memset(img, 0, sizeof(*img));
	memset(&zs, 0, sizeof(zs));
	if (len < sizeof(png_sig) || memcmp(buf, png_sig, sizeof(png_sig))) {
		log_warnx("png: not a PNG file");
		return -1;
	}
	off = sizeof(png_sig);
	while (!iend) {
		/* length, type, data, crc: 12 octets besides the data */
		if (len - off < 12) {
			log_warnx("png: truncated (no IEND)");
			goto out;
		}
		chunk = buf + off;
		clen = get_be32(chunk);
		if (clen > 0x7fffffffu || clen > len - off - 12) {
			log_warnx("png: chunk length %u past the end", clen);
			goto out;
		}
		data = chunk + 8;
		if ((uint32_t)crc32(crc32(0L, chunk + 4, 4), data, clen) !=
		    get_be32(data + clen)) {
			log_warnx("png: CRC error in chunk %.4s", chunk + 4);
			goto out;
		}
		off += 12 + (size_t)clen;

		if (!ihdr && memcmp(chunk + 4, "IHDR", 4) != 0) {
			log_warnx("png: first chunk is not IHDR");
			goto out;
		}
		if (memcmp(chunk + 4, "IHDR", 4) == 0) {
			if (ihdr || clen != 13) {
				log_warnx("png: bad IHDR");
				goto out;
			}
			ihdr = 1;
			w = get_be32(data);
			h = get_be32(data + 4);
			ctype = data[9];
			if (check_dims("png", w, h) == -1)
				goto out;
			switch (ctype) {
			case 0: bpp = 1; break;	/* grey */
			case 2: bpp = 3; break;	/* RGB */
			case 4: bpp = 2; break;	/* grey, alpha */
			case 6: bpp = 4; break;	/* RGBA */
			default: bpp = 0; break;
			}
			if (data[8] != 8 || bpp == 0 || data[10] != 0 ||
			    data[11] != 0 || data[12] != 0) {
				log_warnx("png: only 8-bit grey/RGB(A), "
				    "non-interlaced images are read "
				    "(depth %u, colour type %u, interlace %u)",
				    data[8], ctype, data[12]);
				goto out;
			}
			rowlen = (size_t)w * bpp;
			rawlen = (rowlen + 1) * h;
			if ((raw = malloc(rawlen)) == NULL) {
				log_warn("png");
				goto out;
			}
			if (inflateInit(&zs) != Z_OK) {
				log_warnx("png: inflateInit failed");
				goto out;
			}
			zinit = 1;
			zs.next_out = raw;
			zs.avail_out = rawlen;
		} else if (memcmp(chunk + 4, "IDAT", 4) == 0) {
			if (zdone)
				continue;	/* data after the stream end */
			zs.next_in = (uint8_t *)(uintptr_t)data;
			zs.avail_in = clen;
			while (zs.avail_in > 0 && !zdone) {
				ret = inflate(&zs, Z_NO_FLUSH);
				if (ret == Z_STREAM_END) {
					zdone = 1;
				} else if (ret == Z_BUF_ERROR &&
				    zs.avail_out == 0) {
					log_warnx("png: more pixel data than "
					    "%ux%u", w, h);
					goto out;
				} else if (ret != Z_OK) {
					log_warnx("png: inflate: %s",
					    zs.msg != NULL ? zs.msg : "error");
					goto out;
				}
			}
		} else if (memcmp(chunk + 4, "IEND", 4) == 0) {
			iend = 1;
		} else if ((chunk[4] & 0x20) == 0) {
			/* Critical chunks (upper-case first letter), PLTE
			 * included, change the meaning of the pixels. */
			log_warnx("png: unsupported critical chunk %.4s",
			    chunk + 4);
			goto out;
		}
	}
	if (!zdone || zs.total_out != rawlen) {
		log_warnx("png: pixel data short or unterminated");
		goto out;
	}
	if (png_unfilter(raw, h, rowlen, bpp) == -1)
		goto out;
	if (image_alloc(img, w, h) == -1)
		goto out;
	for (y = 0; y < h; y++) {
		p = raw + (size_t)y * (rowlen + 1) + 1;
		for (x = 0; x < w; x++, p += bpp) {
			if (bpp <= 2)
				img->px[(size_t)y * w + x] = (uint32_t)p[0] *
				    0x010101u;
			else
				img->px[(size_t)y * w + x] =
				    (uint32_t)p[0] << 16 |
				    (uint32_t)p[1] << 8 | p[2];
		}
	}
	rc = 0;
out:
	if (zinit)
		inflateEnd(&zs);
	free(raw);
	return rc;
}

/* One PPM header number, after blanks and '#' comments. */
static int
ppm_number(const uint8_t *buf, size_t len, size_t *off, uint32_t *v)
{
	uint64_t n = 0;
	size_t digits = 0;

	for (;;) {
		if (*off >= len)
			return -1;
		if (buf[*off] == '#') {
			while (*off < len && buf[*off] != '\n')
				(*off)++;
		} else if (buf[*off] == ' ' || buf[*off] == '\t' ||
		    buf[*off] == '\n' || buf[*off] == '\r' ||
		    buf[*off] == '\v' || buf[*off] == '\f') {
			(*off)++;
		} else
			break;
	}
	while (*off < len && buf[*off] >= '0' && buf[*off] <= '9') {
		n = n * 10 + (buf[*off] - '0');
		if (n > UINT32_MAX || ++digits > 10)
			return -1;
		(*off)++;
	}
	if (digits == 0)
		return -1;
	*v = (uint32_t)n;
	return 0;
}

int
image_decode_ppm(const uint8_t *buf, size_t len, struct image *img)
{
	const uint8_t *p;
	uint32_t w, h, maxval;
	size_t off = 2, i;

	memset(img, 0, sizeof(*img));
	if (len < 2 || buf[0] != 'P' || buf[1] != '6') {
		log_warnx("ppm: not a binary PPM (P6)");
		return -1;
	}
	if (ppm_number(buf, len, &off, &w) == -1 ||
	    ppm_number(buf, len, &off, &h) == -1 ||
	    ppm_number(buf, len, &off, &maxval) == -1 || off >= len) {
		log_warnx("ppm: bad header");
		return -1;
	}
	off++;		/* exactly one blank ends the header */
	if (maxval != 255) {
		log_warnx("ppm: maxval %u, only 255 is read", maxval);
		return -1;
	}
	if (check_dims("ppm", w, h) == -1)
		return -1;
	if ((len - off) / 3 < (size_t)w * h) {
		log_warnx("ppm: truncated pixel data");
		return -1;
	}
	if (image_alloc(img, w, h) == -1)
		return -1;
	p = buf + off;
	for (i = 0; i < (size_t)w * h; i++, p += 3)
		img->px[i] = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
	return 0;
}

/* Read a whole (bounded) file into memory. */
static int
read_file(const char *path, uint8_t **bufp, size_t *lenp)
{
	uint8_t *buf = NULL, *nbuf;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		return -1;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= IMAGE_MAX_FILE) {
				log_warnx("%s: larger than %zu octets", path,
				    IMAGE_MAX_FILE);
				goto fail;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			if ((nbuf = realloc(buf, cap)) == NULL) {
				log_warn("%s", path);
				goto fail;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("%s: read", path);
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	*bufp = buf;
	*lenp = len;
	return 0;
fail:
	close(fd);
	free(buf);
	return -1;
}

/* Parse an unsigned number at s in base (0: decimal or 0x hex). */
static int
parse_u64(const char *s, int base, const char **end, uint64_t *v)
{
	char *e;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &e, base);
	if (errno != 0)
		return -1;
	*end = e;
	return 0;
}

int
image_parse_raw_spec(const char *spec, char **path, uint32_t *w,
    uint32_t *h, uint64_t *stride, uint64_t *offset)
{
	const char *at, *s;
	uint64_t vw, vh, vs = 0, vo = 0;

	if ((at = strrchr(spec, '@')) == NULL || at == spec)
		return 1;
	s = at + 1;
	/* Base 10 for the size: "0x3" is zero by three, not hex. */
	if (parse_u64(s, 10, &s, &vw) == -1 || (*s != 'x' && *s != 'X'))
		return 1;
	if (parse_u64(s + 1, 10, &s, &vh) == -1)
		return 1;
	if (*s == '+' && parse_u64(s + 1, 0, &s, &vs) == -1)
		return 1;
	if (*s == ':' && parse_u64(s + 1, 0, &s, &vo) == -1)
		return 1;
	if (*s != '\0')
		return 1;
	if (check_dims(spec, vw, vh) == -1)
		return -1;
	if (vs == 0)
		vs = vw * 4;
	if (vs < vw * 4 || vs > (uint64_t)1 << 32 || vo > (uint64_t)1 << 48) {
		log_warnx("%s: stride %" PRIu64 " or offset %" PRIu64
		    " out of range", spec, vs, vo);
		return -1;
	}
	if ((*path = strndup(spec, (size_t)(at - spec))) == NULL) {
		log_warn("strndup");
		return -1;
	}
	*w = (uint32_t)vw;
	*h = (uint32_t)vh;
	*stride = vs;
	*offset = vo;
	return 0;
}

static int
image_load_raw(const char *path, uint32_t w, uint32_t h, uint64_t stride,
    uint64_t offset, struct image *img)
{
	struct stat st;
	uint8_t *row = NULL, *p;
	uint64_t end;
	uint32_t x, y;
	ssize_t n;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		log_warn("%s", path);
		goto out;
	}
	/* Bounded by parse: < 2^48 + 2^14 * 2^32 + 2^16, no overflow. */
	end = offset + stride * (h - 1) + (uint64_t)w * 4;
	if (st.st_size < 0 || (uint64_t)st.st_size < end) {
		log_warnx("%s: %jd octets, %ux%u at stride %" PRIu64
		    " offset %" PRIu64 " needs %" PRIu64, path,
		    (intmax_t)st.st_size, w, h, stride, offset, end);
		goto out;
	}
	if ((row = malloc((size_t)w * 4)) == NULL || image_alloc(img, w, h)) {
		log_warn("%s", path);
		goto out;
	}
	for (y = 0; y < h; y++) {
		n = pread(fd, row, (size_t)w * 4,
		    (off_t)(offset + stride * y));
		if (n != (ssize_t)w * 4) {
			if (n == -1)
				log_warn("%s: read", path);
			else
				log_warnx("%s: short read", path);
			image_free(img);
			goto out;
		}
		for (x = 0, p = row; x < w; x++, p += 4)
			img->px[(size_t)y * w + x] = (uint32_t)p[2] << 16 |
			    (uint32_t)p[1] << 8 | p[0];
	}
	rc = 0;
out:
	free(row);
	close(fd);
	return rc;
}

int
image_load(const char *spec, struct image *img)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t stride, offset;
	uint32_t w, h;
	char *path = NULL;
	int r;

	memset(img, 0, sizeof(*img));
	r = image_parse_raw_spec(spec, &path, &w, &h, &stride, &offset);
	if (r == -1)
		return -1;
	if (r == 0) {
		r = image_load_raw(path, w, h, stride, offset, img);
		free(path);
		return r;
	}
	if (read_file(spec, &buf, &len) == -1)
		return -1;
	if (len >= sizeof(png_sig) && memcmp(buf, png_sig, sizeof(png_sig)) == 0)
		r = image_decode_png(buf, len, img);
	else if (len >= 2 && buf[0] == 'P' && buf[1] == '6')
		r = image_decode_ppm(buf, len, img);
	else {
		log_warnx("%s: neither PNG nor PPM (raw pixels are given as "
		    "FILE@WxH[+STRIDE][:OFFSET])", spec);
		r = -1;
	}
	free(buf);
	return r;
}
