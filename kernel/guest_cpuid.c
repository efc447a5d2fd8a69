/*
 * The CPUID filter for L1 guests: see guest_cpuid.h. Each register a guest
 * sees is the host value masked by a named allowlist, or a value nestvisor
 * makes up (topology, APIC ID, hypervisor and SVM leaves). Leaf and bit
 * meanings are from the AMD APM vol. 3 appendix E and the Intel SDM vol. 2A
 * CPUID instruction reference.
 */
#include "kernel/guest_cpuid.h"

/*
 * 1 ECX. Notable bits left out:
 * MONITOR: nestvisor does not run MONITOR/MWAIT for a guest; leaf 5 is hidden.
 * VMX: nestvisor offers AMD SVM only.
 * FMA, XSAVE, OSXSAVE, AVX, F16C: nestvisor does not switch XCR0 yet, so no
 *   AVX state may reach the guest.
 * PCID: nestvisor has not been checked with guest PCIDs yet.
 * PDCM: no PERF_CAPABILITIES MSR (PMU hidden).
 * x2APIC, TSC-deadline: nestvisor emulates only an xAPIC.
 * HYPERVISOR is not here: it is always set, whatever the host says.
 */
#define GUEST_1_ECX_ALLOW                                                                          \
	(CPUID_1_ECX_SSE3 | CPUID_1_ECX_PCLMULQDQ | CPUID_1_ECX_SSSE3 | CPUID_1_ECX_CX16 |         \
	 CPUID_1_ECX_SSE4_1 | CPUID_1_ECX_SSE4_2 | CPUID_1_ECX_MOVBE | CPUID_1_ECX_POPCNT |        \
	 CPUID_1_ECX_AES | CPUID_1_ECX_RDRAND)

/*
 * 1 EDX. Notable bits left out:
 * MCE, MCA: no machine-check MSRs for the guest.
 * MTRR: no MTRR MSRs; guest memory types come from PAT alone.
 * DS, ACPI, TM, PBE: debug store and thermal monitoring MSRs are not emulated.
 * SS: self-snoop is a host cache property the guest has no use for.
 * HTT: the guest has exactly one logical processor.
 */
#define GUEST_1_EDX_ALLOW                                                                          \
	(CPUID_1_EDX_FPU | CPUID_1_EDX_VME | CPUID_1_EDX_DE | CPUID_1_EDX_PSE | CPUID_1_EDX_TSC |  \
	 CPUID_1_EDX_MSR | CPUID_1_EDX_PAE | CPUID_1_EDX_CX8 | CPUID_1_EDX_APIC |                  \
	 CPUID_1_EDX_SEP | CPUID_1_EDX_PGE | CPUID_1_EDX_CMOV | CPUID_1_EDX_PAT |                  \
	 CPUID_1_EDX_PSE36 | CPUID_1_EDX_CLFSH | CPUID_1_EDX_MMX | CPUID_1_EDX_FXSR |              \
	 CPUID_1_EDX_SSE | CPUID_1_EDX_SSE2)

/*
 * 7 subleaf 0 EBX. Left out, among others: AVX2 and AVX-512 (no XCR0
 * switching), INVPCID (PCID is hidden), HLE and RTM, TSC_ADJUST (no such
 * MSR), CLWB, PT, and the resource-monitoring bits.
 */
#define GUEST_7_EBX_ALLOW                                                                          \
	(CPUID_7_EBX_FSGSBASE | CPUID_7_EBX_BMI1 | CPUID_7_EBX_SMEP | CPUID_7_EBX_BMI2 |           \
	 CPUID_7_EBX_ERMS | CPUID_7_EBX_RDSEED | CPUID_7_EBX_ADX | CPUID_7_EBX_SMAP |              \
	 CPUID_7_EBX_CLFLUSHOPT | CPUID_7_EBX_SHA)

/* 7 subleaf 0 ECX: nothing, UMIP and PKU included (neither is emulated yet). */
#define GUEST_7_ECX_ALLOW 0u

/* 7 subleaf 0 EDX: nothing; mostly speculation-control MSRs nestvisor lacks. */
#define GUEST_7_EDX_ALLOW 0u

/*
 * 8000_0001 ECX. SVM is added separately, by policy. Left out, among others:
 * CmpLegacy and TopologyExtensions (one logical processor), ExtApicSpace and
 * AltMovCr8 (xAPIC only), OSVW, IBS, LWP and the PerfCtrExt* and PerfTsc
 * counters (no such MSRs), XOP and FMA4 (no XCR0 switching), SKINIT, WDT,
 * DataBkptExt and MwaitExtended.
 */
#define GUEST_80000001_ECX_ALLOW                                                                   \
	(CPUID_80000001_ECX_LAHF_LM | CPUID_80000001_ECX_ABM | CPUID_80000001_ECX_SSE4A |          \
	 CPUID_80000001_ECX_MISALIGN_SSE | CPUID_80000001_ECX_3DNOW_PREFETCH)

/*
 * 8000_0001 EDX: the bits AMD mirrors from 1 EDX, only where 1 EDX allows
 * them, plus the long-mode bits. 3DNow! and 3DNowExt are left out: recent
 * AMD parts dropped them and guests must not start relying on them.
 */
#define GUEST_80000001_EDX_ALLOW                                                                   \
	((GUEST_1_EDX_ALLOW & CPUID_80000001_EDX_AMD_MIRROR) | CPUID_80000001_EDX_SYSCALL |        \
	 CPUID_80000001_EDX_NX | CPUID_80000001_EDX_MMX_EXT | CPUID_80000001_EDX_FFXSR |           \
	 CPUID_80000001_EDX_PAGE1GB | CPUID_80000001_EDX_RDTSCP | CPUID_80000001_EDX_LM)

/* 8000_0007 EDX: only the invariant TSC; the rest is host power management. */
#define GUEST_80000007_EDX_ALLOW CPUID_80000007_EDX_INVARIANT_TSC

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* The guest's CPUID 0 EAX. Leaf 0 itself always exists. */
static uint32_t guest_max_basic(uint32_t host_max_basic)
{
	return min_u32(host_max_basic, GUEST_CPUID_MAX_BASIC);
}

/*
 * The guest's CPUID 8000_0000 EAX. A host value below 8000_0000 (no extended
 * leaves) stays below it, so every extended leaf, 8000_0000 included, then
 * reads as zeros.
 */
static uint32_t guest_max_ext(uint32_t host_max_ext)
{
	return min_u32(host_max_ext, GUEST_CPUID_MAX_EXT);
}

/* Function 1h (APM vol. 3 appendix E; SDM vol. 2A CPUID, leaf 01H). */
static struct cpuid_regs features_leaf(const struct guest_cpuid_policy *p, struct cpuid_regs host)
{
	struct cpuid_regs r;

	r.eax = host.eax; /* family, model, stepping */
	/*
	 * Keep brand index and CLFLUSH size. The logical processor count is 0
	 * and HTT is clear: one logical processor, whose APIC ID is the policy's.
	 */
	r.ebx = (host.ebx & CPUID_1_EBX_BRAND_CLFLUSH) |
		((uint32_t)p->apic_id << CPUID_1_EBX_APIC_ID_SHIFT);
	r.ecx = (host.ecx & GUEST_1_ECX_ALLOW) | CPUID_1_ECX_HYPERVISOR;
	/*
	 * OSXSAVE stays 0. Hardware mirrors CR4.OSXSAVE into it, but XSAVE is
	 * hidden, so the guest cannot set CR4.OSXSAVE. When XSAVE joins the
	 * allowlist, OSXSAVE must follow p->guest_cr4 bit 18.
	 */
	r.edx = host.edx & GUEST_1_EDX_ALLOW;
	return r;
}

/* A basic leaf no higher than the guest's maximum basic leaf. */
static struct cpuid_regs basic_leaf(const struct guest_cpuid_policy *p, uint32_t leaf,
				    uint32_t subleaf, struct cpuid_regs host, uint32_t max_basic)
{
	struct cpuid_regs r = {0};

	switch (leaf) {
	case CPUID_LEAF_MAX_BASIC:
		r = host; /* the vendor string in EBX, EDX, ECX */
		r.eax = max_basic;
		break;
	case CPUID_LEAF_FEATURES:
		r = features_leaf(p, host);
		break;
	case CPUID_LEAF_CACHE_DESC:
		r = host;
		break;
	case CPUID_LEAF_CACHE_PARAMS:
		/*
		 * Deterministic cache parameters, for whatever subleaf the host
		 * was asked. The sharing counts describe host cores and threads;
		 * the guest has one of each, so both fields (count minus 1) are 0.
		 */
		r = host;
		r.eax &= ~(CPUID_4_EAX_THREADS_SHARING | CPUID_4_EAX_CORES_PER_PKG);
		break;
	case CPUID_LEAF_EXT_FEATURES:
		/* EAX = 0: subleaf 0 is the only one; the others read as zeros. */
		if (subleaf == 0) {
			r.ebx = host.ebx & GUEST_7_EBX_ALLOW;
			r.ecx = host.ecx & GUEST_7_ECX_ALLOW;
			r.edx = host.edx & GUEST_7_EDX_ALLOW;
		}
		break;
	default:
		/* 3 serial number, 5 MONITOR/MWAIT, 6 thermal and power: hidden. */
		break;
	}
	return r;
}

/* An extended leaf from 8000_0000 up to the guest's maximum extended leaf. */
static struct cpuid_regs ext_leaf(const struct guest_cpuid_policy *p, uint32_t leaf,
				  struct cpuid_regs host, uint32_t max_ext)
{
	struct cpuid_regs r = {0};

	switch (leaf) {
	case CPUID_LEAF_MAX_EXT:
		r = host; /* AMD repeats the vendor string here; Intel returns 0 */
		r.eax = max_ext;
		break;
	case CPUID_LEAF_EXT1:
		r.eax = host.eax; /* extended family, model, stepping */
		r.ecx = host.ecx & GUEST_80000001_ECX_ALLOW;
		/*
		 * SVM is nestvisor's emulation, not the host's, so the policy
		 * alone decides it. It is shown only together with 8000_000A,
		 * which describes it (APM vol. 3 appendix E, Function 8000_000Ah).
		 */
		if (p->advertise_svm && max_ext >= CPUID_LEAF_SVM)
			r.ecx |= CPUID_80000001_ECX_SVM;
		r.edx = host.edx & GUEST_80000001_EDX_ALLOW;
		break;
	case CPUID_LEAF_BRAND0 ... CPUID_LEAF_BRAND2:
	case CPUID_LEAF_L1_CACHE:
	case CPUID_LEAF_L2_L3_CACHE:
		r = host;
		break;
	case CPUID_LEAF_POWER_MGMT:
		r.edx = host.edx & GUEST_80000007_EDX_ALLOW;
		break;
	case CPUID_LEAF_ADDR_SIZES:
		/*
		 * Address sizes pass. EBX (feature bits such as IBPB) is hidden;
		 * ECX = 0 says one core with no APIC ID bits for cores.
		 */
		r.eax = host.eax;
		break;
	case CPUID_LEAF_SVM:
		if (p->advertise_svm) {
			r.eax = GUEST_CPUID_SVM_REVISION;
			r.ebx = p->svm_nr_asids;
			r.edx = p->svm_features;
		}
		break;
	default:
		/* 8000_0009 is reserved. */
		break;
	}
	return r;
}

struct cpuid_regs guest_cpuid(const struct guest_cpuid_policy *p, uint32_t leaf, uint32_t subleaf,
			      struct cpuid_regs host, uint32_t host_max_basic,
			      uint32_t host_max_ext)
{
	static const struct cpuid_regs zero;
	uint32_t max_basic = guest_max_basic(host_max_basic);
	uint32_t max_ext = guest_max_ext(host_max_ext);

	if (leaf <= max_basic)
		return basic_leaf(p, leaf, subleaf, host, max_basic);
	if (leaf == CPUID_LEAF_HV_BASE) {
		return (struct cpuid_regs){.eax = GUEST_CPUID_MAX_HV,
					   .ebx = GUEST_CPUID_HV_SIG_EBX,
					   .ecx = GUEST_CPUID_HV_SIG_ECX,
					   .edx = GUEST_CPUID_HV_SIG_EDX};
	}
	if (leaf >= CPUID_LEAF_MAX_EXT && leaf <= max_ext)
		return ext_leaf(p, leaf, host, max_ext);
	/*
	 * Every other leaf reads as zeros: basic leaves above the guest's
	 * maximum, hypervisor leaves after 4000_0000, extended leaves above the
	 * guest's maximum, and anything else. That is what AMD processors do.
	 * Intel processors instead return the highest basic leaf's data for a
	 * leaf above the maximum (SDM vol. 2A CPUID); we do not copy that, so
	 * the answer for a missing leaf does not depend on the host's vendor,
	 * and zeros cannot advertise anything by accident.
	 */
	return zero;
}
