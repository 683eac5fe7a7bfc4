/*
 * childargs.h - the options every child the master re-executes (a guest's
 * worker, the metrics child) takes over from the master, in one place so
 * that a new one reaches them all.
 */
#ifndef LFBVNC_CHILDARGS_H
#define LFBVNC_CHILDARGS_H

#include <stdbool.h>

#include "log.h"

/* Appends the master's verbosity, syslog and sandbox switches to argv
   from argc on (at most 3 entries); returns the new argc. */
static inline int
childargs_common(char **argv, int argc, bool use_syslog, bool no_seccomp)
{
	if (log_getverbose() > 0)
		argv[argc++] = (char *)(log_getverbose() > 1 ? "-vv" : "-v");
	if (use_syslog)
		argv[argc++] = (char *)"-s";
	if (no_seccomp)
		argv[argc++] = (char *)"--debug-no-seccomp";
	return argc;
}

#endif /* LFBVNC_CHILDARGS_H */
