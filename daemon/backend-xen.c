/*
 * backend-xen.c - a Xen HVM guest's VRAM through the toolstack libraries.
 *
 * The VRAM is found from xenstore (memory/videoram, its size) and the
 * device model's QMP socket (query-pci, the BAR address), mapped read-only
 * with xenforeignmemory, and tracked with xendevicemodel_track_dirty_vram
 * over exactly the BAR range.  Xen does not know the display mode: it
 * comes from the configuration (lfbvnc_mode) or from the guest-writable
 * xenstore key data/lfbvnc/mode, read when the worker attaches and passed
 * on by the master's watch when the guest writes it again (mode_hint).
 *
 * xenstore is used only before xentoolcore_restrict_all(): libxenstore
 * cannot restrict a connection, so its restrict handler points the
 * handle's fd at /dev/null, after which every request fails (EBADF; seen
 * in tests/xen).  The worker closes its xenstore handle before
 * restricting and keeps no xenstore access.  The domain's death is seen
 * by the master (xendisco watches @releaseDomain and stops the worker)
 * and by track_dirty_vram (ESRCH).
 *
 * Input goes to the device model's QMP socket, which only root may use
 * (QEMU creates /var/run/xen/qmp-libxl-<domid> with root's umask; seen in
 * tests/xen).  The worker gives up root after attaching, so an input
 * helper forked before that, still root, sends the input for it: it reads
 * fixed-size events from a socketpair, can reach only this domain's QMP
 * socket, holds no other descriptor, and exits when the worker goes.
 *
 * Facts this relies on (research/xen.md, sections 1 and 2):
 *  - HAP answers a first call (or a range change) with 0 and all ones;
 *    shadow paging answers -1/ENODATA without writing the bitmap: both
 *    mean "repaint everything".
 *  - One range per domain: QEMU's own displays would steal our bits, so
 *    the master refuses guests that enable them.
 *  - Linux privcmd takes at most 4096 octets of bitmap per call: 32768
 *    pages, so at most the first 128 MiB of VRAM are tracked.
 *  - Stock Xen has no trap: arm_trap says EOPNOTSUPP and the policy backs
 *    off by polling slowly instead.
 *
 * The trap (hypervisor-patch/): a hypervisor with
 * XEN_DMOP_track_dirty_vram_trap stops tracking the VRAM after N clean
 * calls (N = clean-scans, the policy's own count) and signals an event
 * channel on the guest's next write.  Every get_dirty then uses that op,
 * issued through our own privcmd fd (IOCTL_PRIVCMD_DM_OP; xentrap.h):
 * Debian's libxendevicemodel has no wrapper for it.  The fd is restricted
 * to the domain (IOCTL_PRIVCMD_RESTRICT) and checked like the library's
 * handles; the libxenevtchn handle is opened before
 * xentoolcore_restrict_all, which restricts it too.  Xen allocates the
 * port in the guest, bound to dom0; we bind it when a reply first names
 * it, and trust a "trapped" reply only once it is bound.  An old
 * hypervisor answers the probe at open with EOPNOTSUPP: then can_trap is
 * false and nothing else changes.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xenstore.h>
#include <xentoolcore.h>
#include <xentoollog.h>
#include <xen/xen.h>
#include <xen/sys/privcmd.h>

#include "backend.h"
#include "conf.h"
#include "lfbshm.h"
#include "log.h"
#include "qmp.h"
#include "xenmode.h"
#include "xentrap.h"

#define XEN_MAX_TRACKED		32768u	/* privcmd's 4096-octet buffer */
#define XEN_MAX_VRAM		(1ull << 30)
#define QMP_TIMEOUT_MS		1000
#define QMP_INPUT_TIMEOUT_MS	5000	/* the helper's: the worker never waits */
#define INPUT_BATCH		64
#define MODE_KEY		XENMODE_KEY
#define PRIVCMD_PATH		"/dev/xen/privcmd"
#define TRAP_REFUSALS		3	/* clean but not trapped: give up */

struct backend_xen {
	struct backend b;
	uint32_t domid;
	char dompath[64];		/* /local/domain/<domid> */
	char qmp[108];
	xentoollog_logger *logger;
	struct xs_handle *xs;		/* only until the handles are restricted */
	char guest_mode[XENMODE_MAX_LEN + 1];	/* MODE_KEY, read at open */
	size_t guest_mode_len;
	bool have_guest_mode;
	bool guest_mode_too_long;
	bool guest_mode_noted;		/* its refusal is in b.note already */
	xenforeignmemory_handle *fmem;
	xendevicemodel_handle *dmod;
	uint64_t bar, vram_size;
	void *map;
	size_t map_pages;
	uint32_t nr;			/* pages tracked from the BAR */
	unsigned long *xbitmap;
	bool tracking;			/* a range is set up in Xen */
	uint32_t pending;		/* BACKEND_EV_* not yet taken */
	char cfg_mode[48];
	struct backend_mode mode;
	bool have_mode;
	uint32_t prev_buttons;
	uint64_t unexpected_full;	/* all-ones answers we did not ask for */
	int input_fd;			/* to the input helper, or -1 */
	pid_t input_pid;
	/* The trap (see the top). */
	int privcmd;			/* our DM_OP fd, restricted, or -1 */
	xenevtchn_handle *xce;
	bool have_trap;			/* the hypervisor has the op */
	uint32_t trap_n;		/* clean calls before Xen traps */
	uint32_t xen_port;		/* Xen's port (in the guest), bound */
	evtchn_port_t local_port;	/* ours, valid when xen_port != 0 */
	bool trapped;			/* the last reply: trapped, and bound */
	bool bind_failed;		/* then no trap is ever trusted */
	unsigned trap_refusals;
	unsigned long *pend;		/* bits read by arm_trap, not yet given */
	bool have_pend;
};

static int
xfail(struct backend_xen *x, int rc, const char *fmt, ...)
    __attribute__((__format__(__printf__, 3, 4)));

static int
xfail(struct backend_xen *x, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->b.why, sizeof(x->b.why), fmt, ap);
	va_end(ap);
	return rc;
}

/* Keep a copy of the guest's mode key (len 0: none); parsed by read_mode. */
static void
set_guest_mode(struct backend_xen *x, const char *v, size_t len)
{
	x->have_guest_mode = len > 0;
	x->guest_mode_too_long = len > XENMODE_MAX_LEN;
	x->guest_mode_noted = false;
	x->guest_mode_len = 0;
	if (len > 0 && len <= XENMODE_MAX_LEN) {
		memcpy(x->guest_mode, v, len);
		x->guest_mode_len = len;
	}
}

/*
 * The guest's mode key, read once, before the handles are restricted;
 * later changes come from the master's xenstore watch (xen_mode_hint).
 */
static void
read_guest_mode(struct backend_xen *x)
{
	char path[96];
	unsigned int len = 0;
	char *v;

	snprintf(path, sizeof(path), "%s/" MODE_KEY, x->dompath);
	v = xs_read(x->xs, XBT_NULL, path, &len);
	if (v == NULL)
		return;
	set_guest_mode(x, v, len);
	free(v);
}

/* The guest's own mode key wins over the configuration when valid. */
static int
read_mode(struct backend_xen *x, struct backend_mode *m, char *why,
    size_t whylen)
{
	int rc;

	if (x->have_guest_mode) {
		if (x->guest_mode_too_long) {
			snprintf(why, whylen, "%s: longer than %d characters",
			    MODE_KEY, XENMODE_MAX_LEN);
			rc = -EINVAL;
		} else
			rc = xenmode_parse(x->guest_mode, x->guest_mode_len,
			    (uint64_t)x->nr * 4096, m, why, whylen);
		if (rc == 0)
			return 0;
		/* A bad guest value is reported, and the config used. */
		if (x->cfg_mode[0] == '\0')
			return rc;
		/* Noted once per value the guest writes: read_mode runs
		   again for the same value when the worker follows it. */
		if (!x->guest_mode_noted) {
			snprintf(x->b.note, sizeof(x->b.note), "the guest's "
			    "%s is refused (%s): using lfbvnc_mode %s",
			    MODE_KEY, why, x->cfg_mode);
			x->guest_mode_noted = true;
		}
	}
	if (x->cfg_mode[0] == '\0') {
		snprintf(why, whylen, "no display mode: set lfbvnc_mode in the "
		    "xl configuration, or publish %s from the guest",
		    MODE_KEY);
		return -ENODATA;
	}
	return xenmode_parse(x->cfg_mode, strlen(x->cfg_mode),
	    (uint64_t)x->nr * 4096, m, why, whylen);
}

/*
 * The guest published another mode key.  Validated like the one read at
 * attach (a bad value falls back to lfbvnc_mode); the worker then calls
 * get_mode and rebuilds its shadow when the mode to use differs.
 */
static int
xen_mode_hint(struct backend *b, const char *s, size_t len)
{
	struct backend_xen *x = (struct backend_xen *)b;
	struct backend_mode m;
	int rc;

	set_guest_mode(x, s, len);
	if ((rc = read_mode(x, &m, b->why, sizeof(b->why))) < 0)
		return rc;
	if (x->have_mode && m.width == x->mode.width &&
	    m.height == x->mode.height && m.stride == x->mode.stride &&
	    m.format == x->mode.format && m.bpp == x->mode.bpp &&
	    m.offset == x->mode.offset)
		return 0;
	return 1;
}

static int
xen_get_mode(struct backend *b, struct backend_mode *m)
{
	struct backend_xen *x = (struct backend_xen *)b;
	int rc;

	if ((rc = read_mode(x, m, b->why, sizeof(b->why))) < 0)
		return rc;
	x->mode = *m;
	x->have_mode = true;
	return 0;
}

static void
unbind(struct backend_xen *x)
{
	if (x->xen_port != 0 && x->xce != NULL)
		xenevtchn_unbind(x->xce, x->local_port);
	x->xen_port = 0;
	x->trapped = false;
}

/* XEN_DMOP_track_dirty_vram_trap through privcmd; -1 and errno. */
static int
trap_op(int fd, uint32_t domid, struct xentrap_op *op, void *bitmap,
    size_t len)
{
	privcmd_dm_op_buf_t bufs[2] = {
		{ .uptr = op, .size = sizeof(*op) },
		{ .uptr = bitmap, .size = len },
	};
	privcmd_dm_op_t dm = { .dom = (domid_t)domid, .num = 2,
	    .ubufs = bufs };

	return ioctl(fd, IOCTL_PRIVCMD_DM_OP, &dm) < 0 ? -1 : 0;
}

/*
 * One tracking call over nr pages from the BAR (0: stop): the trap op
 * when the hypervisor has it, else the library's track_dirty_vram.  On
 * success, binds Xen's port if it is new and notes whether Xen trapped.
 */
static int
track(struct backend_xen *x, uint32_t nr)
{
	struct xentrap_op op;
	uint32_t newport;
	bool trapped;
	xenevtchn_port_or_error_t lp;

	if (!x->have_trap)
		return xendevicemodel_track_dirty_vram(x->dmod,
		    (domid_t)x->domid, nr ? x->bar >> 12 : 0, nr, x->xbitmap);
	xentrap_encode(&op, nr ? x->bar >> 12 : 0, nr, nr ? x->trap_n : 0);
	if (trap_op(x->privcmd, x->domid, &op, x->xbitmap,
	    ((size_t)nr + 7) / 8) < 0) {
		x->trapped = false;
		if (xentrap_classify(errno) == XENTRAP_UNSUPPORTED) {
			/* Cannot happen after the probe; be safe anyway. */
			log_warnx("domain %u: the VRAM trap went away (%s): "
			    "tracking without it", x->domid, strerror(errno));
			x->have_trap = false;
			x->b.can_trap = false;
			return track(x, nr);
		}
		return -1;
	}
	newport = xentrap_reply(&op, x->xen_port, &trapped);
	x->trapped = trapped;
	if (newport != 0 && x->xce != NULL && !x->bind_failed) {
		unbind(x);
		lp = xenevtchn_bind_interdomain(x->xce, x->domid, newport);
		if (lp < 0) {
			/* No wake-up: never trust a trap; arm_trap gives up
			   after TRAP_REFUSALS and the policy backs off. */
			log_warnx("domain %u: cannot bind the VRAM trap's event "
			    "channel %u: %s", x->domid, newport,
			    strerror(errno));
			x->bind_failed = true;
		} else {
			x->local_port = (evtchn_port_t)lp;
			x->xen_port = newport;
		}
	}
	return 0;
}

static int
xen_get_dirty(struct backend *b, uint64_t *bitmap, size_t nwords, bool *all,
    bool *mode_changed, uint64_t *ndirty)
{
	struct backend_xen *x = (struct backend_xen *)b;
	size_t i, xwords = (x->nr + 63) / 64;
	uint64_t n = 0;
	bool first = !x->tracking;

	*mode_changed = false;
	*all = false;
	if (track(x, x->nr) < 0) {
		switch (errno) {
		case ENODATA:
			/* Shadow paging's first answer: nothing tracked yet. */
			x->tracking = true;
			*all = true;
			*ndirty = x->nr;
			return 0;
		case ESRCH:
			return xfail(x, -EPIPE, "domain %u is gone (ESRCH)",
			    x->domid);
		case EINVAL:
			return xfail(x, -EIO, "track_dirty_vram: EINVAL (range "
			    "0x%llx + %u pages rejected: VRAM moved, or not an "
			    "HVM guest)", (unsigned long long)x->bar, x->nr);
		case E2BIG:
			return xfail(x, -EIO, "track_dirty_vram: E2BIG (privcmd "
			    "refused a %u-page bitmap)", x->nr);
		case EPERM:
		case EACCES:
			return xfail(x, -EIO, "track_dirty_vram: permission "
			    "denied for domain %u", x->domid);
		default:
			return xfail(x, -EIO, "track_dirty_vram: %s",
			    strerror(errno));
		}
	}
	x->tracking = true;
	if (x->have_pend) {
		/* What arm_trap read and cleared belongs to this scan. */
		for (i = 0; i < xwords; i++)
			x->xbitmap[i] |= x->pend[i];
		x->have_pend = false;
	}
	for (i = 0; i < xwords && i < nwords; i++) {
		bitmap[i] = (uint64_t)x->xbitmap[i];
		if (i == xwords - 1 && x->nr % 64)
			bitmap[i] &= (1ull << (x->nr % 64)) - 1;
		n += (uint64_t)__builtin_popcountll(bitmap[i]);
	}
	*ndirty = n;
	if (first) {
		/* HAP's first answer is all ones: repaint everything. */
		*all = true;
	} else if (n == x->nr) {
		/*
		 * All ones without a reason: a full-screen redraw, or the
		 * range was reset behind our back (another poller, a BAR
		 * move).  Compare everything; the caller re-checks the BAR
		 * on a repeat (counted here).
		 */
		x->unexpected_full++;
		*all = true;
	}
	return 0;
}

/*
 * The policy counted clean_scans clean scans, and so did Xen (the same
 * N, the same calls): normally the last reply already said "trapped".
 * If not (Xen's count was restarted, or a write came in between), ask
 * once more; the bits that call reads are kept for the next get_dirty.
 * A hypervisor that keeps answering clean but not trapped cannot trap
 * here (PML, log-dirty mode; see the README): give up, so that the
 * policy backs off by polling.
 */
static int
xen_arm_trap(struct backend *b, uint32_t clean_scans, bool *armed)
{
	struct backend_xen *x = (struct backend_xen *)b;
	size_t i, xwords = (x->nr + 63) / 64;
	bool dirty = false;

	*armed = false;
	if (!b->can_trap || !x->have_trap)
		return xfail(x, -EOPNOTSUPP, "this hypervisor has no VRAM trap");
	if (clean_scans != x->trap_n)
		return xfail(x, -EOPNOTSUPP, "clean-scans changed to %u",
		    clean_scans);
	if (x->trapped) {
		*armed = true;
		x->trap_refusals = 0;
		return 0;
	}
	if (track(x, x->nr) < 0) {
		if (errno == ESRCH)
			return xfail(x, -EPIPE, "domain %u is gone", x->domid);
		return xfail(x, -EIO, "track_dirty_vram_trap: %s",
		    strerror(errno));
	}
	for (i = 0; i < xwords; i++) {
		if (x->xbitmap[i] != 0)
			dirty = true;
		x->pend[i] |= x->xbitmap[i];
	}
	x->have_pend = dirty;
	if (x->trapped && !dirty) {
		*armed = true;
		x->trap_refusals = 0;
		return 0;
	}
	if (!dirty && ++x->trap_refusals >= TRAP_REFUSALS)
		return xfail(x, -EOPNOTSUPP, "Xen does not trap the VRAM of "
		    "domain %u after %u clean scans (PML or log-dirty mode?)",
		    x->domid, clean_scans);
	return 0;
}

/* Xen disarms by itself on the next write, and on track_off. */
static int
xen_disarm_trap(struct backend *b)
{
	return 0;
}

/* nr = 0 stops tracking: the guest writes VRAM at full speed again. */
static int
xen_track_off(struct backend *b)
{
	struct backend_xen *x = (struct backend_xen *)b;

	if (!x->tracking)
		return 0;
	x->tracking = false;
	x->have_pend = false;
	/* dom0 Linux's privcmd answers EFAULT to a NULL buffer, even for
	   nr = 0 (seen in tests/xen): pass our own.  Xen frees its port. */
	if (track(x, 0) < 0 && errno == ESRCH)
		return xfail(x, -EPIPE, "domain %u is gone", x->domid);
	unbind(x);
	return 0;
}

/* The trap's event channel; no other source: no xenstore after the
   restriction (see the top). */
static int
xen_event_fd(struct backend *b)
{
	struct backend_xen *x = (struct backend_xen *)b;

	return b->can_trap && x->xce != NULL ? xenevtchn_fd(x->xce) : -1;
}

static uint32_t
xen_take_events(struct backend *b)
{
	struct backend_xen *x = (struct backend_xen *)b;
	uint32_t ev = x->pending;
	xenevtchn_port_or_error_t p;

	x->pending = 0;
	if (x->xce == NULL)
		return ev;
	/* The fd is non-blocking: read what is there. */
	while ((p = xenevtchn_pending(x->xce)) >= 0) {
		xenevtchn_unmask(x->xce, (evtchn_port_t)p);
		if (x->xen_port != 0 && (evtchn_port_t)p == x->local_port) {
			/* Xen disarmed itself: the next call scans. */
			x->trapped = false;
			ev |= BACKEND_EV_WAKE;
		}
	}
	return ev;
}

/* ------------------------------------------------------------ input */

/*
 * The helper's loop: one event per datagram.  What queued up while QMP
 * was busy goes out in one connection, in order (QEMU serves one QMP
 * client at a time, and libxl needs the socket too).
 */
static void __attribute__((__noreturn__))
input_helper(int fd, const char *qmp, uint32_t domid)
{
	struct qmp_input ev[INPUT_BATCH];
	char why[BACKEND_WHY];
	size_t skipped, n = 0;
	ssize_t r;

	for (;;) {
		r = recv(fd, &ev[n], sizeof(ev[n]), n == 0 ? 0 : MSG_DONTWAIT);
		if (r == 0)
			_exit(0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			_exit(1);
		if (r == (ssize_t)sizeof(ev[n]) &&
		    (ev[n].type == QMP_IN_KEY || ev[n].type == QMP_IN_POINTER))
			n++;
		if (n == 0 || (r > 0 && n < INPUT_BATCH))
			continue;	/* more may be queued */
		if (qmp_send_input(qmp, QMP_INPUT_TIMEOUT_MS, ev, n, &skipped,
		    why, sizeof(why)) < 0)
			log_warnx("input for domain %u: %s", domid, why);
		n = 0;
	}
}

static int
input_helper_start(struct backend_xen *x, char *why, size_t whylen)
{
	int sv[2], fd, max;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(why, whylen, "input helper: socketpair: %s",
		    strerror(errno));
		return -errno;
	}
	if ((pid = fork()) == -1) {
		snprintf(why, whylen, "input helper: fork: %s",
		    strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -ENOMEM;
	}
	if (pid == 0) {
		/* Nothing of the worker's: its sockets, Xen handles, the
		   signal handlers of its event loop.  syslog forgets its
		   socket first, and reopens it when needed. */
		closelog();
		max = (int)sysconf(_SC_OPEN_MAX);
		if (max < 0 || max > 65536)
			max = 65536;
		for (fd = 3; fd < max; fd++)
			if (fd != sv[1])
				close(fd);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);
		input_helper(sv[1], x->qmp, x->domid);
	}
	close(sv[1]);
	x->input_fd = sv[0];
	x->input_pid = pid;
	return 0;
}

/* Never blocks: when the helper is behind (a hung device model), the
   event is dropped and reported. */
static int
input_send(struct backend_xen *x, const struct qmp_input *ev)
{
	if (x->input_fd < 0)
		return xfail(x, -EPIPE, "no input helper");
	if (send(x->input_fd, ev, sizeof(*ev), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(*ev))
		return xfail(x, -EIO, "input helper: %s", strerror(errno));
	return 0;
}

static int
xen_key(struct backend *b, uint32_t keysym, bool down)
{
	struct backend_xen *x = (struct backend_xen *)b;
	struct qmp_input ev = { .type = QMP_IN_KEY, .keysym = keysym,
	    .down = down };

	if (qmp_keysym_qcode(keysym) == NULL)
		return 0;		/* no such key in QEMU: skipped */
	return input_send(x, &ev);
}

static int
xen_pointer(struct backend *b, uint32_t px, uint32_t py, uint32_t buttons)
{
	struct backend_xen *x = (struct backend_xen *)b;
	struct qmp_input ev = { .type = QMP_IN_POINTER, .x = px, .y = py,
	    .width = x->mode.width, .height = x->mode.height,
	    .buttons = buttons, .prev_buttons = x->prev_buttons };
	int rc;

	rc = input_send(x, &ev);
	if (rc == 0)
		x->prev_buttons = buttons;
	return rc;
}

static void
xen_close(struct backend *b)
{
	struct backend_xen *x = (struct backend_xen *)b;

	if (x->dmod != NULL && x->tracking && x->xbitmap != NULL)
		track(x, 0);
	unbind(x);
	if (x->xce != NULL)
		xenevtchn_close(x->xce);
	if (x->privcmd >= 0)
		close(x->privcmd);
	free(x->pend);
	if (x->map != NULL)
		xenforeignmemory_unmap(x->fmem, x->map, x->map_pages);
	if (x->dmod != NULL)
		xendevicemodel_close(x->dmod);
	if (x->fmem != NULL)
		xenforeignmemory_close(x->fmem);
	if (x->xs != NULL)
		xs_close(x->xs);
	if (x->logger != NULL)
		xtl_logger_destroy(x->logger);
	if (x->input_fd >= 0)
		close(x->input_fd);	/* the helper sees EOF and exits */
	if (x->input_pid > 0)
		waitpid(x->input_pid, NULL, 0);
	free(x->xbitmap);
	free(x);
}

static const struct backend_ops xen_ops = {
	.get_mode = xen_get_mode,
	.get_dirty = xen_get_dirty,
	.arm_trap = xen_arm_trap,
	.disarm_trap = xen_disarm_trap,
	.track_off = xen_track_off,
	.mode_hint = xen_mode_hint,
	.event_fd = xen_event_fd,
	.take_events = xen_take_events,
	.key = xen_key,
	.pointer = xen_pointer,
	.close = xen_close,
};

/* memory/videoram is in KiB. */
static int
read_videoram(struct backend_xen *x, char *why, size_t whylen)
{
	char path[96], *v;
	unsigned int len = 0;

	snprintf(path, sizeof(path), "%s/memory/videoram", x->dompath);
	v = xs_read(x->xs, XBT_NULL, path, &len);
	if (v == NULL) {
		snprintf(why, whylen, "%s: %s (is domain %u an HVM guest?)",
		    path, strerror(errno), x->domid);
		return -ENOENT;
	}
	if (xenmode_parse_videoram(v, len, XEN_MAX_VRAM, &x->vram_size) < 0) {
		snprintf(why, whylen, "%s: \"%.16s\" is not a size in KiB",
		    path, v);
		free(v);
		return -EINVAL;
	}
	free(v);
	return 0;
}

/*
 * Restrict our privcmd fd to the domain and check it, as for the
 * library's handles, then ask Xen whether it has the trap: the op with
 * nr = 0 (stop tracking, which is not on yet) answers 0 from a patched
 * hypervisor and EOPNOTSUPP from any other.  Any failure leaves the
 * backend without the trap, tracking as before.
 */
static void
probe_trap(struct backend_xen *x, const char *name)
{
	struct xentrap_op op;
	unsigned long dummy = 0;
	domid_t dom = (domid_t)x->domid;

	if (x->trap_n == 0) {
		log_info("%s: clean-scans is 0: no VRAM trap", name);
		goto none;
	}
	if (x->privcmd < 0 || x->xce == NULL) {
		log_info("%s: no VRAM trap: cannot open %s: %s", name,
		    x->privcmd < 0 ? PRIVCMD_PATH : "the event channel device",
		    strerror(errno));
		goto none;
	}
	if (ioctl(x->privcmd, IOCTL_PRIVCMD_RESTRICT, &dom) < 0) {
		log_warnx("%s: no VRAM trap: cannot restrict %s to domain %u: "
		    "%s", name, PRIVCMD_PATH, x->domid, strerror(errno));
		goto none;
	}
	xentrap_encode(&op, 0, 0, 0);
	if (trap_op(x->privcmd, 0, &op, &dummy, 0) == 0 || errno != EPERM) {
		log_warnx("%s: no VRAM trap: %s is not restricted to domain %u "
		    "(a call for domain 0 was not refused: %s)", name,
		    PRIVCMD_PATH, x->domid, strerror(errno));
		goto none;
	}
	if (fcntl(xenevtchn_fd(x->xce), F_SETFL, O_NONBLOCK) < 0) {
		log_warnx("%s: no VRAM trap: event channel fd: %s", name,
		    strerror(errno));
		goto none;
	}
	xentrap_encode(&op, 0, 0, 0);
	if (trap_op(x->privcmd, x->domid, &op, &dummy, 0) < 0) {
		if (xentrap_classify(errno) == XENTRAP_UNSUPPORTED)
			log_info("%s: the hypervisor has no VRAM trap (%s): "
			    "backing off by polling", name, strerror(errno));
		else
			log_warnx("%s: no VRAM trap: the probe failed: %s",
			    name, strerror(errno));
		goto none;
	}
	x->have_trap = true;
	x->b.can_trap = true;
	log_info("%s: the hypervisor has the VRAM trap: Xen stops tracking "
	    "after %u clean scans and wakes us on the next write", name,
	    x->trap_n);
	return;
none:
	if (x->xce != NULL) {
		xenevtchn_close(x->xce);
		x->xce = NULL;
	}
	if (x->privcmd >= 0) {
		close(x->privcmd);
		x->privcmd = -1;
	}
}

int
backend_xen_open(const struct conf_guest *g, struct backend **out,
    char *why, size_t whylen)
{
	struct backend_xen *x;
	xen_pfn_t *pfns = NULL;
	int *errs = NULL;
	uint64_t bar_size;
	size_t i;
	int rc;

	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -ENOMEM;
	x->b.ops = &xen_ops;
	x->input_fd = -1;
	x->privcmd = -1;
	x->trap_n = g->policy.clean_scans;
	x->b.kind = "xen";
	snprintf(x->b.tracker, sizeof(x->b.tracker), "xen-dirty-vram");
	x->b.can_track = true;
	x->b.can_trap = false;
	x->domid = g->domid;
	snprintf(x->cfg_mode, sizeof(x->cfg_mode), "%s", g->mode);
	snprintf(x->dompath, sizeof(x->dompath), "/local/domain/%u", g->domid);
	qmp_socket_path(g->domid, x->qmp, sizeof(x->qmp));

	/* Errors are ours to report; keep the libraries' own log terse. */
	x->logger = (xentoollog_logger *)xtl_createlogger_stdiostream(stderr,
	    XTL_CRITICAL, 0);
	x->xs = xs_open(0);
	x->fmem = xenforeignmemory_open(x->logger, 0);
	x->dmod = xendevicemodel_open(x->logger, 0);
	if (x->xs == NULL || x->fmem == NULL || x->dmod == NULL) {
		snprintf(why, whylen, "cannot open the Xen interfaces (%s): "
		    "is this a dom0 with xenstored running?", strerror(errno));
		rc = -ENODEV;
		goto fail;
	}
	/* For the trap, if the hypervisor has it: opened while root, both
	   restricted below.  Without them the trap is just not used. */
	x->xce = xenevtchn_open(x->logger, 0);
	x->privcmd = open(PRIVCMD_PATH, O_RDWR | O_CLOEXEC);
	if ((rc = read_videoram(x, why, whylen)) < 0)
		goto fail;
	read_guest_mode(x);
	/* Done with xenstore: libxenstore cannot restrict it (see the top),
	   and the worker must keep no unrestricted handle. */
	xs_close(x->xs);
	x->xs = NULL;
	/*
	 * From here on every handle of this process can affect only this
	 * domain: a compromised worker cannot reach another guest.
	 */
	if (xentoolcore_restrict_all((domid_t)g->domid) < 0) {
		snprintf(why, whylen, "cannot restrict the Xen handles to "
		    "domain %u: %s", g->domid, strerror(errno));
		rc = -errno;
		goto fail;
	}
	/*
	 * Check that it took: a device-model call against domain 0 must now
	 * be refused by privcmd itself (EPERM), whatever Xen would answer.
	 */
	{
		unsigned long probe = 0;

		if (xendevicemodel_track_dirty_vram(x->dmod, 0, 0, 0,
		    &probe) == 0 || errno != EPERM) {
			snprintf(why, whylen, "the Xen handles are not "
			    "restricted to domain %u (a call for domain 0 was "
			    "not refused: %s)", g->domid, strerror(errno));
			rc = -EPERM;
			goto fail;
		}
		log_info("%s: Xen handles restricted to domain %u (a call for "
		    "domain 0 was refused: %s)", g->name, g->domid,
		    strerror(errno));
	}
	probe_trap(x, g->name);
	if ((rc = input_helper_start(x, why, whylen)) < 0)
		goto fail;
	rc = qmp_query_vga_bar(x->qmp, QMP_TIMEOUT_MS, &x->bar, &bar_size,
	    why, whylen);
	if (rc < 0)
		goto fail;
	if (bar_size < x->vram_size) {
		snprintf(why, whylen, "VGA BAR 0x%llx is %llu octets, smaller "
		    "than the VRAM (%llu)", (unsigned long long)x->bar,
		    (unsigned long long)bar_size,
		    (unsigned long long)x->vram_size);
		rc = -EINVAL;
		goto fail;
	}

	/* Map all of the VRAM read-only; track at most what privcmd takes. */
	x->map_pages = (size_t)(x->vram_size / 4096);
	pfns = calloc(x->map_pages, sizeof(*pfns));
	errs = calloc(x->map_pages, sizeof(*errs));
	if (pfns == NULL || errs == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < x->map_pages; i++)
		pfns[i] = (xen_pfn_t)((x->bar >> 12) + i);
	x->map = xenforeignmemory_map(x->fmem, g->domid, PROT_READ,
	    x->map_pages, pfns, errs);
	if (x->map == NULL) {
		snprintf(why, whylen, "cannot map the VRAM of domain %u at "
		    "0x%llx: %s", g->domid, (unsigned long long)x->bar,
		    strerror(errno));
		rc = -errno;
		goto fail;
	}
	for (i = 0; i < x->map_pages; i++)
		if (errs[i] != 0) {
			snprintf(why, whylen, "VRAM page %zu of domain %u cannot "
			    "be mapped: %s", i, g->domid, strerror(-errs[i]));
			rc = -EIO;
			goto fail;
		}
	x->nr = x->map_pages > XEN_MAX_TRACKED ? XEN_MAX_TRACKED :
	    (uint32_t)x->map_pages;
	x->xbitmap = calloc((x->nr + 63) / 64, sizeof(unsigned long));
	x->pend = calloc((x->nr + 63) / 64, sizeof(unsigned long));
	if (x->xbitmap == NULL || x->pend == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	x->b.fb = x->map;
	x->b.fb_len = (size_t)x->nr * 4096;
	x->b.npages = x->nr;
	free(pfns);
	free(errs);
	*out = &x->b;
	return 0;
fail:
	free(pfns);
	free(errs);
	xen_close(&x->b);
	return rc;
}
