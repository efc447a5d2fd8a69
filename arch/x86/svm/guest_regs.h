/*
 * A guest's general-purpose registers, indexed by their x86 encoding
 * (0 = RAX ... 15 = R15), so that decoded instructions index them directly.
 * VMRUN/#VMEXIT switch RAX and RSP through the VMCB (APM 15.5.1), so the
 * world switch leaves slots 0 and 4 alone; the exit path copies them in.
 */
#ifndef ARCH_X86_SVM_GUEST_REGS_H
#define ARCH_X86_SVM_GUEST_REGS_H

#include <stdint.h>

enum gpr {
	GPR_RAX,
	GPR_RCX,
	GPR_RDX,
	GPR_RBX,
	GPR_RSP,
	GPR_RBP,
	GPR_RSI,
	GPR_RDI,
	GPR_R8,
	GPR_R9,
	GPR_R10,
	GPR_R11,
	GPR_R12,
	GPR_R13,
	GPR_R14,
	GPR_R15,
	NR_GPRS
};

struct guest_regs {
	uint64_t gpr[NR_GPRS];
};

/*
 * Runs the guest whose VMCB is at vmcb_pa until its next #VMEXIT. host_pa is
 * the page where the host state VMRUN does not switch (FS, GS, TR, LDTR,
 * KERNEL_GS_BASE, STAR family, SYSENTER) was VMSAVEd; it is VMLOADed back.
 */
void svm_world_switch(struct guest_regs *regs, uint64_t vmcb_pa, uint64_t host_pa);

#endif
