/*
 * lfbvnc-probe - a headless VNC client for tests and benchmarks.
 *
 * It connects with libvncclient, asks for 32-bit 0x00RRGGBB pixels and a
 * pinned, by default lossless, encoding list, and then keeps one
 * incremental update request outstanding (libvncclient sends the next
 * request as soon as an update has been applied, as real viewers do).
 * While it runs it counts updates, rectangles and octets, decodes latency
 * markers (common/marker.h), sends scripted input, and checks the
 * framebuffer against a reference image or expected pixels.  See
 * lfbvnc-probe.1 for the options and the exit codes.
 *
 * The loop is ppoll() + HandleRFBServerMessage() with deadlines;
 * libvncclient's own blocking reads are bounded by readTimeout, which is
 * set to what is left of our deadline before every message.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rfb/rfbclient.h>

#include "image.h"
#include "log.h"
#include "marker.h"
#include "probe-util.h"
#include "tcpstat.h"

#define EXIT_CHECK	1	/* a check failed */
#define EXIT_USAGE	2
#define EXIT_CONN	3	/* connection or authentication failure */

#define NS_PER_S	1000000000ull
#define DEFAULT_TIMEOUT	10.0	/* seconds */
#define MAX_EVENTS	1024	/* --send-key, --type, --send-pointer */
#define MAX_PIXELS	1024	/* --wait-pixel */
#define MAX_CHORD	8	/* keys in one --send-key chord */
#define MAX_ERRORS	16	/* kept for --json */
#define MAX_DIFFS	8	/* differing pixels listed */
/* Percentiles are taken over at most this many samples (16 MiB). */
#define MAX_SAMPLES	((size_t)1 << 21)
/* A marker older than this is a stale or torn strip, not a latency. */
#define MARKER_MAX_AGE_NS	(60 * NS_PER_S)
/* Rects-per-update histogram: 0, 1, 2-3, 4-7, ..., 64+. */
#define RECT_BUCKETS	8

enum ev_type {
	EV_CHORD,		/* --send-key: press all, release in reverse */
	EV_TEXT,		/* --type: press and release each in turn */
	EV_POINTER,		/* --send-pointer */
};

struct input_ev {
	enum ev_type	 type;
	uint32_t	*keys;		/* owned */
	size_t		 nkeys;
	uint32_t	 x, y, buttons;
};

struct wait_px {
	uint32_t	 x, y, rgb;
};

struct opts {
	struct probe_target target;
	char		*target_arg;
	char		*password;	/* owned, wiped before free */
	char		*encodings;	/* owned, space-separated */
	double		 duration;	/* s, 0 = none */
	uint64_t	 nupdates;	/* 0 = none */
	double		 timeout;	/* s */
	int		 latency;
	uint32_t	 lat_x, lat_y;
	const char	*screenshot;
	const char	*compare;
	struct image	 ref;
	int		 region_set;
	struct probe_rect region;
	struct wait_px	 pixels[MAX_PIXELS];
	size_t		 npixels;
	struct input_ev	 events[MAX_EVENTS];
	size_t		 nevents;
	int		 json;
	int		 expect_auth_failure;
	int		 verbose;
};

struct dvec {
	double		*v;
	size_t		 n, cap;
	uint64_t	 dropped;	/* past MAX_SAMPLES */
};

struct diff {
	uint32_t	 x, y, got, want;
};

struct probe {
	struct opts	*o;
	rfbClient	*cl;

	uint64_t	 t_start, t_connected, t_first, t_end;	/* ns */
	uint64_t	 t_mend;	/* when the measurement ended */
	int		 connected;
	int		 first_done;
	int		 measuring;	/* from first_done to t_mend */
	uint64_t	 covered;	/* pixels received before first_done */
	int		 auth_tried;
	int		 auth_refused;
	int		 fb_allocs;
	uint64_t	 resizes;
	int		 dirty;		/* an update arrived since the check */
	int		 events_sent;
	int		 interrupted;

	/* the update being received */
	uint64_t	 cur_rects, cur_pixels;
	int		 marker_touched;

	/* counts while measuring: after the first full update, until t_mend */
	uint64_t	 updates, rects, pixels;
	uint64_t	 rect_hist[RECT_BUCKETS];
	struct dvec	 rects_per_update;

	int64_t		 bytes_first, bytes_mend, bytes_total;	/* -1: unknown */

	int		 have_marker;
	uint64_t	 last_marker;
	struct dvec	 latency;	/* ms */
	uint64_t	 lat_rejected;

	/* check results */
	int		 compare_ok, pixels_ok;
	uint64_t	 ndiff;
	struct diff	 diffs[MAX_DIFFS];
	size_t		 pixels_pending;
	char		 compare_why[128];

	char		*errors[MAX_ERRORS];
	size_t		 nerrors;
	int		 screenshot_failed;
};

static volatile sig_atomic_t got_signal;
static char rfb_lastmsg[256];	/* libvncclient's last message */
static int probe_tag;		/* rfbClientSetClientData key */

static void probe_error(struct probe *, const char *, ...)
    __attribute__((__format__(__printf__, 2, 3)));

static void
usage(FILE *f)
{
	fprintf(f,
"usage: lfbvnc-probe [options] HOST[:DISPLAY | ::PORT] | vnc://HOST[:PORT]\n"
"\n"
"connection\n"
"  --password-file FILE   VNC password: the file's first line (else\n"
"                         $LFBVNC_PASSWORD)\n"
"  --encoding LIST        encodings, comma-separated, in order of preference:\n"
"                         raw copyrect hextile zlib zlibhex zrle zywrle trle\n"
"                         tight ultra corre rre (default raw; JPEG is never\n"
"                         asked for)\n"
"  --format rgb32         client pixel format, 32-bit 0x00RRGGBB (the only one)\n"
"  --timeout SECONDS      give up connecting and waiting for checks (10)\n"
"  --expect-auth-failure  succeed only if the server refuses the password\n"
"measurement (counting starts after the first full update)\n"
"  --updates N            stop after N incremental updates\n"
"  --duration SECONDS     stop after this long\n"
"  --latency X,Y          decode the latency marker at X,Y after each update\n"
"input (sent in order after the first full update)\n"
"  --send-key KEY         a keysym name (Return, Control_L, F1, ...), 0xHEX,\n"
"                         or one character; Control_L+c holds Control_L\n"
"  --type TEXT            press and release each character of TEXT\n"
"  --send-pointer X,Y[,BUTTONS]  one pointer event (button mask, default 0)\n"
"checks (waited for until --timeout, re-checked after every update)\n"
"  --compare FILE         equal to a PNG/PPM, or FILE@WxH[+STRIDE][:OFFSET]\n"
"                         little-endian XRGB8888 raw pixels\n"
"  --region X,Y,W,H       compare only this region\n"
"  --wait-pixel X,Y=RRGGBB  wait for this colour (repeatable)\n"
"output\n"
"  --screenshot FILE      write the framebuffer at the end (.png, or .ppm)\n"
"  --json                 one JSON object with every measurement on stdout\n"
"  -v, --verbose          more messages (-vv: libvncclient's too)\n"
"  -h, --help             this help\n"
"\n"
"exit status: 0 ok, 1 a check failed, 2 usage, 3 connection or\n"
"authentication failure\n");
}

/* ------------------------------------------------------------ helpers */

static void
probe_error(struct probe *p, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_warnx("%s", buf);
	if (p->nerrors < MAX_ERRORS)
		p->errors[p->nerrors++] = strdup(buf);
}

static struct probe *
probe_of(rfbClient *cl)
{
	return rfbClientGetClientData(cl, &probe_tag);
}

static void
dvec_push(struct dvec *d, double v)
{
	double *nv;
	size_t ncap;

	if (d->n == d->cap) {
		if (d->cap >= MAX_SAMPLES) {
			d->dropped++;
			return;
		}
		ncap = d->cap == 0 ? 256 : d->cap * 2;
		if ((nv = realloc(d->v, ncap * sizeof(*nv))) == NULL) {
			d->dropped++;
			return;
		}
		d->v = nv;
		d->cap = ncap;
	}
	d->v[d->n++] = v;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
dvec_sort(struct dvec *d)
{
	if (d->n > 1)
		qsort(d->v, d->n, sizeof(d->v[0]), cmp_double);
}

static double
dvec_mean(const struct dvec *d)
{
	double s = 0;
	size_t i;

	for (i = 0; i < d->n; i++)
		s += d->v[i];
	return d->n > 0 ? s / (double)d->n : 0;
}

static double
secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

static double
msecs(uint64_t ns)
{
	return (double)ns / 1e6;
}

static const char *const rect_bucket_names[RECT_BUCKETS] = {
	"0", "1", "2-3", "4-7", "8-15", "16-31", "32-63", "64+"
};

static unsigned
rect_bucket(uint64_t n)
{
	unsigned b = 0;

	if (n == 0)
		return 0;
	/* 1 -> 1, 2-3 -> 2, 4-7 -> 3, ... */
	while (n > 0 && b < RECT_BUCKETS - 1) {
		n >>= 1;
		b++;
	}
	return b;
}

/* ---------------------------------------------------- libvncclient glue */

static void rfb_log(const char *fmt, ...)
    __attribute__((__format__(__printf__, 1, 2)));

/* libvncclient's messages end in '\n'; keep the last for our errors. */
static void
rfb_log(const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(rfb_lastmsg, sizeof(rfb_lastmsg), fmt, ap);
	va_end(ap);
	n = strlen(rfb_lastmsg);
	while (n > 0 && (rfb_lastmsg[n - 1] == '\n' ||
	    rfb_lastmsg[n - 1] == '\r'))
		rfb_lastmsg[--n] = '\0';
	if (log_getverbose() >= 2)
		log_debug("libvncclient: %s", rfb_lastmsg);
}

static rfbBool
cb_malloc_fb(rfbClient *cl)
{
	struct probe *p = probe_of(cl);
	uint64_t n = (uint64_t)(cl->width > 0 ? cl->width : 0) *
	    (uint64_t)(cl->height > 0 ? cl->height : 0);

	free(cl->frameBuffer);
	cl->frameBuffer = NULL;
	/* The size comes from the server: bound it before allocating. */
	if (cl->width <= 0 || cl->height <= 0 ||
	    cl->width > (int)IMAGE_MAX_DIM ||
	    cl->height > (int)IMAGE_MAX_DIM || n > IMAGE_MAX_PIXELS) {
		probe_error(p, "server framebuffer size %dx%d out of range",
		    cl->width, cl->height);
		return FALSE;
	}
	if ((cl->frameBuffer = calloc(n, sizeof(uint32_t))) == NULL) {
		probe_error(p, "framebuffer %dx%d: %s", cl->width, cl->height,
		    strerror(errno));
		return FALSE;
	}
	if (p->fb_allocs++ > 0) {
		p->resizes++;
		log_debug("desktop resized to %dx%d", cl->width, cl->height);
	}
	/* Until a full frame has arrived the new buffer is black. */
	p->covered = 0;
	return TRUE;
}

static char *
cb_password(rfbClient *cl)
{
	struct probe *p = probe_of(cl);
	char *pw;

	p->auth_tried = 1;
	if (p->o->password == NULL) {
		if (!p->o->expect_auth_failure)
			probe_error(p, "the server asks for a password: use "
			    "--password-file or LFBVNC_PASSWORD");
		return NULL;
	}
	/* libvncclient wipes and frees what we return. */
	if ((pw = strdup(p->o->password)) == NULL)
		probe_error(p, "strdup: %s", strerror(errno));
	return pw;
}

static void
cb_got_update(rfbClient *cl, int x, int y, int w, int h)
{
	struct probe *p = probe_of(cl);
	const struct opts *o = p->o;

	/* libvncclient has checked the rectangle against the framebuffer. */
	p->cur_rects++;
	p->cur_pixels += (uint64_t)w * (uint64_t)h;
	if (o->latency && (int64_t)o->lat_y >= y &&
	    (int64_t)o->lat_y < (int64_t)y + h &&
	    (int64_t)o->lat_x < (int64_t)x + w &&
	    (int64_t)o->lat_x + MARKER_PIXELS > x)
		p->marker_touched = 1;
}

/*
 * libvncclient keeps the cursor image for a soft cursor we never draw,
 * and 0.9.14 neither frees rcMask before the next shape nor at cleanup:
 * drop both as soon as a shape is decoded.
 */
static void
cb_cursor_shape(rfbClient *cl, int xhot, int yhot, int w, int h, int bpp)
{
	free(cl->rcSource);
	cl->rcSource = NULL;
	free(cl->rcMask);
	cl->rcMask = NULL;
}

/* Decode the marker strip; sample=0 only notes its value. */
static void
read_marker(struct probe *p, uint64_t now, int sample)
{
	const struct opts *o = p->o;
	const uint32_t *fb = (const uint32_t *)p->cl->frameBuffer;
	uint32_t px[MARKER_PIXELS];
	uint64_t t;
	size_t i, base;

	if ((uint64_t)o->lat_x + MARKER_PIXELS > (uint64_t)p->cl->width ||
	    o->lat_y >= (uint32_t)p->cl->height)
		return;
	base = (size_t)o->lat_y * (size_t)p->cl->width + o->lat_x;
	/* The X octet is padding; a server may fill it. */
	for (i = 0; i < MARKER_PIXELS; i++)
		px[i] = fb[base + i] & 0x00ffffffu;
	if (marker_decode(px, &t) == -1)
		return;
	if (p->have_marker && t == p->last_marker)
		return;
	p->have_marker = 1;
	p->last_marker = t;
	if (!sample)
		return;
	/* A strip caught half-written decodes to a nonsense time. */
	if (t > now || now - t > MARKER_MAX_AGE_NS) {
		p->lat_rejected++;
		log_debug("marker %" PRIu64 " rejected (now %" PRIu64 ")", t,
		    now);
		return;
	}
	dvec_push(&p->latency, msecs(now - t));
}

static void
cb_finished(rfbClient *cl)
{
	struct probe *p = probe_of(cl);
	uint64_t now = marker_now_ns();

	if (!p->first_done) {
		/* The first full frame may come in several updates. */
		p->covered += p->cur_pixels;
		if (p->covered >= (uint64_t)cl->width * (uint64_t)cl->height) {
			p->first_done = 1;
			p->measuring = 1;
			p->t_first = now;
			p->bytes_first = tcpstat_bytes_received(cl->sock);
			if (p->o->latency)
				read_marker(p, now, 0);
			log_debug("first full update after %.3f ms",
			    msecs(now - p->t_start));
		}
	} else if (p->measuring) {
		p->updates++;
		p->rects += p->cur_rects;
		p->pixels += p->cur_pixels;
		p->rect_hist[rect_bucket(p->cur_rects)]++;
		dvec_push(&p->rects_per_update, (double)p->cur_rects);
		if (p->marker_touched)
			read_marker(p, now, 1);
	}
	p->cur_rects = p->cur_pixels = 0;
	p->marker_touched = 0;
	p->dirty = 1;
}

/* ------------------------------------------------------------- checks */

/* A framebuffer worth looking at: complete once, and not lost to a
 * resize the allocation refused. */
static int
have_frame(const struct probe *p)
{
	return p->first_done && p->cl != NULL && p->cl->frameBuffer != NULL;
}

static int
check_compare(struct probe *p)
{
	const struct opts *o = p->o;
	const uint32_t *fb = (const uint32_t *)p->cl->frameBuffer;
	const struct image *ref = &o->ref;
	struct probe_rect r;
	uint32_t x, y, got, want, fw, fh;
	uint64_t n = 0;
	size_t nd = 0;

	fw = (uint32_t)p->cl->width;
	fh = (uint32_t)p->cl->height;
	if (o->region_set)
		r = o->region;
	else {
		r.x = r.y = 0;
		r.w = ref->width;
		r.h = ref->height;
		if (fw != ref->width || fh != ref->height) {
			snprintf(p->compare_why, sizeof(p->compare_why),
			    "framebuffer is %ux%u, reference %ux%u", fw, fh,
			    ref->width, ref->height);
			p->ndiff = (uint64_t)r.w * r.h;
			return 0;
		}
	}
	if ((uint64_t)r.x + r.w > fw || (uint64_t)r.y + r.h > fh) {
		snprintf(p->compare_why, sizeof(p->compare_why),
		    "region %u,%u,%u,%u is outside the %ux%u framebuffer",
		    r.x, r.y, r.w, r.h, fw, fh);
		p->ndiff = (uint64_t)r.w * r.h;
		return 0;
	}
	p->compare_why[0] = '\0';
	for (y = r.y; y < r.y + r.h; y++)
		for (x = r.x; x < r.x + r.w; x++) {
			got = fb[(size_t)y * fw + x] & 0x00ffffffu;
			want = ref->px[(size_t)y * ref->width + x] &
			    0x00ffffffu;
			if (got == want)
				continue;
			if (nd < MAX_DIFFS) {
				p->diffs[nd].x = x;
				p->diffs[nd].y = y;
				p->diffs[nd].got = got;
				p->diffs[nd].want = want;
				nd++;
			}
			n++;
		}
	p->ndiff = n;
	return n == 0;
}

static size_t
check_pixels(struct probe *p)
{
	const struct opts *o = p->o;
	const uint32_t *fb = (const uint32_t *)p->cl->frameBuffer;
	const struct wait_px *w;
	size_t i, pending = 0;

	for (i = 0; i < o->npixels; i++) {
		w = &o->pixels[i];
		if (w->x >= (uint32_t)p->cl->width ||
		    w->y >= (uint32_t)p->cl->height ||
		    (fb[(size_t)w->y * p->cl->width + w->x] & 0x00ffffffu) !=
		    w->rgb)
			pending++;
	}
	return pending;
}

static int
run_checks(struct probe *p)
{
	if (p->o->compare != NULL)
		p->compare_ok = check_compare(p);
	if (p->o->npixels > 0) {
		p->pixels_pending = check_pixels(p);
		p->pixels_ok = p->pixels_pending == 0;
	}
	p->dirty = 0;
	return p->compare_ok && p->pixels_ok;
}

/* -------------------------------------------------------------- input */

static int
send_events(struct probe *p)
{
	const struct input_ev *ev;
	size_t i, k;

	for (i = 0; i < p->o->nevents; i++) {
		ev = &p->o->events[i];
		switch (ev->type) {
		case EV_CHORD:
			for (k = 0; k < ev->nkeys; k++)
				if (!SendKeyEvent(p->cl, ev->keys[k], TRUE))
					goto fail;
			for (k = ev->nkeys; k-- > 0;)
				if (!SendKeyEvent(p->cl, ev->keys[k], FALSE))
					goto fail;
			break;
		case EV_TEXT:
			for (k = 0; k < ev->nkeys; k++)
				if (!SendKeyEvent(p->cl, ev->keys[k], TRUE) ||
				    !SendKeyEvent(p->cl, ev->keys[k], FALSE))
					goto fail;
			break;
		case EV_POINTER:
			if (!SendPointerEvent(p->cl, (int)ev->x, (int)ev->y,
			    (int)ev->buttons))
				goto fail;
			break;
		}
	}
	log_debug("%zu input events sent", p->o->nevents);
	return 0;
fail:
	probe_error(p, "sending input failed: %s", rfb_lastmsg);
	return -1;
}

/* --------------------------------------------------------------- run */

static void
on_signal(int sig)
{
	got_signal = sig;
}

static void
setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);	/* a closed socket is an error */
	/* No SA_RESTART: select() returns and the loop looks at the flag. */
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void
client_setup(struct probe *p, rfbClient *cl)
{
	const struct opts *o = p->o;
	const uint16_t one = 1;

	rfbClientSetClientData(cl, &probe_tag, p);
	cl->programName = "lfbvnc-probe";
	/* --format rgb32: 0x00RRGGBB in host order, so the framebuffer, the
	 * marker and the reference images compare as integers. */
	cl->format.bitsPerPixel = 32;
	cl->format.depth = 24;
	cl->format.trueColour = TRUE;
	cl->format.bigEndian = *(const uint8_t *)&one == 0;
	cl->format.redMax = cl->format.greenMax = cl->format.blueMax = 255;
	cl->format.redShift = 16;
	cl->format.greenShift = 8;
	cl->format.blueShift = 0;
	cl->appData.encodingsString = o->encodings;
	cl->appData.enableJPEG = FALSE;	/* lossy: no exact checks */
	cl->appData.shareDesktop = TRUE;
	/* Cursor shapes as pseudo-encodings keep a server from drawing the
	 * pointer into the pixels we compare. */
	cl->appData.useRemoteCursor = TRUE;
	cl->canHandleNewFBSize = TRUE;
	cl->connectTimeout = (unsigned)ceil(o->timeout);
	cl->readTimeout = (unsigned)ceil(o->timeout);
	cl->MallocFrameBuffer = cb_malloc_fb;
	cl->GotFrameBufferUpdate = cb_got_update;
	cl->FinishedFrameBufferUpdate = cb_finished;
	cl->GetPassword = cb_password;
	cl->GotCursorShape = cb_cursor_shape;
}

/* Connect, authenticate, allocate and ask for the first full frame. */
static int
probe_connect(struct probe *p)
{
	const struct opts *o = p->o;
	rfbClient *cl = p->cl;
	uint64_t left;

	if (!ConnectToRFBServer(cl, o->target.host, o->target.port)) {
		probe_error(p, "cannot connect to %s: %s", o->target_arg,
		    rfb_lastmsg);
		return EXIT_CONN;
	}
	/* The handshake gets what is left of the timeout, at least 1 s. */
	left = (uint64_t)(o->timeout * 1e9);
	left = marker_now_ns() - p->t_start < left ? left -
	    (marker_now_ns() - p->t_start) : 0;
	cl->readTimeout = (unsigned)(left / NS_PER_S) + 1;
	if (!InitialiseRFBConnection(cl)) {
		/*
		 * Past the password callback the only step left is the
		 * server's verdict, so a failure there is a refusal.
		 */
		if (p->auth_tried) {
			p->auth_refused = 1;
			if (o->expect_auth_failure) {
				log_debug("authentication refused, as "
				    "expected: %s", rfb_lastmsg);
				return 0;
			}
			probe_error(p, "authentication failed: %s",
			    rfb_lastmsg);
		} else
			probe_error(p, "VNC handshake with %s failed: %s",
			    o->target_arg, rfb_lastmsg);
		return EXIT_CONN;
	}
	p->t_connected = marker_now_ns();
	p->connected = 1;
	if (o->expect_auth_failure) {
		probe_error(p, "authentication was not refused");
		return EXIT_CHECK;
	}
	cl->width = cl->si.framebufferWidth;
	cl->height = cl->si.framebufferHeight;
	if (!cl->MallocFrameBuffer(cl))
		return EXIT_CONN;
	/* What rfbInitClient does: the automatic incremental requests
	 * cover updateRect, which starts out invalid (x = -1). */
	cl->updateRect.x = cl->updateRect.y = 0;
	cl->updateRect.w = cl->width;
	cl->updateRect.h = cl->height;
	if (!SetFormatAndEncodings(cl) ||
	    !SendFramebufferUpdateRequest(cl, 0, 0, cl->width, cl->height,
	    FALSE)) {
		probe_error(p, "sending the first requests failed: %s",
		    rfb_lastmsg);
		return EXIT_CONN;
	}
	log_debug("connected to %s: %dx%d \"%s\" in %.3f ms", o->target_arg,
	    cl->width, cl->height, cl->desktopName != NULL ?
	    cl->desktopName : "", msecs(p->t_connected - p->t_start));
	return 0;
}

static int
measure_done(const struct probe *p, uint64_t now)
{
	const struct opts *o = p->o;

	if (o->duration > 0 && now - p->t_first >=
	    (uint64_t)(o->duration * 1e9))
		return 1;
	if (o->nupdates > 0 && p->updates >= o->nupdates)
		return 1;
	return o->duration == 0 && o->nupdates == 0;
}

/* Freeze the counters: checks may keep the probe running afterwards. */
static void
end_measurement(struct probe *p, uint64_t now)
{
	if (!p->measuring)
		return;
	p->measuring = 0;
	p->t_mend = now;
	p->bytes_mend = tcpstat_bytes_received(p->cl->sock);
}

/* Wait until the server's socket is readable, a signal or usec pass. */
static int
wait_server(rfbClient *cl, uint64_t usec, const sigset_t *waitmask)
{
	struct pollfd pfd = { .fd = cl->sock, .events = POLLIN };
	struct timespec ts;

	ts.tv_sec = (time_t)(usec / 1000000);
	ts.tv_nsec = (long)(usec % 1000000) * 1000;
	return ppoll(&pfd, 1, &ts, waitmask);
}

/* probe_loop's body, with SIGINT and SIGTERM blocked. */
static int
loop_blocked(struct probe *p, const sigset_t *waitmask)
{
	const struct opts *o = p->o;
	rfbClient *cl = p->cl;
	uint64_t now, deadline, first_deadline, wake, left;
	int n, checks_ok = 0;

	/* Never past --timeout + --duration from the start. */
	first_deadline = p->t_start + (uint64_t)(o->timeout * 1e9);
	deadline = first_deadline + (uint64_t)(o->duration * 1e9);
	for (;;) {
		now = marker_now_ns();
		if (!p->first_done && now >= first_deadline)
			break;
		if (got_signal) {
			log_debug("signal %d: stopping", (int)got_signal);
			p->interrupted = 1;
			break;
		}
		if (p->first_done && !p->events_sent) {
			p->events_sent = 1;
			if (send_events(p) == -1)
				return EXIT_CONN;
		}
		if (p->first_done) {
			if (p->measuring && measure_done(p, now))
				end_measurement(p, now);
			if (p->dirty && have_frame(p))
				checks_ok = run_checks(p);
			if (checks_ok && !p->measuring)
				break;
		}
		if (now >= deadline)
			break;

		wake = p->first_done ? deadline : first_deadline;
		if (p->measuring && o->duration > 0 &&
		    p->t_first + (uint64_t)(o->duration * 1e9) < wake &&
		    p->t_first + (uint64_t)(o->duration * 1e9) > now)
			wake = p->t_first + (uint64_t)(o->duration * 1e9);
		left = (wake - now) / 1000;
		/* Data libvncclient has buffered is invisible to poll(). */
		if (cl->buffered > 0)
			n = 1;
		else if ((n = wait_server(cl, left + 1, waitmask)) < 0) {
			if (errno == EINTR)
				continue;
			probe_error(p, "waiting for the server: %s",
			    strerror(errno));
			return EXIT_CONN;
		}
		if (n == 0)
			continue;
		left = deadline > now ? deadline - now : 0;
		cl->readTimeout = (unsigned)(left / NS_PER_S) + 1;
		rfb_lastmsg[0] = '\0';
		if (!HandleRFBServerMessage(cl)) {
			probe_error(p, "connection to %s lost%s%s",
			    o->target_arg, rfb_lastmsg[0] ? ": " : "",
			    rfb_lastmsg);
			return EXIT_CONN;
		}
	}
	end_measurement(p, now);
	if (!p->first_done) {
		if (!p->interrupted)
			probe_error(p, "no full framebuffer update within "
			    "%.3f s", o->timeout);
		return p->interrupted ? EXIT_CHECK : EXIT_CONN;
	}
	if (p->dirty && have_frame(p))
		checks_ok = run_checks(p);
	if (!checks_ok) {
		if (!p->compare_ok)
			probe_error(p, "framebuffer differs from %s: %s%s"
			    "%" PRIu64 " pixels differ", o->compare,
			    p->compare_why, p->compare_why[0] ? "; " : "",
			    p->ndiff);
		if (!p->pixels_ok)
			probe_error(p, "%zu of %zu --wait-pixel colours not "
			    "seen", p->pixels_pending, o->npixels);
		return EXIT_CHECK;
	}
	if (o->nupdates > 0 && p->updates < o->nupdates && o->duration == 0) {
		probe_error(p, "%" PRIu64 " of %" PRIu64 " updates in %.3f s",
		    p->updates, o->nupdates, secs(p->t_mend - p->t_first));
		return EXIT_CHECK;
	}
	return 0;
}

/* The main loop; returns an exit status. */
static int
probe_loop(struct probe *p)
{
	sigset_t term, waitmask;
	int rc;

	/*
	 * SIGINT and SIGTERM are blocked but in the wait itself (ppoll), so
	 * one that comes after the loop looked at got_signal interrupts the
	 * wait instead of waiting for its end: the probe sleeps until the
	 * server sends or a deadline passes, never on a polling period (a
	 * viewer of an idle screen wakes for nothing, like a real one).
	 */
	sigemptyset(&term);
	sigaddset(&term, SIGINT);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	rc = loop_blocked(p, &waitmask);
	sigprocmask(SIG_UNBLOCK, &term, NULL);
	return rc;
}

/* ------------------------------------------------------------ report */

static void
json_str(FILE *f, const char *s)
{
	const unsigned char *c;

	fputc('"', f);
	for (c = (const unsigned char *)s; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(f, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			fprintf(f, "\\u%04x", *c);
		else
			fputc(*c, f);
	}
	fputc('"', f);
}

/* ,"name":N, or null when the kernel could not tell (-1). */
static void
json_bytes(FILE *f, const char *name, int64_t v)
{
	if (v >= 0)
		fprintf(f, ",\"%s\":%" PRId64, name, v);
	else
		fprintf(f, ",\"%s\":null", name);
}

/* Opens "name":{ with the summary of d; the caller closes it. */
static void
json_summary(FILE *f, const char *name, struct dvec *d, int decimals)
{
	fprintf(f, ",\"%s\":{\"count\":%zu", name, d->n);
	if (d->n == 0)
		return;
	fprintf(f, ",\"min\":%.*f,\"p50\":%.*f,\"p90\":%.*f,"
	    "\"p99\":%.*f,\"max\":%.*f,\"mean\":%.*f",
	    decimals, d->v[0],
	    decimals, probe_percentile(d->v, d->n, 50),
	    decimals, probe_percentile(d->v, d->n, 90),
	    decimals, probe_percentile(d->v, d->n, 99),
	    decimals, d->v[d->n - 1], decimals < 2 ? 2 : decimals,
	    dvec_mean(d));
	if (d->dropped > 0)
		fprintf(f, ",\"not_in_percentiles\":%" PRIu64, d->dropped);
}

static void
report_json(struct probe *p, int rc)
{
	const struct opts *o = p->o;
	FILE *f = stdout;
	double run = p->first_done ? secs(p->t_mend - p->t_first) : 0;
	size_t i;

	fprintf(f, "{\"server\":");
	json_str(f, o->target_arg);
	fprintf(f, ",\"host\":");
	json_str(f, o->target.host);
	fprintf(f, ",\"port\":%d,\"encodings\":", o->target.port);
	json_str(f, o->encodings);
	fprintf(f, ",\"connected\":%s,\"auth_refused\":%s",
	    p->connected ? "true" : "false",
	    p->auth_refused ? "true" : "false");
	if (p->connected) {
		fprintf(f, ",\"desktop_name\":");
		json_str(f, p->cl != NULL && p->cl->desktopName != NULL ?
		    p->cl->desktopName : "");
		fprintf(f, ",\"width\":%d,\"height\":%d,\"connect_ms\":%.3f",
		    p->cl != NULL ? p->cl->width : 0,
		    p->cl != NULL ? p->cl->height : 0,
		    msecs(p->t_connected - p->t_start));
	}
	if (p->first_done)
		fprintf(f, ",\"first_update_ms\":%.3f",
		    msecs(p->t_first - p->t_start));
	fprintf(f, ",\"duration_s\":%.6f,\"updates\":%" PRIu64
	    ",\"updates_per_s\":%.3f,\"rects\":%" PRIu64 ",\"pixels\":%"
	    PRIu64 ",\"raw_bytes\":%" PRIu64, run, p->updates,
	    run > 0 ? (double)p->updates / run : 0.0, p->rects, p->pixels,
	    p->pixels * 4);
	json_bytes(f, "bytes", p->bytes_mend >= 0 && p->bytes_first >= 0 ?
	    p->bytes_mend - p->bytes_first : -1);
	json_bytes(f, "bytes_first_update", p->bytes_first);
	json_bytes(f, "bytes_total", p->bytes_total);
	fprintf(f, ",\"resizes\":%" PRIu64, p->resizes);
	json_summary(f, "rects_per_update", &p->rects_per_update, 0);
	fprintf(f, ",\"histogram\":{");
	for (i = 0; i < RECT_BUCKETS; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i > 0 ? "," : "",
		    rect_bucket_names[i], p->rect_hist[i]);
	fprintf(f, "}}");
	if (o->latency) {
		json_summary(f, "latency_ms", &p->latency, 3);
		fprintf(f, ",\"rejected\":%" PRIu64 ",\"x\":%u,\"y\":%u}",
		    p->lat_rejected, o->lat_x, o->lat_y);
	}
	if (o->compare != NULL) {
		fprintf(f, ",\"compare\":{\"reference\":");
		json_str(f, o->compare);
		fprintf(f, ",\"equal\":%s,\"differing\":%" PRIu64 ",\"diffs\":[",
		    p->compare_ok ? "true" : "false", p->ndiff);
		for (i = 0; !p->compare_ok && i < MAX_DIFFS &&
		    i < p->ndiff; i++)
			fprintf(f, "%s{\"x\":%u,\"y\":%u,\"got\":\"%06x\","
			    "\"want\":\"%06x\"}", i > 0 ? "," : "",
			    p->diffs[i].x, p->diffs[i].y, p->diffs[i].got,
			    p->diffs[i].want);
		fprintf(f, "]}");
	}
	if (o->npixels > 0)
		fprintf(f, ",\"wait_pixels\":{\"ok\":%s,\"pending\":%zu}",
		    p->pixels_ok ? "true" : "false", p->pixels_pending);
	fprintf(f, ",\"interrupted\":%s,\"errors\":[",
	    p->interrupted ? "true" : "false");
	for (i = 0; i < p->nerrors; i++) {
		if (i > 0)
			fputc(',', f);
		json_str(f, p->errors[i] != NULL ? p->errors[i] : "?");
	}
	fprintf(f, "],\"exit\":%d}\n", rc);
}

static void
print_summary(const char *what, struct dvec *d, const char *unit)
{
	if (d->n == 0) {
		printf("%s: count 0\n", what);
		return;
	}
	printf("%s: count %zu p50 %.3f p90 %.3f p99 %.3f max %.3f%s\n",
	    what, d->n, probe_percentile(d->v, d->n, 50),
	    probe_percentile(d->v, d->n, 90),
	    probe_percentile(d->v, d->n, 99), d->v[d->n - 1], unit);
}

static void
report_text(struct probe *p)
{
	const struct opts *o = p->o;
	double run = p->first_done ? secs(p->t_mend - p->t_first) : 0;
	size_t i;

	if (p->connected && (o->duration > 0 || o->nupdates > 0 ||
	    o->verbose)) {
		printf("%s: %dx%d, connected in %.3f ms", o->target_arg,
		    p->cl->width, p->cl->height,
		    msecs(p->t_connected - p->t_start));
		if (p->first_done)
			printf(", first update after %.3f ms",
			    msecs(p->t_first - p->t_start));
		printf("\n");
		printf("updates %" PRIu64 " in %.3f s (%.1f/s), rects %"
		    PRIu64 ", pixels %" PRIu64 ", bytes ", p->updates, run,
		    run > 0 ? (double)p->updates / run : 0.0, p->rects,
		    p->pixels);
		if (p->bytes_mend >= 0 && p->bytes_first >= 0)
			printf("%" PRId64, p->bytes_mend - p->bytes_first);
		else
			printf("n/a");
		printf(" (raw %" PRIu64 ")\n", p->pixels * 4);
		print_summary("rects per update", &p->rects_per_update, "");
	}
	if (o->latency) {
		print_summary("latency", &p->latency, " ms");
		if (p->lat_rejected > 0)
			printf("latency: %" PRIu64 " implausible markers "
			    "ignored\n", p->lat_rejected);
	}
	if (o->compare != NULL && have_frame(p) && !p->compare_ok) {
		printf("compare: %" PRIu64 " pixels differ%s%s\n", p->ndiff,
		    p->compare_why[0] ? ": " : "", p->compare_why);
		for (i = 0; i < MAX_DIFFS && i < p->ndiff &&
		    !p->compare_why[0]; i++)
			printf("  (%u,%u) is %06x, want %06x\n",
			    p->diffs[i].x, p->diffs[i].y, p->diffs[i].got,
			    p->diffs[i].want);
	} else if (o->compare != NULL && p->compare_ok && o->verbose)
		printf("compare: equal\n");
	if (o->npixels > 0 && have_frame(p) && !p->pixels_ok)
		for (i = 0; i < o->npixels; i++) {
			const struct wait_px *w = &o->pixels[i];
			const uint32_t *fb =
			    (const uint32_t *)p->cl->frameBuffer;

			if (w->x < (uint32_t)p->cl->width &&
			    w->y < (uint32_t)p->cl->height)
				printf("pixel (%u,%u) is %06x, want %06x\n",
				    w->x, w->y, fb[(size_t)w->y *
				    p->cl->width + w->x] & 0x00ffffffu,
				    w->rgb);
			else
				printf("pixel (%u,%u) is outside the "
				    "framebuffer, want %06x\n", w->x, w->y,
				    w->rgb);
		}
}

static int
probe_run(struct probe *p)
{
	struct opts *o = p->o;
	int rc;

	setup_signals();
	rfbClientLog = rfb_log;
	rfbClientErr = rfb_log;

	/* (8, 3, 4): 8 bits per sample, 3 samples, 4 octets per pixel. */
	if ((p->cl = rfbGetClient(8, 3, 4)) == NULL) {
		probe_error(p, "rfbGetClient failed");
		return EXIT_CONN;
	}
	client_setup(p, p->cl);
	free(p->cl->serverHost);	/* rfbGetClient's strdup("") */
	if ((p->cl->serverHost = strdup(o->target.host)) == NULL) {
		probe_error(p, "strdup: %s", strerror(errno));
		return EXIT_CONN;
	}
	p->cl->serverPort = o->target.port;
	p->bytes_first = p->bytes_mend = p->bytes_total = -1;
	p->compare_ok = p->pixels_ok = 1;

	p->t_start = marker_now_ns();
	rc = probe_connect(p);
	if (rc == 0 && p->connected)
		rc = probe_loop(p);
	p->t_end = marker_now_ns();
	end_measurement(p, p->t_end);	/* if the loop failed early */
	if (p->connected)
		p->bytes_total = tcpstat_bytes_received(p->cl->sock);

	if (o->screenshot != NULL) {
		if (have_frame(p) && image_write(o->screenshot,
		    (const uint32_t *)p->cl->frameBuffer,
		    (uint32_t)p->cl->width, (uint32_t)p->cl->height,
		    (size_t)p->cl->width) == 0)
			log_debug("screenshot written to %s", o->screenshot);
		else {
			probe_error(p, "no screenshot written to %s",
			    o->screenshot);
			if (rc == 0)
				rc = EXIT_CHECK;
		}
	}
	return rc;
}

static void
probe_free(struct probe *p)
{
	size_t i;

	if (p->cl != NULL) {
		free(p->cl->frameBuffer);
		p->cl->frameBuffer = NULL;
		free(p->cl->rcSource);
		p->cl->rcSource = NULL;
		free(p->cl->rcMask);
		p->cl->rcMask = NULL;
		rfbClientCleanup(p->cl);
		p->cl = NULL;
	}
	free(p->latency.v);
	free(p->rects_per_update.v);
	for (i = 0; i < p->nerrors; i++)
		free(p->errors[i]);
}

/* ----------------------------------------------------------- options */

enum {
	OPT_PASSWORD_FILE = 256, OPT_ENCODING, OPT_FORMAT, OPT_UPDATES,
	OPT_DURATION, OPT_TIMEOUT, OPT_LATENCY, OPT_SCREENSHOT, OPT_COMPARE,
	OPT_REGION, OPT_WAIT_PIXEL, OPT_SEND_KEY, OPT_TYPE, OPT_SEND_POINTER,
	OPT_JSON, OPT_EXPECT_AUTH_FAILURE,
};

static const struct option longopts[] = {
	{ "password-file",	required_argument, NULL, OPT_PASSWORD_FILE },
	{ "encoding",		required_argument, NULL, OPT_ENCODING },
	{ "encodings",		required_argument, NULL, OPT_ENCODING },
	{ "format",		required_argument, NULL, OPT_FORMAT },
	{ "updates",		required_argument, NULL, OPT_UPDATES },
	{ "duration",		required_argument, NULL, OPT_DURATION },
	{ "timeout",		required_argument, NULL, OPT_TIMEOUT },
	{ "latency",		required_argument, NULL, OPT_LATENCY },
	{ "screenshot",		required_argument, NULL, OPT_SCREENSHOT },
	{ "compare",		required_argument, NULL, OPT_COMPARE },
	{ "region",		required_argument, NULL, OPT_REGION },
	{ "wait-pixel",		required_argument, NULL, OPT_WAIT_PIXEL },
	{ "send-key",		required_argument, NULL, OPT_SEND_KEY },
	{ "type",		required_argument, NULL, OPT_TYPE },
	{ "send-pointer",	required_argument, NULL, OPT_SEND_POINTER },
	{ "json",		no_argument,	   NULL, OPT_JSON },
	{ "expect-auth-failure", no_argument,	   NULL,
	    OPT_EXPECT_AUTH_FAILURE },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL,			0,		   NULL, 0 },
};

/* The first line of a file, without its end of line. */
static int
read_password_file(const char *path, char **pw)
{
	char buf[1024];
	FILE *f;
	size_t n;

	if ((f = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return -1;
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	*pw = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	if (*pw == NULL) {
		log_warn("strdup");
		return -1;
	}
	return 0;
}

static struct input_ev *
new_event(struct opts *o, enum ev_type type)
{
	struct input_ev *ev;

	if (o->nevents == MAX_EVENTS) {
		log_warnx("more than %d input events", MAX_EVENTS);
		return NULL;
	}
	ev = &o->events[o->nevents++];
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	return ev;
}

/* 0 to run, -1 after --help, else an exit status. */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	const char *password_file = NULL, *encodings = "raw", *env;
	struct input_ev *ev;
	struct wait_px *w;
	uint32_t keys[MAX_CHORD];
	char *end;
	size_t n;
	int ch;
	unsigned long long ull;

	o->timeout = DEFAULT_TIMEOUT;
	while ((ch = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_PASSWORD_FILE:
			password_file = optarg;
			break;
		case OPT_ENCODING:
			encodings = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "rgb32") != 0) {
				log_warnx("--format: only rgb32 (32-bit "
				    "0x00RRGGBB) is supported");
				return EXIT_USAGE;
			}
			break;
		case OPT_UPDATES:
			errno = 0;
			ull = strtoull(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    ull == 0 || ull > 1000000000ull) {
				log_warnx("--updates: bad count \"%s\"",
				    optarg);
				return EXIT_USAGE;
			}
			o->nupdates = ull;
			break;
		case OPT_DURATION:
			if (probe_parse_seconds(optarg, &o->duration) == -1)
				return EXIT_USAGE;
			break;
		case OPT_TIMEOUT:
			if (probe_parse_seconds(optarg, &o->timeout) == -1)
				return EXIT_USAGE;
			break;
		case OPT_LATENCY:
			if (probe_parse_xy(optarg, &o->lat_x, &o->lat_y) == -1)
				return EXIT_USAGE;
			o->latency = 1;
			break;
		case OPT_SCREENSHOT:
			o->screenshot = optarg;
			break;
		case OPT_COMPARE:
			o->compare = optarg;
			break;
		case OPT_REGION:
			if (probe_parse_region(optarg, &o->region) == -1)
				return EXIT_USAGE;
			o->region_set = 1;
			break;
		case OPT_WAIT_PIXEL:
			if (o->npixels == MAX_PIXELS) {
				log_warnx("more than %d --wait-pixel",
				    MAX_PIXELS);
				return EXIT_USAGE;
			}
			w = &o->pixels[o->npixels];
			if (probe_parse_pixel(optarg, &w->x, &w->y,
			    &w->rgb) == -1)
				return EXIT_USAGE;
			o->npixels++;
			break;
		case OPT_SEND_KEY:
			if (probe_parse_keys(optarg, keys, MAX_CHORD,
			    &n) == -1 || (ev = new_event(o, EV_CHORD)) == NULL)
				return EXIT_USAGE;
			if ((ev->keys = calloc(n, sizeof(*keys))) == NULL) {
				log_warn("keys");
				return EXIT_USAGE;
			}
			memcpy(ev->keys, keys, n * sizeof(*keys));
			ev->nkeys = n;
			break;
		case OPT_TYPE:
			if ((ev = new_event(o, EV_TEXT)) == NULL ||
			    probe_text_keysyms(optarg, &ev->keys,
			    &ev->nkeys) == -1)
				return EXIT_USAGE;
			break;
		case OPT_SEND_POINTER:
			if ((ev = new_event(o, EV_POINTER)) == NULL ||
			    probe_parse_pointer(optarg, &ev->x, &ev->y,
			    &ev->buttons) == -1)
				return EXIT_USAGE;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_EXPECT_AUTH_FAILURE:
			o->expect_auth_failure = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	o->target_arg = argv[optind];
	if (probe_parse_target(o->target_arg, &o->target) == -1)
		return EXIT_USAGE;
	if (probe_parse_encodings(encodings, &o->encodings) == -1)
		return EXIT_USAGE;
	if (o->latency && o->duration == 0 && o->nupdates == 0) {
		log_warnx("--latency needs --duration or --updates");
		return EXIT_USAGE;
	}
	if (o->region_set && o->compare == NULL) {
		log_warnx("--region applies to --compare");
		return EXIT_USAGE;
	}
	if (password_file != NULL) {
		if (read_password_file(password_file, &o->password) == -1)
			return EXIT_USAGE;
	} else if ((env = getenv("LFBVNC_PASSWORD")) != NULL) {
		if ((o->password = strdup(env)) == NULL) {
			log_warn("strdup");
			return EXIT_USAGE;
		}
	}
	if (o->compare != NULL) {
		if (image_load(o->compare, &o->ref) == -1)
			return EXIT_USAGE;
		if (o->region_set &&
		    ((uint64_t)o->region.x + o->region.w > o->ref.width ||
		    (uint64_t)o->region.y + o->region.h > o->ref.height)) {
			log_warnx("--region %u,%u,%u,%u is outside the %ux%u "
			    "reference", o->region.x, o->region.y,
			    o->region.w, o->region.h, o->ref.width,
			    o->ref.height);
			return EXIT_USAGE;
		}
	}
	return 0;
}

static void
opts_free(struct opts *o)
{
	size_t i;

	if (o->password != NULL) {
		explicit_bzero(o->password, strlen(o->password));
		free(o->password);
	}
	free(o->encodings);
	probe_target_free(&o->target);
	image_free(&o->ref);
	for (i = 0; i < o->nevents; i++)
		free(o->events[i].keys);
}

int
main(int argc, char **argv)
{
	static struct opts o;	/* large (the event arrays): not on the stack */
	struct probe p;
	int rc;

	log_init(argv[0], 0);
	memset(&p, 0, sizeof(p));
	p.o = &o;
	rc = parse_args(argc, argv, &o);
	if (rc == -1) {
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	log_setverbose(o.verbose);
	rfbEnableClientLogging = o.verbose >= 2;

	rc = probe_run(&p);
	dvec_sort(&p.latency);
	dvec_sort(&p.rects_per_update);
	if (o.json)
		report_json(&p, rc);
	else
		report_text(&p);
	fflush(stdout);
	probe_free(&p);
out:
	opts_free(&o);
	return rc;
}
