/* host-test-sources: kernel/guest_cpuid.c */
/*
 * The CPUID filter for L1 guests. Hosts are tables of (leaf, subleaf) ->
 * registers: an Intel Xeon under KVM (values read from a real machine), a
 * hand-written AMD EPYC (Zen 2) and an all-ones host that proves every
 * allowlist. A leaf missing from a table reads as POISON, so a test notices
 * when the filter passes through a host value it should have ignored.
 * Expected masks are written out as literals, not taken from the filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/guest_cpuid.h"

#define POISON 0xDEADBEEFu
#define ONES   0xFFFFFFFFu

struct host_leaf {
	uint32_t leaf, subleaf;
	struct cpuid_regs r;
};

struct host_cpu {
	uint32_t max_basic, max_ext;
	const struct host_leaf *leaves;
	size_t nr_leaves;
	bool all_ones; /* every leaf reads as all ones */
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* clang-format off */

/* "GenuineIntel", a Sapphire Rapids class Xeon as KVM shows it. */
static const struct host_leaf intel_leaves[] = {
	{0x00000000, 0, {0x0000001c, 0x756e6547, 0x6c65746e, 0x49656e69}},
	{0x00000001, 0, {0x000c06f2, 0x01020800, 0xfffa3203, 0x1f8bfbff}},
	{0x00000002, 0, {0x00feff01, 0x000000f0, 0x00000000, 0x00000000}},
	{0x00000004, 0, {0x04000121, 0x02c0003f, 0x0000003f, 0x00000000}},
	{0x00000004, 1, {0x04000122, 0x01c0003f, 0x0000003f, 0x00000000}},
	{0x00000004, 3, {0x04004163, 0x04c0003f, 0x00033fff, 0x00000000}},
	{0x00000007, 0, {0x00000002, 0xf1bf2ffb, 0x1a415f46, 0x20814010}},
	{0x00000007, 1, {0x00001c30, 0x00000000, 0x00000000, 0x00000000}},
	{0x0000000a, 0, {0x08300805, 0x00000000, 0x00000000, 0x00008603}},
	{0x0000000b, 0, {0x00000000, 0x00000001, 0x00000100, 0x00000001}},
	{0x0000000d, 0, {0x000000e7, 0x00000a80, 0x00002b00, 0x00000000}},
	{0x40000000, 0, {0x40000001, 0x4b4d564b, 0x564b4d56, 0x0000004d}},
	{0x80000000, 0, {0x80000021, 0x00000000, 0x00000000, 0x00000000}},
	{0x80000001, 0, {0x00000000, 0x00000000, 0x00000121, 0x2c100800}},
	{0x80000002, 0, {0x65746e49, 0x2952286c, 0x6f655820, 0x2952286e}},
	{0x80000006, 0, {0x00000000, 0x00000000, 0x08007040, 0x00000000}},
	{0x80000007, 0, {0x00000000, 0x00000000, 0x00000000, 0x00000100}},
	{0x80000008, 0, {0x00303930, 0x00000000, 0x00000000, 0x00000000}},
};

/* "AuthenticAMD", an EPYC 7002 (family 17h model 31h), 64 threads. */
static const struct host_leaf epyc_leaves[] = {
	{0x00000000, 0, {0x00000010, 0x68747541, 0x444d4163, 0x69746e65}},
	{0x00000001, 0, {0x00830f10, 0x00400800, 0x7ed8320b, 0x178bfbff}},
	{0x00000005, 0, {0x00000040, 0x00000040, 0x00000003, 0x00000011}},
	{0x00000006, 0, {0x00000004, 0x00000000, 0x00000001, 0x00000000}},
	{0x00000007, 0, {0x00000000, 0x219c91a9, 0x00400004, 0x00000000}},
	{0x0000000d, 0, {0x00000207, 0x00000340, 0x00000380, 0x00000000}},
	{0x80000000, 0, {0x80000020, 0x68747541, 0x444d4163, 0x69746e65}},
	{0x80000001, 0, {0x00830f10, 0x40000000, 0x75c237ff, 0x2fd3fbff}},
	{0x80000005, 0, {0xff40ff40, 0xff40ff40, 0x20080140, 0x20080140}},
	{0x80000006, 0, {0x48006400, 0x68006400, 0x02006140, 0x01009140}},
	{0x80000007, 0, {0x00000000, 0x0000001b, 0x00000000, 0x00006799}},
	{0x80000008, 0, {0x00003030, 0x010eb757, 0x0000707f, 0x00010000}},
	{0x8000000a, 0, {0x00000001, 0x00008000, 0x00000000, 0x0001bcff}},
	{0x8000001e, 0, {0x00000000, 0x00000100, 0x00000000, 0x00000000}},
};

/* clang-format on */

static const struct host_cpu intel = {.max_basic = 0x1c,
				      .max_ext = 0x80000021,
				      .leaves = intel_leaves,
				      .nr_leaves = ARRAY_SIZE(intel_leaves)};
static const struct host_cpu epyc = {.max_basic = 0x10,
				     .max_ext = 0x80000020,
				     .leaves = epyc_leaves,
				     .nr_leaves = ARRAY_SIZE(epyc_leaves)};
static const struct host_cpu all_ones = {.max_basic = ONES, .max_ext = ONES, .all_ones = true};

/* What the host returns for (leaf, subleaf). */
static struct cpuid_regs host_cpuid(const struct host_cpu *h, uint32_t leaf, uint32_t subleaf)
{
	static const struct cpuid_regs ones = {ONES, ONES, ONES, ONES};
	static const struct cpuid_regs poison = {POISON, POISON, POISON, POISON};

	if (h->all_ones)
		return ones;
	for (size_t i = 0; i < h->nr_leaves; i++)
		if (h->leaves[i].leaf == leaf && h->leaves[i].subleaf == subleaf)
			return h->leaves[i].r;
	return poison;
}

static const struct guest_cpuid_policy no_svm = {0};
static const struct guest_cpuid_policy with_svm = {
    .advertise_svm = true,
    .svm_features = 0x00010001, /* NPT, VGIF */
    .svm_nr_asids = 64,
};

static struct cpuid_regs guest(const struct guest_cpuid_policy *p, const struct host_cpu *h,
			       uint32_t leaf, uint32_t subleaf)
{
	return guest_cpuid(p, leaf, subleaf, host_cpuid(h, leaf, subleaf), h->max_basic,
			   h->max_ext);
}

#define assert_regs(got, a, b, c, d)                                                               \
	do {                                                                                       \
		struct cpuid_regs r_ = (got);                                                      \
		assert_int_equal(r_.eax, (a));                                                     \
		assert_int_equal(r_.ebx, (b));                                                     \
		assert_int_equal(r_.ecx, (c));                                                     \
		assert_int_equal(r_.edx, (d));                                                     \
	} while (0)

#define assert_zero(got) assert_regs((got), 0, 0, 0, 0)

/* The allowlists, written out bit by bit from the brief. */
#define L1_ECX	0xc2d82203u /* 0 1 9 13 19 20 22 23 25 30, and 31 HYPERVISOR */
#define L1_EDX	0x078bab7fu /* 0-6 8 9 11 13 15 16 17 19 23-26 */
#define L7_EBX	0x209c0389u /* 0 3 7 8 9 18 19 20 23 29 */
#define E1_ECX	0x000001e1u /* 0 5 6 7 8 */
#define E1_EDX	0x2fd3ab7fu /* 0-6 8 9 13 15-17 23 24, and 11 20 22 25-27 29 */
#define SVM_BIT (1u << 2)

static void test_leaf0_vendor_and_max(void **state)
{
	(void)state;
	assert_regs(guest(&no_svm, &intel, 0, 0), 7, 0x756e6547, 0x6c65746e, 0x49656e69);
	assert_regs(guest(&no_svm, &epyc, 0, 0), 7, 0x68747541, 0x444d4163, 0x69746e65);
	assert_regs(guest(&no_svm, &all_ones, 0, 0), 7, ONES, ONES, ONES);
	/* A host with fewer basic leaves keeps its own maximum. */
	assert_int_equal(guest_cpuid(&no_svm, 0, 0, (struct cpuid_regs){5, 1, 2, 3}, 5, ONES).eax,
			 5);
	assert_int_equal(guest_cpuid(&no_svm, 0, 0, (struct cpuid_regs){0, 1, 2, 3}, 0, ONES).eax,
			 0);
}

static void test_leaf1_allowlists(void **state)
{
	(void)state;
	assert_regs(guest(&no_svm, &all_ones, 1, 0), ONES, 0x0000ffff, L1_ECX, L1_EDX);
	/* Realistic hosts: signature passes, the features are masked. */
	assert_regs(guest(&no_svm, &intel, 1, 0), 0x000c06f2, 0x00000800, 0xc2d82203, 0x078bab7f);
	assert_regs(guest(&no_svm, &epyc, 1, 0), 0x00830f10, 0x00000800, 0xc2d82203, 0x078bab7f);
	/* Nothing appears that the host lacks, except HYPERVISOR. */
	assert_regs(guest_cpuid(&no_svm, 1, 0, (struct cpuid_regs){0}, 7, 0), 0, 0, 1u << 31, 0);
}

static void test_leaf1_cleared_bits(void **state)
{
	struct cpuid_regs r;

	(void)state;
	r = guest(&no_svm, &all_ones, 1, 0);
	assert_false(r.ecx & CPUID_1_ECX_X2APIC);
	assert_false(r.ecx & CPUID_1_ECX_TSC_DEADLINE);
	assert_false(r.ecx & CPUID_1_ECX_XSAVE);
	assert_false(r.ecx & CPUID_1_ECX_OSXSAVE);
	assert_false(r.ecx & (CPUID_1_ECX_AVX | CPUID_1_ECX_F16C | CPUID_1_ECX_FMA));
	assert_false(r.ecx & CPUID_1_ECX_MONITOR);
	assert_false(r.ecx & CPUID_1_ECX_VMX);
	assert_false(r.ecx & (CPUID_1_ECX_PCID | CPUID_1_ECX_PDCM));
	assert_false(r.edx & (CPUID_1_EDX_MCE | CPUID_1_EDX_MCA | CPUID_1_EDX_MTRR));
	assert_false(r.edx &
		     (CPUID_1_EDX_DS | CPUID_1_EDX_ACPI | CPUID_1_EDX_TM | CPUID_1_EDX_PBE));
	assert_false(r.edx & (CPUID_1_EDX_SS | CPUID_1_EDX_HTT));
	assert_true(r.ecx & CPUID_1_ECX_HYPERVISOR);
}

static void test_leaf1_ebx_and_apic_id(void **state)
{
	struct guest_cpuid_policy p = {.apic_id = 0x5a};

	(void)state;
	/* Intel: 2 logical processors, CLFLUSH 64 bytes, APIC ID 1. */
	assert_int_equal(guest(&p, &intel, 1, 0).ebx, 0x5a000800);
	assert_int_equal(guest(&p, &all_ones, 1, 0).ebx, 0x5a00ffff);
	p.apic_id = 0xff;
	assert_int_equal(guest_cpuid(&p, 1, 0, (struct cpuid_regs){0}, 1, 0).ebx, 0xff000000);
}

static void test_osxsave_stays_clear(void **state)
{
	struct guest_cpuid_policy p = {.guest_cr4 = ONES};

	(void)state;
	/* XSAVE is hidden, so CR4.OSXSAVE (even if set) does not show. */
	assert_false(guest(&p, &all_ones, 1, 0).ecx & CPUID_1_ECX_OSXSAVE);
	assert_false(guest(&p, &intel, 1, 0).ecx & CPUID_1_ECX_OSXSAVE);
}

static void test_leaf2_passes(void **state)
{
	(void)state;
	assert_regs(guest(&no_svm, &intel, 2, 0), 0x00feff01, 0x000000f0, 0, 0);
	assert_regs(guest(&no_svm, &all_ones, 2, 0), ONES, ONES, ONES, ONES);
}

static void test_leaf4_subleaves(void **state)
{
	(void)state;
	/* L1D: 1 thread and 1 core share it, whatever the host topology. */
	assert_regs(guest(&no_svm, &intel, 4, 0), 0x00000121, 0x02c0003f, 0x0000003f, 0);
	assert_regs(guest(&no_svm, &intel, 4, 1), 0x00000122, 0x01c0003f, 0x0000003f, 0);
	/* L3 shared by many threads: EAX[25:14] was 1. */
	assert_regs(guest(&no_svm, &intel, 4, 3), 0x00000163, 0x04c0003f, 0x00033fff, 0);
	assert_regs(guest(&no_svm, &all_ones, 4, 7), 0x00003fff, ONES, ONES, ONES);
}

static void test_leaf7_subleaves(void **state)
{
	struct cpuid_regs r;

	(void)state;
	assert_regs(guest(&no_svm, &all_ones, 7, 0), 0, L7_EBX, 0, 0);
	/* Intel reports 2 subleaves (EAX = 2) and UMIP, AVX2, AVX-512, RTM... */
	assert_regs(guest(&no_svm, &intel, 7, 0), 0, 0x209c0389, 0, 0);
	assert_regs(guest(&no_svm, &epyc, 7, 0), 0, 0x209c0189, 0, 0);
	r = guest(&no_svm, &all_ones, 7, 0);
	assert_false(r.ebx & (CPUID_7_EBX_AVX2 | CPUID_7_EBX_AVX512F | CPUID_7_EBX_INVPCID));
	assert_false(r.ebx & (CPUID_7_EBX_HLE | CPUID_7_EBX_RTM | CPUID_7_EBX_TSC_ADJUST));
	assert_false(r.ebx & CPUID_7_EBX_CLWB);
	assert_false(r.ecx & (CPUID_7_ECX_UMIP | CPUID_7_ECX_PKU));
	/* Other subleaves read as zeros. */
	assert_zero(guest(&no_svm, &intel, 7, 1));
	assert_zero(guest(&no_svm, &all_ones, 7, 1));
	assert_zero(guest(&no_svm, &all_ones, 7, 2));
	assert_zero(guest(&no_svm, &all_ones, 7, ONES));
}

static void test_hidden_basic_leaves(void **state)
{
	static const uint32_t leaves[] = {3, 5, 6, 8, 0xa, 0xb, 0xd, 0xf, 0x10, 0x14, 0x1c, 0x1f};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(leaves); i++) {
		assert_zero(guest(&with_svm, &all_ones, leaves[i], 0));
		assert_zero(guest(&with_svm, &intel, leaves[i], 0));
		assert_zero(guest(&with_svm, &epyc, leaves[i], 0));
	}
}

static void test_basic_max_clamp(void **state)
{
	const struct cpuid_regs ones = {ONES, ONES, ONES, ONES};

	(void)state;
	/* Host max 2: leaves 4 and 7 do not exist for the guest either. */
	assert_int_equal(guest_cpuid(&no_svm, 0, 0, ones, 2, ONES).eax, 2);
	assert_int_equal(guest_cpuid(&no_svm, 2, 0, ones, 2, ONES).eax, ONES);
	assert_zero(guest_cpuid(&no_svm, 4, 0, ones, 2, ONES));
	assert_zero(guest_cpuid(&no_svm, 7, 0, ones, 2, ONES));
	/* Host max 0: only leaf 0. */
	assert_zero(guest_cpuid(&no_svm, 1, 0, ones, 0, ONES));
	/* Host max 7 exactly. */
	assert_int_equal(guest_cpuid(&no_svm, 7, 0, ones, 7, ONES).ebx, L7_EBX);
	assert_zero(guest_cpuid(&no_svm, 8, 0, ones, 7, ONES));
}

static void test_hypervisor_leaves(void **state)
{
	struct cpuid_regs r;
	char sig[13];

	(void)state;
	/* The host's own hypervisor signature (KVM) does not leak. */
	r = guest(&no_svm, &intel, 0x40000000, 0);
	assert_int_equal(r.eax, 0x40000000);
	memcpy(sig + 0, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	sig[12] = '\0';
	assert_string_equal(sig, "NestvisorSVM");
	assert_regs(guest(&with_svm, &epyc, 0x40000000, 5), 0x40000000, r.ebx, r.ecx, r.edx);
	/* Even on a host with no extended leaves and only leaf 0. */
	assert_regs(guest_cpuid(&no_svm, 0x40000000, 0, (struct cpuid_regs){0}, 0, 0), 0x40000000,
		    r.ebx, r.ecx, r.edx);
	assert_zero(guest(&no_svm, &intel, 0x40000001, 0));
	assert_zero(guest(&no_svm, &all_ones, 0x40000001, 0));
	assert_zero(guest(&no_svm, &all_ones, 0x40000010, 0));
	assert_zero(guest(&no_svm, &all_ones, 0x400000ff, 0));
	assert_zero(guest(&no_svm, &all_ones, 0x40000100, 0));
	assert_zero(guest(&no_svm, &all_ones, 0x4fffffff, 0));
}

static void test_ext_max_clamp(void **state)
{
	const struct cpuid_regs ones = {ONES, ONES, ONES, ONES};

	(void)state;
	assert_regs(guest(&no_svm, &intel, 0x80000000, 0), 0x8000000a, 0, 0, 0);
	/* AMD repeats the vendor string in 8000_0000. */
	assert_regs(guest(&no_svm, &epyc, 0x80000000, 0), 0x8000000a, 0x68747541, 0x444d4163,
		    0x69746e65);
	assert_int_equal(guest_cpuid(&no_svm, 0x80000000, 0, ones, 7, 0x80000008).eax, 0x80000008);
	assert_int_equal(guest_cpuid(&no_svm, 0x80000000, 0, ones, 7, 0x8000000a).eax, 0x8000000a);
	assert_int_equal(guest_cpuid(&no_svm, 0x80000000, 0, ones, 7, 0x80000000).eax, 0x80000000);
	assert_zero(guest_cpuid(&no_svm, 0x80000001, 0, ones, 7, 0x80000000));
	/* Below 8000_0000 means no extended leaves: all of them read as zeros. */
	assert_zero(guest_cpuid(&no_svm, 0x80000000, 0, ones, 7, 0x7fffffff));
	assert_zero(guest_cpuid(&no_svm, 0x80000000, 0, ones, 7, 0));
	assert_zero(guest_cpuid(&with_svm, 0x80000001, 0, ones, 7, 0));
	assert_zero(guest_cpuid(&with_svm, 0x8000000a, 0, ones, 7, 0));
}

static void test_ext1(void **state)
{
	struct cpuid_regs r;

	(void)state;
	assert_regs(guest(&no_svm, &all_ones, 0x80000001, 0), ONES, 0, E1_ECX, E1_EDX);
	assert_regs(guest(&no_svm, &intel, 0x80000001, 0), 0, 0, 0x00000121, 0x2c100800);
	/* EBX (brand ID, package type) is hidden. */
	assert_regs(guest(&no_svm, &epyc, 0x80000001, 0), 0x00830f10, 0, 0x000001e1, 0x2fd3ab7f);
	r = guest(&no_svm, &all_ones, 0x80000001, 0);
	assert_false(r.ecx & (CPUID_80000001_ECX_CMP_LEGACY | CPUID_80000001_ECX_TOPOLOGY_EXT));
	assert_false(r.ecx & (CPUID_80000001_ECX_EXT_APIC_SPACE | CPUID_80000001_ECX_ALT_MOV_CR8));
	assert_false(r.ecx & (CPUID_80000001_ECX_PERF_CTR_EXT_CORE |
			      CPUID_80000001_ECX_PERF_CTR_EXT_NB | CPUID_80000001_ECX_PERF_TSC));
	assert_false(r.ecx & (CPUID_80000001_ECX_OSVW | CPUID_80000001_ECX_IBS |
			      CPUID_80000001_ECX_LWP | CPUID_80000001_ECX_SKINIT |
			      CPUID_80000001_ECX_WDT | CPUID_80000001_ECX_MWAIT_EXT));
	assert_false(r.ecx & (CPUID_80000001_ECX_XOP | CPUID_80000001_ECX_FMA4));
	assert_false(r.edx & (CPUID_80000001_EDX_3DNOW | CPUID_80000001_EDX_3DNOW_EXT));
	/* The mirrored MCE, MTRR and MCA stay hidden, like in leaf 1. */
	assert_false(r.edx & (CPUID_1_EDX_MCE | CPUID_1_EDX_MTRR | CPUID_1_EDX_MCA));
	assert_int_equal(CPUID_80000001_EDX_AMD_MIRROR, 0x0183f3ffu);
}

static void test_svm_advertised_by_policy(void **state)
{
	(void)state;
	/* Hidden without the policy, even though the EPYC host has SVM. */
	assert_false(guest(&no_svm, &epyc, 0x80000001, 0).ecx & SVM_BIT);
	assert_false(guest(&no_svm, &all_ones, 0x80000001, 0).ecx & SVM_BIT);
	assert_zero(guest(&no_svm, &epyc, 0x8000000a, 0));
	assert_zero(guest(&no_svm, &all_ones, 0x8000000a, 0));
	/* Shown with the policy, whatever the host's own bit says. */
	assert_int_equal(guest(&with_svm, &epyc, 0x80000001, 0).ecx, E1_ECX | SVM_BIT);
	assert_int_equal(guest(&with_svm, &all_ones, 0x80000001, 0).ecx, E1_ECX | SVM_BIT);
	assert_int_equal(guest(&with_svm, &intel, 0x80000001, 0).ecx, 0x121 | SVM_BIT);
	/* 8000_000A is the policy's, never the host's. */
	assert_regs(guest(&with_svm, &epyc, 0x8000000a, 0), 1, 64, 0, 0x00010001);
	assert_regs(guest(&with_svm, &all_ones, 0x8000000a, 0), 1, 64, 0, 0x00010001);
	assert_regs(guest(&with_svm, &intel, 0x8000000a, 0), 1, 64, 0, 0x00010001);
	/* A host whose extended leaves stop before 8000_000A: no SVM at all. */
	assert_false(
	    guest_cpuid(&with_svm, 0x80000001, 0, (struct cpuid_regs){0, 0, ONES, 0}, 7, 0x80000008)
		.ecx &
	    SVM_BIT);
	assert_zero(
	    guest_cpuid(&with_svm, 0x8000000a, 0, (struct cpuid_regs){1, 2, 3, 4}, 7, 0x80000008));
}

static void test_ext_passed_leaves(void **state)
{
	(void)state;
	assert_regs(guest(&no_svm, &intel, 0x80000002, 0), 0x65746e49, 0x2952286c, 0x6f655820,
		    0x2952286e);
	assert_regs(guest(&no_svm, &all_ones, 0x80000003, 0), ONES, ONES, ONES, ONES);
	assert_regs(guest(&no_svm, &all_ones, 0x80000004, 0), ONES, ONES, ONES, ONES);
	assert_regs(guest(&no_svm, &epyc, 0x80000005, 0), 0xff40ff40, 0xff40ff40, 0x20080140,
		    0x20080140);
	assert_regs(guest(&no_svm, &epyc, 0x80000006, 0), 0x48006400, 0x68006400, 0x02006140,
		    0x01009140);
}

static void test_ext_power_and_sizes(void **state)
{
	(void)state;
	/* 8000_0007: only the invariant TSC. */
	assert_regs(guest(&no_svm, &all_ones, 0x80000007, 0), 0, 0, 0, 0x100);
	assert_regs(guest(&no_svm, &epyc, 0x80000007, 0), 0, 0, 0, 0x100);
	assert_regs(guest_cpuid(&no_svm, 0x80000007, 0, (struct cpuid_regs){0, 0, 0, 0x6699}, 7,
				0x80000008),
		    0, 0, 0, 0);
	/* 8000_0008: address sizes; one core; no EBX features. */
	assert_regs(guest(&no_svm, &epyc, 0x80000008, 0), 0x00003030, 0, 0, 0);
	assert_regs(guest(&no_svm, &intel, 0x80000008, 0), 0x00303930, 0, 0, 0);
	assert_regs(guest(&no_svm, &all_ones, 0x80000008, 0), ONES, 0, 0, 0);
}

static void test_hidden_ext_and_other_leaves(void **state)
{
	static const uint32_t leaves[] = {
	    0x80000009, 0x8000000b, 0x80000019, 0x8000001e, 0x8000001f,
	    0x80000020, 0x80000021, 0x8000ffff, 0x80010000, 0xc0000000,
	    0xffffffff, 0x20000000, 0x3fffffff, 0x50000000, 0x7fffffff,
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(leaves); i++) {
		assert_zero(guest(&with_svm, &all_ones, leaves[i], 0));
		assert_zero(guest(&with_svm, &epyc, leaves[i], 0));
		assert_zero(guest(&with_svm, &intel, leaves[i], 0));
	}
}

/* PMU and topology, the two areas where host values would mislead a guest. */
static void test_pmu_and_topology_hidden(void **state)
{
	(void)state;
	assert_zero(guest(&no_svm, &intel, 0xa, 0));
	assert_zero(guest(&no_svm, &intel, 0xb, 0));
	assert_zero(guest(&no_svm, &intel, 0xb, 1));
	assert_zero(guest(&no_svm, &all_ones, 0x1f, 0));
	assert_zero(guest(&no_svm, &epyc, 0x8000001e, 0));
	assert_false(guest(&no_svm, &intel, 1, 0).edx & CPUID_1_EDX_HTT);
	assert_int_equal(guest(&no_svm, &epyc, 1, 0).ebx & CPUID_1_EBX_LP_COUNT, 0);
	assert_int_equal(guest(&no_svm, &epyc, 0x80000008, 0).ecx, 0);
}

/*
 * For random host values, every guest bit comes from the host except the
 * values nestvisor makes up itself.
 */
static void test_no_invented_bits(void **state)
{
	static const uint32_t ranges[][2] = {{0, 0x20}, {0x80000000, 0x80000020}};
	uint32_t seed = 12345;

	(void)state;
	for (int round = 0; round < 64; round++) {
		for (size_t i = 0; i < 2; i++) {
			for (uint32_t leaf = ranges[i][0]; leaf <= ranges[i][1]; leaf++) {
				struct cpuid_regs h, g;
				uint32_t *hw = &h.eax, *gw = &g.eax;
				uint32_t made_up[4] = {0};

				for (int k = 0; k < 4; k++) {
					seed = seed * 1103515245u + 12345u;
					hw[k] = seed ^ (seed >> 13);
				}
				g = guest_cpuid(&with_svm, leaf, round & 3, h, 0x1c, 0x80000021);
				if (leaf == 0 || leaf == 0x80000000)
					made_up[0] = ONES;
				if (leaf == 1) {
					made_up[1] = 0xff000000;
					made_up[2] = CPUID_1_ECX_HYPERVISOR;
				}
				if (leaf == 0x80000001)
					made_up[2] = SVM_BIT;
				if (leaf == 0x8000000a)
					made_up[0] = made_up[1] = made_up[3] = ONES;
				for (int k = 0; k < 4; k++)
					assert_int_equal(gw[k] & ~hw[k] & ~made_up[k], 0);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_leaf0_vendor_and_max),
	    cmocka_unit_test(test_leaf1_allowlists),
	    cmocka_unit_test(test_leaf1_cleared_bits),
	    cmocka_unit_test(test_leaf1_ebx_and_apic_id),
	    cmocka_unit_test(test_osxsave_stays_clear),
	    cmocka_unit_test(test_leaf2_passes),
	    cmocka_unit_test(test_leaf4_subleaves),
	    cmocka_unit_test(test_leaf7_subleaves),
	    cmocka_unit_test(test_hidden_basic_leaves),
	    cmocka_unit_test(test_basic_max_clamp),
	    cmocka_unit_test(test_hypervisor_leaves),
	    cmocka_unit_test(test_ext_max_clamp),
	    cmocka_unit_test(test_ext1),
	    cmocka_unit_test(test_svm_advertised_by_policy),
	    cmocka_unit_test(test_ext_passed_leaves),
	    cmocka_unit_test(test_ext_power_and_sizes),
	    cmocka_unit_test(test_hidden_ext_and_other_leaves),
	    cmocka_unit_test(test_pmu_and_topology_hidden),
	    cmocka_unit_test(test_no_invented_bits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
