/*
 * The MSR view of an L1 guest. The MSRPM intercepts every MSR, so the MSRs
 * handled here are the complete list a guest has; any other raises #GP(0),
 * as on a CPU that does not implement it (APM vol. 3, RDMSR/WRMSR).
 *
 * guest_msr_read() and guest_msr_write() are pure policy: everything they
 * need from the hardware (the TSC, host CPUID) comes in through struct
 * guest_msr_ctx, and their only effects are on the state it points to. The
 * exit handler (arch/x86/svm/exit_msr.c) fills the context, injects #GP(0)
 * on refusal and carries any change to TSC_AUX into the real MSR.
 */
#ifndef KERNEL_GUEST_MSR_H
#define KERNEL_GUEST_MSR_H

#include <stdbool.h>
#include <stdint.h>

struct vmcb;

struct guest_msr_ctx {
	struct vmcb *vmcb;	/* the guest's VMCB: save-area MSRs and tsc_offset */
	uint64_t host_tsc;	/* RDTSC at the exit */
	uint32_t cpuid_ext_edx; /* host CPUID 8000_0001 EDX: NX, FFXSR, RDTSCP */
	uint64_t *tsc_aux;	/* the guest's TSC_AUX */
	/* SVM as L1 sees it (APM 15.4, 15.30); NULL pointers when SVM is not offered. */
	bool svm;		     /* CPUID offers SVM to the guest */
	bool in_l2;		     /* the access is L2's, not intercepted by L1 */
	bool *svme;		     /* L1's EFER.SVME (the VMCB's bit is always set) */
	uint64_t *hsave_pa;	     /* VM_HSAVE_PA */
	uint64_t *vm_cr;	     /* VM_CR */
	unsigned int phys_addr_bits; /* the guest's physical-address width */
};

/*
 * The EFER bits a guest may set (LMA, read-only, not included): SCE and LME
 * always, NXE and FFXSR with their CPUID 8000_0001 EDX bits, SVME with SVM.
 */
uint64_t guest_efer_bits(uint32_t cpuid_ext_edx, bool svm);

/* RDMSR: true with *val set, or false for #GP(0) (*val untouched). */
bool guest_msr_read(const struct guest_msr_ctx *ctx, uint32_t msr, uint64_t *val);
/* WRMSR: true once applied, or false for #GP(0) with nothing changed. */
bool guest_msr_write(const struct guest_msr_ctx *ctx, uint32_t msr, uint64_t val);

/* MSRs that arch/x86/cpu_bits.h does not name (APM vol. 2 appendix A). */
#define MSR_TSC		 0x00000010u
#define MSR_SYSENTER_CS	 0x00000174u
#define MSR_SYSENTER_ESP 0x00000175u
#define MSR_SYSENTER_EIP 0x00000176u
#define MSR_TSC_AUX	 0xC0000103u
#define MSR_VM_CR_BITS	 0x1Full /* DPD, R_INIT, DIS_A20M, LOCK, SVMDIS (APM 15.30.1) */

/* The one APIC_BASE value a guest sees: xAPIC at its reset base, enabled, BSP. */
#define GUEST_APIC_BASE 0x00000000FEE00900ull

#endif
