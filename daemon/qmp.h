/*
 * qmp.h - the few QEMU Machine Protocol exchanges the Xen backend needs
 * with a guest's device model (qemu-xen): find the VGA BAR (query-pci) and
 * inject input (input-send-event).
 *
 * libxl itself uses /var/run/xen/qmp-libxl-<domid> and QEMU serves one
 * client per QMP socket at a time, so every exchange connects, talks and
 * disconnects at once, bounded by a timeout.  QEMU's replies are parsed as
 * hostile input with the bounded reader of common/json-read.h.
 *
 * Error convention: 0 or a negative errno, with a reason in `why'.
 */
#ifndef LFBVNC_QMP_H
#define LFBVNC_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QMP_REPLY_MAX	(512 * 1024)	/* query-pci of a big guest fits */

struct qmp_input {
	enum { QMP_IN_KEY, QMP_IN_POINTER } type;
	uint32_t keysym;	/* KEY: X11 keysym */
	bool down;
	uint32_t x, y;		/* POINTER: pixels */
	uint32_t width, height;	/* POINTER: of the screen, for scaling */
	uint32_t buttons;	/* POINTER: RFB button mask */
	uint32_t prev_buttons;	/* POINTER: mask of the previous event */
};

/* The path of a domain's libxl QMP socket. */
int qmp_socket_path(uint32_t domid, char *buf, size_t len);

/*
 * Connect, negotiate capabilities, run query-pci, disconnect, and find the
 * first display-class device (PCI class 0x03xx): its BAR 0 memory region.
 */
int qmp_query_vga_bar(const char *path, int timeout_ms, uint64_t *addr,
    uint64_t *size, char *why, size_t whylen);

/* The query-pci answer (a JSON document) -> BAR 0 of the VGA device. */
int qmp_parse_vga_bar(const char *json, size_t len, uint64_t *addr,
    uint64_t *size, char *why, size_t whylen);

/*
 * Send a batch of input events in one connection (input-send-event).
 * Keys map from X keysyms to QEMU qcodes (US layout); a keysym without a
 * qcode is skipped and counted in *skipped.
 */
int qmp_send_input(const char *path, int timeout_ms,
    const struct qmp_input *ev, size_t n, size_t *skipped, char *why,
    size_t whylen);

/* X keysym -> QEMU qcode name, NULL when there is none. */
const char *qmp_keysym_qcode(uint32_t keysym);

#endif /* LFBVNC_QMP_H */
