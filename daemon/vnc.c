/* vnc.c - libvncserver beside a libevent loop; see vnc.h for the design. */
#include "config.h"

#include "vnc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <rfb/rfb.h>
#include <rfb/rfbregion.h>

#include "lfbshm.h"
#include "log.h"
#include "scan.h"

#define VNC_QUEUE	1024	/* input events between two loop turns */
#define VNC_PASSWORD_MAX 64
#define VNC_STALL_CHECK_MS 250

enum vnc_ev_type { VNC_EV_KEY = 1, VNC_EV_POINTER };

struct vnc_ev {
	uint32_t type;
	uint32_t a, b, c;
};

struct vnc_client {
	uint64_t over_since_ms;	/* when its unsent octets passed budget */
	uint64_t sent_before;	/* octets already counted in stats */
	rfbPixelFormat format;	/* what its translation was made for */
	/* Guarded by vnc.shadow_lock (see display_start): */
	bool in_update;		/* between its display hooks */
	bool tight;		/* asked for Tight when the update began */
	sraRegionPtr sending;	/* holds what the update in flight sends */
	sraRegionPtr written;	/* shadow written while it was in flight */
};

struct vnc {
	struct event_base *base;
	struct vnc_config cfg;
	struct vnc_callbacks cb;
	void *arg;

	rfbScreenInfoPtr screen;
	char *passwords[2];
	bool running;
	uint8_t *pending_fb;	/* set before vnc_start */
	uint32_t pending_w, pending_h, pending_format;
	int listen_fd;
	int port;

	struct evhttp *http;
	int web_port;

	int evfd;		/* client threads -> loop */
	struct event *ev_queue;
	struct event *ev_stall;
	bool marked;		/* an update marked since the stall check */

	pthread_mutex_t lock;	/* guards queue and reap */
	pthread_mutex_t shadow_lock;	/* held across the worker's shadow
					   writes; see display_start */
	bool shadow_locked;		/* by the loop's thread, now */
	struct vnc_ev queue[VNC_QUEUE];
	uint32_t qhead, qtail;
	pthread_t *reap;	/* client threads gone, to be joined */
	size_t nreap, reapcap;
	bool closing;		/* rfbShutdownServer joins them now */

	_Atomic uint32_t nclients;
	uint32_t reported_clients;

	_Atomic uint64_t clients_total;
	_Atomic uint64_t updates_sent;
	_Atomic uint64_t bytes_gone;	/* octets sent to departed clients */
	_Atomic uint64_t input_dropped;
	_Atomic uint64_t refused;
	_Atomic uint64_t resent;	/* Tight updates marked again */
	uint64_t input_events;
	uint64_t rects_marked;
	uint64_t stalled_dropped;
};

/* libvncserver's log goes through ours (one line, no trailing newline). */
static void
vnc_rfbvlog(int debug, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (debug)
		log_debug("libvncserver: %s", buf);
	else
		log_info("libvncserver: %s", buf);
}

static void
vnc_rfblog(const char *fmt, ...)
{
	va_list ap;

	if (log_getverbose() < 2)
		return;
	va_start(ap, fmt);
	vnc_rfbvlog(1, fmt, ap);
	va_end(ap);
}

static void
vnc_rfberr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnc_rfbvlog(0, fmt, ap);
	va_end(ap);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
vnc_config_defaults(struct vnc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->name = "lfbvnc";
	cfg->listen = "127.0.0.1";
	cfg->port = 5900;
	cfg->web_dir = NOVNC_DIR;
	cfg->max_stall_ms = 10000;
	cfg->send_budget = 1u << 20;
}

static int
parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

static bool
addr_is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
}

/* Reads the first line of a private password file into buf. */
static int
read_password(const char *path, char *buf, size_t len, char *why,
    size_t whylen)
{
	struct stat st;
	ssize_t n;
	char *nl;
	int fd, rc = -EINVAL;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		snprintf(why, whylen, "password file %s: %s", path,
		    strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "password file %s is not a regular file",
		    path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(why, whylen, "password file %s is accessible by "
		    "group or others (mode %03o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 0777));
		goto out;
	}
	/* Its owner decides who gets in: root, or the user lfbvncd runs
	   as (never the workers' `user': a worker taken over must not be
	   able to let itself into another guest). */
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(why, whylen, "password file %s is owned by uid %u, "
		    "not by root or the daemon's user (uid %u); chown it",
		    path, (unsigned)st.st_uid, (unsigned)geteuid());
		goto out;
	}
	n = read(fd, buf, len - 1);
	if (n < 0) {
		snprintf(why, whylen, "password file %s: %s", path,
		    strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	if ((nl = strpbrk(buf, "\r\n")) != NULL)
		*nl = '\0';
	if (buf[0] == '\0') {
		snprintf(why, whylen, "password file %s is empty", path);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

int
vnc_config_check(const struct vnc_config *cfg, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char pw[VNC_PASSWORD_MAX + 2];
	int rc;

	if (parse_addr(cfg->listen, &ss, &len) < 0) {
		snprintf(why, whylen, "listen address \"%s\" is not a numeric "
		    "IPv4 or IPv6 address", cfg->listen);
		return -EINVAL;
	}
	if (cfg->port < 0 || cfg->port > 65535 || cfg->web_port < 0 ||
	    cfg->web_port > 65535) {
		snprintf(why, whylen, "port out of range");
		return -EINVAL;
	}
	if (cfg->password_file == NULL) {
		if (!addr_is_loopback(&ss) && !cfg->unsafe_no_auth) {
			snprintf(why, whylen, "refusing to listen on %s without "
			    "a password: set a password file, or listen on "
			    "loopback, or set unsafe-no-auth", cfg->listen);
			return -EPERM;
		}
		return 0;
	}
	rc = read_password(cfg->password_file, pw, sizeof(pw), why, whylen);
	explicit_bzero(pw, sizeof(pw));
	return rc;
}

static int
listen_tcp(const char *addr, int port, int *bound_port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (parse_addr(addr, &ss, &len) < 0)
		return -EINVAL;
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 32) == -1) {
		int e = errno;

		close(fd);
		return -e;
	}
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*bound_port = ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/* ---------------------------------------------- client threads -> loop */

static void
kick(struct vnc *v)
{
	uint64_t one = 1;

	(void)!write(v->evfd, &one, sizeof(one));
}

static void
enqueue(struct vnc *v, uint32_t type, uint32_t a, uint32_t b, uint32_t c)
{
	pthread_mutex_lock(&v->lock);
	if (v->qtail - v->qhead < VNC_QUEUE) {
		v->queue[v->qtail % VNC_QUEUE] = (struct vnc_ev){ type, a, b,
		    c };
		v->qtail++;
	} else {
		atomic_fetch_add(&v->input_dropped, 1);
	}
	pthread_mutex_unlock(&v->lock);
	kick(v);
}

/*
 * libvncserver (0.9.14) neither joins nor detaches a client's input
 * thread once the client has gone (LibVNC/libvncserver#570): every
 * connection would leave a zombie thread, its stack mapped, until the
 * worker runs out of memory or mappings.  A departing input thread
 * (this hook runs near its end) is queued here and joined by the loop
 * (reap_threads).  Not detached: rfbShutdownServer joins the threads of
 * the clients still listed.  (Found by the fuzz target
 * tests/fuzz/fuzz-vnc.c: its mappings grew by two per input.)
 */
static void
queue_reap(struct vnc *v, rfbClientPtr cl)
{
	pthread_t *n;

	if (!pthread_equal(pthread_self(), cl->client_thread))
		return;		/* not on its own thread: none started */
	pthread_mutex_lock(&v->lock);
	if (!v->closing && v->nreap == v->reapcap) {
		n = reallocarray(v->reap, v->reapcap ? v->reapcap * 2 : 16,
		    sizeof(*n));
		if (n != NULL) {
			v->reap = n;
			v->reapcap = v->reapcap ? v->reapcap * 2 : 16;
		}
	}
	if (!v->closing && v->nreap < v->reapcap)
		v->reap[v->nreap++] = pthread_self();
	pthread_mutex_unlock(&v->lock);
}

/*
 * On the loop's thread, never blocking: a thread not finished yet is
 * tried again at the next turn.  One may never finish: after its hook,
 * rfbClientConnectionGone takes the client's sendMutex, which
 * rfbNewFramebuffer (a mode change) leaves locked when the client leaves
 * between its two passes over the list; a blocking join there would
 * hang the worker (the fuzz target found that too).  It stays queued.
 */
static void
reap_threads(struct vnc *v, bool closing)
{
	size_t i, j;

	pthread_mutex_lock(&v->lock);
	for (i = j = 0; i < v->nreap; i++)
		if (pthread_tryjoin_np(v->reap[i], NULL) != 0)
			v->reap[j++] = v->reap[i];
	v->nreap = j;
	v->closing = v->closing || closing;
	if (v->closing) {
		free(v->reap);
		v->reap = NULL;
		v->nreap = v->reapcap = 0;
	}
	pthread_mutex_unlock(&v->lock);
}

static void
client_gone(rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	struct vnc_client *c = cl->clientData;

	atomic_fetch_add(&v->bytes_gone,
	    (uint64_t)rfbStatGetSentBytes(cl) - (c ? c->sent_before : 0));
	/* Off the list and no reference left: the worker no longer sees c. */
	if (c != NULL) {
		sraRgnDestroy(c->sending);
		sraRgnDestroy(c->written);
	}
	free(c);
	cl->clientData = NULL;
	queue_reap(v, cl);
	atomic_fetch_sub(&v->nclients, 1);
	kick(v);
}

static enum rfbNewClientAction
new_client(rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	struct vnc_client *c;

	if (v->cfg.max_clients != 0 &&
	    atomic_load(&v->nclients) >= v->cfg.max_clients) {
		atomic_fetch_add(&v->refused, 1);
		return RFB_CLIENT_REFUSE;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return RFB_CLIENT_REFUSE;
	c->sending = sraRgnCreate();
	c->written = sraRgnCreate();
	c->format = cl->format;	/* the server's, until SetPixelFormat */
	cl->clientData = c;
	cl->clientGoneHook = client_gone;
	atomic_fetch_add(&v->nclients, 1);
	atomic_fetch_add(&v->clients_total, 1);
	kick(v);
	return RFB_CLIENT_ACCEPT;
}

static void
key_event(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	if (cl->viewOnly)
		return;
	enqueue(cl->screen->screenData, VNC_EV_KEY, (uint32_t)keysym,
	    down ? 1 : 0, 0);
}

static void
pointer_event(int mask, int x, int y, rfbClientPtr cl)
{
	if (cl->viewOnly)
		return;
	/* libvncserver clamps to the screen; be sure anyway. */
	if (x < 0 || y < 0 || x >= cl->screen->width ||
	    y >= cl->screen->height)
		return;
	enqueue(cl->screen->screenData, VNC_EV_POINTER, (uint32_t)x,
	    (uint32_t)y, (uint32_t)mask & 0xff);
}

/*
 * A pointer event queued before a mode change was checked against the
 * old size: keep it on the screen served now, clamped rather than
 * dropped so that a button release still arrives.  The loop's thread
 * both changes the mode and drains the queue, so this size is current.
 * (Found by the fuzz target tests/fuzz/fuzz-vnc.c.)
 */
static void
clamp_pointer(const struct vnc *v, struct vnc_ev *e)
{
	uint32_t w = (uint32_t)v->screen->width;
	uint32_t h = (uint32_t)v->screen->height;

	if (e->type != VNC_EV_POINTER)
		return;
	if (e->a >= w)
		e->a = w - 1;
	if (e->b >= h)
		e->b = h - 1;
}

/*
 * libvncserver (0.9.14) stores a client's SetPixelFormat in cl->format
 * on the client's input thread, without a lock, and only then calls this
 * hook; meanwhile the output thread may be encoding an update with that
 * format and the translation made for the old one.  So: (1) a format
 * rfbSetTranslateFunction refuses is still used for the updates already
 * requested, and 1..7 bits per pixel divides by zero in
 * rfbSendRectEncodingRaw (SIGFPE: the worker dies, and every client of
 * the guest with it); (2) a valid change under an update in flight
 * translates pixels of the old size into a buffer sized for the new one.
 * Put back the format the translation was made for at once, refuse what
 * libvncserver cannot serve, and switch only with the client's sendMutex
 * held (no update in flight).  Left: the few stores before this call.
 * (Found by the fuzz target tests/fuzz/fuzz-vnc.c.)  Called on another
 * thread (vnc_set_framebuffer, rfbNewFramebuffer), sendMutex is already
 * held and the format is not the client's doing.
 */
static rfbBool
set_translate(rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	struct vnc_client *c = cl->clientData;
	rfbPixelFormat want = cl->format;
	rfbBool ok;

	if (c == NULL || !pthread_equal(pthread_self(), cl->client_thread)) {
		ok = rfbSetTranslateFunction(cl);
		if (c != NULL)
			c->format = cl->format;
		return ok;
	}
	cl->format = c->format;
	if ((want.bitsPerPixel != 8 && want.bitsPerPixel != 16 &&
	    want.bitsPerPixel != 32) ||
	    (!want.trueColour && want.bitsPerPixel != 8)) {
		rfbCloseClient(cl);
		log_warnx("%s: client %s asked for %u bits per pixel%s: "
		    "disconnected it", v->cfg.name, cl->host,
		    (unsigned)want.bitsPerPixel,
		    want.trueColour ? "" : " with a colour map");
		return FALSE;
	}
	LOCK(cl->sendMutex);
	cl->format = want;
	if ((ok = rfbSetTranslateFunction(cl)))
		c->format = want;
	else
		cl->format = c->format;
	UNLOCK(cl->sendMutex);
	return ok;
}

static int
rect_cmp(const void *a, const void *b)
{
	const sraRect *p = a, *q = b;

	if (p->y1 != q->y1)
		return p->y1 < q->y1 ? -1 : 1;
	return p->x1 < q->x1 ? -1 : p->x1 > q->x1;
}

static int
uf_root(int *parent, int i)
{
	while (parent[i] != i)
		i = parent[i] = parent[parent[i]];
	return i;
}

/*
 * What of `sent' a write of `written' during the update may have spoilt:
 * every connected part of `sent' that `written' meets.  What the encoder
 * gets wrong (a palette rectangle's tail, a solid area: display_start)
 * lies in one rectangle of the update, with a written pixel; that
 * rectangle is connected and inside `sent', but `sent' is a superset
 * whose own rectangles may cut it differently: one of those is not
 * enough, its connected part is.
 */
static sraRegionPtr
spoilt_region(sraRegionPtr sent, sraRegionPtr written)
{
	sraRectangleIterator *it;
	sraRegionPtr out, one;
	sraRect *r = NULL, rect;
	int *parent = NULL, n = 0, cap = 0, i, j, a, b;
	bool *hit = NULL, cut = false;

	it = sraRgnGetIterator(sent);
	while (sraRgnIteratorNext(it, &rect)) {
		if (n == cap) {
			sraRect *nr = reallocarray(r, cap ? cap * 2 : 64,
			    sizeof(*r));

			if (nr == NULL) {
				cut = true;
				break;
			}
			r = nr;
			cap = cap ? cap * 2 : 64;
		}
		r[n++] = rect;
	}
	sraRgnReleaseIterator(it);
	parent = calloc((size_t)n + 1, sizeof(*parent));
	hit = calloc((size_t)n + 1, sizeof(*hit));
	if (parent == NULL || hit == NULL || cut) {
		/* Out of memory: all of it, to be sure. */
		free(r);
		free(parent);
		free(hit);
		return sraRgnCreateRgn(sent);
	}
	qsort(r, (size_t)n, sizeof(*r), rect_cmp);
	for (i = 0; i < n; i++)
		parent[i] = i;
	/* Sorted by top edge: a rectangle can only touch those that start
	   no lower than its bottom edge. */
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n && r[j].y1 <= r[i].y2; j++) {
			int xo = (r[i].x2 < r[j].x2 ? r[i].x2 : r[j].x2) -
			    (r[i].x1 > r[j].x1 ? r[i].x1 : r[j].x1);
			int yo = (r[i].y2 < r[j].y2 ? r[i].y2 : r[j].y2) -
			    (r[i].y1 > r[j].y1 ? r[i].y1 : r[j].y1);

			/* Sharing an edge, not just a corner. */
			if ((xo > 0 && yo >= 0) || (yo > 0 && xo >= 0)) {
				a = uf_root(parent, i);
				b = uf_root(parent, j);
				parent[a] = b;
			}
		}
	}
	for (i = 0; i < n; i++) {
		one = sraRgnCreateRect(r[i].x1, r[i].y1, r[i].x2, r[i].y2);
		if (sraRgnAnd(one, written))
			hit[uf_root(parent, i)] = true;
		sraRgnDestroy(one);
	}
	out = sraRgnCreate();
	for (i = 0; i < n; i++) {
		if (!hit[uf_root(parent, i)])
			continue;
		one = sraRgnCreateRect(r[i].x1, r[i].y1, r[i].x2, r[i].y2);
		sraRgnOr(out, one);
		sraRgnDestroy(one);
	}
	free(r);
	free(parent);
	free(hit);
	return out;
}

static bool
is_tight(int encoding)
{
	return encoding == rfbEncodingTight
#ifdef rfbEncodingTightPng
	    || encoding == (int)rfbEncodingTightPng
#endif
	    ;
}

/*
 * libvncserver's Tight encoder (0.9.14, tight.c) reads a pixel of the
 * framebuffer more than once in an update and trusts its first read.
 * When the client's pixel format matches the server's, SendSubrect
 * builds a rectangle's palette from the framebuffer (FastFillPalette),
 * then copies the pixels again to encode them; EncodeIndexedRect writes
 * no index for a pixel whose colour is not in that palette, so a single
 * pixel changed in between shifts every later pixel of the rectangle,
 * up to 65536 of them.  Likewise a solid area is filled with the colour
 * its top-left pixel has when read again (SendRectEncodingTight, and
 * SendSolidRect after FastFillPalette).  The worker writes the shadow
 * while client threads encode it, then marks what it wrote: that sends
 * the changed tiles again, not the rest of the rectangle, which stays
 * wrong for good (docs/RELIABILITY.md: wallpaper showing terminal text).
 * The other encoders send each pixel as they read it, once.
 *
 * So the worker's writes (vnc_shadow_write to vnc_mark) and the start
 * and end of each update (these two hooks) exclude each other, which
 * tells exactly which updates a write overlapped; a Tight update that
 * one overlapped has every connected part of what it sent that the
 * write touched marked again for its client (spoilt_region).  The lock
 * is never held across client I/O: the worker waits for no socket, only
 * for a hook's few region operations, and a hook only for a scan.
 */
static void
display_start(rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	struct vnc_client *c = cl->clientData;
	sraRegionPtr sending;

	if (c == NULL)
		return;
	/* Taken after libvncserver took its copy, before it subtracts
	   what it sends: a superset of the update (marks only add). */
	LOCK(cl->updateMutex);
	sending = sraRgnCreateRgn(cl->modifiedRegion);
	UNLOCK(cl->updateMutex);
	pthread_mutex_lock(&v->shadow_lock);
	sraRgnDestroy(c->sending);
	c->sending = sending;
	sraRgnMakeEmpty(c->written);
	c->in_update = true;
	c->tight = is_tight(cl->preferredEncoding);
	pthread_mutex_unlock(&v->shadow_lock);
}

static void
display_done(rfbClientPtr cl, int result)
{
	struct vnc *v = cl->screen->screenData;
	struct vnc_client *c = cl->clientData;
	sraRegionPtr spoilt;
	bool overlapped;

	if (result)
		atomic_fetch_add(&v->updates_sent, 1);
	if (c == NULL)
		return;
	pthread_mutex_lock(&v->shadow_lock);
	overlapped = c->in_update && !sraRgnEmpty(c->written);
	c->in_update = false;
	pthread_mutex_unlock(&v->shadow_lock);
	/* Out of the update, c->written is this thread's again.  The
	   encoding is the client's to change at any time: whichever it is
	   now, the update may have been Tight. */
	if (overlapped && (c->tight || is_tight(cl->preferredEncoding))) {
		spoilt = spoilt_region(c->sending, c->written);
		LOCK(cl->updateMutex);
		sraRgnOr(cl->modifiedRegion, spoilt);
		UNLOCK(cl->updateMutex);
		sraRgnDestroy(spoilt);
		atomic_fetch_add(&v->resent, 1);
	}
}

/*
 * Check for stalled clients while output may be pending: after a client
 * connects or an update is marked, and for as long as some socket still
 * holds unsent octets.  A trapped, idle screen with a client that has
 * read everything then costs no wake-up at all.
 */
static void
stall_watch(struct vnc *v)
{
	struct timeval tv = { 0, VNC_STALL_CHECK_MS * 1000 };

	if (!evtimer_pending(v->ev_stall, NULL))
		evtimer_add(v->ev_stall, &tv);
}

static void
on_queue(evutil_socket_t fd, short what, void *arg)
{
	struct vnc *v = arg;
	struct vnc_ev evs[64];
	uint64_t cnt;
	uint32_t n, i, nc;

	(void)!read(fd, &cnt, sizeof(cnt));
	reap_threads(v, false);
	nc = atomic_load(&v->nclients);
	if (nc != v->reported_clients) {
		v->reported_clients = nc;
		log_info("%s: %u client%s connected", v->cfg.name, nc,
		    nc == 1 ? "" : "s");
		if (v->cb.clients)
			v->cb.clients(v->arg, nc);
		if (nc > 0)
			stall_watch(v);
	}
	do {
		pthread_mutex_lock(&v->lock);
		for (n = 0; n < 64 && v->qhead != v->qtail; n++, v->qhead++)
			evs[n] = v->queue[v->qhead % VNC_QUEUE];
		pthread_mutex_unlock(&v->lock);
		for (i = 0; i < n; i++) {
			v->input_events++;
			clamp_pointer(v, &evs[i]);
			if (evs[i].type == VNC_EV_KEY && v->cb.key)
				v->cb.key(v->arg, evs[i].a, evs[i].b != 0);
			else if (evs[i].type == VNC_EV_POINTER && v->cb.pointer)
				v->cb.pointer(v->arg, evs[i].a, evs[i].b,
				    evs[i].c);
		}
	} while (n == 64);
}

/*
 * libvncserver (0.9.14, and its master at the time of writing) can lose
 * the wakeup of a closing client's output thread: the thread tests for
 * the close without the update mutex, then waits on updateCond, and the
 * input thread's signals may fall in between; the input thread then
 * joins it forever, and the client (its fd, two threads, a slot under
 * max_clients) is never freed.  Signal again until it has gone.  The
 * iterator holds a reference, so cl stays valid.  (Found by the fuzz
 * target tests/fuzz/fuzz-vnc.c.)
 */
static void
wake_output(rfbClientPtr cl)
{
	LOCK(cl->updateMutex);
	TSIGNAL(cl->updateCond);
	UNLOCK(cl->updateMutex);
}

/*
 * A client whose socket keeps more than the budget unsent for longer than
 * max_stall_ms is not reading.  shutdown() makes its output thread's
 * blocked write fail, and libvncserver then tears the client down on its
 * own threads; closing the fd here would race with them.
 */
static void
on_stall_check(evutil_socket_t fd, short what, void *arg)
{
	struct vnc *v = arg;
	rfbClientIteratorPtr it;
	rfbClientPtr cl;
	struct vnc_client *c;
	uint64_t now = now_ms();
	bool busy = v->marked;
	int outq;

	v->marked = false;
	it = rfbGetClientIterator(v->screen);
	while ((cl = rfbClientIteratorNext(it)) != NULL) {
		c = cl->clientData;
		if (cl->sock == RFB_INVALID_SOCKET || cl->state == RFB_SHUTDOWN) {
			wake_output(cl);
			busy = true;
			continue;
		}
		if (c == NULL)
			continue;
		if (ioctl(cl->sock, SIOCOUTQ, &outq) == -1)
			continue;
		if (outq > 0)
			busy = true;
		if ((uint32_t)outq <= v->cfg.send_budget) {
			c->over_since_ms = 0;
			continue;
		}
		if (c->over_since_ms == 0) {
			c->over_since_ms = now;
			continue;
		}
		if (now - c->over_since_ms >= v->cfg.max_stall_ms) {
			log_warnx("%s: client %s has not read %d octets for "
			    "%llu ms: disconnecting it", v->cfg.name, cl->host,
			    outq, (unsigned long long)(now - c->over_since_ms));
			v->stalled_dropped++;
			c->over_since_ms = UINT64_MAX / 2;
			shutdown(cl->sock, SHUT_RDWR);
		}
	}
	rfbReleaseClientIterator(it);
	if (busy)
		stall_watch(v);
}

/* ------------------------------------------------------------ web */

static const char *
content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript" },
		{ ".css", "text/css" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".json", "application/json" },
		{ ".mp3", "audio/mpeg" },
		{ ".oga", "audio/ogg" },
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/*
 * Is the resolved path real inside the directory root (both from
 * realpath)?  A common prefix is not enough: /usr/share/novnc-old is not
 * inside /usr/share/novnc.
 */
static bool
path_inside(const char *real, const char *root)
{
	size_t n = strlen(root);

	if (strncmp(real, root, n) != 0)
		return false;
	return n == 1 || real[n] == '/' || real[n] == '\0';
}

/*
 * Serves the noVNC directory, read-only.  "/" redirects to a page that
 * connects at once to this guest's RFB port (websockets are detected on
 * that port by libvncserver).
 */
static void
on_http(struct evhttp_request *req, void *arg)
{
	struct vnc *v = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = evhttp_uri_get_path(uri);
	char *decoded = NULL, full[PATH_MAX], real[PATH_MAX], root[PATH_MAX];
	char loc[256];
	struct evbuffer *body;
	struct stat st;
	int fd = -1;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	if (path == NULL || strcmp(path, "/") == 0 || path[0] == '\0') {
		snprintf(loc, sizeof(loc), "/vnc.html?autoconnect=1&resize="
		    "scale&port=%d&path=", v->port);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Location", loc);
		evhttp_send_reply(req, 302, "Found", NULL);
		return;
	}
	decoded = evhttp_uridecode(path, 0, NULL);
	if (decoded == NULL || strstr(decoded, "..") != NULL ||
	    snprintf(full, sizeof(full), "%s%s", v->cfg.web_dir, decoded) >=
	    (int)sizeof(full) || realpath(v->cfg.web_dir, root) == NULL ||
	    realpath(full, real) == NULL ||
	    !path_inside(real, root) ||
	    (fd = open(real, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		evhttp_send_error(req, 404, "Not Found");
		goto out;
	}
	body = evbuffer_new();
	if (body == NULL || evbuffer_add_file(body, fd, 0, st.st_size) != 0) {
		evbuffer_free(body);
		evhttp_send_error(req, 500, "Internal Error");
		goto out;
	}
	fd = -1;	/* the evbuffer owns it now */
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", content_type(real));
	evhttp_send_reply(req, 200, "OK", body);
	evbuffer_free(body);
out:
	if (fd != -1)
		close(fd);
	free(decoded);
}

/* ------------------------------------------------------------ API */

int
vnc_open(struct event_base *base, const struct vnc_config *cfg,
    const struct vnc_callbacks *cb, void *arg, struct vnc **out)
{
	struct vnc *v;
	char why[256], pw[VNC_PASSWORD_MAX + 2];
	int rc;

	if ((rc = vnc_config_check(cfg, why, sizeof(why))) < 0) {
		log_warnx("%s: %s", cfg->name, why);
		return rc;
	}
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	v->base = base;
	v->cfg = *cfg;
	if (cb != NULL)
		v->cb = *cb;
	v->arg = arg;
	v->listen_fd = -1;
	v->evfd = -1;
	pthread_mutex_init(&v->lock, NULL);
	pthread_mutex_init(&v->shadow_lock, NULL);

	rfbLog = vnc_rfblog;
	rfbErr = vnc_rfberr;

	if (cfg->password_file != NULL) {
		if ((rc = read_password(cfg->password_file, pw, sizeof(pw),
		    why, sizeof(why))) < 0) {
			log_warnx("%s: %s", cfg->name, why);
			goto fail;
		}
		v->passwords[0] = strdup(pw);
		explicit_bzero(pw, sizeof(pw));
		if (v->passwords[0] == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}

	v->listen_fd = listen_tcp(cfg->listen, cfg->port, &v->port);
	if (v->listen_fd < 0) {
		rc = v->listen_fd;
		log_warnx("%s: cannot listen on %s port %d: %s", cfg->name,
		    cfg->listen, cfg->port, strerror(-rc));
		goto fail;
	}

	v->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->evfd == -1) {
		rc = -errno;
		goto fail;
	}
	v->ev_queue = event_new(base, v->evfd, EV_READ | EV_PERSIST, on_queue,
	    v);
	v->ev_stall = evtimer_new(base, on_stall_check, v);
	if (v->ev_queue == NULL || v->ev_stall == NULL ||
	    event_add(v->ev_queue, NULL) == -1) {
		rc = -ENOMEM;
		goto fail;
	}

	if (cfg->web_dir != NULL && cfg->web_port > 0) {
		struct evhttp_bound_socket *bs;
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		v->http = evhttp_new(base);
		if (v->http == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
		evhttp_set_allowed_methods(v->http,
		    EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
		evhttp_set_gencb(v->http, on_http, v);
		bs = evhttp_bind_socket_with_handle(v->http, cfg->listen,
		    (uint16_t)cfg->web_port);
		if (bs == NULL) {
			rc = -EADDRINUSE;
			log_warnx("%s: cannot serve the web viewer on %s port "
			    "%d", cfg->name, cfg->listen, cfg->web_port);
			goto fail;
		}
		getsockname(evhttp_bound_socket_get_fd(bs),
		    (struct sockaddr *)&ss, &len);
		v->web_port = ntohs(ss.ss_family == AF_INET ?
		    ((struct sockaddr_in *)&ss)->sin_port :
		    ((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	*out = v;
	return 0;
fail:
	vnc_close(v);
	return rc;
}

static void
apply_format(rfbScreenInfoPtr s, uint32_t format)
{
	rfbPixelFormat *f = &s->serverFormat;

	f->trueColour = TRUE;
	f->bigEndian = FALSE;
	switch (format) {
	case LFBSHM_FORMAT_RGB565:
		f->bitsPerPixel = 16;
		f->depth = 16;
		f->redMax = 31;
		f->greenMax = 63;
		f->blueMax = 31;
		f->redShift = 11;
		f->greenShift = 5;
		f->blueShift = 0;
		break;
	case LFBSHM_FORMAT_XBGR8888:
		f->bitsPerPixel = 32;
		f->depth = 24;
		f->redMax = f->greenMax = f->blueMax = 255;
		f->redShift = 0;
		f->greenShift = 8;
		f->blueShift = 16;
		break;
	default:	/* XRGB8888, and RGB888 widened by the scanner */
		f->bitsPerPixel = 32;
		f->depth = 24;
		f->redMax = f->greenMax = f->blueMax = 255;
		f->redShift = 16;
		f->greenShift = 8;
		f->blueShift = 0;
		break;
	}
	s->bitsPerPixel = f->bitsPerPixel;
	s->depth = f->depth;
}

static int
start(struct vnc *v, uint8_t *fb, uint32_t width, uint32_t height,
    uint32_t format)
{
	uint32_t bpp = format == LFBSHM_FORMAT_RGB565 ? 2 : 4;
	rfbScreenInfoPtr s;

	s = rfbGetScreen(NULL, NULL, (int)width, (int)height, 8, 3, (int)bpp);
	if (s == NULL)
		return -ENOMEM;
	v->screen = s;
	s->screenData = v;
	s->desktopName = v->cfg.name;
	s->frameBuffer = (char *)fb;
	s->paddedWidthInBytes = (int)(width * bpp);
	apply_format(s, format);
	s->alwaysShared = TRUE;
	s->deferUpdateTime = 0;
	/* Our rectangles are already merged; never collapse to a bbox. */
	s->maxRectsPerUpdate = 100000;
	s->cursor = NULL;	/* never draw a cursor into the shadow */
	s->maxClientWait = (int)v->cfg.max_stall_ms;
	s->newClientHook = new_client;
	s->kbdAddEvent = key_event;
	s->ptrAddEvent = pointer_event;
	s->setTranslateFunction = set_translate;
	s->displayHook = display_start;
	s->displayFinishedHook = display_done;
	if (v->passwords[0] != NULL) {
		s->authPasswdData = v->passwords;
		s->passwordCheck = rfbCheckPasswordByList;
		s->authPasswdFirstViewOnly = 1;
	}
	/* Our own listening socket: exact address, port 0 for tests. */
	s->port = v->port;
	s->ipv6port = 0;
	s->autoPort = FALSE;
	s->listenSock = v->listen_fd;
	s->maxFd = v->listen_fd;
	s->socketState = RFB_SOCKET_READY;
	FD_ZERO(&s->allFds);
	FD_SET(v->listen_fd, &s->allFds);
	v->listen_fd = -1;	/* libvncserver closes it at shutdown */

	rfbInitServer(s);
	rfbRunEventLoop(s, -1, TRUE);
	v->running = true;
	log_info("%s: VNC on %s port %d%s", v->cfg.name, v->cfg.listen,
	    v->port, v->passwords[0] ? " (password)" : "");
	/* The address an administrator pastes into a browser: noVNC's
	   landing page on the web port, which connects at once. */
	if (v->web_port > 0)
		log_info("%s: browser viewer at http://%s%s%s:%d/", v->cfg.name,
		    strchr(v->cfg.listen, ':') != NULL ? "[" : "",
		    v->cfg.listen,
		    strchr(v->cfg.listen, ':') != NULL ? "]" : "", v->web_port);
	return 0;
}

int
vnc_set_framebuffer(struct vnc *v, uint8_t *fb, uint32_t width,
    uint32_t height, uint32_t format)
{
	uint32_t bpp = format == LFBSHM_FORMAT_RGB565 ? 2 : 4;
	rfbClientIteratorPtr it;
	rfbClientPtr cl;

	if (!v->running) {
		v->pending_fb = fb;
		v->pending_w = width;
		v->pending_h = height;
		v->pending_format = format;
		return 0;
	}

	/*
	 * rfbNewFramebuffer itself holds every client's sendMutex while it
	 * swaps the buffer (libvncserver 0.9.13 and later), so no client
	 * sends from the old one; taking those non-recursive mutexes here
	 * first would deadlock the worker on the first mode change with a
	 * client connected.
	 */
	rfbNewFramebuffer(v->screen, (char *)fb, (int)width, (int)height, 8, 3,
	    (int)bpp);
	apply_format(v->screen, format);
	v->screen->paddedWidthInBytes = (int)(width * bpp);

	it = rfbGetClientIterator(v->screen);
	while ((cl = rfbClientIteratorNext(it)) != NULL) {
		LOCK(cl->sendMutex);
		v->screen->setTranslateFunction(cl);
		UNLOCK(cl->sendMutex);
	}
	rfbReleaseClientIterator(it);
	/*
	 * Between rfbNewFramebuffer and apply_format a client thread may
	 * have sent the new buffer with libvncserver's default format;
	 * send it all again with the right one.
	 */
	rfbMarkRectAsModified(v->screen, 0, 0, (int)width, (int)height);
	log_info("%s: framebuffer now %ux%u", v->cfg.name, width, height);
	return 0;
}

int
vnc_start(struct vnc *v)
{
	if (v->running)
		return 0;
	if (v->pending_fb == NULL)
		return -EINVAL;
	return start(v, v->pending_fb, v->pending_w, v->pending_h,
	    v->pending_format);
}

void
vnc_shadow_write(struct vnc *v)
{
	if (!v->running || v->shadow_locked)
		return;
	pthread_mutex_lock(&v->shadow_lock);
	v->shadow_locked = true;
}

/* Tell the updates in flight what the worker wrote (display_start). */
static void
shadow_written(struct vnc *v, sraRegionPtr region)
{
	rfbClientIteratorPtr it;
	rfbClientPtr cl;
	struct vnc_client *c;

	it = rfbGetClientIterator(v->screen);
	while ((cl = rfbClientIteratorNext(it)) != NULL) {
		c = cl->clientData;
		if (c != NULL && c->in_update)
			sraRgnOr(c->written, region);
	}
	rfbReleaseClientIterator(it);
}

void
vnc_mark(struct vnc *v, const struct scan_rect *r, size_t n)
{
	sraRegionPtr region, rect;
	size_t i;

	if (!v->running)
		return;
	if (n == 0) {
		if (v->shadow_locked) {
			v->shadow_locked = false;
			pthread_mutex_unlock(&v->shadow_lock);
		}
		return;
	}
	region = sraRgnCreate();
	for (i = 0; i < n; i++) {
		rect = sraRgnCreateRect((int)r[i].x, (int)r[i].y,
		    (int)(r[i].x + r[i].w), (int)(r[i].y + r[i].h));
		sraRgnOr(region, rect);
		sraRgnDestroy(rect);
	}
	if (v->shadow_locked) {
		shadow_written(v, region);
		v->shadow_locked = false;
		pthread_mutex_unlock(&v->shadow_lock);
	}
	v->rects_marked += n;
	rfbMarkRegionAsModified(v->screen, region);
	sraRgnDestroy(region);
	v->marked = true;
	stall_watch(v);
}

bool
vnc_wants_update(struct vnc *v)
{
	rfbClientIteratorPtr it;
	rfbClientPtr cl;
	bool wants = false;

	if (!v->running)
		return false;
	it = rfbGetClientIterator(v->screen);
	while (!wants && (cl = rfbClientIteratorNext(it)) != NULL) {
		LOCK(cl->updateMutex);
		wants = !sraRgnEmpty(cl->requestedRegion);
		UNLOCK(cl->updateMutex);
	}
	rfbReleaseClientIterator(it);
	return wants;
}

uint32_t
vnc_nclients(struct vnc *v)
{
	return v->reported_clients;
}

void
vnc_get_stats(struct vnc *v, struct vnc_stats *out)
{
	rfbClientIteratorPtr it;
	rfbClientPtr cl;
	uint64_t bytes = atomic_load(&v->bytes_gone);

	memset(out, 0, sizeof(*out));
	if (v->running) {
		it = rfbGetClientIterator(v->screen);
		while ((cl = rfbClientIteratorNext(it)) != NULL)
			bytes += (uint64_t)rfbStatGetSentBytes(cl);
		rfbReleaseClientIterator(it);
	}
	out->clients = v->reported_clients;
	out->clients_total = atomic_load(&v->clients_total);
	out->rects_marked = v->rects_marked;
	out->updates_sent = atomic_load(&v->updates_sent);
	out->bytes_sent = bytes;
	out->input_events = v->input_events;
	out->input_dropped = atomic_load(&v->input_dropped);
	out->stalled_dropped = v->stalled_dropped;
	out->refused = atomic_load(&v->refused);
}

int
vnc_port(struct vnc *v)
{
	return v->port;
}

int
vnc_web_port(struct vnc *v)
{
	return v->web_port;
}

int
vnc_add_client_fd(struct vnc *v, int fd)
{
	rfbClientPtr cl;

	if (!v->running) {
		close(fd);
		return -EINVAL;
	}
	/* What libvncserver's listener thread does with an accepted fd;
	   rfbNewClient closes fd when it refuses it. */
	if ((cl = rfbNewClient(v->screen, fd)) == NULL)
		return -ECONNREFUSED;
	if (!cl->onHold)
		rfbStartOnHoldClient(cl);
	return 0;
}

/*
 * rfbShutdownServer(screen, TRUE) (libvncserver 0.9.14, main.c) lets go
 * of its iterator's hold on a client before it closes the client and
 * reads it again, while the client's own thread frees it: the worker died
 * of that at SIGTERM with clients connected (SEGV in rfbShutdownServer,
 * tests/integration/test-restart.sh under ASan).  So hang up on every
 * client first, as on_stall_check does, and give their threads a bounded
 * time to take themselves off the list (client_gone runs after that):
 * the shutdown then finds none.
 */
static void
hang_up_all(struct vnc *v)
{
	struct timespec ts = { 0, 10 * 1000000 };
	rfbClientIteratorPtr it;
	rfbClientPtr cl;
	int i;

	it = rfbGetClientIterator(v->screen);
	while ((cl = rfbClientIteratorNext(it)) != NULL) {
		if (cl->sock != RFB_INVALID_SOCKET)
			shutdown(cl->sock, SHUT_RDWR);
		wake_output(cl);
	}
	rfbReleaseClientIterator(it);
	for (i = 0; i < 200 && atomic_load(&v->nclients) > 0; i++)
		nanosleep(&ts, NULL);
}

void
vnc_close(struct vnc *v)
{
	if (v == NULL)
		return;
	if (v->screen != NULL) {
		if (v->running) {
			log_debug("%s: %llu Tight updates overlapped a write and "
			    "were marked again", v->cfg.name,
			    (unsigned long long)atomic_load(&v->resent));
			hang_up_all(v);
			reap_threads(v, true);
			rfbShutdownServer(v->screen, TRUE);
		}
		v->screen->frameBuffer = NULL;
		rfbScreenCleanup(v->screen);
	}
	if (v->ev_queue != NULL)
		event_free(v->ev_queue);
	if (v->ev_stall != NULL)
		event_free(v->ev_stall);
	if (v->http != NULL)
		evhttp_free(v->http);
	if (v->evfd != -1)
		close(v->evfd);
	if (v->listen_fd != -1)
		close(v->listen_fd);
	if (v->passwords[0] != NULL) {
		explicit_bzero(v->passwords[0], strlen(v->passwords[0]));
		free(v->passwords[0]);
	}
	pthread_mutex_destroy(&v->lock);
	pthread_mutex_destroy(&v->shadow_lock);
	free(v);
}
