/*
 * worker.h - one guest's process: backend, scanner, policy, VNC server.
 *
 * The master forks and re-executes lfbvncd for each guest
 * ("lfbvncd -W NAME -I FD -S FD"), so a crash or a hostile client in one
 * guest's session never touches another, and each worker starts from a
 * fresh address space.  The worker reads its guest's configuration (one
 * guest block) from the IPC socket, writes its status into the shared
 * status page, and exits when the master goes away or on SIGTERM.
 */
#ifndef LFBVNC_WORKER_H
#define LFBVNC_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "status.h"

/*
 * What the master sends a running worker on the IPC socket (one datagram
 * each, SOCK_SEQPACKET), after the configuration.
 */
#define WORKER_MSG_MODE	1	/* arg: the guest's mode key as read from
				   xenstore, len octets (0: key removed) */
#define WORKER_MSG_ARG	64

struct worker_msg {
	uint32_t type;
	uint32_t len;
	char arg[WORKER_MSG_ARG];
};
_Static_assert(sizeof(struct worker_msg) == 8 + WORKER_MSG_ARG,
    "no padding: one datagram is exactly one message");

/* Runs the worker's loop; returns the process exit status.
   debug_no_seccomp: serve without the seccomp filter (sandbox.h), for
   valgrind only (--debug-no-seccomp, docs/SECURITY.md). */
int worker_main(const struct conf *c, const struct conf_guest *g, int ipc_fd,
    struct worker_status *st, bool debug_no_seccomp);

/* Entry from main(): reads the configuration from ipc_fd first; logs to
   syslog when use_syslog (the master passes -s on when it has it, and
   --debug-no-seccomp). */
int worker_exec_main(const char *name, int ipc_fd, int status_fd,
    int use_syslog, bool debug_no_seccomp);

#endif /* LFBVNC_WORKER_H */
