/*
 * test-fbguard: scans of a file mapping that shrinks under them.
 *
 * A 16-page file mapped read-only, scanned whole under fbguard_scan: the
 * shadow equals the file.  Truncated to 8 pages: the next guarded scan
 * returns -EFAULT with the offset of the first lost page, and so does the
 * one after it (the handler stays, SIGBUS is not left blocked).  The file
 * grown back (zeros): the scan succeeds and the shadow follows.  Then, in
 * child processes, what is not the guard's must keep SIGBUS's default
 * action: a fault outside any guarded scan, and a SIGBUS sent with
 * kill(2), must each kill the child with SIGBUS.
 *
 * How it fails: checked against an fbguard_scan using sigsetjmp(..., 0)
 * (the second fault finds SIGBUS blocked and kills the test: exit 135)
 * and a handler that returns for a fault that is not its own (the
 * children live on: the fault repeats until their alarm, the kill is
 * ignored).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fbguard.h"
#include "scan.h"

#define NPAGES	16
#define WIDTH	1024		/* one line a page at 4 octets a pixel */

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static int
open_file(char *path, size_t len)
{
	const char *dir = getenv("TMPDIR");
	uint8_t page[SCAN_PAGE_SIZE];
	size_t i;
	int fd;

	snprintf(path, 4096, "%s/test-fbguard.XXXXXX", dir ? dir : "/tmp");
	if ((fd = mkstemp(path)) == -1) {
		perror("mkstemp");
		exit(99);
	}
	for (i = 0; i < len / sizeof(page); i++) {
		memset(page, (int)(i * 7 + 1), sizeof(page));
		if (write(fd, page, sizeof(page)) != (ssize_t)sizeof(page)) {
			perror("write");
			exit(99);
		}
	}
	return fd;
}

/* In a child: act(), which must kill it with SIGBUS. */
static void
dies_of_sigbus(const char *what, void (*act)(void))
{
	pid_t pid;
	int st;

	fflush(stderr);
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(99);
	}
	if (pid == 0) {
		alarm(10);	/* a handler that ignores the fault loops */
		act();
		_exit(0);
	}
	if (waitpid(pid, &st, 0) == -1) {
		perror("waitpid");
		exit(99);
	}
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS,
	    "%s: the child ended with status 0x%x, not killed by SIGBUS",
	    what, (unsigned)st);
}

static struct scanner sc;
static const uint8_t *fb;
static size_t len;
static int fd;

/* The guard installed by a good scan, then a read of a lost page. */
static void
fault_outside(void)
{
	size_t off;
	volatile uint8_t v;

	if (ftruncate(fd, (off_t)len) == -1)
		_exit(98);
	fbguard_scan(&sc, fb, len, NULL, NPAGES, true, &off);
	if (ftruncate(fd, (off_t)(len / 2)) == -1)
		_exit(98);
	v = fb[len - 1];
	(void)v;
}

/* The guard installed, then a SIGBUS from kill(2). */
static void
killed(void)
{
	size_t off;

	if (ftruncate(fd, (off_t)len) == -1)
		_exit(98);
	fbguard_scan(&sc, fb, len, NULL, NPAGES, true, &off);
	kill(getpid(), SIGBUS);
}

int
main(void)
{
	struct scan_geom g = { WIDTH, NPAGES, WIDTH * 4, 4, 0,
	    NPAGES * SCAN_PAGE_SIZE, 0 };
	char path[4096];
	size_t off;
	int n, i;

	len = NPAGES * SCAN_PAGE_SIZE;
	fd = open_file(path, len);
	fb = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (fb == MAP_FAILED) {
		perror("mmap");
		return 99;
	}
	if (scan_init(&sc, &g) < 0) {
		fprintf(stderr, "scan_init failed\n");
		return 99;
	}

	n = fbguard_scan(&sc, fb, len, NULL, NPAGES, true, &off);
	CHECK(n > 0, "the first scan found %d tiles", n);
	CHECK(memcmp(sc.shadow, fb, len) == 0, "the shadow is not the file");
	scan_take_rects(&sc, (struct scan_rect[1]){ { 0 } }, 1);

	if (ftruncate(fd, (off_t)(len / 2)) == -1) {
		perror("ftruncate");
		return 99;
	}
	for (i = 0; i < 2; i++) {
		off = 0;
		n = fbguard_scan(&sc, fb, len, NULL, NPAGES, true, &off);
		CHECK(n == -EFAULT, "scan %d of the truncated file: %d", i, n);
		CHECK(off >= len / 2 && off < len / 2 + SCAN_PAGE_SIZE,
		    "scan %d faulted at %zu, not in page %zu", i, off,
		    len / 2 / SCAN_PAGE_SIZE);
	}

	if (ftruncate(fd, (off_t)len) == -1) {
		perror("ftruncate");
		return 99;
	}
	n = fbguard_scan(&sc, fb, len, NULL, NPAGES, true, &off);
	CHECK(n > 0, "the scan of the file grown back found %d tiles", n);
	CHECK(memcmp(sc.shadow, fb, len) == 0,
	    "the shadow does not follow the file grown back");

	dies_of_sigbus("a fault outside a guarded scan", fault_outside);
	dies_of_sigbus("kill(2)", killed);

	scan_fini(&sc);
	munmap((void *)fb, len);
	close(fd);
	unlink(path);
	if (failures == 0)
		printf("test-fbguard: all checks passed\n");
	return failures ? 1 : 0;
}
