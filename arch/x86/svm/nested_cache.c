/*
 * Copying VMCB12 into nestvisor's private cache; see nested_cache.h.
 *
 * Sanitising here never fails a VMRUN: it removes what L1's (virtual)
 * hardware would ignore, so that nothing downstream has to remember which
 * bits L1 may set (decision 7: "Unsupported VMCB12 bits are ignored the way
 * hardware without the feature ignores them"). Failing checks live in
 * nested_checks.c and run on the result.
 */
#include "arch/x86/svm/nested_cache.h"

/* Table B-1: IOPM_BASE_PA and MSRPM_BASE_PA ignore bits 11:0. */
#define BITMAP_BASE_MASK (~0xfffull)

/* APM 15.16.1 / spec C24: TLB_CONTROL is bits 39:32, only 2:0 encode anything. */
#define TLB_CONTROL_MASK 0x07u

/*
 * Intercept word 5 (VMCB 0x014): bits 4:0 are kept because they depend on
 * instruction features outside CPUID 8000_000A (INVLPGB and TLBSYNC,
 * 8000_0008 EBX; INVPCID, 7 EBX; MCOMMIT, 8000_0008 EBX), whose view
 * nested_features does not carry. Everything else is dropped:
 *  - BUS_LOCK (bit 5) exists only with 8000_000A EDX[29] BusLockThreshold,
 *    IDLE_HLT (bit 6) only with 8000_000A EDX[30] IdleHltIntercept; nestvisor
 *    advertises neither (there is no flag for them in nested_features), and
 *    hardware without them never takes these exits;
 *  - bits 31:7 are reserved, SBZ (Table B-1).
 * Words 0-4 are copied whole: every bit in them is defined on all SVM
 * hardware.
 *
 * KVM also clears the XSETBV, RDTSCP, SKINIT, RDPRU and INVPCID intercepts
 * when L1's CPUID lacks XSAVE, RDTSCP, SKINIT, RDPRU or INVPCID (spec 1.2,
 * "KVM additionally sanitizes"). None of those features is in CPUID
 * 8000_000A, so nothing in nested_features gates them and they stay as L1
 * wrote them. Keeping an intercept can only add an exit to L1, never lose
 * one; when L2 runs such an instruction that L1's CPUID hides, the exit
 * reflection code must give L2 the #UD that L1's hardware would (APM 15.7:
 * #UD is checked before instruction intercepts).
 */
#define INTERCEPT_WORD5_KEEP                                                                       \
	((1u << (INTERCEPT_INVLPGB % 32)) | (1u << (INTERCEPT_INVLPGB_ILLEGAL % 32)) |             \
	 (1u << (INTERCEPT_INVPCID % 32)) | (1u << (INTERCEPT_MCOMMIT % 32)) |                     \
	 (1u << (INTERCEPT_TLBSYNC % 32)))

_Static_assert(INTERCEPT_INVLPGB / 32 == 5 && INTERCEPT_TLBSYNC / 32 == 5,
	       "APM B-1: INVLPGB..TLBSYNC are in intercept word 5");

/* APM 15.33.2: virtual GIF. */
#define INT_CTL_VGIF_BITS (VMCB_INT_CTL_V_GIF | VMCB_INT_CTL_V_GIF_ENABLE)
/* APM 15.21.10: NMI virtualization. */
#define INT_CTL_VNMI_BITS (VMCB_INT_CTL_V_NMI | VMCB_INT_CTL_V_NMI_MASK | VMCB_INT_CTL_V_NMI_ENABLE)

static uint64_t sanitise_misc_ctl(uint64_t misc_ctl, const struct nested_features *f)
{
	/*
	 * APM 15.25.3: NP_ENABLE only if nestvisor advertises nested paging
	 * (8000_000A EDX[0]); hardware without NP has no such bit. Everything
	 * else in misc_ctl is dropped:
	 *  - SEV_ENABLE and SEV_ES_ENABLE (15.34, 15.35; spec C23): nestvisor
	 *    never offers SEV to L1;
	 *  - GMET_ENABLE (15.25.13: "For processors that don't support GMET this
	 *    bit is ignored"), SSS_CHECK_ENABLE (15.25.14), VTE, RO_GPT (15.25.5),
	 *    INVLPGB_TLBSYNC and PML_ENABLE (15.25.15): features nested_features
	 *    has no flag for, so nestvisor does not advertise them. Give
	 *    nested_features a flag before keeping any of them.
	 */
	return f->npt ? misc_ctl & VMCB_MISC_NP_ENABLE : 0;
}

static uint32_t sanitise_int_ctl(uint32_t int_ctl, const struct nested_features *f)
{
	/* APM 15.33.2: without VGIF, V_GIF and V_GIF_ENABLE are ignored. */
	if (!f->vgif)
		int_ctl &= ~INT_CTL_VGIF_BITS;
	/* APM 15.21.10: without VNMI, V_NMI, V_NMI_MASK and V_NMI_ENABLE are ignored. */
	if (!f->vnmi)
		int_ctl &= ~INT_CTL_VNMI_BITS;
	/* The rest stays raw: VMCB02 takes only an allowlist of int_ctl (spec 2.3). */
	return int_ctl;
}

void vmcb12_cache_fill(struct vmcb12_cache *c, const struct vmcb *snap,
		       const struct nested_features *features)
{
	const struct vmcb_control *ctl = &snap->control;
	const struct vmcb_save *save = &snap->save;
	unsigned int i;

	for (i = 0; i < NR_INTERCEPT_WORDS; i++)
		c->intercepts[i] = ctl->intercepts[i];
	c->intercepts[5] &= INTERCEPT_WORD5_KEEP;

	/* APM 15.14.4: both fields need PauseFilter / PauseFilterThreshold. */
	c->pause_filter_thresh = features->pause_filter ? ctl->pause_filter_thresh : 0;
	c->pause_filter_count = features->pause_filter ? ctl->pause_filter_count : 0;

	/* Table B-1: bits 11:0 ignored (spec C16 is checked on what is left). */
	c->iopm_base_pa = ctl->iopm_base_pa & BITMAP_BASE_MASK;
	c->msrpm_base_pa = ctl->msrpm_base_pa & BITMAP_BASE_MASK;
	c->tsc_offset = ctl->tsc_offset;
	c->asid = ctl->asid; /* checked, never used for VMCB02 (spec 2.3) */
	/*
	 * APM 15.16.1: reserved encodings are not a VMRUN failure (spec C24).
	 * Without FlushByAsid, 3 and 7 are reserved too; nestvisor drops its
	 * shadow TLB on every transition (decision 6), so flush_by_asid needs
	 * no rule here.
	 */
	c->tlb_control = ctl->tlb_control & TLB_CONTROL_MASK;
	c->int_ctl = sanitise_int_ctl(ctl->int_ctl, features);
	c->int_vector = ctl->int_vector & VMCB_INT_VECTOR_MASK; /* V_INTR_VECTOR is 8 bits */
	/* APM 15.21.5: VMRUN loads only INTERRUPT_SHADOW; GUEST_IF is SEV-ES's. */
	c->int_state = ctl->int_state & VMCB_INT_STATE_SHADOW;
	c->misc_ctl = sanitise_misc_ctl(ctl->misc_ctl, features);
	/* APM 15.20 Figure 15-5: bits 30:12 are "Reserved, SBZ"; KVM masks them too. */
	c->event_inj = ctl->event_inj & ~SVM_EVENT_RESERVED_MASK;
	c->n_cr3 = ctl->n_cr3;
	/*
	 * APM 15.23: LBR virtualization only with LbrVirt. V_VMSAVE_VMLOAD
	 * (15.33.1), IBS and PMC virtualization have no flag in nested_features,
	 * so nestvisor does not advertise them and drops their bits; other
	 * virt_ext bits are reserved.
	 */
	c->virt_ext = features->lbrv ? ctl->virt_ext & VMCB_VIRT_EXT_LBR_ENABLE : 0;
	/*
	 * APM 15.7.1, 15.20: NextRIP is read at VMRUN only to inject software
	 * interrupts, and only by NRIPS hardware. Without NRIPS the event is
	 * injected at RIP, so RIP is the value that behaves like such hardware
	 * (KVM stuffs the current RIP in the same case).
	 */
	c->next_rip = features->nrips ? ctl->next_rip : save->rip;

	c->es = save->es;
	c->cs = save->cs;
	c->ss = save->ss;
	c->ds = save->ds;
	c->gdtr = save->gdtr;
	c->idtr = save->idtr;
	c->cpl = save->cpl;
	c->efer = save->efer;
	c->cr0 = save->cr0;
	c->cr2 = save->cr2;
	c->cr3 = save->cr3;
	c->cr4 = save->cr4;
	c->dr6 = save->dr6;
	c->dr7 = save->dr7;
	c->rflags = save->rflags;
	c->rip = save->rip;
	c->rsp = save->rsp;
	c->rax = save->rax;
	c->g_pat = save->g_pat;
}
