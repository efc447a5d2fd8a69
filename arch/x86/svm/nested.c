/*
 * Nested SVM: VMRUN and #VMEXIT emulation for L1 (shared/spec/nested-svm.md).
 *
 * VMRUN: instruction checks (#UD/#GP), one copy of VMCB12 into nestvisor
 * memory, every fallible step as a pure function of that copy (the checks
 * of nested_checks.c), then a commit that cannot fail. A failed check is
 * the minimal #VMEXIT of decision 2: nothing was built, so nothing needs
 * tearing down. L1's own state stays in vmcb01 while L2 runs in vmcb02.
 */
#include <stddef.h>
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/svm/exits.h"
#include "arch/x86/svm/known_insn.h"
#include "arch/x86/svm/nested.h"
#include "arch/x86/svm/nested_checks.h"
#include "arch/x86/svm/nested_maps.h"
#include "arch/x86/svm/svm.h"
#include "arch/x86/svm/vcpu.h"
#include "kernel/console.h"
#include "kernel/guest.h"
#include "kernel/guest_msr.h"
#include "kernel/insn_decode.h"
#include "kernel/kstring.h"

/* Decision 7: only what is emulated faithfully and tested. */
const struct nested_features nested_advertised = {0};

/* The VMCB12 bytes nestvisor consumes: control up to nRIP, save up to G_PAT. */
#define VMCB12_CONTROL_USED (offsetof(struct vmcb_control, next_rip) + 8)
#define VMCB12_SAVE_USED    (offsetof(struct vmcb_save, g_pat) + 8)

#define DR6_BS	  (1ull << 14)
#define DR7_RESET 0x400ull
/* int_ctl bits L1 may set for L2 (CVE-2021-3653: never AVIC, x2AVIC, vNMI, vGIF unless offered). */
#define INT_CTL_FROM_L1                                                                            \
	(VMCB_INT_CTL_V_TPR_MASK | VMCB_INT_CTL_V_IRQ | VMCB_INT_CTL_V_INTR_PRIO_MASK |            \
	 VMCB_INT_CTL_V_IGN_TPR)

const char *nested_init(struct vcpu *v)
{
	struct nested *n = &v->nested;
	struct pmm *pmm = v->guest->pmm;

	n->vmcb01 = v->vmcb;
	n->vmcb01_pa = v->vmcb_pa;
	n->vgif = nested_hw_vgif();
	if (n->vgif)
		n->vmcb01->control.int_ctl |= VMCB_INT_CTL_V_GIF_ENABLE;
	vcpu_set_gif(v, true); /* APM 15.17: GIF is 1 out of reset */
	n->vmcb02_pa = pmm_alloc(pmm, 1, PAGE_SIZE);
	n->snapshot_pa = pmm_alloc(pmm, 1, PAGE_SIZE);
	n->msrpm02_pa = pmm_alloc(pmm, SVM_MSRPM_PAGES, PAGE_SIZE);
	if (!n->vmcb02_pa || !n->snapshot_pa || !n->msrpm02_pa)
		return "out of memory for nested SVM state";
	n->vmcb02 = pmm_virt(pmm, n->vmcb02_pa);
	n->snapshot = pmm_virt(pmm, n->snapshot_pa);
	n->msrpm02 = pmm_virt(pmm, n->msrpm02_pa);
	/* L0's own map until an L1 map is merged in. */
	memcpy(n->msrpm02, pmm_virt(pmm, svm_host.msrpm_pa), SVM_MSRPM_SIZE);
	return 0;
}

void nested_destroy(struct vcpu *v)
{
	struct nested *n = &v->nested;
	struct pmm *pmm = v->guest->pmm;

	if (n->vmcb02_pa)
		pmm_free(pmm, n->vmcb02_pa, 1);
	if (n->snapshot_pa)
		pmm_free(pmm, n->snapshot_pa, 1);
	if (n->msrpm02_pa)
		pmm_free(pmm, n->msrpm02_pa, SVM_MSRPM_PAGES);
	n->vmcb02_pa = n->snapshot_pa = n->msrpm02_pa = 0;
}

bool nested_l1_intercepts(const struct vcpu *v, unsigned int bit)
{
	return vmcb12_cache_intercepts(&v->nested.cache, bit);
}

static uint64_t rax_operand(const struct vcpu *v)
{
	const struct vmcb_save *s = &v->vmcb->save;
	uint64_t rax = v->regs.gpr[GPR_RAX];

	/* Outside 64-bit mode the address size is 32 bits: EAX. */
	return (s->efer & EFER_LMA) && (s->cs.attrib & SVM_SEG_ATTR_L) ? rax : (uint32_t)rax;
}

/*
 * APM 15.5.1 and 15.4 (spec 1.1, decision 3), before any VMCB access:
 * #UD when EFER.SVME is 0 or outside protected mode (real or v86), #GP(0)
 * at CPL > 0, and for a VMCB address that is unaligned, beyond the
 * physical-address width, or not in the guest's RAM. True if it faulted.
 */
static bool svm_insn_faults(struct vcpu *v, bool check_rax)
{
	const struct vmcb_save *s = &v->vmcb->save;
	bool svme = v->nested.in_l2 ? (s->efer & EFER_SVME) : v->nested.svme;
	uint64_t rax = rax_operand(v);

	if (!svme || !(s->cr0 & CR0_PE) || (s->rflags & RFLAGS_VM)) {
		vcpu_inject_exception(v, EXC_UD, false, 0);
		return true;
	}
	if (s->cpl) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return true;
	}
	if (check_rax && ((rax & (PAGE_SIZE - 1)) || (rax >> svm_host.phys_addr_bits) ||
			  rax > v->guest->ram_size - PAGE_SIZE)) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return true;
	}
	return false;
}

static struct nested_l1_env l1_env(const struct vcpu *v)
{
	const struct vmcb_save *s = &v->nested.vmcb01->save;
	uint32_t ext_edx = cpuid(0x80000001u, 0).edx;

	return (struct nested_l1_env){
	    .l1_cr0 = s->cr0,
	    .l1_cr4 = s->cr4,
	    .l1_efer = s->efer, /* SVME included: L1 runs VMRUN */
	    .phys_addr_bits = svm_host.phys_addr_bits,
	    .long_mode = ext_edx & CPUID_EXT_EDX_LM,
	    .efer_valid = guest_efer_bits(ext_edx, true) | EFER_LMA,
	    .cr4_valid = svm_host.guest_cr4_valid,
	    .features = nested_advertised,
	};
}

static void copy_vmload_state(struct vmcb_save *dst, const struct vmcb_save *src)
{
	dst->fs = src->fs;
	dst->gs = src->gs;
	dst->tr = src->tr;
	dst->ldtr = src->ldtr;
	dst->kernel_gs_base = src->kernel_gs_base;
	dst->star = src->star;
	dst->lstar = src->lstar;
	dst->cstar = src->cstar;
	dst->sfmask = src->sfmask;
	dst->sysenter_cs = src->sysenter_cs;
	dst->sysenter_esp = src->sysenter_esp;
	dst->sysenter_eip = src->sysenter_eip;
}

/* The single failure path of VMRUN (decision 2): the minimal #VMEXIT. */
static void vmrun_failed(struct vcpu *v, struct vmcb *vmcb12, const char *why)
{
	struct nested *n = &v->nested;

	vmcb12->control.exit_code = SVM_EXIT_INVALID; /* all 64 bits: -1 */
	vmcb12->control.exit_info1 = 0;
	vmcb12->control.exit_info2 = 0;
	vmcb12->control.event_inj = 0;
	/* APM 15.17: every #VMEXIT clears GIF, #VMEXIT(INVALID) included (f85a6ce06e4a). */
	vcpu_set_gif(v, false);
	n->nr_failed_vmruns++;
	kprintf("nestvisor: %s: VMRUN refused (%s): #VMEXIT(INVALID), GIF=0\n", v->guest->name,
		why);
	/* APM 15.5.1 "VMRUN and TF": the single-step trap completes after the #VMEXIT. */
	if (n->vmcb01->save.rflags & RFLAGS_TF) {
		n->vmcb01->save.dr6 |= DR6_BS;
		vcpu_inject_exception(v, EXC_DB, false, 0);
	}
}

/* VMCB02 from the validated cache only (decision 1: nothing here can fail). */
static void enter_l2(struct vcpu *v, uint64_t vmcb12_gpa)
{
	struct nested *n = &v->nested;
	const struct vmcb12_cache *c = &n->cache;
	struct vmcb *v01 = n->vmcb01, *v02 = n->vmcb02;
	struct vmcb_control *ctl = &v02->control;
	struct vmcb_save *s = &v02->save;

	v01->save.rax = v->regs.gpr[GPR_RAX];
	v01->save.rsp = v->regs.gpr[GPR_RSP];
	n->l1_tf = v01->save.rflags & RFLAGS_TF;

	/*
	 * Every control field below VMCB02 uses is written here; the rest of
	 * the control area starts from zero (the save area's other fields are
	 * zero from allocation and only ever hold what VMSAVE put there).
	 */
	memset(ctl, 0, offsetof(struct vmcb_control, reserved_0x0c4));
	/* L0's intercepts OR L1's: what either needs exits (spec 2.3). */
	vcpu_l0_intercepts(ctl);
	for (unsigned int i = 0; i < NR_INTERCEPT_WORDS; i++)
		ctl->intercepts[i] |= c->intercepts[i];
	if (vmcb12_cache_intercepts(c, INTERCEPT_EXCEPTION(EXC_BP)))
		vmcb_set_intercept(ctl, INTERCEPT_INTN); /* see nested_int3_as_bp() */
	ctl->iopm_base_pa = svm_host.iopm_pa;
	ctl->msrpm_base_pa = n->msrpm02_pa;
	ctl->tsc_offset = v01->control.tsc_offset + c->tsc_offset;
	/* L0's ASID and nested paging; every transition flushes (decision 6). */
	ctl->asid = v01->control.asid;
	ctl->tlb_control = svm_tlb_flush_guest();
	ctl->misc_ctl = VMCB_MISC_NP_ENABLE;
	ctl->n_cr3 = v01->control.n_cr3;
	ctl->int_ctl = VMCB_INT_CTL_V_INTR_MASKING | (c->int_ctl & INT_CTL_FROM_L1);
	ctl->int_vector = c->int_vector;
	ctl->int_state = c->int_state;

	/* FS/GS/TR/LDTR and the syscall MSRs are not switched by VMRUN (APM 15.5.2). */
	copy_vmload_state(s, &v01->save);
	s->es = c->es;
	s->cs = c->cs;
	s->ss = c->ss;
	s->ds = c->ds;
	s->gdtr = c->gdtr;
	s->idtr = c->idtr;
	s->cpl = c->cpl;
	s->efer = c->efer;
	s->cr0 = c->cr0;
	s->cr2 = c->cr2;
	s->cr3 = c->cr3;
	s->cr4 = c->cr4;
	s->dr6 = c->dr6;
	s->dr7 = c->dr7;
	s->rflags = c->rflags;
	s->rip = c->rip;
	s->rsp = c->rsp;
	s->rax = c->rax;
	/* Without nested paging for L2, L2 uses the PAT L1 has (APM 15.25.8). */
	s->g_pat = v01->save.g_pat;

	v->regs.gpr[GPR_RAX] = c->rax;
	v->regs.gpr[GPR_RSP] = c->rsp;
	/* L1's EVENTINJ is delivered at entry like any event L0 injects (APM 15.20). */
	v->pending_event = (c->event_inj & SVM_EVENT_VALID) ? c->event_inj : 0;
	n->vmcb12_gpa = vmcb12_gpa;
	n->in_l2 = true;
	/* APM 15.5.1: VMRUN sets GIF once the guest state is loaded. */
	vcpu_set_gif(v, true);
	v->vmcb = v02;
	v->vmcb_pa = n->vmcb02_pa;
}

enum vcpu_action nested_vmrun(struct vcpu *v)
{
	struct nested *n = &v->nested;
	struct guest_ram ram = vcpu_guest_ram(v);
	struct nested_l1_env env;
	struct vmcb *vmcb12;
	const char *why;
	uint64_t gpa;

	if (svm_insn_faults(v, true))
		return VCPU_RESUME;
	gpa = rax_operand(v);
	vmcb12 = (struct vmcb *)(ram.base + gpa);
	n->nr_vmruns++;

	/*
	 * Decision 1: one copy of every field nestvisor consumes (control area
	 * up to nRIP, save area up to G_PAT); VMCB12 is not read again until
	 * the #VMEXIT.
	 */
	memcpy(&n->snapshot->control, &vmcb12->control, VMCB12_CONTROL_USED);
	memcpy(&n->snapshot->save, &vmcb12->save, VMCB12_SAVE_USED);
	vmcb12_cache_fill(&n->cache, n->snapshot, &nested_advertised);
	env = l1_env(v);
	why = nested_check_vmcb12(&n->cache, &env);
	if (!why)
		why = nested_check_l2_paging(&n->cache, &env, &ram);

	/* Either way VMRUN retires: L1 resumes after it on #VMEXIT. */
	if (vcpu_complete_known_insn(v, INSN_VMRUN) == VCPU_STOP)
		return VCPU_STOP;
	if (why) {
		vmrun_failed(v, vmcb12, why);
		return VCPU_RESUME;
	}
	/*
	 * VMCB02's MSRPM is L0's map OR L1's (spec 2.1 step 8), built into its
	 * own buffer. While L0 intercepts every MSR (svm_enable), that union is
	 * L0's all-ones map whatever L1's says, and msrpm02 already holds it.
	 */
	if (!svm_host.msrpm_all_ones && vmcb12_cache_intercepts(&n->cache, INTERCEPT_MSR_PROT))
		nested_msrpm_merge(n->msrpm02, pmm_virt(v->guest->pmm, svm_host.msrpm_pa), &ram,
				   n->cache.msrpm_base_pa);
	enter_l2(v, gpa);
	return VCPU_RESUME;
}

/* APM 15.7.2: report an event whose delivery the exit cut short; fix QEMU's type 3. */
static uint64_t interrupted_event(const struct vcpu *v)
{
	uint64_t ev = v->vmcb->control.exit_int_info;

	if (!(ev & SVM_EVENT_VALID))
		ev = v->pending_event; /* never reached the CPU: still "being delivered" */
	if (!(ev & SVM_EVENT_VALID))
		ev = v->reinject_event;
	if (!(ev & SVM_EVENT_VALID))
		return 0;
	return vcpu_sanitize_event(ev);
}

void nested_vmexit(struct vcpu *v, uint64_t code, uint64_t info1, uint64_t info2)
{
	struct nested *n = &v->nested;
	struct guest_ram ram = vcpu_guest_ram(v);
	struct vmcb *v01 = n->vmcb01, *v02 = n->vmcb02;
	struct vmcb *vmcb12 = (struct vmcb *)(ram.base + n->vmcb12_gpa);
	const struct vmcb_save *s = &v02->save;
	uint32_t l2_int_ctl = v02->control.int_ctl;

	/* APM 15.6: exactly these fields of VMCB12 (decision 8). */
	vmcb12->save.es = s->es;
	vmcb12->save.cs = s->cs;
	vmcb12->save.ss = s->ss;
	vmcb12->save.ds = s->ds;
	vmcb12->save.gdtr = s->gdtr;
	vmcb12->save.idtr = s->idtr;
	vmcb12->save.efer = s->efer;
	vmcb12->save.cr0 = s->cr0;
	vmcb12->save.cr2 = s->cr2;
	vmcb12->save.cr3 = s->cr3;
	vmcb12->save.cr4 = s->cr4;
	vmcb12->save.rflags = s->rflags;
	vmcb12->save.rip = s->rip;
	vmcb12->save.rsp = v->regs.gpr[GPR_RSP];
	vmcb12->save.rax = v->regs.gpr[GPR_RAX];
	vmcb12->save.dr6 = s->dr6;
	vmcb12->save.dr7 = s->dr7;
	vmcb12->save.cpl = s->cpl;
	vmcb12->control.int_state = v02->control.int_state & VMCB_INT_STATE_SHADOW;
	vmcb12->control.exit_code = code;
	vmcb12->control.exit_info1 = info1;
	vmcb12->control.exit_info2 = info2;
	vmcb12->control.exit_int_info = interrupted_event(v);
	/* V_IRQ (L1's request still pending, unless L0 borrowed it) and V_TPR come back. */
	if (v->l0_vintr_window)
		l2_int_ctl =
		    (l2_int_ctl & ~VMCB_INT_CTL_V_IRQ) | (n->cache.int_ctl & VMCB_INT_CTL_V_IRQ);
	vmcb12->control.int_ctl =
	    (n->cache.int_ctl & ~(VMCB_INT_CTL_V_IRQ | VMCB_INT_CTL_V_TPR_MASK)) |
	    (l2_int_ctl & (VMCB_INT_CTL_V_IRQ | VMCB_INT_CTL_V_TPR_MASK));
	vmcb12->control.event_inj = 0;

	/* L1 again: what the #VMEXIT restores (APM 15.6, spec 3.3). */
	copy_vmload_state(&v01->save, s);
	v01->save.cr0 |= CR0_PE;
	v01->save.rflags &= ~(uint64_t)RFLAGS_VM;
	v01->save.dr7 = DR7_RESET; /* host breakpoints disabled */
	v01->save.cpl = 0;
	v01->control.exit_int_info = 0;
	v01->control.tlb_control = svm_tlb_flush_guest();
	v->regs.gpr[GPR_RAX] = v01->save.rax;
	v->regs.gpr[GPR_RSP] = v01->save.rsp;
	v->pending_event = 0;
	v->reinject_event = 0;
	v->l0_vintr_window = false;
	v->vmcb = v01;
	v->vmcb_pa = n->vmcb01_pa;
	n->in_l2 = false;
	vcpu_set_gif(v, false);
	n->nr_reflected++;
	if (n->l1_tf) {
		v01->save.dr6 |= DR6_BS;
		vcpu_inject_exception(v, EXC_DB, false, 0);
	}
}

/*
 * INT3 in L2 with L1 intercepting #BP: hardware exits with #VMEXIT(#BP) at
 * the INT3 (APM 15.12). QEMU TCG instead checks INT3 against the INTn
 * intercept, so while L1 intercepts #BP L0 also intercepts INTn in vmcb02
 * and sorts the exits out here; an INTn that L1 does not intercept is
 * delivered to L2 as the software interrupt it is (APM 15.20, type 4, with
 * RIP past the instruction since there is no NRIPS to do it).
 */
static bool nested_int3_as_bp(struct vcpu *v)
{
	struct insn insn;
	unsigned int len = vcpu_decode_insn(v, &insn);

	if (!len)
		return true; /* the guest is stopped */
	if (insn.opcode[0] == 0xCC && nested_l1_intercepts(v, INTERCEPT_EXCEPTION(EXC_BP))) {
		nested_vmexit(v, SVM_EXIT_EXCP_BASE + EXC_BP, 0, 0);
		return true;
	}
	vcpu_skip_insn(v, len);
	v->pending_event = svm_event(insn.opcode[0] == 0xCC ? EXC_BP : (unsigned int)insn.imm,
				     SVM_EVENT_TYPE_SOFT, false, 0);
	return true;
}

bool nested_reflect_exit(struct vcpu *v)
{
	struct nested *n = &v->nested;
	const struct vmcb_control *c = &v->vmcb->control;
	uint64_t code = c->exit_code;
	struct guest_ram ram;

	switch (code) {
	/* Spec 4.1: physical events, L0's own NPT and failed VMRUNs of vmcb02 are L0's. */
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
	case SVM_EXIT_INIT:
	case SVM_EXIT_NPF:
	case SVM_EXIT_INVALID:
		return false;
	case SVM_EXIT_VINTR:
		if (v->l0_vintr_window)
			return false;
		break;
	/*
	 * Instructions L1's CPUID does not offer (the filter hides MONITOR/
	 * MWAIT, RDPRU and XSAVE): on such hardware they #UD before any
	 * intercept is checked (APM 15.7), so they are L0's to turn into #UD
	 * (which goes to L1 only if it intercepts #UD).
	 */
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
	case SVM_EXIT_MWAIT_CONDITIONAL:
	case SVM_EXIT_RDPRU:
	case SVM_EXIT_XSETBV:
		return false;
	case SVM_EXIT_IRET:
		if (v->nmi_masked && !nested_l1_intercepts(v, INTERCEPT_IRET))
			return false;
		break;
	case SVM_EXIT_MSR:
		/* APM 15.11: through L1's MSRPM; MSRs outside its ranges always exit. */
		ram = vcpu_guest_ram(v);
		if (!nested_l1_intercepts(v, INTERCEPT_MSR_PROT) ||
		    !nested_msr_intercepted(&ram, n->cache.msrpm_base_pa,
					    (uint32_t)v->regs.gpr[GPR_RCX],
					    c->exit_info1 == SVM_EXITINFO_MSR_WRITE))
			return false;
		nested_vmexit(v, code, c->exit_info1, c->exit_info2);
		return true;
	case SVM_EXIT_IOIO: {
		/* APM 15.10.2: every byte of the access, through L1's IOPM. */
		uint64_t info = c->exit_info1;
		unsigned int size = (info & SVM_IOIO_SZ32) ? 4 : (info & SVM_IOIO_SZ16) ? 2 : 1;

		ram = vcpu_guest_ram(v);
		if (!nested_l1_intercepts(v, INTERCEPT_IOIO_PROT) ||
		    !nested_io_intercepted(&ram, n->cache.iopm_base_pa,
					   (uint16_t)(info >> SVM_IOIO_PORT_SHIFT), size))
			return false;
		nested_vmexit(v, code, ioio_info_with_address_size(v, info), c->exit_info2);
		return true;
	}
	case SVM_EXIT_SWINT:
		if (!nested_l1_intercepts(v, INTERCEPT_INTN))
			return nested_int3_as_bp(v);
		break;
	}
	/* Otherwise the exit code is the intercept bit (spec 4.1). */
	if (code >= NR_INTERCEPT_BITS || !nested_l1_intercepts(v, (unsigned int)code))
		return false;
	nested_vmexit(v, code, c->exit_info1, c->exit_info2);
	return true;
}

/* APM 15.5.2: the state VMLOAD and VMSAVE move, with hidden segment parts. */
enum vcpu_action nested_vmload_vmsave(struct vcpu *v, bool load)
{
	struct guest_ram ram = vcpu_guest_ram(v);
	struct vmcb_save *cpu = &v->vmcb->save;
	struct vmcb_save *mem;

	if (svm_insn_faults(v, true))
		return VCPU_RESUME;
	mem = &((struct vmcb *)(ram.base + rax_operand(v)))->save;
	if (load) {
		copy_vmload_state(cpu, mem);
		/* The loaded bases are canonicalised (APM 15.5.2, VMLOAD). */
		cpu->fs.base = canonical_va(cpu->fs.base);
		cpu->gs.base = canonical_va(cpu->gs.base);
		cpu->tr.base = canonical_va(cpu->tr.base);
		cpu->ldtr.base = canonical_va(cpu->ldtr.base);
		cpu->kernel_gs_base = canonical_va(cpu->kernel_gs_base);
		cpu->lstar = canonical_va(cpu->lstar);
		cpu->cstar = canonical_va(cpu->cstar);
		cpu->sysenter_esp = canonical_va(cpu->sysenter_esp);
		cpu->sysenter_eip = canonical_va(cpu->sysenter_eip);
	} else {
		copy_vmload_state(mem, cpu);
	}
	return vcpu_complete_known_insn(v, load ? INSN_VMLOAD : INSN_VMSAVE);
}

/* APM 15.17: STGI/CLGI set and clear GIF; a pending event is taken right after STGI. */
enum vcpu_action nested_stgi_clgi(struct vcpu *v, bool set)
{
	if (svm_insn_faults(v, false))
		return VCPU_RESUME;
	vcpu_set_gif(v, set);
	/* An STGI intercepted only to open an NMI window (vGIF) has done its job. */
	if (!v->nested.in_l2)
		nested_svme_changed(v);
	return vcpu_complete_known_insn(v, set ? INSN_STGI : INSN_CLGI);
}

/*
 * APM 15.16.2: INVLPGA drops one translation of one ASID. Every nested
 * transition flushes the whole TLB (decision 6), so dropping everything
 * on the next entry is a correct superset.
 */
enum vcpu_action nested_invlpga(struct vcpu *v)
{
	if (svm_insn_faults(v, false))
		return VCPU_RESUME;
	v->vmcb->control.tlb_control = svm_tlb_flush_guest();
	return vcpu_complete_known_insn(v, INSN_INVLPGA);
}

/*
 * The CPU checks EFER.SVME and CPL before the VMRUN intercept (APM 15.5.1),
 * and vmcb01's EFER.SVME is always 1, so at CPL 3 an SVM instruction of an
 * L1 whose own SVME is 0 would raise #GP instead of #UD. While L1's SVME is
 * 0, #GP is intercepted so that the #UD it is owed can be given instead.
 */
void nested_svme_changed(struct vcpu *v)
{
	struct vmcb_control *c = &v->nested.vmcb01->control;

	if (v->nested.svme)
		vmcb_clear_intercept(c, INTERCEPT_EXCEPTION(EXC_GP));
	else
		vmcb_set_intercept(c, INTERCEPT_EXCEPTION(EXC_GP));
	/*
	 * APM 15.33.2: with hardware vGIF, L1's STGI/CLGI only flip V_GIF and
	 * need no exit. The CPU checks its own EFER.SVME (always 1) though, so
	 * while L1's SVME is 0 they stay intercepted to get their #UD.
	 */
	if (nested_hw_vgif() && v->nested.svme) {
		vmcb_clear_intercept(c, INTERCEPT_STGI);
		vmcb_clear_intercept(c, INTERCEPT_CLGI);
	} else {
		vmcb_set_intercept(c, INTERCEPT_STGI);
		vmcb_set_intercept(c, INTERCEPT_CLGI);
	}
}

bool nested_hw_vgif(void)
{
	return svm_host.caps.features & SVM_FEAT_VGIF;
}

enum vcpu_action nested_l1_gp(struct vcpu *v)
{
	struct insn insn;
	unsigned int len = vcpu_decode_insn(v, &insn);

	if (!len)
		return VCPU_STOP;
	/* VMRUN, VMMCALL... INVLPGA are 0F 01 D8-DF (APM vol. 3); VMMCALL is not an SVM-enable one.
	 */
	if (!v->nested.svme && insn.opcode_len == 3 && insn.opcode[0] == 0x0F &&
	    insn.opcode[1] == 0x01 && insn.opcode[2] >= 0xD8 && insn.opcode[2] <= 0xDF &&
	    insn.opcode[2] != 0xD9) {
		vcpu_inject_exception(v, EXC_UD, false, 0);
		return VCPU_RESUME;
	}
	vcpu_inject_exception(v, EXC_GP, true, (uint32_t)v->vmcb->control.exit_info1);
	return VCPU_RESUME;
}
