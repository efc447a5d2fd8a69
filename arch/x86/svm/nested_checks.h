/*
 * The VMRUN consistency checks nestvisor applies to an L1 guest's VMCB12
 * (spec nested-svm.md section 1.2; APM vol. 2 15.5.1 "Canonicalization and
 * Consistency Checks", 15.20, 15.21.10, 15.25.3, 15.25.4). Each is a pure
 * function of the vmcb12_cache (never of VMCB12 in L1 memory, never of the
 * live vCPU mode) and of L1's state, so the VMRUN path can run all of them
 * before it commits to anything (decision 1, spec 2.4). A failure means
 * #VMEXIT(VMEXIT_INVALID) for L1 (decision 2), never a hypervisor error.
 *
 * Not checks, because vmcb12_cache_fill() sanitises them instead: reserved
 * TLB_CONTROL encodings (spec C24), EVENTINJ bits 30:12, SEV enable bits
 * (spec C23). Spec C13 (CET) is checked only as "CR4.CET=1 and CR0.WP=0":
 * its S_CET and U_CET parts need state the cache does not hold, and CR4.CET
 * is an MBZ bit (C5) while nestvisor does not give L1 shadow stacks.
 */
#ifndef ARCH_X86_SVM_NESTED_CHECKS_H
#define ARCH_X86_SVM_NESTED_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/svm/nested_cache.h"

struct nested_l1_env {
	/* L1's own state at its VMRUN (host state for this VMRUN). */
	uint64_t l1_cr0, l1_cr4, l1_efer;
	/*
	 * The guest's MAXPHYADDR (CPUID 8000_0008 EAX[7:0]). As in
	 * struct guest_paging, 0 or more than 52 means 52 and less than 32
	 * means 32.
	 */
	unsigned int phys_addr_bits;
	/* CPUID 8000_0001 EDX.LM as L1 sees it. */
	bool long_mode;
	/* EFER bits that exist for L1 (SCE, LME, LMA, NXE, SVME, FFXSR... per its CPUID). */
	uint64_t efer_valid;
	/* CR4 bits that exist for L1 (per its CPUID). */
	uint64_t cr4_valid;
	struct nested_features features;
};

/*
 * NULL when VMRUN may proceed, else the name of the first failed check,
 * "<id>: <name>" with the id and name of an entry of nested_checks[], e.g.
 * "C2: CR0.CD=0 and CR0.NW=1 (APM 15.5.1)".
 */
const char *nested_check_vmcb12(const struct vmcb12_cache *c, const struct nested_l1_env *env);

/*
 * C22, the check that needs L1 memory: with L2 in legacy PAE paging
 * (CR0.PG=1, CR4.PAE=1, EFER.LME=0, from the cache) and nested paging off,
 * VMRUN loads the 4 PDPTEs at CR3[31:5] in L1-physical memory and fails on a
 * reserved bit in a present one (APM 15.5.1 "Loading Guest State"). Bytes
 * outside L1 RAM read as all ones (decision 4: fail closed); a NULL l1_ram
 * holds no RAM. NULL or "<id>: <name>" as for nested_check_vmcb12(), which
 * should have passed first.
 */
struct guest_ram; /* kernel/guest_walk.h: guest-physical [0, size) at base */
const char *nested_check_l2_paging(const struct vmcb12_cache *c, const struct nested_l1_env *env,
				   const struct guest_ram *l1_ram);

/*
 * Every check, for documentation and tests, in the order they are
 * evaluated. id is "C1".."C22" (spec 1.2); a check with several parts has
 * one entry per part, all with the same id.
 */
struct nested_check_info {
	const char *id, *name;
};
extern const struct nested_check_info nested_checks[];
extern const unsigned int nr_nested_checks;

#endif
