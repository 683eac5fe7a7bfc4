/*
 * metrics.h - the daemon's figures in the Prometheus text exposition
 * format (version 0.0.4), for the optional metrics endpoint (metricsd.h,
 * docs/METRICS.md).
 *
 * A pure function: the caller (the master) hands it one entry per guest,
 * built from the same validated copies of the workers' status pages that
 * "lfbvncctl status --json" shows (status.h), and gets the text back.
 * Every family has its # HELP and # TYPE lines and its samples together;
 * names start with lfbvnc_, counters end in _total; each guest's samples
 * carry guest="NAME".  Label values are escaped as the format says (\\,
 * \" and \n), and bytes outside printable ASCII in the strings a worker
 * wrote (backend, tracker) become '?': a worker cannot break a line or
 * smuggle in a label.  A guest whose status is unavailable (worker not
 * running, or its page stayed torn) has only its worker_up, restarts and
 * state samples, not stale counters.
 *
 * Error convention: 0, or a negative errno: -E2BIG when the text would
 * exceed max octets (nothing is then added to out), -ENOMEM.
 */
#ifndef LFBVNC_METRICS_H
#define LFBVNC_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct evbuffer;

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

struct metrics_guest {
	const char *name;		/* the master's copy: a valid name */
	bool running;			/* its worker process exists */
	bool have_status;		/* status is a consistent copy */
	uint32_t restarts;		/* worker restarts counted by the master */
	struct worker_status status;	/* uptime and CPU time read live */
};

int metrics_render(struct evbuffer *out, const struct metrics_guest *guests,
    size_t nguests, size_t max);

#endif /* LFBVNC_METRICS_H */
