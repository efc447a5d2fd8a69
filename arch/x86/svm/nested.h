/*
 * Nested SVM for L1 guests (shared/spec/nested-svm.md): VMRUN validated up
 * front from one private copy of VMCB12, one minimal #VMEXIT for every
 * failure, #VMEXIT emulation and reflection of L2's exits, VMLOAD/VMSAVE,
 * STGI/CLGI with a software GIF.
 */
#ifndef ARCH_X86_SVM_NESTED_H
#define ARCH_X86_SVM_NESTED_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/x86/svm/nested_cache.h"

struct vcpu;
struct guest;
enum vcpu_action;

/* Per-vCPU nested state. L1's own state stays in vmcb01 while L2 runs. */
struct nested {
	bool gif;	   /* L1's GIF unless vGIF keeps it in vmcb01: use vcpu_gif() */
	bool vgif;	   /* hardware vGIF holds L1's GIF in vmcb01's V_GIF (APM 15.33.2) */
	bool svme;	   /* L1's EFER.SVME (the VMCB's is always 1) */
	bool in_l2;	   /* vmcb02 is the active VMCB */
	bool l1_tf;	   /* L1's RFLAGS.TF at VMRUN: #DB after the #VMEXIT */
	uint64_t hsave_pa; /* VM_HSAVE_PA as L1 wrote it; never used by hardware */
	uint64_t vm_cr;	   /* VM_CR as L1 sees it */
	uint64_t vmcb12_gpa;
	struct vmcb *vmcb01, *vmcb02, *snapshot;
	uint64_t vmcb01_pa, vmcb02_pa, snapshot_pa;
	uint8_t *msrpm02; /* vmcb02's merged MSRPM */
	uint64_t msrpm02_pa;
	struct vmcb12_cache cache;
	uint64_t nr_vmruns, nr_failed_vmruns, nr_reflected;
};

/* The SVM features nestvisor emulates for L1 (CPUID 8000_000A EDX). */
extern const struct nested_features nested_advertised;
#define NESTED_NR_ASIDS 64

const char *nested_init(struct vcpu *v);
void nested_destroy(struct vcpu *v);

/* L1's SVM instructions (intercepted from vmcb01). */
enum vcpu_action nested_vmrun(struct vcpu *v);
enum vcpu_action nested_vmload_vmsave(struct vcpu *v, bool load);
enum vcpu_action nested_stgi_clgi(struct vcpu *v, bool set);
enum vcpu_action nested_invlpga(struct vcpu *v);

/*
 * An exit from vmcb02: reflects it to L1 as a #VMEXIT when L1 intercepts it
 * (returns true, the exit is done), or returns false for L0 to handle it on
 * behalf of L2 as L1's hardware would.
 */
bool nested_reflect_exit(struct vcpu *v);
/* Whether L1's GIF is kept by hardware vGIF (APM 15.33.2) while L1 runs. */
bool nested_hw_vgif(void);
/* Keeps the #GP (and with vGIF the STGI/CLGI) intercepts of vmcb01 in step with L1's EFER.SVME. */
void nested_svme_changed(struct vcpu *v);
/* #GP in L1 while it has SVME=0: #UD for its SVM instructions, else the #GP. */
enum vcpu_action nested_l1_gp(struct vcpu *v);

/* A #VMEXIT to L1 that L0 synthesises (INTR, NMI, SHUTDOWN ...). */
void nested_vmexit(struct vcpu *v, uint64_t code, uint64_t info1, uint64_t info2);
/* Whether L1 intercepts this exit code in its VMCB12 (valid while in L2). */
bool nested_l1_intercepts(const struct vcpu *v, unsigned int bit);

#endif
