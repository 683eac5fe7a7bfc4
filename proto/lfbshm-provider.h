/*
 * lfbshm-provider.h - the provider side of lfbshm (proto/lfbshm.h), for any
 * VMM, device model or test guest that owns a framebuffer: listen on a
 * unix socket, hand one consumer at a time the control region, the
 * framebuffer and two eventfds, answer its requests from a write tracker
 * (proto/tracker.h) and deliver its input.
 *
 * Error convention: functions returning int return 0 (or the documented
 * non-negative value) on success and a negative errno value on failure;
 * errno is unspecified afterwards.  lfbshm_provider_open also writes a
 * one-line reason into the caller's buffer.  A misbehaving consumer is
 * never an error of these functions: the provider logs it (log_warnx),
 * ends that session and accepts the next consumer.
 *
 * Threading: lfbshm_provider_dispatch runs on one thread at a time (the
 * caller's event loop, or the thread of lfbshm_provider_run_thread); it is
 * the only caller of the tracker's get_dirty, arm_trap, disarm_trap and
 * stop.  lfbshm_provider_set_mode, _attached and _stats may be called from
 * any thread.  on_input runs on the dispatching thread without the
 * provider's lock held.  The tracker's trap callback may fire on any
 * thread.  lfbshm_provider_close must not race with any other call.
 *
 * The provider does not own cfg->fb_fd or cfg->tracker: both must outlive
 * it, and the tracker must not call a trap callback after its disarm_trap
 * or stop returned (the provider may be gone by then).  Every send uses
 * MSG_NOSIGNAL: a vanished consumer raises no SIGPIPE.
 */
#ifndef LFBSHM_PROVIDER_H
#define LFBSHM_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lfbshm.h"
#include "tracker.h"
#include "wire.h"

struct lfbshm_provider;

/* Default number of input ring slots when the config says 0. */
#define LFBSHM_PROVIDER_INPUT_ENTRIES	256u

struct lfbshm_provider_config {
	const char	*socket_path;	/* unix socket to listen on */
	int		 fb_fd;		/* framebuffer file (memfd or file) */
	uint64_t	 fb_map_offset;	/* multiple of 4096 */
	uint64_t	 fb_map_size;	/* multiple of 4096, <= max */
	/* NULL or kind NONE: no F_DIRTY, every GET_DIRTY is ALL_DIRTY.
	   Otherwise npages must be fb_map_size / 4096. */
	struct lfbshm_tracker *tracker;
	/* LFBSHM_F_* this provider offers; F_DIRTY and F_TRAP are withdrawn
	   when the tracker cannot back them, input features when on_input
	   is NULL. */
	uint64_t	 features;
	uint32_t	 input_entries;	/* power of two, 0: the default */
	/* One validated input event; ev is a private copy. */
	void		(*on_input)(void *arg, const struct lfbshm_input *ev);
	void		*arg;
};

struct lfbshm_provider_stats {
	uint64_t	sessions;	/* consumers attached so far */
	uint64_t	sessions_ended;
	uint64_t	refused;	/* BUSY, VERSION, INVALID answers */
	uint64_t	requests;
	uint64_t	bad_requests;	/* answered EINVAL */
	uint64_t	input_events;	/* delivered to on_input */
	uint64_t	input_invalid;	/* dropped: broke a rule */
	uint64_t	traps_fired;
};

/*
 * Validate cfg, create the listening SOCK_SEQPACKET socket at
 * cfg->socket_path (a stale socket file nobody answers on is replaced; any
 * other file there is an error) and the internal descriptors.
 */
int lfbshm_provider_open(const struct lfbshm_provider_config *cfg,
    struct lfbshm_provider **out, char *why, size_t whylen);
/*
 * Raise LFBSHM_EV_CLOSING for an attached consumer, end its session,
 * remove the socket file and free everything; NULL is a no-op.  Stops the
 * thread of lfbshm_provider_run_thread first.
 */
void lfbshm_provider_close(struct lfbshm_provider *p);

/*
 * Publish a new mode (seqlock write, generation + 2, EV_MODE); the next
 * GET_DIRTY answers ALL_DIRTY.  mi->gen and mi->bpp are ignored.  -EINVAL
 * when the mode does not fit the framebuffer.  A consumer that was not
 * granted F_MODE_CHANGE cannot follow a change: its session is ended (it
 * may reconnect and see the new mode).
 */
int lfbshm_provider_set_mode(struct lfbshm_provider *p,
    const struct lfbshm_mode_info *mi);

/* One descriptor that polls readable when lfbshm_provider_dispatch has
   work: new connections, requests, input, trap firings, hang-ups. */
int lfbshm_provider_fd(const struct lfbshm_provider *p);
/*
 * Do all pending work without blocking.  Returns 0, or a negative errno
 * for a failure of the provider itself (not of a consumer).
 */
int lfbshm_provider_dispatch(struct lfbshm_provider *p);

/* Run dispatch on an internal thread until stop_thread or close. */
int lfbshm_provider_run_thread(struct lfbshm_provider *p);
void lfbshm_provider_stop_thread(struct lfbshm_provider *p);

bool lfbshm_provider_attached(struct lfbshm_provider *p);
void lfbshm_provider_stats(struct lfbshm_provider *p,
    struct lfbshm_provider_stats *st);

#endif /* LFBSHM_PROVIDER_H */
