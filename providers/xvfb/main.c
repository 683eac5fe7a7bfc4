/*
 * lfbvnc-xvfb - export a real X server's screen as an lfbshm provider.
 *
 * Starts Xvfb with -fbdir (the screen lives in DIR/Xvfb_screen0, an XWD
 * file Xvfb maps shared and draws into) and with lfbvnc-xvfb-shim.so
 * preloaded.  The shim registers that mapping for userfaultfd async
 * write-protect inside Xvfb and hands the userfaultfds over a unix socket
 * (shim.h).  From them this program builds a remote uffd tracker that
 * reads and clears the written pages with PAGEMAP_SCAN on
 * /proc/<Xvfb>/pagemap, and exports the file itself through the provider
 * API: fb fd = Xvfb_screen0 (read-only), mapped from offset 0, the mode's
 * offset = the parsed pixel offset.  Input from the consumer is injected
 * with XTEST.
 *
 * The fbdir should be on tmpfs: the trap (sync write-protect) does not
 * work on disk-backed files, and a framebuffer should not cause disk
 * writeback anyway.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include <linux/magic.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_XTST
#include <X11/Xlib.h>
#include <X11/extensions/XTest.h>
#endif

#include "lfbshm.h"
#include "lfbshm-provider.h"
#include "log.h"
#include "shim.h"
#include "tracker.h"
#include "xwd.h"

#ifndef PKGLIBDIR
#define PKGLIBDIR	"/usr/local/lib/lfbvnc"
#endif

#define DEFAULT_WIDTH	1920
#define DEFAULT_HEIGHT	1080
#define RUNDIR		"/run/lfbvnc"
#define SHIM_SOCK_NAME	"shim.sock"
#define READY_TIMEOUT_MS 30000	/* Xvfb start-up, xkbcomp included */
#define STOP_TIMEOUT_MS	3000	/* SIGTERM, then SIGKILL */
#define SHIM_RECV_MS	2000

struct opts {
	const char	*socket_path;
	const char	*display;	/* ":N" or NULL: Xvfb picks */
	const char	*fbdir;		/* NULL: a private one */
	const char	*xvfb;
	uint32_t	 width;
	uint32_t	 height;
	char		**extra;	/* after "--" */
	int		 nextra;
};

struct xin;

struct xvfb {
	struct opts	 o;
	char		 fbdir[PATH_MAX];
	bool		 fbdir_made;	/* ours: remove it at exit */
	char		 shim_sock[PATH_MAX];
	char		 screen_path[PATH_MAX];
	char		 shim_so[PATH_MAX];
	int		 shim_listen;
	int		 sigfd;
	sigset_t	 oldmask;
	pid_t		 xpid;		/* 0: not running (reaped) */
	char		 display[48];	/* ":N" */

	struct xvfb_shim_msg shim;	/* screen 0's report */
	bool		 shim_seen;
	int		 uffd[XVFB_SHIM_MAX_FDS];

	int		 fb_fd;
	uint64_t	 file_size;
	uint64_t	 map_size;
	struct xwd_info	 xwd;

	struct lfbshm_tracker *tracker;
	char		 tracker_desc[160];
	struct lfbshm_provider *prov;
	struct xin	*xin;
};

/* --help: the usage on stdout, exit 0; a mistake: on stderr, exit 2. */
static void __attribute__((__noreturn__))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: lfbvnc-xvfb --socket PATH [--display :N] "
	    "[--size WxH] [--fbdir DIR]\n"
	    "                   [--xvfb PATH] [-v] [-- Xvfb-args...]\n");
	exit(status);
}

static int
parse_size(const char *s, uint32_t *w, uint32_t *h)
{
	unsigned long a, b;
	char *end;

	errno = 0;
	a = strtoul(s, &end, 10);
	if (errno != 0 || end == s || (*end != 'x' && *end != 'X'))
		return -EINVAL;
	s = end + 1;
	b = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -EINVAL;
	if (a < 1 || a > LFBSHM_MAX_WIDTH || b < 1 || b > LFBSHM_MAX_HEIGHT)
		return -ERANGE;
	*w = (uint32_t)a;
	*h = (uint32_t)b;
	return 0;
}

static int
parse_display(const char *s)
{
	const char *p = s;

	if (*p++ != ':' || *p == '\0')
		return -EINVAL;
	for (; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	return strlen(s) < 16 ? 0 : -EINVAL;
}

/* ---------------------------------------------------------------- fbdir */

static bool
is_dir(const char *path)
{
	struct stat st;

	return path != NULL && *path == '/' && stat(path, &st) == 0 &&
	    S_ISDIR(st.st_mode);
}

static bool
on_tmpfs(const char *path)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC;
}

/*
 * A private directory for Xvfb's screen file and the shim's socket, under
 * the first of $XDG_RUNTIME_DIR, /run/lfbvnc and /dev/shm that is on
 * tmpfs (/run is not tmpfs everywhere), else under the first that works.
 */
static int
fbdir_setup(struct xvfb *x)
{
	struct {
		const char *dir;	/* where to create it */
		const char *fs;		/* what to ask statfs about */
	} base[3];
	char real[PATH_MAX];
	int i, n = 0, pass;

	if (x->o.fbdir != NULL) {
		if (realpath(x->o.fbdir, real) == NULL || !is_dir(real)) {
			log_warn("--fbdir %s", x->o.fbdir);
			return -1;
		}
		snprintf(x->fbdir, sizeof(x->fbdir), "%s", real);
		goto check;
	}

	if (is_dir(getenv("XDG_RUNTIME_DIR"))) {
		base[n].dir = base[n].fs = getenv("XDG_RUNTIME_DIR");
		n++;
	}
	base[n].dir = RUNDIR;
	base[n++].fs = "/run";
	base[n].dir = base[n].fs = "/dev/shm";
	n++;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			if (pass == 0 && !on_tmpfs(base[i].fs))
				continue;
			if (strcmp(base[i].dir, RUNDIR) == 0 &&
			    mkdir(RUNDIR, 0755) == -1 && errno != EEXIST)
				continue;
			if ((size_t)snprintf(x->fbdir, sizeof(x->fbdir),
			    "%s/lfbvnc-xvfb.XXXXXX", base[i].dir) >=
			    sizeof(x->fbdir))
				continue;
			if (mkdtemp(x->fbdir) != NULL)
				goto made;
			log_debug("mkdtemp under %s: %s", base[i].dir,
			    strerror(errno));
		}
	log_warnx("cannot create a private fbdir under $XDG_RUNTIME_DIR, "
	    "%s or /dev/shm", RUNDIR);
	x->fbdir[0] = '\0';
	return -1;

made:
	x->fbdir_made = true;
	/* The shim compares canonical paths. */
	if (realpath(x->fbdir, real) != NULL)
		snprintf(x->fbdir, sizeof(x->fbdir), "%s", real);

check:
	if (!on_tmpfs(x->fbdir))
		log_warnx("%s is not on tmpfs: Xvfb's writes go to disk and "
		    "the trap (sync write-protect) will be unavailable",
		    x->fbdir);
	if ((size_t)snprintf(x->shim_sock, sizeof(x->shim_sock), "%s/%s",
	    x->fbdir, SHIM_SOCK_NAME) >= sizeof(((struct sockaddr_un *)0)->
	    sun_path)) {
		log_warnx("fbdir path too long for a socket: %s", x->fbdir);
		return -1;
	}
	snprintf(x->screen_path, sizeof(x->screen_path), "%s/%s0", x->fbdir,
	    XVFB_SHIM_FILE_PREFIX);
	return 0;
}

static void
fbdir_cleanup(struct xvfb *x)
{
	if (x->fbdir[0] == '\0')
		return;
	if (x->shim_sock[0] != '\0')
		(void)unlink(x->shim_sock);
	/* Xvfb leaves its screen file behind; it is ours to remove even in
	   a directory the user gave (we told Xvfb to create it there). */
	if (x->screen_path[0] != '\0' && unlink(x->screen_path) == -1 &&
	    errno != ENOENT)
		log_warn("unlink %s", x->screen_path);
	if (x->fbdir_made && rmdir(x->fbdir) == -1)
		log_warn("rmdir %s", x->fbdir);
}

/* ----------------------------------------------------------------- shim */

static bool
readable_file(const char *path)
{
	return *path == '/' && access(path, R_OK) == 0;
}

/*
 * The shim: $LFBVNC_XVFB_SHIM, else next to this binary (build tree),
 * else in $(pkglibdir) (installed).
 */
static int
shim_find(struct xvfb *x)
{
	char self[PATH_MAX], *slash;
	const char *env;
	ssize_t n;

	env = getenv(XVFB_SHIM_ENV_PATH);
	if (env != NULL && *env != '\0') {
		if (!readable_file(env)) {
			log_warnx("%s=%s: not a readable absolute path",
			    XVFB_SHIM_ENV_PATH, env);
			return -1;
		}
		snprintf(x->shim_so, sizeof(x->shim_so), "%s", env);
		goto check;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if ((size_t)snprintf(x->shim_so, sizeof(x->shim_so),
			    "%s/%s", self, XVFB_SHIM_NAME) <
			    sizeof(x->shim_so) && readable_file(x->shim_so))
				goto check;
		}
	}
	snprintf(x->shim_so, sizeof(x->shim_so), "%s/%s", PKGLIBDIR,
	    XVFB_SHIM_NAME);
	if (!readable_file(x->shim_so)) {
		log_warnx("%s not found next to this program nor in %s "
		    "(set %s)", XVFB_SHIM_NAME, PKGLIBDIR, XVFB_SHIM_ENV_PATH);
		return -1;
	}
check:
	/* LD_PRELOAD splits on spaces and colons. */
	if (strpbrk(x->shim_so, " :\t") != NULL) {
		log_warnx("%s: LD_PRELOAD cannot name a path with spaces or "
		    "colons", x->shim_so);
		return -1;
	}
	return 0;
}

static int
shim_listen_open(struct xvfb *x)
{
	struct sockaddr_un sun;
	int s;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, x->shim_sock, strlen(x->shim_sock));
	(void)unlink(x->shim_sock);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s == -1) {
		log_warn("socket");
		return -1;
	}
	if (bind(s, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(s, 8) == -1) {
		log_warn("%s", x->shim_sock);
		close(s);
		return -1;
	}
	x->shim_listen = s;
	return 0;
}

static bool
is_userfaultfd(int fd)
{
	char link[64], target[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[userfaultfd]") == 0;
}

static void
close_fds(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/*
 * One report from the shim.  Only Xvfb (our child, checked with
 * SO_PEERCRED) may talk here; anything malformed is dropped with a
 * warning.
 */
static void
shim_accept(struct xvfb *x)
{
	struct xvfb_shim_msg msg;
	struct ucred cred = { 0, 0, 0 };
	socklen_t clen = sizeof(cred);
	struct pollfd pfd;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *cm;
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * 8)];
	} cbuf;
	char extra[sizeof(msg) + 1];
	int fds[8], nfds = 0, c, i, k;
	ssize_t n;

	c = accept4(x->shim_listen, NULL, NULL, SOCK_CLOEXEC);
	if (c == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_warn("accept %s", x->shim_sock);
		return;
	}
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1 ||
	    cred.pid != x->xpid) {
		log_warnx("shim socket: connection from pid %d, not Xvfb's "
		    "%d; ignored", (int)cred.pid, (int)x->xpid);
		goto out;
	}
	pfd.fd = c;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, SHIM_RECV_MS) != 1) {
		log_warnx("shim socket: no report from Xvfb");
		goto out;
	}

	memset(&mh, 0, sizeof(mh));
	memset(&cbuf, 0, sizeof(cbuf));
	iov.iov_base = extra;	/* one octet more: catch a long message */
	iov.iov_len = sizeof(extra);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	do
		n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		log_warn("shim socket: recvmsg");
		goto out;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (i = 0; i < k && nfds < 8; i++)
			memcpy(&fds[nfds++], CMSG_DATA(cm) + i * sizeof(int),
			    sizeof(int));
	}
	if ((mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) != 0 ||
	    (size_t)n != sizeof(msg)) {
		log_warnx("shim socket: malformed report (%zd octets)", n);
		goto drop;
	}
	memcpy(&msg, extra, sizeof(msg));
	if (msg.magic != XVFB_SHIM_MAGIC || msg.version != XVFB_SHIM_VERSION ||
	    msg.nfds > XVFB_SHIM_MAX_FDS || (int)msg.nfds != nfds ||
	    memchr(msg.reason, '\0', sizeof(msg.reason)) == NULL ||
	    (msg.status == 0 && (nfds < 1 ||
	    msg.addr % LFBSHM_PAGE_SIZE != 0 ||
	    msg.len % LFBSHM_PAGE_SIZE != 0))) {
		log_warnx("shim socket: bad report (magic %08x version %u, "
		    "%u/%d descriptors)", msg.magic, msg.version, msg.nfds,
		    nfds);
		goto drop;
	}
	for (i = 0; i < nfds; i++)
		if (!is_userfaultfd(fds[i])) {
			log_warnx("shim socket: descriptor %d is not a "
			    "userfaultfd", i);
			goto drop;
		}
	if (msg.screen != 0) {
		log_debug("shim: screen %u is not exported", msg.screen);
		goto drop;
	}
	if (x->shim_seen) {
		/* Only a server reset maps the screen again, and we run Xvfb
		   with -noreset; keep the first report. */
		log_warnx("shim: Xvfb mapped its screen again; ignored");
		goto drop;
	}
	if (msg.status != 0) {
		/* tracker_setup says why there is no tracking. */
		x->shim = msg;
		x->shim_seen = true;
		goto drop;
	}
	x->shim = msg;
	x->shim_seen = true;
	for (i = 0; i < XVFB_SHIM_MAX_FDS; i++)
		x->uffd[i] = i < nfds ? fds[i] : -1;
	log_debug("shim: Xvfb pid %d mapped screen 0 at 0x%" PRIx64 ", %"
	    PRIu64 " octets, %d userfaultfds", (int)msg.pid, msg.addr,
	    msg.len, nfds);
	nfds = 0;
drop:
	close_fds(fds, nfds);
out:
	close(c);
}

/* ----------------------------------------------------------------- Xvfb */

static bool
drop_var(const char *e)
{
	static const char *const vars[] = { "LD_PRELOAD=",
	    XVFB_SHIM_ENV_SOCKET "=", XVFB_SHIM_ENV_FBDIR "=" };
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strncmp(e, vars[i], strlen(vars[i])) == 0)
			return true;
	return false;
}

static void
free_strv(char **v)
{
	char **p;

	if (v == NULL)
		return;
	for (p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

/* Our environment with the shim's variables set; NULL on ENOMEM. */
static char **
xvfb_env(struct xvfb *x)
{
	extern char **environ;
	char **env;
	size_t n = 0, i = 0;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 4, sizeof(*env))) == NULL)
		return NULL;
	for (n = 0; environ[n] != NULL; n++)
		if (!drop_var(environ[n]) &&
		    (env[i++] = strdup(environ[n])) == NULL)
			goto fail;
	if (asprintf(&env[i++], "LD_PRELOAD=%s", x->shim_so) == -1 ||
	    asprintf(&env[i++], "%s=%s", XVFB_SHIM_ENV_SOCKET,
	    x->shim_sock) == -1 ||
	    asprintf(&env[i++], "%s=%s", XVFB_SHIM_ENV_FBDIR, x->fbdir) == -1)
		goto fail;
	env[i] = NULL;
	return env;
fail:
	env[i - 1] = NULL;	/* asprintf left it undefined */
	free_strv(env);
	return NULL;
}

static char **
xvfb_argv(struct xvfb *x, int dfd)
{
	char geometry[48], dfdnum[16];
	char **argv;
	int i = 0, k;

	snprintf(geometry, sizeof(geometry), "%ux%ux24", x->o.width,
	    x->o.height);
	snprintf(dfdnum, sizeof(dfdnum), "%d", dfd);
	if ((argv = calloc(16 + x->o.nextra, sizeof(*argv))) == NULL)
		return NULL;
#define ARG(s)	do { if ((argv[i++] = strdup(s)) == NULL) goto fail; } while (0)
	ARG(x->o.xvfb);
	if (x->o.display != NULL)
		ARG(x->o.display);
	ARG("-screen");
	ARG("0");
	ARG(geometry);
	ARG("-fbdir");
	ARG(x->fbdir);
	ARG("-nolisten");
	ARG("tcp");
	/* A server reset would unmap and remap the screen file: the
	   exported mapping and its tracking would be gone. */
	ARG("-noreset");
	ARG("-displayfd");
	ARG(dfdnum);
	for (k = 0; k < x->o.nextra; k++)
		ARG(x->o.extra[k]);
#undef ARG
	argv[i] = NULL;
	return argv;
fail:
	free_strv(argv);
	return NULL;
}

static int
xvfb_spawn(struct xvfb *x, int *displayfd)
{
	char **argv = NULL, **env = NULL;
	pid_t parent = getpid(), pid;
	int p[2] = { -1, -1 }, rc = -1;

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("pipe");
		return -1;
	}
	if ((argv = xvfb_argv(x, p[1])) == NULL ||
	    (env = xvfb_env(x)) == NULL) {
		log_warnx("out of memory");
		goto out;
	}
	/* Built before fork: the child only calls async-signal-safe
	   functions. */
	pid = fork();
	if (pid == -1) {
		log_warn("fork");
		goto out;
	}
	if (pid == 0) {
		/* Its own process group: a terminal's ^C reaches only us,
		   and we stop Xvfb in order.  It dies with us regardless. */
		(void)setpgid(0, 0);
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		(void)fcntl(p[1], F_SETFD, 0);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &x->oldmask, NULL);
		execvpe(argv[0], argv, env);
		dprintf(STDERR_FILENO, "lfbvnc-xvfb: exec %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	x->xpid = pid;
	*displayfd = p[0];
	p[0] = -1;
	rc = 0;
out:
	if (p[0] != -1)
		close(p[0]);
	close(p[1]);
	free_strv(argv);
	free_strv(env);
	return rc;
}

static void
describe_exit(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended (status 0x%x)", status);
}

/* Reap Xvfb if it ended; true if it did. */
static bool
xvfb_reap(struct xvfb *x, bool report)
{
	char how[96];
	int status;
	pid_t r;

	if (x->xpid <= 0)
		return true;
	do
		r = waitpid(x->xpid, &status, WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r != x->xpid)
		return false;
	x->xpid = 0;
	if (report) {
		describe_exit(status, how, sizeof(how));
		log_warnx("Xvfb %s", how);
	}
	return true;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
xvfb_stop(struct xvfb *x)
{
	int64_t deadline;

	if (x->xpid <= 0)
		return;
	if (kill(x->xpid, SIGTERM) == -1 && errno != ESRCH)
		log_warn("kill Xvfb");
	/* A stopped Xvfb (a debugger, a test's checkpoint) would keep the
	   SIGTERM pending forever. */
	(void)kill(x->xpid, SIGCONT);
	deadline = now_ms() + STOP_TIMEOUT_MS;
	while (!xvfb_reap(x, false)) {
		if (now_ms() >= deadline) {
			log_warnx("Xvfb did not stop in %d ms; killing it",
			    STOP_TIMEOUT_MS);
			(void)kill(x->xpid, SIGKILL);
			while (x->xpid > 0 && waitpid(x->xpid, NULL, 0) == -1 &&
			    errno == EINTR)
				;
			x->xpid = 0;
			return;
		}
		poll(NULL, 0, 20);
	}
}

/* A signal to take from the signalfd: 0 when none, else its number. */
static int
take_signal(struct xvfb *x)
{
	struct signalfd_siginfo si;
	ssize_t n;

	n = read(x->sigfd, &si, sizeof(si));
	if (n != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

/*
 * Wait until Xvfb writes its display number to -displayfd (it does that
 * when it accepts clients, after the screen is set up), taking the shim's
 * reports meanwhile.  -1 when Xvfb died, a signal came or time ran out.
 */
static int
xvfb_wait_ready(struct xvfb *x, int dfd)
{
	struct pollfd pfd[3];
	char buf[32];
	size_t have = 0;
	int64_t deadline = now_ms() + READY_TIMEOUT_MS, left;
	ssize_t n;
	int sig;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0) {
			log_warnx("Xvfb did not become ready in %d s",
			    READY_TIMEOUT_MS / 1000);
			return -1;
		}
		pfd[0].fd = dfd;
		pfd[1].fd = x->shim_listen;
		pfd[2].fd = x->sigfd;
		pfd[0].events = pfd[1].events = pfd[2].events = POLLIN;
		if (poll(pfd, 3, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			return -1;
		}
		if (pfd[1].revents & POLLIN)
			shim_accept(x);
		if (pfd[2].revents & POLLIN) {
			sig = take_signal(x);
			if (sig == SIGCHLD) {
				if (xvfb_reap(x, true)) {
					log_warnx("Xvfb failed to start "
					    "(its messages are above)");
					return -1;
				}
			} else if (sig != 0) {
				log_warnx("%s during start-up",
				    strsignal(sig));
				return -1;
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP)) {
			n = read(dfd, buf + have, sizeof(buf) - 1 - have);
			if (n > 0)
				have += (size_t)n;
			buf[have] = '\0';
			if (strchr(buf, '\n') != NULL)
				break;
			if (n == 0 || have == sizeof(buf) - 1) {
				/* EOF without a number: Xvfb is dying;
				   give it a moment to end and say how. */
				if (n == 0 && have == 0) {
					poll(NULL, 0, 200);
					(void)xvfb_reap(x, true);
					log_warnx("Xvfb closed -displayfd "
					    "without a display number");
					return -1;
				}
				break;
			}
		}
	}
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(x->display, sizeof(x->display), ":%s", buf);
	if (parse_display(x->display) != 0) {
		log_warnx("Xvfb reported display \"%s\"", buf);
		return -1;
	}
	/* The screen was mapped before Xvfb got ready: a report that was
	   sent is queued by now. */
	while (poll(&(struct pollfd){ .fd = x->shim_listen,
	    .events = POLLIN }, 1, 0) == 1)
		shim_accept(x);
	return 0;
}

/* --------------------------------------------------------------- screen */

/*
 * lfbshm maps whole pages and requires the file to hold all of them (a
 * read past EOF would be SIGBUS), but Xvfb sizes its file to the octet.
 * Grow it to the page boundary: the tail is inside the last page Xvfb
 * already maps, beyond anything it draws, so it never notices.
 */
static int
screen_grow(struct xvfb *x)
{
	struct stat st;
	int fd, rc = -1;

	fd = open(x->screen_path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		log_warn("%s", x->screen_path);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != x->file_size) {
		log_warnx("%s changed under us", x->screen_path);
		goto out;
	}
	if (ftruncate(fd, (off_t)x->map_size) == -1) {
		log_warn("grow %s to %" PRIu64 " octets", x->screen_path,
		    x->map_size);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

static int
screen_open(struct xvfb *x)
{
	uint8_t hdr[XWD_HEADER_MAX];
	char why[160];
	struct stat st;
	size_t want;
	ssize_t n;

	/* Read-only: the consumer gets this descriptor and must not be
	   able to draw on the screen. */
	x->fb_fd = open(x->screen_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (x->fb_fd == -1) {
		log_warn("%s", x->screen_path);
		return -1;
	}
	if (fstat(x->fb_fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file", x->screen_path);
		return -1;
	}
	x->file_size = (uint64_t)st.st_size;
	want = x->file_size < sizeof(hdr) ? (size_t)x->file_size : sizeof(hdr);
	n = pread(x->fb_fd, hdr, want, 0);
	if (n < 0) {
		log_warn("read %s", x->screen_path);
		return -1;
	}
	if (xwd_parse(hdr, (size_t)n, x->file_size, &x->xwd, why,
	    sizeof(why)) != 0) {
		log_warnx("%s: %s", x->screen_path, why);
		return -1;
	}
	if (x->file_size > LFBSHM_MAX_FB_SIZE - LFBSHM_PAGE_SIZE) {
		log_warnx("%s: %" PRIu64 " octets is more than lfbshm maps",
		    x->screen_path, x->file_size);
		return -1;
	}
	x->map_size = (x->file_size + LFBSHM_PAGE_SIZE - 1) &
	    ~(uint64_t)(LFBSHM_PAGE_SIZE - 1);
	if (x->map_size != x->file_size && screen_grow(x) != 0)
		return -1;
	if (x->xwd.width != x->o.width || x->xwd.height != x->o.height)
		log_warnx("Xvfb's screen is %ux%u, not the %ux%u asked for",
		    x->xwd.width, x->xwd.height, x->o.width, x->o.height);
	log_debug("%s: %ux%u stride %u, pixels at %" PRIu64 ", %" PRIu64
	    " octets (%" PRIu64 " pages)", x->screen_path, x->xwd.width,
	    x->xwd.height, x->xwd.stride, x->xwd.pixel_offset, x->file_size,
	    x->map_size / LFBSHM_PAGE_SIZE);
	return 0;
}

static int
tracker_setup(struct xvfb *x)
{
	char why[256] = "";
	int err;

	if (!x->shim_seen)
		snprintf(why, sizeof(why), "the shim sent no report (was "
		    "%.180s preloaded?)", x->shim_so);
	else if (x->shim.status != 0)
		snprintf(why, sizeof(why), "shim: %s", x->shim.reason);
	else if (x->shim.map_len != x->file_size ||
	    x->shim.len != x->map_size) {
		snprintf(why, sizeof(why), "Xvfb mapped %" PRIu64 " octets "
		    "of a %" PRIu64 "-octet screen file", x->shim.map_len,
		    x->file_size);
		close_fds(x->uffd, XVFB_SHIM_MAX_FDS);
	} else {
		err = lfbshm_tracker_uffd_open_remote(x->xpid, x->shim.addr,
		    (size_t)x->shim.len, x->uffd[0], x->uffd[1], &x->tracker,
		    why, sizeof(why));
		if (err == 0) {
			snprintf(x->tracker_desc, sizeof(x->tracker_desc),
			    "uffd%s", x->tracker->has_trap ? "+trap" : "");
			x->uffd[0] = x->uffd[1] = -1;	/* the tracker's */
			return 0;
		}
	}
	x->uffd[0] = x->uffd[1] = -1;
	log_warnx("no write tracking, the consumer will compare pixels: %s",
	    why);
	if ((err = lfbshm_tracker_none_open(x->map_size, &x->tracker)) < 0) {
		log_warnx("none tracker: %s", strerror(-err));
		return -1;
	}
	snprintf(x->tracker_desc, sizeof(x->tracker_desc), "none");
	return 0;
}

/* ---------------------------------------------------------------- input */

#ifdef HAVE_XTST
#define XIN_NSPARE	8

/* XTEST on our own connection to the server we started. */
struct xin {
	Display		*dpy;
	int		 screen;
	uint32_t	 buttons;	/* LFBSHM_BUTTON_* held */
	int		 nspare;
	int		 next;
	KeyCode		 spare[XIN_NSPARE];	/* keycodes without keysyms */
	KeySym		 bound[XIN_NSPARE];	/* what we bound to them */
};

static bool xin_dead;

static int
xin_error(Display *dpy, XErrorEvent *ev)
{
	/* A stale keycode or a racing mapping change: not fatal. */
	log_debug("X error %d on request %d.%d", ev->error_code,
	    ev->request_code, ev->minor_code);
	return 0;
}

static int
xin_io_error(Display *dpy)
{
	if (!xin_dead)
		log_warnx("lost the X connection; input is off");
	xin_dead = true;
	return 0;
}

static void
xin_io_exit(Display *dpy, void *arg)
{
	/* Returning keeps the process alive; the display is unusable and
	   only closed at exit. */
	xin_dead = true;
}

/* Keycodes without any keysym, from the top: for keysyms the keymap
   lacks (as x11vnc does). */
static void
xin_find_spare(struct xin *xi)
{
	KeySym *map;
	int min, max, per, kc, j;

	XDisplayKeycodes(xi->dpy, &min, &max);
	map = XGetKeyboardMapping(xi->dpy, (KeyCode)min, max - min + 1, &per);
	if (map == NULL)
		return;
	for (kc = max; kc >= min && xi->nspare < XIN_NSPARE; kc--) {
		for (j = 0; j < per; j++)
			if (map[(kc - min) * per + j] != NoSymbol)
				break;
		if (j == per)
			xi->spare[xi->nspare++] = (KeyCode)kc;
	}
	XFree(map);
}

static struct xin *
xin_open(const char *display)
{
	struct xin *xi;
	int ev, err, maj, min;

	if ((xi = calloc(1, sizeof(*xi))) == NULL)
		return NULL;
	XSetErrorHandler(xin_error);
	XSetIOErrorHandler(xin_io_error);
	if ((xi->dpy = XOpenDisplay(display)) == NULL) {
		log_warnx("cannot open display %s: input is off", display);
		free(xi);
		return NULL;
	}
	XSetIOErrorExitHandler(xi->dpy, xin_io_exit, NULL);
	if (!XTestQueryExtension(xi->dpy, &ev, &err, &maj, &min)) {
		log_warnx("%s has no XTEST extension: input is off", display);
		XCloseDisplay(xi->dpy);
		free(xi);
		return NULL;
	}
	/* XTEST events must not be discarded by a server grab of someone
	   else: the user's input is as real as any. */
	XTestGrabControl(xi->dpy, True);
	xi->screen = DefaultScreen(xi->dpy);
	xin_find_spare(xi);
	XFlush(xi->dpy);
	return xi;
}

static void
xin_close(struct xin *xi)
{
	if (xi == NULL)
		return;
	XCloseDisplay(xi->dpy);
	free(xi);
}

static KeyCode
xin_keycode(struct xin *xi, KeySym sym)
{
	KeyCode kc;
	int i;

	for (i = 0; i < xi->nspare; i++)
		if (xi->bound[i] == sym)
			return xi->spare[i];
	if ((kc = XKeysymToKeycode(xi->dpy, sym)) != 0 || xi->nspare == 0)
		return kc;
	/* Bind it to a spare keycode, round robin; the server applies the
	   change before the fake event that follows on this connection. */
	i = xi->next++ % xi->nspare;
	xi->bound[i] = sym;
	XChangeKeyboardMapping(xi->dpy, xi->spare[i], 1, &sym, 1);
	return xi->spare[i];
}

static void
xin_event(void *arg, const struct lfbshm_input *ev)
{
	struct xvfb *x = arg;
	struct xin *xi = x->xin;
	uint32_t changed, bit;
	int b, n;
	KeyCode kc;

	if (xi == NULL || xin_dead)
		return;
	switch (ev->type) {
	case LFBSHM_INPUT_KEY:
		kc = xin_keycode(xi, (KeySym)ev->u.key.keysym);
		if (kc == 0) {
			log_debug("no keycode for keysym 0x%x",
			    ev->u.key.keysym);
			return;
		}
		XTestFakeKeyEvent(xi->dpy, kc, ev->u.key.down ? True : False,
		    CurrentTime);
		break;
	case LFBSHM_INPUT_POINTER:
		XTestFakeMotionEvent(xi->dpy, xi->screen, ev->u.pointer.x,
		    ev->u.pointer.y, CurrentTime);
		changed = xi->buttons ^ ev->u.pointer.buttons;
		for (b = 0; b < 3; b++) {
			bit = 1u << b;
			if (changed & bit)
				XTestFakeButtonEvent(xi->dpy, (unsigned)b + 1,
				    (ev->u.pointer.buttons & bit) ? True :
				    False, CurrentTime);
		}
		xi->buttons = ev->u.pointer.buttons;
		break;
	case LFBSHM_INPUT_WHEEL:
		/* X wheels are buttons 4/5 (vertical) and 6/7 (horizontal),
		   one click per detent; a flood is clamped. */
		for (n = 0; n < 16 && n < abs(ev->u.wheel.dy); n++) {
			b = ev->u.wheel.dy < 0 ? 4 : 5;
			XTestFakeButtonEvent(xi->dpy, b, True, CurrentTime);
			XTestFakeButtonEvent(xi->dpy, b, False, CurrentTime);
		}
		for (n = 0; n < 16 && n < abs(ev->u.wheel.dx); n++) {
			b = ev->u.wheel.dx < 0 ? 6 : 7;
			XTestFakeButtonEvent(xi->dpy, b, True, CurrentTime);
			XTestFakeButtonEvent(xi->dpy, b, False, CurrentTime);
		}
		break;
	default:
		return;
	}
	XFlush(xi->dpy);
}

static int
xin_fd(struct xin *xi)
{
	return xi != NULL && !xin_dead ? ConnectionNumber(xi->dpy) : -1;
}

/* Take what the server sent (errors, MappingNotify) so its output buffer
   for us never fills. */
static void
xin_drain(struct xin *xi)
{
	XEvent e;

	if (xi == NULL || xin_dead)
		return;
	while (!xin_dead && XPending(xi->dpy) > 0) {
		XNextEvent(xi->dpy, &e);
		if (e.type == MappingNotify)
			XRefreshKeyboardMapping(&e.xmapping);
	}
}
#else
static struct xin *
xin_open(const char *display)
{
	log_warnx("built without XTEST (libxtst): input is off");
	return NULL;
}

static void
xin_close(struct xin *xi)
{
}

static int
xin_fd(struct xin *xi)
{
	return -1;
}

static void
xin_drain(struct xin *xi)
{
}
#endif /* HAVE_XTST */

/* ----------------------------------------------------------------- main */

static int
export(struct xvfb *x)
{
	struct lfbshm_provider_config cfg;
	struct lfbshm_mode_info mi;
	char why[256];
	int err;

	memset(&cfg, 0, sizeof(cfg));
	cfg.socket_path = x->o.socket_path;
	cfg.fb_fd = x->fb_fd;
	cfg.fb_map_offset = 0;
	cfg.fb_map_size = x->map_size;
	cfg.tracker = x->tracker;
	cfg.features = LFBSHM_F_DIRTY | LFBSHM_F_TRAP;
#ifdef HAVE_XTST
	if (x->xin != NULL) {
		cfg.features |= LFBSHM_F_INPUT_KEY | LFBSHM_F_INPUT_POINTER;
		cfg.on_input = xin_event;
		cfg.arg = x;
	}
#endif
	if ((err = lfbshm_provider_open(&cfg, &x->prov, why,
	    sizeof(why))) < 0) {
		log_warnx("%s: %s", x->o.socket_path, why);
		return -1;
	}
	memset(&mi, 0, sizeof(mi));
	mi.width = x->xwd.width;
	mi.height = x->xwd.height;
	mi.stride = x->xwd.stride;
	mi.format = x->xwd.format;
	mi.offset = x->xwd.pixel_offset;
	if ((err = lfbshm_provider_set_mode(x->prov, &mi)) < 0) {
		log_warnx("cannot publish the mode: %s", strerror(-err));
		return -1;
	}
	return 0;
}

/* Serve until a signal or Xvfb's end; the exit status. */
static int
serve(struct xvfb *x)
{
	struct pollfd pfd[3];
	int n, sig, err;

	for (;;) {
		pfd[0].fd = lfbshm_provider_fd(x->prov);
		pfd[1].fd = x->sigfd;
		pfd[2].fd = xin_fd(x->xin);
		pfd[0].events = pfd[1].events = pfd[2].events = POLLIN;
		n = poll(pfd, pfd[2].fd >= 0 ? 3 : 2, -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			return 1;
		}
		if (pfd[1].revents & POLLIN) {
			while ((sig = take_signal(x)) != 0) {
				if (sig != SIGCHLD) {
					log_info("%s: stopping",
					    strsignal(sig));
					return 0;
				}
				if (xvfb_reap(x, true)) {
					log_warnx("Xvfb is gone: stopping");
					return 1;
				}
			}
		}
		if (pfd[0].revents & POLLIN &&
		    (err = lfbshm_provider_dispatch(x->prov)) < 0) {
			log_warnx("provider: %s", strerror(-err));
			return 1;
		}
		if (n > 0 && pfd[2].fd >= 0 && pfd[2].revents != 0)
			xin_drain(x->xin);
	}
}

static int
parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "display", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 'g' },
		{ "fbdir", required_argument, NULL, 'f' },
		{ "xvfb", required_argument, NULL, 'x' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch, verbose = 0;

	o->width = DEFAULT_WIDTH;
	o->height = DEFAULT_HEIGHT;
	o->xvfb = "Xvfb";
	while ((ch = getopt_long(argc, argv, "s:d:g:f:x:vh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			o->socket_path = optarg;
			break;
		case 'd':
			if (parse_display(optarg) != 0) {
				log_warnx("--display %s: want :N", optarg);
				return -1;
			}
			o->display = optarg;
			break;
		case 'g':
			if (parse_size(optarg, &o->width, &o->height) != 0) {
				log_warnx("--size %s: want WxH, each in "
				    "1..%u", optarg, LFBSHM_MAX_WIDTH);
				return -1;
			}
			break;
		case 'f':
			o->fbdir = optarg;
			break;
		case 'x':
			o->xvfb = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	log_setverbose(verbose);
	/* getopt_long stops at "--": the rest goes to Xvfb. */
	o->extra = argv + optind;
	o->nextra = argc - optind;
	if (o->socket_path == NULL) {
		log_warnx("--socket is required");
		usage(2);
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct xvfb x;
	sigset_t mask;
	int dfd = -1, rc = 1;

	log_init(argv[0], 0);
	memset(&x, 0, sizeof(x));
	x.shim_listen = x.sigfd = x.fb_fd = -1;
	x.uffd[0] = x.uffd[1] = -1;
	if (parse_args(&x.o, argc, argv) != 0)
		return 2;

	/* Signals become readable events; the child gets the old mask. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, &x.oldmask) == -1 ||
	    (x.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) ==
	    -1) {
		log_warn("signalfd");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	if (shim_find(&x) != 0 || fbdir_setup(&x) != 0 ||
	    shim_listen_open(&x) != 0)
		goto out;
	if (xvfb_spawn(&x, &dfd) != 0)
		goto out;
	if (xvfb_wait_ready(&x, dfd) != 0)
		goto out;
	close(dfd);
	dfd = -1;
	/* No more reports are expected (-noreset). */
	close(x.shim_listen);
	x.shim_listen = -1;
	(void)unlink(x.shim_sock);

	if (screen_open(&x) != 0 || tracker_setup(&x) != 0)
		goto out;
	x.xin = xin_open(x.display);
	if (export(&x) != 0)
		goto out;

	printf("lfbvnc-xvfb: ready socket=%s DISPLAY=%s size=%ux%u "
	    "tracker=%s input=%s xvfb_pid=%d\n", x.o.socket_path, x.display,
	    x.xwd.width, x.xwd.height, x.tracker_desc,
	    x.xin != NULL ? "xtest" : "none", (int)x.xpid);
	fflush(stdout);

	rc = serve(&x);
out:
	if (dfd != -1)
		close(dfd);
	lfbshm_provider_close(x.prov);
	xin_close(x.xin);
	lfbshm_tracker_close(x.tracker);
	close_fds(x.uffd, XVFB_SHIM_MAX_FDS);
	if (x.fb_fd != -1)
		close(x.fb_fd);
	if (x.shim_listen != -1)
		close(x.shim_listen);
	xvfb_stop(&x);
	fbdir_cleanup(&x);
	if (x.sigfd != -1)
		close(x.sigfd);
	return rc;
}
