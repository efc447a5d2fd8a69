/*
 * Nested page tables are ordinary long-mode 4-level tables walked with the
 * guest's accesses treated as user accesses (APM 15.25.5), so every level
 * has U=1. Memory type: PAT/PCD/PWT 0 gives WB, combined with the guest's
 * own PAT (APM 15.25.8).
 */
#include "arch/x86/cpu_bits.h"
#include "arch/x86/svm/npt.h"

#define NPT_ENTRIES	512
#define NPT_ADDR_MASK	0x000FFFFFFFFFF000ull
#define NPT_TABLE_FLAGS (PTE_P | PTE_W | PTE_U)
#define NPT_LEAF_FLAGS	(PTE_P | PTE_W | PTE_U)
#define SIZE_2M		0x200000ull
#define NPT_MAX_SIZE	(512ull << 30)
#define NPT_PHYS_LIMIT	(1ull << 52)

static unsigned int index_at(uint64_t gpa, int level)
{
	return (gpa >> (12 + 9 * level)) & (NPT_ENTRIES - 1);
}

static uint64_t *table(const struct pmm *pmm, uint64_t pa)
{
	return pmm_virt(pmm, pa);
}

/* The table that entry e points to, allocating it (zeroed) when absent. */
static uint64_t next_table(struct pmm *pmm, uint64_t *e)
{
	if (!(*e & PTE_P)) {
		uint64_t pa = pmm_alloc(pmm, 1, PAGE_SIZE);

		if (!pa)
			return 0;
		*e = pa | NPT_TABLE_FLAGS;
	}
	return *e & NPT_ADDR_MASK;
}

const char *npt_build(struct pmm *pmm, uint64_t host_base, uint64_t size, uint64_t *root)
{
	uint64_t pml4;

	if ((host_base | size) & (PAGE_SIZE - 1) || !size || size > NPT_MAX_SIZE)
		return "npt: size and host base must be 4 KiB aligned, size at most 512 GiB";
	/* Leaf addresses must fit the 52-bit physical field (APM 5.3.3, 15.25.5). */
	if (host_base + size < host_base || host_base + size > NPT_PHYS_LIMIT)
		return "npt: host block beyond the 52-bit physical address space";
	pml4 = pmm_alloc(pmm, 1, PAGE_SIZE);
	if (!pml4)
		return "npt: out of memory for nested page tables";
	for (uint64_t gpa = 0; gpa < size;) {
		bool big = !((gpa | (host_base + gpa)) & (SIZE_2M - 1)) && size - gpa >= SIZE_2M;
		uint64_t t = pml4;

		for (int level = 3; level > (big ? 1 : 0); level--) {
			t = next_table(pmm, &table(pmm, t)[index_at(gpa, level)]);
			if (!t) {
				npt_destroy(pmm, pml4);
				return "npt: out of memory for nested page tables";
			}
		}
		table(pmm, t)[index_at(gpa, big ? 1 : 0)] =
		    (host_base + gpa) | NPT_LEAF_FLAGS | (big ? PTE_PS : 0);
		gpa += big ? SIZE_2M : PAGE_SIZE;
	}
	*root = pml4;
	return 0;
}

static void destroy_level(struct pmm *pmm, uint64_t pa, int level)
{
	const uint64_t *t = table(pmm, pa);

	for (unsigned int i = 0; level > 0 && i < NPT_ENTRIES; i++)
		if ((t[i] & PTE_P) && !(t[i] & PTE_PS))
			destroy_level(pmm, t[i] & NPT_ADDR_MASK, level - 1);
	pmm_free(pmm, pa, 1);
}

void npt_destroy(struct pmm *pmm, uint64_t root)
{
	if (root)
		destroy_level(pmm, root, 3);
}

uint64_t npt_translate(const struct pmm *pmm, uint64_t root, uint64_t gpa)
{
	uint64_t t = root;

	for (int level = 3;; level--) {
		uint64_t e = table(pmm, t)[index_at(gpa, level)];
		uint64_t page = 1ull << (12 + 9 * level);

		if (!(e & PTE_P))
			return ~0ull;
		if (level == 0 || (e & PTE_PS))
			return (e & NPT_ADDR_MASK & ~(page - 1)) + (gpa & (page - 1));
		t = e & NPT_ADDR_MASK;
	}
}
