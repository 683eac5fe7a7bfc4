/*
 * main.c - lfbvnc-demo, the embedded default display provider: a desktop
 * drawn by the demo renderer (render.c) into a framebuffer exported over
 * lfbshm, with the pages written reported by a real write tracker.
 *
 * Framebuffer: a memfd sized for the largest mode (3840x2160x4), sealed
 * against shrinking and growing (the consumer maps it and must never take
 * SIGBUS), mapped shared.  Every mode lives at offset 0 with stride
 * width * 4.
 *
 * Who draws depends on the tracker:
 *   kvm        the memfd mapping is the VRAM memory slot of a small KVM VM
 *              (proto/kvm-vm.h) with dirty logging; the renderer runs as
 *              guest code (guest-main.c) in the vCPU.  The vCPU thread
 *              paces frames inside the guest's per-frame doorbell and
 *              hands over input and mode changes there (demo-guest.h).
 *   uffd, softdirty, none
 *              a host thread calls the renderer at --fps on the mapping.
 * "auto" takes the first of kvm, uffd, softdirty, none whose run-time
 * probe (lfbshm_tracker_probe) passes and which opens, and says why the
 * ones before it were passed over.
 *
 * Threads: the main thread runs the provider (lfbshm_provider_dispatch in
 * a poll loop with a signalfd, the --mode-cycle timer and an eventfd the
 * drawing thread raises if it dies); one drawing thread (the vCPU thread
 * or the host renderer).  Input goes provider -> queue (under d->m) ->
 * the next frame.  Mode changes go main -> d->want (under d->m) -> the
 * drawing side draws the new mode, then publishes it with
 * lfbshm_provider_set_mode, so a consumer never sees a mode before its
 * first frame is in the framebuffer.
 *
 * Signals (taken by the main thread through a signalfd): SIGINT and
 * SIGTERM stop cleanly (the provider raises EV_CLOSING and removes the
 * socket); SIGUSR1 asks for the next mode of mode_list; SIGUSR2 freezes
 * the screen at a frame boundary until the next SIGUSR2, so a test can
 * compare a still framebuffer with what it was told changed.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "marker.h"
#include "lfbshm.h"
#include "lfbshm-provider.h"
#include "tracker.h"
#include "kvm-vm.h"
#include "guest-abi.h"
#include "render.h"
#include "demo-guest.h"

_Static_assert(DEMO_FORMAT_XRGB8888 == LFBSHM_FORMAT_XRGB8888,
    "render.h and lfbshm.h disagree on XRGB8888");
_Static_assert(sizeof(struct guest_input) == sizeof(struct demo_input),
    "guest_input and demo_input differ");
_Static_assert(DEMO_MARKER_PIXELS == MARKER_PIXELS,
    "render.h and marker.h disagree on the marker");
_Static_assert(DG_NARGS <= GUEST_MAILBOX_NARGS, "too many guest arguments");

/* The flat guest image (providers/guest/guest-embed.sh). */
extern const unsigned char demo_guest_image[], demo_guest_image_end[];

#define MAX_W		3840u
#define MAX_H		2160u
#define MIN_W		320u
#define MIN_H		200u
#define FB_SIZE		((((size_t)MAX_W * MAX_H * 4) + 4095) / 4096 * 4096)
#define VM_RAM		(4u << 20)	/* image + 64 KiB state + stack */
#define VRAM_SLOT	1
#define QLEN		256		/* queued input events */
#define DG_QUIT		100		/* doorbell result: stop kvmvm_run */
#define BEHIND_MAX	4		/* frames late before frames are skipped */

/* SIGUSR1 and --mode-cycle step through these. */
static const uint32_t mode_list[][2] = {
	{ 1920, 1080 }, { 1280, 800 }, { 1024, 768 }, { 800, 600 },
	{ 640, 480 },
};
#define NMODES	(sizeof(mode_list) / sizeof(mode_list[0]))

struct opts {
	char		*socket;
	int		 workload;
	uint64_t	 seed;
	uint32_t	 width, height;
	uint32_t	 fps;
	int		 tracker;	/* enum lfbshm_tracker_kind, -1: auto */
	uint32_t	 mode_cycle;	/* seconds, 0: never */
	bool		 marker;	/* --marker */
	uint32_t	 marker_x, marker_y;
	uint32_t	 marker_rate;	/* Hz, 0: only on changing frames */
	int		 verbose;
};

struct demo {
	struct opts	 o;

	int		 memfd;
	uint8_t		*fb;
	struct lfbshm_tracker *tracker;
	struct kvmvm	*vm;
	struct lfbshm_provider *prov;
	struct demo_state *st;		/* host renderer's state */

	pthread_t	 thread;
	bool		 thread_started;
	int		 deathfd;	/* the drawing thread ended early */
	int		 thread_rc;

	pthread_mutex_t	 m;
	pthread_cond_t	 cv;		/* CLOCK_MONOTONIC; wakes the pacer */
	bool		 quit;		/* under m */
	bool		 paused;	/* under m: SIGUSR2 froze the screen */
	struct demo_mode want;		/* under m: mode asked for */
	uint32_t	 want_gen;	/* under m */
	struct demo_input q[QLEN];	/* under m: input for the next frame */
	uint32_t	 qhead, qlen;	/* under m */
	uint64_t	 qdropped;	/* under m */

	/* drawing thread only */
	struct demo_mode cur;		/* mode being drawn */
	uint32_t	 cur_gen;
	uint32_t	 pub_gen;	/* last generation published */
	uint64_t	 t0;		/* ns, CLOCK_MONOTONIC */
	uint64_t	 tick;		/* frame slots since t0 */
	uint64_t	 frames;	/* read racily for -v statistics */
	uint64_t	 skipped;
	uint64_t	 marker_next;	/* ns: the next forced marker */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: lfbvnc-demo [-hv] [--socket PATH] [--workload NAME] [--seed N]\n"
"                   [--size WxH] [--fps N] [--tracker KIND]\n"
"                   [--mode-cycle SECONDS] [--marker X,Y [--marker-rate HZ]]\n"
"\n"
"Serve a synthetic desktop over lfbshm, with the pages written reported\n"
"by a real write tracker.\n"
"\n"
"  --socket PATH       lfbshm socket (default: /run/lfbvnc/demo.sock as\n"
"                      root, else $XDG_RUNTIME_DIR/lfbvnc/demo.sock, else\n"
"                      /tmp/lfbvnc-UID/demo.sock)\n"
"  --workload NAME     idle, blink, typing, scroll, drag, video,\n"
"                      fullscreen, sparse or mix (default: idle)\n"
"  --seed N            the same seed draws the same pixels (default: 1)\n"
"  --size WxH          %ux%u to %ux%u (default: 1280x800)\n"
"  --fps N             frames per second, 1 to 240 (default: 60)\n"
"  --tracker KIND      auto, kvm, uffd, softdirty or none (default: auto,\n"
"                      the first of kvm, uffd, softdirty, none that works)\n"
"  --mode-cycle SECS   switch to the next mode every SECS seconds\n"
"  --marker X,Y        latency marker: after every frame that writes pixels,\n"
"                      write the time (CLOCK_MONOTONIC, taken after the\n"
"                      frame's writes) into the 8 pixels from X,Y, in the\n"
"                      same frame (common/marker.h; lfbvnc-probe --latency\n"
"                      X,Y decodes it).  With the kvm tracker the guest\n"
"                      writes it, with the host's time from the mailbox\n"
"  --marker-rate HZ    also write a marker HZ times a second (at most once a\n"
"                      frame) when nothing else changed: a change of a\n"
"                      1-pixel-high strip, e.g. on the idle workload\n"
"  -v                  verbose: per-second statistics\n"
"  -h                  this help\n"
"\n"
"SIGUSR1 switches to the next mode of 1920x1080, 1280x800, 1024x768,\n"
"800x600, 640x480.  SIGUSR2 freezes the screen (no frame is drawn) until\n"
"the next SIGUSR2.  SIGINT or SIGTERM stop the demo cleanly.\n",
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

static int
parse_size(const char *s, uint32_t *w, uint32_t *h)
{
	char buf[32], *x;
	uint64_t a, b;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((x = strchr(buf, 'x')) == NULL)
		return -1;
	*x = '\0';
	if (parse_u64(buf, MAX_W, &a) != 0 || parse_u64(x + 1, MAX_H, &b) != 0 ||
	    a < MIN_W || b < MIN_H)
		return -1;
	*w = (uint32_t)a;
	*h = (uint32_t)b;
	return 0;
}

static int
parse_xy(const char *s, uint32_t *x, uint32_t *y)
{
	char buf[32], *c;
	uint64_t a, b;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((c = strchr(buf, ',')) == NULL)
		return -1;
	*c = '\0';
	if (parse_u64(buf, MAX_W, &a) != 0 || parse_u64(c + 1, MAX_H, &b) != 0)
		return -1;
	*x = (uint32_t)a;
	*y = (uint32_t)b;
	return 0;
}

/* The default socket; creates its directory (one level) if missing. */
static char *
default_socket(void)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char dir[PATH_MAX], *path;
	mode_t mode = 0700;

	if (geteuid() == 0) {
		snprintf(dir, sizeof(dir), "/run/lfbvnc");
		mode = 0755;
	} else if (rt != NULL && rt[0] == '/')
		snprintf(dir, sizeof(dir), "%s/lfbvnc", rt);
	else
		snprintf(dir, sizeof(dir), "/tmp/lfbvnc-%u",
		    (unsigned)geteuid());
	if (mkdir(dir, mode) == -1 && errno != EEXIST)
		log_warn("mkdir %s", dir);
	if (asprintf(&path, "%s/demo.sock", dir) == -1)
		return NULL;
	return path;
}

static void
parse_args(int argc, char *argv[], struct opts *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "workload", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 'S' },
		{ "size", required_argument, NULL, 'g' },
		{ "fps", required_argument, NULL, 'f' },
		{ "tracker", required_argument, NULL, 't' },
		{ "mode-cycle", required_argument, NULL, 'c' },
		{ "marker", required_argument, NULL, 'm' },
		{ "marker-rate", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int ch;

	memset(o, 0, sizeof(*o));
	o->workload = DEMO_IDLE;
	o->seed = 1;
	o->width = 1280;
	o->height = 800;
	o->fps = 60;
	o->tracker = -1;
	while ((ch = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			free(o->socket);
			if ((o->socket = strdup(optarg)) == NULL)
				fatal("strdup");
			break;
		case 'w':
			if ((o->workload = demo_workload_parse(optarg)) < 0)
				fatalx("unknown workload \"%s\" (try -h)",
				    optarg);
			break;
		case 'S':
			if (parse_u64(optarg, UINT64_MAX, &o->seed) != 0)
				fatalx("bad seed \"%s\"", optarg);
			break;
		case 'g':
			if (parse_size(optarg, &o->width, &o->height) != 0)
				fatalx("bad size \"%s\": WxH from %ux%u to "
				    "%ux%u", optarg, MIN_W, MIN_H, MAX_W,
				    MAX_H);
			break;
		case 'f':
			if (parse_u64(optarg, 240, &v) != 0 || v == 0)
				fatalx("bad fps \"%s\": 1 to 240", optarg);
			o->fps = (uint32_t)v;
			break;
		case 't':
			if (strcmp(optarg, "auto") == 0)
				o->tracker = -1;
			else if ((o->tracker =
			    lfbshm_tracker_kind_parse(optarg)) < 0)
				fatalx("unknown tracker \"%s\": auto, kvm, "
				    "uffd, softdirty or none", optarg);
			break;
		case 'c':
			if (parse_u64(optarg, 86400, &v) != 0 || v == 0)
				fatalx("bad mode-cycle \"%s\": seconds, 1 to "
				    "86400", optarg);
			o->mode_cycle = (uint32_t)v;
			break;
		case 'm':
			if (parse_xy(optarg, &o->marker_x, &o->marker_y) != 0)
				fatalx("bad marker position \"%s\": X,Y",
				    optarg);
			o->marker = true;
			break;
		case 'r':
			if (parse_u64(optarg, 1000, &v) != 0 || v == 0)
				fatalx("bad marker rate \"%s\": 1 to 1000 Hz",
				    optarg);
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
	if (o->marker && ((uint64_t)o->marker_x + MARKER_PIXELS > o->width ||
	    o->marker_y >= o->height))
		fatalx("the marker at %u,%u does not fit %ux%u", o->marker_x,
		    o->marker_y, o->width, o->height);
	if (o->socket == NULL && (o->socket = default_socket()) == NULL)
		fatal("socket path");
}

static void
mode_make(struct demo_mode *m, uint32_t w, uint32_t h)
{
	m->width = w;
	m->height = h;
	m->stride = w * 4;
	m->format = DEMO_FORMAT_XRGB8888;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------ drawing */

/*
 * Wait for the next frame slot; false when asked to quit.  Demo time runs
 * at 60 frames per second whatever --fps is, so the frame number is the
 * slot scaled to 60.  A drawing side more than BEHIND_MAX slots late skips
 * slots instead of racing to catch up.
 */
static bool
pace(struct demo *d, uint64_t *frame)
{
	uint64_t period = 1000000000u / d->o.fps, due = d->tick + 1, at, now;
	struct timespec dl;
	bool quit;

	at = d->t0 + due * period;
	dl.tv_sec = (time_t)(at / 1000000000u);
	dl.tv_nsec = (long)(at % 1000000000u);
	pthread_mutex_lock(&d->m);
	while (!d->quit &&
	    pthread_cond_timedwait(&d->cv, &d->m, &dl) != ETIMEDOUT)
		continue;
	/* frozen: no frame is drawn until SIGUSR2 again (or quit) */
	while (!d->quit && d->paused)
		pthread_cond_wait(&d->cv, &d->m);
	quit = d->quit;
	pthread_mutex_unlock(&d->m);
	if (quit)
		return false;
	now = (now_ns() - d->t0) / period;
	if (now > due + BEHIND_MAX) {
		__atomic_add_fetch(&d->skipped, now - due, __ATOMIC_RELAXED);
		due = now;
	}
	d->tick = due;
	*frame = due * 60 / d->o.fps;
	/* atomics only for the -v statistics the main thread reads */
	__atomic_add_fetch(&d->frames, 1, __ATOMIC_RELAXED);
	return true;
}

/* Publish the mode being drawn once the drawing side has drawn it. */
static void
publish_mode(struct demo *d)
{
	struct lfbshm_mode_info mi;
	int rc;

	if (d->pub_gen == d->cur_gen)
		return;
	d->pub_gen = d->cur_gen;
	memset(&mi, 0, sizeof(mi));
	mi.width = d->cur.width;
	mi.height = d->cur.height;
	mi.stride = d->cur.stride;
	mi.format = LFBSHM_FORMAT_XRGB8888;
	mi.offset = 0;
	if ((rc = lfbshm_provider_set_mode(d->prov, &mi)) != 0)
		log_warnx("set mode %ux%u: %s", mi.width, mi.height,
		    strerror(-rc));
	else
		log_info("mode %ux%u", mi.width, mi.height);
}

/* Under d->m: true and the new mode in d->cur when one was asked for. */
static bool
take_mode_locked(struct demo *d)
{
	if (d->want_gen == d->cur_gen)
		return false;
	d->cur = d->want;
	d->cur_gen = d->want_gen;
	return true;
}

static void
died(struct demo *d)
{
	uint64_t one = 1;

	if (write(d->deathfd, &one, sizeof(one)) != sizeof(one))
		log_warn("eventfd");
}

/* --marker-rate: is a marker due with this frame even if nothing changed? */
static bool
marker_forced(struct demo *d)
{
	uint64_t period, now;

	if (d->o.marker_rate == 0)
		return false;
	period = 1000000000u / d->o.marker_rate;
	now = now_ns();
	if (now < d->marker_next)
		return false;
	d->marker_next += period;
	if (d->marker_next <= now)
		d->marker_next = now + period;	/* late: do not catch up */
	return true;
}

/* Host renderer: the marker after the frame's other writes. */
static void
host_marker(struct demo *d)
{
	bool forced = marker_forced(d);

	if (!d->o.marker)
		return;
	if (forced || demo_damage(d->st, NULL, 0) > 0)
		demo_marker(d->st, d->fb, &d->cur, d->o.marker_x,
		    d->o.marker_y, marker_now_ns());
}

static void *
host_thread(void *arg)
{
	struct demo *d = arg;
	struct demo_input in[QLEN];
	uint64_t frame;
	uint32_t n;
	bool newmode;

	demo_start(d->st, d->fb, &d->cur, (uint32_t)d->o.workload, d->o.seed);
	demo_frame(d->st, d->fb, &d->cur, 0, NULL, 0);
	host_marker(d);
	publish_mode(d);
	while (pace(d, &frame)) {
		pthread_mutex_lock(&d->m);
		newmode = take_mode_locked(d);
		for (n = 0; d->qlen > 0; n++, d->qlen--) {
			in[n] = d->q[d->qhead];
			d->qhead = (d->qhead + 1) % QLEN;
		}
		pthread_mutex_unlock(&d->m);
		if (newmode)
			demo_start(d->st, d->fb, &d->cur,
			    (uint32_t)d->o.workload, d->o.seed);
		demo_frame(d->st, d->fb, &d->cur, frame, in, n);
		host_marker(d);
		if (newmode)
			publish_mode(d);
	}
	return NULL;
}

/*
 * The guest rang a doorbell; on the vCPU thread with the vCPU stopped.
 * DG_DB_FRAME: the guest drew a frame.  Publish a mode it has now drawn,
 * wait for the next frame slot, then hand over the frame number, a new
 * mode and the queued input.
 */
static int
doorbell(void *arg, uint32_t code, uint64_t value)
{
	struct demo *d = arg;
	struct guest_mailbox *mb = kvmvm_mailbox(d->vm);
	struct guest_input ev;
	uint64_t frame;
	bool newmode;

	if (code == DG_DB_STAMP) {
		/* the guest drew a frame and writes the marker next */
		mb->arg[DG_ARG_STAMP] = marker_now_ns();
		return 0;
	}
	if (code != DG_DB_FRAME)
		return 0;	/* kvmvm's own codes */
	if (mb->ret[DG_RET_MODE_GEN] == d->cur_gen) {
		if (mb->ret[DG_RET_MODE_OK] != 1) {
			log_warnx("guest: mode %ux%u does not fit the VRAM",
			    d->cur.width, d->cur.height);
			return -EINVAL;
		}
		publish_mode(d);
	}
	if (!pace(d, &frame))
		return DG_QUIT;

	pthread_mutex_lock(&d->m);
	newmode = take_mode_locked(d);
	/* what the ring cannot take now stays queued for the next frame */
	while (d->qlen > 0) {
		memcpy(&ev, &d->q[d->qhead], sizeof(ev));
		if (kvmvm_input_push(d->vm, &ev) != 0)
			break;
		d->qhead = (d->qhead + 1) % QLEN;
		d->qlen--;
	}
	pthread_mutex_unlock(&d->m);
	if (newmode) {
		mb->width = d->cur.width;
		mb->height = d->cur.height;
		mb->stride = d->cur.stride;
		mb->format = d->cur.format;
		mb->arg[DG_ARG_MODE_GEN] = d->cur_gen;
	}
	mb->arg[DG_ARG_FRAME] = frame;
	mb->arg[DG_ARG_MARKER_FORCE] = marker_forced(d) ? 1 : 0;
	return 0;
}

static void *
vcpu_thread(void *arg)
{
	struct demo *d = arg;
	char why[256];
	int rc;

	rc = kvmvm_run(d->vm, doorbell, d);
	d->thread_rc = rc;
	if (rc == DG_QUIT || rc == KVMVM_STOPPED)
		return NULL;
	if (rc < 0)
		log_warnx("vCPU: %s (%s)", strerror(-rc),
		    kvmvm_why(d->vm, why, sizeof(why)));
	else
		log_warnx("vCPU: the guest stopped (%d: %s)", rc,
		    kvmvm_why(d->vm, why, sizeof(why)));
	died(d);
	return NULL;
}

/* -------------------------------------------------------------- input */

static void
on_input(void *arg, const struct lfbshm_input *ev)
{
	struct demo *d = arg;
	struct demo_input in;
	struct demo_input *last;

	memset(&in, 0, sizeof(in));
	switch (ev->type) {
	case LFBSHM_INPUT_KEY:
		in.type = DEMO_INPUT_KEY;
		in.a = ev->u.key.keysym;
		in.b = ev->u.key.down;
		break;
	case LFBSHM_INPUT_POINTER:
		in.type = DEMO_INPUT_POINTER;
		in.a = ev->u.pointer.x;
		in.b = ev->u.pointer.y;
		in.c = ev->u.pointer.buttons;
		break;
	case LFBSHM_INPUT_WHEEL:
		in.type = DEMO_INPUT_WHEEL;
		in.a = (uint32_t)ev->u.wheel.dx;
		in.b = (uint32_t)ev->u.wheel.dy;
		break;
	default:
		return;
	}
	pthread_mutex_lock(&d->m);
	last = d->qlen > 0 ? &d->q[(d->qhead + d->qlen - 1) % QLEN] : NULL;
	if (last != NULL && in.type == DEMO_INPUT_POINTER &&
	    last->type == DEMO_INPUT_POINTER && last->c == in.c)
		*last = in;	/* motion only: the latest position will do */
	else if (d->qlen < QLEN)
		d->q[(d->qhead + d->qlen++) % QLEN] = in;
	else
		d->qdropped++;
	pthread_mutex_unlock(&d->m);
}

/* Main thread: freeze or thaw the screen (at a frame boundary). */
static void
toggle_pause(struct demo *d)
{
	bool paused;

	pthread_mutex_lock(&d->m);
	paused = d->paused = !d->paused;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->m);
	log_info("%s", paused ? "paused" : "resumed");
}

/* Main thread: ask the drawing side for the next mode of the list. */
static void
next_mode(struct demo *d)
{
	size_t i;

	pthread_mutex_lock(&d->m);
	for (i = 0; i < NMODES; i++)
		if (mode_list[i][0] == d->want.width &&
		    mode_list[i][1] == d->want.height)
			break;
	i = i < NMODES ? (i + 1) % NMODES : 0;
	mode_make(&d->want, mode_list[i][0], mode_list[i][1]);
	d->want_gen++;
	pthread_mutex_unlock(&d->m);
	log_info("switching to %ux%u", mode_list[i][0], mode_list[i][1]);
}

/* ----------------------------------------------------------- trackers */

static int
open_kvm(struct demo *d, char *why, size_t whylen)
{
	struct guest_mailbox *mb;
	int rc;

	if ((rc = kvmvm_create(&d->vm, VM_RAM, why, whylen)) != 0)
		return rc;
	if ((rc = kvmvm_add_slot(d->vm, VRAM_SLOT, GUEST_VRAM_GPA, d->fb,
	    FB_SIZE, 0)) != 0) {
		snprintf(why, whylen, "VRAM slot: %s", strerror(-rc));
		goto fail;
	}
	if ((rc = kvmvm_load(d->vm, demo_guest_image,
	    (size_t)(demo_guest_image_end - demo_guest_image))) != 0) {
		snprintf(why, whylen, "loading the guest: %s", strerror(-rc));
		goto fail;
	}
	mb = kvmvm_mailbox(d->vm);
	mb->vram_gpa = GUEST_VRAM_GPA;
	mb->vram_size = FB_SIZE;
	mb->width = d->cur.width;
	mb->height = d->cur.height;
	mb->stride = d->cur.stride;
	mb->format = d->cur.format;
	if ((rc = lfbshm_tracker_kvm_open(d->vm, VRAM_SLOT, GUEST_VRAM_GPA,
	    d->fb, FB_SIZE, &d->tracker, why, whylen)) != 0)
		goto fail;
	return 0;
fail:
	kvmvm_destroy(d->vm);
	d->vm = NULL;
	return rc;
}

static int
open_tracker(struct demo *d, enum lfbshm_tracker_kind kind, char *why,
    size_t whylen)
{
	int rc;

	if ((rc = lfbshm_tracker_probe(kind, why, whylen)) != 0)
		return rc;
	switch (kind) {
	case LFBSHM_TRACKER_KVM:
		return open_kvm(d, why, whylen);
	case LFBSHM_TRACKER_UFFD:
		return lfbshm_tracker_uffd_open(d->fb, FB_SIZE, &d->tracker,
		    why, whylen);
	case LFBSHM_TRACKER_SOFTDIRTY:
		return lfbshm_tracker_softdirty_open(d->fb, FB_SIZE,
		    &d->tracker, why, whylen);
	case LFBSHM_TRACKER_NONE:
		return lfbshm_tracker_none_open(FB_SIZE, &d->tracker);
	default:
		snprintf(why, whylen, "not a tracker for this demo");
		return -EINVAL;
	}
}

static const char *
tracker_story(enum lfbshm_tracker_kind kind)
{
	switch (kind) {
	case LFBSHM_TRACKER_KVM:
		return "guest code in a KVM vCPU draws into a dirty-logged "
		    "memory slot";
	case LFBSHM_TRACKER_UFFD:
		return "a host thread draws; userfaultfd write-protect + "
		    "PAGEMAP_SCAN";
	case LFBSHM_TRACKER_SOFTDIRTY:
		return "a host thread draws; soft-dirty page bits";
	default:
		return "a host thread draws; no tracking, every scan is "
		    "all dirty";
	}
}

static int
choose_tracker(struct demo *d)
{
	static const enum lfbshm_tracker_kind order[] = {
		LFBSHM_TRACKER_KVM, LFBSHM_TRACKER_UFFD,
		LFBSHM_TRACKER_SOFTDIRTY, LFBSHM_TRACKER_NONE,
	};
	char why[256];
	size_t i;
	int rc;

	if (d->o.tracker >= 0) {
		why[0] = '\0';
		if ((rc = open_tracker(d, d->o.tracker, why, sizeof(why))) != 0) {
			log_warnx("tracker %s: %s",
			    lfbshm_tracker_kind_name(d->o.tracker),
			    why[0] != '\0' ? why : strerror(-rc));
			return rc;
		}
		log_info("tracker %s (asked for): %s",
		    lfbshm_tracker_kind_name(d->o.tracker),
		    tracker_story(d->o.tracker));
		return 0;
	}
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		why[0] = '\0';
		if ((rc = open_tracker(d, order[i], why, sizeof(why))) == 0) {
			log_info("tracker %s (auto): %s",
			    lfbshm_tracker_kind_name(order[i]),
			    tracker_story(order[i]));
			return 0;
		}
		log_info("tracker %s rejected: %s",
		    lfbshm_tracker_kind_name(order[i]),
		    why[0] != '\0' ? why : strerror(-rc));
	}
	return -ENODEV;
}

/* ------------------------------------------------------------ main */

static int
start_drawing(struct demo *d)
{
	uint64_t args[DG_NARGS];
	int64_t seq;
	int rc;

	d->cur_gen = d->want_gen = 1;
	d->want = d->cur;
	d->t0 = now_ns();
	if (d->o.marker_rate != 0)
		d->marker_next = d->t0 + 1000000000u / d->o.marker_rate;
	if (d->vm != NULL) {
		args[DG_ARG_WORKLOAD] = (uint64_t)d->o.workload;
		args[DG_ARG_SEED] = d->o.seed;
		args[DG_ARG_FRAME] = 0;
		args[DG_ARG_MODE_GEN] = d->cur_gen;
		args[DG_ARG_MARKER] = d->o.marker ? DG_MARKER_ON |
		    (uint64_t)d->o.marker_y << 32 | d->o.marker_x : 0;
		args[DG_ARG_MARKER_FORCE] = 0;
		args[DG_ARG_STAMP] = 0;
		if ((seq = kvmvm_cmd_post(d->vm, DG_CMD_RUN, args, DG_NARGS, NULL,
		    0)) < 0) {
			log_warnx("guest: posting RUN: %s",
			    strerror((int)-seq));
			return (int)seq;
		}
		rc = pthread_create(&d->thread, NULL, vcpu_thread, d);
	} else {
		if ((d->st = calloc(1, sizeof(*d->st))) == NULL)
			return -ENOMEM;
		rc = pthread_create(&d->thread, NULL, host_thread, d);
	}
	if (rc != 0) {
		log_warnx("pthread_create: %s", strerror(rc));
		return -rc;
	}
	d->thread_started = true;
	return 0;
}

static void
stop_drawing(struct demo *d)
{
	if (!d->thread_started)
		return;
	pthread_mutex_lock(&d->m);
	d->quit = true;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->m);
	/* a vCPU busy drawing is kicked out of KVM_RUN */
	if (d->vm != NULL)
		kvmvm_stop(d->vm);
	pthread_join(d->thread, NULL);
	d->thread_started = false;
}

static int
open_fb(struct demo *d)
{
	d->memfd = memfd_create("lfbvnc-demo-fb", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING);
	if (d->memfd == -1) {
		log_warn("memfd_create");
		return -1;
	}
	if (ftruncate(d->memfd, (off_t)FB_SIZE) == -1) {
		log_warn("ftruncate");
		return -1;
	}
	/* the consumer maps it: it must never shrink under it (SIGBUS) */
	if (fcntl(d->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == -1) {
		log_warn("F_ADD_SEALS");
		return -1;
	}
	d->fb = mmap(NULL, FB_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    d->memfd, 0);
	if (d->fb == MAP_FAILED) {
		d->fb = NULL;
		log_warn("mmap");
		return -1;
	}
	return 0;
}

static int
serve(struct demo *d, int sigfd, int timerfd)
{
	struct lfbshm_provider_stats ps;
	struct signalfd_siginfo si;
	struct pollfd pfd[4];
	uint64_t n, lastframes = 0, lastdropped = 0, dropped;
	int rc, nfd;

	pfd[0].fd = lfbshm_provider_fd(d->prov);
	pfd[1].fd = sigfd;
	pfd[2].fd = d->deathfd;
	pfd[3].fd = timerfd;
	nfd = timerfd != -1 ? 4 : 3;
	for (;;) {
		for (rc = 0; rc < nfd; rc++) {
			pfd[rc].events = POLLIN;
			pfd[rc].revents = 0;
		}
		rc = poll(pfd, (nfds_t)nfd, d->o.verbose ? 1000 : -1);
		if (rc == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			return 1;
		}
		if (rc == 0) {
			lfbshm_provider_stats(d->prov, &ps);
			pthread_mutex_lock(&d->m);
			dropped = d->qdropped;
			pthread_mutex_unlock(&d->m);
			n = __atomic_load_n(&d->frames, __ATOMIC_RELAXED);
			log_debug("%" PRIu64 " frames/s, %" PRIu64 " skipped, "
			    "sessions %" PRIu64 ", requests %" PRIu64
			    ", input %" PRIu64 " (%" PRIu64 " dropped)",
			    n - lastframes,
			    __atomic_load_n(&d->skipped, __ATOMIC_RELAXED),
			    ps.sessions, ps.requests, ps.input_events,
			    dropped - lastdropped);
			lastframes = n;
			lastdropped = dropped;
			continue;
		}
		if (pfd[0].revents != 0 &&
		    (rc = lfbshm_provider_dispatch(d->prov)) != 0) {
			log_warnx("provider: %s", strerror(-rc));
			return 1;
		}
		if (pfd[2].revents != 0)
			return 1;	/* the drawing thread said why */
		if (nfd > 3 && pfd[3].revents != 0) {
			if (read(timerfd, &n, sizeof(n)) == sizeof(n))
				next_mode(d);
		}
		if (pfd[1].revents != 0) {
			if (read(sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGUSR1)
				next_mode(d);
			else if (si.ssi_signo == SIGUSR2)
				toggle_pause(d);
			else {
				log_info("%s: stopping",
				    strsignal((int)si.ssi_signo));
				return 0;
			}
		}
	}
}

int
main(int argc, char *argv[])
{
	struct lfbshm_provider_config cfg;
	struct itimerspec its;
	pthread_condattr_t ca;
	struct demo *d;
	sigset_t sigs;
	char why[256];
	int sigfd = -1, timerfd = -1, rc, status = 1;

	log_init(argv[0], 0);
	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal("calloc");
	parse_args(argc, argv, &d->o);
	log_setverbose(d->o.verbose);
	if (d->o.marker) {
		/* the renderer's copy of marker_encode must agree with it */
		uint32_t a[MARKER_PIXELS], b[MARKER_PIXELS];
		uint64_t t = 0x0123456789abcdefull;

		demo_marker_pixels(a, t);
		marker_encode(b, t);
		if (memcmp(a, b, sizeof(a)) != 0)
			fatalx("demo_marker_pixels and marker_encode differ");
	}
	d->memfd = -1;
	d->deathfd = -1;
	mode_make(&d->cur, d->o.width, d->o.height);
	pthread_mutex_init(&d->m, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cv, &ca);
	pthread_condattr_destroy(&ca);

	/* every thread inherits the mask; the main thread takes the signals */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGUSR2);
	if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0 ||
	    (sigfd = signalfd(-1, &sigs, SFD_CLOEXEC)) == -1) {
		log_warn("signalfd");
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((d->deathfd = eventfd(0, EFD_CLOEXEC)) == -1) {
		log_warn("eventfd");
		goto out;
	}
	if (d->o.mode_cycle > 0) {
		if ((timerfd = timerfd_create(CLOCK_MONOTONIC,
		    TFD_CLOEXEC)) == -1) {
			log_warn("timerfd_create");
			goto out;
		}
		memset(&its, 0, sizeof(its));
		its.it_value.tv_sec = d->o.mode_cycle;
		its.it_interval.tv_sec = d->o.mode_cycle;
		if (timerfd_settime(timerfd, 0, &its, NULL) == -1) {
			log_warn("timerfd_settime");
			goto out;
		}
	}

	if (open_fb(d) != 0)
		goto out;
	if (choose_tracker(d) != 0) {
		log_warnx("no usable tracker");
		goto out;
	}

	memset(&cfg, 0, sizeof(cfg));
	cfg.socket_path = d->o.socket;
	cfg.fb_fd = d->memfd;
	cfg.fb_map_offset = 0;
	cfg.fb_map_size = FB_SIZE;
	cfg.tracker = d->tracker;
	cfg.features = LFBSHM_F_ALL;
	cfg.on_input = on_input;
	cfg.arg = d;
	why[0] = '\0';
	if ((rc = lfbshm_provider_open(&cfg, &d->prov, why, sizeof(why))) != 0) {
		log_warnx("%s: %s", d->o.socket,
		    why[0] != '\0' ? why : strerror(-rc));
		goto out;
	}
	if (start_drawing(d) != 0)
		goto out;

	printf("lfbvnc-demo: serving %s: %ux%u, workload %s, seed %" PRIu64
	    ", %u fps, tracker %s\n", d->o.socket, d->o.width, d->o.height,
	    demo_workload_name((uint32_t)d->o.workload), d->o.seed, d->o.fps,
	    lfbshm_tracker_kind_name(d->tracker->kind));
	fflush(stdout);

	status = serve(d, sigfd, timerfd);

out:
	stop_drawing(d);
	/* closing raises EV_CLOSING for a consumer and removes the socket */
	lfbshm_provider_close(d->prov);
	if (d->tracker != NULL)
		lfbshm_tracker_close(d->tracker);
	if (d->vm != NULL)
		kvmvm_destroy(d->vm);
	if (d->fb != NULL)
		munmap(d->fb, FB_SIZE);
	if (d->memfd != -1)
		close(d->memfd);
	if (d->deathfd != -1)
		close(d->deathfd);
	if (timerfd != -1)
		close(timerfd);
	if (sigfd != -1)
		close(sigfd);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->m);
	free(d->st);
	free(d->o.socket);
	free(d);
	return status;
}
