/*
 * The physical local APIC, owned by L0. Its timer forces a #VMEXIT(INTR)
 * at the next moment L0 must look at a guest: a virtual timer expiring, or
 * the guest's budget running out.
 */
#ifndef DRIVERS_LAPIC_H
#define DRIVERS_LAPIC_H

#include <stdint.h>

#define LAPIC_TIMER_VECTOR	0x20
#define LAPIC_SPURIOUS_VECTOR	0xFF

/* Enables the xAPIC, masks LINT0/1, calibrates the timer against the TSC. */
void lapic_init(void);
/* One-shot timer interrupt after about tsc_delta TSC ticks (clamped to the counter). */
void lapic_timer_arm(uint64_t tsc_delta);
void lapic_timer_stop(void);
void lapic_eoi(void);

#endif
