/* qmp.c - short QMP exchanges with qemu-xen; see qmp.h. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "json-read.h"
#include "qmp.h"

#define QMP_DIR		"/var/run/xen"

int
qmp_socket_path(uint32_t domid, char *buf, size_t len)
{
	int n = snprintf(buf, len, QMP_DIR "/qmp-libxl-%u", domid);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct qmp {
	int fd;
	int64_t deadline;
	char *buf;		/* received, not yet consumed */
	size_t len;
};

static int
qmp_connect(struct qmp *q, const char *path, int timeout_ms, char *why,
    size_t whylen)
{
	struct sockaddr_un sun;

	memset(q, 0, sizeof(*q));
	q->deadline = now_ms() + timeout_ms;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(why, whylen, "QMP socket path too long");
		return -ENAMETOOLONG;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd == -1 ||
	    connect(q->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int e = errno;

		snprintf(why, whylen, "QMP %s: %s", path, strerror(e));
		if (q->fd != -1)
			close(q->fd);
		q->fd = -1;
		return -e;
	}
	q->buf = malloc(QMP_REPLY_MAX + 1);
	if (q->buf == NULL) {
		close(q->fd);
		return -ENOMEM;
	}
	return 0;
}

static void
qmp_close(struct qmp *q)
{
	if (q->fd != -1)
		close(q->fd);
	free(q->buf);
	q->fd = -1;
	q->buf = NULL;
}

static int
qmp_write(struct qmp *q, const char *s, char *why, size_t whylen)
{
	size_t len = strlen(s), off = 0;
	ssize_t n;

	while (off < len) {
		n = send(q->fd, s + off, len - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, whylen, "QMP send: %s", strerror(errno));
			return -errno;
		}
		off += (size_t)n;
	}
	return 0;
}

/*
 * Read one line (QMP sends one JSON document per line) into the start of
 * q->buf, NUL-terminated; the rest stays buffered.  Returns its length.
 */
static int
qmp_read_line(struct qmp *q, size_t *linelen, char *why, size_t whylen)
{
	struct pollfd pfd = { q->fd, POLLIN, 0 };
	char *nl;
	int64_t left;
	ssize_t n;

	for (;;) {
		nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;
		if (nl != NULL) {
			*nl = '\0';
			*linelen = (size_t)(nl - q->buf);
			return 0;
		}
		if (q->len >= QMP_REPLY_MAX) {
			snprintf(why, whylen, "QMP reply over %d octets",
			    QMP_REPLY_MAX);
			return -E2BIG;
		}
		left = q->deadline - now_ms();
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			snprintf(why, whylen, "QMP: no answer in time");
			return -ETIMEDOUT;
		}
		n = recv(q->fd, q->buf + q->len, QMP_REPLY_MAX - q->len, 0);
		if (n == 0) {
			snprintf(why, whylen, "QMP: the device model hung up");
			return -EPIPE;
		}
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(why, whylen, "QMP recv: %s", strerror(errno));
			return -errno;
		}
		q->len += (size_t)n;
	}
}

static void
qmp_consume(struct qmp *q, size_t linelen)
{
	size_t used = linelen + 1;

	memmove(q->buf, q->buf + used, q->len - used);
	q->len -= used;
}

/*
 * Read documents until one that answers a command ("return" or "error");
 * asynchronous events are skipped.  On success *doc holds the "return".
 */
static int
qmp_reply(struct qmp *q, struct jr_doc **doc, const struct jr_value **ret,
    char *why, size_t whylen)
{
	const struct jr_value *root, *err;
	size_t len = 0;
	int rc;

	for (;;) {
		if ((rc = qmp_read_line(q, &len, why, whylen)) < 0)
			return rc;
		rc = jr_parse(q->buf, len, doc, why, whylen);
		qmp_consume(q, len);
		if (rc < 0)
			return -EPROTO;
		root = jr_root(*doc);
		if ((*ret = jr_get(root, "return")) != NULL)
			return 0;
		if ((err = jr_get(root, "error")) != NULL) {
			const char *desc = jr_string(jr_get(err, "desc"));

			snprintf(why, whylen, "QMP error: %s",
			    desc ? desc : "(no description)");
			jr_free(*doc);
			*doc = NULL;
			return -EIO;
		}
		jr_free(*doc);	/* an event or the greeting */
		*doc = NULL;
	}
}

static int
qmp_execute(struct qmp *q, const char *cmd, struct jr_doc **doc,
    const struct jr_value **ret, char *why, size_t whylen)
{
	int rc;

	if ((rc = qmp_write(q, cmd, why, whylen)) < 0)
		return rc;
	return qmp_reply(q, doc, ret, why, whylen);
}

/* Greeting, then capabilities negotiation: required before any command. */
static int
qmp_open(struct qmp *q, const char *path, int timeout_ms, char *why,
    size_t whylen)
{
	struct jr_doc *doc = NULL;
	const struct jr_value *ret;
	int rc;

	if ((rc = qmp_connect(q, path, timeout_ms, why, whylen)) < 0)
		return rc;
	rc = qmp_execute(q, "{\"execute\":\"qmp_capabilities\"}\n", &doc, &ret,
	    why, whylen);
	jr_free(doc);
	if (rc < 0)
		qmp_close(q);
	return rc;
}

static int
find_vga(const struct jr_value *devices, int depth, uint64_t *addr,
    uint64_t *size)
{
	const struct jr_value *d, *r, *bridge;
	uint64_t cls, bar, a, s;
	const char *type;

	if (depth > 4)
		return -ELOOP;
	for (d = jr_first(devices); d != NULL; d = jr_next(d)) {
		bridge = jr_get(jr_get(d, "pci_bridge"), "devices");
		if (bridge != NULL && find_vga(bridge, depth + 1, addr,
		    size) == 0)
			return 0;
		if (!jr_u64(jr_get(jr_get(d, "class_info"), "class"), &cls) ||
		    (cls >> 8) != 0x03)
			continue;
		for (r = jr_first(jr_get(d, "regions")); r != NULL;
		    r = jr_next(r)) {
			type = jr_string(jr_get(r, "type"));
			if (!jr_u64(jr_get(r, "bar"), &bar) || bar != 0 ||
			    type == NULL || strcmp(type, "memory") != 0 ||
			    !jr_u64(jr_get(r, "address"), &a) ||
			    !jr_u64(jr_get(r, "size"), &s))
				continue;
			/* Unassigned BARs read as all ones or 0. */
			if (s == 0 || s % 4096 != 0 || a % 4096 != 0 ||
			    a == 0 || a + s < a)
				continue;
			*addr = a;
			*size = s;
			return 0;
		}
	}
	return -ENOENT;
}

int
qmp_parse_vga_bar(const char *json, size_t len, uint64_t *addr,
    uint64_t *size, char *why, size_t whylen)
{
	struct jr_doc *doc = NULL;
	const struct jr_value *root, *ret, *bus;
	int rc;

	if (jr_parse(json, len, &doc, why, whylen) < 0)
		return -EPROTO;
	root = jr_root(doc);
	ret = jr_get(root, "return");
	if (ret == NULL)
		ret = root;
	rc = -ENOENT;
	for (bus = jr_first(ret); bus != NULL && rc != 0; bus = jr_next(bus))
		rc = find_vga(jr_get(bus, "devices"), 0, addr, size);
	if (rc != 0)
		snprintf(why, whylen, "no display device with a memory BAR 0 "
		    "in query-pci");
	jr_free(doc);
	return rc;
}

int
qmp_query_vga_bar(const char *path, int timeout_ms, uint64_t *addr,
    uint64_t *size, char *why, size_t whylen)
{
	struct qmp q;
	struct jr_doc *doc = NULL;
	const struct jr_value *ret, *bus;
	int rc;

	if ((rc = qmp_open(&q, path, timeout_ms, why, whylen)) < 0)
		return rc;
	rc = qmp_execute(&q, "{\"execute\":\"query-pci\"}\n", &doc, &ret, why,
	    whylen);
	if (rc == 0) {
		rc = -ENOENT;
		for (bus = jr_first(ret); bus != NULL && rc != 0;
		    bus = jr_next(bus))
			rc = find_vga(jr_get(bus, "devices"), 0, addr, size);
		if (rc != 0)
			snprintf(why, whylen, "no display device with a "
			    "memory BAR 0 in query-pci");
	}
	jr_free(doc);
	qmp_close(&q);
	return rc;
}

/* ------------------------------------------------------------ input */

static const struct {
	uint32_t keysym;
	const char *qcode;
} qcodes[] = {
	{ 0xff08, "backspace" }, { 0xff09, "tab" }, { 0xff0d, "ret" },
	{ 0xff1b, "esc" }, { 0xff50, "home" }, { 0xff51, "left" },
	{ 0xff52, "up" }, { 0xff53, "right" }, { 0xff54, "down" },
	{ 0xff55, "pgup" }, { 0xff56, "pgdn" }, { 0xff57, "end" },
	{ 0xff63, "insert" }, { 0xffff, "delete" }, { 0xff8d, "kp_enter" },
	{ 0xffe1, "shift" }, { 0xffe2, "shift_r" }, { 0xffe3, "ctrl" },
	{ 0xffe4, "ctrl_r" }, { 0xffe5, "caps_lock" }, { 0xffe7, "meta_l" },
	{ 0xffe8, "meta_r" }, { 0xffe9, "alt" }, { 0xffea, "alt_r" },
	{ 0xffeb, "meta_l" }, { 0xffec, "meta_r" }, { 0xff7f, "num_lock" },
	{ 0xff14, "scroll_lock" }, { 0xff13, "pause" }, { 0xff61, "sysrq" },
	{ 0xff67, "menu" },
	{ ' ', "spc" }, { '-', "minus" }, { '_', "minus" }, { '=', "equal" },
	{ '+', "equal" }, { '[', "bracket_left" }, { '{', "bracket_left" },
	{ ']', "bracket_right" }, { '}', "bracket_right" },
	{ '\\', "backslash" }, { '|', "backslash" }, { ';', "semicolon" },
	{ ':', "semicolon" }, { '\'', "apostrophe" }, { '"', "apostrophe" },
	{ '`', "grave_accent" }, { '~', "grave_accent" }, { ',', "comma" },
	{ '<', "comma" }, { '.', "dot" }, { '>', "dot" }, { '/', "slash" },
	{ '?', "slash" }, { '!', "1" }, { '@', "2" }, { '#', "3" },
	{ '$', "4" }, { '%', "5" }, { '^', "6" }, { '&', "7" }, { '*', "8" },
	{ '(', "9" }, { ')', "0" },
};

const char *
qmp_keysym_qcode(uint32_t keysym)
{
	static const char *letters[26] = { "a", "b", "c", "d", "e", "f", "g",
	    "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t",
	    "u", "v", "w", "x", "y", "z" };
	static const char *digits[10] = { "0", "1", "2", "3", "4", "5", "6",
	    "7", "8", "9" };
	static const char *fkeys[12] = { "f1", "f2", "f3", "f4", "f5", "f6",
	    "f7", "f8", "f9", "f10", "f11", "f12" };
	size_t i;

	/* The client sends Shift itself: 'A' is the "a" key. */
	if (keysym >= 'a' && keysym <= 'z')
		return letters[keysym - 'a'];
	if (keysym >= 'A' && keysym <= 'Z')
		return letters[keysym - 'A'];
	if (keysym >= '0' && keysym <= '9')
		return digits[keysym - '0'];
	if (keysym >= 0xffbe && keysym <= 0xffc9)
		return fkeys[keysym - 0xffbe];
	for (i = 0; i < sizeof(qcodes) / sizeof(qcodes[0]); i++)
		if (qcodes[i].keysym == keysym)
			return qcodes[i].qcode;
	return NULL;
}

/* Appends one input-send-event command for ev to buf. */
static int
format_event(const struct qmp_input *ev, char *buf, size_t len,
    size_t *skipped)
{
	static const char *buttons[] = { "left", "middle", "right",
	    "wheel-up", "wheel-down" };
	const char *qcode;
	char events[1024];
	size_t n = 0;
	unsigned int b;
	uint64_t ax, ay;

	if (ev->type == QMP_IN_KEY) {
		if ((qcode = qmp_keysym_qcode(ev->keysym)) == NULL) {
			(*skipped)++;
			return 0;
		}
		return snprintf(buf, len, "{\"execute\":\"input-send-event\","
		    "\"arguments\":{\"events\":[{\"type\":\"key\",\"data\":"
		    "{\"down\":%s,\"key\":{\"type\":\"qcode\",\"data\":\"%s\"}}}"
		    "]}}\n", ev->down ? "true" : "false", qcode);
	}
	/* Absolute axes are 0..0x7fff over the screen (a USB tablet). */
	ax = ev->width > 1 ? (uint64_t)ev->x * 0x7fff / (ev->width - 1) : 0;
	ay = ev->height > 1 ? (uint64_t)ev->y * 0x7fff / (ev->height - 1) :
	    0;
	n = (size_t)snprintf(events, sizeof(events),
	    "{\"type\":\"abs\",\"data\":{\"axis\":\"x\",\"value\":%llu}},"
	    "{\"type\":\"abs\",\"data\":{\"axis\":\"y\",\"value\":%llu}}",
	    (unsigned long long)ax, (unsigned long long)ay);
	for (b = 0; b < 5 && n < sizeof(events); b++) {
		if (((ev->buttons ^ ev->prev_buttons) >> b & 1) == 0)
			continue;
		n += (size_t)snprintf(events + n, sizeof(events) - n,
		    ",{\"type\":\"btn\",\"data\":{\"down\":%s,\"button\":"
		    "\"%s\"}}", (ev->buttons >> b & 1) ? "true" : "false",
		    buttons[b]);
	}
	return snprintf(buf, len, "{\"execute\":\"input-send-event\","
	    "\"arguments\":{\"events\":[%s]}}\n", events);
}

int
qmp_send_input(const char *path, int timeout_ms, const struct qmp_input *ev,
    size_t n, size_t *skipped, char *why, size_t whylen)
{
	struct qmp q;
	struct jr_doc *doc;
	const struct jr_value *ret;
	char cmd[1536];
	size_t i;
	int rc, len;

	*skipped = 0;
	if ((rc = qmp_open(&q, path, timeout_ms, why, whylen)) < 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		len = format_event(&ev[i], cmd, sizeof(cmd), skipped);
		if (len <= 0)
			continue;
		if ((size_t)len >= sizeof(cmd)) {
			rc = -E2BIG;
			break;
		}
		doc = NULL;
		rc = qmp_execute(&q, cmd, &doc, &ret, why, whylen);
		jr_free(doc);
	}
	qmp_close(&q);
	return rc;
}
