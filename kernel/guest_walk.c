/*
 * Guest page-table walker (AMD APM vol. 2, ch. 5 "Page Translation and
 * Protection").
 *
 * The walk is read-only: it never sets the Accessed and Dirty bits the way
 * the guest's MMU would (APM 5.4.2). Our callers only fetch instructions
 * and reach operands of instructions that the guest's own MMU has already
 * translated, or is about to translate on the retry, so the bits end up set
 * by hardware; writing guest page tables from here would also race with the
 * guest's other vCPUs for no gain.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/guest_walk.h"
#include "kernel/kstring.h"

/* Control-register and EFER bits (APM 3.1). */
#define CR0_WP	 (1ull << 16)
#define CR0_PG	 (1ull << 31)
#define CR4_PSE	 (1ull << 4)
#define CR4_PAE	 (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* Page-table entry bits common to every format (APM 5.4.1). */
#define PTE_P  (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_NX (1ull << 63)

#define WALK_PAGE_SHIFT 12
#define WALK_PAGE_SIZE	(1ull << WALK_PAGE_SHIFT)

enum paging_mode {
	PAGING_32,    /* legacy, CR4.PAE=0: 2 levels of 4-byte entries (APM 5.2) */
	PAGING_PAE,   /* legacy, CR4.PAE=1: 3 levels of 8-byte entries (APM 5.2) */
	PAGING_LONG4, /* EFER.LMA=1: 4 levels (APM 5.3) */
	PAGING_LONG5, /* EFER.LMA=1, CR4.LA57=1: 5 levels (APM 5.3) */
};

/* Bits hi..lo of a 64-bit word, hi >= lo. */
static uint64_t bit_range(unsigned int hi, unsigned int lo)
{
	return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

static bool in_long_mode(const struct guest_paging *pg)
{
	return (pg->cr0 & CR0_PG) && (pg->efer & EFER_LMA);
}

static unsigned int phys_bits(const struct guest_paging *pg)
{
	/* 32 is below any real part and keeps the masks below meaningful. */
	if (pg->phys_addr_bits == 0 || pg->phys_addr_bits > 52)
		return 52;
	if (pg->phys_addr_bits < 32)
		return 32;
	return pg->phys_addr_bits;
}

/*
 * The bits of an 8-byte entry at level (1 = PTE ... 5 = PML5E) that must be
 * zero. A set one gives #PF with RSVD (APM 5.3.1 figures, 5.2 for PAE).
 */
static uint64_t reserved_bits(enum paging_mode mode, unsigned int level, uint64_t entry,
			      unsigned int maxphy, bool nxe)
{
	uint64_t rsvd = maxphy < 52 ? bit_range(51, maxphy) : 0;
	bool large = entry & PTE_PS;

	if (mode == PAGING_PAE) {
		/*
		 * Legacy PAE: bits 62:52 are reserved, not available (APM 5.2.3
		 * figures). A PDPE has no R/W, U/S, PS or NX bits at all.
		 */
		if (level == 3)
			return rsvd | bit_range(63, 52) | bit_range(8, 5) | bit_range(2, 1);
		rsvd |= bit_range(62, 52);
	}
	if (!nxe)
		rsvd |= PTE_NX; /* APM 5.6.1: NX is reserved while EFER.NXE=0. */
	switch (level) {
	case 5:
	case 4:
		/* PML5E and PML4E: PS and bit 8 must be zero (APM 5.3.1). */
		return rsvd | bit_range(8, 7);
	case 3:
		/*
		 * 1 GiB PDPE: bits 29:13 (APM 5.3.5). A PDPE that points to a
		 * page directory has bit 8 reserved on AMD parts, unlike a PDE.
		 */
		return rsvd | (large ? bit_range(29, 13) : (1ull << 8));
	case 2:
		return rsvd | (large ? bit_range(20, 13) : 0); /* 2 MiB PDE (APM 5.3.4) */
	default:
		return rsvd;
	}
}

/*
 * The reserved bits of a legacy 4 MiB PDE (APM 5.2.2, "4-Mbyte PDE"): bit
 * 21, and those of bits 20:13 (physical-address bits 39:32 with PSE-36)
 * that lie at or above the physical-address width.
 */
static uint64_t reserved_bits_4m(unsigned int maxphy)
{
	uint64_t rsvd = 1ull << 21;

	if (maxphy < 40)
		rsvd |= bit_range(20, 13 + (maxphy - 32));
	return rsvd;
}

/* Reads the esize-byte little-endian entry at gpa; false if it is not all in RAM. */
static bool read_entry(const struct guest_ram *ram, uint64_t gpa, unsigned int esize,
		       uint64_t *entry)
{
	uint32_t e32;

	if (gpa >= ram->size || ram->size - gpa < esize)
		return false;
	/*
	 * A single load of an aligned entry, as the MMU does: __builtin_memcpy
	 * stays one move even in the freestanding build, and needs no
	 * alignment promise from the caller's pointer type.
	 */
	if (esize == 4) {
		__builtin_memcpy(&e32, ram->base + gpa, 4);
		*entry = e32;
	} else {
		__builtin_memcpy(entry, ram->base + gpa, 8);
	}
	return true;
}

static struct walk_result page_fault(uint64_t va, uint32_t error)
{
	return (struct walk_result){.status = WALK_PAGE_FAULT, .pf_error = error, .fault_va = va};
}

static struct walk_result walk(const struct guest_ram *ram, const struct guest_paging *pg,
			       uint64_t va, unsigned int access, struct walk_trace *trace);

struct walk_result guest_walk(const struct guest_ram *ram, const struct guest_paging *pg,
			      uint64_t va, unsigned int access)
{
	return walk(ram, pg, va, access, 0);
}

bool walk_trace_valid(const struct guest_ram *ram, const struct walk_trace *trace)
{
	for (unsigned int i = 0; i < trace->nr; i++) {
		uint64_t entry;

		if (!read_entry(ram, trace->gpa[i], trace->esize, &entry) ||
		    entry != trace->entry[i])
			return false;
	}
	return true;
}

struct walk_result guest_walk_traced(const struct guest_ram *ram, const struct guest_paging *pg,
				     uint64_t va, unsigned int access, struct walk_trace *trace)
{
	if (trace)
		*trace = (struct walk_trace){.nr = 0};
	return walk(ram, pg, va, access, trace);
}

static struct walk_result walk(const struct guest_ram *ram, const struct guest_paging *pg,
			       uint64_t va, unsigned int access, struct walk_trace *trace)
{
	unsigned int maxphy = phys_bits(pg);
	bool user = access & WALK_USER;
	bool write = access & WALK_WRITE;
	bool fetch = access & WALK_FETCH;
	bool nxe = pg->efer & EFER_NXE;
	bool smep = pg->cr4 & CR4_SMEP;
	uint64_t addr_mask = bit_range(maxphy - 1, WALK_PAGE_SHIFT);
	enum paging_mode mode;
	unsigned int level, esize, index_bits;
	uint64_t table, entry, gpa;
	/* The effective R/W, U/S and NX over all levels (APM 5.6). */
	bool rw = true, us = true, nx = false;
	uint32_t error;

	if (!in_long_mode(pg))
		va = (uint32_t)va; /* a legacy linear address has 32 bits */

	if (!(pg->cr0 & CR0_PG))
		return (struct walk_result){.status = WALK_OK, .gpa = va};

	if (pg->efer & EFER_LMA) {
		/* APM 5.3.1: canonical means bits 63:48 (63:57 with LA57) copy the top one. */
		unsigned int va_bits = (pg->cr4 & CR4_LA57) ? 57 : 48;
		unsigned int sh = 64 - va_bits;

		if ((uint64_t)((int64_t)(va << sh) >> sh) != va)
			return (struct walk_result){.status = WALK_GP, .fault_va = va};
		mode = va_bits == 57 ? PAGING_LONG5 : PAGING_LONG4;
		level = va_bits == 57 ? 5 : 4;
		table = pg->cr3 & addr_mask;
		esize = 8;
		index_bits = 9;
	} else if (pg->cr4 & CR4_PAE) {
		/* APM 5.2.3: CR3 bits 31:5 locate the 4-entry PDP table. */
		mode = PAGING_PAE;
		level = 3;
		table = pg->cr3 & bit_range(31, 5);
		esize = 8;
		index_bits = 9;
	} else {
		/* APM 5.2.1: CR3 bits 31:12 locate the page directory. */
		mode = PAGING_32;
		level = 2;
		table = pg->cr3 & bit_range(31, 12);
		esize = 4;
		index_bits = 10;
	}

	if (trace)
		trace->esize = esize;
	/* The error code always says what the access was (APM 8.4.2). */
	error = (write ? PF_ERR_W : 0) | (user ? PF_ERR_U : 0);
	if (fetch && ((nxe && mode != PAGING_32) || smep))
		error |= PF_ERR_ID;

	for (;; level--) {
		unsigned int shift = WALK_PAGE_SHIFT + index_bits * (level - 1);
		uint64_t index = (va >> shift) & ((1ull << index_bits) - 1);
		uint64_t entry_gpa = table + index * esize;
		bool leaf;

		if (!read_entry(ram, entry_gpa, esize, &entry))
			return (struct walk_result){
			    .status = WALK_NOT_RAM, .bad_gpa = entry_gpa, .fault_va = va};
		if (trace) {
			trace->gpa[trace->nr] = entry_gpa;
			trace->entry[trace->nr++] = entry;
		}
		if (!(entry & PTE_P))
			return page_fault(va, error);

		if (mode == PAGING_32) {
			/* APM 5.2.2: PDE.PS selects a 4 MiB page only with CR4.PSE=1. */
			leaf = level == 1 || ((entry & PTE_PS) && (pg->cr4 & CR4_PSE));
			if (leaf && level == 2 && (entry & reserved_bits_4m(maxphy)))
				return page_fault(va, error | PF_ERR_P | PF_ERR_RSVD);
		} else {
			if (entry & reserved_bits(mode, level, entry, maxphy, nxe))
				return page_fault(va, error | PF_ERR_P | PF_ERR_RSVD);
			/* PS is reserved above level 3, and in a PAE PDPE: checked above. */
			leaf = level == 1 || (entry & PTE_PS);
		}

		/* A legacy PAE PDPE carries no protection bits (APM 5.2.3). */
		if (!(mode == PAGING_PAE && level == 3)) {
			rw = rw && (entry & PTE_RW);
			us = us && (entry & PTE_US);
			nx = nx || (nxe && (entry & PTE_NX));
		}

		if (leaf)
			break;
		table = entry & (esize == 4 ? bit_range(31, 12) : addr_mask);
	}

	/* APM 5.6 "Page-Protection Checks", in the order of their sections. */
	if (user && !us)
		return page_fault(va, error | PF_ERR_P); /* 5.6.2: U/S */
	if (write && !rw && (user || (pg->cr0 & CR0_WP)))
		return page_fault(va, error | PF_ERR_P); /* 5.6.1 R/W, 5.6.4 CR0.WP */
	if (fetch && nx)
		return page_fault(va, error | PF_ERR_P); /* 5.6.1 NX */
	if (fetch && !user && us && smep)
		return page_fault(va, error | PF_ERR_P); /* 5.6.6 SMEP */

	if (mode == PAGING_32 && level == 2) {
		/* 4 MiB page: PA[31:22] from bits 31:22, PA[39:32] from bits 20:13 (PSE-36). */
		gpa = (entry & bit_range(31, 22)) | (((entry >> 13) & 0xff) << 32);
		gpa |= va & bit_range(21, 0);
	} else {
		unsigned int page_shift = WALK_PAGE_SHIFT + index_bits * (level - 1);
		uint64_t frame = entry & (esize == 4 ? bit_range(31, 12) : addr_mask);

		gpa = (frame & ~bit_range(page_shift - 1, 0)) | (va & bit_range(page_shift - 1, 0));
	}
	return (struct walk_result){.status = WALK_OK, .gpa = gpa};
}

struct walk_result guest_read_virt(const struct guest_ram *ram, const struct guest_paging *pg,
				   uint64_t va, void *buf, unsigned int len, unsigned int access)
{
	uint64_t lin_mask = in_long_mode(pg) ? ~0ull : 0xffffffffull;
	struct walk_result first = {.status = WALK_OK};
	uint8_t *out = buf;
	uint64_t cur = va & lin_mask;
	unsigned int done = 0;

	while (done < len) {
		uint64_t chunk = WALK_PAGE_SIZE - (cur & (WALK_PAGE_SIZE - 1));
		struct walk_result r = guest_walk(ram, pg, cur, access);
		uint64_t n;

		if (chunk > len - done)
			chunk = len - done;
		if (r.status != WALK_OK)
			return r;
		if (done == 0)
			first = r;
		/* The data itself must be RAM too: MMIO is not read from here. */
		n = r.gpa < ram->size ? ram->size - r.gpa : 0;
		if (n > chunk)
			n = chunk;
		if (n > 0)
			memcpy(out + done, ram->base + r.gpa, n);
		done += n;
		if (n < chunk)
			return (struct walk_result){.status = WALK_NOT_RAM,
						    .bad_gpa = r.gpa + n,
						    .fault_va = (cur + n) & lin_mask};
		cur = (cur + n) & lin_mask;
	}
	return first;
}
