/*
 * stall-client - a VNC client that asks for updates and never reads them,
 * for tests/integration/test-slowclient.sh.
 *
 *   stall-client HOST PORT [NREQUESTS]
 *
 * RFB 3.8 handshake with security type None, ClientInit (shared), raw
 * encoding, then NREQUESTS (default 64) non-incremental
 * FramebufferUpdateRequests for the whole screen.  It prints "stalled"
 * once they are sent, and from then on reads nothing: it sleeps until it
 * is killed, so the server's socket to it fills up.  Exit 1 on any
 * handshake problem (with a message).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void
die(const char *what)
{
	fprintf(stderr, "stall-client: %s%s%s\n", what, errno ? ": " : "",
	    errno ? strerror(errno) : "");
	exit(1);
}

static void
read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			die("reading the handshake");
		}
		p += n;
		len -= (size_t)n;
	}
}

static void
write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("writing");
		p += n;
		len -= (size_t)n;
	}
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

int
main(int argc, char **argv)
{
	struct addrinfo hints, *ai;
	uint8_t buf[256], req[10], init[24];
	uint16_t w, h;
	uint32_t nreq = 64, i, namelen;
	uint8_t nsec, sec = 0, one = 1;
	int fd, rc;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: stall-client HOST PORT [NREQUESTS]\n");
		return 2;
	}
	if (argc == 4)
		nreq = (uint32_t)strtoul(argv[3], NULL, 10);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(argv[1], argv[2], &hints, &ai)) != 0) {
		fprintf(stderr, "stall-client: %s: %s\n", argv[1],
		    gai_strerror(rc));
		return 1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd == -1 || connect(fd, ai->ai_addr, ai->ai_addrlen) == -1)
		die("connect");
	freeaddrinfo(ai);

	read_all(fd, buf, 12);
	if (memcmp(buf, "RFB 003.", 8) != 0) {
		errno = 0;
		die("not an RFB server");
	}
	write_all(fd, "RFB 003.008\n", 12);
	read_all(fd, &nsec, 1);
	if (nsec == 0) {
		errno = 0;
		die("the server refused the connection");
	}
	read_all(fd, buf, nsec);
	for (i = 0; i < nsec; i++)
		if (buf[i] == 1)
			sec = 1;
	if (sec != 1) {
		errno = 0;
		die("the server wants authentication");
	}
	write_all(fd, &sec, 1);
	read_all(fd, buf, 4);
	if (be32(buf) != 0) {
		errno = 0;
		die("security handshake failed");
	}
	write_all(fd, &one, 1);		/* ClientInit: shared */
	read_all(fd, init, 24);		/* ServerInit */
	w = (uint16_t)(init[0] << 8 | init[1]);
	h = (uint16_t)(init[2] << 8 | init[3]);
	namelen = be32(init + 20);
	while (namelen > 0) {
		uint32_t n = namelen < sizeof(buf) ? namelen : sizeof(buf);

		read_all(fd, buf, n);
		namelen -= n;
	}
	/* SetEncodings: raw only (the most octets per update). */
	write_all(fd, "\x02\x00\x00\x01\x00\x00\x00\x00", 8);
	req[0] = 3;
	req[1] = 0;			/* not incremental */
	memset(req + 2, 0, 4);		/* x, y */
	req[6] = (uint8_t)(w >> 8);
	req[7] = (uint8_t)w;
	req[8] = (uint8_t)(h >> 8);
	req[9] = (uint8_t)h;
	for (i = 0; i < nreq; i++)
		write_all(fd, req, sizeof(req));
	printf("stalled: %ux%u, %u requests sent, reading nothing\n",
	    (unsigned)w, (unsigned)h, (unsigned)nreq);
	fflush(stdout);
	for (;;)
		pause();
}
