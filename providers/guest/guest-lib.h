/*
 * guest-lib.h - the freestanding runtime of lfbvnc's KVM guests: the
 * functions the compiler may emit calls to, the doorbell, and the mailbox
 * command channel of guest-abi.h.  Guest code only: it runs at CPL 3 in a
 * vCPU with no libc, no interrupts and no floating point.
 *
 * A guest program defines
 *
 *	int guest_main(struct guest_mailbox *mb);
 *
 * crt0.S rings GUEST_DB_READY, calls it, and rings GUEST_DB_EXIT with its
 * return value.  A typical main loop:
 *
 *	for (;;) {
 *		uint32_t cmd = guest_wait_cmd(mb);
 *		...run it, fill mb->ret[]...
 *		guest_ack(mb, status);
 *	}
 */
#ifndef LFBVNC_GUEST_LIB_H
#define LFBVNC_GUEST_LIB_H

#include <stddef.h>
#include <stdint.h>

#include "guest-abi.h"

int	 guest_main(struct guest_mailbox *);

void	*memset(void *, int, size_t);
void	*memcpy(void *, const void *, size_t);
void	*memmove(void *, const void *, size_t);
int	 memcmp(const void *, const void *, size_t);
size_t	 strlen(const char *);

/*
 * Stop the vCPU and hand `code' and `value' to the host.  Every store the
 * guest made before is visible to the host when it handles the doorbell.
 */
static inline void
guest_doorbell(uint32_t code, uint64_t value)
{
	volatile uint64_t *db = (volatile uint64_t *)(uintptr_t)
	    (GUEST_DOORBELL_GPA + 8 * (uint64_t)code);

	__asm__ volatile("movq %1, %0" : "=m" (*db) : "r" (value) : "memory");
}

static inline struct guest_mailbox *
guest_mailbox(void)
{
	return (struct guest_mailbox *)(uintptr_t)GUEST_MAILBOX_GPA;
}

/* Block (the host parks the vCPU) until a command is posted; return it. */
uint32_t guest_wait_cmd(struct guest_mailbox *);
/* Publish status and ret[], acknowledge the command, tell the host. */
void	 guest_ack(struct guest_mailbox *, int32_t);
/* Nonzero once the host asked the running command to finish. */
static inline int
guest_stop_requested(const struct guest_mailbox *mb)
{
	return __atomic_load_n(&mb->stop, __ATOMIC_ACQUIRE) != 0;
}
/* Next input event, or 0 when the ring is empty. */
int	 guest_next_input(struct guest_mailbox *, struct guest_input *);
/* Log a message on the host (GUEST_DB_PUTS). */
void	 guest_puts(const char *);
/* Report a fatal error; never returns. */
__attribute__((__noreturn__)) void guest_panic(const char *);

/* Time-stamp counter: readable at CPL 3 unless the host set CR4.TSD. */
static inline uint64_t
guest_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a" (lo), "=d" (hi));
	return ((uint64_t)hi << 32) | lo;
}

#endif /* LFBVNC_GUEST_LIB_H */
