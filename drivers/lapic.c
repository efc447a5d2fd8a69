/* xAPIC MMIO at its reset base, reached through the identity map. */
#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "drivers/lapic.h"
#include "kernel/console.h"
#include "kernel/time.h"

#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_MASK	 0x000FFFFFFFFFF000ull

#define LAPIC_TPR	0x080
#define LAPIC_EOI	0x0B0
#define LAPIC_SVR	0x0F0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_CCR 0x390
#define LAPIC_TIMER_DCR 0x3E0

#define SVR_ENABLE    (1u << 8)
#define LVT_MASKED    (1u << 16)
#define DCR_DIVIDE_16 0x3
#define CALIBRATE_MS  10

static volatile uint32_t *lapic;
static uint64_t lapic_khz;
/* The TSC deadline the one-shot timer is armed for; 0 once it fired or stopped. */
uint64_t lapic_armed_deadline;

static uint32_t lapic_read(uint32_t reg)
{
	return lapic[reg / 4];
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	lapic[reg / 4] = v;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

/* The tick only has to cause the #VMEXIT; by the time it lands here that happened. */
static void lapic_timer_irq(struct exc_frame *frame)
{
	(void)frame;
	lapic_armed_deadline = 0;
	lapic_eoi();
}

/* Spurious interrupts need no EOI (SDM 10.9). */
static void lapic_spurious_irq(struct exc_frame *frame)
{
	(void)frame;
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	uint64_t t0;

	wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
	lapic = (volatile uint32_t *)(base & APIC_BASE_MASK);
	idt_set_handler(LAPIC_TIMER_VECTOR, lapic_timer_irq);
	idt_set_handler(LAPIC_SPURIOUS_VECTOR, lapic_spurious_irq);
	lapic_write(LAPIC_SVR, SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
	lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
	lapic_write(LAPIC_TPR, 0);

	/* Count down from the top for CALIBRATE_MS of TSC time. */
	lapic_write(LAPIC_TIMER_DCR, DCR_DIVIDE_16);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LAPIC_TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_ICR, 0xFFFFFFFFu);
	t0 = rdtsc();
	while (rdtsc() - t0 < ms_to_tsc(CALIBRATE_MS))
		;
	lapic_khz = (0xFFFFFFFFu - lapic_read(LAPIC_TIMER_CCR)) / CALIBRATE_MS;
	lapic_write(LAPIC_TIMER_ICR, 0);
	if (!lapic_khz)
		lapic_khz = 1;
	kprintf("lapic: timer %lu kHz (divide 16), TSC %lu kHz\n", lapic_khz, tsc_khz());
}

void lapic_timer_arm_at(uint64_t deadline, uint64_t now)
{
	uint64_t tsc_delta = deadline > now ? deadline - now : 1;
	uint64_t count;

	/* Still armed for the same moment: the exit path stays short (bench). */
	if (deadline == lapic_armed_deadline)
		return;
	lapic_armed_deadline = deadline;

	/* Beyond a second the counter saturates anyway; keep the product small. */
	if (tsc_delta > ms_to_tsc(1000))
		tsc_delta = ms_to_tsc(1000);
	count = tsc_delta * lapic_khz / tsc_khz();

	if (count == 0)
		count = 1;
	if (count > 0xFFFFFFFFu)
		count = 0xFFFFFFFFu;
	lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_ICR, (uint32_t)count);
}

void lapic_timer_stop(void)
{
	lapic_armed_deadline = 0;
	lapic_write(LAPIC_TIMER_ICR, 0);
}
