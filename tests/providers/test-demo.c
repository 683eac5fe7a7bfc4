/*
 * test-demo.c - lfbvnc-demo end to end through the consumer API.
 *
 * Usage: test-demo TRACKER (kvm, uffd or none); test-demo-TRACKER.sh run
 * it.  Starts lfbvnc-demo --tracker TRACKER --workload mix (typing, a
 * blinking cursor, a clock and a 320x180 video), attaches, and scans at
 * ~60 Hz, copying the reported pages into a shadow:
 *  - with a real tracker, replies are not ALL_DIRTY after the first, they
 *    report pages, and far fewer than the screen has (only what changed);
 *    with "none" every reply is ALL_DIRTY;
 *  - checkpoints: SIGUSR2 freezes the demo's screen; scans continue until
 *    three in a row report nothing; the shadow must then equal the
 *    framebuffer (0 lost pages).  A negative control leaves one changed,
 *    reported page out of the shadow before a checkpoint: the comparison
 *    must find it;
 *  - where the provider grants F_TRAP: a trap armed on the frozen screen
 *    fires (EV_TRAP) once it moves again;
 *  - a pointer event draws the pointer where it was sent;
 *  - SIGUSR1 changes the mode: EV_MODE, the new size, an ALL_DIRTY reply;
 *  - SIGTERM: EV_CLOSING, exit status 0, the socket file removed.
 * Bounded by a watchdog and bounded waits; no timing assertions.  Exit 77
 * when the tracker's run-time probe fails on this machine.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lfbshm-consumer.h"
#include "tracker.h"

#define PAGE		4096u
#define WIDTH		1024u
#define HEIGHT		768u
#define READY_MS	20000
#define SCAN_US		16667
#define RUN_SCANS	90	/* ~1.5 s before the checkpoints */
#define CHECKPOINTS	3
#define NEG_CHECKPOINT	1	/* the negative control's checkpoint */
#define WAIT_MS		10000	/* bound on waiting for anything */
#define WATCHDOG_S	90

static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		failures++;						\
	}								\
} while (0)

static pid_t demo_pid = -1;
static char tmpdir[64];
static char sockpath[PATH_MAX];

static struct lfbshm_consumer *c;
static uint64_t *bm;
static size_t nwords;
static uint8_t *shadow;
static const uint8_t *fb;
static size_t fblen;
static struct lfbshm_mode_info mode;

static void
cleanup(void)
{
	if (demo_pid > 0) {
		kill(demo_pid, SIGKILL);
		waitpid(demo_pid, NULL, 0);
		demo_pid = -1;
	}
	if (sockpath[0] != '\0')
		unlink(sockpath);
	if (tmpdir[0] != '\0')
		rmdir(tmpdir);
}

static void die(const char *, ...) __attribute__((__format__(__printf__, 1, 2),
    __noreturn__));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cleanup();
	exit(1);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Start lfbvnc-demo and wait for its "serving" line. */
static void
start_demo(const char *tracker)
{
	const char *top = getenv("top_builddir");
	char prog[PATH_MAX], line[1024];
	struct pollfd pfd;
	uint64_t t0;
	size_t len = 0;
	ssize_t n;
	int p[2];

	snprintf(prog, sizeof(prog), "%s/providers/demo/lfbvnc-demo",
	    top != NULL ? top : ".");
	if (access(prog, X_OK) != 0)
		die("%s not built", prog);
	if (pipe(p) != 0)
		die("pipe: %s", strerror(errno));
	if ((demo_pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (demo_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl(prog, prog, "--socket", sockpath, "--tracker", tracker,
		    "--workload", "mix", "--size", "1024x768", "--seed", "3",
		    (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	t0 = now_ms();
	line[0] = '\0';
	while (strstr(line, "serving") == NULL) {
		if (now_ms() - t0 > READY_MS)
			die("lfbvnc-demo did not start (%s)", line);
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(p[0], line + len, sizeof(line) - 1 - len);
		if (n <= 0)
			die("lfbvnc-demo exited before serving (%s)", line);
		len += (size_t)n;
		line[len] = '\0';
	}
	printf("demo: %s", line);
	close(p[0]);	/* nothing else is printed there */
}

static int
scan(bool *all, uint64_t *ndirty)
{
	struct lfbshm_dirty dr;
	int rc;

	memset(bm, 0, nwords * 8);
	if ((rc = lfbshm_consumer_get_dirty(c, bm, nwords, &dr)) != 0)
		return rc;
	*all = dr.all_dirty || dr.mode_changed;
	*ndirty = dr.dirty_pages;
	return 0;
}

/* Pages of the mode's pixels. */
static size_t
mode_pages(void)
{
	size_t n = ((size_t)mode.stride * mode.height + PAGE - 1) / PAGE;

	return n * PAGE > fblen ? fblen / PAGE : n;
}

/* Copy the reported pages into the shadow, except `skip'. */
static void
copy_dirty(bool all, size_t skip)
{
	size_t pg, np = mode_pages();

	for (pg = 0; pg < np; pg++)
		if ((all || (bm[pg / 64] >> (pg % 64) & 1)) && pg != skip)
			memcpy(shadow + pg * PAGE, fb + pg * PAGE, PAGE);
}

static size_t
compare(size_t *first)
{
	size_t pg, np = mode_pages(), bad = 0;

	*first = SIZE_MAX;
	for (pg = 0; pg < np; pg++)
		if (memcmp(shadow + pg * PAGE, fb + pg * PAGE, PAGE) != 0) {
			if (bad++ == 0)
				*first = pg;
		}
	return bad;
}

static void
sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* Wait for an event bit from the provider; 0 when it came. */
static int
wait_event(uint32_t bit)
{
	struct pollfd pfd;
	uint64_t t0 = now_ms();

	pfd.fd = lfbshm_consumer_notify_fd(c);
	pfd.events = POLLIN;
	while (now_ms() - t0 < WAIT_MS) {
		if (poll(&pfd, 1, 100) > 0 &&
		    (lfbshm_consumer_take_events(c) & bit) != 0)
			return 0;
	}
	return -1;
}

static uint32_t
pixel(uint32_t x, uint32_t y)
{
	uint32_t v;

	memcpy(&v, fb + (size_t)y * mode.stride + x * 4, 4);
	return v & 0xffffff;
}

int
main(int argc, char *argv[])
{
	enum lfbshm_tracker_kind kind;
	uint64_t nd, maxd = 0, t0, sum = 0;
	size_t bad, first, skip = SIZE_MAX, pg;
	char why[256];
	bool all, real, found;
	int rc, i, k, clean, alls = 0, busy = 0, st;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2 || (rc = lfbshm_tracker_kind_parse(argv[1])) < 0) {
		fprintf(stderr, "usage: test-demo kvm|uffd|softdirty|none\n");
		return 2;
	}
	kind = (enum lfbshm_tracker_kind)rc;
	real = kind != LFBSHM_TRACKER_NONE;
	if ((rc = lfbshm_tracker_probe(kind, why, sizeof(why))) != 0) {
		printf("SKIP: tracker %s: %s\n", argv[1], why);
		return 77;
	}
	alarm(WATCHDOG_S);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-demo.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		tmpdir[0] = '\0';
		die("mkdtemp: %s", strerror(errno));
	}
	snprintf(sockpath, sizeof(sockpath), "%s/demo.sock", tmpdir);
	start_demo(argv[1]);

	if ((rc = lfbshm_consumer_open(sockpath, LFBSHM_F_ALL, 5000, &c, why,
	    sizeof(why))) != 0)
		die("attach: %s", why);
	CHECK(((lfbshm_consumer_features(c) & LFBSHM_F_DIRTY) != 0) == real,
	    "F_DIRTY %s granted", real ? "not" : "");
	fb = lfbshm_consumer_fb(c, &fblen);
	nwords = lfbshm_bitmap_words(lfbshm_consumer_npages(c));
	if ((bm = calloc(nwords, 8)) == NULL || (shadow = calloc(1, fblen)) ==
	    NULL)
		die("%s", "out of memory");
	t0 = now_ms();
	while ((rc = lfbshm_consumer_mode(c, &mode)) == -ENODATA &&
	    now_ms() - t0 < WAIT_MS)
		sleep_us(10000);
	if (rc != 0)
		die("mode: %s", lfbshm_consumer_error(c));
	CHECK(mode.width == WIDTH && mode.height == HEIGHT,
	    "mode %ux%u, want %ux%u", mode.width, mode.height, WIDTH, HEIGHT);

	/* scanning: only what changes is reported */
	for (i = 0; i < RUN_SCANS; i++) {
		if ((rc = scan(&all, &nd)) != 0)
			die("get_dirty: %s", lfbshm_consumer_error(c));
		copy_dirty(all, SIZE_MAX);
		if (all)
			alls++;
		else {
			maxd = nd > maxd ? nd : maxd;
			sum += nd;
			busy += nd > 0;
		}
		sleep_us(SCAN_US);
	}
	printf("info: %d scans: %d all dirty, %d with pages, at most %ju "
	    "of %zu pages, %ju in all\n", RUN_SCANS, alls, busy,
	    (uintmax_t)maxd, mode_pages(), (uintmax_t)sum);
	if (real) {
		CHECK(alls == 1, "%d ALL_DIRTY replies, want only the first",
		    alls);
		CHECK(busy > 0, "no scan reported a page");
		/* a 320x180 video, a line of text, a clock: not the screen */
		CHECK(maxd < mode_pages() / 2, "a scan reported %ju of %zu "
		    "pages", (uintmax_t)maxd, mode_pages());
	} else
		CHECK(alls == RUN_SCANS, "%d of %d replies ALL_DIRTY", alls,
		    RUN_SCANS);

	/* checkpoints: freeze the screen; the shadow must equal it */
	for (k = 0; k < CHECKPOINTS; k++) {
		if (k == NEG_CHECKPOINT && real) {
			/* withhold a page that changed and was reported */
			found = false;
			for (t0 = now_ms(); !found && now_ms() - t0 < WAIT_MS;) {
				if ((rc = scan(&all, &nd)) != 0)
					die("get_dirty: %s",
					    lfbshm_consumer_error(c));
				for (pg = 0; !all && pg < mode_pages(); pg++)
					if ((bm[pg / 64] >> (pg % 64) & 1) &&
					    memcmp(shadow + pg * PAGE,
					    fb + pg * PAGE, PAGE) != 0) {
						found = true;
						skip = pg;
						break;
					}
				copy_dirty(all, skip);
				sleep_us(SCAN_US);
			}
			CHECK(found, "negative control: no changed page");
		}
		kill(demo_pid, SIGUSR2);
		clean = 0;
		for (t0 = now_ms(); clean < 3 && now_ms() - t0 < WAIT_MS;) {
			if ((rc = scan(&all, &nd)) != 0)
				die("get_dirty: %s", lfbshm_consumer_error(c));
			copy_dirty(all, skip);
			clean = all || nd > 0 ? 0 : clean + 1;
			sleep_us(50000);
		}
		if (real)
			CHECK(clean == 3, "checkpoint %d: the screen did not "
			    "settle", k);
		bad = compare(&first);
		if (k == NEG_CHECKPOINT && skip != SIZE_MAX) {
			CHECK(bad >= 1 && first == skip, "negative control: "
			    "withheld page %zu, comparison found %zu pages "
			    "from %zu", skip, bad, first);
			printf("ok: negative control: withheld page %zu found\n",
			    skip);
			memcpy(shadow + skip * PAGE, fb + skip * PAGE, PAGE);
			skip = SIZE_MAX;
		} else {
			CHECK(bad == 0, "checkpoint %d: %zu pages lost, first "
			    "%zu", k, bad, first);
			printf("ok: checkpoint %d: 0 lost pages\n", k);
		}
		if (k == 0 && (lfbshm_consumer_features(c) & LFBSHM_F_TRAP)) {
			/* the screen is still: arm the trap, thaw, it fires */
			bool fired = true;

			lfbshm_consumer_take_events(c);
			CHECK(lfbshm_consumer_arm_trap(c, 3, &fired) == 0 &&
			    !fired, "arm_trap on a still screen: %s, fired %d",
			    lfbshm_consumer_error(c), fired);
			kill(demo_pid, SIGUSR2);
			CHECK(wait_event(LFBSHM_EV_TRAP) == 0,
			    "no EV_TRAP after the screen moved");
			printf("ok: trap armed on a still screen fired\n");
		} else
			kill(demo_pid, SIGUSR2);
		for (i = 0; i < 20; i++) {
			if ((rc = scan(&all, &nd)) != 0)
				die("get_dirty: %s", lfbshm_consumer_error(c));
			copy_dirty(all, SIZE_MAX);
			sleep_us(SCAN_US);
		}
	}

	/* input: the pointer appears where it was sent */
	CHECK(lfbshm_consumer_send_pointer(c, 600, 100, 0) == 0,
	    "send_pointer: %s", lfbshm_consumer_error(c));
	for (t0 = now_ms(); now_ms() - t0 < WAIT_MS; sleep_us(SCAN_US)) {
		if ((rc = scan(&all, &nd)) != 0)
			die("get_dirty: %s", lfbshm_consumer_error(c));
		if (pixel(600, 100) == 0 && pixel(601, 102) == 0xffffff)
			break;
	}
	CHECK(pixel(600, 100) == 0 && pixel(601, 102) == 0xffffff,
	    "no pointer at 600,100");

	/* SIGUSR1: the next mode of the demo's list after 1024x768 */
	lfbshm_consumer_take_events(c);
	kill(demo_pid, SIGUSR1);
	CHECK(wait_event(LFBSHM_EV_MODE) == 0, "no EV_MODE after SIGUSR1");
	CHECK(lfbshm_consumer_mode(c, &mode) == 0 && mode.width == 800 &&
	    mode.height == 600, "mode %ux%u after SIGUSR1, want 800x600",
	    mode.width, mode.height);
	if ((rc = scan(&all, &nd)) != 0)
		die("get_dirty: %s", lfbshm_consumer_error(c));
	CHECK(all, "first reply after a mode change not ALL_DIRTY");

	/* SIGTERM: EV_CLOSING, a clean exit, no socket left */
	kill(demo_pid, SIGTERM);
	CHECK(wait_event(LFBSHM_EV_CLOSING) == 0, "no EV_CLOSING");
	lfbshm_consumer_close(c);
	if (waitpid(demo_pid, &st, 0) == demo_pid) {
		demo_pid = -1;
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "lfbvnc-demo exit status %#x", st);
	}
	CHECK(access(sockpath, F_OK) != 0, "socket %s left behind", sockpath);

	free(bm);
	free(shadow);
	cleanup();
	printf("%s: test-demo %s: %d failure(s)\n", failures ? "FAIL" : "PASS",
	    argv[1], failures);
	return failures ? 1 : 0;
}
