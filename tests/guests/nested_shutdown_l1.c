/*
 * nested_shutdown_l1: an L1 hypervisor that does NOT intercept SHUTDOWN
 * runs an L2 that triple-faults (an empty IDT, then UD2: #UD, #GP and #DF
 * find no gate). Without the intercept the shutdown is L1's own
 * (attack-tests.md case 27, CVE-2022-3344): nestvisor must end this guest
 * as 'shutdown' and carry on with the next one. Meant for nestvisor only:
 * bare, QEMU resets (and, with -no-reboot, exits without a status).
 */
#include "arch/x86/cpu.h"
#include "tests/lib/guest.h"
#include "tests/lib/misbehave.h"
#include "tests/lib/svm.h"

static struct l2 l2;

static void l2_triple_fault(void)
{
	asm volatile("ud2");
}

void guest_main(struct tap *tap)
{
	uint64_t code;

	misbehave_begin(tap, "nested_shutdown_l1: about to run an L2 that triple-faults, "
			     "SHUTDOWN not intercepted");
	if (!svm_enable())
		guest_bail_out("no SVM (CPUID 8000_0001 ECX[2])");
	svm_vmcb_init(&l2, l2_triple_fault);
	l2.vmcb.save.idtr.limit = 0;
	code = svm_run(&l2);
	guest_bail_out("L1 still running after L2's triple fault without a SHUTDOWN intercept "
		       "(exit 0x%lx): L1 should have shut down",
		       code);
}
