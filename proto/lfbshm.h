/*
 * lfbshm.h - the lfbshm shared-memory display protocol, version 1.
 *
 * This header is the specification; proto/PROTOCOL.md tells the same in
 * prose with the rationale.  Where the two disagree this header wins.
 *
 * A *provider* (a VMM, a device model, a test guest) owns a linear
 * framebuffer (LFB) that something writes into, and a write-tracking
 * mechanism that can answer "which 4 KiB pages of the framebuffer were
 * written since I last asked?" with read-and-clear semantics, like Xen's
 * XEN_DMOP_track_dirty_vram.  A *consumer* (lfbvncd) maps the framebuffer
 * read-only and asks that question before it reads pixels.
 *
 * Conventions used throughout:
 *  - All multi-octet fields are little-endian (the protocol is local to one
 *    host and is defined for little-endian hosts only).
 *  - Offsets are in octets from the start of the enclosing object.
 *  - Every structure has fixed-width fields, natural alignment and explicit
 *    padding; sizes and offsets are pinned by _Static_assert at the end.
 *  - Reserved fields and reserved bits MUST be written as zero and MUST be
 *    checked for zero by the receiver where this header says "checked".
 *    A receiver that finds a non-zero checked reserved field treats the
 *    peer as broken (the consumer drops the provider with a clear error).
 *  - "page" always means 4096 octets (LFBSHM_PAGE_SIZE), whatever the host's
 *    page size.
 *
 * ------------------------------------------------------------------------
 * 1. Transport and handshake
 * ------------------------------------------------------------------------
 * The provider listens on a unix socket of type SOCK_SEQPACKET (message
 * boundaries matter).  One consumer at a time: while a consumer is attached,
 * a second connection receives a WELCOME with status LFBSHM_STATUS_BUSY and
 * a human-readable reason, and is then closed.
 *
 *   consumer                                   provider
 *      | --- HELLO (struct lfbshm_hello) ---------> |
 *      | <-- WELCOME (struct lfbshm_welcome) ------ |  + SCM_RIGHTS fds
 *
 * The WELCOME is one message; when status is LFBSHM_STATUS_OK it carries
 * exactly LFBSHM_NFDS descriptors as SCM_RIGHTS ancillary data, in this
 * order:
 *   [0] ctrl:   the control region (a memfd sealed with at least
 *               F_SEAL_SHRINK, so that it cannot fault the consumer),
 *               mapped read-write by both;
 *   [1] fb:     the framebuffer memory: a sealed memfd, or any mappable
 *               regular file (e.g. an X server's -fbdir file) at least
 *               fb_map_offset + fb_map_size octets long.  The consumer maps
 *               fb_map_size octets at file offset fb_map_offset, PROT_READ.
 *   [2] kick:   an eventfd the consumer writes to after posting a request
 *               or queueing input ("provider, look at the region");
 *   [3] notify: an eventfd the provider writes to after posting a reply or
 *               raising an event ("consumer, look at the region").
 * Any other number of descriptors with status OK is a protocol error.
 *
 * After the handshake the socket carries no more messages; it stays open
 * as the liveness link.  Either side closing it ends the session: the
 * provider then disarms any trap, turns tracking off and accepts the next
 * consumer.
 *
 * Version negotiation: the consumer sends the range it speaks
 * [min_version, max_version]; the provider picks the highest version in
 * both ranges or answers LFBSHM_STATUS_VERSION.  Features: the consumer
 * sends the feature bits it understands; the provider answers with the
 * subset it grants (features it has AND the consumer asked for).  A bit
 * granted but not asked for is a protocol error.
 *
 * ------------------------------------------------------------------------
 * 2. Control region layout (fd [0])
 * ------------------------------------------------------------------------
 *   offset 0            struct lfbshm_header     (64 octets, immutable)
 *   mode_offset         struct lfbshm_mode       (64 octets, seqlock)
 *   request_offset      struct lfbshm_request    (128 octets)
 *   bitmap_offset       dirty bitmap             (bitmap_size octets)
 *   input_offset        struct lfbshm_input_ring (128 octets)
 *                       + input_entries * struct lfbshm_input (16 octets)
 * Every offset is a multiple of 64; the blocks do not overlap and all lie
 * within ctrl_size, which equals the size of the control memfd.  The
 * provider writes the header before it sends the WELCOME and never changes
 * it afterwards; the consumer copies and validates it once.  Everything
 * else starts zeroed (a fresh memfd), except the mode if one is published:
 * every sequence number and ring counter starts at 0.
 *
 * ------------------------------------------------------------------------
 * 3. Memory ordering
 * ------------------------------------------------------------------------
 * Fields written by one side while the other may read them are accessed
 * with C11 atomics (lfbshm_load/lfbshm_store below).  Each publication is a
 * release store of a sequence number or index, read with an acquire load:
 *  - request: the consumer writes op/args, then release-stores req_seq;
 *    the provider acquire-loads req_seq, then reads op/args.
 *  - reply: the provider writes the bitmap, status, flags, mode_gen, then
 *    release-stores rep_seq = req_seq; the consumer acquire-loads rep_seq,
 *    then reads the rest and copies the bitmap.
 *  - events: the provider atomically ORs bits into events (release) and
 *    kicks notify; the consumer atomically exchanges events with 0
 *    (acquire).
 *  - input: the consumer writes entries, then release-stores prod; the
 *    provider acquire-loads prod, reads entries, release-stores cons; the
 *    consumer acquire-loads cons before it reuses a slot.
 *  - mode: a seqlock, see struct lfbshm_mode.
 *
 * The read-and-clear rule (why no update is ever lost): the provider clears
 * the tracking state for a page in the same step as it reports the page,
 * and the consumer reads pixels only after it has seen the reply.  A write
 * the guest makes while the consumer reads pixels is therefore reported by
 * the next GET_DIRTY.  A consumer MUST NOT read pixels for a scan before
 * the reply of that scan's GET_DIRTY.
 */
#ifndef LFBSHM_H
#define LFBSHM_H

#include <stddef.h>
#include <stdint.h>

#define LFBSHM_MAGIC		0x5342464cu	/* "LFBS" in memory order */
#define LFBSHM_VERSION		1
#define LFBSHM_PAGE_SHIFT	12
#define LFBSHM_PAGE_SIZE	(1u << LFBSHM_PAGE_SHIFT)
#define LFBSHM_NFDS		4

/* Limits a consumer enforces; a provider exceeding them is refused. */
#define LFBSHM_MAX_WIDTH	16384u		/* pixels */
#define LFBSHM_MAX_HEIGHT	16384u		/* pixels */
#define LFBSHM_MAX_FB_SIZE	(1ull << 30)	/* octets mapped */
#define LFBSHM_MAX_CTRL_SIZE	(4u << 20)	/* octets */
#define LFBSHM_MIN_INPUT_ENTRIES 16u
#define LFBSHM_MAX_INPUT_ENTRIES 65536u
#define LFBSHM_REASON_LEN	64

/*
 * Feature bits (struct lfbshm_hello.features, lfbshm_welcome.features,
 * lfbshm_header.features).  Unknown bits in a HELLO are ignored by the
 * provider (it never grants them); unknown bits in a WELCOME are an error.
 */
#define LFBSHM_F_DIRTY		(1ull << 0)	/* GET_DIRTY answers from a real
						   write tracker; without it
						   every reply is ALL_DIRTY */
#define LFBSHM_F_TRAP		(1ull << 1)	/* ARM_TRAP / DISARM_TRAP */
#define LFBSHM_F_INPUT_KEY	(1ull << 2)	/* KEY events are consumed */
#define LFBSHM_F_INPUT_POINTER	(1ull << 3)	/* POINTER and WHEEL events */
#define LFBSHM_F_MODE_CHANGE	(1ull << 4)	/* the mode may change; the
						   provider raises EV_MODE */
#define LFBSHM_F_ALL		((1ull << 5) - 1)

/* Handshake status (struct lfbshm_welcome.status). */
#define LFBSHM_STATUS_OK	0	/* fds attached */
#define LFBSHM_STATUS_BUSY	1	/* another consumer is attached */
#define LFBSHM_STATUS_VERSION	2	/* no common version */
#define LFBSHM_STATUS_INVALID	3	/* malformed HELLO */
#define LFBSHM_STATUS_INTERNAL	4	/* provider-side failure */

/*
 * HELLO, consumer -> provider, 32 octets.
 *
 *   0       4       6       8                16                      32
 *   +-------+-------+-------+----------------+-----------------------+
 *   | magic | min_v | max_v |    features    |  reserved (checked)   |
 *   +-------+-------+-------+----------------+-----------------------+
 */
struct lfbshm_hello {
	uint32_t magic;		/* LFBSHM_MAGIC */
	uint16_t min_version;	/* lowest version the consumer speaks, >= 1 */
	uint16_t max_version;	/* highest, >= min_version */
	uint64_t features;	/* LFBSHM_F_* the consumer understands */
	uint8_t reserved[16];	/* zero, checked */
};

/*
 * WELCOME, provider -> consumer, 128 octets.
 *
 *   0       4       6       8        16            24           32
 *   +-------+-------+-------+--------+-------------+------------+
 *   | magic |version|status |features|fb_map_offset| fb_map_size|
 *   +-------+-------+-------+--------+-------------+------------+
 *   32         36     40                 48        64           128
 *   +----------+------+------------------+---------+-------------+
 *   | ctrl_size| nfds |reserved (checked)| tracker |   reason    |
 *   +----------+------+------------------+---------+-------------+
 */
struct lfbshm_welcome {
	uint32_t magic;		/* LFBSHM_MAGIC */
	uint16_t version;	/* chosen version when OK, else 0 */
	uint16_t status;	/* LFBSHM_STATUS_* */
	uint64_t features;	/* granted LFBSHM_F_* (OK only, else 0) */
	uint64_t fb_map_offset;	/* octets into fd [1]; multiple of 4096 */
	uint64_t fb_map_size;	/* octets to map; multiple of 4096, > 0,
				   <= LFBSHM_MAX_FB_SIZE */
	uint32_t ctrl_size;	/* octets of fd [0]; multiple of 4096 */
	uint32_t nfds;		/* LFBSHM_NFDS when OK, else 0 */
	uint8_t reserved[8];	/* zero, checked */
	char tracker[16];	/* NUL-terminated name of the provider's
				   write tracker ("kvm", "uffd", "none"...),
				   printable ASCII, may be empty; for people
				   and status displays, never interpreted */
	char reason[LFBSHM_REASON_LEN];	/* NUL-terminated text for people,
					   set when status != OK; may be
					   empty; never interpreted */
};

/*
 * Control region header at offset 0, 64 octets.  Written once by the
 * provider before the WELCOME; the consumer copies it once and checks it
 * against the WELCOME and the real sizes of the descriptors.
 */
struct lfbshm_header {
	uint32_t magic;		/*  0: LFBSHM_MAGIC */
	uint16_t version;	/*  4: == WELCOME.version */
	uint16_t header_size;	/*  6: sizeof(struct lfbshm_header) */
	uint64_t features;	/*  8: == WELCOME.features */
	uint32_t ctrl_size;	/* 16: == WELCOME.ctrl_size */
	uint32_t page_size;	/* 20: LFBSHM_PAGE_SIZE */
	uint64_t fb_size;	/* 24: == WELCOME.fb_map_size; the bitmap has
				       one bit per page of it */
	uint32_t mode_offset;	/* 32 */
	uint32_t request_offset;/* 36 */
	uint32_t bitmap_offset;	/* 40 */
	uint32_t bitmap_size;	/* 44: octets, a multiple of 8, at least
				       ceil(fb_size / 4096 / 8) */
	uint32_t input_offset;	/* 48 */
	uint32_t input_entries;	/* 52: power of two in [MIN, MAX] */
	uint8_t reserved[8];	/* 56: zero, checked */
};

/*
 * Pixel formats (struct lfbshm_mode.format).  Names give the channels from
 * the most significant bit of a little-endian pixel word.
 */
#define LFBSHM_FORMAT_XRGB8888	1	/* 32 bpp, 0x00RRGGBB */
#define LFBSHM_FORMAT_XBGR8888	2	/* 32 bpp, 0x00BBGGRR */
#define LFBSHM_FORMAT_RGB888	3	/* 24 bpp packed: B, G, R in memory */
#define LFBSHM_FORMAT_RGB565	4	/* 16 bpp, RRRRRGGGGGGBBBBB */

/*
 * Display mode, 64 octets at mode_offset, protected by a seqlock.
 *
 * Provider (writer):
 *   store gen = g + 1 (relaxed)         -- odd: a change is in progress
 *   atomic_thread_fence(release)        -- readers see gen odd before
 *                                          any new field value
 *   store the fields (relaxed)
 *   store gen = g + 2 (release)         -- readers that see the new gen
 *                                          see every new field
 * then raise LFBSHM_EV_MODE.  The generation only grows (modulo 2^32) and
 * gen 0 is never published: a region whose gen is 0 has no mode yet.
 *
 * Consumer (reader): load gen (acquire); if odd or 0, retry; load every
 * field (relaxed) into a private copy; atomic_thread_fence(acquire);
 * reload gen (relaxed); if it differs, retry.  A reader gives up after a
 * bounded number of retries (a provider stuck mid-change is broken).
 *
 * Validity (checked by the consumer on the private copy):
 *   1 <= width <= LFBSHM_MAX_WIDTH, 1 <= height <= LFBSHM_MAX_HEIGHT;
 *   format is one of LFBSHM_FORMAT_*; bpp = bytes per pixel of format;
 *   stride >= width * bpp;
 *   offset + stride * (height - 1) + width * bpp <= fb_size
 *   (computed without overflow); reserved zero.
 */
struct lfbshm_mode {
	uint32_t gen;		/*  0: seqlock generation, see above */
	uint32_t width;		/*  4: pixels */
	uint32_t height;	/*  8: pixels */
	uint32_t stride;	/* 12: octets from one line to the next */
	uint32_t format;	/* 16: LFBSHM_FORMAT_* */
	uint32_t reserved0;	/* 20: zero, checked */
	uint64_t offset;	/* 24: octets from the start of the fb mapping
				       to pixel (0, 0); need not be aligned */
	uint8_t reserved[32];	/* 32: zero, checked */
};

/* Operations (struct lfbshm_request.op). */
#define LFBSHM_OP_GET_DIRTY	1	/* read and clear the dirty bitmap */
#define LFBSHM_OP_ARM_TRAP	2	/* arg0 = clean scans seen (informative).
					   Stop paying for tracking where
					   possible and raise EV_TRAP on the
					   first write.  Requires F_TRAP. */
#define LFBSHM_OP_DISARM_TRAP	3	/* back to plain tracking */
#define LFBSHM_OP_TRACK_OFF	4	/* no viewer: stop tracking entirely.
					   The next GET_DIRTY turns it on again
					   and answers ALL_DIRTY. */
/* arg0 is zero for every op but ARM_TRAP (checked by the provider). */

/* Reply flags (struct lfbshm_request.rep_flags). */
#define LFBSHM_REPLY_ALL_DIRTY	(1u << 0)	/* treat every page as written
						   (tracking was reset, the mode
						   changed, or no tracker); the
						   bitmap content is undefined */
#define LFBSHM_REPLY_TRAP_FIRED	(1u << 1)	/* ARM_TRAP: a write already
						   happened since the last
						   GET_DIRTY, the trap is not
						   armed, scan now */
#define LFBSHM_REPLY_TRAPPED	(1u << 2)	/* the trap is armed now */
#define LFBSHM_REPLY_ALL	((1u << 3) - 1)
/*
 * ALL_DIRTY belongs to GET_DIRTY, TRAP_FIRED and TRAPPED to ARM_TRAP; a
 * successful ARM_TRAP sets exactly one of the two.  A reply with a non-zero
 * status carries no flag, except GET_DIRTY's EIO, which is ALL_DIRTY.
 */

/* Reply status: 0, or one of these positive errno values. */
/*   EINVAL     unknown op, or bad argument                               */
/*   EOPNOTSUPP op needs a feature not granted                           */
/*   EIO        the tracker failed; the reply is also ALL_DIRTY           */

/*
 * Request/reply block, 128 octets at request_offset: one cache line per
 * writer.  One request is outstanding at a time.
 *
 * The consumer fills op and arg0, then release-stores req_seq = previous +
 * 1 and kicks fd [2].  The provider serves it: for GET_DIRTY it writes the
 * bitmap (bitmap_size octets; bit p of octet p / 8, least significant bit
 * first, is page p of the framebuffer mapping; bits past the last page are
 * zero), then rep_status, rep_flags, rep_mode_gen, rep_dirty_pages, then
 * release-stores rep_seq = req_seq and kicks fd [3].
 *
 * rep_mode_gen is the mode generation in force when the bitmap was taken.
 * A consumer that holds another generation re-reads the mode and treats the
 * reply as ALL_DIRTY.  rep_dirty_pages is informative: the consumer counts
 * bits itself.
 */
struct lfbshm_request {
	/* written by the consumer */
	uint32_t req_seq;	/*  0 */
	uint32_t op;		/*  4: LFBSHM_OP_* */
	uint32_t arg0;		/*  8 */
	uint8_t req_reserved[52];/* 12: zero, checked by the provider */
	/* written by the provider */
	uint32_t rep_seq;	/* 64 */
	uint32_t rep_status;	/* 68 */
	uint32_t rep_flags;	/* 72: LFBSHM_REPLY_*; others checked zero */
	uint32_t rep_mode_gen;	/* 76 */
	uint32_t rep_dirty_pages;/* 80 */
	uint32_t events;	/* 84: LFBSHM_EV_*, see below */
	uint8_t rep_reserved[40];/* 88: zero */
};

/*
 * Events, provider -> consumer: the provider atomically ORs bits into
 * lfbshm_request.events and kicks fd [3]; the consumer takes them by
 * atomically exchanging the word with 0.  Unknown bits are ignored.
 */
#define LFBSHM_EV_TRAP		(1u << 0)	/* first write after ARM_TRAP */
#define LFBSHM_EV_MODE		(1u << 1)	/* the mode generation moved */
#define LFBSHM_EV_CLOSING	(1u << 2)	/* the provider is going away */

/*
 * Input ring, consumer -> provider: a single-producer single-consumer ring
 * of input_entries slots of struct lfbshm_input after a 128-octet head.
 * prod and cons are free-running counters (modulo 2^32); slot i is entry
 * i & (input_entries - 1).  The ring is full when prod - cons ==
 * input_entries; the consumer then drops the event (input is lossy under
 * overload, like a keyboard buffer) and counts it.  A cons that would make
 * prod - cons exceed input_entries is a protocol error.
 */
struct lfbshm_input_ring {
	uint32_t prod;		/*  0: written by the consumer */
	uint8_t prod_pad[60];
	uint32_t cons;		/* 64: written by the provider */
	uint8_t cons_pad[60];
	/* struct lfbshm_input entries[input_entries] follows at 128 */
};

#define LFBSHM_INPUT_KEY	1
#define LFBSHM_INPUT_POINTER	2
#define LFBSHM_INPUT_WHEEL	3

/* Pointer buttons: RFB's button mask (bit 0 left, 1 middle, 2 right). */
#define LFBSHM_BUTTON_LEFT	(1u << 0)
#define LFBSHM_BUTTON_MIDDLE	(1u << 1)
#define LFBSHM_BUTTON_RIGHT	(1u << 2)

/* One input event, 16 octets.  Providers ignore unknown types. */
struct lfbshm_input {
	uint16_t type;		/* 0: LFBSHM_INPUT_* */
	uint16_t reserved0;	/* 2: zero */
	union {
		struct {	/* LFBSHM_INPUT_KEY */
			uint32_t keysym;	/* 4: X11 keysym */
			uint8_t down;		/* 8: 1 pressed, 0 released */
			uint8_t pad[7];
		} key;
		struct {	/* LFBSHM_INPUT_POINTER: absolute position */
			uint16_t x;		/* 4: pixels, < mode width */
			uint16_t y;		/* 6: pixels, < mode height */
			uint32_t buttons;	/* 8: LFBSHM_BUTTON_* held */
			uint32_t pad;
		} pointer;
		struct {	/* LFBSHM_INPUT_WHEEL */
			int32_t dx;		/* 4: detents, + is right */
			int32_t dy;		/* 8: detents, + is down */
			uint32_t pad;
		} wheel;
	} u;
};

_Static_assert(sizeof(struct lfbshm_hello) == 32, "hello size");
_Static_assert(offsetof(struct lfbshm_hello, features) == 8, "hello");
_Static_assert(sizeof(struct lfbshm_welcome) == 128, "welcome size");
_Static_assert(offsetof(struct lfbshm_welcome, fb_map_offset) == 16, "w");
_Static_assert(offsetof(struct lfbshm_welcome, ctrl_size) == 32, "w");
_Static_assert(offsetof(struct lfbshm_welcome, tracker) == 48, "w");
_Static_assert(offsetof(struct lfbshm_welcome, reason) == 64, "w");
_Static_assert(sizeof(struct lfbshm_header) == 64, "header size");
_Static_assert(offsetof(struct lfbshm_header, fb_size) == 24, "header");
_Static_assert(offsetof(struct lfbshm_header, input_entries) == 52, "hdr");
_Static_assert(sizeof(struct lfbshm_mode) == 64, "mode size");
_Static_assert(offsetof(struct lfbshm_mode, offset) == 24, "mode");
_Static_assert(sizeof(struct lfbshm_request) == 128, "request size");
_Static_assert(offsetof(struct lfbshm_request, rep_seq) == 64, "request");
_Static_assert(offsetof(struct lfbshm_request, events) == 84, "request");
_Static_assert(sizeof(struct lfbshm_input_ring) == 128, "ring size");
_Static_assert(offsetof(struct lfbshm_input_ring, cons) == 64, "ring");
_Static_assert(sizeof(struct lfbshm_input) == 16, "input size");
_Static_assert(offsetof(struct lfbshm_input, u.key.down) == 8, "input");
_Static_assert(offsetof(struct lfbshm_input, u.pointer.buttons) == 8, "in");

/*
 * Atomic access to shared fields declared with plain types above, as
 * liburing does (src/include/liburing/barrier.h).  GCC and Clang give
 * _Atomic uint32_t the size and alignment of uint32_t on every target this
 * protocol runs on.
 */
#include <stdatomic.h>
#define lfbshm_load(p, mo) \
	atomic_load_explicit((_Atomic __typeof__(*(p)) *)(p), (mo))
#define lfbshm_store(p, v, mo) \
	atomic_store_explicit((_Atomic __typeof__(*(p)) *)(p), (v), (mo))
#define lfbshm_fetch_or(p, v, mo) \
	atomic_fetch_or_explicit((_Atomic __typeof__(*(p)) *)(p), (v), (mo))
#define lfbshm_exchange(p, v, mo) \
	atomic_exchange_explicit((_Atomic __typeof__(*(p)) *)(p), (v), (mo))

/* Bytes per pixel of a LFBSHM_FORMAT_*, 0 for an unknown format. */
static inline uint32_t
lfbshm_format_bpp(uint32_t format)
{
	switch (format) {
	case LFBSHM_FORMAT_XRGB8888:
	case LFBSHM_FORMAT_XBGR8888:
		return 4;
	case LFBSHM_FORMAT_RGB888:
		return 3;
	case LFBSHM_FORMAT_RGB565:
		return 2;
	default:
		return 0;
	}
}

#endif /* LFBSHM_H */
