/*
 * nested_svme_clear: an L1 hypervisor lets its L2 write EFER (the MSR
 * intercept is on, but the MSRPM bits for EFER are clear) and the L2
 * clears EFER.SVME while it runs (attack-tests.md case 30, KVM's
 * svm_nested_clear_efer_svme). nestvisor treats that as undefined and
 * shuts L1 down (nested-svm.md decisions), so this guest must end as
 * 'shutdown'. Meant for nestvisor only: bare, QEMU lets L2 go on and this
 * guest bails out.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "tests/lib/guest.h"
#include "tests/lib/misbehave.h"
#include "tests/lib/svm.h"

static struct l2 l2;
static volatile unsigned int l2_step;

static void l2_clear_svme(void)
{
	l2_step = 1;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~(uint64_t)EFER_SVME);
	l2_step = 2;
}

void guest_main(struct tap *tap)
{
	uint64_t code;

	misbehave_begin(tap, "nested_svme_clear: about to let L2 clear EFER.SVME, EFER writes "
			     "not intercepted");
	if (!svm_enable())
		guest_bail_out("no SVM (CPUID 8000_0001 ECX[2])");
	svm_vmcb_init(&l2, l2_clear_svme);
	/* MSR_PROT on with the all-zero MSRPM: EFER reads and writes reach L2's EFER. */
	vmcb_set_intercept(&l2.vmcb.control, INTERCEPT_MSR_PROT);
	/* Bare, L2's closing VMMCALL raises #UD once SVME is clear: let that exit. */
	vmcb_set_intercept(&l2.vmcb.control, INTERCEPT_EXCEPTION(EXC_UD));
	vmcb_set_intercept(&l2.vmcb.control, INTERCEPT_SHUTDOWN);
	code = svm_run(&l2);
	guest_bail_out("L1 still running after L2 cleared EFER.SVME (exit 0x%lx, L2 step %u): "
		       "nestvisor should have shut L1 down",
		       code, l2_step);
}
