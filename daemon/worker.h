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

#include "conf.h"
#include "status.h"

/* Runs the worker's loop; returns the process exit status. */
int worker_main(const struct conf *c, const struct conf_guest *g, int ipc_fd,
    struct worker_status *st);

/* Entry from main(): reads the configuration from ipc_fd first; logs to
   syslog when use_syslog (the master passes -s on when it has it). */
int worker_exec_main(const char *name, int ipc_fd, int status_fd,
    int use_syslog);

#endif /* LFBVNC_WORKER_H */
