/*
 * master.h - lfbvncd's privileged parent: configuration, one worker per
 * guest (spawned, watched, restarted with back-off), the control socket,
 * SIGHUP reload and SIGTERM shutdown.  It never touches guest pixels or
 * network clients.
 */
#ifndef LFBVNC_MASTER_H
#define LFBVNC_MASTER_H

#include "conf.h"

/*
 * Run until SIGTERM/SIGINT.  conf is the loaded configuration (guests from
 * the file plus command-line ones); conf_path is re-read on SIGHUP (NULL:
 * nothing to reload).  self is the executable workers are started from.
 * use_syslog: the master logs to syslog (-s), so its workers must too.
 * debug_no_seccomp: its workers serve without their seccomp filter
 * (--debug-no-seccomp, for valgrind only; docs/SECURITY.md).
 * Returns the exit status.
 */
int master_main(struct conf *conf, const char *conf_path,
    char *const *overrides, int noverrides, const char *self,
    bool use_syslog, bool debug_no_seccomp);

#endif /* LFBVNC_MASTER_H */
