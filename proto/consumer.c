/* consumer.c - the lfbshm consumer; see lfbshm-consumer.h. */
#include "config.h"

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lfbshm-consumer.h"

/* Room to receive (and then refuse) more descriptors than LFBSHM_NFDS. */
#define MAX_RECV_FDS		16
/* The mode seqlock: a reader gives up after this many reads *and* this
   long, so a provider preempted mid-change is not called broken. */
#define MODE_MIN_TRIES		100
#define MODE_PATIENCE_MS	100

struct lfbshm_consumer {
	int			 sock;		/* liveness link */
	int			 fb_fd;
	int			 kick;		/* fd [2] */
	int			 notify;	/* fd [3] */
	int			 epfd;		/* notify + sock, for callers */

	uint8_t			*ctrl;		/* control region, RW */
	size_t			 ctrl_len;
	const uint8_t		*fb;		/* framebuffer, RO */
	size_t			 fb_len;
	bool			 fb_can_shrink;

	struct lfbshm_header	 hdr;		/* private copy, checked */
	uint64_t		 features;
	char			 tracker[16];	/* from the WELCOME */
	uint64_t		 npages;
	size_t			 nwords;

	/* Shared blocks, inside ctrl by the header check. */
	struct lfbshm_mode	*mode;
	struct lfbshm_request	*req;
	const uint8_t		*bitmap;
	struct lfbshm_input_ring *ring;
	struct lfbshm_input	*slots;

	uint32_t		 mode_gen;	/* last read by the caller */
	uint32_t		 req_seq;	/* last posted */
	uint32_t		 pending_op;
	bool			 pending;	/* req_seq not answered yet */
	bool			 lost_reply;	/* a GET_DIRTY answer dropped */
	uint32_t		 prod;		/* our input counter */
	int			 timeout_ms;

	int			 broken;	/* 0, -EPROTO or -EPIPE */
	bool			 unwatched;	/* fds taken out of epfd */
	struct lfbshm_consumer_stats st;
	char			 err[256];
};

static int __attribute__((__format__(__printf__, 3, 4)))
cfail(struct lfbshm_consumer *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return err;
}

/* The provider is not to be talked to any more: remember why. */
static int __attribute__((__format__(__printf__, 3, 4)))
cbreak(struct lfbshm_consumer *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->broken = err;
	return err;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline for poll(2); -1 forever. */
static int
remaining(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	if (left <= 0)
		return 0;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

static void
close_fds(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Eventfds have no file type of their own; /proc names them.  Without
   /proc there is nothing to check against and the fd is taken on trust. */
static int
is_eventfd(int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return errno == ENOENT || errno == EACCES;
	link[n] = '\0';
	return strcmp(link, "anon_inode:[eventfd]") == 0;
}

static void
kick(struct lfbshm_consumer *c)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is saturated, a kick is pending anyway. */
	(void)!write(c->kick, &one, sizeof(one));
}

static void
drain(int fd)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
}

/* 0 while the provider is there; breaks the consumer otherwise. */
static int
check_hangup(struct lfbshm_consumer *c)
{
	char b;
	ssize_t n;

	n = recv(c->sock, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0)
		return cbreak(c, -EPROTO, "the provider sent a message after "
		    "the handshake");
	if (n == 0)
		return cbreak(c, -EPIPE, "the provider closed the connection");
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	return cbreak(c, -EPIPE, "the provider connection failed: %s",
	    strerror(errno));
}

/* ------------------------------------------------------------ handshake */

static int
dial(struct lfbshm_consumer *c, const char *path, int timeout_ms)
{
	struct sockaddr_un sun;
	struct timeval tv;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return cfail(c, -EINVAL, "socket path too long: %s", path);
	memcpy(sun.sun_path, path, strlen(path));

	c->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->sock < 0)
		return cfail(c, -errno, "socket: %s", strerror(errno));
	if (timeout_ms >= 0) {
		/* Bounds connect(2) on a full backlog. */
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		if (setsockopt(c->sock, SOL_SOCKET, SO_SNDTIMEO, &tv,
		    sizeof(tv)) == -1)
			return cfail(c, -errno, "SO_SNDTIMEO: %s",
			    strerror(errno));
	}
	if (connect(c->sock, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return cfail(c, -errno, "no provider at %s: %s", path,
		    strerror(errno));
	return 0;
}

static int
refusal(struct lfbshm_consumer *c, const struct lfbshm_welcome *w)
{
	char reason[LFBSHM_REASON_LEN];

	lfbshm_welcome_reason(w, reason, sizeof(reason));
	switch (w->status) {
	case LFBSHM_STATUS_BUSY:
		return cfail(c, -EBUSY, "provider busy: %s", reason);
	case LFBSHM_STATUS_VERSION:
		return cfail(c, -EPROTONOSUPPORT, "provider speaks no common "
		    "version: %s", reason);
	case LFBSHM_STATUS_INVALID:
		return cfail(c, -EPROTO, "provider calls our HELLO invalid: "
		    "%s", reason);
	default:
		return cfail(c, -EIO, "provider failed: %s", reason);
	}
}

/*
 * Receive the WELCOME and every descriptor that came with it; the caller
 * owns fds[0..*nfds) whatever happens.
 */
static int
recv_welcome(struct lfbshm_consumer *c, struct lfbshm_welcome *w, int *fds,
    int *nfds, int timeout_ms)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * MAX_RECV_FDS)];
	} cbuf;
	struct pollfd pfd = { .fd = c->sock, .events = POLLIN };
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	ssize_t n;
	size_t i, k;
	int r;

	*nfds = 0;
	while ((r = poll(&pfd, 1, timeout_ms)) == -1 && errno == EINTR)
		;
	if (r == -1)
		return cfail(c, -errno, "poll: %s", strerror(errno));
	if (r == 0)
		return cfail(c, -ETIMEDOUT, "no WELCOME within %d ms",
		    timeout_ms);

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = w;
	iov.iov_len = sizeof(*w);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	n = recvmsg(c->sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n == -1)
		return cfail(c, errno == ECONNRESET ? -EPIPE : -errno,
		    "receiving the WELCOME: %s", strerror(errno));

	/* Collect every descriptor first, so that all of them get closed. */
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k && *nfds < MAX_RECV_FDS; i++)
			memcpy(&fds[(*nfds)++], CMSG_DATA(cm) + i * sizeof(int),
			    sizeof(int));
	}
	if (n == 0)
		return cfail(c, -EPIPE, "the provider closed the connection "
		    "without a WELCOME");
	if ((msg.msg_flags & MSG_TRUNC) != 0 || (size_t)n != sizeof(*w))
		return cfail(c, -EPROTO, "WELCOME of %s%zd octets, expected "
		    "%zu", (msg.msg_flags & MSG_TRUNC) ? "more than " : "", n,
		    sizeof(*w));
	if ((msg.msg_flags & MSG_CTRUNC) != 0)
		return cfail(c, -EPROTO, "the WELCOME carried more than %d "
		    "descriptors", MAX_RECV_FDS);
	return 0;
}

/* Take the four descriptors; they belong to c from here on. */
static int
attach(struct lfbshm_consumer *c, const struct lfbshm_welcome *w, int *fds)
{
	struct epoll_event ev;
	struct stat cst, fst;
	char why[192];
	void *p;
	int ctrl_fd = fds[0], seals, r;

	c->fb_fd = fds[1];
	c->kick = fds[2];
	c->notify = fds[3];
	fds[1] = fds[2] = fds[3] = -1;

	if (fstat(ctrl_fd, &cst) == -1 || fstat(c->fb_fd, &fst) == -1)
		return cfail(c, -errno, "fstat: %s", strerror(errno));
	if (!S_ISREG(cst.st_mode))
		return cfail(c, -EPROTO, "descriptor [0] is not a memfd");
	/* A control region that can shrink would fault us (SIGBUS). */
	seals = fcntl(ctrl_fd, F_GET_SEALS);
	if (seals == -1 || (seals & F_SEAL_SHRINK) == 0)
		return cfail(c, -EPROTO, "the control memfd is not sealed "
		    "against shrinking");
	if (!S_ISREG(fst.st_mode))
		return cfail(c, -EPROTO, "descriptor [1] (fb) is not a "
		    "regular file");
	if (!is_eventfd(c->kick) || !is_eventfd(c->notify))
		return cfail(c, -EPROTO, "descriptors [2] and [3] must be "
		    "eventfds");
	if ((r = lfbshm_check_fds(w, (uint64_t)cst.st_size,
	    (uint64_t)fst.st_size, why, sizeof(why))) != 0)
		return cfail(c, lfbshm_wire_errno(r), "%s", why);

	p = mmap(NULL, w->ctrl_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    ctrl_fd, 0);
	if (p == MAP_FAILED)
		return cfail(c, -errno, "mapping the control region: %s",
		    strerror(errno));
	c->ctrl = p;
	c->ctrl_len = w->ctrl_size;

	/* The header is immutable by contract: copy it once, trust only the
	   copy. */
	memcpy(&c->hdr, c->ctrl, sizeof(c->hdr));
	if ((r = lfbshm_check_header(&c->hdr, w, (uint64_t)cst.st_size,
	    (uint64_t)fst.st_size, why, sizeof(why))) != 0)
		return cfail(c, lfbshm_wire_errno(r), "bad control region: %s",
		    why);

	p = mmap(NULL, w->fb_map_size, PROT_READ, MAP_SHARED, c->fb_fd,
	    (off_t)w->fb_map_offset);
	if (p == MAP_FAILED)
		return cfail(c, -errno, "mapping the framebuffer: %s",
		    strerror(errno));
	c->fb = p;
	c->fb_len = w->fb_map_size;
	/* A file without F_SEAL_SHRINK (not a memfd, or unsealed) can be
	   truncated under the mapping. */
	seals = fcntl(c->fb_fd, F_GET_SEALS);
	c->fb_can_shrink = seals == -1 || (seals & F_SEAL_SHRINK) == 0;

	/* Shared with the provider's descriptions: it uses them
	   non-blocking too. */
	if (fcntl(c->kick, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(c->notify, F_SETFL, O_NONBLOCK) == -1)
		return cfail(c, -errno, "O_NONBLOCK: %s", strerror(errno));

	c->features = w->features;
	c->npages = c->hdr.fb_size / LFBSHM_PAGE_SIZE;
	c->nwords = lfbshm_bitmap_words(c->npages);
	c->mode = (struct lfbshm_mode *)(c->ctrl + c->hdr.mode_offset);
	c->req = (struct lfbshm_request *)(c->ctrl + c->hdr.request_offset);
	c->bitmap = c->ctrl + c->hdr.bitmap_offset;
	c->ring = (struct lfbshm_input_ring *)(c->ctrl +
	    c->hdr.input_offset);
	c->slots = (struct lfbshm_input *)(c->ctrl + c->hdr.input_offset +
	    sizeof(struct lfbshm_input_ring));

	if ((c->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return cfail(c, -errno, "epoll_create1: %s", strerror(errno));
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->notify, &ev) == -1)
		return cfail(c, -errno, "epoll_ctl: %s", strerror(errno));
	ev.events = EPOLLIN | EPOLLRDHUP;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->sock, &ev) == -1)
		return cfail(c, -errno, "epoll_ctl: %s", strerror(errno));
	return 0;
}

int
lfbshm_consumer_open(const char *socket_path, uint64_t want_features,
    int timeout_ms, struct lfbshm_consumer **out, char *why, size_t whylen)
{
	struct lfbshm_consumer *c;
	struct lfbshm_welcome w;
	struct lfbshm_hello h;
	int fds[MAX_RECV_FDS], nfds = 0, r;
	char wwhy[192];

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = -ENOMEM;
		if (why != NULL && whylen > 0)
			snprintf(why, whylen, "out of memory");
		return r;
	}
	c->sock = c->fb_fd = c->kick = c->notify = c->epfd = -1;
	c->timeout_ms = timeout_ms < 0 ? -1 : timeout_ms;

	if (socket_path == NULL) {
		r = cfail(c, -EINVAL, "no socket path");
		goto fail;
	}
	if ((r = dial(c, socket_path, c->timeout_ms)) != 0)
		goto fail;

	lfbshm_hello_init(&h, LFBSHM_VERSION, LFBSHM_VERSION,
	    want_features & LFBSHM_F_ALL);
	/* A provider that refused at once may have closed already: its
	   WELCOME is still queued, so go on and read it. */
	if (send(c->sock, &h, sizeof(h), MSG_NOSIGNAL) == -1 &&
	    errno != EPIPE && errno != ECONNRESET) {
		r = cfail(c, -errno, "sending the HELLO: %s", strerror(errno));
		goto fail;
	}
	if ((r = recv_welcome(c, &w, fds, &nfds, c->timeout_ms)) != 0)
		goto fail;
	if ((r = lfbshm_check_welcome(&w, LFBSHM_VERSION, LFBSHM_VERSION,
	    want_features & LFBSHM_F_ALL, wwhy, sizeof(wwhy))) != 0) {
		r = cfail(c, lfbshm_wire_errno(r), "bad WELCOME: %s", wwhy);
		goto fail;
	}
	if (w.status != LFBSHM_STATUS_OK) {
		r = refusal(c, &w);
		if (nfds != 0)
			r = cfail(c, -EPROTO, "a refusal (status %u) came with "
			    "%d descriptors", w.status, nfds);
		goto fail;
	}
	if (nfds != LFBSHM_NFDS) {
		r = cfail(c, -EPROTO, "the WELCOME came with %d descriptors, "
		    "expected %d", nfds, LFBSHM_NFDS);
		goto fail;
	}
	/* Checked printable and terminated by lfbshm_check_welcome. */
	memcpy(c->tracker, w.tracker, sizeof(c->tracker));
	r = attach(c, &w, fds);
	/* attach took [1..3]; [0] is only needed until it is mapped. */
	close(fds[0]);
	nfds = 0;
	if (r != 0)
		goto fail;
	*out = c;
	return 0;

fail:
	close_fds(fds, nfds);
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", c->err);
	lfbshm_consumer_close(c);
	return r;
}

void
lfbshm_consumer_close(struct lfbshm_consumer *c)
{
	if (c == NULL)
		return;
	if (c->fb != NULL)
		munmap((void *)c->fb, c->fb_len);
	if (c->ctrl != NULL)
		munmap(c->ctrl, c->ctrl_len);
	if (c->epfd != -1)
		close(c->epfd);
	if (c->notify != -1)
		close(c->notify);
	if (c->kick != -1)
		close(c->kick);
	if (c->fb_fd != -1)
		close(c->fb_fd);
	if (c->sock != -1)
		close(c->sock);
	free(c);
}

/* ------------------------------------------------------------ accessors */

const char *
lfbshm_consumer_error(const struct lfbshm_consumer *c)
{
	return c->err;
}

int
lfbshm_consumer_broken(const struct lfbshm_consumer *c)
{
	return c->broken;
}

uint64_t
lfbshm_consumer_features(const struct lfbshm_consumer *c)
{
	return c->features;
}

const char *
lfbshm_consumer_tracker_name(const struct lfbshm_consumer *c)
{
	if (c->tracker[0] != '\0')
		return c->tracker;
	return (c->features & LFBSHM_F_DIRTY) != 0 ? "provider" : "none";
}

void
lfbshm_consumer_set_timeout(struct lfbshm_consumer *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms < 0 ? -1 : timeout_ms;
}

void
lfbshm_consumer_stats(const struct lfbshm_consumer *c,
    struct lfbshm_consumer_stats *st)
{
	*st = c->st;
}

const uint8_t *
lfbshm_consumer_fb(const struct lfbshm_consumer *c, size_t *len)
{
	if (len != NULL)
		*len = c->fb_len;
	return c->fb;
}

uint64_t
lfbshm_consumer_npages(const struct lfbshm_consumer *c)
{
	return c->npages;
}

int
lfbshm_consumer_fb_fd(const struct lfbshm_consumer *c)
{
	return c->fb_fd;
}

bool
lfbshm_consumer_fb_can_shrink(const struct lfbshm_consumer *c)
{
	return c->fb_can_shrink;
}

int
lfbshm_consumer_notify_fd(const struct lfbshm_consumer *c)
{
	return c->epfd;
}

/* ----------------------------------------------------------------- mode */

int
lfbshm_consumer_mode(struct lfbshm_consumer *c, struct lfbshm_mode_info *out)
{
	struct lfbshm_mode copy;
	struct lfbshm_mode_info mi;
	int64_t deadline = -1;
	unsigned int tries;
	char why[192];
	int r;

	if (c->broken)
		return c->broken;
	for (tries = 1; !lfbshm_mode_try_read(c->mode, &copy); tries++) {
		if (deadline < 0)
			deadline = now_ms() + MODE_PATIENCE_MS;
		else if (tries >= MODE_MIN_TRIES && now_ms() >= deadline)
			return cbreak(c, -EPROTO, "mode seqlock: the "
			    "generation stayed odd or kept moving over %u "
			    "reads in %d ms", tries, MODE_PATIENCE_MS);
		if (tries > 8)
			sched_yield();
	}
	if (copy.gen == 0)
		return cfail(c, -ENODATA, "the provider has published no "
		    "mode yet");
	if ((r = lfbshm_check_mode(&copy, c->hdr.fb_size, &mi, why,
	    sizeof(why))) != 0)
		return cbreak(c, lfbshm_wire_errno(r), "bad mode: %s", why);
	c->mode_gen = mi.gen;
	*out = mi;
	return 0;
}

/* ------------------------------------------------------------- requests */

/*
 * Wait until rep_seq answers seq, watching the socket for a hang-up.  The
 * notify eventfd is drained on the way; if events are pending when we are
 * done, it is kicked again so that the caller's poll loop still wakes.
 */
static int
wait_reply(struct lfbshm_consumer *c, uint32_t seq)
{
	struct pollfd pfd[2];
	int64_t deadline;
	uint32_t rep;
	char why[128];
	int r, answered;

	deadline = c->timeout_ms < 0 ? -1 : now_ms() + c->timeout_ms;
	for (;;) {
		/* Pairs with the provider's release store of rep_seq: the
		   reply fields are visible once the new value is. */
		rep = lfbshm_load(&c->req->rep_seq, memory_order_acquire);
		answered = lfbshm_check_rep_seq(rep, seq, why, sizeof(why));
		if (answered < 0) {
			r = cbreak(c, -EPROTO, "%s", why);
			break;
		}
		if (answered) {
			c->pending = false;
			r = 0;
			break;
		}
		pfd[0] = (struct pollfd){ .fd = c->notify, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = c->sock,
		    .events = POLLIN | POLLRDHUP };
		r = poll(pfd, 2, remaining(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			r = cfail(c, -errno, "poll: %s", strerror(errno));
			break;
		}
		if (r == 0) {
			c->st.timeouts++;
			r = cfail(c, -ETIMEDOUT, "no reply to request %u within "
			    "%d ms", seq, c->timeout_ms);
			break;
		}
		if (pfd[1].revents != 0 && (r = check_hangup(c)) != 0)
			break;
		if (pfd[0].revents != 0)
			drain(c->notify);
	}
	/* The reply poked the notify fd too, even when it was answered before
	   we polled: eat that kick so the caller's poll wakes for events only,
	   and put one back if an event is pending. */
	if (c->broken == 0)
		drain(c->notify);
	if (c->broken == 0 &&
	    lfbshm_load(&c->req->events, memory_order_relaxed) != 0) {
		uint64_t one = 1;

		(void)!write(c->notify, &one, sizeof(one));
	}
	return r;
}

/* Post op and wait for its reply; the reply words are read once each. */
static int
transact(struct lfbshm_consumer *c, uint32_t op, uint32_t arg0,
    uint32_t *status, uint32_t *flags, uint32_t *gen)
{
	uint32_t seq;
	char why[192];
	int r;

	if (c->broken)
		return c->broken;
	if (c->pending) {
		/* One request at a time: the late one is answered first. */
		if ((r = wait_reply(c, c->req_seq)) != 0)
			return r;
		if (c->pending_op == LFBSHM_OP_GET_DIRTY) {
			/* Its pages were cleared and never seen. */
			c->lost_reply = true;
			c->st.lost_replies++;
		}
	}
	seq = c->req_seq + 1;
	lfbshm_store(&c->req->op, op, memory_order_relaxed);
	lfbshm_store(&c->req->arg0, arg0, memory_order_relaxed);
	/* The provider reads op and arg0 after it sees the new req_seq. */
	lfbshm_store(&c->req->req_seq, seq, memory_order_release);
	c->req_seq = seq;
	c->pending = true;
	c->pending_op = op;
	c->st.requests++;
	kick(c);

	if ((r = wait_reply(c, seq)) != 0)
		return r;
	*status = lfbshm_load(&c->req->rep_status, memory_order_relaxed);
	*flags = lfbshm_load(&c->req->rep_flags, memory_order_relaxed);
	*gen = lfbshm_load(&c->req->rep_mode_gen, memory_order_relaxed);
	if ((r = lfbshm_check_reply(op, c->features, *status, *flags, why,
	    sizeof(why))) != 0)
		return cbreak(c, lfbshm_wire_errno(r), "bad reply: %s", why);
	return 0;
}

static const char *
op_name(uint32_t op)
{
	switch (op) {
	case LFBSHM_OP_GET_DIRTY:
		return "GET_DIRTY";
	case LFBSHM_OP_ARM_TRAP:
		return "ARM_TRAP";
	case LFBSHM_OP_DISARM_TRAP:
		return "DISARM_TRAP";
	case LFBSHM_OP_TRACK_OFF:
		return "TRACK_OFF";
	default:
		return "?";
	}
}

/* A well-formed refusal of an operation: report the provider's errno. */
static int
op_status(struct lfbshm_consumer *c, uint32_t op, uint32_t status)
{
	if (status == 0)
		return 0;
	return cfail(c, -(int)status, "the provider answered %s with %s",
	    op_name(op), strerror((int)status));
}

int
lfbshm_consumer_get_dirty(struct lfbshm_consumer *c, uint64_t *bitmap,
    size_t nwords, struct lfbshm_dirty *out)
{
	uint32_t status, flags, gen;
	uint64_t ndirty;
	size_t i;
	int r;

	if (c->broken)
		return c->broken;
	if (bitmap == NULL || nwords < c->nwords || out == NULL)
		return cfail(c, -EINVAL, "bitmap of %zu words, %zu needed",
		    nwords, c->nwords);
	if ((r = transact(c, LFBSHM_OP_GET_DIRTY, 0, &status, &flags,
	    &gen)) != 0)
		return r;
	if (status != 0 && status != EIO)
		return op_status(c, LFBSHM_OP_GET_DIRTY, status);

	memset(out, 0, sizeof(*out));
	out->mode_gen = gen;
	out->mode_changed = gen != c->mode_gen;
	out->status = status;
	out->npages = c->npages;
	out->all_dirty = (flags & LFBSHM_REPLY_ALL_DIRTY) != 0 ||
	    out->mode_changed || c->lost_reply;
	if (out->all_dirty) {
		for (i = 0; i < nwords; i++)
			bitmap[i] = i < c->nwords ? ~UINT64_C(0) : 0;
		if (c->npages % 64 != 0)
			bitmap[c->nwords - 1] =
			    (UINT64_C(1) << (c->npages % 64)) - 1;
		out->dirty_pages = c->npages;
	} else {
		/* Sizes were checked against the header at attach time. */
		if (lfbshm_bitmap_copy(bitmap, nwords, c->bitmap,
		    c->hdr.bitmap_size, c->npages, &ndirty) != 0)
			return cbreak(c, -EPROTO, "bitmap copy failed");
		out->dirty_pages = ndirty;
	}
	c->lost_reply = false;
	return 0;
}

/* A request that needs F_TRAP; the reply's flags in *flags. */
static int
trap_request(struct lfbshm_consumer *c, uint32_t op, uint32_t arg,
    uint32_t *flags)
{
	uint32_t status, gen;
	int r;

	if (c->broken)
		return c->broken;
	if ((c->features & LFBSHM_F_TRAP) == 0)
		return cfail(c, -EOPNOTSUPP, "F_TRAP was not granted");
	if ((r = transact(c, op, arg, &status, flags, &gen)) != 0)
		return r;
	return op_status(c, op, status);
}

int
lfbshm_consumer_arm_trap(struct lfbshm_consumer *c, uint32_t clean_scans,
    bool *already_fired)
{
	uint32_t flags;
	int r;

	if ((r = trap_request(c, LFBSHM_OP_ARM_TRAP, clean_scans,
	    &flags)) != 0)
		return r;
	*already_fired = (flags & LFBSHM_REPLY_TRAP_FIRED) != 0;
	return 0;
}

int
lfbshm_consumer_disarm_trap(struct lfbshm_consumer *c)
{
	uint32_t flags;

	return trap_request(c, LFBSHM_OP_DISARM_TRAP, 0, &flags);
}

int
lfbshm_consumer_track_off(struct lfbshm_consumer *c)
{
	uint32_t status, flags, gen;
	int r;

	if ((r = transact(c, LFBSHM_OP_TRACK_OFF, 0, &status, &flags,
	    &gen)) != 0)
		return r;
	return op_status(c, LFBSHM_OP_TRACK_OFF, status);
}

/* --------------------------------------------------------------- events */

uint32_t
lfbshm_consumer_take_events(struct lfbshm_consumer *c)
{
	const uint32_t known = LFBSHM_EV_TRAP | LFBSHM_EV_MODE |
	    LFBSHM_EV_CLOSING;
	uint32_t ev = 0;

	if (c->broken == 0) {
		/* Drain before taking the bits: a kick that lands after the
		   exchange wakes the next poll. */
		drain(c->notify);
		(void)check_hangup(c);
		ev = lfbshm_exchange(&c->req->events, 0,
		    memory_order_acquire) & known;
	}
	if (c->broken != 0) {
		ev |= LFBSHM_EV_CLOSING;
		/* Level-triggered hang-up would wake the caller forever. */
		if (!c->unwatched) {
			epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->sock, NULL);
			epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->notify, NULL);
			c->unwatched = true;
		}
	}
	return ev;
}

/* ---------------------------------------------------------------- input */

static int
send_input(struct lfbshm_consumer *c, const struct lfbshm_input *ev,
    uint64_t feature)
{
	uint32_t cons;
	char why[128];
	int used;

	if (c->broken)
		return c->broken;
	if ((c->features & feature) == 0)
		return cfail(c, -EOPNOTSUPP, "input feature 0x%llx was not "
		    "granted", (unsigned long long)feature);
	/* Pairs with the provider's release of cons: it is done reading
	   the slots it gave back. */
	cons = lfbshm_load(&c->ring->cons, memory_order_acquire);
	used = lfbshm_check_ring(c->prod, cons, c->hdr.input_entries, why,
	    sizeof(why));
	if (used < 0)
		return cbreak(c, -EPROTO, "input ring: %s", why);
	if ((uint32_t)used == c->hdr.input_entries) {
		c->st.input_dropped++;
		return cfail(c, -ENOBUFS, "input ring full: event dropped");
	}
	memcpy(&c->slots[c->prod & (c->hdr.input_entries - 1)], ev,
	    sizeof(*ev));
	/* The provider reads the slot after it sees the new prod. */
	lfbshm_store(&c->ring->prod, c->prod + 1, memory_order_release);
	c->prod++;
	c->st.input_sent++;
	kick(c);
	return 0;
}

int
lfbshm_consumer_send_key(struct lfbshm_consumer *c, uint32_t keysym,
    bool down)
{
	struct lfbshm_input ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = LFBSHM_INPUT_KEY;
	ev.u.key.keysym = keysym;
	ev.u.key.down = down ? 1 : 0;
	return send_input(c, &ev, LFBSHM_F_INPUT_KEY);
}

int
lfbshm_consumer_send_pointer(struct lfbshm_consumer *c, uint16_t x,
    uint16_t y, uint32_t buttons)
{
	struct lfbshm_input ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = LFBSHM_INPUT_POINTER;
	ev.u.pointer.x = x;
	ev.u.pointer.y = y;
	ev.u.pointer.buttons = buttons;
	return send_input(c, &ev, LFBSHM_F_INPUT_POINTER);
}

int
lfbshm_consumer_send_wheel(struct lfbshm_consumer *c, int32_t dx, int32_t dy)
{
	struct lfbshm_input ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = LFBSHM_INPUT_WHEEL;
	ev.u.wheel.dx = dx;
	ev.u.wheel.dy = dy;
	return send_input(c, &ev, LFBSHM_F_INPUT_POINTER);
}
