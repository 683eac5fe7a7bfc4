/*
 * render.h - the demo desktop renderer.
 *
 * Freestanding C: no libc, no floating point, no globals, no allocation.
 * The same source is compiled twice: into lfbvnc-demo for a host thread
 * drawing into a memfd (uffd tracker), and into the KVM guest program that
 * draws from a vCPU into a dirty-logged memory slot (kvm tracker).  All
 * state lives in struct demo_state, which the caller places (in guest RAM
 * for the KVM guest).  Output is a pure function of (seed, workload, mode,
 * frame numbers, input): two runs with the same arguments draw the same
 * pixels.
 */
#ifndef LFBVNC_DEMO_RENDER_H
#define LFBVNC_DEMO_RENDER_H

#include <stdint.h>

enum demo_workload {
	DEMO_IDLE = 0,		/* a static desktop; nothing moves */
	DEMO_BLINK,		/* a text cursor blinking at 2 Hz */
	DEMO_TYPING,		/* a terminal receiving text line by line */
	DEMO_SCROLL,		/* a terminal scrolling a page of text */
	DEMO_DRAG,		/* a window dragged across the desktop */
	DEMO_VIDEO,		/* a 640x360 region repainted every frame */
	DEMO_FULLSCREEN,	/* the whole screen repainted every frame */
	DEMO_SPARSE,		/* random single pixels across the screen */
	DEMO_MIX,		/* blink + typing + a clock + a small video */
	DEMO_NWORKLOADS
};

/* Input for a frame, already validated by the caller. */
#define DEMO_INPUT_KEY		1
#define DEMO_INPUT_POINTER	2
#define DEMO_INPUT_WHEEL	3
struct demo_input {
	uint32_t type;		/* DEMO_INPUT_* */
	uint32_t a;		/* KEY: keysym; POINTER: x; WHEEL: dx */
	uint32_t b;		/* KEY: down;   POINTER: y; WHEEL: dy */
	uint32_t c;		/* POINTER: buttons */
};

/* == LFBSHM_FORMAT_XRGB8888; lfbshm.h is not needed by the guest. */
#define DEMO_FORMAT_XRGB8888	1

/*
 * Any stride >= width * 4 (pixels need not be aligned); 1 <= width, height
 * <= 16384.  Layouts are made for 320x200 up to 3840x2160.  The renderer
 * never writes outside [0, stride * (height - 1) + width * 4).
 */
struct demo_mode {
	uint32_t width;		/* pixels */
	uint32_t height;
	uint32_t stride;	/* octets */
	uint32_t format;	/* DEMO_FORMAT_XRGB8888 only for now */
};

/* Opaque to callers; large enough for every workload's state. */
#define DEMO_STATE_SIZE		(64 * 1024)
struct demo_state {
	uint64_t u[DEMO_STATE_SIZE / 8];
};

/*
 * Start a workload on a mode: resets the state and draws the full first
 * frame.  Called again after a mode change (the whole screen is redrawn;
 * the pointer reappears with the next POINTER input).  An invalid mode or
 * workload draws nothing and makes demo_frame a no-op.
 */
void demo_start(struct demo_state *st, uint8_t *fb, const struct demo_mode *m,
    uint32_t workload, uint64_t seed);

/*
 * Draw frame number `frame' (60 frames per second of demo time): apply the
 * input (the pointer is drawn, typed keys appear in the focused terminal,
 * held buttons paint dots), then advance the workload.  Touches only the
 * pixels that change.  Frames may be skipped: each workload catches up to
 * the state of `frame'.  m must equal the mode given to demo_start.
 */
void demo_frame(struct demo_state *st, uint8_t *fb, const struct demo_mode *m,
    uint64_t frame, const struct demo_input *in, uint32_t nin);

/*
 * Damage: the rectangles of pixels the last demo_start or demo_frame wrote
 * (and any demo_marker since), in screen coordinates, for a consumer that
 * wants exact damage instead of a write tracker (bench/oracle-server.c) and
 * to tell whether a frame changed anything.  Recording costs a few stores
 * per redrawn rectangle, nothing per pixel.  At most DEMO_DAMAGE_MAX
 * rectangles are kept: past that they are merged, so the list always
 * covers every pixel written (a written pixel may hold its old value).
 * Returns the number of rectangles and copies at most max of them.
 */
struct demo_rect {
	int32_t x, y, w, h;
};
#define DEMO_DAMAGE_MAX		32
uint32_t demo_damage(const struct demo_state *st, struct demo_rect *out,
    uint32_t max);

/*
 * Latency marker (common/marker.h's encoding; the renderer cannot include
 * it, being freestanding): DEMO_MARKER_PIXELS pixels encoding t (ns,
 * CLOCK_MONOTONIC of the host) at (x, y), over everything, the pointer
 * included, added to the damage.  Written after a frame's other writes,
 * so a reader that sees the marker sees the frame.  The strip is zeroed
 * (no marker) before it is written, so a reader catching it half written
 * finds no marker rather than a mix of two times.  Skipped when the strip
 * does not fit the mode.  demo_marker_pixels just encodes.
 */
#define DEMO_MARKER_PIXELS	8
void demo_marker_pixels(uint32_t px[DEMO_MARKER_PIXELS], uint64_t t);
void demo_marker(struct demo_state *st, uint8_t *fb, const struct demo_mode *m,
    uint32_t x, uint32_t y, uint64_t t);

/* "idle", "blink", ... -> workload; -1 when unknown. */
int demo_workload_parse(const char *name);
const char *demo_workload_name(uint32_t workload);

#endif /* LFBVNC_DEMO_RENDER_H */
