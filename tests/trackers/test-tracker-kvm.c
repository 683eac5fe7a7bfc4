/*
 * test-tracker-kvm.c - the kvm tracker against a real guest.
 *
 * The VRAM is a memfd mapping (1920x1080x4, whole pages) backing a KVM
 * memory slot; the guest program (kvm-guest.c) runs on its own vCPU
 * thread and writes into it on command.  Checks, per
 * research/dirty-tracking.md ("Test suite"):
 *   - scripted pages are reported exactly;
 *   - no lost updates: with the guest writing continuously, repeated
 *     get_dirty + copy of the reported pages into a shadow, then a final
 *     get_dirty + copy once the guest stopped, gives shadow == VRAM;
 *   - the negative control (one reported page skipped per scan) is caught;
 *   - trap: arm on an idle guest returns 0, the first write fires the
 *     callback exactly once and is in VRAM and in the next get_dirty; arm
 *     with a write pending returns 1; many arm/fire/disarm cycles with the
 *     guest writing lose nothing; a `rep stosq' full-frame fill across the
 *     trap is exact to the octet;
 *   - stop: the next get_dirty answers all_dirty, then tracking resumes.
 * No timing assertions; the printed times are for information.
 * Exit 77 when /dev/kvm is unusable.
 */
#include "config.h"

#include <sys/mman.h>

#include <linux/kvm.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "kvm-vm.h"
#include "tracker.h"
#include "../../providers/guest/guest-abi.h"
#include "kvm-guest.h"

extern const unsigned char kvm_guest_image[], kvm_guest_image_end[];

#define WIDTH		1920
#define HEIGHT		1080
#define VRAM_SLOT	1
#define RAM_SIZE	(4u << 20)
#define CMD_TIMEOUT_MS	10000
#define PAGE		4096

static struct kvmvm *vm;
static struct lfbshm_tracker *tr;
static uint8_t *vram, *shadow;
static size_t vram_len, npages, nwords;
static uint64_t *bm;
static int failures;

static pthread_mutex_t trap_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t trap_cv = PTHREAD_COND_INITIALIZER;
static unsigned int trap_count;

static void
fail(const char *fmt, ...) __attribute__((__format__(__printf__, 1, 2)));

static void
fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failures++;
}

static void
die(const char *fmt, ...) __attribute__((__format__(__printf__, 1, 2),
    __noreturn__));

static void
die(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	printf("FATAL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (vm != NULL)
		printf(" [%s]", kvmvm_why(vm, buf, sizeof(buf)));
	printf("\n");
	exit(1);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static void
trap_fired(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&trap_m);
	trap_count++;
	pthread_cond_broadcast(&trap_cv);
	pthread_mutex_unlock(&trap_m);
}

static unsigned int
trap_get(void)
{
	unsigned int n;

	pthread_mutex_lock(&trap_m);
	n = trap_count;
	pthread_mutex_unlock(&trap_m);
	return n;
}

/* Wait until trap_count > before; false after 10 s. */
static bool
trap_wait(unsigned int before)
{
	struct timespec dl;
	bool ok = true;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 10;
	pthread_mutex_lock(&trap_m);
	while (trap_count == before && ok)
		ok = pthread_cond_timedwait(&trap_cv, &trap_m, &dl) == 0 ||
		    trap_count != before;
	pthread_mutex_unlock(&trap_m);
	return ok;
}

/* Post a command and wait for its acknowledgement. */
static int32_t
guest_cmd(uint32_t cmd, uint64_t a0, uint64_t a1, const void *data,
    size_t datalen)
{
	uint64_t args[2] = { a0, a1 };
	int64_t seq;
	int32_t status;
	int rc;

	if ((seq = kvmvm_cmd_post(vm, cmd, args, 2, data, datalen)) < 0)
		die("post command %u: %s", cmd, strerror((int)-seq));
	if ((rc = kvmvm_cmd_wait(vm, seq, CMD_TIMEOUT_MS, &status)) != 0)
		die("command %u: %s", cmd, strerror(-rc));
	return status;
}

static int64_t
guest_post(uint32_t cmd, uint64_t a0, uint64_t a1)
{
	uint64_t args[2] = { a0, a1 };
	int64_t seq;

	if ((seq = kvmvm_cmd_post(vm, cmd, args, 2, NULL, 0)) < 0)
		die("post command %u: %s", cmd, strerror((int)-seq));
	return seq;
}

static int32_t
guest_wait(int64_t seq)
{
	int32_t status;
	int rc;

	if ((rc = kvmvm_cmd_wait(vm, seq, CMD_TIMEOUT_MS, &status)) != 0)
		die("wait for command: %s", strerror(-rc));
	return status;
}

/*
 * get_dirty, then copy the reported pages into the shadow, skipping the
 * first reported page when skip is set (negative control).  Returns the
 * number of pages reported.
 */
static size_t
scan(bool skip, bool *all)
{
	bool all_dirty;
	size_t p, n = 0;
	int rc;

	memset(bm, 0, nwords * sizeof(uint64_t));
	if ((rc = tr->ops->get_dirty(tr, bm, &all_dirty)) != 0)
		die("get_dirty: %s", strerror(-rc));
	if (all != NULL)
		*all = all_dirty;
	if (all_dirty) {
		memcpy(shadow, vram, vram_len);
		return npages;
	}
	for (p = 0; p < npages; p++) {
		if (!(bm[p / 64] & (1ULL << (p % 64))))
			continue;
		if (n++ == 0 && skip)
			continue;
		memcpy(shadow + p * PAGE, vram + p * PAGE, PAGE);
	}
	for (p = npages; p < nwords * 64; p++)
		if (bm[p / 64] & (1ULL << (p % 64)))
			fail("bit %zu beyond the %zu pages", p, npages);
	return n;
}

static size_t
differing_pages(void)
{
	size_t p, n = 0;

	for (p = 0; p < npages; p++)
		if (memcmp(shadow + p * PAGE, vram + p * PAGE, PAGE) != 0)
			n++;
	return n;
}

static size_t
count_bits(void)
{
	size_t i, n = 0;

	for (i = 0; i < nwords; i++)
		n += (size_t)__builtin_popcountll(bm[i]);
	return n;
}

static bool
bit(size_t p)
{
	return (bm[p / 64] >> (p % 64)) & 1;
}

static void *
vcpu_thread(void *arg)
{
	intptr_t rc = kvmvm_run(vm, NULL, NULL);

	(void)arg;
	return (void *)rc;
}

static void
test_first_and_scripted(void)
{
	static const uint32_t pages[] = {
		0, 1, 2, 63, 64, 65, 127, 128, 1000, 1001, 2023, 2024
	};
	size_t i, n;
	bool all;

	scan(false, &all);
	if (!all)
		fail("first get_dirty did not answer all_dirty");
	if (scan(false, &all) != 0 || all)
		fail("idle guest: get_dirty reported pages");

	if (guest_cmd(KG_CMD_PAGES, sizeof(pages) / sizeof(pages[0]),
	    0x1122334455667788ULL, pages, sizeof(pages)) != 0)
		die("KG_CMD_PAGES failed");
	n = scan(false, &all);
	if (all || n != sizeof(pages) / sizeof(pages[0]))
		fail("scripted: %zu pages reported, want %zu", n,
		    sizeof(pages) / sizeof(pages[0]));
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		if (!bit(pages[i]))
			fail("scripted: page %u not reported", pages[i]);
	if (differing_pages() != 0)
		fail("scripted: shadow differs from VRAM");
	if (scan(false, &all) != 0)
		fail("scripted: second get_dirty not empty");
	printf("ok: first get_dirty all_dirty; %zu scripted pages exact\n",
	    sizeof(pages) / sizeof(pages[0]));
}

/* The guest writes continuously while we scan; then compare. */
static void
test_concurrent(bool negative)
{
	static const uint32_t last_page[] = { 777 };
	struct guest_mailbox *mb = kvmvm_mailbox(vm);
	size_t scans = 0, pages = 0, diff;
	int64_t seq;
	double t0;

	scan(false, NULL);
	memcpy(shadow, vram, vram_len);
	seq = guest_post(KG_CMD_LOOP, negative ? 0x9e3779b9 : 0x12345, 0);
	t0 = now_ms();
	while (now_ms() - t0 < 500) {
		pages += scan(negative, NULL);
		scans++;
		sleep_us(2000);
	}
	kvmvm_cmd_stop(vm);
	if (guest_wait(seq) != 0)
		die("KG_CMD_LOOP failed");
	if (negative) {
		/* Make the final scan non-empty so its skip surely bites. */
		if (guest_cmd(KG_CMD_PAGES, 1, 0xfeedface00000000ULL,
		    last_page, sizeof(last_page)) != 0)
			die("KG_CMD_PAGES failed");
	}
	pages += scan(negative, NULL);
	scans++;
	diff = differing_pages();
	if (negative) {
		if (diff == 0)
			fail("negative control: skipping a page per scan went "
			    "unnoticed");
		else
			printf("ok: negative control caught (%zu pages "
			    "differ after %zu scans)\n", diff, scans);
		/* Resynchronise for the next test. */
		memcpy(shadow, vram, vram_len);
		return;
	}
	if (diff != 0)
		fail("concurrent: %zu pages lost (%zu scans)", diff, scans);
	else
		printf("ok: concurrent writer, %zu scans, %zu pages copied, "
		    "%" PRIu64 " guest writes in %" PRIu64 " runs, 0 lost\n",
		    scans, pages, mb->ret[0], mb->ret[1]);
}

static void
test_trap_basic(void)
{
	static const uint32_t off1 = 123 * PAGE + 4 * 321;
	static const uint32_t off2 = 1500 * PAGE + 4 * 7;
	unsigned int c0;
	bool all;
	int rc;

	scan(false, NULL);
	memcpy(shadow, vram, vram_len);

	/* Armed on an idle guest: 0, then the first write fires. */
	c0 = trap_get();
	if ((rc = tr->ops->arm_trap(tr, trap_fired, NULL)) != 0)
		die("arm_trap on an idle guest returned %d, want 0", rc);
	sleep_us(20000);
	if (trap_get() != c0)
		fail("trap fired with no write");
	if (guest_cmd(KG_CMD_PIXEL, off1, 0xc0ffee01, NULL, 0) != 0)
		die("KG_CMD_PIXEL failed");
	if (!trap_wait(c0))
		die("trap did not fire on the first write");
	if (*(volatile uint32_t *)(vram + off1) != 0xc0ffee01)
		fail("trapped pixel not in VRAM: %#x",
		    *(volatile uint32_t *)(vram + off1));
	/* A second write after the trap: logged by KVM again, no fire. */
	if (guest_cmd(KG_CMD_PIXEL, off2, 0xc0ffee02, NULL, 0) != 0)
		die("KG_CMD_PIXEL failed");
	if (trap_get() != c0 + 1)
		fail("trap fired %u times, want once", trap_get() - c0);
	scan(false, &all);
	if (all || count_bits() != 2 || !bit(off1 / PAGE) || !bit(off2 / PAGE))
		fail("after trap: %zu pages reported (page %u: %d, page "
		    "%u: %d), want exactly those two", count_bits(),
		    off1 / PAGE, bit(off1 / PAGE), off2 / PAGE,
		    bit(off2 / PAGE));
	if (differing_pages() != 0)
		fail("after trap: shadow differs");
	printf("ok: trap armed idle -> 0, fired once, pixel in VRAM and "
	    "reported\n");

	/* A write pending since the last get_dirty: 1, not armed. */
	if (guest_cmd(KG_CMD_PIXEL, off2 + 4, 0xc0ffee03, NULL, 0) != 0)
		die("KG_CMD_PIXEL failed");
	c0 = trap_get();
	if ((rc = tr->ops->arm_trap(tr, trap_fired, NULL)) != 1)
		fail("arm_trap with a pending write returned %d, want 1", rc);
	if (guest_cmd(KG_CMD_PIXEL, off1 + 4, 0xc0ffee04, NULL, 0) != 0)
		die("KG_CMD_PIXEL failed");
	if (trap_get() != c0)
		fail("trap fired although arm_trap returned 1");
	scan(false, &all);
	if (count_bits() != 2 || !bit(off1 / PAGE) || !bit(off2 / PAGE))
		fail("pending write: %zu pages reported", count_bits());
	if (differing_pages() != 0)
		fail("pending write: shadow differs");
	printf("ok: arm_trap with a pending write -> 1\n");

	/* Armed then disarmed: no fire, the later write is reported. */
	if ((rc = tr->ops->arm_trap(tr, trap_fired, NULL)) != 0)
		die("arm_trap returned %d, want 0", rc);
	if ((rc = tr->ops->disarm_trap(tr)) != 0)
		die("disarm_trap: %s", strerror(-rc));
	if (guest_cmd(KG_CMD_PIXEL, off1 + 8, 0xc0ffee05, NULL, 0) != 0)
		die("KG_CMD_PIXEL failed");
	if (trap_get() != c0)
		fail("trap fired after disarm_trap");
	scan(false, &all);
	if (count_bits() != 1 || !bit(off1 / PAGE))
		fail("after disarm: %zu pages reported", count_bits());
	/* Armed, then get_dirty (which disarms): no fire either. */
	if ((rc = tr->ops->arm_trap(tr, trap_fired, NULL)) != 0)
		die("arm_trap returned %d, want 0", rc);
	if (scan(false, &all) != 0)
		fail("armed, no write: get_dirty reported pages");
	if (guest_cmd(KG_CMD_PIXEL, off2 + 8, 0xc0ffee06, NULL, 0) != 0)
		die("KG_CMD_PIXEL failed");
	if (trap_get() != c0)
		fail("trap fired after get_dirty disarmed it");
	scan(false, &all);
	if (count_bits() != 1 || !bit(off2 / PAGE))
		fail("after get_dirty disarm: %zu pages reported",
		    count_bits());
	if (differing_pages() != 0)
		fail("disarm: shadow differs");
	printf("ok: disarm_trap and get_dirty disarm without firing\n");
}

/* Arm/fire cycles with the guest writing all the time. */
static void
test_trap_cycles(void)
{
	size_t diff, cycles = 0, ones = 0, fires = 0, disarms = 0;
	unsigned int c0, c1;
	int64_t seq;
	double t0;
	int rc;

	scan(false, NULL);
	memcpy(shadow, vram, vram_len);
	seq = guest_post(KG_CMD_LOOP, 0xabcdef, 0);
	t0 = now_ms();
	while (now_ms() - t0 < 800 && cycles < 2000) {
		scan(false, NULL);
		/*
		 * Right after a fire the guest has barely resumed; give it
		 * time to write now and then so that arm_trap also meets
		 * pending writes (the "-> 1" path).
		 */
		if (cycles % 3 == 2)
			sleep_us(300);
		c0 = trap_get();
		rc = tr->ops->arm_trap(tr, trap_fired, NULL);
		if (rc < 0)
			die("arm_trap: %s", strerror(-rc));
		cycles++;
		if (rc == 1) {
			ones++;
			continue;
		}
		if (cycles % 4 == 0) {
			if ((rc = tr->ops->disarm_trap(tr)) != 0)
				die("disarm_trap: %s", strerror(-rc));
			disarms++;
		} else {
			if (!trap_wait(c0))
				die("trap did not fire with the guest "
				    "writing");
			fires++;
		}
		c1 = trap_get();
		if (c1 - c0 > 1)
			fail("one arm fired %u times", c1 - c0);
	}
	kvmvm_cmd_stop(vm);
	if (guest_wait(seq) != 0)
		die("KG_CMD_LOOP failed");
	scan(false, NULL);
	if ((diff = differing_pages()) != 0)
		fail("trap cycles: %zu pages lost", diff);
	else
		printf("ok: %zu arm cycles with the guest writing (%zu -> 1, "
		    "%zu fired, %zu disarmed), 0 lost\n", cycles, ones, fires,
		    disarms);
}

static size_t
check_fill(uint64_t q)
{
	const uint64_t *v = (const uint64_t *)(const void *)vram;
	size_t i, bad = 0;

	for (i = 0; i < vram_len / 8; i++)
		if (v[i] != q)
			bad++;
	return bad;
}

/* A full-frame `rep stosq' whose first store hits the trap. */
static void
test_trap_fill(void)
{
	static const uint64_t qs[] = {
		0x0123456789abcdefULL, 0xfedcba9876543210ULL,
		0x5a5a5a5aa5a5a5a5ULL
	};
	struct guest_mailbox *mb = kvmvm_mailbox(vm);
	uint64_t best = UINT64_MAX;
	unsigned int c0;
	size_t i, bad, n;
	bool all;
	int rc;

	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		scan(false, NULL);
		memcpy(shadow, vram, vram_len);
		c0 = trap_get();
		if ((rc = tr->ops->arm_trap(tr, trap_fired, NULL)) != 0)
			die("arm_trap before fill returned %d", rc);
		if (guest_cmd(KG_CMD_FILL, vram_len, qs[i], NULL, 0) != 0)
			die("KG_CMD_FILL failed");
		if (mb->ret[0] < best)
			best = mb->ret[0];
		if (trap_get() != c0 + 1)
			fail("fill: trap fired %u times, want 1",
			    trap_get() - c0);
		n = scan(false, &all);
		if (all || n != npages)
			fail("fill: %zu of %zu pages reported", n, npages);
		if ((bad = check_fill(qs[i])) != 0)
			fail("fill across the trap: %zu qwords wrong", bad);
		if (differing_pages() != 0)
			fail("fill: shadow differs");
	}
	printf("ok: %zu full-frame rep stosq fills across the trap, exact "
	    "(guest TSC %" PRIu64 ")\n", sizeof(qs) / sizeof(qs[0]), best);
}

/*
 * Arm/fire cycles while a full-frame `rep stosq' is in progress: the vCPU
 * is kicked out in the middle of the instruction, the slot turns
 * read-only, and the next store of the same instruction traps.
 */
static void
test_trap_during_fill(void)
{
	size_t i, arms = 0, fires = 0, bad, diff;
	unsigned int c0;
	int32_t status;
	int64_t seq;
	uint64_t q;
	int rc;

	for (i = 0; i < 8; i++) {
		q = 0x0101010101010101ULL * (i + 1) ^ 0xff00ff00ff00ff00ULL;
		scan(false, NULL);
		memcpy(shadow, vram, vram_len);
		seq = guest_post(KG_CMD_FILL, vram_len, q);
		while (kvmvm_cmd_wait(vm, seq, 0, &status) == -ETIMEDOUT) {
			scan(false, NULL);
			c0 = trap_get();
			if ((rc = tr->ops->arm_trap(tr, trap_fired, NULL)) < 0)
				die("arm_trap: %s", strerror(-rc));
			arms++;
			if (rc == 1)
				continue;
			while (trap_get() == c0 &&
			    kvmvm_cmd_wait(vm, seq, 0, &status) == -ETIMEDOUT)
				sleep_us(20);
			if (trap_get() != c0)
				fires++;
			else if ((rc = tr->ops->disarm_trap(tr)) != 0)
				die("disarm_trap: %s", strerror(-rc));
			if (trap_get() - c0 > 1)
				fail("one arm fired %u times", trap_get() - c0);
		}
		if (guest_wait(seq) != 0)
			die("KG_CMD_FILL failed");
		scan(false, NULL);
		if ((bad = check_fill(q)) != 0)
			fail("fill %zu with traps: %zu qwords wrong", i, bad);
		if ((diff = differing_pages()) != 0)
			fail("fill %zu with traps: %zu pages lost", i, diff);
	}
	printf("ok: 8 full-frame fills with %zu arms, %zu fired mid-rep "
	    "stosq, exact, 0 lost\n", arms, fires);
}

/* stop(): the next get_dirty answers all_dirty; then tracking resumes. */
static void
test_stop(void)
{
	static const uint32_t pages[] = { 5, 6, 2000 };
	uint64_t logged = UINT64_MAX, unlogged = UINT64_MAX, t;
	struct guest_mailbox *mb = kvmvm_mailbox(vm);
	double tl = 1e9, tu = 1e9, t0, t1;
	bool all;
	int i, rc;

	/* Full-frame guest write time, logged vs. stopped (information). */
	for (i = 0; i < 5; i++) {
		scan(false, NULL);
		t0 = now_ms();
		guest_cmd(KG_CMD_FILL, vram_len, (uint64_t)i, NULL, 0);
		t1 = now_ms();
		t = mb->ret[0];
		if (t < logged)
			logged = t;
		if (t1 - t0 < tl)
			tl = t1 - t0;
	}
	if ((rc = tr->ops->stop(tr)) != 0)
		die("stop: %s", strerror(-rc));
	for (i = 0; i < 5; i++) {
		t0 = now_ms();
		guest_cmd(KG_CMD_FILL, vram_len, (uint64_t)i + 100, NULL, 0);
		t1 = now_ms();
		t = mb->ret[0];
		if (check_fill((uint64_t)i + 100) != 0)
			fail("fill without logging: VRAM wrong");
		if (t < unlogged)
			unlogged = t;
		if (t1 - t0 < tu)
			tu = t1 - t0;
	}
	printf("info: full-frame rep stosq (%zu octets): %.2f ms with "
	    "logging, %.2f ms after stop (best of 5, host wall time incl. "
	    "doorbells; guest TSC %" PRIu64 " vs %" PRIu64 ")\n", vram_len,
	    tl, tu, logged, unlogged);

	if (guest_cmd(KG_CMD_PAGES, 3, 42, pages, sizeof(pages)) != 0)
		die("KG_CMD_PAGES failed");
	scan(false, &all);
	if (!all)
		fail("get_dirty after stop did not answer all_dirty");
	if (differing_pages() != 0)
		fail("stop: shadow differs after all_dirty copy");
	if (guest_cmd(KG_CMD_PAGES, 3, 43, pages, sizeof(pages)) != 0)
		die("KG_CMD_PAGES failed");
	scan(false, &all);
	if (all || count_bits() != 3 || !bit(5) || !bit(6) || !bit(2000))
		fail("after restart: %zu pages reported, want 3",
		    count_bits());
	if (differing_pages() != 0)
		fail("after restart: shadow differs");
	/* Stopped tracker: arm_trap cannot tell, so it says 1. */
	if ((rc = tr->ops->stop(tr)) != 0)
		die("stop: %s", strerror(-rc));
	if ((rc = tr->ops->arm_trap(tr, trap_fired, NULL)) != 1)
		fail("arm_trap after stop returned %d, want 1", rc);
	scan(false, &all);
	if (!all)
		fail("get_dirty after the second stop: not all_dirty");
	printf("ok: stop -> all_dirty, then exact tracking again\n");
}

/* The mailbox input ring, host to guest. */
static void
test_input(void)
{
	struct guest_mailbox *mb = kvmvm_mailbox(vm);
	struct guest_input ev;
	uint64_t sum = 0;
	unsigned int i, n = 0;
	int rc;

	for (i = 0; i < GUEST_INPUT_RING + 1; i++) {
		ev.type = 1 + i % 3;
		ev.a = i;
		ev.b = 1000 + i;
		ev.c = 7;
		rc = kvmvm_input_push(vm, &ev);
		if (i < GUEST_INPUT_RING) {
			if (rc != 0)
				fail("input push %u: %s", i, strerror(-rc));
			sum += (uint64_t)ev.type + ev.a + ev.b + ev.c;
			n++;
		} else if (rc != -ENOBUFS)
			fail("input push into a full ring: %d", rc);
	}
	if (guest_cmd(KG_CMD_INPUT, 0, 0, NULL, 0) != 0)
		die("KG_CMD_INPUT failed");
	if (mb->ret[0] != n || mb->ret[1] != sum)
		fail("input: guest saw %" PRIu64 " events (sum %" PRIu64
		    "), want %u (%" PRIu64 ")", mb->ret[0], mb->ret[1], n,
		    sum);
	else
		printf("ok: %u input events through the mailbox ring\n", n);
}

/* kvmvm_stop from another thread: while the guest runs and while idle. */
static void
test_vm_stop(pthread_t *th)
{
	void *ret;
	int64_t seq;
	size_t diff;
	int rc;

	scan(false, NULL);
	memcpy(shadow, vram, vram_len);
	seq = guest_post(KG_CMD_LOOP, 0x777, 0);
	sleep_us(20000);
	kvmvm_stop(vm);
	pthread_join(*th, &ret);
	if ((intptr_t)ret != KVMVM_STOPPED)
		fail("kvmvm_run returned %ld while running, want STOPPED",
		    (long)(intptr_t)ret);
	/* The guest is frozen in the middle of its loop: resume it. */
	if ((rc = pthread_create(th, NULL, vcpu_thread, NULL)) != 0)
		die("pthread_create: %s", strerror(rc));
	sleep_us(20000);
	kvmvm_cmd_stop(vm);
	if (guest_wait(seq) != 0)
		die("KG_CMD_LOOP failed");
	/* Now parked in GUEST_DB_WAIT. */
	kvmvm_stop(vm);
	pthread_join(*th, &ret);
	if ((intptr_t)ret != KVMVM_STOPPED)
		fail("kvmvm_run returned %ld while idle, want STOPPED",
		    (long)(intptr_t)ret);
	if ((rc = pthread_create(th, NULL, vcpu_thread, NULL)) != 0)
		die("pthread_create: %s", strerror(rc));
	scan(false, NULL);
	if ((diff = differing_pages()) != 0)
		fail("vCPU stop/restart: %zu pages lost", diff);
	else
		printf("ok: kvmvm_stop while running and while idle, "
		    "resumed, 0 lost\n");
}

int
main(void)
{
	char why[256];
	pthread_t th;
	void *ret;
	int memfd, rc;
	double t0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	log_init("test-tracker-kvm", 0);
	alarm(120);	/* a hung vCPU must not hang the suite */

	if ((rc = lfbshm_tracker_probe(LFBSHM_TRACKER_KVM, why,
	    sizeof(why))) != 0) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	t0 = now_ms();
	vram_len = ((size_t)WIDTH * HEIGHT * 4 + PAGE - 1) / PAGE * PAGE;
	npages = vram_len / PAGE;
	nwords = (npages + 63) / 64;
	if ((memfd = memfd_create("test-vram", MFD_CLOEXEC)) == -1 ||
	    ftruncate(memfd, (off_t)vram_len) == -1)
		die("memfd: %s", strerror(errno));
	vram = mmap(NULL, vram_len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd,
	    0);
	if (vram == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	if ((shadow = malloc(vram_len)) == NULL ||
	    (bm = calloc(nwords, sizeof(uint64_t))) == NULL)
		die("out of memory");

	if ((rc = kvmvm_create(&vm, RAM_SIZE, why, sizeof(why))) != 0)
		die("kvmvm_create: %s", why);
	if ((rc = kvmvm_add_slot(vm, VRAM_SLOT, GUEST_VRAM_GPA, vram, vram_len,
	    0)) != 0)
		die("kvmvm_add_slot: %s", strerror(-rc));
	kvmvm_mailbox(vm)->vram_gpa = GUEST_VRAM_GPA;
	kvmvm_mailbox(vm)->vram_size = vram_len;
	kvmvm_mailbox(vm)->width = WIDTH;
	kvmvm_mailbox(vm)->height = HEIGHT;
	kvmvm_mailbox(vm)->stride = WIDTH * 4;
	if ((rc = kvmvm_load(vm, kvm_guest_image,
	    (size_t)(kvm_guest_image_end - kvm_guest_image))) != 0)
		die("kvmvm_load: %s", strerror(-rc));
	if ((rc = lfbshm_tracker_kvm_open(vm, VRAM_SLOT, GUEST_VRAM_GPA, vram,
	    vram_len, &tr, why, sizeof(why))) != 0)
		die("lfbshm_tracker_kvm_open: %s", why);
	if (tr->npages != npages || !tr->has_trap ||
	    tr->kind != LFBSHM_TRACKER_KVM)
		die("tracker header: npages %zu has_trap %d", tr->npages,
		    tr->has_trap);
	if ((rc = pthread_create(&th, NULL, vcpu_thread, NULL)) != 0)
		die("pthread_create: %s", strerror(rc));
	printf("info: VRAM %zu octets (%zu pages), guest image %zu octets\n",
	    vram_len, npages,
	    (size_t)(kvm_guest_image_end - kvm_guest_image));

	test_input();
	test_first_and_scripted();
	test_concurrent(false);
	test_concurrent(true);
	test_trap_basic();
	test_trap_cycles();
	test_trap_fill();
	test_trap_during_fill();
	test_stop();
	test_vm_stop(&th);

	if (guest_cmd(KG_CMD_EXIT, 7, 0, NULL, 0) != 7)
		fail("guest exit status");
	pthread_join(th, &ret);
	if ((intptr_t)ret != KVMVM_GUEST_EXIT)
		fail("kvmvm_run returned %ld, want KVMVM_GUEST_EXIT",
		    (long)(intptr_t)ret);

	lfbshm_tracker_close(tr);
	kvmvm_destroy(vm);
	munmap(vram, vram_len);
	close(memfd);
	free(shadow);
	free(bm);
	printf("%s: %d failure(s) in %.0f ms\n", failures ? "FAIL" : "PASS",
	    failures, now_ms() - t0);
	return failures ? 1 : 0;
}
