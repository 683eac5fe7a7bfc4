/*
 * tcpstat.h - how many octets the kernel has received on a TCP socket.
 *
 * libvncclient 0.9.14 keeps no byte counter and reads through an internal
 * buffer we cannot wrap, so the probe asks the kernel (TCP_INFO,
 * tcpi_bytes_received, Linux 4.1+): TCP payload octets received on the
 * connection, whether or not the application has read them yet.
 */
#ifndef LFBVNC_TCPSTAT_H
#define LFBVNC_TCPSTAT_H

#include <stdint.h>

/* Octets received so far, or -1 (not TCP, or the kernel is too old). */
int64_t tcpstat_bytes_received(int fd);

#endif /* LFBVNC_TCPSTAT_H */
