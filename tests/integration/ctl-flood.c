/*
 * ctl-flood - flood lfbvncd's control socket, for
 * tests/integration/test-ctlflood.sh.
 *
 *   ctl-flood SOCKET hold N
 *	Open N connections and send nothing.  Prints "holding N" once they
 *	are open, then waits (at most 30 s) until the server has closed
 *	each, and prints what the connections were answered:
 *	"hold: N connections: timeout A, refused B, other C, no reply D".
 *
 *   ctl-flood SOCKET mix N THREADS [SEED]
 *	N connections, THREADS at a time, each of a random kind: a valid
 *	"status"; random binary garbage and a newline; 64 KiB without a
 *	newline; a 5000-octet line; an unknown command; "detach" of a
 *	guest that does not exist; a request ended by shutdown(SHUT_WR)
 *	without a newline; half a word and a close; a connect and an
 *	immediate close.  Each waits at most 10 s for the reply and EOF.
 *	Prints "mix: N connections: ok A, error replies B (refused C), no
 *	reply D, slowest reply E ms".
 *
 * Exit 0 unless the tool itself fails (the test judges the counts).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *path;
static unsigned int total;
static atomic_uint next_conn;
static atomic_uint n_ok, n_err, n_refused, n_timeout, n_none, n_other;
static atomic_ulong slowest_ms;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
conn(void)
{
	struct sockaddr_un sun;
	struct timeval tv = { 10, 0 };
	int fd;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read the reply until EOF (or the receive timeout) into buf. */
static size_t
reply(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len - 1) {
		n = recv(fd, buf + got, len - 1 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	/* Drain what does not fit, up to EOF. */
	while (got == len - 1 && recv(fd, buf + got, 1, 0) == 1)
		buf[got] = '\0';
	return got;
}

static void
count(const char *r)
{
	if (strncmp(r, "{\"ok\":true", 10) == 0)
		atomic_fetch_add(&n_ok, 1);
	else if (strncmp(r, "{\"ok\":false", 11) == 0) {
		atomic_fetch_add(&n_err, 1);
		if (strstr(r, "too many connections") != NULL)
			atomic_fetch_add(&n_refused, 1);
		else if (strstr(r, "timeout: no request") != NULL)
			atomic_fetch_add(&n_timeout, 1);
		else
			atomic_fetch_add(&n_other, 1);
	} else
		atomic_fetch_add(&n_none, 1);
}

static void
one(unsigned int kind, unsigned int *seed)
{
	static char big[64 * 1024];
	char buf[8192], r[4096];
	uint64_t t0 = now_ms(), dt, old;
	size_t n, i;
	int fd;

	if ((fd = conn()) == -1) {
		atomic_fetch_add(&n_none, 1);
		return;
	}
	switch (kind) {
	case 0:
		send(fd, "status\n", 7, MSG_NOSIGNAL);
		break;
	case 1:
		n = 1 + (size_t)rand_r(seed) % 512;
		for (i = 0; i < n; i++)
			buf[i] = (char)rand_r(seed);
		buf[n] = '\n';
		send(fd, buf, n + 1, MSG_NOSIGNAL);
		break;
	case 2:
		memset(big, 'a', sizeof(big));
		send(fd, big, sizeof(big), MSG_NOSIGNAL);
		break;
	case 3:
		memset(buf, 'x', 5000);
		buf[5000] = '\n';
		send(fd, buf, 5001, MSG_NOSIGNAL);
		break;
	case 4:
		send(fd, "frobnicate now\n", 15, MSG_NOSIGNAL);
		break;
	case 5:
		send(fd, "detach no-such-guest\n", 21, MSG_NOSIGNAL);
		break;
	case 6:
		send(fd, "status", 6, MSG_NOSIGNAL);
		shutdown(fd, SHUT_WR);
		break;
	case 7:
		send(fd, "sta", 3, MSG_NOSIGNAL);
		close(fd);
		return;
	default:
		close(fd);
		return;
	}
	reply(fd, r, sizeof(r));
	close(fd);
	count(r);
	dt = now_ms() - t0;
	old = atomic_load(&slowest_ms);
	while (dt > old && !atomic_compare_exchange_weak(&slowest_ms, &old,
	    dt))
		continue;
}

static void *
mix_thread(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg, i;

	while ((i = atomic_fetch_add(&next_conn, 1)) < total)
		one((unsigned int)rand_r(&seed) % 9, &seed);
	return NULL;
}

static int
hold(unsigned int n)
{
	struct pollfd *pfd;
	char r[4096];
	unsigned int i, open = 0;
	uint64_t end = now_ms() + 30000;

	if ((pfd = calloc(n, sizeof(*pfd))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		pfd[i].fd = conn();
		pfd[i].events = POLLIN;
		if (pfd[i].fd == -1)
			atomic_fetch_add(&n_none, 1);
		else
			open++;
	}
	printf("holding %u\n", open);
	fflush(stdout);
	while (open > 0 && now_ms() < end) {
		if (poll(pfd, n, 1000) == -1 && errno != EINTR)
			return 1;
		for (i = 0; i < n; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			reply(pfd[i].fd, r, sizeof(r));
			close(pfd[i].fd);
			pfd[i].fd = -1;
			open--;
			count(r);
		}
	}
	printf("hold: %u connections: timeout %u, refused %u, other %u, "
	    "no reply %u, still open %u\n", n, atomic_load(&n_timeout),
	    atomic_load(&n_refused), atomic_load(&n_other) +
	    atomic_load(&n_ok), atomic_load(&n_none), open);
	free(pfd);
	return 0;
}

int
main(int argc, char **argv)
{
	pthread_t *t;
	unsigned int nthreads, i, seed = 1;

	if (argc >= 4 && strcmp(argv[2], "hold") == 0) {
		path = argv[1];
		return hold((unsigned int)strtoul(argv[3], NULL, 10));
	}
	if (argc < 5 || argc > 6 || strcmp(argv[2], "mix") != 0) {
		fprintf(stderr, "usage: ctl-flood SOCKET hold N\n"
		    "       ctl-flood SOCKET mix N THREADS [SEED]\n");
		return 2;
	}
	path = argv[1];
	total = (unsigned int)strtoul(argv[3], NULL, 10);
	nthreads = (unsigned int)strtoul(argv[4], NULL, 10);
	if (argc == 6)
		seed = (unsigned int)strtoul(argv[5], NULL, 10);
	if (nthreads == 0 || nthreads > 1024 ||
	    (t = calloc(nthreads, sizeof(*t))) == NULL)
		return 2;
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, mix_thread,
		    (void *)(uintptr_t)(seed * 7919 + i)) != 0) {
			fprintf(stderr, "ctl-flood: pthread_create failed\n");
			return 1;
		}
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	printf("mix: %u connections: ok %u, error replies %u (refused %u), "
	    "no reply %u, slowest reply %lu ms\n", total, atomic_load(&n_ok),
	    atomic_load(&n_err), atomic_load(&n_refused),
	    atomic_load(&n_none), (unsigned long)atomic_load(&slowest_ms));
	free(t);
	return 0;
}
