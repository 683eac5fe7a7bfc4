/*
 * log.h - logging for every lfbvnc program, after OpenBSD's log.c.
 *
 * log_warn() and fatal() append strerror(errno); log_warnx() and fatalx()
 * do not.  Every function preserves errno.  fatal()/fatalx() never return:
 * they log at LOG_CRIT and exit(1).
 *
 * Messages go to stderr (the default, with a "prog: " prefix) or to
 * syslog after log_init(..., 1).  log_debug() prints only when the verbosity
 * set by log_setverbose() is at least 1.
 */
#ifndef LFBVNC_LOG_H
#define LFBVNC_LOG_H

#include <stdarg.h>

#define LOG_PRINTF(f, a) __attribute__((__format__(__printf__, f, a)))

void log_init(const char *progname, int to_syslog);
void log_setverbose(int verbose);
int log_getverbose(void);

void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void vlog(int priority, const char *fmt, va_list ap) LOG_PRINTF(2, 0);

__attribute__((__noreturn__)) void fatal(const char *fmt, ...) LOG_PRINTF(1, 2);
__attribute__((__noreturn__)) void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2);

#endif /* LFBVNC_LOG_H */
