/* policy.c - the adaptive scan rate; see policy.h and docs/SCAN-POLICY.md. */
#include "policy.h"

#include <errno.h>
#include <stdio.h>

void
policy_defaults(struct policy_params *p)
{
	p->min_interval_ms = 16;	/* 60 Hz */
	p->max_interval_ms = 250;
	p->clean_scans = 8;
	p->backoff_interval_ms = 1000;
	p->fallback_interval_ms = 100;
}

int
policy_params_check(const struct policy_params *p, char *why, size_t whylen)
{
	const char *e = NULL;

	if (p->min_interval_ms < 1 || p->min_interval_ms > 10000)
		e = "minimum interval must be 1..10000 ms (max rate 0.1..1000 Hz)";
	else if (p->max_interval_ms < p->min_interval_ms ||
	    p->max_interval_ms > 60000)
		e = "maximum interval must be between the minimum and 60000 ms";
	else if (p->clean_scans < 1 || p->clean_scans > 100000)
		e = "clean scans before the trap must be 1..100000";
	else if (p->backoff_interval_ms < p->min_interval_ms ||
	    p->backoff_interval_ms > 600000)
		e = "back-off interval must be between the minimum and 600000 ms";
	else if (p->fallback_interval_ms < p->min_interval_ms ||
	    p->fallback_interval_ms > p->backoff_interval_ms)
		e = "fallback interval must be between the minimum and the back-off interval";
	if (e == NULL)
		return 0;
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", e);
	return -EINVAL;
}

static void
go_fast(struct policy *pol)
{
	pol->clean_streak = 0;
	if (pol->can_track) {
		pol->state = POLICY_POLLING;
		pol->interval_ms = pol->p.min_interval_ms;
	} else {
		pol->state = POLICY_FALLBACK;
		pol->interval_ms = pol->p.fallback_interval_ms;
	}
}

void
policy_init(struct policy *pol, const struct policy_params *p,
    bool can_track, bool can_trap)
{
	pol->p = *p;
	pol->state = POLICY_NO_CLIENTS;
	pol->interval_ms = p->min_interval_ms;
	pol->clean_streak = 0;
	pol->can_track = can_track;
	pol->can_trap = can_track && can_trap;
	pol->nclients = 0;
}

enum policy_action
policy_clients(struct policy *pol, uint32_t nclients)
{
	uint32_t before = pol->nclients;

	pol->nclients = nclients;
	if (nclients == 0) {
		if (before == 0 && pol->state == POLICY_NO_CLIENTS)
			return POLICY_NONE;
		pol->state = POLICY_NO_CLIENTS;
		pol->clean_streak = 0;
		return POLICY_STOP_TRACKING;
	}
	if (before != 0 && pol->state != POLICY_NO_CLIENTS) {
		/*
		 * Another viewer joined.  The shadow is current up to the last
		 * scan (and nothing was written since, if trapped), so its
		 * first, non-incremental request is served from the shadow.
		 */
		return POLICY_NONE;
	}
	go_fast(pol);
	return POLICY_SCAN_FULL;
}

static uint32_t
grow(uint32_t ms, uint32_t cap)
{
	uint32_t next = ms + ms / 2 + 1;

	return next > cap ? cap : next;
}

enum policy_action
policy_scanned(struct policy *pol, uint64_t dirty_pages, bool changed)
{
	switch (pol->state) {
	case POLICY_NO_CLIENTS:
	case POLICY_TRAPPED:
		/* A scan in flight when the state moved: nothing to adapt. */
		return POLICY_NONE;
	case POLICY_FALLBACK:
		if (changed)
			pol->interval_ms = pol->p.fallback_interval_ms;
		else
			pol->interval_ms = grow(pol->interval_ms,
			    pol->p.backoff_interval_ms);
		return POLICY_NONE;
	case POLICY_POLLING:
	case POLICY_BACKOFF:
		break;
	}

	if (dirty_pages != 0) {
		pol->clean_streak = 0;
		pol->state = POLICY_POLLING;
		if (changed)
			pol->interval_ms = pol->p.min_interval_ms;
		else
			pol->interval_ms = grow(pol->interval_ms,
			    pol->p.max_interval_ms);
		return POLICY_NONE;
	}
	if (pol->state == POLICY_BACKOFF)
		return POLICY_NONE;
	pol->clean_streak++;
	/*
	 * With a trap, the N clean scans before it are polled at the fast
	 * rate: the trap comes N intervals later anyway, and a change in
	 * between is seen within one interval instead of a grown one.
	 * Without a trap, slowing down is the only saving there is.
	 */
	if (pol->can_trap)
		pol->interval_ms = pol->p.min_interval_ms;
	else
		pol->interval_ms = grow(pol->interval_ms,
		    pol->p.max_interval_ms);
	if (pol->clean_streak < pol->p.clean_scans)
		return POLICY_NONE;
	if (pol->can_trap)
		return POLICY_ARM_TRAP;
	pol->state = POLICY_BACKOFF;
	pol->interval_ms = pol->p.backoff_interval_ms;
	return POLICY_NONE;
}

void
policy_trap_result(struct policy *pol, bool armed)
{
	if (pol->state != POLICY_POLLING)
		return;
	if (armed) {
		pol->state = POLICY_TRAPPED;
	} else {
		/* Written while we decided: that is dirt, scan fast. */
		go_fast(pol);
	}
}

void
policy_woken(struct policy *pol)
{
	if (pol->state == POLICY_TRAPPED)
		go_fast(pol);
}

void
policy_input(struct policy *pol)
{
	/* A trap catches the guest's reaction by itself; no need to poll. */
	if (pol->state == POLICY_POLLING || pol->state == POLICY_BACKOFF ||
	    pol->state == POLICY_FALLBACK)
		go_fast(pol);
}

void
policy_tracking_lost(struct policy *pol)
{
	pol->can_track = false;
	pol->can_trap = false;
	if (pol->state != POLICY_NO_CLIENTS)
		go_fast(pol);
}

int64_t
policy_delay_ms(const struct policy *pol)
{
	switch (pol->state) {
	case POLICY_NO_CLIENTS:
	case POLICY_TRAPPED:
		return -1;
	default:
		return pol->interval_ms;
	}
}

const char *
policy_state_name(enum policy_state s)
{
	switch (s) {
	case POLICY_NO_CLIENTS:
		return "no-clients";
	case POLICY_POLLING:
		return "polling";
	case POLICY_TRAPPED:
		return "trapped";
	case POLICY_BACKOFF:
		return "backoff";
	case POLICY_FALLBACK:
		return "fallback";
	}
	return "?";
}
