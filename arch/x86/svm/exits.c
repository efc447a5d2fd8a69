/*
 * #VMEXIT dispatch for L1 guests: a table over normalised exit codes (NPF
 * and VMEXIT_INVALID get dense slots at the end, as NOVA does), and a
 * default that dumps the VMCB and stops the guest (STYLE H11). Nothing a
 * guest can cause panics the host.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/svm/exits.h"
#include "arch/x86/svm/known_insn.h"
#include "arch/x86/svm/svm.h"
#include "arch/x86/svm/vcpu.h"
#include "kernel/console.h"
#include "kernel/guest.h"
#include "kernel/guest_cpuid.h"
#include "kernel/time.h"

#define EXIT_SLOT_NPF	  0x100
#define EXIT_SLOT_INVALID 0x101
#define NR_EXIT_SLOTS	  0x102

static unsigned int exit_slot(uint64_t code)
{
	if (code < 0x100)
		return (unsigned int)code;
	if (code == SVM_EXIT_NPF)
		return EXIT_SLOT_NPF;
	if (code == SVM_EXIT_INVALID)
		return EXIT_SLOT_INVALID;
	return NR_EXIT_SLOTS;
}

static enum vcpu_action handle_cpuid(struct vcpu *v)
{
	uint64_t *r = v->regs.gpr;
	uint32_t leaf = (uint32_t)r[GPR_RAX], subleaf = (uint32_t)r[GPR_RCX];
	struct guest_cpuid_policy policy = {
	    .advertise_svm = true,
	    .svm_features = 0, /* nested_advertised: no optional SVM feature yet */
	    .svm_nr_asids = NESTED_NR_ASIDS,
	    .guest_cr4 = (uint32_t)v->vmcb->save.cr4,
	};
	struct cpuid_regs out = guest_cpuid(&policy, leaf, subleaf, cpuid(leaf, subleaf),
					    svm_host.max_basic_leaf, svm_host.max_ext_leaf);

	r[GPR_RAX] = out.eax;
	r[GPR_RBX] = out.ebx;
	r[GPR_RCX] = out.ecx;
	r[GPR_RDX] = out.edx;
	return vcpu_complete_known_insn(v, INSN_CPUID);
}

/*
 * HLT: the guest sleeps until an interrupt it can take. L0 waits for the
 * virtual timer (or the budget) on its behalf; with nothing that could
 * ever wake it, the guest is stopped instead of burning its whole budget.
 */
static enum vcpu_action handle_hlt(struct vcpu *v)
{
	struct guest *g = v->guest;
	bool interruptible = (v->vmcb->save.rflags & RFLAGS_IF) && vcpu_gif(v);

	if (vcpu_complete_known_insn(v, INSN_HLT) == VCPU_STOP)
		return VCPU_STOP;
	for (;;) {
		uint64_t now = rdtsc();

		vlapic_update_timer(&v->lapic, now);
		if ((v->lapic.nmi_pending && vcpu_gif(v)) || v->pending_event ||
		    vcpu_irq_can_wake(v))
			return VCPU_RESUME;
		if (now >= g->deadline_tsc)
			return VCPU_RESUME; /* the run loop reports the timeout */
		if (!interruptible || vlapic_timer_deadline(&v->lapic) == UINT64_MAX) {
			guest_stop(g, GUEST_HALTED, "HLT with %s and nothing pending or armed",
				   !vcpu_gif(v)	   ? "GIF clear"
				   : interruptible ? "no timer"
						   : "interrupts masked");
			return VCPU_STOP;
		}
		asm volatile("pause");
	}
}

static enum vcpu_action handle_shutdown(struct vcpu *v)
{
	/* APM 15.11: a triple fault or other shutdown condition of the guest. */
	guest_stop(v->guest, GUEST_SHUTDOWN, "shutdown (triple fault) at rip 0x%lx",
		   v->vmcb->save.rip);
	return VCPU_STOP;
}

/* A physical interrupt or NMI ended the run; the host took it at STGI. */
static enum vcpu_action handle_host_event(struct vcpu *v)
{
	(void)v;
	return VCPU_RESUME;
}

/* The guest can now take the interrupt it was waiting for; the loop injects it. */
static enum vcpu_action handle_vintr(struct vcpu *v)
{
	(void)v;
	return VCPU_RESUME;
}

static enum vcpu_action handle_iret(struct vcpu *v)
{
	/* The IRET has not run yet: NMIs unmask only after the next #VMEXIT. */
	vmcb_clear_intercept(&v->vmcb->control, INTERCEPT_IRET);
	v->nmi_iret_seen = true;
	return VCPU_RESUME;
}

/* #AC and #DB are intercepted only to keep them from looping in microcode. */
static enum vcpu_action handle_reflect_exception(struct vcpu *v)
{
	unsigned int vector = (unsigned int)(v->vmcb->control.exit_code - SVM_EXIT_EXCP_BASE);

	/* APM 8.2: #AC pushes an error code (always 0), #DB none. */
	vcpu_inject_exception(v, vector, vector == EXC_AC, 0);
	return VCPU_RESUME;
}

static enum vcpu_action handle_machine_check(struct vcpu *v)
{
	guest_stop(v->guest, GUEST_STOPPED, "machine check while the guest ran (rip 0x%lx)",
		   v->vmcb->save.rip);
	return VCPU_STOP;
}

/* #UD for instructions the guest's CPUID does not offer (SKINIT, XSETBV, MONITOR ...). */
static enum vcpu_action handle_ud(struct vcpu *v)
{
	vcpu_inject_exception(v, EXC_UD, false, 0);
	return VCPU_RESUME;
}

/* INVD would drop dirty lines of memory other guests own: do a no-op. */
static enum vcpu_action handle_invd(struct vcpu *v)
{
	return vcpu_complete_insn(v);
}

/*
 * VMMCALL is nestvisor's hypercall (RAX = function, result in RAX):
 * 0 answers 0, the cheapest round trip (bench); 1 answers the number of
 * #VMEXITs this guest has caused so far (bench_nested counts L0 exits per
 * nested round trip with it). Others answer -1.
 */
#define HYPERCALL_NOP	     0
#define HYPERCALL_EXIT_COUNT 1

static enum vcpu_action handle_vmmcall(struct vcpu *v)
{
	uint64_t *rax = &v->regs.gpr[GPR_RAX];

	/* APM 15.18: VMMCALL that L1 does not intercept is #UD in L2 (CVE-2026-46076). */
	if (v->nested.in_l2)
		return handle_ud(v);

	*rax = *rax == HYPERCALL_NOP ? 0 : *rax == HYPERCALL_EXIT_COUNT ? v->nr_exits : ~0ull;
	return vcpu_complete_known_insn(v, INSN_VMMCALL);
}

static enum vcpu_action handle_vmrun(struct vcpu *v)
{
	/* L1 must intercept VMRUN (check C14), so L2's VMRUN never gets here. */
	return nested_vmrun(v);
}

static enum vcpu_action handle_vmload(struct vcpu *v)
{
	return nested_vmload_vmsave(v, true);
}

static enum vcpu_action handle_vmsave(struct vcpu *v)
{
	return nested_vmload_vmsave(v, false);
}

static enum vcpu_action handle_stgi(struct vcpu *v)
{
	return nested_stgi_clgi(v, true);
}

static enum vcpu_action handle_clgi(struct vcpu *v)
{
	return nested_stgi_clgi(v, false);
}

static enum vcpu_action handle_invlpga(struct vcpu *v)
{
	return nested_invlpga(v);
}

static enum vcpu_action handle_invalid(struct vcpu *v)
{
	/* Decision 9: L0 built this VMCB; a failed VMRUN is nestvisor's bug. */
	kprintf("nestvisor: VMRUN of %s failed (VMEXIT_INVALID): bug in L0's VMCB\n",
		v->guest->name);
	vcpu_dump(v);
	guest_stop(v->guest, GUEST_STOPPED, "VMRUN failed (VMEXIT_INVALID), see the VMCB dump");
	return VCPU_STOP;
}

static const char *exit_name(uint64_t code)
{
	const char *name = svm_exit_name(code);

	return name ? name : "unnamed";
}

static enum vcpu_action handle_unexpected(struct vcpu *v)
{
	kprintf("nestvisor: %s: unexpected #VMEXIT 0x%lx (%s)\n", v->guest->name,
		v->vmcb->control.exit_code, exit_name(v->vmcb->control.exit_code));
	vcpu_dump(v);
	guest_stop(v->guest, GUEST_STOPPED, "unexpected #VMEXIT 0x%lx (%s)",
		   v->vmcb->control.exit_code, exit_name(v->vmcb->control.exit_code));
	return VCPU_STOP;
}

static enum vcpu_action (*const exit_handlers[NR_EXIT_SLOTS])(struct vcpu *) = {
    [SVM_EXIT_EXCP_BASE + EXC_DB] = handle_reflect_exception,
    [SVM_EXIT_EXCP_BASE + EXC_AC] = handle_reflect_exception,
    [SVM_EXIT_EXCP_BASE + EXC_MC] = handle_machine_check,
    [SVM_EXIT_EXCP_BASE + EXC_GP] = nested_l1_gp,
    [SVM_EXIT_INTR] = handle_host_event,
    [SVM_EXIT_NMI] = handle_host_event,
    [SVM_EXIT_SMI] = handle_host_event,
    [SVM_EXIT_INIT] = handle_host_event,
    [SVM_EXIT_VINTR] = handle_vintr,
    [SVM_EXIT_CPUID] = handle_cpuid,
    [SVM_EXIT_IRET] = handle_iret,
    [SVM_EXIT_INVD] = handle_invd,
    [SVM_EXIT_HLT] = handle_hlt,
    [SVM_EXIT_INVLPGA] = handle_invlpga,
    [SVM_EXIT_IOIO] = handle_ioio,
    [SVM_EXIT_MSR] = handle_msr,
    [SVM_EXIT_SHUTDOWN] = handle_shutdown,
    [SVM_EXIT_VMRUN] = handle_vmrun,
    [SVM_EXIT_VMMCALL] = handle_vmmcall,
    [SVM_EXIT_VMLOAD] = handle_vmload,
    [SVM_EXIT_VMSAVE] = handle_vmsave,
    [SVM_EXIT_STGI] = handle_stgi,
    [SVM_EXIT_CLGI] = handle_clgi,
    [SVM_EXIT_SKINIT] = handle_ud,
    [SVM_EXIT_MONITOR] = handle_ud,
    [SVM_EXIT_MWAIT] = handle_ud,
    [SVM_EXIT_XSETBV] = handle_ud,
    [SVM_EXIT_RDPRU] = handle_ud,
    [EXIT_SLOT_NPF] = handle_npf,
    [EXIT_SLOT_INVALID] = handle_invalid,
};

enum vcpu_action vcpu_handle_exit(struct vcpu *v)
{
	unsigned int slot = exit_slot(v->vmcb->control.exit_code);
	enum vcpu_action act;

	/* Spec 4.1 (Xen's pre-filter): an L2 exit L1 intercepts goes to L1. */
	if (v->nested.in_l2 && nested_reflect_exit(v))
		return v->stopped ? VCPU_STOP : VCPU_RESUME;
	if (slot < NR_EXIT_SLOTS && exit_handlers[slot])
		act = exit_handlers[slot](v);
	else
		act = handle_unexpected(v);
	return v->stopped ? VCPU_STOP : act;
}
