/* host-test-sources: kernel/tap_count.c */
/*
 * Host unit tests for the TAP 13 line counter that turns a guest's console
 * output into plan / ok / not ok / skip / bail out counts. The string
 * functions come from libc here, as kernel/kstring.h intends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/tap_count.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Feeds a whole log, one line per '\n', as the console hands them over (no '\n'). */
static struct tap_count count_log(const char *log)
{
	struct tap_count t = {0};
	char *copy = strdup(log), *line = copy, *nl;

	assert_non_null(copy);
	for (;;) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		tap_count_line(&t, line);
		if (!nl)
			break;
		line = nl + 1;
	}
	free(copy);
	return t;
}

static struct tap_count count_one(const char *line)
{
	struct tap_count t = {0};

	tap_count_line(&t, line);
	return t;
}

static void assert_counts(const struct tap_count *t, unsigned int ok, unsigned int not_ok,
			  unsigned int skipped)
{
	assert_int_equal(t->ok, ok);
	assert_int_equal(t->not_ok, not_ok);
	assert_int_equal(t->skipped, skipped);
}

static void assert_nothing(const struct tap_count *t)
{
	const struct tap_count zero = {0};

	assert_memory_equal(t, &zero, sizeof(zero));
}

static void assert_plan(const char *line, unsigned int planned)
{
	struct tap_count t = count_one(line);

	if (!t.have_plan)
		fail_msg("\"%s\" not taken as a plan", line);
	assert_int_equal(t.planned, planned);
	assert_counts(&t, 0, 0, 0);
	assert_false(t.bailed_out);
}

static void assert_ignored(const char *line)
{
	struct tap_count t = count_one(line);
	const struct tap_count zero = {0};

	if (memcmp(&t, &zero, sizeof(t)) != 0)
		fail_msg("\"%s\" changed the counts", line);
}

static void test_plans(void **state)
{
	(void)state;
	assert_plan("1..1", 1);
	assert_plan("1..5", 5);
	assert_plan("1..42", 42);
	assert_plan("1..007", 7);
	assert_plan("1..100000", 100000);
	/* 1..0 is the TAP way of saying "nothing to run". */
	assert_plan("1..0", 0);
	/* Directives and trailing text after a space belong to the plan line. */
	assert_plan("1..0 # SKIP no SVM on this CPU", 0);
	assert_plan("1..0 # skip", 0);
	assert_plan("1..3 # skip whatever", 3);
	assert_plan("1..5 ", 5);
}

static void test_malformed_plans(void **state)
{
	static const char *const bad[] = {
	    "1..",
	    "1..x",
	    "11..3",
	    "1..5x",
	    "1.. 5",
	    " 1..5",
	    "1..-1",
	    "2..5",
	    "0..5",
	    "1.5",
	    "1...5",
	    "1..5#",
	    "1..0x10",
	    "1..+5",
	    "..5",
	    "plan 1..5",
	    "1 ..5",
	    "1..5.0",
	    /* Far too many to be a plan; must not wrap around to a small number. */
	    "1..4294967296",
	    "1..4294967301",
	    "1..99999999999999999999",
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_ignored(bad[i]);
}

static void test_first_plan_only(void **state)
{
	struct tap_count t;

	(void)state;
	t = count_log("1..3\n1..7\nok 1\n1..1");
	assert_true(t.have_plan);
	assert_int_equal(t.planned, 3);

	/* A malformed plan does not count as the first one. */
	t = count_log("1..\n1..x\n11..3\n1..2\n1..9");
	assert_true(t.have_plan);
	assert_int_equal(t.planned, 2);

	/* A trailing plan, after the results, is valid TAP. */
	t = count_log("ok 1\nok 2\n1..2");
	assert_true(t.have_plan);
	assert_int_equal(t.planned, 2);
	assert_true(tap_count_clean(&t));
}

static void test_results(void **state)
{
	static const char *const oks[] = {
	    "ok",
	    "ok ",
	    "ok 1",
	    "ok 1 - first",
	    "ok 12 first without a dash",
	    "ok - no number",
	    "ok no number, no dash",
	    "ok 3 - mentions not ok but passed",
	    "ok 4 - not ok",
	    "ok 5 - Bail out! is only a description here",
	    "ok 6 # TODO not implemented, passed anyway",
	    "ok 7 - todo # todo",
	};
	static const char *const not_oks[] = {
	    "not ok",
	    "not ok ",
	    "not ok 2",
	    "not ok 2 - second",
	    "not ok - no number",
	    "not ok 3 - description says ok",
	    "not ok 4 # TODO known to fail",
	    /* A SKIP directive is only counted on ok lines. */
	    "not ok 5 # SKIP odd, but not a pass",
	};
	unsigned int i;
	struct tap_count t;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(oks); i++) {
		t = count_one(oks[i]);
		assert_counts(&t, 1, 0, 0);
		assert_false(t.have_plan);
		assert_false(t.bailed_out);
	}
	for (i = 0; i < ARRAY_SIZE(not_oks); i++) {
		t = count_one(not_oks[i]);
		assert_counts(&t, 0, 1, 0);
		assert_false(t.have_plan);
		assert_false(t.bailed_out);
	}
}

static void test_not_results(void **state)
{
	static const char *const lines[] = {
	    "",
	    "okay",
	    "ok1",
	    "ok-1",
	    "ok:",
	    "oks 3",
	    "OK 1",
	    "Ok 1",
	    "not okay",
	    "not ok1",
	    "not  ok 1",
	    "Not ok 1",
	    "NOT OK 1",
	    "notok 1",
	    " ok 1",
	    "    ok 1 - indented subtest result",
	    "\tnot ok 1",
	    "# ok 1",
	    "# not ok 1",
	    "o",
	    "not",
	    "not o",
	    "TAP version 13",
	    "# diagnostic: all fine",
	    "  ---",
	    "  message: 'not ok'",
	    "  ...",
	    "nestvisor: booting L1",
	    "Bail out",
	    "bail out!",
	    "BAIL OUT!",
	    " Bail out!",
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(lines); i++)
		assert_ignored(lines[i]);
}

static void test_skip_directive(void **state)
{
	static const char *const skips[] = {
	    "ok 1 # SKIP no NPT",
	    "ok 1 # skip no NPT",
	    "ok 1 #SKIP",
	    "ok 1 #skip",
	    "ok 1 #    SKIP lots of spaces",
	    "ok 1 - described # SKIP reason",
	    "ok # SKIP",
	    "ok 1 # SKIPPED: Perl harnesses accept this too",
	    "ok 1 # Skip any case (TAP 13)",
	    "ok 1 - escaped \\# is description # SKIP",
	};
	static const char *const not_skips[] = {
	    "ok 1 # TODO",
	    "ok 1 # todo",
	    "ok 1 # TODO skip this later",
	    "ok 1 - skip in the description",
	    "ok 1 - SKIP without a hash",
	    "ok 1 #",
	    "ok 1 # ",
	    "ok 1 # SKI",
	    "ok 1 # S K I P",
	    "ok 1 ## nothing",
	    /* Only the first unescaped '#' starts the directive (TAP 13). */
	    "ok 1 - a # b # SKIP",
	    "ok 1 - a \\# SKIP is escaped",
	};
	unsigned int i;
	struct tap_count t;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(skips); i++) {
		t = count_one(skips[i]);
		if (t.skipped != 1)
			fail_msg("\"%s\": skipped %u, want 1", skips[i], t.skipped);
		/* A skipped test still counts as ok towards the plan. */
		assert_counts(&t, 1, 0, 1);
	}
	for (i = 0; i < ARRAY_SIZE(not_skips); i++) {
		t = count_one(not_skips[i]);
		if (t.skipped != 0)
			fail_msg("\"%s\": skipped %u, want 0", not_skips[i], t.skipped);
		assert_counts(&t, 1, 0, 0);
	}
	/* One directive per result: two SKIPs on a line are one skipped test. */
	t = count_one("ok 1 # SKIP # skip");
	assert_counts(&t, 1, 0, 1);
	/* A skipped plan is a plan, not a skipped test. */
	t = count_one("1..0 # SKIP no tests");
	assert_counts(&t, 0, 0, 0);
}

static void test_bail_out(void **state)
{
	struct tap_count t;

	(void)state;
	t = count_one("Bail out!");
	assert_true(t.bailed_out);
	assert_counts(&t, 0, 0, 0);
	assert_false(t.have_plan);

	t = count_one("Bail out! MySQL is not running.");
	assert_true(t.bailed_out);

	/* Results after a bail out still count, but the run is not clean any more. */
	t = count_log("1..2\nok 1\nBail out! lost the VMCB\nok 2");
	assert_true(t.bailed_out);
	assert_counts(&t, 2, 0, 0);
	assert_false(tap_count_clean(&t));
}

static void test_empty_and_long_lines(void **state)
{
	enum { LONG = 64 * 1024 };
	char *line = malloc(LONG + 64);
	struct tap_count t = {0};

	(void)state;
	assert_non_null(line);
	tap_count_line(&t, "");
	assert_nothing(&t);

	/* A long description, with a directive at its far end. */
	strcpy(line, "ok 1 - ");
	memset(line + 7, 'x', LONG);
	strcpy(line + 7 + LONG, " # SKIP far away");
	tap_count_line(&t, line);
	assert_counts(&t, 1, 0, 1);

	/* A long run of hashes, none introducing a directive. */
	strcpy(line, "ok 2 ");
	memset(line + 5, '#', LONG);
	line[5 + LONG] = '\0';
	tap_count_line(&t, line);
	assert_counts(&t, 2, 0, 1);

	memcpy(line, "not ok 3 ", 9);
	memset(line + 9, 'y', LONG);
	line[9 + LONG] = '\0';
	tap_count_line(&t, line);
	assert_counts(&t, 2, 1, 1);

	/* A plan with a long reason, and a long garbage line that starts like one. */
	strcpy(line, "1..3 ");
	memset(line + 5, 'z', LONG);
	line[5 + LONG] = '\0';
	tap_count_line(&t, line);
	assert_true(t.have_plan);
	assert_int_equal(t.planned, 3);

	t = (struct tap_count){0};
	strcpy(line, "1..");
	memset(line + 3, '9', LONG);
	line[3 + LONG] = '\0';
	tap_count_line(&t, line);
	assert_nothing(&t);
	free(line);
}

static void test_clean(void **state)
{
	struct tap_count t;

	(void)state;
	t = count_log("1..3\nok 1\nok 2\nok 3");
	assert_true(tap_count_clean(&t));

	/* No plan at all, however many passed. */
	t = count_log("ok 1\nok 2");
	assert_false(tap_count_clean(&t));
	t = count_log("");
	assert_false(tap_count_clean(&t));

	/* Too few (a guest that died part way) or too many results. */
	t = count_log("1..3\nok 1\nok 2");
	assert_false(tap_count_clean(&t));
	t = count_log("1..2\nok 1\nok 2\nok 3");
	assert_false(tap_count_clean(&t));

	/* A failure spoils it even when the ok count matches the plan. */
	t = count_log("1..2\nok 1\nnot ok 2\nok 3");
	assert_counts(&t, 2, 1, 0);
	assert_false(tap_count_clean(&t));

	/* Skips are passes. */
	t = count_log("1..2\nok 1 # SKIP no AVIC\nok 2 # skip no vGIF");
	assert_counts(&t, 2, 0, 2);
	assert_true(tap_count_clean(&t));

	/* An empty plan with no results is clean; a bail out never is. */
	t = count_log("1..0 # SKIP nothing to do here");
	assert_true(tap_count_clean(&t));
	t = count_log("1..0\nBail out!");
	assert_false(tap_count_clean(&t));

	/* The counter is plain data: a hand-made one is judged the same way. */
	t = (struct tap_count){.have_plan = true, .planned = 4, .ok = 4};
	assert_true(tap_count_clean(&t));
	t.bailed_out = true;
	assert_false(tap_count_clean(&t));
}

/* What an L2 test guest prints, with the hypervisor's own chatter in between. */
static const char clean_log[] = "nestvisor guest starting\n"
				"TAP version 13\n"
				"1..6\n"
				"# svm: CPUID 8000_000A EDX=0x1ebfbcff\n"
				"ok 1 - vmrun returns on vmmcall\n"
				"ok 2 - intercepted cpuid exit code 0x72\n"
				"ok 3 - nested page fault reported # SKIP no NPT in L1\n"
				"# a comment mentioning not ok 3 is harmless\n"
				"ok 4 - gif cleared after vmexit\n"
				"  ---\n"
				"  message: 'diagnostics may follow a result'\n"
				"  ...\n"
				"ok 5 - clgi blocks the timer # TODO flaky, passed today\n"
				"\n"
				"ok 6 - vmload/vmsave round trip\n"
				"# passed 6/6\n";

static const char failing_log[] = "TAP version 13\n"
				  "1..4\n"
				  "ok 1 - vmrun\n"
				  "not ok 2 - event injection\n"
				  "# expected vector 14, got 13\n"
				  "ok 3 - description quoting \"not ok\"\n"
				  "not ok 4 - tsc offset # TODO\n";

static const char bailed_log[] = "TAP version 13\n"
				 "1..10\n"
				 "ok 1 - setup\n"
				 "Bail out! VMRUN failed with VMEXIT_INVALID\n";

static const char crashed_log[] = "TAP version 13\n"
				  "1..5\n"
				  "ok 1\n"
				  "ok 2\n"
				  "nestvisor: guest stopped: triple fault\n";

static void test_whole_logs(void **state)
{
	struct tap_count t;

	(void)state;
	t = count_log(clean_log);
	assert_true(t.have_plan);
	assert_int_equal(t.planned, 6);
	assert_counts(&t, 6, 0, 1);
	assert_false(t.bailed_out);
	assert_true(tap_count_clean(&t));

	t = count_log(failing_log);
	assert_int_equal(t.planned, 4);
	assert_counts(&t, 2, 2, 0);
	assert_false(tap_count_clean(&t));

	t = count_log(bailed_log);
	assert_int_equal(t.planned, 10);
	assert_counts(&t, 1, 0, 0);
	assert_true(t.bailed_out);
	assert_false(tap_count_clean(&t));

	t = count_log(crashed_log);
	assert_int_equal(t.planned, 5);
	assert_counts(&t, 2, 0, 0);
	assert_false(tap_count_clean(&t));
}

/* The same log fed twice into one counter: the second plan is ignored, results add up. */
static void test_counts_accumulate(void **state)
{
	struct tap_count t = {0};
	const char *const lines[] = {"1..2", "ok 1", "ok 2 # SKIP"};
	unsigned int round, i;

	(void)state;
	for (round = 0; round < 2; round++)
		for (i = 0; i < ARRAY_SIZE(lines); i++)
			tap_count_line(&t, lines[i]);
	assert_int_equal(t.planned, 2);
	assert_counts(&t, 4, 0, 2);
	assert_false(tap_count_clean(&t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plans),
	    cmocka_unit_test(test_malformed_plans),
	    cmocka_unit_test(test_first_plan_only),
	    cmocka_unit_test(test_results),
	    cmocka_unit_test(test_not_results),
	    cmocka_unit_test(test_skip_directive),
	    cmocka_unit_test(test_bail_out),
	    cmocka_unit_test(test_empty_and_long_lines),
	    cmocka_unit_test(test_clean),
	    cmocka_unit_test(test_whole_logs),
	    cmocka_unit_test(test_counts_accumulate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
