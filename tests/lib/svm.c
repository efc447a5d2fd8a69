/* See svm.h. */
#include <stddef.h>
#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "kernel/kstring.h"
#include "tests/lib/svm.h"

#define PAT_DEFAULT 0x0007040600070406ull

static uint8_t hsave[4096] __attribute__((aligned(4096)));
uint8_t svm_iopm_zero[SVM_IOPM_SIZE] __attribute__((aligned(4096)));
uint8_t svm_msrpm_zero[SVM_MSRPM_SIZE] __attribute__((aligned(4096)));

bool svm_supported(void)
{
	return cpuid(0x80000000u, 0).eax >= 0x80000001u &&
	       (cpuid(0x80000001u, 0).ecx & CPUID_EXT_ECX_SVM);
}

bool svm_enable(void)
{
	if (!svm_supported())
		return false;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, (uint64_t)hsave);
	return true;
}

void svm_disable(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~(uint64_t)EFER_SVME);
}

/* L2's last instruction: fn returned, so say so to L1. */
static void __attribute__((noreturn)) l2_return(void)
{
	for (;;)
		asm volatile("vmmcall" ::: "memory");
}

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static void seg(struct vmcb_seg *s, uint16_t sel, uint16_t attrib)
{
	*s = (struct vmcb_seg){.selector = sel, .attrib = attrib, .limit = 0xFFFFFFFF, .base = 0};
}

void svm_vmcb_init(struct l2 *l2, void (*fn)(void))
{
	struct vmcb_control *c = &l2->vmcb.control;
	struct vmcb_save *s = &l2->vmcb.save;
	struct desc_ptr gdtr, idtr;
	uint64_t *sp = (uint64_t *)(l2->stack + L2_STACK_SIZE);

	memset(&l2->vmcb, 0, sizeof(l2->vmcb));
	memset(&l2->regs, 0, sizeof(l2->regs));
	/* A return address, with the stack aligned as at a call (SysV: rsp+8 16-aligned). */
	*--sp = 0;
	*--sp = (uint64_t)l2_return;

	vmcb_set_intercept(c, INTERCEPT_VMRUN);
	vmcb_set_intercept(c, INTERCEPT_VMMCALL);
	c->iopm_base_pa = (uint64_t)svm_iopm_zero;
	c->msrpm_base_pa = (uint64_t)svm_msrpm_zero;
	c->asid = 1;
	/* APM 15.21.1: physical interrupts stay L1's business while L2 runs. */
	c->int_ctl = VMCB_INT_CTL_V_INTR_MASKING;

	asm volatile("sgdt %0" : "=m"(gdtr));
	asm volatile("sidt %0" : "=m"(idtr));
	/* 64-bit code (L, P, S, type 0xB) and flat data: what boot/ and gdt.c load. */
	seg(&s->cs, GDT_KERNEL_CS, SVM_SEG_ATTR_L | SVM_SEG_ATTR_P | SVM_SEG_ATTR_S | 0xB);
	seg(&s->ss, GDT_KERNEL_DS,
	    SVM_SEG_ATTR_G | SVM_SEG_ATTR_DB | SVM_SEG_ATTR_P | SVM_SEG_ATTR_S | 0x3);
	s->ds = s->es = s->ss;
	s->gdtr.base = gdtr.base;
	s->gdtr.limit = gdtr.limit;
	s->idtr.base = idtr.base;
	s->idtr.limit = idtr.limit;
	s->efer = rdmsr(MSR_EFER);
	s->cr0 = read_cr0();
	s->cr3 = read_cr3();
	s->cr4 = read_cr4();
	s->dr6 = 0xFFFF0FF0;
	s->dr7 = 0x400;
	s->rflags = 2;
	s->rip = (uint64_t)fn;
	s->rsp = (uint64_t)sp;
	s->g_pat = PAT_DEFAULT;
}

#define REG_OFFSET(r) [r] "i"(offsetof(struct l2_regs, r))
#define REGS_OFFSETS                                                                               \
	REG_OFFSET(rbx), REG_OFFSET(rcx), REG_OFFSET(rdx), REG_OFFSET(rsi), REG_OFFSET(rdi),       \
	    REG_OFFSET(rbp), REG_OFFSET(r8), REG_OFFSET(r9), REG_OFFSET(r10), REG_OFFSET(r11),     \
	    REG_OFFSET(r12), REG_OFFSET(r13), REG_OFFSET(r14), REG_OFFSET(r15)

/*
 * Register contract: the VMCB's RAX/RSP/RIP are L2's; every other GPR comes
 * from l2->regs and goes back there. VMRUN takes the VMCB address in RAX and
 * the #VMEXIT restores RAX/RSP to their values at VMRUN (APM 15.5, 15.6).
 */
uint64_t svm_run_raw(struct l2 *l2)
{
	asm volatile("push %%rbp\n\t"
		     "push %%rdi\n\t" /* &l2->regs, for after the exit */
		     "mov %c[rbx](%%rdi), %%rbx\n\t"
		     "mov %c[rcx](%%rdi), %%rcx\n\t"
		     "mov %c[rdx](%%rdi), %%rdx\n\t"
		     "mov %c[rsi](%%rdi), %%rsi\n\t"
		     "mov %c[rbp](%%rdi), %%rbp\n\t"
		     "mov %c[r8](%%rdi), %%r8\n\t"
		     "mov %c[r9](%%rdi), %%r9\n\t"
		     "mov %c[r10](%%rdi), %%r10\n\t"
		     "mov %c[r11](%%rdi), %%r11\n\t"
		     "mov %c[r12](%%rdi), %%r12\n\t"
		     "mov %c[r13](%%rdi), %%r13\n\t"
		     "mov %c[r14](%%rdi), %%r14\n\t"
		     "mov %c[r15](%%rdi), %%r15\n\t"
		     "mov %c[rdi](%%rdi), %%rdi\n\t"
		     "vmrun\n\t"
		     "xchg %%rdi, (%%rsp)\n\t" /* rdi = &regs, L2's rdi on the stack */
		     "mov %%rbx, %c[rbx](%%rdi)\n\t"
		     "mov %%rcx, %c[rcx](%%rdi)\n\t"
		     "mov %%rdx, %c[rdx](%%rdi)\n\t"
		     "mov %%rsi, %c[rsi](%%rdi)\n\t"
		     "mov %%rbp, %c[rbp](%%rdi)\n\t"
		     "mov %%r8, %c[r8](%%rdi)\n\t"
		     "mov %%r9, %c[r9](%%rdi)\n\t"
		     "mov %%r10, %c[r10](%%rdi)\n\t"
		     "mov %%r11, %c[r11](%%rdi)\n\t"
		     "mov %%r12, %c[r12](%%rdi)\n\t"
		     "mov %%r13, %c[r13](%%rdi)\n\t"
		     "mov %%r14, %c[r14](%%rdi)\n\t"
		     "mov %%r15, %c[r15](%%rdi)\n\t"
		     "popq %c[rdi](%%rdi)\n\t"
		     "pop %%rbp"
		     :
		     : "a"(&l2->vmcb), "D"(&l2->regs), REGS_OFFSETS
		     : "rbx", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
		       "r15", "memory", "cc");
	return l2->vmcb.control.exit_code;
}

uint64_t svm_run(struct l2 *l2)
{
	uint64_t code = svm_run_raw(l2);

	stgi();
	return code;
}
