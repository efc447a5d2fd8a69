/*
 * nested_demo: what `make run` shows of nested SVM. An L1 hypervisor runs
 * an L2 that does some work and VMMCALLs, then tries a VMCB12 that breaks
 * one consistency check (CR0.CD=0 with CR0.NW=1, APM 15.5.1) while a
 * self-IPI is pending: the VMRUN fails with the minimal #VMEXIT, GIF is 0,
 * so the interrupt waits for STGI. Each step prints what it saw.
 */
#include "arch/x86/cpu.h"
#include "kernel/console.h"
#include "tests/lib/guest.h"
#include "tests/lib/irq.h"
#include "tests/lib/svm.h"
#include "tests/lib/xapic.h"

#define DEMO_VECTOR 0x51
#define WAIT_TSC    20000000ull

static struct l2 l2;
static volatile uint64_t l2_sum;

static void l2_main(void)
{
	for (uint64_t i = 1; i <= 100; i++)
		l2_sum += i;
	asm volatile("vmmcall" ::: "memory");
}

void guest_main(struct tap *tap)
{
	uint64_t code;
	bool early, late;

	tap_plan(tap, 6);
	if (!tap_check(tap, svm_enable(), "L1: SVM offered, EFER.SVME set"))
		guest_bail_out("no SVM");
	svm_vmcb_init(&l2, l2_main);
	code = svm_run(&l2);
	kprintf("# L1: VMRUN of an L2; it summed 1..100 = %lu and left with #VMEXIT 0x%lx\n",
		l2_sum, code);
	tap_check(tap, code == SVM_EXIT_VMMCALL && l2_sum == 5050,
		  "L2 ran and its VMMCALL came back to L1 as #VMEXIT(VMMCALL)");

	xapic_init(0xFF);
	irq_count_install(DEMO_VECTOR, true);
	svm_vmcb_init(&l2, l2_main);
	l2.vmcb.save.cr0 = (l2.vmcb.save.cr0 & ~(uint64_t)CR0_CD) | CR0_NW;
	/* Pending in the IRR while IF=0; only GIF decides after the VMRUN. */
	xapic_send_ipi(0, APIC_ICR_SELF | APIC_ICR_FIXED | DEMO_VECTOR);
	stgi();
	code = svm_run_raw(&l2);
	kprintf(
	    "# L1: VMRUN with CR0.CD=0, CR0.NW=1: EXITCODE 0x%lx EXITINFO1 0x%lx EXITINFO2 0x%lx\n",
	    code, l2.vmcb.control.exit_info1, l2.vmcb.control.exit_info2);
	/* QEMU (bare) writes the 32-bit -1 zero-extended; nestvisor all 64 bits. */
	tap_check(tap,
		  (under_nestvisor() ? code == SVM_EXIT_INVALID : (uint32_t)code == 0xFFFFFFFFu) &&
		      !l2.vmcb.control.exit_info1 && !l2.vmcb.control.exit_info2,
		  "the VMRUN failed: #VMEXIT(INVALID), EXITINFO1 = EXITINFO2 = 0");
	irq_window(WAIT_TSC);
	early = irq_count(DEMO_VECTOR) == 0;
	kprintf("# L1: interrupts enabled, GIF=0: the pending IPI was %s\n",
		early ? "held" : "delivered (wrong)");
	tap_check(tap, early, "GIF is 0 after the failed VMRUN: the pending IPI is held");
	stgi();
	late = irq_wait(DEMO_VECTOR, 1, WAIT_TSC);
	kprintf("# L1: STGI: the IPI arrived %u time(s)\n", irq_count(DEMO_VECTOR));
	tap_check(tap, late && irq_count(DEMO_VECTOR) == 1,
		  "after STGI it is delivered exactly once");
	tap_check(tap, l2_sum == 5050, "L2 never ran from the failed VMCB12");
}
