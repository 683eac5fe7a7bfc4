/*
 * shim.c - lfbvnc-xvfb-shim.so, preloaded into Xvfb by lfbvnc-xvfb.
 *
 * Wraps mmap()/mmap64().  When Xvfb maps its -fbdir screen file
 * (DIR/Xvfb_screenN) shared and writable, registers that mapping with a
 * userfaultfd in async write-protect mode, so the kernel records every
 * page Xvfb writes and lfbvnc-xvfb can read-and-clear that record with
 * PAGEMAP_SCAN on /proc/<Xvfb>/pagemap.  The protocol with lfbvnc-xvfb is
 * in shim.h.
 *
 * Rule one: never break Xvfb.  The real mmap's result and errno are
 * returned unchanged; any failure here is logged once to stderr and Xvfb
 * carries on untracked.  The shim is built without sanitizers (they cannot
 * be preloaded into an uninstrumented program) and links nothing but libc.
 */
#define _GNU_SOURCE

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"
#include "uffd-compat.h"

#define SHIM_PAGE_SIZE	4096ul
#define SHIM_MAX_KEPT	8	/* screens whose uffds we hold open */

typedef void *mmap_fn(void *, size_t, int, int, int, off_t);

void *mmap(void *, size_t, int, int, int, off_t);
void *mmap64(void *, size_t, int, int, int, off64_t);

static pthread_mutex_t shim_lock = PTHREAD_MUTEX_INITIALIZER;
static bool shim_logged;
static int shim_kept[SHIM_MAX_KEPT * 2];
static int shim_nkept;

/* Set while dlsym() runs, in case it maps memory itself. */
static __thread bool shim_resolving;

static void
shim_log(const char *fmt, ...) __attribute__((__format__(__printf__, 1, 2)));

/* Once per process: Xvfb's stderr is the user's terminal or log. */
static void
shim_log(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n, m;

	if (__atomic_exchange_n(&shim_logged, true, __ATOMIC_RELAXED))
		return;
	n = snprintf(buf, sizeof(buf), "lfbvnc-xvfb-shim[%d]: ", (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(buf))
		return;
	va_start(ap, fmt);
	m = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n >= sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!write(STDERR_FILENO, buf, n);
}

static void *
raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

enum { REAL_MMAP, REAL_MMAP64 };

static mmap_fn *
resolve(int which)
{
	static const char *const names[] = { "mmap", "mmap64" };
	static mmap_fn *cache[2];
	mmap_fn *fn;

	fn = __atomic_load_n(&cache[which], __ATOMIC_ACQUIRE);
	if (fn != NULL)
		return fn;
	if (shim_resolving)
		return raw_mmap;
	shim_resolving = true;
	fn = (mmap_fn *)dlsym(RTLD_NEXT, names[which]);
	shim_resolving = false;
	if (fn == NULL)
		fn = raw_mmap;
	__atomic_store_n(&cache[which], fn, __ATOMIC_RELEASE);
	return fn;
}

/*
 * If fd is DIR/Xvfb_screenN with DIR the directory lfbvnc-xvfb named,
 * return N, else -1.
 */
static int
screen_of(int fd)
{
	char link[64], path[PATH_MAX], *slash, *end;
	const char *fbdir, *name;
	ssize_t n;
	long screen;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return -1;
	path[n] = '\0';
	slash = strrchr(path, '/');
	if (slash == NULL)
		return -1;
	name = slash + 1;
	if (strncmp(name, XVFB_SHIM_FILE_PREFIX,
	    strlen(XVFB_SHIM_FILE_PREFIX)) != 0)
		return -1;
	name += strlen(XVFB_SHIM_FILE_PREFIX);
	if (*name < '0' || *name > '9')
		return -1;
	errno = 0;
	screen = strtol(name, &end, 10);
	if (errno != 0 || *end != '\0' || screen < 0 || screen > 255)
		return -1;

	fbdir = getenv(XVFB_SHIM_ENV_FBDIR);
	if (fbdir != NULL && *fbdir != '\0') {
		*slash = '\0';
		if (strcmp(path, fbdir) != 0)
			return -1;
	}
	return (int)screen;
}

/*
 * A userfaultfd that only traps user-mode accesses: that is what an
 * unprivileged process may create with vm.unprivileged_userfaultfd=0, and
 * Xvfb's framebuffer is only written from user mode.  Kernels before 5.11
 * reject the flag; try without it there.  Returns the fd or -errno.
 */
static int
shim_userfaultfd(int flags)
{
	int fd;

	fd = (int)syscall(SYS_userfaultfd, flags | UFFD_USER_MODE_ONLY);
	if (fd == -1 && errno == EINVAL)
		fd = (int)syscall(SYS_userfaultfd, flags);
	return fd == -1 ? -errno : fd;
}

/* The registered uffd.  Returns it, or -errno with a reason in why. */
static int
uffd_async_register(void *addr, size_t len, char *why, size_t whylen)
{
	struct uffdio_api api;
	struct uffdio_register reg;
	int fd, err;

	fd = shim_userfaultfd(O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		err = fd;
		snprintf(why, whylen, "userfaultfd: %s", strerror(-err));
		return err;
	}

	memset(&api, 0, sizeof(api));
	api.api = UFFD_API;
	api.features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;
	if (ioctl(fd, UFFDIO_API, &api) == -1) {
		err = -errno;
		snprintf(why, whylen, "UFFDIO_API (async write-protect, "
		    "Linux >= 6.7): %s", strerror(errno));
		goto fail;
	}
	if ((api.features & UFFD_FEATURE_WP_ASYNC) == 0) {
		err = -EOPNOTSUPP;
		snprintf(why, whylen, "no UFFD_FEATURE_WP_ASYNC (Linux >= 6.7)");
		goto fail;
	}

	memset(&reg, 0, sizeof(reg));
	reg.range.start = (uintptr_t)addr;
	reg.range.len = len;
	reg.mode = UFFDIO_REGISTER_MODE_WP;
	if (ioctl(fd, UFFDIO_REGISTER, &reg) == -1) {
		err = -errno;
		snprintf(why, whylen, "UFFDIO_REGISTER write-protect: %s",
		    strerror(errno));
		goto fail;
	}
	return fd;

fail:
	close(fd);
	return err;
}

/* Send the message (and fds) and wait for nothing: the receiver reads
   queued data and descriptors even after we close. */
static int
shim_send(const struct xvfb_shim_msg *msg, const int *fds, int nfds)
{
	struct sockaddr_un sun;
	struct timeval tv = { 2, 0 };
	struct msghdr mh;
	struct iovec iov;
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * XVFB_SHIM_MAX_FDS)];
	} cm;
	const char *path;
	ssize_t n;
	int s, err;

	path = getenv(XVFB_SHIM_ENV_SOCKET);
	if (path == NULL || *path == '\0')
		return -ENOENT;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;

	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s == -1)
		return -errno;
	/* A wedged receiver must not hang Xvfb's startup for long. */
	(void)setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		err = -errno;
		goto out;
	}

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)msg;
	iov.iov_len = sizeof(*msg);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm.hdr.cmsg_level = SOL_SOCKET;
		cm.hdr.cmsg_type = SCM_RIGHTS;
		cm.hdr.cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(&cm.hdr), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(s, &mh, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		err = -errno;
	else if ((size_t)n != sizeof(*msg))
		err = -EMSGSIZE;
	else
		err = 0;
out:
	close(s);
	return err;
}

static void
shim_track(void *addr, size_t maplen, int screen)
{
	struct xvfb_shim_msg msg;
	char why[XVFB_SHIM_REASON_LEN] = "";
	int fds[XVFB_SHIM_MAX_FDS] = { -1, -1 };
	int nfds = 0, err;
	size_t len;

	memset(&msg, 0, sizeof(msg));
	msg.magic = XVFB_SHIM_MAGIC;
	msg.version = XVFB_SHIM_VERSION;
	msg.pid = (int32_t)getpid();
	msg.screen = (uint32_t)screen;
	msg.addr = (uintptr_t)addr;
	msg.map_len = maplen;

	if (getenv(XVFB_SHIM_ENV_SOCKET) == NULL) {
		shim_log("%s is not set; Xvfb_screen%d is not tracked",
		    XVFB_SHIM_ENV_SOCKET, screen);
		return;
	}
	if (shim_nkept + XVFB_SHIM_MAX_FDS > (int)(sizeof(shim_kept) /
	    sizeof(shim_kept[0]))) {
		snprintf(why, sizeof(why), "too many screen mappings");
		err = -ENOSPC;
		goto report;
	}
	if (maplen == 0 || maplen > SIZE_MAX - SHIM_PAGE_SIZE) {
		snprintf(why, sizeof(why), "mapping length %zu", maplen);
		err = -EINVAL;
		goto report;
	}
	len = (maplen + SHIM_PAGE_SIZE - 1) & ~(SHIM_PAGE_SIZE - 1);
	msg.len = len;

	err = uffd_async_register(addr, len, why, sizeof(why));
	if (err < 0)
		goto report;
	fds[nfds++] = err;

	/*
	 * The trap: a second userfaultfd of this process, left unregistered
	 * and without its API handshake so that lfbvnc-xvfb chooses the
	 * mode when it arms it.  Without it, tracking still works.
	 */
	err = shim_userfaultfd(O_CLOEXEC | O_NONBLOCK);
	if (err >= 0)
		fds[nfds++] = err;
	err = 0;

report:
	msg.status = -err;
	msg.nfds = (uint32_t)nfds;
	if (err != 0)
		snprintf(msg.reason, sizeof(msg.reason), "%s", why);
	err = shim_send(&msg, fds, nfds);
	if (err < 0) {
		shim_log("cannot reach lfbvnc-xvfb at %s: %s; Xvfb_screen%d "
		    "is not tracked", getenv(XVFB_SHIM_ENV_SOCKET),
		    strerror(-err), screen);
		goto drop;
	}
	if (msg.status != 0) {
		shim_log("Xvfb_screen%d is not tracked: %s", screen, why);
		goto drop;
	}
	/* Keep ours open for the life of Xvfb: a registration lives as
	   long as any copy of its userfaultfd, and must not end with what
	   the receiver does with its copies. */
	memcpy(&shim_kept[shim_nkept], fds, sizeof(int) * nfds);
	shim_nkept += nfds;
	return;

drop:
	while (nfds > 0)
		close(fds[--nfds]);
}

static void
shim_consider(void *addr, size_t len, int prot, int flags, int fd,
    off_t off)
{
	int screen, saved = errno;

	if (fd < 0 || off != 0 || (flags & MAP_SHARED) == 0 ||
	    (prot & PROT_WRITE) == 0)
		goto out;
	screen = screen_of(fd);
	if (screen < 0)
		goto out;
	pthread_mutex_lock(&shim_lock);
	shim_track(addr, len, screen);
	pthread_mutex_unlock(&shim_lock);
out:
	errno = saved;
}

void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p;

	p = resolve(REAL_MMAP)(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED)
		shim_consider(p, len, prot, flags, fd, off);
	return p;
}

void *
mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	void *p;

	p = resolve(REAL_MMAP64)(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED)
		shim_consider(p, len, prot, flags, fd, off);
	return p;
}
