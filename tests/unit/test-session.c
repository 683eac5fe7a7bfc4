/*
 * test-session.c - provider and consumer in one process.
 *
 *  1. The real pair over a scripted tracker (a tiny struct
 *     lfbshm_tracker_ops that reports bitmaps the test sets): handshake,
 *     BUSY with a reason, GET_DIRTY contents, ALL_DIRTY after a mode change
 *     and after TRACK_OFF, ARM_TRAP and a trap fired from another thread
 *     seen as EV_TRAP on the notify fd, the input ring with a full ring,
 *     consumer death and a new consumer, provider death seen as -EPIPE.
 *  2. No tracker: no F_DIRTY, every answer ALL_DIRTY, no mode yet.
 *  3. A hostile provider (built here from wire.h and raw syscalls): bad
 *     handshakes, bad reply flags and sequence numbers, an absurd ring
 *     cons, a mode seqlock stuck odd, a mode out of bounds, a message
 *     after the handshake, a hang-up while a request waits, a timeout and
 *     the lost reply after it.  Each must give its clear error, leave the
 *     process alive and leak no descriptor.
 *  4. A hostile consumer (raw): bad HELLOs, a bad request, an absurd prod.
 *
 * Waits are bounded (10 s) and only guard against hangs; nothing asserts
 * on timing.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "lfbshm.h"
#include "lfbshm-consumer.h"
#include "lfbshm-provider.h"
#include "tracker.h"
#include "wire.h"

#define NPAGES		64
#define FB_SIZE		(NPAGES * 4096)
#define WAIT_MS		10000
#define SKIP		77

static int failures;
static char tmpdir[64];

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, \
		    #cond);						\
		failures++;						\
	}								\
} while (0)

#define CHECK_RC(call, want) do {					\
	int r_ = (call);						\
	if (r_ != (want)) {						\
		fprintf(stderr, "%s:%d: FAIL: %s = %d (%s), want %d\n",	\
		    __FILE__, __LINE__, #call, r_, strerror(-r_), (want)); \
		failures++;						\
	}								\
} while (0)

/* The consumer's last error must name what went wrong. */
#define CHECK_ERR(c, text) do {						\
	const char *e_ = lfbshm_consumer_error(c);			\
	if (strstr(e_, (text)) == NULL) {				\
		fprintf(stderr, "%s:%d: FAIL: error \"%s\" lacks \"%s\"\n", \
		    __FILE__, __LINE__, e_, (text));			\
		failures++;						\
	}								\
} while (0)

static void
sock_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static int
count_fds(void)
{
	DIR *d;
	struct dirent *de;
	int n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;		/* the directory's own descriptor */
}

static int
wait_readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int r;

	while ((r = poll(&pfd, 1, ms)) == -1 && errno == EINTR)
		;
	return r;
}

static int64_t
now_ms_test(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Events accumulated until one of want arrives or ms pass.  A wake-up with
   no event is legal (a consumer's poll loop must tolerate it), so a single
   poll then take is not enough. */
static uint32_t
wait_event(struct lfbshm_consumer *c, uint32_t want, int ms)
{
	int64_t deadline = now_ms_test() + ms;
	uint32_t ev = 0;
	int left;

	while ((ev & want) == 0 &&
	    (left = (int)(deadline - now_ms_test())) > 0) {
		if (wait_readable(lfbshm_consumer_notify_fd(c), left) != 1)
			break;
		ev |= lfbshm_consumer_take_events(c);
	}
	return ev;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A framebuffer memfd sealed against shrinking, as a VMM would make. */
static int
make_fb(size_t size, bool seal)
{
	int fd;

	fd = memfd_create("test-fb", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1)
		return -1;
	if (ftruncate(fd, (off_t)size) == -1 ||
	    (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == -1)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ------------------------------------------------------ scripted tracker */

struct script {
	struct lfbshm_tracker	 t;	/* first */
	pthread_mutex_t		 lock;
	uint64_t		 next[1];	/* 64 pages */
	bool			 stopped;
	bool			 stop_forgets;	/* stop: no ALL next */
	int			 arm_result;
	lfbshm_trap_fn		*fn;
	void			*fn_arg;
	int			 gets, arms, disarms, stops;
};

static int
script_get_dirty(struct lfbshm_tracker *t, uint64_t *bitmap, bool *all)
{
	struct script *s = (struct script *)t;

	pthread_mutex_lock(&s->lock);
	bitmap[0] |= s->next[0];
	s->next[0] = 0;
	*all = s->stopped || s->gets == 0;
	s->stopped = false;
	s->fn = NULL;
	s->gets++;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int
script_arm_trap(struct lfbshm_tracker *t, lfbshm_trap_fn *fn, void *arg)
{
	struct script *s = (struct script *)t;
	int r;

	pthread_mutex_lock(&s->lock);
	s->arms++;
	r = s->arm_result;
	if (r == 0) {
		s->fn = fn;
		s->fn_arg = arg;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int
script_disarm_trap(struct lfbshm_tracker *t)
{
	struct script *s = (struct script *)t;

	pthread_mutex_lock(&s->lock);
	s->disarms++;
	s->fn = NULL;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int
script_stop(struct lfbshm_tracker *t)
{
	struct script *s = (struct script *)t;

	pthread_mutex_lock(&s->lock);
	s->stops++;
	s->stopped = !s->stop_forgets;
	s->fn = NULL;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void
script_close(struct lfbshm_tracker *t)
{
}

static const struct lfbshm_tracker_ops script_ops = {
	.get_dirty = script_get_dirty,
	.arm_trap = script_arm_trap,
	.disarm_trap = script_disarm_trap,
	.stop = script_stop,
	.close = script_close,
};

static void
script_init(struct script *s)
{
	memset(s, 0, sizeof(*s));
	s->t.ops = &script_ops;
	s->t.kind = LFBSHM_TRACKER_UFFD;	/* any real kind */
	s->t.npages = NPAGES;
	s->t.has_trap = true;
	pthread_mutex_init(&s->lock, NULL);
}

static void
script_set(struct script *s, uint64_t bits)
{
	pthread_mutex_lock(&s->lock);
	s->next[0] |= bits;
	pthread_mutex_unlock(&s->lock);
}

/* A write hits the trapped page: the callback runs on another thread. */
static void *
script_fire_thread(void *arg)
{
	struct script *s = arg;
	lfbshm_trap_fn *fn;
	void *fn_arg;

	pthread_mutex_lock(&s->lock);
	fn = s->fn;
	fn_arg = s->fn_arg;
	s->fn = NULL;
	pthread_mutex_unlock(&s->lock);
	if (fn != NULL)
		fn(fn_arg);
	return (void *)(fn != NULL ? (intptr_t)1 : 0);
}

/* -------------------------------------------------------- input recorder */

struct recorder {
	pthread_mutex_t		 lock;
	struct lfbshm_input	 ev[64];
	int			 n;
};

static void
record(void *arg, const struct lfbshm_input *ev)
{
	struct recorder *r = arg;

	pthread_mutex_lock(&r->lock);
	if (r->n < 64)
		r->ev[r->n] = *ev;
	r->n++;
	pthread_mutex_unlock(&r->lock);
}

static int
recorded(struct recorder *r)
{
	int n;

	pthread_mutex_lock(&r->lock);
	n = r->n;
	pthread_mutex_unlock(&r->lock);
	return n;
}

static bool
wait_recorded(struct recorder *r, int n)
{
	int i;

	for (i = 0; i < WAIT_MS && recorded(r) < n; i++)
		sleep_ms(1);
	return recorded(r) >= n;
}

static bool
wait_detached(struct lfbshm_provider *p)
{
	int i;

	for (i = 0; i < WAIT_MS && lfbshm_provider_attached(p); i++)
		sleep_ms(1);
	return !lfbshm_provider_attached(p);
}

/* -------------------------------------------------- 1. the real session */

static void
set_mode(struct lfbshm_provider *p, uint32_t w, uint32_t h)
{
	struct lfbshm_mode_info mi;

	memset(&mi, 0, sizeof(mi));
	mi.width = w;
	mi.height = h;
	mi.stride = w * 4;
	mi.format = LFBSHM_FORMAT_XRGB8888;
	CHECK_RC(lfbshm_provider_set_mode(p, &mi), 0);
}

static void
test_session(void)
{
	struct lfbshm_provider_config cfg;
	struct lfbshm_provider_stats pst;
	struct lfbshm_consumer_stats cst;
	struct lfbshm_provider *p = NULL;
	struct lfbshm_consumer *c = NULL, *c2 = NULL;
	struct lfbshm_mode_info mi;
	struct lfbshm_dirty d;
	struct recorder rec;
	struct script s;
	pthread_t th;
	void *fired_ret;
	uint64_t bm[2];
	uint32_t ev;
	size_t len;
	char path[100], why[256];
	bool fired;
	int fb, i, r;

	script_init(&s);
	memset(&rec, 0, sizeof(rec));
	pthread_mutex_init(&rec.lock, NULL);
	sock_path(path, sizeof(path), "session.sock");
	if ((fb = make_fb(FB_SIZE, true)) == -1) {
		perror("memfd");
		failures++;
		return;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.socket_path = path;
	cfg.fb_fd = fb;
	cfg.fb_map_size = FB_SIZE;
	cfg.tracker = &s.t;
	cfg.features = LFBSHM_F_ALL;
	cfg.input_entries = 16;
	cfg.on_input = record;
	cfg.arg = &rec;
	CHECK_RC(lfbshm_provider_open(&cfg, &p, why, sizeof(why)), 0);
	if (p == NULL) {
		fprintf(stderr, "provider: %s\n", why);
		close(fb);
		return;
	}
	/* A second provider on the same live socket must refuse. */
	{
		struct lfbshm_provider *p2 = NULL;

		CHECK_RC(lfbshm_provider_open(&cfg, &p2, why, sizeof(why)),
		    -EADDRINUSE);
		CHECK(p2 == NULL);
	}
	set_mode(p, 128, 128);
	CHECK_RC(lfbshm_provider_run_thread(p), 0);

	/* Handshake. */
	CHECK_RC(lfbshm_consumer_open(path, LFBSHM_F_ALL, WAIT_MS, &c, why,
	    sizeof(why)), 0);
	if (c == NULL) {
		fprintf(stderr, "consumer: %s\n", why);
		goto out;
	}
	CHECK(lfbshm_consumer_features(c) == LFBSHM_F_ALL);
	CHECK(lfbshm_consumer_fb(c, &len) != NULL && len == FB_SIZE);
	CHECK(lfbshm_consumer_npages(c) == NPAGES);
	CHECK(!lfbshm_consumer_fb_can_shrink(c));
	/* The scripted tracker says it is a uffd one; the WELCOME names it. */
	CHECK(strcmp(lfbshm_consumer_tracker_name(c), "uffd") == 0);
	CHECK_RC(lfbshm_consumer_mode(c, &mi), 0);
	CHECK(mi.width == 128 && mi.height == 128 && mi.stride == 512 &&
	    mi.bpp == 4 && mi.gen == 2);

	/* A second consumer is refused with the provider's reason. */
	CHECK_RC(lfbshm_consumer_open(path, LFBSHM_F_ALL, WAIT_MS, &c2, why,
	    sizeof(why)), -EBUSY);
	CHECK(c2 == NULL);
	CHECK(strstr(why, "busy") != NULL && strstr(why, "pid") != NULL);

	/* The first answer of a session is ALL_DIRTY. */
	CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 1, &d), 0);
	CHECK(d.all_dirty && d.dirty_pages == NPAGES && bm[0] == ~0ull);

	/* Then exactly the pages written. */
	script_set(&s, (1ull << 1) | (1ull << 5) | (1ull << 63));
	bm[0] = bm[1] = 0xdead;
	CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 2, &d), 0);
	CHECK(!d.all_dirty && !d.mode_changed && d.status == 0);
	CHECK(d.dirty_pages == 3 && d.npages == NPAGES && d.mode_gen == 2);
	CHECK(bm[0] == ((1ull << 1) | (1ull << 5) | (1ull << 63)));
	CHECK(bm[1] == 0);
	CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 1, &d), 0);
	CHECK(!d.all_dirty && d.dirty_pages == 0 && bm[0] == 0);
	CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 0, &d), -EINVAL);
	CHECK(lfbshm_consumer_broken(c) == 0);

	/* A mode change: EV_MODE on the notify fd, then ALL_DIRTY. */
	set_mode(p, 64, 64);
	ev = wait_event(c, LFBSHM_EV_MODE, WAIT_MS);
	CHECK((ev & LFBSHM_EV_MODE) != 0 && (ev & LFBSHM_EV_CLOSING) == 0);
	script_set(&s, 1);
	CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 1, &d), 0);
	CHECK(d.all_dirty && d.mode_changed && d.mode_gen == 4);
	CHECK_RC(lfbshm_consumer_mode(c, &mi), 0);
	CHECK(mi.width == 64 && mi.gen == 4);
	script_set(&s, 1ull << 7);
	CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 1, &d), 0);
	CHECK(!d.all_dirty && !d.mode_changed && bm[0] == 1ull << 7);

	/* TRACK_OFF stops the tracker; the next answer is ALL_DIRTY, which
	   the provider guarantees even if the tracker forgets to say so. */
	s.stop_forgets = true;
	CHECK_RC(lfbshm_consumer_track_off(c), 0);
	s.stop_forgets = false;
	CHECK(s.stops == 1);
	CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 1, &d), 0);
	CHECK(d.all_dirty);
	CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 1, &d), 0);
	CHECK(!d.all_dirty && d.dirty_pages == 0);

	/* ARM_TRAP, then a write on another thread: EV_TRAP. */
	CHECK_RC(lfbshm_consumer_arm_trap(c, 3, &fired), 0);
	CHECK(!fired && s.arms == 1);
	CHECK(pthread_create(&th, NULL, script_fire_thread, &s) == 0);
	pthread_join(th, &fired_ret);
	CHECK(fired_ret != NULL);
	ev = wait_event(c, LFBSHM_EV_TRAP, WAIT_MS);
	CHECK((ev & LFBSHM_EV_TRAP) != 0);
	lfbshm_provider_stats(p, &pst);
	CHECK(pst.traps_fired == 1);
	/* A write since the last scan: the trap reports "already fired". */
	s.arm_result = 1;
	CHECK_RC(lfbshm_consumer_arm_trap(c, 3, &fired), 0);
	CHECK(fired);
	s.arm_result = 0;
	CHECK_RC(lfbshm_consumer_arm_trap(c, 3, &fired), 0);
	CHECK(!fired);
	CHECK_RC(lfbshm_consumer_disarm_trap(c), 0);
	CHECK(s.disarms == 1);
	s.arm_result = -EOPNOTSUPP;
	CHECK_RC(lfbshm_consumer_arm_trap(c, 3, &fired), -EOPNOTSUPP);
	s.arm_result = 0;
	CHECK(lfbshm_consumer_broken(c) == 0);

	/* Input round trip. */
	CHECK_RC(lfbshm_consumer_send_key(c, 0xff0d, true), 0);
	CHECK_RC(lfbshm_consumer_send_pointer(c, 10, 20, LFBSHM_BUTTON_LEFT),
	    0);
	CHECK_RC(lfbshm_consumer_send_wheel(c, 0, -2), 0);
	CHECK(wait_recorded(&rec, 3));
	CHECK(rec.ev[0].type == LFBSHM_INPUT_KEY &&
	    rec.ev[0].u.key.keysym == 0xff0d && rec.ev[0].u.key.down == 1);
	CHECK(rec.ev[1].type == LFBSHM_INPUT_POINTER &&
	    rec.ev[1].u.pointer.x == 10 && rec.ev[1].u.pointer.y == 20 &&
	    rec.ev[1].u.pointer.buttons == LFBSHM_BUTTON_LEFT);
	CHECK(rec.ev[2].type == LFBSHM_INPUT_WHEEL &&
	    rec.ev[2].u.wheel.dy == -2);

	/* A full ring drops and counts; nothing is lost of what fitted. */
	lfbshm_provider_stop_thread(p);
	for (i = 0; i < 16; i++)
		CHECK_RC(lfbshm_consumer_send_key(c, 0x61 + (uint32_t)i,
		    true), 0);
	CHECK_RC(lfbshm_consumer_send_key(c, 0x7a, true), -ENOBUFS);
	lfbshm_consumer_stats(c, &cst);
	CHECK(cst.input_dropped == 1 && cst.input_sent == 19);
	CHECK_RC(lfbshm_provider_run_thread(p), 0);
	CHECK(wait_recorded(&rec, 19));
	for (i = 0; i < 16; i++)
		CHECK(rec.ev[3 + i].u.key.keysym == 0x61 + (uint32_t)i);
	CHECK_RC(lfbshm_consumer_send_key(c, 0x7a, false), 0);
	CHECK(wait_recorded(&rec, 20));

	/* The provider checks input too: outside the mode is dropped. */
	CHECK_RC(lfbshm_consumer_send_pointer(c, 1000, 0, 0), 0);
	CHECK_RC(lfbshm_consumer_send_key(c, 0x62, true), 0);
	CHECK(wait_recorded(&rec, 21));
	CHECK(recorded(&rec) == 21 && rec.ev[20].u.key.keysym == 0x62);
	lfbshm_provider_stats(p, &pst);
	CHECK(pst.input_invalid == 1);

	/* Consumer death: the provider turns tracking off and takes the
	   next consumer, whose first answer is ALL_DIRTY. */
	r = s.stops;
	lfbshm_consumer_close(c);
	c = NULL;
	CHECK(wait_detached(p));
	CHECK(s.stops == r + 1);
	CHECK_RC(lfbshm_consumer_open(path, LFBSHM_F_DIRTY, WAIT_MS, &c, why,
	    sizeof(why)), 0);
	if (c == NULL) {
		fprintf(stderr, "consumer again: %s\n", why);
		goto out;
	}
	CHECK(lfbshm_consumer_features(c) == LFBSHM_F_DIRTY);
	CHECK_RC(lfbshm_consumer_arm_trap(c, 1, &fired), -EOPNOTSUPP);
	CHECK_RC(lfbshm_consumer_send_key(c, 1, true), -EOPNOTSUPP);
	CHECK_RC(lfbshm_consumer_mode(c, &mi), 0);
	CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 1, &d), 0);
	CHECK(d.all_dirty);

	/* A consumer without F_MODE_CHANGE cannot follow a change: it is
	   let go and sees the hang-up. */
	set_mode(p, 32, 32);
	CHECK(wait_detached(p));
	ev = wait_event(c, LFBSHM_EV_CLOSING, WAIT_MS);
	CHECK((ev & LFBSHM_EV_CLOSING) != 0);
	CHECK(lfbshm_consumer_broken(c) == -EPIPE);
	lfbshm_consumer_close(c);
	c = NULL;

	/* Provider death: EV_CLOSING, then -EPIPE, and we live on. */
	CHECK_RC(lfbshm_consumer_open(path, LFBSHM_F_ALL, WAIT_MS, &c, why,
	    sizeof(why)), 0);
	if (c == NULL) {
		fprintf(stderr, "consumer 3: %s\n", why);
		goto out;
	}
	lfbshm_provider_stats(p, &pst);
	CHECK(pst.sessions == 3 && pst.refused == 1);
	lfbshm_provider_close(p);
	p = NULL;
	ev = lfbshm_consumer_take_events(c);
	CHECK((ev & LFBSHM_EV_CLOSING) != 0);
	CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 1, &d), -EPIPE);
	CHECK_RC(lfbshm_consumer_mode(c, &mi), -EPIPE);
	CHECK_RC(lfbshm_consumer_send_key(c, 1, true), -EPIPE);
	CHECK(lfbshm_consumer_broken(c) == -EPIPE);
	/* The socket file went with the provider. */
	CHECK(access(path, F_OK) == -1);

out:
	lfbshm_consumer_close(c);
	lfbshm_provider_close(p);
	close(fb);
	pthread_mutex_destroy(&rec.lock);
	pthread_mutex_destroy(&s.lock);
}

/* ----------------------------------------------------- 2. no tracker */

static int raw_connect(const char *);

static void
test_no_tracker(void)
{
	struct lfbshm_provider_config cfg;
	struct lfbshm_provider *p = NULL;
	struct lfbshm_consumer *c = NULL;
	struct lfbshm_mode_info mi;
	struct lfbshm_dirty d;
	struct lfbshm_welcome w;
	uint64_t bm[1];
	char path[100], why[256];
	bool fired;
	int fb, i, stale, silent[4];

	sock_path(path, sizeof(path), "none.sock");
	if ((fb = make_fb(FB_SIZE, false)) == -1) {
		failures++;
		return;
	}
	/* A stale socket file (nobody listens) is replaced. */
	stale = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	{
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		CHECK(bind(stale, (struct sockaddr *)&sun, sizeof(sun)) == 0);
		close(stale);
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.socket_path = path;
	cfg.fb_fd = fb;
	cfg.fb_map_size = FB_SIZE;
	cfg.features = LFBSHM_F_ALL;
	CHECK_RC(lfbshm_provider_open(&cfg, &p, why, sizeof(why)), 0);
	if (p == NULL) {
		fprintf(stderr, "provider: %s\n", why);
		close(fb);
		return;
	}
	CHECK_RC(lfbshm_provider_run_thread(p), 0);
	/* Clients that never send a HELLO cannot lock a consumer out: the
	   one that waited longest makes room, with a reason. */
	for (i = 0; i < 4; i++)
		silent[i] = raw_connect(path);
	CHECK_RC(lfbshm_consumer_open(path, LFBSHM_F_ALL, WAIT_MS, &c, why,
	    sizeof(why)), 0);
	CHECK(silent[0] != -1 && wait_readable(silent[0], WAIT_MS) == 1 &&
	    recv(silent[0], &w, sizeof(w), 0) == sizeof(w) &&
	    w.status == LFBSHM_STATUS_BUSY &&
	    strstr(w.reason, "HELLO") != NULL);
	for (i = 0; i < 4; i++)
		if (silent[i] != -1)
			close(silent[i]);
	if (c != NULL) {
		CHECK((lfbshm_consumer_features(c) &
		    (LFBSHM_F_DIRTY | LFBSHM_F_TRAP)) == 0);
		CHECK(strcmp(lfbshm_consumer_tracker_name(c), "none") == 0);
		CHECK(lfbshm_consumer_fb_can_shrink(c));	/* unsealed */
		CHECK_RC(lfbshm_consumer_mode(c, &mi), -ENODATA);
		CHECK(lfbshm_consumer_broken(c) == 0);
		for (i = 0; i < 3; i++) {
			CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 1, &d), 0);
			CHECK(d.all_dirty && d.dirty_pages == NPAGES);
		}
		CHECK_RC(lfbshm_consumer_arm_trap(c, 1, &fired), -EOPNOTSUPP);
		CHECK_RC(lfbshm_consumer_track_off(c), 0);
		/* Input features go with the missing on_input. */
		CHECK_RC(lfbshm_consumer_send_key(c, 1, true), -EOPNOTSUPP);
	} else
		fprintf(stderr, "consumer: %s\n", why);
	lfbshm_consumer_close(c);
	lfbshm_provider_close(p);
	close(fb);
}

/* ------------------------------------------------- 3. hostile provider */

enum fake_behaviour {
	FAKE_IDLE,		/* never answers */
	FAKE_REPLY,		/* answers with the scripted words */
	FAKE_HANGUP,		/* closes the connection on a kick */
};

struct fake {
	char			 path[100];
	int			 lfd;
	_Atomic int		 conn;
	int			 ctrl_fd, fb_fd, kick, notify, stop;
	uint8_t			*ctrl;
	size_t			 ctrl_len;
	struct lfbshm_header	 h;
	struct lfbshm_welcome	 w;
	struct lfbshm_request	*req;
	struct lfbshm_mode	*mode;
	struct lfbshm_input_ring *ring;
	int			 nfds;		/* descriptors to send */
	_Atomic int		 behaviour;
	uint32_t		 rep_status, rep_flags, rep_seq_delta;
	pthread_t		 th;
	bool			 started;
};

/* A correct provider's region and WELCOME, for the test to spoil. */
static int
fake_init(struct fake *f, const char *name, uint64_t features)
{
	struct sockaddr_un sun;

	memset(f, 0, sizeof(*f));
	f->lfd = f->ctrl_fd = f->fb_fd = f->kick = f->notify = f->stop = -1;
	f->conn = -1;
	f->nfds = LFBSHM_NFDS;
	sock_path(f->path, sizeof(f->path), name);
	unlink(f->path);
	if (lfbshm_header_init(&f->h, 1, features, FB_SIZE, 16) != 0)
		return -1;
	lfbshm_welcome_ok(&f->w, 1, features, 0, FB_SIZE, f->h.ctrl_size);
	f->ctrl_fd = memfd_create("fake-ctrl", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING);
	f->fb_fd = make_fb(FB_SIZE, true);
	f->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->notify = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->ctrl_fd == -1 || f->fb_fd == -1 || f->kick == -1 ||
	    f->notify == -1 || f->stop == -1)
		return -1;
	f->ctrl_len = f->h.ctrl_size;
	if (ftruncate(f->ctrl_fd, (off_t)f->ctrl_len) == -1)
		return -1;
	f->ctrl = mmap(NULL, f->ctrl_len, PROT_READ | PROT_WRITE, MAP_SHARED,
	    f->ctrl_fd, 0);
	if (f->ctrl == MAP_FAILED) {
		f->ctrl = NULL;
		return -1;
	}
	f->req = (struct lfbshm_request *)(f->ctrl + f->h.request_offset);
	f->mode = (struct lfbshm_mode *)(f->ctrl + f->h.mode_offset);
	f->ring = (struct lfbshm_input_ring *)(f->ctrl + f->h.input_offset);

	f->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->path);
	if (f->lfd == -1 ||
	    bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(f->lfd, 4) == -1)
		return -1;
	return 0;
}

static void *
fake_thread(void *arg)
{
	struct fake *f = arg;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 8)];
	} cbuf;
	struct lfbshm_hello h;
	struct pollfd pfd[2];
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	uint32_t seq;
	int fds[8], conn;

	if ((conn = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return NULL;
	f->conn = conn;
	if (recv(conn, &h, sizeof(h), 0) != sizeof(h))
		return NULL;
	fds[0] = f->ctrl_fd;
	fds[1] = f->fb_fd;
	fds[2] = f->kick;
	fds[3] = f->notify;
	fds[4] = f->kick;
	memset(&msg, 0, sizeof(msg));
	memset(&cbuf, 0, sizeof(cbuf));
	iov.iov_base = &f->w;
	iov.iov_len = sizeof(f->w);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (f->nfds > 0) {
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)f->nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)f->nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)f->nfds);
	}
	if (sendmsg(conn, &msg, MSG_NOSIGNAL) != sizeof(f->w))
		return NULL;

	for (;;) {
		pfd[0] = (struct pollfd){ .fd = f->kick, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = f->stop, .events = POLLIN };
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			break;
		if (pfd[1].revents != 0)
			break;
		if (pfd[0].revents == 0)
			continue;
		{
			uint64_t v;

			(void)!read(f->kick, &v, sizeof(v));
		}
		seq = lfbshm_load(&f->req->req_seq, memory_order_acquire);
		switch (f->behaviour) {
		case FAKE_REPLY:
			lfbshm_store(&f->req->rep_status, f->rep_status,
			    memory_order_relaxed);
			lfbshm_store(&f->req->rep_flags, f->rep_flags,
			    memory_order_relaxed);
			lfbshm_store(&f->req->rep_seq, seq + f->rep_seq_delta,
			    memory_order_release);
			{
				uint64_t one = 1;

				(void)!write(f->notify, &one, sizeof(one));
			}
			break;
		case FAKE_HANGUP:
			conn = atomic_exchange(&f->conn, -1);
			if (conn != -1)
				close(conn);
			break;
		default:
			break;
		}
	}
	return NULL;
}

static int
fake_start(struct fake *f)
{
	if (pthread_create(&f->th, NULL, fake_thread, f) != 0)
		return -1;
	f->started = true;
	return 0;
}

static void
fake_fini(struct fake *f)
{
	uint64_t one = 1;
	int conn;

	if (f->started) {
		/* Unblock an accept(2) that never got its consumer. */
		shutdown(f->lfd, SHUT_RDWR);
		(void)!write(f->stop, &one, sizeof(one));
		pthread_join(f->th, NULL);
	}
	if ((conn = atomic_exchange(&f->conn, -1)) != -1)
		close(conn);
	if (f->ctrl != NULL)
		munmap(f->ctrl, f->ctrl_len);
	if (f->lfd != -1)
		close(f->lfd);
	if (f->ctrl_fd != -1)
		close(f->ctrl_fd);
	if (f->fb_fd != -1)
		close(f->fb_fd);
	if (f->kick != -1)
		close(f->kick);
	if (f->notify != -1)
		close(f->notify);
	if (f->stop != -1)
		close(f->stop);
	unlink(f->path);
}

static void
fake_publish(struct fake *f, bool seal)
{
	memcpy(f->ctrl, &f->h, sizeof(f->h));
	if (seal)
		CHECK(fcntl(f->ctrl_fd, F_ADD_SEALS, F_SEAL_SHRINK |
		    F_SEAL_GROW) == 0);
}

/* Open against a spoiled fake: must fail with err and text, cleanly. */
static void
hostile_open(struct fake *f, int err, const char *text, int line)
{
	struct lfbshm_consumer *c = NULL;
	char why[256];
	int r;

	if (fake_start(f) != 0) {
		failures++;
		return;
	}
	r = lfbshm_consumer_open(f->path, LFBSHM_F_ALL, WAIT_MS, &c, why,
	    sizeof(why));
	if (r != err || (c != NULL) != (err == 0) ||
	    (err != 0 && strstr(why, text) == NULL)) {
		fprintf(stderr, "%s:%d: FAIL: open = %d (%s), want %d and "
		    "\"%s\"\n", __FILE__, line, r, why, err, text);
		failures++;
	}
	lfbshm_consumer_close(c);
}

static void
test_hostile_handshake(void)
{
	struct fake f;
	int before = count_fds();

#define SPOIL(setup, err, text) do {					\
	if (fake_init(&f, "fake.sock", LFBSHM_F_DIRTY) != 0) {		\
		perror("fake_init");					\
		failures++;						\
	} else {							\
		setup;							\
		hostile_open(&f, (err), (text), __LINE__);		\
	}								\
	fake_fini(&f);							\
} while (0)

	/* Control: the unspoiled fake is accepted. */
	SPOIL(fake_publish(&f, true), 0, "");
	SPOIL((fake_publish(&f, true), f.h.bitmap_size = 0,
	    memcpy(f.ctrl, &f.h, sizeof(f.h))), -EPROTO,
	    "header.bitmap_size");
	SPOIL((fake_publish(&f, true), f.ctrl[56] = 1), -EPROTO,
	    "header.reserved");
	SPOIL((fake_publish(&f, true), f.nfds = 3), -EPROTO,
	    "3 descriptors");
	SPOIL((fake_publish(&f, true), f.nfds = 5), -EPROTO,
	    "5 descriptors");
	SPOIL(fake_publish(&f, false), -EPROTO, "not sealed");
	SPOIL((fake_publish(&f, false),
	    failures += ftruncate(f.ctrl_fd, 8192) != 0,
	    fake_publish(&f, true)), -EPROTO, "fd.ctrl_size");
	SPOIL((fake_publish(&f, true), f.w.fb_map_offset = 4096), -EPROTO,
	    "fd.fb_size");
	SPOIL((fake_publish(&f, true), f.w.features = LFBSHM_F_ALL | 1ull << 9),
	    -EPROTO, "welcome.features");
	SPOIL((fake_publish(&f, true), f.w.version = 2), -EPROTO,
	    "welcome.version");
	/* A refusal carrying descriptors is a lie too. */
	SPOIL((fake_publish(&f, true),
	    lfbshm_welcome_refuse(&f.w, LFBSHM_STATUS_BUSY, "busy")),
	    -EPROTO, "descriptors");
	SPOIL((fake_publish(&f, true),
	    lfbshm_welcome_refuse(&f.w, LFBSHM_STATUS_VERSION, "v9 only"),
	    f.nfds = 0), -EPROTONOSUPPORT, "v9 only");
#undef SPOIL
	CHECK(count_fds() == before);
}

/* A fake that completed the handshake, and a consumer attached to it. */
static struct lfbshm_consumer *
hostile_attach(struct fake *f, const char *name, int timeout_ms)
{
	struct lfbshm_consumer *c = NULL;
	char why[256];

	if (fake_init(f, name, LFBSHM_F_DIRTY | LFBSHM_F_INPUT_KEY) != 0) {
		perror("fake_init");
		failures++;
		return NULL;
	}
	fake_publish(f, true);
	if (fake_start(f) != 0) {
		failures++;
		return NULL;
	}
	if (lfbshm_consumer_open(f->path, LFBSHM_F_ALL, timeout_ms, &c, why,
	    sizeof(why)) != 0) {
		fprintf(stderr, "FAIL: attach to the fake: %s\n", why);
		failures++;
		return NULL;
	}
	return c;
}

/* A broken consumer stays broken, says so, and is closed cleanly. */
static void
check_broken(struct lfbshm_consumer *c, int err)
{
	struct lfbshm_dirty d;
	uint64_t bm[1];

	CHECK(lfbshm_consumer_broken(c) == err);
	CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 1, &d), err);
	CHECK_RC(lfbshm_consumer_send_key(c, 1, true), err);
	CHECK((lfbshm_consumer_take_events(c) & LFBSHM_EV_CLOSING) != 0);
	/* Once reported, the notify fd goes quiet. */
	CHECK(wait_readable(lfbshm_consumer_notify_fd(c), 0) == 0);
}

static void
test_hostile_session(void)
{
	struct lfbshm_consumer *c;
	struct lfbshm_consumer_stats cst;
	struct lfbshm_mode_info mi;
	struct lfbshm_dirty d;
	struct fake f;
	uint64_t bm[1];
	int before = count_fds(), i;

	/* Undefined reply flag. */
	if ((c = hostile_attach(&f, "h1.sock", WAIT_MS)) != NULL) {
		f.rep_flags = 1u << 5;
		f.behaviour = FAKE_REPLY;
		CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 1, &d), -EPROTO);
		CHECK_ERR(c, "reply.flags");
		check_broken(c, -EPROTO);
	}
	lfbshm_consumer_close(c);
	fake_fini(&f);

	/* A reply to a request we never made. */
	if ((c = hostile_attach(&f, "h2.sock", WAIT_MS)) != NULL) {
		f.rep_seq_delta = 5;
		f.behaviour = FAKE_REPLY;
		CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 1, &d), -EPROTO);
		CHECK_ERR(c, "reply.seq");
		check_broken(c, -EPROTO);
	}
	lfbshm_consumer_close(c);
	fake_fini(&f);

	/* TRAPPED on a GET_DIRTY; and an unknown status. */
	if ((c = hostile_attach(&f, "h3.sock", WAIT_MS)) != NULL) {
		f.rep_flags = LFBSHM_REPLY_TRAPPED;
		f.behaviour = FAKE_REPLY;
		CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 1, &d), -EPROTO);
		CHECK_ERR(c, "reply.flags_op");
	}
	lfbshm_consumer_close(c);
	fake_fini(&f);

	/* An absurd ring cons. */
	if ((c = hostile_attach(&f, "h4.sock", WAIT_MS)) != NULL) {
		CHECK_RC(lfbshm_consumer_send_key(c, 1, true), 0);
		lfbshm_store(&f.ring->cons, 1000, memory_order_release);
		CHECK_RC(lfbshm_consumer_send_key(c, 2, true), -EPROTO);
		CHECK_ERR(c, "ring.index");
		check_broken(c, -EPROTO);
	}
	lfbshm_consumer_close(c);
	fake_fini(&f);

	/* A mode seqlock stuck odd. */
	if ((c = hostile_attach(&f, "h5.sock", WAIT_MS)) != NULL) {
		lfbshm_store(&f.mode->gen, 3, memory_order_release);
		CHECK_RC(lfbshm_consumer_mode(c, &mi), -EPROTO);
		CHECK_ERR(c, "seqlock");
		check_broken(c, -EPROTO);
	}
	lfbshm_consumer_close(c);
	fake_fini(&f);

	/* A mode out of bounds, and an unknown format. */
	if ((c = hostile_attach(&f, "h6.sock", WAIT_MS)) != NULL) {
		f.mode->width = 4096;
		f.mode->height = 4096;
		f.mode->stride = 4096 * 4;
		f.mode->format = LFBSHM_FORMAT_XRGB8888;
		lfbshm_store(&f.mode->gen, 2, memory_order_release);
		CHECK_RC(lfbshm_consumer_mode(c, &mi), -EPROTO);
		CHECK_ERR(c, "mode.bounds");
		check_broken(c, -EPROTO);
	}
	lfbshm_consumer_close(c);
	fake_fini(&f);
	if ((c = hostile_attach(&f, "h7.sock", WAIT_MS)) != NULL) {
		f.mode->width = 16;
		f.mode->height = 16;
		f.mode->stride = 64;
		f.mode->format = 99;
		lfbshm_store(&f.mode->gen, 2, memory_order_release);
		CHECK_RC(lfbshm_consumer_mode(c, &mi), -EPROTO);
		CHECK_ERR(c, "mode.format");
	}
	lfbshm_consumer_close(c);
	fake_fini(&f);

	/* The provider dies while a request waits. */
	if ((c = hostile_attach(&f, "h8.sock", WAIT_MS)) != NULL) {
		f.behaviour = FAKE_HANGUP;
		CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 1, &d), -EPIPE);
		CHECK_ERR(c, "closed");
		check_broken(c, -EPIPE);
	}
	lfbshm_consumer_close(c);
	fake_fini(&f);

	/* A message on the socket after the handshake. */
	if ((c = hostile_attach(&f, "h9.sock", WAIT_MS)) != NULL) {
		CHECK(send(f.conn, "x", 1, MSG_NOSIGNAL) == 1);
		CHECK(wait_readable(lfbshm_consumer_notify_fd(c), WAIT_MS) ==
		    1);
		CHECK((lfbshm_consumer_take_events(c) &
		    LFBSHM_EV_CLOSING) != 0);
		CHECK(lfbshm_consumer_broken(c) == -EPROTO);
		CHECK_ERR(c, "after the handshake");
	}
	lfbshm_consumer_close(c);
	fake_fini(&f);

	/* No answer: a timeout, not a broken consumer.  The late answer is
	   then taken, and the pages it cleared are reported as ALL_DIRTY. */
	if ((c = hostile_attach(&f, "h10.sock", 200)) != NULL) {
		CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 1, &d), -ETIMEDOUT);
		CHECK(lfbshm_consumer_broken(c) == 0);
		CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 1, &d), -ETIMEDOUT);
		lfbshm_store(&f.req->rep_seq, 1, memory_order_release);
		f.behaviour = FAKE_REPLY;
		lfbshm_consumer_set_timeout(c, WAIT_MS);
		for (i = 0; i < 2; i++) {
			CHECK_RC(lfbshm_consumer_get_dirty(c, bm, 1, &d), 0);
			CHECK(d.all_dirty == (i == 0));
		}
		lfbshm_consumer_stats(c, &cst);
		CHECK(cst.timeouts == 2 && cst.lost_replies == 1 &&
		    cst.requests == 3);
	}
	lfbshm_consumer_close(c);
	fake_fini(&f);

	CHECK(count_fds() == before);
}

/* ------------------------------------------------- 4. hostile consumer */

static int
raw_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd != -1 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) ==
	    -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send raw HELLO octets, receive the WELCOME and up to 4 fds. */
static int
raw_hello(int fd, const void *hello, size_t len, struct lfbshm_welcome *w,
    int *fds)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cbuf;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	int n = 0;

	if (send(fd, hello, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    wait_readable(fd, WAIT_MS) != 1)
		return -1;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = w;
	iov.iov_len = sizeof(*w);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	if (recvmsg(fd, &msg, MSG_CMSG_CLOEXEC) != sizeof(*w))
		return -1;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_type == SCM_RIGHTS) {
			n = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds, CMSG_DATA(cm), sizeof(int) * (size_t)n);
		}
	return n;
}

static void
test_hostile_consumer(void)
{
	struct lfbshm_provider_config cfg;
	struct lfbshm_provider_stats pst;
	struct lfbshm_provider *p = NULL;
	struct lfbshm_welcome w;
	struct lfbshm_header h;
	struct lfbshm_hello hello;
	struct lfbshm_request *req;
	struct lfbshm_input_ring *ring;
	struct script s;
	uint8_t *ctrl = NULL;
	uint64_t one = 1;
	char path[100], why[256], b;
	int fb, fd, fds[4], n, i, before = count_fds();

	script_init(&s);
	sock_path(path, sizeof(path), "raw.sock");
	if ((fb = make_fb(FB_SIZE, true)) == -1) {
		failures++;
		return;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.socket_path = path;
	cfg.fb_fd = fb;
	cfg.fb_map_size = FB_SIZE;
	cfg.tracker = &s.t;
	cfg.features = LFBSHM_F_ALL;
	cfg.input_entries = 16;
	CHECK_RC(lfbshm_provider_open(&cfg, &p, why, sizeof(why)), 0);
	if (p == NULL) {
		close(fb);
		return;
	}
	CHECK_RC(lfbshm_provider_run_thread(p), 0);

	/* Bad magic: INVALID, with a reason. */
	lfbshm_hello_init(&hello, 1, 1, LFBSHM_F_ALL);
	hello.magic = 0x12345678;
	if ((fd = raw_connect(path)) != -1) {
		CHECK(raw_hello(fd, &hello, sizeof(hello), &w, fds) == 0);
		CHECK(w.status == LFBSHM_STATUS_INVALID &&
		    strstr(w.reason, "magic") != NULL);
		close(fd);
	} else
		failures++;
	/* Short HELLO: INVALID. */
	if ((fd = raw_connect(path)) != -1) {
		CHECK(raw_hello(fd, &hello, 20, &w, fds) == 0);
		CHECK(w.status == LFBSHM_STATUS_INVALID);
		close(fd);
	} else
		failures++;
	/* Only versions we do not speak: VERSION. */
	lfbshm_hello_init(&hello, 2, 5, LFBSHM_F_ALL);
	if ((fd = raw_connect(path)) != -1) {
		CHECK(raw_hello(fd, &hello, sizeof(hello), &w, fds) == 0);
		CHECK(w.status == LFBSHM_STATUS_VERSION && w.nfds == 0);
		close(fd);
	} else
		failures++;

	/* A proper HELLO, then misbehaviour in the region. */
	lfbshm_hello_init(&hello, 1, 3, LFBSHM_F_ALL | 1ull << 50);
	if ((fd = raw_connect(path)) == -1) {
		failures++;
		goto out;
	}
	n = raw_hello(fd, &hello, sizeof(hello), &w, fds);
	CHECK(n == 4 && w.status == LFBSHM_STATUS_OK && w.version == 1);
	CHECK(w.features == LFBSHM_F_ALL - LFBSHM_F_INPUT_KEY -
	    LFBSHM_F_INPUT_POINTER);	/* no on_input, no unknown bits */
	if (n != 4) {
		close(fd);
		goto out;
	}
	ctrl = mmap(NULL, w.ctrl_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fds[0], 0);
	CHECK(ctrl != MAP_FAILED);
	if (ctrl == MAP_FAILED)
		goto raw_done;
	memcpy(&h, ctrl, sizeof(h));
	req = (struct lfbshm_request *)(ctrl + h.request_offset);
	ring = (struct lfbshm_input_ring *)(ctrl + h.input_offset);

	/* Unknown op: answered EINVAL, the session goes on. */
	req->op = 99;
	lfbshm_store(&req->req_seq, 1, memory_order_release);
	CHECK(write(fds[2], &one, sizeof(one)) == sizeof(one));
	for (i = 0; i < WAIT_MS &&
	    lfbshm_load(&req->rep_seq, memory_order_acquire) != 1; i++)
		sleep_ms(1);
	CHECK(lfbshm_load(&req->rep_seq, memory_order_acquire) == 1);
	CHECK(req->rep_status == EINVAL && req->rep_flags == 0);
	/* Non-zero reserved octets: EINVAL too. */
	req->op = LFBSHM_OP_GET_DIRTY;
	req->req_reserved[10] = 1;
	lfbshm_store(&req->req_seq, 2, memory_order_release);
	CHECK(write(fds[2], &one, sizeof(one)) == sizeof(one));
	for (i = 0; i < WAIT_MS &&
	    lfbshm_load(&req->rep_seq, memory_order_acquire) != 2; i++)
		sleep_ms(1);
	CHECK(req->rep_status == EINVAL);
	lfbshm_provider_stats(p, &pst);
	CHECK(pst.bad_requests == 2 && pst.requests == 2);
	CHECK(lfbshm_provider_attached(p));

	/* An absurd prod: the provider drops us; we see the hang-up. */
	lfbshm_store(&ring->prod, 5000, memory_order_release);
	CHECK(write(fds[2], &one, sizeof(one)) == sizeof(one));
	CHECK(wait_readable(fd, WAIT_MS) == 1);
	CHECK(recv(fd, &b, 1, MSG_DONTWAIT) == 0);
	CHECK(wait_detached(p));
	munmap(ctrl, w.ctrl_size);
raw_done:
	for (i = 0; i < 4; i++)
		close(fds[i]);
	close(fd);
out:
	lfbshm_provider_close(p);
	close(fb);
	pthread_mutex_destroy(&s.lock);
	CHECK(count_fds() == before);
}

int
main(void)
{
	int before;

	log_init("test-session", 0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/lfbshm-test.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		printf("SKIP: mkdtemp: %s\n", strerror(errno));
		return SKIP;
	}
	{
		int fd = memfd_create("probe", MFD_CLOEXEC);

		if (fd == -1) {
			printf("SKIP: memfd_create: %s\n", strerror(errno));
			rmdir(tmpdir);
			return SKIP;
		}
		close(fd);
	}
	before = count_fds();

	test_session();
	test_no_tracker();
	test_hostile_handshake();
	test_hostile_session();
	test_hostile_consumer();

	CHECK(count_fds() == before);
	rmdir(tmpdir);
	if (failures != 0) {
		fprintf(stderr, "test-session: %d failures\n", failures);
		return 1;
	}
	printf("test-session: ok\n");
	return 0;
}
