/*
 * fuzz-vnc: what a VNC client sends us, through libvncserver into our
 * hooks (daemon/vnc.c: new_client, key_event, pointer_event,
 * set_translate, client_gone, and on the loop's side on_queue,
 * clamp_pointer, reap_threads, on_stall_check and vnc_set_framebuffer).
 * One real server, opened once with vnc_open/vnc_start on a 64x48
 * XRGB8888 shadow; each input is one client on a socketpair handed over
 * with vnc_add_client_fd, as the listener hands over an accepted socket.
 *
 * Input: octet 0 is flags, the rest is the client's byte stream.
 *   bit 0  the stream starts at the ProtocolVersion (handshake fuzzed too);
 *          else a no-auth RFB 3.8 handshake and ClientInit come first.
 *   bit 1  halfway through, the guest changes mode (40x30 RGB565) with
 *          the client connected; bit 2 picks 128x96 XBGR8888 instead.
 * Messages libvncserver handles without a hook of ours (SetEncodings,
 * ClientCutText, SetDesktopSize, ...) run with our screen set-up, so
 * the daemon side of them is covered too.
 *
 * Checked: the server survives; every pointer event the worker gets is
 * inside the framebuffer last set, with buttons in 0..255; one drain of
 * the queue after a client's whole stream delivers at most the queue's
 * 1024 events (the rest are counted dropped, nothing grows); the client
 * is torn down (nclients back to 0) within a bound; and departed
 * clients' threads do not pile up (the process's mappings stay few).
 */
#include "config.h"

#include <sys/socket.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lfbshm.h"
#include "vnc.h"

#define QUEUE_MAX	1024	/* VNC_QUEUE in daemon/vnc.c */
#define TEARDOWN_MS	5000
#define MAPS_EVERY	256	/* inputs between two counts of mappings */
#define MAPS_MAX	3000	/* a zombie thread's stack and guard are 2 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/*
 * libvncserver's per-client statistics lists are extended from the input
 * and the output thread without a lock (stats.c), so now and then a
 * 40-octet record is lost: once in 129843 clients in a 300 s run.  Not
 * ours, and harmless; everything else still counts.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:rfbStatLookupMessage\nleak:rfbStatLookupEncoding\n";
}

struct fb {
	uint32_t w, h, format, bpp;
	uint8_t *mem;
};

static struct fb fbs[] = {
	{ 64, 48, LFBSHM_FORMAT_XRGB8888, 4, NULL },
	{ 40, 30, LFBSHM_FORMAT_RGB565, 2, NULL },
	{ 128, 96, LFBSHM_FORMAT_XBGR8888, 4, NULL },
};

static struct event_base *base;
static struct vnc *v;
static const struct fb *cur;	/* the mode the worker believes in */
static uint32_t nclients;
static uint64_t delivered;
static int threads_idle;	/* with no client connected */

static void
on_clients(void *arg, uint32_t n)
{
	nclients = n;
}

static void
on_key(void *arg, uint32_t keysym, bool down)
{
	(void)keysym;
	(void)down;
	delivered++;
}

static void
on_pointer(void *arg, uint32_t x, uint32_t y, uint32_t buttons)
{
	if (x >= cur->w || y >= cur->h || buttons > 0xff) {
		fprintf(stderr, "fuzz-vnc: pointer %u,%u buttons 0x%x outside "
		    "the %ux%u framebuffer\n", x, y, buttons, cur->w, cur->h);
		abort();
	}
	delivered++;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Lines of /proc/self/maps, or 0 when it cannot be read. */
static size_t
count_maps(void)
{
	char buf[65536];
	size_t n = 0;
	ssize_t r, i;
	int fd;

	if ((fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < r; i++)
			n += buf[i] == '\n';
	close(fd);
	return n;
}

/* Entries of /proc/self/task: the threads alive now. */
static int
count_threads(void)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir("/proc/self/task")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void
set_fb(const struct fb *f)
{
	if (vnc_set_framebuffer(v, f->mem, f->w, f->h, f->format) != 0)
		abort();
	cur = f;
}

static void
setup(void)
{
	static const struct vnc_callbacks cb = { on_clients, on_key,
	    on_pointer };
	struct vnc_config cfg;
	size_t i, j, len;

	/* A server that leaves mid-stream is an EPIPE, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(fbs) / sizeof(fbs[0]); i++) {
		len = (size_t)fbs[i].w * fbs[i].h * fbs[i].bpp;
		if ((fbs[i].mem = malloc(len)) == NULL)
			abort();
		for (j = 0; j < len; j++)
			fbs[i].mem[j] = (uint8_t)(j * 7 + i);
	}
	if ((base = event_base_new()) == NULL)
		abort();
	vnc_config_defaults(&cfg);
	cfg.name = "fuzz";
	cfg.port = 0;
	cfg.web_port = 0;
	if (vnc_open(base, &cfg, &cb, NULL, &v) != 0)
		abort();
	set_fb(&fbs[0]);
	if (vnc_start(v) != 0)
		abort();
	threads_idle = count_threads();
}

/*
 * Write all of buf, reading (and dropping) what the server sends.  False
 * when the server has closed the connection.
 */
static bool
pump(int fd, const uint8_t *buf, size_t len, int idle_ms)
{
	struct pollfd p = { .fd = fd };
	uint8_t sink[65536];
	ssize_t n;

	for (;;) {
		p.events = POLLIN | (len > 0 ? POLLOUT : 0);
		if (poll(&p, 1, len > 0 ? 1000 : idle_ms) <= 0)
			return true;
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(fd, sink, sizeof(sink));
			if (n <= 0)
				return false;	/* the server left */
		}
		if (len > 0 && (p.revents & POLLOUT)) {
			n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				len = 0;
			else if (n > 0) {
				buf += n;
				len -= (size_t)n;
			}
		}
	}
}

/*
 * Until the server closes its side: it has taken the whole stream.  Past
 * a moment, run the loop too: the daemon's periodic check is what frees
 * a client libvncserver forgot (wake_output in daemon/vnc.c).  True when
 * the loop ran.
 */
static bool
drain_to_eof(int fd)
{
	uint64_t start = now_ms(), until = start + TEARDOWN_MS;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t sink[65536];
	bool looped = false;

	while (now_ms() < until) {
		if (poll(&p, 1, looped ? 10 : 100) > 0 &&
		    read(fd, sink, sizeof(sink)) <= 0)
			return looped;
		if (now_ms() - start >= 50) {
			event_base_loop(base, EVLOOP_NONBLOCK);
			looped = true;
		}
	}
	fprintf(stderr, "fuzz-vnc: the server did not close the client\n");
	abort();
}

static uint32_t
be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/*
 * The one race this target does not fuzz: libvncserver stores a
 * SetPixelFormat before our hook (set_translate in daemon/vnc.c) sees
 * it, and an update being encoded in those few instructions with 1..7
 * bits per pixel divides by zero inside libvncserver (see
 * docs/FUZZING.md).  Once an update may be in flight (after the first
 * FramebufferUpdateRequest or EnableContinuousUpdates), such a format is
 * made 32-bit true colour here; before, it still reaches the hook.  The
 * walk follows libvncserver's message lengths and stops where it would
 * close the client (or cannot tell).  s is the stream from the
 * ProtocolVersion when raw, else from the first client message.
 */
static void
tame(uint8_t *s, size_t len, bool raw)
{
	size_t off = 0, n;
	bool updates = false;
	int minor;

	if (raw) {
		if (len < 12 || memcmp(s, "RFB 003.", 8) != 0 ||
		    s[8] < '0' || s[8] > '9' || s[9] < '0' || s[9] > '9' ||
		    s[10] < '0' || s[10] > '9' || s[11] != '\n')
			return;
		minor = (s[8] - '0') * 100 + (s[9] - '0') * 10 + s[10] - '0';
		off = 12;
		if (minor >= 7) {
			if (off >= len || s[off] != 1)	/* not None */
				return;
			off++;
		}
		off++;				/* ClientInit */
	}
	while (off < len) {
		switch (s[off]) {
		case 0:		/* SetPixelFormat */
			n = 20;
			if (updates && off + 8 <= len &&
			    ((s[off + 4] != 8 && s[off + 4] != 16 &&
			    s[off + 4] != 32) ||
			    (s[off + 7] == 0 && s[off + 4] != 8))) {
				s[off + 4] = 32;
				s[off + 7] = 1;
			}
			break;
		case 2:		/* SetEncodings */
			if (off + 4 > len)
				return;
			n = 4 + 4 * (size_t)be16(s + off + 2);
			break;
		case 3:		/* FramebufferUpdateRequest */
		case 150:	/* EnableContinuousUpdates */
			updates = true;
			n = 10;
			break;
		case 4:		/* KeyEvent */
			n = 8;
			break;
		case 5:		/* PointerEvent */
			n = 6;
			break;
		case 6:		/* ClientCutText (negative: extended) */
			if (off + 8 > len)
				return;
			n = be32(s + off + 4);
			if (n & 0x80000000u)
				n = (uint32_t)-(uint32_t)n;
			if (n > (1u << 20))
				return;
			n += 8;
			break;
		case 248:	/* Fence */
			if (off + 9 > len)
				return;
			n = 9 + (size_t)s[off + 8];
			break;
		case 250:	/* xvp */
			n = 4;
			break;
		case 251:	/* SetDesktopSize */
			if (off + 8 > len)
				return;
			n = 8 + 16 * (size_t)s[off + 6];
			break;
		default:	/* closed, or not ours to guess */
			return;
		}
		off += n;
	}
}

/* Queue what fits without blocking; how much that was. */
static size_t
prefill(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n;

	if (len == 0)
		return 0;
	n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	return n > 0 ? (size_t)n : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t hello[] = "RFB 003.008\n"
	    "\x01"	/* security type None */
	    "\x01";	/* ClientInit: shared */
	static uint8_t *copy;
	static size_t copylen;
	const uint8_t *stream;
	uint64_t before, until;
	struct vnc_stats st;
	size_t len, half, off;
	static uint64_t inputs;
	bool looped = false;
	size_t n;
	int sv[2], nt;

	if (base == NULL)
		setup();
	if (size < 1)
		return 0;
	vnc_get_stats(v, &st);
	before = st.input_events;
	delivered = 0;
	len = size - 1;
	if (len > copylen) {
		free(copy);
		if ((copy = malloc(len)) == NULL)
			abort();
		copylen = len;
	}
	if (len > 0)
		memcpy(copy, data + 1, len);
	tame(copy, len, (data[0] & 1) != 0);
	stream = copy != NULL ? copy : hello;	/* len 0: never read */
	half = (data[0] & 6) ? len / 2 : len;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	/*
	 * Queue the start before the server looks: it peeks at the first
	 * octets (a websocket handshake?) and waits 100 ms for them.
	 */
	if ((data[0] & 1) == 0 &&
	    prefill(sv[0], hello, sizeof(hello) - 1) != sizeof(hello) - 1)
		abort();
	off = prefill(sv[0], stream, half);
	/* libvncserver refuses a start it cannot read (nor a websocket
	   handshake), as its listener would. */
	if (vnc_add_client_fd(v, sv[1]) != 0) {
		close(sv[0]);
		goto settle;
	}
	if (pump(sv[0], stream + off, half - off, 0) && half < len &&
	    pump(sv[0], NULL, 0, 2)) {
		/* The server took the first half (its events are queued
		   against the old mode) and the client is still there: a
		   departing one is finding 8 of docs/FUZZING.md. */
		set_fb(&fbs[(data[0] & 4) ? 2 : 1]);
		pump(sv[0], stream + half, len - half, 0);
	}
	/* A moment for the output thread to answer update requests. */
	pump(sv[0], NULL, 0, 1);
	shutdown(sv[0], SHUT_WR);
	looped = drain_to_eof(sv[0]);
	close(sv[0]);

settle:
	/* Every event of the stream is queued now: one drain (unless the
	   loop ran early, and took some already). */
	event_base_loop(base, EVLOOP_NONBLOCK);
	vnc_get_stats(v, &st);
	if (st.input_events - before != delivered ||
	    (!looped && delivered > QUEUE_MAX)) {
		fprintf(stderr, "fuzz-vnc: %llu events in one drain\n",
		    (unsigned long long)delivered);
		abort();
	}
	if (getenv("FUZZ_VNC_DEBUG") != NULL)
		fprintf(stderr, "fuzz-vnc: %llu events delivered, %llu dropped "
		    "in all, %llu updates sent%s\n",
		    (unsigned long long)delivered,
		    (unsigned long long)st.input_dropped,
		    (unsigned long long)st.updates_sent,
		    looped ? ", the client closed late" : "");
	/* The client must be gone before the next one. */
	until = now_ms() + TEARDOWN_MS;
	while (nclients != 0 || st.clients != 0) {
		if (now_ms() > until) {
			fprintf(stderr, "fuzz-vnc: client not torn down\n");
			abort();
		}
		usleep(200);
		event_base_loop(base, EVLOOP_NONBLOCK);
		vnc_get_stats(v, &st);
	}
	/*
	 * The departed client's thread may still be freeing its record,
	 * which libvncserver's client iterator can hand out meanwhile
	 * (finding 8): let it exit before iterating again.  A thread that
	 * never exits (finding 5) only makes this wait once.
	 */
	until = now_ms() + 200;
	while ((nt = count_threads()) > threads_idle && now_ms() < until)
		usleep(100);
	threads_idle = nt;
	if (cur != &fbs[0])
		set_fb(&fbs[0]);
	/* Before the daemon joined them, each client left its input
	   thread's stack mapped: 2 mappings per input. */
	if (++inputs % MAPS_EVERY == 0 && (n = count_maps()) > MAPS_MAX) {
		fprintf(stderr, "fuzz-vnc: %zu mappings after %llu inputs\n",
		    n, (unsigned long long)inputs);
		abort();
	}
	return 0;
}
