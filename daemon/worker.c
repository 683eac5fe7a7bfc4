/*
 * worker.c - one guest: scan when the policy says so, hand the changed
 * rectangles to the VNC server, feed input back.  See worker.h and
 * docs/SCAN-POLICY.md.
 *
 * Everything runs on one libevent loop: the scan timer, the backend's
 * event fd (trap wake, mode change, provider gone), the VNC server's
 * queue (clients, input), the master's IPC socket and signals.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "backend.h"
#include "fbguard.h"
#include "lfbshm.h"
#include "log.h"
#include "policy.h"
#include "privdrop.h"
#include "sandbox.h"
#include "scan.h"
#include "vnc.h"
#include "worker.h"

#define MAX_RECTS		4096
#define RECONNECT_MIN_MS	200
#define RECONNECT_MAX_MS	5000
#define WAKE_SETTLE_MS		2	/* trap wake to scan */

struct worker {
	struct conf_guest g;
	struct event_base *base;
	struct backend *be;
	struct scanner sc;
	bool have_scanner;		/* sc allocated, served over VNC */
	bool have_mode;			/* sc matches the backend's mode */
	bool full_next;			/* a new shadow: compare every page */
	struct backend_mode mode;
	struct vnc *vnc;
	struct policy pol;

	uint64_t *bitmap;
	size_t nwords;
	struct scan_rect *rects;

	struct event *ev_scan;
	struct event *ev_backend;
	struct event *ev_ipc;
	struct event *ev_reconnect;
	struct event *ev_tick;
	struct event *ev_sigterm, *ev_sigint;
	uint32_t reconnect_ms;

	uint64_t last_scan_ms;
	uint64_t started_ms;
	uint64_t attached_ms;		/* when the backend last attached */
	uint64_t scans_at_tick, tick_ms;
	struct worker_status *st;
	struct worker_status s;		/* private copy, published */
	bool dropped;			/* running as the unprivileged user */
	bool said_no_mode;		/* logged that the guest has none */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What publish() refreshes besides the worker's own counters. */
#define PUB_CLIENTS	0x1	/* the VNC side's counters (walks the clients) */
#define PUB_RUSAGE	0x2	/* CPU time (getrusage) */
#define PUB_ALL		(PUB_CLIENTS | PUB_RUSAGE)

static void publish(struct worker *w, unsigned int what);
static void
set_error(struct worker *w, const char *fmt, ...)
    __attribute__((__format__(__printf__, 2, 3)));

static void
set_error(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->s.last_error, sizeof(w->s.last_error), fmt, ap);
	va_end(ap);
	log_warnx("%s: %s", w->g.name, w->s.last_error);
	publish(w, PUB_ALL);
}

/* Seqlock publication of the status page; see status.h. */
static void
publish(struct worker *w, unsigned int what)
{
	struct worker_status *p = w->st;
	struct vnc_stats vs;
	struct rusage ru;
	uint32_t seq;

	if (p == NULL)
		return;
	if ((what & PUB_CLIENTS) && w->vnc != NULL) {
		vnc_get_stats(w->vnc, &vs);
		w->s.clients = vs.clients;
		w->s.clients_total = vs.clients_total;
		w->s.updates_sent = vs.updates_sent;
		w->s.bytes_sent = vs.bytes_sent;
		w->s.input_events = vs.input_events;
		w->s.vnc_port = (uint32_t)vnc_port(w->vnc);
		w->s.web_port = (uint32_t)vnc_web_port(w->vnc);
	}
	w->s.state = w->pol.state;
	w->s.interval_ms = w->pol.interval_ms;
	/* The master reads a worker's uptime and CPU time live; these are
	   for a master that cannot. */
	w->s.uptime_ms = now_ms() - w->started_ms;
	if ((what & PUB_RUSAGE) && getrusage(RUSAGE_SELF, &ru) == 0)
		w->s.cpu_usec = (uint64_t)(ru.ru_utime.tv_sec +
		    ru.ru_stime.tv_sec) * 1000000 +
		    (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);

	seq = lfbshm_load(&p->seq, memory_order_relaxed);
	lfbshm_store(&p->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	w->s.seq = seq + 1;
	memcpy((char *)p + sizeof(p->seq), (char *)&w->s + sizeof(p->seq),
	    sizeof(*p) - sizeof(p->seq));
	lfbshm_store(&p->seq, seq + 2, memory_order_release);
}

/*
 * Something changed: publish now, so that a status read after an event
 * shows it.  The one-second tick (the scan rate, and the octets the
 * clients' threads sent after the last event) runs only while things
 * happen: an idle worker has no timer at all.  A scan publishes only the
 * worker's own counters: the VNC side's are summed over every client
 * under libvncserver's locks, work that 60 scans a second need not do
 * (the tick and the client events refresh them).
 */
static void
status_touch(struct worker *w, unsigned int what)
{
	struct timeval second = { 1, 0 };

	publish(w, what);
	if (evtimer_pending(w->ev_tick, NULL))
		return;
	/* A fresh window: the rate is over the next second, not the idle
	   time before it. */
	w->tick_ms = now_ms();
	w->scans_at_tick = w->s.scans;
	evtimer_add(w->ev_tick, &second);
}

static void schedule(struct worker *w);
static void scan(struct worker *w);
static void backend_lost(struct worker *w);

/* Backends log nothing: what one worked around is logged here, once. */
static void
log_note(struct worker *w)
{
	if (w->be->note[0] == '\0')
		return;
	log_warnx("%s: %s", w->g.name, w->be->note);
	w->be->note[0] = '\0';
}

/* (Re)build the scanner and the VNC framebuffer for the current mode. */
static int
remode(struct worker *w)
{
	struct backend_mode m;
	struct scan_geom geom;
	struct scanner sc;
	int rc;

	/* No padding for the memcmp below to find different. */
	memset(&m, 0, sizeof(m));
	rc = w->be->ops->get_mode(w->be, &m);
	log_note(w);
	if (rc < 0) {
		if (rc != -ENODATA)
			set_error(w, "bad display mode: %s", w->be->why);
		else if (!w->said_no_mode) {
			/* Not an error (the guest may publish one later), but
			   a black screen needs a reason in the log. */
			log_warnx("%s: %s; until then the clients see a black "
			    "640x480 screen", w->g.name, w->be->why);
			w->said_no_mode = true;
		}
		return rc;
	}
	if (w->have_scanner && memcmp(&m, &w->mode, sizeof(m)) == 0) {
		/* Same mode (e.g. the provider came back): keep the shadow,
		   so only what really changed meanwhile is sent. */
		w->have_mode = true;
		return 0;
	}
	geom = (struct scan_geom){ m.width, m.height, m.stride, m.bpp,
	    m.offset, w->be->fb_len, w->g.tile };
	if ((rc = scan_init(&sc, &geom)) < 0) {
		set_error(w, "display mode %ux%u stride %u does not fit the "
		    "framebuffer (%zu octets)", m.width, m.height, m.stride,
		    w->be->fb_len);
		return rc;
	}
	if ((rc = vnc_set_framebuffer(w->vnc, sc.shadow, m.width, m.height,
	    m.format)) < 0) {
		scan_fini(&sc);
		return rc;
	}
	/* No client thread reads the old shadow any more. */
	if (w->have_scanner)
		scan_fini(&w->sc);
	w->sc = sc;
	w->have_scanner = true;
	w->have_mode = true;
	w->full_next = true;
	w->mode = m;
	w->s.width = m.width;
	w->s.height = m.height;
	w->s.format = m.format;
	log_info("%s: mode %ux%u, %u octets per line, format %u", w->g.name,
	    m.width, m.height, m.stride, m.format);
	return 0;
}

static void
on_scan_timer(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	w->s.wakeups++;
	/* Paced by the clients: nobody asked, so nothing to send yet. */
	if (!vnc_wants_update(w->vnc)) {
		w->s.scans_skipped++;
		struct timeval tv = { 0, w->pol.p.min_interval_ms * 1000 };
		evtimer_add(w->ev_scan, &tv);
		return;
	}
	scan(w);
	schedule(w);
}

static void
schedule(struct worker *w)
{
	int64_t delay = policy_delay_ms(&w->pol), wait;
	struct timeval tv;

	if (delay < 0 || w->be == NULL) {
		evtimer_del(w->ev_scan);
		return;
	}
	wait = (int64_t)(w->last_scan_ms + (uint64_t)delay) -
	    (int64_t)now_ms();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(w->ev_scan, &tv);
}

static void
do_action(struct worker *w, enum policy_action act)
{
	bool armed = false;
	int rc;

	switch (act) {
	case POLICY_NONE:
		break;
	case POLICY_SCAN_FULL:
		/*
		 * Tracking was off: the backend's first answer is "all
		 * dirty", so this scan compares every line with the shadow
		 * and sends what differs.  Marking every tile as well would
		 * send the whole screen again to a client whose first,
		 * non-incremental request was already served from the
		 * shadow (a second full frame on about half the connects).
		 */
		scan(w);
		break;
	case POLICY_ARM_TRAP:
		rc = w->be->ops->arm_trap(w->be, w->pol.p.clean_scans, &armed);
		if (rc == -EPIPE) {
			backend_lost(w);
			return;
		}
		if (rc < 0) {
			/* No trap after all: back off by polling slowly. */
			log_info("%s: cannot arm the trap (%s): backing off "
			    "by polling", w->g.name, w->be->why);
			w->pol.can_trap = false;
			w->pol.clean_streak = 0;
			armed = false;
		} else if (armed) {
			w->s.traps_armed++;
			log_debug("%s: trap armed after %u clean scans",
			    w->g.name, w->pol.p.clean_scans);
		}
		policy_trap_result(&w->pol, armed);
		break;
	case POLICY_STOP_TRACKING:
		if (w->be != NULL) {
			if (w->pol.can_trap)
				w->be->ops->disarm_trap(w->be);
			if (w->be->ops->track_off(w->be) == -EPIPE)
				backend_lost(w);
		}
		break;
	}
}

/*
 * A pixel read faulted: the provider truncated the framebuffer's file
 * (fbguard.h).  Drop it as if it had gone; the clients keep the shadow,
 * sent whole because the fault may have cut a copy into it short before
 * its tile was marked.  When a provider is back, its first scan compares
 * everything with the shadow: nothing it drew meanwhile is lost.
 */
static void
fb_shrank(struct worker *w, size_t off)
{
	log_warnx("%s: the framebuffer shrank under us (SIGBUS at offset %zu): "
	    "dropping the provider", w->g.name, off);
	scan_mark_all(&w->sc);
	vnc_mark(w->vnc, w->rects, scan_take_rects(&w->sc, w->rects,
	    MAX_RECTS));
	snprintf(w->be->why, sizeof(w->be->why), "the framebuffer shrank "
	    "(SIGBUS at offset %zu)", off);
	backend_lost(w);
}

/*
 * One scan: read and clear the dirty bitmap, only then read the pixels of
 * the dirty pages, compare, copy, mark.
 */
static void
scan(struct worker *w)
{
	bool all = true, mode_changed = false;
	uint64_t ndirty = w->be ? w->be->npages : 0;
	int rc, ntiles;
	size_t nrects, fault;

	if (w->be == NULL || !w->have_mode)
		return;
	w->last_scan_ms = now_ms();
	if (w->pol.can_track && !w->g.force_compare) {
		rc = w->be->ops->get_dirty(w->be, w->bitmap, w->nwords, &all,
		    &mode_changed, &ndirty);
		w->s.dirty_requests++;
		if (rc == -EPIPE) {
			backend_lost(w);
			return;
		}
		if (rc < 0) {
			set_error(w, "dirty tracking failed (%s): comparing "
			    "the whole framebuffer from now on", w->be->why);
			policy_tracking_lost(&w->pol);
			snprintf(w->s.tracker, sizeof(w->s.tracker),
			    "compare");
			all = true;
		}
		if (mode_changed && remode(w) < 0)
			return;
	}
	/*
	 * A new shadow holds nothing yet, and the bitmap may not say so:
	 * the ALL_DIRTY of a mode change can have gone to an earlier scan
	 * (test-moderace.sh saw a client left with a black frame).
	 */
	if (w->full_next)
		all = true;
	w->full_next = false;
	if (all)
		w->s.full_compares++;
	vnc_shadow_write(w->vnc);
	ntiles = w->be->fb_can_shrink ? fbguard_scan(&w->sc, w->be->fb,
	    w->be->fb_len, w->bitmap, w->be->npages, all, &fault) :
	    scan_pages(&w->sc, w->be->fb, w->bitmap, w->be->npages, all);
	if (ntiles < 0) {
		fb_shrank(w, fault);
		return;
	}
	nrects = scan_take_rects(&w->sc, w->rects, MAX_RECTS);
	vnc_mark(w->vnc, w->rects, nrects);

	w->s.scans++;
	w->s.dirty_pages += all ? 0 : ndirty;
	w->s.tiles += (uint64_t)ntiles;
	w->s.rects += nrects;
	do_action(w, policy_scanned(&w->pol, all ? w->be->npages : ndirty,
	    ntiles > 0));
	status_touch(w, 0);
}

/* The mode changed: a new shadow, and everything sent again if watched. */
static void
follow_mode(struct worker *w)
{
	if (remode(w) == 0 && w->have_mode &&
	    w->pol.state != POLICY_NO_CLIENTS) {
		scan_mark_all(&w->sc);
		scan(w);
	}
}

static void
on_backend(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	uint32_t ev;

	w->s.wakeups++;
	ev = w->be->ops->take_events(w->be);
	if (ev & BACKEND_EV_GONE) {
		backend_lost(w);
		return;
	}
	if (ev & BACKEND_EV_MODE)
		follow_mode(w);
	if (ev & BACKEND_EV_WAKE) {
		w->s.traps_fired++;
		if (w->pol.state == POLICY_TRAPPED) {
			policy_woken(&w->pol);
			/*
			 * The guest's first store trapped; the rest of what it
			 * draws lands now.  Scan once it has settled, so the
			 * client gets the change whole instead of in two
			 * updates a scan interval apart.
			 */
			w->last_scan_ms = now_ms() + WAKE_SETTLE_MS -
			    w->pol.interval_ms;
		}
	}
	schedule(w);
	status_touch(w, PUB_CLIENTS);
}

static void
on_clients(void *arg, uint32_t n)
{
	struct worker *w = arg;

	w->s.wakeups++;
	if (w->be != NULL)
		do_action(w, policy_clients(&w->pol, n));
	else
		w->pol.nclients = n;
	schedule(w);
	status_touch(w, PUB_CLIENTS);
}

static void
on_key(void *arg, uint32_t keysym, bool down)
{
	struct worker *w = arg;

	if (w->be == NULL)
		return;
	w->be->ops->key(w->be, keysym, down);
	policy_input(&w->pol);
	schedule(w);
	status_touch(w, PUB_CLIENTS);
}

static void
on_pointer(void *arg, uint32_t x, uint32_t y, uint32_t buttons)
{
	struct worker *w = arg;

	if (w->be == NULL)
		return;
	w->be->ops->pointer(w->be, x, y, buttons);
	policy_input(&w->pol);
	schedule(w);
	status_touch(w, PUB_CLIENTS);
}

static int
backend_attach(struct worker *w)
{
	char why[BACKEND_WHY];
	struct backend *be = NULL;
	int rc;

	switch (w->g.backend) {
	case CONF_BACKEND_LFBSHM:
		rc = backend_lfbshm_open(&w->g, &be, why, sizeof(why));
		break;
#ifdef HAVE_XEN
	case CONF_BACKEND_XEN:
		rc = backend_xen_open(&w->g, &be, why, sizeof(why));
		break;
#endif
	default:
		snprintf(why, sizeof(why), "backend not built in");
		rc = -EOPNOTSUPP;
		break;
	}
	if (rc < 0) {
		if (w->g.backend == CONF_BACKEND_XEN)
			set_error(w, "cannot attach to domain %u: %s",
			    w->g.domid, why);
		else
			set_error(w, "cannot attach to %s: %s", w->g.socket,
			    why);
		return rc;
	}
	w->be = be;
	if (w->nwords < (be->npages + 63) / 64) {
		free(w->bitmap);
		w->nwords = (be->npages + 63) / 64;
		w->bitmap = calloc(w->nwords, sizeof(uint64_t));
		if (w->bitmap == NULL)
			fatal("%s: bitmap", w->g.name);
	}
	if (be->ops->event_fd(be) >= 0) {
		w->ev_backend = event_new(w->base, be->ops->event_fd(be),
		    EV_READ | EV_PERSIST, on_backend, w);
		if (w->ev_backend == NULL || event_add(w->ev_backend,
		    NULL) == -1)
			fatalx("%s: event_add", w->g.name);
	}
	w->have_mode = false;
	if ((rc = remode(w)) < 0 && rc != -ENODATA) {
		backend_close(be);
		w->be = NULL;
		if (w->ev_backend != NULL) {
			event_free(w->ev_backend);
			w->ev_backend = NULL;
		}
		return rc;
	}
	snprintf(w->s.backend, sizeof(w->s.backend), "%s", be->kind);
	snprintf(w->s.tracker, sizeof(w->s.tracker), "%s",
	    w->g.force_compare || !be->can_track ? "compare" : be->tracker);
	w->s.provider_up = 1;
	w->s.last_error[0] = '\0';
	policy_init(&w->pol, &w->g.policy, be->can_track && !w->g.force_compare,
	    be->can_trap);
	if (!be->can_track || w->g.force_compare)
		log_info("%s: no dirty tracking (%s): comparing the whole "
		    "framebuffer at %u ms", w->g.name, w->g.force_compare ?
		    "forced" : "the provider has no tracker",
		    w->g.policy.fallback_interval_ms);
	if (w->g.backend == CONF_BACKEND_XEN)
		log_info("%s: attached to Xen domain %u (tracker %s, trap %s)",
		    w->g.name, w->g.domid, w->s.tracker,
		    be->can_trap ? "yes" : "no");
	else
		log_info("%s: attached to %s (tracker %s, trap %s)", w->g.name,
		    w->g.socket, w->s.tracker, be->can_trap ? "yes" : "no");
	w->reconnect_ms = RECONNECT_MIN_MS;
	w->attached_ms = now_ms();
	/* Tracking stays off until someone watches. */
	be->ops->track_off(be);
	on_clients(w, vnc_nclients(w->vnc));
	return 0;
}

static void
on_reconnect(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timeval tv;

	if (backend_attach(w) == 0)
		return;
	tv.tv_sec = w->reconnect_ms / 1000;
	tv.tv_usec = (w->reconnect_ms % 1000) * 1000;
	evtimer_add(w->ev_reconnect, &tv);
	w->reconnect_ms = w->reconnect_ms * 2 > RECONNECT_MAX_MS ?
	    RECONNECT_MAX_MS : w->reconnect_ms * 2;
}

/*
 * The provider went away.  Clients stay connected and keep the last frame;
 * when the provider is back, its first answer is ALL_DIRTY and the full
 * compare against the shadow sends exactly what changed meanwhile.
 */
static void
backend_lost(struct worker *w)
{
	if (w->be == NULL)
		return;
	set_error(w, "provider lost: %s", w->be->why[0] ? w->be->why :
	    "it closed the session");
	if (w->ev_backend != NULL) {
		event_free(w->ev_backend);
		w->ev_backend = NULL;
	}
	backend_close(w->be);
	w->be = NULL;
	w->s.provider_up = 0;
	evtimer_del(w->ev_scan);
	if (w->g.backend == CONF_BACKEND_XEN) {
		/* Xen handles cannot be reopened unprivileged, nor the input
		   helper forked under the sandbox: the master starts a fresh
		   worker if the domain still runs. */
		log_info("%s: exiting; the master decides what comes next",
		    w->g.name);
		publish(w, PUB_ALL);
		event_base_loopexit(w->base, NULL);
		return;
	}
	/*
	 * Reattach from the event loop, never from here: a provider that
	 * fails every first scan would otherwise recurse attach -> scan ->
	 * lost -> attach until the stack ran out.  A session that ended
	 * within a second waits the back-off; others retry at once.
	 */
	{
		struct timeval tv = { 0, 0 };

		if (now_ms() - w->attached_ms >= 1000)
			w->reconnect_ms = RECONNECT_MIN_MS;
		else {
			tv.tv_sec = w->reconnect_ms / 1000;
			tv.tv_usec = (w->reconnect_ms % 1000) * 1000;
		}
		evtimer_add(w->ev_reconnect, &tv);
	}
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timeval second = { 1, 0 };
	uint64_t now = now_ms(), dt = now - w->tick_ms;
	bool scanned = w->s.scans != w->scans_at_tick;

	if (dt > 0)
		w->s.scans_per_sec_milli = (w->s.scans - w->scans_at_tick) *
		    1000000 / dt;
	w->scans_at_tick = w->s.scans;
	w->tick_ms = now;
	publish(w, PUB_ALL);
	/* A second without a scan published a rate of 0: stop ticking until
	   something happens. */
	if (scanned)
		evtimer_add(w->ev_tick, &second);
}

static void
on_ipc(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct worker_msg msg;
	ssize_t n;
	int rc;

	n = recv(fd, &msg, sizeof(msg), MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		log_info("%s: the master went away; exiting", w->g.name);
		event_base_loopexit(w->base, NULL);
		return;
	}
	if (n != (ssize_t)sizeof(msg) || msg.type != WORKER_MSG_MODE ||
	    msg.len > sizeof(msg.arg) || w->be == NULL ||
	    w->be->ops->mode_hint == NULL)
		return;
	rc = w->be->ops->mode_hint(w->be, msg.arg, msg.len);
	log_note(w);
	if (rc < 0) {
		log_warnx("%s: the guest's mode key is refused (%s): keeping "
		    "%ux%u", w->g.name, w->be->why, w->mode.width,
		    w->mode.height);
		return;
	}
	if (rc == 0)
		return;
	log_info("%s: the guest published a new mode", w->g.name);
	follow_mode(w);
	schedule(w);
	status_touch(w, PUB_CLIENTS);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct worker *w = arg;

	log_info("%s: signal %d, shutting down", w->g.name, (int)sig);
	event_base_loopexit(w->base, NULL);
}

int
worker_main(const struct conf *c, const struct conf_guest *g, int ipc_fd,
    struct worker_status *st, bool debug_no_seccomp)
{
	char why[256];
	struct worker *w;
	struct vnc_config vc;
	struct vnc_callbacks cb = { on_clients, on_key, on_pointer };
	unsigned int nrefused;
	int rc = 1;

	w = calloc(1, sizeof(*w));
	if (w == NULL)
		fatal("worker");
	w->g = *g;
	w->st = st;
	w->started_ms = w->tick_ms = now_ms();
	/* Also the first back-off, when the provider is not up at start:
	   from 0 it would double to 0 and retry in a busy loop. */
	w->reconnect_ms = RECONNECT_MIN_MS;
	w->rects = calloc(MAX_RECTS, sizeof(*w->rects));
	w->base = event_base_new();
	if (w->rects == NULL || w->base == NULL)
		fatalx("%s: out of memory", g->name);
	policy_init(&w->pol, &g->policy, false, false);

	signal(SIGPIPE, SIG_IGN);
	w->ev_sigterm = evsignal_new(w->base, SIGTERM, on_signal, w);
	w->ev_sigint = evsignal_new(w->base, SIGINT, on_signal, w);
	w->ev_scan = evtimer_new(w->base, on_scan_timer, w);
	w->ev_reconnect = evtimer_new(w->base, on_reconnect, w);
	w->ev_tick = evtimer_new(w->base, on_tick, w);
	if (w->ev_sigterm == NULL || w->ev_sigint == NULL ||
	    w->ev_scan == NULL || w->ev_reconnect == NULL || w->ev_tick == NULL)
		fatalx("%s: event_new", g->name);
	event_add(w->ev_sigterm, NULL);
	event_add(w->ev_sigint, NULL);
	if (ipc_fd >= 0) {
		w->ev_ipc = event_new(w->base, ipc_fd, EV_READ | EV_PERSIST,
		    on_ipc, w);
		event_add(w->ev_ipc, NULL);
	}

	vnc_config_defaults(&vc);
	vc.name = g->name;
	vc.listen = g->listen;
	vc.port = g->port;
	vc.password_file = g->password_file[0] ? g->password_file : NULL;
	vc.unsafe_no_auth = g->unsafe_no_auth;
	vc.web_port = g->web ? g->web_port : -1;
	vc.max_clients = g->max_clients;
	vc.max_stall_ms = g->max_stall_ms;
	if (c->web_dir[0] != '\0')
		vc.web_dir = c->web_dir;
	if (vc.web_port < 0)
		vc.web_port = 0, vc.web_dir = NULL;
	if (vnc_open(w->base, &vc, &cb, w, &w->vnc) < 0)
		goto out;

	/* The provider may not be up yet: keep trying, serve meanwhile. */
	snprintf(w->s.backend, sizeof(w->s.backend), "%s",
	    g->backend == CONF_BACKEND_XEN ? "xen" : "lfbshm");
	if (backend_attach(w) < 0) {
		if (g->backend == CONF_BACKEND_XEN) {
			/* Xen handles cannot be opened once unprivileged, nor
			   the input helper forked under the sandbox, so
			   retrying here would fail for ever: the master
			   starts a fresh worker, with back-off. */
			log_info("%s: exiting; the master will try again",
			    g->name);
			goto out;
		}
		on_reconnect(-1, 0, w);
	}
	if (!w->have_scanner) {
		/* No mode yet: a 640x480 black screen until there is one. */
		struct scan_geom geom = { 640, 480, 640 * 4, 4, 0,
		    640 * 480 * 4, 0 };

		if (scan_init(&w->sc, &geom) < 0 ||
		    vnc_set_framebuffer(w->vnc, w->sc.shadow, 640, 480,
		    LFBSHM_FORMAT_XRGB8888) < 0)
			fatalx("%s: cannot set up the VNC server", g->name);
		w->have_scanner = true;
		memset(&w->mode, 0, sizeof(w->mode));
	}
	/* Handles are open (and restricted); give up root, then serve. */
	if (c->user[0] != '\0' && geteuid() == 0) {
		if (privdrop(c->user, why, sizeof(why)) < 0)
			fatalx("%s: %s", g->name, why);
		w->dropped = true;
		log_info("%s: running as %s", g->name, c->user);
	}
	/* With or without a user: no process, program or identity change
	   from here on (sandbox.h).  Valgrind cannot run a process that
	   calls seccomp(2), hence the debugging switch, said at every
	   start. */
	if (debug_no_seccomp) {
		log_warnx("%s: SANDBOX OFF: serving without the seccomp filter "
		    "(--debug-no-seccomp, for valgrind only)", g->name);
	} else {
		if (sandbox_apply(&nrefused, why, sizeof(why)) < 0)
			fatalx("%s: %s", g->name, why);
		log_info("%s: sandbox on: %u system calls refused", g->name,
		    nrefused);
	}
	if (vnc_start(w->vnc) < 0)
		fatalx("%s: cannot start the VNC server", g->name);
	publish(w, PUB_ALL);
	event_base_dispatch(w->base);
	rc = 0;
out:
	vnc_close(w->vnc);
	if (w->be != NULL) {
		w->be->ops->track_off(w->be);
		backend_close(w->be);
	}
	if (w->have_scanner)
		scan_fini(&w->sc);
	if (w->ev_backend)
		event_free(w->ev_backend);
	if (w->ev_ipc)
		event_free(w->ev_ipc);
	event_free(w->ev_sigterm);
	event_free(w->ev_sigint);
	event_free(w->ev_scan);
	event_free(w->ev_reconnect);
	event_free(w->ev_tick);
	event_base_free(w->base);
	free(w->bitmap);
	free(w->rects);
	free(w);
	return rc;
}

/*
 * The master hands the worker the globals it needs and its guest block
 * over the IPC socket (one message), parsed with the same code as the
 * configuration file.
 */
int
worker_exec_main(const char *name, int ipc_fd, int status_fd,
    int use_syslog, bool debug_no_seccomp)
{
	static char text[CONF_LINE_MAX * 64];
	struct worker_status *st;
	struct conf *c;
	const struct conf_guest *g;
	char why[256];
	ssize_t n;
	int rc;

	log_init("lfbvncd", use_syslog);
	n = recv(ipc_fd, text, sizeof(text) - 1, 0);
	if (n <= 0)
		fatalx("worker %s: no configuration from the master", name);
	text[n] = '\0';
	c = malloc(sizeof(*c));
	if (c == NULL)
		fatal("worker %s", name);
	conf_init(c);
	if (conf_parse(c, "(from master)", text, (size_t)n, why,
	    sizeof(why)) < 0)
		fatalx("worker %s: %s", name, why);
	if ((g = conf_find(c, name)) == NULL)
		fatalx("worker %s: not in the configuration received", name);
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED,
	    status_fd, 0);
	if (st == MAP_FAILED)
		fatal("worker %s: status page", name);
	close(status_fd);
	rc = worker_main(c, g, ipc_fd, st, debug_no_seccomp);
	munmap(st, sizeof(*st));
	free(c);
	return rc;
}
