/*
 * Counting interrupts: a handler that only counts (and optionally EOIs the
 * xAPIC), and bounded waits for a count. A missed interrupt is a timeout the
 * test reports as `not ok`, never a hang.
 */
#ifndef TESTS_LIB_IRQ_H
#define TESTS_LIB_IRQ_H

#include <stdbool.h>
#include <stdint.h>

/* Generous for TCG: a host TSC tick rate of 1-5 GHz makes this 0.4-2 s. */
#define IRQ_WAIT_TSC 2000000000ull

/* Routes vector to the counting handler, count reset to 0; eoi: write APIC EOI after counting. */
void irq_count_install(unsigned int vector, bool eoi);
/* Restores the default (fixup or bail out) for vector. */
void irq_count_remove(unsigned int vector);
unsigned int irq_count(unsigned int vector);
void irq_count_reset(unsigned int vector);
/* TSC when vector was last counted. */
uint64_t irq_last_tsc(unsigned int vector);

/*
 * Enables interrupts until vector has been counted at least want times or
 * tsc ticks have passed, then disables them; returns whether the count came.
 */
bool irq_wait(unsigned int vector, unsigned int want, uint64_t tsc);
/* The same without touching RFLAGS.IF: for NMIs, or interrupts already enabled. */
bool irq_poll(unsigned int vector, unsigned int want, uint64_t tsc);
/* Enables interrupts for tsc ticks (to see what arrives), then disables them. */
void irq_window(uint64_t tsc);

#endif
