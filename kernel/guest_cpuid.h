/*
 * The CPUID view of an L1 guest. nestvisor intercepts every guest CPUID,
 * executes CPUID on the host for the same (leaf, subleaf) and hands the
 * result to guest_cpuid(), a pure filter that decides what the guest sees.
 *
 * The filter is an allowlist: a feature reaches the guest only when the host
 * has it and nestvisor runs it correctly for a guest. Everything else reads
 * as 0. Leaf and bit numbers follow the AMD APM vol. 3 appendix E and the
 * Intel SDM vol. 2A CPUID tables.
 */
#ifndef KERNEL_GUEST_CPUID_H
#define KERNEL_GUEST_CPUID_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu.h"

struct guest_cpuid_policy {
	bool advertise_svm;    /* nested SVM emulation available (false until it lands) */
	uint32_t svm_features; /* 8000_000A EDX bits nestvisor emulates for L1 */
	uint32_t svm_nr_asids; /* 8000_000A EBX when SVM is advertised */
	/*
	 * The guest's current CR4. Hardware mirrors CR4.OSXSAVE (bit 18) into
	 * 1:ECX[27]; unused while XSAVE is hidden (see guest_cpuid.c).
	 */
	uint32_t guest_cr4;
	uint8_t apic_id; /* initial APIC ID in 1:EBX[31:24] */
};

/*
 * The guest's view of CPUID(leaf, subleaf). @host is what the host returned
 * for the same (leaf, subleaf); @host_max_basic and @host_max_ext are the host's
 * CPUID 0 EAX and 8000_0000 EAX.
 */
struct cpuid_regs guest_cpuid(const struct guest_cpuid_policy *p, uint32_t leaf, uint32_t subleaf,
			      struct cpuid_regs host, uint32_t host_max_basic,
			      uint32_t host_max_ext);

/* Leaves (APM vol. 3 appendix E; SDM vol. 2A CPUID). */
#define CPUID_LEAF_MAX_BASIC	0x00000000u
#define CPUID_LEAF_FEATURES	0x00000001u
#define CPUID_LEAF_CACHE_DESC	0x00000002u
#define CPUID_LEAF_CACHE_PARAMS 0x00000004u
#define CPUID_LEAF_EXT_FEATURES 0x00000007u
#define CPUID_LEAF_HV_BASE	0x40000000u
#define CPUID_LEAF_MAX_EXT	0x80000000u
#define CPUID_LEAF_EXT1		0x80000001u
#define CPUID_LEAF_BRAND0	0x80000002u
#define CPUID_LEAF_BRAND2	0x80000004u
#define CPUID_LEAF_L1_CACHE	0x80000005u
#define CPUID_LEAF_L2_L3_CACHE	0x80000006u
#define CPUID_LEAF_POWER_MGMT	0x80000007u
#define CPUID_LEAF_ADDR_SIZES	0x80000008u
#define CPUID_LEAF_SVM		0x8000000Au

/* The highest leaves a guest sees, if the host has them. */
#define GUEST_CPUID_MAX_BASIC CPUID_LEAF_EXT_FEATURES
#define GUEST_CPUID_MAX_EXT   CPUID_LEAF_SVM
#define GUEST_CPUID_MAX_HV    CPUID_LEAF_HV_BASE

/* 0x4000_0000 EBX, ECX, EDX: "NestvisorSVM" read as EBX, ECX, EDX. */
#define CPUID_SIG_WORD(a, b, c, d)                                                                 \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define GUEST_CPUID_HV_SIG_EBX CPUID_SIG_WORD('N', 'e', 's', 't')
#define GUEST_CPUID_HV_SIG_ECX CPUID_SIG_WORD('v', 'i', 's', 'o')
#define GUEST_CPUID_HV_SIG_EDX CPUID_SIG_WORD('r', 'S', 'V', 'M')

/* 8000_000A EAX: the SVM revision nestvisor emulates. */
#define GUEST_CPUID_SVM_REVISION 1u

/* 1 EBX. */
#define CPUID_1_EBX_BRAND_CLFLUSH 0x0000FFFFu /* brand index [7:0], CLFLUSH size [15:8] */
#define CPUID_1_EBX_LP_COUNT	  0x00FF0000u /* logical processor count [23:16] */
#define CPUID_1_EBX_APIC_ID_SHIFT 24

/* 1 ECX. */
#define CPUID_1_ECX_SSE3	 (1u << 0)
#define CPUID_1_ECX_PCLMULQDQ	 (1u << 1)
#define CPUID_1_ECX_MONITOR	 (1u << 3)
#define CPUID_1_ECX_VMX		 (1u << 5)
#define CPUID_1_ECX_SSSE3	 (1u << 9)
#define CPUID_1_ECX_FMA		 (1u << 12)
#define CPUID_1_ECX_CX16	 (1u << 13)
#define CPUID_1_ECX_PDCM	 (1u << 15)
#define CPUID_1_ECX_PCID	 (1u << 17)
#define CPUID_1_ECX_SSE4_1	 (1u << 19)
#define CPUID_1_ECX_SSE4_2	 (1u << 20)
#define CPUID_1_ECX_X2APIC	 (1u << 21)
#define CPUID_1_ECX_MOVBE	 (1u << 22)
#define CPUID_1_ECX_POPCNT	 (1u << 23)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_AES		 (1u << 25)
#define CPUID_1_ECX_XSAVE	 (1u << 26)
#define CPUID_1_ECX_OSXSAVE	 (1u << 27)
#define CPUID_1_ECX_AVX		 (1u << 28)
#define CPUID_1_ECX_F16C	 (1u << 29)
#define CPUID_1_ECX_RDRAND	 (1u << 30)
#define CPUID_1_ECX_HYPERVISOR	 (1u << 31)

/* 1 EDX. */
#define CPUID_1_EDX_FPU	  (1u << 0)
#define CPUID_1_EDX_VME	  (1u << 1)
#define CPUID_1_EDX_DE	  (1u << 2)
#define CPUID_1_EDX_PSE	  (1u << 3)
#define CPUID_1_EDX_TSC	  (1u << 4)
#define CPUID_1_EDX_MSR	  (1u << 5)
#define CPUID_1_EDX_PAE	  (1u << 6)
#define CPUID_1_EDX_MCE	  (1u << 7)
#define CPUID_1_EDX_CX8	  (1u << 8)
#define CPUID_1_EDX_APIC  (1u << 9)
#define CPUID_1_EDX_SEP	  (1u << 11)
#define CPUID_1_EDX_MTRR  (1u << 12)
#define CPUID_1_EDX_PGE	  (1u << 13)
#define CPUID_1_EDX_MCA	  (1u << 14)
#define CPUID_1_EDX_CMOV  (1u << 15)
#define CPUID_1_EDX_PAT	  (1u << 16)
#define CPUID_1_EDX_PSE36 (1u << 17)
#define CPUID_1_EDX_CLFSH (1u << 19)
#define CPUID_1_EDX_DS	  (1u << 21)
#define CPUID_1_EDX_ACPI  (1u << 22)
#define CPUID_1_EDX_MMX	  (1u << 23)
#define CPUID_1_EDX_FXSR  (1u << 24)
#define CPUID_1_EDX_SSE	  (1u << 25)
#define CPUID_1_EDX_SSE2  (1u << 26)
#define CPUID_1_EDX_SS	  (1u << 27)
#define CPUID_1_EDX_HTT	  (1u << 28)
#define CPUID_1_EDX_TM	  (1u << 29)
#define CPUID_1_EDX_PBE	  (1u << 31)

/* 4 EAX: sharing fields that describe the host's topology. */
#define CPUID_4_EAX_THREADS_SHARING 0x03FFC000u /* [25:14] */
#define CPUID_4_EAX_CORES_PER_PKG   0xFC000000u /* [31:26] */

/* 7 subleaf 0 EBX. */
#define CPUID_7_EBX_FSGSBASE   (1u << 0)
#define CPUID_7_EBX_TSC_ADJUST (1u << 1)
#define CPUID_7_EBX_BMI1       (1u << 3)
#define CPUID_7_EBX_HLE	       (1u << 4)
#define CPUID_7_EBX_AVX2       (1u << 5)
#define CPUID_7_EBX_SMEP       (1u << 7)
#define CPUID_7_EBX_BMI2       (1u << 8)
#define CPUID_7_EBX_ERMS       (1u << 9)
#define CPUID_7_EBX_INVPCID    (1u << 10)
#define CPUID_7_EBX_RTM	       (1u << 11)
#define CPUID_7_EBX_AVX512F    (1u << 16)
#define CPUID_7_EBX_RDSEED     (1u << 18)
#define CPUID_7_EBX_ADX	       (1u << 19)
#define CPUID_7_EBX_SMAP       (1u << 20)
#define CPUID_7_EBX_CLFLUSHOPT (1u << 23)
#define CPUID_7_EBX_CLWB       (1u << 24)
#define CPUID_7_EBX_SHA	       (1u << 29)
/* 7 subleaf 0 ECX. */
#define CPUID_7_ECX_UMIP (1u << 2)
#define CPUID_7_ECX_PKU	 (1u << 3)

/* 8000_0001 ECX. */
#define CPUID_80000001_ECX_LAHF_LM	     (1u << 0)
#define CPUID_80000001_ECX_CMP_LEGACY	     (1u << 1)
#define CPUID_80000001_ECX_SVM		     (1u << 2)
#define CPUID_80000001_ECX_EXT_APIC_SPACE    (1u << 3)
#define CPUID_80000001_ECX_ALT_MOV_CR8	     (1u << 4)
#define CPUID_80000001_ECX_ABM		     (1u << 5)
#define CPUID_80000001_ECX_SSE4A	     (1u << 6)
#define CPUID_80000001_ECX_MISALIGN_SSE	     (1u << 7)
#define CPUID_80000001_ECX_3DNOW_PREFETCH    (1u << 8)
#define CPUID_80000001_ECX_OSVW		     (1u << 9)
#define CPUID_80000001_ECX_IBS		     (1u << 10)
#define CPUID_80000001_ECX_XOP		     (1u << 11)
#define CPUID_80000001_ECX_SKINIT	     (1u << 12)
#define CPUID_80000001_ECX_WDT		     (1u << 13)
#define CPUID_80000001_ECX_LWP		     (1u << 15)
#define CPUID_80000001_ECX_FMA4		     (1u << 16)
#define CPUID_80000001_ECX_TOPOLOGY_EXT	     (1u << 22)
#define CPUID_80000001_ECX_PERF_CTR_EXT_CORE (1u << 23)
#define CPUID_80000001_ECX_PERF_CTR_EXT_NB   (1u << 24)
#define CPUID_80000001_ECX_PERF_TSC	     (1u << 27)
#define CPUID_80000001_ECX_MWAIT_EXT	     (1u << 29)

/* 8000_0001 EDX: bits 0-9, 12-17, 23 and 24 mirror 1 EDX on AMD. */
#define CPUID_80000001_EDX_SYSCALL    (1u << 11)
#define CPUID_80000001_EDX_NX	      (1u << 20)
#define CPUID_80000001_EDX_MMX_EXT    (1u << 22)
#define CPUID_80000001_EDX_FFXSR      (1u << 25)
#define CPUID_80000001_EDX_PAGE1GB    (1u << 26)
#define CPUID_80000001_EDX_RDTSCP     (1u << 27)
#define CPUID_80000001_EDX_LM	      (1u << 29)
#define CPUID_80000001_EDX_3DNOW_EXT  (1u << 30)
#define CPUID_80000001_EDX_3DNOW      (1u << 31)
#define CPUID_80000001_EDX_AMD_MIRROR 0x0183F3FFu /* bits 0-9, 12-17, 23, 24 */

/* 8000_0007 EDX. */
#define CPUID_80000007_EDX_INVARIANT_TSC (1u << 8)

#endif
