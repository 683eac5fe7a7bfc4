/*
 * backend.h - where a guest's framebuffer and dirty bitmap come from.
 *
 * lfbshm (a provider's unix socket) is implemented in backend-lfbshm.c;
 * Xen (xendevicemodel_track_dirty_vram on a domain's VRAM) follows the
 * same interface.  A worker owns exactly one backend.
 *
 * Error convention: 0 or a negative errno.  -EPIPE means the source went
 * away (the worker closes the backend and reopens it later); any other
 * failure of get_dirty means "cannot track": the worker compares instead.
 * Backends log nothing themselves; they put a reason in `why'.
 */
#ifndef LFBVNC_BACKEND_H
#define LFBVNC_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BACKEND_WHY	160

/* Events a backend's event fd announces (take_events). */
#define BACKEND_EV_WAKE	(1u << 0)	/* the trap fired: scan now */
#define BACKEND_EV_MODE	(1u << 1)	/* the display mode changed */
#define BACKEND_EV_GONE	(1u << 2)	/* the source went away */

struct backend_mode {
	uint32_t width, height;	/* pixels */
	uint32_t stride;	/* octets */
	uint32_t format;	/* LFBSHM_FORMAT_* */
	uint32_t bpp;		/* octets per pixel */
	uint64_t offset;	/* octets from the mapping start */
};

struct backend;

struct backend_ops {
	/* Current mode, validated against the mapping; -ENODATA: none yet. */
	int (*get_mode)(struct backend *b, struct backend_mode *m);
	/* Read and clear.  *all: treat every page as written; *mode_changed:
	   call get_mode before reading pixels. */
	int (*get_dirty)(struct backend *b, uint64_t *bitmap, size_t nwords,
	    bool *all, bool *mode_changed, uint64_t *ndirty);
	/* *armed false: a write came first, scan now.  -EOPNOTSUPP: none. */
	int (*arm_trap)(struct backend *b, uint32_t clean_scans, bool *armed);
	int (*disarm_trap)(struct backend *b);
	/* Nobody watches: stop tracking; the next get_dirty answers all. */
	int (*track_off)(struct backend *b);
	/*
	 * The guest published a mode (Xen: data/lfbvnc/mode, relayed by the
	 * master; len 0: removed).  1: the mode to use changed, call get_mode;
	 * 0: no change; -errno: refused (why set), the current mode stays.
	 * NULL for a backend whose provider announces modes itself.
	 */
	int (*mode_hint)(struct backend *b, const char *s, size_t len);
	/* Pollable; readable when take_events has something. -1: none. */
	int (*event_fd)(struct backend *b);
	uint32_t (*take_events)(struct backend *b);
	/* Input; failures (a full ring) are counted, not fatal. */
	int (*key)(struct backend *b, uint32_t keysym, bool down);
	int (*pointer)(struct backend *b, uint32_t x, uint32_t y,
	    uint32_t buttons);
	void (*close)(struct backend *b);
};

struct backend {
	const struct backend_ops *ops;
	const char *kind;		/* "lfbshm", "xen" */
	char tracker[32];		/* what tracks writes, for status */
	bool can_track;			/* get_dirty gives real bitmaps */
	bool can_trap;			/* arm_trap can succeed */
	const uint8_t *fb;		/* read-only guest pixels */
	size_t fb_len;			/* octets mapped */
	size_t npages;			/* 4 KiB pages of the mapping */
	bool fb_can_shrink;		/* fb's file may be truncated under
					   us: read it under fbguard.h */
	char why[BACKEND_WHY];		/* reason of the last failure */
	char note[BACKEND_WHY];		/* a problem worked around, for the
					   worker to log and clear; "" none */
};

struct conf_guest;

int backend_lfbshm_open(const struct conf_guest *g, struct backend **out,
    char *why, size_t whylen);
#ifdef HAVE_XEN
int backend_xen_open(const struct conf_guest *g, struct backend **out,
    char *why, size_t whylen);
#endif

static inline void
backend_close(struct backend *b)
{
	if (b != NULL)
		b->ops->close(b);
}

#endif /* LFBVNC_BACKEND_H */
