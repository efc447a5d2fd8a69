/*
 * Small edits to the boot identity map. The boot tables use 2 MiB pages for
 * the first 4 GiB; a guard page needs 4 KiB granularity, so the 2 MiB page
 * around it is split into one static page table.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "kernel/panic.h"

#define PT_ENTRIES 512
#define PAGE_4K	   0x1000ull
#define PAGE_2M	   0x200000ull
#define ADDR_MASK  0x000FFFFFFFFFF000ull

extern uint64_t boot_identity_limit;
extern uint64_t boot_pml4[PT_ENTRIES], boot_pdpt[PT_ENTRIES], boot_pd[4 * PT_ENTRIES];

static uint64_t split_pt[PT_ENTRIES] __attribute__((aligned(4096)));
static uint64_t split_base = ~0ull;

uint64_t paging_identity_limit(void)
{
	return boot_identity_limit;
}

void paging_unmap_4k(uint64_t va)
{
	uint64_t big = va & ~(PAGE_2M - 1);
	uint64_t *pde;

	/* Only the first 4 GiB has 2 MiB pages to split, and one split table exists. */
	if (va >= (4ull << 30))
		panic("paging: cannot split 0x%lx above 4 GiB", va);
	if (split_base != ~0ull && split_base != big)
		panic("paging: second split at 0x%lx (first at 0x%lx)", big, split_base);
	pde = &boot_pd[va >> 21];
	if (split_base == ~0ull) {
		for (unsigned int i = 0; i < PT_ENTRIES; i++)
			split_pt[i] = (big + i * PAGE_4K) | PTE_P | PTE_W;
		*pde = (uint64_t)split_pt | PTE_P | PTE_W;
		split_base = big;
	}
	split_pt[(va >> 12) & (PT_ENTRIES - 1)] = 0;
	/* A PDE changed from a large page: flush it all, not just one page. */
	write_cr3(read_cr3());
}

bool paging_is_mapped(uint64_t va)
{
	const uint64_t *table = (const uint64_t *)(read_cr3() & ADDR_MASK);

	for (int level = 3; level >= 0; level--) {
		uint64_t e = table[(va >> (12 + 9 * level)) & (PT_ENTRIES - 1)];

		if (!(e & PTE_P))
			return false;
		if (level == 0 || (level <= 2 && (e & PTE_PS)))
			return true;
		table = (const uint64_t *)(e & ADDR_MASK);
	}
	return true;
}
