/*
 * nested_misc: smaller VMRUN rules that the other nested guests do not
 * cover. RFLAGS.TF at VMRUN: the single-step trap of VMRUN completes after
 * the #VMEXIT, failed or not (APM 15.5.1 "VMRUN and TF/RF Bits", spec
 * decision 2). What CPUID 8000_000A offers L1 under nestvisor, and that an
 * NP_ENABLE L1 sets without nested paging offered is ignored, as hardware
 * without the feature ignores it (decision 7).
 */
#include "arch/x86/cpu.h"
#include "arch/x86/extable.h"
#include "arch/x86/idt.h"
#include "kernel/console.h"
#include "tests/lib/guest.h"
#include "tests/lib/svm.h"

#define DR6_BS (1ull << 14)

static struct l2 l2;
static volatile unsigned int db_count;
static volatile uint64_t db_rip, db_dr6;
static volatile unsigned int l2_steps;

/* A #DB trap: note where it landed, then stop single-stepping. */
static void db_handler(struct exc_frame *f)
{
	uint64_t dr6;

	asm volatile("mov %%dr6, %0" : "=r"(dr6));
	db_count++;
	db_rip = f->rip;
	db_dr6 = dr6;
	f->rflags &= ~(uint64_t)RFLAGS_TF;
}

static void l2_main(void)
{
	l2_steps++;
}

static volatile uint64_t l2_monitor_fault;

/* MONITOR under a fixup: 0, or EXTABLE_FAULTED | vector (L2 shares L1's IDT). */
static void l2_monitor(void)
{
	uint64_t fault;

	asm volatile("xor %%edi, %%edi\n\t"
		     "xor %%ecx, %%ecx\n\t"
		     "xor %%edx, %%edx\n\t"
		     "movq %1, %%rax\n\t"
		     "1: monitor\n\t"
		     "2:\n\t" EXTABLE_ENTRY_1_2
		     : "=&D"(fault)
		     : "r"(&l2_steps)
		     : "rax", "rcx", "rdx", "memory");
	l2_monitor_fault = fault;
}

/* VMRUN with TF set by the POPF right before it; returns the RIP after VMRUN. */
static uint64_t vmrun_with_tf(void)
{
	uint64_t after;

	/*
	 * L2 runs on L1's registers (VMRUN switches only RAX/RSP): all are
	 * clobbered, RBP too, which the compiler cannot be told about, so it
	 * is saved around the VMRUN (as svm_run_raw does).
	 */
	asm volatile("xor %%edx, %%edx\n\t"
		     "mov %%rdx, %%dr6\n\t"
		     "leaq 1f(%%rip), %%rdx\n\t"
		     "movq %%rdx, %0\n\t"
		     "push %%rbp\n\t"
		     "pushfq\n\t"
		     "orq $0x100, (%%rsp)\n\t"
		     "popfq\n\t"
		     "vmrun\n"
		     "1:\n\t"
		     "pop %%rbp"
		     : "=m"(after)
		     : "a"(&l2.vmcb)
		     : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
		       "r14", "r15", "memory", "cc");
	stgi();
	return after;
}

static void tf_case(struct tap *tap, const char *name, bool fail, const char *qemu_deviation)
{
	uint64_t after;
	bool ok;

	svm_vmcb_init(&l2, l2_main);
	if (fail)
		l2.vmcb.control.asid = 0; /* check C15: VMRUN fails */
	db_count = 0;
	db_rip = 0;
	after = vmrun_with_tf();
	ok = db_count == 1 && db_rip == after && (db_dr6 & DR6_BS);
	kprintf("# %s: %u #DB at 0x%lx (after VMRUN: 0x%lx), DR6 0x%lx, exit 0x%lx\n", name,
		db_count, db_rip, after, db_dr6, l2.vmcb.control.exit_code);
	if (!under_nestvisor() && qemu_deviation && !ok)
		tap_skip(tap, qemu_deviation, "%s", name);
	else
		tap_check(tap, ok, "%s", name);
}

void guest_main(struct tap *tap)
{
	struct cpuid_regs svm;

	tap_plan(tap, 5);
	if (!svm_enable())
		guest_bail_out("no SVM");
	idt_set_handler(EXC_DB, db_handler);

	tf_case(tap, "TF at a failing VMRUN: one #DB right after it, DR6.BS set", true,
		"QEMU deviation: the #DB comes one instruction late (APM 15.5.1)");
	tf_case(tap, "TF at a VMRUN that runs L2: one #DB after the #VMEXIT, past the VMRUN", false,
		"QEMU deviation: the #DB comes one instruction late (APM 15.5.1)");
	idt_set_handler(EXC_DB, 0);

	/*
	 * APM 15.7: an instruction the CPU does not offer #UDs before any
	 * intercept is checked; one it offers exits when L1 intercepts it.
	 * nestvisor's CPUID hides MONITOR, QEMU's -cpu max shows it.
	 */
	{
		bool has_monitor = cpuid(1, 0).ecx & (1u << 3);
		uint64_t code;

		svm_vmcb_init(&l2, l2_monitor);
		vmcb_set_intercept(&l2.vmcb.control, INTERCEPT_MONITOR);
		l2_monitor_fault = ~0ull;
		code = svm_run(&l2);
		tap_check(
		    tap,
		    has_monitor ? code == SVM_EXIT_MONITOR
				: code == SVM_EXIT_VMMCALL &&
				      l2_monitor_fault == (EXTABLE_FAULTED | EXC_UD),
		    "L2 MONITOR with L1 intercepting it: #VMEXIT if CPUID offers it, else #UD "
		    "(%s; exit 0x%lx)",
		    has_monitor ? "offered" : "not offered", code);
	}

	/* Decision 7: nestvisor offers L1 no optional SVM feature yet (no NPT, NRIPS, vGIF ...). */
	svm = cpuid(0x8000000Au, 0);
	if (nestvisor_only(tap, "CPUID 8000_000A: revision 1, ASIDs, no optional features"))
		tap_check(tap, (svm.eax & 0xFF) == 1 && svm.ebx >= 1 && svm.edx == 0,
			  "CPUID 8000_000A: revision 1, ASIDs, no optional features (EDX 0x%x)",
			  svm.edx);

	/*
	 * NP_ENABLE without NPT in CPUID is ignored (spec 1.2, removed KVM
	 * check P14): L2 runs on L1's own tables despite a garbage nCR3.
	 * Bare QEMU offers NPT, so there the bit would take effect.
	 */
	if (nestvisor_only(tap, "NP_ENABLE while NPT is not offered: ignored, L2 runs")) {
		uint64_t code;

		svm_vmcb_init(&l2, l2_main);
		l2.vmcb.control.misc_ctl |= VMCB_MISC_NP_ENABLE;
		l2.vmcb.control.n_cr3 = 0xFFFFF000;
		l2_steps = 0;
		code = svm_run(&l2);
		tap_check(tap, code == SVM_EXIT_VMMCALL && l2_steps == 1,
			  "NP_ENABLE while NPT is not offered: ignored, L2 runs (exit 0x%lx)",
			  code);
	}
}
