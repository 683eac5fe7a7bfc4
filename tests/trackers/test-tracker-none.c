/*
 * test-tracker-none.c - the "none" tracker: always all_dirty, no trap, and
 * the name table and probe dispatch of tracker.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tracker.h"
#include "trk-common.h"

int
main(void)
{
	struct lfbshm_tracker *t = NULL;
	uint64_t bm[TRK_NWORDS];
	char why[128];
	bool all;
	int err, i, k;

	err = lfbshm_tracker_none_open(TRK_FB_LEN, &t);
	TRK_CHECK(err == 0 && t != NULL, "open: %s", strerror(-err));
	if (err != 0)
		return 1;
	TRK_CHECK(t->kind == LFBSHM_TRACKER_NONE && t->npages == TRK_NPAGES &&
	    !t->has_trap, "tracker head");
	for (i = 0; i < 5; i++) {
		all = false;
		memset(bm, 0, sizeof(bm));
		err = t->ops->get_dirty(t, bm, &all);
		TRK_CHECK(err == 0 && all, "get_dirty %d: %d, all %d", i, err,
		    all);
		if (i == 2)
			TRK_CHECK(t->ops->stop(t) == 0, "stop");
	}
	TRK_CHECK(t->ops->arm_trap(t, NULL, NULL) == -EOPNOTSUPP, "no trap");
	TRK_CHECK(t->ops->disarm_trap(t) == 0, "disarm");
	lfbshm_tracker_close(t);
	lfbshm_tracker_close(NULL);

	for (k = 0; k < LFBSHM_TRACKER_NKINDS; k++)
		TRK_CHECK(lfbshm_tracker_kind_parse(lfbshm_tracker_kind_name(
		    (enum lfbshm_tracker_kind)k)) == k, "name of kind %d", k);
	TRK_CHECK(lfbshm_tracker_kind_parse("bogus") == -EINVAL, "parse");
	TRK_CHECK(lfbshm_tracker_kind_parse(NULL) == -EINVAL, "parse NULL");
	TRK_CHECK(strcmp(lfbshm_tracker_kind_name(LFBSHM_TRACKER_NKINDS),
	    "unknown") == 0, "unknown kind name");
	why[0] = '\0';
	TRK_CHECK(lfbshm_tracker_probe(LFBSHM_TRACKER_NONE, why,
	    sizeof(why)) == 0, "none probe");
	TRK_CHECK(lfbshm_tracker_probe(LFBSHM_TRACKER_NKINDS, why,
	    sizeof(why)) == -EINVAL && why[0] != '\0', "bad kind probe");

	if (trk_failures != 0) {
		printf("FAIL: %d checks failed\n", trk_failures);
		return 1;
	}
	printf("PASS: none tracker answers all_dirty every time\n");
	return 0;
}
