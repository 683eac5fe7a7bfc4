/* control.c - the control socket; see control.h for the protocol. */
#include "config.h"

#include "control.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "conf.h"
#include "json.h"
#include "log.h"

#define MAX_MEMBERS	1024	/* group members resolved to uids */
#define NSS_BUF_MAX	(1024 * 1024)
#define WHY_MAX		256

struct control_conn;

struct control_command {
	const char *name;
	const char *args;	/* for help and usage errors */
	int min_args, max_args;	/* not counting the command */
	bool logged;		/* changes state: log who did it */
	const char *help;
	/* The arguments' syntax, checked by control_parse_request. */
	int (*check)(int, char **, char *, size_t);
	void (*run)(struct control_conn *, int, char **);
};

struct control_conn {
	TAILQ_ENTRY(control_conn) entry;
	struct control *ctl;
	struct bufferevent *bev;
	struct event *deadline;
	uid_t uid;
	pid_t pid;
	uint64_t accepted_ms;	/* CLOCK_MONOTONIC */
	bool replied;
};

struct control {
	struct event_base *base;
	const struct control_ops *ops;
	void *arg;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
	dev_t dev;
	ino_t ino;
	struct event *ev_accept;
	struct event *ev_resume;
	uid_t self;
	bool have_group;
	gid_t gid;
	uid_t *members;
	size_t nmembers;
	unsigned int nconn;
	unsigned int timeout_ms;
	TAILQ_HEAD(, control_conn) conns;
};

static void cmd_status(struct control_conn *, int, char **);
static void cmd_attach(struct control_conn *, int, char **);
static void cmd_detach(struct control_conn *, int, char **);
static void cmd_reload(struct control_conn *, int, char **);
static void cmd_help(struct control_conn *, int, char **);
static int check_attach(int, char **, char *, size_t);
static int check_detach(int, char **, char *, size_t);

static const struct control_command commands[] = {
	{ "status", "", 0, 0, false,
	    "show every guest's worker, scan policy and counters",
	    NULL, cmd_status },
	{ "attach", "NAME SOCKET [key=value ...]", 2, 2 + CONTROL_MAX_OPTS,
	    true, "serve the provider at SOCKET as guest NAME, with "
	    "settings as in lfbvncd.conf", check_attach, cmd_attach },
	{ "detach", "NAME", 1, 1, true,
	    "stop serving guest NAME", check_detach, cmd_detach },
	{ "reload", "", 0, 0, true,
	    "read the configuration file again", NULL, cmd_reload },
	{ "help", "", 0, 0, false,
	    "list the commands", NULL, cmd_help },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void conn_event(struct bufferevent *, short, void *);

static void
conn_free(struct control_conn *cc)
{
	struct control *ctl = cc->ctl;

	TAILQ_REMOVE(&ctl->conns, cc, entry);
	ctl->nconn--;
	event_free(cc->deadline);
	bufferevent_free(cc->bev);	/* closes the socket */
	free(cc);
}

static void
conn_write_done(struct bufferevent *bev, void *arg)
{
	struct control_conn *cc = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(cc);
}

/* Queue body (a complete JSON document) and close once it is sent. */
static void
conn_reply(struct control_conn *cc, struct evbuffer *body)
{
	struct timeval tv;

	cc->replied = true;
	bufferevent_disable(cc->bev, EV_READ);
	evbuffer_add_buffer(bufferevent_get_output(cc->bev), body);
	evbuffer_add(bufferevent_get_output(cc->bev), "\n", 1);
	bufferevent_setcb(cc->bev, NULL, conn_write_done, conn_event, cc);
	bufferevent_enable(cc->bev, EV_WRITE);
	/* A new deadline: the peer must take the reply as promptly. */
	tv.tv_sec = cc->ctl->timeout_ms / 1000;
	tv.tv_usec = (cc->ctl->timeout_ms % 1000) * 1000;
	evtimer_add(cc->deadline, &tv);
}

static void
conn_error(struct control_conn *cc, const char *msg)
{
	struct evbuffer *b;

	if ((b = evbuffer_new()) == NULL) {
		conn_free(cc);
		return;
	}
	evbuffer_add_printf(b, "{\"ok\":false,\"error\":");
	json_str(b, msg);
	evbuffer_add(b, "}", 1);
	conn_reply(cc, b);
	evbuffer_free(b);
}

static void
conn_errorf(struct control_conn *cc, const char *fmt, ...)
    LOG_PRINTF(2, 3);

static void
conn_errorf(struct control_conn *cc, const char *fmt, ...)
{
	char msg[WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_error(cc, msg);
}

/* {"ok":true} with the op's message, if it left one. */
static void
conn_ok(struct control_conn *cc, const char *why)
{
	struct evbuffer *b;

	if ((b = evbuffer_new()) == NULL) {
		conn_free(cc);
		return;
	}
	evbuffer_add_printf(b, "{\"ok\":true");
	if (why != NULL && why[0] != '\0') {
		evbuffer_add_printf(b, ",\"message\":");
		json_strn(b, why, WHY_MAX);
	}
	evbuffer_add(b, "}", 1);
	conn_reply(cc, b);
	evbuffer_free(b);
}

/* The op failed: its reason, else the errno's text. */
static void
conn_op_error(struct control_conn *cc, int rc, const char *why)
{
	if (why[0] != '\0')
		conn_error(cc, why);
	else
		conn_error(cc, strerror(rc < 0 ? -rc : EIO));
}

static void
cmd_status(struct control_conn *cc, int argc, char **argv)
{
	struct control *ctl = cc->ctl;
	struct evbuffer *b;
	int rc;

	if (ctl->ops->status == NULL) {
		conn_error(cc, "status: not supported");
		return;
	}
	if ((b = evbuffer_new()) == NULL) {
		conn_free(cc);
		return;
	}
	if ((rc = ctl->ops->status(ctl->arg, b)) < 0)
		conn_errorf(cc, "status: %s", strerror(-rc));
	else if (evbuffer_get_length(b) == 0)
		conn_error(cc, "status: nothing to report");
	else
		conn_reply(cc, b);
	evbuffer_free(b);
}

static void
cmd_attach(struct control_conn *cc, int argc, char **argv)
{
	struct control *ctl = cc->ctl;
	char why[WHY_MAX] = "";
	int rc;

	if (ctl->ops->attach == NULL) {
		conn_error(cc, "attach: not supported");
		return;
	}
	rc = ctl->ops->attach(ctl->arg, argv[1], argv[2], argc - 3, argv + 3,
	    why, sizeof(why));
	why[sizeof(why) - 1] = '\0';
	if (rc < 0)
		conn_op_error(cc, rc, why);
	else
		conn_ok(cc, why);
}

static void
cmd_detach(struct control_conn *cc, int argc, char **argv)
{
	struct control *ctl = cc->ctl;
	char why[WHY_MAX] = "";
	int rc;

	if (ctl->ops->detach == NULL) {
		conn_error(cc, "detach: not supported");
		return;
	}
	rc = ctl->ops->detach(ctl->arg, argv[1], why, sizeof(why));
	why[sizeof(why) - 1] = '\0';
	if (rc < 0)
		conn_op_error(cc, rc, why);
	else
		conn_ok(cc, why);
}

static void
cmd_reload(struct control_conn *cc, int argc, char **argv)
{
	struct control *ctl = cc->ctl;
	char why[WHY_MAX] = "";
	int rc;

	if (ctl->ops->reload == NULL) {
		conn_error(cc, "reload: not supported");
		return;
	}
	rc = ctl->ops->reload(ctl->arg, why, sizeof(why));
	why[sizeof(why) - 1] = '\0';
	if (rc < 0)
		conn_op_error(cc, rc, why);
	else
		conn_ok(cc, why);
}

static void
cmd_help(struct control_conn *cc, int argc, char **argv)
{
	struct evbuffer *b;
	size_t i;
	bool first;

	if ((b = evbuffer_new()) == NULL) {
		conn_free(cc);
		return;
	}
	evbuffer_add_printf(b, "{\"ok\":true,\"protocol\":%d,\"commands\":[",
	    CONTROL_PROTOCOL);
	for (i = 0; i < NCOMMANDS; i++) {
		if (i > 0)
			evbuffer_add(b, ",", 1);
		evbuffer_add(b, "{", 1);
		first = true;
		json_kv_str(b, &first, "name", commands[i].name);
		json_kv_str(b, &first, "args", commands[i].args);
		json_kv_str(b, &first, "help", commands[i].help);
		evbuffer_add(b, "}", 1);
	}
	evbuffer_add(b, "]}", 2);
	conn_reply(cc, b);
	evbuffer_free(b);
}

static int
check_attach(int argc, char **argv, char *why, size_t whylen)
{
	int i;

	if (!conf_guest_name_ok(argv[1])) {
		snprintf(why, whylen, "attach: bad guest name (1..64 of "
		    "letters, digits, '.', '_', '-', not starting with '.' or "
		    "'-')");
		return -EINVAL;
	}
	if (argv[2][0] == '\0') {
		snprintf(why, whylen, "attach: empty socket path");
		return -EINVAL;
	}
	for (i = 3; i < argc; i++) {
		if (strchr(argv[i], '=') == NULL || argv[i][0] == '=') {
			snprintf(why, whylen, "attach: option %d is not "
			    "key=value", i - 2);
			return -EINVAL;
		}
	}
	return 0;
}

static int
check_detach(int argc, char **argv, char *why, size_t whylen)
{
	if (!conf_guest_name_ok(argv[1])) {
		snprintf(why, whylen, "detach: bad guest name");
		return -EINVAL;
	}
	return 0;
}

/*
 * Split line in place into words; "quoted" words take \" and \\.
 * Returns the count, or -1 with a message in *err.
 */
static int
split(char *line, char **argv, int max, const char **err)
{
	char *r = line, *w;
	int argc = 0;

	for (w = line; *w != '\0'; w++) {
		if ((unsigned char)*w < 0x20 && *w != '\t') {
			*err = "non-printable byte in the request";
			return -1;
		}
		if ((unsigned char)*w > 0x7e) {
			*err = "the request must be printable ASCII";
			return -1;
		}
	}
	for (;;) {
		while (*r == ' ' || *r == '\t')
			r++;
		if (*r == '\0')
			return argc;
		if (argc == max) {
			*err = "too many arguments";
			return -1;
		}
		argv[argc++] = w = r;
		if (*r == '"') {
			for (r++; *r != '"'; r++) {
				if (*r == '\0') {
					*err = "unterminated quoted string";
					return -1;
				}
				if (*r == '\\') {
					r++;
					if (*r != '"' && *r != '\\') {
						*err = "bad escape in a quoted "
						    "string";
						return -1;
					}
				}
				*w++ = *r;
			}
			r++;
			if (*r != '\0' && *r != ' ' && *r != '\t') {
				*err = "a quoted string must be followed "
				    "by a blank";
				return -1;
			}
		} else {
			while (*r != '\0' && *r != ' ' && *r != '\t') {
				if (*r == '"') {
					*err = "quote inside a word";
					return -1;
				}
				*w++ = *r++;
			}
		}
		/* w <= r: terminating may overwrite the blank after it. */
		if (*r != '\0')
			r++;
		*w = '\0';
	}
}

static const struct control_command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
control_parse_request(const char *buf, size_t len,
    struct control_request *req, char *why, size_t whylen)
{
	const struct control_command *cmd;
	const char *err = NULL;
	int argc;

	req->command = NULL;
	req->argc = 0;
	if (len > CONTROL_LINE_MAX) {
		snprintf(why, whylen, "request longer than %d octets",
		    CONTROL_LINE_MAX);
		return -EINVAL;
	}
	/* A NUL would end the line early: split() could not see it. */
	if (len > 0 && memchr(buf, '\0', len) != NULL) {
		snprintf(why, whylen, "non-printable byte in the request");
		return -EINVAL;
	}
	if (len > 0)
		memcpy(req->line, buf, len);
	req->line[len] = '\0';
	if (len > 0 && req->line[len - 1] == '\r')
		req->line[len - 1] = '\0';
	if ((argc = split(req->line, req->argv, CONTROL_MAX_ARGS, &err)) < 0) {
		snprintf(why, whylen, "%s", err);
		return -EINVAL;
	}
	if (argc == 0) {
		snprintf(why, whylen, "empty request; try help");
		return -EINVAL;
	}
	if ((cmd = find_command(req->argv[0])) == NULL) {
		snprintf(why, whylen, "unknown command '%.32s'; try help",
		    req->argv[0]);
		return -EINVAL;
	}
	if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args) {
		snprintf(why, whylen, "usage: %s%s%s", cmd->name,
		    cmd->args[0] != '\0' ? " " : "", cmd->args);
		return -EINVAL;
	}
	if (cmd->check != NULL && cmd->check(argc, req->argv, why, whylen) < 0)
		return -EINVAL;
	req->command = cmd->name;
	req->argc = argc;
	return 0;
}

/* One request line (len octets, without the newline): answer it. */
static void
conn_request(struct control_conn *cc, const char *buf, size_t len)
{
	const struct control_command *cmd;
	struct control_request req;
	char why[WHY_MAX];
	int j;
	char args[160];
	size_t off = 0;

	if (control_parse_request(buf, len, &req, why, sizeof(why)) < 0) {
		conn_error(cc, why);
		return;
	}
	cmd = find_command(req.command);
	if (cmd->logged) {
		/* Words were checked printable; long ones are cut. */
		args[0] = '\0';
		for (j = 1; j < req.argc && off < sizeof(args) - 1; j++) {
			int n = snprintf(args + off, sizeof(args) - off,
			    " %s", req.argv[j]);
			if (n < 0)
				break;
			off += (size_t)n;
		}
		log_info("control: uid %u pid %d: %s%s", (unsigned)cc->uid,
		    (int)cc->pid, cmd->name, args);
	}
	cmd->run(cc, req.argc, req.argv);
}

/*
 * Look for the request line.  The read watermark stops reading at
 * CONTROL_LINE_MAX + 1 octets, so a line without its newline by then is
 * too long, and the input never holds more.
 */
static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct control_conn *cc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char line[CONTROL_LINE_MAX + 2];
	struct evbuffer_ptr eol;
	size_t len, n;

	if (cc->replied)
		return;
	len = evbuffer_get_length(in);
	eol = evbuffer_search_eol(in, NULL, &n, EVBUFFER_EOL_LF);
	if (eol.pos < 0) {
		if (len > CONTROL_LINE_MAX)
			conn_errorf(cc, "request longer than %d octets",
			    CONTROL_LINE_MAX);
		return;
	}
	if ((size_t)eol.pos > CONTROL_LINE_MAX) {
		conn_errorf(cc, "request longer than %d octets",
		    CONTROL_LINE_MAX);
		return;
	}
	n = (size_t)eol.pos;
	evbuffer_copyout(in, line, n);
	/* Only the first line counts; anything after it is ignored. */
	evbuffer_drain(in, len);
	conn_request(cc, line, n);
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct control_conn *cc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char line[CONTROL_LINE_MAX + 1];
	size_t len;

	/* The peer ended its side after an unterminated line: take it. */
	if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_READING) &&
	    !cc->replied) {
		len = evbuffer_get_length(in);
		if (len > 0 && len <= CONTROL_LINE_MAX) {
			evbuffer_remove(in, line, len);
			conn_request(cc, line, len);
			return;
		}
	}
	conn_free(cc);
}

static void
conn_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct control_conn *cc = arg;

	if (cc->replied) {
		log_debug("control: uid %u pid %d: reply not taken in time",
		    (unsigned)cc->uid, (int)cc->pid);
		conn_free(cc);
		return;
	}
	log_debug("control: uid %u pid %d: no request in time",
	    (unsigned)cc->uid, (int)cc->pid);
	conn_error(cc, "timeout: no request");
}

/*
 * Answer a connection we will not serve and close it.  The socket is
 * new, so the short reply fits its buffer; if it does not, the peer only
 * misses the reason.
 */
static void
refuse(int fd, const char *msg)
{
	char buf[128];
	int n;

	n = snprintf(buf, sizeof(buf), "{\"ok\":false,\"error\":\"%s\"}\n",
	    msg);
	if (n > 0 && (size_t)n < sizeof(buf))
		(void)send(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

static bool
peer_allowed(const struct control *ctl, const struct ucred *cr)
{
	size_t i;

	if (cr->uid == 0 || cr->uid == ctl->self)
		return true;
	if (!ctl->have_group)
		return false;
	if (cr->gid == ctl->gid)
		return true;
	for (i = 0; i < ctl->nmembers; i++)
		if (ctl->members[i] == cr->uid)
			return true;
	return false;
}

static uint64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The slots are full: close the oldest connection that has had
 * CONTROL_EVICT_MS to send its request and has not (or has not taken its
 * reply), so that peers holding connections open cannot lock everyone
 * out for the whole deadline.  lfbvncctl sends its line right after
 * connecting, so a healthy client is never that old.  Returns whether a
 * slot was freed.
 */
static bool
evict_stale(struct control *ctl, const struct ucred *for_whom)
{
	struct control_conn *cc;
	uint64_t now = monotonic_ms();
	static const char msg[] =
	    "{\"ok\":false,\"error\":\"evicted: no request in time\"}\n";

	TAILQ_FOREACH(cc, &ctl->conns, entry)
		if (now - cc->accepted_ms >= CONTROL_EVICT_MS)
			break;
	if (cc == NULL)
		return false;
	log_info("control: uid %u pid %d: connection closed after %llu ms "
	    "without %s, to admit uid %u pid %d", (unsigned)cc->uid,
	    (int)cc->pid, (unsigned long long)(now - cc->accepted_ms),
	    cc->replied ? "taking its reply" : "a request",
	    (unsigned)for_whom->uid, (int)for_whom->pid);
	/* Nothing is queued on a connection without a reply: the short
	   reason fits the socket's buffer, or the peer only misses it. */
	if (!cc->replied)
		(void)send(bufferevent_getfd(cc->bev), msg, sizeof(msg) - 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
	conn_free(cc);
	return true;
}

static void
control_new_conn(struct control *ctl, int fd)
{
	struct control_conn *cc, *o;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	struct timeval tv;
	unsigned int peruid = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == -1 ||
	    crlen != sizeof(cr)) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	if (!peer_allowed(ctl, &cr)) {
		log_warnx("control: refused uid %u gid %u pid %d: not root, "
		    "not the daemon's user, not in the control group",
		    (unsigned)cr.uid, (unsigned)cr.gid, (int)cr.pid);
		refuse(fd, "permission denied");
		return;
	}
	TAILQ_FOREACH(o, &ctl->conns, entry)
		if (o->uid == cr.uid)
			peruid++;
	if (cr.uid != 0 && peruid >= CONTROL_MAX_PER_UID) {
		log_debug("control: uid %u pid %d: too many connections "
		    "from this user", (unsigned)cr.uid, (int)cr.pid);
		refuse(fd, "too many connections from this user");
		return;
	}
	if (ctl->nconn >= CONTROL_MAX_CONN && !evict_stale(ctl, &cr)) {
		log_debug("control: uid %u pid %d: too many connections",
		    (unsigned)cr.uid, (int)cr.pid);
		refuse(fd, "too many connections");
		return;
	}

	if ((cc = calloc(1, sizeof(*cc))) == NULL)
		goto fail_alloc;
	cc->ctl = ctl;
	cc->uid = cr.uid;
	cc->pid = cr.pid;
	cc->accepted_ms = monotonic_ms();
	if ((cc->bev = bufferevent_socket_new(ctl->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		goto fail_bev;
	if ((cc->deadline = evtimer_new(ctl->base, conn_deadline, cc)) ==
	    NULL)
		goto fail_timer;
	bufferevent_setcb(cc->bev, conn_read, NULL, conn_event, cc);
	bufferevent_setwatermark(cc->bev, EV_READ, 0, CONTROL_LINE_MAX + 1);
	if (bufferevent_enable(cc->bev, EV_READ) == -1)
		goto fail_enable;
	tv.tv_sec = ctl->timeout_ms / 1000;
	tv.tv_usec = (ctl->timeout_ms % 1000) * 1000;
	evtimer_add(cc->deadline, &tv);
	TAILQ_INSERT_TAIL(&ctl->conns, cc, entry);
	ctl->nconn++;
	return;

fail_enable:
	event_free(cc->deadline);
fail_timer:
	bufferevent_free(cc->bev);	/* closes fd */
	free(cc);
	log_warnx("control: cannot set up a connection");
	return;
fail_bev:
	free(cc);
fail_alloc:
	log_warnx("control: out of memory for a connection");
	refuse(fd, "out of memory");
}

static void
control_resume(evutil_socket_t fd, short what, void *arg)
{
	struct control *ctl = arg;

	event_add(ctl->ev_accept, NULL);
}

static void
control_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct control *ctl = arg;
	struct timeval tv = { 1, 0 };
	int i, fd;

	/* Bounded, so a flood leaves the loop time for everything else. */
	for (i = 0; i < CONTROL_ACCEPT_BURST; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			switch (errno) {
			case EAGAIN:
#if EWOULDBLOCK != EAGAIN
			case EWOULDBLOCK:
#endif
			case EINTR:
			case ECONNABORTED:
				return;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				/* Still readable: pause, or spin. */
				log_warn("control: accept (pausing 1 s)");
				event_del(ctl->ev_accept);
				evtimer_add(ctl->ev_resume, &tv);
				return;
			default:
				log_warn("control: accept");
				return;
			}
		}
		control_new_conn(ctl, fd);
	}
}

/*
 * A socket file at path: remove it only if nobody answers there.
 * Returns 0 when the path is free.
 */
static int
clear_stale(const struct sockaddr_un *sun)
{
	const char *path = sun->sun_path;
	struct stat st;
	int fd, rc, saved;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		log_warn("control: %s", path);
		return rc;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("control: %s exists and is not a socket", path);
		return -EEXIST;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		rc = -errno;
		log_warn("control: socket");
		return rc;
	}
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	saved = errno;
	close(fd);
	/* EAGAIN: a full backlog, so somebody listens. */
	if (rc == 0 || saved == EAGAIN || saved == EINPROGRESS) {
		log_warnx("control: %s: another daemon is answering there",
		    path);
		return -EADDRINUSE;
	}
	if (saved == ENOENT)
		return 0;
	if (saved != ECONNREFUSED) {
		errno = saved;
		log_warn("control: %s: test connect", path);
		return -saved;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		rc = -errno;
		log_warn("control: %s: removing the stale socket", path);
		return rc;
	}
	log_info("control: removed the stale socket %s", path);
	return 0;
}

/* The group's gid, and its listed members as uids. */
static int
resolve_group(struct control *ctl, const char *name)
{
	struct group gr, *grp = NULL;
	struct passwd pw, *pwp;
	char *buf = NULL, *nbuf, *pbuf = NULL;
	size_t buflen = 4096, pbuflen = 4096, i, n;
	int rc;

	for (;;) {
		if ((nbuf = realloc(buf, buflen)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		buf = nbuf;
		rc = getgrnam_r(name, &gr, buf, buflen, &grp);
		if (rc != ERANGE || buflen >= NSS_BUF_MAX)
			break;
		buflen *= 2;
	}
	if (grp == NULL) {
		if (rc != 0) {
			errno = rc;
			log_warn("control: control-group %s", name);
			rc = -rc;
		} else {
			log_warnx("control: control-group %s: no such group",
			    name);
			rc = -ENOENT;
		}
		goto out;
	}
	ctl->gid = grp->gr_gid;
	ctl->have_group = true;
	for (n = 0; grp->gr_mem[n] != NULL && n < MAX_MEMBERS; n++)
		;
	if (grp->gr_mem[n] != NULL)
		log_warnx("control: control-group %s: only the first %d "
		    "members are admitted by name", name, MAX_MEMBERS);
	if (n > 0 && (ctl->members = calloc(n, sizeof(uid_t))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((pbuf = malloc(pbuflen)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		pwp = NULL;
		if (getpwnam_r(grp->gr_mem[i], &pw, pbuf, pbuflen, &pwp) != 0 ||
		    pwp == NULL)
			continue;	/* a stale member name: nobody to admit */
		ctl->members[ctl->nmembers++] = pwp->pw_uid;
	}
	rc = 0;
out:
	if (rc == -ENOMEM)
		log_warnx("control: control-group %s: out of memory", name);
	free(pbuf);
	free(buf);
	return rc;
}

int
control_open(struct event_base *base, const char *path, const char *group,
    const struct control_ops *ops, void *arg, struct control **out)
{
	struct control *ctl;
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int rc;

	*out = NULL;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path == NULL || path[0] == '\0' ||
	    strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("control: bad socket path");
		return -ENAMETOOLONG;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);

	if ((ctl = calloc(1, sizeof(*ctl))) == NULL) {
		log_warnx("control: out of memory");
		return -ENOMEM;
	}
	ctl->base = base;
	ctl->ops = ops;
	ctl->arg = arg;
	ctl->fd = -1;
	ctl->self = geteuid();
	ctl->timeout_ms = CONTROL_TIMEOUT_MS;
	TAILQ_INIT(&ctl->conns);
	memcpy(ctl->path, sun.sun_path, sizeof(ctl->path));

	if (group != NULL && group[0] != '\0' &&
	    (rc = resolve_group(ctl, group)) != 0)
		goto fail_group;
	if ((rc = clear_stale(&sun)) != 0)
		goto fail_stale;
	if ((ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1) {
		rc = -errno;
		log_warn("control: socket");
		goto fail_socket;
	}
	/* The file is born 0660: no window in which others may connect. */
	old = umask(0117);
	rc = bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc == -1) {
		rc = -errno;
		log_warn("control: bind %s", path);
		goto fail_bind;
	}
	if (lstat(path, &st) == -1) {
		rc = -errno;
		log_warn("control: %s", path);
		goto fail_chmod;
	}
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	if (ctl->have_group && chown(path, (uid_t)-1, ctl->gid) == -1) {
		rc = -errno;
		log_warn("control: chown %s to group %s", path, group);
		goto fail_chmod;
	}
	if (chmod(path, 0660) == -1) {
		rc = -errno;
		log_warn("control: chmod %s", path);
		goto fail_chmod;
	}
	if (listen(ctl->fd, 64) == -1) {
		rc = -errno;
		log_warn("control: listen %s", path);
		goto fail_chmod;
	}
	if ((ctl->ev_accept = event_new(base, ctl->fd, EV_READ | EV_PERSIST,
	    control_accept, ctl)) == NULL ||
	    (ctl->ev_resume = evtimer_new(base, control_resume, ctl)) ==
	    NULL || event_add(ctl->ev_accept, NULL) == -1) {
		rc = -ENOMEM;
		log_warnx("control: cannot set up events");
		goto fail_event;
	}
	log_debug("control: listening on %s", path);
	*out = ctl;
	return 0;

fail_event:
	if (ctl->ev_resume != NULL)
		event_free(ctl->ev_resume);
	if (ctl->ev_accept != NULL)
		event_free(ctl->ev_accept);
fail_chmod:
	unlink(path);
fail_bind:
	close(ctl->fd);
fail_socket:
fail_stale:
fail_group:
	free(ctl->members);
	free(ctl);
	return rc;
}

void
control_close(struct control *ctl)
{
	struct control_conn *cc;
	struct stat st;

	if (ctl == NULL)
		return;
	while ((cc = TAILQ_FIRST(&ctl->conns)) != NULL)
		conn_free(cc);
	event_free(ctl->ev_resume);
	event_free(ctl->ev_accept);
	close(ctl->fd);
	/* Another daemon may have taken the path over since. */
	if (lstat(ctl->path, &st) == 0 && st.st_dev == ctl->dev &&
	    st.st_ino == ctl->ino)
		unlink(ctl->path);
	free(ctl->members);
	free(ctl);
}

void
control_set_timeout(struct control *ctl, unsigned int ms)
{
	ctl->timeout_ms = ms > 0 ? ms : 1;
}
