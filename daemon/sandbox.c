/*
 * sandbox.c - the worker's seccomp filter; see sandbox.h.
 *
 * Why a deny-list.  What a worker calls is not ours alone: libvncserver
 * (threads, sockets, its zlib/jpeg/TLS code), libevent and evhttp (the
 * web client's files), glibc (syslog(3), clone3 or clone for threads),
 * the Xen libraries (privcmd and foreignmemory
 * ioctls, munmap on close), the lfbshm consumer (reconnecting: socket,
 * connect, recvmsg of descriptors, mmap, readlink of /proc/self/fd) and,
 * in test builds, the sanitizer runtimes.  An allow-list must name every
 * call of every version of each of these, and a call it forgot kills a
 * worker serving clients, in the field, on the first unusual path (a
 * reconnect, a mode change, a TLS handshake).  The daemon is built
 * against the distribution's libraries, which change under it.  So the
 * filter refuses instead what a VNC server for one guest never needs and
 * what an attacker who took the worker over would want: to run a
 * program, to create a process, to trace or read another one, to change
 * identity, and the kernel interfaces with a history of privilege
 * escalations (eBPF, perf, userfaultfd, keyrings, namespaces, mounts).
 * Everything else the worker may already do as its unprivileged user.
 *
 * The program is classic BPF, built at run time from the table below:
 *
 *	arch != ours			-> kill the process
 *	nr >= X32_SYSCALL_BIT		-> EPERM (x32: the table is x86-64's)
 *	nr == clone3			-> ENOSYS (glibc falls back to clone)
 *	nr == clone, !(flags & CLONE_THREAD) -> EPERM
 *	nr in the table			-> EPERM
 *	otherwise			-> allow
 *
 * In a sanitizer build, and only there, LeakSanitizer's own clone and
 * ptrace requests pass as well (SANDBOX_LSAN below).
 *
 * EPERM rather than a kill: a library that probes a call (glibc's
 * posix_spawn, a fork in an error path) gets an error it handles, and the
 * worker goes on serving; the refusal is not silent for an attacker's
 * code either, but it gains nothing from it.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "sandbox.h"

#if defined(__x86_64__)
#define SANDBOX_ARCH		AUDIT_ARCH_X86_64
#define SANDBOX_X32_BIT		0x40000000u	/* __X32_SYSCALL_BIT */
#elif defined(__aarch64__)
#define SANDBOX_ARCH		AUDIT_ARCH_AARCH64
#endif

#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS SECCOMP_RET_KILL	/* before Linux 4.14 */
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC
#define SECCOMP_FILTER_FLAG_TSYNC 1
#endif

#ifdef SANDBOX_ARCH
/*
 * Refused with EPERM.  #ifdef: the list is the same on every
 * architecture, minus the calls it does not have (aarch64 has no fork).
 */
static const int refused[] = {
	/* Running a program, and making processes to run it in. */
#ifdef __NR_execve
	__NR_execve,
#endif
#ifdef __NR_execveat
	__NR_execveat,
#endif
#ifdef __NR_fork
	__NR_fork,
#endif
#ifdef __NR_vfork
	__NR_vfork,
#endif
	/* Other processes: tracing, their memory, their descriptors. */
#ifdef __NR_ptrace
	__NR_ptrace,
#endif
#ifdef __NR_process_vm_readv
	__NR_process_vm_readv,
#endif
#ifdef __NR_process_vm_writev
	__NR_process_vm_writev,
#endif
#ifdef __NR_pidfd_getfd
	__NR_pidfd_getfd,
#endif
	/* The kernel itself. */
#ifdef __NR_kexec_load
	__NR_kexec_load,
#endif
#ifdef __NR_kexec_file_load
	__NR_kexec_file_load,
#endif
#ifdef __NR_init_module
	__NR_init_module,
#endif
#ifdef __NR_finit_module
	__NR_finit_module,
#endif
#ifdef __NR_delete_module
	__NR_delete_module,
#endif
#ifdef __NR_reboot
	__NR_reboot,
#endif
#ifdef __NR_swapon
	__NR_swapon,
#endif
#ifdef __NR_swapoff
	__NR_swapoff,
#endif
#ifdef __NR_acct
	__NR_acct,
#endif
#ifdef __NR_syslog
	__NR_syslog,		/* the kernel's log; syslog(3) is a socket */
#endif
	/* Mounts and namespaces, with the new mount API beside mount(2). */
#ifdef __NR_mount
	__NR_mount,
#endif
#ifdef __NR_umount2
	__NR_umount2,
#endif
#ifdef __NR_pivot_root
	__NR_pivot_root,
#endif
#ifdef __NR_chroot
	__NR_chroot,
#endif
#ifdef __NR_open_tree
	__NR_open_tree,
#endif
#ifdef __NR_move_mount
	__NR_move_mount,
#endif
#ifdef __NR_fsopen
	__NR_fsopen,
#endif
#ifdef __NR_fsconfig
	__NR_fsconfig,
#endif
#ifdef __NR_fsmount
	__NR_fsmount,
#endif
#ifdef __NR_fspick
	__NR_fspick,
#endif
#ifdef __NR_mount_setattr
	__NR_mount_setattr,
#endif
#ifdef __NR_setns
	__NR_setns,
#endif
#ifdef __NR_unshare
	__NR_unshare,
#endif
	/* Interfaces with a history of privilege escalations. */
#ifdef __NR_bpf
	__NR_bpf,
#endif
#ifdef __NR_perf_event_open
	__NR_perf_event_open,
#endif
#ifdef __NR_userfaultfd
	__NR_userfaultfd,
#endif
#ifdef __NR_keyctl
	__NR_keyctl,
#endif
#ifdef __NR_add_key
	__NR_add_key,
#endif
#ifdef __NR_request_key
	__NR_request_key,
#endif
#ifdef __NR_open_by_handle_at
	__NR_open_by_handle_at,
#endif
#ifdef __NR_name_to_handle_at
	__NR_name_to_handle_at,
#endif
#ifdef __NR_personality
	__NR_personality,
#endif
	/* The clock, raw I/O ports. */
#ifdef __NR_settimeofday
	__NR_settimeofday,
#endif
#ifdef __NR_clock_settime
	__NR_clock_settime,
#endif
#ifdef __NR_adjtimex
	__NR_adjtimex,
#endif
#ifdef __NR_clock_adjtime
	__NR_clock_adjtime,
#endif
#ifdef __NR_iopl
	__NR_iopl,
#endif
#ifdef __NR_ioperm
	__NR_ioperm,
#endif
	/* Identity: once dropped, the worker stays who it is. */
#ifdef __NR_setuid
	__NR_setuid,
#endif
#ifdef __NR_setgid
	__NR_setgid,
#endif
#ifdef __NR_setreuid
	__NR_setreuid,
#endif
#ifdef __NR_setregid
	__NR_setregid,
#endif
#ifdef __NR_setresuid
	__NR_setresuid,
#endif
#ifdef __NR_setresgid
	__NR_setresgid,
#endif
#ifdef __NR_setgroups
	__NR_setgroups,
#endif
#ifdef __NR_setfsuid
	__NR_setfsuid,
#endif
#ifdef __NR_setfsgid
	__NR_setfsgid,
#endif
};

#define NREFUSED	(sizeof(refused) / sizeof(refused[0]))

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_LSAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define SANDBOX_LSAN	1
#endif
#endif

#ifdef SANDBOX_LSAN
/*
 * A sanitizer build only (configure --enable-sanitizers, for the test
 * suite): LeakSanitizer checks for leaks at exit from a task it clones
 * with exactly these flags, which then attaches to each thread with
 * ptrace to read its registers (sanitizer_stoptheworld_linux_libcdep).
 * Without them every sandboxed worker would end in "LeakSanitizer has
 * encountered a fatal error" instead of a leak report.  So that clone
 * and these ptrace requests pass; fork, PTRACE_TRACEME, PEEK, POKE and
 * SETREGS stay refused, and a build without sanitizers has none of this.
 */
#define LSAN_CLONE_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED)
static const unsigned int lsan_ptrace[] = {
	7 /* PTRACE_CONT */, 8 /* PTRACE_KILL */, 12 /* PTRACE_GETREGS */,
	16 /* PTRACE_ATTACH */, 17 /* PTRACE_DETACH */,
	0x4204 /* PTRACE_GETREGSET */,
};
#define NLSAN_PTRACE	(sizeof(lsan_ptrace) / sizeof(lsan_ptrace[0]))
#define NLSAN		(2 + NLSAN_PTRACE + 1)
#else
#define NLSAN		0
#endif

/* Jump targets, resolved once the program is complete. */
enum label {
	L_NEXT,		/* the next instruction: offset 0 */
	L_TABLE, L_REST, L_ALLOW, L_EPERM, L_ENOSYS, L_KILL, L_MAX
};

#define PROG_MAX	(10 + NLSAN + NREFUSED + 4)

/* A jump's offsets are 8 bits: every jump must reach its return. */
_Static_assert(PROG_MAX < 256, "the filter outgrew BPF's jump offsets");

struct prog {
	struct sock_filter f[PROG_MAX];
	unsigned char jt[PROG_MAX], jf[PROG_MAX];	/* enum label */
	unsigned short at[L_MAX];			/* where each is */
	unsigned short n;
};

static void
emit(struct prog *p, unsigned short code, __u32 k, enum label jt,
    enum label jf)
{
	if (p->n == PROG_MAX) {
		p->n++;		/* build() notices */
		return;
	}
	if (p->n > PROG_MAX)
		return;
	p->f[p->n] = (struct sock_filter){ code, 0, 0, k };
	p->jt[p->n] = (unsigned char)jt;
	p->jf[p->n] = (unsigned char)jf;
	p->n++;
}

static void
mark(struct prog *p, enum label l)
{
	p->at[l] = p->n;
}

static void
load(struct prog *p, size_t off)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, (__u32)off, L_NEXT, L_NEXT);
}

/* The low 32 bits of argument a (clone's flags, ptrace's request). */
static void
load_arg_low(struct prog *p, int a)
{
	load(p, offsetof(struct seccomp_data, args[0]) +
	    (size_t)a * sizeof(__u64)
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	    + sizeof(__u32)
#endif
	    );
}

/* The program in p->f, p->n instructions; -EINVAL if it does not fit. */
static int
build(struct prog *p)
{
	unsigned short i, to;
	size_t k;

	memset(p, 0, sizeof(*p));
	/* A system call of another ABI (i386's int 0x80, arm32) has other
	   numbers: the table does not apply to it; kill. */
	load(p, offsetof(struct seccomp_data, arch));
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, L_NEXT, L_KILL);
	load(p, offsetof(struct seccomp_data, nr));
#ifdef SANDBOX_X32_BIT
	/* x32 shares x86-64's arch, with numbers above this bit. */
	emit(p, BPF_JMP | BPF_JGE | BPF_K, SANDBOX_X32_BIT, L_EPERM, L_NEXT);
#endif
#ifdef __NR_clone3
	/* Its flags are in memory, out of the filter's reach: ENOSYS, and
	   glibc uses clone instead. */
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, L_ENOSYS, L_NEXT);
#endif
	/* clone makes a thread (allowed) or a process (refused).  The
	   flags are the first argument on both architectures, and the
	   kernel reads only their low 32 bits. */
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, L_NEXT, L_TABLE);
	load_arg_low(p, 0);
#ifdef SANDBOX_LSAN
	emit(p, BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, L_ALLOW, L_NEXT);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, LSAN_CLONE_FLAGS, L_ALLOW,
	    L_EPERM);
#else
	emit(p, BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, L_ALLOW, L_EPERM);
#endif
	/* Here the accumulator still holds the number (clone jumped away
	   before loading its flags). */
	mark(p, L_TABLE);
#ifdef SANDBOX_LSAN
	/* ptrace: the leak checker's requests only.  Any other call goes
	   on to the table (the accumulator is still its number). */
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, __NR_ptrace, L_NEXT, L_REST);
	load_arg_low(p, 0);
	for (k = 0; k < NLSAN_PTRACE; k++)
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, lsan_ptrace[k], L_ALLOW,
		    k + 1 < NLSAN_PTRACE ? L_NEXT : L_EPERM);
	mark(p, L_REST);
#endif
	for (k = 0; k < NREFUSED; k++)
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, (__u32)refused[k], L_EPERM,
		    L_NEXT);
	mark(p, L_ALLOW);
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW, L_NEXT, L_NEXT);
	mark(p, L_EPERM);
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA),
	    L_NEXT, L_NEXT);
	mark(p, L_ENOSYS);
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_ERRNO |
	    (ENOSYS & SECCOMP_RET_DATA), L_NEXT, L_NEXT);
	mark(p, L_KILL);
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, L_NEXT, L_NEXT);
	if (p->n > PROG_MAX)
		return -EINVAL;

	/* Resolve the labels: forward jumps only, within 8 bits. */
	for (i = 0; i < p->n; i++) {
		if (BPF_CLASS(p->f[i].code) != BPF_JMP)
			continue;
		if (p->jt[i] != L_NEXT) {
			to = p->at[p->jt[i]];
			if (to <= i || to - i - 1 > 255)
				return -EINVAL;
			p->f[i].jt = (unsigned char)(to - i - 1);
		}
		if (p->jf[i] != L_NEXT) {
			to = p->at[p->jf[i]];
			if (to <= i || to - i - 1 > 255)
				return -EINVAL;
			p->f[i].jf = (unsigned char)(to - i - 1);
		}
	}
	return 0;
}

int
sandbox_apply(unsigned int *nrefused, char *why, size_t whylen)
{
	struct prog prog;
	struct sock_fprog fprog;
	long rc;
	int e;

	if (build(&prog) < 0) {
		snprintf(why, whylen, "seccomp: the filter does not fit in "
		    "%zu instructions", PROG_MAX);
		return -EINVAL;
	}
	fprog.len = prog.n;
	fprog.filter = prog.f;
	/* Needed to install a filter unprivileged; privdrop sets it too. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		e = errno;
		snprintf(why, whylen, "prctl(PR_SET_NO_NEW_PRIVS): %s",
		    strerror(e));
		return -e;
	}
	/* TSYNC: on every thread there is, or none (then rc is the id of
	   a thread that could not take it). */
	rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_TSYNC, &fprog);
	if (rc != 0) {
		e = rc == -1 ? errno : ESRCH;
		if (rc == -1)
			snprintf(why, whylen, "seccomp: %s", strerror(e));
		else
			snprintf(why, whylen, "seccomp: thread %ld cannot take "
			    "the filter", rc);
		return -e;
	}
	/* The table, clone without CLONE_THREAD, clone3. */
	*nrefused = (unsigned int)NREFUSED + 2;
	return 0;
}

#else /* !SANDBOX_ARCH */

int
sandbox_apply(unsigned int *nrefused, char *why, size_t whylen)
{
	*nrefused = 0;
	snprintf(why, whylen, "seccomp: no filter for this architecture "
	    "(daemon/sandbox.c knows x86-64 and aarch64)");
	return -EOPNOTSUPP;
}

#endif /* SANDBOX_ARCH */
