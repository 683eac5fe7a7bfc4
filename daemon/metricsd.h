/*
 * metricsd.h - the optional Prometheus endpoint (`metrics-listen' in
 * lfbvncd.conf): an unprivileged child process that serves HTTP, and the
 * master's end of its link.
 *
 * HTTP from the network is parsed only in the child.  The master binds
 * the listening socket (so a port below 1024 works as root), creates a
 * socketpair, then forks and re-executes lfbvncd as
 * "lfbvncd -M 3 -I 4 -U USER": fd 3 is the listener, fd 4 the link.
 * The child switches to USER (privdrop.h), applies the workers' seccomp
 * filter (sandbox.h), bounds its descriptors, and serves GET and HEAD of
 * /metrics with libevent's evhttp (404 for another path, 405 for another
 * method, 413 for oversized headers, 10 s timeouts).
 *
 * The link: for each scrape (concurrent ones share one) the child writes
 * one octet; the master renders the text (the master's render callback,
 * metrics.h) and answers with a 4-octet length in network order, then
 * that many octets, at most METRICSD_REPLY_MAX; length 0 means "nothing
 * to serve" (the child answers 503).  The master treats the child as
 * untrusted: it reads one octet per request and nothing more until its
 * reply is written, renders at most every METRICSD_MIN_GAP_MS, never
 * blocks on the link (non-blocking writes of an evbuffer), and kills a
 * child that leaves a reply unread for METRICSD_STALL_MS.  A child that
 * dies is restarted with the workers' back-off.
 *
 * Error convention: 0 or a negative errno, with a log line.
 */
#ifndef LFBVNC_METRICSD_H
#define LFBVNC_METRICSD_H

#include <stdbool.h>
#include <sys/types.h>

struct evbuffer;
struct event_base;
struct metricsd;

#define METRICSD_REPLY_MAX	(2 * 1024 * 1024)
#define METRICSD_MIN_GAP_MS	100
#define METRICSD_STALL_MS	10000

/* Appends the exposition text to out; 0 or a negative errno. */
typedef int (*metricsd_render_fn)(void *arg, struct evbuffer *out);

/*
 * Master side.  metricsd_open binds spec (conf.h, conf_listen_parse),
 * logs where, and starts the child, which runs as user ("" = stays as
 * the master) from the executable self; use_syslog passes -s on,
 * no_seccomp --debug-no-seccomp (valgrind only).
 */
int metricsd_open(struct event_base *base, const char *spec,
    const char *user, const char *self, bool use_syslog, bool no_seccomp,
    metricsd_render_fn render, void *arg, struct metricsd **out);

/* From the master's SIGCHLD handler: true if pid was the child (reaped
   with status). */
bool metricsd_reaped(struct metricsd *md, pid_t pid, int status);

/* SIGTERM to the child, and no more restarts. */
void metricsd_stop(struct metricsd *md);

/* Stops the child (a bounded wait, then SIGKILL) and frees; NULL is ok. */
void metricsd_close(struct metricsd *md);

/* The child, from main(); returns the process exit status. */
int metricsd_child_main(int listen_fd, int link_fd, const char *user,
    int use_syslog, bool no_seccomp);

#endif /* LFBVNC_METRICSD_H */
