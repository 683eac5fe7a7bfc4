/*
 * fuzz-consumer.c - the consumer's validation paths over a hostile provider.
 *
 * Input: an 8-octet little-endian fb file size (what fstat would say), a
 * 128-octet WELCOME, then the control region (zero-filled up to the
 * WELCOME's ctrl_size).  The harness walks the region as the consumer
 * does: WELCOME check, header check against the sizes, seqlock mode read
 * and check, reply sequence and flag checks for every op, bitmap copy,
 * ring index check and slot addressing; and, from the provider's side,
 * request and input checks.  Typed and byte-level checks must agree.
 *
 * Whatever passes a check must be safe to use: the harness aborts when an
 * accepted header puts a block outside the region, an accepted mode
 * reaches past the framebuffer, an accepted ring index addresses a slot
 * outside the ring, or a copied bitmap keeps bits past the last page.
 * AddressSanitizer catches every read outside the region.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lfbshm.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PREFIX	(8 + sizeof(struct lfbshm_welcome))

static char why[256];

/* A reason is always a terminated string. */
static void
check_why(void)
{
	if (memchr(why, '\0', sizeof(why)) == NULL)
		abort();
}

static void
walk_mode(const uint8_t *region, const struct lfbshm_header *h)
{
	const struct lfbshm_mode *m = (const void *)(region + h->mode_offset);
	struct lfbshm_mode copy;
	struct lfbshm_mode_info mi;
	unsigned __int128 end;
	int r;

	if (!lfbshm_mode_try_read(m, &copy))
		return;
	r = lfbshm_check_mode(&copy, h->fb_size, &mi, why, sizeof(why));
	check_why();
	if (r != lfbshm_wire_check_mode(&copy, sizeof(copy), h->fb_size, why,
	    sizeof(why)))
		abort();
	if (r != 0)
		return;
	end = (unsigned __int128)mi.offset +
	    (unsigned __int128)mi.stride * (mi.height - 1) +
	    (unsigned __int128)mi.width * mi.bpp;
	if (end > h->fb_size || mi.bpp == 0 || mi.gen == 0 || (mi.gen & 1))
		abort();
}

static void
walk_request(const uint8_t *region, const struct lfbshm_header *h)
{
	const struct lfbshm_request *rq =
	    (const void *)(region + h->request_offset);
	struct lfbshm_request copy;
	uint32_t op, req, rep, status, flags;
	int answered, r, wr;

	req = lfbshm_load(&rq->req_seq, memory_order_relaxed);
	rep = lfbshm_load(&rq->rep_seq, memory_order_acquire);
	op = lfbshm_load(&rq->op, memory_order_relaxed);
	status = lfbshm_load(&rq->rep_status, memory_order_relaxed);
	flags = lfbshm_load(&rq->rep_flags, memory_order_relaxed);
	memcpy(&copy, rq, sizeof(copy));

	answered = lfbshm_check_rep_seq(rep, req, why, sizeof(why));
	check_why();
	if (answered < 0 || answered > 1)
		return;
	/* The consumer knows the op it posted: try them all. */
	for (op = 0; op <= LFBSHM_OP_TRACK_OFF + 1; op++) {
		r = lfbshm_check_reply(op, h->features, status, flags, why,
		    sizeof(why));
		check_why();
		wr = lfbshm_wire_check_reply(&copy, sizeof(copy), op, req,
		    h->features, why, sizeof(why));
		if (wr != (answered ? r : 1))
			abort();
		if (r == 0 && (flags & ~LFBSHM_REPLY_ALL) != 0)
			abort();
	}
	/* The provider's view of the same block. */
	r = lfbshm_check_request(&copy, why, sizeof(why));
	check_why();
	if (r != lfbshm_wire_check_request(&copy, sizeof(copy), why,
	    sizeof(why)))
		abort();
}

static void
walk_bitmap(const uint8_t *region, const struct lfbshm_header *h)
{
	uint64_t npages = h->fb_size / LFBSHM_PAGE_SIZE, n, *dst;
	size_t nw = lfbshm_bitmap_words(npages);

	if ((dst = malloc(nw * sizeof(*dst))) == NULL)
		return;
	/* The header check guarantees the sizes: the copy cannot refuse. */
	if (lfbshm_bitmap_copy(dst, nw, region + h->bitmap_offset,
	    h->bitmap_size, npages, &n) != 0)
		abort();
	if (n > npages)
		abort();
	if (npages % 64 != 0 && (dst[nw - 1] >> (npages % 64)) != 0)
		abort();
	free(dst);
}

static void
walk_ring(const uint8_t *region, const struct lfbshm_header *h,
    uint32_t width, uint32_t height)
{
	const struct lfbshm_input_ring *ring =
	    (const void *)(region + h->input_offset);
	const struct lfbshm_input *slots = (const void *)(region +
	    h->input_offset + sizeof(*ring));
	struct lfbshm_input ev;
	uint32_t prod, cons, i, n;
	size_t slot_end;
	int used;

	prod = lfbshm_load(&ring->prod, memory_order_relaxed);
	cons = lfbshm_load(&ring->cons, memory_order_acquire);
	used = lfbshm_check_ring(prod, cons, h->input_entries, why,
	    sizeof(why));
	check_why();
	if (used != lfbshm_wire_check_ring(ring, sizeof(*ring), prod,
	    h->input_entries, why, sizeof(why)))
		abort();
	if (used < 0)
		return;
	if ((uint32_t)used > h->input_entries)
		abort();
	/* The slot the consumer would write next lies inside the ring. */
	slot_end = h->input_offset + sizeof(*ring) +
	    ((size_t)(prod & (h->input_entries - 1)) + 1) * sizeof(ev);
	if (slot_end > h->ctrl_size)
		abort();
	/* The provider reads the used slots, each copied once. */
	n = (uint32_t)used < 64 ? (uint32_t)used : 64;
	for (i = 0; i < n; i++) {
		memcpy(&ev, &slots[(cons + i) & (h->input_entries - 1)],
		    sizeof(ev));
		if (lfbshm_check_input(&ev, h->features, width, height, why,
		    sizeof(why)) != lfbshm_wire_check_input(&ev, sizeof(ev),
		    h->features, width, height, why, sizeof(why)))
			abort();
		check_why();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lfbshm_welcome w;
	struct lfbshm_header h;
	struct lfbshm_mode_info mi;
	struct lfbshm_mode m;
	uint64_t fb_fd_size;
	uint8_t *region;
	size_t n;
	int r;

	if (size < PREFIX)
		return 0;
	memcpy(&fb_fd_size, data, 8);
	memcpy(&w, data + 8, sizeof(w));

	r = lfbshm_check_welcome(&w, LFBSHM_VERSION, LFBSHM_VERSION,
	    LFBSHM_F_ALL, why, sizeof(why));
	check_why();
	if (r != lfbshm_wire_check_welcome(data + 8, sizeof(w),
	    LFBSHM_VERSION, LFBSHM_VERSION, LFBSHM_F_ALL, why, sizeof(why)))
		abort();
	if (r != 0 || w.status != LFBSHM_STATUS_OK)
		return 0;
	if (w.ctrl_size == 0 || w.ctrl_size > LFBSHM_MAX_CTRL_SIZE ||
	    w.fb_map_size == 0 || w.fb_map_size > LFBSHM_MAX_FB_SIZE ||
	    w.nfds != LFBSHM_NFDS)
		abort();

	/* The region as the consumer maps it: ctrl_size octets. */
	if ((region = calloc(1, w.ctrl_size)) == NULL)
		return 0;
	n = size - PREFIX < w.ctrl_size ? size - PREFIX : w.ctrl_size;
	memcpy(region, data + PREFIX, n);
	memcpy(&h, region, sizeof(h));
	r = lfbshm_check_header(&h, &w, w.ctrl_size, fb_fd_size, why,
	    sizeof(why));
	check_why();
	if (r != lfbshm_wire_check_header(&h, sizeof(h), &w, sizeof(w),
	    w.ctrl_size, fb_fd_size, why, sizeof(why)))
		abort();
	if (r != 0)
		goto out;
	/* Everything accepted lies inside the region. */
	if ((uint64_t)h.mode_offset + sizeof(struct lfbshm_mode) > w.ctrl_size ||
	    (uint64_t)h.request_offset + sizeof(struct lfbshm_request) >
	    w.ctrl_size ||
	    (uint64_t)h.bitmap_offset + h.bitmap_size > w.ctrl_size ||
	    (uint64_t)h.input_offset + sizeof(struct lfbshm_input_ring) +
	    (uint64_t)h.input_entries * sizeof(struct lfbshm_input) >
	    w.ctrl_size ||
	    fb_fd_size < w.fb_map_offset + w.fb_map_size)
		abort();

	walk_mode(region, &h);
	walk_request(region, &h);
	walk_bitmap(region, &h);
	memset(&mi, 0, sizeof(mi));
	if (lfbshm_mode_try_read((const void *)(region + h.mode_offset), &m))
		(void)lfbshm_check_mode(&m, h.fb_size, &mi, why, sizeof(why));
	walk_ring(region, &h, mi.width, mi.height);
out:
	free(region);
	return 0;
}
