/*
 * wire.h - the lfbshm codec: builders and every validation rule of
 * proto/lfbshm.h, as pure functions (no I/O, no allocation, no logging), so
 * that they can be unit-tested and fuzzed on their own.
 *
 * Two faces:
 *  - typed functions taking the structures of lfbshm.h, for the consumer
 *    and provider libraries (include lfbshm.h to use them);
 *  - byte functions (lfbshm_wire_*) taking `const void *buf, size_t len'
 *    laid out as lfbshm.h and PROTOCOL.md document, for tests that must not
 *    share our structure definitions and for other languages' test suites.
 * This header only forward-declares the protocol structures: including it
 * does not pull lfbshm.h in.
 *
 * Error convention: every int function returns 0 on success (or the
 * documented non-negative value) and otherwise a negative LFBSHM_E_* code
 * naming the one rule that failed first.  Rules are checked in a fixed
 * order and each has its own code, so a test can tell which rule fired.
 * lfbshm_wire_errno() maps a code to the negative errno value that the
 * consumer and provider layers return (-EPROTO for a peer's violation,
 * -EINVAL for a bad argument from our own caller, -EPROTONOSUPPORT for no
 * common version).  When why is not NULL and whylen > 0, a failing check
 * writes a NUL-terminated reason for people, with the offending values,
 * into it; a passing check leaves it alone.
 *
 * Shared memory: functions that look at the live control region (those
 * taking a pointer into it: lfbshm_mode_try_read, lfbshm_bitmap_copy) read
 * each octet once.  Every other check works on a private copy the caller
 * made once; none of them reads anything twice.
 */
#ifndef LFBSHM_WIRE_H
#define LFBSHM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lfbshm_hello;
struct lfbshm_welcome;
struct lfbshm_header;
struct lfbshm_mode;
struct lfbshm_request;
struct lfbshm_input;

/*
 * Rule codes.  Functions return the negated value.  The numbering is part
 * of this library's interface (tests and logs use it), not of the protocol.
 */
enum lfbshm_wire_err {
	LFBSHM_E_OK = 0,
	LFBSHM_E_ARG,		/* caller: bad argument or buffer too small */
	LFBSHM_E_LEN,		/* message or block of the wrong length */

	/* HELLO, checked by the provider */
	LFBSHM_E_HELLO_MAGIC,	/* magic != LFBSHM_MAGIC */
	LFBSHM_E_HELLO_VERSION,	/* min_version 0 or max < min */
	LFBSHM_E_HELLO_RESERVED,/* reserved octets not zero */
	LFBSHM_E_NO_VERSION,	/* negotiation: no common version */

	/* WELCOME, checked by the consumer */
	LFBSHM_E_WELCOME_MAGIC,	/* magic != LFBSHM_MAGIC */
	LFBSHM_E_WELCOME_STATUS,/* unknown status */
	LFBSHM_E_WELCOME_REASON,/* reason has no NUL */
	LFBSHM_E_WELCOME_TRACKER,/* tracker has no NUL or is not printable */
	LFBSHM_E_WELCOME_RESERVED,/* reserved octets not zero */
	LFBSHM_E_WELCOME_REFUSAL,/* refusal with a non-zero version,
				   features, fb_map_*, ctrl_size or nfds */
	LFBSHM_E_WELCOME_VERSION,/* version outside what we asked for */
	LFBSHM_E_WELCOME_FEATURES,/* a feature bit this version lacks */
	LFBSHM_E_WELCOME_UNASKED,/* a feature granted but not asked for */
	LFBSHM_E_WELCOME_FB_OFFSET,/* fb_map_offset not a multiple of 4096 */
	LFBSHM_E_WELCOME_FB_SIZE,/* fb_map_size 0, > max or unaligned */
	LFBSHM_E_WELCOME_FB_END,/* fb_map_offset + fb_map_size overflows
				   a signed 64-bit file offset */
	LFBSHM_E_WELCOME_CTRL_SIZE,/* ctrl_size 0, > max or unaligned */
	LFBSHM_E_WELCOME_NFDS,	/* nfds != LFBSHM_NFDS */

	/* descriptors, checked by the consumer against fstat */
	LFBSHM_E_FD_CTRL_SIZE,	/* ctrl fd size != ctrl_size */
	LFBSHM_E_FD_FB_SIZE,	/* fb fd shorter than offset + size */

	/* control region header, checked by the consumer */
	LFBSHM_E_HDR_MAGIC,
	LFBSHM_E_HDR_VERSION,	/* != WELCOME.version */
	LFBSHM_E_HDR_HEADER_SIZE,/* != 64 */
	LFBSHM_E_HDR_FEATURES,	/* != WELCOME.features */
	LFBSHM_E_HDR_CTRL_SIZE,	/* != WELCOME.ctrl_size */
	LFBSHM_E_HDR_PAGE_SIZE,	/* != 4096 */
	LFBSHM_E_HDR_FB_SIZE,	/* != WELCOME.fb_map_size */
	LFBSHM_E_HDR_ALIGN,	/* a block offset not a multiple of 64 */
	LFBSHM_E_HDR_BOUNDS,	/* a block inside the header or past
				   ctrl_size */
	LFBSHM_E_HDR_OVERLAP,	/* two blocks overlap */
	LFBSHM_E_HDR_BITMAP_ALIGN,/* bitmap_size not a multiple of 8 */
	LFBSHM_E_HDR_BITMAP_SIZE,/* bitmap_size below one bit per page */
	LFBSHM_E_HDR_INPUT_ENTRIES,/* not a power of two in [MIN, MAX] */
	LFBSHM_E_HDR_RESERVED,	/* reserved octets not zero */

	/* mode (private copy), checked by the consumer */
	LFBSHM_E_MODE_GEN,	/* generation odd or 0 */
	LFBSHM_E_MODE_WIDTH,	/* 0 or > LFBSHM_MAX_WIDTH */
	LFBSHM_E_MODE_HEIGHT,	/* 0 or > LFBSHM_MAX_HEIGHT */
	LFBSHM_E_MODE_FORMAT,	/* unknown format */
	LFBSHM_E_MODE_STRIDE,	/* stride < width * bpp */
	LFBSHM_E_MODE_BOUNDS,	/* last pixel past fb_size */
	LFBSHM_E_MODE_RESERVED,	/* reserved octets not zero */

	/* reply, checked by the consumer */
	LFBSHM_E_REPLY_SEQ,	/* rep_seq neither req_seq nor req_seq - 1 */
	LFBSHM_E_REPLY_STATUS,	/* not 0, EINVAL, EOPNOTSUPP or EIO */
	LFBSHM_E_REPLY_FLAGS,	/* an undefined flag bit */
	LFBSHM_E_REPLY_FLAGS_OP,/* a flag that does not belong to this op
				   or to a failed reply */
	LFBSHM_E_REPLY_TRAP,	/* ARM_TRAP ok but not exactly one of
				   TRAP_FIRED and TRAPPED */
	LFBSHM_E_REPLY_ALL_DIRTY,/* GET_DIRTY that had to be ALL_DIRTY
				   (no F_DIRTY, or EIO) but is not */

	/* input ring indices, checked by both sides */
	LFBSHM_E_RING_INDEX,	/* prod - cons > input_entries */

	/* request (private copy), checked by the provider */
	LFBSHM_E_REQ_OP,	/* unknown op */
	LFBSHM_E_REQ_ARG,	/* arg0 not zero for an op without one */
	LFBSHM_E_REQ_RESERVED,	/* req_reserved not zero */

	/* input event (private copy), checked by the provider */
	LFBSHM_E_INPUT_TYPE,	/* unknown type: ignore the event, not a
				   violation */
	LFBSHM_E_INPUT_FEATURE,	/* type whose feature was not granted */
	LFBSHM_E_INPUT_KEY,	/* down neither 0 nor 1 */
	LFBSHM_E_INPUT_POINTER,	/* position outside the mode */
	LFBSHM_E_INPUT_BUTTONS,	/* undefined button bits */

	LFBSHM_E_NRULES
};

/* Short name of a rule ("header.bitmap_size"); never NULL. */
const char *lfbshm_wire_strerror(int err);
/* Negative errno for a (negative) rule code; 0 for 0. */
int lfbshm_wire_errno(int err);

/*
 * The display mode as both APIs hand it around: a validated private copy,
 * not the shared layout.
 */
struct lfbshm_mode_info {
	uint32_t width;		/* pixels */
	uint32_t height;	/* pixels */
	uint32_t stride;	/* octets from one line to the next */
	uint32_t format;	/* LFBSHM_FORMAT_* */
	uint64_t offset;	/* octets from the start of the fb mapping */
	uint32_t gen;		/* seqlock generation it was read at (even, not
				   0); ignored by lfbshm_provider_set_mode */
	uint32_t bpp;		/* bytes per pixel, derived from format */
};

/* ------------------------------------------------------------ typed API */

/* HELLO: build (reserved zeroed) and check (provider side). */
void lfbshm_hello_init(struct lfbshm_hello *h, uint16_t min_version,
    uint16_t max_version, uint64_t features);
int lfbshm_check_hello(const struct lfbshm_hello *h, char *why,
    size_t whylen);

/*
 * Provider side: the highest version in both [h->min_version,
 * h->max_version] and [min_version, max_version], and the features granted
 * (offered & asked & LFBSHM_F_ALL).  -LFBSHM_E_NO_VERSION when the ranges
 * do not meet.  h must have passed lfbshm_check_hello.
 */
int lfbshm_negotiate(const struct lfbshm_hello *h, uint16_t min_version,
    uint16_t max_version, uint64_t offered, uint16_t *version,
    uint64_t *granted, char *why, size_t whylen);

/* WELCOME builders; everything not given is zero. */
void lfbshm_welcome_ok(struct lfbshm_welcome *w, uint16_t version,
    uint64_t features, uint64_t fb_map_offset, uint64_t fb_map_size,
    uint32_t ctrl_size);
/* reason is truncated to fit and may be NULL. */
/* The informative tracker name (truncated to 15 visible characters). */
void lfbshm_welcome_set_tracker(struct lfbshm_welcome *w, const char *name);
void lfbshm_welcome_refuse(struct lfbshm_welcome *w, uint16_t status,
    const char *reason);

/*
 * Consumer side: check a WELCOME against what the HELLO asked for.  A
 * well-formed refusal passes (look at w->status afterwards); an OK must
 * then also have valid sizes and nfds == LFBSHM_NFDS.
 */
int lfbshm_check_welcome(const struct lfbshm_welcome *w, uint16_t min_version,
    uint16_t max_version, uint64_t asked, char *why, size_t whylen);
/* Copy w->reason into buf as printable ASCII (others become '?'). */
void lfbshm_welcome_reason(const struct lfbshm_welcome *w, char *buf,
    size_t len);

/*
 * The real sizes of the descriptors (fstat st_size) against a checked OK
 * WELCOME: the control memfd is exactly ctrl_size octets; the fb file
 * holds at least fb_map_offset + fb_map_size octets.
 */
int lfbshm_check_fds(const struct lfbshm_welcome *w, uint64_t ctrl_fd_size,
    uint64_t fb_fd_size, char *why, size_t whylen);

/*
 * A private copy of the control region header against a checked OK WELCOME
 * and the real sizes of the descriptors (lfbshm_check_fds is applied
 * first).  On success every block lies inside ctrl_fd_size octets.
 */
int lfbshm_check_header(const struct lfbshm_header *h,
    const struct lfbshm_welcome *w, uint64_t ctrl_fd_size,
    uint64_t fb_fd_size, char *why, size_t whylen);

/*
 * Provider side layout: fill h for a region serving fb_size octets of
 * framebuffer with input_entries input slots.  Blocks follow the header in
 * the order mode, request, bitmap, input, each at a multiple of 64;
 * ctrl_size is the end rounded up to 4096.  -LFBSHM_E_ARG when fb_size is
 * not a multiple of 4096 in (0, LFBSHM_MAX_FB_SIZE] or input_entries is not
 * a power of two in [MIN, MAX].  The result passes lfbshm_check_header.
 */
int lfbshm_header_init(struct lfbshm_header *h, uint16_t version,
    uint64_t features, uint64_t fb_size, uint32_t input_entries);

/*
 * One seqlock read of the live mode block at m (see lfbshm.h).  Returns
 * true with a consistent private copy in *copy (whose gen may be 0: no
 * mode yet), false when a change was in progress or happened meanwhile:
 * the caller retries a bounded number of times.
 */
bool lfbshm_mode_try_read(const struct lfbshm_mode *m,
    struct lfbshm_mode *copy);
/* Seqlock write of the live mode block; returns the new generation,
   which is never 0. */
uint32_t lfbshm_mode_write(struct lfbshm_mode *m, uint32_t old_gen,
    const struct lfbshm_mode_info *mi);

/* A private copy of the mode against the framebuffer size; fills *mi. */
int lfbshm_check_mode(const struct lfbshm_mode *m, uint64_t fb_size,
    struct lfbshm_mode_info *mi, char *why, size_t whylen);

/*
 * Consumer side, with rep_seq loaded (acquire) once: 1 when it answers
 * req_seq, 0 when it still holds the previous answer (req_seq - 1),
 * -LFBSHM_E_REPLY_SEQ otherwise.
 */
int lfbshm_check_rep_seq(uint32_t rep_seq, uint32_t req_seq, char *why,
    size_t whylen);
/*
 * Consumer side: the reply fields, each read once, for the op we posted
 * and the features granted.
 */
int lfbshm_check_reply(uint32_t op, uint64_t features, uint32_t status,
    uint32_t flags, char *why, size_t whylen);

/*
 * Either side: prod and cons as one side sees them (its own counter, and
 * the other side's read once).  Returns the number of entries in the ring.
 */
int lfbshm_check_ring(uint32_t prod, uint32_t cons, uint32_t entries,
    char *why, size_t whylen);

/* Provider side: a private copy of the request words. */
int lfbshm_check_request(const struct lfbshm_request *r, char *why,
    size_t whylen);
/*
 * Provider side: a private copy of an input event, given the features
 * granted and the current mode (width 0: no mode yet, pointer events are
 * refused).  -LFBSHM_E_INPUT_TYPE means "ignore it", not a violation.
 */
int lfbshm_check_input(const struct lfbshm_input *ev, uint64_t features,
    uint32_t width, uint32_t height, char *why, size_t whylen);

/*
 * Consumer side: copy the live shared bitmap at src (bitmap_size octets,
 * bit p of octet p / 8 is page p) once into the private dst of nwords
 * words (bit p of word p / 64 is page p), clear the bits past npages and
 * count the pages left set into *ndirty.  Needs nwords >= ceil(npages / 64)
 * and bitmap_size >= 8 * ceil(npages / 64), else -LFBSHM_E_ARG.  Words of
 * dst past ceil(npages / 64) are zeroed.
 */
int lfbshm_bitmap_copy(uint64_t *dst, size_t nwords, const void *src,
    uint32_t bitmap_size, uint64_t npages, uint64_t *ndirty);

/* Words of a private bitmap for npages pages. */
static inline size_t
lfbshm_bitmap_words(uint64_t npages)
{
	return (size_t)((npages + 63) / 64);
}

/* ------------------------------------------------------------- byte API */
/*
 * Each function below takes octets laid out as PROTOCOL.md documents
 * (little-endian), copies them into a private structure and applies the
 * typed check above.  len must be the size of the message or block: the
 * HELLO 32, the WELCOME 128, the header 64, the mode 64, the request block
 * 128, the input ring head 128, an input event 16; -LFBSHM_E_LEN
 * otherwise.
 */
int lfbshm_wire_hello(void *buf, size_t len, uint16_t min_version,
    uint16_t max_version, uint64_t features);
int lfbshm_wire_check_hello(const void *buf, size_t len, char *why,
    size_t whylen);
int lfbshm_wire_welcome_ok(void *buf, size_t len, uint16_t version,
    uint64_t features, uint64_t fb_map_offset, uint64_t fb_map_size,
    uint32_t ctrl_size);
int lfbshm_wire_welcome_refuse(void *buf, size_t len, uint16_t status,
    const char *reason);
int lfbshm_wire_check_welcome(const void *buf, size_t len,
    uint16_t min_version, uint16_t max_version, uint64_t asked, char *why,
    size_t whylen);
int lfbshm_wire_header(void *buf, size_t len, uint16_t version,
    uint64_t features, uint64_t fb_size, uint32_t input_entries);
int lfbshm_wire_check_header(const void *hdr, size_t hlen,
    const void *welcome, size_t wlen, uint64_t ctrl_fd_size,
    uint64_t fb_fd_size, char *why, size_t whylen);
/* Also applies the gen rule: a block whose gen is odd or 0 fails. */
int lfbshm_wire_check_mode(const void *buf, size_t len, uint64_t fb_size,
    char *why, size_t whylen);
int lfbshm_wire_check_request(const void *buf, size_t len, char *why,
    size_t whylen);
/* The request block holding a reply to req_seq for op: 0 when valid, 1
   when not answered yet, negative otherwise. */
int lfbshm_wire_check_reply(const void *buf, size_t len, uint32_t op,
    uint32_t req_seq, uint64_t features, char *why, size_t whylen);
/* The ring head (cons at octet 64) against our prod: the entry count. */
int lfbshm_wire_check_ring(const void *buf, size_t len, uint32_t prod,
    uint32_t entries, char *why, size_t whylen);
int lfbshm_wire_check_input(const void *buf, size_t len, uint64_t features,
    uint32_t width, uint32_t height, char *why, size_t whylen);

#endif /* LFBSHM_WIRE_H */
