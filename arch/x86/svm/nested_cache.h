/*
 * nestvisor's private copy of an L1 guest's VMCB12 (spec nested-svm.md,
 * decision 1 and section 2.2; STYLE.md H9): every VMCB12 field nestvisor
 * consumes, taken from a snapshot that the VMRUN path copied out of L1
 * memory exactly once. Everything after that (the consistency checks of
 * nested_checks.h, building VMCB02) reads this cache and never VMCB12 again,
 * so another L1 vCPU rewriting VMCB12 meanwhile changes nothing
 * (CVE-2021-29657).
 *
 * Pure logic: no globals, no hardware access, host-tested.
 */
#ifndef ARCH_X86_SVM_NESTED_CACHE_H
#define ARCH_X86_SVM_NESTED_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/svm/vmcb.h"

/* What nestvisor advertises to L1 in CPUID 8000_000A EDX (decision 7). */
struct nested_features {
	bool npt, vgif, nrips, vnmi, lbrv, pause_filter, flush_by_asid;
};

/*
 * The consumed VMCB12 fields, named as in struct vmcb. Values are as L1
 * wrote them except for the sanitising that vmcb12_cache_fill() documents;
 * nothing here has been validated until nested_check_vmcb12() says so.
 */
struct vmcb12_cache {
	/* Control area (APM Table B-1). */
	uint32_t intercepts[NR_INTERCEPT_WORDS];
	uint16_t pause_filter_thresh;
	uint16_t pause_filter_count;
	uint64_t iopm_base_pa;
	uint64_t msrpm_base_pa;
	uint64_t tsc_offset;
	uint32_t asid;
	uint8_t tlb_control;
	uint32_t int_ctl;
	uint32_t int_vector;
	uint64_t int_state;
	uint64_t misc_ctl;
	uint64_t event_inj;
	uint64_t n_cr3;
	uint64_t virt_ext;
	uint64_t next_rip;

	/* State save area (APM Table B-2). */
	struct vmcb_seg es, cs, ss, ds, gdtr, idtr;
	uint8_t cpl;
	uint64_t efer;
	uint64_t cr0, cr2, cr3, cr4;
	uint64_t dr6, dr7;
	uint64_t rflags, rip, rsp, rax;
	uint64_t g_pat;
};

/*
 * Fills c from snap, a private snapshot (the caller memcpy's VMCB12 out of
 * L1 memory exactly once before calling this); snap is only read. The copy
 * is sanitised the way hardware without a feature ignores it (decision 7),
 * never failed: every rule is listed, with its reason, in nested_cache.c.
 * In short:
 *  - IOPM_BASE_PA, MSRPM_BASE_PA: bits 11:0 cleared (ignored, Table B-1);
 *  - TLB_CONTROL & 7, V_INTR_VECTOR & 0xFF, int_state & INTERRUPT_SHADOW,
 *    EVENTINJ reserved bits 30:12 cleared;
 *  - misc_ctl: only NP_ENABLE kept, and only with features->npt;
 *  - intercepts: word 5 keeps only INVLPGB, INVLPGB_ILLEGAL, INVPCID,
 *    MCOMMIT and TLBSYNC;
 *  - int_ctl: V_GIF and V_GIF_ENABLE dropped unless features->vgif; V_NMI,
 *    V_NMI_MASK and V_NMI_ENABLE dropped unless features->vnmi; all other
 *    int_ctl bits kept raw (VMCB02 takes int_ctl from an allowlist);
 *  - virt_ext: only LBR_VIRTUALIZATION_ENABLE kept, and only with
 *    features->lbrv;
 *  - pause filter count and threshold zero unless features->pause_filter;
 *  - next_rip replaced by the guest RIP unless features->nrips.
 */
void vmcb12_cache_fill(struct vmcb12_cache *c, const struct vmcb *snap,
		       const struct nested_features *features);

/*
 * Whether L1 asked for intercept bit (an INTERCEPT_* index); false for
 * indices past NR_INTERCEPT_BITS, like vmcb_test_intercept().
 */
static inline bool vmcb12_cache_intercepts(const struct vmcb12_cache *c, unsigned int bit)
{
	if (bit >= NR_INTERCEPT_BITS)
		return false;
	return (c->intercepts[bit / 32] >> (bit % 32)) & 1;
}

#endif
