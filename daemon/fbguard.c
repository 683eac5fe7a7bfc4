/* fbguard.c - guest pixels read under a SIGBUS guard; see fbguard.h. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "fbguard.h"
#include "log.h"

/*
 * The guard of this thread.  Thread-local: a fault on a libvncserver
 * client thread (which never reads guest memory) must not jump into the
 * scanning thread's stack.  Written before `on' is set and read by the
 * handler only while it is set.
 */
static _Thread_local sigjmp_buf guard_jmp;
static _Thread_local uintptr_t guard_base;
static _Thread_local size_t guard_len;
static _Thread_local size_t guard_fault;
static _Thread_local volatile sig_atomic_t guard_on;

static bool installed;

static void
on_sigbus(int sig, siginfo_t *si, void *uc)
{
	struct sigaction sa;
	uintptr_t a = (uintptr_t)si->si_addr;

	(void)uc;
	/* si_code > 0: raised by the kernel for a fault at si_addr (not a
	   kill(2), whose siginfo has no address). */
	if (guard_on && si->si_code > 0 && a >= guard_base &&
	    a - guard_base < guard_len) {
		guard_on = 0;
		guard_fault = a - guard_base;
		siglongjmp(guard_jmp, 1);
	}
	/*
	 * Not ours: the default action, as if there were no handler.  The
	 * signal is blocked while we run, so the raise takes effect when we
	 * return (a fault would also simply happen again).
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	raise(sig);
}

static int
install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) == -1)
		return -errno;
	installed = true;
	return 0;
}

int
fbguard_scan(struct scanner *s, const uint8_t *fb, size_t len,
    const uint64_t *dirty, size_t npages, bool all, size_t *fault_off)
{
	int n, rc;

	if (!installed && (rc = install()) < 0) {
		/* Cannot happen for SIGBUS; scan as without a guard. */
		log_warnx("fbguard: sigaction(SIGBUS): %s", strerror(-rc));
		return scan_pages(s, fb, dirty, npages, all);
	}
	guard_base = (uintptr_t)fb;
	guard_len = len;
	/* Save the mask: the handler runs with SIGBUS blocked, and the jump
	   must unblock it for the next fault. */
	if (sigsetjmp(guard_jmp, 1) != 0) {
		*fault_off = guard_fault;
		return -EFAULT;
	}
	/* The handler sees base and len before it sees the guard on. */
	atomic_signal_fence(memory_order_seq_cst);
	guard_on = 1;
	n = scan_pages(s, fb, dirty, npages, all);
	guard_on = 0;
	return n;
}
