/*
 * tcpstat.c - see tcpstat.h.  A file of its own because tcpi_bytes_received
 * is declared only in <linux/tcp.h>, which clashes with glibc's
 * <netinet/tcp.h> that other headers pull in.
 */
#include "config.h"

#include "tcpstat.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <string.h>

#include <linux/tcp.h>

int64_t
tcpstat_bytes_received(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return -1;
	/* An older kernel fills a shorter structure. */
	if (len < offsetof(struct tcp_info, tcpi_bytes_received) +
	    sizeof(ti.tcpi_bytes_received))
		return -1;
	if (ti.tcpi_bytes_received > INT64_MAX)
		return -1;
	return (int64_t)ti.tcpi_bytes_received;
}
