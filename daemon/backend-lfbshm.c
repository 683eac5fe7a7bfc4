/* backend-lfbshm.c - a guest exported by an lfbshm provider. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "conf.h"
#include "lfbshm-consumer.h"

/* A provider that takes longer than this to answer is treated as hung. */
#define LFBSHM_TIMEOUT_MS	1000

struct backend_lfbshm {
	struct backend b;	/* first: the worker sees only this */
	struct lfbshm_consumer *c;
};

static int
fail(struct backend_lfbshm *l, int rc)
{
	snprintf(l->b.why, sizeof(l->b.why), "%s",
	    lfbshm_consumer_error(l->c));
	return rc;
}

static int
lf_get_mode(struct backend *b, struct backend_mode *m)
{
	struct backend_lfbshm *l = (struct backend_lfbshm *)b;
	struct lfbshm_mode_info mi;
	int rc;

	if ((rc = lfbshm_consumer_mode(l->c, &mi)) < 0)
		return fail(l, rc);
	m->width = mi.width;
	m->height = mi.height;
	m->stride = mi.stride;
	m->format = mi.format;
	m->bpp = mi.bpp;
	m->offset = mi.offset;
	return 0;
}

static int
lf_get_dirty(struct backend *b, uint64_t *bitmap, size_t nwords, bool *all,
    bool *mode_changed, uint64_t *ndirty)
{
	struct backend_lfbshm *l = (struct backend_lfbshm *)b;
	struct lfbshm_dirty d;
	int rc;

	if ((rc = lfbshm_consumer_get_dirty(l->c, bitmap, nwords, &d)) < 0)
		return fail(l, rc);
	*all = d.all_dirty;
	*mode_changed = d.mode_changed;
	*ndirty = d.all_dirty ? d.npages : d.dirty_pages;
	if (d.status != 0) {
		snprintf(b->why, sizeof(b->why), "the provider's tracker "
		    "failed (status %u)", d.status);
		return -EIO;
	}
	return 0;
}

static int
lf_arm_trap(struct backend *b, uint32_t clean_scans, bool *armed)
{
	struct backend_lfbshm *l = (struct backend_lfbshm *)b;
	bool fired = false;
	int rc;

	rc = lfbshm_consumer_arm_trap(l->c, clean_scans, &fired);
	if (rc < 0)
		return fail(l, rc);
	*armed = !fired;
	return 0;
}

static int
lf_disarm_trap(struct backend *b)
{
	struct backend_lfbshm *l = (struct backend_lfbshm *)b;
	int rc = lfbshm_consumer_disarm_trap(l->c);

	return rc < 0 ? fail(l, rc) : 0;
}

static int
lf_track_off(struct backend *b)
{
	struct backend_lfbshm *l = (struct backend_lfbshm *)b;
	int rc = lfbshm_consumer_track_off(l->c);

	return rc < 0 ? fail(l, rc) : 0;
}

static int
lf_event_fd(struct backend *b)
{
	return lfbshm_consumer_notify_fd(((struct backend_lfbshm *)b)->c);
}

static uint32_t
lf_take_events(struct backend *b)
{
	uint32_t ev = lfbshm_consumer_take_events(
	    ((struct backend_lfbshm *)b)->c), out = 0;

	if (ev & LFBSHM_EV_TRAP)
		out |= BACKEND_EV_WAKE;
	if (ev & LFBSHM_EV_MODE)
		out |= BACKEND_EV_MODE;
	if (ev & LFBSHM_EV_CLOSING) {
		const char *e = lfbshm_consumer_error(
		    ((struct backend_lfbshm *)b)->c);

		snprintf(b->why, sizeof(b->why), "%s", e[0] != '\0' ? e :
		    "the provider is closing");
		out |= BACKEND_EV_GONE;
	}
	return out;
}

static int
lf_key(struct backend *b, uint32_t keysym, bool down)
{
	return lfbshm_consumer_send_key(((struct backend_lfbshm *)b)->c,
	    keysym, down);
}

static int
lf_pointer(struct backend *b, uint32_t x, uint32_t y, uint32_t buttons)
{
	if (x > UINT16_MAX || y > UINT16_MAX)
		return -EINVAL;
	return lfbshm_consumer_send_pointer(((struct backend_lfbshm *)b)->c,
	    (uint16_t)x, (uint16_t)y, buttons);
}

static void
lf_close(struct backend *b)
{
	struct backend_lfbshm *l = (struct backend_lfbshm *)b;

	lfbshm_consumer_close(l->c);
	free(l);
}

static const struct backend_ops lfbshm_ops = {
	.get_mode = lf_get_mode,
	.get_dirty = lf_get_dirty,
	.arm_trap = lf_arm_trap,
	.disarm_trap = lf_disarm_trap,
	.track_off = lf_track_off,
	.event_fd = lf_event_fd,
	.take_events = lf_take_events,
	.key = lf_key,
	.pointer = lf_pointer,
	.close = lf_close,
};

int
backend_lfbshm_open(const struct conf_guest *g, struct backend **out,
    char *why, size_t whylen)
{
	struct backend_lfbshm *l;
	uint64_t features;
	int rc;

	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	rc = lfbshm_consumer_open(g->socket, LFBSHM_F_ALL, LFBSHM_TIMEOUT_MS,
	    &l->c, why, whylen);
	if (rc < 0) {
		free(l);
		return rc;
	}
	features = lfbshm_consumer_features(l->c);
	l->b.ops = &lfbshm_ops;
	l->b.kind = "lfbshm";
	l->b.can_track = (features & LFBSHM_F_DIRTY) != 0;
	l->b.can_trap = (features & LFBSHM_F_TRAP) != 0;
	snprintf(l->b.tracker, sizeof(l->b.tracker), "%s",
	    lfbshm_consumer_tracker_name(l->c));
	l->b.fb = lfbshm_consumer_fb(l->c, &l->b.fb_len);
	l->b.npages = (size_t)lfbshm_consumer_npages(l->c);
	l->b.fb_can_shrink = lfbshm_consumer_fb_can_shrink(l->c);
	*out = &l->b;
	return 0;
}
