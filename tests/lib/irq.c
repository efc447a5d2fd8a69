#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "tests/lib/irq.h"
#include "tests/lib/xapic.h"

static volatile unsigned int counts[NR_VECTORS];
static volatile uint64_t last_tsc[NR_VECTORS];
static bool eoi_after[NR_VECTORS];

static void count_handler(struct exc_frame *f)
{
	counts[f->vector]++;
	last_tsc[f->vector] = rdtsc();
	if (eoi_after[f->vector])
		xapic_eoi();
}

void irq_count_install(unsigned int vector, bool eoi)
{
	if (vector >= NR_VECTORS)
		return;
	counts[vector] = 0;
	eoi_after[vector] = eoi;
	idt_set_handler(vector, count_handler);
}

void irq_count_remove(unsigned int vector)
{
	idt_set_handler(vector, 0);
}

unsigned int irq_count(unsigned int vector)
{
	return vector < NR_VECTORS ? counts[vector] : 0;
}

void irq_count_reset(unsigned int vector)
{
	if (vector < NR_VECTORS)
		counts[vector] = 0;
}

uint64_t irq_last_tsc(unsigned int vector)
{
	return vector < NR_VECTORS ? last_tsc[vector] : 0;
}

bool irq_poll(unsigned int vector, unsigned int want, uint64_t tsc)
{
	uint64_t start = rdtsc();

	while (irq_count(vector) < want && rdtsc() - start < tsc)
		asm volatile("pause");
	return irq_count(vector) >= want;
}

bool irq_wait(unsigned int vector, unsigned int want, uint64_t tsc)
{
	bool got;

	sti();
	got = irq_poll(vector, want, tsc);
	cli();
	return got;
}

void irq_window(uint64_t tsc)
{
	uint64_t start = rdtsc();

	sti();
	while (rdtsc() - start < tsc)
		asm volatile("pause");
	cli();
}
