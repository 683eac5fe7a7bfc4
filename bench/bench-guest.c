/*
 * bench-guest.c - the guest of bench-trackers: real guest code in a vCPU
 * that writes the pages the host names into VRAM and times the writes
 * with its own TSC (bench-guest.h).  Built with the providers/guest
 * runtime (freestanding, CPL 3).
 */
#include "guest-lib.h"
#include "bench-guest.h"

/* TSC after every earlier store is globally visible. */
static inline uint64_t
tsc_fenced(void)
{
	__asm__ volatile("mfence; lfence" ::: "memory");
	return guest_rdtsc();
}

static int32_t
do_write(struct guest_mailbox *mb)
{
	const uint64_t *bm = (const uint64_t *)(const void *)mb->data;
	uint64_t off = mb->arg[0], npages = mb->arg[1], value = mb->arg[2];
	uint64_t nwords = (npages + 63) / 64, i, w, p, n = 0, t0, t1;
	uint8_t *base;

	if (off % GUEST_PAGE_SIZE != 0 || npages == 0 ||
	    nwords * 8 > GUEST_MAILBOX_DATA || off > mb->vram_size ||
	    npages > (mb->vram_size - off) / GUEST_PAGE_SIZE)
		return -1;
	if (npages % 64 != 0 && (bm[nwords - 1] >> (npages % 64)) != 0)
		return -2;
	base = (uint8_t *)(uintptr_t)(mb->vram_gpa + off);
	t0 = tsc_fenced();
	for (i = 0; i < nwords; i++) {
		for (w = bm[i]; w != 0; w &= w - 1) {
			p = i * 64 + (uint64_t)__builtin_ctzll(w);
			*(volatile uint64_t *)(base + p * GUEST_PAGE_SIZE +
			    (p % 512) * 8) = value ^ p;
			n++;
		}
	}
	t1 = tsc_fenced();
	mb->ret[0] = t1 - t0;
	mb->ret[1] = n;
	return 0;
}

int
guest_main(struct guest_mailbox *mb)
{
	int32_t status;

	if (mb->magic != GUEST_MAILBOX_MAGIC || mb->vram_size == 0)
		guest_panic("bench-guest: mailbox not set up");
	for (;;) {
		switch (guest_wait_cmd(mb)) {
		case BG_CMD_WRITE:
			status = do_write(mb);
			break;
		case BG_CMD_TSC:
			mb->ret[0] = tsc_fenced();
			status = 0;
			break;
		case BG_CMD_EXIT:
			status = (int32_t)mb->arg[0];
			guest_ack(mb, status);
			return status;
		default:
			status = -38;	/* ENOSYS */
			break;
		}
		guest_ack(mb, status);
	}
}
