/* test-policy: the adaptive-rate state machine, event by event. */
#include "policy.h"

#include <stdio.h>

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static struct policy_params
params(void)
{
	struct policy_params p;

	policy_defaults(&p);
	return p;
}

static void
test_no_clients(void)
{
	struct policy_params p = params();
	struct policy pol;

	policy_init(&pol, &p, true, true);
	CHECK(pol.state == POLICY_NO_CLIENTS, "starts without clients");
	CHECK(policy_delay_ms(&pol) == -1, "no timed scan without clients");
	CHECK(policy_clients(&pol, 0) == POLICY_NONE, "0 -> 0 is no-op");
	CHECK(policy_clients(&pol, 1) == POLICY_SCAN_FULL, "first client");
	CHECK(pol.state == POLICY_POLLING && policy_delay_ms(&pol) == 16,
	    "polling fast after connect");
	CHECK(policy_clients(&pol, 2) == POLICY_NONE,
	    "second client served from the shadow");
	CHECK(policy_clients(&pol, 0) == POLICY_STOP_TRACKING,
	    "last client gone stops tracking");
	CHECK(policy_delay_ms(&pol) == -1, "no scans after the last client");
}

static void
test_backoff_to_trap(void)
{
	struct policy_params p = params();
	struct policy pol;
	uint32_t i;

	policy_init(&pol, &p, true, true);
	policy_clients(&pol, 1);
	for (i = 1; i < p.clean_scans; i++) {
		CHECK(policy_scanned(&pol, 0, false) == POLICY_NONE,
		    "clean scan %u arms too early", i);
		CHECK(policy_delay_ms(&pol) == p.min_interval_ms,
		    "with a trap, the clean scans before it stay fast");
	}
	CHECK(policy_scanned(&pol, 0, false) == POLICY_ARM_TRAP,
	    "N clean scans arm the trap");
	policy_trap_result(&pol, true);
	CHECK(pol.state == POLICY_TRAPPED && policy_delay_ms(&pol) == -1,
	    "trapped: no timed scans");
	policy_input(&pol);
	CHECK(pol.state == POLICY_TRAPPED, "input alone keeps the trap");
	policy_woken(&pol);
	CHECK(pol.state == POLICY_POLLING && policy_delay_ms(&pol) == 16,
	    "wake scans at the fast rate");

	/* A write racing with arming: not armed, scan fast again. */
	for (i = 0; i < p.clean_scans - 1; i++)
		policy_scanned(&pol, 0, false);
	CHECK(policy_scanned(&pol, 0, false) == POLICY_ARM_TRAP, "re-arm");
	policy_trap_result(&pol, false);
	CHECK(pol.state == POLICY_POLLING && pol.clean_streak == 0 &&
	    policy_delay_ms(&pol) == 16, "already fired -> fast polling");
}

static void
test_dirt_resets(void)
{
	struct policy_params p = params();
	struct policy pol;
	uint32_t i;

	policy_init(&pol, &p, true, true);
	policy_clients(&pol, 1);
	for (i = 0; i < p.clean_scans - 1; i++)
		policy_scanned(&pol, 0, false);
	CHECK(policy_scanned(&pol, 3, true) == POLICY_NONE, "dirt");
	CHECK(pol.clean_streak == 0 && policy_delay_ms(&pol) == 16,
	    "dirt resets streak and rate");
	/* Dirty pages with identical contents: not clean, but slower. */
	policy_scanned(&pol, 5, false);
	CHECK(pol.clean_streak == 0 && policy_delay_ms(&pol) > 16,
	    "unchanged dirty pages slow down without arming");
}

static void
test_no_trap_backend(void)
{
	struct policy_params p = params();
	struct policy pol;
	uint32_t i, last = 0;

	policy_init(&pol, &p, true, false);
	policy_clients(&pol, 1);
	for (i = 0; i < p.clean_scans - 1; i++) {
		CHECK(policy_scanned(&pol, 0, false) == POLICY_NONE, "clean");
		CHECK((uint32_t)policy_delay_ms(&pol) > last,
		    "without a trap, the interval grows when idle");
		last = (uint32_t)policy_delay_ms(&pol);
		CHECK(last <= p.max_interval_ms, "interval capped");
	}
	CHECK(policy_scanned(&pol, 0, false) == POLICY_NONE,
	    "no trap to arm");
	CHECK(pol.state == POLICY_BACKOFF &&
	    policy_delay_ms(&pol) == p.backoff_interval_ms,
	    "back-off to the slowest rate");
	policy_scanned(&pol, 0, false);
	CHECK(pol.state == POLICY_BACKOFF, "stays backed off while clean");
	policy_input(&pol);
	CHECK(pol.state == POLICY_POLLING && policy_delay_ms(&pol) == 16,
	    "input snaps back");
	for (i = 0; i < p.clean_scans; i++)
		policy_scanned(&pol, 0, false);
	policy_scanned(&pol, 1, true);
	CHECK(pol.state == POLICY_POLLING && policy_delay_ms(&pol) == 16,
	    "dirt in back-off snaps back");
}

static void
test_fallback(void)
{
	struct policy_params p = params();
	struct policy pol;
	int i;

	policy_init(&pol, &p, false, false);
	policy_clients(&pol, 1);
	CHECK(pol.state == POLICY_FALLBACK &&
	    policy_delay_ms(&pol) == p.fallback_interval_ms,
	    "untracked backend compares at the fallback rate");
	for (i = 0; i < 50; i++)
		CHECK(policy_scanned(&pol, 0, false) == POLICY_NONE,
		    "fallback never arms");
	CHECK(policy_delay_ms(&pol) == p.backoff_interval_ms,
	    "idle fallback slows to the back-off rate");
	policy_scanned(&pol, 0, true);
	CHECK(policy_delay_ms(&pol) == p.fallback_interval_ms,
	    "change in fallback snaps back");

	policy_init(&pol, &p, true, true);
	policy_clients(&pol, 1);
	policy_tracking_lost(&pol);
	CHECK(pol.state == POLICY_FALLBACK && !pol.can_trap,
	    "tracking lost -> fallback");
}

static void
test_params(void)
{
	struct policy_params p = params();
	char why[128];

	CHECK(policy_params_check(&p, why, sizeof(why)) == 0, "defaults ok");
	p.min_interval_ms = 0;
	CHECK(policy_params_check(&p, why, sizeof(why)) < 0, "min 0");
	p = params();
	p.max_interval_ms = 1;
	CHECK(policy_params_check(&p, why, sizeof(why)) < 0, "max < min");
	p = params();
	p.clean_scans = 0;
	CHECK(policy_params_check(&p, why, sizeof(why)) < 0, "N = 0");
	p = params();
	p.fallback_interval_ms = p.backoff_interval_ms + 1;
	CHECK(policy_params_check(&p, why, sizeof(why)) < 0,
	    "fallback > backoff");
}

int
main(void)
{
	test_no_clients();
	test_backoff_to_trap();
	test_dirt_resets();
	test_no_trap_backend();
	test_fallback();
	test_params();
	if (failures) {
		fprintf(stderr, "test-policy: %d failures\n", failures);
		return 1;
	}
	printf("test-policy: ok\n");
	return 0;
}
