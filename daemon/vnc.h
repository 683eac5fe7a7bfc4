/*
 * vnc.h - one guest's VNC server: libvncserver beside a libevent loop.
 *
 * libvncserver's writes block (rfbWriteExact waits up to maxClientWait on
 * a full socket), so in a single-threaded loop one stalled client would
 * stop scanning and every other client.  Each client therefore gets
 * libvncserver's own input and output threads; the worker's libevent loop
 * never performs client I/O.  It marks changed rectangles once per scan
 * (a short lock per client, never held across a send), and the output
 * threads send at once (deferUpdateTime 0).  Client threads talk back to
 * the loop only through an eventfd-signalled queue, so every callback
 * below runs on the loop's thread.
 *
 * A per-client budget bounds a stalled client: when the bytes it has not
 * read stay above the budget for longer than max_stall_ms, it is
 * disconnected with a log line.  Nothing is buffered in user space, so
 * memory per client is bounded by the socket buffers.
 *
 * Error convention: 0 or a negative errno; failures are logged here with
 * the guest's name.
 */
#ifndef LFBVNC_VNC_H
#define LFBVNC_VNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct scan_rect;
struct vnc;

struct vnc_config {
	const char *name;		/* guest name: desktop name, logs */
	const char *listen;		/* numeric address; "127.0.0.1" */
	int port;			/* RFB and websocket port */
	const char *password_file;	/* first line is the password */
	bool unsafe_no_auth;		/* allow non-loopback without auth */
	int web_port;			/* noVNC over HTTP; 0 = off */
	const char *web_dir;		/* the noVNC directory */
	uint32_t max_clients;		/* 0 = no limit */
	uint32_t max_stall_ms;		/* disconnect after this long over
					   budget; default 10000 */
	uint32_t send_budget;		/* octets unsent; default 1 MiB */
};

struct vnc_callbacks {
	void (*clients)(void *arg, uint32_t nclients);
	void (*key)(void *arg, uint32_t keysym, bool down);
	void (*pointer)(void *arg, uint32_t x, uint32_t y, uint32_t buttons);
};

struct vnc_stats {
	uint32_t clients;
	uint64_t clients_total;
	uint64_t rects_marked;
	uint64_t updates_sent;		/* FramebufferUpdates, all clients */
	uint64_t bytes_sent;		/* RFB octets, all clients */
	uint64_t input_events;
	uint64_t input_dropped;
	uint64_t stalled_dropped;	/* clients cut for a stalled socket */
	uint64_t refused;		/* over max_clients */
};

void vnc_config_defaults(struct vnc_config *cfg);

/*
 * Check what can be checked before any socket exists: the address, the
 * auth rule (no password and not loopback needs unsafe_no_auth) and the
 * password file (regular, not group/world accessible, non-empty).
 */
int vnc_config_check(const struct vnc_config *cfg, char *why, size_t whylen);

int vnc_open(struct event_base *base, const struct vnc_config *cfg,
    const struct vnc_callbacks *cb, void *arg, struct vnc **out);
void vnc_close(struct vnc *v);

/*
 * Serve `fb' (the scanner's shadow: width * bpp octets per line) in
 * lfbshm format `format'.  Before vnc_start it is only remembered.  Safe
 * while clients are connected: they get a resize (NewFBSize /
 * ExtendedDesktopSize) and a full update.
 */
int vnc_set_framebuffer(struct vnc *v, uint8_t *fb, uint32_t width,
    uint32_t height, uint32_t format);

/*
 * Start accepting clients (the listening socket is bound by vnc_open, so
 * a port clash is found early, but nobody is served before this: the
 * worker drops its privileges first).  Needs a framebuffer set.
 */
int vnc_start(struct vnc *v);

/*
 * The worker is about to write the shadow; the vnc_mark that follows,
 * with what it wrote (or nothing), ends the write.  No client's update
 * starts or ends in between (why: vnc.c, display_start).
 */
void vnc_shadow_write(struct vnc *v);

/* Mark rectangles changed; clients with a pending request get them now. */
void vnc_mark(struct vnc *v, const struct scan_rect *r, size_t n);

/* True when some client has asked for an update it has not received. */
bool vnc_wants_update(struct vnc *v);

uint32_t vnc_nclients(struct vnc *v);
void vnc_get_stats(struct vnc *v, struct vnc_stats *out);

/* The listening ports (after binding; useful when port 0 was asked). */
int vnc_port(struct vnc *v);
int vnc_web_port(struct vnc *v);

/*
 * Serve a client on a connected stream socket, as if it had been
 * accepted on the listening one (the fuzz target tests/fuzz/fuzz-vnc.c
 * feeds a socketpair through it).  Takes fd, even on failure.  After
 * vnc_start; -ECONNREFUSED when refused (max_clients, or a first message
 * libvncserver cannot take).
 */
int vnc_add_client_fd(struct vnc *v, int fd);

#endif /* LFBVNC_VNC_H */
