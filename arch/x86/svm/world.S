/*
 * void svm_world_switch(struct guest_regs *regs, uint64_t vmcb_pa, uint64_t host_pa)
 *
 * Register contract: Req: %rdi = regs, %rsi = guest VMCB PA, %rdx = host
 * state page PA; host IF is 0 on entry. Clob: the SysV caller-saved set;
 * callee-saved registers are preserved. No guest value survives in a
 * register on return.
 *
 * What the CPU does (APM 15.5, 15.6, 15.17):
 *  CLGI    GIF=0: no interrupt, NMI or SMI from here until STGI.
 *  STI     host IF=1. With V_INTR_MASKING=1 the host IF held at VMRUN is
 *          what lets a physical interrupt end the guest with #VMEXIT(INTR)
 *          (APM 15.21.1). GIF=0 still blocks it here, and the STI shadow
 *          is spent on the instructions below, not leaked into the guest
 *          through VMRUN (Xen's entry.S does the same).
 *  VMLOAD  the guest's FS/GS/TR/LDTR/KERNEL_GS_BASE/STAR.../SYSENTER_*
 *          from its VMCB (svm_enable VMSAVEd the host's once to host_pa).
 *  VMRUN   saves host state to VM_HSAVE_PA, loads the guest, sets GIF=1.
 *  #VMEXIT saves the guest to its VMCB, reloads the host with RAX, RSP and
 *          RIP as they were at VMRUN, GIF=0.
 *  VMSAVE  the guest's hidden state back into its VMCB; VMLOAD the host's.
 *  STGI    GIF=1: a pending physical interrupt is taken by the host IDT
 *          right here, then CLI closes the window again.
 */
#include "generated/asm_offsets.h"

	.text
	.global svm_world_switch
svm_world_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi			/* 16(%rsp): regs */
	pushq %rdx			/*  8(%rsp): host state page */
	pushq %rsi			/*  0(%rsp): guest VMCB */

	clgi
	sti
	movq %rsi, %rax
	vmload

	/* RAX and RSP come from the VMCB; RAX must hold its address for VMRUN. */
	movq REGS_RCX(%rdi), %rcx
	movq REGS_RDX(%rdi), %rdx
	movq REGS_RBX(%rdi), %rbx
	movq REGS_RBP(%rdi), %rbp
	movq REGS_RSI(%rdi), %rsi
	movq REGS_R8(%rdi), %r8
	movq REGS_R9(%rdi), %r9
	movq REGS_R10(%rdi), %r10
	movq REGS_R11(%rdi), %r11
	movq REGS_R12(%rdi), %r12
	movq REGS_R13(%rdi), %r13
	movq REGS_R14(%rdi), %r14
	movq REGS_R15(%rdi), %r15
	movq REGS_RDI(%rdi), %rdi

	vmrun
	/* RAX is the guest VMCB again (restored from the host save area). */
	vmsave

	pushq %rdi
	movq 24(%rsp), %rdi		/* regs */
	movq %rcx, REGS_RCX(%rdi)
	movq %rdx, REGS_RDX(%rdi)
	movq %rbx, REGS_RBX(%rdi)
	movq %rbp, REGS_RBP(%rdi)
	movq %rsi, REGS_RSI(%rdi)
	movq %r8, REGS_R8(%rdi)
	movq %r9, REGS_R9(%rdi)
	movq %r10, REGS_R10(%rdi)
	movq %r11, REGS_R11(%rdi)
	movq %r12, REGS_R12(%rdi)
	movq %r13, REGS_R13(%rdi)
	movq %r14, REGS_R14(%rdi)
	movq %r15, REGS_R15(%rdi)
	popq REGS_RDI(%rdi)

	movq 8(%rsp), %rax		/* host state page */
	vmload
	stgi
	cli

	/* Leave no guest value behind in a caller-saved register. */
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	xorl %edi, %edi
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	xorl %eax, %eax

	addq $24, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
