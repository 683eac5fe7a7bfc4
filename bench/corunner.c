/*
 * corunner.c - the throughput job that runs beside the displays in
 * bench/host-scale: it stands for the seed's database guest (seed 000,
 * sysbench on a 2-vCPU guest), a job bound by memory bandwidth and by
 * CPU, whose operations per second drop by what the display servers take
 * from the machine (CPU time, memory bandwidth, cache).
 *
 * One operation, per thread: a STREAM triad (a[i] = b[i] + s * c[i]) over
 * the next 4096 doubles of the thread's three arrays (3 x 16 MiB by
 * default, so the arrays stream from memory, not from the caches: 96 KiB
 * moved per operation), then 4096 rounds of a dependent integer mix over
 * the result (the CPU-bound half).  Threads are not pinned: the scheduler
 * places them, as it would a guest's vCPUs.
 *
 * usage: corunner [--seconds S] [--threads N] [--mib M]
 * Prints one line:
 *   corunner ops_per_s X ops N seconds S threads T mib M cpu_s C check K
 * (cpu_s: its user + system CPU time from the start of the timed run;
 * check: a value of the results, so the work cannot be optimised away).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define CHUNK	4096		/* doubles per triad step */
#define MIX	4096		/* integer rounds per operation */

struct thr {
	pthread_t	 t;
	double		*a, *b, *c;
	size_t		 n;		/* doubles per array */
	uint64_t	 ops;
	uint64_t	 check;
};

static atomic_int go;
static atomic_int halt;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static void *
run(void *arg)
{
	struct thr *t = arg;
	size_t off = 0, i;
	uint64_t x = 0x9e3779b97f4a7c15ull, ops = 0;
	const double s = 3.0;
	int r;

	while (!atomic_load_explicit(&go, memory_order_acquire))
		;
	while (!atomic_load_explicit(&halt, memory_order_relaxed)) {
		double *a = t->a + off;
		const double *b = t->b + off, *c = t->c + off;

		for (i = 0; i < CHUNK; i++)
			a[i] = b[i] + s * c[i];
		x ^= (uint64_t)a[ops % CHUNK];
		for (r = 0; r < MIX; r++) {
			x ^= x >> 31;
			x *= 0xbf58476d1ce4e5b9ull;
			x += (uint64_t)r;
		}
		off += CHUNK;
		if (off + CHUNK > t->n)
			off = 0;
		ops++;
	}
	t->ops = ops;
	t->check = x;
	return NULL;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: corunner [--seconds S] [--threads N] [--mib M]\n"
	    "  --seconds S   how long to run (default 10)\n"
	    "  --threads N   threads (default: the online CPUs)\n"
	    "  --mib M       MiB per array, 3 arrays per thread "
	    "(default 16)\n");
}

int
main(int argc, char **argv)
{
	double secs = 10, t0, t1;
	long nthr = sysconf(_SC_NPROCESSORS_ONLN), mib = 16, k;
	struct thr *th;
	uint64_t ops = 0, check = 0;
	struct timespec ts;
	struct rusage ru0, ru1;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (i + 1 >= argc) {
			usage(stderr);
			return 2;
		}
		if (strcmp(argv[i], "--seconds") == 0)
			secs = atof(argv[++i]);
		else if (strcmp(argv[i], "--threads") == 0)
			nthr = atol(argv[++i]);
		else if (strcmp(argv[i], "--mib") == 0)
			mib = atol(argv[++i]);
		else {
			usage(stderr);
			return 2;
		}
	}
	if (secs <= 0 || nthr < 1 || nthr > 256 || mib < 1 || mib > 4096) {
		usage(stderr);
		return 2;
	}
	if ((th = calloc((size_t)nthr, sizeof(*th))) == NULL) {
		perror("corunner: calloc");
		return 1;
	}
	for (k = 0; k < nthr; k++) {
		size_t n = (size_t)mib * 1024 * 1024 / sizeof(double), j;

		th[k].n = n;
		th[k].a = malloc(n * sizeof(double));
		th[k].b = malloc(n * sizeof(double));
		th[k].c = malloc(n * sizeof(double));
		if (th[k].a == NULL || th[k].b == NULL || th[k].c == NULL) {
			perror("corunner: malloc");
			return 1;
		}
		for (j = 0; j < n; j++) {	/* touch every page now */
			th[k].a[j] = 0;
			th[k].b[j] = (double)j;
			th[k].c[j] = (double)(n - j);
		}
		if ((errno = pthread_create(&th[k].t, NULL, run, &th[k]))
		    != 0) {
			perror("corunner: pthread_create");
			return 1;
		}
	}
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_s();
	atomic_store_explicit(&go, 1, memory_order_release);
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	atomic_store(&halt, 1);
	for (k = 0; k < nthr; k++) {
		pthread_join(th[k].t, NULL);
		ops += th[k].ops;
		check ^= th[k].check;
	}
	t1 = now_s();
	getrusage(RUSAGE_SELF, &ru1);
	printf("corunner ops_per_s %.1f ops %llu seconds %.3f threads %ld "
	    "mib %ld cpu_s %.3f check %llu\n", (double)ops / (t1 - t0),
	    (unsigned long long)ops, t1 - t0, nthr, mib,
	    tv_s(&ru1.ru_utime) + tv_s(&ru1.ru_stime) -
	    tv_s(&ru0.ru_utime) - tv_s(&ru0.ru_stime),
	    (unsigned long long)(check % 1000));
	return 0;
}
