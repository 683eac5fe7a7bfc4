/*
 * test-xvfb.c - lfbvnc-xvfb end to end, with real X clients.
 *
 * Starts lfbvnc-xvfb (which starts Xvfb with the preload shim), runs an
 * xterm printing `ls -lR` in a loop and an xclock on it, attaches with
 * the consumer API and scans at ~60 Hz, copying the reported pages into a
 * shadow.  At each checkpoint Xvfb is stopped (SIGSTOP, every thread), a
 * final scan is copied, and the shadow must equal the screen file: 0 lost
 * pages.  A negative control skips one changed page before a checkpoint;
 * the comparison must then find it.  Nobody here draws: the pixels come
 * from the X server, the dirty pages from the kernel's write tracking.
 *
 * Bounded (a watchdog alarm; ~10 s), no timing assertions.  Exit 77 when
 * Xvfb, xterm or xclock is missing or the kernel has no async
 * write-protect (the tracker is then "none", which tests nothing here).
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
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

#define PAGE		4096u
#define SIZE_ARG	"1024x768"
#define READY_MS	15000
#define RUN_MS		7000	/* scanning, checkpoints included */
#define CHECK_EVERY_MS	1000
#define SCAN_US		16667	/* ~60 Hz */
#define NEG_CHECKPOINT	2	/* the negative control starts here */
#define WATCHDOG_S	60

static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		failures++;						\
	}								\
} while (0)

struct run {
	char		 dir[64];
	char		 sock[128];
	pid_t		 prov;		/* lfbvnc-xvfb */
	int		 prov_out;	/* its stdout */
	pid_t		 xvfb;
	pid_t		 clients[3];
	char		 typed[128];	/* what the input xterm's cat writes */
	char		 display[32];
	char		 tracker[32];
	struct lfbshm_consumer *c;
};

static struct run R = { .prov = -1, .prov_out = -1, .xvfb = -1,
    .clients = { -1, -1, -1 } };

static void __attribute__((__noreturn__))
skip(const char *fmt, ...)
{
	va_list ap;

	printf("SKIP: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(77);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
in_path(const char *prog)
{
	char buf[PATH_MAX];
	const char *path = getenv("PATH"), *p, *e;

	if (path == NULL)
		path = "/usr/bin:/bin";
	for (p = path; *p != '\0'; p = *e ? e + 1 : e) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		if (snprintf(buf, sizeof(buf), "%.*s/%s", (int)(e - p), p,
		    prog) < (int)sizeof(buf) && access(buf, X_OK) == 0)
			return true;
	}
	return false;
}

/* fork + exec; the child dies with us (no stray X clients after a
   crash of the test). */
static pid_t
spawn(char *const argv[], int out_fd, const char *display)
{
	pid_t pid, parent = getpid();
	int devnull;

	pid = fork();
	if (pid != 0)
		return pid;
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	if (display != NULL)
		setenv("DISPLAY", display, 1);
	if (out_fd >= 0)
		dup2(out_fd, STDOUT_FILENO);
	else if ((devnull = open("/dev/null", O_WRONLY)) >= 0) {
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
	}
	execvp(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static void
reap(pid_t *pid, int sig, const char *what)
{
	int64_t deadline = now_ms() + 5000;
	int status;

	if (*pid <= 0)
		return;
	(void)kill(*pid, sig);
	while (waitpid(*pid, &status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			fprintf(stderr, "%s did not exit; killing it\n", what);
			kill(*pid, SIGKILL);
			waitpid(*pid, &status, 0);
			break;
		}
		poll(NULL, 0, 10);
	}
	*pid = -1;
}

static void
cleanup(void)
{
	int i;

	lfbshm_consumer_close(R.c);
	R.c = NULL;
	if (R.xvfb > 0)
		(void)kill(R.xvfb, SIGCONT);
	for (i = 0; i < 3; i++)
		reap(&R.clients[i], SIGTERM, "X client");
	if (R.typed[0] != '\0')
		(void)unlink(R.typed);
	reap(&R.prov, SIGTERM, "lfbvnc-xvfb");
	if (R.prov_out >= 0)
		close(R.prov_out);
	R.prov_out = -1;
	if (R.sock[0] != '\0')
		(void)unlink(R.sock);
	if (R.dir[0] != '\0')
		(void)rmdir(R.dir);
}

static void
watchdog(int sig)
{
	static const char msg[] = "test-xvfb: watchdog expired\n";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	if (R.xvfb > 0)
		kill(R.xvfb, SIGCONT);
	_exit(99);
}

/* Copy "key=value" out of the ready line; false if absent. */
static bool
field(const char *line, const char *key, char *out, size_t len)
{
	const char *p = line;
	size_t klen = strlen(key), n;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=') {
			p += klen + 1;
			n = strcspn(p, " \n");
			if (n >= len)
				return false;
			memcpy(out, p, n);
			out[n] = '\0';
			return true;
		}
		p += klen;
	}
	return false;
}

static void
start_provider(void)
{
	char bin[PATH_MAX], line[512], pid[16];
	const char *top = getenv("top_builddir");
	char *argv[8];
	int p[2];
	size_t have = 0;
	int64_t deadline;
	ssize_t n;

	snprintf(bin, sizeof(bin), "%s/providers/xvfb/lfbvnc-xvfb",
	    top != NULL ? top : ".");
	if (access(bin, X_OK) != 0)
		skip("%s not built", bin);
	snprintf(R.dir, sizeof(R.dir), "/tmp/test-xvfb.XXXXXX");
	if (mkdtemp(R.dir) == NULL) {
		R.dir[0] = '\0';
		skip("mkdtemp: %s", strerror(errno));
	}
	snprintf(R.sock, sizeof(R.sock), "%s/lfbshm.sock", R.dir);
	if (pipe2(p, O_CLOEXEC) == -1)
		skip("pipe: %s", strerror(errno));

	argv[0] = bin;
	argv[1] = "--socket";
	argv[2] = R.sock;
	argv[3] = "--size";
	argv[4] = SIZE_ARG;
	argv[5] = NULL;
	R.prov = spawn(argv, p[1], NULL);
	close(p[1]);
	R.prov_out = p[0];

	deadline = now_ms() + READY_MS;
	for (;;) {
		struct pollfd pfd = { .fd = R.prov_out, .events = POLLIN };
		int64_t left = deadline - now_ms();

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
			fprintf(stderr, "FAIL: lfbvnc-xvfb not ready in %d "
			    "ms\n", READY_MS);
			cleanup();
			exit(1);
		}
		n = read(R.prov_out, line + have, sizeof(line) - 1 - have);
		if (n <= 0) {
			fprintf(stderr, "FAIL: lfbvnc-xvfb exited before it "
			    "was ready\n");
			cleanup();
			exit(1);
		}
		have += (size_t)n;
		line[have] = '\0';
		if (strchr(line, '\n') != NULL)
			break;
		if (have == sizeof(line) - 1)
			break;
	}
	printf("%s", line);
	if (!field(line, "DISPLAY", R.display, sizeof(R.display)) ||
	    !field(line, "tracker", R.tracker, sizeof(R.tracker)) ||
	    !field(line, "xvfb_pid", pid, sizeof(pid))) {
		fprintf(stderr, "FAIL: unexpected ready line\n");
		cleanup();
		exit(1);
	}
	R.xvfb = (pid_t)atoi(pid);
	if (strncmp(R.tracker, "uffd", 4) != 0) {
		cleanup();
		skip("no write tracking here (tracker=%s): needs Linux >= "
		    "6.7 userfaultfd async write-protect", R.tracker);
	}
}

static void
start_clients(void)
{
	char *xterm[] = { "xterm", "-geometry", "120x45+0+0", "-e", "sh",
	    "-c", "while :; do ls -lR /usr/share/doc /usr/include; done",
	    NULL };
	char *xclock[] = { "xclock", "-update", "1", "-geometry",
	    "200x200-0-0", NULL };
	char cmd[192];
	char *typer[] = { "xterm", "-geometry", "40x4+0+640", "-e", "sh",
	    "-c", cmd, NULL };

	R.clients[0] = spawn(xterm, -1, R.display);
	R.clients[1] = spawn(xclock, -1, R.display);
	/* The input check types into this one; cat writes what it gets. */
	snprintf(R.typed, sizeof(R.typed), "%s/typed", R.dir);
	snprintf(cmd, sizeof(cmd), "stty -echo; exec cat > %s", R.typed);
	R.clients[2] = spawn(typer, -1, R.display);
}

static void
key(int sym, bool down)
{
	int err = lfbshm_consumer_send_key(R.c, (uint32_t)sym, down);

	CHECK(err == 0, "send_key 0x%x: %s", sym, strerror(-err));
}

/*
 * Input through XTEST: point at the typing xterm (no window manager: the
 * focus follows the pointer), type "lfbvnc X" and Return, and read what
 * its cat wrote.  Shift and a space exercise more than plain letters.
 */
static void
check_input(void)
{
	static const char want[] = "lfbvnc X\n";
	static const int syms[] = { 'l', 'f', 'b', 'v', 'n', 'c', ' ' };
	char got[64];
	int64_t deadline = now_ms() + 5000;
	size_t i;
	ssize_t n = 0;
	int fd, err, attempt;
	bool ok;

	/* cat's shell creates the file when the xterm is up. */
	while (access(R.typed, F_OK) != 0 && now_ms() < deadline)
		poll(NULL, 0, 20);
	CHECK(access(R.typed, F_OK) == 0, "the typing xterm did not start");
	memset(got, 0, sizeof(got));
	/* Typed twice at most: keys sent before the xterm's window is
	   mapped go nowhere. */
	for (attempt = 0; attempt < 2 && n < (ssize_t)strlen(want);
	    attempt++) {
		poll(NULL, 0, 200);
		err = lfbshm_consumer_send_pointer(R.c, 100, 680, 0);
		CHECK(err == 0, "send_pointer: %s", strerror(-err));
		for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
			key(syms[i], true);
			key(syms[i], false);
		}
		key(0xffe1, true);	/* Shift_L */
		key('X', true);
		key('X', false);
		key(0xffe1, false);
		key(0xff0d, true);	/* Return */
		key(0xff0d, false);

		deadline = now_ms() + 2500;
		while (now_ms() < deadline) {
			if ((fd = open(R.typed, O_RDONLY)) >= 0) {
				n = read(fd, got, sizeof(got) - 1);
				close(fd);
				if (n >= (ssize_t)strlen(want))
					break;
			}
			poll(NULL, 0, 20);
		}
	}
	got[sizeof(got) - 1] = '\0';
	ok = strncmp(got, want, strlen(want)) == 0;
	CHECK(ok, "typed \"lfbvnc X\\n\", the xterm "
	    "got \"%s\"", got);
	if (ok)
		printf("input: XTEST typed \"lfbvnc X\" into an xterm\n");
}

/* True when every thread of pid is stopped: only then is a final scan
   final (Xvfb has an input thread). */
static bool
all_stopped(pid_t pid)
{
	char path[320], buf[512], *p;
	struct dirent *de;
	DIR *d;
	bool all = true;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return false;
	while (all && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat",
		    (int)pid, de->d_name);
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* "pid (comm) S ...": the state follows the last ')'. */
		p = strrchr(buf, ')');
		if (p == NULL || p[1] != ' ' || (p[2] != 'T' && p[2] != 't'))
			all = false;
	}
	closedir(d);
	return all;
}

static int
stop_xvfb(void)
{
	int64_t deadline = now_ms() + 2000;

	if (kill(R.xvfb, SIGSTOP) == -1)
		return -errno;
	while (!all_stopped(R.xvfb)) {
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		poll(NULL, 0, 1);
	}
	return 0;
}

struct scan_stats {
	uint64_t scans;
	uint64_t reported;	/* pages reported */
	uint64_t changed;	/* of those, pages whose content changed */
	uint64_t all_dirty;
};

/*
 * One GET_DIRTY, then copy the reported pages into the shadow, except
 * page `skip' (-1: none).  When *pick is true, the first reported page
 * that really changed becomes the page to skip from now on.
 */
static int
scan(const uint8_t *fb, uint8_t *shadow, uint64_t npages, uint64_t *bm,
    size_t nwords, struct scan_stats *st, int64_t *skip_page, bool pick)
{
	struct lfbshm_dirty d;
	uint64_t p;
	int err;

	err = lfbshm_consumer_get_dirty(R.c, bm, nwords, &d);
	if (err < 0) {
		fprintf(stderr, "FAIL: get_dirty: %s (%s)\n", strerror(-err),
		    lfbshm_consumer_error(R.c));
		return err;
	}
	st->scans++;
	if (d.all_dirty)
		st->all_dirty++;
	for (p = 0; p < npages; p++) {
		if ((bm[p / 64] & (1ull << (p % 64))) == 0)
			continue;
		st->reported++;
		if (memcmp(shadow + p * PAGE, fb + p * PAGE, PAGE) == 0)
			continue;
		st->changed++;
		if (pick && *skip_page < 0 && !d.all_dirty)
			*skip_page = (int64_t)p;
		if ((int64_t)p == *skip_page)
			continue;
		memcpy(shadow + p * PAGE, fb + p * PAGE, PAGE);
	}
	return 0;
}

static uint64_t
lost_pages(const uint8_t *fb, const uint8_t *shadow, uint64_t npages,
    int64_t *first)
{
	uint64_t p, lost = 0;

	*first = -1;
	for (p = 0; p < npages; p++)
		if (memcmp(shadow + p * PAGE, fb + p * PAGE, PAGE) != 0) {
			if (*first < 0)
				*first = (int64_t)p;
			lost++;
		}
	return lost;
}

/*
 * The trap on a remote (Xvfb) mapping: once the screen is quiet, arm it,
 * start a client that draws, and EV_TRAP must come; the next scan must
 * report the drawing.
 */
static void
check_trap(uint64_t *bm, size_t nwords)
{
	char *xclock[] = { "xclock", "-geometry", "100x100+300+300", NULL };
	struct lfbshm_dirty d;
	struct pollfd pfd;
	int64_t deadline;
	int clean = 0, tries, err;
	bool fired = true;
	uint32_t ev = 0;

	if ((lfbshm_consumer_features(R.c) & LFBSHM_F_TRAP) == 0) {
		printf("trap: not offered (fbdir not on tmpfs?)\n");
		return;
	}
	/* The busy clients go; wait for a few clean scans in a row. */
	reap(&R.clients[0], SIGTERM, "xterm");
	reap(&R.clients[1], SIGTERM, "xclock");
	deadline = now_ms() + 3000;
	while (clean < 5 && now_ms() < deadline) {
		err = lfbshm_consumer_get_dirty(R.c, bm, nwords, &d);
		CHECK(err == 0, "get_dirty: %s", strerror(-err));
		if (err != 0)
			return;
		clean = d.dirty_pages == 0 && !d.all_dirty ? clean + 1 : 0;
		usleep(SCAN_US);
	}
	if (clean < 5) {
		printf("trap: the screen never went quiet; not checked\n");
		return;
	}
	for (tries = 0; fired && tries < 10; tries++) {
		err = lfbshm_consumer_arm_trap(R.c, (uint32_t)clean, &fired);
		CHECK(err == 0, "arm_trap: %s", strerror(-err));
		if (err != 0)
			return;
		if (fired)
			(void)lfbshm_consumer_get_dirty(R.c, bm, nwords, &d);
	}
	CHECK(!fired, "arm_trap: always already fired");
	if (fired)
		return;
	(void)lfbshm_consumer_take_events(R.c);
	R.clients[1] = spawn(xclock, -1, R.display);

	deadline = now_ms() + 5000;
	pfd.fd = lfbshm_consumer_notify_fd(R.c);
	pfd.events = POLLIN;
	while ((ev & LFBSHM_EV_TRAP) == 0 && now_ms() < deadline)
		if (poll(&pfd, 1, 100) > 0)
			ev |= lfbshm_consumer_take_events(R.c);
	CHECK(ev & LFBSHM_EV_TRAP, "no EV_TRAP after a client drew");
	err = lfbshm_consumer_get_dirty(R.c, bm, nwords, &d);
	CHECK(err == 0 && (d.all_dirty || d.dirty_pages > 0),
	    "the scan after the trap reports nothing");
	if (ev & LFBSHM_EV_TRAP)
		printf("trap: armed on a quiet screen, fired when xclock "
		    "drew\n");
}

int
main(void)
{
	struct lfbshm_mode_info mi;
	struct scan_stats st = { 0 }, at_ck;
	const uint8_t *fb;
	uint8_t *shadow = NULL;
	uint64_t *bm = NULL, npages, lost, total_lost = 0;
	size_t fblen, nwords;
	int64_t start, next_ck, skip_page = -1, first;
	int checkpoints = 0, err, neg_done = 0, neg_tries = 0;
	char why[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!in_path("Xvfb") || !in_path("xterm") || !in_path("xclock"))
		skip("needs Xvfb, xterm and xclock (Debian: xvfb xterm "
		    "x11-apps)");
	signal(SIGALRM, watchdog);
	alarm(WATCHDOG_S);
	signal(SIGPIPE, SIG_IGN);

	start_provider();
	err = lfbshm_consumer_open(R.sock, LFBSHM_F_DIRTY | LFBSHM_F_TRAP |
	    LFBSHM_F_INPUT_KEY | LFBSHM_F_INPUT_POINTER, 5000, &R.c, why,
	    sizeof(why));
	CHECK(err == 0, "consumer_open: %s: %s", strerror(-err), why);
	if (err != 0)
		goto out;
	CHECK(lfbshm_consumer_features(R.c) & LFBSHM_F_DIRTY,
	    "F_DIRTY not granted");
	CHECK(strcmp(lfbshm_consumer_tracker_name(R.c), "uffd") == 0,
	    "the WELCOME names tracker \"%s\", not uffd",
	    lfbshm_consumer_tracker_name(R.c));
	err = lfbshm_consumer_mode(R.c, &mi);
	CHECK(err == 0, "mode: %s", lfbshm_consumer_error(R.c));
	if (err != 0)
		goto out;
	CHECK(mi.width == 1024 && mi.height == 768 && mi.bpp == 4 &&
	    mi.format == LFBSHM_FORMAT_XRGB8888 && mi.stride >= 4096 &&
	    mi.offset >= 100, "mode %ux%u fmt %u stride %u offset %llu",
	    mi.width, mi.height, mi.format, mi.stride,
	    (unsigned long long)mi.offset);
	fb = lfbshm_consumer_fb(R.c, &fblen);
	npages = lfbshm_consumer_npages(R.c);
	CHECK(fblen == npages * PAGE && mi.offset + (uint64_t)mi.stride *
	    mi.height <= fblen, "fb %zu octets, %llu pages", fblen,
	    (unsigned long long)npages);
	nwords = lfbshm_bitmap_words(npages);
	shadow = calloc(npages, PAGE);
	bm = calloc(nwords, sizeof(*bm));
	if (shadow == NULL || bm == NULL) {
		CHECK(0, "out of memory");
		goto out;
	}

	start_clients();
	start = now_ms();
	next_ck = start + CHECK_EVERY_MS;
	while (now_ms() - start < RUN_MS) {
		bool neg = checkpoints + 1 >= NEG_CHECKPOINT && !neg_done;

		if (scan(fb, shadow, npages, bm, nwords, &st, &skip_page,
		    neg) < 0)
			goto out;
		if (now_ms() < next_ck) {
			usleep(SCAN_US);
			continue;
		}

		/* Checkpoint: let a scan period of writes pile up, so that
		   the final scan has work, then nothing writes while we
		   look. */
		usleep(SCAN_US);
		err = stop_xvfb();
		CHECK(err == 0, "SIGSTOP Xvfb: %s", strerror(-err));
		at_ck = st;
		if (scan(fb, shadow, npages, bm, nwords, &st, &skip_page,
		    false) < 0) {
			(void)kill(R.xvfb, SIGCONT);
			goto out;
		}
		lost = lost_pages(fb, shadow, npages, &first);
		checkpoints++;
		if (skip_page >= 0) {
			/* The comparison must find the skipped page; once it
			   is healed, nothing else may differ. */
			bool found = memcmp(shadow + skip_page * PAGE,
			    fb + skip_page * PAGE, PAGE) != 0;

			neg_tries++;
			memcpy(shadow + skip_page * PAGE,
			    fb + skip_page * PAGE, PAGE);
			printf("checkpoint %d (negative control): page %lld "
			    "skipped, %llu lost: %s\n", checkpoints,
			    (long long)skip_page, (unsigned long long)lost,
			    found ? "detected" :
			    "its content reverted, inconclusive");
			if (found)
				neg_done++;
			skip_page = -1;
			lost = lost_pages(fb, shadow, npages, &first);
			CHECK(lost == 0, "checkpoint %d: %llu pages lost "
			    "besides the skipped one (first %lld)",
			    checkpoints, (unsigned long long)lost,
			    (long long)first);
			total_lost += lost;
			if (lost != 0)
				memcpy(shadow, fb, npages * PAGE);
		} else {
			printf("checkpoint %d: final scan %llu pages "
			    "reported, %llu changed; %llu lost\n",
			    checkpoints, (unsigned long long)(st.reported -
			    at_ck.reported), (unsigned long long)(st.changed -
			    at_ck.changed), (unsigned long long)lost);
			CHECK(lost == 0, "checkpoint %d: %llu pages lost "
			    "(first %lld)", checkpoints,
			    (unsigned long long)lost, (long long)first);
			total_lost += lost;
			if (lost != 0)	/* resync, go on counting */
				memcpy(shadow, fb, npages * PAGE);
		}
		(void)kill(R.xvfb, SIGCONT);
		next_ck = now_ms() + CHECK_EVERY_MS;
	}

	printf("%llu scans, %.1f pages reported and %.1f changed per scan "
	    "(%llu all-dirty answers), %d checkpoints, %llu pages lost\n",
	    (unsigned long long)st.scans, st.scans ? (double)st.reported /
	    st.scans : 0.0, st.scans ? (double)st.changed / st.scans : 0.0,
	    (unsigned long long)st.all_dirty, checkpoints,
	    (unsigned long long)total_lost);
	CHECK(checkpoints >= 3, "only %d checkpoints", checkpoints);
	CHECK(st.changed > 0, "the X clients drew nothing");
	CHECK(neg_done >= 1, "negative control never conclusive (%d tries)",
	    neg_tries);
	/* Write tracking reports a superset of the changes (Xvfb redraws
	   identical pixels), and is not "everything". */
	CHECK(st.reported >= st.changed, "reported < changed");
	CHECK(st.reported < st.scans * npages, "every page, every scan");

	if ((lfbshm_consumer_features(R.c) & LFBSHM_F_INPUT_KEY) != 0)
		check_input();
	else
		printf("input: not offered (built without XTEST)\n");
	check_trap(bm, nwords);

out:
	free(shadow);
	free(bm);
	cleanup();
	alarm(0);
	if (failures == 0)
		printf("PASS\n");
	return failures == 0 ? 0 : 1;
}
