/*
 * control.h - lfbvncd's control socket (lfbvncctl talks to it).
 *
 * A unix stream socket, mode 0660, owned by the daemon's user and, when
 * "control-group" is set, by that group.  One request per connection:
 * the client sends ONE line of at most CONTROL_LINE_MAX octets ending in
 * "\n" (or ends its side of the connection after the line); the server
 * answers with one JSON document on one line ending in "\n", then closes.
 *
 * Request: words separated by blanks; a word may be "quoted" with \" and
 * \\ escapes (for paths with blanks).  Printable ASCII only.  Commands
 * (one table in control.c drives parsing and "help"):
 *
 *   status                          ops->status writes the body
 *   attach NAME SOCKET [key=value ...]   at most CONTROL_MAX_OPTS options
 *   detach NAME
 *   reload
 *   help                            the command table
 *
 * Replies:
 *   error:   {"ok":false,"error":"why"}
 *   status:  the document ops->status wrote, by convention
 *            {"ok":true,"guests":[{"name":"demo","pid":123,...,
 *            "state":"polling",... the json_worker_status() keys}, ...]};
 *            lfbvncctl shows the members it knows and ignores the rest,
 *            and shows "-" for a missing one (a worker whose page cannot
 *            be read has only name, pid and a "state" such as
 *            "starting").
 *   attach, detach, reload: {"ok":true} or {"ok":true,"message":"..."}
 *            when the op left a message in why.
 *   help:    {"ok":true,"protocol":1,"commands":[{"name":"attach",
 *            "args":"NAME SOCKET [key=value ...]","help":"..."}, ...]}
 *
 * Who may connect: the socket's mode lets the kernel admit the owner and
 * the group's members (supplementary groups included); the server then
 * checks SO_PEERCRED itself and admits uid 0, the daemon's own uid, a
 * peer whose effective gid is the control group, or a user listed as a
 * member of the group in the group database (read once, at
 * control_open: a change takes effect at the next open).  Others get
 * {"ok":false,"error":"permission denied"} and a log line.  Every
 * admitted peer may run every command; attach, detach and reload are
 * logged with the peer's uid and pid.
 *
 * Limits: CONTROL_MAX_CONN connections at once (CONTROL_MAX_PER_UID for
 * one uid other than root).  When all are taken, a new peer takes the
 * slot of the oldest connection older than CONTROL_EVICT_MS (which is
 * told "evicted" and closed, with a log line): peers that hold
 * connections without a request cannot lock the others out.  Otherwise
 * the excess is answered with an error and closed at once, never
 * queued.  A request must arrive whole within the
 * timeout (CONTROL_TIMEOUT_MS from accept: an absolute deadline, so a
 * trickling peer cannot hold a slot), and the reply must be taken within
 * the same time again.  At most CONTROL_ACCEPT_BURST connections are
 * accepted per loop iteration, and running out of descriptors pauses
 * accepting for a second, so a flood cannot stall the loop.
 *
 * The ops run on the loop's thread and must not block for long; they
 * must not call control_close() (defer it, e.g. with event_base_once).
 * The process must ignore SIGPIPE: a peer may leave before its reply is
 * written, and libevent writes with writev().
 *
 * Error convention: 0 or a negative errno; failures are logged here.
 */
#ifndef LFBVNC_CONTROL_H
#define LFBVNC_CONTROL_H

#include <stddef.h>

#define CONTROL_PROTOCOL	1
#define CONTROL_LINE_MAX	4096	/* octets, without the newline */
#define CONTROL_MAX_CONN	16
#define CONTROL_MAX_PER_UID	8
#define CONTROL_MAX_OPTS	32
#define CONTROL_TIMEOUT_MS	5000
#define CONTROL_EVICT_MS	250
#define CONTROL_ACCEPT_BURST	16
#define CONTROL_MAX_ARGS	(3 + CONTROL_MAX_OPTS)	/* words, command too */

struct event_base;
struct evbuffer;
struct control;

struct control_ops {
	/*
	 * Write the whole reply, one JSON object with "ok":true, into out
	 * (no newline); on failure (< 0) out is discarded and an error sent.
	 */
	int (*status)(void *arg, struct evbuffer *out);
	/* name is valid (conf_guest_name_ok); opts are "key=value". */
	int (*attach)(void *arg, const char *name, const char *socket,
	    int nopts, char **opts, char *why, size_t whylen);
	int (*detach)(void *arg, const char *name, char *why, size_t whylen);
	int (*reload)(void *arg, char *why, size_t whylen);
};

/* A parsed request.  argv points into line: do not copy the struct. */
struct control_request {
	const char *command;		/* "status", "attach", ... */
	int argc;			/* words, the command's included */
	char *argv[CONTROL_MAX_ARGS];
	char line[CONTROL_LINE_MAX + 1];
};

/*
 * Parse one request: the len octets a peer sent before its newline (or
 * before it ended its side), a trailing "\r" dropped.  Checks all that
 * needs no daemon state: printable ASCII, quoting, the command, its word
 * count and the arguments' syntax (guest names, key=value options).
 * 0, or -EINVAL with the reply's error text in why.  No I/O and no
 * allocation: the server answers every request through it, and the fuzz
 * target tests/fuzz/fuzz-control.c drives it directly.
 */
int control_parse_request(const char *buf, size_t len,
    struct control_request *req, char *why, size_t whylen);

/*
 * Create the socket at path and serve it on base.  A socket file left by
 * a dead daemon is removed (stat, S_ISSOCK, a test connect that is
 * refused, unlink); a live one, or anything that is not a socket, makes
 * this fail with -EADDRINUSE or -EEXIST.  The parent directory must
 * exist.  group may be NULL or "".  A NULL op answers "not supported".
 * The umask is changed around bind(): call this before starting threads
 * that create files.
 */
int control_open(struct event_base *base, const char *path,
    const char *group, const struct control_ops *ops, void *arg,
    struct control **out);

/* Stop serving, drop every connection, unlink the socket if still ours. */
void control_close(struct control *ctl);

/* For tests: the request and reply deadline of new connections. */
void control_set_timeout(struct control *ctl, unsigned int ms);

#endif /* LFBVNC_CONTROL_H */
