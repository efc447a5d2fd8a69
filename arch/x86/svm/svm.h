/* SVM on this CPU: detection, enabling, and the pages every guest shares. */
#ifndef ARCH_X86_SVM_SVM_H
#define ARCH_X86_SVM_SVM_H

#include <stdint.h>
#include "arch/x86/svm/svm_caps.h"
#include "arch/x86/svm/vmcb.h"
#include "kernel/pmm.h"

/* What svm_enable() set up once for all guests. */
struct svm_host {
	struct svm_caps caps;
	uint64_t hsave_pa;	/* VM_HSAVE_PA: where VMRUN keeps host state */
	uint64_t host_state_pa; /* VMSAVE/VMLOAD area for the host around VMRUN */
	uint64_t iopm_pa;	/* all ones: every port intercepted */
	uint64_t msrpm_pa;	/* all ones: every MSR intercepted */
	bool msrpm_all_ones;	/* so a merge with any L1 map gives it back */
	uint64_t host_cr0, host_cr4, host_efer;
	/* Host CPUID values every exit would otherwise ask for again. */
	uint32_t max_basic_leaf, max_ext_leaf;
	unsigned int phys_addr_bits;
	uint64_t guest_cr4_valid; /* CR4 bits that exist for a guest (per the CPU's CPUID) */
};

extern struct svm_host svm_host;

/* Reads CPUID and VM_CR (which may #GP where SVM is absent) into caps. */
void svm_detect(struct svm_caps *caps);
/* Prints revision, ASIDs and every feature bit, present or not. */
void svm_print_caps(const struct svm_caps *caps);

/*
 * The TLB_CONTROL that drops the guest's translations at the next VMRUN:
 * only its ASID with FlushByAsid, else everything (APM 15.16.1).
 */
static inline uint8_t svm_tlb_flush_guest(void)
{
	return (svm_host.caps.features & SVM_FEAT_FLUSH_BY_ASID) ? VMCB_TLB_CONTROL_FLUSH_ASID
								 : VMCB_TLB_CONTROL_FLUSH_ALL;
}

/* EFER.SVME, VM_HSAVE_PA and the shared pages; a reason on failure. */
const char *svm_enable(const struct svm_caps *caps, struct pmm *pmm);

#endif
