/*
 * nested_attacks: the cases of shared/spec/attack-tests.md that an L1 and
 * an L2 can play without nested paging, each with its architectural
 * outcome (numbers are the catalogue's):
 *  7/26 TOCTOU: L2 rewrites its own VMCB12 (it shares L1's mapping) to
 *       clear the VMRUN intercept, zero the ASID or set int_ctl and the
 *       map bases, then executes VMRUN: #VMEXIT(VMRUN) to L1, never a
 *       nested VMRUN. The #VMEXIT writes no intercepts, so L1 then finds
 *       L2's write in VMCB12 (its own VMRUN of it is INVALID); repaired, L2
 *       resumes after its VMRUN.
 *  26   L2 VMLOAD, VMSAVE, SKINIT under L1's intercepts: reflected, and
 *       the instruction had no effect.
 *  18   Unsupported-feature bits (int_ctl = ~0 with AVIC/x2AVIC/vNMI/vGIF,
 *       SEV bits, LBR and virtual VMLOAD/VMSAVE): ignored, L2 runs.
 *  15   EVENTINJ reserved bits 30:12 are ignored: the event is delivered.
 *  17   Reserved TLB_CONTROL encodings: L2 runs.
 *  27   L2 triple fault under L1's SHUTDOWN intercept: #VMEXIT(SHUTDOWN),
 *       L1 carries on. (Without the intercept L1 itself shuts down:
 *       nested_shutdown_l1.)
 *  28   Exception storms L1 does not intercept: #AC from CPL-3 misaligned
 *       accesses under CR0.AM/RFLAGS.AC, and TF single-stepping, each
 *       handled by L2 a bounded number of times: L2 completes.
 *  29   An exit loop: L2 runs CPUID 100000 times (option exit_loops=N)
 *       under L1's CPUID intercept: L2 completes.
 *  6    VMCB12 at the VM_HSAVE_PA page: a deterministic outcome.
 *  37   Interrupt shadow: an exit on the instruction after STI or MOV SS
 *       shows int_state.SHADOW = 1, and L2 resumes.
 * (30, L2 clearing EFER.SVME, ends L1: nested_svme_clear.)
 *
 * An L2 that should exit but does not is stopped by a watchdog (the APIC
 * timer forces INTR exits so that L1 can enforce a TSC budget), so every
 * case ends.
 */
#include <stddef.h>
#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "arch/x86/idt.h"
#include "kernel/console.h"
#include "kernel/kprintf.h"
#include "kernel/kstring.h"
#include "tests/lib/fault.h"
#include "tests/lib/guest.h"
#include "tests/lib/irq.h"
#include "tests/lib/svm.h"
#include "tests/lib/svm_checks.h"
#include "tests/lib/xapic.h"

#define NR_TESTS 28

/* Budgets in TSC ticks: generous for nested TCG, still an end. */
#define RUN_BUDGET	 20000000000ull
#define EXIT_LOOP_BUDGET 400000000000ull

#define INTR_VECTOR   0x70
#define V_INTR_VECTOR 0x72
#define GP_ERROR_CODE 0x1234

#define AC_ROUNDS 200
#define TF_LOOPS  1000
/* #DB traps in the stepped sequence: MOV, DEC/JNZ per loop, PUSHF, AND, POPF (see l2_tf_storm). */
#define TF_TRAPS (2 * TF_LOOPS + 4)

#define RFLAGS_AC (1ull << 18)
#define CR4_SMEP  (1ull << 20)
#define CR4_SMAP  (1ull << 21)

static struct l2 l2;
/* A second L2 whose VMCB page doubles as VM_HSAVE_PA (case 6). */
static struct l2 l2_alias;
/* VMLOAD/VMSAVE/SKINIT target of L2's instructions, and what it held. */
static uint8_t scratch[4096] __attribute__((aligned(4096)));
static struct vmcb vmcb_copy;

static volatile unsigned int l2_step, l2_depth, l2_case, l2_cpl;
static volatile uint32_t l2_apic_id, l2_apic_version;

/* L2's SVM instructions, each at a label L1 can compare with the exit RIP. */
void l2_do_vmrun(uint64_t pa);
void l2_do_vmload(uint64_t pa);
void l2_do_vmsave(uint64_t pa);
void l2_do_skinit(uint64_t pa);
extern char l2_vmrun_insn[], l2_vmload_insn[], l2_vmsave_insn[], l2_skinit_insn[];
asm(".pushsection .text\n"
    ".global l2_do_vmrun, l2_do_vmload, l2_do_vmsave, l2_do_skinit\n"
    ".global l2_vmrun_insn, l2_vmload_insn, l2_vmsave_insn, l2_skinit_insn\n"
    "l2_do_vmrun: mov %rdi, %rax\n"
    "l2_vmrun_insn: vmrun\n\t"
    "ret\n"
    "l2_do_vmload: mov %rdi, %rax\n"
    "l2_vmload_insn: vmload\n\t"
    "ret\n"
    "l2_do_vmsave: mov %rdi, %rax\n"
    "l2_vmsave_insn: vmsave\n\t"
    "ret\n"
    "l2_do_skinit: mov %rdi, %rax\n"
    "l2_skinit_insn: skinit\n\t"
    "ret\n"
    ".popsection");

/* Interrupt-shadow L2s: VMMCALL right after STI / MOV SS, or one NOP later. */
void l2_sti_vmmcall(void);
void l2_movss_vmmcall(void);
void l2_sti_nop_vmmcall(void);
extern char l2_shadow_sti[], l2_shadow_movss[], l2_shadow_none[];
asm(".pushsection .text\n"
    ".global l2_sti_vmmcall, l2_movss_vmmcall, l2_sti_nop_vmmcall\n"
    ".global l2_shadow_sti, l2_shadow_movss, l2_shadow_none\n"
    "l2_sti_vmmcall: sti\n"
    "l2_shadow_sti: vmmcall\n\t"
    "cli\n\t"
    "ret\n"
    "l2_movss_vmmcall: mov %ss, %ax\n\t"
    "mov %ax, %ss\n"
    "l2_shadow_movss: vmmcall\n\t"
    "ret\n"
    "l2_sti_nop_vmmcall: sti\n\t"
    "nop\n"
    "l2_shadow_none: vmmcall\n\t"
    "cli\n\t"
    "ret\n"
    ".popsection");

static void l2_probe(void)
{
	l2_step++;
}

/* A fresh VMCB12 for fn, with the usual safety intercepts (svm_checks.h). */
static struct vmcb *fresh(void (*fn)(void))
{
	svm_checks_vmcb_init(&l2, fn);
	l2_step = l2_depth = 0;
	l2_events_reset();
	return &l2.vmcb;
}

/* ---- 7/26: TOCTOU through L2's own view of VMCB12 ---- */

enum { TOCTOU_VMRUN_INTERCEPT, TOCTOU_ASID, TOCTOU_INT_CTL };

static void l2_toctou(void)
{
	struct vmcb_control *self = &l2.vmcb.control;

	l2_step = 1;
	if (l2_case == TOCTOU_VMRUN_INTERCEPT) {
		vmcb_clear_intercept(self, INTERCEPT_VMRUN);
	} else if (l2_case == TOCTOU_ASID) {
		self->asid = 0;
	} else {
		self->int_ctl = ~0u;
		self->msrpm_base_pa = ~0xFFFull;
		self->iopm_base_pa = ~0xFFFull;
	}
	/* A hypervisor that ran this VMRUN would start L2 here again: stop that at once. */
	if (l2_depth++ == 0)
		l2_do_vmrun((uint64_t)&l2.vmcb);
	l2_step = 2;
}

static uint64_t toctou_run(unsigned int which)
{
	fresh(l2_toctou);
	l2_case = which;
	return svm_checks_run_bounded(&l2, RUN_BUDGET);
}

static bool exited_at(uint64_t code, uint64_t want, const char *insn)
{
	return code == want && l2.vmcb.save.rip == (uint64_t)insn;
}

static void test_toctou(struct tap *tap)
{
	static const char *const what[] = {
	    [TOCTOU_VMRUN_INTERCEPT] = "clears the VMRUN intercept",
	    [TOCTOU_ASID] = "zeroes the ASID",
	    [TOCTOU_INT_CTL] = "sets int_ctl = ~0 and both map bases to ~0xFFF",
	};
	const uint64_t self = (uint64_t)&l2.vmcb;
	struct l1_state before;
	const char *intact;
	uint64_t code, resumed;
	bool still_clear;

	for (unsigned int i = ARRAY_SIZE(what); i-- > 0;) {
		code = toctou_run(i);
		tap_check(tap,
			  exited_at(code, SVM_EXIT_VMRUN, l2_vmrun_insn) &&
			      l2.vmcb.save.rax == self && l2_step == 1,
			  "7/26: L2 %s in its own VMCB12, then VMRUN: #VMEXIT(VMRUN) to L1 "
			  "(exit 0x%lx at 0x%lx, L2 step %u)",
			  what[i], code, l2.vmcb.save.rip, l2_step);
	}

	/* Left from the last run (the intercept case): L2's write is still in VMCB12. */
	still_clear = !vmcb_test_intercept(&l2.vmcb.control, INTERCEPT_VMRUN);
	/* QEMU rewrites the save area on a failed VMRUN: keep L2's state aside. */
	vmcb_copy = l2.vmcb;
	stgi();
	svm_checks_watchdog_arm(&l2.vmcb);
	l1_state_take(&before);
	code = svm_checks_vmrun(&l2.vmcb);
	intact = svm_checks_l1_intact(&l2.vmcb, &before);
	svm_checks_watchdog_disarm(&l2.vmcb);
	l2.vmcb = vmcb_copy;
	vmcb_set_intercept(&l2.vmcb.control, INTERCEPT_VMRUN);
	svm_skip(&l2, 3);
	resumed = svm_checks_run_bounded(&l2, RUN_BUDGET);
	tap_check(
	    tap,
	    still_clear && svm_checks_exit_invalid(code) && !intact &&
		resumed == SVM_EXIT_VMMCALL && l2_step == 2,
	    "7/26: VMCB12 keeps L2's write, L1's VMRUN of it is INVALID; repaired, L2 "
	    "resumes after its VMRUN (cleared %d, exit 0x%lx, L1 %s, then exit 0x%lx, step %u)",
	    still_clear, code, intact ? intact : "intact", resumed, l2_step);
}

/* ---- 26: L2 VMLOAD / VMSAVE / SKINIT under L1's intercepts ---- */

static void l2_vmload(void)
{
	l2_do_vmload((uint64_t)scratch);
	l2_step = 1;
}

static void l2_vmsave(void)
{
	l2_do_vmsave((uint64_t)scratch);
	l2_step = 1;
}

static void l2_skinit(void)
{
	l2_do_skinit((uint64_t)scratch);
	l2_step = 1;
}

static const uint32_t vmload_msrs[] = {
    MSR_STAR,	 MSR_LSTAR,   MSR_CSTAR, MSR_SFMASK, MSR_KERNEL_GS_BASE,
    MSR_FS_BASE, MSR_GS_BASE, 0x174,	 0x175,	     0x176, /* SYSENTER_CS/ESP/EIP */
};

/* The VMLOAD state's MSRs (one that faults reads as a marker: compared, not used). */
static void vmload_msrs_read(uint64_t *val)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(vmload_msrs); i++)
		if (rdmsr_safe(vmload_msrs[i], &val[i]))
			val[i] = 0xFA17FA17FA17FA17ull;
}

/* Runs L2 to the reflected instruction, then past it to the end. */
static bool reflected_then_done(uint64_t want, const char *insn, uint64_t *code)
{
	*code = svm_checks_run_bounded(&l2, RUN_BUDGET);
	if (!exited_at(*code, want, insn) || l2.vmcb.save.rax != (uint64_t)scratch || l2_step)
		return false;
	svm_skip(&l2, 3);
	return svm_checks_run_bounded(&l2, RUN_BUDGET) == SVM_EXIT_VMMCALL && l2_step == 1;
}

static void test_l2_svm_insns(struct tap *tap)
{
	struct vmcb *s = (struct vmcb *)scratch;
	uint64_t saved[ARRAY_SIZE(vmload_msrs)], now[ARRAY_SIZE(vmload_msrs)], code;
	bool ok, same;

	/* A VMLOAD image of L1 with new syscall MSRs: harmless to L1 if loaded, and visible. */
	vmload_msrs_read(saved);
	asm volatile("vmsave" ::"a"(scratch) : "memory");
	s->save.star = 0x0023001000000000ull;
	s->save.lstar = 0xFFFF800000ACCE55ull;
	s->save.sfmask = 0x4700;
	s->save.kernel_gs_base = 0xFFFF8000000B00B5ull;
	fresh(l2_vmload);
	vmcb_set_intercept(&l2.vmcb.control, INTERCEPT_VMLOAD);
	ok = reflected_then_done(SVM_EXIT_VMLOAD, l2_vmload_insn, &code);
	vmload_msrs_read(now);
	same = !memcmp(saved, now, sizeof(saved));
	tap_check(
	    tap, ok && same,
	    "26: L2 VMLOAD under L1's intercept: #VMEXIT(VMLOAD), L1's VMLOAD state untouched "
	    "(exit 0x%lx, MSRs %s)",
	    code, same ? "same" : "changed");

	memset(scratch, 0xA5, sizeof(scratch));
	fresh(l2_vmsave);
	vmcb_set_intercept(&l2.vmcb.control, INTERCEPT_VMSAVE);
	ok = reflected_then_done(SVM_EXIT_VMSAVE, l2_vmsave_insn, &code);
	same = true;
	for (unsigned int i = 0; i < sizeof(scratch); i++)
		same &= scratch[i] == 0xA5;
	tap_check(tap, ok && same,
		  "26: L2 VMSAVE under L1's intercept: #VMEXIT(VMSAVE), its target page untouched "
		  "(exit 0x%lx, page %s)",
		  code, same ? "same" : "written");

	/*
	 * With EFER.SVME = 1, SKINIT is a valid instruction whatever CPUID says
	 * (APM vol. 3 SKINIT: #UD only if SVME = 0 and neither SVML nor SKINIT),
	 * so the intercept applies.
	 */
	fresh(l2_skinit);
	vmcb_set_intercept(&l2.vmcb.control, INTERCEPT_SKINIT);
	ok = reflected_then_done(SVM_EXIT_SKINIT, l2_skinit_insn, &code);
	tap_check(tap, ok, "26: L2 SKINIT under L1's intercept: #VMEXIT(SKINIT) (exit 0x%lx)",
		  code);
}

/* ---- 18: unsupported-feature bits are ignored ---- */

static void l2_read_apic(void)
{
	l2_apic_id = xapic_read(APIC_ID);
	l2_apic_version = xapic_read(APIC_VERSION);
	l2_step++;
}

/* Runs the current VMCB12 and checks that L2 ran to its VMMCALL with L1 intact. */
static bool runs_clean(uint64_t *code, const char **intact)
{
	struct l1_state before;

	stgi();
	svm_checks_watchdog_arm(&l2.vmcb);
	l1_state_take(&before);
	*code = svm_checks_vmrun(&l2.vmcb);
	*intact = svm_checks_l1_intact(&l2.vmcb, &before);
	svm_checks_watchdog_disarm(&l2.vmcb);
	return *code == SVM_EXIT_VMMCALL && l2_step == 1 && !*intact;
}

static void test_unsupported_bits(struct tap *tap)
{
	uint32_t id = xapic_read(APIC_ID), version = xapic_read(APIC_VERSION);
	uint32_t tpr = xapic_read(APIC_TPR);
	struct vmcb *v;
	const char *intact;
	uint64_t code;
	bool ok;

	/* Everything int_ctl can say, AVIC tables at L0-looking addresses; L2 keeps IF = 0. */
	v = fresh(l2_read_apic);
	v->control.int_ctl = ~0u;
	v->control.int_vector = V_INTR_VECTOR;
	v->control.avic_apic_bar = XAPIC_BASE;
	v->control.avic_backing_page = 0;
	v->control.avic_logical_table = VMCB_AVIC_TABLE_ADDR_MASK;
	v->control.avic_physical_table = VMCB_AVIC_TABLE_ADDR_MASK | 0xFF;
	l2_events_install(V_INTR_VECTOR);
	ok = runs_clean(&code, &intact);
	l2_events_remove(V_INTR_VECTOR);
	tap_check(tap,
		  ok && l2_apic_id == id && l2_apic_version == version && !l2_events.count &&
		      xapic_read(APIC_TPR) == tpr,
		  "18: int_ctl = 0xFFFFFFFF with AVIC pointers: L2 runs, sees L1's APIC, L1's TPR "
		  "unchanged (exit 0x%lx, L1 %s, APIC ID 0x%x, vIRQ taken %u)",
		  code, intact ? intact : "intact", l2_apic_id, l2_events.count);

	v = fresh(l2_probe);
	v->control.misc_ctl = VMCB_MISC_SEV_ENABLE | VMCB_MISC_SEV_ES_ENABLE;
	v->control.vmsa_pa = 0x1000;
	v->control.ghcb_pa = 0x2000;
	ok = runs_clean(&code, &intact);
	tap_check(tap, ok,
		  "18: misc_ctl SEV and SEV-ES, VMSA and GHCB pointers (SEV not offered): ignored, "
		  "L2 runs (exit 0x%lx, L1 %s)",
		  code, intact ? intact : "intact");

	v = fresh(l2_probe);
	v->control.virt_ext = VMCB_VIRT_EXT_LBR_ENABLE | VMCB_VIRT_EXT_V_VMSAVE_VMLOAD;
	ok = runs_clean(&code, &intact);
	tap_check(tap, ok,
		  "18: virt_ext LBR virtualization and virtual VMLOAD/VMSAVE (no NP): L2 runs "
		  "(exit 0x%lx, L1 %s)",
		  code, intact ? intact : "intact");
}

/* ---- 15: EVENTINJ reserved bits 30:12 are ignored ---- */

static void test_eventinj_reserved(struct tap *tap)
{
	const struct {
		const char *what;
		uint64_t ev;
		unsigned int vector;
	} cases[] = {
	    {"INTR vector 0x70", svm_event(INTR_VECTOR, SVM_EVENT_TYPE_INTR, false, 0),
	     INTR_VECTOR},
	    {"#GP with error code",
	     svm_event(EXC_GP, SVM_EVENT_TYPE_EXCEPTION, true, GP_ERROR_CODE), EXC_GP},
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vmcb *v = fresh(l2_probe);
		const char *intact;
		uint64_t code;
		bool ok;

		v->control.event_inj = cases[i].ev | SVM_EVENT_RESERVED_MASK;
		l2_events_install(cases[i].vector);
		ok = runs_clean(&code, &intact);
		l2_events_remove(cases[i].vector);
		ok &= l2_events.count == 1 && l2_events.vector == cases[i].vector &&
		      l2_events.rip == (uint64_t)l2_probe &&
		      (!(cases[i].ev & SVM_EVENT_EV) || l2_events.error == GP_ERROR_CODE);
		tap_check(
		    tap, ok,
		    "15: EVENTINJ %s with reserved bits 30:12 set: delivered as such (exit 0x%lx, "
		    "%u events, vector %u, error 0x%lx)",
		    cases[i].what, code, l2_events.count, l2_events.vector, l2_events.error);
	}
}

/* ---- 17: reserved TLB_CONTROL encodings ---- */

static void test_tlb_control(struct tap *tap)
{
	static const uint8_t values[] = {2, 4, 5, 6, 0xFF};

	for (unsigned int i = 0; i < ARRAY_SIZE(values); i++) {
		struct vmcb *v = fresh(l2_probe);
		const char *intact;
		uint64_t code;
		bool ok;

		v->control.tlb_control = values[i];
		ok = runs_clean(&code, &intact);
		tap_check(tap, ok, "17: TLB_CONTROL = 0x%x (reserved): L2 runs (exit 0x%lx, L1 %s)",
			  values[i], code, intact ? intact : "intact");
	}
}

/* ---- 27: triple fault in L2 under L1's SHUTDOWN intercept ---- */

static void l2_triple_fault(void)
{
	l2_step = 1;
	asm volatile("ud2");
	l2_step = 2;
}

static void test_shutdown(struct tap *tap)
{
	struct vmcb *v = fresh(l2_triple_fault);
	struct l1_state before;
	const char *intact;
	uint64_t code;

	/* An empty IDT: #UD, then #GP, then #DF find no gate: shutdown (APM 8.2.9). */
	vmcb_clear_intercept(&v->control, INTERCEPT_EXCEPTION(EXC_UD));
	vmcb_clear_intercept(&v->control, INTERCEPT_EXCEPTION(EXC_DF));
	vmcb_clear_intercept(&v->control, INTERCEPT_EXCEPTION(EXC_PF));
	v->save.idtr.limit = 0;
	stgi();
	svm_checks_watchdog_arm(v);
	l1_state_take(&before);
	code = svm_checks_vmrun(v);
	intact = svm_checks_l1_intact(v, &before);
	svm_checks_watchdog_disarm(v);
	tap_check(
	    tap, code == SVM_EXIT_SHUTDOWN && l2_step == 1,
	    "27: L2 triple fault with L1 intercepting SHUTDOWN: #VMEXIT(SHUTDOWN) (exit 0x%lx)",
	    code);

	/* APM 15.14.3: the save area is undefined after SHUTDOWN: a new VMCB12. */
	fresh(l2_probe);
	code = svm_checks_run_bounded(&l2, RUN_BUDGET);
	tap_check(tap, !intact && code == SVM_EXIT_VMMCALL && l2_step == 1,
		  "27: after the SHUTDOWN exit L1 is intact and runs a new L2 (L1 %s, exit 0x%lx)",
		  intact ? intact : "intact", code);
}

/* ---- 28: exception storms L1 does not intercept ---- */

static volatile unsigned int ac_count, db_count;
static uint8_t ac_buffer[64] __attribute__((aligned(64)));

/* L2 at CPL 3 needs user pages and its own IDT (gates with IST: L1's TSS has no RSP0). */
static uint64_t user_pml4[512] __attribute__((aligned(4096)));
static uint64_t user_pdpt[512] __attribute__((aligned(4096)));
static uint64_t user_pd[512] __attribute__((aligned(4096)));
static uint8_t user_idt[4096] __attribute__((aligned(16)));

static void l2_ac_storm(void)
{
	uint16_t cs;

	asm volatile("mov %%cs, %0" : "=r"(cs));
	l2_cpl = cs & 3;
	for (unsigned int i = 0; i < (l2_case ? AC_ROUNDS : 1); i++)
		asm volatile("pushfq\n\t"
			     "orq %1, (%%rsp)\n\t"
			     "popfq\n\t"
			     "movl 1(%0), %%eax\n\t" /* misaligned: #AC at CPL 3 */
			     "pushfq\n\t"
			     "andq %2, (%%rsp)\n\t"
			     "popfq" ::"r"(ac_buffer),
			     "i"(RFLAGS_AC), "i"(~RFLAGS_AC)
			     : "rax", "memory", "cc");
	l2_step = 1;
}

/* L2's #AC handler: count, and let the access retry with AC clear. */
static void ac_handler(struct exc_frame *f)
{
	ac_count++;
	f->rflags &= ~RFLAGS_AC;
	if (ac_count > 2 * AC_ROUNDS)
		guest_bail_out("#AC storm did not end (rip 0x%lx)", f->rip);
}

/* L2's #DB handler: count; past any sane count, stop the stepping. */
static void db_handler(struct exc_frame *f)
{
	if (++db_count > 2 * TF_TRAPS)
		f->rflags &= ~(uint64_t)RFLAGS_TF;
}

static void user_l2_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr;

	for (unsigned int i = 0; i < 512; i++)
		user_pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_W | PTE_U | PTE_PS;
	user_pdpt[0] = (uint64_t)user_pd | PTE_P | PTE_W | PTE_U;
	user_pml4[0] = (uint64_t)user_pdpt | PTE_P | PTE_W | PTE_U;
	asm volatile("sidt %0" : "=m"(idtr));
	memcpy(user_idt, (void *)idtr.base, sizeof(user_idt));
	/* Byte 4 of a 64-bit gate is its IST index (APM 4.8.4): use the #MC stack. */
	user_idt[EXC_AC * 16 + 4] = IST_MACHINE_CHECK;
	user_idt[EXC_DB * 16 + 4] = IST_MACHINE_CHECK;
}

/* An L2 at CPL 3 on the first GiB, with CR0.AM set. */
static void user_l2(struct vmcb *v)
{
	uint16_t data = SVM_SEG_ATTR_G | SVM_SEG_ATTR_DB | SVM_SEG_ATTR_P | SVM_SEG_ATTR_S | 0x3 |
			(3u << SVM_SEG_ATTR_DPL_SHIFT);

	v->save.cs.selector = GDT_USER_CS;
	v->save.cs.attrib =
	    SVM_SEG_ATTR_L | SVM_SEG_ATTR_P | SVM_SEG_ATTR_S | 0xB | (3u << SVM_SEG_ATTR_DPL_SHIFT);
	v->save.ss.selector = GDT_USER_DS;
	v->save.ss.attrib = data;
	v->save.ds = v->save.es = v->save.ss;
	v->save.cpl = 3;
	v->save.cr0 |= CR0_AM;
	v->save.cr3 = (uint64_t)user_pml4;
	v->save.cr4 &= ~(CR4_SMEP | CR4_SMAP);
	v->save.idtr.base = (uint64_t)user_idt;
	v->save.idtr.limit = sizeof(user_idt) - 1;
}

static void l2_tf_storm(void)
{
	asm volatile("pushfq\n\t"
		     "orq %1, (%%rsp)\n\t"
		     "popfq\n\t"
		     "mov %0, %%ecx\n"
		     "1: dec %%ecx\n\t"
		     "jnz 1b\n\t"
		     "pushfq\n\t"
		     "andq %2, (%%rsp)\n\t"
		     "popfq" ::"i"(TF_LOOPS),
		     "i"(RFLAGS_TF), "i"(~(uint64_t)RFLAGS_TF)
		     : "rcx", "memory", "cc");
	l2_step = 1;
}

static void test_storms(struct tap *tap)
{
	struct vmcb *v;
	uint64_t code;
	bool cpu_has_ac;

	user_l2_init();
	/* Does this CPU raise #AC at all? Ask with L1 intercepting it. */
	v = fresh(l2_ac_storm);
	user_l2(v);
	vmcb_set_intercept(&v->control, INTERCEPT_EXCEPTION(EXC_AC));
	l2_case = 0;
	l2_cpl = 0;
	code = svm_checks_run_bounded(&l2, RUN_BUDGET);
	cpu_has_ac = code == SVM_EXIT_EXCP(EXC_AC);
	tap_check(tap, l2_cpl == 3 && (cpu_has_ac || (code == SVM_EXIT_VMMCALL && l2_step == 1)),
		  "28: CPL-3 misaligned load under CR0.AM and RFLAGS.AC, L1 intercepting #AC: "
		  "#VMEXIT(#AC), or no #AC on a CPU without alignment checks (exit 0x%lx, CPL %u)",
		  code, l2_cpl);

	v = fresh(l2_ac_storm);
	user_l2(v);
	l2_case = 1;
	ac_count = 0;
	idt_set_handler(EXC_AC, ac_handler);
	code = svm_checks_run_bounded(&l2, RUN_BUDGET);
	idt_set_handler(EXC_AC, 0);
	tap_check(tap,
		  code == SVM_EXIT_VMMCALL && l2_step == 1 &&
		      ac_count == (cpu_has_ac ? AC_ROUNDS : 0),
		  "28: #AC storm, L1 not intercepting #AC: L2 handles each #AC once and completes "
		  "(exit 0x%lx, %u #AC for %u accesses, CPU raises #AC: %s)",
		  code, ac_count, AC_ROUNDS, cpu_has_ac ? "yes" : "no");

	fresh(l2_tf_storm);
	db_count = 0;
	idt_set_handler(EXC_DB, db_handler);
	code = svm_checks_run_bounded(&l2, RUN_BUDGET);
	idt_set_handler(EXC_DB, 0);
	tap_check(tap, code == SVM_EXIT_VMMCALL && l2_step == 1 && db_count == TF_TRAPS,
		  "28: TF single-step, L1 not intercepting #DB: one #DB per instruction, L2 "
		  "completes (exit 0x%lx, %u #DB, want %u)",
		  code, db_count, TF_TRAPS);
}

/* ---- 29: an exit loop ---- */

static volatile uint64_t cpuid_loops, cpuid_done;

static void l2_cpuid_loop(void)
{
	for (uint64_t i = 0; i < cpuid_loops; i++) {
		cpuid(0, 0);
		cpuid_done++;
	}
	l2_step = 1;
}

static void test_exit_loop(struct tap *tap)
{
	uint64_t exits = 0, start, code;

	cpuid_loops = guest_option_u64("exit_loops", 100000);
	cpuid_done = 0;
	fresh(l2_cpuid_loop);
	vmcb_set_intercept(&l2.vmcb.control, INTERCEPT_CPUID);
	start = rdtsc();
	for (;;) {
		code = svm_run(&l2);
		if (code != SVM_EXIT_CPUID)
			break;
		exits++;
		svm_skip(&l2, 2);
		if (rdtsc() - start > EXIT_LOOP_BUDGET) {
			code = SVM_CHECKS_TIMEOUT;
			break;
		}
	}
	tap_check(tap,
		  code == SVM_EXIT_VMMCALL && l2_step == 1 && exits == cpuid_loops &&
		      cpuid_done == cpuid_loops,
		  "29: exit loop: L2 runs %lu intercepted CPUIDs, L1 re-enters after each: L2 "
		  "completes (exit 0x%lx, %lu exits)",
		  cpuid_loops, code, exits);
}

/* ---- 6: VMCB12 aliased to the VM_HSAVE_PA page ---- */

static void test_hsave_alias(struct tap *tap)
{
	static const char name[] = "6: VMCB12 = the VM_HSAVE_PA page: runs or INVALID, L1 "
				   "intact, next VMRUN fine";
	uint64_t hsave, code;
	struct l1_state before;
	const char *intact;
	bool ran, ok;

	/*
	 * The host save area's use is the CPU's business (APM 15.30.4): QEMU
	 * stores L1's state into it at VMRUN and would run L1's own code as L2.
	 * nestvisor keeps L1 host state elsewhere, so the outcome is defined.
	 */
	if (!under_nestvisor()) {
		tap_skip(tap, "bare: the host save area is implementation-specific (APM 15.30.4)",
			 "%s", name);
		return;
	}
	svm_checks_vmcb_init(&l2_alias, l2_probe);
	l2_step = 0;
	hsave = rdmsr(MSR_VM_HSAVE_PA);
	wrmsr(MSR_VM_HSAVE_PA, (uint64_t)&l2_alias.vmcb);
	stgi();
	svm_checks_watchdog_arm(&l2_alias.vmcb);
	l1_state_take(&before);
	code = svm_checks_vmrun(&l2_alias.vmcb);
	intact = svm_checks_l1_intact(&l2_alias.vmcb, &before);
	svm_checks_watchdog_disarm(&l2_alias.vmcb);
	wrmsr(MSR_VM_HSAVE_PA, hsave);
	ran = code == SVM_EXIT_VMMCALL && l2_step == 1;
	ok = (ran || (code == SVM_EXIT_INVALID && l2_step == 0)) && !intact;
	fresh(l2_probe);
	code = svm_checks_run_bounded(&l2, RUN_BUDGET);
	tap_check(tap, ok && code == SVM_EXIT_VMMCALL && l2_step == 1, "%s (%s, L1 %s, then 0x%lx)",
		  name, ran ? "ran" : "invalid", intact ? intact : "intact", code);
}

/* ---- 37: the interrupt shadow at an exit ---- */

/*
 * Not svm_checks_run_bounded(): its periodic INTR exits could land inside
 * the shadow. The one-shot watchdog fires only if L2 hangs.
 */
static uint64_t run_plain(void)
{
	uint64_t code;

	stgi();
	svm_checks_watchdog_arm(&l2.vmcb);
	code = svm_checks_vmrun(&l2.vmcb);
	svm_checks_watchdog_disarm(&l2.vmcb);
	return code;
}

static void test_interrupt_shadow(struct tap *tap)
{
	static const struct {
		const char *what;
		void (*fn)(void);
		const char *insn;
		uint64_t shadow;
	} cases[] = {
	    {"STI; VMMCALL", l2_sti_vmmcall, l2_shadow_sti, VMCB_INT_STATE_SHADOW},
	    {"MOV SS; VMMCALL", l2_movss_vmmcall, l2_shadow_movss, VMCB_INT_STATE_SHADOW},
	    {"STI; NOP; VMMCALL", l2_sti_nop_vmmcall, l2_shadow_none, 0},
	};
	uint64_t code;

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		fresh(cases[i].fn);
		code = run_plain();
		tap_check(tap,
			  exited_at(code, SVM_EXIT_VMMCALL, cases[i].insn) &&
			      (l2.vmcb.control.int_state & VMCB_INT_STATE_SHADOW) ==
				  cases[i].shadow,
			  "37: L2 %s: exit with int_state.SHADOW = %lu (exit 0x%lx at 0x%lx, "
			  "int_state 0x%lx)",
			  cases[i].what, cases[i].shadow, code, l2.vmcb.save.rip,
			  l2.vmcb.control.int_state);
		if (i == 0) {
			/* Resume in the shadow (int_state as the exit left it): L2 carries on. */
			svm_skip(&l2, 3);
			code = run_plain();
			tap_check(
			    tap,
			    code == SVM_EXIT_VMMCALL && l2.vmcb.save.rip != (uint64_t)l2_shadow_sti,
			    "37: L1 resumes L2 after the exit in the STI shadow: L2 completes "
			    "(exit 0x%lx)",
			    code);
		}
	}
}

void guest_main(struct tap *tap)
{
	tap_plan(tap, NR_TESTS);
	if (!svm_enable())
		guest_bail_out("no SVM (CPUID 8000_0001 ECX[2])");
	svm_checks_irq_init();

	test_toctou(tap);
	test_l2_svm_insns(tap);
	test_unsupported_bits(tap);
	test_eventinj_reserved(tap);
	test_tlb_control(tap);
	test_shutdown(tap);
	test_storms(tap);
	test_exit_loop(tap);
	test_hsave_alias(tap);
	test_interrupt_shadow(tap);
	if (irq_count(SVM_CHECKS_SPURIOUS_VECTOR))
		kprintf("# %u spurious interrupts\n", irq_count(SVM_CHECKS_SPURIOUS_VECTOR));
}
