/*
 * guest-lib.c - freestanding runtime for lfbvnc's KVM guests.
 *
 * The string functions are written with `rep movsb/stosb' in inline
 * assembly, not as C loops: at -O2 GCC recognises such loops as memset or
 * memcpy and would turn them into calls to themselves.  rep movsb/stosb are
 * fast on every CPU with ERMS and run natively at CPL 3.
 */
#include "guest-lib.h"

void *
memset(void *dst, int c, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep stosb"
	    : "+D" (d), "+c" (n) : "a" (c) : "memory");
	return dst;
}

void *
memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep movsb"
	    : "+D" (d), "+S" (src), "+c" (n) : : "memory");
	return dst;
}

void *
memmove(void *dst, const void *src, size_t n)
{
	void *d;
	const void *s;

	if ((uintptr_t)dst <= (uintptr_t)src ||
	    (uintptr_t)dst >= (uintptr_t)src + n)
		return memcpy(dst, src, n);
	/* Overlap with dst above src: copy backwards. */
	d = (uint8_t *)dst + n - 1;
	s = (const uint8_t *)src + n - 1;
	__asm__ volatile("std; rep movsb; cld"
	    : "+D" (d), "+S" (s), "+c" (n) : : "memory", "cc");
	return dst;
}

int
memcmp(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *p = a, *q = b;
	size_t i;

	/* volatile keeps GCC from recognising the loop as memcmp. */
	for (i = 0; i < n; i++)
		if (p[i] != q[i])
			return p[i] < q[i] ? -1 : 1;
	return 0;
}

size_t
strlen(const char *s)
{
	const volatile char *p = s;

	while (*p != '\0')
		p++;
	return (size_t)(p - s);
}

uint32_t
guest_wait_cmd(struct guest_mailbox *mb)
{
	uint32_t seq;

	for (;;) {
		seq = __atomic_load_n(&mb->ack_seq, __ATOMIC_RELAXED);
		if (__atomic_load_n(&mb->cmd_seq, __ATOMIC_ACQUIRE) != seq)
			return mb->cmd;
		guest_doorbell(GUEST_DB_WAIT, seq);
	}
}

void
guest_ack(struct guest_mailbox *mb, int32_t status)
{
	uint32_t seq = __atomic_load_n(&mb->cmd_seq, __ATOMIC_RELAXED);

	mb->status = status;
	__atomic_store_n(&mb->ack_seq, seq, __ATOMIC_RELEASE);
	guest_doorbell(GUEST_DB_DONE, seq);
}

int
guest_next_input(struct guest_mailbox *mb, struct guest_input *ev)
{
	uint32_t tail = mb->in_tail;

	if (__atomic_load_n(&mb->in_head, __ATOMIC_ACQUIRE) == tail)
		return 0;
	*ev = mb->in[tail % GUEST_INPUT_RING];
	__atomic_store_n(&mb->in_tail, tail + 1, __ATOMIC_RELEASE);
	return 1;
}

void
guest_puts(const char *s)
{
	guest_doorbell(GUEST_DB_PUTS, (uint64_t)(uintptr_t)s);
}

void
guest_panic(const char *s)
{
	for (;;)
		guest_doorbell(GUEST_DB_PANIC, (uint64_t)(uintptr_t)s);
}
