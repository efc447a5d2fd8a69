/* See svm_checks.h. */
#include <stdarg.h>
#include <stddef.h>
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "kernel/kprintf.h"
#include "tests/lib/guest.h"
#include "tests/lib/irq.h"
#include "tests/lib/svm_checks.h"
#include "tests/lib/xapic.h"

/* RFLAGS bits an instruction may change as arithmetic results: CF PF AF ZF SF OF. */
#define RFLAGS_ARITH 0x8D5ull
/* APIC timer counts per watchdog tick: 10 ms with QEMU's 1 GHz APIC clock. */
#define WATCHDOG_PERIOD 10000000u
/* The one-shot watchdog, at divide 16: about 2 s with QEMU's 1 GHz APIC clock. */
#define WATCHDOG_ONESHOT 0x8000000u
/* More L2 events than any test expects: an event storm that should have ended. */
#define L2_EVENTS_LIMIT 64

struct svm_probe svm_probe;
struct l2_events l2_events;

unsigned int svm_checks_maxphyaddr(void)
{
	if (cpuid(0x80000000u, 0).eax < 0x80000008u)
		return 36;
	return cpuid(0x80000008u, 0).eax & 0xFF;
}

uint32_t svm_checks_nasid(void)
{
	return cpuid(0x8000000Au, 0).ebx;
}

void svm_checks_vmcb_init(struct l2 *l2, void (*fn)(void))
{
	struct vmcb_control *c = &l2->vmcb.control;

	svm_vmcb_init(l2, fn);
	vmcb_set_intercept(c, INTERCEPT_SHUTDOWN);
	vmcb_set_intercept(c, INTERCEPT_EXCEPTION(EXC_UD));
	vmcb_set_intercept(c, INTERCEPT_EXCEPTION(EXC_DF));
	vmcb_set_intercept(c, INTERCEPT_EXCEPTION(EXC_PF));
	c->exit_code = SVM_CHECKS_POISON;
	c->exit_info1 = SVM_CHECKS_POISON;
	c->exit_info2 = SVM_CHECKS_POISON;
	c->exit_int_info = SVM_CHECKS_POISON;
}

bool svm_checks_exit_invalid(uint64_t code)
{
	if (under_nestvisor())
		return code == SVM_EXIT_INVALID;
	return (uint32_t)code == (uint32_t)SVM_EXIT_INVALID;
}

/* The VMCB the last svm_checks_vmrun() ran: RAX after VMRUN is not trusted. */
static struct vmcb *volatile probe_vmcb;

#define PROBE_OFF(f) [f] "i"(offsetof(struct svm_probe, f))

uint64_t svm_checks_vmrun(struct vmcb *vmcb)
{
	svm_probe = (struct svm_probe){0};
	probe_vmcb = vmcb;
	/*
	 * Only RIP-relative stores after VMRUN: if L2 ran, every register but
	 * RAX and RSP is L2's (APM 15.5.1, 15.6), so none may hold an address.
	 */
	asm volatile("push %%rbp\n\t"
		     "pushfq\n\t"
		     "popq svm_probe+%c[rflags_before](%%rip)\n\t"
		     "movq %%rsp, svm_probe+%c[rsp_before](%%rip)\n\t"
		     "vmrun\n\t"
		     "movq $1, svm_probe+%c[resumed](%%rip)\n\t"
		     "movq %%rax, svm_probe+%c[rax_after](%%rip)\n\t"
		     "movq %%rsp, svm_probe+%c[rsp_after](%%rip)\n\t"
		     "pushfq\n\t"
		     "popq svm_probe+%c[rflags_after](%%rip)\n\t"
		     "pop %%rbp"
		     : "+a"(vmcb)
		     : PROBE_OFF(rflags_before), PROBE_OFF(rsp_before), PROBE_OFF(resumed),
		       PROBE_OFF(rax_after), PROBE_OFF(rsp_after), PROBE_OFF(rflags_after)
		     : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
		       "r14", "r15", "memory", "cc");
	return probe_vmcb->control.exit_code;
}

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

void l1_state_take(struct l1_state *s)
{
	struct desc_ptr gdtr, idtr;
	uint16_t cs, ss, ds, es;

	asm volatile("sgdt %0" : "=m"(gdtr));
	asm volatile("sidt %0" : "=m"(idtr));
	asm volatile("mov %%cs, %0" : "=r"(cs));
	asm volatile("mov %%ss, %0" : "=r"(ss));
	asm volatile("mov %%ds, %0" : "=r"(ds));
	asm volatile("mov %%es, %0" : "=r"(es));
	*s = (struct l1_state){
	    .cr0 = read_cr0(),
	    .cr3 = read_cr3(),
	    .cr4 = read_cr4(),
	    .efer = rdmsr(MSR_EFER),
	    .gdtr_base = gdtr.base,
	    .idtr_base = idtr.base,
	    .gdtr_limit = gdtr.limit,
	    .idtr_limit = idtr.limit,
	    .cs = cs,
	    .ss = ss,
	    .ds = ds,
	    .es = es,
	};
	asm volatile("mov %%dr6, %0" : "=r"(s->dr6));
	asm volatile("mov %%dr7, %0" : "=r"(s->dr7));
}

const char *l1_state_diff(const struct l1_state *a, const struct l1_state *b)
{
	if (a->cr0 != b->cr0)
		return "CR0";
	if (a->cr3 != b->cr3)
		return "CR3";
	if (a->cr4 != b->cr4)
		return "CR4";
	if (a->efer != b->efer)
		return "EFER";
	if (a->dr6 != b->dr6)
		return "DR6";
	if (a->dr7 != b->dr7)
		return "DR7";
	if (a->gdtr_base != b->gdtr_base || a->gdtr_limit != b->gdtr_limit)
		return "GDTR";
	if (a->idtr_base != b->idtr_base || a->idtr_limit != b->idtr_limit)
		return "IDTR";
	if (a->cs != b->cs || a->ss != b->ss || a->ds != b->ds || a->es != b->es)
		return "segment selectors";
	return 0;
}

const char *svm_checks_l1_intact(const struct vmcb *vmcb, const struct l1_state *before)
{
	struct l1_state now;

	if (!svm_probe.resumed)
		return "RIP (the instruction after VMRUN did not run)";
	if (svm_probe.rax_after != (uint64_t)vmcb)
		return "RAX";
	if (svm_probe.rsp_after != svm_probe.rsp_before)
		return "RSP";
	if ((svm_probe.rflags_after ^ svm_probe.rflags_before) & ~RFLAGS_ARITH)
		return "RFLAGS";
	l1_state_take(&now);
	return l1_state_diff(before, &now);
}

void svm_checks_irq_init(void)
{
	xapic_init(SVM_CHECKS_SPURIOUS_VECTOR);
	irq_count_install(SVM_CHECKS_SPURIOUS_VECTOR, false);
	irq_count_install(SVM_CHECKS_IPI_VECTOR, true);
	irq_count_install(SVM_CHECKS_TIMER_VECTOR, true);
	xapic_write(APIC_LVT_TIMER, SVM_CHECKS_TIMER_VECTOR | APIC_LVT_MASKED);
}

bool svm_checks_gif_arm(struct gif_probe *g)
{
	uint64_t start;

	cli();
	*g = (struct gif_probe){0};
	irq_count_reset(SVM_CHECKS_IPI_VECTOR);
	if (!xapic_send_ipi(0, SVM_CHECKS_IPI_VECTOR | APIC_ICR_FIXED | APIC_ICR_ASSERT |
				   APIC_ICR_SELF))
		return false;
	start = rdtsc();
	while (!xapic_vector_set(APIC_IRR, SVM_CHECKS_IPI_VECTOR)) {
		if (rdtsc() - start > IRQ_WAIT_TSC)
			return false;
		asm volatile("pause");
	}
	g->pending = true;
	return true;
}

void svm_checks_gif_finish(struct gif_probe *g)
{
	/* IF = 1 with GIF as VMRUN left it: GIF = 0 must hold the IPI (APM 15.17). */
	irq_window(SVM_CHECKS_QUIET_TSC);
	g->held_with_if = irq_count(SVM_CHECKS_IPI_VECTOR);
	stgi();
	irq_wait(SVM_CHECKS_IPI_VECTOR, g->held_with_if + 1, IRQ_WAIT_TSC);
	irq_window(SVM_CHECKS_QUIET_TSC);
	g->after_stgi = irq_count(SVM_CHECKS_IPI_VECTOR) - g->held_with_if;
}

static void l2_events_handler(struct exc_frame *f)
{
	l2_events.count++;
	l2_events.vector = (unsigned int)f->vector;
	l2_events.error = f->error;
	l2_events.rip = f->rip;
	l2_events.cs = f->cs;
	l2_events.rflags = f->rflags;
	if (l2_events.count > L2_EVENTS_LIMIT)
		guest_bail_out("event storm: vector %lu taken %u times (last at rip 0x%lx)",
			       f->vector, l2_events.count, f->rip);
}

void l2_events_reset(void)
{
	l2_events = (struct l2_events){0};
}

void l2_events_install(unsigned int vector)
{
	idt_set_handler(vector, l2_events_handler);
}

void l2_events_remove(unsigned int vector)
{
	idt_set_handler(vector, 0);
}

bool svm_checks_tap(struct tap *tap, bool apm, bool qemu, const char *deviation, const char *fmt,
		    ...)
{
	char name[256], reason[192];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (apm || !deviation || !qemu || under_nestvisor())
		return tap_check(tap, apm, "%s", name);
	ksnprintf(reason, sizeof(reason), "QEMU deviation: %s", deviation);
	tap_skip(tap, reason, "%s", name);
	return false;
}

void svm_checks_watchdog_arm(struct vmcb *vmcb)
{
	vmcb_set_intercept(&vmcb->control, INTERCEPT_INTR);
	xapic_write(APIC_TIMER_DIVIDE, APIC_DIVIDE_16);
	xapic_write(APIC_LVT_TIMER, SVM_CHECKS_TIMER_VECTOR);
	xapic_write(APIC_TIMER_INITIAL, WATCHDOG_ONESHOT);
	sti();
}

bool svm_checks_watchdog_disarm(struct vmcb *vmcb)
{
	unsigned int before = irq_count(SVM_CHECKS_TIMER_VECTOR);

	cli();
	xapic_write(APIC_TIMER_INITIAL, 0);
	xapic_write(APIC_LVT_TIMER, SVM_CHECKS_TIMER_VECTOR | APIC_LVT_MASKED);
	xapic_write(APIC_TIMER_DIVIDE, APIC_DIVIDE_1);
	vmcb_clear_intercept(&vmcb->control, INTERCEPT_INTR);
	stgi();
	irq_window(1000);
	return irq_count(SVM_CHECKS_TIMER_VECTOR) != before;
}

uint64_t svm_checks_run_bounded(struct l2 *l2, uint64_t tsc_budget)
{
	struct vmcb_control *c = &l2->vmcb.control;
	uint64_t start = rdtsc(), code;

	vmcb_set_intercept(c, INTERCEPT_INTR);
	xapic_write(APIC_TIMER_DIVIDE, APIC_DIVIDE_1);
	xapic_write(APIC_LVT_TIMER, SVM_CHECKS_TIMER_VECTOR | APIC_LVT_PERIODIC);
	xapic_write(APIC_TIMER_INITIAL, WATCHDOG_PERIOD);
	for (;;) {
		/* RFLAGS.IF = 1 at VMRUN: physical interrupts exit L2 (APM 15.21.1). */
		sti();
		code = svm_run_raw(l2);
		stgi(); /* the timer interrupt behind an INTR exit is taken here */
		asm volatile("nop");
		cli();
		if (code != SVM_EXIT_INTR)
			break;
		if (rdtsc() - start > tsc_budget) {
			code = SVM_CHECKS_TIMEOUT;
			break;
		}
	}
	xapic_write(APIC_TIMER_INITIAL, 0);
	xapic_write(APIC_LVT_TIMER, SVM_CHECKS_TIMER_VECTOR | APIC_LVT_MASKED);
	vmcb_clear_intercept(c, INTERCEPT_INTR);
	/* A tick that fired after the last exit is already pending: let it in. */
	irq_window(1000);
	return code;
}
