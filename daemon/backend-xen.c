/*
 * backend-xen.c - a Xen HVM guest's VRAM through the toolstack libraries.
 *
 * The VRAM is found from xenstore (memory/videoram, its size) and the
 * device model's QMP socket (query-pci, the BAR address), mapped read-only
 * with xenforeignmemory, and tracked with xendevicemodel_track_dirty_vram
 * over exactly the BAR range.  Xen does not know the display mode: it
 * comes from the configuration (lfbvnc_mode) or from the guest-writable
 * xenstore key data/lfbvnc/mode, read when the worker attaches.
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
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <xendevicemodel.h>
#include <xenforeignmemory.h>
#include <xenstore.h>
#include <xentoolcore.h>
#include <xentoollog.h>

#include "backend.h"
#include "conf.h"
#include "lfbshm.h"
#include "log.h"
#include "qmp.h"
#include "xenmode.h"

#define XEN_MAX_TRACKED		32768u	/* privcmd's 4096-octet buffer */
#define XEN_MAX_VRAM		(1ull << 30)
#define QMP_TIMEOUT_MS		1000
#define QMP_INPUT_TIMEOUT_MS	5000	/* the helper's: the worker never waits */
#define INPUT_BATCH		64
#define MODE_KEY		"data/lfbvnc/mode"

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

/* The guest's mode key, read once, before the handles are restricted. */
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
	x->have_guest_mode = true;
	if (len > XENMODE_MAX_LEN) {
		x->guest_mode_too_long = true;
	} else {
		memcpy(x->guest_mode, v, len);
		x->guest_mode_len = len;
	}
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
	if (xendevicemodel_track_dirty_vram(x->dmod, (domid_t)x->domid,
	    x->bar >> 12, x->nr, x->xbitmap) < 0) {
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

static int
xen_arm_trap(struct backend *b, uint32_t clean_scans, bool *armed)
{
	*armed = false;
	snprintf(b->why, sizeof(b->why), "this hypervisor has no VRAM trap");
	return -EOPNOTSUPP;
}

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
	/* dom0 Linux's privcmd answers EFAULT to a NULL buffer, even for
	   nr = 0 (seen in tests/xen): pass our own. */
	if (xendevicemodel_track_dirty_vram(x->dmod, (domid_t)x->domid, 0, 0,
	    x->xbitmap) < 0 && errno == ESRCH)
		return xfail(x, -EPIPE, "domain %u is gone", x->domid);
	return 0;
}

/* No event source: no xenstore after the restriction (see the top). */
static int
xen_event_fd(struct backend *b)
{
	return -1;
}

static uint32_t
xen_take_events(struct backend *b)
{
	struct backend_xen *x = (struct backend_xen *)b;
	uint32_t ev = x->pending;

	x->pending = 0;
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
		xendevicemodel_track_dirty_vram(x->dmod, (domid_t)x->domid, 0, 0,
		    x->xbitmap);
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
	if (x->xbitmap == NULL) {
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
