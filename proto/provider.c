/* provider.c - the lfbshm provider; see lfbshm-provider.h. */
#include "config.h"

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "lfbshm-provider.h"

#define MAX_PENDING	4	/* connections waiting to send their HELLO */
#define INPUT_BATCH	64	/* events delivered per unlock */

/* epoll tags */
enum {
	TAG_LISTEN = 1,
	TAG_WAKE,
	TAG_CONN,
	TAG_KICK,
	TAG_PENDING		/* + slot */
};

/* One attached consumer; the region is created for it and dies with it, so
   nothing a previous consumer still maps can disturb the next one. */
struct session {
	int			 conn;
	int			 kick;
	int			 notify;
	uint8_t			*ctrl;
	size_t			 ctrl_len;
	struct lfbshm_header	 hdr;
	struct lfbshm_mode	*mode;
	struct lfbshm_request	*req;
	uint8_t			*bitmap;
	struct lfbshm_input_ring *ring;
	struct lfbshm_input	*slots;
	uint64_t		 features;
	uint32_t		 last_seq;	/* last request served */
	uint32_t		 cons;		/* our input counter */
	pid_t			 pid;
	bool			 trap_armed;
};

struct lfbshm_provider {
	pthread_mutex_t		 lock;
	char			*path;
	dev_t			 sock_dev;	/* to unlink only our socket */
	ino_t			 sock_ino;
	int			 listen_fd;
	int			 epfd;
	int			 wake_fd;	/* trap callback, set_mode */
	int			 stop_fd;	/* run_thread */
	int			 pending[MAX_PENDING];
	uint64_t		 pending_seq[MAX_PENDING];	/* age */
	uint64_t		 accepts;

	int			 fb_fd;
	uint64_t		 fb_off;
	uint64_t		 fb_size;
	uint64_t		 npages;
	size_t			 nwords;
	uint64_t		*bm;		/* private bitmap */

	struct lfbshm_tracker	*t;		/* NULL when none */
	uint64_t		 offered;
	uint32_t		 input_entries;
	void			(*on_input)(void *,
				    const struct lfbshm_input *);
	void			*arg;

	struct lfbshm_mode_info	 mode;
	uint32_t		 gen;		/* 0: no mode yet */
	bool			 force_all;	/* next GET_DIRTY: ALL_DIRTY */
	bool			 drop_session;
	_Atomic int		 trap_fired;

	bool			 attached;
	struct session		 s;

	pthread_t		 thread;
	bool			 thread_running;
	struct lfbshm_provider_stats st;
};

static int __attribute__((__format__(__printf__, 4, 5)))
pfail(char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}

static void
poke(int fd)
{
	uint64_t one = 1;

	/* EAGAIN: saturated, a wake-up is pending anyway. */
	(void)!write(fd, &one, sizeof(one));
}

static void
drain(int fd)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
}

static uint32_t
next_gen(uint32_t gen)
{
	uint32_t even = (gen | 1) + 1;

	return even == 0 ? 2 : even;
}

static bool
tracking(const struct lfbshm_provider *p)
{
	return p->t != NULL && p->t->kind != LFBSHM_TRACKER_NONE;
}

/* ------------------------------------------------------------- sessions */

static void
raise_event(struct lfbshm_provider *p, uint32_t ev)
{
	/* Release: whatever we wrote before is visible to the consumer that
	   takes the bit. */
	lfbshm_fetch_or(&p->s.req->events, ev, memory_order_release);
	poke(p->s.notify);
}

static void
end_session(struct lfbshm_provider *p, bool violation, const char *reason)
{
	struct session *s = &p->s;

	if (!p->attached)
		return;
	if (violation)
		log_warnx("lfbshm: dropping consumer pid %d: %s", (int)s->pid,
		    reason);
	else
		log_debug("lfbshm: consumer pid %d detached: %s", (int)s->pid,
		    reason);
	if (tracking(p)) {
		if (s->trap_armed)
			(void)p->t->ops->disarm_trap(p->t);
		(void)p->t->ops->stop(p->t);
	}
	/* Registered descriptions may live on in the consumer: deregister
	   explicitly, close(2) alone would not. */
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, s->conn, NULL);
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, s->kick, NULL);
	close(s->conn);
	close(s->kick);
	close(s->notify);
	munmap(s->ctrl, s->ctrl_len);
	memset(s, 0, sizeof(*s));
	s->conn = s->kick = s->notify = -1;
	p->attached = false;
	p->force_all = true;
	atomic_store(&p->trap_fired, 0);
	p->st.sessions_ended++;
}

static int
send_welcome(int fd, const struct lfbshm_welcome *w, const int *fds, int nfds)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * LFBSHM_NFDS)];
	} cbuf;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;

	memset(&msg, 0, sizeof(msg));
	memset(&cbuf, 0, sizeof(cbuf));
	iov.iov_base = (void *)w;
	iov.iov_len = sizeof(*w);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	}
	if (sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) != sizeof(*w))
		return -errno;
	return 0;
}

static void
refuse(struct lfbshm_provider *p, int fd, uint16_t status, const char *reason)
{
	struct lfbshm_welcome w;

	lfbshm_welcome_refuse(&w, status, reason);
	(void)send_welcome(fd, &w, NULL, 0);
	close(fd);
	p->st.refused++;
	log_debug("lfbshm: refused a consumer (status %u): %s", status,
	    reason);
}

static int
start_session(struct lfbshm_provider *p, int conn, uint16_t version,
    uint64_t granted, char *why, size_t whylen)
{
	struct session *s = &p->s;
	struct lfbshm_header h;
	struct lfbshm_welcome w;
	struct epoll_event ev;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int ctrl = -1, kick = -1, notify = -1, fds[LFBSHM_NFDS], r;
	void *map = MAP_FAILED;

	if (lfbshm_header_init(&h, version, granted, p->fb_size,
	    p->input_entries) != 0)
		return pfail(why, whylen, -EINVAL, "bad layout");
	ctrl = memfd_create("lfbshm-ctrl", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (ctrl == -1) {
		r = pfail(why, whylen, -errno, "memfd_create: %s",
		    strerror(errno));
		goto fail;
	}
	/* Sealed: the consumer must not fault on a shrunk region. */
	if (ftruncate(ctrl, h.ctrl_size) == -1 ||
	    fcntl(ctrl, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_SEAL) == -1) {
		r = pfail(why, whylen, -errno, "sizing the control memfd: %s",
		    strerror(errno));
		goto fail;
	}
	map = mmap(NULL, h.ctrl_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    ctrl, 0);
	if (map == MAP_FAILED) {
		r = pfail(why, whylen, -errno, "mapping the control memfd: %s",
		    strerror(errno));
		goto fail;
	}
	if ((kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1 ||
	    (notify = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		r = pfail(why, whylen, -errno, "eventfd: %s", strerror(errno));
		goto fail;
	}

	/* The region is fresh and zero; nobody else sees it yet. */
	memcpy(map, &h, sizeof(h));
	s->ctrl = map;
	s->ctrl_len = h.ctrl_size;
	s->hdr = h;
	s->mode = (struct lfbshm_mode *)(s->ctrl + h.mode_offset);
	s->req = (struct lfbshm_request *)(s->ctrl + h.request_offset);
	s->bitmap = s->ctrl + h.bitmap_offset;
	s->ring = (struct lfbshm_input_ring *)(s->ctrl + h.input_offset);
	s->slots = (struct lfbshm_input *)(s->ctrl + h.input_offset +
	    sizeof(struct lfbshm_input_ring));
	if (p->gen != 0) {
		s->mode->width = p->mode.width;
		s->mode->height = p->mode.height;
		s->mode->stride = p->mode.stride;
		s->mode->format = p->mode.format;
		s->mode->offset = p->mode.offset;
		lfbshm_store(&s->mode->gen, p->gen, memory_order_release);
	}

	lfbshm_welcome_ok(&w, version, granted, p->fb_off, p->fb_size,
	    h.ctrl_size);
	lfbshm_welcome_set_tracker(&w, p->t != NULL ?
	    lfbshm_tracker_kind_name(p->t->kind) : "none");
	fds[0] = ctrl;
	fds[1] = p->fb_fd;
	fds[2] = kick;
	fds[3] = notify;
	if ((r = send_welcome(conn, &w, fds, LFBSHM_NFDS)) != 0) {
		r = pfail(why, whylen, r, "sending the WELCOME: %s",
		    strerror(-r));
		goto fail;
	}
	close(ctrl);
	ctrl = -1;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u64 = TAG_CONN;
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, conn, &ev) == -1) {
		r = pfail(why, whylen, -errno, "epoll_ctl: %s",
		    strerror(errno));
		goto fail;
	}
	ev.events = EPOLLIN;
	ev.data.u64 = TAG_KICK;
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, kick, &ev) == -1) {
		r = pfail(why, whylen, -errno, "epoll_ctl: %s",
		    strerror(errno));
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, conn, NULL);
		goto fail;
	}

	s->conn = conn;
	s->kick = kick;
	s->notify = notify;
	s->features = granted;
	s->last_seq = 0;
	s->cons = 0;
	s->trap_armed = false;
	s->pid = getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 ?
	    cred.pid : -1;
	p->attached = true;
	p->force_all = true;
	atomic_store(&p->trap_fired, 0);
	p->st.sessions++;
	log_debug("lfbshm: consumer pid %d attached, features 0x%llx",
	    (int)s->pid, (unsigned long long)granted);
	return 0;

fail:
	if (map != MAP_FAILED)
		munmap(map, h.ctrl_size);
	if (notify != -1)
		close(notify);
	if (kick != -1)
		close(kick);
	if (ctrl != -1)
		close(ctrl);
	memset(s, 0, sizeof(*s));
	s->conn = s->kick = s->notify = -1;
	return r;
}

/* A pending connection became readable: its HELLO, or its end. */
static void
handle_hello(struct lfbshm_provider *p, int slot)
{
	struct lfbshm_hello h;
	struct msghdr msg;
	struct iovec iov;
	uint64_t granted;
	uint16_t version;
	uint8_t buf[2 * sizeof(h)];
	char why[128], reason[LFBSHM_REASON_LEN];
	ssize_t n;
	int fd = p->pending[slot], r;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	/* No control buffer: descriptors a consumer might send are
	   discarded by the kernel (MSG_CTRUNC). */
	n = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
	p->pending[slot] = -1;
	if (n <= 0) {
		close(fd);
		return;
	}
	if ((msg.msg_flags & MSG_TRUNC) != 0 || (size_t)n != sizeof(h)) {
		snprintf(reason, sizeof(reason), "HELLO of %zd octets, "
		    "expected %zu", n, sizeof(h));
		refuse(p, fd, LFBSHM_STATUS_INVALID, reason);
		return;
	}
	memcpy(&h, buf, sizeof(h));
	if (lfbshm_check_hello(&h, why, sizeof(why)) != 0) {
		refuse(p, fd, LFBSHM_STATUS_INVALID, why);
		return;
	}
	if (lfbshm_negotiate(&h, LFBSHM_VERSION, LFBSHM_VERSION, p->offered,
	    &version, &granted, why, sizeof(why)) != 0) {
		refuse(p, fd, LFBSHM_STATUS_VERSION, why);
		return;
	}
	if (p->attached) {
		snprintf(reason, sizeof(reason), "busy: consumer pid %d is "
		    "attached", (int)p->s.pid);
		refuse(p, fd, LFBSHM_STATUS_BUSY, reason);
		return;
	}
	if ((r = start_session(p, fd, version, granted, why,
	    sizeof(why))) != 0) {
		log_warnx("lfbshm: cannot start a session: %s", why);
		refuse(p, fd, LFBSHM_STATUS_INTERNAL, why);
	}
}

static void
accept_all(struct lfbshm_provider *p)
{
	struct epoll_event ev;
	int fd, i, j;

	for (;;) {
		fd = accept4(p->listen_fd, NULL, NULL,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("lfbshm: accept");
			return;
		}
		for (i = 0; i < MAX_PENDING; i++)
			if (p->pending[i] == -1)
				break;
		if (i == MAX_PENDING) {
			/* A real consumer sends its HELLO at once: make room
			   by dropping the connection that waited longest, so
			   that silent clients cannot lock consumers out. */
			for (i = 0, j = 1; j < MAX_PENDING; j++)
				if (p->pending_seq[j] < p->pending_seq[i])
					i = j;
			epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->pending[i], NULL);
			refuse(p, p->pending[i], LFBSHM_STATUS_BUSY,
			    "no HELLO in time");
			p->pending[i] = -1;
		}
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.u64 = TAG_PENDING + (uint64_t)i;
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			log_warn("lfbshm: epoll_ctl");
			close(fd);
			continue;
		}
		p->pending[i] = fd;
		p->pending_seq[i] = ++p->accepts;
	}
}

/* The connection polled readable: the consumer left or misbehaves. */
static void
conn_event(struct lfbshm_provider *p)
{
	char b;
	ssize_t n;

	n = recv(p->s.conn, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		end_session(p, true, "it sent a message after the handshake");
	else
		end_session(p, false, "hang-up");
}

/* ------------------------------------------------------------- requests */

static uint32_t
serve_get_dirty(struct lfbshm_provider *p, uint32_t *flags, uint32_t *ndirty)
{
	struct session *s = &p->s;
	bool all = true;
	uint32_t status = 0;
	size_t i, nbytes;
	uint64_t n = 0;
	int r;

	if (tracking(p) && (s->features & LFBSHM_F_DIRTY) != 0) {
		memset(p->bm, 0, p->nwords * sizeof(uint64_t));
		all = false;
		r = p->t->ops->get_dirty(p->t, p->bm, &all);
		/* get_dirty disarms a pending trap. */
		s->trap_armed = false;
		if (r < 0) {
			log_warnx("lfbshm: tracker get_dirty: %s",
			    strerror(-r));
			status = EIO;
			all = true;
		}
		/* Read and cleared either way: the state is fresh now. */
		if (p->force_all)
			all = true;
		p->force_all = false;
	}
	if (!all) {
		if (p->npages % 64 != 0)
			p->bm[p->nwords - 1] &=
			    (UINT64_C(1) << (p->npages % 64)) - 1;
		for (i = 0; i < p->nwords; i++)
			n += (uint64_t)__builtin_popcountll(p->bm[i]);
		/* Word order is octet order on a little-endian host. */
		nbytes = p->nwords * sizeof(uint64_t);
		memcpy(s->bitmap, p->bm, nbytes);
		memset(s->bitmap + nbytes, 0, s->hdr.bitmap_size - nbytes);
	}
	*flags = all ? LFBSHM_REPLY_ALL_DIRTY : 0;
	*ndirty = all ? (uint32_t)p->npages : (uint32_t)n;
	return status;
}

static void
trap_cb(void *arg)
{
	struct lfbshm_provider *p = arg;

	/* Any thread, maybe a fault handler's: an atomic and a write(2). */
	atomic_store(&p->trap_fired, 1);
	poke(p->wake_fd);
}

static uint32_t
serve_arm_trap(struct lfbshm_provider *p, uint32_t *flags)
{
	struct session *s = &p->s;
	int r;

	if ((s->features & LFBSHM_F_TRAP) == 0 || !tracking(p))
		return EOPNOTSUPP;
	if (s->trap_armed) {
		*flags = LFBSHM_REPLY_TRAPPED;
		return 0;
	}
	/* A pending ALL_DIRTY (mode change, restart) is a change the
	   consumer has not scanned yet. */
	if (p->force_all) {
		*flags = LFBSHM_REPLY_TRAP_FIRED;
		return 0;
	}
	r = p->t->ops->arm_trap(p->t, trap_cb, p);
	if (r == 1) {
		*flags = LFBSHM_REPLY_TRAP_FIRED;
		return 0;
	}
	if (r == 0) {
		s->trap_armed = true;
		*flags = LFBSHM_REPLY_TRAPPED;
		return 0;
	}
	return r == -EOPNOTSUPP ? EOPNOTSUPP : EIO;
}

static void
serve_request(struct lfbshm_provider *p)
{
	struct session *s = &p->s;
	struct lfbshm_request r;
	uint32_t seq, status = 0, flags = 0, ndirty = 0;
	char why[128];

	/* Pairs with the consumer's release store: op and arg0 are
	   visible once the new req_seq is. */
	seq = lfbshm_load(&s->req->req_seq, memory_order_acquire);
	if (seq == s->last_seq)
		return;
	s->last_seq = seq;
	p->st.requests++;

	/* One private copy; the consumer may scribble meanwhile. */
	memset(&r, 0, sizeof(r));
	r.op = lfbshm_load(&s->req->op, memory_order_relaxed);
	r.arg0 = lfbshm_load(&s->req->arg0, memory_order_relaxed);
	memcpy(r.req_reserved, s->req->req_reserved, sizeof(r.req_reserved));
	if (lfbshm_check_request(&r, why, sizeof(why)) != 0) {
		log_debug("lfbshm: bad request %u: %s", seq, why);
		p->st.bad_requests++;
		status = EINVAL;
	} else {
		switch (r.op) {
		case LFBSHM_OP_GET_DIRTY:
			status = serve_get_dirty(p, &flags, &ndirty);
			break;
		case LFBSHM_OP_ARM_TRAP:
			status = serve_arm_trap(p, &flags);
			break;
		case LFBSHM_OP_DISARM_TRAP:
			if ((s->features & LFBSHM_F_TRAP) == 0 ||
			    !tracking(p)) {
				status = EOPNOTSUPP;
				break;
			}
			if (s->trap_armed &&
			    p->t->ops->disarm_trap(p->t) < 0)
				status = EIO;
			s->trap_armed = false;
			break;
		case LFBSHM_OP_TRACK_OFF:
			if (tracking(p)) {
				if (s->trap_armed)
					(void)p->t->ops->disarm_trap(p->t);
				s->trap_armed = false;
				if (p->t->ops->stop(p->t) < 0)
					status = EIO;
			}
			p->force_all = true;
			break;
		}
	}
	lfbshm_store(&s->req->rep_status, status, memory_order_relaxed);
	lfbshm_store(&s->req->rep_flags, flags, memory_order_relaxed);
	lfbshm_store(&s->req->rep_mode_gen, p->gen, memory_order_relaxed);
	lfbshm_store(&s->req->rep_dirty_pages, ndirty, memory_order_relaxed);
	/* The bitmap and the words above are visible once rep_seq is. */
	lfbshm_store(&s->req->rep_seq, seq, memory_order_release);
	poke(s->notify);
}

/*
 * Copy up to max valid events out of the ring and give the slots back.
 * *more is set when events are left.  A consumer that breaks the ring
 * indices is dropped.
 */
static size_t
take_input(struct lfbshm_provider *p, struct lfbshm_input *batch,
    size_t max, bool *more)
{
	struct session *s = &p->s;
	struct lfbshm_input ev;
	uint32_t prod, mask = s->hdr.input_entries - 1;
	char why[128], reason[192];
	size_t n = 0;
	int r;

	*more = false;
	/* Pairs with the consumer's release of prod: the slots are
	   written. */
	prod = lfbshm_load(&s->ring->prod, memory_order_acquire);
	if ((r = lfbshm_check_ring(prod, s->cons, s->hdr.input_entries, why,
	    sizeof(why))) < 0) {
		snprintf(reason, sizeof(reason), "input ring: %s", why);
		end_session(p, true, reason);
		return 0;
	}
	while (s->cons != prod && n < max) {
		memcpy(&ev, &s->slots[s->cons & mask], sizeof(ev));
		s->cons++;
		r = lfbshm_check_input(&ev, s->features,
		    p->gen != 0 ? p->mode.width : 0,
		    p->gen != 0 ? p->mode.height : 0, why, sizeof(why));
		if (r == 0)
			batch[n++] = ev;
		else if (r != -LFBSHM_E_INPUT_TYPE) {
			p->st.input_invalid++;
			log_debug("lfbshm: input dropped: %s", why);
		}
	}
	*more = s->cons != prod;
	/* We are done with the slots: the consumer may reuse them. */
	lfbshm_store(&s->ring->cons, s->cons, memory_order_release);
	return n;
}

static void
handle_wake(struct lfbshm_provider *p)
{
	drain(p->wake_fd);
	if (atomic_exchange(&p->trap_fired, 0) && p->attached &&
	    p->s.trap_armed) {
		p->s.trap_armed = false;
		p->st.traps_fired++;
		raise_event(p, LFBSHM_EV_TRAP);
	}
	if (p->drop_session) {
		p->drop_session = false;
		end_session(p, false, "the mode changed and the consumer did "
		    "not accept mode changes");
	}
}

int
lfbshm_provider_dispatch(struct lfbshm_provider *p)
{
	struct epoll_event evs[16];
	struct lfbshm_input batch[INPUT_BATCH];
	size_t nin, j;
	bool more;
	uint64_t tag;
	int n, i;

	n = epoll_wait(p->epfd, evs, 16, 0);
	if (n == -1)
		return errno == EINTR ? 0 : -errno;

	pthread_mutex_lock(&p->lock);
	/* Always: the trap flag and a pending drop cost nothing to check. */
	handle_wake(p);
	for (i = 0; i < n; i++) {
		tag = evs[i].data.u64;
		if (tag == TAG_LISTEN)
			accept_all(p);
		else if (tag == TAG_CONN && p->attached)
			conn_event(p);
		else if (tag == TAG_KICK && p->attached)
			drain(p->s.kick);
		else if (tag >= TAG_PENDING &&
		    tag < TAG_PENDING + MAX_PENDING &&
		    p->pending[tag - TAG_PENDING] != -1)
			handle_hello(p, (int)(tag - TAG_PENDING));
	}
	/* Requests and input are looked at whatever woke us: a lost
	   wake-up then costs nothing. */
	if (p->attached)
		serve_request(p);
	while (p->attached) {
		nin = take_input(p, batch, INPUT_BATCH, &more);
		if (nin > 0 && p->on_input != NULL) {
			p->st.input_events += nin;
			pthread_mutex_unlock(&p->lock);
			for (j = 0; j < nin; j++)
				p->on_input(p->arg, &batch[j]);
			pthread_mutex_lock(&p->lock);
		}
		if (!more)
			break;
	}
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* ---------------------------------------------------------------- modes */

int
lfbshm_provider_set_mode(struct lfbshm_provider *p,
    const struct lfbshm_mode_info *mi)
{
	struct lfbshm_mode m;
	struct lfbshm_mode_info v;
	char why[128];
	uint32_t old;

	memset(&m, 0, sizeof(m));
	m.gen = 2;
	m.width = mi->width;
	m.height = mi->height;
	m.stride = mi->stride;
	m.format = mi->format;
	m.offset = mi->offset;
	if (lfbshm_check_mode(&m, p->fb_size, &v, why, sizeof(why)) != 0) {
		log_warnx("lfbshm: set_mode: %s", why);
		return -EINVAL;
	}

	pthread_mutex_lock(&p->lock);
	old = p->gen;
	p->gen = next_gen(old);
	v.gen = p->gen;
	p->mode = v;
	p->force_all = true;
	if (p->attached) {
		(void)lfbshm_mode_write(p->s.mode, old, &v);
		if (old != 0 &&
		    (p->s.features & LFBSHM_F_MODE_CHANGE) == 0) {
			/* Dispatch owns the tracker: let it end the session. */
			p->drop_session = true;
			poke(p->wake_fd);
		} else
			raise_event(p, LFBSHM_EV_MODE);
	}
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* ------------------------------------------------------ open and close */

/*
 * Bind path; a socket file there that nobody answers on is stale and is
 * replaced, anything else is left alone.
 */
static int
bind_listen(struct lfbshm_provider *p, const char *path, char *why,
    size_t whylen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, probe, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return pfail(why, whylen, -errno, "socket: %s",
		    strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno != EADDRINUSE) {
			r = pfail(why, whylen, -errno, "bind %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (lstat(path, &st) == -1 || !S_ISSOCK(st.st_mode)) {
			r = pfail(why, whylen, -EEXIST, "%s exists and is not "
			    "a socket", path);
			goto fail;
		}
		probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
		if (probe == -1) {
			r = pfail(why, whylen, -errno, "socket: %s",
			    strerror(errno));
			goto fail;
		}
		r = connect(probe, (struct sockaddr *)&sun, sizeof(sun));
		if (r == -1 && errno != ECONNREFUSED) {
			r = -errno;
			close(probe);
			r = pfail(why, whylen, -EADDRINUSE, "%s is in use "
			    "(%s)", path, strerror(-r));
			goto fail;
		}
		close(probe);
		if (r == 0) {
			r = pfail(why, whylen, -EADDRINUSE, "another provider "
			    "listens on %s", path);
			goto fail;
		}
		/* Nobody answers: stale. */
		if (unlink(path) == -1 ||
		    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
			r = pfail(why, whylen, -errno, "replacing the stale "
			    "socket %s: %s", path, strerror(errno));
			goto fail;
		}
	}
	if (listen(fd, 8) == -1) {
		r = pfail(why, whylen, -errno, "listen %s: %s", path,
		    strerror(errno));
		unlink(path);
		goto fail;
	}
	if (stat(path, &st) == 0) {
		p->sock_dev = st.st_dev;
		p->sock_ino = st.st_ino;
	}
	p->listen_fd = fd;
	return 0;

fail:
	close(fd);
	return r;
}

int
lfbshm_provider_open(const struct lfbshm_provider_config *cfg,
    struct lfbshm_provider **out, char *why, size_t whylen)
{
	struct lfbshm_provider *p;
	struct sockaddr_un sun;
	struct epoll_event ev;
	struct stat st;
	uint32_t entries;
	int i, r;

	*out = NULL;
	if (cfg->socket_path == NULL ||
	    strlen(cfg->socket_path) >= sizeof(sun.sun_path))
		return pfail(why, whylen, -EINVAL, "no socket path, or too "
		    "long");
	if (cfg->fb_map_size == 0 || cfg->fb_map_size % LFBSHM_PAGE_SIZE ||
	    cfg->fb_map_size > LFBSHM_MAX_FB_SIZE ||
	    cfg->fb_map_offset % LFBSHM_PAGE_SIZE ||
	    cfg->fb_map_offset > (uint64_t)INT64_MAX - cfg->fb_map_size)
		return pfail(why, whylen, -EINVAL, "framebuffer window "
		    "%llu+%llu: both must be multiples of %u, the size in "
		    "(0, %llu]", (unsigned long long)cfg->fb_map_offset,
		    (unsigned long long)cfg->fb_map_size, LFBSHM_PAGE_SIZE,
		    (unsigned long long)LFBSHM_MAX_FB_SIZE);
	if (cfg->fb_fd < 0 || fstat(cfg->fb_fd, &st) == -1 ||
	    !S_ISREG(st.st_mode))
		return pfail(why, whylen, -EINVAL, "fb_fd is not a regular "
		    "file");
	if ((uint64_t)st.st_size < cfg->fb_map_offset + cfg->fb_map_size)
		return pfail(why, whylen, -EINVAL, "the fb file holds %lld "
		    "octets, the window ends at %llu", (long long)st.st_size,
		    (unsigned long long)(cfg->fb_map_offset +
		    cfg->fb_map_size));
	entries = cfg->input_entries ? cfg->input_entries :
	    LFBSHM_PROVIDER_INPUT_ENTRIES;
	if ((entries & (entries - 1)) != 0 ||
	    entries < LFBSHM_MIN_INPUT_ENTRIES ||
	    entries > LFBSHM_MAX_INPUT_ENTRIES)
		return pfail(why, whylen, -EINVAL, "input_entries %u is not a "
		    "power of two in [%u, %u]", entries,
		    LFBSHM_MIN_INPUT_ENTRIES, LFBSHM_MAX_INPUT_ENTRIES);
	if ((cfg->features & ~LFBSHM_F_ALL) != 0)
		return pfail(why, whylen, -EINVAL, "unknown features 0x%llx",
		    (unsigned long long)(cfg->features & ~LFBSHM_F_ALL));
	if (cfg->tracker != NULL && cfg->tracker->kind != LFBSHM_TRACKER_NONE &&
	    cfg->tracker->npages != cfg->fb_map_size / LFBSHM_PAGE_SIZE)
		return pfail(why, whylen, -EINVAL, "the tracker covers %zu "
		    "pages, the framebuffer %llu", cfg->tracker->npages,
		    (unsigned long long)(cfg->fb_map_size /
		    LFBSHM_PAGE_SIZE));

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return pfail(why, whylen, -ENOMEM, "out of memory");
	pthread_mutex_init(&p->lock, NULL);
	p->listen_fd = p->epfd = p->wake_fd = p->stop_fd = -1;
	for (i = 0; i < MAX_PENDING; i++)
		p->pending[i] = -1;
	p->s.conn = p->s.kick = p->s.notify = -1;
	p->fb_fd = cfg->fb_fd;
	p->fb_off = cfg->fb_map_offset;
	p->fb_size = cfg->fb_map_size;
	p->npages = p->fb_size / LFBSHM_PAGE_SIZE;
	p->nwords = lfbshm_bitmap_words(p->npages);
	p->t = cfg->tracker;
	p->input_entries = entries;
	p->on_input = cfg->on_input;
	p->arg = cfg->arg;
	p->offered = cfg->features;
	if (!tracking(p))
		p->offered &= ~(LFBSHM_F_DIRTY | LFBSHM_F_TRAP);
	else if (!p->t->has_trap)
		p->offered &= ~LFBSHM_F_TRAP;
	if (p->on_input == NULL)
		p->offered &= ~(LFBSHM_F_INPUT_KEY | LFBSHM_F_INPUT_POINTER);
	p->force_all = true;

	if ((p->bm = calloc(p->nwords, sizeof(uint64_t))) == NULL ||
	    (p->path = strdup(cfg->socket_path)) == NULL) {
		r = pfail(why, whylen, -ENOMEM, "out of memory");
		goto fail;
	}
	if ((p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1 ||
	    (p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1 ||
	    (p->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		r = pfail(why, whylen, -errno, "eventfd/epoll: %s",
		    strerror(errno));
		goto fail;
	}
	if ((r = bind_listen(p, cfg->socket_path, why, whylen)) != 0) {
		free(p->path);
		p->path = NULL;		/* not ours to unlink */
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = TAG_LISTEN;
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->listen_fd, &ev) == -1) {
		r = pfail(why, whylen, -errno, "epoll_ctl: %s",
		    strerror(errno));
		goto fail;
	}
	ev.data.u64 = TAG_WAKE;
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->wake_fd, &ev) == -1) {
		r = pfail(why, whylen, -errno, "epoll_ctl: %s",
		    strerror(errno));
		goto fail;
	}
	*out = p;
	return 0;

fail:
	lfbshm_provider_close(p);
	return r;
}

void
lfbshm_provider_close(struct lfbshm_provider *p)
{
	struct stat st;
	int i;

	if (p == NULL)
		return;
	lfbshm_provider_stop_thread(p);
	pthread_mutex_lock(&p->lock);
	if (p->attached) {
		raise_event(p, LFBSHM_EV_CLOSING);
		end_session(p, false, "the provider is closing");
	}
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < MAX_PENDING; i++)
		if (p->pending[i] != -1)
			close(p->pending[i]);
	if (p->listen_fd != -1) {
		close(p->listen_fd);
		/* Only the socket we bound: a successor may own the path. */
		if (p->path != NULL && lstat(p->path, &st) == 0 &&
		    st.st_dev == p->sock_dev && st.st_ino == p->sock_ino)
			unlink(p->path);
	}
	if (p->epfd != -1)
		close(p->epfd);
	if (p->wake_fd != -1)
		close(p->wake_fd);
	if (p->stop_fd != -1)
		close(p->stop_fd);
	free(p->bm);
	free(p->path);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int
lfbshm_provider_fd(const struct lfbshm_provider *p)
{
	return p->epfd;
}

bool
lfbshm_provider_attached(struct lfbshm_provider *p)
{
	bool a;

	pthread_mutex_lock(&p->lock);
	a = p->attached;
	pthread_mutex_unlock(&p->lock);
	return a;
}

void
lfbshm_provider_stats(struct lfbshm_provider *p,
    struct lfbshm_provider_stats *st)
{
	pthread_mutex_lock(&p->lock);
	*st = p->st;
	pthread_mutex_unlock(&p->lock);
}

/* --------------------------------------------------------------- thread */

static void *
provider_thread(void *arg)
{
	struct lfbshm_provider *p = arg;
	struct pollfd pfd[2];
	int r;

	for (;;) {
		pfd[0] = (struct pollfd){ .fd = p->epfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = p->stop_fd, .events = POLLIN };
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("lfbshm: provider thread: poll");
			break;
		}
		if (pfd[1].revents != 0)
			break;
		if ((r = lfbshm_provider_dispatch(p)) != 0) {
			log_warnx("lfbshm: provider thread: dispatch: %s",
			    strerror(-r));
			break;
		}
	}
	return NULL;
}

int
lfbshm_provider_run_thread(struct lfbshm_provider *p)
{
	int r;

	if (p->thread_running)
		return -EBUSY;
	drain(p->stop_fd);
	if ((r = pthread_create(&p->thread, NULL, provider_thread, p)) != 0)
		return -r;
	p->thread_running = true;
	return 0;
}

void
lfbshm_provider_stop_thread(struct lfbshm_provider *p)
{
	if (!p->thread_running)
		return;
	poke(p->stop_fd);
	pthread_join(p->thread, NULL);
	drain(p->stop_fd);
	p->thread_running = false;
}
