/*
 * shrink-provider - an lfbshm provider whose framebuffer is a plain file
 * that it truncates on request, for tests/integration/test-sigbus.sh.
 *
 *   shrink-provider SOCKET FILE [WxH [xrgb8888 | rgb888]]
 *
 * FILE is created (a regular file, so not sealed against shrinking: the
 * consumer sees lfbshm_consumer_fb_can_shrink, as with lfbvnc-xvfb's
 * -fbdir screen), sized for WxH pixels of the format (default 1024x768
 * XRGB8888; stride W * bpp, offset 0) rounded up to whole pages, and
 * drawn with a pattern.  FILE.xrgb always holds the same frame as raw
 * XRGB8888 (what lfbvnc-probe --compare reads).  No write tracker (every
 * GET_DIRTY answers ALL_DIRTY: the consumer compares every line, so
 * every scan reads every page).
 *
 *   SIGUSR1  change the 16 pixels just before the middle page boundary
 *            (half the file, rounded down to a page), then truncate the
 *            file there: the consumer's next scan finds the change and
 *            faults with SIGBUS past it.  With rgb888 (converted pixel by
 *            pixel: no compare before the copy) and the boundary inside
 *            a line, the fault cuts the consumer's copy of a changed tile
 *            short before it marked the tile: a consumer that does not
 *            send such a tile after the fault loses the change.
 *   SIGHUP   restore: FILE back to its size with the same frame (the
 *            change included).
 *   SIGUSR2  restore with the next pattern (a consumer that kept the old
 *            frame must catch up).
 *   SIGINT, SIGTERM  stop.
 *
 * Each prints one line on stdout ("serving", "truncated to N octets",
 * "restored", "restored, pattern K") once it is done, for the test to
 * wait on.  The test compares clients with FILE.xrgb (FILE.xrgb@WxH).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lfbshm-provider.h"
#include "log.h"

static uint32_t width = 1024, height = 768, bpp = 4;
static uint32_t *frame;		/* FILE's pixels, kept across truncations */
static uint8_t *line;		/* one line in FILE's format */
static char ref[4096];		/* FILE.xrgb */

/* Pattern k: every pixel depends on x, y and k, so no two frames agree. */
static void
draw(uint32_t k)
{
	uint32_t x, y;

	for (y = 0; y < height; y++)
		for (x = 0; x < width; x++)
			frame[(size_t)y * width + x] =
			    ((x * 3 + k * 40) & 0xff) << 16 |
			    ((y * 5 + k * 80) & 0xff) << 8 |
			    (((x ^ y) + k * 120) & 0xff);
}

/* Pixels [i, j) of frame into FILE, in its format. */
static int
put(int fd, uint64_t i, uint64_t j)
{
	uint64_t k;

	if (bpp == 4)
		return pwrite(fd, &frame[i], (j - i) * 4, (off_t)(i * 4)) ==
		    (ssize_t)((j - i) * 4) ? 0 : -1;
	for (k = i; k < j; k++) {
		line[3 * (k - i)] = (uint8_t)frame[k];
		line[3 * (k - i) + 1] = (uint8_t)(frame[k] >> 8);
		line[3 * (k - i) + 2] = (uint8_t)(frame[k] >> 16);
	}
	return pwrite(fd, line, (j - i) * 3, (off_t)(i * 3)) ==
	    (ssize_t)((j - i) * 3) ? 0 : -1;
}

/* FILE.xrgb: the frame as raw XRGB8888, replaced whole. */
static int
put_ref(void)
{
	size_t len = (size_t)width * height * 4;
	char tmp[sizeof(ref) + 8];
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", ref);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	if (write(fd, frame, len) != (ssize_t)len)
		rc = -1;
	close(fd);
	return rc == 0 ? rename(tmp, ref) : rc;
}

/* FILE at its size, holding frame. */
static int
restore(int fd, uint64_t size)
{
	uint32_t y;

	if (ftruncate(fd, (off_t)size) == -1)
		return -1;
	for (y = 0; y < height; y++)
		if (put(fd, (uint64_t)y * width, (uint64_t)(y + 1) * width) < 0)
			return -1;
	return put_ref();
}

/* The 16 pixels wholly before octet `at' inverted, in frame and FILE. */
static int
change_before(int fd, uint64_t at)
{
	uint64_t p = at / bpp, i = p >= 16 ? p - 16 : 0, k;

	for (k = i; k < p; k++)
		frame[k] ^= 0xffffff;
	if (put(fd, i, p) < 0)
		return -1;
	return put_ref();
}

int
main(int argc, char **argv)
{
	struct lfbshm_provider_config cfg;
	struct lfbshm_mode_info mi;
	struct lfbshm_provider *p;
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	char why[256];
	sigset_t set;
	uint64_t size, half;
	uint32_t k = 0;
	int fd, sfd, err;

	log_init("shrink-provider", 0);
	if (argc >= 5 && strcmp(argv[4], "rgb888") == 0)
		bpp = 3;
	else if (argc >= 5 && strcmp(argv[4], "xrgb8888") != 0)
		argc = 0;
	if (argc < 3 || argc > 5 || (argc >= 4 &&
	    sscanf(argv[3], "%ux%u", &width, &height) != 2) ||
	    width < 16 || height < 16 || width > 4096 || height > 4096) {
		fprintf(stderr, "usage: shrink-provider SOCKET FILE "
		    "[WxH [xrgb8888 | rgb888]]\n");
		return 2;
	}
	snprintf(ref, sizeof(ref), "%s.xrgb", argv[2]);
	size = ((uint64_t)width * height * bpp + 4095) & ~(uint64_t)4095;
	half = size / 2 & ~(uint64_t)4095;
	if ((frame = malloc((size_t)width * height * 4)) == NULL ||
	    (line = malloc((size_t)width * 4)) == NULL)
		fatal("malloc");
	draw(k);
	fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || restore(fd, size) < 0)
		fatal("%s", argv[2]);

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (sfd = signalfd(-1, &set, SFD_CLOEXEC)) == -1)
		fatal("signalfd");

	memset(&cfg, 0, sizeof(cfg));
	cfg.socket_path = argv[1];
	cfg.fb_fd = fd;
	cfg.fb_map_size = size;
	cfg.features = LFBSHM_F_ALL;	/* without a tracker: no F_DIRTY */
	if ((err = lfbshm_provider_open(&cfg, &p, why, sizeof(why))) < 0)
		fatalx("%s: %s", argv[1], why);
	memset(&mi, 0, sizeof(mi));
	mi.width = width;
	mi.height = height;
	mi.stride = width * bpp;
	mi.format = bpp == 3 ? LFBSHM_FORMAT_RGB888 : LFBSHM_FORMAT_XRGB8888;
	if ((err = lfbshm_provider_set_mode(p, &mi)) < 0)
		fatalx("set_mode: %s", strerror(-err));
	printf("serving %s: %ux%u, %llu octets in %s\n", argv[1], width,
	    height, (unsigned long long)size, argv[2]);
	fflush(stdout);

	for (;;) {
		pfd[0].fd = lfbshm_provider_fd(p);
		pfd[1].fd = sfd;
		pfd[0].events = pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[1].revents & POLLIN) {
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				fatal("signalfd");
			if (si.ssi_signo == SIGUSR1) {
				if (change_before(fd, half) < 0 ||
				    ftruncate(fd, (off_t)half) == -1)
					fatal("truncating %s", argv[2]);
				printf("truncated to %llu octets\n",
				    (unsigned long long)half);
			} else if (si.ssi_signo == SIGHUP) {
				if (restore(fd, size) < 0)
					fatal("restoring %s", argv[2]);
				printf("restored\n");
			} else if (si.ssi_signo == SIGUSR2) {
				draw(++k);
				if (restore(fd, size) < 0)
					fatal("restoring %s", argv[2]);
				printf("restored, pattern %u\n", k);
			} else {
				break;
			}
			fflush(stdout);
		}
		if ((pfd[0].revents & POLLIN) &&
		    (err = lfbshm_provider_dispatch(p)) < 0)
			fatalx("dispatch: %s", strerror(-err));
	}
	lfbshm_provider_close(p);
	close(fd);
	close(sfd);
	free(frame);
	free(line);
	return 0;
}
