/*
 * bench-guest.h - commands of the benchmark guest (bench-guest.c) that
 * bench-trackers drives through the mailbox (providers/guest/guest-abi.h).
 * Offsets are relative to mb->vram_gpa; the backed VRAM is mb->vram_size
 * octets and may span several memory slots.
 */
#ifndef LFBVNC_BENCH_GUEST_H
#define LFBVNC_BENCH_GUEST_H

/*
 * arg0: offset of a region (page-aligned); arg1: its pages; arg2: qword.
 * data: a bitmap of arg1 bits (bit p of 64-bit word p / 64 is page p).
 * For every set bit, stores the qword arg2 ^ p at p * 4096 + (p % 512) * 8
 * in the region: one first write per page.  ret0: TSC cycles the stores
 * took (measured in the guest); ret1: pages written.
 */
#define BG_CMD_WRITE	1
/* ret0: the guest's TSC. */
#define BG_CMD_TSC	2
/* guest_main returns arg0. */
#define BG_CMD_EXIT	3

#endif /* LFBVNC_BENCH_GUEST_H */
