/* host-test-sources: arch/x86/svm/npt.c kernel/pmm.c */
/*
 * Host unit tests for the L0 nested page tables.
 *
 * The pmm runs over a host buffer standing for [FAKE_BASE, FAKE_END), as in
 * test_pmm.c, and only ever has to hold the tables: npt never touches the
 * memory it maps, so host_base is just a number and a mapping of hundreds
 * of GiB costs a few hundred table pages. One stretch of the buffer is kept
 * out of the pmm and poisoned, so that a mapping pointed at it can show the
 * mapped memory is never written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/cpu_bits.h"
#include "arch/x86/svm/npt.h"
#include "kernel/pmm.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)

#define FAKE_BASE (16 * MIB)
#define FAKE_SIZE (8 * MIB)
/* The pmm gets the first 6 MiB; the last 2 MiB stand for guest memory. */
#define POOL_SIZE  (6 * MIB)
#define GUEST_BASE (FAKE_BASE + POOL_SIZE)
#define GUEST_SIZE (FAKE_SIZE - POOL_SIZE)
#define POISON	   0xa5

#define ADDR_MASK   0x000FFFFFFFFFF000ull
#define TABLE_FLAGS (PTE_P | PTE_W | PTE_U)
#define LEAF_FLAGS  (PTE_P | PTE_W | PTE_U)
#define NOT_PRESENT (~0ull)
#define ROOT_UNSET  0xdead0000ull
#define OOM_REASON  "npt: out of memory for nested page tables"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct env {
	uint8_t *buf;
	struct pmm pmm;
	uint64_t free_at_start;
};

static uintptr_t env_offset(const struct env *e)
{
	return (uintptr_t)e->buf - FAKE_BASE;
}

/* A fresh pmm over the pool part of the buffer, with the whole buffer poisoned. */
static void env_reset(struct env *e)
{
	const struct mem_region regions[] = {{FAKE_BASE, POOL_SIZE, MEM_USABLE}};
	const char *err;

	memset(e->buf, POISON, FAKE_SIZE);
	err = pmm_init(&e->pmm, regions, 1, NULL, 0, UINT64_MAX, env_offset(e));
	if (err)
		fail_msg("pmm_init: %s", err);
	e->free_at_start = pmm_free_pages(&e->pmm);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->buf = aligned_alloc(2 * MIB, FAKE_SIZE);
	assert_non_null(e->buf);
	env_reset(e);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	free(e->buf);
	free(e);
	return 0;
}

static bool aligned_2m(uint64_t x)
{
	return (x & (2 * MIB - 1)) == 0;
}

static uint64_t div_round_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/*
 * The table pages a mapping needs, counted from the layout rather than from
 * the code: one PML4, one PDPT (size is at most 512 GiB), one PD per GiB,
 * and one PT per 2 MiB stretch that is not a single large page. With
 * host_base 2 MiB aligned only a short tail needs a PT; otherwise every
 * stretch does.
 */
static uint64_t expected_tables(uint64_t host_base, uint64_t size)
{
	uint64_t pts =
	    aligned_2m(host_base) ? (size % (2 * MIB) != 0) : div_round_up(size, 2 * MIB);

	return 2 + div_round_up(size, GIB) + pts;
}

static const uint64_t *raw(const struct env *e, uint64_t pa)
{
	return pmm_virt(&e->pmm, pa);
}

struct walk {
	uint64_t tables[1024];
	uint64_t nr_tables;
};

/* Checks a table entry's pointer and flags, and notes the page for the distinctness check. */
static uint64_t check_table_entry(const struct env *e, struct walk *w, uint64_t entry)
{
	uint64_t pa = entry & ADDR_MASK;

	if ((entry & ~ADDR_MASK) != TABLE_FLAGS)
		fail_msg("table entry %#llx: flags are not exactly P|W|U",
			 (unsigned long long)entry);
	/* A table must be a page the pmm handed out. */
	assert_in_range(pa, e->pmm.base, e->pmm.base + e->pmm.nr_frames * PAGE_SIZE - PAGE_SIZE);
	assert_true(w->nr_tables < ARRAY_SIZE(w->tables));
	w->tables[w->nr_tables++] = pa;
	return pa;
}

static void check_leaf(uint64_t entry, uint64_t host_base, uint64_t gpa, bool big)
{
	uint64_t want = (host_base + gpa) | LEAF_FLAGS | (big ? PTE_PS : 0);

	if (entry != want)
		fail_msg("leaf for gpa %#llx is %#llx, want %#llx", (unsigned long long)gpa,
			 (unsigned long long)entry, (unsigned long long)want);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Walks the raw tables entry by entry: a present entry exactly where
 * gpa < size, each leaf the size the layout asks for with exactly the
 * expected address and flags (no NX, no PS on 4 KiB leaves), every
 * non-present entry zero, every table reachable once. Returns the number
 * of table pages.
 */
static uint64_t check_tables(const struct env *e, uint64_t root, uint64_t host_base, uint64_t size)
{
	struct walk *w = calloc(1, sizeof(*w));
	uint64_t i, j, k, l, n;

	assert_non_null(w);
	assert_int_equal(root & (PAGE_SIZE - 1), 0);
	w->tables[w->nr_tables++] = root;
	for (i = 0; i < 512; i++) {
		uint64_t pml4e = raw(e, root)[i], pdpt;

		if (i > 0) {
			assert_int_equal(pml4e, 0);
			continue;
		}
		pdpt = check_table_entry(e, w, pml4e);
		for (j = 0; j < 512; j++) {
			uint64_t gpa1 = j * GIB, pdpte = raw(e, pdpt)[j], pd;

			if (gpa1 >= size) {
				assert_int_equal(pdpte, 0);
				continue;
			}
			pd = check_table_entry(e, w, pdpte);
			for (k = 0; k < 512; k++) {
				uint64_t gpa2 = gpa1 + k * 2 * MIB, pde = raw(e, pd)[k], pt;
				bool big = aligned_2m(host_base) && size - gpa2 >= 2 * MIB;

				if (gpa2 >= size) {
					assert_int_equal(pde, 0);
					continue;
				}
				if (big) {
					check_leaf(pde, host_base, gpa2, true);
					continue;
				}
				pt = check_table_entry(e, w, pde);
				for (l = 0; l < 512; l++) {
					uint64_t gpa3 = gpa2 + l * PAGE_SIZE, pte = raw(e, pt)[l];

					if (gpa3 >= size)
						assert_int_equal(pte, 0);
					else
						check_leaf(pte, host_base, gpa3, false);
				}
			}
		}
	}
	qsort(w->tables, w->nr_tables, sizeof(w->tables[0]), cmp_u64);
	for (i = 1; i < w->nr_tables; i++)
		assert_true(w->tables[i] != w->tables[i - 1]);
	n = w->nr_tables;
	free(w);
	return n;
}

static void expect_at(const struct env *e, uint64_t root, uint64_t host_base, uint64_t gpa)
{
	uint64_t got = npt_translate(&e->pmm, root, gpa);

	if (got != host_base + gpa)
		fail_msg("gpa %#llx translates to %#llx, want %#llx", (unsigned long long)gpa,
			 (unsigned long long)got, (unsigned long long)(host_base + gpa));
}

static void expect_absent(const struct env *e, uint64_t root, uint64_t gpa)
{
	uint64_t got = npt_translate(&e->pmm, root, gpa);

	if (got != NOT_PRESENT)
		fail_msg("gpa %#llx translates to %#llx, want not present", (unsigned long long)gpa,
			 (unsigned long long)got);
}

/*
 * Translation at the interesting places: first and last byte, both sides of
 * every page, 2 MiB and 1 GiB boundary near the ends and the middle; every
 * page (at a varying offset) when there are not too many; and the addresses
 * from size on, up to the top of the PML4's reach, absent.
 */
static void check_translate(const struct env *e, uint64_t root, uint64_t host_base, uint64_t size)
{
	const uint64_t bounds[] = {0,
				   PAGE_SIZE,
				   2 * MIB,
				   GIB,
				   2 * GIB,
				   size / 2,
				   size,
				   size - PAGE_SIZE,
				   size - 2 * MIB,
				   size - GIB,
				   size - 1 * GIB + 2 * MIB};
	const uint64_t beyond[] = {size,
				   size + 1,
				   size + PAGE_SIZE - 1,
				   size + PAGE_SIZE,
				   (size + 2 * MIB - 1) & ~(2 * MIB - 1),
				   (size + GIB - 1) & ~(GIB - 1),
				   0xFEE00000ull,
				   0xFEC00000ull,
				   0xFFFFF000ull,
				   511 * GIB + 0xFFF,
				   512 * GIB,
				   1ull << 46,
				   (1ull << 47) + 0x1234,
				   (1ull << 48) - 1};
	uint64_t i, pages = size / PAGE_SIZE;

	for (i = 0; i < ARRAY_SIZE(bounds); i++) {
		const int64_t deltas[] = {-(int64_t)PAGE_SIZE - 1, -1, 0, 1,
					  (int64_t)PAGE_SIZE - 1};
		unsigned int d;

		/* Entries below 0 or above size wrap or fall out and are skipped. */
		for (d = 0; d < ARRAY_SIZE(deltas); d++) {
			uint64_t gpa = bounds[i] + (uint64_t)deltas[d];

			if (gpa < size)
				expect_at(e, root, host_base, gpa);
		}
	}
	if (pages <= 300000) {
		for (i = 0; i < pages; i++)
			expect_at(e, root, host_base, i * PAGE_SIZE + (i * 8 + 7) % PAGE_SIZE);
	} else {
		/* A 2 MiB step plus a page and a byte lands on every table and every offset mix. */
		for (i = 0; i < size; i += 2 * MIB + PAGE_SIZE + 1)
			expect_at(e, root, host_base, i);
	}
	for (i = 0; i < ARRAY_SIZE(beyond); i++)
		if (beyond[i] >= size)
			expect_absent(e, root, beyond[i]);
}

/* Builds, checks tables and translations, destroys, and checks every page came back. */
static void check_mapping(struct env *e, uint64_t host_base, uint64_t size)
{
	uint64_t before = pmm_free_pages(&e->pmm), root = ROOT_UNSET,
		 want = expected_tables(host_base, size);
	const char *err = npt_build(&e->pmm, host_base, size, &root);

	if (err)
		fail_msg("npt_build(%#llx, %#llx): %s", (unsigned long long)host_base,
			 (unsigned long long)size, err);
	assert_true(root != ROOT_UNSET);
	assert_int_equal(before - pmm_free_pages(&e->pmm), want);
	assert_int_equal(check_tables(e, root, host_base, size), want);
	check_translate(e, root, host_base, size);
	npt_destroy(&e->pmm, root);
	assert_int_equal(pmm_free_pages(&e->pmm), before);
	/* Every page really is free again: the whole pool comes back as one run. */
	assert_int_not_equal(pmm_alloc(&e->pmm, before, PAGE_SIZE), 0);
	env_reset(e);
}

static void test_small_sizes(void **state)
{
	struct env *e = *state;

	check_mapping(e, 64 * MIB, 2 * MIB);
	check_mapping(e, 64 * MIB, 32 * MIB);
	check_mapping(e, 64 * MIB, 2 * MIB + 4 * KIB);
	check_mapping(e, 64 * MIB, 4 * KIB);
	check_mapping(e, 64 * MIB, 4 * MIB - 4 * KIB);
	/* gpa 0 onto host 0 is a valid mapping too. */
	check_mapping(e, 0, 6 * MIB + 12 * KIB);
}

static void test_host_base_4k_aligned(void **state)
{
	struct env *e = *state;

	/* Only 4 KiB aligned, so not a single 2 MiB page is possible. */
	check_mapping(e, 64 * MIB + 4 * KIB, 2 * MIB);
	check_mapping(e, 64 * MIB + 4 * KIB, 32 * MIB);
	check_mapping(e, 64 * MIB + 4 * KIB, 2 * MIB + 4 * KIB);
	check_mapping(e, 64 * MIB + 4 * KIB, 4 * KIB);
	check_mapping(e, 2 * MIB - 4 * KIB, 4 * MIB);
	/* 1 MiB aligned is still not 2 MiB aligned. */
	check_mapping(e, 3 * MIB, 8 * MIB);
}

static void test_cross_1g(void **state)
{
	struct env *e = *state;

	/* Two PDs; the tail after the last large page needs one PT. */
	check_mapping(e, 64 * GIB, GIB + 2 * MIB + 4 * KIB);
	check_mapping(e, 64 * GIB, GIB + 4 * KIB);
	check_mapping(e, 64 * GIB, 3 * GIB);
	/* All 4 KiB: 513 PTs across the boundary. */
	check_mapping(e, 64 * GIB + 4 * KIB, GIB + 8 * KIB);
	/* The gpa side crosses 1 GiB while the host side does not start aligned to it. */
	check_mapping(e, 6 * MIB, 2 * GIB - 2 * MIB + 4 * KIB);
}

static void test_max_size(void **state)
{
	struct env *e = *state;

	/* 512 GiB fills the one PDPT: 514 table pages. */
	check_mapping(e, 1024 * GIB, 512 * GIB);
	check_mapping(e, 1024 * GIB, 512 * GIB - 4 * KIB);
	/* Host addresses near the top of the 52-bit physical space. */
	check_mapping(e, (1ull << 52) - 512 * GIB, 512 * GIB);
}

static void expect_rejected_because(struct env *e, uint64_t host_base, uint64_t size,
				    const char *why)
{
	uint64_t before = pmm_free_pages(&e->pmm), root = ROOT_UNSET;
	const char *err = npt_build(&e->pmm, host_base, size, &root);

	if (!err)
		fail_msg("npt_build(%#llx, %#llx) accepted", (unsigned long long)host_base,
			 (unsigned long long)size);
	assert_non_null(strstr(err, why));
	assert_int_equal(root, ROOT_UNSET);
	assert_int_equal(pmm_free_pages(&e->pmm), before);
}

static void expect_rejected(struct env *e, uint64_t host_base, uint64_t size)
{
	expect_rejected_because(e, host_base, size, "4 KiB aligned");
}

static void test_rejects_bad_arguments(void **state)
{
	struct env *e = *state;

	expect_rejected(e, 64 * MIB, 0);
	expect_rejected(e, 64 * MIB, 1);
	expect_rejected(e, 64 * MIB, 4 * KIB + 1);
	expect_rejected(e, 64 * MIB, 2 * MIB - 1);
	expect_rejected(e, 64 * MIB + 1, 2 * MIB);
	expect_rejected(e, 64 * MIB + 0x800, 4 * KIB);
	expect_rejected(e, 0xFFF, 4 * KIB);
	expect_rejected(e, 64 * MIB, 512 * GIB + 4 * KIB);
	expect_rejected(e, 64 * MIB, 513 * GIB);
	expect_rejected(e, 64 * MIB, 1ull << 48);
	expect_rejected(e, 64 * MIB, ~0ull & ~(PAGE_SIZE - 1));
	expect_rejected(e, 64 * MIB, ~0ull);
	/* Leaf addresses must fit the 52-bit physical field; a wrap is refused too. */
	expect_rejected_because(e, 1ull << 52, 4 * KIB, "52-bit");
	expect_rejected_because(e, (1ull << 52) - 4 * KIB, 8 * KIB, "52-bit");
	expect_rejected_because(e, 1ull << 63, 8 * KIB, "52-bit");
	expect_rejected_because(e, ~0ull << 12, 8 * KIB, "52-bit");
	/* The pool is untouched: every page still comes back as one run. */
	assert_int_equal(pmm_free_pages(&e->pmm), e->free_at_start);
	assert_int_not_equal(pmm_alloc(&e->pmm, e->free_at_start, PAGE_SIZE), 0);
}

/*
 * With the pmm left n pages short of what the tables need, for every n:
 * the build fails with a reason, *root is untouched, and every page it took
 * is back. The lowest pages are held by a filler so that the n free ones
 * form the top run, which must be allocatable in one piece afterwards.
 */
static void check_out_of_memory(struct env *e, uint64_t host_base, uint64_t size)
{
	uint64_t need = expected_tables(host_base, size), n;

	for (n = 0; n <= need; n++) {
		uint64_t root = ROOT_UNSET, filler = e->free_at_start - n;
		const char *err;

		assert_int_not_equal(pmm_alloc(&e->pmm, filler, PAGE_SIZE), 0);
		assert_int_equal(pmm_free_pages(&e->pmm), n);
		err = npt_build(&e->pmm, host_base, size, &root);
		if (n == need) {
			assert_null(err);
			assert_int_equal(pmm_free_pages(&e->pmm), 0);
			npt_destroy(&e->pmm, root);
		} else {
			assert_non_null(err);
			assert_string_equal(err, OOM_REASON);
			assert_int_equal(root, ROOT_UNSET);
		}
		assert_int_equal(pmm_free_pages(&e->pmm), n);
		if (n)
			assert_int_not_equal(pmm_alloc(&e->pmm, n, PAGE_SIZE), 0);
		env_reset(e);
	}
}

static void test_out_of_memory(void **state)
{
	struct env *e = *state;

	/* Fails at the PML4, the PDPT, the PD and the PT in turn. */
	check_out_of_memory(e, 64 * MIB, 2 * MIB + 4 * KIB);
	/* Fails part way through the PTs. */
	check_out_of_memory(e, 64 * MIB + 4 * KIB, 8 * MIB);
	/* Fails at the second PD, after a whole first GiB of large pages. */
	check_out_of_memory(e, 64 * GIB, GIB + 2 * MIB + 4 * KIB);
	check_out_of_memory(e, 64 * GIB + 4 * KIB, GIB + 8 * KIB);
}

static void test_mapped_memory_untouched(void **state)
{
	struct env *e = *state;
	const uint64_t bases[] = {GUEST_BASE, GUEST_BASE + 4 * KIB};
	const uint64_t sizes[] = {GUEST_SIZE, GUEST_SIZE - 8 * KIB};
	unsigned int i;
	uint64_t off;

	/* Map the poisoned stretch outside the pool; build and destroy must not write it. */
	for (i = 0; i < ARRAY_SIZE(bases); i++) {
		uint64_t root = 0;

		assert_null(npt_build(&e->pmm, bases[i], sizes[i], &root));
		expect_at(e, root, bases[i], 0);
		expect_at(e, root, bases[i], sizes[i] - 1);
		npt_destroy(&e->pmm, root);
		for (off = 0; off < GUEST_SIZE; off++)
			assert_int_equal(e->buf[POOL_SIZE + off], POISON);
	}
	assert_int_equal(pmm_free_pages(&e->pmm), e->free_at_start);
}

/*
 * The realistic case: the guest block comes from the same pmm as the
 * tables. Destroying the tables must not take the guest block with them
 * (a 2 MiB leaf is not a table), and neither must write into it.
 */
static void test_guest_block_from_same_pmm(void **state)
{
	struct env *e = *state;
	const uint64_t sizes[] = {2 * MIB, 2 * MIB + 8 * KIB};
	const uint64_t aligns[] = {2 * MIB, PAGE_SIZE};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint64_t nr = sizes[i] / PAGE_SIZE, block, root = 0, held, off;

		block = pmm_alloc(&e->pmm, nr, aligns[i]);
		assert_int_not_equal(block, 0);
		held = pmm_free_pages(&e->pmm);
		memset(pmm_virt(&e->pmm, block), 0x3c, sizes[i]);
		assert_null(npt_build(&e->pmm, block, sizes[i], &root));
		assert_int_equal(check_tables(e, root, block, sizes[i]),
				 expected_tables(block, sizes[i]));
		check_translate(e, root, block, sizes[i]);
		npt_destroy(&e->pmm, root);
		assert_int_equal(pmm_free_pages(&e->pmm), held);
		for (off = 0; off < sizes[i]; off++)
			assert_int_equal(((uint8_t *)pmm_virt(&e->pmm, block))[off], 0x3c);
		/* Still allocated, so exactly one free of it succeeds. */
		assert_null(pmm_free(&e->pmm, block, nr));
		assert_non_null(pmm_free(&e->pmm, block, 1));
		assert_int_equal(pmm_free_pages(&e->pmm), e->free_at_start);
	}
}

static void test_two_mappings_independent(void **state)
{
	struct env *e = *state;
	uint64_t a = 0, b = 0, before = pmm_free_pages(&e->pmm), after_a;

	assert_null(npt_build(&e->pmm, 64 * MIB, 4 * MIB + 4 * KIB, &a));
	after_a = pmm_free_pages(&e->pmm);
	assert_null(npt_build(&e->pmm, 128 * MIB + 4 * KIB, 2 * MIB, &b));
	assert_int_not_equal(a, b);
	expect_at(e, a, 64 * MIB, 4 * MIB);
	expect_at(e, b, 128 * MIB + 4 * KIB, 2 * MIB - 1);
	expect_absent(e, b, 2 * MIB);

	/* Destroying one returns exactly its own pages and leaves the other working. */
	npt_destroy(&e->pmm, a);
	assert_int_equal(before - after_a, expected_tables(64 * MIB, 4 * MIB + 4 * KIB));
	assert_int_equal(pmm_free_pages(&e->pmm),
			 before - expected_tables(128 * MIB + 4 * KIB, 2 * MIB));
	assert_int_equal(check_tables(e, b, 128 * MIB + 4 * KIB, 2 * MIB),
			 expected_tables(128 * MIB + 4 * KIB, 2 * MIB));
	check_translate(e, b, 128 * MIB + 4 * KIB, 2 * MIB);
	npt_destroy(&e->pmm, b);
	assert_int_equal(pmm_free_pages(&e->pmm), before);
}

static void test_destroy_null_root(void **state)
{
	struct env *e = *state;

	/* Root 0 means "never built": nothing to free, and nothing is read. */
	npt_destroy(&e->pmm, 0);
	assert_int_equal(pmm_free_pages(&e->pmm), e->free_at_start);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_small_sizes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_host_base_4k_aligned, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cross_1g, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_max_size, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rejects_bad_arguments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_of_memory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mapped_memory_untouched, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_guest_block_from_same_pmm, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_mappings_independent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_destroy_null_root, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
