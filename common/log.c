/* log.c - see log.h for the conventions. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static const char *log_progname = "lfbvnc";
static int log_to_syslog;
static int log_verbose;

void
log_init(const char *progname, int to_syslog)
{
	const char *slash;

	if (progname != NULL) {
		slash = strrchr(progname, '/');
		log_progname = slash != NULL ? slash + 1 : progname;
	}
	log_to_syslog = to_syslog;
	if (to_syslog)
		openlog(log_progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

void
vlog(int priority, const char *fmt, va_list ap)
{
	char buf[2048];
	int saved_errno = errno;

	if (log_to_syslog) {
		vsyslog(priority, fmt, ap);
	} else {
		/*
		 * The line in one write: lfbvncd's workers share the
		 * master's stderr, and lines written in pieces came out
		 * interleaved ("lfbvncd: lfbvncd: a: ...b: ...").
		 */
		vsnprintf(buf, sizeof(buf), fmt, ap);
		fprintf(stderr, "%s: %s\n", log_progname, buf);
	}
	errno = saved_errno;
}

/* Appends ": strerror(errno)" to fmt; truncation only shortens the message. */
static void
vlog_errno(int priority, const char *fmt, va_list ap)
{
	char buf[1024];
	int saved_errno = errno;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_to_syslog)
		syslog(priority, "%s: %s", buf, strerror(saved_errno));
	else
		fprintf(stderr, "%s: %s: %s\n", log_progname, buf,
		    strerror(saved_errno));
	errno = saved_errno;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}
