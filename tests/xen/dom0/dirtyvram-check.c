/*
 * dirtyvram-check: the dom0 side of the Xen end-to-end test, until lfbvncd's
 * Xen backend takes its place.  It reads the test guest's VRAM the way the
 * daemon will: the VGA BAR from QEMU's QMP socket, a read-only
 * xenforeignmemory mapping, and xendevicemodel_track_dirty_vram.
 *
 *   dirtyvram-check bar DOMID
 *       print the guest's VGA BAR 0 as "0xADDR SIZE" (QMP query-pci)
 *   dirtyvram-check qmp DOMID JSON
 *       run one QMP command on the device model, print the reply
 *   dirtyvram-check banner PORT TEXT
 *       accept TCP connections on PORT, send TEXT and a newline to each
 *       (stands in for lfbvncd when checking the host's port forwarding)
 *   dirtyvram-check peek DOMID X Y N [PITCH]
 *       print N pixels of the guest's VRAM from X,Y (read-only mapping, no
 *       dirty tracking, so it can run while lfbvncd tracks), as RRGGBB
 *   dirtyvram-check syslog SOCKET FILE
 *       a minimal syslog daemon: receive datagrams on the UNIX socket
 *       SOCKET (/dev/log) and append each, with dom0's uptime, as a line
 *       to FILE (the dom0 runs no syslog, and lfbvncd's init script logs
 *       there)
 *   dirtyvram-check test DOMID TTY LOG WxHxBPP[@STRIDE]
 *       the stand-in check: drive the guest (workloads through its serial
 *       TTY, keys and pointer through QMP), read its serial output from
 *       LOG, and check dirty pages and pixels against pattern.h.
 *
 * Output lines start with "DIRTYVRAM "; the test ends with
 * "DIRTYVRAM RESULT PASS" (exit 0) or "DIRTYVRAM RESULT FAIL" (exit 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <xendevicemodel.h>
#include <xenforeignmemory.h>

#include "pattern.h"

#define PAGE 4096u

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("DIRTYVRAM ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ------------------------------------------------------------ QMP */

/* Read one line (a QMP message) into buf; 0 on success. */
static int qmp_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		if (n + 1 < len)
			buf[n++] = c;
	}
	buf[n] = 0;
	return 0;
}

/* Run one QMP command on domain domid's device model; the reply (the line
 * with "return" or "error") goes to reply.  0 if it is a "return". */
static int qmp(int domid, const char *cmd, char *reply, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *caps = "{\"execute\":\"qmp_capabilities\"}\n";
	int fd, tries, rc = -1;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/var/run/xen/qmp-libxl-%d", domid);
	/* libxl may hold the socket (one client at a time): retry */
	for (tries = 0; tries < 50; tries++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		close(fd);
		fd = -1;
		sleep_s(0.2);
	}
	if (fd < 0) {
		snprintf(reply, len, "connect %s: %s", sa.sun_path, strerror(errno));
		return -1;
	}
	if (qmp_line(fd, reply, len) < 0 || !strstr(reply, "QMP"))
		goto out;
	if (write(fd, caps, strlen(caps)) < 0)
		goto out;
	do
		if (qmp_line(fd, reply, len) < 0)
			goto out;
	while (!strstr(reply, "\"return\"") && !strstr(reply, "\"error\""));
	if (write(fd, cmd, strlen(cmd)) < 0 || write(fd, "\n", 1) < 0)
		goto out;
	do
		if (qmp_line(fd, reply, len) < 0)
			goto out;
	while (!strstr(reply, "\"return\"") && !strstr(reply, "\"error\""));
	rc = strstr(reply, "\"error\"") ? -1 : 0;
out:
	close(fd);
	return rc;
}

/* The number after "key": at or after p, before end. */
static int json_num(const char *p, const char *end, const char *key, uint64_t *v)
{
	char pat[64];
	const char *q;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	q = strstr(p, pat);
	if (!q || q >= end)
		return -1;
	q += strlen(pat);
	while (*q == ' ')
		q++;
	*v = strtoull(q, NULL, 10);
	return 0;
}

/* BAR 0 of the first VGA-class (0x0300) device in query-pci's reply. */
static int vga_bar(int domid, uint64_t *addr, uint64_t *size)
{
	static char reply[1 << 16];
	const char *p, *r, *e;
	uint64_t bar;

	if (qmp(domid, "{\"execute\":\"query-pci\"}", reply, sizeof(reply)) < 0) {
		fprintf(stderr, "query-pci: %s\n", reply);
		return -1;
	}
	p = strstr(reply, "\"class\": 768");
	if (!p)
		p = strstr(reply, "\"class\":768");
	if (!p || !(r = strstr(p, "\"regions\"")))
		return -1;
	/* each region is a flat {...} object */
	while ((r = strchr(r, '{')) && (e = strchr(r, '}'))) {
		if (json_num(r, e, "bar", &bar) == 0 && bar == 0 &&
		    json_num(r, e, "address", addr) == 0 &&
		    json_num(r, e, "size", size) == 0)
			return 0;
		r = e;
	}
	return -1;
}

/* ------------------------------------------------------------ banner */
static int banner(int port, const char *text)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, ls, fd;
	char buf[256];

	signal(SIGPIPE, SIG_IGN);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 4) < 0) {
		perror("banner");
		return 1;
	}
	for (;;) {
		fd = accept(ls, NULL, NULL);
		if (fd < 0)
			continue;
		snprintf(buf, sizeof(buf), "%s\n", text);
		if (write(fd, buf, strlen(buf)) < 0)
			perror("banner write");
		close(fd);
	}
}

/* ------------------------------------------------------------ peek */
static int peek(int domid, uint32_t x, uint32_t y, uint32_t n, uint32_t pitch)
{
	xenforeignmemory_handle *fm;
	uint64_t addr, size, off = (uint64_t)y * pitch + (uint64_t)x * 4;
	size_t first, npages, i;
	xen_pfn_t *pfns;
	const uint32_t *v;
	const uint8_t *map;
	int *errs;

	if (vga_bar(domid, &addr, &size) < 0 || off + (uint64_t)n * 4 > size)
		return 1;
	first = off / 4096;
	npages = (off + (uint64_t)n * 4 + 4095) / 4096 - first;
	pfns = calloc(npages, sizeof(*pfns));
	errs = calloc(npages, sizeof(*errs));
	fm = xenforeignmemory_open(NULL, 0);
	if (!pfns || !errs || !fm)
		return 1;
	for (i = 0; i < npages; i++)
		pfns[i] = (addr >> 12) + first + i;
	map = xenforeignmemory_map(fm, (uint32_t)domid, PROT_READ, npages, pfns, errs);
	if (!map) {
		perror("xenforeignmemory_map");
		return 1;
	}
	v = (const uint32_t *)(map + off % 4096);
	for (i = 0; i < n; i++)
		printf("%06x%c", v[i] & 0xffffff, i + 1 < n ? ' ' : '\n');
	xenforeignmemory_unmap(fm, (void *)map, npages);
	xenforeignmemory_close(fm);
	return 0;
}

/* ------------------------------------------------------------ syslog */
static int syslogd(const char *path, const char *file)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[2048], *msg;
	struct timespec ts;
	FILE *f;
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return 2;
	memcpy(sa.sun_path, path, strlen(path));
	unlink(path);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0666) < 0) {
		perror("syslog");
		return 1;
	}
	if ((f = fopen(file, "a")) == NULL) {
		perror(file);
		return 1;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	for (;;) {
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		while (n > 0 && buf[n - 1] == '\n')
			buf[--n] = '\0';
		/* "<PRI>" then the message (timestamp, tag[pid]: text) */
		msg = buf;
		if (*msg == '<' && (msg = strchr(msg, '>')) != NULL)
			msg++;
		else
			msg = buf;
		clock_gettime(CLOCK_BOOTTIME, &ts);
		fprintf(f, "[%5ld.%03ld] %s\n", (long)ts.tv_sec,
			ts.tv_nsec / 1000000, msg);
	}
}

/* ------------------------------------------------------------ the test */
static struct {
	int domid;
	const char *tty, *log;
	uint32_t w, h, stride;		/* stride in bytes */
	uint64_t bar;
	uint32_t nr;			/* pages tracked: the whole VRAM */
	const volatile uint32_t *vram;
	xendevicemodel_handle *dm;
	unsigned long *bm;
	off_t logpos;
	int failed;
} T;

static uint32_t pix(uint32_t x, uint32_t y)
{
	return T.vram[(y * T.stride) / 4 + x];
}

static int bit(const unsigned long *bm, uint32_t i)
{
	return (int)(bm[i / (8 * sizeof(long))] >> (i % (8 * sizeof(long))) & 1);
}

static void setbit(unsigned long *bm, uint32_t i)
{
	bm[i / (8 * sizeof(long))] |= 1ul << (i % (8 * sizeof(long)));
}

static uint32_t count(const unsigned long *bm)
{
	uint32_t i, n = 0;

	for (i = 0; i < T.nr; i++)
		n += (uint32_t)bit(bm, i);
	return n;
}

/* "a-b,c,..." of the set bits, into buf. */
static const char *ranges(const unsigned long *bm, char *buf, size_t len)
{
	uint32_t i = 0, j;
	size_t n = 0;

	buf[0] = 0;
	while (i < T.nr && n + 32 < len) {
		if (!bit(bm, i)) {
			i++;
			continue;
		}
		for (j = i; j + 1 < T.nr && bit(bm, j + 1); j++)
			;
		n += (size_t)snprintf(buf + n, len - n, j > i ? "%s%u-%u" : "%s%u",
				      n ? "," : "", i, j);
		i = j + 1;
	}
	return buf[0] ? buf : "none";
}

/* The pages a rectangle of the screen lies in. */
static void rect_pages(unsigned long *bm, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	uint32_t r, p;

	for (r = y; r < y + h && r < T.h; r++)
		for (p = (r * T.stride + x * 4) / PAGE;
		     p <= (r * T.stride + (x + w) * 4 - 1) / PAGE; p++)
			setbit(bm, p);
}

static int track(void)
{
	memset(T.bm, 0, (T.nr + 7) / 8);
	return xendevicemodel_track_dirty_vram(T.dm, (domid_t)T.domid, T.bar >> 12, T.nr, T.bm);
}

static void result(const char *step, int ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void result(const char *step, int ok, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	say("step %s: %s %s", step, ok ? "PASS" : "FAIL", buf);
	if (!ok)
		T.failed = 1;
}

/* Wait up to timeout seconds for a line of the guest's serial log, written
 * after T.logpos, that contains needle; copy it to line.  The search starts
 * where the last match ended. */
static int log_wait(const char *needle, double timeout, char *line, size_t len)
{
	double end = now() + timeout;
	char buf[512];

	while (now() < end) {
		FILE *f = fopen(T.log, "r");
		if (f) {
			fseeko(f, T.logpos, SEEK_SET);
			while (fgets(buf, sizeof(buf), f)) {
				if (!strchr(buf, '\n'))
					break;	/* partial line: read it again later */
				T.logpos += (off_t)strlen(buf);
				if (strstr(buf, needle)) {
					buf[strcspn(buf, "\r\n")] = 0;
					snprintf(line, len, "%s", buf);
					fclose(f);
					return 0;
				}
			}
			fclose(f);
		}
		sleep_s(0.25);
	}
	snprintf(line, len, "(no \"%s\" within %.0f s)", needle, timeout);
	return -1;
}

static void log_skip(void)
{
	struct stat st;

	if (stat(T.log, &st) == 0)
		T.logpos = st.st_size;
}

static int guest_cmd(const char *s)
{
	int fd = open(T.tty, O_WRONLY | O_NOCTTY);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = write(fd, s, strlen(s));
	close(fd);
	return r == (ssize_t)strlen(s) ? 0 : -1;
}

static int workload(int id)
{
	char cmd[8], want[64], line[256];

	log_skip();
	snprintf(cmd, sizeof(cmd), "!%d", id);
	snprintf(want, sizeof(want), "LFBGUEST workload %d", id);
	if (guest_cmd(cmd) < 0 || log_wait(want, 60, line, sizeof(line)) < 0) {
		say("guest did not switch to workload %d: %s", id, line);
		return -1;
	}
	return 0;
}

/* Pixels outside the rectangles (x, y, w, h quadruples, n of them) that
 * differ from the background. */
static uint32_t bg_mismatches(const uint32_t *rects, int n, char *first, size_t len)
{
	uint32_t x, y, bad = 0;
	int i;

	first[0] = 0;
	for (y = 0; y < T.h; y++)
		for (x = 0; x < T.w; x++) {
			for (i = 0; i < n; i++)
				if (x >= rects[4 * i] && x < rects[4 * i] + rects[4 * i + 2] &&
				    y >= rects[4 * i + 1] && y < rects[4 * i + 1] + rects[4 * i + 3])
					break;
			if (i < n)
				continue;
			if (pix(x, y) != xg_bg(x, y) && bad++ == 0)
				snprintf(first, len, "first at %u,%u: %08x, want %08x",
					 x, y, pix(x, y), xg_bg(x, y));
		}
	return bad;
}

/* Check the pages of the last track() call: non-empty (unless
 * may_be_empty) and within allowed.  Returns the number dirty. */
static uint32_t judge(const char *step, int rc, const unsigned long *allowed,
		      int may_be_empty, const char *what)
{
	unsigned long *out = calloc((T.nr + 63) / 64, sizeof(long));
	char rbuf[512], obuf[512];
	uint32_t i, n, outside = 0;

	if (rc < 0) {
		result(step, 0, "track_dirty_vram: %s", strerror(errno));
		free(out);
		return 0;
	}
	n = count(T.bm);
	for (i = 0; i < T.nr; i++)
		if (bit(T.bm, i) && !bit(allowed, i)) {
			setbit(out, i);
			outside++;
		}
	result(step, (n || may_be_empty) && !outside,
	       "%u dirty page(s) %s: %s; outside the expected set: %u%s%s", n, what,
	       ranges(T.bm, rbuf, sizeof(rbuf)), outside, outside ? " " : "",
	       outside ? ranges(out, obuf, sizeof(obuf)) : "");
	free(out);
	return n;
}

/* The pages dirtied in a window of `secs' after a reset call, judged;
 * tried up to three times while none is dirty and some should be. */
static uint32_t window(const char *step, const unsigned long *allowed, double secs,
		       int may_be_empty)
{
	char what[64];
	int attempt, rc = 0;

	snprintf(what, sizeof(what), "in %.1f s", secs);
	for (attempt = 0; attempt < 3; attempt++) {
		track();
		sleep_s(secs);
		rc = track();
		if (rc < 0 || count(T.bm) || may_be_empty)
			break;
		say("%s: no dirty page in %.1f s, trying again", step, secs);
	}
	return judge(step, rc, allowed, may_be_empty, what);
}

static int parse_mode(const char *s)
{
	unsigned w, h, bpp, stride = 0;
	int n = sscanf(s, "%ux%ux%u@%u", &w, &h, &bpp, &stride);

	if (n < 3 || bpp != 32 || w < 640 || h < 480)
		return -1;
	T.w = w;
	T.h = h;
	T.stride = n == 4 ? stride : w * 4;
	return 0;
}

static int test(void)
{
	xenforeignmemory_handle *fm;
	xen_pfn_t *pfns;
	int *errs, rc, bad;
	uint32_t i, n, vis_pages;
	uint64_t size;
	char line[256], m[160], want[64];
	unsigned long *allowed;
	size_t bmlen;
	static const struct {
		const char *qcode;
		uint32_t code;
	} keys[] = { { "a", 0x1e }, { "ret", 0x1c }, { "kp_enter", 0x11c } };

	/* the guest's own account of its mode */
	T.logpos = 0;
	if (log_wait("LFBGUEST ready", 5, line, sizeof(line)) < 0) {
		result("guest", 0, "the guest is not ready: %s", line);
		return 1;
	}
	say("guest: %s", line);
	snprintf(m, sizeof(m), "mode=%ux%ux32 pitch=%u ", T.w, T.h, T.stride);
	if (!strstr(line, m)) {
		result("mode", 0, "lfbvnc_mode says \"%s\"; the guest says \"%s\"", m, line);
		return 1;
	}

	if (vga_bar(T.domid, &T.bar, &size) < 0) {
		result("bar", 0, "no VGA BAR 0 in QMP query-pci");
		return 1;
	}
	T.nr = (uint32_t)(size / PAGE);
	snprintf(m, sizeof(m), "lfb=0x%" PRIx64 " ", T.bar);
	result("bar", strstr(line, m) != NULL, "VGA BAR 0 at 0x%" PRIx64 ", %" PRIu64
	       " MiB (QMP); the guest's VBE PhysBasePtr: %s", T.bar, size >> 20,
	       strstr(line, "lfb="));
	vis_pages = (T.h * T.stride + PAGE - 1) / PAGE;
	if (T.nr > 32768 || vis_pages > T.nr) {
		result("bar", 0, "VRAM of %u pages cannot hold the mode or is too big", T.nr);
		return 1;
	}

	fm = xenforeignmemory_open(NULL, 0);
	T.dm = xendevicemodel_open(NULL, 0);
	if (!fm || !T.dm) {
		result("open", 0, "xenforeignmemory/xendevicemodel: %s", strerror(errno));
		return 1;
	}
	pfns = calloc(T.nr, sizeof(*pfns));
	errs = calloc(T.nr, sizeof(*errs));
	bmlen = (T.nr + 63) / 64 * sizeof(long);
	T.bm = calloc(1, bmlen);
	allowed = calloc(1, bmlen);
	for (i = 0; i < T.nr; i++)
		pfns[i] = (xen_pfn_t)((T.bar >> 12) + i);
	T.vram = xenforeignmemory_map(fm, (uint32_t)T.domid, PROT_READ, T.nr, pfns, errs);
	for (i = 0, bad = 0; T.vram && i < T.nr; i++)
		bad += errs[i] != 0;
	result("map", T.vram && !bad, "%u pages read-only at %p, %d page errors",
	       T.nr, (const void *)T.vram, bad);
	if (!T.vram || bad)
		return 1;

	/* 1. the first call reports everything dirty (HAP: rc 0 and all
	 * ones; shadow paging would say ENODATA) */
	rc = track();
	n = count(T.bm);
	if (rc < 0 && errno == ENODATA)
		result("first-call", 1, "ENODATA (shadow paging): everything dirty");
	else
		result("first-call", rc == 0 && n == T.nr, "rc %d, %u of %u pages dirty",
		       rc, n, T.nr);

	/* 2. idle: nothing changes; the screen is the background */
	memset(allowed, 0, bmlen);
	window("idle", allowed, 1.5, 1);
	n = bg_mismatches(NULL, 0, m, sizeof(m));
	result("idle-pixels", n == 0, "%u of %u pixels differ from the pattern %s",
	       n, T.w * T.h, m);

	/* 3. blink: only the block's pages */
	if (workload(XG_WL_BLINK) == 0) {
		uint32_t c, r[4] = { XG_BLINK_X, XG_BLINK_Y, XG_BLINK_W, XG_BLINK_H };

		memset(allowed, 0, bmlen);
		rect_pages(allowed, XG_BLINK_X, XG_BLINK_Y, XG_BLINK_W, XG_BLINK_H);
		window("blink", allowed, 1.2, 0);
		c = pix(XG_BLINK_X + XG_BLINK_W / 2, XG_BLINK_Y + XG_BLINK_H / 2);
		n = bg_mismatches(r, 1, m, sizeof(m));
		result("blink-pixels", (c == XG_BLINK_ON || c == XG_BLINK_OFF) && n == 0,
		       "block %08x, %u pixels outside it differ from the pattern %s", c, n, m);
	} else
		T.failed = 1;

	/* 4. typing: only the text box's pages */
	if (workload(XG_WL_TYPING) == 0) {
		uint32_t r[4] = { XG_TEXT_X, XG_TEXT_Y, XG_TEXT_COLS * XG_CELL_W,
				  XG_TEXT_ROWS * XG_CELL_H };
		uint32_t cell, gx, gy, drawn = 0, blank = 0, partial = 0;

		memset(allowed, 0, bmlen);
		rect_pages(allowed, r[0], r[1], r[2], r[3]);
		window("typing", allowed, 1.2, 0);
		for (cell = 0; cell < XG_TEXT_COLS * XG_TEXT_ROWS; cell++) {
			uint32_t same = 0, empty = 0, x0, y0;

			x0 = XG_TEXT_X + (cell % XG_TEXT_COLS) * XG_CELL_W;
			y0 = XG_TEXT_Y + (cell / XG_TEXT_COLS) * XG_CELL_H;
			for (gy = 0; gy < XG_CELL_H; gy++)
				for (gx = 0; gx < XG_CELL_W; gx++) {
					uint32_t p = pix(x0 + gx, y0 + gy);
					same += p == (xg_glyph_bit(cell, gx, gy) ? XG_TEXT_FG : XG_TEXT_BG);
					empty += p == XG_TEXT_BG;
				}
			if (same == XG_CELL_W * XG_CELL_H && empty != same)
				drawn++;
			else if (empty == XG_CELL_W * XG_CELL_H)
				blank++;
			else
				partial++;
		}
		n = bg_mismatches(r, 1, m, sizeof(m));
		result("typing-pixels", drawn > 0 && partial <= 1 && n == 0,
		       "%u cells typed, %u blank, %u neither; %u pixels outside the box "
		       "differ from the pattern %s", drawn, blank, partial, n, m);
	} else
		T.failed = 1;

	/* 5. full redraw: exactly the visible pages */
	if (workload(XG_WL_FULL) == 0) {
		uint32_t a, b;
		memset(allowed, 0, bmlen);
		rect_pages(allowed, 0, 0, T.w, T.h);
		/* a window of several frames (XG_FULL_MS), in case the guest
		 * gets little CPU time */
		for (i = 0; i < 3; i++) {
			window("full", allowed, 2.5, 0);
			n = count(T.bm);
			if (n == vis_pages)
				break;
		}
		result("full-all-pages", n == vis_pages, "%u of the %u visible pages dirty",
		       n, vis_pages);
		a = pix(T.w / 2, T.h / 2);
		sleep_s(0.5);
		b = pix(T.w / 2, T.h / 2);
		for (i = 0; i < 20 && a == b; i++) {
			sleep_s(0.2);
			b = pix(T.w / 2, T.h / 2);
		}
		result("full-pixels", a != b, "centre pixel %08x then %08x", a, b);
	} else
		T.failed = 1;

	/* 6. idle again: quiet, and the background is back */
	if (workload(XG_WL_IDLE) == 0) {
		memset(allowed, 0, bmlen);
		window("idle-again", allowed, 1.5, 1);
		n = bg_mismatches(NULL, 0, m, sizeof(m));
		result("idle-again-pixels", n == 0,
		       "%u pixels differ from the pattern %s", n, m);
	} else
		T.failed = 1;

	/* 7. keys: each press fills the next slot with its colour */
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char cmd[256], step[32];
		uint32_t sx = XG_KEY_X + i * XG_KEY_W + 2, c;

		snprintf(step, sizeof(step), "key-%s", keys[i].qcode);
		track();
		log_skip();
		snprintf(cmd, sizeof(cmd), "{\"execute\":\"send-key\",\"arguments\":{\"keys\":"
			 "[{\"type\":\"qcode\",\"data\":\"%s\"}]}}", keys[i].qcode);
		snprintf(want, sizeof(want), "LFBGUEST key 0x%x slot %u", keys[i].code, i);
		if (qmp(T.domid, cmd, line, sizeof(line)) < 0 ||
		    log_wait(want, 30, line, sizeof(line)) < 0) {
			result(step, 0, "%s", line);
			continue;
		}
		rc = track();
		memset(allowed, 0, bmlen);
		rect_pages(allowed, sx, XG_KEY_Y, XG_KEY_W - 4, XG_KEY_H);
		judge(step, rc, allowed, 0, "since the press");
		c = pix(sx + (XG_KEY_W - 4) / 2, XG_KEY_Y + XG_KEY_H / 2);
		snprintf(step, sizeof(step), "key-%s-colour", keys[i].qcode);
		result(step, c == xg_key_colour(keys[i].code),
		       "guest: \"%s\"; block colour %08x, want %08x", line, c,
		       xg_key_colour(keys[i].code));
	}

	/* 8. pointer: a relative move shows the square at centre + delta;
	 * the left button turns it red */
	{
		static const char *ev[] = {
			"{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
			"{\"type\":\"rel\",\"data\":{\"axis\":\"x\",\"value\":40}},"
			"{\"type\":\"rel\",\"data\":{\"axis\":\"y\",\"value\":24}}]}}",
			"{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
			"{\"type\":\"btn\",\"data\":{\"down\":true,\"button\":\"left\"}}]}}",
			"{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
			"{\"type\":\"btn\",\"data\":{\"down\":false,\"button\":\"left\"}}]}}",
		};
		static const uint32_t colour[] = { XG_CUR_COLOUR, XG_CUR_PRESSED, XG_CUR_COLOUR };
		uint32_t px0 = T.w / 2 + 40, py0 = T.h / 2 + 24, c;
		char step[32];

		for (i = 0; i < 3; i++) {
			snprintf(step, sizeof(step), "pointer-%u", i);
			log_skip();
			snprintf(want, sizeof(want), "LFBGUEST pointer %u %u %u", px0, py0,
				 i == 1 ? 1 : 0);
			track();
			if (qmp(T.domid, ev[i], line, sizeof(line)) < 0 ||
			    log_wait(want, 30, line, sizeof(line)) < 0) {
				result(step, 0, "%s", line);
				continue;
			}
			rc = track();
			memset(allowed, 0, bmlen);
			rect_pages(allowed, px0, py0, XG_CUR_SIZE, XG_CUR_SIZE);
			judge(step, rc, allowed, 0, "since the event");
			c = pix(px0 + XG_CUR_SIZE / 2, py0 + XG_CUR_SIZE / 2);
			snprintf(step, sizeof(step), "pointer-%u-colour", i);
			result(step, c == colour[i], "guest: \"%s\"; pointer colour %08x, want %08x",
			       line, c, colour[i]);
		}
	}

	/* 9. stop tracking: nr = 0.  With a NULL bitmap the call fails in
	 * dom0 Linux's privcmd (a zero-length dm_op buffer pins no page:
	 * EFAULT), so pass a dummy buffer that is not page-aligned. */
	{
		static unsigned long dummy[2];
		int err;

		rc = xendevicemodel_track_dirty_vram(T.dm, (domid_t)T.domid, 0, 0, NULL);
		err = rc < 0 ? errno : 0;
		say("stop with a NULL bitmap: rc %d (%s)", rc, err ? strerror(err) : "ok");
		if (rc < 0)
			rc = xendevicemodel_track_dirty_vram(T.dm, (domid_t)T.domid, 0, 0,
							     (unsigned long *)((char *)dummy + 8));
		result("stop", rc == 0, "nr=0: rc %d%s%s", rc, rc < 0 ? " " : "",
		       rc < 0 ? strerror(errno) : "");
		/* tracking is off: a new range starts with everything dirty */
		rc = track();
		n = count(T.bm);
		result("restart", rc == 0 && n == T.nr, "rc %d, %u of %u pages dirty", rc, n, T.nr);
		xendevicemodel_track_dirty_vram(T.dm, (domid_t)T.domid, 0, 0,
						(unsigned long *)((char *)dummy + 8));
	}

	xenforeignmemory_unmap(fm, (void *)T.vram, T.nr);
	xenforeignmemory_close(fm);
	xendevicemodel_close(T.dm);
	say("RESULT %s", T.failed ? "FAIL" : "PASS");
	return T.failed;
}

static int usage(void)
{
	fprintf(stderr, "usage: dirtyvram-check bar DOMID\n"
		"       dirtyvram-check qmp DOMID JSON\n"
		"       dirtyvram-check banner PORT TEXT\n"
		"       dirtyvram-check peek DOMID X Y N [PITCH]\n"
		"       dirtyvram-check syslog SOCKET FILE\n"
		"       dirtyvram-check test DOMID TTY LOG WxHx32[@STRIDE]\n");
	return 2;
}

int main(int argc, char **argv)
{
	char reply[1 << 14];
	uint64_t addr, size;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "bar")) {
		if (vga_bar(atoi(argv[2]), &addr, &size) < 0)
			return 1;
		printf("0x%" PRIx64 " %" PRIu64 "\n", addr, size);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "qmp")) {
		int rc = qmp(atoi(argv[2]), argv[3], reply, sizeof(reply));
		puts(reply);
		return rc < 0;
	}
	if (argc == 4 && !strcmp(argv[1], "banner"))
		return banner(atoi(argv[2]), argv[3]);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "peek"))
		return peek(atoi(argv[2]), (uint32_t)atoi(argv[3]), (uint32_t)atoi(argv[4]),
			    (uint32_t)atoi(argv[5]), argc == 7 ? (uint32_t)atoi(argv[6]) : 4096);
	if (argc == 4 && !strcmp(argv[1], "syslog"))
		return syslogd(argv[2], argv[3]);
	if (argc == 6 && !strcmp(argv[1], "test")) {
		T.domid = atoi(argv[2]);
		T.tty = argv[3];
		T.log = argv[4];
		if (parse_mode(argv[5]) < 0) {
			fprintf(stderr, "bad mode %s (WxHx32[@STRIDE], at least 640x480)\n", argv[5]);
			return 2;
		}
		return test();
	}
	return usage();
}
