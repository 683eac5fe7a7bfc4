/*
 * policy.h - when to scan: the adaptive rate and the back-off to a trap.
 *
 * A pure state machine: it never reads clocks or touches a backend.  The
 * worker feeds it events and carries out the action each one returns; the
 * worker's timer fires policy_delay_ms() after the last scan.  The states
 * and their transitions are drawn in docs/SCAN-POLICY.md.
 *
 *   NO_CLIENTS  nobody watches: no scans at all, tracking off.
 *   POLLING     tracked scans at min_interval.  A backend with a trap
 *               keeps that rate until N clean scans arm the trap; without
 *               one, the interval grows by half after each scan that
 *               changed nothing, up to max_interval.  Any change or input
 *               snaps it back to min_interval.
 *   TRAPPED     N consecutive all-clean scans armed the backend's trap:
 *               no scans until the trap fires (the first guest write).
 *   BACKOFF     as TRAPPED for a backend without a trap (stock Xen): poll
 *               at backoff_interval until a scan finds dirt or input comes.
 *   FALLBACK    the backend cannot track: compare the whole framebuffer
 *               at fallback_interval, growing to backoff_interval when idle.
 */
#ifndef LFBVNC_POLICY_H
#define LFBVNC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum policy_state {
	POLICY_NO_CLIENTS = 0,
	POLICY_POLLING,
	POLICY_TRAPPED,
	POLICY_BACKOFF,
	POLICY_FALLBACK,
};

enum policy_action {
	POLICY_NONE = 0,
	POLICY_SCAN_FULL,	/* scan now and refresh every client fully */
	POLICY_ARM_TRAP,	/* ask the backend to arm its trap */
	POLICY_STOP_TRACKING,	/* disarm any trap, turn tracking off */
};

struct policy_params {
	uint32_t min_interval_ms;	/* 1000 / max rate; default 16 */
	uint32_t max_interval_ms;	/* idle growth cap; default 250 */
	uint32_t clean_scans;		/* N before the trap; default 8 */
	uint32_t backoff_interval_ms;	/* no trap: idle rate; default 1000 */
	uint32_t fallback_interval_ms;	/* no tracking; default 100 */
};

struct policy {
	struct policy_params p;
	enum policy_state state;
	uint32_t interval_ms;
	uint32_t clean_streak;	/* consecutive scans with no dirty page */
	bool can_track;		/* backend gives dirty bitmaps */
	bool can_trap;		/* backend has a trap */
	uint32_t nclients;
};

void policy_defaults(struct policy_params *p);
/* Check ranges; returns 0 or -EINVAL with a reason in why. */
int policy_params_check(const struct policy_params *p, char *why,
    size_t whylen);
void policy_init(struct policy *pol, const struct policy_params *p,
    bool can_track, bool can_trap);

/* Client count changed. */
enum policy_action policy_clients(struct policy *pol, uint32_t nclients);
/*
 * A scan finished: dirty_pages is what the bitmap held (0 = all clean),
 * changed tells whether any pixel differed.  May return ARM_TRAP.
 */
enum policy_action policy_scanned(struct policy *pol, uint64_t dirty_pages,
    bool changed);
/* Result of ARM_TRAP: armed, or the backend saw a write already. */
void policy_trap_result(struct policy *pol, bool armed);
/* The trap fired: scan now at the fast rate. */
void policy_woken(struct policy *pol);
/* A client typed or moved the pointer. */
void policy_input(struct policy *pol);
/* The backend lost its tracker (error, no bitmap): compare instead. */
void policy_tracking_lost(struct policy *pol);

/* Milliseconds from the last scan to the next one; -1 = no timed scan. */
int64_t policy_delay_ms(const struct policy *pol);

const char *policy_state_name(enum policy_state s);

#endif /* LFBVNC_POLICY_H */
