/*
 * conf.h - lfbvncd's configuration: the file format's data model.
 *
 * The file (default /etc/lfbvnc/lfbvncd.conf, documented in
 * docs/lfbvncd.conf.5 and docs/CONFIGURATION.md) is a list of global
 * settings followed by guest blocks:
 *
 *	# comment
 *	control /run/lfbvnc/control.sock
 *	max-rate 60
 *	guest demo {
 *		socket /run/lfbvnc/demo.sock
 *		port 5900
 *		web-port 5800
 *	}
 *
 * One setting per line: a keyword, one value (a bare word or a "quoted
 * string" with \" and \\ escapes).  Settings a guest block does not give
 * are inherited from the globals (listen, password-file, web, the scan
 * policy).  A global applies to every guest wherever it appears in the
 * file, before or after the guest's block: the file reads as a set, not
 * a sequence.  The file is untrusted input: every length is bounded,
 * numbers are range-checked, and an error names the file, line and problem.
 *
 * Error convention: 0 or a negative errno; parse errors write one line
 * for people ("FILE:LINE: problem") into the caller's buffer.
 */
#ifndef LFBVNC_CONF_H
#define LFBVNC_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define CONF_NAME_MAX	64	/* guest names: [A-Za-z0-9._-], 1..64,
				   not starting with '.' or '-' */
#define CONF_PATH_MAX	256
#define CONF_ADDR_MAX	64
#define CONF_LISTEN_MAX	(CONF_ADDR_MAX + 8)	/* "[ADDR]:PORT" */
#define CONF_MAX_GUESTS	256
#define CONF_LINE_MAX	1024	/* octets, without the newline */
#define CONF_FILE_MAX	(1024 * 1024)
#define CONF_FORMAT_MAX	4096	/* conf_guest_format's output, with NUL */

enum conf_backend {
	CONF_BACKEND_LFBSHM = 0,	/* a provider's unix socket */
	CONF_BACKEND_XEN,		/* a Xen domain (the Xen issue) */
};

/* What a guest's worker needs; plain data, safe to copy. */
struct conf_guest {
	char name[CONF_NAME_MAX + 1];
	enum conf_backend backend;
	char socket[CONF_PATH_MAX];	/* lfbshm provider socket */
	char listen[CONF_ADDR_MAX];	/* numeric address */
	int port;			/* RFB + websocket; 0 = ephemeral */
	char password_file[CONF_PATH_MAX];	/* "" = none */
	bool web;			/* serve noVNC */
	int web_port;			/* 0 = no web client */
	bool unsafe_no_auth;		/* non-loopback without password */
	uint32_t max_clients;		/* 0 = unlimited */
	uint32_t tile;			/* scanner tile edge, pixels */
	bool force_compare;		/* ignore the tracker (benchmarks) */
	uint32_t max_stall_ms;		/* drop a client not reading this long */
	char mode[48];			/* xen: "WxHxBPP[@stride]", "" = from
					   the guest's xenstore key only */
	uint32_t domid;			/* xen: set by the master at run time */
	struct policy_params policy;
	uint32_t given;			/* settings given in the guest's own
					   block (or conf_set on it): these
					   are not overridden by globals */
};

struct conf {
	char control[CONF_PATH_MAX];	/* control socket path */
	char control_group[CONF_NAME_MAX + 1];	/* may also use it */
	char watch_dir[CONF_PATH_MAX];	/* auto-attach *.sock; "" = off */
	int watch_port_base;		/* first port for auto-attached */
	char web_dir[CONF_PATH_MAX];	/* noVNC directory */
	char user[CONF_NAME_MAX + 1];	/* workers drop to this user */
	char xl_config_dirs[CONF_PATH_MAX];	/* ':'-separated; "" = no
					   Xen discovery */
	char metrics_listen[CONF_LISTEN_MAX];	/* Prometheus endpoint,
					   "" = off (conf_listen_parse) */
	struct conf_guest defaults;	/* globals, inherited by guests */
	size_t nguests;
	struct conf_guest guests[CONF_MAX_GUESTS];
};

/* Built-in defaults (loopback, port 5900, web off, policy defaults). */
void conf_init(struct conf *c);

/*
 * Parse a file (a regular file of at most CONF_FILE_MAX octets, not
 * writable by group or others) on top of *c, which conf_init prepared.
 * On error nothing in *c is to be used.  Run conf_check afterwards (after
 * any conf_set overrides).
 */
int conf_load(struct conf *c, const char *path, char *why, size_t whylen);

/*
 * Parse text (for tests, the fuzzer and a worker's guest block) on top of
 * *c; name is the file name used in messages.
 */
int conf_parse(struct conf *c, const char *name, const char *text,
    size_t len, char *why, size_t whylen);

/*
 * Apply one override (command line -o, or attach's options) to the
 * globals (guest == NULL) or to one guest.  The keywords are the file's;
 * the value is taken as is (no quoting).  A guest setting applied to the
 * globals also reaches every guest in c that did not give it itself.
 * conf_set_option takes "key=value" in one string.  Messages:
 * "KEY: problem".
 */
int conf_set(struct conf *c, struct conf_guest *guest, const char *key,
    const char *value, char *why, size_t whylen);
int conf_set_option(struct conf *c, struct conf_guest *guest,
    const char *option, char *why, size_t whylen);

/*
 * Cross-checks after loading: the globals' scan policy, every guest
 * through conf_guest_check, then unique names and ports across guests.
 */
int conf_check(const struct conf *c, char *why, size_t whylen);

/*
 * The checks of one guest on its own, wherever it comes from (a guest
 * block, an xl file): its name, its scan policy (ranges and the
 * relations between the intervals), a socket for lfbshm, its port and
 * web-port apart (a negative port, still to be allocated, is not
 * compared).  Messages: "guest NAME: problem".
 */
int conf_guest_check(const struct conf_guest *g, char *why, size_t whylen);

const struct conf_guest *conf_find(const struct conf *c, const char *name);

/*
 * A listener given as "PORT" (meaning 127.0.0.1:PORT), "IPV4:PORT" or
 * "[IPV6]:PORT", numeric only, port 1..65535: the address (without
 * brackets) into addr, its family (AF_INET or AF_INET6) and the port.
 * Returns 0, or -EINVAL with the reason in why.
 */
int conf_listen_parse(const char *spec, char addr[CONF_ADDR_MAX],
    int *family, int *port, char *why, size_t whylen);
bool conf_guest_name_ok(const char *name);

/*
 * Serialise one guest as a block conf_parse reads back (the master hands
 * a worker its configuration this way).  Every setting is written, so the
 * parsed copy equals *g whatever the reader's globals are (its "given"
 * then has every bit set).  Returns the length, or -ENOSPC, or -EINVAL
 * for a guest with an invalid name.  CONF_FORMAT_MAX is always enough.
 */
int conf_guest_format(const struct conf_guest *g, char *buf, size_t len);

#endif /* LFBVNC_CONF_H */
