/*
 * test-tracker-uffd.c - the uffd tracker against real writers, in this
 * process (anonymous, memfd and /dev/shm backings) and in another process
 * (uffd_open_remote).  Skips (77) when the functional probe fails.
 *
 * Checks: exact page sets for scripted writes; a write of identical data
 * is reported (writes, not changes); the shadow test with concurrent
 * writers (0 lost pages) and its negative control (must lose pages);
 * stop -> all_dirty; the trap: fires once on the first write, "already
 * written" keeps the page, disarm, a get_dirty disarms, a kernel write
 * (read(2) into the framebuffer), and many arm/fire/disarm cycles under
 * bursty writers followed by the shadow check.  No timing assertions:
 * waits have generous limits only so that a bug cannot hang the run.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tracker.h"
#include "trk-common.h"
#include "uffd-compat.h"

#define HANG_MS		10000	/* only a broken trap waits so long */

/* ----------------------------------------------------------- trap count */

struct trapcount {
	pthread_mutex_t	 m;
	pthread_cond_t	 c;
	int		 fired;
};

static struct trapcount tc = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0
};

/*
 * Calls per arm.  The callback runs on the handler thread after the
 * trap's state changed, so it may arrive after the serving thread has
 * moved on (even armed again): count by arm, not by time.
 */
#define NTOKENS		8192
static atomic_int token_calls[NTOKENS];

static void
on_trap(void *arg)
{
	uintptr_t tok = (uintptr_t)arg;

	if (tok < NTOKENS)
		atomic_fetch_add(&token_calls[tok], 1);
	pthread_mutex_lock(&tc.m);
	tc.fired++;
	pthread_cond_broadcast(&tc.c);
	pthread_mutex_unlock(&tc.m);
}

static int
fired(void)
{
	int n;

	pthread_mutex_lock(&tc.m);
	n = tc.fired;
	pthread_mutex_unlock(&tc.m);
	return n;
}

/* Wait until the count reaches want or ms pass; returns the count. */
static int
wait_fired(int want, unsigned int ms)
{
	struct timespec ts;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&tc.m);
	while (tc.fired < want)
		if (pthread_cond_timedwait(&tc.c, &tc.m, &ts) == ETIMEDOUT)
			break;
	n = tc.fired;
	pthread_mutex_unlock(&tc.m);
	return n;
}

/* ----------------------------------------------------- the writer model */

/*
 * Where the framebuffer is written: by this process, or by the child that
 * owns it (remote).  Tests are written once against this.
 */
struct side {
	const char	*label;
	unsigned char	*fb;		/* our view (remote: shared) */
	size_t		 npages;
	struct lfbshm_tracker *t;
	int		 sock;		/* remote: commands, else -1 */
	struct trk_writers w;		/* local writers */
	uint64_t	 rng;
};

enum {
	CMD_WRITE = 1, CMD_SAME, CMD_KWRITE, CMD_WRITERS, CMD_WRITERS_STOP,
	CMD_EXIT
};

struct cmd {
	int32_t		 op;
	uint32_t	 n;
	uint32_t	 pages[8];
	uint32_t	 pause_us;
	uint32_t	 idle_us;
};

static int
remote_cmd(struct side *s, const struct cmd *c)
{
	int32_t st;

	if (send(s->sock, c, sizeof(*c), 0) != (ssize_t)sizeof(*c))
		return -errno;
	if (recv(s->sock, &st, sizeof(st), 0) != (ssize_t)sizeof(st))
		return -EIO;
	return st;
}

/* Change pages (random data) and return when the writes are done. */
static void
side_write(struct side *s, const uint32_t *pages, size_t n)
{
	struct cmd c;
	size_t i;

	if (s->sock == -1) {
		for (i = 0; i < n; i++)
			trk_scribble(s->fb + (size_t)pages[i] * TRK_PAGE,
			    &s->rng);
		return;
	}
	memset(&c, 0, sizeof(c));
	c.op = CMD_WRITE;
	c.n = (uint32_t)n;
	memcpy(c.pages, pages, n * sizeof(pages[0]));
	TRK_CHECK(remote_cmd(s, &c) == 0, "%s: remote write", s->label);
}

/* Write a byte with the value it already has. */
static void
side_write_same(struct side *s, uint32_t page)
{
	volatile unsigned char *p;
	struct cmd c;

	if (s->sock == -1) {
		p = s->fb + (size_t)page * TRK_PAGE + 17;
		*p = *p;
		return;
	}
	memset(&c, 0, sizeof(c));
	c.op = CMD_SAME;
	c.n = 1;
	c.pages[0] = page;
	TRK_CHECK(remote_cmd(s, &c) == 0, "%s: remote write", s->label);
}

static void
side_writers(struct side *s, bool start, unsigned int pause_us,
    unsigned int idle_us, uint64_t seed)
{
	struct cmd c;

	if (s->sock == -1) {
		if (start)
			TRK_CHECK(trk_writers_start(&s->w, s->fb, s->npages, 2,
			    pause_us, idle_us, seed) == 0, "writers");
		else
			trk_writers_stop(&s->w);
		return;
	}
	memset(&c, 0, sizeof(c));
	c.op = start ? CMD_WRITERS : CMD_WRITERS_STOP;
	c.pause_us = pause_us;
	c.idle_us = idle_us;
	c.n = (uint32_t)seed;
	TRK_CHECK(remote_cmd(s, &c) == 0, "%s: remote writers", s->label);
}

/* Write one page from another thread (it may sleep in the trap). */
struct poke {
	struct side	*s;
	uint32_t	 page;
	pthread_t	 th;
};

static void *
poke_thread(void *arg)
{
	struct poke *pk = arg;

	side_write(pk->s, &pk->page, 1);
	return NULL;
}

/* ------------------------------------------------------------- helpers */

static int
get(struct side *s, uint64_t *bm, bool *all)
{
	int err;

	memset(bm, 0, TRK_NWORDS * sizeof(*bm));
	*all = false;
	err = s->t->ops->get_dirty(s->t, bm, all);
	TRK_CHECK(err == 0, "%s: get_dirty: %s", s->label, strerror(-err));
	return err;
}

static void
expect_exact(struct side *s, const uint64_t *want, const char *what)
{
	uint64_t bm[TRK_NWORDS];
	char got_s[256], want_s[256];
	bool all;

	if (get(s, bm, &all) < 0)
		return;
	if (all || memcmp(bm, want, sizeof(bm)) != 0) {
		trk_format_bits(bm, s->npages, got_s, sizeof(got_s));
		trk_format_bits(want, s->npages, want_s, sizeof(want_s));
		TRK_CHECK(0, "%s: %s: reported {%s}%s, want {%s}", s->label,
		    what, got_s, all ? " (all dirty)" : "", want_s);
	}
}

/* The page must be reported: by its bit, or by all_dirty. */
static void
expect_has(struct side *s, uint32_t page, const char *what, bool *was_all)
{
	uint64_t bm[TRK_NWORDS];
	bool all;

	if (get(s, bm, &all) < 0)
		return;
	TRK_CHECK(all || trk_bit(bm, page), "%s: %s: page %u not reported",
	    s->label, what, page);
	if (was_all != NULL)
		*was_all = all;
}

/* ----------------------------------------------------------- the tests */

static void
test_exact(struct side *s)
{
	static const uint32_t script[] = { 3, 17, 2024 };
	uint64_t bm[TRK_NWORDS], want[TRK_NWORDS];
	uint32_t pages[8];
	bool all;
	size_t k, i, round, total = 0;
	int before = trk_failures;

	if (get(s, bm, &all) == 0)
		TRK_CHECK(all, "%s: first get_dirty is not all_dirty",
		    s->label);
	memset(want, 0, sizeof(want));
	expect_exact(s, want, "nothing written");

	side_write(s, script, 3);
	for (i = 0; i < 3; i++)
		trk_setbit(want, script[i]);
	expect_exact(s, want, "wrote {3, 17, 2024}");

	/* A write of identical data counts: writes are tracked. */
	memset(want, 0, sizeof(want));
	side_write_same(s, 5);
	trk_setbit(want, 5);
	expect_exact(s, want, "rewrote page 5 with its own data");

	for (round = 0; round < 40; round++) {
		memset(want, 0, sizeof(want));
		k = 1 + (size_t)(trk_rand(&s->rng) % 8);
		for (i = 0; i < k; i++) {
			pages[i] = (uint32_t)(trk_rand(&s->rng) % s->npages);
			trk_setbit(want, pages[i]);
		}
		side_write(s, pages, k);
		total += trk_popcount(want, s->npages);
		expect_exact(s, want, "random scripted pages");
	}
	printf("  %s: exact page sets: {3, 17, 2024}, identical-data write, "
	    "40 random sets (%zu pages): %s\n", s->label, total,
	    trk_failures != before ? "FAILED" : "ok");
}

static void
test_stop(struct side *s)
{
	static const uint32_t p7 = 7, p9 = 9;
	uint64_t bm[TRK_NWORDS], want[TRK_NWORDS];
	bool all;
	int err;

	err = s->t->ops->stop(s->t);
	TRK_CHECK(err == 0, "%s: stop: %s", s->label, strerror(-err));
	side_write(s, &p7, 1);
	if (get(s, bm, &all) == 0)
		TRK_CHECK(all, "%s: get_dirty after stop is not all_dirty",
		    s->label);
	memset(want, 0, sizeof(want));
	expect_exact(s, want, "after stop and restart");
	side_write(s, &p9, 1);
	trk_setbit(want, 9);
	expect_exact(s, want, "after stop and restart, wrote 9");
	printf("  %s: stop -> all_dirty, then exact again: ok\n", s->label);
}

static long
shadow_remote(struct side *s, const char *label,
    const struct trk_shadow_opts *o)
{
	struct trk_shadow sh;
	uint64_t end;
	uint32_t page;
	size_t lost;
	int err;

	if ((err = trk_shadow_init(&sh, s->fb, s->npages, o->skip_one)) < 0)
		return err;
	if ((err = trk_shadow_scan(&sh, s->t, s->fb)) < 0)
		goto out;
	side_writers(s, true, o->pause_us, 0, o->seed);
	end = trk_now_ns() + (uint64_t)o->run_ms * 1000000u;
	while (trk_now_ns() < end && err == 0) {
		err = trk_shadow_scan(&sh, s->t, s->fb);
		if (o->scan_pause_us != 0)
			trk_sleep_us(o->scan_pause_us);
	}
	side_writers(s, false, 0, 0, 0);
	if (err < 0)
		goto out;
	if ((err = trk_shadow_scan(&sh, s->t, s->fb)) < 0)
		goto out;
	page = (uint32_t)(trk_rand(&s->rng) % s->npages);
	side_write(s, &page, 1);
	if ((err = trk_shadow_scan(&sh, s->t, s->fb)) < 0)
		goto out;
	lost = trk_shadow_lost(&sh, s->fb);
	printf("  %s: %lu scans, %lu pages reported (%.1f/scan), "
	    "%lu skipped, lost pages %zu\n", label, sh.scans, sh.reported,
	    sh.scans ? (double)sh.reported / (double)sh.scans : 0.0,
	    sh.skipped, lost);
	err = (int)lost;
out:
	trk_shadow_free(&sh);
	return err;
}

static void
test_shadow(struct side *s)
{
	struct trk_shadow_opts o;
	char label[96];
	long lost;
	int pass;

	for (pass = 0; pass < 4; pass++) {
		memset(&o, 0, sizeof(o));
		o.nthreads = 2;
		o.skip_one = pass == 3;
		/* 0: throttled writers, 1: flat out with continuous scans,
		   2: flat out, 3: the negative control. */
		o.pause_us = pass == 0 || pass == 3 ? 200 : 0;
		o.scan_pause_us = pass == 1 ? 0 : 1000;
		o.run_ms = 150;
		o.seed = trk_rand(&s->rng);
		snprintf(label, sizeof(label), "%s, shadow %s", s->label,
		    pass == 0 ? "throttled" : pass == 1 ?
		    "flat out, continuous scans" : pass == 2 ? "flat out" :
		    "negative control");
		if (s->sock == -1)
			lost = trk_shadow_test(s->t, s->fb, s->npages, &o,
			    label);
		else
			lost = shadow_remote(s, label, &o);
		if (lost < 0) {
			TRK_CHECK(0, "%s: %s", label, strerror((int)-lost));
			continue;
		}
		if (o.skip_one)
			TRK_CHECK(lost > 0, "%s: the negative control lost "
			    "nothing: the check cannot see losses", label);
		else
			TRK_CHECK(lost == 0, "%s: %ld pages lost", label,
			    lost);
	}
}

static void
test_trap_basic(struct side *s)
{
	struct poke pk;
	uint64_t bm[TRK_NWORDS], want[TRK_NWORDS];
	static const uint32_t p321 = 321, p50 = 50;
	bool all, was_all = false;
	int r, n0, before = trk_failures;

	/* Idle, armed, one write from another thread: fires once. */
	get(s, bm, &all);
	n0 = fired();
	r = s->t->ops->arm_trap(s->t, on_trap, NULL);
	TRK_CHECK(r == 0, "%s: arm_trap on an idle fb returned %d", s->label,
	    r);
	if (r == 0) {
		pk.s = s;
		pk.page = 1000;
		if (pthread_create(&pk.th, NULL, poke_thread, &pk) != 0) {
			TRK_CHECK(0, "pthread_create");
			return;
		}
		TRK_CHECK(wait_fired(n0 + 1, HANG_MS) == n0 + 1,
		    "%s: the trap did not fire", s->label);
		pthread_join(pk.th, NULL);
		side_write(s, &pk.page, 1);
		side_write(s, &p50, 1);
		trk_sleep_us(20000);
		TRK_CHECK(fired() == n0 + 1, "%s: the trap fired %d times",
		    s->label, fired() - n0);
		expect_has(s, 1000, "after the trap", &was_all);
	}

	/* Written since the last get_dirty: 1, and the page stays. */
	get(s, bm, &all);
	n0 = fired();
	side_write(s, &p321, 1);
	r = s->t->ops->arm_trap(s->t, on_trap, NULL);
	TRK_CHECK(r == 1, "%s: arm_trap after a write returned %d", s->label,
	    r);
	memset(want, 0, sizeof(want));
	trk_setbit(want, 321);
	expect_exact(s, want, "after arm_trap returned 1");
	TRK_CHECK(fired() == n0, "%s: a trap that was not armed fired",
	    s->label);

	/* Armed, disarmed, nothing written: no call, nothing lost. */
	n0 = fired();
	r = s->t->ops->arm_trap(s->t, on_trap, NULL);
	TRK_CHECK(r == 0, "%s: arm_trap returned %d", s->label, r);
	r = s->t->ops->disarm_trap(s->t);
	TRK_CHECK(r == 0, "%s: disarm_trap: %s", s->label, strerror(-r));
	get(s, bm, &all);		/* all_dirty: re-registered */
	memset(want, 0, sizeof(want));
	expect_exact(s, want, "after disarm");
	side_write(s, &p50, 1);
	TRK_CHECK(fired() == n0, "%s: a disarmed trap fired", s->label);

	/* A get_dirty disarms too. */
	get(s, bm, &all);
	n0 = fired();
	r = s->t->ops->arm_trap(s->t, on_trap, NULL);
	TRK_CHECK(r == 0, "%s: arm_trap returned %d", s->label, r);
	get(s, bm, &all);
	side_write(s, &p50, 1);
	trk_sleep_us(20000);
	TRK_CHECK(fired() == n0, "%s: the trap fired after get_dirty",
	    s->label);
	trk_setbit(want, 50);
	expect_exact(s, want, "armed, get_dirty, wrote 50");
	printf("  %s: trap: fired once (then %s), already-written -> 1 and "
	    "kept, disarm, get_dirty disarms: %s\n", s->label,
	    was_all ? "all_dirty" : "exact",
	    trk_failures != before ? "FAILED" : "ok");
}

/*
 * read(2) of 64 octets from a pipe into page+128: the kernel writes the
 * framebuffer.  Returns 0 or -errno (the child does it when remote).
 */
static int
kernel_write(unsigned char *page)
{
	unsigned char src[64];
	int p[2], err = 0;
	ssize_t r;

	if (pipe(p) == -1)
		return -errno;
	memset(src, 0xc3, sizeof(src));
	if (write(p[1], src, sizeof(src)) != (ssize_t)sizeof(src))
		err = -EIO;
	else if ((r = read(p[0], page + 128, sizeof(src))) == -1)
		err = -errno;
	else if (r != (ssize_t)sizeof(src) ||
	    memcmp(page + 128, src, sizeof(src)) != 0)
		err = -EIO;
	close(p[0]);
	close(p[1]);
	return err;
}

struct kwrite {
	struct side	*s;
	uint32_t	 page;
	int		 err;
	pthread_t	 th;
};

static void *
kwrite_thread(void *arg)
{
	struct kwrite *k = arg;
	struct cmd c;

	if (k->s->sock == -1) {
		k->err = kernel_write(k->s->fb + (size_t)k->page * TRK_PAGE);
	} else {
		memset(&c, 0, sizeof(c));
		c.op = CMD_KWRITE;
		c.n = 1;
		c.pages[0] = k->page;
		k->err = remote_cmd(k->s, &c);
	}
	return NULL;
}

/*
 * The kernel writes into the armed framebuffer.  A trap that may trap
 * kernel writes makes the syscall sleep, fires and lets it complete; a
 * user-mode-only one (the child's here, and the in-process one without
 * privilege) makes it fail with EFAULT and does not fire: nothing was
 * written.  Both are documented in tracker-uffd.c.
 */
static void
test_trap_kernel_write(struct side *s)
{
	struct kwrite k;
	uint64_t bm[TRK_NWORDS];
	bool all;
	int r, n0;

	get(s, bm, &all);
	n0 = fired();
	r = s->t->ops->arm_trap(s->t, on_trap, NULL);
	TRK_CHECK(r == 0, "%s: arm_trap returned %d", s->label, r);
	k.s = s;
	k.page = 777;
	if (pthread_create(&k.th, NULL, kwrite_thread, &k) != 0) {
		TRK_CHECK(0, "pthread_create");
		return;
	}
	pthread_join(k.th, NULL);
	if (k.err == 0) {
		TRK_CHECK(wait_fired(n0 + 1, HANG_MS) == n0 + 1,
		    "%s: kernel write did not fire the trap", s->label);
		expect_has(s, 777, "kernel write", NULL);
		printf("  %s: trap: read(2) into the armed fb slept in the "
		    "trap, fired it and completed\n", s->label);
	} else {
		TRK_CHECK(k.err == -EFAULT, "%s: read(2) into the armed fb: "
		    "%s", s->label, strerror(-k.err));
		trk_sleep_us(20000);
		TRK_CHECK(fired() == n0, "%s: a failed kernel write fired "
		    "the trap", s->label);
		r = s->t->ops->disarm_trap(s->t);
		TRK_CHECK(r == 0, "%s: disarm: %s", s->label, strerror(-r));
		get(s, bm, &all);
		printf("  %s: trap is user-mode only: read(2) into the armed "
		    "fb failed with EFAULT without firing, as documented\n",
		    s->label);
	}
	/* Unarmed, the kernel write is tracked like any other. */
	k.err = 0;
	if (pthread_create(&k.th, NULL, kwrite_thread, &k) != 0) {
		TRK_CHECK(0, "pthread_create");
		return;
	}
	pthread_join(k.th, NULL);
	TRK_CHECK(k.err == 0, "%s: read(2) into the tracked fb: %s",
	    s->label, strerror(-k.err));
	expect_has(s, 777, "unarmed kernel write", &all);
	TRK_CHECK(!all, "%s: unarmed kernel write: all_dirty", s->label);
}

/*
 * Many arm / fire / disarm cycles while bursty writers come and go, with
 * the scanner's shadow kept all along: nothing may be lost.
 */
static void
test_trap_cycles(struct side *s, unsigned int run_ms)
{
	struct trk_shadow sh;
	uint64_t end;
	unsigned long arms = 0, already = 0, fires = 0, disarms = 0;
	unsigned long getdisarms = 0, i;
	uint64_t t0, armed_ns = 0, narmed = 0;
	uintptr_t tok;
	uint32_t page;
	size_t lost;
	int r, n0, mode, err, calls;

	if (trk_shadow_init(&sh, s->fb, s->npages, false) < 0) {
		TRK_CHECK(0, "shadow");
		return;
	}
	for (i = 0; i < NTOKENS; i++)
		atomic_store(&token_calls[i], 0);
	err = trk_shadow_scan(&sh, s->t, s->fb);
	/* Each writer: a run, then 0.3-8 ms of quiet; scans find quiet. */
	side_writers(s, true, 300, 8000, trk_rand(&s->rng));
	end = trk_now_ns() + (uint64_t)run_ms * 1000000u;
	while (err == 0 && trk_now_ns() < end) {
		if ((err = trk_shadow_scan(&sh, s->t, s->fb)) < 0)
			break;
		n0 = fired();
		arms++;
		tok = arms < NTOKENS ? arms : 0;
		t0 = trk_now_ns();
		r = s->t->ops->arm_trap(s->t, on_trap, (void *)tok);
		if (r == 0) {
			armed_ns += trk_now_ns() - t0;
			narmed++;
		}
		if (r < 0) {
			TRK_CHECK(0, "%s: arm_trap: %s", s->label,
			    strerror(-r));
			break;
		}
		if (r == 1) {
			already++;
			continue;
		}
		mode = (int)(trk_rand(&s->rng) % 4);
		if (mode == 0) {
			r = s->t->ops->disarm_trap(s->t);
			TRK_CHECK(r == 0, "disarm: %s", strerror(-r));
			disarms++;
		} else if (mode == 1) {
			getdisarms++;	/* the scan below disarms */
		} else if (wait_fired(n0 + 1, 30) == n0) {
			r = s->t->ops->disarm_trap(s->t);
			TRK_CHECK(r == 0, "disarm: %s", strerror(-r));
			disarms++;
		}
	}
	side_writers(s, false, 0, 0, 0);
	if (err == 0)
		err = trk_shadow_scan(&sh, s->t, s->fb);
	page = (uint32_t)(trk_rand(&s->rng) % s->npages);
	side_write(s, &page, 1);
	if (err == 0)
		err = trk_shadow_scan(&sh, s->t, s->fb);
	TRK_CHECK(err == 0, "%s: get_dirty: %s", s->label, strerror(-err));
	lost = trk_shadow_lost(&sh, s->fb);
	TRK_CHECK(lost == 0, "%s: trap cycles lost %zu pages", s->label,
	    lost);
	/* Let a callback still on its way land before counting. */
	trk_sleep_us(20000);
	for (i = 1; i <= arms && i < NTOKENS; i++) {
		calls = atomic_load(&token_calls[i]);
		TRK_CHECK(calls <= 1, "%s: arm %lu called back %d times",
		    s->label, (unsigned long)i, calls);
		fires += calls == 1;
	}
	printf("  %s: trap cycles: %lu arms: %lu already written, %lu fired "
	    "(once each), %lu disarmed, %lu ended by get_dirty (a fire may "
	    "race the last two); %lu scans (%lu all-dirty), %lu pages "
	    "reported, lost pages %zu; a successful arm took %.0f us on "
	    "average\n", s->label, arms, already, fires,
	    disarms, getdisarms, sh.scans, sh.all_dirty, sh.reported, lost,
	    narmed ? (double)armed_ns / (double)narmed / 1000.0 : 0.0);
	/* Coverage, not correctness: depends on the writers' timing. */
	if (fires == 0 || already == 0)
		printf("  %s: warning: the cycles did not see both outcomes\n",
		    s->label);
	trk_shadow_free(&sh);
}

static void
run_all(struct side *s)
{
	int before = trk_failures;

	test_exact(s);
	test_shadow(s);
	test_stop(s);
	if (!s->t->has_trap) {
		/* e.g. an ext4 file: sync write-protect is refused there. */
		printf("  %s: no trap offered (sync write-protect refused on "
		    "this memory)\n", s->label);
		TRK_CHECK(s->t->ops->arm_trap(s->t, on_trap, NULL) ==
		    -EOPNOTSUPP, "%s: arm_trap without a trap", s->label);
	} else {
		test_trap_basic(s);
		test_trap_kernel_write(s);
		test_trap_cycles(s, 500);
	}
	printf("%s: %s\n", s->label, trk_failures == before ? "PASS" :
	    "FAIL");
}

static void
test_local(enum trk_backing b)
{
	struct trk_fb fb;
	struct side s;
	char why[256], label[64];
	int err;

	struct statfs sfs;

	snprintf(label, sizeof(label), "in-process %s", trk_backing_name(b));
	if ((err = trk_fb_make(&fb, b, TRK_FB_LEN)) < 0) {
		TRK_CHECK(0, "%s: %s", label, strerror(-err));
		return;
	}
	memset(&s, 0, sizeof(s));
	s.label = label;
	s.fb = fb.p;
	s.npages = TRK_NPAGES;
	s.sock = -1;
	s.rng = 0x1234567 + (uint64_t)b;
	why[0] = '\0';
	if (b == TRK_FILE && fstatfs(fb.fd, &sfs) == 0)
		snprintf(label + strlen(label), sizeof(label) - strlen(label),
		    " (fs magic %#lx)", (unsigned long)sfs.f_type);
	err = lfbshm_tracker_uffd_open(fb.p, fb.len, &s.t, why, sizeof(why));
	TRK_CHECK(err == 0, "%s: open: %s", label, why);
	if (err == 0) {
		TRK_CHECK(s.t->npages == TRK_NPAGES && s.t->kind ==
		    LFBSHM_TRACKER_UFFD, "%s: tracker head", label);
		run_all(&s);
		lfbshm_tracker_close(s.t);
	}
	trk_fb_free(&fb);
}

/* ------------------------------------------------------------ remote */

struct hello {
	uint64_t	 addr;
	uint64_t	 len;
	int32_t		 status;
	char		 why[128];
};

static int
send_fds(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(3 * sizeof(int))];
	} u;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *c;

	memset(&msg, 0, sizeof(msg));
	memset(&u, 0, sizeof(u));
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	return sendmsg(sock, &msg, 0) == (ssize_t)len ? 0 : -errno;
}

static int
recv_fds(int sock, void *buf, size_t len, int *fds, int nfds)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(3 * sizeof(int))];
	} u;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *c;
	ssize_t n;
	int i;

	for (i = 0; i < nfds; i++)
		fds[i] = -1;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	if ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) != (ssize_t)len)
		return n == -1 ? -errno : -EIO;
	c = CMSG_FIRSTHDR(&msg);
	if (c != NULL && c->cmsg_level == SOL_SOCKET &&
	    c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN((size_t)nfds * sizeof(int)))
		memcpy(fds, CMSG_DATA(c), (size_t)nfds * sizeof(int));
	return 0;
}

/*
 * The child: owns the framebuffer (a memfd), registers it with an async
 * userfaultfd itself, makes a spare one for the trap (no API handshake:
 * the tracker chooses), hands [memfd, async, spare] over and then writes
 * on command.  It keeps its copies of the fds: closing the last one
 * would unregister.
 */
static void __attribute__((__noreturn__))
child_main(int sock)
{
	struct hello h;
	struct uffdio_api api;
	struct uffdio_register reg;
	struct trk_writers w;
	struct cmd c;
	unsigned char *fb;
	volatile unsigned char *v;
	uint64_t rng = 42;
	int fds[3], st;
	uint32_t i;
	bool writing = false;

	memset(&h, 0, sizeof(h));
	fds[0] = memfd_create("trk-remote-fb", MFD_CLOEXEC);
	if (fds[0] == -1 || ftruncate(fds[0], TRK_FB_LEN) == -1)
		_exit(2);
	fb = mmap(NULL, TRK_FB_LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fds[0], 0);
	if (fb == MAP_FAILED)
		_exit(2);
	memset(fb, 0xa5, TRK_FB_LEN);
	fds[1] = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK |
	    UFFD_USER_MODE_ONLY);
	fds[2] = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK |
	    UFFD_USER_MODE_ONLY);
	memset(&api, 0, sizeof(api));
	api.api = UFFD_API;
	api.features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (uint64_t)(uintptr_t)fb;
	reg.range.len = TRK_FB_LEN;
	reg.mode = UFFDIO_REGISTER_MODE_WP;
	if (fds[1] == -1 || fds[2] == -1 ||
	    ioctl(fds[1], UFFDIO_API, &api) == -1 ||
	    ioctl(fds[1], UFFDIO_REGISTER, &reg) == -1) {
		h.status = errno;
		snprintf(h.why, sizeof(h.why), "child: userfaultfd setup: %s",
		    strerror(errno));
		send_fds(sock, &h, sizeof(h), NULL, 0);
		_exit(0);
	}
	h.addr = (uint64_t)(uintptr_t)fb;
	h.len = TRK_FB_LEN;
	if (send_fds(sock, &h, sizeof(h), fds, 3) < 0)
		_exit(2);
	close(fds[0]);

	while (recv(sock, &c, sizeof(c), 0) == (ssize_t)sizeof(c)) {
		st = 0;
		switch (c.op) {
		case CMD_WRITE:
			for (i = 0; i < c.n && i < 8; i++)
				trk_scribble(fb + (size_t)(c.pages[i] %
				    TRK_NPAGES) * TRK_PAGE, &rng);
			break;
		case CMD_SAME:
			v = fb + (size_t)(c.pages[0] % TRK_NPAGES) * TRK_PAGE +
			    17;
			*v = *v;
			break;
		case CMD_KWRITE:
			st = kernel_write(fb + (size_t)(c.pages[0] %
			    TRK_NPAGES) * TRK_PAGE);
			break;
		case CMD_WRITERS:
			if (!writing)
				st = trk_writers_start(&w, fb, TRK_NPAGES, 2,
				    c.pause_us, c.idle_us, c.n);
			writing = st == 0;
			break;
		case CMD_WRITERS_STOP:
			if (writing)
				trk_writers_stop(&w);
			writing = false;
			break;
		case CMD_EXIT:
		default:
			_exit(0);
		}
		if (send(sock, &st, sizeof(st), 0) != (ssize_t)sizeof(st))
			_exit(2);
	}
	_exit(0);
}

static void
test_remote(void)
{
	struct hello h;
	struct side s;
	struct cmd c;
	unsigned char *fb = MAP_FAILED;
	char why[256];
	int sv[2], fds[3], err, status;
	pid_t pid;

	memset(&s, 0, sizeof(s));
	s.label = "remote memfd";
	s.npages = TRK_NPAGES;
	s.rng = 0xfeed;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		TRK_CHECK(0, "socketpair: %s", strerror(errno));
		return;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		TRK_CHECK(0, "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		close(sv[0]);
		child_main(sv[1]);
	}
	close(sv[1]);
	s.sock = sv[0];
	if ((err = recv_fds(s.sock, &h, sizeof(h), fds, 3)) < 0 ||
	    h.status != 0) {
		TRK_CHECK(0, "remote: %s", err < 0 ? strerror(-err) : h.why);
		goto out;
	}
	fb = mmap(NULL, h.len, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	close(fds[0]);
	if (fb == MAP_FAILED) {
		TRK_CHECK(0, "remote: mmap: %s", strerror(errno));
		close(fds[1]);
		close(fds[2]);
		goto out;
	}
	s.fb = fb;
	why[0] = '\0';
	err = lfbshm_tracker_uffd_open_remote(pid, h.addr, h.len, fds[1],
	    fds[2], &s.t, why, sizeof(why));
	TRK_CHECK(err == 0, "remote: open: %s", why);
	if (err == 0) {
		run_all(&s);
		lfbshm_tracker_close(s.t);
	}
out:
	memset(&c, 0, sizeof(c));
	c.op = CMD_EXIT;
	(void)send(s.sock, &c, sizeof(c), 0);
	close(s.sock);
	if (fb != MAP_FAILED)
		munmap(fb, h.len);
	if (waitpid(pid, &status, 0) == pid)
		TRK_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "remote child: status %#x", status);
}

int
main(void)
{
	char why[256];
	int err, b;

	alarm(300);	/* a hung trap must not hang the suite */
	log_init("test-tracker-uffd", 0);
	if (getenv("TRK_VERBOSE") != NULL)
		log_setverbose(1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	why[0] = '\0';
	if ((err = lfbshm_tracker_probe(LFBSHM_TRACKER_UFFD, why,
	    sizeof(why))) < 0) {
		printf("SKIP: uffd tracker unavailable: %s\n", why);
		return 77;
	}
	printf("uffd probe: ok; fb %u pages (1920x1080x32)\n", TRK_NPAGES);
	for (b = 0; b < TRK_NBACKINGS; b++)
		test_local((enum trk_backing)b);
	test_remote();
	if (trk_failures != 0) {
		printf("FAIL: %d checks failed\n", trk_failures);
		return 1;
	}
	printf("PASS\n");
	return 0;
}
