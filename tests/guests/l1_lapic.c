/*
 * l1_lapic: the local APIC in xAPIC mode at 0xFEE00000, as a guest kernel
 * uses it: enable, identification, TPR, the timer in both modes and its
 * divider, self-IPIs with ISR/EOI bookkeeping, NMI to self and TPR masking.
 * References: APM vol. 2 ch. 16 "Advanced Programmable Interrupt Controller"
 * and SDM vol. 3A "Advanced Programmable Interrupt Controller (APIC)".
 *
 * Every wait is bounded by the TSC; a missed interrupt is a `not ok`.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "kernel/console.h"
#include "tests/lib/guest.h"
#include "tests/lib/irq.h"
#include "tests/lib/xapic.h"

#define SPURIOUS_VECTOR 0xFF
#define TIMER_VECTOR	0x40
#define TPR_VECTOR	0x50
#define IPI_VECTOR	0x60

/* In timer counts at divide 1: 1 ms with QEMU's 1 GHz APIC clock. */
#define ONESHOT_COUNT  1000000u
#define PERIODIC_COUNT 500000u
#define PERIODIC_TICKS 5u
/* A window long enough to see an interrupt that should not come. */
#define QUIET_MIN_TSC 20000000ull
#define DIVIDE_WINDOW 20000000ull
/* Far above one MMIO read, even one emulated under nested TCG; below a time slice. */
#define TIGHT_READ_TSC 1000000ull

#define NR_TESTS 19

static uint64_t clamp_window(uint64_t tsc)
{
	if (tsc < QUIET_MIN_TSC)
		return QUIET_MIN_TSC;
	return tsc > IRQ_WAIT_TSC ? IRQ_WAIT_TSC : tsc;
}

static void test_identity(struct tap *tap)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	uint32_t ver;
	unsigned int version, max_lvt;

	tap_check(tap,
		  (base & ~0xFFFull) == XAPIC_BASE && (base & APIC_BASE_ENABLE) &&
		      !(base & APIC_BASE_X2APIC),
		  "APIC_BASE: xAPIC mode, globally enabled at 0xFEE00000");
	/* APM "Spurious Interrupts": SVR bit 8 is the software enable. */
	xapic_init(SPURIOUS_VECTOR);
	tap_check(tap, xapic_read(APIC_SVR) == (APIC_SVR_ENABLE | SPURIOUS_VECTOR),
		  "SVR: software enable with spurious vector 0xFF reads back (0x%x)",
		  xapic_read(APIC_SVR));
	ver = xapic_read(APIC_VERSION);
	version = ver & 0xFF;
	max_lvt = (ver >> 16) & 0xFF;
	/* Integrated APICs report 0x1X; timer, LINT0, LINT1 and error make 4 LVTs. */
	tap_check(tap, version >= 0x10 && version <= 0x15 && max_lvt >= 3,
		  "version register: version 0x%x, max LVT %u", version, max_lvt);
	tap_check(tap, xapic_id() == cpuid(1, 0).ebx >> 24,
		  "APIC ID %u matches CPUID 1 EBX[31:24] (%u)", xapic_id(), cpuid(1, 0).ebx >> 24);
	xapic_write(APIC_TPR, 0x20);
	tap_check(tap, (xapic_read(APIC_TPR) & 0xFF) == 0x20, "TPR: 0x20 reads back (0x%x)",
		  xapic_read(APIC_TPR));
	xapic_write(APIC_TPR, 0);
}

static void test_oneshot(struct tap *tap)
{
	uint64_t start, fire = 0, deadline;
	uint32_t c1, c2;

	/*
	 * The decrease is watched on a masked count of 2^32 - 1, which a
	 * descheduled host thread cannot see run out, rather than on the
	 * short count that must fire below.
	 */
	xapic_write(APIC_TIMER_DIVIDE, APIC_DIVIDE_1);
	xapic_write(APIC_LVT_TIMER, TIMER_VECTOR | APIC_LVT_MASKED);
	xapic_write(APIC_TIMER_INITIAL, 0xFFFFFFFF);
	c1 = xapic_read(APIC_TIMER_CURRENT);
	deadline = rdtsc() + IRQ_WAIT_TSC;
	while ((c2 = xapic_read(APIC_TIMER_CURRENT)) == c1 && rdtsc() < deadline)
		asm volatile("pause");
	xapic_write(APIC_TIMER_INITIAL, 0);
	tap_check(tap, c1 && c2 < c1, "one-shot: current count decreases (%u, then %u)", c1, c2);

	/* Interrupts are off until irq_wait(): an early expiry just stays pending. */
	xapic_write(APIC_LVT_TIMER, TIMER_VECTOR);
	irq_count_install(TIMER_VECTOR, true);
	start = rdtsc();
	xapic_write(APIC_TIMER_INITIAL, ONESHOT_COUNT);
	if (tap_check(tap, irq_wait(TIMER_VECTOR, 1, IRQ_WAIT_TSC), "one-shot: timer fires"))
		fire = irq_last_tsc(TIMER_VECTOR) - start;
	/* SDM "APIC Timer": in one-shot mode the count stays at 0 after it fires. */
	irq_window(clamp_window(4 * fire));
	tap_check(tap, irq_count(TIMER_VECTOR) == 1 && xapic_read(APIC_TIMER_CURRENT) == 0,
		  "one-shot: fires exactly once (%u) and stays at 0", irq_count(TIMER_VECTOR));
}

static void test_periodic(struct tap *tap)
{
	uint64_t start, period = 0;
	unsigned int n;
	bool got;

	irq_count_reset(TIMER_VECTOR);
	xapic_write(APIC_LVT_TIMER, TIMER_VECTOR | APIC_LVT_PERIODIC);
	start = rdtsc();
	xapic_write(APIC_TIMER_INITIAL, PERIODIC_COUNT);
	got = irq_wait(TIMER_VECTOR, PERIODIC_TICKS, IRQ_WAIT_TSC);
	if (tap_check(tap, got, "periodic: fires repeatedly (%u of %u)", irq_count(TIMER_VECTOR),
		      PERIODIC_TICKS))
		period = (irq_last_tsc(TIMER_VECTOR) - start) / PERIODIC_TICKS;

	/* Let an interrupt already accepted into IRR drain, then expect silence. */
	xapic_write(APIC_LVT_TIMER, TIMER_VECTOR | APIC_LVT_PERIODIC | APIC_LVT_MASKED);
	irq_window(clamp_window(2 * period));
	n = irq_count(TIMER_VECTOR);
	irq_window(clamp_window(10 * period));
	tap_check(tap, irq_count(TIMER_VECTOR) == n, "periodic: masking the LVT stops it (%u more)",
		  irq_count(TIMER_VECTOR) - n);

	/* SDM "APIC Timer": writing initial count 0 stops the timer. */
	xapic_write(APIC_LVT_TIMER, TIMER_VECTOR | APIC_LVT_PERIODIC);
	n = irq_count(TIMER_VECTOR);
	irq_wait(TIMER_VECTOR, n + 1, IRQ_WAIT_TSC);
	xapic_write(APIC_TIMER_INITIAL, 0);
	irq_window(clamp_window(2 * period));
	n = irq_count(TIMER_VECTOR);
	irq_window(clamp_window(10 * period));
	tap_check(tap, irq_count(TIMER_VECTOR) == n && xapic_read(APIC_TIMER_CURRENT) == 0,
		  "periodic: initial count 0 stops it (%u more)", irq_count(TIMER_VECTOR) - n);
	xapic_write(APIC_LVT_TIMER, TIMER_VECTOR | APIC_LVT_MASKED);
}

/*
 * The current count with the TSC at the moment it was read. A read that
 * took long (the host descheduled us, or an exit was slow) is taken again,
 * so that a count and its TSC belong together.
 */
static uint32_t count_at(uint64_t *tsc)
{
	uint64_t t0, t1;
	uint32_t c;

	for (int tries = 0;; tries++) {
		t0 = rdtsc();
		c = xapic_read(APIC_TIMER_CURRENT);
		t1 = rdtsc();
		if (t1 - t0 < TIGHT_READ_TSC || tries == 8)
			break;
	}
	*tsc = t0 + (t1 - t0) / 2;
	return c;
}

/* Timer counts per 2^20 TSC ticks with the given divider. */
static uint64_t count_rate(uint32_t divide)
{
	uint64_t t0, t1;
	uint32_t c0, c1;

	xapic_write(APIC_TIMER_DIVIDE, divide);
	xapic_write(APIC_TIMER_INITIAL, 0xFFFFFFFF);
	c0 = count_at(&t0);
	tsc_delay(DIVIDE_WINDOW);
	c1 = count_at(&t1);
	xapic_write(APIC_TIMER_INITIAL, 0);
	return t1 > t0 ? ((uint64_t)(c0 - c1) << 20) / (t1 - t0) : 0;
}

static void test_divide(struct tap *tap)
{
	uint64_t r1, r16;

	/* The timer is masked here, so these long counts never interrupt. */
	r1 = count_rate(APIC_DIVIDE_1);
	r16 = count_rate(APIC_DIVIDE_16);
	xapic_write(APIC_TIMER_DIVIDE, APIC_DIVIDE_1);
	tap_check(tap, r16 && r1 >= 8 * r16 && r1 <= 32 * r16,
		  "divide config: counts per 2^20 TSC, divide 1: %lu, divide 16: %lu (ratio 8..32)",
		  r1, r16);
}

static volatile unsigned int ipi_count;
static volatile bool isr_in_handler, isr_after_eoi;

static void ipi_handler(struct exc_frame *f)
{
	isr_in_handler = xapic_vector_set(APIC_ISR, f->vector);
	xapic_eoi();
	isr_after_eoi = xapic_vector_set(APIC_ISR, f->vector);
	ipi_count++;
}

/* Spins with interrupts as they are until *count reaches want or the TSC budget runs out. */
static void spin_for(volatile unsigned int *count, unsigned int want)
{
	uint64_t start = rdtsc();

	while (*count < want && rdtsc() - start < IRQ_WAIT_TSC)
		asm volatile("pause");
}

/* Waits (bounded) for vector to show up in IRR; IRR is where a held interrupt waits. */
static bool irr_wait(unsigned int vector)
{
	uint64_t start = rdtsc();

	while (!xapic_vector_set(APIC_IRR, vector)) {
		if (rdtsc() - start > IRQ_WAIT_TSC)
			return false;
		asm volatile("pause");
	}
	return true;
}

static void test_self_ipi(struct tap *tap)
{
	bool sent, pending;

	/* SDM "Interrupt Command Register": destination shorthand 01b is self. */
	idt_set_handler(IPI_VECTOR, ipi_handler);
	sent = xapic_send_ipi(0, IPI_VECTOR | APIC_ICR_FIXED | APIC_ICR_ASSERT | APIC_ICR_SELF);
	pending = irr_wait(IPI_VECTOR);
	tap_check(tap, sent && pending && ipi_count == 0,
		  "self-IPI: held in IRR while RFLAGS.IF is clear");
	sti();
	spin_for(&ipi_count, 1);
	cli();
	irq_window(QUIET_MIN_TSC);
	tap_check(tap, ipi_count == 1 && !xapic_vector_set(APIC_IRR, IPI_VECTOR),
		  "self-IPI: delivered exactly once (%u)", ipi_count);
	tap_check(tap, ipi_count && isr_in_handler, "self-IPI: ISR bit set inside the handler");
	tap_check(tap, ipi_count && !isr_after_eoi, "self-IPI: EOI clears the ISR bit");
	idt_set_handler(IPI_VECTOR, 0);
}

static void test_nmi(struct tap *tap)
{
	bool sent;

	/* Delivery mode NMI ignores the vector and RFLAGS.IF: it arrives at vector 2. */
	irq_count_install(EXC_NMI, false);
	sent = xapic_send_ipi((uint8_t)xapic_id(), APIC_ICR_NMI | APIC_ICR_ASSERT);
	irq_poll(EXC_NMI, 1, IRQ_WAIT_TSC);
	tsc_delay(QUIET_MIN_TSC);
	tap_check(tap, sent && irq_count(EXC_NMI) == 1,
		  "NMI to own APIC ID: delivered once to vector 2 (%u)", irq_count(EXC_NMI));
	irq_count_remove(EXC_NMI);
}

static void test_tpr(struct tap *tap)
{
	bool sent, held;

	/*
	 * APM "Task Priority": a fixed interrupt is delivered only if its
	 * priority class (vector bits 7:4) is above the processor priority.
	 */
	irq_count_install(TPR_VECTOR, true);
	xapic_write(APIC_TPR, 0xF0);
	sent = xapic_send_ipi(0, TPR_VECTOR | APIC_ICR_FIXED | APIC_ICR_ASSERT | APIC_ICR_SELF);
	held = irr_wait(TPR_VECTOR);
	irq_window(QUIET_MIN_TSC);
	held &= irq_count(TPR_VECTOR) == 0 && xapic_vector_set(APIC_IRR, TPR_VECTOR);
	tap_check(tap, sent && held, "TPR 0xF0: self-IPI 0x50 held in IRR, not delivered");
	/* Lowered with interrupts on: the APIC must re-evaluate at once. */
	sti();
	xapic_write(APIC_TPR, 0);
	irq_wait(TPR_VECTOR, 1, IRQ_WAIT_TSC);
	irq_window(QUIET_MIN_TSC);
	tap_check(tap, irq_count(TPR_VECTOR) == 1 && !xapic_vector_set(APIC_IRR, TPR_VECTOR),
		  "TPR 0: the held IPI is delivered exactly once (%u)", irq_count(TPR_VECTOR));
	irq_count_remove(TPR_VECTOR);
}

void guest_main(struct tap *tap)
{
	tap_plan(tap, NR_TESTS);
	irq_count_install(SPURIOUS_VECTOR, false);
	test_identity(tap);
	test_oneshot(tap);
	test_periodic(tap);
	test_divide(tap);
	test_self_ipi(tap);
	test_nmi(tap);
	test_tpr(tap);
	xapic_write(APIC_TIMER_INITIAL, 0);
	if (irq_count(SPURIOUS_VECTOR))
		kprintf("# %u spurious interrupts\n", irq_count(SPURIOUS_VECTOR));
}
