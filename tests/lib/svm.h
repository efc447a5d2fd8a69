/*
 * A minimal SVM library for L1 test hypervisors (the guests in
 * tests/guests/nested_*). L2 is a C function of the same image: it shares
 * L1's page tables, GDT, IDT, TR and FS/GS, so a VMCB needs no memory of
 * its own beyond a stack. The same code runs bare on QEMU (QEMU's SVM is
 * the hardware) and under nestvisor.
 */
#ifndef TESTS_LIB_SVM_H
#define TESTS_LIB_SVM_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/x86/svm/vmcb.h"

#define L2_STACK_SIZE 16384

/* L2's general-purpose registers other than RAX and RSP (those live in the VMCB). */
struct l2_regs {
	uint64_t rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/* One L2: its VMCB (page aligned, identity mapped so VA == PA), registers and stack. */
struct l2 {
	struct vmcb vmcb __attribute__((aligned(4096)));
	struct l2_regs regs;
	uint8_t stack[L2_STACK_SIZE] __attribute__((aligned(16)));
};

/*
 * Whether CPUID offers SVM (8000_0001 ECX[2]); svm_enable() sets EFER.SVME
 * and VM_HSAVE_PA (a static page) and returns false if it cannot.
 */
bool svm_supported(void);
bool svm_enable(void);
void svm_disable(void);

/*
 * Fills l2->vmcb for running fn on l2->stack in L1's own mode (64-bit, same
 * CR0/CR3/CR4/EFER, segments, GDTR/IDTR, PAT), with ASID 1, the VMRUN and
 * VMMCALL intercepts, and all-zero IOPM/MSRPM (nothing intercepted: tests
 * set what they need). When fn returns, L2 executes VMMCALL.
 */
void svm_vmcb_init(struct l2 *l2, void (*fn)(void));

/*
 * VMRUN l2->vmcb with l2->regs loaded, and store them back after #VMEXIT.
 * GIF is left as the #VMEXIT left it (0): svm_run() also executes STGI.
 * Returns the VMCB's EXITCODE.
 */
uint64_t svm_run_raw(struct l2 *l2);
uint64_t svm_run(struct l2 *l2);

/* After an exit on an intercepted instruction of len bytes: resume after it. */
static inline void svm_skip(struct l2 *l2, unsigned int len)
{
	l2->vmcb.save.rip += len;
}

/* The shared all-zero / all-ones permission maps, 4 KiB aligned. */
extern uint8_t svm_iopm_zero[SVM_IOPM_SIZE], svm_msrpm_zero[SVM_MSRPM_SIZE];

static inline void clgi(void)
{
	asm volatile("clgi" ::: "memory");
}

static inline void stgi(void)
{
	asm volatile("stgi" ::: "memory");
}

#endif
