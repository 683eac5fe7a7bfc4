/*
 * gen-corpus-consumer.c - write the seed corpus of fuzz-consumer.c into the
 * directory named on the command line: a few valid regions (idle, a
 * GET_DIRTY answer, an ARM_TRAP answer, input queued) and near-valid ones
 * that each break one rule.  Input format: see fuzz-consumer.c.
 *
 *   make tests/fuzz/gen-corpus-consumer
 *   tests/fuzz/gen-corpus-consumer $(srcdir)/tests/fuzz/corpus/consumer
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lfbshm.h"
#include "wire.h"

#define FB_SIZE		(64u * 4096)
#define FEATURES	(LFBSHM_F_DIRTY | LFBSHM_F_TRAP | \
			 LFBSHM_F_INPUT_KEY | LFBSHM_F_INPUT_POINTER | \
			 LFBSHM_F_MODE_CHANGE)

struct seed {
	uint64_t		 fb_fd_size;
	struct lfbshm_welcome	 w;
	struct lfbshm_header	 h;
	uint8_t			*region;
};

static const char *outdir;

static void
seed_init(struct seed *s, uint64_t fb_size, uint32_t entries)
{
	struct lfbshm_mode *m;

	if (lfbshm_header_init(&s->h, 1, FEATURES, fb_size, entries) != 0)
		abort();
	lfbshm_welcome_ok(&s->w, 1, FEATURES, 0, fb_size, s->h.ctrl_size);
	s->fb_fd_size = fb_size;
	if ((s->region = calloc(1, s->h.ctrl_size)) == NULL)
		abort();
	memcpy(s->region, &s->h, sizeof(s->h));
	m = (struct lfbshm_mode *)(s->region + s->h.mode_offset);
	m->gen = 2;
	m->width = 64;
	m->height = 64;
	m->stride = 256;
	m->format = LFBSHM_FORMAT_XRGB8888;
}

static struct lfbshm_request *
req(struct seed *s)
{
	return (struct lfbshm_request *)(s->region + s->h.request_offset);
}

static struct lfbshm_input_ring *
ring(struct seed *s)
{
	return (struct lfbshm_input_ring *)(s->region + s->h.input_offset);
}

static struct lfbshm_input *
slot(struct seed *s, uint32_t i)
{
	return (struct lfbshm_input *)(s->region + s->h.input_offset +
	    sizeof(struct lfbshm_input_ring)) + (i & (s->h.input_entries - 1));
}

static void
emit(struct seed *s, const char *name)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	if ((fp = fopen(path, "wb")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(1);
	}
	fwrite(&s->fb_fd_size, 8, 1, fp);
	fwrite(&s->w, sizeof(s->w), 1, fp);
	fwrite(s->region, 1, s->h.ctrl_size, fp);
	if (fclose(fp) != 0)
		exit(1);
	free(s->region);
	s->region = NULL;
}

int
main(int argc, char **argv)
{
	struct seed s;
	struct lfbshm_input *ev;

	if (argc != 2) {
		fprintf(stderr, "usage: gen-corpus-consumer DIR\n");
		return 2;
	}
	outdir = argv[1];

	seed_init(&s, FB_SIZE, 16);
	emit(&s, "valid-idle");

	/* A GET_DIRTY answer; bits past the last page must be masked. */
	seed_init(&s, FB_SIZE, 16);
	req(&s)->req_seq = req(&s)->rep_seq = 3;
	req(&s)->op = LFBSHM_OP_GET_DIRTY;
	req(&s)->rep_mode_gen = 2;
	req(&s)->rep_dirty_pages = 3;
	s.region[s.h.bitmap_offset] = 0x13;
	s.region[s.h.bitmap_offset + 7] = 0x80;
	emit(&s, "valid-get-dirty");

	seed_init(&s, FB_SIZE + 4096, 16);	/* 65 pages: a partial word */
	req(&s)->req_seq = req(&s)->rep_seq = 1;
	req(&s)->op = LFBSHM_OP_GET_DIRTY;
	memset(s.region + s.h.bitmap_offset, 0xff, s.h.bitmap_size);
	emit(&s, "valid-tail-bits");

	seed_init(&s, FB_SIZE, 16);
	req(&s)->req_seq = req(&s)->rep_seq = 9;
	req(&s)->op = LFBSHM_OP_ARM_TRAP;
	req(&s)->arg0 = 3;
	req(&s)->rep_flags = LFBSHM_REPLY_TRAPPED;
	req(&s)->events = LFBSHM_EV_TRAP;
	emit(&s, "valid-arm-trap");

	/* Input queued: a key, a pointer, a wheel, wrapping the ring. */
	seed_init(&s, FB_SIZE, 16);
	ring(&s)->cons = 0xfffffffeu;
	ring(&s)->prod = 1;
	ev = slot(&s, 0xfffffffeu);
	ev->type = LFBSHM_INPUT_KEY;
	ev->u.key.keysym = 0xff0d;
	ev->u.key.down = 1;
	ev = slot(&s, 0xffffffffu);
	ev->type = LFBSHM_INPUT_POINTER;
	ev->u.pointer.x = 10;
	ev->u.pointer.y = 63;
	ev->u.pointer.buttons = LFBSHM_BUTTON_LEFT;
	ev = slot(&s, 0);
	ev->type = LFBSHM_INPUT_WHEEL;
	ev->u.wheel.dy = -1;
	emit(&s, "valid-input");

	/* A larger layout: 1 MiB, 256 slots, a window into a larger file. */
	seed_init(&s, 1u << 20, 256);
	s.w.fb_map_offset = 1u << 20;
	s.fb_fd_size = 3u << 20;
	emit(&s, "valid-large");

	/* Blocks flush with the end of the region: a bounds check that is
	   off by one block is a single mutation away. */
	seed_init(&s, FB_SIZE, 16);
	s.h.input_offset = s.h.ctrl_size - sizeof(struct lfbshm_input_ring) -
	    16 * sizeof(struct lfbshm_input);
	memcpy(s.region, &s.h, sizeof(s.h));
	emit(&s, "valid-tight-input");

	seed_init(&s, FB_SIZE, 16);
	s.h.mode_offset = s.h.ctrl_size - sizeof(struct lfbshm_mode);
	s.h.bitmap_offset = s.h.mode_offset - s.h.bitmap_size;
	memcpy(s.region, &s.h, sizeof(s.h));
	emit(&s, "valid-tight-mode");

	/* Near misses, one rule each. */
	seed_init(&s, FB_SIZE, 16);
	((struct lfbshm_mode *)(s.region + s.h.mode_offset))->gen = 3;
	emit(&s, "near-mode-odd");

	seed_init(&s, FB_SIZE, 16);
	((struct lfbshm_mode *)(s.region + s.h.mode_offset))->offset =
	    FB_SIZE - 4096;
	emit(&s, "near-mode-bounds");

	seed_init(&s, FB_SIZE, 16);
	s.h.bitmap_size = 0;
	memcpy(s.region, &s.h, sizeof(s.h));
	emit(&s, "near-bitmap-size");

	seed_init(&s, FB_SIZE, 16);
	s.h.bitmap_offset = s.h.request_offset;
	memcpy(s.region, &s.h, sizeof(s.h));
	emit(&s, "near-overlap");

	seed_init(&s, FB_SIZE, 16);
	ring(&s)->prod = 3;
	ring(&s)->cons = 9;
	emit(&s, "near-cons-ahead");

	seed_init(&s, FB_SIZE, 16);
	req(&s)->req_seq = req(&s)->rep_seq = 2;
	req(&s)->op = LFBSHM_OP_GET_DIRTY;
	req(&s)->rep_flags = LFBSHM_REPLY_TRAPPED | (1u << 7);
	emit(&s, "near-reply-flags");

	seed_init(&s, FB_SIZE, 16);
	s.fb_fd_size = FB_SIZE - 1;
	emit(&s, "near-fb-short");

	seed_init(&s, FB_SIZE, 16);
	lfbshm_welcome_refuse(&s.w, LFBSHM_STATUS_BUSY, "busy: pid 1");
	emit(&s, "refusal-busy");
	return 0;
}
