/*
 * kvm-guest.c - the test guest of test-tracker-kvm: real guest code in a
 * vCPU writing into the dirty-logged VRAM slot on command (kvm-guest.h).
 * Built with the providers/guest runtime (freestanding, CPL 3).
 */
#include "guest-lib.h"
#include "kvm-guest.h"

static uint64_t
xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static int32_t
do_pages(struct guest_mailbox *mb, uint8_t *vram, uint64_t npages)
{
	const uint32_t *list = (const uint32_t *)(const void *)mb->data;
	uint64_t i, n = mb->arg[0], value = mb->arg[1], p;

	if (n > KG_MAX_PAGES)
		return -1;
	for (i = 0; i < n; i++) {
		p = list[i];
		if (p >= npages)
			return -2;
		*(volatile uint64_t *)(vram + p * GUEST_PAGE_SIZE +
		    (p % 512) * 8) = value ^ p;
	}
	return 0;
}

static int32_t
do_loop(struct guest_mailbox *mb, uint8_t *vram, uint64_t npages)
{
	uint64_t seed = mb->arg[0] | 1, counter = 0, runs = 0, r, p, len;
	uint64_t i;

	while (!guest_stop_requested(mb)) {
		r = xorshift(&seed);
		p = r % npages;
		len = 1 + (r >> 32) % 16;
		if (len > npages - p)
			len = npages - p;
		for (i = 0; i < len; i++)
			*(volatile uint64_t *)(vram + (p + i) *
			    GUEST_PAGE_SIZE + ((r >> 20) % 512) * 8) =
			    ++counter;
		runs++;
	}
	mb->ret[0] = counter;
	mb->ret[1] = runs;
	return 0;
}

static int32_t
do_fill(struct guest_mailbox *mb, uint8_t *vram)
{
	uint64_t n = mb->arg[0], q = mb->arg[1], t0, t1;
	void *d = vram;

	if (n % 8 != 0 || n > mb->vram_size)
		return -1;
	n /= 8;
	t0 = guest_rdtsc();
	__asm__ volatile("rep stosq" : "+D" (d), "+c" (n) : "a" (q) : "memory");
	t1 = guest_rdtsc();
	mb->ret[0] = t1 - t0;
	return 0;
}

int
guest_main(struct guest_mailbox *mb)
{
	uint8_t *vram = (uint8_t *)(uintptr_t)mb->vram_gpa;
	uint64_t npages = mb->vram_size / GUEST_PAGE_SIZE;
	int32_t status;

	if (mb->magic != GUEST_MAILBOX_MAGIC || npages == 0)
		guest_panic("mailbox not set up");
	guest_puts("kvm-guest: ready");
	for (;;) {
		switch (guest_wait_cmd(mb)) {
		case KG_CMD_PAGES:
			status = do_pages(mb, vram, npages);
			break;
		case KG_CMD_PIXEL:
			if (mb->arg[0] % 4 != 0 ||
			    mb->arg[0] + 4 > mb->vram_size) {
				status = -1;
				break;
			}
			*(volatile uint32_t *)(vram + mb->arg[0]) =
			    (uint32_t)mb->arg[1];
			status = 0;
			break;
		case KG_CMD_LOOP:
			status = do_loop(mb, vram, npages);
			break;
		case KG_CMD_FILL:
			status = do_fill(mb, vram);
			break;
		case KG_CMD_INPUT: {
			struct guest_input ev;

			mb->ret[0] = mb->ret[1] = 0;
			while (guest_next_input(mb, &ev)) {
				mb->ret[0]++;
				mb->ret[1] += (uint64_t)ev.type + ev.a + ev.b +
				    ev.c;
			}
			status = 0;
			break;
		}
		case KG_CMD_EXIT:
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
