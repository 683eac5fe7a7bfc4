/*
 * metricsd.c - the metrics child and the master's end of its link; see
 * metricsd.h for the design, docs/METRICS.md for what is served.
 */
#include "config.h"

#include "metricsd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "childargs.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "privdrop.h"
#include "sandbox.h"

/* The workers' back-off (master.c): a child that dies at once is not
   restarted in a tight loop. */
#define RESTART_MIN_MS		500
#define RESTART_MAX_MS		30000
#define CLOSE_WAIT_MS		1000	/* for the child to exit at shutdown */

/* The child's limits. */
#define HTTP_MAX_CONNS		16	/* connections open at once */
#define HTTP_FD_SLACK		4	/* descriptors libraries may open */
#define HTTP_MAX_HEADERS	8192	/* octets of request line + headers */
#define HTTP_TIMEOUT_S		10	/* read or write idle, per connection */
#define HTTP_PAUSE_MS		250	/* accept paused at the bound */
#define HTTP_MAX_PENDING	64	/* scrapes waiting for the master */
#define LINK_TIMEOUT_MS		5000	/* for the master's reply */
#define FULL_LOG_MS		60000	/* "at the bound" at most this often */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct timeval
ms_tv(uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
	    (suseconds_t)((ms % 1000) * 1000) };

	return tv;
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -errno;
	return 0;
}

/* ================================================================ master */

struct metricsd {
	struct event_base *base;
	const char *self;
	char user[CONF_NAME_MAX + 1];
	bool use_syslog;
	bool no_seccomp;
	metricsd_render_fn render;
	void *arg;
	int listen_fd;
	int link;			/* our end of the child's link, or -1 */
	pid_t pid;			/* 0: not running */
	uint32_t backoff_ms;
	uint64_t started_ms;
	uint64_t rendered_ms;		/* last render */
	bool stopping;
	bool render_failed;		/* logged once until it works again */
	struct evbuffer *out;		/* the reply being written */
	struct event *ev_read, *ev_write;	/* on link, per child */
	struct event *ev_gap, *ev_stall, *ev_restart;
};

static int spawn(struct metricsd *md);

/* The child's link is gone or to be dropped: forget it and its reply. */
static void
link_close(struct metricsd *md)
{
	if (md->ev_read != NULL)
		event_free(md->ev_read);
	if (md->ev_write != NULL)
		event_free(md->ev_write);
	md->ev_read = md->ev_write = NULL;
	if (md->ev_gap != NULL)
		evtimer_del(md->ev_gap);
	if (md->ev_stall != NULL)
		evtimer_del(md->ev_stall);
	if (md->link != -1)
		close(md->link);
	md->link = -1;
	if (md->out != NULL)
		evbuffer_drain(md->out, evbuffer_get_length(md->out));
}

/* Read the next request, but not before METRICSD_MIN_GAP_MS since the
   last render: a child cannot make the master render without pause. */
static void
listen_again(struct metricsd *md)
{
	uint64_t since = now_ms() - md->rendered_ms;
	struct timeval tv;

	if (since >= METRICSD_MIN_GAP_MS) {
		event_add(md->ev_read, NULL);
		return;
	}
	tv = ms_tv(METRICSD_MIN_GAP_MS - since);
	evtimer_add(md->ev_gap, &tv);
}

static void
flush(struct metricsd *md)
{
	struct timeval tv;
	int n;

	while (evbuffer_get_length(md->out) > 0) {
		n = evbuffer_write(md->out, md->link);
		if (n > 0)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			break;
		/* The child closed its end; if it is not going by itself,
		   it goes now, and SIGCHLD restarts it. */
		log_warn("metrics: cannot write to the child");
		link_close(md);
		if (md->pid > 0)
			kill(md->pid, SIGKILL);
		return;
	}
	if (evbuffer_get_length(md->out) > 0) {
		event_add(md->ev_write, NULL);
		if (!evtimer_pending(md->ev_stall, NULL)) {
			tv = ms_tv(METRICSD_STALL_MS);
			evtimer_add(md->ev_stall, &tv);
		}
		return;
	}
	event_del(md->ev_write);
	evtimer_del(md->ev_stall);
	listen_again(md);
}

static void
reply(struct metricsd *md)
{
	struct evbuffer *text = evbuffer_new();
	uint32_t len = 0, be;
	size_t n;
	int rc;

	rc = text != NULL ? md->render(md->arg, text) : -ENOMEM;
	md->rendered_ms = now_ms();
	n = text != NULL ? evbuffer_get_length(text) : 0;
	if (rc == 0 && n > METRICSD_REPLY_MAX)
		rc = -E2BIG;
	if (rc == 0) {
		len = (uint32_t)n;
		if (md->render_failed)
			log_info("metrics: rendering works again");
		md->render_failed = false;
	} else {
		if (!md->render_failed)
			log_warnx("metrics: cannot render the metrics (%s): "
			    "scrapes get 503", strerror(-rc));
		md->render_failed = true;
		if (text != NULL)
			evbuffer_drain(text, n);
	}
	be = htonl(len);
	evbuffer_add(md->out, &be, sizeof(be));
	if (text != NULL) {
		evbuffer_add_buffer(md->out, text);
		evbuffer_free(text);
	}
	flush(md);
}

/*
 * One octet is one request, whatever its value.  Nothing more is read
 * until the reply is written, so what the child sends meanwhile waits in
 * the socket and costs the master nothing.
 */
static void
on_link_read(evutil_socket_t fd, short what, void *arg)
{
	struct metricsd *md = arg;
	unsigned char octet;
	ssize_t n;

	n = recv(fd, &octet, 1, MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		/* End of file: the child is exiting; SIGCHLD restarts it. */
		event_del(md->ev_read);
		return;
	}
	event_del(md->ev_read);
	reply(md);
}

static void
on_link_write(evutil_socket_t fd, short what, void *arg)
{
	flush(arg);
}

static void
on_gap(evutil_socket_t fd, short what, void *arg)
{
	struct metricsd *md = arg;

	if (md->ev_read != NULL)
		event_add(md->ev_read, NULL);
}

static void
on_stall(evutil_socket_t fd, short what, void *arg)
{
	struct metricsd *md = arg;

	if (md->pid <= 0)
		return;
	log_warnx("metrics: the child %d left its reply unread for %d ms: "
	    "killing it", (int)md->pid, METRICSD_STALL_MS);
	kill(md->pid, SIGKILL);
	link_close(md);
}

static void
on_restart(evutil_socket_t fd, short what, void *arg)
{
	struct metricsd *md = arg;
	struct timeval tv = { 1, 0 };

	if (md->stopping || md->pid != 0)
		return;
	if (spawn(md) < 0)
		evtimer_add(md->ev_restart, &tv);
}

static int
spawn(struct metricsd *md)
{
	char *argv[16];
	int sv[2], lfd, kfd, argc = 0;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("metrics: socketpair");
		return -errno;
	}
	pid = fork();
	if (pid == -1) {
		log_warn("metrics: fork");
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (pid == 0) {
		/* Above 3 and 4 first, so neither dup2 closes the other's
		   source; dup2 clears close-on-exec on 3 and 4 only. */
		lfd = fcntl(md->listen_fd, F_DUPFD_CLOEXEC, 10);
		kfd = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
		if (lfd == -1 || kfd == -1 || dup2(lfd, 3) == -1 ||
		    dup2(kfd, 4) == -1)
			_exit(127);
		argv[argc++] = (char *)"lfbvncd";
		argv[argc++] = (char *)"-M";
		argv[argc++] = (char *)"3";
		argv[argc++] = (char *)"-I";
		argv[argc++] = (char *)"4";
		argv[argc++] = (char *)"-U";
		argv[argc++] = md->user;
		argc = childargs_common(argv, argc, md->use_syslog, md->no_seccomp);
		argv[argc] = NULL;
		execv(md->self, argv);
		_exit(127);
	}
	close(sv[1]);
	md->link = sv[0];
	md->ev_read = event_new(md->base, md->link, EV_READ | EV_PERSIST,
	    on_link_read, md);
	md->ev_write = event_new(md->base, md->link, EV_WRITE | EV_PERSIST,
	    on_link_write, md);
	if (set_nonblock(md->link) < 0 || md->ev_read == NULL ||
	    md->ev_write == NULL || event_add(md->ev_read, NULL) == -1) {
		log_warnx("metrics: cannot watch the child's link");
		link_close(md);
		kill(pid, SIGKILL);	/* reaped and restarted as any exit */
	}
	md->pid = pid;
	md->started_ms = now_ms();
	log_info("metrics: child started (pid %d)", (int)pid);
	return 0;
}

bool
metricsd_reaped(struct metricsd *md, pid_t pid, int status)
{
	struct timeval tv;

	if (md == NULL || md->pid <= 0 || pid != md->pid)
		return false;
	md->pid = 0;
	link_close(md);
	if (WIFSIGNALED(status))
		log_warnx("metrics: child %d killed by signal %d", (int)pid,
		    WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0 || !md->stopping)
		log_warnx("metrics: child %d exited with status %d", (int)pid,
		    WEXITSTATUS(status));
	if (md->stopping)
		return true;
	if (now_ms() - md->started_ms > RESTART_MAX_MS)
		md->backoff_ms = RESTART_MIN_MS;
	log_info("metrics: restarting the child in %u ms", md->backoff_ms);
	tv = ms_tv(md->backoff_ms);
	evtimer_add(md->ev_restart, &tv);
	md->backoff_ms = md->backoff_ms * 2 > RESTART_MAX_MS ?
	    RESTART_MAX_MS : md->backoff_ms * 2;
	return true;
}

static bool
loopback(int family, const char *addr)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (family == AF_INET)
		return inet_pton(AF_INET, addr, &a4) == 1 &&
		    (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, addr, &a6) == 1 &&
	    (IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) &&
	    a6.s6_addr[12] == 127));
}

/* Bind and listen on spec; the socket is close-on-exec, so that workers
   never inherit it. */
static int
bind_listener(const char *spec, int *out)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	char addr[CONF_ADDR_MAX], why[128];
	socklen_t len;
	int family, port, fd, one = 1, e;

	if (conf_listen_parse(spec, addr, &family, &port, why,
	    sizeof(why)) < 0) {
		log_warnx("metrics-listen %s: %s", spec, why);
		return -EINVAL;
	}
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &sin->sin_addr);
		len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		len = sizeof(*sin6);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		log_warn("metrics: socket");
		return -errno;
	}
	/* [::] means IPv6 only: IPv4 is another, explicit, listener. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ==
	    -1 || (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, HTTP_MAX_CONNS) == -1) {
		e = errno;
		log_warn("metrics: cannot listen on %s port %d", addr, port);
		close(fd);
		return -e;
	}
	if (!loopback(family, addr))
		log_warnx("metrics: listening on %s port %d, not a loopback "
		    "address: whoever reaches it can read the guests' names "
		    "and figures (docs/SECURITY.md)", addr, port);
	log_info("metrics on http://%s%s%s:%d/metrics",
	    family == AF_INET6 ? "[" : "", addr,
	    family == AF_INET6 ? "]" : "", port);
	*out = fd;
	return 0;
}

int
metricsd_open(struct event_base *base, const char *spec, const char *user,
    const char *self, bool use_syslog, bool no_seccomp,
    metricsd_render_fn render, void *arg, struct metricsd **out)
{
	struct metricsd *md;
	struct timeval tv = { 1, 0 };
	int rc;

	*out = NULL;
	if ((md = calloc(1, sizeof(*md))) == NULL) {
		log_warn("metrics");
		return -ENOMEM;
	}
	md->base = base;
	md->self = self;
	snprintf(md->user, sizeof(md->user), "%s", user);
	md->use_syslog = use_syslog;
	md->no_seccomp = no_seccomp;
	md->render = render;
	md->arg = arg;
	md->listen_fd = -1;
	md->link = -1;
	md->backoff_ms = RESTART_MIN_MS;
	md->out = evbuffer_new();
	md->ev_gap = evtimer_new(base, on_gap, md);
	md->ev_stall = evtimer_new(base, on_stall, md);
	md->ev_restart = evtimer_new(base, on_restart, md);
	if (md->out == NULL || md->ev_gap == NULL || md->ev_stall == NULL ||
	    md->ev_restart == NULL) {
		log_warnx("metrics: out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	if ((rc = bind_listener(spec, &md->listen_fd)) < 0)
		goto fail;
	if (spawn(md) < 0)
		evtimer_add(md->ev_restart, &tv);
	*out = md;
	return 0;
fail:
	metricsd_close(md);
	return rc;
}

void
metricsd_stop(struct metricsd *md)
{
	if (md == NULL)
		return;
	md->stopping = true;
	evtimer_del(md->ev_restart);
	if (md->pid > 0)
		kill(md->pid, SIGTERM);
}

void
metricsd_close(struct metricsd *md)
{
	uint64_t end;
	int status;

	if (md == NULL)
		return;
	md->stopping = true;
	if (md->pid > 0) {
		/* The loop has ended: reap the child here, briefly. */
		kill(md->pid, SIGTERM);
		end = now_ms() + CLOSE_WAIT_MS;
		while (waitpid(md->pid, &status, WNOHANG) == 0) {
			if (now_ms() >= end) {
				log_warnx("metrics: child %d did not stop; "
				    "killing it", (int)md->pid);
				kill(md->pid, SIGKILL);
				waitpid(md->pid, &status, 0);
				break;
			}
			usleep(10000);
		}
		md->pid = 0;
	}
	link_close(md);
	if (md->ev_gap != NULL)
		event_free(md->ev_gap);
	if (md->ev_stall != NULL)
		event_free(md->ev_stall);
	if (md->ev_restart != NULL)
		event_free(md->ev_restart);
	if (md->out != NULL)
		evbuffer_free(md->out);
	if (md->listen_fd != -1)
		close(md->listen_fd);
	free(md);
}

/* ================================================================= child */

struct mchild {
	struct event_base *base;
	struct evhttp *http;
	struct evconnlistener *lev;
	int link;
	struct event *ev_link, *ev_resume, *ev_deadline;
	struct event *ev_sigterm, *ev_sigint;
	struct evhttp_request *pending[HTTP_MAX_PENDING];
	size_t npending;
	bool asked;			/* an octet sent, its reply not read */
	unsigned char hdr[4];
	size_t nhdr;
	uint32_t want;			/* the reply's length, once nhdr == 4 */
	struct evbuffer *reply;
	unsigned int nconn_max;		/* the descriptor bound, for the log */
	uint64_t full_logged_ms;
};

/* evhttp owns the listener's user data: its error callback finds us here
   (one child per process). */
static struct mchild *the_child;

/* An error in plain text (evhttp_send_error would drop the headers
   set before it, such as Allow). */
static void
refuse(struct evhttp_request *req, int code, const char *reason)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
	evbuffer_add_printf(evhttp_request_get_output_buffer(req), "%d %s\n",
	    code, reason);
	evhttp_send_reply(req, code, reason, NULL);
}

/* 200 with the text, or 503 when body is NULL (nothing to serve). */
static void
answer(struct evhttp_request *req, struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char len[24];
	size_t n;

	if (body == NULL) {
		refuse(req, HTTP_SERVUNAVAIL, "Service Unavailable");
		return;
	}
	n = evbuffer_get_length(body);
	evhttp_add_header(h, "Content-Type", METRICS_CONTENT_TYPE);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		/* evhttp sends no body for HEAD, and no length either. */
		snprintf(len, sizeof(len), "%zu", n);
		evhttp_add_header(h, "Content-Length", len);
	} else {
		evbuffer_add(evhttp_request_get_output_buffer(req),
		    evbuffer_pullup(body, -1), n);
	}
	evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

static void
answer_all(struct mchild *mc, struct evbuffer *body)
{
	struct evhttp_request *reqs[HTTP_MAX_PENDING];
	size_t i, n = mc->npending;

	/* A copy: answering may queue new requests. */
	memcpy(reqs, mc->pending, n * sizeof(reqs[0]));
	mc->npending = 0;
	evtimer_del(mc->ev_deadline);
	for (i = 0; i < n; i++)
		answer(reqs[i], body);
}

/* Ask the master, unless a question is already on its way. */
static void
ask(struct mchild *mc)
{
	struct timeval tv = ms_tv(LINK_TIMEOUT_MS);
	ssize_t n;

	if (!evtimer_pending(mc->ev_deadline, NULL))
		evtimer_add(mc->ev_deadline, &tv);
	if (mc->asked)
		return;
	n = send(mc->link, "m", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n != 1) {
		log_warn("metrics: cannot ask the master");
		answer_all(mc, NULL);
		event_base_loopexit(mc->base, NULL);
		return;
	}
	mc->asked = true;
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct mchild *mc = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		refuse(req, HTTP_BADMETHOD, "Method Not Allowed");
		return;
	}
	if (path == NULL || strcmp(path, "/metrics") != 0) {
		refuse(req, HTTP_NOTFOUND, "Not Found");
		return;
	}
	if (mc->npending == HTTP_MAX_PENDING) {
		refuse(req, HTTP_SERVUNAVAIL, "Service Unavailable");
		return;
	}
	mc->pending[mc->npending++] = req;
	ask(mc);
}

/* The master's reply: a length, then the text; one reply per octet. */
static void
on_link(evutil_socket_t fd, short what, void *arg)
{
	struct mchild *mc = arg;
	uint32_t be;
	ssize_t n;
	int r;
	bool closed = false;

	for (;;) {
		if (mc->nhdr < sizeof(mc->hdr)) {
			n = recv(fd, mc->hdr + mc->nhdr,
			    sizeof(mc->hdr) - mc->nhdr, MSG_DONTWAIT);
			if (n == -1 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK || errno == EINTR))
				return;
			if (n <= 0) {
				closed = n == 0;
				goto gone;
			}
			if (!mc->asked) {
				log_warnx("metrics: a reply nobody asked for");
				goto gone;
			}
			mc->nhdr += (size_t)n;
			if (mc->nhdr < sizeof(mc->hdr))
				continue;
			memcpy(&be, mc->hdr, sizeof(be));
			mc->want = ntohl(be);
			if (mc->want > METRICSD_REPLY_MAX) {
				log_warnx("metrics: a reply of %u octets, more "
				    "than %d", mc->want, METRICSD_REPLY_MAX);
				goto gone;
			}
		}
		while (evbuffer_get_length(mc->reply) < mc->want) {
			r = evbuffer_read(mc->reply, fd, (int)(mc->want -
			    evbuffer_get_length(mc->reply)));
			if (r == -1 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK || errno == EINTR))
				return;
			if (r <= 0) {
				closed = r == 0;
				goto gone;
			}
		}
		answer_all(mc, mc->want > 0 ? mc->reply : NULL);
		evbuffer_drain(mc->reply, evbuffer_get_length(mc->reply));
		mc->nhdr = 0;
		mc->want = 0;
		mc->asked = false;
		if (mc->npending > 0)	/* came in while the master rendered */
			ask(mc);
	}
gone:
	/* The master is gone (it exits, or dies): so do we. */
	if (closed)
		log_debug("metrics: the master closed the link");
	else
		log_warn("metrics: the link to the master");
	event_base_loopexit(mc->base, NULL);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct mchild *mc = arg;

	log_warnx("metrics: no answer from the master for %d ms",
	    LINK_TIMEOUT_MS);
	answer_all(mc, NULL);
}

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct mchild *mc = arg;

	evconnlistener_enable(mc->lev);
}

/*
 * accept() failed for another reason than "try again": at the descriptor
 * bound (EMFILE), or short of memory.  The listener is level-triggered,
 * so pause it, or the loop would spin; the connections wait in the
 * kernel's backlog meanwhile.
 */
static void
on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct mchild *mc = the_child;
	struct timeval tv = ms_tv(HTTP_PAUSE_MS);
	int e = EVUTIL_SOCKET_ERROR();
	uint64_t now = now_ms();

	evconnlistener_disable(lev);
	evtimer_add(mc->ev_resume, &tv);
	if (mc->full_logged_ms != 0 && now - mc->full_logged_ms < FULL_LOG_MS)
		return;
	mc->full_logged_ms = now;
	if (e == EMFILE || e == ENFILE)
		log_warnx("metrics: %u connections open, the most allowed: "
		    "new ones wait", mc->nconn_max);
	else
		log_warnx("metrics: accept: %s", strerror(e));
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct mchild *mc = arg;

	log_debug("metrics: signal %d: exiting", (int)sig);
	event_base_loopexit(mc->base, NULL);
}

/*
 * libevent 2.1's evhttp has no limit on connections (that came in 2.2):
 * the descriptor limit is the bound.  What is open now (the listener, the
 * link, the event base's own) plus HTTP_MAX_CONNS, plus a little for
 * libraries (syslog reconnecting); accept then fails with EMFILE, see
 * on_accept_error.
 */
static int
limit_descriptors(unsigned int *nconn)
{
	struct rlimit rl;
	struct dirent *de;
	rlim_t nopen = 0;
	DIR *d;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			nopen++;
	closedir(d);
	nopen--;		/* the directory's own descriptor */
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -errno;
	if (nopen + HTTP_MAX_CONNS + HTTP_FD_SLACK < rl.rlim_cur) {
		rl.rlim_cur = rl.rlim_max = nopen + HTTP_MAX_CONNS +
		    HTTP_FD_SLACK;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			return -errno;
	}
	*nconn = (unsigned int)(rl.rlim_cur - nopen);
	return 0;
}

int
metricsd_child_main(int listen_fd, int link_fd, const char *user,
    int use_syslog, bool no_seccomp)
{
	struct mchild mc;
	struct evhttp_bound_socket *bound;
	unsigned int nrefused = 0;
	char why[256];
	int rc = 1;

	log_init("lfbvncd", use_syslog);
	memset(&mc, 0, sizeof(mc));
	mc.link = link_fd;
	the_child = &mc;
	signal(SIGPIPE, SIG_IGN);
	if (set_nonblock(listen_fd) < 0 || set_nonblock(link_fd) < 0)
		fatal("metrics: descriptors %d and %d", listen_fd, link_fd);
	if (user[0] != '\0' && geteuid() == 0) {
		if (privdrop(user, why, sizeof(why)) < 0)
			fatalx("metrics: %s", why);
		log_info("metrics: running as %s", user);
	}
	if ((mc.base = event_base_new()) == NULL ||
	    (mc.http = evhttp_new(mc.base)) == NULL ||
	    (mc.reply = evbuffer_new()) == NULL)
		fatalx("metrics: out of memory");
	evhttp_set_max_headers_size(mc.http, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(mc.http, 0);
	evhttp_set_timeout(mc.http, HTTP_TIMEOUT_S);
	/* Every method reaches on_request, which answers 405 itself:
	   evhttp would say 501 for those it was not told about. */
	evhttp_set_allowed_methods(mc.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(mc.http, on_request, &mc);
	if ((bound = evhttp_accept_socket_with_handle(mc.http,
	    listen_fd)) == NULL)
		fatalx("metrics: evhttp cannot take the listener");
	mc.lev = evhttp_bound_socket_get_listener(bound);
	evconnlistener_set_error_cb(mc.lev, on_accept_error);
	mc.ev_link = event_new(mc.base, link_fd, EV_READ | EV_PERSIST,
	    on_link, &mc);
	mc.ev_resume = evtimer_new(mc.base, on_resume, &mc);
	mc.ev_deadline = evtimer_new(mc.base, on_deadline, &mc);
	mc.ev_sigterm = evsignal_new(mc.base, SIGTERM, on_signal, &mc);
	mc.ev_sigint = evsignal_new(mc.base, SIGINT, on_signal, &mc);
	if (mc.ev_link == NULL || mc.ev_resume == NULL ||
	    mc.ev_deadline == NULL || mc.ev_sigterm == NULL ||
	    mc.ev_sigint == NULL || event_add(mc.ev_link, NULL) == -1 ||
	    event_add(mc.ev_sigterm, NULL) == -1 ||
	    event_add(mc.ev_sigint, NULL) == -1)
		fatalx("metrics: out of memory");
	if (limit_descriptors(&mc.nconn_max) < 0)
		fatal("metrics: RLIMIT_NOFILE");
	if (no_seccomp)
		log_warnx("metrics: serving WITHOUT the seccomp filter "
		    "(--debug-no-seccomp)");
	else if (sandbox_apply(&nrefused, why, sizeof(why)) < 0)
		fatalx("metrics: %s", why);
	else
		log_info("metrics: sandbox on: %u system calls refused",
		    nrefused);
	log_info("metrics: serving, at most %u connections", mc.nconn_max);
	event_base_dispatch(mc.base);
	rc = 0;
	/* Scrapes still waiting are told, before evhttp frees them. */
	answer_all(&mc, NULL);
	evhttp_free(mc.http);
	event_free(mc.ev_link);
	event_free(mc.ev_resume);
	event_free(mc.ev_deadline);
	event_free(mc.ev_sigterm);
	event_free(mc.ev_sigint);
	evbuffer_free(mc.reply);
	event_base_free(mc.base);
	close(link_fd);
	the_child = NULL;
	log_debug("metrics: stopped");
	return rc;
}
