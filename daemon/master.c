/* master.c - workers, control socket, reload; see master.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <dirent.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "childargs.h"
#include "conf.h"
#include "control.h"
#include "json.h"
#include "lfbshm.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "metricsd.h"
#include "policy.h"
#include "status.h"
#include "worker.h"
#ifdef HAVE_XEN
#include "xendisco.h"
#endif

#define RESTART_MIN_MS	500
#define RESTART_MAX_MS	30000
#define STOP_GRACE_MS	5000

struct child {
	struct conf_guest g;
	pid_t pid;		/* 0: not running */
	int ipc;		/* our end of the worker's socketpair */
	int status_fd;
	struct worker_status *st;
	uint32_t backoff_ms;
	uint64_t started_ms;
	uint32_t restarts;
	bool removed;		/* detached or gone from the configuration */
	bool watched;		/* attached because its socket appeared */
	bool xen;		/* attached because its domain runs */
	struct event *ev_restart;
	struct master *m;
	struct child *next;
};

struct master {
	struct conf *conf;
	const char *conf_path;
	char *const *overrides;
	int noverrides;
	const char *self;
	bool use_syslog;		/* workers get -s too */
	bool debug_no_seccomp;		/* and --debug-no-seccomp */
	struct event_base *base;
	struct control *ctl;
	struct child *children;
	bool stopping;
	struct event *ev_sigchld, *ev_sigterm, *ev_sigint, *ev_sighup;
	struct event *ev_stop_timer;
	int watch_fd;		/* inotify on conf->watch_dir, or -1 */
	struct event *ev_watch;
#ifdef HAVE_XEN
	struct xendisco *xd;
#endif
	struct metricsd *metrics;	/* NULL: metrics-listen is off */
	char metrics_listen[CONF_LISTEN_MAX];	/* as read at start */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Minimal sd_notify(3): no libsystemd dependency for one datagram. */
static void
notify_systemd(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return;
	(void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	close(fd);
}

/* /run/lfbvnc may not exist yet (tmpfs): create the last component. */
static int
make_parent_dir(const char *path)
{
	char dir[CONF_PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		log_warn("cannot create %s", dir);
		return -errno;
	}
	return 0;
}

static struct child *
find_child(struct master *m, const char *name)
{
	struct child *c;

	for (c = m->children; c != NULL; c = c->next)
		if (!c->removed && strcmp(c->g.name, name) == 0)
			return c;
	return NULL;
}

static void on_restart(evutil_socket_t fd, short what, void *arg);

static int
spawn(struct child *c)
{
	struct master *m = c->m;
	char text[CONF_LINE_MAX * 64], fdbuf[2][16];
	char *argv[16];
	int sv[2], n, argc = 0;
	pid_t pid;

	/* The globals a worker uses, then its own block. */
	n = snprintf(text, sizeof(text), "web-dir \"%s\"\nuser \"%s\"\n",
	    m->conf->web_dir, m->conf->user);
	if (n < 0 || (size_t)n >= sizeof(text) ||
	    conf_guest_format(&c->g, text + n, sizeof(text) - (size_t)n) < 0) {
		log_warnx("%s: configuration too large", c->g.name);
		return -ENOSPC;
	}
	n = (int)strlen(text);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("%s: socketpair", c->g.name);
		return -errno;
	}
	pid = fork();
	if (pid == -1) {
		log_warn("%s: fork", c->g.name);
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (pid == 0) {
		/* fds 3 and 4 for the worker, everything else closed on exec */
		if (dup2(sv[1], 3) == -1 || dup2(c->status_fd, 4) == -1)
			_exit(127);
		snprintf(fdbuf[0], sizeof(fdbuf[0]), "%d", 3);
		snprintf(fdbuf[1], sizeof(fdbuf[1]), "%d", 4);
		argv[argc++] = (char *)"lfbvncd";
		argv[argc++] = (char *)"-W";
		argv[argc++] = c->g.name;
		argv[argc++] = (char *)"-I";
		argv[argc++] = fdbuf[0];
		argv[argc++] = (char *)"-S";
		argv[argc++] = fdbuf[1];
		argc = childargs_common(argv, argc, m->use_syslog, m->debug_no_seccomp);
		argv[argc] = NULL;
		execv(m->self, argv);
		_exit(127);
	}
	close(sv[1]);
	if (send(sv[0], text, (size_t)n, MSG_NOSIGNAL) != n) {
		log_warn("%s: cannot send the worker its configuration",
		    c->g.name);
		kill(pid, SIGKILL);
	}
	if (c->ipc != -1)
		close(c->ipc);
	c->ipc = sv[0];
	c->pid = pid;
	c->started_ms = now_ms();
	log_info("%s: worker started (pid %d)", c->g.name, (int)pid);
	return 0;
}

static struct child *
add_child(struct master *m, const struct conf_guest *g)
{
	struct child *c;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->g = *g;
	c->m = m;
	c->ipc = -1;
	c->backoff_ms = RESTART_MIN_MS;
	/* The status page: created here so the worker cannot size it. */
	c->status_fd = memfd_create("lfbvncd-status", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING);
	if (c->status_fd == -1 ||
	    ftruncate(c->status_fd, sizeof(struct worker_status)) == -1 ||
	    fcntl(c->status_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_SEAL) == -1)
		goto fail;
	c->st = mmap(NULL, sizeof(*c->st), PROT_READ, MAP_SHARED,
	    c->status_fd, 0);
	if (c->st == MAP_FAILED) {
		c->st = NULL;
		goto fail;
	}
	c->ev_restart = evtimer_new(m->base, on_restart, c);
	if (c->ev_restart == NULL)
		goto fail;
	c->next = m->children;
	m->children = c;
	if (spawn(c) < 0)
		evtimer_add(c->ev_restart, (&(struct timeval){ 1, 0 }));
	return c;
fail:
	log_warn("%s: status page", g->name);
	if (c->status_fd != -1)
		close(c->status_fd);
	free(c);
	return NULL;
}

static void
free_child(struct child *c)
{
	if (c->ev_restart != NULL)
		event_free(c->ev_restart);
	if (c->st != NULL)
		munmap(c->st, sizeof(*c->st));
	if (c->status_fd != -1)
		close(c->status_fd);
	if (c->ipc != -1)
		close(c->ipc);
	free(c);
}

/* Forget children that are removed and have exited. */
static void
reap_removed(struct master *m)
{
	struct child **pp = &m->children, *c;

	while ((c = *pp) != NULL) {
		if (c->removed && c->pid == 0) {
			*pp = c->next;
			free_child(c);
		} else {
			pp = &c->next;
		}
	}
}

static void
stop_child(struct child *c)
{
	c->removed = true;
	evtimer_del(c->ev_restart);
	if (c->pid > 0)
		kill(c->pid, SIGTERM);
}

static void
on_restart(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;

	if (c->removed || c->m->stopping || c->pid != 0)
		return;
	if (spawn(c) < 0)
		evtimer_add(c->ev_restart, (&(struct timeval){ 1, 0 }));
}

static void
on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;
	struct child *c;
	uint64_t ran;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (c = m->children; c != NULL; c = c->next)
			if (c->pid == pid)
				break;
		if (c == NULL) {
			metricsd_reaped(m->metrics, pid, status);
			continue;
		}
		c->pid = 0;
		if (c->ipc != -1) {
			close(c->ipc);
			c->ipc = -1;
		}
		if (WIFSIGNALED(status))
			log_warnx("%s: worker %d killed by signal %d",
			    c->g.name, (int)pid, WTERMSIG(status));
		else if (WEXITSTATUS(status) != 0 || (!c->removed &&
		    !m->stopping))
			log_warnx("%s: worker %d exited with status %d",
			    c->g.name, (int)pid, WEXITSTATUS(status));
		if (c->removed || m->stopping)
			continue;
		/* A worker that ran a while gets a fresh back-off. */
		ran = now_ms() - c->started_ms;
		if (ran > RESTART_MAX_MS)
			c->backoff_ms = RESTART_MIN_MS;
		log_info("%s: restarting the worker in %u ms", c->g.name,
		    c->backoff_ms);
		c->restarts++;
		evtimer_add(c->ev_restart, (&(struct timeval){
		    c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000 }));
		c->backoff_ms = c->backoff_ms * 2 > RESTART_MAX_MS ?
		    RESTART_MAX_MS : c->backoff_ms * 2;
	}
	reap_removed(m);
	if (m->stopping && m->children == NULL)
		event_base_loopexit(m->base, NULL);
}

/* ------------------------------------------------------------ status */

/*
 * Copy a worker's page with its seqlock.  The worker is not trusted to
 * keep its strings terminated or printable: json_worker_status() reads
 * them up to their array size and escapes them, and answers "?" for a
 * state out of range.
 */
static bool
read_status(const struct child *c, struct worker_status *out)
{
	const struct worker_status *p = c->st;
	uint32_t s1, s2;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		s1 = lfbshm_load(&p->seq, memory_order_acquire);
		if (s1 & 1)
			continue;
		memcpy(out, (const void *)p, sizeof(*out));
		atomic_thread_fence(memory_order_acquire);
		s2 = lfbshm_load(&p->seq, memory_order_relaxed);
		if (s1 == s2)
			return true;
	}
	return false;
}

/*
 * The copy both "status --json" and the metrics show: false when the
 * worker is not running or its page stays torn.
 */
static bool
guest_status(const struct child *c, struct worker_status *s)
{
	struct timespec ts;
	clockid_t cpu;

	if (c->pid <= 0 || !read_status(c, s))
		return false;
	/* The worker publishes only when something happens: read the live
	   figures here. */
	if (clock_getcpuclockid(c->pid, &cpu) == 0 &&
	    clock_gettime(cpu, &ts) == 0)
		s->cpu_usec = (uint64_t)ts.tv_sec * 1000000 +
		    (uint64_t)ts.tv_nsec / 1000;
	s->uptime_ms = now_ms() - c->started_ms;
	return true;
}

static void
status_guest(struct evbuffer *b, const struct child *c)
{
	struct worker_status s;
	bool first = true, ok = guest_status(c, &s);

	evbuffer_add_printf(b, "{");
	json_kv_str(b, &first, "name", c->g.name);
	json_kv_i64(b, &first, "pid", (int64_t)c->pid);
	json_kv_bool(b, &first, "running", c->pid > 0);
	json_kv_u64(b, &first, "restarts", c->restarts);
	json_kv_str(b, &first, "socket", c->g.socket);
	json_kv_str(b, &first, "listen", c->g.listen);
	if (!ok) {
		json_kv_str(b, &first, "state",
		    c->pid > 0 ? "starting" : "stopped");
		evbuffer_add_printf(b, "}");
		return;
	}
	json_worker_status(b, &first, &s);
	evbuffer_add_printf(b, "}");
}

static int
ctl_status(void *arg, struct evbuffer *out)
{
	struct master *m = arg;
	const struct child *c;
	bool first = true;

	evbuffer_add_printf(out, "{\"ok\":true,\"pid\":%d,\"guests\":[",
	    (int)getpid());
	for (c = m->children; c != NULL; c = c->next) {
		if (c->removed)
			continue;
		if (!first)
			evbuffer_add_printf(out, ",");
		first = false;
		status_guest(out, c);
	}
	evbuffer_add_printf(out, "]}");
	return 0;
}

/* The metrics child asks: the same copies as ctl_status (metricsd.h). */
static int
metrics_scrape(void *arg, struct evbuffer *out)
{
	struct master *m = arg;
	const struct child *c;
	struct metrics_guest *g;
	size_t n = 0;
	int rc;

	for (c = m->children; c != NULL; c = c->next)
		n += !c->removed;
	if ((g = calloc(n > 0 ? n : 1, sizeof(*g))) == NULL)
		return -ENOMEM;
	n = 0;
	for (c = m->children; c != NULL; c = c->next) {
		if (c->removed)
			continue;
		g[n].name = c->g.name;
		g[n].running = c->pid > 0;
		g[n].restarts = c->restarts;
		g[n].have_status = guest_status(c, &g[n].status);
		n++;
	}
	rc = metrics_render(out, g, n, METRICSD_REPLY_MAX);
	free(g);
	return rc;
}

static int
ctl_attach(void *arg, const char *name, const char *socket, int nopts,
    char **opts, char *why, size_t whylen)
{
	struct master *m = arg;
	struct conf_guest g;
	char *eq;
	int i, rc;

	if (!conf_guest_name_ok(name)) {
		snprintf(why, whylen, "bad guest name \"%s\"", name);
		return -EINVAL;
	}
	if (find_child(m, name) != NULL) {
		snprintf(why, whylen, "guest %s is already attached", name);
		return -EEXIST;
	}
	g = m->conf->defaults;
	snprintf(g.name, sizeof(g.name), "%s", name);
	g.backend = CONF_BACKEND_LFBSHM;
	if (snprintf(g.socket, sizeof(g.socket), "%s", socket) >=
	    (int)sizeof(g.socket)) {
		snprintf(why, whylen, "socket path too long");
		return -ENAMETOOLONG;
	}
	for (i = 0; i < nopts; i++) {
		char kv[CONF_LINE_MAX];

		snprintf(kv, sizeof(kv), "%s", opts[i]);
		if ((eq = strchr(kv, '=')) == NULL) {
			snprintf(why, whylen, "option \"%s\" is not key=value",
			    opts[i]);
			return -EINVAL;
		}
		*eq = '\0';
		if ((rc = conf_set(m->conf, &g, kv, eq + 1, why, whylen)) < 0)
			return rc;
	}
	if ((rc = policy_params_check(&g.policy, why, whylen)) < 0)
		return rc;
	if (add_child(m, &g) == NULL) {
		snprintf(why, whylen, "cannot start a worker");
		return -ENOMEM;
	}
	log_info("%s: attached on request (%s)", name, socket);
	return 0;
}

static int
ctl_detach(void *arg, const char *name, char *why, size_t whylen)
{
	struct master *m = arg;
	struct child *c = find_child(m, name);

	if (c == NULL) {
		snprintf(why, whylen, "no guest named %s", name);
		return -ENOENT;
	}
	log_info("%s: detached on request", name);
	stop_child(c);
	reap_removed(m);
	return 0;
}

/*
 * SIGHUP / reload: guests gone from the file stop, new ones start, and
 * changed ones restart.  Guests attached at run time stay.
 */
static int
reload(struct master *m, char *why, size_t whylen)
{
	struct conf *nc;
	struct child *c;
	const struct conf_guest *g;
	size_t i;
	int rc, k;

	if (m->conf_path == NULL) {
		snprintf(why, whylen, "no configuration file to reload");
		return -ENOENT;
	}
	nc = malloc(sizeof(*nc));
	if (nc == NULL)
		return -ENOMEM;
	conf_init(nc);
	rc = conf_load(nc, m->conf_path, why, whylen);
	for (k = 0; rc == 0 && k < m->noverrides; k++) {
		char kv[CONF_LINE_MAX], *eq;

		snprintf(kv, sizeof(kv), "%s", m->overrides[k]);
		if ((eq = strchr(kv, '=')) == NULL)
			continue;
		*eq = '\0';
		rc = conf_set(nc, NULL, kv, eq + 1, why, whylen);
	}
	if (rc == 0)
		rc = conf_check(nc, why, whylen);
	if (rc < 0) {
		log_warnx("reload refused: %s", why);
		free(nc);
		return rc;
	}
	for (c = m->children; c != NULL; c = c->next) {
		if (c->removed || c->watched || c->xen ||
		    conf_find(m->conf, c->g.name) == NULL)
			continue;	/* attached at run time */
		g = conf_find(nc, c->g.name);
		if (g == NULL) {
			log_info("%s: removed from the configuration",
			    c->g.name);
			stop_child(c);
		} else if (memcmp(g, &c->g, sizeof(*g)) != 0) {
			log_info("%s: configuration changed, restarting",
			    c->g.name);
			stop_child(c);
		}
	}
	for (i = 0; i < nc->nguests; i++)
		if (find_child(m, nc->guests[i].name) == NULL)
			add_child(m, &nc->guests[i]);
	if (strcmp(nc->metrics_listen, m->metrics_listen) != 0)
		log_warnx("metrics-listen is now \"%s\" in the file, \"%s\" "
		    "in use: the change takes effect when lfbvncd restarts",
		    nc->metrics_listen, m->metrics_listen);
	memcpy(m->conf, nc, sizeof(*nc));
	free(nc);
	reap_removed(m);
	log_info("configuration reloaded");
	return 0;
}

static int
ctl_reload(void *arg, char *why, size_t whylen)
{
	return reload(arg, why, whylen);
}

static const struct control_ops ctl_ops = {
	.status = ctl_status,
	.attach = ctl_attach,
	.detach = ctl_detach,
	.reload = ctl_reload,
};

/* ------------------------------------------------------------ watch-dir */

static bool
port_used(struct master *m, int port)
{
	const struct child *c;

	for (c = m->children; c != NULL; c = c->next)
		if (!c->removed && (c->g.port == port ||
		    (c->g.web && c->g.web_port == port)))
			return true;
	return false;
}

/* First free port from watch-port-base (and its web port 100 below). */
static int
alloc_port(struct master *m, bool web)
{
	int port;

	for (port = m->conf->watch_port_base; port < 65535; port++)
		if (!port_used(m, port) &&
		    (!web || (port > 100 && !port_used(m, port - 100))))
			return port;
	return -1;
}

/*
 * A provider socket NAME.sock appeared in the watched directory: serve it
 * as guest NAME on the first free port from watch-port-base (its web
 * viewer, when on, 100 below, like 5800/5900).
 */
static void
watch_attach(struct master *m, const char *file)
{
	struct conf_guest g;
	char name[CONF_NAME_MAX + 1];
	size_t len = strlen(file);
	int port;

	if (len <= 5 || len - 5 > CONF_NAME_MAX ||
	    strcmp(file + len - 5, ".sock") != 0)
		return;
	memcpy(name, file, len - 5);
	name[len - 5] = '\0';
	if (!conf_guest_name_ok(name) || find_child(m, name) != NULL)
		return;
	g = m->conf->defaults;
	snprintf(g.name, sizeof(g.name), "%s", name);
	g.backend = CONF_BACKEND_LFBSHM;
	if (snprintf(g.socket, sizeof(g.socket), "%s/%s", m->conf->watch_dir,
	    file) >= (int)sizeof(g.socket)) {
		log_warnx("watch-dir: %s/%s: path too long", m->conf->watch_dir,
		    file);
		return;
	}
	if ((port = alloc_port(m, g.web)) < 0) {
		log_warnx("watch-dir: no free port for %s", name);
		return;
	}
	g.port = port;
	g.web_port = port - 100;
	log_info("%s: provider socket appeared in %s: attaching on port %d",
	    name, m->conf->watch_dir, port);
	struct child *c = add_child(m, &g);
	if (c != NULL)
		c->watched = true;
}

static void
watch_detach(struct master *m, const char *file)
{
	struct child *c;
	char path[CONF_PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", m->conf->watch_dir, file) >=
	    (int)sizeof(path))
		return;		/* never attached: too long */
	for (c = m->children; c != NULL; c = c->next)
		if (!c->removed && c->watched && strcmp(c->g.socket, path) == 0) {
			log_info("%s: provider socket removed: detaching",
			    c->g.name);
			stop_child(c);
		}
	reap_removed(m);
}

static void
on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			if (ev->len == 0 || memchr(ev->name, '\0', ev->len) ==
			    NULL)
				continue;
			if (ev->mask & (IN_CREATE | IN_MOVED_TO))
				watch_attach(m, ev->name);
			else if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
				watch_detach(m, ev->name);
		}
	}
}

static int
watch_open(struct master *m)
{
	struct dirent *de;
	DIR *d;

	if (m->conf->watch_dir[0] == '\0')
		return 0;
	if (mkdir(m->conf->watch_dir, 0755) == -1 && errno != EEXIST) {
		log_warn("watch-dir %s", m->conf->watch_dir);
		return -errno;
	}
	m->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (m->watch_fd == -1 || inotify_add_watch(m->watch_fd,
	    m->conf->watch_dir, IN_CREATE | IN_MOVED_TO | IN_DELETE |
	    IN_MOVED_FROM | IN_ONLYDIR) == -1) {
		log_warn("watch-dir %s: inotify", m->conf->watch_dir);
		return -errno;
	}
	m->ev_watch = event_new(m->base, m->watch_fd, EV_READ | EV_PERSIST,
	    on_watch, m);
	if (m->ev_watch == NULL || event_add(m->ev_watch, NULL) == -1)
		return -ENOMEM;
	/* Sockets already there when we start. */
	if ((d = opendir(m->conf->watch_dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_type == DT_SOCK || de->d_type == DT_UNKNOWN)
				watch_attach(m, de->d_name);
		closedir(d);
	}
	log_info("watching %s for provider sockets", m->conf->watch_dir);
	return 0;
}

#ifdef HAVE_XEN
/* ------------------------------------------------------------ Xen */

static int
xen_attach(void *arg, const struct conf_guest *gin)
{
	struct master *m = arg;
	struct conf_guest g = *gin;
	struct child *c;

	if (g.port < 0 && (g.port = alloc_port(m, g.web)) < 0) {
		log_warnx("%s: no free port", g.name);
		return -EADDRINUSE;
	}
	if (g.web_port < 0)
		g.web_port = g.port > 100 ? g.port - 100 : 0;
	log_info("%s: Xen domain %u asks for lfbvnc: serving it on %s port %d",
	    g.name, g.domid, g.listen, g.port);
	c = add_child(m, &g);
	if (c == NULL)
		return -ENOMEM;
	c->xen = true;
	return 0;
}

static void
xen_detach(void *arg, const char *name, uint32_t domid)
{
	struct master *m = arg;
	struct child *c;

	for (c = m->children; c != NULL; c = c->next)
		if (!c->removed && c->xen && c->g.domid == domid &&
		    strcmp(c->g.name, name) == 0) {
			log_info("%s: domain %u is gone: detaching", name,
			    domid);
			stop_child(c);
		}
	reap_removed(m);
}

static bool
xen_attached(void *arg, const char *name, uint32_t domid)
{
	return find_child(arg, name) != NULL;
}

/*
 * A served guest wrote its mode key: tell its worker, which cannot watch
 * xenstore itself.  A worker not running yet reads the key when it
 * attaches; one whose socket is full misses nothing it cannot read again
 * at its next start, so the message is not queued.
 */
static void
xen_mode(void *arg, const char *name, uint32_t domid, const char *value,
    size_t len)
{
	struct child *c = find_child(arg, name);
	struct worker_msg msg;

	if (c == NULL || !c->xen || c->g.domid != domid || c->pid <= 0 ||
	    c->ipc == -1)
		return;
	memset(&msg, 0, sizeof(msg));
	msg.type = WORKER_MSG_MODE;
	msg.len = (uint32_t)(len < sizeof(msg.arg) ? len : sizeof(msg.arg));
	memcpy(msg.arg, value, msg.len);
	if (send(c->ipc, &msg, sizeof(msg), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(msg))
		log_warn("%s: cannot pass the guest's new mode to the worker",
		    name);
}

static const struct xendisco_ops xen_disco_ops = {
	.attach = xen_attach,
	.detach = xen_detach,
	.attached = xen_attached,
	.mode = xen_mode,
};
#endif

/* ------------------------------------------------------------ signals */

static void
on_stop_timer(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	struct child *c;

	for (c = m->children; c != NULL; c = c->next)
		if (c->pid > 0) {
			log_warnx("%s: worker %d did not stop; killing it",
			    c->g.name, (int)c->pid);
			kill(c->pid, SIGKILL);
		}
}

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;
	struct child *c;

	if (m->stopping)
		return;
	log_info("signal %d: stopping %s", (int)sig,
	    m->children ? "the workers" : "");
	notify_systemd("STOPPING=1");
	m->stopping = true;
	metricsd_stop(m->metrics);
	for (c = m->children; c != NULL; c = c->next)
		stop_child(c);
	reap_removed(m);
	if (m->children == NULL) {
		event_base_loopexit(m->base, NULL);
		return;
	}
	evtimer_add(m->ev_stop_timer, (&(struct timeval){
	    STOP_GRACE_MS / 1000, 0 }));
}

static void
on_sighup(evutil_socket_t sig, short what, void *arg)
{
	char why[256];

	log_info("SIGHUP: reloading the configuration");
	notify_systemd("RELOADING=1");
	reload(arg, why, sizeof(why));
#ifdef HAVE_XEN
	xendisco_rescan(((struct master *)arg)->xd);
#endif
	notify_systemd("READY=1");
}

int
master_main(struct conf *conf, const char *conf_path,
    char *const *overrides, int noverrides, const char *self,
    bool use_syslog, bool debug_no_seccomp)
{
	struct master m;
	struct child *c;
	size_t i;
	int rc = 1;

	memset(&m, 0, sizeof(m));
	m.watch_fd = -1;
	m.conf = conf;
	m.conf_path = conf_path;
	m.overrides = overrides;
	m.noverrides = noverrides;
	m.self = self;
	m.use_syslog = use_syslog;
	m.debug_no_seccomp = debug_no_seccomp;
	if (debug_no_seccomp)
		log_warnx("--debug-no-seccomp: the workers will serve clients "
		    "WITHOUT their seccomp filter; this is for running under "
		    "valgrind, never for production");
	signal(SIGPIPE, SIG_IGN);
	m.base = event_base_new();
	if (m.base == NULL)
		fatalx("event_base_new");
	m.ev_sigchld = evsignal_new(m.base, SIGCHLD, on_sigchld, &m);
	m.ev_sigterm = evsignal_new(m.base, SIGTERM, on_stop, &m);
	m.ev_sigint = evsignal_new(m.base, SIGINT, on_stop, &m);
	m.ev_sighup = evsignal_new(m.base, SIGHUP, on_sighup, &m);
	m.ev_stop_timer = evtimer_new(m.base, on_stop_timer, &m);
	if (m.ev_sigchld == NULL || m.ev_sigterm == NULL ||
	    m.ev_sigint == NULL || m.ev_sighup == NULL ||
	    m.ev_stop_timer == NULL)
		fatalx("evsignal_new");
	event_add(m.ev_sigchld, NULL);
	event_add(m.ev_sigterm, NULL);
	event_add(m.ev_sigint, NULL);
	event_add(m.ev_sighup, NULL);

	if (make_parent_dir(conf->control) < 0)
		goto out;
	if (control_open(m.base, conf->control,
	    conf->control_group[0] ? conf->control_group : NULL, &ctl_ops, &m,
	    &m.ctl) < 0)
		goto out;
	/* Read at start only: a reload says when it changed (reload). */
	snprintf(m.metrics_listen, sizeof(m.metrics_listen), "%s",
	    conf->metrics_listen);
	if (conf->metrics_listen[0] != '\0' && metricsd_open(m.base,
	    conf->metrics_listen, conf->user, self, use_syslog,
	    debug_no_seccomp, metrics_scrape, &m, &m.metrics) < 0)
		goto out;

	for (i = 0; i < conf->nguests; i++)
		add_child(&m, &conf->guests[i]);
	if (watch_open(&m) < 0)
		goto out;
#ifdef HAVE_XEN
	if (conf->xl_config_dirs[0] != '\0' && xendisco_is_dom0() &&
	    xendisco_open(m.base, conf, &xen_disco_ops, &m, &m.xd) < 0)
		log_warnx("Xen guest discovery is off");
#endif
	log_info("lfbvncd %s running: %zu guest%s, control socket %s",
	    PACKAGE_VERSION, conf->nguests, conf->nguests == 1 ? "" : "s",
	    conf->control);
	notify_systemd("READY=1");
	event_base_dispatch(m.base);
	rc = 0;
out:
	control_close(m.ctl);
	metricsd_close(m.metrics);
#ifdef HAVE_XEN
	xendisco_close(m.xd);
#endif
	while ((c = m.children) != NULL) {
		m.children = c->next;
		if (c->pid > 0)
			kill(c->pid, SIGKILL);
		free_child(c);
	}
	event_free(m.ev_sigchld);
	event_free(m.ev_sigterm);
	event_free(m.ev_sigint);
	event_free(m.ev_sighup);
	event_free(m.ev_stop_timer);
	if (m.ev_watch != NULL)
		event_free(m.ev_watch);
	if (m.watch_fd != -1)
		close(m.watch_fd);
	event_base_free(m.base);
	log_info("stopped");
	return rc;
}
