/*
 * xendisco.h - find the Xen guests to serve: every running HVM domain
 * whose xl configuration file says "lfbvnc = 1".
 *
 * xl keeps no copy of a domain's configuration text and drops keys it
 * does not know, so the files themselves are read (with libxlutil, the
 * parser xl uses) from the configured directories, and matched by `name'
 * against /local/domain/<domid>/name in xenstore.  xenstore watches on
 * @introduceDomain and @releaseDomain keep the set current: a guest is
 * attached when it appears and detached when it goes.  A daemon restart
 * finds running guests by the same scan, without disturbing them.  A
 * watch on each served guest's data/lfbvnc/mode key passes a new mode to
 * its worker, which keeps no xenstore access of its own (backend-xen.c).
 *
 * The keys read from an xl file (docs/XEN.md):
 *   lfbvnc = 1                    serve this guest
 *   lfbvnc_listen = "127.0.0.1"   lfbvnc_port = 5901
 *   lfbvnc_passwordfile = "/etc/lfbvnc/g.passwd"
 *   lfbvnc_mode = "1024x768x32"   lfbvnc_web = 1   lfbvnc_web_port = 5801
 *   lfbvnc_max_rate, lfbvnc_clean_scans, lfbvnc_max_interval,
 *   lfbvnc_backoff_interval, lfbvnc_fallback_interval
 *                                 scan policy overrides
 *   lfbvnc_max_clients            VNC clients at once
 * The guest must then pass conf_guest_check, as a guest block of
 * lfbvncd.conf does (the relations between the intervals, say).  A guest
 * that also enables QEMU's own display (vnc not 0, sdl, spice) is
 * refused: a second dirty-VRAM poller steals our bits.  Every refused
 * file is logged with its path and the reason, once: again only when
 * the file changes (its inode, size, mtime or ctime), or after SIGHUP.
 *
 * Error convention: 0 or a negative errno (xendisco_parse_xl and
 * xendisco_find_xl: 1 for a guest to serve); problems with one guest are
 * logged and skip that guest only.
 */
#ifndef LFBVNC_XENDISCO_H
#define LFBVNC_XENDISCO_H

/* The longest mode key passed on; longer ones are cut, and refused by
   the worker's parser (xenmode.h allows 40 characters). */
#define XENDISCO_MODE_MAX	64

#include <sys/types.h>
#include <time.h>

#include "conf.h"

struct event_base;
struct xendisco;

struct xendisco_ops {
	/* A guest to serve appeared (g->domid set); 0 or -errno. */
	int (*attach)(void *arg, const struct conf_guest *g);
	/* A served guest's domain is gone (or its domid changed). */
	void (*detach)(void *arg, const char *name, uint32_t domid);
	/* Is a guest of this name attached? */
	bool (*attached)(void *arg, const char *name, uint32_t domid);
	/* A served guest's data/lfbvnc/mode key was written (len octets,
	   at most XENDISCO_MODE_MAX, unvalidated) or removed (len 0). */
	void (*mode)(void *arg, const char *name, uint32_t domid,
	    const char *value, size_t len);
};

/*
 * Parse one xl configuration text into *g (starting from the defaults in
 * *g); 1 when it asks for lfbvnc, 0 when not, or -errno with a reason
 * (a refused guest).  Public for the tests and the fuzzer.
 */
int xendisco_parse_xl(struct conf *c, struct conf_guest *g,
    const char *text, size_t len, const char *file, char *why,
    size_t whylen);

/*
 * The refused xl files already logged, as they were then.  Bounded: past
 * XENDISCO_REFUSED_MAX files the oldest entry is reused, so with more bad
 * files than that some are logged again at each rescan.
 */
#define XENDISCO_REFUSED_MAX	CONF_MAX_GUESTS
struct xendisco_refused {
	size_t n;		/* entries in use */
	size_t next;		/* the one reused when all are */
	struct {
		char path[CONF_PATH_MAX * 2];
		dev_t dev;
		ino_t ino;
		off_t size;
		struct timespec mtime, ctime;
	} f[XENDISCO_REFUSED_MAX];
};

/*
 * Look through c's xl-config-dirs for the file of the running domain
 * `name': 1 and *g filled when one asks for lfbvnc, else 0.  Every file
 * that mentions lfbvnc is parsed, and each refusal logged (log_warnx)
 * unless *r, zeroed to start with, says it already was.  Public for the
 * tests; xendisco_open's scans use it.
 */
int xendisco_find_xl(struct conf *c, struct xendisco_refused *r,
    const char *name, struct conf_guest *g);

/* True when this machine is a Xen dom0 (control domain). */
bool xendisco_is_dom0(void);

int xendisco_open(struct event_base *base, struct conf *c,
    const struct xendisco_ops *ops, void *arg, struct xendisco **out);
/* Re-read the xl files and rescan the domains (SIGHUP). */
void xendisco_rescan(struct xendisco *d);
void xendisco_close(struct xendisco *d);

#endif /* LFBVNC_XENDISCO_H */
