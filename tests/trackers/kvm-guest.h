/*
 * kvm-guest.h - commands of the test guest (kvm-guest.c) that
 * test-tracker-kvm drives through the mailbox (providers/guest/guest-abi.h).
 * All offsets are relative to the start of the VRAM slot.
 */
#ifndef LFBVNC_TEST_KVM_GUEST_H
#define LFBVNC_TEST_KVM_GUEST_H

/* arg0: count; arg1: value.  data: uint32_t page numbers.  Stores the
   qword value ^ page at page * 4096 + (page % 512) * 8 for each page. */
#define KG_CMD_PAGES	1
/* arg0: offset (4-aligned); arg1: 32-bit pixel value. */
#define KG_CMD_PIXEL	2
/* arg0: seed.  Writes runs of 1..16 consecutive pages at pseudo-random
   places, one qword of a running counter per page, until mb->stop.
   ret0: qwords written; ret1: runs. */
#define KG_CMD_LOOP	3
/* arg0: octets (multiple of 8); arg1: qword.  One `rep stosq' from the
   start of VRAM.  ret0: TSC cycles it took. */
#define KG_CMD_FILL	4
/* guest_main returns arg0. */
#define KG_CMD_EXIT	5
/* Consume the input ring.  ret0: events; ret1: sum of type+a+b+c. */
#define KG_CMD_INPUT	6

#define KG_MAX_PAGES	1024	/* page numbers in one KG_CMD_PAGES */

#endif /* LFBVNC_TEST_KVM_GUEST_H */
