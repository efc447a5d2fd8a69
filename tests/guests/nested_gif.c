/*
 * nested_gif: the global interrupt flag (APM vol. 2 15.17 "Global
 * Interrupt Flag, STGI and CLGI Instructions", Table 15-10). With GIF = 0
 * the CPU holds INTR and NMI pending whatever RFLAGS.IF says; STGI lets
 * each through once. VMRUN sets GIF, #VMEXIT clears it (15.5.1, 15.6), so
 * an event that arrives between a #VMEXIT and L1's STGI waits for the STGI,
 * including the INTR or NMI that caused the #VMEXIT (15.21.2: the intercept
 * leaves the interrupt pending; KVM relies on the same for NMIs).
 *
 * The events are a fixed self-IPI through the xAPIC and an NMI to self.
 * Every wait is bounded by the TSC: a lost event is `not ok`, never a hang.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "kernel/console.h"
#include "kernel/kprintf.h"
#include "tests/lib/guest.h"
#include "tests/lib/irq.h"
#include "tests/lib/svm.h"
#include "tests/lib/svm_test.h"
#include "tests/lib/xapic.h"

#define SPURIOUS_VECTOR 0xFF
#define IPI_VECTOR	0x61
/* Long enough to see an event that should not come (tens of ms under TCG). */
#define QUIET_TSC 50000000ull

static struct l2 l2;
static volatile unsigned int l2_steps;

static void l2_vmmcall_now(void)
{
	l2_steps++;
}

static bool send_self_ipi(void)
{
	return xapic_send_ipi(0, IPI_VECTOR | APIC_ICR_FIXED | APIC_ICR_ASSERT | APIC_ICR_SELF);
}

static bool send_self_nmi(void)
{
	return xapic_send_ipi((uint8_t)xapic_id(), APIC_ICR_NMI | APIC_ICR_ASSERT);
}

static void reset_counts(void)
{
	irq_count_reset(IPI_VECTOR);
	irq_count_reset(EXC_NMI);
}

/*
 * With GIF = 0 and RFLAGS.IF = 1: wait a quiet window and report whether
 * nothing was delivered and the IPI sits in the IRR. Leaves IF = 1.
 */
static bool held_while_gif0(void)
{
	bool held;

	sti();
	tsc_delay(QUIET_TSC);
	held = irq_count(IPI_VECTOR) == 0 && irq_count(EXC_NMI) == 0 &&
	       xapic_vector_set(APIC_IRR, IPI_VECTOR);
	if (!held)
		kprintf("# while GIF=0: %u IPIs, %u NMIs, IRR bit %d\n", irq_count(IPI_VECTOR),
			irq_count(EXC_NMI), xapic_vector_set(APIC_IRR, IPI_VECTOR));
	return held;
}

/*
 * STGI with IF = 1, then wait for want_ipi IPIs and want_nmi NMIs and a
 * quiet window after them; true if exactly those came.
 */
static bool delivered_once_after_stgi(unsigned int want_ipi, unsigned int want_nmi)
{
	bool ok;

	sti();
	stgi();
	irq_poll(IPI_VECTOR, want_ipi, IRQ_WAIT_TSC);
	irq_poll(EXC_NMI, want_nmi, IRQ_WAIT_TSC);
	tsc_delay(QUIET_TSC);
	cli();
	ok = irq_count(IPI_VECTOR) == want_ipi && irq_count(EXC_NMI) == want_nmi &&
	     !xapic_vector_set(APIC_IRR, IPI_VECTOR);
	if (!ok)
		kprintf("# after STGI: %u IPIs (want %u), %u NMIs (want %u)\n",
			irq_count(IPI_VECTOR), want_ipi, irq_count(EXC_NMI), want_nmi);
	return ok;
}

/* Table 15-10: GIF = 0 holds INTR (even with IF = 1) and NMI; STGI releases them. */
static void test_clgi_stgi(struct tap *tap)
{
	bool sent, held;

	cli();
	reset_counts();
	clgi();
	sent = send_self_ipi() && send_self_nmi();
	held = held_while_gif0();
	tap_check(tap, sent && held,
		  "CLGI, IF=1: a self-IPI and an NMI to self stay pending for a quiet window");
	tap_check(tap, delivered_once_after_stgi(1, 1),
		  "STGI: the IPI and the NMI are each delivered exactly once");
}

/* 15.6: #VMEXIT clears GIF, so L1 runs with GIF = 0 until its STGI. */
static void test_gif0_after_vmexit(struct tap *tap)
{
	uint64_t code;
	bool sent, held;

	cli();
	reset_counts();
	l2_steps = 0;
	svm_vmcb_init(&l2, l2_vmmcall_now);
	stgi();
	code = svm_run_raw(&l2);
	sent = send_self_ipi() && send_self_nmi();
	held = held_while_gif0();
	tap_check(tap, code == SVM_EXIT_VMMCALL && l2_steps == 1 && sent && held,
		  "VMRUN with GIF=1, L2 VMMCALLs: after #VMEXIT GIF=0 holds a new IPI and NMI "
		  "(exit 0x%lx)",
		  code);
	tap_check(tap, delivered_once_after_stgi(1, 1),
		  "... STGI after the #VMEXIT: each is delivered exactly once");
}

/*
 * A VMRUN that fails its consistency checks (ASID 0, APM 15.5.1) ends in
 * #VMEXIT(VMEXIT_INVALID), which clears GIF like any #VMEXIT (decision 2;
 * KVM missed this until f85a6ce06e4a).
 */
static void test_gif0_after_failed_vmrun(struct tap *tap)
{
	uint64_t code;
	bool sent, held;

	cli();
	reset_counts();
	l2_steps = 0;
	svm_vmcb_init(&l2, l2_vmmcall_now);
	l2.vmcb.control.asid = 0;
	stgi();
	code = svm_run_raw(&l2);
	sent = send_self_ipi() && send_self_nmi();
	held = held_while_gif0();
	tap_check(tap, svm_exit_is_invalid(code) && l2_steps == 0 && sent && held,
		  "VMRUN with ASID 0 fails (exit 0x%lx), and GIF=0 holds a new IPI and NMI", code);
	tap_check(tap, delivered_once_after_stgi(1, 1),
		  "... STGI after the failed VMRUN: each is delivered exactly once");
}

/*
 * An IPI pending at VMRUN (held by GIF = 0, IF = 1) with the INTR
 * intercept: VMRUN sets GIF, the interrupt is recognised before L2's first
 * instruction and exits (15.21.2). The #VMEXIT clears GIF again, so L1
 * does not take the still-pending interrupt until STGI.
 */
static void test_intr_intercept(struct tap *tap)
{
	uint64_t code;
	bool sent, held;

	cli();
	reset_counts();
	l2_steps = 0;
	svm_vmcb_init(&l2, l2_vmmcall_now);
	vmcb_set_intercept(&l2.vmcb.control, INTERCEPT_INTR);
	clgi();
	sent = send_self_ipi();
	sti();
	code = svm_run_raw(&l2);
	held = held_while_gif0();
	tap_check(tap, sent && code == SVM_EXIT_INTR && l2_steps == 0 && held,
		  "IPI pending at VMRUN, INTR intercepted: #VMEXIT(INTR) before L2 runs, then held "
		  "by GIF=0 (exit 0x%lx, L2 steps %u)",
		  code, l2_steps);
	tap_check(tap, delivered_once_after_stgi(1, 0), "... STGI: L1 takes the IPI exactly once");
}

/* The same for an NMI and the NMI intercept. */
static void test_nmi_intercept(struct tap *tap)
{
	uint64_t code;
	bool sent, held;

	cli();
	reset_counts();
	l2_steps = 0;
	svm_vmcb_init(&l2, l2_vmmcall_now);
	vmcb_set_intercept(&l2.vmcb.control, INTERCEPT_NMI);
	clgi();
	sent = send_self_nmi();
	code = svm_run_raw(&l2);
	tsc_delay(QUIET_TSC);
	held = irq_count(EXC_NMI) == 0;
	tap_check(tap, sent && code == SVM_EXIT_NMI && l2_steps == 0 && held,
		  "NMI pending at VMRUN, NMI intercepted: #VMEXIT(NMI) before L2 runs, then held "
		  "by GIF=0 (exit 0x%lx, L2 steps %u, %u NMIs)",
		  code, l2_steps, irq_count(EXC_NMI));
	tap_check(tap, delivered_once_after_stgi(0, 1), "... STGI: L1 takes the NMI exactly once");
}

/* Nothing else arrived: every event above was one of ours. */
static void test_no_spurious(struct tap *tap)
{
	tap_check(tap, irq_count(SPURIOUS_VECTOR) == 0, "no spurious interrupts (%u)",
		  irq_count(SPURIOUS_VECTOR));
}

#define NR_TESTS 11

void guest_main(struct tap *tap)
{
	tap_plan(tap, NR_TESTS);
	if (!svm_enable())
		guest_bail_out("no SVM");
	kprintf("# VGIF %s\n",
		cpuid(0x8000000Au, 0).edx & CPUID_SVM_EDX_VGIF ? "offered" : "absent");
	xapic_init(SPURIOUS_VECTOR);
	irq_count_install(IPI_VECTOR, true);
	irq_count_install(EXC_NMI, false);
	irq_count_install(SPURIOUS_VECTOR, false);
	test_clgi_stgi(tap);
	test_gif0_after_vmexit(tap);
	test_gif0_after_failed_vmrun(tap);
	test_intr_intercept(tap);
	test_nmi_intercept(tap);
	test_no_spurious(tap);
	cli();
	stgi();
}
