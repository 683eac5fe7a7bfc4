/*
 * sandbox.h - a seccomp filter for the per-guest worker.
 *
 * The worker applies it once its handles are open and it has given up
 * root (privdrop.h), or, with no `user' configured, just before it
 * accepts clients: every worker serves the network under the filter.
 * The filter is inherited by the worker's threads (it is installed with
 * SECCOMP_FILTER_FLAG_TSYNC) and cannot be removed.
 *
 * It is a deny-list: the system calls a VNC server for one guest never
 * makes fail with EPERM (program execution, tracing and other processes'
 * memory, kernel modules and kexec, mounts and namespaces, eBPF and perf,
 * the kernel keyring, userfaultfd, file handles, the clock, raw I/O
 * ports, any change of identity, reboot and swap), and so does creating
 * a process: clone without CLONE_THREAD, fork and vfork.  Threads stay
 * possible (libvncserver runs one per client); clone3 fails with ENOSYS,
 * since its flags are out of a classic filter's reach, and glibc then
 * falls back to clone.  A system call of another ABI than the daemon's
 * (i386 through int 0x80) kills the process; an x32 one fails with
 * EPERM.  Why a deny-list rather than an allow-list: see sandbox.c and
 * docs/SECURITY.md.
 *
 * Error convention: 0 or a negative errno with a reason in why.
 */
#ifndef LFBVNC_SANDBOX_H
#define LFBVNC_SANDBOX_H

#include <stddef.h>

/*
 * Sets no_new_privs and installs the filter on the calling process and
 * all its threads; *nrefused is the number of system calls it refuses.
 * A process with the filter cannot create processes any more, so fork
 * what you need before.
 */
int sandbox_apply(unsigned int *nrefused, char *why, size_t whylen);

#endif /* LFBVNC_SANDBOX_H */
