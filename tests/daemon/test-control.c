/*
 * test-control: the control socket server (daemon/control.c) on a temp
 * socket, its libevent loop on a thread, with stub ops.  Replies are
 * checked with lfbvncctl's JSON reader.
 *
 * The peer-credential tests connect from a child that drops to nobody,
 * so they need root; without it the rest still runs and the test exits
 * 77 (skipped) if everything else passed.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "control.h"
#include "json-read.h"
#include "json.h"
#include "log.h"
#include "status.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

#define NOBODY		65534
#define WAIT_MS		30000	/* a hang fails instead of stalling make */
#define REPLY_MAX	65536

/* What the stub ops saw; written on the loop thread. */
static struct {
	pthread_mutex_t lock;
	int attaches, detaches, reloads, statuses;
	char name[80], socket[300], opts[4][80];
	int nopts;
} seen = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int
op_status(void *arg, struct evbuffer *out)
{
	struct worker_status ws;
	bool first = true;

	pthread_mutex_lock(&seen.lock);
	seen.statuses++;
	pthread_mutex_unlock(&seen.lock);
	memset(&ws, 0, sizeof(ws));
	snprintf(ws.backend, sizeof(ws.backend), "lfbshm");
	evbuffer_add_printf(out, "{\"ok\":true,\"guests\":[{");
	json_kv_str(out, &first, "name", "g1");
	json_worker_status(out, &first, &ws);
	evbuffer_add_printf(out, "}]}");
	return 0;
}

static int
op_attach(void *arg, const char *name, const char *socket, int nopts,
    char **opts, char *why, size_t whylen)
{
	int i;

	if (strcmp(name, "fail") == 0) {
		snprintf(why, whylen, "no such provider");
		return -EINVAL;
	}
	pthread_mutex_lock(&seen.lock);
	seen.attaches++;
	snprintf(seen.name, sizeof(seen.name), "%s", name);
	snprintf(seen.socket, sizeof(seen.socket), "%s", socket);
	seen.nopts = nopts;
	for (i = 0; i < nopts && i < 4; i++)
		snprintf(seen.opts[i], sizeof(seen.opts[i]), "%s", opts[i]);
	pthread_mutex_unlock(&seen.lock);
	snprintf(why, whylen, "attached %s", name);
	return 0;
}

static int
op_detach(void *arg, const char *name, char *why, size_t whylen)
{
	if (strcmp(name, "missing") == 0)
		return -ENOENT;		/* no reason: strerror is sent */
	pthread_mutex_lock(&seen.lock);
	seen.detaches++;
	pthread_mutex_unlock(&seen.lock);
	return 0;
}

static int
op_reload(void *arg, char *why, size_t whylen)
{
	pthread_mutex_lock(&seen.lock);
	seen.reloads++;
	pthread_mutex_unlock(&seen.lock);
	return 0;
}

static const struct control_ops ops = {
	op_status, op_attach, op_detach, op_reload,
};

struct server {
	struct event_base *base;
	struct control *ctl;
	struct event *stop_ev;
	int stop[2];
	pthread_t thread;
	bool running;
};

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void *
loop_main(void *arg)
{
	struct server *s = arg;

	event_base_dispatch(s->base);
	return NULL;
}

static int
server_start(struct server *s, const char *path, const char *group,
    unsigned int timeout_ms)
{
	int rc;

	memset(s, 0, sizeof(*s));
	if ((s->base = event_base_new()) == NULL)
		return -ENOMEM;
	if ((rc = control_open(s->base, path, group, &ops, NULL,
	    &s->ctl)) != 0) {
		event_base_free(s->base);
		return rc;
	}
	if (timeout_ms != 0)
		control_set_timeout(s->ctl, timeout_ms);
	if (pipe(s->stop) == -1 || (s->stop_ev = event_new(s->base,
	    s->stop[0], EV_READ, stop_cb, s->base)) == NULL ||
	    event_add(s->stop_ev, NULL) == -1 ||
	    pthread_create(&s->thread, NULL, loop_main, s) != 0) {
		fprintf(stderr, "cannot start the loop thread\n");
		exit(99);
	}
	s->running = true;
	return 0;
}

static void
server_stop(struct server *s)
{
	if (!s->running)
		return;
	if (write(s->stop[1], "x", 1) != 1)
		exit(99);
	pthread_join(s->thread, NULL);
	control_close(s->ctl);
	event_free(s->stop_ev);
	close(s->stop[0]);
	close(s->stop[1]);
	event_base_free(s->base);
	s->running = false;
}

static int
connect_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send all of req (a refusing server may have closed: ignore that). */
static void
send_all(int fd, const void *req, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = send(fd, (const char *)req + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

/* Read to EOF (or a reset after data); -1 on timeout or error. */
static ssize_t
read_all(int fd, char *buf, size_t cap)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t off = 0;
	ssize_t n;

	for (;;) {
		if (poll(&pfd, 1, WAIT_MS) != 1)
			return -1;
		n = read(fd, buf + off, cap - 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == ECONNRESET && off > 0)
			break;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		off += (size_t)n;
		if (off == cap - 1)
			break;
	}
	buf[off] = '\0';
	return (ssize_t)off;
}

static ssize_t
request(const char *path, const void *req, size_t len, bool shut, char *buf,
    size_t cap)
{
	ssize_t n;
	int fd;

	if ((fd = connect_unix(path)) == -1)
		return -1;
	send_all(fd, req, len);
	if (shut)
		shutdown(fd, SHUT_WR);
	n = read_all(fd, buf, cap);
	close(fd);
	return n;
}

/*
 * The reply must be one JSON object on one line; returns its "ok" and
 * copies "error" (or "message") into msg.
 */
static int
reply_ok(const char *reply, size_t len, char *msg, size_t msglen,
    struct jr_doc **docp)
{
	struct jr_doc *d = NULL;
	const char *e;
	char why[128] = "";
	bool ok;

	msg[0] = '\0';
	if (len == 0 || reply[len - 1] != '\n' ||
	    memchr(reply, '\n', len) != reply + len - 1) {
		snprintf(msg, msglen, "not one line: %s", reply);
		return -1;
	}
	if (jr_parse(reply, len, &d, why, sizeof(why)) != 0 ||
	    !jr_bool(jr_get(jr_root(d), "ok"), &ok)) {
		snprintf(msg, msglen, "bad JSON (%s): %s", why, reply);
		jr_free(d);
		return -1;
	}
	if ((e = jr_string(jr_get(jr_root(d), ok ? "message" : "error"))))
		snprintf(msg, msglen, "%s", e);
	if (docp != NULL)
		*docp = d;
	else
		jr_free(d);
	return ok ? 1 : 0;
}

/* Send line, expect ok (want_ok) or an error containing what. */
static void
expect_at(int srcline, const char *path, const char *line, size_t len,
    bool shut, int want_ok, const char *what)
{
	char *buf = malloc(REPLY_MAX), msg[512];
	ssize_t n;
	int ok;

	if (buf == NULL)
		exit(99);
	n = request(path, line, len, shut, buf, REPLY_MAX);
	ok = n > 0 ? reply_ok(buf, (size_t)n, msg, sizeof(msg), NULL) : -1;
	if (n <= 0)
		snprintf(msg, sizeof(msg), "no reply");
	if (ok != want_ok || (what != NULL && strstr(msg, what) == NULL)) {
		failures++;
		fprintf(stderr, "FAIL %s:%d: ok %d (wanted %d), \"%s\" "
		    "(wanted \"%s\")\n", __FILE__, srcline, ok, want_ok, msg,
		    what ? what : "");
	}
	free(buf);
}
#define EXPECT(path, s, ok, what) \
	expect_at(__LINE__, path, s, strlen(s), false, ok, what)

static void
test_commands(const char *path)
{
	struct jr_doc *d = NULL;
	const struct jr_value *c;
	char buf[8192], msg[256], *big;
	ssize_t n;
	int names = 0;

	/* help: the command table. */
	n = request(path, "help\n", 5, false, buf, sizeof(buf));
	CHECK(n > 0 && reply_ok(buf, (size_t)n, msg, sizeof(msg), &d) == 1,
	    "help: %s", msg);
	for (c = jr_first(jr_get(jr_root(d), "commands")); c != NULL;
	    c = jr_next(c)) {
		const char *nm = jr_string(jr_get(c, "name"));

		CHECK(nm != NULL && jr_string(jr_get(c, "help")) != NULL &&
		    jr_string(jr_get(c, "args")) != NULL, "help entry");
		if (nm != NULL && (strcmp(nm, "status") == 0 ||
		    strcmp(nm, "attach") == 0 || strcmp(nm, "detach") == 0 ||
		    strcmp(nm, "reload") == 0 || strcmp(nm, "help") == 0))
			names++;
	}
	CHECK(names == 5, "help lists the 5 commands (%d)", names);
	jr_free(d);
	d = NULL;

	/* status: the ops' document, as is. */
	n = request(path, "status\n", 7, false, buf, sizeof(buf));
	CHECK(n > 0 && reply_ok(buf, (size_t)n, msg, sizeof(msg), &d) == 1,
	    "status: %s", msg);
	c = jr_first(jr_get(jr_root(d), "guests"));
	CHECK(c != NULL && strcmp(jr_string(jr_get(c, "name")) ?: "", "g1") ==
	    0 && strcmp(jr_string(jr_get(c, "state")) ?: "", "no-clients") ==
	    0, "status body");
	jr_free(d);

	/* attach, with quoting and options. */
	EXPECT(path, "attach g2 /run/x.sock tile=64 max-rate=30\n", 1,
	    "attached g2");
	pthread_mutex_lock(&seen.lock);
	CHECK(strcmp(seen.name, "g2") == 0 &&
	    strcmp(seen.socket, "/run/x.sock") == 0 && seen.nopts == 2 &&
	    strcmp(seen.opts[0], "tile=64") == 0 &&
	    strcmp(seen.opts[1], "max-rate=30") == 0, "attach arguments");
	pthread_mutex_unlock(&seen.lock);
	EXPECT(path, "\tattach  g3 \"/a b/\\\"q\\\"\\\\.sock\"\r\n", 1, NULL);
	pthread_mutex_lock(&seen.lock);
	CHECK(strcmp(seen.socket, "/a b/\"q\"\\.sock") == 0,
	    "quoted socket: %s", seen.socket);
	pthread_mutex_unlock(&seen.lock);
	EXPECT(path, "attach fail /s\n", 0, "no such provider");
	EXPECT(path, "attach -x /s\n", 0, "bad guest name");
	EXPECT(path, "attach g /s novalue\n", 0, "option 1 is not key=value");
	EXPECT(path, "attach g /s =1\n", 0, "not key=value");
	EXPECT(path, "attach g \"\"\n", 0, "empty socket path");
	EXPECT(path, "attach g\n", 0, "usage: attach NAME SOCKET");

	EXPECT(path, "detach g2\n", 1, NULL);
	EXPECT(path, "detach missing\n", 0, "No such file or directory");
	EXPECT(path, "detach\n", 0, "usage: detach NAME");
	EXPECT(path, "reload\n", 1, NULL);
	EXPECT(path, "reload now\n", 0, "usage: reload");
	pthread_mutex_lock(&seen.lock);
	CHECK(seen.attaches == 2 && seen.detaches == 1 && seen.reloads == 1,
	    "ops called: %d %d %d", seen.attaches, seen.detaches,
	    seen.reloads);
	pthread_mutex_unlock(&seen.lock);

	EXPECT(path, "frobnicate\n", 0, "unknown command 'frobnicate'");
	EXPECT(path, "\n", 0, "empty request");
	EXPECT(path, "status \"x\n", 0, "unterminated quoted string");
	EXPECT(path, "status \"\\n\"\n", 0, "bad escape");
	EXPECT(path, "sta\"tus\n", 0, "quote inside a word");
	EXPECT(path, "status\x1b[2J\n", 0, "non-printable");
	EXPECT(path, "status \xc3\xa9\n", 0, "printable ASCII");
	expect_at(__LINE__, path, "status\0x\n", 9, false, 0,
	    "non-printable");
	/* A line without a newline, ended by shutdown, is taken. */
	expect_at(__LINE__, path, "status", 6, true, 1, NULL);
	/* Only the first line counts. */
	EXPECT(path, "help\nfrobnicate\n", 1, NULL);
	{
		char many[600];
		size_t o = 0;
		int i;

		o += (size_t)snprintf(many, sizeof(many), "attach g /s");
		for (i = 0; i < CONTROL_MAX_OPTS + 1; i++)
			o += (size_t)snprintf(many + o, sizeof(many) - o,
			    " k%d=v", i);
		snprintf(many + o, sizeof(many) - o, "\n");
		EXPECT(path, many, 0, "too many arguments");
	}

	/* Exactly CONTROL_LINE_MAX octets is fine; one more is not. */
	if ((big = malloc(CONTROL_LINE_MAX + 64)) == NULL)
		exit(99);
	memset(big, ' ', CONTROL_LINE_MAX + 64);
	memcpy(big, "status", 6);
	big[CONTROL_LINE_MAX] = '\n';
	expect_at(__LINE__, path, big, CONTROL_LINE_MAX + 1, false, 1, NULL);
	big[CONTROL_LINE_MAX] = ' ';
	big[CONTROL_LINE_MAX + 1] = '\n';
	expect_at(__LINE__, path, big, CONTROL_LINE_MAX + 2, false, 0,
	    "request longer than 4096 octets");
	/* No newline at all, and more than fits: refused, not waited on. */
	memset(big, 'a', CONTROL_LINE_MAX + 64);
	expect_at(__LINE__, path, big, CONTROL_LINE_MAX + 64, false, 0,
	    "request longer than 4096 octets");
	free(big);
}

/*
 * Run lfbvncctl with args; its exit status, and its stdout in out.
 * -2 when it is not built.
 */
static int
run_ctl(const char *ctl, char *const args[], char *out, size_t outlen)
{
	int p[2], st;
	ssize_t n;
	size_t off = 0;
	pid_t pid;

	if (pipe(p) == -1 || (pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(ctl, args);
		_exit(127);
	}
	close(p[1]);
	while (off + 1 < outlen &&
	    (n = read(p[0], out + off, outlen - 1 - off)) > 0)
		off += (size_t)n;
	out[off] = '\0';
	close(p[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* lfbvncctl against this server: output and exit codes. */
static void
test_cli(const char *path)
{
	char ctl[512], out[8192], sarg[160];
	const char *top = getenv("top_builddir");
	int rc;

	snprintf(ctl, sizeof(ctl), "%s/clients/lfbvncctl",
	    top != NULL ? top : ".");
	if (access(ctl, X_OK) != 0) {
		fprintf(stderr, "%s not built: lfbvncctl not tested\n", ctl);
		return;
	}
	snprintf(sarg, sizeof(sarg), "%s", path);
	{
		char *a[] = { ctl, "-s", sarg, "status", NULL };

		rc = run_ctl(ctl, a, out, sizeof(out));
		CHECK(rc == 0 && strstr(out, "NAME") != NULL &&
		    strstr(out, "g1") != NULL &&
		    strstr(out, "no clients") != NULL,
		    "lfbvncctl status: %d\n%s", rc, out);
	}
	{
		char *a[] = { ctl, "-s", sarg, "--json", "help", NULL };

		rc = run_ctl(ctl, a, out, sizeof(out));
		CHECK(rc == 0 && strncmp(out, "{\"ok\":true", 10) == 0,
		    "lfbvncctl --json help: %d %s", rc, out);
	}
	{
		char *a[] = { ctl, "-s", sarg, "help", NULL };

		rc = run_ctl(ctl, a, out, sizeof(out));
		CHECK(rc == 0 && strstr(out, "attach NAME SOCKET") != NULL,
		    "lfbvncctl help: %d %s", rc, out);
	}
	{
		char *a[] = { ctl, "-s", sarg, "attach", "g9", "/x y.sock",
		    "tile=16", NULL };

		rc = run_ctl(ctl, a, out, sizeof(out));
		CHECK(rc == 0 && strstr(out, "attached g9") != NULL,
		    "lfbvncctl attach: %d %s", rc, out);
		pthread_mutex_lock(&seen.lock);
		CHECK(strcmp(seen.socket, "/x y.sock") == 0,
		    "lfbvncctl quotes: %s", seen.socket);
		pthread_mutex_unlock(&seen.lock);
	}
	{
		char *a[] = { ctl, "-s", sarg, "detach", "missing", NULL };

		rc = run_ctl(ctl, a, out, sizeof(out));
		CHECK(rc == 1, "daemon error exits 1: %d", rc);
	}
	{
		char *a[] = { ctl, "-s", sarg, "frob", NULL };

		rc = run_ctl(ctl, a, out, sizeof(out));
		CHECK(rc == 2, "usage exits 2: %d", rc);
	}
	{
		char *a[] = { ctl, "-s", "/nonexistent/x.sock", "status",
		    NULL };

		rc = run_ctl(ctl, a, out, sizeof(out));
		CHECK(rc == 3, "no daemon exits 3: %d", rc);
	}
}

/* 20 at once: 16 served, the rest refused at once, none stalled. */
static void
test_many(const char *path)
{
	int fds[20], i, ok = 0, refused = 0, other = 0, want;
	char buf[8192], msg[256];
	ssize_t n;

	for (i = 0; i < 20; i++) {
		fds[i] = connect_unix(path);
		CHECK(fds[i] != -1, "connect %d: %s", i, strerror(errno));
	}
	for (i = 0; i < 20; i++) {
		if (fds[i] == -1)
			continue;
		send_all(fds[i], "status\n", 7);
		n = read_all(fds[i], buf, sizeof(buf));
		switch (n > 0 ? reply_ok(buf, (size_t)n, msg, sizeof(msg),
		    NULL) : -1) {
		case 1:
			ok++;
			break;
		case 0:
			if (strstr(msg, "too many connections") != NULL) {
				refused++;
				break;
			}
			/* FALLTHROUGH */
		default:
			other++;
			fprintf(stderr, "connection %d: %s\n", i, msg);
		}
		close(fds[i]);
	}
	/* One uid other than root is held to its own share. */
	want = geteuid() == 0 ? CONTROL_MAX_CONN : CONTROL_MAX_PER_UID;
	CHECK(ok == want && refused == 20 - want && other == 0,
	    "20 connections: %d ok, %d refused, %d other", ok, refused,
	    other);
	/* The slots were given back. */
	EXPECT(path, "status\n", 1, NULL);
}

static void
test_timeout(const char *dir)
{
	struct server s;
	char path[128], buf[512], msg[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/timeout.sock", dir);
	CHECK(server_start(&s, path, NULL, 50) == 0, "timeout server");
	if (!s.running)
		return;
	/* Say nothing: the server gives up and says why. */
	fd = connect_unix(path);
	CHECK(fd != -1, "connect");
	n = fd != -1 ? read_all(fd, buf, sizeof(buf)) : -1;
	CHECK(n > 0 && reply_ok(buf, (size_t)n, msg, sizeof(msg), NULL) ==
	    0 && strstr(msg, "timeout") != NULL, "timeout reply: %s",
	    n > 0 ? buf : "none");
	if (fd != -1)
		close(fd);
	server_stop(&s);
}

/* A file left by a dead daemon goes; a live daemon keeps its socket. */
static void
test_stale(const char *dir, const char *live)
{
	struct sockaddr_un sun;
	struct event_base *base;
	struct control *ctl = NULL;
	struct stat st;
	char path[128];
	int fd, rc;

	if ((base = event_base_new()) == NULL)
		exit(99);
	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		exit(99);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd != -1 && bind(fd, (struct sockaddr *)&sun,
	    sizeof(sun)) == 0, "stale bind");
	close(fd);		/* the file stays; nobody listens */
	CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "stale file");
	rc = control_open(base, path, NULL, &ops, NULL, &ctl);
	CHECK(rc == 0, "stale socket replaced: %d", rc);
	CHECK((fd = connect_unix(path)) != -1, "new socket listens");
	if (fd != -1)
		close(fd);
	control_close(ctl);
	CHECK(stat(path, &st) == -1 && errno == ENOENT,
	    "control_close unlinks");

	/* Something else at the path: refused, and left alone. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd != -1, "regular file");
	if (fd != -1)
		close(fd);
	ctl = NULL;
	rc = control_open(base, path, NULL, &ops, NULL, &ctl);
	CHECK(rc == -EEXIST && ctl == NULL, "not a socket: %d", rc);
	CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode), "file kept");
	unlink(path);

	/* A live daemon's socket is not stolen. */
	rc = control_open(base, live, NULL, &ops, NULL, &ctl);
	CHECK(rc == -EADDRINUSE && ctl == NULL, "live socket: %d", rc);
	CHECK(stat(live, &st) == 0 && S_ISSOCK(st.st_mode), "live kept");
	EXPECT(live, "status\n", 1, NULL);

	/* Closing does not remove a socket that is no longer ours. */
	rc = control_open(base, path, NULL, &ops, NULL, &ctl);
	CHECK(rc == 0, "reopen: %d", rc);
	if (rc == 0) {
		unlink(path);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd != -1)
			close(fd);
		control_close(ctl);
		CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode),
		    "another's file survives control_close");
		unlink(path);
	}
	/* Mode and bad paths. */
	rc = control_open(base, path, NULL, &ops, NULL, &ctl);
	CHECK(rc == 0 && stat(path, &st) == 0 &&
	    (st.st_mode & 07777) == 0660, "mode 0660: %o",
	    (unsigned)(st.st_mode & 07777));
	if (rc == 0)
		control_close(ctl);
	CHECK(control_open(base, "/nonexistent-dir/x.sock", NULL, &ops, NULL,
	    &ctl) == -ENOENT, "missing directory");
	CHECK(control_open(base, path, "no-such-group-lfbvnc", &ops, NULL,
	    &ctl) == -ENOENT, "unknown group");
	event_base_free(base);
}

/*
 * In a child: drop to nobody (gid as given), send status, and exit 0 if
 * the reply is as wanted (ok or "permission denied").
 */
static int
as_nobody(const char *path, gid_t gid, bool want_ok)
{
	char buf[4096], msg[256];
	ssize_t n;
	pid_t pid;
	int st, ok;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) == -1 ||
		    setresgid(gid, gid, gid) == -1 ||
		    setresuid(NOBODY, NOBODY, NOBODY) == -1)
			_exit(90);
		n = request(path, "status\n", 7, false, buf, sizeof(buf));
		if (n <= 0)
			_exit(91);
		ok = reply_ok(buf, (size_t)n, msg, sizeof(msg), NULL);
		if (want_ok)
			_exit(ok == 1 ? 0 : 92);
		_exit(ok == 0 && strstr(msg, "permission denied") != NULL ?
		    0 : 93);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void
test_credentials(const char *dir, const char *path)
{
	struct server s;
	struct group *gr;
	struct stat st;
	char gpath[128], gname[64];
	int rc;

	/* Let the kernel admit nobody, so the server's own check decides. */
	CHECK(chmod(path, 0666) == 0, "chmod");
	rc = as_nobody(path, NOBODY, false);
	CHECK(rc == 0, "nobody refused with a reason (child exit %d)", rc);
	chmod(path, 0660);
	/* Through the kernel's check alone: cannot even connect. */
	rc = as_nobody(path, NOBODY, false);
	CHECK(rc == 91, "0660 keeps nobody out (child exit %d)", rc);

	/* The control group admits its members by gid. */
	if ((gr = getgrgid(NOBODY)) == NULL) {
		fprintf(stderr, "no group %d: group admission not tested\n",
		    NOBODY);
		return;
	}
	snprintf(gname, sizeof(gname), "%s", gr->gr_name);
	snprintf(gpath, sizeof(gpath), "%s/group.sock", dir);
	CHECK(server_start(&s, gpath, gname, 0) == 0, "group server");
	if (!s.running)
		return;
	CHECK(stat(gpath, &st) == 0 && st.st_gid == NOBODY &&
	    (st.st_mode & 07777) == 0660, "socket group and mode");
	rc = as_nobody(gpath, NOBODY, true);
	CHECK(rc == 0, "group member admitted (child exit %d)", rc);
	/* Another gid: the kernel refuses; open the mode to see ours. */
	chmod(gpath, 0666);
	rc = as_nobody(gpath, 1, false);
	CHECK(rc == 0, "non-member refused (child exit %d)", rc);
	server_stop(&s);
}

int
main(void)
{
	char dir[] = "/tmp/test-control.XXXXXX", path[128];
	struct server s;
	bool root = geteuid() == 0;
	int rc;

	log_init("test-control", 0);
	signal(SIGPIPE, SIG_IGN);	/* as lfbvncd does: see control.h */
	if (mkdtemp(dir) == NULL) {
		printf("SKIP: mkdtemp: %s\n", strerror(errno));
		return 77;
	}
	/* nobody must reach the sockets inside. */
	chmod(dir, 0755);
	snprintf(path, sizeof(path), "%s/control.sock", dir);
	if ((rc = server_start(&s, path, NULL, 0)) != 0) {
		fprintf(stderr, "control_open: %s\n", strerror(-rc));
		rmdir(dir);
		return 1;
	}
	test_commands(path);
	test_cli(path);
	test_many(path);
	test_stale(dir, path);
	if (root)
		test_credentials(dir, path);
	server_stop(&s);
	test_timeout(dir);
	CHECK(rmdir(dir) == 0, "every socket removed: %s", strerror(errno));

	if (failures != 0) {
		fprintf(stderr, "test-control: %d failures\n", failures);
		return 1;
	}
	if (!root) {
		printf("SKIP: the peer-credential tests need root (they "
		    "connect as nobody); everything else passed\n");
		return 77;
	}
	printf("test-control: ok\n");
	return 0;
}
