/*
 * guest-main.c - lfbvnc-demo's KVM guest: the demo renderer (render.c)
 * running as guest code in a vCPU and drawing into the VRAM slot, whose
 * dirty log is the kvm tracker's answer.  Protocol with the host:
 * demo-guest.h.  Freestanding, CPL 3, no floating point (guest-lib.h).
 */
#include "guest-lib.h"
#include "render.h"
#include "demo-guest.h"

/* In guest RAM (bss, zeroed by the host's loader), not on the stack:
   64 KiB is the whole stack the runtime guarantees. */
static struct demo_state state;

/* The host's mode, checked against the VRAM it backed. */
static int
read_mode(const struct guest_mailbox *mb, struct demo_mode *m)
{
	m->width = mb->width;
	m->height = mb->height;
	m->stride = mb->stride;
	m->format = mb->format;
	if (m->format != DEMO_FORMAT_XRGB8888 || m->width == 0 ||
	    m->height == 0 || m->stride / 4 < m->width ||
	    (uint64_t)m->stride * m->height > mb->vram_size) {
		/* an invalid mode makes demo_start draw nothing */
		m->width = 0;
		return 0;
	}
	return 1;
}

static int32_t
run(struct guest_mailbox *mb)
{
	struct demo_input in[GUEST_INPUT_RING];
	struct guest_input ev;
	struct demo_mode m = { 0, 0, 0, 0 };
	uint8_t *vram = (uint8_t *)(uintptr_t)mb->vram_gpa;
	uint64_t gen = 0, frame, marker;
	uint32_t n;
	int ok = 0;

	while (!guest_stop_requested(mb)) {
		if (mb->arg[DG_ARG_MODE_GEN] != gen) {
			gen = mb->arg[DG_ARG_MODE_GEN];
			ok = read_mode(mb, &m);
			demo_start(&state, vram, &m,
			    (uint32_t)mb->arg[DG_ARG_WORKLOAD],
			    mb->arg[DG_ARG_SEED]);
		}
		for (n = 0; n < GUEST_INPUT_RING && guest_next_input(mb, &ev);
		    n++) {
			in[n].type = ev.type;
			in[n].a = ev.a;
			in[n].b = ev.b;
			in[n].c = ev.c;
		}
		frame = mb->arg[DG_ARG_FRAME];
		demo_frame(&state, vram, &m, frame, in, n);
		marker = mb->arg[DG_ARG_MARKER];
		if ((marker & DG_MARKER_ON) &&
		    (demo_damage(&state, 0, 0) > 0 ||
		    mb->arg[DG_ARG_MARKER_FORCE] != 0)) {
			/* the host's clock, read after the frame's writes */
			guest_doorbell(DG_DB_STAMP, frame);
			demo_marker(&state, vram, &m,
			    (uint32_t)(marker & 0xffffffffu),
			    (uint32_t)((marker >> 32) & 0x7fffffffu),
			    mb->arg[DG_ARG_STAMP]);
		}
		mb->ret[DG_RET_FRAME] = frame;
		mb->ret[DG_RET_MODE_GEN] = gen;
		mb->ret[DG_RET_MODE_OK] = (uint64_t)ok;
		/* the host paces here and hands over the next frame */
		guest_doorbell(DG_DB_FRAME, frame);
	}
	return 0;
}

int
guest_main(struct guest_mailbox *mb)
{
	uint32_t cmd;
	int32_t status;

	for (;;) {
		cmd = guest_wait_cmd(mb);
		switch (cmd) {
		case DG_CMD_RUN:
			status = run(mb);
			break;
		case DG_CMD_EXIT:
			guest_ack(mb, 0);
			return 0;
		default:
			status = -1;
			break;
		}
		guest_ack(mb, status);
	}
}
