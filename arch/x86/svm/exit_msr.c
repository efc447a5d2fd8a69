/*
 * RDMSR/WRMSR of an L1 guest: the hardware side. What each MSR does is
 * decided by the pure policy in kernel/guest_msr.c; this adapter gives it
 * the TSC and host CPUID, turns a refusal into #GP(0) (APM vol. 3,
 * RDMSR/WRMSR), hands a read back in EDX:EAX and carries a new TSC_AUX
 * into the real MSR.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/svm/exits.h"
#include "arch/x86/svm/known_insn.h"
#include "arch/x86/svm/svm.h"
#include "arch/x86/svm/vcpu.h"
#include "kernel/guest.h"
#include "kernel/guest_msr.h"

/*
 * Host CPUID 8000_0001 EDX, read once: CPUID does not change, and under
 * another hypervisor every CPUID is an exit of its own.
 */
static uint32_t host_cpuid_ext_edx(void)
{
	static uint32_t edx;
	static bool read;

	if (!read) {
		edx = cpuid(0x80000001u, 0).edx;
		read = true;
	}
	return edx;
}

enum vcpu_action handle_msr(struct vcpu *v)
{
	uint64_t *r = v->regs.gpr;
	uint32_t msr = (uint32_t)r[GPR_RCX];
	bool write = v->vmcb->control.exit_info1 == SVM_EXITINFO_MSR_WRITE;
	uint64_t val = r[GPR_RDX] << 32 | (uint32_t)r[GPR_RAX];
	uint64_t old_tsc_aux = v->tsc_aux;
	struct guest_msr_ctx ctx = {
	    .vmcb = v->vmcb,
	    .host_tsc = rdtsc(),
	    .cpuid_ext_edx = host_cpuid_ext_edx(),
	    .tsc_aux = &v->tsc_aux,
	    .svm = true,
	    .in_l2 = v->nested.in_l2,
	    .svme = &v->nested.svme,
	    .hsave_pa = &v->nested.hsave_pa,
	    .vm_cr = &v->nested.vm_cr,
	    .phys_addr_bits = svm_host.phys_addr_bits,
	};

	/*
	 * L2 clearing its EFER.SVME is undefined (APM 15.5.1 requires it for
	 * the running guest): L1 is shut down rather than left half-nested.
	 */
	if (write && v->nested.in_l2 && msr == MSR_EFER && !(val & EFER_SVME)) {
		guest_stop(v->guest, GUEST_SHUTDOWN,
			   "L2 cleared EFER.SVME (undefined): L1 shut down");
		return VCPU_STOP;
	}

	if (write ? !guest_msr_write(&ctx, msr, val) : !guest_msr_read(&ctx, msr, &val)) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return VCPU_RESUME;
	}
	if (write && msr == MSR_EFER && !v->nested.in_l2)
		nested_svme_changed(v);
	if (write) {
		/*
		 * Only one guest runs at a time and vcpu_run() loads its TSC_AUX
		 * into the real MSR, which RDTSCP reads without an exit.
		 */
		if (v->tsc_aux != old_tsc_aux)
			wrmsr(MSR_TSC_AUX, v->tsc_aux);
	} else {
		r[GPR_RAX] = (uint32_t)val;
		r[GPR_RDX] = val >> 32;
	}
	return vcpu_complete_known_insn(v, write ? INSN_WRMSR : INSN_RDMSR);
}
