/* wire.c - the lfbshm codec and validation rules; see wire.h. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lfbshm.h"
#include "wire.h"

/* The byte API decodes by copying: the protocol is little-endian only. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lfbshm is defined for little-endian hosts only"
#endif

#define ALIGN_BLOCK	64u

static const struct {
	const char	*name;
	int		 errnum;	/* positive errno of the upper layers */
} rules[LFBSHM_E_NRULES] = {
	[LFBSHM_E_OK]			= { "ok", 0 },
	[LFBSHM_E_ARG]			= { "argument", EINVAL },
	[LFBSHM_E_LEN]			= { "length", EPROTO },
	[LFBSHM_E_HELLO_MAGIC]		= { "hello.magic", EPROTO },
	[LFBSHM_E_HELLO_VERSION]	= { "hello.version", EPROTO },
	[LFBSHM_E_HELLO_RESERVED]	= { "hello.reserved", EPROTO },
	[LFBSHM_E_NO_VERSION]		= { "version", EPROTONOSUPPORT },
	[LFBSHM_E_WELCOME_MAGIC]	= { "welcome.magic", EPROTO },
	[LFBSHM_E_WELCOME_STATUS]	= { "welcome.status", EPROTO },
	[LFBSHM_E_WELCOME_REASON]	= { "welcome.reason", EPROTO },
	[LFBSHM_E_WELCOME_TRACKER]	= { "welcome.tracker", EPROTO },
	[LFBSHM_E_WELCOME_RESERVED]	= { "welcome.reserved", EPROTO },
	[LFBSHM_E_WELCOME_REFUSAL]	= { "welcome.refusal", EPROTO },
	[LFBSHM_E_WELCOME_VERSION]	= { "welcome.version", EPROTO },
	[LFBSHM_E_WELCOME_FEATURES]	= { "welcome.features", EPROTO },
	[LFBSHM_E_WELCOME_UNASKED]	= { "welcome.unasked", EPROTO },
	[LFBSHM_E_WELCOME_FB_OFFSET]	= { "welcome.fb_map_offset", EPROTO },
	[LFBSHM_E_WELCOME_FB_SIZE]	= { "welcome.fb_map_size", EPROTO },
	[LFBSHM_E_WELCOME_FB_END]	= { "welcome.fb_end", EPROTO },
	[LFBSHM_E_WELCOME_CTRL_SIZE]	= { "welcome.ctrl_size", EPROTO },
	[LFBSHM_E_WELCOME_NFDS]		= { "welcome.nfds", EPROTO },
	[LFBSHM_E_FD_CTRL_SIZE]		= { "fd.ctrl_size", EPROTO },
	[LFBSHM_E_FD_FB_SIZE]		= { "fd.fb_size", EPROTO },
	[LFBSHM_E_HDR_MAGIC]		= { "header.magic", EPROTO },
	[LFBSHM_E_HDR_VERSION]		= { "header.version", EPROTO },
	[LFBSHM_E_HDR_HEADER_SIZE]	= { "header.header_size", EPROTO },
	[LFBSHM_E_HDR_FEATURES]		= { "header.features", EPROTO },
	[LFBSHM_E_HDR_CTRL_SIZE]	= { "header.ctrl_size", EPROTO },
	[LFBSHM_E_HDR_PAGE_SIZE]	= { "header.page_size", EPROTO },
	[LFBSHM_E_HDR_FB_SIZE]		= { "header.fb_size", EPROTO },
	[LFBSHM_E_HDR_ALIGN]		= { "header.align", EPROTO },
	[LFBSHM_E_HDR_BOUNDS]		= { "header.bounds", EPROTO },
	[LFBSHM_E_HDR_OVERLAP]		= { "header.overlap", EPROTO },
	[LFBSHM_E_HDR_BITMAP_ALIGN]	= { "header.bitmap_align", EPROTO },
	[LFBSHM_E_HDR_BITMAP_SIZE]	= { "header.bitmap_size", EPROTO },
	[LFBSHM_E_HDR_INPUT_ENTRIES]	= { "header.input_entries", EPROTO },
	[LFBSHM_E_HDR_RESERVED]		= { "header.reserved", EPROTO },
	[LFBSHM_E_MODE_GEN]		= { "mode.gen", EPROTO },
	[LFBSHM_E_MODE_WIDTH]		= { "mode.width", EPROTO },
	[LFBSHM_E_MODE_HEIGHT]		= { "mode.height", EPROTO },
	[LFBSHM_E_MODE_FORMAT]		= { "mode.format", EPROTO },
	[LFBSHM_E_MODE_STRIDE]		= { "mode.stride", EPROTO },
	[LFBSHM_E_MODE_BOUNDS]		= { "mode.bounds", EPROTO },
	[LFBSHM_E_MODE_RESERVED]	= { "mode.reserved", EPROTO },
	[LFBSHM_E_REPLY_SEQ]		= { "reply.seq", EPROTO },
	[LFBSHM_E_REPLY_STATUS]		= { "reply.status", EPROTO },
	[LFBSHM_E_REPLY_FLAGS]		= { "reply.flags", EPROTO },
	[LFBSHM_E_REPLY_FLAGS_OP]	= { "reply.flags_op", EPROTO },
	[LFBSHM_E_REPLY_TRAP]		= { "reply.trap", EPROTO },
	[LFBSHM_E_REPLY_ALL_DIRTY]	= { "reply.all_dirty", EPROTO },
	[LFBSHM_E_RING_INDEX]		= { "ring.index", EPROTO },
	[LFBSHM_E_REQ_OP]		= { "request.op", EPROTO },
	[LFBSHM_E_REQ_ARG]		= { "request.arg0", EPROTO },
	[LFBSHM_E_REQ_RESERVED]		= { "request.reserved", EPROTO },
	[LFBSHM_E_INPUT_TYPE]		= { "input.type", EPROTO },
	[LFBSHM_E_INPUT_FEATURE]	= { "input.feature", EPROTO },
	[LFBSHM_E_INPUT_KEY]		= { "input.key", EPROTO },
	[LFBSHM_E_INPUT_POINTER]	= { "input.pointer", EPROTO },
	[LFBSHM_E_INPUT_BUTTONS]	= { "input.buttons", EPROTO },
};

const char *
lfbshm_wire_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= LFBSHM_E_NRULES || rules[err].name == NULL)
		return "unknown rule";
	return rules[err].name;
}

int
lfbshm_wire_errno(int err)
{
	if (err < 0)
		err = -err;
	if (err == 0)
		return 0;
	if (err >= LFBSHM_E_NRULES)
		return -EPROTO;
	return -rules[err].errnum;
}

/* Records "rule: reason" in why; returns -rule for a tail call. */
static int __attribute__((__format__(__printf__, 4, 5)))
fail(int rule, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (why == NULL || whylen == 0)
		return -rule;
	n = snprintf(why, whylen, "%s: ", rules[rule].name);
	if (n >= 0 && (size_t)n < whylen) {
		va_start(ap, fmt);
		vsnprintf(why + n, whylen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -rule;
}

static int
all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static int
is_pow2(uint32_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

/* ---------------------------------------------------------------- HELLO */

void
lfbshm_hello_init(struct lfbshm_hello *h, uint16_t min_version,
    uint16_t max_version, uint64_t features)
{
	memset(h, 0, sizeof(*h));
	h->magic = LFBSHM_MAGIC;
	h->min_version = min_version;
	h->max_version = max_version;
	h->features = features;
}

int
lfbshm_check_hello(const struct lfbshm_hello *h, char *why, size_t whylen)
{
	if (h->magic != LFBSHM_MAGIC)
		return fail(LFBSHM_E_HELLO_MAGIC, why, whylen,
		    "0x%08x, expected 0x%08x", h->magic, LFBSHM_MAGIC);
	if (h->min_version == 0 || h->max_version < h->min_version)
		return fail(LFBSHM_E_HELLO_VERSION, why, whylen,
		    "range [%u, %u] is empty or starts at 0",
		    h->min_version, h->max_version);
	if (!all_zero(h->reserved, sizeof(h->reserved)))
		return fail(LFBSHM_E_HELLO_RESERVED, why, whylen,
		    "reserved octets are not zero");
	/* Unknown feature bits are ignored: they are simply not granted. */
	return 0;
}

int
lfbshm_negotiate(const struct lfbshm_hello *h, uint16_t min_version,
    uint16_t max_version, uint64_t offered, uint16_t *version,
    uint64_t *granted, char *why, size_t whylen)
{
	uint16_t hi, lo;

	hi = h->max_version < max_version ? h->max_version : max_version;
	lo = h->min_version > min_version ? h->min_version : min_version;
	if (hi < lo || hi == 0)
		return fail(LFBSHM_E_NO_VERSION, why, whylen,
		    "consumer speaks [%u, %u], provider [%u, %u]",
		    h->min_version, h->max_version, min_version, max_version);
	*version = hi;
	*granted = offered & h->features & LFBSHM_F_ALL;
	return 0;
}

/* -------------------------------------------------------------- WELCOME */

void
lfbshm_welcome_ok(struct lfbshm_welcome *w, uint16_t version,
    uint64_t features, uint64_t fb_map_offset, uint64_t fb_map_size,
    uint32_t ctrl_size)
{
	memset(w, 0, sizeof(*w));
	w->magic = LFBSHM_MAGIC;
	w->version = version;
	w->status = LFBSHM_STATUS_OK;
	w->features = features;
	w->fb_map_offset = fb_map_offset;
	w->fb_map_size = fb_map_size;
	w->ctrl_size = ctrl_size;
	w->nfds = LFBSHM_NFDS;
}

void
lfbshm_welcome_set_tracker(struct lfbshm_welcome *w, const char *name)
{
	size_t i;

	memset(w->tracker, 0, sizeof(w->tracker));
	for (i = 0; name != NULL && name[i] != '\0' &&
	    i + 1 < sizeof(w->tracker); i++)
		w->tracker[i] = (name[i] > 0x20 && name[i] < 0x7f) ?
		    name[i] : '?';
}

void
lfbshm_welcome_refuse(struct lfbshm_welcome *w, uint16_t status,
    const char *reason)
{
	memset(w, 0, sizeof(*w));
	w->magic = LFBSHM_MAGIC;
	w->status = status;
	if (reason != NULL)
		snprintf(w->reason, sizeof(w->reason), "%s", reason);
}

void
lfbshm_welcome_reason(const struct lfbshm_welcome *w, char *buf, size_t len)
{
	size_t i;
	char ch;

	if (len == 0)
		return;
	for (i = 0; i + 1 < len && i < sizeof(w->reason); i++) {
		ch = w->reason[i];
		if (ch == '\0')
			break;
		buf[i] = (ch >= 0x20 && ch < 0x7f) ? ch : '?';
	}
	buf[i] = '\0';
}

/* NUL-terminated within len, and only visible ASCII before the NUL. */
static bool
tracker_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\0')
			return true;
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return false;
	}
	return false;
}

int
lfbshm_check_welcome(const struct lfbshm_welcome *w, uint16_t min_version,
    uint16_t max_version, uint64_t asked, char *why, size_t whylen)
{
	if (w->magic != LFBSHM_MAGIC)
		return fail(LFBSHM_E_WELCOME_MAGIC, why, whylen,
		    "0x%08x, expected 0x%08x", w->magic, LFBSHM_MAGIC);
	if (w->status > LFBSHM_STATUS_INTERNAL)
		return fail(LFBSHM_E_WELCOME_STATUS, why, whylen,
		    "unknown status %u", w->status);
	if (memchr(w->reason, '\0', sizeof(w->reason)) == NULL)
		return fail(LFBSHM_E_WELCOME_REASON, why, whylen,
		    "reason is not NUL-terminated");
	if (!all_zero(w->reserved, sizeof(w->reserved)))
		return fail(LFBSHM_E_WELCOME_RESERVED, why, whylen,
		    "reserved octets are not zero");
	if (!tracker_ok(w->tracker, sizeof(w->tracker)))
		return fail(LFBSHM_E_WELCOME_TRACKER, why, whylen,
		    "tracker name is not printable NUL-terminated ASCII");
	if (w->status != LFBSHM_STATUS_OK) {
		if (w->version != 0 || w->features != 0 ||
		    w->fb_map_offset != 0 || w->fb_map_size != 0 ||
		    w->ctrl_size != 0 || w->nfds != 0)
			return fail(LFBSHM_E_WELCOME_REFUSAL, why, whylen,
			    "refusal (status %u) with non-zero version, "
			    "features, sizes or nfds", w->status);
		return 0;
	}
	if (w->version < min_version || w->version > max_version ||
	    w->version == 0)
		return fail(LFBSHM_E_WELCOME_VERSION, why, whylen,
		    "version %u outside the [%u, %u] we asked for",
		    w->version, min_version, max_version);
	if ((w->features & ~LFBSHM_F_ALL) != 0)
		return fail(LFBSHM_E_WELCOME_FEATURES, why, whylen,
		    "unknown feature bits 0x%llx",
		    (unsigned long long)(w->features & ~LFBSHM_F_ALL));
	if ((w->features & ~asked) != 0)
		return fail(LFBSHM_E_WELCOME_UNASKED, why, whylen,
		    "granted 0x%llx that we did not ask for",
		    (unsigned long long)(w->features & ~asked));
	if (w->fb_map_offset % LFBSHM_PAGE_SIZE != 0)
		return fail(LFBSHM_E_WELCOME_FB_OFFSET, why, whylen,
		    "%llu is not a multiple of %u",
		    (unsigned long long)w->fb_map_offset, LFBSHM_PAGE_SIZE);
	if (w->fb_map_size == 0 || w->fb_map_size % LFBSHM_PAGE_SIZE != 0 ||
	    w->fb_map_size > LFBSHM_MAX_FB_SIZE)
		return fail(LFBSHM_E_WELCOME_FB_SIZE, why, whylen,
		    "%llu is not a multiple of %u in (0, %llu]",
		    (unsigned long long)w->fb_map_size, LFBSHM_PAGE_SIZE,
		    (unsigned long long)LFBSHM_MAX_FB_SIZE);
	/* mmap takes an off_t: the whole mapping must fit in one. */
	if (w->fb_map_offset > (uint64_t)INT64_MAX - w->fb_map_size)
		return fail(LFBSHM_E_WELCOME_FB_END, why, whylen,
		    "offset %llu + size %llu overflows a file offset",
		    (unsigned long long)w->fb_map_offset,
		    (unsigned long long)w->fb_map_size);
	if (w->ctrl_size == 0 || w->ctrl_size % LFBSHM_PAGE_SIZE != 0 ||
	    w->ctrl_size > LFBSHM_MAX_CTRL_SIZE)
		return fail(LFBSHM_E_WELCOME_CTRL_SIZE, why, whylen,
		    "%u is not a multiple of %u in (0, %u]", w->ctrl_size,
		    LFBSHM_PAGE_SIZE, LFBSHM_MAX_CTRL_SIZE);
	if (w->nfds != LFBSHM_NFDS)
		return fail(LFBSHM_E_WELCOME_NFDS, why, whylen,
		    "%u, expected %u", w->nfds, LFBSHM_NFDS);
	return 0;
}

int
lfbshm_check_fds(const struct lfbshm_welcome *w, uint64_t ctrl_fd_size,
    uint64_t fb_fd_size, char *why, size_t whylen)
{
	if (ctrl_fd_size != w->ctrl_size)
		return fail(LFBSHM_E_FD_CTRL_SIZE, why, whylen,
		    "the control memfd holds %llu octets, the WELCOME says %u",
		    (unsigned long long)ctrl_fd_size, w->ctrl_size);
	if (w->fb_map_offset > UINT64_MAX - w->fb_map_size ||
	    fb_fd_size < w->fb_map_offset + w->fb_map_size)
		return fail(LFBSHM_E_FD_FB_SIZE, why, whylen,
		    "the fb file holds %llu octets, the mapping needs "
		    "%llu + %llu", (unsigned long long)fb_fd_size,
		    (unsigned long long)w->fb_map_offset,
		    (unsigned long long)w->fb_map_size);
	return 0;
}

/* --------------------------------------------------------------- header */

struct block {
	const char	*name;
	uint64_t	 off;
	uint64_t	 len;
};

int
lfbshm_check_header(const struct lfbshm_header *h,
    const struct lfbshm_welcome *w, uint64_t ctrl_fd_size,
    uint64_t fb_fd_size, char *why, size_t whylen)
{
	struct block b[4];
	uint64_t npages, need;
	size_t i, j;
	int r;

	if ((r = lfbshm_check_fds(w, ctrl_fd_size, fb_fd_size, why,
	    whylen)) != 0)
		return r;
	if (h->magic != LFBSHM_MAGIC)
		return fail(LFBSHM_E_HDR_MAGIC, why, whylen,
		    "0x%08x, expected 0x%08x", h->magic, LFBSHM_MAGIC);
	if (h->version != w->version)
		return fail(LFBSHM_E_HDR_VERSION, why, whylen,
		    "%u, the WELCOME says %u", h->version, w->version);
	if (h->header_size != sizeof(struct lfbshm_header))
		return fail(LFBSHM_E_HDR_HEADER_SIZE, why, whylen,
		    "%u, expected %zu", h->header_size,
		    sizeof(struct lfbshm_header));
	if (h->features != w->features)
		return fail(LFBSHM_E_HDR_FEATURES, why, whylen,
		    "0x%llx, the WELCOME says 0x%llx",
		    (unsigned long long)h->features,
		    (unsigned long long)w->features);
	if (h->ctrl_size != w->ctrl_size)
		return fail(LFBSHM_E_HDR_CTRL_SIZE, why, whylen,
		    "%u, the WELCOME says %u", h->ctrl_size, w->ctrl_size);
	if (h->page_size != LFBSHM_PAGE_SIZE)
		return fail(LFBSHM_E_HDR_PAGE_SIZE, why, whylen,
		    "%u, expected %u", h->page_size, LFBSHM_PAGE_SIZE);
	if (h->fb_size != w->fb_map_size)
		return fail(LFBSHM_E_HDR_FB_SIZE, why, whylen,
		    "%llu, the WELCOME says %llu",
		    (unsigned long long)h->fb_size,
		    (unsigned long long)w->fb_map_size);
	if (h->bitmap_size % 8 != 0)
		return fail(LFBSHM_E_HDR_BITMAP_ALIGN, why, whylen,
		    "%u is not a multiple of 8", h->bitmap_size);
	npages = h->fb_size / LFBSHM_PAGE_SIZE;
	need = 8 * (uint64_t)lfbshm_bitmap_words(npages);
	if (h->bitmap_size < need)
		return fail(LFBSHM_E_HDR_BITMAP_SIZE, why, whylen,
		    "%u octets cannot hold %llu pages (%llu needed)",
		    h->bitmap_size, (unsigned long long)npages,
		    (unsigned long long)need);
	if (!is_pow2(h->input_entries) ||
	    h->input_entries < LFBSHM_MIN_INPUT_ENTRIES ||
	    h->input_entries > LFBSHM_MAX_INPUT_ENTRIES)
		return fail(LFBSHM_E_HDR_INPUT_ENTRIES, why, whylen,
		    "%u is not a power of two in [%u, %u]", h->input_entries,
		    LFBSHM_MIN_INPUT_ENTRIES, LFBSHM_MAX_INPUT_ENTRIES);

	/* All in 64 bits: no sum below can overflow. */
	b[0] = (struct block){ "mode", h->mode_offset,
	    sizeof(struct lfbshm_mode) };
	b[1] = (struct block){ "request", h->request_offset,
	    sizeof(struct lfbshm_request) };
	b[2] = (struct block){ "bitmap", h->bitmap_offset, h->bitmap_size };
	b[3] = (struct block){ "input", h->input_offset,
	    sizeof(struct lfbshm_input_ring) +
	    (uint64_t)h->input_entries * sizeof(struct lfbshm_input) };
	for (i = 0; i < 4; i++)
		if (b[i].off % ALIGN_BLOCK != 0)
			return fail(LFBSHM_E_HDR_ALIGN, why, whylen,
			    "%s_offset %llu is not a multiple of %u",
			    b[i].name, (unsigned long long)b[i].off,
			    ALIGN_BLOCK);
	for (i = 0; i < 4; i++)
		if (b[i].off < sizeof(struct lfbshm_header) ||
		    b[i].off + b[i].len > h->ctrl_size)
			return fail(LFBSHM_E_HDR_BOUNDS, why, whylen,
			    "%s block [%llu, %llu) is not inside [%zu, %u)",
			    b[i].name, (unsigned long long)b[i].off,
			    (unsigned long long)(b[i].off + b[i].len),
			    sizeof(struct lfbshm_header), h->ctrl_size);
	for (i = 0; i < 4; i++)
		for (j = i + 1; j < 4; j++)
			if (b[i].off < b[j].off + b[j].len &&
			    b[j].off < b[i].off + b[i].len)
				return fail(LFBSHM_E_HDR_OVERLAP, why, whylen,
				    "%s block at %llu overlaps %s block at "
				    "%llu", b[i].name,
				    (unsigned long long)b[i].off, b[j].name,
				    (unsigned long long)b[j].off);
	if (!all_zero(h->reserved, sizeof(h->reserved)))
		return fail(LFBSHM_E_HDR_RESERVED, why, whylen,
		    "reserved octets are not zero");
	return 0;
}

static uint64_t
roundup64(uint64_t x, uint64_t a)
{
	return (x + a - 1) / a * a;
}

int
lfbshm_header_init(struct lfbshm_header *h, uint16_t version,
    uint64_t features, uint64_t fb_size, uint32_t input_entries)
{
	uint64_t off, npages, bitmap_size, end;

	if (fb_size == 0 || fb_size % LFBSHM_PAGE_SIZE != 0 ||
	    fb_size > LFBSHM_MAX_FB_SIZE || !is_pow2(input_entries) ||
	    input_entries < LFBSHM_MIN_INPUT_ENTRIES ||
	    input_entries > LFBSHM_MAX_INPUT_ENTRIES)
		return -LFBSHM_E_ARG;
	npages = fb_size / LFBSHM_PAGE_SIZE;
	bitmap_size = 8 * (uint64_t)lfbshm_bitmap_words(npages);

	memset(h, 0, sizeof(*h));
	h->magic = LFBSHM_MAGIC;
	h->version = version;
	h->header_size = sizeof(*h);
	h->features = features;
	h->page_size = LFBSHM_PAGE_SIZE;
	h->fb_size = fb_size;
	off = sizeof(*h);
	h->mode_offset = (uint32_t)off;
	off += sizeof(struct lfbshm_mode);
	h->request_offset = (uint32_t)off;
	off += sizeof(struct lfbshm_request);
	h->bitmap_offset = (uint32_t)off;
	h->bitmap_size = (uint32_t)bitmap_size;
	off = roundup64(off + bitmap_size, ALIGN_BLOCK);
	h->input_offset = (uint32_t)off;
	h->input_entries = input_entries;
	end = off + sizeof(struct lfbshm_input_ring) +
	    (uint64_t)input_entries * sizeof(struct lfbshm_input);
	/* At most 256 + 32 KiB + 128 + 1 MiB: well under the maximum. */
	h->ctrl_size = (uint32_t)roundup64(end, LFBSHM_PAGE_SIZE);
	return 0;
}

/* ----------------------------------------------------------------- mode */

bool
lfbshm_mode_try_read(const struct lfbshm_mode *m, struct lfbshm_mode *copy)
{
	uint32_t g1, g2;
	size_t i;

	/* Pairs with the writer's final release store of gen. */
	g1 = lfbshm_load(&m->gen, memory_order_acquire);
	if (g1 & 1)
		return false;
	copy->gen = g1;
	copy->width = lfbshm_load(&m->width, memory_order_relaxed);
	copy->height = lfbshm_load(&m->height, memory_order_relaxed);
	copy->stride = lfbshm_load(&m->stride, memory_order_relaxed);
	copy->format = lfbshm_load(&m->format, memory_order_relaxed);
	copy->reserved0 = lfbshm_load(&m->reserved0, memory_order_relaxed);
	copy->offset = lfbshm_load(&m->offset, memory_order_relaxed);
	for (i = 0; i < sizeof(m->reserved); i++)
		copy->reserved[i] = lfbshm_load(&m->reserved[i],
		    memory_order_relaxed);
	/* The field loads above happen before the reload of gen: if the
	   writer's odd store became visible, we see a different gen. */
	atomic_thread_fence(memory_order_acquire);
	g2 = lfbshm_load(&m->gen, memory_order_relaxed);
	return g1 == g2;
}

uint32_t
lfbshm_mode_write(struct lfbshm_mode *m, uint32_t old_gen,
    const struct lfbshm_mode_info *mi)
{
	uint32_t odd = old_gen | 1, even = (old_gen | 1) + 1;

	/* Generation 0 means "no mode": skip it when the counter wraps. */
	if (even == 0)
		even = 2;
	lfbshm_store(&m->gen, odd, memory_order_relaxed);
	/* Readers that see any new field value also see gen odd. */
	atomic_thread_fence(memory_order_release);
	lfbshm_store(&m->width, mi->width, memory_order_relaxed);
	lfbshm_store(&m->height, mi->height, memory_order_relaxed);
	lfbshm_store(&m->stride, mi->stride, memory_order_relaxed);
	lfbshm_store(&m->format, mi->format, memory_order_relaxed);
	lfbshm_store(&m->offset, mi->offset, memory_order_relaxed);
	/* Readers that see the new gen see every new field. */
	lfbshm_store(&m->gen, even, memory_order_release);
	return even;
}

int
lfbshm_check_mode(const struct lfbshm_mode *m, uint64_t fb_size,
    struct lfbshm_mode_info *mi, char *why, size_t whylen)
{
	uint64_t line, span;
	uint32_t bpp;

	if (m->gen == 0 || (m->gen & 1) != 0)
		return fail(LFBSHM_E_MODE_GEN, why, whylen,
		    "generation %u is odd or 0", m->gen);
	if (m->width == 0 || m->width > LFBSHM_MAX_WIDTH)
		return fail(LFBSHM_E_MODE_WIDTH, why, whylen,
		    "%u is not in [1, %u]", m->width, LFBSHM_MAX_WIDTH);
	if (m->height == 0 || m->height > LFBSHM_MAX_HEIGHT)
		return fail(LFBSHM_E_MODE_HEIGHT, why, whylen,
		    "%u is not in [1, %u]", m->height, LFBSHM_MAX_HEIGHT);
	if ((bpp = lfbshm_format_bpp(m->format)) == 0)
		return fail(LFBSHM_E_MODE_FORMAT, why, whylen,
		    "unknown format %u", m->format);
	line = (uint64_t)m->width * bpp;
	if (m->stride < line)
		return fail(LFBSHM_E_MODE_STRIDE, why, whylen,
		    "stride %u < width %u * %u octets", m->stride, m->width,
		    bpp);
	/* span < 2^32 * 2^14 + 2^16: no overflow; offset is compared, not
	   added. */
	span = (uint64_t)m->stride * (m->height - 1) + line;
	if (m->offset > fb_size || span > fb_size - m->offset)
		return fail(LFBSHM_E_MODE_BOUNDS, why, whylen,
		    "offset %llu + %llu octets of pixels exceed the %llu "
		    "octet framebuffer", (unsigned long long)m->offset,
		    (unsigned long long)span, (unsigned long long)fb_size);
	if (m->reserved0 != 0 || !all_zero(m->reserved, sizeof(m->reserved)))
		return fail(LFBSHM_E_MODE_RESERVED, why, whylen,
		    "reserved octets are not zero");
	if (mi != NULL) {
		mi->width = m->width;
		mi->height = m->height;
		mi->stride = m->stride;
		mi->format = m->format;
		mi->offset = m->offset;
		mi->gen = m->gen;
		mi->bpp = bpp;
	}
	return 0;
}

/* ---------------------------------------------------------------- reply */

int
lfbshm_check_rep_seq(uint32_t rep_seq, uint32_t req_seq, char *why,
    size_t whylen)
{
	if (rep_seq == req_seq)
		return 1;
	if (rep_seq == req_seq - 1)
		return 0;
	return fail(LFBSHM_E_REPLY_SEQ, why, whylen,
	    "rep_seq %u while request %u is outstanding", rep_seq, req_seq);
}

int
lfbshm_check_reply(uint32_t op, uint64_t features, uint32_t status,
    uint32_t flags, char *why, size_t whylen)
{
	const uint32_t trap = LFBSHM_REPLY_TRAP_FIRED | LFBSHM_REPLY_TRAPPED;

	if (status != 0 && status != EINVAL && status != EOPNOTSUPP &&
	    status != EIO)
		return fail(LFBSHM_E_REPLY_STATUS, why, whylen,
		    "unknown status %u for op %u", status, op);
	if ((flags & ~LFBSHM_REPLY_ALL) != 0)
		return fail(LFBSHM_E_REPLY_FLAGS, why, whylen,
		    "undefined flag bits 0x%x", flags & ~LFBSHM_REPLY_ALL);
	switch (op) {
	case LFBSHM_OP_GET_DIRTY:
		if ((flags & trap) != 0 ||
		    ((status == EINVAL || status == EOPNOTSUPP) && flags != 0))
			return fail(LFBSHM_E_REPLY_FLAGS_OP, why, whylen,
			    "flags 0x%x with status %u do not fit GET_DIRTY",
			    flags, status);
		if ((status == EIO || (status == 0 &&
		    (features & LFBSHM_F_DIRTY) == 0)) &&
		    (flags & LFBSHM_REPLY_ALL_DIRTY) == 0)
			return fail(LFBSHM_E_REPLY_ALL_DIRTY, why, whylen,
			    "GET_DIRTY %s must answer ALL_DIRTY",
			    status == EIO ? "failing with EIO" :
			    "without F_DIRTY");
		return 0;
	case LFBSHM_OP_ARM_TRAP:
		if ((flags & LFBSHM_REPLY_ALL_DIRTY) != 0 ||
		    (status != 0 && flags != 0))
			return fail(LFBSHM_E_REPLY_FLAGS_OP, why, whylen,
			    "flags 0x%x with status %u do not fit ARM_TRAP",
			    flags, status);
		if (status == 0 && (flags & trap) != LFBSHM_REPLY_TRAP_FIRED &&
		    (flags & trap) != LFBSHM_REPLY_TRAPPED)
			return fail(LFBSHM_E_REPLY_TRAP, why, whylen,
			    "ARM_TRAP answered flags 0x%x: not exactly one of "
			    "TRAP_FIRED and TRAPPED", flags);
		return 0;
	default:
		if (flags != 0)
			return fail(LFBSHM_E_REPLY_FLAGS_OP, why, whylen,
			    "flags 0x%x on op %u, which has none", flags, op);
		return 0;
	}
}

/* ----------------------------------------------------------------- ring */

int
lfbshm_check_ring(uint32_t prod, uint32_t cons, uint32_t entries, char *why,
    size_t whylen)
{
	/* Free-running counters: the difference is right modulo 2^32. */
	uint32_t used = prod - cons;

	if (used > entries)
		return fail(LFBSHM_E_RING_INDEX, why, whylen,
		    "prod %u - cons %u = %u exceeds the %u entries", prod, cons,
		    used, entries);
	return (int)used;
}

/* ------------------------------------------------------ request / input */

int
lfbshm_check_request(const struct lfbshm_request *r, char *why,
    size_t whylen)
{
	if (r->op < LFBSHM_OP_GET_DIRTY || r->op > LFBSHM_OP_TRACK_OFF)
		return fail(LFBSHM_E_REQ_OP, why, whylen, "unknown op %u",
		    r->op);
	if (r->op != LFBSHM_OP_ARM_TRAP && r->arg0 != 0)
		return fail(LFBSHM_E_REQ_ARG, why, whylen,
		    "arg0 %u on op %u, which takes none", r->arg0, r->op);
	if (!all_zero(r->req_reserved, sizeof(r->req_reserved)))
		return fail(LFBSHM_E_REQ_RESERVED, why, whylen,
		    "reserved octets are not zero");
	return 0;
}

int
lfbshm_check_input(const struct lfbshm_input *ev, uint64_t features,
    uint32_t width, uint32_t height, char *why, size_t whylen)
{
	const uint32_t buttons = LFBSHM_BUTTON_LEFT | LFBSHM_BUTTON_MIDDLE |
	    LFBSHM_BUTTON_RIGHT;

	switch (ev->type) {
	case LFBSHM_INPUT_KEY:
		if ((features & LFBSHM_F_INPUT_KEY) == 0)
			return fail(LFBSHM_E_INPUT_FEATURE, why, whylen,
			    "KEY event without F_INPUT_KEY");
		if (ev->u.key.down > 1)
			return fail(LFBSHM_E_INPUT_KEY, why, whylen,
			    "down is %u, not 0 or 1", ev->u.key.down);
		return 0;
	case LFBSHM_INPUT_POINTER:
		if ((features & LFBSHM_F_INPUT_POINTER) == 0)
			return fail(LFBSHM_E_INPUT_FEATURE, why, whylen,
			    "POINTER event without F_INPUT_POINTER");
		if (ev->u.pointer.x >= width || ev->u.pointer.y >= height)
			return fail(LFBSHM_E_INPUT_POINTER, why, whylen,
			    "(%u, %u) is outside the %ux%u mode",
			    ev->u.pointer.x, ev->u.pointer.y, width, height);
		if ((ev->u.pointer.buttons & ~buttons) != 0)
			return fail(LFBSHM_E_INPUT_BUTTONS, why, whylen,
			    "undefined button bits 0x%x",
			    ev->u.pointer.buttons & ~buttons);
		return 0;
	case LFBSHM_INPUT_WHEEL:
		if ((features & LFBSHM_F_INPUT_POINTER) == 0)
			return fail(LFBSHM_E_INPUT_FEATURE, why, whylen,
			    "WHEEL event without F_INPUT_POINTER");
		return 0;
	default:
		return fail(LFBSHM_E_INPUT_TYPE, why, whylen,
		    "unknown type %u (ignored)", ev->type);
	}
}

/* --------------------------------------------------------------- bitmap */

int
lfbshm_bitmap_copy(uint64_t *dst, size_t nwords, const void *src,
    uint32_t bitmap_size, uint64_t npages, uint64_t *ndirty)
{
	size_t i, nw = lfbshm_bitmap_words(npages);
	uint64_t n = 0;

	if (nwords < nw || bitmap_size / 8 < nw)
		return -LFBSHM_E_ARG;
	/* One copy out of shared memory; octet order is word order on a
	   little-endian host.  Everything after works on dst only. */
	memcpy(dst, src, nw * 8);
	for (i = nw; i < nwords; i++)
		dst[i] = 0;
	if (npages % 64 != 0)
		dst[nw - 1] &= (UINT64_C(1) << (npages % 64)) - 1;
	for (i = 0; i < nw; i++)
		n += (uint64_t)__builtin_popcountll(dst[i]);
	*ndirty = n;
	return 0;
}

/* ------------------------------------------------------------- byte API */

int
lfbshm_wire_hello(void *buf, size_t len, uint16_t min_version,
    uint16_t max_version, uint64_t features)
{
	struct lfbshm_hello h;

	if (len != sizeof(h))
		return -LFBSHM_E_LEN;
	lfbshm_hello_init(&h, min_version, max_version, features);
	memcpy(buf, &h, sizeof(h));
	return 0;
}

int
lfbshm_wire_check_hello(const void *buf, size_t len, char *why,
    size_t whylen)
{
	struct lfbshm_hello h;

	if (len != sizeof(h))
		return fail(LFBSHM_E_LEN, why, whylen,
		    "HELLO of %zu octets, expected %zu", len, sizeof(h));
	memcpy(&h, buf, sizeof(h));
	return lfbshm_check_hello(&h, why, whylen);
}

int
lfbshm_wire_welcome_ok(void *buf, size_t len, uint16_t version,
    uint64_t features, uint64_t fb_map_offset, uint64_t fb_map_size,
    uint32_t ctrl_size)
{
	struct lfbshm_welcome w;

	if (len != sizeof(w))
		return -LFBSHM_E_LEN;
	lfbshm_welcome_ok(&w, version, features, fb_map_offset, fb_map_size,
	    ctrl_size);
	memcpy(buf, &w, sizeof(w));
	return 0;
}

int
lfbshm_wire_welcome_refuse(void *buf, size_t len, uint16_t status,
    const char *reason)
{
	struct lfbshm_welcome w;

	if (len != sizeof(w))
		return -LFBSHM_E_LEN;
	lfbshm_welcome_refuse(&w, status, reason);
	memcpy(buf, &w, sizeof(w));
	return 0;
}

int
lfbshm_wire_check_welcome(const void *buf, size_t len, uint16_t min_version,
    uint16_t max_version, uint64_t asked, char *why, size_t whylen)
{
	struct lfbshm_welcome w;

	if (len != sizeof(w))
		return fail(LFBSHM_E_LEN, why, whylen,
		    "WELCOME of %zu octets, expected %zu", len, sizeof(w));
	memcpy(&w, buf, sizeof(w));
	return lfbshm_check_welcome(&w, min_version, max_version, asked, why,
	    whylen);
}

int
lfbshm_wire_header(void *buf, size_t len, uint16_t version,
    uint64_t features, uint64_t fb_size, uint32_t input_entries)
{
	struct lfbshm_header h;
	int r;

	if (len != sizeof(h))
		return -LFBSHM_E_LEN;
	if ((r = lfbshm_header_init(&h, version, features, fb_size,
	    input_entries)) != 0)
		return r;
	memcpy(buf, &h, sizeof(h));
	return 0;
}

int
lfbshm_wire_check_header(const void *hdr, size_t hlen, const void *welcome,
    size_t wlen, uint64_t ctrl_fd_size, uint64_t fb_fd_size, char *why,
    size_t whylen)
{
	struct lfbshm_header h;
	struct lfbshm_welcome w;

	if (hlen != sizeof(h) || wlen != sizeof(w))
		return fail(LFBSHM_E_LEN, why, whylen,
		    "header of %zu and WELCOME of %zu octets, expected %zu "
		    "and %zu", hlen, wlen, sizeof(h), sizeof(w));
	memcpy(&h, hdr, sizeof(h));
	memcpy(&w, welcome, sizeof(w));
	return lfbshm_check_header(&h, &w, ctrl_fd_size, fb_fd_size, why,
	    whylen);
}

int
lfbshm_wire_check_mode(const void *buf, size_t len, uint64_t fb_size,
    char *why, size_t whylen)
{
	struct lfbshm_mode m;

	if (len != sizeof(m))
		return fail(LFBSHM_E_LEN, why, whylen,
		    "mode block of %zu octets, expected %zu", len, sizeof(m));
	memcpy(&m, buf, sizeof(m));
	return lfbshm_check_mode(&m, fb_size, NULL, why, whylen);
}

int
lfbshm_wire_check_request(const void *buf, size_t len, char *why,
    size_t whylen)
{
	struct lfbshm_request r;

	if (len != sizeof(r))
		return fail(LFBSHM_E_LEN, why, whylen,
		    "request block of %zu octets, expected %zu", len,
		    sizeof(r));
	memcpy(&r, buf, sizeof(r));
	return lfbshm_check_request(&r, why, whylen);
}

int
lfbshm_wire_check_reply(const void *buf, size_t len, uint32_t op,
    uint32_t req_seq, uint64_t features, char *why, size_t whylen)
{
	struct lfbshm_request r;
	int answered;

	if (len != sizeof(r))
		return fail(LFBSHM_E_LEN, why, whylen,
		    "request block of %zu octets, expected %zu", len,
		    sizeof(r));
	memcpy(&r, buf, sizeof(r));
	answered = lfbshm_check_rep_seq(r.rep_seq, req_seq, why, whylen);
	if (answered < 0)
		return answered;
	if (answered == 0)
		return 1;
	return lfbshm_check_reply(op, features, r.rep_status, r.rep_flags,
	    why, whylen);
}

int
lfbshm_wire_check_ring(const void *buf, size_t len, uint32_t prod,
    uint32_t entries, char *why, size_t whylen)
{
	struct lfbshm_input_ring ring;

	if (len != sizeof(ring))
		return fail(LFBSHM_E_LEN, why, whylen,
		    "ring head of %zu octets, expected %zu", len,
		    sizeof(ring));
	memcpy(&ring, buf, sizeof(ring));
	return lfbshm_check_ring(prod, ring.cons, entries, why, whylen);
}

int
lfbshm_wire_check_input(const void *buf, size_t len, uint64_t features,
    uint32_t width, uint32_t height, char *why, size_t whylen)
{
	struct lfbshm_input ev;

	if (len != sizeof(ev))
		return fail(LFBSHM_E_LEN, why, whylen,
		    "input event of %zu octets, expected %zu", len,
		    sizeof(ev));
	memcpy(&ev, buf, sizeof(ev));
	return lfbshm_check_input(&ev, features, width, height, why, whylen);
}
