/*
 * tracker-none.c - no tracking at all: every get_dirty answers all_dirty
 * and the consumer falls back to comparing (research/dirty-tracking.md
 * section 6: memcmp against a copy always works, 0.3-0.6 ms per 8 MiB).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "tracker.h"

static int
none_get_dirty(struct lfbshm_tracker *t, uint64_t *bitmap, bool *all_dirty)
{
	*all_dirty = true;
	return 0;
}

static int
none_arm_trap(struct lfbshm_tracker *t, lfbshm_trap_fn *fn, void *arg)
{
	return -EOPNOTSUPP;
}

static int
none_disarm_trap(struct lfbshm_tracker *t)
{
	return 0;
}

static int
none_stop(struct lfbshm_tracker *t)
{
	return 0;
}

static void
none_close(struct lfbshm_tracker *t)
{
	free(t);
}

static const struct lfbshm_tracker_ops none_ops = {
	.get_dirty = none_get_dirty,
	.arm_trap = none_arm_trap,
	.disarm_trap = none_disarm_trap,
	.stop = none_stop,
	.close = none_close,
};

int
lfbshm_tracker_none_open(size_t len, struct lfbshm_tracker **out)
{
	struct lfbshm_tracker *t;

	if (out == NULL)
		return -EINVAL;
	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	t->ops = &none_ops;
	t->kind = LFBSHM_TRACKER_NONE;
	t->npages = (len + 4095) / 4096;
	t->has_trap = false;
	*out = t;
	return 0;
}
