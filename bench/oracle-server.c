/*
 * oracle-server - the lower bound on a VNC server's work for the demo
 * workloads: a minimal libvncserver server that draws the workload itself,
 * in process, with the demo renderer (providers/demo/render.c) straight
 * into its framebuffer, and is handed perfect damage: after each frame it
 * marks exactly the rectangles the renderer wrote (demo_damage), in one
 * region, as lfbvncd marks one region per scan.  No tracker, no scan, no
 * shadow copy, no compare: what is left is what any server must do, mark
 * and encode and send.  bench/bench-daemon.sh runs it beside lfbvncd.
 *
 * libvncserver is set up as daemon/vnc.c sets it up: deferUpdateTime 0,
 * threaded client I/O (rfbRunEventLoop in the background: an input and an
 * output thread per client), no cursor, no rectangle cap, XRGB8888.
 *
 * The renderer runs on its own thread, named "oracle-render", paced like
 * lfbvnc-demo (60 frames of demo time per second, --fps frames drawn, late
 * frames skipped), so a benchmark can take its CPU time out: that is the
 * "guest", not the server.  While it draws it holds every client's send
 * lock, as x11vnc and rfbNewFramebuffer do, so no update is encoded from a
 * half-drawn frame and a latency marker is never torn.
 *
 * --marker and --marker-rate are lfbvnc-demo's: the time (CLOCK_MONOTONIC)
 * after the frame's writes, in 8 pixels at X,Y (common/marker.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rfb/rfb.h>
#include <rfb/rfbregion.h>

#include "log.h"
#include "marker.h"
#include "render.h"

_Static_assert(DEMO_MARKER_PIXELS == MARKER_PIXELS,
    "render.h and marker.h disagree on the marker");

#define MAX_W		3840u
#define MAX_H		2160u
#define MIN_W		320u
#define MIN_H		200u
#define BEHIND_MAX	4	/* frames late before frames are skipped */

struct oracle {
	/* options */
	int		 workload;
	uint64_t	 seed;
	uint32_t	 width, height, fps;
	int		 port;
	const char	*listen;
	bool		 marker;
	uint32_t	 mx, my, marker_rate;
	int		 verbose;

	rfbScreenInfoPtr screen;
	uint8_t		*fb;
	struct demo_mode mode;
	struct demo_state *st;

	pthread_t	 thread;
	pthread_mutex_t	 m;
	pthread_cond_t	 cv;		/* CLOCK_MONOTONIC */
	bool		 quit;		/* under m */

	/* render thread only; read at exit */
	uint64_t	 t0, tick, marker_next;
	uint64_t	 frames, skipped, frames_damaged, rects_marked;
	uint64_t	 pixels_marked;
	_Atomic uint32_t nclients;
};

static uint64_t
now_ns(void)
{
	return marker_now_ns();
}

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: oracle-server [-hv] [--workload NAME] [--size WxH] [--fps N]\n"
"                     [--seed N] [--port N] [--listen ADDR]\n"
"                     [--marker X,Y [--marker-rate HZ]]\n"
"\n"
"A VNC server that draws a demo workload itself and marks exactly what\n"
"the renderer wrote: the lower bound on server work (bench/).\n"
"\n"
"  --workload NAME   idle, blink, typing, scroll, drag, video, fullscreen,\n"
"                    sparse or mix (default: idle)\n"
"  --size WxH        %ux%u to %ux%u (default: 1920x1080)\n"
"  --fps N           frames per second, 1 to 240 (default: 60)\n"
"  --seed N          as lfbvnc-demo's (default: 1)\n"
"  --port N          RFB port (default: 5900)\n"
"  --listen ADDR     IPv4 address to listen on (default: 127.0.0.1)\n"
"  --marker X,Y      a latency marker after every frame that writes pixels\n"
"  --marker-rate HZ  also a marker HZ times a second (at most once a frame)\n"
"  -v                per-second statistics on stderr\n"
"\n"
"SIGINT or SIGTERM stop it; it prints its counters on stderr then.\n",
	    MIN_W, MIN_H, MAX_W, MAX_H);
}

static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s == '\0' || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "AxB" or "A,B" into two numbers. */
static int
parse_pair(const char *s, char sep, uint64_t maxa, uint64_t maxb,
    uint32_t *a, uint32_t *b)
{
	char buf[32], *c;
	uint64_t x, y;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((c = strchr(buf, sep)) == NULL)
		return -1;
	*c = '\0';
	if (parse_u64(buf, maxa, &x) != 0 || parse_u64(c + 1, maxb, &y) != 0)
		return -1;
	*a = (uint32_t)x;
	*b = (uint32_t)y;
	return 0;
}

static void
parse_args(int argc, char *argv[], struct oracle *o)
{
	static const struct option longopts[] = {
		{ "workload", required_argument, NULL, 'w' },
		{ "size", required_argument, NULL, 'g' },
		{ "fps", required_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, 'S' },
		{ "port", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'l' },
		{ "marker", required_argument, NULL, 'm' },
		{ "marker-rate", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int ch;

	o->workload = DEMO_IDLE;
	o->seed = 1;
	o->width = 1920;
	o->height = 1080;
	o->fps = 60;
	o->port = 5900;
	o->listen = "127.0.0.1";
	while ((ch = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			if ((o->workload = demo_workload_parse(optarg)) < 0)
				fatalx("unknown workload \"%s\"", optarg);
			break;
		case 'g':
			if (parse_pair(optarg, 'x', MAX_W, MAX_H, &o->width,
			    &o->height) != 0 || o->width < MIN_W ||
			    o->height < MIN_H)
				fatalx("bad size \"%s\"", optarg);
			break;
		case 'f':
			if (parse_u64(optarg, 240, &v) != 0 || v == 0)
				fatalx("bad fps \"%s\": 1 to 240", optarg);
			o->fps = (uint32_t)v;
			break;
		case 'S':
			if (parse_u64(optarg, UINT64_MAX, &o->seed) != 0)
				fatalx("bad seed \"%s\"", optarg);
			break;
		case 'p':
			if (parse_u64(optarg, 65535, &v) != 0)
				fatalx("bad port \"%s\"", optarg);
			o->port = (int)v;
			break;
		case 'l':
			o->listen = optarg;
			break;
		case 'm':
			if (parse_pair(optarg, ',', MAX_W, MAX_H, &o->mx,
			    &o->my) != 0)
				fatalx("bad marker position \"%s\"", optarg);
			o->marker = true;
			break;
		case 'r':
			if (parse_u64(optarg, 1000, &v) != 0 || v == 0)
				fatalx("bad marker rate \"%s\"", optarg);
			o->marker_rate = (uint32_t)v;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
	if (o->marker_rate != 0 && !o->marker)
		fatalx("--marker-rate needs --marker");
	if (o->marker && ((uint64_t)o->mx + MARKER_PIXELS > o->width ||
	    o->my >= o->height))
		fatalx("the marker does not fit the screen");
}

/* ------------------------------------------------------------ drawing */

/* lfbvnc-demo's pacing: false when asked to quit. */
static bool
pace(struct oracle *o, uint64_t *frame)
{
	uint64_t period = 1000000000u / o->fps, due = o->tick + 1, at, now;
	struct timespec dl;
	bool quit;

	at = o->t0 + due * period;
	dl.tv_sec = (time_t)(at / 1000000000u);
	dl.tv_nsec = (long)(at % 1000000000u);
	pthread_mutex_lock(&o->m);
	while (!o->quit &&
	    pthread_cond_timedwait(&o->cv, &o->m, &dl) != ETIMEDOUT)
		continue;
	quit = o->quit;
	pthread_mutex_unlock(&o->m);
	if (quit)
		return false;
	now = (now_ns() - o->t0) / period;
	if (now > due + BEHIND_MAX) {
		o->skipped += now - due;
		due = now;
	}
	o->tick = due;
	*frame = due * 60 / o->fps;
	o->frames++;
	return true;
}

static bool
marker_forced(struct oracle *o)
{
	uint64_t period, now;

	if (o->marker_rate == 0)
		return false;
	period = 1000000000u / o->marker_rate;
	now = now_ns();
	if (now < o->marker_next)
		return false;
	o->marker_next += period;
	if (o->marker_next <= now)
		o->marker_next = now + period;
	return true;
}

/* Hold every client's send lock: no update is encoded mid-frame. */
static void
lock_clients(struct oracle *o, bool lock)
{
	rfbClientIteratorPtr it;
	rfbClientPtr cl;

	it = rfbGetClientIterator(o->screen);
	while ((cl = rfbClientIteratorNext(it)) != NULL) {
		if (lock)
			LOCK(cl->sendMutex);
		else
			UNLOCK(cl->sendMutex);
	}
	rfbReleaseClientIterator(it);
}

/* One frame (or demo_start's first one when frame is UINT64_MAX). */
static void
draw(struct oracle *o, uint64_t frame)
{
	struct demo_rect r[DEMO_DAMAGE_MAX];
	sraRegionPtr region, rect;
	uint32_t n, i;
	bool forced = marker_forced(o);

	lock_clients(o, true);
	if (frame == UINT64_MAX)
		demo_start(o->st, o->fb, &o->mode, (uint32_t)o->workload,
		    o->seed);
	else
		demo_frame(o->st, o->fb, &o->mode, frame, NULL, 0);
	if (o->marker && (forced || demo_damage(o->st, NULL, 0) > 0))
		demo_marker(o->st, o->fb, &o->mode, o->mx, o->my,
		    marker_now_ns());
	n = demo_damage(o->st, r, DEMO_DAMAGE_MAX);
	lock_clients(o, false);
	if (n == 0)
		return;
	/* the perfect damage, marked once, as lfbvncd marks once a scan */
	region = sraRgnCreate();
	for (i = 0; i < n && i < DEMO_DAMAGE_MAX; i++) {
		rect = sraRgnCreateRect(r[i].x, r[i].y, r[i].x + r[i].w,
		    r[i].y + r[i].h);
		sraRgnOr(region, rect);
		sraRgnDestroy(rect);
		o->pixels_marked += (uint64_t)r[i].w * (uint64_t)r[i].h;
	}
	o->frames_damaged++;
	o->rects_marked += n;
	rfbMarkRegionAsModified(o->screen, region);
	sraRgnDestroy(region);
}

static void *
render_thread(void *arg)
{
	struct oracle *o = arg;
	uint64_t frame;

	draw(o, UINT64_MAX);
	draw(o, 0);
	while (pace(o, &frame))
		draw(o, frame);
	return NULL;
}

/* ------------------------------------------------------------ server */

static void
client_gone(rfbClientPtr cl)
{
	struct oracle *o = cl->screen->screenData;

	atomic_fetch_sub(&o->nclients, 1);
	if (o->verbose)
		log_info("client gone");
}

static enum rfbNewClientAction
new_client(rfbClientPtr cl)
{
	struct oracle *o = cl->screen->screenData;

	cl->clientGoneHook = client_gone;
	atomic_fetch_add(&o->nclients, 1);
	if (o->verbose)
		log_info("client %s", cl->host);
	return RFB_CLIENT_ACCEPT;
}

static void
quiet_log(const char *fmt, ...)
{
	(void)fmt;
}

static void
thread_cpu(pthread_t t, double *s)
{
	clockid_t cid;
	struct timespec ts;

	*s = 0;
	if (pthread_getcpuclockid(t, &cid) == 0 &&
	    clock_gettime(cid, &ts) == 0)
		*s = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	struct oracle *o;
	rfbScreenInfoPtr s;
	rfbPixelFormat *f;
	pthread_condattr_t ca;
	struct timespec ts;
	sigset_t sigs;
	double rcpu;
	int sig;

	log_init(argv[0], 0);
	if ((o = calloc(1, sizeof(*o))) == NULL)
		fatal("calloc");
	parse_args(argc, argv, o);
	log_setverbose(o->verbose);
	o->mode.width = o->width;
	o->mode.height = o->height;
	o->mode.stride = o->width * 4;
	o->mode.format = DEMO_FORMAT_XRGB8888;
	if ((o->fb = calloc(o->height, o->mode.stride)) == NULL ||
	    (o->st = calloc(1, sizeof(*o->st))) == NULL)
		fatal("calloc");
	pthread_mutex_init(&o->m, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->cv, &ca);
	pthread_condattr_destroy(&ca);

	/* every thread inherits the mask; main takes the signals */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!o->verbose) {
		rfbLog = quiet_log;
		rfbErr = quiet_log;
	}
	s = rfbGetScreen(NULL, NULL, (int)o->width, (int)o->height, 8, 3, 4);
	if (s == NULL)
		fatalx("rfbGetScreen");
	o->screen = s;
	s->screenData = o;
	s->desktopName = "oracle";
	s->frameBuffer = (char *)o->fb;
	s->paddedWidthInBytes = (int)o->mode.stride;
	f = &s->serverFormat;	/* XRGB8888, as daemon/vnc.c apply_format */
	f->trueColour = TRUE;
	f->bigEndian = FALSE;
	f->bitsPerPixel = 32;
	f->depth = 24;
	f->redMax = f->greenMax = f->blueMax = 255;
	f->redShift = 16;
	f->greenShift = 8;
	f->blueShift = 0;
	s->bitsPerPixel = 32;
	s->depth = 24;
	s->alwaysShared = TRUE;
	s->deferUpdateTime = 0;
	s->maxRectsPerUpdate = 100000;
	s->cursor = NULL;
	s->newClientHook = new_client;
	s->port = o->port;
	s->ipv6port = 0;
	s->autoPort = FALSE;
	if (inet_pton(AF_INET, o->listen, &s->listenInterface) != 1)
		fatalx("bad listen address \"%s\"", o->listen);

	rfbInitServer(s);
	if (s->listenSock == RFB_INVALID_SOCKET)
		fatalx("cannot listen on %s port %d", o->listen, o->port);
	rfbRunEventLoop(s, -1, TRUE);

	o->t0 = now_ns();
	if (o->marker_rate != 0)
		o->marker_next = o->t0 + 1000000000u / o->marker_rate;
	if (pthread_create(&o->thread, NULL, render_thread, o) != 0)
		fatalx("pthread_create");
	pthread_setname_np(o->thread, "oracle-render");
	printf("oracle-server: %ux%u, workload %s, %u fps, port %d\n",
	    o->width, o->height, demo_workload_name((uint32_t)o->workload),
	    o->fps, o->port);
	fflush(stdout);

	for (;;) {
		ts.tv_sec = 1;
		ts.tv_nsec = 0;
		sig = sigtimedwait(&sigs, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		if (o->verbose)
			log_debug("frames %" PRIu64 ", with damage %" PRIu64
			    ", rects %" PRIu64 ", clients %u", o->frames,
			    o->frames_damaged, o->rects_marked,
			    atomic_load(&o->nclients));
	}
	pthread_mutex_lock(&o->m);
	o->quit = true;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->m);
	thread_cpu(o->thread, &rcpu);
	pthread_join(o->thread, NULL);
	fprintf(stderr, "oracle-server: frames %" PRIu64 " (skipped %" PRIu64
	    "), with damage %" PRIu64 ", rects marked %" PRIu64 ", pixels "
	    "marked %" PRIu64 ", render thread CPU %.3f s\n", o->frames,
	    o->skipped, o->frames_damaged, o->rects_marked, o->pixels_marked,
	    rcpu);
	rfbShutdownServer(s, TRUE);
	s->frameBuffer = NULL;
	rfbScreenCleanup(s);
	free(o->fb);
	free(o->st);
	free(o);
	return 0;
}
