/* host-test-sources: arch/x86/svm/nested_checks.c arch/x86/svm/nested_cache.c */
/*
 * Host unit tests for arch/x86/svm/nested_checks.c.
 *
 * Each test starts from a VMCB12 that passes every check (a 64-bit L2 under
 * nested paging, a 32-bit PAE L2 on L1's own paging, an L2 with paging off),
 * goes through vmcb12_cache_fill() like the VMRUN path, then breaks exactly
 * one rule: the result must be that rule's "<id>: <name>", and a value just
 * inside the rule must pass. Architectural bits are spelled out here from the
 * APM, independently of the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/svm/nested_checks.h"
#include "kernel/guest_walk.h"

/* APM vol. 2 3.1.1 (CR0), 3.1.3 (CR4), 3.1.7 (EFER). */
#define CR0_PE	 (1ull << 0)
#define CR0_ET	 (1ull << 4)
#define CR0_NE	 (1ull << 5)
#define CR0_WP	 (1ull << 16)
#define CR0_NW	 (1ull << 29)
#define CR0_CD	 (1ull << 30)
#define CR0_PG	 (1ull << 31)
#define CR4_PSE	 (1ull << 4)
#define CR4_PAE	 (1ull << 5)
#define CR4_PGE	 (1ull << 7)
#define CR4_CET	 (1ull << 23)
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define EFER_SVM (1ull << 12)
#define EFER_FFX (1ull << 14)

/* CR4 bits AMD defines (APM Figure 3-7): 12:0, 18:16, 23:20. */
static bool cr4_bit_defined_by_amd(unsigned int bit)
{
	return bit <= 12 || (bit >= 16 && bit <= 18) || (bit >= 20 && bit <= 23);
}

/* A typical L1 CPUID: no UMIP, LA57, PCID, XSAVE, PKE or CET. */
#define L1_CR4_VALID  (0x7ffull | (1ull << 16) | (1ull << 20) | (1ull << 21))
#define L1_EFER_VALID (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVM | EFER_FFX)

/* Segment attributes (APM 15.5.1): type, S, DPL, P, AVL, L, D/B, G. */
#define SEG_CODE64 0x029b /* P, S, code RX accessed, L */
#define SEG_CODE32 0x0c9b /* P, S, code RX accessed, D, G */
#define SEG_DATA   0x0c93
#define ATTR_L	   (1u << 9)
#define ATTR_DB	   (1u << 10)

#define GPAT_DEFAULT 0x0007040600070406ull /* power-on PAT: WB WT UC- UC, twice */

/* EVENTINJ (APM 15.20). */
#define EV_VALID	 (1ull << 31)
#define EV_EV		 (1ull << 11)
#define EVENT(type, vec) (EV_VALID | ((uint64_t)(type) << 8) | (vec))

static const struct nested_features all_features = {
    .npt = true,
    .vgif = true,
    .nrips = true,
    .vnmi = true,
    .lbrv = true,
    .pause_filter = true,
    .flush_by_asid = true,
};

static struct vmcb snap;

static struct nested_l1_env l1_env(void)
{
	return (struct nested_l1_env){
	    .l1_cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG,
	    .l1_cr4 = CR4_PAE | CR4_PGE,
	    .l1_efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVM,
	    .phys_addr_bits = 48,
	    .long_mode = true,
	    .efer_valid = L1_EFER_VALID,
	    .cr4_valid = L1_CR4_VALID,
	    .features = all_features,
	};
}

/* The parts every valid VMCB12 below shares. */
static void snap_common(void)
{
	memset(&snap, 0, sizeof(snap));
	snap.control.intercepts[3] = (1u << 0) | (1u << 1) | (1u << 18); /* INTR, NMI, CPUID */
	snap.control.intercepts[4] = 1u << 0;				 /* VMRUN */
	snap.control.iopm_base_pa = 0x10000;
	snap.control.msrpm_base_pa = 0x20000;
	snap.control.asid = 1;
	snap.control.int_ctl = VMCB_INT_CTL_V_INTR_MASKING;
	snap.save.ds = snap.save.es = snap.save.ss =
	    (struct vmcb_seg){.selector = 0x10, .attrib = SEG_DATA, .limit = 0xffffffff};
	snap.save.gdtr = (struct vmcb_seg){.limit = 0x27, .base = 0x1000};
	snap.save.idtr = (struct vmcb_seg){.limit = 0xfff, .base = 0x2000};
	snap.save.dr6 = 0xffff0ff0;
	snap.save.dr7 = 0x400;
	snap.save.rflags = 2;
	snap.save.rip = 0x100000;
	snap.save.rsp = 0x200000;
	snap.save.g_pat = GPAT_DEFAULT;
}

static struct vmcb12_cache cache_of_snap(const struct nested_features *f)
{
	struct vmcb12_cache c;

	vmcb12_cache_fill(&c, &snap, f);
	return c;
}

/* A 64-bit L2 under nested paging. */
static struct vmcb12_cache base64(void)
{
	snap_common();
	snap.control.misc_ctl = VMCB_MISC_NP_ENABLE;
	snap.control.n_cr3 = 0x3000;
	snap.save.cs =
	    (struct vmcb_seg){.selector = 0x8, .attrib = SEG_CODE64, .limit = 0xffffffff};
	snap.save.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVM;
	snap.save.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	snap.save.cr3 = 0x4000;
	snap.save.cr4 = CR4_PAE | CR4_PGE;
	return cache_of_snap(&all_features);
}

/* PDPT of the 32-bit PAE L2 in the fake L1 RAM. */
#define PAE_PDPT 0x5000ull

/* A 32-bit PAE L2 on L1's own paging (NP off): PDPTEs are loaded at VMRUN. */
static struct vmcb12_cache base_pae(void)
{
	snap_common();
	snap.save.cs =
	    (struct vmcb_seg){.selector = 0x8, .attrib = SEG_CODE32, .limit = 0xffffffff};
	snap.save.efer = EFER_NXE | EFER_SVM;
	snap.save.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	snap.save.cr3 = PAE_PDPT;
	snap.save.cr4 = CR4_PAE;
	return cache_of_snap(&all_features);
}

/* An L2 in protected mode with paging off, under nested paging. */
static struct vmcb12_cache base_nopaging(void)
{
	snap_common();
	snap.control.misc_ctl = VMCB_MISC_NP_ENABLE;
	snap.control.n_cr3 = 0x3000;
	snap.save.cs =
	    (struct vmcb_seg){.selector = 0x8, .attrib = SEG_CODE32, .limit = 0xffffffff};
	snap.save.efer = EFER_SVM;
	snap.save.cr0 = CR0_PE | CR0_ET;
	return cache_of_snap(&all_features);
}

/* The nested_checks[] entry whose "<id>: <name>" is r, or NULL. */
static const struct nested_check_info *entry_of(const char *r)
{
	char buf[256];
	unsigned int i;

	for (i = 0; i < nr_nested_checks; i++) {
		snprintf(buf, sizeof(buf), "%s: %s", nested_checks[i].id, nested_checks[i].name);
		if (strcmp(buf, r) == 0)
			return &nested_checks[i];
	}
	return NULL;
}

/*
 * Whether r names a failure of check id, with part (a piece of its name)
 * when part is not NULL. Prints what it got otherwise, for the log.
 */
static bool is_fail(const char *r, const char *id, const char *part)
{
	const struct nested_check_info *e;

	if (!r) {
		print_message("expected %s, got a pass\n", id);
		return false;
	}
	e = entry_of(r);
	if (!e || strcmp(e->id, id) != 0 || (part && !strstr(e->name, part))) {
		print_message("expected %s (%s), got \"%s\"\n", id, part ? part : "", r);
		return false;
	}
	return true;
}

static bool is_pass(const char *r)
{
	if (r)
		print_message("expected a pass, got \"%s\"\n", r);
	return r == NULL;
}

#define FAILS(r, id)	    assert_true(is_fail((r), (id), NULL))
#define FAILS_AS(r, id, pt) assert_true(is_fail((r), (id), (pt)))
#define PASSES(r)	    assert_true(is_pass(r))
/* In loops: say which bit when the expectation does not hold. */
#define EXPECT(ok, what, bit)                                                                      \
	do {                                                                                       \
		if (!(ok))                                                                         \
			fail_msg("%s: bit %u", (what), (unsigned int)(bit));                       \
	} while (0)

static const char *check(const struct vmcb12_cache *c, const struct nested_l1_env *env)
{
	return nested_check_vmcb12(c, env);
}

/* ---- The table ---- */

static void test_table_lists_every_check(void **state)
{
	bool seen[23] = {false};
	unsigned int i, j;

	(void)state;
	assert_true(nr_nested_checks >= 22);
	for (i = 0; i < nr_nested_checks; i++) {
		const struct nested_check_info *e = &nested_checks[i];
		unsigned int n;

		assert_non_null(e->id);
		assert_non_null(e->name);
		assert_true(e->id[0] == 'C');
		n = (unsigned int)atoi(e->id + 1);
		assert_true(n >= 1 && n <= 22);
		seen[n] = true;
		assert_true(strlen(e->name) > 10);
		/* Every name cites the APM. */
		assert_non_null(strstr(e->name, "(APM 15."));
		for (j = 0; j < i; j++)
			assert_string_not_equal(e->name, nested_checks[j].name);
	}
	for (i = 1; i <= 22; i++)
		EXPECT(seen[i], "check id missing from nested_checks[]", i);
}

static void test_valid_vmcb12s_pass(void **state)
{
	struct nested_l1_env env = l1_env();
	struct nested_l1_env bare = l1_env();
	struct vmcb12_cache c;

	(void)state;
	c = base64();
	PASSES(check(&c, &env));
	c = base_pae();
	PASSES(check(&c, &env));
	c = base_nopaging();
	PASSES(check(&c, &env));

	/* Real mode (CR0.PE=0, paging off) and compatibility mode (CS.L=0). */
	c = base_nopaging();
	c.cr0 = CR0_ET;
	PASSES(check(&c, &env));
	c = base64();
	c.cs.attrib = SEG_CODE32;
	PASSES(check(&c, &env));

	/* An L1 that was offered nothing optional, on a CPU without long mode. */
	memset(&bare.features, 0, sizeof(bare.features));
	bare.long_mode = false;
	bare.efer_valid = EFER_SCE | EFER_NXE | EFER_SVM;
	bare.l1_efer = EFER_SVM;
	snap_common();
	snap.save.efer = EFER_SVM;
	snap.save.cr0 = CR0_PE | CR0_PG;
	snap.save.cr4 = CR4_PSE;
	snap.save.cs.attrib = SEG_CODE32;
	c = cache_of_snap(&bare.features);
	PASSES(check(&c, &bare));
}

/* ---- Save area (APM 15.5.1) ---- */

static void test_c1_efer_svme(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c = base64();

	(void)state;
	c.efer &= ~EFER_SVM;
	FAILS(check(&c, &env), "C1");
	c = base_nopaging();
	c.efer = 0;
	FAILS(check(&c, &env), "C1");
	c.efer = EFER_SVM;
	PASSES(check(&c, &env));
}

static void test_c2_cd_nw(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c = base64();

	(void)state;
	c.cr0 |= CR0_NW;
	FAILS(check(&c, &env), "C2");
	/* CD=1 with NW=1 or NW=0 is legal. */
	c.cr0 |= CR0_CD;
	PASSES(check(&c, &env));
	c.cr0 &= ~CR0_NW;
	PASSES(check(&c, &env));
	c = base_pae();
	c.cr0 |= CR0_NW;
	FAILS(check(&c, &env), "C2");
}

static void test_c3_cr0_high(void **state)
{
	struct nested_l1_env env = l1_env();
	unsigned int bit;

	(void)state;
	for (bit = 0; bit < 64; bit++) {
		struct vmcb12_cache c = base64();

		c.cr0 |= 1ull << bit;
		if (bit >= 32)
			EXPECT(is_fail(check(&c, &env), "C3", NULL), "CR0 high bit", bit);
		else if (bit != 29) /* NW alone is C2 */
			EXPECT(is_pass(check(&c, &env)), "CR0 bits 31:0 are not C3's", bit);
	}
}

/* C4 in long mode, for one MAXPHYADDR: bits >= pa_bits fail, the rest pass. */
static void c4_long_mode_bits(unsigned int env_bits, unsigned int pa_bits)
{
	struct nested_l1_env env = l1_env();
	unsigned int bit;

	env.phys_addr_bits = env_bits;
	for (bit = 0; bit < 64; bit++) {
		struct vmcb12_cache c = base64();

		c.cr3 |= 1ull << bit;
		if (bit >= pa_bits)
			EXPECT(is_fail(check(&c, &env), "C4", "long mode"), "CR3 MBZ", bit);
		else
			EXPECT(is_pass(check(&c, &env)), "CR3 below MAXPHYADDR", bit);
	}
}

static void test_c4_cr3_long_mode(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c = base64();

	(void)state;
	c4_long_mode_bits(36, 36);
	c4_long_mode_bits(40, 40);
	c4_long_mode_bits(48, 48);
	c4_long_mode_bits(52, 52);
	/* 0 and >52 mean 52; <32 means 32 (as in struct guest_paging). */
	c4_long_mode_bits(0, 52);
	c4_long_mode_bits(64, 52);
	c4_long_mode_bits(20, 32);
	c4_long_mode_bits(31, 32);
	c4_long_mode_bits(32, 32);
	c4_long_mode_bits(53, 52);
	/* Bits 11:5 and 2:0 are reserved but not MBZ: VMRUN accepts them. */
	c.cr3 |= 0xfff;
	PASSES(check(&c, &env));
	/* Long mode is EFER.LME && CR0.PG from the cache, whatever EFER.LMA says. */
	c = base64();
	c.efer &= ~EFER_LMA;
	c.cr3 |= 1ull << 48;
	FAILS_AS(check(&c, &env), "C4", "long mode");
}

/* Outside long mode, CR3 bits 63:32 fail and 31:0 pass. */
static void c4_legacy_bits(struct vmcb12_cache base)
{
	struct nested_l1_env env = l1_env();
	unsigned int bit;

	for (bit = 0; bit < 64; bit++) {
		struct vmcb12_cache c = base;

		c.cr3 |= 1ull << bit;
		if (bit >= 32)
			EXPECT(is_fail(check(&c, &env), "C4", "outside long mode"), "CR3[63:32]",
			       bit);
		else
			EXPECT(is_pass(check(&c, &env)), "CR3[31:0]", bit);
	}
}

static void test_c4_cr3_legacy_modes(void **state)
{
	struct vmcb12_cache c;

	(void)state;
	c4_legacy_bits(base_pae());
	c4_legacy_bits(base_nopaging());
	/* Legacy 32-bit paging. */
	c = base_pae();
	c.cr4 = CR4_PSE;
	c4_legacy_bits(c);
	/* EFER.LME=1 but CR0.PG=0: not long mode yet, so still a 32-bit CR3. */
	c = base_nopaging();
	c.efer |= EFER_LME;
	c.cr4 = CR4_PAE;
	c4_legacy_bits(c);
}

static void test_c5_cr4_mbz(void **state)
{
	struct nested_l1_env env = l1_env();
	unsigned int bit;

	(void)state;
	/* Bits L1's CPUID lacks. */
	for (bit = 0; bit < 64; bit++) {
		struct vmcb12_cache c = base64();

		c.cr4 |= 1ull << bit;
		if (L1_CR4_VALID & (1ull << bit))
			EXPECT(is_pass(check(&c, &env)), "CR4 bit L1 has", bit);
		else
			EXPECT(is_fail(check(&c, &env), "C5", NULL), "CR4 bit L1 lacks", bit);
	}
	/* Reserved bits fail even when cr4_valid (wrongly) lists them. */
	env.cr4_valid = ~0ull;
	for (bit = 0; bit < 64; bit++) {
		struct vmcb12_cache c = base64();

		c.cr4 |= 1ull << bit;
		if (cr4_bit_defined_by_amd(bit))
			EXPECT(is_pass(check(&c, &env)), "CR4 bit AMD defines", bit);
		else
			EXPECT(is_fail(check(&c, &env), "C5", NULL), "CR4 reserved bit", bit);
	}
	/* Same in a 32-bit guest. */
	env = l1_env();
	{
		struct vmcb12_cache c = base_pae();

		c.cr4 |= 1ull << 13; /* VMXE: Intel only */
		FAILS(check(&c, &env), "C5");
	}
}

static void test_c6_c7_dr6_dr7(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c = base64();
	unsigned int bit;

	(void)state;
	for (bit = 32; bit < 64; bit++) {
		c = base64();
		c.dr6 |= 1ull << bit;
		EXPECT(is_fail(check(&c, &env), "C6", NULL), "DR6[63:32]", bit);
		c = base64();
		c.dr7 |= 1ull << bit;
		EXPECT(is_fail(check(&c, &env), "C7", NULL), "DR7[63:32]", bit);
	}
	c = base64();
	c.dr6 = 0xffffffff;
	c.dr7 = 0xffffffff;
	PASSES(check(&c, &env));
}

static void c8_efer_bits(struct vmcb12_cache base, const struct nested_l1_env *env)
{
	unsigned int bit;

	for (bit = 0; bit < 64; bit++) {
		struct vmcb12_cache c = base;

		c.efer |= 1ull << bit;
		if (env->efer_valid & (1ull << bit))
			EXPECT(is_pass(check(&c, env)), "EFER bit L1 has", bit);
		else
			EXPECT(is_fail(check(&c, env), "C8", NULL), "EFER bit L1 lacks", bit);
	}
}

static void test_c8_efer_mbz(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c;

	(void)state;
	c8_efer_bits(base64(), &env);
	/* LME without PG is legal; LMA alone, too (KVM does not tie it to LME && PG). */
	c8_efer_bits(base_nopaging(), &env);
	env.efer_valid &= ~EFER_FFX;
	c8_efer_bits(base64(), &env);
	c = base64();
	c.efer |= EFER_FFX;
	FAILS(check(&c, &env), "C8");
}

static void test_c9_long_mode_without_lm(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c;

	(void)state;
	env.long_mode = false;
	env.efer_valid = EFER_SCE | EFER_NXE | EFER_SVM;
	c = base_nopaging();
	PASSES(check(&c, &env));
	c.efer |= EFER_LME;
	FAILS(check(&c, &env), "C9");
	c = base_nopaging();
	c.efer |= EFER_LMA;
	FAILS(check(&c, &env), "C9");
	c = base_pae();
	PASSES(check(&c, &env));
	c = base64();
	FAILS(check(&c, &env), "C9");
	/* C9 even when efer_valid lists the bits: the CPUID LM bit decides. */
	env.efer_valid = L1_EFER_VALID;
	c = base_nopaging();
	c.efer |= EFER_LME;
	FAILS(check(&c, &env), "C9");
	env.long_mode = true;
	PASSES(check(&c, &env));
}

static void test_c10_lme_pg_without_pae(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c = base64();

	(void)state;
	c.cr4 &= ~CR4_PAE;
	FAILS(check(&c, &env), "C10");
	/* Long mode enabled but paging off: no PAE needed. */
	c.cr0 &= ~CR0_PG;
	PASSES(check(&c, &env));
	/* Legacy 32-bit paging without PAE. */
	c = base_pae();
	c.cr4 &= ~CR4_PAE;
	PASSES(check(&c, &env));
}

static void test_c11_lme_pg_without_pe(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c = base64();

	(void)state;
	c.cr0 &= ~CR0_PE;
	FAILS(check(&c, &env), "C11");
	/* Paged real mode (PE=0, PG=1) is legal outside long mode (APM 15.19). */
	c = base_pae();
	c.cr0 &= ~CR0_PE;
	PASSES(check(&c, &env));
	/* Real mode with EFER.LME=1 and paging off. */
	c = base_nopaging();
	c.cr0 &= ~CR0_PE;
	c.efer |= EFER_LME;
	PASSES(check(&c, &env));
}

static void test_c12_cs_l_and_d(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c = base64();

	(void)state;
	c.cs.attrib |= ATTR_DB;
	FAILS(check(&c, &env), "C12");
	/* Compatibility mode: D without L. */
	c.cs.attrib &= ~ATTR_L;
	PASSES(check(&c, &env));
	/* L and D with paging off (long mode not active). */
	c = base64();
	c.cs.attrib |= ATTR_DB;
	c.cr0 &= ~CR0_PG;
	PASSES(check(&c, &env));
	/* L and D outside long mode. */
	c = base_pae();
	c.cs.attrib |= ATTR_L | ATTR_DB;
	PASSES(check(&c, &env));
}

static void test_c13_cet_without_wp(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c = base64();

	(void)state;
	/* Without CET in L1's CPUID, CR4.CET is an MBZ bit. */
	c.cr4 |= CR4_CET;
	FAILS(check(&c, &env), "C5");
	env.cr4_valid |= CR4_CET;
	PASSES(check(&c, &env));
	c.cr0 &= ~CR0_WP;
	FAILS(check(&c, &env), "C13");
	c.cr4 &= ~CR4_CET;
	PASSES(check(&c, &env));
}

/* ---- Control area ---- */

static void test_c14_vmrun_intercept(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c = base64();

	(void)state;
	c.intercepts[4] &= ~1u;
	FAILS(check(&c, &env), "C14");
	/* Through the snapshot, with every other intercept set. */
	base64();
	memset(snap.control.intercepts, 0xff, sizeof(snap.control.intercepts));
	snap.control.intercepts[4] &= ~1u;
	c = cache_of_snap(&all_features);
	FAILS(check(&c, &env), "C14");
	/* VMRUN alone, or everything. */
	base64();
	memset(snap.control.intercepts, 0, sizeof(snap.control.intercepts));
	snap.control.intercepts[4] = 1u;
	c = cache_of_snap(&all_features);
	PASSES(check(&c, &env));
	memset(snap.control.intercepts, 0xff, sizeof(snap.control.intercepts));
	c = cache_of_snap(&all_features);
	PASSES(check(&c, &env));
}

static void test_c15_asid(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c = base64();

	(void)state;
	c.asid = 0;
	FAILS(check(&c, &env), "C15");
	c.asid = 1;
	PASSES(check(&c, &env));
	c.asid = 0xffffffff;
	PASSES(check(&c, &env));
}

static void c16_boundaries(unsigned int env_bits, unsigned int pa_bits)
{
	struct nested_l1_env env = l1_env();
	uint64_t top = 1ull << pa_bits;
	struct vmcb12_cache c;

	env.phys_addr_bits = env_bits;
	/* MSRPM, 8 KiB: the last page pair below 2^MAXPHYADDR is the limit. */
	c = base64();
	c.msrpm_base_pa = top - 0x2000;
	PASSES(check(&c, &env));
	c.msrpm_base_pa = top - 0x2000 + 0x1000;
	FAILS_AS(check(&c, &env), "C16", "MSRPM");
	c.msrpm_base_pa = top;
	FAILS_AS(check(&c, &env), "C16", "MSRPM");
	c.msrpm_base_pa = ~0xfffull; /* no wrap-around */
	FAILS_AS(check(&c, &env), "C16", "MSRPM");
	c.msrpm_base_pa = 0;
	PASSES(check(&c, &env));
	/* IOPM, 12 KiB. */
	c = base64();
	c.iopm_base_pa = top - 0x3000;
	PASSES(check(&c, &env));
	c.iopm_base_pa = top - 0x3000 + 0x1000;
	FAILS_AS(check(&c, &env), "C16", "IOPM");
	c.iopm_base_pa = top - 0x2000;
	FAILS_AS(check(&c, &env), "C16", "IOPM");
	c.iopm_base_pa = ~0xfffull;
	FAILS_AS(check(&c, &env), "C16", "IOPM");
	c.iopm_base_pa = 0;
	PASSES(check(&c, &env));
	/* Bits 11:0 are dropped before the check (Table B-1). */
	base64();
	snap.control.msrpm_base_pa = top - 0x2000 + 0xfff;
	snap.control.iopm_base_pa = top - 0x3000 + 0xfff;
	c = cache_of_snap(&all_features);
	PASSES(check(&c, &env));
	snap.control.msrpm_base_pa = top - 0x1000;
	c = cache_of_snap(&all_features);
	FAILS_AS(check(&c, &env), "C16", "MSRPM");
}

static void test_c16_bitmaps_in_phys_range(void **state)
{
	(void)state;
	c16_boundaries(36, 36);
	c16_boundaries(48, 48);
	c16_boundaries(52, 52);
	c16_boundaries(0, 52);
	c16_boundaries(20, 32);
}

static void test_c17_event_types(void **state)
{
	struct nested_l1_env env = l1_env();
	unsigned int type;

	(void)state;
	for (type = 0; type < 8; type++) {
		struct vmcb12_cache c = base64();

		c.event_inj = EVENT(type, 0x20);
		switch (type) {
		case 0: /* INTR */
		case 2: /* NMI: vector ignored */
		case 4: /* INTn */
			EXPECT(is_pass(check(&c, &env)), "defined TYPE", type);
			break;
		case 3: /* exception 0x20 does not exist */
			EXPECT(is_fail(check(&c, &env), "C17", "not an exception"), "TYPE 3", type);
			break;
		default:
			EXPECT(is_fail(check(&c, &env), "C17", "reserved TYPE"), "reserved TYPE",
			       type);
			break;
		}
		/* V=0: nothing is injected, nothing is checked. */
		c.event_inj &= ~EV_VALID;
		EXPECT(is_pass(check(&c, &env)), "V=0", type);
	}
}

static bool exception_injectable(unsigned int v)
{
	/* APM 8.2 Table 8-1, minus NMI (2), #CSO (9), #CP (21), #VC (29), reserved. */
	static const unsigned int valid[] = {0,	 1,  3,	 4,  5,	 6,  7,	 8,  10, 11,
					     12, 13, 14, 16, 17, 18, 19, 28, 30};
	size_t i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		if (valid[i] == v)
			return true;
	return false;
}

static void test_c17_exception_vectors(void **state)
{
	struct nested_l1_env env = l1_env();
	unsigned int v;

	(void)state;
	for (v = 0; v < 256; v++) {
		struct vmcb12_cache c64 = base64(), c32 = base_pae();

		c64.event_inj = EVENT(3, v);
		c32.event_inj = EVENT(3, v);
		if (!exception_injectable(v)) {
			EXPECT(is_fail(check(&c64, &env), "C17", "not an exception"), "vector", v);
			EXPECT(is_fail(check(&c32, &env), "C17", "not an exception"), "vector", v);
		} else if (v == 5) {
			EXPECT(is_fail(check(&c64, &env), "C17", "64-bit"), "#BR in 64-bit", v);
			EXPECT(is_pass(check(&c32, &env)), "#BR in 32-bit", v);
		} else {
			EXPECT(is_pass(check(&c64, &env)), "vector", v);
			EXPECT(is_pass(check(&c32, &env)), "vector", v);
		}
		/* Any vector goes as an external or software interrupt. */
		c64.event_inj = EVENT(0, v);
		EXPECT(is_pass(check(&c64, &env)), "INTR vector", v);
		c64.event_inj = EVENT(4, v);
		EXPECT(is_pass(check(&c64, &env)), "INTn vector", v);
	}
}

static void test_c17_br_mode(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c = base64();

	(void)state;
	c.event_inj = EVENT(3, 5);
	FAILS_AS(check(&c, &env), "C17", "#BR");
	/* Compatibility mode can raise #BR. */
	c.cs.attrib &= ~ATTR_L;
	PASSES(check(&c, &env));
	/* CS.L with paging off: not 64-bit mode yet. */
	c = base64();
	c.event_inj = EVENT(3, 5);
	c.cr0 &= ~CR0_PG;
	PASSES(check(&c, &env));
	/* #GP with an error code, #PF, #DF into 64-bit mode are fine. */
	c = base64();
	c.event_inj = EVENT(3, 13) | EV_EV | (0x18ull << 32);
	PASSES(check(&c, &env));
	c.event_inj = EVENT(3, 14) | EV_EV | (2ull << 32);
	PASSES(check(&c, &env));
	c.event_inj = EVENT(3, 8) | EV_EV;
	PASSES(check(&c, &env));
}

static void test_c17_reserved_bits_are_sanitised(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c;

	(void)state;
	/* Bits 30:12 are not a check (spec C17 note): the cache clears them. */
	base64();
	snap.control.event_inj = EVENT(3, 13) | EV_EV | 0x7ffff000ull;
	c = cache_of_snap(&all_features);
	PASSES(check(&c, &env));
	/* A reserved TYPE still fails after sanitising. */
	snap.control.event_inj = EVENT(7, 13) | 0x7ffff000ull;
	c = cache_of_snap(&all_features);
	FAILS_AS(check(&c, &env), "C17", "reserved TYPE");
}

static void test_c18_vnmi_needs_nmi_intercept(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c = base64();
	struct nested_features no_vnmi = all_features;

	(void)state;
	c.int_ctl |= VMCB_INT_CTL_V_NMI_ENABLE;
	PASSES(check(&c, &env));
	c.intercepts[3] &= ~(1u << 1);
	FAILS(check(&c, &env), "C18");
	/* Without the NMI intercept but also without V_NMI_ENABLE. */
	c.int_ctl &= ~VMCB_INT_CTL_V_NMI_ENABLE;
	PASSES(check(&c, &env));
	/* Without vNMI advertised the check does not apply... */
	c.int_ctl |= VMCB_INT_CTL_V_NMI_ENABLE;
	env.features.vnmi = false;
	PASSES(check(&c, &env));
	/* ...and the cache drops V_NMI_ENABLE anyway. */
	base64();
	snap.control.int_ctl |= VMCB_INT_CTL_V_NMI_ENABLE;
	snap.control.intercepts[3] &= ~(1u << 1);
	no_vnmi.vnmi = false;
	c = cache_of_snap(&no_vnmi);
	env = l1_env();
	PASSES(check(&c, &env));
	c = cache_of_snap(&all_features);
	FAILS(check(&c, &env), "C18");
}

static void test_c19_np_with_l1_paging_off(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c = base64();

	(void)state;
	env.l1_cr0 &= ~CR0_PG;
	env.l1_efer &= ~EFER_LMA;
	FAILS(check(&c, &env), "C19");
	/* NP off: L1's paging does not matter. */
	c = base_pae();
	PASSES(check(&c, &env));
	/* NP not advertised: the bit means nothing. */
	c = base64();
	env.features.npt = false;
	PASSES(check(&c, &env));
	env = l1_env();
	PASSES(check(&c, &env));
}

static void c20_ncr3_bits(const struct nested_l1_env *env, unsigned int pa_bits)
{
	unsigned int bit;

	for (bit = 0; bit < 64; bit++) {
		struct vmcb12_cache c = base64();

		c.n_cr3 |= 1ull << bit;
		if (bit >= pa_bits)
			EXPECT(is_fail(check(&c, env), "C20", NULL), "nCR3 MBZ", bit);
		else
			EXPECT(is_pass(check(&c, env)), "nCR3 below MAXPHYADDR", bit);
	}
}

static void test_c20_ncr3_mbz(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c;

	(void)state;
	env.phys_addr_bits = 36;
	c20_ncr3_bits(&env, 36);
	env.phys_addr_bits = 48;
	c20_ncr3_bits(&env, 48);
	env.phys_addr_bits = 52;
	c20_ncr3_bits(&env, 52);
	/* An L1 in legacy PAE mode walks nCR3 as a 32-bit CR3 (APM 15.25.3). */
	env.l1_efer = EFER_NXE | EFER_SVM;
	c20_ncr3_bits(&env, 32);
	/* NP off, or NP not advertised: nCR3 is unused. */
	env = l1_env();
	c = base_pae();
	c.n_cr3 = ~0ull;
	PASSES(check(&c, &env));
	c = base64();
	c.n_cr3 = ~0ull;
	env.features.npt = false;
	PASSES(check(&c, &env));
}

static void test_c21_gpat(void **state)
{
	struct nested_l1_env env = l1_env();
	unsigned int byte, v;
	struct vmcb12_cache c;

	(void)state;
	for (byte = 0; byte < 8; byte++) {
		for (v = 0; v < 256; v++) {
			c = base64();
			c.g_pat = (0x0606060606060606ull & ~(0xffull << (8 * byte))) |
				  ((uint64_t)v << (8 * byte));
			if (v <= 7 && v != 2 && v != 3)
				EXPECT(is_pass(check(&c, &env)), "PAT type", byte * 256 + v);
			else
				EXPECT(is_fail(check(&c, &env), "C21", NULL), "PAT type",
				       byte * 256 + v);
		}
	}
	/* Without nested paging G_PAT is not used (APM 15.25.8). */
	c = base_pae();
	c.g_pat = ~0ull;
	PASSES(check(&c, &env));
	c = base64();
	c.g_pat = ~0ull;
	env.features.npt = false;
	PASSES(check(&c, &env));
}

/* ---- C22: PDPTEs in L1 memory ---- */

#define RAM_SIZE 0x10000ull

/* Guest RAM of exactly size bytes (ASan catches any read beyond), zeroed. */
static struct guest_ram ram_new(uint64_t size)
{
	struct guest_ram r = {.base = calloc(1, size), .size = size};

	assert_non_null(r.base);
	return r;
}

static void put64(struct guest_ram *r, uint64_t gpa, uint64_t v)
{
	memcpy(r->base + gpa, &v, 8);
}

/* Four present PDPTEs pointing at page directories. */
static void put_pdpt(struct guest_ram *r, uint64_t gpa)
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		put64(r, gpa + 8 * i, 0x6000 + 0x1000 * i + 1);
}

static const char *paging(const struct vmcb12_cache *c, const struct nested_l1_env *env,
			  const struct guest_ram *r)
{
	return nested_check_l2_paging(c, env, r);
}

static void test_c22_valid_pdpt(void **state)
{
	struct nested_l1_env env = l1_env();
	struct guest_ram r = ram_new(RAM_SIZE);
	struct vmcb12_cache c = base_pae();
	unsigned int i;

	(void)state;
	put_pdpt(&r, PAE_PDPT);
	PASSES(check(&c, &env));
	PASSES(paging(&c, &env, &r));
	/* Not-present entries may hold anything. */
	for (i = 0; i < 4; i++)
		put64(&r, PAE_PDPT + 8 * i, ~1ull);
	PASSES(paging(&c, &env, &r));
	/* CR3 bits 4:0 (PWT, PCD, ignored) and 63:32 do not move the PDPT. */
	put_pdpt(&r, PAE_PDPT);
	c.cr3 = PAE_PDPT | 0x1f | (1ull << 32);
	PASSES(paging(&c, &env, &r));
	free(r.base);
}

static void c22_bits(unsigned int env_bits, unsigned int pa_bits)
{
	struct nested_l1_env env = l1_env();
	struct guest_ram r = ram_new(RAM_SIZE);
	struct vmcb12_cache c = base_pae();
	unsigned int i, bit;

	env.phys_addr_bits = env_bits;
	for (i = 0; i < 4; i++) {
		for (bit = 1; bit < 64; bit++) {
			bool rsvd =
			    (bit >= 1 && bit <= 2) || (bit >= 5 && bit <= 8) || bit >= pa_bits;

			put_pdpt(&r, PAE_PDPT);
			put64(&r, PAE_PDPT + 8 * i, (0x6000 | 1) | (1ull << bit));
			if (rsvd)
				EXPECT(is_fail(paging(&c, &env, &r), "C22", NULL), "PDPTE rsvd",
				       i * 64 + bit);
			else
				EXPECT(is_pass(paging(&c, &env, &r)), "PDPTE bit", i * 64 + bit);
			/* The same bit in a not-present entry is ignored. */
			put64(&r, PAE_PDPT + 8 * i, 0x6000 | (1ull << bit));
			EXPECT(is_pass(paging(&c, &env, &r)), "not-present PDPTE", i * 64 + bit);
		}
	}
	free(r.base);
}

static void test_c22_reserved_bits(void **state)
{
	(void)state;
	c22_bits(36, 36);
	c22_bits(48, 48);
	c22_bits(52, 52);
	c22_bits(0, 52);
}

static void test_c22_pdpt_outside_ram(void **state)
{
	struct nested_l1_env env = l1_env();
	struct vmcb12_cache c = base_pae();
	struct guest_ram r;

	(void)state;
	/* Entirely outside RAM: reads as all ones, a present entry with reserved bits. */
	r = ram_new(PAE_PDPT);
	FAILS(paging(&c, &env, &r), "C22");
	free(r.base);
	/* Straddling the end: two entries inside, two outside. */
	r = ram_new(PAE_PDPT + 16);
	put64(&r, PAE_PDPT, 0x6001);
	put64(&r, PAE_PDPT + 8, 0x7001);
	FAILS(paging(&c, &env, &r), "C22");
	free(r.base);
	/* One byte short. */
	r = ram_new(PAE_PDPT + 31);
	put64(&r, PAE_PDPT, 0x6001);
	put64(&r, PAE_PDPT + 8, 0x7001);
	put64(&r, PAE_PDPT + 16, 0x8001);
	memset(r.base + PAE_PDPT + 24, 0, 7);
	r.base[PAE_PDPT + 24] = 1; /* present; its missing top byte reads as 0xff */
	FAILS(paging(&c, &env, &r), "C22");
	free(r.base);
	/* Ending exactly at the end of RAM. */
	r = ram_new(PAE_PDPT + 32);
	put_pdpt(&r, PAE_PDPT);
	PASSES(paging(&c, &env, &r));
	free(r.base);
	/* No RAM at all, and a PDPT at the top of the 4 GiB CR3 range. */
	FAILS(paging(&c, &env, NULL), "C22");
	r = ram_new(RAM_SIZE);
	c.cr3 = 0xffffffe0;
	FAILS(paging(&c, &env, &r), "C22");
	free(r.base);
}

static void test_c22_only_legacy_pae_without_np(void **state)
{
	struct nested_l1_env env = l1_env();
	struct guest_ram none = {.base = NULL, .size = 0};
	struct vmcb12_cache c;

	(void)state;
	/* Every case below would fail C22 if the PDPTEs were read. */
	c = base_pae();
	FAILS(paging(&c, &env, &none), "C22");
	/* Paged real mode is still PAE paging. */
	c.cr0 &= ~CR0_PE;
	FAILS(paging(&c, &env, &none), "C22");
	/* Nested paging on: PDPTEs are read on walks (APM 15.25.10). */
	c = base_pae();
	c.misc_ctl = VMCB_MISC_NP_ENABLE;
	PASSES(paging(&c, &env, &none));
	/* ...unless NP is not advertised: then the bit means nothing. */
	env.features.npt = false;
	FAILS(paging(&c, &env, &none), "C22");
	env = l1_env();
	/* Long mode, legacy non-PAE paging, paging off. */
	c = base64();
	c.misc_ctl = 0;
	PASSES(paging(&c, &env, &none));
	c = base_pae();
	c.cr4 &= ~CR4_PAE;
	PASSES(paging(&c, &env, &none));
	c = base_pae();
	c.cr0 &= ~CR0_PG;
	PASSES(paging(&c, &env, &none));
	/* EFER.LME set: the mode is long mode (or LME with paging off), not legacy PAE. */
	c = base_pae();
	c.efer |= EFER_LME;
	PASSES(paging(&c, &env, &none));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_lists_every_check),
	    cmocka_unit_test(test_valid_vmcb12s_pass),
	    cmocka_unit_test(test_c1_efer_svme),
	    cmocka_unit_test(test_c2_cd_nw),
	    cmocka_unit_test(test_c3_cr0_high),
	    cmocka_unit_test(test_c4_cr3_long_mode),
	    cmocka_unit_test(test_c4_cr3_legacy_modes),
	    cmocka_unit_test(test_c5_cr4_mbz),
	    cmocka_unit_test(test_c6_c7_dr6_dr7),
	    cmocka_unit_test(test_c8_efer_mbz),
	    cmocka_unit_test(test_c9_long_mode_without_lm),
	    cmocka_unit_test(test_c10_lme_pg_without_pae),
	    cmocka_unit_test(test_c11_lme_pg_without_pe),
	    cmocka_unit_test(test_c12_cs_l_and_d),
	    cmocka_unit_test(test_c13_cet_without_wp),
	    cmocka_unit_test(test_c14_vmrun_intercept),
	    cmocka_unit_test(test_c15_asid),
	    cmocka_unit_test(test_c16_bitmaps_in_phys_range),
	    cmocka_unit_test(test_c17_event_types),
	    cmocka_unit_test(test_c17_exception_vectors),
	    cmocka_unit_test(test_c17_br_mode),
	    cmocka_unit_test(test_c17_reserved_bits_are_sanitised),
	    cmocka_unit_test(test_c18_vnmi_needs_nmi_intercept),
	    cmocka_unit_test(test_c19_np_with_l1_paging_off),
	    cmocka_unit_test(test_c20_ncr3_mbz),
	    cmocka_unit_test(test_c21_gpat),
	    cmocka_unit_test(test_c22_valid_pdpt),
	    cmocka_unit_test(test_c22_reserved_bits),
	    cmocka_unit_test(test_c22_pdpt_outside_ram),
	    cmocka_unit_test(test_c22_only_legacy_pae_without_np),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
