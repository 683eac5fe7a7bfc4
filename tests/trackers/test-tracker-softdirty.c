/*
 * test-tracker-softdirty.c - soft-dirty, where it works.
 *
 * Runs the functional probe.  Where soft-dirty is compiled out (as on the
 * development machine: CONFIG_MEM_SOFT_DIRTY off, clear_refs "4" accepted
 * silently, bit 55 never set) the probe must say so with a reason, and the
 * test skips (77) printing it.  Where it works: exact scripted pages, and
 * the shadow test with a writer that is quiescent during get_dirty (the
 * tracker's documented condition: reading and clearing are two steps) and
 * its negative control.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tracker.h"
#include "trk-common.h"

static void
exact(struct lfbshm_tracker *t, unsigned char *fb)
{
	static const size_t script[] = { 3, 17, 2024 };
	uint64_t bm[TRK_NWORDS], want[TRK_NWORDS];
	char got_s[256], want_s[256];
	uint64_t rng = 7;
	bool all;
	size_t i;
	int err;

	memset(bm, 0, sizeof(bm));
	err = t->ops->get_dirty(t, bm, &all);
	TRK_CHECK(err == 0 && all, "first get_dirty: %d, all %d", err, all);
	memset(want, 0, sizeof(want));
	for (i = 0; i < 3; i++) {
		trk_scribble(fb + script[i] * TRK_PAGE, &rng);
		trk_setbit(want, script[i]);
	}
	memset(bm, 0, sizeof(bm));
	err = t->ops->get_dirty(t, bm, &all);
	trk_format_bits(bm, TRK_NPAGES, got_s, sizeof(got_s));
	trk_format_bits(want, TRK_NPAGES, want_s, sizeof(want_s));
	TRK_CHECK(err == 0 && !all && memcmp(bm, want, sizeof(bm)) == 0,
	    "scripted pages: got {%s}, want {%s}", got_s, want_s);
	printf("  exact page set {3, 17, 2024}: %s\n", got_s);
}

/*
 * The writer and the scanner take turns (the writer is quiescent during
 * get_dirty), which is when soft-dirty is exact.
 */
static long
shadow(struct lfbshm_tracker *t, unsigned char *fb, bool skip_one)
{
	struct trk_shadow s;
	uint64_t rng = 99, end;
	size_t page, run, i, lost;
	int err;

	if ((err = trk_shadow_init(&s, fb, TRK_NPAGES, skip_one)) < 0)
		return err;
	err = trk_shadow_scan(&s, t, fb);
	end = trk_now_ns() + 300 * 1000000ull;
	while (err == 0 && trk_now_ns() < end) {
		for (run = 0; run < 50; run++) {
			page = (size_t)(trk_rand(&rng) % TRK_NPAGES);
			for (i = 0; i < 4 && page + i < TRK_NPAGES; i++)
				trk_scribble(fb + (page + i) * TRK_PAGE, &rng);
		}
		err = trk_shadow_scan(&s, t, fb);
	}
	if (err == 0) {
		trk_scribble(fb + 1234 * TRK_PAGE, &rng);
		err = trk_shadow_scan(&s, t, fb);
	}
	lost = trk_shadow_lost(&s, fb);
	printf("  shadow%s: %lu scans, %lu pages reported, lost pages %zu\n",
	    skip_one ? " (negative control)" : "", s.scans, s.reported, lost);
	trk_shadow_free(&s);
	return err < 0 ? err : (long)lost;
}

int
main(void)
{
	struct lfbshm_tracker *t = NULL;
	struct trk_fb fb;
	char why[256];
	long lost;
	int err;

	alarm(120);
	why[0] = '\0';
	err = lfbshm_tracker_probe(LFBSHM_TRACKER_SOFTDIRTY, why, sizeof(why));
	if (err < 0) {
		/* A failing probe must say why. */
		if (why[0] == '\0') {
			printf("FAIL: the soft-dirty probe failed (%s) without "
			    "a reason\n", strerror(-err));
			return 1;
		}
		printf("SKIP: soft-dirty does not work here: %s\n", why);
		return 77;
	}
	printf("soft-dirty probe: ok\n");
	if ((err = trk_fb_make(&fb, TRK_ANON, TRK_FB_LEN)) < 0) {
		printf("FAIL: fb: %s\n", strerror(-err));
		return 1;
	}
	err = lfbshm_tracker_softdirty_open(fb.p, fb.len, &t, why,
	    sizeof(why));
	TRK_CHECK(err == 0, "open: %s", why);
	if (err == 0) {
		TRK_CHECK(!t->has_trap && t->ops->arm_trap(t, NULL, NULL) ==
		    -EOPNOTSUPP, "soft-dirty offers no trap");
		exact(t, fb.p);
		lost = shadow(t, fb.p, false);
		TRK_CHECK(lost == 0, "shadow: %ld lost", lost);
		lost = shadow(t, fb.p, true);
		TRK_CHECK(lost > 0, "negative control lost nothing (%ld)",
		    lost);
		lfbshm_tracker_close(t);
	}
	trk_fb_free(&fb);
	if (trk_failures != 0) {
		printf("FAIL: %d checks failed\n", trk_failures);
		return 1;
	}
	printf("PASS\n");
	return 0;
}
