/* host-test-sources: kernel/pmm.c */
/*
 * Host unit tests for the physical page allocator.
 *
 * "Physical" memory is a host buffer standing for [FAKE_BASE, FAKE_END);
 * virt_offset points the allocator at it. Every usable region a test passes
 * lies inside the buffer, because pmm writes its bitmaps and zeroes pages
 * there; non-usable regions and reserved ranges may lie anywhere. The buffer
 * is filled with POISON first, so a test can also check that the allocator
 * never wrote to frames it does not own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/pmm.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)
#define TIB (1024ull * GIB)

#define FAKE_BASE (16 * MIB)
#define FAKE_SIZE (64 * MIB)
#define FAKE_END  (FAKE_BASE + FAKE_SIZE)
#define POISON	  0xa5

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct fake {
	uint8_t *buf;
	uint64_t base;
	uint64_t size;
};

static struct fake *fake_new(uint64_t base, uint64_t size)
{
	struct fake *f = malloc(sizeof(*f));

	assert_non_null(f);
	/* 2 MiB aligned so that host and "physical" alignment agree, which eases debugging. */
	f->buf = aligned_alloc(2 * MIB, size);
	assert_non_null(f->buf);
	f->base = base;
	f->size = size;
	memset(f->buf, POISON, size);
	return f;
}

static void fake_delete(struct fake *f)
{
	free(f->buf);
	free(f);
}

static uintptr_t fake_offset(const struct fake *f)
{
	return (uintptr_t)f->buf - f->base;
}

static uint8_t *fake_at(const struct fake *f, uint64_t pa)
{
	assert_in_range(pa, f->base, f->base + f->size - 1);
	return f->buf + (pa - f->base);
}

static int setup(void **state)
{
	*state = fake_new(FAKE_BASE, FAKE_SIZE);
	return 0;
}

static int teardown(void **state)
{
	fake_delete(*state);
	return 0;
}

/* White-box knowledge of where pmm_init() put its bitmaps and how big they are. */
static uint64_t map_words(const struct pmm *pmm)
{
	return (pmm->nr_frames + 63) / 64;
}

static uint64_t map_pa(const struct pmm *pmm)
{
	return (uintptr_t)pmm->bitmap - pmm->virt_offset;
}

static uint64_t map_pages_for(uint64_t nr_frames)
{
	return ((nr_frames + 63) / 64 * 2 * sizeof(uint64_t) + PAGE_SIZE - 1) / PAGE_SIZE;
}

static uint64_t pool_end(const struct pmm *pmm)
{
	return pmm->base + pmm->nr_frames * PAGE_SIZE;
}

static bool page_is_zero(const struct fake *f, uint64_t pa)
{
	static const uint8_t zero[PAGE_SIZE];

	return memcmp(fake_at(f, pa), zero, PAGE_SIZE) == 0;
}

static bool page_is_poison(const struct fake *f, uint64_t pa)
{
	static uint8_t poison[PAGE_SIZE];

	memset(poison, POISON, sizeof(poison));
	return memcmp(fake_at(f, pa), poison, PAGE_SIZE) == 0;
}

/* A copy of everything the allocator owns, to prove that a failed call changed nothing. */
struct snapshot {
	struct pmm pmm;
	uint64_t *bitmap;
	uint64_t *pool;
};

static void take_snapshot(const struct pmm *pmm, struct snapshot *s)
{
	size_t bytes = map_words(pmm) * sizeof(uint64_t);

	s->pmm = *pmm;
	s->bitmap = malloc(bytes + 1);
	s->pool = malloc(bytes + 1);
	assert_non_null(s->bitmap);
	assert_non_null(s->pool);
	memcpy(s->bitmap, pmm->bitmap, bytes);
	memcpy(s->pool, pmm->pool, bytes);
}

static void assert_unchanged(const struct pmm *pmm, struct snapshot *s)
{
	size_t bytes = map_words(pmm) * sizeof(uint64_t);

	assert_memory_equal(&s->pmm, pmm, sizeof(*pmm));
	assert_memory_equal(s->bitmap, pmm->bitmap, bytes);
	assert_memory_equal(s->pool, pmm->pool, bytes);
	free(s->bitmap);
	free(s->pool);
}

/* Everything pmm_init() takes, so the reference model can see the same input. */
struct memmap {
	const struct mem_region *regions;
	unsigned int nr_regions;
	const struct pmm_range *reserved;
	unsigned int nr_reserved;
	uint64_t limit;
};

static const char *init_memmap(struct pmm *pmm, const struct memmap *m, const struct fake *f)
{
	return pmm_init(pmm, m->regions, m->nr_regions, m->reserved, m->nr_reserved, m->limit,
			fake_offset(f));
}

static void init_ok(struct pmm *pmm, const struct memmap *m, const struct fake *f)
{
	const char *err = init_memmap(pmm, m, f);

	if (err)
		fail_msg("pmm_init: %s", err);
}

static uint64_t ref_region_end(const struct mem_region *r)
{
	return r->len > UINT64_MAX - r->base ? UINT64_MAX : r->base + r->len;
}

static bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return (a0 > b0 ? a0 : b0) < (a1 < b1 ? a1 : b1);
}

/* The rule from pmm.h, written frame by frame with no cleverness. */
static bool ref_frame_free(const struct memmap *m, uint64_t pa)
{
	uint64_t end = pa + PAGE_SIZE;
	bool covered = false;
	unsigned int i;

	if (pa < MIB || end > m->limit)
		return false;
	for (i = 0; i < m->nr_regions; i++) {
		const struct mem_region *r = &m->regions[i];

		if (r->type == MEM_USABLE) {
			if (r->base <= pa && ref_region_end(r) >= end)
				covered = true;
		} else if (overlaps(pa, end, r->base, ref_region_end(r))) {
			return false;
		}
	}
	for (i = 0; i < m->nr_reserved; i++) {
		if (overlaps(pa, end, m->reserved[i].base, m->reserved[i].end))
			return false;
	}
	return covered;
}

/* Allocates single pages until none is left; returns how many, addresses in pages[]. */
static uint64_t drain(struct pmm *pmm, uint64_t *pages, uint64_t max)
{
	uint64_t n = 0, pa;

	while ((pa = pmm_alloc(pmm, 1, PAGE_SIZE)) != 0) {
		assert_true(n < max);
		pages[n++] = pa;
	}
	assert_int_equal(pmm_free_pages(pmm), 0);
	return n;
}

/*
 * Checks pmm_init() against the reference model for a map whose usable
 * memory all lies in [lo, hi) inside the fake buffer: the bitmaps go to
 * the lowest run that fits, exactly the reference-free frames minus the
 * bitmaps get handed out, lowest first, zeroed, and no other frame of the
 * buffer is written. Returns whether pmm_init() succeeded.
 */
static bool check_against_reference(const struct memmap *m, const struct fake *f, uint64_t lo,
				    uint64_t hi)
{
	uint64_t nr = (hi - lo) / PAGE_SIZE, ext_lo = UINT64_MAX, ext_hi = 0;
	uint64_t nr_free = 0, run = 0, want_map = 0, map_pages = 0, got, i, j;
	uint64_t top = m->limit & ~(PAGE_SIZE - 1);
	bool *free_frame = calloc(nr, sizeof(bool));
	uint64_t *pages = calloc(nr + 1, sizeof(uint64_t));
	struct pmm pmm, empty = {0};
	const char *err;

	assert_non_null(free_frame);
	assert_non_null(pages);
	for (i = 0; i < nr; i++) {
		free_frame[i] = ref_frame_free(m, lo + i * PAGE_SIZE);
		nr_free += free_frame[i];
	}
	/* The span the bitmap covers: usable regions shrunk inward, above 1 MiB, below limit. */
	for (i = 0; i < m->nr_regions; i++) {
		const struct mem_region *r = &m->regions[i];
		uint64_t b = r->base < MIB ? MIB : r->base, e = ref_region_end(r);

		e = e < top ? e : top;
		if (r->type != MEM_USABLE || b >= e)
			continue;
		b = (b + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		e &= ~(PAGE_SIZE - 1);
		if (b >= e)
			continue;
		ext_lo = b < ext_lo ? b : ext_lo;
		ext_hi = e > ext_hi ? e : ext_hi;
	}
	if (ext_hi) {
		map_pages = map_pages_for((ext_hi - ext_lo) / PAGE_SIZE);
		for (i = 0; i < nr && !want_map; i++) {
			run = free_frame[i] ? run + 1 : 0;
			if (run == map_pages)
				want_map = lo + (i + 1 - map_pages) * PAGE_SIZE;
		}
	}

	err = init_memmap(&pmm, m, f);
	if (!want_map || nr_free == map_pages) {
		assert_non_null(err);
		assert_memory_equal(&pmm, &empty, sizeof(pmm));
		assert_int_equal(pmm_alloc(&pmm, 1, PAGE_SIZE), 0);
		assert_non_null(pmm_free(&pmm, lo, 1));
	} else {
		if (err)
			fail_msg("pmm_init: %s", err);
		assert_int_equal(pmm.base, ext_lo);
		assert_int_equal(pmm.nr_frames, (ext_hi - ext_lo) / PAGE_SIZE);
		assert_int_equal(map_pa(&pmm), want_map);
		assert_int_equal(pmm_free_pages(&pmm), nr_free - map_pages);
		for (i = 0; i < map_pages; i++)
			free_frame[(want_map - lo) / PAGE_SIZE + i] = false;

		got = drain(&pmm, pages, nr);
		assert_int_equal(got, nr_free - map_pages);
		for (i = 0, j = 0; i < nr; i++) {
			if (!free_frame[i])
				continue;
			assert_int_equal(pages[j], lo + i * PAGE_SIZE);
			assert_true(page_is_zero(f, pages[j]));
			j++;
		}
	}
	/* Frames in the window the allocator does not own must not have been touched. */
	for (i = 0; i < nr; i++) {
		uint64_t pa = lo + i * PAGE_SIZE;
		bool owned = free_frame[i] ||
			     (want_map && pa >= want_map && pa < want_map + map_pages * PAGE_SIZE);

		if (!owned && !page_is_poison(f, pa))
			fail_msg("frame %#llx written but not owned", (unsigned long long)pa);
	}
	free(free_frame);
	free(pages);
	return err == NULL;
}

/* xorshift64*: a fixed, seedable generator so failures replay. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return rng_next(s) % n;
}

static void test_init_single_region(void **state)
{
	struct fake *f = *state;
	const struct mem_region regions[] = {{FAKE_BASE, FAKE_SIZE, MEM_USABLE}};
	struct pmm pmm;

	assert_null(pmm_init(&pmm, regions, 1, NULL, 0, UINT64_MAX, fake_offset(f)));
	assert_int_equal(pmm.base, FAKE_BASE);
	assert_int_equal(pmm.nr_frames, FAKE_SIZE / PAGE_SIZE);
	assert_int_equal(pmm.virt_offset, fake_offset(f));
	/* 16384 frames need 2 * 256 words = 4 KiB, placed at the lowest free frame. */
	assert_int_equal(map_pages_for(pmm.nr_frames), 1);
	assert_ptr_equal(pmm.bitmap, f->buf);
	assert_ptr_equal(pmm.pool, (uint64_t *)f->buf + 256);
	assert_int_equal(pmm_free_pages(&pmm), FAKE_SIZE / PAGE_SIZE - 1);
	assert_ptr_equal(pmm_virt(&pmm, FAKE_BASE + 5 * PAGE_SIZE), f->buf + 5 * PAGE_SIZE);
	assert_int_equal(pmm_alloc(&pmm, 1, PAGE_SIZE), FAKE_BASE + PAGE_SIZE);
}

static void test_init_messy_map(void **state)
{
	struct fake *f = *state;
	const struct mem_region regions[] = {
	    {20 * MIB + 100, 3 * MIB, MEM_USABLE}, /* unaligned both ends */
	    {75 * MIB, 5 * MIB, MEM_USABLE},
	    {17 * MIB, 5 * MIB, MEM_USABLE},   /* overlaps both neighbours */
	    {21 * MIB + 10, 10, MEM_RESERVED}, /* 10 bytes still cost a frame */
	    {30 * MIB, 20 * MIB, MEM_USABLE},
	    {40 * MIB, 1 * MIB, MEM_ACPI_RECLAIMABLE}, /* inside usable: reserved wins */
	    {60 * MIB + PAGE_SIZE - 1, PAGE_SIZE + 2, MEM_USABLE}, /* shrinks to one frame */
	    {70 * MIB + 1, PAGE_SIZE - 2, MEM_USABLE},		   /* shrinks to nothing */
	    {16 * MIB, 2 * MIB, MEM_USABLE},
	    {79 * MIB, 1, MEM_BAD},
	    {76 * MIB, PAGE_SIZE, 12},	      /* unknown types are not usable */
	    {44 * MIB, 0, MEM_ACPI_NVS},      /* empty: touches nothing */
	    {0, 640 * KIB, MEM_USABLE},	      /* legacy area */
	    {5 * GIB, 3 * GIB, MEM_ACPI_NVS}, /* far away, harmless */
	    {78 * MIB, 2 * MIB, MEM_USABLE},  /* duplicate coverage */
	};
	const struct pmm_range reserved[] = {
	    {16 * MIB, 16 * MIB + 1}, /* first frame, so the bitmap moves up */
	    {45 * MIB + 5, 45 * MIB + 3 * PAGE_SIZE - 5},
	    {33 * MIB, 33 * MIB}, /* empty */
	    {77 * MIB, 100 * GIB},
	};
	const struct memmap m = {regions, ARRAY_SIZE(regions), reserved, ARRAY_SIZE(reserved),
				 UINT64_MAX};
	struct pmm pmm;

	check_against_reference(&m, f, FAKE_BASE, FAKE_END);

	/* Spot checks, in case the reference model shares a mistake. */
	memset(f->buf, POISON, f->size);
	init_ok(&pmm, &m, f);
	assert_int_equal(pmm.base, 16 * MIB);
	assert_int_equal(pmm.nr_frames, 64 * MIB / PAGE_SIZE);
	assert_int_equal(map_pa(&pmm), 16 * MIB + PAGE_SIZE);
	/*
	 * [16M+8K, 23M) minus the frame at 21M, [30M, 50M) minus [40M, 41M)
	 * and [45M, 45M+12K), the frame at 60M+4K, [75M, 77M) minus 76M.
	 */
	assert_int_equal(pmm_free_pages(&pmm), (7 * MIB - 2 * PAGE_SIZE) / PAGE_SIZE - 1 +
						   (19 * MIB) / PAGE_SIZE - 3 + 1 +
						   2 * MIB / PAGE_SIZE - 1);
}

static void test_init_random_maps(void **state)
{
	const uint64_t lo = 16 * MIB, hi = 20 * MIB, slack = MIB;
	struct fake *f = *state;
	uint64_t seed = 0x243f6a8885a308d3ull;
	int iter, nr_ok = 0;

	for (iter = 0; iter < 400; iter++) {
		struct mem_region regions[10];
		struct pmm_range reserved[5];
		struct memmap m = {regions, 0, reserved, 0, UINT64_MAX};
		unsigned int i, n;

		n = rng_below(&seed, ARRAY_SIZE(regions) + 1);
		for (i = 0; i < n; i++) {
			struct mem_region *r = &regions[i];

			if (rng_below(&seed, 10) < 6) {
				/* Usable memory has to stay inside the window the buffer backs. */
				r->type = MEM_USABLE;
				r->base = lo + rng_below(&seed, hi - lo);
				r->len = rng_below(&seed, hi - r->base + 1);
			} else {
				r->type = rng_below(&seed, 8);
				if (r->type == MEM_USABLE)
					r->type = MEM_BAD;
				r->base = lo - slack + rng_below(&seed, hi - lo + 2 * slack);
				r->len = rng_below(&seed, 20) ? rng_below(&seed, MIB) : UINT64_MAX;
			}
			/* Page-aligned edges half the time, so runs actually survive. */
			if (rng_below(&seed, 2)) {
				r->base &= ~(PAGE_SIZE - 1);
				r->len &= ~(PAGE_SIZE - 1);
			}
		}
		m.nr_regions = n;
		n = rng_below(&seed, ARRAY_SIZE(reserved) + 1);
		for (i = 0; i < n; i++) {
			reserved[i].base = lo - slack + rng_below(&seed, hi - lo + 2 * slack);
			reserved[i].end = reserved[i].base + rng_below(&seed, MIB / 2);
		}
		m.nr_reserved = n;
		if (rng_below(&seed, 4) == 0)
			m.limit = lo - slack + rng_below(&seed, hi - lo + 2 * slack);

		memset(f->buf, POISON, hi - lo);
		nr_ok += check_against_reference(&m, f, lo, hi);
	}
	/* The generator must exercise both outcomes, or this test proves little. */
	assert_in_range(nr_ok, 100, 350);
	print_message("# %d of %d random maps initialised\n", nr_ok, iter);
}

static void test_low_memory_never_handed_out(void **state)
{
	struct fake *low = fake_new(0, 4 * MIB);
	const struct mem_region regions[] = {{0, 4 * MIB, MEM_USABLE}};
	const struct mem_region only_low[] = {
	    {0, 640 * KIB, MEM_USABLE},
	    {MIB - PAGE_SIZE, PAGE_SIZE, MEM_USABLE},
	    {PAGE_SIZE, MIB - 1, MEM_USABLE}, /* the frame at 1 MiB is partial */
	};
	const struct memmap m = {regions, 1, NULL, 0, UINT64_MAX};
	uint64_t *pages = calloc(1024, sizeof(uint64_t)), n, i;
	struct pmm pmm;

	(void)state;
	assert_non_null(pages);
	init_ok(&pmm, &m, low);
	assert_int_equal(pmm.base, MIB);
	assert_int_equal(map_pa(&pmm), MIB);
	n = drain(&pmm, pages, 1024);
	assert_int_equal(n, 3 * MIB / PAGE_SIZE - 1);
	for (i = 0; i < n; i++)
		assert_true(pages[i] >= MIB);
	/* Nothing below 1 MiB was so much as written. */
	for (i = 0; i < MIB; i += PAGE_SIZE)
		assert_true(page_is_poison(low, i));
	assert_non_null(pmm_free(&pmm, 0, 1));
	assert_non_null(pmm_free(&pmm, MIB - PAGE_SIZE, 1));

	assert_string_equal(
	    pmm_init(&pmm, only_low, ARRAY_SIZE(only_low), NULL, 0, UINT64_MAX, fake_offset(low)),
	    "no usable memory above 1 MiB and below the limit");
	fake_delete(low);
	free(pages);
}

static void test_reserved_never_handed_out(void **state)
{
	struct fake *f = *state;
	const struct mem_region regions[] = {{FAKE_BASE, FAKE_SIZE, MEM_USABLE}};
	const struct pmm_range reserved[] = {
	    {16 * MIB, 18 * MIB + 1}, /* say, the kernel image */
	    {33 * MIB + 17, 33 * MIB + 18},
	    {64 * MIB - 1, 64 * MIB + 1}, /* touches two frames */
	    {79 * MIB, 81 * MIB},	  /* runs off the end */
	};
	const struct memmap m = {regions, 1, reserved, ARRAY_SIZE(reserved), UINT64_MAX};
	uint64_t *pages = calloc(FAKE_SIZE / PAGE_SIZE, sizeof(uint64_t)), n, i, j, start;
	struct pmm pmm;

	assert_non_null(pages);
	init_ok(&pmm, &m, f);
	assert_int_equal(map_pa(&pmm), 18 * MIB + PAGE_SIZE);
	start = pmm_free_pages(&pmm);
	n = drain(&pmm, pages, FAKE_SIZE / PAGE_SIZE);
	assert_int_equal(n, start);
	assert_int_equal(n, (61 * MIB) / PAGE_SIZE - 2 - 1 - 2);
	for (i = 0; i < n; i++) {
		for (j = 0; j < ARRAY_SIZE(reserved); j++)
			assert_false(overlaps(pages[i], pages[i] + PAGE_SIZE, reserved[j].base,
					      reserved[j].end));
	}
	/* The reserved frames kept their contents: pmm never wrote there. */
	for (i = 16 * MIB; i < 18 * MIB + PAGE_SIZE; i += PAGE_SIZE)
		assert_true(page_is_poison(f, i));
	assert_true(page_is_poison(f, 33 * MIB));
	assert_true(page_is_poison(f, 64 * MIB - PAGE_SIZE));
	assert_true(page_is_poison(f, 64 * MIB));
	assert_true(page_is_poison(f, 79 * MIB));
	free(pages);
}

static void test_alignment(void **state)
{
	struct fake *f = *state;
	const struct mem_region regions[] = {{FAKE_BASE, FAKE_SIZE, MEM_USABLE}};
	const struct memmap m = {regions, 1, NULL, 0, UINT64_MAX};
	struct pmm pmm;
	uint64_t start;

	init_ok(&pmm, &m, f);
	start = pmm_free_pages(&pmm);
	/* The bitmap sits at 16M; first fit, lowest address, at the asked alignment. */
	assert_int_equal(pmm_alloc(&pmm, 1, PAGE_SIZE), 16 * MIB + 4 * KIB);
	assert_int_equal(pmm_alloc(&pmm, 512, 2 * MIB), 18 * MIB);
	assert_int_equal(pmm_alloc(&pmm, 3, 16 * KIB), 16 * MIB + 16 * KIB);
	assert_int_equal(pmm_alloc(&pmm, 1, PAGE_SIZE), 16 * MIB + 8 * KIB);
	/* 12K is free but alone; 16K and 24K are taken; 32K starts a long free run. */
	assert_int_equal(pmm_alloc(&pmm, 7, 8 * KIB), 16 * MIB + 32 * KIB);
	assert_int_equal(pmm_alloc(&pmm, 513, 2 * MIB), 20 * MIB);
	/* 513 pages reach into 22M, so the next 2M boundary free is 24M. */
	assert_int_equal(pmm_alloc(&pmm, 1, 2 * MIB), 24 * MIB);
	assert_int_equal(pmm_alloc(&pmm, 1, MIB), 17 * MIB);
	assert_int_equal(pmm_alloc(&pmm, 1, MIB), 23 * MIB);
	assert_int_equal(pmm_alloc(&pmm, 1, 64 * MIB), 64 * MIB);
	assert_int_equal(pmm_alloc(&pmm, 1, 64 * MIB), 0);
	assert_int_equal(pmm_alloc(&pmm, 1, PAGE_SIZE), 16 * MIB + 12 * KIB);
	assert_int_equal(pmm_free_pages(&pmm),
			 start - (1 + 512 + 3 + 1 + 7 + 513 + 1 + 1 + 1 + 1 + 1));

	assert_null(pmm_free(&pmm, 16 * MIB + 4 * KIB, 1));
	assert_null(pmm_free(&pmm, 18 * MIB, 512));
	assert_null(pmm_free(&pmm, 16 * MIB + 16 * KIB, 3));
	assert_null(pmm_free(&pmm, 16 * MIB + 8 * KIB, 1));
	assert_null(pmm_free(&pmm, 16 * MIB + 32 * KIB, 7));
	assert_null(pmm_free(&pmm, 20 * MIB, 513));
	assert_null(pmm_free(&pmm, 24 * MIB, 1));
	assert_null(pmm_free(&pmm, 23 * MIB, 1));
	assert_null(pmm_free(&pmm, 17 * MIB, 1));
	assert_null(pmm_free(&pmm, 64 * MIB, 1));
	assert_null(pmm_free(&pmm, 16 * MIB + 12 * KIB, 1));
	assert_int_equal(pmm_free_pages(&pmm), start);
}

static void test_alignment_unaligned_pool_base(void **state)
{
	struct fake *f = *state;
	const struct mem_region regions[] = {{16 * MIB + 12 * KIB + 1, 8 * MIB, MEM_USABLE}};
	const struct memmap m = {regions, 1, NULL, 0, UINT64_MAX};
	struct pmm pmm;

	/* Alignment is of the physical address, not of the offset into the pool. */
	init_ok(&pmm, &m, f);
	assert_int_equal(pmm.base, 16 * MIB + 16 * KIB);
	assert_int_equal(map_pa(&pmm), 16 * MIB + 16 * KIB);
	assert_int_equal(pmm_alloc(&pmm, 1, 2 * MIB), 18 * MIB);
	assert_int_equal(pmm_alloc(&pmm, 1, 32 * KIB), 16 * MIB + 32 * KIB);
	assert_int_equal(pmm_alloc(&pmm, 2, PAGE_SIZE), 16 * MIB + 20 * KIB);
	assert_int_equal(pmm_alloc(&pmm, 2, 8 * KIB), 16 * MIB + 40 * KIB);
	/* The pool ends at 24M+12K: [22M, 24M) is the last 2M run that fits. */
	assert_int_equal(pool_end(&pmm), 24 * MIB + 12 * KIB);
	assert_int_equal(pmm_alloc(&pmm, 512, 2 * MIB), 20 * MIB);
	assert_int_equal(pmm_alloc(&pmm, 512, 2 * MIB), 22 * MIB);
	assert_int_equal(pmm_alloc(&pmm, 512, 2 * MIB), 0);
	assert_int_equal(pmm_alloc(&pmm, 4, 16 * KIB), 16 * MIB + 48 * KIB);
	assert_int_equal(pmm_alloc(&pmm, 3, PAGE_SIZE), 16 * MIB + 64 * KIB);
	assert_int_equal(pmm_alloc(&pmm, 1, 8 * KIB), 16 * MIB + 80 * KIB);
	/* The three frames past 24M are a whole 2M-aligned run, right at the end. */
	assert_int_equal(pmm_alloc(&pmm, 4, 2 * MIB), 0);
	assert_int_equal(pmm_alloc(&pmm, 3, 2 * MIB), 24 * MIB);
	assert_int_equal(pmm_alloc(&pmm, 1, 2 * MIB), 0);
}

static void test_alloc_invalid_args(void **state)
{
	struct fake *f = *state;
	const struct mem_region regions[] = {{FAKE_BASE, FAKE_SIZE, MEM_USABLE}};
	const struct memmap m = {regions, 1, NULL, 0, UINT64_MAX};
	const uint64_t bad_align[] = {0, 1, 512, 2048, PAGE_SIZE + 1, 3 * PAGE_SIZE, UINT64_MAX};
	struct snapshot snap;
	struct pmm pmm;
	unsigned int i;

	init_ok(&pmm, &m, f);
	assert_int_equal(pmm_alloc(&pmm, 5, PAGE_SIZE), 16 * MIB + PAGE_SIZE);
	take_snapshot(&pmm, &snap);
	assert_int_equal(pmm_alloc(&pmm, 0, PAGE_SIZE), 0);
	for (i = 0; i < ARRAY_SIZE(bad_align); i++)
		assert_int_equal(pmm_alloc(&pmm, 1, bad_align[i]), 0);
	assert_int_equal(pmm_alloc(&pmm, pmm_free_pages(&pmm) + 1, PAGE_SIZE), 0);
	assert_int_equal(pmm_alloc(&pmm, pmm.nr_frames, PAGE_SIZE), 0);
	assert_int_equal(pmm_alloc(&pmm, UINT64_MAX, PAGE_SIZE), 0);
	assert_int_equal(pmm_alloc(&pmm, UINT64_MAX / PAGE_SIZE + 2, 2 * MIB), 0);
	/* Valid but unsatisfiable alignments: no address in the pool qualifies. */
	assert_int_equal(pmm_alloc(&pmm, 1, 1ull << 63), 0);
	assert_int_equal(pmm_alloc(&pmm, 1, 128 * MIB), 0);
	assert_int_equal(pmm_alloc(&pmm, 1, 32 * GIB), 0);
	assert_unchanged(&pmm, &snap);
}

static void test_zeroing(void **state)
{
	struct fake *f = *state;
	const struct mem_region regions[] = {{FAKE_BASE, FAKE_SIZE, MEM_USABLE}};
	const struct memmap m = {regions, 1, NULL, 0, UINT64_MAX};
	struct pmm pmm;
	uint64_t pa, i;

	init_ok(&pmm, &m, f);
	/* Fresh memory is poisoned, so even the first allocation has to zero. */
	pa = pmm_alloc(&pmm, 3, PAGE_SIZE);
	for (i = 0; i < 3; i++)
		assert_true(page_is_zero(f, pa + i * PAGE_SIZE));

	memset(fake_at(f, pa), 0xcc, 3 * PAGE_SIZE);
	assert_null(pmm_free(&pmm, pa, 3));
	assert_int_equal(pmm_alloc(&pmm, 1, PAGE_SIZE), pa);
	assert_true(page_is_zero(f, pa));
	/* Pages not yet handed out again keep the old data: zeroing is at allocation. */
	assert_int_equal(*fake_at(f, pa + PAGE_SIZE), 0xcc);
	assert_int_equal(pmm_alloc(&pmm, 2, PAGE_SIZE), pa + PAGE_SIZE);
	assert_true(page_is_zero(f, pa + PAGE_SIZE));
	assert_true(page_is_zero(f, pa + 2 * PAGE_SIZE));

	/* A whole dirty 2 MiB run comes back clean. */
	pa = pmm_alloc(&pmm, 512, 2 * MIB);
	memset(fake_at(f, pa), 0xee, 2 * MIB);
	assert_null(pmm_free(&pmm, pa, 512));
	assert_int_equal(pmm_alloc(&pmm, 512, 2 * MIB), pa);
	for (i = 0; i < 512; i++)
		assert_true(page_is_zero(f, pa + i * PAGE_SIZE));
}

static void test_exhaustion(void **state)
{
	struct fake *f = *state;
	const struct mem_region regions[] = {
	    {FAKE_BASE, 10 * MIB, MEM_USABLE},
	    {40 * MIB, 3 * MIB + 5, MEM_USABLE},
	};
	const struct memmap m = {regions, ARRAY_SIZE(regions), NULL, 0, UINT64_MAX};
	uint64_t *pages = calloc(FAKE_SIZE / PAGE_SIZE, sizeof(uint64_t)), start, n, i;
	struct snapshot snap;
	struct pmm pmm;

	assert_non_null(pages);
	init_ok(&pmm, &m, f);
	start = pmm_free_pages(&pmm);
	assert_int_equal(start, 13 * MIB / PAGE_SIZE - 1);
	n = drain(&pmm, pages, FAKE_SIZE / PAGE_SIZE);
	assert_int_equal(n, start);
	for (i = 1; i < n; i++)
		assert_true(pages[i] > pages[i - 1]);

	take_snapshot(&pmm, &snap);
	assert_int_equal(pmm_alloc(&pmm, 1, PAGE_SIZE), 0);
	assert_int_equal(pmm_alloc(&pmm, 1, 2 * MIB), 0);
	assert_unchanged(&pmm, &snap);

	/* Free in a scattered order to exercise the search hint. */
	for (i = 0; i < n; i += 2)
		assert_null(pmm_free(&pmm, pages[i], 1));
	for (i = n - 1 - (n % 2 == 0 ? 0 : 1); i < n; i -= 2)
		assert_null(pmm_free(&pmm, pages[i], 1));
	assert_int_equal(pmm_free_pages(&pmm), start);
	/* Back to one piece: both regions can each be taken whole again. */
	assert_int_equal(pmm_alloc(&pmm, 10 * MIB / PAGE_SIZE - 1, PAGE_SIZE),
			 FAKE_BASE + PAGE_SIZE);
	assert_int_equal(pmm_alloc(&pmm, 3 * MIB / PAGE_SIZE, 2 * MIB), 40 * MIB);
	assert_int_equal(pmm_free_pages(&pmm), 0);
	free(pages);
}

static void test_free_rejects(void **state)
{
	struct fake *f = *state;
	const struct mem_region regions[] = {
	    {FAKE_BASE, 8 * MIB, MEM_USABLE},
	    {30 * MIB, 8 * MIB, MEM_USABLE},
	};
	const struct pmm_range reserved[] = {{32 * MIB, 32 * MIB + PAGE_SIZE}};
	const struct memmap m = {regions, ARRAY_SIZE(regions), reserved, 1, UINT64_MAX};
	struct snapshot snap;
	struct pmm pmm;
	uint64_t a, b, last;

	init_ok(&pmm, &m, f);
	a = pmm_alloc(&pmm, 4, PAGE_SIZE);
	b = pmm_alloc(&pmm, 1, PAGE_SIZE);
	assert_int_equal(b, a + 4 * PAGE_SIZE);
	assert_null(pmm_free(&pmm, a + 2 * PAGE_SIZE, 2)); /* freeing part of a run is fine */
	last = pmm_alloc(&pmm, 1, 2 * MIB);
	assert_int_equal(last, 18 * MIB);
	assert_null(pmm_free(&pmm, last, 1));
	last = pool_end(&pmm) - PAGE_SIZE;
	assert_int_equal(last, 38 * MIB - PAGE_SIZE);

	take_snapshot(&pmm, &snap);
	assert_string_equal(pmm_free(&pmm, a + 2 * PAGE_SIZE, 1),
			    "range holds frames that are already free (double free?)");
	assert_non_null(pmm_free(&pmm, a, 4)); /* straddles allocated and free */
	assert_non_null(pmm_free(&pmm, b, 2)); /* runs into a free frame */
	assert_string_equal(pmm_free(&pmm, a, 0), "freeing zero pages");
	assert_string_equal(pmm_free(&pmm, a + 1, 1), "address not page aligned");
	assert_string_equal(pmm_free(&pmm, a + PAGE_SIZE / 2, 1), "address not page aligned");
	assert_string_equal(pmm_free(&pmm, 4 * MIB, 1), "address below the pool");
	assert_string_equal(pmm_free(&pmm, 0, 1), "address below the pool");
	assert_string_equal(pmm_free(&pmm, last, 2), "range runs past the pool");
	assert_string_equal(pmm_free(&pmm, pool_end(&pmm), 1), "range runs past the pool");
	assert_string_equal(pmm_free(&pmm, TIB, 1), "range runs past the pool");
	assert_string_equal(pmm_free(&pmm, a, UINT64_MAX), "range runs past the pool");
	assert_string_equal(pmm_free(&pmm, UINT64_MAX & ~(PAGE_SIZE - 1), 1),
			    "range runs past the pool");
	/* Frames inside the pool's span that were never the pool's. */
	assert_string_equal(pmm_free(&pmm, map_pa(&pmm), 1),
			    "range holds frames that are reserved or not memory");
	assert_non_null(pmm_free(&pmm, 32 * MIB, 1));		  /* reserved */
	assert_non_null(pmm_free(&pmm, 28 * MIB, 1));		  /* hole between regions */
	assert_non_null(pmm_free(&pmm, 24 * MIB - PAGE_SIZE, 2)); /* last frame, then hole */
	assert_unchanged(&pmm, &snap);

	assert_null(pmm_free(&pmm, a, 2));
	assert_null(pmm_free(&pmm, b, 1));
	assert_non_null(pmm_free(&pmm, b, 1));
}

static void test_fragmentation(void **state)
{
	struct fake *f = *state;
	const struct mem_region regions[] = {{FAKE_BASE, FAKE_SIZE, MEM_USABLE}};
	const struct memmap m = {regions, 1, NULL, 0, UINT64_MAX};
	const struct pmm_range holes[] = {
	    {20 * MIB + PAGE_SIZE, 24 * MIB + PAGE_SIZE}, /* 4 MiB, off the 2M grid */
	    {30 * MIB, 33 * MIB},			  /* 2M aligned, 3 MiB long */
	    {41 * MIB, 44 * MIB + 512 * KIB},		  /* 3.5 MiB, one 2M slot */
	    {50 * MIB, 54 * MIB},			  /* the only fit */
	    {60 * MIB - PAGE_SIZE, 62 * MIB + PAGE_SIZE},
	};
	uint64_t *pages = calloc(FAKE_SIZE / PAGE_SIZE, sizeof(uint64_t)), n, i, pa;
	struct pmm pmm;

	assert_non_null(pages);
	init_ok(&pmm, &m, f);
	n = drain(&pmm, pages, FAKE_SIZE / PAGE_SIZE);
	for (i = 0; i < ARRAY_SIZE(holes); i++) {
		for (pa = holes[i].base; pa < holes[i].end; pa += PAGE_SIZE)
			assert_null(pmm_free(&pmm, pa, 1));
	}
	/* 4 MiB on a 2 MiB boundary fits only at 50M; then nowhere. */
	assert_int_equal(pmm_alloc(&pmm, 1024, 2 * MIB), 50 * MIB);
	assert_int_equal(pmm_alloc(&pmm, 1024, 2 * MIB), 0);
	/* Without the alignment, the lowest 4 MiB run is the unaligned one. */
	assert_int_equal(pmm_alloc(&pmm, 1024, PAGE_SIZE), 20 * MIB + PAGE_SIZE);
	/* 3 MiB at 2M alignment: [30M, 33M) exactly. */
	assert_int_equal(pmm_alloc(&pmm, 768, 2 * MIB), 30 * MIB);
	/* 2 MiB: 41M is off the grid, 42M fits. */
	assert_int_equal(pmm_alloc(&pmm, 512, 2 * MIB), 42 * MIB);
	assert_int_equal(pmm_alloc(&pmm, 512, 2 * MIB), 60 * MIB);
	assert_int_equal(pmm_alloc(&pmm, 512, 2 * MIB), 0);
	assert_int_equal(pmm_alloc(&pmm, 3, PAGE_SIZE), 41 * MIB);
	(void)n;
	free(pages);
}

static void test_large_runs(void **state)
{
	struct fake *f = *state;
	const struct mem_region regions[] = {{FAKE_BASE, FAKE_SIZE, MEM_USABLE}};
	const struct memmap m = {regions, 1, NULL, 0, UINT64_MAX};
	struct pmm pmm;
	uint64_t start;

	init_ok(&pmm, &m, f);
	start = pmm_free_pages(&pmm);
	assert_int_equal(pmm_alloc(&pmm, 512 * MIB / PAGE_SIZE, 2 * MIB), 0);
	assert_int_equal(pmm_alloc(&pmm, 32 * MIB / PAGE_SIZE, 2 * MIB), 18 * MIB);
	assert_int_equal(pmm_alloc(&pmm, 32 * MIB / PAGE_SIZE, 2 * MIB), 0);
	assert_int_equal(pmm_alloc(&pmm, 16 * MIB / PAGE_SIZE, 2 * MIB), 50 * MIB);
	assert_int_equal(pmm_alloc(&pmm, 8 * MIB / PAGE_SIZE, 2 * MIB), 66 * MIB);
	assert_int_equal(pmm_alloc(&pmm, 6 * MIB / PAGE_SIZE, 2 * MIB), 74 * MIB);
	assert_int_equal(pmm_alloc(&pmm, 512, 2 * MIB), 0);
	assert_int_equal(pmm_free_pages(&pmm), 511);
	assert_int_equal(pmm_alloc(&pmm, 511, PAGE_SIZE), 16 * MIB + PAGE_SIZE);

	assert_null(pmm_free(&pmm, 18 * MIB, 32 * MIB / PAGE_SIZE));
	assert_null(pmm_free(&pmm, 50 * MIB, 30 * MIB / PAGE_SIZE));
	assert_null(pmm_free(&pmm, 16 * MIB + PAGE_SIZE, 511));
	assert_int_equal(pmm_free_pages(&pmm), start);
	/* The whole pool as one run. */
	assert_int_equal(pmm_alloc(&pmm, start, PAGE_SIZE), 16 * MIB + PAGE_SIZE);
	assert_null(pmm_free(&pmm, 16 * MIB + PAGE_SIZE, start));
}

static void test_limit_clipping(void **state)
{
	struct fake *f = *state;
	const struct mem_region regions[] = {
	    {FAKE_BASE, FAKE_SIZE, MEM_USABLE},
	    {2 * GIB, 2 * GIB, MEM_USABLE}, /* above the limit: ignored */
	};
	const struct pmm_range reserved[] = {{39 * MIB + 1, 200 * MIB}};
	uint64_t *pages = calloc(FAKE_SIZE / PAGE_SIZE, sizeof(uint64_t)), n, i;
	struct memmap m = {regions, ARRAY_SIZE(regions), NULL, 0, 40 * MIB + 123};
	struct pmm pmm;

	assert_non_null(pages);
	init_ok(&pmm, &m, f);
	assert_int_equal(pmm.base, FAKE_BASE);
	assert_int_equal(pool_end(&pmm), 40 * MIB);
	n = drain(&pmm, pages, FAKE_SIZE / PAGE_SIZE);
	assert_int_equal(n, 24 * MIB / PAGE_SIZE - 1);
	for (i = 0; i < n; i++)
		assert_true(pages[i] + PAGE_SIZE <= 40 * MIB);
	assert_true(page_is_poison(f, 40 * MIB));

	/* A limit inside a frame drops that frame. */
	m.limit = 40 * MIB - 1;
	init_ok(&pmm, &m, f);
	assert_int_equal(pool_end(&pmm), 40 * MIB - PAGE_SIZE);

	/* Reserved ranges reaching past the limit are clipped before rounding up. */
	m.reserved = reserved;
	m.nr_reserved = 1;
	m.limit = UINT64_MAX;
	m.nr_regions = 1;
	init_ok(&pmm, &m, f);
	assert_int_equal(pmm_free_pages(&pmm), 23 * MIB / PAGE_SIZE - 1);
	m.limit = 40 * MIB;
	init_ok(&pmm, &m, f);
	assert_int_equal(pmm_free_pages(&pmm), 23 * MIB / PAGE_SIZE - 1);

	m.limit = MIB + PAGE_SIZE - 1;
	assert_non_null(init_memmap(&pmm, &m, f));
	m.limit = 0;
	assert_non_null(init_memmap(&pmm, &m, f));
	free(pages);
}

static void test_no_room_for_bitmap(void **state)
{
	struct fake *f = *state;
	/*
	 * Two frames a terabyte apart: 2^28 frames need 64 MiB of bitmaps and
	 * no free run is that long.
	 */
	const struct mem_region far_apart[] = {
	    {FAKE_BASE, 8 * MIB, MEM_USABLE},
	    {TIB, PAGE_SIZE, MEM_USABLE},
	};
	/*
	 * A reserved frame at 144M stretches the span to 32768 frames, whose
	 * bitmaps need two pages; the runs in front of it are one, then three
	 * pages long.
	 */
	const struct mem_region tight[] = {
	    {FAKE_END + 64 * MIB - PAGE_SIZE, PAGE_SIZE, MEM_USABLE},
	    {FAKE_BASE, PAGE_SIZE, MEM_USABLE},
	    {FAKE_BASE + 2 * PAGE_SIZE, 3 * PAGE_SIZE, MEM_USABLE},
	};
	const struct pmm_range far_frame[] = {
	    {FAKE_END + 64 * MIB - PAGE_SIZE, FAKE_END + 64 * MIB}};
	const struct mem_region two_pages[] = {
	    {FAKE_END + 64 * MIB - PAGE_SIZE, PAGE_SIZE, MEM_USABLE},
	    {FAKE_BASE, 2 * PAGE_SIZE, MEM_USABLE},
	};
	const struct mem_region one_page[] = {{FAKE_BASE + 5 * PAGE_SIZE, PAGE_SIZE, MEM_USABLE}};
	struct pmm pmm, empty = {0};
	uint64_t i;

	assert_string_equal(
	    pmm_init(&pmm, far_apart, ARRAY_SIZE(far_apart), NULL, 0, UINT64_MAX, fake_offset(f)),
	    "no room for the page bitmap");
	assert_memory_equal(&pmm, &empty, sizeof(pmm));
	assert_string_equal(pmm_init(&pmm, tight, 2, far_frame, 1, UINT64_MAX, fake_offset(f)),
			    "no room for the page bitmap");
	assert_memory_equal(&pmm, &empty, sizeof(pmm));
	/* Nothing may be written on the way out. */
	for (i = 0; i < 8 * MIB; i += PAGE_SIZE)
		assert_true(page_is_poison(f, FAKE_BASE + i));

	/* Bitmaps that fit but leave nothing over are no use either. */
	assert_string_equal(pmm_init(&pmm, two_pages, 2, far_frame, 1, UINT64_MAX, fake_offset(f)),
			    "no usable memory left beside the page bitmap");
	assert_memory_equal(&pmm, &empty, sizeof(pmm));
	assert_string_equal(pmm_init(&pmm, one_page, 1, NULL, 0, UINT64_MAX, fake_offset(f)),
			    "no usable memory left beside the page bitmap");

	/* With the three-page run, the bitmaps move past the first frame. */
	assert_null(pmm_init(&pmm, tight, 3, far_frame, 1, UINT64_MAX, fake_offset(f)));
	assert_int_equal(pmm.nr_frames, 32768);
	assert_int_equal(map_pa(&pmm), FAKE_BASE + 2 * PAGE_SIZE);
	assert_int_equal(pmm_free_pages(&pmm), 2);
	assert_int_equal(pmm_alloc(&pmm, 2, PAGE_SIZE), 0);
	assert_int_equal(pmm_alloc(&pmm, 1, PAGE_SIZE), FAKE_BASE);
	assert_int_equal(pmm_alloc(&pmm, 1, PAGE_SIZE), FAKE_BASE + 4 * PAGE_SIZE);
	assert_int_equal(pmm_alloc(&pmm, 1, PAGE_SIZE), 0);
	assert_non_null(pmm_free(&pmm, FAKE_END + 64 * MIB - PAGE_SIZE, 1));
}

static void test_init_errors(void **state)
{
	struct fake *f = *state;
	const struct mem_region regions[] = {
	    {FAKE_BASE, 8 * KIB, MEM_USABLE},
	    {FAKE_BASE, 8 * MIB, MEM_RESERVED},
	};
	const struct pmm_range inverted[] = {{FAKE_BASE, FAKE_BASE}, {30 * MIB, 29 * MIB}};
	const struct pmm_range cover[] = {{FAKE_BASE - 1, FAKE_BASE + 1},
					  {FAKE_BASE + 5, FAKE_BASE + 8 * KIB}};
	struct pmm pmm, empty = {0};
	uintptr_t off = fake_offset(f);

	assert_string_equal(pmm_init(&pmm, NULL, 1, NULL, 0, UINT64_MAX, off),
			    "memory map missing");
	assert_string_equal(pmm_init(&pmm, regions, 1, NULL, 1, UINT64_MAX, off),
			    "reserved range list missing");
	assert_string_equal(pmm_init(&pmm, regions, 1, inverted, 2, UINT64_MAX, off),
			    "reserved range ends before it starts");
	assert_string_equal(pmm_init(&pmm, NULL, 0, NULL, 0, UINT64_MAX, off),
			    "no usable memory above 1 MiB and below the limit");
	assert_string_equal(pmm_init(&pmm, regions + 1, 1, NULL, 0, UINT64_MAX, off),
			    "no usable memory above 1 MiB and below the limit");
	assert_string_equal(pmm_init(&pmm, regions, 2, NULL, 0, UINT64_MAX, off),
			    "no usable memory left after reservations");
	assert_string_equal(pmm_init(&pmm, regions, 1, cover, 2, UINT64_MAX, off),
			    "no usable memory left after reservations");
	assert_memory_equal(&pmm, &empty, sizeof(pmm));
	/* A failed init leaves an empty pool that is safe to call into. */
	assert_int_equal(pmm_free_pages(&pmm), 0);
	assert_int_equal(pmm_alloc(&pmm, 1, PAGE_SIZE), 0);
	assert_non_null(pmm_free(&pmm, FAKE_BASE, 1));
	assert_null(pmm_init(&pmm, regions, 1, inverted, 1, UINT64_MAX, off));
	assert_int_equal(pmm_free_pages(&pmm), 1);
}

static void test_wrapping_regions(void **state)
{
	struct fake *f = *state;
	const struct mem_region regions[] = {
	    {FAKE_BASE, UINT64_MAX, MEM_USABLE},	  /* wraps: runs to the limit */
	    {70 * MIB + 1, UINT64_MAX - 5, MEM_RESERVED}, /* wraps: blocks everything above */
	    {UINT64_MAX - 100, 1000, MEM_USABLE},	  /* wraps at the very top */
	    {UINT64_MAX - 100, 1000, MEM_BAD},
	    {UINT64_MAX, UINT64_MAX, MEM_USABLE},
	};
	const struct mem_region at_top[] = {
	    {FAKE_BASE, FAKE_SIZE, MEM_USABLE},
	    {UINT64_MAX - 2 * PAGE_SIZE + 1, 2 * PAGE_SIZE, MEM_USABLE},
	};
	const struct pmm_range reserved[] = {{UINT64_MAX - 10, UINT64_MAX}};
	struct memmap m = {regions, ARRAY_SIZE(regions), reserved, 1, FAKE_END};
	struct pmm pmm;

	init_ok(&pmm, &m, f);
	assert_int_equal(pmm.base, FAKE_BASE);
	assert_int_equal(pool_end(&pmm), FAKE_END);
	assert_int_equal(pmm_free_pages(&pmm), 54 * MIB / PAGE_SIZE - 1);
	check_against_reference(&m, f, FAKE_BASE, FAKE_END);

	/*
	 * Unlimited, a wrapping usable region runs to the last whole frame, and so does
	 * one that ends exactly at 2^64: the span is far too big for a bitmap.
	 */
	m.limit = UINT64_MAX;
	assert_string_equal(init_memmap(&pmm, &m, f), "no room for the page bitmap");
	assert_string_equal(pmm_init(&pmm, at_top, 2, NULL, 0, UINT64_MAX, fake_offset(f)),
			    "no room for the page bitmap");
	assert_null(pmm_init(&pmm, at_top, 2, NULL, 0, UINT64_MAX - PAGE_SIZE, fake_offset(f)));
	assert_null(pmm_init(&pmm, at_top, 2, reserved, 1, UINT64_MAX - PAGE_SIZE, fake_offset(f)));
	assert_int_equal(pool_end(&pmm), FAKE_END);
}

static void test_first_fit_reuses_lowest(void **state)
{
	struct fake *f = *state;
	const struct mem_region regions[] = {{FAKE_BASE, FAKE_SIZE, MEM_USABLE}};
	const struct memmap m = {regions, 1, NULL, 0, UINT64_MAX};
	struct pmm pmm;
	uint64_t a, b, c;

	init_ok(&pmm, &m, f);
	a = pmm_alloc(&pmm, 1, PAGE_SIZE);
	b = pmm_alloc(&pmm, 1, PAGE_SIZE);
	c = pmm_alloc(&pmm, 1, PAGE_SIZE);
	assert_int_equal(b, a + PAGE_SIZE);
	assert_int_equal(c, b + PAGE_SIZE);
	assert_null(pmm_free(&pmm, b, 1));
	assert_int_equal(pmm_alloc(&pmm, 1, PAGE_SIZE), b);
	assert_null(pmm_free(&pmm, a, 1));
	assert_int_equal(pmm_alloc(&pmm, 2, PAGE_SIZE), c + PAGE_SIZE);
	assert_int_equal(pmm_alloc(&pmm, 1, PAGE_SIZE), a);
	assert_int_equal(pmm_alloc(&pmm, 1, PAGE_SIZE), c + 3 * PAGE_SIZE);
}

/* Lowest aligned run of n free frames in the shadow, scanned the slow, obvious way. */
static uint64_t ref_first_fit(const struct pmm *pmm, const bool *shadow, uint64_t n, uint64_t align)
{
	uint64_t nr = pmm->nr_frames, i, run = 0, pa;
	uint64_t *run_from = calloc(nr + 1, sizeof(uint64_t));

	assert_non_null(run_from);
	for (i = nr; i-- > 0;)
		run_from[i] = shadow[i] ? run_from[i + 1] + 1 : 0;
	for (pa = (pmm->base + align - 1) / align * align; pa < pool_end(pmm); pa += align) {
		run = run_from[(pa - pmm->base) / PAGE_SIZE];
		if (run >= n)
			break;
	}
	free(run_from);
	return pa < pool_end(pmm) && run >= n ? pa : 0;
}

struct allocation {
	uint64_t pa;
	uint64_t n;
};

static void test_random_alloc_free(void **state)
{
	struct fake *f = *state;
	const struct mem_region regions[] = {
	    {FAKE_BASE + 3 * PAGE_SIZE, 34 * MIB, MEM_USABLE},
	    {50 * MIB + PAGE_SIZE, 30 * MIB - PAGE_SIZE, MEM_USABLE},
	    {60 * MIB, MIB, MEM_ACPI_NVS},
	};
	const struct pmm_range reserved[] = {{33 * MIB, 33 * MIB + 8 * KIB},
					     {70 * MIB + 1, 70 * MIB + 2}};
	const struct memmap m = {regions, ARRAY_SIZE(regions), reserved, ARRAY_SIZE(reserved),
				 UINT64_MAX};
	const uint64_t aligns[] = {PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, 8 * KIB,
				   64 * KIB,  2 * MIB,	 4 * MIB};
	struct allocation *live = calloc(FAKE_SIZE / PAGE_SIZE, sizeof(*live));
	bool *shadow = calloc(FAKE_SIZE / PAGE_SIZE, sizeof(bool));
	uint64_t seed = 0x9e3779b97f4a7c15ull, nr_live = 0, start, nr_free = 0, i, k;
	struct pmm pmm;
	int op;

	assert_non_null(live);
	assert_non_null(shadow);
	init_ok(&pmm, &m, f);
	for (i = 0; i < pmm.nr_frames; i++) {
		uint64_t pa = pmm.base + i * PAGE_SIZE;

		shadow[i] = ref_frame_free(&m, pa) && pa != map_pa(&pmm);
		nr_free += shadow[i];
	}
	start = pmm_free_pages(&pmm);
	assert_int_equal(start, nr_free);

	for (op = 0; op < 6000; op++) {
		if (nr_live && rng_below(&seed, 100) < 45) {
			/* Free a live allocation, sometimes in two halves. */
			struct allocation a;

			k = rng_below(&seed, nr_live);
			a = live[k];
			live[k] = live[--nr_live];
			if (a.n > 1 && rng_below(&seed, 4) == 0) {
				assert_null(
				    pmm_free(&pmm, a.pa + (a.n / 2) * PAGE_SIZE, a.n - a.n / 2));
				assert_null(pmm_free(&pmm, a.pa, a.n / 2));
			} else {
				assert_null(pmm_free(&pmm, a.pa, a.n));
			}
			assert_non_null(pmm_free(&pmm, a.pa, 1));
			for (i = 0; i < a.n; i++)
				shadow[(a.pa - pmm.base) / PAGE_SIZE + i] = true;
			nr_free += a.n;
		} else {
			uint64_t n, align, want, got, r = rng_below(&seed, 100);

			n = r < 50   ? 1
			    : r < 70 ? 2 + rng_below(&seed, 2)
			    : r < 95 ? 1 + rng_below(&seed, 64)
				     : 512 * (1 + rng_below(&seed, 4));
			align = aligns[rng_below(&seed, ARRAY_SIZE(aligns))];
			want = ref_first_fit(&pmm, shadow, n, align);
			got = pmm_alloc(&pmm, n, align);
			assert_int_equal(got, want);
			if (!got)
				continue;
			for (i = 0; i < n; i++) {
				uint64_t pa = got + i * PAGE_SIZE;

				shadow[(pa - pmm.base) / PAGE_SIZE] = false;
				/* Check the page came zeroed, then dirty it for the next owner. */
				assert_int_equal(*(uint64_t *)fake_at(f, pa), 0);
				assert_int_equal(*(uint64_t *)fake_at(f, pa + PAGE_SIZE - 8), 0);
				memset(fake_at(f, pa), 0x5a, 8);
				memset(fake_at(f, pa + PAGE_SIZE - 8), 0x5a, 8);
			}
			live[nr_live++] = (struct allocation){got, n};
			nr_free -= n;
		}
		assert_int_equal(pmm_free_pages(&pmm), nr_free);
		for (i = 0; i < pmm.nr_frames && !shadow[i]; i++)
			;
		assert_int_equal(pmm.hint, i);
	}
	while (nr_live) {
		nr_live--;
		assert_null(pmm_free(&pmm, live[nr_live].pa, live[nr_live].n));
	}
	assert_int_equal(pmm_free_pages(&pmm), start);
	free(live);
	free(shadow);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_init_single_region, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_init_messy_map, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_init_random_maps, setup, teardown),
	    cmocka_unit_test(test_low_memory_never_handed_out),
	    cmocka_unit_test_setup_teardown(test_reserved_never_handed_out, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alignment, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alignment_unaligned_pool_base, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alloc_invalid_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zeroing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exhaustion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_rejects, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fragmentation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_large_runs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limit_clipping, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_room_for_bitmap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrapping_regions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_first_fit_reuses_lowest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_random_alloc_free, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
