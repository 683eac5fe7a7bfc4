/*
 * lfbshm-consumer.h - the consumer side of lfbshm (proto/lfbshm.h): attach
 * to a provider's socket, map its framebuffer read-only, ask which pages
 * were written, watch for events and send input.
 *
 * Error convention: functions returning int return 0 (or the documented
 * non-negative value) on success and a negative errno value on failure;
 * errno is unspecified afterwards.  lfbshm_consumer_error() gives the
 * reason of the last failure in words.  The values that matter:
 *   -EPROTO      the provider broke the protocol (a bad WELCOME, header,
 *                mode, reply, ring index...);
 *   -EPIPE       the provider went away (its socket hung up);
 *   -ETIMEDOUT   no reply within the timeout; the consumer stays usable;
 *   -EBUSY       (open) another consumer is attached;
 *   -EPROTONOSUPPORT (open) no common protocol version;
 *   -EOPNOTSUPP  the operation needs a feature that was not granted;
 *   -EINVAL      a bad argument from the caller.
 *
 * The provider is not trusted.  Everything read from shared memory is read
 * once into a private copy and checked before use; an inconsistency is
 * never a crash, never an out-of-bounds read.  After -EPROTO or -EPIPE the
 * consumer is *broken*: every later call fails with that same value (and
 * lfbshm_consumer_take_events reports LFBSHM_EV_CLOSING) until the caller
 * closes it.  Other failures leave it usable.
 *
 * Threading: a consumer is used by one thread at a time.  After fork(2)
 * the child must not use a consumer of its parent (it may close it).
 *
 * SIGBUS: the framebuffer may be a file that its owner can truncate
 * (lfbshm_consumer_fb_can_shrink); reading pixels of such a mapping after
 * a truncation raises SIGBUS.  The control region is sealed against that.
 */
#ifndef LFBSHM_CONSUMER_H
#define LFBSHM_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lfbshm.h"
#include "wire.h"

struct lfbshm_consumer;

/* The answer to one GET_DIRTY. */
struct lfbshm_dirty {
	bool		all_dirty;	/* treat every page as written (the
					   bitmap was set to all ones) */
	bool		mode_changed;	/* the reply's mode generation is not
					   the one last read with
					   lfbshm_consumer_mode: re-read it */
	uint32_t	mode_gen;	/* generation the bitmap was taken in */
	uint32_t	status;		/* 0, or EIO: the provider's tracker
					   failed (all_dirty is then set) */
	uint64_t	npages;		/* pages of the framebuffer */
	uint64_t	dirty_pages;	/* bits set in the bitmap, counted
					   here, never taken from the provider */
};

struct lfbshm_consumer_stats {
	uint64_t	requests;	/* requests posted */
	uint64_t	timeouts;	/* replies that did not come in time */
	uint64_t	lost_replies;	/* late GET_DIRTY replies dropped;
					   the next answer is ALL_DIRTY */
	uint64_t	input_sent;
	uint64_t	input_dropped;	/* ring full */
};

/*
 * Connect to the provider at socket_path, ask for want_features
 * (LFBSHM_F_*) and attach.  timeout_ms bounds the handshake and, later,
 * each request (see lfbshm_consumer_set_timeout); -1 waits forever.  On a
 * refusal the provider's reason is in why (BUSY -> -EBUSY, VERSION ->
 * -EPROTONOSUPPORT, INVALID -> -EPROTO, INTERNAL -> -EIO).  On failure no
 * descriptor or mapping is left behind.
 */
int lfbshm_consumer_open(const char *socket_path, uint64_t want_features,
    int timeout_ms, struct lfbshm_consumer **out, char *why, size_t whylen);
/* Detach and free everything; NULL is a no-op. */
void lfbshm_consumer_close(struct lfbshm_consumer *c);

/* Reason of the last failure, "" if none; valid until the next call. */
const char *lfbshm_consumer_error(const struct lfbshm_consumer *c);
/* 0, or the -EPROTO / -EPIPE that broke the consumer. */
int lfbshm_consumer_broken(const struct lfbshm_consumer *c);

/* Features granted by the provider. */
uint64_t lfbshm_consumer_features(const struct lfbshm_consumer *c);
/*
 * For status displays: the tracker the provider names in its WELCOME
 * ("kvm", "uffd", ...), else "provider" when F_DIRTY was granted, else
 * "none".
 */
const char *lfbshm_consumer_tracker_name(const struct lfbshm_consumer *c);
/* Timeout for each request in milliseconds; -1 waits forever. */
void lfbshm_consumer_set_timeout(struct lfbshm_consumer *c, int timeout_ms);
void lfbshm_consumer_stats(const struct lfbshm_consumer *c,
    struct lfbshm_consumer_stats *st);

/*
 * The framebuffer mapping (read-only, fb_map_size octets), and how many
 * pages it has.  Pixels of a scan may be read only after that scan's
 * lfbshm_consumer_get_dirty returned (the read-and-clear rule).
 */
const uint8_t *lfbshm_consumer_fb(const struct lfbshm_consumer *c,
    size_t *len);
uint64_t lfbshm_consumer_npages(const struct lfbshm_consumer *c);
/* The fb descriptor (owned by the consumer) and whether its file can
   shrink under us: it has no F_SEAL_SHRINK. */
int lfbshm_consumer_fb_fd(const struct lfbshm_consumer *c);
bool lfbshm_consumer_fb_can_shrink(const struct lfbshm_consumer *c);

/*
 * Read the mode (seqlock, bounded retries) into a validated private copy;
 * remember its generation for lfbshm_consumer_get_dirty.  -ENODATA when the
 * provider has published no mode yet (not an error of the provider).
 */
int lfbshm_consumer_mode(struct lfbshm_consumer *c,
    struct lfbshm_mode_info *out);

/*
 * GET_DIRTY: post, kick, wait for the reply, copy the bitmap once into
 * bitmap (nwords >= lfbshm_bitmap_words(npages) words; bit p of word p / 64
 * is page p; bits past the last page are cleared).  When the reply is
 * ALL_DIRTY, when its mode generation differs from the last one read, or
 * when an earlier reply was lost to a timeout, bitmap is set to all ones
 * and out->all_dirty is true.
 */
int lfbshm_consumer_get_dirty(struct lfbshm_consumer *c, uint64_t *bitmap,
    size_t nwords, struct lfbshm_dirty *out);

/*
 * ARM_TRAP: after clean_scans scans without writes, stop paying for
 * tracking and get LFBSHM_EV_TRAP on the first write.  *already_fired is
 * true when a write happened since the last GET_DIRTY: nothing was armed,
 * scan now.  -EOPNOTSUPP without F_TRAP (or when the provider cannot arm).
 */
int lfbshm_consumer_arm_trap(struct lfbshm_consumer *c, uint32_t clean_scans,
    bool *already_fired);
int lfbshm_consumer_disarm_trap(struct lfbshm_consumer *c);
/* TRACK_OFF: no viewer; the next GET_DIRTY answers ALL_DIRTY. */
int lfbshm_consumer_track_off(struct lfbshm_consumer *c);

/*
 * A descriptor that polls readable when there are events to take or the
 * provider hung up; call lfbshm_consumer_take_events then.
 */
int lfbshm_consumer_notify_fd(const struct lfbshm_consumer *c);
/*
 * Drain the notification and take the pending LFBSHM_EV_* bits (unknown
 * bits dropped).  A hang-up or a broken consumer is reported as
 * LFBSHM_EV_CLOSING; the other calls then return the reason.
 */
uint32_t lfbshm_consumer_take_events(struct lfbshm_consumer *c);

/*
 * Queue input.  A full ring drops the event, counts it and returns
 * -ENOBUFS (input is lossy under overload); -EOPNOTSUPP without
 * F_INPUT_KEY (keys) or F_INPUT_POINTER (pointer, wheel).
 */
int lfbshm_consumer_send_key(struct lfbshm_consumer *c, uint32_t keysym,
    bool down);
int lfbshm_consumer_send_pointer(struct lfbshm_consumer *c, uint16_t x,
    uint16_t y, uint32_t buttons);
int lfbshm_consumer_send_wheel(struct lfbshm_consumer *c, int32_t dx,
    int32_t dy);

#endif /* LFBSHM_CONSUMER_H */
