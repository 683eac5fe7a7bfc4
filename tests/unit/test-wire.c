/*
 * test-wire.c - every validation rule of proto/wire.c: for each rule one
 * object that is valid except for that rule and must fail with exactly that
 * rule's code (and a reason naming it), plus positive and edge cases.  At
 * the end, a rule without a negative test is itself a failure.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lfbshm.h"
#include "wire.h"

#define FB_SIZE		(2u << 20)	/* 512 pages */
#define ENTRIES		16u

static int failures;
static bool tested[LFBSHM_E_NRULES];
static char why[256];

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, \
		    #cond);						\
		failures++;						\
	}								\
} while (0)

/* call must fail with exactly rule, and say so in why. */
#define NEG(rule, call) do {						\
	int r_;								\
	why[0] = '\0';							\
	r_ = (call);							\
	expect(__LINE__, #call, r_, (rule));				\
} while (0)

#define POS(call) do {							\
	int r_;								\
	why[0] = '\0';							\
	r_ = (call);							\
	if (r_ < 0) {							\
		fprintf(stderr, "%s:%d: FAIL: %s = %d (%s): %s\n",	\
		    __FILE__, __LINE__, #call, r_,			\
		    lfbshm_wire_strerror(r_), why);			\
		failures++;						\
	}								\
} while (0)

static void
expect(int line, const char *what, int got, int rule)
{
	const char *name = lfbshm_wire_strerror(rule);

	tested[rule] = true;
	if (got != -rule) {
		fprintf(stderr, "%s:%d: FAIL: %s = %d (%s), expected %d (%s)"
		    ": %s\n", __FILE__, line, what, got,
		    got < 0 ? lfbshm_wire_strerror(got) : "not a rule", -rule,
		    name, why);
		failures++;
		return;
	}
	/* Builders do not explain; every check does. */
	if (rule != LFBSHM_E_ARG && strncmp(why, name, strlen(name)) != 0) {
		fprintf(stderr, "%s:%d: FAIL: %s: reason \"%s\" does not name "
		    "rule %s\n", __FILE__, line, what, why, name);
		failures++;
	}
}

/* ------------------------------------------------------------- fixtures */

static void
good_welcome(struct lfbshm_welcome *w, struct lfbshm_header *h)
{
	CHECK(lfbshm_header_init(h, 1, LFBSHM_F_DIRTY | LFBSHM_F_TRAP,
	    FB_SIZE, ENTRIES) == 0);
	lfbshm_welcome_ok(w, 1, LFBSHM_F_DIRTY | LFBSHM_F_TRAP, 8192, FB_SIZE,
	    h->ctrl_size);
}

static int
hdr(const struct lfbshm_header *h, const struct lfbshm_welcome *w)
{
	return lfbshm_check_header(h, w, w->ctrl_size,
	    w->fb_map_offset + w->fb_map_size, why, sizeof(why));
}

static int
wel(const struct lfbshm_welcome *w)
{
	return lfbshm_check_welcome(w, 1, 1, LFBSHM_F_ALL, why, sizeof(why));
}

static void
good_mode(struct lfbshm_mode *m)
{
	memset(m, 0, sizeof(*m));
	m->gen = 2;
	m->width = 640;
	m->height = 480;
	m->stride = 640 * 4;
	m->format = LFBSHM_FORMAT_XRGB8888;
	m->offset = 0;
}

static int
mode(const struct lfbshm_mode *m)
{
	return lfbshm_check_mode(m, FB_SIZE, NULL, why, sizeof(why));
}

/* ---------------------------------------------------------------- tests */

static void
test_hello(void)
{
	struct lfbshm_hello h, g;
	uint64_t granted;
	uint16_t v;
	uint8_t buf[33];

	lfbshm_hello_init(&g, 1, 1, LFBSHM_F_ALL | (1ull << 60));
	POS(lfbshm_check_hello(&g, why, sizeof(why)));

	h = g;
	h.magic ^= 1;
	NEG(LFBSHM_E_HELLO_MAGIC, lfbshm_check_hello(&h, why, sizeof(why)));
	h = g;
	h.min_version = 0;
	h.max_version = 0;
	NEG(LFBSHM_E_HELLO_VERSION, lfbshm_check_hello(&h, why, sizeof(why)));
	h = g;
	h.min_version = 3;
	h.max_version = 2;
	NEG(LFBSHM_E_HELLO_VERSION, lfbshm_check_hello(&h, why, sizeof(why)));
	h = g;
	h.reserved[15] = 1;
	NEG(LFBSHM_E_HELLO_RESERVED,
	    lfbshm_check_hello(&h, why, sizeof(why)));

	memcpy(buf, &g, sizeof(g));
	NEG(LFBSHM_E_LEN, lfbshm_wire_check_hello(buf, 31, why, sizeof(why)));
	NEG(LFBSHM_E_LEN, lfbshm_wire_check_hello(buf, 33, why, sizeof(why)));
	POS(lfbshm_wire_check_hello(buf, 32, why, sizeof(why)));

	/* Negotiation: highest common version; unknown bits never granted. */
	h = g;
	h.max_version = 7;
	POS(lfbshm_negotiate(&h, 1, 3, LFBSHM_F_DIRTY | LFBSHM_F_INPUT_KEY,
	    &v, &granted, why, sizeof(why)));
	CHECK(v == 3);
	h.features = LFBSHM_F_DIRTY | (1ull << 60);
	POS(lfbshm_negotiate(&h, 1, 1, ~0ull, &v, &granted, why,
	    sizeof(why)));
	CHECK(v == 1 && granted == LFBSHM_F_DIRTY);
	h.min_version = 2;
	h.max_version = 3;
	NEG(LFBSHM_E_NO_VERSION, lfbshm_negotiate(&h, 1, 1, 0, &v, &granted,
	    why, sizeof(why)));
	CHECK(lfbshm_wire_errno(-LFBSHM_E_NO_VERSION) == -EPROTONOSUPPORT);
}

static void
test_welcome(void)
{
	struct lfbshm_welcome g, w;
	struct lfbshm_header h;
	char reason[LFBSHM_REASON_LEN];

	good_welcome(&g, &h);
	POS(wel(&g));

	w = g;
	w.magic = 0;
	NEG(LFBSHM_E_WELCOME_MAGIC, wel(&w));
	w = g;
	w.status = LFBSHM_STATUS_INTERNAL + 1;
	NEG(LFBSHM_E_WELCOME_STATUS, wel(&w));
	w = g;
	memset(w.reason, 'x', sizeof(w.reason));
	NEG(LFBSHM_E_WELCOME_REASON, wel(&w));
	w = g;
	w.reserved[7] = 1;
	NEG(LFBSHM_E_WELCOME_RESERVED, wel(&w));
	w = g;
	memset(w.tracker, 'k', sizeof(w.tracker));
	NEG(LFBSHM_E_WELCOME_TRACKER, wel(&w));
	w = g;
	memcpy(w.tracker, "k\tm", 4);
	NEG(LFBSHM_E_WELCOME_TRACKER, wel(&w));
	w = g;
	lfbshm_welcome_set_tracker(&w, "kvm");
	CHECK(wel(&w) == 0 && strcmp(w.tracker, "kvm") == 0);
	w = g;
	w.version = 2;
	NEG(LFBSHM_E_WELCOME_VERSION, wel(&w));
	w = g;
	w.version = 0;
	NEG(LFBSHM_E_WELCOME_VERSION, wel(&w));
	w = g;
	w.features |= 1ull << 40;
	NEG(LFBSHM_E_WELCOME_FEATURES,
	    lfbshm_check_welcome(&w, 1, 1, ~0ull, why, sizeof(why)));
	w = g;
	NEG(LFBSHM_E_WELCOME_UNASKED, lfbshm_check_welcome(&w, 1, 1,
	    LFBSHM_F_DIRTY, why, sizeof(why)));
	w = g;
	w.fb_map_offset = 100;
	NEG(LFBSHM_E_WELCOME_FB_OFFSET, wel(&w));
	w = g;
	w.fb_map_size = 0;
	NEG(LFBSHM_E_WELCOME_FB_SIZE, wel(&w));
	w.fb_map_size = 4097;
	NEG(LFBSHM_E_WELCOME_FB_SIZE, wel(&w));
	w.fb_map_size = LFBSHM_MAX_FB_SIZE + 4096;
	NEG(LFBSHM_E_WELCOME_FB_SIZE, wel(&w));
	w.fb_map_size = LFBSHM_MAX_FB_SIZE;
	POS(wel(&w));
	w = g;
	w.fb_map_offset = ((uint64_t)INT64_MAX & ~4095ull);
	NEG(LFBSHM_E_WELCOME_FB_END, wel(&w));
	w.fb_map_offset = 0xfffffffffffff000ull;
	NEG(LFBSHM_E_WELCOME_FB_END, wel(&w));
	w = g;
	w.ctrl_size = 0;
	NEG(LFBSHM_E_WELCOME_CTRL_SIZE, wel(&w));
	w.ctrl_size = 4097;
	NEG(LFBSHM_E_WELCOME_CTRL_SIZE, wel(&w));
	w.ctrl_size = LFBSHM_MAX_CTRL_SIZE + 4096;
	NEG(LFBSHM_E_WELCOME_CTRL_SIZE, wel(&w));
	w = g;
	w.nfds = 3;
	NEG(LFBSHM_E_WELCOME_NFDS, wel(&w));

	/* Refusals: well-formed ones pass, with their reason readable. */
	lfbshm_welcome_refuse(&w, LFBSHM_STATUS_BUSY, "busy: pid 1\n");
	POS(wel(&w));
	lfbshm_welcome_reason(&w, reason, sizeof(reason));
	CHECK(strcmp(reason, "busy: pid 1?") == 0);
	w.nfds = LFBSHM_NFDS;
	NEG(LFBSHM_E_WELCOME_REFUSAL, wel(&w));
	lfbshm_welcome_refuse(&w, LFBSHM_STATUS_VERSION, NULL);
	w.version = 1;
	NEG(LFBSHM_E_WELCOME_REFUSAL, wel(&w));
	/* A reason longer than the field is cut, still terminated. */
	memset(reason, 'y', sizeof(reason));
	reason[sizeof(reason) - 1] = '\0';
	lfbshm_welcome_refuse(&w, LFBSHM_STATUS_INTERNAL, reason);
	POS(wel(&w));

	NEG(LFBSHM_E_LEN, lfbshm_wire_check_welcome(&g, 127, 1, 1, ~0ull,
	    why, sizeof(why)));
}

static void
test_fds(void)
{
	struct lfbshm_welcome w;
	struct lfbshm_header h;

	good_welcome(&w, &h);
	POS(lfbshm_check_fds(&w, w.ctrl_size, 8192 + FB_SIZE, why,
	    sizeof(why)));
	/* A larger fb file is fine: we map a window of it. */
	POS(lfbshm_check_fds(&w, w.ctrl_size, 1ull << 40, why, sizeof(why)));
	NEG(LFBSHM_E_FD_CTRL_SIZE, lfbshm_check_fds(&w, w.ctrl_size + 4096,
	    8192 + FB_SIZE, why, sizeof(why)));
	NEG(LFBSHM_E_FD_CTRL_SIZE, lfbshm_check_fds(&w, w.ctrl_size - 4096,
	    8192 + FB_SIZE, why, sizeof(why)));
	NEG(LFBSHM_E_FD_FB_SIZE, lfbshm_check_fds(&w, w.ctrl_size,
	    8192 + FB_SIZE - 1, why, sizeof(why)));
	/* check_header applies the descriptor rules first. */
	NEG(LFBSHM_E_FD_FB_SIZE, lfbshm_check_header(&h, &w, w.ctrl_size,
	    FB_SIZE, why, sizeof(why)));
}

static void
test_header(void)
{
	struct lfbshm_welcome w, w2;
	struct lfbshm_header g, h;

	good_welcome(&w, &g);
	/* The documented layout: mode, request, bitmap, input. */
	CHECK(g.header_size == 64 && g.page_size == 4096);
	CHECK(g.mode_offset == 64 && g.request_offset == 128);
	CHECK(g.bitmap_offset == 256 && g.bitmap_size == 64);
	CHECK(g.input_offset == 320 && g.input_entries == ENTRIES);
	CHECK(g.ctrl_size == 4096);
	POS(hdr(&g, &w));

	h = g; h.magic++;
	NEG(LFBSHM_E_HDR_MAGIC, hdr(&h, &w));
	h = g; h.version = 2;
	NEG(LFBSHM_E_HDR_VERSION, hdr(&h, &w));
	h = g; h.header_size = 128;
	NEG(LFBSHM_E_HDR_HEADER_SIZE, hdr(&h, &w));
	h = g; h.features = LFBSHM_F_DIRTY;
	NEG(LFBSHM_E_HDR_FEATURES, hdr(&h, &w));
	h = g; h.ctrl_size = 8192;
	NEG(LFBSHM_E_HDR_CTRL_SIZE, hdr(&h, &w));
	h = g; h.page_size = 65536;
	NEG(LFBSHM_E_HDR_PAGE_SIZE, hdr(&h, &w));
	h = g; h.fb_size = FB_SIZE / 2;
	NEG(LFBSHM_E_HDR_FB_SIZE, hdr(&h, &w));

	/* Room after the bitmap, so that only the size rule breaks. */
	h = g; h.input_offset = 384; h.bitmap_size = 68;
	NEG(LFBSHM_E_HDR_BITMAP_ALIGN, hdr(&h, &w));
	h = g; h.bitmap_size = 56;
	NEG(LFBSHM_E_HDR_BITMAP_SIZE, hdr(&h, &w));
	h = g; h.input_offset = 384; h.bitmap_size = 128;
	POS(hdr(&h, &w));	/* larger than needed is fine */

	h = g; h.input_entries = 24;
	NEG(LFBSHM_E_HDR_INPUT_ENTRIES, hdr(&h, &w));
	h = g; h.input_entries = 8;
	NEG(LFBSHM_E_HDR_INPUT_ENTRIES, hdr(&h, &w));
	h = g; h.input_entries = 0;
	NEG(LFBSHM_E_HDR_INPUT_ENTRIES, hdr(&h, &w));

	h = g; h.input_offset = 328;
	NEG(LFBSHM_E_HDR_ALIGN, hdr(&h, &w));
	h = g; h.mode_offset = 0;
	NEG(LFBSHM_E_HDR_BOUNDS, hdr(&h, &w));
	h = g; h.input_offset = 4096 - 64;
	NEG(LFBSHM_E_HDR_BOUNDS, hdr(&h, &w));
	h = g; h.input_offset = 0xffffffc0u;	/* no 32-bit wrap */
	NEG(LFBSHM_E_HDR_BOUNDS, hdr(&h, &w));
	h = g; h.bitmap_offset = 0xffffffc0u; h.bitmap_size = 0xfffffff8u;
	NEG(LFBSHM_E_HDR_BOUNDS, hdr(&h, &w));
	h = g; h.bitmap_offset = 128;
	NEG(LFBSHM_E_HDR_OVERLAP, hdr(&h, &w));
	h = g; h.mode_offset = 128; h.request_offset = 64;
	NEG(LFBSHM_E_HDR_OVERLAP, hdr(&h, &w));
	/* The last octet of the ring may be the last of the region. */
	h = g; h.input_offset = 4096 - 128 - ENTRIES * 16;
	POS(hdr(&h, &w));
	h = g; h.reserved[7] = 1;
	NEG(LFBSHM_E_HDR_RESERVED, hdr(&h, &w));

	/* Non-multiple of 64 pages: the bitmap rounds up to a word. */
	CHECK(lfbshm_header_init(&h, 1, 0, 65 * 4096, ENTRIES) == 0);
	lfbshm_welcome_ok(&w2, 1, 0, 0, 65 * 4096, h.ctrl_size);
	CHECK(h.bitmap_size == 16);
	POS(hdr(&h, &w2));
	h.bitmap_size = 8;
	NEG(LFBSHM_E_HDR_BITMAP_SIZE, hdr(&h, &w2));

	/* The largest layout still fits. */
	CHECK(lfbshm_header_init(&h, 1, 0, LFBSHM_MAX_FB_SIZE,
	    LFBSHM_MAX_INPUT_ENTRIES) == 0);
	lfbshm_welcome_ok(&w2, 1, 0, 0, LFBSHM_MAX_FB_SIZE, h.ctrl_size);
	POS(wel(&w2));
	POS(hdr(&h, &w2));

	NEG(LFBSHM_E_ARG, lfbshm_header_init(&h, 1, 0, 0, ENTRIES));
	NEG(LFBSHM_E_ARG, lfbshm_header_init(&h, 1, 0, 4095, ENTRIES));
	NEG(LFBSHM_E_ARG, lfbshm_header_init(&h, 1, 0, 4096, 48));
	NEG(LFBSHM_E_ARG, lfbshm_header_init(&h, 1, 0,
	    LFBSHM_MAX_FB_SIZE + 4096, ENTRIES));
}

static void
test_mode(void)
{
	struct lfbshm_mode g, m, copy;
	struct lfbshm_mode_info mi;
	uint32_t gen;

	good_mode(&g);
	POS(lfbshm_check_mode(&g, FB_SIZE, &mi, why, sizeof(why)));
	CHECK(mi.width == 640 && mi.bpp == 4 && mi.gen == 2);

	m = g; m.gen = 3;
	NEG(LFBSHM_E_MODE_GEN, mode(&m));
	m = g; m.gen = 0;
	NEG(LFBSHM_E_MODE_GEN, mode(&m));
	m = g; m.width = 0;
	NEG(LFBSHM_E_MODE_WIDTH, mode(&m));
	m = g; m.width = LFBSHM_MAX_WIDTH + 1; m.stride = ~0u; m.height = 1;
	NEG(LFBSHM_E_MODE_WIDTH, mode(&m));
	m = g; m.height = 0;
	NEG(LFBSHM_E_MODE_HEIGHT, mode(&m));
	m = g; m.height = LFBSHM_MAX_HEIGHT + 1; m.stride = 0;
	NEG(LFBSHM_E_MODE_HEIGHT, mode(&m));
	m = g; m.format = 0;
	NEG(LFBSHM_E_MODE_FORMAT, mode(&m));
	m = g; m.format = 5;
	NEG(LFBSHM_E_MODE_FORMAT, mode(&m));
	m = g; m.stride = 640 * 4 - 1;
	NEG(LFBSHM_E_MODE_STRIDE, mode(&m));
	m = g; m.format = LFBSHM_FORMAT_RGB888; m.stride = 640 * 3;
	POS(mode(&m));
	m.stride = 640 * 3 - 1;
	NEG(LFBSHM_E_MODE_STRIDE, mode(&m));

	/* Exactly at the end fits; one octet more does not. */
	m = g;
	m.offset = FB_SIZE - (uint64_t)640 * 4 * 480;
	POS(mode(&m));
	m.offset++;
	NEG(LFBSHM_E_MODE_BOUNDS, mode(&m));
	m = g; m.offset = UINT64_MAX;
	NEG(LFBSHM_E_MODE_BOUNDS, mode(&m));
	m = g; m.offset = UINT64_MAX - 100;
	NEG(LFBSHM_E_MODE_BOUNDS, mode(&m));
	/* Large stride and height: no 32-bit product overflow. */
	m = g; m.stride = 0x80000000u; m.height = 3; m.width = 16;
	NEG(LFBSHM_E_MODE_BOUNDS, mode(&m));
	m = g; m.reserved0 = 1;
	NEG(LFBSHM_E_MODE_RESERVED, mode(&m));
	m = g; m.reserved[31] = 1;
	NEG(LFBSHM_E_MODE_RESERVED, mode(&m));
	NEG(LFBSHM_E_LEN, lfbshm_wire_check_mode(&g, 63, FB_SIZE, why,
	    sizeof(why)));

	/* Seqlock: write, read back; odd means retry; gen skips 0. */
	memset(&m, 0, sizeof(m));
	CHECK(lfbshm_mode_try_read(&m, &copy) && copy.gen == 0);
	mi.width = 800; mi.height = 600; mi.stride = 3200;
	mi.format = LFBSHM_FORMAT_XBGR8888; mi.offset = 64;
	gen = lfbshm_mode_write(&m, 0, &mi);
	CHECK(gen == 2 && m.gen == 2);
	CHECK(lfbshm_mode_try_read(&m, &copy));
	CHECK(copy.gen == 2 && copy.width == 800 && copy.offset == 64);
	POS(lfbshm_check_mode(&copy, FB_SIZE, NULL, why, sizeof(why)));
	m.gen = 5;
	CHECK(!lfbshm_mode_try_read(&m, &copy));
	CHECK(lfbshm_mode_write(&m, 0xfffffffeu, &mi) == 2);
	CHECK(lfbshm_mode_write(&m, 2, &mi) == 4);
}

static void
test_reply(void)
{
	const uint64_t fd = LFBSHM_F_DIRTY;

	CHECK(lfbshm_check_rep_seq(7, 7, why, sizeof(why)) == 1);
	CHECK(lfbshm_check_rep_seq(6, 7, why, sizeof(why)) == 0);
	CHECK(lfbshm_check_rep_seq(0xffffffffu, 0, why, sizeof(why)) == 0);
	NEG(LFBSHM_E_REPLY_SEQ, lfbshm_check_rep_seq(8, 7, why, sizeof(why)));
	NEG(LFBSHM_E_REPLY_SEQ, lfbshm_check_rep_seq(0, 7, why, sizeof(why)));

	POS(lfbshm_check_reply(LFBSHM_OP_GET_DIRTY, fd, 0, 0, why,
	    sizeof(why)));
	POS(lfbshm_check_reply(LFBSHM_OP_GET_DIRTY, fd, 0,
	    LFBSHM_REPLY_ALL_DIRTY, why, sizeof(why)));
	POS(lfbshm_check_reply(LFBSHM_OP_GET_DIRTY, fd, EIO,
	    LFBSHM_REPLY_ALL_DIRTY, why, sizeof(why)));
	POS(lfbshm_check_reply(LFBSHM_OP_GET_DIRTY, 0, 0,
	    LFBSHM_REPLY_ALL_DIRTY, why, sizeof(why)));
	POS(lfbshm_check_reply(LFBSHM_OP_ARM_TRAP, fd, 0,
	    LFBSHM_REPLY_TRAPPED, why, sizeof(why)));
	POS(lfbshm_check_reply(LFBSHM_OP_ARM_TRAP, fd, 0,
	    LFBSHM_REPLY_TRAP_FIRED, why, sizeof(why)));
	POS(lfbshm_check_reply(LFBSHM_OP_ARM_TRAP, fd, EOPNOTSUPP, 0, why,
	    sizeof(why)));
	POS(lfbshm_check_reply(LFBSHM_OP_DISARM_TRAP, fd, 0, 0, why,
	    sizeof(why)));
	POS(lfbshm_check_reply(LFBSHM_OP_TRACK_OFF, fd, EIO, 0, why,
	    sizeof(why)));

	NEG(LFBSHM_E_REPLY_STATUS, lfbshm_check_reply(LFBSHM_OP_GET_DIRTY,
	    fd, EPERM, 0, why, sizeof(why)));
	NEG(LFBSHM_E_REPLY_FLAGS, lfbshm_check_reply(LFBSHM_OP_GET_DIRTY,
	    fd, 0, 1u << 3, why, sizeof(why)));
	NEG(LFBSHM_E_REPLY_FLAGS_OP, lfbshm_check_reply(LFBSHM_OP_GET_DIRTY,
	    fd, 0, LFBSHM_REPLY_TRAPPED, why, sizeof(why)));
	NEG(LFBSHM_E_REPLY_FLAGS_OP, lfbshm_check_reply(LFBSHM_OP_GET_DIRTY,
	    fd, EINVAL, LFBSHM_REPLY_ALL_DIRTY, why, sizeof(why)));
	NEG(LFBSHM_E_REPLY_FLAGS_OP, lfbshm_check_reply(LFBSHM_OP_ARM_TRAP,
	    fd, 0, LFBSHM_REPLY_ALL_DIRTY | LFBSHM_REPLY_TRAPPED, why,
	    sizeof(why)));
	NEG(LFBSHM_E_REPLY_FLAGS_OP, lfbshm_check_reply(LFBSHM_OP_ARM_TRAP,
	    fd, EIO, LFBSHM_REPLY_TRAPPED, why, sizeof(why)));
	NEG(LFBSHM_E_REPLY_FLAGS_OP, lfbshm_check_reply(LFBSHM_OP_TRACK_OFF,
	    fd, 0, LFBSHM_REPLY_ALL_DIRTY, why, sizeof(why)));
	NEG(LFBSHM_E_REPLY_TRAP, lfbshm_check_reply(LFBSHM_OP_ARM_TRAP, fd,
	    0, 0, why, sizeof(why)));
	NEG(LFBSHM_E_REPLY_TRAP, lfbshm_check_reply(LFBSHM_OP_ARM_TRAP, fd,
	    0, LFBSHM_REPLY_TRAPPED | LFBSHM_REPLY_TRAP_FIRED, why,
	    sizeof(why)));
	NEG(LFBSHM_E_REPLY_ALL_DIRTY, lfbshm_check_reply(LFBSHM_OP_GET_DIRTY,
	    0, 0, 0, why, sizeof(why)));
	NEG(LFBSHM_E_REPLY_ALL_DIRTY, lfbshm_check_reply(LFBSHM_OP_GET_DIRTY,
	    fd, EIO, 0, why, sizeof(why)));
}

static void
test_ring(void)
{
	CHECK(lfbshm_check_ring(0, 0, 16, why, sizeof(why)) == 0);
	CHECK(lfbshm_check_ring(16, 0, 16, why, sizeof(why)) == 16);
	CHECK(lfbshm_check_ring(3, 0xfffffff5u, 16, why, sizeof(why)) == 14);
	NEG(LFBSHM_E_RING_INDEX, lfbshm_check_ring(17, 0, 16, why,
	    sizeof(why)));
	/* cons ahead of prod: a huge modular difference. */
	NEG(LFBSHM_E_RING_INDEX, lfbshm_check_ring(5, 10, 16, why,
	    sizeof(why)));
}

static void
test_request(void)
{
	struct lfbshm_request g, r;

	memset(&g, 0, sizeof(g));
	g.req_seq = 1;
	g.op = LFBSHM_OP_GET_DIRTY;
	POS(lfbshm_check_request(&g, why, sizeof(why)));
	r = g; r.op = LFBSHM_OP_ARM_TRAP; r.arg0 = 7;
	POS(lfbshm_check_request(&r, why, sizeof(why)));
	/* The provider's half is not the request's business. */
	r = g; r.rep_reserved[0] = 1; r.events = 9;
	POS(lfbshm_check_request(&r, why, sizeof(why)));

	r = g; r.op = 0;
	NEG(LFBSHM_E_REQ_OP, lfbshm_check_request(&r, why, sizeof(why)));
	r = g; r.op = LFBSHM_OP_TRACK_OFF + 1;
	NEG(LFBSHM_E_REQ_OP, lfbshm_check_request(&r, why, sizeof(why)));
	r = g; r.arg0 = 1;
	NEG(LFBSHM_E_REQ_ARG, lfbshm_check_request(&r, why, sizeof(why)));
	r = g; r.req_reserved[51] = 1;
	NEG(LFBSHM_E_REQ_RESERVED, lfbshm_check_request(&r, why,
	    sizeof(why)));
}

static void
test_input(void)
{
	const uint64_t all = LFBSHM_F_INPUT_KEY | LFBSHM_F_INPUT_POINTER;
	struct lfbshm_input ev;

#define IN(f, w, h) lfbshm_check_input(&ev, (f), (w), (h), why, sizeof(why))
	memset(&ev, 0, sizeof(ev));
	ev.type = LFBSHM_INPUT_KEY;
	ev.u.key.keysym = 0xff0d;
	ev.u.key.down = 1;
	POS(IN(all, 640, 480));
	NEG(LFBSHM_E_INPUT_FEATURE, IN(LFBSHM_F_INPUT_POINTER, 640, 480));
	ev.u.key.down = 2;
	NEG(LFBSHM_E_INPUT_KEY, IN(all, 640, 480));

	memset(&ev, 0, sizeof(ev));
	ev.type = LFBSHM_INPUT_POINTER;
	ev.u.pointer.x = 639;
	ev.u.pointer.y = 479;
	ev.u.pointer.buttons = LFBSHM_BUTTON_LEFT | LFBSHM_BUTTON_RIGHT;
	POS(IN(all, 640, 480));
	NEG(LFBSHM_E_INPUT_FEATURE, IN(LFBSHM_F_INPUT_KEY, 640, 480));
	ev.u.pointer.x = 640;
	NEG(LFBSHM_E_INPUT_POINTER, IN(all, 640, 480));
	ev.u.pointer.x = 0;
	NEG(LFBSHM_E_INPUT_POINTER, IN(all, 0, 0));	/* no mode yet */
	ev.u.pointer.buttons = 1u << 3;
	NEG(LFBSHM_E_INPUT_BUTTONS, IN(all, 640, 480));

	memset(&ev, 0, sizeof(ev));
	ev.type = LFBSHM_INPUT_WHEEL;
	ev.u.wheel.dy = -3;
	POS(IN(all, 640, 480));
	NEG(LFBSHM_E_INPUT_FEATURE, IN(LFBSHM_F_INPUT_KEY, 640, 480));
	ev.type = 77;
	NEG(LFBSHM_E_INPUT_TYPE, IN(all, 640, 480));
#undef IN
}

static void
test_bitmap(void)
{
	uint8_t src[24];
	uint64_t dst[4], n;

	/* 130 pages: 3 words; bits past page 129 must not come through. */
	memset(src, 0xff, sizeof(src));
	memset(dst, 0xee, sizeof(dst));
	CHECK(lfbshm_bitmap_copy(dst, 4, src, sizeof(src), 130, &n) == 0);
	CHECK(n == 130);
	CHECK(dst[0] == ~0ull && dst[1] == ~0ull && dst[2] == 3 &&
	    dst[3] == 0);

	/* Octet p / 8, bit p % 8 is page p. */
	memset(src, 0, sizeof(src));
	src[0] = 0x01;		/* page 0 */
	src[8] = 0x80;		/* page 71 */
	src[16] = 0x02;		/* page 129 */
	CHECK(lfbshm_bitmap_copy(dst, 3, src, sizeof(src), 130, &n) == 0);
	CHECK(n == 3 && dst[0] == 1 && dst[1] == 1ull << 7 && dst[2] == 2);

	NEG(LFBSHM_E_ARG, lfbshm_bitmap_copy(dst, 2, src, sizeof(src), 130,
	    &n));
	NEG(LFBSHM_E_ARG, lfbshm_bitmap_copy(dst, 4, src, 16, 130, &n));
}

static void
test_names(void)
{
	int i, j;

	for (i = 1; i < LFBSHM_E_NRULES; i++) {
		CHECK(strcmp(lfbshm_wire_strerror(i), "unknown rule") != 0);
		CHECK(lfbshm_wire_strerror(-i) == lfbshm_wire_strerror(i));
		CHECK(lfbshm_wire_errno(-i) < 0);
		for (j = 1; j < i; j++)
			CHECK(strcmp(lfbshm_wire_strerror(i),
			    lfbshm_wire_strerror(j)) != 0);
	}
	CHECK(strcmp(lfbshm_wire_strerror(LFBSHM_E_NRULES),
	    "unknown rule") == 0);
	CHECK(lfbshm_wire_errno(0) == 0);
	CHECK(lfbshm_wire_errno(-LFBSHM_E_ARG) == -EINVAL);
	CHECK(lfbshm_wire_errno(-LFBSHM_E_HDR_BOUNDS) == -EPROTO);
}

int
main(void)
{
	int i, untested = 0;

	test_hello();
	test_welcome();
	test_fds();
	test_header();
	test_mode();
	test_reply();
	test_ring();
	test_request();
	test_input();
	test_bitmap();
	test_names();

	for (i = 1; i < LFBSHM_E_NRULES; i++)
		if (!tested[i]) {
			fprintf(stderr, "FAIL: rule %s has no negative test\n",
			    lfbshm_wire_strerror(i));
			untested++;
		}
	failures += untested;
	if (failures != 0) {
		fprintf(stderr, "test-wire: %d failures\n", failures);
		return 1;
	}
	printf("test-wire: %d rules, each rejected by its own test\n",
	    LFBSHM_E_NRULES - 1);
	return 0;
}
