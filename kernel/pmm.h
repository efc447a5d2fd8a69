/*
 * Physical page allocator: one bitmap over the usable part of the memory map.
 *
 * Pure logic with no globals: the caller owns the struct pmm, and every
 * access to physical memory (the bitmap itself, zeroing handed-out frames)
 * goes through virt_offset, so the host tests can back "physical" memory
 * with an ordinary buffer.
 */
#ifndef KERNEL_PMM_H
#define KERNEL_PMM_H

#include <stdint.h>

#include "kernel/multiboot.h"

#define PAGE_SIZE 4096ull

/* A physical address range [base, end). */
struct pmm_range {
	uint64_t base;
	uint64_t end;
};

struct pmm {
	uint64_t base;	    /* physical address of the first frame the bitmap covers */
	uint64_t nr_frames; /* frames covered, from base up */
	uint64_t *bitmap;   /* one bit per frame, 1 = not free */
	/*
	 * One bit per frame, 1 = the frame may ever be handed out. It lets
	 * pmm_free() tell a reserved frame or a hole apart from an allocated
	 * frame, which the first bitmap alone cannot.
	 */
	uint64_t *pool;
	uint64_t free_frames;
	uint64_t hint;	       /* index of the lowest free frame (nr_frames if none) */
	uintptr_t virt_offset; /* virtual address = physical address + virt_offset */
};

/*
 * Builds the allocator over the MEM_USABLE parts of regions below limit,
 * minus the reserved ranges and minus everything below 1 MiB. A frame is
 * free only if one usable region covers it wholly and no other region or
 * reserved range touches it. Both bitmaps are placed in the lowest free
 * memory that fits them, so [0, limit) must be mapped at virt_offset.
 * Returns NULL, or a static one-line reason with *pmm left an empty pool.
 */
const char *pmm_init(struct pmm *pmm, const struct mem_region *regions, unsigned int nr_regions,
		     const struct pmm_range *reserved, unsigned int nr_reserved, uint64_t limit,
		     uintptr_t virt_offset);

/*
 * Allocates nr_pages contiguous zeroed frames whose physical address is a
 * multiple of align (a power of two, at least PAGE_SIZE), lowest address
 * first. Returns the physical address, or 0 (with nothing changed) if the
 * arguments are invalid or no such run is free.
 */
uint64_t pmm_alloc(struct pmm *pmm, uint64_t nr_pages, uint64_t align);

/*
 * Returns nr_pages frames from pa up to the pool. Returns NULL, or a static
 * reason (with nothing changed) unless every frame was allocated.
 */
const char *pmm_free(struct pmm *pmm, uint64_t pa, uint64_t nr_pages);

uint64_t pmm_free_pages(const struct pmm *pmm);

/* The virtual address through which the allocator reaches physical address pa. */
void *pmm_virt(const struct pmm *pmm, uint64_t pa);

#endif
