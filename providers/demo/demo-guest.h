/*
 * demo-guest.h - how lfbvnc-demo (main.c) drives its KVM guest
 * (guest-main.c) through the mailbox of providers/guest/guest-abi.h.
 *
 * The host posts one DG_CMD_RUN.  The guest then draws frames until
 * mb->stop is set: for each one it applies a new mode if DG_ARG_MODE_GEN
 * moved (mb->width, height, stride, format), takes the input events from
 * the mailbox ring, calls demo_frame on the VRAM, fills ret[] and rings
 * DG_DB_FRAME.  The vCPU is stopped while the host handles that doorbell:
 * the host's vCPU thread waits there for the next frame time (pacing),
 * publishes a mode the guest has drawn, writes the next frame number and
 * any new mode into the mailbox and moves queued input into the ring.
 * With a latency marker asked for, a frame that wrote pixels (or one the
 * host forces) is followed by DG_DB_STAMP before DG_DB_FRAME.
 * The guest never spins: between frames it is parked in a doorbell.
 */
#ifndef LFBVNC_DEMO_GUEST_H
#define LFBVNC_DEMO_GUEST_H

#define DG_CMD_RUN		1	/* draw frames until mb->stop */
#define DG_CMD_EXIT		2	/* guest_main returns */

/* mb->arg[]: DG_CMD_RUN's arguments, then updated by the host at each
   DG_DB_FRAME while the vCPU is stopped. */
#define DG_ARG_WORKLOAD		0	/* enum demo_workload */
#define DG_ARG_SEED		1
#define DG_ARG_FRAME		2	/* frame number to draw next */
#define DG_ARG_MODE_GEN		3	/* moves when the mode fields change */
#define DG_ARG_MARKER		4	/* latency marker: DG_MARKER_ON | y << 32
					   | x, or 0 (off) */
#define DG_ARG_MARKER_FORCE	5	/* 1: write the marker after this frame
					   even if it changed nothing */
#define DG_ARG_STAMP		6	/* the host's time (CLOCK_MONOTONIC ns),
					   written at DG_DB_STAMP */
#define DG_NARGS		7

#define DG_MARKER_ON		(1ull << 63)

/* mb->ret[], written by the guest before each DG_DB_FRAME. */
#define DG_RET_FRAME		0	/* frame just drawn */
#define DG_RET_MODE_GEN		1	/* mode generation it was drawn in */
#define DG_RET_MODE_OK		2	/* 1: that mode fits the VRAM */

/* Doorbell: a frame is drawn (value: its number). */
#define DG_DB_FRAME		(GUEST_DB_USER + 0)
/*
 * Doorbell: the frame just drawn (value: its number) wants a latency
 * marker; the host stores its clock in mb->arg[DG_ARG_STAMP] before it
 * resumes the vCPU, and the guest writes the marker (common/marker.h) for
 * that time at the DG_ARG_MARKER position, after the frame's other writes.
 * The guest has no clock of the host's: this is how the time gets in.
 */
#define DG_DB_STAMP		(GUEST_DB_USER + 1)

#endif /* LFBVNC_DEMO_GUEST_H */
