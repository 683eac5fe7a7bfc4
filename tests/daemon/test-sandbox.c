/*
 * test-sandbox: the worker's seccomp filter (daemon/sandbox.c).
 *
 * A child applies the filter and tries what it must refuse and what a
 * worker must still do; it sends each outcome (return value and errno)
 * to the parent over a pipe and the parent judges them, so a child that
 * dies half-way (a filter that kills instead of refusing) fails too.
 *
 *  refused, EPERM: execve, ptrace (PEEKDATA), fork (a raw clone without
 *	CLONE_THREAD, and the fork system call), mount, setuid (also from a
 *	thread that existed before the filter: TSYNC), unshare, userfaultfd,
 *	an x32 system call;
 *  refused, ENOSYS: clone3 (so that glibc falls back to clone);
 *  still working: pthread_create, socketpair and send/recv, socket +
 *	connect to a listening AF_UNIX socket (the lfbshm reconnect);
 *  and /proc/self/status says Seccomp 2 (filter), NoNewPrivs 1.
 * A second child makes an i386 system call (int 0x80) under the filter:
 * the kernel must kill it with SIGSYS (the architecture check).
 *
 * How it fails: any of these coming back otherwise.  Checked against a
 * build() whose clone check allows every clone (the raw clone makes a
 * process: 1 failure) and one with the table left out (8 failures:
 * execve ENOENT, ptrace ESRCH, mount ENOENT, setuid, unshare,
 * userfaultfd and fork succeed).  Needs root, so that mount and setuid
 * tell the filter's EPERM from the kernel's own.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* What the child tried, in order; the parent has the same list. */
enum what {
	T_APPLY,		/* sandbox_apply: rc, nrefused in err */
	T_STATUS_SECCOMP,	/* /proc/self/status Seccomp: value */
	T_STATUS_NNP,		/* NoNewPrivs: value */
	T_EXECVE,
	T_PTRACE,
	T_CLONE_PROCESS,	/* raw clone(SIGCHLD) */
	T_FORK,			/* the fork system call (x86-64) */
	T_CLONE3,
	T_MOUNT,
	T_SETUID,
	T_SETUID_THREAD,	/* from a thread made before the filter */
	T_UNSHARE,
	T_USERFAULTFD,
	T_X32,			/* getpid through the x32 ABI (x86-64) */
	T_PTHREAD,		/* rc 0 and the thread ran */
	T_SOCKETPAIR,		/* rc 0: a message went through */
	T_CONNECT,		/* rc 0: connected, a message went through */
	T_NCHECKS
};

static const char *const names[T_NCHECKS] = {
	"sandbox_apply", "Seccomp", "NoNewPrivs", "execve", "ptrace",
	"clone without CLONE_THREAD", "fork", "clone3", "mount", "setuid",
	"setuid from an older thread", "unshare", "userfaultfd",
	"x32 system call", "pthread_create", "socketpair", "socket+connect",
};

struct outcome {
	long rc;
	int err;
	int done;
};

static struct outcome out[T_NCHECKS];

static void
note(enum what w, long rc)
{
	out[w].rc = rc;
	out[w].err = rc == -1 ? errno : 0;
	out[w].done = 1;
}

/* A line "Key:\tN" of /proc/self/status, or -1. */
static long
status_field(const char *key)
{
	char line[256];
	size_t len = strlen(key);
	long v = -1;
	FILE *f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, len) == 0 && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* A process made by mistake must not run the rest of the child. */
static void
leave_if_child(long rc)
{
	if (rc == 0)
		_exit(0);
}

/* The thread made before the filter: waits, then tries setuid. */
static int old_pipe[2];

static void *
old_thread(void *arg)
{
	char c;
	long rc;

	(void)arg;
	if (read(old_pipe[0], &c, 1) != 1)
		return NULL;
	rc = syscall(SYS_setuid, (long)getuid());
	note(T_SETUID_THREAD, rc);
	return NULL;
}

static void *
new_thread(void *arg)
{
	*(int *)arg = 42;
	return NULL;
}

static void
try_sockets(const char *dir)
{
	struct sockaddr_un sun;
	char buf[8];
	int sv[2], lfd, cfd, afd;
	long rc = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0) {
		if (send(sv[0], "ping", 4, 0) == 4 &&
		    recv(sv[1], buf, sizeof(buf), 0) == 4 &&
		    memcmp(buf, "ping", 4) == 0)
			rc = 0;
		else
			errno = EIO;
		close(sv[0]);
		close(sv[1]);
	}
	note(T_SOCKETPAIR, rc);

	/* As the lfbshm consumer reconnects: socket, connect. */
	rc = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s.sock", dir);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	cfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (lfd >= 0 && cfd >= 0 &&
	    bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    listen(lfd, 1) == 0 &&
	    connect(cfd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    (afd = accept(lfd, NULL, NULL)) >= 0) {
		if (send(cfd, "pong", 4, 0) == 4 &&
		    recv(afd, buf, sizeof(buf), 0) == 4 &&
		    memcmp(buf, "pong", 4) == 0)
			rc = 0;
		else
			errno = EIO;
		close(afd);
	}
	note(T_CONNECT, rc);
	if (lfd >= 0)
		close(lfd);
	if (cfd >= 0)
		close(cfd);
	unlink(sun.sun_path);
}

/* The child: never returns; its outcomes go to fd. */
static void __attribute__((__noreturn__))
child(int fd, const char *dir)
{
	char why[256], *argv[] = { "/nonexistent-lfbvnc/true", NULL };
	char mnt[300];
	struct clone_args ca;
	unsigned int nrefused = 0;
	pthread_t old, t;
	int v = 0;
	long rc;

	if (pipe(old_pipe) == -1 ||
	    pthread_create(&old, NULL, old_thread, NULL) != 0)
		_exit(2);

	rc = sandbox_apply(&nrefused, why, sizeof(why));
	out[T_APPLY].rc = rc;
	out[T_APPLY].err = (int)nrefused;
	out[T_APPLY].done = 1;
	if (rc < 0) {
		fprintf(stderr, "sandbox_apply: %s\n", why);
		(void)!write(fd, out, sizeof(out));
		_exit(0);
	}
	out[T_STATUS_SECCOMP].rc = status_field("Seccomp");
	out[T_STATUS_SECCOMP].done = 1;
	out[T_STATUS_NNP].rc = status_field("NoNewPrivs");
	out[T_STATUS_NNP].done = 1;

	/* The path does not exist: unfiltered, execve says ENOENT. */
	note(T_EXECVE, execve(argv[0], argv, argv + 1));
	/* Unfiltered: ESRCH (the parent is not our tracee).  Not
	   PTRACE_TRACEME: a child traced by its waiting parent would
	   stop at its next signal and hang the test. */
	note(T_PTRACE, syscall(SYS_ptrace, PTRACE_PEEKDATA, (long)getppid(),
	    0L, 0L));
	rc = syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L);
	leave_if_child(rc);
	note(T_CLONE_PROCESS, rc);
#ifdef SYS_fork
	rc = syscall(SYS_fork);
	leave_if_child(rc);
	note(T_FORK, rc);
#endif
	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	rc = syscall(SYS_clone3, &ca, sizeof(ca));
	leave_if_child(rc);
	note(T_CLONE3, rc);
	/* The target does not exist: unfiltered, root gets ENOENT. */
	snprintf(mnt, sizeof(mnt), "%s/no-such-dir", dir);
	note(T_MOUNT, mount("none", mnt, "tmpfs", 0, NULL));
	/* Unfiltered, setting one's own uid succeeds. */
	note(T_SETUID, syscall(SYS_setuid, (long)getuid()));
	(void)!write(old_pipe[1], "x", 1);
	pthread_join(old, NULL);
	note(T_UNSHARE, syscall(SYS_unshare, 0L));
	note(T_USERFAULTFD, syscall(SYS_userfaultfd, (long)O_CLOEXEC));
#ifdef __x86_64__
	note(T_X32, syscall(0x40000000L | SYS_getpid));
#endif

	rc = pthread_create(&t, NULL, new_thread, &v);
	if (rc == 0)
		pthread_join(t, NULL);
	else
		errno = (int)rc;
	note(T_PTHREAD, rc == 0 && v == 42 ? 0 : -1);
	try_sockets(dir);

	(void)!write(fd, out, sizeof(out));
	/* _exit: a leak checker at exit would need ptrace and clone. */
	_exit(0);
}

static void
want_errno(enum what w, int err)
{
	CHECK(out[w].done, "%s: not tried (the child died before)",
	    names[w]);
	if (!out[w].done)
		return;
	CHECK(out[w].rc == -1 && out[w].err == err,
	    "%s: returned %ld (%s), want -1 with %s", names[w], out[w].rc,
	    out[w].rc == -1 ? strerror(out[w].err) : "no error",
	    strerror(err));
}

static void
want_ok(enum what w)
{
	CHECK(out[w].done && out[w].rc == 0, "%s: %s (%s)", names[w],
	    out[w].done ? "failed" : "not tried",
	    out[w].done ? strerror(out[w].err) : "the child died before");
}

/* An i386 system call under the filter: killed by SIGSYS. */
static void
test_foreign_abi(void)
{
#ifdef __x86_64__
	char why[256];
	unsigned int n;
	pid_t pid;
	int st, filtered;

	/* First without the filter: a kernel without the i386 ABI
	   (ia32_emulation=0) faults instead, and there is nothing to see. */
	for (filtered = 0; filtered < 2; filtered++) {
		if ((pid = fork()) == -1) {
			CHECK(0, "fork: %s", strerror(errno));
			return;
		}
		if (pid == 0) {
			long ret = 20;	/* getpid in the i386 table */

			if (filtered && sandbox_apply(&n, why,
			    sizeof(why)) < 0)
				_exit(3);
			__asm__ volatile("int $0x80" : "+a"(ret) : :
			    "memory");
			_exit(ret == (long)getpid() ? 4 : 5);
		}
		CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
		if (!filtered && !(WIFEXITED(st) && WEXITSTATUS(st) == 4)) {
			printf("test-sandbox: no i386 system calls on this "
			    "kernel: the architecture check is not tried\n");
			return;
		}
	}
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	    "i386 system call: want SIGSYS, got %s %d",
	    WIFSIGNALED(st) ? "signal" : "exit",
	    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
#endif
}

int
main(void)
{
	char dir[] = "/tmp/test-sandbox.XXXXXX";
	int p[2], st, i;
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	if (geteuid() != 0) {
		printf("SKIP: needs root, to tell the filter's EPERM from the "
		    "kernel's for mount and setuid\n");
		return 77;
	}
	if (mkdtemp(dir) == NULL || pipe(p) == -1) {
		fprintf(stderr, "test-sandbox: %s\n", strerror(errno));
		return 1;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "test-sandbox: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(p[0]);
		child(p[1], dir);
	}
	close(p[1]);
	while (got < sizeof(out) &&
	    (n = read(p[0], (char *)out + got, sizeof(out) - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0, "the child: %s %d",
	    WIFSIGNALED(st) ? "killed by signal" : "exit status",
	    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	if (got != sizeof(out)) {
		CHECK(0, "the child sent %zu of %zu octets", got, sizeof(out));
		rmdir(dir);
		return 1;
	}
	/* This architecture has no filter, or this kernel no seccomp (no
	   "Seccomp" line in /proc/self/status). */
	if (out[T_APPLY].rc == -EOPNOTSUPP || (out[T_APPLY].rc == -EINVAL &&
	    status_field("Seccomp") == -1)) {
		printf("SKIP: no seccomp filter here (sandbox_apply: %s)\n",
		    strerror((int)-out[T_APPLY].rc));
		rmdir(dir);
		return 77;
	}
	CHECK(out[T_APPLY].rc == 0, "sandbox_apply: %s",
	    strerror((int)-out[T_APPLY].rc));
	CHECK(out[T_APPLY].err > 40, "only %d system calls refused",
	    out[T_APPLY].err);
	CHECK(out[T_STATUS_SECCOMP].rc == 2, "Seccomp: %ld, want 2",
	    out[T_STATUS_SECCOMP].rc);
	CHECK(out[T_STATUS_NNP].rc == 1, "NoNewPrivs: %ld, want 1",
	    out[T_STATUS_NNP].rc);
	want_errno(T_EXECVE, EPERM);
	want_errno(T_PTRACE, EPERM);
	want_errno(T_CLONE_PROCESS, EPERM);
#ifdef SYS_fork
	want_errno(T_FORK, EPERM);
#endif
	want_errno(T_CLONE3, ENOSYS);
	want_errno(T_MOUNT, EPERM);
	want_errno(T_SETUID, EPERM);
	want_errno(T_SETUID_THREAD, EPERM);
	want_errno(T_UNSHARE, EPERM);
	want_errno(T_USERFAULTFD, EPERM);
#ifdef __x86_64__
	want_errno(T_X32, EPERM);
#endif
	want_ok(T_PTHREAD);
	want_ok(T_SOCKETPAIR);
	want_ok(T_CONNECT);
	test_foreign_abi();
	CHECK(rmdir(dir) == 0, "rmdir %s: %s", dir, strerror(errno));

	if (failures != 0) {
		fprintf(stderr, "test-sandbox: %d failures\n", failures);
		return 1;
	}
	for (i = 0; i < T_NCHECKS; i++)
		if (!out[i].done)
			printf("test-sandbox: %s not tried here\n", names[i]);
	printf("test-sandbox: ok (%d system calls refused)\n",
	    out[T_APPLY].err);
	return 0;
}
