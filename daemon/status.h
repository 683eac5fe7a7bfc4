/*
 * status.h - a worker's status page, shared with the master.
 *
 * The master maps one page per worker (MAP_SHARED, created before the
 * fork) and reads it whenever a control client asks, without a round trip.
 * The worker is the less trusted side (it talks to the network and to a
 * provider), so the master copies the page with the seqlock below, then
 * validates the copy: strings are forced to end in NUL and printable,
 * enums range-checked.  A worker cannot make the master read beyond the
 * page or block it: a copy that stays torn after a few retries is
 * reported as "unavailable".
 *
 * Writer: seq = s + 1 (odd), release fence, fields, seq = s + 2 (release).
 */
#ifndef LFBVNC_STATUS_H
#define LFBVNC_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#define STATUS_STR	32
#define STATUS_ERR	160

struct worker_status {
	uint32_t seq;
	uint32_t state;			/* enum policy_state */
	uint32_t interval_ms;		/* current scan interval */
	uint32_t clients;
	uint32_t width, height, format;	/* current mode */
	uint32_t vnc_port, web_port;
	uint32_t provider_up;		/* 1 while the backend is attached */
	char backend[STATUS_STR];	/* "lfbshm", "xen" */
	char tracker[STATUS_STR];	/* "kvm", "uffd", "none", "compare" */
	char last_error[STATUS_ERR];	/* "" when none */
	uint64_t scans;			/* scans done */
	uint64_t scans_skipped;		/* due, but no client had asked */
	uint64_t dirty_requests;	/* GET_DIRTY / hypercalls made */
	uint64_t dirty_pages;		/* pages reported dirty, total */
	uint64_t tiles;			/* tiles found changed, total */
	uint64_t rects;			/* rectangles marked, total */
	uint64_t updates_sent;
	uint64_t bytes_sent;
	uint64_t clients_total;
	uint64_t wakeups;		/* loop wake-ups, all causes */
	uint64_t traps_armed;
	uint64_t traps_fired;
	uint64_t full_compares;		/* scans that compared everything */
	uint64_t input_events;
	uint64_t uptime_ms;
	uint64_t scans_per_sec_milli;	/* over the last second, x1000 */
	uint64_t cpu_usec;		/* worker user + system time */
	uint8_t reserved[64];
};

_Static_assert(sizeof(struct worker_status) <= 4096, "one page");

#endif /* LFBVNC_STATUS_H */
