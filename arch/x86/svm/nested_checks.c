/*
 * VMRUN consistency checks on the cached VMCB12; see nested_checks.h.
 *
 * Every check is one CC() line naming its entry in NESTED_CHECK_LIST, so the
 * string a failure returns, the nested_checks[] table and the code cannot
 * drift apart. L2's mode is always taken from the cache (spec 2.4 item 1):
 * "long mode" below means EFER.LME=1 and CR0.PG=1 in the cache, the
 * EFER.LMA that VMRUN is about to produce.
 */
#include <stddef.h>

#include "arch/x86/svm/nested_checks.h"

#include "arch/x86/cpu_bits.h"
#include "kernel/guest_walk.h"

/*
 * key, id, name. The order is the evaluation order: the save-area checks of
 * APM 15.5.1 in APM order (C9 ahead of C8 so that LME/LMA on a CPU without
 * long mode gets the more specific name), then the control checks.
 */
#define NESTED_CHECK_LIST(X)                                                                       \
	X(C1, "C1", "EFER.SVME=0 (APM 15.5.1)")                                                    \
	X(C2, "C2", "CR0.CD=0 and CR0.NW=1 (APM 15.5.1)")                                          \
	X(C3, "C3", "CR0[63:32] not zero (APM 15.5.1)")                                            \
	X(C4_LONG, "C4", "CR3 MBZ bit in long mode, 63:52 or at/above MAXPHYADDR (APM 15.5.1)")    \
	X(C4_LEGACY, "C4", "CR3[63:32] not zero outside long mode (APM 15.5.1)")                   \
	X(C5, "C5", "CR4 MBZ bit set (APM 15.5.1)")                                                \
	X(C6, "C6", "DR6[63:32] not zero (APM 15.5.1)")                                            \
	X(C7, "C7", "DR7[63:32] not zero (APM 15.5.1)")                                            \
	X(C9, "C9", "EFER.LME or EFER.LMA set without long mode (APM 15.5.1)")                     \
	X(C8, "C8", "EFER MBZ bit set (APM 15.5.1)")                                               \
	X(C10, "C10", "EFER.LME=1, CR0.PG=1 and CR4.PAE=0 (APM 15.5.1)")                           \
	X(C11, "C11", "EFER.LME=1, CR0.PG=1 and CR0.PE=0 (APM 15.5.1)")                            \
	X(C12, "C12", "EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D all set (APM 15.5.1)")             \
	X(C13, "C13", "CR4.CET=1 and CR0.WP=0 (APM 15.5.1)")                                       \
	X(C14, "C14", "VMRUN intercept clear (APM 15.5.1)")                                        \
	X(C15, "C15", "ASID is 0 (APM 15.5.1)")                                                    \
	X(C16_MSRPM, "C16", "MSRPM extends to or beyond 2^MAXPHYADDR (APM 15.5.1)")                \
	X(C16_IOPM, "C16", "IOPM extends to or beyond 2^MAXPHYADDR (APM 15.5.1)")                  \
	X(C17_TYPE, "C17", "EVENTINJ with a reserved TYPE (APM 15.20)")                            \
	X(C17_VECTOR, "C17", "EVENTINJ TYPE=3 with a vector that is not an exception (APM 15.20)") \
	X(C17_MODE, "C17", "EVENTINJ #BR into 64-bit mode (APM 15.20)")                            \
	X(C18, "C18", "V_NMI_ENABLE without the NMI intercept (APM 15.21.10)")                     \
	X(C19, "C19", "NP_ENABLE with L1 CR0.PG=0 (APM 15.25.3)")                                  \
	X(C20, "C20", "NP_ENABLE and an MBZ bit of nCR3 set (APM 15.25.4)")                        \
	X(C21, "C21", "NP_ENABLE and a G_PAT entry with a reserved type (APM 15.25.4)")            \
	X(C22, "C22", "PAE PDPTE with a reserved bit set, or outside L1 RAM (APM 15.5.1)")

#define NCK_ENUM(key, id, name) NCK_##key,
enum nested_check_key { NESTED_CHECK_LIST(NCK_ENUM) NR_NCK };
#undef NCK_ENUM

#define NCK_INFO(key, id, name) [NCK_##key] = {id, name},
const struct nested_check_info nested_checks[] = {NESTED_CHECK_LIST(NCK_INFO)};
#undef NCK_INFO
const unsigned int nr_nested_checks = NR_NCK;

/* What a failure returns: "<id>: <name>", built by the compiler. */
#define NCK_MSG(key, id, name) [NCK_##key] = id ": " name,
static const char *const nested_check_msgs[] = {NESTED_CHECK_LIST(NCK_MSG)};
#undef NCK_MSG

/* One consistency check: if cond holds, VMRUN fails with that check's name. */
#define CC(key, cond)                                                                              \
	do {                                                                                       \
		if (cond)                                                                          \
			return nested_check_msgs[NCK_##key];                                       \
	} while (0)

/*
 * CR4 bits the APM defines for AMD64 (vol. 2 3.1.3, rev 3.42): VME,
 * PVI, TSD, DE, PSE, PAE, MCE, PGE, PCE, OSFXSR, OSXMMEXCPT (10:0), UMIP (11),
 * LA57 (12), FSGSBASE (16), PCIDE (17), OSXSAVE (18), SMEP (20), SMAP (21),
 * PKE (22), CET (23). The rest is reserved, MBZ, whatever cr4_valid says:
 * among them bits 13 and 14, which are VMXE and SMXE only on Intel.
 */
#define CR4_AMD_DEFINED 0x0000000000f71fffull
#define CR4_CET		(1ull << 23)

/* Legacy-PAE PDPTE bits that MBZ when P=1, below MAXPHYADDR (APM vol. 2 5.2, PAE PDPE). */
#define PDPTE_P		   (1ull << 0)
#define PDPTE_RSVD_LOW	   0x00000000000001e6ull /* bits 8:5 and 2:1 */
#define PAE_PDPT_BASE_MASK 0x00000000ffffffe0ull /* CR3[31:5] in PAE mode */
#define PAE_NR_PDPTES	   4

/* The exception vectors (APM 8.2, Table 8-1). */
#define VEC(n) (1u << (n))
/*
 * The vectors VMRUN may inject as TYPE=3 (APM 15.20): #DE, #DB, #BP, #OF,
 * #BR, #UD, #NM, #DF, #TS, #NP, #SS, #GP, #PF, #MF, #AC, #MC, #XF, #HV, #SX.
 * Not 2 (NMI, spec 1.2 C17), not 9 (#CSO, reserved on modern parts), not 15, 20
 * or 22-27 and 31 (reserved), not 21 (#CP) because nestvisor gives L1 no
 * shadow stacks, not 29 (#VC) because it gives no SEV-ES.
 */
#define EXCEPTION_VECTORS_VALID                                                                    \
	(VEC(0) | VEC(1) | VEC(3) | VEC(4) | VEC(5) | VEC(6) | VEC(7) | VEC(8) | VEC(10) |         \
	 VEC(11) | VEC(12) | VEC(13) | VEC(14) | VEC(16) | VEC(17) | VEC(18) | VEC(19) | VEC(28) | \
	 VEC(30))
#define VECTOR_BR 5

/* Bits lo..63 of a 64-bit word, lo < 64. */
static uint64_t bits_from(unsigned int lo)
{
	return ~0ull << lo;
}

/* env->phys_addr_bits, read the way kernel/guest_walk.c reads it. */
static unsigned int phys_bits(const struct nested_l1_env *env)
{
	if (env->phys_addr_bits == 0 || env->phys_addr_bits > 52)
		return 52;
	if (env->phys_addr_bits < 32)
		return 32;
	return env->phys_addr_bits;
}

/* L2 will run with EFER.LMA=1: EFER.LME and CR0.PG from the cache. */
static bool l2_long_mode(const struct vmcb12_cache *c)
{
	return (c->efer & EFER_LME) && (c->cr0 & CR0_PG);
}

/* L2 will run 64-bit code: long mode and CS.L. */
static bool l2_64bit(const struct vmcb12_cache *c)
{
	return l2_long_mode(c) && (c->cs.attrib & SVM_SEG_ATTR_L);
}

/*
 * The MBZ bits of a CR3 value (APM vol. 2 5.2.1, 5.3.2). In long mode
 * bits 63:52 are "Reserved, MBZ" and bits at/above MAXPHYADDR cannot be a
 * table address; bits 11:5 and 2:0 are merely "Reserved" (the PCID with
 * CR4.PCIDE) and VMRUN accepts them, so they pass. Outside long mode CR3 is
 * a 32-bit register: a legacy-mode MOV to CR3 cannot set bits 63:32, and
 * nestvisor holds VMRUN to the same, paging on or off.
 */
static uint64_t cr3_mbz(bool long_mode, unsigned int pa_bits)
{
	return long_mode ? bits_from(pa_bits) : bits_from(32);
}

/* Whether a size-byte table at base reaches 2^pa_bits or beyond (no overflow). */
static bool beyond_phys(uint64_t base, uint64_t size, unsigned int pa_bits)
{
	return base > (1ull << pa_bits) - size;
}

/* Table 15-11: TYPE 0, 2, 3 and 4 are defined, the others reserved. */
static bool event_type_defined(unsigned int type)
{
	return type == SVM_EVENT_TYPE_INTR || type == SVM_EVENT_TYPE_NMI ||
	       type == SVM_EVENT_TYPE_EXCEPTION || type == SVM_EVENT_TYPE_SOFT;
}

static bool exception_vector_valid(unsigned int vector)
{
	return vector < 32 && (EXCEPTION_VECTORS_VALID & VEC(vector));
}

/* APM 7.8.1: each PAT entry is a byte holding UC 0, WC 1, WT 4, WP 5, WB 6 or UC- 7. */
static bool pat_valid(uint64_t pat)
{
	unsigned int i;

	for (i = 0; i < 8; i++) {
		unsigned int type = (pat >> (8 * i)) & 0xff;

		if (type > 7 || type == 2 || type == 3)
			return false;
	}
	return true;
}

const char *nested_check_vmcb12(const struct vmcb12_cache *c, const struct nested_l1_env *env)
{
	unsigned int pa = phys_bits(env);
	bool lme_pg = l2_long_mode(c);
	bool np = env->features.npt && (c->misc_ctl & VMCB_MISC_NP_ENABLE);
	bool ev_valid = c->event_inj & SVM_EVENT_VALID;
	unsigned int ev_type = svm_event_type(c->event_inj);
	unsigned int ev_vector = svm_event_vector(c->event_inj);

	/* Save area: APM 15.5.1 "Canonicalization and Consistency Checks". */
	CC(C1, !(c->efer & EFER_SVME));
	CC(C2, !(c->cr0 & CR0_CD) && (c->cr0 & CR0_NW));
	CC(C3, c->cr0 >> 32);
	/* APM 15.5.1 "Any MBZ bit of CR3", in L2's mode (spec 2.4 item 1). */
	CC(C4_LONG, lme_pg && (c->cr3 & cr3_mbz(true, pa)));
	CC(C4_LEGACY, !lme_pg && (c->cr3 & cr3_mbz(false, pa)));
	/* APM 15.5.1 "Any MBZ bit of CR4": bits L1's CPUID lacks, and reserved ones. */
	CC(C5, c->cr4 & ~(env->cr4_valid & CR4_AMD_DEFINED));
	CC(C6, c->dr6 >> 32);
	CC(C7, c->dr7 >> 32);
	CC(C9, !env->long_mode && (c->efer & (EFER_LME | EFER_LMA)));
	/* APM 15.5.1 "Any MBZ bit of EFER": bits L1's CPUID lacks. */
	CC(C8, c->efer & ~env->efer_valid);
	CC(C10, lme_pg && !(c->cr4 & CR4_PAE));
	/* APM 15.19 allows PE=0 with PG=1 (paged real mode), but not in long mode. */
	CC(C11, lme_pg && !(c->cr0 & CR0_PE));
	CC(C12, lme_pg && (c->cr4 & CR4_PAE) && (c->cs.attrib & SVM_SEG_ATTR_L) &&
		    (c->cs.attrib & SVM_SEG_ATTR_DB));
	/* APM 15.5.1, the one CET check the cache can evaluate. */
	CC(C13, (c->cr4 & CR4_CET) && !(c->cr0 & CR0_WP));

	/* Control area: APM 15.5.1 (CVE-2021-29657 class for C14). */
	CC(C14, !vmcb12_cache_intercepts(c, INTERCEPT_VMRUN));
	CC(C15, c->asid == 0);
	/* APM 15.5.1; the bases lost bits 11:0 in vmcb12_cache_fill() (Table B-1). */
	CC(C16_MSRPM, beyond_phys(c->msrpm_base_pa, SVM_MSRPM_SIZE, pa));
	CC(C16_IOPM, beyond_phys(c->iopm_base_pa, SVM_IOPM_SIZE, pa));
	/* APM 15.20 "VMRUN exits with VMEXIT_INVALID error code if either". */
	CC(C17_TYPE, ev_valid && !event_type_defined(ev_type));
	CC(C17_VECTOR,
	   ev_valid && ev_type == SVM_EVENT_TYPE_EXCEPTION && !exception_vector_valid(ev_vector));
	/* APM 15.20: "an event that is impossible for the guest mode (e.g., a #BR ... 64-bit)". */
	CC(C17_MODE, ev_valid && ev_type == SVM_EVENT_TYPE_EXCEPTION && ev_vector == VECTOR_BR &&
			 l2_64bit(c));
	/* APM 15.21.10: vNMI "requires the NMI intercept bit to be set". */
	CC(C18, env->features.vnmi && (c->int_ctl & VMCB_INT_CTL_V_NMI_ENABLE) &&
		    !vmcb12_cache_intercepts(c, INTERCEPT_NMI));
	/* APM 15.25.3: "hCR0.PG cleared to zero and NP_ENABLE set to 1". */
	CC(C19, np && !(env->l1_cr0 & CR0_PG));
	/* APM 15.25.4; nCR3 follows L1's paging mode (15.25.3 "same paging mode as the VMM"). */
	CC(C20, np && (c->n_cr3 & cr3_mbz(env->l1_efer & EFER_LMA, pa)));
	/* APM 15.25.4: "Any G_PAT.PA field has an unsupported type encoding". */
	CC(C21, np && !pat_valid(c->g_pat));
	return NULL;
}

/* 8 bytes of L1-physical memory; bytes outside L1 RAM read as 0xff (decision 4). */
static uint64_t l1_read_u64_or_ones(const struct guest_ram *ram, uint64_t gpa)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < 8; i++) {
		uint64_t byte = 0xff;

		if (ram && gpa + i < ram->size)
			byte = ram->base[gpa + i];
		v |= byte << (8 * i);
	}
	return v;
}

const char *nested_check_l2_paging(const struct vmcb12_cache *c, const struct nested_l1_env *env,
				   const struct guest_ram *l1_ram)
{
	uint64_t rsvd = PDPTE_RSVD_LOW | bits_from(phys_bits(env));
	uint64_t pdpt = c->cr3 & PAE_PDPT_BASE_MASK;
	unsigned int i;

	/*
	 * APM 15.5.1 "Loading Guest State": only legacy PAE paging loads PDPTEs
	 * at VMRUN, and with nested paging they are read on each walk instead
	 * (15.25.10).
	 */
	if (!(c->cr0 & CR0_PG) || !(c->cr4 & CR4_PAE) || (c->efer & EFER_LME))
		return NULL;
	if (env->features.npt && (c->misc_ctl & VMCB_MISC_NP_ENABLE))
		return NULL;
	for (i = 0; i < PAE_NR_PDPTES; i++) {
		uint64_t pdpte = l1_read_u64_or_ones(l1_ram, pdpt + 8 * i);

		CC(C22, (pdpte & PDPTE_P) && (pdpte & rsvd));
	}
	return NULL;
}
