/*
 * Physical page allocator.
 *
 * The memory map is only read during pmm_init(): it is boiled down to two
 * bitmaps that cover [base, base + nr_frames * PAGE_SIZE), and allocation is
 * a first-fit scan that skips whole 64-bit words of used frames. Firmware
 * memory maps are small, so init favours obvious quadratic loops over
 * sorting and merging.
 */
#include <stdbool.h>

#include "kernel/kstring.h"
#include "kernel/pmm.h"

#define PAGE_MASK      (PAGE_SIZE - 1)
#define BITS_PER_WORD  64u
#define LOW_MEMORY_END 0x100000ull /* legacy area, never handed out */

/* The memory map as pmm_init() was given it, clipped to the page below limit. */
struct layout {
	const struct mem_region *regions;
	unsigned int nr_regions;
	const struct pmm_range *reserved;
	unsigned int nr_reserved;
	uint64_t top;
};

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* The caller makes sure x + align - 1 does not overflow. */
static uint64_t align_up(uint64_t x, uint64_t align)
{
	return (x + align - 1) & ~(align - 1);
}

static uint64_t align_down(uint64_t x, uint64_t align)
{
	return x & ~(align - 1);
}

/* A region whose base + len wraps is taken to run to the top of the address space. */
static uint64_t region_end(const struct mem_region *r)
{
	return r->len > UINT64_MAX - r->base ? UINT64_MAX : r->base + r->len;
}

/*
 * The whole frames of usable region i between 1 MiB and top: a partly
 * usable frame is not usable, so the region shrinks inward.
 */
static bool usable_extent(const struct layout *l, uint64_t i, struct pmm_range *out)
{
	const struct mem_region *r = &l->regions[i];
	uint64_t base = max_u64(r->base, LOW_MEMORY_END);
	uint64_t end = min_u64(region_end(r), l->top);

	if (r->type != MEM_USABLE || base >= end)
		return false;
	/* No overflow: base < end <= top, and top is page aligned. */
	out->base = align_up(base, PAGE_SIZE);
	out->end = align_down(end, PAGE_SIZE);
	return out->base < out->end;
}

static uint64_t nr_obstacles(const struct layout *l)
{
	return (uint64_t)l->nr_regions + l->nr_reserved;
}

/*
 * Obstacle i is a non-usable region (i < nr_regions) or a reserved range.
 * Any frame it touches is not free, so it grows outward to page boundaries.
 */
static bool obstacle_extent(const struct layout *l, uint64_t i, struct pmm_range *out)
{
	uint64_t base, end;

	if (i < l->nr_regions) {
		if (l->regions[i].type == MEM_USABLE)
			return false;
		base = l->regions[i].base;
		end = region_end(&l->regions[i]);
	} else {
		base = l->reserved[i - l->nr_regions].base;
		end = l->reserved[i - l->nr_regions].end;
	}
	/* Nothing at or above top matters; clipping first keeps align_up from overflowing. */
	end = min_u64(end, l->top);
	if (base >= end)
		return false;
	out->base = align_down(base, PAGE_SIZE);
	out->end = align_up(end, PAGE_SIZE);
	return true;
}

/* Whether every frame in [base, end) is free according to the memory map. */
static bool range_is_free(const struct layout *l, uint64_t base, uint64_t end)
{
	struct pmm_range ext;
	uint64_t pos = base, reach, i;

	/* Usable extents may overlap and come in any order, so walk their union. */
	while (pos < end) {
		reach = pos;
		for (i = 0; i < l->nr_regions; i++) {
			if (usable_extent(l, i, &ext) && ext.base <= pos && ext.end > reach)
				reach = ext.end;
		}
		if (reach == pos)
			return false;
		pos = reach;
	}
	for (i = 0; i < nr_obstacles(l); i++) {
		if (obstacle_extent(l, i, &ext) && ext.base < end && base < ext.end)
			return false;
	}
	return true;
}

/*
 * The lowest physical address at which size bytes are free, or 0 if there
 * is none (0 is below 1 MiB, so it is never a real answer). A free run
 * either starts where a usable extent starts or where an obstacle ends,
 * so only those places need trying.
 */
static uint64_t find_free_run(const struct layout *l, uint64_t size)
{
	struct pmm_range ext;
	uint64_t best = 0, start, i;

	for (i = 0; i < nr_obstacles(l) + l->nr_regions; i++) {
		if (i < l->nr_regions) {
			if (!usable_extent(l, i, &ext))
				continue;
			start = ext.base;
		} else {
			if (!obstacle_extent(l, i - l->nr_regions, &ext))
				continue;
			start = ext.end;
		}
		/* No underflow: every candidate is at most top. */
		if (size > l->top - start || (best && start >= best))
			continue;
		if (range_is_free(l, start, start + size))
			best = start;
	}
	return best;
}

/* Sets (value true) or clears bits [first, end) of map. */
static void assign_bits(uint64_t *map, uint64_t first, uint64_t end, bool value)
{
	uint64_t bit, n, mask;

	while (first < end) {
		bit = first % BITS_PER_WORD;
		n = min_u64(BITS_PER_WORD - bit, end - first);
		mask = (n == BITS_PER_WORD ? ~0ull : (1ull << n) - 1) << bit;
		if (value)
			map[first / BITS_PER_WORD] |= mask;
		else
			map[first / BITS_PER_WORD] &= ~mask;
		first += n;
	}
}

/* The index of the first bit in [first, end) of map equal to value, or end. */
static uint64_t find_bit(const uint64_t *map, uint64_t first, uint64_t end, bool value)
{
	uint64_t word, found;

	while (first < end) {
		word = map[first / BITS_PER_WORD];
		if (!value)
			word = ~word;
		/* Drop the bits below first; a word with nothing left is skipped whole. */
		word >>= first % BITS_PER_WORD;
		if (word) {
			found = first + (uint64_t)__builtin_ctzll(word);
			return min_u64(found, end);
		}
		first = align_down(first, BITS_PER_WORD) + BITS_PER_WORD;
	}
	return end;
}

/* Kernighan's loop rather than __builtin_popcountll, which may call into libgcc. */
static uint64_t count_bits(uint64_t word)
{
	uint64_t n = 0;

	while (word) {
		word &= word - 1;
		n++;
	}
	return n;
}

/* Sets or clears the bits of map for the frames of [base, end) the pool covers. */
static void assign_range(struct pmm *pmm, uint64_t *map, uint64_t base, uint64_t end, bool value)
{
	uint64_t pool_end = pmm->base + pmm->nr_frames * PAGE_SIZE;

	base = max_u64(base, pmm->base);
	end = min_u64(end, pool_end);
	if (base < end)
		assign_bits(map, (base - pmm->base) / PAGE_SIZE, (end - pmm->base) / PAGE_SIZE,
			    value);
}

const char *pmm_init(struct pmm *pmm, const struct mem_region *regions, unsigned int nr_regions,
		     const struct pmm_range *reserved, unsigned int nr_reserved, uint64_t limit,
		     uintptr_t virt_offset)
{
	struct layout l = {
	    .regions = regions,
	    .nr_regions = nr_regions,
	    .reserved = reserved,
	    .nr_reserved = nr_reserved,
	    .top = align_down(limit, PAGE_SIZE),
	};
	struct pmm_range ext;
	uint64_t lo = UINT64_MAX, hi = 0, words, map_bytes, map_pa, i;

	memset(pmm, 0, sizeof(*pmm));
	if (nr_regions && !regions)
		return "memory map missing";
	if (nr_reserved && !reserved)
		return "reserved range list missing";
	for (i = 0; i < nr_reserved; i++) {
		if (reserved[i].end < reserved[i].base)
			return "reserved range ends before it starts";
	}

	for (i = 0; i < nr_regions; i++) {
		if (usable_extent(&l, i, &ext)) {
			lo = min_u64(lo, ext.base);
			hi = max_u64(hi, ext.end);
		}
	}
	if (!hi)
		return "no usable memory above 1 MiB and below the limit";
	pmm->base = lo;
	pmm->virt_offset = virt_offset;
	pmm->nr_frames = (hi - lo) / PAGE_SIZE;

	/* Both bitmaps share one run of frames: bitmap first, pool right after. */
	words = (pmm->nr_frames + BITS_PER_WORD - 1) / BITS_PER_WORD;
	map_bytes = align_up(2 * words * sizeof(uint64_t), PAGE_SIZE);
	map_pa = find_free_run(&l, map_bytes);
	if (!map_pa) {
		memset(pmm, 0, sizeof(*pmm));
		return find_free_run(&l, PAGE_SIZE) ? "no room for the page bitmap"
						    : "no usable memory left after reservations";
	}
	pmm->bitmap = pmm_virt(pmm, map_pa);
	pmm->pool = pmm->bitmap + words;

	/*
	 * Build the pool first (usable, then knock out obstacles and the
	 * bitmaps themselves); every frame outside it, including the tail bits
	 * of the last word, is then simply "not free".
	 */
	memset(pmm->pool, 0, words * sizeof(uint64_t));
	for (i = 0; i < nr_regions; i++) {
		if (usable_extent(&l, i, &ext))
			assign_range(pmm, pmm->pool, ext.base, ext.end, true);
	}
	for (i = 0; i < nr_obstacles(&l); i++) {
		if (obstacle_extent(&l, i, &ext))
			assign_range(pmm, pmm->pool, ext.base, ext.end, false);
	}
	assign_range(pmm, pmm->pool, map_pa, map_pa + map_bytes, false);
	for (i = 0; i < words; i++) {
		pmm->bitmap[i] = ~pmm->pool[i];
		pmm->free_frames += count_bits(pmm->pool[i]);
	}
	if (!pmm->free_frames) {
		memset(pmm, 0, sizeof(*pmm));
		return "no usable memory left beside the page bitmap";
	}
	pmm->hint = find_bit(pmm->bitmap, 0, pmm->nr_frames, false);
	return NULL;
}

uint64_t pmm_alloc(struct pmm *pmm, uint64_t nr_pages, uint64_t align)
{
	uint64_t step, phase, from, first, used, pa;

	if (!nr_pages || nr_pages > pmm->free_frames)
		return 0;
	if (align < PAGE_SIZE || (align & (align - 1)))
		return 0;

	/*
	 * Alignment is of the physical address, and base need not be aligned:
	 * frame index i is aligned when (i + phase) is a multiple of step.
	 */
	step = align / PAGE_SIZE;
	phase = (pmm->base / PAGE_SIZE) & (step - 1);
	from = pmm->hint;
	for (;;) {
		first = find_bit(pmm->bitmap, from, pmm->nr_frames, false);
		/* No overflow: first <= nr_frames < 2^52 and step <= 2^51. */
		first = align_up(first + phase, step) - phase;
		if (first >= pmm->nr_frames || nr_pages > pmm->nr_frames - first)
			return 0;
		used = find_bit(pmm->bitmap, first, first + nr_pages, true);
		if (used == first + nr_pages)
			break;
		from = used + 1;
	}

	assign_bits(pmm->bitmap, first, first + nr_pages, true);
	pmm->free_frames -= nr_pages;
	/* Keep the hint on the lowest free frame, so single pages are found at once. */
	if (first == pmm->hint)
		pmm->hint = find_bit(pmm->bitmap, first + nr_pages, pmm->nr_frames, false);
	pa = pmm->base + first * PAGE_SIZE;
	memset(pmm_virt(pmm, pa), 0, nr_pages * PAGE_SIZE);
	return pa;
}

const char *pmm_free(struct pmm *pmm, uint64_t pa, uint64_t nr_pages)
{
	uint64_t first, end;

	if (!nr_pages)
		return "freeing zero pages";
	if (pa & PAGE_MASK)
		return "address not page aligned";
	if (pa < pmm->base)
		return "address below the pool";
	first = (pa - pmm->base) / PAGE_SIZE;
	if (first >= pmm->nr_frames || nr_pages > pmm->nr_frames - first)
		return "range runs past the pool";
	end = first + nr_pages;
	if (find_bit(pmm->pool, first, end, false) != end)
		return "range holds frames that are reserved or not memory";
	if (find_bit(pmm->bitmap, first, end, false) != end)
		return "range holds frames that are already free (double free?)";

	assign_bits(pmm->bitmap, first, end, false);
	pmm->free_frames += nr_pages;
	pmm->hint = min_u64(pmm->hint, first);
	return NULL;
}

uint64_t pmm_free_pages(const struct pmm *pmm)
{
	return pmm->free_frames;
}

void *pmm_virt(const struct pmm *pmm, uint64_t pa)
{
	return (void *)(uintptr_t)(pa + pmm->virt_offset);
}
