/* host-test-sources: kernel/guest_walk.c */
/*
 * Host unit tests for kernel/guest_walk.c.
 *
 * Each test builds the guest's page tables in a heap block standing for
 * guest RAM [0, RAM_SIZE), with entries written from the APM vol. 2 ch. 5
 * formats (not from guest_walk.c's macros), then checks translations and
 * #PF error codes. The block is exactly RAM_SIZE bytes, so AddressSanitizer
 * reports any read past guest RAM.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/guest_walk.h"

#define RAM_SIZE   (8ull << 20)
#define TABLE_BASE (4ull << 20)	 /* page tables are allocated from here up */
#define OUTSIDE	   0x10000000ull /* a guest-physical address beyond RAM */

/* Architectural bits, spelled out here independently of guest_walk.c. */
#define CR0_PE	 (1ull << 0)
#define CR0_WP	 (1ull << 16)
#define CR0_PG	 (1ull << 31)
#define CR4_PSE	 (1ull << 4)
#define CR4_PAE	 (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define P  (1ull << 0)
#define RW (1ull << 1)
#define US (1ull << 2)
#define PS (1ull << 7)
#define NX (1ull << 63)

#define E_P    PF_ERR_P
#define E_W    PF_ERR_W
#define E_U    PF_ERR_U
#define E_RSVD PF_ERR_RSVD
#define E_ID   PF_ERR_ID

#define RD  0u
#define WR  WALK_WRITE
#define FE  WALK_FETCH
#define US_ WALK_USER

enum tmode { T32, TPAE, T4, T5 };

struct fake {
	struct guest_ram ram;
	struct guest_paging pg;
	enum tmode mode;
	uint64_t next_table;
	uint64_t path[6]; /* the entry addresses of the last map(), by level */
};

static unsigned int levels_of(enum tmode m)
{
	return m == T32 ? 2 : m == TPAE ? 3 : m == T4 ? 4 : 5;
}

static unsigned int esize_of(enum tmode m)
{
	return m == T32 ? 4 : 8;
}

static uint64_t get_entry(const struct fake *f, uint64_t gpa)
{
	uint64_t v = 0;

	assert_true(gpa + esize_of(f->mode) <= RAM_SIZE);
	memcpy(&v, f->ram.base + gpa, esize_of(f->mode));
	return v;
}

static void set_entry(struct fake *f, uint64_t gpa, uint64_t v)
{
	assert_true(gpa + esize_of(f->mode) <= RAM_SIZE);
	memcpy(f->ram.base + gpa, &v, esize_of(f->mode));
}

/* Sets and clears bits of the entry at the given level of the last map(). */
static void edit(struct fake *f, unsigned int level, uint64_t set, uint64_t clear)
{
	uint64_t gpa = f->path[level];

	set_entry(f, gpa, (get_entry(f, gpa) | set) & ~clear);
}

static uint64_t alloc_table(struct fake *f)
{
	uint64_t gpa = f->next_table;

	assert_true(gpa + 4096 <= RAM_SIZE);
	f->next_table += 4096;
	memset(f->ram.base + gpa, 0, 4096);
	return gpa;
}

static void fake_init(struct fake *f, enum tmode mode)
{
	memset(f, 0, sizeof(*f));
	f->ram.base = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(f->ram.base);
	memset(f->ram.base, 0, RAM_SIZE);
	f->ram.size = RAM_SIZE;
	f->mode = mode;
	f->next_table = TABLE_BASE;
	f->pg.cr0 = CR0_PE | CR0_PG;
	switch (mode) {
	case T32:
		f->pg.cr4 = CR4_PSE;
		f->pg.cr3 = alloc_table(f);
		break;
	case TPAE:
		/* Only 32-byte alignment is required of a PAE PDPT (APM 5.2.3). */
		f->pg.cr4 = CR4_PAE;
		f->pg.efer = EFER_NXE;
		f->pg.cr3 = alloc_table(f) + 0x60;
		break;
	case T4:
	case T5:
		f->pg.cr4 = CR4_PAE | (mode == T5 ? CR4_LA57 : 0);
		f->pg.efer = EFER_LME | EFER_LMA | EFER_NXE;
		f->pg.cr3 = alloc_table(f);
		break;
	}
}

static void fake_fini(struct fake *f)
{
	free(f->ram.base);
}

/*
 * Maps va to pa with a leaf at leaf_level (1: 4 KiB; 2: 2/4 MiB; 3: 1 GiB),
 * the leaf carrying flags (PS is added for large pages) and every table
 * entry above it P|RW|US (just P for a PAE PDPE). Records the path.
 */
static void map(struct fake *f, uint64_t va, uint64_t pa, unsigned int leaf_level, uint64_t flags)
{
	unsigned int bits = f->mode == T32 ? 10 : 9;
	unsigned int esize = esize_of(f->mode);
	uint64_t addr_mask = f->mode == T32 ? 0xfffff000ull : 0x000ffffffffff000ull;
	uint64_t table = f->mode == TPAE ? (f->pg.cr3 & 0xffffffe0ull) : (f->pg.cr3 & addr_mask);
	unsigned int level;

	memset(f->path, 0, sizeof(f->path));
	for (level = levels_of(f->mode);; level--) {
		unsigned int shift = 12 + bits * (level - 1);
		uint64_t idx = (va >> shift) & ((1ull << bits) - 1);
		uint64_t gpa = table + idx * esize;
		uint64_t e;

		f->path[level] = gpa;
		if (level == leaf_level) {
			set_entry(f, gpa, pa | flags | (level > 1 ? PS : 0));
			return;
		}
		e = get_entry(f, gpa);
		if (!(e & P)) {
			e = alloc_table(f) | ((f->mode == TPAE && level == 3) ? P : P | RW | US);
			set_entry(f, gpa, e);
		}
		table = e & addr_mask;
	}
}

static struct walk_result walk(const struct fake *f, uint64_t va, unsigned int access)
{
	return guest_walk(&f->ram, &f->pg, va, access);
}

static void expect_ok(const struct fake *f, uint64_t va, unsigned int access, uint64_t gpa)
{
	struct walk_result r = walk(f, va, access);

	assert_int_equal(r.status, WALK_OK);
	assert_int_equal(r.gpa, gpa);
}

static void expect_pf(const struct fake *f, uint64_t va, unsigned int access, uint32_t error)
{
	struct walk_result r = walk(f, va, access);

	assert_int_equal(r.status, WALK_PAGE_FAULT);
	assert_int_equal(r.pf_error, error);
	assert_int_equal(r.fault_va, va);
}

static void expect_not_ram(const struct fake *f, uint64_t va, uint64_t bad_gpa)
{
	struct walk_result r = walk(f, va, RD);

	assert_int_equal(r.status, WALK_NOT_RAM);
	assert_int_equal(r.bad_gpa, bad_gpa);
	assert_int_equal(r.fault_va, va);
}

/* Every combination of the three access bits the callers use. */
static const unsigned int accesses[] = {
    RD, WR, FE, US_ | RD, US_ | WR, US_ | FE,
};

/* The #PF error code bits that describe the access itself. */
static uint32_t access_bits(const struct fake *f, unsigned int access)
{
	uint32_t e = access & (WALK_WRITE | WALK_USER);

	if ((access & WALK_FETCH) && f->mode != T32 && (f->pg.efer & EFER_NXE))
		e |= E_ID;
	return e;
}

/* --- Paging off --- */

static void test_paging_off(void **state)
{
	struct fake f;
	uint8_t buf[8];
	struct walk_result r;

	(void)state;
	fake_init(&f, T32);
	f.pg.cr0 = CR0_PE;
	memcpy(f.ram.base + 0x1234, "abcdefgh", 8);
	expect_ok(&f, 0x1234, RD, 0x1234);
	expect_ok(&f, 0xfee00000, WR | US_, 0xfee00000); /* MMIO is still an address */
	/* A linear address has 32 bits outside long mode. */
	expect_ok(&f, 0x500001234ull, FE, 0x1234);
	/* Page tables do not matter, even absurd ones. */
	f.pg.cr3 = OUTSIDE;
	f.pg.efer = EFER_LME; /* LME without LMA and PG changes nothing */
	expect_ok(&f, 0x2000, WR, 0x2000);

	r = guest_read_virt(&f.ram, &f.pg, 0x1234, buf, 8, RD);
	assert_int_equal(r.status, WALK_OK);
	assert_int_equal(r.gpa, 0x1234);
	assert_memory_equal(buf, "abcdefgh", 8);

	/* Reading past the end of RAM copies what is RAM, then stops. */
	memcpy(f.ram.base + RAM_SIZE - 4, "wxyz", 4);
	memset(buf, 0, sizeof(buf));
	r = guest_read_virt(&f.ram, &f.pg, RAM_SIZE - 4, buf, 8, RD);
	assert_int_equal(r.status, WALK_NOT_RAM);
	assert_int_equal(r.bad_gpa, RAM_SIZE);
	assert_int_equal(r.fault_va, RAM_SIZE);
	assert_memory_equal(buf, "wxyz\0\0\0\0", 8);

	r = guest_read_virt(&f.ram, &f.pg, 0xfee00020, buf, 4, RD);
	assert_int_equal(r.status, WALK_NOT_RAM);
	assert_int_equal(r.bad_gpa, 0xfee00020);
	assert_int_equal(r.fault_va, 0xfee00020);
	fake_fini(&f);
}

/* --- Long mode --- */

static void test_long_4k_2m_1g(void **state)
{
	struct fake f;
	size_t i;

	(void)state;
	fake_init(&f, T4);
	map(&f, 0x0000000000401000ull, 0x123000, 1, P | RW | US);
	map(&f, 0xffff800000200000ull, 0x600000, 2, P | RW | US);
	map(&f, 0x0000004040000000ull, 0x40000000, 3, P | RW | US);
	map(&f, 0x00007fffffffe000ull, 0x7000, 1, P | RW | US);
	for (i = 0; i < sizeof(accesses) / sizeof(accesses[0]); i++) {
		expect_ok(&f, 0x401abc, accesses[i], 0x123abc);
		expect_ok(&f, 0xffff8000002fedcbull, accesses[i], 0x6fedcb);
		expect_ok(&f, 0x000000407654321aull, accesses[i], 0x7654321a);
		expect_ok(&f, 0x00007fffffffefffull, accesses[i], 0x7fff);
	}
	/* The neighbours of those pages are not mapped. */
	expect_pf(&f, 0x400fff, RD, 0);
	expect_pf(&f, 0x402000, RD, 0);
	expect_pf(&f, 0xffff800000400000ull, RD, 0);
	/* Large-page frames ignore the offset bits; bit 12 is PAT there (APM 5.3.4). */
	map(&f, 0x800000, 0xa00000 | (1ull << 12), 2, P | RW);
	expect_ok(&f, 0x912345, RD, 0xb12345);
	/* Bits 62:52 are available to software in long mode. */
	map(&f, 0x5000, 0x9000 | (0x7ffull << 52), 1, P);
	expect_ok(&f, 0x5010, RD, 0x9010);
	fake_fini(&f);
}

static void test_long_not_present(void **state)
{
	struct fake f;
	unsigned int level;
	size_t i;

	(void)state;
	for (level = 1; level <= 4; level++) {
		fake_init(&f, T4);
		map(&f, 0x7f0000401000ull, 0x2000, 1, P | RW | US);
		edit(&f, level, 0, P);
		for (i = 0; i < sizeof(accesses) / sizeof(accesses[0]); i++)
			expect_pf(&f, 0x7f0000401008ull, accesses[i], access_bits(&f, accesses[i]));
		/* Without NXE a fetch does not set I/D (APM 8.4.2). */
		f.pg.efer &= ~EFER_NXE;
		expect_pf(&f, 0x7f0000401008ull, FE, 0);
		/* A not-present entry's other bits are not looked at. */
		edit(&f, level, 0xfff0000000000ffeull, 0);
		expect_pf(&f, 0x7f0000401008ull, WR, E_W);
		fake_fini(&f);
	}
}

static void test_long_read_only(void **state)
{
	struct fake f;
	unsigned int level;

	(void)state;
	for (level = 1; level <= 4; level++) {
		fake_init(&f, T4);
		map(&f, 0x401000, 0x2000, 1, P | RW | US);
		edit(&f, level, 0, RW);
		/* Reads and fetches are fine. */
		expect_ok(&f, 0x401010, RD, 0x2010);
		expect_ok(&f, 0x401010, FE | US_, 0x2010);
		/* Supervisor writes ignore R/W while CR0.WP=0 (APM 5.6.4). */
		expect_ok(&f, 0x401010, WR, 0x2010);
		expect_pf(&f, 0x401010, WR | US_, E_P | E_W | E_U);
		f.pg.cr0 |= CR0_WP;
		expect_pf(&f, 0x401010, WR, E_P | E_W);
		expect_pf(&f, 0x401010, WR | US_, E_P | E_W | E_U);
		expect_ok(&f, 0x401010, RD | US_, 0x2010);
		fake_fini(&f);
	}
}

static void test_long_supervisor_only(void **state)
{
	struct fake f;
	unsigned int level;

	(void)state;
	for (level = 1; level <= 4; level++) {
		fake_init(&f, T4);
		f.pg.cr0 |= CR0_WP;
		map(&f, 0x401000, 0x2000, 1, P | RW | US);
		edit(&f, level, 0, US);
		expect_ok(&f, 0x401010, RD, 0x2010);
		expect_ok(&f, 0x401010, WR, 0x2010);
		expect_ok(&f, 0x401010, FE, 0x2010);
		expect_pf(&f, 0x401010, RD | US_, E_P | E_U);
		expect_pf(&f, 0x401010, WR | US_, E_P | E_W | E_U);
		expect_pf(&f, 0x401010, FE | US_, E_P | E_U | E_ID);
		fake_fini(&f);
	}
}

static void test_long_nx(void **state)
{
	struct fake f;
	unsigned int level;

	(void)state;
	for (level = 1; level <= 4; level++) {
		fake_init(&f, T4);
		map(&f, 0x401000, 0x2000, 1, P | RW | US);
		edit(&f, level, NX, 0);
		expect_ok(&f, 0x401010, RD, 0x2010);
		expect_ok(&f, 0x401010, WR | US_, 0x2010);
		expect_pf(&f, 0x401010, FE, E_P | E_ID);
		expect_pf(&f, 0x401010, FE | US_, E_P | E_U | E_ID);
		/* With EFER.NXE=0 bit 63 is reserved, whatever the access (APM 5.6.1). */
		f.pg.efer &= ~EFER_NXE;
		expect_pf(&f, 0x401010, RD, E_P | E_RSVD);
		expect_pf(&f, 0x401010, FE, E_P | E_RSVD);
		expect_pf(&f, 0x401010, WR | US_, E_P | E_RSVD | E_W | E_U);
		fake_fini(&f);
	}
}

static void test_long_smep(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, T4);
	map(&f, 0x401000, 0x2000, 1, P | RW | US);
	map(&f, 0x402000, 0x3000, 1, P | RW);
	f.pg.cr4 |= CR4_SMEP;
	/* Supervisor fetches from user pages fault; everything else is as before. */
	expect_pf(&f, 0x401010, FE, E_P | E_ID);
	expect_ok(&f, 0x401010, FE | US_, 0x2010);
	expect_ok(&f, 0x401010, RD, 0x2010);
	expect_ok(&f, 0x402010, FE, 0x3010);
	/* SMEP alone makes a fetch fault report I/D. */
	f.pg.efer &= ~EFER_NXE;
	expect_pf(&f, 0x401010, FE, E_P | E_ID);
	expect_pf(&f, 0x403000, FE, E_ID);
	fake_fini(&f);
}

/* One reserved bit set in the entry at level: the walk faults with RSVD. */
static void check_rsvd(enum tmode mode, unsigned int leaf_level, unsigned int level, uint64_t bit,
		       unsigned int phys_bits)
{
	struct fake f;
	uint64_t va = 0x40000000ull * 3 + 0x200000 * 5 + 0x1000 * 7 + 0x10;

	fake_init(&f, mode);
	f.pg.phys_addr_bits = phys_bits;
	map(&f, va, 0, leaf_level, P | RW | US);
	edit(&f, level, bit, 0);
	print_message("# mode %d leaf %u level %u bit %#llx\n", mode, leaf_level, level,
		      (unsigned long long)bit);
	expect_pf(&f, va, RD, E_P | E_RSVD);
	expect_pf(&f, va, WR | US_, E_P | E_RSVD | E_W | E_U);
	fake_fini(&f);
}

/* One bit set in the entry at level that is not reserved: the walk goes on. */
static void check_not_rsvd(enum tmode mode, unsigned int leaf_level, unsigned int level,
			   uint64_t bit, unsigned int phys_bits, uint64_t gpa)
{
	struct fake f;
	uint64_t va = 0x40000000ull * 3 + 0x200000 * 5 + 0x1000 * 7 + 0x10;

	fake_init(&f, mode);
	f.pg.phys_addr_bits = phys_bits;
	map(&f, va, 0, leaf_level, P | RW | US);
	edit(&f, level, bit, 0);
	print_message("# mode %d leaf %u level %u bit %#llx (not reserved)\n", mode, leaf_level,
		      level, (unsigned long long)bit);
	expect_ok(&f, va, RD, gpa);
	fake_fini(&f);
}

static void test_long_reserved(void **state)
{
	uint64_t va_off4k = 0x10, va_off2m = 0x1000 * 7 + 0x10;
	unsigned int level;

	(void)state;
	/* PML4E: PS and bit 8 (APM 5.3.1, Figure 5-18). */
	check_rsvd(T4, 1, 4, PS, 0);
	check_rsvd(T4, 1, 4, 1ull << 8, 0);
	/* PDPE pointing to a directory: bit 8 on AMD; 1 GiB PDPE: bits 29:13. */
	check_rsvd(T4, 1, 3, 1ull << 8, 0);
	check_rsvd(T4, 3, 3, 1ull << 13, 0);
	check_rsvd(T4, 3, 3, 1ull << 29, 0);
	/* 2 MiB PDE: bits 20:13. */
	check_rsvd(T4, 2, 2, 1ull << 13, 0);
	check_rsvd(T4, 2, 2, 1ull << 20, 0);
	/* Address bits from the physical-address width up to 51, at every level. */
	for (level = 1; level <= 4; level++) {
		check_rsvd(T4, 1, level, 1ull << 40, 40);
		check_rsvd(T4, 1, level, 1ull << 51, 40);
		check_rsvd(T4, 1, level, 1ull << 51, 51);
	}
	check_rsvd(T4, 2, 2, 1ull << 45, 45);
	check_rsvd(T4, 3, 3, 1ull << 36, 36);

	/* Ignored bits: bit 8 of a PDE pointing to a table (G of a leaf). */
	check_not_rsvd(T4, 1, 2, 1ull << 8, 0, va_off4k);
	check_not_rsvd(T4, 1, 1, 1ull << 8, 0, va_off4k);
	check_not_rsvd(T4, 1, 1, PS, 0, va_off4k); /* PAT in a PTE */
	check_not_rsvd(T4, 2, 2, 1ull << 8, 0, va_off2m);
	/* A leaf's address bit below the width is just an address. */
	check_not_rsvd(T4, 1, 1, 1ull << 39, 40, (1ull << 39) | va_off4k);
	check_not_rsvd(T4, 1, 1, 1ull << 51, 0, (1ull << 51) | va_off4k);
	check_not_rsvd(T4, 1, 1, 1ull << 51, 60, (1ull << 51) | va_off4k);
}

static void test_long_tables_outside_ram(void **state)
{
	struct fake f;
	uint64_t va = 0x0000008040201008ull;
	uint64_t e;
	struct walk_result r;

	(void)state;
	fake_init(&f, T4);
	map(&f, va, 0x3000, 1, P | RW | US);
	expect_ok(&f, va, RD, 0x3008);
	/* The page table at each level moved out of RAM, in turn. */
	e = get_entry(&f, f.path[2]);
	set_entry(&f, f.path[2], (e & 0xfff) | OUTSIDE);
	expect_not_ram(&f, va, OUTSIDE + 8 * 1);
	e = get_entry(&f, f.path[3]);
	set_entry(&f, f.path[3], (e & 0xfff) | (OUTSIDE + 0x5000));
	expect_not_ram(&f, va, OUTSIDE + 0x5000 + 8 * 1);
	e = get_entry(&f, f.path[4]);
	set_entry(&f, f.path[4], (e & 0xfff) | RAM_SIZE);
	expect_not_ram(&f, va, RAM_SIZE + 8 * 1);
	f.pg.cr3 = OUTSIDE | 0x18; /* PWT/PCD and other low bits are not address bits */
	expect_not_ram(&f, va, OUTSIDE + 8 * 1);
	/* An entry straddling the end of RAM is outside it too. */
	f.ram.size = 0x1004;
	f.pg.cr3 = 0x1000;
	expect_not_ram(&f, 0, 0x1000);
	fake_fini(&f);

	/* The data page itself is no business of the walk. */
	fake_init(&f, T4);
	map(&f, va, 0x7ffffff000ull, 1, P | RW | US);
	r = walk(&f, va, WR);
	assert_int_equal(r.status, WALK_OK);
	assert_int_equal(r.gpa, 0x7ffffff008ull);
	fake_fini(&f);
}

static void test_long_non_canonical(void **state)
{
	static const uint64_t bad4[] = {
	    0x0000800000000000ull, 0xffff7fffffffffffull, 0x8000000000000000ull,
	    0x00ff000000001000ull, 0x7fffffffffffffffull,
	};
	struct fake f;
	struct walk_result r;
	size_t i;

	(void)state;
	fake_init(&f, T4);
	map(&f, 0xffff800000000000ull, 0x1000, 1, P | RW | US);
	map(&f, 0x00007ffffffff000ull, 0x2000, 1, P | RW | US);
	expect_ok(&f, 0xffff800000000010ull, RD, 0x1010);
	expect_ok(&f, 0x00007ffffffff010ull, RD, 0x2010);
	for (i = 0; i < sizeof(bad4) / sizeof(bad4[0]); i++) {
		r = walk(&f, bad4[i], RD);
		assert_int_equal(r.status, WALK_GP);
		assert_int_equal(r.fault_va, bad4[i]);
	}
	/* Not a #PF, even with the tables absent. */
	f.pg.cr3 = OUTSIDE;
	assert_int_equal(walk(&f, 0x0000800000000000ull, RD).status, WALK_GP);
	fake_fini(&f);
}

static void test_la57(void **state)
{
	struct fake f;
	unsigned int level;
	struct walk_result r;

	(void)state;
	fake_init(&f, T5);
	/* 57-bit canonical, beyond 48 bits. */
	map(&f, 0x00ff800000403000ull, 0x5000, 1, P | RW | US);
	map(&f, 0xff00000000200000ull, 0x200000, 2, P | RW | US);
	expect_ok(&f, 0x00ff800000403abcull, WR | US_, 0x5abc);
	expect_ok(&f, 0xff000000002fffffull, RD, 0x2fffff);
	r = walk(&f, 0x0100000000000000ull, RD);
	assert_int_equal(r.status, WALK_GP);
	r = walk(&f, 0xfeffffffffffffffull, RD);
	assert_int_equal(r.status, WALK_GP);
	/* A 48-bit non-canonical address is fine with 5 levels. */
	expect_pf(&f, 0x0000800000000000ull, RD, 0);
	fake_fini(&f);

	for (level = 1; level <= 5; level++) {
		fake_init(&f, T5);
		map(&f, 0x00ff800000403000ull, 0x5000, 1, P | RW | US);
		edit(&f, level, 0, P);
		expect_pf(&f, 0x00ff800000403000ull, WR, E_W);
		fake_fini(&f);
	}
	check_rsvd(T5, 1, 5, PS, 0);
	check_rsvd(T5, 1, 5, 1ull << 8, 0);
	check_rsvd(T5, 1, 5, 1ull << 50, 48);
	check_rsvd(T5, 3, 4, 1ull << 7, 0);

	fake_init(&f, T5);
	map(&f, 0x00ff800000403000ull, 0x5000, 1, P | RW | US);
	edit(&f, 5, 0, US);
	expect_pf(&f, 0x00ff800000403000ull, RD | US_, E_P | E_U);
	fake_fini(&f);
}

/* --- Legacy PAE --- */

static void test_pae(void **state)
{
	struct fake f;
	size_t i;

	(void)state;
	fake_init(&f, TPAE);
	map(&f, 0x00401000, 0x2000, 1, P | RW | US);
	map(&f, 0xc0200000, 0x400000, 2, P | RW | US);
	for (i = 0; i < sizeof(accesses) / sizeof(accesses[0]); i++) {
		expect_ok(&f, 0x00401123, accesses[i], 0x2123);
		expect_ok(&f, 0xc0312345, accesses[i], 0x512345);
	}
	/* PAE pages are 2 MiB whatever CR4.PSE says. */
	f.pg.cr4 |= CR4_PSE;
	expect_ok(&f, 0xc0312345, RD, 0x512345);
	/* The linear address has 32 bits. */
	expect_ok(&f, 0x1200401123ull, RD, 0x2123);
	/* A PDPE has no R/W or U/S: the PDE and PTE decide. */
	map(&f, 0x00402000, 0x3000, 1, P | US);
	f.pg.cr0 |= CR0_WP;
	expect_pf(&f, 0x00402000, WR, E_P | E_W);
	map(&f, 0x00403000, 0x3000, 1, P | RW);
	expect_pf(&f, 0x00403000, RD | US_, E_P | E_U);
	/* NX at the PTE and at the PDE. */
	map(&f, 0x00404000, 0x4000, 1, P | RW | US | NX);
	expect_pf(&f, 0x00404000, FE, E_P | E_ID);
	expect_ok(&f, 0x00404000, RD, 0x4000);
	edit(&f, 1, 0, NX);
	edit(&f, 2, NX, 0);
	expect_pf(&f, 0x00404000, FE | US_, E_P | E_U | E_ID);
	fake_fini(&f);
}

static void test_pae_not_present(void **state)
{
	struct fake f;
	unsigned int level;

	(void)state;
	for (level = 1; level <= 3; level++) {
		fake_init(&f, TPAE);
		map(&f, 0x80401000, 0x2000, 1, P | RW | US);
		edit(&f, level, 0, P);
		expect_pf(&f, 0x80401000, RD, 0);
		expect_pf(&f, 0x80401000, FE | US_, E_U | E_ID);
		f.pg.efer &= ~EFER_NXE;
		expect_pf(&f, 0x80401000, FE | US_, E_U);
		fake_fini(&f);
	}
}

static void test_pae_reserved(void **state)
{
	(void)state;
	/* PDPE (APM 5.2.3): bits 2:1, 8:5, 63:52 and the address bits beyond the width. */
	check_rsvd(TPAE, 1, 3, RW, 0);
	check_rsvd(TPAE, 1, 3, US, 0);
	check_rsvd(TPAE, 1, 3, 1ull << 5, 0);
	check_rsvd(TPAE, 1, 3, PS, 0);
	check_rsvd(TPAE, 1, 3, 1ull << 8, 0);
	check_rsvd(TPAE, 1, 3, NX, 0); /* even with NXE */
	check_rsvd(TPAE, 1, 3, 1ull << 52, 0);
	check_rsvd(TPAE, 1, 3, 1ull << 36, 36);
	/* PDE and PTE: bits 62:52 are reserved in legacy mode, NX only without NXE. */
	check_rsvd(TPAE, 1, 2, 1ull << 52, 0);
	check_rsvd(TPAE, 1, 1, 1ull << 62, 0);
	check_rsvd(TPAE, 2, 2, 1ull << 13, 0);
	check_rsvd(TPAE, 2, 2, 1ull << 40, 40);
	check_rsvd(TPAE, 1, 1, 1ull << 40, 40);
	check_not_rsvd(TPAE, 1, 3, 1ull << 9, 0, 0x10); /* AVL */
	check_not_rsvd(TPAE, 1, 2, 1ull << 8, 0, 0x10); /* ignored */
	check_not_rsvd(TPAE, 1, 1, 1ull << 35, 36, (1ull << 35) | 0x10);
}

static void test_pae_nx_without_nxe(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, TPAE);
	f.pg.efer = 0;
	map(&f, 0x401000, 0x2000, 1, P | RW | US | NX);
	expect_pf(&f, 0x401000, RD, E_P | E_RSVD);
	fake_fini(&f);
}

static void test_pae_tables_outside_ram(void **state)
{
	struct fake f;
	uint64_t e;

	(void)state;
	fake_init(&f, TPAE);
	map(&f, 0xc0401000, 0x2000, 1, P | RW | US);
	e = get_entry(&f, f.path[3]);
	set_entry(&f, f.path[3], (e & 0xfff) | OUTSIDE);
	expect_not_ram(&f, 0xc0401000, OUTSIDE + 8 * 2);
	/* CR3 bits 31:5 locate the PDPT; bits 4:0 and 63:32 are not address bits. */
	f.pg.cr3 = 0xfffff000 | 0x1f | (1ull << 40);
	expect_not_ram(&f, 0xc0401000, 0xfffff000 + 8 * 3);
	fake_fini(&f);
}

/* --- Legacy 32-bit --- */

static void test_legacy32(void **state)
{
	struct fake f;
	size_t i;

	(void)state;
	fake_init(&f, T32);
	map(&f, 0x00401000, 0x2000, 1, P | RW | US);
	map(&f, 0xffc00000, 0xc00000, 2, P | RW | US);
	for (i = 0; i < sizeof(accesses) / sizeof(accesses[0]); i++) {
		expect_ok(&f, 0x00401fff, accesses[i], 0x2fff);
		expect_ok(&f, 0xffd23456, accesses[i], 0xd23456);
	}
	expect_pf(&f, 0x00402000, RD, 0); /* PTE not present */
	expect_pf(&f, 0x00800000, RD, 0); /* PDE not present */

	/*
	 * PDE.PS counts only with CR4.PSE (APM 5.2.2). With it, this PDE maps
	 * a 4 MiB page whose bits 20:13 (here 14:13) are PA bits 39:32;
	 * without it, the same PDE points at a page table at 0x6000.
	 */
	map(&f, 0x80000000, 0x6000, 2, P | RW | US);
	expect_ok(&f, 0x80123456, RD, 0x300123456ull);
	f.pg.cr4 &= ~CR4_PSE;
	set_entry(&f, 0x6000 + 4 * 0x123, 0x7000 | P);
	expect_ok(&f, 0x80123456, RD, 0x7456);
	expect_pf(&f, 0x80124456, RD, 0);
	f.pg.cr4 |= CR4_PSE;

	/* The linear address has 32 bits. */
	expect_ok(&f, 0xabc00401010ull, RD, 0x2010);
	/* There is no NX, and no I/D bit even with EFER.NXE=1. */
	f.pg.efer = EFER_NXE;
	map(&f, 0x00403000, 0x80003000, 1, P | RW | US);
	expect_ok(&f, 0x00403000, FE, 0x80003000);
	expect_pf(&f, 0x00404000, FE, 0);
	fake_fini(&f);
}

static void test_legacy32_protection(void **state)
{
	struct fake f;
	unsigned int level;

	(void)state;
	for (level = 1; level <= 2; level++) {
		fake_init(&f, T32);
		map(&f, 0x00401000, 0x2000, 1, P | RW | US);
		edit(&f, level, 0, P);
		expect_pf(&f, 0x00401000, WR | US_, E_W | E_U);
		edit(&f, level, P, RW);
		expect_ok(&f, 0x00401000, WR, 0x2000);
		f.pg.cr0 |= CR0_WP;
		expect_pf(&f, 0x00401000, WR, E_P | E_W);
		expect_pf(&f, 0x00401000, WR | US_, E_P | E_W | E_U);
		edit(&f, level, RW, US);
		expect_pf(&f, 0x00401000, RD | US_, E_P | E_U);
		expect_pf(&f, 0x00401000, FE | US_, E_P | E_U);
		expect_ok(&f, 0x00401000, WR, 0x2000);
		fake_fini(&f);
	}
	/* SMEP works in legacy paging and reports I/D. */
	fake_init(&f, T32);
	f.pg.cr4 |= CR4_SMEP;
	map(&f, 0x00401000, 0x2000, 1, P | RW | US);
	expect_pf(&f, 0x00401000, FE, E_P | E_ID);
	fake_fini(&f);
}

static void test_legacy32_pse36(void **state)
{
	struct fake f;
	uint64_t va = 0x80123456;

	(void)state;
	/* PDE bits 20:13 are physical-address bits 39:32 (APM 5.2.2). */
	fake_init(&f, T32);
	map(&f, va, 0x00400000 | (0x5aull << 13), 2, P | RW | US);
	expect_ok(&f, va, RD, 0x5a00523456ull);
	/* Bit 12 is PAT, not an address bit. */
	edit(&f, 2, 1ull << 12, 0);
	expect_ok(&f, va, RD, 0x5a00523456ull);
	/* Bit 21 is reserved. */
	edit(&f, 2, 1ull << 21, 0);
	expect_pf(&f, va, RD, E_P | E_RSVD);
	fake_fini(&f);

	/* With a 36-bit width, PA bits 39:36 (PDE bits 20:17) are reserved. */
	fake_init(&f, T32);
	f.pg.phys_addr_bits = 36;
	map(&f, va, 0x00400000 | (0x0full << 13), 2, P | RW | US);
	expect_ok(&f, va, RD, 0xf00523456ull);
	edit(&f, 2, 1ull << 17, 0);
	expect_pf(&f, va, WR | US_, E_P | E_RSVD | E_W | E_U);
	/* Widths below 32 are treated as 32: every PSE-36 bit is reserved. */
	f.pg.phys_addr_bits = 20;
	edit(&f, 2, 0, 0x1full << 13);
	edit(&f, 2, 1ull << 13, 0);
	expect_pf(&f, va, RD, E_P | E_RSVD);
	edit(&f, 2, 0, 1ull << 13);
	expect_ok(&f, va, RD, 0x523456);
	/* A 4 KiB PDE or PTE has no reserved bits at all. */
	check_not_rsvd(T32, 1, 1, 1ull << 7, 36, 0x10);
	check_not_rsvd(T32, 1, 2, 1ull << 8, 0, 0x10);
	fake_fini(&f);
}

static void test_legacy32_tables_outside_ram(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, T32);
	map(&f, 0xc0401000, 0x2000, 1, P | RW | US);
	set_entry(&f, f.path[2], 0xf0000000 | P | RW | US);
	expect_not_ram(&f, 0xc0401000, 0xf0000000 + 4 * 0x001);
	f.pg.cr3 = 0xfee00000 | 0xfff;
	expect_not_ram(&f, 0xc0401000, 0xfee00000 + 4 * 0x301);
	fake_fini(&f);
}

/* --- guest_read_virt --- */

static void test_read_across_pages(void **state)
{
	struct fake f;
	uint8_t buf[32];
	struct walk_result r;
	unsigned int i;

	(void)state;
	fake_init(&f, T4);
	/* Two neighbouring virtual pages on frames in the opposite order. */
	map(&f, 0x7000, 0x20000, 1, P | RW | US);
	map(&f, 0x8000, 0x10000, 1, P | RW | US);
	for (i = 0; i < 16; i++) {
		f.ram.base[0x20ff0 + i] = (uint8_t)(0xa0 + i);
		f.ram.base[0x10000 + i] = (uint8_t)(0xb0 + i);
	}
	r = guest_read_virt(&f.ram, &f.pg, 0x7ff0, buf, 32, RD);
	assert_int_equal(r.status, WALK_OK);
	assert_int_equal(r.gpa, 0x20ff0);
	for (i = 0; i < 16; i++) {
		assert_int_equal(buf[i], 0xa0 + i);
		assert_int_equal(buf[16 + i], 0xb0 + i);
	}
	/* Nothing to read: nothing is walked. */
	f.pg.cr3 = OUTSIDE;
	r = guest_read_virt(&f.ram, &f.pg, 0x7ff0, buf, 0, RD);
	assert_int_equal(r.status, WALK_OK);
	fake_fini(&f);
}

static void test_read_into_unmapped(void **state)
{
	struct fake f;
	uint8_t buf[15];
	struct walk_result r;

	(void)state;
	fake_init(&f, T4);
	map(&f, 0x7000, 0x20000, 1, P | RW | US);
	memcpy(f.ram.base + 0x20ffa, "012345", 6);
	memset(buf, 0xee, sizeof(buf));
	/* An instruction fetch of 15 bytes, 6 before the end of the last mapped page. */
	r = guest_read_virt(&f.ram, &f.pg, 0x7ffa, buf, sizeof(buf), FE | US_);
	assert_int_equal(r.status, WALK_PAGE_FAULT);
	assert_int_equal(r.pf_error, E_U | E_ID);
	assert_int_equal(r.fault_va, 0x8000);
	assert_memory_equal(buf, "012345", 6);
	assert_int_equal(buf[6], 0xee);

	/* Or into a page that is present but forbids the access. */
	map(&f, 0x8000, 0x21000, 1, P | US);
	f.pg.cr0 |= CR0_WP;
	r = guest_read_virt(&f.ram, &f.pg, 0x7ffa, buf, sizeof(buf), WR);
	assert_int_equal(r.status, WALK_PAGE_FAULT);
	assert_int_equal(r.pf_error, E_P | E_W);
	assert_int_equal(r.fault_va, 0x8000);

	/* Or the first page already fails. */
	r = guest_read_virt(&f.ram, &f.pg, 0x6ffa, buf, sizeof(buf), RD);
	assert_int_equal(r.status, WALK_PAGE_FAULT);
	assert_int_equal(r.fault_va, 0x6ffa);

	/* Or runs into a non-canonical address. */
	map(&f, 0x00007ffffffff000ull, 0x22000, 1, P | RW | US);
	r = guest_read_virt(&f.ram, &f.pg, 0x00007ffffffffffcull, buf, 8, RD);
	assert_int_equal(r.status, WALK_GP);
	assert_int_equal(r.fault_va, 0x0000800000000000ull);
	fake_fini(&f);
}

static void test_read_mmio_and_ram_end(void **state)
{
	struct fake f;
	uint8_t buf[32];
	struct walk_result r;

	(void)state;
	fake_init(&f, T4);
	/* A guest mapping of the local APIC page: the walk succeeds, the read does not. */
	map(&f, 0xffff800000001000ull, 0xfee00000, 1, P | RW);
	expect_ok(&f, 0xffff800000001300ull, WR, 0xfee00300);
	r = guest_read_virt(&f.ram, &f.pg, 0xffff800000001300ull, buf, 4, RD);
	assert_int_equal(r.status, WALK_NOT_RAM);
	assert_int_equal(r.bad_gpa, 0xfee00300);
	assert_int_equal(r.fault_va, 0xffff800000001300ull);

	/* RAM that ends inside a page: the bytes below the end are copied. */
	map(&f, 0x5000, RAM_SIZE - 0x1000, 1, P | RW);
	f.ram.size = RAM_SIZE - 0x800;
	memcpy(f.ram.base + RAM_SIZE - 0x810, "0123456789abcdef", 16);
	memset(buf, 0, sizeof(buf));
	r = guest_read_virt(&f.ram, &f.pg, 0x57f0, buf, 32, RD);
	assert_int_equal(r.status, WALK_NOT_RAM);
	assert_int_equal(r.bad_gpa, RAM_SIZE - 0x800);
	assert_int_equal(r.fault_va, 0x5800);
	assert_memory_equal(buf, "0123456789abcdef", 16);
	fake_fini(&f);
}

static void test_read_wraps_at_4g(void **state)
{
	struct fake f;
	uint8_t buf[4];
	struct walk_result r;

	(void)state;
	fake_init(&f, T32);
	map(&f, 0xfffff000, 0x2000, 1, P | RW | US);
	map(&f, 0x00000000, 0x3000, 1, P | RW | US);
	memcpy(f.ram.base + 0x2ffe, "ab", 2);
	memcpy(f.ram.base + 0x3000, "cd", 2);
	r = guest_read_virt(&f.ram, &f.pg, 0xfffffffe, buf, 4, RD);
	assert_int_equal(r.status, WALK_OK);
	assert_memory_equal(buf, "abcd", 4);
	/* A fault after the wrap reports a 32-bit address. */
	map(&f, 0x00000000, 0x3000, 1, RW | US);
	r = guest_read_virt(&f.ram, &f.pg, 0xfffffffe, buf, 4, RD);
	assert_int_equal(r.status, WALK_PAGE_FAULT);
	assert_int_equal(r.fault_va, 0);
	fake_fini(&f);
}

/* The walk only reads: no Accessed or Dirty bit appears anywhere. */
static void test_walk_is_read_only(void **state)
{
	struct fake f;
	uint8_t *before = malloc(RAM_SIZE);
	uint8_t buf[16];

	(void)state;
	assert_non_null(before);
	fake_init(&f, T4);
	map(&f, 0x401000, 0x2000, 1, P | RW | US);
	map(&f, 0x600000, 0x600000, 2, P | RW | US);
	memcpy(before, f.ram.base, RAM_SIZE);
	expect_ok(&f, 0x401000, WR | US_, 0x2000);
	expect_ok(&f, 0x600000, WR, 0x600000);
	assert_int_equal(guest_read_virt(&f.ram, &f.pg, 0x401ff8, buf, 16, FE).status,
			 WALK_PAGE_FAULT);
	assert_memory_equal(before, f.ram.base, RAM_SIZE);
	fake_fini(&f);
	free(before);
}

/* The trace of a walk names every entry it read, and tells when one changed. */
static void test_walk_trace(void **state)
{
	struct fake f;
	struct walk_trace t;
	struct walk_result r;

	(void)state;
	fake_init(&f, T4);
	map(&f, 0x401000, 0x123000, 1, P | RW | US);
	memset(&t, 0xA5, sizeof(t)); /* garbage that must be overwritten */
	r = guest_walk_traced(&f.ram, &f.pg, 0x401abc, FE, &t);
	assert_int_equal(r.status, WALK_OK);
	assert_int_equal(t.nr, 4);
	assert_int_equal(t.esize, 8);
	for (unsigned int i = 0; i < 4; i++) {
		assert_int_equal(t.gpa[i], f.path[4 - i]);
		assert_int_equal(t.entry[i], get_entry(&f, f.path[4 - i]));
	}
	assert_true(walk_trace_valid(&f.ram, &t));
	edit(&f, 1, 0, RW); /* any change, even one that keeps the page mapped */
	assert_false(walk_trace_valid(&f.ram, &t));
	edit(&f, 1, RW, 0);
	assert_true(walk_trace_valid(&f.ram, &t));
	edit(&f, 3, 0, P);
	assert_false(walk_trace_valid(&f.ram, &t));

	/* Paging off reads no entry: an empty trace, whatever was there before. */
	memset(&t, 0xA5, sizeof(t));
	f.pg.cr0 = CR0_PE;
	r = guest_walk_traced(&f.ram, &f.pg, 0x2000, FE, &t);
	assert_int_equal(r.status, WALK_OK);
	assert_int_equal(t.nr, 0);
	assert_true(walk_trace_valid(&f.ram, &t));

	/* Legacy 32-bit paging traces 4-byte entries. */
	fake_fini(&f);
	fake_init(&f, T32);
	map(&f, 0x401000, 0x123000, 1, P | RW | US);
	r = guest_walk_traced(&f.ram, &f.pg, 0x401000, RD, &t);
	assert_int_equal(r.status, WALK_OK);
	assert_int_equal(t.nr, 2);
	assert_int_equal(t.esize, 4);
	assert_true(walk_trace_valid(&f.ram, &t));
	fake_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paging_off),
	    cmocka_unit_test(test_walk_trace),
	    cmocka_unit_test(test_long_4k_2m_1g),
	    cmocka_unit_test(test_long_not_present),
	    cmocka_unit_test(test_long_read_only),
	    cmocka_unit_test(test_long_supervisor_only),
	    cmocka_unit_test(test_long_nx),
	    cmocka_unit_test(test_long_smep),
	    cmocka_unit_test(test_long_reserved),
	    cmocka_unit_test(test_long_tables_outside_ram),
	    cmocka_unit_test(test_long_non_canonical),
	    cmocka_unit_test(test_la57),
	    cmocka_unit_test(test_pae),
	    cmocka_unit_test(test_pae_not_present),
	    cmocka_unit_test(test_pae_reserved),
	    cmocka_unit_test(test_pae_nx_without_nxe),
	    cmocka_unit_test(test_pae_tables_outside_ram),
	    cmocka_unit_test(test_legacy32),
	    cmocka_unit_test(test_legacy32_protection),
	    cmocka_unit_test(test_legacy32_pse36),
	    cmocka_unit_test(test_legacy32_tables_outside_ram),
	    cmocka_unit_test(test_read_across_pages),
	    cmocka_unit_test(test_read_into_unmapped),
	    cmocka_unit_test(test_read_mmio_and_ram_end),
	    cmocka_unit_test(test_read_wraps_at_4g),
	    cmocka_unit_test(test_walk_is_read_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
