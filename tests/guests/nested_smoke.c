/*
 * nested_smoke: the smallest L1 hypervisor: VMRUN an L2 that executes
 * VMMCALL, check the #VMEXIT, resume it, and let it finish. A first check
 * of tests/lib/svm.c; the nested_* guests test the details.
 */
#include "arch/x86/cpu.h"
#include "tests/lib/guest.h"
#include "tests/lib/svm.h"

static struct l2 l2;
static volatile unsigned int l2_steps;

static void l2_main(void)
{
	l2_steps = 1;
	asm volatile("vmmcall" ::: "memory");
	l2_steps = 2;
}

void guest_main(struct tap *tap)
{
	uint64_t code;

	tap_plan(tap, 4);
	if (!tap_check(tap, svm_enable(), "CPUID offers SVM and EFER.SVME sets"))
		guest_bail_out("no SVM");
	svm_vmcb_init(&l2, l2_main);
	code = svm_run(&l2);
	tap_check(tap, code == SVM_EXIT_VMMCALL && l2_steps == 1,
		  "L2 VMMCALL exits to L1 (exit code 0x%lx, step %u)", code, l2_steps);
	svm_skip(&l2, 3);
	code = svm_run(&l2);
	tap_check(tap, code == SVM_EXIT_VMMCALL && l2_steps == 2,
		  "L2 resumes after VMMCALL and returns (exit code 0x%lx, step %u)", code,
		  l2_steps);
	tap_check(tap, l2.vmcb.save.rip != 0 && l2.vmcb.control.exit_info1 == 0,
		  "EXITINFO1 is 0 for VMMCALL");
}
