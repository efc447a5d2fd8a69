/* host-test-sources: kernel/guest_msr.c */
/*
 * Host unit tests for the guest MSR policy (kernel/guest_msr.c).
 *
 * The VMCB starts as a byte pattern, and every call is followed by a
 * comparison of the whole VMCB and TSC_AUX against an expected image,
 * so a write that lands in a second place, a read with a side effect or
 * a refused write that leaves a trace all fail. Fields are addressed by
 * their raw VMCB offsets (APM vol. 2 Tables B-1 and B-2), not through the
 * structure, and expected values are literals, not the policy's macros.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/cpu_bits.h"
#include "arch/x86/svm/vmcb.h"
#include "kernel/guest_msr.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define POISON 0xDEADBEEFCAFEF00Dull

/* VMCB offsets (APM vol. 2 Table B-1 for the control area, B-2 + 0x400 for the save area). */
#define OFF_TSC_OFFSET	 0x050
#define OFF_FS_BASE	 0x448
#define OFF_GS_BASE	 0x458
#define OFF_EFER	 0x4d0
#define OFF_CR0		 0x558
#define OFF_STAR	 0x600
#define OFF_LSTAR	 0x608
#define OFF_CSTAR	 0x610
#define OFF_SFMASK	 0x618
#define OFF_KERNEL_GS	 0x620
#define OFF_SYSENTER_CS	 0x628
#define OFF_SYSENTER_ESP 0x630
#define OFF_SYSENTER_EIP 0x638
#define OFF_G_PAT	 0x668

/* Host CPUID 8000_0001 EDX bits (APM vol. 3 appendix E.4.2). */
#define EDX_NX	   (1u << 20)
#define EDX_FFXSR  (1u << 25)
#define EDX_RDTSCP (1u << 27)
#define EDX_ALL	   (EDX_NX | EDX_FFXSR | EDX_RDTSCP)

/* EFER bits (APM vol. 2 3.1.7). */
#define SCE   (1ull << 0)
#define LME   (1ull << 8)
#define LMA   (1ull << 10)
#define NXE   (1ull << 11)
#define SVME  (1ull << 12)
#define FFXSR (1ull << 14)

#define CR0_PE_BIT (1ull << 0)
#define CR0_PG_BIT (1ull << 31)

#define PAT_RESET	0x0007040600070406ull
#define APIC_BASE_FIXED 0x00000000FEE00900ull
#define HOST_TSC	0x0000123456789000ull
#define TSC_OFFSET0	0x0000000000001000ull
#define TSC_AUX0	0x00000007ull

static struct vmcb vmcb, expect;
static uint64_t tsc_aux, expect_tsc_aux;
static struct guest_msr_ctx ctx;

static uint64_t get64(const struct vmcb *v, size_t off)
{
	uint64_t x;

	memcpy(&x, (const uint8_t *)v + off, sizeof(x));
	return x;
}

static void put64(struct vmcb *v, size_t off, uint64_t x)
{
	memcpy((uint8_t *)v + off, &x, sizeof(x));
}

/* Sets a field in both the VMCB and the expected image. */
static void set_field(size_t off, uint64_t x)
{
	put64(&vmcb, off, x);
	put64(&expect, off, x);
}

static void assert_state(void)
{
	assert_memory_equal(&vmcb, &expect, sizeof(vmcb));
	assert_int_equal(tsc_aux, expect_tsc_aux);
}

/*
 * A 64-bit kernel's state: long mode active with paging, NX on, SVME set
 * as nestvisor keeps it. Everything else is a pattern.
 */
static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vmcb); i++)
		((uint8_t *)&vmcb)[i] = (uint8_t)(i * 37 + 11);
	put64(&vmcb, OFF_EFER, SCE | LME | LMA | NXE | SVME);
	put64(&vmcb, OFF_CR0, CR0_PG_BIT | CR0_PE_BIT);
	put64(&vmcb, OFF_G_PAT, PAT_RESET);
	put64(&vmcb, OFF_TSC_OFFSET, TSC_OFFSET0);
	memcpy(&expect, &vmcb, sizeof(vmcb));
	tsc_aux = expect_tsc_aux = TSC_AUX0;
	ctx = (struct guest_msr_ctx){
	    .vmcb = &vmcb,
	    .host_tsc = HOST_TSC,
	    .cpuid_ext_edx = EDX_ALL,
	    .tsc_aux = &tsc_aux,
	};
	return 0;
}

static uint64_t rd_ok(uint32_t msr)
{
	uint64_t val = POISON;

	assert_true(guest_msr_read(&ctx, msr, &val));
	assert_state();
	return val;
}

static void rd_gp(uint32_t msr)
{
	uint64_t val = POISON;

	assert_false(guest_msr_read(&ctx, msr, &val));
	assert_int_equal(val, POISON);
	assert_state();
}

/* The caller has put the expected effect into the expected image. */
static void wr_ok(uint32_t msr, uint64_t val)
{
	assert_true(guest_msr_write(&ctx, msr, val));
	assert_state();
}

static void wr_gp(uint32_t msr, uint64_t val)
{
	assert_false(guest_msr_write(&ctx, msr, val));
	assert_state();
}

static const struct save_msr {
	uint32_t msr;
	size_t off;
	bool address;
} save_msrs[] = {
    {0xC0000100u, OFF_FS_BASE, true},	   {0xC0000101u, OFF_GS_BASE, true},
    {0xC0000102u, OFF_KERNEL_GS, true},	   {0xC0000082u, OFF_LSTAR, true},
    {0xC0000083u, OFF_CSTAR, true},	   {0x00000175u, OFF_SYSENTER_ESP, true},
    {0x00000176u, OFF_SYSENTER_EIP, true}, {0xC0000081u, OFF_STAR, false},
    {0xC0000084u, OFF_SFMASK, false},	   {0x00000174u, OFF_SYSENTER_CS, false},
};

/* Each save-area MSR reads its own field, and a write lands there and nowhere else. */
static void test_save_area_msrs(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(save_msrs); i++) {
		const struct save_msr *m = &save_msrs[i];
		uint64_t val = 0xFFFF800000001000ull + i * 0x10000;

		assert_int_equal(rd_ok(m->msr), get64(&vmcb, m->off));
		put64(&expect, m->off, val);
		wr_ok(m->msr, val);
		assert_int_equal(rd_ok(m->msr), val);
	}
}

/* APM vol. 3 WRMSR: address MSRs #GP on a non-canonical value; the others take any. */
static void test_save_area_canonical(void **state)
{
	static const uint64_t canonical[] = {
	    0,
	    0x00007FFFFFFFFFFFull,
	    0xFFFF800000000000ull,
	    0xFFFFFFFFFFFFFFFFull,
	    0x0000123456789ABCull,
	};
	static const uint64_t noncanonical[] = {
	    0x0000800000000000ull, 0xFFFF7FFFFFFFFFFFull, 0x8000000000000000ull,
	    0x0001000000000000ull, 0x7FFFFFFFFFFFFFFFull, 0xFFFE800000000000ull,
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(save_msrs); i++) {
		const struct save_msr *m = &save_msrs[i];

		for (size_t j = 0; j < ARRAY_SIZE(canonical); j++) {
			put64(&expect, m->off, canonical[j]);
			wr_ok(m->msr, canonical[j]);
			assert_int_equal(rd_ok(m->msr), canonical[j]);
		}
		for (size_t j = 0; j < ARRAY_SIZE(noncanonical); j++) {
			if (m->address) {
				wr_gp(m->msr, noncanonical[j]);
			} else {
				put64(&expect, m->off, noncanonical[j]);
				wr_ok(m->msr, noncanonical[j]);
			}
			assert_int_equal(rd_ok(m->msr), get64(&expect, m->off));
		}
	}
}

/* SVME is set in the VMCB for VMRUN's sake; the guest never sees it. */
static void test_efer_read_hides_svme(void **state)
{
	(void)state;
	assert_int_equal(rd_ok(0xC0000080u), SCE | LME | LMA | NXE);
	set_field(OFF_EFER, SVME);
	assert_int_equal(rd_ok(0xC0000080u), 0);
}

/* APM vol. 2 3.1.7: every bit outside SCE, LME, LMA, NXE and FFXSR is reserved. */
static void test_efer_reserved_bits(void **state)
{
	const uint64_t base = SCE | LME | LMA | NXE;

	(void)state;
	for (unsigned int bit = 0; bit < 64; bit++) {
		uint64_t b = 1ull << bit;

		if (b & (SCE | LME | LMA | NXE | FFXSR))
			continue;
		wr_gp(0xC0000080u, base | b);
		wr_gp(0xC0000080u, (base & ~LMA) | b);
	}
}

/* The guest is not offered SVM, so SVME is reserved to it, set or clear. */
static void test_efer_svme_write_refused(void **state)
{
	(void)state;
	wr_gp(0xC0000080u, SCE | LME | LMA | NXE | SVME);
	wr_gp(0xC0000080u, SVME);
	assert_int_equal(rd_ok(0xC0000080u), SCE | LME | LMA | NXE);
}

/* SCE toggles; the VMCB keeps SVME and LMA whatever was written. */
static void test_efer_sce(void **state)
{
	(void)state;
	put64(&expect, OFF_EFER, LME | LMA | NXE | SVME);
	wr_ok(0xC0000080u, LME | LMA | NXE);
	assert_int_equal(rd_ok(0xC0000080u), LME | LMA | NXE);
	put64(&expect, OFF_EFER, SCE | LME | LMA | NXE | SVME);
	wr_ok(0xC0000080u, SCE | LME | NXE);
	assert_int_equal(rd_ok(0xC0000080u), SCE | LME | LMA | NXE);
}

/* APM vol. 2 3.1.7: NXE and FFXSR are writable only where CPUID shows NX and FFXSR. */
static void test_efer_nxe_ffxsr_follow_cpuid(void **state)
{
	(void)state;
	/* Both features: both bits toggle. */
	put64(&expect, OFF_EFER, SCE | LME | LMA | NXE | FFXSR | SVME);
	wr_ok(0xC0000080u, SCE | LME | LMA | NXE | FFXSR);
	assert_int_equal(rd_ok(0xC0000080u), SCE | LME | LMA | NXE | FFXSR);
	put64(&expect, OFF_EFER, SCE | LME | LMA | SVME);
	wr_ok(0xC0000080u, SCE | LME | LMA);

	/* No NX: NXE is reserved, even to rewrite a value the guest holds. */
	ctx.cpuid_ext_edx = EDX_ALL & ~EDX_NX;
	set_field(OFF_EFER, SCE | LME | LMA | NXE | SVME);
	wr_gp(0xC0000080u, SCE | LME | LMA | NXE);
	put64(&expect, OFF_EFER, SCE | LME | LMA | FFXSR | SVME);
	wr_ok(0xC0000080u, SCE | LME | LMA | FFXSR);

	/* No FFXSR. */
	ctx.cpuid_ext_edx = EDX_ALL & ~EDX_FFXSR;
	wr_gp(0xC0000080u, SCE | LME | LMA | FFXSR);
	wr_gp(0xC0000080u, SCE | LME | LMA | NXE | FFXSR);
	put64(&expect, OFF_EFER, SCE | LME | LMA | NXE | SVME);
	wr_ok(0xC0000080u, SCE | LME | LMA | NXE);

	/* Only RDTSCP: neither. */
	ctx.cpuid_ext_edx = EDX_RDTSCP;
	wr_gp(0xC0000080u, SCE | LME | NXE);
	wr_gp(0xC0000080u, SCE | LME | FFXSR);
	put64(&expect, OFF_EFER, LME | LMA | SVME);
	wr_ok(0xC0000080u, LME);
	assert_int_equal(rd_ok(0xC0000080u), LME | LMA);
}

/* APM vol. 2 14.6.1: LME may change only while CR0.PG is clear. */
static void test_efer_lme_and_paging(void **state)
{
	(void)state;
	/* PG=1: clearing LME #GPs; rewriting it unchanged is fine. */
	wr_gp(0xC0000080u, SCE | NXE);
	wr_gp(0xC0000080u, SCE | LMA | NXE);
	wr_ok(0xC0000080u, SCE | LME | NXE);

	/* PG=1 with LME clear (legacy paging): setting LME #GPs. */
	set_field(OFF_EFER, SCE | SVME);
	wr_gp(0xC0000080u, SCE | LME);
	wr_ok(0xC0000080u, SCE);

	/* PG=0, every other CR0 bit set: LME toggles both ways. */
	set_field(OFF_CR0, ~CR0_PG_BIT);
	put64(&expect, OFF_EFER, SCE | LME | SVME);
	wr_ok(0xC0000080u, SCE | LME);
	assert_int_equal(rd_ok(0xC0000080u), SCE | LME);
	put64(&expect, OFF_EFER, SVME);
	wr_ok(0xC0000080u, 0);
	assert_int_equal(rd_ok(0xC0000080u), 0);
}

/* APM vol. 2 3.1.7: LMA is read-only; a written LMA is ignored, the held one kept. */
static void test_efer_lma_read_only(void **state)
{
	(void)state;
	/* LMA=1 held, written as 0: stays 1. */
	wr_ok(0xC0000080u, SCE | LME | NXE);
	assert_int_equal(get64(&vmcb, OFF_EFER) & LMA, LMA);
	assert_int_equal(rd_ok(0xC0000080u), SCE | LME | LMA | NXE);

	/* LMA=0 held, written as 1: stays 0. */
	set_field(OFF_CR0, CR0_PE_BIT);
	set_field(OFF_EFER, SVME);
	put64(&expect, OFF_EFER, LME | SVME);
	wr_ok(0xC0000080u, LME | LMA);
	assert_int_equal(rd_ok(0xC0000080u), LME);
	put64(&expect, OFF_EFER, SVME);
	wr_ok(0xC0000080u, LMA);
	assert_int_equal(rd_ok(0xC0000080u), 0);
}

/* The reset PAT with entry @byte replaced by @type. */
static uint64_t pat_with(unsigned int byte, uint64_t type)
{
	return (PAT_RESET & ~(0xFFull << (8 * byte))) | type << (8 * byte);
}

/* APM vol. 2 7.8.1: types 0, 1, 4, 5, 6, 7 in any entry are accepted and read back. */
static void test_pat_valid_types(void **state)
{
	static const uint8_t valid[] = {0, 1, 4, 5, 6, 7};

	(void)state;
	assert_int_equal(rd_ok(0x277u), PAT_RESET);
	for (unsigned int byte = 0; byte < 8; byte++) {
		for (size_t t = 0; t < ARRAY_SIZE(valid); t++) {
			uint64_t pat = pat_with(byte, valid[t]);

			put64(&expect, OFF_G_PAT, pat);
			wr_ok(0x277u, pat);
			assert_int_equal(rd_ok(0x277u), pat);
		}
	}
	put64(&expect, OFF_G_PAT, 0x0706050401000706ull);
	wr_ok(0x277u, 0x0706050401000706ull);
}

/* APM vol. 2 7.8.1: types 2 and 3 are reserved and bits 7:3 of an entry too. */
static void test_pat_invalid_types(void **state)
{
	(void)state;
	for (unsigned int byte = 0; byte < 8; byte++) {
		for (unsigned int type = 2; type < 256; type++) {
			if (type >= 4 && type <= 7)
				continue;
			wr_gp(0x277u, pat_with(byte, type));
		}
	}
	assert_int_equal(rd_ok(0x277u), PAT_RESET);
}

/* APM vol. 2 15.30.5: guest TSC = host TSC + tsc_offset, and a write sets the offset. */
static void test_tsc(void **state)
{
	(void)state;
	assert_int_equal(rd_ok(0x10u), HOST_TSC + TSC_OFFSET0);

	put64(&expect, OFF_TSC_OFFSET, 5000 - HOST_TSC);
	wr_ok(0x10u, 5000);
	assert_int_equal(rd_ok(0x10u), 5000);
	ctx.host_tsc = HOST_TSC + 250;
	assert_int_equal(rd_ok(0x10u), 5250);

	/* A value far above the host TSC, and the offset wraps back on a later read. */
	put64(&expect, OFF_TSC_OFFSET, 0xFFFFFFFFFFFFFFF0ull - (HOST_TSC + 250));
	wr_ok(0x10u, 0xFFFFFFFFFFFFFFF0ull);
	ctx.host_tsc = HOST_TSC + 250 + 0x20;
	assert_int_equal(rd_ok(0x10u), 0x10);
}

/* APM vol. 3 RDTSCP: with RDTSCP, TSC_AUX holds 32 bits; the upper 32 are reserved. */
static void test_tsc_aux_with_rdtscp(void **state)
{
	(void)state;
	assert_int_equal(rd_ok(0xC0000103u), TSC_AUX0);
	expect_tsc_aux = 0x2A;
	wr_ok(0xC0000103u, 0x2A);
	assert_int_equal(rd_ok(0xC0000103u), 0x2A);
	expect_tsc_aux = 0xFFFFFFFF;
	wr_ok(0xC0000103u, 0xFFFFFFFF);
	assert_int_equal(rd_ok(0xC0000103u), 0xFFFFFFFF);
	expect_tsc_aux = 0;
	wr_ok(0xC0000103u, 0);

	wr_gp(0xC0000103u, 1ull << 32);
	wr_gp(0xC0000103u, 0x000000010000002Aull);
	wr_gp(0xC0000103u, 0xFFFFFFFF00000000ull);
	wr_gp(0xC0000103u, 1ull << 63);
	assert_int_equal(rd_ok(0xC0000103u), 0);
}

/* Without RDTSCP the MSR does not exist: both ways #GP and TSC_AUX stays. */
static void test_tsc_aux_without_rdtscp(void **state)
{
	(void)state;
	ctx.cpuid_ext_edx = EDX_ALL & ~EDX_RDTSCP;
	rd_gp(0xC0000103u);
	wr_gp(0xC0000103u, 0);
	wr_gp(0xC0000103u, 0x2A);
	wr_gp(0xC0000103u, TSC_AUX0);
	wr_gp(0xC0000103u, 1ull << 32);
	ctx.cpuid_ext_edx = 0;
	rd_gp(0xC0000103u);
	wr_gp(0xC0000103u, 0x2A);
}

/* The xAPIC is fixed at 0xFEE00000, enabled, BSP: only that value may be written. */
static void test_apic_base(void **state)
{
	static const uint64_t refused[] = {
	    0,
	    0x00000000FEE00800ull, /* BSP clear */
	    0x00000000FEE00100ull, /* disabled */
	    0x00000000FEE00000ull,
	    0x00000000FEE00D00ull, /* x2APIC mode */
	    0x00000000FED00900ull, /* relocated */
	    0x00000001FEE00900ull,
	    0x80000000FEE00900ull,
	    0x00000000FEE00901ull,
	    0xFFFFFFFFFFFFFFFFull,
	};

	(void)state;
	assert_int_equal(rd_ok(0x1Bu), APIC_BASE_FIXED);
	wr_ok(0x1Bu, APIC_BASE_FIXED);
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
		wr_gp(0x1Bu, refused[i]);
	assert_int_equal(rd_ok(0x1Bu), APIC_BASE_FIXED);
}

/* APM vol. 3 RDMSR/WRMSR: anything else is unimplemented and #GPs both ways. */
static void test_unknown_msrs(void **state)
{
	/*
	 * Neighbours of handled MSRs, MSRs a kernel commonly probes
	 * (FEATURE_CONTROL, SPEC_CTRL, PATCH_LEVEL, MTRRs, MCG_CAP,
	 * TSC_DEADLINE, x2APIC, TSC_RATIO, PERF_CTL0, SYSCFG, VM_CR,
	 * VM_HSAVE_PA), DEBUGCTL (in the save area but not offered) and
	 * numbers outside every MSR range.
	 */
	static const uint32_t unknown[] = {
	    0x00000000u, 0x00000001u, 0x0000000Fu, 0x00000011u, 0x0000001Au, 0x0000001Cu,
	    0x0000003Au, 0x00000048u, 0x0000008Bu, 0x000000FEu, 0x00000173u, 0x00000177u,
	    0x00000179u, 0x000001D9u, 0x00000200u, 0x00000276u, 0x00000278u, 0x000002FFu,
	    0x000006E0u, 0x00000800u, 0x0000080Fu, 0x40000000u, 0x40000123u, 0xC0000000u,
	    0xC000007Fu, 0xC0000085u, 0xC00000FFu, 0xC0000104u, 0xC0010000u, 0xC0010010u,
	    0xC0010114u, 0xC0010117u, 0xC0011234u, 0xC0DE0000u, 0x80000000u, 0xFFFFFFFFu,
	};
	static const uint64_t values[] = {0, 1, APIC_BASE_FIXED, PAT_RESET, 0xFFFFFFFFFFFFFFFFull};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(unknown); i++) {
		rd_gp(unknown[i]);
		for (size_t j = 0; j < ARRAY_SIZE(values); j++)
			wr_gp(unknown[i], values[j]);
	}
}

/* --- SVM offered (nested SVM): EFER.SVME, VM_HSAVE_PA, VM_CR (APM 15.4, 15.30) --- */

static bool svme;
static uint64_t hsave_pa, vm_cr;

static int setup_svm(void **state)
{
	setup(state);
	svme = false;
	hsave_pa = 0;
	vm_cr = 0;
	ctx.svm = true;
	ctx.svme = &svme;
	ctx.hsave_pa = &hsave_pa;
	ctx.vm_cr = &vm_cr;
	ctx.phys_addr_bits = 40;
	return 0;
}

static void test_svm_efer_svme(void **state)
{
	uint64_t efer = SCE | LME | LMA | NXE;

	(void)state;
	/* L1's SVME reads back what it wrote; the VMCB keeps SVME set for VMRUN. */
	assert_int_equal(rd_ok(MSR_EFER), efer);
	wr_ok(MSR_EFER, efer | SVME);
	assert_true(svme);
	assert_int_equal(rd_ok(MSR_EFER), efer | SVME);
	wr_ok(MSR_EFER, efer);
	assert_false(svme);
	assert_int_equal(rd_ok(MSR_EFER), efer);
	assert_int_equal(get64(&vmcb, OFF_EFER) & SVME, SVME);
	/* VM_CR.SVMDIS makes SVME reserved (APM 15.30.1). */
	vm_cr = VM_CR_SVMDIS;
	wr_gp(MSR_EFER, efer | SVME);
	assert_false(svme);
}

static void test_svm_efer_in_l2(void **state)
{
	(void)state;
	/* L2's EFER is its own: SVME shows as set and stays set, L1's flag is untouched. */
	ctx.in_l2 = true;
	assert_int_equal(rd_ok(MSR_EFER), SCE | LME | LMA | NXE | SVME);
	wr_ok(MSR_EFER, SCE | LME | NXE | SVME);
	assert_false(svme);
}

static void test_svm_hsave_pa(void **state)
{
	(void)state;
	assert_int_equal(rd_ok(MSR_VM_HSAVE_PA), 0);
	wr_ok(MSR_VM_HSAVE_PA, 0x12345000);
	assert_int_equal(hsave_pa, 0x12345000);
	assert_int_equal(rd_ok(MSR_VM_HSAVE_PA), 0x12345000);
	/* APM 15.30.4 / decision 3: unaligned or beyond the physical width #GPs, no change. */
	wr_gp(MSR_VM_HSAVE_PA, 0x12345008);
	wr_gp(MSR_VM_HSAVE_PA, 1ull << 40);
	wr_gp(MSR_VM_HSAVE_PA, ~0ull << 12);
	assert_int_equal(hsave_pa, 0x12345000);
	wr_ok(MSR_VM_HSAVE_PA, (1ull << 40) - 0x1000);
}

static void test_svm_vm_cr(void **state)
{
	(void)state;
	assert_int_equal(rd_ok(MSR_VM_CR), 0);
	/* Reserved bits 63:5 #GP. */
	wr_gp(MSR_VM_CR, 1u << 5);
	wr_gp(MSR_VM_CR, 1ull << 63);
	/* SVMDIS cannot be set while SVME is 1. */
	svme = true;
	wr_gp(MSR_VM_CR, VM_CR_SVMDIS);
	svme = false;
	wr_ok(MSR_VM_CR, VM_CR_SVMDIS);
	assert_int_equal(vm_cr, VM_CR_SVMDIS);
	/* With LOCK set, LOCK and SVMDIS are frozen. */
	wr_ok(MSR_VM_CR, VM_CR_SVMDIS | VM_CR_LOCK);
	wr_gp(MSR_VM_CR, VM_CR_LOCK);
	wr_gp(MSR_VM_CR, VM_CR_SVMDIS);
	wr_ok(MSR_VM_CR, VM_CR_SVMDIS | VM_CR_LOCK | VM_CR_DPD);
	assert_int_equal(rd_ok(MSR_VM_CR), VM_CR_SVMDIS | VM_CR_LOCK | VM_CR_DPD);
}

static void test_svm_msrs_hidden_without_svm(void **state)
{
	(void)state;
	/* Without SVM in CPUID these MSRs do not exist (the default context). */
	rd_gp(MSR_VM_HSAVE_PA);
	rd_gp(MSR_VM_CR);
	wr_gp(MSR_VM_HSAVE_PA, 0x1000);
	wr_gp(MSR_VM_CR, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_save_area_msrs, setup),
	    cmocka_unit_test_setup(test_svm_efer_svme, setup_svm),
	    cmocka_unit_test_setup(test_svm_efer_in_l2, setup_svm),
	    cmocka_unit_test_setup(test_svm_hsave_pa, setup_svm),
	    cmocka_unit_test_setup(test_svm_vm_cr, setup_svm),
	    cmocka_unit_test_setup(test_svm_msrs_hidden_without_svm, setup),
	    cmocka_unit_test_setup(test_save_area_canonical, setup),
	    cmocka_unit_test_setup(test_efer_read_hides_svme, setup),
	    cmocka_unit_test_setup(test_efer_reserved_bits, setup),
	    cmocka_unit_test_setup(test_efer_svme_write_refused, setup),
	    cmocka_unit_test_setup(test_efer_sce, setup),
	    cmocka_unit_test_setup(test_efer_nxe_ffxsr_follow_cpuid, setup),
	    cmocka_unit_test_setup(test_efer_lme_and_paging, setup),
	    cmocka_unit_test_setup(test_efer_lma_read_only, setup),
	    cmocka_unit_test_setup(test_pat_valid_types, setup),
	    cmocka_unit_test_setup(test_pat_invalid_types, setup),
	    cmocka_unit_test_setup(test_tsc, setup),
	    cmocka_unit_test_setup(test_tsc_aux_with_rdtscp, setup),
	    cmocka_unit_test_setup(test_tsc_aux_without_rdtscp, setup),
	    cmocka_unit_test_setup(test_apic_base, setup),
	    cmocka_unit_test_setup(test_unknown_msrs, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
