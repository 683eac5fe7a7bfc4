/*
 * test-layout.c - a black-box test of the lfbshm byte layout.
 *
 * This file does not include lfbshm.h and uses none of its structures or
 * constants: every message and block is built octet by octet, little-endian,
 * from the offsets and values written in proto/PROTOCOL.md, and handed to
 * the byte functions of wire.h.  If the C structures and the document ever
 * disagree, this test fails.  Builders are checked against the same
 * hand-made octets.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#ifdef LFBSHM_H
#error "the black-box layout test must not see lfbshm.h"
#endif

/* Values from PROTOCOL.md, written out here on purpose. */
#define MAGIC		0x5342464cu	/* "LFBS" */
#define F_DIRTY		(1u << 0)
#define F_TRAP		(1u << 1)
#define F_KEY		(1u << 2)
#define F_POINTER	(1u << 3)
#define F_MODE		(1u << 4)
#define FMT_XRGB8888	1
#define FMT_RGB565	4
#define OP_GET_DIRTY	1
#define OP_ARM_TRAP	2
#define REP_ALL_DIRTY	(1u << 0)
#define REP_TRAPPED	(1u << 2)
#define IN_KEY		1
#define IN_POINTER	2
#define IN_WHEEL	3

#define FB_SIZE		(1u << 20)	/* 256 pages */

static int failures;
static char why[256];

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: FAIL: %s (%s)\n", __FILE__,	\
		    __LINE__, #cond, why);				\
		failures++;						\
	}								\
} while (0)

static void
put16(uint8_t *b, size_t off, uint16_t v)
{
	b[off] = v & 0xff;
	b[off + 1] = v >> 8;
}

static void
put32(uint8_t *b, size_t off, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		b[off + i] = (v >> (8 * i)) & 0xff;
}

static void
put64(uint8_t *b, size_t off, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		b[off + i] = (v >> (8 * i)) & 0xff;
}

static void
test_hello(void)
{
	uint8_t b[32], c[32], built[32];

	memset(b, 0, sizeof(b));
	b[0] = 'L'; b[1] = 'F'; b[2] = 'B'; b[3] = 'S';	/* magic */
	put16(b, 4, 1);					/* min_version */
	put16(b, 6, 1);					/* max_version */
	put64(b, 8, F_DIRTY | F_TRAP | F_MODE);		/* features */
	CHECK(lfbshm_wire_check_hello(b, 32, why, sizeof(why)) == 0);
	CHECK(lfbshm_wire_hello(built, 32, 1, 1,
	    F_DIRTY | F_TRAP | F_MODE) == 0);
	CHECK(memcmp(b, built, 32) == 0);

	memcpy(c, b, 32); c[3] = 'T';
	CHECK(lfbshm_wire_check_hello(c, 32, why, sizeof(why)) ==
	    -LFBSHM_E_HELLO_MAGIC);
	memcpy(c, b, 32); put16(c, 4, 0);
	CHECK(lfbshm_wire_check_hello(c, 32, why, sizeof(why)) ==
	    -LFBSHM_E_HELLO_VERSION);
	memcpy(c, b, 32); put16(c, 4, 2);		/* min > max */
	CHECK(lfbshm_wire_check_hello(c, 32, why, sizeof(why)) ==
	    -LFBSHM_E_HELLO_VERSION);
	memcpy(c, b, 32); c[16] = 1;			/* reserved starts */
	CHECK(lfbshm_wire_check_hello(c, 32, why, sizeof(why)) ==
	    -LFBSHM_E_HELLO_RESERVED);
	memcpy(c, b, 32); c[31] = 1;			/* ...and ends */
	CHECK(lfbshm_wire_check_hello(c, 32, why, sizeof(why)) ==
	    -LFBSHM_E_HELLO_RESERVED);
	memcpy(c, b, 32); put64(c, 8, ~0ull);		/* unknown: ignored */
	CHECK(lfbshm_wire_check_hello(c, 32, why, sizeof(why)) == 0);
	CHECK(lfbshm_wire_check_hello(b, 24, why, sizeof(why)) ==
	    -LFBSHM_E_LEN);
}

/* An OK WELCOME for a 1 MiB window at 8 KiB with a one-page region. */
static void
make_welcome(uint8_t *b)
{
	memset(b, 0, 128);
	put32(b, 0, MAGIC);
	put16(b, 4, 1);			/* version */
	put16(b, 6, 0);			/* status OK */
	put64(b, 8, F_DIRTY | F_KEY);	/* features */
	put64(b, 16, 8192);		/* fb_map_offset */
	put64(b, 24, FB_SIZE);		/* fb_map_size */
	put32(b, 32, 4096);		/* ctrl_size */
	put32(b, 36, 4);		/* nfds */
}

static void
test_welcome(void)
{
	const uint64_t asked = F_DIRTY | F_TRAP | F_KEY | F_POINTER | F_MODE;
	uint8_t b[128], c[128], built[128];

	make_welcome(b);
	CHECK(lfbshm_wire_check_welcome(b, 128, 1, 1, asked, why,
	    sizeof(why)) == 0);
	CHECK(lfbshm_wire_welcome_ok(built, 128, 1, F_DIRTY | F_KEY, 8192,
	    FB_SIZE, 4096) == 0);
	CHECK(memcmp(b, built, 128) == 0);

	memcpy(c, b, 128); put32(c, 36, 5);
	CHECK(lfbshm_wire_check_welcome(c, 128, 1, 1, asked, why,
	    sizeof(why)) == -LFBSHM_E_WELCOME_NFDS);
	memcpy(c, b, 128); put32(c, 32, 4000);
	CHECK(lfbshm_wire_check_welcome(c, 128, 1, 1, asked, why,
	    sizeof(why)) == -LFBSHM_E_WELCOME_CTRL_SIZE);
	memcpy(c, b, 128); put64(c, 16, 8193);
	CHECK(lfbshm_wire_check_welcome(c, 128, 1, 1, asked, why,
	    sizeof(why)) == -LFBSHM_E_WELCOME_FB_OFFSET);
	memcpy(c, b, 128); put64(c, 24, 0);
	CHECK(lfbshm_wire_check_welcome(c, 128, 1, 1, asked, why,
	    sizeof(why)) == -LFBSHM_E_WELCOME_FB_SIZE);
	memcpy(c, b, 128); c[40] = 1;			/* reserved 40..63 */
	CHECK(lfbshm_wire_check_welcome(c, 128, 1, 1, asked, why,
	    sizeof(why)) == -LFBSHM_E_WELCOME_RESERVED);
	memcpy(c, b, 128); c[47] = 1;			/* last reserved */
	CHECK(lfbshm_wire_check_welcome(c, 128, 1, 1, asked, why,
	    sizeof(why)) == -LFBSHM_E_WELCOME_RESERVED);
	memcpy(c, b, 128); memcpy(c + 48, "uffd", 5);	/* tracker 48..63 */
	CHECK(lfbshm_wire_check_welcome(c, 128, 1, 1, asked, why,
	    sizeof(why)) == 0);
	memcpy(c, b, 128); memset(c + 48, 'u', 16);	/* no NUL */
	CHECK(lfbshm_wire_check_welcome(c, 128, 1, 1, asked, why,
	    sizeof(why)) == -LFBSHM_E_WELCOME_TRACKER);
	memcpy(c, b, 128); memset(c + 64, 'r', 64);	/* reason 64..127 */
	CHECK(lfbshm_wire_check_welcome(c, 128, 1, 1, asked, why,
	    sizeof(why)) == -LFBSHM_E_WELCOME_REASON);
	memcpy(c, b, 128); put16(c, 4, 2);
	CHECK(lfbshm_wire_check_welcome(c, 128, 1, 1, asked, why,
	    sizeof(why)) == -LFBSHM_E_WELCOME_VERSION);
	CHECK(lfbshm_wire_check_welcome(b, 128, 1, 1, F_DIRTY, why,
	    sizeof(why)) == -LFBSHM_E_WELCOME_UNASKED);

	/* A BUSY refusal: status 1, reason text, everything else 0. */
	memset(b, 0, 128);
	put32(b, 0, MAGIC);
	put16(b, 6, 1);
	memcpy(b + 64, "busy: pid 42", 12);
	CHECK(lfbshm_wire_check_welcome(b, 128, 1, 1, asked, why,
	    sizeof(why)) == 0);
	CHECK(lfbshm_wire_welcome_refuse(built, 128, 1, "busy: pid 42") == 0);
	CHECK(memcmp(b, built, 128) == 0);
	put16(b, 6, 5);					/* unknown status */
	CHECK(lfbshm_wire_check_welcome(b, 128, 1, 1, asked, why,
	    sizeof(why)) == -LFBSHM_E_WELCOME_STATUS);
}

/* The layout PROTOCOL.md gives for 1 MiB and 16 input slots. */
static void
make_header(uint8_t *b)
{
	memset(b, 0, 64);
	put32(b, 0, MAGIC);
	put16(b, 4, 1);			/* version */
	put16(b, 6, 64);		/* header_size */
	put64(b, 8, F_DIRTY | F_KEY);	/* features */
	put32(b, 16, 4096);		/* ctrl_size */
	put32(b, 20, 4096);		/* page_size */
	put64(b, 24, FB_SIZE);		/* fb_size */
	put32(b, 32, 64);		/* mode_offset */
	put32(b, 36, 128);		/* request_offset */
	put32(b, 40, 256);		/* bitmap_offset */
	put32(b, 44, 32);		/* bitmap_size: 256 bits */
	put32(b, 48, 320);		/* input_offset */
	put32(b, 52, 16);		/* input_entries */
}

static int
chk_header(const uint8_t *h, const uint8_t *w)
{
	return lfbshm_wire_check_header(h, 64, w, 128, 4096, 8192 + FB_SIZE,
	    why, sizeof(why));
}

static void
test_header(void)
{
	uint8_t w[128], h[64], c[64], built[64];

	make_welcome(w);
	make_header(h);
	CHECK(chk_header(h, w) == 0);
	CHECK(lfbshm_wire_header(built, 64, 1, F_DIRTY | F_KEY, FB_SIZE,
	    16) == 0);
	CHECK(memcmp(h, built, 64) == 0);

	/* PROTOCOL.md §17: 2 MiB, 256 slots -> bitmap 64 octets at 256,
	   input at 320, ctrl_size 8192. */
	CHECK(lfbshm_wire_header(built, 64, 1, 0x1f, 2u << 20, 256) == 0);
	CHECK(built[44] == 64 && built[45] == 0 && built[48] == 0x40 &&
	    built[49] == 0x01 && built[16] == 0x00 && built[17] == 0x20 &&
	    built[18] == 0 && built[19] == 0 && built[52] == 0 &&
	    built[53] == 1);

	memcpy(c, h, 64); put32(c, 44, 24);
	CHECK(chk_header(c, w) == -LFBSHM_E_HDR_BITMAP_SIZE);
	memcpy(c, h, 64); put32(c, 44, 36);
	CHECK(chk_header(c, w) == -LFBSHM_E_HDR_BITMAP_ALIGN);
	memcpy(c, h, 64); put32(c, 52, 12);
	CHECK(chk_header(c, w) == -LFBSHM_E_HDR_INPUT_ENTRIES);
	memcpy(c, h, 64); put32(c, 48, 4032);
	CHECK(chk_header(c, w) == -LFBSHM_E_HDR_BOUNDS);
	memcpy(c, h, 64); put32(c, 40, 192);
	CHECK(chk_header(c, w) == -LFBSHM_E_HDR_OVERLAP);
	memcpy(c, h, 64); put32(c, 36, 130);
	CHECK(chk_header(c, w) == -LFBSHM_E_HDR_ALIGN);
	memcpy(c, h, 64); put32(c, 20, 8192);
	CHECK(chk_header(c, w) == -LFBSHM_E_HDR_PAGE_SIZE);
	memcpy(c, h, 64); put64(c, 8, F_DIRTY);
	CHECK(chk_header(c, w) == -LFBSHM_E_HDR_FEATURES);
	memcpy(c, h, 64); c[56] = 1;			/* reserved 56..63 */
	CHECK(chk_header(c, w) == -LFBSHM_E_HDR_RESERVED);
	memcpy(c, h, 64); c[63] = 1;
	CHECK(chk_header(c, w) == -LFBSHM_E_HDR_RESERVED);
	CHECK(lfbshm_wire_check_header(h, 64, w, 128, 8192, 8192 + FB_SIZE,
	    why, sizeof(why)) == -LFBSHM_E_FD_CTRL_SIZE);
	CHECK(lfbshm_wire_check_header(h, 64, w, 128, 4096, FB_SIZE, why,
	    sizeof(why)) == -LFBSHM_E_FD_FB_SIZE);
}

static void
make_mode(uint8_t *b)
{
	memset(b, 0, 64);
	put32(b, 0, 2);			/* gen */
	put32(b, 4, 320);		/* width */
	put32(b, 8, 200);		/* height */
	put32(b, 12, 1280);		/* stride */
	put32(b, 16, FMT_XRGB8888);	/* format */
	put64(b, 24, 4096);		/* offset */
}

static void
test_mode(void)
{
	uint8_t b[64], c[64];

	make_mode(b);
	CHECK(lfbshm_wire_check_mode(b, 64, FB_SIZE, why, sizeof(why)) == 0);
	memcpy(c, b, 64); put32(c, 0, 3);
	CHECK(lfbshm_wire_check_mode(c, 64, FB_SIZE, why, sizeof(why)) ==
	    -LFBSHM_E_MODE_GEN);
	memcpy(c, b, 64); put32(c, 16, FMT_RGB565);	/* 2 bpp: fits */
	CHECK(lfbshm_wire_check_mode(c, 64, FB_SIZE, why, sizeof(why)) == 0);
	memcpy(c, b, 64); put32(c, 16, 9);
	CHECK(lfbshm_wire_check_mode(c, 64, FB_SIZE, why, sizeof(why)) ==
	    -LFBSHM_E_MODE_FORMAT);
	memcpy(c, b, 64); put32(c, 12, 1279);
	CHECK(lfbshm_wire_check_mode(c, 64, FB_SIZE, why, sizeof(why)) ==
	    -LFBSHM_E_MODE_STRIDE);
	/* 4096 + 1280 * 199 + 1280 = 260096: the mode needs that many. */
	CHECK(lfbshm_wire_check_mode(b, 64, 260096, why, sizeof(why)) == 0);
	CHECK(lfbshm_wire_check_mode(b, 64, 260095, why, sizeof(why)) ==
	    -LFBSHM_E_MODE_BOUNDS);
	memcpy(c, b, 64); c[20] = 1;			/* reserved0 */
	CHECK(lfbshm_wire_check_mode(c, 64, FB_SIZE, why, sizeof(why)) ==
	    -LFBSHM_E_MODE_RESERVED);
	memcpy(c, b, 64); c[32] = 1;			/* reserved 32..63 */
	CHECK(lfbshm_wire_check_mode(c, 64, FB_SIZE, why, sizeof(why)) ==
	    -LFBSHM_E_MODE_RESERVED);
}

static void
test_request(void)
{
	uint8_t b[128], c[128];

	memset(b, 0, 128);
	put32(b, 0, 5);			/* req_seq */
	put32(b, 4, OP_ARM_TRAP);	/* op */
	put32(b, 8, 3);			/* arg0: clean scans */
	CHECK(lfbshm_wire_check_request(b, 128, why, sizeof(why)) == 0);
	memcpy(c, b, 128); put32(c, 4, 9);
	CHECK(lfbshm_wire_check_request(c, 128, why, sizeof(why)) ==
	    -LFBSHM_E_REQ_OP);
	memcpy(c, b, 128); put32(c, 4, OP_GET_DIRTY);
	CHECK(lfbshm_wire_check_request(c, 128, why, sizeof(why)) ==
	    -LFBSHM_E_REQ_ARG);
	memcpy(c, b, 128); c[12] = 1;			/* req_reserved */
	CHECK(lfbshm_wire_check_request(c, 128, why, sizeof(why)) ==
	    -LFBSHM_E_REQ_RESERVED);
	memcpy(c, b, 128); c[63] = 1;
	CHECK(lfbshm_wire_check_request(c, 128, why, sizeof(why)) ==
	    -LFBSHM_E_REQ_RESERVED);

	/* The reply half: rep_seq 64, rep_status 68, rep_flags 72. */
	put32(b, 64, 4);
	CHECK(lfbshm_wire_check_reply(b, 128, OP_ARM_TRAP, 5, F_TRAP, why,
	    sizeof(why)) == 1);			/* not answered yet */
	put32(b, 64, 5);
	put32(b, 72, REP_TRAPPED);
	put32(b, 76, 2);			/* rep_mode_gen */
	put32(b, 84, 0xff);			/* events: not a reply field */
	CHECK(lfbshm_wire_check_reply(b, 128, OP_ARM_TRAP, 5, F_TRAP, why,
	    sizeof(why)) == 0);
	put32(b, 72, 1u << 3);
	CHECK(lfbshm_wire_check_reply(b, 128, OP_ARM_TRAP, 5, F_TRAP, why,
	    sizeof(why)) == -LFBSHM_E_REPLY_FLAGS);
	put32(b, 72, 0);
	put32(b, 68, 5);			/* EIO */
	CHECK(lfbshm_wire_check_reply(b, 128, OP_GET_DIRTY, 5, F_DIRTY, why,
	    sizeof(why)) == -LFBSHM_E_REPLY_ALL_DIRTY);
	put32(b, 72, REP_ALL_DIRTY);
	CHECK(lfbshm_wire_check_reply(b, 128, OP_GET_DIRTY, 5, F_DIRTY, why,
	    sizeof(why)) == 0);
	put32(b, 64, 9);
	CHECK(lfbshm_wire_check_reply(b, 128, OP_GET_DIRTY, 5, F_DIRTY, why,
	    sizeof(why)) == -LFBSHM_E_REPLY_SEQ);
}

static void
test_ring(void)
{
	uint8_t b[128];

	/* prod at 0 is ours and not read: garbage there changes nothing. */
	memset(b, 0xa5, 64);
	memset(b + 64, 0, 64);
	put32(b, 64, 1);			/* cons */
	CHECK(lfbshm_wire_check_ring(b, 128, 3, 16, why, sizeof(why)) == 2);
	CHECK(lfbshm_wire_check_ring(b, 128, 17, 16, why, sizeof(why)) == 16);
	CHECK(lfbshm_wire_check_ring(b, 128, 18, 16, why, sizeof(why)) ==
	    -LFBSHM_E_RING_INDEX);
	put32(b, 64, 10);			/* cons ahead of prod */
	CHECK(lfbshm_wire_check_ring(b, 128, 3, 16, why, sizeof(why)) ==
	    -LFBSHM_E_RING_INDEX);
}

static void
test_input(void)
{
	const uint64_t f = F_KEY | F_POINTER;
	uint8_t b[16];

	memset(b, 0, 16);
	put16(b, 0, IN_KEY);
	put32(b, 4, 0xff0d);			/* keysym Return */
	b[8] = 1;				/* down */
	CHECK(lfbshm_wire_check_input(b, 16, f, 320, 200, why,
	    sizeof(why)) == 0);
	b[8] = 2;
	CHECK(lfbshm_wire_check_input(b, 16, f, 320, 200, why,
	    sizeof(why)) == -LFBSHM_E_INPUT_KEY);

	memset(b, 0, 16);
	put16(b, 0, IN_POINTER);
	put16(b, 4, 319);			/* x */
	put16(b, 6, 199);			/* y */
	put32(b, 8, 5);				/* left + right */
	CHECK(lfbshm_wire_check_input(b, 16, f, 320, 200, why,
	    sizeof(why)) == 0);
	put16(b, 6, 200);
	CHECK(lfbshm_wire_check_input(b, 16, f, 320, 200, why,
	    sizeof(why)) == -LFBSHM_E_INPUT_POINTER);
	put16(b, 6, 0);
	put32(b, 8, 8);
	CHECK(lfbshm_wire_check_input(b, 16, f, 320, 200, why,
	    sizeof(why)) == -LFBSHM_E_INPUT_BUTTONS);

	memset(b, 0, 16);
	put16(b, 0, IN_WHEEL);
	put32(b, 4, (uint32_t)-1);		/* dx */
	put32(b, 8, 2);				/* dy */
	CHECK(lfbshm_wire_check_input(b, 16, f, 320, 200, why,
	    sizeof(why)) == 0);
	CHECK(lfbshm_wire_check_input(b, 16, F_KEY, 320, 200, why,
	    sizeof(why)) == -LFBSHM_E_INPUT_FEATURE);
	put16(b, 0, 4);
	CHECK(lfbshm_wire_check_input(b, 16, f, 320, 200, why,
	    sizeof(why)) == -LFBSHM_E_INPUT_TYPE);
	CHECK(lfbshm_wire_check_input(b, 15, f, 320, 200, why,
	    sizeof(why)) == -LFBSHM_E_LEN);
}

static void
test_bitmap(void)
{
	uint8_t b[32];
	uint64_t dst[4], n;

	/* Bit p of octet p / 8, least significant first, is page p. */
	memset(b, 0, sizeof(b));
	b[0] = 0x05;		/* pages 0 and 2 */
	b[31] = 0x80;		/* page 255 */
	CHECK(lfbshm_bitmap_copy(dst, 4, b, 32, 256, &n) == 0);
	CHECK(n == 3);
	CHECK(dst[0] == 5 && dst[1] == 0 && dst[2] == 0 &&
	    dst[3] == 1ull << 63);
}

int
main(void)
{
	test_hello();
	test_welcome();
	test_header();
	test_mode();
	test_request();
	test_ring();
	test_input();
	test_bitmap();
	if (failures != 0) {
		fprintf(stderr, "test-layout: %d failures\n", failures);
		return 1;
	}
	printf("test-layout: the documented octets match the library\n");
	return 0;
}
